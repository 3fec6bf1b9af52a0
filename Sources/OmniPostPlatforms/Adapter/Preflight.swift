import OmniPostCore

extension PlatformAdapter {
    /// Everything a post's metadata must meet on this platform, checked before any byte leaves: the
    /// privacy words, schedule window, option values and required options of its descriptor, the text rules it carries
    /// (its profile's), then the platform's own checks. Validation asks this; so may an adapter before it sends.
    package func preflight(_ m: PublishMetadata) -> OmniError? {
        if let facts = PlatformRegistry.descriptor(platform)?.facts {
            if let why = facts.privacyProblem(m.privacy, options: m.options) { return OmniError(.invalidValue, why) }
            if let why = facts.schedule?.problem(m.publishAt, displayName: facts.displayName) { return OmniError(.invalidValue, why) }
            for (key, value) in m.options.sorted(by: { $0.key < $1.key }) {
                if let why = facts.optionProblem(key, value) { return OmniError(.invalidValue, why) }
            }
            if let account = (self as? any SettingsBacked)?.settings.account {
                for key in facts.required where m.options[key] == nil && (try? account.text(key)) == nil {
                    return OmniError(.invalidValue, "no \(key) to post to: set `\(key):` under accounts: \(account.key), or `overrides: {\(platform): {\(key): …}}` in the sidecar")
                }
            }
        }
        let rules = m.textRules(platform: platform)
        if let p = rules.problem(title: m.title, description: m.description, tags: m.tags) { return OmniError(p.code, p.message) }
        return platformChecks(m)
    }

    /// Before a fresh upload: the text rules the delivery was validated with (its profile's, a pipeline's
    /// override included) hold at upload time too, so a rule changed since never lets a text through.
    func enforceCarriedText(_ job: UploadJob) throws {
        let m = job.metadata
        guard job.session == nil, let rules = m.text, let p = rules.problem(title: m.title, description: m.description, tags: m.tags) else { return }
        throw DeliveryError(.permanent, p.code, p.message)
    }
}

extension PublishMetadata {
    /// The text rules this post is held to: those it was validated with, else the bundled profile's.
    package func textRules(platform: String) -> TextRules { text ?? BundledText.rules(platform) }

    /// The caption the platform is sent, composed as the rules say (the bundled way when they have no caption).
    package func caption(platform: String) -> String {
        let compose = text?.caption?.compose ?? BundledText.rules(platform).caption?.compose ?? CaptionComposition()
        return compose.compose(title: title, description: description, tags: tags)
    }
}

/// The bundled profiles' text rules, read once: what metadata made without a profile (by hand, in tests,
/// or stored before deliveries carried their rules) is held to.
enum BundledText {
    static let catalog = try? ProfileCatalog.bundled()

    static func rules(_ platform: String) -> TextRules {
        let profile = PlatformRegistry.descriptor(platform)?.defaultProfile ?? platform
        return catalog?[profile]?.text ?? TextRules(profile: profile)
    }
}

import Foundation

/// The set of profiles: the bundled profiles.yaml, optionally overlaid by a pipeline's own file.
public struct ProfileCatalog: Sendable {
    public var profiles: [String: Profile]
    /// Quotas and rate limits per platform (`quotas:`), counted per account.
    public var quotas: [String: [QuotaRule]]

    public init(profiles: [String: Profile], quotas: [String: [QuotaRule]] = [:]) {
        self.profiles = profiles
        self.quotas = quotas
    }

    /// This catalog with another laid over it: profiles and platforms' quota lists replaced by name.
    public func overlaid(with other: ProfileCatalog) -> ProfileCatalog {
        ProfileCatalog(profiles: profiles.merging(other.profiles) { $1 }, quotas: quotas.merging(other.quotas) { $1 })
    }

    public subscript(name: String) -> Profile? { profiles[name] }

    /// The profiles shipped with OmniPost.
    public static func bundled() throws -> ProfileCatalog {
        guard let url = Bundle.module.url(forResource: "profiles", withExtension: "yaml") else {
            throw OmniError(.internalError, "profiles.yaml is missing from the OmniPost installation")
        }
        let text = try String(contentsOf: url, encoding: .utf8)
        return try parse(text: text, file: url.path)
    }

    public static func parse(text: String, file: String) throws -> ProfileCatalog {
        let doc = try YAMLDocument.parse(text, file: file, syntaxCode: .configSyntax, invalidCode: .configInvalid)
        let top = try doc.mapping(allowed: ["profiles", "quotas"])
        guard top["profiles"] != nil || top["quotas"] != nil else { throw doc.fail("expected `profiles:` or `quotas:`") }
        var out: [String: Profile] = [:]
        for (name, node) in try top["profiles"]?.mapping() ?? [:] {
            out[name] = try parseProfile(name: name, node)
        }
        var quotas: [String: [QuotaRule]] = [:]
        for (platform, node) in try top["quotas"]?.mapping() ?? [:] {
            let rules = try node.sequence().map(QuotaRule.parse)
            if let dup = Dictionary(grouping: rules, by: \.name).first(where: { $0.value.count > 1 }) {
                throw node.fail("quota '\(dup.key)' is listed twice for \(platform)")
            }
            quotas[platform] = rules
        }
        return ProfileCatalog(profiles: out, quotas: quotas)
    }

    static let profileKeys = [
        "platform", "containers", "video_codecs", "audio_codecs", "pixel_formats", "width", "height", "aspect",
        "fps", "duration_s", "max_bytes", "max_video_kbps", "audio", "moov_first", "render", "text",
    ]

    static func parseProfile(name: String, _ node: DocNode) throws -> Profile {
        let m = try node.mapping(allowed: profileKeys)
        func req(_ k: String) throws -> DocNode {
            guard let v = m[k] else { throw node.fail("profile '\(name)' needs `\(k)`") }
            return v
        }
        func range(_ k: String) throws -> Profile.Range {
            let n = try req(k)
            let items = try n.sequence()
            guard items.count == 2 else { throw n.fail("`\(k)` is [min, max]") }
            let r = Profile.Range(min: try items[0].double(), max: try items[1].double())
            if r.min > r.max { throw n.fail("`\(k)`: min is above max") }
            return r
        }
        let a = try req("audio").mapping(allowed: ["sample_rates", "max_channels", "required"])
        let r = try req("render").mapping(allowed: ["width", "height", "fps_max"])
        let t = try req("text").mapping(allowed: [
            "title_max", "title_forbidden", "description_max_bytes", "description_forbidden", "tags_total_max", "caption_max",
        ])
        return Profile(
            name: name,
            platform: try req("platform").string(),
            containers: try req("containers").stringList(),
            videoCodecs: try req("video_codecs").stringList(),
            audioCodecs: try req("audio_codecs").stringList(),
            pixelFormats: try req("pixel_formats").stringList(),
            width: try range("width"), height: try range("height"), aspect: try range("aspect"),
            fps: try range("fps"), durationS: try range("duration_s"),
            maxBytes: Int64(try req("max_bytes").double()),
            maxVideoKbps: try req("max_video_kbps").int(),
            audio: Profile.Audio(
                sampleRates: try a["sample_rates"]?.sequence().map { try $0.int() } ?? [],
                maxChannels: try a["max_channels"]?.int() ?? 2,
                required: try a["required"]?.bool() ?? false),
            moovFirst: try req("moov_first").bool(),
            render: Profile.Render(
                width: try r["width"]?.int() ?? 1920, height: try r["height"]?.int() ?? 1080,
                fpsMax: try r["fps_max"]?.double() ?? 60),
            text: Profile.Text(
                titleMax: try t["title_max"]?.int(), titleForbidden: try t["title_forbidden"]?.string(),
                descriptionMaxBytes: try t["description_max_bytes"]?.int(),
                descriptionForbidden: try t["description_forbidden"]?.string(),
                tagsTotalMax: try t["tags_total_max"]?.int(), captionMax: try t["caption_max"]?.int()))
    }
}

import Foundation

extension PipelineConfig {
    package static let topLevelKeys = [
        "version", "name", "root", "paths", "watch", "sidecar", "sandbox", "upload", "convert",
        "defaults", "targets", "accounts", "profiles", "schedule", "credentials", "quotas", "media_host", "http", "account_checks", "notify",
        "captions", "approval", "after_post",
        "ledger",
        "inbox",
        "host", "host_roles"
    ]

    /// Loads a pipeline file. Relative paths resolve against the file's own folder, so a pipeline
    /// can be run from anywhere.
    package static func load(path: String) throws -> PipelineConfig {
        let doc = try YAMLDocument.load(path: path, maxBytes: 1 << 20, syntaxCode: .configSyntax, invalidCode: .configInvalid)
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        return try parse(doc, baseDirectory: base, file: path)
    }

    /// Every problem of a pipeline file at once, for `omnipost check`: each section is read even when one
    /// before it is wrong (a section that fails keeps its defaults). Nil config when the file does not parse.
    package static func check(path: String) -> (config: PipelineConfig?, problems: ProblemList) {
        let problems = ProblemList()
        do {
            let doc = try YAMLDocument.load(path: path, maxBytes: 1 << 20, syntaxCode: .configSyntax, invalidCode: .configInvalid)
            let base = URL(fileURLWithPath: path).deletingLastPathComponent()
            return (try parse(doc.collecting(into: problems), baseDirectory: base, file: path), problems)
        } catch let e as OmniError {
            problems.add(e)
        } catch {
            problems.add(OmniError.wrap(error))
        }
        return (nil, problems)
    }

    package static func parse(text: String, file: String, baseDirectory: URL) throws -> PipelineConfig {
        let doc = try YAMLDocument.parse(text, file: file, syntaxCode: .configSyntax, invalidCode: .configInvalid)
        return try parse(doc, baseDirectory: baseDirectory, file: file)
    }

    /// The whole file, one section parser at a time (PipelineConfig+Sections.swift). Each section on its
    /// own: when collecting (`check`), a bad one keeps its defaults and the rest are read.
    static func parse(_ doc: DocNode, baseDirectory: URL, file: String) throws -> PipelineConfig {
        let top = try doc.mapping(allowed: topLevelKeys, what: "pipeline mapping")
        try doc.collect { if let v = top["version"], try v.int() != 1 { throw v.fail("only version 1 is understood") } }
        let name = try top["name"]?.string() ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        // Every place the file names a platform, for the registry to check where it stands.
        var mentions: [PlatformMention] = []
        let root = try top["root"].map { resolvePath(try $0.string(), against: baseDirectory) } ?? baseDirectory

        var paths = PipelinePaths(root: root)
        try doc.collect { if let v = top["paths"] { paths = try PipelinePaths.parse(v, root: root) } }
        var watch = WatchConfig()
        try doc.collect { if let v = top["watch"] { watch = try WatchConfig.parse(v) } }
        var sidecar = SidecarPolicy()
        try doc.collect { if let v = top["sidecar"] { sidecar = try SidecarPolicy.parse(v) } }
        var sandbox = SandboxMode.none
        try doc.collect { if let v = top["sandbox"] { sandbox = try v.oneOf(["embedded", "none"]) == "embedded" ? .embedded : .none } }
        var upload = UploadConfig()
        try doc.collect { if let v = top["upload"] { upload = try UploadConfig.parse(v, baseDirectory: baseDirectory, mentions: &mentions) } }
        var convert = ConvertConfig()
        try doc.collect { if let v = top["convert"] { convert = try ConvertConfig.parse(v) } }
        var defaults = ManifestDefaults()
        try doc.collect { defaults = try top["defaults"].map { try ManifestDefaults.parse($0) } ?? ManifestDefaults() }
        var overrides = ProfileCatalog(profiles: [:])
        try doc.collect { if let v = top["profiles"] { overrides = try ProfileCatalog.parseFile(named: v, baseDirectory: baseDirectory) } }

        guard let targetsNode = top["targets"] else {
            throw doc.fail("a pipeline needs `targets:` (a list of platform:account names)")
        }
        let targets = try TargetConfig.parseList(targetsNode, in: doc, mentions: &mentions)
        var accounts = try AccountConfig.parseAll(top["accounts"], in: doc, baseDirectory: baseDirectory, mentions: &mentions)
        // Every target needs an account; in sandbox mode one is made up for it.
        for t in targets where accounts[t.accountKey] == nil {
            try doc.collect {
                guard sandbox == .embedded else {
                    throw targetsNode.fail("target '\(t.name)' needs an entry under accounts: \(t.accountKey) (its credentials or settings)")
                }
                accounts[t.accountKey] = AccountConfig(
                    key: t.accountKey, platform: t.platform, clientID: "sandbox-client", clientSecret: "sandbox-secret",
                    refreshToken: "sandbox-refresh-\(t.platform)-\(t.account)", endpoint: "", tokenURL: "")
            }
        }

        var config = PipelineConfig(
            name: name, file: file, paths: paths, watch: watch, sidecar: sidecar, sandbox: sandbox,
            upload: upload, convert: convert, defaults: defaults, targets: targets, accounts: accounts)
        // Quotas written in the pipeline itself win over both the bundled and the profiles file's
        // (a YouTube project granted a larger quota, a stricter self-imposed limit).
        if let v = top["quotas"] {
            try doc.collect {
                for (platform, node) in try v.mapping() {
                    mentions.append(PlatformMention(platform: platform, location: node.location, what: "quotas"))
                    overrides.quotas[platform] = try node.sequence().map { try QuotaRule.parse($0) }
                }
            }
        }
        config.overrides = overrides
        config.platformMentions = mentions
        try doc.collect { if let v = top["schedule"] { config.schedule = try SlotSchedule.parse(v) } }
        try doc.collect { if let v = top["credentials"] { config.credentials = try CredentialsConfig.parse(v, baseDirectory: baseDirectory) } }
        try doc.collect { if let v = top["notify"] { config.notify = try NotifyConfig.parse(v, base: baseDirectory) } }
        try doc.collect { if let v = top["captions"] { config.captions = try CaptionsConfig.parse(v, sandbox: sandbox == .embedded) } }
        try doc.collect { if let v = top["approval"] { config.approval = try ApprovalConfig.parse(v, targets: config.targets.map(\.name)) } }
        try doc.collect { if let v = top["account_checks"] { config.accountChecks = try AccountCheckConfig.parse(v) } }
        try doc.collect { if let v = top["after_post"] { config.afterPost = try AfterPostConfig.parse(v) } }
        try doc.collect { if let v = top["ledger"] { config.sharedLedger = try PostgresLedgerConfig.parse(v, baseDirectory: baseDirectory) } }
        if let beat = config.sharedLedger?.heartbeat { config.host.heartbeat = beat }
        try doc.collect { if let v = top["inbox"] { config.s3Inbox = try S3InboxConfig.parse(v) } }
        try doc.collect { if let v = top["host"] { config.host.name = try HostConfig.parseName(v) } }
        try doc.collect {
            if let v = top["host_roles"] {
                config.host.roles = try HostConfig.parseRoles(v)
                config.host.rolesLocation = v.location
            }
        }
        // Hosts sharing a ledger share the inbox, archive and outbox, but each converts in a work/ of its
        // own: one host's cleanup of work/ never removes what another is converting.
        if config.sharedLedger != nil { config.paths.work = config.paths.work.appendingPathComponent(config.host.name, isDirectory: true) }
        try doc.collect { if let v = top["http"] { config.http = try HTTPConfig.parse(v, baseDirectory: baseDirectory) } }
        // After `http:`: serving media from this daemon needs its listener.
        try doc.collect { config.mediaHost = try MediaHostConfig.parse(top["media_host"], sandbox: sandbox, http: &config.http) }
        return config
    }
}

import Foundation

extension PipelineConfig {
    public static let topLevelKeys = [
        "version", "name", "root", "paths", "watch", "sidecar", "sandbox", "upload", "convert",
        "defaults", "targets", "accounts", "profiles", "schedule", "credentials", "quotas", "media_host", "http", "account_checks", "notify",
    ]

    /// Loads a pipeline file. Relative paths resolve against the file's own folder, so a pipeline
    /// can be run from anywhere.
    public static func load(path: String) throws -> PipelineConfig {
        let doc = try YAMLDocument.load(path: path, maxBytes: 1 << 20, syntaxCode: .configSyntax, invalidCode: .configInvalid)
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        return try parse(doc, baseDirectory: base, file: path)
    }

    /// Every problem of a pipeline file at once, for `omnipost check`: each section is read even when one
    /// before it is wrong (a section that fails keeps its defaults). Nil config when the file does not parse.
    public static func check(path: String) -> (config: PipelineConfig?, problems: ProblemList) {
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

    public static func parse(text: String, file: String, baseDirectory: URL) throws -> PipelineConfig {
        let doc = try YAMLDocument.parse(text, file: file, syntaxCode: .configSyntax, invalidCode: .configInvalid)
        return try parse(doc, baseDirectory: baseDirectory, file: file)
    }

    static func parse(_ doc: DocNode, baseDirectory: URL, file: String) throws -> PipelineConfig {
        let top = try doc.mapping(allowed: topLevelKeys, what: "pipeline mapping")
        try doc.collect { if let v = top["version"], try v.int() != 1 { throw v.fail("only version 1 is understood") } }
        let name = try top["name"]?.string() ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent

        func resolve(_ p: String, against: URL) -> URL { resolvePath(p, against: against) }
        // Every place the file names a platform, for the registry to check where it stands.
        var mentions: [PlatformMention] = []
        let root = try top["root"].map { resolve(try $0.string(), against: baseDirectory) } ?? baseDirectory
        var paths = PipelinePaths(root: root)
        // Each section on its own: when collecting (`check`), a bad one keeps its defaults and the rest are read.
        try doc.collect {
            if let p = try top["paths"]?.mapping(allowed: ["inbox", "outbox", "archive", "failed", "work", "ledger"]) {
                if let v = p["inbox"] { paths.inbox = resolve(try v.string(), against: root) }
                if let v = p["outbox"] { paths.outbox = resolve(try v.string(), against: root) }
                if let v = p["archive"] { paths.archive = resolve(try v.string(), against: root) }
                if let v = p["failed"] { paths.failed = resolve(try v.string(), against: root) }
                if let v = p["work"] { paths.work = resolve(try v.string(), against: root) }
                if let v = p["ledger"] { paths.ledger = resolve(try v.string(), against: root) }
            }
        }

        var watch = WatchConfig()
        try doc.collect {
            if let w = try top["watch"]?.mapping(allowed: ["mode", "settle", "poll_interval", "ignore", "ready_marker"]) {
                if let v = w["ready_marker"] { watch.readyMarker = try v.bool() }
                if let v = w["mode"] { watch.mode = WatchMode(rawValue: try v.oneOf(WatchMode.allCases.map(\.rawValue)))! }
                if let v = w["settle"] { watch.settle = try v.duration() }
                if let v = w["poll_interval"] { watch.pollInterval = try v.duration() }
                if let v = w["ignore"] { watch.ignore = try v.stringList() }
            }
        }

        var sidecar = SidecarPolicy()
        try doc.collect {
            if let s = try top["sidecar"]?.mapping(allowed: ["grace", "missing", "max_list_entries"]) {
                if let v = s["grace"] { sidecar.grace = try v.duration() }
                if let v = s["missing"] { sidecar.missing = MissingSidecarAction(rawValue: try v.oneOf(["fail", "defaults"]))! }
                if let v = s["max_list_entries"] {
                    sidecar.maxListEntries = try v.int()
                    guard sidecar.maxListEntries >= 1 else { throw v.fail("sidecar.max_list_entries must be at least 1") }
                }
            }
        }

        var sandbox = SandboxMode.none
        try doc.collect { if let v = top["sandbox"] { sandbox = try v.oneOf(["embedded", "none"]) == "embedded" ? .embedded : .none } }

        var upload = UploadConfig()
        try doc.collect {
            if let u = try top["upload"]?.mapping(allowed: ["chunk_size", "concurrency", "max_attempts", "max_age", "request_timeout", "per_platform", "per_account", "breaker", "ca_file"]) {
                if let v = u["chunk_size"] {
                    upload.chunkSize = try v.byteSize()
                    if upload.chunkSize <= 0 || upload.chunkSize % 262_144 != 0 {
                        throw v.fail("chunk_size must be a positive multiple of 256KiB (YouTube's resumable protocol requires it)")
                    }
                }
                if let v = u["concurrency"] {
                    upload.concurrency = try v.int()
                    if !(1...16).contains(upload.concurrency) { throw v.fail("concurrency must be between 1 and 16") }
                }
                if let v = u["max_attempts"] { upload.maxAttempts = max(1, try v.int()) }
                if let v = u["request_timeout"] { upload.requestTimeout = try v.duration() }
                if let v = u["max_age"] { upload.maxAge = try v.duration() }
                if let v = u["ca_file"] {
                    let f = resolve(try v.string(), against: baseDirectory)
                    guard let text = try? String(contentsOf: f, encoding: .utf8), text.contains("-----BEGIN CERTIFICATE-----") else {
                        throw v.fail("ca_file \(f.path) is not a readable PEM file of CA certificates")
                    }
                    upload.caFile = f
                }
                if let v = u["per_account"] {
                    upload.perAccount = try v.int()
                    if upload.perAccount < 1 { throw v.fail("per_account must be at least 1") }
                }
                if let v = u["per_platform"] {
                    for (platform, n) in try v.mapping() {
                        mentions.append(PlatformMention(platform: platform, location: n.location, what: "upload.per_platform"))
                        let cap = try n.int()
                        if cap < 1 { throw n.fail("a per-platform cap must be at least 1") }
                        upload.perPlatform[platform] = cap
                    }
                }
                if let v = u["breaker"] {
                    let b = try v.mapping(allowed: ["failures", "cooldown"])
                    if let f = b["failures"] {
                        upload.breaker.failures = try f.int()
                        if upload.breaker.failures < 1 { throw f.fail("breaker failures must be at least 1") }
                    }
                    if let c = b["cooldown"] { upload.breaker.cooldown = try c.duration().seconds }
                }
            }
        }

        var convert = ConvertConfig()
        try doc.collect {
            if let c = try top["convert"]?.mapping(allowed: ["aspect", "crf", "preset", "loudnorm"]) {
                if let v = c["loudnorm"] { convert.loudnorm = try v.bool() }
                if let v = c["aspect"] { convert.aspect = AspectPolicy(rawValue: try v.oneOf(["fit", "fill", "reject"]))! }
                if let v = c["crf"] {
                    let crf = try v.int()
                    if !(0...51).contains(crf) { throw v.fail("crf must be between 0 and 51") }
                    convert.crf = crf
                }
                if let v = c["preset"] { convert.preset = try v.oneOf(ProfileCatalog.encoderPresets) }
            }
        }

        var defaults = ManifestDefaults()
        try doc.collect { defaults = try top["defaults"].map { try ManifestDefaults.parse($0) } ?? ManifestDefaults() }

        var overrides = ProfileCatalog(profiles: [:])
        try doc.collect {
            if let v = top["profiles"] {
                let path = resolve(try v.string(), against: baseDirectory).path
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw v.fail("cannot read the profiles file \(path)")
                }
                overrides = try ProfileCatalog.parse(text: text, file: path)
            }
        }

        guard let targetsNode = top["targets"] else {
            throw doc.fail("a pipeline needs `targets:` (a list of platform:account names)")
        }
        var targets: [TargetConfig] = []
        for t in try targetsNode.sequence() { try doc.collect {
            let target: TargetConfig
            if case .scalar = t.node {
                let n = try t.string()
                let parts = n.split(separator: ":", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw t.fail("a target is written platform:account, e.g. youtube:main") }
                target = TargetConfig(name: n, platform: parts[0], profile: parts[0], account: parts[1])
            } else {
                let m = try t.mapping(allowed: ["name", "platform", "profile", "account"])
                guard let n = try m["name"]?.string() else { throw t.fail("a target needs a `name`") }
                let parts = n.split(separator: ":", maxSplits: 1).map(String.init)
                let platform = try m["platform"]?.string() ?? parts[0]
                let account = try m["account"]?.string() ?? (parts.count == 2 ? parts[1] : "default")
                let profile = try m["profile"]?.string() ?? platform
                target = TargetConfig(name: n, platform: platform, profile: profile, account: account)
            }
            // Whether the platform exists is the platform registry's to say (`PlatformRegistry.resolve`), at this line.
            mentions.append(PlatformMention(platform: target.platform, location: t.location, what: "target"))
            if targets.contains(where: { $0.name == target.name }) { throw t.fail("target '\(target.name)' is listed twice") }
            targets.append(target)
        } }
        if targets.isEmpty, doc.problems?.all.isEmpty ?? true { throw targetsNode.fail("`targets:` is empty") }

        var accounts: [String: AccountConfig] = [:]
        var accountNodes: [String: DocNode] = [:]
        try doc.collect { accountNodes = try top["accounts"]?.mapping() ?? [:] }
        for (key, node) in accountNodes { try doc.collect {
            // Keys beyond the common ones are the platform's own settings, checked by its module at resolve.
            let m = try node.mapping()
            let platform = String(key.split(separator: ":").first ?? "")
            mentions.append(PlatformMention(platform: platform, location: node.location, what: "accounts"))
            // Endpoints left out are the platform's own, filled in by the platform registry.
            var account = AccountConfig(
                key: key, platform: platform,
                clientID: try m["client_id"]?.string() ?? "",
                clientSecret: try m["client_secret"]?.string() ?? "",
                refreshToken: try m["refresh_token"]?.string() ?? "",
                endpoint: try m["endpoint"]?.string() ?? "",
                tokenURL: try m["token_url"]?.string() ?? "",
                accountID: try m["id"]?.string() ?? "")
            account.location = node.location
            account.authorizeURL = try m["authorize_url"]?.string() ?? ""
            account.deviceURL = try m["device_url"]?.string() ?? ""
            // The client as the provider's console downloads it (Google's client_secret.json: "installed" or "web").
            if let f = m["client_secrets_file"] {
                let path = resolve(try f.string(), against: baseDirectory)
                guard let data = try? Data(contentsOf: path), let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                      let client = (json["installed"] ?? json["web"]) as? [String: Any], let id = client["client_id"] as? String else {
                    throw f.fail("client_secrets_file \(path.path) is not a client file as the provider's console downloads it ({\"installed\": {\"client_id\", \"client_secret\", …}})")
                }
                if account.clientID.isEmpty { account.clientID = id }
                if account.clientSecret.isEmpty { account.clientSecret = client["client_secret"] as? String ?? "" }
                if account.authorizeURL.isEmpty, let a = client["auth_uri"] as? String { account.authorizeURL = a }
                if account.tokenURL.isEmpty, let t = client["token_uri"] as? String { account.tokenURL = t }
            }
            // Or from the environment, which keeps a secret out of the file.
            let env = ProcessInfo.processInfo.environment
            if account.clientID.isEmpty { account.clientID = env[AccountConfig.environmentName(key, "CLIENT_ID")] ?? "" }
            if account.clientSecret.isEmpty { account.clientSecret = env[AccountConfig.environmentName(key, "CLIENT_SECRET")] ?? "" }
            for (k, v) in m where !AccountConfig.commonKeys.contains(k) { account.settings[k] = AccountSetting(v) }
            accounts[key] = account
        } }
        // Every target needs an account; in sandbox mode one is made up for it.
        for t in targets where accounts[t.accountKey] == nil { try doc.collect {
            if sandbox == .embedded {
                accounts[t.accountKey] = AccountConfig(
                    key: t.accountKey, platform: t.platform, clientID: "sandbox-client", clientSecret: "sandbox-secret",
                    refreshToken: "sandbox-refresh-\(t.platform)-\(t.account)", endpoint: "", tokenURL: "")
            } else {
                throw targetsNode.fail("target '\(t.name)' needs an entry under accounts: \(t.accountKey) (its credentials or settings)")
            }
        } }

        var config = PipelineConfig(
            name: name, file: file, paths: paths, watch: watch, sidecar: sidecar, sandbox: sandbox,
            upload: upload, convert: convert, defaults: defaults, targets: targets, accounts: accounts)
        // Quotas written in the pipeline itself win over both the bundled and the profiles file's
        // (a YouTube project granted a larger quota, a stricter self-imposed limit).
        if let v = top["quotas"] { try doc.collect {
            for (platform, node) in try v.mapping() {
                mentions.append(PlatformMention(platform: platform, location: node.location, what: "quotas"))
                overrides.quotas[platform] = try node.sequence().map(QuotaRule.parse)
            }
        } }
        config.overrides = overrides
        config.platformMentions = mentions
        try doc.collect { if let v = top["schedule"] { config.schedule = try SlotSchedule.parse(v) } }
        try doc.collect {
            if let v = top["credentials"] {
                let c = try v.mapping(allowed: ["key_file", "key_env"])
                if let f = c["key_file"] { config.credentials.keyFile = resolve(try f.string(), against: baseDirectory) }
                if let e = c["key_env"] { config.credentials.keyEnv = try e.string() }
            }
        }
        try doc.collect { if let v = top["notify"] { config.notify = try NotifyConfig.parse(v, base: baseDirectory) } }
        try doc.collect {
            if let v = top["account_checks"] {
                let a = try v.mapping(allowed: ["at_start", "lead", "warn_days"])
                if let n = a["at_start"] { config.accountChecks.atStart = try n.bool() }
                if let n = a["lead"] { config.accountChecks.lead = try n.duration() }
                if let n = a["warn_days"] {
                    config.accountChecks.warnDays = try n.int()
                    if config.accountChecks.warnDays < 0 { throw n.fail("warn_days cannot be negative") }
                }
            }
        }
        try doc.collect {
            if let v = top["http"] {
                let h = try v.mapping(allowed: ["listen", "public_url", "token_file", "loopback_reads"])
                var http = HTTPConfig()
                if let l = h["listen"] {
                    guard let (host, port) = HTTPConfig.parseListen(try l.string()) else { throw l.fail("listen is host:port, like 127.0.0.1:8700 or [::1]:8700") }
                    (http.host, http.port) = (host, port)
                }
                if let u = h["public_url"] {
                    let url = try u.string()
                    guard let c = URLComponents(string: url), ["http", "https"].contains(c.scheme ?? ""), c.host?.isEmpty == false, c.query == nil else {
                        throw u.fail("public_url is how others reach this listener, like https://nas.example.com:8700")
                    }
                    http.publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
                }
                if let t = h["token_file"] {
                    let f = resolve(try t.string(), against: baseDirectory)
                    guard let text = try? String(contentsOf: f, encoding: .utf8), text.trimmingCharacters(in: .whitespacesAndNewlines).count >= 16 else {
                        throw t.fail("token_file \(f.path) must be a readable file holding a token of at least 16 characters")
                    }
                    // Whoever can read the token can retry, cancel and read everything: it is the owner's alone.
                    var st = stat()
                    if stat(f.path, &st) == 0, st.st_mode & 0o077 != 0 {
                        throw t.fail("token_file \(f.path) can be read by others (mode \(String(st.st_mode & 0o777, radix: 8))); anyone on this machine could act with it: chmod 600 \(f.path)")
                    }
                    http.tokenFile = f
                }
                if let r = h["loopback_reads"] {
                    switch try r.string() {
                    case "open": http.loopbackReadsOpen = true
                    case "token": http.loopbackReadsOpen = false
                    default: throw r.fail("loopback_reads is `token` (reads from this machine need the token too, the default) or `open`")
                    }
                }
                if !http.isLoopback && http.tokenFile == nil {
                    throw (h["listen"] ?? v).fail("listening on \(http.host) (beyond this machine) needs `token_file:`: what the listener serves is not for everyone on the network; or listen on 127.0.0.1")
                }
                config.http = http
            }
        }
        try doc.collect {
            if let v = top["media_host"] {
                let m = try v.mapping(allowed: ["s3", "serve", "link_ttl"])
                if let serve = m["serve"], try serve.bool() {
                    if m["s3"] != nil { throw serve.fail("media_host takes either `s3:` or `serve: true`, not both") }
                    let ttl = try m["link_ttl"]?.duration() ?? .seconds(3600)
                    if ttl < .seconds(60) || ttl > .seconds(7 * 86400) { throw m["link_ttl"]!.fail("link_ttl must be 1m–7d") }
                    if sandbox == .embedded {
                        // Sandbox mode: a loopback listener of its own (the sandbox fetches from this machine).
                        if config.http == nil { var h = HTTPConfig(); h.port = 0; config.http = h }
                    } else if config.http?.publicURL == nil {
                        throw serve.fail("media_host: {serve: true} hands platforms links on this daemon: it needs `http: {listen: …, public_url: …}` saying how they reach it")
                    }
                    config.mediaHost = MediaHostConfig(s3: nil, linkTTL: ttl)
                    return
                }
                guard let s3node = m["s3"] else { throw v.fail("media_host needs `s3:` (an S3-compatible bucket) or `serve: true` (links on this daemon's `http:` listener)") }
                let s = try s3node.mapping(allowed: ["endpoint", "bucket", "region", "access_key_id", "secret_access_key", "prefix"])
                func need(_ k: String) throws -> String {
                    guard let n = s[k] else { throw s3node.fail("media_host.s3 needs `\(k)`") }
                    return try n.string()
                }
                let ttl = try m["link_ttl"]?.duration() ?? .seconds(3600)
                if ttl < .seconds(60) || ttl > .seconds(7 * 86400) { throw m["link_ttl"]!.fail("link_ttl must be 1m–7d (SigV4 links last at most 7 days)") }
                config.mediaHost = MediaHostConfig(
                    s3: .init(endpoint: sandbox == .embedded ? (try s["endpoint"]?.string() ?? "") : try need("endpoint"), bucket: try need("bucket"),
                              region: try s["region"]?.string() ?? "us-east-1",
                              accessKeyID: sandbox == .embedded ? (try s["access_key_id"]?.string() ?? "sandbox-key") : try need("access_key_id"),
                              secretAccessKey: sandbox == .embedded ? (try s["secret_access_key"]?.string() ?? "sandbox-secret") : try need("secret_access_key"),
                              prefix: try s["prefix"]?.string() ?? "omnipost/"),
                    linkTTL: ttl)
            } else if sandbox == .embedded {
                // The sandbox serves an S3 of its own: platforms that fetch from a URL work offline too.
                config.mediaHost = MediaHostConfig(s3: .init(endpoint: "", bucket: "omnipost-media", region: "us-east-1", accessKeyID: "sandbox-key",
                                                             secretAccessKey: "sandbox-secret", prefix: "omnipost/"), linkTTL: .seconds(3600))
            }
        }
        return config
    }
}

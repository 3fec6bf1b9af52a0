import Foundation

// One parser per section of a pipeline file, called by `PipelineConfig.parse`. Each reads only its own
// node, so a section's rules (and its errors, at the key's line) stand in one place.

extension PipelinePaths {
    /// `paths:` — each folder relative to `root`.
    static func parse(_ node: DocNode, root: URL) throws -> PipelinePaths {
        var paths = PipelinePaths(root: root)
        let p = try node.mapping(allowed: ["inbox", "outbox", "archive", "failed", "work", "ledger"])
        if let v = p["inbox"] { paths.inbox = resolvePath(try v.string(), against: root) }
        if let v = p["outbox"] { paths.outbox = resolvePath(try v.string(), against: root) }
        if let v = p["archive"] { paths.archive = resolvePath(try v.string(), against: root) }
        if let v = p["failed"] { paths.failed = resolvePath(try v.string(), against: root) }
        if let v = p["work"] { paths.work = resolvePath(try v.string(), against: root) }
        if let v = p["ledger"] { paths.ledger = resolvePath(try v.string(), against: root) }
        return paths
    }
}

extension WatchConfig {
    static func parse(_ node: DocNode) throws -> WatchConfig {
        var watch = WatchConfig()
        let w = try node.mapping(allowed: ["mode", "settle", "poll_interval", "ignore", "ready_marker"])
        if let v = w["ready_marker"] { watch.readyMarker = try v.bool() }
        if let v = w["mode"] { watch.mode = WatchMode(rawValue: try v.oneOf(WatchMode.allCases.map(\.rawValue)))! }
        if let v = w["settle"] { watch.settle = try v.duration() }
        if let v = w["poll_interval"] { watch.pollInterval = try v.duration() }
        if let v = w["ignore"] { watch.ignore = try v.stringList() }
        return watch
    }
}

extension SidecarPolicy {
    static func parse(_ node: DocNode) throws -> SidecarPolicy {
        var sidecar = SidecarPolicy()
        let s = try node.mapping(allowed: ["grace", "missing", "max_list_entries"])
        if let v = s["grace"] { sidecar.grace = try v.duration() }
        if let v = s["missing"] { sidecar.missing = MissingSidecarAction(rawValue: try v.oneOf(["fail", "defaults"]))! }
        if let v = s["max_list_entries"] {
            sidecar.maxListEntries = try v.int()
            guard sidecar.maxListEntries >= 1 else { throw v.fail("sidecar.max_list_entries must be at least 1") }
        }
        return sidecar
    }
}

extension UploadConfig {
    /// `upload:` — `per_platform:` names platforms, recorded in `mentions` for the registry to check.
    static func parse(_ node: DocNode, baseDirectory: URL, mentions: inout [PlatformMention]) throws -> UploadConfig {
        var upload = UploadConfig()
        let u = try node.mapping(allowed: ["chunk_size", "concurrency", "max_attempts", "max_age", "request_timeout", "per_platform", "per_account", "breaker", "ca_file"])
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
            let f = resolvePath(try v.string(), against: baseDirectory)
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
        return upload
    }
}

extension ConvertConfig {
    static func parse(_ node: DocNode) throws -> ConvertConfig {
        var convert = ConvertConfig()
        let c = try node.mapping(allowed: ["aspect", "crf", "preset", "loudnorm"])
        if let v = c["loudnorm"] { convert.loudnorm = try v.bool() }
        if let v = c["aspect"] { convert.aspect = AspectPolicy(rawValue: try v.oneOf(["fit", "fill", "reject"]))! }
        if let v = c["crf"] {
            let crf = try v.int()
            if !(0...51).contains(crf) { throw v.fail("crf must be between 0 and 51") }
            convert.crf = crf
        }
        if let v = c["preset"] { convert.preset = try v.oneOf(ProfileCatalog.encoderPresets) }
        return convert
    }
}

extension ProfileCatalog {
    /// `profiles:` — the path of a profiles file whose profiles replace the bundled ones by name.
    static func parseFile(named node: DocNode, baseDirectory: URL) throws -> ProfileCatalog {
        let path = resolvePath(try node.string(), against: baseDirectory).path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw node.fail("cannot read the profiles file \(path)")
        }
        return try ProfileCatalog.parse(text: text, file: path)
    }
}

extension TargetConfig {
    /// `targets:` — `platform:account`, or a mapping naming its profile. Whether the platform exists is
    /// the platform registry's to say (`PlatformRegistry.resolve`), at the line recorded in `mentions`.
    static func parseList(_ node: DocNode, in doc: DocNode, mentions: inout [PlatformMention]) throws -> [TargetConfig] {
        var targets: [TargetConfig] = []
        for t in try node.sequence() {
            try doc.collect {
                let target = try parseOne(t)
                mentions.append(PlatformMention(platform: target.platform, location: t.location, what: "target"))
                if targets.contains(where: { $0.name == target.name }) { throw t.fail("target '\(target.name)' is listed twice") }
                targets.append(target)
            }
        }
        if targets.isEmpty, doc.problems?.all.isEmpty ?? true { throw node.fail("`targets:` is empty") }
        return targets
    }

    static func parseOne(_ t: DocNode) throws -> TargetConfig {
        if case .scalar = t.node {
            let n = try t.string()
            let parts = n.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw t.fail("a target is written platform:account, e.g. youtube:main") }
            return TargetConfig(name: n, platform: parts[0], profile: parts[0], account: parts[1])
        }
        let m = try t.mapping(allowed: ["name", "platform", "profile", "account"])
        guard let n = try m["name"]?.string() else { throw t.fail("a target needs a `name`") }
        let parts = n.split(separator: ":", maxSplits: 1).map(String.init)
        let platform = try m["platform"]?.string() ?? parts[0]
        let account = try m["account"]?.string() ?? (parts.count == 2 ? parts[1] : "default")
        let profile = try m["profile"]?.string() ?? platform
        return TargetConfig(name: n, platform: platform, profile: profile, account: account)
    }
}

extension AccountConfig {
    /// `accounts:` — keyed `platform:name`. Keys beyond the common ones are the platform's own settings,
    /// checked by its module at resolve; endpoints left out are the platform's own, filled in there too.
    static func parseAll(_ node: DocNode?, in doc: DocNode, baseDirectory: URL, mentions: inout [PlatformMention]) throws -> [String: AccountConfig] {
        var accounts: [String: AccountConfig] = [:]
        var nodes: [String: DocNode] = [:]
        try doc.collect { nodes = try node?.mapping() ?? [:] }
        for (key, node) in nodes {
            try doc.collect {
                let platform = String(key.split(separator: ":").first ?? "")
                mentions.append(PlatformMention(platform: platform, location: node.location, what: "accounts"))
                accounts[key] = try parseOne(key: key, platform: platform, node, baseDirectory: baseDirectory)
            }
        }
        return accounts
    }

    static func parseOne(key: String, platform: String, _ node: DocNode, baseDirectory: URL) throws -> AccountConfig {
        let m = try node.mapping()
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
        if let f = m["client_secrets_file"] { try account.readClientSecretsFile(f, baseDirectory: baseDirectory) }
        // Or from the environment, which keeps a secret out of the file.
        let env = ProcessInfo.processInfo.environment
        if account.clientID.isEmpty { account.clientID = env[AccountConfig.environmentName(key, "CLIENT_ID")] ?? "" }
        if account.clientSecret.isEmpty { account.clientSecret = env[AccountConfig.environmentName(key, "CLIENT_SECRET")] ?? "" }
        for (k, v) in m where !AccountConfig.commonKeys.contains(k) { account.settings[k] = AccountSetting(v) }
        return account
    }

    /// The client as the provider's console downloads it (Google's client_secret.json: "installed" or
    /// "web"); what the account's own keys set wins.
    mutating func readClientSecretsFile(_ f: DocNode, baseDirectory: URL) throws {
        let path = resolvePath(try f.string(), against: baseDirectory)
        guard let data = try? Data(contentsOf: path), let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
            let client = (json["installed"] ?? json["web"]) as? [String: Any], let id = client["client_id"] as? String
        else {
            throw f.fail("client_secrets_file \(path.path) is not a client file as the provider's console downloads it ({\"installed\": {\"client_id\", \"client_secret\", …}})")
        }
        if clientID.isEmpty { clientID = id }
        if clientSecret.isEmpty { clientSecret = client["client_secret"] as? String ?? "" }
        if authorizeURL.isEmpty, let a = client["auth_uri"] as? String { authorizeURL = a }
        if tokenURL.isEmpty, let t = client["token_uri"] as? String { tokenURL = t }
    }
}

extension CredentialsConfig {
    static func parse(_ node: DocNode, baseDirectory: URL) throws -> CredentialsConfig {
        var credentials = CredentialsConfig()
        let c = try node.mapping(allowed: ["key_file", "key_env"])
        if let f = c["key_file"] { credentials.keyFile = resolvePath(try f.string(), against: baseDirectory) }
        if let e = c["key_env"] { credentials.keyEnv = try e.string() }
        return credentials
    }
}

extension AccountCheckConfig {
    static func parse(_ node: DocNode) throws -> AccountCheckConfig {
        var checks = AccountCheckConfig()
        let a = try node.mapping(allowed: ["at_start", "lead", "warn_days"])
        if let n = a["at_start"] { checks.atStart = try n.bool() }
        if let n = a["lead"] { checks.lead = try n.duration() }
        if let n = a["warn_days"] {
            checks.warnDays = try n.int()
            if checks.warnDays < 0 { throw n.fail("warn_days cannot be negative") }
        }
        return checks
    }
}

extension HTTPConfig {
    /// `http:` — the listener. Beyond loopback it needs a token, and the token file is the owner's alone.
    static func parse(_ v: DocNode, baseDirectory: URL) throws -> HTTPConfig {
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
        if let t = h["token_file"] { http.tokenFile = try readTokenFile(t, baseDirectory: baseDirectory) }
        if let r = h["loopback_reads"] {
            switch try r.string() {
            case "open": http.loopbackReadsOpen = true
            case "token": http.loopbackReadsOpen = false
            default: throw r.fail("loopback_reads is `token` (reads from this machine need the token too, the default) or `open`")
            }
        }
        if !http.isLoopback && http.tokenFile == nil {
            throw (h["listen"] ?? v).fail(
                "listening on \(http.host) (beyond this machine) needs `token_file:`: what the listener serves is not for everyone on the network; or listen on 127.0.0.1")
        }
        return http
    }

    static func readTokenFile(_ t: DocNode, baseDirectory: URL) throws -> URL {
        let f = resolvePath(try t.string(), against: baseDirectory)
        guard let text = try? String(contentsOf: f, encoding: .utf8), text.trimmingCharacters(in: .whitespacesAndNewlines).count >= 16 else {
            throw t.fail("token_file \(f.path) must be a readable file holding a token of at least 16 characters")
        }
        // Whoever can read the token can retry, cancel and read everything: it is the owner's alone.
        var st = stat()
        if stat(f.path, &st) == 0, st.st_mode & 0o077 != 0 {
            throw t.fail("token_file \(f.path) can be read by others (mode \(String(st.st_mode & 0o777, radix: 8))); anyone on this machine could act with it: chmod 600 \(f.path)")
        }
        return f
    }
}

extension MediaHostConfig {
    /// `media_host:` — where platforms that fetch a URL fetch from: an S3-compatible bucket, or this
    /// daemon's own listener (`serve: true`, which may add a loopback `http` in sandbox mode). In sandbox
    /// mode, without the section, the sandbox's own S3.
    static func parse(_ node: DocNode?, sandbox: SandboxMode, http: inout HTTPConfig?) throws -> MediaHostConfig? {
        guard let v = node else {
            guard sandbox == .embedded else { return nil }
            return MediaHostConfig(
                s3: .init(
                    endpoint: "", bucket: "omnipost-media", region: "us-east-1", accessKeyID: "sandbox-key",
                    secretAccessKey: "sandbox-secret", prefix: "omnipost/"), linkTTL: .seconds(3600))
        }
        let m = try v.mapping(allowed: ["s3", "serve", "link_ttl"])
        if let serve = m["serve"], try serve.bool() {
            if m["s3"] != nil { throw serve.fail("media_host takes either `s3:` or `serve: true`, not both") }
            let ttl = try m["link_ttl"]?.duration() ?? .seconds(3600)
            if ttl < .seconds(60) || ttl > .seconds(7 * 86400) { throw m["link_ttl"]!.fail("link_ttl must be 1m–7d") }
            if sandbox == .embedded {
                // Sandbox mode: a loopback listener of its own (the sandbox fetches from this machine).
                if http == nil { var h = HTTPConfig(); h.port = 0; http = h }
            } else if http?.publicURL == nil {
                throw serve.fail("media_host: {serve: true} hands platforms links on this daemon: it needs `http: {listen: …, public_url: …}` saying how they reach it")
            }
            return MediaHostConfig(s3: nil, linkTTL: ttl)
        }
        guard let s3node = m["s3"] else { throw v.fail("media_host needs `s3:` (an S3-compatible bucket) or `serve: true` (links on this daemon's `http:` listener)") }
        let s = try s3node.mapping(allowed: ["endpoint", "bucket", "region", "access_key_id", "secret_access_key", "prefix"])
        func need(_ k: String) throws -> String {
            guard let n = s[k] else { throw s3node.fail("media_host.s3 needs `\(k)`") }
            return try n.string()
        }
        let ttl = try m["link_ttl"]?.duration() ?? .seconds(3600)
        if ttl < .seconds(60) || ttl > .seconds(7 * 86400) { throw m["link_ttl"]!.fail("link_ttl must be 1m–7d (SigV4 links last at most 7 days)") }
        let sandboxed = sandbox == .embedded
        return MediaHostConfig(
            s3: .init(
                endpoint: sandboxed ? (try s["endpoint"]?.string() ?? "") : try need("endpoint"), bucket: try need("bucket"),
                region: try s["region"]?.string() ?? "us-east-1",
                accessKeyID: sandboxed ? (try s["access_key_id"]?.string() ?? "sandbox-key") : try need("access_key_id"),
                secretAccessKey: sandboxed ? (try s["secret_access_key"]?.string() ?? "sandbox-secret") : try need("secret_access_key"),
                prefix: try s["prefix"]?.string() ?? "omnipost/"),
            linkTTL: ttl)
    }
}

import Foundation

/// `inbox: {s3: {…}}` — the inbox as an S3 bucket's prefix, polled with ListObjectsV2 (issue 27's S3
/// inbox), beside the folder inbox: a clip and its sidecar pair by name as in a folder; a pair is
/// downloaded into work/ and handed to the folder inbox, and once its drop is filed the originals are
/// copied to `archive_prefix` (or `failed_prefix`, with the failure report) and deleted there only after
/// the copy is verified.
package struct S3InboxConfig: Sendable {
    package var endpoint: String
    package var bucket: String
    /// Keys under it are the inbox (`incoming/`); empty: the whole bucket but the two below.
    package var prefix: String
    package var region: String
    /// The environment variables holding the keys (never the keys themselves in the file).
    package var accessKeyEnv: String
    package var secretKeyEnv: String
    /// Where originals go once their drop is filed: published (`archive/`) or failed (`failed/`).
    package var archivePrefix: String
    package var failedPrefix: String
    /// How often the prefix is listed.
    package var poll: Duration
    /// Path-style addressing (`endpoint/bucket/key`), what every S3-compatible server speaks.
    package var pathStyle: Bool

    /// The keys, read from the environment when the inbox starts.
    package func keys() throws -> (id: String, secret: String) {
        let env = ProcessInfo.processInfo.environment
        guard let id = env[accessKeyEnv], !id.isEmpty else {
            throw OmniError(.configInvalid, "inbox.s3.access_key_env names \(accessKeyEnv), which is not set in this process's environment")
        }
        guard let secret = env[secretKeyEnv], !secret.isEmpty else {
            throw OmniError(.configInvalid, "inbox.s3.secret_key_env names \(secretKeyEnv), which is not set in this process's environment")
        }
        return (id, secret)
    }
}

extension S3InboxConfig {
    package static let keys = [
        "endpoint", "bucket", "prefix", "region", "access_key_env", "secret_key_env", "archive_prefix", "failed_prefix", "poll_seconds", "path_style"
    ]

    /// `inbox:` — `{s3: {…}}`; each problem at its key's line.
    static func parse(_ node: DocNode) throws -> S3InboxConfig {
        let top = try node.mapping(allowed: ["s3"])
        guard let s3 = top["s3"] else { throw node.fail("inbox takes `s3:` (a bucket polled as the inbox); the folder inbox is `paths: {inbox: …}`") }
        let m = try s3.mapping(allowed: keys)
        func need(_ k: String) throws -> String {
            guard let n = m[k] else { throw s3.fail("inbox.s3 needs `\(k)`") }
            let v = try n.string()
            if v.isEmpty { throw n.fail("inbox.s3.\(k) is empty") }
            return v
        }
        func folder(_ k: String, _ fallback: String) throws -> String {
            guard let n = m[k] else { return fallback }
            let v = try n.string()
            if v.isEmpty || v.hasPrefix("/") { throw n.fail("inbox.s3.\(k) must be a key prefix such as `\(fallback)`") }
            return v.hasSuffix("/") ? v : v + "/"
        }
        let endpoint = try need("endpoint")
        guard let u = URL(string: endpoint), ["http", "https"].contains(u.scheme ?? ""), u.host != nil else {
            throw m["endpoint"]!.fail("inbox.s3.endpoint must be an http(s) URL such as https://s3.eu-central-1.amazonaws.com")
        }
        let prefix =
            try m["prefix"].map { n -> String in
                let v = try n.string()
                if v.hasPrefix("/") { throw n.fail("inbox.s3.prefix is a key prefix (`incoming/`), not a path") }
                return v.isEmpty || v.hasSuffix("/") ? v : v + "/"
            } ?? ""
        let archive = try folder("archive_prefix", "archive/"), failed = try folder("failed_prefix", "failed/")
        for (k, v) in [("archive_prefix", archive), ("failed_prefix", failed)] where !prefix.isEmpty && v.hasPrefix(prefix) {
            throw m[k]!.fail("inbox.s3.\(k) \(v) lies inside the inbox prefix \(prefix): filed originals would be listed again")
        }
        if archive == failed { throw (m["failed_prefix"] ?? s3).fail("inbox.s3's archive_prefix and failed_prefix must differ") }
        let seconds = try m["poll_seconds"]?.int() ?? 30
        if seconds < 1 || seconds > 3600 { throw m["poll_seconds"]!.fail("inbox.s3.poll_seconds must be 1–3600") }
        return S3InboxConfig(
            endpoint: endpoint, bucket: try need("bucket"), prefix: prefix, region: try m["region"]?.string() ?? "us-east-1",
            accessKeyEnv: try need("access_key_env"), secretKeyEnv: try need("secret_key_env"), archivePrefix: archive, failedPrefix: failed,
            poll: .seconds(seconds), pathStyle: try m["path_style"]?.bool() ?? true)
    }
}

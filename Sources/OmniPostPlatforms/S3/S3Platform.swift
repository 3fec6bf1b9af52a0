import Foundation
import OmniPostCore
import OmniPostWire

/// An S3-compatible bucket as a target (AWS, R2, Backblaze B2, MinIO, a NAS's own): the finished clip
/// stored under a key made from the drop. The account entry holds the bucket and its keys.
package enum S3Platform: PlatformModule {
    package static let descriptor: PlatformDescriptor = {
        var d = PlatformDescriptor.destination(
            "s3", "S3-compatible storage",
            accountFields: [
                "bucket", "region", "access_key_id", "secret_access_key", "endpoint (default AWS)", "key (default `{stem}.{ext}`)",
                "storage_class", "metadata", "path_style", "part_checksums"
            ],
            settings: ["bucket", "region", "access_key_id", "secret_access_key", "key", "storage_class", "metadata", "path_style", "part_checksums"],
            upload: "multipart, parts sized from the file (≥ 5 MiB, ≤ 10,000 parts), SigV4; a resume asks `ListParts` and never re-sends a part S3 holds",
            reconcile: "`HEAD` of the key, compared by the sha256 in its metadata",
            quotas: "none; 503 SlowDown backs off (Retry-After when given)",
            facts: PlatformFacts(platform: "s3", displayName: "S3", options: [.init("key")]))
        // Multipart parts: 5 MiB to 5 GiB, at most 10,000 of them (the last part may be smaller).
        d.parts = PartSizes(min: 5 << 20, max: 5 << 30, maxCount: 10_000)
        return d
    }()

    package static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        S3Adapter(settings)
    }

    static let storageClasses = [
        "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER",
        "DEEP_ARCHIVE", "GLACIER_IR", "OUTPOSTS", "EXPRESS_ONEZONE", "SNOW"
    ]

    package static func validate(_ account: AccountConfig, sandboxed: Bool) throws {
        if let n = account.setting("bucket") {
            if let why = bucketNameProblem(try n.string()) { throw n.fail(why) }
        } else if !sandboxed {
            _ = try account.required("bucket", "the bucket clips are stored in")
        }
        if !sandboxed {
            _ = try account.required("access_key_id", "the bucket's access key")
            _ = try account.required("secret_access_key", "the access key's secret")
        }
        if let n = account.setting("region") {
            let r = try n.string()
            if r.isEmpty || !r.allSatisfy({ $0.isLetter && $0.isASCII && $0.isLowercase || $0.isNumber || $0 == "-" }) {
                throw n.fail("'\(Excerpt.quote(r))' is not a region name (like us-east-1, auto for R2)")
            }
        }
        if !account.endpoint.isEmpty {
            let u = URL(string: account.endpoint)
            if u?.host == nil || !["http", "https"].contains(u?.scheme ?? "") {
                throw OmniError(.configInvalid, "account '\(account.key)': endpoint '\(Excerpt.quote(account.endpoint))' is not an http(s) URL", at: account.location)
            }
        } else if account.setting("region") == nil, !sandboxed {
            _ = try account.required("region", "AWS's region, or an `endpoint:` for another S3-compatible service")
        }
        if let n = account.setting("key") { _ = try NameTemplate(n) }
        if let n = account.setting("storage_class") { _ = try n.oneOf(storageClasses) }
        if let n = account.setting("metadata") {
            for (k, v) in try n.mapping() {
                guard !k.isEmpty, k.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                    throw v.fail("metadata key '\(Excerpt.quote(k))' must be letters, digits, - or _ (it becomes an x-amz-meta- header)")
                }
                let value = try v.string()
                guard value.allSatisfy({ $0.isASCII && !$0.isNewline }) else { throw v.fail("metadata values must be one line of ASCII (they travel as HTTP headers)") }
            }
        }
        _ = try account.setting("path_style")?.bool()
        _ = try account.setting("part_checksums")?.bool()
    }

    /// S3's bucket naming rules: nil when `name` follows them.
    static func bucketNameProblem(_ name: String) -> String? {
        let allowed = name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") }
        if name.count < 3 || name.count > 63 { return "bucket name '\(Excerpt.quote(name))' must be 3 to 63 characters long" }
        if !allowed { return "bucket name '\(Excerpt.quote(name))' may hold only lowercase letters, digits, dots and hyphens" }
        if !(name.first!.isLetter || name.first!.isNumber) || !(name.last!.isLetter || name.last!.isNumber) {
            return "bucket name '\(name)' must begin and end with a letter or digit"
        }
        if name.contains("..") { return "bucket name '\(name)' may not hold two dots in a row" }
        if name.split(separator: ".").count == 4, name.split(separator: ".").allSatisfy({ Int($0) != nil }) {
            return "bucket name '\(name)' may not look like an IP address"
        }
        if name.hasPrefix("xn--") || name.hasPrefix("sthree-") || name.hasSuffix("-s3alias") || name.hasSuffix("--ol-s3") {
            return "bucket name '\(name)' uses a prefix or suffix S3 reserves"
        }
        return nil
    }

    /// In sandbox mode a bucket target without an endpoint stores into the sandbox's own S3.
    package static func useSandbox(_ account: inout AccountConfig, base: String, root: URL) -> [SandboxGrant] {
        guard account.endpoint.isEmpty else { return [] }
        account.endpoint = base + "/s3"
        account.fillIn("bucket", "omnipost-\(account.name.lowercased().filter { $0.isLetter || $0.isNumber })")
        account.fillIn("region", "us-east-1")
        account.fillIn("access_key_id", "sandbox-key")
        account.fillIn("secret_access_key", "sandbox-secret")
        return [.settings(["access_key_id", "secret_access_key"], of: account)]
    }
}

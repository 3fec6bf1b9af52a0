import Foundation

/// `media_host:` — where renditions go when a platform fetches media from a URL instead of taking an
/// upload (Threads): an S3-compatible bucket, read back through presigned links that expire; or the
/// daemon itself (`serve: true`), handing out signed links that expire on its `http:` listener.
public struct MediaHostConfig: Sendable {
    public struct S3: Sendable {
        public var endpoint: String
        public var bucket: String
        public var region: String
        public var accessKeyID: String
        public var secretAccessKey: String
        /// Object keys start with this (`omnipost/`).
        public var prefix: String
        /// Path-style addressing (`endpoint/bucket/key`, what every S3-compatible server speaks) or
        /// virtual-host style (`bucket.endpoint/key`, AWS's default).
        public var pathStyle = true
        public init(endpoint: String, bucket: String, region: String, accessKeyID: String, secretAccessKey: String, prefix: String) {
            self.endpoint = endpoint
            self.bucket = bucket
            self.region = region
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
            self.prefix = prefix
        }
    }

    /// The bucket; nil when the daemon serves the links itself.
    public var s3: S3?
    public var served: Bool { s3 == nil }
    /// How long a link works: long enough for the platform to fetch the file, short enough not to be a public copy.
    public var linkTTL: Duration
    public init(s3: S3?, linkTTL: Duration) {
        self.s3 = s3
        self.linkTTL = linkTTL
    }
}

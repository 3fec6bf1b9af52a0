import Foundation

/// `media_host:` — where renditions go when a platform fetches media from a URL instead of taking an
/// upload (Threads): an S3-compatible bucket, read back through presigned links that expire; or the
/// daemon itself (`serve: true`), handing out signed links that expire on its `http:` listener.
package struct MediaHostConfig: Sendable {
    package struct S3: Sendable {
        package var endpoint: String
        package var bucket: String
        package var region: String
        package var accessKeyID: String
        package var secretAccessKey: String
        /// Object keys start with this (`omnipost/`).
        package var prefix: String
        /// Path-style addressing (`endpoint/bucket/key`, what every S3-compatible server speaks) or
        /// virtual-host style (`bucket.endpoint/key`, AWS's default).
        package var pathStyle = true
        /// Over HTTPS, each part unsigned with its CRC-32C for S3 to check (`part_checksums:`, default
        /// yes); no: the payload's sha256 signed, as over HTTP — for a store without flexible checksums.
        package var partChecksums = true
        package init(endpoint: String, bucket: String, region: String, accessKeyID: String, secretAccessKey: String, prefix: String) {
            self.endpoint = endpoint
            self.bucket = bucket
            self.region = region
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
            self.prefix = prefix
        }
    }

    /// The bucket; nil when the daemon serves the links itself.
    package var s3: S3?
    package var served: Bool { s3 == nil }
    /// How long a link works: long enough for the platform to fetch the file, short enough not to be a public copy.
    package var linkTTL: Duration
    package init(s3: S3?, linkTTL: Duration) {
        self.s3 = s3
        self.linkTTL = linkTTL
    }
}

import Foundation

extension SandboxState {
    /// Every upload not yet finished is forgotten, on every platform at once: what a platform does when
    /// an upload session outlives its documented lifetime (YouTube's resumable URI, TikTok's upload_url
    /// after an hour, an S3 multipart upload a lifecycle rule aborted, X's and LinkedIn's expiry, a
    /// Meta upload session) — without a test waiting for it. A client resuming one must start afresh.
    package func forgetUnfinishedUploads() {
        expireUnfinishedUploads()
        for p in SandboxPlatforms.all { p.forgetUnfinishedUploads(state: self) }
    }
}

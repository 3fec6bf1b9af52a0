import AsyncHTTPClient
import Foundation
import NIOHTTP1
import OmniPostCore

/// A redirect that is not S3's: a bare 3xx with a `Location` — no `<Code>` in its body, no
/// `x-amz-bucket-region` — answered to any request (a part, an object's PUT, a HEAD, starting or
/// completing a multipart upload: a load balancer moves the first request it meets). S3 itself
/// never answers so: its region redirects name themselves (`PermanentRedirect`, `TemporaryRedirect`,
/// the region header; `S3Bucket+Region.swift`). It is something in front of the bucket (a load balancer,
/// a proxy before MinIO or a NAS's store) moving the request, the class every upload's redirect is in
/// (`UploadRedirect`): a `307` is this request's only and the part is sent again to its own URL; a
/// `301`/`302`/`303`/`308` fails the delivery as `rejected_by_platform`, naming where it pointed without
/// its query. Read as a wrong region it would send a person to change a `region:` that is right.
extension S3Bucket {
    /// `carriesBytes`: the request sent an upload's bytes (the sentence says "while sending" them).
    /// `endpoint`: whose endpoint the request went to, as the sentence names it (`UploadRedirect.failure`).
    func passingRedirect(
        _ status: Int, code: String, headers: HTTPHeaders, what: String, carriesBytes: Bool, endpoint: UploadRedirect.Endpoint = .account
    ) -> DeliveryError? {
        guard Self.isBare(headers, code: code), let location = UploadRedirect.location(status: status, headers: headers)
        else { return nil }
        let (scheme, host, _) = parts
        let at = "\(scheme)://\(host)"
        return UploadRedirect.failure(status: status, location: location, url: at + "/", what: carriesBytes ? "while sending \(what)" : "for \(what)", platform: at, endpoint: endpoint)
    }

    /// Whether an answer is bare — no S3 error `code` from its body, no `x-amz-bucket-region` — so not S3's
    /// own: the test for a load balancer's redirect here, and for a 307 worth sending again (`send`: S3's own
    /// `TemporaryRedirect` names the bucket's region and would come back the same).
    static func isBare(_ headers: HTTPHeaders, code: String) -> Bool {
        code.isEmpty && headers.first(name: "x-amz-bucket-region") == nil
    }
}

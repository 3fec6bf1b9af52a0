import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore
import OmniPostWire

/// A bucket addressed at another region than its own, as S3 answers it (docs.aws.amazon.com/AmazonS3/
/// latest/userguide/UsingRouting.html; the error codes in the S3 API reference):
/// - 301 `PermanentRedirect`: the request reached an endpoint of another region; `<Endpoint>` names the
///   bucket's, the `x-amz-bucket-region` header its region; no `Location`.
/// - 307 `TemporaryRedirect`: the request reached the global endpoint while the bucket's name still
///   routes there (a new bucket outside us-east-1); `Location` and `<Endpoint>` name the regional one.
/// - 400 `AuthorizationHeaderMalformed`: the endpoint is right, the signature's scope names another
///   region ("the region 'us-east-1' is wrong; expecting 'eu-west-1'", `<Region>`).
/// None can be followed: SigV4 signs the Host and the region, so the same request sent elsewhere is
/// refused (403 SignatureDoesNotMatch, which used to read as revoked keys). Each is the account's settings
/// to fix — `config_invalid`, one sentence whatever the request, its body's size or the scheme.
extension S3Bucket {
    /// S3's answer when it says the bucket is elsewhere; nil for any other refusal.
    func misaddressed(_ status: Int, code: String, text: String, headers: HTTPHeaders, what: String) -> DeliveryError? {
        let region = headers.first(name: "x-amz-bucket-region") ?? XMLTags.first("Region", in: text)
        // A HEAD's answer has no body: its `Location`'s host stands for `<Endpoint>` (a host, no path).
        let endpoint =
            XMLTags.first("Endpoint", in: text)
            ?? headers.first(name: "Location").flatMap { URL(string: $0, relativeTo: URL(string: config.endpoint))?.absoluteURL }.flatMap { u in
                u.host.map { $0 + (u.port.map { ":\($0)" } ?? "") }
            }
        let redirect = (300..<400).contains(status)
        guard redirect || ["AuthorizationHeaderMalformed", "AuthorizationQueryParametersError", "IllegalLocationConstraintException"].contains(code) && region != nil
        else { return nil }
        var said = "\(what) was refused (HTTP \(status)\(code.isEmpty ? "" : " " + code)): "
        if let region, region != config.region {
            said += "the bucket \(config.bucket) is in region \(region), and requests are signed for \(config.region)"
        } else {
            said += "the bucket \(config.bucket) is not served at the endpoint the account names"
        }
        if let endpoint { said += "; S3 named the bucket's endpoint \(endpoint)" }
        // What to change: the region the requests are signed for, and an endpoint of that region (a
        // redirect is not followed: SigV4 signs the Host, so S3 would refuse the same request there).
        said +=
            "; set the account's `region:`\(region.map { " to \($0)" } ?? "") and its `endpoint:` to that region's S3 endpoint (S3's redirects are not followed: a request signed for one host and region is refused at another)"
        return DeliveryError(.permanent, .configInvalid, said, httpStatus: status)
    }
}

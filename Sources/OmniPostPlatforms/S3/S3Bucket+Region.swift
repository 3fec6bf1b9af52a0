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
/// A HEAD's answer (the S3 delivery's first request) has no body, so no `<Code>`: its 301 or 400 is read
/// by its status and `x-amz-bucket-region` alone.
/// None can be followed: SigV4 signs the Host and the region, so the same request sent elsewhere is
/// refused (403 SignatureDoesNotMatch, which used to read as revoked keys). Each is the bucket's settings
/// to fix (the account's, the media host's or the S3 inbox's: `settingsBlock`) — `config_invalid`, one
/// sentence whatever the request, its body's size or the scheme.
extension S3Bucket {
    /// S3's answer when it says the bucket is elsewhere; nil for any other refusal. `bodiless`: a HEAD's
    /// answer, which carries no `<Code>` (its 400 is taken as the wrong region S3 gives a HEAD that way).
    func misaddressed(_ status: Int, code: String, text: String, headers: HTTPHeaders, what: String, bodiless: Bool = false) -> DeliveryError? {
        let region = headers.first(name: "x-amz-bucket-region") ?? XMLTags.first("Region", in: text)
        let endpoint = XMLTags.first("Endpoint", in: text) ?? headers.first(name: "Location").flatMap(redirectTarget)
        let redirect = (300..<400).contains(status)
        let wrongRegion = ["AuthorizationHeaderMalformed", "AuthorizationQueryParametersError", "IllegalLocationConstraintException"].contains(code) && region != nil
        let headWrongRegion = bodiless && status == 400 && code.isEmpty
        guard redirect || wrongRegion || headWrongRegion else { return nil }
        var said = "\(what) was refused (HTTP \(status)\(code.isEmpty ? "" : " " + code)): "
        if let region, region != config.region {
            said += "the bucket \(config.bucket) is in region \(region), and requests are signed for \(config.region)"
        } else if headWrongRegion {
            said +=
                "the requests are signed for region \(config.region), and the bucket \(config.bucket) is not in it (S3 answers a HEAD signed for the wrong region so, without a body)"
        } else {
            said += "the bucket \(config.bucket) is not served at the endpoint \(settingsBlock) names"
        }
        if let endpoint { said += "; S3 named the bucket's endpoint \(endpoint)" }
        // What to change: the region the requests are signed for, and an endpoint of that region (a
        // redirect is not followed: SigV4 signs the Host, so S3 would refuse the same request there).
        said +=
            "; under \(settingsBlock), set `region:`\(region.map { " to \($0)" } ?? " to the bucket's region") and `endpoint:` to that region's S3 endpoint (S3's redirects are not followed: a request signed for one host and region is refused at another)"
        return DeliveryError(.permanent, .configInvalid, said, httpStatus: status)
    }

    /// Where a `Location` points, for the sentence: scheme and host[:port], as `<Endpoint>` names a host
    /// (no path, no query: a presigned one carries a signature). The scheme is kept, so a proxy's redirect
    /// from http to https on the same host does not read as "the same endpoint".
    func redirectTarget(_ location: String) -> String? {
        guard let u = URL(string: location, relativeTo: URL(string: config.endpoint))?.absoluteURL, let host = u.host else { return nil }
        return (u.scheme.map { $0 + "://" } ?? "") + host + (u.port.map { ":\($0)" } ?? "")
    }
}

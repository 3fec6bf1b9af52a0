import AsyncHTTPClient
import Foundation
import NIOSSL
import OmniPostPlatforms

// S3's and tus's rows go over the sandbox's HTTPS listener, both sides: their real endpoints are HTTPS,
// and what vouches for a part depends on the scheme — every AWS SDK signs an S3 part's sha256 over plain
// HTTP only, and leaves it unsigned over HTTPS with a CRC in a checksum header; tus's checksum is the
// client's choice, and ours sends its sha1 over plain HTTP only. Over plain HTTP those rows measured a
// request no official client sends to a real endpoint. BENCH_UPLOAD_HTTP=1 runs them over HTTP as before.

/// The platforms whose row (ours, the sink's and curl's) runs over HTTPS.
func uploadsOverTLS(_ platform: String) -> Bool {
    ProcessInfo.processInfo.environment["BENCH_UPLOAD_HTTP"] != "1" && ["s3", "tus"].contains(platform)
}

/// The sandbox's CA, handed from the bench to its children (the upload child, curl's child, curl itself).
let benchCAVariable = "OMNIPOST_BENCH_CA"

/// The HTTP client a child uses: the daemon's own (`Pipeline`: the system's CAs and `upload.ca_file`, here
/// the sandbox's CA; the same timeouts) where the bench handed a CA, else the shared one.
func benchHTTPClient() throws -> HTTPClient {
    guard let ca = ProcessInfo.processInfo.environment[benchCAVariable] else { return HTTPClient.shared }
    var tls = TLSConfiguration.makeClientConfiguration()
    tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(ca))]
    return HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(10), read: .seconds(300), write: .seconds(300))))
}

/// The client beside it that follows no redirect, as the daemon makes one beside its own (`Pipeline`,
/// `UploadRedirect`): what parts and every S3 request go through. A child lives as long as its one
/// upload, so neither is shut down before it exits.
func benchUploadsClient() throws -> HTTPClient {
    guard let ca = ProcessInfo.processInfo.environment[benchCAVariable] else { return UploadRedirect.shared }
    var tls = TLSConfiguration.makeClientConfiguration()
    tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(ca))]
    return UploadRedirect.client(tls: tls)
}

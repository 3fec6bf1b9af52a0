import AsyncHTTPClient
import Foundation
import NIOSSL
import OmniPostPlatforms
@testable import OmniPostSandbox

/// One sandbox CA for the whole test run (made once with openssl), copied into each sandbox that
/// serves HTTPS, and one HTTP client that trusts it — never shut down, as it lives as long as the run.
enum TestTLS {
    static let folder: URL = {
        let f = FileManager.default.temporaryDirectory.appendingPathComponent("omnipost-tests-tls-\(getpid())")
        try! SandboxTLS.ensureCertificates(in: f)
        return f
    }()

    static var configuration: TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.additionalTrustRoots = [.file(SandboxTLS.caFile(in: folder).path)]
        return tls
    }

    static let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: configuration))
    /// Its sibling that follows no redirect (`UploadRedirect`), as the pipeline makes one beside its own.
    static let uploads = UploadRedirect.client(tls: configuration)

    /// The no-redirect client to go with `http`: this run's where `http` is `client`, else the process's.
    static func uploads(beside http: HTTPClient) -> HTTPClient? { http === client ? uploads : nil }

    /// Gives a sandbox folder the run's certificates, so its HTTPS listener is one `client` trusts.
    static func seed(_ sandboxRoot: URL) throws {
        let dest = sandboxRoot.appendingPathComponent("tls")
        try FileManager.default.createDirectory(at: dest, withIntermediateDirectories: true)
        for name in ["ca.pem", "cert.pem", "key.pem"] where !FileManager.default.fileExists(atPath: dest.appendingPathComponent(name).path) {
            try FileManager.default.copyItem(at: folder.appendingPathComponent(name), to: dest.appendingPathComponent(name))
        }
    }
}

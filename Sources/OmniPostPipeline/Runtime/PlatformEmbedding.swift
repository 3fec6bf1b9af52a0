import AsyncHTTPClient
import Foundation
import OmniPostCore

/// Stand-ins for the platforms run inside OmniPost (`sandbox: embedded`): the pipeline asks for them
/// through this hook and never names them, so it builds and runs without them. The program that wants
/// them (the `omnipost` executable, the bench, the tests) hands one in; see OmniPostEmbedded.
package protocol PlatformEmbedding: Sendable {
    /// The stand-ins for `config`, listening: `running` when a reload keeps them and they are this
    /// pipeline's, else started (on the ports they had before, when free). `config`'s accounts are pointed
    /// at them and what each brings (keys, tokens, passwords) is granted there.
    func start(_ config: inout PipelineConfig, reusing running: (any EmbeddedPlatforms)?) async throws -> any EmbeddedPlatforms

    /// For a command run beside the daemon (`accounts check`, `accounts add`): `config`'s accounts
    /// pointed at the running daemon's stand-ins when they answer, else at ones started here from the
    /// state the last run left — returned, for the caller to stop when done.
    func attach(_ config: inout PipelineConfig, http: HTTPClient) async throws -> (any EmbeddedPlatforms)?
}

/// Running stand-ins for the platforms.
package protocol EmbeddedPlatforms: Sendable {
    /// Where they listen, as a person reads it (`http://127.0.0.1:8089 and https://127.0.0.1:8443`).
    var address: String { get }
    /// Stops them gracefully: requests in flight finish, then the listeners close.
    func stop() async
}

extension PipelineConfig {
    /// The stand-ins `embedding` provides when this pipeline runs against them (`sandbox: embedded`); nil when it
    /// talks to the real platforms. A program built without them cannot run such a pipeline: it says so.
    func embedding(_ embedding: (any PlatformEmbedding)?) throws -> (any PlatformEmbedding)? {
        guard sandbox == .embedded else { return nil }
        guard let embedding else {
            throw OmniError(.configInvalid, "pipeline \(name) runs against the bundled sandbox (sandbox: embedded), which this program was built without; run it with omnipost")
        }
        return embedding
    }
}

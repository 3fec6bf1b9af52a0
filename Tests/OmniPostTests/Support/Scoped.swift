import AsyncHTTPClient
import Foundation
import OmniPostPipeline
import OmniPostSandbox

/// Something a test starts and must stop before it ends: a sandbox, a pipeline, an HTTP client.
/// `defer { Task { await s.stop() } }` left the stop running after the test returned (and after its
/// temporary folder was removed); these helpers await it, whichever way the body ends.
protocol ScopedResource: Sendable {
    func release() async
}

extension SandboxServer: ScopedResource {
    func release() async { await stop() }
}

extension Pipeline: ScopedResource {
    func release() async { await close() }
}

extension HTTPClient: ScopedResource {
    func release() async { try? await shutdown() }
}

/// Runs `body`, then releases `resource` — also when `body` throws or is cancelled.
func stopping<R: ScopedResource, T>(_ resource: R, _ body: () async throws -> T) async throws -> T {
    do {
        let v = try await body()
        await resource.release()
        return v
    } catch {
        await resource.release()
        throw error
    }
}

/// A sandbox in `dir/sandbox`, started (with its HTTPS listener when `tls`), handed to `body`, and
/// always stopped before this returns.
func withSandbox<T>(
    _ dir: TempDir, tls: Bool = false, persistent: Bool = false,
    _ body: (SandboxServer) async throws -> T
) async throws -> T {
    let s = SandboxServer(root: dir.file("sandbox"), persistent: persistent)
    try await s.start(tls: tls)
    return try await stopping(s) { try await body(s) }
}

/// Runs `pipeline` as the daemon does (until cancelled) while `body` runs; then cancels the run, awaits
/// its end and closes the pipeline — whichever way `body` ends.
func running<T>(_ pipeline: Pipeline, _ body: () async throws -> T) async throws -> T {
    let run = Task { try await pipeline.run(once: false) }
    return try await stopping(pipeline) {
        do {
            let v = try await body()
            run.cancel()
            _ = await run.result
            return v
        } catch {
            run.cancel()
            _ = await run.result
            throw error
        }
    }
}

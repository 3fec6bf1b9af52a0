import Foundation

/// One attempt's bookkeeping: the job, where checkpoints and progress go, the bytes sent so far, and
/// the middleware every verb passes through.
struct UploadRun {
    let job: UploadJob
    let checkpoint: @Sendable (UploadCheckpoint) async throws -> Void
    let progress: @Sendable (Int64, Int64) -> Void
    let middleware: MiddlewareChain
    /// Bytes that left in this attempt, re-sent ones included (what the ledger adds to `bytes_sent`).
    var sent: Int64 = 0

    /// Made durable before anything moves on: the session before its first byte, each confirmed offset,
    /// each phase before the step it allows.
    func save<S: PersistedSession>(_ session: S, confirmed: Int64) async throws {
        try await checkpoint(UploadCheckpoint(session: session.persisted, confirmedOffset: confirmed, bytesSent: sent))
    }

    func verb<T>(_ verb: UploadVerb, _ body: () async throws -> T) async throws -> T {
        try await middleware.run(verb, job, body)
    }
}

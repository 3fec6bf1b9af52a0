import Foundation

/// One attempt's bookkeeping: the job, where checkpoints and progress go, the bytes sent so far, and
/// the middleware every verb passes through.
struct UploadRun: Sendable {
    let job: UploadJob
    let checkpoint: @Sendable (UploadCheckpoint) async throws -> Void
    let progress: @Sendable (Int64, Int64) -> Void
    let middleware: MiddlewareChain
    /// Bytes that left in this attempt, re-sent ones included (what the ledger adds to `bytes_sent`).
    var sent: Int64 = 0

    /// Made durable before anything moves on: the session before its first byte, each confirmed offset,
    /// each phase before the step it allows. `durable: false` only for a part's confirmed offset
    /// (`UploadCheckpoint.durable`): everything else must outlive a power cut.
    func save<S: PersistedSession>(_ session: S, confirmed: Int64, durable: Bool = true) async throws {
        try await checkpoint(UploadCheckpoint(session: session.persisted, confirmedOffset: confirmed, bytesSent: sent, durable: durable))
    }

    /// A verb through the middleware. The body is `@Sendable` (a middleware may run it in a child
    /// task), so a verb that changes the session returns the changed copy rather than writing through.
    func verb<T: Sendable>(_ verb: UploadVerb, _ body: @Sendable () async throws -> T) async throws -> T {
        try await middleware.run(verb, job, body)
    }
}

/// What a verb may make durable before it goes on (Reddit's post: the submit was taken, or its
/// processing failed), checkpointed as the engine's own checkpoints are, with every byte held.
package struct SessionSave<S: PersistedSession>: Sendable {
    let body: @Sendable (S) async throws -> Void

    package func callAsFunction(_ session: S) async throws { try await body(session) }
}

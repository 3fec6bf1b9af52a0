import Foundation

/// A stage worker: claims one unit of work from the ledger, does it, moves it on. `step` returns
/// false when there was nothing to do, so the loop can sleep until rung.
package protocol Stage: Sendable {
    var name: String { get }
    func step() async throws -> Bool
    /// When this stage will have work without anyone ringing (a grace period running out); nil if never.
    func nextDeadline() throws -> Date?
}

extension Stage {
    package func nextDeadline() throws -> Date? { nil }
}

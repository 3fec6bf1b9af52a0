import Foundation
import OmniPostCore

/// A stage worker: claims one unit of work from the ledger, does it, moves it on. `step` returns
/// false when there was nothing to do, so the loop can sleep until rung.
package protocol Stage: Sendable {
    var name: String { get }
    /// The loop's own name, for its liveness (two lanes of one stage are two loops); its events carry `name`.
    var loopName: String { get }
    func step() async throws -> Bool
    /// When this stage will have work without anyone ringing (a grace period running out); nil if never.
    func nextDeadline() throws -> Date?
    /// The rings that may bring this stage work: its loop sleeps through the others.
    var rungBy: Wakeup.Topic { get }
}

extension Stage {
    package var loopName: String { name }

    package func nextDeadline() throws -> Date? { nil }

    package var rungBy: Wakeup.Topic { .all }
}

/// A stage worker: claims one unit of work from the ledger, does it, moves it on. `step` returns
/// false when there was nothing to do, so the loop can sleep until rung.
public protocol Stage: Sendable {
    var name: String { get }
    func step() async throws -> Bool
}

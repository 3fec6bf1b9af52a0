import Foundation

extension Thread {
    /// Starts a thread of our own for a loop that blocks for good (a `poll`, a condition variable's wait):
    /// with a 256 KiB stack — such a loop needs little, and the default reserves 8 MiB for each.
    package static func startLoop(_ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.stackSize = 256 << 10
        thread.start()
    }
}

import Foundation
import OmniPostCore

/// What Meta's upload host keeps of an upload (an Instagram container, a Facebook reel): its file, the
/// size it was told, the bytes it holds, and their sha256 once whole.
protocol RuploadHeld {
    var file: String { get }
    var size: Int64? { get set }
    var received: Int64 { get set }
    var sha256: String? { get set }
}

extension SandboxState.FBVideo: RuploadHeld {}
extension SandboxState.IGContainer: RuploadHeld {}

extension SandboxState {
    /// A body at `offset` (at most what is held: a resent chunk replaces its earlier copy and what
    /// followed it), as the host takes it for either platform. True when the upload is whole.
    func rupload<H: RuploadHeld>(_ held: inout H, offset: Int64, size: Int64, bytes: Data) throws -> Bool {
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: held.file))
        try h.truncate(atOffset: UInt64(offset))
        try h.seek(toOffset: UInt64(offset))
        try h.write(contentsOf: bytes)
        try h.close()
        held.size = size
        held.received = offset + Int64(bytes.count)
        addReceived(Int64(bytes.count))
        guard held.received == size else { return false }
        held.sha256 = try FileHashing.sha256(path: held.file).hex
        return true
    }
}

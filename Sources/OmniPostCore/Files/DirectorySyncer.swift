import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// How a folder's entries are made durable (`fsync` of its descriptor). Injected where the order of those
/// syncs is the guarantee — a filing syncs every folder it created or linked into before an original's
/// inbox name goes — so a test can see the order; `.system` everywhere else.
package struct DirectorySyncer: Sendable {
    package var sync: @Sendable (_ fd: Int32, _ path: String) -> Void
    package init(_ sync: @escaping @Sendable (_ fd: Int32, _ path: String) -> Void) { self.sync = sync }
    package static let system = DirectorySyncer { fd, _ in _ = fsync(fd) }

    package func sync(_ dir: BeneathDirectory) { sync(dir.fd, dir.path) }
}

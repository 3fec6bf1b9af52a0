import Foundation

/// `omnipost run <file>` as a process of its own (the built binary), what it writes going to `log`:
/// stdout, and stderr too with `errors`. The caller kills it (SIGKILL in a `defer`) if it still runs.
enum DaemonProcess {
    static func start(_ file: URL, log: URL, errors: Bool = false) throws -> Process {
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CheckCommandTests.binary)
        p.arguments = ["run", file.path]
        p.standardOutput = try FileHandle(forWritingTo: log)
        p.standardError = errors ? try FileHandle(forWritingTo: log) : FileHandle.nullDevice
        try p.run()
        return p
    }
}

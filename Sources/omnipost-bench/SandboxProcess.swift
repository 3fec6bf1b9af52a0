import Foundation
import OmniPostCore

/// `omnipost sandbox` on a free loopback port, its data in `dir`: the process (the caller stops it)
/// and its base URL, read from its "listening on" line.
func startSandbox(omnipost: String, in dir: URL, arguments: [String]) async throws -> (Process, String) {
    let (p, base, _) = try await startSandboxWithTLS(omnipost: omnipost, in: dir, arguments: arguments)
    return (p, base)
}

/// The same, and its HTTPS base with the CA file that signs it (`tls`), read from its "over HTTPS" line.
func startSandboxWithTLS(omnipost: String, in dir: URL, arguments: [String]) async throws -> (Process, String, (base: String, ca: String)?) {
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let log = dir.appendingPathComponent("sandbox.log")
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    let sandbox = Process()
    sandbox.executableURL = URL(fileURLWithPath: omnipost)
    sandbox.arguments = ["sandbox", "--port", "0", "--root", dir.appendingPathComponent("sandbox").path] + arguments
    sandbox.standardOutput = try FileHandle(forWritingTo: log)
    sandbox.standardError = FileHandle.nullDevice
    try sandbox.run()
    for _ in 0..<300 {
        try await Task.sleep(for: .milliseconds(50))
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n")
        if let line = lines.first(where: { $0.contains("listening on http") }), let r = line.range(of: "http://"),
            let secure = lines.first(where: { $0.contains("listening over HTTPS") }), let t = secure.range(of: "https://")
        {
            let ca = dir.appendingPathComponent("sandbox/tls/ca.pem").path
            return (sandbox, String(line[r.lowerBound...]), (String(secure[t.lowerBound...]), ca))
        }
    }
    sandbox.terminate()
    sandbox.waitUntilExit()
    throw OmniError(.internalError, "the sandbox did not start")
}

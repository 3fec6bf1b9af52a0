import Foundation
import OmniPostCore

/// A server from PyPI (moto's S3, tuspyserver), run from the virtualenv `make test` creates by a script
/// in Tests/clients that prints its port and serves until its stdin closes: it ends when this test
/// process does, however that ends.
final class PythonServer: @unchecked Sendable {
    static let python = PipelineConfigTests.repoRoot.appendingPathComponent(".venv/bin/python").path
    let process = Process()
    let stdin = Pipe()
    let base: String

    init(script: String, arguments: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = [PipelineConfigTests.repoRoot.appendingPathComponent("Tests/clients/\(script)").path] + arguments
        let out = Pipe()
        process.standardInput = stdin
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while true {
            let b = out.fileHandleForReading.readData(ofLength: 1)
            if b.isEmpty || b == Data("\n".utf8) { break }
            line.append(b)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else { throw OmniError(.internalError, "\(script) did not start") }
        base = "http://127.0.0.1:\(port)"
    }

    /// Whether the virtualenv has `module` (the Makefile installs it; a bare `swift test` may not have it).
    static func has(_ module: String) -> Bool {
        guard FileManager.default.isExecutableFile(atPath: python) else { return false }
        let lib = PipelineConfigTests.repoRoot.appendingPathComponent(".venv/lib")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: lib.path)) ?? []
        return versions.contains { FileManager.default.fileExists(atPath: lib.appendingPathComponent("\($0)/site-packages/\(module)").path) }
    }
}

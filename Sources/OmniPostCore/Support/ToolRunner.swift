import Foundation
import Subprocess
#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// Runs ffmpeg/ffprobe with an argument array (never a shell), a timeout, and bounded output capture.
/// Names with spaces, quotes, newlines or leading dashes reach the tool as one argument each.
package struct ToolRunner: Sendable {
    package struct Result: Sendable {
        package var status: Int32
        package var stdout: String
        /// The last lines of stderr (bounded), for failure reports.
        package var stderr: String
        package var timedOut: Bool
        package var lastLine: String {
            stderr.split(separator: "\n").last.map { String($0).trimmingCharacters(in: .whitespaces) } ?? "exit status \(status)"
        }
    }

    package init() {}

    /// What a child inherits of this process's environment: what finding programs, files, the time zone
    /// and the language needs — never the rest. The daemon's environment holds secrets
    /// (`OMNIPOST_SECRET_KEY`, `OMNIPOST_<ACCOUNT>_CLIENT_SECRET`), and ffmpeg, ffprobe and a command
    /// target have no business with them.
    package static let inheritedNames: Set<String> = [
        "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM",
        "FONTCONFIG_FILE", "FONTCONFIG_PATH", "SSL_CERT_FILE", "SSL_CERT_DIR"
    ]

    /// The environment a child gets: the allowed names (and `LC_*`) from `base`, then `extra`.
    package static func childEnvironment(
        _ base: [String: String] = ProcessInfo.processInfo.environment,
        extra: [String: String] = [:]
    ) -> [String: String] {
        base.filter { inheritedNames.contains($0.key) || $0.key.hasPrefix("LC_") }.merging(extra) { _, new in new }
    }

    /// Runs a tool to completion. `onStdoutLine` sees each stdout line as it arrives (ffmpeg's -progress).
    /// `tool` is a name looked up on PATH, or a path. `input` is written to its stdin (then closed);
    /// the tool's environment is `childEnvironment(extra:)`: an allow-list of this process's, plus `environment`.
    package func run(
        _ tool: String, _ args: [String], timeout: Duration,
        keepStdout: Bool = true, input: Data? = nil, environment extra: [String: String] = [:],
        onStdoutLine: (@Sendable (String) -> Void)? = nil
    ) async throws -> Result {
        let executable: Executable = tool.contains("/") ? .path(FilePath(tool)) : .name(tool)
        let environment: Environment = .custom(Self.childEnvironment(extra: extra).map { Array("\($0.key)=\($0.value)\0".utf8) })
        if let input {
            // stdin is a file the input was written to (already unlinked), not a pipe we write into: a
            // program that exits without reading it can neither raise SIGPIPE here nor leave a write
            // half done.
            let path = NSTemporaryDirectory() + "omnipost-stdin-\(UUID().uuidString)"
            guard FileManager.default.createFile(atPath: path, contents: input, attributes: [.posixPermissions: 0o600]) else {
                throw OmniError(.internalError, "could not write the input for \(tool) to \(path)")
            }
            let fd: FileDescriptor
            do { fd = try FileDescriptor.open(FilePath(path), .readOnly) } catch {
                unlink(path)
                throw OmniError(.internalError, "could not open the input for \(tool): \(error)")
            }
            unlink(path)
            return try await execute(
                tool, executable, args, input: .fileDescriptor(fd, closeAfterSpawningProcess: true), environment: environment,
                timeout: timeout, keepStdout: keepStdout, onStdoutLine: onStdoutLine)
        }
        return try await execute(tool, executable, args, input: .none, environment: environment, timeout: timeout, keepStdout: keepStdout, onStdoutLine: onStdoutLine)
    }

    /// Runs a tool reading its stdin from the descriptor `stdin`, which is closed once the tool is spawned.
    package func run(_ tool: String, _ args: [String], timeout: Duration, stdin: Int32, keepStdout: Bool = true) async throws -> Result {
        let executable: Executable = tool.contains("/") ? .path(FilePath(tool)) : .name(tool)
        let environment: Environment = .custom(Self.childEnvironment().map { Array("\($0.key)=\($0.value)\0".utf8) })
        return try await execute(
            tool, executable, args, input: .fileDescriptor(FileDescriptor(rawValue: stdin), closeAfterSpawningProcess: true),
            environment: environment, timeout: timeout, keepStdout: keepStdout, onStdoutLine: nil)
    }

    private func execute<Input: InputProtocol>(
        _ tool: String, _ executable: Executable, _ args: [String], input: Input, environment: Environment, timeout: Duration,
        keepStdout: Bool, onStdoutLine: (@Sendable (String) -> Void)?
    ) async throws -> Result {
        let stdoutBox = LineBox(keepAll: keepStdout)
        let stderrBox = LineBox(keepAll: false)
        let timedOut = OnceFlag()
        let result: ExecutionResult<Void, SequenceOutput, SequenceOutput>
        do {
            result = try await Subprocess.run(
                executable, arguments: Arguments(args), environment: environment, input: input, output: .sequence, error: .sequence
            ) { execution in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await line in execution.standardOutput.strings() {
                            stdoutBox.add(line)
                            onStdoutLine?(line)
                        }
                    }
                    group.addTask {
                        for try await line in execution.standardError.strings() { stderrBox.add(line) }
                    }
                    group.addTask {
                        // The watchdog: a hung ffmpeg must never stall the pipeline forever.
                        try? await Task.sleep(for: timeout)
                        if !Task.isCancelled {
                            timedOut.set()
                            try? execution.send(signal: .kill)
                        }
                    }
                    // Both streams closed means the process is done; stop the watchdog.
                    try await group.next()
                    try await group.next()
                    group.cancelAll()
                }
            }
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw OmniError(.internalError, "could not run \(tool): \(error)", underlying: error)
        }
        // A tool stopped because this work was cancelled (a shutdown, a reload) did not fail on the
        // file: that is no answer about the input, and must never be reported as one.
        if Task.isCancelled { throw CancellationError() }
        let status: Int32
        switch result.terminationStatus {
        case .exited(let c): status = c
        case .signaled(let s): status = 128 + s
        }
        return Result(status: status, stdout: stdoutBox.text, stderr: stderrBox.text, timedOut: timedOut.value)
    }
}

/// Collects lines from a stream; keeps all of them or only the last 40.
package final class LineBox: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    private let keepAll: Bool
    package init(keepAll: Bool) { self.keepAll = keepAll }
    package func add(_ line: String) {
        lock.lock(); defer { lock.unlock() }
        lines.append(line.hasSuffix("\n") ? String(line.dropLast()) : line)
        if !keepAll, lines.count > 40 { lines.removeFirst(lines.count - 40) }
    }
    package var text: String { lock.lock(); defer { lock.unlock() }; return lines.joined(separator: "\n") }
}

package final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var v = false
    package init() {}
    package func set() { lock.lock(); v = true; lock.unlock() }
    package var value: Bool { lock.lock(); defer { lock.unlock() }; return v }
}

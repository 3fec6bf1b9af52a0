import Foundation
import OmniPostCore
import Subprocess

/// Runs ffmpeg/ffprobe with an argument array (never a shell), a timeout, and bounded output capture.
/// Names with spaces, quotes, newlines or leading dashes reach the tool as one argument each.
public struct ToolRunner: Sendable {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        /// The last lines of stderr (bounded), for failure reports.
        public var stderr: String
        public var timedOut: Bool
        public var lastLine: String {
            stderr.split(separator: "\n").last.map { String($0).trimmingCharacters(in: .whitespaces) } ?? "exit status \(status)"
        }
    }

    public init() {}

    /// Runs a tool to completion. `onStdoutLine` sees each stdout line as it arrives (ffmpeg's -progress).
    public func run(
        _ tool: String, _ args: [String], timeout: Duration,
        keepStdout: Bool = true, onStdoutLine: (@Sendable (String) -> Void)? = nil
    ) async throws -> Result {
        let stdoutBox = LineBox(keepAll: keepStdout)
        let stderrBox = LineBox(keepAll: false)
        let timedOut = Flag()
        let result: ExecutionResult<Void, SequenceOutput, SequenceOutput>
        do {
            result = try await Subprocess.run(
                .name(tool), arguments: Arguments(args), input: .none, output: .sequence, error: .sequence
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
            throw OmniError(.internalError, "could not run \(tool): \(error)", underlying: error)
        }
        let status: Int32
        switch result.terminationStatus {
        case .exited(let c): status = c
        case .signaled(let s): status = 128 + s
        }
        return Result(status: status, stdout: stdoutBox.text, stderr: stderrBox.text, timedOut: timedOut.value)
    }
}

/// Collects lines from a stream; keeps all of them or only the last 40.
final class LineBox: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    private let keepAll: Bool
    init(keepAll: Bool) { self.keepAll = keepAll }
    func add(_ line: String) {
        lock.lock(); defer { lock.unlock() }
        lines.append(line.hasSuffix("\n") ? String(line.dropLast()) : line)
        if !keepAll, lines.count > 40 { lines.removeFirst(lines.count - 40) }
    }
    var text: String { lock.lock(); defer { lock.unlock() }; return lines.joined(separator: "\n") }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var v = false
    func set() { lock.lock(); v = true; lock.unlock() }
    var value: Bool { lock.lock(); defer { lock.unlock() }; return v }
}

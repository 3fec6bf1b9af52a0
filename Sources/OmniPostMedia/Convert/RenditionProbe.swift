import Foundation
import OmniPostCore

/// ffprobe for a rendition, started beside the ffmpeg writing it. Most of what a probe costs is ffprobe
/// starting: loading its ~200 shared libraries is about 60 ms of CPU, against a few ms reading a header —
/// as much as a whole remux of a short clip. Started early, that start overlaps the conversion; ffprobe
/// then waits on its stdin (one end of a socket pair) until the finished rendition's bytes are fed to it
/// from the file itself. Only for containers whose index comes first (MP4/MOV written with `+faststart`,
/// Matroska), which a reader needs no seeking for. Whatever goes wrong here (ffprobe gone, a short read),
/// the caller probes the file as usual: this only saves time, it decides nothing alone.
final class RenditionProbe: Sendable {
    private let ours: Int32
    private let answer: Task<ToolRunner.Result, any Error>

    /// Starts ffprobe; nil when the socket pair cannot be made.
    static func start(tools: ToolRunner, timeout: Duration) -> RenditionProbe? {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { return nil }
        // Ours must not leak into ffprobe (nor any other child spawned meanwhile).
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        let theirs = fds[1]
        let answer = Task { try await tools.run("ffprobe", Prober.arguments(input: "pipe:0"), timeout: timeout, stdin: theirs) }
        return RenditionProbe(ours: fds[0], answer: answer)
    }

    private init(ours: Int32, answer: Task<ToolRunner.Result, any Error>) {
        self.ours = ours
        self.answer = answer
    }

    /// Feeds the file at `path` to ffprobe and returns its answer; nil if anything failed.
    func finish(path: String) async -> ToolRunner.Result? {
        let ours = self.ours
        // A blocking loop of reads and sends, kept off the cooperative pool.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                Self.feed(path: path, to: ours)
                close(ours)
                done.resume()
            }
        }
        guard let result = try? await answer.value, result.status == 0 else { return nil }
        return result
    }

    /// No rendition to read (ffmpeg failed): ffprobe reads an empty input, fails, and is not waited for.
    func cancel() {
        close(ours)
        answer.cancel()
    }

    /// The file's bytes until its end or until ffprobe stops reading (it has what it needs and exits):
    /// `MSG_NOSIGNAL`, so a reader gone is an error here, never a SIGPIPE for the daemon.
    static func feed(path: String, to socket: Int32) {
        let file = open(path, O_RDONLY | O_CLOEXEC)
        guard file >= 0 else { return }
        defer { close(file) }
        let size = 1 << 16
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(file, buffer, size)
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return }
            var sent = 0
            while sent < n {
                let m = send(socket, buffer + sent, n - sent, Int32(MSG_NOSIGNAL))
                if m < 0, errno == EINTR { continue }
                guard m > 0 else { return }
                sent += m
            }
        }
    }
}

import Foundation
import OmniPostCore

/// Produces a rendition with ffmpeg: argument array, -progress parsed and reported, a timeout
/// proportional to the clip's length, output written under a temporary name and renamed only after
/// ffprobe agrees it meets the profile. The original is only ever read.
package struct Converter: Sendable {
    package struct Progress: Sendable, Equatable {
        package var fraction: Double
        package var speed: String?
    }

    let tools: ToolRunner
    let prober: Prober

    package init(tools: ToolRunner = ToolRunner()) {
        self.tools = tools
        self.prober = Prober(tools: tools)
    }

    /// A temporary name unique to this run: if the daemon is killed, its orphaned ffmpeg can only ever
    /// finish a file nobody renames (start-up cleaning removes it), never one a later run put in place.
    static func temporaryName(for output: URL) -> String {
        output.deletingLastPathComponent().appendingPathComponent(".\(output.lastPathComponent).\(getpid())-\(UUID().uuidString.prefix(8)).partial").path
    }

    /// Converts `input` to `output` per `spec`; returns the rendition's probe. `source`, the input's probe,
    /// lets a rendition whose video was copied be checked from its own boxes (`CopiedRendition`).
    package func convert(
        input: String, output: String, spec: RenditionSpec, durationS: Double, verifyAgainst profile: Profile?,
        planner: Planner, source: MediaInfo? = nil, onProgress: @escaping @Sendable (Progress) -> Void = { _ in }
    ) async throws -> MediaInfo {
        let outURL = URL(fileURLWithPath: output)
        let dir = outURL.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let tmp = Self.temporaryName(for: outURL)

        let args = FFmpegArguments.build(input: input, output: tmp, spec: spec)
        // Generous: slow presets on a NAS CPU run well below real time.
        let timeout = Duration.seconds(max(120, durationS * 20))
        let parser = ProgressParser(durationS: durationS, onProgress: onProgress)
        // The rendition's ffprobe starts now, so its own start-up overlaps the conversion (RenditionProbe).
        // Not for a copy checked from its boxes: that ffprobe would only compete with ffmpeg for the CPU.
        let copied = source != nil && (spec.kind == .remux || spec.kind == .audio)
        let early = Self.indexFirst(spec) && !copied ? RenditionProbe.start(tools: tools, timeout: timeout + .seconds(60)) : nil
        let result: ToolRunner.Result
        do { result = try await tools.run("ffmpeg", args, timeout: timeout, keepStdout: false) { parser.feed($0) } } catch {
            early?.cancel()
            throw error
        }
        return try await accept(
            result: result, tmp: tmp, output: output, timeout: timeout, profile: profile, planner: planner, onProgress: onProgress, early: early,
            copyOf: source.map { (spec, $0) })
    }

    /// Containers ffmpeg writes with their index before the media (MP4/MOV with `+faststart`, Matroska,
    /// WebM): a reader learns their streams from the front, without seeking.
    static func indexFirst(_ spec: RenditionSpec) -> Bool {
        ["mp4", "mov", "mkv", "webm"].contains(spec.container ?? "mp4")
    }

    /// The second half of every conversion: a clear report on failure (the last lines of ffmpeg's stderr,
    /// disk full named as such), ffprobe's word that the output meets the profile, then the rename.
    func accept(
        result: ToolRunner.Result, tmp: String, output: String, timeout: Duration, profile: Profile?, planner: Planner,
        onProgress: @Sendable (Progress) -> Void, early: RenditionProbe? = nil, copyOf: (spec: RenditionSpec, source: MediaInfo)? = nil
    ) async throws -> MediaInfo {
        let outURL = URL(fileURLWithPath: output)
        let dir = outURL.deletingLastPathComponent()
        if result.timedOut || result.status != 0 { early?.cancel() }
        if result.timedOut {
            try? FileManager.default.removeItem(atPath: tmp)
            throw OmniError(.conversionTimeout, "ffmpeg took longer than \(Int(timeout.seconds)) s and was stopped")
        }
        guard result.status == 0 else {
            try? FileManager.default.removeItem(atPath: tmp)
            let tail = result.stderr.split(separator: "\n").suffix(5).joined(separator: " | ")
            if result.stderr.contains("No space left on device") {
                throw OmniError(.diskFull, "the disk holding \(dir.path) is full: \(tail)")
            }
            throw OmniError(.ffmpegFailed, "ffmpeg exited with status \(result.status): \(tail)")
        }
        let info = try await probe(
            rendition: tmp, displayName: outURL.lastPathComponent, early: early, profile: profile, planner: planner, copyOf: copyOf)
        if let profile {
            let check = planner.plan(info, for: profile)
            if check.kind != .pass {
                try? FileManager.default.removeItem(atPath: tmp)
                throw OmniError(.renditionInvalid, "the converted file still does not meet \(profile.name): \(check.reasons.joined(separator: "; "))")
            }
        }
        guard rename(tmp, output) == 0 else {
            try? FileManager.default.removeItem(atPath: tmp)
            throw OmniError(.ffmpegFailed, "cannot rename the rendition into place at \(output)")
        }
        onProgress(Progress(fraction: 1, speed: nil))
        return info
    }
}

extension Converter {
    /// The rendition's probe: a copy's own boxes read against its source when they match it and meet the
    /// profile, or the early ffprobe's answer when it has one that meets the profile, else ffprobe run on
    /// the file as for any input — so a rendition is never refused on a shortcut's answer alone.
    func probe(
        rendition tmp: String, displayName: String, early: RenditionProbe?, profile: Profile?, planner: Planner,
        copyOf: (spec: RenditionSpec, source: MediaInfo)? = nil
    ) async throws -> MediaInfo {
        if let copyOf, let info = CopiedRendition.info(path: tmp, displayName: displayName, spec: copyOf.spec, source: copyOf.source),
            profile.map({ planner.plan(info, for: $0).kind == .pass }) ?? true
        {
            return info
        }
        if let early {
            if let checked = try? prober.precheck(path: tmp, displayName: displayName) {
                if let answer = await early.finish(path: tmp),
                    let info = try? prober.interpret(answer, path: tmp, displayName: displayName, checked: checked, streamed: true),
                    profile.map({ planner.plan(info, for: $0).kind == .pass }) ?? true
                {
                    return info
                }
            } else {
                early.cancel()
            }
        }
        return try await prober.probe(path: tmp, displayName: displayName)
    }
}

/// Reads ffmpeg's `-progress` key=value blocks.
final class ProgressParser: @unchecked Sendable {
    private let durationS: Double
    private let onProgress: @Sendable (Converter.Progress) -> Void
    private let lock = NSLock()
    private var outTimeUs: Double = 0
    private var speed: String?

    init(durationS: Double, onProgress: @escaping @Sendable (Converter.Progress) -> Void) {
        self.durationS = durationS
        self.onProgress = onProgress
    }

    func feed(_ raw: String) {
        let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let eq = line.firstIndex(of: "=") else { return }
        let key = line[..<eq], value = String(line[line.index(after: eq)...])
        lock.lock()
        switch key {
        case "out_time_us", "out_time_ms": if let v = Double(value) { outTimeUs = v }
        case "speed": speed = value
        case "progress":
            let fraction = durationS > 0 ? min(1, outTimeUs / 1_000_000 / durationS) : 0
            let s = speed
            lock.unlock()
            onProgress(Converter.Progress(fraction: fraction, speed: s))
            return
        default: break
        }
        lock.unlock()
    }
}

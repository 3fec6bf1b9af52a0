import Foundation
import OmniPostCore

/// Runs ffprobe once per file and turns its answer into `MediaInfo`, or into a precise reason:
/// a text file named .mp4, a truncated file, audio only, and no decodable video each get their own code.
package struct Prober: Sendable {
    let tools: ToolRunner

    package init(tools: ToolRunner = ToolRunner()) { self.tools = tools }

    package func probe(path: String, displayName: String) async throws -> MediaInfo {
        let checked = try precheck(path: path, displayName: displayName)
        // `file:` keeps a name that starts with a dash or holds a colon from being read as an option or protocol.
        let result = try await tools.run("ffprobe", Self.arguments(input: "file:" + path), timeout: .seconds(60))
        return try interpret(result, path: path, displayName: displayName, checked: checked)
    }

    /// ffprobe's command line for one input.
    static func arguments(input: String) -> [String] {
        ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", input]
    }

    /// What is known of a file before ffprobe is asked: its size and what its first bytes say it is.
    struct Checked {
        var size: Int64
        var kind: ContainerSniff.Kind
    }

    /// The answers given without ffprobe: not a regular file, empty, unreadable, an image, a truncated
    /// container, text or zeros.
    func precheck(path: String, displayName: String) throws -> Checked {
        // Never hand ffprobe a FIFO or device: it would block on it until the timeout.
        try UserFile.checkRegular(path: path, displayName: displayName)
        let attrs = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (attrs?[.size] as? NSNumber)?.int64Value ?? 0
        if size == 0 { throw OmniError(.emptyFile, "\(displayName) is empty (0 bytes)", at: SourceLocation(file: displayName)) }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw OmniError(.unreadable, "\(displayName) cannot be read (permission denied)", at: SourceLocation(file: displayName))
        }
        let where_ = SourceLocation(file: displayName)
        // By content, not by name: a text file called .mp4 is not a video, and an MP4 whose boxes run
        // past the end of the file is a copy that stopped early, even when ffprobe would read its header.
        let kind = ContainerSniff.kind(path: path)
        if kind == .image {
            throw OmniError(.notAVideo, "\(displayName) is a still image (checked by content, not by name), not a video", at: where_)
        }
        // MP4 boxes running past the end of the file, a header whose index points at media that is not
        // there (closed after `moov`, the rest never came), a Matroska segment longer than the file: a copy
        // that stopped early — ffprobe would read the header happily.
        if kind == .isoBMFF || kind == .matroska, case .incomplete(let why) = Completeness.video(path: path) {
            throw OmniError(.truncatedFile, "\(displayName) is truncated or incomplete: \(why) (an incomplete copy?)", at: where_)
        }
        // Text, or nothing but zeros (a file reserved with `truncate -s 100G` and never written), is no video container ffprobe
        // reads — and a text file could be a playlist that ffprobe would follow. Answered from the first
        // 4 KiB, without a process: a burst of junk files costs microseconds each, not an ffprobe each.
        if kind == .unknown, let why = ContainerSniff.plainly(path: path) {
            throw OmniError(.notAVideo, "\(displayName) is \(why) (checked by content), not a video", at: where_)
        }
        return Checked(size: size, kind: kind)
    }

    /// ffprobe's answer about the file at `path` as `MediaInfo`, or the reason it is no video. `streamed`:
    /// ffprobe read the file's bytes from a pipe, where it cannot learn the file's size (nor the bit rate it
    /// derives from it): both are taken from the file, as ffprobe computes them from a file it opens.
    func interpret(_ result: ToolRunner.Result, path: String, displayName: String, checked: Checked, streamed: Bool = false) throws -> MediaInfo {
        let (size, kind) = (checked.size, checked.kind)
        let where_ = SourceLocation(file: displayName)
        guard result.status == 0 else {
            if kind == .unknown {
                throw OmniError(.notAVideo, "\(displayName) is not a video file (its content is not a known video container)", at: where_)
            }
            let err = result.stderr.lowercased()
            if err.contains("moov atom not found") || err.contains("truncat") || err.contains("end of file") {
                throw OmniError(.truncatedFile, "\(displayName) is incomplete or truncated (\(result.lastLine))", at: where_)
            }
            if err.contains("invalid data found") {
                throw OmniError(.notAVideo, "\(displayName) is not a video file ffprobe can read", at: where_)
            }
            throw OmniError(.probeFailed, "ffprobe could not read \(displayName): \(result.lastLine)", at: where_)
        }
        var out: FFprobeOutput
        do { out = try JSONDecoder().decode(FFprobeOutput.self, from: Data(result.stdout.utf8)) } catch {
            throw OmniError(.probeFailed, "ffprobe's answer for \(displayName) was not understood", at: where_, underlying: error)
        }
        if streamed {
            out.format?.size = String(size)
            // As libavformat computes it: bytes × 8 over the duration in microseconds (what ffprobe printed, to the microsecond).
            if let d = Double(out.format?.duration ?? ""), d > 0, d < 1e12 {
                out.format?.bit_rate = String(Int(Double(size) * 8.0 * 1e6 / (d * 1e6).rounded()))
            }
        }
        let streams = out.streams ?? []
        let ext = (displayName as NSString).pathExtension.lowercased()
        let formatName = out.format?.format_name ?? ""
        guard let v = streams.first(where: { $0.codec_type == "video" && $0.disposition?["attached_pic"] != 1 }) else {
            if streams.contains(where: { $0.codec_type == "audio" }) {
                throw OmniError(.noVideoStream, "\(displayName) has audio but no video stream", at: where_)
            }
            throw OmniError(.notAVideo, "\(displayName) has no video stream (format: \(formatName.isEmpty ? "unknown" : formatName))", at: where_)
        }
        guard let codec = v.codec_name, let coded = v.width, let h = v.height, coded > 0, h > 0 else {
            throw OmniError(.undecodableVideo, "\(displayName) has a video stream that cannot be decoded (no codec or size)", at: where_)
        }
        let rotation = Self.rotation(v)
        let swap = abs(rotation) % 180 == 90
        let sar = Self.rate(v.sample_aspect_ratio?.replacingOccurrences(of: ":", with: "/")).flatMap { abs($0 - 1) > 0.001 ? $0 : nil }
        let w = sar.flatMap { Self.int((Double(coded) * $0 / 2).rounded()).map { $0 * 2 } } ?? coded
        let fps = Self.rate(v.avg_frame_rate) ?? Self.rate(v.r_frame_rate) ?? 0
        let a = streams.first { $0.codec_type == "audio" }
        let duration = Double(out.format?.duration ?? "").flatMap { $0.isFinite && $0 >= 0 ? $0 : nil } ?? 0
        let container = Self.container(formatName: formatName, ext: ext)
        return MediaInfo(
            formatName: formatName, container: container, durationS: duration,
            sizeBytes: Int64(out.format?.size ?? "") ?? size, bitRate: Int(out.format?.bit_rate ?? ""),
            video: MediaInfo.Video(
                codec: codec, width: swap ? h : w, height: swap ? w : h, pixelFormat: v.pix_fmt ?? "unknown",
                fps: fps, rotation: rotation, bitRate: Int(v.bit_rate ?? ""), sar: sar,
                profile: v.profile, colour: Self.colour(v), dolbyVision: v.side_data_list?.compactMap(\.dv_profile).first,
                variableFrameRate: Self.variableRate(v), fieldOrder: v.field_order.flatMap { $0 == "unknown" ? nil : $0 }),
            audio: a.map {
                MediaInfo.Audio(
                    codec: $0.codec_name ?? "unknown", sampleRate: Int($0.sample_rate ?? "") ?? 0, channels: $0.channels ?? 0,
                    channelLayout: $0.channel_layout)
            },
            moovFirst: ["mp4", "mov"].contains(container) ? MoovCheck.moovFirst(path: path) : nil)
    }

    /// A Double from a file's metadata as an Int, or nil when it is not finite or does not fit
    /// (`Int(Double)` traps on those, and these numbers come from user bytes).
    static func int(_ d: Double) -> Int? {
        guard d.isFinite, d > -1e15, d < 1e15 else { return nil }
        return Int(d)
    }

    static func rate(_ text: String?) -> Double? {
        guard let text else { return nil }
        let parts = text.split(separator: "/")
        if parts.count == 2, let n = Double(parts[0]), let d = Double(parts[1]), d > 0, n > 0, (n / d).isFinite { return n / d }
        return Double(text).flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
    }

    static func rotation(_ s: FFprobeOutput.Stream) -> Int {
        if let r = s.side_data_list?.compactMap(\.rotation).first, let i = int(r.rounded()) { return i % 360 }
        if let t = s.tags?["rotate"], let r = Int(t) { return r % 360 }
        return 0
    }

    /// The stream's colour tags; "unknown"/"unspecified" count as untagged.
    static func colour(_ s: FFprobeOutput.Stream) -> MediaInfo.Colour? {
        func tag(_ t: String?) -> String? { t.flatMap { ["unknown", "unspecified", "reserved", ""].contains($0) ? nil : $0 } }
        let c = MediaInfo.Colour(primaries: tag(s.color_primaries), transfer: tag(s.color_transfer), matrix: tag(s.color_space), range: tag(s.color_range))
        return c.isEmpty ? nil : c
    }

    /// Variable frame rate: the average rate is more than 1% off the stream's base rate (phones record
    /// 30 fps nominal with frames dropped or timed by the sensor).
    static func variableRate(_ s: FFprobeOutput.Stream) -> Bool? {
        guard let avg = rate(s.avg_frame_rate), let base = rate(s.r_frame_rate) else { return nil }
        return abs(avg - base) / base > 0.01
    }

    static func container(formatName: String, ext: String) -> String {
        if formatName.contains("mp4") || formatName.contains("mov") { return ext == "mov" ? "mov" : ext == "3gp" || ext == "3g2" ? "3gp" : "mp4" }
        if formatName.contains("webm") || formatName.contains("matroska") { return ext == "webm" ? "webm" : "mkv" }
        if formatName.contains("avi") { return "avi" }
        return formatName.split(separator: ",").first.map(String.init) ?? "unknown"
    }
}

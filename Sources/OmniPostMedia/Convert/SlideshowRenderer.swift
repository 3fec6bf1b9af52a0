import Foundation
import OmniPostCore

/// Renders a slideshow to a video for one rendition spec: every image scaled into the frame and padded,
/// shown for its seconds, crossfaded (xfade) or cut (concat), with the soundtrack padded or trimmed to
/// length (or a silent track where the target needs audio). Same progress, timeout and verification
/// as any conversion.
package struct SlideshowRenderer: Sendable {
    package struct Input: Sendable {
        package var images: [(path: String, seconds: Double)]
        package var crossfade: Double
        package var audio: String?
        package init(images: [(path: String, seconds: Double)], crossfade: Double, audio: String?) {
            self.images = images
            self.crossfade = crossfade
            self.audio = audio
        }
        var duration: Double { images.reduce(0) { $0 + $1.seconds } - crossfade * Double(max(0, images.count - 1)) }
    }

    let tools: ToolRunner
    package init(tools: ToolRunner = ToolRunner()) { self.tools = tools }

    package static func arguments(_ input: Input, spec: RenditionSpec, output: String) -> [String] {
        let w = spec.width, h = spec.height, fps = spec.fps ?? 30
        var a = ["-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-progress", "pipe:1", "-nostats"]
        for img in input.images {
            a += ["-loop", "1", "-framerate", String(fps), "-t", String(img.seconds), "-i", "file:" + img.path]
        }
        let n = input.images.count
        var filters: [String] = (0..<n).map {
            "[\($0):v]scale=\(w):\(h):force_original_aspect_ratio=decrease,pad=\(w):\(h):(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,fps=\(fps),format=yuv420p[v\($0)]"
        }
        if input.crossfade > 0 {
            var last = "v0", offset = 0.0
            for i in 1..<n {
                offset += input.images[i - 1].seconds - input.crossfade
                let out = i == n - 1 ? "v" : "x\(i)"
                filters.append("[\(last)][v\(i)]xfade=transition=fade:duration=\(input.crossfade):offset=\(offset)[\(out)]")
                last = out
            }
        } else {
            filters.append((0..<n).map { "[v\($0)]" }.joined() + "concat=n=\(n):v=1:a=0[v]")
        }
        // Every input before any output option: the soundtrack (or silence) is input n.
        if let audio = input.audio {
            a += ["-i", "file:" + audio]
        } else if spec.addSilentAudio {
            a += ["-f", "lavfi", "-i", "anullsrc=channel_layout=stereo:sample_rate=48000"]
        }
        a += ["-filter_complex", filters.joined(separator: ";"), "-map", "[v]"]
        if input.audio != nil { a += ["-map", "\(n):a:0", "-af", "apad"] } else if spec.addSilentAudio { a += ["-map", "\(n):a:0"] }
        a += [
            "-c:v", "libx264", "-preset", spec.preset, "-crf", String(spec.crf), "-maxrate", "\(spec.maxrateKbps)k",
            "-bufsize", "\(spec.maxrateKbps * 2)k", "-pix_fmt", "yuv420p", "-profile:v", "high"
        ]
        if input.audio != nil || spec.addSilentAudio { a += ["-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2"] }
        a += ["-t", String(format: "%.3f", input.duration), "-movflags", "+faststart", "-f", "mp4", "file:" + output]
        return a
    }

    package func render(
        _ input: Input, spec: RenditionSpec, output: String, verifyAgainst profile: Profile?, planner: Planner,
        onProgress: @escaping @Sendable (Converter.Progress) -> Void = { _ in }
    ) async throws -> MediaInfo {
        let outURL = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: outURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        let tmp = Converter.temporaryName(for: outURL)
        let parser = ProgressParser(durationS: input.duration, onProgress: onProgress)
        let timeout = Duration.seconds(max(120, input.duration * 20))
        let r = try await tools.run("ffmpeg", Self.arguments(input, spec: spec, output: tmp), timeout: timeout, keepStdout: false) { parser.feed($0) }
        return try await Converter(tools: tools).accept(result: r, tmp: tmp, output: output, timeout: timeout, profile: profile, planner: planner, onProgress: onProgress)
    }
}

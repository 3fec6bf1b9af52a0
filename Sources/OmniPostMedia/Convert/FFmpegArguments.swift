/// Builds ffmpeg's argument array for a rendition. Kept apart from running it so the benchmark can
/// time the same arguments with a bare ffmpeg and the tests can read them.
public enum FFmpegArguments {
    public static func build(input: String, output: String, spec: RenditionSpec, progress: Bool = true) -> [String] {
        var a = ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
        if progress { a += ["-progress", "pipe:1", "-nostats"] }
        // `file:` keeps a name starting with a dash or containing a colon from being read as an option or protocol.
        a += ["-i", "file:" + input]
        switch spec.kind {
        case .remux:
            a += ["-map", "0:v:0", "-map", "0:a:0?", "-c", "copy", "-movflags", "+faststart"]
        case .transcode:
            if spec.addSilentAudio {
                a += ["-f", "lavfi", "-i", "anullsrc=channel_layout=stereo:sample_rate=48000"]
            }
            let w = spec.width, h = spec.height
            var filters: [String]
            switch spec.geometry {
            case .scale:
                filters = ["scale=\(w):\(h)"]
            case .pad:
                filters = ["scale=\(w):\(h):force_original_aspect_ratio=decrease", "pad=\(w):\(h):(ow-iw)/2:(oh-ih)/2:color=black"]
            case .crop:
                filters = ["scale=\(w):\(h):force_original_aspect_ratio=increase", "crop=\(w):\(h)"]
            }
            if spec.squarePixels { filters.insert("scale=trunc(iw*sar/2)*2:ih,setsar=1", at: 0) }
            filters.append("setsar=1")
            if let fps = spec.fps { filters.append("fps=\(fps)") }
            filters.append("format=yuv420p")
            a += ["-map", "0:v:0"]
            if spec.addSilentAudio { a += ["-map", "1:a:0", "-shortest"] } else if spec.hasAudio { a += ["-map", "0:a:0"] }
            a += ["-vf", filters.joined(separator: ","),
                  "-c:v", "libx264", "-preset", spec.preset, "-crf", String(spec.crf),
                  "-maxrate", "\(spec.maxrateKbps)k", "-bufsize", "\(spec.maxrateKbps * 2)k",
                  "-pix_fmt", "yuv420p", "-profile:v", "high"]
            if spec.loudnorm && spec.hasAudio { a += ["-af", "loudnorm=I=-14:TP=-1.5:LRA=11"] }
            if spec.hasAudio || spec.addSilentAudio { a += ["-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2"] }
            a += ["-movflags", "+faststart"]
        }
        a += ["-f", "mp4", "file:" + output]
        return a
    }
}

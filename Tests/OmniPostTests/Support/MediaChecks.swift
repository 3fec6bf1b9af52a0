import Foundation
import OmniPostCore
import OmniPostMedia

/// Measurements of real files with the real ffmpeg/ffprobe: what a rendition *is*, not what ffmpeg said.
enum MediaChecks {
    /// A clip made by ffmpeg from lavfi sources with `args` (everything between the inputs and the
    /// output), cached for the run by name. Runs off the async pool.
    static func make(_ name: String, inputs: [String], _ args: [String]) async throws -> URL {
        let out = Clips.cache.appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: out.path) { return out }
        let tmp = Clips.cache.appendingPathComponent(".tmp-\(UUID().uuidString.prefix(6))-" + name)
        try await offPool { try Clips.run("ffmpeg", ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"] + inputs + args + [tmp.path]) }
        try? FileManager.default.removeItem(at: out)
        try FileManager.default.moveItem(at: tmp, to: out)
        return out
    }

    static func output(_ args: [String], stderr: Bool = false) async throws -> String {
        try await offPool {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = args
            let pipe = Pipe()
            if stderr { p.standardError = pipe; p.standardOutput = FileHandle.nullDevice } else { p.standardOutput = pipe; p.standardError = FileHandle.nullDevice }
            try p.run()
            let d = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return String(decoding: d, as: UTF8.self)
        }
    }

    /// md5 of the video stream's packets: equal means the video was copied, not re-encoded.
    static func videoPacketsMD5(_ u: URL) async throws -> String {
        try await output(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", u.path, "-map", "0:v", "-c", "copy", "-f", "md5", "-"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Mean luma (0–255 scale) over every frame, by ffmpeg's signalstats, after conversion to 8-bit.
    static func meanLuma(_ u: URL) async throws -> Double {
        let out = try await output([
            "ffmpeg", "-nostdin", "-loglevel", "error", "-i", u.path, "-vf",
            "format=yuv420p,signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=-", "-f", "null", "-"
        ])
        let values = out.split(separator: "\n").compactMap { line -> Double? in
            guard let r = line.range(of: "YAVG=") else { return nil }
            return Double(line[r.upperBound...])
        }
        return values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }

    /// Frame rate as the stream's base rate and as its average: equal for constant-rate video.
    static func rates(_ u: URL) async throws -> (base: String, average: String) {
        let out = try await output(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=r_frame_rate,avg_frame_rate", "-of", "csv=p=0", u.path])
        let parts = out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").map(String.init)
        return (parts.first ?? "", parts.count > 1 ? parts[1] : "")
    }

    static var hasLibVMAF: Bool {
        get async { (try? await output(["ffmpeg", "-hide_banner", "-filters"]).contains("libvmaf")) ?? false }
    }
}

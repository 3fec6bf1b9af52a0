import Foundation
import OmniPostCore

/// Covers (thumbnails): a frame taken from the clip (`cover: {at_ms}`) or a supplied image
/// (`cover: {file}`), checked by content, and written as a JPEG that fits every platform that takes
/// one (the strictest is YouTube's thumbnails.set: JPEG/PNG, at most 2 MB; 1280 px wide is plenty).
package struct CoverMaker: Sendable {
    package static let maxInputBytes: Int64 = 20 * 1_000_000
    package static let maxOutputBytes: Int64 = 2 * 1_000_000
    package static let maxSide = 1280

    let tools: ToolRunner
    package init(tools: ToolRunner = ToolRunner()) { self.tools = tools }

    /// Checks a supplied image by its bytes, not its name: JPEG, PNG or WebP, at most 20 MB, sane dimensions.
    package func checkImage(path: String, displayName: String) async throws -> (width: Int, height: Int) {
        let where_ = SourceLocation(file: displayName)
        let h = try UserFile.open(path: path, displayName: displayName)
        let head = [UInt8]((try? h.read(upToCount: 12)) ?? Data())
        let size = (try? h.seekToEnd()).map(Int64.init) ?? 0
        try? h.close()
        let isJPEG = head.starts(with: [0xFF, 0xD8, 0xFF])
        let isPNG = head.starts(with: [0x89, 0x50, 0x4E, 0x47])
        let isWebP = head.count >= 12 && head[0..<4].elementsEqual("RIFF".utf8) && head[8..<12].elementsEqual("WEBP".utf8)
        guard isJPEG || isPNG || isWebP else {
            throw OmniError(.notAnImage, "\(displayName) is not a JPEG, PNG or WebP image (checked by content, not by name)", at: where_)
        }
        if size > Self.maxInputBytes {
            throw OmniError(.fileTooLarge, "\(displayName) is \(size) bytes; images may be at most \(Self.maxInputBytes) bytes", at: where_)
        }
        let r = try await tools.run(
            "ffprobe",
            [
                "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                "-of", "csv=p=0:s=x", "file:" + path
            ], timeout: .seconds(30))
        let dims = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "x").compactMap { Int($0) }
        guard r.status == 0, dims.count == 2 else {
            throw OmniError(.notAnImage, "\(displayName) could not be decoded as an image", at: where_)
        }
        guard (16...16384).contains(dims[0]), (16...16384).contains(dims[1]) else {
            throw OmniError(.invalidValue, "\(displayName) is \(dims[0])×\(dims[1]); images must be 16–16384 px per side", at: where_)
        }
        return (dims[0], dims[1])
    }

    /// Writes `output` (JPEG): the frame at `atMs` of `clip`, or `image` scaled down to fit.
    package func make(clip: String?, atMs: Int?, image: String?, output: String) async throws {
        let tmp = Converter.temporaryName(for: URL(fileURLWithPath: output))
        var args = ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
        if let image {
            args += ["-i", "file:" + image]
        } else if let clip, let atMs {
            args += ["-ss", String(format: "%.3f", Double(atMs) / 1000), "-i", "file:" + clip]
        } else {
            throw OmniError(.internalError, "a cover needs a clip and a time, or an image")
        }
        args += ["-frames:v", "1", "-vf", "scale='min(\(Self.maxSide),iw)':-2", "-q:v", "3", "-f", "image2", "file:" + tmp]
        let r = try await tools.run("ffmpeg", args, timeout: .seconds(60), keepStdout: false)
        let size = ((try? FileManager.default.attributesOfItem(atPath: tmp))?[.size] as? NSNumber)?.int64Value ?? 0
        guard r.status == 0, size > 0 else {
            try? FileManager.default.removeItem(atPath: tmp)
            throw OmniError(.ffmpegFailed, "the cover could not be made: \(r.lastLine)")
        }
        if size > Self.maxOutputBytes {
            try? FileManager.default.removeItem(atPath: tmp)
            throw OmniError(.fileTooLarge, "the cover came out at \(size) bytes, over the \(Self.maxOutputBytes)-byte limit")
        }
        guard rename(tmp, output) == 0 else { throw OmniError(.internalError, "cannot rename the cover into place") }
    }
}

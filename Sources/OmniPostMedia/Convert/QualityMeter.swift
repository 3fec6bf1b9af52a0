import Foundation
import OmniPostCore

/// Measures a rendition against its source with ffmpeg's own metrics — the test suite holds each
/// profile's SSIM floor with it, and `make bench` prints it per profile.
package struct QualityMeter: Sendable {
    let tools: ToolRunner
    package init(tools: ToolRunner = ToolRunner()) { self.tools = tools }

    /// SSIM over all planes, the rendition scaled back to the source's display size (`width`×`height`).
    package func ssim(rendition: String, source: String, width: Int, height: Int) async throws -> Double {
        let r = try await tools.run(
            "ffmpeg",
            [
                "-nostdin", "-hide_banner", "-i", "file:" + rendition, "-i", "file:" + source, "-lavfi",
                "[0:v]scale=\(width):\(height):flags=bicubic,format=yuv420p,setsar=1[a];[1:v]format=yuv420p,setsar=1[b];[a][b]ssim",
                "-f", "null", "-"
            ], timeout: .seconds(600), keepStdout: false)
        // The summary is ffmpeg's last stderr line: "[Parsed_ssim_…] SSIM Y:… U:… V:… All:0.987 (18.9)".
        guard r.status == 0, let at = r.stderr.range(of: "All:", options: .backwards),
            let value = Double(r.stderr[at.upperBound...].prefix { $0 == "." || $0.isNumber })
        else {
            throw OmniError(.ffmpegFailed, "ffmpeg could not measure SSIM: \(r.lastLine)")
        }
        return value
    }
}

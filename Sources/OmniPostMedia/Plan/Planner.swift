import Foundation
import OmniPostCore

/// Decides, per target profile, what a clip needs: pass (send as is), remux, transcode, or reject —
/// always with the reason and the limit, e.g. `duration_out_of_range: 241 s > 180 s`.
public struct Planner: Sendable {
    public struct Decision: Sendable, Equatable {
        public var kind: PlanKind
        public var reasons: [String]
        public var spec: RenditionSpec?
        public var rejectCode: ReasonCode?
        public var rejectMessage: String?
    }

    public let aspectPolicy: AspectPolicy
    public let crf: Int
    public let preset: String
    public let loudnorm: Bool

    public init(aspectPolicy: AspectPolicy = .fit, crf: Int = 23, preset: String = "veryfast", loudnorm: Bool = false) {
        self.aspectPolicy = aspectPolicy
        self.crf = crf
        self.preset = preset
        self.loudnorm = loudnorm
    }

    public init(_ c: ConvertConfig) {
        self.init(aspectPolicy: c.aspect, crf: c.crf, preset: c.preset, loudnorm: c.loudnorm)
    }

    public func plan(_ info: MediaInfo, for profile: Profile) -> Decision {
        guard let v = info.video else {
            return reject(.noVideoStream, "the clip has no video stream")
        }
        // Limits no conversion can fix.
        if !profile.durationS.contains(info.durationS) {
            let d = Self.fmt(info.durationS)
            let limit = info.durationS > profile.durationS.max ? "> \(Self.fmt(profile.durationS.max)) s" : "< \(Self.fmt(profile.durationS.min)) s"
            return reject(.durationOutOfRange, "\(d) s \(limit) (\(profile.name) accepts \(Self.fmt(profile.durationS.min))–\(Self.fmt(profile.durationS.max)) s)")
        }
        var transcode: [String] = []
        var remux: [String] = []
        if !profile.videoCodecs.isEmpty, !profile.videoCodecs.contains(v.codec) { transcode.append("video codec \(v.codec) not in \(profile.videoCodecs.joined(separator: "/"))") }
        if !profile.pixelFormats.isEmpty, !profile.pixelFormats.contains(v.pixelFormat) { transcode.append("pixel format \(v.pixelFormat)") }
        if !profile.width.contains(Double(v.width)) || !profile.height.contains(Double(v.height)) {
            transcode.append("size \(v.width)×\(v.height) outside \(Int(profile.width.min))–\(Int(profile.width.max))×\(Int(profile.height.min))–\(Int(profile.height.max))")
        }
        let aspectOK = profile.aspect.contains(v.aspect)
        // A clip that keeps its shape is never upscaled; one smaller than the platform's minimum can then
        // not be fixed. (A clip of another shape is rendered into the profile's full frame instead.)
        if aspectOK, Double(v.width) < profile.width.min || Double(v.height) < profile.height.min {
            return reject(.resolutionTooLow, "\(v.width)×\(v.height) is below \(profile.name)'s minimum of \(Int(profile.width.min))×\(Int(profile.height.min)); OmniPost does not upscale")
        }
        if !aspectOK {
            if aspectPolicy == .reject {
                return reject(.aspectRejected, "aspect ratio \(Self.fmt(v.aspect)) is outside \(Self.fmt(profile.aspect.min))–\(Self.fmt(profile.aspect.max)) and the pipeline's aspect policy is reject")
            }
            transcode.append("aspect \(Self.fmt(v.aspect)) outside \(Self.fmt(profile.aspect.min))–\(Self.fmt(profile.aspect.max))")
        }
        if v.fps > 0, !profile.fps.contains(v.fps) { transcode.append("frame rate \(Self.fmt(v.fps)) outside \(Self.fmt(profile.fps.min))–\(Self.fmt(profile.fps.max))") }
        if let br = v.bitRate ?? info.bitRate, br / 1000 > profile.maxVideoKbps { transcode.append("bitrate \(br / 1000) kb/s > \(profile.maxVideoKbps)") }
        if v.rotation != 0, !transcode.isEmpty { transcode.append("rotation \(v.rotation)°") }
        if let a = info.audio {
            if !profile.audioCodecs.isEmpty, !profile.audioCodecs.contains(a.codec) { transcode.append("audio codec \(a.codec)") }
            if !profile.audio.sampleRates.isEmpty, !profile.audio.sampleRates.contains(a.sampleRate) { transcode.append("audio rate \(a.sampleRate) Hz") }
            if a.channels > profile.audio.maxChannels { transcode.append("\(a.channels) audio channels") }
        } else if profile.audio.required {
            transcode.append("no audio track (required)")
        }
        if !profile.containers.contains(info.container) { remux.append("container \(info.container)") }
        if profile.moovFirst, info.moovFirst == false { remux.append("moov atom after media data") }

        if transcode.isEmpty, info.sizeBytes > profile.maxBytes {
            transcode.append("size \(info.sizeBytes) bytes > \(profile.maxBytes)")
        }
        if transcode.isEmpty && remux.isEmpty {
            return Decision(kind: .pass, reasons: [], spec: nil)
        }
        if transcode.isEmpty {
            let spec = RenditionSpec(kind: .remux, width: v.width, height: v.height, geometry: .scale, fps: nil,
                                     maxrateKbps: profile.maxVideoKbps, crf: crf, preset: preset, addSilentAudio: false,
                                     hasAudio: info.audio != nil)
            return Decision(kind: .remux, reasons: remux, spec: spec)
        }
        let (w, h, geometry) = geometryFor(v, profile: profile, aspectOK: aspectOK)
        var fps: Double? = nil
        let maxFps = min(profile.fps.max, profile.render.fpsMax)
        if v.fps > maxFps + 0.01 { fps = [60, 50, 30, 25, 24].first { $0 <= maxFps && profile.fps.contains($0) } ?? maxFps }
        else if v.fps > 0, v.fps < profile.fps.min - 0.01 { fps = profile.fps.contains(30) ? 30 : profile.fps.min }
        else if v.fps <= 0 { fps = 30 }
        var spec = RenditionSpec(
            kind: .transcode, width: w, height: h, geometry: geometry, fps: fps,
            maxrateKbps: min(profile.maxVideoKbps, 20000), crf: crf, preset: preset,
            addSilentAudio: info.audio == nil && profile.audio.required, hasAudio: info.audio != nil,
            loudnorm: loudnorm && info.audio != nil)
        spec.squarePixels = v.sar != nil
        return Decision(kind: .transcode, reasons: transcode + remux, spec: spec)
    }

    /// A slideshow has no clip to keep: it is rendered straight to the profile's frame and frame rate.
    public func planSlideshow(durationS: Double, hasAudio: Bool, for profile: Profile) -> Decision {
        if !profile.durationS.contains(durationS) {
            return reject(.durationOutOfRange, "the slideshow runs \(Self.fmt(durationS)) s; \(profile.name) accepts \(Self.fmt(profile.durationS.min))–\(Self.fmt(profile.durationS.max)) s")
        }
        let fps = [30.0, 25, 24, 60].first { profile.fps.contains($0) && $0 <= profile.render.fpsMax } ?? profile.fps.min
        var spec = RenditionSpec(
            kind: .transcode, width: profile.render.width, height: profile.render.height, geometry: .pad, fps: fps,
            maxrateKbps: min(profile.maxVideoKbps, 20000), crf: crf, preset: preset,
            addSilentAudio: !hasAudio && profile.audio.required, hasAudio: hasAudio, loudnorm: false)
        spec.slideshow = true
        return Decision(kind: .transcode, reasons: ["slideshow"], spec: spec)
    }

    /// Output size: keep the clip's shape when the profile accepts it, scaled into the render box
    /// (never upscaled); otherwise fill the profile's box exactly, padded (fit) or cropped (fill).
    func geometryFor(_ v: MediaInfo.Video, profile: Profile, aspectOK: Bool) -> (Int, Int, RenditionSpec.Geometry) {
        let r = profile.render
        if aspectOK {
            // Orient the box like the clip: a portrait clip into a landscape-rendering profile stays portrait.
            let long = max(r.width, r.height), short = min(r.width, r.height)
            let (bw, bh) = v.width >= v.height ? (long, short) : (short, long)
            let bwc = min(Double(bw), profile.width.max), bhc = min(Double(bh), profile.height.max)
            let scale = min(1.0, bwc / Double(v.width), bhc / Double(v.height))
            return (Self.even(Double(v.width) * scale), Self.even(Double(v.height) * scale), .scale)
        }
        return (r.width, r.height, aspectPolicy == .fill ? .crop : .pad)
    }

    static func even(_ x: Double) -> Int { max(2, (x.isFinite ? Int(min(max(x, 0), 1e9).rounded()) : 2) & ~1) }

    func reject(_ code: ReasonCode, _ message: String) -> Decision {
        Decision(kind: .reject, reasons: [message], spec: nil, rejectCode: code, rejectMessage: message)
    }

    public static func fmt(_ x: Double) -> String {
        guard x.isFinite, abs(x) < 1e15 else { return String(describing: x) }
        return x == x.rounded() ? String(Int(x)) : String(format: "%.2f", x)
    }
}

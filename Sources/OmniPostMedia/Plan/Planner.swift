import Foundation
import OmniPostCore

/// Decides, per target profile, what a clip needs: pass (send as is), remux, transcode, or reject —
/// always with the reason and the limit, e.g. `duration_out_of_range: 241 s > 180 s`.
package struct Planner: Sendable {
    package struct Decision: Sendable, Equatable {
        package var kind: PlanKind
        package var reasons: [String]
        package var spec: RenditionSpec?
        package var rejectCode: ReasonCode?
        package var rejectMessage: String?
    }

    package let aspectPolicy: AspectPolicy
    /// The pipeline's own x264/x265 quality and speed; nil: each profile's recommendation.
    package let crf: Int?
    package let preset: String?
    package let loudnorm: Bool

    package init(aspectPolicy: AspectPolicy = .fit, crf: Int? = nil, preset: String? = nil, loudnorm: Bool = false) {
        self.aspectPolicy = aspectPolicy
        self.crf = crf
        self.preset = preset
        self.loudnorm = loudnorm
    }

    package init(_ c: ConvertConfig) {
        self.init(aspectPolicy: c.aspect, crf: c.crf, preset: c.preset, loudnorm: c.loudnorm)
    }

    /// The least invasive plan: each stream is checked against what the profile *accepts*; only a
    /// refused video stream is re-encoded, only refused audio is re-encoded, only a refused container is
    /// rewritten. What a conversion produces comes from what the profile *recommends*.
    package func plan(_ info: MediaInfo, for profile: Profile) -> Decision {
        guard let v = info.video else {
            return reject(.noVideoStream, "the clip has no video stream")
        }
        // Limits no conversion can fix.
        if !profile.durationS.contains(info.durationS) {
            let d = Self.fmt(info.durationS)
            let limit = info.durationS > profile.durationS.max ? "> \(Self.fmt(profile.durationS.max)) s" : "< \(Self.fmt(profile.durationS.min)) s"
            return reject(.durationOutOfRange, "\(d) s \(limit) (\(profile.name) accepts \(Self.fmt(profile.durationS.min))–\(Self.fmt(profile.durationS.max)) s)")
        }
        let p = profile.name
        // 1. The video stream: refused only for what the platform itself refuses.
        var video: [String] = []
        if !profile.videoCodecs.isEmpty, !profile.videoCodecs.contains(v.codec) {
            video.append("video codec \(v.codec) is not one \(p) accepts (\(profile.videoCodecs.joined(separator: "/")))")
        }
        if !profile.pixelFormats.isEmpty, !profile.pixelFormats.contains(v.pixelFormat) {
            video.append("pixel format \(v.pixelFormat) (\(v.bitDepth)-bit\(PixelFormat.chroma(v.pixelFormat).map { " \($0)" } ?? "")) is not one \(p) accepts")
        }
        if let hdr = v.hdr {
            if profile.hdrCodecs.isEmpty {
                video.append("HDR (\(hdr == .pq ? "PQ" : "HLG")): \(p) shows SDR only, so it is tone-mapped to BT.709")
            } else if !profile.takesHDR(in: v.codec) {
                video.append("HDR in \(v.codec): \(p) shows HDR only in \(profile.hdrCodecs.joined(separator: "/"))")
            }
        }
        if !profile.width.contains(Double(v.width)) || !profile.height.contains(Double(v.height)) {
            video.append("size \(v.width)×\(v.height) outside \(Int(profile.width.min))–\(Int(profile.width.max))×\(Int(profile.height.min))–\(Int(profile.height.max))")
        }
        let aspectOK = profile.aspect.contains(v.aspect)
        // A clip that keeps its shape is never upscaled; one smaller than the platform's minimum can then
        // not be fixed. (A clip of another shape is rendered into the profile's full frame instead.)
        if aspectOK, Double(v.width) < profile.width.min || Double(v.height) < profile.height.min {
            return reject(.resolutionTooLow, "\(v.width)×\(v.height) is below \(p)'s minimum of \(Int(profile.width.min))×\(Int(profile.height.min)); OmniPost does not upscale")
        }
        if !aspectOK {
            if aspectPolicy == .reject {
                return reject(
                    .aspectRejected,
                    "aspect ratio \(Self.fmt(v.aspect)) is outside \(Self.fmt(profile.aspect.min))–\(Self.fmt(profile.aspect.max)) and the pipeline's aspect policy is reject")
            }
            video.append("aspect \(Self.fmt(v.aspect)) outside \(Self.fmt(profile.aspect.min))–\(Self.fmt(profile.aspect.max))")
        }
        if v.interlaced, profile.progressiveOnly {
            video.append("interlaced (field order \(v.fieldOrder ?? "?")): \(p) takes progressive scan only, so it is deinterlaced")
        }
        if v.fps > 0, !profile.fps.contains(v.fps) { video.append("frame rate \(Self.fmt(v.fps)) outside \(Self.fmt(profile.fps.min))–\(Self.fmt(profile.fps.max))") }
        if let cap = profile.maxVideoKbps, let br = v.bitRate ?? info.bitRate, br / 1000 > cap {
            video.append("bitrate \(br / 1000) kb/s > the \(cap) kb/s \(p) enforces")
        }
        if info.sizeBytes > profile.maxBytes { video.append("size \(info.sizeBytes) bytes > \(profile.maxBytes)") }

        // 2. The audio stream.
        var audio: [String] = []
        var silence = false
        if let a = info.audio {
            if !profile.audioCodecs.isEmpty, !profile.audioCodecs.contains(a.codec) {
                audio.append("audio codec \(a.codec) is not one \(p) accepts (\(profile.audioCodecs.joined(separator: "/")))")
            }
            if !profile.audio.sampleRates.isEmpty, !profile.audio.sampleRates.contains(a.sampleRate) { audio.append("audio rate \(a.sampleRate) Hz") }
            if a.channels > profile.audio.maxChannels { audio.append("\(a.channels) audio channels > \(profile.audio.maxChannels)") }
        } else if profile.audio.required {
            silence = true
            audio.append("no audio track (\(p) requires one): a silent one is added")
        }

        // 3. The container.
        var container: [String] = []
        if !profile.containers.contains(info.container) { container.append("container \(info.container)") }
        if profile.moovFirst, info.moovFirst == false { container.append("moov atom after media data") }

        if video.isEmpty && audio.isEmpty && container.isEmpty {
            return Decision(kind: .pass, reasons: [], spec: nil)
        }
        // Copy the video when it is accepted and some accepted container can carry it with the audio.
        if video.isEmpty {
            let audioOut = audio.isEmpty ? nil : audioEncoding(info.audio, silence: silence, profile: profile)
            if let out = copyContainer(info, profile: profile, audioCodec: audioOut?.codec ?? info.audio?.codec) {
                var spec = RenditionSpec(
                    kind: audio.isEmpty ? .remux : .audio, width: v.width, height: v.height, geometry: .scale, fps: nil,
                    maxrateKbps: 0, crf: 0, preset: "", addSilentAudio: silence, hasAudio: info.audio != nil)
                spec.container = out
                if let o = audioOut {
                    spec.audioCodec = o.codec
                    spec.audioKbps = o.kbps
                    spec.audioRate = o.rate
                    spec.audioChannels = o.channels
                    spec.loudnorm = loudnorm && info.audio != nil
                }
                return Decision(kind: audio.isEmpty ? .remux : .audio, reasons: audio + container, spec: spec)
            }
            video.append("no container \(p) accepts can carry \(v.codec) as it is")
        }
        if v.rotation != 0 { video.append("rotation \(v.rotation)° (applied to the pixels)") }
        return Decision(kind: .transcode, reasons: video + audio + container, spec: transcodeSpec(info, v, profile: profile, aspectOK: aspectOK, audioOK: audio.isEmpty))
    }

    /// The video re-encoded per the profile's recommendation: HDR kept (HEVC Main 10) where the platform
    /// shows HDR, tone-mapped to BT.709 where it does not; colour tags carried; audio copied where it fits.
    func transcodeSpec(_ info: MediaInfo, _ v: MediaInfo.Video, profile: Profile, aspectOK: Bool, audioOK: Bool) -> RenditionSpec {
        let rec = profile.recommends
        let (w, h, geometry) = geometryFor(v, profile: profile, aspectOK: aspectOK)
        var fps: Double? = nil
        let maxFps = min(profile.fps.max, rec.fpsMax)
        if v.fps > maxFps + 0.01 {
            fps = [60, 50, 30, 25, 24].first { $0 <= maxFps && profile.fps.contains($0) } ?? maxFps
        } else if v.fps > 0, v.fps < profile.fps.min - 0.01 {
            fps = profile.fps.contains(30) ? 30 : profile.fps.min
        } else if v.fps <= 0 {
            fps = 30
        } else if v.variableFrameRate == true {
            fps = Self.standardRate(v.fps)
        }  // a transcode is constant-rate
        // Under a cap the platform enforces, aim 10% below it with a one-second buffer that starts nearly
        // empty: the rendition's average then stays under the cap however short the clip.
        let cap = profile.maxVideoKbps.map { $0 * 9 / 10 }
        let maxrate = min(rec.maxrateKbps, cap ?? Int.max)
        let bufsize = cap != nil ? min(rec.bufsizeKbps, maxrate) : rec.maxrateKbps > 0 ? Int(Double(rec.bufsizeKbps) * Double(maxrate) / Double(rec.maxrateKbps)) : maxrate * 2
        var spec = RenditionSpec(
            kind: .transcode, width: w, height: h, geometry: geometry, fps: fps,
            maxrateKbps: maxrate, crf: crf ?? rec.crf, preset: preset ?? rec.preset,
            addSilentAudio: info.audio == nil && profile.audio.required, hasAudio: info.audio != nil,
            loudnorm: loudnorm && info.audio != nil)
        spec.squarePixels = v.sar != nil
        // Whatever made the transcode, an interlaced source's frames are deinterlaced before they are scaled.
        spec.deinterlace = v.interlaced ? true : nil
        spec.bufsizeKbps = bufsize
        spec.strictMaxrate = cap != nil ? true : nil
        spec.gopFrames = max(1, Int(((fps ?? v.fps) * rec.gopSeconds).rounded()))
        let container = profile.containers.contains(rec.container) ? rec.container : profile.containers.first { ["mp4", "mov"].contains($0) } ?? "mp4"
        spec.container = container
        let keepHDR =
            v.hdr != nil && profile.takesHDR(in: rec.hdrVideoCodec)
            && (profile.videoCodecs.isEmpty || profile.videoCodecs.contains(rec.hdrVideoCodec))
            && (profile.pixelFormats.isEmpty || profile.pixelFormats.contains("yuv420p10le"))
        if keepHDR {
            spec.videoCodec = rec.hdrVideoCodec
            spec.pixelFormat = "yuv420p10le"
            spec.colour = MediaInfo.Colour(
                primaries: v.colour?.primaries ?? "bt2020", transfer: v.colour?.transfer,
                matrix: v.colour?.matrix ?? "bt2020nc", range: "tv")
        } else {
            spec.videoCodec = profile.videoCodecs.isEmpty || profile.videoCodecs.contains(rec.videoCodec) ? rec.videoCodec : "h264"
            spec.pixelFormat = "yuv420p"
            if v.hdr != nil {
                spec.toneMapFrom = v.colour
                spec.colour = .bt709
            } else if let c = v.colour {
                // SDR keeps its own tags; the output is always limited range (yuvj sources are converted).
                spec.colour = MediaInfo.Colour(primaries: c.primaries, transfer: c.transfer, matrix: c.matrix, range: "tv")
            }
        }
        // Accepted audio is copied, unless the pipeline asked for loudness normalisation of transcoded audio.
        if let a = info.audio, audioOK, !loudnorm, Self.mp4Audio.contains(a.codec) || container == "mov" && Self.movAudio.contains(a.codec) {
            spec.audioCopy = true
        } else if let o = audioEncoding(info.audio, silence: info.audio == nil && profile.audio.required, profile: profile) {
            spec.audioCodec = o.codec
            spec.audioKbps = o.kbps
            spec.audioRate = o.rate
            spec.audioChannels = o.channels
        }
        return spec
    }

    /// Audio codecs an MP4 (and a MOV) rendition carries as they are.
    static let mp4Audio: Set<String> = ["aac", "mp3", "ac3", "eac3", "alac", "opus"]
    static let movAudio: Set<String> = mp4Audio.union(["pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_s16be", "pcm_s24be", "pcm_f32le"])
    /// Video codecs each container we write can carry as they are.
    static let carries: [String: Set<String>] = [
        "mp4": ["h264", "hevc", "av1", "vp9", "mpeg4", "mpeg2video"],
        "mov": ["h264", "hevc", "av1", "vp9", "mpeg4", "mpeg2video", "prores", "dnxhd", "mjpeg"],
        "webm": ["vp8", "vp9", "av1"],
        "mkv": ["h264", "hevc", "av1", "vp8", "vp9", "mpeg4", "mpeg2video", "prores", "dnxhd"]
    ]
    static let webmAudio: Set<String> = ["opus", "vorbis"]

    /// The container a copied video goes out in: the source's own when accepted (a .mov stays a .mov),
    /// else the profile's recommended one, else any accepted container that can carry the streams.
    func copyContainer(_ info: MediaInfo, profile: Profile, audioCodec: String?) -> String? {
        guard let v = info.video else { return nil }
        let order = [info.container, profile.recommends.container, "mp4", "mov", "mkv", "webm"]
        return order.first { c in
            guard profile.containers.contains(c), Self.carries[c]?.contains(v.codec) == true else { return false }
            guard let a = audioCodec else { return true }
            switch c {
            case "webm": return Self.webmAudio.contains(a)
            case "mp4": return Self.mp4Audio.contains(a)
            case "mov": return Self.movAudio.contains(a)
            default: return true
            }
        }
    }

    /// A re-encoded (or silent) audio stream the profile accepts: its recommended codec, the source's
    /// rate when accepted, no more channels than the source or the platform has.
    func audioEncoding(_ a: MediaInfo.Audio?, silence: Bool, profile: Profile) -> (codec: String, kbps: Int, rate: Int, channels: Int)? {
        guard a != nil || silence else { return nil }
        let rec = profile.recommends
        let accepted = profile.audioCodecs
        let codec = accepted.isEmpty || accepted.contains(rec.audioCodec) ? rec.audioCodec : (["aac", "opus", "mp3"].first { accepted.contains($0) } ?? "aac")
        let rates = profile.audio.sampleRates
        let rate = a.map { rates.isEmpty || rates.contains($0.sampleRate) ? $0.sampleRate : rec.audioRate } ?? rec.audioRate
        let channels = max(1, min(a?.channels ?? rec.audioChannels, profile.audio.maxChannels, 8))
        let kbps = min(512, rec.audioKbps * max(1, (channels + 1) / 2))
        return (codec, kbps, rate, channels)
    }

    /// The nearest common constant frame rate to a variable one's average.
    static func standardRate(_ fps: Double) -> Double {
        let rates = [23.976, 24, 25, 29.97, 30, 48, 50, 59.94, 60]
        return rates.min { abs($0 - fps) < abs($1 - fps) } ?? 30
    }

    /// A slideshow has no clip to keep: it is rendered straight to the profile's frame and frame rate.
    package func planSlideshow(durationS: Double, hasAudio: Bool, for profile: Profile) -> Decision {
        if !profile.durationS.contains(durationS) {
            return reject(
                .durationOutOfRange, "the slideshow runs \(Self.fmt(durationS)) s; \(profile.name) accepts \(Self.fmt(profile.durationS.min))–\(Self.fmt(profile.durationS.max)) s")
        }
        let rec = profile.recommends
        let fps = [30.0, 25, 24, 60].first { profile.fps.contains($0) && $0 <= rec.fpsMax } ?? profile.fps.min
        // Stills gain nothing from a 4K frame: the profile's box, brought within 1920 px on its long side.
        let scale = min(1.0, 1920.0 / Double(max(rec.width, rec.height, 1)))
        var spec = RenditionSpec(
            kind: .transcode, width: Self.even(Double(rec.width) * scale), height: Self.even(Double(rec.height) * scale), geometry: .pad, fps: fps,
            maxrateKbps: min(rec.maxrateKbps, profile.maxVideoKbps ?? Int.max), crf: crf ?? rec.crf, preset: preset ?? rec.preset,
            addSilentAudio: !hasAudio && profile.audio.required, hasAudio: hasAudio, loudnorm: false)
        spec.slideshow = true
        return Decision(kind: .transcode, reasons: ["slideshow"], spec: spec)
    }

    /// Output size: keep the clip's shape when the profile accepts it, scaled into the render box
    /// (never upscaled); otherwise fill the profile's box exactly, padded (fit) or cropped (fill).
    func geometryFor(_ v: MediaInfo.Video, profile: Profile, aspectOK: Bool) -> (Int, Int, RenditionSpec.Geometry) {
        let r = profile.recommends
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

    package static func fmt(_ x: Double) -> String {
        guard x.isFinite, abs(x) < 1e15 else { return String(describing: x) }
        return x == x.rounded() ? String(Int(x)) : String(format: "%.2f", x)
    }
}

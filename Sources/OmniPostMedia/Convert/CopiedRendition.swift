import Foundation
import OmniPostCore

/// The probe of a rendition whose video stream was copied bit for bit (a remux, or an audio-only
/// conversion), answered from the file's own boxes (`MoovTracks`) and the source's probe, without
/// ffprobe. A copy cannot change the video's pixel format, profile, colour or field order — those are
/// the source's, already probed — but the container, the tracks, the duration, the size and the audio
/// OmniPost encoded can differ from what was asked, and those are read from the rendition: one video
/// track of the source's codec, picture size, rotation and frame rate; audio as the spec asked (or the
/// source's, copied). Anything that does not match, or that the reader does not understand, gives nil
/// and the caller runs ffprobe — this only saves a process, it never accepts a rendition ffprobe would
/// describe differently.
package enum CopiedRendition {
    /// The rendition's `MediaInfo`, or nil when ffprobe must answer.
    package static func info(path: String, displayName: String, spec: RenditionSpec, source: MediaInfo) -> MediaInfo? {
        guard spec.kind == .remux || spec.kind == .audio, let sv = source.video,
            // Squared pixels and re-tagged colour change what a copy carries: ffprobe says what came out.
            sv.sar == nil, spec.colour == nil,
            ["mp4", "mov"].contains(spec.container ?? "mp4"),
            let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber,
            let moov = MoovTracks.read(path: path)
        else { return nil }
        let videos = moov.tracks.filter { $0.handler == "vide" }
        let sounds = moov.tracks.filter { $0.handler == "soun" }
        guard videos.count == 1, let v = videos.first, Self.videoCodec(v.fourcc) == sv.codec,
            moov.tracks.count == videos.count + sounds.count, sounds.count <= 1
        else { return nil }
        // The picture as displayed, as `Prober` turns ffprobe's coded size and rotation into it.
        let swap = abs(v.rotation) % 180 == 90
        guard v.rotation == sv.rotation, (swap ? v.height : v.width) == sv.width, (swap ? v.width : v.height) == sv.height else { return nil }
        // The frame rate ffprobe would average (frames over the samples' time) within 1 % of the source's.
        guard v.samples > 0, v.sampleTime > 0, v.timescale > 0, sv.fps > 0 else { return nil }
        let fps = Double(v.samples) * Double(v.timescale) / Double(v.sampleTime)
        guard abs(fps - sv.fps) / sv.fps <= 0.01 else { return nil }
        // About as long as the source (a copy drops nothing; `-shortest` against added silence cuts only silence).
        guard moov.durationS > 0, abs(moov.durationS - source.durationS) <= max(0.1, source.durationS * 0.01) else { return nil }

        let audio: MediaInfo.Audio?
        if let s = sounds.first {
            guard let read = Self.audio(s) else { return nil }
            if spec.kind == .audio {
                guard read.codec == (spec.audioCodec ?? "aac"), read.sampleRate == (spec.audioCodec == "opus" ? 48000 : spec.audioRate ?? 48000),
                    read.channels == (spec.audioChannels ?? 2)
                else { return nil }
            } else {
                guard let sa = source.audio, read.codec == sa.codec, read.sampleRate == sa.sampleRate, read.channels == sa.channels else { return nil }
            }
            audio = read
        } else {
            // No audio track: only where none was asked for and none was there to copy.
            guard spec.kind == .remux ? source.audio == nil : (!spec.hasAudio && !spec.addSilentAudio) else { return nil }
            audio = nil
        }
        let bytes = size.int64Value
        let formatName = "mov,mp4,m4a,3gp,3g2,mj2"
        var video = sv
        // As libavformat's mov demuxer states a track's rate: its sample bytes over the samples' time.
        video.bitRate = Int((Double(v.sampleBytes) * 8 * Double(v.timescale) / Double(v.sampleTime)).rounded())
        // And the file's: its bytes over its duration in microseconds.
        let micros = (moov.durationS * 1e6).rounded()
        return MediaInfo(
            formatName: formatName, container: Prober.container(formatName: formatName, ext: (displayName as NSString).pathExtension.lowercased()),
            durationS: micros / 1e6, sizeBytes: bytes, bitRate: Int(Double(bytes) * 8 * 1e6 / micros), video: video, audio: audio,
            moovFirst: MoovCheck.moovFirst(path: path))
    }

    /// ffprobe's codec name for a video sample entry the planner's profiles name; nil for the rest.
    static func videoCodec(_ fourcc: String) -> String? {
        switch fourcc {
        case "avc1", "avc3": "h264"
        case "hvc1", "hev1": "hevc"
        case "av01": "av1"
        case "vp09": "vp9"
        default: nil
        }
    }

    /// An audio track as ffprobe names it: AAC from its decoder configuration (rate and channels as the
    /// decoder reads them), Opus from the sample entry; nil for anything else.
    static func audio(_ t: MoovTracks.Track) -> MediaInfo.Audio? {
        let codec: String, rate: Int, channels: Int
        switch t.fourcc {
        case "mp4a":
            // AAC-LC only: HE-AAC's SBR doubles the rate ffprobe reports, which this reader does not follow.
            guard t.objectType == 0x40, t.aacObjectType == 2, let r = t.aacRate, let c = t.aacChannels else { return nil }
            (codec, rate, channels) = ("aac", r, c)
        case "Opus": (codec, rate, channels) = ("opus", 48000, t.channels)
        default: return nil
        }
        guard rate > 0, channels > 0 else { return nil }
        return MediaInfo.Audio(codec: codec, sampleRate: rate, channels: channels, channelLayout: channels == 1 ? "mono" : channels == 2 ? "stereo" : nil)
    }
}

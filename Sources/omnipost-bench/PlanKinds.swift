import Foundation
import OmniPostCore
import OmniPostMedia

/// Per plan kind (audio-only, remux, full transcode): the convert stage's time against a bare ffmpeg
/// running the same arguments (median of 3), and the SSIM of full transcodes against their source, per
/// profile, beside the profile's floor.
func planKindRows(media: URL, profiles: ProfileCatalog) async throws -> [[String]] {
    var rows: [[String]] = []
    let tone = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=10"]
    func source(_ name: String, size: String, _ args: [String]) throws -> String {
        let out = media.appendingPathComponent(name).path
        _ = try runTool(["ffmpeg", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=size=\(size):rate=30:duration=10"] + tone + args + [out])
        return out
    }
    // What editors and phones hand over: H.264 + PCM in .mov, H.264 + AAC in .mkv, a ProRes 422 HQ master.
    let pcmMov = try source("pcm.mov", size: "1080x1920", ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le"])
    let mkv = try source("h264.mkv", size: "1080x1920", ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac"])
    let prores = try source("master.mov", size: "720x1280", ["-c:v", "prores_ks", "-profile:v", "3", "-pix_fmt", "yuv422p10le", "-c:a", "pcm_s24le"])
    let tiktok = profiles["tiktok"]!
    let planner = Planner()
    for (label, path, want) in [
        ("audio-only (PCM → AAC, video copied), 10 s 1080×1920", pcmMov, PlanKind.audio),
        ("remux (mkv → mp4), 10 s 1080×1920", mkv, .remux),
        ("full transcode (ProRes → H.264), 10 s 720×1280", prores, .transcode)
    ] {
        let info = try await Prober().probe(path: path, displayName: (path as NSString).lastPathComponent)
        let decision = planner.plan(info, for: tiktok)
        guard decision.kind == want, let spec = decision.spec else {
            rows.append([label, "plan was \(decision.kind.rawValue)", "-", decision.reasons.joined(separator: "; ")])
            continue
        }
        let (stage, bare) = try await stageVersusBare(input: path, info: info, spec: spec, profile: tiktok, planner: planner, in: media, name: want.rawValue)
        rows.append([
            "\(label) → tiktok", String(format: "%.2f s", median(stage)), String(format: "%.2f s bare ffmpeg", median(bare)),
            String(format: "%.2f× (progress, ffprobe check, rename)", median(stage) / median(bare))
        ])
    }
    // SSIM of each profile's full transcode of the ProRes master (profiles that take ProRes pass it as is).
    let info = try await Prober().probe(path: prores, displayName: "master.mov")
    for name in profiles.profiles.keys.sorted() {
        let profile = profiles[name]!
        var p = profile
        p.durationS.min = 0
        let decision = planner.plan(info, for: p)
        guard decision.kind == .transcode, let spec = decision.spec else {
            rows.append(["SSIM, ProRes master → \(name)", decision.kind.rawValue, String(format: "floor %.2f", profile.recommends.ssimFloor), "no transcode needed"])
            continue
        }
        let out = media.appendingPathComponent("ssim-\(name).\(spec.fileExtension)").path
        _ = try await Converter().convert(input: prores, output: out, spec: spec, durationS: info.durationS, verifyAgainst: p, planner: planner)
        let v = info.video!
        let score = try await QualityMeter().ssim(rendition: out, source: prores, width: v.width, height: v.height)
        rows.append([
            "SSIM, ProRes master → \(name)", String(format: "%.4f", score), String(format: "floor %.2f", profile.recommends.ssimFloor),
            score >= profile.recommends.ssimFloor ? "held (crf \(spec.crf), \(spec.preset))" : "BELOW FLOOR"
        ])
    }
    return rows
}

/// Three runs each of the convert stage (progress, ffprobe check, rename) and of a bare ffmpeg with
/// the same arguments: the seconds of each run.
func stageVersusBare(
    input: String, info: MediaInfo, spec: RenditionSpec, profile: Profile, planner: Planner, in media: URL,
    name: String
) async throws -> (stage: [Double], bare: [Double]) {
    var stage: [Double] = [], bare: [Double] = []
    for i in 0..<3 {
        let out = media.appendingPathComponent("stage-\(name)-\(i).\(spec.fileExtension)").path
        try? FileManager.default.removeItem(atPath: out)
        let start = ContinuousClock.now
        _ = try await Converter().convert(input: input, output: out, spec: spec, durationS: info.durationS, verifyAgainst: profile, planner: planner)
        stage.append((ContinuousClock.now - start).seconds)
        let args = FFmpegArguments.build(
            input: input, output: media.appendingPathComponent("bare-\(name)-\(i).\(spec.fileExtension)").path,
            spec: spec, progress: false)
        bare.append(try runTool(["ffmpeg"] + args))
    }
    return (stage, bare)
}

import Foundation

/// The set of profiles: the bundled profiles.yaml, optionally overlaid by a pipeline's own file.
package struct ProfileCatalog: Sendable {
    package var profiles: [String: Profile]
    /// Quotas and rate limits per platform (`quotas:`), counted per account.
    package var quotas: [String: [QuotaRule]]

    package init(profiles: [String: Profile], quotas: [String: [QuotaRule]] = [:]) {
        self.profiles = profiles
        self.quotas = quotas
    }

    /// This catalog with another laid over it: profiles and platforms' quota lists replaced by name.
    package func overlaid(with other: ProfileCatalog) -> ProfileCatalog {
        ProfileCatalog(profiles: profiles.merging(other.profiles) { $1 }, quotas: quotas.merging(other.quotas) { $1 })
    }

    package subscript(name: String) -> Profile? { profiles[name] }

    /// The profiles shipped with OmniPost.
    package static func bundled() throws -> ProfileCatalog { try parsedBundle.get() }

    /// Parsed once a process: every pipeline (8 in `make bench`'s idle row) shares its storage instead of
    /// holding a copy of its own, and a later look costs nothing (issue 30).
    private static let parsedBundle = Result { try parseBundled() }

    private static func parseBundled() throws -> ProfileCatalog {
        guard let url = Bundle.module.url(forResource: "profiles", withExtension: "yaml") else {
            throw OmniError(.internalError, "profiles.yaml is missing from the OmniPost installation")
        }
        let text = try String(contentsOf: url, encoding: .utf8)
        // Its zones are OmniPost's own, checked by ProfileCatalogZoneTests rather than at every start:
        // `TimeZone(identifier:)` is ICU's, ~2 MiB of code and data an idle daemon never needs (issue 30).
        return try parse(text: text, file: url.path, legacyBase: { nil }, checkZones: false)
    }

    /// A profiles file; an older `caption_max` in it takes the bundled profiles' way of counting its platform's caption.
    package static func parse(text: String, file: String) throws -> ProfileCatalog {
        try parse(text: text, file: file, legacyBase: { try? bundled() })
    }

    static func parse(text: String, file: String, legacyBase: () -> ProfileCatalog?, checkZones: Bool = true) throws -> ProfileCatalog {
        let doc = try YAMLDocument.parse(text, file: file, syntaxCode: .configSyntax, invalidCode: .configInvalid)
        let top = try doc.mapping(allowed: ["profiles", "quotas"])
        guard top["profiles"] != nil || top["quotas"] != nil else { throw doc.fail("expected `profiles:` or `quotas:`") }
        var out: [String: Profile] = [:]
        for (name, node) in try top["profiles"]?.mapping() ?? [:] {
            out[name] = try parseProfile(name: name, node) { platform in
                legacyBase()?.profiles.values.sorted { $0.name < $1.name }.first { $0.platform == platform && $0.text.caption != nil }?.text.caption
            }
        }
        var quotas: [String: [QuotaRule]] = [:]
        for (platform, node) in try top["quotas"]?.mapping() ?? [:] {
            let rules = try node.sequence().map { try QuotaRule.parse($0, checkZone: checkZones) }
            if let dup = Dictionary(grouping: rules, by: \.name).first(where: { $0.value.count > 1 }) {
                throw node.fail("quota '\(dup.key)' is listed twice for \(platform)")
            }
            quotas[platform] = rules
        }
        return ProfileCatalog(profiles: out, quotas: quotas)
    }

    /// What a platform ingests as is. Written under `accepts:`, or (older files) at the profile's top level.
    static let acceptKeys = [
        "containers", "video_codecs", "audio_codecs", "pixel_formats", "hdr_codecs", "width", "height", "aspect",
        "fps", "duration_s", "max_bytes", "max_video_kbps", "audio", "moov_first", "progressive_only"
    ]
    static let recommendKeys = [
        "width", "height", "fps_max", "container", "video_codec", "hdr_video_codec", "crf", "preset", "maxrate_kbps",
        "bufsize_kbps", "gop_s", "audio_codec", "audio_kbps", "audio_rate", "audio_channels", "ssim_floor"
    ]
    package static let encoderPresets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"]

    static func parseProfile(name: String, _ node: DocNode, legacyCaption: (String) -> CaptionRule? = { _ in nil }) throws -> Profile {
        let top = try node.mapping(allowed: ["platform", "accepts", "recommends", "render", "text"] + acceptKeys)
        // `accepts:` holds the acceptance list; a file without it keeps the same keys at the top.
        let accepts = try top["accepts"]?.mapping(allowed: acceptKeys) ?? top
        if top["accepts"] != nil, let stray = acceptKeys.first(where: { top[$0] != nil }) {
            throw top[stray]!.fail("profile '\(name)': `\(stray)` belongs under `accepts:`")
        }
        func req(_ m: [String: DocNode], _ k: String, in section: String = "") throws -> DocNode {
            guard let v = m[k] else { throw node.fail("profile '\(name)' needs `\(section)\(k)`") }
            return v
        }
        let section = top["accepts"] != nil ? "accepts." : ""
        func range(_ k: String) throws -> Profile.Range {
            let n = try req(accepts, k, in: section)
            let items = try n.sequence()
            guard items.count == 2 else { throw n.fail("`\(k)` is [min, max]") }
            let r = Profile.Range(min: try items[0].double(), max: try items[1].double())
            if r.min > r.max { throw n.fail("`\(k)`: min is above max") }
            return r
        }
        let a = try req(accepts, "audio", in: section).mapping(allowed: ["sample_rates", "max_channels", "required"])
        guard let recNode = top["recommends"] ?? top["render"] else { throw node.fail("profile '\(name)' needs `recommends:`") }
        let r = try recNode.mapping(allowed: recommendKeys)
        var rec = Profile.Recommendation(
            width: try r["width"]?.int() ?? 1920, height: try r["height"]?.int() ?? 1080,
            fpsMax: try r["fps_max"]?.double() ?? 60)
        if let v = r["container"] { rec.container = try v.oneOf(["mp4", "mov"]) }
        if let v = r["video_codec"] { rec.videoCodec = try v.oneOf(["h264", "hevc"]) }
        if let v = r["hdr_video_codec"] { rec.hdrVideoCodec = try v.oneOf(["hevc"]) }
        if let v = r["crf"] {
            rec.crf = try v.int()
            if !(0...51).contains(rec.crf) { throw v.fail("crf must be between 0 and 51") }
        }
        if let v = r["preset"] { rec.preset = try v.oneOf(encoderPresets) }
        if let v = r["maxrate_kbps"] { rec.maxrateKbps = try v.int() }
        rec.bufsizeKbps = try r["bufsize_kbps"]?.int() ?? rec.maxrateKbps * 2
        if let v = r["gop_s"] { rec.gopSeconds = try v.double() }
        if let v = r["audio_codec"] { rec.audioCodec = try v.oneOf(["aac", "opus"]) }
        if let v = r["audio_kbps"] { rec.audioKbps = try v.int() }
        if let v = r["audio_rate"] { rec.audioRate = try v.int() }
        if let v = r["audio_channels"] { rec.audioChannels = try v.int() }
        if let v = r["ssim_floor"] { rec.ssimFloor = try v.double() }
        let platform = try req(top, "platform").string()
        let text = try TextRules.parse(try req(top, "text"), profile: name, legacyCaption: { legacyCaption(platform) })
        var maxKbps: Int?
        if let n = accepts["max_video_kbps"], !n.isNull { maxKbps = try n.int() }
        return Profile(
            name: name,
            platform: platform,
            containers: try req(accepts, "containers", in: section).stringList(),
            videoCodecs: try req(accepts, "video_codecs", in: section).stringList(),
            audioCodecs: try req(accepts, "audio_codecs", in: section).stringList(),
            pixelFormats: try req(accepts, "pixel_formats", in: section).stringList(),
            hdrCodecs: try accepts["hdr_codecs"]?.stringList() ?? [],
            width: try range("width"), height: try range("height"), aspect: try range("aspect"),
            fps: try range("fps"), durationS: try range("duration_s"),
            maxBytes: Int64(try req(accepts, "max_bytes", in: section).double()),
            maxVideoKbps: maxKbps,
            audio: Profile.Audio(
                sampleRates: try a["sample_rates"]?.sequence().map { try $0.int() } ?? [],
                maxChannels: try a["max_channels"]?.int() ?? 2,
                required: try a["required"]?.bool() ?? false),
            moovFirst: try req(accepts, "moov_first", in: section).bool(),
            progressiveOnly: try accepts["progressive_only"]?.bool() ?? false,
            recommends: rec,
            text: text)
    }
}

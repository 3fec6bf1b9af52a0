/// Builds ffmpeg's argument array for a rendition. Kept apart from running it so the benchmark can
/// time the same arguments with a bare ffmpeg and the tests can read them.
package enum FFmpegArguments {
    package static func build(input: String, output: String, spec: RenditionSpec, progress: Bool = true) -> [String] {
        var a = ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
        if progress { a += ["-progress", "pipe:1", "-nostats"] }
        // `file:` keeps a name starting with a dash or containing a colon from being read as an option or protocol.
        a += ["-i", "file:" + input]
        if spec.kind != .remux, spec.addSilentAudio {
            a += ["-f", "lavfi", "-i", "anullsrc=channel_layout=stereo:sample_rate=\(spec.audioRate ?? 48000)"]
        }
        switch spec.kind {
        case .remux:
            a += ["-map", "0:v:0", "-map", "0:a:0?", "-c", "copy"]
        case .audio:
            // The video stream is copied bit for bit; only the audio is made anew.
            a += mapStreams(spec) + ["-c:v", "copy"] + audio(spec)
        case .transcode:
            a += mapStreams(spec) + ["-vf", videoFilters(spec).joined(separator: ",")] + videoEncoder(spec)
            if spec.audioCopy == true { a += ["-c:a", "copy"] } else { a += audio(spec) }
        }
        a += colourTags(spec.colour)
        let container = spec.container ?? "mp4"
        if container == "mp4" || container == "mov" { a += ["-movflags", "+faststart"] }
        a += ["-f", container == "mkv" ? "matroska" : container, "file:" + output]
        return a
    }

    static func mapStreams(_ spec: RenditionSpec) -> [String] {
        var a = ["-map", "0:v:0"]
        if spec.addSilentAudio { a += ["-map", "1:a:0", "-shortest"] } else if spec.hasAudio { a += ["-map", "0:a:0"] }
        return a
    }

    /// Tone mapping (when asked), squaring pixels, the frame box, frame rate, then the output's sample format.
    static func videoFilters(_ spec: RenditionSpec) -> [String] {
        var filters: [String] = []
        if let hdr = spec.toneMapFrom, let transfer = hdr.transfer {
            // Tags zscale knows by these names; anything else on an HDR source is read as BT.2020 (what it nearly always is).
            let matrix = ["bt709", "bt470bg", "smpte170m", "bt2020nc", "bt2020c"].contains(hdr.matrix ?? "") ? hdr.matrix! : "bt2020nc"
            let primaries = ["bt709", "bt470bg", "smpte170m", "smpte240m", "bt2020", "smpte431", "smpte432"].contains(hdr.primaries ?? "") ? hdr.primaries! : "bt2020"
            let range = hdr.range == "pc" ? "pc" : "tv"
            // HDR → SDR: linearise with the source's own tags, convert BT.2020 → BT.709 primaries in linear
            // light, roll highlights off with Möbius (linear below the knee, so content near reference white
            // keeps its brightness), and encode BT.709. 100 nits is SDR reference white.
            filters += [
                "zscale=tin=\(transfer):min=\(matrix):pin=\(primaries):rin=\(range):t=linear:npl=100",
                "format=gbrpf32le", "zscale=p=bt709", "tonemap=tonemap=mobius:desat=0", "zscale=t=bt709:m=bt709:r=tv"
            ]
        }
        let w = spec.width, h = spec.height
        switch spec.geometry {
        case .scale:
            filters.append("scale=\(w):\(h)")
        case .pad:
            filters += ["scale=\(w):\(h):force_original_aspect_ratio=decrease", "pad=\(w):\(h):(ow-iw)/2:(oh-ih)/2:color=black"]
        case .crop:
            filters += ["scale=\(w):\(h):force_original_aspect_ratio=increase", "crop=\(w):\(h)"]
        }
        if spec.squarePixels { filters.insert("scale=trunc(iw*sar/2)*2:ih,setsar=1", at: spec.toneMapFrom == nil ? 0 : 5) }
        filters.append("setsar=1")
        // Burned in after the frame is sized, so the text is drawn at the size it is shown (libass).
        if let subs = spec.burnSubtitles { filters.append("subtitles=filename=" + filterEscaped(subs)) }
        if let fps = spec.fps { filters.append("fps=\(fps)") }
        filters.append("format=\(spec.pixelFormat ?? "yuv420p")")
        // Before anything that mixes lines (tone mapping, scaling): an interlaced frame's two fields are
        // two instants, and scaling them together leaves a double image. `parity=auto` reads the field
        // order from the stream; every frame is deinterlaced, as the probe said the stream is interlaced.
        if spec.deinterlace == true { filters.insert("bwdif=mode=send_frame:parity=auto:deint=all", at: 0) }
        return filters
    }

    static func videoEncoder(_ spec: RenditionSpec) -> [String] {
        let pixfmt = spec.pixelFormat ?? "yuv420p"
        let tenBit = PixelFormat.bitDepth(pixfmt) > 8
        let bufsize = spec.bufsizeKbps ?? spec.maxrateKbps * 2
        var rate = ["-maxrate", "\(spec.maxrateKbps)k", "-bufsize", "\(bufsize)k"]
        // x264 reads the initial buffer fill as a fraction of the buffer (ffmpeg passes bits, it divides).
        if spec.strictMaxrate == true, spec.videoCodec != "hevc" { rate += ["-rc_init_occupancy", String(bufsize * 100)] }
        if spec.videoCodec == "hevc" {
            // x265 writes its own VUI: the colour tags go in its parameters too, HDR10 signalling for PQ,
            // headers on every keyframe, closed GOPs. `hvc1` is the tag Apple players and Instagram read.
            var params = ["log-level=error", "repeat-headers=1", "no-open-gop=1"]
            if let c = spec.colour {
                if let p = c.primaries { params.append("colorprim=\(p)") }
                if let t = c.transfer { params.append("transfer=\(t)") }
                if let m = c.matrix { params.append("colormatrix=\(m)") }
                params.append("range=\(c.range == "pc" ? "full" : "limited")")
                if c.hdr == .pq { params.append("hdr10=1") }
            }
            if let g = spec.gopFrames { params.append("keyint=\(g)") }
            if spec.strictMaxrate == true { params.append("vbv-init=0.1") }
            return ["-c:v", "libx265", "-preset", spec.preset, "-crf", String(spec.crf)] + rate
                + ["-pix_fmt", pixfmt, "-profile:v", tenBit ? "main10" : "main", "-tag:v", "hvc1", "-x265-params", params.joined(separator: ":")]
        }
        var a =
            ["-c:v", "libx264", "-preset", spec.preset, "-crf", String(spec.crf)] + rate
            + ["-pix_fmt", pixfmt, "-profile:v", tenBit ? "high10" : "high"]
        if let g = spec.gopFrames { a += ["-g", String(g)] }
        return a
    }

    static func audio(_ spec: RenditionSpec) -> [String] {
        guard spec.hasAudio || spec.addSilentAudio else { return [] }
        var a: [String] = []
        if spec.loudnorm && spec.hasAudio { a += ["-af", "loudnorm=I=-14:TP=-1.5:LRA=11"] }
        let codec = spec.audioCodec ?? "aac"
        let encoder = ["opus": "libopus", "mp3": "libmp3lame"][codec] ?? "aac"
        // Opus runs at 48 kHz only.
        let rate = codec == "opus" ? 48000 : (spec.audioRate ?? 48000)
        a += ["-c:a", encoder, "-b:a", "\(spec.audioKbps ?? 128)k", "-ar", String(rate), "-ac", String(spec.audioChannels ?? 2)]
        return a
    }

    /// The stream's colour tags as ffmpeg output options (what the container and bitstream say).
    static func colourTags(_ c: MediaInfo.Colour?) -> [String] {
        guard let c else { return [] }
        var a: [String] = []
        if let p = c.primaries { a += ["-color_primaries", p] }
        if let t = c.transfer { a += ["-color_trc", t] }
        if let m = c.matrix { a += ["-colorspace", m] }
        if let r = c.range { a += ["-color_range", r] }
        return a
    }

    /// A path as a filter option's value inside a filtergraph: escaped once for the option (`\ ' :`), then
    /// again for the graph (`\ ' [ ] , ;`), as ffmpeg-filters' "Notes on filtergraph escaping" describes.
    static func filterEscaped(_ path: String) -> String {
        func escape(_ s: String, _ chars: Set<Character>) -> String { String(s.flatMap { chars.contains($0) ? ["\\", $0] : [$0] }) }
        return escape(escape(path, ["\\", "'", ":"]), ["\\", "'", "[", "]", ",", ";"])
    }
}

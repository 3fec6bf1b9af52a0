/// A photo slideshow (seed 001): 2–10 images shown 1–10 s each, in order, with an optional crossfade
/// and an optional soundtrack. Rendered to a video before anything else happens to the drop.
package struct Slideshow: Sendable, Codable, Equatable {
    package struct Image: Sendable, Codable, Equatable {
        /// Relative to the sidecar's folder.
        package var file: String
        package var seconds: Double
    }
    package var images: [Image]
    package var crossfade: Double
    package var audio: String?

    package static let imageCount = 2...10
    package static let secondsRange = 1.0...10.0

    /// Length of the rendered video: each crossfade overlaps two images.
    package var duration: Double {
        images.reduce(0) { $0 + $1.seconds } - crossfade * Double(max(0, images.count - 1))
    }
}

extension Manifest {
    static func parseSlideshow(_ m: [String: DocNode]) throws -> Slideshow? {
        guard let list = m["images"] else {
            for k in ["image_seconds", "crossfade", "audio"] where m[k] != nil {
                throw m[k]!.fail("`\(k)` belongs to a slideshow, which needs `images:`")
            }
            return nil
        }
        let defaultSeconds = try m["image_seconds"]?.double() ?? 3
        if !Slideshow.secondsRange.contains(defaultSeconds) { throw m["image_seconds"]!.fail("image_seconds must be 1–10") }
        var images: [Slideshow.Image] = []
        for item in try list.sequence() {
            if case .scalar = item.node {
                images.append(.init(file: try item.string(), seconds: defaultSeconds))
            } else {
                let e = try item.mapping(allowed: ["file", "seconds"])
                guard let f = e["file"] else { throw item.fail("an image entry needs `file`") }
                let secs = try e["seconds"]?.double() ?? defaultSeconds
                if !Slideshow.secondsRange.contains(secs) { throw e["seconds"]!.fail("an image is shown 1–10 s, not \(secs)") }
                images.append(.init(file: try f.string(), seconds: secs))
            }
        }
        guard Slideshow.imageCount.contains(images.count) else {
            throw list.fail("a slideshow has 2–10 images, this one has \(images.count)")
        }
        let crossfade = try m["crossfade"]?.double() ?? 0
        let shortest = images.map(\.seconds).min() ?? 1
        if crossfade < 0 || crossfade > shortest / 2 {
            throw m["crossfade"]!.fail("crossfade must be between 0 and half the shortest image (\(shortest / 2) s)")
        }
        if m["clip"] != nil { throw m["clip"]!.fail("a slideshow sidecar renders its own video: drop `clip:` or `images:`") }
        return Slideshow(images: images, crossfade: crossfade, audio: try m["audio"]?.string())
    }
}

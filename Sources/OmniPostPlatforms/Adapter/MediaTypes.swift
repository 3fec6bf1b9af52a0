/// The media type a file goes out with, by its extension: a pass-through .mov is `video/quicktime`,
/// not `video/mp4` (TikTok's upload checks it against the container; YouTube records it).
package enum MediaTypes {
    package static func video(forPath path: String) -> String {
        let ext = path.split(separator: ".").last.map { $0.lowercased() } ?? ""
        switch ext {
        case "mov", "qt": return "video/quicktime"
        case "webm": return "video/webm"
        case "mkv": return "video/x-matroska"
        case "avi": return "video/x-msvideo"
        case "3gp": return "video/3gpp"
        case "mpg", "mpeg", "vob": return "video/mpeg"
        case "ts", "m2ts", "mts": return "video/mp2t"
        case "flv": return "video/x-flv"
        case "wmv", "asf": return "video/x-ms-wmv"
        default: return "video/mp4"
        }
    }
}

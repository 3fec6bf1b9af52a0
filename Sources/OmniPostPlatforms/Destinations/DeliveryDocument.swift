import Foundation
import OmniPostCore

/// What a destination is told of a delivery, as JSON: the body a webhook receives, the stdin a command
/// reads, the `.omnipost.json` a folder target writes beside the clip. One shape for all three, so a
/// receiver written for one reads the others (docs/destinations.md lists its fields).
package enum DeliveryDocument {
    package static let version = 1

    package static func json(_ job: UploadJob, rendition: String? = nil, extra: [String: Any] = [:]) -> Data {
        var doc: [String: Any] = [
            "version": version,
            "event": "delivery",
            "delivery_id": job.deliveryId,
            "file": (job.filePath as NSString).lastPathComponent,
            "bytes": job.size,
            "content_type": job.contentType,
            "metadata": metadata(job.metadata)
        ]
        if let sha = job.expectedSha256 { doc["sha256"] = sha }
        if let rendition { doc["path"] = rendition }
        if let d = job.drop {
            doc["drop_id"] = d.dropId
            doc["target"] = d.target
            doc["stem"] = d.stem
            doc["source"] = d.source
            doc["taken_at"] = isoStamp(d.takenAt)
            if let s = d.sourceSha256 { doc["source_sha256"] = s }
        }
        for (k, v) in extra { doc[k] = v }
        return (try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    }

    static func metadata(_ m: PublishMetadata) -> [String: Any] {
        var out: [String: Any] = [
            "title": m.title, "description": m.description, "tags": m.tags, "privacy": m.privacy.rawValue,
            "options": m.options
        ]
        if let at = m.publishAt { out["publish_at"] = isoStamp(at) }
        return out
    }
}

import OmniPostCore
import OmniPostLedger
import OmniPostMedia
import OmniPostPlatforms

// The ledger keeps these documents as JSON and cannot name their types (they belong to the media and
// platforms layers): here, once, each column gets its type, so a stage reads `drop.probe`, never JSON.

extension DropRecord {
    /// The clip's probe (nil for a slideshow, or before validation).
    var probe: MediaInfo? { get throws { try probe(as: MediaInfo.self) } }
}

extension DeliveryRecord {
    /// What is published on this target.
    var metadata: PublishMetadata { get throws { try metadata(as: PublishMetadata.self) } }
    /// The rendition this delivery sends (nil when it sends the original).
    var renditionSpec: RenditionSpec? { get throws { try renditionSpec(as: RenditionSpec.self) } }
}

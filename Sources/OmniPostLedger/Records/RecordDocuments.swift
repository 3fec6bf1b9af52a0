import Foundation
import OmniPostCore

/// The JSON documents records keep in TEXT columns (a drop's manifest and probe, a delivery's metadata and
/// rendition spec), written and read here in the one JSON style (`JSONCoding`), so no stage decodes a
/// column by hand. Types the ledger cannot see (the probe's `MediaInfo`, `PublishMetadata`,
/// `RenditionSpec` live in higher layers) are named once by the pipeline's typed properties over these.
enum RecordDocument {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try JSONCoding.encoder(pretty: false).encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String, column: String) throws -> T {
        do {
            return try JSONCoding.decoder().decode(type, from: Data(text.utf8))
        } catch {
            throw OmniError(.internalError, "the ledger's \(column) does not read as \(T.self): \(error)")
        }
    }
}

extension DropRecord {
    /// Other originals the drop uses (inbox-relative); none when the column is empty or unreadable — a
    /// list that cannot be read must not stop the drop's own clip and sidecar from being filed.
    package var assets: [String] {
        guard let assetsJson else { return [] }
        return (try? RecordDocument.decode([String].self, assetsJson, column: "drops.assets_json")) ?? []
    }

    /// The sidecar as validated (nil before validation).
    package var manifest: Manifest? {
        get throws { try manifestJson.map { try RecordDocument.decode(Manifest.self, $0, column: "drops.manifest_json") } }
    }

    package mutating func setManifest(_ manifest: Manifest?) throws {
        manifestJson = try manifest.map(RecordDocument.encode)
    }

    /// The clip's probe, as the media layer's type.
    package func probe<T: Decodable>(as type: T.Type) throws -> T? {
        guard let probeJson else { return nil }
        return try RecordDocument.decode(type, probeJson, column: "drops.probe_json")
    }

    package mutating func setProbe<T: Encodable>(_ probe: T?) throws {
        if let probe { probeJson = try RecordDocument.encode(probe) } else { probeJson = nil }
    }
}

extension DeliveryRecord {
    /// Title, description, tags … rendered for this target, as the platforms layer's type.
    package func metadata<T: Decodable>(as type: T.Type) throws -> T {
        try RecordDocument.decode(type, metadataJson, column: "deliveries.metadata_json")
    }

    package mutating func setMetadata<T: Encodable>(_ metadata: T) throws {
        metadataJson = try RecordDocument.encode(metadata)
    }

    /// The rendition spec the convert stage runs, as the media layer's type.
    package func renditionSpec<T: Decodable>(as type: T.Type) throws -> T? {
        guard let specJson else { return nil }
        return try RecordDocument.decode(type, specJson, column: "deliveries.spec_json")
    }

    package mutating func setRenditionSpec<T: Encodable>(_ spec: T?) throws {
        if let spec { specJson = try RecordDocument.encode(spec) } else { specJson = nil }
    }
}

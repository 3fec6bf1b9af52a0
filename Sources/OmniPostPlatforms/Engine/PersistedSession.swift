import Foundation

/// Where an upload stands in the engine's steps, persisted inside the platform's session so a restart
/// knows whether a post may already exist (`posting`): every byte sent and processed (`finalized`), or
/// still sending (`uploading`). The raw values are what the ledger holds; they never change.
package enum UploadPhase: String, Codable, Sendable {
    case uploading, finalized, posting
}

/// A platform's upload session as the ledger keeps it: one line of text, written once before the first
/// byte leaves and again at every checkpoint. A `Codable` session is JSON, encoded and decoded here and
/// nowhere else; a session that is one opaque string (YouTube's session URI) says so itself.
package protocol PersistedSession: Sendable {
    /// Nil when the text is not a session of this platform (the ledger held something else): the engine
    /// then treats the delivery as never started.
    init?(persisted: String)
    var persisted: String { get }
    /// The engine's step, for platforms whose post is a separate request after the bytes (X, LinkedIn).
    /// Nil — the default — for platforms that publish as the last byte arrives (YouTube, TikTok).
    var phase: UploadPhase? { get set }
}

extension PersistedSession {
    package var phase: UploadPhase? {
        get { nil }
        set {}
    }
}

extension PersistedSession where Self: Codable {
    package init?(persisted: String) {
        guard let s = try? JSONDecoder().decode(Self.self, from: Data(persisted.utf8)) else { return nil }
        self = s
    }

    /// Keys sorted: the same session is the same text, so the engine can tell a changed one by comparing.
    package var persisted: String {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return String(decoding: (try? e.encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// A session that is one opaque string — the session URI YouTube handed out, a webhook's idempotency
/// key, a command's `started` — kept bare: the ledger has always held these as the text itself, not JSON.
package struct SessionText: PersistedSession, Equatable {
    package var text: String
    package init(_ text: String) { self.text = text }
    package init?(persisted: String) { text = persisted }
    package var persisted: String { text }
}

/// A platform's own words for the engine's phases, as its sessions have always been stored (Meta's
/// `processing`, `publishing`, `finishing`): a table, read and written by `PhaseWord`.
package protocol PhaseVocabulary: Sendable {
    /// Every word the ledger may hold, and the phase it means (unknown words: `finalized`).
    static var read: [String: UploadPhase] { get }
    /// The word written for each phase.
    static var written: [UploadPhase: String] { get }
}

/// A session's phase stored in its platform's words (`PhaseVocabulary`).
package struct PhaseWord<Words: PhaseVocabulary>: Codable, Sendable, Equatable {
    package var phase: UploadPhase

    package init(_ phase: UploadPhase) { self.phase = phase }

    package init(from decoder: any Decoder) throws {
        phase = Words.read[try decoder.singleValueContainer().decode(String.self)] ?? .finalized
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(Words.written[phase] ?? phase.rawValue)
    }
}

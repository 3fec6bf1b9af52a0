/// Drop states. A drop moves received → validated → converted → (deliveries run) → archived,
/// or to rejected (bad input, before any delivery) → failed. `archived` and `failed` are terminal.
public enum DropState: String, Sendable, Codable, CaseIterable {
    case received, validated, converted, rejected, archived, failed

    public var isTerminal: Bool { self == .archived || self == .failed }

    /// The allowed transitions, in one place: the ledger refuses any other.
    public static let transitions: [DropState: Set<DropState>] = [
        .received: [.validated, .rejected],
        .validated: [.converted, .rejected],
        .converted: [.archived, .failed],
        .rejected: [.failed],
        .failed: [.received],      // `omnipost retry`
        .archived: [],
    ]
}

/// Delivery states (one drop × one target).
public enum DeliveryState: String, Sendable, Codable, CaseIterable {
    case planned, ready, uploading, published, failed, cancelled

    public var isTerminal: Bool { self == .published || self == .failed || self == .cancelled }

    public static let transitions: [DeliveryState: Set<DeliveryState>] = [
        .planned: [.ready, .failed, .cancelled],
        .ready: [.uploading, .failed, .cancelled],
        .uploading: [.uploading, .published, .ready, .failed, .cancelled],
        .published: [],
        .failed: [.planned, .ready],
        .cancelled: [],
    ]
}


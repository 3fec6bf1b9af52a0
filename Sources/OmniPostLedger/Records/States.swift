/// Drop states. A drop moves received → validated → converted → (deliveries run) → archived,
/// or to rejected (bad input, before any delivery) → failed. `archived` and `failed` are terminal; so is
/// `withdrawn`: its clip changed after it was taken (it was still being written), nothing was
/// published, and its files went back to waiting — the finished file comes in as a new drop.
package enum DropState: String, Sendable, Codable, CaseIterable {
    case received, validated, converted, rejected, archived, failed, withdrawn

    package var isTerminal: Bool { self == .archived || self == .failed || self == .withdrawn }

    /// The allowed transitions, in one place: the ledger refuses any other.
    package static let transitions: [DropState: Set<DropState>] = [
        .received: [.validated, .rejected, .withdrawn],
        .validated: [.converted, .rejected, .withdrawn],
        .converted: [.archived, .failed, .withdrawn],
        .rejected: [.failed, .withdrawn],
        .failed: [.received],  // `omnipost retry`
        .archived: [],
        .withdrawn: []
    ]
}

/// Delivery states (one drop × one target).
package enum DeliveryState: String, Sendable, Codable, CaseIterable {
    case planned, ready, uploading, published, failed, cancelled

    package var isTerminal: Bool { self == .published || self == .failed || self == .cancelled }

    package static let transitions: [DeliveryState: Set<DeliveryState>] = [
        .planned: [.ready, .failed, .cancelled],
        .ready: [.uploading, .failed, .cancelled],
        .uploading: [.uploading, .published, .ready, .failed, .cancelled],
        .published: [],
        .failed: [.planned, .ready],
        .cancelled: []
    ]
}

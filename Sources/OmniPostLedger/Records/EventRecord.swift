import Foundation
import GRDB

/// One state transition: the audit trail that status, reports and progress output are built from.
package struct EventRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "events"
    package static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    package static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    package var id: Int64?
    package var at: Double
    package var dropId: String?
    package var deliveryId: Int64?
    package var target: String?
    package var stage: String
    package var fromState: String?
    package var toState: String
    /// The sentence a person reads (progress lines, status, the dashboard). Never parsed: facts a reader
    /// needs as values are in `data`.
    package var detail: String?
    /// The event's facts as values (JSON in `events.data`, migration v10), for the readers that count or
    /// group by them: metrics, status, alerts.
    package var data: EventData?
    /// Told to the ledger's observer with a transition, not stored (the drop's or delivery's own row
    /// holds them): the reason code it ended with and the delivery's attempt count — the structured log
    /// line's `omnipost.reason` and `omnipost.attempt`.
    package var reasonCode: String? = nil
    package var attempt: Int? = nil
    /// The drop is an entry of a clip list: filed only by the archive lane that files everything, so its
    /// rejection rings that lane (`WorkRings`), not the rejections lane, which cannot take it.
    package var listEntry = false

    /// The stored columns (the told-only facts above are not among them).
    enum CodingKeys: String, CodingKey { case id, at, dropId, deliveryId, target, stage, fromState, toState, detail, data }

    package init(
        at: Double, dropId: String? = nil, deliveryId: Int64? = nil, target: String? = nil, stage: String,
        fromState: String? = nil, toState: String, detail: String? = nil, data: EventData? = nil
    ) {
        self.at = at
        self.dropId = dropId
        self.deliveryId = deliveryId
        self.target = target
        self.stage = stage
        self.fromState = fromState
        self.toState = toState
        self.detail = detail
        self.data = data
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// The stage as a value; nil only for a stage this version does not know (a newer writer's).
    package var eventStage: EventStage? { EventStage(rawValue: stage) }
    /// What a note recorded (`toState` of an event that is not a transition).
    package var kind: EventKind? { EventKind(rawValue: toState) }
}

/// The stages that write events. Raw values are the strings the `events.stage` column has always held,
/// so ledgers written before, the dashboard, metrics and alerts read the same.
package enum EventStage: String, Codable, Sendable, CaseIterable {
    case watch, validate, convert, upload, queue, archive, control, startup, reload, breaker, accounts
    /// Reading a published post back (issue 25).
    case verify
}

/// What a note (an event that is not a state transition) records. Raw values are the `to_state` strings
/// the ledger has always held.
package enum EventKind: String, Codable, Sendable, CaseIterable {
    // watch
    case watching, complete, renamed, arriving
    case gaveUpWaiting = "gave_up_waiting", unreadableName = "unreadable_name"
    // convert
    case progress, rendered
    // upload
    case sourceChangedAfterUpload = "source_changed_after_upload", coverFailed = "cover_failed"
    case followUpFailed = "follow_up_failed"
    // archive
    case archiveFailed = "archive_failed", notFiled = "not_filed", leftInInbox = "left_in_inbox"
    // control, reload, startup
    case retried, refused, reloaded
    /// An operator acknowledged a failed drop or delivery: it leaves the failures list, and stays in the ledger.
    case acknowledged
    case orphansKilled = "orphans_killed", leaseReleased = "lease_released"
    // accounts
    case checked, checkFailed = "check_failed"
    // queue: a delivery held until a gate opens
    case waiting
    // approval: a drop waits for a person, is reminded about, approved (or rejected: its deliveries fail)
    case awaitingApproval = "awaiting_approval", approvalReminder = "approval_reminder", approved
    // verify: a published post read back as asked, or an alert with its reason; its numbers no longer read
    case verified
    case notVerified = "not_verified"
    case metricsEnded = "metrics_ended"
    /// A platform's insights API refused the account's grant (it lacks the permission): recorded once.
    case insightsRefused = "insights_refused"
    /// `next_slot` with `slots: [best, …]`: which slot was taken and why (the best hour, or the fallback).
    case slotChosen = "slot_chosen"
    // several hosts (issue 27): a filing a host that stopped had begun, taken over by another; this host
    // reaching the shared ledger again after its heartbeat lost it
    case filingTakenOver = "filing_taken_over"
    case ledgerBack = "ledger_back"
}

/// Facts an event carries as values rather than inside its sentence. Stored as JSON; a reader switches
/// on the case instead of splitting `detail` (rows written before v10 were converted by the migration).
package enum EventData: Codable, Sendable, Equatable {
    /// A rendition ffmpeg made (convert → rendered): its own time and the kind of work (a plan kind, or `slideshow`).
    case rendered(seconds: Double, work: String)
    /// How an inbox is watched (watch → watching), noted at each start.
    case watching(inbox: String, mode: String, fs: String)
    /// Where a finished drop's originals were filed (archive → archived/failed): `archive/…/<id>` or `failed/<id>`.
    case filed(folder: String)
    /// A read-back's outcome (verify → verified / not_verified / metrics_ended): its reason code, if an alert.
    case readBack(reason: String?)
}

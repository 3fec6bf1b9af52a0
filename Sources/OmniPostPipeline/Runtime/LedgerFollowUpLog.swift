import Foundation
import OmniPostLedger
import OmniPostPlatforms

/// A delivery's follow-ups as the ledger keeps them (`follow_ups`, v14).
struct LedgerFollowUpLog: FollowUpLog {
    let ledger: Ledger
    let deliveryId: Int64

    func state(of key: String) throws -> FollowUpState? {
        guard let r = try ledger.followUp(deliveryId: deliveryId, key: key) else { return nil }
        switch r.state {
        case .intended: return .intended
        case .made: return .made(remoteId: r.remoteId ?? "")
        case .failed: return .failed(r.detail ?? "")
        }
    }

    func intend(_ f: FollowUp) throws { try ledger.recordFollowUp(deliveryId: deliveryId, key: f.key, kind: f.kind.rawValue, state: .intended) }
    func made(_ f: FollowUp, remoteId: String) throws {
        try ledger.recordFollowUp(deliveryId: deliveryId, key: f.key, kind: f.kind.rawValue, state: .made, remoteId: remoteId)
    }
    func failed(_ f: FollowUp, why: String) throws {
        try ledger.recordFollowUp(deliveryId: deliveryId, key: f.key, kind: f.kind.rawValue, state: .failed, detail: why)
    }
}

/// What an account's names resolved to, as the ledger keeps them (`remote_names`, v16).
struct LedgerRemoteNames: RemoteNames {
    let ledger: Ledger
    func id(account: String, kind: String, name: String) throws -> String? { try ledger.remoteName(account: account, kind: kind, name: name) }
    func remember(account: String, kind: String, name: String, id: String) throws {
        try ledger.rememberRemoteName(account: account, kind: kind, name: name, remoteId: id)
    }
    func forget(account: String, kind: String, name: String) throws { try ledger.forgetRemoteName(account: account, kind: kind, name: name) }
}

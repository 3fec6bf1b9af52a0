import Foundation
import OmniPostCore

/// The Xiaohongshu replica's state is a `CreatorReplica` (Replica/): these name it for its tests and routes.
extension SandboxState {
    package typealias XiaohongshuNote = ReplicaPost
    package typealias XiaohongshuFaults = ReplicaFaults

    /// A signed-in session for `account`: the value of the `web_session` cookie.
    package func xiaohongshuSession(account: String) -> String { replicaSession(XiaohongshuRoutes.name, account: account) }
    package func setXiaohongshuFaults(_ f: XiaohongshuFaults) { setReplicaFaults(XiaohongshuRoutes.name, f) }
    package func xiaohongshuFaults() -> XiaohongshuFaults { replicaFaults(XiaohongshuRoutes.name) }
    package func xiaohongshuNotes() -> [XiaohongshuNote] { replicaPosts(XiaohongshuRoutes.name) }
    package func xiaohongshuMisuse() -> (decoys: Int, earlyPublishes: Int) { replicaMisuse(XiaohongshuRoutes.name) }
    package func xiaohongshuPublishRequests() -> Int { replicaPublishRequests(XiaohongshuRoutes.name) }
    package func xiaohongshuScan(qr id: String, account: String) -> Bool { replicaScan(XiaohongshuRoutes.name, qr: id, account: account) }
    package func xiaohongshuQRCodes() -> [String] { replicaQRCodes(XiaohongshuRoutes.name) }
}

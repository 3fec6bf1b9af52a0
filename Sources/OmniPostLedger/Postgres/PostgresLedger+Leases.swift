import Foundation
import OmniPostCore

/// A process sharing the ledger, as its heartbeat last wrote it.
package struct LedgerHost: Sendable, Equatable {
    package var owner: String
    package var host: String
    package var pid: Int
    package var heartbeatAt: Double
    package var leaseUntil: Double
    /// Its lease is live at `now`: it is working, as far as the ledger knows.
    package func isLive(at now: Double) -> Bool { leaseUntil >= now }
}

extension PostgresLedger {
    /// Claims the next due upload for `owner` (`host:pid:tag`) until `now + lease` (`DeliveryLeases.claim`).
    package func claimUpload(owner: String, lease: Double) throws -> LeasedDelivery? {
        let now = self.now
        return try write { tx in try DeliveryLeases.claim(tx, owner: owner, lease: lease, now: now) }
    }

    /// The heartbeat, one transaction: the process's own row in `ledger_hosts` and every upload it holds
    /// are leased until `now + lease`. It throws when the database cannot be reached — the caller then
    /// stops claiming and reports itself not ready (docs/several-hosts.md) — and returns how many
    /// uploads it renewed.
    @discardableResult
    package func heartbeat(owner: String, host: String, pid: Int, lease: Double) throws -> Int {
        let now = self.now
        return try write { tx in
            try tx.run(
                """
                INSERT INTO ledger_hosts (owner, host, pid, started_at, heartbeat_at, lease_until) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (owner) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, lease_until = excluded.lease_until
                """, owner, host, pid, now, now, now + lease)
            return try DeliveryLeases.renew(tx, owner: owner, lease: lease, now: now)
        }
    }

    /// The processes that have shared this ledger, newest heartbeat first.
    package func hosts() throws -> [LedgerHost] {
        try write { tx in
            try tx.rows("SELECT owner, host, pid, heartbeat_at, lease_until FROM ledger_hosts ORDER BY heartbeat_at DESC, owner").map {
                LedgerHost(
                    owner: $0.text("owner") ?? "", host: $0.text("host") ?? "", pid: Int($0.int("pid") ?? 0),
                    heartbeatAt: $0.double("heartbeat_at") ?? 0, leaseUntil: $0.double("lease_until") ?? 0)
            }
        }
    }
}

import Foundation
import OmniPostCore

/// One process's part among the hosts sharing a ledger (issue 27, docs/several-hosts.md): its heartbeat,
/// what it holds, and how busy each host is with conversions. Written once over `LedgerSQL`: on SQLite
/// (one machine, one process) the same statements run, and the parts only PostgreSQL has — the
/// `ledger_hosts` table — are left out.
extension Ledger {
    /// What a host holds at the moment of asking: the drops and uploads under a live lease in its name.
    package struct HeldClaim: Sendable, Equatable, Codable {
        /// The host, the lease owner's first part (`host:pid:tag`).
        package var host: String
        package var owner: String
        /// The work held: `validate`, `convert`, `file` (a drop) or `upload` (a delivery).
        package var kind: String
        /// The drop's id, or the delivery's target and drop (`youtube:main` of `d-…`).
        package var id: String
        package var dropId: String
        /// The drop's state (`validated` is a conversion) or `uploading`.
        package var state: String
        package var leaseUntil: Double
    }

    /// The heartbeat, one transaction: on the shared ledger this process's row in `ledger_hosts` (its
    /// host, pid and roles) says it is alive until `now + lease`, and on both backends every upload it
    /// holds is leased at least until then; so are the drops it has in hand and their filings
    /// (`renewDropsInHand`). `uploads`: the deliveries whose uploads are running in this process — only
    /// those are renewed (nil: every upload `owner` holds), so one whose task ended without its outcome
    /// recorded lapses and is reconciled by the next claim. Throws `ledger_unreachable` when the database
    /// cannot be reached; returns the uploads renewed.
    @discardableResult
    package func beat(
        owner: String, host: String, pid: Int, roles: [String], lease: Double, holding drops: [String] = [], uploads: [Int64]? = nil
    ) throws -> Int {
        let now = self.now
        return try writeSQL { sql, _ in
            if sql.dialect == .postgres {
                try sql.run(
                    """
                    INSERT INTO ledger_hosts (owner, host, pid, started_at, heartbeat_at, lease_until, roles) VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (owner) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, lease_until = excluded.lease_until, roles = excluded.roles
                    """, owner, host, pid, now, now, now + lease, roles.joined(separator: ","))
            }
            let renewed = try Self.renewUploadsInHand(uploads, owner: owner, until: now + lease, sql)
            try Self.renewDropsInHand(drops, owner: owner, until: now + lease, sql)
            return renewed
        }
    }

    /// Every drop and upload held under a live lease, by host: what `status`, the dashboard and
    /// `/metrics` show as "who holds what".
    package func heldClaims() throws -> [HeldClaim] {
        let now = self.now
        return try readSQL { sql in
            let drops = try sql.rows(
                "SELECT id, state, lease_owner, lease_expiry FROM drops WHERE lease_owner IS NOT NULL AND lease_expiry >= ? AND state IN ('received','validated','converted','rejected') ORDER BY id",
                [.real(now)])
            let uploads = try sql.rows(
                "SELECT id, drop_id, target, lease_owner, lease_expiry FROM deliveries WHERE state = 'uploading' AND lease_owner IS NOT NULL AND lease_expiry >= ? ORDER BY id",
                [.real(now)])
            return drops.map { r in
                let owner = r.text("lease_owner") ?? ""
                return HeldClaim(
                    host: Self.host(ofOwner: owner), owner: owner, kind: Self.work(ofDropIn: r.text("state") ?? ""), id: r.text("id") ?? "", dropId: r.text("id") ?? "",
                    state: r.text("state") ?? "", leaseUntil: r.double("lease_expiry") ?? 0)
            }
                + uploads.map { r in
                    let owner = r.text("lease_owner") ?? ""
                    return HeldClaim(
                        host: Self.host(ofOwner: owner), owner: owner, kind: "upload", id: "\(r.int("id") ?? 0)", dropId: r.text("drop_id") ?? "",
                        state: "uploading", leaseUntil: r.double("lease_expiry") ?? 0)
                }
        }
    }

    /// The work a drop held in `state` is getting.
    static func work(ofDropIn state: String) -> String {
        switch state {
        case "received": "validate"
        case "validated": "convert"
        default: "file"
        }
    }

    /// Every kind of work a host can hold, in the order shown.
    package static let heldKinds = ["validate", "convert", "file", "upload"]

    /// Whether `owner` is the process that sends the alerts waiting in the ledger: the live one that
    /// started first (its heartbeat's row the oldest), so several hosts send each alert once, not once
    /// each. Always on one machine; on a shared ledger no live row yet (the first beat not written) counts as yes.
    package func sendsAlerts(owner: String) throws -> Bool {
        let now = self.now
        return try readSQL { sql in
            guard sql.dialect == .postgres else { return true }
            let senior = try Self.seniorHost(sql, now: now)
            return senior == nil || senior == owner
        }
    }

    /// Whether `owner` runs the periodic duties that must run on one host at a time — the account checks
    /// and the approval watcher (docs/several-hosts.md, "Duties one host runs"). The same rule as the
    /// alerts': the live host that started first. When it dies its row's lease lapses (three beats) and
    /// the next in line holds them; a host that comes back after losing the ledger is the senior again
    /// from its first beat. Unlike the alerts' rule, a host whose own first beat is not written yet holds
    /// nothing: two hosts starting together must not both run their checks at start. Always on one machine.
    package func holdsDuties(owner: String) throws -> Bool {
        let now = self.now
        return try readSQL { sql in
            guard sql.dialect == .postgres else { return true }
            return try Self.seniorHost(sql, now: now) == owner
        }
    }

    /// The owner holding the duties now (`holdsDuties`), for `status`: nil on one machine, where this
    /// process holds them, and on a shared ledger no host's heartbeat is live.
    package func dutiesHolder() throws -> String? {
        let now = self.now
        return try readSQL { sql in sql.dialect == .postgres ? try Self.seniorHost(sql, now: now) : nil }
    }

    /// The live host that started first (its heartbeat's row the oldest), by owner; nil when no row is live.
    static func seniorHost(_ sql: any LedgerSQL, now: Double) throws -> String? {
        try sql.row("SELECT owner FROM ledger_hosts WHERE lease_until >= ? ORDER BY started_at, owner LIMIT 1", [.real(now)])?.text("owner")
    }

    /// A lease owner's host (`host:pid:tag` → `host`).
    package static func host(ofOwner owner: String) -> String { owner.split(separator: ":", maxSplits: 1).first.map(String.init) ?? owner }

    /// How far behind the least busy host `host` is with conversions: how many more conversions (drops
    /// `validated` under a live lease) it holds than the live host with the `convert` role that holds the
    /// fewest. 0 on one machine (SQLite has no other host) and for the least busy host itself.
    package func conversionsAheadOfLeastBusy(host: String) throws -> Int {
        // One host's own ledger has no other host to leave a drop to: no read (the convert lanes ask at
        // every step, rung or not — a read transaction each, ~5 a pass-through drop; issue 30).
        guard isShared else { return 0 }
        let now = self.now
        return try readSQL { sql in
            let held = try sql.rows(
                "SELECT lease_owner FROM drops WHERE state = 'validated' AND lease_owner IS NOT NULL AND lease_expiry >= ?", [.real(now)])
            var count: [String: Int] = [:]
            for r in held { count[Self.host(ofOwner: r.text("lease_owner") ?? ""), default: 0] += 1 }
            let mine = count[host] ?? 0
            guard mine > 0, sql.dialect == .postgres else { return 0 }
            // Live hosts that may convert (roles empty: written before roles were, so all of them).
            let converters = try sql.rows("SELECT DISTINCT host, roles FROM ledger_hosts WHERE lease_until >= ?", [.real(now)])
                .filter { r in
                    let roles = r.text("roles") ?? ""
                    return roles.isEmpty || roles.split(separator: ",").contains("convert")
                }
                .compactMap { $0.text("host") }
            let least = Set(converters + [host]).map { count[$0] ?? 0 }.min() ?? mine
            return mine - least
        }
    }
}

extension Ledger {
    /// The heartbeat's part for drops (docs/several-hosts.md, "When a host or the database dies"): the
    /// drops this process is working on (`drops`, its stages' own list) keep their claims and their
    /// filings until `until`. On the shared ledger a drop claim runs one host lease, so a dead host's
    /// validation, conversion or filing is taken over by another host once its lease lapses, and a live
    /// host's long conversion never is. Only the drops in hand, not every drop the process's name holds:
    /// a stage that let one go without moving it (a step that failed, a filing released for a retry) must
    /// see its lease lapse. On one machine's ledger the drop's own lease is left as the stage set it (no
    /// other host waits on it); a filing is renewed on both, as the archive stage takes it for a host lease.
    /// The heartbeat's part for uploads: those running in this process (`uploads`; nil: all `owner` holds)
    /// keep their leases until `until`. The upload stage's own lease may be longer: never shortened here.
    static func renewUploadsInHand(_ uploads: [Int64]?, owner: String, until: Double, _ sql: any LedgerSQL) throws -> Int {
        if uploads?.isEmpty == true { return 0 }
        let only = uploads.map { " AND id IN (\(sqlMarks($0.count)))" } ?? ""
        return try sql.run(
            "UPDATE deliveries SET lease_expiry = \(sql.dialect.greatest("COALESCE(lease_expiry, 0)", "?")) WHERE lease_owner = ? AND state = 'uploading'" + only,
            [.real(until), .text(owner)] + (uploads ?? []).map { SQLValue.integer($0) })
    }

    static func renewDropsInHand(_ drops: [String], owner: String, until: Double, _ sql: any LedgerSQL) throws {
        guard !drops.isEmpty else { return }
        let marks = sqlMarks(drops.count)
        let ids = drops.map { SQLValue.text($0) }
        if sql.dialect == .postgres {
            try sql.run(
                "UPDATE drops SET lease_expiry = \(sql.dialect.greatest("COALESCE(lease_expiry, 0)", "?")) WHERE lease_owner = ? AND id IN (\(marks))",
                [.real(until), .text(owner)] + ids)
        }
        try sql.run(
            "UPDATE drop_filings SET lease_until = \(sql.dialect.greatest("lease_until", "?")) WHERE owner = ? AND done_at IS NULL AND drop_id IN (\(marks))",
            [.real(until), .text(owner)] + ids)
    }
}

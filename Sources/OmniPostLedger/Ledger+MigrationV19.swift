import Foundation

extension Ledger {
    /// Migration v19, the same on both backends: indexes for what every drop asks, so an answer costs the
    /// same in a ledger of 100,000 drops as in a new one (issue 30).
    /// - `drops_crashed`: every claim of every stage asks whether a crashed drop holds a live lease
    ///   (`crashGuardSQL`); without it that read the whole drops table each time — a few ms at 20,000 drops.
    /// - `deliveries_drop`: a drop's deliveries (its report, its status file, the archive and convert
    ///   claims' conditions) were a scan of every delivery ever made.
    /// - `drops_sidecar`: each sidecar recorded asks whether a failed drop had it (a corrected sidecar
    ///   coming back), which read every failed drop.
    static let v19Indexes = [
        "CREATE INDEX drops_crashed ON drops(lease_expiry) WHERE crashes > 0",
        "CREATE INDEX deliveries_drop ON deliveries(drop_id)",
        "CREATE INDEX drops_sidecar ON drops(sidecar_path)"
    ]
}

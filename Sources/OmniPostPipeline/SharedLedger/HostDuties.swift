import Foundation
import OmniPostLedger

extension PipelineContext {
    /// Whether this process runs the duties one host runs at a time on a shared ledger — the account
    /// checks (which may call the platforms and alert) and the approval watcher's reminders and expiries
    /// (`Ledger.holdsDuties`: the live host that started first). Always on SQLite. A ledger that cannot
    /// be read says no: a host that lost the database runs nothing it could not record.
    func holdsDuties() -> Bool { (try? ledger.holdsDuties(owner: owner)) ?? false }

    /// How often a host without the duties asks again whether it holds them now: once a beat, so a
    /// dead holder's duties move within its lease (three beats) and one beat.
    var dutyLook: Duration { config.host.heartbeat }
}

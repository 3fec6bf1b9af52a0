import Foundation
import OmniPostLedger

/// One progress line per transition, e.g. `  clip-a-1f2e3d4c  validate   received → validated  1080×1920 h264 …`.
enum ProgressFormat {
    static func line(_ e: EventRecord) -> String? {
        if e.stage == "watch" && e.toState == "watching" { return nil }  // printed once at start-up
        if e.stage == "startup" { return "  startup             \(e.toState)  \(e.detail ?? "")" }
        if e.stage == "watch" && e.dropId == nil { return "  inbox               file complete  \(e.detail ?? "")" }
        if e.stage == "convert" && e.toState == "progress" { return nil }  // printed live by the stage
        let who = e.dropId ?? "-"
        let stage = e.stage.padding(toLength: 9, withPad: " ", startingAt: 0)
        let target = e.target.map { "[\($0)] " } ?? ""
        let move = e.fromState.map { "\($0) → \(e.toState)" } ?? e.toState
        return "  \(who)  \(stage)  \(target)\(move)" + (e.detail.map { "  \($0)" } ?? "")
    }
}

import Foundation
import OmniPostCore
import OmniPostLedger

/// `omnipost accounts rekey`: every stored credential re-sealed under a new key, without stopping the
/// daemon. The new key goes first in the key file and the old ones stay after it, so nothing becomes
/// unreadable at any moment (a running daemon re-reads the file when it changes). `forgetOld` — once
/// every value is sealed with the current key — leaves only that key in the file.
package enum Rekey {
    package struct Outcome: Sendable, Equatable {
        package var resealed: Int
        package var keysInFile: Int
    }

    package static func run(config: PipelineConfig, forgetOld: Bool) throws -> Outcome {
        if let env = config.credentials.keyEnv.isEmpty ? nil : config.credentials.keyEnv, ProcessInfo.processInfo.environment[env]?.isEmpty == false {
            throw OmniError(
                .configInvalid,
                "the key comes from $\(env): put a new key first in it (keys separated by commas, the current first), restart, then run `accounts rekey --forget-old` with the old one still listed"
            )
        }
        let file = config.credentials.keyFile ?? config.paths.root.appendingPathComponent("secret.key")
        let ledger = try Ledger.open(config)
        if forgetOld {
            // Whatever is still sealed with an older key (a daemon that sealed before it saw the new
            // file) is re-sealed first; only then is the old key dropped.
            let ring = try Sealer.load(file: file, env: "")
            let n = try ledger.resealAll { v in ring.sealedWithCurrentKey(v) ? v : try ring.seal(try ring.open(v)) }
            try Sealer.dropPreviousKeys(file: file)
            return Outcome(resealed: n, keysInFile: 1)
        }
        let ring = try Sealer.addKey(file: file)
        let n = try ledger.resealAll { try ring.seal(try ring.open($0)) }
        return Outcome(resealed: n, keysInFile: 1 + ring.previousKeys)
    }
}

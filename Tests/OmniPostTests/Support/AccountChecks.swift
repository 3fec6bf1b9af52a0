import Foundation
import OmniPostCore
import OmniPostPlatforms

/// What `omnipost check` says of one target's account: a pipeline whose only target is `target`, its
/// account written as `lines` (YAML under `accounts: → <target>:`, four spaces in; the first of them
/// is the file's line 7). Nil when the registry accepts it.
enum AccountChecks {
    static func problem(_ target: String, _ lines: String, sandbox: String = "none", dir: URL = URL(fileURLWithPath: "/tmp")) -> OmniError? {
        let text = "version: 1\nroot: \(dir.path)/p\nsandbox: \(sandbox)\ntargets: [\(target)]\naccounts:\n  \(target):\n" + lines
        do {
            _ = try PlatformRegistry.parse(text: text, file: "p.yaml", baseDirectory: dir)
            return nil
        } catch let e as OmniError { return e } catch { return OmniError(.internalError, "\(error)") }
    }
}

import Foundation

/// A real crash on demand, for the crash-quarantine test: `OMNIPOST_FAULT_TRAP=validate:poison` makes the
/// validate stage trap on any file whose name contains `poison`, as a parser bug on hostile bytes
/// would. Unset (always, outside tests) it does nothing.
package enum FaultInjection {
    package static func trapIfAsked(stage: String, name: String) {
        guard let spec = ProcessInfo.processInfo.environment["OMNIPOST_FAULT_TRAP"] else { return }
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0] == stage, !parts[1].isEmpty, name.contains(parts[1]) else { return }
        fatalError("fault injection: \(stage) trapped on \(name)")
    }
}

import Foundation
import OmniPostCore

/// A program of the user's as a target: the escape hatch for any platform without an API (an existing
/// browser-automation uploader, an in-house tool). The account entry holds what to run.
package enum CommandPlatform: PlatformModule {
    package static let descriptor = PlatformDescriptor.destination(
        "command", "Command",
        accountFields: [
            "run (program and arguments, a list; never a shell)", "timeout (default 30m)", "retry_exit_codes (default [75])",
            "pass_env (variable names; an `OMNIPOST_` one is refused)"
        ],
        settings: ["run", "timeout", "retry_exit_codes", "pass_env"],
        upload:
            "the program is run with a private name for the rendition as its last argument (the file opened without following a link and checked against its sha256, then hard-linked — or copied — from that descriptor into a 0700 folder in the drop's work/ folder, keeping its file name; removed afterwards) and the delivery document on stdin; its environment is PATH, HOME, USER, LANG/LC_*, TZ, TMPDIR and the like, its own `OMNIPOST_DELIVERY_ID`/`_DROP_ID`/`_TARGET`/`_RETRY`, and what `pass_env` names — never the daemon's secrets",
        reconcile: "run again with `\"retry\": true` in the document: the program checks whether it already posted",
        quotas: "none",
        readBack: .notApplicable("a program's work is its own: OmniPost has nothing to read back beyond what the program printed when it ended with 0"))

    package static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        CommandAdapter(settings)
    }

    package static func validate(_ account: AccountConfig, sandboxed: Bool) throws {
        let n = try account.required("run", "the program to run and its arguments, e.g. [/usr/local/bin/upload, --headless]")
        let argv = try n.stringList()
        guard let program = argv.first, !program.isEmpty else { throw n.fail("`run` needs at least the program") }
        guard let path = Self.resolve(program) else {
            throw n.fail("'\(Excerpt.quote(program))' is not an executable file" + (program.contains("/") ? "" : " on PATH"))
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue { throw n.fail("\(path) is a folder, not a program") }
        if let t = account.setting("timeout") {
            if try t.duration() <= .zero { throw t.fail("timeout must be more than 0") }
        }
        if let p = account.setting("pass_env") {
            for n in try p.sequence() {
                let name = try n.string()
                guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0 == "_" || ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) }) else {
                    throw n.fail("'\(Excerpt.quote(name))' is not an environment variable's name")
                }
                if name.hasPrefix("OMNIPOST_") { throw n.fail("\(name) is OmniPost's own (its keys and secrets) and is never passed to a program") }
            }
        }
        if let r = account.setting("retry_exit_codes") {
            for c in try r.sequence() {
                let v = try c.int()
                if !(1...255).contains(v) { throw c.fail("an exit code is 1 to 255, found \(v)") }
            }
        }
    }

    /// The program's path: as written when it holds a `/`, else the first executable of that name on PATH.
    static func resolve(_ program: String) -> String? {
        let fm = FileManager.default
        if program.contains("/") { return fm.isExecutableFile(atPath: program) ? program : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(program)"
            if fm.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Nothing to fill in: a command is the user's own.
    package static func useSandbox(_ account: inout AccountConfig, base: String, root: URL) -> [SandboxGrant] { [] }
}

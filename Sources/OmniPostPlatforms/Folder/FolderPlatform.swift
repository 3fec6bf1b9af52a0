import Foundation
import OmniPostCore

/// A folder as a target — typically a NAS share the finished clip should land on. No account to
/// authorize: the account entry holds where (`path`), under which name, and what goes along.
package enum FolderPlatform: PlatformModule {
    package static let descriptor = PlatformDescriptor.destination(
        "folder", "Folder",
        accountFields: ["path (an absolute folder)", "name (default `{stem}.{ext}`)", "copy_sidecar", "copy_result"],
        settings: ["path", "name", "copy_sidecar", "copy_result"],
        upload:
            "copied to a hidden partial file, fsynced per chunk; a resume continues from the partial file's checkpointed length; verified by sha256 (read back through the same descriptor), then named by a hard link that never replaces anything. Everything is reached from the destination folder's descriptor without following a link: a planted partial file, published name or companion link is replaced or skipped, never written through; a subfolder that is a link is refused (`path_escape`)",
        reconcile: "the named file, compared by sha256",
        quotas: "none; a full disk waits 10 min",
        facts: PlatformFacts(platform: "folder", displayName: "a folder", options: [.init("name")]),
        readBack: .local)

    package static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        FolderAdapter(settings)
    }

    package static func validate(_ account: AccountConfig, sandboxed: Bool) throws {
        if let n = account.setting("path") {
            let path = try n.string()
            guard path.hasPrefix("/") else { throw n.fail("a folder target's path must be absolute, found '\(Excerpt.quote(path))'") }
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue {
                throw n.fail("\(path) is a file, not a folder")
            }
        } else if !sandboxed {
            _ = try account.required("path", "the folder clips are copied into")
        }
        if let n = account.setting("name") { _ = try NameTemplate(n) }
        _ = try account.setting("copy_sidecar")?.bool()
        _ = try account.setting("copy_result")?.bool()
    }

    /// The sandbox's folder target writes under the pipeline's sandbox folder unless a path is written.
    package static func useSandbox(_ account: inout AccountConfig, base: String, root: URL) -> [SandboxGrant] {
        account.fillIn("path", root.appendingPathComponent("folder-\(account.name)").path)
        return []
    }
}

import Foundation
import OmniPostCore
@testable import OmniPostPipeline
import Testing

/// An inbox configured as a link the operator re-points to another folder, the old folder left in
/// place: the inbox's real root is remembered for speed (`InboxPaths.realRoot`), yet a drop's paths
/// resolve under the link's new target from the next drop on — never under the old folder, whose files
/// (even one of the same name) are no longer the inbox's.
@Suite struct InboxLinkRepointTests {
    /// Re-pointed as `ln -sfn` does (a new link renamed over the old), and again by removing and making
    /// it anew: each time the same relative names resolve under the folder the link names now.
    @Test func aRepointedInboxLinkResolvesDropsUnderItsNewTarget() throws {
        let dir = try TempDir()
        let fm = FileManager.default
        for d in ["old", "new", "third"] { try fm.createDirectory(at: dir.file(d + "/sub"), withIntermediateDirectories: true) }
        try dir.write("old/a.yaml", "title: old\n")
        try dir.write("old/sub/c.yaml", "title: old c\n")
        try dir.write("old/only-old.yaml", "title: left behind\n")
        try dir.write("new/a.yaml", "title: new\n")
        try dir.write("new/sub/c.yaml", "title: new c\n")
        try dir.write("third/a.yaml", "title: third\n")
        let inbox = dir.file("inbox").path
        try fm.createSymbolicLink(atPath: inbox, withDestinationPath: dir.file("old").path)
        let real = { (d: String) in InboxPaths.realPath(dir.file(d).path) }

        // Before: resolved (and remembered) under the old folder.
        #expect(try InboxPaths.resolveInside(inbox: inbox, relative: "a.yaml") == real("old") + "/a.yaml")
        #expect(try InboxPaths.resolveInside(inbox: inbox, relative: "sub/c.yaml") == real("old") + "/sub/c.yaml")

        // Re-pointed the way `ln -sfn` does it: a fresh link renamed over the configured one.
        let fresh = dir.file(".inbox.tmp").path
        try fm.createSymbolicLink(atPath: fresh, withDestinationPath: dir.file("new").path)
        #expect(rename(fresh, inbox) == 0)
        // The old folder is still there, with files of the same names: they are not the inbox's any more.
        #expect(fm.fileExists(atPath: dir.file("old/a.yaml").path))
        #expect(try InboxPaths.resolveInside(inbox: inbox, relative: "a.yaml") == real("new") + "/a.yaml")
        #expect(try InboxPaths.resolveInside(inbox: inbox, relative: "sub/c.yaml") == real("new") + "/sub/c.yaml")
        #expect(try String(contentsOfFile: InboxPaths.resolveInside(inbox: inbox, relative: "a.yaml"), encoding: .utf8) == "title: new\n")
        // A file only the old folder holds is not reached through the inbox: it is missing there (refused,
        // as any name that does not resolve inside the inbox), never answered from the old folder.
        let leftBehind = try? InboxPaths.resolveInside(inbox: inbox, relative: "only-old.yaml")
        #expect(leftBehind.map { !$0.hasPrefix(real("old") + "/") && !fm.fileExists(atPath: $0) } ?? true, "\(leftBehind ?? "refused")")
        // A drop written into the new folder after the re-point resolves there.
        try dir.write("new/late.yaml", "title: late\n")
        #expect(try InboxPaths.resolveInside(inbox: inbox, relative: "late.yaml") == real("new") + "/late.yaml")

        // Removed and made again, pointing to a third folder with a name of the same length as before's.
        try fm.removeItem(atPath: inbox)
        try fm.createSymbolicLink(atPath: inbox, withDestinationPath: dir.file("third").path)
        #expect(try InboxPaths.resolveInside(inbox: inbox, relative: "a.yaml") == real("third") + "/a.yaml")
    }

    /// The configured path's identity is what `lstat` says of it: a folder keeps its identity while files
    /// come and go in it (so the remembered root is not asked again per drop), a link re-made does not.
    @Test func theInboxIdentityChangesWithTheLinkNotWithTheFilesInIt() throws {
        let dir = try TempDir()
        let fm = FileManager.default
        try fm.createDirectory(at: dir.file("folder"), withIntermediateDirectories: true)
        let folder = dir.file("folder").path
        let before = try #require(InboxPaths.PathIdentity(of: folder))
        try dir.write("folder/x.yaml", "title: x\n")
        try fm.removeItem(atPath: dir.file("folder/x.yaml").path)
        #expect(InboxPaths.PathIdentity(of: folder) == before)

        let link = dir.file("link").path
        try fm.createSymbolicLink(atPath: link, withDestinationPath: folder)
        let linked = try #require(InboxPaths.PathIdentity(of: link))
        #expect(linked != before)
        // A file dropped through the link changes the folder, not the link.
        try dir.write("folder/y.yaml", "title: y\n")
        #expect(InboxPaths.PathIdentity(of: link) == linked)
        let fresh = dir.file(".link.tmp").path
        try fm.createSymbolicLink(atPath: fresh, withDestinationPath: folder)
        #expect(rename(fresh, link) == 0)
        // The same target, re-made: another link all the same (a re-resolve that finds the same root).
        #expect(InboxPaths.PathIdentity(of: link) != linked)
        #expect(InboxPaths.PathIdentity(of: dir.file("missing").path) == nil)
    }
}

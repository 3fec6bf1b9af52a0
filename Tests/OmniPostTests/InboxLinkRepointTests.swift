import Foundation
import OmniPostCore
import OmniPostIngest
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

    /// A link the inbox goes through, re-pointed (`/srv/inbox` → `current` → `v1`, `current` re-pointed to
    /// `v2`): the inbox link itself is unchanged, yet its drops resolve under `v2` from then on.
    @Test func aLinkTheInboxGoesThroughRepointedIsFollowedToo() throws {
        let dir = try TempDir()
        let fm = FileManager.default
        for d in ["v1", "v2"] { try fm.createDirectory(at: dir.file(d), withIntermediateDirectories: true) }
        try dir.write("v1/a.yaml", "title: v1\n")
        try dir.write("v2/a.yaml", "title: v2\n")
        let current = dir.file("current").path
        try fm.createSymbolicLink(atPath: current, withDestinationPath: dir.file("v1").path)
        let inbox = dir.file("inbox").path
        try fm.createSymbolicLink(atPath: inbox, withDestinationPath: current)
        let real = { (d: String) in InboxPaths.realPath(dir.file(d).path) }
        #expect(try InboxPaths.resolveInside(inbox: inbox, relative: "a.yaml") == real("v1") + "/a.yaml")
        let fresh = dir.file(".current.tmp").path
        try fm.createSymbolicLink(atPath: fresh, withDestinationPath: dir.file("v2").path)
        #expect(rename(fresh, current) == 0)
        #expect(try InboxPaths.resolveInside(inbox: inbox, relative: "a.yaml") == real("v2") + "/a.yaml")
    }

    /// The remembered root stands while the inbox leads to the same folder: files coming and going in it
    /// change nothing (the root is not asked again per drop); a re-pointed link, or no folder, does.
    @Test func theInboxsFolderIdentityIsTheFolderNotTheFilesInIt() throws {
        let dir = try TempDir()
        let fm = FileManager.default
        for d in ["folder", "other"] { try fm.createDirectory(at: dir.file(d), withIntermediateDirectories: true) }
        let folder = dir.file("folder").path
        let before = try #require(FolderIdentity(of: folder))
        try dir.write("folder/x.yaml", "title: x\n")
        try fm.removeItem(atPath: dir.file("folder/x.yaml").path)
        #expect(FolderIdentity(of: folder) == before)

        let link = dir.file("link").path
        try fm.createSymbolicLink(atPath: link, withDestinationPath: folder)
        #expect(FolderIdentity(of: link) == before)
        let fresh = dir.file(".link.tmp").path
        try fm.createSymbolicLink(atPath: fresh, withDestinationPath: dir.file("other").path)
        #expect(rename(fresh, link) == 0)
        #expect(FolderIdentity(of: link) != before)
        #expect(FolderIdentity(of: dir.file("missing").path) == nil)
    }
}

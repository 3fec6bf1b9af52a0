import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// How Folder's sandbox shows each conformance scenario (`ConformanceTests`), or why a case does not exist for it.
extension FolderPlatform: ConformanceSubject {
    static var conformance: ConformanceFixture {
        ConformanceFixture(
            module: FolderPlatform.self, size: 3 * ConformanceFixture.mib + 512 * 1024, chunkSize: ConformanceFixture.mib,
            says: "conformance",
            adapter: { FolderPlatform.makeAdapter($0) },
            countsBytes: false,
            cut: .notApplicable("a local copy has no connection to cut; a copy interrupted part-way resumes (restart)"),
            redirect: .notApplicable("a local copy: no request carries the bytes"),
            startRedirect: .notApplicable("a local copy: no request starts an upload"),
            uncertain: .notApplicable("no reply to lose: the copy is named by a local link, and a restart finds it by sha256"),
            forget: .notApplicable("a folder ConformanceFixture.forgets nothing: the partial file stays until the copy is named"),
            rateLimit: .notApplicable("a folder has no rate limit (a full disk waits instead)"),
            expireTokens: .notApplicable("a folder has no credentials"),
            revocation: .notApplicable("a folder has no credentials"),
            refusal: .notApplicable("a folder refuses nothing it could be asked once about; a missing folder is a setting's error (FolderTests)"),
            lapse: .notApplicable("a folder's partial file has no lifetime"),
            processing: .notApplicable("a folder does not process"),
            pipelineFailure: .notApplicable("a folder has no failure a sandbox can inject; FolderTests covers a copy that cannot be made"),
            readBack: .init(
                takeDown: { rig, out in
                    // Someone removed the file from the share.
                    try FileManager.default.removeItem(atPath: ((try rig.account.text("path") ?? "") as NSString).appendingPathComponent(out.remoteId))
                },
                hidden: .notApplicable("the file is named in the share by a hard link after its copy was verified: it is there at once")))
    }
}

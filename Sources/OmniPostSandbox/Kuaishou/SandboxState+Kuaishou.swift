import Foundation
import OmniPostCore

extension SandboxState {
    /// One upload token: the file whole, or fragments by number from 0, until a work spends it.
    struct KuaishouUpload: Sendable, Codable, PartFolderUpload {
        var token: String
        var account: String
        var dir: String
        /// The fragments, by their number from 0.
        var parts: [Int: Int64] = [:]
        /// The whole (or merged) file, once there is one.
        var path: String?
        var used = false
    }

    struct KuaishouWork: Sendable, Codable {
        var id: String
        var account: String
        var caption: String
        var cover: String
        var created: Date
    }

    func startKuaishouUpload(account: String) throws -> KuaishouUpload {
        let token = SandboxState.randomID(15, alphabet: "0123456789abcdefghijklmnopqrstuvwxyz")
        let u = KuaishouUpload(token: token, account: account, dir: try KuaishouUpload.folder(root, "kuaishou", token: token))
        kuaishouWorld.uploads[token] = u
        return u
    }

    func kuaishouUpload(_ token: String) -> KuaishouUpload? { kuaishouWorld.uploads[token] }

    func storeKuaishouFragment(_ token: String, id: Int, bytes: Data) throws {
        guard var u = kuaishouWorld.uploads[token] else { return }
        try u.storePart(id, bytes)
        kuaishouWorld.uploads[token] = u
        addReceived(Int64(bytes.count))
    }

    func storeKuaishouWhole(_ token: String, bytes: Data) throws {
        guard var u = kuaishouWorld.uploads[token] else { return }
        try u.storeWhole(bytes)
        kuaishouWorld.uploads[token] = u
        addReceived(Int64(bytes.count))
    }

    /// 断点续传: the last fragment held with none missing before it (-1: none).
    func kuaishouResumeIndex(_ token: String) -> Int {
        guard let u = kuaishouWorld.uploads[token] else { return -1 }
        var i = -1
        while u.parts[i + 1] != nil { i += 1 }
        return i
    }

    /// `api/upload/complete`: fragments 0…count-1, none missing and none beyond, merged in order.
    func completeKuaishouUpload(_ token: String, count: Int) throws -> String? {
        guard var u = kuaishouWorld.uploads[token] else { return "upload_token is unknown" }
        let missing = (0..<max(count, 0)).filter { u.parts[$0] == nil }
        guard count > 0, missing.isEmpty else { return "fragments \(missing.map(String.init).joined(separator: ", ")) are missing" }
        guard u.parts.count == count else { return "fragment_count \(count) is not the \(u.parts.count) fragments uploaded" }
        try u.merge(0..<count)
        kuaishouWorld.uploads[token] = u
        return nil
    }

    enum KuaishouProblem: Error { case invalid(Int, String) }

    /// `photo/publish`: the upload token is spent, the work made (processing: `pending`).
    func publishKuaishou(account: String, token: String, caption: String, cover: String) throws -> Result<KuaishouWork, KuaishouProblem> {
        guard var u = kuaishouWorld.uploads[token], u.account == account else { return .failure(.invalid(120_001, "视频不存在: upload_token is unknown")) }
        guard let path = u.path else { return .failure(.invalid(120_002, "视频未上传成功: the video is not uploaded (or its fragments not completed)")) }
        guard !u.used else { return .failure(.invalid(100_400, "参数错误: upload_token has made a work already")) }
        u.used = true
        kuaishouWorld.uploads[token] = u
        let w = KuaishouWork(id: SandboxState.randomID(19, alphabet: "0123456789"), account: account, caption: caption, cover: cover, created: Date())
        kuaishouWorld.works.append(w)
        let hash = try FileHashing.sha256(path: path)
        videos.append(
            Video(
                platform: "kuaishou", id: w.id, account: account, title: caption, description: "", tags: [], privacy: "public", publishAt: nil,
                bytes: hash.bytes, sha256: hash.hex, path: path, receivedAt: Date()))
        return .success(w)
    }

    func kuaishouWorks(of account: String) -> [KuaishouWork] { kuaishouWorld.works.filter { $0.account == account }.reversed() }

    /// How long after its publish a work shows in `photo/list` unless `processingMs` says: Kuaishou's publish
    /// is asynchronous (发布视频: "该接口返回结果后，不代表视频已经同步发布到用户P页").
    static let kuaishouListedAfterMs = 1000

    /// The account's works `photo/list` shows: those processed since their publish (newest first).
    func kuaishouListed(of account: String, now: Date = Date()) -> [KuaishouWork] {
        let ms = faults.processingMs > 0 ? faults.processingMs : Self.kuaishouListedAfterMs
        return kuaishouWorks(of: account).filter { now.timeIntervalSince($0.created) * 1000 >= Double(ms) }
    }

    /// Every upload token that made no work is forgotten.
    func forgetKuaishouUploads() { kuaishouWorld.uploads = kuaishouWorld.uploads.filter { $0.value.used } }
}

/// What Kuaishou's sandbox remembers, kept across a persistent sandbox's restarts.
extension SandboxState {
    struct KuaishouWorld: KeptWorld {
        static let snapshotName = "kuaishou"
        var uploads: [String: KuaishouUpload] = [:]
        var works: [KuaishouWork] = []
    }

    var kuaishouWorld: KuaishouWorld {
        get { self[KuaishouWorld.self] }
        _modify { yield &self[KuaishouWorld.self] }
    }
}

extension KuaishouRoutes {
    static let name = "kuaishou"
    static let clientIDParameter = "app_id"
    static var keptWorlds: [any KeptWorld.Type] { [SandboxState.KuaishouWorld.self] }
    static func expireUnfinishedUploads(state: isolated SandboxState) { state.forgetKuaishouUploads() }
}

import Foundation
import OmniPostCore

/// Runs the user's program for a delivery: an argument array (never a shell) with the rendition's path
/// last, the delivery document (docs/destinations.md) on stdin. Its exit code says what happened —
/// 0 posted, one of `retry_exit_codes` (default 75, EX_TEMPFAIL) try again, anything else failed for
/// good — and its stdout's last JSON object line may give `{"id": …, "url": …}`. The last lines of its
/// stderr go into the failure report.
///
/// A program can post and then die before saying so. So a run is checkpointed as started before it
/// begins, and a delivery that finds that checkpoint (a crash, a timeout) runs the program again with
/// `"retry": true` in the document: the program must then check whether it already posted (by the
/// `drop_id` and `delivery_id` it was given) rather than post again. On the upload engine
/// (`ResumableAdapter`): `started` is the session, and the run is the post.
struct CommandAdapter: ResumableAdapter, DescribedAdapter {
    typealias Module = CommandPlatform
    let settings: AdapterSettings
    let displayName = "the command"
    var transport: NothingToSend<SessionText> { NothingToSend() }
    var processing: ProcessingPoll { ProcessingPoll(policy: nil, timeout: timeout) }

    init(_ settings: AdapterSettings) { self.settings = settings }

    var argv: [String] { (try? account.setting("run")?.stringList()) ?? [] }
    var timeout: Duration { (try? account.setting("timeout")?.duration()) ?? .seconds(1800) }
    /// The daemon's variables the program is given besides the allowed few (`pass_env`).
    var passed: [String: String] {
        let names = Set((try? account.setting("pass_env")?.sequence().map { try $0.string() }) ?? [])
        return ProcessInfo.processInfo.environment.filter { names.contains($0.key) && !$0.key.hasPrefix("OMNIPOST_") }
    }
    var retryCodes: Set<Int32> {
        Set((try? account.setting("retry_exit_codes")?.sequence().map { Int32(try $0.int()) }) ?? [75])
    }

    /// Only the program can say what became of an interrupted run: it is asked by running it again.
    func reconcile(_ s: SessionText, _ job: UploadJob) async throws -> RemoteState {
        .partial(confirmedOffset: 0)
    }

    /// The program, resolved to an executable file.
    func program() throws -> String {
        guard let program = argv.first.flatMap(CommandPlatform.resolve) else {
            throw DeliveryError(.permanent, .configInvalid, "'\(argv.first ?? "")' is not an executable file")
        }
        return program
    }

    /// A program that is no executable fails before anything is checkpointed.
    func prepare(_ job: UploadJob) async throws { _ = try program() }

    /// Checkpointed as started before the program runs.
    func start(_ job: UploadJob, _ prepared: Void) async throws -> SessionText { SessionText("started") }

    /// Runs the program: `retry: true` when an earlier run was started and its end not heard.
    func post(_ s: SessionText, _ job: UploadJob, uploaded: Uploaded) async throws -> PublishOutcome {
        let retry = job.session != nil
        let program = try program()
        let env = passed.merging([
            "OMNIPOST_DELIVERY_ID": String(job.deliveryId), "OMNIPOST_DROP_ID": job.drop?.dropId ?? "",
            "OMNIPOST_TARGET": job.drop?.target ?? "", "OMNIPOST_RETRY": retry ? "1" : "0"
        ]) { _, ours in ours }
        // The program gets a name for the file that nobody else can change: opened without following a
        // link, checked against the recorded sha256, then hard-linked (or copied) from that descriptor into
        // a private folder. Whatever happens to the original's name meanwhile, the program reads these bytes.
        let pinned: PinnedFile, handed: String
        do {
            pinned = try PinnedFile(path: job.filePath, size: job.size, expected: job.changeCheck)
            // The drop's work/ folder is named for the job, made only here where a name is put in it.
            if let dir = job.scratchDirectory { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            handed = try pinned.privateName(in: job.scratchDirectory ?? NSTemporaryDirectory(), name: (job.filePath as NSString).lastPathComponent)
        } catch let e as OmniError {
            throw DeliveryError(e.code == .sourceChanged ? .permanent : .retryNow, e.code, e.message)
        }
        defer { PinnedFile.removePrivate(handed) }
        // What the handed name is now — the pinned file itself where it was linked, the copy where it was
        // copied — and must still be when the program is done.
        guard let handedAs = PinnedFile.Identity(handed) else {
            throw DeliveryError(.retryNow, .internalError, "the private name made for \((job.filePath as NSString).lastPathComponent) cannot be looked at; the program was not run")
        }
        let doc = DeliveryDocument.json(job, rendition: handed, extra: ["retry": retry])
        let r: ToolRunner.Result
        do {
            // Only stdout's last lines are kept (the answer is its last JSON line): a chatty program
            // cannot fill the daemon's memory.
            r = try await ToolRunner().run(program, Array(argv.dropFirst()) + [handed], timeout: timeout, keepStdout: false, input: doc, environment: env)
        } catch let e as OmniError {
            throw DeliveryError(.retryNow, .platformError, "\(program) could not be started: \(e.message)")
        }
        if r.status == 0, PinnedFile.Identity(handed) != handedAs {
            // Our private name no longer names the checked file: what the program sent cannot be vouched for.
            throw DeliveryError(
                .permanent, .uncertainPost, "\((program as NSString).lastPathComponent) succeeded, but the file it was handed changed while it ran; check what it posted")
        }
        let said = Self.tail(r.stderr)
        if r.timedOut {
            throw DeliveryError(
                .retryNow, .platformError, "\((program as NSString).lastPathComponent) did not finish within \(timeout) and was killed; it runs again with retry: true" + said)
        }
        if r.status != 0 {
            let why = "\((program as NSString).lastPathComponent) exited with \(r.status)" + said
            if retryCodes.contains(r.status) { throw DeliveryError(.retryNow, .platformError, why + "; it runs again with retry: true") }
            throw DeliveryError(.permanent, .platformError, why)
        }
        let answer = Self.lastJSON(r.stdout)
        let id = (answer?["id"]).map { "\($0)" } ?? "\(job.drop?.dropId ?? "delivery")-\(job.deliveryId)"
        let url = answer?["url"] as? String ?? ""
        return PublishOutcome(remoteId: id, url: url, bytesSent: 0)
    }

    /// The last line of stdout that is a JSON object (a program may print progress before it).
    static func lastJSON(_ stdout: String) -> [String: Any]? {
        for line in stdout.split(separator: "\n").reversed() {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("{"), let o = (try? JSONSerialization.jsonObject(with: Data(t.utf8))) as? [String: Any] else { continue }
            return o
        }
        return nil
    }

    /// stderr's last lines, for the failure report.
    static func tail(_ stderr: String) -> String {
        let lines = stderr.split(separator: "\n").suffix(10).map(String.init)
        return lines.isEmpty ? "" : "; its last words: " + lines.joined(separator: " | ")
    }
}

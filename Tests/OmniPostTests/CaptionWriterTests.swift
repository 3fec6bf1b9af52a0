import Foundation
import GRDB
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// AI-written text (`captions:` + `ai:`): a language model writes each target's text within its profile,
/// its answer is kept before use so a restart never asks twice, and whatever goes wrong the templates'
/// text is published with a note — the drop never fails because of the model.
@Suite struct CaptionWriterTests {
    static let captions = "captions: {model: sandbox-writer}"

    func metadata(_ d: DeliveryRecord) throws -> PublishMetadata {
        try JSONCoding.decoder().decode(PublishMetadata.self, from: Data(d.metadataJson.utf8))
    }

    @Test func aModelWritesEachTargetsTextAndTheResultSaysSo() async throws {
        let dir = try TempDir()
        try await TestPipelines.publishOnce(
            dir, targets: "youtube:main, x:main", extra: Self.captions,
            sidecar: "title: Morning walk by the river\nprivacy: public\ntags: [outdoors]\nai: {title: true, description: true, hashtags: 3}\n"
        ) { p, deliveries in
            for d in deliveries {
                let m = try metadata(d)
                #expect(m.title == "Watch: Morning walk by the river", "\(d.target)")
                #expect(m.description.hasSuffix("New clips every week on \(d.platform)."), "\(d.target): \(m.description)")
                // The sidecar's tag first, then the model's three.
                #expect(m.tags == ["outdoors", "morning", "walk", "river"], "\(d.target): \(m.tags)")
                #expect(m.writer == TextWriter(model: "sandbox-writer", wrote: ["title", "description", "tags"]))
            }
            // What the platform got is the model's text.
            let videos = await p.sandbox!.state.allVideos()
            #expect(videos.contains { $0.platform == "youtube" && $0.title == "Watch: Morning walk by the river" })
            // Kept in the ledger before use: one answer per target, the request without any key.
            let kept = try p.context.ledger.read { db in try WrittenTextRecord.fetchAll(db, sql: "SELECT * FROM written_texts ORDER BY target") }
            #expect(kept.map(\.target) == ["x:main", "youtube:main"])
            #expect(kept.allSatisfy { $0.model == "sandbox-writer" && $0.request.contains("\"response_format\"") && !$0.request.contains("Bearer") })
            // The result JSON shows the text and who wrote it.
            let result = files(under: p.context.paths.outbox).first { $0.hasSuffix(".result.json") }.map { p.context.paths.outbox.appendingPathComponent($0) }
            let json = try readJSON(try #require(result))
            let targets = try #require(json["targets"] as? [[String: Any]])
            for t in targets {
                let text = try #require(t["text"] as? [String: Any])
                #expect(text["title"] as? String == "Watch: Morning walk by the river")
                #expect((text["written_by"] as? [String: Any])?["model"] as? String == "sandbox-writer")
            }
        }
    }

    /// Once an answer arrived it is the answer: asking again for the same drop and target (a restart that
    /// validates the drop again) reads the ledger, not the endpoint.
    @Test func anAnswerIsKeptSoARestartDoesNotAskAgain() async throws {
        let dir = try TempDir()
        try await withSandbox(dir) { server in
            let path = dir.file("ledger.sqlite").path
            try Ledger(path: path).write { db, _ in
                let d = DropRecord(id: "d1", pipeline: "p", stem: "d1", clipPath: "d1.mp4", sidecarPath: nil, now: 1)
                try d.insert(db)
            }
            var config = CaptionsConfig(endpoint: server.baseURL + SandboxServer.chatRoot, model: "m")
            config.timeout = .seconds(10)
            let draft = PublishMetadata(title: "A walk", description: "", tags: [], privacy: .public, publishAt: nil, options: [:])
            let request = CaptionWriter.request(
                platform: "youtube", ask: AIAsk(title: true), draft: draft, rules: TextRules(profile: "youtube"), fields: [:],
                clip: .init(name: "d1.mp4", durationS: 1, width: 320, height: 240), config: config)
            let first = await CaptionWriter(config: config, ledger: try Ledger(path: path)).answer(dropId: "d1", target: "youtube:main", request: request)
            // Another process on the same file: the answer is read back, the endpoint not asked.
            let again = await CaptionWriter(config: config, ledger: try Ledger(path: path)).answer(dropId: "d1", target: "youtube:main", request: request)
            #expect(first.content != nil && first.content == again.content)
            #expect(await server.state.requestCounts["chat.completions"] == 1)
        }
    }

    /// Each way a model fails: the drop publishes the templates' text, and the note says why.
    @Test(arguments: [
        ("down", "could not be reached"),
        ("503", "answered 503"),
        ("over", "the model's text was not used"),
        ("prose", "not the JSON object asked for"),
        ("control", "control character")
    ])
    func theTemplatesStandWhenTheModelFails(_ failure: String, _ said: String) async throws {
        let dir = try TempDir()
        let dead = try DeadPort()
        let captions = failure == "down" ? "captions: {model: m, endpoint: \"http://127.0.0.1:\(dead.port)/v1\", timeout: 5s}" : Self.captions
        let config = try TestPipelines.config(root: dir.url, extra: captions, targets: "targets: [youtube:main]")
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "walk", sidecar: "title: A walk\nai: {title: true}\n", into: config)
        let faults: SandboxState.Faults =
            switch failure {
            case "503": .init(failChats: [503])
            case "over": .init(chatAnswers: ["{\"title\": \"\(String(repeating: "long ", count: 40))\"}"])
            case "prose": .init(chatAnswers: ["Here is a great title for your video: A Walk!"])
            case "control": .init(chatAnswers: ["{\"title\": \"A walk\\u001b[2J\"}"])
            default: .init()
            }
        let p = try await TestPipelines.runOnce(config) { p in await p.sandbox?.state.setFaults(faults) }
        try await stopping(p) {
            let d = try #require(try p.context.ledger.allDeliveries().first)
            #expect(d.state == .published, "\(d.errorMessage ?? "")")
            let m = try metadata(d)
            #expect(m.title == "A walk")
            #expect(m.writer?.wrote == [])
            #expect(m.writer?.note?.contains(said) == true, "\(m.writer?.note ?? "no note")")
            #expect(m.writer?.note?.contains("the templates' text is used") == true)
        }
    }

    /// The same clip dropped again is a duplicate: the model is not asked (or paid) for it.
    @Test func aDuplicateDropAsksTheModelNothing() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, extra: Self.captions, targets: "targets: [youtube:main]")
        let clip = try Clips.make(width: 320, height: 240, seconds: 1)
        try TestPipelines.drop(clip, as: "first", sidecar: "title: First\nai: {title: true}\n", into: config)
        let p1 = try await TestPipelines.runOnce(config)
        let asked = await p1.sandbox?.state.requestCounts["chat.completions"]
        await p1.close()
        #expect(asked == 1)
        try TestPipelines.drop(clip, as: "again", sidecar: "title: Again\nai: {title: true}\n", into: config)
        let p2 = try await TestPipelines.runOnce(config)
        try await stopping(p2) {
            let again = try #require(try p2.context.ledger.drops().first { $0.stem == "again" })
            #expect(again.reasonCode == "duplicate")
            #expect(try p2.context.ledger.writtenText(dropId: again.id, target: "youtube:main") == nil)
        }
    }

    /// `ai: false` in a sidecar turns the pipeline's default off: the model is not asked.
    @Test func aSidecarTurnsThePipelinesDefaultOff() async throws {
        let dir = try TempDir()
        try await TestPipelines.publishOnce(
            dir, targets: "youtube:main", extra: Self.captions + "\ndefaults: {ai: {title: true}}", sidecar: "title: Quiet\nai: false\n"
        ) { p, deliveries in
            let m = try metadata(deliveries[0])
            #expect(m.writer == nil)
            #expect(m.title == "Quiet")
            #expect(await p.sandbox?.state.requestCounts["chat.completions"] == nil)
        }
    }

    /// `captions:` and `ai:` written wrong are answered at their line, like every other key.
    @Test(arguments: [
        ("captions: {endpoint: \"http://127.0.0.1:1/v1\"}", "needs `model:`", 1),
        ("captions: {model: m, endpoint: ftp://x}", "must be an http(s) URL", 1),
        ("captions: {model: m, endpont: \"http://x/v1\"}", "did you mean 'endpoint'", 1)
    ])
    func aCaptionsSectionWrittenWrongIsAnsweredAtItsLine(_ line: String, _ said: String, _: Int) throws {
        let text = "version: 1\nname: t\nroot: /tmp/x\n\(line)\ntargets: [youtube:main]\naccounts:\n  youtube:main: {client_id: a, client_secret: b, refresh_token: c}\n"
        let e = #expect(throws: OmniError.self) { try PipelineConfig.parse(text: text, file: "p.yaml", baseDirectory: URL(fileURLWithPath: "/tmp")) }
        #expect(e?.message.contains(said) == true, "\(e?.message ?? "")")
        #expect(e?.location?.line == 4)
    }

    @Test(arguments: [
        ("ai: {hashtags: 99}", "between 0 and 30"),
        ("ai: {titel: true}", "did you mean 'title'"),
        ("ai: sometimes", "expected a mapping (title, description, hashtags, first_comment, review) or true/false here")
    ])
    func anAIKeyWrittenWrongIsAnsweredAtItsLine(_ line: String, _ said: String) throws {
        let e = #expect(throws: OmniError.self) { try Manifest.parse(text: "title: x\n\(line)\n", file: "c.yaml") }
        #expect(e?.message.contains(said) == true, "\(e?.message ?? "")")
        #expect(e?.location?.line == 2)
    }
}

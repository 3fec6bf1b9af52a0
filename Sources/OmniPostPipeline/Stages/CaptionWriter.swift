import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

/// Writes a delivery's text with a language model when `ai:` asks (a sidecar's, else the pipeline's
/// `defaults:`), for each target within its profile's text rules. The model's answer is kept in the
/// ledger the moment it arrives and read from there when the drop is validated again, so a restart
/// never asks, or pays, twice. Whatever goes wrong — no `captions:`, the endpoint down or slow, an
/// answer that is not JSON or breaks the profile's rules — the templates' text stands and a note says
/// why: a drop never fails because of the model.
struct CaptionWriter: Sendable {
    var config: CaptionsConfig?
    var ledger: Ledger
    var http: HTTPClient = .shared

    /// What one target got from the model: the answer's content, or why there is none.
    struct Outcome: Sendable {
        var content: String?
        var note: String?
    }

    /// What a drop asks a model for: its sidecar's `ai:`, else the pipeline's; nil when nothing.
    static func ask(_ manifest: Manifest, defaults: ManifestDefaults) -> AIAsk? {
        guard let a = manifest.ai ?? defaults.ai, a.asksAnything else { return nil }
        return a
    }

    /// What one target is asked for: a first comment only where its platform takes one.
    static func ask(_ a: AIAsk, for platform: String) -> AIAsk {
        var a = a
        if PlatformRegistry.descriptor(platform)?.followUps.contains(.firstComment) != true { a.firstComment = false }
        return a
    }

    /// The answer for one target: the one kept from an earlier ask, or asked now and kept before use.
    func answer(dropId: String, target: String, request: ChatCompletion.Request) async -> Outcome {
        guard let config else {
            return Outcome(note: "the sidecar asks for written text (`ai:`) but the pipeline has no `captions:` endpoint; the templates' text is used")
        }
        if let kept = try? ledger.writtenText(dropId: dropId, target: target) { return Outcome(content: kept.answer) }
        let body: Data
        do { body = try JSONCoding.encoder(pretty: false).encode(request) } catch { return Outcome(note: "the request could not be written: \(error)") }
        let content: String
        do {
            content = try await send(body, config: config)
        } catch let e as OmniError {
            return Outcome(note: e.message + "; the templates' text is used")
        } catch {
            return Outcome(note: "the captions endpoint \(config.endpoint) failed (\(error)); the templates' text is used")
        }
        // Kept before it is used: a kill from here on finds it and does not ask again.
        let record = WrittenTextRecord(
            dropId: dropId, target: target, model: config.model, request: String(decoding: body, as: UTF8.self), answer: content,
            createdAt: ledger.clock.now().timeIntervalSince1970)
        do { try ledger.keepWrittenText(record) } catch { return Outcome(note: "the model's answer could not be kept in the ledger (\(error)); the templates' text is used") }
        return Outcome(content: content)
    }

    /// An answer another target of the same drop got for the same question, kept under this target too.
    func answer(dropId: String, target: String, reusing same: Outcome, request: ChatCompletion.Request) async -> Outcome {
        guard let config, let content = same.content else { return same }
        if let kept = try? ledger.writtenText(dropId: dropId, target: target) { return Outcome(content: kept.answer) }
        let body = (try? JSONCoding.encoder(pretty: false).encode(request)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        try? ledger.keepWrittenText(
            WrittenTextRecord(dropId: dropId, target: target, model: config.model, request: body, answer: content, createdAt: ledger.clock.now().timeIntervalSince1970))
        return same
    }

    /// One request to the endpoint: the assistant message's content, or an error whose message says
    /// what the endpoint did.
    func send(_ body: Data, config: CaptionsConfig) async throws -> String {
        var req = HTTPClientRequest(url: config.endpoint + "/chat/completions")
        req.method = .POST
        req.headers.add(name: "Content-Type", value: "application/json")
        if let key = config.apiKey() { req.headers.add(name: "Authorization", value: "Bearer \(key)") }
        req.body = .bytes(ByteBuffer(data: body))
        let response: HTTPClientResponse
        let reply: ByteBuffer
        do {
            response = try await http.execute(req, timeout: .init(config.timeout))
            reply = try await response.body.collect(upTo: 4 << 20)
        } catch {
            throw OmniError(.networkError, "the captions endpoint \(config.endpoint) could not be reached or did not answer within \(config.timeout) (\(error))")
        }
        guard response.status == .ok else {
            let text = String(buffer: reply).prefix(200)
            throw OmniError(.networkError, "the captions endpoint answered \(response.status.code)\(text.isEmpty ? "" : ": \(text)")")
        }
        guard let answer = try? JSONDecoder().decode(ChatCompletion.Answer.self, from: reply), let content = answer.choices.first?.message.content else {
            throw OmniError(.networkError, "the captions endpoint's answer is not a chat completion (no choices[0].message.content)")
        }
        return content
    }

    /// The templates' `draft` with the model's fields in it, made final by `finish` (chapters, control
    /// characters, the profile's text rules, the adapter's preflight) — or, where anything fails,
    /// `fallback` (the templates' final text) with a note saying why.
    static func apply(
        _ outcome: Outcome, ask: AIAsk, model: String, draft meta: PublishMetadata, fallback: PublishMetadata,
        finish: (PublishMetadata) throws -> PublishMetadata
    ) -> PublishMetadata {
        var kept = fallback
        guard let content = outcome.content else {
            kept.writer = TextWriter(model: model, wrote: [], note: outcome.note)
            return kept
        }
        guard let w = ChatCompletion.written(in: content) else {
            kept.writer = TextWriter(
                model: model, wrote: [], note: "the model's answer is not the JSON object asked for (\"\(Excerpt.quote(content, max: 60))\"); the templates' text is used")
            return kept
        }
        var m = meta
        var wrote: [String] = []
        var missing: [String] = []
        if ask.title {
            if let t = w.title.map(DropRules.oneLine), !t.isEmpty {
                m.title = t
                wrote.append("title")
            } else {
                missing.append("title")
            }
        }
        if ask.description {
            if let d = w.description?.trimmingCharacters(in: .whitespacesAndNewlines), !d.isEmpty {
                m.description = d
                wrote.append("description")
            } else {
                missing.append("description")
            }
        }
        if ask.hashtags > 0 {
            let tags = hashtags(w.hashtags ?? [], limit: ask.hashtags)
            if tags.isEmpty {
                missing.append("hashtags")
            } else {
                // The sidecar's own tags first; the model's follow, once each.
                m.tags = meta.tags + tags.filter { t in !meta.tags.contains { $0.caseInsensitiveCompare(t) == .orderedSame } }
                wrote.append("tags")
            }
        }
        if ask.firstComment {
            // Where a target has its own comment in the sidecar's overrides, that one stands.
            if let c = w.firstComment?.trimmingCharacters(in: .whitespacesAndNewlines), !c.isEmpty {
                if meta.options["first_comment"] == nil {
                    m.options["first_comment"] = c
                    wrote.append("first_comment")
                }
            } else {
                missing.append("first_comment")
            }
        }
        do {
            m = try finish(m)
            if let c = m.options["first_comment"], wrote.contains("first_comment"), let p = (m.text ?? meta.text)?.commentProblem(c) {
                // Its comment alone is not used: the rest of what it wrote stands.
                m.options["first_comment"] = nil
                wrote.removeAll { $0 == "first_comment" }
                missing.append("first_comment (\(p.message))")
            }
        } catch let e as OmniError {
            kept.writer = TextWriter(model: model, wrote: [], note: "the model's text was not used: \(e.message); the templates' text is used")
            return kept
        } catch {
            kept.writer = TextWriter(model: model, wrote: [], note: "the model's text was not used: \(error); the templates' text is used")
            return kept
        }
        m.writer = TextWriter(
            model: model, wrote: wrote, note: missing.isEmpty ? nil : "the model's answer has no \(missing.joined(separator: ", ")); the templates' is used for it")
        return m
    }

    /// A model's hashtags as tags: without `#`, one word each, at most `limit`, once each.
    static func hashtags(_ raw: [String], limit: Int) -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        for h in raw {
            let word = h.trimmingCharacters(in: .whitespaces).drop { $0 == "#" }.filter { !$0.isWhitespace }
            guard !word.isEmpty, seen.insert(word.lowercased()).inserted else { continue }
            out.append(String(word))
            if out.count == limit { break }
        }
        return out
    }
}

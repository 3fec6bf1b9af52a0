import Foundation

/// `captions:` — a language model that writes a drop's text when a sidecar (or the pipeline's
/// `defaults:`) asks with `ai:`. Any OpenAI-compatible chat-completions endpoint: hosted, or local
/// (llama.cpp's server, Ollama). Off unless written; a drop never fails because of the model.
package struct CaptionsConfig: Sendable, Equatable {
    /// The API root the chat path is appended to (`https://api.openai.com/v1`,
    /// `http://127.0.0.1:11434/v1`). Empty in a sandboxed pipeline that names none: the sandbox's own.
    package var endpoint: String
    package var model: String
    /// The environment variable holding the API key; none: no `Authorization` header (a local server).
    package var apiKeyEnv: String?
    /// Added to the instructions every request carries (a house style, a language).
    package var prompt: String?
    /// How long one request may take before the templates' text is used instead.
    package var timeout: Duration = .seconds(30)
    /// Where `captions:` is written, for a problem of the section as a whole.
    package var location: SourceLocation?

    package init(endpoint: String, model: String) {
        self.endpoint = endpoint
        self.model = model
    }

    package static let keys = ["endpoint", "model", "api_key_env", "prompt", "timeout"]

    /// The key, read from the environment when a request is made (never stored in the ledger).
    package func apiKey() -> String? { apiKeyEnv.flatMap { ProcessInfo.processInfo.environment[$0] }.flatMap { $0.isEmpty ? nil : $0 } }

    static func parse(_ node: DocNode, sandbox: Bool) throws -> CaptionsConfig {
        let m = try node.mapping(allowed: keys, what: "captions mapping")
        guard let model = m["model"] else { throw node.fail("captions: needs `model:`, the model the endpoint serves (e.g. gpt-4o-mini, llama3.1)") }
        var c = CaptionsConfig(endpoint: "", model: try model.string())
        if let v = m["endpoint"] {
            let text = try v.string().trimmingCharacters(in: .whitespaces)
            guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw v.fail("captions endpoint must be an http(s) URL such as https://api.openai.com/v1, found '\(Excerpt.quote(text))'")
            }
            c.endpoint = text.hasSuffix("/") ? String(text.dropLast()) : text
        } else if !sandbox {
            throw node.fail("captions: needs `endpoint:`, the API root of an OpenAI-compatible server (e.g. https://api.openai.com/v1)")
        }
        if let v = m["api_key_env"] { c.apiKeyEnv = try v.string() }
        if let v = m["prompt"] { c.prompt = try v.string() }
        if let v = m["timeout"] { c.timeout = try v.duration() }
        c.location = node.location
        return c
    }
}

/// `ai:` in a sidecar or the pipeline's `defaults:` — which fields a language model writes for each
/// target, within that target's profile: `{title: true, description: true, hashtags: 5}`; `ai: false`
/// turns a pipeline default off for one sidecar.
package struct AIAsk: Sendable, Codable, Equatable {
    package var title = false
    package var description = false
    /// How many hashtags to write (they become the target's tags); 0: none.
    package var hashtags = 0
    /// A first comment, for each target whose platform takes one (`first_comment: true`).
    package var firstComment = false
    /// A person accepts or edits the written text before anything is sent (`review: true`): the drop
    /// waits in the approval gate (`approval:`) as `approval: required` makes it.
    package var review = false
    /// Where `ai:` is written, for a note about it.
    package var location: SourceLocation?

    package init(title: Bool = false, description: Bool = false, hashtags: Int = 0) {
        self.title = title
        self.description = description
        self.hashtags = hashtags
    }

    package var asksAnything: Bool { title || description || hashtags > 0 || firstComment }

    package static let keys = ["title", "description", "hashtags", "first_comment", "review"]

    /// The most hashtags asked for: more than any platform shows usefully (Instagram's limit is 30).
    package static let maxHashtags = 30

    package static func parse(_ node: DocNode) throws -> AIAsk {
        if case .some(let off) = try? node.bool() {
            var a = off ? AIAsk(title: true, description: true) : AIAsk()
            a.location = node.location
            return a
        }
        let m = try node.mapping(allowed: keys, what: "mapping (title, description, hashtags, first_comment, review) or true/false")
        var a = AIAsk()
        if let v = m["title"] { a.title = try v.bool() }
        if let v = m["description"] { a.description = try v.bool() }
        if let v = m["first_comment"] { a.firstComment = try v.bool() }
        if let v = m["review"] { a.review = try v.bool() }
        if let v = m["hashtags"] {
            if case .some(let b) = try? v.bool() {
                a.hashtags = b ? 5 : 0
            } else {
                let n = try v.int()
                guard (0...maxHashtags).contains(n) else { throw v.fail("ai hashtags must be between 0 and \(maxHashtags), found \(n)") }
                a.hashtags = n
            }
        }
        a.location = node.location
        return a
    }
}

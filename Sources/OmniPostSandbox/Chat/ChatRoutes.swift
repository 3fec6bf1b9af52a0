import Foundation
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// An OpenAI-compatible chat-completions endpoint (`POST /openai/v1/chat/completions`), the captions
/// model a sandboxed pipeline's `ai:` asks: it checks the request as the API documents it (a `model`,
/// a non-empty `messages` list of `{role, content}`; errors in the API's `{"error": {…}}` shape) and
/// answers a `chat.completion` whose content is written deterministically from OmniPost's brief, so a
/// test knows what comes back. `failChats` answers with a status; `chatAnswers` says something else
/// (over a limit, not JSON).
enum ChatRoutes {
    static let path = SandboxServer.chatRoot + "/chat/completions"

    struct Request: Decodable {
        struct Message: Decodable {
            var role: String
            var content: String?
        }
        var model: String?
        var messages: [Message]?
    }

    static func add(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.post(RouterPath(stringLiteral: path)) { req, _ -> Response in
            await state.count("chat.completions")
            var req = req
            let body = Data(buffer: try await req.collectBody(upTo: 1 << 20))
            if let status = await state.takeChatFault() {
                return error(.init(code: status), "injected fault", type: status == 429 ? "rate_limit_exceeded" : "server_error")
            }
            guard let request = try? JSONDecoder().decode(Request.self, from: body) else {
                return error(.badRequest, "We could not parse the JSON body of your request.", type: "invalid_request_error")
            }
            guard let model = request.model, !model.isEmpty else {
                return error(.badRequest, "you must provide a model parameter", type: "invalid_request_error", param: "model")
            }
            let roles: Set<String> = ["system", "developer", "user", "assistant"]
            guard let messages = request.messages, !messages.isEmpty, messages.allSatisfy({ roles.contains($0.role) && $0.content != nil }) else {
                return error(.badRequest, "messages must be a non-empty list of {role, content}", type: "invalid_request_error", param: "messages")
            }
            let brief = messages.last { $0.role == "user" }?.content ?? ""
            let content = await state.takeChatAnswer() ?? SandboxCaptionModel.write(brief: brief)
            let n = await state.requestCounts["chat.completions"] ?? 0
            let promptTokens = messages.reduce(0) { $0 + ($1.content ?? "").split(separator: " ").count }
            let completionTokens = content.split(separator: " ").count
            return SandboxHTTP.json(
                .ok,
                [
                    "id": "chatcmpl-sandbox\(n)", "object": "chat.completion", "created": Int(Date().timeIntervalSince1970), "model": model,
                    "choices": [["index": 0, "message": ["role": "assistant", "content": content], "finish_reason": "stop"]],
                    "usage": ["prompt_tokens": promptTokens, "completion_tokens": completionTokens, "total_tokens": promptTokens + completionTokens]
                ])
        }
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, type: String, param: String? = nil) -> Response {
        SandboxHTTP.json(status, ["error": ["message": message, "type": type, "param": param ?? NSNull(), "code": NSNull()] as [String: Any]])
    }
}

/// The sandbox's model: plausible text from the brief, the same every time for the same brief.
enum SandboxCaptionModel {
    struct Brief: Decodable {
        struct Asked: Decodable {
            var title: Bool?
            var description: Bool?
            var hashtags: Int?
            var first_comment: Bool?
        }
        struct Draft: Decodable {
            var title: String?
            var description: String?
            var tags: [String]?
        }
        var platform: String?
        var asked: Asked?
        var draft: Draft?
    }

    static func write(brief text: String) -> String {
        guard let brief = try? JSONDecoder().decode(Brief.self, from: Data(text.utf8)) else {
            return "I write from a JSON brief; this message is not one."
        }
        let title = brief.draft?.title ?? ""
        var out: [String: Any] = [:]
        if brief.asked?.title == true { out["title"] = "Watch: \(title)" }
        if brief.asked?.description == true {
            let d = brief.draft?.description ?? ""
            out["description"] = (d.isEmpty ? title : d) + "\n\nNew clips every week on \(brief.platform ?? "this channel")."
        }
        if let n = brief.asked?.hashtags, n > 0 {
            let common: Set<String> = ["the", "and", "for", "with", "from", "this", "that", "into"]
            let words = title.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init).filter { $0.count >= 3 && !common.contains($0) }
            var tags: [String] = []
            for w in words + ["video", "clip", "creator", "daily", "new"] where !tags.contains(w) {
                tags.append(w)
                if tags.count == n { break }
            }
            out["hashtags"] = tags
        }
        if brief.asked?.first_comment == true { out["first_comment"] = "Thanks for watching \"\(title)\" — what should we film next?" }
        let data = (try? JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

import Foundation

/// The OpenAI chat-completions request and answer, as far as OmniPost uses them: what hosted APIs,
/// llama.cpp's server and Ollama's `/v1` all take and return (`POST {root}/chat/completions`).
enum ChatCompletion {
    struct Message: Codable, Sendable {
        var role: String
        var content: String
    }

    /// `response_format: {type: json_object}` asks for one JSON object; a server that ignores it still
    /// gets the same request in the instructions.
    struct ResponseFormat: Codable, Sendable {
        var type = "json_object"
    }

    struct Request: Codable, Sendable {
        var model: String
        var messages: [Message]
        var temperature: Double
        var responseFormat = ResponseFormat()
        enum CodingKeys: String, CodingKey {
            case model, messages, temperature
            case responseFormat = "response_format"
        }
    }

    struct Answer: Decodable, Sendable {
        struct Choice: Decodable, Sendable {
            var message: Message
        }
        var choices: [Choice]
    }

    /// The fields a model is asked to write, as it answers them.
    struct Written: Decodable, Sendable, Equatable {
        var title: String?
        var description: String?
        var hashtags: [String]?
        var firstComment: String?
        enum CodingKeys: String, CodingKey {
            case title, description, hashtags
            case firstComment = "first_comment"
        }
    }

    /// The JSON object in a model's content: the whole text, or the part between the first `{` and the
    /// last `}` (a model that wraps it in a code fence or a sentence).
    static func written(in content: String) -> Written? {
        let decoder = JSONDecoder()
        if let w = try? decoder.decode(Written.self, from: Data(content.utf8)) { return w }
        guard let open = content.firstIndex(of: "{"), let close = content.lastIndex(of: "}"), open < close else { return nil }
        return try? decoder.decode(Written.self, from: Data(content[open...close].utf8))
    }
}

import GRDB

/// What a language model answered for one delivery's text (`ai:`), kept before the text is used so a
/// restart never asks, or pays, twice: the request as sent (without the key) and the answer as received.
/// Whether the answer was used, or why not, follows from checking it again; `note` says what was decided.
package struct WrittenTextRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    package static let databaseTableName = "written_texts"
    package static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    package static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    package var dropId: String
    package var target: String
    package var model: String
    /// The chat request's JSON body.
    package var request: String
    /// The assistant message's content, as the endpoint returned it.
    package var answer: String
    package var createdAt: Double

    package init(dropId: String, target: String, model: String, request: String, answer: String, createdAt: Double) {
        self.dropId = dropId
        self.target = target
        self.model = model
        self.request = request
        self.answer = answer
        self.createdAt = createdAt
    }
}

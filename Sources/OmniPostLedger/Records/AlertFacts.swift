import Foundation

/// What an alert is about, as values a receiver can act on without parsing the message: which drop and
/// target, the reason code and where in the sidecar, what did publish, where to look, and when it
/// happened (the failure's time, not the sending's — a message that waited for a sink keeps it).
package struct AlertFacts: Codable, Sendable, Equatable {
    package var dropId: String?
    package var target: String?
    package var deliveryId: Int64?
    package var account: String?
    package var reasonCode: String?
    /// `file:line:col` in the sidecar, where the reason has one.
    package var location: String?
    /// The drop's targets that did publish (a partial failure says what went out).
    package var published: [String]?
    /// The dashboard's page for the drop, when the listener has a `public_url`.
    package var link: String?
    /// When it happened (Unix time).
    package var at: Double

    package init(
        dropId: String? = nil, target: String? = nil, deliveryId: Int64? = nil, account: String? = nil, reasonCode: String? = nil,
        location: String? = nil, published: [String]? = nil, link: String? = nil, at: Double
    ) {
        self.dropId = dropId
        self.target = target
        self.deliveryId = deliveryId
        self.account = account
        self.reasonCode = reasonCode
        self.location = location
        self.published = published
        self.link = link
        self.at = at
    }

    enum CodingKeys: String, CodingKey {
        case dropId = "drop", target, deliveryId = "delivery", account, reasonCode = "reason", location, published, link, at
    }
}

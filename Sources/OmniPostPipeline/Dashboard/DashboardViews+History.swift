import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

/// The history page's question, read from its form: part of a name, a target, a state, a date range
/// (days in the host's zone, as the charts' hours are) and a page number. A value that does not read
/// (a date typed by hand, a page of -3) is left out and said so, never guessed at.
struct HistoryQuery {
    static let perPage = 50
    var query = Ledger.DropQuery()
    var page = 1
    var fromText = "", untilText = "", problems: [String] = []
    /// Kept on the page links where several pipelines share the listener.
    var pipeline: String?

    init(_ params: [(String, String)]) {
        let p = Dictionary(params, uniquingKeysWith: { _, b in b })
        query.limit = Self.perPage
        query.name = p["name"].flatMap { $0.isEmpty ? nil : $0 }
        query.target = p["target"].flatMap { $0.isEmpty ? nil : $0 }
        if let s = p["state"], !s.isEmpty {
            if let st = DropState(rawValue: s) { query.state = st } else { problems.append("state '\(s)' is not a drop state") }
        }
        fromText = p["from"] ?? ""
        untilText = p["until"] ?? ""
        if !fromText.isEmpty {
            if let d = Self.day(fromText) { query.from = d } else { problems.append("from '\(fromText)' is not a date (YYYY-MM-DD)") }
        }
        if !untilText.isEmpty {
            // Through the end of that day.
            if let d = Self.day(untilText) { query.until = d + 86400 } else { problems.append("until '\(untilText)' is not a date (YYYY-MM-DD)") }
        }
        if let s = p["page"], !s.isEmpty {
            if let n = Int(s), n >= 1, n <= 100_000 { page = n } else { problems.append("page '\(s)' is not a page number") }
        }
        query.offset = (page - 1) * Self.perPage
        pipeline = p["pipeline"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Midnight at the start of `text` (YYYY-MM-DD) in the host's zone.
    static func day(_ text: String) -> Double? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = .current
        f.dateFormat = "yyyy-MM-dd"
        return f.date(from: text)?.timeIntervalSince1970
    }

    /// This query's link with another page number.
    func link(page n: Int) -> String {
        var c = URLComponents()
        c.path = "/drops"
        var items: [URLQueryItem] = []
        if let v = query.name { items.append(.init(name: "name", value: v)) }
        if let v = query.target { items.append(.init(name: "target", value: v)) }
        if let v = query.state { items.append(.init(name: "state", value: v.rawValue)) }
        if !fromText.isEmpty { items.append(.init(name: "from", value: fromText)) }
        if !untilText.isEmpty { items.append(.init(name: "until", value: untilText)) }
        if let pipeline { items.append(.init(name: "pipeline", value: pipeline)) }
        items.append(.init(name: "page", value: String(n)))
        c.queryItems = items
        return c.string ?? "/drops"
    }
}

extension DashboardViews {
    /// The drops history: every drop the ledger holds, newest first, searched and paged.
    func history(_ h: HistoryQuery) throws -> [String: Any] {
        let (drops, total) = try ledger.searchDrops(h.query)
        let pages = max(1, (total + HistoryQuery.perPage - 1) / HistoryQuery.perPage)
        let rows = try drops.map { d -> [String: Any] in
            let ds = try ledger.deliveries(forDrop: d.id)
            var v: [String: Any] = [
                "id": d.id, "stem": d.stem, "state": d.state.rawValue, "created": isoStamp(d.createdAt),
                "targets": ds.map { ["target": $0.target, "state": $0.state.rawValue] }
            ]
            if let c = d.reasonCode { v["code"] = c }
            return v
        }
        let targets = Set(try ledger.knownTargets() + ctx.config.targets.map(\.name)).sorted()
        var v: [String: Any] = [
            "rows": rows, "any": !rows.isEmpty, "total": total, "page": h.page, "pages": pages,
            "name": h.query.name ?? "", "from": h.fromText, "until": h.untilText, "problems": h.problems,
            "targets": targets.map { ["name": $0, "chosen": $0 == h.query.target] },
            "states": DropState.allCases.map { ["name": $0.rawValue, "chosen": $0 == h.query.state] },
            "first": h.query.offset + (rows.isEmpty ? 0 : 1), "last": h.query.offset + rows.count
        ]
        if h.page > 1 { v["previous"] = h.link(page: h.page - 1) }
        if h.page < pages { v["next"] = h.link(page: h.page + 1) }
        return v
    }

    /// What a delivery posts, as the ledger recorded it at validation: the title, description, tags and
    /// privacy the platform was (or will be) sent. Nil when its document does not read.
    static func post(_ x: DeliveryRecord) -> [String: Any]? {
        guard let m = try? x.metadata else { return nil }
        var v: [String: Any] = ["title": m.title, "description": m.description, "privacy": m.privacy.rawValue, "tags": m.tags.joined(separator: ", ")]
        if let at = m.publishAt { v["publishAt"] = isoStamp(at.timeIntervalSince1970) }
        return v
    }
}

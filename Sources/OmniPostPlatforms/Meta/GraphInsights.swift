import Foundation
import OmniPostCore

/// The Graph API's insights edges, one reader for the Meta platforms (Instagram's and Threads'
/// `/{media-id}/insights`, a Page video's `/{video-id}/video_insights`): `{"data": [{"name", "period",
/// "values": [{"value": n}]}]}`, each metric's lifetime value taken as given — a metric is read, never
/// added to another reading or to itself.
extension GraphAPI {
    /// The post's insights by metric name; nil when the object is gone (the read-back says what became of
    /// it); empty when the platform has none for it yet (Instagram's "Not enough viewers", code 10 with that
    /// message). A grant without the insights permission (code 10 otherwise, or a 200-range permission
    /// code) throws `.insightsNotGranted`.
    func readInsights(_ id: String, edge: String = "insights", metrics: String?, token: String? = nil, permission: String) async throws -> [String: Double]? {
        let r = try await call(.GET, "/\(id)/\(edge)", metrics.map { [("metric", $0)] } ?? [], as: token)
        if r.status == 200, let d = r.decoded(GraphWire.Insights.self) {
            var out: [String: Double] = [:]
            for m in d.data ?? [] {
                if let v = m.values?.last?.value { out[m.name] = v }
            }
            return out
        }
        let code = Self.code(r)
        let message = Self.error(r)?.message ?? ""
        if r.status == 404 || (code == 100 && Self.subcode(r) == 33) { return nil }
        if code == 10, message.localizedCaseInsensitiveContains("not enough viewers") { return [:] }
        if code == 10 || (200...299).contains(code ?? 0) {
            throw DeliveryError(
                .permanent, .insightsNotGranted,
                "\(name) refused \(edge) for \(id) (code \(code ?? 0)): \(message) — the grant lacks \(permission); connect the account again (omnipost accounts add) to read these numbers",
                httpStatus: r.status)
        }
        throw classify(r, during: "reading \(id)'s \(edge)")
    }
}

extension GraphAPI {
    /// Each post's insights, one call a post, made into our numbers by `make`; a post gone is left out.
    func readInsights(
        _ posts: [PostRef], edge: String = "insights", metrics: String, token: String? = nil, permission: String,
        _ make: ([String: Double]) -> PostMetrics
    ) async throws -> [String: PostMetrics] {
        var out: [String: PostMetrics] = [:]
        for p in posts {
            if let v = try await readInsights(p.remoteId, edge: edge, metrics: metrics, token: token, permission: permission) { out[p.remoteId] = make(v) }
        }
        return out
    }
}

extension GraphWire {
    /// An insights edge's answer. Values are numbers for the lifetime metrics read here.
    struct Insights: Decodable {
        struct Metric: Decodable {
            /// A number; a breakdown's object (not read here) decodes as nil rather than failing the answer.
            struct Value: Decodable {
                var value: Double?
                enum CodingKeys: String, CodingKey { case value }
                init(from decoder: any Decoder) throws {
                    value = try? decoder.container(keyedBy: CodingKeys.self).decode(Double.self, forKey: .value)
                }
            }
            var name: String
            var period: String?
            var values: [Value]?
        }
        var data: [Metric]?
    }
}

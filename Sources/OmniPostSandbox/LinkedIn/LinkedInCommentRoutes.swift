import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OmniPostCore

/// Comments on a post as the Comments API documents them (learn.microsoft.com/linkedin/marketing/
/// community-management/shares/comments-api): `POST /rest/socialActions/{post-urn}/comments` with
/// `actor` (a member or organization URN the token may act as), `object` (the same post URN) and
/// `message.text`, answered 201 with the comment (`id`, `commentUrn`, `actor`, `message`, `created`) and
/// its URN in `x-restli-id`; `GET` on the same path lists them oldest first (`start`, `count` ≤ 100,
/// `paging.total`). Every call needs a current `LinkedIn-Version`.
extension LinkedInRoutes {
    static func addComments(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.post("/rest/socialActions/:urn/comments") { req, ctx -> Response in
            await state.count("linkedin.comment")
            guard let account = await account(req, state) else { return unauthorized }
            if let v = versionProblem(req) { return v }
            let urn = (ctx.parameters.get("urn") ?? "").removingPercentEncoding ?? ""
            guard await state.comments(platform: "linkedin", post: urn) != nil else { return error(404, "Not Found: \(urn)", code: "NOT_FOUND") }
            var req = req
            guard let body = try await json(&req) else { return error(400, "the body must be a JSON object") }
            guard let actor = body["actor"] as? String, await mayPostAs(actor, account: account, state: state) else {
                return error(403, "Not enough permissions to comment as \(body["actor"] as? String ?? "(no actor)")", code: "ACCESS_DENIED", service: 100)
            }
            guard body["object"] as? String == urn else {
                return error(400, "object must be the URN the comment is on (\(urn))", code: "ILLEGAL_ARGUMENT", service: 100)
            }
            guard let text = (body["message"] as? [String: Any])?["text"] as? String, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                return error(422, "message.text is required", code: "UNPROCESSABLE_ENTITY", service: 100)
            }
            if text.count > 1250 { return error(422, "message.text is longer than 1250 characters", code: "UNPROCESSABLE_ENTITY", service: 100) }
            if let code = await state.takeFollowUpFault() { return error(code, "Injected failure \(code)") }
            let id = "7" + SandboxState.randomID(18, alphabet: "0123456789")
            let activity = "urn:li:activity:" + String(urn.split(separator: ":").last ?? "")
            let c = SandboxTextTrack(id: "urn:li:comment:(\(activity),\(id))", language: "", name: actor, text: text)
            await state.addComment(c, platform: "linkedin", post: urn)
            if await state.losesFollowUpReply() { return error(504, "Gateway Timeout") }
            return SandboxHTTP.json(.created, view(c, object: urn), headers: [HTTPField.Name("x-restli-id")!: c.id])
        }
        router.get("/rest/socialActions/:urn/comments") { req, ctx -> Response in
            guard await account(req, state) != nil else { return unauthorized }
            if let v = versionProblem(req) { return v }
            let urn = (ctx.parameters.get("urn") ?? "").removingPercentEncoding ?? ""
            guard let all = await state.comments(platform: "linkedin", post: urn) else { return error(404, "Not Found: \(urn)", code: "NOT_FOUND") }
            let start = max(0, Int(SandboxHTTP.query(req, "start") ?? "") ?? 0)
            let count = min(100, max(1, Int(SandboxHTTP.query(req, "count") ?? "") ?? 10))
            let elements = all.dropFirst(start).prefix(count).map { view($0, object: urn) }
            return SandboxHTTP.json(.ok, ["elements": Array(elements), "paging": ["start": start, "count": count, "total": all.count]])
        }
    }

    static func view(_ c: SandboxTextTrack, object: String) -> [String: Any] {
        let id = String(c.id.split(separator: ",").last?.dropLast() ?? "")
        return [
            "id": id, "commentUrn": c.id, "actor": c.name, "object": object, "message": ["text": c.text],
            "created": ["actor": c.name, "time": 1_767_225_600_000]
        ]
    }
}

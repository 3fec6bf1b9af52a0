import Foundation
import OmniPostCore

extension Recipe {
    /// The most a recipe file may be: a page's steps, not a program.
    static let maxBytes = 256 << 10

    /// Reads a recipe file; every problem is `recipe_invalid` at its file:line:col (like a sidecar's).
    package static func load(path: String, displayName: String? = nil) throws -> Recipe {
        let doc = try YAMLDocument.load(
            path: path, displayName: displayName ?? path, maxBytes: maxBytes, syntaxCode: .recipeInvalid, invalidCode: .recipeInvalid)
        return try parse(doc)
    }

    package static func parse(text: String, file: String) throws -> Recipe {
        try parse(YAMLDocument.parse(text, file: file, syntaxCode: .recipeInvalid, invalidCode: .recipeInvalid))
    }

    static let anchorKeys = ["text", "placeholder", "selector"]

    static func parse(_ doc: DocNode) throws -> Recipe {
        let m = try doc.mapping(allowed: [
            "platform", "upload_page", "login_page", "logged_in", "logged_out", "qr", "qr_reveal", "steps", "success", "failures", "content_list", "timeouts",
            "site"
        ])
        func required(_ key: String) throws -> DocNode {
            guard let n = m[key] else { throw doc.fail("a recipe needs '\(key)'") }
            return n
        }
        let timeouts = try m["timeouts"]?.mapping(allowed: ["confirm", "upload", "anchor"]) ?? [:]
        let steps = try required("steps").sequence().map(step)
        if !steps.contains(where: { $0.action == .publish }) { throw try required("steps").fail("the steps need one with action: publish") }
        if !steps.contains(where: { $0.action == .upload }) { throw try required("steps").fail("the steps need one with action: upload") }
        // Publish is never clicked before the upload is complete: a recipe must say how that looks.
        if !steps.contains(where: { $0.action == .waitUpload }) {
            throw try required("steps").fail("the steps need one with action: wait_upload (what the page shows once the upload is complete)")
        }
        let content = try required("content_list").mapping(allowed: ["page", "item", "title", "duration", "id_attribute"])
        func contentKey(_ k: String) throws -> String {
            guard let n = content[k] else { throw try required("content_list").fail("content_list needs '\(k)'") }
            return try n.string()
        }
        return Recipe(
            platform: try required("platform").string(), file: doc.file,
            uploadPage: try required("upload_page").string(), loginPage: try required("login_page").string(),
            loggedIn: try probe(required("logged_in")),
            loggedOut: try loggedOut(m["logged_out"]),
            qr: try m["qr"].map { try anchor($0, in: $0.mapping(allowed: anchorKeys)) },
            qrReveal: try m["qr_reveal"].map { try anchor($0, in: $0.mapping(allowed: anchorKeys)) },
            steps: steps, success: try probe(required("success")),
            failures: try m["failures"]?.sequence().map(failure) ?? [],
            contentList: ContentList(
                page: try contentKey("page"), item: try contentKey("item"), title: try contentKey("title"),
                duration: try content["duration"]?.string(), idAttribute: try content["id_attribute"]?.string()),
            confirmWithin: try timeouts["confirm"]?.duration() ?? .seconds(30),
            uploadWithin: try timeouts["upload"]?.duration() ?? .seconds(1800),
            anchorWithin: try timeouts["anchor"]?.duration() ?? .seconds(10), site: try m["site"]?.string())
    }

    /// Exactly one of text, placeholder, selector among `m`.
    static func anchor(_ node: DocNode, in m: [String: DocNode]) throws -> Anchor {
        let given = anchorKeys.filter { m[$0] != nil }
        guard given.count == 1, let key = given.first, let n = m[key] else {
            throw node.fail(
                given.isEmpty
                    ? "an anchor needs one of text, placeholder or selector" : "an anchor has one of text, placeholder or selector, not \(given.joined(separator: " and "))")
        }
        let v = try n.string()
        if v.trimmingCharacters(in: .whitespaces).isEmpty { throw n.fail("an anchor's \(key) is empty") }
        return Anchor(kind: Anchor.Kind(rawValue: key)!, value: v, at: n.location)
    }

    /// One page state or a list of them.
    static func loggedOut(_ node: DocNode?) throws -> [Probe] {
        guard let node else { return [] }
        if case .sequence = node.node { return try node.sequence().map(probe) }
        return [try probe(node)]
    }

    static func probe(_ node: DocNode) throws -> Probe {
        let m = try node.mapping(allowed: anchorKeys + ["url_contains"])
        if let u = m["url_contains"] {
            if m.count > 1 { throw node.fail("a page state is one of url_contains, text, placeholder or selector") }
            return .urlContains(try u.string())
        }
        return .shown(try anchor(node, in: m))
    }

    static func step(_ node: DocNode) throws -> Step {
        let m = try node.mapping(allowed: anchorKeys + ["name", "action", "value", "optional", "until", "failed", "timeout", "confirm"])
        guard let nameNode = m["name"] else { throw node.fail("a step needs a name") }
        guard let actionNode = m["action"] else { throw node.fail("a step needs an action (\(Action.allCases.map(\.rawValue).joined(separator: ", ")))") }
        let action = Action(rawValue: try actionNode.oneOf(Action.allCases.map(\.rawValue)))!
        let value = try m["value"].map { Value(rawValue: try $0.oneOf(Value.allCases.map(\.rawValue)))! }
        if action == .fill, value == nil { throw node.fail("a fill step needs a value (\(Value.allCases.map(\.rawValue).joined(separator: ", ")))") }
        let until = try m["until"].map(probe)
        if action == .waitUpload, until == nil { throw node.fail("a wait_upload step needs 'until': what the page shows once the upload is complete") }
        let confirm = try m["confirm"].map { try anchor($0, in: $0.mapping(allowed: anchorKeys)) }
        if confirm != nil, action != .publish, let n = m["confirm"] { throw n.fail("only a publish step has a 'confirm' (the page's second button after publish)") }
        let given = m.filter { anchorKeys.contains($0.key) }
        let a = action == .waitUpload && given.isEmpty ? nil : try anchor(node, in: given)
        return Step(
            name: try nameNode.string(), action: action, anchor: a, value: value, optional: try m["optional"]?.bool() ?? false,
            until: until, failed: try m["failed"].map(probe), timeout: try m["timeout"]?.duration(), confirm: confirm)
    }

    static func failure(_ node: DocNode) throws -> FailureRule {
        let m = try node.mapping(allowed: anchorKeys + ["url_contains", "verdict", "says"])
        guard let v = m["verdict"] else { throw node.fail("a failure needs a verdict (\(Verdict.allCases.map(\.rawValue).joined(separator: ", ")))") }
        let verdict = Verdict(rawValue: try v.oneOf(Verdict.allCases.map(\.rawValue)))!
        let rest = m.filter { $0.key != "verdict" && $0.key != "says" }
        let when: Probe
        if let u = rest["url_contains"] {
            when = .urlContains(try u.string())
        } else {
            when = .shown(try anchor(node, in: rest))
        }
        return FailureRule(when: when, verdict: verdict, says: try m["says"]?.string() ?? verdict.rawValue)
    }
}

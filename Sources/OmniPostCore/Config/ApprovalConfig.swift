import Foundation

/// `approval:` — a person approves a drop before anything of it is sent (issue 29). `approval: required`
/// holds every target; `{targets: [youtube:main], remind_after: 4h, expire_after: 3d}` holds the named
/// ones, says so again after `remind_after`, and rejects a drop still waiting after `expire_after`
/// (`approval_expired`). A sidecar's `approval: required` holds its drop whatever the pipeline says; a
/// sidecar cannot waive a pipeline's requirement.
package struct ApprovalConfig: Sendable, Equatable {
    /// Every target needs approval.
    package var required = false
    /// Only these targets (by name) need it, when not `required`.
    package var targets: Set<String> = []
    package var remindAfter: Duration?
    package var expireAfter: Duration?

    package init(required: Bool = false, targets: Set<String> = [], remindAfter: Duration? = nil, expireAfter: Duration? = nil) {
        self.required = required
        self.targets = targets
        self.remindAfter = remindAfter
        self.expireAfter = expireAfter
    }

    /// Whether a delivery to `target` waits for a person, given the sidecar's own word.
    package func holds(_ target: String, sidecarRequires: Bool) -> Bool {
        sidecarRequires || required || targets.contains(target)
    }

    package static let keys = ["required", "targets", "remind_after", "expire_after"]

    static func parse(_ node: DocNode, targets known: [String]) throws -> ApprovalConfig {
        if case .scalar = node.node {
            let word = try node.string()
            switch word {
            case "required": return ApprovalConfig(required: true)
            case "none": return ApprovalConfig()
            default: throw node.fail("approval is `required`, `none` or a mapping ({required, targets, remind_after, expire_after}), not '\(Excerpt.quote(word))'")
            }
        }
        let m = try node.mapping(allowed: keys, what: "approval mapping")
        var c = ApprovalConfig()
        if let v = m["required"] { c.required = try v.bool() }
        if let v = m["targets"] {
            for t in try v.sequence() {
                let name = try t.string()
                guard known.contains(name) else {
                    throw t.fail("approval target '\(Excerpt.quote(name))' is not one of this pipeline's targets (\(known.joined(separator: ", ")))")
                }
                c.targets.insert(name)
            }
        }
        if let v = m["remind_after"] { c.remindAfter = try v.duration() }
        if let v = m["expire_after"] { c.expireAfter = try v.duration() }
        if !c.required && c.targets.isEmpty && (c.remindAfter != nil || c.expireAfter != nil) {
            throw node.fail("approval: remind_after and expire_after need `required: true` or `targets:` to hold anything")
        }
        return c
    }
}

import Foundation

/// What one host is and does among several sharing a ledger (`host:`, `host_roles:`; issue 27,
/// docs/several-hosts.md). Every claim this process makes is leased to `owner` (`host:pid:tag`), so the
/// ledger says which host holds what; `roles` say which claim loops run here at all.
package struct HostConfig: Sendable, Equatable {
    /// What a host may take up. A host without a role never claims that role's work: `ingest` is
    /// watching the inbox, making drops, checking them and filing them away (archive/failed); `convert`
    /// is the conversions; `upload` is the uploads and the read-backs of what was posted.
    package enum Role: String, Sendable, CaseIterable, Comparable {
        case ingest, convert, upload
        package static func < (a: Role, b: Role) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
    }

    /// This host's name in leases, `ledger_hosts`, `status` and `/metrics` (default: the machine's).
    package var name: String
    /// Default all three: one machine, or hosts that are all alike.
    package var roles: Set<Role> = Set(Role.allCases)
    /// Where `host_roles:` was written, for problems that concern it.
    package var rolesLocation: SourceLocation?
    /// How often this host's heartbeat renews its row and its leases; a lease runs three beats, so a
    /// beat or two lost to a slow moment never lets a live host's work be taken over.
    package var heartbeat: Duration = .seconds(10)
    package var leaseSeconds: Double { 3 * heartbeat.seconds }

    package init(name: String = HostConfig.machineName, roles: Set<Role> = Set(Role.allCases)) {
        self.name = name
        self.roles = roles
    }

    package func may(_ role: Role) -> Bool { roles.contains(role) }

    /// The machine's host name up to its first dot, reduced to what a folder name and a lease may hold.
    /// `gethostname` itself: Foundation's `hostName` asks the resolver for a canonical name, which can wait
    /// on DNS, and every pipeline file read asks for this.
    package static var machineName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        let raw = gethostname(&buffer, buffer.count - 1) == 0 ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        let short = raw.split(separator: ".").first.map(String.init) ?? ""
        let kept = String(short.unicodeScalars.filter { isNameCharacter($0) }.map(Character.init))
        return kept.isEmpty ? "localhost" : kept
    }

    static func isNameCharacter(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "-" || c == "_"
    }

    /// `host:` — a name of letters, digits, `-` and `_` (it becomes `work/<host>/` and the first part of
    /// every lease owner, where `:` separates the parts).
    static func parseName(_ node: DocNode) throws -> String {
        let name = try node.string()
        guard !name.isEmpty, name.count <= 63, name.unicodeScalars.allSatisfy(isNameCharacter) else {
            throw node.fail(
                "host: '\(Excerpt.quote(name))' is not a host name OmniPost can use: letters, digits, '-' and '_', at most 63 (it names work/<host>/ and this host's leases)")
        }
        return name
    }

    /// `host_roles: [convert, upload]` — each role known, none twice, at least one.
    static func parseRoles(_ node: DocNode) throws -> Set<Role> {
        let items = try node.sequenceOrScalar()
        guard !items.isEmpty else {
            throw node.fail(.hostRoleUnknown, "host_roles is empty: a host needs at least one of \(Role.allCases.map(\.rawValue).joined(separator: ", ")) (leave host_roles out for all three)")
        }
        var roles = Set<Role>()
        for item in items {
            let word = try item.string()
            guard let role = Role(rawValue: word) else {
                var msg = "host_roles: '\(Excerpt.quote(word))' is not a role; a host's roles are \(Role.allCases.map(\.rawValue).joined(separator: ", "))"
                if let g = DidYouMean.suggest(word, among: Role.allCases.map(\.rawValue)) { msg += "; did you mean '\(g)'?" }
                throw item.fail(.hostRoleUnknown, msg)
            }
            guard roles.insert(role).inserted else { throw item.fail(.hostRoleUnknown, "host_roles names \(word) twice") }
        }
        return roles
    }
}

extension DocNode {
    /// A list, or one scalar taken as a list of one.
    func sequenceOrScalar() throws -> [DocNode] {
        if case .scalar = node { return [self] }
        return try sequence()
    }
}

import OmniPostCore

extension PlatformDescriptor {
    /// A destination that is not a social platform (a folder, a bucket, a tus server, a webhook, a
    /// program): no API root or OAuth (the account entry holds what it needs, `settings`), the wide
    /// `any` profile, no scheduling and no covers.
    static func destination(
        _ name: String, _ displayName: String, accountFields: [String], settings: [String],
        upload: String, reconcile: String, quotas: String, facts: PlatformFacts? = nil,
        readBack: ReadBack = .reads(batch: 1, cost: 0)
    ) -> PlatformDescriptor {
        var d = PlatformDescriptor(
            name: name, displayName: displayName, apiRoot: "", oauth: nil, sandboxTokenPath: "", defaultProfile: "any", accountFields: accountFields,
            capabilities: .init(upload: upload, nativeScheduling: false, covers: "none", reconcile: reconcile, quotas: quotas), facts: facts)
        d.settings = settings
        d.storesCredentials = false
        d.readBack = readBack
        return d
    }
}

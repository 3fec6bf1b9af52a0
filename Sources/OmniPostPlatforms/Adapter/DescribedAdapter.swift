import OmniPostCore

/// An adapter that reads what its platform's descriptor already says rather than saying it again: the
/// platform's name, whether it publishes at a given time by itself, the part sizes its upload takes and
/// how often a status may be read. `Module` is the platform's unit (`XPlatform`).
package protocol DescribedAdapter: PlatformAdapter {
    associatedtype Module: PlatformModule
    var settings: AdapterSettings { get }
}

extension DescribedAdapter {
    package var platform: String { Module.descriptor.name }
    package var schedulesNatively: Bool { Module.descriptor.capabilities.nativeScheduling }
    package var account: AccountConfig { settings.account }

    /// The configured chunk size within the platform's part sizes (as configured where it names none).
    var partSize: Int64 { Module.descriptor.parts?.fit(settings.chunkSize) ?? settings.chunkSize }

    /// How processing is waited for: at the platform's status pace (`poll` replaces it, for tests), within `timeout`.
    static func polling(_ poll: PollPolicy?, timeout: Duration) -> ProcessingPoll {
        ProcessingPoll(policy: poll ?? Module.descriptor.statusPolling, timeout: timeout)
    }
}

extension DescribedAdapter where Self: ResumableAdapter {
    /// An upload that ends with its last request's answer has no processing to wait for.
    package var processing: ProcessingPoll { ProcessingPoll(policy: nil, timeout: settings.requestTimeout) }
}

import Foundation
import OmniPostCore
import Testing

/// `isoStamp` writes what `ISO8601DateFormatter` wrote before it (issue 30 took ICU's formatter off the
/// idle path): reports, status files and events read the same.
@Suite struct IsoStampTests {
    @Test func itWritesWhatFoundationsFormatterWrote() {
        let foundation = ISO8601DateFormatter()
        var instants: [Double] = [0, 0.7, 0.9999, 951_782_400, 951_868_799.4, 1_765_000_000.0004, 1_765_029_909.25, 4_102_444_799.999]
        for t in stride(from: 0.0, to: 4_100_000_000.0, by: 777_777.3) { instants.append(t) }
        for t in instants {
            #expect(isoStamp(t) == foundation.string(from: Date(timeIntervalSince1970: t)), "\(t)")
            #expect(isoStamp(Date(timeIntervalSince1970: t)) == isoStamp(t))
        }
        #expect(isoStamp(1_765_029_909.25) == "2025-12-06T14:05:09Z")
        #expect(isoStamp(0.9999) == "1970-01-01T00:00:01Z", "milliseconds are rounded first, as Foundation's formatter did")
    }
}

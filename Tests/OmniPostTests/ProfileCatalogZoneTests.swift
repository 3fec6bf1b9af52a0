import Foundation
@testable import OmniPostCore
import Testing

/// The bundled profiles' quota zones are checked here, not at every start (issue 30: `TimeZone(identifier:)`
/// is ICU's); a zone written in a user's profiles file is still checked where it is read.
@Suite struct ProfileCatalogZoneTests {
    @Test func everyBundledQuotaZoneIsKnown() throws {
        let catalog = try ProfileCatalog.bundled()
        var zones: [String] = []
        for rule in catalog.quotas.values.joined() {
            if case .calendarDay(let zone) = rule.window { zones.append(zone) }
        }
        #expect(zones.contains("America/Los_Angeles"), "YouTube's day resets at Pacific midnight")
        for zone in zones { #expect(TimeZone(identifier: zone) != nil, "bundled quota zone \(zone)") }
    }

    @Test func aUsersUnknownZoneIsStillRefusedAtItsLine() {
        let text = """
            quotas:
              youtube:
                - {name: upload_units, limit: 10000, cost: 1600, window: day, zone: America/Los_Angles}
            """
        #expect {
            _ = try ProfileCatalog.parse(text: text, file: "profiles.yaml")
        } throws: { error in
            guard let e = error as? OmniError else { return false }
            return e.code == .configInvalid && e.message.contains("unknown time zone 'America/Los_Angles'") && e.location?.line == 3
        }
    }
}

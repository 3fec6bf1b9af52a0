import Foundation
@testable import OmniPostPipeline
import Testing

/// The listener formats its `Date` header itself (no once-a-second date cache waking an idle daemon):
/// RFC 9110's IMF-fixdate, English names whatever the locale.
@Suite struct HTTPDateTests {
    @Test func formatsRFC9110sExampleAndEveryMonthAndWeekday() {
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        for day in stride(from: 0, to: 400 * 86400, by: 86400 + 3661) {
            #expect(HTTPDate.format(time_t(day)) == f.string(from: Date(timeIntervalSince1970: Double(day))))
        }
    }
}

/// The one error type that crosses stage boundaries: a stable code (what reports and tests key on),
/// a sentence for a person, where in their file it applies, and the underlying cause for logs.
package struct OmniError: Error, Sendable, CustomStringConvertible {
    package var code: ReasonCode
    package var message: String
    package var location: SourceLocation?
    package var underlying: String?

    package init(_ code: ReasonCode, _ message: String, at location: SourceLocation? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.location = location
        self.underlying = underlying.map { String(describing: $0) }
    }

    package var description: String {
        if let location { return "\(location): \(code): \(message)" }
        return "\(code): \(message)"
    }
}

extension OmniError {
    /// Wraps any error so a stage can always report a code; unknown errors are `internal_error`.
    /// Rethrows a cancellation (a shutdown, a reload) as itself: work that was stopped did not fail,
    /// and a stage must never record it against the drop. Called first in a stage's catch-all.
    package static func passCancellation(_ error: any Error) throws {
        if Task.isCancelled { throw CancellationError() }
    }

    package static func wrap(_ error: any Error, as code: ReasonCode = .internalError) -> OmniError {
        if let e = error as? OmniError { return e }
        return OmniError(code, String(describing: error), underlying: error)
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import OmniPostCore

/// Whether an error is the network's — a host that does not resolve, refuses the connection, times out,
/// drops it, or fails TLS — rather than OmniPost's own. Such a failure is `network_error` wherever it
/// happens (a token endpoint, an API, an upload host, a CLI check), never `internal_error`: the user's
/// question is "can this machine reach the platform", and the reason code must say so.
package enum NetworkFailure {
    package static func isNetwork(_ error: any Error) -> Bool {
        switch error {
        case is HTTPClientError, is IOError, is ChannelError, is SocketAddressError, is NIOSSLError:
            return true
        case let e as DeliveryError:
            return e.code == .networkError
        case let e as OmniError:
            return e.code == .networkError
        default:
            // NIOPosix's connection error (every address refused, or none resolved), named by its type
            // since this module does not link NIOPosix.
            return String(reflecting: type(of: error)).hasSuffix("NIOConnectionError")
        }
    }

    /// `error` as the delivery failure it is: a network failure retried as `network_error`, anything
    /// else `internal_error` (what the caller did not expect).
    package static func classify(_ error: any Error, _ what: String) -> DeliveryError {
        if let e = error as? DeliveryError { return e }
        if isNetwork(error) { return DeliveryError(.retryNow, .networkError, "\(what) could not be reached: \(error)") }
        if let e = error as? OmniError { return DeliveryError(.permanent, e.code, e.message) }
        return DeliveryError(.retryNow, .internalError, "\(what): \(error)")
    }
}

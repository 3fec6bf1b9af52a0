import Crypto
import Foundation

/// How a webhook delivery is signed (docs/destinations.md): `OmniPost-Signature: t=<unix seconds>,
/// v1=<hex HMAC-SHA256 over "<t>." followed by the body's bytes, keyed by the shared secret>`. The
/// timestamp inside the signed text lets a receiver refuse replays (older than 5 minutes).
package enum WebhookSignature {
    package static let header = "OmniPost-Signature"

    /// The header's value for a body already hashed into `mac` (see `start`).
    package static func value(timestamp: Int, mac: HMAC<SHA256>) -> String {
        "t=\(timestamp),v1=\(Data(mac.finalize()).map { String(format: "%02x", $0) }.joined())"
    }

    /// An HMAC ready to take the body's bytes (in as many pieces as it comes).
    package static func start(secret: String, timestamp: Int) -> HMAC<SHA256> {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: Data(secret.utf8)))
        mac.update(data: Data("\(timestamp).".utf8))
        return mac
    }

    package static func sign(_ body: Data, secret: String, timestamp: Int) -> String {
        var mac = start(secret: secret, timestamp: timestamp)
        mac.update(data: body)
        return value(timestamp: timestamp, mac: mac)
    }

    /// Whether `header` signs `body` with `secret`, within `tolerance` seconds of `now`.
    package static func verify(_ header: String, body: Data, secret: String, now: Date = Date(), tolerance: Double = 300) -> Bool {
        var t: Int? = nil
        var sigs: [String] = []
        for part in header.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2 else { continue }
            if kv[0] == "t" { t = Int(kv[1]) } else if kv[0] == "v1" { sigs.append(kv[1]) }
        }
        guard let t, abs(now.timeIntervalSince1970 - Double(t)) <= tolerance else { return false }
        let expected = sign(body, secret: secret, timestamp: t)
        return sigs.contains { "t=\(t),v1=\($0)" == expected }
    }
}

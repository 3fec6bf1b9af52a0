/// What OmniPost says it is to the services it talks to (User-Agent headers).
package enum Product {
    package static let name = "OmniPost"
    package static let version = "0.18.0"
    package static var userAgent: String { "\(name)/\(version)" }
}

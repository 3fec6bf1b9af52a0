/// What OmniPost says it is to the services it talks to (User-Agent headers).
public enum Product {
    public static let name = "OmniPost"
    public static let version = "0.18.0"
    public static var userAgent: String { "\(name)/\(version)" }
}

import Foundation

/// A JSON value as the DevTools protocol sends and takes it: commands' params and replies, events.
/// One small type, read by key and index, so no `[String: Any]` crosses an actor.
package enum CDPValue: Sendable, Equatable, Codable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral, ExpressibleByFloatLiteral
{
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([CDPValue])
    case object([String: CDPValue])

    package init(stringLiteral value: String) { self = .string(value) }
    package init(integerLiteral value: Int) { self = .number(Double(value)) }
    package init(floatLiteral value: Double) { self = .number(value) }
    package init(booleanLiteral value: Bool) { self = .bool(value) }
    package init(dictionaryLiteral elements: (String, CDPValue)...) { self = .object(Dictionary(elements) { $1 }) }
    package init(arrayLiteral elements: CDPValue...) { self = .array(elements) }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([CDPValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: CDPValue].self))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): try n.rounded() == n && abs(n) < 1e15 ? c.encode(Int64(n)) : c.encode(n)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    package subscript(_ key: String) -> CDPValue {
        if case .object(let o) = self { return o[key] ?? .null }
        return .null
    }

    package var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    package var numberValue: Double? { if case .number(let n) = self { return n } else { return nil } }
    package var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    package var listValue: [CDPValue] { if case .array(let a) = self { return a } else { return [] } }
    package var isNull: Bool { self == .null }

    package static func from(_ string: String) -> CDPValue { .string(string) }
}

import Foundation

/// The ledger's records (`FileRecord`, `DropRecord`, …) read from and written to `LedgerSQL` through
/// their Codable conformance, column for column as GRDB has always stored them — property names in
/// snake_case (`clipSha256` is `clip_sha256`), a nil as NULL, a raw-value enum as its raw value, a Bool
/// as 0/1, and any other nested value (`EventData`, a list) as JSON text with sorted keys — so rows the
/// SQLite ledger wrote before read the same, and a family moved onto `LedgerSQL` keeps its records.
extension LedgerSQL {
    /// The rows of `sql` as records.
    package func fetchAll<R: Decodable>(_ type: R.Type, _ sql: String, _ arguments: [SQLValue] = []) throws -> [R] {
        try rows(sql, arguments).map { try R(from: SQLRowDecoder(row: $0)) }
    }

    /// The first row of `sql` as a record, if any.
    package func fetchOne<R: Decodable>(_ type: R.Type, _ sql: String, _ arguments: [SQLValue] = []) throws -> R? {
        try row(sql, arguments).map { try R(from: SQLRowDecoder(row: $0)) }
    }

    /// Inserts `record` into `table`. A nil `id` is left to the table (its AUTOINCREMENT or identity
    /// column) and the id given is returned; a record without an `id` column returns nil.
    @discardableResult
    package func insert<R: Encodable>(_ record: R, into table: String) throws -> Int64? {
        var columns = try SQLRecordColumns.of(record)
        let generatesId = columns.contains { $0.name == "id" && $0.value == .null }
        if generatesId { columns.removeAll { $0.name == "id" } }
        let names = columns.map { "\"\($0.name)\"" }.joined(separator: ", ")
        let marks = columns.map { _ in "?" }.joined(separator: ", ")
        let statement = "INSERT INTO \(table) (\(names)) VALUES (\(marks))"
        guard generatesId else {
            try run(statement, columns.map(\.value))
            return nil
        }
        return try row(statement + " RETURNING id", columns.map(\.value))?.int("id")
    }

    /// Writes every column of `record` to its row in `table`, found by `key` (its primary key column).
    /// Returns how many rows changed (0: the row is gone).
    @discardableResult
    package func update<R: Encodable>(_ record: R, in table: String, key: String = "id") throws -> Int {
        let columns = try SQLRecordColumns.of(record)
        guard let keyValue = columns.first(where: { $0.name == key })?.value else {
            throw SQLRecordError("\(R.self) has no \(key) to update \(table) by")
        }
        let rest = columns.filter { $0.name != key }
        return try run(
            "UPDATE \(table) SET " + rest.map { "\"\($0.name)\" = ?" }.joined(separator: ", ") + " WHERE \"\(key)\" = ?",
            rest.map(\.value) + [keyValue])
    }

    /// Writes only the columns of `record` that differ from `old`, the same row as it was read in this
    /// transaction: a transition changes a few columns of a drop, and a column left out of the `SET` is
    /// an index SQLite does not touch (every column written rewrote every index of the row — a good part
    /// of the WAL pages a drop cost, issue 30). Returns how many rows changed (0: nothing differed).
    @discardableResult
    package func update<R: Encodable>(_ record: R, in table: String, key: String = "id", changedFrom old: R) throws -> Int {
        let columns = try SQLRecordColumns.of(record)
        let before = Dictionary(try SQLRecordColumns.of(old).map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        guard let keyValue = columns.first(where: { $0.name == key })?.value, before[key] == keyValue else {
            throw SQLRecordError("\(R.self) has no \(key) to update \(table) by, or it is not the row read")
        }
        let changed = columns.filter { $0.name != key && before[$0.name] != $0.value }
        guard !changed.isEmpty else { return 0 }
        return try run(
            "UPDATE \(table) SET " + changed.map { "\"\($0.name)\" = ?" }.joined(separator: ", ") + " WHERE \"\(key)\" = ?",
            changed.map(\.value) + [keyValue])
    }

    /// Inserts `record`, or writes every column over the row already holding its `key` (GRDB's `save`).
    package func save<R: Encodable>(_ record: R, into table: String, key: String) throws {
        let columns = try SQLRecordColumns.of(record)
        let names = columns.map { "\"\($0.name)\"" }
        let updates = columns.filter { $0.name != key }.map { "\"\($0.name)\" = excluded.\"\($0.name)\"" }
        try run(
            "INSERT INTO \(table) (\(names.joined(separator: ", "))) VALUES (\(sqlMarks(columns.count))) ON CONFLICT (\"\(key)\") DO UPDATE SET "
                + updates.joined(separator: ", "), columns.map(\.value))
    }

    /// One number from a statement (`COUNT(*)`, `MIN(…)`): its first row's `column`, nil when no row or NULL.
    package func int(_ sql: String, _ arguments: [SQLValue] = [], column: String = "n") throws -> Int64? {
        try row(sql, arguments)?.int(column)
    }
}

/// A list of `?` marks for an `IN (…)` of `count` values (at least one: `IN ()` is no statement).
func sqlMarks(_ count: Int) -> String { Array(repeating: "?", count: max(count, 1)).joined(separator: ",") }

struct SQLRecordError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// `clipSha256` → `clip_sha256`: GRDB's (and Foundation's) `convertToSnakeCase` for the names records use.
/// Asked for every column of every row read, so ASCII names (all of the records' names) are converted by
/// byte — a name without capitals is returned as it is — and only other names by `Character`, whose
/// Unicode property lookups made it a tenth of a rejected drop's CPU.
func snakeCase(_ name: String) -> String {
    // Remembered per name (the records' coding keys: a few hundred at most), the conversion made once:
    // it allocated a new string for every column of every row read or written (issue 30, r16).
    // A name without capitals (most columns) is its own, found by a scan of its bytes, cheaper than a lookup.
    if !name.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A || $0 >= 0x80 }) { return name }
    if let known = SnakeCaseNames.shared.known(name) { return known }
    let made = convertToSnakeCase(name)
    SnakeCaseNames.shared.remember(name, made)
    return made
}

/// `snakeCase`'s names made so far.
private final class SnakeCaseNames: @unchecked Sendable {
    static let shared = SnakeCaseNames()
    private let lock = NSLock()
    private var names: [String: String] = [:]
    func known(_ name: String) -> String? { lock.withLock { names[name] } }
    func remember(_ name: String, _ made: String) { lock.withLock { names[name] = made } }
}

private func convertToSnakeCase(_ name: String) -> String {
    let bytes = name.utf8
    if bytes.allSatisfy({ $0 < 0x80 }) {
        guard bytes.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return name }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 4)
        for b in bytes {
            if b >= 0x41 && b <= 0x5A {
                if !out.isEmpty { out.append(0x5F) }
                out.append(b + 0x20)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
    var out = ""
    out.reserveCapacity(name.count + 4)
    for c in name {
        if c.isUppercase {
            if !out.isEmpty { out.append("_") }
            out.append(contentsOf: c.lowercased())
        } else {
            out.append(c)
        }
    }
    return out
}

// MARK: - Reading a row into a record

/// Decodes a record from one row: each key is the column of its snake-case name.
struct SQLRowDecoder: Decoder {
    let row: SQLRow
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(Keyed<Key>(row: row))
    }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw SQLRecordError("a row is not a list") }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { throw SQLRecordError("a row is not one value") }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let row: SQLRow
        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { row.values.keys.compactMap { Key(stringValue: $0) } }

        func contains(_ key: Key) -> Bool { row.values[snakeCase(key.stringValue)] != nil }
        func decodeNil(forKey key: Key) throws -> Bool { row[snakeCase(key.stringValue)] == .null }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            // The column's name made once (it was twice a column, for the value and for an error's text).
            let column = snakeCase(key.stringValue)
            return try SQLValueDecoder.decode(T.self, from: row[column], column: column)
        }
        func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
            throw SQLRecordError("column \(key.stringValue) is not a row")
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            throw SQLRecordError("column \(key.stringValue) is not a list")
        }
        func superDecoder() throws -> any Decoder { SQLRowDecoder(row: row) }
        func superDecoder(forKey key: Key) throws -> any Decoder { SQLRowDecoder(row: row) }
    }
}

/// One column's value as a Swift value: the four kinds directly, a raw-value enum through its raw value,
/// anything else from the JSON text the column holds.
struct SQLValueDecoder: Decoder, SingleValueDecodingContainer {
    let value: SQLValue
    let column: String
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// Asked of a nested value that is neither one of the kinds nor a raw-value enum: read it as JSON.
    struct NeedsJSON: Error {}

    static func decode<T: Decodable>(_ type: T.Type, from value: SQLValue, column: String) throws -> T {
        do {
            return try T(from: SQLValueDecoder(value: value, column: column))
        } catch is NeedsJSON {
            guard case .text(let json) = value else { throw SQLRecordError("column \(column): \(value) is not JSON for \(T.self)") }
            return try JSONDecoder().decode(T.self, from: Data(json.utf8))
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> { throw NeedsJSON() }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw NeedsJSON() }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool { value == .null }
    private func mismatch(_ kind: String) -> any Error { SQLRecordError("column \(column): \(value) is not \(kind)") }

    func decode(_ type: Bool.Type) throws -> Bool {
        // Read from the value itself: a one-entry `SQLRow` (a dictionary) was made for every column of every row (issue 30).
        guard let v = value.int else { throw mismatch("a flag") }
        return v != 0
    }
    func decode(_ type: String.Type) throws -> String {
        guard let v = value.text else { throw mismatch("text") }
        return v
    }
    func decode(_ type: Double.Type) throws -> Double {
        guard let v = value.double else { throw mismatch("a number") }
        return v
    }
    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func decode(_ type: Int64.Type) throws -> Int64 {
        guard let v = value.int else { throw mismatch("an integer") }
        return v
    }
    func decode(_ type: Int.Type) throws -> Int { Int(try decode(Int64.self)) }
    func decode(_ type: Int8.Type) throws -> Int8 { Int8(try decode(Int64.self)) }
    func decode(_ type: Int16.Type) throws -> Int16 { Int16(try decode(Int64.self)) }
    func decode(_ type: Int32.Type) throws -> Int32 { Int32(try decode(Int64.self)) }
    func decode(_ type: UInt.Type) throws -> UInt { UInt(try decode(Int64.self)) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { UInt8(try decode(Int64.self)) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { UInt16(try decode(Int64.self)) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { UInt32(try decode(Int64.self)) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { UInt64(try decode(Int64.self)) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try Self.decode(T.self, from: value, column: column) }
}

// MARK: - A record's columns

/// A record's stored properties as columns, in declaration order, by encoding it.
enum SQLRecordColumns {
    struct Column: Equatable {
        var name: String
        var value: SQLValue
    }

    static func of<R: Encodable>(_ record: R) throws -> [Column] {
        let sink = Sink()
        try record.encode(to: RowEncoder(sink: sink))
        return sink.columns
    }

    final class Sink {
        var columns: [Column] = []
        func set(_ name: String, _ value: SQLValue) {
            let column = snakeCase(name)
            if let i = columns.firstIndex(where: { $0.name == column }) { columns[i].value = value } else { columns.append(Column(name: column, value: value)) }
        }
    }

    struct RowEncoder: Encoder {
        let sink: Sink
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }
        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> { KeyedEncodingContainer(Keyed<Key>(sink: sink)) }
        func unkeyedContainer() -> any UnkeyedEncodingContainer { fatalError("a ledger record is a row, not a list") }
        func singleValueContainer() -> any SingleValueEncodingContainer { fatalError("a ledger record is a row, not one value") }
    }

    /// Every `encodeIfPresent` writes NULL for nil (the default skips the key): an update must clear a
    /// column whose property became nil, as GRDB's records do.
    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let sink: Sink
        var codingPath: [any CodingKey] { [] }

        mutating func encodeNil(forKey key: Key) throws { sink.set(key.stringValue, .null) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { sink.set(key.stringValue, try ValueEncoder.encode(value)) }
        mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
            if let value { sink.set(key.stringValue, try ValueEncoder.encode(value)) } else { sink.set(key.stringValue, .null) }
        }
        mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { sink.set(key.stringValue, value.map { .integer($0 ? 1 : 0) } ?? .null) }
        mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { sink.set(key.stringValue, value.map(SQLValue.text) ?? .null) }
        mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { sink.set(key.stringValue, value.map(SQLValue.real) ?? .null) }
        mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { sink.set(key.stringValue, value.map { .real(Double($0)) } ?? .null) }
        mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { sink.set(key.stringValue, value.map { .integer(Int64($0)) } ?? .null) }
        mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { sink.set(key.stringValue, value.map { .integer(Int64($0)) } ?? .null) }
        mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { sink.set(key.stringValue, value.map { .integer(Int64($0)) } ?? .null) }
        mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { sink.set(key.stringValue, value.map { .integer(Int64($0)) } ?? .null) }
        mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { sink.set(key.stringValue, value.map(SQLValue.integer) ?? .null) }
        mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { sink.set(key.stringValue, value.map { .integer(Int64($0)) } ?? .null) }
        mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { sink.set(key.stringValue, value.map { .integer(Int64($0)) } ?? .null) }
        mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { sink.set(key.stringValue, value.map { .integer(Int64($0)) } ?? .null) }
        mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { sink.set(key.stringValue, value.map { .integer(Int64($0)) } ?? .null) }
        mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { sink.set(key.stringValue, value.map { .integer(Int64($0)) } ?? .null) }

        mutating func nestedContainer<N: CodingKey>(keyedBy keyType: N.Type, forKey key: Key) -> KeyedEncodingContainer<N> {
            fatalError("a ledger record's column is one value")
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { fatalError("a ledger record's column is one value") }
        mutating func superEncoder() -> any Encoder { RowEncoder(sink: sink) }
        mutating func superEncoder(forKey key: Key) -> any Encoder { RowEncoder(sink: sink) }
    }

    /// One value as a column: the four kinds directly, a raw-value enum by its raw value, anything else
    /// (a value that asks for a container, even an empty one) as JSON text with sorted keys, as GRDB writes it.
    final class ValueEncoder: Encoder, SingleValueEncodingContainer {
        var value: SQLValue = .null
        var wantsJSON = false
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        static func encode<T: Encodable>(_ v: T) throws -> SQLValue {
            let e = ValueEncoder()
            try v.encode(to: e)
            guard e.wantsJSON else { return e.value }
            let json = JSONEncoder()
            json.outputFormatting = .sortedKeys
            return .text(String(decoding: try json.encode(v), as: UTF8.self))
        }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            wantsJSON = true
            return KeyedEncodingContainer(Ignoring<Key>())
        }
        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            wantsJSON = true
            return IgnoringList()
        }
        func singleValueContainer() -> any SingleValueEncodingContainer { self }

        func encodeNil() throws { value = .null }
        func encode(_ v: Bool) throws { value = .integer(v ? 1 : 0) }
        func encode(_ v: String) throws { value = .text(v) }
        func encode(_ v: Double) throws { value = .real(v) }
        func encode(_ v: Float) throws { value = .real(Double(v)) }
        func encode(_ v: Int) throws { value = .integer(Int64(v)) }
        func encode(_ v: Int8) throws { value = .integer(Int64(v)) }
        func encode(_ v: Int16) throws { value = .integer(Int64(v)) }
        func encode(_ v: Int32) throws { value = .integer(Int64(v)) }
        func encode(_ v: Int64) throws { value = .integer(v) }
        func encode(_ v: UInt) throws { value = .integer(Int64(v)) }
        func encode(_ v: UInt8) throws { value = .integer(Int64(v)) }
        func encode(_ v: UInt16) throws { value = .integer(Int64(v)) }
        func encode(_ v: UInt32) throws { value = .integer(Int64(v)) }
        func encode(_ v: UInt64) throws { value = .integer(Int64(v)) }
        func encode<T: Encodable>(_ v: T) throws { value = try Self.encode(v) }
    }

    /// The containers a JSON-bound value writes into while it is being found out: they keep nothing
    /// (JSONEncoder writes the value afterwards).
    struct Ignoring<Key: CodingKey>: KeyedEncodingContainerProtocol {
        var codingPath: [any CodingKey] { [] }
        mutating func encodeNil(forKey key: Key) throws {}
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {}
        mutating func nestedContainer<N: CodingKey>(keyedBy keyType: N.Type, forKey key: Key) -> KeyedEncodingContainer<N> {
            KeyedEncodingContainer(Ignoring<N>())
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { IgnoringList() }
        mutating func superEncoder() -> any Encoder { ValueEncoder() }
        mutating func superEncoder(forKey key: Key) -> any Encoder { ValueEncoder() }
    }

    struct IgnoringList: UnkeyedEncodingContainer {
        var codingPath: [any CodingKey] { [] }
        var count: Int = 0
        mutating func encodeNil() throws { count += 1 }
        mutating func encode<T: Encodable>(_ value: T) throws { count += 1 }
        mutating func nestedContainer<N: CodingKey>(keyedBy keyType: N.Type) -> KeyedEncodingContainer<N> { KeyedEncodingContainer(Ignoring<N>()) }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { IgnoringList() }
        mutating func superEncoder() -> any Encoder { ValueEncoder() }
    }
}

import Foundation
import NIOCore
import OmniPostCore
import PostgresNIO
import Synchronization

/// One transaction on one connection: what a ledger operation's statements run on (`LedgerSQL`).
struct PostgresTransaction: LedgerSQL {
    let connection: PostgresConnection
    var dialect: SQLDialect { .postgres }

    func rows(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        try send(sql, arguments).rows.map(Self.row)
    }

    @discardableResult
    func run(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        try send(sql, arguments).metadata.rows ?? 0
    }

    private func send(_ sql: String, _ arguments: [SQLValue]) throws -> PostgresQueryResult {
        // A connection the server already ended is not asked: a query sent on a closed connection may never
        // be answered (PostgresNIO), and the ledger is unreachable for now either way.
        if connection.isClosed { throw OmniError(.ledgerUnreachable, "lost the connection to the ledger: the connection is closed") }
        do {
            return try Self.answer(connection.query(numberedPlaceholders(sql), arguments.map(Self.bind)), of: connection)
        } catch let e as NoAnswer {
            throw OmniError(.ledgerUnreachable, "the ledger did not answer within \(e.seconds) s; the connection was closed")
        } catch {
            // PostgresNIO's future API reports a server's error as `PostgresError.server`. A connection the
            // server ended (a restart, an administrator: SQLSTATE class 57 "operator intervention"), a
            // connection exception (class 08) or a closed channel means the ledger is unreachable for now —
            // the pool connects anew next time. Anything else is this statement's.
            let state: String? =
                if case .server(let m) = error as? PostgresError { m.fields[.sqlState] } else { (error as? PSQLError)?.serverInfo?[.sqlState] }
            let message = PostgresConnections.describe(error)
            if connection.isClosed || state == nil || state!.hasPrefix("57") || state!.hasPrefix("08") {
                throw OmniError(.ledgerUnreachable, "lost the connection to the ledger: \(message)")
            }
            throw PostgresStatementError(sql: sql, message: message, sqlState: state)
        }
    }

    /// How long a statement's answer is waited for. The crash test across hosts found a daemon whose
    /// statement, sent as the database restarted, was never answered nor failed: its thread waited for good
    /// and the daemon could not stop. No ledger statement takes this long (a lock wait included); one that
    /// does is the connection's fault, so the connection is closed and the pool connects anew.
    static let answerWithin: Int64 = 60

    struct NoAnswer: Error { var seconds: Int64 }

    /// `future`'s value, or `NoAnswer` after `answerWithin` seconds (the connection then closed).
    private static func answer(_ future: EventLoopFuture<PostgresQueryResult>, of connection: PostgresConnection) throws -> PostgresQueryResult {
        let promise = future.eventLoop.makePromise(of: PostgresQueryResult.self)
        let first = FirstOnly()
        future.whenComplete { r in if first.take() { promise.completeWith(r) } }
        let timer = future.eventLoop.scheduleTask(in: .seconds(answerWithin)) {
            if first.take() {
                promise.fail(NoAnswer(seconds: answerWithin))
                let _: EventLoopFuture<Void> = connection.close()
            }
        }
        defer { timer.cancel() }
        return try promise.futureResult.wait()
    }

    private static func bind(_ v: SQLValue) -> PostgresData {
        switch v {
        case .null: .null
        case .integer(let i): PostgresData(int64: i)
        case .real(let d): PostgresData(double: d)
        case .text(let s): PostgresData(string: s)
        }
    }

    /// A row's cells as the four kinds: integers of any width, floating point, text; a boolean as 0/1
    /// (SQLite's way, so code reading either backend sees one kind).
    static func row(_ row: PostgresRow) throws -> SQLRow {
        var values: [String: SQLValue] = [:]
        for cell in row {
            guard cell.bytes != nil else {
                values[cell.columnName] = .null
                continue
            }
            switch cell.dataType {
            case .int2, .int4, .int8, .oid: values[cell.columnName] = .integer(try cell.decode(Int64.self))
            case .float4, .float8: values[cell.columnName] = .real(try cell.decode(Double.self))
            case .numeric: values[cell.columnName] = Self.number(try cell.decode(Decimal.self))
            case .bool: values[cell.columnName] = .integer(try cell.decode(Bool.self) ? 1 : 0)
            default: values[cell.columnName] = .text(try cell.decode(String.self))
            }
        }
        return SQLRow(values)
    }

    /// A NUMERIC as the kind SQLite gives for the same expression: PostgreSQL's `SUM` of BIGINT is NUMERIC
    /// (SQLite's is INTEGER), so a whole number that fits is an integer, anything else a real. (Read as
    /// text, a binary NUMERIC is not its digits: that gave NaN, and reading NaN as an integer traps.)
    static func number(_ d: Decimal) -> SQLValue {
        let n = NSDecimalNumber(decimal: d), i = n.int64Value
        return Decimal(i) == d ? .integer(i) : .real(n.doubleValue)
    }

    /// Runs `body` between BEGIN and COMMIT; ROLLBACK when it throws.
    static func inTransaction<T>(_ connection: PostgresConnection, _ body: (PostgresTransaction) throws -> T) throws -> T {
        let tx = PostgresTransaction(connection: connection)
        try tx.run("BEGIN", [])
        do {
            let v = try body(tx)
            try tx.run("COMMIT", [])
            return v
        } catch {
            _ = try? tx.run("ROLLBACK", [])
            throw error
        }
    }
}

/// A statement the server refused, with the server's sentence and SQLSTATE (23505: a unique key
/// already holds the value; 40001/40P01: a serialization failure or deadlock, worth one retry).
struct PostgresStatementError: Error, CustomStringConvertible {
    var sql: String
    var message: String
    var sqlState: String?
    var description: String { "\(message) — in: \(sql.prefix(300))" }
}

/// True for the first caller only: a statement's answer and its deadline race, and one of them completes it.
private final class FirstOnly: Sendable {
    private let done = Mutex(false)
    func take() -> Bool { done.withLock { d in defer { d = true }; return !d } }
}

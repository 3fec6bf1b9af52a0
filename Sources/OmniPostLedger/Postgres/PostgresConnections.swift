import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import OmniPostCore
import PostgresNIO

/// The connections one host holds to the shared ledger: at most `pool_size`, opened when needed, one
/// per transaction at a time. The ledger's operations are synchronous (as on SQLite, where GRDB
/// blocks the caller too), so a statement is sent through PostgresNIO's event-loop futures and the
/// calling thread waits for the answer: the work itself runs on NIO's own threads, never on the Swift
/// concurrency pool the caller may be blocking, so waiting cannot starve the answer.
final class PostgresConnections: @unchecked Sendable {  // mutable state under `lock`
    let config: PostgresLedgerConfig
    private let group: any EventLoopGroup
    private let logger: Logger
    private let password: String?
    private let tls: PostgresConnection.Configuration.TLS
    private let lock = NSCondition()
    private var idle: [PostgresConnection] = []
    /// Lock connections let go cleanly (their lock given back), kept for the next hold: a decisions hold
    /// comes with every validation on the shared ledger, and a connection's start (its authentication)
    /// cost more than the hold itself.
    private var idleSeparate: [PostgresConnection] = []
    private static let keptSeparate = 2
    private var open = 0
    private var closed = false
    private var nextID = 0

    init(config: PostgresLedgerConfig, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        self.config = config
        self.group = group
        self.password = try config.password()
        self.tls = try Self.tls(config)
        var logger = Logger(label: "omnipost.ledger.postgres")
        logger.logLevel = .critical
        self.logger = logger
    }

    /// `tls:` as PostgresNIO's TLS: `require` encrypts without checking who answers (libpq's
    /// sslmode=require); `verify-full` checks the chain (against `ca_file` when given) and the host name.
    private static func tls(_ c: PostgresLedgerConfig) throws -> PostgresConnection.Configuration.TLS {
        switch c.tls {
        case .disable: return .disable
        case .require:
            var t = TLSConfiguration.makeClientConfiguration()
            t.certificateVerification = .none
            return .require(try NIOSSLContext(configuration: t))
        case .verifyFull:
            var t = TLSConfiguration.makeClientConfiguration()
            t.certificateVerification = .fullVerification
            if let ca = c.caFile { t.trustRoots = .file(ca.path) }
            return .require(try NIOSSLContext(configuration: t))
        }
    }

    /// A connection for `body`'s time, returned afterwards — or dropped when it broke, so the next
    /// caller connects anew (a restarted database is reached again without restarting OmniPost).
    func with<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try take()
        do {
            let v = try body(connection)
            give(back: connection)
            return v
        } catch {
            // A connection the ledger was unreachable on is not handed out again, even before its close
            // has been noticed: the next caller connects anew instead of meeting the same dead connection.
            if (error as? OmniError)?.code == .ledgerUnreachable { discard(connection) } else { give(back: connection) }
            throw error
        }
    }

    private func discard(_ connection: PostgresConnection) {
        lock.lock()
        open -= 1
        lock.signal()
        lock.unlock()
        // Not waited for: a connection that stopped answering may not answer its close either.
        if !connection.isClosed { let _: EventLoopFuture<Void> = connection.close() }
    }

    /// A connection of its own, outside the pool, for a session-level advisory lock held across awaits:
    /// what runs under the lock uses the pool meanwhile (from the pool, a pool of one would wait on
    /// itself). Given back with `giveBackSeparate` once it holds no lock, or closed with `closeSeparate`.
    /// `kept` says it was kept from an earlier hold (one the server may have dropped meanwhile).
    func openSeparate(fresh: Bool = false) throws -> (connection: PostgresConnection, kept: Bool) {
        lock.lock()
        if closed {
            lock.unlock()
            throw OmniError(.internalError, "the ledger \(config.display) is closed")
        }
        while !fresh, let c = idleSeparate.popLast() {
            if !c.isClosed {
                lock.unlock()
                return (c, true)
            }
        }
        nextID += 1
        let id = nextID
        lock.unlock()
        return (try connect(id: id), false)
    }

    func closeSeparate(_ connection: PostgresConnection) { Self.closeNow(connection) }

    /// A lock connection whose lock was let go (the unlock answered): kept for the next hold, up to
    /// `keptSeparate`; closed past that or once the ledger is.
    func giveBackSeparate(_ connection: PostgresConnection) {
        lock.lock()
        let keep = !closed && !connection.isClosed && idleSeparate.count < Self.keptSeparate
        if keep { idleSeparate.append(connection) }
        lock.unlock()
        if !keep && !connection.isClosed { Self.closeNow(connection) }
    }

    private func take() throws -> PostgresConnection {
        lock.lock()
        while true {
            if closed {
                lock.unlock()
                throw OmniError(.internalError, "the ledger \(config.display) is closed")
            }
            if let c = idle.popLast() {
                if c.isClosed {
                    open -= 1
                    continue
                }
                lock.unlock()
                return c
            }
            if open < config.poolSize {
                open += 1
                nextID += 1
                let id = nextID
                lock.unlock()
                do {
                    return try connect(id: id)
                } catch {
                    lock.lock()
                    open -= 1
                    lock.signal()
                    lock.unlock()
                    throw error
                }
            }
            lock.wait()
        }
    }

    private func give(back connection: PostgresConnection) {
        lock.lock()
        if connection.isClosed || closed {
            open -= 1
            if !connection.isClosed { Self.closeNow(connection) }
        } else {
            idle.append(connection)
        }
        lock.signal()
        lock.unlock()
    }

    private func connect(id: Int) throws -> PostgresConnection {
        var c = PostgresConnection.Configuration(
            host: config.host, port: config.port, username: config.user, password: password, database: config.database, tls: tls)
        c.options.connectTimeout = .seconds(10)
        if config.tls != .disable { c.options.tlsServerName = config.host }
        do {
            return try PostgresConnection.connect(on: group.next(), configuration: c, id: id, logger: logger).wait()
        } catch {
            throw Self.unreachable(config, error)
        }
    }

    /// A sentence for a database this host cannot use, naming it (without its password) and why.
    static func unreachable(_ config: PostgresLedgerConfig, _ error: any Error) -> OmniError {
        OmniError(.ledgerUnreachable, "cannot reach the ledger \(config.display): \(describe(error))")
    }

    /// PostgresNIO's errors say little in their description; the server's own message and the socket's
    /// error are what a person can act on.
    static func describe(_ error: any Error) -> String {
        if let e = error as? PSQLError {
            if let message = e.serverInfo?[.message] {
                let code = e.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return message + code
            }
            if let underlying = e.underlying { return "\(e.code): \(underlying)" }
            return "\(e.code)"
        }
        if case .server(let m) = error as? PostgresError, let message = m.fields[.message] {
            return message + (m.fields[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
        }
        return "\(error)"
    }

    /// Closes every connection and refuses new ones; waits until each has closed.
    func close() {
        lock.lock()
        closed = true
        let all = idle
        idle = []
        open -= all.count
        let separate = idleSeparate
        idleSeparate = []
        lock.broadcast()
        lock.unlock()
        for c in all + separate { Self.closeNow(c) }
    }

    /// Closes a connection and waits until it has (the event-loop future, not the async overload).
    private static func closeNow(_ connection: PostgresConnection) {
        let closed: EventLoopFuture<Void> = connection.close()
        try? closed.wait()
    }
}

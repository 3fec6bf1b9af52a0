import Foundation
import OmniPostCore
import Testing

/// `host:` and `host_roles:` (issue 27): each problem with its reason code at its line and column, and
/// `work/` per host once the ledger is shared.
@Suite struct HostConfigTests {
    static func parse(_ extra: String) throws -> PipelineConfig {
        try PipelineConfig.parse(
            text: "version: 1\nroot: /tmp/p\nsandbox: embedded\ntargets: [youtube:main]\n" + extra, file: "p.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))
    }

    static func problem(_ extra: String) -> OmniError? {
        do {
            _ = try parse(extra)
            return nil
        } catch let e as OmniError { return e } catch { return OmniError(.internalError, "\(error)") }
    }

    @Test func rolesAndNameAreReadAndDefaultToAllAndTheMachine() throws {
        let plain = try Self.parse("")
        #expect(plain.host.roles == Set(HostConfig.Role.allCases))
        #expect(plain.host.name == HostConfig.machineName && !plain.host.name.isEmpty && !plain.host.name.contains("."))
        let fast = try Self.parse("host: render-1\nhost_roles: [convert]\n")
        #expect(fast.host.name == "render-1" && fast.host.roles == [.convert])
        #expect(fast.host.may(.convert) && !fast.host.may(.upload) && !fast.host.may(.ingest))
        #expect(try Self.parse("host_roles: upload\n").host.roles == [.upload], "one role as a word")
    }

    @Test func anUnknownRoleIsRefusedAtItsLineWithItsCode() throws {
        let e = try #require(Self.problem("host: a\nhost_roles: [ingest, convrt]\n"))
        #expect(e.code == .hostRoleUnknown)
        #expect(e.location?.file == "p.yaml" && e.location?.line == 6 && e.location?.column == 22, "\(String(describing: e.location))")
        #expect(e.message.contains("'convrt' is not a role") && e.message.contains("did you mean 'convert'?"), "\(e.message)")
        #expect(Self.problem("host_roles: []\n")?.code == .hostRoleUnknown)
        #expect(Self.problem("host_roles: [upload, upload]\n")?.message.contains("names upload twice") == true)
        let name = try #require(Self.problem("host: \"box:1\"\n"))
        #expect(name.code == .configInvalid && name.location?.line == 5 && name.message.contains("not a host name"), "\(name)")
    }

    @Test func workIsPerHostOnlyWhenTheLedgerIsShared() throws {
        #expect(try Self.parse("host: box-a\n").paths.work.path == "/tmp/p/work", "one machine: unchanged")
        let shared = try Self.parse("host: box-a\nledger: postgres://omnipost@127.0.0.1:5432/studio\n")
        #expect(shared.paths.work.path == "/tmp/p/work/box-a")
        #expect(shared.paths.inbox.path == "/tmp/p/inbox" && shared.paths.archive.path == "/tmp/p/archive", "the rest is shared")
    }

    /// `ledger: {heartbeat:}` (issue 27): this host's beat, its leases three beats; 10 s unless written.
    @Test func theHeartbeatIsAKeyOfTheLedgerAndLeasesRunThreeBeats() throws {
        #expect(try Self.parse("").host.heartbeat == .seconds(10))
        #expect(try Self.parse("ledger: postgres://omnipost@127.0.0.1/studio\n").host.heartbeat == .seconds(10))
        let quick = try Self.parse("ledger:\n  url: postgres://omnipost@127.0.0.1/studio\n  heartbeat: 3s\n")
        #expect(quick.host.heartbeat == .seconds(3) && quick.host.leaseSeconds == 9)
        #expect(try Self.parse("ledger: {url: 'postgres://omnipost@127.0.0.1/studio', heartbeat: 1m}\n").host.heartbeat == .seconds(60))
    }

    /// A heartbeat that is not a duration, or outside 1 s to 5 min: `heartbeat_invalid` at its value.
    @Test func aBadHeartbeatIsRefusedAtItsLineWithItsCode() throws {
        let fast = try #require(Self.problem("ledger:\n  url: postgres://omnipost@127.0.0.1/studio\n  heartbeat: 500ms\n"))
        #expect(fast.code == .heartbeatInvalid)
        #expect(fast.location?.file == "p.yaml" && fast.location?.line == 7 && fast.location?.column == 14, "\(String(describing: fast.location))")
        #expect(fast.message.contains("500ms is outside 1s to 5m"), "\(fast.message)")
        #expect("\(fast)".hasPrefix("p.yaml:7:14: heartbeat_invalid: "), "\(fast)")
        let slow = try #require(Self.problem("ledger: {url: 'postgres://omnipost@127.0.0.1/studio', heartbeat: 10m}\n"))
        #expect(slow.code == .heartbeatInvalid && slow.location?.line == 5)
        let word = try #require(Self.problem("ledger:\n  url: postgres://omnipost@127.0.0.1/studio\n  heartbeat: often\n"))
        #expect(word.code == .heartbeatInvalid && word.location?.line == 7 && word.message.contains("expected a duration like 10s"), "\(word)")
    }
}

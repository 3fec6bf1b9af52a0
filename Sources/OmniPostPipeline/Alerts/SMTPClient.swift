import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import OmniPostCore

/// Sends one message over SMTP (RFC 5321): EHLO, STARTTLS (RFC 3207) or TLS from the first byte,
/// AUTH PLAIN or LOGIN when a user is set, MAIL/RCPT/DATA with dot-stuffing, QUIT. One connection a
/// message; an alert is rare enough that a pool would only be state to go stale.
struct SMTPClient: Sendable {
    enum Security: String, Sendable, CaseIterable { case starttls, tls, none }

    struct Failure: Error, CustomStringConvertible {
        /// A 5xx answer: the server will not take this message as it is; sending again changes nothing.
        var permanent: Bool
        var description: String
    }

    var host: String
    var port: Int
    var security: Security
    var username: String?
    var password: String?
    var tls: TLSConfiguration
    var timeout: Duration = .seconds(30)

    func send(from: String, to: [String], message: String) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.converse(from: from, to: to, message: message) }
            group.addTask {
                try await Task.sleep(for: self.timeout)
                throw Failure(permanent: false, description: "\(self.host):\(self.port) did not finish within \(self.timeout)")
            }
            try await group.next()
            group.cancelAll()
        }
    }

    private func converse(from: String, to: [String], message: String) async throws {
        let ssl = try NIOSSLContext(configuration: tls)
        let host = host, security = security
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if security == .tls {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: ssl, serverHostname: Self.sniName(host)))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPLineDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var lines = inbound.makeAsyncIterator()
            /// One reply: `250-…` lines continue it, `250 …` ends it.
            func reply() async throws -> (code: Int, text: [String]) {
                var text: [String] = []
                while true {
                    guard let buf = try await lines.next() else { throw Failure(permanent: false, description: "\(host) closed the connection") }
                    let line = String(buffer: buf).trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
                    guard line.count >= 3, let code = Int(line.prefix(3)) else { throw Failure(permanent: false, description: "\(host) answered '\(line.prefix(80))', not SMTP") }
                    text.append(String(line.dropFirst(4)))
                    if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] == " " { return (code, text) }
                }
            }
            func say(_ command: String, expect: Set<Int>, shown: String? = nil) async throws -> [String] {
                try await outbound.write(ByteBuffer(string: command + "\r\n"))
                let r = try await reply()
                guard expect.contains(r.code) else {
                    throw Failure(
                        permanent: (500..<600).contains(r.code),
                        description: "\(host) answered \(shown ?? command.split(separator: " ").first.map(String.init) ?? command) with \(r.code) \(r.text.joined(separator: " "))")
                }
                return r.text
            }
            let greeting = try await reply()
            guard greeting.code == 220 else {
                throw Failure(permanent: (500..<600).contains(greeting.code), description: "\(host) greeted with \(greeting.code) \(greeting.text.joined(separator: " "))")
            }
            let me = ProcessInfo.processInfo.hostName.isEmpty ? "omnipost" : ProcessInfo.processInfo.hostName
            var caps = try await say("EHLO \(me)", expect: [250])
            if security == .starttls {
                guard caps.contains(where: { $0.uppercased().hasPrefix("STARTTLS") }) else {
                    throw Failure(permanent: true, description: "\(host) does not offer STARTTLS; set `security: tls` for port 465, or `none` only for a relay on this machine")
                }
                _ = try await say("STARTTLS", expect: [220])
                // The handler is made and added on the channel's own event loop: it is not Sendable.
                let ch = channel.channel
                try await ch.eventLoop.submit {
                    try ch.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: ssl, serverHostname: Self.sniName(host)), position: .first)
                }.get()
                // What the server said before TLS is forgotten (RFC 3207 §4.2): ask again.
                caps = try await say("EHLO \(me)", expect: [250])
            }
            if let user = username, let pass = password {
                let auth = caps.first { $0.uppercased().hasPrefix("AUTH") }?.uppercased().split(separator: " ").map(String.init) ?? []
                if auth.contains("PLAIN") || auth.isEmpty {
                    _ = try await say("AUTH PLAIN " + Data("\0\(user)\0\(pass)".utf8).base64EncodedString(), expect: [235], shown: "AUTH PLAIN")
                } else if auth.contains("LOGIN") {
                    _ = try await say("AUTH LOGIN", expect: [334])
                    _ = try await say(Data(user.utf8).base64EncodedString(), expect: [334], shown: "AUTH LOGIN's user")
                    _ = try await say(Data(pass.utf8).base64EncodedString(), expect: [235], shown: "AUTH LOGIN's password")
                } else {
                    throw Failure(permanent: true, description: "\(host) offers AUTH \(auth.dropFirst().joined(separator: " ")), not PLAIN or LOGIN")
                }
            }
            _ = try await say("MAIL FROM:<\(from)>", expect: [250], shown: "MAIL FROM")
            for r in to { _ = try await say("RCPT TO:<\(r)>", expect: [250, 251], shown: "RCPT TO:<\(r)>") }
            _ = try await say("DATA", expect: [354])
            try await outbound.write(ByteBuffer(string: Self.dotStuffed(message) + ".\r\n"))
            let accepted = try await reply()
            guard accepted.code == 250 else {
                throw Failure(permanent: (500..<600).contains(accepted.code), description: "\(host) refused the message: \(accepted.code) \(accepted.text.joined(separator: " "))")
            }
            _ = try? await say("QUIT", expect: [221])
        }
    }

    /// SNI carries names, not addresses.
    static func sniName(_ host: String) -> String? { host.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } ? nil : host }

    /// CRLF line ends, and a leading dot doubled (RFC 5321 §4.5.2), so no line of the message ends it early.
    static func dotStuffed(_ message: String) -> String {
        var out = ""
        for line in message.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            out += (line.hasPrefix(".") ? "." : "") + line + "\r\n"
        }
        return out
    }
}

/// An alert as an e-mail (RFC 5322, MIME): UTF-8 subject encoded-word, a base64 text body, and a
/// Message-ID made from the alert's key — a message sent again after a crash carries the same one, so
/// mail systems that drop repeats by Message-ID drop it.
enum AlertMail {
    static func compose(from: String, to: [String], subject: String, body: String, key: String, kind: String, date: Date = Date()) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let domain = from.split(separator: "@").last.map(String.init) ?? "omnipost.local"
        let id = FileHashing.sha256(data: Data(key.utf8)).prefix(32)
        let encodedBody = Data(body.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return [
            "From: OmniPost <\(from)>",
            "To: " + to.joined(separator: ", "),
            "Subject: " + encodedWord(subject),
            "Date: " + f.string(from: date),
            "Message-ID: <\(id)@\(domain)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "X-OmniPost-Kind: \(kind)",
            "Auto-Submitted: auto-generated",
            "",
            encodedBody
        ].joined(separator: "\r\n") + "\r\n"
    }

    /// RFC 2047: plain ASCII as it is; anything else as `=?UTF-8?B?…?=` words short enough for a header line.
    static func encodedWord(_ s: String) -> String {
        let clean = s.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if clean.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 32 }) && clean.count <= 900 { return clean }
        var words: [String] = [], chunk = ""
        for ch in clean {
            if (chunk + String(ch)).utf8.count > 45 { words.append(chunk); chunk = "" }
            chunk.append(ch)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?" + Data($0.utf8).base64EncodedString() + "?=" }.joined(separator: "\r\n ")
    }
}

/// Splits what the server sends into lines (without the LF); a line over 64 KiB is not SMTP.
struct SMTPLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let lf = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > 65536 { throw SMTPClient.Failure(permanent: false, description: "the server sent a line over 64 KiB") }
            return .needMoreData
        }
        let line = buffer.readSlice(length: lf - buffer.readerIndex)!
        buffer.moveReaderIndex(forwardBy: 1)
        context.fireChannelRead(wrapInboundOut(line))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

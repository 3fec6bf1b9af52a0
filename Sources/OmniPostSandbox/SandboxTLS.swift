import Foundation
import NIOSSL
import OmniPostCore

/// The sandbox's HTTPS: some protocols name an `https:` host by construction (Reddit's media lease is
/// `//host/path`, to which every client puts `https:`), so the sandbox serves one too. A private CA
/// and a leaf certificate for 127.0.0.1 and localhost are made once per sandbox folder with the
/// `openssl` command; clients trust `ca.pem` (OmniPost's own HTTP client does in sandbox mode).
package enum SandboxTLS {
    /// The CA certificate clients trust, in `folder`.
    package static func caFile(in folder: URL) -> URL { folder.appendingPathComponent("ca.pem") }

    /// Makes the CA and the server certificate unless the folder holds them already.
    static func ensureCertificates(in folder: URL) throws {
        let fm = FileManager.default
        let cert = folder.appendingPathComponent("cert.pem"), key = folder.appendingPathComponent("key.pem")
        if fm.fileExists(atPath: cert.path), fm.fileExists(atPath: key.path), fm.fileExists(atPath: caFile(in: folder).path) { return }
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(
            ["req", "-x509"] + ec + [
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650", "-subj", "/CN=OmniPost sandbox CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"
            ], in: folder)
        try openssl(
            ["req", "-x509", "-CA", "ca.pem", "-CAkey", "ca.key"] + ec + [
                "-keyout", "key.pem", "-out", "cert.pem", "-days", "825",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "keyUsage=critical,digitalSignature",
                "-addext", "extendedKeyUsage=serverAuth"
            ], in: folder)
    }

    static func openssl(_ args: [String], in folder: URL) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["openssl"] + args
        p.currentDirectoryURL = folder
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        do { try p.run() } catch {
            throw OmniError(.toolMissing, "the sandbox's HTTPS certificate needs the `openssl` command (Debian package openssl): \(error)")
        }
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw OmniError(.toolMissing, "openssl could not make the sandbox's certificate: \(text.split(separator: "\n").last ?? "")")
        }
    }

    static func serverConfiguration(folder: URL) throws -> TLSConfiguration {
        try ensureCertificates(in: folder)
        let chain = try NIOSSLCertificate.fromPEMFile(folder.appendingPathComponent("cert.pem").path).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: folder.appendingPathComponent("key.pem").path, format: .pem)
        var c = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        // Closing a connection does not wait for the client's close_notify (NIOSSL's default waits 5 s): an
        // idle keep-alive connection in a client's pool does not answer it, and a web server does not
        // linger for it — a stopping sandbox would otherwise spend its whole grace on such connections.
        c.shutdownTimeout = .milliseconds(100)
        return c
    }
}

import Crypto
import Foundation
import NIOCore
import OmniPostCore
import OmniPostWire
import Synchronization

/// The chunk loop, written once: parts in the transport's order, read through one `PinnedReader` (hashed
/// as read; the last part refused unless the whole matches the recorded digest), a checkpoint after
/// every part the platform confirmed, and a cut part handled as its protocol defines — ask where the
/// upload stands, or send the same part again (`PartRetry`).
enum ChunkLoop {
    /// What the bytes came to: all sent (the platform has more steps), or the remote object's id.
    enum End: Sendable, Equatable {
        case allSent
        case complete(String)
    }

    /// What is left to send for the loop to drop the code mapped before it first (`MappedCode.compact`).
    static let longUpload: Int64 = 64 << 20
    /// How many long uploads dropped their mapped code in this process, and what the last drop did.
    static let compactions = Mutex<(count: Int, last: MappedCode.Outcome?)>((0, nil))

    static func run<T: UploadProtocol>(_ transport: T, _ session: inout T.Session, from offset: Int64, retry: PartRetry, _ run: inout UploadRun) async throws -> End {
        let job = run.job
        // A long upload's parts run a small part of the code that brought the process to them (start-up,
        // the config, the ledger, the session's requests, a TLS handshake): ~49 MiB of the binary and its
        // libraries stayed mapped through a 1 GiB upload over HTTPS, beside 16 MiB of part buffers. Those
        // mappings are dropped once here, as an idle daemon's are (the pages stay in the page cache: what
        // the loop runs is a minor fault from memory at its first use), for a few ms of smaps' walk — on a
        // thread of its own, not one of the cooperative pool's two.
        if job.size - offset >= longUpload,
            let done = try? await StallGuard.run("dropping the code mapped before the upload", stall: .seconds(10), { _ in MappedCode.compact() })
        {
            compactions.withLock { $0 = ($0.count + 1, done) }
        }
        let reader = PinnedReader(path: job.filePath, size: job.size, expected: job.changeCheck)
        var offset = offset
        var retry = retry
        var cut = false
        // Whether the reader handed out the file's last byte in this attempt (it checks the whole file then).
        var readLast = false
        // One part in flight and the next one read (and hashed) while it travels: the disk and the hash
        // never wait for the wire, nor the wire for them. A part sent again reuses its bytes.
        var ahead: (part: Part, read: Result<(Part, ByteBuffer), any Error>)? = nil
        var last: (part: Part, bytes: ByteBuffer)? = nil
        // A confirmed part's buffer, read into again for the part after next: two buffers for the whole
        // upload, not a fresh mapping per part (each 8 MiB one cost ~3 ms of page faults and zeroing —
        // a fifth of the upload's CPU — beside a sandbox that needs the same two cores).
        let spare = BufferShelf()
        while true {
            try Task.checkCancellation()
            do {
                if cut {
                    cut = false
                    switch try await transport.standing(of: session, job: job) {
                    case .complete(let id):
                        run.progress(job.size, job.size)
                        return .complete(id)
                    case .confirmed(let o):
                        // Resume from the platform's offset, not ours.
                        offset = o
                        try await run.save(session, confirmed: o, durable: false)
                    case .resend:
                        break
                    }
                }
                guard let named = transport.nextPart(of: session, confirmed: offset, size: job.size) else {
                    if !readLast, !transport.lastPartCompletes, job.changeCheck != nil, job.size > 0 {
                        // Parts an earlier attempt sent were not read this time: the file must still be the
                        // one hashed before the platform makes anything of them.
                        _ = try readChunk(reader, Part(index: -1, offset: job.size - 1, length: 1))
                    }
                    return .allSent
                }
                // A transport that streams the whole file pins and checks it itself (`streamsWholeFile`).
                let digests = transport.partDigests(for: session)
                let (part, bytes): (Part, ByteBuffer) =
                    if transport.streamsWholeFile {
                        (named, ByteBuffer())
                    } else if let l = last, l.part == named {
                        l
                    } else if let a = ahead, a.part == named {
                        try a.read.get()
                    } else {
                        try read(reader, named, digests, framed: transport.frame(of: named, session: session, job: job), reusing: spare)
                    }
                ahead = nil
                last = (part, bytes)
                if part.end == job.size { readLast = true }
                // The part that follows if this one is confirmed whole, read while this one is sent, as the
                // transport names it (`partAfter`: LinkedIn's next part is the next instruction without an
                // ETag, which asking `nextPart` now would answer with this part again).
                let next = transport.streamsWholeFile ? nil : transport.partAfter(part, of: session, size: job.size)
                let nextFrame = next.flatMap { transport.frame(of: $0, session: session, job: job) }
                let before = session, verbRun = run
                // The part goes out from a child task of its own, spawned first, so its request is on its way
                // at once; this task reads the next part meanwhile (it used to be an `async let` of its own,
                // spawned before the part: one more task and hop each part — docs/performance.md, r16). The
                // part's task is the verb's alone, so its time limit cancels it and nothing else
                // (`VerbTimeout.ownsTask`); cancelling this task cancels it too.
                let (reply, after) = try await withThrowingTaskGroup(of: (PartReply, T.Session).self) { group in
                    group.addTask {
                        try await VerbTimeout.$ownsTask.withValue(true) {
                            try await verbRun.verb(.part) {
                                var s = before
                                let reply = try await transport.send(part, bytes, session: &s, job: job)
                                return (reply, s)
                            }
                        }
                    }
                    if let next {
                        // The part first: this thread takes the part's task up to its request handed to the
                        // event loop before it reads, rather than the part waiting for the pool's other
                        // thread while this one reads 8 MiB (perf: ~20 of a part's 32 reads came between
                        // the checkpoint and the next request's head, without it).
                        await Task.yield()
                        // …and the event loop, woken to write it, gets the core before the read holds it for
                        // a few ms: on a busy machine the two share one core, and the scheduler left the loop
                        // runnable behind the whole read (perf: its head ~2.4 ms after the checkpoint).
                        sched_yield()
                        // The kept buffer is usually let go of a moment after this part leaves: waited for
                        // (briefly, suspended, off the send's path) rather than a fresh mapping taken at once.
                        await spare.waitUntilFree(upTo: BufferShelf.patience)
                        ahead = (next, Result { try read(reader, next, digests, framed: nextFrame, reusing: spare) })
                    }
                    return try await group.next()!
                }
                session = after
                run.sent += part.length
                switch reply {
                case .complete(let id):
                    run.progress(job.size, job.size)
                    return .complete(id)
                case .confirmed(let o):
                    offset = o
                    retry.succeeded()
                    // A confirmed part is never sent again (what follows is named from `o`): its request is
                    // over, so its buffer is free to read into.
                    if let l = last, l.part == part {
                        spare.put(l.bytes)
                        last = nil
                    }
                    // An offset: kept through a killed process, not synced per part (a power cut loses at most
                    // parts the resume asks the platform about or sends again).
                    try await run.save(session, confirmed: o, durable: false)
                    run.progress(o, job.size)
                case .resend:
                    // The platform took the request but not the part: the same as a cut one.
                    try await retry.again(after: DeliveryError(.retryNow, .platformError, "part \(part.index + 1) was not taken"))
                    cut = true
                }
            } catch let e as DeliveryError where e.kind == .retryNow {
                try await retry.again(after: e)
                cut = true
            }
        }
    }

    /// One part read, with the digests its request carries worked out here, off the send path, in the
    /// same pass as the reader's own hash (block by block, while each block is in the cache), and the
    /// body's frame around it where the transport has one.
    static func read(
        _ reader: PinnedReader, _ part: Part, _ digests: PartDigests, framed frame: PartFrame? = nil, reusing shelf: BufferShelf? = nil
    ) throws -> (Part, ByteBuffer) {
        var sha256 = digests.contains(.sha256) ? SHA256() : nil
        var sha1 = digests.contains(.sha1) ? Insecure.SHA1() : nil
        var crc32c = digests.contains(.crc32c) ? CRC32C() : nil
        let bytes = try readChunk(reader, part, framed: frame, reusing: shelf) { block in
            sha256?.update(bufferPointer: block)
            sha1?.update(bufferPointer: block)
            crc32c?.update(block)
        }
        var part = part
        part.digests.sha256 = sha256.map { Array($0.finalize()) }
        part.digests.sha1 = sha1.map { Array($0.finalize()) }
        part.digests.crc32c = crc32c?.value
        return (part, bytes)
    }

    /// One part of the file, through the pinned reader, straight into the request body's buffer — after
    /// the frame's head and before its tail, where there is one — the shelf's buffer where it holds one
    /// (`clear` keeps its storage when nothing else holds it any more): a changed or unreadable file is
    /// permanent.
    static func readChunk(
        _ reader: PinnedReader, _ part: Part, framed frame: PartFrame? = nil, reusing shelf: BufferShelf? = nil,
        alongside: (UnsafeRawBufferPointer) -> Void = { _ in }
    ) throws -> ByteBuffer {
        do {
            let length = Int(part.length)
            var buffer = shelf?.takeEmptied() ?? ByteBufferAllocator().buffer(capacity: length + (frame.map { $0.head.count + $0.tail.count } ?? 0))
            if let frame { buffer.writeBytes(frame.head) }
            try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw in
                try reader.chunk(from: part.offset, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<length]), alongside: alongside)
            }
            if let frame { buffer.writeBytes(frame.tail) }
            return buffer
        } catch let e as OmniError {
            throw DeliveryError(.permanent, e.code == .sourceChanged ? .sourceChanged : .unreadable, e.message)
        }
    }
}

/// The buffer of a confirmed part, kept for the chunk loop's next read. It is handed over emptied and with
/// no other reference left behind, so the read writes into its storage in place — once the HTTP client has
/// let go of it: its request is answered, but the client drops the body on its event loop a moment later,
/// and on a busy machine that moment often came after the next read had begun (it begins as the part before
/// it leaves, one checkpoint after the answer), so the read took a fresh 8 MiB mapping — ~2,000 page faults
/// and the kernel zeroing it, then an munmap: perf had `clear_page_erms` at 11.5 % of a TikTok upload's CPU
/// under load, the faults and frees around it ~8 % more. The read-ahead now waits for it (`waitUntilFree`,
/// suspended, up to `patience`: the part it reads for leaves only after the one on the wire, which takes
/// longer) — two buffers for a whole upload. Keeping a third instead cost 6–8 MiB of peak RSS on every row
/// (S3 75.5 MiB against its 72).
final class BufferShelf: @unchecked Sendable {
    /// How long the read-ahead waits for the HTTP client to let go of the kept buffer before it takes a
    /// fresh one: well under the time an 8 MiB part takes on the wire.
    static let patience: Duration = .milliseconds(10)
    private let lock = NSLock()
    private var buffer: ByteBuffer?

    func put(_ b: ByteBuffer) { lock.withLock { buffer = b } }

    /// Whether a kept buffer is still held by something else (the HTTP client).
    private var keptIsHeld: Bool {
        lock.withLock {
            guard var b = buffer else { return false }
            buffer = nil
            defer { buffer = b }
            return b.modifyIfUniquelyOwned { _ in () } == nil
        }
    }

    /// Suspends until the kept buffer is let go of, or `patience` has passed, or there is none — never
    /// blocking a thread of the cooperative pool (two on a small box) while it waits.
    func waitUntilFree(upTo patience: Duration) async {
        let deadline = ContinuousClock.now + patience
        while keptIsHeld, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .microseconds(250))
        }
    }

    /// The kept buffer, emptied, if nothing else holds it any more; else nil at once, and the read takes
    /// a fresh buffer. Never waits. The buffer still held is let go here, so its storage is freed when
    /// the client drops it rather than kept beside the fresh one.
    func takeEmptied() -> ByteBuffer? {
        lock.withLock {
            guard var b = buffer else { return nil }
            buffer = nil
            // In place: the shelf's reference must be the only one.
            return b.modifyIfUniquelyOwned { $0.clear() } != nil ? b : nil
        }
    }
}

import NIOCore
import NIOPosix

/// The event loop every upload's connections live on, and the same loop as a task executor, so the chunk
/// loop's own steps — a part's answer read, the next part's request made and written — run on the thread
/// that reads and writes its socket, with no thread handed the work in between.
///
/// Why a loop of its own: on a box with two cores the HTTP client's connections were on NIO's shared
/// group, and each part's answer went from the event loop to a pool thread, and the next request back to
/// the loop — about 3.5 wake-ups of the loop a part, each waiting ~160 µs for a core the co-hosted sandbox
/// kept busy (perf sched, docs/performance.md r19). One loop: every upload connection is on it, whichever
/// the pool picks, so the executor below is always the connection's own. And nothing else runs on it —
/// PostgreSQL's connections stay on the shared group, so an upload step that waits for the ledger never
/// waits for its own thread.
package enum UploadLoop {
    /// One thread: uploads are bound by the wire and the disk, not by a core (TLS included, at several
    /// hundred MiB/s a core). Never shut down, as NIO's singleton.
    package static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// The loop as a task executor: a job enqueued from the loop itself runs in the same turn of it.
    package static let executor = EventLoopTaskExecutor(group.next())
}

/// A task executor that runs its jobs on one NIO event loop.
package final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

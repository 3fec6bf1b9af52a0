/// One at a time per key. The sandbox serializes the requests of one upload session, as a real upload
/// server does (a request from a client that died mid-chunk must finish before the next reads or writes
/// it); an adapter serializes what must happen once per account (YouTube: resolving — or making — the
/// playlist a name means, which two uploads at once would otherwise make twice).
package actor KeyedLock {
    private var held = Set<String>()
    private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    package init() {}

    package func lock(_ key: String) async {
        if !held.contains(key) {
            held.insert(key)
            return
        }
        await withCheckedContinuation { waiters[key, default: []].append($0) }
    }

    package func unlock(_ key: String) {
        if var w = waiters[key], !w.isEmpty {
            let next = w.removeFirst()
            waiters[key] = w.isEmpty ? nil : w
            next.resume()  // ownership passes straight to the next waiter
        } else {
            held.remove(key)
        }
    }

    package func withLock<T: Sendable>(_ key: String, _ body: () async throws -> T) async throws -> T {
        await lock(key)
        do {
            let r = try await body()
            unlock(key)
            return r
        } catch {
            unlock(key)
            throw error
        }
    }
}

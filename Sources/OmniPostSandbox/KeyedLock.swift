/// One request at a time per upload session, as a real upload server serializes them: a request
/// from a client that died mid-chunk must finish (or fail) before the next request on that session
/// reads or writes it, or its stale view would overwrite the newer one.
actor KeyedLock {
    private var held = Set<String>()
    private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    func lock(_ key: String) async {
        if !held.contains(key) {
            held.insert(key)
            return
        }
        await withCheckedContinuation { waiters[key, default: []].append($0) }
    }

    func unlock(_ key: String) {
        if var w = waiters[key], !w.isEmpty {
            let next = w.removeFirst()
            waiters[key] = w.isEmpty ? nil : w
            next.resume()  // ownership passes straight to the next waiter
        } else {
            held.remove(key)
        }
    }

    func withLock<T: Sendable>(_ key: String, _ body: () async throws -> T) async throws -> T {
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

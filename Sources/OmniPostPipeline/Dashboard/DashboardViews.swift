import Foundation
import OmniPostCore
import OmniPostIngest
import OmniPostLedger
import OmniPostPlatforms

/// What each dashboard page shows, read from the ledger and put in the plain dictionaries the
/// templates render. No page changes anything: the forms post to `DashboardRoutes`, which goes
/// through `QueueControl` like the CLI.
struct DashboardViews {
    let ctx: PipelineContext
    let watcher: InboxWatcher
    var ledger: Ledger { ctx.ledger }
    var now: Double { ledger.clock.now().timeIntervalSince1970 }

    // MARK: overview

    func overview() throws -> [String: Any] {
        let drops = try ledger.drops(in: DropState.allCases.filter { !$0.isTerminal })
        let progress = try ledger.convertProgress(drops: drops.map(\.id))
        var flying: [[String: Any]] = []
        // Who holds what (several hosts on one ledger): the host working on each drop and upload.
        let held = try ledger.heldClaims()
        let dropHost = Dictionary(held.filter { $0.kind != "upload" }.map { ($0.id, $0.host) }, uniquingKeysWith: { a, _ in a })
        let uploadHost = Dictionary(held.filter { $0.kind == "upload" }.map { ($0.id, $0.host) }, uniquingKeysWith: { a, _ in a })
        for d in drops {
            let deliveries = try ledger.deliveries(forDrop: d.id)
            var drop: [String: Any] = ["id": d.id, "stem": d.stem, "state": d.state.rawValue, "since": Self.ago(now - d.updatedAt)]
            if let h = dropHost[d.id] { drop["host"] = h }
            flying.append(drop.merging([
                "targets": deliveries.map { x -> [String: Any] in
                    var t: [String: Any] = ["target": x.target, "state": x.state.rawValue]
                    if let h = uploadHost["\(x.id ?? 0)"] { t["host"] = h }
                    if x.state == .uploading, let total = x.renditionBytes, total > 0 {
                        let pct = Int(Double(max(x.bytesSent, x.confirmedOffset)) * 100 / Double(total))
                        t["pct"] = min(100, pct)
                        t["detail"] = "uploading \(min(100, pct)) %"
                    } else if d.state == .validated, let line = progress["\(d.id)/\(x.target)"] {
                        t["pct"] = Int(line.prefix { $0.isNumber }) ?? 0
                        t["detail"] = "converting \(line)"
                    } else if let g = x.gate, let nb = x.notBefore, nb > now {
                        // Waiting (on a quota, a schedule, a retry's back-off) is not failing: shown as waiting.
                        t["detail"] = "waiting on \(g) until"
                        t["until"] = isoStamp(nb)
                        t["waiting"] = true
                    }
                    return t
                }
            ]) { a, _ in a })
        }
        var day = Calendar(identifier: .gregorian)
        day.timeZone = .current
        let midnight = day.startOfDay(for: Date(timeIntervalSince1970: now)).timeIntervalSince1970
        let today = try ledger.outcomesByPlatform(since: midnight).sorted { $0.key < $1.key }
            .map { ["platform": $0.key, "published": $0.value.published, "failed": $0.value.failed, "anyFailed": $0.value.failed > 0] as [String: Any] }

        let report = try StatusReport.gather(config: ctx.config, ledger: ledger, profiles: ctx.profiles, history: false)
        var gates: [String: Int] = [:]
        for q in report.queue { gates[q.gate ?? (q.state == "uploading" ? "uploading" : "due"), default: 0] += 1 }
        // When each queued delivery is expected to go out: the claim's order, schedules, breakers and quotas
        // (the same forecast `omnipost plan` gives). Held for approval: no time until a person answers.
        let (forecast, queue) = try ledger.queueForecast(rules: ctx.profiles.quotas)
        let times = forecast.run(queue.map(\.forecastItem), now: Date(timeIntervalSince1970: now))
        let upcoming = queue.compactMap { d -> (DeliveryRecord, QueueForecast.Entry)? in
            guard !d.awaitsApproval, let e = times[d.id ?? 0] else { return nil }
            return (d, e)
        }.sorted { $0.1.goesAt < $1.1.goesAt }.prefix(20).map { d, e -> [String: Any] in
            var v: [String: Any] = ["target": d.target, "drop": d.dropId, "at": isoStamp(e.goesAt), "now": e.goesAt.timeIntervalSince1970 <= now + 1]
            // Held already (the claim deferred it to when its gate opens): the gate's own words say why.
            if let w = e.waits.first ?? d.gate.map({ "\($0): \(d.errorMessage ?? "")" }) { v["why"] = w }
            return v
        }
        let awaiting = queue.filter(\.awaitsApproval).count
        return [
            "forecast": Array(upcoming), "anyForecast": !upcoming.isEmpty, "awaitingApproval": awaiting,
            "inFlight": flying, "anyInFlight": !flying.isEmpty,
            "today": today, "anyToday": !today.isEmpty,
            "gates": gates.sorted { $0.key < $1.key }.map { ["gate": $0.key, "count": $0.value] },
            "queueTotal": report.queue.count,
            "quotas": quotas(report.quotas), "anyQuotas": !report.quotas.isEmpty,
            "breakers": breakers(report.breakers), "anyBreakers": !report.breakers.isEmpty,
            "accounts": accounts(report), "warnings": otherWarnings(report),
            "disks": disks(), "sinks": try sinks(),
            "charts": try charts()
        ]
    }

    func quotas(_ qs: [Ledger.QuotaUse]) -> [[String: Any]] {
        qs.map { q in
            let pct = q.limit > 0 ? min(100, q.used * 100 / q.limit) : 0
            var v: [String: Any] = [
                "account": q.account, "rule": q.rule, "used": q.used, "limit": q.limit, "window": q.window,
                // A quota used up is a wait until its window moves on, not an error: amber, never red.
                "pct": pct, "level": pct >= 80 ? "warn" : "ok", "full": q.limit > 0 && q.used >= q.limit
            ]
            if let n = q.nextFitsAt { v["next"] = isoStamp(n) }
            // At the rate of the last 24 h, when the rest of the window would be spent (if before it moves on).
            let now = ctx.now.timeIntervalSince1970
            if q.used < q.limit, let spent = try? ledger.spentUnits(account: q.account, rule: q.rule, since: now - 86400), spent > 0 {
                let runsOut = now + Double(q.limit - q.used) / (Double(spent) / 86400)
                if runsOut - now < 86400 { v["runsOut"] = isoStamp(runsOut) }
            }
            return v
        }
    }

    func breakers(_ bs: [BreakerRecord]) -> [[String: Any]] {
        bs.map { b in
            var v: [String: Any] = ["account": b.account, "state": b.state.rawValue, "failures": b.failures, "open": b.state != .closed]
            if let u = b.openUntil, b.state == .open { v["until"] = isoStamp(u) }
            if let e = b.lastError, !e.isEmpty { v["lastError"] = e }
            return v
        }
    }

    func accounts(_ report: StatusReport) -> [[String: Any]] {
        ctx.config.accounts.keys.sorted().map { key in
            let t = report.accounts.first { $0.account == key }
            let platform = ctx.config.accounts[key]?.platform ?? ""
            var v: [String: Any] = ["account": key, "platform": platform]
            // A folder, a bucket, a tus server, a webhook or a program keeps what it needs in the config:
            // there are no credentials to store, so none missing.
            let signsIn = PlatformRegistry.descriptor(platform)?.storesCredentials ?? true
            switch (t?.checkOK, t?.hasRefreshToken) {
            case (true?, _): v["health"] = "ok"; v["healthText"] = "works" + (t?.checkDetail.map { " (\($0))" } ?? "")
            case (false?, _): v["health"] = "bad"; v["healthText"] = "check failed: " + (t?.checkDetail ?? "")
            case (nil, true?): v["health"] = "ok"; v["healthText"] = "credentials stored, not checked yet"
            default:
                if signsIn {
                    v["health"] = "warn"; v["healthText"] = "no stored credentials: connect it with `omnipost accounts add \(key)`"
                } else {
                    v["health"] = "ok"; v["healthText"] = "a destination: its settings are in the pipeline file, nothing to sign in to"
                }
            }
            // Each account's problem is said once, on its own row: a warning naming it goes there, and a
            // failed check is already its health.
            let own = report.accountWarnings.filter { $0.hasPrefix(key + ":") && !$0.hasPrefix(key + ": its last check failed") }
            if !own.isEmpty { v["notes"] = own.map { String($0.dropFirst(key.count + 1)).trimmingCharacters(in: .whitespaces) } }
            if let c = t?.checkedAt { v["checked"] = isoStamp(c) }
            if let a = t?.accessExpiresAt { v["access"] = isoStamp(a) }
            if let r = t?.refreshExpiresAt { v["refresh"] = isoStamp(r) }
            if let s = t?.scope { v["scope"] = s }
            return v
        }
    }

    /// Warnings that name no configured account (those are on the account's own row).
    func otherWarnings(_ report: StatusReport) -> [String] {
        let keys = Array(ctx.config.accounts.keys)
        return report.accountWarnings.filter { w in !keys.contains { w.hasPrefix($0 + ":") } }
    }

    /// Each alert sink, and whether it takes messages (Ledger.sinkStates).
    func sinks() throws -> [[String: Any]] {
        try ledger.sinkStates(configured: ctx.config.notify?.sinks.map(\.name) ?? []).map { s in
            var v: [String: Any] = ["sink": s.sink, "down": s.down, "pending": s.pending, "givenUp": s.givenUp, "sent": s.sent]
            if let e = s.lastError { v["lastError"] = e }
            if let t = s.lastSentAt { v["lastSent"] = isoStamp(t) }
            return v
        }
    }

    func disks() -> [[String: Any]] {
        let p = ctx.paths
        return [("work", p.work), ("archive", p.archive), ("outbox", p.outbox)].map { name, url in
            var st = statvfs()
            let ok = statvfs(url.path, &st) == 0
            let free = ok ? Int64(st.f_bavail) * Int64(st.f_frsize) : 0
            let total = ok ? Int64(st.f_blocks) * Int64(st.f_frsize) : 0
            let pctUsed = total > 0 ? Int(100 - free * 100 / total) : 0
            return [
                "name": name, "path": url.path, "free": Self.bytes(free), "pct": pctUsed,
                "level": free < Readiness.minimumFree ? "bad" : pctUsed >= 90 ? "warn" : "ok"
            ]
        }
    }

    /// The four charts, each over the last 24 hours.
    func charts() throws -> [[String: Any]] {
        let hours = try ledger.hourly(hours: 24, now: now)
        let fmt = DateFormatter()
        fmt.dateFormat = "HH:00"
        // Hours are the host's: its zone is named on every label (the last one shows under the axis).
        let zone = TimeZone.current.abbreviation() ?? TimeZone.current.identifier
        let label = { (h: Int) in fmt.string(from: Date(timeIntervalSince1970: Double(h * 3600))) + " " + zone }
        let posts = hours.map { SVGChart.Point(label: label($0.hour), value: Double($0.published)) }
        let success = hours.map { h -> SVGChart.Point in
            let n = h.attemptsOK + h.attemptsFailed
            return SVGChart.Point(label: label(h.hour), value: n == 0 ? nil : Double(h.attemptsOK) * 100 / Double(n))
        }
        let speed = hours.map { h in
            SVGChart.Point(label: label(h.hour), value: h.seconds > 0 && h.bytes > 0 ? Double(h.bytes) / 1_048_576 / h.seconds : nil)
        }
        let depth = hours.map { SVGChart.Point(label: label($0.hour), value: Double($0.queueDepth)) }
        return [
            ["name": "posts", "title": "Posts per hour", "svg": SVGChart.bars("Posts per hour, last 24 hours", posts, unit: "posts")],
            ["name": "success", "title": "Upload success rate", "svg": SVGChart.line("Upload attempts that published, per hour (%)", success, unit: "%", fixedMax: 100)],
            ["name": "speed", "title": "Upload speed", "svg": SVGChart.line("Upload speed per hour (MiB/s)", speed, unit: "MiB/s")],
            ["name": "queue", "title": "Queue depth", "svg": SVGChart.bars("Deliveries not yet final at each hour's end", depth, unit: "deliveries", cssClass: "bar queue")]
        ]
    }

    // MARK: a drop

    func drop(_ id: String) throws -> [String: Any]? {
        guard let d = try ledger.drop(id) else { return nil }
        let deliveries = try ledger.deliveries(forDrop: id)
        var v: [String: Any] = [
            "id": d.id, "stem": d.stem, "state": d.state.rawValue, "created": isoStamp(d.createdAt), "updated": isoStamp(d.updatedAt),
            "clip": d.clipPath ?? "", "sidecar": d.sidecarPath ?? "", "terminal": d.state.isTerminal,
            "failed": d.state == .failed || d.state == .rejected
        ]
        if let b = d.clipBytes { v["clipBytes"] = Self.bytes(b) }
        if let code = d.reasonCode {
            var reason: [String: Any] = ["code": code, "message": d.reasonMessage ?? ""]
            if let loc = d.reasonLocation {
                reason["location"] = loc
                if let ex = excerpt(drop: d, location: loc) { reason["excerpt"] = ex; reason["hasExcerpt"] = true }
            }
            v["reason"] = reason
        }
        v["anyTargets"] = !deliveries.isEmpty
        // Waiting for a person: the page offers Approve and Reject (the same as `omnipost approve|reject`).
        v["awaiting"] = deliveries.contains(where: \.awaitsApproval)
        v["targets"] = try deliveries.map { x -> [String: Any] in
            var t: [String: Any] = [
                "id": x.id ?? 0, "target": x.target, "platform": x.platform, "account": x.account, "state": x.state.rawValue,
                "plan": x.plan.rawValue, "planDetail": x.planDetail ?? "", "attemptCount": x.attempts,
                "failed": x.state == .failed, "open": !x.state.isTerminal
            ]
            if let u = x.remoteUrl { t["url"] = u }
            if let r = x.remoteId { t["remoteId"] = r }
            if let post = Self.post(x) { t["post"] = post }
            if let b = x.renditionBytes { t["bytes"] = Self.bytes(b) }
            if let c = x.errorCode { t["error"] = c + (x.errorMessage.map { ": \($0)" } ?? "") }
            // What the post was owed after it, each with where it stands.
            let owed = try ledger.followUps(deliveryId: x.id ?? 0)
            t["anyFollowUps"] = !owed.isEmpty
            t["followUps"] = owed.map { f -> [String: Any] in
                var r: [String: Any] = ["kind": f.kind, "key": f.key, "state": f.state.rawValue, "made": f.state == .made, "failed": f.state == .failed]
                if let id = f.remoteId { r["remoteId"] = id }
                if f.state == .failed, let why = f.detail { r["reason"] = why }
                return r
            }
            t["attempts"] = try ledger.attempts(forDelivery: x.id ?? 0).map { a -> [String: Any] in
                var r: [String: Any] = [
                    "number": a.number, "started": isoStamp(a.startedAt), "outcome": a.outcome ?? "running",
                    "bytes": Self.bytes(a.bytesSent), "ok": a.outcome == "published"
                ]
                if let c = a.errorCode { r["code"] = c }
                if let s = a.httpStatus { r["http"] = s }
                if let s = a.durationS { r["seconds"] = String(format: "%.1f", s) }
                if let dt = a.detail { r["detail"] = dt }
                return r
            }
            return t
        }
        v["events"] = try ledger.events(forDrop: id).map { e -> [String: Any] in
            var r: [String: Any] = ["at": isoStamp(e.at), "stage": e.stage, "to": e.toState]
            if let f = e.fromState { r["from"] = f }
            if let t = e.target { r["target"] = t }
            if let dt = e.detail { r["detail"] = dt }
            return r
        }
        return v
    }

    /// The lines around `file:line:col` in the sidecar it names, wherever the originals are now
    /// (the failed folder, the archive, or still the inbox), the named line marked and a caret under
    /// its column.
    func excerpt(drop: DropRecord, location: String) -> [[String: Any]]? {
        let parts = location.split(separator: ":")
        guard parts.count >= 2, let line = Int(parts[1]) else { return nil }
        let file = String(parts[0]), col = parts.count >= 3 ? Int(parts[2]) : nil
        // Each candidate is a folder of ours (the drop's failed/ or archive folder) or the inbox, and a path
        // under it read without following any link: a sidecar that is a link shows nothing.
        var candidates: [(root: URL, rel: String)] = []
        if let folder = try? ledger.originalsFolder(dropId: drop.id) {
            let base = QueueControl.originalsBase(folder, paths: ctx.paths)
            candidates.append((base, file))
            if let s = drop.sidecarPath { candidates.append((base, s)) }
        }
        candidates.append((ctx.paths.inbox, file))
        if let s = drop.sidecarPath { candidates.append((ctx.paths.inbox, s)) }
        guard
            let text = candidates.lazy.filter({ ($0.rel as NSString).lastPathComponent == (file as NSString).lastPathComponent })
                .compactMap({ Self.readBeneath($0.root, $0.rel) }).first
        else { return nil }
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard line >= 1, line <= lines.count else { return nil }
        var out: [[String: Any]] = []
        for n in max(1, line - 3)...min(lines.count, line + 2) {
            var r: [String: Any] = ["n": n, "text": String(lines[n - 1]), "hit": n == line]
            if n == line, let col, col >= 1 { r["caret"] = String(repeating: " ", count: "\(n) | ".count + col - 1) + "^" }
            out.append(r)
        }
        return out
    }

    /// A text file of at most 1 MiB at `rel` under `root`, reached without following a link anywhere
    /// below `root`; nil for a link, anything not a regular file, or anything else unreadable.
    static func readBeneath(_ root: URL, _ rel: String) -> String? {
        guard let top = try? BeneathDirectory(path: root.path) else { return nil }
        let dirPart = PathText.parent(rel), name = (rel as NSString).lastPathComponent
        guard let dir = dirPart.isEmpty ? top : try? top.subdirectory(dirPart, create: false),
            let st = dir.lstat(name), BeneathDirectory.isRegular(st), st.st_size <= 1 << 20,
            let fd = try? dir.open(name, O_RDONLY | O_NONBLOCK)
        else { return nil }
        let h = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        return (try? h.readToEnd()).flatMap { String(data: $0, encoding: .utf8) }
    }

    // MARK: failures, accounts, pipelines

    /// The to-do list (FailureList), or with `acknowledged` what operators acknowledged.
    func failures(acknowledged: Bool) throws -> [String: Any] {
        let list = try FailureList.gather(ledger: ledger)
        let shown = acknowledged ? list.acknowledged : list.open
        let items = shown.map { i -> [String: Any] in
            var v: [String: Any] = [
                "id": i.id, "drop": i.drop, "stem": i.stem, "at": isoStamp(i.failedAt), "isDrop": i.kind == "drop",
                "reasons": i.reasons.map { r -> [String: Any] in
                    var x: [String: Any] = ["code": r.code, "message": r.message]
                    if let t = r.target { x["target"] = t }
                    if let n = r.delivery { x["delivery"] = n }
                    if let l = r.location { x["location"] = l }
                    return x
                }
            ]
            if let t = i.target { v["target"] = t }
            if let a = i.acknowledgedAt { v["acknowledgedAt"] = isoStamp(a); v["acknowledgedBy"] = i.acknowledgedBy ?? "" }
            return v
        }
        return [
            "items": items, "any": !items.isEmpty, "acknowledged": acknowledged,
            "openCount": list.open.count, "acknowledgedCount": list.acknowledged.count, "supersededCount": list.superseded.count
        ]
    }

    func accountsPage() throws -> [String: Any] {
        let report = try StatusReport.gather(config: ctx.config, ledger: ledger, profiles: ctx.profiles, history: false)
        return [
            "accounts": accounts(report), "warnings": otherWarnings(report), "quotas": quotas(report.quotas), "anyQuotas": !report.quotas.isEmpty,
            "breakers": breakers(report.breakers), "anyBreakers": !report.breakers.isEmpty
        ]
    }

    /// The Accounts page with each QR-login account's login: its button, and while one runs its code
    /// (drawn as SVG) or how it ended. A page showing a login in progress reloads itself every 2 s.
    func withLogins(_ page: [String: Any], logins: AccountLogins) async -> [String: Any] {
        var out = page
        var busy = false
        var rows: [[String: Any]] = []
        for var row in page["accounts"] as? [[String: Any]] ?? [] {
            let key = row["account"] as? String ?? ""
            if let account = try? ctx.config.account(key), BrowserLogin.applies(to: account) {
                row["qrLogin"] = true
                row["appName"] = PlatformRegistry.descriptor(account.platform)?.displayName ?? account.platform
                switch await logins.state(AccountLogins.key(pipeline: ctx.config.name, account: key)) {
                case .opening?: row["loginOpening"] = true; busy = true
                case .waiting(let qr, let until)?: row["loginQR"] = QRCodeDrawing.svg(qr); row["loginUntil"] = isoStamp(until); busy = true
                case .connected(let n, let at)?: row["loginDone"] = "logged in at \(isoStamp(at)); \(n) cookie(s) sealed in the ledger"
                case .failed(let why, _)?: row["loginFailed"] = why
                case nil: break
                }
            }
            rows.append(row)
        }
        out["accounts"] = rows
        if busy { out["refreshSoon"] = true }
        return out
    }

    func pipelines() -> [String: Any] {
        let c = ctx.config
        return [
            "pipelines": [
                [
                    "name": c.name, "file": c.file, "inbox": c.paths.inbox.path, "outbox": c.paths.outbox.path, "archive": c.paths.archive.path,
                    "ledger": c.sharedLedger?.display ?? c.paths.ledger.path, "watch": "\(watcher.mode.rawValue) (\(watcher.fsType))", "sandbox": "\(c.sandbox)",
                    "targets": c.targets.map { ["name": $0.name, "platform": $0.platform, "profile": $0.profile, "account": $0.account] },
                    "notify": c.notify.map { n in n.sinks.map(\.name).joined(separator: ", ") } ?? "none"
                ] as [String: Any]
            ]
        ]
    }

    // MARK: formatting

    static func bytes(_ b: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(b), i = 0
        while v >= 1024, i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(b) B" : String(format: "%.1f %@", v, units[i])
    }

    static func ago(_ s: Double) -> String {
        s < 90 ? "\(Int(s)) s" : s < 5400 ? "\(Int(s / 60)) min" : s < 172_800 ? "\(Int(s / 3600)) h" : "\(Int(s / 86400)) days"
    }
}

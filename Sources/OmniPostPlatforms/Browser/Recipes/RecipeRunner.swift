import Foundation

/// Runs a recipe's steps on one page. Every wait is bounded (the recipe's `timeouts:`); every element
/// used passes the page script's person-could-use test; publish is clicked only once every
/// `wait_upload` state shows the upload complete and the button is enabled. What the page shows after
/// the click is believed only when the account's content list agrees.
package struct RecipeRunner: Sendable {
    package let recipe: Recipe
    package let page: BrowserPage
    /// The account's endpoint (`{base}` in the recipe's addresses).
    package let base: String
    let poll = Duration.milliseconds(150)

    package init(recipe: Recipe, page: BrowserPage, base: String) {
        self.recipe = recipe
        self.page = page
        self.base = base
    }

    /// Calls one of the page script's functions, installing the script in the same evaluation: a page
    /// that navigated between two commands cannot leave the call without its script. `context`: a
    /// foreign frame's isolated world (where an element was picked), else the page's main world.
    func call(_ js: String, in context: Int? = nil) async throws -> CDPValue {
        try await page.evaluate(PageScript.install + ";\nwindow.__omnipost." + js, context: context)
    }

    /// An element a person could use: where to click (the top window's coordinates), and the isolated
    /// world it was found in when it sits in a frame of another origin (the calls that follow — its file
    /// input, its text — run there).
    struct Picked {
        var x: Double
        var y: Double
        var context: Int? = nil
    }

    static func json(_ a: Recipe.Anchor) -> String {
        let o: CDPValue = ["kind": .string(a.kind.rawValue), "value": .string(a.value)]
        return String(decoding: (try? JSONEncoder().encode(o)) ?? Data("{}".utf8), as: UTF8.self)
    }

    package func shown(_ p: Recipe.Probe) async throws -> Bool {
        switch p {
        case .urlContains(let s): return try await page.url().contains(s)
        case .shown(let a):
            return try await call("shown(\(Self.json(a)))").boolValue ?? false
        }
    }

    /// The first known failure the page shows now.
    package func failureShown() async throws -> Recipe.FailureRule? {
        for f in recipe.failures where try await shown(f.when) { return f }
        return nil
    }

    static func failure(_ rule: Recipe.FailureRule, step: String?) -> RecipeFailure {
        let code: String
        var transient = false
        switch rule.verdict {
        case .needsHuman: code = "needs_human"
        case .authRevoked: code = "auth_revoked"
        case .rejected: code = "rejected_by_platform"
        case .rateLimited: (code, transient) = ("rate_limited", true)
        case .uploadRunning: (code, transient) = ("platform_error", true)
        }
        return RecipeFailure(verdict: rule.verdict, code: code, message: "the page says: \(rule.says)", step: step, transient: transient)
    }

    /// Opens `template` and waits until the page is the logged-in one; a login page is `auth_revoked`,
    /// a known failure (a captcha) is classified.
    package func open(_ template: String) async throws {
        try await page.navigate(recipe.address(template, base: base))
        let deadline = ContinuousClock.now + recipe.anchorWithin
        while true {
            for p in recipe.loggedOut where try await shown(p) {
                throw RecipeFailure(
                    verdict: .authRevoked, code: "auth_revoked", message: "the page asks to log in: the account's cookies no longer sign in", step: "open", transient: false)
            }
            if let f = try await failureShown() { throw Self.failure(f, step: "open") }
            if try await shown(recipe.loggedIn) { return }
            if ContinuousClock.now >= deadline {
                throw RecipeFailure(
                    verdict: nil, code: "recipe_broken",
                    message: "step 'open': the page shows neither the logged-in state (\(Self.describe(recipe.loggedIn))) nor a login page within \(recipe.anchorWithin)",
                    step: "open", transient: false)
            }
            try await Task.sleep(for: poll)
        }
    }

    static func describe(_ p: Recipe.Probe) -> String {
        switch p {
        case .urlContains(let s): "an address containing '\(s)'"
        case .shown(let a): a.description
        }
    }

    /// The centre of the element a person would use for `step`'s anchor, waiting at most `within`. Nil
    /// when an optional step's element is absent (none, or none displayed): that step is skipped.
    /// `failures`: whether a known failure the page shows ends the wait (not on the login page, which
    /// is the logged-out page the failures describe).
    func pick(_ step: Recipe.Step, needEnabled: Bool, within: Duration? = nil, failures: Bool = true) async throws -> Picked? {
        guard let anchor = step.anchor else { return nil }
        // An optional step's element is on a page that has rendered already (its upload done): a short
        // look is enough to call it absent.
        let limit = within ?? (step.optional ? min(recipe.anchorWithin, .seconds(3)) : recipe.anchorWithin)
        let deadline = ContinuousClock.now + limit
        let js = "pick(\(Self.json(anchor)), \(needEnabled))"
        var found = 0
        var why: [String] = []
        while true {
            let last = try await call(js)
            if last["ok"].boolValue == true, let x = last["x"].numberValue, let y = last["y"].numberValue { return Picked(x: x, y: y) }
            found = Int(last["found"].numberValue ?? 0)
            why = last["why"].listValue.compactMap(\.stringValue)
            // Nothing matches in the page or its readable frames: the frames of other origins, each in
            // its own world (a login QR code in the login service's frame).
            if found == 0 {
                for (frame, context) in try await page.foreignFrames() {
                    let r = try await call(js, in: context)
                    if r["ok"].boolValue == true, let x = r["x"].numberValue, let y = r["y"].numberValue {
                        let o = try await page.frameOrigin(frame)
                        return Picked(x: x + o.x, y: y + o.y, context: context)
                    }
                    found += Int(r["found"].numberValue ?? 0)
                    why += r["why"].listValue.compactMap(\.stringValue)
                }
            }
            if failures, let f = try await failureShown() { throw Self.failure(f, step: step.name) }
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: poll)
        }
        let absent = found == 0 || why.allSatisfy { $0.hasSuffix("is not displayed") || $0.hasSuffix("has no size") }
        if step.optional && absent { return nil }
        let detail = found == 0 ? "no element matches" : "\(found) element(s) match but none can be used: \(why.joined(separator: "; "))"
        throw RecipeFailure(
            verdict: nil, code: "recipe_broken", message: "step '\(step.name)': \(anchor): \(detail)", step: step.name, transient: false)
    }

    /// Waits until `probe` shows, failing early on `failed` or a known failure.
    func wait(for step: Recipe.Step) async throws {
        guard let until = step.until else { return }
        let limit = step.timeout ?? recipe.uploadWithin
        let deadline = ContinuousClock.now + limit
        while !(try await shown(until)) {
            if let failed = step.failed, try await shown(failed) {
                throw RecipeFailure(
                    verdict: .rejected, code: "rejected_by_platform", message: "step '\(step.name)': the page shows the upload failed (\(Self.describe(failed)))", step: step.name,
                    transient: true)
            }
            if let f = try await failureShown() { throw Self.failure(f, step: step.name) }
            if ContinuousClock.now >= deadline {
                throw RecipeFailure(
                    verdict: .uploadRunning, code: "platform_error", message: "step '\(step.name)': the upload did not complete within \(limit)", step: step.name,
                    transient: true)
            }
            try await Task.sleep(for: poll)
        }
    }

    /// Every `wait_upload` state shows now (the upload is complete).
    func uploadComplete() async throws -> Bool {
        for s in recipe.steps where s.action == .waitUpload {
            if let u = s.until, !(try await shown(u)) { return false }
        }
        return true
    }

    static func fold(_ s: String) -> String { s.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ") }

    /// Fills the post in and clicks publish. `beforePublish` runs right before the click (the engine
    /// records that a publish may now exist); what it returns is handed back. Returns the item the
    /// content list shows for the post.
    package func post(_ p: RecipePost, before listed: [ContentItem], beforePublish: () async throws -> Void) async throws -> ContentItem {
        try await open(recipe.uploadPage)
        for step in recipe.steps {
            switch step.action {
            case .upload, .cover:
                let file = step.action == .upload ? p.file : p.cover
                guard let file else { continue }
                guard let at = try await pick(step, needEnabled: true) else { continue }
                guard try await call("fileInput() !== null", in: at.context).boolValue == true else {
                    throw RecipeFailure(
                        verdict: nil, code: "recipe_broken", message: "step '\(step.name)': \(step.anchor!) has no file input of its own", step: step.name, transient: false)
                }
                try await page.setFiles([file], element: "window.__omnipost.fileInput()", context: at.context)
            case .waitUpload:
                try await wait(for: step)
            case .fill, .schedule:
                let text = step.action == .schedule ? p.publishAt.map(Self.scheduleText) ?? "" : p.text(step.value ?? .title)
                if text.isEmpty { continue }
                guard let at = try await pick(step, needEnabled: true) else { continue }
                try await page.click(x: at.x, y: at.y)
                _ = try await call("selectField()", in: at.context)
                try await page.insertText(text)
                let kept = try await call("fieldText()", in: at.context).stringValue ?? ""
                if !Self.fold(kept).contains(Self.fold(text)) {
                    throw RecipeFailure(
                        verdict: .rejected, code: "rejected_by_platform",
                        message: "step '\(step.name)': the field kept \(kept.count) of \(text.count) characters ('\(kept.prefix(40))'): the page's limit is shorter than the text",
                        step: step.name, transient: false)
                }
            case .click:
                guard let at = try await pick(step, needEnabled: true) else { continue }
                try await page.click(x: at.x, y: at.y)
            case .publish:
                // The button may be enabled before the upload is (Kuaishou's page lets it be clicked
                // early): the upload's own completion is checked too, right before the click.
                for s in recipe.steps where s.action == .waitUpload { try await wait(for: s) }
                guard let at = try await pick(step, needEnabled: true, within: recipe.uploadWithin) else { continue }
                guard try await uploadComplete() else {
                    throw RecipeFailure(
                        verdict: .uploadRunning, code: "platform_error", message: "step '\(step.name)': the upload is no longer shown complete", step: step.name, transient: true)
                }
                try await beforePublish()
                try await page.click(x: at.x, y: at.y)
                if let second = step.confirm {
                    // The page asks once more ("确认发布"): clicked when it comes. A page that posted at
                    // the first click shows none; the content list decides either way.
                    let dialog = Recipe.Step(
                        name: "\(step.name) (confirm)", action: .click, anchor: second, value: nil, optional: true, until: nil, failed: nil, timeout: nil)
                    if let ok = try await pick(dialog, needEnabled: true, within: recipe.anchorWithin) { try await page.click(x: ok.x, y: ok.y) }
                }
                return try await confirm(p, before: listed, step: step.name)
            }
        }
        throw RecipeFailure(verdict: nil, code: "recipe_broken", message: "the recipe has no publish step", step: nil, transient: false)
    }

    /// `yyyy-MM-dd HH:mm` in China Standard Time (the creator pages' date picker; social-auto-upload's
    /// Xiaohongshu uploader types the same form).
    static func scheduleText(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return f.string(from: d)
    }

    /// After the click: a known failure the page shows is classified; otherwise (a success message, or
    /// nothing at all) the content list decides.
    func confirm(_ p: RecipePost, before listed: [ContentItem], step: String) async throws -> ContentItem {
        let deadline = ContinuousClock.now + recipe.confirmWithin
        var said = false
        while ContinuousClock.now < deadline {
            if let f = try await failureShown() { throw Self.failure(f, step: step) }
            if try await shown(recipe.success) {
                said = true
                break
            }
            try await Task.sleep(for: poll)
        }
        if let item = try await find(p, before: listed) { return item }
        throw RecipeFailure(
            verdict: nil, code: "uncertain_post",
            message: said
                ? "the page said the post was published, but the account's content list does not show '\(p.title)'; it is not published again — look at the account, then `omnipost retry` if it is not there"
                : "no confirmation came within \(recipe.confirmWithin) and the account's content list does not show '\(p.title)'; it is not published again — look at the account, then `omnipost retry` if it is not there",
            step: step, transient: false)
    }

    /// The account's content list as the page shows it.
    package func listed() async throws -> [ContentItem] {
        try await open(recipe.contentList.page)
        let l = recipe.contentList
        var spec: [String: CDPValue] = ["item": .string(l.item), "title": .string(l.title)]
        if let d = l.duration { spec["duration"] = .string(d) }
        if let i = l.idAttribute { spec["id"] = .string(i) }
        let arg = String(decoding: try JSONEncoder().encode(CDPValue.object(spec)), as: UTF8.self)
        return try await call("items(\(arg))").listValue.map {
            ContentItem(title: $0["title"].stringValue ?? "", duration: $0["duration"].stringValue, id: $0["id"].stringValue)
        }
    }

    /// The post's item in the content list, new since `before` (a post of the same title and length made
    /// earlier is not taken for this one): read a few times, since a list may lag the publish.
    package func find(_ p: RecipePost, before: [ContentItem], tries: Int = 3) async throws -> ContentItem? {
        func matches(_ i: ContentItem) -> Bool {
            Self.fold(i.title) == Self.fold(p.title) && (p.duration == nil || i.duration == nil || i.duration == p.duration)
        }
        let had = before.filter(matches)
        for n in 0..<tries {
            let now = try await listed().filter(matches)
            if now.count > had.count {
                return now.first { i in i.id == nil || !had.contains { $0.id == i.id } } ?? now.first
            }
            if n + 1 < tries { try await Task.sleep(for: .seconds(1)) }
        }
        return nil
    }
}

import Foundation
import OmniPostCore

/// One page of the browser, reached through its flattened DevTools session: the commands a recipe
/// needs, each with a hard timeout (`BrowserSession.Timeouts`). Clicks and typing go through
/// `Input.*` — the events a person's mouse and keyboard make — never through a script's `click()`.
package struct BrowserPage: Sendable {
    package let connection: DevToolsConnection
    package let session: String
    package let timeouts: BrowserSession.Timeouts

    /// A new tab, attached with `flatten: true` (its commands share the browser's socket).
    static func attach(_ c: DevToolsConnection, timeouts: BrowserSession.Timeouts) async throws -> BrowserPage {
        let target = try await c.send("Target.createTarget", ["url": "about:blank"], timeout: timeouts.command)
        guard let id = target["targetId"].stringValue else { throw DevToolsConnection.Failure(method: "Target.createTarget", message: "no targetId") }
        let attached = try await c.send("Target.attachToTarget", ["targetId": .string(id), "flatten": true], timeout: timeouts.command)
        guard let session = attached["sessionId"].stringValue else { throw DevToolsConnection.Failure(method: "Target.attachToTarget", message: "no sessionId") }
        let page = BrowserPage(connection: c, session: session, timeouts: timeouts)
        for domain in ["Page.enable", "Runtime.enable", "Network.enable", "DOM.enable"] { _ = try await page.send(domain) }
        return page
    }

    @discardableResult
    package func send(_ method: String, _ params: CDPValue = [:], timeout: Duration? = nil) async throws -> CDPValue {
        try await connection.send(method, params, session: session, timeout: timeout ?? timeouts.command)
    }

    /// Opens `url` and waits for its load event (at most the navigation timeout).
    package func navigate(_ url: String) async throws {
        let mark = await connection.eventMark()
        let r = try await send("Page.navigate", ["url": .string(url)], timeout: timeouts.navigation)
        if let e = r["errorText"].stringValue { throw DevToolsConnection.Failure(method: "Page.navigate", message: "\(url): \(e)") }
        guard await connection.event("Page.loadEventFired", session: session, since: mark, within: timeouts.navigation) != nil else {
            throw DevToolsConnection.Failure(method: "Page.navigate", message: "\(url) did not finish loading within \(timeouts.navigation)", timedOut: true)
        }
    }

    /// The value of `expression` (awaited when it is a promise), or a failure with the page's exception.
    /// `context`: an isolated world's (`foreignFrames`), else the page's main world.
    package func evaluate(_ expression: String, context: Int? = nil) async throws -> CDPValue {
        var params: [String: CDPValue] = ["expression": .string(expression), "returnByValue": true, "awaitPromise": true]
        if let context { params["contextId"] = .number(Double(context)) }
        let r = try await whileNavigating { try await send("Runtime.evaluate", .object(params)) }
        if !r["exceptionDetails"].isNull {
            let text = r["exceptionDetails"]["exception"]["description"].stringValue ?? r["exceptionDetails"]["text"].stringValue ?? "exception"
            throw DevToolsConnection.Failure(method: "Runtime.evaluate", message: text)
        }
        return r["result"]["value"]
    }

    /// Runs `command` again (a few times, briefly apart) when the page navigated under it — a page's own
    /// script may leave for another page at any moment (after publish, on an expired session), and a
    /// command sent in between finds its context gone.
    func whileNavigating(_ command: () async throws -> CDPValue) async throws -> CDPValue {
        var tries = 0
        while true {
            do { return try await command() } catch let f as DevToolsConnection.Failure where !f.timedOut && tries < 20 && Self.navigatedAway(f.message) {
                tries += 1
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    static func navigatedAway(_ message: String) -> Bool {
        ["navigated or closed", "Execution context was destroyed", "Cannot find context", "Cannot find default execution context"].contains { message.contains($0) }
    }

    /// The current address.
    package func url() async throws -> String { try await evaluate("location.href").stringValue ?? "" }

    /// The page's HTML as it stands (saved beside a failure report), whole as a person saw it: each
    /// open shadow root inside its host (`<template shadowrootmode="open">`) and each frame's document
    /// after the page's, marked with the frame's address — a captcha shown in WeChat's form frame is in
    /// the saved page.
    package func html() async throws -> String {
        var out = try await evaluate(Self.documents).stringValue ?? ""
        for (frame, context) in (try? await foreignFrames()) ?? [] {
            if let h = try? await evaluate(Self.documents, context: context).stringValue { out += "\n<!-- frame \(frame) -->\n" + h }
        }
        return out
    }

    static let documents = #"""
        (() => {
          const parts = [];
          const visit = (d, where) => {
            const roots = [];
            const find = r => { for (const e of r.querySelectorAll('*')) if (e.shadowRoot) { roots.push(e.shadowRoot); find(e.shadowRoot); } };
            find(d);
            const html = d.documentElement.getHTML
              ? '<html>' + d.documentElement.getHTML({shadowRoots: roots}) + '</html>' : d.documentElement.outerHTML;
            parts.push((where ? '<!-- frame ' + where + ' -->\n' : '') + html);
            for (const f of d.querySelectorAll('iframe, frame')) {
              let c = null;
              try { c = f.contentDocument; } catch (_) { c = null; }
              if (c && c.documentElement) visit(c, f.src || f.name || 'frame');
            }
          };
          visit(document, '');
          return parts.join('\n');
        })()
        """#

    /// A PNG of the viewport.
    package func screenshot() async throws -> Data {
        let r = try await send("Page.captureScreenshot", ["format": "png"])
        return Data(base64Encoded: r["data"].stringValue ?? "") ?? Data()
    }

    /// Hands `files` to the `<input type=file>` that `expression` evaluates to (the browser reads them
    /// from disk itself: no bytes pass through the socket).
    package func setFiles(_ files: [String], element expression: String, context: Int? = nil) async throws {
        var params: [String: CDPValue] = ["expression": .string(expression), "returnByValue": false]
        if let context { params["contextId"] = .number(Double(context)) }
        let r = try await send("Runtime.evaluate", .object(params))
        guard let object = r["result"]["objectId"].stringValue else {
            throw DevToolsConnection.Failure(method: "DOM.setFileInputFiles", message: "no file input")
        }
        try await send("DOM.setFileInputFiles", ["files": .array(files.map { .string($0) }), "objectId": .string(object)])
    }

    /// The page's frames, each with an isolated world of its own to run a script in — for the frames
    /// the page's own script cannot read, of another origin (WeChat's login QR code sits in
    /// open.weixin.qq.com's frame inside channels.weixin.qq.com). Every frame below the top one is
    /// listed, since an opaque origin (a data: or sandboxed frame) reads the same as its parent's in the
    /// frame tree; one the page's script can read is searched again, which finds nothing new. Chromium
    /// keeps one world per frame and name, so asking again returns the same one. A frame in another
    /// renderer process (another site, under site isolation) is not reachable from this page's session
    /// and is not listed.
    package func foreignFrames() async throws -> [(frame: String, context: Int)] {
        let tree = try await send("Page.getFrameTree")
        var ids: [String] = []
        func walk(_ node: CDPValue, top: Bool) {
            if !top, let id = node["frame"]["id"].stringValue { ids.append(id) }
            for child in node["childFrames"].listValue { walk(child, top: false) }
        }
        walk(tree["frameTree"], top: true)
        var out: [(String, Int)] = []
        for id in ids {
            // A frame that went away between the two commands is simply not searched.
            guard let w = try? await send("Page.createIsolatedWorld", ["frameId": .string(id), "worldName": "omnipost"]),
                let context = w["executionContextId"].numberValue
            else { continue }
            out.append((id, Int(context)))
        }
        return out
    }

    /// Where `frame`'s content starts in the top window (its element's content box; in-process frames'
    /// boxes are given in the top window's coordinates).
    package func frameOrigin(_ frame: String) async throws -> (x: Double, y: Double) {
        let owner = try await send("DOM.getFrameOwner", ["frameId": .string(frame)])
        let box = try await send("DOM.getBoxModel", ["backendNodeId": owner["backendNodeId"]])
        let q = box["model"]["content"].listValue.compactMap(\.numberValue)
        guard q.count >= 2 else { throw DevToolsConnection.Failure(method: "DOM.getBoxModel", message: "the frame's element has no box") }
        return (q[0], q[1])
    }

    /// A left click at (`x`, `y`) in CSS pixels: move, press, release.
    package func click(x: Double, y: Double) async throws {
        for type in ["mouseMoved", "mousePressed", "mouseReleased"] {
            try await send(
                "Input.dispatchMouseEvent",
                ["type": .string(type), "x": .number(x), "y": .number(y), "button": type == "mouseMoved" ? "none" : "left", "clickCount": type == "mouseMoved" ? 0 : 1])
        }
    }

    /// Types `text` where the focus is, as an input method commits it (one `input` event; CJK text too).
    package func insertText(_ text: String) async throws {
        try await send("Input.insertText", ["text": .string(text)])
    }

    /// Presses one key (`Enter`, `Backspace`) where the focus is.
    package func press(key: String, code: Int) async throws {
        for type in ["rawKeyDown", "keyUp"] {
            try await send("Input.dispatchKeyEvent", ["type": .string(type), "key": .string(key), "code": .string(key), "windowsVirtualKeyCode": .number(Double(code))])
        }
    }

    /// Every cookie the browser holds (all sites: a platform's login spans several hosts).
    package func cookies() async throws -> [CookieJar.Cookie] {
        let r = try await connection.send("Storage.getCookies", [:], timeout: timeouts.command)
        return r["cookies"].listValue.map {
            let exp = $0["expires"].numberValue ?? -1
            return CookieJar.Cookie(
                domain: $0["domain"].stringValue ?? "", path: $0["path"].stringValue ?? "/", name: $0["name"].stringValue ?? "", value: $0["value"].stringValue ?? "",
                secure: $0["secure"].boolValue ?? false, httpOnly: $0["httpOnly"].boolValue ?? false, expires: $0["session"].boolValue == true || exp <= 0 ? nil : exp)
        }
    }

    /// Puts `cookies` in the browser before the first page is opened.
    package func setCookies(_ cookies: [CookieJar.Cookie]) async throws {
        guard !cookies.isEmpty else { return }
        let list: [CDPValue] = cookies.map { c in
            var o: [String: CDPValue] = [
                "name": .string(c.name), "value": .string(c.value), "domain": .string(c.domain), "path": .string(c.path),
                "secure": .bool(c.secure), "httpOnly": .bool(c.httpOnly)
            ]
            if let e = c.expires { o["expires"] = .number(e) }
            return .object(o)
        }
        try await send("Network.setCookies", ["cookies": .array(list)])
    }
}

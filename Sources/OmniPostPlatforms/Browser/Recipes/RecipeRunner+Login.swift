import Foundation

extension RecipeRunner {
    /// Opens the login page and reads its QR code's modules (true: dark) from the image the page shows:
    /// what the phone app must scan, to be shown in a terminal.
    package func loginQR() async throws -> [[Bool]] {
        guard let qr = recipe.qr else {
            throw RecipeFailure(verdict: nil, code: "recipe_broken", message: "the recipe names no QR code (qr:) on its login page", step: "login", transient: false)
        }
        try await page.navigate(recipe.address(recipe.loginPage, base: base))
        var step = Recipe.Step(name: "login QR", action: .click, anchor: qr, value: nil, optional: false, until: nil, failed: nil, timeout: nil)
        var at: Picked? = nil
        if let reveal = recipe.qrReveal {
            // A login box that opens on another form: the QR code is looked for briefly, and when it is
            // not there the switch to it is clicked.
            step.optional = true
            at = try await pick(step, needEnabled: false, within: .seconds(2), failures: false)
            if at == nil {
                let open = Recipe.Step(name: "login QR (switch)", action: .click, anchor: reveal, value: nil, optional: false, until: nil, failed: nil, timeout: nil)
                if let s = try await pick(open, needEnabled: true, failures: false) { try await page.click(x: s.x, y: s.y) }
            }
            step.optional = false
        }
        if at == nil { at = try await pick(step, needEnabled: false, failures: false) }
        let rows = try await call("qrModules()", in: at?.context).listValue.compactMap(\.stringValue)
        guard rows.count >= 21 else {
            throw RecipeFailure(
                verdict: nil, code: "recipe_broken", message: "step 'login QR': \(qr) shows no QR code that could be read (\(rows.count) rows)", step: "login",
                transient: false)
        }
        return rows.map { $0.map { $0 == "1" } }
    }

    /// The account's health ahead of a post: the upload page opens logged in (else `auth_revoked`) and
    /// every step before the upload's wait finds its element (else `recipe_broken` naming it; a click
    /// among them is made, as it opens the form the next steps are on). Later
    /// steps' fields appear only once a file is chosen, so they are not looked for here.
    package func check() async throws -> Int {
        try await open(recipe.uploadPage)
        var found = 0
        for step in recipe.steps {
            if step.action == .waitUpload { break }
            guard let at = try await pick(step, needEnabled: false) else { continue }
            found += 1
            // A click before the upload opens the form (WeChat's "发表视频" on /platform): made, so
            // the steps after it are looked for where a post would find them. Nothing is posted.
            if step.action == .click { try await page.click(x: at.x, y: at.y) }
        }
        return found
    }

    /// Waits at most `within` for the page to turn logged in (the phone app confirmed the scan).
    package func awaitLogin(within: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            if try await shown(recipe.loggedIn) {
                var out = false
                for p in recipe.loggedOut { out = try await shown(p) ? true : out }
                if !out { return true }
            }
            try await Task.sleep(for: .milliseconds(300))
        }
        return false
    }
}

/// A QR code in a terminal: two module rows per line in half blocks, light modules drawn (a terminal's
/// background is dark), inside the four-module quiet zone a reader needs — as `qrencode -t UTF8` draws it.
package enum TerminalQR {
    package static func render(_ modules: [[Bool]]) -> String {
        let quiet = 4
        let n = modules.count
        func dark(_ r: Int, _ c: Int) -> Bool {
            let (r, c) = (r - quiet, c - quiet)
            return r >= 0 && c >= 0 && r < n && c < n && modules[r][c]
        }
        let size = n + 2 * quiet
        var lines: [String] = []
        for r in stride(from: 0, to: size, by: 2) {
            var line = ""
            for c in 0..<size {
                let top = !dark(r, c), bottom = r + 1 < size ? !dark(r + 1, c) : false
                line += top && bottom ? "█" : top ? "▀" : bottom ? "▄" : " "
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

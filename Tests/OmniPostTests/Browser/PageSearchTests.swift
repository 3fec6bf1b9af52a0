import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
import Testing

/// How a recipe's anchor is looked for on a page built of parts a search of the document alone misses:
/// an open shadow root (a custom element's button), a frame of the page's origin, a frame of another
/// origin (reached from an isolated world), each with the person-could-use test applied across the
/// boundary — a disabled button inside a shadow tree is disabled, a frame's button under the page's
/// overlay is covered, and a placeholder is matched from its start.
@Suite struct PageSearchTests {
    /// One page holding every case, opened as a data: document (its frames: srcdoc ones share its
    /// origin; a data: one has an origin of its own).
    static let page = """
        <!doctype html><html><head><meta charset="utf-8"><style>body{margin:0;font-family:sans-serif} iframe{border:0;display:block}</style></head><body>
        <div id="open-host"></div>
        <div id="off-host"></div>
        <iframe id="same" style="width:500px;height:80px" srcdoc="<input placeholder='填写作品标题，为作品获得更多流量' style='width:300px'><button>帧内发表</button>"></iframe>
        <iframe id="under" style="width:300px;height:60px" srcdoc="<button>被遮住的按钮</button>"></iframe>
        <div style="position:absolute;left:0;top:0;width:320px;height:400px;pointer-events:auto;background:rgba(0,0,0,0)" id="overlay-slot"></div>
        <iframe id="other" style="width:300px;height:80px" src="data:text/html;charset=utf-8,%3Cbutton%3E%E5%8F%A6%E4%B8%80%E4%B8%AA%E6%BA%90%3C%2Fbutton%3E"></iframe>
        <script>
        document.getElementById('open-host').attachShadow({mode: 'open'}).innerHTML = '<button id="inner">影子发布</button>';
        document.getElementById('off-host').attachShadow({mode: 'open'}).innerHTML = '<button disabled>影子禁用</button>';
        // The overlay covers only the second frame: placed over it once the layout is known.
        const u = document.getElementById('under').getBoundingClientRect(), o = document.getElementById('overlay-slot');
        o.style.top = u.top + 'px'; o.style.height = u.height + 'px';
        </script></body></html>
        """

    static func step(_ name: String, _ kind: Recipe.Anchor.Kind, _ value: String) -> Recipe.Step {
        Recipe.Step(
            name: name, action: .click, anchor: .init(kind: kind, value: value, at: SourceLocation(file: "t.yaml", line: 1, column: 1)), value: nil,
            optional: false, until: nil, failed: nil, timeout: nil)
    }

    @Test(.timeLimit(.minutes(2))) func anchorsAreFoundInShadowRootsAndFramesAndJudgedAcrossThem() async throws {
        let dir = try TempDir()
        var recipe = try Recipe.parse(text: RecipeTests.minimal, file: "mine.yaml")
        recipe.anchorWithin = .seconds(2)
        let url = "data:text/html;charset=utf-8;base64," + Data(Self.page.utf8).base64EncodedString()
        _ = try await BrowserSession.with(profile: dir.file("profile")) { b -> Int in
            try await b.page.navigate(url)
            // Frames load on their own: wait until the data: frame is in the tree.
            for _ in 0..<50 where try await b.page.foreignFrames().count < 3 { try await Task.sleep(for: .milliseconds(100)) }
            let runner = RecipeRunner(recipe: recipe, page: b.page, base: "")

            // A button inside an open shadow root: found, clicked at its centre, and the click reaches it.
            _ = try await b.page.evaluate(
                "window.clicked = ''; document.getElementById('open-host').shadowRoot.getElementById('inner').onclick = () => { window.clicked = 'inner'; }; true")
            let shadow = try #require(try await runner.pick(Self.step("shadow", .text, "影子发布"), needEnabled: true))
            #expect(shadow.context == nil)
            try await b.page.click(x: shadow.x, y: shadow.y)
            #expect(try await b.page.evaluate("window.clicked").stringValue == "inner")

            // The disabled one inside another shadow root is disabled, not clicked.
            do {
                _ = try await runner.pick(Self.step("disabled", .text, "影子禁用"), needEnabled: true)
                Issue.record("a disabled button was picked")
            } catch let f as RecipeFailure {
                #expect(f.code == "recipe_broken" && f.message.contains("is disabled"), "\(f.message)")
            }

            // A field in a frame of the page's origin, by the start of its placeholder: typed into and read back.
            let field = try #require(try await runner.pick(Self.step("title", .placeholder, "填写作品标题"), needEnabled: true))
            #expect(field.context == nil, "a same-origin frame is searched by the page's own script")
            let frameTop = try await b.page.evaluate("document.getElementById('same').getBoundingClientRect().top").numberValue ?? -1
            #expect(field.y > frameTop, "the frame's element is given in the top window's coordinates (\(field.y) below \(frameTop))")
            try await b.page.click(x: field.x, y: field.y)
            _ = try await runner.call("selectField()")
            try await b.page.insertText("标题在帧里")
            #expect(try await runner.call("fieldText()").stringValue == "标题在帧里")

            // A frame's button under the page's transparent overlay is covered: a person's click would hit the overlay.
            do {
                _ = try await runner.pick(Self.step("covered", .text, "被遮住的按钮"), needEnabled: true)
                Issue.record("a covered button was picked")
            } catch let f as RecipeFailure {
                #expect(f.message.contains("is covered by div#overlay-slot"), "\(f.message)")
            }

            // A button in a frame of another origin: found from that frame's isolated world, placed in the top window.
            let other = try #require(try await runner.pick(Self.step("other", .text, "另一个源"), needEnabled: true))
            #expect(other.context != nil, "found in the frame's own world")
            let box = try await b.page.evaluate("JSON.stringify(document.getElementById('other').getBoundingClientRect())").stringValue ?? ""
            let r = try JSONSerialization.jsonObject(with: Data(box.utf8)) as? [String: Double] ?? [:]
            #expect(other.y > r["top"] ?? .infinity && other.y < r["bottom"] ?? 0, "\(other) within \(box)")
            // Its click lands on it: the frame's own script sees the event.
            _ = try await b.page.evaluate("window.__omnipostPicked.onclick = () => { window.hit = true; }; true", context: other.context)
            try await b.page.click(x: other.x, y: other.y)
            #expect(try await b.page.evaluate("window.hit === true", context: other.context).boolValue == true)

            // The saved page holds the shadow tree's and every frame's words, as a person saw them.
            let html = try await b.page.html()
            for words in ["影子发布", "帧内发表", "另一个源"] { #expect(html.contains(words), "the saved page lacks \(words)") }
            return 0
        }
    }
}

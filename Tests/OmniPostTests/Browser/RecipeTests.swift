import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
import Testing

/// Recipes as data: the bundled ones read, and a broken one answered with `recipe_invalid` at its
/// file:line:col, as a sidecar is.
@Suite struct RecipeTests {
    @Test func theBundledXiaohongshuRecipeReads() throws {
        let r = try RecipeCatalog.bundled("xiaohongshu")
        #expect(r.platform == "xiaohongshu")
        #expect(r.steps.contains { $0.action == .publish })
        #expect(r.steps.filter(\.optional).map(\.name) == ["cover", "original"])
        #expect(r.failures.contains { $0.verdict == .needsHuman })
    }

    static func error(_ text: String) -> OmniError? {
        do {
            _ = try Recipe.parse(text: text, file: "mine.yaml")
            return nil
        } catch let e as OmniError { return e } catch { return nil }
    }

    static let minimal = """
        platform: x
        upload_page: "{base}/up"
        login_page: "{base}/login"
        logged_in: {text: "me"}
        steps:
          - {name: file, action: upload, text: "Upload"}
          - {name: done, action: wait_upload, until: {text: "Done"}}
          - {name: go, action: publish, text: "Post"}
        success: {text: "Posted"}
        content_list: {page: "{base}/list", item: ".i", title: ".t"}
        """

    @Test func aMinimalRecipeReads() throws {
        let r = try Recipe.parse(text: Self.minimal, file: "mine.yaml")
        #expect(r.steps.count == 3 && r.anchorWithin == .seconds(10))
    }

    @Test func problemsAreAnsweredAtTheirLineAndColumn() throws {
        let typo = try #require(Self.error(Self.minimal.replacingOccurrences(of: "action: publish", with: "action: pubish")))
        #expect(typo.code == .recipeInvalid && typo.location?.line == 8, "\(typo)")
        #expect(typo.message.contains("did you mean 'publish'"), "\(typo.message)")
        let two = try #require(Self.error(Self.minimal.replacingOccurrences(of: "text: \"Upload\"", with: "text: \"Upload\", selector: \"#u\"")))
        #expect(two.location?.line == 6 && two.message.contains("not text and selector"), "\(two)")
        let noWait = try #require(Self.error(Self.minimal.replacingOccurrences(of: "  - {name: done, action: wait_upload, until: {text: \"Done\"}}\n", with: "")))
        #expect(noWait.message.contains("wait_upload"), "\(noWait)")
        let syntax = try #require(Self.error("platform: x\nsteps: [\n"))
        #expect(syntax.code == .recipeInvalid && syntax.location?.line != nil, "\(syntax)")
        let unknown = try #require(Self.error(Self.minimal + "\nsucess: {text: x}\n"))
        #expect(unknown.code == .unknownKey || unknown.code == .recipeInvalid, "\(unknown)")
        // A second button after publish belongs to the publish step only; a QR switch is an anchor.
        let misplaced = try #require(
            Self.error(Self.minimal.replacingOccurrences(of: "{name: file, action: upload, text: \"Upload\"}", with: "{name: file, action: upload, text: \"Upload\", confirm: {text: \"OK\"}}")))
        #expect(misplaced.code == .recipeInvalid && misplaced.location?.line == 6 && misplaced.message.contains("only a publish step"), "\(misplaced)")
        let reveal = try #require(Self.error(Self.minimal + "\nqr_reveal: {text: \"a\", selector: \"b\"}\n"))
        #expect(reveal.location?.line == 11 && reveal.message.contains("not text and selector"), "\(reveal)")
    }

    @Test func aPublishConfirmationAndAQRSwitchRead() throws {
        let text = Self.minimal.replacingOccurrences(of: "{name: go, action: publish, text: \"Post\"}", with: "{name: go, action: publish, text: \"Post\", confirm: {text: \"确认发布\"}}")
            + "\nqr: {selector: \"img.q\"}\nqr_reveal: {selector: \"div.platform-switch\"}\n"
        let r = try Recipe.parse(text: text, file: "mine.yaml")
        #expect(r.steps.last?.confirm?.value == "确认发布" && r.steps.last?.confirm?.kind == .text)
        #expect(r.qrReveal?.value == "div.platform-switch" && r.qrReveal?.kind == .selector)
        // The bundled Kuaishou recipe asks for its confirmation, and its login for the switch.
        let ks = try RecipeCatalog.bundled("kuaishou")
        #expect(ks.steps.first { $0.action == .publish }?.confirm?.value == "确认发布" && ks.qrReveal != nil)
    }
}

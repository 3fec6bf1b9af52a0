import Foundation
import OmniPostCore
import OmniPostPlatforms
import Testing

@Suite struct ManifestTests {
    @Test func yamlAndJSONGiveTheSameModel() throws {
        let y = try Manifest.parse(
            text: """
                version: 1
                title: "Hello {stem}"
                tags: [a, b]
                privacy: unlisted
                publish_at: 2026-12-01T18:00:00+01:00
                overrides:
                  youtube: {category_id: "20", made_for_kids: false}
                """, file: "c.yaml")
        let j = try Manifest.parse(
            text: """
                {"version": 1, "title": "Hello {stem}", "tags": ["a", "b"], "privacy": "unlisted",
                 "publish_at": "2026-12-01T18:00:00+01:00", "overrides": {"youtube": {"category_id": "20", "made_for_kids": false}}}
                """, file: "c.json")
        #expect(y.title?.value == j.title?.value)
        #expect(y.tags == ["a", "b"] && j.tags == ["a", "b"])
        #expect(y.privacy == .unlisted && j.privacy == .unlisted)
        #expect(y.publishAt == j.publishAt)
        #expect(y.publishAt == ISO8601DateFormatter().date(from: "2026-12-01T17:00:00Z"))
        #expect(y.overrides == j.overrides)
        #expect(y.overrides["youtube"]?["made_for_kids"] == "false")
    }

    /// `publish_at` is read field by field: an offset no zone has, minutes past 59, or a day its month
    /// does not have are refused at the value — Foundation's parser read `+25:00` as +02 and rolled
    /// `2027-02-30` into March. What is written well is read to the second.
    @Test func publishAtIsReadStrictly() throws {
        func at(_ text: String) throws -> Date? { try Manifest.parse(text: "title: x\npublish_at: \"\(text)\"\n", file: "p.yaml").publishAt }
        let good: [(String, String)] = [
            ("2026-12-01T18:00:00+01:00", "2026-12-01T17:00:00Z"), ("2026-12-01T18:00:00Z", "2026-12-01T18:00:00Z"),
            ("2026-12-01T18:00:00.250-05:30", "2026-12-01T23:30:00Z"), ("2028-02-29T10:00:00+14:00", "2028-02-28T20:00:00Z"),
            ("2026-12-01T18:00 Europe/Berlin", "2026-12-01T17:00:00Z"), ("2026-07-01T18:00:30 Europe/Berlin", "2026-07-01T16:00:30Z")
        ]
        let iso = ISO8601DateFormatter()
        for (text, utc) in good {
            let d = try #require(try at(text), "\(text)")
            #expect(iso.string(from: d) == utc, "\(text) → \(iso.string(from: d))")
        }
        for text in [
            "2027-01-01T10:00:00+25:00", "2026-12-08T10:00:00+99:00", "2026-12-08T10:00:00+05:99", "2027-02-30T10:00:00Z", "2027-04-31T10:00:00+01:00",
            "2027-02-29T10:00:00Z", "2026-13-01T10:00:00Z", "2026-12-01T24:00:00Z", "2026-12-01T18:60:00Z", "2026-12-01T18:00:00",
            "2026-03-29T02:30 Europe/Berlin", "2026-12-01T18:00:00-13:00", "2026-12-01T18:00 Mars/Olympus", "2026-12-01T18:00+01:00 Europe/Berlin", "tomorrow"
        ] {
            do {
                _ = try at(text)
                Issue.record("accepted \(text)")
            } catch let e as OmniError {
                #expect(e.code == .invalidValue && e.location?.line == 2, "\(text): \(e)")
            }
        }
    }

    /// A YAML sidecar a Windows editor saved with a byte-order mark reads as without one (YAML allows it);
    /// a problem in it is still at its line and column.
    @Test func aYAMLFileWithAByteOrderMarkIsRead() throws {
        let m = try Manifest.parse(text: "\u{FEFF}title: a\ndescription: b\ntags: [x]\n", file: "bom.yaml")
        #expect(m.title?.value == "a" && m.description?.value == "b")
        let e = #expect(throws: OmniError.self) { try Manifest.parse(text: "\u{FEFF}title: a\ntitel: b\n", file: "bom.yaml") }
        #expect(e?.location?.line == 2 && e?.location?.column == 1, "\(String(describing: e))")
        #expect(throws: OmniError.self) { try Manifest.parse(text: "\u{FEFF}{\"title\": \"a\"}", file: "bom.json") }
    }

    @Test func unknownKeyIsAnErrorWithDidYouMeanAndPosition() throws {
        let e = try #require(throws: OmniError.self) {
            try Manifest.parse(text: "version: 1\ntitel: x\n", file: "drop.yaml")
        }
        #expect(e.code == .unknownKey)
        #expect(e.message.contains("did you mean 'title'"))
        #expect(e.location?.description == "drop.yaml:2:1")
    }

    @Test func syntaxErrorHasLineAndColumn() throws {
        let e = try #require(throws: OmniError.self) {
            try Manifest.parse(text: "title: \"unclosed\ntags: [a\n", file: "bad.yaml")
        }
        #expect(e.code == .manifestSyntax)
        #expect(e.location?.file == "bad.yaml")
        #expect(e.location?.line != nil && e.location?.column != nil)
    }

    @Test func jsonSyntaxErrorHasLineAndColumn() throws {
        let e = try #require(throws: OmniError.self) {
            try Manifest.parse(text: "{\n  \"title\": \"x\",\n  \"tags\": [\"a\" \"b\"]\n}\n", file: "bad.json")
        }
        #expect(e.code == .manifestSyntax)
        #expect(e.location?.line == 3)
    }

    @Test func wrongTypesAndValuesPointAtTheValue() throws {
        let e1 = try #require(throws: OmniError.self) { try Manifest.parse(text: "privacy: publik\n", file: "m.yaml") }
        #expect(e1.code == .invalidValue)
        #expect(e1.message.contains("did you mean 'public'"))
        #expect(e1.location?.description == "m.yaml:1:10")
        let e2 = try #require(throws: OmniError.self) { try Manifest.parse(text: "tags: {a: 1}\n", file: "m.yaml") }
        #expect(e2.location?.line == 1)
        let e3 = try #require(throws: OmniError.self) { try Manifest.parse(text: "publish_at: tomorrow\n", file: "m.yaml") }
        #expect(e3.message.contains("UTC offset"))
        let e4 = try #require(throws: OmniError.self) { try Manifest.parse(text: "sha256: abc\n", file: "m.yaml") }
        #expect(e4.message.contains("64 hexadecimal"))
        // Which override keys a platform takes is its descriptor's to say: checked against the registry's rules.
        let typo = try Manifest.parse(text: "overrides: {youtube: {categroy_id: 1}}\n", file: "m.yaml")
        let e5 = try #require(PlatformRegistry.rules.problems(of: typo).first)
        #expect(e5.code == .unknownKey && e5.message.contains("category_id") && e5.location?.description == "m.yaml:1:36", "\(e5)")
        let e6 = try #require(throws: OmniError.self) { try Manifest.parse(text: "- a\n- b\n", file: "m.yaml") }
        #expect(e6.message.contains("expected a sidecar mapping"))
    }

    @Test func emptyFileIsReported() throws {
        let e = try #require(throws: OmniError.self) { try Manifest.parse(text: "", file: "e.yaml") }
        #expect(e.code == .manifestSyntax)
        #expect(e.message.contains("empty"))
    }

    @Test func billionLaughsFailsFastWithFlatMemory() throws {
        var text = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        for i in 1...9 {
            let prev = i == 1 ? "a" : "l\(i - 1)"
            text += "l\(i): &l\(i) [*\(prev),*\(prev),*\(prev),*\(prev),*\(prev),*\(prev),*\(prev),*\(prev),*\(prev)]\n"
        }
        let clock = ContinuousClock()
        let start = clock.now
        let e = try #require(throws: OmniError.self) { try Manifest.parse(text: text, file: "lol.yaml") }
        #expect(e.code == .manifestTooComplex)
        #expect(clock.now - start < .seconds(5))
    }

    @Test func oversizedSidecarIsRefusedUnread() throws {
        let dir = try TempDir()
        let big = try dir.write("big.yaml", "title: x\n" + String(repeating: "# padding\n", count: 120_000))
        let e = try #require(throws: OmniError.self) { try Manifest.load(path: big.path, displayName: "big.yaml") }
        #expect(e.code == .manifestTooLarge)
    }

    @Test func templatesFillVariablesAndRejectUnknownOnes() throws {
        let f = Field("Clip {clip_id} of {video_id} {{literal}}", at: SourceLocation(file: "s.yaml", line: 3, column: 8))
        #expect(try Template.render(f, variables: ["clip_id": "7", "video_id": "abc"]) == "Clip 7 of abc {literal}")
        let e = try #require(throws: OmniError.self) {
            try Template.render(Field("Hi {vidoe_id}", at: f.location), variables: ["video_id": "abc"])
        }
        #expect(e.code == .unknownTemplateVariable)
        #expect(e.message.contains("did you mean {video_id}"))
        #expect(e.location?.description == "s.yaml:3:8")
    }
}

import Foundation
import OmniPostCore
import Testing

/// `.json` sidecars are JSON (RFC 8259), not YAML that happens to look like it: each thing JSON does not
/// allow is refused with a stable code at the place it is, and YAML's foreign tags are refused, not dropped.
@Suite struct StrictJSONTests {
    struct Case: Sendable, CustomStringConvertible {
        var text: String
        var line: Int
        var column: Int
        var says: String
        var code = "manifest_syntax"
        var description: String { text.debugDescription }
    }

    static let corpus: [Case] = [
        Case(text: "{\n  \"title\": \"x\",\n}\n", line: 2, column: 15, says: "trailing comma before '}'"),
        Case(text: #"{"tags": ["a", "b",]}"#, line: 1, column: 19, says: "trailing comma before ']'"),
        Case(text: #"{"title": NaN}"#, line: 1, column: 11, says: "JSON has no NaN or Infinity"),
        Case(text: #"{"fields": {"score": Infinity}}"#, line: 1, column: 22, says: "JSON has no NaN or Infinity"),
        Case(text: #"{"fields": {"score": -Infinity}}"#, line: 1, column: 22, says: "JSON has no NaN or Infinity"),
        Case(text: "{\n  // from the exporter\n  \"title\": \"x\"\n}", line: 2, column: 3, says: "comments are not allowed"),
        Case(text: "{\"title\": \"x\" /* note */}", line: 1, column: 15, says: "comments are not allowed"),
        Case(text: "{'title': 'x'}", line: 1, column: 2, says: "double quotes"),
        Case(text: "{\"title\": 'x'}", line: 1, column: 11, says: "double quotes"),
        Case(text: "{\"title\": \"a\",\n \"title\": \"b\"}", line: 2, column: 2, says: "appears twice in this object (first at line 1, column 2)"),
        Case(text: #"{"priority": 007}"#, line: 1, column: 14, says: "no leading zeros"),
        Case(text: #"{"priority": 0x10}"#, line: 1, column: 14, says: "no hexadecimal"),
        Case(text: #"{"priority": +1}"#, line: 1, column: 14, says: "start with a digit or '-'"),
        Case(text: #"{"fields": {"s": .5}}"#, line: 1, column: 18, says: "start with a digit or '-'"),
        Case(text: #"{"fields": {"s": 1.}}"#, line: 1, column: 18, says: "a digit must follow the decimal point"),
        Case(text: "{\"title\": \"a\tb\"}", line: 1, column: 13, says: "raw control character U+0009"),
        Case(text: "{\"title\": \"a\u{01}b\"}", line: 1, column: 13, says: "raw control character U+0001"),
        Case(text: "\u{FEFF}{\"title\": \"x\"}", line: 1, column: 1, says: "byte-order mark"),
        Case(text: #"{title: "x"}"#, line: 1, column: 2, says: "always quoted strings"),
        Case(text: #"{"title": "a\x"}"#, line: 1, column: 13, says: "'\\x' is not a JSON escape"),
        Case(text: #"{"title": "a\u12"}"#, line: 1, column: 13, says: "four hexadecimal digits"),
        Case(text: "{\n  \"title\": \"x\"\n", line: 1, column: 1, says: "the '{' opened here is never closed"),
        Case(text: "{\"tags\": [\"a\",\n \"b\"\n", line: 1, column: 10, says: "the '[' opened here is never closed"),
        Case(text: "{\"title\": \"x}\n", line: 1, column: 11, says: "never closed"),
        Case(text: #"{"title": "x"} {"tags": []}"#, line: 1, column: 16, says: "exactly one value"),
        Case(text: #"{"republish": True}"#, line: 1, column: 15, says: "lowercase"),
        Case(text: #"{"title": None}"#, line: 1, column: 11, says: "lowercase"),
        Case(text: #"{"title": hello}"#, line: 1, column: 11, says: "double quotes"),
        Case(text: #"{"tags": ["a",, "b"]}"#, line: 1, column: 15, says: "empty element"),
        Case(text: #"{"title" "x"}"#, line: 1, column: 10, says: "expected ':'"),
        Case(text: #"{"title": "x" "tags": []}"#, line: 1, column: 15, says: "expected ',' or '}'"),
        // Columns count characters, not bytes, as libyaml's do.
        Case(text: #"{"title": "héllo 🔥", "fields": {"s": NaN}}"#, line: 1, column: 38, says: "NaN"),
        Case(text: "   \n\t\n", line: 1, column: 1, says: "empty"),
        Case(text: String(repeating: "[", count: 5000), line: 1, column: 257, says: "nested more than 256 levels", code: "manifest_too_complex")
    ]

    @Test(arguments: corpus)
    func brokenJSONIsRefusedWithCodeAndPlace(_ c: Case) throws {
        let e = try #require(throws: OmniError.self) { try Manifest.parse(text: c.text, file: "clip.json") }
        #expect(e.code.rawValue == c.code)
        #expect(e.location?.description == "clip.json:\(c.line):\(c.column)", "\(e)")
        #expect(e.message.contains(c.says), "\(e.message)")
        // The same file read from disk (the run path) gives the same answer.
        let dir = try TempDir()
        let f = try dir.write("clip.json", c.text)
        let fromDisk = try #require(throws: OmniError.self) { try Manifest.load(path: f.path, displayName: "clip.json") }
        #expect(fromDisk.location == e.location && fromDisk.code == e.code)
    }

    /// What JSON allows still reads, however it is spaced; the same broken text as `.yaml` is YAML's business.
    @Test func validJSONStillReads() throws {
        let m = try Manifest.parse(text: "{\"title\":\"x\",\"tags\":[\"a\",\"b\"],\"fields\":{\"n\":-0.5e+3,\"z\":0,\"e\":\"\\u00e9\\t\"},\"republish\":false}\r\n", file: "c.json")
        #expect(m.title?.value == "x" && m.tags == ["a", "b"] && m.fields["n"] == "-0.5e+3" && m.fields["e"] == "é\t")
        let tabs = try Manifest.parse(text: "{\n\t\"title\": \"tabbed\"\n}\n", file: "c.json")
        #expect(tabs.title?.value == "tabbed")
        // As YAML, `NaN` is just a word: a .yaml sidecar is read by YAML's rules.
        #expect(try Manifest.parse(text: #"{"title": NaN}"#, file: "c.yaml").title?.value == "NaN")
        // Clip lists and pipelines named .json go through the same reader.
        let list = #expect(throws: OmniError.self) {
            _ = try ClipList.parse(text: #"{"video_id": "v", "clips": [{"clip_id": 1, "filename": "a.mp4",}]}"#, file: "clips_metadata.json")
        }
        #expect(list?.location?.description == "clips_metadata.json:1:63")
    }

    /// A JSON file cut short may still be arriving; one that is whole and wrong will not mend by waiting.
    @Test func truncatedJSONIsToldFromBrokenJSON() {
        for cut in [#"{"title": "x", "ta"#, #"{"title": "x""#, #"{"tags": ["a", "#, "{"] { #expect(YAMLDocument.jsonEndsEarly(cut), "\(cut)") }
        for whole in [#"{"title": NaN}"#, #"{"tags": ["a",]}"#, "{'title': 'x'}", "\u{FEFF}{}", #"{"title": "x"}"#] {
            #expect(!YAMLDocument.jsonEndsEarly(whole), "\(whole)")
        }
    }

    @Test func invalidUTF8IsPlacedAtItsByte() throws {
        let dir = try TempDir()
        let f = dir.file("bad.json")
        try Data([0x7B, 0x0A, 0x20, 0x22, 0x74, 0x22, 0x3A, 0x20, 0x22, 0xC3, 0xA9, 0xFF, 0x22, 0x7D]).write(to: f)  // {\n "t": "é\xFF"}
        let e = try #require(throws: OmniError.self) { try Manifest.load(path: f.path, displayName: "bad.json") }
        #expect(e.code == .manifestSyntax && e.message.contains("not UTF-8"))
        #expect(e.location?.description == "bad.json:2:9")
    }

    /// `!!python/object…` and friends ask for a type: refused at their line, in sidecars and pipelines.
    @Test func foreignYAMLTagsAreRefusedAtTheirLine() throws {
        for (text, at) in [
            ("version: 1\ntitle: !!python/object/apply:os.system [\"echo hi\"]\n", "s.yaml:2:8"),
            ("tags: [a, !!binary aGVsbG8=]\n", "s.yaml:1:11"),
            ("title: x\nfields: !custom {a: b}\n", "s.yaml:2:9"),
            ("title: x\ncover: !!set {at_ms: 1}\n", "s.yaml:2:8")
        ] {
            let e = try #require(throws: OmniError.self) { try Manifest.parse(text: text, file: "s.yaml") }
            #expect(e.code == .unsupportedTag, "\(text)")
            #expect(e.location?.description == at, "\(e)")
        }
        let p = try #require(throws: OmniError.self) {
            try PipelineConfig.parse(text: "targets: [youtube:main]\nname: !!python/name:builtins.str\n", file: "p.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))
        }
        #expect(p.code == .unsupportedTag && p.location?.description == "p.yaml:2:7")
        // The core schema's own tags are plain data.
        let m = try Manifest.parse(text: "title: !!str 123\ntags: !!seq [a]\nrepublish: !!bool true\n", file: "s.yaml")
        #expect(m.title?.value == "123" && m.tags == ["a"] && m.republish)
    }

    /// Whatever was left open at the end is placed where it was opened, on a real line.
    @Test func yamlSyntaxErrorsSitOnARealLine() throws {
        for (text, at) in [("title: \"unclosed\ntags: [a]\n", "s.yaml:1:8"), ("title: x\ntags: [a, b\n", "s.yaml:2:7"), ("title: x\ndescription: {a: 1\n\n\n", "s.yaml:2:14")] {
            let e = try #require(throws: OmniError.self) { try Manifest.parse(text: text, file: "s.yaml") }
            #expect(e.code == .manifestSyntax)
            #expect(e.location?.description == at, "\(e)")
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            #expect((e.location?.line ?? 0) <= lines.count && !lines[(e.location?.line ?? 1) - 1].isEmpty)
        }
    }
}

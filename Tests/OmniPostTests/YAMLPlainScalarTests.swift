import Foundation
@testable import OmniPostCore
import Testing

/// YAML is read with Yams' basic resolver (issue 30: the default one compiles regexes with ICU): a plain
/// scalar is text, and the key that reads it decides what it is — as it did when Yams tagged it.
@Suite struct YAMLPlainScalarTests {
    @Test func plainScalarsAreReadByWhatTheKeyAsks() throws {
        let doc = try YAMLDocument.parse(
            "a: yes\nb: 2026-12-06\nc: ~\nd: 1_000\ne: 1.5\nf: 'null'\ng: null\nh: \"yes\"\n", file: "t.yaml",
            syntaxCode: .configSyntax, invalidCode: .configInvalid)
        let m = try doc.mapping()
        #expect(try m["a"]?.bool() == true)
        #expect(try m["a"]?.string() == "yes")
        #expect(try m["b"]?.string() == "2026-12-06")
        #expect(m["c"]?.isNull == true)
        #expect(m["g"]?.isNull == true)
        #expect(m["f"]?.isNull == false, "a quoted 'null' is text")
        #expect(try m["f"]?.string() == "null")
        #expect(try m["d"]?.int() == 1000)
        #expect(try m["e"]?.double() == 1.5)
        #expect(try m["h"]?.bool() == true)
    }

    @Test func aForeignTagIsStillRefused() {
        #expect(throws: OmniError.self) {
            _ = try YAMLDocument.parse("a: !!python/object:os.system x\n", file: "t.yaml", syntaxCode: .configSyntax, invalidCode: .configInvalid)
        }
    }
}

/// A strict RFC 8259 reader for `.json` files, run before the text reaches libyaml. YAML is a superset
/// of JSON, so libyaml takes what JSON refuses — a trailing comma, `NaN`, `Infinity`, comments, single
/// quotes, unquoted keys, leading zeros — and a broken file became a post titled `NaN`. Foundation's
/// JSONSerialization reports no line or column, so this small validator says what is wrong and where
/// (`line:col`, columns counted in Unicode scalars like libyaml's). It only validates: the document is
/// then composed by libyaml, which gives every node its position for the typed reads.
enum StrictJSON {
    /// Deeper nesting is refused before it can exhaust a stack (ours or libyaml's composer).
    static let maxDepth = 256

    struct Failure: Error {
        var message: String
        var line: Int
        var column: Int
        /// `manifest_too_complex` for nesting; the caller's syntax code otherwise.
        var tooDeep = false
        /// The text ran out before the value ended: a file still being written looks like this, a
        /// trailing comma or a `NaN` does not.
        var endOfInput = false
    }

    static func validate(_ bytes: [UInt8]) throws(Failure) {
        var r = Reader(b: bytes)
        try r.document()
    }

    struct Reader {
        let b: [UInt8]
        var i = 0
        var line = 1
        var lineStart = 0

        /// The column of byte `at`: scalars since the line began (continuation bytes do not count).
        func column(_ at: Int) -> Int {
            var c = 1
            var k = lineStart
            while k < at && k < b.count {
                if b[k] & 0xC0 != 0x80 { c += 1 }
                k += 1
            }
            return c
        }

        struct Mark { var offset: Int; var line: Int; var column: Int }
        var mark: Mark { Mark(offset: i, line: line, column: column(i)) }

        func fail(_ message: String, at m: Mark? = nil) -> Failure {
            let m = m ?? mark
            return Failure(message: message, line: m.line, column: m.column, endOfInput: i >= b.count)
        }

        var atEnd: Bool { i >= b.count }
        var byte: UInt8 { b[i] }

        mutating func skipSpace() throws(Failure) {
            while i < b.count {
                switch b[i] {
                case 0x20, 0x09, 0x0D: i += 1
                case 0x0A: i += 1; line += 1; lineStart = i
                case UInt8(ascii: "/") where i + 1 < b.count && (b[i + 1] == UInt8(ascii: "/") || b[i + 1] == UInt8(ascii: "*")):
                    throw fail("comments are not allowed in JSON; remove it (or write the sidecar as .yaml, where # starts a comment)")
                case UInt8(ascii: "#"):
                    throw fail("comments are not allowed in JSON; remove it (or write the sidecar as .yaml, where # starts a comment)")
                default: return
                }
            }
        }

        mutating func document() throws(Failure) {
            if b.starts(with: [0xEF, 0xBB, 0xBF]) {
                throw Failure(
                    message: "the file starts with a byte-order mark (U+FEFF), which JSON text must not have (RFC 8259 §8.1); save it as UTF-8 without a BOM", line: 1, column: 1)
            }
            try skipSpace()
            if atEnd { throw fail("the file is empty", at: Mark(offset: 0, line: 1, column: 1)) }
            try value(depth: 0)
            try skipSpace()
            if !atEnd {
                throw fail("unexpected \(describe(i)) after the end of the JSON value; a JSON file holds exactly one value")
            }
        }

        mutating func value(depth: Int) throws(Failure) {
            if depth >= maxDepth {
                var f = fail("nested more than \(maxDepth) levels deep; refusing to read it")
                f.tooDeep = true
                throw f
            }
            switch byte {
            case UInt8(ascii: "{"): try object(depth: depth + 1)
            case UInt8(ascii: "["): try array(depth: depth + 1)
            case UInt8(ascii: "\""): _ = try string()
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
            case UInt8(ascii: "'"):
                throw fail("strings in JSON take double quotes (\"…\"), not single quotes")
            default:
                let word = self.word(at: i)
                switch word {
                case "true", "false", "null": i += word.utf8.count
                case "NaN", "Infinity", "-Infinity", "nan", "inf", "infinity":
                    throw fail("'\(word)' is not a JSON value: JSON has no NaN or Infinity; write a number, or quote it as text")
                case "True", "False", "TRUE", "FALSE", "None", "Null", "NULL", "undefined":
                    throw fail("'\(word)' is not a JSON value; JSON writes true, false and null in lowercase")
                case let w where w.first == "+" || w.first == ".":
                    throw fail("'\(Excerpt.quote(w))' is not a JSON number: JSON numbers start with a digit or '-'")
                case "":
                    throw fail("expected a JSON value (an object, a list, a \"string\", a number, true, false or null), found \(describe(i))")
                default:
                    throw fail("'\(Excerpt.quote(word))' is not a JSON value; text must be in double quotes")
                }
            }
        }

        /// The run of letters, digits and `+-._` at `at`: what a person typed where a value belongs.
        func word(at: Int) -> String {
            var k = at
            while k < b.count, k - at < 40 {
                let c = b[k]
                let isWord =
                    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: "+")
                    || c == UInt8(ascii: ".")
                if !isWord { break }
                k += 1
            }
            return String(decoding: b[at..<k], as: UTF8.self)
        }

        func describe(_ at: Int) -> String {
            guard at < b.count else { return "the end of the file" }
            let c = b[at]
            if c < 0x20 || c == 0x7F { return "the control character U+\(hex4(UInt32(c)))" }
            if c < 0x80 { return "'\(Character(Unicode.Scalar(c)))'" }
            var k = at + 1
            while k < b.count, b[k] & 0xC0 == 0x80 { k += 1 }
            return "'\(String(decoding: b[at..<k], as: UTF8.self))'"
        }

        mutating func object(depth: Int) throws(Failure) {
            let open = mark
            i += 1
            var keys: [String: Mark] = [:]
            try skipSpace()
            if !atEnd, byte == UInt8(ascii: "}") { i += 1; return }
            while true {
                try skipSpace()
                if atEnd { throw fail("the '{' opened here is never closed", at: open) }
                let keyMark = mark
                switch byte {
                case UInt8(ascii: "\""): break
                case UInt8(ascii: "'"): throw fail("object keys in JSON take double quotes (\"…\"), not single quotes")
                case UInt8(ascii: "}"): throw fail("expected a \"key\" after ','")
                default: throw fail("expected a \"key\" in double quotes, found \(describe(i)); JSON object keys are always quoted strings")
                }
                let key = try string()
                if let first = keys[key] {
                    throw fail("key '\(Excerpt.quote(key))' appears twice in this object (first at line \(first.line), column \(first.column)); keep one", at: keyMark)
                }
                keys[key] = keyMark
                try skipSpace()
                guard !atEnd, byte == UInt8(ascii: ":") else {
                    if atEnd { throw fail("the '{' opened here is never closed", at: open) }
                    throw fail("expected ':' after the key '\(Excerpt.quote(key))', found \(describe(i))")
                }
                i += 1
                try skipSpace()
                if atEnd { throw fail("the '{' opened here is never closed", at: open) }
                try value(depth: depth)
                try skipSpace()
                if atEnd { throw fail("the '{' opened here is never closed", at: open) }
                if byte == UInt8(ascii: "}") { i += 1; return }
                guard byte == UInt8(ascii: ",") else { throw fail("expected ',' or '}' after a value in an object, found \(describe(i))") }
                let comma = mark
                i += 1
                try skipSpace()
                if !atEnd, byte == UInt8(ascii: "}") {
                    throw fail("a trailing comma before '}' is not allowed in JSON; remove it", at: comma)
                }
            }
        }

        mutating func array(depth: Int) throws(Failure) {
            let open = mark
            i += 1
            try skipSpace()
            if !atEnd, byte == UInt8(ascii: "]") { i += 1; return }
            while true {
                try skipSpace()
                if atEnd { throw fail("the '[' opened here is never closed", at: open) }
                if byte == UInt8(ascii: ",") { throw fail("an empty element (two commas, or a comma first) is not allowed in JSON") }
                try value(depth: depth)
                try skipSpace()
                if atEnd { throw fail("the '[' opened here is never closed", at: open) }
                if byte == UInt8(ascii: "]") { i += 1; return }
                guard byte == UInt8(ascii: ",") else { throw fail("expected ',' or ']' after an element of a list, found \(describe(i))") }
                let comma = mark
                i += 1
                try skipSpace()
                if !atEnd, byte == UInt8(ascii: "]") {
                    throw fail("a trailing comma before ']' is not allowed in JSON; remove it", at: comma)
                }
            }
        }

        /// A string, returned decoded enough to compare keys (escapes resolved; a lone surrogate as U+FFFD).
        mutating func string() throws(Failure) -> String {
            let open = mark
            i += 1
            var out: [UInt8] = []
            while true {
                guard i < b.count else { throw fail("the string that starts here is never closed (a '\"' is missing)", at: open) }
                let c = b[i]
                switch c {
                case UInt8(ascii: "\""):
                    i += 1
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    let esc = mark
                    guard i + 1 < b.count else { throw fail("the string that starts here is never closed (a '\"' is missing)", at: open) }
                    switch b[i + 1] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(b[i + 1]); i += 2
                    case UInt8(ascii: "b"): out.append(0x08); i += 2
                    case UInt8(ascii: "f"): out.append(0x0C); i += 2
                    case UInt8(ascii: "n"): out.append(0x0A); i += 2
                    case UInt8(ascii: "r"): out.append(0x0D); i += 2
                    case UInt8(ascii: "t"): out.append(0x09); i += 2
                    case UInt8(ascii: "u"):
                        guard let v = hex(at: i + 2) else {
                            throw fail("'\\u' must be followed by four hexadecimal digits", at: esc)
                        }
                        i += 6
                        var scalar = v
                        if (0xD800...0xDBFF).contains(v), i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u"),
                            let lo = hex(at: i + 2), (0xDC00...0xDFFF).contains(lo)
                        {
                            scalar = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00)
                            i += 6
                        }
                        out.append(contentsOf: Array(String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8))
                    case let e where e < 0x80 && e >= 0x20:
                        throw fail("'\\\(Character(Unicode.Scalar(e)))' is not a JSON escape (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", at: esc)
                    default:
                        throw fail("a backslash must start an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", at: esc)
                    }
                case 0x0A:
                    // Far more often a missing quote than a line break meant as text: point at the string's start.
                    throw fail("the string that starts here is never closed on its line (a '\"' is missing; a line break inside a string is written \\n)", at: open)
                case 0x00..<0x20:
                    let name = [0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"][Int(c)].map { " (write \($0))" } ?? " (write \\u\(hex4(UInt32(c))))"
                    throw fail("a raw control character U+\(hex4(UInt32(c))) inside a string; JSON needs it escaped\(name)")
                default:
                    out.append(c)
                    i += 1
                }
            }
        }

        func hex(at k: Int) -> UInt32? {
            guard k + 4 <= b.count else { return nil }
            var v: UInt32 = 0
            for c in b[k..<k + 4] {
                guard let d = JSONEscapes.hexValue(c) else { return nil }
                v = v << 4 | d
            }
            return v
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        mutating func number() throws(Failure) {
            let start = mark
            let word = self.word(at: i)
            func isDigit(_ k: Int) -> Bool { k < b.count && b[k] >= 0x30 && b[k] <= 0x39 }
            func bad(_ why: String) -> Failure {
                fail("'\(Excerpt.quote(word))' is not a JSON number: \(why)", at: start)
            }
            if word == "-Infinity" || word == "-inf" {
                throw fail("'\(word)' is not a JSON value: JSON has no NaN or Infinity; write a number, or quote it as text")
            }
            if b[i] == UInt8(ascii: "-") { i += 1 }
            guard isDigit(i) else { throw bad("a digit must follow '-'") }
            if b[i] == UInt8(ascii: "0") {
                i += 1
                if isDigit(i) { throw bad("JSON numbers have no leading zeros") }
                if i < b.count, b[i] == UInt8(ascii: "x") || b[i] == UInt8(ascii: "X") { throw bad("JSON has no hexadecimal numbers") }
            } else {
                while isDigit(i) { i += 1 }
            }
            if i < b.count, b[i] == UInt8(ascii: ".") {
                i += 1
                guard isDigit(i) else { throw bad("a digit must follow the decimal point") }
                while isDigit(i) { i += 1 }
            }
            if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
                i += 1
                if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
                guard isDigit(i) else { throw bad("the exponent needs digits") }
                while isDigit(i) { i += 1 }
            }
            // `12abc`, `1.2.3`, `1_000`: the number ran into something that is not a separator.
            if i < b.count, word.utf8.count > i - start.offset {
                throw bad("it continues with \(describe(i))")
            }
        }
    }

    static func hex4(_ v: UInt32) -> String {
        let h = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - h.count)) + h
    }
}

import Foundation

/// A QR code (ISO/IEC 18004) for the replica's login page: byte mode, error correction level L,
/// versions 1–10, mask 0 — enough for a login link, and an image a phone camera reads. Drawn as an SVG
/// data URL, as the real login page hands its QR over as a data URL.
package enum QRCodeSVG {
    /// (data codewords per block, number of blocks) and EC codewords per block, for level L, versions 1–10.
    static let blocks: [(groups: [(count: Int, data: Int)], ec: Int)] = [
        ([(1, 19)], 7), ([(1, 34)], 10), ([(1, 55)], 15), ([(1, 80)], 20), ([(1, 108)], 26),
        ([(2, 68)], 18), ([(2, 78)], 20), ([(2, 97)], 24), ([(2, 116)], 30), ([(2, 68), (2, 69)], 18)
    ]
    static let alignment: [[Int]] = [[], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50]]

    /// The symbol's modules (true: dark), row by row, without the quiet zone.
    package static func matrix(_ text: String) -> [[Bool]] {
        let bytes = Array(text.utf8)
        var version = 1
        while version <= 10 {
            let capacity = blocks[version - 1].groups.reduce(0) { $0 + $1.count * $1.data }
            if 4 + (version < 10 ? 8 : 16) + bytes.count * 8 <= capacity * 8 { break }
            version += 1
        }
        precondition(version <= 10, "a login link fits a version-10 QR code")
        let spec = blocks[version - 1]
        let capacity = spec.groups.reduce(0) { $0 + $1.count * $1.data }
        // Mode 0100 (byte), the count, the bytes, a terminator of up to four zeros, then pad bytes.
        var bits: [Bool] = []
        func put(_ v: Int, _ n: Int) { for i in stride(from: n - 1, through: 0, by: -1) { bits.append((v >> i) & 1 == 1) } }
        put(0b0100, 4)
        put(bytes.count, version < 10 ? 8 : 16)
        for b in bytes { put(Int(b), 8) }
        put(0, min(4, capacity * 8 - bits.count))
        while bits.count % 8 != 0 { bits.append(false) }
        var data: [UInt8] = stride(from: 0, to: bits.count, by: 8).map { i in (0..<8).reduce(UInt8(0)) { $0 << 1 | (bits[i + $1] ? 1 : 0) } }
        var pad: [UInt8] = [0xEC, 0x11]
        while data.count < capacity {
            data.append(pad[0])
            pad.swapAt(0, 1)
        }
        // Split into blocks, add Reed–Solomon codewords, interleave.
        var dataBlocks: [[UInt8]] = []
        var at = 0
        for g in spec.groups {
            for _ in 0..<g.count {
                dataBlocks.append(Array(data[at..<at + g.data]))
                at += g.data
            }
        }
        let ecBlocks = dataBlocks.map { ReedSolomon.remainder($0, count: spec.ec) }
        var stream: [UInt8] = []
        for i in 0..<(dataBlocks.map(\.count).max() ?? 0) { for b in dataBlocks where i < b.count { stream.append(b[i]) } }
        for i in 0..<spec.ec { for b in ecBlocks { stream.append(b[i]) } }
        return place(stream, version: version)
    }

    static func place(_ codewords: [UInt8], version: Int) -> [[Bool]] {
        let n = 17 + 4 * version
        var m = Array(repeating: Array(repeating: false, count: n), count: n)
        var reserved = Array(repeating: Array(repeating: false, count: n), count: n)
        func set(_ r: Int, _ c: Int, _ v: Bool) {
            m[r][c] = v
            reserved[r][c] = true
        }
        for (fr, fc) in [(0, 0), (0, n - 7), (n - 7, 0)] {
            for r in -1...7 {
                for c in -1...7 where fr + r >= 0 && fr + r < n && fc + c >= 0 && fc + c < n {
                    let ring = max(abs(r - 3), abs(c - 3))
                    set(fr + r, fc + c, r >= 0 && r <= 6 && c >= 0 && c <= 6 && ring != 2)
                }
            }
        }
        for i in 8..<(n - 8) {
            set(6, i, i % 2 == 0)
            set(i, 6, i % 2 == 0)
        }
        let centres = alignment[version - 1]
        for r in centres {
            for c in centres where !reserved[r][c] {
                for dr in -2...2 { for dc in -2...2 { set(r + dr, c + dc, max(abs(dr), abs(dc)) != 1) } }
            }
        }
        // Format areas (filled below), the dark module, and the version areas from version 7.
        for i in 0...8 {
            reserved[8][i] = true
            reserved[i][8] = true
        }
        for i in 0..<8 {
            reserved[8][n - 1 - i] = true
            reserved[n - 1 - i][8] = true
        }
        set(n - 8, 8, true)
        if version >= 7 {
            var v = version << 12
            for i in stride(from: 17, through: 12, by: -1) where (v >> i) & 1 == 1 { v ^= 0x1F25 << (i - 12) }
            let info = version << 12 | v
            for i in 0..<18 {
                let bit = (info >> i) & 1 == 1
                set(n - 11 + i % 3, i / 3, bit)
                set(i / 3, n - 11 + i % 3, bit)
            }
        }
        // Data: two columns at a time from the right, upwards then downwards, skipping the timing column.
        var bit = 0
        let total = codewords.count * 8
        var col = n - 1
        var upward = true
        while col > 0 {
            if col == 6 { col -= 1 }
            for k in 0..<n {
                let r = upward ? n - 1 - k : k
                for c in [col, col - 1] where !reserved[r][c] {
                    var dark = false
                    if bit < total { dark = (codewords[bit / 8] >> (7 - bit % 8)) & 1 == 1 }
                    bit += 1
                    // Mask 0: (row + column) even.
                    m[r][c] = dark != ((r + c) % 2 == 0)
                }
            }
            upward.toggle()
            col -= 2
        }
        // Format information: level L (01), mask 0, BCH(15,5) with 0x537, XOR 0x5412.
        var f = 0b01000 << 10
        for i in stride(from: 14, through: 10, by: -1) where (f >> i) & 1 == 1 { f ^= 0x537 << (i - 10) }
        let format = (0b01000 << 10 | f) ^ 0x5412
        func formatBit(_ i: Int) -> Bool { (format >> i) & 1 == 1 }
        // Around the top-left finder (skipping the timing row and column)…
        for i in 0..<6 { m[i][8] = formatBit(i) }
        m[7][8] = formatBit(6)
        m[8][8] = formatBit(7)
        m[8][7] = formatBit(8)
        for i in 9..<15 { m[8][14 - i] = formatBit(i) }
        // …and split between the other two.
        for i in 0..<8 { m[8][n - 1 - i] = formatBit(i) }
        for i in 8..<15 { m[n - 15 + i][8] = formatBit(i) }
        m[n - 8][8] = true
        return m
    }

    /// The code as an SVG data URL, `scale` pixels a module, with the four-module quiet zone.
    package static func dataURL(_ text: String, scale: Int = 6) -> String {
        let m = matrix(text)
        let size = (m.count + 8) * scale
        var rects = ""
        for (r, row) in m.enumerated() {
            for (c, dark) in row.enumerated() where dark {
                rects += "<rect x='\((c + 4) * scale)' y='\((r + 4) * scale)' width='\(scale)' height='\(scale)'/>"
            }
        }
        let svg =
            "<svg xmlns='http://www.w3.org/2000/svg' width='\(size)' height='\(size)' shape-rendering='crispEdges'><rect width='100%' height='100%' fill='#fff'/><g fill='#000'>\(rects)</g></svg>"
        return "data:image/svg+xml;base64," + Data(svg.utf8).base64EncodedString()
    }
}

/// Reed–Solomon over GF(256) with the QR polynomial x⁸+x⁴+x³+x²+1.
enum ReedSolomon {
    static let (exp, log): ([UInt8], [Int]) = {
        var exp = [UInt8](repeating: 0, count: 512)
        var log = [Int](repeating: 0, count: 256)
        var x = 1
        for i in 0..<255 {
            exp[i] = UInt8(x)
            log[x] = i
            x <<= 1
            if x & 0x100 != 0 { x ^= 0x11D }
        }
        for i in 255..<512 { exp[i] = exp[i - 255] }
        return (exp, log)
    }()

    static func mul(_ a: UInt8, _ b: UInt8) -> UInt8 { a == 0 || b == 0 ? 0 : exp[log[Int(a)] + log[Int(b)]] }

    /// The generator ∏(x − αⁱ), i < count, highest power first.
    static func generator(_ count: Int) -> [UInt8] {
        var g: [UInt8] = [1]
        for i in 0..<count {
            var next = [UInt8](repeating: 0, count: g.count + 1)
            for (j, c) in g.enumerated() {
                next[j] ^= c
                next[j + 1] ^= mul(c, exp[i])
            }
            g = next
        }
        return g
    }

    static func remainder(_ data: [UInt8], count: Int) -> [UInt8] {
        let g = generator(count)
        var r = data + [UInt8](repeating: 0, count: count)
        for i in 0..<data.count {
            let coef = r[i]
            if coef == 0 { continue }
            for j in 0..<g.count { r[i + j] ^= mul(g[j], coef) }
        }
        return Array(r[data.count...])
    }
}

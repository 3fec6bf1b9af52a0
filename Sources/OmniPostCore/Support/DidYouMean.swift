/// Suggests the closest allowed word for a typo, so `titel:` answers "did you mean 'title'?".
package enum DidYouMean {
    package static func suggest(_ word: String, among choices: [String]) -> String? {
        let scored = choices.map { ($0, distance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        // Short words allow one edit, longer ones two or three (a swapped pair of letters is one edit).
        let limit = best.0.count <= 3 ? 1 : min(3, max(2, best.0.count / 4))
        return best.1 <= limit ? best.0 : nil
    }

    /// Edit distance counting insertions, deletions, substitutions and adjacent transpositions
    /// (optimal string alignment): `titel` is one edit from `title`.
    package static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}

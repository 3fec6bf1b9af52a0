import Foundation

extension SVGChart {
    /// A small line of a post's numbers over time, drawn on the server (no script): values by their
    /// times, scaled to the box; the last value is its `<title>`. Nothing is drawn for fewer than two.
    static func sparkline(_ points: [(t: Double, v: Double)], unit: String, width: Double = 120, height: Double = 24) -> String {
        guard points.count >= 2, let t0 = points.first?.t, let t1 = points.last?.t, t1 > t0 else { return "" }
        let top = max(1, points.map(\.v).max() ?? 1)
        let path = points.enumerated().map { i, p in
            let x = 1 + (p.t - t0) / (t1 - t0) * (width - 2)
            let y = height - 1 - p.v / top * (height - 2)
            return (i == 0 ? "M" : "L") + "\(n(x)) \(n(y))"
        }.joined(separator: " ")
        return "<svg class=\"spark\" viewBox=\"0 0 \(num(width)) \(num(height))\" width=\(f(width)) height=\(f(height)) role=\"img\" aria-label=\"\(esc(unit)) over time\">"
            + "<title>\(num(points.last!.v)) \(esc(unit))</title><path d=\"\(path)\"/></svg>"
    }
}

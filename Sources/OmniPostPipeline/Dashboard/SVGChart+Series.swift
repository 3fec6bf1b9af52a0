import Foundation
import OmniPostCore

extension SVGChart {
    /// A post's readings of one number over its life, drawn on the server: x by the reading's time (the
    /// schedule's readings are uneven — 1 h, 6 h, 24 h, 3 d…), y from zero to a round ceiling, a dot per
    /// reading with its time and value as `data-at`/`data-v` and as its `<title>`.
    static func series(_ title: String, _ points: [(t: Double, v: Double)], unit: String) -> String {
        let plotW = width - left - 8, plotH = height - top - bottom
        let t0 = points.first?.t ?? 0, t1 = points.last?.t ?? 0
        let span = max(1, t1 - t0)
        let ceiling = niceCeiling(points.map(\.v).max() ?? 0)
        func x(_ t: Double) -> Double { left + (points.count < 2 ? plotW / 2 : (t - t0) / span * plotW) }
        func y(_ v: Double) -> Double { top + plotH - plotH * min(v, ceiling) / ceiling }
        var parts = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart series\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(esc(title))\">",
            "<title>\(esc(title))</title>"
        ]
        for step in 0...2 {
            let v = ceiling * Double(step) / 2
            parts.append("<line class=\"grid\" x1=\(f(left)) y1=\(f(y(v))) x2=\(f(width - 8)) y2=\(f(y(v)))/>")
            parts.append("<text class=\"axis\" x=\(f(left - 4)) y=\(f(y(v) + 3)) text-anchor=\"end\">\(num(v))</text>")
        }
        parts.append("<text class=\"axis unit\" x=\(f(left - 4)) y=\(f(top - 2)) text-anchor=\"end\">\(esc(unit))</text>")
        if points.count >= 2 {
            let d = points.enumerated().map { i, p in (i == 0 ? "M" : "L") + "\(n(x(p.t))) \(n(y(p.v)))" }.joined(separator: " ")
            parts.append("<path class=\"line\" d=\"\(d)\"/>")
        }
        for p in points {
            let at = isoStamp(p.t)
            parts.append(
                "<circle class=\"dot\" cx=\(f(x(p.t))) cy=\(f(y(p.v))) r=\"3\" data-at=\"\(at)\" data-v=\"\(num(p.v))\"><title>\(at): \(num(p.v)) \(esc(unit))</title></circle>")
        }
        if let first = points.first, let last = points.last {
            parts.append("<text class=\"axis\" x=\(f(left)) y=\(f(height - 5)) text-anchor=\"start\">\(esc(isoStamp(first.t)))</text>")
            if points.count > 1 { parts.append("<text class=\"axis\" x=\(f(width - 8)) y=\(f(height - 5)) text-anchor=\"end\">\(esc(isoStamp(last.t)))</text>") }
        } else {
            parts.append("<text class=\"empty\" x=\(f(width / 2)) y=\(f(height / 2)) text-anchor=\"middle\">no readings yet</text>")
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    /// The best-times heat map of one account: a cell per hour of the week (rows Monday…Sunday, columns
    /// 00–23 in the zone), shaded by the mean engagement rate of the posts that went out in it, with the
    /// sample size written in every cell that has posts; a recommended hour is outlined. Each cell's
    /// `data-how`, `data-sample` and `data-rate` say what it shows, and its `<title>` says it in words.
    static func heatMap(_ account: String, _ slots: [(hourOfWeek: Int, label: String, sample: Int, rate: Double)], recommended: Int?) -> String {
        let cell = 18.0, left = 34.0, top = 16.0
        let w = left + 24 * cell + 4, h = top + 7 * cell + 4
        let best = max(1e-9, slots.map(\.rate).max() ?? 0)
        var parts = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart heat\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" role=\"img\" aria-label=\"\(esc("best posting times of \(account)"))\">",
            "<title>\(esc("best posting times of \(account)"))</title>"
        ]
        for (i, day) in ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].enumerated() {
            parts.append("<text class=\"axis\" x=\(f(left - 4)) y=\(f(top + Double(i) * cell + 12)) text-anchor=\"end\">\(day)</text>")
        }
        for hour in stride(from: 0, to: 24, by: 6) {
            parts.append("<text class=\"axis\" x=\(f(left + Double(hour) * cell)) y=\(f(top - 4))>\(String(format: "%02d", hour))</text>")
        }
        let byHour = Dictionary(slots.map { ($0.hourOfWeek, $0) }, uniquingKeysWith: { a, _ in a })
        for how in 0..<168 {
            let x = left + Double(how % 24) * cell, y = top + Double(how / 24) * cell
            guard let s = byHour[how] else {
                parts.append("<rect class=\"cell empty\" x=\(f(x)) y=\(f(y)) width=\(f(cell - 1)) height=\(f(cell - 1))/>")
                continue
            }
            let shade = 0.15 + 0.85 * s.rate / best
            let rate = String(format: "%.2f%%", s.rate * 100)
            parts.append(
                "<rect class=\"cell\(how == recommended ? " best" : "")\" x=\(f(x)) y=\(f(y)) width=\(f(cell - 1)) height=\(f(cell - 1)) fill-opacity=\"\(String(format: "%.2f", shade))\" data-how=\"\(how)\" data-sample=\"\(s.sample)\" data-rate=\"\(String(format: "%.4f", s.rate))\"><title>\(esc(s.label)): \(rate) mean engagement over \(s.sample) post\(s.sample == 1 ? "" : "s")</title></rect>"
            )
            parts.append("<text class=\"sample\" x=\(f(x + cell / 2 - 0.5)) y=\(f(y + 12)) text-anchor=\"middle\">\(s.sample)</text>")
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }
}

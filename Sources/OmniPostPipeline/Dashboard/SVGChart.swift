import Foundation

/// Charts drawn on the server as inline SVG: no script, no library, readable with JavaScript off.
/// Each bar or point carries a `<title>` (the browser shows it on hover) and the chart an aria-label.
enum SVGChart {
    struct Point { var label: String; var value: Double? }

    static let width = 480.0, height = 150.0, left = 40.0, bottom = 20.0, top = 10.0

    /// Bars for counts (posts per hour, queue depth); `nil` draws nothing for that slot.
    static func bars(_ title: String, _ points: [Point], unit: String, cssClass: String = "bar") -> String {
        draw(title, points, unit: unit) { i, x, w, y, h, p in
            "<rect class=\"\(cssClass)\" x=\(f(x + 1)) y=\(f(y)) width=\(f(max(1, w - 2))) height=\(f(h))><title>\(esc(p.label)): \(num(p.value ?? 0)) \(esc(unit))</title></rect>"
        }
    }

    /// A line with dots for rates (success %, MiB/s); hours with no data leave a gap.
    static func line(_ title: String, _ points: [Point], unit: String, fixedMax: Double? = nil) -> String {
        var path = "", pen = false
        let body = draw(title, points, unit: unit, fixedMax: fixedMax) { _, x, w, y, _, p in
            let cx = x + w / 2
            // Path data takes bare numbers: a quoted one ends the attribute (`d="M"466.9"…`) and draws nothing.
            path += (pen ? " L" : " M") + "\(n(cx)) \(n(y))"
            pen = true
            return "<circle class=\"dot\" cx=\(f(cx)) cy=\(f(y)) r=\"2.5\"><title>\(esc(p.label)): \(num(p.value ?? 0)) \(esc(unit))</title></circle>"
        } gap: {
            pen = false
        }
        return body.replacingOccurrences(of: "<!--line-->", with: path.isEmpty ? "" : "<path class=\"line\" d=\"\(path.dropFirst())\"/>")
    }

    private static func draw(
        _ title: String, _ points: [Point], unit: String, fixedMax: Double? = nil,
        mark: (Int, Double, Double, Double, Double, Point) -> String, gap: () -> Void = {}
    ) -> String {
        let values = points.compactMap(\.value)
        let top = fixedMax ?? niceCeiling(values.max() ?? 0)
        let plotW = width - left - 4, plotH = height - Self.top - bottom
        let slot = points.isEmpty ? plotW : plotW / Double(points.count)
        var parts: [String] = []
        parts.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(esc(title))\">")
        parts.append("<title>\(esc(title))</title>")
        // Axis and three gridlines with their values.
        for step in 0...2 {
            let v = top * Double(step) / 2
            let y = Self.top + plotH - plotH * Double(step) / 2
            parts.append("<line class=\"grid\" x1=\(f(left)) y1=\(f(y)) x2=\(f(width - 4)) y2=\(f(y))/>")
            parts.append("<text class=\"axis\" x=\(f(left - 4)) y=\(f(y + 3)) text-anchor=\"end\">\(num(v))</text>")
        }
        // The unit above the value axis, so a reader never guesses what the numbers count.
        parts.append("<text class=\"axis unit\" x=\(f(left - 4)) y=\(f(Self.top - 2)) text-anchor=\"end\">\(esc(unit))</text>")
        parts.append("<!--line-->")
        for (i, p) in points.enumerated() {
            let x = left + slot * Double(i)
            guard let v = p.value else { gap(); continue }
            let h = top > 0 ? plotH * min(v, top) / top : 0
            parts.append(mark(i, x, slot, Self.top + plotH - h, h, p))
        }
        // First, middle and last labels under the axis.
        for i in Set([0, points.count / 2, points.count - 1]).sorted() where points.indices.contains(i) {
            let anchor = i == 0 ? "start" : i == points.count - 1 ? "end" : "middle"
            let x = i == 0 ? left + slot * Double(i) : i == points.count - 1 ? left + slot * Double(i + 1) : left + slot * (Double(i) + 0.5)
            parts.append("<text class=\"axis\" x=\(f(x)) y=\(f(height - 5)) text-anchor=\"\(anchor)\">\(esc(points[i].label))</text>")
        }
        if values.isEmpty { parts.append("<text class=\"empty\" x=\(f(width / 2)) y=\(f(height / 2)) text-anchor=\"middle\">no data yet</text>") }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    /// 1, 2, 5 × 10ⁿ at or above the largest value, so the gridlines read as round numbers.
    static func niceCeiling(_ v: Double) -> Double {
        guard v > 0 else { return 1 }
        let p = pow(10, floor(log10(v)))
        for m in [1.0, 2, 5, 10] where m * p >= v { return m * p }
        return 10 * p
    }

    /// A number as an attribute value (quoted).
    static func f(_ v: Double) -> String { "\"" + n(v) + "\"" }
    /// A number inside an attribute's value (path data).
    static func n(_ v: Double) -> String { String(format: "%.1f", v) }
    static func num(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(format: "%.1f", v) }
    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

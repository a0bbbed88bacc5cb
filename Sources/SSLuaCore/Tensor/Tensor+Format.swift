import Foundation

/// Torch7-style printing: aligned columns, a common scale factor when values are large or
/// small, truncation with `...` for big tensors, and the `[sslua.Tensor of size 2x3]` footer.
extension Tensor {
    public func formatted(maxRows: Int = 20, maxCols: Int = 10) throws -> String {
        let footer = "[sslua.Tensor of size \(shape.isEmpty ? "scalar" : shape.map(String.init).joined(separator: "x"))\(dtype == .float64 ? ", float64" : "")]"
        if numel == 0 { return "[sslua.Tensor with no dimension]" }
        // a float64 tensor rather than a Swift array: its allocation fails softly, and only the
        // printed cells are turned into strings (the column width follows from the extremes)
        let c64 = try to(.float64).contiguous()
        defer { withExtendedLifetime(c64) {} }
        let vals = c64.base(Double.self)
        var amax = 0.0, allIntegral = true
        for i in 0..<numel where vals[i].isFinite {
            let v = vals[i]
            amax = Swift.max(amax, Swift.abs(v))
            if allIntegral && v != v.rounded() { allIntegral = false }
        }
        let allInt = allIntegral && amax < 1e9
        var scale = 1.0
        if !allInt && amax > 0 {
            let e = Int(Foundation.floor(Foundation.log10(amax)))
            if e >= 5 || e <= -5 { scale = Foundation.pow(10, Double(e)) }
        }
        func fmt(_ v: Double) -> String {
            if v.isNaN { return "nan" }
            if v.isInfinite { return v > 0 ? "inf" : "-inf" }
            if allInt { return String(Int(v)) }
            return String(format: "%.4f", v / scale)
        }
        // a format's length grows with |v| for each sign: the widest cell is the largest
        // non-negative value, the negative value of largest magnitude, or nan/inf
        var width = 1
        var pos: Double? = nil, neg: Double? = nil
        for i in 0..<numel {
            let v = vals[i]
            if !v.isFinite { width = Swift.max(width, fmt(v).count); continue }
            if v.sign == .minus { if neg.map({ v < $0 }) ?? true { neg = v } } else if pos.map({ v > $0 }) ?? true { pos = v }
        }
        if let p = pos { width = Swift.max(width, fmt(p).count) }
        if let q = neg { width = Swift.max(width, fmt(q).count) }
        func cell(_ v: Double) -> String { let s = fmt(v); return String(repeating: " ", count: width - s.count + 1) + s }
        var out = ""
        if scale != 1 { out += String(format: "%.0e *\n", scale) }
        if dim == 0 { return out + cell(vals[0]) + "\n" + footer }
        let rows = dim == 1 ? 1 : shape[dim - 2]
        let cols = shape[dim - 1]
        let matrices = dim <= 2 ? 1 : numel / (rows * cols)
        func rowIdx(_ n: Int, _ lim: Int) -> [Int?] {
            n <= lim ? Array(0..<n) : Array(0..<(lim / 2)) + [nil] + Array((n - lim / 2)..<n)
        }
        let mats = rowIdx(matrices, 6)
        for m in mats {
            guard let m = m else { out += "...\n\n"; continue }
            if dim > 2 {
                var idx: [String] = []
                var rem = m
                for d in stride(from: dim - 3, through: 0, by: -1) { idx.insert(String(rem % shape[d] + 1), at: 0); rem /= shape[d] }
                out += "(" + idx.joined(separator: ",") + ",.,.) = \n"
            }
            if dim == 1 {
                for r in rowIdx(cols, maxRows * 2) {
                    if let r = r { out += cell(vals[r]) + "\n" } else { out += String(repeating: " ", count: Swift.max(width - 2, 0)) + "...\n" }
                }
                continue
            }
            for r in rowIdx(rows, maxRows) {
                guard let r = r else { out += " ...\n"; continue }
                var line = ""
                for c in rowIdx(cols, maxCols) {
                    if let c = c { line += cell(vals[m * rows * cols + r * cols + c]) } else { line += " ..." }
                }
                out += line + "\n"
            }
            if dim > 2 { out += "\n" }
        }
        return out + footer
    }
}

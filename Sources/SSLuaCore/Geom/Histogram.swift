/// Equal-width histogram with NumPy's rules (`numpy.histogram`): bins over [min, max] of the
/// data (or a given range; a constant input gets [v - 0.5, v + 0.5]), the last bin closed on
/// the right, values outside the range ignored, NaNs ignored.
public enum Histogram {
    public static func histogram(_ x: Tensor, bins: Int, range: (Double, Double)? = nil) throws -> ([Double], [Double]) {
        try require(bins >= 1 && bins <= 1 << 24, "bins must be a positive integer, got \(bins)")
        let v = try x.toDoubles().filter { !$0.isNaN }
        var lo: Double, hi: Double
        if let r = range {
            (lo, hi) = r
            try require(lo.isFinite && hi.isFinite && lo <= hi, "range must be finite with min <= max, got \(lo)..\(hi)")
        } else if v.isEmpty {
            (lo, hi) = (0, 1)
        } else {
            lo = v.min() ?? 0; hi = v.max() ?? 1
            try require(lo.isFinite && hi.isFinite, "cannot build a histogram of infinite values without a range")
        }
        if lo == hi { lo -= 0.5; hi += 0.5 }
        var edges = try [Double](failableRepeating: 0, count: bins + 1)
        for i in 0...bins { edges[i] = lo + (hi - lo) * Double(i) / Double(bins) }
        edges[bins] = hi
        var counts = try [Double](failableRepeating: 0, count: bins)
        let norm = Double(bins) / (hi - lo)
        for a in v where a >= lo && a <= hi {
            let f = (a - lo) * norm
            var i = f.isFinite ? Int(Swift.min(Swift.max(f, 0), Double(bins - 1))) : bins - 1
            if i > 0 && a < edges[i] { i -= 1 }
            if i < bins - 1 && a >= edges[i + 1] { i += 1 }
            counts[i] += 1
        }
        return (counts, edges)
    }
}

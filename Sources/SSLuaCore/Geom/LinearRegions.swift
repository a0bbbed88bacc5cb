/// Linear regions of a ReLU MLP projector (paper Eq. 11, Sec. 5): the MLP is affine on each set
/// of inputs sharing one activation pattern (the signs of every hidden pre-activation), so the
/// number of distinct patterns visited by the rows of H counts the regions they touch.
///
/// Layers are given as (weight, bias) in PyTorch's nn.Linear convention: weight is
/// out x in and y = x W^T + b; ReLU follows every layer but the last (whose pattern is not
/// part of the partition). Computed in float64.
public enum LinearRegions {
    /// (number of distinct patterns, region id per row: 0-based in order of first appearance).
    public static func count(_ layers: [(Tensor, Tensor?)], _ h: Tensor) throws -> (Int, [Int]) {
        try require(!layers.isEmpty, "the MLP has no layers")
        try require(h.dim == 2, "H must be N x d_in, got size \(shapeString(h.shape))")
        let n = h.shape[0]
        var x = try h.to(.float64).contiguous()
        var width = h.shape[1]
        var words = 0
        for (li, (w, b)) in layers.enumerated() {
            try require(w.dim == 2, "layer \(li + 1): weight must be out x in, got size \(shapeString(w.shape))")
            try require(w.shape[1] == width,
                        "layer \(li + 1): weight must be out x in with in = \(width) (nn.Linear convention), got \(shapeString(w.shape))")
            if let b = b { try require(b.numel == w.shape[0], "layer \(li + 1): bias has \(b.numel) values for \(w.shape[0]) outputs") }
            if li < layers.count - 1 { words += (w.shape[0] + 63) / 64 }
            width = w.shape[0]
        }
        var patterns = [[UInt64]](repeating: [UInt64](repeating: 0, count: words), count: n)
        var word = 0
        width = h.shape[1]
        for (li, (w, b)) in layers.enumerated() where li < layers.count - 1 {
            let out = w.shape[0]
            let wd = try w.to(.float64).contiguous()
            let y = try Tensor(shape: [n, out], dtype: .float64, zeroed: false)
            let yp = y.base(Double.self)
            BLAS.gemm(false, true, n, out, width, 1.0, x.base(Double.self), width, wd.base(Double.self), width, 0.0, yp, out)
            let bias = try b?.toDoubles()
            for i in 0..<n {
                for o in 0..<out {
                    var v = yp[i * out + o]
                    if let bias = bias { v += bias[o] }
                    if v > 0 { patterns[i][word + o / 64] |= 1 << UInt64(o % 64) } else { v = 0 }
                    yp[i * out + o] = v
                }
            }
            word += (out + 63) / 64
            x = y
            width = out
        }
        var ids: [[UInt64]: Int] = [:]
        var region = [Int](repeating: 0, count: n)
        for i in 0..<n {
            if let r = ids[patterns[i]] { region[i] = r } else { region[i] = ids.count; ids[patterns[i]] = region[i] }
        }
        return (ids.count, region)
    }
}

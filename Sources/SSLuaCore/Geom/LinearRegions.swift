/// Linear regions of a ReLU MLP projector (paper Eq. 11, Sec. 5): the MLP is affine on each set
/// of inputs sharing one activation pattern (the signs of the inputs of every ReLU), so the
/// number of distinct patterns visited by the rows of H counts the regions they touch.
///
/// The network is a list of operations: linear layers in PyTorch's nn.Linear convention
/// (weight out x in, y = x W^T + b), per-feature affine maps (an eval-mode BatchNorm1d),
/// and (leaky) ReLUs, which record the pattern. Computed in float64.
public enum LinearRegions {
    public enum Op {
        case linear(Tensor, Tensor?)
        case affine(scale: [Double], shift: [Double])
        case relu
    }

    /// The classic form: (weight, bias) layers with a ReLU after every layer but the last.
    public static func mlp(_ layers: [(Tensor, Tensor?)]) -> [Op] {
        var ops: [Op] = []
        for (i, (w, b)) in layers.enumerated() {
            ops.append(.linear(w, b))
            if i < layers.count - 1 { ops.append(.relu) }
        }
        return ops
    }

    /// (number of distinct patterns, region id per row: 0-based in order of first appearance).
    public static func count(_ layers: [(Tensor, Tensor?)], _ h: Tensor) throws -> (Int, [Int]) {
        try require(!layers.isEmpty, "the MLP has no layers")
        return try count(ops: mlp(layers), h)
    }

    public static func count(ops: [Op], _ h: Tensor) throws -> (Int, [Int]) {
        try require(h.dim == 2, "H must be N x d_in, got size \(shapeString(h.shape))")
        let n = h.shape[0]
        var x = try h.to(.float64).contiguous()
        var width = h.shape[1]
        var bits: [[Bool]] = []   // one entry per ReLU: n x width signs, flattened
        var layer = 0
        for op in ops {
            switch op {
            case .linear(let w, let b):
                layer += 1
                try require(w.dim == 2, "layer \(layer): weight must be out x in, got size \(shapeString(w.shape))")
                try require(w.shape[1] == width,
                            "layer \(layer): weight must be out x in with in = \(width) (nn.Linear convention), got \(shapeString(w.shape))")
                let out = w.shape[0]
                if let b = b { try require(b.numel == out, "layer \(layer): bias has \(b.numel) values for \(out) outputs") }
                try requireLapackSize(n, out, width)
                let wd = try w.to(.float64).contiguous()
                let y = try Tensor(shape: [n, out], dtype: .float64, zeroed: false)
                let yp = y.base(Double.self)
                BLAS.gemm(false, true, n, out, width, 1.0, x.base(Double.self), width, wd.base(Double.self), width, 0.0, yp, out)
                if let bias = try b?.toDoubles() {
                    for i in 0..<n { for o in 0..<out { yp[i * out + o] += bias[o] } }
                }
                x = y
                width = out
            case .affine(let scale, let shift):
                try require(scale.count == width && shift.count == width,
                            "a per-feature affine map (batch norm) of \(scale.count) features after \(width) features")
                let p = x.base(Double.self)
                for i in 0..<n { for o in 0..<width { p[i * width + o] = p[i * width + o] * scale[o] + shift[o] } }
            case .relu:
                let p = x.base(Double.self)
                var b = try [Bool](failableRepeating: false, count: n * width)
                for i in 0..<(n * width) { b[i] = p[i] > 0; if !b[i] { p[i] = 0 } }
                bits.append(b)
            }
        }
        // pack each row's pattern into words
        let widths = bits.map { $0.count / Swift.max(n, 1) }
        let words = widths.reduce(0) { $0 + ($1 + 63) / 64 }
        var ids: [[UInt64]: Int] = [:]
        var region = try [Int](failableRepeating: 0, count: n)
        var key = try [UInt64](failableRepeating: 0, count: words)
        for i in 0..<n {
            for k in 0..<words { key[k] = 0 }
            var w0 = 0
            for (l, b) in bits.enumerated() {
                let wl = widths[l]
                for o in 0..<wl where b[i * wl + o] { key[w0 + o / 64] |= 1 << UInt64(o % 64) }
                w0 += (wl + 63) / 64
            }
            if let r = ids[key] { region[i] = r } else { region[i] = ids.count; ids[key] = region[i] }
        }
        return (ids.count, region)
    }
}

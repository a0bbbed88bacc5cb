import Testing
import SSLuaCore

/// Convolution and matrix products against float64 direct loops written here.
extension CoreTests {
    @Suite struct Kernels {
        struct Conv {
            let n, c, h, w, o, kh, kw, sh, sw, ph, pw: Int
            var oh: Int { (h + 2 * ph - kh) / sh + 1 }
            var ow: Int { (w + 2 * pw - kw) / sw + 1 }

            /// out[n,o,i,j] = b[o] + sum_{c,p,q} x[n,c,i*sh+p-ph,j*sw+q-pw] w[o,c,p,q]
            func forward(_ x: [Double], _ wt: [Double], _ b: [Double]) -> [Double] {
                var out = [Double](repeating: 0, count: n * o * oh * ow)
                for ni in 0..<n { for oi in 0..<o { for i in 0..<oh { for j in 0..<ow {
                    var s = b[oi]
                    for ci in 0..<c { for p in 0..<kh { for q in 0..<kw {
                        let y = i * sh + p - ph, z = j * sw + q - pw
                        if y < 0 || y >= h || z < 0 || z >= w { continue }
                        s += x[((ni * c + ci) * h + y) * w + z] * wt[((oi * c + ci) * kh + p) * kw + q]
                    } } }
                    out[((ni * o + oi) * oh + i) * ow + j] = s
                } } } }
                return out
            }

            /// Gradients of sum(out * g) with respect to x, w and b.
            func gradients(_ x: [Double], _ wt: [Double], _ g: [Double]) -> ([Double], [Double], [Double]) {
                var gx = [Double](repeating: 0, count: x.count), gw = [Double](repeating: 0, count: wt.count)
                var gb = [Double](repeating: 0, count: o)
                for ni in 0..<n { for oi in 0..<o { for i in 0..<oh { for j in 0..<ow {
                    let gv = g[((ni * o + oi) * oh + i) * ow + j]
                    gb[oi] += gv
                    for ci in 0..<c { for p in 0..<kh { for q in 0..<kw {
                        let y = i * sh + p - ph, z = j * sw + q - pw
                        if y < 0 || y >= h || z < 0 || z >= w { continue }
                        let xi = ((ni * c + ci) * h + y) * w + z, wi = ((oi * c + ci) * kh + p) * kw + q
                        gx[xi] += gv * wt[wi]
                        gw[wi] += gv * x[xi]
                    } } }
                } } } }
                return (gx, gw, gb)
            }
        }

        /// Runs conv2d forward and backward in `dtype` and compares with the loops; errors are
        /// relative to the largest reference value.
        func checkConv(_ k: Conv, dtype: DType, tolerance: Double, seed: UInt64) throws {
            var r = TestRandom(seed)
            var xv = r.values(k.n * k.c * k.h * k.w), wv = r.values(k.o * k.c * k.kh * k.kw)
            var bv = r.values(k.o), gv = r.values(k.n * k.o * k.oh * k.ow)
            if dtype == .float32 { xv = rounded32(xv); wv = rounded32(wv); bv = rounded32(bv); gv = rounded32(gv) }
            let x = try makeTensor([k.n, k.c, k.h, k.w], xv, dtype: dtype)
            let w = try makeTensor([k.o, k.c, k.kh, k.kw], wv, dtype: dtype)
            let b = try makeTensor([k.o], bv, dtype: dtype)
            let g = try makeTensor([k.n, k.o, k.oh, k.ow], gv, dtype: dtype)
            x.requiresGrad = true; w.requiresGrad = true; b.requiresGrad = true
            let out = try Tensor.conv2d(x, w, b, stride: (k.sh, k.sw), padding: (k.ph, k.pw))
            #expect(out.shape == [k.n, k.o, k.oh, k.ow])
            let ref = k.forward(xv, wv, bv)
            #expect(maxAbsDiff(elements(out), ref) <= tolerance * maxAbs(ref), "forward \(k)")
            try out.mul(g).sum().backward()
            let (gx, gw, gb) = k.gradients(xv, wv, gv)
            let ax = try #require(x.grad), aw = try #require(w.grad), ab = try #require(b.grad)
            #expect(maxAbsDiff(elements(ax), gx) <= tolerance * maxAbs(gx), "grad x \(k)")
            #expect(maxAbsDiff(elements(aw), gw) <= tolerance * maxAbs(gw), "grad w \(k)")
            #expect(maxAbsDiff(elements(ab), gb) <= tolerance * maxAbs(gb), "grad b \(k)")
        }

        @Test func conv2dFloat64StridedPadded() throws {
            // im2col + gemm, a non-square kernel, stride 2 x 1, padding 1 x 0
            try checkConv(Conv(n: 2, c: 3, h: 7, w: 6, o: 4, kh: 3, kw: 2, sh: 2, sw: 1, ph: 1, pw: 0),
                          dtype: .float64, tolerance: 1e-12, seed: 1)
        }

        @Test func conv2dFloat32Winograd() throws {
            // float32 3x3 stride 1 with >= 8 channels: the Winograd F(2x2, 3x3) path, odd width
            try checkConv(Conv(n: 2, c: 8, h: 8, w: 9, o: 8, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1),
                          dtype: .float32, tolerance: 2e-5, seed: 2)
        }

        @Test func conv2dFloat32Im2col() throws {
            try checkConv(Conv(n: 1, c: 2, h: 9, w: 8, o: 3, kh: 5, kw: 5, sh: 2, sw: 2, ph: 2, pw: 1),
                          dtype: .float32, tolerance: 2e-6, seed: 3)
        }

        @Test func conv2dRefusesMismatchedChannels() throws {
            let x = try Tensor(shape: [1, 3, 5, 5], dtype: .float32)
            let w = try Tensor(shape: [2, 4, 3, 3], dtype: .float32)
            #expect(errorMessage { _ = try Tensor.conv2d(x, w, nil) } != nil)
        }

        static func naiveMM(_ a: [Double], _ b: [Double], _ m: Int, _ k: Int, _ n: Int) -> [Double] {
            var c = [Double](repeating: 0, count: m * n)
            for i in 0..<m { for j in 0..<n { for p in 0..<k { c[i * n + j] += a[i * k + p] * b[p * n + j] } } }
            return c
        }

        @Test(arguments: [DType.float32, DType.float64])
        func matmulAgainstNaiveLoop(dtype: DType) throws {
            var r = TestRandom(dtype == .float32 ? 11 : 12)
            let (m, k, n) = (37, 19, 23)
            let av = rounded32(r.values(m * k)), bv = rounded32(r.values(k * n))
            let a = try makeTensor([m, k], av, dtype: dtype), b = try makeTensor([k, n], bv, dtype: dtype)
            let ref = Self.naiveMM(av, bv, m, k, n)
            let tol = dtype == .float32 ? 1e-5 : 1e-13
            let c = try a.mm(b)
            #expect(c.shape == [m, n] && c.dtype == dtype)
            #expect(maxAbsDiff(elements(c), ref) <= tol * Double(k))
            // a transposed (non-contiguous) operand: (B^T)^T = B
            let bt = try makeTensor([n, k], (0..<(n * k)).map { bv[($0 % k) * n + $0 / k] }, dtype: dtype)
            let c2 = try a.mm(bt.t())
            #expect(maxAbsDiff(elements(c2), ref) <= tol * Double(k))
        }

        @Test func matmulRefusesMismatchedSizes() throws {
            let a = try Tensor(shape: [4, 3]), b = try Tensor(shape: [5, 2])
            let msg = try #require(errorMessage { _ = try a.mm(b) })
            #expect(msg.contains("[4x3]") && msg.contains("[5x2]"), "\(msg)")
        }
    }
}

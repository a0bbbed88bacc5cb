import Foundation
import Testing
import SSLuaCore

/// Reverse mode against float64 central differences of the same function written in plain
/// Swift (no tensor code in the reference).
extension CoreTests {
    @Suite struct Autograd {
        static let (m, k, n) = (3, 4, 5)

        /// f(x, W, b) = sum(log_softmax(x W + b, dim 2) * T) + sum(sqrt(x^2 + 1)) + mean(exp(W)) / 2
        /// with x m x k, W k x n, b a length-n row broadcast over the rows, T a constant.
        static func reference(_ x: [Double], _ w: [Double], _ b: [Double], _ t: [Double]) -> Double {
            var f = 0.0
            for i in 0..<m {
                var z = [Double](repeating: 0, count: n)
                for j in 0..<n {
                    z[j] = b[j]
                    for p in 0..<k { z[j] += x[i * k + p] * w[p * n + j] }
                }
                let top = z.max()!
                let lse = top + Foundation.log(z.reduce(0) { $0 + Foundation.exp($1 - top) })
                for j in 0..<n { f += (z[j] - lse) * t[i * n + j] }
            }
            for v in x { f += (v * v + 1).squareRoot() }
            f += w.reduce(0) { $0 + Foundation.exp($1) } / Double(w.count) / 2
            return f
        }

        static func centralDifferences(_ v: [Double], _ f: ([Double]) -> Double) -> [Double] {
            let h = 1e-6
            return v.indices.map { i in
                var p = v, q = v
                p[i] += h; q[i] -= h
                return (f(p) - f(q)) / (2 * h)
            }
        }

        @Test func compositeMatchesFiniteDifferences() throws {
            var r = TestRandom(21)
            let xv = r.values(Self.m * Self.k), wv = r.values(Self.k * Self.n)
            let bv = r.values(Self.n), tv = r.values(Self.m * Self.n)
            let x = try makeTensor([Self.m, Self.k], xv), w = try makeTensor([Self.k, Self.n], wv)
            let b = try makeTensor([Self.n], bv), t = try makeTensor([Self.m, Self.n], tv)
            for p in [x, w, b] { p.requiresGrad = true }

            let logits = try x.mm(w).add(b)                       // broadcast [m x n] + [n]
            let term1 = try logits.logSoftmax(dim: 1).mul(t).sum()
            let term2 = try x.mul(x).add(scalar: 1).sqrt().sum()
            let term3 = try w.exp().mean().div(scalar: 2)
            let f = try term1.add(term2).add(term3)
            #expect(f.numel == 1)
            #expect(abs(f.value(at: 0) - Self.reference(xv, wv, bv, tv)) < 1e-12)
            try f.backward()

            let gx = Self.centralDifferences(xv) { Self.reference($0, wv, bv, tv) }
            let gw = Self.centralDifferences(wv) { Self.reference(xv, $0, bv, tv) }
            let gb = Self.centralDifferences(bv) { Self.reference(xv, wv, $0, tv) }
            let ax = try #require(x.grad), aw = try #require(w.grad), ab = try #require(b.grad)
            #expect(ax.shape == x.shape && aw.shape == w.shape && ab.shape == b.shape)
            #expect(maxAbsDiff(elements(ax), gx) < 1e-7, "x: \(elements(ax)) vs \(gx)")
            #expect(maxAbsDiff(elements(aw), gw) < 1e-7, "W: \(elements(aw)) vs \(gw)")
            #expect(maxAbsDiff(elements(ab), gb) < 1e-7, "b: \(elements(ab)) vs \(gb)")
        }

        @Test func gradientsAccumulateOverTwoBackwardPasses() throws {
            // d/dx sum(x * x) = 2x, twice: 4x
            let xv = [0.5, -1.5, 2.0]
            let x = try makeTensor([3], xv)
            x.requiresGrad = true
            try x.mul(x).sum().backward()
            try x.mul(x).sum().backward()
            #expect(maxAbsDiff(elements(try #require(x.grad)), xv.map { 4 * $0 }) < 1e-15)
        }

        @Test func backwardRefusesAnInputChangedInPlace() throws {
            let x = try makeTensor([2], [1, 2])
            x.requiresGrad = true
            let y = try x.mul(scalar: 3)
            let z = try y.mul(y).sum()              // the backward of mul reads y
            y.storage.bumpVersion()                   // what an in-place op on y does
            #expect(errorMessage { try z.backward() } != nil)
        }

        @Test func backwardWithoutGradIsAnError() throws {
            let x = try makeTensor([2], [1, 2])
            #expect(errorMessage { try x.sum().backward() } != nil)
        }
    }
}

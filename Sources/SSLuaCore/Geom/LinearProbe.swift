import RealModule

/// Linear evaluation on frozen features: multinomial logistic regression on features
/// standardised with the training mean and standard deviation, trained full-batch to
/// convergence with L-BFGS (memory 10, Armijo backtracking). Objective:
///   mean_i CE(softmax(x_i W + b), y_i) + (weight_decay / 2) ||W||^2   (bias not decayed).
/// Runs in the features' dtype (float32 features: sgemm; float64: dgemm), parameters in float64.
public enum LinearProbe {
    public struct Result {
        public let testAccuracy: Double, trainAccuracy: Double, loss: Double, iterations: Int
    }

    public static func fit(train: Tensor, trainLabels: [Int], test: Tensor, testLabels: [Int],
                           maxIterations: Int = 500, step: Double = 1, weightDecay: Double = 1e-4,
                           tolerance: Double = 1e-6) throws -> Result {
        let split = try FeatureSplit(train: train, trainLabels: trainLabels, test: test, testLabels: testLabels)
        let n = split.nTrain, nt = split.nTest, d = split.dim
        try require(maxIterations >= 1, "epochs must be at least 1")
        try require(step > 0 && step.isFinite, "lr must be positive")
        try require(weightDecay >= 0 && weightDecay.isFinite, "weight_decay must be non-negative")
        let classes = Swift.max(trainLabels.max() ?? 0, testLabels.max() ?? 0) + 1
        try require(classes >= 2, "a linear probe needs at least 2 classes")
        // Labels are class indices: a stray huge label would size the weights and logits.
        try require(classes <= 1 << 24 && (d + 1 + n + nt) * classes <= 1 << 28,
                    "too many classes (largest label \(classes)) for the weights and logits")
        try requireLapackSize(n, nt, d, classes)
        switch DType.promote(train.dtype, test.dtype) {
        case .float32: return try run(Float.self, train, trainLabels, test, testLabels, classes, maxIterations, step, weightDecay, tolerance)
        case .float64: return try run(Double.self, train, trainLabels, test, testLabels, classes, maxIterations, step, weightDecay, tolerance)
        }
    }

    static func run<T: TensorScalar>(_: T.Type, _ train: Tensor, _ ytr: [Int], _ test: Tensor, _ yte: [Int],
                                     _ c: Int, _ maxIt: Int, _ step0: Double, _ wd: Double, _ tol: Double) throws -> Result {
        let n = train.shape[0], d = train.shape[1]
        let x = try Tensor(shape: train.shape, dtype: T.dtype, zeroed: false)
        try x.copyIn(train.detach())
        let xt = try Tensor(shape: test.shape, dtype: T.dtype, zeroed: false)
        try xt.copyIn(test.detach())
        // standardise with the training statistics
        let xp = x.base(T.self)
        var mean = try [Double](failableRepeating: 0, count: d), sd = try [Double](failableRepeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += Double(xp[i * d + j]) } }
        for j in 0..<d { mean[j] /= Double(n) }
        for i in 0..<n { for j in 0..<d { let t = Double(xp[i * d + j]) - mean[j]; sd[j] += t * t } }
        for j in 0..<d { sd[j] = (sd[j] / Double(n)).squareRoot(); if !(sd[j] > 1e-12) { sd[j] = 1 } }
        for t in [x, xt] {
            let p = t.base(T.self)
            for i in 0..<t.shape[0] { for j in 0..<d { p[i * d + j] = T((Double(p[i * d + j]) - mean[j]) / sd[j]) } }
        }
        let np = d * c + c
        let wT = try Tensor(shape: [d, c], dtype: T.dtype, zeroed: false)
        let z = try Tensor(shape: [n, c], dtype: T.dtype, zeroed: false)
        let gT = try Tensor(shape: [d, c], dtype: T.dtype, zeroed: false)
        // f(theta) and its gradient
        func evaluate(_ th: [Double], _ grad: inout [Double]) -> Double {
            let wp = wT.base(T.self), zp = z.base(T.self)
            for i in 0..<(d * c) { wp[i] = T(th[i]) }
            BLAS.gemm(false, false, n, c, d, T(1), xp, d, wp, c, T(0), zp, c)
            // softmax rows in fixed chunks (results depend on the thread count only)
            let chunks = Swift.max(1, Swift.min(Parallel.threads, n / 64))
            var partLoss = [Double](repeating: 0, count: chunks)
            var partGb = [Double](repeating: 0, count: chunks * c)
            let bias = (0..<c).map { T(th[d * c + $0]) }
            let invN = 1 / Double(n)
            partLoss.withUnsafeMutableBufferPointer { lb in partGb.withUnsafeMutableBufferPointer { gbb in
                let lp = lb.baseAddress!, gbp = gbb.baseAddress!
                Parallel.forEach(chunks) { ch in
                    let lo = n * ch / chunks, hi = n * (ch + 1) / chunks
                    let gbc = gbp + ch * c
                    var acc = 0.0
                    for i in lo..<hi {
                        let row = zp + i * c
                        for k in 0..<c { row[k] += bias[k] }
                        let m = FastExp.rowMax(row, c)
                        let zy = Double(row[ytr[i]])
                        let s = FastExp.expShiftSum(row, c, scale: T(1), shift: m)
                        acc += Double(m) + Double.log(s) - zy
                        let scale = 1 / s * invN
                        for k in 0..<c {
                            var p = Double(row[k]) * scale
                            if k == ytr[i] { p -= invN }
                            row[k] = T(p)
                            gbc[k] += p
                        }
                    }
                    lp[ch] = acc
                }
            } }
            var loss = 0.0
            var gb = [Double](repeating: 0, count: c)
            for ch in 0..<chunks {
                loss += partLoss[ch]
                for k in 0..<c { gb[k] += partGb[ch * c + k] }
            }
            BLAS.gemm(true, false, d, c, n, T(1), xp, d, zp, c, T(0), gT.base(T.self), c)
            let gp = gT.base(T.self)
            var reg = 0.0
            for i in 0..<(d * c) { grad[i] = Double(gp[i]) + wd * th[i]; reg += th[i] * th[i] }
            for k in 0..<c { grad[d * c + k] = gb[k] }
            return loss / Double(n) + 0.5 * wd * reg
        }
        var th = try [Double](failableRepeating: 0, count: np)
        var g = try [Double](failableRepeating: 0, count: np)
        var f = evaluate(th, &g)
        var sList: [[Double]] = [], yList: [[Double]] = [], rho: [Double] = []
        var it = 0
        func dot(_ a: [Double], _ b: [Double]) -> Double { var s = 0.0; for i in 0..<a.count { s += a[i] * b[i] }; return s }
        while it < maxIt {
            let gmax = g.reduce(0) { Swift.max($0, Swift.abs($1)) }
            if gmax <= tol { break }
            // two-loop recursion: dir = -H g
            var q = g
            var alpha = [Double](repeating: 0, count: sList.count)
            for j in stride(from: sList.count - 1, through: 0, by: -1) {
                alpha[j] = rho[j] * dot(sList[j], q)
                for i in 0..<np { q[i] -= alpha[j] * yList[j][i] }
            }
            var gamma = step0 / Swift.max(1, g.reduce(0) { $0 + Swift.abs($1) })
            if let sl = sList.last, let yl = yList.last { gamma = dot(sl, yl) / dot(yl, yl) }
            for i in 0..<np { q[i] *= gamma }
            for j in 0..<sList.count {
                let beta = rho[j] * dot(yList[j], q)
                for i in 0..<np { q[i] += sList[j][i] * (alpha[j] - beta) }
            }
            var dir = q.map { -$0 }
            var slope = dot(g, dir)
            if slope >= 0 {   // not a descent direction: restart from steepest descent
                sList.removeAll(); yList.removeAll(); rho.removeAll()
                dir = g.map { -$0 * step0 / Swift.max(1, gmax) }
                slope = dot(g, dir)
            }
            var t = 1.0
            var thNew = th, gNew = g, fNew = f
            var accepted = false
            for _ in 0..<40 {
                for i in 0..<np { thNew[i] = th[i] + t * dir[i] }
                fNew = evaluate(thNew, &gNew)
                if fNew.isFinite && fNew <= f + 1e-4 * t * slope { accepted = true; break }
                t *= 0.5
            }
            if !accepted { break }
            var sv = try [Double](failableRepeating: 0, count: np), yv = sv
            for i in 0..<np { sv[i] = thNew[i] - th[i]; yv[i] = gNew[i] - g[i] }
            let sy = dot(sv, yv)
            if sy > 1e-12 {
                sList.append(sv); yList.append(yv); rho.append(1 / sy)
                if sList.count > 10 { sList.removeFirst(); yList.removeFirst(); rho.removeFirst() }
            }
            let df = f - fNew
            th = thNew; g = gNew; f = fNew
            it += 1
            if df <= 1e-12 * Swift.max(1, Swift.abs(f)) && df >= 0 && it > 1 { break }
            try Parallel.checkInterrupt()
        }
        func acc(_ feats: Tensor, _ y: [Int]) throws -> Double {
            let m = feats.shape[0]
            let wp = wT.base(T.self)
            for i in 0..<(d * c) { wp[i] = T(th[i]) }
            let out = try Tensor(shape: [m, c], dtype: T.dtype, zeroed: false)
            let op = out.base(T.self)
            BLAS.gemm(false, false, m, c, d, T(1), feats.base(T.self), d, wp, c, T(0), op, c)
            var hits = 0
            for i in 0..<m {
                var best = 0, bv = -Double.infinity
                for k in 0..<c {
                    let s = Double(op[i * c + k]) + th[d * c + k]
                    if s > bv { bv = s; best = k }
                }
                if best == y[i] { hits += 1 }
            }
            return Double(hits) / Double(m)
        }
        return Result(testAccuracy: try acc(xt, yte), trainAccuracy: try acc(x, ytr), loss: f, iterations: it)
    }
}

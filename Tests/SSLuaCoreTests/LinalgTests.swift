import Testing
import SSLuaCore

/// SVD and least squares checked by their defining identities, and on small matrices whose
/// answers are worked out by hand.
extension CoreTests {
    @Suite struct LinalgChecks {
        static func matmul(_ a: [Double], _ b: [Double], _ m: Int, _ k: Int, _ n: Int) -> [Double] {
            CoreTests.Kernels.naiveMM(a, b, m, k, n)
        }
        static func transpose(_ a: [Double], _ m: Int, _ n: Int) -> [Double] {
            (0..<(m * n)).map { a[($0 % m) * n + $0 / m] }
        }
        static func identity(_ n: Int) -> [Double] { (0..<(n * n)).map { $0 / n == $0 % n ? 1 : 0 } }

        @Test(arguments: [(7, 4), (4, 7)])
        func svdReconstructsWithOrthonormalFactors(shape: (Int, Int)) throws {
            let (m, n) = shape, k = min(m, n)
            var r = TestRandom(UInt64(31 + m))
            let av = r.values(m * n)
            let (u, s, vt) = try Linalg.svd(makeTensor([m, n], av))
            #expect(u.shape == [m, k] && s.shape == [k] && vt.shape == [k, n])
            let uv = elements(u), sv = elements(s), vv = elements(vt)
            // descending, non-negative
            for i in 0..<k { #expect(sv[i] >= 0) }
            for i in 1..<k { #expect(sv[i - 1] >= sv[i]) }
            // U diag(S) Vt = A
            var us = uv
            for i in 0..<m { for j in 0..<k { us[i * k + j] *= sv[j] } }
            #expect(maxAbsDiff(Self.matmul(us, vv, m, k, n), av) < 1e-13)
            // U^T U = I, Vt Vt^T = I
            #expect(maxAbsDiff(Self.matmul(Self.transpose(uv, m, k), uv, k, m, k), Self.identity(k)) < 1e-13)
            #expect(maxAbsDiff(Self.matmul(vv, Self.transpose(vv, k, n), k, n, k), Self.identity(k)) < 1e-13)
            // full: square orthogonal factors
            let (uf, _, vtf) = try Linalg.svd(makeTensor([m, n], av), full: true)
            #expect(uf.shape == [m, m] && vtf.shape == [n, n])
            let ufv = elements(uf)
            #expect(maxAbsDiff(Self.matmul(Self.transpose(ufv, m, m), ufv, m, m, m), Self.identity(m)) < 1e-13)
        }

        @Test func singularValuesByHand() throws {
            // A = [[3, 0], [4, 5]]: A^T A = [[25, 20], [20, 25]], eigenvalues 45 and 5
            let a = try makeTensor([2, 2], [3, 0, 4, 5])
            let (_, s, _) = try Linalg.svd(a)
            #expect(maxAbsDiff(elements(s), [Double(45).squareRoot(), Double(5).squareRoot()]) < 1e-14)
            // float32 in, float32 out (the Gram route of svdvals)
            let s32 = try Linalg.svdvals(makeTensor([2, 2], [3, 0, 4, 5], dtype: .float32))
            #expect(s32.dtype == .float32)
            #expect(maxAbsDiff(elements(s32), [Double(45).squareRoot(), Double(5).squareRoot()]) < 1e-6)
        }

        @Test func solveSquareSystems() throws {
            // [[2, 1], [1, 3]] x = [3, 5]  =>  x = [4/5, 7/5]
            let (x, rank) = try Linalg.lstsq(makeTensor([2, 2], [2, 1, 1, 3]), makeTensor([2], [3, 5]))
            #expect(rank == 2 && x.shape == [2])
            #expect(maxAbsDiff(elements(x), [0.8, 1.4]) < 1e-15)
            // a random diagonally dominant 6 x 6 system with 2 right-hand sides: A X = B
            var r = TestRandom(41)
            var av = r.values(36)
            for i in 0..<6 { av[i * 6 + i] += 8 }
            let bv = r.values(12)
            let (xs, _) = try Linalg.lstsq(makeTensor([6, 6], av), makeTensor([6, 2], bv))
            #expect(xs.shape == [6, 2])
            #expect(maxAbsDiff(Self.matmul(av, elements(xs), 6, 6, 2), bv) < 1e-14)
        }

        @Test func leastSquaresOfAnOverdeterminedSystem() throws {
            // the line through (0, 1), (1, 2), (2, 4): normal equations [[3, 3], [3, 5]] [c, m] = [7, 10]
            // => m = 3/2, c = 5/6
            let a = try makeTensor([3, 2], [1, 0, 1, 1, 1, 2])
            let (x, rank) = try Linalg.lstsq(a, makeTensor([3], [1, 2, 4]))
            #expect(rank == 2)
            #expect(maxAbsDiff(elements(x), [5.0 / 6, 1.5]) < 1e-14)
        }

        @Test func refusesBadInputs() throws {
            #expect(errorMessage { _ = try Linalg.svd(makeTensor([3], [1, 2, 3])) } != nil)
            #expect(errorMessage { _ = try Linalg.svd(makeTensor([2, 2], [1, .nan, 0, 1])) }?.contains("NaN") == true)
            #expect(errorMessage { _ = try Linalg.lstsq(makeTensor([2, 2], [1, 0, 0, 1]), makeTensor([3], [1, 2, 3])) } != nil)
        }
    }
}

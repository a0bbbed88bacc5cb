import RealModule

/// sslua's random number generator: xoshiro256** (Blackman & Vigna), seeded through
/// splitmix64. Uniform floats take the top 24 (float32) or 53 (float64) bits; normals use the
/// Box-Muller transform on float64 uniforms. The stream for a seed is fixed across runs,
/// machines and thread counts (parallel consumers derive per-item generators with `split`).
public final class RNG {
    var s0: UInt64 = 0, s1: UInt64 = 0, s2: UInt64 = 0, s3: UInt64 = 0
    var spareNormal: Double? = nil
    public private(set) var seed: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        reseed(seed)
    }

    public func reseed(_ seed: UInt64) {
        self.seed = seed
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
        spareNormal = nil
    }

    /// The whole state as text, exact: "xoshiro256**:" then the four state words, the seed and
    /// the Box-Muller spare normal (its IEEE bits, or "-" when there is none), each as 16 hex
    /// digits, separated by ':'. `setState(state)` continues the stream exactly from here.
    public var state: String {
        func hex(_ x: UInt64) -> String {
            let h = String(x, radix: 16)
            return String(repeating: "0", count: 16 - h.count) + h
        }
        let spare = spareNormal.map { hex($0.bitPattern) } ?? "-"
        return "xoshiro256**:" + [s0, s1, s2, s3, seed].map(hex).joined(separator: ":") + ":" + spare
    }

    /// Restores a state from `state`; throws (leaving the generator unchanged) when the text
    /// is not one.
    public func setState(_ text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 7, parts[0] == "xoshiro256**" else {
            throw SSLuaError("expected a state from g:state() (\"xoshiro256**:\" and 6 fields separated by ':'), got '\(text.prefix(80))'")
        }
        func word(_ i: Int) throws -> UInt64 {
            let p = parts[i]
            guard p.count == 16, p.allSatisfy({ $0.isHexDigit && $0.isASCII }), let v = UInt64(p, radix: 16) else {
                throw SSLuaError("field \(i) of the state is not 16 hex digits: '\(p.prefix(40))'")
            }
            return v
        }
        let w = [try word(1), try word(2), try word(3), try word(4)]
        let sd = try word(5)
        guard w.contains(where: { $0 != 0 }) else { throw SSLuaError("a xoshiro256** state cannot be all zeros") }
        var spare: Double? = nil
        if parts[6] != "-" {
            let b = try word(6)
            spare = Double(bitPattern: b)
        }
        s0 = w[0]; s1 = w[1]; s2 = w[2]; s3 = w[3]
        seed = sd
        spareNormal = spare
    }

    /// The global generator (`sslua.manual_seed`).
    nonisolated(unsafe) public static let global = RNG(seed: 0x5EED)

    @inlinable @inline(__always) static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public func next() -> UInt64 {
        let result = RNG.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = RNG.rotl(s3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    /// Uniform in [0, 1) with 24 random bits (float32 tensors).
    public func uniformFloat() -> Float { Float(next() >> 40) * 0x1.0p-24 }
    /// Uniform in [a, b).
    public func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * uniform() }

    /// Standard normal (Box-Muller, both values used).
    public func normal() -> Double {
        if let s = spareNormal { spareNormal = nil; return s }
        var u1 = uniform()
        while u1 <= 0 { u1 = uniform() }
        let u2 = uniform()
        let r = (-2 * Double.log(u1)).squareRoot()
        let a = 2 * Double.pi * u2
        spareNormal = r * Double.sin(a)
        return r * Double.cos(a)
    }

    /// Uniform integer in lo...hi (inclusive), unbiased (Lemire's method).
    public func integer(_ lo: Int, _ hi: Int) -> Int {
        let range = UInt64(bitPattern: Int64(hi &- lo)) &+ 1
        if range == 0 { return Int(bitPattern: UInt(next())) }
        var m = next().multipliedFullWidth(by: range)
        if m.low < range {
            let t = (0 &- range) % range
            while m.low < t { m = next().multipliedFullWidth(by: range) }
        }
        return lo &+ Int(m.high)
    }

    /// An independent generator derived from this one's stream (for per-item parallel work).
    public func split() -> RNG { RNG(seed: next()) }

    /// Fisher-Yates permutation of 0..<n in a checked allocation: a huge n is an
    /// "out of memory" error rather than a trap.
    public func permutation(count n: Int) throws -> [Int] {
        var p = try [Int](failableRepeating: 0, count: n, "a permutation of \(n)")
        for i in 0..<n { p[i] = i }
        shuffle(&p)
        return p
    }

    /// `permutation(count:)` for a small n fixed by the code (no user-controlled size).
    public func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        shuffle(&p)
        return p
    }

    /// Fisher-Yates in place: for i from the last index down to 1, swap p[i] with p[j], j
    /// uniform in 0...i (the stream every permutation above draws).
    public func shuffle(_ p: inout [Int]) {
        if p.count > 1 { for i in stride(from: p.count - 1, to: 0, by: -1) { p.swapAt(i, integer(0, i)) } }
    }
}

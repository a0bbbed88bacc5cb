import Foundation
import Testing
import SSLuaCore

/// The core's tests, run one at a time: autograd's grad mode and the worker pool are process
/// globals (a backward pass turns recording off while it runs), so tests that build graphs
/// must not overlap. Each area is a nested suite in its own file.
@Suite(.serialized) struct CoreTests {}

/// A small deterministic generator of the test's own (independent of the core's RNG): values
/// uniform in [-1, 1).
struct TestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) * 0x1.0p-53 * 2 - 1
    }
    mutating func values(_ n: Int) -> [Double] { (0..<n).map { _ in next() } }
}

/// A contiguous tensor holding `values` (row-major).
func makeTensor(_ shape: [Int], _ values: [Double], dtype: DType = .float64) throws -> Tensor {
    let t = try Tensor(shape: shape, dtype: dtype, zeroed: false)
    try #require(values.count == t.numel)
    switch dtype {
    case .float32: let p = t.base(Float.self); for (i, v) in values.enumerated() { p[i] = Float(v) }
    case .float64: let p = t.base(Double.self); for (i, v) in values.enumerated() { p[i] = v }
    }
    return t
}

/// The elements of `t` in row-major order of its view, as Double.
func elements(_ t: Tensor) -> [Double] { (0..<t.numel).map { t.value(at: $0) } }

/// The float32 rounding of each value (what a float32 tensor made from them holds).
func rounded32(_ v: [Double]) -> [Double] { v.map { Double(Float($0)) } }

/// max |a - b| over the elements; infinity when the counts differ.
func maxAbsDiff(_ a: [Double], _ b: [Double]) -> Double {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

func maxAbs(_ a: [Double]) -> Double { a.map(abs).max() ?? 0 }

/// The message of the SSLuaError `body` throws (nil when it throws nothing or something else).
func errorMessage(_ body: () throws -> Void) -> String? {
    do { try body() } catch let e as SSLuaError { return e.message } catch { return nil }
    return nil
}

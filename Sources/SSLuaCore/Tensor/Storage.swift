import CRuntime
#if canImport(Glibc)
import Glibc
#endif
import RealModule

/// Element types. Storage is float32 by default; float64 exists for analysis and for
/// finite-difference gradient checks.
public enum DType: String {
    case float32, float64
    @inlinable public var size: Int { self == .float32 ? 4 : 8 }
    /// The type both operands of a binary op are computed in (PyTorch's promotion).
    @inlinable public static func promote(_ a: DType, _ b: DType) -> DType {
        a == .float64 || b == .float64 ? .float64 : .float32
    }
}

/// The scalar types a tensor can hold; kernels are generic over it and specialised, so the
/// dtype switch happens once per op, never per element.
public protocol TensorScalar: BinaryFloatingPoint, Real, SIMDScalar, Sendable {
    static var dtype: DType { get }
    /// C's `pow`: unlike `Real.pow`, a negative base with an integral exponent is defined
    /// ((-2)^3 = -8), as in PyTorch and NumPy.
    static func cpow(_ a: Self, _ b: Self) -> Self
}
extension Float: TensorScalar {
    @inlinable public static var dtype: DType { .float32 }
    @inlinable public static func cpow(_ a: Float, _ b: Float) -> Float { powf(a, b) }
}
extension Double: TensorScalar {
    @inlinable public static var dtype: DType { .float64 }
    @inlinable public static func cpow(_ a: Double, _ b: Double) -> Double { Glibc.pow(a, b) }
}

/// Raw, contiguous, owned memory: the storage under one or more tensor views.
/// Frees itself on deinit and reports its bytes to `sslua.memory()` and to Lua's collector.
public final class Storage {
    public let count: Int
    public let dtype: DType
    public let raw: UnsafeMutableRawPointer
    public let bytes: Int
    /// PyTorch's version counter: bumped by every in-place write to this memory, through any
    /// view or `detach()` alias of it (they share the storage). Autograd nodes record the
    /// versions of the values their backward reads and refuse to run when one has changed.
    public private(set) var version: Int = 0

    public init(count: Int, dtype: DType, zeroed: Bool = true) throws {
        guard count >= 0 else { throw SSLuaError("negative element count \(count)") }
        let (b, overflow) = count.multipliedReportingOverflow(by: dtype.size)
        guard !overflow, b < (1 << 46) else { throw SSLuaError("tensor of \(count) elements is too large") }
        guard let p = zeroed ? calloc(max(b, 1), 1) : malloc(max(b, 1)) else {
            throw SSLuaError("out of memory allocating \(b) bytes")
        }
        raw = p
        bytes = b
        self.count = count
        self.dtype = dtype
        sslua_note_alloc(Int64(b))
    }

    /// Records an in-place modification (call once per in-place operation, before or after it).
    public func bumpVersion() { version &+= 1 }

    deinit {
        free(raw)
        sslua_note_free(Int64(bytes))
    }

    @inlinable public func pointer<T: TensorScalar>(_: T.Type) -> UnsafeMutablePointer<T> {
        raw.assumingMemoryBound(to: T.self)
    }
}

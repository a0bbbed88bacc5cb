/// A strided view of a `Storage`, with the autograd state of the value it represents.
///
/// Views (transpose, narrow, select, ...) share storage; methods return new tensors and only
/// the `_`-suffixed operations mutate. Indices here are 0-based; the Lua layer converts.
public final class Tensor {
    public let storage: Storage
    public let shape: [Int]
    public let strides: [Int]
    public let offset: Int
    public let numel: Int

    /// Leaf tensors that require grad accumulate `.grad` in `backward`.
    public var requiresGrad: Bool = false
    public var grad: Tensor?
    /// The operation that produced this tensor (nil for leaves and for constants).
    public internal(set) var node: Node?

    public init(storage: Storage, shape: [Int], strides: [Int], offset: Int = 0) {
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
        self.numel = shape.reduce(1, *)
    }

    /// A new zero-filled (or uninitialised) contiguous tensor.
    public convenience init(shape: [Int], dtype: DType = .float32, zeroed: Bool = true) throws {
        let st = try Storage(count: checkedCount(shape), dtype: dtype, zeroed: zeroed)
        self.init(storage: st, shape: shape, strides: Tensor.contiguousStrides(shape))
    }

    public var dtype: DType { storage.dtype }
    public var dim: Int { shape.count }
    public var isLeaf: Bool { node == nil }

    @inlinable public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var st = [Int](repeating: 1, count: shape.count)
        var acc = 1
        var i = shape.count - 1
        while i >= 0 { st[i] = acc; acc *= max(shape[i], 1); i -= 1 }
        return st
    }

    public var isContiguous: Bool {
        var acc = 1
        var i = shape.count - 1
        while i >= 0 {
            if shape[i] != 1 && strides[i] != acc { return false }
            acc *= shape[i]
            i -= 1
        }
        return true
    }

    /// Typed pointer to element 0 of this view (valid for the view's strides).
    @inlinable public func base<T: TensorScalar>(_: T.Type) -> UnsafeMutablePointer<T> {
        storage.pointer(T.self) + offset
    }

    /// Normalises a 0-based dimension that may be negative (-1 is the last).
    public func axis(_ d: Int) throws -> Int {
        let n = max(dim, 1)
        let a = d < 0 ? d + n : d
        guard a >= 0 && a < n else {
            throw SSLuaError("dimension \(d + 1) out of range for a \(dim)-d tensor")
        }
        return a
    }

    /// Reads element `index` (0-based, row-major over the view) as Double.
    public func value(at flat: Int) -> Double {
        var rem = flat, off = offset
        var i = shape.count - 1
        while i >= 0 { let s = shape[i]; off += (rem % s) * strides[i]; rem /= s; i -= 1 }
        switch dtype {
        case .float32: return Double(storage.pointer(Float.self)[off])
        case .float64: return storage.pointer(Double.self)[off]
        }
    }

    /// Storage offset of a multi-index (0-based); throws if out of range.
    public func storageOffset(_ index: [Int]) throws -> Int {
        guard index.count == dim else {
            throw SSLuaError("expected \(dim) indices for a tensor of size \(shapeString(shape)), got \(index.count)")
        }
        var off = offset
        for (d, i) in index.enumerated() {
            guard i >= 0 && i < shape[d] else {
                throw SSLuaError("index \(i + 1) out of range for dimension \(d + 1) of size \(shape[d])")
            }
            off += i * strides[d]
        }
        return off
    }
}

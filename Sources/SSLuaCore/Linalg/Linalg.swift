import CLapacke

/// LAPACKE's `lapack_int` is a macro Swift does not import; this build uses 32-bit LP64 LAPACK.
typealias lapack_int = Int32

/// Dense linear algebra for analysis (`sslua.linalg`). Everything runs in float64 on
/// LAPACK; float32 inputs are converted in and the results converted back, so a float32 tensor
/// gets float32 results and a float64 tensor float64 ones. Not differentiable.
public enum Linalg {
    /// A fresh contiguous float64 copy of a 2-d, finite, non-empty matrix (LAPACK overwrites it).
    static func matrix(_ a: Tensor, _ what: String = "input") throws -> Tensor {
        try require(a.dim == 2, "expected a 2-d matrix as \(what), got a \(a.dim)-d tensor of size \(shapeString(a.shape))")
        try require(a.shape[0] > 0 && a.shape[1] > 0, "\(what) is an empty matrix \(shapeString(a.shape))")
        try requireLapackSize(a.shape[0], a.shape[1])
        let c = try Tensor(shape: a.shape, dtype: .float64, zeroed: false)
        try c.copyIn(a)
        let p = c.base(Double.self)
        for i in 0..<c.numel where !p[i].isFinite {
            throw SSLuaError("\(what) contains NaN or infinity")
        }
        return c
    }

    static func squareMatrix(_ a: Tensor, _ what: String = "input") throws -> Tensor {
        try require(a.dim == 2 && a.shape[0] == a.shape[1],
                    "expected a square matrix, got size \(shapeString(a.shape))")
        return try matrix(a, what)
    }

    /// Throws a clear error for a nonzero LAPACK `info`.
    static func check(_ info: lapack_int, _ routine: String) throws {
        if info < 0 { throw SSLuaError("LAPACK \(routine): argument \(-info) had an illegal value") }
        if info > 0 { throw SSLuaError("LAPACK \(routine) failed to converge (info = \(info))") }
    }

    static func char(_ c: Unicode.Scalar) -> CChar { CChar(UInt8(ascii: c)) }

    /// Converts a float64 result back to the dtype of the input it came from.
    static func result(_ t: Tensor, like input: Tensor) throws -> Tensor {
        input.dtype == .float64 ? t : try t.to(input.dtype)
    }
}

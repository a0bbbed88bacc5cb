/// The one error type of the compute core. Bindings prefix it with the Lua function's name,
/// so a message reads `sslua.mm: size mismatch, [4x3] times [5x2]`.
public struct SSLuaError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Formats a shape as PyTorch/Torch7 users read it: `[4x3]`.
@inlinable public func shapeString(_ shape: [Int]) -> String {
    shape.isEmpty ? "[scalar]" : "[" + shape.map(String.init).joined(separator: "x") + "]"
}

/// Throws unless `condition` holds: the non-trapping replacement for `precondition`.
@inlinable public func require(_ condition: @autoclosure () -> Bool,
                               _ message: @autoclosure () -> String) throws {
    if !condition() { throw SSLuaError(message()) }
}

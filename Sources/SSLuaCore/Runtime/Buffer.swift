#if canImport(Glibc)
import Glibc
#endif

/// Native scratch memory whose allocation can fail.
///
/// A Swift `Array` (or `Data`, or `String`) that cannot get its memory ends the process
/// ("Fatal error: failed to allocate"); under `ulimit -v`, or for a size taken from a file
/// header or a tensor's shape, that failure must be a Lua error instead. `Buffer` is
/// malloc-backed and throws `SSLuaError("out of memory: ...")`; use it for every scratch
/// area of a user-controlled size. Elements must be trivial (plain numbers and tuples of
/// them): the memory is freed without deinitialising.
public final class Buffer<Element> {
    public let count: Int
    public let base: UnsafeMutablePointer<Element>

    /// `count` uninitialised elements; `what` names the use in the error message.
    public init(count: Int, _ what: @autoclosure () -> String) throws {
        guard _isPOD(Element.self) else { throw SSLuaError("internal error: Buffer of a non-trivial type") }
        let p = try Memory.allocate(count, of: Element.self, what())
        base = p.assumingMemoryBound(to: Element.self)
        self.count = count
    }

    /// `count` copies of `value`.
    public convenience init(repeating value: Element, count: Int, _ what: @autoclosure () -> String) throws {
        try self.init(count: count, what())
        base.initialize(repeating: value, count: count)
    }

    /// `count` zero bytes (calloc: the kernel's zero pages, nothing touched).
    public init(zeroed count: Int, _ what: @autoclosure () -> String) throws {
        guard _isPOD(Element.self) else { throw SSLuaError("internal error: Buffer of a non-trivial type") }
        let bytes = try Memory.byteCount(count, of: Element.self, what())
        guard let p = calloc(max(bytes, 1), 1) else { throw Memory.outOfMemory(bytes, what()) }
        base = p.assumingMemoryBound(to: Element.self)
        self.count = count
    }

    /// Takes ownership of `p` (from malloc or realloc) holding `count` elements.
    init(adopting p: UnsafeMutablePointer<Element>, count: Int) {
        base = p
        self.count = count
    }

    deinit { free(base) }

    /// The elements as a buffer pointer (valid while `self` lives).
    @inlinable public var buffer: UnsafeMutableBufferPointer<Element> {
        UnsafeMutableBufferPointer(start: base, count: count)
    }

    @inlinable public subscript(i: Int) -> Element {
        get { base[i] }
        set { base[i] = newValue }
    }
}

/// The allocation checks behind `Buffer`, and a failable way to make the Swift arrays that
/// an API must return.
public enum Memory {
    static var probe: UnsafeMutableRawPointer? = nil

    static func outOfMemory(_ bytes: Int, _ what: String) -> SSLuaError {
        SSLuaError("out of memory: cannot allocate \(bytes) bytes for \(what)")
    }

    /// The bytes of `count` elements of `T`; throws when negative or overflowing.
    static func byteCount<T>(_ count: Int, of _: T.Type, _ what: @autoclosure () -> String) throws -> Int {
        guard count >= 0 else { throw SSLuaError("negative size \(count) for \(what())") }
        let (b, o) = count.multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        guard !o, b < Int.max / 2 else { throw SSLuaError("out of memory: \(count) elements for \(what()) overflow the address space") }
        return b
    }

    /// Uninitialised memory for `count` elements of `T`, or an "out of memory" error.
    public static func allocate<T>(_ count: Int, of type: T.Type, _ what: @autoclosure () -> String) throws -> UnsafeMutableRawPointer {
        let b = try byteCount(count, of: type, what())
        guard let p = malloc(max(b, 1)) else { throw outOfMemory(b, what()) }
        return p
    }

    /// Throws "out of memory" unless `count` elements of `T` can be allocated now: call it
    /// before creating a Swift array of a user-controlled size (the allocator is asked for
    /// the bytes, which are released again at once, so the array's own request then succeeds).
    public static func reserve<T>(_ count: Int, of type: T.Type, _ what: @autoclosure () -> String) throws {
        let b = try byteCount(count, of: type, what())
        if b < 1 << 16 { return }   // small requests are never the failing ones
        // a little more than asked: the array adds its header, and the freed block (which the
        // tuned allocator may keep in the heap) must be big enough to be reused for it
        guard let p = malloc(b + 4096) else { throw outOfMemory(b, what()) }
        probe = p   // escapes, so that the optimiser cannot drop the malloc/free pair
        free(p)
    }

    /// `[T](repeating:count:)` that throws "out of memory" instead of ending the process.
    public static func array<T>(repeating value: T, count: Int, _ what: @autoclosure () -> String) throws -> [T] {
        try reserve(count, of: T.self, what())
        return [T](repeating: value, count: count)
    }

    /// A Swift array copy of `p[0..<count]`, failable.
    public static func array<T>(_ p: UnsafePointer<T>, count: Int, _ what: @autoclosure () -> String) throws -> [T] {
        try reserve(count, of: T.self, what())
        return Array(UnsafeBufferPointer(start: p, count: count))
    }
}

extension Array {
    /// `[T](repeating:count:)` that throws "out of memory: ..." instead of ending the process:
    /// the form for every Swift array whose size a user controls.
    @inlinable public init(failableRepeating value: Element, count: Int,
                           _ what: @autoclosure () -> String = "a scratch array") throws {
        try Memory.reserve(count, of: Element.self, what())
        self.init(repeating: value, count: count)
    }
}

/// A restricted unpickler: Python's pickle (protocols 0-5 binary opcodes, as `torch.save` and
/// NumPy write them) read as *data*, never executed, in the spirit of
/// `torch.load(weights_only=True)`.
///
/// Rebuilt: None, booleans, ints, floats, str, bytes (also Python 2 strings and
/// `_codecs.encode(s, 'latin1')`), lists, tuples, dicts, `collections.OrderedDict`, `torch.Size`,
/// PyTorch tensors (`torch._utils._rebuild_tensor_v2` / `_rebuild_tensor` / `_rebuild_parameter`
/// over storages that the caller resolves from their persistent ids) and NumPy arrays
/// (`numpy.core.multiarray._reconstruct` + `numpy.dtype` + BUILD with the raw bytes) and scalars.
/// Any other class or function becomes an inert `Placeholder` that records its name, arguments,
/// state and items; nothing named in the file is ever called.
///
/// Hostile input: every length is checked against the bytes left, the stack and memo are checked
/// on each use, and containers are reference objects kept in one list so that a deeply nested
/// structure is dismantled without recursion (`dismantle()`).
public enum PValue {
    case none
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case list(PList)            // list or tuple
    case dict(PDict)
    case object(PObject)        // placeholder of an unknown class (or a NumPy dtype / array)
    case global(String)         // "module.name", a reference to a class or function (inert)
    case tensor(Tensor)
}

public final class PList { public var items: [PValue]; public let isTuple: Bool
    init(_ items: [PValue], tuple: Bool) { self.items = items; isTuple = tuple } }

public final class PDict { public var pairs: [(PValue, PValue)] = []
    init() {}
    public subscript(key: String) -> PValue? {
        for (k, v) in pairs.reversed() {
            switch k {
            case .string(let s) where s == key: return v
            case .bytes(let b) where b.elementsEqual(key.utf8): return v
            default: continue
            }
        }
        return nil
    }
}

/// An object of a class the unpickler does not rebuild: its class name, the arguments it was
/// constructed with, the state BUILD gave it and any items appended or set on it.
public final class PObject {
    public let className: String
    public var args: [PValue]
    public var state: PValue? = nil
    public var listItems: [PValue] = []
    public var dictItems: [(PValue, PValue)] = []
    /// NumPy: a dtype (`descr` like "<u1") or an array built from `_reconstruct` + BUILD.
    public var npDescr: String? = nil
    public var array: NumpyArray? = nil
    init(_ name: String, _ args: [PValue]) { className = name; self.args = args }
}

/// A NumPy array read from a pickle: shape, element type and its raw bytes (C or Fortran order).
public struct NumpyArray {
    public var shape: [Int]
    public var descr: String        // e.g. "|u1", "<f4", ">i8"
    public var fortran: Bool
    public var data: [UInt8]

    /// The array as a tensor: floats keep float64 if 8 bytes, else float32; integers and
    /// booleans become float64 when every value is exactly representable (else an error).
    public func tensor(dtype wanted: DType? = nil, what: String) throws -> Tensor {
        let (kind, size, big) = try NumpyArray.parse(descr, what: what)
        let count = try checkedCount(shape)
        let (need, o) = count.multipliedReportingOverflow(by: size)
        try require(!o && need <= data.count, "\(what): array data is truncated (\(need) bytes needed, \(data.count) present)")
        let dt = wanted ?? ((kind == .float && size == 4) || (kind == .float && size == 2) ? .float32 : .float64)
        return try data.withUnsafeBytes { raw in
            if wanted == nil || dt == .float64 {
                try RawElements.requireExact(raw.baseAddress!, count: count, kind: kind, size: size, bigEndian: big, what: what)
            }
            let fileShape = fortran ? Array(shape.reversed()) : shape
            let out = try Tensor(shape: fileShape, dtype: dt, zeroed: false)
            try RawElements.decode(raw.baseAddress!, count: count, kind: kind, size: size, bigEndian: big, into: out)
            if fortran && shape.count > 1 {
                return try GradMode.withoutGrad { try out.permute(Array((0..<shape.count).reversed())).contiguous() }
            }
            return out
        }
    }

    static func parse(_ descr: String, what: String) throws -> (RawElements.Kind, Int, Bool) {
        var chars = Array(descr)
        var big = false
        if let f = chars.first, "<>|=".contains(f) { big = f == ">"; chars.removeFirst() }
        guard chars.count >= 2, let size = Int(String(chars[1...])) else { throw SSLuaError("\(what): unknown NumPy element type '\(descr)'") }
        switch (chars[0], size) {
        case ("f", 2), ("f", 4), ("f", 8): return (.float, size, big)
        case ("i", 1), ("i", 2), ("i", 4), ("i", 8): return (.signed, size, big)
        case ("u", 1), ("u", 2), ("u", 4), ("u", 8): return (.unsigned, size, big)
        case ("b", 1): return (.bool, 1, false)
        default: throw SSLuaError("\(what): unsupported NumPy element type '\(descr)' (floats, integers and booleans only)")
        }
    }
}

extension RawElements {
    /// Throws unless every integer element is exactly representable as float64 (|v| <= 2^53);
    /// only 8-byte integers can fail.
    static func requireExact(_ p: UnsafeRawPointer, count: Int, kind: Kind, size: Int, bigEndian: Bool, what: String) throws {
        guard size == 8, kind == .signed || kind == .unsigned else { return }
        for i in 0..<count {
            var v: UInt64 = 0
            for b in 0..<8 {
                v |= UInt64(p.load(fromByteOffset: i * 8 + b, as: UInt8.self)) << (8 * UInt64(bigEndian ? 7 - b : b))
            }
            let ok = kind == .signed ? Int64(bitPattern: v).magnitude <= (1 << 53) : v <= (1 << 53)
            if !ok {
                let s = kind == .signed ? String(Int64(bitPattern: v)) : String(v)
                throw SSLuaError("\(what): \(kind == .signed ? "int64" : "uint64") value \(s) (element \(i + 1)) is not exactly representable as float64")
            }
        }
    }
}

/// Resolves a persistent id (BINPERSID) to a value, e.g. a torch storage.
public typealias PersistentLoader = (PValue) throws -> PValue

public final class Unpickler {
    let b: [UInt8]
    var pos = 0
    let what: String
    let persistent: PersistentLoader?
    var stack: [PValue] = []
    var marks: [Int] = []
    var memo: [Int: PValue] = [:]
    /// Every container made, so that `dismantle` can empty them without recursion.
    var containers: [AnyObject] = []

    /// Size of the pickle in bytes.
    public var byteCount: Int { b.count }

    public init(_ bytes: [UInt8], what: String, persistent: PersistentLoader? = nil) {
        b = bytes; self.what = what; self.persistent = persistent
    }

    deinit { dismantle() }

    /// Empties every container (iteratively), so a deep or cyclic graph is freed flat.
    public func dismantle() {
        for c in containers {
            if let l = c as? PList { l.items = [] }
            else if let d = c as? PDict { d.pairs = [] }
            else if let o = c as? PObject { o.args = []; o.state = nil; o.listItems = []; o.dictItems = [] }
        }
        containers = []
        stack = []
        memo = [:]
    }

    func bad(_ why: String) -> SSLuaError { SSLuaError("\(what) is not a valid pickle: \(why) (at byte \(pos))") }

    func byte() throws -> UInt8 {
        guard pos < b.count else { throw bad("unexpected end of data") }
        pos += 1
        return b[pos - 1]
    }
    func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= b.count - pos else { throw bad("length \(n) runs past the end of the data") }
        pos += n
        return b[(pos - n)..<pos]
    }
    func uint(_ n: Int) throws -> UInt64 {
        let s = try take(n)
        var v: UInt64 = 0
        for (i, x) in s.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
        return v
    }
    func length(_ n: Int) throws -> Int {
        let v = try uint(n)
        guard v <= UInt64(b.count - pos) else { throw bad("length \(v) runs past the end of the data") }
        return Int(v)
    }
    func line() throws -> String {
        guard let nl = b[pos...].firstIndex(of: 10) else { throw bad("unterminated line") }
        let s = String(decoding: b[pos..<nl], as: UTF8.self)
        pos = nl + 1
        return s
    }
    func pop() throws -> PValue {
        guard let v = stack.popLast() else { throw bad("stack underflow") }
        if let m = marks.last, stack.count < m { throw bad("stack underflow past a mark") }
        return v
    }
    func top() throws -> PValue {
        guard let v = stack.last else { throw bad("stack underflow") }
        return v
    }
    /// Throws "out of memory" when the array's next growth (Swift doubles the capacity) for
    /// `extra` more elements cannot be had: the pickle's sizes come from the file, and a Swift
    /// array that cannot grow ends the process.
    func room<T>(_ a: [T], _ extra: Int, _ name: String) throws {
        let need = a.count + extra
        guard need > a.capacity else { return }
        try Memory.reserve(max(need, 2 * a.capacity), of: T.self, "\(what): \(name)")
    }
    func popMark() throws -> [PValue] {
        guard let m = marks.popLast() else { throw bad("no mark on the stack") }
        guard m <= stack.count else { throw bad("mark past the stack") }
        try Memory.reserve(stack.count - m, of: PValue.self, "\(what): the items of a mark")
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }
    func list(_ items: [PValue], tuple: Bool) -> PValue {
        let l = PList(items, tuple: tuple); containers.append(l); return .list(l)
    }
    func object(_ name: String, _ args: [PValue]) -> PObject {
        let o = PObject(name, args); containers.append(o); return o
    }
    func latin1(_ s: String) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            guard u.value < 256 else { throw bad("_codecs.encode: a character above U+00FF in latin1 bytes") }
            out.append(UInt8(u.value))
        }
        return out
    }

    /// Runs the pickle to STOP and returns its value.
    public func load() throws -> PValue {
        while true {
            let op = try byte()
            try room(stack, 1, "the stack"); try room(marks, 1, "the marks")
            try room(containers, 1, "the containers")
            if memo.count >= memo.capacity {
                try Memory.reserve(2 * max(memo.capacity, 1), of: (Int, PValue).self, "\(what): the memo")
            }
            switch op {
            case 0x80: _ = try byte()                                        // PROTO
            case 0x95: _ = try uint(8)                                       // FRAME
            case 0x2E:                                                        // STOP
                guard marks.isEmpty || marks.last! <= stack.count - 1 else { throw bad("STOP inside a mark") }
                return try pop()
            case 0x28: marks.append(stack.count)                             // MARK
            case 0x30: _ = try pop()                                         // POP
            case 0x31: _ = try popMark()                                     // POP_MARK
            case 0x32: stack.append(try top())                               // DUP
            case 0x4E: stack.append(.none)                                   // NONE
            case 0x88: stack.append(.bool(true))                             // NEWTRUE
            case 0x89: stack.append(.bool(false))                            // NEWFALSE
            case 0x4B: stack.append(.int(Int64(try byte())))                 // BININT1
            case 0x4D: stack.append(.int(Int64(try uint(2))))                // BININT2
            case 0x4A: stack.append(.int(Int64(Int32(truncatingIfNeeded: try uint(4)))))  // BININT
            case 0x8A, 0x8B:                                                  // LONG1, LONG4
                let n = try length(op == 0x8A ? 1 : 4)
                let s = try take(n)
                if n == 0 { stack.append(.int(0)); break }
                guard n <= 8 else {
                    // beyond int64: keep the magnitude as a float (exact to 53 bits)
                    var v = 0.0, scale = 1.0
                    for x in s { v += Double(x) * scale; scale *= 256 }
                    if s.last! & 0x80 != 0 { v -= scale }
                    stack.append(.float(v)); break
                }
                var v: UInt64 = 0
                for (i, x) in s.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
                if n < 8 && s.last! & 0x80 != 0 { v |= ~UInt64(0) << (8 * UInt64(n)) }
                stack.append(.int(Int64(bitPattern: v)))
            case 0x47: stack.append(.float(Double(bitPattern: UInt64(bigEndian: try uint(8)))))  // BINFLOAT (big-endian)
            case 0x58, 0x8C, 0x8D:                                            // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
                let n = try length(op == 0x58 ? 4 : op == 0x8C ? 1 : 8)
                stack.append(.string(String(decoding: try take(n), as: UTF8.self)))
            case 0x54, 0x55:                                                  // BINSTRING, SHORT_BINSTRING (Python 2 str)
                let n = try length(op == 0x54 ? 4 : 1)
                stack.append(.bytes(Array(try take(n))))
            case 0x42, 0x43, 0x8E:                                            // BINBYTES, SHORT_BINBYTES, BINBYTES8
                let n = try length(op == 0x42 ? 4 : op == 0x43 ? 1 : 8)
                stack.append(.bytes(Array(try take(n))))
            case 0x7D: let d = PDict(); containers.append(d); stack.append(.dict(d))   // EMPTY_DICT
            case 0x5D: stack.append(list([], tuple: false))                  // EMPTY_LIST
            case 0x29: stack.append(list([], tuple: true))                   // EMPTY_TUPLE
            case 0x85, 0x86, 0x87:                                            // TUPLE1..3
                let n = Int(op - 0x84)
                var items: [PValue] = []
                for _ in 0..<n { items.append(try pop()) }
                stack.append(list(items.reversed(), tuple: true))
            case 0x74: stack.append(list(try popMark(), tuple: true))       // TUPLE
            case 0x6C: stack.append(list(try popMark(), tuple: false))      // LIST
            case 0x64:                                                        // DICT
                let items = try popMark()
                guard items.count % 2 == 0 else { throw bad("DICT with an odd number of items") }
                let d = PDict(); containers.append(d)
                try room(d.pairs, items.count / 2, "a dict")
                for i in stride(from: 0, to: items.count, by: 2) { d.pairs.append((items[i], items[i + 1])) }
                stack.append(.dict(d))
            case 0x61:                                                        // APPEND
                let v = try pop()
                try append([v], to: try top())
            case 0x65:                                                        // APPENDS
                let items = try popMark()
                try append(items, to: try top())
            case 0x73:                                                        // SETITEM
                let v = try pop(), k = try pop()
                try setItems([(k, v)], on: try top())
            case 0x75:                                                        // SETITEMS
                let items = try popMark()
                guard items.count % 2 == 0 else { throw bad("SETITEMS with an odd number of items") }
                var pairs: [(PValue, PValue)] = []
                for i in stride(from: 0, to: items.count, by: 2) { pairs.append((items[i], items[i + 1])) }
                try setItems(pairs, on: try top())
            case 0x71: memo[Int(try uint(1))] = try top()                   // BINPUT
            case 0x72: memo[Int(try uint(4))] = try top()                   // LONG_BINPUT
            case 0x94: memo[memo.count] = try top()                          // MEMOIZE
            case 0x70:                                                        // PUT
                guard let i = Int(try line()) else { throw bad("bad PUT index") }
                memo[i] = try top()
            case 0x68, 0x6A, 0x67:                                            // BINGET, LONG_BINGET, GET
                let i: Int
                if op == 0x67 { guard let v = Int(try line()) else { throw bad("bad GET index") }; i = v }
                else { i = Int(try uint(op == 0x68 ? 1 : 4)) }
                guard let v = memo[i] else { throw bad("memo entry \(i) is not defined") }
                stack.append(v)
            case 0x63:                                                        // GLOBAL
                let module = try line(), name = try line()
                stack.append(.global(module + "." + name))
            case 0x93:                                                        // STACK_GLOBAL
                let name = try pop(), module = try pop()
                guard case .string(let n) = name, case .string(let m) = module else { throw bad("STACK_GLOBAL needs two strings") }
                stack.append(.global(m + "." + n))
            case 0x52:                                                        // REDUCE
                let args = try pop(), f = try pop()
                guard case .list(let a) = args, a.isTuple else { throw bad("REDUCE arguments are not a tuple") }
                stack.append(try reduce(f, a.items))
            case 0x81:                                                        // NEWOBJ
                let args = try pop(), cls = try pop()
                guard case .list(let a) = args, a.isTuple else { throw bad("NEWOBJ arguments are not a tuple") }
                stack.append(try reduce(cls, a.items))
            case 0x62:                                                        // BUILD
                let state = try pop()
                try build(try top(), state)
            case 0x51:                                                        // BINPERSID
                let pid = try pop()
                guard let load = persistent else { throw bad("a persistent id outside a torch archive") }
                stack.append(try load(pid))
            default:
                throw bad("unsupported opcode 0x\(String(op, radix: 16))")
            }
        }
    }

    func append(_ items: [PValue], to target: PValue) throws {
        switch target {
        case .list(let l) where !l.isTuple: try room(l.items, items.count, "a list"); l.items.append(contentsOf: items)
        case .object(let o): try room(o.listItems, items.count, "a list"); o.listItems.append(contentsOf: items)
        default: throw bad("APPEND to something that is not a list")
        }
    }

    func setItems(_ pairs: [(PValue, PValue)], on target: PValue) throws {
        switch target {
        case .dict(let d): try room(d.pairs, pairs.count, "a dict"); d.pairs.append(contentsOf: pairs)
        case .object(let o): try room(o.dictItems, pairs.count, "a dict"); o.dictItems.append(contentsOf: pairs)
        default: throw bad("SETITEM on something that is not a dict")
        }
    }

    static func int(_ v: PValue) -> Int? {
        if case .int(let i) = v, let n = Int(exactly: i) { return n }
        return nil
    }
    static func ints(_ v: PValue) -> [Int]? {
        guard case .list(let l) = v else { return nil }
        var out: [Int] = []
        for x in l.items { guard let i = int(x) else { return nil }; out.append(i) }
        return out
    }
    static func text(_ v: PValue) -> String? {
        switch v {
        case .string(let s): return s
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        default: return nil
        }
    }

    /// The value of calling `f(args)`: only the known data constructors are rebuilt; anything
    /// else becomes a placeholder.
    func reduce(_ f: PValue, _ args: [PValue]) throws -> PValue {
        guard case .global(let name) = f else {
            if case .object(let o) = f { return .object(object(o.className, args)) }
            throw bad("REDUCE of something that is not a class or function")
        }
        switch name {
        case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
            guard args.count >= 4, case .tensor(let st) = args[0], let off = Unpickler.int(args[1]),
                  let size = Unpickler.ints(args[2]), let stride = Unpickler.ints(args[3]) else {
                throw bad("\(name) with unexpected arguments")
            }
            return .tensor(try TorchFile.view(st, offset: off, size: size, stride: stride, what: what))
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard let t = args.first, case .tensor = t else { throw bad("\(name) without a tensor") }
            return t
        case "collections.OrderedDict", "builtins.dict", "__builtin__.dict",
             // Lightning's hyper-parameter dicts: dict subclasses whose items are set by SETITEMS
             "lightning.fabric.utilities.data.AttributeDict", "lightning_fabric.utilities.data.AttributeDict",
             "pytorch_lightning.utilities.parsing.AttributeDict", "lightning.pytorch.utilities.parsing.AttributeDict":
            let d = PDict(); containers.append(d)
            if let a = args.first, case .list(let l) = a {
                for p in l.items {
                    guard case .list(let kv) = p, kv.items.count == 2 else { throw bad("OrderedDict items are not pairs") }
                    d.pairs.append((kv.items[0], kv.items[1]))
                }
            }
            return .dict(d)
        case "torch.Size", "builtins.tuple", "__builtin__.tuple":
            if let a = args.first, case .list(let l) = a { return list(l.items, tuple: true) }
            return list([], tuple: true)
        case "builtins.list", "__builtin__.list":
            if let a = args.first, case .list(let l) = a { return list(l.items, tuple: false) }
            return list([], tuple: false)
        case "_codecs.encode":
            guard let s = args.first, case .string(let str) = s else { throw bad("_codecs.encode without a string") }
            let enc = args.count > 1 ? Unpickler.text(args[1])?.lowercased() : "utf-8"
            if enc == "latin1" || enc == "latin-1" || enc == "iso-8859-1" { return .bytes(try latin1(str)) }
            if enc == "utf-8" || enc == "utf8" { return .bytes(Array(str.utf8)) }
            throw bad("_codecs.encode with the unsupported encoding '\(enc ?? "?")'")
        case "builtins.bytes", "__builtin__.bytes", "builtins.bytearray", "__builtin__.bytearray":
            if args.isEmpty { return .bytes([]) }
            if case .bytes(let b) = args[0] { return .bytes(b) }
            return .object(object(name, args))
        case "builtins.set", "builtins.frozenset", "__builtin__.set", "__builtin__.frozenset":
            if let a = args.first, case .list(let l) = a { return list(l.items, tuple: false) }
            return list([], tuple: false)
        case "numpy.dtype":
            guard let d = args.first, let s = Unpickler.text(d) else { throw bad("numpy.dtype without a type string") }
            let o = object(name, args); o.npDescr = s
            return .object(o)
        case "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct":
            let o = object("numpy.ndarray", [])
            o.array = NumpyArray(shape: [0], descr: "|u1", fortran: false, data: [])
            return .object(o)
        case "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar":
            guard args.count == 2, case .object(let dt) = args[0], let descr = dt.npDescr,
                  case .bytes(let raw) = args[1] else { throw bad("numpy scalar with unexpected arguments") }
            let a = NumpyArray(shape: [], descr: descr, fortran: false, data: raw)
            let t = try a.tensor(dtype: .float64, what: what)
            try require(t.numel == 1, "\(what): numpy scalar of \(t.numel) elements")
            let v = t.value(at: 0)
            if descr.contains("f") { return .float(v) }
            if descr.contains("b") { return .bool(v != 0) }
            return .int(Int64(v))
        case "copyreg._reconstructor", "copy_reg._reconstructor":
            // copyreg._reconstructor(cls, base, state): an object of cls (inert)
            if let c = args.first, case .global(let cls) = c {
                let o = object(cls, Array(args.dropFirst()))
                return .object(o)
            }
            return .object(object(name, args))
        default:
            return .object(object(name, args))
        }
    }

    func build(_ target: PValue, _ state: PValue) throws {
        switch target {
        case .object(let o):
            if o.npDescr != nil {
                // numpy.dtype state: (version, byte order, ...)
                if case .list(let l) = state, l.items.count >= 2, let order = Unpickler.text(l.items[1]),
                   let d = o.npDescr {
                    let bare = d.first.map { "<>|=".contains($0) } == true ? String(d.dropFirst()) : d
                    o.npDescr = (order == ">" ? ">" : order == "|" ? "|" : "<") + bare
                }
                return
            }
            if o.array != nil {
                // ndarray state: (version, shape, dtype, is_fortran, raw bytes)
                guard case .list(let l) = state, l.items.count == 5, let shape = Unpickler.ints(l.items[1]),
                      case .object(let dt) = l.items[2], let descr = dt.npDescr,
                      case .bool(let fortran) = l.items[3] else { throw bad("numpy array state is not (version, shape, dtype, fortran, data)") }
                let data: [UInt8]
                switch l.items[4] {
                case .bytes(let raw): data = raw
                case .string(let s): data = try latin1(s)
                default: throw bad("numpy array of objects (only raw numeric data is read)")
                }
                o.array = NumpyArray(shape: shape, descr: descr, fortran: fortran, data: data)
                return
            }
            o.state = state
        case .dict, .tensor, .list:
            return    // attributes (e.g. a state dict's _metadata, a tensor's __dict__) are dropped
        default:
            throw bad("BUILD on a value that has no state")
        }
    }
}

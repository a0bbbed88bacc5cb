import CZip
#if canImport(Glibc)
import Glibc
#endif

/// PyTorch's `torch.save` files (`.pt`, `.pth`, Lightning's `.ckpt`): a zip archive
/// `<name>/data.pkl` (the pickled object), `<name>/data/<key>` (one raw little-endian storage
/// each), `<name>/byteorder` and `<name>/version`. The pickle is read by the restricted
/// `Unpickler`; storages come from their persistent ids
/// `('storage', torch.FloatStorage, key, location, numel)`. Tensors load as float32
/// (float16/bfloat16 converted), float64 stays float64, and integer/bool tensors become float64
/// when every value is exactly representable (else an error naming the file).
public enum TorchFile {
    /// Element type of a torch storage class: (kind, bytes per element, whether it loads as float64).
    static let storageTypes: [String: (RawElements.Kind, Int)] = [
        "FloatStorage": (.float, 4), "DoubleStorage": (.float, 8), "HalfStorage": (.float, 2),
        "BFloat16Storage": (.bfloat, 2), "LongStorage": (.signed, 8), "IntStorage": (.signed, 4),
        "ShortStorage": (.signed, 2), "CharStorage": (.signed, 1), "ByteStorage": (.unsigned, 1),
        "BoolStorage": (.bool, 1),
    ]

    /// Largest pickle read into memory (the tensors' bytes are separate entries).
    static let maxPickleBytes = 1 << 31

    public static func isZip(_ path: String) -> Bool {
        guard let f = fopen(path, "rb") else { return false }
        defer { fclose(f) }
        var m = [UInt8](repeating: 0, count: 4)
        let n = m.withUnsafeMutableBytes { fread($0.baseAddress, 1, 4, f) }
        return n == 4 && m == [0x50, 0x4B, 0x03, 0x04]
    }

    /// A tensor view `size`/`stride` at `offset` into the (flat) storage tensor `st`, checked
    /// to stay inside it.
    static func view(_ st: Tensor, offset: Int, size: [Int], stride: [Int], what: String) throws -> Tensor {
        try require(size.count == stride.count && size.count <= 64,
                    "\(what): tensor with \(size.count) sizes and \(stride.count) strides")
        try require(offset >= 0 && size.allSatisfy { $0 >= 0 } && stride.allSatisfy { $0 >= 0 },
                    "\(what): tensor with a negative offset, size or stride")
        let numel = try checkedCount(size)
        if numel > 0 {
            var last = offset
            for (s, t) in zip(size, stride) {
                let (m, o1) = (s - 1).multipliedReportingOverflow(by: t)
                let (a, o2) = last.addingReportingOverflow(m)
                try require(!o1 && !o2, "\(what): tensor view is out of range")
                last = a
            }
            try require(last < st.storage.count,
                        "\(what): tensor view (offset \(offset), size \(shapeString(size))) runs past its storage of \(st.storage.count) elements")
        }
        return Tensor(storage: st.storage, shape: size, strides: stride, offset: offset)
    }

    /// An open archive (libzip), closed on deinit.
    final class Archive {
        let z: OpaquePointer
        let path: String
        init(_ path: String) throws {
            self.path = path
            var err: Int32 = 0
            guard let z = zip_open(path, Int32(ZIP_RDONLY), &err) else {
                if access(path, R_OK) != 0 { throw SSLuaError("cannot open '\(path)': \(String(cString: strerror(errno)))") }
                throw SSLuaError("'\(path)' is not a valid PyTorch file: not a readable zip archive (libzip error \(err))")
            }
            self.z = z
        }
        deinit { zip_discard(z) }

        var names: [String] {
            let n = zip_get_num_entries(z, 0)
            guard n > 0 else { return [] }
            var out: [String] = []
            for i in 0..<min(n, 1 << 20) {
                if let c = zip_get_name(z, zip_uint64_t(i), 0) { out.append(String(cString: c)) }
            }
            return out
        }

        /// The bytes of entry `name` (at most `limit`), or its first `count` bytes into `dst`.
        func read(_ name: String, limit: Int, count: Int? = nil, into dst: UnsafeMutableRawPointer? = nil) throws -> [UInt8] {
            let idx = zip_name_locate(z, name, 0)
            guard idx >= 0 else { throw SSLuaError("'\(path)' is not a valid PyTorch file: no entry '\(name)'") }
            var st = zip_stat_t()
            guard zip_stat_index(z, zip_uint64_t(idx), 0, &st) == 0, st.valid & zip_uint64_t(ZIP_STAT_SIZE) != 0 else {
                throw SSLuaError("'\(path)' is not a valid PyTorch file: cannot read the size of '\(name)'")
            }
            guard st.size <= UInt64(limit) || (count != nil && st.size >= UInt64(count!)) else {
                throw SSLuaError("'\(path)' is not a valid PyTorch file: '\(name)' is \(st.size) bytes, more than the \(limit) expected")
            }
            let size = count ?? Int(st.size)
            guard let f = zip_fopen_index(z, zip_uint64_t(idx), 0) else {
                throw SSLuaError("'\(path)' is not a valid PyTorch file: cannot open '\(name)' (\(String(cString: zip_strerror(z))))")
            }
            defer { zip_fclose(f) }
            var out: [UInt8] = []
            if dst == nil {
                guard let p = malloc(max(size, 1)) else { throw SSLuaError("out of memory reading '\(path)'") }
                free(p)   // probe that the allocation can succeed before Array makes it
                out = [UInt8](repeating: 0, count: size)
            }
            var got = 0
            while got < size {
                let n: Int64 = dst != nil
                    ? zip_fread(f, dst! + got, zip_uint64_t(size - got))
                    : out.withUnsafeMutableBytes { zip_fread(f, $0.baseAddress! + got, zip_uint64_t(size - got)) }
                guard n > 0 else {
                    throw SSLuaError("'\(path)' is not a valid PyTorch file: '\(name)' is truncated or corrupt (\(String(cString: zip_file_strerror(f))))")
                }
                got += Int(n)
            }
            return out
        }

        func size(_ name: String) -> Int? {
            let idx = zip_name_locate(z, name, 0)
            guard idx >= 0 else { return nil }
            var st = zip_stat_t()
            guard zip_stat_index(z, zip_uint64_t(idx), 0, &st) == 0, st.valid & zip_uint64_t(ZIP_STAT_SIZE) != 0,
                  st.size < (1 << 46) else { return nil }
            return Int(st.size)
        }
    }

    /// Loads the object saved in `path` (its tensors converted to `dtype` when given).
    /// The returned unpickler owns the containers; call `dismantle()` when done with the value.
    public static func load(_ path: String, dtype wanted: DType? = nil) throws -> (PValue, Unpickler) {
        let what = "'\(path)'"
        if !isZip(path) {
            if let f = fopen(path, "rb") {
                var m = [UInt8](repeating: 0, count: 2)
                let n = m.withUnsafeMutableBytes { fread($0.baseAddress, 1, 2, f) }
                fclose(f)
                if n == 2 && m[0] == 0x80 {
                    throw SSLuaError("\(what) is in the legacy (pre-1.6) torch.save format, which is not read: re-save it with a current PyTorch")
                }
            }
        }
        let zipf = try Archive(path)
        let names = zipf.names
        guard let pkl = names.filter({ $0.hasSuffix("/data.pkl") && $0.split(separator: "/").count == 2 }).min() ??
                (names.contains("data.pkl") ? "data.pkl" : nil) else {
            throw SSLuaError("\(what) is not a valid PyTorch file: the archive has no <name>/data.pkl")
        }
        let prefix = String(pkl.dropLast("data.pkl".count))
        var big = false
        if zipf.size(prefix + "byteorder") != nil {
            let bo = String(decoding: try zipf.read(prefix + "byteorder", limit: 16), as: UTF8.self)
            big = bo.hasPrefix("big")
        }
        let pickle = try zipf.read(pkl, limit: maxPickleBytes)
        var storages: [String: Tensor] = [:]
        let loader: PersistentLoader = { pid in
            guard case .list(let l) = pid, l.items.count >= 5, Unpickler.text(l.items[0]) == "storage",
                  case .global(let cls) = l.items[1], let key = Unpickler.text(l.items[2]),
                  let numel = Unpickler.int(l.items[4]), numel >= 0 else {
                throw SSLuaError("\(what) is not a valid PyTorch file: unknown persistent id")
            }
            if let t = storages[key] { return .tensor(t) }
            let tname = cls.hasPrefix("torch.") ? String(cls.dropFirst(6)) : cls
            guard let (kind, size) = storageTypes[tname] else {
                throw SSLuaError("\(what): unsupported storage type '\(cls)'")
            }
            guard !key.contains("/"), !key.contains("..") else { throw SSLuaError("\(what): bad storage key '\(key)'") }
            let entry = prefix + "data/" + key
            guard let have = zipf.size(entry) else {
                throw SSLuaError("\(what) is not a valid PyTorch file: storage '\(key)' is missing")
            }
            let (need, o) = numel.multipliedReportingOverflow(by: size)
            guard !o, have >= need else {
                throw SSLuaError("\(what) is not a valid PyTorch file: storage '\(key)' has \(have) bytes, \(numel) elements of \(size) bytes expected")
            }
            let isF64 = kind == .float && size == 8
            let dt: DType = wanted ?? ((kind == .float && size != 8) || kind == .bfloat ? .float32 : .float64)
            let out = try Tensor(shape: [numel], dtype: dt, zeroed: false)
            if !big && dt == .float32 && kind == .float && size == 4 || !big && dt == .float64 && isF64 {
                if need > 0 { _ = try zipf.read(entry, limit: need, count: need, into: out.storage.raw) }
            } else {
                guard let buf = malloc(max(need, 1)) else { throw SSLuaError("out of memory reading \(what)") }
                defer { free(buf) }
                if need > 0 { _ = try zipf.read(entry, limit: need, count: need, into: buf) }
                if wanted == nil || dt == .float64 {
                    try RawElements.requireExact(UnsafeRawPointer(buf), count: numel, kind: kind, size: size, bigEndian: big,
                                                 what: "\(what) (tensor storage '\(key)')")
                }
                try RawElements.decode(UnsafeRawPointer(buf), count: numel, kind: kind, size: size, bigEndian: big, into: out)
            }
            storages[key] = out
            return .tensor(out)
        }
        let u = Unpickler(pickle, what: what, persistent: loader)
        do {
            let v = try u.load()
            return (v, u)
        } catch {
            u.dismantle()
            throw error
        }
    }

    /// A plain pickle file (no torch archive): NumPy arrays and data only.
    public static func loadPickle(_ path: String) throws -> (PValue, Unpickler) {
        let bytes = try FileIO.readAll(path)
        let u = Unpickler(bytes, what: "'\(path)'")
        do { return (try u.load(), u) } catch { u.dismantle(); throw error }
    }
}

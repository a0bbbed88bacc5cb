import CLua
import CLuaShim
import SSLuaCore

/// Natives of `sslua.aug`: `lua/sslua/aug.lua` builds the transform objects and
/// calls these through the private table `sslua._aug`. Errors name the public function
/// (`sslua.aug.functional.adjust_hue: ...`), not the private table.
enum AugBindings {
    static var libraries: [LuaLibrary] { [LuaLibrary("sslua._aug", functions)] }

    static func image(_ a: LuaArgs, _ i: Int32) throws -> AugImage {
        let t = try a.tensor(i)
        try require(t.dim == 3, "bad argument #\(i) (expected one image C x H x W, got a tensor of size \(shapeString(t.shape)))")
        try require(t.numel > 0, "bad argument #\(i) (empty image of size \(shapeString(t.shape)))")
        return try AugImage(tensor: t)
    }

    static func colorImage(_ a: LuaArgs, _ i: Int32) throws -> AugImage {
        let img = try image(a, i)
        try require(img.channels == 1 || img.channels == 3, "bad argument #\(i) (images must have 1 or 3 channels, got \(img.channels))")
        return img
    }

    /// `sslua.aug.functional.adjust_<what>(img, factor)`: a colour image and a factor >= 0.
    static func colorAdjustment(_ what: String, _ apply: @escaping (inout AugImage, Float) -> Void) -> LuaFunction {
        reportingErrors(as: "sslua.aug.functional.adjust_\(what)") { a in
            var img = try colorImage(a, 1)
            apply(&img, Float(try factor(a, 2, what: what)))
            return a.push(try img.tensor())
        }
    }

    static func factor(_ a: LuaArgs, _ i: Int32, what: String) throws -> Double {
        let f = try a.number(i)
        try require(f.isFinite && f >= 0, "\(what) factor must be a non-negative number, got \(f)")
        return f
    }

    /// A size given as `n` or `{h, w}`.
    static func size(_ a: LuaArgs, _ i: Int32) throws -> (Int, Int) {
        if a.isNumber(i) {
            let n = try a.integer(i)
            try require(n >= 1 && n <= 16384, "bad argument #\(i) (size must be in 1...16384, got \(n))")
            return (n, n)
        }
        let s = try a.intList(i)
        try require(s.count == 2 && s[0] >= 1 && s[1] >= 1 && s[0] <= 16384 && s[1] <= 16384,
                    "bad argument #\(i) (size must be a number or {height, width} in 1...16384)")
        return (s[0], s[1])
    }

    // MARK: transform specs (tables built by lua/sslua/aug.lua)

    static func pair(_ t: LuaTable, _ key: String, _ kind: String) throws -> (Double, Double)? {
        guard let v = try t.doubles(key) else { return nil }
        try require(v.count == 2 && v[0].isFinite && v[1].isFinite, "\(kind): '\(key)' must be a pair of numbers")
        return (v[0], v[1])
    }

    /// Reads the transform table at stack index `idx` into an `AugTransform`.
    static func spec(_ L: OpaquePointer, _ idx: Int32, depth: Int = 0) throws -> AugTransform {
        try require(depth < 64, "transforms nested too deeply")
        guard lua_type(L, idx) == LUA_TTABLE else { throw SSLuaError("expected a transform, got a \(String(cString: lua_typename(L, lua_type(L, idx))))") }
        let t = LuaTable(L: L, index: lua_absindex(L, idx), owner: "")
        guard let kind = try t.string("kind") else { throw SSLuaError("expected a transform from sslua.aug (a table with a 'kind')") }
        func prob() throws -> Double {
            let p = try t.number("p") ?? 0.5
            try require(p >= 0 && p <= 1, "\(kind): p must be in [0, 1], got \(p)")
            return p
        }
        switch kind {
        case "Compose":
            _ = t.pushField("transforms"); defer { sslua_pop(L, 1) }
            guard lua_type(L, -1) == LUA_TTABLE else { throw SSLuaError("Compose: 'transforms' must be a list") }
            let list = lua_absindex(L, -1)
            var out: [AugTransform] = []
            for k in 1...max(1, Int(lua_rawlen(L, list))) where lua_rawlen(L, list) > 0 {
                lua_rawgeti(L, list, lua_Integer(k)); defer { sslua_pop(L, 1) }
                out.append(try spec(L, -1, depth: depth + 1))
            }
            return .compose(out)
        case "RandomApply":
            let p = try prob()
            _ = t.pushField("transform"); defer { sslua_pop(L, 1) }
            return .randomApply(try spec(L, -1, depth: depth + 1), p: p)
        case "RandomResizedCrop":
            let size = try t.doubles("size") ?? []
            try require(size.isEmpty || (size.count == 2 && size.allSatisfy { $0 >= 1 && $0 == $0.rounded() && $0 <= 16384 }),
                        "RandomResizedCrop: size must be {height, width} of integers in 1...16384")
            let scale = try pair(t, "scale", kind) ?? (0.08, 1)
            let ratio = try pair(t, "ratio", kind) ?? (3.0 / 4.0, 4.0 / 3.0)
            try require(scale.0 > 0 && scale.0 <= scale.1, "RandomResizedCrop: scale must satisfy 0 < lo <= hi")
            try require(ratio.0 > 0 && ratio.0 <= ratio.1, "RandomResizedCrop: ratio must satisfy 0 < lo <= hi")
            return .randomResizedCrop(height: size.isEmpty ? 0 : Int(size[0]), width: size.isEmpty ? 0 : Int(size[1]),
                                      scale: scale, ratio: ratio)
        case "RandomHorizontalFlip":
            return .horizontalFlip(p: try prob())
        case "RandomGrayscale":
            return .grayscale(p: try prob())
        case "ColorJitter":
            let b = try pair(t, "brightness", kind), c = try pair(t, "contrast", kind)
            let s = try pair(t, "saturation", kind), h = try pair(t, "hue", kind)
            for (name, r) in [("brightness", b), ("contrast", c), ("saturation", s)] {
                if let r = r { try require(r.0 >= 0 && r.0 <= r.1, "ColorJitter: \(name) range must satisfy 0 <= lo <= hi") }
            }
            if let h = h { try require(h.0 >= -0.5 && h.0 <= h.1 && h.1 <= 0.5, "ColorJitter: hue range must lie in [-0.5, 0.5]") }
            return .colorJitter(brightness: b, contrast: c, saturation: s, hue: h)
        case "GaussianBlur":
            guard let k = try t.integer("kernel_size"), k >= 1, k % 2 == 1 else {
                throw SSLuaError("GaussianBlur: kernel_size must be an odd positive integer")
            }
            let sigma = try pair(t, "sigma", kind) ?? (0.1, 2.0)
            try require(sigma.0 > 0 && sigma.0 <= sigma.1, "GaussianBlur: sigma must satisfy 0 < lo <= hi")
            return .gaussianBlur(kernel: k, sigma: sigma)
        case "Rotate":
            guard let d = try pair(t, "degrees", kind), d.0 <= d.1, Swift.abs(d.0) <= 1e6, Swift.abs(d.1) <= 1e6 else {
                throw SSLuaError("Rotate: degrees must be {lo, hi} with lo <= hi, within +-1e6")
            }
            let mode = try t.string("interpolation") ?? "nearest"
            try require(mode == "nearest" || mode == "bilinear", "Rotate: interpolation must be 'nearest' or 'bilinear', got '\(mode)'")
            return .rotate(degrees: d, bilinear: mode == "bilinear")
        default:
            throw SSLuaError("unknown transform kind '\(kind)'")
        }
    }

    /// Resolves crops without an explicit size to the size of the images they receive.
    static func resolveSizes(_ t: AugTransform, _ s: (Int, Int, Int)) throws -> (AugTransform, (Int, Int, Int)) {
        switch t {
        case .compose(let ts):
            var cur = s, out: [AugTransform] = []
            for x in ts { let (r, o) = try resolveSizes(x, cur); out.append(r); cur = o }
            return (.compose(out), cur)
        case .randomApply(let x, let p):
            let (r, _) = try resolveSizes(x, s)
            let t2 = AugTransform.randomApply(r, p: p)
            return (t2, try t2.outputShape(s))
        case .randomResizedCrop(let h, let w, let scale, let ratio) where h == 0 || w == 0:
            let t2 = AugTransform.randomResizedCrop(height: s.1, width: s.2, scale: scale, ratio: ratio)
            return (t2, try t2.outputShape(s))
        default:
            return (t, try t.outputShape(s))
        }
    }

    static func pushRecord(_ L: OpaquePointer, _ r: AugRecord) {
        lua_createtable(L, 0, 14)
        lua_createtable(L, 0, 4)
        for (k, v) in [("top", r.crop.top + 1), ("left", r.crop.left + 1), ("height", r.crop.height), ("width", r.crop.width)] {
            lua_pushinteger(L, lua_Integer(v)); lua_setfield(L, -2, k)
        }
        lua_setfield(L, -2, "crop")
        func num(_ k: String, _ v: Double) { lua_pushnumber(L, v); lua_setfield(L, -2, k) }
        func bool(_ k: String, _ v: Bool) { lua_pushboolean(L, v ? 1 : 0); lua_setfield(L, -2, k) }
        num("area", r.area); num("aspect", r.aspect)
        bool("flip", r.flip); bool("jitter", r.jitter); bool("grayscale", r.grayscale)
        lua_createtable(L, Int32(r.order.count), 0)
        for (k, op) in r.order.enumerated() { lua_pushstring(L, op.name); lua_rawseti(L, -2, lua_Integer(k + 1)) }
        lua_setfield(L, -2, "order")
        num("brightness", r.brightness); num("contrast", r.contrast)
        num("saturation", r.saturation); num("hue", r.hue)
        if let s = r.sigma { num("sigma", s) }
        if let a = r.angle { num("angle", a) }
    }

    static func rng(_ a: LuaArgs, _ o: LuaTable?) throws -> RNG {
        guard let o = o else { return RNG.global }
        return try TensorBindings.rng(from: o, a) ?? RNG.global
    }

    // MARK: functions

    static let functions: [(String, LuaFunction)] = [
        ("apply", reportingErrors(as: "sslua.aug.apply") { a in
            let spec = try spec(a.L, 1)
            let images = try a.tensor(2)
            let o: LuaTable? = a.isTable(3) ? try a.table(3).checked(keys: ["record", "rng"]) : nil
            try require(images.dim == 3 || images.dim == 4, "expected images N x C x H x W (or one C x H x W), got a tensor of size \(shapeString(images.shape))")
            let s = images.dim == 4 ? (images.shape[1], images.shape[2], images.shape[3]) : (images.shape[0], images.shape[1], images.shape[2])
            let (t, _) = try resolveSizes(spec, s)
            let record = try o?.bool("record") ?? false
            let (out, recs) = try t.apply(images, rng: rng(a, o), record: record)
            a.push(out)
            if !record { return 1 }
            try a.newTable(narr: recs.count)
            for (i, r) in recs.enumerated() {
                pushRecord(a.L, r); lua_rawseti(a.L, -2, lua_Integer(i + 1))
                try checkLuaMemory()
            }
            return 2
        }),
        ("crop_params", reportingErrors(as: "sslua.aug.RandomResizedCrop.get_params") { a in
            let h = try a.integer(1), w = try a.integer(2)
            try require(h >= 1 && w >= 1 && h < 1 << 24 && w < 1 << 24, "image size must be positive, got \(h)x\(w)")
            let o = try a.table(3)
            let scale = try pair(o, "scale", "RandomResizedCrop") ?? (0.08, 1)
            let ratio = try pair(o, "ratio", "RandomResizedCrop") ?? (3.0 / 4.0, 4.0 / 3.0)
            try require(scale.0 > 0 && scale.0 <= scale.1, "scale must satisfy 0 < lo <= hi")
            try require(ratio.0 > 0 && ratio.0 <= ratio.1, "ratio must satisfy 0 < lo <= hi")
            let box = sampleCrop(height: h, width: w, scale: scale, ratio: ratio, rng: try rng(a, o))
            a.push(box.top + 1); a.push(box.left + 1); a.push(box.height); a.push(box.width); a.push(box.fallback)
            return 5
        }),
        ("hflip", reportingErrors(as: "sslua.aug.functional.hflip") { a in
            var img = try image(a, 1)
            img.flipHorizontal()
            return a.push(try img.tensor())
        }),
        ("resized_crop", reportingErrors(as: "sslua.aug.functional.resized_crop") { a in
            let img = try image(a, 1)
            let top = try a.integer(2), left = try a.integer(3), h = try a.integer(4), w = try a.integer(5)
            try require(h >= 1 && w >= 1, "crop height and width must be positive, got \(h)x\(w)")
            try require(top >= 1 && left >= 1 && h <= img.height && w <= img.width
                        && top <= img.height - h + 1 && left <= img.width - w + 1,
                        "crop box top=\(top) left=\(left) height=\(h) width=\(w) (1-based) does not fit in a \(img.height)x\(img.width) image")
            let (oh, ow) = try size(a, 6)
            return a.push(try img.resizedCrop(top: top - 1, left: left - 1, height: h, width: w, outHeight: oh, outWidth: ow).tensor())
        }),
        ("adjust_brightness", colorAdjustment("brightness") { img, f in img.adjustBrightness(f) }),
        ("adjust_contrast", colorAdjustment("contrast") { img, f in img.adjustContrast(f) }),
        ("adjust_saturation", colorAdjustment("saturation") { img, f in img.adjustSaturation(f) }),
        ("adjust_hue", reportingErrors(as: "sslua.aug.functional.adjust_hue") { a in
            var img = try colorImage(a, 1)
            let f = try a.number(2)
            try require(f >= -0.5 && f <= 0.5, "hue factor must be in [-0.5, 0.5], got \(f)")
            img.adjustHue(Float(f))
            return a.push(try img.tensor())
        }),
        ("rgb_to_grayscale", reportingErrors(as: "sslua.aug.functional.rgb_to_grayscale") { a in
            let img = try colorImage(a, 1)
            let c = try a.optInteger(2, 1)
            try require(c == 1 || c == 3, "channels must be 1 or 3, got \(c)")
            return a.push(try img.grayscale(channels: c).tensor())
        }),
        ("gaussian_blur", reportingErrors(as: "sslua.aug.functional.gaussian_blur") { a in
            let img = try image(a, 1)
            let k = try a.integer(2)
            try require(k >= 1 && k % 2 == 1, "kernel size must be an odd positive integer, got \(k)")
            try require(k / 2 < min(img.height, img.width), "kernel size \(k) is too large for a \(img.height)x\(img.width) image")
            let s = try a.number(3)
            try require(s > 0 && s.isFinite, "sigma must be positive, got \(s)")
            return a.push(try img.gaussianBlur(kernel: k, sigma: s).tensor())
        }),
        ("save_grid", reportingErrors(as: "sslua.aug.save_grid") { a in
            let images = try a.tensor(1)
            let path = try a.string(2)
            let o: LuaTable? = a.isTable(3) ? try a.table(3).checked(keys: ["nrow", "padding", "pad_value"]) : nil
            try PNG.saveGrid(images, path: path, nrow: try o?.integer("nrow") ?? 8,
                             padding: try o?.integer("padding") ?? 2, padValue: try o?.number("pad_value") ?? 0)
            return 0
        }),
        ("load_png", reportingErrors(as: "sslua.aug.load_png") { a in a.push(try PNG.read(a.string(1))) }),
        ("rotate", reportingErrors(as: "sslua.aug.functional.rotate") { a in
            let img = try image(a, 1)
            let angle = try a.number(2)
            try require(angle.isFinite, "angle must be finite")
            let mode = try (a.isTable(3) ? a.table(3).checked(keys: ["interpolation"]).string("interpolation") : nil) ?? "nearest"
            try require(mode == "nearest" || mode == "bilinear", "interpolation must be 'nearest' or 'bilinear', got '\(mode)'")
            return a.push(try img.rotated(degrees: angle, bilinear: mode == "bilinear").tensor())
        }),
    ]
}

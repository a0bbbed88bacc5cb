import CLua
import CLuaShim
import SSLuaCore

/// Natives of `sslua.nn` and `sslua.optim`, in the private table `sslua._nn`; the public
/// modules are written in Lua (`lua/sslua/nn.lua`, `lua/sslua/optim.lua`). Errors name the
/// public functional op (`sslua.nn.conv2d: ...`), since that is what users call.
enum NNBindings {
    static var libraries: [LuaLibrary] { [LuaLibrary("sslua._nn", functions)] }

    /// A size-like integer argument in `lo ..< 2^31`.
    static func size(_ a: LuaArgs, _ i: Int32, _ what: String, min lo: Int) throws -> Int {
        let v = try a.integer(i)
        guard v >= lo && v < (1 << 31) else { throw SSLuaError("\(what) must be at least \(lo), got \(v)") }
        return v
    }

    /// An optional tensor argument (nil or absent gives nil).
    static func optTensor(_ a: LuaArgs, _ i: Int32) throws -> Tensor? {
        if lua_type(a.L, i) <= LUA_TNIL { return nil }
        return try a.tensor(i)
    }

    static let functions: [(String, LuaFunction)] = [
        ("conv2d", reportingErrors(as: "sslua.nn.conv2d") { a in
            let x = try a.tensor(1), w = try a.tensor(2), b = try optTensor(a, 3)
            let s = (try size(a, 4, "stride", min: 1), try size(a, 5, "stride", min: 1))
            let p = (try size(a, 6, "padding", min: 0), try size(a, 7, "padding", min: 0))
            return a.push(try Tensor.conv2d(x, w, b, stride: s, padding: p))
        }),
        // `winograd([on])`: whether float32 3x3 stride-1 convs use Winograd; returns the old value
        ("winograd", reportingErrors(as: "sslua.nn.winograd") { a in
            let old = Tensor.winogradConvolutions
            if lua_type(a.L, 1) > LUA_TNIL { Tensor.winogradConvolutions = a.boolean(1) }
            return a.push(old)
        }),
        ("batch_norm", reportingErrors(as: "sslua.nn.batch_norm") { a in
            let x = try a.tensor(1)
            let opt = BatchNormOptions(training: a.boolean(6), momentum: try a.number(7),
                                       eps: try a.number(8), relu: a.boolean(9), sync: a.boolean(10))
            try require(opt.momentum >= 0 && opt.momentum <= 1, "momentum must be in [0, 1], got \(opt.momentum)")
            return a.push(try Tensor.batchNorm(x, weight: optTensor(a, 2), bias: optTensor(a, 3),
                                               runningMean: optTensor(a, 4), runningVar: optTensor(a, 5), opt))
        }),
        ("max_pool2d", reportingErrors(as: "sslua.nn.max_pool2d") { a in
            let x = try a.tensor(1)
            let k = (try size(a, 2, "kernel size", min: 1), try size(a, 3, "kernel size", min: 1))
            let s = (try size(a, 4, "stride", min: 1), try size(a, 5, "stride", min: 1))
            let p = (try size(a, 6, "padding", min: 0), try size(a, 7, "padding", min: 0))
            return a.push(try Tensor.maxPool2d(x, kernel: k, stride: s, padding: p))
        }),
        ("avg_pool2d", reportingErrors(as: "sslua.nn.avg_pool2d") { a in
            let x = try a.tensor(1)
            let k = (try size(a, 2, "kernel size", min: 1), try size(a, 3, "kernel size", min: 1))
            let s = (try size(a, 4, "stride", min: 1), try size(a, 5, "stride", min: 1))
            let p = (try size(a, 6, "padding", min: 0), try size(a, 7, "padding", min: 0))
            return a.push(try Tensor.avgPool2d(x, kernel: k, stride: s, padding: p, countIncludePad: a.boolean(8)))
        }),
        ("adaptive_avg_pool2d", reportingErrors(as: "sslua.nn.adaptive_avg_pool2d") { a in
            let x = try a.tensor(1)
            let o = (try size(a, 2, "output size", min: 1), try size(a, 3, "output size", min: 1))
            return a.push(try Tensor.adaptiveAvgPool2d(x, outputSize: o))
        }),
        ("linear", reportingErrors(as: "sslua.nn.linear") { a in
            a.push(try Tensor.linear(a.tensor(1), a.tensor(2), optTensor(a, 3)))
        }),
        ("add_relu", reportingErrors(as: "sslua.nn.add_relu") { a in
            a.push(try Tensor.addRelu(a.tensor(1), a.tensor(2)))
        }),
        ("sgd_update", reportingErrors(as: "sslua.optim.SGD") { a in
            try OptimKernels.sgd(a.tensor(1), a.tensor(2), optTensor(a, 3), lr: a.number(4), momentum: a.number(5),
                                 dampening: a.number(6), weightDecay: a.number(7), nesterov: a.boolean(8),
                                 first: a.boolean(9))
            return 0
        }),
        ("adam_update", reportingErrors(as: "sslua.optim.Adam") { a in
            try OptimKernels.adam(a.tensor(1), a.tensor(2), a.tensor(3), a.tensor(4), lr: a.number(5),
                                  beta1: a.number(6), beta2: a.number(7), eps: a.number(8),
                                  weightDecay: a.number(9), step: a.integer(10), decoupled: a.boolean(11))
            return 0
        }),
        ("lars_update", reportingErrors(as: "sslua.optim.LARS") { a in
            a.push(try OptimKernels.lars(a.tensor(1), a.tensor(2), a.tensor(3), lr: a.number(4),
                                         momentum: a.number(5), weightDecay: a.number(6), eta: a.number(7),
                                         adapt: a.boolean(8)))
        }),
    ]
}

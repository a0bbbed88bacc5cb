import CLua
import CLuaShim
import SSLuaCore

/// `sslua.lie` (paper Sec. 4): Lie-group models of augmentations.
///
///     lie.expm(A)                                 = sslua.linalg.expm
///     lie.so2(theta[, {dtype=}])                  2 x 2 rotation
///     lie.random_generator(d, {rank=, skew=false, rng=, dtype=})  entries N(0, 1/d)
///     lie.orbit(x, G, eps)                        expm(eps_k G) x: [K, d] (x a vector) or [K, n, d]
///     lie.one_hot_image(size, {rng=, dtype=})     [1, size, size], a single 1
///     lie.rotate(images, degrees)                 torchvision rotate (bilinear, about the centre,
///                                                 zeros outside); one angle or one per image
///     lie.kernel_alignment(W, G)                  ||W^T G||_F / (||W||_F ||G||_F): 0 iff G's columns
///                                                 lie in Ker(W^T), at most 1
enum LieBindings {
    static var libraries: [LuaLibrary] { [LuaLibrary("sslua.lie", functions)] }

    static let functions: [(String, LuaFunction)] = [
        ("expm", { a in a.push(try Linalg.expm(a.tensor(1))) }),
        ("so2", { a in a.push(try Lie.so2(a.number(1), dtype: TensorBindings.dtype(a.options(at: 2, keys: ["dtype"])))) }),
        ("random_generator", { a in
            let d = try a.integer(1)
            let o = try a.optionsArgument(2, keys: ["rank", "skew", "rng", "dtype"])
            return a.push(try Lie.randomGenerator(d, rank: o?.integer("rank"), skew: o?.bool("skew") ?? false,
                                                  rng: TensorBindings.rng(a, o), dtype: TensorBindings.dtype(o)))
        }),
        ("orbit", { a in
            a.push(try Lie.orbit(a.tensor(1), a.tensor(2), a.numbers(3, "eps")))
        }),
        ("one_hot_image", { a in
            let o = try a.options(at: 2, keys: ["rng", "dtype"])
            return a.push(try Rotate.oneHotImage(a.integer(1), rng: TensorBindings.rng(a, o), dtype: TensorBindings.dtype(o)))
        }),
        ("rotate", { a in a.push(try Rotate.rotate(a.tensor(1), a.numbers(2, "degrees"))) }),
        ("kernel_alignment", { a in a.push(try Lie.kernelAlignment(a.tensor(1), a.tensor(2))) }),
    ]
}

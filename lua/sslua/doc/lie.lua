-- Documentation of sslua.lie (Lie-group models of augmentations, paper section 4).
local DT = { "dtype", "string", "\"float32\"", "\"float32\" or \"float64\"" }
local RNG = { "rng", "generator", "the global one", "from sslua.rng(seed)" }
return {
  { "sslua.lie", "sslua.lie", "Lie-group models of augmentations: generators, orbits, rotations, kernel alignment." },
  { "sslua.lie.expm", "lie.expm(A)", "The matrix exponential (= sslua.linalg.expm).", ret = "a tensor", ex = "sslua.lie.expm(sslua.zeros(2, 2))" },
  { "sslua.lie.so2", "lie.so2(theta [, opts])", "The 2 x 2 rotation by theta radians.", opts = { DT }, ret = "a tensor", ex = "sslua.lie.so2(math.pi / 2)" },
  { "sslua.lie.random_generator", "lie.random_generator(d [, opts])", "A random d x d generator with entries N(0, 1/d), optionally of limited rank or skew-symmetric.",
    opts = { { "rank", "integer", "d", "rank of the generator" }, { "skew", "boolean", "false", "make it skew-symmetric (G^T = -G)" }, RNG, DT }, ret = "a tensor", ex = "sslua.lie.random_generator(4, {skew = true})" },
  { "sslua.lie.orbit", "lie.orbit(x, G, eps)", "The points expm(eps_k G) x for each eps_k: [K, d] for a vector x, [K, n, d] for n x d rows.", ret = "a tensor", ex = "sslua.lie.orbit(sslua.tensor{1, 0}, sslua.tensor{{0, -1}, {1, 0}}, {0, 0.5, 1})" },
  { "sslua.lie.one_hot_image", "lie.one_hot_image(size [, opts])", "A [1, size, size] image with a single 1 at a random pixel.", opts = { RNG, DT }, ret = "a tensor", ex = "sslua.lie.one_hot_image(8)" },
  { "sslua.lie.rotate", "lie.rotate(images, degrees)", "torchvision's rotate: bilinear, about the centre, zeros outside; one angle or one per image.", ret = "a tensor", ex = "sslua.lie.rotate(sslua.rand(2, 1, 8, 8), 30)" },
  { "sslua.lie.kernel_alignment", "lie.kernel_alignment(W, G)", "||W^T G||_F / (||W||_F ||G||_F): 0 iff G's columns lie in Ker(W^T), at most 1.", ret = "a number", ex = "sslua.lie.kernel_alignment(sslua.randn(4, 2), sslua.randn(4, 4))" },
}

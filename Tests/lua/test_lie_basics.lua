-- sslua.lie: expm of generators, so2, random generators, orbits, kernel alignment
-- (Props. 4.1/4.3), one-hot images and rotation against torchvision.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local S = sslua
local lie = S.lie
local fx = dofile("Tests/fixtures/math/lie.lua")
local D = { dtype = "float64" }
local function maxdiff(a, b) return (a - b):abs():max():item() end

-- expm(t G) of a skew generator is orthogonal with determinant 1, for small and large t
local rng = S.rng(5)
for _, d in ipairs { 2, 5, 16 } do
  local G = lie.random_generator(d, { skew = true, rng = rng, dtype = "float64" })
  check.truthy(maxdiff(G, -G:t()) == 0, "skew")
  for _, t in ipairs { 0.01, 1, 25, 300 } do
    local R = lie.expm(G * t)
    check.truthy(maxdiff(R:t():mm(R), S.eye(d, D)) < 1e-9, "expm(tG) orthogonal d=" .. d .. " t=" .. t)
    check.near(S.linalg.det(R):item(), 1, 1e-8)
  end
end
-- so2(theta) = expm(theta [[0,-1],[1,0]]) and rotates (1,0) to (cos, sin)
for _, th in ipairs { 0, 0.3, -2, 7 } do
  local R = lie.so2(th, D)
  check.near(R, lie.expm(S.tensor({ { 0, -th }, { th, 0 } }, D)), 1e-12)
  check.near(R:mm(S.tensor({ { 1 }, { 0 } }, D)), { { math.cos(th) }, { math.sin(th) } }, 1e-15)
end
check.eq(lie.so2(1):dtype(), "float32")

-- random generators: rank and determinism
check.eq(S.geom.rank(lie.random_generator(12, { rank = 3, rng = S.rng(1) })), 3)
check.eq(S.geom.rank(lie.random_generator(12, { rank = 4, skew = true, rng = S.rng(1) })), 4)
check.eq(S.geom.rank(lie.random_generator(12, { rng = S.rng(1), dtype = "float64" })), 12)
check.near(lie.random_generator(4, { rng = S.rng(9) }), lie.random_generator(4, { rng = S.rng(9) }), 0)

-- orbit: expm(eps_k G) x for each eps (vector and batch of rows)
do
  local G = lie.random_generator(3, { skew = true, rng = S.rng(2), dtype = "float64" })
  local x = S.tensor({ 1, 2, 3 }, D)
  local eps = { 0, 0.5, -1.25 }
  local o = lie.orbit(x, G, eps)
  check.eq(o:size(1), 3); check.eq(o:size(2), 3)
  for k, e in ipairs(eps) do
    local ref = lie.expm(G * e):mm(x:reshape(3, 1)):reshape(3)
    check.near(o[k], ref, 1e-12)
    check.near(math.sqrt((o[k] * o[k]):sum():item()), math.sqrt(14), 1e-12)   -- rotations keep the norm
  end
  local X = S.tensor({ { 1, 0, 0 }, { 0, 1, 1 } }, D)
  local ob = lie.orbit(X, G, S.tensor({ 0.7 }, D))
  check.eq(ob:dim(), 3)
  check.near(ob[1], X:mm(lie.expm(G * 0.7):t()), 1e-12)
end

-- kernel alignment: 0 when the columns of G lie in Ker(W^T), positive otherwise (Props. 4.1, 4.3)
do
  local d, p = 8, 3
  local B = S.linalg.qr(S.randn(d, d, { rng = S.rng(4), dtype = "float64" }))   -- orthonormal basis
  local W = B:narrow(2, 1, p):mm(S.randn(p, p, { rng = S.rng(5), dtype = "float64" }))  -- span of the first p
  local Gin = B:narrow(2, p + 1, d - p):mm(S.randn(d - p, 4, { rng = S.rng(6), dtype = "float64" }))
  check.truthy(lie.kernel_alignment(W, Gin) < 1e-14, "G in Ker(W^T): " .. lie.kernel_alignment(W, Gin))
  local Gout = S.randn(d, 4, { rng = S.rng(7), dtype = "float64" })
  local ka = lie.kernel_alignment(W, Gout)
  check.truthy(ka > 0.05 and ka <= 1, "generic G: " .. ka)
  -- hand value: ||W^T G||_F / (||W||_F ||G||_F) with W = e1, G = [e1 + e2]: 1 / sqrt(2)
  check.near(lie.kernel_alignment(S.tensor { { 1 }, { 0 } }, S.tensor { { 1 }, { 1 } }), 1 / math.sqrt(2), 1e-12)
  check.eq(type(ka), "number")
  -- a full square generator whose range is in Ker(W^T)
  local Gsq = Gin:mm(S.randn(4, d, { rng = S.rng(8), dtype = "float64" }))
  check.truthy(lie.kernel_alignment(W, Gsq) < 1e-14, "square G")
end

-- one-hot images
do
  local img = lie.one_hot_image(32, { rng = S.rng(3) })
  check.eq(img:dim(), 3); check.eq(img:size(2), 32); check.eq(img:sum():item(), 1); check.eq(img:max():item(), 1)
  check.near(img, lie.one_hot_image(32, { rng = S.rng(3) }), 0)
end

-- rotate against torchvision's rotate(img, angle, BILINEAR) (float32 grid there: 1e-5)
for _, c in ipairs(fx.rotate) do
  local out = lie.rotate(S.tensor(c.img), c.angle)
  check.near(out, c.out, 2e-5, "rotate " .. c.angle)
end
check.near(lie.rotate(S.tensor(fx.batch.img), fx.batch.angles), fx.batch.out, 2e-5, "per-image angles")
check.near(lie.rotate(S.tensor(fx.batch.img), S.tensor(fx.batch.angles)), fx.batch.out, 2e-5)
check.near(lie.rotate(S.tensor(fx.rotate[1].img, D), 0), fx.rotate[1].img, 1e-12, "identity")

local bad = {
  { function() return lie.expm(S.zeros(2, 3)) end, "sslua.lie.expm: expected a square matrix" },
  { function() return lie.so2("a") end, "sslua.lie.so2" },
  { function() return lie.random_generator(0) end, "sslua.lie.random_generator: dimension" },
  { function() return lie.random_generator(4, { rank = 5 }) end, "rank must be" },
  { function() return lie.random_generator(4, { rank = 3, skew = true }) end, "even rank" },
  { function() return lie.random_generator(4, { rng = 3 }) end, "rng" },
  { function() return lie.orbit(S.zeros(3), S.zeros(2, 3), { 1 }) end, "sslua.lie.orbit: G must be a square" },
  { function() return lie.orbit(S.zeros(4), S.zeros(3, 3), { 1 }) end, "x must be a vector of size 3" },
  { function() return lie.orbit(S.zeros(3), S.zeros(3, 3), "e") end, "sslua.lie.orbit" },
  { function() return lie.one_hot_image(0) end, "sslua.lie.one_hot_image" },
  { function() return lie.rotate(S.zeros(5), 10) end, "sslua.lie.rotate" },
  { function() return lie.rotate(S.zeros(2, 1, 4, 4), { 1, 2, 3 }) end, "3 angles for 2 images" },
  { function() return lie.rotate(S.zeros(4, 4), 0 / 0) end, "finite" },
  { function() return lie.kernel_alignment(S.randn(4, 2), S.randn(3, 2)) end, "sslua.lie.kernel_alignment: G has 3 rows" },
  { function() return lie.kernel_alignment(S.zeros(4, 2), S.randn(4, 2)) end, "W is zero" },
}
for _, b in ipairs(bad) do check.errors(b[1], b[2]) end
print("test_lie_basics: ok")

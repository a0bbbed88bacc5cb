-- Sampled parameters follow torchvision's distributions; records describe what was applied;
-- results do not depend on the thread count. Fixtures: Tests/fixtures/make_aug.py.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local aug = require "sslua.aug"
local F = aug.functional
local fx = dofile("Tests/fixtures/aug/params.lua")

-- two-sample Kolmogorov-Smirnov statistic (ties handled by stepping over equal values)
local function ks(a, b)
  table.sort(a); table.sort(b)
  local i, j, d = 1, 1, 0
  while i <= #a and j <= #b do
    local v = math.min(a[i], b[j])
    while i <= #a and a[i] == v do i = i + 1 end
    while j <= #b and b[j] == v do j = j + 1 end
    d = math.max(d, math.abs((i - 1) / #a - (j - 1) / #b))
  end
  return d
end
local function ks_critical(n, m) -- alpha = 0.001
  return math.sqrt(-0.5 * math.log(0.001 / 2)) * math.sqrt((n + m) / (n * m))
end
-- |observed - expected| within z standard errors of a binomial proportion
local function binomial_ok(k, n, p, what, z)
  z = z or 4.5
  local tol = z * math.sqrt(p * (1 - p) / n)
  local r = k / n
  if math.abs(r - p) > tol then
    error(string.format("%s: rate %.4f, expected %.4f +- %.4f", what, r, p, tol), 2)
  end
end

local function samples(t, n, seed)
  local g = sslua.rng(seed)
  local area, aspect, fallbacks = {}, {}, 0
  for i = 1, n do
    local top, left, h, w, fb = t:get_params(32, 32, { rng = g })
    assert(top >= 1 and left >= 1 and top + h - 1 <= 32 and left + w - 1 <= 32, "box inside the image")
    area[i], aspect[i] = h * w / 1024, w / h
    if fb then fallbacks = fallbacks + 1 end
  end
  return area, aspect, fallbacks
end
local function reference(name)
  local r = fx[name]
  local area, aspect = {}, {}
  for i = 1, #r.height do area[i] = r.height[i] * r.width[i] / 1024; aspect[i] = r.width[i] / r.height[i] end
  return area, aspect
end

-- crop area and aspect: KS against torchvision's own make_params
for _, case in ipairs { { "large", { 0.08, 1 } }, { "small", { 0.9, 1 } } } do
  local name, scale = case[1], case[2]
  local t = aug.RandomResizedCrop { size = 32, scale = scale }
  local a, r = samples(t, 4000, 11)
  local ra, rr = reference(name)
  local crit = ks_critical(#a, #ra)
  local da, dr = ks(a, ra), ks(r, rr)
  check.truthy(da < crit, string.format("%s crop area KS %.4f < %.4f", name, da, crit))
  check.truthy(dr < crit, string.format("%s crop aspect KS %.4f < %.4f", name, dr, crit))
end
-- the KS test can fail: a wrong scale range is rejected
do
  local a = samples(aug.RandomResizedCrop { size = 32, scale = { 0.2, 1 } }, 4000, 12)
  local ra = reference("large")
  check.truthy(ks(a, ra) > ks_critical(#a, #ra), "KS rejects scale {0.2, 1} against {0.08, 1}")
end

-- fallback rate of the small policy on 32x32 (torchvision: about 3.4%)
do
  local n = 20000
  local _, _, fb = samples(aug.RandomResizedCrop { size = 32, scale = { 0.9, 1 } }, n, 13)
  local p, m = fx.fallback_small, fx.fallback_small_n
  local tol = 4.5 * math.sqrt(p * (1 - p) * (1 / n + 1 / m))
  check.truthy(math.abs(fb / n - p) < tol,
    string.format("fallback rate %.4f vs torchvision %.4f (tol %.4f)", fb / n, p, tol))
  check.truthy(p > 0.025 and p < 0.045, "torchvision's fallback rate is about 3.4%")
end

-- policies are Table 2; jitter ranges equal torchvision's ColorJitter ranges
for name, r in pairs(fx.jitter) do
  local p = aug.policy(name)
  local cj
  for _, t in ipairs(p.transforms) do if t.kind == "RandomApply" then cj = t.transform; check.near(t.p, 0.8, 1e-12, "jitter p") end end
  for _, k in ipairs { "brightness", "contrast", "saturation", "hue" } do
    check.near(cj[k], r[k], 1e-9, name .. " " .. k .. " range")
  end
  local kinds = {}
  for i, t in ipairs(p.transforms) do kinds[i] = t.kind end
  local want = name == "small" and "RandomResizedCrop,RandomApply,RandomGrayscale"
    or "RandomResizedCrop,RandomHorizontalFlip,RandomApply,RandomGrayscale"
  check.eq(table.concat(kinds, ","), want, name .. " pipeline order")
  check.near(p.transforms[1].scale, ({ large = { 0.08, 1 }, moderate = { 0.5, 1 }, small = { 0.9, 1 } })[name], 1e-12, name .. " scale")
  check.near(p.transforms[#p.transforms].p, 0.2, 1e-12, name .. " grayscale p")
end

-- per-image records of the large policy
local N = 3000
local x = sslua.rand(N, 3, 8, 8, { rng = sslua.rng(5) })
local policy = aug.policy("large")
local y, rec = policy:apply(x, { rng = sslua.rng(6), record = true })
check.eq(#rec, N, "one record per image")
local keys = "area,aspect,brightness,contrast,crop,flip,grayscale,hue,jitter,order,saturation"
local flips, jit, grays = 0, 0, 0
local orders, norders = {}, 0
local lo, hi = { brightness = 9, contrast = 9, saturation = 9, hue = 9 }, { brightness = -9, contrast = -9, saturation = -9, hue = -9 }
for i, r in ipairs(rec) do
  local ks_ = {}
  for k in pairs(r) do ks_[#ks_ + 1] = k end
  table.sort(ks_)
  if i == 1 then check.eq(table.concat(ks_, ","), keys, "record keys") end
  check.near(r.area, r.crop.height * r.crop.width / 64, 1e-12, "area from crop")
  check.near(r.aspect, r.crop.width / r.crop.height, 1e-12, "aspect from crop")
  if r.flip then flips = flips + 1 end
  if r.grayscale then grays = grays + 1 end
  if r.jitter then
    jit = jit + 1
    check.eq(#r.order, 4, "four jitter operations")
    local key = table.concat(r.order, ",")
    if not orders[key] then orders[key] = 0; norders = norders + 1 end
    orders[key] = orders[key] + 1
    for k in pairs(lo) do lo[k] = math.min(lo[k], r[k]); hi[k] = math.max(hi[k], r[k]) end
  else
    check.eq(#r.order, 0, "no order without jitter")
    check.truthy(r.brightness == 1 and r.contrast == 1 and r.saturation == 1 and r.hue == 0, "neutral factors")
  end
end
binomial_ok(flips, N, 0.5, "flip p")
binomial_ok(jit, N, 0.8, "jitter p")
binomial_ok(grays, N, 0.2, "grayscale p")
check.eq(norders, 24, "all 24 jitter orders occur")
for key, c in pairs(orders) do binomial_ok(c, jit, 1 / 24, "order " .. key) end
for _, k in ipairs { "brightness", "contrast", "saturation" } do
  check.truthy(lo[k] >= 0.6 and lo[k] < 0.61 and hi[k] <= 1.4 and hi[k] > 1.39, k .. " range [0.6, 1.4]")
end
check.truthy(lo.hue >= -0.1 and lo.hue < -0.099 and hi.hue <= 0.1 and hi.hue > 0.099, "hue range [-0.1, 0.1]")

-- records describe exactly what was applied: rebuild images with aug.functional
local ops = { brightness = F.adjust_brightness, contrast = F.adjust_contrast, saturation = F.adjust_saturation, hue = F.adjust_hue }
for i = 1, 40 do
  local r = rec[i]
  local img = F.resized_crop(x[i], r.crop.top, r.crop.left, r.crop.height, r.crop.width, 8)
  if r.flip then img = F.hflip(img) end
  for _, op in ipairs(r.order) do img = ops[op](img, r[op]) end
  if r.grayscale then img = F.rgb_to_grayscale(img, 3) end
  check.near(y[i], img, 1e-6, "image " .. i .. " rebuilt from its record")
end

-- p of RandomApply, flip and grayscale at other values
do
  local n = 4000
  local imgs = sslua.rand(n, 1, 4, 4, { rng = sslua.rng(7) })
  local cases = {
    { aug.RandomApply(aug.RandomHorizontalFlip { p = 1 }, 0.3), "flip", 0.3 },
    { aug.RandomHorizontalFlip { p = 0.15 }, "flip", 0.15 },
    { aug.RandomGrayscale { p = 0.7 }, "grayscale", 0.7 },
    { aug.RandomApply({ aug.ColorJitter { brightness = 0.5 } }, 0.65), "jitter", 0.65 },
  }
  for i, c in ipairs(cases) do
    local _, rs = c[1]:apply(imgs, { rng = sslua.rng(100 + i), record = true })
    local k = 0
    for _, r in ipairs(rs) do if r[c[2]] then k = k + 1 end end
    binomial_ok(k, n, c[3], tostring(c[1]))
  end
end

-- Rotate and GaussianBlur: sampled ranges, and records that rebuild the images
do
  local imgs = sslua.rand(400, 3, 8, 8, { rng = sslua.rng(21) })
  local t = aug.Compose { aug.Rotate { degrees = 30, interpolation = "bilinear" }, aug.GaussianBlur { kernel_size = 3, sigma = { 0.2, 1.5 } } }
  local y, rs = t:apply(imgs, { rng = sslua.rng(22), record = true })
  local pos = 0
  for i, r in ipairs(rs) do
    check.truthy(r.angle >= -30 and r.angle <= 30, "angle range")
    check.truthy(r.sigma >= 0.2 and r.sigma <= 1.5, "sigma range")
    if r.angle > 0 then pos = pos + 1 end
    if i <= 10 then
      local want = F.gaussian_blur(F.rotate(imgs[i], r.angle, { interpolation = "bilinear" }), 3, r.sigma)
      check.near(y[i], want, 1e-6, "rotated+blurred image " .. i .. " rebuilt from its record")
    end
  end
  binomial_ok(pos, 400, 0.5, "angle sign")
end

-- ColorJitter with an operation left out: only the others are applied and recorded
do
  local _, rs = aug.ColorJitter { brightness = 0.3, hue = 0.2 }:apply(sslua.rand(50, 3, 4, 4), { rng = sslua.rng(8), record = true })
  for _, r in ipairs(rs) do
    check.eq(#r.order, 2, "two operations")
    check.truthy(r.contrast == 1 and r.saturation == 1, "left-out factors are neutral")
  end
end

-- same seed, same batch, bit for bit with 1 and 2 threads; different seeds differ
do
  local imgs = sslua.rand(64, 3, 32, 32, { rng = sslua.rng(9) })
  local p = aug.Compose { aug.policy("large"), aug.GaussianBlur { kernel_size = 3 }, aug.Rotate { degrees = 20, interpolation = "bilinear" } }
  local old = sslua.threads()
  sslua.threads(1)
  local a, ra = p:apply(imgs, { rng = sslua.rng(42), record = true })
  sslua.threads(2)
  local b, rb = p:apply(imgs, { rng = sslua.rng(42), record = true })
  sslua.threads(old)
  check.eq((a - b):abs():max():item(), 0, "1 and 2 threads give identical images")
  for i = 1, #ra do
    check.eq(ra[i].area, rb[i].area, "record area " .. i)
    check.eq(ra[i].hue, rb[i].hue, "record hue " .. i)
    check.eq(ra[i].angle, rb[i].angle, "record angle " .. i)
    check.eq(ra[i].sigma, rb[i].sigma, "record sigma " .. i)
  end
  local c = p:apply(imgs, { rng = sslua.rng(43) })
  check.truthy((a - c):abs():max():item() > 0.1, "another seed gives other views")
  local v1, v2, r1, r2 = aug.policy("large"):pair(imgs, { rng = sslua.rng(1), record = true })
  check.truthy((v1 - v2):abs():max():item() > 0.1, "pair gives two different views")
  check.eq(#r1, 64, "pair records 1"); check.eq(#r2, 64, "pair records 2")
  check.eq(v1:size(1), 64, "pair view size")
  local w1, w2 = aug.policy("large"):pair(imgs, { rng = sslua.rng(1) })
  check.eq((w1 - v1):abs():max():item(), 0, "pair is reproducible")
  -- one C x H x W image in, one out
  local one = aug.policy("small"):apply(imgs[1], { rng = sslua.rng(2) })
  check.eq(one:dim(), 3, "single image stays 3-d")
  -- explicit output size
  local small = aug.RandomResizedCrop { size = { 16, 12 } }:apply(imgs, { rng = sslua.rng(3) })
  check.eq(table.concat(small:shape(), "x"), "64x3x16x12", "crop output size")
  check.truthy(small:min():item() >= 0 and small:max():item() <= 1, "values stay in [0, 1]")
end

-- one-channel images (Fashion-MNIST): every policy applies, grayscale keeps one channel
do
  local g = sslua.rand(16, 1, 28, 28, { rng = sslua.rng(4) })
  for _, name in ipairs { "small", "moderate", "large" } do
    local y, rs = aug.policy(name):apply(g, { rng = sslua.rng(5), record = true })
    check.eq(table.concat(y:shape(), "x"), "16x1x28x28", name .. " on 1x28x28")
    check.eq(#rs, 16, name .. " records on gray images")
  end
  -- saturation and hue leave one-channel images unchanged, brightness does not
  local same = aug.ColorJitter { saturation = 0.9, hue = 0.4 }:apply(g, { rng = sslua.rng(6) })
  check.eq((same - g):abs():max():item(), 0, "saturation/hue on gray images")
end

-- printing
check.truthy(tostring(aug.policy("large")):find("RandomResizedCrop(size=input, scale=(0.08, 1)", 1, true), "policy prints")
check.truthy(tostring(aug.ColorJitter { hue = 0.1 }):find("hue=(-0.1, 0.1)", 1, true), "jitter prints")
check.truthy(tostring(aug.policy { crop = { 0.3, 1 }, jitter = 0.1, size = 28 }):find("size=28x28", 1, true), "custom policy prints")

-- bad inputs: Lua errors naming the function
local imgs = sslua.rand(2, 3, 8, 8)
local bad = {
  { function() aug.RandomResizedCrop { size = 8, scale = { 1, 0.5 } } end, "sslua.aug.RandomResizedCrop" },
  { function() aug.RandomResizedCrop { size = 0 } end, "sslua.aug.RandomResizedCrop" },
  { function() aug.RandomResizedCrop { size = 8, ratio = { -1, 2 } } end, "sslua.aug.RandomResizedCrop" },
  { function() aug.RandomHorizontalFlip { p = 2 } end, "sslua.aug.RandomHorizontalFlip" },
  { function() aug.RandomGrayscale { p = "a" } end, "sslua.aug.RandomGrayscale" },
  { function() aug.ColorJitter { hue = 0.7 } end, "sslua.aug.ColorJitter" },
  { function() aug.ColorJitter { brightness = -1 } end, "sslua.aug.ColorJitter" },
  { function() aug.ColorJitter { contrast = { 2, 1 } } end, "sslua.aug.ColorJitter" },
  { function() aug.RandomApply("x", 0.5) end, "sslua.aug.RandomApply" },
  { function() aug.RandomApply(aug.RandomGrayscale(), 1.5) end, "sslua.aug.RandomApply" },
  { function() aug.Compose { 1 } end, "sslua.aug.Compose" },
  { function() aug.Compose(3) end, "sslua.aug.Compose" },
  { function() aug.GaussianBlur { kernel_size = 4 } end, "sslua.aug.GaussianBlur" },
  { function() aug.GaussianBlur { kernel_size = 3, sigma = -1 } end, "sslua.aug.GaussianBlur" },
  { function() aug.Rotate {} end, "sslua.aug.Rotate" },
  { function() aug.Rotate { degrees = 10, interpolation = "cubic" } end, "sslua.aug.Rotate" },
  { function() aug.policy("huge") end, "sslua.aug.policy" },
  { function() aug.policy { crop = 3 } end, "sslua.aug.policy" },
  { function() aug.policy("large"):apply("x") end, "sslua.aug.apply" },
  { function() aug.policy("large"):apply(sslua.rand(8, 8)) end, "sslua.aug.apply" },
  { function() aug.policy("large"):apply(imgs, { rng = 3 }) end, "sslua.aug.apply" },
  { function() aug.policy("large"):apply(sslua.rand(2, 2, 8, 8)) end, "1 or 3 channels" },
  { function() aug.RandomApply(aug.RandomResizedCrop { size = 4 }, 0.5):apply(imgs) end, "RandomApply" },
  { function() aug.GaussianBlur { kernel_size = 21 }:apply(imgs) end, "too large" },
  { function() aug.RandomResizedCrop { size = 8 }:get_params(0, 8) end, "get_params" },
  { function() aug.RandomGrayscale().apply(3, imgs) end, "sslua.aug.apply" },
  { function() aug.policy("large"):pair(sslua.zeros(3)) end, "sslua.aug.apply" },
  { function() aug.Rotate { degrees = 1e300 }:apply(imgs) end, "sslua.aug.apply" },
  { function() aug.RandomResizedCrop { size = 1 << 40 }:apply(imgs) end, "sslua.aug.apply" },
}
for i, b in ipairs(bad) do check.errors(b[1], b[2], "bad call " .. i) end
print("test_aug_params: ok")

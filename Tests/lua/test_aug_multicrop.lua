-- sslua.aug.multicrop: view count and sizes, crop areas within each group's scale, the
-- recorded parameters and strength, determinism under a seed, options and errors.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local S = sslua
local aug = S.aug

local imgs = S.rand(6, 3, 32, 32, { rng = S.rng(5) })
local mc = aug.multicrop { global = { size = 24, scale = { 0.4, 1 }, n = 2 },
                           ["local"] = { size = 12, scale = { 0.05, 0.4 }, n = 4 } }
check.eq(mc.n_global, 2); check.eq(mc.n_local, 4)
check.eq(mc.strength, 0.5, "default colour policy 'large'")
check.eq(mc.global.strength, 0.5)
check.truthy(tostring(mc):find("2 global + 4 local", 1, true), "tostring")

local views, recs = mc:apply(imgs, { rng = S.rng(11), record = true })
check.eq(#views, 6); check.eq(#recs, 6)
for i, v in ipairs(views) do
  local side = i <= 2 and 24 or 12
  check.eq(v:size(1), 6); check.eq(v:size(2), 3); check.eq(v:size(3), side); check.eq(v:size(4), side)
  check.eq(#recs[i], 6, "one record per image")
  for _, r in ipairs(recs[i]) do
    check.eq(r.view, i)
    check.eq(r.group, i <= 2 and "global" or "local")
    -- the crop's area fraction, from its integer box, lies in the group's scale (up to the
    -- rounding of a 32-pixel side, or torchvision's central fallback for globals)
    local area = r.crop.height * r.crop.width / (32 * 32)
    check.near(r.area, area, 1e-12, "recorded area is the crop's")
    if i <= 2 then check.truthy(area >= 0.4 - 0.07 and area <= 1, "global area " .. area)
    else check.truthy(area >= 0.05 - 0.02 and area <= 0.4 + 0.05, "local area " .. area) end
    check.truthy(r.jitter ~= nil and r.flip ~= nil and r.grayscale ~= nil, "colour parameters recorded")
  end
end
-- views are independent draws: the two globals differ
check.truthy((views[1] - views[2]):abs():max():item() > 0, "globals differ")
-- same seed, same views
local again = mc:apply(imgs, { rng = S.rng(11) })
for i = 1, 6 do check.eq((again[i] - views[i]):abs():max():item(), 0, "deterministic view " .. i) end
-- call syntax
check.eq(#mc(imgs, { rng = S.rng(1) }), 6)

-- colour options: another policy, explicit overrides, globals only
do
  local m = aug.multicrop { global = { size = 16 }, policy = "small", grayscale = false }
  check.eq(m.n_global, 2, "default n = 2 globals"); check.eq(m.n_local, 0)
  check.eq(m.strength, 0.05)
  local v = m:apply(imgs, { rng = S.rng(3) })
  check.eq(#v, 2)
  local j = aug.multicrop { global = { size = 16, n = 1 }, ["local"] = { size = 8 }, jitter = 0, flip = false }
  check.eq(j.n_local, 4, "default n = 4 locals"); check.eq(j.strength, 0)
  check.eq(j["local"].scale, nil)
  check.eq(j["local"].transforms[1].scale[1], 0.05, "default local scale")
  check.eq(j.global.transforms[1].scale[1], 0.4, "default global scale")
  check.eq(#j.global.transforms, 2, "no flip, no jitter: crop + grayscale")
end

-- errors
check.errors(function() aug.multicrop { ["local"] = { size = 8 } } end, "sslua.aug.multicrop: global")
check.errors(function() aug.multicrop { global = { scale = { 0.4, 1 } } } end, "global.size is required")
check.errors(function() aug.multicrop { global = { size = 8, nn = 2 } } end, "unknown option 'nn'")
check.errors(function() aug.multicrop { global = { size = 8 }, locals = {} } end, "unknown option 'locals'")
check.errors(function() aug.multicrop { global = { size = 8 }, policy = "huge" } end, "unknown policy 'huge'")
check.errors(function() aug.multicrop { global = { size = 8, n = -1 } } end, "n must be")
check.errors(function() aug.multicrop { global = { size = 8, n = 0 } } end, "no views")
check.errors(function() mc:apply(imgs, { seed = 1 }) end, "unknown option 'seed'")
print("ok")

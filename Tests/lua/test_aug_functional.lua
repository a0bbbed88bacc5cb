-- aug.functional against torchvision's tensor backend (fixtures from Tests/fixtures/make_aug.py).
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local aug = require "sslua.aug"
local F = aug.functional
local fx = dofile("Tests/fixtures/aug/functional.lua")

local img8 = sslua.tensor(fx.img8)
local gray8 = sslua.tensor(fx.gray8)

-- the 3x32x32 input of the crop fixtures is an exact formula (same as make_aug.py)
local rows = {}
for c = 0, 2 do
  local plane = {}
  for y = 0, 31 do
    local row = {}
    for x = 0, 31 do row[x + 1] = ((c * 7 + y * 13 + x * 29 + y * x * 3) % 97) / 96 end
    plane[y + 1] = row
  end
  rows[c + 1] = plane
end
local img32 = sslua.tensor(rows)

local TOL = 1e-5

for i, case in ipairs(fx.crops) do
  local out = F.resized_crop(img32, case.top, case.left, case.height, case.width, case.size)
  check.eq(out:size(2), case.size[1], "crop " .. i .. " height")
  check.eq(out:size(3), case.size[2], "crop " .. i .. " width")
  check.near(out, case.out, TOL, "resized_crop case " .. i)
end
do
  local c = fx.crop_gray
  check.near(F.resized_crop(gray8, c.top, c.left, c.height, c.width, c.size), c.out, TOL, "resized_crop gray")
end
-- a square size may be given as a number
check.near(F.resized_crop(img32, 4, 6, 20, 14, 8), fx.crops[2].out, TOL, "resized_crop size as number")

for _, c in ipairs(fx.brightness) do check.near(F.adjust_brightness(img8, c.f), c.out, TOL, "brightness " .. c.f) end
for _, c in ipairs(fx.contrast) do check.near(F.adjust_contrast(img8, c.f), c.out, TOL, "contrast " .. c.f) end
for _, c in ipairs(fx.contrast_gray) do check.near(F.adjust_contrast(gray8, c.f), c.out, TOL, "contrast gray " .. c.f) end
for _, c in ipairs(fx.saturation) do check.near(F.adjust_saturation(img8, c.f), c.out, TOL, "saturation " .. c.f) end
for _, c in ipairs(fx.hue) do check.near(F.adjust_hue(img8, c.f), c.out, TOL, "hue " .. c.f) end
check.near(F.rgb_to_grayscale(img8, 1), fx.grayscale1, TOL, "grayscale 1 channel")
check.near(F.rgb_to_grayscale(img8, 3), fx.grayscale3, TOL, "grayscale 3 channels")
check.near(F.rgb_to_grayscale(img8), fx.grayscale1, TOL, "grayscale default channels")
check.near(F.hflip(img8), fx.hflip, 1e-6, "hflip")
for _, c in ipairs(fx.blur) do check.near(F.gaussian_blur(img8, c.k, c.sigma), c.out, TOL, "blur k=" .. c.k) end
for _, c in ipairs(fx.rotate) do
  check.near(F.rotate(img8, c.angle, { interpolation = c.mode }), c.out, TOL, "rotate " .. c.angle .. " " .. c.mode)
end

-- one-channel images: saturation and hue do nothing (torchvision matches PIL)
check.near(F.adjust_saturation(gray8, 0.3), gray8, 0, "saturation on gray")
check.near(F.adjust_hue(gray8, 0.3), gray8, 0, "hue on gray")
-- identities
check.near(F.adjust_hue(img8, 0), img8, 2e-6, "hue 0 is the identity")
check.near(F.adjust_brightness(img8, 1), img8, 0, "brightness 1 is the identity")
check.near(F.resized_crop(img8, 1, 1, 8, 8, 8), img8, 0, "full crop at the same size")

-- inputs are not modified
check.near(img8, fx.img8, 1e-6, "input unchanged")

-- bad arguments: Lua errors naming the function
local bad = {
  { function() F.hflip(sslua.zeros(3, 4)) end, "sslua.aug.functional.hflip" },
  { function() F.hflip("x") end, "sslua.aug.functional.hflip" },
  { function() F.resized_crop(img8, 0, 1, 4, 4, 4) end, "sslua.aug.functional.resized_crop" },
  { function() F.resized_crop(img8, 5, 5, 8, 8, 4) end, "does not fit" },
  { function() F.resized_crop(img8, 1, 1, 4, 4, 0) end, "size must be in 1...16384" },
  { function() F.resized_crop(img8, 1, 1, 4, 4, { 3 }) end, "sslua.aug.functional.resized_crop" },
  { function() F.adjust_brightness(img8, -1) end, "sslua.aug.functional.adjust_brightness" },
  { function() F.adjust_brightness(sslua.zeros(2, 4, 4), 1) end, "1 or 3 channels" },
  { function() F.adjust_contrast(img8, "a") end, "sslua.aug.functional.adjust_contrast" },
  { function() F.adjust_saturation(img8, -0.5) end, "sslua.aug.functional.adjust_saturation" },
  { function() F.adjust_hue(img8, 0.6) end, "sslua.aug.functional.adjust_hue" },
  { function() F.rgb_to_grayscale(img8, 2) end, "sslua.aug.functional.rgb_to_grayscale" },
  { function() F.gaussian_blur(img8, 4, 1) end, "sslua.aug.functional.gaussian_blur" },
  { function() F.gaussian_blur(img8, 3, 0) end, "sigma must be positive" },
  { function() F.gaussian_blur(img8, 17, 1) end, "too large" },
  { function() F.rotate(img8, 0 / 0) end, "sslua.aug.functional.rotate" },
  { function() F.rotate(img8, 10, { interpolation = "cubic" }) end, "sslua.aug.functional.rotate" },
  { function() F.hflip(sslua.zeros(3, 0, 4)) end, "empty image" },
  { function() F.resized_crop(img8, 1, 1, 4, 4, 1 << 62) end, "sslua.aug.functional.resized_crop" },
  { function() F.resized_crop(img8, 1, 1, 4, 4, { 1 << 62, 1 << 62 }) end, "sslua.aug.functional.resized_crop" },
  { function() F.resized_crop(img8, math.maxinteger, 1, math.maxinteger, 4, 4) end, "does not fit" },
  { function() F.resized_crop(img8, 2, math.mininteger, 4, 4, 4) end, "does not fit" },
}
for i, b in ipairs(bad) do check.errors(b[1], b[2], "bad call " .. i) end
print("test_aug_functional: ok")

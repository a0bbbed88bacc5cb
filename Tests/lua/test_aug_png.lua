-- aug.save_grid / aug.load_png: round trip through libpng, layout of torchvision's make_grid.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local aug = require "sslua.aug"

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p '" .. dir .. "'"))

local imgs = sslua.rand(5, 3, 8, 6, { rng = sslua.rng(1) })
local file = dir .. "/grid.png"
aug.save_grid(imgs, file, { nrow = 2, padding = 2, pad_value = 1 })
local g = aug.load_png(file)
-- 2 columns x 3 rows of 8x6 images with 2 pixels of padding
check.eq(table.concat(g:shape(), "x"), "3x32x18", "grid size")
local function q(v) return math.floor(math.min(math.max(v * 255 + 0.5, 0), 255)) / 255 end
for i = 1, 5 do
  local row, col = (i - 1) // 2, (i - 1) % 2
  for c = 1, 3 do
    for _, yx in ipairs { { 1, 1 }, { 8, 6 }, { 3, 4 } } do
      local y, x = yx[1], yx[2]
      local got = g:get(c, row * 10 + 2 + y, col * 8 + 2 + x)
      check.near(got, q(imgs:get(i, c, y, x)), 1e-6, string.format("image %d channel %d pixel %d,%d", i, c, y, x))
    end
  end
end
check.eq(g:get(1, 1, 1), 1, "padding value")
check.eq(g:get(2, 32, 18), 1, "empty cell is padding")
-- no temporary file left behind
local p = io.popen("ls '" .. dir .. "'")
local listing = p:read("a"); p:close()
check.eq(listing, "grid.png\n", "only the PNG is left")

-- a single gray image round-trips exactly at 8-bit values
local gray = sslua.tensor({ { { 0, 1 / 255, 128 / 255 }, { 1, 0.5, 254 / 255 } } })
aug.save_grid(gray, dir .. "/gray.png", { padding = 0 })
local back = aug.load_png(dir .. "/gray.png")
check.eq(table.concat(back:shape(), "x"), "1x2x3", "gray PNG shape")
check.near(back, { { { 0, 1 / 255, 128 / 255 }, { 1, 128 / 255, 254 / 255 } } }, 1e-7, "gray values")

-- an augmented batch can be looked at
aug.save_grid(aug.policy("large"):apply(imgs, { rng = sslua.rng(2) }), dir .. "/aug.png")
check.eq(aug.load_png(dir .. "/aug.png"):size(1), 3, "augmented grid")

-- errors name the function and the file; a failed write leaves the old file intact
check.errors(function() aug.load_png(dir .. "/missing.png") end, dir .. "/missing.png", "missing file")
local f = assert(io.open(dir .. "/notpng.png", "wb")); f:write("definitely not a png"); f:close()
check.errors(function() aug.load_png(dir .. "/notpng.png") end, "sslua.aug.load_png", "not a PNG")
check.errors(function() aug.save_grid(imgs, dir .. "/nodir/x.png") end, dir .. "/nodir/x.png", "no such directory")
check.errors(function() aug.save_grid("x", file) end, "sslua.aug.save_grid", "not a tensor")
check.errors(function() aug.save_grid(imgs, 3) end, "sslua.aug.save_grid", "path not a string")
check.errors(function() aug.save_grid(imgs, file, { nrow = 0 }) end, "nrow", "nrow 0")
check.errors(function() aug.save_grid(sslua.rand(2, 2, 4, 4), file) end, "1 or 3 channels", "2 channels")
check.errors(function() aug.save_grid(sslua.rand(4, 4), file) end, "sslua.aug.save_grid", "2-d tensor")
check.errors(function() aug.save_grid(imgs, file, { padding = -1 }) end, "padding", "negative padding")
check.errors(function() aug.load_png(3) end, "sslua.aug.load_png", "path not a string")
check.eq(table.concat(aug.load_png(file):shape(), "x"), "3x32x18", "old file intact after failed writes")

os.execute("rm -rf '" .. dir .. "'")
print("test_aug_png: ok")

-- data.textures: determinism (seed, threads), label structure (balanced classes crossed with
-- balanced hue bins), and the nuisance being what it claims: the hue bin is readable from the
-- pixels' colour while the class is not, and the class texture survives a horizontal flip.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local data = require "sslua.data"

local old = sslua.threads()
sslua.threads(1)
local a = data.textures { n = 320, seed = 7 }
sslua.threads(2)
local b = data.textures { n = 320, seed = 7 }
sslua.threads(old)
check.eq(table.concat(a.images:shape(), "x"), "320x3x16x16", "textures shape (default size 16)")
check.eq((a.images - b.images):abs():max():item(), 0, "same seed, same images with 1 and 2 threads")
check.eq((a.labels - b.labels):abs():max():item(), 0, "same labels")
check.eq((a.nuisance_labels - b.nuisance_labels):abs():max():item(), 0, "same nuisance labels")
local c = data.textures { n = 320, seed = 8 }
check.truthy((a.images - c.images):abs():max():item() > 0.5, "another seed, other images")
check.truthy(a.images:min():item() >= 0 and a.images:max():item() <= 1, "values in [0, 1]")
check.eq(#a.classes, 8, "8 classes")
check.eq(a.classes[1], "horizontal_stripes", "class names")
check.eq(#a.nuisance_classes, 4, "4 hue bins")
check.eq(a.coarse_labels, nil, "no coarse labels")
check.eq(table.concat(data.textures { n = 4, seed = 1, size = 24 }.images:shape(), "x"), "4x3x24x24", "size option")

-- labels: 320 = 10 x (8 classes x 4 bins): every (class, bin) cell holds exactly 10 images.
local cells = {}
local ls, ns = a.labels:totable(), a.nuisance_labels:totable()
for i = 1, #ls do
  local k = math.tointeger(ls[i]) * 10 + math.tointeger(ns[i])
  cells[k] = (cells[k] or 0) + 1
end
for l = 1, 8 do
  for h = 1, 4 do check.eq(cells[l * 10 + h], 10, "cell class " .. l .. " hue bin " .. h) end
end

-- Mean colour of each image: its hue grows with the hue bin (the palette runs from red-orange
-- towards yellow-green: hue = 0.05 + 0.2 * (bin - 1 + U) / 4), and is about the same per class.
local big = data.textures { n = 1024, seed = 3 }
local m = big.images:mean(4):mean(3):double():totable()   -- n x 3 mean R, G, B
local function hue(r, g, bl)
  local mx, mn = math.max(r, g, bl), math.min(r, g, bl)
  if mx - mn < 1e-9 then return 0 end
  local h
  if mx == r then h = ((g - bl) / (mx - mn)) % 6 elseif mx == g then h = (bl - r) / (mx - mn) + 2 else h = (r - g) / (mx - mn) + 4 end
  return h / 6
end
local bl, bn = big.labels:totable(), big.nuisance_labels:totable()
local by_bin, by_class, nb, nc = { 0, 0, 0, 0 }, {}, { 0, 0, 0, 0 }, {}
local lo, hi = { 1, 1, 1, 1 }, { 0, 0, 0, 0 }
for i = 1, #bl do
  local h = hue(m[i][1], m[i][2], m[i][3])
  local j, k = math.tointeger(bn[i]), math.tointeger(bl[i])
  by_bin[j] = by_bin[j] + h; nb[j] = nb[j] + 1
  lo[j] = math.min(lo[j], h); hi[j] = math.max(hi[j], h)
  by_class[k] = (by_class[k] or 0) + h; nc[k] = (nc[k] or 0) + 1
end
for j = 1, 4 do
  local want = 0.05 + 0.05 * (j - 0.5)
  check.truthy(math.abs(by_bin[j] / nb[j] - want) < 0.01, string.format("bin %d mean hue %.3f near %.3f", j, by_bin[j] / nb[j], want))
  check.truthy(lo[j] > 0.05 + 0.05 * (j - 1) - 0.01 and hi[j] < 0.05 + 0.05 * j + 0.01, "bin " .. j .. " hues inside its bin")
end
local overall = 0
for j = 1, 4 do overall = overall + by_bin[j] end
overall = overall / #bl
for k = 1, 8 do
  check.truthy(math.abs(by_class[k] / nc[k] - overall) < 0.01, "class " .. k .. " mean hue near the overall mean")
end

-- The textures are flip-invariant classes: a horizontally flipped horizontal-stripes image still
-- has its contrast across rows (not columns); vertical stripes across columns.
local function row_col_energy(img)   -- mean abs difference between adjacent rows / columns (luma)
  local y = img:select(1, 1) * 0.299 + img:select(1, 2) * 0.587 + img:select(1, 3) * 0.114
  local s = y:size(1)
  local dr = (y:narrow(1, 2, s - 1) - y:narrow(1, 1, s - 1)):abs():mean():item()
  local dc = (y:narrow(2, 2, s - 1) - y:narrow(2, 1, s - 1)):abs():mean():item()
  return dr, dc
end
local seen = {}
for i = 1, #bl do
  local k = math.tointeger(bl[i])
  if (k == 1 or k == 2) and (seen[k] or 0) < 20 then
    seen[k] = (seen[k] or 0) + 1
    local dr, dc = row_col_energy(big.images:select(1, i))
    if k == 1 then check.truthy(dr > 2 * dc, "horizontal stripes vary across rows") else check.truthy(dc > 2 * dr, "vertical stripes vary across columns") end
  end
end

-- errors name the function
for _, bad in ipairs({ { n = -1 }, { size = 4 }, { hue_spread = 0 }, { period = { 0.3, 0.1 } }, { period = "x" }, { seed = 1.5 } }) do
  local ok, err = pcall(data.textures, bad)
  check.truthy(not ok and tostring(err):find("textures", 1, true), "bad option: " .. tostring(err))
end
print("ok")

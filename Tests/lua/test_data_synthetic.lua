-- data.synthetic, data.subset and ds:batches.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local data = require "sslua.data"

local old = sslua.threads()
sslua.threads(1)
local a = data.synthetic { n = 320, seed = 7 }
sslua.threads(2)
local b = data.synthetic { n = 320, seed = 7 }
sslua.threads(old)
check.eq(table.concat(a.images:shape(), "x"), "320x3x32x32", "synthetic shape")
check.eq((a.images - b.images):abs():max():item(), 0, "same seed, same images with 1 and 2 threads")
check.eq((a.labels - b.labels):abs():max():item(), 0, "same labels")
local c = data.synthetic { n = 320, seed = 8 }
check.truthy((a.images - c.images):abs():max():item() > 0.5, "another seed, other images")
check.truthy(a.images:min():item() >= 0 and a.images:max():item() <= 1, "values in [0, 1]")
check.eq(#a.classes, 16, "16 fine classes")
check.eq(#a.coarse_classes, 4, "4 coarse classes")
check.eq(table.concat(data.synthetic { n = 4, seed = 1, size = 16 }.images:shape(), "x"), "4x3x16x16", "size option")

-- balanced fine labels; coarse label = shape family of the fine label
local counts = {}
local labels, coarse = a.labels:totable(), a.coarse_labels:totable()
for i = 1, #labels do
  local l = math.tointeger(labels[i])
  counts[l] = (counts[l] or 0) + 1
  check.eq(math.tointeger(coarse[i]), (l - 1) // 4 + 1, "coarse label of fine " .. l)
  local fam = a.classes[l]:match("^[^/]+")
  check.truthy(fam ~= nil, "class name")
end
for l = 1, 16 do check.eq(counts[l], 20, "class " .. l .. " count") end
check.eq(a.classes[2], "disk/striped", "class names are shape/pattern")
check.eq(a.coarse_classes[1], "round", "family names")

-- colour is a nuisance: the mean colour of a class is close to the mean over all images
do
  local big = data.synthetic { n = 1600, seed = 3, size = 16 }
  local mean_all = big.images:mean():item()
  local ls = big.labels:totable()
  for l = 1, 16 do
    local idx = {}
    for i = 1, #ls do if ls[i] == l then idx[#idx + 1] = i end end
    local sub = sslua._data.gather(big.images, idx)
    check.truthy(math.abs(sub:mean():item() - mean_all) < 0.06, "class " .. l .. " mean brightness near the overall mean")
  end
end

-- subset: random n, per class, indices into the parent
do
  local s = data.subset(a, 50, { rng = sslua.rng(1) })
  check.eq(#s, 50, "subset size")
  check.eq(#s.indices, 50, "subset indices")
  for i = 2, 50 do check.truthy(s.indices[i] > s.indices[i - 1], "subset keeps dataset order") end
  local j = s.indices[17]
  check.eq((s.images[17] - a.images[j]):abs():max():item(), 0, "subset image = parent image")
  check.eq(s.labels:get(17), a.labels:get(j), "subset label = parent label")
  check.eq(s.coarse_labels:get(17), a.coarse_labels:get(j), "subset coarse label")
  local s2 = data.subset(a, 50, { rng = sslua.rng(1) })
  check.eq(table.concat(s2.indices, ","), table.concat(s.indices, ","), "subset reproducible with rng")
  local pc = data.subset(a, 3, { rng = sslua.rng(2), per_class = true })
  check.eq(#pc, 48, "3 per class x 16")
  local pcount = {}
  for _, l in ipairs(pc.labels:totable()) do pcount[l] = (pcount[l] or 0) + 1 end
  for l = 1, 16 do check.eq(pcount[l], 3, "per-class count " .. l) end
  check.eq(#data.subset(a, 0), 0, "empty subset")
  check.errors(function() data.subset(a, 321) end, "sslua.data.subset", "too many")
  check.errors(function() data.subset(a, 21, { per_class = true }) end, "fewer than 21", "too many per class")
  check.errors(function() data.subset({}, 2) end, "sslua.data.subset", "not a dataset")
  check.errors(function() data.subset(a, 1.5) end, "sslua.data.subset", "n not an integer")
  check.errors(function() data.subset(a, 2, { rng = 5 }) end, "rng", "bad rng")
end

-- batches: sizes, drop_last, shuffle covers each index once, reproducible with rng
do
  local s = data.subset(a, 50, { rng = sslua.rng(1) })
  local sizes, seen, total = {}, {}, 0
  for images, labels, idx in s:batches { size = 16 } do
    sizes[#sizes + 1] = images:size(1)
    check.eq(labels:size(1), images:size(1), "labels per batch")
    for k, i in ipairs(idx:totable()) do
      seen[i] = true
      total = total + 1
      if k == 1 then check.eq((images[1] - s.images[math.tointeger(i)]):abs():max():item(), 0, "batch image matches index") end
    end
  end
  check.eq(table.concat(sizes, ","), "16,16,16,2", "batch sizes")
  check.eq(total, 50, "all examples once")
  local n = 0
  for _ in s:batches { size = 16, drop_last = true } do n = n + 1 end
  check.eq(n, 3, "drop_last")
  local function order(seed)
    local o = {}
    for _, _, idx in s:batches { size = 7, shuffle = true, rng = sslua.rng(seed) } do
      for _, i in ipairs(idx:totable()) do o[#o + 1] = math.tointeger(i) end
    end
    return o
  end
  local o1, o2, o3 = order(5), order(5), order(6)
  check.eq(table.concat(o1, ","), table.concat(o2, ","), "shuffle reproducible")
  check.truthy(table.concat(o1, ",") ~= table.concat(o3, ","), "another seed, another order")
  local sorted = table.move(o1, 1, #o1, 1, {})
  table.sort(sorted)
  for i = 1, 50 do check.eq(sorted[i], i, "shuffle is a permutation") end
  check.truthy(table.concat(o1, ",") ~= table.concat(sorted, ","), "shuffle changes the order")
  check.errors(function() s:batches { size = 0 } end, "sslua.data.batches", "bad size")
  check.errors(function() s:batches(5) end, "sslua.data.batches", "bad options")
  check.errors(function() s.batches({}, {}) end, "sslua.data.batches", "not a dataset")
end

check.errors(function() data.synthetic { n = -1 } end, "sslua.data.synthetic", "negative n")
check.errors(function() data.synthetic { n = 1 << 62 } end, "too large", "huge n")
check.errors(function() data.synthetic { n = 4, size = 4 } end, "sslua.data.synthetic", "size too small")
check.errors(function() data.synthetic { n = 4, seed = 0.5 } end, "sslua.data.synthetic", "seed not an integer")
check.errors(function() data.synthetic("x") end, "sslua.data.synthetic", "options type")
check.errors(function() sslua._data.gather(a.images, { 0 }) end, "out of range", "gather index")
print("test_data_synthetic: ok")

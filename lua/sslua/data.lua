-- sslua.data: datasets as tables of tensors.
--
-- A dataset has `images` (N x C x H x W float32 in [0, 1]), `labels` (1-based, float),
-- optionally `coarse_labels`, `classes` (names), `#ds`, and `ds:batches{...}`.
-- File readers and the synthetic generator are native (sslua._data).
local sslua, util = require "sslua", require "sslua.util"
local C = sslua._data
-- errors "sslua.data.<fn>: ...", and the options of `fn` checked against a spec, at the caller
local fail, opts_of = util.failer("sslua.data."), util.options_checker("sslua.data.")

local data = {}

local Dataset = util.class("sslua.data.Dataset")
data.Dataset = Dataset

local reader_spec = { root = "string", train = "boolean" }

-- Calls a native reader; its error is re-raised at the caller of the public function (level 3)
-- without this file's position.
local function native(f, ...)
  local r = table.pack(pcall(f, ...))
  if not r[1] then
    local msg = tostring(r[2]):gsub("^[^:]*data%.lua:%d+: ", "")
    error(msg, 3)
  end
  return table.unpack(r, 2, r.n)
end

local function new_dataset(fields)
  fields.n = fields.images:size(1)
  return setmetatable(fields, Dataset)
end

Dataset.__len = function(ds) return ds.n end

Dataset.__tostring = function(ds)
  local s = ds.images:shape()
  return string.format("Dataset %s%s: %d images %s, %d classes%s", ds.name or "?",
    ds.train == nil and "" or (ds.train and " (train)" or " (test)"), ds.n,
    table.concat({ table.unpack(s, 2) }, "x"), ds.classes and #ds.classes or 0,
    ds.coarse_labels and (", " .. #(ds.coarse_classes or {}) .. " coarse") or "")
end

local exists = util.file_exists

local cifar10_classes = { "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck" }

local cifar100_fine = {
  "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
  "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
  "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
  "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
  "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
  "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
  "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
  "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
  "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
  "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
}

local cifar100_coarse = {
  "aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
  "household_electrical_devices", "household_furniture", "insects", "large_carnivores",
  "large_man-made_outdoor_things", "large_natural_outdoor_scenes", "large_omnivores_and_herbivores",
  "medium_mammals", "non-insect_invertebrates", "people", "reptiles", "small_mammals", "trees",
  "vehicles_1", "vehicles_2",
}

-- Class names from a label-names file next to the data (one per line), else the defaults.
local function names_from(path, default)
  local f = io.open(path, "r")
  if not f then return default end
  local out = {}
  for line in f:lines() do
    line = line:gsub("%s+$", "")
    if line ~= "" then out[#out + 1] = line end
  end
  f:close()
  if #out == #default then return out end
  return default
end

-- The options of a file reader, {root = default_root, train = true} -> train, root. Called by the
-- public reader (or by a function it tail-calls): one frame between, so errors are at its caller.
local function reader_args(fn, o, default_root)
  o = opts_of(fn, o, reader_spec, 1)
  return o.train ~= false, o.root or default_root
end

-- Finds a CIFAR layout under root: the first directory of root, root/<binary dir>, root/<python
-- dir> that holds the binary probe file or the python one. Returns the directory and "bin" or
-- "py", or fails naming every place it looked and the layouts it accepts.
local function find_cifar(fn, label, root, bindir, pydir, binprobe, pyprobe)
  local looked = {}
  for _, d in ipairs({ root, root .. "/" .. bindir, root .. "/" .. pydir }) do
    if exists(d .. "/" .. binprobe) then return d, "bin" end
    if exists(d .. "/" .. pyprobe) then return d, "py" end
    looked[#looked + 1] = d .. "/" .. binprobe
    looked[#looked + 1] = d .. "/" .. pyprobe
  end
  fail(fn, "cannot find " .. label .. " data under root '" .. root .. "': it reads the binary layout (" ..
    bindir .. "/" .. binprobe .. ") or the python layout that torchvision downloads (" .. pydir .. "/" ..
    pyprobe .. "), in root or in those subdirectories; looked for " .. table.concat(looked, ", "), 2)
end

-- data.cifar10{root=, train=true}: the binary version (cifar-10-batches-bin: data_batch_1..5.bin,
-- test_batch.bin) or the python version (cifar-10-batches-py: data_batch_1..5, test_batch,
-- batches.meta), in root or root/<that directory>.
function data.cifar10(o)
  local train, root = reader_args("cifar10", o, "data/cifar10")
  local stem = train and "data_batch_1" or "test_batch"
  local dir, layout = find_cifar("cifar10", "CIFAR-10", root, "cifar-10-batches-bin", "cifar-10-batches-py", stem .. ".bin", stem)
  local ext = layout == "bin" and ".bin" or ""
  local files = {}
  if train then
    for i = 1, 5 do files[i] = dir .. "/data_batch_" .. i .. ext end
  else
    files[1] = dir .. "/test_batch" .. ext
  end
  if layout == "py" then
    local images, labels, _, names = native(C.cifar_python, files, 10, dir .. "/batches.meta")
    return new_dataset { name = "cifar10", train = train, images = images, labels = labels,
      classes = (names and #names == 10) and names or cifar10_classes }
  end
  local images, labels = native(C.cifar10, files)
  return new_dataset { name = "cifar10", train = train, images = images, labels = labels,
    classes = names_from(dir .. "/batches.meta.txt", cifar10_classes) }
end

-- data.cifar100{root=, train=true}: the binary version (cifar-100-binary: train.bin, test.bin) or
-- the python version (cifar-100-python: train, test, meta); fine and coarse labels.
function data.cifar100(o)
  local train, root = reader_args("cifar100", o, "data/cifar100")
  local stem = train and "train" or "test"
  local dir, layout = find_cifar("cifar100", "CIFAR-100", root, "cifar-100-binary", "cifar-100-python", stem .. ".bin", stem)
  if layout == "py" then
    local images, labels, coarse, fine_names, coarse_names = native(C.cifar_python, { dir .. "/" .. stem }, 100, dir .. "/meta")
    return new_dataset { name = "cifar100", train = train, images = images, labels = labels,
      coarse_labels = coarse,
      classes = (fine_names and #fine_names == 100) and fine_names or cifar100_fine,
      coarse_classes = (coarse_names and #coarse_names == 20) and coarse_names or cifar100_coarse }
  end
  local images, labels, coarse = native(C.cifar100, { dir .. "/" .. stem .. ".bin" })
  return new_dataset { name = "cifar100", train = train, images = images, labels = labels,
    coarse_labels = coarse,
    classes = names_from(dir .. "/fine_label_names.txt", cifar100_fine),
    coarse_classes = names_from(dir .. "/coarse_label_names.txt", cifar100_coarse) }
end

local function idx_dataset(fn, o, default_root, classes)
  local train, root = reader_args(fn, o, default_root)   -- data.mnist tail-calls this function
  local prefix = train and "train" or "t10k"
  local images, labels = native(C[fn], root .. "/" .. prefix .. "-images-idx3-ubyte.gz", root .. "/" .. prefix .. "-labels-idx1-ubyte.gz")
  return new_dataset { name = fn, train = train, images = images, labels = labels, classes = classes }
end

-- data.fashion_mnist{root=, train=true}: IDX files (gzip or not); default root from the Debian
-- package dataset-fashion-mnist.
function data.fashion_mnist(o)
  return idx_dataset("fashion_mnist", o, "/usr/share/datasets/fashion-mnist",
    { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" })
end

-- data.mnist{root=, train=true}: the same IDX reader.
function data.mnist(o)
  return idx_dataset("mnist", o, "/usr/share/datasets/mnist",
    { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" })
end

-- data.synthetic{n=, seed=, size=32}: colour shapes, no files. Fine label = shape x pattern
-- (16 classes), coarse label = shape family (4); colours, background, position and size are
-- nuisances.
function data.synthetic(o)
  o = opts_of("synthetic", o, { n = "any", seed = "any", size = "any" })
  local n, seed, size = o.n or 1000, o.seed or 0, o.size or 32
  if math.type(n) ~= "integer" or n < 0 then fail("synthetic", "n must be a non-negative integer") end
  if math.type(seed) ~= "integer" then fail("synthetic", "seed must be an integer") end
  if math.type(size) ~= "integer" or size < 8 or size > 512 then fail("synthetic", "size must be an integer between 8 and 512") end
  local images, labels, coarse = native(C.synthetic, n, seed, size)
  local classes, families = C.synthetic_classes()
  return new_dataset { name = "synthetic", seed = seed, images = images, labels = labels,
    coarse_labels = coarse, classes = classes, coarse_classes = families }
end

-- data.textures{n=, seed=, size=16, hue_spread=0.2, period={0.15, 0.3}}: repeated textures
-- that fill the image (8 classes, each invariant to a horizontal flip), no files. Colour (one
-- hue from a palette as wide as the large policy's hue jitter, saturation, value, contrast),
-- period (a fraction of the size), phase and a small rotation are nuisances; ds.nuisance_labels
-- is the hue bin (4 bins, ds.nuisance_classes), crossed with the class.
function data.textures(o)
  o = opts_of("textures", o, { n = "integer", seed = "integer", size = "integer", hue_spread = "number", period = "table" })
  local n, seed, size = o.n or 1024, o.seed or 0, o.size or 16
  local spread, period = o.hue_spread or 0.2, o.period or { 0.15, 0.3 }
  if math.type(n) ~= "integer" or n < 0 then fail("textures", "n must be a non-negative integer") end
  if math.type(seed) ~= "integer" then fail("textures", "seed must be an integer") end
  if math.type(size) ~= "integer" or size < 8 or size > 512 then fail("textures", "size must be an integer between 8 and 512") end
  if type(spread) ~= "number" then fail("textures", "hue_spread must be a number") end
  if type(period) ~= "table" or type(period[1]) ~= "number" or type(period[2]) ~= "number" then
    fail("textures", "period must be {lo, hi} (fractions of the image size)")
  end
  local images, labels, _, bins = native(C.textures, n, seed, size, spread, period[1], period[2])
  return new_dataset { name = "textures", seed = seed, images = images, labels = labels,
    classes = C.texture_classes(), nuisance_labels = bins, nuisance_classes = { "hue1", "hue2", "hue3", "hue4" } }
end

-- A dataset restricted to the 1-based indices `idx` (a Lua list), other fields kept.
local function take(ds, idx, name)
  local out = {}
  for k, v in pairs(ds) do out[k] = v end
  out.images = C.gather(ds.images, idx)
  out.labels = C.gather(ds.labels, idx)
  if ds.coarse_labels then out.coarse_labels = C.gather(ds.coarse_labels, idx) end
  if ds.nuisance_labels then out.nuisance_labels = C.gather(ds.nuisance_labels, idx) end
  out.indices = idx
  out.name = name or ds.name
  return new_dataset(out)
end

local function permutation(n, rng)
  if n == 0 then return {} end
  local p = sslua.randperm(n, { rng = rng }):totable()
  for i = 1, n do p[i] = math.tointeger(p[i]) end
  return p
end

-- data.subset(ds, n, {rng=, per_class=false}): n random examples (in dataset order), or with
-- per_class = true, n examples of every class. `sub.indices` are the 1-based indices in `ds`.
function data.subset(ds, n, o)
  if getmetatable(ds) ~= Dataset then fail("subset", "expected a dataset, got " .. type(ds)) end
  if math.type(n) ~= "integer" or n < 0 then fail("subset", "n must be a non-negative integer, got " .. tostring(n)) end
  o = opts_of("subset", o, { rng = "userdata", per_class = "boolean" })
  local perm = permutation(#ds, o.rng)
  local idx = {}
  if o.per_class then
    local labels = ds.labels:totable()
    local count, classes = {}, {}
    for _, i in ipairs(perm) do
      local c = math.tointeger(labels[i])
      if not count[c] then count[c] = 0; classes[#classes + 1] = c end
      if count[c] < n then count[c] = count[c] + 1; idx[#idx + 1] = i end
    end
    local nclass = ds.classes and #ds.classes or #classes
    for c = 1, nclass do
      if (count[c] or 0) < n then
        fail("subset", string.format("class %d has %d examples, fewer than %d", c, count[c] or 0, n))
      end
    end
  else
    if n > #ds then fail("subset", string.format("n = %d is larger than the dataset (%d)", n, #ds)) end
    for i = 1, n do idx[i] = perm[i] end
  end
  table.sort(idx)
  return take(ds, idx)
end

-- for images, labels, indices in ds:batches{size=128, shuffle=false, drop_last=false, rng=} do
function Dataset:batches(o)
  if getmetatable(self) ~= Dataset then error("sslua.data.batches: call as ds:batches{...}", 2) end
  o = opts_of("batches", o, { size = "any", shuffle = "boolean", drop_last = "boolean", rng = "userdata" })
  local size = o.size or 128
  if math.type(size) ~= "integer" or size < 1 then fail("batches", "size must be a positive integer") end
  local n = self.n
  if math.type(n) ~= "integer" or n < 0 or n > sslua.size(self.images, 1) then
    fail("batches", "the dataset's n (" .. tostring(n) .. ") does not match its images")
  end
  local order
  if o.shuffle then order = permutation(n, o.rng) else
    order = {}
    for i = 1, n do order[i] = i end
  end
  local pos = 1
  local images, labels = self.images, self.labels
  return function()
    if pos > n then return nil end
    local last = math.min(pos + size - 1, n)
    if o.drop_last and last - pos + 1 < size then return nil end
    local idx = table.move(order, pos, last, 1, {})
    pos = last + 1
    return C.gather(images, idx), C.gather(labels, idx), sslua.tensor(idx)
  end
end

return data

-- CIFAR-10/100 in the python layout that torchvision downloads (pickled dicts of NumPy arrays;
-- CIFAR-10's test_batch written as Python 2's cPickle did, the rest by Python 3 protocol 2 with
-- bytes keys), made by Tests/fixtures/make_interop.py together with the same images in the
-- binary layout: both layouts load to the same tensors, found from one root.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local data = sslua.data
local dir = "Tests/fixtures/interop/"
local E = dofile(dir .. "cifar_expected.lua")

local function labels_of(t) local out = {} for i = 1, t:numel() do out[i] = t:get(i) - 1 end return out end

for _, train in ipairs({ true, false }) do
  -- the python layout from the root above cifar-10-batches-py, or from that directory itself
  local py = data.cifar10 { root = dir .. "cifar10", train = train }
  local py2 = data.cifar10 { root = dir .. "cifar10/cifar-10-batches-py", train = train }
  local bin = data.cifar10 { root = dir .. "cifar10bin", train = train }
  local n = train and 15 or 3
  check.eq(#py, n, "cifar10 python size")
  check.eq(table.concat(py.images:shape(), "x"), n .. "x3x32x32", "cifar10 python shape")
  check.near(py.images, bin.images, 0, "cifar10 python images == binary images")
  check.near(py2.images, bin.images, 0, "cifar10 python images from the layout directory")
  check.near(labels_of(py.labels), train and E.c10_train_labels or E.c10_test_labels, 0, "cifar10 labels")
  check.near(py.labels, bin.labels, 0, "cifar10 labels == binary labels")
  check.eq(py.classes[1], "airplane", "cifar10 names from batches.meta")
  check.eq(#py.classes, 10, "cifar10 class count")
  check.truthy(py.images:max():item() <= 1 and py.images:min():item() >= 0, "pixels in [0, 1]")
end

for _, train in ipairs({ true, false }) do
  local py = data.cifar100 { root = dir .. "cifar100", train = train }
  local bin = data.cifar100 { root = dir .. "cifar100bin", train = train }
  local split = train and "train" or "test"
  check.eq(#py, train and 4 or 2, "cifar100 python size")
  check.near(py.images, bin.images, 0, "cifar100 python images == binary images")
  check.near(labels_of(py.labels), E["c100_" .. split .. "_fine"], 0, "cifar100 fine labels")
  check.near(labels_of(py.coarse_labels), E["c100_" .. split .. "_coarse"], 0, "cifar100 coarse labels")
  -- names come from the meta pickle (the fixture's are fine_0.., coarse_0..)
  check.eq(py.classes[1], "fine_0", "cifar100 fine names from meta")
  check.eq(py.coarse_classes[20], "coarse_19", "cifar100 coarse names from meta")
end

-- nothing there: the error names both layouts and every place it looked
local err = check.errors(function() data.cifar10 { root = "/nonexistent/cifar" } end, "cannot find CIFAR-10 data under root '/nonexistent/cifar'")
for _, s in ipairs({ "binary layout", "python layout", "/nonexistent/cifar/cifar-10-batches-py/data_batch_1",
                     "/nonexistent/cifar/cifar-10-batches-bin/data_batch_1.bin", "test_data_cifar_python.lua:" }) do
  check.truthy(err:find(s, 1, true), "missing-data error mentions " .. s .. ": " .. err)
end
check.errors(function() data.cifar100 { root = "/nonexistent/c100", train = false } end, "/nonexistent/c100/cifar-100-python/test")

-- a corrupt python batch is an error naming the file, never a crash
local tmp = os.tmpname(); os.remove(tmp)
assert(os.execute("mkdir -p " .. tmp))
local src = assert(io.open(dir .. "cifar10/cifar-10-batches-py/test_batch", "rb")):read("a")
math.randomseed(5)
for trial = 1, 300 do
  local b = { src:byte(1, 400) }
  local cut = #src
  if trial % 3 == 0 then cut = math.floor(math.random() * #src) end
  local pos = 1 + math.floor(math.random() * 400)
  b[pos] = math.floor(math.random() * 256)
  local mutated = string.char(table.unpack(b)) .. src:sub(401, cut)
  local f = assert(io.open(tmp .. "/test_batch", "wb")); f:write(mutated); f:close()
  local ok, e = pcall(data.cifar10, { root = tmp, train = false })
  if not ok then check.truthy(tostring(e):find("sslua.data.cifar10", 1, true), "error names the function: " .. tostring(e)) end
end
os.execute("rm -rf " .. tmp)
print("ok")

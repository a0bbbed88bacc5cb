-- CIFAR and IDX readers on files written here in the exact formats; bad files give errors
-- naming the file.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local data = require "sslua.data"

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p '" .. dir .. "'"))
local function path(name) return dir .. "/" .. name end
local function write(name, bytes)
  local f = assert(io.open(path(name), "wb"))
  f:write(bytes)
  f:close()
end
local function gzip(name) assert(os.execute("gzip -f -n '" .. path(name) .. "'")) end
local function read(name)
  local f = assert(io.open(path(name), "rb")); local s = f:read("a"); f:close(); return s
end

-- pixel value of record r, byte k (0-based), a deterministic pattern
local function px(r, k) return (r * 31 + k * 7) % 256 end
local function record(r, labels)
  local t = {}
  for k = 0, 3071 do t[k + 1] = string.char(px(r, k)) end
  return table.concat(labels) .. table.concat(t)
end

-- CIFAR-10: data_batch_1..5 with 2 records each, test_batch with 3
do
  local r = 0
  for b = 1, 5 do
    local recs = {}
    for i = 1, 2 do recs[i] = record(r, { string.char(r % 10) }); r = r + 1 end
    write("data_batch_" .. b .. ".bin", table.concat(recs))
  end
  write("test_batch.bin", record(100, { string.char(9) }) .. record(101, { string.char(0) }) .. record(102, { string.char(4) }))
  local train = data.cifar10 { root = dir }
  check.eq(#train, 10, "cifar10 train size")
  check.eq(table.concat(train.images:shape(), "x"), "10x3x32x32", "cifar10 image shape")
  check.eq(train.labels:get(1), 1, "cifar10 label 0 -> 1")
  check.eq(train.labels:get(8), 8, "cifar10 label 7 -> 8")
  check.eq(train.classes[1], "airplane", "cifar10 classes")
  check.eq(#train.classes, 10, "cifar10 class count")
  check.eq(train.coarse_labels, nil, "no coarse labels in cifar10")
  -- record 4 (0-based 3), channel 2 (green), row 5, column 7 -> byte 1024 + 5*32 + 7
  check.near(train.images:get(4, 2, 6, 8), px(3, 1024 + 5 * 32 + 7) / 255, 1e-7, "cifar10 pixel layout")
  check.near(train.images:get(10, 3, 32, 32), px(9, 3071) / 255, 1e-7, "cifar10 last pixel")
  local test = data.cifar10 { root = dir, train = false }
  check.eq(#test, 3, "cifar10 test size")
  check.eq(test.labels:get(1), 10, "cifar10 test label")
  check.near(test.images:get(2, 1, 1, 1), px(101, 0) / 255, 1e-7, "cifar10 test pixel")
  check.truthy(tostring(test):find("cifar10 (test): 3 images 3x32x32, 10 classes", 1, true), "dataset prints")
end

-- CIFAR-100: <coarse><fine><pixels>
do
  write("train.bin", record(0, { string.char(3), string.char(99) }) .. record(1, { string.char(19), string.char(0) }))
  write("test.bin", record(5, { string.char(0), string.char(42) }))
  local ds = data.cifar100 { root = dir }
  check.eq(#ds, 2, "cifar100 size")
  check.eq(ds.labels:get(1), 100, "cifar100 fine label")
  check.eq(ds.coarse_labels:get(1), 4, "cifar100 coarse label")
  check.eq(ds.labels:get(2), 1, "cifar100 fine label 2")
  check.eq(ds.coarse_labels:get(2), 20, "cifar100 coarse label 2")
  check.eq(#ds.classes, 100, "cifar100 fine names")
  check.eq(#ds.coarse_classes, 20, "cifar100 coarse names")
  check.eq(ds.classes[100], "worm", "cifar100 last fine name")
  check.near(ds.images:get(2, 3, 2, 3), px(1, 2048 + 32 + 2) / 255, 1e-7, "cifar100 pixel")
  local t = data.cifar100 { root = dir, train = false }
  check.eq(t.labels:get(1), 43, "cifar100 test label")
end

-- IDX: images (magic 0x00000803) and labels (0x00000801), gzip-compressed
local function idx_images(n, h, w)
  local t = { string.pack(">I4I4I4I4", 0x803, n, h, w) }
  for i = 0, n * h * w - 1 do t[#t + 1] = string.char((i * 13) % 256) end
  return table.concat(t)
end
local function idx_labels(list)
  local t = { string.pack(">I4I4", 0x801, #list) }
  for _, v in ipairs(list) do t[#t + 1] = string.char(v) end
  return table.concat(t)
end
do
  write("train-images-idx3-ubyte", idx_images(3, 4, 5))
  write("train-labels-idx1-ubyte", idx_labels { 7, 0, 9 })
  gzip("train-images-idx3-ubyte"); gzip("train-labels-idx1-ubyte")
  local ds = data.fashion_mnist { root = dir }
  check.eq(table.concat(ds.images:shape(), "x"), "3x1x4x5", "idx image shape")
  check.eq(table.concat(ds.labels:totable(), ","), "8.0,1.0,10.0", "idx labels 1-based")
  check.near(ds.images:get(2, 1, 3, 4), ((20 + 2 * 5 + 3) * 13 % 256) / 255, 1e-7, "idx pixel layout")
  check.eq(ds.classes[1], "T-shirt/top", "fashion classes")
  local m = data.mnist { root = dir }
  check.eq(m.classes[10], "9", "mnist classes")
  check.eq(#m, 3, "mnist size")
  -- uncompressed files are read too
  write("t10k-images-idx3-ubyte", idx_images(2, 2, 2))
  write("t10k-labels-idx1-ubyte", idx_labels { 1, 2 })
  check.eq(#data.mnist { root = dir, train = false }, 2, "uncompressed idx")
end

-- the installed Fashion-MNIST (Debian dataset-fashion-mnist), default root
do
  local ds = data.fashion_mnist { train = false }
  check.eq(table.concat(ds.images:shape(), "x"), "10000x1x28x28", "fashion-mnist test shape")
  check.eq(ds.labels:min():item(), 1, "fashion labels from 1")
  check.eq(ds.labels:max():item(), 10, "fashion labels to 10")
  check.truthy(ds.images:max():item() <= 1 and ds.images:min():item() >= 0, "pixels in [0, 1]")
end

-- bad files: errors name the file
do
  local bad = path("bad")
  assert(os.execute("mkdir -p '" .. bad .. "'"))
  local function bwrite(name, bytes) local f = assert(io.open(bad .. "/" .. name, "wb")); f:write(bytes); f:close() end
  -- missing
  check.errors(function() data.cifar10 { root = bad } end, bad .. "/data_batch_1.bin", "missing cifar10")
  check.errors(function() data.cifar100 { root = bad, train = false } end, bad .. "/test.bin", "missing cifar100")
  check.errors(function() data.mnist { root = bad } end, "train-images-idx3-ubyte", "missing idx")
  -- truncated CIFAR record
  bwrite("test_batch.bin", record(0, { "\0" }):sub(1, 3000))
  local e = check.errors(function() data.cifar10 { root = bad, train = false } end, bad .. "/test_batch.bin", "truncated cifar10")
  check.truthy(e:find("truncated", 1, true), "says truncated")
  check.truthy(e:find("sslua.data.cifar10", 1, true), "names the function")
  -- corrupt label
  bwrite("test_batch.bin", record(0, { string.char(10) }))
  check.errors(function() data.cifar10 { root = bad, train = false } end, "label 10", "corrupt cifar10 label")
  bwrite("test.bin", record(0, { string.char(20), string.char(5) }))
  check.errors(function() data.cifar100 { root = bad, train = false } end, "coarse label 20", "corrupt cifar100 coarse")
  bwrite("test.bin", "")
  check.errors(function() data.cifar100 { root = bad, train = false } end, "is empty", "empty cifar100")
  -- truncated gzip
  local gz = read("train-images-idx3-ubyte.gz")
  bwrite("train-images-idx3-ubyte.gz", gz:sub(1, #gz - 12))
  bwrite("train-labels-idx1-ubyte.gz", read("train-labels-idx1-ubyte.gz"))
  e = check.errors(function() data.mnist { root = bad } end, bad .. "/train-images-idx3-ubyte.gz", "truncated gzip")
  check.truthy(e:find("truncated", 1, true), "truncated gzip says truncated: " .. e)
  -- corrupt gzip (damaged deflate data / checksum)
  local damaged = gz:sub(1, 20) .. string.rep("\255", 8) .. gz:sub(29)
  bwrite("train-images-idx3-ubyte.gz", damaged)
  e = check.errors(function() data.mnist { root = bad } end, bad .. "/train-images-idx3-ubyte.gz", "corrupt gzip")
  check.truthy(e:find("corrupt", 1, true) or e:find("truncated", 1, true), "corrupt gzip: " .. e)
  -- not gzip at all
  bwrite("train-images-idx3-ubyte.gz", "hello, this is not gzip data at all")
  check.errors(function() data.mnist { root = bad } end, "not a gzip file", "not gzip")
  -- IDX: bad magic, truncated payload, label count mismatch, trailing bytes
  bwrite("t10k-images-idx3-ubyte", "\1\2\3\4" .. string.rep("\0", 20))
  bwrite("t10k-labels-idx1-ubyte", idx_labels { 1, 2 })
  check.errors(function() data.mnist { root = bad, train = false } end, "t10k-images-idx3-ubyte' is not an IDX file", "bad magic")
  bwrite("t10k-images-idx3-ubyte", idx_images(2, 3, 3):sub(1, 20))
  check.errors(function() data.mnist { root = bad, train = false } end, "t10k-images-idx3-ubyte' is truncated", "truncated idx")
  bwrite("t10k-images-idx3-ubyte", idx_images(3, 3, 3))
  check.errors(function() data.mnist { root = bad, train = false } end, "has 2 labels but", "count mismatch")
  bwrite("t10k-images-idx3-ubyte", idx_images(2, 3, 3) .. "xx")
  check.errors(function() data.mnist { root = bad, train = false } end, "bytes after the data", "trailing bytes")
  bwrite("t10k-images-idx3-ubyte", idx_images(2, 3, 3))
  bwrite("t10k-labels-idx1-ubyte", idx_labels { 1, 12 })
  check.errors(function() data.mnist { root = bad, train = false } end, "label 12", "corrupt idx label")
end

-- bad arguments
check.errors(function() data.cifar10(3) end, "sslua.data.cifar10", "options type")
check.errors(function() data.cifar10 { root = 3 } end, "sslua.data.cifar10", "root type")
check.errors(function() data.cifar100 { train = "yes" } end, "sslua.data.cifar100", "train type")
check.errors(function() data.fashion_mnist { root = {} } end, "sslua.data.fashion_mnist", "root type")

os.execute("rm -rf '" .. dir .. "'")
print("test_data_readers: ok")

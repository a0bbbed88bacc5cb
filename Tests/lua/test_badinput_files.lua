-- Mutational fuzzing of the file readers (issue 10): valid .npy, .safetensors, PNG, IDX (plain
-- and gzip) and CIFAR files, mutated by bit flips, byte edits, truncation, insertion, deletion,
-- header-field edits and size fields set huge, each loaded in process through the public Lua API
-- under pcall. A crash, trap or abort ends this file (and fails it); every failure must be a Lua
-- error naming the function. Deterministic: the mutations come from a seeded generator, so the
-- same mutants are tried on every run.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local data = require "sslua.data"

local N = tonumber(os.getenv("SSLUA_FUZZ_FILES") or "") or 10000   -- mutants per format
-- the scratch directory lives in /dev/shm where there is one: rewriting a file on a disk
-- file system can cost milliseconds (the data is flushed on close after a truncation)
local dir = os.tmpname()
os.remove(dir)
local shm = "/dev/shm/" .. dir:match("[^/]+$")
if sslua._fs.mkdir(shm) then dir = shm end
check.truthy(dir == shm or sslua._fs.mkdir(dir), "scratch directory")
local function path(name) return dir .. "/" .. name end
local function write(p, bytes)
  local f = assert(io.open(p, "wb"))
  f:write(bytes)
  f:close()
end
local function read(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- a 64-bit LCG (Knuth's constants), high bits used: deterministic on every platform
local state = 20261201
local function rand(n)
  state = state * 6364136223846793005 + 1442695040888963407
  return ((state >> 33) % n) + 1
end
local function pick(t) return t[rand(#t)] end

local huge32 = { 0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x10000, 65535, 3, 28 }
local huge64 = { 0, 1, 0x7FFFFFFFFFFFFFFF, -1, 1 << 32, 1 << 40, 1 << 62, 8000000000000000, 255 }

-- generic mutations of a byte string
local function flip(s)
  local b = { s:byte(1, -1) }
  for _ = 1, rand(8) do
    local i = rand(#b)
    b[i] = b[i] ~ (1 << (rand(8) - 1))
  end
  return string.char(table.unpack(b))
end
local function setbytes(s)
  local b = { s:byte(1, -1) }
  for _ = 1, rand(4) do b[rand(#b)] = pick({ 0, 0xFF, 0x7F, 0x80, rand(256) - 1 }) end
  return string.char(table.unpack(b))
end
local function truncate(s) return s:sub(1, rand(#s + 1) - 1) end
local function insert(s)
  local i = rand(#s + 1)
  local junk = {}
  for k = 1, rand(16) do junk[k] = string.char(rand(256) - 1) end
  return s:sub(1, i - 1) .. table.concat(junk) .. s:sub(i)
end
local function delete(s)
  local i = rand(#s)
  return s:sub(1, i - 1) .. s:sub(i + rand(16))
end
local function duplicate(s)
  local i = rand(#s)
  local j = math.min(#s, i + rand(64))
  return s:sub(1, j) .. s:sub(i, j) .. s:sub(j + 1)
end
local generic = { flip, flip, setbytes, truncate, insert, delete, duplicate }

-- replaces bytes [i, i + #v - 1] of s by v
local function put(s, i, v) return s:sub(1, i - 1) .. v .. s:sub(i + #v) end

local stats = {}
-- loads each of `count` mutants made by `mutate(k)` with `load(k)`; counts successes and errors,
-- and checks that every error names the public function
local function fuzz(format, count, mutate, load, fname)
  local ok_n, err_n = 0, 0
  for k = 1, count do
    mutate(k)
    local ok, e = pcall(load, k)
    if ok then
      ok_n = ok_n + 1
    else
      err_n = err_n + 1
      if type(e) ~= "string" or not e:find(fname, 1, true) then
        error(("%s mutant %d: error does not name %s: %s"):format(format, k, fname, tostring(e)))
      end
    end
  end
  stats[#stats + 1] = { format, count, ok_n, err_n }
  print(("fuzz %-12s %6d mutants: %6d loaded, %6d errors"):format(format, count, ok_n, err_n))
end

-- .npy: a 2 x 3 float32 file from sslua.save, edited as bytes and as header text
local npy_path = path("x.npy")
sslua.save(npy_path, sslua.arange(6):view(2, 3))
local npy = read(npy_path)
local npy_header_end = npy:find("}", 1, true)
local shapes = { "(0, 100000000000000000, 100000000000000000)", "(999999999999999999,)", "(-1,)", "(2, 3)", "()",
  "(4294967296, 4294967296)", "(6,)", "(3, 2)", "(1, 1, 1, 1, 1, 6)", "(0,)", "(2, 3", "(,)", "(2,, 3)",
  "(100000000000000000, 0)", "(9223372036854775807,)", "(1e5,)" }
local descrs = { "<f4", ">f4", "<f8", ">f8", "|u1", "<i8", ">i2", "<f2", "<c8", "|b1", "<U4", "", "<f", "<f16", "|i1", "=f4" }
local function npy_mutant()
  local r = rand(10)
  if r <= 5 then return pick(generic)(npy) end
  local h = npy:sub(11, npy_header_end)
  local rest = npy:sub(npy_header_end + 1)
  if r == 6 then h = h:gsub("%b()", pick(shapes), 1)
  elseif r == 7 then h = h:gsub("'descr': '[^']*'", "'descr': '" .. pick(descrs) .. "'", 1)
  elseif r == 8 then h = h:gsub("False", pick({ "True", "Flase", "0", "" }), 1)
  elseif r == 9 then
    -- the header length or the version set to something else
    local s = put(npy, 9, string.pack("<I2", pick({ 0, 1, 0xFFFF, #h - 1, #h + 1, 118 })))
    return rand(2) == 1 and s or put(s, 7, string.char(pick({ 0, 2, 3, 4, 0xFF })))
  else h = h:gsub("%b()", pick(shapes), 1); rest = truncate(rest) end
  -- keep the header length field right for the edited text (so the edit is what gets parsed)
  return npy:sub(1, 8) .. string.pack("<I2", #h) .. h .. rest
end
fuzz(".npy", N, function() write(npy_path, npy_mutant()) end, function() return sslua.load(npy_path) end, "sslua.load")

-- .safetensors: two tensors (float32 2 x 3, float64 2)
local st_path = path("x.safetensors")
sslua.save(st_path, { a = sslua.arange(6):view(2, 3), b = sslua.arange(2):double() })
local st = read(st_path)
local st_hlen = string.unpack("<I8", st)
local st_json = st:sub(9, 8 + st_hlen)
local st_data = st:sub(9 + st_hlen)
local st_numbers = { "0", "-1", "8000000000000000", "9007199254740993", "1e308", "2.5", "18446744073709551616", "24", "6", "3",
  "4294967296", "true", "null", '"6"' }
local st_dtypes = { "F32", "F64", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "U64", "C64", "", "f32" }
local function st_mutant()
  local r = rand(10)
  if r <= 4 then return pick(generic)(st) end
  local j = st_json
  if r == 5 or r == 6 then
    -- one number of the header (a size or an offset) replaced
    local count = select(2, j:gsub("%d+", "%0"))
    local target, seen = rand(count), 0
    j = j:gsub("%d+", function(d) seen = seen + 1; if seen == target then return pick(st_numbers) end end)
  elseif r == 7 then j = j:gsub('"F%d%d"', '"' .. pick(st_dtypes) .. '"', 1)
  elseif r == 8 then j = j:gsub("%[%d+,%d+%]", "[" .. pick(st_numbers) .. "," .. pick(st_numbers) .. "," .. pick(st_numbers) .. "]", 1)
  elseif r == 9 then
    -- the 8-byte header length
    return string.pack("<i8", pick(huge64)) .. st:sub(9)
  else j = pick(generic)(j) end
  local body = st_data
  if rand(4) == 1 then body = truncate(body) end
  return string.pack("<I8", #j) .. j .. body
end
fuzz(".safetensors", N, function() write(st_path, st_mutant()) end, function() return sslua.load(st_path) end, "sslua.load")

-- PNG: a 3 x 2 RGB image from sslua.aug.save_grid; edits of the header fields, with the CRC
-- recomputed half of the time so that they get past libpng's check
local crc32 = require "crc32"
local png_path = path("x.png")
sslua.aug.save_grid(sslua.rand(3, 2, 3), png_path, { padding = 0 })
local png = read(png_path)
check.eq(png:sub(13, 16), "IHDR", "the PNG starts with IHDR")
local function fix_ihdr_crc(s) return put(s, 30, string.pack(">I4", crc32(s:sub(13, 29)))) end
local function png_mutant()
  local r = rand(10)
  local s
  if r <= 4 then return pick(generic)(png)
  elseif r <= 6 then s = put(png, 17 + 4 * (rand(2) - 1), string.pack(">I4", pick({ 0, 1, 16000, 0x7FFFFFFF, 0xFFFFFFFF, 1 << 20, 65536, 3 })))
  elseif r == 7 then s = put(png, 25, string.char(pick({ 1, 2, 4, 8, 16, 0, 3, 255 })))           -- bit depth
  elseif r == 8 then s = put(png, 26, string.char(pick({ 0, 2, 3, 4, 6, 1, 7, 255 })))           -- colour type
  elseif r == 9 then s = put(png, 27 + rand(3) - 1, string.char(rand(3) - 1))                     -- methods, interlace
  else
    -- a chunk length after IHDR set huge or off by some bytes
    return put(png, 34, string.pack(">I4", pick({ 0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 100000, 13 })))
  end
  if rand(2) == 1 then s = fix_ihdr_crc(s) end
  if rand(4) == 1 then s = truncate(s) end
  return s
end
fuzz("PNG", N, function() write(png_path, png_mutant()) end, function() return sslua.aug.load_png(png_path) end, "sslua.aug.load_png")

-- IDX: 3 images of 4 x 5 and their labels, plain; the dimension fields set huge or to zero
local function idx(dims, bytes)
  local s = string.pack(">BBBB", 0, 0, 8, #dims)
  for _, d in ipairs(dims) do s = s .. string.pack(">I4", d) end
  return s .. bytes
end
local pixels = {}
for k = 1, 60 do pixels[k] = string.char((k * 37) % 256) end
local images = idx({ 3, 4, 5 }, table.concat(pixels))
local labels = idx({ 3 }, "\1\7\9")
local plain = path("idx")
sslua._fs.mkdir(plain)
local img_path, lab_path = plain .. "/train-images-idx3-ubyte", plain .. "/train-labels-idx1-ubyte"
write(img_path, images)
write(lab_path, labels)
local ds = data.mnist { root = plain }
check.eq(#ds, 3, "the unmutated IDX files load")
local function idx_mutant(base)
  local r = rand(10)
  if r <= 5 then return pick(generic)(base) end
  if r <= 8 then
    local nd = base:byte(4)
    return put(base, 5 + 4 * (rand(nd) - 1), string.pack(">I4", pick(huge32)))
  end
  if r == 9 then return put(base, rand(4), string.char(pick({ 0, 1, 2, 3, 4, 5, 8, 9, 0x0D, 0xFF }))) end
  return truncate(base)
end
fuzz("IDX", N, function(k)
  if k % 4 == 0 then write(img_path, images); write(lab_path, idx_mutant(labels))
  else write(lab_path, labels); write(img_path, idx_mutant(images)) end
end, function() return data.mnist { root = plain } end, "sslua.data.mnist")

-- IDX .gz: gzip files of a few header variants (made once with gzip -n), then mutated as bytes:
-- the gzip header, the deflate stream and the CRC/size trailer
local gz = path("gz")
sslua._fs.mkdir(gz)
local variants = {
  images,                                                  -- valid
  idx({ 3, 4, 5 }, table.concat(pixels) .. ("\0"):rep(4096)), -- more data than announced
  idx({ 3, 4, 5 }, ("\0"):rep(20000)),                    -- a small bomb
  idx({ 3, 0xFFFF, 0xFFFF }, table.concat(pixels)),        -- announces 12 GiB
  idx({ 0, 0xFFFFFFFF, 0xFFFFFFFF }, ""),                  -- zero beside huge sizes
  idx({ 3, 4, 5 }, table.concat(pixels):sub(1, 30)),       -- truncated data
}
local gz_files = {}
for v, bytes in ipairs(variants) do
  write(gz .. "/v", bytes)
  assert(os.execute(("gzip -n -c %s > %s"):format(gz .. "/v", gz .. "/v" .. v .. ".gz")))
  gz_files[v] = read(gz .. "/v" .. v .. ".gz")
end
os.remove(gz .. "/v")
write(gz .. "/train-labels-idx1-ubyte", labels)
local gz_img = gz .. "/train-images-idx3-ubyte.gz"
local function gz_mutant(k)
  local base = gz_files[(k - 1) % #gz_files + 1]
  if k <= #gz_files then return base end   -- each variant once as it is
  local r = rand(10)
  if r <= 6 then return pick(generic)(base) end
  if r <= 8 then return put(base, #base - 3, string.pack("<I4", pick(huge32))) end   -- ISIZE
  if r == 9 then return put(base, #base - 7, string.pack("<I4", rand(1 << 30))) end  -- CRC
  return put(base, rand(10), string.char(rand(256) - 1))                             -- gzip header
end
fuzz("IDX .gz", N, function(k) write(gz_img, gz_mutant(k)) end, function() return data.mnist { root = gz } end, "sslua.data.mnist")

-- CIFAR binary: two CIFAR-10 records and two CIFAR-100 records; labels, sizes and records edited
local function record(labels_, r)
  local t = {}
  for k = 0, 3071 do t[k + 1] = string.char((r * 31 + k * 7) % 256) end
  return labels_ .. table.concat(t)
end
local c10, c100 = path("c10"), path("c100")
sslua._fs.mkdir(c10); sslua._fs.mkdir(c100)
local cifar10 = record("\3", 0) .. record("\9", 1)
local cifar100 = record("\4\77", 0) .. record("\19\0", 1)
local function cifar_mutant(base, label_bytes)
  local r = rand(10)
  if r <= 3 then return pick(generic)(base) end
  if r <= 6 then
    -- a label byte of a record set to anything
    local rec = 3072 + label_bytes
    return put(base, (rand(2) - 1) * rec + rand(label_bytes), string.char(pick({ 0, 9, 10, 19, 20, 99, 100, 255, rand(256) - 1 })))
  end
  if r <= 8 then return truncate(base) end
  return base .. base:sub(1, rand(#base))
end
fuzz("CIFAR", N, function(k)
  if k % 2 == 0 then write(c100 .. "/test.bin", cifar_mutant(cifar100, 2))
  else write(c10 .. "/test_batch.bin", cifar_mutant(cifar10, 1)) end
end, function(k)
  if k % 2 == 0 then return data.cifar100 { root = c100, train = false } end
  return data.cifar10 { root = c10, train = false }
end, "sslua.data.cifar1")

local total, loaded, errors = 0, 0, 0
for _, s in ipairs(stats) do total, loaded, errors = total + s[2], loaded + s[3], errors + s[4] end
print(("fuzz files: %d mutants in %d formats, %d loaded, %d errors, 0 crashes"):format(total, #stats, loaded, errors))
check.truthy(total >= 6 * N, "every format fuzzed")
os.execute("rm -rf '" .. dir .. "'")

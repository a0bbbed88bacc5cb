-- Issue 10 (Trust I), items 2 (file part), 3, 4 and 9 (FIFO): crafted files, memory limits and
-- FIFOs end in a Lua error (or a correct result), never a signal, an abort or a hang. Each case
-- runs the real program in a child process, so a crash or a trap fails this file instead of
-- ending it; `timeout` is only a watchdog against the old hangs (nothing here measures time).
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"

local experiment = require "sslua.experiment"
local exe, q = experiment.interpreter(), experiment.shell_quote
local dir = os.tmpname()
os.remove(dir)
check.truthy(sslua._fs.mkdir(dir), "scratch directory")
local function path(name) return dir .. "/" .. name end
local function write(name, bytes)
  local f = assert(io.open(path(name), "wb"))
  f:write(bytes)
  f:close()
  return path(name)
end

-- runs `sslua -e code` in the scratch directory, under `ulimit -v limit_kb` when given;
-- returns the exit status ("exit"/"signal", code) and the combined output
local function run(code, limit_kb)
  local cmd = ("cd %s && %s exec timeout -s KILL 120 %s -e %s 2>&1"):format(q(dir),
    limit_kb and ("ulimit -v " .. limit_kb .. ";") or "", q(exe), q(code))
  local p = io.popen(cmd)
  local out = p:read("a")
  local _, how, status = p:close()
  return how, status, out
end

-- the child must end with a Lua error (exit status 1) whose message matches `pattern`
local function expect_error(code, pattern, what, limit_kb)
  local how, status, out = run(code, limit_kb)
  if how ~= "exit" or status ~= 1 then
    error(("%s: expected a Lua error (exit status 1), got %s %s:\n%s"):format(what, how, status, out), 2)
  end
  if not out:find(pattern) then error(what .. ": expected an error matching '" .. pattern .. "', got:\n" .. out, 2) end
end

-- the child must run to the end (exit status 0) and print `expected`
local function expect_output(code, expected, what, limit_kb)
  local how, status, out = run(code, limit_kb)
  if how ~= "exit" or status ~= 0 then
    error(("%s: expected success, got %s %s:\n%s"):format(what, how, status, out), 2)
  end
  if not out:find(expected, 1, true) then error(what .. ": expected '" .. expected .. "' in:\n" .. out, 2) end
  return out
end

-- .npy version 1.0 with the given descr and shape text, header padded as NumPy pads it
local function npy(descr, shape, data)
  local h = ("{'descr': '%s', 'fortran_order': False, 'shape': %s, }"):format(descr, shape)
  local pad = (64 - (10 + #h + 1) % 64) % 64
  h = h .. (" "):rep(pad) .. "\n"
  return "\x93NUMPY\1\0" .. string.pack("<I2", #h) .. h .. (data or "")
end
local function safetensors(json, data) return string.pack("<I8", #json) .. json .. (data or "") end

-- PNG chunks with their CRC (libpng checks it)
local crc32 = require "crc32"
local function chunk(kind, body) return string.pack(">I4", #body) .. kind .. body .. string.pack(">I4", crc32(kind .. body)) end
local function png(w, h, colour, idat)
  return "\x89PNG\r\n\x1a\n" .. chunk("IHDR", string.pack(">I4I4BBBBB", w, h, 8, colour, 0, 0, 0))
    .. chunk("IDAT", idat) .. chunk("IEND", "")
end
-- a zlib stream of one stored block of `n` zero bytes (adler32 of n zeros: a = 1, b = n)
local function zlib_zeros(n)
  return "\x78\x01\x01" .. string.pack("<I2I2", n, n ~ 0xFFFF) .. ("\0"):rep(n) .. string.pack(">I2I2", n % 65521, 1)
end

-- IDX: magic 0x0000 08 <nd>, sizes big-endian
local function idx(dims, data)
  local s = string.pack(">BBBB", 0, 0, 8, #dims)
  for _, d in ipairs(dims) do s = s .. string.pack(">I4", d) end
  return s .. (data or "")
end

-- 1. shapes with a zero beside huge sizes: the strides overflow (SIGILL in the old reader)
write("zero_huge.npy", npy("<f4", "(0, 100000000000000000, 100000000000000000)"))
expect_error("sslua.load('zero_huge.npy')", "is too large", ".npy shape (0, 10^17, 10^17)")
write("zero_huge.safetensors", safetensors('{"x":{"dtype":"F32","shape":[0,8000000000000000,8000000000000000],"data_offsets":[0,0]}}'))
expect_error("sslua.load('zero_huge.safetensors')", "is too large", ".safetensors shape [0, 8e15, 8e15]")
sslua._fs.mkdir(path("idx"))
write("idx/train-images-idx3-ubyte", idx({ 0, 0xFFFFFFFF, 0xFFFFFFFF }))
write("idx/train-labels-idx1-ubyte", idx({ 0 }))
expect_error("require('sslua.data').mnist{root='idx'}", "too large", "IDX sizes 0 x (2^32-1) x (2^32-1)")
-- the in-process equivalents are errors too (and valid zero-size files still load)
check.errors(function() sslua.load(path("zero_huge.npy")) end, "too large", ".npy zero beside huge, in process")
write("zero_ok.npy", npy("<f4", "(0, 3)"))
check.eq(table.concat(sslua.load(path("zero_ok.npy")):shape(), "x"), "0x3", "a (0, 3) .npy loads")

-- 2. sizes that cannot be had: "out of memory" errors, never "Fatal error: failed to allocate"
-- a 100 GiB sparse file: the old reader allocated the file's size
local big = write("sparse.npy", npy("<f4", "(26843545600,)"))
assert(os.execute("truncate -s 107374182528 " .. q(big)))
expect_error("sslua.load('sparse.npy')", "out of memory", "a 100 GiB sparse .npy under ulimit -v", 4194304)
local junk = write("sparse.bin.npy", "")
assert(os.execute("truncate -s 100G " .. q(junk)))
expect_error("sslua.load('sparse.bin.npy')", "missing the \\x93NUMPY magic", "a 100 GiB sparse non-.npy: header checked first", 4194304)
os.remove(big); os.remove(junk)
-- a 69-byte PNG claiming 16000 x 16000 RGB pixels: refused from the header, nothing allocated
local tiny = png(16000, 16000, 2, zlib_zeros(1))
check.eq(#tiny, 69, "the crafted PNG has 69 bytes")
write("claims.png", tiny)
expect_error("sslua.aug.load_png('claims.png')", "cannot come from its 69 bytes", "69-byte PNG claiming 16000x16000", 1048576)
-- a PNG whose claimed size its bytes could hold, but the memory cannot: out of memory
write("big.png", png(16000, 16000, 2, zlib_zeros(40000)))
expect_error("sslua.aug.load_png('big.png')", "out of memory", "16000x16000 PNG under ulimit -v", 921600)
-- kernels' scratch under the limit (x: 240 MB; sort needs 2 x 240 MB + 1.9 GB of scratch)
local lim = 1048576
local x = "local x = sslua.zeros(60000000) "
expect_error(x .. "local v, i = x:sort()", "out of memory", "sort under ulimit -v", lim)
expect_error(x .. "local v, i = x:topk(3)", "out of memory", "topk under ulimit -v", lim)
-- index and gather: x, the index and its float64 copy fit in 1.5 GB, the positions do not
expect_error(x .. "local y = x:index(1, sslua.ones(60000000))", "out of memory", "index under ulimit -v", 1500000)
expect_error(x .. "local y = x:gather(1, sslua.ones(60000000))", "out of memory", "gather under ulimit -v", 1500000)
expect_error("local x = sslua.zeros(1e10)", "out of memory", "zeros under ulimit -v", lim)
-- tostring copies only what it prints: a 120 MB tensor prints under a limit that its old
-- copies (five arrays of 240 MB) did not fit
expect_output("local x = sslua.zeros(30000000) + 0.5 x:set(7, -2.25) print(tostring(x))", "[sslua.Tensor of size 30000000]",
  "tostring under ulimit -v", lim)
-- printing a 1-d tensor of more than 40 one-character cells (a negative repeat count trapped)
local out = expect_output("print(sslua.zeros(100))", "[sslua.Tensor of size 100]", "print zeros(100)")
check.truthy(out:find("\n...\n", 1, true), "the rows in between are elided: " .. out)

-- scratch of a size taken from the arguments (torchvision-style kernels): each ends in an
-- "out of memory" error where the old kernels' Swift arrays ended the process
expect_error("local y = sslua.aug.functional.resized_crop(sslua.zeros(3, 4, 4), 1, 1, 4, 4, 16384)", "out of memory",
  "resized_crop of a 4x4 crop to 16384x16384 (3.2 GB) under ulimit -v 2 GiB", 2097152)
expect_error("local y = sslua.aug.functional.gaussian_blur(sslua.zeros(1, 8000, 8000), 15999, 1)", "out of memory: .*blur kernel",
  "gaussian_blur with a 15999 x 15999 kernel (1 GB) under ulimit -v", 1258291)
expect_error("local r = sslua.grad_check(function(x) return sslua.zeros(1):sum() end, sslua.zeros(60000000))",
  "out of memory: .*analytic gradient", "grad_check's zero gradient for an input without one (480 MB) under ulimit -v", 1363148)
-- Lua's own memory inside a binding: the table's array part is made under a protected call,
-- so Lua's memory error does not longjmp through the Swift frame
expect_error("local t = sslua.zeros(20000000):totable()", "out of memory: cannot make a table of 20000000 entries",
  "totable of 20M numbers (a 320 MB table) under ulimit -v", 1000000)
-- aug's records of a 4M-image batch: the list is made under a protected call and the push loop
-- stops once the reserve is spent, so the end is "out of memory" (the old binding let Lua's
-- "not enough memory" longjmp through it)
expect_error("local t = sslua.aug.RandomHorizontalFlip { p = 0.5 } "
  .. "local y, r = t:apply(sslua.zeros(4000000, 1, 1, 1), { record = true })", "out of memory",
  "apply{record = true} on 4M images under ulimit -v", 1700000)
-- a 60 MB pickle of a list of 30M zeros (protocol 2: APPENDS of 1000 BININT1 each): the reader's
-- list would grow to 786 MB of Swift array, whose failed growth ended the old process (SIGABRT)
write("zeros.pkl", "\x80\x02]" .. ("(" .. ("K\0"):rep(1000) .. "e"):rep(30000) .. ".")
expect_error("local t = sslua.load('zeros.pkl')", "out of memory: .*a list", "a pickle of 30M zeros under ulimit -v", 1500000)

-- Lua's heap filled by small tables that a binding makes (x:shape()): Lua's allocator keeps
-- headroom for Swift's own small allocations, so the end is a Lua memory error, not an abort
expect_error("local x = sslua.zeros(2, 3) local t = {} for i = 1, 1 << 23 do t[i] = false end "
  .. "for i = 1, 1 << 23 do t[i] = x:shape() end", "memory",  -- Lua's "not enough memory" or ours
  "8M size tables from shape() under ulimit -v", 1000000)

-- a gzip bomb: the header announces 10 images of 28 x 28, the stream expands to 64 MiB;
-- decompression stops past the announced size
sslua._fs.mkdir(path("bomb"))
write("bomb/header", idx({ 10, 28, 28 }))
assert(os.execute(("cd %s && (cat header; head -c 67108864 /dev/zero) | gzip -9 -n > train-images-idx3-ubyte.gz")
  :format(q(path("bomb")))))
write("bomb/train-labels-idx1-ubyte", idx({ 10 }, ("\0"):rep(10)))
local e = check.errors(function() require("sslua.data").mnist { root = path("bomb") } end, "train-images-idx3-ubyte.gz", "gzip bomb")
check.truthy(e:find("decompresses to more than the 7856 bytes its header announces", 1, true), "the bomb is stopped: " .. e)

-- 3. threads: under a memory limit, more threads than there is room for degrade (the old
-- program spun forever in OpenBLAS waiting for a buffer, deaf to Ctrl-C)
out = expect_output("sslua.threads(32) local a = sslua.randn(300, 300) local s = (a:mm(a)):sum():item() "
  .. "local b = sslua.randn(2000000) print('threads', sslua.threads(), s == s, (b + b):sum():item() == 2 * b:sum():item())",
  "true\ttrue", "threads(32) under ulimit -v 4 GiB", 4194304)
local n = tonumber(out:match("threads\t(%d+)"))
check.truthy(n and n >= 1 and n < 32, "fewer threads reported under the limit: " .. out)
-- without a limit the count asked for is the count obtained
sslua.threads(3)
check.eq(sslua.threads(), 3, "threads(3) without a limit")
sslua.threads(2)

-- 4. FIFOs: every native reader refuses a file that is not a regular file instead of blocking
assert(os.execute("mkfifo " .. q(path("fifo.npy")) .. " " .. q(path("fifo.safetensors")) .. " " .. q(path("fifo.png"))))
sslua._fs.mkdir(path("fifo_idx"))
assert(os.execute("mkfifo " .. q(path("fifo_idx/train-images-idx3-ubyte")) .. " " .. q(path("fifo_idx/train-labels-idx1-ubyte"))))
expect_error("sslua.load('fifo.npy')", "a FIFO, not a regular file", "load of a FIFO (.npy)")
expect_error("sslua.load('fifo.safetensors')", "a FIFO, not a regular file", "load of a FIFO (.safetensors)")
expect_error("sslua.aug.load_png('fifo.png')", "a FIFO, not a regular file", "load_png of a FIFO")
expect_error("require('sslua.data').mnist{root='fifo_idx'}", "a FIFO, not a regular file", "mnist of FIFOs")
sslua._fs.mkdir(path("dir.npy"))
expect_error("sslua.load('dir.npy')", "a directory, not a regular file", "load of a directory")

os.execute("rm -rf " .. q(dir))
print("test_trust_alloc: ok")

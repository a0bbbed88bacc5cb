-- sslua.save / sslua.load: .npy and .safetensors, checked byte for byte against files written
-- by NumPy and by the safetensors layout (Tests/fixtures/make_tensor.py), round trips, atomic
-- writes, and clear errors on missing, truncated and corrupt files.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local S = sslua
local F = dofile("Tests/fixtures/tensor/ops.lua")
local FIX = "Tests/fixtures/tensor/"

local base = os.tmpname()
local made = { base }
local function tmp(suffix) local p = base .. suffix; made[#made + 1] = p; return p end
local function bytes(path) local f = assert(io.open(path, "rb")); local s = f:read("a"); f:close(); return s end
local function write(path, s) local f = assert(io.open(path, "wb")); f:write(s); f:close() end

-- files written by NumPy load with the right values and dtypes
local a = S.tensor(F.file_a)
local f4 = S.load(FIX .. "f4.npy")
check.eq(f4:dtype(), "float32"); check.near(f4, a, 0, "<f4")
local f8 = S.load(FIX .. "f8.npy")
check.eq(f8:dtype(), "float64"); check.near(f8, a * 1.5, 0, "<f8")
check.near(S.load(FIX .. "fortran.npy"), a, 0, "Fortran order")
check.near(S.load(FIX .. "i4.npy"), {{1, -2, 3}, {4, 5, -6}}, 0, "<i4")
check.near(S.load(FIX .. "i8.npy"), {7, -8, 9}, 0, "<i8")
check.near(S.load(FIX .. "u1.npy"), {0, 128, 255}, 0, "|u1")
check.near(S.load(FIX .. "big_endian.npy"), {1.5, -2}, 0, ">f4")
local sc = S.load(FIX .. "scalar.npy")
check.eq(sc:dim(), 0); check.eq(sc:item(), 3.25)
check.eq(S.load(FIX .. "i4.npy", {dtype = "float64"}):dtype(), "float64")

-- files sslua writes are the bytes NumPy writes (header, padding, data)
local p = tmp(".npy")
S.save(p, a)
check.eq(bytes(p), bytes(FIX .. "f4.npy"), "sslua's .npy equals numpy.save's")
check.eq(bytes(p):sub(11, 10 + #F.npy_f4_header), F.npy_f4_header)
S.save(p, (a * 1.5):double())
check.eq(bytes(p), bytes(FIX .. "f8.npy"), "float64 .npy equals numpy.save's")
S.save(p, S.tensor(3.25))
check.eq(bytes(p), bytes(FIX .. "scalar.npy"), "0-d .npy equals numpy.save's")

-- round trips: views are written in logical order, empty tensors keep their shape
local x = S.randn(5, 7, {rng = S.rng(1)})
S.save(p, x:t())
check.near(S.load(p), x:t(), 0, "transposed view round trip")
S.save(p, x:double())
check.near(S.load(p), x, 0, "float64 round trip")
S.save(p, S.zeros(0, 3))
check.eq(table.concat(S.load(p):shape(), "x"), "0x3")

-- safetensors: same bytes as the reference layout, and a round trip with metadata
local st = tmp(".safetensors")
local pair = { weight = a, bias = S.tensor({0.5, -0.5}, {dtype = "float64"}) }
S.save(st, pair, { metadata = { format = "pt", note = "fixture" } })
check.eq(bytes(st), bytes(FIX .. "pair.safetensors"), "sslua's .safetensors equals the reference bytes")
local t, meta = S.load(FIX .. "pair.safetensors")
check.near(t.weight, a, 0); check.near(t.bias, {0.5, -0.5}, 0)
check.eq(t.bias:dtype(), "float64"); check.eq(meta.format, "pt"); check.eq(meta.note, "fixture")
local many = { ["layer1.0.conv1.weight"] = S.randn(2, 3, 3, 3), ["fc.bias"] = S.zeros(4), empty = S.zeros(0) }
S.save(st, many)
local back = S.load(st)
for k, v in pairs(many) do check.near(back[k], v, 0, k) end
check.eq(next(select(2, S.load(st))), nil, "no metadata")

-- errors name the function and the file; a failed save keeps the old file
check.errors(function() return S.load(FIX .. "missing.npy") end, "sslua.load: cannot open 'Tests/fixtures/tensor/missing.npy'")
check.errors(function() return S.load(FIX .. "f4.txt") end, "unknown file extension")
local good = bytes(FIX .. "f4.npy")
local bad = tmp("bad.npy")
write(bad, good:sub(1, #good - 5))
check.errors(function() return S.load(bad) end, "is not a valid .npy file: truncated data")
write(bad, good:sub(1, 40))
check.errors(function() return S.load(bad) end, "truncated header")
write(bad, "PK\3\4" .. good:sub(5))
check.errors(function() return S.load(bad) end, "'" .. bad .. "' is not a valid .npy file: missing the")
write(bad, good:gsub("<f4", "<c8", 1))
check.errors(function() return S.load(bad) end, "unsupported element type '<c8'")
write(bad, good:gsub("'shape'", "'shapo'", 1))
check.errors(function() return S.load(bad) end, "no 'shape'")
write(bad, "")
check.errors(function() return S.load(bad) end, "is not a valid .npy file")
local sgood = bytes(FIX .. "pair.safetensors")
local sbad = tmp("bad.safetensors")
write(sbad, sgood:sub(1, #sgood - 3))
check.errors(function() return S.load(sbad) end, "outside the")
write(sbad, "\255\255\255\255\0\0\0\0{}")
check.errors(function() return S.load(sbad) end, "does not fit the file")
write(sbad, sgood:sub(1, 8) .. ("x"):rep(#sgood - 8))
check.errors(function() return S.load(sbad) end, "the header is not a JSON object")
write(sbad, sgood:gsub('"F64"', '"C64"', 1))
check.errors(function() return S.load(sbad) end, "unsupported dtype C64")
write(sbad, "abc")
check.errors(function() return S.load(sbad) end, "'" .. sbad .. "' is not a valid .safetensors file")
S.save(p, a)
check.errors(function() return S.save(p, { w = a }) end, "sslua.save: bad argument #2 (.npy holds one tensor")
check.errors(function() return S.save(st, a) end, "sslua.save: bad argument #2 (.safetensors holds named tensors")
check.errors(function() return S.save(st, { w = a, 5 }) end, "table keys must be tensor names")
check.errors(function() return S.save(st, { w = "x" }) end, "value of 'w' is not a tensor")
check.errors(function() return S.save("/nonexistent-dir/x.npy", a) end, "sslua.save: cannot write '/nonexistent-dir/x.npy'")
check.eq(bytes(p), good, "the old file is intact after failed saves")

-- atomic writes: a random temporary name beside the file, never left behind, a link at the
-- final name replaced (never written through), the old file kept when the rename fails
local q = require("sslua.experiment").shell_quote
local dir = tmp("-atomic")
check.truthy(S._fs.mkdir(dir), "scratch directory")
local function names()
  local h = io.popen("ls -A " .. q(dir)); local out = {}
  for l in h:lines() do out[#out + 1] = l end
  h:close(); table.sort(out); return table.concat(out, " ")
end
-- symlinks planted at the names the writers once used (<path>.tmp.<pid>, <path>.tmp<pid>) are
-- neither followed nor left in the way
local pid = (function() local f = io.open("/proc/self/stat"); local n = f:read("n"); f:close(); return n end)()
local planted = tmp("-planted")
for _, n in ipairs({ "a.npy.tmp." .. pid, "b.safetensors.tmp." .. pid, "c.png.tmp" .. pid }) do
  os.execute(("ln -s %s %s"):format(q(planted .. "-" .. n), q(dir .. "/" .. n)))
end
S.save(dir .. "/a.npy", a)
S.save(dir .. "/b.safetensors", { w = a })
S.aug.save_grid(S.rand(2, 3, 4, 4, {rng = S.rng(2)}), dir .. "/c.png")
require("sslua.experiment").write_atomic(dir .. "/d.txt", "x\0y\n")
check.eq(io.popen("ls " .. q(planted) .. "* 2>/dev/null"):read("a"), "", "no planted symlink was followed")
os.execute("rm -f " .. q(dir) .. "/*.tmp*")
check.eq(names(), "a.npy b.safetensors c.png d.txt", "only the final names, no temporary files")
check.eq(bytes(dir .. "/a.npy"), good, "atomic .npy bytes")
check.eq(bytes(dir .. "/d.txt"), "x\0y\n", "write_atomic keeps every byte (NUL included)")
check.eq(S.aug.load_png(dir .. "/c.png"):size(1), 3, "the PNG reads back")
write(dir .. "/victim.txt", "keep")
os.execute(("ln -s %s %s"):format(q(dir .. "/victim.txt"), q(dir .. "/link.npy")))
S.save(dir .. "/link.npy", a)
check.eq(bytes(dir .. "/victim.txt"), "keep", "a symlink at the final name is not followed")
check.eq(io.popen("stat -c %F " .. q(dir .. "/link.npy")):read("l"), "regular file", "the link is replaced")
os.execute(("ln %s %s"):format(q(dir .. "/victim.txt"), q(dir .. "/hard.npy")))
S.save(dir .. "/hard.npy", a)
check.eq(bytes(dir .. "/victim.txt"), "keep", "a hard link at the final name is not written through")
os.execute("rm -f " .. q(dir) .. "/link.npy " .. q(dir) .. "/hard.npy " .. q(dir) .. "/victim.txt")
-- the rename fails (a non-empty directory has the name): an error, nothing left behind
check.truthy(S._fs.mkdir(dir .. "/e.npy") and S._fs.mkdir(dir .. "/e.npy/inner"), "a directory in the way")
check.errors(function() return S.save(dir .. "/e.npy", a) end, "sslua.save: cannot rename the temporary file to '" .. dir .. "/e.npy'")
check.errors(function() return S.aug.save_grid(S.rand(1, 3, 4, 4), dir .. "/e.npy") end, "cannot rename the temporary file")
local ok, err = pcall(require("sslua.experiment").write_atomic, dir .. "/e.npy", "text")
check.truthy(not ok and err:find("experiment.write_atomic: cannot write " .. dir .. "/e.npy", 1, true), tostring(err))
check.eq(names(), "a.npy b.safetensors c.png d.txt e.npy", "failed writes leave no temporary file")
check.eq(S._fs.write_atomic(dir .. "/no/such/f.txt", "x"), nil, "a missing directory: nil and a message")
check.errors(function() return S._fs.write_atomic(dir .. "/f.txt", 5) end, "sslua._fs.write_atomic: bad argument #2")
check.eq(S._fs.write_atomic(dir .. "/", "x"), nil, "a directory name is no file name")
os.execute("rm -rf " .. q(dir))

for _, f in ipairs(made) do os.remove(f) end

-- sslua.load of PyTorch files (.pt / .pth / Lightning .ckpt) and plain pickles, made by
-- Tests/fixtures/make_interop.py with real PyTorch; integer .npy arrays loading exactly; and
-- hostile inputs (thousands of mutated files) that must each give a value or a Lua error.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local nn = sslua.nn
local dir = "Tests/fixtures/interop/"
local E = dofile(dir .. "tensors_expected.lua")
local function shape(t) return table.concat(t:shape(), "x") end

-- tensors.pt: every dtype, views, shared storage and python scalars
local t = sslua.load(dir .. "tensors.pt")
check.eq(shape(t.f32), "3x4", "f32 shape"); check.eq(t.f32:dtype(), "float32", "f32 dtype")
check.near(t.f32:reshape({ 12 }), E.f32, 0, "f32 values")
check.eq(t.f64:dtype(), "float64", "f64 kept"); check.near(t.f64:reshape({ 6 }), E.f64, 0, "f64 values")
check.eq(t.i64:dtype(), "float64", "int64 as float64")
for i, v in ipairs(E.i64) do check.eq(t.i64:get(i), v + 0.0, "int64 value " .. i .. " exact") end
check.eq(t.i64:get(3), 2 ^ 40 + 1, "2^40 + 1 is not rounded")
check.near(t.i32:reshape({ 2 }), E.i32, 0, "int32"); check.eq(shape(t.i32), "1x2", "int32 shape")
check.near(t.u8, E.u8, 0, "uint8"); check.near(t.bool, E.bool, 0, "bool")
check.eq(t.f16:dtype(), "float32", "float16 to float32"); check.near(t.f16, E.f16, 0, "float16 values")
check.eq(t.bf16:dtype(), "float32", "bfloat16 to float32"); check.near(t.bf16, E.bf16, 0, "bfloat16 values")
check.eq(shape(t.view), table.concat(E.view_shape, "x"), "view shape")
check.near(t.view:contiguous():reshape({ 9 }), E.view, 0, "offset, strided view")
check.eq(t.scalar:dim(), 0, "0-d tensor"); check.eq(t.scalar:item(), 2.5, "0-d value")
check.near(t.shared_b:reshape({ 10 }), E.shared, 0, "shared storage b")
check.near(t.shared_a, { E.shared[3], E.shared[4], E.shared[5] }, 0, "shared storage a")
t.shared_a:fill_(7)      -- one storage, as torch.load gives
check.eq(t.shared_b:get(1, 3), 7, "views share their storage")
check.eq(t.n, 3, "int"); check.eq(math.type(t.n), "integer", "int is a Lua integer")
check.eq(t.x, 0.25, "float"); check.eq(t.s, "hello", "str"); check.eq(t.big, 1 << 62, "LONG1")
check.eq(t.neg, -70000, "negative BININT")
check.eq(t.lst[1], 1); check.eq(t.lst[2], 2.5); check.eq(t.lst[3], "a"); check.eq(t.lst[4], true)
check.eq(t.tup[1], 4); check.eq(t.tup[2], 5); check.eq(t.nested.k[2].z, 9, "nested")
local f64 = sslua.load(dir .. "tensors.pt", { dtype = "float64" })
check.eq(f64.f32:dtype(), "float64", "dtype option converts")

-- an int64 beyond 2^53 is an error naming the file
check.errors(function() sslua.load(dir .. "too_big_int.pt") end, "too_big_int.pt")
check.errors(function() sslua.load(dir .. "too_big_int.pt") end, "9007199254740993")

-- an OrderedDict state dict of a small torch module loads into the same sslua module
local T = dofile(dir .. "tiny_expected.lua")
local sd = sslua.load(dir .. "tiny_state.pth")
local n = 0
for _ in pairs(sd) do n = n + 1 end
check.eq(n, #T.keys, "all state dict keys")
check.eq(sd["1.num_batches_tracked"]:item(), 7, "num_batches_tracked")
local tiny = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
tiny:load_state_dict(sd)
tiny:eval()
check.near(tiny(sslua.tensor(T.x)), T.y, 1e-5, "tiny module output against torch")

-- a Lightning checkpoint: state_dict, optimizer state, hyper-parameters with unknown classes
local L = dofile(dir .. "lightning_expected.lua")
local ck = sslua.load(dir .. "lightning.ckpt")
check.eq(ck.epoch, 3); check.eq(ck.global_step, 120); check.eq(ck["pytorch-lightning_version"], "2.1.0")
local stripped = {}
for k, v in pairs(ck.state_dict) do stripped[k:gsub("^backbone%.", "")] = v end
tiny:load_state_dict(stripped)
check.near(tiny["0"].weight:reshape({ 12 }), L.w, 0, "checkpoint weights")
local osd = ck.optimizer_states[1]
check.near(osd.state[0].momentum_buffer:reshape({ 12 }), L.momentum, 0, "momentum buffer")
check.eq(osd.param_groups[1].lr, 0.1); check.eq(osd.param_groups[1].momentum, 0.9)
check.eq(ck.hyper_parameters.lr, 0.1)
local cfg = ck.hyper_parameters.cfg
check.eq(cfg.__class, "solo_fake.config.Config", "unknown class is a placeholder")
check.eq(cfg.state.name, "resnet18"); check.eq(cfg.state.depth, 18)
check.eq(ck.hyper_parameters.ns.__class, "argparse.Namespace")
check.eq(ck.hyper_parameters.ns.state.batch_size, 256)

-- nothing is ever executed: os.system('touch ...') is an inert placeholder
local tmp = os.tmpname()
local marker = tmp .. ".executed"
local function write(path, s) local f = assert(io.open(path, "wb")); f:write(s); f:close() end
local cmd = "touch " .. marker
write(tmp .. ".pkl", "\x80\x02cos\nsystem\nX" .. string.pack("<I4", #cmd) .. cmd .. "\x85R.")
local p = sslua.load(tmp .. ".pkl")
check.eq(p.__class, "os.system"); check.eq(p.args[1], cmd)
check.eq(io.open(marker, "r"), nil, "os.system was not called")
-- a tuple key becomes its text; copyreg._reconstructor names the class it would make
write(tmp .. ".pkl", "\x80\x02}(K\x01K\x02\x86K\x05u.")
check.eq(sslua.load(tmp .. ".pkl")["(1, 2)"], 5, "tuple dict key")
write(tmp .. ".pkl", "\x80\x02ccopy_reg\n_reconstructor\ncfoo\nBar\nc__builtin__\nobject\nN\x87R}X\x01\x00\x00\x00aK\x07sb.")
local rc = sslua.load(tmp .. ".pkl")
check.eq(rc.__class, "foo.Bar", "reconstructed class name"); check.eq(rc.state.a, 7, "its state")
-- Lightning's AttributeDict (NEWOBJ, then SETITEMS) is a plain dict
write(tmp .. ".pkl", "\x80\x02clightning.fabric.utilities.data\nAttributeDict\n)\x81X\x02\x00\x00\x00lrG?\xb9\x99\x99\x99\x99\x99\x9as.")
check.eq(sslua.load(tmp .. ".pkl").lr, 0.1, "AttributeDict as a dict")
-- a list that contains itself stays one table
write(tmp .. ".pkl", "\x80\x02]q\x00h\x00a.")
local cyc = sslua.load(tmp .. ".pkl")
check.truthy(cyc[1] == cyc, "cycles are kept")
-- very deep nesting (a million tuples, 100000 lists) is an error, not a stack overflow
write(tmp .. ".pkl", "\x80\x02N" .. string.rep("\x85", 1000000) .. ".")
check.errors(function() sslua.load(tmp .. ".pkl") end, "nested more than")
write(tmp .. ".pkl", "\x80\x02" .. string.rep("]", 100000) .. string.rep("a", 99999) .. ".")
check.errors(function() sslua.load(tmp .. ".pkl") end, "nested more than")
-- one 1 MB string referenced 300 times from the memo: refused before Lua allocates 300 MB
local mb = string.rep("x", 1 << 20)
write(tmp .. ".pkl", "\x80\x02](X" .. string.pack("<I4", #mb) .. mb .. "q\x01" .. string.rep("h\x01", 299) .. "e.")
check.errors(function() sslua.load(tmp .. ".pkl") end, "repeats large strings")
-- a file that is not a zip with a .pt name
write(tmp .. ".pt", "not a zip at all")
check.errors(function() sslua.load(tmp .. ".pt") end, tmp .. ".pt")

-- .npy integers and booleans load exactly, as float64, or fail naming the file
local a = sslua.load(dir .. "int64_exact.npy")
check.eq(a:dtype(), "float64", "int64 npy dtype")
check.eq(a:get(1), 2 ^ 40 + 1, "int64 2^40 + 1 exact"); check.eq(a:get(3), 2 ^ 53); check.eq(a:get(4), -2 ^ 53)
check.errors(function() sslua.load(dir .. "int64_inexact.npy") end, "int64_inexact.npy': int64 value 9007199254740993")
check.errors(function() sslua.load(dir .. "uint64_inexact.npy") end, "uint64_inexact.npy")
local b32 = sslua.load(dir .. "int32_big.npy")
check.eq(b32:get(3), 16777217, "int32 beyond float32's integers stays exact")
check.eq(b32:get(2), -2 ^ 31)
check.near(sslua.load(dir .. "bool.npy"), { { 1, 0 }, { 0, 1 } }, 0, "bool npy")
check.eq(sslua.load(dir .. "int32_big.npy", { dtype = "float32" }):dtype(), "float32", "asked dtype wins")

-- hostile inputs: mutate tensors.pt thousands of times; each load is a value or a Lua error
local crc32 = require "crc32"
local src = assert(io.open(dir .. "tensors.pt", "rb")):read("a")
-- the pickle is the first (stored) entry: mutate it and fix its CRC so the unpickler sees it
assert(src:sub(1, 4) == "PK\3\4")
local nlen, xlen = string.unpack("<I2I2", src, 27)
local psize = string.unpack("<I4", src, 23)
if psize == 0 then psize = 1154 end     -- data descriptor: the size is in the central directory
local p0 = 30 + nlen + xlen             -- 0-based offset of the pickle bytes
local pkl = src:sub(p0 + 1, p0 + psize)
local old_crc = string.pack("<I4", crc32(pkl))
check.truthy(src:find(old_crc, 1, true), "found the pickle's CRC")
math.randomseed(11)
local path = tmp .. "_fuzz.pt"
local loaded, failed = 0, 0
local function try(bytes)
  write(path, bytes)
  local ok, r = pcall(sslua.load, path)
  if ok then
    loaded = loaded + 1
  else
    failed = failed + 1
    check.truthy(type(r) == "string" and r:find("sslua.load", 1, true), "a Lua error from sslua.load: " .. tostring(r))
  end
end
local huge = { "\xff\xff\xff\xff", "\xff\xff\xff\x7f", "\x00\x00\x00\x80", "\xff\xff\xff\xff\xff\xff\xff\x7f" }
for trial = 1, 2500 do
  local b = { pkl:byte(1, -1) }
  local kind = trial % 4
  if kind == 0 then          -- a huge length / size / index at a random place
    local h = huge[1 + trial % #huge]
    local at = math.random(1, #b - #h)
    for i = 1, #h do b[at + i - 1] = h:byte(i) end
  else                       -- 1-3 random bytes
    for _ = 1, kind do b[math.random(1, #b)] = math.random(0, 255) end
  end
  local m = string.char(table.unpack(b))
  if trial % 7 == 0 then m = m:sub(1, math.random(0, #m)) .. string.rep("\0", #pkl - #m) end   -- truncated pickle
  local crc = string.pack("<I4", crc32(m))
  local whole = src:sub(1, p0) .. m .. src:sub(p0 + psize + 1)
  whole = whole:gsub(old_crc:gsub("%W", "%%%0"), (crc:gsub("%%", "%%%%")))
  try(whole)
end
for trial = 1, 700 do         -- the container: bit flips anywhere, and truncation
  if trial % 2 == 0 then
    try(src:sub(1, math.random(0, #src - 1)))
  else
    local at = math.random(1, #src)
    try(src:sub(1, at - 1) .. string.char(src:byte(at) ~ (1 << math.random(0, 7))) .. src:sub(at + 1))
  end
end
check.truthy(loaded > 50 and failed > 500, "the fuzzing reached both outcomes: " .. loaded .. " loaded, " .. failed .. " failed")
os.remove(path); os.remove(tmp .. ".pkl"); os.remove(tmp .. ".pt"); os.remove(tmp)
print("ok")

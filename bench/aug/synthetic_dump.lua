-- Writes data.synthetic images as raw little-endian float32 (N x 3 x 32 x 32) plus a labels file,
-- for bench/aug/synthetic_ssl_check.py. Settings from the environment (N, SEED, OUT):
--
--   N=3000 SEED=1 OUT=/tmp/synth_train.bin .build/release/sslua bench/aug/synthetic_dump.lua
--   N=1000 SEED=2 OUT=/tmp/synth_test.bin  .build/release/sslua bench/aug/synthetic_dump.lua
local n = math.tointeger(tonumber(os.getenv("N") or "3000"))
local seed = math.tointeger(tonumber(os.getenv("SEED") or "1"))
local out = os.getenv("OUT") or "/tmp/synth_train.bin"
local ds = sslua.data.synthetic { n = n, seed = seed }
local f = assert(io.open(out, "wb"))
local v = ds.images:reshape(ds.images:numel()):totable()
for i = 1, #v, 4096 do
  local t = {}
  for j = i, math.min(i + 4095, #v) do t[#t + 1] = string.pack("<f", v[j]) end
  f:write(table.concat(t))
end
f:close()
local l = assert(io.open(out .. ".labels", "w"))
for _, x in ipairs(ds.labels:totable()) do l:write(math.tointeger(x), "\n") end
l:close()

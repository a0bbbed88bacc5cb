-- The augmentation pipeline runs on sslua's worker pool: `sslua.threads(n)` bounds it (it
-- starts no threads of its own, as GCD's concurrentPerform did), and its output for a seed is
-- bitwise the same for every thread count and the same as before the move to the pool
-- (checksums recorded from the GCD version, 2026-12-02).
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local crc32 = require "crc32"
local aug = require "sslua.aug"

-- CRC-32 of a float32 tensor's values (little-endian bytes, row-major)
local function checksum(t)
  local v = t:contiguous():reshape(-1):totable()
  local parts = {}
  for i = 1, #v, 1024 do
    parts[#parts + 1] = string.pack("<" .. string.rep("f", math.min(1024, #v - i + 1)), table.unpack(v, i, math.min(#v, i + 1023)))
  end
  return crc32(table.concat(parts))
end

-- A record as text, keys sorted, numbers exact.
local function describe(v)
  if type(v) == "number" then return string.format("%.17g", v) end
  if type(v) ~= "table" then return tostring(v) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. "=" .. describe(v[k]) end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- The kernel threads of this process (Linux: the Threads line of /proc/self/status).
local function os_threads()
  local f = io.open("/proc/self/status", "r")
  if not f then return nil end
  local s = f:read("a"); f:close()
  return tonumber(s:match("\nThreads:%s*(%d+)"))
end

local x = sslua.rand(96, 3, 32, 32, { rng = sslua.rng(7) })
local blur = aug.Compose { aug.RandomResizedCrop(24, { scale = { 0.2, 1 } }), aug.RandomHorizontalFlip(),
  aug.RandomApply({ aug.GaussianBlur(5) }, 0.5), aug.Rotate(20) }
local policies = { large = aug.policy("large"), blur = blur }
local names = { "large", "blur" }

local function outputs(threads)
  check.eq(sslua.threads(threads), threads, "sslua.threads(" .. threads .. ") obtained")
  local r = {}
  for _, name in ipairs(names) do
    local y, recs = policies[name]:apply(x, { rng = sslua.rng(11), record = true })
    r[name] = { y = y, crc = checksum(y), recs = recs }
  end
  return r
end

-- No threads beyond the pool's: once sslua.threads(n) has made its workers (and OpenBLAS its
-- own), augmenting batches at n threads leaves the process's thread count unchanged.
local old = sslua.threads()
if os_threads() then
  for _, n in ipairs({ 2, 3 }) do
    sslua.threads(n)
    local big = sslua.rand(256, 3, 32, 32, { rng = sslua.rng(3) })
    sslua.matmul(sslua.rand(256, 256), sslua.rand(256, 256))
    local before = os_threads()
    for k = 1, 4 do policies.large:apply(big, { rng = sslua.rng(k) }) end
    blur:apply(big, { rng = sslua.rng(9) })
    check.eq(os_threads(), before, n .. " threads: augmentation starts no threads of its own")
  end
end

local CRC_LARGE, CRC_BLUR = 1234943301, 3838572509
local ref = outputs(1)
for _, n in ipairs({ 2, 3, 4 }) do
  local r = outputs(n)
  for _, name in ipairs(names) do
    check.eq(r[name].crc, ref[name].crc, name .. ": output with " .. n .. " threads bitwise as with 1")
    check.eq((r[name].y - ref[name].y):abs():max():item(), 0, name .. ": no element differs with " .. n .. " threads")
    check.eq(#r[name].recs, #ref[name].recs, name .. ": one record per image")
    for i = 1, #ref[name].recs do
      check.eq(describe(r[name].recs[i]), describe(ref[name].recs[i]), name .. ": record " .. i)
    end
  end
end
-- the same outputs as the pipeline gave before it ran on the pool (the GCD version)
check.eq(ref.large.crc, CRC_LARGE, "large policy: the recorded checksum")
check.eq(ref.blur.crc, CRC_BLUR, "crop, flip, blur, rotation: the recorded checksum")

sslua.threads(old)
print("test_aug_threads: ok")

-- Augmentation throughput: the large policy (Table 2) on batches of 512 RGB 32x32 images,
-- sslua against torchvision v2 in the same run (target: at least 3x).
--
--   .build/release/sslua bench/aug/bench_aug.lua [seconds]
--
-- torchvision runs from TORCH_PYTHON (default /tmp/bench/bin/python), outside the project.
local aug = require "sslua.aug"

local seconds = tonumber(arg and arg[1]) or 3
local batch = 512
local python = os.getenv("TORCH_PYTHON") or "/tmp/bench/bin/python"
local here = (arg and arg[0] or "bench/aug/bench_aug.lua"):match("^(.*)/[^/]*$") or "."

local function measure(threads)
  local old = sslua.threads()
  sslua.threads(threads)
  local p = aug.policy("large")
  local x = sslua.rand(batch, 3, 32, 32, { rng = sslua.rng(0) })
  local g = sslua.rng(1)
  for _ = 1, 3 do p:apply(x, { rng = g }) end
  local n, t0, c0 = 0, sslua.clock(), os.clock()
  while sslua.clock() - t0 < seconds do
    local y = p:apply(x, { rng = g })
    n = n + y:size(1)
  end
  local rate = n / (sslua.clock() - t0)
  local cpu_us = (os.clock() - c0) / n * 1e6
  sslua.threads(old)
  return rate, cpu_us
end

local function measure_record()
  local p = aug.policy("large")
  local x = sslua.rand(batch, 3, 32, 32, { rng = sslua.rng(0) })
  local g = sslua.rng(1)
  local n, t0, c0 = 0, sslua.clock(), os.clock()
  while sslua.clock() - t0 < seconds do
    local y = p:apply(x, { rng = g, record = true })
    n = n + y:size(1)
  end
  return n / (sslua.clock() - t0), (os.clock() - c0) / n * 1e6
end

local threads = sslua.threads()
local rows = {}
local function row(name, rate, cpu) rows[#rows + 1] = { name, rate, cpu } end
row("sslua large policy, " .. threads .. " threads", measure(threads))
row("sslua large policy, 1 thread", measure(1))
row("sslua large policy + records", measure_record())

local tv = {}
local cmd = string.format("%s %s/torchvision_aug.py --batch %d --seconds %g 2>/dev/null", python, here, batch, seconds)
local pipe = io.popen(cmd)
if pipe then
  for line in pipe:lines() do
    local name, v = line:match("^(%S+)%s+([%d.]+)$")  -- e.g. torchvision_per_image_t1 827.3
    if name then tv[name] = tonumber(v) end
  end
  pipe:close()
end

if tv.torchvision_per_image_t1 or tv.torchvision_per_image_t2 then
  tv.torchvision_per_image = math.max(tv.torchvision_per_image_t1 or 0, tv.torchvision_per_image_t2 or 0)
end

print(string.format("augmentation throughput, large policy, batches of %d RGB 32x32 (images/s)", batch))
print(string.format("%-40s %12s %14s %14s %12s", "workload", "images/s", "vs tv per-img", "vs tv loader2", "CPU us/img"))
for _, r in ipairs(rows) do
  local a = tv.torchvision_per_image and string.format("%.2fx", r[2] / tv.torchvision_per_image) or "n/a"
  local b = tv.torchvision_dataloader2 and string.format("%.2fx", r[2] / tv.torchvision_dataloader2) or "n/a"
  print(string.format("%-40s %12.0f %14s %14s %12.1f", r[1], r[2], a, b, r[3]))
end
local function show(name, v) print(string.format("%-40s %12s", name, v and string.format("%.0f", v) or "unavailable")) end
local function show_cpu(name, v, cpu)
  print(string.format("%-40s %12s %14s %14s %12s", name, v and string.format("%.0f", v) or "unavailable", "", "",
    cpu and string.format("%.1f", cpu) or ""))
end
show_cpu("torchvision v2 per-image, 1 torch thread", tv.torchvision_per_image_t1, tv.torchvision_per_image_t1_cpu_us)
show_cpu("torchvision v2 per-image, 2 torch threads", tv.torchvision_per_image_t2, tv.torchvision_per_image_t2_cpu_us)
show("torchvision v2 DataLoader, 2 workers, uint8", tv.torchvision_dataloader2)
print("ratios are against the faster torchvision per-image setting and the 2-worker DataLoader")
if tv.torchvision_per_image_t1_cpu_us then
  print(string.format("CPU time per image, torchvision (1 thread) / sslua (1 thread): %.1fx",
    tv.torchvision_per_image_t1_cpu_us / rows[2][3]))
end

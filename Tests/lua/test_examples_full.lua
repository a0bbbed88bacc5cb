-- `--full` (the paper's setting: CIFAR-100, ResNet-18, LARS with warm-up and cosine) cannot run
-- whole here (no CIFAR-100, and 100 epochs), so this runs the --full code path of
-- rank_vs_aug.lua end to end on a tiny CIFAR-100 written in the exact binary format, with
-- one epoch on 64 images: the ResNet-18, the 512 -> 128 projector, the LARS optimizer and the
-- CIFAR-100 reader all take part, and config.json records the paper's settings.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local experiment = require "sslua.experiment"
local json = require "sslua.json"
local q = experiment.shell_quote

local dir = os.tmpname(); os.remove(dir); assert(os.execute("mkdir -p " .. q(dir .. "/data")))
-- CIFAR-100 binary records: coarse label byte, fine label byte, 3072 pixel bytes (R, G, B planes).
local function records(n, seed)
  local parts = {}
  for i = 1, n do
    local fine = (i * 7 + seed) % 100
    local px = {}
    for k = 1, 3072 do px[k] = string.char((i * 13 + k * (fine % 7 + 1) + seed) % 256) end
    parts[#parts + 1] = string.char(fine // 5, fine) .. table.concat(px)
  end
  return table.concat(parts)
end
for name, n in pairs({ ["train.bin"] = 96, ["test.bin"] = 48 }) do
  local f = assert(io.open(dir .. "/data/" .. name, "wb")); f:write(records(n, #name)); f:close()
end

local run = dir .. "/run"
local cmd = "SSLUA_RUN_DIR=" .. q(run) .. " SSLUA_PROGRESS=0 " .. q(experiment.interpreter())
  .. " examples/rank_vs_aug.lua --full --data-dir " .. q(dir .. "/data")
  .. " --n 64 --n-test 32 --batch 32 --epochs 1 --knn-k 5 --policy large > " .. q(dir .. "/log") .. " 2>&1"
local ok = os.execute(cmd)
local log = io.open(dir .. "/log"):read("a")
check.eq(ok, true, "rank_vs_aug --full failed:\n" .. log:sub(-3000))
local cfg = json.decode(io.open(run .. "/config.json"):read("a")).args
check.eq(cfg.full, true); check.eq(cfg.data, "cifar100"); check.eq(cfg.arch, "resnet18")
check.eq(cfg.optimizer, "lars"); check.eq(cfg.lr, 4.0); check.eq(cfg.d_proj, 128)
local csv = io.open(run .. "/metrics.csv"):read("a")
local lines = 0
for _ in csv:gmatch("[^\n]+") do lines = lines + 1 end
check.eq(lines, 3, "header + epochs 0 and 1")
check.truthy(csv:find("large", 1, true), "policy column")
os.execute("rm -rf " .. q(dir))

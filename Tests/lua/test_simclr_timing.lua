-- experiment.simclr's time breakdown: per-phase wall and CPU seconds (data, augment, forward,
-- backward, evaluation, other) in the result, in every history entry and in the run's
-- timing.json; the phases add up to the total; rank_vs_aug sums them into summary.json.
-- Only presence, signs and sums are checked, never a duration.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local experiment = require "sslua.experiment"
local simclr = require "sslua.simclr"
local json = require "sslua.json"
local nn, aug, data = sslua.nn, sslua.aug, sslua.data
local q = experiment.shell_quote

local root = os.tmpname(); os.remove(root)
local function read(path) local f = assert(io.open(path, "rb")); local s = f:read("a"); f:close(); return s end

local phases = { "data", "augment", "forward", "backward", "evaluation", "other" }
check.eq(table.concat(simclr.phases, ","), table.concat(phases, ","), "the phases")

-- Each phase present and >= 0, total > 0, the phases summing to the total (the laps are
-- chained, so only the last clock reading after the last lap is outside them).
local function check_timing(t, what)
  for _, kind in ipairs({ "wall", "cpu" }) do
    check.truthy(type(t[kind]) == "table", what .. ": " .. kind .. " seconds")
    local sum = 0
    for _, p in ipairs(phases) do
      local v = t[kind][p]
      check.truthy(type(v) == "number" and v >= 0, what .. ": " .. kind .. "." .. p .. " = " .. tostring(v))
      sum = sum + v
    end
    local total = t[kind].total
    check.truthy(type(total) == "number" and total > 0, what .. ": " .. kind .. ".total = " .. tostring(total))
    check.truthy(math.abs(sum - total) <= 0.02 * total + 0.05,
      string.format("%s: %s phases sum to %.6f, total %.6f", what, kind, sum, total))
  end
end

local ds = data.synthetic { n = 64, seed = 3, size = 8 }
local cfg = experiment.args({ epochs = 2 }, { argv = {} })
local run = experiment.run(cfg, { root = root, script = "Tests/lua/test_simclr_timing.lua" })
local evaluated = 0
local function train(seed)
  local rng = sslua.rng(seed)
  local enc = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 16, { rng = rng }))
  local proj = nn.Linear(16, 8, { bias = false, rng = rng })
  return experiment.simclr { encoder = enc, projector = proj, data = ds, policy = aug.policy("large"), epochs = 2,
    batch = 16, optimizer = "adam", lr = 1e-2, rng = rng, progress = false, run = run,
    on_epoch = function()
      -- some evaluation work, so that phase is not empty
      local h = enc(ds.images)
      evaluated = evaluated + h:matmul(h:t()):sum():item() * 0 + 1
    end }
end

local r1 = train(1)
local r2 = train(2)
check.eq(evaluated, 6, "on_epoch ran for epochs 0..2 of both loops")
for i, r in ipairs({ r1, r2 }) do
  check_timing(r.timing, "loop " .. i)
  check.truthy(r.timing.wall.forward > 0 and r.timing.wall.backward > 0 and r.timing.wall.augment > 0
    and r.timing.wall.evaluation > 0, "loop " .. i .. ": the timed phases ran")
  check.eq(#r.history, 2, "loop " .. i .. ": two epochs")
  for e, h in ipairs(r.history) do
    check_timing(h.timing, "loop " .. i .. " epoch " .. e)
    for _, p in ipairs(phases) do
      check.truthy(h.timing.cpu[p] <= r.timing.cpu[p] + 1e-9, "loop " .. i .. " epoch " .. e .. ": " .. p .. " within the loop's")
    end
  end
end

-- timing.json: both loops and their sum, and the shares of the total.
local tj = json.decode(read(run.dir .. "/timing.json"))
check.eq(#tj.loops, 2, "timing.json has both loops")
check_timing(tj.total, "timing.json total")
for _, kind in ipairs({ "wall", "cpu" }) do
  local share = 0
  for _, p in ipairs(phases) do
    check.near(tj.total[kind][p], r1.timing[kind][p] + r2.timing[kind][p], 1e-9, "timing.json " .. kind .. "." .. p .. " is the sum")
    check.near(tj.fractions[kind][p], tj.total[kind][p] / tj.total[kind].total, 1e-12, "fraction " .. kind .. "." .. p)
    share = share + tj.fractions[kind][p]
  end
  check.truthy(math.abs(share - 1) <= 0.03, kind .. " fractions sum to about 1: " .. share)
end
local line = simclr.format_timing(tj.total, "t")
check.truthy(line:find("^t: [%d.]+ s wall, [%d.]+ s CPU: data ") and line:find("evaluation [%d.]+ s %(%d+%%%)"), "one-line breakdown: " .. line)
run:finish()

-- rank_vs_aug aggregates the loops' timing into summary.json (one seed, one epoch, two policies).
local dir = root .. "/rank_vs_aug"
local cmd = "SSLUA_RUN_DIR=" .. q(dir) .. " SSLUA_PROGRESS=0 " .. q(experiment.interpreter())
  .. " examples/rank_vs_aug.lua --quick --seeds 1 --epochs 1 --policy small,large --n 64 --n-test 32 --probe-iters 5 > "
  .. q(root .. "/rank_vs_aug.log") .. " 2>&1"
check.eq(os.execute(cmd), true, "rank_vs_aug ran:\n" .. read(root .. "/rank_vs_aug.log"):sub(-2000))
local s = json.decode(read(dir .. "/summary.json"))
check.eq(s.timing.runs, 2, "summary timing over both runs")
check_timing(s.timing, "rank_vs_aug summary")
local rt = json.decode(read(dir .. "/timing.json"))
for _, p in ipairs(phases) do check.near(s.timing.cpu[p], rt.total.cpu[p], 1e-9, "summary " .. p .. " = timing.json's sum") end
check.truthy(s.timing.script.cpu >= s.timing.cpu.total - 0.05 and s.timing.script.wall >= s.timing.wall.total - 0.05,
  "the script's training part contains the loops")
check.truthy(read(root .. "/rank_vs_aug.log"):find("time of the 2 training runs: ", 1, true), "rank_vs_aug prints the breakdown")
os.execute("rm -rf " .. q(root))
print("test_simclr_timing: ok")

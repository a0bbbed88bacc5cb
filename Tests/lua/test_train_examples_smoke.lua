-- projector_depth_width and rank_vs_method on tiny presets: summary.json has the claim, the test,
-- chance levels, a `table` for the README generator and a verdict recomputed here from its numbers
-- (rank_vs_method's Spearman rho against SciPy on the logged final rows); region counts never
-- exceed the points counted; BN is recalibrated before the epoch-0 measurement (eval-mode
-- features of an untrained network are no longer collinear: encoder effective rank well above 6).
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local experiment = require "sslua.experiment"
local q = experiment.shell_quote

local root = os.tmpname(); os.remove(root); os.execute("mkdir -p " .. q(root))
local examples = require "examples"
local read = examples.read
local function run_example(name, args) return examples.run(root, name, args, { projector = true, method = true }) end
local function common(s, name)
  examples.check_summary(s, name)
  check.truthy(type(s.chance) == "table" and s.chance.class > 0 and s.chance.class < 1, name .. " class chance level")
end

-- projector_depth_width: 2 seeds x (linear, one MLP), 1 epoch.
do
  local s, rows = run_example("projector_depth_width", "--quick --epochs 1")
  common(s, "projector_depth_width")
  check.eq(s.policy, "moderate", "trains under the moderate policy")
  check.truthy(s.chance.nuisance > 0 and s.chance.nuisance < 1, "nuisance chance level")
  for _, r in ipairs(rows) do
    for _, np in ipairs(s.region_points) do
      local c = r["regions_" .. np]
      check.truthy(c >= 1 and c <= np, "regions at " .. np .. " points: " .. tostring(c))
    end
    check.truthy(r.probe_encoder ~= nil and r.probe_projector ~= nil, "linear probes logged")
    if r.projector == "8" then check.eq(r.linear_regions, 1, "a linear projector has one region") end
  end
  local lin, big = s.projectors["8"], s.projectors["32-8"]
  check.eq(lin.final.probe_encoder.n, 2, "two seeds")
  local function better(a, b, k) return a.final[k].mean - b.final[k].mean > a.final[k].std + b.final[k].std end
  local acc = better(big, lin, "probe_encoder") and better(big, lin, "knn_encoder")
  check.eq(s.accuracy_half, acc, "accuracy half recomputed")
  local want = (s.partition_half and acc) and "reproduces" or ((s.partition_half or acc) and "partly" or "does not")
  check.eq(s.verdict, want, "projector_depth_width verdict recomputed")
end

-- rank_vs_method: simclr and byol, 2 seeds, 1 epoch. Spearman's rho checked against SciPy.
do
  local s, rows, dir = run_example("rank_vs_method", "--quick --methods simclr,byol --seeds 2 --epochs 1")
  common(s, "rank_vs_method")
  for _, r in ipairs(rows) do
    if r.epoch == 0 then check.truthy(r.enc_effective_rank > 6, "recalibrated BN at init: encoder effective rank " .. r.enc_effective_rank) end
  end
  local py = io.popen("python3 -c " .. q([[
import csv, sys
from scipy.stats import spearmanr
r = [x for x in csv.DictReader(open(sys.argv[1])) if int(x['epoch']) == int(sys.argv[2])]
print(repr(float(spearmanr([float(x['proj_effective_rank']) for x in r], [float(x['linear_probe']) for x in r]).correlation)), len(r))
]]) .. " " .. q(dir .. "/metrics.csv") .. " " .. s.epochs)
  local out = py:read("a"); py:close()
  local rho_ref, n = out:match("(%S+)%s+(%d+)")
  check.eq(tonumber(n), s.runs, "runs")
  local rho = s.spearman.proj_effective_rank_vs_linear_probe
  if rho_ref == "nan" then check.eq(rho, nil, "no spread: no rho") else check.near(rho, tonumber(rho_ref), 1e-9, "Spearman rho vs SciPy") end
  check.near(s.rho_critical, 1.96 / math.sqrt(s.runs - 1), 1e-12, "critical value")
  local want = (rho == nil) and "does not" or (rho > s.rho_critical and "reproduces" or (rho > 0 and "partly" or "does not"))
  check.eq(s.verdict, want, "rank_vs_method verdict recomputed")
  for _, m in ipairs { "simclr", "byol" } do check.eq(s.methods[m].final.knn_accuracy.n, 2, m .. " over two seeds") end
end
os.execute("rm -rf " .. q(root))
print("ok")

-- sslua sweep: argument parsing, the cartesian grid, and real runs of a tiny script in
-- separate processes (two at once), each with its own run directory and a summary table.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local sweep = require "sslua.sweep"
local experiment = require "sslua.experiment"
local q = experiment.shell_quote

-- Parsing: axes in order, bracketed list values, flags, --jobs.
local spec = sweep.parse { "x.lua", "--policy", "small,large", "--epochs=5,10", "--taus", "[0.1,0.2],[0.3]", "--quick", "--jobs", "2" }
check.eq(spec.script, "x.lua", "script")
check.eq(#spec.axes, 3, "three axes")
check.eq(spec.axes[1].name, "policy"); check.eq(spec.axes[1].values[2], "large", "policy values")
check.eq(spec.axes[2].values[2], "10", "--name=v1,v2")
check.eq(spec.axes[3].values[1], "0.1,0.2", "bracketed value"); check.eq(spec.axes[3].values[2], "0.3", "second bracketed")
check.eq(spec.flags[1], "--quick", "flag"); check.eq(spec.jobs, 2, "jobs")
-- The grid: cartesian product, first axis outermost.
local g = sweep.grid { { name = "a", values = { "1", "2" } }, { name = "b", values = { "x", "y", "z" } } }
check.eq(#g, 6, "2 x 3 configurations")
check.eq(g[1][1][2] .. g[1][2][2], "1x", "first"); check.eq(g[2][1][2] .. g[2][2][2], "1y", "second")
check.eq(g[4][1][2] .. g[4][2][2], "2x", "fourth")
check.eq(#sweep.grid {}, 1, "empty grid is one run")
check.errors(function() sweep.parse {} end, "sslua sweep: no script")
check.errors(function() sweep.parse { "x.lua", "--jobs", "0" } end, "--jobs expects a positive integer")
check.errors(function() sweep.parse { "x.lua", "y.lua" } end, "unexpected argument 'y.lua'")
check.errors(function() sweep.parse { "x.lua", "--a", "[1,2" } end, "unclosed '['")
check.errors(function() sweep.parse(5) end, "sslua sweep")
check.errors(function() sweep.main { "/nonexistent/script.lua" } end, "cannot open script")

-- Real runs.
local root = os.tmpname(); os.remove(root); os.execute("mkdir -p " .. q(root))
local script = root .. "/tiny.lua"
local f = io.open(script, "w")
f:write([[
local experiment = require "sslua.experiment"
local cfg = experiment.args{ a = 1, b = "x", scale = 1.0 }
if cfg.b == "boom" then error("asked to fail") end
local run = experiment.run(cfg)
run:log{ epoch = 1, value = cfg.a * cfg.scale, tag = cfg.b }
run:finish()
]])
f:close()
-- Does this sslua pass script arguments (arg / ...)? Then values must reach each run.
local probe = root .. "/probe.lua"
f = io.open(probe, "w"); f:write("print(arg and arg[1] or 'none')\n"); f:close()
local h = io.popen(q(experiment.interpreter()) .. " " .. q(probe) .. " passed"); local passes = h:read("l") == "passed"; h:close()

local code, rows, dir = sweep.main { script, "--a", "1,2,3", "--b", "x,y", "--jobs", "2", "--scale=0.5" }
check.eq(code, 0, "all runs succeed")
check.eq(#rows, 6, "six runs")
check.truthy(dir:find("results/tiny/sweep%-"), "sweep dir under results/tiny: " .. dir)
for i, r in ipairs(rows) do
  check.eq(r.status, "ok", "run " .. i .. " status")
  check.truthy(r.seconds and r.seconds >= 0, "run " .. i .. " timed")
  local cfgjson = io.open(string.format("%s/run-%03d/config.json", dir, i)):read("a")
  check.truthy(cfgjson:find('"script_sha256"', 1, true), "run " .. i .. " has its own config.json")
  if passes then
    -- a is the outer axis: runs 1,2 have a=1; b alternates x,y; scale=0.5 everywhere.
    local a = (i - 1) // 2 + 1
    check.eq(r.value, a * 0.5, "run " .. i .. " value from its flags")
    check.eq(r.tag, (i % 2 == 1) and "x" or "y", "run " .. i .. " tag from its flags")
  end
end
local summary = io.open(dir .. "/sweep.csv"):read("a")
check.truthy(summary:find("^run,a,b,scale,status,seconds,epoch,"), "sweep.csv header: " .. summary)
check.eq(select(2, summary:gsub("\n", "")), 7, "sweep.csv has a header and six rows")
os.execute("rm -rf " .. q(dir))

-- A failing run is reported and makes the sweep's status 1.
if passes then
  code, rows, dir = sweep.main { script, "--b", "x,boom", "--jobs", "2" }
  check.eq(code, 1, "a failed run fails the sweep")
  check.eq(rows[1].status, "ok", "good run ok")
  check.eq(rows[2].status, "exit 1", "bad run reported")
  local err = io.open(dir .. "/run-002/stderr.txt"):read("a")
  check.truthy(err:find("asked to fail", 1, true), "stderr kept: " .. err)
  os.execute("rm -rf " .. q(dir))
end
os.execute("rmdir results/tiny 2>/dev/null")
os.execute("rm -rf " .. q(root))
print("ok")

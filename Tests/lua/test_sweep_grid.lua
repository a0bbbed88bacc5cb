-- sslua sweep: argument parsing, the cartesian grid, and real runs of a tiny script in
-- separate processes (two at once), each with its own run directory and a summary table.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local sweep = require "sslua.sweep"
local experiment = require "sslua.experiment"
local json = require "sslua.json"
local q = experiment.shell_quote

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a"); f:close(); return s
end
-- A CSV file (no quoted fields needed here) as a list of {column = text}.
local function read_csv(path)
  local text = assert(read_all(path), "no " .. path)
  local lines = {}
  for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l end
  local head, rows = {}, {}
  for c in (lines[1] .. ","):gmatch("([^,]*),") do head[#head + 1] = c end
  for i = 2, #lines do
    local r, k = {}, 0
    for c in (lines[i] .. ","):gmatch("([^,]*),") do k = k + 1; r[head[k]] = c end
    rows[#rows + 1] = r
  end
  return rows, head
end

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
if cfg.b == "late" then error("late failure after logging") end
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
  check.eq(json.decode(cfgjson).status, "done", "run " .. i .. " config.json says done")
  if passes then
    -- a is the outer axis: runs 1,2 have a=1; b alternates x,y; scale=0.5 everywhere.
    local a = (i - 1) // 2 + 1
    check.eq(r.value, a * 0.5, "run " .. i .. " value from its flags")
    check.eq(r.tag, (i % 2 == 1) and "x" or "y", "run " .. i .. " tag from its flags")
  end
end
local summary = io.open(dir .. "/runs.csv"):read("a")
check.truthy(summary:find("^run,a,b,scale,status,seconds,epoch,"), "runs.csv header: " .. summary)
check.eq(select(2, summary:gsub("\n", "")), 7, "runs.csv has a header and six rows")
-- Without a seed axis every configuration is one run: sweep.csv has six rows with n = 1.
local agg = read_csv(dir .. "/sweep.csv")
check.eq(#agg, 6, "sweep.csv: one row per configuration")
for _, r in ipairs(agg) do check.eq(r.n, "1", "n = 1 without seeds"); check.eq(r.value_std, "", "no std of one run") end
os.execute("rm -rf " .. q(dir))

-- A failing run is reported and makes the sweep's status 1.
if passes then
  code, rows, dir = sweep.main { script, "--b", "x,boom", "--jobs", "2" }
  check.eq(code, 1, "a failed run fails the sweep")
  check.eq(rows[1].status, "ok", "good run ok")
  check.eq(rows[2].status, "exit 1", "bad run reported")
  local err = io.open(dir .. "/run-002/stderr.txt"):read("a")
  check.truthy(err:find("asked to fail", 1, true), "stderr kept: " .. err)
  -- The failed run (it died before experiment.run) has a config.json saying so, with its error.
  local rec = json.decode(read_all(dir .. "/run-002/config.json"))
  check.eq(rec.status, "failed", "failed run's config.json: status")
  check.truthy(tostring(rec.error):find("asked to fail", 1, true), "failed run's config.json: error " .. tostring(rec.error))
  check.eq(rec.exit_code, 1, "failed run's config.json: exit code")
  check.eq(json.decode(read_all(dir .. "/run-001/config.json")).status, "done", "good run done")
  local agg = read_csv(dir .. "/sweep.csv")
  check.eq(agg[2].failed, "1", "sweep.csv counts the failure")
  os.execute("rm -rf " .. q(dir))

  -- A run failing after experiment.run: its own config.json (written complete-looking before)
  -- is marked failed by the program's error hook, and by the launcher with the exit code.
  code, rows, dir = sweep.main { script, "--b", "late" }
  check.eq(code, 1, "late failure fails the sweep")
  rec = json.decode(read_all(dir .. "/run-001/config.json"))
  check.eq(rec.status, "failed", "late failure: status")
  check.truthy(tostring(rec.error):find("late failure after logging", 1, true), "late failure: error " .. tostring(rec.error))
  check.truthy(rec.script_sha256, "late failure: the run's record is kept")
  os.execute("rm -rf " .. q(dir))
  -- The same run started directly (no sweep): the hook alone marks it.
  local rdir = root .. "/direct"
  local ok = os.execute("SSLUA_RUN_DIR=" .. q(rdir) .. " SSLUA_PROGRESS=0 " .. q(experiment.interpreter()) .. " " .. q(script)
    .. " --b late > /dev/null 2>&1")
  check.truthy(not ok, "direct failing run exits nonzero")
  rec = json.decode(read_all(rdir .. "/config.json"))
  check.eq(rec.status, "failed", "direct failed run: status")
  check.truthy(tostring(rec.error):find("late failure after logging", 1, true), "direct failed run: error " .. tostring(rec.error))
end

-- Aggregation over seeds: 3 seeds x 2 values of lr. score = lr * seed, sq = seed^2 (hand-computed
-- mean and sample std per lr), rank = seed (integers).
local stats = root .. "/stats.lua"
f = io.open(stats, "w")
f:write([[
local experiment = require "sslua.experiment"
local cfg = experiment.args{ lr = 0.1, epochs = 2 }
local run = experiment.run(cfg)
for e = 1, cfg.epochs do run:log{ epoch = e, score = cfg.lr * cfg.seed * e / cfg.epochs, sq = cfg.seed ^ 2, rank = cfg.seed, name = "s" } end
run:finish()
]])
f:close()
code, rows, dir = sweep.main { stats, "--seed", "1,2,3", "--lr", "0.1,0.2", "--jobs", "2" }
check.eq(code, 0, "seed sweep succeeds")
check.eq(#rows, 6, "six runs")
local agg, head = read_csv(dir .. "/sweep.csv")
check.eq(#agg, 2, "two configurations (seed aggregated)")
check.eq(head[1], "lr", "first column is the configuration axis")
for _, c in ipairs(head) do check.truthy(c ~= "seed" and c ~= "name_mean", "no column " .. c) end
local want = { ["0.1"] = { 0.2, 0.1 }, ["0.2"] = { 0.4, 0.2 } }
-- sq = {1, 4, 9}: mean 14/3, sample variance ((11/3)^2 + (2/3)^2 + (13/3)^2) / 2 = 147/9.
for _, r in ipairs(agg) do
  check.eq(r.n, "3", "n per configuration"); check.eq(r.failed, "0", "no failures")
  check.eq(r.score_n, "3", "score n")
  check.near(tonumber(r.score_mean), want[r.lr][1], 1e-12, "score mean at lr " .. r.lr)
  check.near(tonumber(r.score_std), want[r.lr][2], 1e-12, "score sample std at lr " .. r.lr)
  check.near(tonumber(r.sq_mean), 14 / 3, 1e-12, "sq mean")
  check.near(tonumber(r.sq_std), math.sqrt(147 / 9), 1e-12, "sq sample std")
  check.near(tonumber(r.rank_mean), 2, 1e-12, "rank mean"); check.near(tonumber(r.rank_std), 1, 1e-12, "rank std")
  check.eq(#r.runs:gsub("[^ ]", ""), 2, "three runs listed")
end
-- One figure per numeric metric, with error bars, in the sweep directory.
for _, m in ipairs { "score", "sq", "rank", "epoch" } do
  local svg = read_all(dir .. "/" .. m .. ".svg")
  check.truthy(svg, "figure " .. m .. ".svg")
  if svg and m ~= "epoch" then check.truthy(svg:find('class="errorbar"', 1, true), m .. ".svg has error bars") end
end
check.truthy(not read_all(dir .. "/name.svg"), "no figure of a text column")
os.execute("rm -rf " .. q(dir))
os.execute("rmdir results/stats 2>/dev/null")

-- A misspelled flag (or a value of the wrong type) fails before any run starts: no directory.
os.execute("rm -rf results/stats")
check.errors(function() sweep.main { stats, "--seed", "1,2", "--epoch", "3" } end,
  "sslua sweep: unknown option '--epoch' for " .. stats .. " (did you mean '--epochs'?)")
check.errors(function() sweep.main { stats, "--lr", "0.1,fast" } end, "option '--lr' of " .. stats .. " expects a number, got 'fast'")
check.errors(function() sweep.main { stats, "--qiuck" } end, "unknown option '--qiuck'")
check.errors(function() sweep.main { stats, "--dry-run", "--lrr", "1" } end, "did you mean '--lr'?")
local function exists(path) return os.execute("test -e " .. q(path)) == true end
check.truthy(not exists("results/stats"), "no run directory after a typo")
check.eq(sweep.main { stats, "--no-quick", "--epochs", "1", "--dry-run" }, 0, "valid flags pass (dry run)")
-- A script that never calls experiment.args is not probed (not run an extra time): a warning.
local plain = root .. "/plain.lua"
local counter = root .. "/count.txt"
f = io.open(plain, "w"); f:write(("local f = io.open(%q, 'a'); f:write('x\\n'); f:close()\n"):format(counter)); f:close()
code, rows, dir = sweep.main { plain, "--k", "1,2" }
check.eq(code, 0, "plain script sweep runs")
check.eq(read_all(counter), "x\nx\n", "the plain script ran once per run, never as a probe")
os.execute("rm -rf " .. q(dir)); os.execute("rmdir results/plain 2>/dev/null")
-- Through the program: exit status 1, the message on stderr, nothing created.
local errf = root .. "/err.txt"
local okp = os.execute(q(experiment.interpreter()) .. " sweep " .. q(stats) .. " --epoch 1,2 > /dev/null 2> " .. q(errf))
check.truthy(not okp, "sslua sweep with a typo exits nonzero")
check.truthy(read_all(errf):find("unknown option '--epoch' for " .. stats .. " (did you mean '--epochs'?)", 1, true), "message: " .. read_all(errf))
check.truthy(not exists("results/stats"), "no run directory after a typo (program)")
os.execute("rmdir results/tiny 2>/dev/null")
os.execute("rm -rf " .. q(root))
print("ok")

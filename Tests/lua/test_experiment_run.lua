-- experiment.run: run directory, config.json (read back by Python too), metrics.csv, progress.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local experiment = require "sslua.experiment"
local json = require "sslua.json"
local q = experiment.shell_quote

local root = os.tmpname()
os.remove(root)
local function read(path) local f = assert(io.open(path, "rb")); local s = f:read("a"); f:close(); return s end
local function ls(dir)
  local p = io.popen("ls -A " .. q(dir)); local out = {}
  for l in p:lines() do out[#out + 1] = l end
  p:close(); table.sort(out); return out
end

local script = "Tests/lua/test_experiment_run.lua"
local cfg = experiment.args({ epochs = 3, policy = { "small", "large" } }, { argv = { "--epochs", "4", "--seed", "11" } })
local run = experiment.run(cfg, { root = root, script = script })
check.truthy(run.dir:find(root .. "/test_experiment_run/", 1, true) == 1, "run dir under root/<script name>: " .. run.dir)
check.truthy(run.dir:match("/%d%d%d%d%d%d%d%d%-%d%d%d%d%d%d$"), "timestamped: " .. run.dir)

-- Two runs in the same second get distinct directories (counter suffix).
local run2 = experiment.run(cfg, { root = root, script = script })
local run3 = experiment.run(cfg, { root = root, script = script })
check.truthy(run.dir ~= run2.dir and run2.dir ~= run3.dir and run.dir ~= run3.dir, "distinct run dirs")

-- config.json: every argument, seed, threads, version, script digest.
local rec = json.decode(read(run.dir .. "/config.json"))
check.eq(rec.args.epochs, 4, "args.epochs")
check.eq(rec.args.policy[2], "large", "args.policy")
check.eq(rec.args.quick, false, "args.quick")
check.eq(rec.seed, 11, "seed")
check.eq(rec.threads, sslua.threads(), "threads")
check.eq(rec.sslua_version, sslua.version, "version")
check.eq(rec.script, script, "script")
check.eq(rec.argv[1], "--epochs", "argv")
local p = io.popen("sha256sum " .. q(script)); local line = p:read("l"); p:close()
check.eq(rec.script_sha256, line:match("^(%x+)"), "script digest matches sha256sum")
check.eq(os.execute("python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[\"args\"][\"epochs\"]==4' " .. q(run.dir .. "/config.json")), true, "python reads config.json")

-- metrics.csv: header from the first row, leading columns first, rows flushed as written.
run:log { loss = 2.5, epoch = 0, policy = "small", knn_accuracy = 0.125, note = "a,b" }
local csv = read(run.dir .. "/metrics.csv")
check.eq(csv, 'policy,epoch,knn_accuracy,loss,note\nsmall,0,0.125,2.5,"a,b"\n', "first row flushed")
run:log { epoch = 1, policy = "small", loss = 1 / 3 }
run:log { epoch = 2, policy = "large", loss = sslua.tensor({ 0.5 }), knn_accuracy = true }
csv = read(run.dir .. "/metrics.csv")
local lines = {}
for l in csv:gmatch("[^\n]+") do lines[#lines + 1] = l end
check.eq(#lines, 4, "three rows and a header")
check.eq(lines[3], "small,1,,0.3333333333,", "missing cells empty, floats with 10 digits")
check.eq(lines[4], "large,2,true,0.5,", "tensor scalar and boolean")
check.eq(#run:rows(), 3, "rows kept")
check.errors(function() run:log { epoch = 3, extra = 1 } end, "run:log: column 'extra' is not in the header")
check.errors(function() run:log(5) end, "run:log: expected a table")
check.errors(function() run:log { epoch = {} } end, "run:log: column 'epoch'")
-- Python's csv module agrees.
check.eq(os.execute("python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); assert r[0][\"note\"]==\"a,b\" and len(r)==3 and r[2][\"policy\"]==\"large\"' " .. q(run.dir .. "/metrics.csv")), true, "python reads metrics.csv")

-- Explicit column order; another CSV file.
local lg = run:logger("spectrum.csv", { columns = { "index", "sigma" } })
lg:log { sigma = 3.0, index = 1 }
check.eq(read(run.dir .. "/spectrum.csv"), "index,sigma\n1,3\n", "explicit columns (integral float printed plainly)")

-- Whole files atomically; no temporary files left behind; finish records time and summary.
run:write("notes.txt", "hello")
check.eq(read(run:path("notes.txt")), "hello", "run:write")
run:finish { best = 0.5 }
rec = json.decode(read(run.dir .. "/config.json"))
check.eq(rec.summary.best, 0.5, "summary")
check.truthy(rec.elapsed_seconds >= 0, "elapsed")
for _, name in ipairs(ls(run.dir)) do check.truthy(not name:find("%.tmp"), "leftover temp file " .. name) end
check.errors(function() run:path("../x") end, "run:path")
check.errors(function() run:write("x.txt", 5) end, "run:write: expected text")
check.errors(function() run:save({}, "x.svg") end, "run:save: expected a figure")
check.errors(function() experiment.run(5) end, "experiment.run: expected the config table")
check.errors(function() experiment.run(cfg, { root = "/proc/forbidden" }) end, "experiment.run: cannot create")

-- SSLUA_RUN_DIR / dir names the directory exactly.
local exact = root .. "/exact/run-1"
local r4 = experiment.run(cfg, { dir = exact, script = script })
check.eq(r4.dir, exact, "exact dir")
check.truthy(read(exact .. "/config.json"):find('"seed": 11', 1, true), "exact dir config")

-- Progress: plain lines when not a terminal, a redrawn bar when forced on.
local exe = experiment.interpreter()
local prog = root .. "/prog.lua"
local f = io.open(prog, "w")
f:write('local e = require "sslua.experiment"\nlocal b = e.progress(20, {label = "train"})\nfor i = 1, 20 do b:update(i, {loss = 1 / i}) end\nb:finish()\n')
f:close()
local function runp(env)
  local h = io.popen(env .. " " .. q(exe) .. " " .. q(prog) .. " 2>&1"); local out = h:read("a"); h:close(); return out
end
local plain = runp("SSLUA_PROGRESS=0")
check.truthy(not plain:find("\r", 1, true), "plain mode has no carriage returns")
check.truthy(plain:find("train done in", 1, true), "plain final line: " .. plain)
local nlines = select(2, plain:gsub("\n", ""))
check.eq(nlines, 1, "a fast loop prints only its final line when not on a terminal")
local bar = runp("SSLUA_PROGRESS=1")
check.truthy(bar:find("\r", 1, true) and bar:find("[====", 1, true), "terminal mode draws a bar: " .. bar)
check.truthy(bar:find("train done", 1, true), "terminal mode finishes")
check.errors(function() experiment.progress(-1) end, "experiment.progress")

-- format_table aligns columns.
local t = experiment.format_table({ { policy = "small", acc = 0.5 }, { policy = "large", acc = 0.123456 } }, { "policy", "acc" })
check.eq(t, "policy     acc\n------  ------\n small     0.5\n large  0.1235", "table")

os.execute("rm -rf " .. q(root))
print("ok")

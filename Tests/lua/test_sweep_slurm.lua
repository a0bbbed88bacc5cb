-- sslua sweep --backend slurm on a real single-node Slurm (scripts/slurm-local): a sandboxed
-- grid completes as a job array and its aggregation job writes sweep.csv; a failing task and a
-- cancelled one are reported by --status (exit code and last error line; cancelled) and
-- --resume reruns them alone, from their checkpoints; --dry-run shows the batch script; no
-- sbatch on PATH, a rejected submission and a sweep directory of another script are errors.
-- Skips (SKIP) only when sbatch is absent outside CI; in CI (CI=true) it must run.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local sweep = require "sslua.sweep"
local json = require "sslua.json"
local experiment = require "sslua.experiment"
local q = experiment.shell_quote
local exe = experiment.interpreter()

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok, _, code = p:close()
  return ok == true, out, code
end
local function read(path) local f = io.open(path, "rb"); if not f then return nil end; local s = f:read("a"); f:close(); return s end
local function write(path, s) local f = assert(io.open(path, "wb")); f:write(s); f:close() end

-- Parsing of the Slurm options (no cluster needed).
local sp = sweep.parse { "x.lua", "--backend", "slurm", "--sbatch", "--partition=p --time=1:00", "--wait", "--a", "1,2" }
check.eq(sp.backend, "slurm", "--backend"); check.eq(sp.sbatch, "--partition=p --time=1:00", "--sbatch takes the next word")
check.truthy(sp.wait, "--wait"); check.eq(#sp.axes, 1, "one axis"); check.eq(#sp.flags, 0, "--wait is no flag of the script")
check.eq(sweep.parse { "--status", "d" }.status, "d", "--status DIR")
check.eq(sweep.parse { "--resume=d", "--wait" }.resume, "d", "--resume=DIR")
check.errors(function() sweep.parse { "x.lua", "--backend", "pbs" } end, "--backend expects local or slurm, got 'pbs'")
check.errors(function() sweep.parse { "--status" } end, "--status needs a value")
check.errors(function() sweep.parse { "--status", "d", "--resume", "e" } end, "exclude each other")
check.errors(function() sweep.parse { "--resume", "d", "--a", "1,2" } end, "give no grid options")
check.errors(function() sweep.main { "--status", "/nonexistent/dir" } end, "not a sweep directory (no /nonexistent/dir/sweep.json)")

-- --ntasks: MPI ranks per run, an axis of the grid the script never sees.
check.eq(table.concat(sweep.parse { "x.lua", "--ntasks", "1,2", "--a", "3" }.ntasks, ","), "1,2", "--ntasks K1,K2")
check.errors(function() sweep.parse { "x.lua", "--ntasks", "0" } end, "--ntasks expects positive integers")
check.errors(function() sweep.parse { "x.lua", "--ntasks=two" } end, "--ntasks expects positive integers (MPI ranks per run), got 'two'")

local root = os.tmpname(); os.remove(root); os.execute("mkdir -p " .. q(root .. "/marks"))

-- The states --status derives from a run directory and Slurm's task log, without a cluster:
-- a time limit, a cancellation, a kill without a message, a task that never started, an exit
-- code with the last error line (not the traceback), and squeue's word for queued tasks.
do
  local d = root .. "/fake"
  local m = { backend = "slurm", runs = {} }
  local logs = {
    "slurmstepd: error: *** JOB 7 ON n1 CANCELLED AT 2026-01-01T00:00:00 DUE TO TIME LIMIT ***\n",
    "slurmstepd: error: *** JOB 7 ON n1 CANCELLED AT 2026-01-01T00:00:00 ***\n",
    "=== sslua sweep task 7_3 on n1\n",
    nil, nil, nil,
  }
  for i = 1, 6 do
    local r = string.format("run-%03d", i)
    os.execute("mkdir -p " .. q(d .. "/" .. r) .. " " .. q(d .. "/logs"))
    m.runs[i] = { run = r, config = {}, job = "7_" .. i }
    if i ~= 4 then write(d .. "/" .. r .. "/started", "7_" .. i .. " n1 2026-01-01T00:00:00Z\n") end
    if logs[i] then write(d .. "/logs/task-" .. i .. ".out", "=== sslua sweep task 7_" .. i .. " on n1\n" .. logs[i]) end
  end
  write(d .. "/run-005/exit_code", "1\n")
  write(d .. "/run-005/stderr.txt", "=== old attempt\nsslua: old error\n=== 2026 task 7_5\nsslua: s.lua:3: the real error\nstack traceback:\n\t[C]: in ?\n")
  local queue = { ["7_6"] = "PENDING" }
  local want = { "timeout", "cancelled", "killed", "not started", "failed", "pending" }
  for i = 1, 6 do check.eq(sweep.run_state(m, d, i, queue).state, want[i], "state of fake run " .. i) end
  local st5 = sweep.run_state(m, d, 5, queue)
  check.eq(st5.code, 1, "exit code"); check.eq(st5.detail, "sslua: s.lua:3: the real error", "last error line of the last attempt")
  check.truthy(sweep.run_state(m, d, 1, queue).detail:find("DUE TO TIME LIMIT", 1, true), "the time limit message")
  -- An exit code of an earlier attempt does not count once another job owns the run.
  m.runs[5].job = "8_5"
  check.eq(sweep.run_state(m, d, 5, queue).state, "not started", "an old exit code is not the new attempt's")
  check.errors(function() sweep.run_state(5) end, "sslua.sweep.run_state: expected a sweep manifest")
  check.errors(function() sweep.run_state(m, d, 7) end, "sslua.sweep.run_state: run index 7 is not in 1..6")
  check.errors(function() sweep.aggregate({}) end, "sslua.sweep.aggregate: expected a sweep directory")
  check.errors(function() sweep.status(nil) end, "sslua.sweep.status: expected a sweep directory")
  check.errors(function() sweep.main { "Tests/lua/test_sweep_slurm.lua", "--backend", "slurm", "--sbatch", "--output=/tmp/x", "--dry-run" } end, "--sbatch cannot set --output=/tmp/x")
  check.errors(function() sweep.main { "Tests/lua/test_sweep_slurm.lua", "--backend", "slurm", "--sbatch", "--array=1-3" } end, "cannot set --array")
end
local script = root .. "/tiny.lua"
-- Two epochs with a checkpoint after each; marks/fail-<b> fails after epoch 1's checkpoint,
-- marks/early-<b> fails before it, marks/hold-<b> sleeps in epoch 2; `free` says whether the run may start processes.
write(script, [[
local experiment = require "sslua.experiment"
local cfg = experiment.args{ a = 1, b = "x", scale = 1.0 }
local marks = os.getenv("SWEEP_TEST_MARKS") or "/nonexistent"
local function has(f) local h = io.open(marks .. "/" .. f, "r"); if h then h:close(); return true end; return false end
local free = pcall(os.execute, "true")
local run = experiment.run(cfg)
local first = 1
if run.replay then local _, d = run:restore_checkpoint(); first = d.epoch + 1; print("continued after epoch " .. d.epoch) end
for e = first, 2 do
  if e == 2 and has("hold-" .. cfg.b) then os.execute("sleep 60") end
  run:log{ epoch = e, value = cfg.a * cfg.scale, tag = cfg.b, free = free and 1 or 0 }
  if has("early-" .. cfg.b) then error("failed before a checkpoint") end
  run:checkpoint({ w = sslua.zeros(1) }, { segment = 1, epoch = e, epochs = 2 })
  if e == 1 and has("fail-" .. cfg.b) then error("asked to fail") end
end
run:finish()
]])
local env = "cd " .. q(root) .. " && SSLUA_RESULTS_DIR=" .. q(root .. "/results") .. " SWEEP_TEST_MARKS=" .. q(root .. "/marks") .. " "

-- --dry-run shows the batch scripts and the runs, needs no sbatch and makes nothing.
local ok, out = sh(env .. "PATH=/nonexistent " .. q(exe) .. " --sandbox sweep " .. q(script)
  .. " --backend slurm --a 1,2 --threads 2 --jobs 1 --sbatch '--time=5 --comment \"a b\"' --dry-run")
check.truthy(ok, "dry run:\n" .. out)
check.truthy(out:find("#!/bin/sh\n#SBATCH --job-name=sweep-tiny\n", 1, true), "the array's batch script:\n" .. out)
check.truthy(out:find("#SBATCH --cpus-per-task=2\n", 1, true), "--cpus-per-task follows --threads:\n" .. out)
check.truthy(out:find("#SBATCH --time=5\n#SBATCH --comment a b\n", 1, true), "--sbatch options:\n" .. out)
check.truthy(out:find("--array=1-2%1 ", 1, true), "the array, throttled by --jobs:\n" .. out)
check.truthy(out:find("--dependency=afterany:", 1, true) and out:find(" sweep --aggregate ", 1, true), "the aggregation job:\n" .. out)
check.eq(select(2, out:gsub("' %-%-sandbox '" .. script:gsub("%p", "%%%0") .. "' ", "")), 2, "every run is sandboxed:\n" .. out)
check.truthy(not read(root .. "/results/tiny/") and os.execute("test -e " .. q(root .. "/results")) ~= true, "a dry run makes nothing")

-- No sbatch on PATH: an error before anything is made.
ok, out = sh(env .. "PATH=/nonexistent " .. q(exe) .. " sweep " .. q(script) .. " --backend slurm --a 1,2")
check.truthy(not ok and out:find("needs Slurm's sbatch on PATH", 1, true), "no sbatch:\n" .. out)
check.truthy(os.execute("test -e " .. q(root .. "/results/tiny")) ~= true, "no sbatch: no sweep directory")

if not sh("command -v sbatch >/dev/null") then
  if os.getenv("CI") == "true" then error("test_sweep_slurm: CI=true but sbatch is not on PATH (.ci/run installs slurm-client)") end
  print("SKIP test_sweep_slurm: no sbatch on PATH (apt-get install slurmctld slurmd munge slurm-client)")
  os.execute("rm -rf " .. q(root))
  print("ok")
  return
end

-- The cluster: scripts/slurm-local (reused when it runs already; stopped at the end if started here).
local was_running = sh("scripts/slurm-local status")
local sok, sout = sh("scripts/slurm-local start")
check.truthy(sok, "scripts/slurm-local start:\n" .. sout)
local conf = sout:match("export SLURM_CONF=(%S+)")
check.truthy(conf and read(conf), "slurm-local prints SLURM_CONF:\n" .. sout)
env = env .. "SLURM_CONF=" .. q(conf) .. " "
-- Every sslua command against the cluster is bounded (a stalled cluster fails, never hangs).
local bounded = "timeout 150 " .. q(exe)

local function manifest(dir) return json.decode(read(dir .. "/sweep.json")) end
local function status(dir)
  local sok2, text = sh(env .. bounded .. " sweep --status " .. q(dir))
  check.truthy(sok2, "--status:\n" .. text)
  local states = {}
  for run, rest in text:gmatch("(run%-%d%d%d)([^\n]*)") do states[run] = rest end
  return states, text
end
local function wait_until(what, cond)
  for _ = 1, 240 do
    if cond() then return end
    os.execute("sleep 0.25")
  end
  error("test_sweep_slurm: timed out waiting for " .. what)
end

local body_ok, body_err = pcall(function()
  -- 1. A sandboxed grid (`sweep ... --sandbox`; the dry run above spells it `--sandbox sweep`)
  -- completes and aggregates; --wait prints the summary.
  ok, out = sh(env .. bounded .. " sweep " .. q(script) .. " --backend slurm --a 1,2 --b x,y --scale=0.5 --threads 1 --jobs 2 --sandbox --wait")
  check.truthy(ok, "grid sweep:\n" .. out)
  check.truthy(out:find("4/4 runs succeeded", 1, true), "the summary is printed:\n" .. out)
  local dir = out:match("in (%S+/results/tiny/sweep%-[%d%-]+)")
  check.truthy(dir, "sweep directory named:\n" .. out)
  local m = manifest(dir)
  check.eq(#m.runs, 4, "four runs in sweep.json"); check.eq(#m.submissions, 1, "one submission")
  check.truthy(read(dir .. "/sweep.sbatch"):find("--cpus-per-task=1", 1, true), "the batch script is kept")
  -- the same aggregation as the local backend: runs.csv per run, sweep.csv per configuration
  local agg = read(dir .. "/sweep.csv")
  check.truthy(agg and agg:find("^a,b,scale,threads,n,failed,seconds_mean,"), "sweep.csv header:\n" .. tostring(agg))
  local csv = read(dir .. "/runs.csv")
  check.truthy(csv and csv:find("^run,a,b,scale,threads,status,seconds,epoch,"), "runs.csv header:\n" .. tostring(csv))
  local rows = {}
  for line in csv:gmatch("[^\n]+") do rows[#rows + 1] = line end
  check.eq(#rows, 5, "runs.csv: a header and four rows")
  for i = 1, 4 do
    local a, b = (i - 1) // 2 + 1, (i % 2 == 1) and "x" or "y"
    local rdir = string.format("%s/run-%03d", dir, i)
    check.truthy(rows[i + 1]:find(string.format("^run%%-%03d,%d,%s,0.5,1,ok,", i, a, b)), "row " .. i .. ": " .. rows[i + 1])
    local metrics = read(rdir .. "/metrics.csv")
    check.truthy(metrics:find("\n2,", 1, true), "run " .. i .. " logged epoch 2:\n" .. metrics)
    local cfgjson = json.decode(read(rdir .. "/config.json"))
    check.eq(cfgjson.args.b, b, "run " .. i .. " got its --b"); check.truthy(cfgjson.finished_utc, "run " .. i .. " finished")
    local row = sweep.last_row(rdir .. "/metrics.csv")
    check.eq(tonumber(row.value), a * 0.5, "run " .. i .. " value from its flags")
    check.eq(row.free, "0", "run " .. i .. " ran sandboxed (no processes)")
  end
  local st = status(dir)
  for i = 1, 4 do check.truthy(st[string.format("run-%03d", i)]:find(" done "), "--status: run " .. i .. " done") end

  -- 2. A failing task and a cancelled task: --status reports them, the others are untouched;
  -- --resume reruns exactly those two, from their checkpoints.
  write(root .. "/marks/fail-bad", ""); write(root .. "/marks/hold-slow", ""); write(root .. "/marks/early-early", "")
  ok, out = sh(env .. bounded .. " sweep " .. q(script) .. " --backend slurm --b ok,bad,slow,early")
  check.truthy(ok, "submission without --wait:\n" .. out)
  check.truthy(out:find("sweep --status ", 1, true) and out:find("submitted job array %d+"), "job ids and how to follow up:\n" .. out)
  dir = out:match("in (%S+/results/tiny/sweep%-[%d%-]+)")
  m = manifest(dir)
  wait_until("run-001 done, run-002 failed, run-003 in its epoch 2", function()
    local s = status(dir)
    return s["run-001"]:find(" done ") and s["run-002"]:find(" failed ") and s["run-003"]:find(" running ")
      and s["run-004"]:find(" failed ")
      and read(dir .. "/run-003/checkpoint.json") ~= nil
  end)
  local text
  st, text = status(dir)
  check.truthy(st["run-002"]:find(" failed +1 ") and st["run-002"]:find("asked to fail", 1, true), "--status: exit code and last error line:\n" .. text)
  check.truthy(sh(env .. "scancel " .. q(m.runs[3].job)), "scancel the held task")
  wait_until("the aggregation job", function() return read(dir .. "/aggregated") ~= nil end)
  st, text = status(dir)
  check.truthy(st["run-003"]:find(" cancelled ") and st["run-003"]:find("CANCELLED", 1, true), "--status: cancelled:\n" .. text)
  check.truthy(st["run-001"]:find(" done "), "--status: the good run is done")
  csv = read(dir .. "/runs.csv")
  check.truthy(csv:find("run%-001,ok,ok,") and csv:find("run%-002,bad,exit 1,") and csv:find("run%-003,slow,cancelled,"), "runs.csv states:\n" .. csv)
  local good_before = read(dir .. "/run-001/config.json") .. read(dir .. "/run-001/started")

  -- A sweep directory of another script, and a script changed since, are refused.
  write(root .. "/other.lua", "print(1)\n")
  ok, out = sh(env .. bounded .. " sweep " .. q(root .. "/other.lua") .. " --resume " .. q(dir))
  check.truthy(not ok and out:find("the sweep was made by the script " .. script, 1, true), "another script:\n" .. out)
  ok, out = sh(env .. bounded .. " sweep --resume " .. q(root))
  check.truthy(not ok and out:find("not a sweep directory", 1, true), "not a sweep directory:\n" .. out)

  local early_job = m.runs[4].job
  os.remove(root .. "/marks/fail-bad"); os.remove(root .. "/marks/hold-slow"); os.remove(root .. "/marks/early-early")
  ok, out = sh(env .. bounded .. " sweep --resume " .. q(dir) .. " --wait")
  check.truthy(ok, "--resume --wait:\n" .. out)
  check.truthy(out:find("resubmitting 3 of 4 runs (run-002 run-003 run-004); 1 done", 1, true), "only the failed and cancelled runs:\n" .. out)
  check.truthy(out:find("4/4 runs succeeded", 1, true), "summary after --resume:\n" .. out)
  check.eq(read(dir .. "/run-001/config.json") .. read(dir .. "/run-001/started"), good_before, "the good run is not touched")
  for _, r in ipairs { "run-002", "run-003" } do
    check.truthy(read(dir .. "/" .. r .. "/stdout.txt"):find("continued after epoch 1", 1, true), r .. " resumed from its checkpoint")
    local metrics = read(dir .. "/" .. r .. "/metrics.csv")
    check.eq(select(2, metrics:gsub("\n", "")), 3, r .. ": header, epoch 1 and epoch 2 once each:\n" .. metrics)
    check.truthy(read(dir .. "/" .. r .. "/stderr.txt"):find("asked to fail", 1, true) or r == "run-003", r .. ": the failed attempt's stderr is kept")
  end
  -- run-004 failed before any checkpoint: it starts afresh, the first attempt's files kept aside.
  check.truthy(not read(dir .. "/run-004/stdout.txt"):find("continued after", 1, true), "run-004 starts afresh")
  check.eq(select(2, read(dir .. "/run-004/metrics.csv"):gsub("\n", "")), 3, "run-004: two epochs")
  local kept = read(dir .. "/run-004/attempts/" .. early_job .. "/metrics.csv")
  check.truthy(kept and select(2, kept:gsub("\n", "")) == 2, "the failed attempt's metrics.csv is kept in attempts/: " .. tostring(kept))
  check.truthy(read(dir .. "/run-004/attempts/" .. early_job .. "/config.json"), "and its config.json")
  check.truthy(read(dir .. "/run-004/stderr.txt"):find("failed before a checkpoint", 1, true), "its stderr is kept")
  check.eq(#manifest(dir).submissions, 2, "two submissions recorded")
  ok, out = sh(env .. bounded .. " sweep --resume " .. q(dir))
  check.truthy(ok and out:find("nothing to resume (4 done", 1, true), "nothing left to resume:\n" .. out)

  -- 3. A rejected submission: a clear error, the sweep directory kept and resumable.
  ok, out = sh(env .. bounded .. " sweep " .. q(script) .. " --backend slurm --b x --sbatch --partition=nowhere")
  check.truthy(not ok and out:find("sbatch rejected the job array", 1, true) and out:find("nothing was submitted", 1, true), "rejected:\n" .. out)
  dir = out:match("in (%S+/results/tiny/sweep%-[%d%-]+)")
  st, text = status(dir)
  check.truthy(st["run-001"]:find(" not submitted"), "--status of a rejected sweep:\n" .. text)
  -- --resume with other sbatch options rewrites the batch script and submits.
  ok, out = sh(env .. bounded .. " sweep --resume " .. q(dir) .. " --sbatch --partition=debug --wait")
  check.truthy(ok and out:find("1/1 runs succeeded", 1, true), "--resume --sbatch after a rejection:\n" .. out)
  check.truthy(read(dir .. "/sweep.sbatch"):find("#SBATCH --partition=debug\n", 1, true), "the batch script is rewritten")
  -- A script changed since the sweep: --resume refuses.
  write(script, read(script) .. "-- changed\n")
  ok, out = sh(env .. bounded .. " sweep --resume " .. q(dir))
  check.truthy(not ok and out:find("the script differs", 1, true), "changed script:\n" .. out)

  -- 4. --ntasks 1,2: one job array per number of ranks (the 2-rank one asks Slurm for 2 tasks
  -- and starts the run with srun), one world of 2 ranks in run-002, one run directory each.
  local dscript = root .. "/ranks.lua"
  write(dscript, [[
local experiment = require "sslua.experiment"
local cfg = experiment.args{ a = 1 }
local run = experiment.run(cfg)
local s = sslua.dist.all_reduce(sslua.tensor({ sslua.dist.rank() + 1.0 })):sum():item()
run:log{ epoch = 1, size = sslua.dist.size(), ranksum = s, a = cfg.a }
run:finish()
]])
  local menv = env .. "OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo "
    .. "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
  ok, out = sh(menv .. bounded .. " sweep " .. q(dscript) .. " --backend slurm --a 3 --ntasks 1,2 --wait")
  check.truthy(ok and out:find("2/2 runs succeeded", 1, true), "--ntasks 1,2 under Slurm:\n" .. out)
  dir = out:match("in (%S+/results/ranks/sweep%-[%d%-]+)")
  m = manifest(dir)
  check.eq(#m.submissions[1].arrays, 2, "one job array per number of ranks")
  check.truthy(read(dir .. "/sweep-ntasks2.sbatch"):find("#SBATCH --ntasks=2\n", 1, true), "the 2-rank array asks for 2 tasks")
  check.truthy(not read(dir .. "/sweep.sbatch"):find("--ntasks", 1, true), "the 1-rank array asks for none")
  check.truthy(m.runs[2].command:find("^srun %-%-ntasks=2 "), "run-002 starts with srun: " .. m.runs[2].command)
  check.truthy(not m.runs[2].command:find("--ntasks=2'", 1, true), "the script gets no --ntasks")
  for i, k in ipairs({ 1, 2 }) do
    local row = sweep.last_row(string.format("%s/run-%03d/metrics.csv", dir, i))
    check.eq(tonumber(row.size), k, "run " .. i .. ": a world of " .. k)
    check.eq(tonumber(row.ranksum), k * (k + 1) / 2, "run " .. i .. ": the ranks reduce together")
    check.eq(tonumber(row.a), 3, "run " .. i .. ": the script's own option")
  end
  check.truthy(read(dir .. "/runs.csv"):find("^run,a,ntasks,status,"), "runs.csv groups by ntasks:\n" .. read(dir .. "/runs.csv"))

  -- The local backend starts a run of K ranks with mpirun -np K.
  ok, out = sh(menv .. bounded .. " sweep " .. q(dscript) .. " --a 4 --ntasks 2")
  check.truthy(ok and out:find("1/1 runs succeeded", 1, true) or out:find("sweep: 1/1", 1, true), "--ntasks 2 here:\n" .. out)
  local ldir = out:match("in (%S+/results/ranks/sweep%-[%d%-]+)")
  check.truthy(ldir, "local sweep directory:\n" .. out)
  local lrow = sweep.last_row(ldir .. "/run-001/metrics.csv")
  check.eq(tonumber(lrow.size), 2, "local: a world of 2 (mpirun -np 2)")
end)

if not was_running then
  sh(env .. "scancel --me")   -- our own cluster: nothing of a failed check keeps running
  sh("scripts/slurm-local stop")
end
os.execute("rm -rf " .. q(root))
if not body_ok then error(body_err, 0) end
print("ok")

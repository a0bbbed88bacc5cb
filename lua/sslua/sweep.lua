-- `sslua sweep script.lua --policy small,large --epochs 5,10 [--jobs 2]`: runs the cartesian
-- product of the listed values as separate sslua processes, at most --jobs at once, each in
-- its own run directory under results/<script>/sweep-<time>/, then prints a summary table
-- (mean, std and n over seeds of each run's last metrics row) and writes it to sweep.csv beside
-- the runs (sslua.sweep_summary), with runs.csv (one row per run) and one figure per metric.
-- `--backend slurm` submits the same grid to Slurm as one job array (see "Slurm" below).
local experiment = require "sslua.experiment"
local json = require "sslua.json"
local sha256 = require "sslua.sha256"
local summary = require "sslua.sweep_summary"
local util = require "sslua.util"
local q = experiment.shell_quote

local sweep = {}

local usage = [[
usage: sslua sweep script.lua [--name v1,v2,...]... [--jobs N] [--sandbox] [--dry-run]
                   [--backend local|slurm] [--sbatch "OPTIONS"] [--ntasks K1,K2,...] [--wait]
       sslua sweep --status DIR
       sslua sweep [script.lua] --resume DIR [--wait]
       sslua sweep --aggregate DIR

Runs script.lua once per combination of the listed values (the cartesian product, first
option outermost), passing --name=value to each run. A value in brackets, [a,b], is passed
as one value (a list option of the script). --flag alone is passed to every run.
  --jobs N          runs at once (default 1; under Slurm the array's %N limit, default none)
  --sandbox         run every run as `sslua --sandbox` (also: sslua --sandbox sweep ...)
  --dry-run         print the command lines (and the Slurm batch script) and exit
  --backend B       local (default: a process pool here) or slurm (one job array, sbatch)
  --sbatch "OPTS"   extra sbatch options for every task, e.g. "--partition=p --time=2:00:00"
  --ntasks K,...    MPI ranks per run (an axis of the grid when several): a run of K > 1 ranks
                    starts as `mpirun -np K` here and as `srun --ntasks=K` in a Slurm job of K
                    tasks (one job array per K); each run trains data-parallel (sslua.dist)
  --wait            (slurm) block until the sweep is done and print the summary
  --status DIR      each run's state: pending, running, done, failed (exit code, last error)
  --resume DIR      (slurm) resubmit only the runs that failed or never finished
                    (with --sbatch or --jobs: new options for the resubmitted tasks)
  --aggregate DIR   write DIR/sweep.csv and the summary from the run directories
  --help            this text
Under Slurm, --threads N (an option of experiment scripts) also sets --cpus-per-task.
srun needs the cluster's MPI plugin (MpiDefault=pmix in slurm.conf, or SLURM_MPI_TYPE=pmix).]]

-- Splits "a,b,c" into the values of one grid axis; "[a,b]" stays one value "a,b".
local function bracketed(text, i)
  local j = text:find("]", i, true)
  if not j then error("sslua sweep: unclosed '[' in '" .. text .. "'", 0) end
  if j < #text and text:sub(j + 1, j + 1) ~= "," then error("sslua sweep: expected ',' after ']' in '" .. text .. "'", 0) end
  return text:sub(i + 1, j - 1), j + 2
end

local function split_values(text) return util.split_fields(text, "[", bracketed) end

-- The sweep's own options that take a value (all others are grid axes or flags of the script).
local sweep_options = { backend = true, sbatch = true, status = true, resume = true, aggregate = true, ntasks = true }

--- sweep.parse(args) -> {script=, axes={{name=, values={...}}, ...}, flags={...}, jobs=, dry_run=, sandbox=}
function sweep.parse(args)
  if type(args) ~= "table" then error("sslua sweep: expected a list of arguments", 2) end
  local spec = { axes = {}, flags = {}, jobs = 1, dry_run = false, backend = "local" }
  local i = 1
  while i <= #args do
    local a = args[i]
    if type(a) ~= "string" then error("sslua sweep: argument " .. i .. " is not a string", 2) end
    if a == "--help" or a == "-h" then spec.help = true; return spec end
    local name, value = a:match("^%-%-([%w_%-]+)=(.*)$")
    if not name then name = a:match("^%-%-([%w_%-]+)$") end
    if not name then
      if spec.script then error("sslua sweep: unexpected argument '" .. a .. "' (options look like --name v1,v2)", 2) end
      spec.script = a
    elseif name == "dry-run" then
      spec.dry_run = true
    elseif name == "sandbox" and value == nil then
      spec.sandbox = true   -- every run gets `sslua --sandbox` (the launcher itself is not sandboxed)
    elseif name == "wait" and value == nil then
      spec.wait = true
    elseif sweep_options[name] then
      -- The sweep's own options with a value: the next word whatever it looks like
      -- (--sbatch "--partition=p ..." starts with dashes).
      if value == nil then value = args[i + 1]; i = i + 1 end
      if type(value) ~= "string" or value == "" then error("sslua sweep: --" .. name .. " needs a value", 2) end
      if name == "backend" then
        if value ~= "local" and value ~= "slurm" then
          error("sslua sweep: --backend expects local or slurm, got '" .. value .. "'", 2)
        end
        spec.backend = value
      elseif name == "ntasks" then
        local ok, values = pcall(split_values, value)
        if not ok then error(values, 2) end
        spec.ntasks = {}
        for _, v in ipairs(values) do
          local n = math.tointeger(tonumber(v))
          if not n or n < 1 or n > 4096 then error("sslua sweep: --ntasks expects positive integers (MPI ranks per run), got '" .. v .. "'", 2) end
          spec.ntasks[#spec.ntasks + 1] = tostring(n)
        end
      else
        spec[name] = value
      end
    else
      if value == nil then
        local nxt = args[i + 1]
        if nxt ~= nil and not nxt:match("^%-%-[%a]") then value = nxt; i = i + 1 end
      end
      if name == "jobs" then
        local n = math.tointeger(tonumber(value or ""))
        if not n or n < 1 then error("sslua sweep: --jobs expects a positive integer, got '" .. tostring(value) .. "'", 2) end
        spec.jobs = n
        spec.jobs_given = true
      elseif value == nil then
        spec.flags[#spec.flags + 1] = "--" .. name
      else
        local ok, values = pcall(split_values, value)
        if not ok then error(values, 2) end
        spec.axes[#spec.axes + 1] = { name = name, values = values }
      end
    end
    i = i + 1
  end
  local modes = 0
  for _, k in ipairs { "status", "resume", "aggregate" } do if spec[k] then modes = modes + 1 end end
  if modes > 1 then error("sslua sweep: --status, --resume and --aggregate exclude each other", 2) end
  if (spec.status or spec.aggregate) and (spec.script or #spec.axes > 0 or #spec.flags > 0) then
    error("sslua sweep: --" .. (spec.status and "status" or "aggregate") .. " DIR takes no script or grid", 2)
  end
  if spec.resume and (#spec.axes > 0 or #spec.flags > 0) then
    error("sslua sweep: --resume DIR reruns the sweep's own grid; give no grid options", 2)
  end
  if not spec.script and modes == 0 then error("sslua sweep: no script given (usage: sslua sweep script.lua --name v1,v2 ...)", 2) end
  return spec
end

--- sweep.grid(axes) -> list of configurations, each a list of {name, value} in axis order.
function sweep.grid(axes)
  local out = { {} }
  for _, ax in ipairs(axes) do
    local nxt = {}
    for _, partial in ipairs(out) do
      for _, v in ipairs(ax.values) do
        local c = {}
        for k = 1, #partial do c[k] = partial[k] end
        c[#c + 1] = { ax.name, v }
        nxt[#nxt + 1] = c
      end
    end
    out = nxt
  end
  return out
end

local read_file = util.read_file

--- sweep.last_row(path) -> the last row of a CSV file as a table and its header, or nil.
sweep.last_row = summary.last_row

local function write_file(path, text) experiment.write_atomic(path, text) end

-- Runs a shell command; returns ok, its stdout, and what it wrote on stderr.
local function capture(cmd)
  local err = os.tmpname()
  local p = io.popen(cmd .. " 2>" .. q(err))
  local out = p and p:read("a") or ""
  local ok, _, code = true, nil, 0
  if p then ok, _, code = p:close() end
  local e = read_file(err) or ""
  os.remove(err)
  return ok == true, out, e, code
end

local exists = util.file_exists

local function absolute(path)
  if path:sub(1, 1) == "/" then return path end
  local real = sslua and sslua._fs and sslua._fs.realpath and sslua._fs.realpath(path)
  if real and real ~= "" then return real end
  local cwd = os.getenv("PWD") or "."
  return cwd .. "/" .. path
end

local function cwd()
  local real = sslua and sslua._fs and sslua._fs.realpath and sslua._fs.realpath(".")
  return (real and real ~= "") and real or (os.getenv("PWD") or ".")
end

local function describe(config)
  local desc = {}
  for _, kv in ipairs(config) do desc[#desc + 1] = kv[1] .. "=" .. kv[2] end
  return table.concat(desc, " ")
end

-- Creates a new `sweep-<time>` directory under root; returns its path.
local function new_sweep_dir(root)
  os.execute("mkdir -p " .. q(root))
  local stamp = os.date("!%Y%m%d-%H%M%S")
  for k = 1, 1000 do
    local cand = root .. "/sweep-" .. stamp .. (k > 1 and ("-" .. k) or "")
    if os.execute("mkdir " .. q(cand) .. " 2>/dev/null") == true then return cand end
  end
  error("sslua sweep: cannot create a sweep directory under " .. root, 0)
end

-- The MPI ranks of a configuration: its `ntasks` value (the sweep's --ntasks axis), else 1.
local function ntasks_of(spec, config)
  if not spec.ntasks then return 1 end
  for _, kv in ipairs(config) do
    if kv[1] == "ntasks" then return tonumber(kv[2]) end
  end
  return 1
end

-- The command line of each configuration. The --ntasks axis is the sweep's, not the script's:
-- it chooses the launcher (`mpirun -np K` on this machine, `srun --ntasks=K` in a Slurm job).
local function commands_of(spec, configs, exe, script, backend, cpus)
  local commands = {}
  for i, c in ipairs(configs) do
    local argv = {}
    local k = ntasks_of(spec, c)
    if k > 1 and backend == "slurm" then
      argv[#argv + 1] = "srun --ntasks=" .. k .. (cpus and (" --cpus-per-task=" .. cpus) or "")
    elseif k > 1 then
      argv[#argv + 1] = "mpirun --oversubscribe -np " .. k .. " -x SSLUA_RUN_DIR -x SSLUA_PROGRESS"
    end
    argv[#argv + 1] = q(exe)
    if spec.sandbox then argv[#argv + 1] = "--sandbox" end
    argv[#argv + 1] = q(script)
    for _, f in ipairs(spec.flags) do argv[#argv + 1] = q(f) end
    for _, kv in ipairs(c) do
      if not (spec.ntasks and kv[1] == "ntasks") then argv[#argv + 1] = q("--" .. kv[1] .. "=" .. kv[2]) end
    end
    commands[i] = table.concat(argv, " ")
  end
  return commands
end

-- The manifest (sweep.json) that --status, --resume and --aggregate read.
local MANIFEST = "sslua-sweep-1"

local function write_manifest(dir, m)
  write_file(dir .. "/sweep.json", json.encode(m, { indent = "  " }) .. "\n")
end

local function read_manifest(dir, what)
  if type(dir) ~= "string" or dir == "" then error("sslua sweep: " .. what .. " needs a sweep directory", 0) end
  dir = dir:gsub("(.)/+$", "%1")
  local text = read_file(dir .. "/sweep.json")
  if not text then
    error("sslua sweep: " .. what .. " " .. dir .. ": not a sweep directory (no " .. dir .. "/sweep.json)", 0)
  end
  local ok, m = pcall(json.decode, text)
  if not ok or type(m) ~= "table" or m.format ~= MANIFEST or type(m.runs) ~= "table" or type(m.axes) ~= "table" then
    error("sslua sweep: " .. what .. " " .. dir .. ": " .. dir .. "/sweep.json is not a sweep manifest ("
      .. (ok and "format " .. tostring(type(m) == "table" and m.format or m) or tostring(m)) .. ")", 0)
  end
  m.submissions = type(m.submissions) == "table" and m.submissions or {}
  return m, absolute(dir)
end

-- The last line of a run's stderr (its latest attempt) that says what went wrong: not a line
-- of a Lua stack traceback.
local function last_error_line(path)
  local text = read_file(path)
  if not text then return nil end
  local last, in_trace
  for line in text:gmatch("[^\n]+") do
    if line:match("^=== ") then last, in_trace = nil, false
    elseif line:match("^stack traceback:") then in_trace = true
    elseif in_trace and line:match("^%s") then -- a traceback frame
    elseif line:match("%S") then last, in_trace = line, false end
  end
  return last
end

-- What Slurm wrote in a task's log after the task's last start: a cancellation or time limit.
local function slurm_verdict(path)
  local text = read_file(path)
  if not text then return nil end
  local tail = text
  local k = 1
  while true do
    local a = text:find("=== sslua sweep task ", k, true)
    if not a then break end
    tail, k = text:sub(a), a + 1
  end
  local msg = tail:match("(%*%*%* JOB [^\n]-%*%*%*)") or tail:match("(%*%*%* STEP [^\n]-%*%*%*)")
  if not msg then return nil end
  if msg:find("TIME LIMIT", 1, true) then return "timeout", msg end
  if msg:find("PREEMPTION", 1, true) then return "preempted", msg end
  if msg:find("NODE FAIL", 1, true) then return "node failure", msg end
  if msg:find("CANCELLED", 1, true) then return "cancelled", msg end
  return "killed", msg
end

--- sweep.run_state(m, dir, i [, queue]) -> {state=, code=, detail=, job=}: the state of run i
--- of the sweep in dir, from its run directory (exit_code, started, stderr.txt, the Slurm log)
--- and `queue` (job id -> Slurm state, from squeue) for runs still queued.
function sweep.run_state(m, dir, i, queue)
  if type(m) ~= "table" or type(m.runs) ~= "table" then error("sslua.sweep.run_state: expected a sweep manifest (sweep.json) first", 2) end
  if type(dir) ~= "string" then error("sslua.sweep.run_state: expected the sweep directory second, got " .. type(dir), 2) end
  if math.type(i) ~= "integer" or type(m.runs[i]) ~= "table" then
    error("sslua.sweep.run_state: run index " .. tostring(i) .. " is not in 1.." .. #m.runs, 2)
  end
  if queue ~= nil and type(queue) ~= "table" then error("sslua.sweep.run_state: queue must be a table of job id -> state", 2) end
  local r = m.runs[i]
  local rdir = dir .. "/" .. r.run
  local job = r.job
  local st = { job = job }
  if job and queue and queue[job] then
    st.state = queue[job]:lower()
    return st
  end
  local started = (read_file(rdir .. "/started") or ""):match("^(%S+)")
  local rc = tonumber((read_file(rdir .. "/exit_code") or ""):match("%-?%d+"))
  local current = (m.backend ~= "slurm") or (job ~= nil and started == job)
  if rc and current then
    st.code = rc
    if rc == 0 then st.state = "done"
    else st.state = "failed"; st.detail = last_error_line(rdir .. "/stderr.txt") end
    return st
  end
  if m.backend ~= "slurm" then st.state = "unfinished"; return st end
  if not job then st.state = "not submitted"; return st end
  if started ~= job then
    -- Never started by its latest submission and no longer queued: cancelled while pending.
    st.state = "not started"
    st.detail = queue and "left the queue without starting (cancelled?)" or "squeue unavailable"
    return st
  end
  local verdict, msg = slurm_verdict(dir .. "/logs/task-" .. i .. ".out")
  if queue == nil then st.state = "unknown"; st.detail = "started, no exit code; squeue unavailable"; return st end
  st.state = verdict or "killed"
  st.detail = msg or "started, ended without an exit code (killed?)"
  return st
end

-- The aggregation status word of a run: ok, exit N, or its state.
local function status_word(st)
  if st.state == "done" then return "ok" end
  if st.state == "failed" then return "exit " .. tostring(st.code) end
  return st.state
end

--- sweep.aggregate(dir [, m]) -> code, rows, text: the summary table (the grid values, status,
--- time, and the last metrics row of each run), also written to dir/sweep.csv. code is 0 when
--- every run succeeded.
function sweep.aggregate(dir, m, queue)
  if type(dir) ~= "string" then error("sslua.sweep.aggregate: expected a sweep directory, got " .. type(dir), 2) end
  if m ~= nil and (type(m) ~= "table" or type(m.runs) ~= "table" or type(m.axes) ~= "table") then
    error("sslua.sweep.aggregate: expected a sweep manifest second", 2)
  end
  if m == nil then m, dir = read_manifest(dir, "--aggregate") end
  -- sslua.sweep_summary: failed runs marked in their config.json, runs.csv, sweep.csv (mean,
  -- std and n over seeds per configuration), the table and one figure per metric; the run
  -- states (cancelled, timeout, ...) come from the backend.
  local configs = {}
  for i, r in ipairs(m.runs) do configs[i] = r.config end
  local runs = summary.collect(dir, configs)
  local failures = 0
  for i, r in ipairs(runs) do
    local st = sweep.run_state(m, dir, i, queue)
    r.status = status_word(st)
    if st.state ~= "done" then
      failures = failures + 1
      if r.exit == 0 then r.exit = nil end
    end
  end
  local axis_names = {}
  for k, ax in ipairs(m.axes) do axis_names[k] = ax.name end
  local _, rows, _, text = summary.write(dir, runs, { axes = axis_names, quiet = true })
  text = text .. "\n" .. string.format("sweep: %d/%d runs succeeded; summary in %s/sweep.csv (per run: runs.csv)",
    #m.runs - failures, #m.runs, dir)
  return failures == 0 and 0 or 1, rows, text
end

-- The local backend: a process pool of --jobs (xargs -P) on this machine.
local function run_local(spec, configs, commands)
  local name = spec.script:match("([^/]+)$"):gsub("%.lua$", "")
  local root = (os.getenv("SSLUA_RESULTS_DIR") or "results") .. "/" .. name
  local ok, dir = pcall(new_sweep_dir, root)
  if not ok then error(dir, 2) end
  local m = { format = MANIFEST, backend = "local", script = absolute(spec.script), name = name,
    script_sha256 = sha256.file(spec.script) or json.null, axes = spec.axes, flags = spec.flags,
    sandbox = spec.sandbox == true, jobs = spec.jobs, created_utc = os.date("!%Y-%m-%dT%H:%M:%SZ"), runs = {} }
  -- One shell script per run; xargs runs at most --jobs of them at once and each reports
  -- "done <i>" on the shared pipe when it ends.
  local list = {}
  for i, cmd in ipairs(commands) do
    local rdir = string.format("%s/run-%03d", dir, i)
    m.runs[i] = { run = string.format("run-%03d", i), config = configs[i], command = cmd }
    os.execute("mkdir -p " .. q(rdir))
    local script = table.concat({
      "start=$(date +%s%N)",
      "SSLUA_RUN_DIR=" .. q(rdir) .. " SSLUA_PROGRESS=0 " .. cmd .. " > " .. q(rdir .. "/stdout.txt") .. " 2> " .. q(rdir .. "/stderr.txt"),
      "rc=$?",
      "echo $(( ($(date +%s%N) - start) / 1000000 )) > " .. q(rdir .. "/elapsed_ms"),
      "echo $rc > " .. q(rdir .. "/exit_code"),
      "echo \"done " .. i .. " $rc\"",
    }, "\n") .. "\n"
    local f = assert(io.open(rdir .. "/run.sh", "w"))
    f:write(script)
    f:close()
    list[i] = rdir .. "/run.sh"
  end
  write_manifest(dir, m)
  local lf = assert(io.open(dir .. "/jobs.txt", "w"))
  lf:write(table.concat(list, "\n"), "\n")
  lf:close()
  print(string.format("sweep: %d runs of %s, %d at once, in %s", #commands, spec.script, spec.jobs, dir))
  local p = io.popen("xargs -d '\\n' -n 1 -P " .. spec.jobs .. " sh < " .. q(dir .. "/jobs.txt"))
  local finished = 0
  for line in p:lines() do
    local i, rc = line:match("^done (%d+) (%d+)")
    if i then
      finished = finished + 1
      print(string.format("[%d/%d] run-%03d %s %s", finished, #commands, tonumber(i), describe(configs[tonumber(i)]),
        rc == "0" and "ok" or ("FAILED (exit " .. rc .. ")")))
      io.stdout:flush()
    end
  end
  p:close()
  local code, rows, text = sweep.aggregate(dir, m)
  print(text)
  sweep.last_dir = dir
  return code, rows, dir
end

-- Slurm ---------------------------------------------------------------------------------------
-- A sweep is one job array (task i runs run-00i/run.sh) and an aggregation job that depends on
-- it (afterany), both from batch scripts kept in the sweep directory. Every path is absolute:
-- the tasks need the shared file system, not the submit host. A run directory holds `started`
-- (the task that last started it), `exit_code` and `elapsed_ms` (when it ended), stdout.txt and
-- stderr.txt (appended, one `=== ` header per attempt); logs/task-<i>.out is Slurm's log of the
-- task (where slurmstepd writes a cancellation or a time limit). sweep.json records the grid
-- and, for each run, the job (<array>_<i>) that last ran it.

-- Splits --sbatch "..." into words (single and double quotes group).
local function split_words(text)
  local out, cur, i, quote, any = {}, {}, 1, nil, false
  while i <= #text do
    local ch = text:sub(i, i)
    if quote then
      if ch == quote then quote = nil else cur[#cur + 1] = ch end
    elseif ch == "'" or ch == '"' then quote = ch; any = true
    elseif ch:match("%s") then
      if #cur > 0 or any then out[#out + 1] = table.concat(cur); cur, any = {}, false end
    else cur[#cur + 1] = ch end
    i = i + 1
  end
  if quote then error("sslua sweep: unclosed " .. quote .. " in --sbatch '" .. text .. "'", 0) end
  if #cur > 0 or any then out[#out + 1] = table.concat(cur) end
  return out
end

-- "#SBATCH" lines of the user's --sbatch options ("--time 2:00:00" keeps its value).
local function sbatch_lines(words)
  local lines = {}
  for _, w in ipairs(words) do
    if w:sub(1, 1) == "-" or #lines == 0 then
      if w:sub(1, 1) ~= "-" then error("sslua sweep: --sbatch options start with '-', got '" .. w .. "'", 0) end
      if w:match("^%-%-array") or w:match("^%-a$") then error("sslua sweep: --sbatch cannot set --array (the sweep makes the array)", 0) end
      if w:match("^%-%-dependency") or w:match("^%-d$") then error("sslua sweep: --sbatch cannot set --dependency", 0) end
      if w:match("^%-%-output") or w:match("^%-%-error") or w:match("^%-[oe]") then
        error("sslua sweep: --sbatch cannot set " .. w .. " (the sweep keeps each task's Slurm log in DIR/logs/, where --status reads it)", 0)
      end
      lines[#lines + 1] = w
    else
      lines[#lines] = lines[#lines] .. " " .. w
    end
  end
  for k, l in ipairs(lines) do
    if l:find("\n", 1, true) then error("sslua sweep: --sbatch option " .. k .. " has a newline", 0) end
    lines[k] = "#SBATCH " .. l
  end
  return lines
end

-- The array's index list: "1-4,6,9-10".
local function ranges(list)
  local parts, a = {}, 1
  while a <= #list do
    local b = a
    while b < #list and list[b + 1] == list[b] + 1 do b = b + 1 end
    parts[#parts + 1] = list[a] == list[b] and tostring(list[a]) or (list[a] .. "-" .. list[b])
    a = b + 1
  end
  return table.concat(parts, ",")
end

local function has_command(name)
  return os.execute("command -v " .. q(name) .. " >/dev/null 2>&1") == true
end

local function need_sbatch(what)
  if not has_command("sbatch") then
    error("sslua sweep: " .. what .. " needs Slurm's sbatch on PATH, and there is none (install Slurm's client, "
      .. "e.g. Debian's slurm-client, or run on a cluster's login node; scripts/slurm-local start runs a one-node cluster here)", 0)
  end
end

-- The threads a task uses: the largest --threads of the grid (an experiment option), or nil.
local function threads_of(spec)
  local best
  for _, ax in ipairs(spec.axes) do
    if ax.name == "threads" then
      for _, v in ipairs(ax.values) do
        local n = math.tointeger(tonumber(v))
        if n and n > 0 and (not best or n > best) then best = n end
      end
    end
  end
  return best
end

-- The per-run script of a Slurm task.
local function slurm_run_script(rdir, run, config, command, results)
  local resume_cmd = command .. " --resume " .. q(rdir)
  return table.concat({
    "#!/bin/sh",
    "# " .. run .. " of the sweep: " .. (describe(config) ~= "" and describe(config) or "(no grid values)"),
    "rdir=" .. q(rdir),
    "tag=\"${SLURM_ARRAY_JOB_ID:-${SLURM_JOB_ID:-none}}_${SLURM_ARRAY_TASK_ID:-0}\"",
    "prev=$(cut -d ' ' -f 1 \"$rdir/started\" 2>/dev/null)",
    "# A run that reached a checkpoint continues from it (--resume); otherwise it starts afresh,",
    "# and what an earlier attempt left (config.json, metrics.csv, ...) moves to attempts/<job>/.",
    "resume=",
    "if [ -f \"$rdir/checkpoint.json\" ] && [ -f \"$rdir/config.json\" ]; then resume=' (--resume)'; fi",
    "if [ -z \"$resume\" ] && [ -f \"$rdir/config.json\" ]; then",
    "  keep=\"$rdir/attempts/${prev:-earlier}\"",
    "  mkdir -p \"$keep\"",
    "  for f in \"$rdir\"/*; do",
    "    case \"${f##*/}\" in run.sh|started|stdout.txt|stderr.txt|attempts) ;; *) mv \"$f\" \"$keep/\" ;; esac",
    "  done",
    "fi",
    "rm -f \"$rdir/exit_code\" \"$rdir/elapsed_ms\"",
    "echo \"$tag $(hostname) $(date -u +%Y-%m-%dT%H:%M:%SZ)\" > \"$rdir/started\"",
    "echo \"=== $(date -u +%Y-%m-%dT%H:%M:%SZ) task $tag$resume\" >> \"$rdir/stdout.txt\"",
    "echo \"=== $(date -u +%Y-%m-%dT%H:%M:%SZ) task $tag$resume\" >> \"$rdir/stderr.txt\"",
    "export SSLUA_RESULTS_DIR=" .. q(results) .. " SSLUA_PROGRESS=0",
    "start=$(date +%s%N)",
    "if [ -n \"$resume\" ]; then",
    "  " .. resume_cmd .. " >> \"$rdir/stdout.txt\" 2>> \"$rdir/stderr.txt\"",
    "else",
    "  SSLUA_RUN_DIR=\"$rdir\" " .. command .. " >> \"$rdir/stdout.txt\" 2>> \"$rdir/stderr.txt\"",
    "fi",
    "rc=$?",
    "echo $(( ($(date +%s%N) - start) / 1000000 )) > \"$rdir/elapsed_ms\"",
    "echo $rc > \"$rdir/exit_code\"",
    "exit $rc",
  }, "\n") .. "\n"
end

-- The batch script of the runs of K ranks (one job array per K; K = 1 without --ntasks).
local function batch_name(k) return k > 1 and ("sweep-ntasks" .. k .. ".sbatch") or "sweep.sbatch" end

-- The distinct ranks per run of the runs `indices` (all runs when nil), ascending.
local function ntasks_groups(m, indices)
  local seen, ks, groups = {}, {}, {}
  if not indices then indices = {}; for i = 1, #m.runs do indices[i] = i end end
  for _, i in ipairs(indices) do
    local k = tonumber(m.runs[i].ntasks) or 1
    if not seen[k] then seen[k] = true; ks[#ks + 1] = k; groups[k] = {} end
    local g = groups[k]
    g[#g + 1] = i
  end
  table.sort(ks)
  return ks, groups
end

-- The batch scripts of the array (for runs of k ranks) and of the aggregation job.
local function slurm_scripts(m, dir, k)
  k = k or 1
  local head = { "#!/bin/sh", "#SBATCH --job-name=" .. ("sweep-" .. m.name):gsub("[^%w%._%-]", "_"),
    "#SBATCH --chdir=" .. m.cwd, "#SBATCH --open-mode=append" }
  local array = {}
  for _, l in ipairs(head) do array[#array + 1] = l end
  array[#array + 1] = "#SBATCH --output=" .. dir .. "/logs/task-%a.out"
  if m.cpus then array[#array + 1] = "#SBATCH --cpus-per-task=" .. m.cpus end
  if k > 1 then array[#array + 1] = "#SBATCH --ntasks=" .. k end
  local user = sbatch_lines(m.sbatch_words)
  for _, l in ipairs(user) do array[#array + 1] = l end
  array[#array + 1] = "# Task i of the array (submitted with --array=<indices>%<jobs>) runs run-00i of " .. #m.runs
    .. (k > 1 and (", each on " .. k .. " MPI ranks (srun in run.sh).") or ".")
  array[#array + 1] = "echo \"=== sslua sweep task ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} on $(hostname) at $(date -u +%Y-%m-%dT%H:%M:%SZ)\""
  array[#array + 1] = "exec /bin/sh " .. q(dir) .. "/run-$(printf %03d \"$SLURM_ARRAY_TASK_ID\")/run.sh"
  local agg = {}
  for _, l in ipairs(head) do agg[#agg + 1] = l end
  agg[1 + 1] = "#SBATCH --job-name=" .. ("sweep-" .. m.name .. "-aggregate"):gsub("[^%w%._%-]", "_")
  agg[#agg + 1] = "#SBATCH --output=" .. dir .. "/logs/aggregate-%j.out"
  agg[#agg + 1] = "#SBATCH --cpus-per-task=1"
  for _, l in ipairs(user) do
    if not l:match("^#SBATCH %-%-cpus%-per%-task") and not l:match("^#SBATCH %-c[%s=%d]") then agg[#agg + 1] = l end
  end
  agg[#agg + 1] = "# After every task of the array (afterany): sweep.csv and summary.txt from the run directories."
  agg[#agg + 1] = "exec " .. q(m.exe) .. " sweep --aggregate " .. q(dir)
  return table.concat(array, "\n") .. "\n", table.concat(agg, "\n") .. "\n"
end

-- Writes the batch scripts of every group of runs and the aggregation job's into dir.
local function write_batch_scripts(m, dir)
  local ks = ntasks_groups(m)
  local agg
  for _, k in ipairs(ks) do
    local array
    array, agg = slurm_scripts(m, dir, k)
    write_file(dir .. "/" .. batch_name(k), array)
  end
  if not agg then agg = select(2, slurm_scripts(m, dir, 1)) end
  write_file(dir .. "/aggregate.sbatch", agg)
end

-- squeue's view of this user's jobs: job id ("123_4" for array tasks) -> state, or nil and
-- the error when squeue fails.
local function squeue()
  if not has_command("squeue") then return nil, "no squeue on PATH" end
  local ok, out, err = capture("squeue -h -r --me -o '%i|%T'")
  if not ok then return nil, (err:gsub("%s+$", "")) end
  local map = {}
  for line in out:gmatch("[^\n]+") do
    local id, state = line:match("^%s*(%S+)|(%S+)")
    if id then map[id] = state end
  end
  return map
end

local function job_id(out)
  for line in out:gmatch("[^\n]+") do
    local id = line:match("^%s*(%d+)")
    if id then return id end
  end
end

-- Submits the tasks `indices` (run numbers), one job array per number of ranks, and the
-- aggregation job after all of them; records them in sweep.json. Returns the list of array
-- ids and the aggregation job id.
local function slurm_submit(m, dir, indices)
  local ks, groups = ntasks_groups(m, indices)
  local ids = {}
  local sub = { tasks = indices, arrays = ids, submitted_utc = os.date("!%Y-%m-%dT%H:%M:%SZ") }
  for _, k in ipairs(ks) do
    local arr = "--array=" .. ranges(groups[k]) .. (m.jobs and ("%" .. m.jobs) or "")
    local ok, out, err = capture("sbatch --parsable " .. q(arr) .. " " .. q(dir .. "/" .. batch_name(k)))
    local id = ok and job_id(out)
    if not id then
      error("sslua sweep: sbatch rejected the job array of " .. dir .. (k > 1 and (" (runs of " .. k .. " ranks)") or "")
        .. ": " .. ((err .. out):gsub("%s+$", "")) .. (#ids == 0 and " (nothing was submitted" or (" (arrays " .. table.concat(ids, ", ") .. " are submitted"))
        .. "; the sweep directory is kept: fix the options and run sslua sweep --resume " .. dir .. ")", 0)
    end
    ids[#ids + 1] = id
    for _, i in ipairs(groups[k]) do m.runs[i].job = id .. "_" .. i end
    if #ids == 1 then
      sub.array = id
      m.submissions[#m.submissions + 1] = sub
    end
    write_manifest(dir, m)
  end
  local after = "--dependency=afterany:" .. table.concat(ids, ":")
  local aok, aout, aerr = capture("sbatch --parsable " .. q(after) .. " " .. q(dir .. "/aggregate.sbatch"))
  local agg = aok and job_id(aout)
  if not agg then
    error("sslua sweep: the job array " .. table.concat(ids, ", ") .. " is submitted, but sbatch rejected the aggregation job: "
      .. ((aerr .. aout):gsub("%s+$", "")) .. " (when the tasks end: sslua sweep --aggregate " .. dir .. ")", 0)
  end
  sub.aggregate = agg
  write_manifest(dir, m)
  return ids, agg
end

-- Blocks until the submitted jobs leave the queue, printing each run as it ends; then checks
-- that the aggregation job wrote the summary.
local function slurm_wait(m, dir, arrays, agg, indices)
  local reported, finished, failures, polls = {}, 0, 0, 0
  while true do
    local queue, err = squeue()
    if queue then
      failures = 0
      for _, i in ipairs(indices) do
        if not reported[i] and not queue[m.runs[i].job] then
          local st = sweep.run_state(m, dir, i, queue)
          if st.state ~= "pending" then
            reported[i] = true
            finished = finished + 1
            print(string.format("[%d/%d] %s %s %s", finished, #indices, m.runs[i].run, describe(m.runs[i].config),
              st.state == "done" and "ok" or ("FAILED (" .. status_word(st) .. ")" .. (st.detail and (": " .. st.detail) or ""))))
            io.stdout:flush()
          end
        end
      end
      local busy = queue[agg] ~= nil
      for id in pairs(queue) do
        for _, a in ipairs(arrays) do
          if id == a or id:sub(1, #a + 1) == a .. "_" then busy = true end
        end
      end
      if not busy then break end
    else
      failures = failures + 1
      if failures >= 30 then
        error("sslua sweep: squeue keeps failing (" .. tostring(err) .. "); the jobs may still run: sslua sweep --status " .. dir, 0)
      end
    end
    polls = polls + 1
    os.execute("sleep " .. (polls < 20 and "0.5" or polls < 100 and "2" or "10"))
  end
  local done = (read_file(dir .. "/aggregated") or ""):match("^(%S+)")
  if done ~= agg then
    error("sslua sweep: the aggregation job " .. agg .. " ended without writing the summary (see " .. dir
      .. "/logs/aggregate-" .. agg .. ".out; aggregate again with sslua sweep --aggregate " .. dir .. ")", 0)
  end
  local code = 0
  for i = 1, #m.runs do if sweep.run_state(m, dir, i, {}).state ~= "done" then code = 1 end end
  print(read_file(dir .. "/summary.txt") or "")
  return code
end

local function follow_up(dir, arrays, agg)
  print(string.format("sweep: submitted job array%s %s and aggregation job %s (after every task)",
    #arrays > 1 and "s" or "", table.concat(arrays, ", "), agg))
  print("  follow:    sslua sweep --status " .. dir)
  print("  rerun the failed or unfinished runs: sslua sweep --resume " .. dir)
  print("  summary:   " .. dir .. "/summary.txt and sweep.csv, once job " .. agg .. " has run")
end

local function run_slurm(spec, configs)
  local exe = absolute(experiment.interpreter())
  local script = absolute(spec.script)
  local name = spec.script:match("([^/]+)$"):gsub("%.lua$", "")
  local words = split_words(spec.sbatch or "")
  sbatch_lines(words)   -- checked before anything is made
  local results = os.getenv("SSLUA_RESULTS_DIR") or "results"
  local m = { format = MANIFEST, backend = "slurm", script = script, name = name,
    script_sha256 = sha256.file(script) or json.null, axes = spec.axes, flags = spec.flags,
    sandbox = spec.sandbox == true, jobs = spec.jobs_given and spec.jobs or nil, cpus = threads_of(spec),
    sbatch = spec.sbatch, sbatch_words = words, exe = exe, cwd = cwd(),
    created_utc = os.date("!%Y-%m-%dT%H:%M:%SZ"), runs = {}, submissions = {} }
  if spec.ntasks then
    for _, w in ipairs(words) do
      if w:match("^%-%-ntasks") or w:match("^%-n") then
        error("sslua sweep: --sbatch cannot set " .. w .. " when --ntasks gives the ranks per run", 0)
      end
    end
  end
  local commands = commands_of(spec, configs, exe, script, "slurm", m.cpus)
  for i = 1, #configs do
    m.runs[i] = { run = string.format("run-%03d", i), config = configs[i], command = commands[i] }
    if spec.ntasks then m.runs[i].ntasks = ntasks_of(spec, configs[i]) end
  end
  if spec.dry_run then
    local root = absolute(results) .. "/" .. name
    local dir = root .. "/sweep-" .. os.date("!%Y%m%d-%H%M%S")
    local ks, groups = ntasks_groups(m)
    print("# sweep: " .. #configs .. " runs of " .. script .. " as " .. (#ks > 1 and (#ks .. " Slurm job arrays") or "one Slurm job array") .. ", in " .. dir)
    local agg
    for _, k in ipairs(ks) do
      print("# sbatch --parsable --array=" .. ranges(groups[k]) .. (m.jobs and ("%" .. m.jobs) or "") .. " " .. dir .. "/" .. batch_name(k))
    end
    print("# sbatch --parsable --dependency=afterany:<array" .. (#ks > 1 and "s" or "") .. "> " .. dir .. "/aggregate.sbatch")
    for _, k in ipairs(ks) do
      local array
      array, agg = slurm_scripts(m, dir, k)
      print("# ---- " .. dir .. "/" .. batch_name(k))
      io.write(array)
    end
    print("# ---- " .. dir .. "/aggregate.sbatch")
    io.write(agg)
    print("# ---- the runs (run-NNN/run.sh starts SSLUA_RUN_DIR=<run dir> with these, or --resume <run dir> after a checkpoint)")
    for i, cmd in ipairs(commands) do print(string.format("# run-%03d: %s", i, cmd)) end
    return 0
  end
  need_sbatch("--backend slurm")
  os.execute("mkdir -p " .. q(results))
  local ok, dir = pcall(new_sweep_dir, absolute(results) .. "/" .. name)
  if not ok then error(dir, 2) end
  dir = absolute(dir)
  os.execute("mkdir -p " .. q(dir .. "/logs"))
  local indices = {}
  for i, c in ipairs(configs) do
    local run = string.format("run-%03d", i)
    local rdir = dir .. "/" .. run
    os.execute("mkdir -p " .. q(rdir))
    write_file(rdir .. "/run.sh", slurm_run_script(rdir, run, c, commands[i], absolute(results)))
    indices[i] = i
  end
  write_batch_scripts(m, dir)
  write_manifest(dir, m)
  print(string.format("sweep: %d runs of %s as a Slurm job array, in %s", #configs, spec.script, dir))
  local aid, gid = slurm_submit(m, dir, indices)
  sweep.last_dir = dir
  if not spec.wait then follow_up(dir, aid, gid); return 0, nil, dir end
  print(string.format("sweep: job array %s, aggregation job %s; waiting", table.concat(aid, ", "), gid))
  local code = slurm_wait(m, dir, aid, gid, indices)
  return code, nil, dir
end

--- sweep.status(dir) -> the rows of `sslua sweep --status DIR` (run, grid values, state, exit,
--- job, detail), printed as a table.
function sweep.status(dir)
  if type(dir) ~= "string" then error("sslua.sweep.status: expected a sweep directory, got " .. type(dir), 2) end
  local m
  m, dir = read_manifest(dir, "--status")
  local queue, qerr
  if m.backend == "slurm" then queue, qerr = squeue() end
  local rows, counts = {}, {}
  for i, r in ipairs(m.runs) do
    local st = sweep.run_state(m, dir, i, queue)
    local row = { run = r.run, state = st.state, exit = st.code, job = st.job, detail = st.detail }
    for _, kv in ipairs(r.config) do row[kv[1]] = kv[2] end
    rows[i] = row
    counts[st.state] = (counts[st.state] or 0) + 1
  end
  local columns = { "run" }
  for _, ax in ipairs(m.axes) do columns[#columns + 1] = ax.name end
  for _, c in ipairs { "state", "exit", "job", "detail" } do columns[#columns + 1] = c end
  print(string.format("sweep %s: %d runs of %s (%s backend)", dir, #m.runs, m.script, m.backend))
  if m.backend == "slurm" and not queue then print("sweep: squeue failed (" .. tostring(qerr) .. "): queued runs show as unknown") end
  print(experiment.format_table(rows, columns))
  local names = {}
  for k in pairs(counts) do names[#names + 1] = k end
  table.sort(names)
  local parts = {}
  for _, k in ipairs(names) do parts[#parts + 1] = counts[k] .. " " .. k end
  print("sweep: " .. table.concat(parts, ", "))
  return rows
end

-- `--resume DIR`: resubmits the runs that failed or never finished (not the done, pending or
-- running ones), with the sweep's own grid, script and options.
local function resume(spec)
  local m, dir = read_manifest(spec.resume, "--resume")
  if spec.script then
    local given = absolute(spec.script)
    if given ~= m.script then
      error("sslua sweep: --resume " .. dir .. ": the sweep was made by the script " .. m.script .. ", not " .. given, 0)
    end
  end
  if m.backend ~= "slurm" then
    error("sslua sweep: --resume " .. dir .. ": a " .. tostring(m.backend) .. " sweep; --resume resubmits Slurm sweeps (start the local sweep again)", 0)
  end
  if not exists(m.script) then error("sslua sweep: --resume " .. dir .. ": the sweep's script " .. m.script .. " is gone", 0) end
  local sha = sha256.file(m.script) or json.null
  if sha ~= m.script_sha256 then
    error("sslua sweep: --resume " .. dir .. ": the script differs: sweep.json records " .. m.script .. " with sha256 "
      .. tostring(m.script_sha256) .. ", it now has sha256 " .. tostring(sha) .. " (start a new sweep)", 0)
  end
  need_sbatch("--resume")
  if spec.sbatch or spec.jobs_given then
    -- New sbatch options (a longer --time after a timeout, another partition after a
    -- rejection) or another --jobs for the resubmitted tasks: the batch scripts are rewritten.
    if spec.sbatch then
      m.sbatch_words = split_words(spec.sbatch)
      sbatch_lines(m.sbatch_words)
      m.sbatch = spec.sbatch
    end
    if spec.jobs_given then m.jobs = spec.jobs end
    write_batch_scripts(m, dir)
    write_manifest(dir, m)
  end
  local queue, qerr = squeue()
  if not queue then error("sslua sweep: --resume " .. dir .. ": squeue failed (" .. tostring(qerr) .. "), so the queued runs are unknown; try again", 0) end
  local indices, kept = {}, { done = 0, queued = 0 }
  for i = 1, #m.runs do
    local st = sweep.run_state(m, dir, i, queue)
    if st.state == "done" then kept.done = kept.done + 1
    elseif st.job and queue[st.job] then kept.queued = kept.queued + 1
    else indices[#indices + 1] = i end
  end
  if #indices == 0 then
    print(string.format("sweep: %s: nothing to resume (%d done, %d still queued)", dir, kept.done, kept.queued))
    return 0, nil, dir
  end
  local names = {}
  for _, i in ipairs(indices) do names[#names + 1] = m.runs[i].run end
  print(string.format("sweep: resubmitting %d of %d runs (%s); %d done, %d still queued, left alone", #indices, #m.runs,
    table.concat(names, " "), kept.done, kept.queued))
  local aid, gid = slurm_submit(m, dir, indices)
  sweep.last_dir = dir
  if not spec.wait then follow_up(dir, aid, gid); return 0, nil, dir end
  print(string.format("sweep: job array %s, aggregation job %s; waiting", table.concat(aid, ", "), gid))
  return slurm_wait(m, dir, aid, gid, indices), nil, dir
end

--- sweep.main(args): the `sslua sweep` command. Returns 0 when every run succeeded, else 1.
function sweep.main(args)
  local spec = sweep.parse(args)
  if spec.help then print(usage); return 0 end
  if spec.status then sweep.status(spec.status); return 0 end
  if spec.aggregate then
    local m, dir = read_manifest(spec.aggregate, "--aggregate")
    -- Under Slurm, runs still queued are pending/running (none, from the afterany job).
    local queue
    if m.backend == "slurm" then queue = squeue() or {} end
    local code, rows, text = sweep.aggregate(dir, m, queue)
    write_file(dir .. "/summary.txt", text .. "\n")
    local job = os.getenv("SLURM_JOB_ID")
    if job then write_file(dir .. "/aggregated", job .. "\n") end
    print(text)
    return code, rows, dir
  end
  if spec.resume then return resume(spec) end
  if not io.open(spec.script, "r") then error("sslua sweep: cannot open script '" .. spec.script .. "'", 2) end
  summary.check_flags(spec)   -- a misspelled flag fails here, before any run starts
  if spec.ntasks then
    -- the ranks per run: the grid's last axis, recorded in sweep.json and the summary
    if spec.backend ~= "slurm" and not has_command("mpirun") then
      for _, v in ipairs(spec.ntasks) do
        if v ~= "1" then error("sslua sweep: --ntasks " .. v .. " needs Open MPI's mpirun on PATH (Debian: openmpi-bin)", 2) end
      end
    end
    spec.axes[#spec.axes + 1] = { name = "ntasks", values = spec.ntasks }
  end
  local configs = sweep.grid(spec.axes)
  if spec.backend == "slurm" then return run_slurm(spec, configs) end
  if spec.wait or spec.sbatch then error("sslua sweep: --wait and --sbatch are options of --backend slurm", 2) end
  local commands = commands_of(spec, configs, experiment.interpreter(), spec.script, "local")
  if spec.dry_run then
    for _, cmd in ipairs(commands) do print(cmd) end
    return 0
  end
  return run_local(spec, configs, commands)
end

return sweep

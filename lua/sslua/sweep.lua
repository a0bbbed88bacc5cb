-- `sslua sweep script.lua --policy small,large --epochs 5,10 [--jobs 2]`: runs the cartesian
-- product of the listed values as separate sslua processes, at most --jobs at once, each in
-- its own run directory under results/<script>/sweep-<time>/, then prints a summary table
-- (mean, std and n over seeds of each run's last metrics row) and writes it to sweep.csv beside
-- the runs (sslua.sweep_summary), with runs.csv (one row per run) and one figure per metric.
local experiment = require "sslua.experiment"
local summary = require "sslua.sweep_summary"
local q = experiment.shell_quote

local sweep = {}

local usage = [[
usage: sslua sweep script.lua [--name v1,v2,...]... [--jobs N] [--sandbox] [--dry-run]

Runs script.lua once per combination of the listed values (the cartesian product, first
option outermost), passing --name=value to each run. A value in brackets, [a,b], is passed
as one value (a list option of the script). --flag alone is passed to every run.
  --jobs N     runs at once (default 1)
  --sandbox    run every run as `sslua --sandbox` (also: sslua --sandbox sweep ...)
  --dry-run    print the command lines and exit
  --help       this text]]

-- Splits "a,b,c" into the values of one grid axis; "[a,b]" stays one value "a,b".
local function split_values(text)
  local out = {}
  local i = 1
  while i <= #text + 1 do
    if text:sub(i, i) == "[" then
      local j = text:find("]", i, true)
      if not j then error("sslua sweep: unclosed '[' in '" .. text .. "'", 0) end
      out[#out + 1] = text:sub(i + 1, j - 1)
      i = j + 1
      if i <= #text and text:sub(i, i) ~= "," then error("sslua sweep: expected ',' after ']' in '" .. text .. "'", 0) end
      i = i + 1
    else
      local j = text:find(",", i, true) or #text + 1
      out[#out + 1] = text:sub(i, j - 1)
      i = j + 1
    end
  end
  return out
end

--- sweep.parse(args) -> {script=, axes={{name=, values={...}}, ...}, flags={...}, jobs=, dry_run=, sandbox=}
function sweep.parse(args)
  if type(args) ~= "table" then error("sslua sweep: expected a list of arguments", 2) end
  local spec = { axes = {}, flags = {}, jobs = 1, dry_run = false }
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
    else
      if value == nil then
        local nxt = args[i + 1]
        if nxt ~= nil and not nxt:match("^%-%-[%a]") then value = nxt; i = i + 1 end
      end
      if name == "jobs" then
        local n = math.tointeger(tonumber(value or ""))
        if not n or n < 1 then error("sslua sweep: --jobs expects a positive integer, got '" .. tostring(value) .. "'", 2) end
        spec.jobs = n
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
  if not spec.script then error("sslua sweep: no script given (usage: sslua sweep script.lua --name v1,v2 ...)", 2) end
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

--- sweep.last_row(path) -> the last row of a CSV file as a table and its header, or nil.
sweep.last_row = summary.last_row

--- sweep.main(args): the `sslua sweep` command. Returns 0 when every run succeeded, else 1.
function sweep.main(args)
  local spec = sweep.parse(args)
  if spec.help then print(usage); return 0 end
  if not io.open(spec.script, "r") then error("sslua sweep: cannot open script '" .. spec.script .. "'", 2) end
  summary.check_flags(spec)   -- a misspelled flag fails here, before any run starts
  local configs = sweep.grid(spec.axes)
  local exe = experiment.interpreter()
  local name = spec.script:match("([^/]+)$"):gsub("%.lua$", "")
  local root = (os.getenv("SSLUA_RESULTS_DIR") or "results") .. "/" .. name
  local commands = {}
  for i, c in ipairs(configs) do
    local argv = { q(exe) }
    if spec.sandbox then argv[#argv + 1] = "--sandbox" end
    argv[#argv + 1] = q(spec.script)
    for _, f in ipairs(spec.flags) do argv[#argv + 1] = q(f) end
    for _, kv in ipairs(c) do argv[#argv + 1] = q("--" .. kv[1] .. "=" .. kv[2]) end
    commands[i] = table.concat(argv, " ")
  end
  if spec.dry_run then
    for _, cmd in ipairs(commands) do print(cmd) end
    return 0
  end
  os.execute("mkdir -p " .. q(root))
  local dir
  local stamp = os.date("!%Y%m%d-%H%M%S")
  for k = 1, 1000 do
    local cand = root .. "/sweep-" .. stamp .. (k > 1 and ("-" .. k) or "")
    if os.execute("mkdir " .. q(cand) .. " 2>/dev/null") == true then dir = cand; break end
  end
  if not dir then error("sslua sweep: cannot create a sweep directory under " .. root, 2) end
  -- One shell script per run; xargs runs at most --jobs of them at once and each reports
  -- "done <i>" on the shared pipe when it ends.
  local list = {}
  for i, cmd in ipairs(commands) do
    local rdir = string.format("%s/run-%03d", dir, i)
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
      local desc = {}
      for _, kv in ipairs(configs[tonumber(i)]) do desc[#desc + 1] = kv[1] .. "=" .. kv[2] end
      print(string.format("[%d/%d] run-%03d %s %s", finished, #commands, tonumber(i), table.concat(desc, " "),
        rc == "0" and "ok" or ("FAILED (exit " .. rc .. ")")))
      io.stdout:flush()
    end
  end
  p:close()
  -- Summary (sslua.sweep_summary): failed runs marked in their config.json, runs.csv, sweep.csv
  -- (mean, std and n over seeds per configuration), the printed table and one figure per metric.
  local runs = summary.collect(dir, configs)
  local axis_names = {}
  for k, ax in ipairs(spec.axes) do axis_names[k] = ax.name end
  local _, rows = summary.write(dir, runs, { axes = axis_names })
  local failures = 0
  for _, r in ipairs(runs) do if r.exit ~= 0 then failures = failures + 1 end end
  print(string.format("sweep: %d/%d runs succeeded; summary in %s/sweep.csv (per run: runs.csv)", #configs - failures, #configs, dir))
  sweep.last_dir = dir
  return failures == 0 and 0 or 1, rows, dir
end

return sweep

-- sslua.sweep_summary: the parts of `sslua sweep` every backend shares (local processes, a
-- batch scheduler's aggregation job):
--
--   summary.check_flags(spec [, {exe=}])  before launching anything: every flag of the sweep
--       (spec from sslua.sweep.parse: script, axes, flags) must be an option the script declares
--       through experiment.args, with a value of its type; a typo is an error naming the
--       closest option. (A script that cannot tell its options gets a warning.)
--   summary.mark_failed(run_dir, message, exit_code)  records status "failed", the error and the
--       exit code in a run's config.json (writing one when the run died before experiment.run).
--   summary.collect(sweep_dir, configs) -> runs  the runs run-001, run-002, ... of a sweep
--       directory (exit_code and elapsed_ms files as the launcher writes them), failures marked.
--   summary.write(sweep_dir, runs [, {axes=, quiet=}]) -> groups, per_run
--       runs: list of {dir=, config={{name, value}, ...}, exit=, seconds=}. Reads each run's last
--       metrics.csv row, writes runs.csv (one row per run) and sweep.csv (one row per
--       configuration = every axis but `seed`: n, failed, and <metric>_mean, <metric>_std (sample,
--       n - 1), <metric>_n for every numeric metric), prints the configuration table, and draws
--       <metric>.svg (mean with error bars of one std across the grid) into sweep_dir. A failed
--       run counts in n and failed, not in the statistics (its last row is a partial one).
local experiment = require "sslua.experiment"
local json = require "sslua.json"
local util = require "sslua.util"

local summary = {}
local q = experiment.shell_quote

local read_file = util.read_file

local function flag_key(name) return (name:gsub("%-", "_")) end

-- The kinds of the options the script declares ({name = "number"|"boolean"|"string"|"list"}),
-- asked from the script itself: experiment.args prints them and exits under SSLUA_LIST_OPTIONS=1.
-- The probe runs sandboxed with a temporary results directory (whatever the script does before
-- experiment.args stays there and is removed); a script whose source never mentions `args` is
-- not run. nil, why: the options could not be learnt.
local function declared_options(spec, exe)
  local f = io.open(spec.script, "rb")
  local src = f and f:read("a") or ""
  if f then f:close() end
  if not src:find("%f[%w_]args%f[^%w_]") then return nil, "it does not call experiment.args" end
  local tmp = os.tmpname()
  os.remove(tmp)
  os.execute("mkdir -p " .. q(tmp))
  local out = tmp .. "/probe.txt"
  local cmd = "SSLUA_LIST_OPTIONS=1 SSLUA_PROGRESS=0 SSLUA_RESULTS_DIR=" .. q(tmp .. "/results")
    .. " SSLUA_RUN_DIR=" .. q(tmp .. "/results/probe") .. " " .. q(exe) .. " --sandbox " .. q(spec.script)
    .. " > " .. q(out) .. " 2>&1 </dev/null"
  local ok = os.execute(cmd)
  local text = read_file(out) or ""
  os.execute("rm -rf " .. q(tmp))
  local line = text:match("sslua%-options: ([^\n]*)")
  if line then
    local dok, kinds = pcall(json.decode, line)
    if dok and type(kinds) == "table" then return kinds end
  end
  if not ok then
    local msg = text:match("([^\n]*)\nstack traceback:") or text:match("([^\n]+)%s*$") or "no message"
    return nil, "it failed before declaring its options (" .. msg:gsub("^%S*sslua: ", "") .. ")"
  end
  return nil, "it ended without calling experiment.args"
end

local function check_value(script, name, kind, v)
  local bad
  if kind == "number" then bad = tonumber(v) == nil and "a number"
  elseif kind == "boolean" then
    bad = not ({ ["true"] = 1, ["false"] = 1, ["1"] = 1, ["0"] = 1, yes = 1, no = 1 })[v:lower()] and "true or false"
  end
  if bad then
    error("sslua sweep: option '--" .. name .. "' of " .. script .. " expects " .. bad .. ", got '" .. v .. "'", 0)
  end
end

--- summary.check_flags(spec [, opts]) -> true, or nil when the script declares no options (a
--- warning is printed). Errors "sslua sweep: unknown option '--epoch' for script.lua (did you
--- mean '--epochs'?)" before any run starts.
function summary.check_flags(spec, opts)
  opts = util.check_options("sslua.sweep_summary.check_flags", opts, { exe = "string" })
  if type(spec) ~= "table" or type(spec.script) ~= "string" then
    util.fail("sslua.sweep_summary.check_flags", "expected a sweep spec (sslua.sweep.parse)")
  end
  local kinds, why = declared_options(spec, opts.exe or experiment.interpreter())
  if not kinds then
    io.stderr:write("sslua sweep: warning: the flags are not checked against " .. spec.script .. ": " .. why .. "\n")
    return nil
  end
  if kinds.resume == nil then kinds.resume = "string" end
  local names = {}
  for k in pairs(kinds) do names[#names + 1] = k end
  local function resolve(name, has_value)
    local key = flag_key(name)
    if kinds[key] then return key, kinds[key] end
    if not has_value and key:sub(1, 3) == "no_" and kinds[key:sub(4)] == "boolean" then return key:sub(4), "boolean" end
    local near = util.closest(key, names)
    error("sslua sweep: unknown option '--" .. name .. "' for " .. spec.script
      .. (near and (" (did you mean '--" .. near:gsub("_", "-") .. "'?)") or " (try sslua " .. spec.script .. " --help)"), 0)
  end
  for _, f in ipairs(spec.flags or {}) do resolve(f:gsub("^%-%-", ""), false) end
  for _, ax in ipairs(spec.axes or {}) do
    local key, kind = resolve(ax.name, true)
    for _, v in ipairs(ax.values) do check_value(spec.script, ax.name, kind, v) end
  end
  return true
end

--- summary.mark_failed(run_dir, message, exit_code): config.json records the failure.
function summary.mark_failed(rdir, message, exit_code)
  local path = rdir .. "/config.json"
  local rec
  local text = read_file(path)
  if text then
    local ok, r = pcall(json.decode, text)
    if ok and type(r) == "table" then rec = r end
  end
  rec = rec or { run_dir = rdir }
  rec.status = "failed"
  if message and message ~= "" then rec.error = message
  elseif rec.error == nil or rec.error == json.null then rec.error = "exit " .. tostring(exit_code) end
  rec.exit_code = exit_code
  experiment.write_atomic(path, json.encode(rec, { indent = "  " }) .. "\n")
end

-- The error line of a failed run's stderr: the line before the traceback (without the
-- program's name), else the last non-empty line.
local function error_line(rdir)
  local text = read_file(rdir .. "/stderr.txt") or ""
  local line = text:match("([^\n]*)\nstack traceback:") or text:match("([^\n]+)%s*$")
  if not line then return nil end
  return (line:gsub("^%S*sslua: ", ""))
end

--- summary.collect(sweep_dir, configs) -> runs (reads run-%03d/exit_code and elapsed_ms; marks
--- every run that exited nonzero, or left no exit code, as failed in its config.json).
function summary.collect(dir, configs)
  local runs = {}
  for i, c in ipairs(configs) do
    local rdir = string.format("%s/run-%03d", dir, i)
    local rc = tonumber((read_file(rdir .. "/exit_code") or ""):match("%d+"))
    local ms = tonumber((read_file(rdir .. "/elapsed_ms") or ""):match("%d+"))
    runs[i] = { dir = rdir, config = c, exit = rc, seconds = ms and ms / 1000 or nil }
    if rc ~= 0 then
      summary.mark_failed(rdir, error_line(rdir) or (rc == nil and "no exit code (the run did not finish)" or nil), rc or json.null)
    end
  end
  return runs
end

-- One CSV record per line (the quoting our logger writes: "..." with "" inside).
local function quoted(line, i)
  local buf, j = {}, i + 1
  while true do
    local k = line:find('"', j, true)
    if not k then buf[#buf + 1] = line:sub(j); return table.concat(buf), #line + 2 end
    buf[#buf + 1] = line:sub(j, k - 1)
    if line:sub(k + 1, k + 1) ~= '"' then return table.concat(buf), k + 2 end
    buf[#buf + 1] = '"'; j = k + 2
  end
end

local function csv_fields(line) return util.split_fields(line, '"', quoted) end

--- summary.last_row(path) -> the last row of a CSV file as a table and its header, or nil.
function summary.last_row(path)
  local text = read_file(path)
  if not text then return nil end
  local lines = {}
  for l in text:gmatch("[^\r\n]+") do lines[#lines + 1] = l end
  if #lines < 2 then return nil end
  local head, last = csv_fields(lines[1]), csv_fields(lines[#lines])
  local row = {}
  for k, name in ipairs(head) do row[name] = last[k] end
  return row, head
end

local function csv_text(columns, rows)
  local out = { table.concat(columns, ",") }
  for _, r in ipairs(rows) do
    local cells = {}
    for k, col in ipairs(columns) do
      local v = r[col]
      local s
      if v == nil then s = ""
      elseif math.type(v) == "float" then s = string.format("%.17g", v)
      else s = tostring(v) end
      if s:find('[,"\n]') then s = '"' .. s:gsub('"', '""') .. '"' end
      cells[k] = s
    end
    out[#out + 1] = table.concat(cells, ",")
  end
  return table.concat(out, "\n") .. "\n"
end

--- summary.stats(values) -> mean, sample std (nil when n < 2), n.
function summary.stats(xs)
  local n = #xs
  if n == 0 then return nil, nil, 0 end
  local s = 0
  for _, x in ipairs(xs) do s = s + x end
  local mean = s / n
  if n < 2 then return mean, nil, n end
  local ss = 0
  for _, x in ipairs(xs) do ss = ss + (x - mean) ^ 2 end
  return mean, math.sqrt(ss / (n - 1)), n
end

local function file_name(metric) return (metric:gsub("[^%w_%.%-]", "_")) .. ".svg" end

-- One figure per metric: mean +- std against the innermost configuration axis, one series per
-- combination of the other axes.
local function draw(dir, metric, groups, axes)
  local plot = require "sslua.plot"
  local xaxis = axes[#axes]
  local xvalues, xindex, numeric = {}, {}, true
  if xaxis then
    for _, g in ipairs(groups) do
      local v = g.values[xaxis]
      if not xindex[v] then xvalues[#xvalues + 1] = v; xindex[v] = #xvalues end
      if tonumber(v) == nil then numeric = false end
    end
  end
  local series, by_label = {}, {}
  for _, g in ipairs(groups) do
    local m = g.metrics[metric]
    if m and m.mean then
      local parts = {}
      for k = 1, #axes - 1 do parts[#parts + 1] = axes[k] .. "=" .. g.values[axes[k]] end
      local label = table.concat(parts, " ")
      local s = by_label[label]
      if not s then
        s = { x = {}, y = {}, yerr = {}, label = label ~= "" and label or nil, marker = true }
        by_label[label] = s
        series[#series + 1] = s
      end
      local x = 1
      if xaxis then x = numeric and tonumber(g.values[xaxis]) or xindex[g.values[xaxis]] end
      s.x[#s.x + 1] = x
      s.y[#s.y + 1] = m.mean
      s.yerr[#s.yerr + 1] = m.std or 0
    end
  end
  if #series == 0 then return nil end
  for _, s in ipairs(series) do
    local order = {}
    for k = 1, #s.x do order[k] = k end
    table.sort(order, function(a, b) return s.x[a] < s.x[b] end)
    local x, y, e = {}, {}, {}
    for k, j in ipairs(order) do x[k], y[k], e[k] = s.x[j], s.y[j], s.yerr[j] end
    s.x, s.y, s.yerr = x, y, e
  end
  local opts = { series = series, title = metric .. " (mean ± std over seeds)", ylabel = metric,
    xlabel = xaxis or "all runs" }
  if not xaxis then opts.xticks = { "all" }
  elseif not numeric then opts.xticks = xvalues end
  local fig = plot.line(opts)
  local path = dir .. "/" .. file_name(metric)
  fig:save(path)
  return path
end

--- summary.write(sweep_dir, runs [, opts]) -> groups, per_run_rows, figure paths, table text
--- (runs: {dir=, config=, exit=, seconds=, status=}; status, when given, is shown as is)
function summary.write(dir, runs, opts)
  opts = util.check_options("sslua.sweep_summary.write", opts, { axes = "table", quiet = "boolean" })
  if type(dir) ~= "string" or type(runs) ~= "table" then
    util.fail("sslua.sweep_summary.write", "expected the sweep directory and a list of runs")
  end
  local axes = opts.axes
  if not axes then
    axes = {}
    for _, kv in ipairs((runs[1] or {}).config or {}) do axes[#axes + 1] = kv[1] end
  end
  local axis_cols = {}
  for _, a in ipairs(axes) do axis_cols[flag_key(a)] = true; axis_cols[a] = true end
  -- Per run: the grid values, status, time and the last metrics row.
  local rows, metric_cols, seen, numeric = {}, {}, {}, {}
  for i, r in ipairs(runs) do
    local rdir = r.dir
    local rc = r.exit
    if rc == nil then rc = tonumber((read_file(rdir .. "/exit_code") or ""):match("%d+")) end
    local secs = r.seconds
    if secs == nil then
      local ms = tonumber((read_file(rdir .. "/elapsed_ms") or ""):match("%d+"))
      secs = ms and ms / 1000 or nil
    end
    local row = { run = rdir:match("([^/]+)$"), status = r.status or (rc == 0 and "ok" or ("exit " .. tostring(rc))), seconds = secs,
      _ok = rc == 0, _values = {} }
    for _, kv in ipairs(r.config or {}) do row[kv[1]] = kv[2]; row._values[kv[1]] = kv[2] end
    local last, head = summary.last_row(rdir .. "/metrics.csv")
    if last then
      for _, col in ipairs(head) do
        if not axis_cols[col] then
          if not seen[col] then seen[col] = true; metric_cols[#metric_cols + 1] = col; numeric[col] = true end
          local v = tonumber(last[col])
          if v == nil and last[col] ~= "" then numeric[col] = false end
          row[col] = v or last[col]
        end
      end
    end
    rows[i] = row
  end
  local columns = { "run" }
  for _, a in ipairs(axes) do columns[#columns + 1] = a end
  columns[#columns + 1] = "status"
  columns[#columns + 1] = "seconds"
  for _, col in ipairs(metric_cols) do columns[#columns + 1] = col end
  experiment.write_atomic(dir .. "/runs.csv", csv_text(columns, rows))
  -- Per configuration (all axes but seed), in order of first appearance.
  local config_axes = {}
  for _, a in ipairs(axes) do if flag_key(a) ~= "seed" then config_axes[#config_axes + 1] = a end end
  local groups, by_key = {}, {}
  for _, row in ipairs(rows) do
    local parts = {}
    for _, a in ipairs(config_axes) do parts[#parts + 1] = a .. "=" .. tostring(row._values[a]) end
    local key = table.concat(parts, "\0")
    local g = by_key[key]
    if not g then
      g = { values = {}, runs = {}, n = 0, failed = 0, seconds = {}, samples = {} }
      for _, a in ipairs(config_axes) do g.values[a] = row._values[a] end
      by_key[key] = g
      groups[#groups + 1] = g
    end
    g.n = g.n + 1
    g.runs[#g.runs + 1] = row.run
    if not row._ok then g.failed = g.failed + 1 end
    if row._ok then
      if row.seconds then g.seconds[#g.seconds + 1] = row.seconds end
      for _, col in ipairs(metric_cols) do
        if numeric[col] and type(row[col]) == "number" then
          local s = g.samples[col] or {}
          s[#s + 1] = row[col]
          g.samples[col] = s
        end
      end
    end
  end
  local num_metrics = {}
  for _, col in ipairs(metric_cols) do if numeric[col] then num_metrics[#num_metrics + 1] = col end end
  local agg_cols = {}
  for _, a in ipairs(config_axes) do agg_cols[#agg_cols + 1] = a end
  for _, c in ipairs({ "n", "failed", "seconds_mean" }) do agg_cols[#agg_cols + 1] = c end
  for _, m in ipairs(num_metrics) do
    agg_cols[#agg_cols + 1] = m .. "_mean"; agg_cols[#agg_cols + 1] = m .. "_std"; agg_cols[#agg_cols + 1] = m .. "_n"
  end
  agg_cols[#agg_cols + 1] = "runs"
  local agg_rows, shown = {}, {}
  for i, g in ipairs(groups) do
    local r = { n = g.n, failed = g.failed, seconds_mean = (summary.stats(g.seconds)), runs = table.concat(g.runs, " ") }
    local p = { n = g.n, failed = g.failed }
    for _, a in ipairs(config_axes) do r[a] = g.values[a]; p[a] = g.values[a] end
    g.metrics = {}
    for _, m in ipairs(num_metrics) do
      local mean, std, n = summary.stats(g.samples[m] or {})
      g.metrics[m] = { mean = mean, std = std, n = n }
      r[m .. "_mean"], r[m .. "_std"], r[m .. "_n"] = mean, std, n
      if mean == nil then p[m] = ""
      elseif std == nil then p[m] = string.format("%.4g", mean)
      else p[m] = string.format("%.4g ± %.2g", mean, std) end
    end
    agg_rows[i], shown[i] = r, p
  end
  experiment.write_atomic(dir .. "/sweep.csv", csv_text(agg_cols, agg_rows))
  local figures = {}
  for _, m in ipairs(num_metrics) do
    local path = draw(dir, m, groups, config_axes)
    if path then figures[#figures + 1] = path end
  end
  local cols = {}
  for _, a in ipairs(config_axes) do cols[#cols + 1] = a end
  cols[#cols + 1] = "n"
  cols[#cols + 1] = "failed"
  for _, m in ipairs(num_metrics) do cols[#cols + 1] = m end
  local text = experiment.format_table(shown, cols)
  if not opts.quiet then print(text) end
  for _, row in ipairs(rows) do row._ok, row._values = nil, nil end
  return groups, rows, figures, text
end

return summary

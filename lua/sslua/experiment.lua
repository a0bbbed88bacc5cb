-- The experiment runner (SPEC §4.5): command-line flags from a table of defaults, a run
-- directory that records exactly what produced it, a CSV logger, progress bars, and the
-- SimCLR training loop the examples share.
--
--   local experiment = require "sslua.experiment"
--   local cfg = experiment.args{epochs = 20, policy = {"small", "large"}, lr = 1e-3}
--   local run = experiment.run(cfg)
--   run:log{policy = "small", epoch = 0, loss = 4.2}      -- appends to metrics.csv
--   run:save(fig, "rank.svg")
local json = require "sslua.json"
local util = require "sslua.util"
local sha256 = require "sslua.sha256"

local experiment = {}

local sslua_mod = package.loaded.sslua or _G.sslua

-- Options every script understands; a script's own defaults take precedence.
local conventional = {
  quick = { false, "smoke run: tiny data and few steps (under 30 s)" },
  full = { false, "the paper's setting (CIFAR-100, ResNet-18, ...)" },
  seed = { 1, "random seed (sslua.manual_seed and the generators the script makes)" },
  threads = { 0, "worker threads for BLAS and sslua's kernels (0 = leave as is)" },
}

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
experiment.shell_quote = shell_quote

local function kind_of(v)
  local t = type(v)
  if t == "table" then return "list" end
  if t == "number" or t == "boolean" or t == "string" then return t end
  return nil
end

-- The options table: defaults plus the conventional ones, and per-option help texts.
local function option_table(defaults, opts)
  if type(defaults) ~= "table" then
    error("sslua.experiment.args: expected a table of defaults, got " .. type(defaults), 3)
  end
  if type(opts) ~= "table" then error("sslua.experiment.args: options must be a table, got " .. type(opts), 3) end
  local options, help = {}, {}
  for k, v in pairs(defaults) do
    if type(k) ~= "string" or not k:match("^[%a_][%w_]*$") then
      error("sslua.experiment.args: option names must be identifiers, got " .. tostring(k), 3)
    end
    if not kind_of(v) then
      error("sslua.experiment.args: default of '" .. k .. "' must be a number, boolean, string or list, got " .. type(v), 3)
    end
    if type(v) == "table" then
      for i = 1, #v do
        if type(v[i]) ~= "number" and type(v[i]) ~= "string" then
          error("sslua.experiment.args: list default of '" .. k .. "' must hold numbers or strings", 3)
        end
      end
    end
    options[k] = v
  end
  for k, d in pairs(conventional) do
    if options[k] == nil then options[k] = d[1]; help[k] = d[2] end
  end
  if opts.help then
    for k, text in pairs(opts.help) do help[k] = text end
  end
  return options, help
end

local function flag_name(k) return "--" .. k:gsub("_", "-") end

local function format_value(v)
  if type(v) == "table" then
    local parts = {}
    for i = 1, #v do parts[i] = tostring(v[i]) end
    return table.concat(parts, ",")
  end
  return tostring(v)
end
experiment.format_value = format_value

local function script_name()
  return (arg and arg[0]) or "script.lua"
end

--- experiment.usage(defaults [, opts]) -> the --help text (every option with its default).
local args_spec = { argv = "any", description = "string", help = "table", exit = "boolean", script = "string" }

function experiment.usage(defaults, opts)
  opts = util.check_options("sslua.experiment.usage", opts, args_spec)
  local options, help = option_table(defaults, opts)
  local names = {}
  for k in pairs(options) do names[#names + 1] = k end
  table.sort(names)
  local lines = { "usage: sslua " .. (opts.script or script_name()) .. " [options]" }
  if opts.description then lines[#lines + 1] = ""; lines[#lines + 1] = opts.description end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "options:"
  local rows, width = {}, 0
  for _, k in ipairs(names) do
    local v = options[k]
    local meta = ({ number = " N", string = " S", list = " A,B,...", boolean = "" })[kind_of(v)]
    local left = "  " .. flag_name(k) .. meta
    rows[#rows + 1] = { left, k, v }
    if #left > width then width = #left end
  end
  for _, r in ipairs(rows) do
    local text = help[r[2]]
    lines[#lines + 1] = string.format("%-" .. width .. "s  (default %s)%s", r[1],
      type(r[3]) == "table" and (#r[3] == 0 and "empty" or format_value(r[3])) or tostring(r[3]),
      text and ("  " .. text) or "")
  end
  lines[#lines + 1] = string.format("%-" .. width .. "s  print this help", "  --help")
  lines[#lines + 1] = "booleans: --flag, --no-flag or --flag=true|false; lists: --name a,b,c"
  return table.concat(lines, "\n")
end

local function parse_value(name, kind, default, text)
  if kind == "number" then
    local n = tonumber(text)
    if n == nil then error("sslua.experiment.args: option " .. flag_name(name) .. " expects a number, got '" .. text .. "'", 0) end
    if math.type(default) == "integer" then return math.tointeger(n) or n end
    return n + 0.0
  elseif kind == "boolean" then
    local b = ({ ["true"] = true, ["1"] = true, yes = true, ["false"] = false, ["0"] = false, no = false })[text:lower()]
    if b == nil then error("sslua.experiment.args: option " .. flag_name(name) .. " expects true or false, got '" .. text .. "'", 0) end
    return b
  elseif kind == "list" then
    local out = {}
    if text == "" then return out end
    local numeric = type(default[1]) == "number"
    for item in (text .. ","):gmatch("([^,]*),") do
      if numeric then
        local n = tonumber(item)
        if n == nil then error("sslua.experiment.args: option " .. flag_name(name) .. " expects a list of numbers, got '" .. item .. "'", 0) end
        out[#out + 1] = n
      else
        out[#out + 1] = item
      end
    end
    return out
  end
  return text
end

local configs = setmetatable({}, { __mode = "k" })

--- experiment.args(defaults [, {argv=, description=, help={name=text}}]) -> config table.
-- Parses `--name value`, `--name=value`, `--flag`, `--no-flag`; types come from the defaults.
-- Adds --quick, --full, --seed, --threads when the script does not define them, applies the
-- seed (sslua.manual_seed) and the thread count, and exits after printing `--help`.
function experiment.args(defaults, opts)
  if opts ~= nil and type(opts) ~= "table" then error("sslua.experiment.args: options must be a table", 2) end
  opts = util.check_options("sslua.experiment.args", opts, args_spec)
  local options = option_table(defaults, opts)
  local argv = opts.argv
  if argv == nil then
    argv = {}
    if arg then for i = 1, #arg do argv[i] = arg[i] end end
  elseif type(argv) ~= "table" then
    error("sslua.experiment.args: argv must be a list of strings", 2)
  end
  local cfg, given = {}, {}
  for k, v in pairs(options) do
    if type(v) == "table" then
      local copy = {}
      for i = 1, #v do copy[i] = v[i] end
      cfg[k] = copy
    else
      cfg[k] = v
    end
  end
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if type(a) ~= "string" then error("sslua.experiment.args: argument " .. i .. " is not a string", 2) end
    if a == "--help" or a == "-h" then
      if opts.exit == false then return nil, experiment.usage(defaults, opts) end
      print(experiment.usage(defaults, opts))
      os.exit(0)
    end
    local name, value = a:match("^%-%-([%w_%-]+)=(.*)$")
    if not name then name = a:match("^%-%-([%w_%-]+)$") end
    if not name then
      error("sslua.experiment.args: unexpected argument '" .. a .. "' (options look like --name value; try --help)", 2)
    end
    local key = name:gsub("%-", "_")
    local negated = false
    if options[key] == nil and key:sub(1, 3) == "no_" and type(options[key:sub(4)]) == "boolean" and value == nil then
      key, negated = key:sub(4), true
    end
    local default = options[key]
    if default == nil then
      local names = {}
      for k in pairs(options) do names[#names + 1] = k end
      local near = util.closest(key, names)
      error("sslua.experiment.args: unknown option '--" .. name .. "' ("
        .. (near and "did you mean '" .. flag_name(near) .. "'?; " or "") .. "try --help)", 2)
    end
    local kind = kind_of(default)
    if kind == "boolean" and value == nil then
      local nxt = argv[i + 1]
      local word = type(nxt) == "string" and nxt:lower() or nil
      if word == "true" or word == "false" then value = word; i = i + 1
      else value = negated and "false" or "true" end
    elseif value == nil then
      value = argv[i + 1]
      if value == nil then error("sslua.experiment.args: option --" .. name .. " needs a value", 2) end
      i = i + 1
    end
    local ok, v = pcall(parse_value, key, kind, default, value)
    if not ok then error(v, 2) end
    cfg[key] = v
    given[key] = true
    i = i + 1
  end
  if cfg.quick and cfg.full then error("sslua.experiment.args: --quick and --full exclude each other", 2) end
  configs[cfg] = { argv = argv, given = given, options = options }
  local s = sslua_mod or package.loaded.sslua
  if s then
    if math.type(cfg.threads) == "integer" and cfg.threads > 0 and s.threads then s.threads(cfg.threads) end
    if s.manual_seed and math.type(cfg.seed) == "integer" then s.manual_seed(cfg.seed) end
  end
  return cfg
end

--- experiment.preset(cfg, {quick = {...}, full = {...}}): under --quick (or --full) the
--- listed values replace the defaults, except the options given on the command line.
function experiment.preset(cfg, presets)
  if type(cfg) ~= "table" or type(presets) ~= "table" then
    error("sslua.experiment.preset: expected the config and a table of presets", 2)
  end
  for _, mode in ipairs({ "quick", "full" }) do
    if cfg[mode] and presets[mode] then
      for k, v in pairs(presets[mode]) do
        if not experiment.given(cfg, k) then cfg[k] = v end
      end
    end
  end
  return cfg
end

--- experiment.given(cfg, name) -> true when `--name` was on the command line.
function experiment.given(cfg, name)
  local meta = configs[cfg]
  return meta ~= nil and meta.given[name] == true
end

-- Writes a whole file atomically: a temporary name in the same directory, then rename.
local function write_atomic(path, text)
  if type(path) ~= "string" or type(text) ~= "string" then
    error("sslua.experiment.write_atomic: expected a path and a string, got " .. type(path) .. " and " .. type(text), 2)
  end
  local tmp = path .. ".tmp" .. tostring(math.random(1, 1 << 30))
  local f, err = io.open(tmp, "wb")
  if not f then error("sslua.experiment.write_atomic: cannot write " .. path .. ": " .. tostring(err), 0) end
  local ok, werr = f:write(text)
  local cok, cerr = f:close()
  if not ok or not cok then
    os.remove(tmp)
    error("sslua.experiment.write_atomic: cannot write " .. path .. ": " .. tostring(werr or cerr), 0)
  end
  local rok, rerr = os.rename(tmp, path)
  if not rok then
    os.remove(tmp)
    error("sslua.experiment.write_atomic: cannot write " .. path .. ": " .. tostring(rerr), 0)
  end
end
experiment.write_atomic = write_atomic

local function basename(p) return (p:gsub("/+$", ""):match("([^/]+)$")) or p end

local function clock()
  local s = sslua_mod or package.loaded.sslua
  if s and s.clock then return s.clock() end
  return os.time()
end
experiment.clock = clock

-- CSV cells: numbers with enough digits to round-trip floats, strings quoted when needed.
local function csv_cell(v, column, file)
  local t = type(v)
  if v == nil then return "" end
  if t == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    if v ~= v then return "nan" end
    if v == math.huge then return "inf" elseif v == -math.huge then return "-inf" end
    return string.format("%.10g", v)
  elseif t == "boolean" then return tostring(v)
  elseif t == "string" then
    if v:find('[,"\r\n]') then return '"' .. v:gsub('"', '""') .. '"' end
    return v
  elseif t == "userdata" and v.numel and v:numel() == 1 then
    return csv_cell(v:item(), column, file)
  end
  error("run:log: column '" .. column .. "' of " .. file .. " must be a number, string or boolean, got " .. t, 0)
end

-- Keys that read best first in a table of results; the rest follow alphabetically.
local leading = { "run", "policy", "config", "projector", "seed", "epoch", "step" }

local Logger = util.class("sslua.experiment.Logger")

function Logger:log(row)
  if type(row) ~= "table" then error("run:log: expected a table of column = value, got " .. type(row), 2) end
  if not self.columns then
    local cols, seen = {}, {}
    local function add(k) if not seen[k] and row[k] ~= nil then cols[#cols + 1] = k; seen[k] = true end end
    for _, k in ipairs(self.order or {}) do add(k) end
    for _, k in ipairs(leading) do add(k) end
    local rest = {}
    for k in pairs(row) do
      if type(k) ~= "string" then error("run:log: column names must be strings, got " .. type(k), 2) end
      if not seen[k] then rest[#rest + 1] = k end
    end
    table.sort(rest)
    for _, k in ipairs(rest) do add(k) end
    if #cols == 0 then error("run:log: the first row has no columns", 2) end
    self.columns, self.index = cols, seen
    local f, err = io.open(self.path, "w")
    if not f then error("run:log: cannot open " .. self.path .. ": " .. tostring(err), 2) end
    self.file = f
    local head = {}
    for i, c in ipairs(cols) do head[i] = csv_cell(c, c, self.name) end
    f:write(table.concat(head, ","), "\n")
  end
  for k in pairs(row) do
    if not self.index[k] then
      error("run:log: column '" .. tostring(k) .. "' is not in the header of " .. self.name
        .. " (the first row fixes the columns: " .. table.concat(self.columns, ",") .. ")", 2)
    end
  end
  local cells = {}
  for i, c in ipairs(self.columns) do
    local ok, cell = pcall(csv_cell, row[c], c, self.name)
    if not ok then error(cell, 2) end
    cells[i] = cell
  end
  self.file:write(table.concat(cells, ","), "\n")
  self.file:flush()
  local copy = {}
  for k, v in pairs(row) do copy[k] = (type(v) == "userdata" and v.item) and v:item() or v end
  self.rows[#self.rows + 1] = copy
  return self
end

function Logger:close()
  if self.file then self.file:close(); self.file = nil end
end

local Run = util.class("sslua.experiment.Run")

local function mkdir_p(path)
  return (pcall(sslua._fs.mkdir, path, true))
end

local function mkdir_new(path)
  -- `mkdir` without parents fails when the directory exists: the atomic claim of a name.
  local ok, created = pcall(sslua._fs.mkdir, path, false)
  return ok and created
end

--- experiment.run(cfg [, {name=, root=, dir=, columns=, description=}]) -> run.
-- Creates `results/<script>/<timestamp>/` (a counter suffix when taken; SSLUA_RUN_DIR or
-- `dir` names it exactly) and writes config.json there.
function experiment.run(cfg, opts)
  if type(cfg) ~= "table" then error("sslua.experiment.run: expected the config table from experiment.args", 2) end
  if opts ~= nil and type(opts) ~= "table" then error("sslua.experiment.run: options must be a table", 2) end
  opts = util.check_options("sslua.experiment.run", opts, { script = "string", name = "string", dir = "string",
    root = "string", description = "string", columns = "table" })
  local script = opts.script or script_name()
  local name = opts.name or basename(script):gsub("%.lua$", "")
  local dir = opts.dir or os.getenv("SSLUA_RUN_DIR")
  if dir and dir ~= "" then
    if not mkdir_p(dir) then error("sslua.experiment.run: cannot create " .. dir, 2) end
  else
    local root = (opts.root or os.getenv("SSLUA_RESULTS_DIR") or "results") .. "/" .. name
    if not mkdir_p(root) then error("sslua.experiment.run: cannot create " .. root, 2) end
    local stamp = os.date("!%Y%m%d-%H%M%S")
    dir = nil
    for k = 1, 1000 do
      local cand = root .. "/" .. stamp .. (k > 1 and ("-" .. k) or "")
      if mkdir_new(cand) then dir = cand; break end
    end
    if not dir then error("sslua.experiment.run: cannot create a run directory under " .. root, 2) end
  end
  local s = sslua_mod or package.loaded.sslua
  local meta = configs[cfg] or {}
  local run = setmetatable({
    dir = dir, name = name, config = cfg, script = script,
    started = clock(), loggers = {}, figures = {},
  }, Run)
  local args = {}
  for k, v in pairs(cfg) do args[k] = v end
  run.record = {
    name = name,
    script = script,
    script_sha256 = sha256.file(script) or json.null,
    args = args,
    argv = meta.argv or {},
    seed = cfg.seed,
    threads = (s and s.threads) and s.threads() or json.null,
    sslua_version = (s and s.version) or json.null,
    lua_version = _VERSION,
    started_utc = os.date("!%Y-%m-%dT%H:%M:%SZ"),
    run_dir = dir,
    description = opts.description,
  }
  run:write("config.json", json.encode(run.record, { indent = "  " }) .. "\n")
  run.columns = opts.columns
  return run
end

--- run:path(file) -> the file's path inside the run directory.
function Run:path(file)
  if type(file) ~= "string" or file == "" or file:find("%.%.") or file:sub(1, 1) == "/" then
    error("run:path: expected a file name inside the run directory, got " .. tostring(file), 2)
  end
  return self.dir .. "/" .. file
end

--- run:write(file, text): writes a whole file atomically into the run directory.
function Run:write(file, text)
  if type(text) ~= "string" then error("run:write: expected text, got " .. type(text), 2) end
  local ok, err = pcall(write_atomic, self:path(file), text)
  if not ok then error("run:write: " .. err, 2) end
  return self:path(file)
end

--- run:write_json(file, value)
function Run:write_json(file, value)
  return self:write(file, json.encode(value, { indent = "  " }) .. "\n")
end

--- run:logger(file [, {columns = {...}}]) -> a CSV logger with :log(row).
function Run:logger(file, opts)
  file = file or "metrics.csv"
  util.check_options("sslua.experiment.Run:logger", opts, { columns = "table" })
  if self.loggers[file] then return self.loggers[file] end
  local lg = setmetatable({ path = self:path(file), name = file, rows = {},
    order = (opts and opts.columns) or (file == "metrics.csv" and self.columns) or nil }, Logger)
  self.loggers[file] = lg
  return lg
end

--- run:log(row): appends one row to metrics.csv (header from the first row, flushed each row).
function Run:log(row)
  local ok, err = pcall(Logger.log, self:logger("metrics.csv"), row)
  if not ok then error(err, 2) end
  return self
end

--- run.rows: the rows logged to metrics.csv so far.
function Run:rows(file)
  local lg = self.loggers[file or "metrics.csv"]
  return lg and lg.rows or {}
end

--- run:save(figure, file): saves a figure (anything with :save(path)) into the run directory.
function Run:save(fig, file)
  if type(fig) ~= "table" or type(fig.save) ~= "function" then
    error("run:save: expected a figure with :save(path)", 2)
  end
  local p = self:path(file)
  fig:save(p)
  self.figures[#self.figures + 1] = file
  return p
end

--- run:finish([summary]): closes the logs and adds the elapsed time (and a summary) to config.json.
function Run:finish(summary)
  for _, lg in pairs(self.loggers) do lg:close() end
  self.record.elapsed_seconds = clock() - self.started
  self.record.finished_utc = os.date("!%Y-%m-%dT%H:%M:%SZ")
  if summary ~= nil then self.record.summary = summary end
  self.record.figures = self.figures
  self:write("config.json", json.encode(self.record, { indent = "  " }) .. "\n")
  return self
end

-- Progress: a redrawn bar on a terminal; otherwise a plain line at most every 10 s and at the end.
local tty_cache
function experiment.interactive()
  local env = os.getenv("SSLUA_PROGRESS")
  if env == "0" then return false elseif env == "1" then return true end
  if tty_cache ~= nil then return tty_cache end
  local term = os.getenv("TERM")
  if term == nil or term == "" or term == "dumb" then tty_cache = false; return false end
  tty_cache = sslua._fs.isatty(1)
  return tty_cache
end

local Progress = util.class("sslua.experiment.Progress")

--- experiment.progress(total [, {label=, width=}]) -> bar with :update(done [, info]) and :finish([info]).
function experiment.progress(total, opts)
  if math.type(total) ~= "integer" or total < 0 then
    error("sslua.experiment.progress: total must be a non-negative integer, got " .. tostring(total), 2)
  end
  opts = util.check_options("sslua.experiment.progress", opts, { label = "string", width = "integer", out = "any" })
  return setmetatable({ total = total, label = opts.label or "", width = opts.width or 30,
    tty = experiment.interactive(), start = clock(), last = clock(), out = opts.out or io.stdout }, Progress)
end

local function info_text(info)
  if info == nil then return "" end
  if type(info) == "string" then return info end
  if type(info) ~= "table" then error("sslua.experiment.progress: info must be a table or a string, got " .. type(info), 3) end
  local keys = {}
  for k in pairs(info) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = info[k]
    parts[#parts + 1] = k .. "=" .. (type(v) == "number" and math.type(v) == "float" and string.format("%.4g", v) or tostring(v))
  end
  return table.concat(parts, " ")
end

local function hms(t)
  t = math.max(0, math.floor(t + 0.5))
  if t >= 3600 then return string.format("%d:%02d:%02d", t // 3600, t // 60 % 60, t % 60) end
  return string.format("%d:%02d", t // 60, t % 60)
end

function Progress:update(done, info)
  if math.type(done) ~= "integer" then error("progress:update: expected an integer count", 2) end
  local now = clock()
  local elapsed = now - self.start
  local frac = self.total > 0 and math.min(1, done / self.total) or 1
  local eta = done > 0 and elapsed * (self.total - done) / done or 0
  local text = info_text(info)
  if self.tty then
    if now - self.last < 0.1 and done < self.total then return end
    self.last = now
    local fill = math.floor(frac * self.width + 0.5)
    self.out:write(string.format("\r%s [%s%s] %d/%d %s<%s %s\27[K", self.label, string.rep("=", fill),
      string.rep(" ", self.width - fill), done, self.total, hms(elapsed), hms(eta), text))
    self.out:flush()
    self.drawn = true
  elseif now - self.last >= 10 then
    -- Plain lines (a log file or a pipe): at most one every 10 s, then the final line.
    self.last = now
    self.out:write(string.format("%s %d/%d (%d%%) %s elapsed, %s left %s\n", self.label, done, self.total,
      math.floor(frac * 100), hms(elapsed), hms(eta), text))
    self.out:flush()
  end
end

function Progress:finish(info)
  local now = clock()
  if self.tty then
    if self.drawn then self.out:write("\r\27[K") end
    self.out:write(string.format("%s done in %s %s\n", self.label, hms(now - self.start), info_text(info)))
  else
    self.out:write(string.format("%s done in %s %s\n", self.label, hms(now - self.start), info_text(info)))
  end
  self.out:flush()
end

--- experiment.format_table(rows, columns [, {digits=4}]) -> aligned text table.
function experiment.format_table(rows, columns, opts)
  if type(rows) ~= "table" or type(columns) ~= "table" then
    error("sslua.experiment.format_table: expected rows and a list of columns", 2)
  end
  util.check_options("sslua.experiment.format_table", opts, { digits = "integer" })
  for j, c in ipairs(columns) do
    if type(c) ~= "string" then error("sslua.experiment.format_table: column " .. j .. " must be a name, got " .. type(c), 2) end
  end
  local digits = (opts and opts.digits) or 4
  local cells, widths = {}, {}
  for j, c in ipairs(columns) do widths[j] = math.max(#c, 1) end   -- "%0s" is not a format
  for i, r in ipairs(rows) do
    cells[i] = {}
    for j, c in ipairs(columns) do
      local v = r[c]
      local s
      if type(v) == "number" and math.type(v) == "float" then s = string.format("%." .. digits .. "g", v)
      elseif v == nil then s = "" else s = tostring(v) end
      cells[i][j] = s
      if #s > widths[j] then widths[j] = #s end
    end
  end
  local lines = {}
  local head, rule = {}, {}
  for j, c in ipairs(columns) do head[j] = string.format("%" .. widths[j] .. "s", c); rule[j] = string.rep("-", widths[j]) end
  lines[1] = table.concat(head, "  ")
  lines[2] = table.concat(rule, "  ")
  for i = 1, #rows do
    local parts = {}
    for j = 1, #columns do parts[j] = string.format("%" .. widths[j] .. "s", cells[i][j]) end
    lines[#lines + 1] = table.concat(parts, "  ")
  end
  return table.concat(lines, "\n")
end

function experiment.print_table(rows, columns, opts)
  util.check_options("sslua.experiment.print_table", opts, { digits = "integer" })
  print(experiment.format_table(rows, columns, opts))
end

--- experiment.interpreter() -> absolute path of the running sslua program (to start more runs).
-- /proc/self/exe resolved by the process itself, else the interpreter name at arg's lowest
-- negative index, as in Lua's `lua` program.
function experiment.interpreter()
  local path = sslua._fs.realpath("/proc/self/exe")
  if path and path ~= "" then return path end
  if arg then
    local i = -1
    while arg[i - 1] ~= nil do i = i - 1 end
    if arg[i] then return arg[i] end
  end
  return "sslua"
end

experiment.simclr = require("sslua.simclr").simclr

return experiment

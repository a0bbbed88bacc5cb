-- The experiment runner (SPEC §4.5): command-line flags from a table of defaults, a run
-- directory that records exactly what produced it, a CSV logger, progress bars, and the
-- SimCLR training loop the examples share.
--
--   local experiment = require "sslua.experiment"
--   local cfg = experiment.args{epochs = 20, policy = {"small", "large"}, lr = 1e-3}
--   local run = experiment.run(cfg)
--   run:log{policy = "small", epoch = 0, loss = 4.2}      -- appends to metrics.csv
--   run:save(fig, "rank.svg")
--
-- `--resume RUN_DIR` (every script, through experiment.args/experiment.run) continues a killed
-- run in RUN_DIR from the checkpoint experiment.simclr writes after each epoch; see
-- "Checkpoints and --resume" below. State a script keeps across epochs for its figures goes in
-- `run.state` (JSON-like values), which checkpoints carry.
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
  if options.resume == nil then
    lines[#lines + 1] = string.format("%-" .. width .. "s  continue the killed run in DIR (same script, arguments and threads)", "  --resume DIR")
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
  if os.getenv("SSLUA_LIST_OPTIONS") == "1" and opts.argv == nil then
    -- `sslua sweep` asks which flags the script declares (sslua.sweep_summary.check_flags).
    local kinds = {}
    for k, v in pairs(options) do kinds[k] = kind_of(v) end
    io.stdout:write("sslua-options: ", json.encode(kinds), "\n")
    io.stdout:flush()
    os.exit(0)
  end
  local argv = opts.argv
  if argv == nil then
    argv = {}
    if arg then for i = 1, #arg do argv[i] = arg[i] end end
  elseif type(argv) ~= "table" then
    error("sslua.experiment.args: argv must be a list of strings", 2)
  end
  -- `--resume DIR` (unless the script has an option of that name) is not an argument of the
  -- run: it names the run directory to continue, and is kept out of config.json's args.
  local resume
  if options.resume == nil then
    local rest, j = {}, 1
    while j <= #argv do
      local a, value = argv[j], nil
      if a == "--resume" then value = argv[j + 1]; j = j + 2
      elseif type(a) == "string" and a:sub(1, 9) == "--resume=" then value = a:sub(10); j = j + 1
      else rest[#rest + 1] = a; j = j + 1 end
      if a == "--resume" or (type(a) == "string" and a:sub(1, 9) == "--resume=") then
        if type(value) ~= "string" or value == "" then error("sslua.experiment.args: option --resume needs a run directory", 2) end
        if resume then error("sslua.experiment.args: --resume given twice", 2) end
        resume = value
      end
    end
    argv = rest
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
  configs[cfg] = { argv = argv, given = given, options = options, resume = resume }
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

--- experiment.resume_dir(cfg) -> the run directory given with --resume, or nil.
function experiment.resume_dir(cfg)
  local meta = configs[cfg]
  return meta and meta.resume or nil
end

--- experiment.given(cfg, name) -> true when `--name` was on the command line.
function experiment.given(cfg, name)
  local meta = configs[cfg]
  return meta ~= nil and meta.given[name] == true
end

-- Writes a whole file atomically (native: a new temporary file under a random name beside
-- `path`, opened O_EXCL|O_NOFOLLOW, synced, then renamed over `path`; under --sandbox beneath
-- the results directory).
local function write_atomic(path, text)
  if type(path) ~= "string" or type(text) ~= "string" then
    error("sslua.experiment.write_atomic: expected a path and a string, got " .. type(path) .. " and " .. type(text), 2)
  end
  local ok, err = sslua._fs.write_atomic(path, text)
  if not ok then error("sslua.experiment.write_atomic: cannot write " .. path .. ": " .. tostring(err), 0) end
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

-- Distributed runs (sslua.dist under mpirun/srun, docs/DISTRIBUTED.md): every rank runs the
-- script and keeps the same run state, only rank 0 writes the run directory (the others'
-- runs are `silent`).
local function dist_world()
  local s = sslua_mod or package.loaded.sslua
  if not (s and s.dist) then return 0, 1 end
  return s.dist.init()
end

-- Rank 0's string on every rank.
local function dist_share_string(str)
  local s = sslua_mod or package.loaded.sslua
  local d = s.dist
  local n = d.broadcast(s.tensor({ d.rank() == 0 and #str or 0 }, { dtype = "float64" })):item()
  local buf = s.zeros(n, { dtype = "float64" })
  if d.rank() == 0 and n > 0 then
    local bytes = {}
    for i = 1, n do bytes[i] = str:byte(i) end
    buf = s.tensor(bytes, { dtype = "float64" })
  end
  local out = {}
  for i, b in ipairs(n > 0 and d.broadcast(buf):totable() or {}) do out[i] = string.char(math.tointeger(b)) end
  return table.concat(out)
end

local silent_file = { write = function(self) return self end, flush = function() end, close = function() end }
local function open_log(lg, mode)
  if lg.run and lg.run.silent then return silent_file end
  return io.open(lg.path, mode)
end

local Logger = util.class("sslua.experiment.Logger")

function Logger:log(row)
  if type(row) ~= "table" then error("run:log: expected a table of column = value, got " .. type(row), 2) end
  -- A resumed run re-executes its script up to the checkpoint: those rows are already logged.
  if self.run and self.run.replay then return self end
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
    local f, err = open_log(self, "w")
    if not f then error("run:log: cannot open " .. self.path .. ": " .. tostring(err), 2) end
    self.file = f
    local head = {}
    for i, c in ipairs(cols) do head[i] = csv_cell(c, c, self.name) end
    f:write(table.concat(head, ","), "\n")
  end
  if not self.file then
    -- Restored from a checkpoint (the file was rewritten up to it): append.
    local f, err = open_log(self, "a")
    if not f then error("run:log: cannot open " .. self.path .. ": " .. tostring(err), 2) end
    self.file = f
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

local resume_run -- below, with the checkpoints

--- experiment.run(cfg [, {name=, root=, dir=, columns=, description=}]) -> run.
-- Creates `results/<script>/<timestamp>/` (a counter suffix when taken; SSLUA_RUN_DIR or
-- `dir` names it exactly) and writes config.json there. Under --resume DIR (or `resume = DIR`)
-- it reopens DIR instead, after checking that its config.json records this script (name and
-- SHA-256), these arguments and this thread count; a finished run prints so and exits 0.
function experiment.run(cfg, opts)
  if type(cfg) ~= "table" then error("sslua.experiment.run: expected the config table from experiment.args", 2) end
  if opts ~= nil and type(opts) ~= "table" then error("sslua.experiment.run: options must be a table", 2) end
  opts = util.check_options("sslua.experiment.run", opts, { script = "string", name = "string", dir = "string",
    root = "string", description = "string", columns = "table", resume = "string" })
  local script = opts.script or script_name()
  local name = opts.name or basename(script):gsub("%.lua$", "")
  local meta0 = configs[cfg] or {}
  local resume_dir = opts.resume or meta0.resume
  local dir = opts.dir or os.getenv("SSLUA_RUN_DIR")
  local rank, world = dist_world()
  local silent = rank ~= 0
  if resume_dir then
    if type(resume_dir) ~= "string" or resume_dir == "" then error("sslua.experiment.run: 'resume' must name a run directory", 2) end
    dir = resume_dir:gsub("(.)/+$", "%1")
  elseif dir and dir ~= "" then
    if not (silent or mkdir_p(dir)) then error("sslua.experiment.run: cannot create " .. dir, 2) end
  else
    local root = (opts.root or os.getenv("SSLUA_RESULTS_DIR") or "results") .. "/" .. name
    if not (silent or mkdir_p(root)) then error("sslua.experiment.run: cannot create " .. root, 2) end
    local stamp = os.date("!%Y%m%d-%H%M%S")
    dir = nil
    for k = 1, 1000 do
      local cand = root .. "/" .. stamp .. (k > 1 and ("-" .. k) or "")
      if silent or mkdir_new(cand) then dir = cand; break end
    end
    if not dir then error("sslua.experiment.run: cannot create a run directory under " .. root, 2) end
  end
  if world > 1 then dir = dist_share_string(dir) end
  local s = sslua_mod or package.loaded.sslua
  local meta = configs[cfg] or {}
  local run = setmetatable({
    dir = dir, name = name, config = cfg, script = script,
    started = clock(), loggers = {}, figures = {}, state = {}, segment = 0, histories = {}, checkpoint_seq = 0,
    finished_loops = {}, kept = {}, silent = silent, world_size = world,
  }, Run)
  local args = {}
  for k, v in pairs(cfg) do args[k] = v end
  experiment.current_run = run
  if resume_dir then
    run.columns = opts.columns
    return resume_run(run, args)
  end
  run.record = {
    name = name,
    script = script,
    script_sha256 = sha256.file(script) or json.null,
    args = args,
    argv = meta.argv or {},
    seed = cfg.seed,
    threads = (s and s.threads) and s.threads() or json.null,
    world_size = world,
    sslua_version = (s and s.version) or json.null,
    lua_version = _VERSION,
    started_utc = os.date("!%Y-%m-%dT%H:%M:%SZ"),
    run_dir = dir,
    description = opts.description,
    status = "running",   -- "done" at run:finish, "failed" when the script raises (experiment._on_error)
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
  if self.silent then return self:path(file) end
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
  local lg = setmetatable({ path = self:path(file), name = file, rows = {}, run = self,
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
  if not self.silent then fig:save(p) end
  self.figures[#self.figures + 1] = file
  return p
end

--- run:finish([summary]): closes the logs and adds the elapsed time (and a summary) to config.json.
function Run:finish(summary)
  if self.replay then
    error("run:finish: resuming " .. self.dir .. ", the script ended without reaching its checkpoint (training loop "
      .. tostring(self.replay.segment) .. ", epoch " .. tostring(self.replay.epoch) .. "): it does not train as the killed run did", 2)
  end
  for _, lg in pairs(self.loggers) do lg:close() end
  self.record.elapsed_seconds = clock() - self.started
  self.record.finished_utc = os.date("!%Y-%m-%dT%H:%M:%SZ")
  if summary ~= nil then self.record.summary = summary end
  self.record.figures = self.figures
  self.record.status = "done"
  self.record.error = nil
  self:write("config.json", json.encode(self.record, { indent = "  " }) .. "\n")
  return self
end

-- Checkpoints and --resume --------------------------------------------------------------------
-- A run directory holds at most one checkpoint: `checkpoint-<seq>.safetensors` (tensors) and
-- `checkpoint.json`, the manifest, written last by an atomic rename. The manifest names the
-- tensor file with its FNV-1a digest and size, so a kill between the two files leaves the
-- previous checkpoint in force, and a damaged file is an error, never a silently wrong run.
-- The manifest also holds every logger's rows (each CSV file is rewritten from them on
-- resume, so a torn last row cannot survive), the global generator, `run.state` and the
-- histories of the training loops (segments) run so far.
--
-- Resuming re-executes the script from the top: the run is "replaying" (rows logged are
-- dropped, they are in the checkpoint) until the training loop that wrote the checkpoint
-- restores it; earlier loops return at once, later ones run normally.

local CHECKPOINT_FORMAT = "sslua-checkpoint-1"

-- Exact JSON form of row cells and run.state: floats that JSON cannot hold become tagged strings.
local function pack(v, where, depth)
  depth = depth or 0
  local t = type(v)
  if t == "number" then
    if math.type(v) == "float" and (v ~= v or v == math.huge or v == -math.huge) then
      return { ["$float"] = v ~= v and "nan" or (v > 0 and "inf" or "-inf") }
    end
    return v
  elseif t == "string" or t == "boolean" then return v
  elseif t == "userdata" and v.numel and v:numel() == 1 then return pack(v:item(), where, depth)
  elseif t == "table" and depth < 32 then
    local out = {}
    for k, x in pairs(v) do
      if type(k) ~= "string" and math.type(k) ~= "integer" then
        error(where .. ": keys must be strings or integers, got " .. type(k), 0)
      end
      out[k] = pack(x, where, depth + 1)
    end
    return out
  end
  error(where .. ": values must be numbers, strings, booleans or tables of them, got " .. t, 0)
end

local function unpack_exact(v)
  if type(v) ~= "table" then return v end
  if v == json.null then return nil end
  local f = rawget(v, "$float")
  if type(f) == "string" and next(v, next(v)) == nil and next(v) == "$float" then
    return ({ nan = 0 / 0, inf = math.huge, ["-inf"] = -math.huge })[f]
  end
  local out = {}
  for k, x in pairs(v) do out[k] = unpack_exact(x) end
  return out
end

local read_file = util.read_file

local function csv_text(columns, rows, name)
  local lines = {}
  local head = {}
  for i, c in ipairs(columns) do head[i] = csv_cell(c, c, name) end
  lines[1] = table.concat(head, ",")
  for r, row in ipairs(rows) do
    local cells = {}
    for i, c in ipairs(columns) do cells[i] = csv_cell(row[c], c, name) end
    lines[r + 1] = table.concat(cells, ",")
  end
  return table.concat(lines, "\n") .. "\n"
end

local function digest(path)
  local ok, h, size = pcall(sslua._checkpoint.digest, path)
  if not ok then return nil, h end
  return h, size
end

-- resume(run, args): reopens run.dir after checking that this script and these arguments
-- made it; loads the checkpoint manifest (if any) and restores the loggers.
resume_run = function(run, args)
  local s = sslua_mod or package.loaded.sslua
  local dir = run.dir
  local where = "experiment.run: cannot resume " .. dir
  local cpath = dir .. "/config.json"
  local text = read_file(cpath)
  if not text then error(where .. ": no " .. cpath .. " (not a run directory; a run killed before writing it lost nothing: start it again without --resume)", 0) end
  local ok, rec = pcall(json.decode, text)
  if not ok or type(rec) ~= "table" or type(rec.args) ~= "table" then
    error(where .. ": " .. cpath .. " is not a run record (" .. (ok and "no 'args'" or tostring(rec)) .. ")", 0)
  end
  if rec.name ~= run.name then
    error(where .. ": " .. cpath .. " was made by the script '" .. tostring(rec.name) .. "' (" .. tostring(rec.script)
      .. "), this is '" .. run.name .. "' (" .. run.script .. ")", 0)
  end
  local sha = sha256.file(run.script) or json.null
  if rec.script_sha256 ~= sha then
    error(where .. ": the script differs: " .. cpath .. " records " .. tostring(rec.script) .. " with sha256 "
      .. tostring(rec.script_sha256) .. ", " .. run.script .. " now has sha256 " .. tostring(sha), 0)
  end
  local keys, seen = {}, {}
  for k in pairs(args) do if not seen[k] then keys[#keys + 1] = k; seen[k] = true end end
  for k in pairs(rec.args) do if not seen[k] then keys[#keys + 1] = k; seen[k] = true end end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local was, now = rec.args[k], args[k]
    if was == nil or was == json.null then
      error(where .. ": argument " .. flag_name(k) .. " is not in " .. cpath .. " (now " .. format_value(now) .. ")", 0)
    elseif now == nil then
      error(where .. ": argument " .. flag_name(k) .. " of " .. cpath .. " (" .. format_value(was) .. ") is not an option of the script now", 0)
    elseif json.encode(was) ~= json.encode(now) then
      error(where .. ": argument " .. flag_name(k) .. " differs: " .. cpath .. " has " .. format_value(was)
        .. ", the command line gives " .. format_value(now), 0)
    end
  end
  local threads = (s and s.threads) and s.threads() or json.null
  if rec.threads ~= json.null and rec.threads ~= threads then
    error(where .. ": the thread count differs: " .. cpath .. " has " .. tostring(rec.threads) .. ", this process "
      .. tostring(threads) .. " (results depend on it; pass --threads " .. tostring(rec.threads) .. ")", 0)
  end
  if rec.finished_utc ~= nil and rec.finished_utc ~= json.null then
    print("experiment: " .. dir .. " is complete (finished " .. tostring(rec.finished_utc) .. "); nothing to resume")
    os.exit(0)
  end
  -- The checkpoint, if the run reached one.
  local mpath = dir .. "/checkpoint.json"
  local mtext = read_file(mpath)
  if mtext then
    local mok, m = pcall(json.decode, mtext)
    if not mok or type(m) ~= "table" then
      error(where .. ": corrupt checkpoint " .. mpath .. ": " .. tostring(m), 0)
    end
    if m.format ~= CHECKPOINT_FORMAT then
      error(where .. ": " .. mpath .. " has format " .. tostring(m.format) .. ", expected " .. CHECKPOINT_FORMAT, 0)
    end
    for _, key in ipairs({ "seq", "segment", "epoch", "tensors", "digest", "bytes" }) do
      if m[key] == nil then error(where .. ": corrupt checkpoint " .. mpath .. ": no '" .. key .. "'", 0) end
    end
    if type(m.tensors) ~= "string" or not m.tensors:match("^checkpoint%-%d+%.safetensors$") then
      error(where .. ": corrupt checkpoint " .. mpath .. ": bad tensor file name " .. tostring(m.tensors), 0)
    end
    local tpath = dir .. "/" .. m.tensors
    local h, size = digest(tpath)
    if not h then error(where .. ": checkpoint " .. mpath .. " names " .. tpath .. ", which cannot be read: " .. tostring(size), 0) end
    if h ~= m.digest or size ~= m.bytes then
      error(where .. ": corrupt checkpoint: " .. tpath .. " has " .. size .. " bytes with digest " .. h .. ", "
        .. mpath .. " expects " .. tostring(m.bytes) .. " bytes with digest " .. tostring(m.digest), 0)
    end
    if rec.threads ~= json.null and m.threads ~= nil and m.threads ~= rec.threads then
      error(where .. ": " .. mpath .. " was written with " .. tostring(m.threads) .. " threads, " .. cpath .. " says " .. tostring(rec.threads), 0)
    end
    local rok, rerr = pcall(function()
      for file, L in pairs(m.loggers or {}) do
        if type(file) ~= "string" or file:find("/") or type(L) ~= "table" or type(L.columns) ~= "table" then
          error("bad logger entry " .. tostring(file), 0)
        end
        local rows = unpack_exact(L.rows or {})
        local lg = run:logger(file)
        lg.columns, lg.index, lg.rows = L.columns, {}, rows
        for _, c in ipairs(L.columns) do lg.index[c] = true end
        if not run.silent then write_atomic(lg.path, csv_text(L.columns, rows, file)) end
      end
      run.state = unpack_exact(m.run_state or {})
      run.histories = unpack_exact(m.histories or {})
    end)
    if not rok then error(where .. ": corrupt checkpoint " .. mpath .. ": " .. tostring(rerr), 0) end
    run.replay = m
    run.checkpoint_seq = m.seq
    run.checkpoint_path = mpath
    run.checkpoint_tensors = tpath
    run.last_tensors = m.tensors
    -- The final checkpoints of the training loops finished before: the skipped loops of the
    -- replay restore their trained state from them.
    if m.finished ~= nil and type(m.finished) ~= "table" then error(where .. ": corrupt checkpoint " .. mpath .. ": bad 'finished'", 0) end
    for i, e in ipairs(m.finished or {}) do
      if type(e) ~= "table" or math.type(e.segment) ~= "integer" or type(e.tensors) ~= "string"
        or not e.tensors:match("^checkpoint%-%d+%.safetensors$") then
        error(where .. ": corrupt checkpoint " .. mpath .. ": bad entry " .. i .. " of 'finished'", 0)
      end
      local fpath = dir .. "/" .. e.tensors
      local fh, fsize = digest(fpath)
      if not fh then error(where .. ": checkpoint " .. mpath .. " names " .. fpath .. ", which cannot be read: " .. tostring(fsize), 0) end
      if fh ~= e.digest or fsize ~= e.bytes then
        error(where .. ": corrupt checkpoint: " .. fpath .. " has " .. fsize .. " bytes with digest " .. fh .. ", "
          .. mpath .. " expects " .. tostring(e.bytes) .. " bytes with digest " .. tostring(e.digest), 0)
      end
      run.finished_loops[i] = e
      run.kept[e.tensors] = true
    end
    -- A kill after the manifest's rename may have left the previous tensor file behind, one
    -- inside a checkpoint's write the next.
    local prev = "checkpoint-" .. (m.seq - 1) .. ".safetensors"
    if not run.kept[prev] then os.remove(dir .. "/" .. prev) end
    os.remove(dir .. "/checkpoint-" .. (m.seq + 1) .. ".safetensors")
  end
  local resumed = type(rec.resumed_utc) == "table" and rec.resumed_utc or {}
  resumed[#resumed + 1] = os.date("!%Y-%m-%dT%H:%M:%SZ")
  rec.resumed_utc = resumed
  rec.status, rec.error, rec.exit_code, rec.failed_utc = "running", nil, nil, nil
  run.record = rec
  run:write("config.json", json.encode(rec, { indent = "  " }) .. "\n")
  if run.replay then
    print(string.format("experiment: resuming %s from its checkpoint (training loop %d, epoch %d)", dir,
      run.replay.segment, run.replay.epoch))
  else
    print("experiment: resuming " .. dir .. " from the start (it has no checkpoint yet)")
  end
  return run
end

--- run:checkpoint(tensors, data): writes a checkpoint of the training loop `data.segment` at
--- `data.epoch` (tensors: name -> tensor; data: JSON-able), with the loggers' rows, run.state
--- and the global generator. Used by experiment.simclr at the end of each epoch.
function Run:checkpoint(tensors, data)
  local s = sslua_mod or package.loaded.sslua
  if type(tensors) ~= "table" then error("run:checkpoint: expected a table of named tensors, got " .. type(tensors), 2) end
  if type(data) ~= "table" or math.type(data.segment) ~= "integer" or math.type(data.epoch) ~= "integer" then
    error("run:checkpoint: expected data with integer 'segment' and 'epoch', got " .. type(data), 2)
  end
  if self.replay then error("run:checkpoint: the run is still replaying up to its checkpoint", 2) end
  if self.silent then self.checkpoint_seq = self.checkpoint_seq + 1; return self:path("checkpoint.json") end
  local seq = self.checkpoint_seq + 1
  local file = "checkpoint-" .. seq .. ".safetensors"
  local tpath = self:path(file)
  s.save(tpath, tensors)
  local h, size = digest(tpath)
  if not h then error("run:checkpoint: cannot read back " .. tpath .. ": " .. tostring(size), 2) end
  local loggers = {}
  for name, lg in pairs(self.loggers) do
    if lg.columns then loggers[name] = { columns = lg.columns, rows = pack(lg.rows, "run:log rows") } end
  end
  local packed = pack(data, "run:checkpoint data")
  if data.epoch == data.epochs then
    -- The end of a training loop: kept, so that a resumed run can restore the trained loop.
    self.finished_loops[#self.finished_loops + 1] = { segment = data.segment, tensors = file, digest = h, bytes = size, data = packed }
    self.kept[file] = true
  end
  local m = {
    format = CHECKPOINT_FORMAT, seq = seq, tensors = file, digest = h, bytes = size,
    segment = data.segment, epoch = data.epoch, data = packed, finished = self.finished_loops,
    global_rng = s.get_rng_state(), threads = s.threads(),
    loggers = loggers, run_state = pack(self.state or {}, "run.state"), histories = pack(self.histories, "history"),
    written_utc = os.date("!%Y-%m-%dT%H:%M:%SZ"),
  }
  self:write("checkpoint.json", json.encode(m) .. "\n")
  if self.last_tensors and not self.kept[self.last_tensors] then os.remove(self:path(self.last_tensors)) end
  self.last_tensors = file
  self.checkpoint_seq = seq
  return self:path("checkpoint.json")
end

--- run:finished_checkpoint(segment) -> tensors, data of the end of training loop `segment`
--- (checked when the run was reopened), or nil when that loop left none.
function Run:finished_checkpoint(segment)
  local s = sslua_mod or package.loaded.sslua
  for _, e in ipairs(self.finished_loops) do
    if e.segment == segment then
      local path = self:path(e.tensors)
      local ok, tensors = pcall(s.load, path)
      if not ok then error("experiment: cannot resume " .. self.dir .. ": corrupt checkpoint " .. path .. ": " .. tostring(tensors), 0) end
      return tensors, unpack_exact(e.data)
    end
  end
  return nil
end

--- run:restore_checkpoint() -> tensors, data of the checkpoint being resumed (checked), and ends
--- the replay: from here on the run continues where the killed one stopped.
function Run:restore_checkpoint()
  local s = sslua_mod or package.loaded.sslua
  local m = self.replay
  if not m then error("run:restore_checkpoint: the run is not resuming a checkpoint", 2) end
  local ok, tensors = pcall(s.load, self.checkpoint_tensors)
  if not ok then error("experiment: cannot resume " .. self.dir .. ": corrupt checkpoint " .. self.checkpoint_tensors .. ": " .. tostring(tensors), 0) end
  local gok, gerr = pcall(s.set_rng_state, m.global_rng)
  if not gok then error("experiment: cannot resume " .. self.dir .. ": corrupt checkpoint " .. self.checkpoint_path .. ": global_rng: " .. tostring(gerr), 0) end
  self.replay = nil
  return tensors, unpack_exact(m.data)
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

-- experiment._on_error(message): the program calls this when the script raises; the current
-- run (if unfinished) records status "failed" and the error's first line in config.json.
function experiment._on_error(msg)
  local run = experiment.current_run
  if type(run) ~= "table" or type(run.record) ~= "table" or run.record.status ~= "running" then return end
  for _, lg in pairs(run.loggers or {}) do pcall(lg.close, lg) end
  run.record.status = "failed"
  run.record.error = (tostring(msg):match("^[^\n]*"))
  run.record.failed_utc = os.date("!%Y-%m-%dT%H:%M:%SZ")
  pcall(run.write, run, "config.json", json.encode(run.record, { indent = "  " }) .. "\n")
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

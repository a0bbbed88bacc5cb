-- Run directories: experiment.run (a directory recording exactly what produced it), the run's
-- files, CSV loggers, figures and run:finish; the checkpoints are in checkpoint.lua.
local experiment = {}   -- what this file adds to sslua.experiment

local json, util, sha256 = require "sslua.json", require "sslua.util", require "sslua.sha256"
local flags, common = require "sslua.experiment.flags", require "sslua.experiment.common"
local configs, script_name, clock, write_atomic = flags._configs, flags._script_name, common.clock, common.write_atomic
local sslua_mod = package.loaded.sslua or _G.sslua

local function basename(p) return (p:gsub("/+$", ""):match("([^/]+)$")) or p end

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
  require("sslua.experiment").current_run = run   -- the assembled table, which experiment.simclr reads
  if resume_dir then
    run.columns = opts.columns
    return require("sslua.experiment.checkpoint")._resume(run, args)
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

experiment._Run, experiment._csv_cell = Run, csv_cell

return experiment

-- Checkpoints of a run and --resume: run:checkpoint, run:finished_checkpoint,
-- run:restore_checkpoint and the resumption of a run directory (experiment.run calls it).
local experiment = {}   -- what this file adds to sslua.experiment

local json, util, sha256 = require "sslua.json", require "sslua.util", require "sslua.sha256"
local flags, rundir = require "sslua.experiment.flags", require "sslua.experiment.rundir"
local format_value, flag_name = flags.format_value, flags._flag_name
local Run, csv_cell, write_atomic = rundir._Run, rundir._csv_cell, require("sslua.experiment.common").write_atomic
local sslua_mod = package.loaded.sslua or _G.sslua

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

-- The tensor file `path` that the manifest `mpath` names must be readable and have the digest
-- and size the manifest records.
local function verify_tensors(where, mpath, path, want_digest, want_bytes)
  local h, size = digest(path)
  if not h then error(where .. ": checkpoint " .. mpath .. " names " .. path .. ", which cannot be read: " .. tostring(size), 0) end
  if h ~= want_digest or size ~= want_bytes then
    error(where .. ": corrupt checkpoint: " .. path .. " has " .. size .. " bytes with digest " .. h .. ", "
      .. mpath .. " expects " .. tostring(want_bytes) .. " bytes with digest " .. tostring(want_digest), 0)
  end
end

-- resume(run, args): reopens run.dir after checking that this script and these arguments
-- made it; loads the checkpoint manifest (if any) and restores the loggers.
local function resume_run(run, args)
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
    verify_tensors(where, mpath, tpath, m.digest, m.bytes)
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
      verify_tensors(where, mpath, dir .. "/" .. e.tensors, e.digest, e.bytes)
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

experiment._resume = resume_run

return experiment

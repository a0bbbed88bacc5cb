-- The experiment runner: command-line flags from a table of defaults, a run
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
--
-- The parts live in lua/sslua/experiment/, one concept a file: flags.lua (experiment.args and
-- the command line), rundir.lua (experiment.run, loggers, the run's files), checkpoint.lua
-- (checkpoints and --resume), progress.lua, table.lua, common.lua (clock, write_atomic). Each
-- part returns the names it adds to sslua.experiment (util.merge_parts).
-- `experiment.current_run` (set by experiment.run, read by experiment.simclr) is a field of
-- this table.
local json = require "sslua.json"
local util = require "sslua.util"

local experiment = util.merge_parts("sslua.experiment.", { "common", "flags", "rundir", "checkpoint", "progress",
  "table" })

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

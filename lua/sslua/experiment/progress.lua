-- Progress bars: redrawn on a terminal, otherwise a plain line at most every 10 s and at the end.
local util = require "sslua.util"
local common = require "sslua.experiment.common"
local clock = common.clock

local experiment = {}   -- what this file adds to sslua.experiment

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

return experiment

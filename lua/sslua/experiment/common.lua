-- The clock and the atomic file writer the parts of sslua.experiment share (both public).
local sslua_mod = package.loaded.sslua or _G.sslua

local experiment = {}   -- what this file adds to sslua.experiment

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

local function clock()
  local s = sslua_mod or package.loaded.sslua
  if s and s.clock then return s.clock() end
  return os.time()
end
experiment.clock = clock

return experiment

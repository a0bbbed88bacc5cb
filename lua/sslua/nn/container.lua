-- nn.Sequential, the chain of modules.
local common, module = require "sslua.nn.common", require "sslua.nn.module"
local mtype, fail, class, Module = math.type, common.fail, common.class, module.Module
local is_module = module.is_module

local nn = {}   -- what this file adds to sslua.nn

--- nn.Sequential(m1, m2, ...): children named "0", "1", ... as in PyTorch; seq[i] is the
--- i-th module (1-based), #seq their count, seq:add(m) appends and returns seq.
local Sequential = class("Sequential", Module)
Sequential.__index = function(t, k)
  if mtype(k) == "integer" then
    local name = rawget(t, "_children")[k > 0 and k or #rawget(t, "_children") + 1 + k]
    return name and rawget(t, name) or nil
  end
  return Sequential[k]
end
Sequential.__len = function(t) return #rawget(t, "_children") end
function Sequential:__init(...)
  Module._setup(self)
  for i = 1, select("#", ...) do
    local m = select(i, ...)
    if not is_module(m) then fail("Sequential", "argument #" .. i .. " is not a module", 2) end
    self:add(m)
  end
  return self
end
nn.Sequential = Sequential

function Sequential:add(m)
  if not is_module(m) then fail("Sequential", "add expects a module, got " .. type(m), 2) end
  self:add_module(tostring(#self._children), m)
  return self
end

function Sequential:forward(x)
  for _, name in ipairs(self._children) do x = self[name]:forward(x) end
  return x
end

return nn

-- The activation layers: nn.ReLU, nn.LeakyReLU.
local common, module = require "sslua.nn.common", require "sslua.nn.module"
local sslua, fail, Module, simple = common.sslua, common.fail, module.Module, module._simple

local nn = {}   -- what this file adds to sslua.nn

local ReLU = simple("ReLU", function(_, x) return sslua.relu(x) end)
function ReLU:__init() return Module._setup(self) end
nn.ReLU = ReLU

local LeakyReLU = simple("LeakyReLU", function(self, x) return sslua.leaky_relu(x, self.negative_slope) end,
  function(self) return "negative_slope=" .. tostring(self.negative_slope) end)
function LeakyReLU:__init(a)
  if a ~= nil and type(a) ~= "number" then fail("LeakyReLU", "negative_slope must be a number", 2) end
  Module._setup(self)
  self.negative_slope = a or 0.01
  return self
end
nn.LeakyReLU = LeakyReLU

return nn

-- The layers that only reshape or pass through: nn.Identity, nn.Flatten.
local common, module = require "sslua.nn.common", require "sslua.nn.module"
local fail, is_tensor, check_int, shape_str = common.fail, common.is_tensor, common.check_int, common.shape_str
local Module, simple = module.Module, module._simple

local nn = {}   -- what this file adds to sslua.nn

local Identity = simple("Identity", function(_, x) return x end)
function Identity:__init() return Module._setup(self) end
nn.Identity = Identity

--- nn.Flatten([start_dim = 2[, end_dim = -1]]) (1-based; PyTorch's default flatten(1))
local Flatten = simple("Flatten", function(self, x)
  if not is_tensor(x) then fail("Flatten", "expected a tensor input, got " .. type(x), 2) end
  local d = x:dim()
  local s = self.start_dim < 0 and d + 1 + self.start_dim or self.start_dim
  local e = self.end_dim < 0 and d + 1 + self.end_dim or self.end_dim
  if s < 1 or e > d or s > e then fail("Flatten", "dimensions out of range for size " .. shape_str(x), 2) end
  local sh, out = x:shape(), {}
  for i = 1, s - 1 do out[#out + 1] = sh[i] end
  local m = 1
  for i = s, e do m = m * sh[i] end
  out[#out + 1] = m
  for i = e + 1, d do out[#out + 1] = sh[i] end
  return x:reshape(out)
end, function(self) return "start_dim=" .. self.start_dim .. ", end_dim=" .. self.end_dim end)
function Flatten:__init(s, e)
  Module._setup(self)
  self.start_dim = s and check_int(s, "start_dim", "Flatten", -64) or 2
  self.end_dim = e and check_int(e, "end_dim", "Flatten", -64) or -1
  return self
end
nn.Flatten = Flatten

return nn

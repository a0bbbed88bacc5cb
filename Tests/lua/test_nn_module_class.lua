-- nn.Module is the one base class: every module, built in or written in Lua, is an instance
-- of a class that inherits from it (there is no second name such as nn.ModuleBase), so a
-- method added to nn.Module reaches every module.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local nn = sslua.nn

check.eq(rawget(nn, "ModuleBase"), nil, "no second base-class name")

-- the chain of parents of an instance's class
local function inherits(m, base)
  local cls = getmetatable(m)
  while cls ~= nil do
    if cls == base then return true end
    local mt = getmetatable(cls)
    cls = mt and mt.__index
  end
  return false
end

local g = sslua.rng(7)
local modules = {
  lua = nn.Module{ forward = function(_, x) return x end },
  linear = nn.Linear(3, 2, { rng = g }),
  conv = nn.Conv2d(1, 2, 3, { rng = g }),
  bn = nn.BatchNorm2d(2),
  sync = nn.SyncBatchNorm(2),
  relu = nn.ReLU(),
  flatten = nn.Flatten(),
  identity = nn.Identity(),
  pool = nn.MaxPool2d(2),
  adaptive = nn.AdaptiveAvgPool2d(1),
  seq = nn.Sequential(nn.ReLU()),
  block = nn.BasicBlock(2, 2, 1, { rng = g }),
  resnet = nn.resnet{ blocks = { 1 }, width = 4, rng = g },
  ema = nn.ema(nn.Linear(2, 2, { rng = g })),
  queue = nn.Queue(4, 2, { rng = g }),
}
for name, m in pairs(modules) do
  check.truthy(inherits(m, nn.Module), name .. " inherits from nn.Module")
  check.truthy(nn.is_module(m), name .. " is a module")
end

-- a method defined on the base class is found by every module
function nn.Module:count_children()
  local n = 0
  for _ in self:named_children() do n = n + 1 end
  return n
end
check.eq(modules.linear:count_children(), 0, "Linear has no children")
check.eq(modules.seq:count_children(), 1, "Sequential(ReLU) has one child")
check.eq(modules.block:count_children(), 5, "BasicBlock: conv1, bn1, relu, conv2, bn2")
nn.Module.count_children = nil

-- nn.Module{...} still builds a module written in Lua
local w = sslua.tensor({ { 1, 2 }, { 3, 4 } }):requires_grad_()
local m = nn.Module{ w = w, forward = function(self, x) return x:mm(self.w) end }
check.eq(#m:parameters(), 1, "the tensor field is a parameter")
check.near(m(sslua.tensor({ { 1, 1 } })), { { 4, 6 } }, 0, "forward")
print("test_nn_module_class: ok")

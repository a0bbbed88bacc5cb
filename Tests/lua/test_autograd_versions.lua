-- Version counters (PyTorch's): a value saved for backward and then changed in place, through
-- the tensor, a view, detach(), sslua.no_grad, set, x[i] = v, copy_, fill_, zero_, masked_fill_,
-- scatter_ or an optimizer step, makes backward raise naming the op, instead of returning a
-- gradient computed from the new values. Values an op's backward does not read may change.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local S = sslua
local T = S.tensor
local MSG = "modified by an inplace operation"

-- the reproducer: y = sum(x * w), dy/dx = w = 4; w changed to 204 before backward gave 204
local function mul_graph()
  local x = T({ 2 }):requires_grad_()
  local w = T({ 4 })
  return x, w, (x * w):sum()
end
do -- without modification: the hand-computed gradient
  local x, _, y = mul_graph()
  y:backward()
  check.near(x.grad, { 4 }, 0, "d(x*w)/dx")
end

local routes = {
  ["add_"] = function(x, w) w:add_(200) end,
  ["detach()"] = function(x, w) w:detach():mul_(51) end,
  ["no_grad on x"] = function(x, w) S.no_grad(function() x:add_(1) end) end,
  ["detach() of x"] = function(x, w) x:detach():fill_(7) end,
  ["view"] = function(x, w) w:view(1, 1):narrow(2, 1, 1):fill_(204) end,
  ["set"] = function(x, w) w:set(1, 204) end,
  ["x[i] = v"] = function(x, w) w[1] = 204 end,
  ["copy_"] = function(x, w) w:copy_(T({ 204 })) end,
  ["zero_"] = function(x, w) w:zero_() end,
  ["masked_fill_"] = function(x, w) w:masked_fill_(T({ 1 }), 204) end,
  ["scatter_"] = function(x, w) w:scatter_(1, T({ 1 }), 204) end,
  ["div_"] = function(x, w) w:div_(2) end,
}
for what, modify in pairs(routes) do
  local x, w, y = mul_graph()
  modify(x, w)
  local err = check.errors(function() y:backward() end, MSG, what)
  check.truthy(err:find("saved by 'mul'", 1, true), what .. ": the error names the op: " .. err)
  check.truthy(err:find("is at version %d+; expected version %d+"), what .. ": versions in " .. err)
  check.eq(x.grad, nil, what .. ": no gradient written")
end

-- exact versions: one in-place op after recording moves the counter by one
do
  local x = T({ 1, 2, 3 }):requires_grad_()
  local c = S.zeros(3)            -- made by a constructor: version 0
  c:copy_(T({ 5, 6, 7 }))          -- version 1, before recording: fine
  local y = (x * c):sum()
  c:narrow(1, 2, 1):mul_(3)        -- a view shares the counter: version 2
  check.errors(function() y:backward() end, "is at version 2; expected version 1")
  c:copy_(T({ 5, 6, 7 }))          -- restoring the values does not restore the version
  check.errors(function() y:backward() end, "is at version 3; expected version 1")
end

-- a saved output: exp's backward reads exp(x); d/dx sum(exp(x)) = exp(x)
do
  local x = T({ 0, 1 }):requires_grad_()
  local e = x:exp()
  local y = e:sum()
  S.no_grad(function() e:mul_(100) end)
  local err = check.errors(function() y:backward() end, MSG)
  check.truthy(err:find("saved by 'exp' (its output)", 1, true), "names exp's output: " .. err)
  x = T({ 0, 1 }):requires_grad_()
  x:exp():sum():backward()
  check.near(x.grad, { 1, math.exp(1) }, 1e-6, "d sum(exp x)/dx")
end

-- a saved condition: where(c, a, b) reads c in backward
do
  local a = T({ 1, 2 }):requires_grad_()
  local c = T({ 1, 0 })
  local y = S.where(c, a, 0):sum()
  c:fill_(1)
  check.errors(function() y:backward() end, MSG)
end

-- values the backward does not read may change: d/dx sum(x + w) = 1 whatever w becomes
do
  local x = T({ 2, 3 }):requires_grad_()
  local w = T({ 4, 5 })
  local y = (x + w):sum()
  w:add_(100)
  local z = (x:narrow(1, 1, 1) * 3):sum()   -- mul by a constant of a view
  y:backward()
  check.near(x.grad, { 1, 1 }, 0, "add's backward reads neither input")
  z:backward()
  check.near(x.grad, { 4, 1 }, 0, "narrow's backward reads no values")
end

-- mm: both operands saved; d/dA sum(A B) = 1 B^T
do
  local A = T({ { 1, 2 }, { 3, 4 } }):requires_grad_()
  local B = T({ { 1, 0 }, { 2, 1 } })
  local y = A:mm(B):sum()
  y:backward()
  check.near(A.grad, { { 1, 3 }, { 1, 3 } }, 0, "d sum(AB)/dA = 1 B^T")
  A.grad = nil
  y = A:mm(B):sum()
  B:t():select(1, 1):fill_(0)   -- column 1 of B through a transposed view
  local err = check.errors(function() y:backward() end, MSG)
  check.truthy(err:find("'mm' (its input 2)", 1, true), "names mm's input 2: " .. err)
end

-- optimizers: stepping after backward is the normal loop and never trips; stepping before
-- the backward of a graph that saved the parameter does (as in PyTorch)
do
  local nn, optim = S.nn, S.optim
  S.manual_seed(1)
  local model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
  local opt = optim.SGD(model:parameters(), { lr = 0.1, momentum = 0.9 })
  local x = S.randn(8, 3)
  for _ = 1, 3 do
    opt:zero_grad()
    local y1 = model(x):sum()       -- two forwards through BatchNorm (running stats updated
    local y2 = model(x * 2):sum()   -- in place twice) before one backward
    ;(y1 + y2):backward()
    opt:step()
  end
  opt:zero_grad()
  local y = model(x):sum()
  y:backward()
  opt:step()
  local y2 = model(x):sum()
  opt:step()                         -- parameters saved by y2's graph change
  check.errors(function() y2:backward() end, MSG)
  -- eval mode reads running stats at forward time; updating them later is harmless
  model:eval()
  local ye = model(x):sum()
  model:train(); S.no_grad(function() model(x) end); model:eval()
  ye:backward()
end

-- Assigning `.grad` (PyTorch's setter): the value is stored detached, so an expression built
-- under grad mode (`w.grad = w.grad + w * 1e-4`) never keeps its graph alive through the leaf,
-- `a.grad = a` is refused (it was a reference cycle a -> grad -> a that leaked a), and the
-- size and dtype must match the tensor's.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local S = sslua

-- values: the assigned expression, detached
local w = S.tensor({ 1, 2, 3 }):requires_grad_()
w.grad = S.tensor({ 10, 20, 30 })
w.grad = w.grad + w * 2
check.near(w.grad, { 12, 24, 36 }, 0, "assigned grad values")
check.truthy(w.grad.is_leaf, "an assigned grad is cut from the graph")
check.eq(S.no_grad(function() return (w.grad * 1).is_leaf end), true, "ops on it record nothing")
-- backward accumulates into the assigned grad: d/dw sum(w*w) = 2w
;(w * w):sum():backward()
check.near(w.grad, { 14, 28, 42 }, 0, "backward accumulates into the assigned grad")
w.grad = nil
check.eq(w.grad, nil, "grad cleared")

-- refused assignments (PyTorch's messages)
local a = S.zeros(3):requires_grad_()
check.errors(function() a.grad = a end, "can't assign a tensor as its own grad")
check.errors(function() a.grad = S.zeros(3, { dtype = "float64" }) end, "assigned grad has dtype float64, expected float32")
check.errors(function() a.grad = S.zeros(4) end, "assigned grad has size [4], expected [3]")
check.eq(a.grad, nil, "a refused assignment leaves grad unchanged")
-- a detached alias of the tensor itself is a different tensor (PyTorch allows it)
a.grad = a:detach()
check.near(a.grad, { 0, 0, 0 }, 0, "grad = a:detach()")

-- memory: 300 steps of w.grad = w.grad + w * 1e-4 with 256 KiB tensors. Keeping each step's
-- graph alive (the old behaviour) holds every previous grad: about 150 MB.
local n = 256
local p = S.randn(n, n):requires_grad_()
p.grad = S.zeros(n, n)
for _ = 1, 20 do p.grad = p.grad + p * 1e-4 end   -- warm up
collectgarbage(); collectgarbage()
local base = S.memory()
for _ = 1, 300 do p.grad = p.grad + p * 1e-4 end
collectgarbage(); collectgarbage()
local grew = S.memory() - base
check.truthy(grew <= 0, string.format("native memory grew by %.1f MB over 300 grad assignments", grew / 2^20))
check.near(p.grad, p:detach() * (320 * 1e-4), 1e-4, "accumulated grad value")

-- a.grad = a on fresh tensors: refused, and nothing is kept alive
collectgarbage(); collectgarbage()
base = S.memory()
for _ = 1, 200 do
  local t = S.zeros(n, n):requires_grad_()
  pcall(function() t.grad = t end)
end
collectgarbage(); collectgarbage()
grew = S.memory() - base
check.truthy(grew <= 0, string.format("native memory grew by %.1f MB over 200 'a.grad = a'", grew / 2^20))

-- sslua.dist in one process (no launcher): a world of size 1, collectives are copies, and
-- their gradients the identity.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local dist = require "sslua.dist"
check.truthy(dist == sslua.dist, "require and field agree")
local r, n = dist.init()
check.eq(r, 0, "rank"); check.eq(n, 1, "size")
check.eq(dist.rank(), 0, "rank()"); check.eq(dist.size(), 1, "size()")
check.eq(dist.info().mpi, false, "no MPI outside a launcher")
for _, dt in ipairs({ "float32", "float64" }) do
  local x = sslua.tensor({ 1.5, -2, 3 }, { dtype = dt })
  for _, op in ipairs({ "sum", "mean", "max", "min" }) do
    local y = dist.all_reduce(x, { op = op })
    check.near(y, { 1.5, -2, 3 }, 0, dt .. " " .. op)
    check.eq(y:dtype(), dt, dt .. " dtype")
  end
  local y = dist.all_reduce(x)
  y:fill_(7)
  check.near(x, { 1.5, -2, 3 }, 0, dt .. " a new tensor, not an alias")
  check.near(dist.all_gather(x:view(1, 3)), { { 1.5, -2, 3 } }, 0, dt .. " all_gather")
  check.near(dist.broadcast(x), { 1.5, -2, 3 }, 0, dt .. " broadcast")
  check.eq(dist.all_gather(sslua.zeros(0, 2, { dtype = dt })):size(1), 0, dt .. " empty gather")
  check.eq(dist.all_gather(sslua.tensor(2.5, { dtype = dt })):size(1), 1, dt .. " 0-d gathers to [1]")
end
local w = sslua.tensor({ 1, 2 }, { dtype = "float64" }):requires_grad_()
dist.all_gather(w:view(1, 2)):mul(sslua.tensor({ { 3, 4 } }, { dtype = "float64" })):sum():backward()
check.near(w.grad, { 3, 4 }, 0, "all_gather backward")
w:zero_grad()
dist.all_reduce(w, { op = "mean" }):mul(sslua.tensor({ 5, 6 }, { dtype = "float64" })):sum():backward()
check.near(w.grad, { 5, 6 }, 0, "all_reduce backward")
dist.barrier()
check.errors(function() dist.broadcast(sslua.ones(2), { root = 1 }) end, "sslua.dist.broadcast: root 1 out of range", "root")
check.errors(function() dist.all_reduce(sslua.ones(2), { op = "prod" }) end, "unknown op 'prod'", "op")
check.errors(function() dist.all_reduce(sslua.ones(2), { root = 0 }) end, "unknown option 'root'", "strict")
check.errors(function() dist.all_reduce({}) end, "sslua.dist.all_reduce", "not a tensor")
check.errors(function() dist.all_reduce(sslua.ones(2), 3) end, "options table expected", "bad options")
print("ok")

-- Run by Tests/lua/test_dist_mpi.lua under `mpirun -np 2`: every collective against
-- hand-computed values (rank r holds values that depend on r), float32 and float64, odd sizes,
-- empty tensors, the gradients of all_gather / all_reduce / broadcast, and mismatch errors.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local dist = sslua.dist
local r, n = dist.init()
check.eq(n, 2, "world size")
check.eq(dist.rank(), r, "rank")
check.eq(dist.size(), 2, "size")
check.eq(dist.info().mpi, true, "mpi in use")

for _, dt in ipairs({ "float32", "float64" }) do
  local function T(v) return sslua.tensor(v, { dtype = dt }) end
  -- rank 0: {1, 2, 3, 4, 5}, rank 1: {10, 0, -3, 8, 5}  (odd size 5)
  local mine = r == 0 and { 1, 2, 3, 4, 5 } or { 10, 0, -3, 8, 5 }
  local x = T(mine)
  check.near(dist.all_reduce(x), { 11, 2, 0, 12, 10 }, 0, dt .. " sum")
  check.near(dist.all_reduce(x, { op = "mean" }), { 5.5, 1, 0, 6, 5 }, 0, dt .. " mean")
  check.near(dist.all_reduce(x, { op = "max" }), { 10, 2, 3, 8, 5 }, 0, dt .. " max")
  check.near(dist.all_reduce(x, { op = "min" }), { 1, 0, -3, 4, 5 }, 0, dt .. " min")
  check.eq(dist.all_reduce(x):dtype(), dt, dt .. " dtype kept")
  check.near(x, mine, 0, dt .. " input untouched")
  -- a 3x1 view with a stride (non-contiguous input)
  local m = T({ { 1, 2 }, { 3, 4 }, { 5, 6 } }):mul(r + 1)
  check.near(dist.all_reduce(m:narrow(2, 2, 1)), { { 6 }, { 12 }, { 18 } }, 0, dt .. " strided view")
  -- broadcast from each root
  check.near(dist.broadcast(x), { 1, 2, 3, 4, 5 }, 0, dt .. " broadcast root 0")
  check.near(dist.broadcast(x, { root = 1 }), { 10, 0, -3, 8, 5 }, 0, dt .. " broadcast root 1")
  -- all_gather: first dimension differs between ranks (1 row on rank 0, 2 on rank 1), odd width 3
  local g = r == 0 and T({ { 1, 2, 3 } }) or T({ { 4, 5, 6 }, { 7, 8, 9 } })
  local all = dist.all_gather(g)
  check.eq(all:size(1), 3, dt .. " gathered rows")
  check.near(all, { { 1, 2, 3 }, { 4, 5, 6 }, { 7, 8, 9 } }, 0, dt .. " all_gather")
  check.near(dist.all_gather(T(r + 0.5)), { 0.5, 1.5 }, 0, dt .. " all_gather of 0-d")
  -- empty tensors
  local e = sslua.zeros(0, 3, { dtype = dt })
  check.eq(dist.all_reduce(e):numel(), 0, dt .. " empty all_reduce")
  check.eq(dist.broadcast(e):numel(), 0, dt .. " empty broadcast")
  local ge = dist.all_gather(e)
  check.eq(ge:size(1), 0, dt .. " empty all_gather rows"); check.eq(ge:size(2), 3, dt .. " empty all_gather cols")
  -- one empty, one not
  local ge2 = dist.all_gather(r == 0 and sslua.zeros(0, 2, { dtype = dt }) or T({ { 1, 2 } }))
  check.near(ge2, { { 1, 2 } }, 0, dt .. " all_gather with an empty rank")
  -- a larger odd size: sum of 0..k-1 plus rank
  local big = sslua.arange(0, 100003, { dtype = dt }):add(r)
  local s = dist.all_reduce(big)
  check.near(s:narrow(1, 100003, 1), { 2 * 100002 + 1 }, 0, dt .. " large sum last")
  check.near(s:narrow(1, 1, 1), { 1 }, 0, dt .. " large sum first")
end

-- Gradients (float64, objective J = sum over ranks of each rank's loss).
do
  local w = sslua.tensor(r == 0 and { 1, 2 } or { 3, 4 }, { dtype = "float64" }):requires_grad_()
  -- all_gather: rank k's loss is sum(c_k * gathered), c_0 = {1..4}, c_1 = {10..40}
  local c = sslua.tensor(r == 0 and { 1, 2, 3, 4 } or { 10, 20, 30, 40 }, { dtype = "float64" })
  local y = dist.all_gather(w:view(1, 2)):view(4)
  y:mul(c):sum():backward()
  -- dJ/dw_0 = c_0[1:2] + c_1[1:2] = {11, 22}; dJ/dw_1 = {33, 44}
  check.near(w.grad, r == 0 and { 11, 22 } or { 33, 44 }, 0, "all_gather backward")
  w:zero_grad()
  -- all_reduce sum: loss_k = sum(c_k[1:2] * allreduce(w)) -> dJ/dw_r = c_0 + c_1 = {11, 22}
  dist.all_reduce(w):mul(c:narrow(1, 1, 2)):sum():backward()
  check.near(w.grad, { 11, 22 }, 0, "all_reduce sum backward")
  w:zero_grad()
  dist.all_reduce(w, { op = "mean" }):mul(c:narrow(1, 1, 2)):sum():backward()
  check.near(w.grad, { 5.5, 11 }, 0, "all_reduce mean backward")
  w:zero_grad()
  -- max: w_0 = {1, 2}, w_1 = {3, 4}: rank 1 holds both maxima
  dist.all_reduce(w, { op = "max" }):mul(c:narrow(1, 1, 2)):sum():backward()
  check.near(w.grad, r == 0 and { 0, 0 } or { 11, 22 }, 0, "all_reduce max backward")
  w:zero_grad()
  -- broadcast from root 1: the summed gradient goes to rank 1's input
  dist.broadcast(w, { root = 1 }):mul(c:narrow(1, 1, 2)):sum():backward()
  check.near(w.grad, r == 0 and { 0, 0 } or { 11, 22 }, 0, "broadcast backward")
end

-- Misuse: a clear error on every rank, and the world goes on.
check.errors(function() dist.all_reduce(sslua.ones(3 + r)) end, "ranks disagree", "size mismatch")
check.errors(function() dist.all_reduce(sslua.ones(3), { op = r == 0 and "sum" or "max" }) end, "ranks disagree", "op mismatch")
check.errors(function() dist.all_reduce(sslua.ones(3, { dtype = r == 0 and "float32" or "float64" })) end, "ranks disagree", "dtype mismatch")
check.errors(function() dist.all_gather(sslua.ones(2, 2 + r)) end, "ranks disagree", "all_gather width mismatch")
check.errors(function() dist.broadcast(sslua.ones(2), { root = 2 }) end, "root 2 out of range", "root range")
check.errors(function() dist.all_reduce(sslua.ones(2), { op = "prod" }) end, "unknown op 'prod'", "bad op")
check.errors(function() dist.all_reduce(sslua.ones(2), { opp = "sum" }) end, "unknown option 'opp'", "strict options")
dist.barrier()
check.near(dist.all_reduce(sslua.ones(2)), { 2, 2 }, 0, "still in step after errors")
local st = dist.stats()
check.truthy(st.calls > 10 and st.bytes > 0 and st.seconds >= 0, "stats")
print("DIST_OK " .. r)

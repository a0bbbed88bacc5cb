-- Run under mpirun -np 2 by Tests/lua/test_dist_mpi.lua. A data-parallel step with SyncBatchNorm
-- at global batch B (each rank a shard of B/2) against the one-process step at batch B with
-- plain BatchNorm (computed on each rank, from the same initial parameters): loss, every
-- parameter gradient (DDP's average over ranks) and the running statistics within 1e-5
-- relative in float32. Two objectives: InfoNCE over gathered embeddings (global negatives),
-- and a per-sample loss summed over the global batch.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local nn, dist = sslua.nn, sslua.dist
local r, n = dist.init()
check.eq(n, 2, "world size")

local function build()
  local g = sslua.rng(7)
  return nn.Sequential(
    nn.Conv2d(3, 8, 3, { padding = 1, rng = g }), nn.BatchNorm2d(8), nn.ReLU(),
    nn.BasicBlock(8, 8, 1, { rng = g }),          -- BN with the fused ReLU
    nn.Flatten(), nn.Linear(8 * 5 * 5, 16, { rng = g }), nn.BatchNorm1d(16), nn.ReLU(),
    nn.Linear(16, 8, { rng = g }))
end

local function grads(model)
  local out = {}
  for name, p in model:named_parameters() do out[name] = p.grad end
  return out
end

local B = 12
local g = sslua.rng(3)
local x1, x2 = sslua.randn({ B, 3, 5, 5 }, { rng = g }), sslua.randn({ B, 3, 5, 5 }, { rng = g }):add(0.5)
local shard = B // n
local lo = r * shard + 1

local function compare(objective, what)
  local ref = build()
  local l_ref = objective(ref, x1, x2, false)
  l_ref:backward()
  local model = nn.convert_sync_batchnorm(build())
  local l, l_global = objective(model, x1:narrow(1, lo, shard), x2:narrow(1, lo, shard), true)
  l:backward()
  check.near((l_global or l):item(), l_ref:item(), 1e-5, what .. ": loss")
  local gr = grads(ref)
  local count = 0
  for name, p in model:named_parameters() do   -- the same order on every rank
    local gd = p.grad
    local avg = dist.all_reduce(gd, { op = what == "infonce" and "mean" or "sum" })
    check.near(avg, gr[name], 1e-5, what .. ": gradient of " .. name)
    count = count + 1
  end
  check.truthy(count >= 10, what .. ": compared " .. count .. " gradients")
  local sd_ref = ref:state_dict()
  for name, t in pairs(model:state_dict()) do
    if name:find("running_") then check.near(t, sd_ref[name], 1e-5, what .. ": " .. name) end
  end
end

-- InfoNCE with global negatives: every rank computes the loss of the gathered batch; its
-- gradient on this rank's embeddings is the sum over ranks (all_gather's backward), so DDP's
-- mean over ranks gives the one-process gradient.
compare(function(model, a, b, distributed)
  local k = a:size(1)
  local z = model(sslua.cat({ a, b }, 1))
  local z1, z2 = z:narrow(1, 1, k), z:narrow(1, k + 1, k)
  if distributed then z1, z2 = dist.all_gather(z1), dist.all_gather(z2) end
  return sslua.loss.infonce(z1, z2, { beta = 2 })
end, "infonce")

-- A per-sample loss: this rank's share of the global mean; gradients summed over ranks.
compare(function(model, a, b, distributed)
  local z = model(sslua.cat({ a, b }, 1))
  local w = sslua.linspace(1, 2, z:size(2)):view(1, -1)
  local l = z:mul(z):mul(w):sum():div(2 * B)
  if distributed then return l, dist.all_reduce(l:detach()) end
  return l
end, "per-sample")
print("DIST_OK " .. r)

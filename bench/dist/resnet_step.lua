-- A data-parallel SimCLR step on sslua.dist, timed: a global batch of N images (two views, so
-- 2N through the encoder) split over the ranks, SyncBatchNorm, embeddings gathered for InfoNCE
-- (global negatives), gradients averaged by bucketed all_reduce (2 MB), SGD. Run as one
-- process or under mpirun; prints the median step time and the time inside MPI per step.
--   sslua bench/dist/resnet_step.lua resnet18|resnet3 [global batch N=64] [timed steps=3] [sync=1]
--   mpirun -np 2 sslua bench/dist/resnet_step.lua resnet3 64 3
local nn, optim, dist = sslua.nn, sslua.optim, sslua.dist
package.path = ((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/../lib/?.lua;" .. package.path
local models = require "models"
local arch = arg[1] or "resnet3"
local N = tonumber(arg[2] or "64")
local steps = tonumber(arg[3] or "3")
local sync = (arg[4] or "1") ~= "0"
sslua.threads(tonumber(os.getenv("BENCH_THREADS") or "1"))
local rank, world = dist.init()
sslua.manual_seed(0)

local enc = models.encoder(arch)
local proj = nn.projector { dims = { enc.out_features, 128 }, bias = false }
if sync and world > 1 then nn.convert_sync_batchnorm(enc); nn.convert_sync_batchnorm(proj) end
local params = enc:parameters()
for _, p in ipairs(proj:parameters()) do params[#params + 1] = p end
sslua.no_grad(function() for _, p in ipairs(params) do p:copy_(dist.broadcast(p)) end end)
local opt = optim.SGD(params, { lr = 0.1, momentum = 0.9, weight_decay = 1e-6 })

local lo = (N * rank) // world
local k = (N * (rank + 1)) // world - lo
local g = sslua.rng(1)
local x1, x2 = sslua.randn({ N, 3, 32, 32 }, { rng = g }), sslua.randn({ N, 3, 32, 32 }, { rng = g })
local x = sslua.cat({ x1:narrow(1, lo + 1, k), x2:narrow(1, lo + 1, k) }, 1)

-- DDP's bucketed mean all_reduce of the gradients, as experiment.simclr does it (2 MB buckets).
local function average_gradients() require("sslua.simclr").average_gradients(sslua, params, 2) end

local function step()
  opt:zero_grad()
  local z = proj(enc(x))
  local z1, z2 = z:narrow(1, 1, k), z:narrow(1, k + 1, k)
  if world > 1 then z1, z2 = dist.all_gather(z1), dist.all_gather(z2) end
  local loss = sslua.loss.infonce(z1, z2, { beta = 2 })
  loss:backward()
  if world > 1 then average_gradients() end
  opt:step()
  local l = loss:item()
  loss = nil
  collectgarbage()
  return l
end

step()
collectgarbage()
dist.barrier()
local times, comm = {}, {}
for i = 1, steps do
  dist.stats { reset = true }
  dist.barrier()
  local t0 = sslua.clock()
  local l = step()
  times[i] = sslua.clock() - t0
  comm[i] = dist.stats().seconds
  if rank == 0 then io.stderr:write(string.format("  step %d: %.3f s, in MPI %.3f s (loss %.4f)\n", i, times[i], comm[i], l)) end
end
table.sort(times); table.sort(comm)
if rank == 0 then
  print(string.format("RESULT %s world %d batch %d median %.4f comm %.4f", arch, world, N,
    times[(#times + 1) // 2], comm[(#comm + 1) // 2]))
end

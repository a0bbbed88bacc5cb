-- One SimCLR training step, timed: two views of a batch of 128 RGB 32x32 images (one batch of
-- 256 through the encoder), a linear projector to 128, InfoNCE (the paper's Eq. 1, beta = 2),
-- backward, SGD step. Counterpart: simclr_step.py. Usage:
--   sslua bench/train/simclr_step.lua resnet18|resnet3 [timed steps] [threads] [2N|NN]
-- Shape 2N (default) runs both views as one batch of 256; NN runs them as two forwards of 128
-- (as lightly's examples and many SimCLR codes do; BN then sees each view's own statistics).
local nn = require "sslua.nn"
local optim = require "sslua.optim"
package.path = ((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/../lib/?.lua;" .. package.path
local models = require "models"

local argv = arg or { ... }
local arch = argv[1] or os.getenv("BENCH_ARCH") or "resnet18"
local steps = tonumber(argv[2] or os.getenv("BENCH_STEPS") or "3")
sslua.threads(tonumber(argv[3] or os.getenv("BENCH_THREADS") or "2"))
local shape = argv[4] or os.getenv("BENCH_SHAPE") or "2N"
assert(shape == "2N" or shape == "NN", "shape must be 2N or NN")
sslua.manual_seed(0)

local enc = models.encoder(arch)
local proj = nn.projector { dims = { enc.out_features, 128 }, bias = false }
local params = enc:parameters()
for _, p in ipairs(proj:parameters()) do params[#params + 1] = p end
local opt = optim.SGD(params, { lr = 0.1, momentum = 0.9, weight_decay = 1e-6 })

local N, beta = 128, 2.0
local x = sslua.randn(2 * N, 3, 32, 32)
local x1, x2 = x:narrow(1, 1, N):contiguous(), x:narrow(1, N + 1, N):contiguous()

-- Eq. 1 (paper form, beta = 2): sslua.loss's fused InfoNCE on the two halves of the batch.
local infonce_loss = sslua.loss.infonce
local function infonce(z)
  return infonce_loss(z:narrow(1, 1, N), z:narrow(1, N + 1, N), { beta = beta })
end

local function step()
  opt:zero_grad()
  local loss
  if shape == "2N" then loss = infonce(proj(enc(x)))
  else loss = infonce_loss(proj(enc(x1)), proj(enc(x2)), { beta = beta }) end
  loss:backward()
  opt:step()
  local l = loss:item()
  -- the step's graph is garbage now; collect it as PyTorch's refcounting would
  loss = nil
  collectgarbage()
  return l
end

step()   -- warm-up (workspace allocation, first touches)
collectgarbage()
local times, cpu = {}, {}
for i = 1, steps do
  local t0, c0 = sslua.clock(), os.clock()
  local l = step()
  times[i], cpu[i] = sslua.clock() - t0, os.clock() - c0
  io.stderr:write(string.format("  step %d: %.3f s, cpu %.3f s (loss %.4f)\n", i, times[i], cpu[i], l))
end
table.sort(times); table.sort(cpu)
print(string.format("RESULT %s-%s median %.4f cpu %.4f", arch, shape, times[(#times + 1) // 2], cpu[(#cpu + 1) // 2]))

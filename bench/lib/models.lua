-- The sslua side of bench/lib/torch_models.py: the encoders of the training benchmarks
-- (bench/train, bench/dist) and the best-of-k timer the benchmarks share.
--   package.path = "bench/lib/?.lua;" .. package.path; local models = require "models"
local M = {}

--- models.encoder(arch) -> the ResNet-18 CIFAR encoder ("resnet18") or the 3-stage ResNet
--- 32-64-128 with one block per stage ("resnet3").
function M.encoder(arch)
  if arch == "resnet18" then return sslua.nn.resnet18 { cifar = true } end
  if arch == "resnet3" then return sslua.nn.resnet { blocks = { 1, 1, 1 }, width = 32 } end
  error("unknown arch " .. tostring(arch))
end

--- models.best(f, reps) -> the shortest wall time of reps calls of f (seconds), after one
--- untimed call (workspace allocation, first touches).
function M.best(f, reps)
  f()
  local b = math.huge
  for _ = 1, reps do
    local t0 = sslua.clock(); f(); b = math.min(b, sslua.clock() - t0)
  end
  return b
end

return M

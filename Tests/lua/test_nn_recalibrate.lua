-- nn.recalibrate_bn (PyTorch's swa_utils.update_bn): running statistics reset and recomputed as
-- the cumulative average over batches in train mode, without grad; momenta and modes restored.
-- References are computed by hand in float64 from the layers' weights.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local nn = sslua.nn

local rng = sslua.rng(11)
local lin1 = nn.Linear(5, 4, { rng = rng })
local bn1 = nn.BatchNorm1d(4)
local lin2 = nn.Linear(4, 3, { rng = rng })
local bn2 = nn.BatchNorm1d(3, { momentum = 0.3 })
local model = nn.Sequential(lin1, bn1, nn.ReLU(), lin2, bn2)
local X = sslua.randn({ 12, 5 }, { rng = rng }) * 2 + 0.5

-- hand computations in float64
local function D(t) return t:detach():double() end
local function col_mean(A) return A:mean(1) end
local function col_var_unbiased(A)
  local m = A:mean(1)
  return ((A - m) ^ 2):sum(1) / (A:size(1) - 1)
end
local function col_var_biased(A)
  local m = A:mean(1)
  return ((A - m) ^ 2):mean(1)
end
local function linear(A, l) return A:matmul(D(l.weight):t()) + D(l.bias) end

local function maxdiff(a, b) return (a:double() - b:double()):abs():max():item() end

-- The running statistics start away from their reset values, and the model is in eval mode.
sslua.no_grad(function() bn1.running_mean:fill_(3); bn1.running_var:fill_(7); bn1.num_batches_tracked:fill_(5) end)
model:eval()

-- One batch (batch >= N): running_mean = batch mean of the BN's input, running_var = its
-- unbiased variance; the second BN sees the first's train-mode (batch-statistics) output.
local _, batches = nn.recalibrate_bn(model, X, { batch = 64 })
check.eq(batches, 1, "one batch")
local x = D(X)
local a1 = linear(x, lin1)
check.truthy(maxdiff(bn1.running_mean, col_mean(a1)) < 1e-5, "bn1 running_mean = batch mean of its input")
check.truthy(maxdiff(bn1.running_var, col_var_unbiased(a1)) < 1e-4, "bn1 running_var = unbiased variance of its input")
local y1 = ((a1 - col_mean(a1)) / (col_var_biased(a1) + 1e-5):sqrt()) * D(bn1.weight) + D(bn1.bias)
local a2 = linear(y1:relu(), lin2)
check.truthy(maxdiff(bn2.running_mean, col_mean(a2)) < 1e-4, "bn2 running_mean = batch mean of its (train-mode) input")
check.truthy(maxdiff(bn2.running_var, col_var_unbiased(a2)) < 1e-4, "bn2 running_var = unbiased variance")
check.eq(bn1.num_batches_tracked:item(), 1, "num_batches_tracked restarts")
check.eq(bn1.momentum, 0.1, "momentum restored")
check.eq(bn2.momentum, 0.3, "momentum restored (0.3)")
check.eq(model.training, false, "eval mode restored")
check.eq(bn1.training, false, "children's mode restored")
check.eq(lin1.weight.grad, nil, "no gradient")

-- Several batches: the cumulative average of the per-batch statistics (batches of 5, 5, 2).
nn.recalibrate_bn(model, X, { batch = 5 })
local means, vars = {}, {}
for _, r in ipairs({ { 1, 5 }, { 6, 5 }, { 11, 2 } }) do
  local a = linear(x:narrow(1, r[1], r[2]), lin1)
  means[#means + 1] = col_mean(a); vars[#vars + 1] = col_var_unbiased(a)
end
local mean_avg = (means[1] + means[2] + means[3]) / 3
local var_avg = (vars[1] + vars[2] + vars[3]) / 3
check.truthy(maxdiff(bn1.running_mean, mean_avg) < 1e-5, "cumulative average of batch means")
check.truthy(maxdiff(bn1.running_var, var_avg) < 1e-4, "cumulative average of unbiased batch variances")
check.eq(bn1.num_batches_tracked:item(), 3, "three batches")

-- A final batch of one row is skipped: 13 rows in batches of 4 -> 3 batches.
local X13 = sslua.cat({ X, X:narrow(1, 1, 1) }, 1)
local _, b13 = nn.recalibrate_bn(model, X13, { batch = 4 })
check.eq(b13, 3, "a last batch of one row is skipped")

-- With rng, the rows are taken in a random order: one batch of everything gives the same mean.
nn.recalibrate_bn(model, X, { batch = 12, rng = sslua.rng(3) })
check.truthy(maxdiff(bn1.running_mean, col_mean(a1)) < 1e-5, "shuffled single batch: same mean")

-- A chain of modules, with BatchNorm2d: per-channel statistics over N, H, W.
do
  local r = sslua.rng(5)
  local conv = nn.Conv2d(2, 3, 3, { padding = 1, bias = false, rng = r })
  local bn = nn.BatchNorm2d(3)
  local enc = nn.Sequential(conv, bn, nn.ReLU())
  local head = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 2, { rng = r }), nn.BatchNorm1d(2))
  local imgs = sslua.rand({ 6, 2, 4, 4 }, { rng = r })
  head:train(); enc:eval()
  nn.recalibrate_bn({ enc, head }, imgs, { batch = 6 })
  local c = D(conv(imgs))
  local per = c:permute(2, 1, 3, 4):reshape(3, -1):t()   -- (N*H*W) x C
  check.truthy(maxdiff(bn.running_mean, col_mean(per)) < 1e-5, "BatchNorm2d running_mean over N, H, W")
  check.truthy(maxdiff(bn.running_var, col_var_unbiased(per)) < 1e-4, "BatchNorm2d running_var (unbiased)")
  check.eq(enc.training, false, "enc stays in eval mode")
  check.eq(head.training, true, "head stays in train mode")
  check.truthy(head[3].running_mean:abs():max():item() > 0, "the chain's second module was recalibrated")
end

-- errors name the function
local ok, err = pcall(nn.recalibrate_bn, model, "x")
check.truthy(not ok and tostring(err):find("recalibrate_bn", 1, true), "bad images: " .. tostring(err))
ok, err = pcall(nn.recalibrate_bn, model, X, { batch = 1 })
check.truthy(not ok and tostring(err):find("recalibrate_bn", 1, true), "batch 1: " .. tostring(err))
ok, err = pcall(nn.recalibrate_bn, 42, X)
check.truthy(not ok and tostring(err):find("recalibrate_bn", 1, true), "not a module: " .. tostring(err))
print("ok")

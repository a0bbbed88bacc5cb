-- experiment.simclr: the training loop runs its hooks (epoch 0 = initialisation, modules in eval
-- mode), trains (the loss falls), is deterministic for a seed, honours steps_per_epoch and
-- schedules, and rejects misuse with messages naming it.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local experiment = require "sslua.experiment"
local nn, aug, data = sslua.nn, sslua.aug, sslua.data

local ds = data.synthetic { n = 64, seed = 3, size = 8 }
local function models(seed)
  local rng = sslua.rng(seed)
  local enc = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 16, { rng = rng }))
  local proj = nn.Linear(16, 8, { bias = false, rng = rng })
  return enc, proj
end

local function train(seed, extra)
  local enc, proj = models(seed)
  local seen = {}
  local o = { encoder = enc, projector = proj, data = ds, policy = aug.policy("small"), epochs = 4, batch = 16,
    optimizer = "adam", lr = 1e-2, seed = seed, progress = false,
    on_epoch = function(epoch, state)
      seen[#seen + 1] = { epoch = epoch, step = state.step, training = enc.training or proj.training,
        w = proj.weight:clone() }
    end }
  for k, v in pairs(extra or {}) do o[k] = v end
  local res = experiment.simclr(o)
  return res, seen, enc, proj
end

local res, seen, enc, proj = train(7)
check.eq(#seen, 5, "hooks for epochs 0..4")
for i, s in ipairs(seen) do
  check.eq(s.epoch, i - 1, "hook epoch order")
  check.eq(s.step, (i - 1) * 4, "4 steps per epoch (64 images, batch 16)")
  check.eq(s.training, false, "modules in eval mode inside the hook")
end
check.eq(#res.history, 4, "history per epoch")
check.eq(res.encoder, enc, "returns the trained encoder")
check.eq(res.projector, proj, "returns the trained projector")
check.truthy(res.history[4].loss < res.history[1].loss - 0.05, string.format("loss falls: %.4f -> %.4f", res.history[1].loss, res.history[4].loss))
check.truthy((seen[1].w - proj.weight):abs():max():item() > 0, "the projector's weights changed")
-- The epoch-0 hook saw the initialisation: the same as a fresh model's weights.
local _, fresh = models(7)
check.near(seen[1].w, fresh.weight, 0, "epoch 0 is the initialisation")

-- Same seed, same thread count: identical losses; another seed differs.
local res2 = train(7)
for i = 1, 4 do check.eq(res2.history[i].loss, res.history[i].loss, "deterministic epoch " .. i) end
local res3 = train(8)
check.truthy(res3.history[1].loss ~= res.history[1].loss, "another seed gives another run")

-- steps_per_epoch, on_step, a schedule and a custom loss.
local lrs, steps = {}, 0
local res4 = train(7, { epochs = 2, steps_per_epoch = 2, on_epoch = false,
  schedule = function(step) return 0.1 / step end,
  on_step = function(step, state, l) steps = steps + 1; lrs[#lrs + 1] = state.optimizer.lr end,
  loss = function(z1, z2, o)
    check.eq(z1:size(1), 16, "z1 is one view of the batch"); check.eq(z2:size(1), 16, "z2 the other")
    check.eq(o.beta, 2, "beta passed to the loss")
    return sslua.loss.infonce(z1, z2, o)
  end })
check.eq(steps, 4, "steps_per_epoch limits the steps")
check.near(lrs, { 0.1, 0.05, 0.1 / 3, 0.025 }, 1e-12, "schedule sets the learning rate per step")
check.eq(#res4.history, 2, "two epochs")

-- Misuse.
local enc5, proj5 = models(1)
local base = { encoder = enc5, projector = proj5, data = ds, policy = aug.policy("small"), progress = false }
local function with(k, v) local o = {}; for a, b in pairs(base) do o[a] = b end; o[k] = v; return o end
check.errors(function() experiment.simclr(5) end, "experiment.simclr: expected a table")
check.errors(function() experiment.simclr(with("encoder", nil)) end, "experiment.simclr: missing 'encoder'")
check.errors(function() experiment.simclr(with("data", {})) end, "experiment.simclr: 'data' must be a dataset")
check.errors(function() experiment.simclr(with("policy", {})) end, "experiment.simclr: 'policy' must have :pair")
check.errors(function() experiment.simclr(with("optimizer", "rmsprop")) end, "experiment.simclr: unknown optimizer 'rmsprop'")
check.errors(function() experiment.simclr(with("batch", 1)) end, "experiment.simclr: 'batch' must be an integer >= 2")
check.errors(function() experiment.simclr(with("epochs", -1)) end, "experiment.simclr: 'epochs'")
print("ok")

-- The paper's training loop (SimCLR with a projector and InfoNCE), readable in one screen.
-- Exposed as `experiment.simclr{...}`; see the doc comment of `simclr` below.
local M = {}

local function sslua_() return package.loaded.sslua or _G.sslua end

local optimizers = { sgd = "SGD", adam = "Adam", adamw = "AdamW", lars = "LARS" }

local function need(o, key, what)
  if o[key] == nil then error("sslua.experiment.simclr: missing '" .. key .. "' (" .. what .. ")", 3) end
  return o[key]
end

-- Every option simclr reads (an unknown key is an error, so a typo never trains the default).
local function hook_or_false(v) return type(v) == "function" or v == false, "a function (or false)" end
local options = {
  encoder = "table", projector = "table", data = "table", policy = "table", epochs = "any", batch = "any",
  beta = "number", loss = "function", rng = "userdata", seed = "integer", aug_rng = "userdata",
  optimizer = "any", lr = "number", momentum = "number", weight_decay = "number", schedule = hook_or_false,
  steps_per_epoch = "integer", progress = "boolean", on_epoch = hook_or_false, on_step = hook_or_false,
}

--- experiment.simclr{encoder=, projector=, data=, policy=, epochs=10, batch=128, beta=2,
---   optimizer= (an optimizer, or "sgd"|"adam"|"adamw"|"lars" with lr=, momentum=, weight_decay=),
---   schedule=function(step) -> lr, loss=function(z1, z2, {beta=}) (default sslua.loss.infonce),
---   rng= | seed=, steps_per_epoch=, progress=true, on_epoch=function(epoch, state), on_step=}
--- -> {encoder=, projector=, optimizer=, history={{epoch=, loss=, seconds=, lr=}, ...}}
-- `on_epoch(0, state)` runs before training (the initialisation), then after each epoch with
-- the modules in eval mode; `state` has encoder, projector, optimizer, epoch, step, loss,
-- history and rng.
function M.simclr(o)
  if type(o) ~= "table" then error("sslua.experiment.simclr: expected a table of options", 2) end
  local sslua = sslua_()
  require("sslua.util").check_options("sslua.experiment.simclr", o, options)
  local encoder = need(o, "encoder", "a module: images -> h")
  local projector = need(o, "projector", "a module: h -> z")
  local data = need(o, "data", "a dataset with :batches{}")
  local policy = need(o, "policy", "an augmentation with :pair(images, {rng=})")
  if type(data) ~= "table" or type(data.batches) ~= "function" then
    error("sslua.experiment.simclr: 'data' must be a dataset with :batches{size=, shuffle=, rng=}", 2)
  end
  if type(policy) ~= "table" or type(policy.pair) ~= "function" then error("sslua.experiment.simclr: 'policy' must have :pair(images, opts)", 2) end
  for _, key in ipairs({ "encoder", "projector" }) do
    if type(o[key]) ~= "table" or type(o[key].parameters) ~= "function" then
      error("sslua.experiment.simclr: '" .. key .. "' must be a module with :parameters()", 2)
    end
  end
  local epochs, batch, beta = o.epochs or 10, o.batch or 128, o.beta or 2
  if math.type(epochs) ~= "integer" or epochs < 0 then error("sslua.experiment.simclr: 'epochs' must be a non-negative integer", 2) end
  if math.type(batch) ~= "integer" or batch < 2 then error("sslua.experiment.simclr: 'batch' must be an integer >= 2", 2) end
  local loss = o.loss or function(z1, z2, opts) return sslua.loss.infonce(z1, z2, opts) end
  local rng = o.rng or sslua.rng(o.seed or 1)
  local aug_rng = o.aug_rng or rng
  local params = {}
  for _, m in ipairs({ encoder, projector }) do
    for _, p in ipairs(m:parameters()) do params[#params + 1] = p end
  end
  local opt = o.optimizer
  if opt == nil or type(opt) == "string" then
    local cls = optimizers[(opt or "sgd"):lower()]
    if not cls then error("sslua.experiment.simclr: unknown optimizer '" .. tostring(opt) .. "'", 2) end
    local ctor = sslua.optim[cls]
    local oo = { lr = o.lr or 0.1, weight_decay = o.weight_decay }
    if o.momentum ~= nil then
      if cls == "Adam" or cls == "AdamW" then
        error("sslua.experiment.simclr: option 'momentum' does not apply to the " .. cls .. " optimizer (it has betas)", 2)
      end
      oo.momentum = o.momentum
    end
    opt = ctor(params, oo)
  end
  local history = {}
  local state = { encoder = encoder, projector = projector, optimizer = opt, epoch = 0, step = 0,
    history = history, rng = rng }
  local function hook(epoch)
    encoder:eval(); projector:eval()
    state.epoch = epoch
    if o.on_epoch then o.on_epoch(epoch, state) end
  end
  hook(0)
  local per_epoch = #data // batch
  if o.steps_per_epoch then per_epoch = math.min(per_epoch, o.steps_per_epoch) end
  local experiment = require "sslua.experiment"
  for epoch = 1, epochs do
    encoder:train(); projector:train()
    local t0, total, count = sslua.clock(), 0, 0
    local bar = o.progress ~= false and experiment.progress(per_epoch, { label = string.format("epoch %d/%d", epoch, epochs) }) or nil
    for images in data:batches { size = batch, shuffle = true, drop_last = true, rng = rng } do
      if count >= per_epoch then break end
      local x1, x2 = policy:pair(images, { rng = aug_rng })
      if o.schedule then opt.lr = o.schedule(state.step + 1) end
      opt:zero_grad()
      -- Both views through the networks in one batch; split back into z1 and z2.
      local n = x1:size(1)
      local z = projector(encoder(sslua.cat({ x1, x2 }, 1)))
      local l = loss(z:narrow(1, 1, n), z:narrow(1, n + 1, n), { beta = beta })
      l:backward()
      opt:step()
      state.step = state.step + 1
      count = count + 1
      total = total + l:item()
      if o.on_step then o.on_step(state.step, state, l) end
      if bar then bar:update(count, { loss = total / count }) end
    end
    local rec = { epoch = epoch, loss = count > 0 and total / count or 0 / 0, seconds = sslua.clock() - t0, lr = opt.lr }
    history[#history + 1] = rec
    state.loss = rec.loss
    if bar then bar:finish({ loss = rec.loss }) end
    hook(epoch)
  end
  return { encoder = encoder, projector = projector, optimizer = opt, history = history }
end

return M

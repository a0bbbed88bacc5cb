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
  run = "table", checkpoint = "boolean", rngs = "table",
  distributed = "boolean", sync_batchnorm = "boolean", bucket_mb = "number",
}

-- Data-parallel training over sslua.dist (docs/DISTRIBUTED.md) ---------------------------
-- Rank r's rows of a global batch of n: [lo, lo + count).
local function shard_of(n, rank, world)
  local lo = (n * rank) // world
  return lo + 1, (n * (rank + 1)) // world - lo
end

-- Parameters and buffers of every module from rank 0 (in registration order on every rank).
local function broadcast_state(sslua, modules)
  sslua.no_grad(function()
    for _, m in ipairs(modules) do
      for _, t in ipairs(m:parameters()) do t:copy_(sslua.dist.broadcast(t)) end
      for _, t in m:named_buffers() do t:copy_(sslua.dist.broadcast(t)) end
    end
  end)
end

-- Averages the gradients over the ranks, as DDP: flattened into buckets of about `mb` MB
-- per dtype, one all_reduce per bucket. A parameter without a gradient counts as zeros.
local function average_gradients(sslua, params, mb)
  local limit = math.max(1, math.floor(mb * 1024 * 1024))
  local i = 1
  sslua.no_grad(function()
    while i <= #params do
      local dt = params[i]:dtype()
      local bucket, bytes, j = {}, 0, i
      while j <= #params and params[j]:dtype() == dt and (bytes == 0 or bytes < limit) do
        local p = params[j]
        bucket[#bucket + 1] = p.grad and p.grad:reshape(-1) or sslua.zeros(p:numel(), { dtype = dt })
        bytes = bytes + p:numel() * (dt == "float64" and 8 or 4)
        j = j + 1
      end
      local flat = sslua.dist.all_reduce(sslua.cat(bucket, 1), { op = "mean" })
      local off = 1
      for k = i, j - 1 do
        local p, n = params[k], params[k]:numel()
        local g = flat:narrow(1, off, n):view(p:size())
        if p.grad then p.grad:copy_(g) end   -- none on any rank (the same model everywhere)
        off = off + n
      end
      i = j
    end
  end)
end

-- Where a loop's time goes ---------------------------------------------------------------
-- Phases of a training loop: data (the batch iterator), augment (policy:pair), forward (both
-- views, the loss), backward (backward, gradient averaging, the optimizer's step and
-- zero_grad), evaluation (on_epoch, e.g. kNN, probes, ranks, BN recalibration) and other
-- (on_step, the progress bar, checkpoints). Wall seconds from sslua.clock(), CPU seconds (all
-- threads) from os.clock().
M.phases = { "data", "augment", "forward", "backward", "evaluation", "other" }

--- simclr.new_timing() -> {wall = {<phase> = 0, ..., total = 0}, cpu = {...}}
M.average_gradients = average_gradients   -- (bench/dist times the same step)

function M.new_timing()
  local t = { wall = { total = 0 }, cpu = { total = 0 } }
  for _, p in ipairs(M.phases) do t.wall[p] = 0; t.cpu[p] = 0 end
  return t
end

--- simclr.add_timing(into, t) -> into, with t's seconds added phase by phase.
function M.add_timing(into, t)
  for _, kind in ipairs({ "wall", "cpu" }) do
    for k, v in pairs(t[kind] or {}) do into[kind][k] = (into[kind][k] or 0) + v end
  end
  return into
end

--- simclr.timing_fractions(t) -> {wall = {<phase> = share of the total}, cpu = {...}}
function M.timing_fractions(t)
  local f = { wall = {}, cpu = {} }
  for _, kind in ipairs({ "wall", "cpu" }) do
    local total = t[kind].total
    for _, p in ipairs(M.phases) do f[kind][p] = total > 0 and t[kind][p] / total or 0 end
  end
  return f
end

--- simclr.format_timing(t [, label]) -> one line: the CPU seconds and share of each phase.
function M.format_timing(t, label)
  local parts = {}
  for _, p in ipairs(M.phases) do
    local c = t.cpu[p]
    parts[#parts + 1] = string.format("%s %.1f s (%.0f%%)", p, c, t.cpu.total > 0 and 100 * c / t.cpu.total or 0)
  end
  return string.format("%s: %.1f s wall, %.1f s CPU: %s", label or "time", t.wall.total, t.cpu.total,
    table.concat(parts, ", "))
end

-- Adds the time since (w0, c0) to `phase` of each timing given; returns the clocks now.
local function lap(sslua, phase, w0, c0, a, b)
  local w, c = sslua.clock(), os.clock()
  a.wall[phase] = a.wall[phase] + (w - w0); a.cpu[phase] = a.cpu[phase] + (c - c0)
  if b then b.wall[phase] = b.wall[phase] + (w - w0); b.cpu[phase] = b.cpu[phase] + (c - c0) end
  return w, c
end

--- experiment.simclr{encoder=, projector=, data=, policy=, epochs=10, batch=128, beta=2,
---   optimizer= (an optimizer, or "sgd"|"adam"|"adamw"|"lars" with lr=, momentum=, weight_decay=),
---   schedule=function(step) -> lr, loss=function(z1, z2, {beta=}) (default sslua.loss.infonce),
---   rng= | seed=, steps_per_epoch=, progress=true, on_epoch=function(epoch, state), on_step=}
---   run= (default: the run of experiment.run), checkpoint=true, rngs={generators to checkpoint}}
--- -> {encoder=, projector=, optimizer=, history={{epoch=, loss=, seconds=, lr=, timing=}, ...}, timing=}
-- `timing` (simclr.phases): the wall and CPU seconds of each phase of this call (epoch 0's
-- evaluation included; on --resume, what this process ran), `total` the whole call; each
-- history entry has its epoch's. Inside a run the loops' timings and their sum are written to
-- the run's timing.json after each loop, and with progress on a one-line breakdown is printed.
-- `on_epoch(0, state)` runs before training (the initialisation), then after each epoch with
-- the modules in eval mode; `state` has encoder, projector, optimizer, epoch, step, loss,
-- history and rng.
--
-- Checkpoints: inside a run (experiment.run), each call is one training loop of the run
-- (numbered in call order) and writes a checkpoint at the end of every epoch, after on_epoch:
-- the encoder's and projector's state dicts (parameters and buffers such as BN statistics), the
-- optimizer's state dict (moments, momentum buffers, step counts, lr), the states of `rng`,
-- `aug_rng`, the generators in `rngs` and the global generator (the data order of the next
-- epoch comes from `rng`), the history and the run's rows. Under `--resume` the loops before
-- the checkpointed one return at once, that one continues after the checkpointed epoch.

-- Tensors and JSON data of a checkpoint of this loop.
local function checkpoint_state(encoder, projector, opt, gens)
  local tensors = {}
  for k, t in pairs(encoder:state_dict()) do tensors["encoder." .. k] = t end
  for k, t in pairs(projector:state_dict()) do tensors["projector." .. k] = t end
  local sd = opt:state_dict()
  local scalars = {}
  for i, st in ipairs(sd.state) do
    local sc = {}
    for k, v in pairs(st) do
      if getmetatable(v) == "sslua.Tensor" then tensors["optimizer." .. i .. "." .. k] = v else sc[k] = v end
    end
    scalars[i] = sc
  end
  local states = {}
  for i, g in ipairs(gens) do states[i] = g:state() end
  return tensors, { param_groups = sd.param_groups, step_count = sd.step_count, scalars = scalars, n = #sd.state }, states
end

local function restore_state(where, tensors, d, encoder, projector, opt, gens)
  local enc, proj, ostate = {}, {}, {}
  for i = 1, d.optimizer.n do ostate[i] = {} end
  for i, sc in pairs(d.optimizer.scalars or {}) do
    if math.type(i) ~= "integer" or ostate[i] == nil then error(where .. ": optimizer state of parameter " .. tostring(i) .. " out of range", 0) end
    for k, v in pairs(sc) do ostate[i][k] = v end
  end
  for name, t in pairs(tensors) do
    local k = name:match("^encoder%.(.+)$")
    if k then enc[k] = t else
      k = name:match("^projector%.(.+)$")
      if k then proj[k] = t else
        local i, key = name:match("^optimizer%.(%d+)%.(.+)$")
        i = tonumber(i)
        if not i or ostate[i] == nil then error(where .. ": unexpected tensor '" .. name .. "'", 0) end
        ostate[i][key] = t
      end
    end
  end
  if #gens ~= #d.rngs then
    error(where .. ": the checkpoint has " .. #d.rngs .. " generators, this loop " .. #gens, 0)
  end
  local function try(what, f, ...)
    local ok, err = pcall(f, ...)
    if not ok then error(where .. ": " .. what .. ": " .. tostring(err), 0) end
  end
  try("encoder", encoder.load_state_dict, encoder, enc)
  try("projector", projector.load_state_dict, projector, proj)
  try("optimizer", opt.load_state_dict, opt, { state = ostate, param_groups = d.optimizer.param_groups,
    step_count = d.optimizer.step_count })
  for i, g in ipairs(gens) do try("generator " .. i, g.set_state, g, d.rngs[i]) end
end

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
  local dist = sslua.dist
  local rank, world = dist.init()
  local distributed = o.distributed
  if distributed == nil then distributed = world > 1 end
  if distributed and o.sync_batchnorm ~= false then
    sslua.nn.convert_sync_batchnorm(encoder); sslua.nn.convert_sync_batchnorm(projector)
  end
  local bucket_mb = o.bucket_mb or 2
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
  local per_epoch = #data // batch
  if o.steps_per_epoch then per_epoch = math.min(per_epoch, o.steps_per_epoch) end
  local experiment = require "sslua.experiment"
  -- Checkpointing: this call is training loop `segment` of the run.
  local run = o.run
  if run == nil then run = experiment.current_run end
  if o.checkpoint == false or type(run) ~= "table" or type(run.checkpoint) ~= "function"
    or type(opt.state_dict) ~= "function" then run = nil end
  local gens, segment, first = { rng }, nil, 1
  if run then
    if aug_rng ~= rng then gens[#gens + 1] = aug_rng end
    for i, g in ipairs(o.rngs or {}) do
      if type(g) ~= "userdata" or type(g.state) ~= "function" then error("sslua.experiment.simclr: rngs[" .. i .. "] is not a generator", 2) end
      gens[#gens + 1] = g
    end
    run.segment = run.segment + 1
    segment = run.segment
    local m = run.replay
    local h = run.histories[segment]
    if type(h) ~= "table" then h = {} end
    for i = 1, #h do history[i] = h[i] end
    run.histories[segment] = history
    local function check_shape(where, d)
      if type(d) ~= "table" or type(d.optimizer) ~= "table" or type(d.rngs) ~= "table" then
        error(where .. ": training loop " .. segment .. ": the checkpoint has no optimizer or generator states", 0)
      end
      for _, key in ipairs({ "epochs", "batch", "per_epoch" }) do
        local now = ({ epochs = epochs, batch = batch, per_epoch = per_epoch })[key]
        if d[key] ~= now then
          error(where .. ": training loop " .. segment .. " has " .. key .. " = " .. tostring(d[key])
            .. " in the checkpoint, " .. tostring(now) .. " now", 0)
        end
      end
    end
    if m and segment < m.segment then
      -- Finished before the checkpoint: its rows and history are restored already; its
      -- trained state comes from the loop's final checkpoint (kept for this).
      local tensors, d = run:finished_checkpoint(segment)
      if tensors then
        local where = "experiment.simclr: cannot resume " .. run.dir .. " from " .. run.checkpoint_path
        check_shape(where, d)
        restore_state(where, tensors, d, encoder, projector, opt, gens)
        state.step, state.epoch, opt.lr = d.step, d.epoch, d.lr
      elseif epochs > 0 then
        error("sslua.experiment.simclr: cannot resume " .. run.dir .. ": " .. run.checkpoint_path .. " has no final checkpoint of training loop " .. segment, 2)
      end
      encoder:eval(); projector:eval()
      return { encoder = encoder, projector = projector, optimizer = opt, history = history, skipped = true }
    elseif m and segment > m.segment then
      error("sslua.experiment.simclr: resuming " .. run.dir .. ": the checkpoint is of training loop " .. m.segment
        .. ", but the script reached loop " .. segment .. " before it (it does not run as the killed run did)", 2)
    elseif m then
      local where = "experiment.simclr: cannot resume " .. run.dir .. " from " .. run.checkpoint_path
      local tensors, d = run:restore_checkpoint()
      check_shape(where, d)
      restore_state(where, tensors, d, encoder, projector, opt, gens)
      state.step, state.epoch = d.step, d.epoch
      state.loss = history[#history] and history[#history].loss
      opt.lr = d.lr
      first = d.epoch + 1
      encoder:eval(); projector:eval()
    end
  end
  local timing = M.new_timing()
  local tw0, tc0 = sslua.clock(), os.clock()
  local w, c = tw0, tc0
  if distributed then broadcast_state(sslua, { encoder, projector }) end
  w, c = lap(sslua, "other", w, c, timing)
  if first == 1 then hook(0) end
  w, c = lap(sslua, "evaluation", w, c, timing)
  for epoch = first, epochs do
    encoder:train(); projector:train()
    local t0, total, count = sslua.clock(), 0, 0
    local et = M.new_timing()
    local ew0, ec0 = w, c
    local bar = o.progress ~= false and rank == 0 and experiment.progress(per_epoch, { label = string.format("epoch %d/%d", epoch, epochs) }) or nil
    w, c = lap(sslua, "other", w, c, timing, et)
    for images in data:batches { size = batch, shuffle = true, drop_last = true, rng = rng } do
      if count >= per_epoch then break end
      w, c = lap(sslua, "data", w, c, timing, et)
      local x1, x2 = policy:pair(images, { rng = aug_rng })
      w, c = lap(sslua, "augment", w, c, timing, et)
      if o.schedule then opt.lr = o.schedule(state.step + 1) end
      opt:zero_grad()
      -- Both views through the networks in one batch; split back into z1 and z2.
      local n = x1:size(1)
      local l
      if distributed then
        -- This rank's shard of both views; the loss over the gathered global batch (global
        -- negatives), the same value on every rank; gradients averaged over the ranks.
        local lo, k = shard_of(n, rank, world)
        local z = projector(encoder(sslua.cat({ x1:narrow(1, lo, k), x2:narrow(1, lo, k) }, 1)))
        l = loss(dist.all_gather(z:narrow(1, 1, k)), dist.all_gather(z:narrow(1, k + 1, k)), { beta = beta })
        w, c = lap(sslua, "forward", w, c, timing, et)
        l:backward()
        average_gradients(sslua, params, bucket_mb)
      else
        local z = projector(encoder(sslua.cat({ x1, x2 }, 1)))
        l = loss(z:narrow(1, 1, n), z:narrow(1, n + 1, n), { beta = beta })
        w, c = lap(sslua, "forward", w, c, timing, et)
        l:backward()
      end
      opt:step()
      w, c = lap(sslua, "backward", w, c, timing, et)
      state.step = state.step + 1
      count = count + 1
      total = total + l:item()
      if o.on_step then o.on_step(state.step, state, l) end
      if bar then bar:update(count, { loss = total / count }) end
      w, c = lap(sslua, "other", w, c, timing, et)
    end
    w, c = lap(sslua, "data", w, c, timing, et)   -- the batch fetched before the break
    local rec = { epoch = epoch, loss = count > 0 and total / count or 0 / 0, seconds = sslua.clock() - t0, lr = opt.lr }
    history[#history + 1] = rec
    state.loss = rec.loss
    if bar then bar:finish({ loss = rec.loss }) end
    w, c = lap(sslua, "other", w, c, timing, et)
    hook(epoch)
    w, c = lap(sslua, "evaluation", w, c, timing, et)
    et.wall.total, et.cpu.total = w - ew0, c - ec0
    rec.timing = et
    if run then
      local tensors, optd, states = checkpoint_state(encoder, projector, opt, gens)
      run:checkpoint(tensors, { segment = segment, epoch = epoch, epochs = epochs, batch = batch, per_epoch = per_epoch,
        step = state.step, lr = opt.lr, optimizer = optd, rngs = states })
    end
    w, c = lap(sslua, "other", w, c, timing)
  end
  timing.wall.total, timing.cpu.total = sslua.clock() - tw0, os.clock() - tc0
  local r = o.run
  if r == nil then r = experiment.current_run end
  if type(r) == "table" and type(r.write_json) == "function" then
    -- every loop of the run so far, and their sum
    r.simclr_timing = r.simclr_timing or { loops = {}, total = M.new_timing() }
    local rt = r.simclr_timing
    rt.loops[#rt.loops + 1] = timing
    M.add_timing(rt.total, timing)
    rt.fractions = M.timing_fractions(rt.total)
    r:write_json("timing.json", rt)
  end
  if o.progress ~= false and rank == 0 then print(M.format_timing(timing, "experiment.simclr")) end
  return { encoder = encoder, projector = projector, optimizer = opt, history = history, timing = timing }
end

return M

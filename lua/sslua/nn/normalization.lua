-- Batch normalisation: nn.BatchNorm1d, nn.BatchNorm2d, nn.SyncBatchNorm over sslua.dist and
-- nn.convert_sync_batchnorm, and nn.recalibrate_bn (the running statistics from data).
local common, module = require "sslua.nn.common", require "sslua.nn.module"
local sslua, C, fail, is_tensor, opts_of = common.sslua, common.C, common.fail, common.is_tensor, common.opts_of
local check_int, shape_str, check_input = common.check_int, common.shape_str, common.check_input
local class, Module, walk, is_module = common.class, module.Module, module._walk, module.is_module

local nn = {}   -- what this file adds to sslua.nn

--- Batch norm; nn.BatchNorm1d(n) on (N, C) or (N, C, L), nn.BatchNorm2d(n) on (N, C, H, W).
--- Options: {eps = 1e-5, momentum = 0.1, affine = true, track_running_stats = true};
--- momentum = false gives the cumulative average (PyTorch's momentum=None). Training mode
--- normalises with the batch statistics (biased variance) and updates the running ones with
--- the unbiased variance; eval mode uses the running statistics.
local BatchNorm = class("BatchNorm", Module)

local function make_bn(name, dims)
  local cls = class(name, BatchNorm)
  cls._dims = dims
  function cls:__init(n, o)
    o = opts_of(name, o, { eps = "number", momentum = "number|boolean", affine = "boolean",
      track_running_stats = "boolean" })
    n = check_int(n, "num_features", name)
    Module._setup(self)
    self.num_features = n
    self.eps = o.eps or 1e-5
    self.momentum = o.momentum == nil and 0.1 or o.momentum
    self.affine = o.affine ~= false
    self.track_running_stats = o.track_running_stats ~= false
    if self.affine then
      self:register_parameter("weight", sslua.ones(n))
      self:register_parameter("bias", sslua.zeros(n))
    end
    if self.track_running_stats then
      self:register_buffer("running_mean", sslua.zeros(n))
      self:register_buffer("running_var", sslua.ones(n))
      self:register_buffer("num_batches_tracked", sslua.tensor(0))
    end
    return self
  end
  return cls
end

nn.BatchNorm1d = make_bn("BatchNorm1d", { 2, 3 })
nn.BatchNorm2d = make_bn("BatchNorm2d", { 4 })

--- The normalisation, with ReLU fused when `relu` is true (used by the ResNet blocks).
-- The native kernel's call for input x: checks x, counts the batch and returns the momentum
-- (1 / batches for momentum = false: a cumulative moving average) and the running statistics.
local function prepare(self, x)
  check_input(self._type, x, self._dims)
  if x:size(2) ~= self.num_features then
    fail(self._type, "expected input with " .. self.num_features .. " channels, got size " .. shape_str(x), 4)
  end
  local momentum = self.momentum
  if self.training and self.track_running_stats then
    local nbt = self.num_batches_tracked
    sslua.no_grad(function() nbt:add_(1) end)
    if momentum == false then momentum = 1 / nbt:item() end
  end
  if self.track_running_stats then return momentum or 0.1, self.running_mean, self.running_var end
  return momentum or 0.1
end

function BatchNorm:_forward(x, relu)
  local training = self.training or not self.track_running_stats
  local momentum, rm, rv = prepare(self, x)
  return C.batch_norm(x, self.weight, self.bias, rm, rv, training, momentum, self.eps, relu)
end

function BatchNorm:forward(x) return self:_forward(x, false) end

function BatchNorm:extra_repr()
  return string.format("%d, eps=%g, momentum=%s, affine=%s, track_running_stats=%s", self.num_features, self.eps,
    tostring(self.momentum), tostring(self.affine), tostring(self.track_running_stats))
end

-- SyncBatchNorm (data-parallel training over sslua.dist), as torch.nn.SyncBatchNorm.

--- nn.SyncBatchNorm(n, {eps, momentum, affine, track_running_stats}): batch norm over (N, C),
--- (N, C, L) or (N, C, H, W) whose training-mode statistics are those of the global batch:
--- each rank's per-channel sum, sum of squares (shifted by the running mean, for accuracy) and
--- count are summed over the ranks by one differentiable sslua.dist.all_reduce, so the backward
--- pass reduces the two gradient sums as PyTorch's. In a world of size 1, and in eval mode, it
--- is BatchNorm. Every rank must run its forward and backward passes in the same order.
nn.SyncBatchNorm = make_bn("SyncBatchNorm", { 2, 3, 4 })
local SyncBatchNorm = nn.SyncBatchNorm

function SyncBatchNorm:_forward(x, relu)
  local training = self.training or not self.track_running_stats
  if not training or sslua.dist.size() == 1 then return BatchNorm._forward(self, x, relu) end
  local momentum, rm, rv = prepare(self, x)
  -- the native kernel's sync mode: one all-reduce of the local sums forward, one backward
  return C.batch_norm(x, self.weight, self.bias, rm, rv, true, momentum, self.eps, relu, true)
end

--- nn.convert_sync_batchnorm(model) -> model: every BatchNorm1d/BatchNorm2d in `model` (or
--- `model` itself) becomes a SyncBatchNorm in place, keeping its parameters, buffers and
--- options, as torch.nn.SyncBatchNorm.convert_sync_batchnorm.
function nn.convert_sync_batchnorm(model)
  if not is_module(model) then fail("convert_sync_batchnorm", "expected a module, got " .. type(model), 2) end
  walk(model, "", function(_, m)
    local mt = getmetatable(m)
    if mt == nn.BatchNorm1d or mt == nn.BatchNorm2d then setmetatable(m, SyncBatchNorm) end
  end)
  return model
end

-- BatchNorm recalibration (PyTorch's torch.optim.swa_utils.update_bn).

--- nn.recalibrate_bn(model | {m1, m2, ...}, images, {batch = 128, rng = nil}) -> model, batches:
--- resets the running statistics of every BatchNorm in the model (or the chain of modules),
--- sets their momentum to the cumulative average (momentum = false, PyTorch's None) and runs
--- the images through in train mode without grad, `batch` rows at a time (in a random order
--- drawn from `rng` when given); then restores each module's momentum and train/eval mode.
--- After one batch the running mean is the batch mean of each BN's input and the running
--- variance the unbiased variance; after several, their averages over the batches. A final
--- batch of one row is skipped (train-mode BN needs two). Eval-mode features of an untrained
--- network are meaningless without this: its running statistics are still 0 and 1.
function nn.recalibrate_bn(model, images, o)
  local where = "recalibrate_bn"
  o = opts_of(where, o, { batch = "integer", rng = "userdata" })
  local mods = model
  if type(model) == "table" and model.parameters then mods = { model } end
  if type(mods) ~= "table" or #mods == 0 then fail(where, "expected a module or a list of modules", 2) end
  for i, m in ipairs(mods) do
    if type(m) ~= "table" or type(m.parameters) ~= "function" then fail(where, "item " .. i .. " is not a module", 2) end
  end
  if not is_tensor(images) or images:dim() < 2 then fail(where, "images must be a tensor with a batch dimension", 2) end
  local batch = o.batch or 128
  check_int(batch, "batch", where, 2)
  local n = images:size(1)
  local bns, modes = {}, {}
  for _, m in ipairs(mods) do
    walk(m, "", function(_, sub)
      modes[#modes + 1] = { sub, sub.training }
      if (sub._type == "BatchNorm1d" or sub._type == "BatchNorm2d") and sub.track_running_stats then
        bns[#bns + 1] = { sub, sub.momentum }
      end
    end)
  end
  local order
  if o.rng then order = sslua.randperm(n, { rng = o.rng }) end
  local count = 0
  sslua.no_grad(function()
    for _, e in ipairs(bns) do
      local bn = e[1]
      bn.running_mean:zero_(); bn.running_var:fill_(1); bn.num_batches_tracked:zero_()
      bn.momentum = false
    end
    for _, m in ipairs(mods) do m:train(true) end
    local ok, err = pcall(function()
      for i = 1, n, batch do
        local len = math.min(batch, n - i + 1)
        if len >= 2 then
          local x
          if order then x = images:index(1, order:narrow(1, i, len)) else x = images:narrow(1, i, len) end
          for _, m in ipairs(mods) do x = m(x) end
          count = count + 1
        end
      end
    end)
    for _, e in ipairs(bns) do e[1].momentum = e[2] end
    for _, e in ipairs(modes) do e[1].training = e[2] end
    if not ok then error(err, 0) end
  end)
  return model, count
end

return nn

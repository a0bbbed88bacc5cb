-- Momentum targets and MoCo's dictionary: nn.EMA / nn.ema (BYOL's target network, MoCo's key
-- encoder) and nn.Queue.
local common, module = require "sslua.nn.common", require "sslua.nn.module"
local sslua, fail, is_tensor, opts_of = common.sslua, common.fail, common.is_tensor, common.opts_of
local check_int, rng_opts, shape_str, class = common.check_int, common.rng_opts, common.shape_str, common.class
local Module, is_module = module.Module, module.is_module

local nn = {}   -- what this file adds to sslua.nn

-- A deep copy of a module: tables copied recursively (modules and plain tables; other tables
-- with a metatable, functions and userdata shared), tensors cloned, detached and not
-- requiring grad.
local function deep_copy(v, memo)
  if is_tensor(v) then
    if memo[v] == nil then memo[v] = v:detach():clone():requires_grad_(false) end
    return memo[v]
  end
  if type(v) ~= "table" then return v end
  local mt = getmetatable(v)
  if mt ~= nil and not is_module(v) then return v end
  if memo[v] ~= nil then return memo[v] end
  local out = {}
  memo[v] = out
  for k, x in next, v do rawset(out, deep_copy(k, memo), deep_copy(x, memo)) end
  return setmetatable(out, mt)
end

local EMA = class("EMA", Module)

local ema_buffers = { own = true, copy = true, average = true }

local function check_momentum(where, m, level)
  if type(m) ~= "number" or m ~= m or m < 0 or m > 1 then
    fail(where, "momentum must be a number in [0, 1], got " .. tostring(m), level + 1)
  end
  return m
end

--- nn.ema(model, {momentum = 0.996, buffers = "own"}) -> nn.EMA: a momentum copy of `model`
--- (BYOL's target network, MoCo's key encoder). The copy's parameters do not require grad;
--- `ema:update(online)` sets p_ema <- m p_ema + (1 - m) p_online for every parameter, under
--- no_grad. Buffers (BatchNorm's running statistics): "own" (default; as BYOL's and MoCo's
--- reference code, the copy's own forward passes update them), "copy" (taken from the online
--- model at each update) or "average" (floating buffers averaged with the same momentum,
--- num_batches_tracked copied, as timm's ModelEmaV2). The copy is the child `module`.
function EMA:__init(model, o)
  o = opts_of("ema", o, { momentum = "number", buffers = "string" })
  if not is_module(model) then fail("ema", "expected a module, got " .. type(model), 3) end
  Module._setup(self)
  self.momentum = check_momentum("ema", o.momentum == nil and 0.996 or o.momentum, 3)
  self.buffers = o.buffers or "own"
  if not ema_buffers[self.buffers] then
    fail("ema", "buffers must be \"own\", \"copy\" or \"average\", got \"" .. tostring(self.buffers) .. "\"", 3)
  end
  self:add_module("module", deep_copy(model, {}))
  self.module:train(model.training)
  return self
end
nn.EMA = EMA
function nn.ema(model, o) return EMA(model, o) end

function EMA:forward(...) return self.module:forward(...) end

function EMA:extra_repr() return "momentum=" .. self.momentum .. ", buffers=" .. self.buffers end

local function tensor_map(m, iter)
  local t, order = {}, {}
  for n, x in iter(m) do t[n] = x; order[#order + 1] = n end
  return t, order
end

--- ema:update(online [, {momentum = }]) -> ema: one EMA step towards `online` (a module with
--- the same parameter and buffer names and sizes as the copy); `momentum` overrides the
--- stored one for this step (BYOL's cosine schedule).
function EMA:update(online, o)
  o = opts_of("EMA:update", o, { momentum = "number" })
  if not is_module(online) then fail("EMA:update", "expected the online module, got " .. type(online), 2) end
  local m = self.momentum
  if o.momentum ~= nil then m = check_momentum("EMA:update", o.momentum, 2) end
  local src = tensor_map(online, online.named_parameters)
  local dst, order = tensor_map(self.module, self.module.named_parameters)
  local bsrc = tensor_map(online, online.named_buffers)
  local bdst, border = tensor_map(self.module, self.module.named_buffers)
  local function match(a, b, names, what)
    for _, n in ipairs(names) do
      local x = a[n]
      if x == nil then fail("EMA:update", "the online module has no " .. what .. " '" .. n .. "'", 4) end
      if shape_str(x) ~= shape_str(b[n]) then
        fail("EMA:update", what .. " '" .. n .. "' has size " .. shape_str(x) .. ", the copy " .. shape_str(b[n]), 4)
      end
    end
    for n in pairs(a) do
      if b[n] == nil then fail("EMA:update", "the copy has no " .. what .. " '" .. n .. "'", 4) end
    end
  end
  match(src, dst, order, "parameter")
  if self.buffers ~= "own" then match(bsrc, bdst, border, "buffer") end
  sslua.no_grad(function()
    for _, n in ipairs(order) do
      local p, q = dst[n], src[n]:detach()
      if q:dtype() ~= p:dtype() then q = p:dtype() == "float64" and q:double() or q:float() end
      p:mul_(m):add_(q * (1 - m))
    end
    if self.buffers ~= "own" then
      for _, n in ipairs(border) do
        local b, q = bdst[n], bsrc[n]:detach()
        if self.buffers == "copy" or n:match("num_batches_tracked$") then b:copy_(q)
        else
          if q:dtype() ~= b:dtype() then q = b:dtype() == "float64" and q:double() or q:float() end
          b:mul_(m):add_(q * (1 - m))
        end
      end
    end
  end)
  return self
end

--- nn.Queue(size, dim [, {rng, dtype}]): MoCo's dictionary of negatives, a module with buffers
--- `queue` (size x dim, one key per row, initialised as the reference: standard normal rows,
--- normalised) and `queue_ptr` (the next row to write, 0-based as the reference), so it is
--- saved with the state dict. `q:enqueue(k)` writes the rows of k (normalised, detached) FIFO,
--- overwriting the oldest and wrapping around; a batch longer than the queue keeps its last
--- `size` rows. `q.queue` (or `q:keys()`) is what loss.moco takes.
local Queue = class("Queue", Module)
function Queue:__init(size, dim, o)
  o = opts_of("Queue", o, { rng = "userdata", dtype = "string" }, 1)
  size = check_int(size, "size", "Queue")
  dim = check_int(dim, "dim", "Queue")
  Module._setup(self)
  self.size, self.dim = size, dim
  local ro = rng_opts(o)
  ro.dtype = o.dtype
  self:register_buffer("queue", sslua.randn(size, dim, ro):normalize(2))
  self:register_buffer("queue_ptr", sslua.tensor(0))
  return self
end
nn.Queue = Queue

function Queue:keys() return self.queue end
function Queue:forward() return self.queue end
function Queue:extra_repr() return self.size .. ", " .. self.dim end

function Queue:enqueue(k)
  if not is_tensor(k) or k:dim() ~= 2 or k:size(2) ~= self.dim then
    fail("Queue:enqueue", "expected keys N x " .. self.dim .. ", got " .. (is_tensor(k) and shape_str(k) or type(k)), 2)
  end
  local K, queue = self.size, self.queue
  sslua.no_grad(function()
    local keys = k:detach():normalize(2)
    if keys:dtype() ~= queue:dtype() then keys = queue:dtype() == "float64" and keys:double() or keys:float() end
    local n = keys:size(1)
    if n > K then keys, n = keys:narrow(1, n - K + 1, K), K end
    local ptr = math.tointeger(self.queue_ptr:item())
    local first = math.min(n, K - ptr)
    queue:narrow(1, ptr + 1, first):copy_(keys:narrow(1, 1, first))
    if first < n then queue:narrow(1, 1, n - first):copy_(keys:narrow(1, first + 1, n - first)) end
    self.queue_ptr:fill_((ptr + n) % K)
  end)
  return self
end

return nn

-- sslua.optim: optimizers with PyTorch's semantics (SGD, Adam, AdamW) and SimCLR's LARS.
--
--   local optim = require "sslua.optim"
--   local opt = optim.SGD(model:parameters(), {lr = 0.1, momentum = 0.9, weight_decay = 5e-4})
--   loss:backward(); opt:step(); opt:zero_grad()
--   opt.lr = schedule(step)                      -- readable and writable
--
-- `params` is a list of tensors, or a module (its parameters are taken). Each update is one
-- fused native pass per parameter (sslua._nn), run outside the autograd graph.
local sslua = require "sslua"
local util = require "sslua.util"
local C = sslua._nn

local optim = {}

local optim_fail = util.failer("sslua.optim.")
local function fail(where, msg) optim_fail(where, msg, 2) end

local function param_list(params, where)
  if type(params) == "table" and type(params.parameters) == "function" and params._params then
    params = params:parameters()
  end
  if type(params) ~= "table" then fail(where, "expected a list of tensors or a module, got " .. type(params)) end
  local out = {}
  for i, p in ipairs(params) do
    if getmetatable(p) ~= "sslua.Tensor" then fail(where, "parameter #" .. i .. " is not a tensor") end
    out[i] = p
  end
  if #out == 0 then fail(where, "optimizer got an empty parameter list") end
  return out
end

local function number(o, key, default, where, lo)
  if type(o) ~= "table" then fail(where, "options must be a table, got " .. type(o)) end
  local v = o[key]
  if v == nil then v = default end
  if type(v) ~= "number" then fail(where, "option '" .. key .. "' must be a number, got " .. type(v)) end
  if lo and v < lo then fail(where, "invalid " .. key .. ": " .. v) end
  return v
end

local Optimizer = util.class("sslua.optim.Optimizer")

local function new(cls, params, where)
  local self = setmetatable({}, cls)
  self.params = param_list(params, where)
  self.state = {}
  for i = 1, #self.params do self.state[i] = {} end
  self.step_count = 0
  return self
end

--- Drops the gradients of every parameter.
function Optimizer:zero_grad()
  for _, p in ipairs(self.params) do p.grad = nil end
end

local function zeros_like(p) return sslua.zeros(p:shape(), { dtype = p:dtype() }) end

-- One optimizer step: counts it and calls update(self, p, grad, state) for every parameter
-- that has a gradient, in order (the state table of parameter i is self.state[i]).
local function each_gradient(self, update)
  self.step_count = self.step_count + 1
  for i, p in ipairs(self.params) do
    local g = p.grad
    if g ~= nil then update(self, p, g, self.state[i]) end
  end
end

-- Hyperparameters saved in a state dict's param_groups (the ones an optimizer has).
local hyper = { "lr", "momentum", "dampening", "weight_decay", "nesterov", "betas", "eps", "decoupled", "eta",
  "exclude_bias_and_norm" }

--- opt:state_dict() -> {state = {[i] = {name = tensor | number, ...}}, param_groups = {{lr=, ...,
--- params = {1, ..., n}}}, step_count = n}, as PyTorch's (parameters by position). Tensors are
--- copies, so the dict does not change with later steps.
function Optimizer:state_dict()
  local state = {}
  for i, st in ipairs(self.state) do
    local out = {}
    for k, v in pairs(st) do
      if getmetatable(v) == "sslua.Tensor" then out[k] = v:detach():clone() else out[k] = v end
    end
    state[i] = out
  end
  local group = { params = {} }
  for i = 1, #self.params do group.params[i] = i end
  for _, k in ipairs(hyper) do
    local v = self[k]
    if type(v) == "table" then v = { table.unpack(v) } end
    group[k] = v
  end
  return { state = state, param_groups = { group }, step_count = self.step_count }
end

--- opt:load_state_dict(sd): restores a state_dict() of an optimizer of the same kind over
--- parameters of the same shapes (moments, momentum buffers, step counts, lr). Errors name the
--- entry that does not fit and leave the optimizer unchanged.
function Optimizer:load_state_dict(sd)
  local where = (getmetatable(self).__name or "optim"):gsub("^sslua%.optim%.", "") .. ":load_state_dict"
  if type(sd) ~= "table" or type(sd.state) ~= "table" or type(sd.param_groups) ~= "table" then
    fail(where, "expected a table from opt:state_dict() with 'state' and 'param_groups'")
  end
  local group = sd.param_groups[1]
  if type(group) ~= "table" or #sd.param_groups ~= 1 then fail(where, "expected exactly one parameter group") end
  local n = #self.params
  if type(group.params) ~= "table" or #group.params ~= n then
    fail(where, "the state dict has " .. (type(group.params) == "table" and #group.params or 0)
      .. " parameters, the optimizer " .. n)
  end
  local new = {}
  for i = 1, n do
    local st = sd.state[i] or {}
    if type(st) ~= "table" then fail(where, "state of parameter #" .. i .. " must be a table") end
    local out, keys = {}, {}
    for k in pairs(st) do
      if type(k) ~= "string" then fail(where, "state of parameter #" .. i .. " has a non-string key") end
      keys[#keys + 1] = k
    end
    table.sort(keys) -- the first misfit named is the same every time
    for _, k in ipairs(keys) do
      local v = st[k]
      if getmetatable(v) == "sslua.Tensor" then
        local p = self.params[i]
        local a, b = p:shape(), v:shape()
        local same = #a == #b
        for j = 1, #a do if a[j] ~= b[j] then same = false end end
        if not same then
          fail(where, "state '" .. k .. "' of parameter #" .. i .. " has shape [" .. table.concat(b, "x")
            .. "], the parameter [" .. table.concat(a, "x") .. "]")
        end
        if v:dtype() ~= p:dtype() then
          fail(where, "state '" .. k .. "' of parameter #" .. i .. " is " .. v:dtype() .. ", the parameter " .. p:dtype())
        end
        out[k] = v:detach():clone()
      elseif type(v) == "number" or type(v) == "boolean" then
        out[k] = v
      else
        fail(where, "state '" .. k .. "' of parameter #" .. i .. " must be a tensor or a number, got " .. type(v))
      end
    end
    new[i] = out
  end
  for _, k in ipairs(hyper) do
    local v = group[k]
    if v ~= nil and self[k] ~= nil then
      if type(v) ~= type(self[k]) then
        fail(where, "param_groups[1]." .. k .. " must be a " .. type(self[k]) .. ", got " .. type(v))
      end
    end
  end
  if sd.step_count ~= nil and math.type(sd.step_count) ~= "integer" then fail(where, "step_count must be an integer") end
  for _, k in ipairs(hyper) do
    local v = group[k]
    if v ~= nil and self[k] ~= nil then
      if type(v) == "table" then v = { table.unpack(v) } end
      self[k] = v
    end
  end
  self.state = new
  self.step_count = sd.step_count or self.step_count
  return self
end

-- SGD ------------------------------------------------------------------------------------------

local SGD = util.class("sslua.optim.SGD", Optimizer)

--- optim.SGD(params, {lr, momentum = 0, dampening = 0, weight_decay = 0, nesterov = false})
function optim.SGD(params, o)
  o = util.check_options("sslua.optim.SGD", o, { lr = "any", momentum = "any", dampening = "any",
    weight_decay = "any", nesterov = "boolean" })
  local self = new(SGD, params, "SGD")
  self.lr = number(o, "lr", nil, "SGD", 0)
  self.momentum = number(o, "momentum", 0, "SGD", 0)
  self.dampening = number(o, "dampening", 0, "SGD")
  self.weight_decay = number(o, "weight_decay", 0, "SGD", 0)
  self.nesterov = o.nesterov and true or false
  if self.nesterov and (self.momentum <= 0 or self.dampening ~= 0) then
    fail("SGD", "Nesterov momentum requires a momentum and zero dampening")
  end
  return self
end

local function sgd_update(self, p, g, st)
  local first = false
  if self.momentum ~= 0 and st.momentum_buffer == nil then
    st.momentum_buffer = zeros_like(p)
    first = true
  end
  C.sgd_update(p, g, st.momentum_buffer, self.lr, self.momentum, self.dampening, self.weight_decay,
    self.nesterov, first)
end

function SGD:step() each_gradient(self, sgd_update) end

-- Adam / AdamW ---------------------------------------------------------------------------------

local Adam = util.class("sslua.optim.Adam", Optimizer)

local function make_adam(o, params, where, decoupled, default_wd)
  -- level 1: optim.Adam/AdamW tail-call this, so their caller is next on the stack
  o = util.check_options("sslua.optim." .. where, o, { lr = "any", betas = "any", eps = "any", weight_decay = "any" })
  local self = new(Adam, params, where)
  self.lr = number(o, "lr", 1e-3, where, 0)
  local betas = o.betas or { 0.9, 0.999 }
  if type(betas) ~= "table" or type(betas[1]) ~= "number" or type(betas[2]) ~= "number" then
    fail(where, "betas must be a pair of numbers")
  end
  if betas[1] < 0 or betas[1] >= 1 or betas[2] < 0 or betas[2] >= 1 then fail(where, "betas must be in [0, 1)") end
  self.betas = { betas[1], betas[2] }
  self.eps = number(o, "eps", 1e-8, where, 0)
  self.weight_decay = number(o, "weight_decay", default_wd, where, 0)
  self.decoupled = decoupled
  self.name = where
  return self
end

--- optim.Adam(params, {lr = 1e-3, betas = {0.9, 0.999}, eps = 1e-8, weight_decay = 0}) (L2 decay)
function optim.Adam(params, o) return make_adam(o, params, "Adam", false, 0) end
--- optim.AdamW(params, {lr = 1e-3, betas = {0.9, 0.999}, eps = 1e-8, weight_decay = 1e-2}) (decoupled)
function optim.AdamW(params, o) return make_adam(o, params, "AdamW", true, 1e-2) end

local function adam_update(self, p, g, st)
  if st.exp_avg == nil then
    st.exp_avg, st.exp_avg_sq, st.step = zeros_like(p), zeros_like(p), 0
  end
  st.step = st.step + 1
  C.adam_update(p, g, st.exp_avg, st.exp_avg_sq, self.lr, self.betas[1], self.betas[2], self.eps,
    self.weight_decay, st.step, self.decoupled)
end

function Adam:step() each_gradient(self, adam_update) end

-- LARS -----------------------------------------------------------------------------------------

local LARS = util.class("sslua.optim.LARS", Optimizer)

--- optim.LARS(params, {lr, momentum = 0.9, weight_decay = 0, eta = 0.001, exclude_bias_and_norm = true})
--- SimCLR's LARS: d = g + wd*w; trust = eta*|w|/|d| (1 if a norm is 0); v = m*v + lr*trust*d;
--- w -= v. With exclude_bias_and_norm, 1-d parameters (biases, BN) get neither decay nor
--- adaptation (trust 1).
function optim.LARS(params, o)
  o = util.check_options("sslua.optim.LARS", o, { lr = "any", momentum = "any", weight_decay = "any", eta = "any",
    exclude_bias_and_norm = "boolean" })
  local self = new(LARS, params, "LARS")
  self.lr = number(o, "lr", nil, "LARS", 0)
  self.momentum = number(o, "momentum", 0.9, "LARS", 0)
  self.weight_decay = number(o, "weight_decay", 0, "LARS", 0)
  self.eta = number(o, "eta", 0.001, "LARS", 0)
  self.exclude_bias_and_norm = o.exclude_bias_and_norm ~= false
  return self
end

local function lars_update(self, p, g, st)
  if st.momentum_buffer == nil then st.momentum_buffer = zeros_like(p) end
  local excluded = self.exclude_bias_and_norm and p:dim() <= 1
  st.trust_ratio = C.lars_update(p, g, st.momentum_buffer, self.lr, self.momentum,
    excluded and 0 or self.weight_decay, self.eta, not excluded)
end

function LARS:step() each_gradient(self, lars_update) end

-- schedules ------------------------------------------------------------------------------------

--- optim.warmup_cosine{base_lr, warmup = 0, total, final_lr = 0} returns lr(step) for steps
--- counted from 1: a linear ramp reaching base_lr at step `warmup`, then a half cosine
--- reaching final_lr at step `total` (and staying there).
function optim.warmup_cosine(o)
  if type(o) ~= "table" then fail("warmup_cosine", "expected an options table {base_lr, warmup, total, final_lr}") end
  util.check_options("sslua.optim.warmup_cosine", o, { base_lr = "any", warmup = "any", total = "any", final_lr = "any" })
  local base = number(o, "base_lr", nil, "warmup_cosine")
  local warmup = number(o, "warmup", 0, "warmup_cosine", 0)
  local total = number(o, "total", nil, "warmup_cosine", 1)
  local final = number(o, "final_lr", 0, "warmup_cosine")
  if warmup > total then fail("warmup_cosine", "warmup (" .. warmup .. ") exceeds total (" .. total .. ")") end
  return function(step)
    if type(step) ~= "number" then error("sslua.optim.warmup_cosine: step must be a number", 2) end
    if step <= warmup then return base * math.max(step, 0) / math.max(warmup, 1) end
    local t = math.min(1, (step - warmup) / math.max(total - warmup, 1))
    return final + (base - final) * 0.5 * (1 + math.cos(math.pi * t))
  end
end

return optim

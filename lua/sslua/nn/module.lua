-- sslua.nn.Module: the class every module is an instance of (parameters, buffers and children
-- registered by name in order, the state dict with PyTorch's keys, train/eval, printing), and
-- nn.Module{forward = ..., ...}, a module written in Lua. Also is_module and, for the other
-- files of lua/sslua/nn/, the helpers that walk a module tree and make layer classes.
local sslua = require "sslua"
local util = require "sslua.util"
local common = require "sslua.nn.common"

local fail, is_tensor, shape_str, class = common.fail, common.is_tensor, common.shape_str, common.class

local Module = class("Module")

--- Whether `v` is an sslua.nn module.
local function is_module(v)
  if type(v) ~= "table" then return false end
  local mt = getmetatable(v)
  return type(mt) == "table" and type(mt.__name) == "string" and mt.__name:sub(1, 9) == "sslua.nn." and v._params ~= nil
end

-- Sets up the registries every module has; constructors call it first.
function Module._setup(self)
  rawset(self, "_params", {})
  rawset(self, "_buffers", {})
  rawset(self, "_children", {})
  rawset(self, "training", true)
  return self
end

local function new(cls)
  return Module._setup(setmetatable({}, cls))
end

-- Records `name` once in the registry `list` and sets the field.
local function register(self, list, name, v)
  local found = false
  for _, n in ipairs(list) do if n == name then found = true end end
  if not found then list[#list + 1] = name end
  self[name] = v
  return v
end

--- Registers `t` (or nil, e.g. bias=false) as parameter `name`; it is made to require grad.
function Module:register_parameter(name, t)
  if type(name) ~= "string" then fail("Module", "register_parameter: the name must be a string, got " .. type(name), 2) end
  if t ~= nil and not is_tensor(t) then fail("Module", "parameter '" .. name .. "' must be a tensor", 2) end
  if t ~= nil then t:requires_grad_(true) end
  return register(self, self._params, name, t)
end

--- Registers a tensor that is saved in the state dict but not trained (running statistics).
function Module:register_buffer(name, t)
  if type(name) ~= "string" then fail("Module", "register_buffer: the name must be a string, got " .. type(name), 2) end
  if t ~= nil and not is_tensor(t) then fail("Module", "buffer '" .. name .. "' must be a tensor", 2) end
  return register(self, self._buffers, name, t)
end

--- Adds a child module under `name` (a string; Sequential uses "0", "1", ...).
function Module:add_module(name, m)
  if type(name) ~= "string" then fail("Module", "add_module: the name must be a string, got " .. type(name), 2) end
  if m ~= nil and not is_module(m) then fail("Module", "child '" .. tostring(name) .. "' must be a module", 2) end
  return register(self, self._children, name, m)
end

function Module:forward()
  fail(self._type, "forward is not implemented", 2)
end

-- Walks (prefix, module) depth-first in registration order.
local function walk(m, prefix, fn)
  fn(prefix, m)
  for _, name in ipairs(m._children) do
    local c = m[name]
    if c ~= nil then walk(c, prefix .. name .. ".", fn) end
  end
end

-- Iterator over (prefixed name, tensor) of the registry `list_field` (_params or _buffers).
local function named_tensors(self, list_field)
  local out = {}
  walk(self, "", function(prefix, m)
    for _, n in ipairs(m[list_field]) do
      local t = m[n]
      if t ~= nil then out[#out + 1] = { prefix .. n, t } end
    end
  end)
  local i = 0
  return function()
    i = i + 1
    local e = out[i]
    if e then return e[1], e[2] end
  end
end

--- Iterator over (name, parameter) in PyTorch's order and naming.
function Module:named_parameters() return named_tensors(self, "_params") end

--- Iterator over (name, buffer).
function Module:named_buffers() return named_tensors(self, "_buffers") end

--- Iterator over (name, child module) of the direct children.
function Module:named_children()
  local i = 0
  local list = self._children
  return function()
    while true do
      i = i + 1
      local n = list[i]
      if n == nil then return nil end
      if self[n] ~= nil then return n, self[n] end
    end
  end
end

--- The list of parameters (tensors), in order.
function Module:parameters()
  local out = {}
  for _, p in self:named_parameters() do out[#out + 1] = p end
  return out
end

--- Total number of parameter elements.
function Module:num_parameters()
  local n = 0
  for _, p in self:named_parameters() do n = n + p:numel() end
  return n
end

function Module:train(mode)
  if mode == nil then mode = true end
  walk(self, "", function(_, m) m.training = mode and true or false end)
  return self
end

function Module:eval() return self:train(false) end

--- Drops every parameter's gradient (PyTorch's set_to_none).
function Module:zero_grad()
  for _, p in self:named_parameters() do p.grad = nil end
end

--- Ordered list of the state dict's keys.
function Module:state_dict_keys()
  local keys = {}
  walk(self, "", function(prefix, m)
    local names = {}
    for _, n in ipairs(m._params) do if m[n] ~= nil then names[#names + 1] = n end end
    for _, n in ipairs(m._buffers) do if m[n] ~= nil then names[#names + 1] = n end end
    for _, n in ipairs(names) do keys[#keys + 1] = prefix .. n end
  end)
  return keys
end

--- Parameters and buffers by PyTorch name (tensors detached, sharing storage).
function Module:state_dict()
  local out = {}
  walk(self, "", function(prefix, m)
    for _, n in ipairs(m._params) do if m[n] ~= nil then out[prefix .. n] = m[n]:detach() end end
    for _, n in ipairs(m._buffers) do if m[n] ~= nil then out[prefix .. n] = m[n]:detach() end end
  end)
  return out
end

--- Copies a state dict into this module's tensors (in place, so optimizers keep working).
--- Missing or unexpected keys and shape mismatches are errors; {strict = false} ignores the
--- first two and returns the lists of missing and unexpected keys.
function Module:load_state_dict(sd, opts)
  if type(sd) ~= "table" then fail("load_state_dict", "expected a table of tensors, got " .. type(sd), 2) end
  opts = util.check_options("sslua.nn.load_state_dict", opts, { strict = "boolean" })
  local strict = opts.strict ~= false
  local own = {}
  walk(self, "", function(prefix, m)
    for _, n in ipairs(m._params) do if m[n] ~= nil then own[prefix .. n] = m[n] end end
    for _, n in ipairs(m._buffers) do if m[n] ~= nil then own[prefix .. n] = m[n] end end
  end)
  local missing, unexpected, bad = {}, {}, {}
  for _, k in ipairs(self:state_dict_keys()) do
    local v = sd[k]
    if v == nil then missing[#missing + 1] = k
    elseif not is_tensor(v) then bad[#bad + 1] = "'" .. k .. "' is a " .. type(v) .. ", not a tensor"
    else
      local a, b = own[k]:shape(), v:shape()
      local same = #a == #b or (#a == 0 and v:numel() == 1)
      if #a == #b then for i = 1, #a do if a[i] ~= b[i] then same = false end end end
      if not same then
        bad[#bad + 1] = "size mismatch for " .. k .. ": copying a param with shape " .. shape_str(v) ..
          ", the shape in the current model is " .. shape_str(own[k])
      end
    end
  end
  for k in pairs(sd) do
    if type(k) ~= "string" then unexpected[#unexpected + 1] = tostring(k)
    elseif own[k] == nil then unexpected[#unexpected + 1] = k end
  end
  table.sort(unexpected)
  local errs = {}
  if #bad > 0 then errs[#errs + 1] = table.concat(bad, "; ") end
  if strict and #missing > 0 then errs[#errs + 1] = "missing keys: " .. table.concat(missing, ", ") end
  if strict and #unexpected > 0 then errs[#errs + 1] = "unexpected keys: " .. table.concat(unexpected, ", ") end
  if #errs > 0 then
    fail("load_state_dict", "error(s) in loading state dict for " .. self._type .. ": " .. table.concat(errs, "; "), 2)
  end
  sslua.no_grad(function()
    for k, t in pairs(own) do
      local v = sd[k]
      if v ~= nil then
        if t:dim() == 0 then t:copy_(v:reshape({})) else t:copy_(v) end
      end
    end
  end)
  return missing, unexpected
end

-- printing: PyTorch's tree, and the parameter count at the root
function Module:extra_repr() return "" end

function Module:_repr(indent)
  local head = self._type .. "(" .. self:extra_repr()
  if #self._children == 0 then return head .. ")" end
  local lines = { head }
  for name, c in self:named_children() do
    lines[#lines + 1] = indent .. "  (" .. name .. "): " .. c:_repr(indent .. "  ")
  end
  lines[#lines + 1] = indent .. ")"
  return table.concat(lines, "\n")
end

local function group_digits(n)
  local s = tostring(n)
  local out = s:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return (out:gsub("^,", ""))
end

function Module:_tostring_root()
  return self:_repr("") .. "\n" .. group_digits(self:num_parameters()) .. " parameters"
end

-- A layer class with the given forward (and extra_repr); its __init is set by the caller.
local function simple(name, fwd, repr)
  local cls = class(name, Module)
  cls.forward = fwd
  if repr then cls.extra_repr = repr end
  return cls
end

--- nn.Module{forward = function(self, x) ... end, weight = tensor, sub = module, ...}: a module
--- written in Lua. Tensor fields become parameters (made to require grad), module fields
--- children, both named by their keys in sorted order; `buffers = {name = tensor}` adds
--- buffers; `name` sets the printed type; other fields are kept as they are.
function Module:__init(spec)
  if type(spec) ~= "table" then fail("Module", "expected a table {forward = function(self, ...) ... end, ...}", 2) end
  if type(spec.forward) ~= "function" then fail("Module", "the table needs a 'forward' function", 2) end
  Module._setup(self)
  local keys = {}
  for k in pairs(spec) do
    if type(k) ~= "string" then fail("Module", "field keys must be strings, got " .. type(k), 2) end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = spec[k]
    if k == "buffers" and type(v) == "table" and not is_module(v) then
      local bk = {}
      for b in pairs(v) do bk[#bk + 1] = b end
      table.sort(bk)
      for _, b in ipairs(bk) do self:register_buffer(b, v[b]) end
    elseif k == "name" and type(v) == "string" then
      self._type = v
    elseif is_tensor(v) then
      self:register_parameter(k, v)
    elseif is_module(v) then
      self:add_module(k, v)
    else
      self[k] = v
    end
  end
  return self
end

return { Module = Module, is_module = is_module, _walk = walk, _new = new, _simple = simple }

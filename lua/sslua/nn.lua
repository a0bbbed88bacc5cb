-- sslua.nn: neural-network modules in the style of PyTorch's torch.nn (and Torch7's nn).
--
-- Modules are Lua tables; the heavy lifting (convolution, batch norm, pooling, linear) is in
-- the native kernels of sslua._nn, each differentiable through the tensor autograd.
--
--   local nn = require "sslua.nn"
--   local net = nn.Sequential(nn.Conv2d(3, 16, 3, {padding = 1}), nn.BatchNorm2d(16), nn.ReLU(),
--                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))
--   local y = net(x)                       -- or net:forward(x)
--   for name, p in net:named_parameters() do print(name, p:shape()) end   -- "0.weight", ...
--
-- Parameter and buffer names follow PyTorch's (`layer1.0.conv1.weight`, `bn1.running_mean`),
-- so a state dict saved with sslua.save(path, m:state_dict()) loads into the matching
-- torchvision model by name. Initialisation is PyTorch's default (Kaiming-uniform with
-- a = sqrt(5) for conv/linear weights, bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), BN weight 1 and
-- bias 0); nn.resnet uses torchvision's (Kaiming-normal, fan_out, ReLU gain). Every constructor
-- takes an optional {rng = g} (a generator from sslua.rng) and otherwise draws from the global one.
local sslua = require "sslua"
local util = require "sslua.util"
local C = sslua._nn

local nn = {}
local mtype = math.type

-- ---------------------------------------------------------------------------------------------
-- helpers

-- util.fail with this module's prefix; here level 1 is the function calling fail, 2 its caller.
local nn_fail = util.failer("sslua.nn.")
local function fail(where, msg, level) nn_fail(where, msg, level or 1) end

local function is_tensor(v) return getmetatable(v) == "sslua.Tensor" end

-- `depth`: extra frames between the public function and this check (errors point at the caller).
local function pair(v, what, where, min, depth)
  min, depth = min or 0, depth or 0
  if mtype(v) == "integer" or (type(v) == "number" and v == math.floor(v)) then v = { v, v } end
  if type(v) ~= "table" or #v ~= 2 or math.type(v[1]) == nil or math.type(v[2]) == nil then
    fail(where, what .. " must be an integer or a pair of integers, got " .. tostring(v), 3 + depth)
  end
  local a, b = math.tointeger(v[1]), math.tointeger(v[2])
  if not a or not b or a < min or b < min then
    fail(where, what .. " must be integers >= " .. min .. ", got " .. tostring(v[1]) .. "x" .. tostring(v[2]), 3 + depth)
  end
  return a, b
end

-- The options of `where` checked against `spec` (util.check_options): errors at its caller.
local function opts_of(t, where, spec, depth)
  local checked = util.check_options("sslua.nn." .. where, t, spec, 2 + (depth or 0))   -- not a tail call: the level counts this frame
  return checked
end

local function check_int(v, what, where, min)
  local i = math.tointeger(v)
  if not i or i < (min or 1) then fail(where, what .. " must be an integer >= " .. (min or 1) .. ", got " .. tostring(v), 3) end
  return i
end

local function rng_opts(o) return o.rng and { rng = o.rng } or {} end

-- U(-bound, bound) of the given shape, from o.rng or the global generator.
local function uniform(shape, bound, o)
  return sslua.rand(shape, rng_opts(o)) * (2 * bound) - bound
end

local function shape_str(x)
  local s = x:shape()
  if #s == 0 then return "[scalar]" end
  return "[" .. table.concat(s, "x") .. "]"
end

-- ---------------------------------------------------------------------------------------------
-- classes

-- util.class with the module metamethods: m(x) is m:forward(x); nn.Linear(...) runs
-- Linear.__init (errors at level 2 point at the caller: util.class tail-calls it).
local function class(name, parent)
  local cls = util.class("sslua.nn." .. name, parent)
  cls.__call = function(self, ...) return self:forward(...) end
  cls.__tostring = function(self) return self:_tostring_root() end
  cls._type = name
  return cls
end

local Module = class("Module")
nn.ModuleBase = Module

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
  if m ~= nil and not nn.is_module(m) then fail("Module", "child '" .. tostring(name) .. "' must be a module", 2) end
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

--- Whether `v` is an sslua.nn module.
function nn.is_module(v)
  if type(v) ~= "table" then return false end
  local mt = getmetatable(v)
  return type(mt) == "table" and type(mt.__name) == "string" and mt.__name:sub(1, 9) == "sslua.nn." and v._params ~= nil
end

-- ---------------------------------------------------------------------------------------------
-- functional ops (PyTorch's torch.nn.functional, 1-based Lua conventions)

local F = {}
nn.functional = F
nn.F = F

--- conv2d(x, weight[, bias], {stride = 1, padding = 0})
function F.conv2d(x, w, b, o)
  if type(b) == "table" and not is_tensor(b) then o, b = b, nil end
  o = opts_of(o, "conv2d", { stride = "number|table", padding = "number|table", groups = "number", dilation = "number" })
  if o.groups ~= nil and o.groups ~= 1 then fail("conv2d", "only groups = 1 is supported", 2) end
  if o.dilation ~= nil and o.dilation ~= 1 then fail("conv2d", "only dilation = 1 is supported", 2) end
  local sh, sw = pair(o.stride or 1, "stride", "conv2d", 1)
  local ph, pw = pair(o.padding or 0, "padding", "conv2d", 0)
  return C.conv2d(x, w, b, sh, sw, ph, pw)
end

--- linear(x, weight[, bias]): x W^T + b with W of size (out, in).
function F.linear(x, w, b) return C.linear(x, w, b) end

--- batch_norm(x, running_mean, running_var, {weight, bias, training = false, momentum = 0.1, eps = 1e-5})
function F.batch_norm(x, rm, rv, o)
  o = opts_of(o, "batch_norm", { weight = "tensor", bias = "tensor", training = "boolean", momentum = "number",
    eps = "number", relu = "boolean" })
  return C.batch_norm(x, o.weight, o.bias, rm, rv, o.training and true or false,
    o.momentum or 0.1, o.eps or 1e-5, o.relu and true or false)
end

--- max_pool2d(x, kernel[, stride], {padding = 0}); stride defaults to the kernel size.
-- The shared argument reading of the pooling functions: (kernel[, stride], {padding, stride}).
local pool_spec = { stride = "number|table", padding = "number|table", ceil_mode = "boolean" }
local avg_pool_spec = { stride = "number|table", padding = "number|table", ceil_mode = "boolean",
  count_include_pad = "boolean" }

local function pool_args(where, k, s, o, spec)
  if type(s) == "table" and #s == 0 then o, s = s, nil end
  o = opts_of(o, where, spec, 1)
  local kh, kw = pair(k, "kernel size", where, 1, 1)
  local sh, sw = pair(s or o.stride or { kh, kw }, "stride", where, 1, 1)
  local ph, pw = pair(o.padding or 0, "padding", where, 0, 1)
  if o.ceil_mode then fail(where, "ceil_mode is not supported", 3) end
  return o, kh, kw, sh, sw, ph, pw
end

function F.max_pool2d(x, k, s, o)
  local _, kh, kw, sh, sw, ph, pw = pool_args("max_pool2d", k, s, o, pool_spec)
  return C.max_pool2d(x, kh, kw, sh, sw, ph, pw)
end

--- avg_pool2d(x, kernel[, stride], {padding = 0, count_include_pad = true})
function F.avg_pool2d(x, k, s, o)
  local opts, kh, kw, sh, sw, ph, pw = pool_args("avg_pool2d", k, s, o, avg_pool_spec)
  return C.avg_pool2d(x, kh, kw, sh, sw, ph, pw, opts.count_include_pad ~= false)
end

--- adaptive_avg_pool2d(x, size): size is an integer or {h, w}.
function F.adaptive_avg_pool2d(x, size)
  local oh, ow = pair(size, "output size", "adaptive_avg_pool2d", 1)
  return C.adaptive_avg_pool2d(x, oh, ow)
end

-- sslua.relu(x) rather than x:relu(): a non-tensor x is then an error naming the function.
function F.relu(x) return sslua.relu(x) end
function F.leaky_relu(x, a) return sslua.leaky_relu(x, a or 0.01) end

--- relu(a + b) in one pass (the end of a residual block).
function F.add_relu(a, b) return C.add_relu(a, b) end

-- ---------------------------------------------------------------------------------------------
-- layers

local function check_input(where, x, dims)
  if not is_tensor(x) then fail(where, "expected a tensor input, got " .. type(x), 3) end
  local d = x:dim()
  for _, k in ipairs(dims) do if d == k then return end end
  fail(where, "expected a " .. table.concat(dims, "-d or ") .. "-d input, got size " .. shape_str(x), 3)
end

--- nn.Linear(in_features, out_features, {bias = true, rng})
local Linear = class("Linear", Module)
function Linear:__init(nin, nout, o)
  o = opts_of(o, "Linear", { bias = "boolean", rng = "userdata" })
  nin = check_int(nin, "in_features", "Linear", 0)
  nout = check_int(nout, "out_features", "Linear", 0)
  Module._setup(self)
  self.in_features, self.out_features = nin, nout
  local bound = nin > 0 and 1 / math.sqrt(nin) or 0
  self:register_parameter("weight", uniform({ nout, nin }, bound, o))
  if o.bias ~= false then self:register_parameter("bias", uniform({ nout }, bound, o)) end
  return self
end
nn.Linear = Linear

function Linear:forward(x)
  if not is_tensor(x) then fail("Linear", "expected a tensor input, got " .. type(x), 2) end
  if x:dim() == 0 or x:size(-1) ~= self.in_features then
    fail("Linear", "expected input with " .. self.in_features .. " features in its last dimension, got size " .. shape_str(x), 2)
  end
  return C.linear(x, self.weight, self.bias)
end

function Linear:extra_repr()
  return string.format("in_features=%d, out_features=%d, bias=%s", self.in_features, self.out_features,
    tostring(self.bias ~= nil))
end

--- nn.Conv2d(in_channels, out_channels, kernel_size, {stride = 1, padding = 0, bias = true, rng})
local Conv2d = class("Conv2d", Module)
function Conv2d:__init(cin, cout, k, o)
  o = opts_of(o, "Conv2d", { stride = "number|table", padding = "number|table", bias = "boolean", rng = "userdata",
    groups = "number", dilation = "number" })
  cin = check_int(cin, "in_channels", "Conv2d")
  cout = check_int(cout, "out_channels", "Conv2d")
  local kh, kw = pair(k, "kernel size", "Conv2d", 1)
  local sh, sw = pair(o.stride or 1, "stride", "Conv2d", 1)
  local ph, pw = pair(o.padding or 0, "padding", "Conv2d", 0)
  if o.groups ~= nil and o.groups ~= 1 then fail("Conv2d", "only groups = 1 is supported", 2) end
  if o.dilation ~= nil and o.dilation ~= 1 then fail("Conv2d", "only dilation = 1 is supported", 2) end
  Module._setup(self)
  self.in_channels, self.out_channels = cin, cout
  self.kernel_size, self.stride, self.padding = { kh, kw }, { sh, sw }, { ph, pw }
  local fan_in = cin * kh * kw
  local bound = 1 / math.sqrt(fan_in)
  self:register_parameter("weight", uniform({ cout, cin, kh, kw }, bound, o))
  if o.bias ~= false then self:register_parameter("bias", uniform({ cout }, bound, o)) end
  return self
end
nn.Conv2d = Conv2d

function Conv2d:forward(x)
  check_input("Conv2d", x, { 3, 4 })
  local s, p = self.stride, self.padding
  if x:dim() == 3 then
    return C.conv2d(x:unsqueeze(1), self.weight, self.bias, s[1], s[2], p[1], p[2]):squeeze(1)
  end
  return C.conv2d(x, self.weight, self.bias, s[1], s[2], p[1], p[2])
end

function Conv2d:extra_repr()
  local k, s, p = self.kernel_size, self.stride, self.padding
  local r = string.format("%d, %d, kernel_size=(%d, %d), stride=(%d, %d)", self.in_channels, self.out_channels,
    k[1], k[2], s[1], s[2])
  if p[1] ~= 0 or p[2] ~= 0 then r = r .. string.format(", padding=(%d, %d)", p[1], p[2]) end
  if self.bias == nil then r = r .. ", bias=false" end
  return r
end

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
    o = opts_of(o, name, { eps = "number", momentum = "number|boolean", affine = "boolean",
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
function BatchNorm:_forward(x, relu)
  check_input(self._type, x, self._dims)
  if x:size(2) ~= self.num_features then
    fail(self._type, "expected input with " .. self.num_features .. " channels, got size " .. shape_str(x), 3)
  end
  local training = self.training or not self.track_running_stats
  local momentum = self.momentum
  if self.training and self.track_running_stats then
    local nbt = self.num_batches_tracked
    sslua.no_grad(function() nbt:add_(1) end)
    if momentum == false then momentum = 1 / nbt:item() end   -- cumulative moving average
  end
  local rm, rv
  if self.track_running_stats then rm, rv = self.running_mean, self.running_var end
  return C.batch_norm(x, self.weight, self.bias, rm, rv, training, momentum or 0.1, self.eps, relu)
end

function BatchNorm:forward(x) return self:_forward(x, false) end

function BatchNorm:extra_repr()
  return string.format("%d, eps=%g, momentum=%s, affine=%s, track_running_stats=%s", self.num_features, self.eps,
    tostring(self.momentum), tostring(self.affine), tostring(self.track_running_stats))
end

local function simple(name, fwd, repr)
  local cls = class(name, Module)
  cls.forward = fwd
  if repr then cls.extra_repr = repr end
  return cls
end

local ReLU = simple("ReLU", function(_, x) return sslua.relu(x) end)
function ReLU:__init() return Module._setup(self) end
nn.ReLU = ReLU

local LeakyReLU = simple("LeakyReLU", function(self, x) return sslua.leaky_relu(x, self.negative_slope) end,
  function(self) return "negative_slope=" .. tostring(self.negative_slope) end)
function LeakyReLU:__init(a)
  if a ~= nil and type(a) ~= "number" then fail("LeakyReLU", "negative_slope must be a number", 2) end
  Module._setup(self)
  self.negative_slope = a or 0.01
  return self
end
nn.LeakyReLU = LeakyReLU

local Identity = simple("Identity", function(_, x) return x end)
function Identity:__init() return Module._setup(self) end
nn.Identity = Identity

--- nn.Flatten([start_dim = 2[, end_dim = -1]]) (1-based; PyTorch's default flatten(1))
local Flatten = simple("Flatten", function(self, x)
  if not is_tensor(x) then fail("Flatten", "expected a tensor input, got " .. type(x), 2) end
  local d = x:dim()
  local s = self.start_dim < 0 and d + 1 + self.start_dim or self.start_dim
  local e = self.end_dim < 0 and d + 1 + self.end_dim or self.end_dim
  if s < 1 or e > d or s > e then fail("Flatten", "dimensions out of range for size " .. shape_str(x), 2) end
  local sh, out = x:shape(), {}
  for i = 1, s - 1 do out[#out + 1] = sh[i] end
  local m = 1
  for i = s, e do m = m * sh[i] end
  out[#out + 1] = m
  for i = e + 1, d do out[#out + 1] = sh[i] end
  return x:reshape(out)
end, function(self) return "start_dim=" .. self.start_dim .. ", end_dim=" .. self.end_dim end)
function Flatten:__init(s, e)
  Module._setup(self)
  self.start_dim = s and check_int(s, "start_dim", "Flatten", -64) or 2
  self.end_dim = e and check_int(e, "end_dim", "Flatten", -64) or -1
  return self
end
nn.Flatten = Flatten

--- nn.MaxPool2d(kernel[, stride], {padding = 0}); stride defaults to the kernel size.
local function make_pool(name, fn, extra)
  local cls = class(name, Module)
  cls.forward = function(self, x)
    check_input(name, x, { 4 })
    local k, s, p = self.kernel_size, self.stride, self.padding
    return fn(x, k, s, p, self)
  end
  cls.extra_repr = function(self)
    local k, s, p = self.kernel_size, self.stride, self.padding
    return string.format("kernel_size=(%d, %d), stride=(%d, %d), padding=(%d, %d)", k[1], k[2], s[1], s[2], p[1], p[2])
  end
  function cls:__init(k, s, o)
    if type(s) == "table" and #s == 0 then o, s = s, nil end
    o = opts_of(o, name, extra and avg_pool_spec or pool_spec)
    if o.ceil_mode then fail(name, "ceil_mode is not supported", 2) end
    Module._setup(self)
    local kh, kw = pair(k, "kernel size", name, 1)
    local sh, sw = pair(s or o.stride or { kh, kw }, "stride", name, 1)
    local ph, pw = pair(o.padding or 0, "padding", name, 0)
    if ph * 2 > kh or pw * 2 > kw then fail(name, "padding should be at most half of the kernel size", 2) end
    self.kernel_size, self.stride, self.padding = { kh, kw }, { sh, sw }, { ph, pw }
    if extra then extra(self, o) end
    return self
  end
  return cls
end

nn.MaxPool2d = make_pool("MaxPool2d", function(x, k, s, p) return C.max_pool2d(x, k[1], k[2], s[1], s[2], p[1], p[2]) end)
nn.AvgPool2d = make_pool("AvgPool2d", function(x, k, s, p, self)
  return C.avg_pool2d(x, k[1], k[2], s[1], s[2], p[1], p[2], self.count_include_pad)
end, function(self, o) self.count_include_pad = o.count_include_pad ~= false end)

--- nn.AdaptiveAvgPool2d(size): size an integer or {h, w}.
local AdaptiveAvgPool2d = class("AdaptiveAvgPool2d", Module)
function AdaptiveAvgPool2d:__init(size)
  Module._setup(self)
  local h, w = pair(size, "output size", "AdaptiveAvgPool2d", 1)
  self.output_size = { h, w }
  return self
end
nn.AdaptiveAvgPool2d = AdaptiveAvgPool2d
function AdaptiveAvgPool2d:forward(x)
  check_input("AdaptiveAvgPool2d", x, { 4 })
  return C.adaptive_avg_pool2d(x, self.output_size[1], self.output_size[2])
end
function AdaptiveAvgPool2d:extra_repr()
  local o = self.output_size
  if o[1] == o[2] then return "output_size=" .. o[1] end
  return string.format("output_size=(%d, %d)", o[1], o[2])
end

--- nn.Sequential(m1, m2, ...): children named "0", "1", ... as in PyTorch; seq[i] is the
--- i-th module (1-based), #seq their count, seq:add(m) appends and returns seq.
local Sequential = class("Sequential", Module)
Sequential.__index = function(t, k)
  if mtype(k) == "integer" then
    local name = rawget(t, "_children")[k > 0 and k or #rawget(t, "_children") + 1 + k]
    return name and rawget(t, name) or nil
  end
  return Sequential[k]
end
Sequential.__len = function(t) return #rawget(t, "_children") end
function Sequential:__init(...)
  Module._setup(self)
  for i = 1, select("#", ...) do
    local m = select(i, ...)
    if not nn.is_module(m) then fail("Sequential", "argument #" .. i .. " is not a module", 2) end
    self:add(m)
  end
  return self
end
nn.Sequential = Sequential

function Sequential:add(m)
  if not nn.is_module(m) then fail("Sequential", "add expects a module, got " .. type(m), 2) end
  self:add_module(tostring(#self._children), m)
  return self
end

function Sequential:forward(x)
  for _, name in ipairs(self._children) do x = self[name]:forward(x) end
  return x
end

--- nn.Module{forward = function(self, x) ... end, weight = tensor, sub = module, ...}: a module
--- written in Lua. Tensor fields become parameters (made to require grad), module fields
--- children, both named by their keys in sorted order; `buffers = {name = tensor}` adds
--- buffers; `name` sets the printed type; other fields are kept as they are.
local LuaModule = class("Module", Module)
function LuaModule:__init(spec)
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
    if k == "buffers" and type(v) == "table" and not nn.is_module(v) then
      local bk = {}
      for b in pairs(v) do bk[#bk + 1] = b end
      table.sort(bk)
      for _, b in ipairs(bk) do self:register_buffer(b, v[b]) end
    elseif k == "name" and type(v) == "string" then
      self._type = v
    elseif is_tensor(v) then
      self:register_parameter(k, v)
    elseif nn.is_module(v) then
      self:add_module(k, v)
    else
      self[k] = v
    end
  end
  return self
end
nn.Module = LuaModule

-- ---------------------------------------------------------------------------------------------
-- ResNets (torchvision's BasicBlock family)

-- torchvision's ResNet init: Kaiming-normal with fan_out and the ReLU gain.
local function kaiming_normal_fan_out(conv, o)
  local w = conv.weight
  local s = w:shape()
  local std = math.sqrt(2 / (s[1] * s[3] * s[4]))
  sslua.no_grad(function() w:copy_(sslua.randn(s, rng_opts(o)) * std) end)
end

local function conv3x3(cin, cout, stride, o)
  local c = nn.Conv2d(cin, cout, 3, { stride = stride, padding = 1, bias = false, rng = o.rng })
  kaiming_normal_fan_out(c, o)
  return c
end

--- torchvision's BasicBlock: conv3x3-BN-ReLU-conv3x3-BN, plus the (downsampled) input, ReLU.
local BasicBlock = class("BasicBlock", Module)
function BasicBlock:__init(inplanes, planes, stride, o)
  o = opts_of(o, "BasicBlock", { rng = "userdata" })
  inplanes = check_int(inplanes, "inplanes", "BasicBlock")
  planes = check_int(planes, "planes", "BasicBlock")
  stride = check_int(stride or 1, "stride", "BasicBlock")
  Module._setup(self)
  self:add_module("conv1", conv3x3(inplanes, planes, stride, o))
  self:add_module("bn1", nn.BatchNorm2d(planes))
  self:add_module("relu", nn.ReLU())
  self:add_module("conv2", conv3x3(planes, planes, 1, o))
  self:add_module("bn2", nn.BatchNorm2d(planes))
  if stride ~= 1 or inplanes ~= planes then
    local c = nn.Conv2d(inplanes, planes, 1, { stride = stride, bias = false, rng = o.rng })
    kaiming_normal_fan_out(c, o)
    self:add_module("downsample", nn.Sequential(c, nn.BatchNorm2d(planes)))
  end
  return self
end
nn.BasicBlock = BasicBlock

function BasicBlock:forward(x)
  local out = self.bn1:_forward(self.conv1:forward(x), true)
  out = self.bn2:forward(self.conv2:forward(out))
  local identity = self.downsample and self.downsample:forward(x) or x
  return C.add_relu(out, identity)
end

local ResNet = class("ResNet", Module)

local depths = { [18] = { 2, 2, 2, 2 }, [34] = { 3, 4, 6, 3 } }

--- nn.resnet{blocks = {2, 2, 2, 2}, width = 64, in_channels = 3, cifar = true, depth = 18|34, rng}
--- An encoder (no classifier): output (N, width * 2^(#blocks - 1)). The CIFAR stem is a 3x3
--- stride-1 conv without max-pool; otherwise torchvision's 7x7 stride-2 conv and 3x3 max-pool.
--- With num_classes = K a classifier `fc` (Linear(out, K)) follows, as in torchvision, so
--- nn.resnet18{cifar = false, num_classes = K} loads torchvision's resnet18(num_classes = K).
local resnet_spec = { blocks = "table", width = "integer", in_channels = "integer", cifar = "boolean",
  depth = "integer", rng = "userdata", num_classes = "integer" }

function nn.resnet(o)
  o = opts_of(o, "resnet", resnet_spec)
  local blocks = o.blocks
  if o.depth ~= nil then
    if blocks ~= nil then fail("resnet", "give either depth or blocks, not both", 2) end
    blocks = depths[o.depth]
    if not blocks then fail("resnet", "depth must be 18 or 34 (BasicBlock ResNets), got " .. tostring(o.depth), 2) end
  end
  blocks = blocks or depths[18]
  if type(blocks) ~= "table" or #blocks == 0 then fail("resnet", "blocks must be a non-empty list of block counts", 2) end
  for i, b in ipairs(blocks) do check_int(b, "blocks[" .. i .. "]", "resnet", 1) end
  local width = check_int(o.width or 64, "width", "resnet")
  local cin = check_int(o.in_channels or 3, "in_channels", "resnet")
  local cifar = o.cifar ~= false
  local self = new(ResNet)
  if cifar then
    self:add_module("conv1", conv3x3(cin, width, 1, o))
  else
    local c = nn.Conv2d(cin, width, 7, { stride = 2, padding = 3, bias = false, rng = o.rng })
    kaiming_normal_fan_out(c, o)
    self:add_module("conv1", c)
  end
  self:add_module("bn1", nn.BatchNorm2d(width))
  self:add_module("relu", nn.ReLU())
  if not cifar then self:add_module("maxpool", nn.MaxPool2d(3, 2, { padding = 1 })) end
  local inplanes = width
  for i, nb in ipairs(blocks) do
    local planes = width * 2 ^ (i - 1)
    planes = math.tointeger(planes)
    local layer = nn.Sequential()
    for j = 1, nb do
      layer:add(nn.BasicBlock(inplanes, planes, (j == 1 and i > 1) and 2 or 1, { rng = o.rng }))
      inplanes = planes
    end
    self:add_module("layer" .. i, layer)
  end
  self:add_module("avgpool", nn.AdaptiveAvgPool2d(1))
  self:add_module("flatten", nn.Flatten())
  self.out_features = inplanes
  if o.num_classes ~= nil then
    local k = check_int(o.num_classes, "num_classes", "resnet")
    self:add_module("fc", nn.Linear(inplanes, k, { rng = o.rng }))
    self.out_features = k
  end
  self.cifar = cifar
  return self
end

function ResNet:forward(x)
  check_input("ResNet", x, { 4 })
  local w = self.conv1.weight
  if x:size(2) ~= w:size(2) then
    fail("ResNet", "expected input with " .. w:size(2) .. " channels, got size " .. shape_str(x), 2)
  end
  x = self.bn1:_forward(self.conv1:forward(x), true)
  if self.maxpool then x = self.maxpool:forward(x) end
  local i = 1
  while self["layer" .. i] do
    x = self["layer" .. i]:forward(x)
    i = i + 1
  end
  x = self.flatten:forward(self.avgpool:forward(x))
  if self.fc then x = self.fc:forward(x) end
  return x
end

--- nn.resnet18{in_channels = 3, cifar = true, num_classes, rng}: ResNet-18, 512-d output (no
--- classifier unless num_classes is given).
function nn.resnet18(o)
  o = opts_of(o, "resnet18", resnet_spec)
  local c = {}
  for k, v in pairs(o) do c[k] = v end
  if c.blocks ~= nil or c.depth ~= nil then fail("resnet18", "blocks/depth are fixed for resnet18", 2) end
  c.depth = 18
  return nn.resnet(c)
end

function nn.resnet34(o)
  o = opts_of(o, "resnet34", resnet_spec)
  local c = {}
  for k, v in pairs(o) do c[k] = v end
  c.depth = 34
  return nn.resnet(c)
end

--- nn.projector{dims = {512, 128}, bias = true, rng}: a Linear when #dims == 2; otherwise an
--- MLP Sequential with Linear-BatchNorm1d-ReLU between layers and a final Linear.
function nn.projector(o)
  o = opts_of(o, "projector", { dims = "table", bias = "boolean", rng = "userdata" })
  local dims = o.dims
  if type(dims) ~= "table" or #dims < 2 then fail("projector", "dims must list at least 2 sizes, e.g. {512, 128}", 2) end
  for i, d in ipairs(dims) do check_int(d, "dims[" .. i .. "]", "projector") end
  local lo = { bias = o.bias, rng = o.rng }
  if #dims == 2 then return nn.Linear(dims[1], dims[2], lo) end
  local seq = nn.Sequential()
  for i = 1, #dims - 1 do
    seq:add(nn.Linear(dims[i], dims[i + 1], lo))
    if i < #dims - 1 then
      seq:add(nn.BatchNorm1d(dims[i + 1]))
      seq:add(nn.ReLU())
    end
  end
  return seq
end

-- ---------------------------------------------------------------------------------------
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
  local dist = sslua.dist
  local training = self.training or not self.track_running_stats
  if not training or dist.size() == 1 then return BatchNorm._forward(self, x, relu) end
  check_input(self._type, x, self._dims)
  local c = self.num_features
  if x:size(2) ~= c then
    fail(self._type, "expected input with " .. c .. " channels, got size " .. shape_str(x), 3)
  end
  -- (C, everything else) for the statistics.
  local xc = x:transpose(1, 2):reshape(c, -1)
  local m = xc:size(2)
  local function as(t, dt) if t:dtype() == dt then return t end return dt == "float64" and t:double() or t:float() end
  local shift = self.track_running_stats and as(self.running_mean, x:dtype()) or sslua.zeros(c, { dtype = x:dtype() })
  local d = xc:sub(shift:view(c, 1))
  local stats = sslua.cat({ d:sum(2), d:mul(d):sum(2), sslua.tensor({ m }, { dtype = x:dtype() }) })
  stats = dist.all_reduce(stats)
  local total = stats:narrow(1, 2 * c + 1, 1):item()
  if total < 1 or (total == 1 and self.training) then
    fail(self._type, "expected more than 1 value per channel when training, got " .. total .. " over all ranks", 3)
  end
  local mean_d = stats:narrow(1, 1, c):div(total)
  local var = stats:narrow(1, c + 1, c):div(total):sub(mean_d:mul(mean_d))
  local mean = mean_d:add(shift)
  local bshape = { 1, c }
  for _ = 3, x:dim() do bshape[#bshape + 1] = 1 end
  local y = x:sub(mean:view(table.unpack(bshape))):div(var:add(self.eps):sqrt():view(table.unpack(bshape)))
  if self.affine then
    y = y:mul(self.weight:view(table.unpack(bshape))):add(self.bias:view(table.unpack(bshape)))
  end
  if self.training and self.track_running_stats then
    local nbt = self.num_batches_tracked
    local momentum = self.momentum
    sslua.no_grad(function()
      nbt:add_(1)
      if momentum == false then momentum = 1 / nbt:item() end
      local unbiased = var:mul(total / math.max(total - 1, 1))
      self.running_mean:mul_(1 - momentum):add_(as(mean:detach():mul(momentum), self.running_mean:dtype()))
      self.running_var:mul_(1 - momentum):add_(as(unbiased:detach():mul(momentum), self.running_var:dtype()))
    end)
  end
  if relu then y = sslua.relu(y) end
  return y
end

--- nn.convert_sync_batchnorm(model) -> model: every BatchNorm1d/BatchNorm2d in `model` (or
--- `model` itself) becomes a SyncBatchNorm in place, keeping its parameters, buffers and
--- options, as torch.nn.SyncBatchNorm.convert_sync_batchnorm.
function nn.convert_sync_batchnorm(model)
  if not nn.is_module(model) then fail("convert_sync_batchnorm", "expected a module, got " .. type(model), 2) end
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
  o = opts_of(o, where, { batch = "integer", rng = "userdata" })
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

-- ---------------------------------------------------------------------------------------
-- Momentum (EMA) targets and predictor heads for BYOL, SimSiam and MoCo.

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
  if mt ~= nil and not nn.is_module(v) then return v end
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
  o = opts_of(o, "ema", { momentum = "number", buffers = "string" })
  if not nn.is_module(model) then fail("ema", "expected a module, got " .. type(model), 3) end
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
  o = opts_of(o, "EMA:update", { momentum = "number" })
  if not nn.is_module(online) then fail("EMA:update", "expected the online module, got " .. type(online), 2) end
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

--- nn.predictor{dims = {d, hidden, d}, bias = true, rng}: BYOL's and SimSiam's prediction
--- head, Linear(d, hidden) - BatchNorm1d(hidden) - ReLU - Linear(hidden, d), a Sequential.
function nn.predictor(o)
  o = opts_of(o, "predictor", { dims = "table", bias = "boolean", rng = "userdata" })
  local dims = o.dims
  if type(dims) ~= "table" or #dims ~= 3 then
    fail("predictor", "dims must list 3 sizes {d, hidden, d}, e.g. {128, 512, 128}", 2)
  end
  for i, d in ipairs(dims) do check_int(d, "dims[" .. i .. "]", "predictor") end
  local lo = { bias = o.bias, rng = o.rng }
  return nn.Sequential(nn.Linear(dims[1], dims[2], lo), nn.BatchNorm1d(dims[2]), nn.ReLU(),
                       nn.Linear(dims[2], dims[3], lo))
end

--- nn.Queue(size, dim [, {rng, dtype}]): MoCo's dictionary of negatives, a module with buffers
--- `queue` (size x dim, one key per row, initialised as the reference: standard normal rows,
--- normalised) and `queue_ptr` (the next row to write, 0-based as the reference), so it is
--- saved with the state dict. `q:enqueue(k)` writes the rows of k (normalised, detached) FIFO,
--- overwriting the oldest and wrapping around; a batch longer than the queue keeps its last
--- `size` rows. `q.queue` (or `q:keys()`) is what loss.moco takes.
local Queue = class("Queue", Module)
function Queue:__init(size, dim, o)
  o = opts_of(o, "Queue", { rng = "userdata", dtype = "string" }, 1)
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

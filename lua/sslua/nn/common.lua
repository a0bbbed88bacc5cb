-- The helpers the files of sslua.nn share (argument checks, errors, initialisation, the class
-- maker); private to lua/sslua/nn/. Every check raises "sslua.nn.<where>: ..." at the line of
-- the caller of the public function: the `level`/`depth` arguments count the frames between.
local sslua = require "sslua"
local util = require "sslua.util"

local common = {}
local mtype = math.type

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

-- opts_of(where, t, spec[, depth]): the options of `where` checked against `spec`
-- (util.check_options); errors at the caller of the public function.
local opts_of = util.options_checker("sslua.nn.")

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

-- The options of the pooling layers and functions.
local pool_spec = { stride = "number|table", padding = "number|table", ceil_mode = "boolean" }
local avg_pool_spec = { stride = "number|table", padding = "number|table", ceil_mode = "boolean",
  count_include_pad = "boolean" }

-- `x` must be a tensor with one of the dimension counts `dims`.
local function check_input(where, x, dims)
  if not is_tensor(x) then fail(where, "expected a tensor input, got " .. type(x), 3) end
  local d = x:dim()
  for _, k in ipairs(dims) do if d == k then return end end
  fail(where, "expected a " .. table.concat(dims, "-d or ") .. "-d input, got size " .. shape_str(x), 3)
end

-- util.class with the module metamethods: m(x) is m:forward(x); nn.Linear(...) runs
-- Linear.__init (errors at level 2 point at the caller: util.class tail-calls it).
local function class(name, parent)
  local cls = util.class("sslua.nn." .. name, parent)
  cls.__call = function(self, ...) return self:forward(...) end
  cls.__tostring = function(self) return self:_tostring_root() end
  cls._type = name
  return cls
end

common.sslua, common.C = sslua, sslua._nn
common.fail, common.is_tensor, common.pair, common.opts_of = fail, is_tensor, pair, opts_of
common.check_int, common.rng_opts, common.uniform, common.shape_str = check_int, rng_opts, uniform, shape_str
common.pool_spec, common.avg_pool_spec, common.check_input, common.class = pool_spec, avg_pool_spec, check_input, class

return common

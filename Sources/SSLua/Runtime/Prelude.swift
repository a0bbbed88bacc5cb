/// The Lua half of the toolkit's bootstrap: builds `sslua` from the native tables, gives
/// tensors their metatable (indexing, operators with a number on either side, printing), and
/// makes every submodule both a field and `require`-able. Kept in Lua because it is glue.
enum Prelude {
    static let source = #"""
local natives, version = ...
local sslua = natives.sslua or {}
local T = natives.Tensor
local mt = debug.getregistry()["sslua.Tensor"]
local select_, setindex, getgrad, setgrad = T.select, T._setindex, T._getgrad, T._setgrad
local fields = { requires_grad = T._requires_grad, is_leaf = T._is_leaf, grad_fn = T._grad_fn }
local setrg = T._set_requires_grad
local mtype, tointeger = math.type, math.tointeger

-- One rule for integral floats (as every native index argument): x[2.0] is x[2]; x[2.5] is an error.
local function index_of(k, what)
  local i = tointeger(k)
  if i == nil then error("sslua.Tensor: " .. what .. " " .. tostring(k) .. " is not an integer", 3) end
  return i
end

mt.__name = "sslua.Tensor"
mt.__index = function(t, k)
  local m = T[k]
  if m ~= nil then return m end
  if mtype(k) == "integer" then return select_(t, 1, k) end
  if mtype(k) == "float" then return select_(t, 1, index_of(k, "index")) end
  if k == "grad" then return getgrad(t) end
  local f = fields[k]
  if f then return f(t) end
  return nil
end
-- a field setter's error names the field and points at the assignment
local function setfield(name, f, t, v)
  local ok, err = pcall(f, t, v)
  if not ok then error("sslua.Tensor." .. name .. ": " .. (tostring(err):gsub("^.-sslua%._[%w_]+: ", "")), 3) end
end
mt.__newindex = function(t, k, v)
  if mtype(k) == "integer" then return setindex(t, k, v) end
  if mtype(k) == "float" then return setindex(t, index_of(k, "index"), v) end
  if k == "grad" then return setfield("grad", setgrad, t, v) end
  if k == "requires_grad" then return setfield("requires_grad", setrg, t, v) end
  error("sslua.Tensor: cannot set field '" .. tostring(k) .. "'", 2)
end
mt.__add, mt.__sub, mt.__mul, mt.__div, mt.__pow = T.add, T.sub, T.mul, T.div, T.pow
mt.__unm = T.neg
mt.__len = function(t) return T.size(t, 1) end
mt.__tostring = T._tostring
mt.__close = T.__gc
mt.__gc = T.__gc
T.__gc = nil
mt.__metatable = "sslua.Tensor"

-- Methods double as functions: sslua.mm(a, b) == a:mm(b).
for k, v in pairs(T) do
  if k:sub(1, 1) ~= "_" and sslua[k] == nil then sslua[k] = v end
end
sslua.Tensor = T
sslua._VERSION = "sslua " .. version
sslua.version = version

-- Generators (sslua.rng(seed)) have methods: g:state(), g:set_state(s), g:seed().
local gmt = debug.getregistry()["sslua.Generator"]
if gmt and natives["sslua.Generator"] then gmt.__index = natives["sslua.Generator"] end

-- Native submodules (sslua.linalg, ...) are fields and requireable.
for name, tbl in pairs(natives) do
  local sub = name:match("^sslua%.([%w_]+)$")
  if sub then
    sslua[sub] = tbl
    package.loaded[name] = tbl
  end
end

-- Pure-Lua submodules (lua/sslua/*.lua) load on first use: sslua.nn == require "sslua.nn".
setmetatable(sslua, { __index = function(t, k)
  if type(k) ~= "string" or k:sub(1, 1) == "_" then return nil end
  local name = "sslua." .. k
  if package.loaded[name] == nil and not package.searchpath(name, package.path) then return nil end
  local m = require(name)
  rawset(t, k, m)
  return m
end })

package.loaded.sslua = sslua
_G.sslua = sslua
"""#
}

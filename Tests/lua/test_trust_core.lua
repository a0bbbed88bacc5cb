-- Issue 10 ("Trust I"), the tensor core: the reproducers that crashed the program (stack
-- overflow in nested pushes, stride overflow beside a zero-size dimension), returned garbage
-- (a gemm with an empty inner dimension), smeared values (overlapping copies) or miscounted
-- (arange near maxinteger, x[2.0]). Crash reproducers run in a child process, so a signal
-- fails this file instead of ending it silently.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local S = sslua

local exe = require("sslua.experiment").interpreter()
local q = require("sslua.experiment").shell_quote

-- Runs `code` in a fresh sslua; it must exit normally and print "CHILD-OK".
local function in_child(code, what)
  local p = io.popen(("%s -e %s 2>&1"):format(q(exe), q(code .. '\nprint("CHILD-OK")')))
  local out = p:read("a")
  local ok = p:close()
  if not ok or not out:find("CHILD-OK", 1, true) then
    error(what .. ": the child process failed (crash or error):\n" .. out, 2)
  end
  return out
end

-- 1. Stack: totable of many dims, callbacks with many arguments (each used to write past
-- the Lua stack: a segfault or a corrupted heap).
in_child([[
local t = {} for i = 1, 300 do t[i] = 1 end
local ok, err = pcall(function() return sslua.totable(sslua.zeros(t)) end)
assert(not ok and tostring(err):find("too many dimensions", 1, true), tostring(err))
local u = {} for i = 1, 64 do u[i] = 1 end
local r = sslua.totable(sslua.full(u, 5))
for _ = 1, 63 do assert(type(r) == "table" and #r == 1); r = r[1] end
assert(r[1] == 5, "innermost value")
]], "totable of 300 and of 64 dims")
in_child([[
local xs = {} for i = 1, 400 do xs[i] = sslua.zeros(0, { dtype = "float64" }) end
local ok = sslua.grad_check(function(...) return sslua.tensor(0.0, { dtype = "float64" }) end, xs)
assert(ok == true)
]], "grad_check with 400 inputs")
in_child([[
local nn = sslua.nn
local m = nn.Sequential(nn.Linear(2, 2))
for _ = 1, 62 do m = nn.Sequential(m) end
local n = sslua.geom.linear_regions(m, sslua.randn(5, 2))
assert(n == 1, "an affine map has one region")
]], "linear_regions of a deeply nested Sequential")

-- the dimension cap is the same for every way of making a tensor
local d65 = {} for i = 1, 65 do d65[i] = 1 end
check.errors(function() return S.zeros(d65) end, "too many dimensions")
check.errors(function() return S.ones(1):reshape(d65) end, "too many dimensions")
local d64 = {} for i = 1, 64 do d64[i] = 1 end
check.errors(function() return S.zeros(d64):unsqueeze(1) end, "too many dimensions")
check.eq(S.zeros(d64):dim(), 64, "64 dims are allowed")

-- 2. Shape and stride overflow beside a zero-size dimension (SIGILL before).
in_child([[
local function refuses(f, what)
  local ok, err = pcall(f)
  assert(not ok and tostring(err):find("too large", 1, true), what .. ": " .. tostring(err))
end
refuses(function() return sslua.zeros(0, 2^62, 2^62) end, "zeros")
refuses(function() return sslua.zeros(0, 1, 1):expand(0, 1 << 62, 1 << 62):contiguous() end, "expand")
refuses(function() return sslua.zeros(0):reshape(0, 1 << 62, 1 << 62) end, "reshape")
refuses(function() return sslua.rand({ 0, 1 << 40, 1 << 40 }) end, "rand")
refuses(function() return sslua.zeros(0, 1 << 40, 1):add(sslua.zeros(0, 1, 1 << 40)) end, "broadcast")
refuses(function() return sslua.full({ 1 << 40, 0, 1 << 40 }, 1) end, "full")
]], "zero-size dimension beside huge ones")
-- what fits is still allowed, and its views are consistent
local z = S.zeros(0, 1 << 20, 1 << 20)
check.eq(z:numel(), 0, "zero elements")
check.eq(z:transpose(1, 3):contiguous():numel(), 0, "a view of it")
check.eq(S.cat({ z, z }, 1):numel(), 0, "cat of it")

-- 3. Empty inner dimensions: results are written, never left uninitialised.
local function dirty() local junk = S.full({ 512, 512 }, 7); junk = nil; collectgarbage() end
for _ = 1, 3 do
  dirty()
  local y = S._nn.linear(S.zeros(4, 0), S.zeros(3, 0), S.tensor { 1, 2, 3 })
  check.near(y, { { 1, 2, 3 }, { 1, 2, 3 }, { 1, 2, 3 }, { 1, 2, 3 } }, 0, "linear with 0 input features: the bias")
  dirty()
  check.near(S.nn.Linear(0, 3)(S.zeros(2, 0)), { { 0, 0, 0 }, { 0, 0, 0 } }, 0, "nn.Linear(0, 3)")
  dirty()
  check.near(S._nn.linear(S.zeros(2, 5, 0), S.zeros(2, 0), nil), S.zeros(2, 5, 2), 0, "linear without bias, 3-d input")
end
dirty()
check.near(S.zeros(2, 0):mm(S.zeros(0, 3)), S.zeros(2, 3), 0, "mm with k = 0")
check.near(S.zeros(2, 2, 0):bmm(S.zeros(2, 0, 3)), S.zeros(2, 2, 3), 0, "bmm with k = 0")
check.near(S.zeros(2, 3, 0):matmul(S.zeros(0, 4)), S.zeros(2, 3, 4), 0, "matmul (batch) with k = 0")
check.near(S.zeros(2, 3, 0):matmul(S.zeros(2, 0, 4)), S.zeros(2, 3, 4), 0, "matmul (bmm) with k = 0")
check.near(S.zeros(3, 0):sum(2), { 0, 0, 0 }, 0, "sum over an empty dimension")
check.truthy(S.zeros(0):mean():item() ~= S.zeros(0):mean():item(), "mean of an empty tensor is NaN (PyTorch)")
check.truthy(S.zeros(3, 0):mean(2)[1]:item() ~= S.zeros(3, 0):mean(2)[1]:item(), "mean over an empty dim is NaN")
check.eq(S.zeros(0):sum():item(), 0, "sum of an empty tensor")
for _, v in ipairs(S.zeros(3, 0):logsumexp(2):totable()) do check.eq(v, -math.huge, "logsumexp of nothing") end
local y = S._nn.conv2d(S.zeros(2, 0, 5, 5), S.zeros(3, 0, 3, 3), S.tensor { 1, 2, 3 }, 1, 1, 0, 0)
check.eq(y:sum():item(), 2 * 9 * (1 + 2 + 3), "conv2d with 0 input channels is its bias")
do  -- the backward of linear with no input features
  local w = S.zeros(3, 0):requires_grad_()
  local b = S.tensor({ 1, 2, 3 }):requires_grad_()
  S._nn.linear(S.zeros(4, 0), w, b):sum():backward()
  check.near(b.grad, { 4, 4, 4 }, 0, "bias gradient over 4 rows")
  check.eq(w.grad:numel(), 0, "empty weight gradient")
end

-- 4. Overlapping source and destination: the result of copying the source first.
local function ref_inplace(x, dst, src, op)   -- dst/src: functions of x giving views
  local xc = x:clone()
  local s = src(xc):clone()
  local d = dst(xc)
  if op == "copy_" then d:copy_(s) else d[op](d, s) end
  return xc
end
local views = {
  { "narrow(2..6) <- narrow(1..5)", function(x) return x:narrow(1, 2, 5) end, function(x) return x:narrow(1, 1, 5) end },
  { "narrow(1..5) <- narrow(2..6)", function(x) return x:narrow(1, 1, 5) end, function(x) return x:narrow(1, 2, 5) end },
  { "narrow(3..8) <- narrow(1..6)", function(x) return x:narrow(1, 3, 6) end, function(x) return x:narrow(1, 1, 6) end },
  { "self <- self", function(x) return x end, function(x) return x end },
}
for _, v in ipairs(views) do
  for _, op in ipairs { "copy_", "add_", "sub_", "mul_", "div_", "pow_" } do
    local x = S.arange(1, 8, { dtype = "float64" })
    local want = ref_inplace(x, v[2], v[3], op)
    local d = v[2](x)
    d[op](d, v[3](x))
    check.near(x, want, 1e-12, op .. " " .. v[1])
  end
end
do  -- the issue's reproducer, by value
  local x = S.arange(1, 8)
  x:narrow(1, 2, 5):copy_(x:narrow(1, 1, 5))
  check.near(x, { 1, 1, 2, 3, 4, 5, 7, 8 }, 0, "x:narrow(1,2,5):copy_(x:narrow(1,1,5))")
end
do  -- 2-d: a matrix and its own transpose, a row broadcast from the same matrix
  local a = S.arange(1, 9, { dtype = "float64" }):reshape(3, 3)
  local want = a:clone():add(a:t():clone())
  a:add_(a:t())
  check.near(a, want, 0, "a:add_(a:t())")
  local b = S.arange(1, 9, { dtype = "float64" }):reshape(3, 3)
  local wantb = b:clone():add(b:narrow(1, 1, 1):clone())
  b:add_(b:narrow(1, 1, 1))
  check.near(b, wantb, 0, "b:add_(its first row, broadcast)")
  local c = S.arange(1, 9, { dtype = "float64" }):reshape(3, 3)
  local wantc = c:t():clone()
  c:copy_(c:t())
  check.near(c, wantc, 0, "c:copy_(c:t())")
  local e = S.arange(1, 6, { dtype = "float64" })
  local wante = e:clone()
  wante[2] = 1; wante[3] = 2; wante[4] = 3
  e:narrow(1, 2, 3):copy_(e:narrow(1, 1, 3):clone())
  check.near(e, wante, 0, "copy_ of a clone (no overlap)")
end
do  -- x[i] = (a view of x) goes through the same copy
  local x = S.arange(1, 9, { dtype = "float64" }):reshape(3, 3)
  local want = x:clone()
  want[1] = x:select(2, 1):clone()
  x[1] = x:select(2, 1)
  check.near(x, want, 0, "x[1] = x:select(2, 1)")
end

-- 5. arange near the integer limits, with many threads; integral floats as indices.
local t0 = S.threads()
S.threads(64)
local big = S.arange(math.maxinteger - 2, math.maxinteger, { dtype = "float64" })
check.eq(big:numel(), 3, "arange(maxint - 2, maxint) has 3 elements")
check.eq(S.arange(math.mininteger, math.mininteger + 2):numel(), 3, "arange at mininteger")
check.eq(S.arange(5, 1, -2):numel(), 3, "arange(5, 1, -2)")
check.eq(S.arange(1, 0):numel(), 0, "empty arange")
check.errors(function() return S.arange(math.mininteger, math.maxinteger) end, "range too large")
check.errors(function() return S.arange(1, 5, 0) end, "nonzero")
S.threads(t0)
local v = S.tensor { 10, 20, 30 }
check.eq(v[2.0]:item(), 20, "x[2.0] is x[2]")
check.eq(v[-1.0]:item(), 30, "x[-1.0] is x[-1]")
check.eq(v:get(2.0), 20, "x:get(2.0)")
v[3.0] = 7
check.eq(v:get(3), 7, "x[3.0] = 7")
check.errors(function() return v[2.5] end, "sslua.Tensor: index 2.5 is not an integer")
check.errors(function() v[1.5] = 1 end, "sslua.Tensor: index 1.5 is not an integer")
check.errors(function() return v:get(2.5) end, "sslua.get")
check.errors(function() return v:select(1, 0 / 0) end, "sslua.select")
check.eq(S.zeros({ 2.0, 3.0 }):numel(), 6, "sizes given as integral floats")
check.eq(S.zeros(2.0, 3.0):numel(), 6, "size arguments as integral floats")
check.errors(function() return S.zeros({ 2.5 }) end, "sslua.zeros")
check.errors(function() return S.zeros(2.5) end, "sslua.zeros")
check.eq(S.ones(2, 3):sum(2.0):numel(), 2, "a dimension as an integral float")
check.eq(S.ones(2, 3):permute({ 2.0, 1.0 }):size(1), 3, "permute with integral floats")
print("trust core: ok")

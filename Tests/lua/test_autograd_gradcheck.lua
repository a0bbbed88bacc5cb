-- Every differentiable op against float64 central finite differences (sslua.grad_check).
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local S = sslua
local g = S.rng(11)
local function rn(...) return S.randn({...}, {rng = g}) end
-- values kept away from kinks (relu, abs, clamp) and ties (max, sort)
local function away(...) local t = rn(...); return t + t:sign() * 0.2 end
local function pos(...) return S.rand({...}, {rng = g}) + 0.5 end

local function gc(name, fn, inputs, opts)
  local ok, err, msg = S.grad_check(fn, inputs, opts)
  if not ok then error(name .. ": " .. tostring(msg) .. " (max error " .. tostring(err) .. ")", 2) end
  check.truthy(err < 1e-3, name .. " max error")
end

-- elementwise, unary
local a, b = away(3, 4), away(3, 4)
for _, op in ipairs{"neg", "exp", "sigmoid", "tanh", "relu", "abs", "square", "sin", "cos"} do
  gc(op, function(x) return (x[op](x) * S.tensor{1, 2, 3, 4}):sum() end, {a})
end
gc("log", function(x) return x:log():sum() end, {pos(5)})
gc("sqrt", function(x) return x:sqrt():sum() end, {pos(5)})
gc("leaky_relu", function(x) return x:leaky_relu(0.1):sum() end, {a})
gc("clamp", function(x) return (x:clamp(-0.5, 0.7) * x):sum() end, {a})
gc("clamp lower only", function(x) return x:clamp(0.1):sum() end, {a})

-- binary ops, scalars on either side, and broadcasting (gradients summed back)
gc("add/sub/mul/div", function(x, y) return ((x + y) * (x - y) / (y * y + 1)):sum() end, {a, b})
gc("scalars", function(x) return (2 - x * 3 + 1 / (x * x + 1) - x / 4):sum() end, {a})
gc("broadcast row", function(x, r) return (x * r + r):sum() end, {a, rn(4)})
gc("broadcast column", function(x, c) return (x / (c * c + 1) - c):sum() end, {a, rn(3, 1)})
gc("broadcast both", function(c, r) return (c * r):exp():sum() end, {rn(3, 1), rn(1, 4)})
gc("pow both args", function(x, y) return (x ^ y):sum() end, {pos(3, 4), rn(3, 4)})
gc("pow broadcast exponent", function(x, y) return x:pow(y):sum() end, {pos(3, 4), rn(4)})
gc("pow scalar exponent", function(x) return (x ^ 3):sum() end, {rn(5)})
gc("scalar base", function(y) return (S.tensor(2.5) ^ y):sum() end, {rn(5)})
gc("maximum/minimum", function(x, y) return (x:maximum(y) * 2 + x:minimum(y)):sum() end, {a, b})

-- reductions with dims and keepdim
local w = rn(3, 4)
gc("sum all", function(x) return (x:sum() * x:sum()) end, {a})
gc("sum dim", function(x) return (x:sum(1) * S.tensor{1, 2, 3, 4}):sum() end, {a})
gc("sum keepdim", function(x) return (x:sum(2, true) * x):sum() end, {a})
gc("mean", function(x) return x:mean() * x:mean(2):sum() end, {a})
gc("mean keepdim", function(x) return (x - x:mean(1, true)):square():sum() end, {a})
gc("max dim", function(x) local v = x:max(2); return (v * v):sum() end, {rn(3, 5)})
gc("min dim keepdim", function(x) local v = x:min(1, true); return (v * x):sum() end, {rn(3, 5)})
gc("max all", function(x) return x:max() * 3 end, {rn(7)})
gc("var", function(x) return x:var() end, {a})
gc("var dim", function(x) return (x:var(2) * S.tensor{1, 2, 3}):sum() end, {a})
gc("var biased keepdim", function(x) return (x:var(1, false, true) * x):sum() end, {a})
gc("std", function(x) return x:std(1):sum() + x:std() end, {a})
gc("norm", function(x) return x:norm() end, {a})
gc("norm dim", function(x) return (x:norm(2, 2) * S.tensor{1, -1, 2}):sum() end, {a})
gc("norm p=1", function(x) return x:norm(1, 1):sum() end, {a})
gc("norm p=3", function(x) return x:norm(3, 2, true):sum() end, {a})
gc("norm p=inf", function(x) return x:norm(math.huge, 2):sum() end, {rn(3, 5)})

-- softmax family and normalize
gc("softmax", function(x) return (x:softmax(2) * w):sum() end, {a})
gc("softmax dim 1", function(x) return (x:softmax(1) * w):sum() end, {a})
gc("log_softmax", function(x) return (x:log_softmax(2) * w):sum() end, {a})
gc("log_softmax dim 1", function(x) return (x:log_softmax(1) * w):sum() end, {a})
gc("logsumexp", function(x) return (x:logsumexp(2) * S.tensor{1, 2, 3}):sum() end, {a})
gc("logsumexp keepdim", function(x) return (x:logsumexp(1, true) * x):sum() end, {a})
gc("softmax 3-d middle", function(x) return (x:softmax(2) * x):sum() end, {rn(2, 3, 4)})
gc("normalize", function(x) return (x:normalize(2) * w):sum() end, {a})
gc("normalize dim 1", function(x) return (x:normalize(1) * w):sum() end, {a})

-- views
gc("reshape/view", function(x) return (x:reshape(4, 3) * S.tensor{1, 2, 3}):sum() + x:view(-1):sum() end, {a})
gc("transpose/t", function(x) return (x:t():mm(x) * x:transpose(1, 2):mm(x)):sum() end, {a})
gc("permute", function(x) return (x:permute(3, 1, 2) * S.tensor{{1}, {2}, {3}, {4}}:reshape(4, 1, 1)):sum() end, {rn(2, 3, 4)})
gc("narrow", function(x) return (x:narrow(2, 2, 2) * x:narrow(2, 1, 2)):sum() end, {a})
gc("select and x[i]", function(x) return (x:select(2, 3) * x[2]:narrow(1, 1, 3)):sum() end, {a})
gc("unsqueeze/squeeze", function(x) return (x:unsqueeze(2) * x:unsqueeze(1)):squeeze():sum() end, {rn(3)})
gc("expand", function(x) return (x:expand(3, 4) * w):sum() end, {rn(1, 4)})
gc("contiguous/clone", function(x) return (x:t():contiguous() * x:t():clone()):sum() end, {a})
gc("float32 round trip", function(x) return x:float():double():sum() end, {a}, {eps = 1e-2, atol = 1e-3})

-- products
gc("mm", function(x, y) return (x:mm(y)):exp():sum() end, {rn(3, 4), rn(4, 2)})
gc("matmul 2x1", function(x, v) return x:matmul(v):exp():sum() end, {rn(3, 4), rn(4)})
gc("matmul 1x2", function(v, x) return v:matmul(x):exp():sum() end, {rn(3), rn(3, 4)})
gc("matmul 3x2", function(x, y) return x:matmul(y):exp():sum() end, {rn(2, 3, 4), rn(4, 2)})
gc("matmul broadcast", function(x, y) return x:matmul(y):exp():sum() end, {rn(2, 1, 3, 4), rn(3, 4, 2)})
gc("matmul 1x3", function(v, y) return v:matmul(y):exp():sum() end, {rn(4), rn(2, 4, 2)})
gc("bmm", function(x, y) return x:bmm(y):exp():sum() end, {rn(2, 3, 4), rn(2, 4, 2)})
gc("bmm transposed view", function(x) return x:transpose(2, 3):bmm(x):sum() end, {rn(2, 3, 4)})
gc("outer", function(u, v) return (S.outer(u, v) * S.outer(u, v)):sum() end, {rn(3), rn(4)})
gc("dot", function(u, v) return S.dot(u, v) * S.dot(u, u) end, {rn(5), rn(5)})

-- indexing, sorting and joins
local gi = S.tensor{{3, 1, 1}, {2, 2, 4}, {4, 1, 3}}
gc("gather", function(x) return (x:gather(2, gi) * S.tensor{1, 2, 3}):sum() end, {a})
gc("index", function(x) return (x:index(1, {3, 1, 3}) * w):sum() + x:index(2, S.tensor{4, 2}):exp():sum() end, {a})
gc("scatter", function(x, s) return (x:scatter(2, S.tensor{{2}, {4}, {1}}, s) * w):sum() end, {a, rn(3, 1)})
gc("scatter_add", function(x, s) return (x:scatter_add(1, S.tensor{{1, 3, 3, 2}}, s) * w):sum() end, {a, rn(1, 4)})
gc("scatter value", function(x) return (x:scatter(2, S.tensor{{2}, {4}, {1}}, 0.5) * w):sum() end, {a})
gc("masked_fill", function(x) return (x:masked_fill(S.tensor{1, 0, 0, 1}, 3) * w):sum() end, {a})
gc("where", function(x, y) return (S.where(w:gt(0), x, y) * w):sum() end, {a, rn(4)})
gc("sort", function(x) local v = x:sort(2); return (v * w):sum() end, {rn(3, 4)})
gc("sort descending", function(x) local v = x:sort(1, true); return (v * w):sum() end, {rn(3, 4)})
gc("topk", function(x) local v = x:topk(2, 2); return (v * S.tensor{1, 3}):sum() end, {rn(3, 4)})
gc("cat", function(x, y) return (S.cat({x, y, x}, 1):exp() * S.tensor{1, 2, 3, 4}):sum() end, {a, rn(2, 4)})
gc("cat dim 2", function(x, y) return S.cat({x, y}, 2):exp():sum() end, {a, rn(3, 2)})
gc("stack", function(x, y) return (S.stack({x, y}, 2) * S.tensor{{1}, {2}}):sum() end, {a, b})

-- grad_check accepts a single tensor, and its options
gc("single tensor", function(x) return x:exp():sum() end, rn(4), {eps = 1e-5, atol = 1e-6, rtol = 1e-4})

-- it must DETECT a wrong gradient: a detached factor drops half of d(x^2)/dx
local ok, err, msg = S.grad_check(function(x) return (x * x:detach()):sum() end, {rn(4)})
check.eq(ok, false, "a wrong gradient must fail")
check.truthy(err > 0.1, "max error of the wrong gradient")
check.truthy(msg:find("gradient mismatch for input 1", 1, true), msg)
-- and a function that ignores its input entirely has analytic 0 against numeric != 0
ok, err = S.grad_check(function(x) return S.tensor(x:sum():item()) end, {rn(3)})
check.eq(ok, false, "a graph cut by item() must fail")

-- errors inside the function surface with their message; bad arguments name grad_check
check.errors(function() return S.grad_check(function() error("boom") end, {rn(2)}) end, "boom")
check.errors(function() return S.grad_check(function(x) return x end, {rn(2)}) end, "sslua.grad_check: the function must return a scalar")
check.errors(function() return S.grad_check(5, {rn(2)}) end, "sslua.grad_check: bad argument #1")
check.errors(function() return S.grad_check(function(x) return x:sum() end, 5) end, "sslua.grad_check: bad argument #2")

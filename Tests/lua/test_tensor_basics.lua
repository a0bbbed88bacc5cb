package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local S = sslua

local x = S.tensor{{1, 2, 3}, {4, 5, 6}}
check.eq(x:dim(), 2); check.eq(x:numel(), 6); check.eq(#x, 2)
check.near(x:t(), {{1, 4}, {2, 5}, {3, 6}})
check.near(1 + x, {{2, 3, 4}, {5, 6, 7}})
check.near(x - 1, {{0, 1, 2}, {3, 4, 5}})
check.near(2 / S.tensor{1, 2, 4}, {2, 1, 0.5})
check.near(x + S.tensor{10, 20, 30}, {{11, 22, 33}, {14, 25, 36}})        -- broadcast rows
check.near(x * S.tensor{{2}, {3}}, {{2, 4, 6}, {12, 15, 18}})            -- broadcast columns
check.near(x[2], {4, 5, 6}); check.eq(x:get(2, 3), 6); check.eq(x[-1]:get(1), 4)
check.near(x:sum(1), {5, 7, 9}); check.near(x:sum(2, true), {{6}, {15}}); check.eq(x:sum():item(), 21)
check.near(x:mm(S.tensor{{1}, {0}, {-1}}), {{-2}, {-2}})
check.near(x:t():mm(x), {{17, 22, 27}, {22, 29, 36}, {27, 36, 45}})       -- transposed view, no copy
check.near(S.arange(4), {1, 2, 3, 4}); check.near(S.arange(2, 8, 3), {2, 5, 8})

-- autograd: d/dw sum(x w) = x^T 1
local w = S.tensor{{1, -1}, {1, 1}, {0, 2}}:requires_grad_()
x:mm(w):sum():backward()
check.near(w.grad, {{5, 5}, {7, 7}, {9, 9}})

-- errors name the function and the problem, and the process survives
check.errors(function() return x:mm(x) end, "sslua.mm: size mismatch, [2x3] times [2x3]")
check.errors(function() return x + S.ones(4) end, "cannot be broadcast")
check.errors(function() return x[3] end, "out of range")
check.errors(function() return S.zeros("a") end, "sslua.zeros")
check.errors(function() return S.rand(2, {rng = 5}) end, "rng")

-- same seed, same numbers
local a = S.randn(5, {rng = S.rng(7)}):totable()
local b = S.randn(5, {rng = S.rng(7)}):totable()
for i = 1, 5 do check.eq(a[i], b[i]) end

-- reshape/view infer one -1 dimension, sizes as varargs or a table
local r = S.ones(2, 3)
check.eq(r:reshape(-1):shape()[1], 6)
check.eq(r:view(3, -1):shape()[2], 2)
check.eq(r:reshape{-1, 2}:shape()[1], 3)
check.errors(function() return r:reshape(-1, -1) end, "only one dimension can be inferred")
check.errors(function() return r:reshape(4, -1) end, "invalid for input of size 6")

-- in-place writes into an expanded view would alias elements: refused
local e = S.ones(3):expand(2, 3)
check.errors(function() e:add_(1) end, "single memory location")
check.near(e:contiguous():add_(1), {{2, 2, 2}, {2, 2, 2}})

-- in-place arithmetic writes straight into its target; aliased views and broadcasting are exact
local m = S.tensor{{1, 2}, {3, 4}}
m:add_(m:t())                                     -- the operand is another view of the same memory
check.near(m, {{2, 5}, {5, 8}})
local v = S.tensor{{1, 2, 3}, {4, 5, 6}}
v:mul_(S.tensor{10, 100, 1000})                   -- broadcast operand
check.near(v, {{10, 200, 3000}, {40, 500, 6000}})
local w2 = S.zeros(3, 2)
w2:t():add_(S.tensor{{1, 2, 3}, {4, 5, 6}})       -- non-contiguous target
check.near(w2, {{1, 4}, {2, 5}, {3, 6}})
local f32 = S.ones(2)
f32:add_(S.tensor({0.5, 0.25}, {dtype = "float64"}))  -- a float64 operand: the target keeps float32
check.eq(f32:dtype(), "float32"); check.near(f32, {1.5, 1.25})
local s = S.tensor{1, 2}; s:sub_(1):div_(2); check.near(s, {0, 0.5})
check.errors(function() S.ones(2):add_(S.ones(3)) end, "cannot be broadcast")
check.errors(function() S.ones(2):add_(S.ones(2, 2)) end, "in-place target")

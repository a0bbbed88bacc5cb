-- sslua.loss.cross_entropy and mse against PyTorch (values and gradients), bad input.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local G = require "gradcheck"
local S = sslua
local loss = S.loss
local c = dofile("Tests/fixtures/math/loss.lua").basic
local D = { dtype = "float64" }

local x = S.tensor(c.logits, D):requires_grad_()
local l = loss.cross_entropy(x, S.tensor(c.labels))
check.near(l:item(), c.ce, 1e-12, "cross_entropy")
l:backward()
check.near(x.grad, c.ce_grad, 1e-12, "cross_entropy grad")
-- labels as a Lua list, float32 logits
local x32 = S.tensor(c.logits):requires_grad_()
local l32 = loss.cross_entropy(x32, c.labels)
check.eq(l32:dtype(), "float32")
check.near(l32:item(), c.ce, 1e-5)
l32:backward()
check.near(x32.grad, c.ce_grad, 1e-6)
-- stable for huge logits
check.near(loss.cross_entropy(S.tensor { { 1000, 0 }, { 0, -1000 } }, { 1, 2 }):item(), 500, 1e-6)
G.gradcheck(function(t) return loss.cross_entropy(t[1], { 2, 1, 3 }) end,
  { S.randn(3, 4, { rng = S.rng(2), dtype = "float64" }) }, 1e-7, 1e-6, "cross_entropy")

local a, b = S.tensor(c.a, D):requires_grad_(), S.tensor(c.b, D):requires_grad_()
local m = loss.mse(a, b)
check.near(m:item(), c.mse, 1e-12, "mse")
m:backward()
check.near(a.grad, c.mse_ga, 1e-12); check.near(b.grad, c.mse_gb, 1e-12)

local bad = {
  { function() return loss.cross_entropy(S.randn(3, 4), { 1, 2 }) end, "sslua.loss.cross_entropy: 2 labels for 3 rows" },
  { function() return loss.cross_entropy(S.randn(2, 4), { 1, 5 }) end, "out of range 1..4" },
  { function() return loss.cross_entropy(S.randn(2, 4), { 0, 1 }) end, "1-based" },
  { function() return loss.cross_entropy(S.randn(2, 4), { 1.5, 1 }) end, "sslua.loss.cross_entropy" },
  { function() return loss.cross_entropy(S.randn(4), { 1 }) end, "N x C" },
  { function() return loss.cross_entropy(S.randn(2, 4)) end, "sslua.loss.cross_entropy" },
  { function() return loss.mse(S.randn(2, 3), S.randn(3, 2)) end, "sslua.loss.mse: inputs must have the same size" },
  { function() return loss.mse(S.randn(2, 3), 1) end, "sslua.loss.mse" },
}
for _, e in ipairs(bad) do check.errors(e[1], e[2]) end
print("test_loss_basic: ok")

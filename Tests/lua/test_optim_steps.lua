-- sslua.optim: two steps of SGD (momentum, Nesterov, weight decay), Adam, AdamW against
-- PyTorch, and LARS against a NumPy transcription of SimCLR's LARS (1-d params excluded).
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local optim = require "sslua.optim"
local nn = require "sslua.nn"
local fx = dofile("Tests/fixtures/nn/optim.lua")
local T = sslua.tensor

local makers = {
  sgd_momentum = optim.SGD, sgd_nesterov = optim.SGD, sgd_plain = optim.SGD,
  adam = optim.Adam, adamw = optim.AdamW, lars = optim.LARS, lars_all = optim.LARS,
}

for name, case in pairs(fx.cases) do
  local w, b = T(fx.w0):requires_grad_(), T(fx.b0):requires_grad_()
  local opt = makers[name]({ w, b }, case.cfg)
  for _, gs in ipairs({ fx.g1, fx.g2 }) do
    w.grad, b.grad = T(gs[1]), T(gs[2])
    opt:step()
  end
  check.near(w, case.out[1], 2e-6, name .. " weight after 2 steps")
  check.near(b, case.out[2], 2e-6, name .. " bias after 2 steps")
end

-- LARS by hand, one step: trust ratio eta*|w|/|g + wd*w| on the 2-d weight; the 1-d bias is
-- neither decayed nor adapted.
do
  local w = T({ { 3, 4 } }):requires_grad_()        -- |w| = 5
  local b = T({ 1, -1 }):requires_grad_()
  local opt = optim.LARS({ w, b }, { lr = 2, momentum = 0.9, weight_decay = 0.5, eta = 0.1 })
  w.grad = T({ { -1.5, 0 } })                         -- g + wd*w = {0, 2}, norm 2
  b.grad = T({ 0.5, 0.25 })
  opt:step()
  -- trust = 0.1*5/2 = 0.25; v = lr*trust*d = 0.5*{0, 2}; w = {3, 3}
  check.near(w, { { 3, 3 } }, 1e-6, "LARS hand step weight")
  check.near(opt.state[1].trust_ratio, 0.25, 1e-12, "LARS trust ratio")
  -- bias: v = lr*g = {1, 0.5}; b = {0, -1.5}
  check.near(b, { 0, -1.5 }, 1e-6, "LARS excluded bias")
  check.near(opt.state[2].trust_ratio, 1, 0, "excluded params have trust 1")
  -- second step: momentum on the scaled update
  w.grad = T({ { -1.5, 0 } }); b.grad = T({ 0, 0 })
  opt:step()
  -- d = {0, 1.5}, |w| = sqrt(18), trust = 0.1*sqrt(18)/1.5; v = 0.9*{0,1} + 2*trust*{0,1.5}
  local trust = 0.1 * math.sqrt(18) / 1.5
  check.near(w, { { 3, 3 - (0.9 + 2 * trust * 1.5) } }, 1e-5, "LARS momentum step")
  check.near(b, { -0.9, -1.5 - 0.45 }, 1e-6, "LARS excluded momentum")
end

-- plain SGD by hand; lr is writable; zero_grad; params given as a module
do
  local m = nn.Linear(2, 1, { bias = false })
  sslua.no_grad(function() m.weight:copy_(T({ { 1, 2 } })) end)
  local opt = optim.SGD(m, { lr = 0.5 })
  check.eq(opt.lr, 0.5, "lr readable")
  m.weight.grad = T({ { 1, -1 } })
  opt:step()
  check.near(m.weight, { { 0.5, 2.5 } }, 1e-7, "SGD step")
  opt.lr = 0.1
  opt:step()
  check.near(m.weight, { { 0.4, 2.6 } }, 1e-6, "SGD step after setting lr")
  opt:zero_grad()
  check.truthy(m.weight.grad == nil, "zero_grad")
  opt:step()   -- params without grads are skipped
  check.near(m.weight, { { 0.4, 2.6 } }, 1e-6, "no grad, no update")
end

-- Adam's first step moves every coordinate by lr (bias-corrected m/sqrt(v) = sign(g))
do
  local p = T({ 1, 2, 3 }):requires_grad_()
  local opt = optim.Adam({ p }, { lr = 0.01 })
  p.grad = T({ 5, -0.1, 1e-3 })
  opt:step()
  check.near(p, { 0.99, 2.01, 2.99 }, 1e-5, "Adam first step is lr * sign(g)")
end

-- warmup + cosine schedule
do
  local lr = optim.warmup_cosine { base_lr = 1.0, warmup = 10, total = 110, final_lr = 0.1 }
  check.near(lr(5), 0.5, 1e-12, "warmup halfway")
  check.near(lr(10), 1.0, 1e-12, "end of warmup")
  check.near(lr(60), 0.55, 1e-12, "cosine midpoint")
  check.near(lr(110), 0.1, 1e-12, "final lr")
  check.near(lr(500), 0.1, 1e-12, "stays at final lr")
  local lr2 = optim.warmup_cosine { base_lr = 2, total = 4 }
  check.near(lr2(2), 1.0, 1e-12, "no warmup: cosine from the start")
end

print("test_optim_steps: ok")

-- ResNet blocks and encoders: a torchvision BasicBlock against PyTorch (forward, gradients,
-- running statistics), state-dict names against torchvision's resnet18/34, state dict round
-- trips, printing, initialisation, and the projector.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local nn = require "sslua.nn"
local T = sslua.tensor

-- one BasicBlock with a downsample, train mode, against torchvision
do
  local fx = dofile("Tests/fixtures/nn/block.lua")
  local blk = nn.BasicBlock(4, 8, 2)
  local keys = blk:state_dict_keys()
  check.eq(#keys, #fx.keys, "block state dict size")
  for i, k in ipairs(fx.keys) do check.eq(keys[i], k, "block key " .. i) end
  sslua.no_grad(function()
    for name, p in blk:named_parameters() do p:copy_(T(fx.params[name])) end
  end)
  local x = T(fx.x):requires_grad_()
  local y = blk(x)
  check.near(y, fx.y, 2e-4, "block forward")
  ;(y * T(fx.r)):sum():backward()
  check.near(x.grad, fx.gx, 2e-4, "block grad input")
  for name, p in blk:named_parameters() do check.near(p.grad, fx.grads[name], 5e-4, "block grad " .. name) end
  local sd = blk:state_dict()
  for k, v in pairs(fx.after) do check.near(sd[k], v, 1e-5, "block state after forward: " .. k) end
end

-- resnet18 / resnet34 names and shapes equal torchvision's state_dict minus fc.*
do
  local fx = dofile("Tests/fixtures/nn/resnet_keys.lua")
  local cases = {
    resnet18_cifar = nn.resnet18 { cifar = true },
    resnet18 = nn.resnet { depth = 18, cifar = false },
    resnet34 = nn.resnet { depth = 34, cifar = false },
  }
  for name, m in pairs(cases) do
    local keys, ref = m:state_dict_keys(), fx[name]
    check.eq(#keys, #ref.keys, name .. " number of state dict keys")
    for i, k in ipairs(ref.keys) do check.eq(keys[i], k, name .. " key " .. i) end
    local sd = m:state_dict()
    for k, shape in pairs(ref.shapes) do
      local s = sd[k]:shape()
      check.eq(#s, #shape, name .. " rank of " .. k)
      for d = 1, #shape do check.eq(s[d], shape[d], name .. " size of " .. k) end
    end
    check.eq(m:num_parameters(), ref.params, name .. " parameter count")
  end
  local r = cases.resnet18_cifar
  check.eq(r.out_features, 512, "resnet18 output dimension")
  local s = tostring(r)
  check.truthy(s:find("(layer2): Sequential(", 1, true), "tostring shows the tree")
  check.truthy(s:find("(downsample): Sequential(", 1, true), "tostring shows downsample")
  check.truthy(s:find("11,168,832 parameters", 1, true), "tostring shows the parameter count: " .. s:sub(-40))
end

-- small encoders run forward/backward with the right output size, in train and eval
do
  local g = sslua.rng(3)
  local enc = nn.resnet { blocks = { 1, 1, 1 }, width = 8, rng = g }
  check.eq(enc.out_features, 32, "3-stage width-8 output dim")
  local x = sslua.randn(4, 3, 16, 16, { rng = g })
  local h = enc(x)
  check.eq(h:size(1), 4); check.eq(h:size(2), 32)
  h:sum():backward()
  for name, p in enc:named_parameters() do check.truthy(p.grad ~= nil, "grad of " .. name) end
  enc:eval()
  check.truthy(not enc.layer1[1].bn1.training, "eval reaches nested modules")
  local h2 = enc(x)
  check.eq(h2:size(2), 32)
  enc:train()
  check.truthy(enc.layer3[1].bn2.training, "train reaches nested modules")
  enc:zero_grad()
  for _, p in ipairs(enc:parameters()) do check.truthy(p.grad == nil, "zero_grad drops grads") end
  -- torchvision stem on a 1-channel input
  local enc2 = nn.resnet { blocks = { 1, 1 }, width = 4, in_channels = 1, cifar = false, rng = g }
  local y = enc2(sslua.randn(2, 1, 32, 32, { rng = g }))
  check.eq(y:size(2), 8)
end

-- the same rng seed gives the same model; state_dict -> load_state_dict gives identical outputs
do
  local a = nn.resnet { blocks = { 1, 1 }, width = 8, rng = sslua.rng(7) }
  local b = nn.resnet { blocks = { 1, 1 }, width = 8, rng = sslua.rng(7) }
  local c = nn.resnet { blocks = { 1, 1 }, width = 8, rng = sslua.rng(8) }
  check.near(a.conv1.weight, b.conv1.weight, 0, "same seed, same init")
  check.truthy((a.conv1.weight - c.conv1.weight):abs():max():item() > 0, "other seed, other init")
  local x = sslua.randn(3, 3, 8, 8, { rng = sslua.rng(1) })
  a(x)   -- one training forward moves the running stats
  a:eval(); c:eval()
  c:load_state_dict(a:state_dict())
  check.near(c(x), a(x), 0, "loaded model gives identical outputs")
  check.near(c.bn1.running_mean, a.bn1.running_mean, 0, "running stats loaded")
  -- load copies values in place: the parameter tensors stay the same objects
  local w = c.conv1.weight
  c:load_state_dict(b:state_dict())
  check.truthy(rawequal(w, c.conv1.weight), "load_state_dict keeps parameter identity")
  check.near(c.conv1.weight, b.conv1.weight, 0, "values replaced")
end

-- default initialisation: PyTorch's Kaiming-uniform bounds
do
  local g = sslua.rng(11)
  local lin = nn.Linear(400, 300, { rng = g })
  local bound = 1 / math.sqrt(400)
  check.truthy(lin.weight:abs():max():item() <= bound, "linear weight within 1/sqrt(fan_in)")
  check.truthy(lin.weight:abs():max():item() > 0.98 * bound, "linear weight fills its range")
  -- U(-b, b) has variance b^2/3
  local var = (lin.weight * lin.weight):mean():item()
  check.near(var, bound * bound / 3, 0.03 * bound * bound, "linear weight variance")
  check.truthy(lin.bias:abs():max():item() <= bound, "bias within 1/sqrt(fan_in)")
  local conv = nn.Conv2d(16, 8, 3, { rng = g })
  check.truthy(conv.weight:abs():max():item() <= 1 / math.sqrt(16 * 9), "conv weight bound")
  local bn = nn.BatchNorm2d(5)
  check.near(bn.weight, { 1, 1, 1, 1, 1 }, 0, "BN weight 1"); check.near(bn.bias, { 0, 0, 0, 0, 0 }, 0, "BN bias 0")
  -- torchvision's resnet conv init: N(0, 2/fan_out)
  local r = nn.resnet { blocks = { 1 }, width = 64, rng = g }
  local w = r.layer1[1].conv2.weight
  local std = math.sqrt((w * w):mean():item())
  check.near(std, math.sqrt(2 / (64 * 9)), 0.03 * math.sqrt(2 / (64 * 9)), "kaiming normal fan_out std")
end

-- projectors
do
  local p = nn.projector { dims = { 512, 128 }, bias = false }
  check.eq(p.weight:size(1), 128); check.eq(p.weight:size(2), 512)
  check.truthy(p.bias == nil, "bias=false")
  local mlp = nn.projector { dims = { 16, 32, 32, 8 } }
  local keys = mlp:state_dict_keys()
  local want = { "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
    "1.num_batches_tracked", "3.weight", "3.bias", "4.weight", "4.bias", "4.running_mean", "4.running_var",
    "4.num_batches_tracked", "6.weight", "6.bias" }
  check.eq(#keys, #want, "mlp projector keys")
  for i = 1, #want do check.eq(keys[i], want[i], "mlp key " .. i) end
  check.eq(mlp[2]._type, "BatchNorm1d"); check.eq(mlp[3]._type, "ReLU"); check.eq(#mlp, 7)
  local z = mlp(sslua.randn(10, 16))
  check.eq(z:size(2), 8)
end

-- nn.Module for modules written in Lua
do
  local m = nn.Module {
    name = "Affine",
    weight = sslua.ones(3),
    shift = sslua.zeros(3),
    inner = nn.Linear(3, 2),
    forward = function(self, x) return self.inner(x * self.weight + self.shift) end,
  }
  local names = {}
  for n in m:named_parameters() do names[#names + 1] = n end
  check.eq(table.concat(names, ","), "shift,weight,inner.weight,inner.bias", "Lua module parameter names")
  local y = m(sslua.randn(4, 3))
  y:sum():backward()
  check.truthy(m.weight.grad ~= nil and m.inner.weight.grad ~= nil, "grads reach Lua module parameters")
  check.truthy(tostring(m):find("Affine(", 1, true) ~= nil, "tostring names the Lua module")
  check.truthy(tostring(m):find("14 parameters", 1, true) ~= nil, "parameter count " .. tostring(m))
end

print("test_nn_resnet: ok")

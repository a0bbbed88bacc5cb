-- A torchvision resnet18(num_classes=10) state dict (Tests/fixtures/make_interop.py, weights in
-- float16) loads strictly into nn.resnet18{cifar=false, num_classes=10}, reproduces torchvision's
-- eval-mode output, and comes back out by state_dict() under the same names.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local nn = sslua.nn
local dir = "Tests/fixtures/interop/"

local sd = sslua.load(dir .. "resnet18_half.pt")
local m = nn.resnet18 { cifar = false, num_classes = 10, rng = sslua.rng(0) }

-- the stock torchvision layout: 7x7 stride-2 stem, max-pool, fc
check.eq(table.concat(m.conv1.weight:shape(), "x"), "64x3x7x7", "stem conv")
check.truthy(m.maxpool ~= nil, "max-pool in the stem")
check.eq(table.concat(m.fc.weight:shape(), "x"), "10x512", "fc")
check.eq(m.out_features, 10, "out_features")

local nkeys, own = 0, {}
for _, k in ipairs(m:state_dict_keys()) do own[k] = true; nkeys = nkeys + 1 end
local nfile = 0
for k in pairs(sd) do nfile = nfile + 1; check.truthy(own[k], "torchvision key " .. k .. " exists in sslua") end
check.eq(nkeys, nfile, "same number of keys")
check.eq(nfile, 122, "resnet18 state dict size")

m:load_state_dict(sd)          -- strict
m:eval()
local x = sslua.load(dir .. "resnet18_input.npy")
local want = sslua.load(dir .. "resnet18_output.npy")
local y = sslua.no_grad(function() return m(x) end)
check.eq(table.concat(y:shape(), "x"), "2x10", "output shape")
check.near(y, want, 2e-5, "ResNet-18 output against torchvision")

-- back: state_dict() has the same names and values
local out = m:state_dict()
for k, v in pairs(sd) do
  check.near(out[k], v, 0, "round trip of " .. k)
end

-- without num_classes it stays an encoder, and a classifier state dict does not load strictly
local enc = nn.resnet18 { cifar = false }
check.eq(enc.fc, nil, "no fc by default")
check.errors(function() enc:load_state_dict(sd) end, "unexpected keys: fc.bias, fc.weight")
check.errors(function() nn.resnet18 { num_clases = 10 } end, "did you mean 'num_classes'")
print("ok")

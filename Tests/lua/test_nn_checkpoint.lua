-- Checkpoints: sslua.save(path, model:state_dict()) -> sslua.load -> load_state_dict gives a
-- model with identical outputs; loading into a different architecture is a clear error.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local nn = require "sslua.nn"
local optim = require "sslua.optim"

local path = os.tmpname() .. ".safetensors"
local g = sslua.rng(99)
local enc = nn.resnet { blocks = { 1, 1 }, width = 8, rng = g }
local proj = nn.projector { dims = { 16, 8, 4 }, rng = g }
local x = sslua.randn(5, 3, 12, 12, { rng = g })

-- a few training steps so that weights and running statistics move away from their init
local params = enc:parameters()
for _, p in ipairs(proj:parameters()) do params[#params + 1] = p end
local opt = optim.SGD(params, { lr = 0.05, momentum = 0.9 })
for _ = 1, 3 do
  opt:zero_grad()
  local z = proj(enc(x))
  ;(z * z):mean():backward()
  opt:step()
end

sslua.save(path, enc:state_dict())
local ppath = path:gsub("%.safetensors$", "_proj.safetensors")
sslua.save(ppath, proj:state_dict())

local enc2 = nn.resnet { blocks = { 1, 1 }, width = 8, rng = sslua.rng(1) }
local proj2 = nn.projector { dims = { 16, 8, 4 }, rng = sslua.rng(2) }
local loaded = sslua.load(path)
check.eq(#enc2:state_dict_keys(), (function() local n = 0; for _ in pairs(loaded) do n = n + 1 end; return n end)(),
  "every state dict entry saved")
enc2:load_state_dict(loaded)
proj2:load_state_dict(sslua.load(ppath))
enc:eval(); proj:eval(); enc2:eval(); proj2:eval()
check.near(proj2(enc2(x)), proj(enc(x)), 0, "save -> load -> identical outputs (eval mode)")
check.near(enc2.layer2[1].bn1.running_var, enc.layer2[1].bn1.running_var, 0, "running stats round trip")
check.eq(enc2.bn1.num_batches_tracked:item(), 3, "num_batches_tracked round trip")
-- training mode too (batch statistics): identical
enc:train(); enc2:train()
check.near(enc2(x), enc(x), 0, "identical outputs in train mode")

-- into a different architecture: a clear error naming the mismatch
local wide = nn.resnet { blocks = { 1, 1 }, width = 16 }
check.errors(function() wide:load_state_dict(sslua.load(path)) end, "size mismatch for conv1.weight")
local deeper = nn.resnet { blocks = { 1, 1, 1 }, width = 8 }
check.errors(function() deeper:load_state_dict(sslua.load(path)) end, "missing keys: layer3.0.conv1.weight")
local shallow = nn.resnet { blocks = { 1 }, width = 8 }
check.errors(function() shallow:load_state_dict(sslua.load(path)) end, "unexpected keys: layer2.0.bn1.bias")

os.remove(path); os.remove(ppath)
print("test_nn_checkpoint: ok")

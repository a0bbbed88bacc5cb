-- sslua.nn: neural-network modules in the style of PyTorch's torch.nn (and Torch7's nn).
--
-- Modules are Lua tables; the heavy lifting (convolution, batch norm, pooling, linear) is in
-- the native kernels of sslua._nn, each differentiable through the tensor autograd.
--
--   local nn = require "sslua.nn"
--   local net = nn.Sequential(nn.Conv2d(3, 16, 3, {padding = 1}), nn.BatchNorm2d(16), nn.ReLU(),
--                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))
--   local y = net(x)                       -- or net:forward(x)
--   for name, p in net:named_parameters() do print(name, p:shape()) end   -- "0.weight", ...
--
-- Parameter and buffer names follow PyTorch's (`layer1.0.conv1.weight`, `bn1.running_mean`),
-- so a state dict saved with sslua.save(path, m:state_dict()) loads into the matching
-- torchvision model by name. Initialisation is PyTorch's default (Kaiming-uniform with
-- a = sqrt(5) for conv/linear weights, bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), BN weight 1 and
-- bias 0); nn.resnet uses torchvision's (Kaiming-normal, fan_out, ReLU gain). Every constructor
-- takes an optional {rng = g} (a generator from sslua.rng) and otherwise draws from the global one.
--
-- The parts live in lua/sslua/nn/, one concept a file (as mlx-swift's MLXNN): module.lua (the
-- base class nn.Module, the state dict, printing), functional.lua, linear.lua, conv.lua,
-- normalization.lua (BatchNorm, SyncBatchNorm, recalibrate_bn), activation.lua, shape.lua
-- (Identity, Flatten), pooling.lua, container.lua (Sequential), resnet.lua, projector.lua
-- (projector and predictor heads), momentum.lua (EMA, Queue); common.lua holds their shared
-- checks. Each part returns the names it adds to sslua.nn (util.merge_parts).
local util = require "sslua.util"

return util.merge_parts("sslua.nn.", { "module", "functional", "linear", "conv", "normalization", "activation",
  "shape", "pooling", "container", "resnet", "projector", "momentum" })

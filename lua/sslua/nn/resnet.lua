-- torchvision's ResNets (BasicBlock family): nn.BasicBlock, nn.resnet, nn.resnet18, nn.resnet34.
local common, module, util = require "sslua.nn.common", require "sslua.nn.module", require "sslua.util"
local sslua, C, fail, opts_of, check_int = common.sslua, common.C, common.fail, common.opts_of, common.check_int
local rng_opts, shape_str, check_input = common.rng_opts, common.shape_str, common.check_input
local class, Module, new = common.class, module.Module, module._new
-- the layers a ResNet is made of
local layers = util.merge_parts("sslua.nn.", { "activation", "container", "conv", "linear", "normalization",
  "pooling", "shape" })
local ReLU, Sequential, Conv2d, Linear = layers.ReLU, layers.Sequential, layers.Conv2d, layers.Linear
local BatchNorm2d, MaxPool2d, AdaptiveAvgPool2d, Flatten = layers.BatchNorm2d, layers.MaxPool2d,
  layers.AdaptiveAvgPool2d, layers.Flatten

local nn = {}   -- what this file adds to sslua.nn

-- torchvision's ResNet init: Kaiming-normal with fan_out and the ReLU gain.
local function kaiming_normal_fan_out(conv, o)
  local w = conv.weight
  local s = w:shape()
  local std = math.sqrt(2 / (s[1] * s[3] * s[4]))
  sslua.no_grad(function() w:copy_(sslua.randn(s, rng_opts(o)) * std) end)
end

local function conv3x3(cin, cout, stride, o)
  local c = Conv2d(cin, cout, 3, { stride = stride, padding = 1, bias = false, rng = o.rng })
  kaiming_normal_fan_out(c, o)
  return c
end

--- torchvision's BasicBlock: conv3x3-BN-ReLU-conv3x3-BN, plus the (downsampled) input, ReLU.
local BasicBlock = class("BasicBlock", Module)
function BasicBlock:__init(inplanes, planes, stride, o)
  o = opts_of("BasicBlock", o, { rng = "userdata" })
  inplanes = check_int(inplanes, "inplanes", "BasicBlock")
  planes = check_int(planes, "planes", "BasicBlock")
  stride = check_int(stride or 1, "stride", "BasicBlock")
  Module._setup(self)
  self:add_module("conv1", conv3x3(inplanes, planes, stride, o))
  self:add_module("bn1", BatchNorm2d(planes))
  self:add_module("relu", ReLU())
  self:add_module("conv2", conv3x3(planes, planes, 1, o))
  self:add_module("bn2", BatchNorm2d(planes))
  if stride ~= 1 or inplanes ~= planes then
    local c = Conv2d(inplanes, planes, 1, { stride = stride, bias = false, rng = o.rng })
    kaiming_normal_fan_out(c, o)
    self:add_module("downsample", Sequential(c, BatchNorm2d(planes)))
  end
  return self
end
nn.BasicBlock = BasicBlock

function BasicBlock:forward(x)
  local out = self.bn1:_forward(self.conv1:forward(x), true)
  out = self.bn2:forward(self.conv2:forward(out))
  local identity = self.downsample and self.downsample:forward(x) or x
  return C.add_relu(out, identity)
end

local ResNet = class("ResNet", Module)

local depths = { [18] = { 2, 2, 2, 2 }, [34] = { 3, 4, 6, 3 } }

--- nn.resnet{blocks = {2, 2, 2, 2}, width = 64, in_channels = 3, cifar = true, depth = 18|34, rng}
--- An encoder (no classifier): output (N, width * 2^(#blocks - 1)). The CIFAR stem is a 3x3
--- stride-1 conv without max-pool; otherwise torchvision's 7x7 stride-2 conv and 3x3 max-pool.
--- With num_classes = K a classifier `fc` (Linear(out, K)) follows, as in torchvision, so
--- nn.resnet18{cifar = false, num_classes = K} loads torchvision's resnet18(num_classes = K).
local resnet_spec = { blocks = "table", width = "integer", in_channels = "integer", cifar = "boolean",
  depth = "integer", rng = "userdata", num_classes = "integer" }

function nn.resnet(o)
  o = opts_of("resnet", o, resnet_spec)
  local blocks = o.blocks
  if o.depth ~= nil then
    if blocks ~= nil then fail("resnet", "give either depth or blocks, not both", 2) end
    blocks = depths[o.depth]
    if not blocks then fail("resnet", "depth must be 18 or 34 (BasicBlock ResNets), got " .. tostring(o.depth), 2) end
  end
  blocks = blocks or depths[18]
  if type(blocks) ~= "table" or #blocks == 0 then fail("resnet", "blocks must be a non-empty list of block counts", 2) end
  for i, b in ipairs(blocks) do check_int(b, "blocks[" .. i .. "]", "resnet", 1) end
  local width = check_int(o.width or 64, "width", "resnet")
  local cin = check_int(o.in_channels or 3, "in_channels", "resnet")
  local cifar = o.cifar ~= false
  local self = new(ResNet)
  if cifar then
    self:add_module("conv1", conv3x3(cin, width, 1, o))
  else
    local c = Conv2d(cin, width, 7, { stride = 2, padding = 3, bias = false, rng = o.rng })
    kaiming_normal_fan_out(c, o)
    self:add_module("conv1", c)
  end
  self:add_module("bn1", BatchNorm2d(width))
  self:add_module("relu", ReLU())
  if not cifar then self:add_module("maxpool", MaxPool2d(3, 2, { padding = 1 })) end
  local inplanes = width
  for i, nb in ipairs(blocks) do
    local planes = width * 2 ^ (i - 1)
    planes = math.tointeger(planes)
    local layer = Sequential()
    for j = 1, nb do
      layer:add(nn.BasicBlock(inplanes, planes, (j == 1 and i > 1) and 2 or 1, { rng = o.rng }))
      inplanes = planes
    end
    self:add_module("layer" .. i, layer)
  end
  self:add_module("avgpool", AdaptiveAvgPool2d(1))
  self:add_module("flatten", Flatten())
  self.out_features = inplanes
  if o.num_classes ~= nil then
    local k = check_int(o.num_classes, "num_classes", "resnet")
    self:add_module("fc", Linear(inplanes, k, { rng = o.rng }))
    self.out_features = k
  end
  self.cifar = cifar
  return self
end

function ResNet:forward(x)
  check_input("ResNet", x, { 4 })
  local w = self.conv1.weight
  if x:size(2) ~= w:size(2) then
    fail("ResNet", "expected input with " .. w:size(2) .. " channels, got size " .. shape_str(x), 2)
  end
  x = self.bn1:_forward(self.conv1:forward(x), true)
  if self.maxpool then x = self.maxpool:forward(x) end
  local i = 1
  while self["layer" .. i] do
    x = self["layer" .. i]:forward(x)
    i = i + 1
  end
  x = self.flatten:forward(self.avgpool:forward(x))
  if self.fc then x = self.fc:forward(x) end
  return x
end

--- nn.resnet18{in_channels = 3, cifar = true, num_classes, rng}: ResNet-18, 512-d output (no
--- classifier unless num_classes is given).
function nn.resnet18(o)
  o = opts_of("resnet18", o, resnet_spec)
  local c = {}
  for k, v in pairs(o) do c[k] = v end
  if c.blocks ~= nil or c.depth ~= nil then fail("resnet18", "blocks/depth are fixed for resnet18", 2) end
  c.depth = 18
  return nn.resnet(c)
end

function nn.resnet34(o)
  o = opts_of("resnet34", o, resnet_spec)
  local c = {}
  for k, v in pairs(o) do c[k] = v end
  c.depth = 34
  return nn.resnet(c)
end

return nn

-- Documentation of sslua.nn (modules with PyTorch's names, parameter names and initialisation).
local RNG = { "rng", "generator", "the global one", "initialisation generator" }
local BIAS = { "bias", "boolean", "true", "add a learnable bias" }
local function F(name, sig, what, ex)
  return { "sslua.nn.functional." .. name, sig, what, alias = { "sslua.nn.F." .. name }, ret = "a tensor", ex = ex }
end
local POOL = { { "stride", "integer|table", "kernel_size", "step" }, { "padding", "integer|table", "0", "zero padding" } }
return {
  { "sslua.nn", "sslua.nn", "Neural-network modules, PyTorch-style: `m(x)` is `m:forward(x)`; parameter names follow PyTorch (`layer1.0.conv1.weight`) so state dicts load into the matching torchvision model." },
  { "sslua.nn.ModuleBase", "nn.ModuleBase", "The base class of every module. Methods: `m:forward(x)` (also `m(x)`), `m:parameters()`, `m:named_parameters()`, `m:named_buffers()`, `m:named_children()`, `m:num_parameters()`, `m:train([mode])`, `m:eval()`, `m:zero_grad()`, `m:state_dict()`, `m:state_dict_keys()`, `m:load_state_dict(sd [, {strict = true}])`, `m:register_parameter(name, t)`, `m:register_buffer(name, t)`, `m:add_module(name, m)`; `tostring(m)` prints the tree and the parameter count.",
    ex = "local m = sslua.nn.Linear(3, 2)\nfor name, p in m:named_parameters() do print(name, p:size()) end" },
  { "sslua.nn.Module", "nn.Module{forward = fn, ...}", "A module written in Lua: the table's tensors that require grad become parameters, its modules children, and `forward(self, x)` computes the output.",
    ret = "a module", ex = "local w = sslua.randn(3, 3):requires_grad_()\nlocal m = sslua.nn.Module{w = w, forward = function(self, x) return x:mm(self.w) end}\nm(sslua.ones(2, 3))" },
  { "sslua.nn.is_module", "nn.is_module(v)", "Whether v is an sslua.nn module.", ret = "a boolean", ex = "sslua.nn.is_module(sslua.nn.ReLU())" },
  { "sslua.nn.Linear", "nn.Linear(in_features, out_features [, opts])", "y = x W^T + b, weight out x in, Kaiming-uniform initialisation as PyTorch.", opts = { BIAS, RNG }, ret = "a module", ex = "sslua.nn.Linear(4, 2)(sslua.ones(3, 4))" },
  { "sslua.nn.Conv2d", "nn.Conv2d(in_channels, out_channels, kernel_size [, opts])", "2-d convolution over N x C x H x W (groups and dilation 1 only).",
    opts = { { "stride", "integer|table", "1", "step" }, { "padding", "integer|table", "0", "zero padding" }, BIAS, RNG }, ret = "a module", ex = "sslua.nn.Conv2d(3, 8, 3, {padding = 1})(sslua.rand(1, 3, 8, 8))" },
  { "sslua.nn.BatchNorm1d", "nn.BatchNorm1d(num_features [, opts])", "Batch normalisation over N x C (batch statistics in train mode, running ones in eval mode).",
    opts = { { "eps", "number", "1e-5", "" }, { "momentum", "number", "0.1", "running-statistics update" }, { "affine", "boolean", "true", "learnable weight and bias" }, { "track_running_stats", "boolean", "true", "" } }, ret = "a module", ex = "sslua.nn.BatchNorm1d(4)(sslua.randn(8, 4))" },
  { "sslua.nn.BatchNorm2d", "nn.BatchNorm2d(num_features [, opts])", "Batch normalisation over N x C x H x W per channel.",
    opts = { { "eps", "number", "1e-5", "" }, { "momentum", "number", "0.1", "running-statistics update" }, { "affine", "boolean", "true", "learnable weight and bias" }, { "track_running_stats", "boolean", "true", "" } }, ret = "a module", ex = "sslua.nn.BatchNorm2d(3)(sslua.rand(2, 3, 4, 4))" },
  { "sslua.nn.ReLU", "nn.ReLU()", "max(x, 0).", ret = "a module", ex = "sslua.nn.ReLU()(sslua.tensor{-1, 1})" },
  { "sslua.nn.LeakyReLU", "nn.LeakyReLU([negative_slope])", "x or slope * x (slope 0.01 by default).", ret = "a module", ex = "sslua.nn.LeakyReLU(0.2)(sslua.tensor{-1, 1})" },
  { "sslua.nn.Identity", "nn.Identity()", "Returns its input.", ret = "a module", ex = "sslua.nn.Identity()(sslua.ones(2))" },
  { "sslua.nn.Flatten", "nn.Flatten([start_dim [, end_dim]])", "Flattens dims start_dim..end_dim (default 2..-1) into one.", ret = "a module", ex = "sslua.nn.Flatten()(sslua.ones(2, 3, 4))" },
  { "sslua.nn.MaxPool2d", "nn.MaxPool2d(kernel_size [, stride] [, opts])", "2-d max pooling.", opts = POOL, ret = "a module", ex = "sslua.nn.MaxPool2d(2)(sslua.rand(1, 1, 4, 4))" },
  { "sslua.nn.AvgPool2d", "nn.AvgPool2d(kernel_size [, stride] [, opts])", "2-d average pooling.", opts = { POOL[1], POOL[2], { "count_include_pad", "boolean", "true", "padding counts in the average" } }, ret = "a module", ex = "sslua.nn.AvgPool2d(2)(sslua.rand(1, 1, 4, 4))" },
  { "sslua.nn.AdaptiveAvgPool2d", "nn.AdaptiveAvgPool2d(output_size)", "Average pooling to a given output size (1 is global average pooling).", ret = "a module", ex = "sslua.nn.AdaptiveAvgPool2d(1)(sslua.rand(1, 2, 4, 4))" },
  { "sslua.nn.Sequential", "nn.Sequential(m1, m2, ...)", "Applies modules in order; `seq:add(m)` appends (returns seq), `seq[i]` and `#seq` index the children.", ret = "a module", ex = "local net = sslua.nn.Sequential(sslua.nn.Linear(4, 8), sslua.nn.ReLU(), sslua.nn.Linear(8, 2))\nnet(sslua.randn(3, 4))" },
  { "sslua.nn.BasicBlock", "nn.BasicBlock(inplanes, planes [, stride] [, opts])", "torchvision's ResNet basic block (two 3x3 convs with batch norm, identity or 1x1 downsample shortcut).", opts = { RNG }, ret = "a module", ex = "sslua.nn.BasicBlock(8, 8)(sslua.rand(1, 8, 4, 4))" },
  { "sslua.nn.resnet", "nn.resnet{...}", "A ResNet encoder of BasicBlocks without classifier: `width` channels in the first stage doubling at each next stage (output dimension width * 2^(#blocks - 1)); CIFAR stem (3x3 stride 1, no max-pool) or ImageNet stem (7x7 stride 2 and max-pool).",
    opts = { { "blocks", "table", "{2, 2, 2, 2}", "BasicBlocks per stage" }, { "depth", "integer", nil, "18 or 34: torchvision's block layouts" }, { "width", "integer", "64", "first-stage channels" }, { "in_channels", "integer", "3", "" }, { "cifar", "boolean", "true", "CIFAR stem" }, RNG },
    ret = "a module", ex = "local enc = sslua.nn.resnet{blocks = {1, 1}, width = 8}\nenc(sslua.rand(2, 3, 8, 8))  -- 2 x 16" },
  { "sslua.nn.resnet18", "nn.resnet18([opts])", "nn.resnet with torchvision's ResNet-18 layout (output 512).", opts = { { "in_channels", "integer", "3", "" }, { "cifar", "boolean", "true", "CIFAR stem" }, RNG }, ret = "a module", ex = "local enc = sslua.nn.resnet18()" },
  { "sslua.nn.resnet34", "nn.resnet34([opts])", "nn.resnet with torchvision's ResNet-34 layout (output 512).", opts = { { "in_channels", "integer", "3", "" }, { "cifar", "boolean", "true", "CIFAR stem" }, RNG }, ret = "a module", ex = "local enc = sslua.nn.resnet34()", run = false },
  { "sslua.nn.projector", "nn.projector{dims = {...} [, bias] [, rng]}", "The SSL projector: linear for two dims, else an MLP with Linear-BatchNorm1d-ReLU between layers.",
    opts = { { "dims", "table", nil, "layer widths, e.g. {512, 128} or {512, 2048, 128} (required)" }, { "bias", "boolean", "true", "biases of the Linear layers" }, RNG }, ret = "a module", ex = "sslua.nn.projector{dims = {8, 4}, bias = false}(sslua.randn(2, 8))" },
  { "sslua.nn.functional", "nn.functional", "The stateless operations behind the modules (also `nn.F`).", alias = { "sslua.nn.F" } },
  F("conv2d", "F.conv2d(x, weight [, bias] [, {stride, padding}])", "2-d convolution (stride 1 and padding 0 by default).", "sslua.nn.F.conv2d(sslua.rand(1, 1, 4, 4), sslua.ones(1, 1, 3, 3))"),
  F("linear", "F.linear(x, weight [, bias])", "x W^T + b.", "sslua.nn.F.linear(sslua.ones(2, 3), sslua.ones(4, 3))"),
  F("batch_norm", "F.batch_norm(x, running_mean, running_var [, opts])", "Batch normalisation (options weight, bias, training, momentum 0.1, eps 1e-5).", "sslua.nn.F.batch_norm(sslua.randn(4, 2), sslua.zeros(2), sslua.ones(2))"),
  F("max_pool2d", "F.max_pool2d(x, kernel_size [, stride] [, {padding}])", "2-d max pooling.", "sslua.nn.F.max_pool2d(sslua.rand(1, 1, 4, 4), 2)"),
  F("avg_pool2d", "F.avg_pool2d(x, kernel_size [, stride] [, {padding}])", "2-d average pooling.", "sslua.nn.F.avg_pool2d(sslua.rand(1, 1, 4, 4), 2)"),
  F("adaptive_avg_pool2d", "F.adaptive_avg_pool2d(x, output_size)", "Adaptive average pooling.", "sslua.nn.F.adaptive_avg_pool2d(sslua.rand(1, 1, 4, 4), 1)"),
  F("relu", "F.relu(x)", "max(x, 0).", "sslua.nn.F.relu(sslua.tensor{-1, 1})"),
  F("leaky_relu", "F.leaky_relu(x [, slope])", "Leaky ReLU (slope 0.01).", "sslua.nn.F.leaky_relu(sslua.tensor{-1, 1})"),
  F("add_relu", "F.add_relu(a, b)", "relu(a + b) fused (the residual join).", "sslua.nn.F.add_relu(sslua.tensor{-2, 1}, sslua.ones(2))"),
}

-- Misuse of sslua.nn / sslua.optim gives Lua errors naming the function and the problem.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local nn = require "sslua.nn"
local optim = require "sslua.optim"
local F = nn.functional
local C = sslua._nn

local x4 = sslua.randn(2, 3, 8, 8)

-- wrong channel counts
check.errors(function() nn.Conv2d(4, 8, 3)(x4) end, "sslua.nn.conv2d: expected input with 4 channels")
check.errors(function() nn.BatchNorm2d(5)(x4) end, "sslua.nn.BatchNorm2d: expected input with 5 channels")
check.errors(function() nn.BatchNorm1d(5)(sslua.randn(4, 3)) end, "sslua.nn.BatchNorm1d: expected input with 5 channels")
check.errors(function() nn.resnet18()(sslua.randn(1, 1, 32, 32)) end, "sslua.nn.ResNet: expected input with 3 channels")
check.errors(function() nn.Linear(5, 2)(sslua.randn(3, 4)) end, "sslua.nn.Linear: expected input with 5 features")
check.errors(function() F.linear(sslua.randn(3, 4), sslua.randn(2, 5)) end, "sslua.nn.linear: expected input with 5 features")
-- wrong input rank
check.errors(function() nn.Conv2d(3, 8, 3)(sslua.randn(3, 8)) end, "sslua.nn.Conv2d: expected a 3-d or 4-d input")
check.errors(function() F.conv2d(sslua.randn(3, 8), sslua.randn(1, 3, 1, 1)) end, "sslua.nn.conv2d: expected a 4-d input")
check.errors(function() F.conv2d(x4, sslua.randn(3, 3)) end, "sslua.nn.conv2d: expected a 4-d weight")
check.errors(function() nn.BatchNorm2d(3)(sslua.randn(2, 3)) end, "sslua.nn.BatchNorm2d: expected a 4-d input")
check.errors(function() nn.BatchNorm1d(3)(x4) end, "sslua.nn.BatchNorm1d: expected a 2-d or 3-d input")
check.errors(function() nn.MaxPool2d(2)(sslua.randn(3, 8, 8)) end, "sslua.nn.MaxPool2d: expected a 4-d input")
check.errors(function() nn.AvgPool2d(2)(sslua.randn(8)) end, "sslua.nn.AvgPool2d: expected a 4-d input")
check.errors(function() nn.AdaptiveAvgPool2d(1)(sslua.randn(8, 8)) end, "sslua.nn.AdaptiveAvgPool2d: expected a 4-d input")
check.errors(function() F.max_pool2d(sslua.randn(8), 2) end, "sslua.nn.max_pool2d: expected a 4-d input")
check.errors(function() F.avg_pool2d(sslua.randn(8), 2) end, "sslua.nn.avg_pool2d: expected a 4-d input")
check.errors(function() F.adaptive_avg_pool2d(sslua.randn(8), 2) end, "sslua.nn.adaptive_avg_pool2d: expected a 4-d input")
check.errors(function() nn.Linear(3, 2)(5) end, "sslua.nn.Linear: expected a tensor input")
check.errors(function() nn.Flatten()("x") end, "sslua.nn.Flatten: expected a tensor input")
-- bad sizes and options
check.errors(function() F.conv2d(sslua.randn(1, 3, 2, 2), sslua.randn(1, 3, 5, 5)) end, "sslua.nn.conv2d: kernel size 5x5 is larger")
check.errors(function() F.conv2d(x4, sslua.randn(1, 3, 3, 3), { stride = 0 }) end, "sslua.nn.conv2d: stride must be integers >= 1")
check.errors(function() F.conv2d(x4, sslua.randn(1, 3, 3, 3), nil, { padding = -1 }) end, "sslua.nn.conv2d: padding must be integers >= 0")
check.errors(function() C.conv2d(x4, sslua.randn(1, 3, 3, 3), nil, 1, 1, 1, -1) end, "sslua.nn.conv2d: padding must be at least 0")
check.errors(function() C.conv2d(x4, sslua.randn(1, 3, 3, 3), nil, 1, 1, 1, 1e300) end, "sslua.nn.conv2d")
check.errors(function() F.conv2d(x4, sslua.randn(2, 3, 3, 3), sslua.randn(3)) end, "sslua.nn.conv2d: bias of size [3] for 2 output channels")
check.errors(function() F.conv2d(x4:double(), sslua.randn(2, 3, 3, 3)) end, "sslua.nn.conv2d: input is float64 but weight is float32")
check.errors(function() nn.Conv2d(3, 8, 3, { groups = 2 }) end, "sslua.nn.Conv2d: only groups = 1")
check.errors(function() nn.Conv2d(0, 8, 3) end, "sslua.nn.Conv2d: in_channels must be an integer >= 1")
check.errors(function() nn.Conv2d(3, 8, "a") end, "sslua.nn.Conv2d: kernel size must be an integer")
check.errors(function() nn.Linear(-1, 2) end, "sslua.nn.Linear: in_features must be an integer >= 0")
check.errors(function() nn.MaxPool2d(2, 2, { padding = 2 }) end, "sslua.nn.MaxPool2d: padding should be at most half")
check.errors(function() F.max_pool2d(x4, 2, 2, { padding = 3 }) end, "sslua.nn.max_pool2d: padding should be at most half")
check.errors(function() F.max_pool2d(x4, 9) end, "sslua.nn.max_pool2d: output size is too small")
check.errors(function() C.conv2d(sslua.randn(0, 3, 4, 4), sslua.randn(1, 3, 1, 1), nil, 1, 1, 2^30, 2^30) end,
  "sslua.nn.conv2d: convolution too large")
check.errors(function() C.adaptive_avg_pool2d(x4, 2^30, 2^30) end, "sslua.nn.adaptive_avg_pool2d: output size 1073741824x1073741824 is too large")
check.errors(function() F.adaptive_avg_pool2d(x4, 0) end, "sslua.nn.adaptive_avg_pool2d: output size must be integers >= 1")
check.errors(function() C.batch_norm(sslua.randn(1, 3), nil, nil, nil, nil, true, 0.1, 1e-5, false) end,
  "sslua.nn.batch_norm: expected more than 1 value per channel when training")
check.errors(function() C.batch_norm(x4, sslua.ones(2), nil, nil, nil, true, 0.1, 1e-5, false) end,
  "sslua.nn.batch_norm: expected weight of size [3]")
check.errors(function() C.batch_norm(x4, nil, nil, sslua.ones(3), nil, true, 0.1, 1e-5, false) end,
  "sslua.nn.batch_norm: running_mean and running_var must be given together")
check.errors(function() C.batch_norm("x") end, "sslua.nn.batch_norm: bad argument #1")
check.errors(function() F.add_relu(sslua.randn(2), sslua.randn(3)) end, "sslua.nn.add_relu: shapes [2] and [3] differ")
check.errors(function() nn.Sequential(nn.ReLU(), 3) end, "sslua.nn.Sequential: argument #2 is not a module")
check.errors(function() nn.Sequential():add({}) end, "sslua.nn.Sequential: add expects a module")
check.errors(function() nn.Module { weight = sslua.ones(2) } end, "sslua.nn.Module: the table needs a 'forward' function")
check.errors(function() nn.Module(3) end, "sslua.nn.Module: expected a table")
check.errors(function() nn.resnet { depth = 50 } end, "sslua.nn.resnet: depth must be 18 or 34")
check.errors(function() nn.resnet { blocks = {} } end, "sslua.nn.resnet: blocks must be a non-empty list")
check.errors(function() nn.resnet { blocks = { 1, 0 } } end, "sslua.nn.resnet: blocks[2] must be an integer >= 1")
check.errors(function() nn.resnet18 { blocks = { 1 } } end, "sslua.nn.resnet18: blocks/depth are fixed")
check.errors(function() nn.projector { dims = { 512 } } end, "sslua.nn.projector: dims must list at least 2 sizes")
check.errors(function() nn.BasicBlock(0, 4) end, "sslua.nn.BasicBlock: inplanes must be an integer >= 1")

-- mismatched state dicts
do
  local a = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
  local sd = a:state_dict()
  local b = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5))
  check.errors(function() b:load_state_dict(sd) end, "size mismatch for 0.weight: copying a param with shape [4x3], the shape in the current model is [5x3]")
  local missing = a:state_dict(); missing["1.running_var"] = nil
  check.errors(function() a:load_state_dict(missing) end, "sslua.nn.load_state_dict: error(s) in loading state dict for Sequential: missing keys: 1.running_var")
  local extra = a:state_dict(); extra["2.weight"] = sslua.ones(2)
  check.errors(function() a:load_state_dict(extra) end, "unexpected keys: 2.weight")
  local m, u = a:load_state_dict(extra, { strict = false })
  check.eq(#m, 0); check.eq(u[1], "2.weight", "non-strict load reports unexpected keys")
  local notensor = a:state_dict(); notensor["0.bias"] = 3
  check.errors(function() a:load_state_dict(notensor) end, "'0.bias' is a number, not a tensor")
  check.errors(function() a:load_state_dict(nil) end, "sslua.nn.load_state_dict: expected a table of tensors")
  -- a failed load changes nothing
  local before = a[1].weight:clone()
  local bad = a:state_dict(); bad["0.weight"] = sslua.zeros(4, 3); bad["1.weight"] = sslua.zeros(7)
  check.errors(function() a:load_state_dict(bad) end, "size mismatch for 1.weight")
  check.near(a[1].weight, before, 0, "failed load leaves the module unchanged")
end

-- optimizers
local p = sslua.randn(3):requires_grad_()
check.errors(function() optim.SGD({ p }, {}) end, "sslua.optim.SGD: option 'lr' must be a number")
check.errors(function() optim.SGD({ p }, { lr = -1 }) end, "sslua.optim.SGD: invalid lr")
check.errors(function() optim.SGD({ p }, { lr = 0.1, nesterov = true }) end, "sslua.optim.SGD: Nesterov momentum requires a momentum")
check.errors(function() optim.SGD({}, { lr = 0.1 }) end, "sslua.optim.SGD: optimizer got an empty parameter list")
check.errors(function() optim.SGD({ p, 3 }, { lr = 0.1 }) end, "sslua.optim.SGD: parameter #2 is not a tensor")
check.errors(function() optim.SGD(5, { lr = 0.1 }) end, "sslua.optim.SGD: expected a list of tensors or a module")
check.errors(function() optim.Adam({ p }, { betas = { 1.5, 0.9 } }) end, "sslua.optim.Adam: betas must be in [0, 1)")
check.errors(function() optim.AdamW({ p }, { lr = "x" }) end, "sslua.optim.AdamW: option 'lr' must be a number")
check.errors(function() optim.LARS({ p }, { momentum = 0.9 }) end, "sslua.optim.LARS: option 'lr' must be a number")
check.errors(function() optim.warmup_cosine { base_lr = 1, warmup = 20, total = 10 } end, "sslua.optim.warmup_cosine: warmup (20) exceeds total")
check.errors(function() optim.warmup_cosine(3) end, "sslua.optim.warmup_cosine: expected an options table")
do
  check.errors(function() p.grad = sslua.ones(4) end, "assigned grad has size [4], expected [3]")
  check.errors(function() C.sgd_update(p, sslua.ones(4), nil, 0.1, 0, 0, 0, false, false) end,
    "sslua.optim.SGD: gradient of size [4] for a parameter of size [3]")
  check.errors(function() C.sgd_update(p, sslua.ones(3), nil, 0.1, 0.9, 0, 0, false, false) end,
    "sslua.optim.SGD: momentum buffer missing")
  check.errors(function() C.lars_update(p, sslua.ones(4), sslua.ones(3), 0.1, 0.9, 0, 0.001, true) end,
    "sslua.optim.LARS: gradient of size [4]")
  check.errors(function() C.lars_update(p, sslua.ones(3), sslua.ones(2), 0.1, 0.9, 0, 0.001, true) end,
    "sslua.optim.LARS: state buffer of size [2]")
  check.errors(function() C.adam_update(p, sslua.ones(3), sslua.ones(3), sslua.ones(3), 0.1, 0.9, 0.99, 1e-8, 0, 0, false) end,
    "sslua.optim.Adam: step must be at least 1")
  check.errors(function() C.adam_update(sslua.randn(3, 2):t(), sslua.ones(2, 3), sslua.ones(2, 3), sslua.ones(2, 3), 0.1, 0.9, 0.99, 1e-8, 0, 1, false) end,
    "sslua.optim.Adam: parameter must be contiguous")
end

print("test_nn_errors: ok")

-- Strict options (issue 11, item 1): an unknown option key is an error naming the function, the
-- key and the closest valid key; a wrong-typed value names the expected type; the error points
-- at the caller's line (this file), never at a line inside lua/sslua.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local nn = require "sslua.nn"
local optim = require "sslua.optim"
local aug = require "sslua.aug"
local data = require "sslua.data"
local plot = require "sslua.plot"
local json = require "sslua.json"
local experiment = require "sslua.experiment"

local here = debug.getinfo(1, "S").short_src

-- Runs `f` (a one-line closure whose body makes the call, not as a tail call) and returns the
-- error message, checking that it is located at the closure's line in this file.
local function err_at(f, what)
  local ok, msg = pcall(f)
  check.truthy(not ok, (what or "call") .. " should fail")
  msg = tostring(msg)
  local line = debug.getinfo(f, "S").linedefined
  local prefix = here .. ":" .. line .. ": "
  if msg:sub(1, #prefix) ~= prefix then
    error(string.format("%s: error not located at %s: %s", what or "call", prefix, msg), 2)
  end
  return msg:sub(#prefix + 1)
end

local function has(msg, s, what)
  if not msg:find(s, 1, true) then error(string.format("%s: expected %q in %q", what or "message", s, msg), 2) end
end

local a, b = sslua.randn(8, 4, { rng = sslua.rng(1) }), sslua.randn(8, 4, { rng = sslua.rng(2) })

-- 1. the misspellings of the issue, with the exact wording
local m
m = err_at(function() local r = sslua.loss.infonce(a, b, { betta = 100 }); return r end, "infonce betta")
check.eq(m, "sslua.loss.infonce: unknown option 'betta' (did you mean 'beta'?)")
m = err_at(function() local r = sslua.loss.infonce(a, b, { beta = "x" }); return r end, "infonce beta type")
check.eq(m, "sslua.loss.infonce: option 'beta' must be a number, got string")
m = err_at(function() local r = sslua.loss.infonce(a, b, { zzz_bogus = 1 }); return r end, "infonce bogus")
check.eq(m, "sslua.loss.infonce: unknown option 'zzz_bogus' (valid options: beta, form, symmetric)")

local lin = nn.Linear(4, 2)
m = err_at(function() local r = optim.Adam(lin, { learning_rate = 1 }); return r end, "Adam learning_rate")
has(m, "sslua.optim.Adam: unknown option 'learning_rate'"); has(m, "lr")
check.eq(optim.Adam(lin, { lr = 1 }).lr, 1)

m = err_at(function() local r = aug.RandomResizedCrop { 16, scael = { 0.5, 1 } }; return r end, "RRC scael")
check.eq(m, "sslua.aug.RandomResizedCrop: unknown option 'scael' (did you mean 'scale'?)")
m = err_at(function() local r = aug.RandomResizedCrop(16, { scael = { 0.5, 1 } }); return r end, "RRC(16, scael)")
has(m, "did you mean 'scale'?")
check.eq(aug.RandomResizedCrop { 16, scale = { 0.5, 1 } }.scale[1], 0.5)   -- positional size still works

m = err_at(function() local r = data.synthetic { N = 10 }; return r end, "synthetic N")
check.eq(m, "sslua.data.synthetic: unknown option 'N' (did you mean 'n'?)")
m = err_at(function() local r = sslua.geom.rank(a, { rtoll = 1e-3 }); return r end, "rank rtoll")
check.eq(m, "sslua.geom.rank: unknown option 'rtoll' (did you mean 'rtol'?)")
m = err_at(function() local r = sslua.randn(3, { dtyp = "float64" }); return r end, "randn dtyp")
check.eq(m, "sslua.randn: unknown option 'dtyp' (did you mean 'dtype'?)")

-- requires_grad is a real option of the constructors (torch.randn(3, requires_grad=True))
local x = sslua.randn(3, { requires_grad = true })
sslua.sum(x * x):backward()
check.near(x.grad, x * 2, 1e-6, "randn{requires_grad} is a leaf that gets a gradient")
check.truthy(sslua.zeros(2, 2, { requires_grad = true, dtype = "float64" }):dtype() == "float64")

-- simclr: epoch (not epochs) must fail before any training
local ds = data.synthetic { n = 8, size = 8 }
m = err_at(function() local r = experiment.simclr { encoder = nn.Linear(4, 4), projector = nn.Linear(4, 2), data = ds,
  policy = aug.policy("small"), epoch = 0, progress = false }; return r end, "simclr epoch")
has(m, "sslua.experiment.simclr: unknown option 'epoch' (did you mean 'epochs'?)")

-- simclr: momentum means nothing to Adam (it has betas); it used to be dropped silently
m = err_at(function() local r = experiment.simclr { encoder = nn.Linear(4, 4), projector = nn.Linear(4, 2), data = ds,
  policy = aug.policy("small"), optimizer = "adam", momentum = 0.9, epochs = 0, progress = false }; return r end, "simclr adam momentum")
has(m, "sslua.experiment.simclr: option 'momentum' does not apply to the Adam optimizer")

-- experiment.args: an unknown --flag names the closest declared one
m = select(2, pcall(experiment.args, { epochs = 3, lr = 0.1 }, { argv = { "--epoch", "2" } }))
has(tostring(m), "unknown option '--epoch'"); has(tostring(m), "did you mean '--epochs'?")
m = select(2, pcall(experiment.args, { epochs = 3 }, { argv = { "--zzz-bogus", "2" } }))
has(tostring(m), "unknown option '--zzz-bogus'")
check.truthy(not tostring(m):find("did you mean", 1, true), "no suggestion when nothing is close")
m = err_at(function() local r = experiment.args({ epochs = 3 }, { argv = {}, descripton = "x" }); return r end, "args opts")
has(m, "sslua.experiment.args: unknown option 'descripton' (did you mean 'description'?)")

-- 2. the sweep: every options-taking function, a valid call, then the same call with zzz_bogus
local img = sslua.rand(3, 8, 8, { rng = sslua.rng(3) })
local imgs = sslua.rand(2, 3, 8, 8, { rng = sslua.rng(4) })
local x4 = sslua.randn(1, 1, 4, 4)
local M = sslua.randn(5, 3, { rng = sslua.rng(5) })
local rrc = aug.RandomResizedCrop { 8 }
local tmp = os.tmpname()
os.remove(tmp)
local npy = tmp .. ".npy"
local sft = tmp .. ".safetensors"
sslua.save(npy, sslua.ones(2))
local feats = { train = M, train_labels = { 1, 2, 1, 2, 1 }, test = M, test_labels = { 1, 2, 1, 2, 1 } }
local run_dir = tmp .. "-run"
local cfg = experiment.args({ n = 1 }, { argv = {} })
local run = experiment.run(cfg, { dir = run_dir })
local function with(t, extra)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  for k, v in pairs(extra) do c[k] = v end
  return c
end

-- name, function(o) making the call with options o merged into a valid options table
local sweep = {
  { "sslua.tensor", function(o) return sslua.tensor({ 1, 2 }, with({ dtype = "float64" }, o)) end },
  { "sslua.zeros", function(o) return sslua.zeros(2, with({}, o)) end },
  { "sslua.ones", function(o) return sslua.ones(2, 3, with({}, o)) end },
  { "sslua.full", function(o) return sslua.full({ 2 }, 7, with({}, o)) end },
  { "sslua.eye", function(o) return sslua.eye(2, with({}, o)) end },
  { "sslua.arange", function(o) return sslua.arange(1, 3, with({}, o)) end },
  { "sslua.linspace", function(o) return sslua.linspace(0, 1, 3, with({}, o)) end },
  { "sslua.rand", function(o) return sslua.rand(2, with({ rng = sslua.rng(1) }, o)) end },
  { "sslua.randn", function(o) return sslua.randn(2, with({ rng = sslua.rng(1) }, o)) end },
  { "sslua.randperm", function(o) return sslua.randperm(3, with({ rng = sslua.rng(1) }, o)) end },
  { "sslua.randint", function(o) return sslua.randint(1, 3, 4, with({ rng = sslua.rng(1) }, o)) end },
  { "sslua.var", function(o) return M:var(1, with({ unbiased = false }, o)) end },
  { "sslua.std", function(o) return M:std(with({ correction = 0 }, o)) end },
  { "sslua.norm", function(o) return M:norm(with({ p = 1 }, o)) end },
  { "sslua.normalize", function(o) return M:normalize(2, with({ eps = 1e-6 }, o)) end },
  { "sslua.softmax", function(o) return M:softmax(2, with({}, o)) end },
  { "sslua.log_softmax", function(o) return M:log_softmax(2, with({}, o)) end },
  { "sslua.logsumexp", function(o) return M:logsumexp(2, false, with({}, o)) end },
  { "sslua.sort", function(o) return M:sort(1, with({ descending = true }, o)) end },
  { "sslua.topk", function(o) return M:topk(2, 1, with({ largest = false }, o)) end },
  { "sslua.save", function(o) return sslua.save(sft, { w = sslua.ones(2) }, with({ metadata = { a = "b" } }, o)) end },
  { "sslua.load", function(o) return sslua.load(npy, with({ dtype = "float64" }, o)) end },
  { "sslua.grad_check", function(o) return sslua.grad_check(function(t) return (t * t):sum() end,
    sslua.randn(3, { dtype = "float64" }), with({ eps = 1e-6 }, o)) end },
  { "sslua.linalg.svd", function(o) return sslua.linalg.svd(M, with({ full = false }, o)) end },
  { "sslua.linalg.pinv", function(o) return sslua.linalg.pinv(M, with({ rtol = 1e-6 }, o)) end },
  { "sslua.lie.so2", function(o) return sslua.lie.so2(0.5, with({ dtype = "float64" }, o)) end },
  { "sslua.lie.random_generator", function(o) return sslua.lie.random_generator(3, with({ skew = true }, o)) end },
  { "sslua.lie.one_hot_image", function(o) return sslua.lie.one_hot_image(4, with({ rng = sslua.rng(1) }, o)) end },
  { "sslua.loss.infonce", function(o) return sslua.loss.infonce(a, b, with({ beta = 2, form = "ntxent" }, o)) end },
  { "sslua.loss.upper_bound", function(o) return sslua.loss.upper_bound(a, b, sslua.randn(4, 2), with({ beta = 2 }, o)) end },
  { "sslua.loss.infonce_terms", function(o) return sslua.loss.infonce_terms(a, b, with({ beta = 2 }, o)) end },
  { "sslua.geom.rank", function(o) return sslua.geom.rank(M, with({ tau = 1e-3 }, o)) end },
  { "sslua.geom.histogram", function(o) return sslua.geom.histogram(M, 4, with({ range = { -3, 3 } }, o)) end },
  { "sslua.geom.knn_accuracy", function(o) return sslua.geom.knn_accuracy(with(feats, with({ k = 2 }, o))) end },
  { "sslua.geom.linear_probe", function(o) return sslua.geom.linear_probe(with(feats, with({ epochs = 2 }, o))) end },
  { "sslua.aug.apply", function(o) return rrc:apply(imgs, with({ rng = sslua.rng(1) }, o)) end },
  { "sslua.aug.pair", function(o) return rrc:pair(imgs, with({ rng = sslua.rng(1) }, o)) end },
  { "sslua.aug.get_params", function(o) return rrc:get_params(8, 8, with({ rng = sslua.rng(1) }, o)) end },
  { "sslua.aug.RandomResizedCrop", function(o) return aug.RandomResizedCrop(with({ 8, scale = { 0.5, 1 } }, o)) end },
  { "sslua.aug.RandomHorizontalFlip", function(o) return aug.RandomHorizontalFlip(with({ p = 0.5 }, o)) end },
  { "sslua.aug.RandomGrayscale", function(o) return aug.RandomGrayscale(with({ p = 0.5 }, o)) end },
  { "sslua.aug.ColorJitter", function(o) return aug.ColorJitter(with({ brightness = 0.4 }, o)) end },
  { "sslua.aug.GaussianBlur", function(o) return aug.GaussianBlur(with({ kernel_size = 3 }, o)) end },
  { "sslua.aug.Rotate", function(o) return aug.Rotate(with({ degrees = 10 }, o)) end },
  { "sslua.aug.policy", function(o) return aug.policy("small", with({ flip = true }, o)) end },
  { "sslua.aug.functional.rotate", function(o) return aug.functional.rotate(img, 10, with({ interpolation = "bilinear" }, o)) end },
  { "sslua.aug.save_grid", function(o) return aug.save_grid(imgs, tmp .. ".png", with({ nrow = 2 }, o)) end },
  { "sslua.data.synthetic", function(o) return data.synthetic(with({ n = 4, size = 8 }, o)) end },
  { "sslua.data.subset", function(o) return data.subset(ds, 2, with({ rng = sslua.rng(1) }, o)) end },
  { "sslua.data.batches", function(o) return ds:batches(with({ size = 4 }, o)) end },
  { "sslua.data.cifar10", function(o) return data.cifar10(with({ root = "/nonexistent" }, o)) end, "cannot" },
  { "sslua.data.mnist", function(o) return data.mnist(with({ root = "/nonexistent" }, o)) end, "cannot" },
  { "sslua.nn.conv2d", function(o) return nn.F.conv2d(x4, sslua.randn(1, 1, 3, 3), with({ padding = 1 }, o)) end },
  { "sslua.nn.batch_norm", function(o) return nn.F.batch_norm(x4, sslua.zeros(1), sslua.ones(1), with({ eps = 1e-5 }, o)) end },
  { "sslua.nn.max_pool2d", function(o) return nn.F.max_pool2d(x4, 2, with({ padding = 1 }, o)) end },
  { "sslua.nn.avg_pool2d", function(o) return nn.F.avg_pool2d(x4, 2, with({ count_include_pad = false }, o)) end },
  { "sslua.nn.Linear", function(o) return nn.Linear(2, 3, with({ bias = false }, o)) end },
  { "sslua.nn.Conv2d", function(o) return nn.Conv2d(1, 2, 3, with({ padding = 1 }, o)) end },
  { "sslua.nn.BatchNorm1d", function(o) return nn.BatchNorm1d(3, with({ eps = 1e-3 }, o)) end },
  { "sslua.nn.BatchNorm2d", function(o) return nn.BatchNorm2d(3, with({ momentum = 0.2 }, o)) end },
  { "sslua.nn.MaxPool2d", function(o) return nn.MaxPool2d(2, with({ padding = 1 }, o)) end },
  { "sslua.nn.AvgPool2d", function(o) return nn.AvgPool2d(2, with({ count_include_pad = false }, o)) end },
  { "sslua.nn.BasicBlock", function(o) return nn.BasicBlock(2, 2, 1, with({ rng = sslua.rng(1) }, o)) end },
  { "sslua.nn.resnet", function(o) return nn.resnet(with({ blocks = { 1 }, width = 2 }, o)) end },
  { "sslua.nn.resnet18", function(o) return nn.resnet18(with({ width = 2 }, o)) end },
  { "sslua.nn.resnet34", function(o) return nn.resnet34(with({ width = 2 }, o)) end },
  { "sslua.nn.projector", function(o) return nn.projector(with({ dims = { 4, 2 } }, o)) end },
  { "sslua.nn.load_state_dict", function(o) return lin:load_state_dict(lin:state_dict(), with({ strict = true }, o)) end },
  { "sslua.optim.SGD", function(o) return optim.SGD(lin, with({ lr = 0.1 }, o)) end },
  { "sslua.optim.Adam", function(o) return optim.Adam(lin, with({ lr = 0.1 }, o)) end },
  { "sslua.optim.AdamW", function(o) return optim.AdamW(lin, with({ lr = 0.1 }, o)) end },
  { "sslua.optim.LARS", function(o) return optim.LARS(lin, with({ lr = 0.1 }, o)) end },
  { "sslua.optim.warmup_cosine", function(o) return optim.warmup_cosine(with({ base_lr = 1, total = 10 }, o)) end },
  { "sslua.plot.line", function(o) return plot.line(with({ y = { 1, 2 } }, o)) end },
  { "sslua.plot.spectrum", function(o) return plot.spectrum(with({ values = { 3, 2, 1 } }, o)) end },
  { "sslua.plot.hist", function(o) return plot.hist(with({ values = { 1, 2, 3 }, bins = 2 }, o)) end },
  { "sslua.experiment.args", function(o) return experiment.args({ n = 1 }, with({ argv = {} }, o)) end },
  { "sslua.experiment.usage", function(o) return experiment.usage({ n = 1 }, with({ description = "d" }, o)) end },
  { "sslua.experiment.progress", function(o) return experiment.progress(3, with({ out = { write = function() end } }, o)) end },
  { "sslua.experiment.format_table", function(o) return experiment.format_table({ { a = 1.5 } }, { "a" }, with({ digits = 3 }, o)) end },
  { "sslua.experiment.run", function(o) return experiment.run(cfg, with({ dir = run_dir }, o)) end },
  { "sslua.experiment.Run:logger", function(o) return run:logger("extra.csv", with({ columns = { "a" } }, o)) end },
  { "sslua.experiment.print_table", function(o) return experiment.print_table({}, { "a" }, with({ digits = 3 }, o)) end },
  { "sslua.json.encode", function(o) return json.encode({ 1 }, with({ indent = " " }, o)) end },
  { "sslua.experiment.simclr", function(o)
    return experiment.simclr(with({ encoder = nn.Flatten(), projector = nn.Linear(192, 2), data = ds,
      policy = aug.policy("small"), epochs = 0, progress = false }, o)) end },
}

for _, case in ipairs(sweep) do
  local name, f, expected_failure = case[1], case[2], case[3]
  local ok, err = pcall(f, {})
  if expected_failure then
    check.truthy(not ok and tostring(err):find(expected_failure, 1, true), name .. ": valid call fails only on the data")
  elseif not ok then
    error(name .. ": the valid call failed: " .. tostring(err))
  end
  ok, err = pcall(f, { zzz_bogus = 1 })
  check.truthy(not ok, name .. " must reject zzz_bogus")
  has(tostring(err), name .. ": unknown option 'zzz_bogus'", name)
end
print("swept " .. #sweep .. " functions")
os.remove(npy); os.remove(sft); os.remove(tmp .. ".png")
for _, f in ipairs { "config.json", "extra.csv", "metrics.csv" } do os.remove(run_dir .. "/" .. f) end
os.remove(run_dir)

-- 3. wrong-typed values name the expected type
m = err_at(function() local r = nn.Linear(2, 3, { bias = 1 }); return r end, "Linear bias type")
check.eq(m, "sslua.nn.Linear: option 'bias' must be a boolean, got number")
m = err_at(function() local r = sslua.linalg.svd(M, { full = "yes" }); return r end, "svd full type")
check.eq(m, "sslua.linalg.svd: option 'full' must be a boolean, got string")
m = err_at(function() local r = data.mnist({ root = 3 }); return r end, "mnist root type")
check.eq(m, "sslua.data.mnist: option 'root' must be a string, got number")
m = err_at(function() local r = optim.SGD(lin, { lr = 0.1, nesterov = "yes" }); return r end, "SGD nesterov type")
check.eq(m, "sslua.optim.SGD: option 'nesterov' must be a boolean, got string")
m = err_at(function() local r = plot.line { y = { 1 }, title = 3 }; return r end, "plot title type")
check.eq(m, "sslua.plot.line: option 'title' must be a string, got number")

-- 4. positional entries are errors where none is accepted
m = err_at(function() local r = sslua.loss.infonce(a, b, { 2, beta = 2 }); return r end, "infonce positional")
check.eq(m, "sslua.loss.infonce: options must be name = value pairs, got a positional entry [1]")
m = err_at(function() local r = nn.Linear(2, 3, { false, rng = sslua.rng(1) }); return r end, "Linear positional")
has(m, "sslua.nn.Linear: options must be name = value pairs")

-- 5. errors point at the caller's line for every module (err_at checks the location)
err_at(function() local r = aug.GaussianBlur { kernel_sise = 3 }; return r end, "aug location")
err_at(function() local r = ds:batches { sise = 2 }; return r end, "data location")
err_at(function() local r = nn.MaxPool2d(2, { paddng = 1 }); return r end, "nn location")
err_at(function() local r = optim.AdamW(lin, { lrr = 1 }); return r end, "optim location")
err_at(function() local r = plot.hist { values = { 1 }, binss = 2 }; return r end, "plot location")
err_at(function() local r = M:sort(1, { descendng = true }); return r end, "tensor location")
err_at(function() local r = rrc:apply(imgs, { recrd = true }); return r end, "apply location")

local util = require "sslua.util"

-- 6. the shared closeness rule (util.closest / the Swift OptionNames.closest agree on these)
check.eq(util.closest("scael", { "size", "scale", "ratio" }), "scale")       -- a transposition is one edit
check.eq(util.closest("LR", { "lr", "eps" }), "lr")                          -- case-insensitive
check.eq(util.closest("learning_rate", { "lr", "eps", "betas" }), nil)
check.eq(util.closest("weightdecay", { "weight_decay", "lr" }), "weight_decay")

-- 7. util.class: constructor, methods through __index, inheritance, __tostring
local Base = util.class("Base")
function Base:__init(v)
  if type(v) ~= "number" then error("Base: v must be a number", 2) end
  self.v = v
  return self
end
function Base:get() return self.v end
Base.__tostring = function(s) return "Base(" .. tostring(s.v) .. ")" end
local Child = util.class("Child", Base)
function Child:twice() return 2 * self:get() end
local c = Child(21)
check.eq(c:twice(), 42)
check.eq(tostring(c), "Base(21)")
check.eq(getmetatable(c), Child)
check.eq(getmetatable(Base(1)), Base)
m = select(2, pcall(function() local r = Child("x"); return r end))
check.truthy(tostring(m):find(here .. ":" .. debug.getinfo(1, "l").currentline - 1 .. ": Base: v must be", 1, true),
  "a constructor's level-2 error points at the line calling it: " .. tostring(m))

print("test_api_strict_options: ok")

-- The error rule across the whole toolkit: no Swift trap is reachable from Lua, and every misuse is a
-- Lua error naming the function. A deterministic fuzzer (fixed seed) walks every public
-- function of every sslua table, and the methods of the objects they return (modules,
-- optimizers, transforms, datasets, figures, runs, loggers, progress bars, generators), and
-- calls each with arguments from a hostile pool (see lib/fuzz.lua): first every argument
-- position replaced by every pool value with the others kept at a working baseline, then a
-- number of random argument lists. A crash kills the process, so the file fails; every error
-- that comes back must be a string naming sslua or the function.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local fuzz = require "fuzz"
local S = sslua
local nn, optim, aug, data, plot, experiment = S.nn, S.optim, S.aug, S.data, S.plot, S.experiment

local VERBOSE = os.getenv("SSLUA_FUZZ_VERBOSE") ~= nil
-- SSLUA_FUZZ_RANDOM / SSLUA_FUZZ_SEED: a longer or different random search while debugging.
local RANDOM_LISTS = tonumber(os.getenv("SSLUA_FUZZ_RANDOM")) or 12   -- random argument lists per function
-- The budget is a number of calls per function, never CPU time: the same calls run on every
-- machine and under any load, so a failure reproduces. SSLUA_FUZZ_CALLS raises (or lowers) the
-- default; the slow functions (a training epoch per call, a full dataset, ...) get a smaller
-- budget in `call_budget` below. SSLUA_FUZZ_PROFILE=1 prints calls and CPU time per function.
local CALLS = tonumber(os.getenv("SSLUA_FUZZ_CALLS")) or 1000
local PROFILE = os.getenv("SSLUA_FUZZ_PROFILE") ~= nil
local g = fuzz.rng(tonumber(os.getenv("SSLUA_FUZZ_SEED")) or 20260530)
local threads0 = S.threads()
local tmpdir = os.tmpname()
os.remove(tmpdir)
os.execute("mkdir -p '" .. tmpdir .. "'")

-- Functions left out of the generic walk, each with its reason. Their misuse is checked by the
-- targeted calls at the end of this file, with paths inside a temporary directory.
local skip = {
  ["sslua.save"] = "writes a file at a fuzzed path (targeted below)",
  ["sslua.aug.save_grid"] = "writes a file at a fuzzed path (targeted below)",
  ["sslua.plot.Figure.save"] = "writes a file at a fuzzed path (targeted below)",
  ["sslua.plot.hist.save"] = "writes a file at a fuzzed path (targeted below)",
  ["sslua.plot.spectrum.save"] = "writes a file at a fuzzed path (targeted below)",
  ["sslua.experiment.write_atomic"] = "writes a file at a fuzzed path (targeted below)",
  ["sslua.experiment.run"] = "creates run directories under results/ (targeted below)",
  ["sslua.experiment.args"] = "parses the script's global arg and exits on --help (tested in test_experiment_args)",
  ["sslua.experiment.interpreter"] = "returns the interpreter path; no arguments",
  ["sslua.data.cifar10"] = "reads datasets from disk; a default root loads a full dataset (targeted below)",
  ["sslua.data.cifar100"] = "reads datasets from disk (targeted below)",
  ["sslua.data.fashion_mnist"] = "reads 60000 images from the default root (targeted below)",
  ["sslua.data.mnist"] = "reads datasets from disk (targeted below)",
}

-- SSLUA_FUZZ_SKIP="a.b,c.d" leaves more functions out (to go on past a crash while debugging).
for q in (os.getenv("SSLUA_FUZZ_SKIP") or ""):gmatch("[^,]+") do skip[q] = "SSLUA_FUZZ_SKIP" end

-- Plausible arguments: the first list a function accepts becomes its baseline, so that each
-- hostile value is tried in one position while the others are valid.
local function plausible()
  local X, A = S.randn(4, 3), S.randn(3, 3)
  local img = S.rand(2, 3, 8, 8)
  return {
    {}, { X }, { X, X }, { X, 1 }, { X, 2 }, { X, 1, 1 }, { X, 1, 2 }, { A }, { A, A }, { X, A },
    { 2, 3 }, { 3 }, { { 2, 3 } }, { img }, { img[1] }, { img, {} }, { X, X, A }, { X, 0.5 },
    { X, S.tensor { 1, 2, 3, 1 } }, { img[1], 1, 1, 4, 4, 4 }, { img[1], 0.5 }, { img[1], 3, 1 },
    { X, X, S.randn(3, 2) }, { S.randn(3, 3, 3) }, { { size = 4 } }, { { n = 4, size = 8 } },
    { { y = { 1, 2, 3 } } }, { { values = { 3, 2, 1 } } }, { "small" }, { 1, 2 }, { 2, 3, 2 },
    { {}, {} }, { X, { 1, 2 } },
  }
end

-- Working argument lists for functions whose signature the plausible lists above miss.
local png_path = tmpdir .. "/base.png"
aug.save_grid(S.rand(1, 3, 4, 4), png_path)
local npy_path = tmpdir .. "/base.npy"
S.save(npy_path, S.randn(2, 3))
local function labels4() return S.tensor { 1, 2, 1, 2 } end
local baselines = {
  ["sslua.bmm"] = function() return { S.randn(2, 3, 4), S.randn(2, 4, 2) } end,
  ["sslua.cat"] = function() return { { S.randn(2, 3), S.randn(1, 3) }, 1 } end,
  ["sslua.stack"] = function() return { { S.randn(2, 3), S.randn(2, 3) }, 1 } end,
  ["sslua.gather"] = function() return { S.randn(2, 3), 2, S.tensor { { 1, 3 }, { 2, 2 } } } end,
  ["sslua.scatter"] = function() return { S.zeros(2, 3), 2, S.tensor { { 1, 3 }, { 2, 2 } }, S.randn(2, 2) } end,
  ["sslua.scatter_"] = function() return { S.zeros(2, 3), 2, S.tensor { { 1, 3 }, { 2, 2 } }, S.randn(2, 2) } end,
  ["sslua.scatter_add"] = function() return { S.zeros(2, 3), 2, S.tensor { { 1, 3 }, { 2, 2 } }, S.randn(2, 2) } end,
  ["sslua.scatter_add_"] = function() return { S.zeros(2, 3), 2, S.tensor { { 1, 3 }, { 2, 2 } }, S.randn(2, 2) } end,
  ["sslua.index"] = function() return { S.randn(4, 3), 1, S.tensor { 1, 4, 2 } } end,
  ["sslua.masked_fill"] = function() return { S.randn(2, 3), S.tensor { { 1, 0, 1 }, { 0, 0, 1 } }, 5 } end,
  ["sslua.masked_fill_"] = function() return { S.randn(2, 3), S.tensor { { 1, 0, 1 }, { 0, 0, 1 } }, 5 } end,
  ["sslua.narrow"] = function() return { S.randn(4, 3), 1, 2, 2 } end,
  ["sslua.expand"] = function() return { S.randn(1, 3), 4, 3 } end,
  ["sslua.reshape"] = function() return { S.randn(4, 3), 2, 6 } end,
  ["sslua.view"] = function() return { S.randn(4, 3), 3, 4 } end,
  ["sslua.item"] = function() return { S.tensor(3) } end,
  ["sslua.outer"] = function() return { S.randn(3), S.randn(2) } end,
  ["sslua.dot"] = function() return { S.randn(3), S.randn(3) } end,
  ["sslua.backward"] = function() return { (S.randn(3):requires_grad_() * 2):sum() } end,
  ["sslua.grad_check"] = function() return { function(a) return (a * a):sum() end, { S.randn(3, { dtype = "float64" }) } } end,
  ["sslua.no_grad"] = function() return { function() return 1 end } end,
  ["sslua.load"] = function() return { npy_path } end,
  ["sslua.geom.knn_accuracy"] = function()
    return { { train = S.randn(4, 3), train_labels = labels4(), test = S.randn(2, 3), test_labels = S.tensor { 1, 2 }, k = 2 } }
  end,
  ["sslua.geom.linear_probe"] = function()
    return { { train = S.randn(4, 3), train_labels = labels4(), test = S.randn(2, 3), test_labels = S.tensor { 1, 2 }, epochs = 3 } }
  end,
  ["sslua.geom.label_agreement"] = function() return { S.tensor { 3, 4 }, labels4(), S.tensor { 1, 2 } } end,
  ["sslua.geom.linear_regions"] = function() return { { { S.randn(4, 3), S.randn(4) }, { S.randn(2, 4), S.randn(2) } }, S.randn(5, 3) } end,
  ["sslua.lie.orbit"] = function() return { S.randn(3), S.lie.random_generator(3), S.tensor { 0.1, 0.2 } } end,
  ["sslua.nn.functional.conv2d"] = function() return { S.rand(1, 3, 4, 4), S.randn(2, 3, 3, 3), S.randn(2), { padding = 1 } } end,
  ["sslua.nn.functional.max_pool2d"] = function() return { S.rand(1, 3, 4, 4), 2 } end,
  ["sslua.nn.functional.avg_pool2d"] = function() return { S.rand(1, 3, 4, 4), 2 } end,
  ["sslua.nn.functional.adaptive_avg_pool2d"] = function() return { S.rand(1, 3, 4, 4), 1 } end,
  ["sslua._nn.conv2d"] = function() return { S.rand(1, 3, 4, 4), S.randn(2, 3, 3, 3), S.randn(2), 1, 1, 1, 1 } end,
  ["sslua._nn.batch_norm"] = function() return { S.rand(4, 3), S.ones(3), S.zeros(3), S.zeros(3), S.ones(3), true, 0.1, 1e-5, false } end,
  ["sslua._nn.max_pool2d"] = function() return { S.rand(1, 3, 4, 4), 2, 2, 2, 2, 0, 0 } end,
  ["sslua._nn.avg_pool2d"] = function() return { S.rand(1, 3, 4, 4), 2, 2, 2, 2, 0, 0, true } end,
  ["sslua._nn.adaptive_avg_pool2d"] = function() return { S.rand(1, 3, 4, 4), 2, 2 } end,
  ["sslua._nn.sgd_update"] = function() return { S.randn(3), S.randn(3), S.zeros(3), 0.1, 0.9, 0, 1e-4, false, true } end,
  ["sslua._nn.adam_update"] = function() return { S.randn(3), S.randn(3), S.zeros(3), S.zeros(3), 0.1, 0.9, 0.999, 1e-8, 0, 1, false } end,
  ["sslua._nn.lars_update"] = function() return { S.randn(3), S.randn(3), S.zeros(3), 0.1, 0.9, 1e-6, 1e-3, true } end,
  ["sslua.optim.SGD"] = function() return { { S.randn(3):requires_grad_() }, { lr = 0.1 } } end,
  ["sslua.optim.Adam"] = function() return { { S.randn(3):requires_grad_() }, { lr = 0.1 } } end,
  ["sslua.optim.AdamW"] = function() return { { S.randn(3):requires_grad_() }, { lr = 0.1 } } end,
  ["sslua.optim.LARS"] = function() return { { S.randn(3):requires_grad_() }, { lr = 0.1 } } end,
  ["sslua.optim.warmup_cosine"] = function() return { { base_lr = 1, warmup = 2, total = 10 } } end,
  -- one tiny epoch: every option field is then replaced by hostile values
  ["sslua.experiment.simclr"] = function()
    return { { encoder = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 8)), projector = nn.Linear(8, 4),
               data = data.synthetic { n = 8, size = 8, seed = 1 }, policy = aug.policy("small"),
               epochs = 1, batch = 4, progress = false } }
  end,
  ["sslua.data.synthetic"] = function() return { { n = 4, size = 8, seed = 1 } } end,
  ["sslua._data.synthetic"] = function() return { 4, 1, 8 } end,
  ["sslua._data.gather"] = function() return { S.rand(4, 3, 2, 2), { 2, 1 } } end,
  ["sslua.data.subset"] = function() return { data.synthetic { n = 8, size = 8, seed = 1 }, 4 } end,
  ["sslua._aug.apply"] = function() return { aug.RandomHorizontalFlip { p = 0.5 }, S.rand(2, 3, 4, 4), { record = true } } end,
  ["sslua._aug.crop_params"] = function() return { 8, 8, {} } end,
  ["sslua.aug.load_png"] = function() return { png_path } end,
  ["sslua.data.Dataset.batches"] = function() return { { size = 3 } } end,
  ["sslua.experiment.Run.save"] = function() return { plot.line { y = { 1, 2 } }, "f.svg" } end,
  ["sslua.experiment.Run.write"] = function() return { "a.txt", "text" } end,
}

-- Option fields whose huge values legitimately run for ages (a loop count): left out of the
-- field mutations; their wrong types and negative values are checked in section 3.
local blocking_fields = { ["sslua.experiment.simclr"] = { epochs = true } }

-- Call budgets of the slow functions (measured with SSLUA_FUZZ_PROFILE=1 and no limit: every
-- other function makes at most about 740 calls in the walk, in under a second of CPU in all,
-- so the default budget covers the whole walk for them). Building a ResNet takes 0.2-0.4 s.
local call_budget = {
  ["sslua.nn.resnet"] = 3, ["sslua.nn.resnet18"] = 3, ["sslua.nn.resnet34"] = 2,
}

local calls, errors, bad_messages = 0, 0, {}
-- Errors that legitimately come from Lua itself or from the fuzzer's own callbacks.
local allowed = {
  "boom from fuzz callback",      -- the pool's erroring function, called back by no_grad & co.
}

-- The pure-Lua helpers name their functions module-relative ("experiment.args: ...",
-- "plot.line: ...", "run:path: ...", "json.encode: ..."): that names the function too.
local lua_modules = { experiment = true, plot = true, json = true, run = true, aug = true, data = true,
                      optim = true, nn = true, paper = true, simclr = true }

local function record_error(qual, short, err, labels)
  errors = errors + 1
  if fuzz.names_function(err, short) then return end
  if type(err) == "string" then
    for _, a in ipairs(allowed) do if err:find(a, 1, true) then return end end
    local stripped = fuzz.strip_location(err)
    local mod = stripped:match("^([%w_]+)[.:][%w_]+: ")
    if mod and lua_modules[mod] then return end
    -- a Lua error raised inside this file's own callbacks (e.g. the forward of an nn.Module)
    if err:match("^[^:]*test_badinput_all%.lua:%d+:") then return end
  end
  local key = qual .. " | " .. fuzz.strip_location(tostring(err)):gsub("%d+", "N")
  if not bad_messages[key] then
    bad_messages[key] = string.format("%s(%s): %s", qual, table.concat(labels, ", "), tostring(err))
  end
end

local fn_limit = math.huge   -- the call count at which the current function's budget ends
local function call(qual, short, f, args, n, labels)
  if calls >= fn_limit then return true end
  calls = calls + 1
  if VERBOSE then io.stderr:write(qual, "(", table.concat(labels, ", "), ")\n") end
  local ok, err = pcall(f, table.unpack(args, 1, n))
  if not ok then record_error(qual, short, err, labels) end
  return ok
end

-- Runs the walk for one callable. `make_self` (for methods) builds a fresh object per round.
local ONLY = os.getenv("SSLUA_FUZZ_ONLY")   -- debugging: fuzz this one function only
local function fuzz_one(qual, f, make_self)
  if ONLY == "list" then io.stderr:write("fuzz-target ", qual, "\n") end
  if skip[qual] or (ONLY and qual ~= ONLY) then return end
  local short = qual:match("([%w_]+)$")
  local t0, calls0 = os.clock(), calls
  local budget = call_budget[qual] and math.max(1, call_budget[qual] * CALLS // 1000) or CALLS
  fn_limit = calls0 + budget
  local self_obj = make_self and make_self() or nil
  local prefix = make_self and 1 or 0
  local function with_self(list, n)
    if not make_self then return list, n end
    local out = { self_obj }
    for i = 1, n do out[i + 1] = list[i] end
    return out, n + 1
  end
  -- baseline
  local base, base_n = {}, 0
  local cands = plausible()
  if baselines[qual] then
    local b = baselines[qual]()
    local a, n = with_self(b, #b)
    local ok, err = pcall(f, table.unpack(a, 1, n))
    check.truthy(ok, "the baseline of " .. qual .. " works: " .. tostring(err))
    cands = { baselines[qual]() }
  end
  -- up to two working lists of different lengths (the longest found and the first one), so
  -- that e.g. size(x) and size(x, d) both get every hostile value in every position
  local bases = {}
  for _, cand in ipairs(cands) do
    local a, n = with_self(cand, #cand)
    local ok = pcall(f, table.unpack(a, 1, n))
    calls = calls + 1
    if ok then
      if #bases == 0 then bases[1] = cand
      elseif #cand > #bases[#bases] then bases[2] = cand end
    end
    if make_self then self_obj = make_self() end
    if calls >= calls0 + budget // 4 then break end
  end
  if #bases == 0 then bases[1] = {} end
  for bi, b in ipairs(bases) do
  base, base_n = b, #b
  if VERBOSE then io.stderr:write("fuzz: baseline of ", qual, ": ", base_n, " arguments\n") end
  local positions = math.max(base_n + 1, 2)
  -- every position, every pool value
  for pos = (bi == 1 and 1 - prefix or 1), positions do
    local pool = fuzz.pool(S)
    for _, item in ipairs(pool) do
      local a, n = {}, math.max(base_n, pos)
      local labels = {}
      for i = 1, n do a[i] = base[i]; labels[i] = "ok" end
      if pos >= 1 then a[pos] = item.value; labels[pos] = item.label end
      local aa, nn_ = with_self(a, n)
      if pos == 0 then aa[1] = item.value; table.insert(labels, 1, "self=" .. item.label) end
      if pos == 0 and type(self_obj) == "table" then
        -- a method of a Lua-table object called with a foreign self (obj.method(x) for
        -- obj:method(x)): Lua's own "attempt to index ... (local 'self')"; it must not crash.
        calls = calls + 1
        pcall(f, table.unpack(aa, 1, nn_))
      else
        call(qual, short, f, aa, nn_, labels)
      end
      if make_self and (pos == 0 or not item.value) then self_obj = make_self() end
    end
  end
  end
  -- every field of an options-table argument of the baseline replaced by every pool value
  for k = 1, base_n do
    local o = base[k]
    if type(o) == "table" and getmetatable(o) == nil and next(o) ~= nil and type(next(o)) == "string" then
      local keys = {}
      for key in pairs(o) do
        if type(key) == "string" and not (blocking_fields[qual] or {})[key] then keys[#keys + 1] = key end
      end
      table.sort(keys)
      for _, key in ipairs(keys) do
        for _, item in ipairs(fuzz.pool(S)) do
          local fresh = baselines[qual] and baselines[qual]() or base
          local a, labels = {}, {}
          for i = 1, base_n do a[i] = fresh[i]; labels[i] = "ok" end
          local copy = {}
          for kk, vv in pairs(fresh[k]) do copy[kk] = vv end
          copy[key] = item.value
          a[k] = copy; labels[k] = "{" .. key .. "=" .. item.label .. "}"
          local aa, nn_ = with_self(a, base_n)
          call(qual, short, f, aa, nn_, labels)
        end
      end
    end
  end
  -- random argument lists (pool values and random option tables)
  local pool = fuzz.pool(S)
  for _ = 1, RANDOM_LISTS do
    local n = g.int(5) - 1
    local a, labels = {}, {}
    for i = 1, n do
      if g.int(4) == 1 then a[i] = fuzz.options(g, pool); labels[i] = "options"
      else local it = g.pick(pool); a[i] = it.value; labels[i] = it.label end
    end
    local aa, nn_ = with_self(a, n)
    call(qual, short, f, aa, nn_, labels)
  end
  -- the baseline with a random option table appended or replacing the last argument
  for _ = 1, RANDOM_LISTS do
    local a, labels = {}, {}
    for i = 1, base_n do a[i] = base[i]; labels[i] = "ok" end
    local k = (base_n > 0 and g.int(2) == 1) and base_n or base_n + 1
    a[k] = fuzz.options(g, pool); labels[k] = "options"
    local aa, nn_ = with_self(a, math.max(base_n, k))
    call(qual, short, f, aa, nn_, labels)
  end
  -- the baseline with two positions replaced by pool values (e.g. two huge sizes at once)
  if base_n >= 2 then
    for _ = 1, RANDOM_LISTS do
      local a, labels = {}, {}
      for i = 1, base_n do a[i] = base[i]; labels[i] = "ok" end
      for _ = 1, 2 do
        local k, it = g.int(base_n), g.pick(pool)
        a[k] = it.value; labels[k] = it.label
      end
      local aa, nn_ = with_self(a, base_n)
      call(qual, short, f, aa, nn_, labels)
    end
  end
  local dt = os.clock() - t0
  if PROFILE then io.stderr:write(string.format("fuzz-profile %s %d calls %.3f s\n", qual, calls - calls0, dt)) end
  if VERBOSE or dt > 1 then io.stderr:write(string.format("fuzz: %s took %.2f s\n", qual, dt)) end
end

local seen = {}
local function fuzz_table(label, tbl)
  local names = {}
  for k, v in pairs(tbl) do
    if type(k) == "string" and fuzz.callable(v) and not seen[v] then names[#names + 1] = k end
  end
  table.sort(names)
  for _, k in ipairs(names) do
    local v = tbl[k]
    if not seen[v] then
      seen[v] = true
      fuzz_one(label .. "." .. k, v)
    end
  end
end

-- Methods of an object: every callable reachable through its metatable's __index chain.
local function methods_of(obj)
  local out, got = {}, {}
  local mt = getmetatable(obj)
  local idx = type(mt) == "table" and mt.__index or nil
  local depth = 0
  while type(idx) == "table" and depth < 10 do
    for k, v in pairs(idx) do
      if type(k) == "string" and type(v) == "function" and not got[k] then got[k] = true; out[#out + 1] = k end
    end
    local m2 = getmetatable(idx)
    idx = type(m2) == "table" and m2.__index or nil
    depth = depth + 1
  end
  if type(obj) == "table" then
    for k, v in pairs(obj) do
      if type(k) == "string" and type(v) == "function" and not got[k] then got[k] = true; out[#out + 1] = k end
    end
  end
  table.sort(out)
  return out
end

local method_seen = {}
local function fuzz_methods(label, make)
  local obj = make()
  for _, k in ipairs(methods_of(obj)) do
    local f = obj[k]
    local key = label .. "." .. k
    -- `_`-prefixed methods of Lua objects are private helpers (e.g. nn's _repr(indent)).
    if not method_seen[key] and not (type(obj) == "table" and k:sub(1, 1) == "_") then
      method_seen[key] = true
      fuzz_one(key, f, make)
    end
  end
end

-- 0. Native memory returns to its start after training-like iterations with autograd: a
-- retain cycle through a backward closure would keep graphs (and their tensors) alive.
if not ONLY then
  local function gc() collectgarbage(); collectgarbage() end
  gc()
  local start = S.memory()
  local function train(iters, make_opt, n_check)
    local g0 = S.rng(11)
    local net = nn.Sequential(nn.Conv2d(3, 4, 3, { padding = 1, rng = g0 }), nn.BatchNorm2d(4), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 8, { rng = g0 }), nn.BatchNorm1d(8))
    local W = S.randn(8, 4, { rng = g0 }):requires_grad_()
    local params = net:parameters()
    params[#params + 1] = W
    local opt = make_opt(params)
    local x, labels = S.rand(6, 3, 8, 8, { rng = g0 }), S.tensor { 1, 2, 3, 4, 5, 6 }
    local mid
    for i = 1, iters do
      if i == n_check then gc(); mid = S.memory() end   -- the previous step's graph is unreachable
      local z1, z2 = net(x), net(x * 0.9)
      local loss = S.loss.infonce(z1, z2, { beta = 2 }) + S.loss.cross_entropy(z1, labels)
        + S.loss.mse(z1:normalize(2), z2:normalize(2)) + (z1:sigmoid():log() - z2:tanh():exp()):pow(2):mean()
        + S.loss.upper_bound(z1, z2, W) + z1:log_softmax(2):mean() + z2:mm(W):softmax(2):max()
        + S.nn.functional.avg_pool2d(x, 2):sum() * 0 + S.nn.functional.adaptive_avg_pool2d(x, 1):mean()
      opt:zero_grad()
      loss:backward()
      opt:step()
    end
    gc()
    check.eq(S.memory(), mid, "live bytes after " .. iters .. " steps (model and optimizer alive)")
  end
  train(150, function(p) return optim.SGD(p, { lr = 0.01, momentum = 0.9, weight_decay = 1e-4 }) end, 20)
  train(100, function(p) return optim.Adam(p, { lr = 1e-3 }) end, 20)
  train(100, function(p) return optim.LARS(p, { lr = 0.1 }) end, 20)
  gc()
  check.eq(S.memory(), start, "live bytes after dropping models, optimizers and graphs")
end

-- 1. Function tables.
local tables = {
  { "sslua", S }, { "sslua.Tensor", S.Tensor }, { "sslua.linalg", S.linalg }, { "sslua.loss", S.loss },
  { "sslua.geom", S.geom }, { "sslua.lie", S.lie }, { "sslua.nn", nn }, { "sslua.nn.functional", nn.functional },
  { "sslua._nn", S._nn }, { "sslua.optim", optim }, { "sslua.data", data }, { "sslua._data", S._data },
  { "sslua.aug", aug }, { "sslua._aug", S._aug }, { "sslua.aug.functional", aug.functional },
  { "sslua.plot", plot }, { "sslua.experiment", experiment },
  -- helpers the experiment runner uses (sslua.sweep is left out: it starts processes)
  { "sslua.json", S.json }, { "sslua.sha256", S.sha256 },
}
for _, t in ipairs(tables) do
  check.truthy(type(t[2]) == "table", t[1] .. " exists")
  fuzz_table(t[1], t[2])
end

-- 2. Objects the toolkit returns.
local function lin() return nn.Linear(3, 2) end
local objects = {
  { "sslua.Generator", function() return S.rng(3) end },
  { "sslua.nn.Linear", lin },
  { "sslua.nn.Conv2d", function() return nn.Conv2d(3, 2, 3, { padding = 1 }) end },
  { "sslua.nn.BatchNorm1d", function() return nn.BatchNorm1d(3) end },
  { "sslua.nn.BatchNorm2d", function() return nn.BatchNorm2d(3) end },
  { "sslua.nn.ReLU", function() return nn.ReLU() end },
  { "sslua.nn.LeakyReLU", function() return nn.LeakyReLU(0.1) end },
  { "sslua.nn.MaxPool2d", function() return nn.MaxPool2d(2) end },
  { "sslua.nn.AvgPool2d", function() return nn.AvgPool2d(2) end },
  { "sslua.nn.AdaptiveAvgPool2d", function() return nn.AdaptiveAvgPool2d(1) end },
  { "sslua.nn.Flatten", function() return nn.Flatten() end },
  { "sslua.nn.Identity", function() return nn.Identity() end },
  { "sslua.nn.Sequential", function() return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)) end },
  { "sslua.nn.Module", function()
    local w = S.randn(3, 2)
    return nn.Module { weight = w, forward = function(self, x) return x:mm(self.weight) end }
  end },
  { "sslua.nn.BasicBlock", function() return nn.BasicBlock(3, 3) end },
  { "sslua.nn.resnet", function() return nn.resnet { blocks = { 1 }, width = 4, in_channels = 3 } end },
  { "sslua.nn.projector", function() return nn.projector { dims = { 3, 4, 2 } } end },
  { "sslua.optim.SGD", function() return optim.SGD(lin():parameters(), { lr = 0.1, momentum = 0.9 }) end },
  { "sslua.optim.Adam", function() return optim.Adam(lin():parameters(), { lr = 0.1 }) end },
  { "sslua.optim.AdamW", function() return optim.AdamW(lin():parameters(), { lr = 0.1 }) end },
  { "sslua.optim.LARS", function() return optim.LARS(lin():parameters(), { lr = 0.1 }) end },
  { "sslua.aug.RandomResizedCrop", function() return aug.RandomResizedCrop { size = 4 } end },
  { "sslua.aug.RandomHorizontalFlip", function() return aug.RandomHorizontalFlip { p = 0.5 } end },
  { "sslua.aug.ColorJitter", function() return aug.ColorJitter { brightness = 0.4, hue = 0.1 } end },
  { "sslua.aug.RandomGrayscale", function() return aug.RandomGrayscale { p = 0.5 } end },
  { "sslua.aug.RandomApply", function() return aug.RandomApply(aug.RandomHorizontalFlip { p = 1 }, 0.5) end },
  { "sslua.aug.GaussianBlur", function() return aug.GaussianBlur { kernel_size = 3 } end },
  { "sslua.aug.Rotate", function() return aug.Rotate { degrees = 20 } end },
  { "sslua.aug.policy", function() return aug.policy("large") end },
  { "sslua.data.Dataset", function() return data.synthetic { n = 8, size = 8, seed = 1 } end },
  { "sslua.plot.Figure", function() return plot.line { y = { 1, 2, 3 } } end },
  { "sslua.plot.hist", function() return plot.hist { values = { 1, 2, 2, 3 }, bins = 2 } end },
  { "sslua.plot.spectrum", function() return plot.spectrum { values = { 3, 2, 1 } } end },
  { "sslua.experiment.Progress", function()   -- its lines go to a sink, not the test's output
    return experiment.progress(10, { out = { write = function() end, flush = function() end } })
  end },
}
for _, o in ipairs(objects) do
  local ok, obj = pcall(o[2])
  check.truthy(ok, o[1] .. " builds: " .. tostring(obj))
  fuzz_methods(o[1], o[2])
end

-- Runs and loggers, confined to the temporary directory.
do
  local k = 0
  local function make_run()
    k = k + 1
    return experiment.run({ seed = 1 }, { dir = tmpdir .. "/run" .. k, script = "fuzz.lua" })
  end
  fuzz_methods("sslua.experiment.Run", make_run)
  fuzz_methods("sslua.experiment.Logger", function() return make_run():logger("m.csv", { columns = { "a", "b" } }) end)
end

-- 3. Targeted misuse of the functions left out above.
local function survive(qual, f)
  calls = calls + 1
  local ok, err = pcall(f)
  if not ok then record_error(qual, qual:match("([%w_]+)$"), err, { "targeted" }) end
end
local p = tmpdir .. "/t.npy"
check.errors(function() return S.save(p, "x") end, "sslua.save")
check.errors(function() return S.save(tmpdir .. "/t.unknown", S.zeros(2)) end, "sslua.save")
check.errors(function() return S.save(tmpdir .. "/no/such/dir/t.npy", S.zeros(2)) end, "sslua.save")
check.errors(function() return S.save(tmpdir .. "/t.safetensors", { a = "x" }) end, "sslua.save")
local closed
do local c <close> = S.zeros(2); closed = c end
check.errors(function() return S.save(p, closed) end, "sslua.save")
check.errors(function() return aug.save_grid("x", tmpdir .. "/g.png") end, "save_grid")
check.errors(function() return aug.save_grid(S.zeros(2, 3), tmpdir .. "/g.png") end, "save_grid")
check.errors(function() return aug.save_grid(S.zeros(0, 3, 4, 4), tmpdir .. "/g.png") end, "save_grid")
check.errors(function() return aug.save_grid(S.rand(2, 3, 4, 4), tmpdir .. "/no/dir/g.png") end, "save_grid")
check.errors(function() return aug.save_grid(S.rand(2, 3, 4, 4), tmpdir .. "/g.png", { nrow = 0 }) end, "save_grid")
survive("sslua.aug.save_grid", function() return aug.save_grid(S.rand(2, 3, 4, 4), tmpdir .. "/g.png", { nrow = 1e12 }) end)
survive("sslua.aug.save_grid", function() return aug.save_grid(S.rand(2, 3, 4, 4), tmpdir .. "/g.png", { nrow = 0 / 0 }) end)
survive("sslua.aug.save_grid", function() return aug.save_grid(S.rand(2, 3, 4, 4):transpose(3, 4), tmpdir .. "/g.png", { nrow = -1 }) end)
survive("sslua.aug.save_grid", function() return aug.save_grid(S.tensor(0 / 0):expand(2, 3, 4, 4), tmpdir .. "/g.png") end)
check.errors(function() return aug.save_grid(S.rand(2, 5, 4, 4), tmpdir .. "/g.png") end, "save_grid")
check.errors(function() return plot.line { y = { 1, 2 } }:save(tmpdir .. "/no/dir/f.svg") end, "save")
check.errors(function() return plot.line { y = { 1, 2 } }:save(5) end, "save")
survive("sslua.experiment.write_atomic", function() return experiment.write_atomic(tmpdir .. "/no/dir/x", "a") end)
survive("sslua.experiment.write_atomic", function() return experiment.write_atomic(tmpdir .. "/w", {}) end)
check.errors(function() return experiment.run("x") end, "experiment.run")
check.errors(function() return experiment.run({}, 5) end, "experiment.run")
check.errors(function() return experiment.simclr() end, "simclr")
check.errors(function() return experiment.simclr { epochs = 1 } end, "simclr")
check.errors(function() return experiment.simclr { epochs = -1 } end, "simclr")
check.errors(function() return experiment.simclr { epochs = 0 / 0 } end, "simclr")
for _, f in ipairs { "cifar10", "cifar100", "fashion_mnist", "mnist" } do
  for _, arg in ipairs { "x", 5, { root = tmpdir }, { root = 5 }, { root = "" }, { root = tmpdir, train = "x" } } do
    local ok, err = pcall(data[f], arg)
    calls = calls + 1
    check.truthy(not ok, "data." .. f .. " fails on a bad argument")
    record_error("sslua.data." .. f, f, err, { tostring(arg) })
  end
end
-- a truncated / corrupt data file is an error, not a crash
do
  local root = tmpdir .. "/fm"
  os.execute("mkdir -p '" .. root .. "'")
  for _, name in ipairs { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                          "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz" } do
    local f = assert(io.open(root .. "/" .. name, "wb")); f:write("\31\139\8\0garbage"); f:close()
  end
  local ok, err = pcall(data.fashion_mnist, { root = root })
  check.truthy(not ok, "corrupt IDX files fail")
  record_error("sslua.data.fashion_mnist", "fashion_mnist", err, { "corrupt" })
  local bin = root .. "/cifar-10-batches-bin"
  os.execute("mkdir -p '" .. bin .. "'")
  for k = 1, 5 do local f = assert(io.open(bin .. "/data_batch_" .. k .. ".bin", "wb")); f:write("\1\2\3"); f:close() end
  local f = assert(io.open(bin .. "/test_batch.bin", "wb")); f:write("\1"); f:close()
  ok, err = pcall(data.cifar10, { root = root })
  check.truthy(not ok, "truncated CIFAR files fail")
  record_error("sslua.data.cifar10", "cifar10", err, { "truncated" })
end
-- corrupt checkpoints
for _, content in ipairs { "", "\147NUMPY\1\0\255\255{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }",
                           "\147NUMPY\1\0\20\0{'descr': '<f4', 'fo", "\255\255\255\255\255\255\255\127{}",
                           "\8\0\0\0\0\0\0\0{\"a\":{}}", "\40\0\0\0\0\0\0\0{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,99]}}" } do
  for _, ext in ipairs { ".npy", ".safetensors" } do
    local path = tmpdir .. "/bad" .. ext
    local f = assert(io.open(path, "wb")); f:write(content); f:close()
    local ok, err = pcall(S.load, path)
    calls = calls + 1
    check.truthy(not ok, "a corrupt " .. ext .. " fails to load")
    record_error("sslua.load", "load", err, { "corrupt" .. ext })
  end
end

-- malformed JSON (config files are read back by the runner): errors, never hangs
do
  local alphabet = { "{", "}", "[", "]", ",", ":", '"', "\\", "u", "1", "-", "e", ".", "t", "n", " ", "\0", "\255" }
  for _ = 1, 2000 do
    local parts = {}
    for k = 1, g.int(12) do parts[k] = g.pick(alphabet) end
    local ok, err = pcall(S.json.decode, table.concat(parts))
    calls = calls + 1
    if not ok then record_error("sslua.json.decode", "decode", err, { "random text" }) end
  end
end

-- 4. Allocation bombs fail at once with a clear error.
for _, f in ipairs {
  function() return S.zeros(1e12) end, function() return S.zeros(1 << 62) end,
  function() return S.ones(1 << 40, 1 << 40) end, function() return S.rand(1e6, 1e6, 1e6) end,
  function() return S.full({ 1 << 31, 1 << 31 }, 1) end, function() return S.eye(1 << 32) end,
  function() return S.arange(1e12) end, function() return S.randperm(1 << 40) end,
  function() return S.zeros(1):expand(1 << 40):contiguous() end,
  function() return S.zeros(1, 1):expand(1 << 20, 1 << 20):sum() end,
  function() return S.linspace(0, 1, 1e12) end, function() return S.randint(1, 2, { 1e12 }) end,
  function() return data.synthetic { n = 1e12 } end, function() return data.synthetic { n = 2, size = 1e6 } end,
  function() return S.lie.one_hot_image(1 << 40) end, function() return S.lie.random_generator(1 << 20) end,
  function() return nn.Linear(1 << 40, 1 << 40) end,
  function() return aug.RandomResizedCrop { size = 1 << 40 }:apply(S.rand(1, 3, 4, 4)) end,
  function() return S.geom.histogram(S.randn(10), 1 << 40) end,
  function() return aug.functional.gaussian_blur(S.rand(3, 8, 8), 2 ^ 31 + 1, 1) end,
  function() return nn.functional.adaptive_avg_pool2d(S.rand(1, 3, 4, 4), 1 << 30) end,
  -- labels are class indices: one stray huge label must not size the class arrays
  function() return S.geom.linear_probe { train = S.randn(2, 3), train_labels = S.tensor { 1, 1e9 },
                                          test = S.randn(1, 3), test_labels = S.tensor { 1 } } end,
  function() return S.geom.knn_accuracy { train = S.randn(2, 3), train_labels = S.tensor { 1, 1e12 },
                                          test = S.randn(1, 3), test_labels = S.tensor { 1 } } end,
  function() return S.loss.cross_entropy(S.randn(2, 3), S.tensor { 1, 2 ^ 62 }) end,
} do
  local ok, err = pcall(f)
  check.truthy(not ok, "an allocation bomb fails")
  record_error("bomb", nil, err, { "bomb" })
end

S.threads(threads0)
os.execute("rm -rf '" .. tmpdir .. "'")

local keys = {}
for k in pairs(bad_messages) do keys[#keys + 1] = k end
table.sort(keys)
for _, k in ipairs(keys) do io.stderr:write("error not naming its function: ", bad_messages[k], "\n") end
print(string.format("fuzz: %d calls, %d errors, %d messages not naming their function", calls, errors, #keys))
check.truthy(calls > 20000, "the fuzz exercised the API")
check.eq(#keys, 0, "errors that do not name their function")

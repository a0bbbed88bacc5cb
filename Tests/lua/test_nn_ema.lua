-- sslua.nn.ema (momentum targets, BYOL / MoCo) and nn.predictor: hand-computed EMA steps,
-- the three buffer modes, independence of the copy, errors.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local S = sslua
local nn = S.nn

local function set(t, v) S.no_grad(function() t:copy_(S.tensor(v, { dtype = t:dtype() })) end) end

-- a Linear(2, 1) followed by BatchNorm1d(1), with known values
local online = nn.Sequential(nn.Linear(2, 1), nn.BatchNorm1d(1))
set(online[1].weight, { { 1, 2 } }); set(online[1].bias, { 0.5 })
local ema = nn.ema(online, { momentum = 0.9 })
check.eq(ema.momentum, 0.9)
check.eq(ema.buffers, "own")
-- a deep copy: same values, new storage, no gradient
check.near(ema.module[1].weight, { { 1, 2 } }, 0, "copy weight")
check.eq(ema.module[1].weight.requires_grad, false, "copy does not require grad")
check.eq(online[1].weight.requires_grad, true, "online untouched")
set(online[1].weight, { { 3, -2 } }); set(online[1].bias, { 1.5 })
check.near(ema.module[1].weight, { { 1, 2 } }, 0, "copy independent of the online weights")
-- one step: 0.9 * old + 0.1 * new
ema:update(online)
check.near(ema.module[1].weight, { { 0.9 * 1 + 0.1 * 3, 0.9 * 2 + 0.1 * -2 } }, 1e-7, "ema weight step 1")
check.near(ema.module[1].bias, { 0.9 * 0.5 + 0.1 * 1.5 }, 1e-7, "ema bias step 1")
-- a second step with the momentum overridden (BYOL's schedule): 0.5 * (1.2, 1.6) + 0.5 * (3, -2)
ema:update(online, { momentum = 0.5 })
check.near(ema.module[1].weight, { { 0.5 * 1.2 + 0.5 * 3, 0.5 * 1.6 + 0.5 * -2 } }, 1e-6, "ema weight step 2")
check.eq(ema.momentum, 0.9, "override is for one step")
-- momentum 1: frozen; momentum 0: a copy
ema:update(online, { momentum = 1 })
check.near(ema.module[1].weight, { { 2.1, -0.2 } }, 1e-6, "momentum 1 freezes")
ema:update(online, { momentum = 0 })
check.near(ema.module[1].weight, { { 3, -2 } }, 0, "momentum 0 copies")

-- forward runs the copy; its output needs no gradient
local x = S.tensor { { 1, 1 }, { 2, 0 }, { 0, 1 } }
local y = ema(x)
check.eq(y.requires_grad, false, "target output is a constant")
check.eq(y:size(1), 3)

-- buffers: "own" keeps the copy's running stats (its own forwards), "copy" takes the online
-- model's, "average" averages them with the momentum
do
  local bn = nn.BatchNorm1d(2)
  local own = nn.ema(bn, { momentum = 0.8 })
  local cp = nn.ema(bn, { momentum = 0.8, buffers = "copy" })
  local av = nn.ema(bn, { momentum = 0.8, buffers = "average" })
  set(bn.running_mean, { 1, -2 }); set(bn.running_var, { 3, 5 }); set(bn.num_batches_tracked, 7)
  for _, e in ipairs { own, cp, av } do e:update(bn) end
  check.near(own.module.running_mean, { 0, 0 }, 0, "own running_mean")
  check.near(own.module.running_var, { 1, 1 }, 0, "own running_var")
  check.near(cp.module.running_mean, { 1, -2 }, 0, "copy running_mean")
  check.near(cp.module.running_var, { 3, 5 }, 0, "copy running_var")
  check.near(av.module.running_mean, { 0.2 * 1, 0.2 * -2 }, 1e-7, "average running_mean")
  check.near(av.module.running_var, { 0.8 + 0.2 * 3, 0.8 + 0.2 * 5 }, 1e-6, "average running_var")
  check.eq(av.module.num_batches_tracked:item(), 7, "num_batches_tracked copied")
  -- the copy's own training forward updates its own stats only
  own.module:train()
  own(S.tensor { { 1, 2 }, { 3, 4 } })
  check.near(own.module.running_mean, { 0.2, 0.3 }, 1e-6, "own forward updates its stats")
  check.near(bn.running_mean, { 1, -2 }, 0, "online stats untouched")
end

-- state dict of the copy is the model's, under "module."
do
  local keys = ema:state_dict_keys()
  check.eq(keys[1], "module.0.weight")
  check.eq(#ema:parameters(), 4)
end

-- a ResNet-style copy works with update (many parameters)
do
  local net = nn.projector { dims = { 4, 8, 3 } }
  local e = nn.ema(net)
  check.eq(e.momentum, 0.996)
  local p0 = e.module[1].weight:clone()
  S.no_grad(function() net[1].weight:add_(1) end)
  e:update(net)
  check.near(e.module[1].weight, p0 + 0.004, 1e-6, "default momentum 0.996")
end

-- predictor: Linear - BN - ReLU - Linear
do
  local p = nn.predictor { dims = { 6, 16, 6 }, rng = S.rng(3) }
  local names = {}
  for n in p:named_parameters() do names[#names + 1] = n end
  check.eq(table.concat(names, ","), "0.weight,0.bias,1.weight,1.bias,3.weight,3.bias")
  check.eq(p[2]._type, "BatchNorm1d"); check.eq(p[3]._type, "ReLU")
  local out = p(S.randn(5, 6, { rng = S.rng(4) }))
  check.eq(out:size(2), 6)
  check.errors(function() nn.predictor { dims = { 6, 6 } } end, "sslua.nn.predictor: dims must list 3 sizes")
  check.errors(function() nn.predictor { dims = { 6, 16, 6 }, hidden = 3 } end, "unknown option 'hidden'")
end

-- errors
check.errors(function() nn.ema(online, { momentum = 1.5 }) end, "sslua.nn.ema: momentum must be")
check.errors(function() nn.ema(online, { momentom = 0.9 }) end, "did you mean 'momentum'")
check.errors(function() nn.ema(online, { buffers = "mean" }) end, "buffers must be")
check.errors(function() nn.ema(42) end, "sslua.nn.ema: expected a module")
check.errors(function() ema:update(nn.Linear(2, 1)) end, "sslua.nn.EMA:update")
check.errors(function() ema:update(nn.Sequential(nn.Linear(3, 1), nn.BatchNorm1d(1))) end, "has size")
check.errors(function() ema:update(online, { momentum = -1 }) end, "momentum must be")
-- nn.Queue: MoCo's FIFO of normalised keys
do
  local q = nn.Queue(5, 2, { rng = S.rng(9), dtype = "float64" })
  check.eq(q.queue:size(1), 5); check.eq(q.queue:dtype(), "float64")
  check.near(q.queue:norm(2, 2), { 1, 1, 1, 1, 1 }, 1e-12, "initial rows normalised")
  check.eq(q.queue_ptr:item(), 0)
  local old5 = q.queue:narrow(1, 5, 1):clone()
  q:enqueue(S.tensor { { 3, 4 }, { 0, -2 } })
  check.near(q.queue:narrow(1, 1, 2), { { 0.6, 0.8 }, { 0, -1 } }, 1e-7, "first keys at rows 1-2")
  check.eq(q.queue_ptr:item(), 2)
  q:enqueue(S.tensor { { 1, 0 }, { 0, 1 }, { -1, 0 }, { 5, 0 } })
  -- rows 3, 4, 5, then wraps to row 1
  check.near(q.queue, { { 1, 0 }, { 0, -1 }, { 1, 0 }, { 0, 1 }, { -1, 0 } }, 1e-7, "wraps around")
  check.eq(q.queue_ptr:item(), 1)
  -- a batch longer than the queue keeps its last rows, starting at the pointer
  local big = S.tensor { { 1, 1 }, { 2, 0 }, { 0, 3 }, { -4, 0 }, { 0, -5 }, { 6, 0 }, { 0, 7 } }
  q:enqueue(big)
  check.near(q.queue, { { 0, 1 }, { 0, 1 }, { -1, 0 }, { 0, -1 }, { 1, 0 } }, 1e-7, "keeps the last size rows")
  check.eq(q.queue_ptr:item(), 1)
  check.eq(q:keys(), q.queue)
  local keys = {}
  for n in q:named_buffers() do keys[#keys + 1] = n end
  check.eq(table.concat(keys, ","), "queue,queue_ptr")
  -- gradients never flow into the queue
  local k = S.randn(2, 2, { dtype = "float64" }):requires_grad_()
  q:enqueue(k * 2)
  check.eq(q.queue.requires_grad, false)
  -- loss.moco against it, by hand: q = e1, k = e1, queue rows as above
  local Q = nn.Queue(2, 2, { dtype = "float64" })
  Q:enqueue(S.tensor { { 0, 1 }, { -1, 0 } })
  local l = S.loss.moco(S.tensor({ { 1, 0 } }, { dtype = "float64" }), S.tensor({ { 1, 0 } }, { dtype = "float64" }), Q.queue, { temperature = 0.5 })
  check.near(l:item(), -2 + math.log(math.exp(2) + 1 + math.exp(-2)), 1e-12, "moco with nn.Queue")
  check.errors(function() q:enqueue(S.randn(2, 3)) end, "sslua.nn.Queue:enqueue: expected keys N x 2")
  check.errors(function() nn.Queue(0, 2) end, "size must be")
  check.errors(function() nn.Queue(4, 2, { seed = 1 }) end, "unknown option 'seed'")
end
-- a BYOL run (EMA target, predictor, stop-gradient) on the synthetic data does not collapse in
-- a few epochs: examples/rank_vs_method.lua --methods byol, 32 steps. A collapsed projector has
-- per-dimension std of the normalised embeddings near 0 (spread: about 1/sqrt(16) = 0.25) and
-- effective rank near 1.
do
  local experiment = require "sslua.experiment"
  local q = experiment.shell_quote
  local dir = os.tmpname(); os.remove(dir)
  local cmd = "SSLUA_RUN_DIR=" .. q(dir) .. " SSLUA_PROGRESS=0 " .. q(experiment.interpreter())
    .. " examples/rank_vs_method.lua --quick --methods byol --n 512 --epochs 4 > " .. q(dir .. ".log") .. " 2>&1"
  local ok = os.execute(cmd)
  local f = io.open(dir .. ".log", "rb"); local log = f and f:read("a") or ""; if f then f:close() end
  check.eq(ok, true, "byol run failed:\n" .. log:sub(-2000))
  local rows = {}
  local header
  for line in io.lines(dir .. "/metrics.csv") do
    local cells = {}
    for c in (line .. ","):gmatch("([^,]*),") do cells[#cells + 1] = c end
    if not header then header = cells else
      local r = {}
      for i, h in ipairs(header) do r[h] = tonumber(cells[i]) or cells[i] end
      rows[#rows + 1] = r
    end
  end
  check.eq(#rows, 5, "epochs 0..4 logged")
  local last = rows[#rows]
  check.eq(last.method, "byol")
  check.truthy(last.proj_std > 0.05, "byol embedding std per dimension stays above 0.05: " .. last.proj_std)
  check.truthy(last.proj_effective_rank > 1.5, "byol projector effective rank > 1.5: " .. last.proj_effective_rank)
  check.truthy(last.loss < rows[2].loss, "byol loss decreases")
  os.execute("rm -rf " .. q(dir) .. " " .. q(dir .. ".log"))
end
print("ok")

-- Fig. 3: the upper bound L_upper = beta L_inv + beta L_rep + log(2(N-1)) of Prop. 3.1 tracks
-- InfoNCE (Eq. 1) throughout training. Both are measured each epoch on a fixed batch of two
-- augmented views; mean +- std over seeds.
--   sslua examples/upper_bound.lua [--seeds 3] [--epochs 10] [--quick | --full --data-dir DIR]
local experiment = require "sslua.experiment"
local paper = require "sslua.paper"
local plot = require "sslua.plot"
local nn, aug, loss = sslua.nn, sslua.aug, sslua.loss

local cfg = experiment.args({
  seeds = 3, policy = "large", epochs = 10, batch = 128, beta = 2.0, eval_n = 128,
  data = "synthetic", data_dir = "", n = 2048, n_test = 256, size = 16,
  arch = "resnet", blocks = { 1, 1, 1 }, width = 16, d_proj = 64,
  optimizer = "adam", lr = 2e-3, momentum = 0.9, weight_decay = 0.0, schedule = "constant",
}, { description = "Fig. 3: L_upper (Prop. 3.1) tracks InfoNCE during training.",
  help = { seeds = "independent runs (mean +- std)", eval_n = "batch size N of the fixed evaluation batch" } })
experiment.preset(cfg, {
  quick = { seeds = 2, n = 192, n_test = 64, size = 16, width = 8, epochs = 2, batch = 64, eval_n = 64, d_proj = 32 },
  full = { data = "cifar100", arch = "resnet18", n = 50000, n_test = 10000, size = 32, d_proj = 128, epochs = 100,
    optimizer = "lars", lr = 4.0, weight_decay = 1e-6, momentum = 0.9, schedule = "cosine" },
})

local train = paper.datasets(cfg)
local run = experiment.run(cfg, { columns = { "seed", "epoch", "infonce", "upper_bound" } })
local policy = aug.policy(cfg.policy)
local _, v1, v2 = paper.eval_views(cfg, train, policy, cfg.eval_n)

for seed = cfg.seed, cfg.seed + cfg.seeds - 1 do
  local rng = sslua.rng(seed)
  local encoder, d_enc = paper.encoder(cfg, train.images:size(2), rng)
  local projector = nn.projector { dims = { d_enc, cfg.d_proj }, bias = false, rng = rng }
  paper.simclr(cfg, { encoder = encoder, projector = projector, data = train, policy = policy, rng = rng,
    on_epoch = function(epoch)
      local h1, h2 = paper.features(encoder, v1), paper.features(encoder, v2)
      local W = paper.weight(projector)
      local info = loss.infonce(h1:mm(W), h2:mm(W), { beta = cfg.beta, form = "paper" }):item()
      local ub, parts = loss.upper_bound(h1, h2, W, { beta = cfg.beta })
      ub = type(ub) == "number" and ub or ub:item()
      local function num(v) return type(v) == "number" and v or v:item() end
      run:log { seed = seed, epoch = epoch, infonce = info, upper_bound = ub,
        invariance = num(parts.invariance), repulsion = num(parts.repulsion), gap = ub - info }
    end })
end

local rows = run:rows()
local violations = 0 -- counted from the rows, which a resumed run (--resume) restores
for _, r in ipairs(rows) do if r.upper_bound < r.infonce - 1e-4 then violations = violations + 1 end end
local series, table_rows = {}, {}
for _, key in ipairs({ "infonce", "upper_bound" }) do
  local g = paper.aggregate(rows, nil, "epoch", key)[1]
  series[#series + 1] = { x = g.x, y = g.mean, std = g.std, label = key == "infonce" and "InfoNCE (Eq. 1)" or "L_upper (Eq. 3)",
    style = key == "infonce" and "solid" or "dashed" }
end
run:save(plot.line { series = series, title = "InfoNCE and its upper bound (mean +- std over " .. cfg.seeds .. " seeds)",
  xlabel = "epoch", ylabel = "loss" }, "upper_bound.svg")
for i, x in ipairs(series[1].x) do
  table_rows[i] = { epoch = x, infonce = series[1].y[i], infonce_std = series[1].std[i],
    upper_bound = series[2].y[i], upper_bound_std = series[2].std[i] }
end
experiment.print_table(table_rows, { "epoch", "infonce", "infonce_std", "upper_bound", "upper_bound_std" })
print(string.format("L_upper >= InfoNCE in %d of %d measurements", #rows - violations, #rows))
run:finish { violations = violations, measurements = #rows }
print("results in " .. run.dir)

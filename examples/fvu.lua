-- Fig. 7: the fraction of variance of S = span{delta h_i} unexplained by the column space of
-- the linear projector W (Eq. 10), delta h_i = h_i2 - h~*_i, falls during training.
-- Mean +- std over seeds, per policy.
--   sslua examples/fvu.lua [--seeds 3] [--policy large] [--quick | --full --data-dir DIR]
local experiment = require "sslua.experiment"
local paper = require "sslua.paper"
local plot = require "sslua.plot"
local nn, aug, geom = sslua.nn, sslua.aug, sslua.geom

local cfg = experiment.args({
  seeds = 3, policy = { "large" }, epochs = 8, batch = 128, beta = 2.0, eval_n = 512,
  data = "synthetic", data_dir = "", n = 2048, n_test = 256, size = 16,
  arch = "resnet", blocks = { 1, 1, 1 }, width = 16, d_proj = 32,
  optimizer = "adam", lr = 2e-3, momentum = 0.9, weight_decay = 0.0, schedule = "constant",
}, { description = "Fig. 7: FVU of span(delta h) by the projector's column space (Eq. 10).",
  help = { eval_n = "batch size N of the fixed evaluation batch" } })
experiment.preset(cfg, {
  quick = { seeds = 2, n = 192, n_test = 64, size = 16, width = 8, epochs = 2, batch = 64, eval_n = 96, d_proj = 16 },
  full = { data = "cifar100", arch = "resnet18", n = 50000, n_test = 10000, size = 32, eval_n = 1024, d_proj = 128, epochs = 100,
    optimizer = "lars", lr = 4.0, weight_decay = 1e-6, momentum = 0.9, schedule = "cosine" },
})

local train = paper.datasets(cfg)
local run = experiment.run(cfg, { columns = { "policy", "seed", "epoch", "fvu" } })
for _, name in ipairs(cfg.policy) do
  local policy = aug.policy(name)
  local _, v1, v2 = paper.eval_views(cfg, train, policy, cfg.eval_n)
  for seed = cfg.seed, cfg.seed + cfg.seeds - 1 do
    local rng = sslua.rng(seed)
    local encoder, d_enc = paper.encoder(cfg, train.images:size(2), rng)
    local projector = nn.projector { dims = { d_enc, cfg.d_proj }, bias = false, rng = rng }
    paper.simclr(cfg, { encoder = encoder, projector = projector, data = train, policy = policy, rng = rng,
      on_epoch = function(epoch)
        local h1, h2 = paper.features(encoder, v1), paper.features(encoder, v2)
        local W = paper.weight(projector)
        local _, hstar = geom.nearest_negative(h1, h2, W)
        local D = h2 - hstar
        run:log { policy = name, seed = seed, epoch = epoch, fvu = geom.fvu(D, W),
          delta_norm = D:norm():item() / math.sqrt(D:size(1)) }
      end })
  end
end

local series, table_rows = {}, {}
for _, g in ipairs(paper.aggregate(run:rows(), "policy", "epoch", "fvu")) do
  series[#series + 1] = { x = g.x, y = g.mean, std = g.std, label = g.group, marker = true }
  for i, x in ipairs(g.x) do table_rows[#table_rows + 1] = { policy = g.group, epoch = x, fvu_mean = g.mean[i], fvu_std = g.std[i] } end
end
run:save(plot.line { series = series, title = "FVU of span(delta h) by W (mean +- std over " .. cfg.seeds .. " seeds)",
  xlabel = "epoch", ylabel = "fraction of variance unexplained" }, "fvu.svg")
experiment.print_table(table_rows, { "policy", "epoch", "fvu_mean", "fvu_std" })
run:finish()
print("results in " .. run.dir)

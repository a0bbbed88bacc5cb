-- Fig. 1: under larger augmentations the linear projector loses more rank, while the encoder's
-- representation (kNN accuracy) improves. Trains SimCLR once per policy from the same
-- initialisation and logs, per epoch (0 = initialisation), the projector's rank at several
-- relative thresholds, its effective rank (RankMe), and the encoder's weighted kNN accuracy.
--   sslua examples/rank_vs_aug.lua [--policy small,large] [--epochs 15] [--quick | --full --data-dir DIR]
local experiment = require "sslua.experiment"
local paper = require "sslua.paper"
local plot = require "sslua.plot"
local nn, aug, geom = sslua.nn, sslua.aug, sslua.geom

local cfg = experiment.args({
  policy = { "small", "large" }, epochs = 20, batch = 128, beta = 2.0,
  data = "synthetic", data_dir = "", n = 2048, n_test = 512, size = 16, knn_k = 200,
  arch = "resnet", blocks = { 1, 1, 1 }, width = 16, d_proj = 64,
  optimizer = "adam", lr = 2e-3, momentum = 0.9, weight_decay = 0.0, schedule = "constant",
  rtol = { 0.5, 0.2, 0.1, 0.05, 0.01 }, plot_rtol = 0.2,
}, { description = "Fig. 1: projector rank vs augmentation strength, and encoder kNN accuracy.",
  help = { rtol = "relative thresholds: rank = #{sigma_j >= rtol * sigma_1}", d_proj = "projector output dimension",
    width = "channels of the small ResNet's first stage", n = "training images", n_test = "kNN test images" } })
experiment.preset(cfg, {
  quick = { n = 256, n_test = 128, size = 16, width = 8, epochs = 2, batch = 64, d_proj = 32, knn_k = 20 },
  full = { data = "cifar100", arch = "resnet18", n = 50000, n_test = 10000, size = 32, d_proj = 128, epochs = 100,
    optimizer = "lars", lr = 4.0, weight_decay = 1e-6, momentum = 0.9, schedule = "cosine", policy = { "small", "moderate", "large" } },
})

local train, test = paper.datasets(cfg)
local run = experiment.run(cfg, { columns = { "policy", "epoch", "knn_accuracy", "effective_rank" } })
local function col(r) return string.format("rank_rtol_%g", r) end

for _, name in ipairs(cfg.policy) do
  local rng = sslua.rng(cfg.seed) -- the same initialisation and batches for every policy
  local encoder, d_enc = paper.encoder(cfg, train.images:size(2), rng)
  local projector = nn.projector { dims = { d_enc, cfg.d_proj }, bias = false, rng = rng }
  print(string.format("policy %s: %d images, encoder %d -> projector %d", name, #train, d_enc, cfg.d_proj))
  paper.simclr(cfg, { encoder = encoder, projector = projector, data = train, policy = aug.policy(name), rng = rng,
    on_epoch = function(epoch)
      local W = paper.weight(projector)
      local row = { policy = name, epoch = epoch, knn_accuracy = paper.knn(encoder, train, test, cfg),
        effective_rank = geom.effective_rank(W) }
      for _, r in ipairs(cfg.rtol) do row[col(r)] = geom.rank(W, { rtol = r }) end
      run:log(row)
    end })
end

-- Figures: one curve per policy.
local rows = run:rows()
local function curves(key)
  local series = {}
  for _, g in ipairs(paper.aggregate(rows, "policy", "epoch", key)) do
    series[#series + 1] = { x = g.x, y = g.mean, label = g.group, marker = true }
  end
  return series
end
local rk = col(cfg.plot_rtol)
if rows[1][rk] == nil then rk = col(cfg.rtol[1]) end
run:save(plot.line { series = curves(rk), title = "Rank of the projector (" .. rk .. ")", xlabel = "epoch", ylabel = "rank" }, "rank.svg")
run:save(plot.line { series = curves("effective_rank"), title = "Effective rank of the projector", xlabel = "epoch", ylabel = "effective rank" }, "effective_rank.svg")
run:save(plot.line { series = curves("knn_accuracy"), title = "Encoder kNN accuracy", xlabel = "epoch", ylabel = "accuracy", legend = "bottom-right" }, "knn_accuracy.svg")

-- Table: initialisation against the end of training, per policy.
local table_rows, summary = {}, {}
for _, name in ipairs(cfg.policy) do
  local first, last
  for _, r in ipairs(rows) do
    if r.policy == name then
      if r.epoch == 0 then first = r end
      last = r
    end
  end
  table_rows[#table_rows + 1] = { policy = name, epochs = last.epoch,
    knn_init = first.knn_accuracy, knn_end = last.knn_accuracy,
    erank_init = first.effective_rank, erank_end = last.effective_rank,
    [rk .. "_init"] = first[rk], [rk .. "_end"] = last[rk] }
  summary[name] = { knn_init = first.knn_accuracy, knn_end = last.knn_accuracy, effective_rank_init = first.effective_rank,
    effective_rank_end = last.effective_rank, rank_init = first[rk], rank_end = last[rk] }
end
experiment.print_table(table_rows, { "policy", "epochs", "knn_init", "knn_end", "erank_init", "erank_end", rk .. "_init", rk .. "_end" })
run:finish(summary)
print("results in " .. run.dir)

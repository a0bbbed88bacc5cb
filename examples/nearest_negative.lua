-- Fig. 5 / Fig. 6: the nearest negative h~*_i (chosen in projector space, Prop. 3.1). Logs per
-- epoch and policy the normalised distance between h_i1 and h~*_i (Fig. 5, histograms at the
-- end) and how often h~*_i carries the label of x_i, fine and coarse (Fig. 6).
--   sslua examples/nearest_negative.lua [--policy small,moderate,large] [--quick | --full --data-dir DIR]
local experiment = require "sslua.experiment"
local paper = require "sslua.paper"
local plot = require "sslua.plot"
local nn, aug, geom = sslua.nn, sslua.aug, sslua.geom

local cfg = experiment.args({
  policy = { "small", "moderate", "large" }, epochs = 8, batch = 128, beta = 2.0, eval_n = 512,
  data = "synthetic", data_dir = "", n = 2048, n_test = 256, size = 16,
  arch = "resnet", blocks = { 1, 1, 1 }, width = 16, d_proj = 64,
  optimizer = "adam", lr = 2e-3, momentum = 0.9, weight_decay = 0.0, schedule = "constant", bins = 30,
}, { description = "Fig. 5 / 6: distance to and label agreement of the nearest negative h~*.",
  help = { eval_n = "batch size N of the fixed evaluation batch" } })
experiment.preset(cfg, {
  quick = { policy = { "small", "large" }, n = 192, n_test = 64, size = 16, width = 8, epochs = 2, batch = 64, eval_n = 96, d_proj = 32 },
  full = { data = "cifar100", arch = "resnet18", n = 50000, n_test = 10000, size = 32, eval_n = 1024, d_proj = 128, epochs = 100,
    optimizer = "lars", lr = 4.0, weight_decay = 1e-6, momentum = 0.9, schedule = "cosine" },
})

local train = paper.datasets(cfg)
local run = experiment.run(cfg, { columns = { "policy", "epoch", "agreement_fine", "agreement_coarse", "distance_mean" } })
-- Kept in run.state, which checkpoints carry, so that a resumed run (--resume) draws the same histograms.
run.state.final, run.state.initial = run.state.final or {}, run.state.initial or {}
local final, initial = run.state.final, run.state.initial

for _, name in ipairs(cfg.policy) do
  local policy = aug.policy(name)
  local images, v1, v2 = paper.eval_views(cfg, train, policy, cfg.eval_n)
  local n = images:size(1)
  local fine = paper.labels(train, n)
  local coarse = paper.labels(train, n, true)
  local pool_fine = sslua.cat({ fine, fine }, 1)
  local pool_coarse = coarse and sslua.cat({ coarse, coarse }, 1)
  local rng = sslua.rng(cfg.seed)
  local encoder, d_enc = paper.encoder(cfg, train.images:size(2), rng)
  local projector = nn.projector { dims = { d_enc, cfg.d_proj }, bias = false, rng = rng }
  paper.simclr(cfg, { encoder = encoder, projector = projector, data = train, policy = policy, rng = rng,
    on_epoch = function(epoch)
      local h1, h2 = paper.features(encoder, v1), paper.features(encoder, v2)
      local W = paper.weight(projector)
      local idx, hstar = geom.nearest_negative(h1, h2, W)
      local dist = geom.normalized_distance(h1, hstar)
      local row = { policy = name, epoch = epoch, agreement_fine = geom.label_agreement(idx, pool_fine, fine),
        distance_mean = dist:mean():item(), distance_std = dist:std():item() }
      if coarse then row.agreement_coarse = geom.label_agreement(idx, pool_coarse, coarse) end
      run:log(row)
      if epoch == 0 then initial[name] = dist:totable() end
      final[name] = dist:totable()
    end })
end

local rows = run:rows()
local series = {}
for _, key in ipairs({ "agreement_fine", "agreement_coarse" }) do
  if rows[1][key] ~= nil then
    for _, g in ipairs(paper.aggregate(rows, "policy", "epoch", key)) do
      series[#series + 1] = { x = g.x, y = g.mean, label = g.group .. (key == "agreement_fine" and " (fine)" or " (coarse)"),
        style = key == "agreement_fine" and "solid" or "dashed", marker = true }
    end
  end
end
run:save(plot.line { series = series, title = "Label agreement of h~* with x_i (Fig. 6)", xlabel = "epoch",
  ylabel = "fraction sharing the label" }, "agreement.svg")
for file, dists in pairs({ ["distance_end.svg"] = final, ["distance_init.svg"] = initial }) do
  local hs = {}
  for _, name in ipairs(cfg.policy) do hs[#hs + 1] = { values = dists[name], label = name } end
  run:save(plot.hist { series = hs, bins = cfg.bins, density = true, xlabel = "|| h1/|h1| - h~*/|h~*| ||",
    title = "Distance to the nearest negative, " .. (file == "distance_end.svg" and "end of training" or "initialisation") .. " (Fig. 5)" }, file)
end
local last = {}
for _, r in ipairs(rows) do last[r.policy] = r end
local table_rows = {}
for _, name in ipairs(cfg.policy) do table_rows[#table_rows + 1] = last[name] end
experiment.print_table(table_rows, { "policy", "epoch", "agreement_fine", "agreement_coarse", "distance_mean", "distance_std" })
run:finish()
print("results in " .. run.dir)

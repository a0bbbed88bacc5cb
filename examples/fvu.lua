-- Fig. 7: the fraction of variance of S = span{delta h_i} unexplained by the column space of
-- the linear projector W (Eq. 10), delta h_i = h_i2 - h~*_i, falls during training.
-- With controls, measured the same way each epoch: the FVU by W of the positive differences
-- h_i2 - h_i1, of random-pair differences h_i2 - h_pi(i)1 (a fixed random permutation pi), of
-- the centred features h_i1 - mean(h1), and of Gaussian noise with the variance of delta h (its
-- FVU is about 1 - d_proj / d_enc whatever W is). A fall says something about S only if delta h
-- ends better explained by W than these controls. Mean +- std over seeds, per policy.
--
-- Measurement rule, the same at every epoch (0 = the initialisation): BN running statistics are
-- recalibrated on the training images without gradient (paper.recalibrate), then the encoder
-- features of a fixed evaluation batch of two views are taken in eval mode.
--   sslua examples/fvu.lua [--seeds 3] [--policy large] [--quick | --full --data-dir DIR]
local experiment = require "sslua.experiment"
local paper = require "sslua.paper"
local plot = require "sslua.plot"
local aug, geom = sslua.aug, sslua.geom

local cfg = experiment.args({
  seeds = 3, policy = { "large" }, epochs = 8, batch = 128, beta = 2.0, eval_n = 512,
  data = "synthetic", data_dir = "", n = 2048, n_test = 256, size = 16,
  arch = "resnet", blocks = { 1, 1, 1 }, width = 16, d_proj = 32,
  optimizer = "adam", lr = 2e-3, momentum = 0.9, weight_decay = 0.0, schedule = "constant",
}, { description = "Fig. 7: FVU of span(delta h) by the projector's column space (Eq. 10), with controls.",
  help = { eval_n = "batch size N of the fixed evaluation batch", seeds = "independent runs seed, seed+1, ... (mean +- std)" } })
experiment.preset(cfg, {
  quick = { seeds = 2, n = 192, n_test = 64, size = 16, width = 8, epochs = 2, batch = 64, eval_n = 96, d_proj = 16 },
  full = { data = "cifar100", arch = "resnet18", n = 50000, n_test = 10000, size = 32, eval_n = 1024, d_proj = 128, epochs = 100,
    optimizer = "lars", lr = 4.0, weight_decay = 1e-6, momentum = 0.9, schedule = "cosine" },
})

-- The measured differences: key, label.
local KINDS = {
  { "fvu", "delta h = h2 - h~*" },
  { "fvu_h2_minus_h1", "h2 - h1 (positives)" },
  { "fvu_random_pairs", "h2 - h1[pi] (random pairs)" },
  { "fvu_centred_h", "h1 - mean (centred h)" },
  { "fvu_gaussian", "Gaussian noise (matched variance)" },
}
local columns = { "policy", "seed", "epoch" }
for _, k in ipairs(KINDS) do columns[#columns + 1] = k[1] end
columns[#columns + 1] = "delta_norm"

local train = paper.datasets(cfg)
local run = experiment.run(cfg, { columns = columns })
local seeds = {}
for s = cfg.seed, cfg.seed + cfg.seeds - 1 do seeds[#seeds + 1] = s end
local t_start = sslua.clock()
for _, name in ipairs(cfg.policy) do
  local policy = aug.policy(name)
  local _, v1, v2 = paper.eval_views(cfg, train, policy, cfg.eval_n)
  local n = v1:size(1)
  for _, seed in ipairs(seeds) do
    -- The random pairs are fixed per seed; the noise is drawn per (seed, epoch), so a resumed run draws the same.
    local perm = sslua.randperm(n, { rng = sslua.rng(seed + 104729) })
    paper.train_measured(cfg, { seed = seed, data = train, policy = policy, views = { v1, v2 },
      measure = function(epoch, m)
        local h1, h2, W = m.h1, m.h2, m.W
        run.state.d_enc = m.d_enc
        local _, hstar = geom.nearest_negative(h1, h2, W)
        local D = h2 - hstar
        local rms = math.sqrt((D * D):mean():item())
        local noise = sslua.randn(n, m.d_enc, { rng = sslua.rng(seed * 1009 + epoch + 1) }) * rms
        run:log { policy = name, seed = seed, epoch = epoch, fvu = geom.fvu(D, W),
          fvu_h2_minus_h1 = geom.fvu(h2 - h1, W), fvu_random_pairs = geom.fvu(h2 - h1:index_select(1, perm), W),
          fvu_centred_h = geom.fvu(h1 - h1:mean(1), W), fvu_gaussian = geom.fvu(noise, W),
          delta_norm = D:norm():item() / math.sqrt(n) }
      end })
  end
end
local train_seconds = sslua.clock() - t_start

-- Figure: one panel per policy, every kind of difference, mean +- std over the seeds.
local rows = run:rows()
local styles = { "solid", "dashed", "dotted", "dashdot", "dotted" }
for pi, name in ipairs(cfg.policy) do
  local series = {}
  for ki, k in ipairs(KINDS) do
    local sub = {}
    for _, r in ipairs(rows) do if r.policy == name then sub[#sub + 1] = r end end
    local g = paper.aggregate(sub, nil, "epoch", k[1])[1]
    series[#series + 1] = { x = g.x, y = g.mean, std = g.std, label = k[2], style = styles[ki], marker = ki == 1 }
  end
  run:save(plot.line { series = series, title = string.format("FVU by W, %s policy (mean +- std over %d seeds)", name, #seeds),
    xlabel = "epoch", ylabel = "fraction of variance unexplained (Eq. 10)" }, pi == 1 and "fvu.svg" or ("fvu_" .. name .. ".svg"))
end

-- Summary and verdict, per policy: the fall of FVU(delta h) from the initialisation to the end,
-- and delta h against each control at the end.
local last = paper.last_epoch(rows)
local per, verdicts = {}, {}
for _, name in ipairs(cfg.policy) do
  local p = { init = {}, final = {}, below_control = {} }
  for _, k in ipairs(KINDS) do
    p.init[k[1]] = paper.stat(paper.values(rows, k[1], function(r) return r.policy == name and r.epoch == 0 end))
    p.final[k[1]] = paper.stat(paper.values(rows, k[1], function(r) return r.policy == name and r.epoch == last end))
  end
  p.falls = paper.beyond(p.init.fvu, p.final.fvu)
  p.below_every_control = true
  for i = 2, #KINDS do
    local below = paper.beyond(p.final[KINDS[i][1]], p.final.fvu)
    p.below_control[KINDS[i][1]] = below
    if not below then p.below_every_control = false end
  end
  p.verdict = (p.falls and p.below_every_control) and "reproduces" or (p.falls and "partly" or "does not")
  per[name] = p
  verdicts[#verdicts + 1] = p.verdict
end
local verdict = paper.combine(verdicts)

local table_rows = {}
for _, name in ipairs(cfg.policy) do
  local p = per[name]
  for i, k in ipairs(KINDS) do
    table_rows[#table_rows + 1] = { name, k[2], paper.pm(p.init[k[1]]), paper.pm(p.final[k[1]]),
      i == 1 and "" or (p.below_control[k[1]] and "yes" or "no") }
  end
end
local p1 = per[cfg.policy[1]]
local summary = {
  example = "fvu",
  title = "Fig. 7: FVU of span(delta h) by W falls",
  claim = "Fig. 7: during training the fraction of variance of S = span{delta h_i}, delta h_i = h_i2 - h~*_i, unexplained "
    .. "by the column space of the linear projector W (Eq. 10) decreases: the projector approximates the subspace S.",
  chance = { gaussian_fvu_expected = 1 - cfg.d_proj / run.state.d_enc },
  seeds = seeds, epochs = cfg.epochs, eval_n = cfg.eval_n, d_proj = cfg.d_proj, policies = per,
  verdict = verdict, train_seconds = train_seconds,
  table = { columns = { "policy", "difference", "FVU at init", "FVU at epoch " .. last, "delta h below it beyond the spread" },
    rows = table_rows },
}
summary.test = string.format("per policy, over %d seeds: FVU(delta h) falls from epoch 0 (BN-recalibrated initialisation) to "
  .. "epoch %d by more than the two seed spreads, and ends below each control (h2 - h1, random-pair differences h2 - h1[pi], "
  .. "centred h1, Gaussian noise of matched variance) by more than the two spreads. reproduces = both; partly = the fall "
  .. "only (W aligns with directions the controls share, not with S in particular); does not = no fall", #seeds, last)
local d = p1.final
summary.headline = string.format("**%s** (%s, %d seeds): FVU(delta h) %.3f -> %.3f; at the end the controls: h2-h1 %.3f, "
  .. "random pairs %.3f, centred h %.3f, noise %.3f", verdict, cfg.policy[1], #seeds, p1.init.fvu.mean, d.fvu.mean,
  d.fvu_h2_minus_h1.mean, d.fvu_random_pairs.mean, d.fvu_centred_h.mean, d.fvu_gaussian.mean)
summary.cpu_seconds = os.clock() -- user + system of this process, all threads
paper.write_summary(run, summary, { "policy", "difference", "init", "end", "delta_h_below" })
for _, name in ipairs(cfg.policy) do
  print(string.format("%s: FVU(delta h) falls beyond the spread: %s; below every control: %s -> %s", name,
    tostring(per[name].falls), tostring(per[name].below_every_control), per[name].verdict))
end
print("verdict: " .. verdict)
run:finish { verdict = verdict }
print("results in " .. run.dir)

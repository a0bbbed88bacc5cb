-- Fig. 4 / Fig. 9: the encoder's representation stays (near) full rank during training. Logs
-- the singular values of the encoder outputs of clean images (Fig. 4) and of augmented images
-- (Fig. 9) at initialisation, half-way and at the end of training, on a log scale, per seed.
--
-- Measurement rule, the same at every stage (init = epoch 0): BN running statistics are
-- recalibrated on the training images without gradient (paper.recalibrate), then the encoder
-- outputs are taken in eval mode. Without it the initialisation's eval-mode outputs use running
-- statistics 0 and 1 and are nearly collinear (an effective rank of about 6 of 64).
--   sslua examples/encoder_spectrum.lua [--policy large] [--seeds 3] [--epochs 10] [--quick | --full --data-dir DIR]
local experiment = require "sslua.experiment"
local paper = require "sslua.paper"
local plot = require "sslua.plot"
local aug, geom = sslua.aug, sslua.geom

local cfg = experiment.args({
  policy = "large", seeds = 3, epochs = 10, batch = 128, beta = 2.0, eval_n = 1024,
  data = "synthetic", data_dir = "", n = 2048, n_test = 256, size = 16,
  arch = "resnet", blocks = { 1, 1, 1 }, width = 16, d_proj = 64,
  optimizer = "adam", lr = 2e-3, momentum = 0.9, weight_decay = 0.0, schedule = "constant", rtol = 1e-3,
  full_rank = 0.95,
}, { description = "Fig. 4 / 9: log singular values of the encoder outputs at init, half and end of training.",
  help = { eval_n = "images whose encoder outputs are analysed", rtol = "relative threshold of the rank",
    seeds = "independent runs seed, seed+1, ... (mean +- std)",
    full_rank = "the verdict's 'full rank': rank >= full_rank * d_enc" } })
experiment.preset(cfg, {
  quick = { seeds = 2, n = 192, n_test = 64, size = 16, width = 8, epochs = 2, batch = 64, eval_n = 128, d_proj = 32 },
  full = { data = "cifar100", arch = "resnet18", n = 50000, n_test = 10000, size = 32, eval_n = 5000, d_proj = 128, epochs = 100,
    optimizer = "lars", lr = 4.0, weight_decay = 1e-6, momentum = 0.9, schedule = "cosine" },
})

local train = paper.datasets(cfg)
local run = experiment.run(cfg, { columns = { "seed", "stage", "epoch", "view", "rank", "effective_rank" } })
local spectra = run:logger("spectrum.csv", { columns = { "seed", "stage", "view", "index", "sigma" } })
local policy = aug.policy(cfg.policy)
local images, v1 = paper.eval_views(cfg, train, policy, cfg.eval_n)
local half = math.max(1, cfg.epochs // 2)
local stages = { [0] = "init", [half] = "half", [cfg.epochs] = "end" }
local seeds = {}
for s = cfg.seed, cfg.seed + cfg.seeds - 1 do seeds[#seeds + 1] = s end
-- Kept in run.state, which checkpoints carry, so that a resumed run (--resume) draws the same figures.
run.state.curves = run.state.curves or { clean = {}, augmented = {} }
local curves = run.state.curves

local t_start = sslua.clock()
for _, seed in ipairs(seeds) do
  paper.train_measured(cfg, { seed = seed, data = train, policy = policy, when = function(epoch) return stages[epoch] ~= nil end,
    measure = function(epoch, m)
      local stage = stages[epoch]
      run.state.d_enc = m.d_enc
      for _, view in ipairs({ "clean", "augmented" }) do
        local H = paper.features(m.encoder, view == "clean" and images or v1)
        local list = geom.singular_values(H):totable()
        for i, s in ipairs(list) do spectra:log { seed = seed, stage = stage, view = view, index = i, sigma = s } end
        run:log { seed = seed, stage = stage, epoch = epoch, view = view, rank = geom.rank(H, { rtol = cfg.rtol }),
          effective_rank = geom.effective_rank(H), dim = m.d_enc, sigma_max = list[1], sigma_min = list[#list] }
        curves[view][stage .. ":" .. seed] = list
      end
    end })
end
local train_seconds = sslua.clock() - t_start

-- Figures: per stage the mean over the seeds of each sorted singular value.
local d_enc = run.state.d_enc
local styles = { init = "dotted", half = "dashed", ["end"] = "solid" }
for _, view in ipairs({ "clean", "augmented" }) do
  local file = view == "clean" and "spectrum.svg" or "spectrum_augmented.svg"
  local series = {}
  for _, stage in ipairs({ "init", "half", "end" }) do
    local mean, count = {}, 0
    for _, seed in ipairs(seeds) do
      local list = curves[view][stage .. ":" .. seed]
      if list then
        count = count + 1
        for i, s in ipairs(list) do mean[i] = (mean[i] or 0) + s end
      end
    end
    if count > 0 then
      for i = 1, #mean do mean[i] = mean[i] / count end
      series[#series + 1] = { values = mean, label = stage, style = styles[stage] }
    end
  end
  run:save(plot.spectrum { series = series, title = "Encoder singular values (" .. view .. " images, d_enc = " .. d_enc
    .. ", mean over " .. #seeds .. " seeds)" }, file)
end
local rows = run:rows()
experiment.print_table(rows, { "seed", "stage", "epoch", "view", "rank", "effective_rank", "dim", "sigma_max", "sigma_min" })

-- Summary and verdict: "full rank" = rank (rtol) >= full_rank * d_enc. reproduces = full rank at
-- the end (every seed, both views) and at half-way; partly = full rank at the end only, or
-- at least 3/4 of d_enc at every stage; does not = otherwise.
local numbers = {}
local function all_at_least(stage, frac)
  for _, r in ipairs(rows) do if r.stage == stage and r.rank < frac * d_enc then return false end end
  return true
end
for _, view in ipairs({ "clean", "augmented" }) do
  numbers[view] = {}
  for _, stage in ipairs({ "init", "half", "end" }) do
    local pred = function(r) return r.view == view and r.stage == stage end
    numbers[view][stage] = { rank = paper.stat(paper.values(rows, "rank", pred)),
      effective_rank = paper.stat(paper.values(rows, "effective_rank", pred)) }
  end
end
local end_full, half_full = all_at_least("end", cfg.full_rank), all_at_least("half", cfg.full_rank)
local near_full = all_at_least("init", 0.75) and all_at_least("half", 0.75) and all_at_least("end", 0.75)
local verdict = (end_full and half_full) and "reproduces" or ((end_full or near_full) and "partly" or "does not")
local trows = {}
for _, view in ipairs({ "clean", "augmented" }) do
  for _, stage in ipairs({ "init", "half", "end" }) do
    local x = numbers[view][stage]
    trows[#trows + 1] = { view, stage, paper.pm(x.rank, "%.1f"), paper.pm(x.effective_rank, "%.1f") }
  end
end
local summary = {
  example = "encoder_spectrum",
  title = "Figs. 4/9: the encoder stays full rank",
  claim = "Figs. 4 and 9: the encoder's outputs of clean and of augmented images span (nearly) all d_enc directions at "
    .. "initialisation, half-way and after training (Eq. 2's rank about d_enc; a slight deficiency at initialisation).",
  seeds = seeds, epochs = cfg.epochs, eval_n = images:size(1), d_enc = d_enc, policy = cfg.policy, numbers = numbers,
  full_rank_end = end_full, full_rank_half = half_full, verdict = verdict, train_seconds = train_seconds,
  table = { columns = { "view", "stage", "rank (of " .. d_enc .. ")", "effective rank" }, rows = trows },
}
summary.test = string.format("%d seeds, %d images, rank = #{sigma_j >= %g sigma_1}, d_enc = %d, stages epoch 0 (BN-recalibrated "
  .. "initialisation), %d and %d: reproduces = rank >= %.2f d_enc for every seed and both views at half-way and at the end; "
  .. "partly = that at the end only, or >= 0.75 d_enc at every stage; does not = otherwise",
  #seeds, images:size(1), cfg.rtol, d_enc, half, cfg.epochs, cfg.full_rank)
local c, a = numbers.clean, numbers.augmented
summary.headline = string.format("**%s** (%d seeds): rank of %d at init / half / end %.1f / %.1f / %.1f clean, "
  .. "%.1f / %.1f / %.1f augmented; effective rank %.1f -> %.1f (clean)", verdict, #seeds, d_enc,
  c.init.rank.mean, c.half.rank.mean, c["end"].rank.mean, a.init.rank.mean, a.half.rank.mean, a["end"].rank.mean,
  c.init.effective_rank.mean, c["end"].effective_rank.mean)
summary.cpu_seconds = os.clock() -- user + system of this process, all threads
paper.write_summary(run, summary)
print("verdict: " .. verdict)
run:finish { verdict = verdict }
print("results in " .. run.dir)

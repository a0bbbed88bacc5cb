-- Fig. 3: the upper bound L_upper = beta L_inv + beta L_rep + log(2(N-1)) of Prop. 3.1 tracks
-- InfoNCE (Eq. 1) throughout training. Both are measured each epoch on a fixed batch of two
-- augmented views; mean +- std over seeds.
--
-- Measurement rule, the same at every epoch (0 = the initialisation): BN running statistics are
-- recalibrated on the training images without gradient (paper.recalibrate), then the encoder
-- features are taken in eval mode.
--   sslua examples/upper_bound.lua [--seeds 3] [--epochs 10] [--quick | --full --data-dir DIR]
local experiment = require "sslua.experiment"
local paper = require "sslua.paper"
local plot = require "sslua.plot"
local aug, loss = sslua.aug, sslua.loss

local cfg = experiment.args({
  seeds = 3, policy = "large", epochs = 10, batch = 128, beta = 2.0, eval_n = 128,
  data = "synthetic", data_dir = "", n = 2048, n_test = 256, size = 16,
  arch = "resnet", blocks = { 1, 1, 1 }, width = 16, d_proj = 64,
  optimizer = "adam", lr = 2e-3, momentum = 0.9, weight_decay = 0.0, schedule = "constant", min_correlation = 0.9,
}, { description = "Fig. 3: L_upper (Prop. 3.1) tracks InfoNCE during training.",
  help = { seeds = "independent runs (mean +- std)", eval_n = "batch size N of the fixed evaluation batch",
    min_correlation = "the verdict's threshold on the correlation over epochs of the mean curves" } })
experiment.preset(cfg, {
  quick = { seeds = 2, n = 192, n_test = 64, size = 16, width = 8, epochs = 2, batch = 64, eval_n = 64, d_proj = 32 },
  full = { data = "cifar100", arch = "resnet18", n = 50000, n_test = 10000, size = 32, d_proj = 128, epochs = 100,
    optimizer = "lars", lr = 4.0, weight_decay = 1e-6, momentum = 0.9, schedule = "cosine" },
})

local train = paper.datasets(cfg)
local run = experiment.run(cfg, { columns = { "seed", "epoch", "infonce", "upper_bound", "gap" } })
local policy = aug.policy(cfg.policy)
local _, v1, v2 = paper.eval_views(cfg, train, policy, cfg.eval_n)
local seeds = {}
for s = cfg.seed, cfg.seed + cfg.seeds - 1 do seeds[#seeds + 1] = s end

local t_start = sslua.clock()
local function num(v) return type(v) == "number" and v or v:item() end
for _, seed in ipairs(seeds) do
  paper.train_measured(cfg, { seed = seed, data = train, policy = policy, views = { v1, v2 },
    measure = function(epoch, m)
      local info = loss.infonce(m.h1:mm(m.W), m.h2:mm(m.W), { beta = cfg.beta, form = "paper" }):item()
      local ub, parts = loss.upper_bound(m.h1, m.h2, m.W, { beta = cfg.beta })
      ub = num(ub)
      run:log { seed = seed, epoch = epoch, infonce = info, upper_bound = ub, gap = ub - info,
        invariance = num(parts.invariance), repulsion = num(parts.repulsion) }
    end })
end
local train_seconds = sslua.clock() - t_start

local rows = run:rows()
local violations = 0 -- counted from the rows, which a resumed run (--resume) restores
for _, r in ipairs(rows) do if r.upper_bound < r.infonce - 1e-4 then violations = violations + 1 end end
local series, table_rows = {}, {}
for _, key in ipairs({ "infonce", "upper_bound" }) do
  local g = paper.aggregate(rows, nil, "epoch", key)[1]
  series[#series + 1] = { x = g.x, y = g.mean, std = g.std, label = key == "infonce" and "InfoNCE (Eq. 1)" or "L_upper (Eq. 3)",
    style = key == "infonce" and "solid" or "dashed" }
end
run:save(plot.line { series = series, title = "InfoNCE and its upper bound (mean +- std over " .. #seeds .. " seeds)",
  xlabel = "epoch", ylabel = "loss" }, "upper_bound.svg")
local gap = paper.aggregate(rows, nil, "epoch", "gap")[1]
for i, x in ipairs(series[1].x) do
  table_rows[i] = { epoch = x, infonce = series[1].y[i], infonce_std = series[1].std[i],
    upper_bound = series[2].y[i], upper_bound_std = series[2].std[i], gap = gap.mean[i], gap_std = gap.std[i] }
end
experiment.print_table(table_rows, { "epoch", "infonce", "infonce_std", "upper_bound", "upper_bound_std", "gap", "gap_std" })
print(string.format("L_upper >= InfoNCE in %d of %d measurements", #rows - violations, #rows))

-- Summary and verdict. "Tracks": both fall from the (recalibrated) initialisation to the end by
-- more than the two seed spreads, and the mean curves move together over the epochs (Pearson
-- correlation at least min_correlation).
local function pearson(a, b)
  local ma, mb = paper.mean_std(a), paper.mean_std(b)
  local sab, saa, sbb = 0, 0, 0
  for i = 1, #a do
    sab = sab + (a[i] - ma) * (b[i] - mb); saa = saa + (a[i] - ma) ^ 2; sbb = sbb + (b[i] - mb) ^ 2
  end
  if saa == 0 or sbb == 0 then return 0 / 0 end
  return sab / math.sqrt(saa * sbb)
end
local last = paper.last_epoch(rows)
local function at(key, e) return paper.stat(paper.values(rows, key, function(r) return r.epoch == e end)) end
local numbers = {}
for _, key in ipairs({ "infonce", "upper_bound", "gap", "invariance", "repulsion" }) do
  numbers[key] = { init = at(key, 0), final = at(key, last) }
end
local correlation = pearson(series[1].y, series[2].y)
local infonce_falls = paper.beyond(numbers.infonce.init, numbers.infonce.final)
local bound_falls = paper.beyond(numbers.upper_bound.init, numbers.upper_bound.final)
local bound_holds = violations == 0
local tracks = infonce_falls and bound_falls and correlation >= cfg.min_correlation
local verdict = not bound_holds and "does not" or (tracks and "reproduces" or "partly")
local trows = {}
for _, key in ipairs({ "infonce", "upper_bound", "gap" }) do
  trows[#trows + 1] = { key == "infonce" and "InfoNCE" or (key == "gap" and "gap L_upper - InfoNCE" or "L_upper"),
    paper.pm(numbers[key].init), paper.pm(numbers[key].final) }
end
local summary = {
  example = "upper_bound",
  title = "Fig. 3: L_upper tracks InfoNCE",
  claim = "Fig. 3 / Prop. 3.1: the upper bound L_upper = beta L_invariance + beta L_repulsion + log(2(N-1)) is above "
    .. "InfoNCE and tracks it (the two behave similarly) throughout training.",
  seeds = seeds, epochs = cfg.epochs, eval_n = v1:size(1), policy = cfg.policy,
  numbers = numbers, violations = violations, measurements = #rows, correlation = correlation,
  infonce_falls = infonce_falls, upper_bound_falls = bound_falls, bound_holds = bound_holds, tracks = tracks,
  verdict = verdict, train_seconds = train_seconds,
  table = { columns = { "quantity", "epoch 0 (init)", "epoch " .. last }, rows = trows },
}
summary.test = string.format("%d seeds, N = %d: the bound holds in every measurement (seed x epoch); it tracks when InfoNCE and "
  .. "L_upper both fall from epoch 0 (BN-recalibrated initialisation) to epoch %d by more than the two seed spreads and "
  .. "their mean curves over the epochs correlate (Pearson) at least %.2f. reproduces = holds and tracks; partly = holds "
  .. "only; does not = violated", #seeds, v1:size(1), last, cfg.min_correlation)
summary.headline = string.format("**%s** (%d seeds): the bound holds in %d/%d measurements; InfoNCE %.2f -> %.2f, "
  .. "L_upper %.2f -> %.2f, gap %.2f -> %.2f, correlation over epochs %.2f", verdict, #seeds, #rows - violations, #rows,
  numbers.infonce.init.mean, numbers.infonce.final.mean, numbers.upper_bound.init.mean, numbers.upper_bound.final.mean,
  numbers.gap.init.mean, numbers.gap.final.mean, correlation)
summary.cpu_seconds = os.clock() -- user + system of this process, all threads
paper.write_summary(run, summary)
print(string.format("InfoNCE falls: %s, L_upper falls: %s, correlation %.3f -> verdict: %s", tostring(infonce_falls),
  tostring(bound_falls), correlation, verdict))
run:finish { violations = violations, measurements = #rows, verdict = verdict }
print("results in " .. run.dir)

-- Fig. 1: under larger augmentations the linear projector loses more rank, while the encoder's
-- representation improves. Trains SimCLR per policy (small, moderate, large of Table 2) and per
-- seed; a seed fixes the data, the initialisation and the batch order, the same for every policy
-- (paired seeds). Logs per epoch (0 = the initialisation) the projector's rank by Eq. 2's absolute
-- thresholds (rank_tau_*) and relative ones (rank_rtol_*), its effective rank (RankMe), the
-- encoder's effective rank, the encoder's kNN and linear-probe accuracy, and linear probes of the
-- nuisance label (hue bin of data.textures) in the encoder and in the projector.
--
-- Measurement rule, the same at every epoch: BN running statistics are recalibrated on the
-- (unaugmented) training images, without gradient (nn.recalibrate_bn, PyTorch's update_bn),
-- then features are taken in eval mode. Without it the initialisation's eval-mode features use
-- running statistics 0 and 1 and are nearly collinear.
--   sslua examples/rank_vs_aug.lua [--policy small,large] [--seeds 3] [--epochs 15]
--                                  [--quick | --full --data-dir DIR]
local experiment = require "sslua.experiment"
local paper = require "sslua.paper"
local plot = require "sslua.plot"
local json = require "sslua.json"
local nn, aug, geom = sslua.nn, sslua.aug, sslua.geom

local cfg = experiment.args({
  policy = { "small", "moderate", "large" }, seeds = 3, epochs = 33, eval_every = 3, batch = 128, beta = 2.0,
  data = "textures", data_dir = "", n = 1024, n_test = 512, size = 16, knn_k = 20,
  hue_spread = 0.2, period = { 0.15, 0.3 },
  arch = "resnet", blocks = { 1, 1, 1 }, width = 16, d_proj = 16,
  optimizer = "adam", lr = 2e-3, momentum = 0.9, weight_decay = 0.0, schedule = "constant",
  tau = { 0.3, 0.5, 0.7 }, rtol = { 0.5, 0.2, 0.1, 0.05, 0.01 }, plot_tau = 0.5,
  probe_iters = 100,
}, { description = "Fig. 1: projector rank vs augmentation strength, and the encoder's kNN / linear-probe accuracy.",
  help = { tau = "absolute thresholds of Eq. 2: rank = #{sigma_j >= tau}; the 64x16 W starts with sigma in about [0.3, 0.85]",
    rtol = "relative thresholds: rank = #{sigma_j >= rtol * sigma_1}", d_proj = "projector output dimension (d_enc = 4 width)",
    width = "channels of the small ResNet's first stage", n = "training images", n_test = "test images (kNN, probes)",
    seeds = "paired seeds seed, seed+1, ...", eval_every = "measure every k epochs (and at 0 and the last)", plot_tau = "the absolute threshold plotted and used by the verdict",
    hue_spread = "data.textures: width of the hue palette", period = "data.textures: texture period range (fraction of size)",
    probe_iters = "L-BFGS iterations of each linear probe" } })
experiment.preset(cfg, {
  quick = { seeds = 2, eval_every = 1, n = 256, n_test = 128, size = 16, width = 8, epochs = 2, batch = 64, d_proj = 8, probe_iters = 30 },
  full = { data = "cifar100", arch = "resnet18", n = 50000, n_test = 10000, size = 32, d_proj = 128, epochs = 100,
    knn_k = 200, seeds = 1, eval_every = 1, optimizer = "lars", lr = 4.0, weight_decay = 1e-6, momentum = 0.9, schedule = "cosine" },
})

-- Datasets: data.textures (default, with its nuisance label) or paper.datasets (synthetic, CIFAR).
local function datasets(seed)
  local c = {}
  for k, v in pairs(cfg) do c[k] = v end
  c.seed = seed
  if cfg.data == "textures" then
    local o = { size = cfg.size, hue_spread = cfg.hue_spread, period = cfg.period }
    local function make(n, s) o.n, o.seed = n, s; return sslua.data.textures(o) end
    return make(cfg.n, seed), make(cfg.n_test, seed + 1000003)
  end
  return paper.datasets(c)
end

local function tcol(t) return string.format("rank_tau_%g", t) end
local function rcol(r) return string.format("rank_rtol_%g", r) end
local columns = { "policy", "seed", "epoch", "knn_accuracy", "probe_accuracy", "effective_rank", "encoder_effective_rank" }
for _, t in ipairs(cfg.tau) do columns[#columns + 1] = tcol(t) end
for _, r in ipairs(cfg.rtol) do columns[#columns + 1] = rcol(r) end
columns[#columns + 1] = "nuisance_probe_encoder"
columns[#columns + 1] = "nuisance_probe_projector"
columns[#columns + 1] = "sigma_max"
columns[#columns + 1] = "sigma_min"
local run = experiment.run(cfg, { columns = columns })

-- Centre by the training mean and divide by one overall scale (not per dimension, so directions
-- a network shrinks stay small for the probe).
local function scaled(tr, te)
  local m = tr:mean(1)
  local a, b = tr - m, te - m
  local s = math.sqrt((a * a):mean():item()) + 1e-12
  return a / s, b / s
end
local function probe(tr, trl, te, tel)
  local a, b = scaled(tr, te)
  return (geom.linear_probe { train = a, train_labels = trl, test = b, test_labels = tel, epochs = cfg.probe_iters })
end

local t_start, c_start = sslua.clock(), os.clock()
-- Where the time goes: experiment.simclr's per-phase wall and CPU seconds, summed over the runs.
local simclr_time = require "sslua.simclr"
local timing, timed_runs = simclr_time.new_timing(), 0
local seeds = {}
for s = cfg.seed, cfg.seed + cfg.seeds - 1 do seeds[#seeds + 1] = s end
for _, seed in ipairs(seeds) do
  local train, test = datasets(seed)
  for _, name in ipairs(cfg.policy) do
    local rng = sslua.rng(seed) -- the same initialisation and batches for every policy of this seed
    local encoder, d_enc = paper.encoder(cfg, train.images:size(2), rng)
    local projector = nn.projector { dims = { d_enc, cfg.d_proj }, bias = false, rng = rng }
    print(string.format("seed %d, policy %s: %d images, encoder %d -> projector %d", seed, name, #train, d_enc, cfg.d_proj))
    local res = paper.simclr(cfg, { encoder = encoder, projector = projector, data = train, policy = aug.policy(name), rng = rng,
      on_epoch = function(epoch)
        if epoch % cfg.eval_every ~= 0 and epoch ~= cfg.epochs then return end
        nn.recalibrate_bn(encoder, train.images, { batch = cfg.batch })
        local htr = paper.features(encoder, train.images)
        local hte = paper.features(encoder, test.images)
        local W = paper.weight(projector)
        local sv = geom.singular_values(W)
        local row = { policy = name, seed = seed, epoch = epoch,
          knn_accuracy = geom.knn_accuracy { train = htr, train_labels = train.labels, test = hte, test_labels = test.labels,
            k = math.min(cfg.knn_k, #train), temperature = 0.07 },
          probe_accuracy = probe(htr, train.labels, hte, test.labels),
          effective_rank = geom.effective_rank(W), encoder_effective_rank = geom.effective_rank(hte),
          sigma_max = sv[1]:item(), sigma_min = sv[sv:size(1)]:item() }
        for _, t in ipairs(cfg.tau) do row[tcol(t)] = geom.rank(W, { tau = t }) end
        for _, r in ipairs(cfg.rtol) do row[rcol(r)] = geom.rank(W, { rtol = r }) end
        if train.nuisance_labels then
          row.nuisance_probe_encoder = probe(htr, train.nuisance_labels, hte, test.nuisance_labels)
          row.nuisance_probe_projector = probe(htr:matmul(W), train.nuisance_labels, hte:matmul(W), test.nuisance_labels)
        end
        run:log(row)
      end })
    if res.timing then simclr_time.add_timing(timing, res.timing); timed_runs = timed_runs + 1 end
  end
end
local train_seconds = sslua.clock() - t_start
-- the script's own share (data generation, model construction) is the rest of train time
local script_time = { wall = sslua.clock() - t_start, cpu = os.clock() - c_start }

-- Figures: mean +- std over the seeds, one curve per policy.
local rows = run:rows()
local function curves(key, suffix, style)
  local series = {}
  for _, g in ipairs(paper.aggregate(rows, "policy", "epoch", key)) do
    if g.mean[1] ~= nil and g.mean[1] == g.mean[1] then
      series[#series + 1] = { x = g.x, y = g.mean, std = g.std, label = g.group .. (suffix or ""), marker = true, style = style }
    end
  end
  return series
end
local nseeds = #seeds
local function title(t) return t .. " (mean +- std, " .. nseeds .. " seeds)" end
local tk = tcol(cfg.plot_tau)
if rows[1][tk] == nil then tk = tcol(cfg.tau[1]) end
run:save(plot.line { series = curves(tk), title = title("Projector rank, Eq. 2 tau = " .. tk:match("tau_(.*)")), xlabel = "epoch", ylabel = "rank" }, "rank.svg")
run:save(plot.line { series = curves(rcol(0.2)), title = title("Projector rank, sigma >= 0.2 sigma_1"), xlabel = "epoch", ylabel = "rank" }, "rank_rtol.svg")
run:save(plot.line { series = curves("effective_rank"), title = title("Effective rank of the projector"), xlabel = "epoch", ylabel = "effective rank" }, "effective_rank.svg")
run:save(plot.line { series = curves("encoder_effective_rank"), title = title("Effective rank of the encoder (test)"), xlabel = "epoch", ylabel = "effective rank" }, "encoder_effective_rank.svg")
run:save(plot.line { series = curves("knn_accuracy"), title = title("Encoder kNN accuracy (k = " .. cfg.knn_k .. ")"), xlabel = "epoch", ylabel = "accuracy", legend = "bottom-right" }, "knn_accuracy.svg")
run:save(plot.line { series = curves("probe_accuracy"), title = title("Encoder linear-probe accuracy"), xlabel = "epoch", ylabel = "accuracy", legend = "bottom-right" }, "probe_accuracy.svg")
if rows[1].nuisance_probe_encoder ~= nil then
  local s = curves("nuisance_probe_encoder", " encoder")
  for _, e in ipairs(curves("nuisance_probe_projector", " projector", "dashed")) do s[#s + 1] = e end
  run:save(plot.line { series = s, title = title("Nuisance (hue bin) probe, chance 0.25"), xlabel = "epoch", ylabel = "accuracy" }, "nuisance_probe.svg")
end

-- Summary: the final and initial values per policy, mean, std and n over the seeds.
local stat = paper.stat
local keys = { "knn_accuracy", "probe_accuracy", "effective_rank", "encoder_effective_rank", "nuisance_probe_encoder",
  "nuisance_probe_projector", "sigma_max", "sigma_min" }
for _, t in ipairs(cfg.tau) do keys[#keys + 1] = tcol(t) end
for _, r in ipairs(cfg.rtol) do keys[#keys + 1] = rcol(r) end
local per = {}
local above_init = true
for _, name in ipairs(cfg.policy) do
  local first, last = {}, {}
  for _, r in ipairs(rows) do
    if r.policy == name then
      if r.epoch == 0 then first[r.seed] = r end
      if not last[r.seed] or r.epoch >= last[r.seed].epoch then last[r.seed] = r end
    end
  end
  local p = { final = {}, init = {} }
  for _, key in ipairs(keys) do
    local fv, iv = {}, {}
    for _, seed in ipairs(seeds) do
      if last[seed] and last[seed][key] ~= nil then fv[#fv + 1] = last[seed][key] end
      if first[seed] and first[seed][key] ~= nil then iv[#iv + 1] = first[seed][key] end
    end
    if #fv > 0 then p.final[key] = stat(fv); p.init[key] = stat(iv) end
  end
  for _, seed in ipairs(seeds) do
    local f, l = first[seed], last[seed]
    if l.knn_accuracy <= f.knn_accuracy or l.probe_accuracy <= f.probe_accuracy then above_init = false end
  end
  per[name] = p
end

local function has(name) return per[name] ~= nil end
local order = {}
for _, name in ipairs({ "small", "moderate", "large" }) do if has(name) then order[#order + 1] = name end end
-- The rank half: the final effective rank of W (continuous; Eq. 2's integer ranks of a 16-column W
-- tie easily) strictly decreasing from the weakest to the strongest policy; reported beside it,
-- whether each step exceeds the two policies' seed spreads, and the same ordering for Eq. 2's rank.
local function decreasing(key, strict_spread)
  if #order < 2 then return false end
  for i = 2, #order do
    local x, y = per[order[i - 1]].final[key], per[order[i]].final[key]
    if not x or not y then return false end
    if strict_spread then
      if not (x.mean - y.mean > x.std + y.std) then return false end
    elseif not (x.mean > y.mean) then return false end
  end
  return true
end
local rank_key = "effective_rank"
local rank_ok = decreasing(rank_key)
local rank_beyond_spread = decreasing(rank_key, true)
local tau_ordered = decreasing(tk)
local function better(a, b, key) -- a better than b by more than the two spreads
  local x, y = per[a].final[key], per[b].final[key]
  return x.mean - y.mean > x.std + y.std
end
local strongest = order[#order]
local function enc_better(name) return better(name, order[1], "probe_accuracy") and better(name, order[1], "knn_accuracy") end
local enc_ok = #order >= 2 and enc_better(strongest)
local enc_moderate = has("moderate") and has("small") and enc_better("moderate") or false
local nuisance = nil
if per[order[1]].final.nuisance_probe_encoder then
  nuisance = { chance = 0.25 }
  for _, name in ipairs(order) do
    local f = per[name].final
    nuisance[name] = { encoder = f.nuisance_probe_encoder, projector = f.nuisance_probe_projector,
      gap = f.nuisance_probe_encoder.mean - f.nuisance_probe_projector.mean }
  end
  local grows = #order >= 2
  for i = 2, #order do if not (nuisance[order[i]].gap > nuisance[order[i - 1]].gap) then grows = false end end
  nuisance.gap_grows_with_strength = grows
end
local verdict
if rank_ok and enc_ok and above_init then verdict = "reproduces"
elseif rank_ok or enc_ok or enc_moderate then verdict = "partly"
else verdict = "does not" end

local summary = {
  claim = "Fig. 1: the stronger the augmentation policy, the lower the rank of the linear projector's weights at the end "
    .. "of training, while the encoder's representation becomes better for the downstream task.",
  test = string.format("final (epoch %d) effective rank of W, mean over %d paired seeds, strictly decreasing %s "
    .. "(rank half; Eq. 2's %s and the steps' size against the seeds' spread reported beside it); "
    .. "the strongest policy (%s) beats %s on both encoder linear-probe and kNN (k=%d) accuracy by more than the "
    .. "sum of the two policies' seed standard deviations (encoder half); every trained encoder (each policy and "
    .. "seed) above its BN-recalibrated initialisation on both. reproduces = both halves and above init; partly = "
    .. "the rank half, or the encoder half for the strongest or the moderate policy", cfg.epochs, nseeds,
    table.concat(order, " > "), tk, strongest, order[1], cfg.knn_k),
  data = cfg.data, n = cfg.n, n_test = cfg.n_test, epochs = cfg.epochs, seeds = seeds,
  chance = cfg.data == "textures" and { class = 1 / 8, nuisance = 1 / 4 } or nil,
  rank_half = rank_ok, rank_steps_beyond_spread = rank_beyond_spread, eq2_rank_ordered = tau_ordered,
  encoder_half = enc_ok, encoder_half_moderate = enc_moderate, trained_above_init = above_init,
  policies = per, nuisance = nuisance, verdict = verdict, train_seconds = train_seconds,
  -- seconds per phase of the training loops (simclr.phases) summed over the timed runs, their
  -- shares, and the whole training part of the script (data generation and models included)
  timing = { runs = timed_runs, wall = timing.wall, cpu = timing.cpu, fractions = simclr_time.timing_fractions(timing),
    script = script_time },
}
-- Table: initialisation against the end of training, per policy (mean +- std over the seeds).
local pm = paper.pm
local table_rows = {}
local columns = { "policy", "knn_init", "knn_end", "probe_init", "probe_end", "erank_init", "erank_end", tk .. "_end",
  "enc_erank_end", "hue_enc", "hue_proj" }
for _, name in ipairs(order) do
  local p = per[name]
  table_rows[#table_rows + 1] = { policy = name, knn_init = pm(p.init.knn_accuracy, "%.3f"), knn_end = pm(p.final.knn_accuracy, "%.3f"),
    probe_init = pm(p.init.probe_accuracy, "%.3f"), probe_end = pm(p.final.probe_accuracy, "%.3f"),
    [tk .. "_end"] = pm(p.final[tk], "%.1f"), erank_init = pm(p.init.effective_rank, "%.2f"), erank_end = pm(p.final.effective_rank, "%.2f"),
    enc_erank_end = pm(p.final.encoder_effective_rank, "%.1f"),
    hue_enc = pm(p.final.nuisance_probe_encoder, "%.3f"), hue_proj = pm(p.final.nuisance_probe_projector, "%.3f") }
end
-- The README's generated rows: the table above, and a one-line headline from the same numbers.
summary.example, summary.title = "rank_vs_aug", "Fig. 1: stronger augmentations, lower projector rank, better encoder"
summary.cpu_seconds = script_time.cpu
summary.table = { columns = columns, rows = {} }
for i, r in ipairs(table_rows) do
  local row = {}
  for j, c in ipairs(columns) do row[j] = r[c] end
  summary.table.rows[i] = row
end
local function across(key, fmt)
  local parts = {}
  for _, name in ipairs(order) do parts[#parts + 1] = string.format(fmt, per[name].final[key].mean) .. " " .. name end
  return parts
end
summary.headline = string.format("**%s** (%d seeds, %d epochs, `data.%s`): effective rank of W %s; encoder probe %s "
  .. "(kNN %s%s), %s the recalibrated init", verdict, nseeds, cfg.epochs, cfg.data,
  table.concat(across(rank_key, "%.2f"), rank_ok and " > " or ", "), table.concat(across("probe_accuracy", "%.3f"), ", "),
  table.concat(across("knn_accuracy", "%.3f"), ", "), summary.chance and string.format("; chance %.3f", summary.chance.class) or "",
  above_init and "every trained encoder above" or "not every trained encoder above")
run:write_json("summary.json", summary)
experiment.print_table(table_rows, columns)
print(string.format("rank half (effective rank of W falls %s): %s (steps beyond the seeds' spread: %s; %s ordered: %s)",
  table.concat(order, " > "), tostring(rank_ok), tostring(rank_beyond_spread), tk, tostring(tau_ordered)))
print(string.format("encoder half (%s beats %s on probe and kNN beyond the spread): %s; moderate beats small: %s; trained above init: %s",
  strongest, order[1], tostring(enc_ok), tostring(enc_moderate), tostring(above_init)))
if nuisance then
  print(string.format("nuisance (hue bin, chance 0.25) encoder - projector probe gap grows with strength: %s", tostring(nuisance.gap_grows_with_strength)))
end
print(simclr_time.format_timing(timing, string.format("time of the %d training runs", timed_runs))
  .. string.format("; script %.1f s wall, %.1f s CPU", script_time.wall, script_time.cpu))
print("verdict: " .. verdict .. string.format("  (%d seeds x %d policies, %.0f s)", nseeds, #order, train_seconds))
run:finish({ verdict = verdict, rank_half = rank_ok, encoder_half = enc_ok, encoder_half_moderate = enc_moderate,
  trained_above_init = above_init })
print("results in " .. run.dir)

-- Beyond SimCLR: dimensional collapse of the projector across the major SSL objectives
-- (Jing et al. 2022; Garrido et al.'s RankMe). SimCLR, MoCo v2, BYOL, SimSiam, VICReg and
-- Barlow Twins are trained on the same data, from the same initialisation of the same encoder
-- and MLP projector, with the same augmentations, optimizer and number of steps. Per method,
-- seed and epoch (0 = initialisation) it logs, for the encoder's features h and the
-- projector's embeddings z of a fixed evaluation set: the effective rank of the centred
-- features (the covariance spectrum, Jing et al.'s measure of dimensional collapse), RankMe
-- (the effective rank of the uncentred features, Garrido et al.), the rank at several
-- relative thresholds, the mean per-dimension std of the normalised embeddings (SimSiam's
-- collapse indicator: 1/sqrt(d) when spread, 0 when collapsed), and the encoder's kNN and
-- linear-probe accuracy. summary.json gives a generated verdict: which methods collapse their
-- projector, and whether the projector's rank predicts the encoder's quality (Spearman's rho
-- across methods and seeds).
--
-- Measurement rule, the same at every epoch (0 = the initialisation): BN running statistics of
-- the encoder and projector are recalibrated on the unaugmented training images without
-- gradient (nn.recalibrate_bn), then features are taken in eval mode. Data: data.textures (the
-- class a texture that survives crops, hue a nuisance) under the moderate policy by default,
-- where the augmentations remove what is label-free (see rank_vs_aug); chance levels are the
-- most frequent label's share of the test set.
--   sslua examples/rank_vs_method.lua [--methods simclr,byol] [--seeds 2] [--epochs 8] [--quick | --full --data-dir DIR]
-- Unlike the other examples it does not checkpoint its training loops (no --resume).
local experiment = require "sslua.experiment"
local paper = require "sslua.paper"
local plot = require "sslua.plot"
local nn, aug, geom, loss = sslua.nn, sslua.aug, sslua.geom, sslua.loss

local METHODS = { "simclr", "moco", "byol", "simsiam", "vicreg", "barlow" }
local cfg = experiment.args({
  methods = METHODS, seeds = 3, epochs = 10, eval_every = 2, batch = 128, policy = "moderate",
  data = "textures", data_dir = "", n = 1024, n_test = 512, size = 16, knn_k = 20, eval_n = 512,
  hue_spread = 0.2, period = { 0.15, 0.3 },
  arch = "resnet", blocks = { 1, 1, 1 }, width = 16, d_hidden = 128, d_proj = 32, pred_hidden = 64,
  lr = 2e-3, weight_decay = 1e-5, beta = 2.0, temperature = 0.2, queue = 1024, ema = 0.99,
  vicreg = { 25, 25, 1 }, lambda = 0.0051, probe_epochs = 100,
  rtol = { 0.5, 0.1, 0.01 }, collapse = 0.25,
}, { description = "Projector and encoder rank, RankMe, kNN and linear-probe accuracy across SSL objectives.",
  help = { methods = "objectives: simclr, moco (v2), byol, simsiam, vicreg, barlow",
    seeds = "seeds per method (cfg.seed, cfg.seed + 1, ...)", eval_every = "measure every k epochs (and at 0 and the last)",
    d_hidden = "projector MLP hidden width (Linear-BN-ReLU-Linear, the same for every method)",
    d_proj = "projector output (embedding) dimension", pred_hidden = "BYOL/SimSiam predictor hidden width",
    beta = "SimCLR's NT-Xent inverse temperature", temperature = "MoCo v2's temperature",
    queue = "MoCo's queue length", ema = "BYOL/MoCo target momentum",
    vicreg = "VICReg's sim, var, cov coefficients", lambda = "Barlow Twins' off-diagonal weight",
    rtol = "relative thresholds: rank = #{sigma_j >= rtol * sigma_1}",
    collapse = "a projector has collapsed when its final effective rank < collapse * d_proj",
    eval_n = "training images (unaugmented) whose features are measured" } })
experiment.preset(cfg, {
  quick = { seeds = 1, n = 192, n_test = 64, size = 16, width = 8, epochs = 2, batch = 64, d_hidden = 32, d_proj = 16,
    pred_hidden = 16, knn_k = 20, eval_every = 1, eval_n = 96, queue = 128, probe_epochs = 20 },
  full = { seeds = 1, data = "cifar100", arch = "resnet18", n = 50000, n_test = 10000, size = 32, epochs = 100, batch = 256,
    policy = "large", d_hidden = 2048, d_proj = 128, pred_hidden = 512, eval_n = 2048, queue = 4096, ema = 0.996,
    weight_decay = 1e-6 },
})
for _, m in ipairs(cfg.methods) do
  local ok = false
  for _, k in ipairs(METHODS) do ok = ok or k == m end
  if not ok then error("rank_vs_method: unknown method '" .. tostring(m) .. "' (" .. table.concat(METHODS, ", ") .. ")", 0) end
end
if #cfg.vicreg ~= 3 then error("rank_vs_method: --vicreg takes three coefficients sim,var,cov", 0) end

local train, test = paper.data(cfg)
local class_chance = paper.majority_chance(test.labels)
local rcol = function(which, r) return string.format("%s_rank_rtol_%g", which, r) end
local columns = { "method", "seed", "epoch", "loss", "knn_accuracy", "linear_probe", "proj_effective_rank", "proj_rankme",
  "proj_std", "enc_effective_rank", "enc_rankme" }
for _, which in ipairs { "proj", "enc" } do for _, r in ipairs(cfg.rtol) do columns[#columns + 1] = rcol(which, r) end end
local run = experiment.run(cfg, { columns = columns })
local policy = aug.policy(cfg.policy)
local eval_images = train.images:narrow(1, 1, math.min(cfg.eval_n, #train))

-- The geometry of a feature matrix M (N x d): effective rank of the centred M, RankMe of M,
-- ranks at the thresholds.
local function geometry(M, row, which)
  local C = M:double() - M:double():mean(1, true)
  row[which .. "_effective_rank"] = geom.effective_rank(C)
  row[which .. "_rankme"] = geom.effective_rank(M)
  for _, r in ipairs(cfg.rtol) do row[rcol(which, r)] = geom.rank(C, { rtol = r }) end
end

-- One step's loss for each objective. `online` = encoder + projector; `pred` the predictor
-- (BYOL, SimSiam); `target` the EMA copy of online (BYOL, MoCo); `queue` MoCo's negatives.
local objectives = {
  simclr = function(m, x1, x2) return loss.infonce(m.online(x1), m.online(x2), { form = "ntxent", beta = cfg.beta }) end,
  moco = function(m, x1, x2)
    local q = m.online(x1)
    local k = sslua.no_grad(function() return m.target(x2) end)
    local l = loss.moco(q, k, m.queue.queue, { temperature = cfg.temperature })
    m.queue:enqueue(k)
    return l
  end,
  byol = function(m, x1, x2)
    local p1, p2 = m.pred(m.online(x1)), m.pred(m.online(x2))
    local t1, t2 = sslua.no_grad(function() return m.target(x1), m.target(x2) end)
    return loss.byol(p1, t2) + loss.byol(p2, t1)
  end,
  simsiam = function(m, x1, x2)
    local z1, z2 = m.online(x1), m.online(x2)
    -- SimSiam's 0.5 (D(p1, z2) + D(p2, z1)), D = -cos = (byol - 2) / 2; z a stop-gradient
    return (loss.byol(m.pred(z1), z2) + loss.byol(m.pred(z2), z1)) * 0.25 - 1
  end,
  vicreg = function(m, x1, x2)
    return loss.vicreg(m.online(x1), m.online(x2), { sim = cfg.vicreg[1], var = cfg.vicreg[2], cov = cfg.vicreg[3] })
  end,
  barlow = function(m, x1, x2) return loss.barlow_twins(m.online(x1), m.online(x2), { lambda = cfg.lambda }) end,
}

local function train_method(method, seed)
  local rng = sslua.rng(seed)          -- the same initialisation and batches for every method
  local aug_rng = sslua.rng(seed + 7919)
  local encoder, d_enc = paper.encoder(cfg, train.images:size(2), rng)
  local projector = nn.projector { dims = { d_enc, cfg.d_hidden, cfg.d_proj }, rng = rng }
  local m = { online = nn.Sequential(encoder, projector) }
  local params = m.online:parameters()
  if method == "byol" or method == "simsiam" then
    m.pred = nn.predictor { dims = { cfg.d_proj, cfg.pred_hidden, cfg.d_proj }, rng = rng }
    for _, p in ipairs(m.pred:parameters()) do params[#params + 1] = p end
  end
  if method == "byol" or method == "moco" then m.target = nn.ema(m.online, { momentum = cfg.ema }) end
  if method == "moco" then m.queue = nn.Queue(cfg.queue, cfg.d_proj, { rng = rng }) end
  local opt = sslua.optim.Adam(params, { lr = cfg.lr, weight_decay = cfg.weight_decay })
  local step_loss = objectives[method]
  local function evaluate(epoch, mean_loss)
    local row = { method = method, seed = seed, epoch = epoch, loss = mean_loss }
    nn.recalibrate_bn({ encoder, projector }, train.images, { batch = cfg.batch })
    -- eval mode is deterministic: the evaluation set's features are the first rows of the training set's
    local Htr, Hte = paper.features(encoder, train.images), paper.features(encoder, test.images)
    local H = Htr:narrow(1, 1, eval_images:size(1))
    local Z = paper.features(projector, H)
    geometry(H, row, "enc")
    geometry(Z, row, "proj")
    row.proj_std = Z:double():normalize(2):std(1, false):mean():item()
    row.knn_accuracy = geom.knn_accuracy { train = Htr, train_labels = train.labels, test = Hte, test_labels = test.labels,
      k = math.min(cfg.knn_k, #train), temperature = 0.07 }
    row.linear_probe = paper.probe(Htr, train.labels, Hte, test.labels, cfg.probe_epochs)
    run:log(row)
    return row
  end
  evaluate(0, 0 / 0)
  local per_epoch = #train // cfg.batch
  for epoch = 1, cfg.epochs do
    m.online:train()
    if m.pred then m.pred:train() end
    if m.target then m.target:train() end   -- BN in training mode, as the references' targets
    local total, count = 0, 0
    local bar = cfg.progress ~= false and experiment.progress(per_epoch, { label = string.format("%s seed %d epoch %d/%d", method, seed, epoch, cfg.epochs) }) or nil
    for images in train:batches { size = cfg.batch, shuffle = true, drop_last = true, rng = rng } do
      local x1, x2 = policy:pair(images, { rng = aug_rng })
      opt:zero_grad()
      local l = step_loss(m, x1, x2)
      l:backward()
      opt:step()
      if m.target then m.target:update(m.online) end
      total, count = total + l:item(), count + 1
      if bar then bar:update(count, { loss = total / count }) end
    end
    if bar then bar:finish() end
    if epoch % cfg.eval_every == 0 or epoch == cfg.epochs then evaluate(epoch, total / math.max(count, 1)) end
  end
end

for _, method in ipairs(cfg.methods) do
  for seed = cfg.seed, cfg.seed + cfg.seeds - 1 do
    print(string.format("%s, seed %d: %d images, %d epochs of %d steps", method, seed, #train, cfg.epochs, #train // cfg.batch))
    train_method(method, seed)
  end
end

-- Figures: one curve per method (mean +- std over the seeds).
local rows = run:rows()
local function curves(key)
  local series = {}
  for _, g in ipairs(paper.aggregate(rows, "method", "epoch", key)) do
    series[#series + 1] = { x = g.x, y = g.mean, std = cfg.seeds > 1 and g.std or nil, label = g.group, marker = true }
  end
  return series
end
local over = " (mean +- std, " .. cfg.seeds .. " seeds)"
local figs = {
  { "proj_effective_rank", "Projector: effective rank of the centred embeddings (d = " .. cfg.d_proj .. ")", "effective rank" },
  { "enc_effective_rank", "Encoder: effective rank of the centred features", "effective rank" },
  { "proj_rankme", "Projector: RankMe", "RankMe" },
  { "proj_std", "Projector: mean std of the normalised embeddings (1/sqrt(d) = " .. string.format("%.3f", 1 / math.sqrt(cfg.d_proj)) .. ")", "std" },
  { "knn_accuracy", string.format("Encoder kNN accuracy (k = %d, chance %.3f)", cfg.knn_k, class_chance), "accuracy" },
  { "linear_probe", string.format("Encoder linear-probe accuracy (chance %.3f)", class_chance), "accuracy" },
}
for _, f in ipairs(figs) do
  run:save(plot.line { series = curves(f[1]), title = f[2] .. over, xlabel = "epoch", ylabel = f[3],
    legend = (f[1] == "knn_accuracy" or f[1] == "linear_probe") and "bottom-right" or nil }, f[1] .. ".svg")
end

-- Summary: the final epoch of every (method, seed) against its initialisation.
local final, init = {}, {}
for _, r in ipairs(rows) do
  if r.epoch == cfg.epochs then final[#final + 1] = r end
  if r.epoch == 0 then init[r.method .. "/" .. r.seed] = r end
end
local function column(key) local out = {} for i, r in ipairs(final) do out[i] = r[key] end return out end
local KEYS = { "proj_effective_rank", "enc_effective_rank", "proj_rankme", "proj_std", "knn_accuracy", "linear_probe" }

local summary = {
  claim = "Beyond SimCLR (Jing et al. 2022; Garrido et al.'s RankMe): across SSL objectives, the projector's "
    .. "dimensional collapse goes with a worse encoder, i.e. the higher the effective rank of the projector's "
    .. "embeddings at the end of training, the better the encoder's downstream accuracy.",
  data = cfg.data, policy = cfg.policy, n = cfg.n, n_test = cfg.n_test, d_proj = cfg.d_proj, epochs = cfg.epochs,
  seeds = cfg.seeds, collapse_threshold = cfg.collapse,
  cpu_seconds = os.clock(), -- this process's CPU time (user + system, all threads) so far
  chance = { class = class_chance }, methods = {},
}
local collapsed, spread, table_rows = {}, {}, {}
local above_init = true
for _, method in ipairs(cfg.methods) do
  local vals, ivals = {}, {}
  for _, k in ipairs(KEYS) do vals[k], ivals[k] = {}, {} end
  local m_above = true
  for _, r in ipairs(final) do
    if r.method == method then
      local r0 = init[method .. "/" .. r.seed]
      for _, k in ipairs(KEYS) do table.insert(vals[k], r[k]); table.insert(ivals[k], r0[k]) end
      if not (r.knn_accuracy > r0.knn_accuracy and r.linear_probe > r0.linear_probe) then m_above = false end
    end
  end
  local s = { final = {}, init = {} }
  for _, k in ipairs(KEYS) do s.final[k] = paper.stat(vals[k]); s.init[k] = paper.stat(ivals[k]) end
  local pe = s.final.proj_effective_rank.mean
  s.proj_rank_fraction = pe / cfg.d_proj
  s.dimensional_collapse = s.proj_rank_fraction < cfg.collapse
  s.complete_collapse = pe < 1.5 or s.final.proj_std.mean < 0.1 / math.sqrt(cfg.d_proj)
  s.trained_above_init = m_above
  above_init = above_init and m_above
  summary.methods[method] = s
  if s.dimensional_collapse or s.complete_collapse then collapsed[#collapsed + 1] = method else spread[#spread + 1] = method end
  local f = s.final
  table_rows[#table_rows + 1] = { method = method, proj_erank = paper.pm(f.proj_effective_rank, "%.1f"),
    enc_erank = paper.pm(f.enc_effective_rank, "%.1f"), proj_std = paper.pm(f.proj_std, "%.3f"),
    knn_init = paper.pm(s.init.knn_accuracy, "%.3f"), knn = paper.pm(f.knn_accuracy, "%.3f"),
    probe_init = paper.pm(s.init.linear_probe, "%.3f"), probe = paper.pm(f.linear_probe, "%.3f"),
    collapsed = s.complete_collapse and "complete" or (s.dimensional_collapse and "dimensional" or "no") }
end
summary.collapsed, summary.not_collapsed = collapsed, spread
summary.trained_above_init = above_init
local pr = column("proj_effective_rank")
summary.spearman = {
  proj_effective_rank_vs_knn = paper.spearman(pr, column("knn_accuracy")),
  proj_effective_rank_vs_linear_probe = paper.spearman(pr, column("linear_probe")),
  enc_effective_rank_vs_knn = paper.spearman(column("enc_effective_rank"), column("knn_accuracy")),
  proj_rankme_vs_knn = paper.spearman(column("proj_rankme"), column("knn_accuracy")),
}
-- The test: Spearman's rho over the runs between the final projector effective rank and the
-- encoder's linear-probe accuracy, against the two-sided 5% critical value of rho under no
-- association (large-sample approximation 1.96 / sqrt(runs - 1)).
local rho = summary.spearman.proj_effective_rank_vs_linear_probe
local critical = #final > 3 and 1.96 / math.sqrt(#final - 1) or nil
summary.runs, summary.rho_critical = #final, critical
local verdict
if rho == nil or critical == nil then verdict = "does not"
elseif rho > critical then verdict = "reproduces"
elseif rho > 0 then verdict = "partly"
else verdict = "does not" end
summary.test = string.format("Spearman's rho over the %d (method, seed) runs at epoch %d between the projector's effective rank "
  .. "and the encoder's linear-probe accuracy (chance %.3f): reproduces when rho exceeds the two-sided 5%% critical value "
  .. "1.96/sqrt(runs-1) = %s, partly when 0 < rho <= that, does not otherwise. Reported beside it: which methods collapse "
  .. "(final effective rank < %g d_proj, or a constant embedding) and whether every trained encoder beats its "
  .. "BN-recalibrated initialisation on kNN and probe.", #final, cfg.epochs, class_chance,
  critical and string.format("%.3f", critical) or "n/a", cfg.collapse)
summary.verdict = verdict
local finding = {}
if #collapsed == 0 then
  finding[1] = string.format("No method collapses its projector (every final effective rank >= %g of d = %d).", cfg.collapse, cfg.d_proj)
else
  finding[1] = string.format("Projector collapse (effective rank < %g d, d = %d, or a constant embedding): %s; not collapsed: %s.",
    cfg.collapse, cfg.d_proj, table.concat(collapsed, ", "), #spread > 0 and table.concat(spread, ", ") or "none")
end
if rho ~= nil then
  finding[2] = string.format("Spearman rho (projector effective rank, linear probe) = %.2f over %d runs (critical %.2f); with kNN %.2f.",
    rho, #final, critical or 0 / 0, summary.spearman.proj_effective_rank_vs_knn or 0 / 0)
end
summary.finding = table.concat(finding, " ")
local cols = { "method", "proj_erank", "enc_erank", "proj_std", "knn_init", "knn", "probe_init", "probe", "collapsed" }
summary.table = { columns = cols, rows = {} }
for _, r in ipairs(table_rows) do
  local row = {}
  for i, c in ipairs(cols) do row[i] = r[c] end
  summary.table.rows[#summary.table.rows + 1] = row
end
paper.write_summary(run, summary, cols)
print(summary.finding)
print(string.format("verdict: %s (rho %s, critical %s; every trained encoder above init: %s)", verdict,
  rho and string.format("%.3f", rho) or "n/a", critical and string.format("%.3f", critical) or "n/a", tostring(above_init)))
run:finish({ verdict = verdict, trained_above_init = above_init })
print("results in " .. run.dir)

-- Sec. 5: deeper and wider MLP projectors. A ReLU MLP projector is affine on each region of
-- its activation pattern (Eq. 11): the deeper and wider, the more regions and the less the
-- encoder is constrained (it need not linearise the augmentations' subspace globally), which the
-- paper links to the better encoders of deeper/wider projectors (Chen et al.). Trains SimCLR per
-- projector and per paired seed (a seed fixes the data, the encoder's initialisation and the
-- batch order, the same for every projector) under the moderate policy on data.textures (the
-- class a texture that survives crops, the hue a nuisance the augmentations randomise: the
-- projector has something to discard). Logs per projector, seed and epoch (0 = initialisation):
-- kNN and linear-probe accuracy of the encoder's and the projector's features, linear probes
-- of the nuisance (hue bin) in both, the number of linear regions visited by the encoder
-- outputs of two views of N images for several N (a count equal to the number of points means
-- every point has its own region: the count is capped by the sample, not by the projector), and
-- the fraction of pairs whose two views share a region (lower = finer partition; never capped).
--
-- Measurement rule, the same at every epoch: BN running statistics of the encoder and the
-- projector are recalibrated on the unaugmented training images without gradient
-- (nn.recalibrate_bn), then features are taken in eval mode (the projector's BN folded into
-- its Linear layers for the region count).
--   sslua examples/projector_depth_width.lua [--projectors 16,256-16,256-256-16] [--seeds 3] [--quick | --full --data-dir DIR]
local experiment = require "sslua.experiment"
local paper = require "sslua.paper"
local plot = require "sslua.plot"
local nn, aug, geom = sslua.nn, sslua.aug, sslua.geom

local cfg = experiment.args({
  projectors = { "16", "64-16", "256-16", "256-256-16" }, policy = "moderate", seeds = 3, epochs = 15, eval_every = 5,
  batch = 128, beta = 2.0,
  data = "textures", data_dir = "", n = 1024, n_test = 512, size = 16, knn_k = 20, eval_n = 1024,
  hue_spread = 0.2, period = { 0.15, 0.3 }, region_points = { 256, 512, 1024, 2048, 4096 },
  arch = "resnet", blocks = { 1, 1, 1 }, width = 16, probe_iters = 100, from = "",
  optimizer = "adam", lr = 2e-3, momentum = 0.9, weight_decay = 0.0, schedule = "constant",
}, { description = "Sec. 5: encoder vs projector kNN / probe accuracy and linear regions for deeper/wider projectors.",
  help = { projectors = "projector layer sizes after the encoder, '-' between layers (16 = linear), from the smallest to the largest",
    seeds = "paired seeds seed, seed+1, ...", eval_every = "measure every k epochs (and at 0 and the last)",
    eval_n = "training images whose two augmented views are the region count's points",
    region_points = "numbers of points at which regions are counted: both views of the first N/2 of eval_n images, then further view pairs of them",
    probe_iters = "L-BFGS iterations of each linear probe",
    from = "a finished run directory of the same config: read its metrics.csv instead of training, redo figures and summary" } })
experiment.preset(cfg, {
  quick = { projectors = { "8", "32-8" }, seeds = 2, n = 192, n_test = 64, size = 16, width = 8, epochs = 2, eval_every = 1,
    batch = 64, knn_k = 10, eval_n = 64, region_points = { 32, 64, 128 }, probe_iters = 20 },
  full = { data = "cifar100", arch = "resnet18", n = 50000, n_test = 10000, size = 32, epochs = 100, eval_n = 2048, seeds = 1,
    region_points = { 512, 1024, 2048, 4096 }, knn_k = 200, policy = "large",
    projectors = { "128", "2048-128", "2048-2048-128" }, optimizer = "lars", lr = 4.0, weight_decay = 1e-6, momentum = 0.9, schedule = "cosine" },
})

local function rcol(npts) return string.format("regions_%d", npts) end
local columns = { "projector", "depth", "width", "seed", "epoch", "knn_encoder", "knn_projector", "probe_encoder", "probe_projector",
  "nuisance_probe_encoder", "nuisance_probe_projector", "linear_regions", "regions_per_point", "pair_same_region" }
for _, np in ipairs(cfg.region_points) do columns[#columns + 1] = rcol(np) end
local run = experiment.run(cfg, { columns = columns })
local policy = aug.policy(cfg.policy)

local specs = {}
for i, spec in ipairs(cfg.projectors) do
  local dims = {}
  for d in tostring(spec):gmatch("%d+") do dims[#dims + 1] = tonumber(d) end
  if #dims < 1 then error("projector '" .. tostring(spec) .. "': expected sizes like 256-64", 0) end
  local hidden = 0
  for j = 1, #dims - 1 do hidden = math.max(hidden, dims[j]) end
  specs[i] = { name = tostring(spec), dims = dims, hidden = hidden }
end

local t_start = sslua.clock()
local seeds = {}
for s = cfg.seed, cfg.seed + cfg.seeds - 1 do seeds[#seeds + 1] = s end
local class_chance, nuisance_chance
for _, seed in ipairs(seeds) do
  local train, test = paper.data(cfg, seed)
  class_chance = class_chance or paper.majority_chance(test.labels)
  if test.nuisance_labels and not nuisance_chance then nuisance_chance = paper.majority_chance(test.nuisance_labels) end
  if cfg.from ~= "" then break end
  local neval = math.min(cfg.eval_n, #train)
  -- the region count's points: rounds of two views of the first neval images, interleaved
  -- (image 1 view 1, image 1 view 2, image 2 view 1, ...), as many rounds as the largest count needs
  local npmax = cfg.region_points[#cfg.region_points]
  local rounds, vg = math.max(1, -((-npmax) // (2 * neval))), sslua.rng(seed + 7919)
  local views = {}
  for k = 1, rounds do
    local a, b = policy:pair(train.images:narrow(1, 1, neval), { rng = vg })
    views[k] = sslua.cat({ a:unsqueeze(2), b:unsqueeze(2) }, 2):reshape(2 * neval, a:size(2), a:size(3), a:size(4))
  end
  local points = sslua.cat(views, 1)
  for _, sp in ipairs(specs) do
    local rng = sslua.rng(seed) -- the same encoder initialisation and batches for every projector of this seed
    local encoder, d_enc = paper.encoder(cfg, train.images:size(2), rng)
    local dims = { d_enc }
    for _, d in ipairs(sp.dims) do dims[#dims + 1] = d end
    local projector = nn.projector { dims = dims, bias = #dims > 2, rng = rng }
    print(string.format("seed %d, projector %s: %d images, encoder %d, policy %s", seed, sp.name, #train, d_enc, cfg.policy))
    paper.simclr(cfg, { encoder = encoder, projector = projector, data = train, policy = policy, rng = rng,
      on_epoch = function(epoch)
        if epoch % cfg.eval_every ~= 0 and epoch ~= cfg.epochs then return end
        nn.recalibrate_bn({ encoder, projector }, train.images, { batch = cfg.batch })
        local htr, hte = paper.features(encoder, train.images), paper.features(encoder, test.images)
        local ztr, zte = paper.features(projector, htr), paper.features(projector, hte)
        local function knn(a, b) return geom.knn_accuracy { train = a, train_labels = train.labels, test = b, test_labels = test.labels,
          k = math.min(cfg.knn_k, #train), temperature = 0.07 } end
        local row = { projector = sp.name, depth = #dims - 1, width = sp.hidden, seed = seed, epoch = epoch,
          knn_encoder = knn(htr, hte), knn_projector = knn(ztr, zte),
          probe_encoder = paper.probe(htr, train.labels, hte, test.labels, cfg.probe_iters),
          probe_projector = paper.probe(ztr, train.labels, zte, test.labels, cfg.probe_iters),
          linear_regions = 1, regions_per_point = 0, pair_same_region = 1.0 }
        if train.nuisance_labels then
          row.nuisance_probe_encoder = paper.probe(htr, train.nuisance_labels, hte, test.nuisance_labels, cfg.probe_iters)
          row.nuisance_probe_projector = paper.probe(ztr, train.nuisance_labels, zte, test.nuisance_labels, cfg.probe_iters)
        end
        if #dims > 2 then
          local H = paper.features(encoder, points)
          local layers = paper.mlp_layers(projector)
          for _, np in ipairs(cfg.region_points) do
            local m = math.min(np, H:size(1))
            local count = geom.linear_regions(layers, H:narrow(1, 1, m))
            row[rcol(np)] = count
            row.linear_regions, row.regions_per_point = count, count / m
          end
          local _, ids = geom.linear_regions(layers, H:narrow(1, 1, 2 * neval))
          ids = ids:totable()
          local hits = 0
          for i = 1, neval do if ids[2 * i - 1] == ids[2 * i] then hits = hits + 1 end end
          row.pair_same_region = hits / neval
        else
          for _, np in ipairs(cfg.region_points) do row[rcol(np)] = 1 end
        end
        run:log(row)
      end })
  end
end
local train_seconds = sslua.clock() - t_start
if cfg.from ~= "" then
  -- replay: the rows of a finished run (numbers parsed, the projector name kept as text)
  local f = io.open(cfg.from .. "/metrics.csv", "rb")
  if not f then error("projector_depth_width: cannot read " .. cfg.from .. "/metrics.csv", 0) end
  local header
  for line in f:lines() do
    local cells = {}
    for c in (line .. ","):gmatch("([^,]*),") do cells[#cells + 1] = c end
    if not header then header = cells else
      local r = {}
      for i, h in ipairs(header) do if cells[i] ~= "" then r[h] = (h == "projector") and cells[i] or (tonumber(cells[i]) or cells[i]) end end
      run:log(r)
    end
  end
  f:close()
  local cj = io.open(cfg.from .. "/config.json", "rb")
  local conf = cj and require("sslua.json").decode(cj:read("a")) or {}
  if cj then cj:close() end
  train_seconds = conf.elapsed_seconds or train_seconds
end

-- Figures: mean +- std over the seeds, one curve per projector.
local rows = run:rows()
local nseeds = #seeds
local function title(t) return t .. " (mean +- std, " .. nseeds .. " seeds)" end
local function curves(key, filter, suffix, style)
  local s = {}
  for _, g in ipairs(paper.aggregate(rows, "projector", "epoch", key)) do
    if not filter or filter(g.group) then
      s[#s + 1] = { x = g.x, y = g.mean, std = g.std, label = "projector " .. g.group .. (suffix or ""), marker = true, style = style }
    end
  end
  return s
end
local function nonlinear(name) return name:find("-", 1, true) ~= nil end
local cc = string.format("chance %.3f", class_chance)
run:save(plot.line { series = curves("knn_encoder"), title = title("Encoder kNN accuracy (k = " .. cfg.knn_k .. ", " .. cc .. ")"),
  xlabel = "epoch", ylabel = "accuracy", legend = "bottom-right" }, "knn_encoder.svg")
run:save(plot.line { series = curves("knn_projector"), title = title("Projector kNN accuracy (" .. cc .. ")"),
  xlabel = "epoch", ylabel = "accuracy", legend = "bottom-right" }, "knn_projector.svg")
do
  local s = curves("probe_encoder", nil, " encoder")
  for _, e in ipairs(curves("probe_projector", nil, " projector", "dashed")) do s[#s + 1] = e end
  run:save(plot.line { series = s, title = title("Linear probe of the class (" .. cc .. ")"), xlabel = "epoch", ylabel = "accuracy",
    legend = "bottom-right" }, "probe.svg")
end
if nuisance_chance then
  local s = curves("nuisance_probe_encoder", nil, " encoder")
  for _, e in ipairs(curves("nuisance_probe_projector", nil, " projector", "dashed")) do s[#s + 1] = e end
  run:save(plot.line { series = s, title = title(string.format("Nuisance (hue bin) probe, chance %.3f", nuisance_chance)),
    xlabel = "epoch", ylabel = "accuracy" }, "nuisance_probe.svg")
end
local npmax = cfg.region_points[#cfg.region_points]
run:save(plot.line { series = curves("regions_per_point", nonlinear),
  title = title("Linear regions per point (" .. npmax .. " points; 1 = every point alone)"), xlabel = "epoch", ylabel = "regions / points" },
  "linear_regions.svg")
run:save(plot.line { series = curves("pair_same_region", nonlinear), title = title("Fraction of pairs whose two views share a region"),
  xlabel = "epoch", ylabel = "fraction" }, "pair_same_region.svg")
-- The region count against the number of points, at the end of training: where it saturates.
do
  local s = {}
  for _, sp in ipairs(specs) do
    if nonlinear(sp.name) then
      local x, y, sd = {}, {}, {}
      for _, np in ipairs(cfg.region_points) do
        local v = {}
        for _, r in ipairs(rows) do if r.projector == sp.name and r.epoch == cfg.epochs then v[#v + 1] = r[rcol(np)] end end
        x[#x + 1] = np; y[#y + 1], sd[#sd + 1] = paper.mean_std(v)
      end
      s[#s + 1] = { x = x, y = y, std = sd, label = "projector " .. sp.name, marker = true }
    end
  end
  s[#s + 1] = { x = cfg.region_points, y = cfg.region_points, label = "cap: one region per point", style = "dotted" }
  run:save(plot.line { series = s, title = title("Regions visited vs points, epoch " .. cfg.epochs), xlabel = "points", ylabel = "regions",
    legend = "top-left" }, "regions_vs_points.svg")
end

-- Summary: the final values per projector, mean, std and n over the seeds.
local KEYS = { "knn_encoder", "knn_projector", "probe_encoder", "probe_projector", "nuisance_probe_encoder", "nuisance_probe_projector",
  "linear_regions", "regions_per_point", "pair_same_region" }
for _, np in ipairs(cfg.region_points) do KEYS[#KEYS + 1] = rcol(np) end
local per = {}
local above_init = true
for _, sp in ipairs(specs) do
  local first, last = {}, {}
  for _, r in ipairs(rows) do
    if r.projector == sp.name then
      if r.epoch == 0 then first[r.seed] = r end
      if r.epoch == cfg.epochs then last[r.seed] = r end
    end
  end
  local p = { final = {}, init = {}, depth = #sp.dims, width = sp.hidden }
  for _, key in ipairs(KEYS) do
    local fv, iv = {}, {}
    for _, seed in ipairs(seeds) do
      if last[seed] and last[seed][key] ~= nil then fv[#fv + 1] = last[seed][key] end
      if first[seed] and first[seed][key] ~= nil then iv[#iv + 1] = first[seed][key] end
    end
    if #fv > 0 then p.final[key] = paper.stat(fv); p.init[key] = paper.stat(iv) end
  end
  for _, seed in ipairs(seeds) do
    if not (last[seed].probe_encoder > first[seed].probe_encoder and last[seed].knn_encoder > first[seed].knn_encoder) then above_init = false end
  end
  -- saturation of the count: regions at the largest N over regions at the one before (2 = still
  -- growing like the number of points: the count is a lower bound; near 1 = saturated)
  if #cfg.region_points >= 2 and p.final[rcol(npmax)] then
    p.region_growth_last_doubling = p.final[rcol(npmax)].mean / math.max(1, p.final[rcol(cfg.region_points[#cfg.region_points - 1])].mean)
    p.regions_capped = p.final.regions_per_point.mean >= 0.99
  end
  if p.final.nuisance_probe_encoder then
    p.nuisance_gap = p.final.nuisance_probe_encoder.mean - p.final.nuisance_probe_projector.mean
  end
  per[sp.name] = p
end

local lin, big = specs[1].name, specs[#specs].name
local nl = {}
for _, sp in ipairs(specs) do if nonlinear(sp.name) then nl[#nl + 1] = sp.name end end
-- Partition half: along the non-linear projectors (listed from the smallest to the largest) the
-- fraction of pairs sharing a region never rises and the regions per point never fall, and the
-- largest projector's partition is strictly finer than the smallest non-linear one's on one of
-- them. Both measures have bounds (0 pairs sharing, 1 region per point): a step between two
-- projectors already at a bound is unresolved, not a reversal, and is listed.
local partition = #nl >= 2
local unresolved = {}
for i = 2, #nl do
  local a, b = per[nl[i - 1]].final, per[nl[i]].final
  if b.pair_same_region.mean > a.pair_same_region.mean or b.regions_per_point.mean < a.regions_per_point.mean then partition = false end
  if b.pair_same_region.mean == a.pair_same_region.mean and b.regions_per_point.mean == a.regions_per_point.mean then
    unresolved[#unresolved + 1] = nl[i - 1] .. " vs " .. nl[i]
  end
end
if #nl >= 2 then
  local a, b = per[nl[1]].final, per[nl[#nl]].final
  if not (b.pair_same_region.mean < a.pair_same_region.mean or b.regions_per_point.mean > a.regions_per_point.mean) then partition = false end
end
-- Accuracy half: the largest projector's encoder beats the linear (first) projector's on the probe
-- and on kNN by more than the sum of the two seed standard deviations.
local function better(a, b, key)
  local x, y = per[a].final[key], per[b].final[key]
  return x.mean - y.mean > x.std + y.std
end
local accuracy = #specs >= 2 and better(big, lin, "probe_encoder") and better(big, lin, "knn_encoder")
local enc_beats_proj = true
for _, sp in ipairs(specs) do if not (per[sp.name].final.probe_encoder.mean > per[sp.name].final.probe_projector.mean) then enc_beats_proj = false end end
local discards = nil
if nuisance_chance then
  discards = true
  for _, sp in ipairs(specs) do if not (per[sp.name].nuisance_gap > 0) then discards = false end end
end
local verdict
if partition and accuracy then verdict = "reproduces" elseif partition or accuracy then verdict = "partly" else verdict = "does not" end

local summary = {
  claim = "Sec. 5: the deeper and wider the MLP projector, the finer its partition of the encoder space into linear regions "
    .. "(Eq. 11), the less the encoder is constrained, and the better the encoder's representation.",
  data = cfg.data, policy = cfg.policy, n = cfg.n, n_test = cfg.n_test, epochs = cfg.epochs, seeds = seeds,
  region_points = cfg.region_points,
  chance = { class = class_chance, nuisance = nuisance_chance },
  partition_half = partition, partition_unresolved = unresolved, accuracy_half = accuracy, encoder_beats_projector = enc_beats_proj,
  projector_discards_nuisance = discards, trained_above_init = above_init,
  projectors = per, verdict = verdict, train_seconds = train_seconds,
  replayed_from = cfg.from ~= "" and cfg.from or nil,
  cpu_seconds = cfg.from == "" and os.clock() or nil, -- this process's CPU time (user + system, all threads); nil when replayed
}
summary.test = string.format("at epoch %d (%s policy, %d paired seeds): partition half = along the non-linear projectors %s the fraction of "
  .. "pairs whose two views share a region never rises and the regions per point (%d points) never fall, the largest strictly finer "
  .. "than the smallest on one of the two (steps with both measures at their bounds are unresolved); accuracy half = "
  .. "the largest projector (%s) beats the linear one (%s) on the encoder's linear probe and kNN (k=%d) by more than the sum of "
  .. "the two seed standard deviations. reproduces = both halves, partly = one, does not = neither. Reported beside: encoder "
  .. "probe above the projector's for every projector, the projector discarding the nuisance (hue-bin probe lower in the "
  .. "projector than in the encoder), every trained encoder above its BN-recalibrated initialisation, and where the region "
  .. "count saturates.", cfg.epochs, cfg.policy, nseeds, table.concat(nl, " < "), npmax, big, lin, cfg.knn_k)
local cols = { "projector", "knn_enc", "probe_enc", "probe_proj", "hue_enc", "hue_proj", "regions_" .. npmax, "per_point", "pair_same" }
summary.table = { columns = cols, rows = {} }
for _, sp in ipairs(specs) do
  local f = per[sp.name].final
  local r = { sp.name, paper.pm(f.knn_encoder, "%.3f"), paper.pm(f.probe_encoder, "%.3f"), paper.pm(f.probe_projector, "%.3f"),
    paper.pm(f.nuisance_probe_encoder, "%.3f"), paper.pm(f.nuisance_probe_projector, "%.3f"), paper.pm(f[rcol(npmax)], "%.0f"),
    paper.pm(f.regions_per_point, "%.3f"), paper.pm(f.pair_same_region, "%.3f") }
  summary.table.rows[#summary.table.rows + 1] = r
end
paper.write_summary(run, summary, cols)
print(string.format("partition half: %s; accuracy half (%s beats %s): %s; encoder above projector: %s; projector discards hue: %s; above init: %s",
  tostring(partition), big, lin, tostring(accuracy), tostring(enc_beats_proj), tostring(discards), tostring(above_init)))
print("verdict: " .. verdict .. string.format("  (%d seeds x %d projectors, %.0f s)", nseeds, #specs, train_seconds))
run:finish({ verdict = verdict, partition_half = partition, accuracy_half = accuracy })
print("results in " .. run.dir)

-- The paper's experimental setup, shared by the examples: datasets (synthetic by default,
-- CIFAR-100 under --full), encoders, the linear projector's W, encoder features, kNN accuracy
-- and mean +- std over seeds. Each function takes the config from experiment.args.
local paper = {}

local function S() return package.loaded.sslua or _G.sslua end

--- paper.datasets(cfg) -> train, test. cfg.data: "synthetic" (default), "fashion_mnist",
--- "mnist", "cifar10", "cifar100"; cfg.data_dir the files' root; cfg.n / cfg.n_test sizes.
function paper.datasets(cfg)
  local data = S().data
  local kind = cfg.data or "synthetic"
  local root = (cfg.data_dir ~= nil and cfg.data_dir ~= "") and cfg.data_dir or nil
  local train, test
  if kind == "synthetic" then
    train = data.synthetic { n = cfg.n, seed = cfg.seed, size = cfg.size }
    test = data.synthetic { n = cfg.n_test, seed = cfg.seed + 1000003, size = cfg.size }
    return train, test
  end
  local loader = data[kind]
  if type(loader) ~= "function" then error("sslua.paper.datasets: unknown data set '" .. tostring(kind) .. "'", 2) end
  local ok, err = pcall(loader, { root = root, train = true })
  if not ok then
    err = tostring(err):gsub("^[^:]*paper%.lua:%d+: ", "")
    if err:find("cannot find", 1, true) then err = err .. " (give the data's directory with --data_dir DIR)" end
    error(err, 2)
  end
  train = err
  test = loader { root = root, train = false }
  local rng = S().rng(cfg.seed)
  if cfg.n and cfg.n < #train then train = data.subset(train, cfg.n, { rng = rng }) end
  if cfg.n_test and cfg.n_test < #test then test = data.subset(test, cfg.n_test, { rng = rng }) end
  return train, test
end

--- paper.encoder(cfg, in_channels, rng) -> encoder, d_enc. ResNet-18 (CIFAR stem) under
--- --full (cfg.arch = "resnet18"), else the small ResNet of cfg.blocks / cfg.width.
function paper.encoder(cfg, channels, rng)
  local nn = S().nn
  if cfg.arch == "resnet18" then
    return nn.resnet18 { in_channels = channels, cifar = true, rng = rng }, 512
  end
  local blocks = cfg.blocks or { 1, 1, 1 }
  local width = cfg.width or 32
  return nn.resnet { blocks = blocks, width = width, in_channels = channels, cifar = true, rng = rng },
    width * (1 << (#blocks - 1))
end

--- paper.weight(projector) -> W (d_enc x d_proj) of a linear projector g(h) = W^T h.
function paper.weight(projector)
  local last
  for name, p in projector:named_parameters() do
    if name:match("weight$") and p:dim() == 2 then last = p end
  end
  if not last then error("sslua.paper.weight: the projector has no 2-d weight", 2) end
  return last:detach():t():contiguous()
end

--- paper.features(module | {m1, m2, ...}, images [, batch=256]) -> N x d outputs of the
--- module (or the chain of modules) in eval mode, without grad.
function paper.features(modules, images, batch)
  local s = S()
  batch = batch or 256
  if modules.parameters then modules = { modules } end
  local n = images:size(1)
  local parts = {}
  for _, m in ipairs(modules) do m:eval() end
  s.no_grad(function()
    for i = 1, n, batch do
      local x = images:narrow(1, i, math.min(batch, n - i + 1))
      for _, m in ipairs(modules) do x = m(x) end
      parts[#parts + 1] = x:detach()
    end
  end)
  if #parts == 1 then return parts[1] end
  return s.cat(parts, 1)
end

--- paper.knn(modules, train, test, cfg) -> weighted kNN accuracy (k = cfg.knn_k, T = 0.07)
--- of the features of `modules` (the encoder, or {encoder, projector}).
function paper.knn(modules, train, test, cfg)
  local s = S()
  local k = math.min(cfg.knn_k or 200, #train)
  return s.geom.knn_accuracy { train = paper.features(modules, train.images), train_labels = train.labels,
    test = paper.features(modules, test.images), test_labels = test.labels, k = k, temperature = 0.07 }
end

--- paper.eval_views(cfg, ds, policy [, n]) -> images, view1, view2, indices: a fixed
--- evaluation batch (the first n images) with two augmented views from a fixed generator.
function paper.eval_views(cfg, ds, policy, n)
  local s = S()
  n = math.min(n or cfg.eval_n or 512, #ds)
  local images = ds.images:narrow(1, 1, n)
  local v1, v2 = policy:pair(images, { rng = s.rng(cfg.seed + 7919) })
  return images, v1, v2
end

--- paper.labels(ds, n, coarse) -> the first n labels (fine, or coarse when asked) as a tensor.
function paper.labels(ds, n, coarse)
  local l = coarse and ds.coarse_labels or ds.labels
  if l == nil then return nil end
  if type(l) == "table" then
    local t = {}
    for i = 1, n do t[i] = l[i] end
    return S().tensor(t)
  end
  return l:narrow(1, 1, n)
end

--- paper.mlp_layers(projector) -> {{W, b}, ...} for geom.linear_regions: the projector's Linear
--- layers (PyTorch layout, out x in), with each eval-mode BatchNorm1d folded into the Linear
--- before it (BN in eval mode is affine per channel, so the activation pattern is unchanged).
function paper.mlp_layers(projector)
  local s = S()
  local mods = {}
  if projector._type == "Sequential" then
    for i = 1, #projector do mods[i] = projector[i] end
  else
    mods[1] = projector
  end
  local layers = {}
  for _, m in ipairs(mods) do
    if m._type == "Linear" then
      local W = m.weight:detach():double()
      local b = m.bias and m.bias:detach():double() or s.zeros(W:size(1), { dtype = "float64" })
      layers[#layers + 1] = { W, b }
    elseif m._type == "BatchNorm1d" then
      local last = layers[#layers]
      if not last then error("sslua.paper.mlp_layers: BatchNorm1d before any Linear", 2) end
      local rm, rv = m.running_mean:double(), m.running_var:double()
      local scale = (rv + m.eps):sqrt():pow(-1)
      local shift = -rm * scale
      if m.weight then scale = scale * m.weight:detach():double(); shift = shift * m.weight:detach():double() + m.bias:detach():double() end
      last[1] = last[1] * scale:reshape(scale:size(1), 1)
      last[2] = last[2] * scale + shift
    elseif m._type ~= "ReLU" then
      error("sslua.paper.mlp_layers: unsupported layer " .. tostring(m._type), 2)
    end
  end
  return layers
end

--- paper.optimizer(cfg) -> the optimizer name and options for experiment.simclr.
function paper.optimizer(cfg)
  local name = cfg.optimizer or "adam"
  -- momentum only for the optimizers that have one (Adam's is betas): experiment.simclr rejects it otherwise
  local lower = type(name) == "string" and name:lower() or nil
  local momentum = (lower == "sgd" or lower == "lars") and cfg.momentum or nil
  return { optimizer = name, lr = cfg.lr, momentum = momentum, weight_decay = cfg.weight_decay }
end

--- paper.simclr(cfg, fields) -> experiment.simclr with the config's optimizer and sizes.
function paper.simclr(cfg, fields)
  local o = paper.optimizer(cfg)
  o.epochs, o.batch, o.beta = cfg.epochs, cfg.batch, cfg.beta
  o.progress = cfg.progress ~= false
  if cfg.schedule == "cosine" then
    -- SimCLR's schedule: linear warm-up over a tenth of training (at most 10 epochs), then cosine.
    local per_epoch = math.max(1, #fields.data // cfg.batch)
    local total = per_epoch * math.max(1, cfg.epochs)
    o.schedule = S().optim.warmup_cosine { base_lr = cfg.lr, warmup = per_epoch * math.min(10, cfg.epochs // 10), total = total }
  end
  for k, v in pairs(fields) do o[k] = v end
  return require("sslua.experiment").simclr(o)
end

--- paper.recalibrate(cfg, modules, ds): BN running statistics of `modules` recalibrated on the
--- (unaugmented) training images of ds, the first cfg.recal_n of them when set, without gradient
--- (nn.recalibrate_bn, PyTorch's update_bn). The examples call it before every eval-mode
--- measurement, at the initialisation and after each epoch alike: without it an untrained
--- network's eval-mode features use running statistics 0 and 1 and are nearly collinear.
function paper.recalibrate(cfg, modules, ds)
  local n = #ds
  if cfg.recal_n and cfg.recal_n < n then n = cfg.recal_n end
  local images = n < #ds and ds.images:narrow(1, 1, n) or ds.images
  S().nn.recalibrate_bn(modules, images, { batch = cfg.batch or 128 })
end

--- paper.train_measured(cfg, {seed=, data=, policy=, measure=, views=, when=}) -> encoder,
--- projector, d_enc: the encoder (paper.encoder) and a linear projector d_enc -> cfg.d_proj without
--- bias, both drawn from sslua.rng(seed), trained by SimCLR on `data` under `policy`
--- (paper.simclr, the same generator for the batches). At epoch 0 (the initialisation) and
--- after every epoch (or the epochs where when(epoch) is true) the BN statistics are
--- recalibrated (paper.recalibrate) and measure(epoch, m) is called with m = {encoder=,
--- projector=, d_enc=, W = paper.weight(projector)} and, when views = {v1, v2} is given,
--- m.h1, m.h2 = the eval-mode encoder features of the two views.
function paper.train_measured(cfg, o)
  local s = S()
  local rng = s.rng(o.seed)
  local encoder, d_enc = paper.encoder(cfg, o.data.images:size(2), rng)
  local projector = s.nn.projector { dims = { d_enc, cfg.d_proj }, bias = false, rng = rng }
  paper.simclr(cfg, { encoder = encoder, projector = projector, data = o.data, policy = o.policy, rng = rng,
    on_epoch = function(epoch)
      if o.when and not o.when(epoch) then return end
      paper.recalibrate(cfg, encoder, o.data)
      local m = { encoder = encoder, projector = projector, d_enc = d_enc, W = paper.weight(projector) }
      if o.views then m.h1, m.h2 = paper.features(encoder, o.views[1]), paper.features(encoder, o.views[2]) end
      o.measure(epoch, m)
    end })
  return encoder, projector, d_enc
end

--- paper.mean_std(values) -> mean, standard deviation (n - 1 in the denominator; 0 for one value).
function paper.mean_std(values)
  local n = #values
  if n == 0 then return 0 / 0, 0 / 0 end
  local m = 0
  for _, v in ipairs(values) do m = m + v end
  m = m / n
  if n == 1 then return m, 0 end
  local s = 0
  for _, v in ipairs(values) do s = s + (v - m) ^ 2 end
  return m, math.sqrt(s / (n - 1))
end

--- paper.stat(values) -> {mean=, std=, n=} (paper.mean_std), the shape of every number in a summary.json.
function paper.stat(values)
  local m, sd = paper.mean_std(values)
  return { mean = m, std = sd, n = #values }
end

--- paper.values(rows, key, pred) -> the list of r[key] over the rows for which pred(r) holds.
function paper.values(rows, key, pred)
  local out = {}
  for _, r in ipairs(rows) do
    if (pred == nil or pred(r)) and r[key] ~= nil then out[#out + 1] = r[key] end
  end
  return out
end

--- paper.beyond(a, b) -> whether stat a exceeds stat b by more than the sum of their standard
--- deviations over seeds (a.mean - b.mean > a.std + b.std): the examples' "beyond the spread".
function paper.beyond(a, b)
  return a.mean - b.mean > a.std + b.std
end

--- paper.pm(stat [, fmt="%.3f"]) -> "mean +- std" (or "-" for nil).
function paper.pm(st, fmt)
  if st == nil then return "-" end
  fmt = fmt or "%.3f"
  return string.format(fmt .. " +- " .. fmt, st.mean, st.std)
end

--- paper.last_epoch(rows) -> the largest epoch among the rows.
function paper.last_epoch(rows)
  local e = nil
  for _, r in ipairs(rows) do if e == nil or r.epoch > e then e = r.epoch end end
  return e
end

--- paper.label_chance(labels) -> the agreement of a uniformly random negative with the anchor's
--- label: sum_c n_c (n_c - 1) / (N (N - 1)) over the class counts n_c of the N labels (exact for
--- geom.nearest_negative's pool [h1; h2] without i and N + i: 2 (n_c - 1) of its 2N - 2 items match).
function paper.label_chance(labels)
  local list = type(labels) == "table" and labels or labels:totable()
  local counts, n = {}, #list
  for _, l in ipairs(list) do counts[l] = (counts[l] or 0) + 1 end
  if n < 2 then return 0 / 0 end
  local s = 0
  for _, c in pairs(counts) do s = s + c * (c - 1) end
  return s / (n * (n - 1))
end

--- paper.combine(verdicts) -> one verdict for several ("reproduces" when all do, "does not" when
--- none reproduces even partly, else "partly").
function paper.combine(verdicts)
  local all, none = true, true
  for _, v in ipairs(verdicts) do
    if v ~= "reproduces" then all = false end
    if v ~= "does not" then none = false end
  end
  if #verdicts == 0 then return "does not" end
  return all and "reproduces" or (none and "does not" or "partly")
end


--- paper.write_summary(run, summary [, keys]) writes summary.json in the run directory; with
--- keys, it then prints summary.table.rows as a table whose columns are named keys[1], keys[2],
--- ... (row r's j-th cell under keys[j]: short names for the terminal, the long ones stay in
--- summary.table.columns).
function paper.write_summary(run, summary, keys)
  run:write_json("summary.json", summary)
  if keys == nil then return end
  local rows = {}
  for i, r in ipairs(summary.table.rows) do
    local named = {}
    for j, k in ipairs(keys) do named[k] = r[j] end
    rows[i] = named
  end
  require("sslua.experiment").print_table(rows, keys)
end

--- paper.aggregate(rows, group, x, y) -> per group: {x = {...}, mean = {...}, std = {...}}
--- over the rows sharing (group value, x value) — e.g. mean +- std over seeds per epoch.
function paper.aggregate(rows, group, x, y)
  local out, order = {}, {}
  for _, r in ipairs(rows) do
    local g = group and r[group] or "all"
    if not out[g] then out[g] = { cells = {}, xs = {} }; order[#order + 1] = g end
    local o = out[g]
    if not o.cells[r[x]] then o.cells[r[x]] = {}; o.xs[#o.xs + 1] = r[x] end
    table.insert(o.cells[r[x]], r[y])
  end
  local result = {}
  for _, g in ipairs(order) do
    local o = out[g]
    table.sort(o.xs)
    local res = { group = g, x = {}, mean = {}, std = {} }
    for i, xv in ipairs(o.xs) do
      res.x[i] = xv
      res.mean[i], res.std[i] = paper.mean_std(o.cells[xv])
    end
    result[#result + 1] = res
  end
  return result
end

-- Helpers of the examples' summaries (lie_rotation_rank, lie_kernel, projector_depth_width,
-- rank_vs_method): textures data, centred probes, {mean, std, n} statistics, chance levels,
-- Spearman's rho and table cells.

--- paper.data(cfg [, seed]) -> train, test: data.textures when cfg.data == "textures" (its
--- nuisance label kept; cfg.hue_spread, cfg.period optional), else paper.datasets(cfg).
function paper.data(cfg, seed)
  seed = seed or cfg.seed
  if cfg.data == "textures" then
    local o = { size = cfg.size, hue_spread = cfg.hue_spread, period = cfg.period }
    local function make(n, s) o.n, o.seed = n, s; return S().data.textures(o) end
    return make(cfg.n, seed), make(cfg.n_test, seed + 1000003)
  end
  local c = {}
  for k, v in pairs(cfg) do c[k] = v end
  c.seed = seed
  return paper.datasets(c)
end

--- paper.probe(train_features, train_labels, test_features, test_labels [, iters=100]) -> test
--- accuracy of a linear probe (geom.linear_probe, L-BFGS) on features centred by the training
--- mean and divided by one overall scale (not per dimension: directions a network shrinks stay small).
function paper.probe(tr, trl, te, tel, iters)
  local m = tr:mean(1)
  local a, b = tr - m, te - m
  local s = math.sqrt((a * a):mean():item()) + 1e-12
  return (S().geom.linear_probe { train = a / s, train_labels = trl, test = b / s, test_labels = tel, epochs = iters or 100 })
end

--- paper.majority_chance(labels) -> the accuracy of always answering the most frequent label (a
--- tensor or a list of labels): the chance level of an accuracy measured on these labels
--- (paper.label_chance is the chance level of a label agreement between two random items).
function paper.majority_chance(labels)
  local t = type(labels) == "table" and labels or labels:totable()
  local counts, best = {}, 0
  for _, l in ipairs(t) do counts[l] = (counts[l] or 0) + 1; if counts[l] > best then best = counts[l] end end
  return #t > 0 and best / #t or 0 / 0
end

--- paper.spearman(a, b) -> Spearman's rank correlation of two lists (ties share their mean
--- rank), or nil with fewer than 3 values or no spread.
function paper.spearman(a, b)
  if #a ~= #b or #a < 3 then return nil end
  local function ranks(v)
    local idx = {}
    for i = 1, #v do idx[i] = i end
    table.sort(idx, function(x, y) return v[x] < v[y] end)
    local rk, i = {}, 1
    while i <= #idx do
      local j = i
      while j < #idx and v[idx[j + 1]] == v[idx[i]] do j = j + 1 end
      for k = i, j do rk[idx[k]] = (i + j) / 2 end
      i = j + 1
    end
    return rk
  end
  local ra, rb = ranks(a), ranks(b)
  local ma, sa = paper.mean_std(ra)
  local mb, sb = paper.mean_std(rb)
  if sa == 0 or sb == 0 then return nil end
  local s = 0
  for i = 1, #ra do s = s + (ra[i] - ma) * (rb[i] - mb) end
  return s / ((#ra - 1) * sa * sb)
end

--- paper.rotate_nearest(images, degrees) -> images rotated counter-clockwise about the centre
--- with nearest-neighbour sampling (torchvision's rotate default, InterpolationMode.NEAREST;
--- expand=False, zeros outside): the same inverse map as lie.rotate (which is bilinear), each
--- output pixel taking the input pixel nearest to its inversely rotated position (ties
--- rounded up; torch rounds half to even, which only differs on exact ties). images: N x C x H x W
--- (or N x H x W), degrees: a list or tensor of N angles. Float64 result.
function paper.rotate_nearest(images, degrees)
  local s = S()
  local dim = images:dim()
  if dim ~= 3 and dim ~= 4 then error("sslua.paper.rotate_nearest: expected N x C x H x W or N x H x W images", 2) end
  local n, h, w = images:size(1), images:size(dim - 1), images:size(dim)
  local c = dim == 4 and images:size(2) or 1
  local t = type(degrees) == "table" and s.tensor(degrees, { dtype = "float64" }) or degrees:double()
  if t:numel() ~= n then error("sslua.paper.rotate_nearest: " .. t:numel() .. " angles for " .. n .. " images", 2) end
  t = t:reshape(n, 1) * (math.pi / 180)
  local cs, sn = t:cos(), t:sin()
  local xs, ys = {}, {}
  local cx, cy = (w - 1) / 2, (h - 1) / 2
  for i = 0, h - 1 do for j = 0, w - 1 do xs[#xs + 1] = j - cx; ys[#ys + 1] = i - cy end end
  local x = s.tensor(xs, { dtype = "float64" }):reshape(1, h * w)
  local y = s.tensor(ys, { dtype = "float64" }):reshape(1, h * w)
  local sx = ((cs * x - sn * y + cx) + 0.5):floor()
  local sy = ((sn * x + cs * y + cy) + 0.5):floor()
  local valid = sx:ge(0):double() * sx:le(w - 1):double() * sy:ge(0):double() * sy:le(h - 1):double()
  local idx = sy:clamp(0, h - 1) * w + sx:clamp(0, w - 1) + 1
  local src = images:double():reshape(n, c, h * w)
  local out = src:gather(3, idx:reshape(n, 1, h * w):expand(n, c, h * w):contiguous()) * valid:reshape(n, 1, h * w)
  if dim == 4 then return out:reshape(n, c, h, w) end
  return out:reshape(n, h, w)
end

return paper

-- Props. 4.1-4.3 in a synthetic encoder space: augmentations act as h2 = expm(sum_j eps_j G_j) h1
-- with k random generators G_j and strengths eps_j ~ U(0, spread). A linear projector W trained
-- with InfoNCE moves the generators' columns toward Ker(W^T): lie.kernel_alignment(W, G) =
-- ||W^T G|| / (||W|| ||G||) falls (0 = inside the kernel), and the more directions the
-- augmentations span (more generators, larger spread) the lower W's rank (Prop. 4.2).
-- Prop. 4.2's bound (proof in App. D.4, with Prop. 4.1): a W minimising L_inv has the
-- augmentation directions v_i = h2_i - h1_i in Ker(W^T), so rank(W) <= d_enc - dim span(v_i)
-- (and <= d_proj); `aug_span` is that dimension (rank of the v_i at rtol) and `rank_bound` the
-- bound, plotted beside the trained W's rank. Each seed draws new generators, data and W;
-- mean +- std over `seeds` seeds.
--   sslua examples/lie_kernel.lua [--generators 1,2,4,8] [--spread 0.25,1] [--seeds 5] [--quick]
local experiment = require "sslua.experiment"
local paper = require "sslua.paper"
local plot = require "sslua.plot"
local lie, geom, loss = sslua.lie, sslua.geom, sslua.loss

local cfg = experiment.args({
  d = 32, d_proj = 24, n = 256, generators = { 1, 2, 4, 8, 12 }, spread = { 0.25, 1.0 }, gen_rank = 2,
  steps = 300, lr = 0.05, beta = 2.0, rtol = 0.1, seeds = 5,
}, { description = "Props. 4.1-4.3: kernel alignment and rank of W vs number and spread of Lie generators.",
  help = { d = "encoder dimension d_enc", d_proj = "projector dimension", n = "samples h1",
    gen_rank = "rank of each random skew-symmetric generator", steps = "Adam steps on W", rtol = "relative threshold of the rank",
    seeds = "seeds seed, seed+1, ... (new generators, data and W each)" } })
experiment.preset(cfg, { quick = { d = 12, d_proj = 6, n = 48, generators = { 1, 3 }, spread = { 1.0 }, steps = 40, seeds = 3 } })

local run = experiment.run(cfg, { columns = { "seed", "spread", "generators", "aug_span", "rank_bound", "rank_init", "rank", "effective_rank",
  "kernel_alignment_init", "kernel_alignment", "invariance" } })
local d, p, n = cfg.d, cfg.d_proj, cfg.n

-- Mean over generators of lie.kernel_alignment(W, G_j) (0 = G_j inside Ker(W^T)).
local function alignment(W, Gs)
  local s = 0
  for _, G in ipairs(Gs) do s = s + lie.kernel_alignment(W, G) end
  return s / #Gs
end

for seed = cfg.seed, cfg.seed + cfg.seeds - 1 do
  for _, spread in ipairs(cfg.spread) do
    for _, k in ipairs(cfg.generators) do
      local g = sslua.rng(seed)
      local Gs = {}
      for j = 1, k do Gs[j] = lie.random_generator(d, { rank = cfg.gen_rank, skew = true, rng = g }) end
      local H1 = sslua.randn(n, d, { rng = g })
      local eps = (sslua.rand(n, k, { rng = g }) * spread):totable()
      local rows = {}
      for i = 1, n do
        local A = Gs[1] * eps[i][1]
        for j = 2, k do A = A + Gs[j] * eps[i][j] end
        rows[i] = lie.expm(A):mm(H1:narrow(1, i, 1):t()):t()
      end
      local H2 = sslua.cat(rows, 1)
      local W = (sslua.randn(d, p, { rng = g }) / math.sqrt(d)):requires_grad_(true)
      local rank0, align0 = geom.rank(W:detach(), { rtol = cfg.rtol }), alignment(W:detach(), Gs)
      -- Adam on W (kept in a few lines so the example depends on nothing but autograd).
      local m, v = sslua.zeros(d, p), sslua.zeros(d, p)
      local b1, b2 = 0.9, 0.999
      for step = 1, cfg.steps do
        local l = loss.infonce(H1:mm(W), H2:mm(W), { beta = cfg.beta, form = "paper" })
        l:backward()
        sslua.no_grad(function()
          local gW = W.grad
          m = m * b1 + gW * (1 - b1)
          v = v * b2 + gW * gW * (1 - b2)
          local mh, vh = m / (1 - b1 ^ step), v / (1 - b2 ^ step)
          W:sub_(mh / (vh:sqrt() + 1e-8) * cfg.lr)
        end)
        W:zero_grad()
      end
      local Wd = W:detach()
      local f1, f2 = H1:mm(Wd):normalize(2), H2:mm(Wd):normalize(2)
      local span = geom.rank(H2 - H1, { rtol = cfg.rtol })
      run:log { seed = seed, spread = spread, generators = k, aug_span = span, rank_bound = math.max(0, math.min(p, d - span)),
        rank_init = rank0, rank = geom.rank(Wd, { rtol = cfg.rtol }), effective_rank = geom.effective_rank(Wd),
        kernel_alignment_init = align0, kernel_alignment = alignment(Wd, Gs), invariance = -(f1 * f2):sum(2):mean():item() }
    end
  end
end

local rows = run:rows()
local nseeds = cfg.seeds
local function sel(spread) local o = {} for _, r in ipairs(rows) do if r.spread == spread then o[#o + 1] = r end end return o end
local rank_series, align_series = {}, {}
for _, spread in ipairs(cfg.spread) do
  local r = paper.aggregate(sel(spread), nil, "generators", "rank")[1]
  local b = paper.aggregate(sel(spread), nil, "generators", "rank_bound")[1]
  local a = paper.aggregate(sel(spread), nil, "generators", "kernel_alignment")[1]
  local a0 = paper.aggregate(sel(spread), nil, "generators", "kernel_alignment_init")[1]
  rank_series[#rank_series + 1] = { x = r.x, y = r.mean, std = r.std, label = "trained W, spread " .. spread, marker = true }
  rank_series[#rank_series + 1] = { x = b.x, y = b.mean, std = b.std, label = "Prop. 4.2 bound, spread " .. spread, style = "dashed" }
  align_series[#align_series + 1] = { x = a.x, y = a.mean, std = a.std, label = "trained, spread " .. spread, marker = true }
  align_series[#align_series + 1] = { x = a0.x, y = a0.mean, std = a0.std, label = "random W, spread " .. spread, style = "dotted" }
end
local over = " (mean +- std, " .. nseeds .. " seeds)"
run:save(plot.line { series = rank_series, title = "Rank of W (rtol " .. cfg.rtol .. ") and min(d_proj, d - dim span v)" .. over,
  xlabel = "number of generators", ylabel = "rank" }, "rank_vs_generators.svg")
run:save(plot.line { series = align_series, title = "||W^T G|| / (||W|| ||G||), 0 when G lies in Ker(W^T)" .. over,
  xlabel = "number of generators", ylabel = "kernel alignment" }, "alignment_vs_generators.svg")

-- Summary: per (spread, generators) {mean, std, n} over the seeds, and the computed verdict.
local KEYS = { "aug_span", "rank_bound", "rank_init", "rank", "effective_rank", "kernel_alignment_init", "kernel_alignment", "invariance" }
local configs = {}
local aligned, falls, within = true, true, true
for _, spread in ipairs(cfg.spread) do
  local lo, hi
  for _, k in ipairs(cfg.generators) do
    local c = { spread = spread, generators = k }
    for _, key in ipairs(KEYS) do
      local v = {}
      for _, r in ipairs(rows) do if r.spread == spread and r.generators == k then v[#v + 1] = r[key] end end
      c[key] = paper.stat(v)
    end
    -- Props. 4.1/4.3: training moves the generators toward Ker(W^T) beyond the seeds' spread
    c.alignment_falls = c.kernel_alignment_init.mean - c.kernel_alignment.mean > c.kernel_alignment_init.std + c.kernel_alignment.std
    -- Prop. 4.2's bound on the trained W (mean over seeds)
    c.within_bound = c.rank.mean <= c.rank_bound.mean
    aligned = aligned and c.alignment_falls
    within = within and c.within_bound
    configs[#configs + 1] = c
    if k == cfg.generators[1] then lo = c end
    if k == cfg.generators[#cfg.generators] then hi = c end
  end
  -- Prop. 4.2's direction: the rank with the most generators below the one with the fewest by
  -- more than the sum of their standard deviations
  if not (#cfg.generators >= 2 and lo.rank.mean - hi.rank.mean > lo.rank.std + hi.rank.std) then falls = false end
end
local verdict
if aligned and falls and within then verdict = "reproduces"
elseif aligned or falls then verdict = "partly"
else verdict = "does not" end
local summary = {
  claim = "Props. 4.1-4.3: InfoNCE training moves the augmentations' generators into Ker(W^T), and the more directions the "
    .. "augmentations span, the lower the rank of the projector's W; Prop. 4.2: rank(W) <= d_enc - dim span(v_i) for a W "
    .. "minimising the invariance term.",
  d = d, d_proj = p, n = n, steps = cfg.steps, seeds = nseeds, chance = "not applicable (no accuracy)",
  cpu_seconds = os.clock(), -- this process's CPU time (user + system, all threads) so far
  alignment_falls = aligned, rank_falls = falls, within_bound = within, configs = configs, verdict = verdict,
}
summary.test = string.format("over %d seeds per (spread, generators): (i) the generators' kernel alignment falls from the random W to "
  .. "the trained W by more than the sum of the two standard deviations, in every configuration; (ii) for every spread the "
  .. "rank of W (rtol %g) with %d generators is below the rank with %d by more than the sum of their standard deviations; "
  .. "(iii) the mean trained rank is within Prop. 4.2's bound min(d_proj, d_enc - aug_span) in every configuration. "
  .. "reproduces = all three, partly = (i) or (ii), does not = neither.", nseeds, cfg.rtol,
  cfg.generators[#cfg.generators], cfg.generators[1])
local cols = { "spread", "generators", "aug_span", "rank_bound", "rank", "align_init", "align" }
summary.table = { columns = cols, rows = {} }
for _, c in ipairs(configs) do
  local r = { string.format("%g", c.spread), string.format("%d", c.generators), paper.pm(c.aug_span, "%.1f"), paper.pm(c.rank_bound, "%.1f"),
    paper.pm(c.rank, "%.1f"), paper.pm(c.kernel_alignment_init, "%.3f"), paper.pm(c.kernel_alignment, "%.4f") }
  summary.table.rows[#summary.table.rows + 1] = r
end
paper.write_summary(run, summary, cols)
print(string.format("verdict: %s (alignment falls everywhere: %s; rank falls with generators: %s; within Prop. 4.2's bound: %s)",
  verdict, tostring(aligned), tostring(falls), tostring(within)))
run:finish({ verdict = verdict })
print("results in " .. run.dir)

-- Props. 4.1-4.3 in a synthetic encoder space: augmentations act as h2 = expm(sum_j eps_j G_j) h1
-- with k random generators G_j and strengths eps_j ~ U(0, spread). A linear projector W trained
-- with InfoNCE moves the generators' columns toward Ker(W^T): lie.kernel_alignment(W, G) =
-- ||W^T G|| / (||W|| ||G||) falls (0 = inside the kernel), and the more directions the
-- augmentations span (more generators, larger spread) the lower W's rank (Prop. 4.2).
--   sslua examples/lie_kernel.lua [--generators 1,2,4,8] [--spread 0.25,1] [--quick]
local experiment = require "sslua.experiment"
local plot = require "sslua.plot"
local lie, geom, loss = sslua.lie, sslua.geom, sslua.loss

local cfg = experiment.args({
  d = 32, d_proj = 24, n = 256, generators = { 1, 2, 4, 8, 12 }, spread = { 0.25, 1.0 }, gen_rank = 2,
  steps = 300, lr = 0.05, beta = 2.0, rtol = 0.1,
}, { description = "Props. 4.1-4.3: kernel alignment and rank of W vs number and spread of Lie generators.",
  help = { d = "encoder dimension d_enc", d_proj = "projector dimension", n = "samples h1",
    gen_rank = "rank of each random skew-symmetric generator", steps = "Adam steps on W", rtol = "relative threshold of the rank" } })
experiment.preset(cfg, { quick = { d = 12, d_proj = 6, n = 48, generators = { 1, 3 }, spread = { 1.0 }, steps = 40 } })

local run = experiment.run(cfg, { columns = { "spread", "generators", "aug_span", "rank_init", "rank", "kernel_alignment_init", "kernel_alignment" } })
local d, p, n = cfg.d, cfg.d_proj, cfg.n

-- Mean over generators of lie.kernel_alignment(W, G_j) (0 = G_j inside Ker(W^T)).
local function alignment(W, Gs)
  local s = 0
  for _, G in ipairs(Gs) do s = s + lie.kernel_alignment(W, G) end
  return s / #Gs
end

for _, spread in ipairs(cfg.spread) do
  for _, k in ipairs(cfg.generators) do
    local g = sslua.rng(cfg.seed)
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
    run:log { spread = spread, generators = k, aug_span = geom.rank(H2 - H1, { rtol = cfg.rtol }),
      rank_init = rank0, rank = geom.rank(Wd, { rtol = cfg.rtol }), effective_rank = geom.effective_rank(Wd),
      kernel_alignment_init = align0, kernel_alignment = alignment(Wd, Gs), invariance = -(f1 * f2):sum(2):mean():item() }
  end
end

local rows = run:rows()
local rank_series, align_series = {}, {}
for _, spread in ipairs(cfg.spread) do
  local x, r, a, a0 = {}, {}, {}, {}
  for _, row in ipairs(rows) do
    if row.spread == spread then x[#x + 1] = row.generators; r[#r + 1] = row.rank; a[#a + 1] = row.kernel_alignment; a0[#a0 + 1] = row.kernel_alignment_init end
  end
  rank_series[#rank_series + 1] = { x = x, y = r, label = "spread " .. spread, marker = true }
  align_series[#align_series + 1] = { x = x, y = a, label = "trained, spread " .. spread, marker = true }
  align_series[#align_series + 1] = { x = x, y = a0, label = "random W, spread " .. spread, style = "dotted" }
end
run:save(plot.line { series = rank_series, title = "Rank of the trained W (rtol " .. cfg.rtol .. ")", xlabel = "number of generators", ylabel = "rank" }, "rank_vs_generators.svg")
run:save(plot.line { series = align_series, title = "||W^T G|| / (||W|| ||G||): 0 when G lies in Ker(W^T)", xlabel = "number of generators", ylabel = "kernel alignment" }, "alignment_vs_generators.svg")
experiment.print_table(rows, { "spread", "generators", "aug_span", "rank_init", "rank", "effective_rank", "kernel_alignment_init", "kernel_alignment", "invariance" })
run:finish()
print("results in " .. run.dir)

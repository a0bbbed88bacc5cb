-- Fig. 10: the rank of the covariance of rotated copies of one random one-hot image grows with
-- the largest rotation angle: larger augmentations span more directions. For each theta_max,
-- `samples` rotations with angles uniform in [0, theta_max]; mean +- std over `runs` images.
--   sslua examples/lie_rotation_rank.lua [--theta-max 0,15,30,...] [--runs 5] [--quick]
local experiment = require "sslua.experiment"
local paper = require "sslua.paper"
local plot = require "sslua.plot"
local lie, geom = sslua.lie, sslua.geom

local cfg = experiment.args({
  theta_max = { 0, 10, 20, 30, 45, 60, 90, 120, 150, 180 }, runs = 5, samples = 500, size = 32, rtol = 1e-4,
}, { description = "Fig. 10: rank of the covariance of rotations of a one-hot image vs the largest angle.",
  help = { theta_max = "largest rotation angles (degrees)", samples = "rotations per image",
    runs = "random one-hot images (mean +- std)", rtol = "relative threshold of the rank" } })
experiment.preset(cfg, { quick = { theta_max = { 0, 30, 90, 180 }, runs = 2, samples = 100, size = 16 } })

local run = experiment.run(cfg, { columns = { "theta_max", "run", "rank" } })
local S = cfg.size
for r = 1, cfg.runs do
  local g = sslua.rng(cfg.seed * 7919 + r)
  local img = lie.one_hot_image(S, { rng = g }):reshape(1, 1, S, S)
  local batch = img:expand(cfg.samples, 1, S, S):contiguous()
  for _, tmax in ipairs(cfg.theta_max) do
    local angles = sslua.rand(cfg.samples, { rng = g }) * tmax
    local X = lie.rotate(batch, angles):reshape(cfg.samples, S * S):double()
    local Xc = X - X:mean(1, true)
    -- The covariance C = Xc^T Xc / (n - 1) has eigenvalues sigma_j^2 / (n - 1) for the singular
    -- values sigma_j of Xc: its rank and RankMe come from the (much smaller) SVD of Xc.
    local ev = (geom.singular_values(Xc) ^ 2 / (cfg.samples - 1)):totable()
    local rank, total, entropy = 0, 0, 0
    for _, e in ipairs(ev) do
      if e >= cfg.rtol * ev[1] and e > 0 then rank = rank + 1 end
      total = total + e
    end
    for _, e in ipairs(ev) do
      local pk = (total > 0 and e / total or 0) + 1e-12
      entropy = entropy - pk * math.log(pk)
    end
    run:log { theta_max = tmax, run = r, rank = rank, effective_rank = math.exp(entropy) }
  end
end

local g = paper.aggregate(run:rows(), nil, "theta_max", "rank")[1]
run:save(plot.line { series = { { x = g.x, y = g.mean, std = g.std, label = "rank (rtol " .. cfg.rtol .. ")", marker = true } },
  title = "Rank of the covariance of " .. cfg.samples .. " rotations (mean +- std over " .. cfg.runs .. " images)",
  xlabel = "largest rotation angle (degrees)", ylabel = "rank", legend = "top-left" }, "rank_vs_angle.svg")
local rows = {}
for i, x in ipairs(g.x) do rows[i] = { theta_max = x, rank_mean = g.mean[i], rank_std = g.std[i] } end
experiment.print_table(rows, { "theta_max", "rank_mean", "rank_std" })
run:finish()
print("results in " .. run.dir)

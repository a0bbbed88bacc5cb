-- Fig. 10: the rank of the covariance of rotated copies of one random one-hot image grows with
-- the largest rotation angle: larger augmentations span more directions. For each theta_max,
-- `samples` rotations with angles uniform in [0, theta_max]; mean +- std over `runs` images.
--
-- The hot pixel is drawn uniformly among the pixels inside the image's inscribed disk, one pixel
-- in from its edge (centre distance <= (size - 1) / 2 - 1), so no rotation moves it (or its
-- bilinear footprint) out of the frame: placed anywhere (--placement anywhere, the old design),
-- corner pixels leave the frame at large angles and their images lose mass, which made the
-- rank's spread at 180 degrees an artefact of the frame. `in_frame` logs the fraction of the
-- rotations that keep the hot pixel's rotated centre inside the frame (1 = nothing left it).
--
-- Interpolation: both are measured on the same angles. `nearest` (the default and the verdict's,
-- torchvision's rotate default, so the paper's Fig. 10 setting) moves the one hot pixel on the
-- pixel grid: the rotated images are one-hot images of the grid positions the pixel visits, and
-- the covariance rank is the number of distinct positions minus one. `bilinear` (lie.rotate)
-- spreads it over four pixels with weights that vary continuously with the angle, the smooth
-- group action of the paper's Lie-group model; its rank is larger (more directions per position).
--   sslua examples/lie_rotation_rank.lua [--theta-max 0,15,30,...] [--runs 5] [--interpolation bilinear] [--quick]
local experiment = require "sslua.experiment"
local paper = require "sslua.paper"
local plot = require "sslua.plot"
local lie, geom = sslua.lie, sslua.geom

local cfg = experiment.args({
  theta_max = { 0, 10, 20, 30, 45, 60, 90, 120, 150, 180 }, runs = 5, samples = 500, size = 32, rtol = 1e-4,
  interpolation = "nearest", placement = "disk",
}, { description = "Fig. 10: rank of the covariance of rotations of a one-hot image vs the largest angle.",
  help = { theta_max = "largest rotation angles (degrees)", samples = "rotations per image",
    runs = "random one-hot images (mean +- std)", rtol = "relative threshold of the rank",
    interpolation = "the verdict's interpolation: nearest (torchvision's default) or bilinear (both are measured)",
    placement = "disk (inside the inscribed disk, nothing leaves the frame) or anywhere (the old design)" } })
experiment.preset(cfg, { quick = { theta_max = { 0, 30, 90, 180 }, runs = 3, samples = 100, size = 16 } })
if cfg.interpolation ~= "nearest" and cfg.interpolation ~= "bilinear" then
  error("lie_rotation_rank: --interpolation must be nearest or bilinear", 0)
end
if cfg.placement ~= "disk" and cfg.placement ~= "anywhere" then error("lie_rotation_rank: --placement must be disk or anywhere", 0) end

local run = experiment.run(cfg, { columns = { "interpolation", "theta_max", "run", "rank", "effective_rank", "in_frame", "row", "col" } })
local S = cfg.size
-- candidate pixels: inside the disk of radius (S - 1) / 2 - 1 about the centre, or all
local cand = {}
local c0, radius = (S - 1) / 2, (S - 1) / 2 - 1
for i = 0, S - 1 do
  for j = 0, S - 1 do
    if cfg.placement == "anywhere" or (i - c0) ^ 2 + (j - c0) ^ 2 <= radius ^ 2 then cand[#cand + 1] = { i, j } end
  end
end

local function spectrum_stats(X)
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
  return rank, math.exp(entropy)
end

-- The fraction of the angles (degrees) whose rotation keeps pixel (i, j)'s centre inside the
-- frame: lie.rotate's output pixel x samples the input at R(theta) x about the centre, so the
-- input pixel p lands at R(-theta) p.
local function in_frame(i, j, angles)
  local px, py = j - c0, i - c0
  local inside = 0
  for _, a in ipairs(angles) do
    local t = a * math.pi / 180
    local x, y = math.cos(t) * px + math.sin(t) * py, -math.sin(t) * px + math.cos(t) * py
    if math.abs(x) <= c0 + 1e-9 and math.abs(y) <= c0 + 1e-9 then inside = inside + 1 end
  end
  return inside / #angles
end

for r = 1, cfg.runs do
  local g = sslua.rng(cfg.seed * 7919 + r)
  local k = math.min(#cand, 1 + math.floor(sslua.rand(1, { rng = g }):item() * #cand))
  local pix = cand[k]
  local t = {}
  for q = 1, S * S do t[q] = 0 end
  t[pix[1] * S + pix[2] + 1] = 1
  local batch = sslua.tensor(t):reshape(1, 1, S, S):expand(cfg.samples, 1, S, S):contiguous()
  for _, tmax in ipairs(cfg.theta_max) do
    local angles = sslua.rand(cfg.samples, { rng = g }) * tmax
    local views = { nearest = paper.rotate_nearest(batch, angles), bilinear = lie.rotate(batch, angles) }
    local frame = in_frame(pix[1], pix[2], angles:totable())
    for _, interp in ipairs { "nearest", "bilinear" } do
      local rank, erank = spectrum_stats(views[interp]:reshape(cfg.samples, S * S):double())
      run:log { interpolation = interp, theta_max = tmax, run = r, rank = rank, effective_rank = erank, in_frame = frame,
        row = pix[1], col = pix[2] }
    end
  end
end

local rows = run:rows()
local function select(interp) local out = {} for _, x in ipairs(rows) do if x.interpolation == interp then out[#out + 1] = x end end return out end
local agg = {}
local series = {}
for _, interp in ipairs { cfg.interpolation, cfg.interpolation == "nearest" and "bilinear" or "nearest" } do
  local g = paper.aggregate(select(interp), nil, "theta_max", "rank")[1]
  agg[interp] = { g = g }
  series[#series + 1] = { x = g.x, y = g.mean, std = g.std, label = interp .. (interp == cfg.interpolation and " (verdict)" or ""),
    marker = true, style = interp ~= cfg.interpolation and "dashed" or nil }
end
run:save(plot.line { series = series,
  title = string.format("Rank (rtol %g) of the covariance of %d rotations (mean +- std, %d images, pixel %s)", cfg.rtol, cfg.samples,
    cfg.runs, cfg.placement == "disk" and "in the inscribed disk" or "anywhere"),
  xlabel = "largest rotation angle (degrees)", ylabel = "rank", legend = "top-left" }, "rank_vs_angle.svg")

-- Summary and verdict: the claim holds for an interpolation when the mean rank increases strictly
-- along the theta_max grid and the rank at the largest angle exceeds the one at the smallest by
-- more than the sum of their standard deviations.
local function judge(interp)
  local g = agg[interp].g
  local increasing = #g.x >= 2
  for i = 2, #g.x do if not (g.mean[i] > g.mean[i - 1]) then increasing = false end end
  local n = #g.x
  local beyond = n >= 2 and (g.mean[n] - g.mean[1] > g.std[n] + g.std[1])
  local per = {}
  for i, x in ipairs(g.x) do
    local cells = {}
    for _, row in ipairs(select(interp)) do if row.theta_max == x then cells[#cells + 1] = row.rank end end
    local fcells = {}
    for _, row in ipairs(select(interp)) do if row.theta_max == x then fcells[#fcells + 1] = row.in_frame end end
    per[i] = { theta_max = x, rank = paper.stat(cells), in_frame = paper.stat(fcells) }
  end
  return { increasing = increasing, beyond_spread = beyond, ranks = per }
end
local main = judge(cfg.interpolation)
local other_name = cfg.interpolation == "nearest" and "bilinear" or "nearest"
local other = judge(other_name)
local verdict
if main.increasing and main.beyond_spread then verdict = "reproduces"
elseif main.beyond_spread or other.increasing then verdict = "partly"
else verdict = "does not" end
local in_frame_min = 1 / 0
for _, row in ipairs(rows) do in_frame_min = math.min(in_frame_min, row.in_frame) end

local summary = {
  claim = "Fig. 10: the rank of the covariance of rotated copies of a one-hot image grows with the largest rotation angle "
    .. "(larger augmentations span more directions).",
  size = S, samples = cfg.samples, runs = cfg.runs, rtol = cfg.rtol, placement = cfg.placement,
  interpolation = cfg.interpolation, chance = "not applicable (no accuracy)",
  cpu_seconds = os.clock(), -- this process's CPU time (user + system, all threads) so far
  [cfg.interpolation] = main, [other_name] = other, in_frame_min = in_frame_min, verdict = verdict,
}
summary.test = string.format("%s interpolation (torchvision's rotate default is nearest): mean rank over %d images strictly increasing "
  .. "along theta_max = %s degrees, and the rank at the largest angle above the smallest's by more than the sum of their "
  .. "standard deviations. reproduces = both; partly = the second alone, or the %s interpolation increasing; does not = neither. "
  .. "Hot pixel drawn %s; in_frame (the fraction of rotations keeping its centre in the frame, 1 = always) reported.",
  cfg.interpolation, cfg.runs, table.concat(cfg.theta_max, ","), other_name,
  cfg.placement == "disk" and "inside the inscribed disk" or "anywhere in the image")
local cols = { "theta_max", cfg.interpolation .. "_rank", other_name .. "_rank", "in_frame" }
summary.table = { columns = cols, rows = {} }
for i, e in ipairs(main.ranks) do
  local o = other.ranks[i]
  local r = { string.format("%g", e.theta_max), paper.pm(e.rank, "%.1f"), paper.pm(o.rank, "%.1f"), string.format("%.3f", e.in_frame.mean) }
  summary.table.rows[i] = r
end
paper.write_summary(run, summary, cols)
print(string.format("verdict: %s (%s increasing %s, beyond spread %s; %s increasing %s; smallest in-frame fraction %.3f)", verdict,
  cfg.interpolation, tostring(main.increasing), tostring(main.beyond_spread), other_name, tostring(other.increasing), in_frame_min))
run:finish({ verdict = verdict })
print("results in " .. run.dir)

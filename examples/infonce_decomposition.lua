-- Prop. C.1 and the temperature: InfoNCE (Eq. 1) = mean_i [ -beta f_i1.f_i2 (invariance)
-- + beta f_i1.E_p[f~] (repulsion) + H(p) (entropy) ], p = softmax over the 2N-2 negatives. Computes the three terms against beta for
-- unit features with positives at a given noise level, and checks the identity, for several seeds
-- (random features; no network is trained, so there is no BN statistic to recalibrate).
--   sslua examples/infonce_decomposition.lua [--beta 0.25,...,32] [--noise 0.3,1] [--seeds 3] [--quick]
local paper = require "sslua.paper"
local experiment = require "sslua.experiment"
local plot = require "sslua.plot"
local loss = sslua.loss

local cfg = experiment.args({
  beta = { 0.25, 0.5, 1, 2, 4, 8, 16, 32 }, noise = { 0.3, 1.0 }, n = 256, d = 64, seeds = 3, tolerance = 1e-4,
}, { description = "Prop. C.1: the three terms of InfoNCE against the inverse temperature beta.",
  help = { beta = "inverse temperatures", noise = "std of the noise that makes f_i2 from f_i1", n = "batch size N", d = "feature dimension",
    seeds = "independent draws seed, seed+1, ... (mean +- std)", tolerance = "the verdict's bound on |InfoNCE - sum| / max(1, |InfoNCE|)" } })
experiment.preset(cfg, { quick = { beta = { 0.5, 2, 8 }, noise = { 0.5 }, n = 64, d = 16, seeds = 2 } })

local run = experiment.run(cfg, { columns = { "seed", "noise", "beta", "infonce", "invariance", "repulsion", "entropy", "identity_error" } })
local max_err, max_rel = 0, 0
local seeds = {}
for s = cfg.seed, cfg.seed + cfg.seeds - 1 do seeds[#seeds + 1] = s end
for _, seed in ipairs(seeds) do
  for _, noise in ipairs(cfg.noise) do
    local g = sslua.rng(seed)
    local z1 = sslua.randn(cfg.n, cfg.d, { rng = g })
    local z2 = z1 + sslua.randn(cfg.n, cfg.d, { rng = g }) * noise
    for _, beta in ipairs(cfg.beta) do
      local L = loss.infonce(z1, z2, { beta = beta, form = "paper" }):item()
      local t = loss.infonce_terms(z1, z2, { beta = beta })
      local a, r, h = t.mean.invariance:item(), t.mean.repulsion:item(), t.mean.entropy:item()
      local err = math.abs(L - (a + r + h))
      max_err = math.max(max_err, err)
      max_rel = math.max(max_rel, err / math.max(1, math.abs(L)))
      run:log { seed = seed, noise = noise, beta = beta, infonce = L, invariance = a, repulsion = r, entropy = h, identity_error = err,
        max_entropy = math.log(2 * (cfg.n - 1)) }
    end
  end
end

local rows = run:rows()
local series = {}
local styles = { "solid", "dashed", "dotted", "dashdot" }
for ni, noise in ipairs(cfg.noise) do
  for ti, key in ipairs({ "infonce", "invariance", "repulsion", "entropy" }) do
    local x, y = {}, {}
    local sub = {}
    for _, r in ipairs(rows) do if r.noise == noise then sub[#sub + 1] = r end end
    local g = paper.aggregate(sub, nil, "beta", key)[1]
    for i, b in ipairs(g.x) do x[i] = math.log(b, 2) end
    series[#series + 1] = { x = x, y = g.mean, std = g.std, label = key .. " (noise " .. noise .. ")", style = styles[(ni - 1) % 4 + 1],
      color = ({ "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728" })[ti] }
  end
end
run:save(plot.line { series = series, title = "InfoNCE = -beta f1.f2 + beta f1.E_p[f~] + H(p)  (Prop. C.1)",
  xlabel = "log2 beta", ylabel = "value (mean over i; mean +- std over " .. #seeds .. " seeds)" }, "terms_vs_beta.svg")
experiment.print_table(rows, { "seed", "noise", "beta", "infonce", "invariance", "repulsion", "entropy", "identity_error" })
print(string.format("largest |InfoNCE - sum of the three terms| = %.3g", max_err))

-- Summary and verdict: the identity holds to float32 rounding in every (seed, noise, beta).
local verdict = max_rel <= cfg.tolerance and "reproduces" or "does not"
local per, trows = {}, {}
for _, noise in ipairs(cfg.noise) do
  per[tostring(noise)] = {}
  for _, beta in ipairs(cfg.beta) do
    local pred = function(r) return r.noise == noise and r.beta == beta end
    local e = {}
    for _, key in ipairs({ "infonce", "invariance", "repulsion", "entropy", "identity_error" }) do e[key] = paper.stat(paper.values(rows, key, pred)) end
    per[tostring(noise)][tostring(beta)] = e
    trows[#trows + 1] = { string.format("%g", noise), string.format("%g", beta), paper.pm(e.infonce), paper.pm(e.invariance),
      paper.pm(e.repulsion), paper.pm(e.entropy), string.format("%.1e", e.identity_error.mean) }
  end
end
local summary = {
  example = "infonce_decomposition",
  title = "Prop. C.1: InfoNCE = invariance + repulsion + entropy",
  claim = "Prop. C.1: InfoNCE (Eq. 1) = mean_i [ -beta f_i1.f_i2 + beta f_i1.E_p[f~] + H(p) ], p the softmax over the "
    .. "2N-2 negatives; as beta grows the entropy term falls from log(2(N-1)) and the nearest negatives dominate.",
  seeds = seeds, max_identity_error = max_err, max_relative_error = max_rel, max_entropy = math.log(2 * (cfg.n - 1)),
  numbers = per, verdict = verdict,
  table = { columns = { "noise", "beta", "InfoNCE", "invariance", "repulsion", "entropy", "mean identity error" }, rows = trows },
}
summary.test = string.format("%d seeds x %d noise levels x %d betas, N = %d, d = %d: max |InfoNCE - sum| / max(1, |InfoNCE|) <= %g "
  .. "(float32). reproduces = within the tolerance everywhere; does not = otherwise", #seeds, #cfg.noise, #cfg.beta, cfg.n, cfg.d,
  cfg.tolerance)
local lo, hi = math.huge, -math.huge
for _, noise in ipairs(cfg.noise) do
  local e = per[tostring(noise)][tostring(cfg.beta[#cfg.beta])].entropy.mean
  lo, hi = math.min(lo, e), math.max(hi, e)
end
summary.headline = string.format("**%s exactly** (%d seeds): the terms sum to InfoNCE within %.1e; the entropy falls from "
  .. "log(2(N-1)) = %.2f to %.1f-%.1f at beta %g", verdict, #seeds, max_err, math.log(2 * (cfg.n - 1)), lo, hi, cfg.beta[#cfg.beta])
if verdict ~= "reproduces" then summary.headline = summary.headline:gsub(" exactly", "", 1) end
summary.cpu_seconds = os.clock() -- user + system of this process, all threads
paper.write_summary(run, summary)
print("verdict: " .. verdict)
run:finish { max_identity_error = max_err, verdict = verdict }
print("results in " .. run.dir)

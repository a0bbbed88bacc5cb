-- Prop. C.1 and the temperature: InfoNCE (Eq. 1) = mean_i [ -beta f_i1.f_i2 (invariance)
-- + beta f_i1.E_p[f~] (repulsion) + H(p) (entropy) ], p = softmax over the 2N-2 negatives. Computes the three terms against beta for
-- unit features with positives at a given noise level, and checks the identity.
--   sslua examples/infonce_decomposition.lua [--beta 0.25,...,32] [--noise 0.3,1] [--quick]
local experiment = require "sslua.experiment"
local plot = require "sslua.plot"
local loss = sslua.loss

local cfg = experiment.args({
  beta = { 0.25, 0.5, 1, 2, 4, 8, 16, 32 }, noise = { 0.3, 1.0 }, n = 256, d = 64,
}, { description = "Prop. C.1: the three terms of InfoNCE against the inverse temperature beta.",
  help = { beta = "inverse temperatures", noise = "std of the noise that makes f_i2 from f_i1", n = "batch size N", d = "feature dimension" } })
experiment.preset(cfg, { quick = { beta = { 0.5, 2, 8 }, noise = { 0.5 }, n = 64, d = 16 } })

local run = experiment.run(cfg, { columns = { "noise", "beta", "infonce", "invariance", "repulsion", "entropy", "identity_error" } })
local max_err = 0
for _, noise in ipairs(cfg.noise) do
  local g = sslua.rng(cfg.seed)
  local z1 = sslua.randn(cfg.n, cfg.d, { rng = g })
  local z2 = z1 + sslua.randn(cfg.n, cfg.d, { rng = g }) * noise
  for _, beta in ipairs(cfg.beta) do
    local L = loss.infonce(z1, z2, { beta = beta, form = "paper" }):item()
    local t = loss.infonce_terms(z1, z2, { beta = beta })
    local a, r, h = t.mean.invariance:item(), t.mean.repulsion:item(), t.mean.entropy:item()
    local err = math.abs(L - (a + r + h))
    max_err = math.max(max_err, err)
    run:log { noise = noise, beta = beta, infonce = L, invariance = a, repulsion = r, entropy = h, identity_error = err,
      max_entropy = math.log(2 * (cfg.n - 1)) }
  end
end

local rows = run:rows()
local series = {}
local styles = { "solid", "dashed", "dotted", "dashdot" }
for ni, noise in ipairs(cfg.noise) do
  for ti, key in ipairs({ "infonce", "invariance", "repulsion", "entropy" }) do
    local x, y = {}, {}
    for _, r in ipairs(rows) do if r.noise == noise then x[#x + 1] = math.log(r.beta, 2); y[#y + 1] = r[key] end end
    series[#series + 1] = { x = x, y = y, label = key .. " (noise " .. noise .. ")", style = styles[(ni - 1) % 4 + 1],
      color = ({ "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728" })[ti] }
  end
end
run:save(plot.line { series = series, title = "InfoNCE = -beta f1.f2 + beta f1.E_p[f~] + H(p)  (Prop. C.1)",
  xlabel = "log2 beta", ylabel = "value (mean over i)" }, "terms_vs_beta.svg")
experiment.print_table(rows, { "noise", "beta", "infonce", "invariance", "repulsion", "entropy", "identity_error" })
print(string.format("largest |InfoNCE - sum of the three terms| = %.3g", max_err))
run:finish { max_identity_error = max_err }
print("results in " .. run.dir)

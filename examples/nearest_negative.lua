-- Fig. 5 / Fig. 6: the nearest negative h~*_i (chosen in projector space, Prop. 3.1). Logs per
-- policy, seed and epoch the normalised distance between h_i1 and h~*_i (Fig. 5, histograms at
-- the initialisation and the end) and how often h~*_i carries the label of x_i, fine and coarse
-- (Fig. 6), beside the chance level of that agreement: a uniformly random negative of the pool
-- [h1; h2] matches with probability sum_c n_c (n_c - 1) / (N (N - 1)) over the class counts n_c of
-- the evaluation batch (paper.label_chance).
--
-- Measurement rule, the same at every epoch (0 = the initialisation): BN running statistics are
-- recalibrated on the training images without gradient (paper.recalibrate), then the encoder
-- features of a fixed evaluation batch of two views are taken in eval mode.
--   sslua examples/nearest_negative.lua [--policy small,moderate,large] [--seeds 3] [--quick | --full --data-dir DIR]
local experiment = require "sslua.experiment"
local paper = require "sslua.paper"
local plot = require "sslua.plot"
local aug, geom = sslua.aug, sslua.geom

local cfg = experiment.args({
  policy = { "small", "moderate", "large" }, seeds = 3, epochs = 8, batch = 128, beta = 2.0, eval_n = 512,
  data = "synthetic", data_dir = "", n = 2048, n_test = 256, size = 16,
  arch = "resnet", blocks = { 1, 1, 1 }, width = 16, d_proj = 64,
  optimizer = "adam", lr = 2e-3, momentum = 0.9, weight_decay = 0.0, schedule = "constant", bins = 30,
}, { description = "Fig. 5 / 6: distance to and label agreement of the nearest negative h~*, with chance levels.",
  help = { eval_n = "batch size N of the fixed evaluation batch", seeds = "independent runs seed, seed+1, ... (mean +- std)" } })
experiment.preset(cfg, {
  quick = { policy = { "small", "large" }, seeds = 2, n = 192, n_test = 64, size = 16, width = 8, epochs = 2, batch = 64, eval_n = 96, d_proj = 32 },
  full = { data = "cifar100", arch = "resnet18", n = 50000, n_test = 10000, size = 32, eval_n = 1024, d_proj = 128, epochs = 100,
    optimizer = "lars", lr = 4.0, weight_decay = 1e-6, momentum = 0.9, schedule = "cosine" },
})

local train = paper.datasets(cfg)
local run = experiment.run(cfg, { columns = { "policy", "seed", "epoch", "agreement_fine", "agreement_coarse", "distance_mean" } })
-- Kept in run.state, which checkpoints carry, so that a resumed run (--resume) draws the same histograms.
run.state.final, run.state.initial = run.state.final or {}, run.state.initial or {}
local final, initial = run.state.final, run.state.initial
local seeds = {}
for s = cfg.seed, cfg.seed + cfg.seeds - 1 do seeds[#seeds + 1] = s end

local n_eval = math.min(cfg.eval_n, #train)
local fine = paper.labels(train, n_eval)
local coarse = paper.labels(train, n_eval, true)
local chance = { fine = paper.label_chance(fine), coarse = coarse and paper.label_chance(coarse) or nil }
local pool_fine = sslua.cat({ fine, fine }, 1)
local pool_coarse = coarse and sslua.cat({ coarse, coarse }, 1)

local t_start = sslua.clock()
for _, name in ipairs(cfg.policy) do
  local policy = aug.policy(name)
  local _, v1, v2 = paper.eval_views(cfg, train, policy, n_eval)
  for _, seed in ipairs(seeds) do
    local key = name .. ":" .. seed
    paper.train_measured(cfg, { seed = seed, data = train, policy = policy, views = { v1, v2 },
      measure = function(epoch, m)
        local idx, hstar = geom.nearest_negative(m.h1, m.h2, m.W)
        local dist = geom.normalized_distance(m.h1, hstar)
        local row = { policy = name, seed = seed, epoch = epoch, agreement_fine = geom.label_agreement(idx, pool_fine, fine),
          distance_mean = dist:mean():item(), distance_std = dist:std():item() }
        if coarse then row.agreement_coarse = geom.label_agreement(idx, pool_coarse, coarse) end
        run:log(row)
        if epoch == 0 then initial[key] = dist:totable() end
        final[key] = dist:totable()
      end })
  end
end
local train_seconds = sslua.clock() - t_start

local rows = run:rows()
local series = {}
local levels = { agreement_fine = "fine", agreement_coarse = "coarse" }
for _, key in ipairs({ "agreement_fine", "agreement_coarse" }) do
  if rows[1][key] ~= nil then
    local last_x
    for _, g in ipairs(paper.aggregate(rows, "policy", "epoch", key)) do
      series[#series + 1] = { x = g.x, y = g.mean, std = g.std, label = g.group .. " (" .. levels[key] .. ")",
        style = key == "agreement_fine" and "solid" or "dashed", marker = true }
      last_x = g.x
    end
    local c = chance[levels[key]]
    series[#series + 1] = { x = { last_x[1], last_x[#last_x] }, y = { c, c }, label = string.format("chance (%s) %.3f", levels[key], c),
      style = "dotted", color = "#7f7f7f" }
  end
end
run:save(plot.line { series = series, title = "Label agreement of h~* with x_i (Fig. 6), mean +- std over " .. #seeds .. " seeds",
  xlabel = "epoch", ylabel = "fraction sharing the label" }, "agreement.svg")
for file, dists in pairs({ ["distance_end.svg"] = final, ["distance_init.svg"] = initial }) do
  local hs = {}
  for _, name in ipairs(cfg.policy) do
    local values = {}
    for _, seed in ipairs(seeds) do for _, v in ipairs(dists[name .. ":" .. seed] or {}) do values[#values + 1] = v end end
    hs[#hs + 1] = { values = values, label = name }
  end
  run:save(plot.hist { series = hs, bins = cfg.bins, density = true, xlabel = "|| h1/|h1| - h~*/|h~*| ||",
    title = "Distance to the nearest negative, " .. (file == "distance_end.svg" and "end of training" or "initialisation")
      .. " (Fig. 5, " .. #seeds .. " seeds pooled)" }, file)
end

-- Summary and verdict. Per policy, over the seeds: the fine agreement rises from the
-- (recalibrated) initialisation beyond the spread and ends above chance beyond the spread;
-- across policies, the agreement increases with strength (Fig. 6: strongest > weakest beyond the
-- spreads) and the distance decreases with it (Fig. 5: weakest > strongest beyond the spreads).
local last = paper.last_epoch(rows)
local per = {}
local function st(key, name, e) return paper.stat(paper.values(rows, key, function(r) return r.policy == name and r.epoch == e end)) end
local all_rise, any_rise = true, false
for _, name in ipairs(cfg.policy) do
  local p = { init = {}, final = {} }
  for _, key in ipairs({ "agreement_fine", "agreement_coarse", "distance_mean" }) do
    if rows[1][key] ~= nil then p.init[key], p.final[key] = st(key, name, 0), st(key, name, last) end
  end
  local ch = { mean = chance.fine, std = 0, n = 1 }
  p.rises = paper.beyond(p.final.agreement_fine, p.init.agreement_fine)
  p.above_chance = paper.beyond(p.final.agreement_fine, ch)
  if p.final.agreement_coarse then p.coarse_above_chance = paper.beyond(p.final.agreement_coarse, { mean = chance.coarse, std = 0 }) end
  if not (p.rises and p.above_chance) then all_rise = false else any_rise = true end
  per[name] = p
end
local order = {}
for _, name in ipairs({ "small", "moderate", "large" }) do if per[name] then order[#order + 1] = name end end
local weakest, strongest = order[1], order[#order]
local ordered, distance_ordered = false, false
if weakest and strongest and weakest ~= strongest then
  ordered = paper.beyond(per[strongest].final.agreement_fine, per[weakest].final.agreement_fine)
  distance_ordered = paper.beyond(per[weakest].final.distance_mean, per[strongest].final.distance_mean)
end
local verdict
if all_rise and ordered and distance_ordered then verdict = "reproduces"
elseif any_rise or ordered or distance_ordered then verdict = "partly"
else verdict = "does not" end

local trows = {}
for _, name in ipairs(cfg.policy) do
  local p = per[name]
  trows[#trows + 1] = { name, paper.pm(p.init.agreement_fine), paper.pm(p.final.agreement_fine), paper.pm(p.final.agreement_coarse),
    paper.pm(p.init.distance_mean), paper.pm(p.final.distance_mean) }
end
local summary = {
  example = "nearest_negative",
  title = "Figs. 5/6: nearest negatives share labels more, and lie closer, under large augmentations",
  claim = "Figs. 5 and 6: during training the nearest negative h~*_i (chosen in projector space) shares the label of x_i "
    .. "more and more, the more so the stronger the augmentations; the distance between h_i1 and h~*_i is larger under "
    .. "small augmentations (repulsion dominates) than under large ones (invariance dominates).",
  test = string.format("%d seeds, N = %d, epoch 0 (BN-recalibrated initialisation) against epoch %d: per policy the fine "
    .. "agreement rises beyond the two seed spreads and ends above chance (a uniformly random negative: sum_c n_c (n_c-1) / "
    .. "(N (N-1))) beyond its spread; %s ends above %s in fine agreement, and below it in normalised distance, beyond the "
    .. "spreads. reproduces = all of these; partly = any of them for some policy; does not = none",
    #seeds, n_eval, last, tostring(strongest), tostring(weakest)),
  chance = chance, seeds = seeds, epochs = cfg.epochs, eval_n = n_eval, policies = per,
  agreement_grows_with_strength = ordered, distance_falls_with_strength = distance_ordered,
  verdict = verdict, train_seconds = train_seconds,
  table = { columns = { "policy", "fine agreement, init", "fine, epoch " .. last,
    "coarse, epoch " .. last, "distance, init", "distance, epoch " .. last }, rows = trows },
}
local hl = {}
for _, name in ipairs(cfg.policy) do
  local f = per[name].final
  hl[#hl + 1] = string.format("%s %.3f", name, f.agreement_fine.mean) .. (f.agreement_coarse and string.format(" / %.3f", f.agreement_coarse.mean) or "")
end
summary.headline = string.format("**%s** (%d seeds): fine / coarse agreement at epoch %d %s, chance %.3f / %s", verdict,
  #seeds, last, table.concat(hl, ", "), chance.fine, chance.coarse and string.format("%.3f", chance.coarse) or "-")
summary.cpu_seconds = os.clock() -- user + system of this process, all threads
paper.write_summary(run, summary, { "policy", "fine_init", "fine_end", "coarse_end", "dist_init", "dist_end" })
print(string.format("chance: fine %.4f, coarse %s", chance.fine, chance.coarse and string.format("%.4f", chance.coarse) or "-"))
for _, name in ipairs(cfg.policy) do
  print(string.format("%s: rises %s, above chance %s", name, tostring(per[name].rises), tostring(per[name].above_chance)))
end
print(string.format("agreement %s > %s: %s; distance %s > %s: %s; verdict: %s", tostring(strongest), tostring(weakest), tostring(ordered),
  tostring(weakest), tostring(strongest), tostring(distance_ordered), verdict))
run:finish { verdict = verdict }
print("results in " .. run.dir)

-- Sec. 5: deeper and wider MLP projectors. A ReLU MLP projector is affine on each region of
-- its activation pattern (Eq. 11); the more regions, the less the encoder is constrained. Logs
-- per projector and epoch the kNN accuracy of encoder features and of projector features, the
-- number of linear regions visited by the encoder outputs of two views of an evaluation set,
-- and the fraction of pairs whose two views fall in the same region (lower = finer partition).
--   sslua examples/projector_depth_width.lua [--projectors 64,256-64,256-256-64] [--quick | --full --data-dir DIR]
local experiment = require "sslua.experiment"
local paper = require "sslua.paper"
local plot = require "sslua.plot"
local nn, aug, geom = sslua.nn, sslua.aug, sslua.geom

local cfg = experiment.args({
  projectors = { "64", "16-64", "64-64", "64-64-64", "256-64" }, policy = "small", epochs = 8, batch = 128, beta = 2.0,
  data = "synthetic", data_dir = "", n = 2048, n_test = 512, size = 16, knn_k = 200, eval_n = 512,
  arch = "resnet", blocks = { 1, 1, 1 }, width = 16,
  optimizer = "adam", lr = 2e-3, momentum = 0.9, weight_decay = 0.0, schedule = "constant",
}, { description = "Sec. 5: encoder vs projector kNN accuracy and linear regions for deeper/wider projectors.",
  help = { projectors = "projector layer sizes after the encoder, '-' between layers (64 = linear)" } })
experiment.preset(cfg, {
  quick = { projectors = { "16", "8-16" }, n = 192, n_test = 64, size = 16, width = 8, epochs = 1, batch = 64, knn_k = 20, eval_n = 64 },
  full = { data = "cifar100", arch = "resnet18", n = 50000, n_test = 10000, size = 32, epochs = 100, eval_n = 2048,
    projectors = { "128", "2048-128", "2048-2048-128" }, optimizer = "lars", lr = 4.0, weight_decay = 1e-6, momentum = 0.9, schedule = "cosine" },
})

local train, test = paper.datasets(cfg)
local run = experiment.run(cfg, { columns = { "projector", "depth", "width", "epoch", "knn_encoder", "knn_projector", "linear_regions", "pair_same_region" } })
local eval_images, v1, v2 = paper.eval_views(cfg, train, aug.policy(cfg.policy), cfg.eval_n)
local neval = eval_images:size(1)

for _, spec in ipairs(cfg.projectors) do
  local rng = sslua.rng(cfg.seed)
  local encoder, d_enc = paper.encoder(cfg, train.images:size(2), rng)
  local dims = { d_enc }
  for d in tostring(spec):gmatch("%d+") do dims[#dims + 1] = tonumber(d) end
  if #dims < 2 then error("projector '" .. tostring(spec) .. "': expected sizes like 256-64") end
  local projector = nn.projector { dims = dims, bias = #dims > 2, rng = rng }
  local hidden = 0
  for i = 2, #dims - 1 do hidden = math.max(hidden, dims[i]) end
  paper.simclr(cfg, { encoder = encoder, projector = projector, data = train, policy = aug.policy(cfg.policy), rng = rng,
    on_epoch = function(epoch)
      local regions, same = 1, 1.0
      if #dims > 2 then
        local H = sslua.cat({ paper.features(encoder, v1), paper.features(encoder, v2) }, 1)
        local ids
        regions, ids = geom.linear_regions(paper.mlp_layers(projector), H)
        ids = ids:totable()
        local hits = 0
        for i = 1, neval do if ids[i] == ids[neval + i] then hits = hits + 1 end end
        same = hits / neval
      end
      run:log { projector = tostring(spec), depth = #dims - 1, width = hidden, epoch = epoch,
        knn_encoder = paper.knn(encoder, train, test, cfg), knn_projector = paper.knn({ encoder, projector }, train, test, cfg),
        linear_regions = regions, pair_same_region = same }
    end })
end

local rows = run:rows()
local function curves(key)
  local s = {}
  for _, g in ipairs(paper.aggregate(rows, "projector", "epoch", key)) do
    s[#s + 1] = { x = g.x, y = g.mean, label = "projector " .. g.group, marker = true }
  end
  return s
end
run:save(plot.line { series = curves("knn_encoder"), title = "kNN accuracy of encoder features", xlabel = "epoch", ylabel = "accuracy", legend = "bottom-right" }, "knn_encoder.svg")
run:save(plot.line { series = curves("knn_projector"), title = "kNN accuracy of projector features", xlabel = "epoch", ylabel = "accuracy", legend = "bottom-right" }, "knn_projector.svg")
run:save(plot.line { series = curves("linear_regions"), title = "Linear regions visited by " .. 2 * neval .. " encoder outputs (two views)",
  xlabel = "epoch", ylabel = "regions" }, "linear_regions.svg")
run:save(plot.line { series = curves("pair_same_region"), title = "Fraction of pairs whose two views share a region",
  xlabel = "epoch", ylabel = "fraction" }, "pair_same_region.svg")
local last = {}
for _, r in ipairs(rows) do last[r.projector] = r end
local table_rows = {}
for _, spec in ipairs(cfg.projectors) do table_rows[#table_rows + 1] = last[tostring(spec)] end
experiment.print_table(table_rows, { "projector", "depth", "width", "epoch", "knn_encoder", "knn_projector", "linear_regions", "pair_same_region" })
run:finish()
print("results in " .. run.dir)

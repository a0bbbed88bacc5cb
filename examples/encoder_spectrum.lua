-- Fig. 4 / Fig. 9: the encoder's representation stays (near) full rank during training. Logs
-- the singular values of the encoder outputs of clean images (Fig. 4) and of augmented images
-- (Fig. 9) at initialisation, half-way and at the end of training, on a log scale.
--   sslua examples/encoder_spectrum.lua [--policy large] [--epochs 10] [--quick | --full --data-dir DIR]
local experiment = require "sslua.experiment"
local paper = require "sslua.paper"
local plot = require "sslua.plot"
local nn, aug, geom = sslua.nn, sslua.aug, sslua.geom

local cfg = experiment.args({
  policy = "large", epochs = 10, batch = 128, beta = 2.0, eval_n = 1024,
  data = "synthetic", data_dir = "", n = 2048, n_test = 256, size = 16,
  arch = "resnet", blocks = { 1, 1, 1 }, width = 16, d_proj = 64,
  optimizer = "adam", lr = 2e-3, momentum = 0.9, weight_decay = 0.0, schedule = "constant", rtol = 1e-3,
}, { description = "Fig. 4 / 9: log singular values of the encoder outputs at init, half and end of training.",
  help = { eval_n = "images whose encoder outputs are analysed", rtol = "relative threshold of the rank" } })
experiment.preset(cfg, {
  quick = { n = 192, n_test = 64, size = 16, width = 8, epochs = 2, batch = 64, eval_n = 128, d_proj = 32 },
  full = { data = "cifar100", arch = "resnet18", n = 50000, n_test = 10000, size = 32, eval_n = 5000, d_proj = 128, epochs = 100,
    optimizer = "lars", lr = 4.0, weight_decay = 1e-6, momentum = 0.9, schedule = "cosine" },
})

local train = paper.datasets(cfg)
local run = experiment.run(cfg, { columns = { "stage", "epoch", "view", "rank", "effective_rank" } })
local spectra = run:logger("spectrum.csv", { columns = { "stage", "view", "index", "sigma" } })
local policy = aug.policy(cfg.policy)
local images, v1 = paper.eval_views(cfg, train, policy, cfg.eval_n)
local half = math.max(1, cfg.epochs // 2)
local stages = { [0] = "init", [half] = "half", [cfg.epochs] = "end" }
-- Kept in run.state, which checkpoints carry, so that a resumed run (--resume) draws the same figures.
run.state.curves = run.state.curves or { clean = {}, augmented = {} }
local curves = run.state.curves

local rng = sslua.rng(cfg.seed)
local encoder, d_enc = paper.encoder(cfg, train.images:size(2), rng)
local projector = nn.projector { dims = { d_enc, cfg.d_proj }, bias = false, rng = rng }
paper.simclr(cfg, { encoder = encoder, projector = projector, data = train, policy = policy, rng = rng,
  on_epoch = function(epoch)
    local stage = stages[epoch]
    if not stage then return end
    for _, view in ipairs({ "clean", "augmented" }) do
      local x = view == "clean" and images or v1
      local H = paper.features(encoder, x)
      local sv = geom.singular_values(H)
      local list = sv:totable()
      for i, s in ipairs(list) do spectra:log { stage = stage, view = view, index = i, sigma = s } end
      run:log { stage = stage, epoch = epoch, view = view, rank = geom.rank(H, { rtol = cfg.rtol }),
        effective_rank = geom.effective_rank(H), dim = d_enc, sigma_max = list[1], sigma_min = list[#list] }
      curves[view][stage] = list
    end
  end })

local styles = { init = "dotted", half = "dashed", ["end"] = "solid" }
for _, view in ipairs({ "clean", "augmented" }) do
  local file = view == "clean" and "spectrum.svg" or "spectrum_augmented.svg"
  local series = {}
  for _, stage in ipairs({ "init", "half", "end" }) do
    if curves[view][stage] then
      series[#series + 1] = { values = curves[view][stage], label = stage, style = styles[stage] }
    end
  end
  run:save(plot.spectrum { series = series, title = "Encoder singular values (" .. view .. " images, d_enc = " .. d_enc .. ")" }, file)
end
experiment.print_table(run:rows(), { "stage", "epoch", "view", "rank", "effective_rank", "dim", "sigma_max", "sigma_min" })
run:finish()
print("results in " .. run.dir)

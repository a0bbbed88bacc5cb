-- experiment.simclr in a run, for Tests/lua/test_dist_mpi.lua: run once as one process and once
-- under mpirun -np 2 (distributed on by default there), same seed; the test compares the two
-- runs' metrics.csv. The projector has BatchNorm (made SyncBatchNorm at 2 ranks), and each
-- epoch logs the loss and a kNN accuracy of the encoder's features (evaluated on every rank).
local experiment = require "sslua.experiment"
local nn, aug, data, geom = sslua.nn, sslua.aug, sslua.data, sslua.geom
local cfg = experiment.args({ seed = 5, epochs = 2 })
local run = experiment.run(cfg, { name = "dist_simclr" })
local ds = data.synthetic { n = 48, seed = 3, size = 8 }
local test = data.synthetic { n = 24, seed = 4, size = 8 }
local rng = sslua.rng(cfg.seed)
local enc = nn.Sequential(nn.Conv2d(3, 4, 3, { padding = 1, rng = rng }), nn.BatchNorm2d(4), nn.ReLU(),
  nn.Flatten(), nn.Linear(4 * 8 * 8, 16, { rng = rng }))
local proj = nn.projector { dims = { 16, 16, 8 }, rng = rng }
-- Rows the encoder sees per training step (a rank's shard of both views).
local rows, forward = 0, enc.forward
enc.forward = function(self, x) if self.training then rows = x:size(1) end return forward(self, x) end
local res = experiment.simclr { encoder = enc, projector = proj, data = ds, policy = aug.policy("small"),
  epochs = cfg.epochs, batch = 12, optimizer = "sgd", lr = 0.05, momentum = 0.9, seed = cfg.seed, progress = false,
  bucket_mb = 0.001,   -- several buckets even for this small model
  on_epoch = function(epoch, state)
    local ftr, fte = enc(ds.images), enc(test.images)
    local acc = geom.knn_accuracy { train = ftr, train_labels = ds.labels, test = fte, test_labels = test.labels, k = 5 }
    run:log { epoch = epoch, loss = state.loss or 0, knn = acc, wsum = proj:parameters()[1]:sum():item() }
  end }
run:finish { loss = res.history[#res.history].loss }
print("RUN_DIR " .. run.dir)
print("ROWS " .. rows)
print("DIST_OK " .. sslua.dist.rank())

"""Sanity check of data.synthetic's design (not a test, not a project dependency): a small CNN
trained with SimCLR and torchvision's large policy beats a random encoder (and raw pixels) on
weighted kNN, i.e. the classes are learnable by invariance to the nuisances. Data from
bench/aug/synthetic_dump.lua. Measured (3000 train / 1000 test, 12 epochs of 11 steps):
raw pixels 0.191, random encoder 0.110, SimCLR encoder 0.249 (chance 0.0625), still rising.
"""
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F, time
from torchvision.transforms import v2
torch.manual_seed(0); torch.set_num_threads(1)
def load(p, n):
    x = np.fromfile(p, dtype="<f4").reshape(n, 3, 32, 32)
    y = np.loadtxt(p + ".labels", dtype=int)
    return torch.tensor(x), torch.tensor(y)
xtr, ytr = load("/tmp/synth_train.bin", 3000)
xte, yte = load("/tmp/synth_test.bin", 1000)
def enc():
    def blk(i, o): return [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU()]
    return nn.Sequential(*blk(3, 32), nn.MaxPool2d(2), *blk(32, 64), nn.MaxPool2d(2), *blk(64, 128), nn.AdaptiveAvgPool2d(1), nn.Flatten())
def knn(ftr, fte, k=20):
    ftr, fte = F.normalize(ftr, dim=1), F.normalize(fte, dim=1)
    s = fte @ ftr.T
    v, i = s.topk(k, dim=1)
    w = (v / 0.07).exp()
    votes = torch.zeros(len(fte), 17).scatter_add_(1, ytr[i], w)
    return (votes.argmax(1) == yte).float().mean().item()
@torch.no_grad()
def feats(m, x):
    m.eval(); return torch.cat([m(x[i:i+500]) for i in range(0, len(x), 500)])
print("raw pixels knn", knn(xtr.flatten(1), xte.flatten(1)))
e = enc(); print("random encoder knn", knn(feats(e, xtr), feats(e, xte)))
s = 0.5
t = v2.Compose([v2.RandomResizedCrop(32, scale=(0.08, 1), antialias=True), v2.RandomHorizontalFlip(),
                v2.RandomApply([v2.ColorJitter(0.8*s, 0.8*s, 0.8*s, 0.2*s)], p=0.8), v2.RandomGrayscale(0.2)])
proj = nn.Linear(128, 64)
opt = torch.optim.Adam(list(e.parameters()) + list(proj.parameters()), lr=2e-3)
t0 = time.time()
for ep in range(12):
    e.train()
    perm = torch.randperm(3000)
    for b in range(0, 3000 - 255, 256):
        x = xtr[perm[b:b+256]]
        v1 = torch.stack([t(im) for im in x]); v2_ = torch.stack([t(im) for im in x])
        z = F.normalize(proj(e(torch.cat([v1, v2_]))), dim=1)
        sim = z @ z.T / 0.2
        sim.fill_diagonal_(-1e9)
        n = len(x)
        tgt = torch.cat([torch.arange(n, 2*n), torch.arange(0, n)])
        loss = F.cross_entropy(sim, tgt)
        opt.zero_grad(); loss.backward(); opt.step()
    print("epoch", ep, "loss %.3f" % loss.item(), "knn", knn(feats(e, xtr), feats(e, xte)), "%.0fs" % (time.time() - t0), flush=True)

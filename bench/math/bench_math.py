"""PyTorch side of the math benchmarks (bench/math/run); same workloads as bench_math.lua.
Not a project dependency: run with the PyTorch virtualenv."""
import resource
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
which = sys.argv[1] if len(sys.argv) > 1 else "all"


def best(fn, reps):
    fn()
    t = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); t = min(t, time.perf_counter() - t0)
    return t


def infonce(z1, z2, beta, form):
    # the same losses as sslua.loss.infonce (normalise, similarity, masked log-sum-exp)
    n = z1.shape[0]
    f = F.normalize(torch.cat([z1, z2]), dim=1)
    s = beta * f @ f.T
    idx = torch.arange(2 * n)
    pos = torch.cat([idx[n:], idx[:n]])
    if form == "ntxent":
        return F.cross_entropy(s.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf")), pos)
    s1 = s[:n]
    mask = torch.zeros(n, 2 * n, dtype=torch.bool)
    mask[idx[:n], idx[:n]] = True
    mask[idx[:n], pos[:n]] = True
    return (torch.logsumexp(s1.masked_fill(mask, float("-inf")), 1) - s1[idx[:n], pos[:n]]).mean()


if which in ("all", "infonce"):
    g = torch.Generator().manual_seed(1)
    z1 = torch.randn(512, 128, generator=g, requires_grad=True)
    z2 = torch.randn(512, 128, generator=g, requires_grad=True)
    for form in ("paper", "ntxent"):
        def step():
            z1.grad = None; z2.grad = None
            infonce(z1, z2, 2.0, form).backward()
        print(f"infonce_{form} {best(step, 50):.6f}")

if which in ("all", "svdvals"):
    A = torch.randn(10000, 512)
    print(f"svdvals {best(lambda: torch.linalg.svdvals(A), 5):.6f}")

if which in ("all", "knn"):
    # Wu et al.'s weighted kNN as in the usual SSL evaluation code, test rows in blocks
    g = torch.Generator().manual_seed(4)
    train = F.normalize(torch.randn(50000, 512, generator=g), dim=1)
    test = torch.randn(10000, 512, generator=g)
    trl = torch.randint(0, 100, (50000,), generator=g)
    tel = torch.randint(0, 100, (10000,), generator=g)
    def status(key):
        for line in open("/proc/self/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
        return 0
    rss0 = status("VmRSS")
    t0 = time.perf_counter()
    correct = 0
    for s in range(0, 10000, 128):
        q = F.normalize(test[s:s + 128], dim=1)
        sim = q @ train.T
        w, i = sim.topk(200, dim=1)
        votes = torch.zeros(q.shape[0], 100).scatter_add_(1, trl[i], (w / 0.07).exp())
        correct += (votes.argmax(1) == tel[s:s + 128]).sum().item()
    t = time.perf_counter() - t0
    print(f"knn {t:.6f} {status('VmHWM') - rss0}")

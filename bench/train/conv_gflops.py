"""PyTorch counterpart of conv_gflops.lua."""
import sys
import time
import torch
import torch.nn.functional as F

N = int(sys.argv[1]) if len(sys.argv) > 1 else 256
torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)


def best(f, reps):
    b = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter(); f(); b = min(b, time.perf_counter() - t0)
    return b


a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
a @ b
t = best(lambda: a @ b, 5)
print("RESULT sgemm 2048 %.1f GFLOP/s" % (2 * 2048 ** 3 / t / 1e9))
shapes = [(64, 64, 32, 1, 3), (64, 128, 32, 2, 3), (128, 128, 16, 1, 3), (128, 256, 16, 2, 3),
          (256, 256, 8, 1, 3), (256, 512, 8, 2, 3), (512, 512, 4, 1, 3), (64, 128, 32, 2, 1)]
tf = tb = flops = 0
for cin, cout, hw, st, k in shapes:
    x = torch.randn(N, cin, hw, hw, requires_grad=True)
    w = (torch.randn(cout, cin, k, k) * 0.05).requires_grad_()
    pad = 1 if k == 3 else 0
    with torch.no_grad():
        y = F.conv2d(x, w, None, st, pad)
    oh = y.shape[2]
    fl = 2 * N * cout * oh * oh * cin * k * k
    g = torch.randn_like(y)
    with torch.no_grad():
        f = best(lambda: F.conv2d(x, w, None, st, pad), 3)
    bt = float("inf")
    for _ in range(3):
        yy = F.conv2d(x, w, None, st, pad)
        x.grad = w.grad = None
        t0 = time.perf_counter(); yy.backward(g); bt = min(bt, time.perf_counter() - t0)
    tf += f; tb += bt; flops += fl
    print("RESULT conv %dx%d %d->%d s%d: fwd %.1f GFLOP/s (%.1f ms), bwd %.1f GFLOP/s (%.1f ms)"
          % (k, k, cin, cout, st, fl / f / 1e9, f * 1e3, 2 * fl / bt / 1e9, bt * 1e3))
print("RESULT conv total: fwd %.1f GFLOP/s, bwd %.1f GFLOP/s" % (flops / tf / 1e9, 2 * flops / tb / 1e9))

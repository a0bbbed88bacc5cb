"""PyTorch counterpart of simclr_step.lua (same model, loss, optimizer, batch, threads)."""
import sys
import time
import torch
import torch.nn as nn
import os
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import torch_models  # noqa: E402

arch = sys.argv[1] if len(sys.argv) > 1 else "resnet18"
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 2)
shape = sys.argv[4] if len(sys.argv) > 4 else "2N"
assert shape in ("2N", "NN")
torch.manual_seed(0)

enc, dim = torch_models.encoder(arch)
proj = nn.Linear(dim, 128, bias=False)
params = list(enc.parameters()) + list(proj.parameters())
opt = torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-6)
N, beta = 128, 2.0
x = torch.randn(2 * N, 3, 32, 32)
x1, x2 = x[:N].contiguous(), x[N:].contiguous()
mask = 1 - torch.eye(N)

def infonce(z):
    f = z / (z * z).sum(1, keepdim=True).sqrt()
    f1, f2 = f[:N], f[N:]
    pos = (f1 * f2).sum(1) * beta
    e11 = ((f1 @ f1.t() - 1) * beta).exp() * mask
    e12 = ((f1 @ f2.t() - 1) * beta).exp() * mask
    lse = (e11.sum(1) + e12.sum(1)).log() + beta
    return (lse - pos).mean()

def step():
    opt.zero_grad()
    if shape == "2N":
        loss = infonce(proj(enc(x)))
    else:
        loss = infonce(torch.cat([proj(enc(x1)), proj(enc(x2))]))
    loss.backward()
    opt.step()
    return loss.item()

step()
times, cpu = [], []
for i in range(steps):
    t0, c0 = time.perf_counter(), time.process_time()
    l = step()
    times.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
    print("  step %d: %.3f s, cpu %.3f s (loss %.4f)" % (i + 1, times[-1], cpu[-1], l), file=sys.stderr)
times.sort(); cpu.sort()
print("RESULT %s-%s median %.4f cpu %.4f" % (arch, shape, times[(len(times) - 1) // 2], cpu[(len(cpu) - 1) // 2]))

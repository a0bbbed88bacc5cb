"""PyTorch counterpart of simclr_step.lua (same model, loss, optimizer, batch, threads)."""
import sys
import time
import torch
import torch.nn as nn
import torchvision

arch = sys.argv[1] if len(sys.argv) > 1 else "resnet18"
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 2)
shape = sys.argv[4] if len(sys.argv) > 4 else "2N"
assert shape in ("2N", "NN")
torch.manual_seed(0)

if arch == "resnet18":
    enc = torchvision.models.resnet18()
    enc.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    enc.maxpool = nn.Identity()
    enc.fc = nn.Identity()
    dim = 512
else:
    # 3-stage BasicBlock ResNet, widths 32-64-128, one block per stage, CIFAR stem
    from torchvision.models.resnet import BasicBlock, conv1x1

    def stage(inp, out, stride):
        down = None
        if stride != 1 or inp != out:
            down = nn.Sequential(conv1x1(inp, out, stride), nn.BatchNorm2d(out))
        return nn.Sequential(BasicBlock(inp, out, stride, down))

    enc = nn.Sequential(nn.Conv2d(3, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True),
                        stage(32, 32, 1), stage(32, 64, 2), stage(64, 128, 2),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten())
    dim = 128
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

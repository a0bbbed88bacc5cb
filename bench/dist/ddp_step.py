# PyTorch counterpart of resnet_step.lua: DistributedDataParallel on the gloo backend, 1 thread
# per rank, the same global batch split over the ranks, embeddings gathered with
# torch.distributed.nn.all_gather (global negatives), 2 MB gradient buckets. BatchNorm stays
# per-rank (torch's SyncBatchNorm has no CPU kernels). Usage:
#   python ddp_step.py resnet3|resnet18 [global batch N=64] [steps=3] [world=2]
import os, sys, time
import torch
import torch.nn as nn
import torch.distributed as dist
import torch.multiprocessing as mp
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import torch_models  # noqa: E402

def build(arch):
    enc, dim = torch_models.encoder(arch)
    return nn.Sequential(enc, nn.Linear(dim, 128, bias=False))

def infonce(f1, f2, beta=2.0):
    f1 = f1 / (f1 * f1).sum(1, keepdim=True).sqrt()
    f2 = f2 / (f2 * f2).sum(1, keepdim=True).sqrt()
    n = f1.shape[0]
    mask = 1 - torch.eye(n)
    pos = (f1 * f2).sum(1) * beta
    e11 = ((f1 @ f1.t() - 1) * beta).exp() * mask
    e12 = ((f1 @ f2.t() - 1) * beta).exp() * mask
    lse = (e11.sum(1) + e12.sum(1)).log() + beta
    return (lse - pos).mean()

def worker(rank, world, arch, N, steps):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    if world > 1:
        dist.init_process_group("gloo", rank=rank, world_size=world)
    model = build(arch)
    if world > 1:
        model = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-6)
    g = torch.Generator().manual_seed(1)
    x1, x2 = torch.randn(N, 3, 32, 32, generator=g), torch.randn(N, 3, 32, 32, generator=g)
    lo, hi = N * rank // world, N * (rank + 1) // world
    x = torch.cat([x1[lo:hi], x2[lo:hi]])
    k = hi - lo
    def step():
        opt.zero_grad()
        z = model(x)
        z1, z2 = z[:k], z[k:]
        if world > 1:
            import torch.distributed.nn as dnn
            z1, z2 = torch.cat(dnn.all_gather(z1)), torch.cat(dnn.all_gather(z2))
        loss = infonce(z1, z2)
        loss.backward()
        opt.step()
        return loss.item()
    step()
    times = []
    for _ in range(steps):
        if world > 1: dist.barrier()
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    if rank == 0:
        print("RESULT %s world %d batch %d median %.4f" % (arch, world, N, times[(len(times) - 1) // 2]), flush=True)
    if world > 1:
        dist.destroy_process_group()

if __name__ == "__main__":
    arch = sys.argv[1] if len(sys.argv) > 1 else "resnet3"
    N = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    world = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29517")
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    if world == 1:
        worker(0, 1, arch, N, steps)
    else:
        mp.spawn(worker, args=(world, arch, N, steps), nprocs=world)

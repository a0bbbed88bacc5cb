"""torchvision v2 counterpart of bench/aug/bench_aug.lua (run by it; PyTorch is not a project
dependency). Prints `name images_per_second` lines (and `name_cpu_us` CPU microseconds per image).

    /tmp/bench/bin/python bench/aug/torchvision_aug.py [--batch 512] [--seconds 3]
"""
import argparse
import time

import torch
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2


def large_policy(size=32):
    """Table 2, large: crop 0.08-1, flip, jitter s=0.5 with p=0.8, grayscale p=0.2."""
    s = 0.5
    return [
        v2.RandomResizedCrop(size, scale=(0.08, 1.0), antialias=True),
        v2.RandomHorizontalFlip(p=0.5),
        v2.RandomApply([v2.ColorJitter(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s)], p=0.8),
        v2.RandomGrayscale(p=0.2),
    ]


def per_image(batch, seconds):
    t = v2.Compose(large_policy())
    x = torch.rand(batch, 3, 32, 32)
    for i in range(batch):  # warm-up
        t(x[i])
    n, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        torch.stack([t(x[i]) for i in range(batch)])
        n += batch
    return n / (time.perf_counter() - start), (time.process_time() - cpu) / n * 1e6


class Uint8Images(Dataset):
    def __init__(self, n):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
        self.t = v2.Compose(large_policy() + [v2.ToDtype(torch.float32, scale=True)])

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.t(self.x[i])


def dataloader(batch, seconds):
    ds = Uint8Images(batch * 8)
    dl = DataLoader(ds, batch_size=batch, num_workers=2, persistent_workers=True)
    for _ in dl:  # warm-up: workers started, one epoch
        pass
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for b in dl:
            n += b.shape[0]
    return n / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--seconds", type=float, default=3.0)
    a = ap.parse_args()
    # per-image transforms on 32x32 tensors: intra-op threads only add overhead (and spin under
    # load), so both settings are measured and the caller compares against the faster one
    for threads in (1, 2):
        torch.set_num_threads(threads)
        rate, cpu_us = per_image(a.batch, a.seconds)
        print("torchvision_per_image_t%d %.1f" % (threads, rate), flush=True)
        print("torchvision_per_image_t%d_cpu_us %.2f" % (threads, cpu_us), flush=True)
    torch.set_num_threads(1)
    print("torchvision_dataloader2 %.1f" % dataloader(a.batch, a.seconds), flush=True)


if __name__ == "__main__":
    main()

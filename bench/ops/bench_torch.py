"""PyTorch side of bench/ops: the same ops, same sizes, same thread count; 'name ms' lines."""
import sys
import time

import torch

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
N = 2048
g = torch.Generator().manual_seed(0)
a, b = torch.randn(N, N, generator=g), torch.randn(N, N, generator=g)


def median(fn, reps):
    fn(); fn()
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    t.sort()
    return t[0] * 1000  # the minimum, as bench.lua


cases = [
    ("add", lambda: a + b, 31), ("mul", lambda: a * b, 31), ("exp", lambda: a.exp(), 31),
    ("relu", lambda: a.relu(), 31), ("sum", lambda: a.sum(), 31),
    ("softmax", lambda: torch.softmax(a, 1), 31), ("mm", lambda: a @ b, 7), ("mm_t", lambda: a.t() @ b, 7),
]
with torch.no_grad():
    for name, fn, reps in cases:
        print("%s %.4f" % (name, median(fn, reps)))

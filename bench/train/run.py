"""Runs the training benchmarks side by side and prints the ratio table.

    python3 bench/train/run.py [--steps 3] [--threads 2] [--python /tmp/bench/bin/python]

For each workload, sslua (.build/release/sslua) and PyTorch run the same SimCLR step in
separate processes, alternating, so both see the same machine; the table gives median step
times, sslua/PyTorch ratios (target <= 0.8) and each process's peak RSS (target: sslua's no
more than PyTorch's). Then the conv GFLOP/s of both against the sgemm rate.
"""
import argparse
import os
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ap = argparse.ArgumentParser()
ap.add_argument("--steps", type=int, default=3)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--rounds", type=int, default=1, help="alternating repetitions per workload")
ap.add_argument("--python", default="/tmp/bench/bin/python")
ap.add_argument("--sslua", default=os.path.join(root, ".build/release/sslua"))
ap.add_argument("--skip-conv", action="store_true")
args = ap.parse_args()


def run(cmd):
    """Runs cmd, returns (RESULT lines, peak RSS in MB of that child)."""
    p = subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate()
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), err))
    return [l for l in out.splitlines() if l.startswith("RESULT")], err


def measure(cmd):
    # peak RSS through /usr/bin/time (per child, not cumulative)
    lines, err = run(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd)
    rss = [l for l in err.splitlines() if l.startswith("MAXRSS")]
    return lines, int(rss[-1].split()[1]) / 1024 if rss else float("nan")


def step_time(lines):
    parts = lines[-1].split()
    return float(parts[3]), float(parts[5])


rows = []
for arch, label in (("resnet3", "ResNet 32-64-128 (1,1,1)"), ("resnet18", "ResNet-18 CIFAR")):
    best = {"sslua": None, "torch": None}
    for _ in range(args.rounds):
        for who, cmd in (("sslua", [args.sslua, "bench/train/simclr_step.lua", arch, str(args.steps), str(args.threads)]),
                         ("torch", [args.python, "bench/train/simclr_step.py", arch, str(args.steps), str(args.threads)])):
            lines, rss = measure(cmd)
            t, cpu = step_time(lines)
            if best[who] is None or t < best[who][0]:
                best[who] = (t, cpu, rss)
    rows.append((label, best["sslua"], best["torch"]))

print("SimCLR step, batch 2x128 RGB 32x32, linear projector to 128, InfoNCE beta=2, SGD; %d threads" % args.threads)
print("%-26s %9s %9s %6s | %9s %9s %6s | %9s %9s %6s" % ("encoder", "sslua s", "torch s", "ratio",
      "sslua cpu", "torch cpu", "ratio", "sslua MB", "torch MB", "ratio"))
for label, s, t in rows:
    print("%-26s %9.3f %9.3f %6.2f | %9.3f %9.3f %6.2f | %9.0f %9.0f %6.2f" % (label, s[0], t[0], s[0] / t[0],
          s[1], t[1], s[1] / t[1], s[2], t[2], s[2] / t[2]))
print("(median step wall time, CPU time of that step (all threads), peak RSS; ratios sslua / PyTorch;")
print(" targets: time <= 0.80, memory <= 1.00)")

if not args.skip_conv:
    print()
    print("conv2d on the ResNet-18-CIFAR layer shapes, batch 256, %d threads" % args.threads)
    s, _ = run([args.sslua, "bench/train/conv_gflops.lua", "256", str(args.threads)])
    t, _ = run([args.python, "bench/train/conv_gflops.py", "256", str(args.threads)])
    im2col = [l for l in s if l.startswith("RESULT im2col")]
    s = [l for l in s if not l.startswith("RESULT im2col")]
    for a, b in zip(s, t):
        print("sslua  " + a[7:])
        print("torch  " + b[7:])
    print("(GFLOP/s of the direct convolution's multiply-adds; sslua runs the 3x3 stride-1 layers by")
    print(" Winograd F(2x2,3x3), 2.25x fewer. The same layers by im2col + sgemm, for comparison:)")
    for a in im2col:
        print("im2col " + a[14:])

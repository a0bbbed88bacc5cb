"""Runs the training benchmarks side by side and prints the ratio table.

    python3 bench/train/run.py [--steps 3] [--threads 2] [--rounds 3] [--arch resnet3,resnet18]
                               [--shapes NN,2N] [--python /tmp/bench/bin/python] [--skip-conv]

Prints the machine first (CPU model, family/model numbers, the OpenBLAS kernel sslua runs).
For each encoder (3-stage ResNet 32-64-128, ResNet-18 CIFAR) and shape (NN: the two views as
two forwards of 128; 2N: one forward of 256), sslua (.build/release/sslua) and PyTorch run the
same SimCLR step in separate processes, alternating sslua, PyTorch, sslua, ... for `--rounds`
rounds, so that a burst of load on a shared machine hits both; each side's figure is its best
round (lowest median step time). The table gives those times, the sslua/PyTorch ratios
(target <= 0.70), the CPU time of that step, and each side's peak RSS over all its rounds
(target: sslua's no more than PyTorch's). Then the conv GFLOP/s of both against the sgemm rate.
"""
import argparse
import os
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ap = argparse.ArgumentParser()
ap.add_argument("--steps", type=int, default=3)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--rounds", type=int, default=3, help="alternating sslua/PyTorch rounds per workload")
ap.add_argument("--arch", default="resnet3,resnet18", help="comma-separated: resnet3, resnet18")
ap.add_argument("--shapes", default="NN,2N", help="comma-separated: NN (two forwards of N), 2N (one of 2N)")
ap.add_argument("--python", default=os.environ.get("TORCH_PYTHON", "/tmp/bench/bin/python"))
ap.add_argument("--sslua", default=os.path.join(root, ".build/release/sslua"))
ap.add_argument("--skip-conv", action="store_true")
ap.add_argument("--machine", action="store_true", help="print the machine lines only")
ap.add_argument("--no-machine", action="store_true", help="skip the machine lines (bench/run prints them once)")
args = ap.parse_args()


def machine():
    """CPU model name, family/model numbers, and the OpenBLAS kernel of this environment."""
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    fam = {}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            k, _, v = line.partition(":")
            if k.strip() in ("Vendor ID", "CPU family", "Model", "Stepping", "Hypervisor vendor"):
                fam[k.strip()] = v.strip()
    except OSError:
        pass
    print("CPU: %s (%s)" % (model, ", ".join("%s %s" % kv for kv in fam.items()) or "lscpu unavailable"))
    # OpenBLAS names the kernel it picked on stderr when OPENBLAS_VERBOSE=2 (DYNAMIC_ARCH builds)
    env = dict(os.environ, OPENBLAS_VERBOSE="2")
    core = "unknown"
    try:
        p = subprocess.run([args.sslua, "-e", ""], cwd=root, env=env, capture_output=True, text=True)
        for line in (p.stderr + p.stdout).splitlines():
            if line.startswith("Core:"):
                core = line.split(":", 1)[1].strip()
    except OSError:
        pass
    ct = os.environ.get("OPENBLAS_CORETYPE")
    print("OpenBLAS kernel (sslua): %s (OPENBLAS_CORETYPE=%s)" % (core, ct if ct is not None else "unset"))
    try:
        p = subprocess.run([args.python, "-c", "import torch; print(torch.__version__, torch.backends.mkldnn.is_available())"],
                           capture_output=True, text=True)
        v = p.stdout.split()
        if v:
            print("PyTorch %s (oneDNN %s)" % (v[0], "on" if v[1:] == ["True"] else "off"))
    except OSError:
        pass


if not args.no_machine:
    machine()
if args.machine:
    sys.exit(0)


def run(cmd):
    """Runs cmd, returns (RESULT lines, stderr)."""
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


labels = {"resnet3": "ResNet 32-64-128", "resnet18": "ResNet-18 CIFAR"}
archs = [a for a in args.arch.split(",") if a]
shapes = [s for s in args.shapes.split(",") if s]
for a in archs:
    if a not in labels:
        sys.exit("unknown arch %s (resnet3, resnet18)" % a)
for s in shapes:
    if s not in ("NN", "2N"):
        sys.exit("unknown shape %s (NN, 2N)" % s)

rows = []
for arch in archs:
    for shape in shapes:
        best = {"sslua": None, "torch": None}
        peak = {"sslua": 0.0, "torch": 0.0}
        step = [str(args.steps), str(args.threads), shape]
        for r in range(args.rounds):
            for who, cmd in (("sslua", [args.sslua, "bench/train/simclr_step.lua", arch] + step),
                             ("torch", [args.python, "bench/train/simclr_step.py", arch] + step)):
                lines, rss = measure(cmd)
                t, cpu = step_time(lines)
                print("  round %d %-5s %-8s %s: %.3f s (cpu %.3f s), %.0f MB" % (r + 1, who, arch, shape, t, cpu, rss),
                      file=sys.stderr)
                if best[who] is None or t < best[who][0]:
                    best[who] = (t, cpu)
                peak[who] = max(peak[who], rss)
        rows.append(("%s %s" % (labels[arch], shape), best["sslua"] + (peak["sslua"],), best["torch"] + (peak["torch"],)))

print("SimCLR step, batch 2x128 RGB 32x32, linear projector to 128, InfoNCE beta=2, SGD; %d threads;" % args.threads)
print("best of %d alternating rounds per side (NN: two forwards of 128, 2N: one forward of 256)" % args.rounds)
print("%-22s %9s %9s %6s | %9s %9s %6s | %9s %9s %6s" % ("workload", "sslua s", "torch s", "ratio",
      "sslua cpu", "torch cpu", "ratio", "sslua MB", "torch MB", "ratio"))
for label, s, t in rows:
    print("%-22s %9.3f %9.3f %6.2f | %9.3f %9.3f %6.2f | %9.0f %9.0f %6.2f" % (label, s[0], t[0], s[0] / t[0],
          s[1], t[1], s[1] / t[1], s[2], t[2], s[2] / t[2]))
print("(median step wall time of the best round, CPU time of that step (all threads), peak RSS over")
print(" all rounds; ratios sslua / PyTorch; targets: time <= 0.70, memory <= 1.00)")

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
    print(" Winograd F(4x4,3x3), 4x fewer. The same layers by im2col + sgemm, for comparison:)")
    for a in im2col:
        print("im2col " + a[14:])

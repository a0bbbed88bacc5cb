#!/bin/sh
# Tensor-core benchmark: sslua vs PyTorch CPU (same ops, sizes and thread count, same run)
# and mm vs a direct cblas_sgemm. Prints a table of median times and ratios (< 1 is faster).
# Usage: bench/ops/run.sh [threads] [python-with-torch]
set -e
cd "$(dirname "$0")/../.."
THREADS=${1:-2}
PY=${2:-${TORCH_PYTHON:-/tmp/bench/bin/python}}
OUT=$(mktemp -d)
swift build -c release >/dev/null
cc -O2 bench/ops/sgemm_ref.c -o "$OUT/sgemm_ref" $(pkg-config --cflags --libs openblas 2>/dev/null || echo -lopenblas)
# Rounds alternate the three programs so that load from other processes hits them alike;
# each figure is the best over all rounds.
ROUNDS=${ROUNDS:-3}
for r in $(seq "$ROUNDS"); do
  OPENBLAS_NUM_THREADS=$THREADS "$OUT/sgemm_ref" "$THREADS" >> "$OUT/ref.txt"
  .build/release/sslua bench/ops/bench.lua "$THREADS" >> "$OUT/sslua.txt"
  "$PY" bench/ops/bench_torch.py "$THREADS" >> "$OUT/torch.txt"
done
awk -v threads="$THREADS" -v rounds="$ROUNDS" '
  function keep(a, k, v) { if (!(k in a) || v < a[k]) a[k] = v }
  FILENAME ~ /ref/ { keep(ref, $1, $2); next }
  FILENAME ~ /sslua/ { if (!($1 in s)) order[++n] = $1; keep(s, $1, $2); next }
  { keep(t, $1, $2) }
  END {
    printf "ops on 2048x2048 float32, %d threads (best of %d alternating rounds, ms)\n", threads, rounds
    printf "%-8s %10s %10s %8s\n", "op", "sslua", "pytorch", "ratio"
    for (i = 1; i <= n; i++) { k = order[i]; printf "%-8s %10.3f %10.3f %8.2f\n", k, s[k], t[k], s[k] / t[k] }
    printf "%-8s %10.3f %10s %8.2f  (vs direct cblas_sgemm %.3f ms)\n", "mm/sgemm", s["mm"], "", s["mm"] / ref["sgemm"], ref["sgemm"]
  }' "$OUT/ref.txt" "$OUT/sslua.txt" "$OUT/torch.txt"
rm -rf "$OUT"

#!/usr/bin/env bash
# Runs the reference workloads through the JAX peer (per-step jit, then the
# lax.scan variant), the PyTorch peer when asked, and `nabla bench`, one
# after another, then prints every result line (the peers' RESULT lines and
# nabla's JSON lines, each prefixed with "RESULT ").
#
#   benches/peers.sh                    # JAX and nabla, W1–W4
#   benches/peers.sh --torch W3 W4      # PyTorch too (a download of several GB), W3 and W4
#   benches/peers.sh --rounds=3 W3 W4   # JAX's scan and nabla in turn, three times,
#                                       # then nabla's median over JAX's, round by round
#
# Environment: THREADS (default: every core) for every system; PEER_DATA
# (default bench-data) and PEER_VENV (default target/peer-venv), as for
# benches/peer-data.sh, which makes the data first if needed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

TORCH=0
ROUNDS=0
WORKLOADS=()
for arg in "$@"; do
    case "$arg" in
        --torch) TORCH=1 ;;
        --rounds=*) ROUNDS="${arg#--rounds=}" ;;
        W1|W2|W3|W4) WORKLOADS+=("$arg") ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "peers.sh: unknown argument $arg (use --torch, --rounds=N and W1 W2 W3 W4)" >&2; exit 2 ;;
    esac
done
case "$ROUNDS" in
    ''|*[!0-9]*) echo "peers.sh: --rounds takes a whole number of rounds, not '$ROUNDS'" >&2; exit 2 ;;
esac
if [ "$ROUNDS" -gt 0 ] && [ "$TORCH" = 1 ]; then
    echo "peers.sh: --rounds runs JAX's scan and nabla only; run --torch without it" >&2
    exit 2
fi
[ ${#WORKLOADS[@]} -gt 0 ] || WORKLOADS=(W1 W2 W3 W4)

DATA="${PEER_DATA:-bench-data}"
VENV="${PEER_VENV:-target/peer-venv}"
THREADS="${THREADS:-$(getconf _NPROCESSORS_ONLN)}"
export PEER_DATA="$DATA" PEER_VENV="$VENV" PERF_THREADS="$THREADS"

benches/peer-data.sh
PY="$VENV/bin/python"
if ! "$PY" -c 'import jax, optax' 2>/dev/null; then
    echo "installing jax and optax into $VENV"
    "$VENV/bin/pip" install --quiet jax optax
fi
if [ "$TORCH" = 1 ] && ! "$PY" -c 'import torch' 2>/dev/null; then
    echo "installing torch into $VENV"
    "$VENV/bin/pip" install --quiet torch
fi
echo "building nabla"
cargo build --release --quiet --bin nabla

LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
run() {
    echo "== $*" >&2
    "$@" | tee -a "$LOG"
}
if [ "$ROUNDS" -gt 0 ]; then
    for round in $(seq "$ROUNDS"); do
        echo "== round $round of $ROUNDS" >&2
        run "$PY" benches/peers/bench_jax.py --scan "${WORKLOADS[@]}"
        run cargo run --release --quiet --bin nabla -- bench "${WORKLOADS[@]}" \
            --json --threads "$THREADS" --data-dir "$DATA"
    done
    echo
    echo "== nabla's median over JAX's scan, round by round ($THREADS threads)"
    "$PY" benches/peer_rounds.py "$LOG"
    exit 0
fi
run "$PY" benches/peers/bench_jax.py "${WORKLOADS[@]}"
run "$PY" benches/peers/bench_jax.py --scan "${WORKLOADS[@]}"
if [ "$TORCH" = 1 ]; then
    run "$PY" benches/peers/bench_torch.py "${WORKLOADS[@]}"
fi
run cargo run --release --quiet --bin nabla -- bench "${WORKLOADS[@]}" \
    --json --threads "$THREADS" --data-dir "$DATA"

echo
echo "== every result ($THREADS threads; load average now: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime))"
grep '^RESULT ' "$LOG" || true
grep '^{' "$LOG" | sed 's/^/RESULT /' || true

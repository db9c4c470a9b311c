#!/usr/bin/env bash
# Makes the reference workloads' data: w2_x.npy, w2_y.npy, w3_x.npy and
# w3_y.npy in bench-data/ (or $PEER_DATA), with benches/peers/gen_data.py in
# a Python virtual environment with NumPy (target/peer-venv, or $PEER_VENV),
# then checks the files against benches/peers/SHA256SUMS.
#
#   benches/peer-data.sh            # make the files unless they are there and match
#   benches/peer-data.sh --force    # make them again
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

DATA="${PEER_DATA:-bench-data}"
VENV="${PEER_VENV:-target/peer-venv}"
SUMS="$ROOT/benches/peers/SHA256SUMS"
FORCE=0
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "peer-data.sh: unknown argument $arg (use --force or --help)" >&2; exit 2 ;;
    esac
done

check_sums() {
    if command -v sha256sum >/dev/null; then
        (cd "$DATA" && sha256sum --quiet -c "$SUMS")
    else
        (cd "$DATA" && shasum -a 256 --quiet -c "$SUMS")
    fi
}

if [ "$FORCE" = 0 ] && [ -d "$DATA" ] && check_sums >/dev/null 2>&1; then
    echo "$DATA: the reference data is there and matches benches/peers/SHA256SUMS"
    exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "creating the Python environment $VENV"
    python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import numpy' 2>/dev/null; then
    "$VENV/bin/pip" install --quiet numpy
fi

echo "writing the reference data into $DATA"
PEER_DATA="$DATA" "$VENV/bin/python" benches/peers/gen_data.py >/dev/null
if check_sums; then
    echo "$DATA: every file matches benches/peers/SHA256SUMS"
else
    echo "peer-data.sh: the files in $DATA differ from benches/peers/SHA256SUMS (a different NumPy?); the figures would not be comparable" >&2
    exit 1
fi

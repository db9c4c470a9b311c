#!/usr/bin/env bash
# Renders a training run's report.html in headless Chromium and saves a
# screenshot, to check by eye that the page (inline SVG charts, tables)
# displays in a real browser. Installs Debian's chromium when it is
# missing (needs root). Not part of .ci/run.
#
#   bash scripts/check_report.sh [SCREENSHOT.png]    # default /tmp/report.png
set -euo pipefail
cd "$(dirname "$0")/.."

screenshot=$(realpath -m "${1:-/tmp/report.png}")

if ! command -v chromium >/dev/null; then
    apt-get update
    apt-get install -y chromium
fi

run=$(mktemp -d)
profile=$(mktemp -d)
trap 'rm -rf "$run" "$profile"' EXIT

cargo run --release --quiet -- train --dataset moons --layers 16,relu,16,tanh,2 \
    --epochs 40 --quiet --out "$run"
test -s "$run/report.html"

rm -f "$screenshot"
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run \
    --user-data-dir="$profile" --screenshot="$screenshot" --window-size=1200,2000 \
    "file://$run/report.html"
test -s "$screenshot"
echo "screenshot of $run/report.html: $screenshot"

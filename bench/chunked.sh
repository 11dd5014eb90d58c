#!/usr/bin/env bash
# A chunked upload (the Python SDK's upload_large, 20 MB chunks) of a file of
# random bytes: wall time, throughput and Nubo's peak RSS while it receives
# and assembles it. Usage: bench/chunked.sh [MiB, default 2048]
set -euo pipefail
cd "$(dirname "$0")/.."
MIB=${1:-2048}
[ -x .venv/bin/python ] || { echo "run scripts/test.sh first (it creates the SDK venv)"; exit 1; }
cargo build --release --locked -p nubo >&2
BIN="${CARGO_TARGET_DIR:-target}/release/nubo"
DIR=$(mktemp -d)
PORT=18097
NUBO_DATA_DIR="$DIR/data" NUBO_LISTEN=127.0.0.1:$PORT NUBO_CLOUD_NAME=demo NUBO_API_KEY=1234567890 \
  NUBO_API_SECRET=abcdefghijklmnop NUBO_MAX_RAW_BYTES=8GiB NUBO_LOG=warn "$BIN" serve >"$DIR/nubo.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
head -c "$((MIB * 1024 * 1024))" /dev/urandom >"$DIR/big.bin"
START=$(date +%s.%N)
CLOUDINARY_URL="cloudinary://1234567890:abcdefghijklmnop@demo?upload_prefix=http://127.0.0.1:$PORT" \
  .venv/bin/python -c "
import sys, cloudinary.uploader as up
r = up.upload_large(sys.argv[1], resource_type='raw', public_id='big.bin', chunk_size=20000000)
assert r['bytes'] == $((MIB * 1024 * 1024)), r
" "$DIR/big.bin"
END=$(date +%s.%N)
HWM=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
python3 - "$START" "$END" "$MIB" "$HWM" <<'PY'
import sys
start, end, mib, hwm = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
secs = end - start
print(f"| chunked upload | MiB | seconds | MiB/s | Nubo peak RSS |")
print(f"|---|---|---|---|---|")
print(f"| Python upload_large, 20 MB chunks | {mib} | {secs:.1f} | {mib / secs:.0f} | {hwm / 1024:.1f} MiB |")
PY

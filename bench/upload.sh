#!/usr/bin/env bash
# Benchmark, not a test: upload a large file of random bytes through the
# official Python and Node SDKs and compare with `cp` of the same file on the
# same disk, reporting throughput ratios and Nubo's peak RSS (VmHWM).
#   bench/upload.sh [SIZE_MIB]      (default 1024)
# Needs scripts/test.sh to have been run once (it creates the SDK venv and
# node_modules).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB="${1:-1024}"
work=$(mktemp -d "${TMPDIR:-/tmp}/nubo-bench.XXXXXX")
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --locked -p nubo >/dev/null 2>&1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "file: ${SIZE_MIB} MiB of random bytes in $work"
dd if=/dev/urandom of="$work/big.bin" bs=1M count="$SIZE_MIB" status=none
sync

cp_seconds=$(python3 - "$work" <<'PY'
import os, shutil, sys, time
work = sys.argv[1]
t = time.perf_counter()
shutil.copyfile(os.path.join(work, "big.bin"), os.path.join(work, "copy.bin"))
with open(os.path.join(work, "copy.bin"), "rb+") as f:
    os.fsync(f.fileno())  # Nubo fsyncs before it answers; so must cp
print(time.perf_counter() - t)
os.remove(os.path.join(work, "copy.bin"))
PY
)

NUBO_DATA_DIR="$work/data" NUBO_LISTEN="127.0.0.1:$port" NUBO_CLOUD_NAME=bench \
NUBO_API_KEY=111111111111111 NUBO_API_SECRET=benchsecret NUBO_LOG=warn \
NUBO_MAX_RAW_BYTES=8GiB "${CARGO_TARGET_DIR:-target}/release/nubo" serve >/dev/null &
pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
export CLOUDINARY_URL="cloudinary://111111111111111:benchsecret@bench?upload_prefix=http://127.0.0.1:$port&cname=127.0.0.1:$port"
rss_mib() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$pid/status"; }
idle_rss=$(rss_mib)

# curl: a client that costs almost nothing, to show the server's own ceiling.
ts=$(date +%s)
sig=$(printf 'public_id=big-curl.bin&timestamp=%s%s' "$ts" benchsecret | sha1sum | cut -d' ' -f1)
curl_seconds=$( { /usr/bin/time -f %e curl -sf -o /dev/null -F timestamp="$ts" -F public_id=big-curl.bin \
  -F api_key=111111111111111 -F signature="$sig" -F file=@"$work/big.bin" \
  "http://127.0.0.1:$port/v1_1/bench/raw/upload"; } 2>&1 )
curl_rss=$(rss_mib)

py_seconds=$(.venv/bin/python - "$work/big.bin" <<'PY'
import hashlib, sys, time
import cloudinary.uploader as up
path = sys.argv[1]
t = time.perf_counter()
r = up.upload(path, resource_type="raw", public_id="big-py.bin", timeout=3600)
elapsed = time.perf_counter() - t
md5 = hashlib.md5()
with open(path, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        md5.update(chunk)
assert r["etag"] == md5.hexdigest(), "stored bytes differ"
print(elapsed)
PY
)
py_rss=$(rss_mib)

node_seconds=$(cd tests/sdk/node && node - "$work/big.bin" <<'JS'
const cloudinary = require('cloudinary').v2;
const t = process.hrtime.bigint();
cloudinary.uploader.upload(process.argv[2], { resource_type: 'raw', public_id: 'big-node.bin', timeout: 3600000 })
  .then((r) => {
    if (r.bytes !== require('fs').statSync(process.argv[2]).size) throw new Error('size differs');
    console.log(Number(process.hrtime.bigint() - t) / 1e9);
  })
  .catch((e) => { console.error(e); process.exit(1); });
JS
)
node_rss=$(rss_mib)

python3 - "$SIZE_MIB" "$cp_seconds" "$py_seconds" "$node_seconds" "$curl_seconds" "$idle_rss" "$py_rss" "$node_rss" "$curl_rss" <<'PY'
import sys
size, cp, py, node, curl = float(sys.argv[1]), *map(float, sys.argv[2:6])
idle, py_rss, node_rss, curl_rss = sys.argv[6:10]
print(f"{'':28}{'seconds':>9}{'MiB/s':>9}{'vs cp':>8}")
print(f"{'cp (copy + fsync)':28}{cp:9.2f}{size/cp:9.0f}{1.0:8.2f}")
print(f"{'curl -F upload':28}{curl:9.2f}{size/curl:9.0f}{cp/curl:8.2f}")
print(f"{'Python SDK upload':28}{py:9.2f}{size/py:9.0f}{cp/py:8.2f}")
print(f"{'Node SDK upload':28}{node:9.2f}{size/node:9.0f}{cp/node:8.2f}")
print(f"nubo peak RSS (VmHWM): idle {idle} MiB, after curl {curl_rss} MiB, after Python {py_rss} MiB, after Node {node_rss} MiB")
PY

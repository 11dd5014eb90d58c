#!/usr/bin/env bash
# Eager renditions four ways, on the release binary: inline in `explicit`
# calls one at a time, inline from 4 concurrent clients, and queued with
# eager_async from 4 clients (calls return at once; the job workers render),
# without and with a notification to a local receiver per batch. Prints throughput, ratios against inline, and the
# client's latency per call. Usage: bench/jobs.sh [jobs, default 1000]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
[ -x .venv/bin/python ] || { echo "run scripts/test.sh first (it creates the SDK venv)"; exit 1; }
cargo build --release --locked -p nubo >&2
BIN="${CARGO_TARGET_DIR:-target}/release/nubo"
DIR=$(mktemp -d)
PORT=18098
NUBO_DATA_DIR="$DIR/data" NUBO_LISTEN=127.0.0.1:$PORT NUBO_CLOUD_NAME=demo NUBO_API_KEY=1234567890 \
  NUBO_API_SECRET=abcdefghijklmnop NUBO_FETCH_ALLOW_PRIVATE=true NUBO_LOG=warn \
  NUBO_JOB_POLL_MS=200 "$BIN" serve >"$DIR/nubo.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
CLOUDINARY_URL="cloudinary://1234567890:abcdefghijklmnop@demo?upload_prefix=http://127.0.0.1:$PORT" \
  .venv/bin/python - "$N" "$DIR" <<'PY'
import http.server, io, statistics, sys, threading, time
from concurrent.futures import ThreadPoolExecutor
import cloudinary.uploader as up
from PIL import Image, ImageFilter

n, work = int(sys.argv[1]), sys.argv[2]
# A 1200x900 photo-like JPEG (smooth gradients plus noise).
img = Image.effect_noise((1200, 900), 60).convert("RGB").filter(ImageFilter.GaussianBlur(2))
buf = io.BytesIO(); img.save(buf, "JPEG", quality=88); buf.seek(0)
up.upload(buf, public_id="bench/src")

def explicit(crop, i, **extra):
    t = time.perf_counter()
    up.explicit("bench/src", type="upload", eager=[{"width": 100 + i, "crop": crop}], **extra)
    return time.perf_counter() - t

def timed(fn):
    t = time.perf_counter(); lat = fn(); return time.perf_counter() - t, lat

seq, seq_lat = timed(lambda: [explicit("scale", i) for i in range(n)])
with ThreadPoolExecutor(4) as pool:
    conc, conc_lat = timed(lambda: list(pool.map(lambda i: explicit("fit", i), range(n))))

import cloudinary.api as api
def queue():
    return api.call_api("get", ["webhooks"], {"max_results": 1})["queue"]
before = queue()["done"]
start = time.perf_counter()
with ThreadPoolExecutor(4) as pool:
    a_lat = list(pool.map(lambda i: explicit("lfill", i, eager_async=True), range(n)))
a_enqueued = time.perf_counter() - start
while queue()["done"] < before + n:
    time.sleep(0.02)
a_total = time.perf_counter() - start

got, done = [], threading.Event()
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        got.append(1)
        if len(got) >= n: done.set()
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
threading.Thread(target=srv.serve_forever, daemon=True).start()
hook = "http://127.0.0.1:%d/" % srv.server_address[1]
start = time.perf_counter()
with ThreadPoolExecutor(4) as pool:
    q_lat = list(pool.map(lambda i: explicit("limit", i, eager_async=True, eager_notification_url=hook), range(n)))
enqueued = time.perf_counter() - start
assert done.wait(600), "only %d of %d notifications" % (len(got), n)
queued = time.perf_counter() - start

def ms(lat): return "%.1f / %.1f" % (1000 * statistics.median(lat), 1000 * sorted(lat)[int(0.95 * len(lat)) - 1])
print("| eager renditions (%d, 1200x900 JPEG source) | seconds | renditions/s | vs inline, one client | call latency p50 / p95 ms |" % n)
print("|---|---|---|---|---|")
print("| inline in explicit, 1 client | %.1f | %.0f | 1.00x | %s |" % (seq, n / seq, ms(seq_lat)))
print("| inline in explicit, 4 clients | %.1f | %.0f | %.2fx | %s |" % (conc, n / conc, seq / conc, ms(conc_lat)))
print("| eager_async, 4 clients: queued and rendered | %.1f (calls done in %.1f) | %.0f | %.2fx | %s |" % (a_total, a_enqueued, n / a_total, seq / a_total, ms(a_lat)))
print("| eager_async, 4 clients: queued, rendered, notified | %.1f (calls done in %.1f) | %.0f | %.2fx | %s |" % (queued, enqueued, n / queued, seq / queued, ms(q_lat)))
PY
HWM=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
echo "Nubo peak RSS: $((HWM / 1024)) MiB"

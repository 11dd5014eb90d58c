#!/usr/bin/env bash
# Serving cached derived files over HTTP: Nubo against nginx serving the
# very same bytes from disk, measured with wrk on this machine.
#
# Two Nubo servers run side by side: the default (HTTP on the main
# multi-threaded runtime) and NUBO_HTTP_THREADS=2 (a single-threaded runtime
# per core). Each round runs wrk once against every server in turn, so a
# drift in the machine's speed hits all of them alike. Besides requests per
# second it prints each server's CPU time (user + system, from /proc) per
# request, which is steadier than throughput on a shared machine.
#
# Usage: bench/http.sh [seconds per run, default 10] [connections, default 32] [rounds, default 4]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
SECS=${1:-10}
CONNS=${2:-32}
ROUNDS=${3:-4}
command -v wrk >/dev/null || apt_install wrk
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || apt_install nginx-light
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
cargo build --release --locked -p nubo >&2
BIN="${CARGO_TARGET_DIR:-target}/release/nubo"

DIR=$(mktemp -d)
PORT=18080
SHARDED_PORT=18082
NGPORT=18081
KEY=1234567890
SECRET=abcdefghijklmnop
PIDS=()
cleanup() {
  kill "${PIDS[@]}" 2>/dev/null || true
  [ -f "$DIR/nginx.pid" ] && kill "$(cat "$DIR/nginx.pid")" 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT

URL_PATH=/demo/image/upload/c_fill,h_150,w_200/v1/bench.jpg
PHOTO=tests/fixtures/golden/coffee.jpg
# Starts a Nubo on $1 with HTTP_THREADS=$2, uploads a real photo (signed,
# as an SDK would) and renders one derived file, which is then cached.
start_nubo() {
  local port=$1 threads=$2 data="$DIR/data-$1"
  NUBO_DATA_DIR="$data" NUBO_LISTEN=127.0.0.1:$port NUBO_CLOUD_NAME=demo NUBO_API_KEY=$KEY \
    NUBO_API_SECRET=$SECRET NUBO_LOG=warn NUBO_HTTP_THREADS=$threads "$BIN" serve \
    >"$DIR/nubo-$port.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
  local ts sig
  ts=$(date +%s)
  sig=$(printf 'public_id=bench&timestamp=%s%s' "$ts" "$SECRET" | sha1sum | cut -d' ' -f1)
  curl -sf -F "file=@$PHOTO" -F public_id=bench -F timestamp="$ts" -F api_key=$KEY \
    -F signature="$sig" "http://127.0.0.1:$port/v1_1/demo/image/upload" >/dev/null
  curl -sf -o /dev/null "http://127.0.0.1:$port$URL_PATH"
}
start_nubo $PORT 0
NUBO_PID=${PIDS[0]}
start_nubo $SHARDED_PORT 2
SHARDED_PID=${PIDS[1]}
mkdir -p "$DIR/www"
curl -sf -o "$DIR/www/bench.jpg" "http://127.0.0.1:$PORT$URL_PATH"
BYTES=$(stat -c %s "$DIR/www/bench.jpg")

# keepalive_requests: nginx closes a connection after 1,000 requests by
# default; Nubo never does, so nginx gets the same courtesy.
cat >"$DIR/nginx.conf" <<CONF
worker_processes auto;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  sendfile on;
  tcp_nopush on;
  etag on;
  client_body_temp_path $DIR/ngx-body;
  proxy_temp_path $DIR/ngx-proxy;
  fastcgi_temp_path $DIR/ngx-fcgi;
  uwsgi_temp_path $DIR/ngx-uwsgi;
  scgi_temp_path $DIR/ngx-scgi;
  server {
    listen 127.0.0.1:$NGPORT;
    location / { root $DIR/www; add_header Cache-Control "public, max-age=31536000, immutable"; }
  }
}
CONF
"$NGINX" -c "$DIR/nginx.conf"
sleep 0.5
NGINX_PIDS=$(pgrep -f "nginx: worker process" -P "$(cat "$DIR/nginx.pid")" | tr '\n' ' ')

# CPU ticks (user + system) of the given processes, all threads included.
ticks() {
  local t=0 p
  for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$t"
}
# One wrk run: prints "requests/s requests cpu-ticks".
run() {
  local url=$1 before out after
  shift
  before=$(ticks "$@")
  out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" "$url")
  after=$(ticks "$@")
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '/requests in/ {print $1}' <<<"$out") $((after - before))"
}

echo "derived file: $BYTES bytes; wrk -t2 -c$CONNS -d${SECS}s; $ROUNDS rounds, servers in turn"
RESULTS="$DIR/results"
for round in $(seq 1 "$ROUNDS"); do
  # shellcheck disable=SC2086
  echo "nginx $(run "http://127.0.0.1:$NGPORT/bench.jpg" $NGINX_PIDS)" >>"$RESULTS"
  echo "nubo $(run "http://127.0.0.1:$PORT$URL_PATH" "$NUBO_PID")" >>"$RESULTS"
  echo "sharded $(run "http://127.0.0.1:$SHARDED_PORT$URL_PATH" "$SHARDED_PID")" >>"$RESULTS"
  echo "round $round done" >&2
done
python3 - "$RESULTS" "$(getconf CLK_TCK)" <<'PY'
import sys
from collections import defaultdict
rows, hz = defaultdict(list), int(sys.argv[2])
for line in open(sys.argv[1]):
    name, rps, n, ticks = line.split()
    rows[name].append((float(rps), int(n), int(ticks)))
def stats(name):
    runs = rows[name]
    mean = sum(r for r, _, _ in runs) / len(runs)
    cpu = sum(t for _, _, t in runs) / hz / sum(n for _, n, _ in runs) * 1e6
    return runs, mean, cpu
_, ng, ng_cpu = stats("nginx")
names = {
    "nubo": "nubo, default (cached derived file)",
    "sharded": "nubo, NUBO_HTTP_THREADS=2",
    "nginx": "nginx (same bytes from disk)",
}
print("| server | requests/s (runs) | mean | ratio to nginx | server CPU µs/request |")
print("|---|---|---|---|---|")
for key in ("nubo", "sharded", "nginx"):
    runs, mean, cpu = stats(key)
    listed = ", ".join(f"{r:.0f}" for r, _, _ in runs)
    print(f"| {names[key]} | {listed} | {mean:.0f} | {mean / ng:.2f} | {cpu:.1f} |")
PY

#!/usr/bin/env bash
# Serving cached derived files over HTTP: Nubo against nginx serving the
# very same bytes from disk, measured with wrk on this machine.
# Usage: bench/http.sh [seconds per run, default 15] [connections, default 32]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
SECS=${1:-15}
CONNS=${2:-32}
command -v wrk >/dev/null || apt_install wrk
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || apt_install nginx-light
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
cargo build --release --locked -p nubo >&2
BIN="${CARGO_TARGET_DIR:-target}/release/nubo"

DIR=$(mktemp -d)
PORT=18080
NGPORT=18081
KEY=1234567890
SECRET=abcdefghijklmnop
NUBO_DATA_DIR="$DIR/data" NUBO_LISTEN=127.0.0.1:$PORT NUBO_CLOUD_NAME=demo NUBO_API_KEY=$KEY \
  NUBO_API_SECRET=$SECRET NUBO_LOG=warn "$BIN" serve >"$DIR/nubo.log" 2>&1 &
NUBO_PID=$!
cleanup() {
  kill "$NUBO_PID" 2>/dev/null || true
  [ -f "$DIR/nginx.pid" ] && kill "$(cat "$DIR/nginx.pid")" 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done

# Upload a real photo (signed, as an SDK would) and render one derived file.
PHOTO=tests/fixtures/golden/coffee.jpg
TS=$(date +%s)
SIG=$(printf 'public_id=bench&timestamp=%s%s' "$TS" "$SECRET" | sha1sum | cut -d' ' -f1)
curl -sf -F "file=@$PHOTO" -F public_id=bench -F timestamp="$TS" -F api_key=$KEY -F signature="$SIG" \
  "http://127.0.0.1:$PORT/v1_1/demo/image/upload" >/dev/null
URL_PATH=/demo/image/upload/c_fill,h_150,w_200/v1/bench.jpg
mkdir -p "$DIR/www"
curl -sf -o "$DIR/www/bench.jpg" "http://127.0.0.1:$PORT$URL_PATH"
BYTES=$(stat -c %s "$DIR/www/bench.jpg")

cat >"$DIR/nginx.conf" <<CONF
worker_processes auto;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
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

rps() { wrk -t2 -c"$CONNS" -d"${SECS}s" "$1" | awk '/Requests\/sec/ {print $2}'; }
echo "derived file: $BYTES bytes; wrk -t2 -c$CONNS -d${SECS}s, alternating, twice each"
n1=$(rps "http://127.0.0.1:$PORT$URL_PATH"); g1=$(rps "http://127.0.0.1:$NGPORT/bench.jpg")
g2=$(rps "http://127.0.0.1:$NGPORT/bench.jpg"); n2=$(rps "http://127.0.0.1:$PORT$URL_PATH")
python3 - "$n1" "$n2" "$g1" "$g2" <<'PY'
import sys
n1, n2, g1, g2 = map(float, sys.argv[1:])
n, g = (n1 + n2) / 2, (g1 + g2) / 2
print("| server | requests/s (runs) | mean | ratio to nginx |")
print("|---|---|---|---|")
print(f"| nubo (cached derived file) | {n1:.0f}, {n2:.0f} | {n:.0f} | {n / g:.2f} |")
print(f"| nginx (same bytes from disk) | {g1:.0f}, {g2:.0f} | {g:.0f} | 1.00 |")
PY

#!/usr/bin/env bash
# Admin API query latency (listing by prefix, by tag, five search
# expressions) on a catalog of N assets, on SQLite and on PostgreSQL.
# Usage: bench/catalog.sh [assets, default 1000000]
# Env:   NUBO_BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
PG=${NUBO_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
cargo build --release --locked -p nubo-catalog --example catalog_bench >&2
BIN="${CARGO_TARGET_DIR:-target}/release/examples/catalog_bench"
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
echo "## SQLite ($N assets)"
"$BIN" "sqlite:$DIR/bench.db?mode=rwc" "$N"
echo
echo "## PostgreSQL ($N assets)"
"$BIN" "$PG" "$N"

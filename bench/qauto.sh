#!/usr/bin/env bash
# q_auto:good against libvips at quality 80 (JPEG, WebP, AVIF) on the corpus:
# bytes and SSIMULACRA2 per format, with the qualities Nubo chose.
#
# Usage: bench/qauto.sh [-v]     (-v also prints one line per image)
# Env:   SHARED_BENCH (default ../shared/bench)  BENCH_DIR (default /tmp/bench)
#        CORPUS_DIR (default /tmp/corpus)
set -euo pipefail
cd "$(dirname "$0")/.."
export SHARED_BENCH=${SHARED_BENCH:-$(cd ../shared/bench && pwd)}
export BENCH_DIR=${BENCH_DIR:-/tmp/bench}
export CORPUS_DIR=${CORPUS_DIR:-/tmp/corpus}

bash "$SHARED_BENCH/setup-tools.sh" >/dev/null
[ -d "$CORPUS_DIR" ] && [ "$(ls "$CORPUS_DIR" | wc -l)" -ge 35 ] || bash "$SHARED_BENCH/make-corpus.sh"
cargo build --release --locked -p nubo-engine --example engine_bench
export ENGINE_BENCH="${CARGO_TARGET_DIR:-target}/release/examples/engine_bench"
"$BENCH_DIR/venv/bin/python" bench/qauto.py "$@"

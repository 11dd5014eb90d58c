#!/usr/bin/env bash
# Nubo's engine against libvips on the anchor jobs of ../shared/bench/anchors.md:
#   A thumb  fit 300x300,   JPEG q80
#   B web    fit 1280x1280, WebP q80
#   C avif   fit 800x800,   AVIF (each tool's default quality and speed)
# and one of Nubo's own:
#   avif-in  job A on AVIF input (the corpus's upright JPEG photos through
#            libavif's avifenc, made once into BENCH_DIR)
# Every tool runs single-threaded, pinned to one CPU, interleaved in shuffled
# order, in the same run. Prints CPU and wall ratios, peak RSS, output bytes
# and SSIMULACRA2 against an independent (Pillow Lanczos) reference.
#
# Usage: bench/transform.sh [--reps N] [--jobs thumb,web,avif,avif-in]
# Env:   SHARED_BENCH (default ../shared/bench)  BENCH_DIR (default /tmp/bench)
#        CORPUS_DIR (default /tmp/corpus)  BENCH_CPU (default: the last CPU)
set -euo pipefail
cd "$(dirname "$0")/.."
export SHARED_BENCH=${SHARED_BENCH:-$(cd ../shared/bench && pwd)}
export BENCH_DIR=${BENCH_DIR:-/tmp/bench}
export CORPUS_DIR=${CORPUS_DIR:-/tmp/corpus}
export PYTHON=${PYTHON:-python3}
. scripts/lib.sh
command -v avifenc >/dev/null || apt_install libavif-bin

bash "$SHARED_BENCH/setup-tools.sh" >/dev/null
[ -d "$CORPUS_DIR" ] && [ "$(ls "$CORPUS_DIR" | wc -l)" -ge 35 ] || bash "$SHARED_BENCH/make-corpus.sh"
cargo build --release --locked -p nubo-engine --example engine_bench
export ENGINE_BENCH="${CARGO_TARGET_DIR:-target}/release/examples/engine_bench"
"$BENCH_DIR/venv/bin/python" bench/transform.py "$@"

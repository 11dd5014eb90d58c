#!/usr/bin/env bash
# Smart transformations measured:
#  1. the face detector's precision and recall on a public labelled set:
#     the PASCAL VOC photos with hand-labelled face boxes that dlib ships in
#     examples/faces (Debian's dlib source package, dlib_19.24+dfsg), plus
#     its dogs.jpg as a picture with no faces;
#  2. the cost of c_fill with g_auto and with g_face over a plain c_fill,
#     in ms per image on the benchmark corpus (one thread, in-process).
#
# Usage: bench/smart.sh
# Env:   BENCH_DIR (default /tmp/bench)  CORPUS_DIR (default /tmp/corpus)
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-/tmp/bench}
CORPUS_DIR=${CORPUS_DIR:-/tmp/corpus}
FACES="$BENCH_DIR/dlib-faces"
TARBALL=dlib_19.24+dfsg.orig.tar.bz2
SHA256=66b4263822a2ff91a3e769e501c7d7927a13089e178c1427ec19cb0475823cf6

mkdir -p "$BENCH_DIR"
if [ ! -f "$FACES/testing.xml" ]; then
  [ -f "$BENCH_DIR/$TARBALL" ] || curl -fsSL -o "$BENCH_DIR/$TARBALL" \
    "http://deb.debian.org/debian/pool/main/d/dlib/$TARBALL"
  echo "$SHA256  $BENCH_DIR/$TARBALL" | sha256sum -c --quiet
  mkdir -p "$FACES"
  tar -xjf "$BENCH_DIR/$TARBALL" -C "$FACES" --strip-components=3 dlib-19.24+dfsg/examples/faces
fi
[ -d "$CORPUS_DIR" ] && [ "$(ls "$CORPUS_DIR" | wc -l)" -ge 35 ] || bash ../shared/bench/make-corpus.sh

cargo build --release --locked -p nubo-engine --example smart_bench
BIN="${CARGO_TARGET_DIR:-target}/release/examples/smart_bench"
echo "== face detection (dlib examples/faces, PASCAL VOC 2011 labels)"
"$BIN" faces "$FACES" dogs.jpg 2>/dev/null
echo "== smart crop cost (corpus: $CORPUS_DIR)"
taskset -c "$(( $(nproc) - 1 ))" "$BIN" cost "$CORPUS_DIR"/* 2>/dev/null

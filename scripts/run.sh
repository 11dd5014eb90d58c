#!/usr/bin/env bash
# Runs Nubo on the embedded default: SQLite and the local disk under
# ./nubo-data, listening on 127.0.0.1:8080. Extra arguments go to `nubo serve`
# (e.g. --listen 0.0.0.0:8080 --public-url https://media.example.com).
# On a fresh Debian machine it installs the C toolchain the build needs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_build_tools
cargo build --release --locked --bin nubo
exec "${CARGO_TARGET_DIR:-target}/release/nubo" serve "$@"

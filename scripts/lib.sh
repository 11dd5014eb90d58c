# Helpers shared by scripts/run.sh and scripts/test.sh.

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

APT_UPDATED=0
apt_install() {
  if ! command -v apt-get >/dev/null; then
    log "missing $*, and this is not a Debian system: install it by hand"; return 1
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if [ "$APT_UPDATED" -eq 0 ]; then
    $sudo apt-get update -qq; APT_UPDATED=1
  fi
  log "installing $* (apt)"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

ensure_build_tools() {
  if ! command -v cargo >/dev/null; then
    log "cargo is missing: install Rust (https://rustup.rs), then run this again"; exit 1
  fi
  command -v cc >/dev/null || apt_install build-essential
  command -v pkg-config >/dev/null || apt_install pkg-config
  # rav1e (the AVIF encoder) and mozjpeg assemble their SIMD kernels with nasm.
  command -v nasm >/dev/null || apt_install nasm
}

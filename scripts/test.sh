#!/usr/bin/env bash
# The whole test suite: unit tests, in-process HTTP tests, the catalog
# conformance suite on SQLite and PostgreSQL, and black-box tests that drive
# the real binary with the official Cloudinary Python and Node SDKs.
#
# On a fresh Debian machine it installs what it needs: Python's venv module,
# Node.js and npm, PostgreSQL (started if down, with a `test` database), the
# SDKs (in .venv and tests/sdk/node/node_modules).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_build_tools

# --- Python venv with the official SDK -------------------------------------
command -v python3 >/dev/null || apt_install python3
python3 -m venv --help >/dev/null 2>&1 || apt_install python3-venv
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -m pip install -q --disable-pip-version-check -r tests/sdk/python/requirements.txt; then
  # A venv made by another Python (or a half-made one) is rebuilt once.
  rm -rf .venv && python3 -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check -r tests/sdk/python/requirements.txt
fi

# --- Node SDK ----------------------------------------------------------------
command -v node >/dev/null || apt_install nodejs
command -v npm >/dev/null || apt_install npm
(cd tests/sdk/node && npm ci --no-audit --no-fund --loglevel=error)

# --- PostgreSQL at 127.0.0.1:5432, trust auth, database `test` ----------------
export NUBO_TEST_DATABASE_URL="${NUBO_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ! pg_up; then
  command -v pg_ctlcluster >/dev/null || apt_install postgresql postgresql-client
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  log "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 60); do pg_up && break; sleep 0.5; done
  pg_up || { log "PostgreSQL did not start"; exit 1; }
fi
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
if ! psql "postgres://postgres@127.0.0.1:5432/postgres" -Atqc 'select 1' >/dev/null 2>&1; then
  # A fresh Debian install wants a password on TCP; tests use trust on loopback.
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  log "allowing trust auth for 127.0.0.1 in $hba"
  sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  as_postgres psql -qc 'select pg_reload_conf()' >/dev/null
  sleep 1
fi
if ! psql "$NUBO_TEST_DATABASE_URL" -Atqc 'select 1' >/dev/null 2>&1; then
  log "creating database test"
  psql "postgres://postgres@127.0.0.1:5432/postgres" -qc 'CREATE DATABASE test' >/dev/null
fi

# --- the tests -----------------------------------------------------------------
export NUBO_TEST_PYTHON="$PWD/.venv/bin/python"
log "cargo test"
cargo test --workspace --all-targets --locked

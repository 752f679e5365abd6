#!/usr/bin/env bash
# Installs what building (and, with --for-tests, testing) Lifeboat needs, skipping what is already
# there. Everything comes from the package registries (crates.io, npm, Debian); nothing is downloaded
# from anywhere else: cargo-leptos is built with `no_downloads`, wasm-opt comes from npm's binaryen.
set -euo pipefail
cd "$(dirname "$0")/.."

for_tests=false
[ "${1:-}" = "--for-tests" ] && for_tests=true

export PATH="$HOME/.cargo/bin:$PATH"
step() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

CARGO_LEPTOS_VERSION=0.3.10
# wasm-bindgen-cli must be exactly the version of the wasm-bindgen crate in Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  step "cargo install cargo-leptos $CARGO_LEPTOS_VERSION (no_downloads; ~17 min on 2 cores)"
  # LTO off: about as fast, and a third of the peak memory.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  step "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Without --locked: its lock file pins a crate version the registry mirror lacks.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if [ ! -x node_modules/.bin/wasm-opt ]; then
  step "npm ci (binaryen's wasm-opt)"
  npm ci --no-audit --no-fund
fi

if $for_tests; then
  if [ ! -d end2end/node_modules/@playwright/test ]; then
    step "npm ci in end2end/ (@playwright/test; no browser download)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
  # moto: a real S3-compatible server for the storage tests (PyPI), in a venv outside the clone.
  MOTO_VERSION=5.2.1
  moto_venv="$HOME/.cache/lifeboat-tools/moto"
  if ! "$moto_venv/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
    step "pip install moto[server]==$MOTO_VERSION (S3-compatible server for tests)"
    python3 -m venv "$moto_venv"
    "$moto_venv/bin/pip" install -q "moto[server]==$MOTO_VERSION"
  fi
  # schemathesis: schema-driven fuzzing of the REST API from its OpenAPI document (scripts/fuzz-api.sh).
  SCHEMATHESIS_VERSION=4.32.5
  st_venv="$HOME/.cache/lifeboat-tools/schemathesis"
  if ! "$st_venv/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    step "pip install schemathesis==$SCHEMATHESIS_VERSION (API fuzzing)"
    python3 -m venv "$st_venv"
    "$st_venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  # Debian packages: the browser of the end-to-end specs; the bench's peers (restic, zstd, sqlite3)
  # and load generator (wrk).
  missing=()
  for pkg in chromium:chromium restic:restic zstd:zstd sqlite3:sqlite3 wrk:wrk; do
    command -v "${pkg%%:*}" >/dev/null 2>&1 || missing+=("${pkg##*:}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    step "apt-get install ${missing[*]}"
    as_root apt-get update -q
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q "${missing[@]}"
  fi
fi

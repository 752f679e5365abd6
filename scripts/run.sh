#!/usr/bin/env bash
# The README's run command: installs what is missing, builds the release, and serves the dashboard
# on embedded SQLite and local managed storage (./lifeboat-data) with a demo organization.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lifeboat-target}"

scripts/setup.sh
cargo leptos build --release --split
export LEPTOS_SITE_ROOT="$PWD/target/site"
# Fewer glibc arenas: freed memory of the many I/O threads goes back (docs/configuration.md, Memory).
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
exec "$CARGO_TARGET_DIR/release/lifeboat" serve --demo "$@"

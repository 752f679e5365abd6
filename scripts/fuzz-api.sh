#!/usr/bin/env bash
# Schema-driven fuzzing of the REST API with schemathesis (PyPI): it reads /api/v1/openapi.json from
# the running release binary and generates requests for every operation — valid, invalid and
# stateful sequences (ids from one answer fed to the next request), most of them naming the
# objects that exist — then checks every answer: no 5xx, status codes, content types and bodies as
# the document says.
#
#   scripts/fuzz-api.sh [--max-time SECONDS]     (default 60; part of scripts/test.sh)
#
# Needs the release build and schemathesis in ~/.cache/lifeboat-tools/schemathesis (setup.sh
# --for-tests installs both).
set -euo pipefail
cd "$(dirname "$0")/.."

max_time=60
[ "${1:-}" = "--max-time" ] && max_time="$2"

target="${CARGO_TARGET_DIR:-$HOME/.cache/lifeboat-target}"
bin="$target/release/lifeboat"
st="$HOME/.cache/lifeboat-tools/schemathesis/bin/st"
[ -x "$bin" ] || { echo "no release build at $bin" >&2; exit 1; }
[ -x "$st" ] || { echo "schemathesis is missing: scripts/setup.sh --for-tests" >&2; exit 1; }

work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

export LIFEBOAT_DATA_DIR="$work/data" LIFEBOAT_LOG=warn
# The fuzzer is one very fast client: lift the API's rate limits for this server only (the limits
# themselves are tested in server/tests/http/api_contract.rs).
for limit in RESTORES_PER_USER CREATES_PER_ORG POLICY_UPDATES_PER_ORG READS_PER_ORG OTHER_WRITES_PER_ORG; do
  export "LIFEBOAT_API_LIMITS__$limit=1000000000"
done
email=fuzz@lifeboat.test
echo "fuzz-password-123" | "$bin" admin create --email "$email" --org Fuzz --password-stdin >/dev/null
# Real content, so that the stateful phase finds sites, apps, projects and spaces to work on.
"$bin" seed --org Fuzz --site Fuzzed --issues 20 --comments 10 --pages 5 --attachments 2 >/dev/null
token=$("$bin" token create --email "$email" 2>/dev/null)

"$bin" serve --listen 127.0.0.1:0 > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q "http://" "$work/server.log" 2>/dev/null && break; sleep 0.1; done
base=$(grep -o 'http://[0-9.:]*' "$work/server.log" | head -1)
[ -n "$base" ] || { cat "$work/server.log" >&2; exit 1; }

auth=$(printf '%s:%s' "$email" "$token" | base64 -w0)
# Dictionaries of the ids that exist (and one complete backup), so that most requests reach the
# code behind the 404s; see scripts/fuzz_api_values.py.
mkdir -p "$work/data/external-storage/fuzz"
python3 scripts/fuzz_api_values.py "$base" "Basic $auth" "$work/data/external-storage/fuzz" "$work/schemathesis.toml"
status=0
# One worker: with two, a run failed inside Python 3.11's `ast` module ("AST constructor recursion
# depth mismatch" while hypothesis described a filter's lambda; CPython issue 106905, seen with
# threads) — an error of the tool, not of the API. One worker generated as many cases.
"$st" --config-file "$work/schemathesis.toml" run "$base/api/v1/openapi.json" \
  -H "Authorization: Basic $auth" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-time "$max_time" --workers 1 --seed 1 --no-color || status=$?
if grep -q "panicked" "$work/server.log"; then
  echo "the server panicked:" >&2
  grep -A5 "panicked" "$work/server.log" >&2
  status=1
fi
exit "$status"

#!/usr/bin/env bash
# Web figures (issue 7): SSR latency of the Backups page with 1,000 backups in the database, JSON API
# requests/s, and the WASM bundle's size — measured with a real load generator (wrk) against the
# release binary. Prints a table and, with --json FILE, writes the figures.
#
#   scripts/bench-web.sh [--backups N] [--duration SECONDS] [--json FILE]
#
# Needs the release build (`cargo leptos build --release --split`) and wrk (Debian package; setup.sh
# --for-bench installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

backups=1000
duration=15
json_out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --backups) backups="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --json) json_out="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

target="${CARGO_TARGET_DIR:-$HOME/.cache/lifeboat-target}"
bin="$target/release/lifeboat"
site_root="$PWD/target/site"
[ -x "$bin" ] || { echo "no release build at $bin: run cargo leptos build --release --split" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

export LIFEBOAT_DATA_DIR="$work/data" LIFEBOAT_LOG=warn LEPTOS_SITE_ROOT="$site_root"
# The load generator is one client: lift the per-organization API limits for this run only.
export LIFEBOAT_API_LIMITS__READS_PER_ORG=1000000000 LIFEBOAT_API_LIMITS__OTHER_WRITES_PER_ORG=1000000000
export LIFEBOAT_BACKUP__JOBS__POLL=10ms
email=bench@lifeboat.test
password=bench-password-123
echo "$password" | "$bin" admin create --email "$email" --org Bench --password-stdin >/dev/null
"$bin" seed --org Bench --site Web --issues 50 --comments 50 --pages 10 --attachments 2 >/dev/null
token=$("$bin" token create --email "$email" --name bench | grep -o 'lbt_[0-9a-f]*')

"$bin" serve --listen 127.0.0.1:0 > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q "http://" "$work/server.log" 2>/dev/null && break; sleep 0.1; done
base=$(grep -o 'http://[0-9.:]*' "$work/server.log" | head -1)
[ -n "$base" ] || { cat "$work/server.log" >&2; exit 1; }

api() { curl -sf -u "$email:$token" -H 'content-type: application/json' "$@"; }
jq_py() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
org=$(api "$base/api/v1/orgs" | jq_py 'd["items"][0]["orgId"]')
cloud=$(api "$base/api/v1/orgs/$org/sites" | jq_py '[s for s in d["items"] if s["name"]=="Web"][0]["cloudId"]')
policy=$(api -X POST "$base/api/v1/orgs/$org/cloud/$cloud/policies" -d '{"product":"JIRA"}' | jq_py 'd["policyId"]')

echo "==> $backups real backups of a small Jira app (one after another: an app runs one at a time)"
started=$(date +%s.%N)
for i in $(seq "$backups"); do
  id=$(api -X POST "$base/api/v1/orgs/$org/backups" -d "{\"policyId\":\"$policy\"}" | jq_py 'd["backupId"]')
  while [ "$(api "$base/api/v1/orgs/$org/backups/$id" | jq_py 'd["status"]')" = IN_PROGRESS ]; do sleep 0.02; done
  [ $((i % 100)) = 0 ] && printf '  %d backups\n' "$i"
done
made_s=$(python3 -c "import time; print(round(time.time() - $started, 1))")
# How long one backup of this small app takes, from its own createdAt/completedAt.
backup_ms=$(api "$base/api/v1/orgs/$org/policies/$policy/backups?limit=500" | python3 -c "
import json, sys
from datetime import datetime
t = lambda s: datetime.fromisoformat(s.replace('Z', '+00:00'))
d = [(t(b['completedAt']) - t(b['createdAt'])).total_seconds() * 1000 for b in json.load(sys.stdin)['items'] if b['completedAt']]
d.sort(); print(round(d[len(d) // 2], 1))")

cookie=$(curl -s -o /dev/null -D - -X POST "$base/login" -H "origin: $base" \
  --data-urlencode "email=$email" --data-urlencode "password=$password" | grep -i '^set-cookie' | head -1 | sed 's/^[Ss]et-[Cc]ookie: //; s/;.*//')
page="$base/orgs/$org/backup-and-restore"
rows=$(curl -s -H "cookie: $cookie" "$page" | grep -o '<tr' | wc -l)

run_wrk() { # url, connections, extra header
  wrk -t2 -c"$2" -d"${duration}s" --latency -H "$3" "$1"
}
echo "==> SSR of the Backups page ($rows table rows), 8 connections, ${duration}s"
ssr=$(run_wrk "$page" 8 "cookie: $cookie")
echo "$ssr"
echo "==> JSON API: GET policies' backups (first page), 8 connections, ${duration}s"
auth="authorization: Basic $(printf '%s:%s' "$email" "$token" | base64 -w0)"
apiout=$(run_wrk "$base/api/v1/orgs/$org/policies/$policy/backups" 8 "$auth")
echo "$apiout"

python3 - "$json_out" "$backups" "$made_s" "$rows" "$site_root/pkg" "$backup_ms" <<PY
import gzip, json, os, re, sys
out, backups, made_s, rows, pkg, backup_ms = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5], float(sys.argv[6])
# WASM: the main bundle (every page loads it), and what a first load of the Backups tab fetches:
# the main bundle plus its lazy route's chunks (cargo leptos --split's manifest), each gzipped alone.
def sizes(name):
    data = open(os.path.join(pkg, name + ".wasm"), "rb").read()
    return len(data), len(gzip.compress(data, 9))
raw, gz = sizes("lifeboat")
manifest = json.load(open(os.path.join(pkg, "__wasm_split_manifest.json")))
backups_tab = next(v for k, v in manifest.items() if "backups_route_view" in k)
tab_gz = gz + sum(sizes(c)[1] for c in backups_tab)
all_files = [f[:-5] for f in os.listdir(pkg) if f.endswith(".wasm")]
all_gz = sum(sizes(f)[1] for f in all_files)
def ms(text, pct):
    m = re.search(r"^\s*%s%%\s+([\d.]+)(us|ms|s)\s*$" % pct, text, re.M)
    if not m: return None
    v, unit = float(m.group(1)), m.group(2)
    return round(v / 1000 if unit == "us" else v * 1000 if unit == "s" else v, 2)
def rps(text):
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    return float(m.group(1)) if m else None
ssr, api = """$ssr""", """$apiout"""
fig = {
    "backups_in_db": backups, "backups_created_s": made_s, "small_backup_median_ms": backup_ms, "backups_page_rows": rows,
    "ssr_backups_page": {"p50_ms": ms(ssr, 50), "p99_ms": ms(ssr, 99), "requests_per_s": rps(ssr)},
    "api_backups_list": {"p50_ms": ms(api, 50), "p99_ms": ms(api, 99), "requests_per_s": rps(api)},
    "wasm": {"raw_bytes": raw, "gzip_bytes": gz, "backups_tab_first_load_gzip_bytes": tab_gz,
             "backups_tab_first_load_files": 1 + len(backups_tab), "files": len(all_files), "all_files_gzip_bytes": all_gz},
}
print()
print(f"{'figure':40} {'value':>12}")
print(f"{'SSR Backups page p50 / p99 (ms)':40} {fig['ssr_backups_page']['p50_ms']!s:>5} / {fig['ssr_backups_page']['p99_ms']!s}")
print(f"{'SSR Backups page requests/s':40} {fig['ssr_backups_page']['requests_per_s']!s:>12}")
print(f"{'API backups list p50 / p99 (ms)':40} {fig['api_backups_list']['p50_ms']!s:>5} / {fig['api_backups_list']['p99_ms']!s}")
print(f"{'API backups list requests/s':40} {fig['api_backups_list']['requests_per_s']!s:>12}")
print(f"{'WASM main bundle raw / gzip (KiB)':40} {raw/1024:>5.0f} / {gz/1024:.0f}")
print(f"{'WASM first load of the Backups tab (KiB)':40} {tab_gz/1024:>12.0f} ({1 + len(backups_tab)} files, gzip)")
all_label = f"WASM all {len(all_files)} files, gzip (KiB)"
print(f"{all_label:40} {all_gz/1024:>12.0f}")
print(f"{'one small backup, median (ms)':40} {backup_ms:>12}")
if out:
    json.dump(fig, open(out, "w"), indent=2)
PY

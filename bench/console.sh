#!/usr/bin/env bash
# Benchmark the agent console's start: navigation → status shown and event stream connected,
# in headless Chromium (Debian's chromium, the browser tests' pinned playwright-core), against
# the running dev stack (SPEC §9: "it starts in a second, not twenty").
#
#   scripts/dev --detach && bench/console.sh
#
# RUNS (20) cold loads (a new browser context: nothing cached) each followed by a reload
# (warm: every file revalidated, 304). Rewrites the "console" section of docs/benchmarks.md
# (CB_BENCH_NO_DOC=1: print only). Environment: RUNS, CHROMIUM (/usr/bin/chromium).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

bench_need node curl python3
bench_env
[[ -x ${CHROMIUM:-/usr/bin/chromium} ]] || bench_die "no chromium: apt-get install chromium"
[[ -d $root/tests/browser/node_modules/playwright-core ]] ||
	(cd "$root/tests/browser" && npm ci --no-audit --no-fund >/dev/null) ||
	bench_die "npm ci in tests/browser failed"
export CALLBRIDGE_URL CALLBRIDGE_API_KEY
out=$(node "$root/bench/console_start.mjs")
rev=$(git -C "$root" rev-parse --short HEAD)
machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(chromium --version 2>/dev/null | head -1)"
section=$(
	python3 - "$out" "$rev" "$machine" <<-'PY'
		import json, sys
		r, rev, machine = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
		print("<!-- bench:console:begin -->")
		print("### Agent console start (`bench/console.sh`)\n")
		print(f"Commit {rev}; {machine}; headless, on loopback, the dev stack idle. Ready = the")
		print("agent's status shown and the event stream connected (sign-in cookie already set).\n")
		print("| load | runs | p50 | p95 | max |\n|---|---|---|---|---|")
		for k, name in (("cold_ms", "cold (nothing cached)"), ("warm_ms", "reload (304s)")):
		    v = r[k]
		    print(f"| {name} | {r['runs']} | {v['p50']} ms | {v['p95']} ms | {v['max']} ms |")
		print(f"\nBytes of /console/ files on a cold load: {r['console_bytes']:,} (no compression).")
		print("<!-- bench:console:end -->")
	PY
)
bench_write console "$section"

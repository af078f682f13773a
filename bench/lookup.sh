#!/usr/bin/env bash
# Benchmark the screen-pop lookup against the running dev stack (SPEC §8).
#
#   scripts/dev --detach && bench/lookup.sh
#
# 1. Cached: the dev stack's seeded numbers are looked up once (cache warm), then
#    wrk -t2 -c32 -d${DURATION}s --latency GETs /api/lookup for them round robin.
# 2. Miss path: ${MISSES} lookups of numbers never seen (sequential, curl), against the same
#    number of SOSL searches sent straight to the sandbox with a token of its own: the
#    difference is what callbridge adds on a miss (Redis GET + lock + SET, JSON, the E.164
#    check of every phone field).
# Rewrites the "lookup" section of docs/benchmarks.md (CB_BENCH_NO_DOC=1: print only).
#
# Environment: DURATION (20), CONNECTIONS (32), MISSES (300), CB_ENV_FILE (.dev/env).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
duration=${DURATION:-20}
connections=${CONNECTIONS:-32}
misses=${MISSES:-300}

bench_need wrk curl python3
bench_env
export CALLBRIDGE_API_KEY
url=${CALLBRIDGE_URL%/}
auth="Authorization: Bearer $CALLBRIDGE_API_KEY"

# Seeded numbers of the dev stack, as a softphone would send them.
numbers="%2B14155550123,%2B14155550199,%2B14155550142,%2B442079460018,%2B493090182042"
numbers="$numbers,%2B12125550175,%2B33123456789,%2B12125550199,%2B14155550100,%2B4930901820"
for n in ${numbers//,/ }; do
	curl -sf -o /dev/null -H "$auth" "$url/api/lookup?phone=$n" || bench_die "warm-up lookup $n failed"
done

pid=$(tr -dc '0-9' <"$bench_pid_file" 2>/dev/null || pgrep -n -f 'callbridge -c')
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status"; }
rss_idle=$(rss_kb)
cached=$(CB_BENCH_NUMBERS=$numbers wrk -t2 -c"$connections" -d"${duration}s" --latency \
	-s "$root/bench/lookup.lua" "$url" | grep '^RESULT') || bench_die "wrk failed"
rss_load=$(rss_kb)
hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$pid/status")

# Miss path: distinct unseen numbers through callbridge, then the bare sandbox search.
token=$(curl -sf -X POST -H 'Content-Type: application/json' \
	-d '{"username":"dev@callbridge.test"}' "$SANDBOX_URL/__sandbox/salesforce/session" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])') ||
	bench_die "the sandbox gave no session token"
base=$((RANDOM * 1000 % 9000000 + 1000000))
times() { # URL-prefix HEADER: one curl time_total (ms) per line
	local i
	for ((i = 0; i < misses; i++)); do
		curl -s -o /dev/null -w '%{time_total}\n' -H "$2" "$1$((base + i))"
	done | awk '{ printf "%.3f\n", $1 * 1000 }'
}
sosl="/services/data/v60.0/search?q=FIND%20%7B646"
cb_ms=$(times "$url/api/lookup?phone=%2B1646" "$auth")
sb_ms=$(times "$SANDBOX_URL$sosl" "Authorization: Bearer $token")
stats() { sort -n | awk '{ a[NR] = $1 } END { printf "%.2f %.2f %.2f", a[int(NR*0.5)], a[int(NR*0.95)], a[int(NR*0.99)] }'; }
read -r cb50 cb95 cb99 <<<"$(stats <<<"$cb_ms")"
read -r sb50 sb95 sb99 <<<"$(stats <<<"$sb_ms")"

eval "$(sed 's/^RESULT //; s/ /\n/g' <<<"$cached")"
section=$(
	cat <<-EOS
		<!-- bench:lookup:begin (written by bench/lookup.sh; edits inside are lost) -->
		## Screen-pop lookup (\`bench/lookup.sh\`)

		Target (SPEC §8): \`GET /api/lookup\` served from Redis >= 30,000 req/s, p99 <= 3 ms.

		- date: $(date -u '+%Y-%m-%d %H:%M UTC')
		- machine: $(nproc) cores, $(awk -F: '/model name/ { print $2; exit }' /proc/cpuinfo | sed 's/^ *//'); wrk, callbridge, Redis and the sandbox share the cores
		- commit: $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet || echo ' (dirty tree)')
		- command: \`DURATION=$duration bench/lookup.sh\` (wrk -t2 -c$connections -d${duration}s --latency -s bench/lookup.lua, 10 cached numbers round robin)

		| run | req/s | p50 ms | p90 ms | p99 ms | max ms | non-200 | socket errors |
		|---|---:|---:|---:|---:|---:|---:|---:|
		| GET /api/lookup, cached | $rps | $p50 | $p90 | $p99 | $max | $non200 | $errors |

		Miss path, $misses sequential lookups of numbers never seen (curl \`time_total\`, ms):

		| | p50 | p95 | p99 |
		|---|---:|---:|---:|
		| callbridge \`/api/lookup\` (Redis miss → SOSL search → cache) | $cb50 | $cb95 | $cb99 |
		| the sandbox's SOSL search alone | $sb50 | $sb95 | $sb99 |
		| added by callbridge (difference) | $(awk -v a="$cb50" -v b="$sb50" 'BEGIN{printf "%.2f", a-b}') | $(awk -v a="$cb95" -v b="$sb95" 'BEGIN{printf "%.2f", a-b}') | $(awk -v a="$cb99" -v b="$sb99" 'BEGIN{printf "%.2f", a-b}') |

		- callbridge RSS: before $((rss_idle / 1024)) MB, after the cached run $((rss_load / 1024)) MB, VmHWM $((hwm / 1024)) MB
		<!-- bench:lookup:end -->
	EOS
)
bench_write lookup "$section"

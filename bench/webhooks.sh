#!/usr/bin/env bash
# Benchmark Twilio status webhooks against the running dev stack (SPEC §8).
#
#   scripts/dev --detach && bench/webhooks.sh
#
# 1. Throughput: ${CALLS} calls are created in the dev database, and wrk -t2 -c128 POSTs their
#    signed initiated / ringing / in-progress status callbacks round robin for ${DURATION}s
#    (every request is checked: HMAC-SHA1 signature, form parse, one durable statement).
#    The first pass over the list records new events; later passes are Twilio's duplicates.
#    Each callback is answered only once its event is committed; commits are grouped (one
#    statement and one WAL flush per batch), so throughput grows with the number of
#    callbacks in flight — Twilio delivers them over many connections, hence 128.
# 2. Latency: ${LAT_CALLS} new calls get a signed "completed" callback, ${LAT_RATE}/s; each
#    queues crm.log_call, which upserts the Task in the sandbox's Salesforce. Reported:
#    job finished_at - the webhook's event time (PostgreSQL clock, both ends).
# Rewrites the "webhooks" section of docs/benchmarks.md (CB_BENCH_NO_DOC=1: print only).
#
# Environment: DURATION (20), CONNECTIONS (128), CALLS (60000), LAT_CALLS (300), LAT_RATE (50),
# CB_ENV_FILE (.dev/env).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
duration=${DURATION:-20}
connections=${CONNECTIONS:-128}
calls=${CALLS:-60000}
lat_calls=${LAT_CALLS:-300}
lat_rate=${LAT_RATE:-50}

bench_need wrk curl python3 psql
bench_env
export CALLBRIDGE_URL CALLBRIDGE_PUBLIC_URL TWILIO_AUTH_TOKEN TWILIO_ACCOUNT_SID PGHOST PGPORT \
	PGUSER PGDATABASE
url=${CALLBRIDGE_URL%/}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$root/bench/webhooks.py" requests "$calls" "$work/requests.tsv"

pid=$(tr -dc '0-9' <"$bench_pid_file" 2>/dev/null || pgrep -n -f 'callbridge -c')
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status"; }
rss_idle=$(rss_kb)
result=$(CB_BENCH_REQS=$work/requests.tsv wrk -t2 -c"$connections" -d"${duration}s" --latency \
	-s "$root/bench/webhooks.lua" "$url" |
	grep '^RESULT') || bench_die "wrk failed"
rss_load=$(rss_kb)
hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$pid/status")
lat=$(python3 "$root/bench/webhooks.py" latency "$lat_calls" "$lat_rate" | grep '^RESULT') ||
	bench_die "the latency run failed"

eval "$(sed 's/^RESULT //; s/ /\n/g' <<<"$result")"
eval "$(sed 's/^RESULT //; s/ /\n/g; s/\(p[0-9]*\|max\|n\)=/lat_\1=/g' <<<"$lat")"
section=$(
	cat <<-EOS
		<!-- bench:webhooks:begin (written by bench/webhooks.sh; edits inside are lost) -->
		## Twilio status webhooks (\`bench/webhooks.sh\`)

		Targets (SPEC §8): signed status webhook → 204 >= 15,000 req/s; "completed" webhook →
		CRM call log written (sandbox at 0 ms) p95 <= 50 ms.

		- date: $(date -u '+%Y-%m-%d %H:%M UTC')
		- machine: $(nproc) cores, $(awk -F: '/model name/ { print $2; exit }' /proc/cpuinfo | sed 's/^ *//'); wrk, callbridge, PostgreSQL, Redis and the sandbox share the cores
		- commit: $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet || echo ' (dirty tree)')
		- command: \`DURATION=$duration bench/webhooks.sh\` (wrk -t2 -c$connections -d${duration}s --latency; $calls calls × 3 signed callbacks round robin)

		| run | req/s | p50 ms | p90 ms | p99 ms | max ms | non-204 | socket errors |
		|---|---:|---:|---:|---:|---:|---:|---:|
		| POST /webhooks/twilio/status | $rps | $p50 | $p90 | $p99 | $max | $non204 | $errors |

		"completed" → Task upserted in the sandbox (crm.log_call finished), $lat_n calls at $lat_rate/s:

		| p50 ms | p95 ms | p99 ms | max ms | calls synced |
		|---:|---:|---:|---:|---:|
		| $lat_p50 | $lat_p95 | $lat_p99 | $lat_max | $synced |

		- callbridge RSS: before $((rss_idle / 1024)) MB, after the throughput run $((rss_load / 1024)) MB, VmHWM $((hwm / 1024)) MB
		<!-- bench:webhooks:end -->
	EOS
)
bench_write webhooks "$section"

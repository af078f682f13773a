#!/usr/bin/env bash
# Salesforce API requests per call (SPEC §8: <= 1 in staged write mode, less with batching)
# against the running dev stack.
#
#   scripts/dev --detach && bench/sf_requests.sh
#
# For each rate in ${RATES} (default "1 10 300" calls/s) bench/sf_requests.py places calls at
# that rate for ${SECONDS_PER_RATE} seconds (default 10; at least 10 calls) through POST
# /api/call/initiate — each answered, recorded, transcribed and analysed by the sandbox, to 50
# numbers in turn (lookups of a number seen before come from the Redis cache) — waits until
# every CRM job of those calls is done or dead, and divides the sandbox's Salesforce request
# counters (GET /__sandbox/state, OAuth token requests left out) by the number of calls. The
# stack's [crm] batch_delay_ms and [workers] batch shape the batches (scripts/dev takes
# CB_DEV_CRM_BATCH_DELAY_MS). Rewrites the "sf_requests" section of docs/benchmarks.md
# (CB_BENCH_NO_DOC=1: print only).
#
# CRM=hubspot counts the sandbox's HubSpot requests instead (a stack started with
# `scripts/dev --crm hubspot`; OAuth token requests left out) into the "hs_requests" section;
# HS_MAX_PER_10S raises the sandbox's 10-second HubSpot limit (190) for the run.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
rates=${RATES:-1 10 300}
seconds=${SECONDS_PER_RATE:-10}
export CRM=${CRM:-salesforce}
crm_env="" section_name=sf_requests title="Salesforce API requests per call" vendor=Salesforce
target="Target (SPEC §8): <= 1 request per call in staged write mode, less with batching."
if [[ $CRM == hubspot ]]; then
	crm_env="CRM=hubspot HS_MAX_PER_10S=${HS_MAX_PER_10S:-} " section_name=hs_requests title="HubSpot API requests per call" vendor=HubSpot
	target="HubSpot counts every request against the app's 10-second and daily limits."
fi

bench_need curl python3 psql
bench_env
export CALLBRIDGE_URL CALLBRIDGE_API_KEY SANDBOX_URL PGHOST PGPORT PGUSER PGDATABASE
delay=$(awk -F' *= *' '/^batch_delay_ms/ { print $2 }' "$CALLBRIDGE_CONFIG")
batch=$(awk -F' *= *' '/^batch *=/ { print $2 }' "$CALLBRIDGE_CONFIG")

rows=""
for rate in $rates; do
	calls=$(python3 -c "print(max(10, int($rate * $seconds)))")
	row=$(python3 "$root/bench/sf_requests.py" "$calls" "$rate") || bench_die "the run at $rate/s failed"
	rows+="$row"$'\n'
done

section=$(
	cat <<-EOS
		<!-- bench:$section_name:begin (written by bench/sf_requests.sh; edits inside are lost) -->
		## $title (\`${crm_env}bench/sf_requests.sh\`)

		$target

		- date: $(date -u '+%Y-%m-%d %H:%M UTC')
		- machine: $(nproc) cores, $(awk -F: '/model name/ { print $2; exit }' /proc/cpuinfo | sed 's/^ *//'); callbridge, PostgreSQL, Redis and the sandbox share the cores
		- commit: $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet || echo ' (dirty tree)')
		- command: \`${crm_env}RATES="$rates" SECONDS_PER_RATE=$seconds bench/sf_requests.sh\`; [crm] batch_delay_ms = ${delay:-25 (default)}, [workers] batch = ${batch:-16 (default)}
		- every call answered, recorded, transcribed (a seeded sales transcript whose analysis makes two follow-up tasks) and written back in staged mode; a warm-up call first, not counted

		| calls/s | calls | $vendor requests | per call | by endpoint | dead jobs |
		|---:|---:|---:|---:|---|---:|
		$rows
		<!-- bench:$section_name:end -->
	EOS
)
bench_write "$section_name" "$section"

#!/usr/bin/env bash
# Benchmark the sandbox alone (SPEC §7: it must never be the bottleneck of a benchmark).
#
#   bench/sandbox.sh                     CALLS="1000 10000" CLIENTS=8 by default
#   TALK="1000:64 1000:512" bench/sandbox.sh   then 2000 calls each talking 1000 ms, played by
#                                              64 and by 512 senders (--twilio-senders)
#   CB_SANDBOX_BIN=/other/callbridge-sandbox bench/sandbox.sh     (another build, for A/B)
#
# No dev stack needed: bench/sandbox.py starts its own sandbox and a trivial webhook sink, places
# CALLS calls on the sandbox's Calls.json from CLIENTS threads (every status event, TwiML fetch,
# recording callback; answered at once) with two Task upserts by External ID per call, waits
# until every webhook was delivered and prints one row per run: calls/s and webhooks/s from the
# first placement to the last webhook, the mean upsert latency of the first and last tenth of
# the calls, /__sandbox/summary, full /__sandbox/state and one page of 1000 Tasks answer times at
# the end, and the
# sandbox's CPU per call. The client is Python: calls/s is bounded by it, CPU per call is the
# sandbox's own cost. Rewrites the "sandbox" section of docs/benchmarks.md (CB_BENCH_NO_DOC=1:
# print only).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
calls=${CALLS:-1000 10000}
clients=${CLIENTS:-8}

bench_need python3
bin=${CB_SANDBOX_BIN:-}
if [[ -z $bin ]]; then
	for b in "$root"/build/dev "$root"/build/test-normal "$root"/build; do
		if [[ -x $b/callbridge-sandbox ]]; then
			bin=$b/callbridge-sandbox
			break
		fi
	done
fi
[[ -n $bin && -x $bin ]] || bench_die "no callbridge-sandbox built (scripts/dev builds build/dev)"

rows=""
for n in $calls; do
	row=$(python3 "$root/bench/sandbox.py" "$bin" "$n" "$clients") || bench_die "the run of $n calls failed"
	rows+="$row"$'\n'
done
for t in ${TALK:-}; do
	row=$(python3 "$root/bench/sandbox.py" "$bin" 2000 "$clients" "${t%%:*}" "${t##*:}") ||
		bench_die "the run with talk:senders $t failed"
	rows+="$row"$'\n'
done
section=$(
	cat <<-EOS
		<!-- bench:sandbox:begin (written by bench/sandbox.sh; edits inside are lost) -->
		## The sandbox alone (\`bench/sandbox.sh\`)

		SPEC §7: the sandbox must never be the bottleneck of a benchmark. Calls placed straight on
		its Calls.json (every status event, TwiML fetch, recording callback; every webhook to a
		trivial sink), two Task upserts by External ID per call; "talk ms / senders": the calls'
		talk time and \`--twilio-senders\`. calls/s and webhooks/s run from the first placement to
		the last webhook; the client is Python (8 threads), so at 0 ms talk they are the client's
		pace and the sandbox's own cost is its CPU per call.

		- date: $(date -u '+%Y-%m-%d %H:%M UTC')
		- machine: $(nproc) cores, $(awk -F: '/model name/ { print $2; exit }' /proc/cpuinfo | sed 's/^ *//'); the client, the sink and the sandbox share the cores
		- commit: $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet || echo ' (dirty tree)'), sandbox ${bin#"$root"/}
		- command: \`CALLS="$calls" CLIENTS=$clients TALK="${TALK:-}" bench/sandbox.sh\`

		| calls | clients | talk ms / senders | placing (s) | calls/s | webhooks/s | upsert ms first / last tenth | summary ms | full state ms | page of 1000 ms | sandbox CPU ms/call |
		|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
		${rows%$'\n'}
		<!-- bench:sandbox:end -->
	EOS
)
bench_write sandbox "$section"

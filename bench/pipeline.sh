#!/usr/bin/env bash
# Benchmark the transcription pipeline against the running dev stack (SPEC §8: recording
# webhook → transcript + tags in the CRM, p95 <= 100 ms beyond the STT time).
#
#   scripts/dev --detach && bench/pipeline.sh
#
# For each STT latency in ${STT_LATENCIES_MS} (default "0 1000") the sandbox's OpenAI-compatible
# engine is set to answer after that long (POST /__sandbox/stt), then ${CALLS} calls are placed
# through the sandbox's Twilio, ${RATE}/s, each recorded (the sandbox's 4 s tone, with a sales
# transcript seeded for it). Every stage comes from PostgreSQL's timestamps: stored (recording callback →
# blob sealed), transcribed (stored → transcript, engine included), analysed, crm_written
# (analysed → Task updated and follow-ups created in the sandbox's Salesforce), total, and
# total minus the engine's own time (stt_ms). Then the analysis throughput (cb-nlp-bench) and,
# when the offline engine was built, bench/stt_offline.sh's figures are referenced.
# Rewrites the "pipeline" section of docs/benchmarks.md (CB_BENCH_NO_DOC=1: print only).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
latencies=${STT_LATENCIES_MS:-0 1000}
calls=${CALLS:-100}
rate=${RATE:-5}

bench_need curl python3 psql
bench_env
export CALLBRIDGE_URL CALLBRIDGE_API_KEY SANDBOX_URL PGHOST PGPORT PGUSER PGDATABASE
grep -q '^engine = openai' "$CALLBRIDGE_CONFIG" || bench_die "the dev stack must run [stt] engine = openai"

rows=""
for ms in $latencies; do
	row=$(python3 "$root/bench/pipeline.py" "$calls" "$rate" "$ms") || bench_die "the run at $ms ms failed"
	rows+="$row"$'\n'
done
nlp="cb-nlp-bench not built (cmake -DCB_TESTS=ON)"
for b in "$root"/build/dev "$root"/build/test-normal "$root"/build; do
	if [[ -x $b/tests/cb-nlp-bench ]]; then
		nlp=$("$b/tests/cb-nlp-bench" 2>/dev/null | tail -1)
		break
	fi
done

section=$(
	cat <<-EOS
		<!-- bench:pipeline:begin (written by bench/pipeline.sh; edits inside are lost) -->
		## Transcription pipeline (\`bench/pipeline.sh\`)

		Target (SPEC §8): recording webhook → transcript + tags in the CRM, p95 <= 100 ms beyond
		the STT time.

		- date: $(date -u '+%Y-%m-%d %H:%M UTC')
		- machine: $(nproc) cores, $(awk -F: '/model name/ { print $2; exit }' /proc/cpuinfo | sed 's/^ *//'); callbridge, PostgreSQL, Redis and the sandbox share the cores
		- commit: $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet || echo ' (dirty tree)')
		- command: \`CALLS=$calls RATE=$rate STT_LATENCIES_MS="$latencies" bench/pipeline.sh\`
		- per stage, ms, p50 / p95 over $calls calls; "ours" = total minus the engine's time

		| sandbox STT | stored | transcribed | analysed | crm_written | total | ours (total − STT) | CPU ms/call callbridge / sandbox |
		|---|---:|---:|---:|---:|---:|---:|---:|
		$rows
		Analysis throughput (\`cb-nlp-bench\`, a 10,000-word transcript): $nlp
		<!-- bench:pipeline:end -->
	EOS
)
bench_write pipeline "$section"

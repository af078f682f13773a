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
doc="$root/docs/benchmarks.md"
env_file=${CB_ENV_FILE:-$root/.dev/env}
latencies=${STT_LATENCIES_MS:-0 1000}
calls=${CALLS:-100}
rate=${RATE:-5}

die() {
	echo "bench/pipeline.sh: $*" >&2
	exit 1
}

for tool in curl python3 psql; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
[[ -f $env_file ]] || die "no $env_file: start the dev stack first with 'scripts/dev --detach'"
# shellcheck source=/dev/null
. "$env_file"
export CALLBRIDGE_URL CALLBRIDGE_API_KEY SANDBOX_URL PGHOST PGPORT PGUSER PGDATABASE
[[ $(curl -s -o /dev/null -w '%{http_code}' "$CALLBRIDGE_URL/readyz") == 200 ]] ||
	die "$CALLBRIDGE_URL/readyz is not 200"
grep -q '^engine = openai' "$CALLBRIDGE_CONFIG" || die "the dev stack must run [stt] engine = openai"

rows=""
for ms in $latencies; do
	row=$(python3 "$root/bench/pipeline.py" "$calls" "$rate" "$ms") || die "the run at $ms ms failed"
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

		| sandbox STT | stored | transcribed | analysed | crm_written | total | ours (total − STT) |
		|---|---:|---:|---:|---:|---:|---:|
		$rows
		Analysis throughput (\`cb-nlp-bench\`, a 10,000-word transcript): $nlp
		<!-- bench:pipeline:end -->
	EOS
)
echo "$section"
[[ ${CB_BENCH_NO_DOC:-0} == 1 ]] && exit 0
python3 - "$doc" "$section" <<-'PY'
	import re, sys
	path, section = sys.argv[1], sys.argv[2]
	text = open(path).read()
	pat = re.compile(r"<!-- bench:pipeline:begin.*?<!-- bench:pipeline:end -->", re.S)
	text = pat.sub(lambda m: section, text) if pat.search(text) else text.rstrip() + "\n\n" + section + "\n"
	open(path, "w").write(text)
PY

#!/usr/bin/env bash
# Benchmark durable POST /api/call/initiate against the running dev stack (SPEC §8).
#
#   scripts/dev --detach && bench/initiate.sh
#
# One run = a GET /healthz baseline and the initiate load, both with
#   wrk -t2 -c32 -d${DURATION}s --latency
# Counts the rows in `calls` before and after to show that every 202 was committed,
# samples the daemon's RSS, and rewrites the "initiate" section of docs/benchmarks.md.
#
# Environment: DURATION (seconds, default 20), THREADS (2), CONNECTIONS (32),
# CB_ENV_FILE (default .dev/env), CALLBRIDGE_PID (else found from .dev/ or pgrep),
# CB_BENCH_NO_DOC=1 to print the result without touching docs/benchmarks.md.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lua="$root/bench/initiate.lua"
doc="$root/docs/benchmarks.md"
env_file=${CB_ENV_FILE:-$root/.dev/env}
duration=${DURATION:-20}
threads=${THREADS:-2}
connections=${CONNECTIONS:-32}

die() {
        echo "bench/initiate.sh: $*" >&2
        exit 1
}

# --- preconditions ------------------------------------------------------------------
for tool in wrk psql; do
        command -v "$tool" >/dev/null || die "$tool not found (apt-get install wrk postgresql-client)"
done
[[ -f $lua ]] || die "missing $lua"
[[ -f $env_file ]] || die "no $env_file: start the dev stack first with 'scripts/dev --detach'"
# shellcheck source=/dev/null
. "$env_file"
for var in CALLBRIDGE_URL CALLBRIDGE_API_KEY DATABASE_URL; do
        [[ -n ${!var:-} ]] || die "$var is not set by $env_file"
done
export CALLBRIDGE_API_KEY
[[ $duration =~ ^[0-9]+$ && $duration -gt 0 ]] || die "DURATION must be a positive integer"
url=${CALLBRIDGE_URL%/}

if command -v curl >/dev/null; then
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/healthz" || true)
        [[ $code == 200 ]] || die "$url/healthz answered '$code', is the dev stack running?"
fi

count_calls() {
        psql "$DATABASE_URL" -X -A -t -v ON_ERROR_STOP=1 -c 'SELECT count(*) FROM calls' ||
                die "cannot count rows in calls via DATABASE_URL"
}

find_pid() {
        local f p
        if [[ -n ${CALLBRIDGE_PID:-} ]]; then
                echo "$CALLBRIDGE_PID"
                return
        fi
        for f in "$root/.dev/run/callbridge.pid" "$root/.dev/callbridge.pid"; do
                if [[ -r $f ]]; then
                        p=$(tr -dc '0-9' <"$f")
                        if [[ -n $p && -r /proc/$p/status ]]; then
                                echo "$p"
                                return
                        fi
                fi
        done
        pgrep -n -f 'callbridge -c' || true
}

# "VmRSS" or "VmHWM" of a process in kB, or empty.
mem_kb() {
        awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || true
}

kb_to_mb() {
        if [[ -n $1 ]]; then awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; else echo "n/a"; fi
}

# Background sampler: writes the highest VmRSS seen (kB) to $1 every 200 ms.
sample_rss() {
        local out=$1 peak=0 cur
        while kill -0 "$pid" 2>/dev/null; do
                cur=$(mem_kb "$pid" VmRSS)
                if [[ -n $cur ]] && ((cur > peak)); then
                        peak=$cur
                        echo "$peak" >"$out"
                fi
                sleep 0.2
        done
}

tmp=$(mktemp -d)
sampler=""
cleanup() {
        if [[ -n $sampler ]]; then
                kill "$sampler" 2>/dev/null || true
                wait "$sampler" 2>/dev/null || true
        fi
        rm -rf "$tmp"
}
trap cleanup EXIT

# run_wrk MODE OUTFILE: one wrk run; its full output goes to OUTFILE and stdout.
run_wrk() {
        CB_BENCH_MODE=$1 wrk -t"$threads" -c"$connections" -d"${duration}s" --latency \
                -s "$lua" "$url" | tee "$2"
        grep -q '^cb-bench ' "$2" || die "wrk printed no results (see above)"
}

# get FILE KEY: a "cb-bench key=value" figure.
get() {
        sed -n "s/^cb-bench $2=//p" "$1" | tail -n 1
}

ms() {
        awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'
}

# --- run ----------------------------------------------------------------------------
pid=$(find_pid)
if [[ -z $pid || ! -r /proc/$pid/status ]]; then
        echo "bench/initiate.sh: warning: callbridge process not found, RSS not measured" \
                "(set CALLBRIDGE_PID)" >&2
        pid=""
fi
rss_idle=""
if [[ -n $pid ]]; then
        rss_idle=$(mem_kb "$pid" VmRSS)
        sample_rss "$tmp/rss_peak" &
        sampler=$!
fi

cmd_base="wrk -t$threads -c$connections -d${duration}s --latency -s bench/initiate.lua"
echo "== baseline: GET /healthz ($cmd_base $url, CB_BENCH_MODE=healthz)"
run_wrk healthz "$tmp/healthz.out"

rows_before=$(count_calls)
echo "== durable initiate: POST /api/call/initiate ($cmd_base $url)"
run_wrk initiate "$tmp/initiate.out"
rows_after=$(count_calls)

rss_peak=""
rss_hwm=""
if [[ -n $pid ]]; then
        kill "$sampler" 2>/dev/null || true
        wait "$sampler" 2>/dev/null || true
        sampler=""
        rss_peak=$(cat "$tmp/rss_peak" 2>/dev/null || true)
        rss_hwm=$(mem_kb "$pid" VmHWM)
fi

# --- results ------------------------------------------------------------------------
h=$tmp/healthz.out
i=$tmp/initiate.out
accepted=$(get "$i" ok)
not_ok=$(get "$i" not_ok)
sock_err=$(get "$i" socket_errors)
rows=$((rows_after - rows_before))
# wrk stops mid-flight: up to one request per connection may be committed without its
# 202 being counted, so rows may exceed the 202s by at most $connections.
if ((rows >= accepted)); then
        lost=0
        durable="yes: $rows rows for $accepted responses 202 (extra $((rows - accepted)), <= $connections in flight at the stop)"
else
        lost=$((accepted - rows))
        durable="NO: $lost responses 202 without a row"
fi
if ((rows - accepted > connections)); then
        durable="$durable; WARNING: more extra rows than connections, was something else writing calls?"
fi

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "no commit")
if [[ -n $(git -C "$root" status --porcelain 2>/dev/null | head -n 1) ]]; then
        commit="$commit (dirty tree)"
fi
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
date_utc=$(date -u '+%Y-%m-%d %H:%M UTC')

section=$tmp/section.md
{
        echo "<!-- bench:initiate:begin (written by bench/initiate.sh; edits inside are lost) -->"
        echo "## Durable call initiation (\`bench/initiate.sh\`)"
        echo
        echo "Target (SPEC §8): durable \`POST /api/call/initiate\` >= 8,000 req/s with p99 <= 10 ms at"
        echo "32 connections; RSS <= 100 MB under load."
        echo
        echo "- date: $date_utc"
        echo "- machine: $(nproc) cores, ${cpu:-unknown CPU}, $mem RAM; wrk on loopback, sharing the cores"
        echo "- commit: $commit"
        echo "- command: \`DURATION=$duration bench/initiate.sh\`, which runs"
        echo "  \`CB_BENCH_MODE=healthz $cmd_base \$CALLBRIDGE_URL\` then"
        echo "  \`$cmd_base \$CALLBRIDGE_URL\` (POST \`{\"to\":\"+1415555XXXX\"}\`, 10,000 numbers)"
        echo
        echo "| run | req/s | p50 ms | p90 ms | p99 ms | max ms | non-expected status | socket errors |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|"
        for f in "$h" "$i"; do
                if [[ $f == "$h" ]]; then name="GET /healthz (baseline, expect 200)"; else name="POST /api/call/initiate (expect 202)"; fi
                echo "| $name | $(get "$f" rps) | $(ms "$(get "$f" lat_p50_us)") | $(ms "$(get "$f" lat_p90_us)") |" \
                        "$(ms "$(get "$f" lat_p99_us)") | $(ms "$(get "$f" lat_max_us)") | $(get "$f" not_ok) | $(get "$f" socket_errors) |"
        done
        echo
        echo "- initiate errors: $not_ok responses other than 202, $sock_err socket errors" \
                "(connect/read/write/timeout); statuses \`$(get "$i" statuses)\`"
        echo "- rows in \`calls\`: $rows_before before, $rows_after after, $rows inserted"
        echo "- durable: $durable"
        echo "- callbridge RSS: idle $(kb_to_mb "$rss_idle"), peak sampled during both runs" \
                "$(kb_to_mb "$rss_peak"), VmHWM (peak since start) $(kb_to_mb "$rss_hwm")"
        echo "<!-- bench:initiate:end -->"
} >"$section"

echo
cat "$section"

if [[ ${CB_BENCH_NO_DOC:-0} != 1 ]]; then
        mkdir -p "$(dirname "$doc")"
        # shellcheck disable=SC2016 # the backquotes are Markdown
        [[ -f $doc ]] || printf '# Benchmarks\n\nWritten by the scripts in `bench/`; see each section for its command.\n' >"$doc"
        # Replace the old section in place, or append one.
        awk -v sec="$section" '
                /^<!-- bench:initiate:begin/ { while ((getline l < sec) > 0) print l; skip = 1; done = 1; next }
                skip && /^<!-- bench:initiate:end -->/ { skip = 0; next }
                !skip { print }
                END { if (!done) { print ""; while ((getline l < sec) > 0) print l } }
        ' "$doc" >"$tmp/doc.md"
        cat "$tmp/doc.md" >"$doc"
        echo "bench/initiate.sh: wrote $doc"
fi

# Exit non-zero when an accepted call was not durable, so CI can use the script as a check.
if ((lost > 0)); then
        echo "bench/initiate.sh: $lost accepted calls have no row" >&2
        exit 1
fi

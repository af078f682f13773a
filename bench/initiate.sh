#!/usr/bin/env bash
# Benchmark durable POST /api/call/initiate against the running dev stack (SPEC §8), next to
# an Express echo of the same request in the same run (issue 17: "the paper's stack").
#
#   scripts/dev --detach && bench/initiate.sh
#
# One run = a GET /healthz baseline, the Express echo (bench/express/, installed with
# `npm ci`, run with NODE_ENV=production as a cluster of one process per core, as Express's
# production guide recommends; it parses and validates the same body and answers 202, with
# no durable work), then callbridge's durable initiate; all three with
#   wrk -t2 -c32 -d${DURATION}s --latency
# Express runs before callbridge so that it does not share the cores with the pipeline that
# callbridge's accepted calls start (placing them, webhooks, recordings, CRM writes): that
# work is callbridge's cost and is charged to it alone.
# Counts the rows in `calls` before and after to show that every 202 was committed,
# samples the daemon's RSS, and rewrites the "initiate" section of docs/benchmarks.md.
#
# Environment: DURATION (seconds, default 20), THREADS (2), CONNECTIONS (32),
# CB_ENV_FILE (default .dev/env), CALLBRIDGE_PID (else found from .dev/ or pgrep),
# EXPRESS_PORT (58399), EXPRESS_WORKERS (cores), CB_BENCH_NO_EXPRESS=1 to skip Express,
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
for tool in wrk psql curl; do
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

code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/healthz" || true)
[[ $code == 200 ]] || die "$url/healthz answered '$code', is the dev stack running?"
express=$((1 - ${CB_BENCH_NO_EXPRESS:-0}))
express_port=${EXPRESS_PORT:-58399}
express_workers=${EXPRESS_WORKERS:-$(nproc)}
if ((express)); then
        for tool in node npm; do
                command -v "$tool" >/dev/null || die "$tool not found (apt-get install nodejs npm), or CB_BENCH_NO_EXPRESS=1"
        done
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
        for f in "$(dirname "$env_file")/run/callbridge.pid" "$root/.dev/run/callbridge.pid"; do
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
express_pid=""
cleanup() {
        if [[ -n $express_pid ]]; then
                kill "$express_pid" 2>/dev/null || true
                wait "$express_pid" 2>/dev/null || true
        fi
        if [[ -n $sampler ]]; then
                kill "$sampler" 2>/dev/null || true
                wait "$sampler" 2>/dev/null || true
        fi
        rm -rf "$tmp"
}
trap cleanup EXIT

# run_wrk MODE OUTFILE [URL]: one wrk run; its full output goes to OUTFILE and stdout.
run_wrk() {
        CB_BENCH_MODE=$1 wrk -t"$threads" -c"$connections" -d"${duration}s" --latency \
                -s "$lua" "${3:-$url}" | tee "$2"
        grep -q '^cb-bench ' "$2" || die "wrk printed no results (see above)"
}

# Start the Express echo (bench/express/) on $express_port; sets express_pid.
start_express() {
        local dir=$root/bench/express i
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >"$tmp/npm.log" 2>&1) ||
                die "npm ci in bench/express failed: $(tail -n 5 "$tmp/npm.log")"
        (cd "$dir" && NODE_ENV=production PORT=$express_port EXPRESS_WORKERS=$express_workers \
                exec node server.js) >"$tmp/express.log" 2>&1 &
        express_pid=$!
        for i in $(seq 50); do
                [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$express_port/healthz") == 200 ]] &&
                        return 0
                sleep 0.1
        done
        die "the Express echo did not answer on port $express_port: $(cat "$tmp/express.log")"
}

# Total VmRSS in kB of the Express echo's processes (the cluster primary and its workers).
express_rss_kb() {
        local total=0 p k
        for p in $express_pid $(pgrep -P "$express_pid" || true); do
                k=$(mem_kb "$p" VmRSS)
                total=$((total + ${k:-0}))
        done
        echo "$total"
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

express_rss=""
if ((express)); then
        start_express
        echo "== Express echo: POST /api/call/initiate ($cmd_base http://127.0.0.1:$express_port," \
                "NODE_ENV=production, $express_workers processes)"
        run_wrk initiate "$tmp/express.out" "http://127.0.0.1:$express_port"
        express_rss=$(express_rss_kb)
        kill "$express_pid" 2>/dev/null || true
        wait "$express_pid" 2>/dev/null || true
        express_pid=""
fi

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
e=$tmp/express.out
ratio="n/a (CB_BENCH_NO_EXPRESS=1)"
if ((express)); then
        ratio=$(awk -v c="$(get "$i" rps)" -v x="$(get "$e" rps)" 'BEGIN { printf "%.2f×", c / x }')
fi
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
        echo "Target (SPEC §8, issue 17): durable \`POST /api/call/initiate\` >= 1× an Express echo of the"
        echo "same request measured in the same run, p99 <= 10 ms at 32 connections, with the pipeline"
        echo "running behind it (every accepted call is placed through the sandbox's Twilio, its webhooks,"
        echo "recording, transcript and CRM writes, on the same cores); RSS <= 30 MB idle, <= 100 MB under"
        echo "load. (SPEC §8's absolute bar: 8,000 req/s.)"
        echo
        echo "- date: $date_utc"
        echo "- machine: $(nproc) cores, ${cpu:-unknown CPU}, $mem RAM; wrk on loopback, sharing the cores"
        echo "- commit: $commit"
        echo "- command: \`DURATION=$duration bench/initiate.sh\`, which runs"
        echo "  \`CB_BENCH_MODE=healthz $cmd_base \$CALLBRIDGE_URL\`, then the same POST load against"
        echo "  the Express echo (\`bench/express/\`: Express $(node -p 'require(process.argv[1]).version' "$root/bench/express/node_modules/express/package.json" 2>/dev/null || echo '?'),"
        echo "  Node $(node --version 2>/dev/null || echo '?'), NODE_ENV=production, $express_workers processes (cluster), as its production guide"
        echo "  recommends; no durable work), then \`$cmd_base \$CALLBRIDGE_URL\`"
        echo "  (POST \`{\"to\":\"+1415555XXXX\"}\`, 10,000 numbers, bearer API key)"
        echo
        echo "| run | req/s | p50 ms | p90 ms | p99 ms | max ms | non-expected status | socket errors |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|"
        for f in "$h" "$e" "$i"; do
                [[ -f $f ]] || continue
                case $f in
                "$h") name="callbridge GET /healthz (baseline, expect 200)" ;;
                "$e") name="Express echo POST /api/call/initiate (no durable work)" ;;
                *) name="**callbridge durable POST /api/call/initiate** (expect 202)" ;;
                esac
                echo "| $name | $(get "$f" rps) | $(ms "$(get "$f" lat_p50_us)") | $(ms "$(get "$f" lat_p90_us)") |" \
                        "$(ms "$(get "$f" lat_p99_us)") | $(ms "$(get "$f" lat_max_us)") | $(get "$f" not_ok) | $(get "$f" socket_errors) |"
        done
        echo
        echo "- **callbridge / Express: $ratio** (req/s, same run, same wrk)"
        echo "- initiate errors: $not_ok responses other than 202, $sock_err socket errors" \
                "(connect/read/write/timeout); statuses \`$(get "$i" statuses)\`"
        echo "- rows in \`calls\`: $rows_before before, $rows_after after, $rows inserted"
        echo "- durable: $durable"
        echo "- callbridge RSS: idle $(kb_to_mb "$rss_idle"), peak sampled during both runs" \
                "$(kb_to_mb "$rss_peak"), VmHWM (peak since start) $(kb_to_mb "$rss_hwm")"
        if ((express)); then
                echo "- Express echo RSS after its run (all $express_workers processes + primary): $(kb_to_mb "$express_rss")"
        fi
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

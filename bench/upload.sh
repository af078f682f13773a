#!/usr/bin/env bash
# Benchmark recording upload and playback against the running dev stack (SPEC §8: upload with
# encryption >= 200 MB/s, memory flat in file size).
#
#   scripts/dev --detach && bench/upload.sh            (scripts/dev --storage s3: the S3 path)
#
# For each size in ${SIZES_MB} (default "64 512 1024") a WAV of that many MiB (header + random
# PCM) is POSTed to /api/call/record (curl --data-binary from a file in /dev/shm, so the disk
# under the client is not the bottleneck), then GET back from /api/calls/{id}/recording/{rid}
# to /dev/null. Reported: MB/s each way (curl's speed figures), the daemon's VmHWM before and
# after every step, and the sha256 the daemon returned checked against the file's.
# Rewrites the "upload" section of docs/benchmarks.md (CB_BENCH_NO_DOC=1: print only).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
sizes=${SIZES_MB:-64 512 1024}

bench_need curl python3 sha256sum
bench_env
url=${CALLBRIDGE_URL%/}
auth="Authorization: Bearer $CALLBRIDGE_API_KEY"
backend=$(awk -F' = ' '/^backend/ { print $2; exit }' "$CALLBRIDGE_CONFIG")

pid=$(tr -dc '0-9' <"$root/.dev/run/callbridge.pid" 2>/dev/null || pgrep -n -f 'callbridge -c')
hwm() { awk '$1 == "VmHWM:" { print int($2 / 1024) }' "/proc/$pid/status"; }
work=$(mktemp -d /dev/shm/cb-upload.XXXXXX)
trap 'rm -rf "$work"' EXIT

rows=""
for mb in $sizes; do
	python3 - "$work/audio.wav" "$mb" <<-'PY'
		import os, struct, sys
		path, mb = sys.argv[1], int(sys.argv[2])
		size = mb << 20
		with open(path, "wb") as f:
		    f.write(b"RIFF" + struct.pack("<I", (36 + size) & 0xffffffff) + b"WAVEfmt " +
		            struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16) + b"data" +
		            struct.pack("<I", size & 0xffffffff))
		    block = os.urandom(1 << 20)
		    for _ in range(mb):
		        f.write(block)
	PY
	want=$(sha256sum "$work/audio.wav" | cut -d' ' -f1)
	call=$(curl -sf -X POST -H "$auth" -H 'Content-Type: application/json' -d '{"to":"+14155550123"}' \
		"$url/api/call/initiate" | python3 -c 'import json,sys; print(json.load(sys.stdin)["call_id"])')
	before=$(hwm)
	out=$(curl -sf -X POST -H "$auth" -H 'Content-Type: audio/wav' -H 'Expect:' \
		-T "$work/audio.wav" -w '\n%{speed_upload} %{time_total}' \
		"$url/api/call/record?call_id=$call") || bench_die "upload of $mb MiB failed"
	up_speed=$(tail -1 <<<"$out" | awk '{ printf "%.0f", $1 / 1e6 }')
	read -r rid sha < <(head -1 <<<"$out" | python3 -c 'import json,sys; b=json.load(sys.stdin); print(b["recording_id"], b["sha256"])')
	[[ $sha == "$want" ]] || bench_die "sha256 mismatch for $mb MiB"
	after_up=$(hwm)
	down_speed=$(curl -sf -H "$auth" -o /dev/null -w '%{speed_download}' \
		"$url/api/calls/$call/recording/$rid" | awk '{ printf "%.0f", $1 / 1e6 }')
	after_down=$(hwm)
	rows+="| $mb MiB | $up_speed | $down_speed | $before | $after_up | $after_down |"$'\n'
	rm -f "$work/audio.wav"
done

section=$(
	cat <<-EOS
		<!-- bench:upload:begin (written by bench/upload.sh; edits inside are lost) -->
		## Recording upload and playback (\`bench/upload.sh\`)

		Target (SPEC §8): recording upload with encryption >= 200 MB/s, memory flat in file size.

		- date: $(date -u '+%Y-%m-%d %H:%M UTC')
		- machine: $(nproc) cores, $(awk -F: '/model name/ { print $2; exit }' /proc/cpuinfo | sed 's/^ *//'); curl, callbridge and the storage share the cores
		- commit: $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet || echo ' (dirty tree)')
		- command: \`SIZES_MB="$sizes" bench/upload.sh\`, storage backend \`$backend\`
		- path: client file in /dev/shm → POST /api/call/record (sniff, SHA-256, AES-256-GCM
		  sealing in 64 KiB chunks, storage write, fsync + rename for \`local\`) → 201; then
		  GET /api/calls/{id}/recording/{rid} (storage read, open + authenticate every chunk) → /dev/null

		| size | upload+seal MB/s | decrypt+serve MB/s | VmHWM before MB | after upload MB | after playback MB |
		|---|---:|---:|---:|---:|---:|
		$rows
		<!-- bench:upload:end -->
	EOS
)
bench_write upload "$section"

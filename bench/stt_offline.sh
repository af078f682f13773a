#!/usr/bin/env bash
# Accuracy and speed of the offline speech engine (PocketSphinx en-us) on synthetic sales calls.
#
#   cmake --build build/dev && bench/stt_offline.sh
#
# Speaks every sentence of bench/stt_offline_corpus.txt with espeak-ng (22,050 Hz WAV), makes
# a copy with line noise and a telephone copy (8 kHz mu-law, what Twilio records) with sox,
# then runs cb-stt-offline-probe (the engine's real code: libsndfile, libsamplerate,
# PocketSphinx) over each set without and with the keyword pass (phrases:
# bench/stt_offline_keywords.txt). Takes ~6 minutes on 2 cores.
# Reports word error rate (word-level Levenshtein over lower-cased words without punctuation,
# summed over the corpus / reference words), real-time factor (decode time / audio time, the
# decoder already loaded; one thread) and keyword recall/precision (a keyword counts as
# found when its phrase is in the transcript, or spotted, for the sentence that says it).
# Rewrites the "stt-offline" section of docs/benchmarks.md (CB_BENCH_NO_DOC=1: print only).
#
# Environment: CB_STT_OFFLINE_PROBE (the probe; default build/dev/tests/cb-stt-offline-probe),
# VOICE (espeak-ng voice, en-us), SPEED (words per minute, 150), KEEP=1 keeps the audio.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
doc="$root/docs/benchmarks.md"
probe=${CB_STT_OFFLINE_PROBE:-$root/build/dev/tests/cb-stt-offline-probe}
voice=${VOICE:-en-us}
speed=${SPEED:-150}
corpus=$root/bench/stt_offline_corpus.txt
keywords=$root/bench/stt_offline_keywords.txt

die() {
	echo "bench/stt_offline.sh: $*" >&2
	exit 1
}

for tool in espeak-ng sox python3; do
	command -v "$tool" >/dev/null || die "$tool not found (apt install espeak-ng sox python3)"
done
[[ -x $probe ]] || die "no $probe: build it (cmake --build build/dev)"
rc=0
"$probe" /dev/null >/dev/null 2>&1 || rc=$?
[[ $rc != 77 ]] || die "this build has no PocketSphinx (apt install libpocketsphinx-dev pocketsphinx-en-us, rebuild)"

work=$(mktemp -d)
if [[ ${KEEP:-0} == 1 ]]; then
	echo "audio kept in $work" >&2
else
	trap 'rm -rf "$work"' EXIT
fi

# ---- the corpus as audio ------------------------------------------------------------------
# clean: espeak-ng's output as it is (digital silence between words, no noise at all);
# noisy: white noise at -49 dBFS RMS added (speech is ~-21 dBFS RMS: ~28 dB SNR), a line;
# phone: the noisy audio as 8 kHz mu-law WAV, what a Twilio recording is.
n=0
clean=()
noisy=()
phone=()
while IFS= read -r line; do
	[[ -z $line || $line == \#* ]] && continue
	n=$((n + 1))
	id=$(printf 's%03d' "$n")
	printf '%s\t%s\n' "$id" "$line" >>"$work/refs.tsv"
	espeak-ng -v "$voice" -s "$speed" -w "$work/$id.wav" "$line"
	sox -q "$work/$id.wav" -p synth whitenoise vol 0.006 |
		sox -q -m -v 1 "$work/$id.wav" -v 1 - "$work/$id-noisy.wav"
	sox -q "$work/$id-noisy.wav" -r 8000 -e mu-law "$work/$id-phone.wav"
	clean+=("$work/$id.wav")
	noisy+=("$work/$id-noisy.wav")
	phone+=("$work/$id-phone.wav")
done <"$corpus"
((n >= 50)) || die "the corpus has $n sentences; at least 50 are wanted"
echo "corpus: $n sentences, voice $voice at $speed wpm" >&2

# The first file of each run loads the decoder; it is decoded once more, untimed, up front.
# Runs are sequential, so the real-time factors are of one busy core.
run() { # NAME PROBE_ARGS... FILES...
	local out=$work/$1.jsonl
	shift
	echo "run: $(basename "$out" .jsonl)" >&2
	"$probe" "$@" 2>"$out.log" | tail -n +2 >"$out" || die "the probe failed; see $out.log"
}
run clean-text -n "${clean[0]}" "${clean[@]}"
run clean-kws -K "$keywords" "${clean[0]}" "${clean[@]}"
run noisy-text -n "${noisy[0]}" "${noisy[@]}"
run noisy-kws -K "$keywords" "${noisy[0]}" "${noisy[@]}"
run phone-text -n "${phone[0]}" "${phone[@]}"
run phone-kws -K "$keywords" "${phone[0]}" "${phone[@]}"

# ---- scoring ---------------------------------------------------------------------------------
figures=$(python3 - "$work" "$keywords" <<-'PY'
	import json, re, sys
	work, kwfile = sys.argv[1], sys.argv[2]
	refs = dict(l.rstrip("\n").split("\t", 1) for l in open(work + "/refs.tsv"))
	kws = [l.strip().lower() for l in open(kwfile) if l.strip() and not l.startswith("#")]

	def words(s):
	    return re.sub(r"[^a-z0-9' ]+", " ", s.lower()).split()

	def edits(a, b):
	    prev = list(range(len(b) + 1))
	    for i, x in enumerate(a, 1):
	        cur = [i]
	        for j, y in enumerate(b, 1):
	            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
	        prev = cur
	    return prev[-1]

	def has(text_words, phrase):
	    return re.search(r"(^| )%s( |$)" % re.escape(phrase), " ".join(text_words)) is not None

	def score(path):
	    errs = ref_words = 0
	    dec = audio = 0.0
	    tp_text = tp_any = truth = spotted_all = spotted_ok = 0
	    for line in open(path):
	        o = json.loads(line)
	        r = o["result"]
	        sid = o["file"].split("/")[-1][:4]
	        ref, hyp = words(refs[sid]), words(r["text"])
	        errs += edits(ref, hyp)
	        ref_words += len(ref)
	        dec += o["decode_s"]
	        audio += r["duration_s"]
	        spotted = {k["word"] for k in r.get("keywords_spotted", [])}
	        for k in spotted:
	            spotted_all += 1
	            spotted_ok += has(ref, k)
	        for k in kws:
	            if has(ref, k):
	                truth += 1
	                tp_text += has(hyp, k)
	                tp_any += has(hyp, k) or k in spotted
	    return dict(wer=100.0 * errs / ref_words, rtf=dec / audio, audio=audio, dec=dec,
	                truth=truth, rec_text=100.0 * tp_text / truth, rec_any=100.0 * tp_any / truth,
	                spotted=spotted_all,
	                prec=(100.0 * spotted_ok / spotted_all) if spotted_all else float("nan"))

	for name in ("clean-text", "clean-kws", "noisy-text", "noisy-kws", "phone-text", "phone-kws"):
	    s = score("%s/%s.jsonl" % (work, name))
	    key = name.replace("-", "_")
	    for k, v in s.items():
	        print("%s_%s=%s" % (key, k, ("%.2f" % v) if isinstance(v, float) else v))
	PY
)
eval "$figures"

skipped=$(grep -o 'keyword \\"[^\\]*\\" skipped' "$work/clean-kws.jsonl.log" | sort -u |
	sed 's/keyword \\"\(.*\)\\" skipped/\1/' | paste -sd, - | sed 's/,/, /g')
section=$(
	cat <<-EOS
		<!-- bench:stt-offline:begin (written by bench/stt_offline.sh; edits inside are lost) -->
		## Offline speech-to-text (\`bench/stt_offline.sh\`)

		PocketSphinx 5prealpha (Debian 12) with the \`pocketsphinx-en-us\` model, through the
		engine's own code (cb-stt-offline-probe: libsndfile, libsamplerate, VAD utterances). The
		audio is synthetic: $n sales sentences ($(printf '%.0f' "$clean_text_audio") s) spoken by
		espeak-ng (voice \`$voice\`, $speed wpm, 22,050 Hz); the same with white noise added at
		-49 dBFS RMS (~28 dB SNR); and that as 8 kHz mu-law WAV, the telephone band Twilio records.
		Formant-synthesised speech is far from a caller on a phone line: read these figures as
		the engine's behaviour, not as a promise of accuracy on real calls.

		- date: $(date -u '+%Y-%m-%d %H:%M UTC')
		- machine: $(nproc) cores, $(awk -F: '/model name/ { print $2; exit }' /proc/cpuinfo | sed 's/^ *//'); one decoding thread
		- commit: $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet || echo ' (dirty tree)')
		- command: \`bench/stt_offline.sh\` (VOICE=$voice SPEED=$speed)

		| audio | keyword pass | WER % | real-time factor | keyword recall: transcript % | keyword recall: transcript or spotted % | spotting precision % (detections) |
		|---|---|---:|---:|---:|---:|---:|
		| clean 22 kHz | no | $clean_text_wer | $clean_text_rtf | $clean_text_rec_text | — | — |
		| clean 22 kHz | yes | $clean_kws_wer | $clean_kws_rtf | $clean_kws_rec_text | $clean_kws_rec_any | $clean_kws_prec ($clean_kws_spotted) |
		| 22 kHz + noise at -49 dBFS | no | $noisy_text_wer | $noisy_text_rtf | $noisy_text_rec_text | — | — |
		| 22 kHz + noise at -49 dBFS | yes | $noisy_kws_wer | $noisy_kws_rtf | $noisy_kws_rec_text | $noisy_kws_rec_any | $noisy_kws_prec ($noisy_kws_spotted) |
		| same, 8 kHz mu-law (phone) | no | $phone_text_wer | $phone_text_rtf | $phone_text_rec_text | — | — |
		| same, 8 kHz mu-law (phone) | yes | $phone_kws_wer | $phone_kws_rtf | $phone_kws_rec_text | $phone_kws_rec_any | $phone_kws_prec ($phone_kws_spotted) |

		- WER: word-level edit distance summed over the corpus / $(wc -w < <(grep -v '^#' "$corpus")) reference words; the keyword pass does not change the transcript.
		- real-time factor: decode seconds / audio seconds, decoder loaded (loading takes ~0.4 s once per worker thread).
		- keywords: $clean_kws_truth occurrences of $(grep -vc '^#' "$keywords") phrases in the corpus; skipped as not in the dictionary: ${skipped:-none}.
		<!-- bench:stt-offline:end -->
	EOS
)
echo "$section"
[[ ${CB_BENCH_NO_DOC:-0} == 1 ]] && exit 0
python3 - "$doc" "$section" <<-'PY'
	import re, sys
	path, section = sys.argv[1], sys.argv[2]
	text = open(path).read()
	pat = re.compile(r"<!-- bench:stt-offline:begin.*?<!-- bench:stt-offline:end -->", re.S)
	text = pat.sub(lambda m: section, text) if pat.search(text) else text.rstrip() + "\n\n" + section + "\n"
	open(path, "w").write(text)
PY

# What the benchmark scripts share; sourced by bench/*.sh after setting `root`.
#   bench_die MSG             print "bench/<script>: MSG" and exit 1
#   bench_need TOOL...        exit unless every tool is on PATH
#   bench_env                 source the dev stack's .dev/env (CB_ENV_FILE; $CB_DEV_DIR/env for a
#                             private stack) and check /readyz; sets bench_pid_file
#   bench_write NAME SECTION  print SECTION and put it into docs/benchmarks.md between the
#                             <!-- bench:NAME:begin --> and <!-- bench:NAME:end --> markers
#                             (appended when missing; CB_BENCH_NO_DOC=1 only prints)
# shellcheck shell=bash

bench_die() {
	echo "bench/$(basename "$0"): $*" >&2
	exit 1
}

bench_need() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null || bench_die "$tool not found"
	done
}

bench_env() {
	local dev=${CB_DEV_DIR:-$root/.dev}
	local env_file=${CB_ENV_FILE:-$dev/env}
	bench_pid_file=$dev/run/callbridge.pid
	[[ -f $env_file ]] || bench_die "no $env_file: start the dev stack first with 'scripts/dev --detach'"
	# shellcheck source=/dev/null
	. "$env_file"
	[[ $(curl -s -o /dev/null -w '%{http_code}' "${CALLBRIDGE_URL%/}/readyz") == 200 ]] ||
		bench_die "${CALLBRIDGE_URL%/}/readyz is not 200"
}

bench_write() {
	echo "$2"
	[[ ${CB_BENCH_NO_DOC:-0} == 1 ]] && return 0
	python3 - "$root/docs/benchmarks.md" "$1" "$2" <<-'PY'
		import re, sys
		path, name, section = sys.argv[1:4]
		text = open(path).read()
		pat = re.compile(r"<!-- bench:%s:begin.*?<!-- bench:%s:end -->" % (re.escape(name), re.escape(name)), re.S)
		text = pat.sub(lambda m: section, text) if pat.search(text) else text.rstrip() + "\n\n" + section + "\n"
		open(path, "w").write(text)
	PY
}

#!/usr/bin/env bash
# Compare benchmark figures of this tree with another commit's, on the same machine, in one go.
#
#   bench/compare.sh REV [BENCH...]        e.g. bench/compare.sh afe1ab9 webhooks initiate
#
# REV is checked out into a worktree (.dev-compare/<rev>, git-ignored), built
# there by its own scripts/dev. Then, for each ROUND (default 2) and each BENCH (default:
# webhooks initiate lookup pipeline), both trees run it in turn, this one first, each on a
# fresh dev stack (scripts/dev clean, then --detach): one run's calls, jobs and spent
# Salesforce allowance never slow the next. Benchmarks print only (CB_BENCH_NO_DOC=1); their
# tables go to .dev-compare/results/<bench>.<tree>.<round>.txt and a summary of the table
# rows is printed at the end. The dev stacks use CB_DEV_PORT (default here 58090) and the
# usual other ports: stop your own dev stack first.
#
# Environment: ROUNDS (2), DURATION (20, passed to the benchmarks), CB_DEV_PORT (58090).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

[[ $# -ge 1 ]] || bench_die "usage: bench/compare.sh REV [BENCH...]"
rev=$(git -C "$root" rev-parse --short "$1") || bench_die "$1 is not a commit"
shift
benches=("$@")
((${#benches[@]})) || benches=(webhooks initiate lookup pipeline)
for b in "${benches[@]}"; do
	[[ -x $root/bench/$b.sh ]] || bench_die "no bench/$b.sh"
done
rounds=${ROUNDS:-2}
export CB_DEV_PORT=${CB_DEV_PORT:-58090} CB_BENCH_NO_DOC=1 DURATION=${DURATION:-20}

work=$root/.dev-compare
other=$work/$rev
results=$work/results
mkdir -p "$results"
if [[ ! -d $other ]]; then
	git -C "$root" worktree add --detach "$other" "$rev" >/dev/null ||
		bench_die "cannot check $rev out into $other"
fi

# One benchmark on a fresh dev stack of `tree`; its output into `out`.
run_one() {
	local tree=$1 bench=$2 out=$3
	(
		cd "$tree"
		scripts/dev stop >/dev/null 2>&1 || true
		scripts/dev clean >/dev/null 2>&1 || true
		scripts/dev --detach >"$out.dev.log" 2>&1 ||
			{ tail -n 20 "$out.dev.log" >&2; exit 1; }
		rc=0
		timeout 1800 "bench/$bench.sh" >"$out" 2>&1 || rc=$?
		scripts/dev stop >/dev/null 2>&1 || true
		scripts/dev clean >/dev/null 2>&1 || true
		exit "$rc"
	) || bench_die "$bench failed in $tree (see $out)"
}

for ((r = 1; r <= rounds; r++)); do
	for b in "${benches[@]}"; do
		echo "round $r: $b (this tree, then $rev)" >&2
		run_one "$root" "$b" "$results/$b.head.$r.txt"
		run_one "$other" "$b" "$results/$b.$rev.$r.txt"
	done
done

echo "# bench/compare.sh $rev ${benches[*]} — $(date -u '+%Y-%m-%d %H:%M UTC'), this tree at $(git -C "$root" rev-parse --short HEAD)"
for b in "${benches[@]}"; do
	echo
	echo "## $b"
	for ((r = 1; r <= rounds; r++)); do
		for tree in head "$rev"; do
			# The tables' data rows (not their header or separator lines).
			grep -E '^\| ' "$results/$b.$tree.$r.txt" | grep -vE '^\|[- |:]+\|$|^\| (run|sandbox STT|) ' |
				sed "s/^/$tree round $r: /" || true
		done
	done
done

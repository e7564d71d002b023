#!/bin/sh
# run.sh STK_BINARY [SIZES...] -- planner benchmark: `stk plan -refresh=false`
# on generated configurations of SIZES resources (default 10000 100000), once
# against an empty state (everything to create) and once against a state that
# matches the configuration exactly (nothing to do).  Each plan runs RUNS times
# (default 3) per size; the best wall time and the peak RSS of that run are
# reported.  See README.md.
set -eu

bench_name=plan
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
	echo "$0: python3 is needed to generate the inputs: install the Debian package 'python3'" >&2
	exit 1
fi

# plan STATE: the command timed, with the state file STATE; -detailed-exitcode
# makes "changes" (2) and "no changes" (0) checkable.
plan() {
	STK_STATE=$1; export STK_STATE
	ok=0
	best "$label" "$want" "$stk" plan -refresh=false -detailed-exitcode "$dir" || ok=$?
	unset STK_STATE
	return "$ok"
}

: >"$tmp/results"
failed=0
for n in "$@"; do
	dir=$tmp/n$n
	note "generating $n resources and a matching state ..."
	python3 "$here/gen.py" "$n" "$dir"
	cb=$(wc -c <"$dir/main.stk" | tr -d ' ')
	sb=$(wc -c <"$dir/match.state" | tr -d ' ')
	if ! "$stk" validate "$dir" >/dev/null 2>"$tmp/err"; then
		note "stk validate failed on the generated configuration:"
		sed 's/^/  /; 10q' "$tmp/err" >&2
		exit 1
	fi

	# empty state: no file at all (a new state); every resource is a create
	note "timing stk plan on $n resources, empty state ..."
	label="plan, empty state" want=2
	if plan "$dir/none.state"; then
		es=$best_s ek=$best_kib
	else
		es=- ek=- failed=1
	fi
	note "timing stk plan on $n resources, matching state ($sb bytes) ..."
	label="plan, matching state (should say No changes.)" want=0
	if plan "$dir/match.state"; then
		ms=$best_s mk=$best_kib
	else
		ms=- mk=- failed=1
	fi
	echo "$n $cb $sb $es $ek $ms $mk" >>"$tmp/results"
	rm -rf "$dir"
done

echo
awk -v runs="$runs" -v clock="$clock" '
function mb(bytes) { return sprintf("%.1f", bytes / 1e6) }
function mib(kib) { return kib == "-" ? "-" : sprintf("%.1f", kib / 1024) }
function sec(s) { return s == "-" ? "-" : sprintf("%.3f", s) }
function per10k(s, n) { return s == "-" ? "-" : sprintf("%.4f", s * 10000 / n) }
BEGIN {
	fmt = "%-10s %9s %9s %9s %12s %9s %12s\n"
	printf "plan: stk plan -refresh=false (best of %d)\n", runs
	printf fmt, "resources", "config MB", "state MB", "empty s", "empty RSS MB", "match s", "match RSS MB"
}
{
	n[NR] = $1; es[NR] = $4; ms[NR] = $6
	printf fmt, $1, mb($2), mb($3), sec($4), mib($5), sec($6), mib($7)
}
END {
	print ""
	print "linearity: seconds per 10k resources (constant = linear)"
	for (i = 1; i <= NR; i++)
		printf "  %-10s empty %8s   match %8s\n", n[i], per10k(es[i], n[i]), per10k(ms[i], n[i])
	if (clock != "ns")
		print "note: wall times from GNU time %e (10 ms resolution)"
}' "$tmp/results"
exit "$failed"

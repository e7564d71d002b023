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
# jansson's json_loadb alone, in one pass, on the matching state (jsonload.c)
jsonload=
if command -v pkg-config >/dev/null 2>&1 &&
   ${CC:-cc} -O2 -o "$tmp/jsonload" "$here/jsonload.c" $(pkg-config --cflags --libs jansson) \
	>"$tmp/build.log" 2>&1; then
	jsonload=$tmp/jsonload
else
	note "building jsonload.c failed (needs cc, pkg-config and libjansson-dev): no jansson column"
fi

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
	js=-
	if [ -n "$jsonload" ]; then
		note "timing jansson json_loadb alone on the matching state ..."
		if best "jsonload" 0 "$jsonload" "$dir/match.state"; then
			js=$best_s
		fi
	fi
	echo "$n $cb $sb $es $ek $ms $mk $js" >>"$tmp/results"
	rm -rf "$dir"
done

echo
awk -v runs="$runs" -v clock="$clock" '
function mb(bytes) { return sprintf("%.1f", bytes / 1e6) }
function mib(kib) { return kib == "-" ? "-" : sprintf("%.1f", kib / 1024) }
function sec(s) { return s == "-" ? "-" : sprintf("%.3f", s) }
function per10k(s, n) { return s == "-" ? "-" : sprintf("%.4f", s * 10000 / n) }
BEGIN {
	fmt = "%-10s %9s %9s %9s %12s %9s %12s %9s\n"
	printf "plan: stk plan -refresh=false (best of %d)\n", runs
	printf fmt, "resources", "config MB", "state MB", "empty s", "empty RSS MB", "match s", "match RSS MB", "json s"
}
{
	n[NR] = $1; es[NR] = $4; ms[NR] = $6
	printf fmt, $1, mb($2), mb($3), sec($4), mib($5), sec($6), mib($7), sec($8)
}
END {
	print ""
	print "json s: jansson json_loadb + json_decref alone, in one pass, on the matching state (jsonload.c);"
	print "  stk parses a state that big in pieces, one thread per processor (STK_PARSE_THREADS)"
	print ""
	print "linearity: seconds per 10k resources (constant = linear)"
	for (i = 1; i <= NR; i++)
		printf "  %-10s empty %8s   match %8s\n", n[i], per10k(es[i], n[i]), per10k(ms[i], n[i])
	if (clock != "ns")
		print "note: wall times from GNU time %e (10 ms resolution)"
}' "$tmp/results"

# make bench's rows (bench/all.sh): per size and state; the target is under 1 s at 100k
# resources, and linear: seconds per resource at the largest size at most 1.5x those at the
# smallest (a quadratic term would show as ~10x between 10k and 100k)
[ -z "${BENCH_ROWS:-}" ] || awk '
function size(n) { return n % 1000 ? n : (n / 1000) "k" }
function one(what, n, s, kib, js,   fig, bound, ratio, target, met) {
	fig = s == "-" ? "failed" : sprintf("%.3f s, %.0f MB RSS", s, kib / 1024)
	bound = "-"; ratio = "-"; target = "-"; met = "-"
	if (js != "" && js != "-")
		fig = fig sprintf(" (jansson alone, in one pass, parses its state in %.3f s)", js)
	if (n == 100000) {
		bound = "1 s"; target = "< 1 s"
		if (s != "-") { ratio = sprintf("%.2fx", s); met = s < 1 ? "yes" : "no" }
	}
	printf "plan: %s state, %s resources\t%s\t%s\t%s\t%s\t%s\n", what, size(n), fig, bound, ratio, target, met
}
function linear(what, s0, n0, s1, n1,   r) {
	if (NR < 2 || s0 == "-" || s1 == "-")
		return
	r = (s1 / n1) / (s0 / n0)
	printf "plan: %s state, linearity\t%.4f s per 10k at %s\t%.4f s per 10k at %s\t%.2fx\t<= 1.5x\t%s\n", what,
		s1 * 10000 / n1, size(n1), s0 * 10000 / n0, size(n0), r, (r <= 1.5 ? "yes" : "no")
}
{ n[NR] = $1; es[NR] = $4; ek[NR] = $5; ms[NR] = $6; mk[NR] = $7; js[NR] = $8 }
END {
	for (i = 1; i <= NR; i++) one("empty", n[i], es[i], ek[i], "")
	linear("empty", es[1], n[1], es[NR], n[NR])
	for (i = 1; i <= NR; i++) one("matching", n[i], ms[i], mk[i], js[i])
	linear("matching", ms[1], n[1], ms[NR], n[NR])
}' "$tmp/results" >>"$BENCH_ROWS"
exit "$failed"

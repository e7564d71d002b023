#!/bin/sh
# all.sh STK_BINARY [LOGDIR] -- what `make bench` runs: the four benchmarks one after the
# other (frontend, plan, refresh, apply; see README.md), each one's own tables and progress in
# LOGDIR/bench-NAME.log (default the current directory), then ONE table of their rows (bench/
# lib.sh's row): benchmark, stk's figure, the peer's figure or the bound, the ratio, the target,
# and whether it is met. BENCH_SIZES (default "10000 100000") are the frontend and plan sizes;
# RUNS, LATENCY_MS and PARALLELISM pass through. Exits 1 when a benchmark itself failed (a
# target not met is not a failure: it is in the table).
set -eu

[ $# -ge 1 ] || { echo "usage: $0 STK_BINARY [LOGDIR]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
stk=$1 logdir=${2:-.}
case $stk in /*) ;; *) stk=$(pwd)/$stk ;; esac
[ -x "$stk" ] || { echo "$0: $stk: not an executable; build stk first" >&2; exit 2; }
sizes=${BENCH_SIZES:-10000 100000}
LC_ALL=C; export LC_ALL   # a decimal point in every figure
NO_COLOR=1; export NO_COLOR

rows=$(mktemp "${TMPDIR:-/tmp}/stk-bench-rows.XXXXXX")
trap 'rm -f "$rows"' EXIT
trap 'exit 130' INT TERM
status=0
for b in frontend plan refresh apply; do
	log=$logdir/bench-$b.log
	case $b in frontend|plan) set -- $sizes ;; *) set -- ;; esac
	echo "bench/$b/run.sh ... (its own tables: $log)" >&2
	before=$(wc -l <"$rows")
	st=0
	BENCH_ROWS=$rows sh "$here/$b/run.sh" "$stk" "$@" >"$log" 2>&1 || st=$?
	if [ "$st" -ne 0 ]; then
		status=1
		echo "bench/$b/run.sh failed (exit status $st); the end of $log:" >&2
		tail -n 5 "$log" | sed 's/^/  /' >&2
		[ "$(wc -l <"$rows")" -gt "$before" ] ||
			printf '%s\tfailed: see %s\t-\t-\t-\t-\n' "$b" "$log" >>"$rows"
	fi
done

echo
awk -F '\t' '
BEGIN { h[1] = "benchmark"; h[2] = "stk"; h[3] = "peer or bound"; h[4] = "ratio"; h[5] = "target"; h[6] = "met?"
	for (i = 1; i <= 6; i++) w[i] = length(h[i]) }
{ for (i = 1; i <= 6; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } }
function line(get, r,   i, s) {
	s = ""
	for (i = 1; i <= 6; i++)
		s = s sprintf(i < 6 ? "%-" w[i] "s | " : "%s", get ? c[r, i] : h[i])
	print s
}
END {
	line(0)
	s = ""
	for (i = 1; i <= 6; i++) s = s sprintf("%s%s", (i > 1 ? "-+-" : ""), substr("----------------------------------------------------------------------------------------------------", 1, w[i]))
	print s
	for (r = 1; r <= NR; r++) line(1, r)
}' "$rows"
exit "$status"

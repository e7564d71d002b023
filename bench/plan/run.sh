#!/bin/sh
# run.sh STK_BINARY [SIZES...] -- planner benchmark: `stk plan -refresh=false`
# on generated configurations of SIZES resources (default 10000 100000), once
# against an empty state (everything to create) and once against a state that
# matches the configuration exactly (nothing to do).  Each plan runs RUNS times
# (default 3) per size; the best wall time and the peak RSS of that run are
# reported.  See README.md.
set -eu

usage() { echo "usage: $0 STK_BINARY [SIZES...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
stk=$1; shift
[ $# -ge 1 ] || set -- 10000 100000
for n in "$@"; do
	case $n in ''|*[!0-9]*|0) usage ;; esac
done
runs=${RUNS:-3}
case $runs in ''|*[!0-9]*|0) echo "$0: RUNS must be a positive integer" >&2; exit 2 ;; esac

here=$(cd "$(dirname "$0")" && pwd)
TIME=/usr/bin/time

if ! "$TIME" -f '%e %M' -o /dev/null true 2>/dev/null; then
	echo "$0: GNU time is needed at $TIME: install the Debian package 'time' (apt-get install time)" >&2
	exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "$0: python3 is needed to generate the inputs: install the Debian package 'python3'" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/stk-bench-plan.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

note() { echo "$*" >&2; }

# Nanosecond clock if date supports %N (GNU coreutils), else fall back to
# time's %e, which only has 10 ms resolution.
now_ns() { date +%s%N; }
case $(now_ns) in *[!0-9]*) clock=e ;; *) clock=ns ;; esac

# best LABEL STATUS CMD...: run CMD $runs times, each expected to exit with
# STATUS; on success set best_s and best_kib (peak RSS of the fastest run) and
# return 0; on the first other status print "LABEL failed: ..." with the start
# of its stderr and return 1.
best() {
	label=$1 want=$2; shift 2
	best_s='' best_kib=''
	i=0
	while [ "$i" -lt "$runs" ]; do
		t0=$(now_ns)
		got=0
		"$TIME" -f '%e %M' -o "$tmp/time.out" "$@" >/dev/null 2>"$tmp/err" || got=$?
		t1=$(now_ns)
		if [ "$got" -ne "$want" ]; then
			status=$(sed -n "s/^Command terminated by signal /signal /p" "$tmp/time.out")
			note "$label failed: ${status:-exit status $got, expected $want} ($*)"
			sed 's/^/  /; 10q' "$tmp/err" >&2
			return 1
		fi
		# after "Command exited with non-zero status N", if any, comes the format
		tail -n 1 "$tmp/time.out" >"$tmp/time.last"
		read -r e kib <"$tmp/time.last"
		if [ "$clock" = ns ]; then
			s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
		else
			s=$e
		fi
		if [ -z "$best_s" ] || awk -v a="$s" -v b="$best_s" 'BEGIN { exit !(a < b) }'; then
			best_s=$s best_kib=$kib
		fi
		i=$((i + 1))
	done
}

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

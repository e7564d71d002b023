# lib.sh -- sourced by bench/*/run.sh after `set -eu` with the script's own
# arguments still in "$@" and bench_name set: checks STK_BINARY [SIZES...] and
# RUNS, checks for GNU time, makes the scratch directory $tmp, and defines
# note, now_ns and best, the best-of-RUNS timer.  Sets stk, runs, TIME, tmp,
# clock, and leaves the sizes (default 10000 100000) in "$@".

usage() { echo "usage: $0 STK_BINARY [SIZES...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
stk=$1; shift
[ $# -ge 1 ] || set -- 10000 100000
for n in "$@"; do
	case $n in ''|*[!0-9]*|0) usage ;; esac
done
runs=${RUNS:-3}
case $runs in ''|*[!0-9]*|0) echo "$0: RUNS must be a positive integer" >&2; exit 2 ;; esac

TIME=/usr/bin/time
if ! "$TIME" -f '%e %M' -o /dev/null true 2>/dev/null; then
	echo "$0: GNU time is needed at $TIME: install the Debian package 'time' (apt-get install time)" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/stk-bench-$bench_name.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

note() { echo "$*" >&2; }

# Nanosecond clock if date supports %N (GNU coreutils), else fall back to
# time's %e, which only has 10 ms resolution.
now_ns() { date +%s%N; }
case $(now_ns) in *[!0-9]*) clock=e ;; *) clock=ns ;; esac

# best LABEL STATUS CMD...: run CMD $runs times, each expected to exit with
# STATUS; on success set best_s, best_kib (peak RSS of the fastest run) and
# best_cpu (its user + system seconds, all threads) and return 0; on the first other status print "LABEL failed: ..." with the start
# of its stderr and return 1.
best() {
	label=$1 want=$2; shift 2
	best_s='' best_kib='' best_cpu=''
	i=0
	while [ "$i" -lt "$runs" ]; do
		t0=$(now_ns)
		got=0
		"$TIME" -f '%e %M %U %S' -o "$tmp/time.out" "$@" >/dev/null 2>"$tmp/err" || got=$?
		t1=$(now_ns)
		if [ "$got" -ne "$want" ]; then
			status=$(sed -n "s/^Command terminated by signal /signal /p" "$tmp/time.out")
			note "$label failed: ${status:-exit status $got, expected $want} ($*)"
			sed 's/^/  /; 10q' "$tmp/err" >&2
			return 1
		fi
		# after "Command exited with non-zero status N", if any, comes the format
		tail -n 1 "$tmp/time.out" >"$tmp/time.last"
		# names of their own: the callers' variables are global too (run.sh has ss, hs, ...)
		read -r time_e time_kib time_user time_sys <"$tmp/time.last"
		if [ "$clock" = ns ]; then
			s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
		else
			s=$time_e
		fi
		if [ -z "$best_s" ] || awk -v a="$s" -v b="$best_s" 'BEGIN { exit !(a < b) }'; then
			best_s=$s best_kib=$time_kib
			best_cpu=$(awk -v u="$time_user" -v s="$time_sys" 'BEGIN { printf "%.2f", u + s }')
		fi
		i=$((i + 1))
	done
}

# row BENCHMARK STK_FIGURE PEER_OR_BOUND RATIO TARGET MET: one row of the table `make bench`
# prints (bench/all.sh), appended tab-separated to $BENCH_ROWS when that is set.
row() {
	[ -z "${BENCH_ROWS:-}" ] || printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$BENCH_ROWS"
}

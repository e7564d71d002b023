#!/bin/sh
# fuzz/smoke.sh: the body of `make fuzz-smoke`. Replays every input in fuzz/regressions/, then
# fuzzes for a bounded time from a seed corpus of every .stk and .stkvars file under tests/ and
# examples/, with the dictionary fuzz/stk.dict. Exit 0 when nothing crashed, leaked or hung.
#
#   sh fuzz/smoke.sh FUZZER SRCDIR [SECONDS [MAX_LEN]]
#
# A crash (or leak, hang, out-of-memory) fails the run, and its input is copied into
# SRCDIR/fuzz/regressions/ so that every later run replays it first: commit it with the fix.
# The fuzzer's output goes to fuzz/smoke.log in the current (build) directory.

set -u
fuzzer=$1
srcdir=$2
seconds=${3:-60}
max_len=${4:-4096}

[ -x "$fuzzer" ] || { echo "fuzz-smoke: $fuzzer: not built (make fuzz)" >&2; exit 1; }
case $fuzzer in /*) ;; *) fuzzer=$(pwd)/$fuzzer ;; esac
srcdir=$(cd "$srcdir" && pwd) || exit 1
regressions=$srcdir/fuzz/regressions
log=$(pwd)/fuzz/smoke.log
work=$(pwd)/fuzz/corpus.tmp
art=$(pwd)/fuzz/artifacts.tmp
rm -rf "$work" "$art"
mkdir -p "$work/corpus" "$art" || exit 1
trap 'rm -rf "$work" "$art"' EXIT
trap 'exit 130' INT TERM HUP
: >"$log"

# Prints the sanitizer's report from the log: the error line and the first frames of each stack.
report() {
	grep -E '^==[0-9]+==(ERROR|WARNING)|SUMMARY:|runtime error:|^ +#[0-9]+ |^(Test unit written|artifact_prefix|Running:)|deadly signal|timeout after|out-of-memory' "$log" |
		awk '/^ +#[0-9]+ / { if (++frames > 14) next } !/^ +#[0-9]+ / { frames = 0 } { print }' |
		head -n 80 | sed 's/^/  /'
}

# 1. Regression inputs: each must now run cleanly.
set --
for f in "$regressions"/*; do
	[ -f "$f" ] || continue
	case ${f##*/} in README* | .*) continue ;; esac
	set -- "$@" "$f"
done
if [ $# -gt 0 ]; then
	echo "fuzz-smoke: replaying $# input(s) from fuzz/regressions/"
	if ! "$fuzzer" -timeout=20 -rss_limit_mb=2048 "$@" >>"$log" 2>&1; then
		echo "fuzz-smoke: FAIL: a regression input still crashes (log: $log)" >&2
		report >&2
		exit 1
	fi
else
	echo "fuzz-smoke: no inputs in fuzz/regressions/ to replay"
fi

# 2. The seed corpus: copied, so the fuzzer's additions never land in the source tree.
n=0
for top in tests examples fuzz/regressions; do
	[ -d "$srcdir/$top" ] || continue
	find "$srcdir/$top" -type f \( -name '*.stk' -o -name '*.stkvars' -o -path '*/fuzz/regressions/*' \) \
		! -name 'README*' >"$work/.list"
	while IFS= read -r f; do
		n=$((n + 1))
		cp "$f" "$work/corpus/seed-$n" || exit 1
	done <"$work/.list"
	rm -f "$work/.list"
done
echo "fuzz-smoke: fuzzing for ${seconds}s from $n seed file(s), max_len $max_len"

# 3. Fuzz. -timeout catches hangs (a loop in error recovery), -rss_limit_mb runaway memory.
status=0
"$fuzzer" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
	-dict="$srcdir/fuzz/stk.dict" -artifact_prefix="$art/" -print_final_stats=1 \
	"$work/corpus" >>"$log" 2>&1 || status=$?

grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE' "$log" | sed 's/^/  /'
found=0
for f in "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*; do
	[ -f "$f" ] || continue
	found=$((found + 1))
	name=${f##*/}
	if [ -w "$regressions" ] && cp "$f" "$regressions/$name"; then
		echo "fuzz-smoke: saved fuzz/regressions/$name" >&2
	else
		cp "$f" "fuzz/$name" && echo "fuzz-smoke: saved fuzz/$name (copy it into fuzz/regressions/)" >&2
	fi
done
if [ "$status" -ne 0 ] || [ "$found" -gt 0 ]; then
	echo "fuzz-smoke: FAIL: the fuzzer exited $status with $found crashing input(s) (log: $log)" >&2
	report >&2
	exit 1
fi
echo "fuzz-smoke: ok"

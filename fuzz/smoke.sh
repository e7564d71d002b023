#!/bin/sh
# fuzz/smoke.sh: the body of `make fuzz-smoke`, run once for each fuzz target. Replays every
# input in the target's regressions directory, then fuzzes for a bounded time from a seed corpus.
# What the target is, its name says:
#
#   fuzz_parse  the front end: regressions in fuzz/regressions/ (the files at its top), seeds
#               every .stk and .stkvars file under tests/ and examples/, dictionary fuzz/stk.dict;
#               output in fuzz/smoke.log
#   fuzz_state  the state loader: regressions in fuzz/regressions/state/, seeds fuzz/corpus-state/
#               (with states sealed by stk), tests/state/*.json and tests/plan/*/state.json; no
#               dictionary; output in fuzz/smoke-state.log
#   fuzz_eval   the evaluator: regressions in fuzz/regressions/eval/, seeds fuzz/corpus-eval/ and
#               every .stk file under tests/ and examples/, dictionary fuzz/stk.dict
#   fuzz_check  the checks and the graph: regressions in fuzz/regressions/check/, seeds every
#               .stk file under tests/ and examples/ and fuzz/regressions/check/, dictionary
#               fuzz/stk.dict
#   fuzz_plan   the saved-plan loader: regressions in fuzz/regressions/plan/, seeds
#               fuzz/corpus-plan/ (plans written by stk plan -out, two of them sealed)
#   fuzz_aws, fuzz_docker  the providers' decoders: regressions in fuzz/regressions/aws/ and
#               fuzz/regressions/docker/, seeds fuzz/corpus-aws/ and fuzz/corpus-docker/
#               (answers recorded in the shape the APIs give them; see fuzz/fake_http.h)
#
# Every target but fuzz_parse writes its output to fuzz/smoke-TARGET.log.
#
#   sh fuzz/smoke.sh FUZZER SRCDIR [SECONDS [MAX_LEN]]
#
# A crash (or leak, hang, out-of-memory) fails the run, and its input is copied into the
# target's regressions directory so that every later run replays it first: commit it with the
# fix. The log is in the current (build) directory. `make fuzz-smoke` splits FUZZ_SECONDS
# between the targets.

set -u
fuzzer=$1
srcdir=$2
seconds=${3:-60}
max_len=${4:-4096}

[ -x "$fuzzer" ] || { echo "fuzz-smoke: $fuzzer: not built (make fuzz)" >&2; exit 1; }
case $fuzzer in /*) ;; *) fuzzer=$(pwd)/$fuzzer ;; esac
srcdir=$(cd "$srcdir" && pwd) || exit 1
case ${fuzzer##*/} in
fuzz_state* | fuzz_eval* | fuzz_check* | fuzz_plan* | fuzz_aws* | fuzz_docker*)
	target=$(basename "$fuzzer" | sed 's/^fuzz_\([a-z]*\).*/\1/')  # fuzz_aws.exe: aws
	regressions=$srcdir/fuzz/regressions/$target
	log=$(pwd)/fuzz/smoke-$target.log
	;;
*)
	target=parse
	regressions=$srcdir/fuzz/regressions
	log=$(pwd)/fuzz/smoke.log
	;;
esac
rel=${regressions#"$srcdir"/}
[ "$seconds" -ge 1 ] 2>/dev/null || seconds=1  # libFuzzer takes -max_total_time=0 for no limit
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
	echo "fuzz-smoke: $target: replaying $# input(s) from $rel/"
	if ! "$fuzzer" -timeout=20 -rss_limit_mb=2048 "$@" >>"$log" 2>&1; then
		echo "fuzz-smoke: $target: FAIL: a regression input still crashes (log: $log)" >&2
		report >&2
		exit 1
	fi
else
	echo "fuzz-smoke: $target: no inputs in $rel/ to replay"
fi

# 2. The seed corpus: copied, so the fuzzer's additions never land in the source tree.
n=0
seed() {
	while IFS= read -r f; do
		n=$((n + 1))
		cp "$f" "$work/corpus/seed-$n" || exit 1
	done
}
case $target in
state)
	for top in fuzz/corpus-state tests/state tests/plan fuzz/regressions/state; do
		[ -d "$srcdir/$top" ] || continue
		case $top in
		tests/plan) find "$srcdir/$top" -type f -name state.json ;;
		*) find "$srcdir/$top" -type f ! -name 'README*' ;;
		esac >"$work/.list"
		seed <"$work/.list"
		rm -f "$work/.list"
	done
	dict=
	;;
eval | check)
	for top in "fuzz/corpus-$target" tests examples "fuzz/regressions/$target"; do
		[ -d "$srcdir/$top" ] || continue
		case $top in
		tests | examples) find "$srcdir/$top" -type f -name '*.stk' ;;
		*) find "$srcdir/$top" -type f ! -name 'README*' ;;
		esac >"$work/.list"
		seed <"$work/.list"
		rm -f "$work/.list"
	done
	dict=-dict=$srcdir/fuzz/stk.dict
	;;
plan | aws | docker)
	for top in "fuzz/corpus-$target" "fuzz/regressions/$target"; do
		[ -d "$srcdir/$top" ] || continue
		find "$srcdir/$top" -type f ! -name 'README*' >"$work/.list"
		seed <"$work/.list"
		rm -f "$work/.list"
	done
	dict=
	;;
*)
	for top in tests examples fuzz/regressions; do
		[ -d "$srcdir/$top" ] || continue
		# the other targets' regressions are in subdirectories of fuzz/regressions/
		find "$srcdir/$top" -path "$srcdir/fuzz/regressions/*" -type d -prune -o -type f \
			\( -name '*.stk' -o -name '*.stkvars' -o -path '*/fuzz/regressions/*' \) \
			! -name 'README*' -print >"$work/.list"
		seed <"$work/.list"
		rm -f "$work/.list"
	done
	dict=-dict=$srcdir/fuzz/stk.dict
	;;
esac
echo "fuzz-smoke: $target: fuzzing for ${seconds}s from $n seed file(s), max_len $max_len"

# 3. Fuzz. -timeout catches hangs (a loop in error recovery), -rss_limit_mb runaway memory.
status=0
"$fuzzer" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
	${dict:+"$dict"} -artifact_prefix="$art/" -print_final_stats=1 \
	"$work/corpus" >>"$log" 2>&1 || status=$?

grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE' "$log" | sed 's/^/  /'
found=0
for f in "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*; do
	[ -f "$f" ] || continue
	found=$((found + 1))
	name=${f##*/}
	if [ -w "$regressions" ] && cp "$f" "$regressions/$name"; then
		echo "fuzz-smoke: saved $rel/$name" >&2
	else
		cp "$f" "fuzz/$name" && echo "fuzz-smoke: saved fuzz/$name (copy it into $rel/)" >&2
	fi
done
if [ "$status" -ne 0 ] || [ "$found" -gt 0 ]; then
	echo "fuzz-smoke: $target: FAIL: the fuzzer exited $status with $found crashing input(s) (log: $log)" >&2
	report >&2
	exit 1
fi
echo "fuzz-smoke: $target: ok"

#!/bin/sh
# tests/golden.sh: `stk validate` against expected output, tests as data.
#
# Every case in tests/validate/ is a file NAME.stk or a directory NAME/ (its .stk files, and
# subdirectories for modules), with NAME.out: the exact output of `stk validate NAME.stk` (or
# `stk validate NAME/`) run inside tests/validate/, stdout and stderr merged, then a last line
# `exit: N`.
#
#   sh tests/golden.sh [NAME...]                      run every case, or the ones named
#   STK_UPDATE_GOLDEN=1 sh tests/golden.sh [NAME...]  rewrite the .out files; review with git diff
#
# tests/validate/pending/ is not run: it holds cases for known bugs, each with the output it
# should give. Run them with STK_GOLDEN_DIR=tests/validate/pending; move a case up to
# tests/validate/ once it passes. Never bless a pending case with STK_UPDATE_GOLDEN.
#
# Environment: STK (the binary), STK_SRCDIR (the repository root), NO_COLOR=1,
# STK_GOLDEN_DIR (the directory of cases; default $STK_SRCDIR/tests/validate).

case $0 in
*/*) T_LIB=${0%/*}/lib.sh ;;
*) T_LIB=./lib.sh ;;
esac
# shellcheck source=tests/lib.sh
. "$T_LIB" || exit 99

t_init "$0"
cases_dir=${STK_GOLDEN_DIR:-$STK_SRCDIR/tests/validate}
update=${STK_UPDATE_GOLDEN:-}
[ "$update" = 0 ] && update=

cd "$cases_dir" || exit 99

# run_case NAME ARG: stk validate ARG, output and status into $T_TMP/actual
run_case() {
	status=0
	t_timeout 20 "$STK" validate "$2" <"/dev/null" >"$T_TMP/actual" 2>&1 || status=$?
	printf 'exit: %d\n' "$status" >>"$T_TMP/actual"
}

# check_case NAME ARG
check_case() {
	run_case "$1" "$2"
	if [ -n "$update" ]; then
		if [ -f "$1.out" ] && cmp -s "$1.out" "$T_TMP/actual"; then
			t_ok "$1"
			return
		fi
		cp "$T_TMP/actual" "$1.out"
		T_PASSED=$((T_PASSED + 1))
		printf 'updated %s\n' "$1"
		case $status in
		0 | 1) ;;
		*) printf '  warning: exit status %s (crash or timeout?)\n' "$status" ;;
		esac
		return
	fi
	if [ ! -f "$1.out" ]; then
		t_fail "$1" "no $1.out: create it with STK_UPDATE_GOLDEN=1 sh tests/golden.sh $1"
		return
	fi
	if t_diff "$1.out" "$T_TMP/actual" "$1.out" >"$T_TMP/diff"; then
		t_ok "$1"
	else
		t_fail "$1"
		cat "$T_TMP/diff"
	fi
}

# case_arg NAME: the argument for stk validate, or nothing if NAME is not a case
case_arg() {
	if [ -d "$1" ]; then
		printf '%s/\n' "$1"
	elif [ -f "$1.stk" ]; then
		printf '%s.stk\n' "$1"
	fi
}

if [ $# -gt 0 ]; then
	for name in "$@"; do
		name=${name%.out}
		name=${name%.stk}
		name=${name%/}
		name=${name##*/}
		arg=$(case_arg "$name")
		if [ -z "$arg" ]; then
			t_fail "$name" "no such case: $cases_dir/$name.stk or $cases_dir/$name/"
			continue
		fi
		check_case "$name" "$arg"
	done
	t_summary
	exit $?
fi

found=0
for entry in *; do
	[ -e "$entry" ] || continue
	if [ -d "$entry" ]; then
		[ "$entry" = pending ] && continue
		name=$entry
		arg=$entry/
		if [ -e "$entry.stk" ]; then
			t_fail "$name" "both $name.stk and $name/ exist: which is the case?"
			continue
		fi
	else
		case $entry in
		*.stk)
			name=${entry%.stk} arg=$entry
			# reported with the directory of the same name
			[ -d "$name" ] && continue
			;;
		*.out)
			# an expected output whose case is gone would pass silently forever
			name=${entry%.out}
			if [ ! -e "$name.stk" ] && [ ! -d "$name" ]; then
				t_fail "$name" "$entry has no $name.stk or $name/ beside it"
			fi
			continue
			;;
		*) continue ;;
		esac
	fi
	found=$((found + 1))
	check_case "$name" "$arg"
done

if [ "$found" -eq 0 ]; then
	t_fail "golden" "no cases in $cases_dir"
fi
t_summary

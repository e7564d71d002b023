#!/bin/sh
# tests/plan.sh: `stk plan` against expected output, tests as data.
#
# Every directory CASE in tests/plan/ is one case:
#
#   *.stk, *.stkvars, other files  the configuration (subdirectories hold modules)
#   state.json     optional: the prior state, copied to stk.state (mode 0600) beside the
#                  configuration; STK_STATE names it for every run
#   args           optional: extra arguments for stk plan, one per line (a line is one
#                  argument, spaces and all). -refresh=false comes first unless a line
#                  gives -refresh itself.
#   env            optional: NAME=VALUE lines exported for the run (blank lines and lines
#                  starting with # are skipped)
#   hold_lock      optional (empty): another stk holds the state's lock during the run. The
#                  lock is an OFD lock that only a live process holds, so the runner starts
#                  `stk plan` on a state that is a FIFO nobody writes to: it takes the lock,
#                  then waits in open() until the runner kills it. state.json is not used.
#                  The holder's pid, host, user, time and lock ID are replaced by PID, HOST,
#                  USER, TIME and LOCK-ID in the output.
#   expected.txt   stdout and stderr of `stk plan . ARGS`, run with NO_COLOR=1 inside a fresh
#                  temporary copy of the case directory, then a last line `exit: N`
#   expected.json  optional, only for a case without errors: stdout of the same run with
#                  -json added. STK_UPDATE_GOLDEN=1 rewrites it where it exists, and writes
#                  one for a new case (one without expected.txt) that has no error; delete
#                  it to keep a case to its text output. A case whose args ask for -json or
#                  -markdown has no second run.
#
# tests/plan/KNOWN_FAILURES lists cases whose expectations are written by hand because stk
# gets them wrong: one case name per line, then the reason. Such a case reports `xfail` and
# does not fail the run; if it passes it reports `xpass`, which fails the run, so that the
# list stays honest (take the case off the list then).
#
#   sh tests/plan.sh [CASE...]                      run every case, or the ones named
#   STK_UPDATE_GOLDEN=1 sh tests/plan.sh [CASE...]  (re)write expected.txt and expected.json;
#                                                   review them with git diff. Known failures
#                                                   are never rewritten.
#
# Environment: STK (the binary), STK_SRCDIR (the repository root), NO_COLOR=1,
# STK_PLAN_DIR (the directory of cases; default $STK_SRCDIR/tests/plan).

case $0 in
*/*) T_LIB=${0%/*}/lib.sh ;;
*) T_LIB=./lib.sh ;;
esac
# shellcheck source=tests/lib.sh
. "$T_LIB" || exit 99

t_init "$0"
cases_dir=$(cd "${STK_PLAN_DIR:-$STK_SRCDIR/tests/plan}" && pwd) || exit 99
known=$cases_dir/KNOWN_FAILURES
update=${STK_UPDATE_GOLDEN:-}
[ "$update" = 0 ] && update=
T_XFAIL=0

# Variables from the caller's environment must not reach a case.
for v in $(env | sed -n 's/^\(STK_VAR_[A-Za-z0-9_]*\)=.*/\1/p'); do
	unset "$v"
done
unset STK_STATE

# known_reason NAME: prints the reason NAME is a known failure; fails if it is not one.
known_reason() {
	[ -f "$known" ] || return 1
	awk -v n="$1" '$1 == n { $1 = ""; sub(/^ +/, ""); print; found = 1; exit } END { exit !found }' "$known"
}

# prepare NAME: a fresh copy of the case in $T_TMP/work, with the state in place.
prepare() {
	work=$T_TMP/work
	rm -rf "$work"
	mkdir "$work" || exit 99
	cp -R "$cases_dir/$1/." "$work/" || exit 99
	# as a checkout has them: make distcheck's tree is read-only, and a host.file's mode is
	# read back (an imported 0444 file would be planned for replacement)
	chmod -R u+w "$work"
	rm -f "$work/expected.txt" "$work/expected.json" "$work/args" "$work/env" "$work/hold_lock"
	if [ -f "$work/state.json" ]; then
		mv "$work/state.json" "$work/stk.state"
		chmod 600 "$work/stk.state"
	fi
}

# hold_lock: starts an stk that takes the state's lock and then waits, its state being a FIFO
# nobody writes to; sets $holder to its pid. The lock is an OFD lock, which only another
# process that locks the same file can hold, and the kernel drops it when that process ends.
hold_lock() {
	rm -f "$work/stk.state"
	mkfifo "$work/stk.state" || exit 99
	(cd "$work" && STK_STATE=stk.state exec "$STK" plan . -refresh=false) </dev/null >/dev/null 2>&1 &
	holder=$!
	tries=0
	while [ ! -s "$work/stk.state.lock" ]; do
		tries=$((tries + 1))
		if [ "$tries" -gt 100 ]; then
			echo "the lock holder never took the lock" >&2
			break
		fi
		sleep 0.1 2>/dev/null || sleep 1
	done
}

release_lock() {
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	holder=
}

# run NAME OUT [EXTRA]: stk plan in the prepared copy; stdout (and stderr, unless EXTRA is
# -json) into OUT; sets $status.
run() {
	r_name=$1 r_out=$2 r_extra=${3:-}
	set --
	r_refresh=-refresh=false
	if [ -f "$cases_dir/$r_name/args" ]; then
		while IFS= read -r line || [ -n "$line" ]; do
			case $line in
			-refresh | -refresh=* | --refresh | --refresh=*) r_refresh= ;;
			esac
			set -- "$@" "$line"
		done <"$cases_dir/$r_name/args"
	fi
	[ -n "$r_refresh" ] && set -- "$r_refresh" "$@"
	[ -n "$r_extra" ] && set -- "$@" "$r_extra"
	if [ -f "$cases_dir/$r_name/hold_lock" ]; then
		hold_lock
	fi
	status=0
	if [ -n "$r_extra" ]; then
		(
			cd "$work" || exit 99
			export_env "$cases_dir/$r_name/env"
			STK_STATE=stk.state t_timeout 20 "$STK" plan . "$@"
		) </dev/null >"$r_out" 2>"$T_TMP/stderr" || status=$?
	else
		(
			cd "$work" || exit 99
			export_env "$cases_dir/$r_name/env"
			STK_STATE=stk.state t_timeout 20 "$STK" plan . "$@"
		) </dev/null >"$r_out" 2>&1 || status=$?
		printf 'exit: %d\n' "$status" >>"$r_out"
	fi
	if [ -f "$cases_dir/$r_name/hold_lock" ]; then
		release_lock
		sed -e 's/ by pid [0-9][0-9]* on host [^ ]* (/ by pid PID on host HOST (/' \
			-e 's/(plan by [^,]*, since [^)]*)/(plan by USER, since TIME)/' \
			-e 's/[0-9a-f]\{8\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{12\}/LOCK-ID/g' \
			"$r_out" >"$r_out.tmp" && mv "$r_out.tmp" "$r_out"
	fi
}

# export_env FILE: exports the NAME=VALUE lines of FILE, if it exists.
export_env() {
	[ -f "$1" ] || return 0
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in
		'' | '#'*) continue ;;
		*=*) export "${line?}" ;;
		*) echo "$1: not NAME=VALUE: $line" >&2 ;;
		esac
	done <"$1"
}

# check NAME: runs the case; sets $verdict to ok or fail, with the differences in $T_TMP/diff.
check() {
	dir=$cases_dir/$1
	: >"$T_TMP/diff"
	verdict=ok
	prepare "$1"
	run "$1" "$T_TMP/actual.txt"
	text_status=$status
	json=
	# a case that asks for -json or -markdown itself has no second rendering
	if [ -f "$dir/args" ] && grep -E -e '^--?(json|markdown)$' "$dir/args" >/dev/null; then
		:
	elif [ -f "$dir/expected.json" ] || { [ -n "$update" ] && [ ! -f "$dir/expected.txt" ] && [ "$text_status" -ne 1 ]; }; then
		json=1
		prepare "$1"
		run "$1" "$T_TMP/actual.json" -json
		if [ "$status" -ne "$text_status" ]; then
			printf 'stk plan -json exited %s, without -json %s\n' "$status" "$text_status" >>"$T_TMP/diff"
			verdict=fail
		fi
		if [ -s "$T_TMP/stderr" ]; then
			printf 'stk plan -json wrote to stderr:\n' >>"$T_TMP/diff"
			sed 's/^/| /' "$T_TMP/stderr" >>"$T_TMP/diff"
			verdict=fail
		fi
	fi
	if [ -n "$update" ]; then
		return
	fi
	if [ ! -f "$dir/expected.txt" ]; then
		printf 'no expected.txt: create it with STK_UPDATE_GOLDEN=1 sh tests/plan.sh %s\n' "$1" >>"$T_TMP/diff"
		verdict=fail
		return
	fi
	if ! t_diff "$dir/expected.txt" "$T_TMP/actual.txt" "$1/expected.txt" >>"$T_TMP/diff"; then
		verdict=fail
	fi
	if [ -n "$json" ] && ! t_diff "$dir/expected.json" "$T_TMP/actual.json" "$1/expected.json" >>"$T_TMP/diff"; then
		verdict=fail
	fi
}

# update NAME: rewrites the expectations of NAME from the last check.
update() {
	dir=$cases_dir/$1
	changed=
	if ! cmp -s "$T_TMP/actual.txt" "$dir/expected.txt"; then
		cp "$T_TMP/actual.txt" "$dir/expected.txt"
		changed=1
	fi
	if [ -z "$json" ]; then
		:
	elif [ "$text_status" -eq 1 ]; then
		rm -f "$dir/expected.json"
		changed=1
	elif ! cmp -s "$T_TMP/actual.json" "$dir/expected.json"; then
		cp "$T_TMP/actual.json" "$dir/expected.json"
		changed=1
	fi
	if [ -z "$changed" ]; then
		t_ok "$1"
		return
	fi
	T_PASSED=$((T_PASSED + 1))
	printf 'updated %s\n' "$1"
	case $text_status in
	0 | 1 | 2) ;;
	*) printf '  warning: exit status %s (crash or timeout?)\n' "$text_status" ;;
	esac
	if [ -s "$T_TMP/diff" ]; then
		sed 's/^/  warning: /' "$T_TMP/diff"
	fi
}

# one NAME: checks (or updates) one case and reports it.
one() {
	if [ ! -d "$cases_dir/$1" ]; then
		t_fail "$1" "no such case: $cases_dir/$1/"
		return
	fi
	is_known=
	if reason=$(known_reason "$1"); then
		is_known=1
	fi
	if [ -n "$update" ] && [ -n "$is_known" ]; then
		printf 'skip %s (a known failure: its expectations are written by hand)\n' "$1"
		return
	fi
	check "$1"
	if [ -n "$update" ]; then
		update "$1"
		return
	fi
	if [ -n "$is_known" ]; then
		if [ "$verdict" = ok ]; then
			T_FAILED=$((T_FAILED + 1))
			printf 'xpass %s\n' "$1"
			printf '  it passes, but tests/plan/KNOWN_FAILURES says it fails (%s): take it off the list\n' "$reason"
		else
			T_XFAIL=$((T_XFAIL + 1))
			printf 'xfail %s: %s\n' "$1" "$reason"
		fi
		return
	fi
	if [ "$verdict" = ok ]; then
		t_ok "$1"
	else
		t_fail "$1"
		cat "$T_TMP/diff"
	fi
}

holder=
trap 't_cleanup_all' EXIT
trap 't_cleanup_all; trap - EXIT; exit 130' INT
trap 't_cleanup_all; trap - EXIT; exit 143' TERM
trap 't_cleanup_all; trap - EXIT; exit 129' HUP
t_cleanup_all() {
	if [ -n "$holder" ]; then
		kill "$holder" 2>/dev/null
	fi
	t_cleanup
}

if [ $# -gt 0 ]; then
	for name in "$@"; do
		name=${name%/}
		name=${name##*/}
		one "$name"
	done
else
	found=0
	for entry in "$cases_dir"/*/; do
		[ -d "$entry" ] || continue
		entry=${entry%/}
		found=$((found + 1))
		one "${entry##*/}"
	done
	[ "$found" -eq 0 ] && t_fail "plan" "no cases in $cases_dir"
	# a known failure whose case is gone would be listed forever
	if [ -f "$known" ]; then
		sed -e 's/#.*//' "$known" | awk 'NF { print $1 }' >"$T_TMP/known"
		while read -r name; do
			[ -d "$cases_dir/$name" ] || t_fail "$name" "listed in KNOWN_FAILURES, but there is no such case"
		done <"$T_TMP/known"
	fi
fi
[ "$T_XFAIL" -gt 0 ] && printf '%d known failures (xfail)\n' "$T_XFAIL"
t_summary

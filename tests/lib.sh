# tests/lib.sh: helpers shared by the shell test scripts (golden.sh, cli.sh, fmt.sh).
# POSIX sh. Source it, then call t_init:
#
#   . "$(dirname "$0")/lib.sh"
#   t_init                      # checks $STK, makes $T_TMP (removed on exit)
#   t_ok NAME / t_fail NAME [WHY...]
#   t_summary                   # prints "N passed, N failed"; returns 1 if any failed
#
# Environment: STK (the binary; default ./stk), STK_SRCDIR (the repository root; default the
# directory above this file), NO_COLOR (forced to 1 so diagnostics are plain text).

T_PASSED=0
T_FAILED=0
T_TMP=

# Where Python comes from pyenv, every command it installed (aws, moto_server, python3) is a
# shim on PATH: a bash script that looks the version up again on each call, a third of a second
# each time. The suites run awscli a few hundred times, so they call the version's own bin
# directory, the one the shims would pick.
if command -v pyenv >/dev/null 2>&1 && t_py=$(pyenv which python3 2>/dev/null); then
	PATH=${t_py%/*}:$PATH
	export PATH
fi

# The directory this file is in, as an absolute path, for the default STK_SRCDIR.
t_here() {
	case $1 in
	*/*) (cd "${1%/*}" && pwd) ;;
	*) pwd ;;
	esac
}

# An absolute path for $1 (relative to the current directory), without requiring it to exist.
t_abspath() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$(pwd)" "$1" ;;
	esac
}

t_cleanup() {
	if [ -n "$T_TMP" ] && [ -d "$T_TMP" ]; then
		rm -rf "$T_TMP"
	fi
	T_TMP=
}

# Makes the scratch directory $T_TMP, removed however the script ends.
t_mktemp() {
	T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/stk-test.XXXXXX" 2>/dev/null) || {
		T_TMP=${TMPDIR:-/tmp}/stk-test.$$
		(umask 077 && mkdir "$T_TMP") || {
			echo "cannot create a temporary directory" >&2
			exit 99
		}
	}
	trap 't_cleanup' EXIT
	trap 't_cleanup; trap - EXIT; exit 130' INT
	trap 't_cleanup; trap - EXIT; exit 143' TERM
	trap 't_cleanup; trap - EXIT; exit 129' HUP
}

# t_init [SCRIPT]: checks the environment and makes $T_TMP. SCRIPT ($0 of the caller) locates
# the repository when STK_SRCDIR is unset.
t_init() {
	T_PASSED=0
	T_FAILED=0
	if [ -z "${STK_SRCDIR:-}" ]; then
		STK_SRCDIR=$(cd "$(t_here "${1:-$0}")/.." && pwd)
	fi
	STK_SRCDIR=$(cd "$STK_SRCDIR" && pwd) || {
		echo "STK_SRCDIR: no such directory" >&2
		exit 99
	}
	STK=$(t_abspath "${STK:-./stk}")
	if [ ! -x "$STK" ]; then
		echo "$STK: not an executable; build stk first or set STK" >&2
		exit 99
	fi
	NO_COLOR=1
	# messages from the C library (strerror) and sort orders must not depend on the machine
	LC_ALL=C
	export STK STK_SRCDIR NO_COLOR LC_ALL
	t_mktemp
}

t_ok() {
	T_PASSED=$((T_PASSED + 1))
	printf 'ok %s\n' "$1"
}

# t_fail NAME [WHY...]: each WHY is printed indented under the FAIL line.
t_fail() {
	T_FAILED=$((T_FAILED + 1))
	printf 'FAIL %s\n' "$1"
	shift
	for why in "$@"; do
		printf '  %s\n' "$why"
	done
}

# Prints the summary line; returns 1 if anything failed.
t_summary() {
	printf '%d passed, %d failed\n' "$T_PASSED" "$T_FAILED"
	[ "$T_FAILED" -eq 0 ]
}

# t_diff EXPECTED ACTUAL LABEL: a unified diff, with headers naming LABEL instead of the
# scratch paths. Returns diff's status (0 when equal).
t_diff() {
	if cmp -s "$1" "$2"; then
		return 0
	fi
	printf -- '--- %s (expected)\n+++ %s (actual)\n' "$3" "$3"
	diff -u "$1" "$2" | sed '1,2d'
	return 1
}

# t_timeout SECONDS CMD...: runs CMD, killed after SECONDS when timeout(1) exists (a hang in the
# parser should fail one case, not the whole run). Exit 124 means it timed out.
t_timeout() {
	t_secs=$1
	shift
	if command -v timeout >/dev/null 2>&1; then
		timeout "$t_secs" "$@"
	else
		"$@"
	fi
}

# t_run CMD...: runs CMD with stdin from /dev/null; its stdout, stderr and exit status land in
# $T_TMP/out, $T_TMP/err and $T_STATUS.
t_run() {
	T_STATUS=0
	t_timeout 20 "$@" <"/dev/null" >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
}

# t_stk_in DIR ARGS...: stk ($STK_ABS, which the suite sets) with ARGS in DIR, with no input and
# a 120 s limit; its output and status land where t_run puts them
t_stk_in() {
	T_STATUS=0
	(cd "$1" && shift && t_timeout 120 "$STK_ABS" "$@") <"/dev/null" >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
}

# Checks on the last t_run, grouped into one test:
#
#   t_begin "version prints the version"
#   t_run "$STK" version
#   t_expect_status 0
#   t_expect_match out '^stk [0-9]+\.[0-9]+\.[0-9]+$'
#   t_end
#
# t_end prints ok, or FAIL with every unmet expectation and what the command printed.
t_begin() {
	T_NAME=$1
	: >"$T_TMP/why"
}

t_why() {
	printf '%s\n' "$*" >>"$T_TMP/why"
}

t_expect_status() {
	[ "$T_STATUS" -eq "$1" ] || t_why "exit status $T_STATUS, expected $1"
}

# t_expect_has out|err TEXT: the stream contains TEXT (a fixed string)
t_expect_has() {
	grep -F -e "$2" "$T_TMP/$1" >/dev/null || t_why "std$1 lacks: $2"
}

# t_expect_lacks out|err TEXT
t_expect_lacks() {
	if grep -F -e "$2" "$T_TMP/$1" >/dev/null; then
		t_why "std$1 should not contain: $2"
	fi
}

# t_expect_match out|err ERE: some line matches the extended regular expression
t_expect_match() {
	grep -E -e "$2" "$T_TMP/$1" >/dev/null || t_why "no line of std$1 matches: $2"
}

# t_expect_empty out|err
t_expect_empty() {
	[ ! -s "$T_TMP/$1" ] || t_why "std$1 should be empty"
}

# t_expect_lines out|err N: the stream has exactly N lines
t_expect_lines() {
	t_n=$(wc -l <"$T_TMP/$1" | tr -d ' ')
	[ "$t_n" -eq "$2" ] || t_why "std$1 has $t_n lines, expected $2"
}

t_end() {
	if [ -s "$T_TMP/why" ]; then
		T_FAILED=$((T_FAILED + 1))
		printf 'FAIL %s\n' "$T_NAME"
		sed 's/^/  /' "$T_TMP/why"
		printf '  exit status: %s\n' "$T_STATUS"
		if [ -s "$T_TMP/out" ]; then
			printf '  stdout:\n'
			sed 's/^/  | /' "$T_TMP/out"
		fi
		if [ -s "$T_TMP/err" ]; then
			printf '  stderr:\n'
			sed 's/^/  | /' "$T_TMP/err"
		fi
	else
		t_ok "$T_NAME"
	fi
}

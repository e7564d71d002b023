#!/bin/sh
# tests/fmt.sh: `stk fmt` against expected layouts, tests as data.
#
# Every case in tests/fmt/ is a pair NAME.in.stk, NAME.out.stk: the layout stk fmt must give
# the input. For each pair:
#   - `stk fmt - < NAME.in.stk` prints NAME.out.stk exactly, and so does
#     `stk fmt - < NAME.out.stk` (the layout is stable);
#   - on copies in a scratch directory, `stk fmt -check` exits 0 on the output, 3 on the input
#     (0 when the input is already formatted), and changes neither;
#   - `stk fmt FILE` rewrites a copy of the input into NAME.out.stk.
# A case NAME.bad.stk has errors: `stk fmt FILE` exits 1 with a diagnostic naming the file and
# leaves it as it was. The cli_* cases check the command line: directories, .stkvars files,
# -recursive, -diff, -write=false, -list=false, standard input.
#
#   sh tests/fmt.sh [NAME...]                       run every case, or the ones named
#   STK_UPDATE_GOLDEN=1 sh tests/fmt.sh [NAME...]   rewrite NAME.out.stk from NAME.in.stk;
#                                                   review the result with git diff
#
# Environment: STK (the binary), STK_SRCDIR (the repository root), NO_COLOR=1.

case $0 in
*/*) T_LIB=${0%/*}/lib.sh ;;
*) T_LIB=./lib.sh ;;
esac
# shellcheck source=tests/lib.sh
. "$T_LIB" || exit 99

t_init "$0"
cases_dir=$STK_SRCDIR/tests/fmt
update=${STK_UPDATE_GOLDEN:-}
[ "$update" = 0 ] && update=

cd "$cases_dir" || exit 99

# fmt_stdin IN OUT: stk fmt - < IN > OUT; the status in $status
fmt_stdin() {
	status=0
	t_timeout 20 "$STK" fmt - <"$1" >"$2" 2>"$T_TMP/err" || status=$?
}

# fmt_in_dir ARGS...: stk fmt ARGS... run in $T_TMP/w; the status in $status
fmt_in_dir() {
	status=0
	(cd "$T_TMP/w" && t_timeout 20 "$STK" fmt "$@") <"/dev/null" >"$T_TMP/out" \
		2>"$T_TMP/err" || status=$?
}

# count_entries DIR: how many entries DIR has, hidden ones included
count_entries() {
	ce_n=0
	for ce_f in "$1"/* "$1"/.[!.]* "$1"/..?*; do
		if [ -e "$ce_f" ] || [ -L "$ce_f" ]; then
			ce_n=$((ce_n + 1))
		fi
	done
	echo "$ce_n"
}

fresh_dir() {
	rm -rf "$T_TMP/w"
	mkdir "$T_TMP/w"
}

check_pair() {
	name=$1
	why=
	if [ -n "$update" ]; then
		fmt_stdin "$name.in.stk" "$T_TMP/actual"
		if [ "$status" -ne 0 ]; then
			t_fail "$name" "stk fmt exited $status" "$(cat "$T_TMP/err")"
		elif [ -f "$name.out.stk" ] && cmp -s "$name.out.stk" "$T_TMP/actual"; then
			t_ok "$name"
		else
			cp "$T_TMP/actual" "$name.out.stk"
			T_PASSED=$((T_PASSED + 1))
			printf 'updated %s\n' "$name"
		fi
		return
	fi
	if [ ! -f "$name.out.stk" ]; then
		t_fail "$name" "no $name.out.stk: create it with STK_UPDATE_GOLDEN=1 sh tests/fmt.sh $name"
		return
	fi
	: >"$T_TMP/diff"

	fmt_stdin "$name.in.stk" "$T_TMP/actual"
	if [ "$status" -ne 0 ]; then
		why="$why|stk fmt - < $name.in.stk exited $status: $(head -n 3 "$T_TMP/err")"
	elif ! t_diff "$name.out.stk" "$T_TMP/actual" "$name.out.stk" >>"$T_TMP/diff"; then
		why="$why|stk fmt - < $name.in.stk differs from $name.out.stk"
	fi

	fmt_stdin "$name.out.stk" "$T_TMP/again"
	if [ "$status" -ne 0 ]; then
		why="$why|stk fmt - < $name.out.stk exited $status: $(head -n 3 "$T_TMP/err")"
	elif ! t_diff "$name.out.stk" "$T_TMP/again" "$name.out.stk (formatted again)" \
		>>"$T_TMP/diff"; then
		why="$why|not idempotent: formatting $name.out.stk changes it"
	fi

	fresh_dir
	cp "$name.in.stk" "$T_TMP/w/in.stk"
	cp "$name.out.stk" "$T_TMP/w/out.stk"
	want=3
	cmp -s "$name.in.stk" "$name.out.stk" && want=0
	fmt_in_dir -check in.stk
	[ "$status" -eq "$want" ] || why="$why|stk fmt -check on the input exited $status, not $want"
	cmp -s "$name.in.stk" "$T_TMP/w/in.stk" || why="$why|stk fmt -check changed the input"
	fmt_in_dir -check out.stk
	[ "$status" -eq 0 ] || why="$why|stk fmt -check on the output exited $status, not 0"
	cmp -s "$name.out.stk" "$T_TMP/w/out.stk" || why="$why|stk fmt -check changed the output"

	fmt_in_dir in.stk
	if [ "$status" -ne 0 ]; then
		why="$why|stk fmt FILE exited $status"
	elif ! cmp -s "$name.out.stk" "$T_TMP/w/in.stk"; then
		why="$why|stk fmt FILE did not rewrite the input into $name.out.stk"
	fi

	if [ -z "$why" ]; then
		t_ok "$name"
		return
	fi
	fail_with "$name" "$why"
	cat "$T_TMP/diff"
}

# fail_with NAME WHY: WHY holds reasons separated by '|'
fail_with() {
	fw_name=$1
	fw_old_ifs=$IFS
	IFS='|'
	# shellcheck disable=SC2086
	set -- ${2#|}
	IFS=$fw_old_ifs
	t_fail "$fw_name" "$@"
}

check_bad() {
	name=$1
	why=
	fresh_dir
	cp "$name.bad.stk" "$T_TMP/w/$name.stk"
	for mode in "" -check -diff; do
		fmt_in_dir $mode "$name.stk"
		[ "$status" -eq 1 ] || why="$why|stk fmt $mode on a file with errors exited $status, not 1"
		grep -q "^$name.stk:[0-9]*:[0-9]*: error: " "$T_TMP/err" ||
			why="$why|stk fmt $mode printed no diagnostic naming $name.stk"
		[ -s "$T_TMP/out" ] && why="$why|stk fmt $mode printed on stdout: $(head -n 1 "$T_TMP/out")"
		cmp -s "$name.bad.stk" "$T_TMP/w/$name.stk" || why="$why|stk fmt $mode changed the file"
	done
	fmt_stdin "$name.bad.stk" "$T_TMP/actual"
	[ "$status" -eq 1 ] || why="$why|stk fmt - exited $status, not 1"
	[ -s "$T_TMP/actual" ] && why="$why|stk fmt - printed text for a file with errors"
	[ "$(count_entries "$T_TMP/w")" -eq 1 ] ||
		why="$why|a temporary file was left behind: $(ls -A "$T_TMP/w")"
	if [ -z "$why" ]; then
		t_ok "$name"
	else
		fail_with "$name" "$why"
		sed 's/^/  | /' "$T_TMP/err"
	fi
}

# expect NAME WHAT FILE: appends to $why when FILE is not exactly the text on stdin
expect() {
	cat >"$T_TMP/expected"
	if ! cmp -s "$T_TMP/expected" "$3"; then
		why="$why|$2"
		t_diff "$T_TMP/expected" "$3" "$1" >>"$T_TMP/diff"
	fi
}

# A directory with files to format, a .stkvars file, others to leave, a subdirectory.
make_tree() {
	fresh_dir
	printf 'a=1\n' >"$T_TMP/w/a.stk"
	printf 'b = 2\n' >"$T_TMP/w/b.stk"
	printf 'region="eu"\ncount   = 2\n' >"$T_TMP/w/prod.stkvars"
	printf 'x=1\n' >"$T_TMP/w/notes.txt"
	printf 'h=1\n' >"$T_TMP/w/.hidden.stk"
	mkdir "$T_TMP/w/sub" "$T_TMP/w/.git"
	printf 'c=3\n' >"$T_TMP/w/sub/c.stk"
	printf 'g=1\n' >"$T_TMP/w/.git/g.stk"
}

cli_cases() {
	# -check on a directory: its .stk and .stkvars files in name order, not subdirectories
	name=cli_check_dir why=
	: >"$T_TMP/diff"
	make_tree
	fmt_in_dir -check
	[ "$status" -eq 3 ] || why="$why|exit $status, not 3"
	printf 'a.stk\nprod.stkvars\n' | expect "$name" "wrong list of files" "$T_TMP/out"
	cmp -s "$T_TMP/w/a.stk" - <<EOF || why="$why|-check changed a.stk"
a=1
EOF
	report

	name=cli_write_dir why=
	: >"$T_TMP/diff"
	make_tree
	chmod 640 "$T_TMP/w/a.stk"
	fmt_in_dir .
	[ "$status" -eq 0 ] || why="$why|exit $status, not 0"
	printf 'a.stk\nprod.stkvars\n' | expect "$name" "wrong list of changed files" "$T_TMP/out"
	printf 'a = 1\n' | expect "$name" "a.stk not rewritten" "$T_TMP/w/a.stk"
	printf 'region = "eu"\ncount  = 2\n' | expect "$name" "prod.stkvars not rewritten" \
		"$T_TMP/w/prod.stkvars"
	printf 'x=1\n' | expect "$name" "notes.txt was touched" "$T_TMP/w/notes.txt"
	printf 'h=1\n' | expect "$name" ".hidden.stk was touched" "$T_TMP/w/.hidden.stk"
	printf 'c=3\n' | expect "$name" "sub/c.stk was touched without -recursive" "$T_TMP/w/sub/c.stk"
	case $(ls -l "$T_TMP/w/a.stk") in
	-rw-r-----*) ;;
	*) why="$why|the file mode was not kept: $(ls -l "$T_TMP/w/a.stk")" ;;
	esac
	[ "$(count_entries "$T_TMP/w")" -eq 7 ] || why="$why|stray files: $(ls -A "$T_TMP/w")"
	fmt_in_dir
	[ "$status" -eq 0 ] && [ ! -s "$T_TMP/out" ] || why="$why|second run not silent"
	report

	name=cli_recursive why=
	: >"$T_TMP/diff"
	make_tree
	fmt_in_dir -recursive -list=false
	[ "$status" -eq 0 ] || why="$why|exit $status, not 0"
	[ -s "$T_TMP/out" ] && why="$why|-list=false still listed: $(head -n 1 "$T_TMP/out")"
	printf 'c = 3\n' | expect "$name" "sub/c.stk not rewritten" "$T_TMP/w/sub/c.stk"
	printf 'g=1\n' | expect "$name" ".git/g.stk was touched" "$T_TMP/w/.git/g.stk"
	report

	name=cli_diff why=
	: >"$T_TMP/diff"
	make_tree
	printf 'locals {\nx=1\n  y = 2\n  z = 3\n  w = 4\n  v = 5\n  u = 6\n  t = 7\n  s = 8\n  r=9\n}' \
		>"$T_TMP/w/a.stk"
	fmt_in_dir -diff -write=false a.stk b.stk
	[ "$status" -eq 0 ] || why="$why|exit $status, not 0"
	expect "$name" "wrong diff" "$T_TMP/out" <<'EOF'
--- old/a.stk
+++ new/a.stk
@@ -1,5 +1,5 @@
 locals {
-x=1
+  x = 1
   y = 2
   z = 3
   w = 4
@@ -7,5 +7,5 @@
   u = 6
   t = 7
   s = 8
-  r=9
-}
\ No newline at end of file
+  r = 9
+}
EOF
	report

	name=cli_diff_check why=
	: >"$T_TMP/diff"
	make_tree
	fmt_in_dir -check -diff a.stk b.stk
	[ "$status" -eq 3 ] || why="$why|exit $status, not 3"
	expect "$name" "wrong output" "$T_TMP/out" <<'EOF'
a.stk
--- old/a.stk
+++ new/a.stk
@@ -1 +1 @@
-a=1
+a = 1
EOF
	printf 'a=1\n' | expect "$name" "-check -diff changed a.stk" "$T_TMP/w/a.stk"
	report

	name=cli_write_false why=
	: >"$T_TMP/diff"
	make_tree
	fmt_in_dir -write=false a.stk b.stk
	[ "$status" -eq 0 ] || why="$why|exit $status, not 0"
	printf 'a = 1\nb = 2\n' | expect "$name" "wrong text" "$T_TMP/out"
	printf 'a=1\n' | expect "$name" "-write=false changed a.stk" "$T_TMP/w/a.stk"
	report

	name=cli_stdin why=
	: >"$T_TMP/diff"
	status=0
	printf 'a=1\n' | "$STK" fmt -check - >"$T_TMP/out" 2>"$T_TMP/err" || status=$?
	[ "$status" -eq 3 ] || why="$why|-check - on unformatted text exited $status, not 3"
	[ -s "$T_TMP/out" ] && why="$why|-check - printed: $(head -n 1 "$T_TMP/out")"
	status=0
	printf 'a = 1\n' | "$STK" fmt -check - >"$T_TMP/out" 2>"$T_TMP/err" || status=$?
	[ "$status" -eq 0 ] || why="$why|-check - on formatted text exited $status, not 0"
	status=0
	printf 'a=1\n' | "$STK" fmt -diff - >"$T_TMP/out" 2>"$T_TMP/err" || status=$?
	[ "$status" -eq 0 ] || why="$why|-diff - exited $status, not 0"
	expect "$name" "wrong diff of standard input" "$T_TMP/out" <<'EOF'
--- old/<stdin>
+++ new/<stdin>
@@ -1 +1 @@
-a=1
+a = 1
EOF
	report

	name=cli_errors why=
	: >"$T_TMP/diff"
	make_tree
	printf 'bad = {\n' >"$T_TMP/w/bad.stk"
	fmt_in_dir .
	[ "$status" -eq 1 ] || why="$why|a directory with a broken file: exit $status, not 1"
	printf 'a = 1\n' | expect "$name" "the good file beside the broken one was not formatted" \
		"$T_TMP/w/a.stk"
	printf 'bad = {\n' | expect "$name" "the broken file was changed" "$T_TMP/w/bad.stk"
	fmt_in_dir missing.stk
	[ "$status" -eq 1 ] || why="$why|a missing file: exit $status, not 1"
	grep -q 'missing.stk' "$T_TMP/err" || why="$why|no message names missing.stk"
	fmt_in_dir -nosuchflag
	[ "$status" -eq 1 ] || why="$why|an unknown flag: exit $status, not 1"
	report
}

report() {
	if [ -z "$why" ]; then
		t_ok "$name"
	else
		fail_with "$name" "$why"
		cat "$T_TMP/diff"
	fi
}

if [ $# -gt 0 ]; then
	for arg in "$@"; do
		arg=${arg##*/}
		arg=${arg%.stk}
		arg=${arg%.in}
		arg=${arg%.out}
		arg=${arg%.bad}
		if [ -f "$arg.in.stk" ]; then
			check_pair "$arg"
		elif [ -f "$arg.bad.stk" ]; then
			check_bad "$arg"
		else
			t_fail "$arg" "no such case: $cases_dir/$arg.in.stk or $arg.bad.stk"
		fi
	done
	t_summary
	exit $?
fi

found=0
for f in *.in.stk; do
	[ -f "$f" ] || continue
	found=$((found + 1))
	check_pair "${f%.in.stk}"
done
for f in *.out.stk; do
	[ -f "$f" ] || continue
	# an expected layout whose input is gone would pass silently forever
	[ -f "${f%.out.stk}.in.stk" ] || t_fail "${f%.out.stk}" "$f has no ${f%.out.stk}.in.stk"
done
for f in *.bad.stk; do
	[ -f "$f" ] || continue
	found=$((found + 1))
	check_bad "${f%.bad.stk}"
done
if [ "$found" -eq 0 ]; then
	t_fail "fmt" "no cases in $cases_dir"
fi
[ -n "$update" ] || cli_cases

# what the project ships is in the canonical layout: the examples and the stdlib's modules
for d in "$STK_SRCDIR"/examples/* "$STK_SRCDIR"/stdlib/*/; do
	[ -d "$d" ] || continue
	ls "$d"/*.stk >/dev/null 2>&1 || continue
	d=${d%/}
	name="shipped ${d#"$STK_SRCDIR"/}"
	if "$STK" fmt -check -diff "$d" >"$T_TMP/ship.out" 2>&1; then
		t_ok "$name is formatted"
	else
		t_fail "$name is formatted" "$(cat "$T_TMP/ship.out")"
	fi
done
t_summary

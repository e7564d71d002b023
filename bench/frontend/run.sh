#!/bin/sh
# run.sh STK_BINARY [SIZES...] -- front-end benchmark: `stk validate DIR`
# against HashiCorp's HCL v2 parser (hclparse/main.go), whole process against
# whole process, on generated configurations of SIZES resources (default
# 10000 100000).  Each tool runs RUNS times (default 3) per size; the best
# wall time and the peak RSS of that run are reported.  See README.md.
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

tmp=$(mktemp -d "${TMPDIR:-/tmp}/stk-bench-frontend.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

note() { echo "$*" >&2; }

# Build the HCL reference parser (GOPATH mode against Debian's packaged HCL).
need_pkgs="install the Debian packages golang-go golang-github-hashicorp-hcl-v2-dev"
hcl=
if ! command -v go >/dev/null 2>&1; then
	note "go not found: $need_pkgs; measuring stk only"
else
	if [ -z "${GOCACHE:-}${XDG_CACHE_HOME:-}${HOME:-}" ]; then
		GOCACHE=$tmp/gocache; export GOCACHE
	fi
	if (cd "$here" && GOPATH=${HCL_GOPATH:-/usr/share/gocode} GO111MODULE=off GOFLAGS='' \
		go build -o "$tmp/hclparse" ./hclparse) >"$tmp/build.log" 2>&1; then
		hcl=$tmp/hclparse
	else
		sed 's/^/  /; 5q' "$tmp/build.log" >&2
		note "building the HCL v2 parser failed: $need_pkgs; measuring stk only"
	fi
fi

# Nanosecond clock if date supports %N (GNU coreutils), else fall back to
# time's %e, which only has 10 ms resolution.
now_ns() { date +%s%N; }
case $(now_ns) in *[!0-9]*) clock=e ;; *) clock=ns ;; esac

# best LABEL CMD...: run CMD $runs times; on success set best_s and best_kib
# (peak RSS of the fastest run) and return 0; on the first failure print
# "LABEL failed: ..." with the start of its stderr and return 1.
best() {
	label=$1; shift
	best_s='' best_kib=''
	i=0
	while [ "$i" -lt "$runs" ]; do
		t0=$(now_ns)
		if ! "$TIME" -f '%e %M' -o "$tmp/time.out" "$@" >/dev/null 2>"$tmp/err"; then
			status=$(sed -n "s/^Command exited with non-zero status /exit status /p; s/^Command terminated by signal /signal /p" "$tmp/time.out")
			note "$label failed: ${status:-could not run} ($*)"
			sed 's/^/  /; 10q' "$tmp/err" >&2
			return 1
		fi
		t1=$(now_ns)
		read -r e kib <"$tmp/time.out"
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

: >"$tmp/results"
failed=0
for n in "$@"; do
	dir=$tmp/n$n
	note "generating $n resources ..."
	"$here/gen.sh" "$n" "$dir"
	sb=$(wc -c <"$dir/stk/main.stk" | tr -d ' ')
	hb=$(wc -c <"$dir/hcl/main.tf" | tr -d ' ')

	note "timing stk validate on $n resources ($sb bytes) ..."
	if best "stk validate" "$stk" validate "$dir/stk"; then
		ss=$best_s sk=$best_kib
	else
		ss=- sk=- failed=1
	fi
	hs=- hk=-
	if [ -n "$hcl" ]; then
		note "timing HCL v2 parse on $n resources ($hb bytes) ..."
		if best "hcl parse" "$hcl" "$dir/hcl/main.tf"; then
			hs=$best_s hk=$best_kib
		else
			failed=1
		fi
	fi
	echo "$n $sb $hb $ss $sk $hs $hk" >>"$tmp/results"
	rm -rf "$dir"
done

echo
awk -v runs="$runs" -v clock="$clock" '
function mbps(bytes, s) { return (s == "-" || s <= 0) ? "-" : sprintf("%.1f", bytes / 1e6 / s) }
function mib(kib) { return kib == "-" ? "-" : sprintf("%.1f", kib / 1024) }
function sec(s) { return s == "-" ? "-" : sprintf("%.3f", s) }
function per10k(s, n) { return s == "-" ? "-" : sprintf("%.4f", s * 10000 / n) }
BEGIN {
	fmt = "%-10s %10s %8s %9s %11s %8s %9s %11s %8s\n"
	printf "frontend: stk validate vs HCL v2 parse (best of %d)\n", runs
	printf fmt, "resources", "bytes", "stk s", "stk MB/s", "stk RSS MB", "hcl s", "hcl MB/s", "hcl RSS MB", "speedup"
}
{
	n[NR] = $1; ss[NR] = $4; hs[NR] = $6
	sp = ($4 == "-" || $6 == "-" || $4 <= 0) ? "-" : sprintf("%.1fx", $6 / $4)
	printf fmt, $1, $2, sec($4), mbps($2, $4), mib($5), sec($6), mbps($3, $6), mib($7), sp
}
END {
	print ""
	print "linearity: seconds per 10k resources (constant = linear)"
	for (i = 1; i <= NR; i++)
		printf "  %-10s stk %8s   hcl %8s\n", n[i], per10k(ss[i], n[i]), per10k(hs[i], n[i])
	if (clock != "ns")
		print "note: wall times from GNU time %e (10 ms resolution)"
}' "$tmp/results"
exit "$failed"

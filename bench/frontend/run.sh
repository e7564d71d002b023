#!/bin/sh
# run.sh STK_BINARY [SIZES...] -- front-end benchmark: `stk validate DIR`
# against HashiCorp's HCL v2 parser (hclparse/main.go), whole process against
# whole process, on generated configurations of SIZES resources (default
# 10000 100000).  Each tool runs RUNS times (default 3) per size; the best
# wall time and the peak RSS of that run are reported.  See README.md.
set -eu

bench_name=frontend
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"

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

: >"$tmp/results"
failed=0
for n in "$@"; do
	dir=$tmp/n$n
	note "generating $n resources ..."
	"$here/gen.sh" "$n" "$dir"
	sb=$(wc -c <"$dir/stk/main.stk" | tr -d ' ')
	hb=$(wc -c <"$dir/hcl/main.tf" | tr -d ' ')

	note "timing stk validate on $n resources ($sb bytes) ..."
	if best "stk validate" 0 "$stk" validate "$dir/stk"; then
		ss=$best_s sk=$best_kib sc=$best_cpu
	else
		ss=- sk=- sc=- failed=1
	fi
	hs=- hk=- hc=-
	if [ -n "$hcl" ]; then
		note "timing HCL v2 parse on $n resources ($hb bytes) ..."
		if best "hcl parse" 0 "$hcl" "$dir/hcl/main.tf"; then
			hs=$best_s hk=$best_kib hc=$best_cpu
		else
			failed=1
		fi
	fi
	echo "$n $sb $hb $ss $sk $hs $hk $sc $hc" >>"$tmp/results"
	rm -rf "$dir"
done

echo
awk -v runs="$runs" -v clock="$clock" '
function mbps(bytes, s) { return (s == "-" || s <= 0) ? "-" : sprintf("%.1f", bytes / 1e6 / s) }
function mib(kib) { return kib == "-" ? "-" : sprintf("%.1f", kib / 1024) }
function sec(s) { return s == "-" ? "-" : sprintf("%.3f", s) }
function per10k(s, n) { return s == "-" ? "-" : sprintf("%.4f", s * 10000 / n) }
BEGIN {
	fmt = "%-10s %10s %8s %9s %9s %11s %8s %9s %9s %11s %8s\n"
	printf "frontend: stk validate vs HCL v2 parse (best of %d)\n", runs
	printf fmt, "resources", "bytes", "stk s", "stk cpu s", "stk MB/s", "stk RSS MB", "hcl s", "hcl cpu s", "hcl MB/s", "hcl RSS MB", "speedup"
}
{
	n[NR] = $1; ss[NR] = $4; hs[NR] = $6
	sp = ($4 == "-" || $6 == "-" || $4 <= 0) ? "-" : sprintf("%.1fx", $6 / $4)
	printf fmt, $1, $2, sec($4), $8, mbps($2, $4), mib($5), sec($6), $9, mbps($3, $6), mib($7), sp
}
END {
	print ""
	print "cpu s: user + system seconds of all threads (stk parses a big file in pieces, one"
	print "thread per processor; Go collects garbage on other threads); the speedup is of wall time"
	print ""
	print "linearity: seconds per 10k resources (constant = linear)"
	for (i = 1; i <= NR; i++)
		printf "  %-10s stk %8s   hcl %8s\n", n[i], per10k(ss[i], n[i]), per10k(hs[i], n[i])
	if (clock != "ns")
		print "note: wall times from GNU time %e (10 ms resolution)"
}' "$tmp/results"

# make bench's rows (bench/all.sh): one per size; the target is 20x HCL v2's time
[ -z "${BENCH_ROWS:-}" ] || awk -v peer="$hcl" '
function size(n) { return n % 1000 ? n : (n / 1000) "k" }
function fig(s, bytes, kib) { return sprintf("%.3f s, %.1f MB/s, %.0f MB RSS", s, bytes / 1e6 / s, kib / 1024) }
{
	stk = "failed"; hcl = "HCL v2 failed"; ratio = "-"; met = "-"
	if (peer == "")
		hcl = "peer not available"
	if ($4 != "-" && $4 > 0)
		stk = fig($4, $2, $5)
	if (peer != "" && $6 != "-" && $6 > 0)
		hcl = "HCL v2: " fig($6, $3, $7)
	if (stk != "failed" && hcl ~ /^HCL v2:/) {
		ratio = sprintf("%.1fx faster", $6 / $4)
		met = $6 / $4 >= 20 ? "yes" : "no"
	}
	printf "frontend: validate, %s resources\t%s\t%s\t%s\t>= 20x faster\t%s\n", size($1), stk, hcl, ratio, met
}' "$tmp/results" >>"$BENCH_ROWS"
exit "$failed"

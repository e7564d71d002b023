#!/bin/sh
# run.sh STK_BINARY [N] -- apply benchmark: 1 VPC, N subnets and N security groups (default
# N=100: 201 objects) applied to moto_server through tests/fault_proxy.py holding every call
# LATENCY_MS (default 50) milliseconds, at each -parallelism in PARALLELISM (default "10 64"),
# RUNS times (default 3; best kept), destroyed again after each run. Prints the wall time of
# each apply beside its lower bound, the longer of
#   chain:  the longest chain of dependent calls times the latency (the calls the proxy counts
#           applying the VPC and one subnet, or the VPC and one group, alone), and
#   calls/p: the calls the proxy counts for the whole apply / parallelism times the latency,
# and, to tell stk's scheduling from the server's speed, the same apply with no latency added
# and what stk saw of its calls (STK_LOG=info): their mean time and how busy its workers were.
# See README.md.
set -eu

bench_name=apply
here=$(cd "$(dirname "$0")" && pwd)
given=$#
. "$here/../lib.sh"
[ "$given" -ge 2 ] || set -- 100
[ $# -eq 1 ] && [ "$1" -le 256 ] || { echo "usage: $0 STK_BINARY [N] (N at most 256)" >&2; exit 2; }
n=$1 objects=$(($1 * 2 + 1))
lat=${LATENCY_MS:-50}
pars=${PARALLELISM:-10 64}
case $lat in ''|*[!0-9]*|0) echo "$0: LATENCY_MS must be a positive integer" >&2; exit 2 ;; esac
[ -n "$pars" ] || { echo "$0: PARALLELISM is empty" >&2; exit 2; }
for p in $pars; do
	case $p in ''|*[!0-9]*|0) echo "$0: PARALLELISM must hold positive integers" >&2; exit 2 ;; esac
done
target=1.3
. "$here/../aws.sh"

if why=$(aws_missing); then
	note "$why: moto not available, the apply benchmark is skipped"
	for p in $pars; do
		row "apply: $objects objects, $lat ms a call, -parallelism=$p" "moto not available" - - \
			"<= ${target}x bound" -
	done
	exit 0
fi
aws_start --rate 0
name=stk-bench-$$

# timed_apply DIR LATENCY_MS P: applies DIR at parallelism P with that latency; sets s (wall
# seconds), c (calls at the proxy), acts (calls by action), mean (mean ms of a call as stk
# saw it) and busy (the share of P workers x wall time spent in calls). Then destroys it all
# with no latency.
timed_apply() {
	aws_config "latency=$2"
	aws_actions >"$tmp/actions.before"
	r0=$(aws_requests)
	STK_LOG=info; export STK_LOG
	aws_stk_timed "$1" apply -auto-approve -parallelism="$3"
	unset STK_LOG
	r1=$(aws_requests)
	aws_config latency=0
	[ "$stk_status" -eq 0 ] || { aws_failed "stk apply -parallelism=$3"; exit 1; }
	s=$(cat "$tmp/wall")
	c=$((r1 - r0))
	# from the VPC's "Creation complete" to the last "Creating...": how long the main thread
	# took to hand the VPC's dependents to the workers (it prints that line as it queues one)
	queue=$(awk '/aws\.vpc\.many: Creation complete/ { v = $1 } / Creating\.\.\.$/ { q = $1 }
		END { printf "%.3f\n", (v != "" && q > v ? q - v : 0) }' "$tmp/out")
	acts=$(aws_actions "$tmp/actions.before")
	set -- "$1" "$2" "$3" "$(awk -v s="$s" -v p="$3" '
		/^stk http: .* in [0-9]+ ms/ { for (i = 1; i < NF; i++) if ($i == "in") ms = $(i + 1); t += ms; k++ }
		END { if (!k) { print "- -"; exit }
		      busy = t / 1000 / (s * p) * 100; printf "%.0f %.0f\n", t / k, (busy > 100 ? 100 : busy) }' "$tmp/err")"
	mean=${4% *} busy=${4#* }
	aws_stk "$1" destroy -auto-approve -parallelism=64
	[ "$stk_status" -eq 0 ] || { aws_failed "stk destroy"; exit 1; }
	rm -rf "$1"
}

# The longest chain: everything hangs off the VPC, so it is the VPC and then one subnet, or
# the VPC and then one group, whichever makes more calls (stk makes an object's calls one
# after another, and a dependent's only once its dependency is complete). Each is applied
# alone, with the latency on, so its wall time shows stk's own overhead on the chain too.
chain=0 chain_what='' chain_s=''
for what in subnet group; do
	if [ "$what" = subnet ]; then ns=1 ng=0; else ns=0 ng=1; fi
	note "applying the chain alone: the VPC and one $what, $lat ms a call ..."
	aws_many "$tmp/chain" "$name-chain" "$ns" "$ng"
	timed_apply "$tmp/chain" "$lat" 10
	note "  $c calls in $s s: $acts"
	echo "$what $c $s $acts" >>"$tmp/chains"
	if [ "$c" -gt "$chain" ]; then
		chain=$c chain_what=$what chain_s=$s
	fi
done

: >"$tmp/results"
i=0
for p in $pars; do
	# the same apply with no latency added: moto's own service time and stk's own work, which
	# the bound (calls times latency) leaves out
	note "applying $objects objects with no added latency, -parallelism=$p ..."
	aws_many "$tmp/zero" "$name-zero$p" "$n" "$n"
	timed_apply "$tmp/zero" 0 "$p"
	note "  $c calls in $s s; a call took $mean ms on average, workers busy $busy%"
	zero_s=$s
	best_s='' calls=0
	r=0
	while [ "$r" -lt "$runs" ]; do
		note "applying $objects objects, $lat ms a call, -parallelism=$p ($((r + 1)) of $runs) ..."
		aws_many "$tmp/many" "$name-$i" "$n" "$n"
		i=$((i + 1))
		timed_apply "$tmp/many" "$lat" "$p"
		note "  $c calls in $s s; a call took $mean ms on average, workers busy $busy%;" \
			"the VPC's dependents were queued over $queue s"
		[ "$c" -le "$calls" ] || calls=$c
		if [ -z "$best_s" ] || awk -v a="$s" -v b="$best_s" 'BEGIN { exit !(a < b) }'; then
			best_s=$s best_mean=$mean best_busy=$busy best_queue=$queue
		fi
		r=$((r + 1))
	done
	echo "$p $calls $best_s $zero_s $best_mean $best_busy $best_queue" >>"$tmp/results"
	last_acts=$acts
done

# bound P CALLS: max(chain x latency, CALLS / P x latency), seconds
bound() {
	awk -v ch="$chain" -v c="$2" -v p="$1" -v lat="$lat" 'BEGIN {
		L = lat / 1000; cs = ch * L; ps = c / p * L; printf "%.3f\n", (cs > ps ? cs : ps) }'
}

echo
echo "apply: $objects objects (1 VPC, $n subnets, $n security groups) through a proxy holding" \
	"each call $lat ms (best of $runs)"
awk -v lat="$lat" -v chain="$chain" -v cwhat="$chain_what" -v chain_s="$chain_s" -v target="$target" '
BEGIN {
	L = lat / 1000
	printf "chain: the VPC then one %s, %d calls = %.3f s of latency (applied alone: %.3f s)\n",
		cwhat, chain, chain * L, chain_s
	fmt = "%-11s %6s %8s %8s %9s %8s %7s %-8s %9s %8s %5s %8s\n"
	printf fmt, "parallelism", "calls", "wall s", "chain s", "calls/p s", "bound s", "ratio",
		"<=" target "x", "no-lat s", "call ms", "busy", "queue s"
}
{
	p = $1; c = $2; s = $3
	cs = chain * L; ps = c / p * L; b = (cs > ps ? cs : ps)
	r = s / b
	printf fmt, p, c, sprintf("%.3f", s), sprintf("%.3f", cs), sprintf("%.3f", ps), sprintf("%.3f", b),
		sprintf("%.2fx", r), (r <= target ? "met" : "NOT met"), sprintf("%.3f", $4), $5, $6 "%", $7
	if (r > target) miss = miss " " p
}
END {
	if (miss != "")
		printf "stk is NOT within %sx of the bound at -parallelism%s.\n", target, miss
	print "no-lat s: the same apply with no latency added (moto'"'"'s and the proxy'"'"'s service time, stk'"'"'s work);"
	print "call ms: the mean time of a call as stk saw it (STK_LOG=info), latency included;"
	print "busy: the share of parallelism x wall time stk'"'"'s workers spent in calls;"
	print "queue s: from the VPC'"'"'s completion to the last of its dependents queued for the workers"
	print "  (the main thread writes the state once per round, with the intents of the creates it starts, then queues them)"
}' "$tmp/results"
echo "calls by action (last run): $last_acts"
while read -r what c s acts; do
	echo "chain with one $what: $c calls: $acts"
done <"$tmp/chains"

while read -r p c s z m b q; do
	bd=$(bound "$p" "$c")
	ratio=$(awk -v s="$s" -v b="$bd" 'BEGIN { printf "%.2f", s / b }')
	met=no
	awk -v r="$ratio" -v t="$target" 'BEGIN { exit !(r <= t) }' && met=yes
	row "apply: $objects objects, $lat ms a call, -parallelism=$p" "$s s, $c calls ($m ms a call)" \
		"$bd s = max($chain, $c/$p) x $lat ms" "${ratio}x" "<= ${target}x bound" "$met"
	row "  same, no latency added (moto + proxy alone)" "$z s" - - "(reference)" -
done <"$tmp/results"

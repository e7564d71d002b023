#!/bin/sh
# run.sh STK_BINARY [N] -- refresh benchmark: applies 1 VPC, N subnets and N security groups
# (default N=100: 201 objects) to moto_server, then times a refreshing `stk plan` of them
# RUNS times (default 3) through tests/fault_proxy.py (no faults, no latency), which counts
# the API calls each makes at the server side. Prints the calls, the best wall time and
# the calls by action. See README.md.
set -eu

bench_name=refresh
here=$(cd "$(dirname "$0")" && pwd)
given=$#
. "$here/../lib.sh"
[ "$given" -ge 2 ] || set -- 100
[ $# -eq 1 ] && [ "$1" -le 256 ] || { echo "usage: $0 STK_BINARY [N] (N at most 256)" >&2; exit 2; }
n=$1 objects=$(($1 * 2 + 1))
. "$here/../aws.sh"

if why=$(aws_missing); then
	note "$why: moto not available, the refresh benchmark is skipped"
	row "refresh: plan of $objects objects" "moto not available" "10 calls" - "<= 10 calls" -
	exit 0
fi
aws_start --rate 0
w=$tmp/many
aws_many "$w" "stk-bench-$$" "$n" "$n"

note "applying 1 VPC, $n subnets and $n security groups to moto ..."
aws_stk "$w" apply -auto-approve -parallelism=32
[ "$stk_status" -eq 0 ] || { aws_failed "stk apply"; exit 1; }

best_s='' calls=0 i=0
while [ "$i" -lt "$runs" ]; do
	note "timing a refreshing stk plan of $objects objects ($((i + 1)) of $runs) ..."
	aws_actions >"$tmp/actions.before"
	r0=$(aws_requests)
	t0=$(now_ns)
	aws_stk "$w" plan -detailed-exitcode
	t1=$(now_ns)
	r1=$(aws_requests)
	# 0: no changes, as it must be right after the apply
	[ "$stk_status" -eq 0 ] || { aws_failed "stk plan (expected No changes., exit 0)"; exit 1; }
	c=$((r1 - r0))
	[ "$c" -le "$calls" ] || calls=$c
	s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	if [ -z "$best_s" ] || awk -v a="$s" -v b="$best_s" 'BEGIN { exit !(a < b) }'; then
		best_s=$s
	fi
	i=$((i + 1))
done
by_action=$(aws_actions "$tmp/actions.before")

echo
echo "refresh: refreshing stk plan of 1 VPC, $n subnets, $n security groups in moto (best of $runs)"
printf '%-10s %9s %9s\n' objects "API calls" seconds
printf '%-10s %9s %9s\n' "$objects" "$calls" "$best_s"
echo "calls by action (last run): $by_action"
met=no
[ "$calls" -le 10 ] && met=yes
row "refresh: plan of $objects objects" "$calls calls, $best_s s" "10 calls" \
	"$(awk -v c="$calls" 'BEGIN { printf "%.1fx", c / 10 }')" "<= 10 calls" "$met"

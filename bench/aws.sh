# aws.sh -- sourced by bench/refresh/run.sh and bench/apply/run.sh after lib.sh: moto_server
# with tests/fault_proxy.py in front of it, started by tests/moto.sh's own moto_start and
# proxy_start (IAM user made through INITIAL_NO_AUTH_ACTION_COUNT=3, signatures and
# permissions checked from then on; 127.0.0.1 only). stk always talks to the proxy, so every
# API call it makes is counted there (GET /fault-proxy/stats); the setup calls awscli makes
# go straight to moto and are not.
#
#   aws_available || { ...print "not available" rows...; exit 0; }
#   aws_start [PROXY ARGS...]   # sets EP (moto), PX (the proxy), AWS_* for stk; stopped on exit
#   aws_requests                # the proxy's request count so far
#   aws_config QUERY            # GET /fault-proxy/config?QUERY (latency=MS, rate=R, ...)
#   aws_stk DIR ARGS...         # stk ARGS in DIR through the proxy: status in stk_status,
#                               # output in $tmp/out and $tmp/err
#   aws_stk_timed DIR ARGS...   # the same, its lines timed, its wall time in $tmp/wall
#   aws_many DIR NAME NS NG      # writes DIR/main.stk: 1 VPC, NS subnets, NG security groups

srcdir=$(cd "$here/../.." && pwd)
case $stk in /*) ;; *) stk=$(pwd)/$stk ;; esac

# Why the AWS benchmarks cannot run here, or nothing (status 0) when they can.
aws_missing() {
	for c in moto_server aws curl python3; do
		if ! command -v "$c" >/dev/null 2>&1; then
			echo "$c not found (moto_server and aws come from pip: moto[server] awscli)"
			return 0
		fi
	done
	return 1
}

aws_stop() {
	trap - EXIT
	set +e   # wait says how they ended (killed): not a failure here
	for p in ${PROXY:-} ${MOTO:-}; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	PROXY='' MOTO=''
	rm -rf "$tmp"
}

aws_start() {
	# tests/moto.sh's expectations: a scratch directory, the source tree, a cleanup
	T_TMP=$tmp STK_SRCDIR=$srcdir
	t_cleanup() { :; }
	. "$srcdir/tests/moto.sh"
	MOTO='' PROXY=''
	# both print only when they fail, and then exit; each sets its own traps
	moto_start >&2
	trap 'aws_stop' EXIT
	trap 'exit 130' INT TERM
	proxy_start "$@" >&2
	trap 'aws_stop' EXIT
	trap 'exit 130' INT TERM
	# moto sets up a region's EC2 backend on its first call there (~1 s): done here, untimed
	awsx ec2 describe-vpcs >/dev/null
}

aws_requests() {
	curl -sf "$PX/fault-proxy/stats" | python3 -c 'import json, sys; print(json.load(sys.stdin)["requests"])'
}

# The proxy's requests by action since a snapshot: aws_actions >FILE, then aws_actions FILE.
aws_actions() {
	curl -sf "$PX/fault-proxy/stats" | python3 -c '
import json, sys
now = json.load(sys.stdin)["actions"]
if len(sys.argv) < 2:
    json.dump(now, sys.stdout)
    sys.exit(0)
before = json.load(open(sys.argv[1]))
diff = {k: v - before.get(k, 0) for k, v in now.items() if v - before.get(k, 0)}
print(" ".join("%s=%d" % (k, diff[k]) for k in sorted(diff)))' "$@"
}

aws_config() {
	curl -sf "$PX/fault-proxy/config?$1" >/dev/null
}

aws_stk() {
	d=$1; shift
	stk_status=0
	(cd "$d" && AWS_ENDPOINT_URL=$PX exec "$stk" "$@") </dev/null >"$tmp/out" 2>"$tmp/err" ||
		stk_status=$?
}

# aws_stk_timed DIR ARGS...: aws_stk, with each line of stk's output in $tmp/out after the
# seconds since stk started, and stk's wall time (its start to its exit) in $tmp/wall.
aws_stk_timed() {
	d=$1; shift
	stk_status=0
	(cd "$d" && AWS_ENDPOINT_URL=$PX exec python3 -c '
import subprocess, sys, time
err = open(sys.argv[1], "w")
out = open(sys.argv[2], "w")
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[4:], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
for line in p.stdout:
    out.write("%.3f %s" % (time.monotonic() - t0, line.decode("utf-8", "replace")))
status = p.wait()
open(sys.argv[3], "w").write("%.3f\n" % (time.monotonic() - t0))
sys.exit(status)' "$tmp/err" "$tmp/out" "$tmp/wall" "$stk" "$@") </dev/null || stk_status=$?
}

# aws_failed WHAT: says what failed, with the end of stk's output.
aws_failed() {
	note "$1 failed (exit status $stk_status):"
	tail -n 5 "$tmp/out" | sed 's/^/  /' >&2
	sed 's/^/  /; 10q' "$tmp/err" >&2
}

aws_many() {
	mkdir -p "$1"
	cat >"$1/main.stk" <<EOF
provider aws { region = "us-east-1" }

resource aws.vpc many {
  cidr_block = "10.20.0.0/16"
  tags       = { Name = "$2" }
}

resource aws.subnet s {
  count      = $3
  vpc_id     = aws.vpc.many.id
  cidr_block = cidrsubnet("10.20.0.0/16", 8, count.index)
}

resource aws.security_group g {
  count  = $4
  name   = "$2-g\${count.index}"
  vpc_id = aws.vpc.many.id
}
EOF
}

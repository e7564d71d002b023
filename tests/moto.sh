# tests/moto.sh: moto_server for the AWS tests, sourced after lib.sh's t_init.
#
#   . "$(dirname "$0")/moto.sh"
#   moto_start            # skips the test (exit 77) when moto or awscli is missing
#   awsx ec2 describe-vpcs ...   # awscli against it, as the judge
#
# awsx runs awscli through tests/awscli_server.py (started by moto_start, or by
# awscli_server_start): awscli imported once, each call a fork of it, since importing it took a
# second per call, most of these suites' time. AWSCLI_SOCK empty runs `aws` itself.
#
# moto starts with INITIAL_NO_AUTH_ACTION_COUNT=3: the first three calls make an IAM user, its
# access key and a policy, and from then on every signature and permission is checked. The
# user's key is exported as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, with AWS_ENDPOINT_URL
# pointing at the server, for stk. Only 127.0.0.1 is ever used.
#
#   proxy_start --rate 0.25 --seed 7   # tests/fault_proxy.py in front of moto, at $PX

awsx() {
	if [ -n "${AWSCLI_SOCK:-}" ]; then
		python3 -S "$STK_SRCDIR/tests/awscli_client.py" "$AWSCLI_SOCK" --endpoint-url "$EP" \
			--region us-east-1 "$@"
	else
		aws --endpoint-url "$EP" --region us-east-1 "$@"
	fi
}

# awscli_server_start: tests/awscli_server.py on $T_TMP/awscli.sock, for awsx; it ends with
# this script. Without it (a failure to start is reported), awsx runs `aws` itself.
awscli_server_start() {
	AWSCLI_SOCK=
	python3 "$STK_SRCDIR/tests/awscli_server.py" "$T_TMP/awscli.sock" $$ \
		>"$T_TMP/awscli_server.log" 2>&1 &
	awscli_i=0
	until [ -S "$T_TMP/awscli.sock" ]; do
		awscli_i=$((awscli_i + 1))
		if [ $awscli_i -ge 300 ] || ! kill -0 $! 2>/dev/null; then
			echo "tests/awscli_server.py did not start; awsx runs aws itself:"
			cat "$T_TMP/awscli_server.log"
			return 0
		fi
		sleep 0.1
	done
	AWSCLI_SOCK=$T_TMP/awscli.sock
}

# moto_traps: on exit or a signal, moto and the proxy stop and $T_TMP goes. A signal ends the
# script: a trap that only cleaned up let it run on without $T_TMP, writing its files to /.
moto_traps() {
	trap 'moto_stop; t_cleanup' EXIT
	trap 'moto_stop; t_cleanup; trap - EXIT; exit 130' INT
	trap 'moto_stop; t_cleanup; trap - EXIT; exit 143' TERM
}
moto_stop() {
	kill ${PROXY:-} ${MOTO:-} 2>/dev/null
}

moto_start() {
	# distcheck: these suites ran from the tree, in the normal and the ASan builds, already
	if [ -n "${STK_SKIP_SERVERS:-}" ]; then
		echo "STK_SKIP_SERVERS is set (scripts/check sets it for distcheck): skipping the AWS tests"
		echo "0 passed, 0 failed"
		exit 77
	fi
	if ! command -v moto_server >/dev/null 2>&1 || ! command -v aws >/dev/null 2>&1; then
		echo "moto_server or aws (awscli) is not installed: skipping the AWS tests"
		echo "0 passed, 0 failed"
		exit 77
	fi
	PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	EP=http://127.0.0.1:$PORT
	INITIAL_NO_AUTH_ACTION_COUNT=3 moto_server -H 127.0.0.1 -p "$PORT" >"$T_TMP/moto.log" 2>&1 &
	MOTO=$!
	moto_traps
	awscli_server_start
	moto_i=0
	until curl -s -o /dev/null "$EP/moto-api/" 2>/dev/null; do
		moto_i=$((moto_i + 1))
		if [ $moto_i -ge 150 ]; then
			echo "moto_server did not start"
			cat "$T_TMP/moto.log"
			exit 1
		fi
		sleep 0.1
	done
	export AWS_DEFAULT_REGION=us-east-1
	unset AWS_PROFILE AWS_SESSION_TOKEN
	AWS_ACCESS_KEY_ID=setup AWS_SECRET_ACCESS_KEY=setup awsx iam create-user --user-name stk >/dev/null
	AWS_ACCESS_KEY_ID=setup AWS_SECRET_ACCESS_KEY=setup awsx iam create-access-key --user-name stk \
		--query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text >"$T_TMP/key"
	AWS_ACCESS_KEY_ID=setup AWS_SECRET_ACCESS_KEY=setup awsx iam put-user-policy --user-name stk \
		--policy-name all --policy-document \
		'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:*","rds:*","ecr:*","iam:*","sts:*","s3:*","dynamodb:*"],"Resource":"*"}]}'
	read -r KEY SECRET <"$T_TMP/key"
	export AWS_ACCESS_KEY_ID="$KEY" AWS_SECRET_ACCESS_KEY="$SECRET" AWS_ENDPOINT_URL="$EP"
}

# proxy_start ARGS...: tests/fault_proxy.py in front of moto (see there for ARGS); sets PX to
# its URL and PROXY to its pid. proxy PATH: one of its own routes (stats, config?...).
proxy_start() {
	python3 "$STK_SRCDIR/tests/fault_proxy.py" "$EP" "$@" >"$T_TMP/proxy.port" 2>"$T_TMP/proxy.log" &
	PROXY=$!
	moto_traps
	proxy_i=0
	until [ -s "$T_TMP/proxy.port" ]; do
		proxy_i=$((proxy_i + 1))
		if [ $proxy_i -ge 100 ]; then
			echo "the fault proxy did not start"
			cat "$T_TMP/proxy.log"
			exit 1
		fi
		sleep 0.1
	done
	PX=http://127.0.0.1:$(head -n1 "$T_TMP/proxy.port")
}

proxy() {
	curl -sf "$PX/fault-proxy/$1"
}

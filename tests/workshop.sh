#!/bin/sh
# tests/workshop.sh: the workshop end to end, as the README's scripts/demo runs it, judged
# from outside. scripts/demo --keep applies examples/workshop (stdlib/web_stack for the
# containers) to moto_server, a dockerd of its own and a docker-registry standing in for ECR,
# all on 127.0.0.1, fetches / and /api/health through nginx and plans "No changes". Then:
# curl through nginx, awscli for every AWS object, the docker CLI for the containers and
# their generated nginx.conf (nginx -t in the container and on the host), the registry's v2
# API for the pushed digests; the password in no output; a container removed with the docker
# CLI planned back and re-created; the switch to registry = "dockerhub" planned, applied and
# converged; stdlib/web_stack applied on its own with routes that send / to the backend (or
# nowhere) and a password full of URL characters; and scripts/demo --stop leaves nothing in
# AWS or Docker. First, without Docker, stk plan refuses the module inputs that would break it
# inside a container (route keys, listen_address, ports): those checks run even when the rest
# is skipped, and a failure among them fails the script.
# About 2 minutes (3 the first time, when scripts/base-image runs debootstrap).
. "$(dirname "$0")/lib.sh"
t_init

skip() {
	echo "$1: skipping the workshop test (the checks without Docker ran)"
	t_summary || exit 1
	exit 77
}
# what the end-to-end run needs from the tree, so a tarball without it fails even when skipping
for f in scripts/demo scripts/base-image scripts/packages.sh examples/workshop/main.stk \
	examples/workshop/app/backend/server.py examples/workshop/app/frontend/site/index.html \
	stdlib/web_stack/main.stk stdlib/web_stack/proxy.conf.tpl; do
	[ -f "$STK_SRCDIR/$f" ] || { echo "FAIL $f is missing from the tree"; echo "0 passed, 1 failed"; exit 1; }
done
STK_ABS=$(t_abspath "$STK")
SRC=$(cd "$STK_SRCDIR" && pwd)
# the module under test is this tree's
STK_STDLIB=${STK_STDLIB:-$SRC/stdlib}
export STK_STDLIB

# ---- stdlib/web_stack's inputs, checked by stk plan (no Docker needed) ----
# mod_config DIR [LINE...]: DIR/main.stk calls the module with the workshop's usual inputs and
# the LINEs (inputs that replace or add to them)
mod_config() {
	mc_dir=$1
	shift
	mkdir -p "$mc_dir"
	{
		printf 'provider docker {\n  host = "%s"\n}\n' "${MOD_DOCKER_HOST:-unix:///nonexistent/docker.sock}"
		printf 'module web {\n  source = "stdlib/web_stack"\n'
		for mc_line in "$@"; do
			printf '  %s\n' "$mc_line"
		done
		cat <<'EOF'
}
output url { value = module.web.url }
output proxy_config { value = module.web.proxy_config }
EOF
	} >"$mc_dir/main.stk"
}
MOD_BASE='name = "modt"
frontend_image = "quiz-frontend:test"
backend_image = "quiz-backend:test"
database = { host = "db.example", port = 5432, name = "quiz", username = "quiz" }
database_password = "a-password-123"
public_host = "127.0.0.1"'
# mod_plan NAME [LINE...]: stk plan -refresh=false of the module called with the base inputs
# and the LINEs (an input given twice is an error, so a LINE for a base input replaces it)
mod_plan() {
	mp_dir=$T_TMP/mod-$1
	shift
	mp_lines=$MOD_BASE
	for mp_line in "$@"; do
		mp_name=${mp_line%% *}
		mp_lines=$(printf '%s\n' "$mp_lines" | grep -v "^$mp_name =")
		mp_lines=$(printf '%s\n%s' "$mp_lines" "$mp_line")
	done
	rm -rf "$mp_dir"
	oldifs=$IFS
	IFS='
'
	# shellcheck disable=SC2086
	mod_config "$mp_dir" $mp_lines
	IFS=$oldifs
	T_STATUS=0
	(cd "$mp_dir" && STK_STATE=stk.state t_timeout 20 "$STK_ABS" plan . -refresh=false) \
		</dev/null >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
}

t_begin "web_stack: a route key that is not a plain URL path is refused by plan, naming the key and the rule"
mod_plan routes 'routes = { "/" = "frontend", "/x { return 200 injected; } location /y" = "backend", "/a b" = "backend", "/x; return 200 pwned;" = "backend", "/q\"uote" = "backend", "/nl\nx" = "backend", "api/" = "backend", "/fine/" = "backend" }'
t_expect_status 1
t_expect_has err "error: invalid value for var.routes: routes has keys that are not plain URL paths: "
for k in '"/x { return 200 injected; } location /y"' '"/a b"' '"/x; return 200 pwned;"' '"/q\"uote"' '"/nl\nx"' '"api/"'; do
	t_expect_has err "$k"
done
grep 'error: invalid value for var.routes' "$T_TMP/err" | grep -F -q '"/fine/"' && t_why "the error names /fine/, a good key"
t_expect_has err "A route key starts with / and holds only letters, digits and - . _ ~ ! $ & ( ) * + , = : @ /"
t_end

t_begin "web_stack: listen_address must be IPv4 (::1, [::1] and names are refused by plan)"
: >"$T_TMP/why"
for a in '::1' '[::1]' 'localhost' '256.0.0.1' '127.0.0.1 '; do
	mod_plan v6 "listen_address = \"$a\""
	[ "$T_STATUS" -eq 1 ] || t_why "listen_address = \"$a\": exit status $T_STATUS, expected 1"
	grep -F -q "error: invalid value for var.listen_address: listen_address must be an IPv4 address such as 0.0.0.0 or 127.0.0.1, not \"$a\"" "$T_TMP/err" ||
		t_why "listen_address = \"$a\": $(cat "$T_TMP/err")"
done
for a in '0.0.0.0' '127.0.0.1' '10.20.30.40'; do
	mod_plan v4 "listen_address = \"$a\"" 'listen_port = 19010' 'frontend_port = 19011' 'backend_port = 19012'
	[ "$T_STATUS" -eq 0 ] || t_why "listen_address = \"$a\": exit status $T_STATUS: $(cat "$T_TMP/err")"
done
: >"$T_TMP/out"
: >"$T_TMP/err"
t_end

t_begin "web_stack: a port that is not a whole number from 1 to 65535 is refused by plan, naming the variable"
: >"$T_TMP/why"
for p in 'listen_port = 0' 'listen_port = -1' 'listen_port = 65536' 'listen_port = 70000' 'listen_port = 19020.5' \
	'frontend_port = 0' 'frontend_port = 65536' 'frontend_port = 19021.25' 'backend_port = -1' 'backend_port = 70000' 'backend_port = 19022.5'; do
	v=${p%% *}
	mod_plan port 'listen_port = 19020' 'frontend_port = 19021' 'backend_port = 19022' "$p"
	[ "$T_STATUS" -eq 1 ] || t_why "$p: exit status $T_STATUS, expected 1"
	grep -F -q "error: invalid value for var.$v: $v must be a whole number from 1 to 65535, not ${p#* = }" "$T_TMP/err" ||
		t_why "$p: $(cat "$T_TMP/err")"
	! grep -q 'format' "$T_TMP/err" || t_why "$p: an internal format() error: $(cat "$T_TMP/err")"
done
mod_plan port 'listen_port = 1' 'frontend_port = 65535' 'backend_port = 19022'
[ "$T_STATUS" -eq 0 ] || t_why "ports 1, 65535, 19022: exit status $T_STATUS: $(cat "$T_TMP/err")"
: >"$T_TMP/out"
: >"$T_TMP/err"
t_end

t_begin "web_stack: ports that clash on the host's network are refused by plan"
: >"$T_TMP/why"
mod_plan clash 'listen_port = 19030' 'frontend_port = 19030' 'backend_port = 19031'
grep -F -q "error: invalid value for var.frontend_port: frontend_port and listen_port are both 19030" "$T_TMP/err" ||
	t_why "frontend_port = listen_port: $(cat "$T_TMP/err")"
mod_plan clash 'listen_port = 19040' 'frontend_port = 19041' 'backend_port = 19041'
grep -F -q "error: invalid value for var.backend_port: backend_port is 19041, the same as frontend_port" "$T_TMP/err" ||
	t_why "backend_port = frontend_port: $(cat "$T_TMP/err")"
mod_plan clash 'listen_port = 19050' 'frontend_port = 19051' 'backend_port = 19050'
grep -F -q "error: invalid value for var.backend_port: backend_port is 19050, the same as listen_port" "$T_TMP/err" ||
	t_why "backend_port = listen_port: $(cat "$T_TMP/err")"
mod_plan clash
grep -F -q "error: invalid value for var.backend_port" "$T_TMP/err" && t_why "the default ports clash: $(cat "$T_TMP/err")"
[ "$T_STATUS" -eq 0 ] || t_why "the default ports: exit status $T_STATUS: $(cat "$T_TMP/err")"
: >"$T_TMP/out"
: >"$T_TMP/err"
t_end

[ -z "${STK_SKIP_WORKSHOP:-}" ] || skip "STK_SKIP_WORKSHOP is set (scripts/check sets it for distcheck)"
[ "$(id -u)" -eq 0 ] || skip "dockerd needs root"
for c in dockerd docker docker-registry moto_server aws curl ssh-keygen openssl python3; do
	command -v "$c" >/dev/null 2>&1 || skip "$c is not installed"
done
if ! ls /var/cache/stk/workshop-base-bookworm-*.tar.gz >/dev/null 2>&1; then
	command -v debootstrap >/dev/null 2>&1 || skip "debootstrap is not installed and no base image is cached"
fi

WS=$SRC/examples/workshop
# a short directory: the daemon's sockets live under it
D=$(mktemp -d /tmp/stkws.XXXXXX) || skip "cannot make a directory under /tmp"
rmdir "$D"
stop_demo() {
	if [ -f "$D/servers" ]; then
		"$SRC/scripts/demo" --stop --dir "$D" --stk "$STK_ABS" >"$T_TMP/stop.log" 2>&1 ||
			cat "$T_TMP/stop.log"
	fi
	rm -rf "$D"
	t_cleanup
}
trap 'stop_demo' EXIT
trap 'stop_demo; trap - EXIT; exit 130' INT
trap 'stop_demo; trap - EXIT; exit 143' TERM

# ---- the demo ----
t_begin "scripts/demo --keep: apply, / and /api/health through nginx, then No changes"
T_STATUS=0
"$SRC/scripts/demo" --no-install --keep --stk "$STK_ABS" --dir "$D" >"$T_TMP/out" 2>"$T_TMP/err" ||
	T_STATUS=$?
t_expect_status 0
t_expect_has out "Apply complete! Resources: 20 added, 0 changed, 0 destroyed."
t_expect_has out "<title>stk workshop quiz</title>"
t_expect_has out '{"status": "ok", "database": "'
t_expect_has out "No changes. Your infrastructure matches the configuration."
t_end
cp "$T_TMP/out" "$T_TMP/demo.out"
cat "$T_TMP/err" >>"$T_TMP/demo.out"
[ "$T_STATUS" -eq 0 ] || { tail -n 60 "$T_TMP/demo.out"; t_summary; exit 1; }

# shellcheck disable=SC1091
. "$D/env"
EP=$AWS_ENDPOINT_URL
# awsx, through tests/awscli_server.py (tests/moto.sh); the demo started moto itself
. "$STK_SRCDIR/tests/moto.sh"
awscli_server_start
dk() {
	docker -H "$DOCKER_HOST" "$@"
}
URL=$("$STK_ABS" output -raw url)
PASSWORD=$(sed -n 's/^db_password *= *"\(.*\)"$/\1/p' "$D/local.stkvars")

# ---- through nginx ----
t_begin "curl through nginx: the page, its script, the API"
T_STATUS=0
: >"$T_TMP/err"
curl -fsS --max-time 10 "$URL/" >"$T_TMP/out" 2>>"$T_TMP/err" || T_STATUS=$?
curl -fsS --max-time 10 -D "$T_TMP/js.h" -o "$T_TMP/js" "$URL/app.js" 2>>"$T_TMP/err" || T_STATUS=$?
curl -fsS --max-time 10 "$URL/api/questions" >"$T_TMP/q.json" 2>>"$T_TMP/err" || T_STATUS=$?
curl -fsS --max-time 10 -H 'Content-Type: application/json' \
	-d '{"answers": {"1": 1, "2": 0, "3": 2, "4": 1}}' "$URL/api/answers" >"$T_TMP/a.json" 2>>"$T_TMP/err" || T_STATUS=$?
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$URL/api/nowhere")
t_expect_status 0
t_expect_has out "<script src=\"app.js\"></script>"
grep -qi '^content-type: application/javascript' "$T_TMP/js.h" || t_why "app.js is not served as JavaScript: $(cat "$T_TMP/js.h")"
grep -q 'fetch(url' "$T_TMP/js" || t_why "app.js is not the frontend's script"
python3 -c 'import json, sys
q = json.load(open(sys.argv[1]))
assert len(q) == 4 and all("answer" not in x for x in q), q
a = json.load(open(sys.argv[2]))
assert a == {"score": 4, "total": 4}, a' "$T_TMP/q.json" "$T_TMP/a.json" 2>>"$T_TMP/why" ||
	t_why "the questions or the score are wrong"
[ "$code" = 404 ] || t_why "/api/nowhere answered $code, expected the backend's 404"
t_end

t_begin "/api/health names the RDS instance awscli reports"
db=$(awsx rds describe-db-instances --db-instance-identifier quiz \
	--query 'DBInstances[0].[Endpoint.Address,Endpoint.Port,Engine,DBSubnetGroup.DBSubnetGroupName]' --output text)
set -- $db
T_STATUS=0
curl -fsS --max-time 10 "$URL/api/health" >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 0
t_expect_has out "{\"status\": \"ok\", \"database\": \"$1:$2\"}"
[ "${3:-}" = postgres ] || t_why "engine ${3:-none}, expected postgres"
[ "${4:-}" = quiz ] || t_why "DB subnet group ${4:-none}, expected quiz"
t_end

# ---- AWS, by awscli ----
t_begin "awscli: the network"
: >"$T_TMP/out"
T_STATUS=0
vpc=$(awsx ec2 describe-vpcs --filters Name=tag:Name,Values=quiz --query 'Vpcs[].VpcId' --output text)
[ "$(echo "$vpc" | wc -w)" -eq 1 ] || t_why "VPCs named quiz: '$vpc', expected one"
# the stack's tags are default tags: the VPC has them beside its own Name
[ "$(awsx ec2 describe-vpcs --vpc-ids "$vpc" --output text \
	--query 'Vpcs[0].Tags[?Key==`project` || Key==`managed_by`].Value | sort(@) | join(`,`, @)')" = quiz,stk ] ||
	t_why "the VPC lacks the stack's tags project=quiz and managed_by=stk"
igw=$(awsx ec2 describe-internet-gateways --filters "Name=attachment.vpc-id,Values=$vpc" \
	--query 'InternetGateways[].InternetGatewayId' --output text)
[ "$(echo "$igw" | wc -w)" -eq 1 ] || t_why "gateways attached to $vpc: '$igw'"
subnets=$(awsx ec2 describe-subnets --filters "Name=vpc-id,Values=$vpc" \
	--query 'Subnets[].[Tags[?Key==`Name`]|[0].Value,AvailabilityZone,MapPublicIpOnLaunch]' --output text | sort)
echo "$subnets" >"$T_TMP/out"
t_expect_match out "^quiz-public[[:space:]]+us-east-1a[[:space:]]+True$"
t_expect_match out "^quiz-private-0[[:space:]]+us-east-1a[[:space:]]+False$"
t_expect_match out "^quiz-private-1[[:space:]]+us-east-1b[[:space:]]+False$"
route=$(awsx ec2 describe-route-tables --filters "Name=vpc-id,Values=$vpc" "Name=tag:Name,Values=quiz-public" \
	--query 'RouteTables[0].[Routes[?DestinationCidrBlock==`0.0.0.0/0`].GatewayId|[0],length(Associations)]' --output text)
[ "$route" = "$igw	1" ] || t_why "the public route table: '$route', expected 0.0.0.0/0 to $igw and one association"
t_end

t_begin "awscli: security groups web (80 anywhere, 22 and 2376 from admin_cidr) and db (5432 from web)"
web=$(awsx ec2 describe-security-groups --filters Name=group-name,Values=quiz-web --query 'SecurityGroups[0].GroupId' --output text)
awsx ec2 describe-security-groups --group-ids "$web" \
	--query 'SecurityGroups[0].IpPermissions[].[FromPort,IpRanges[0].CidrIp]' --output text | sort >"$T_TMP/out"
t_expect_match out "^22[[:space:]]+127\.0\.0\.1/32$"
t_expect_match out "^2376[[:space:]]+127\.0\.0\.1/32$"
t_expect_match out "^80[[:space:]]+0\.0\.0\.0/0$"
t_expect_lines out 3
dbsg=$(awsx ec2 describe-security-groups --filters Name=group-name,Values=quiz-db \
	--query 'SecurityGroups[0].IpPermissions[].[FromPort,UserIdGroupPairs[0].GroupId]' --output text)
[ "$dbsg" = "5432	$web" ] || t_why "quiz-db allows '$dbsg', expected 5432 from $web"
t_end

t_begin "awscli: the Docker host runs the Debian image with the key pair and user_data that installs Docker"
awsx ec2 describe-instances --filters Name=tag:Name,Values=quiz-docker Name=instance-state-name,Values=running \
	--query 'Reservations[].Instances[].[InstanceId,ImageId,KeyName,SubnetId]' --output text >"$T_TMP/out"
t_expect_lines out 1
set -- $(cat "$T_TMP/out")
ami_name=$(awsx ec2 describe-images --image-ids "${2:-none}" --query 'Images[0].Name' --output text 2>/dev/null)
case $ami_name in debian-12-amd64-*) ;; *) t_why "image ${2:-none} is '$ami_name', not debian-12-amd64-*" ;; esac
[ "${3:-}" = quiz-admin ] || t_why "key pair '${3:-}', expected quiz-admin"
awsx ec2 describe-key-pairs --key-names quiz-admin >/dev/null 2>&1 || t_why "key pair quiz-admin does not exist"
awsx ec2 describe-instance-attribute --instance-id "${1:-none}" --attribute userData \
	--query 'UserData.Value' --output text | base64 -d >"$T_TMP/userdata" 2>/dev/null
grep -q 'apt-get install -y --no-install-recommends docker.io' "$T_TMP/userdata" ||
	t_why "user_data does not install docker.io"
grep -q 'tcp://0.0.0.0:2376 --tlsverify' "$T_TMP/userdata" || t_why "user_data does not expose the API over TLS"
t_end

t_begin "awscli: RDS in both private subnets, ECR repositories for both images"
awsx rds describe-db-subnet-groups --db-subnet-group-name quiz \
	--query 'DBSubnetGroups[0].Subnets[].SubnetAvailabilityZone.Name' --output text | tr '\t' '\n' | sort >"$T_TMP/out"
printf 'us-east-1a\nus-east-1b\n' >"$T_TMP/want"
cmp -s "$T_TMP/out" "$T_TMP/want" || t_why "DB subnet group zones: $(cat "$T_TMP/out")"
awsx ecr describe-repositories --query 'repositories[].repositoryName' --output text | tr '\t' '\n' | sort >"$T_TMP/out"
printf 'quiz-backend\nquiz-frontend\n' >"$T_TMP/want"
cmp -s "$T_TMP/out" "$T_TMP/want" || t_why "ECR repositories: $(cat "$T_TMP/out")"
t_end

# ---- Docker, by the docker CLI ----
t_begin "docker CLI: three healthy containers on the host network, DATABASE_URL from RDS"
: >"$T_TMP/why"
for c in quiz-backend quiz-frontend quiz-proxy; do
	s=$(dk inspect -f '{{.State.Status}} {{.State.Health.Status}} {{.HostConfig.NetworkMode}} {{.HostConfig.RestartPolicy.Name}}' "$c" 2>&1)
	[ "$s" = "running healthy host unless-stopped" ] || t_why "$c: $s"
done
dk inspect -f '{{range .Config.Env}}{{println .}}{{end}}' quiz-backend >"$T_TMP/env"
set -- $db
grep -qx "DATABASE_URL=postgres://quiz:$PASSWORD@$1:$2/quiz" "$T_TMP/env" ||
	t_why "the backend's DATABASE_URL is not built from RDS and the password"
t_end

t_begin "the generated nginx.conf passes nginx -t, in the proxy container and on the host"
T_STATUS=0
dk exec quiz-proxy nginx -t -c /etc/quiz/nginx.conf >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 0
t_expect_has err "syntax is ok"
dk cp quiz-proxy:/etc/quiz/nginx.conf "$T_TMP/proxy.conf" 2>>"$T_TMP/why"
grep -q "location /api/ {" "$T_TMP/proxy.conf" || t_why "no /api/ location in the proxy's configuration"
grep -q "proxy_pass http://127.0.0.1:" "$T_TMP/proxy.conf" || t_why "no proxy_pass in the proxy's configuration"
if command -v nginx >/dev/null 2>&1; then
	# the host's nginx checks it too (it binds the listen address, which the proxy holds,
	# so the check runs on a copy listening on a free port)
	free=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	sed "s/^\( *listen \).*;/\1127.0.0.1:$free;/" "$T_TMP/proxy.conf" >"$T_TMP/proxy-check.conf"
	nginx -t -q -c "$T_TMP/proxy-check.conf" >"$T_TMP/host-nginx.log" 2>&1 ||
		t_why "the host's nginx -t refused it: $(cat "$T_TMP/host-nginx.log")"
else
	echo "nginx is not installed on the host: only the container's nginx -t ran"
fi
t_end

# ---- the registry's own API ----
t_begin "the registry serves the digests stk recorded"
: >"$T_TMP/why"
"$STK_ABS" output -json images >"$T_TMP/images.json"
for app in frontend backend; do
	want=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]].split("@")[1])' "$T_TMP/images.json" "$app")
	got=$(curl -fsSI --max-time 10 -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"http://$STK_DEMO_REGISTRY/v2/quiz-$app/manifests/v1" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')
	[ -n "$want" ] && [ "$want" = "$got" ] || t_why "quiz-$app:v1 is '$got' in the registry, stk recorded '$want'"
	curl -fsS "http://$STK_DEMO_REGISTRY/v2/quiz-$app/tags/list" | grep -q '"v1"' || t_why "no tag v1 for quiz-$app"
done
t_end

t_begin "the database password is in no output and no log"
: >"$T_TMP/why"
cat "$T_TMP/demo.out" "$D/apply.log" "$D/plan.log" >"$T_TMP/all"
"$STK_ABS" output >>"$T_TMP/all" 2>&1
"$STK_ABS" plan "$WS" -var-file "$D/local.stkvars" >>"$T_TMP/all" 2>&1
[ ${#PASSWORD} -ge 12 ] || t_why "no password found in local.stkvars"
if grep -F -q -e "$PASSWORD" "$T_TMP/all"; then
	t_why "the password appears in stk's output"
fi
# the backend's env holds DATABASE_URL: the plan shows the whole map as sensitive
sed -n '/module.web.docker.container.backend will be created/,/^    }/p' "$D/apply.log" |
	grep -q '^ *+ env *= (sensitive value)$' || t_why "the plan does not hide the backend's env"
t_end

# ---- drift: a container removed by hand ----
t_begin "a container removed with the docker CLI is planned back, and apply re-creates it"
dk rm -f quiz-backend >/dev/null
T_STATUS=0
"$STK_ABS" plan "$WS" -detailed-exitcode -var-file "$D/local.stkvars" >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 2
t_expect_has out "module.web.docker.container.backend will be created"
t_expect_has out "Plan: 1 to add, 0 to change, 0 to destroy."
T_STATUS=0
"$STK_ABS" apply "$WS" -auto-approve -var-file "$D/local.stkvars" >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 0
s=$(dk inspect -f '{{.State.Health.Status}}' quiz-backend 2>&1)
[ "$s" = healthy ] || t_why "quiz-backend after apply: $s"
curl -fsS --max-time 10 "$URL/api/health" | grep -q '"status": "ok"' || t_why "/api/health does not answer after apply"
t_end

# ---- stdlib/web_stack on its own, beside the workshop ----
# the workshop's images, three more ports, "/" routed to the backend (which answers 404 there:
# the proxy's health check must not depend on it) and a password with URL characters in it
MOD_DIR=$T_TMP/mod-apply
MOD_PW='p#w?d%2F@h/s:t +u-1234'
# shellcheck disable=SC2046
set -- $(python3 -c 'import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
MOD_LP=$1 MOD_FP=$2 MOD_BP=$3
"$STK_ABS" output -json images >"$T_TMP/images.json"
MOD_FE=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["frontend"])' "$T_TMP/images.json")
MOD_BE=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["backend"])' "$T_TMP/images.json")
# mod_apply ROUTES: writes the configuration with those routes and applies it
mod_apply() {
	MOD_DOCKER_HOST=$DOCKER_HOST mod_config "$MOD_DIR" 'name = "modt"' \
		"frontend_image = \"$MOD_FE\"" "backend_image = \"$MOD_BE\"" \
		'database = { host = "db.example", port = 5432, name = "quiz", username = "quiz" }' \
		"database_password = \"$MOD_PW\"" 'public_host = "127.0.0.1"' 'listen_address = "127.0.0.1"' \
		"listen_port = $MOD_LP" "frontend_port = $MOD_FP" "backend_port = $MOD_BP" "routes = $1"
	T_STATUS=0
	(cd "$MOD_DIR" && STK_STATE=$MOD_DIR/stk.state "$STK_ABS" apply . -auto-approve) \
		</dev/null >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
}
MOD_URL=http://127.0.0.1:$MOD_LP

t_begin "web_stack: routes = { \"/\" = \"backend\" } and a password with #?%@/: applied: healthy, DATABASE_URL encoded"
mod_apply '{ "/" = "backend" }'
t_expect_status 0
t_expect_has out "Apply complete! Resources: 3 added, 0 changed, 0 destroyed."
t_expect_lacks out 'p#w?d'
t_expect_lacks err 'p#w?d'
for c in modt-backend modt-frontend modt-proxy; do
	h=$(dk inspect -f '{{.State.Health.Status}}' "$c" 2>&1)
	[ "$h" = healthy ] || t_why "$c: $h"
done
code=$(curl -s -o "$T_TMP/body" -w '%{http_code}' --max-time 10 "$MOD_URL/")
[ "$code" = 404 ] && grep -q '"no such path: /"' "$T_TMP/body" || t_why "/ answered $code, expected the backend's 404: $(cat "$T_TMP/body")"
curl -fsS --max-time 10 "$MOD_URL/api/health" | grep -q '"database": "db.example:5432"' ||
	t_why "/api/health through the proxy does not name db.example:5432"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$MOD_URL/stk-health")
[ "$code" = 200 ] || t_why "/stk-health answered $code"
dk inspect -f '{{range .Config.Env}}{{println .}}{{end}}' modt-backend | sed -n 's/^DATABASE_URL=//p' >"$T_TMP/dburl"
python3 -c 'import sys, urllib.parse as u
p = u.urlsplit(open(sys.argv[1]).read().strip())
assert (u.unquote(p.username), u.unquote(p.password), p.hostname, p.port, p.path) == ("quiz", sys.argv[2], "db.example", 5432, "/quiz"), "DATABASE_URL does not decode to the inputs"' \
	"$T_TMP/dburl" "$MOD_PW" 2>>"$T_TMP/why" || t_why "the backend's DATABASE_URL is not the encoded one"
t_end

t_begin "web_stack: with no route for /, / answers nginx's 404 (not its welcome page); destroyed"
mod_apply '{ "/api/" = "backend" }'
t_expect_status 0
t_expect_has out "Apply complete!"
code=$(curl -s -o "$T_TMP/body" -w '%{http_code}' --max-time 10 "$MOD_URL/")
[ "$code" = 404 ] && grep -q '404 Not Found' "$T_TMP/body" || t_why "/ answered $code: $(cat "$T_TMP/body")"
grep -qi 'welcome' "$T_TMP/body" && t_why "/ shows nginx's welcome page"
curl -fsS --max-time 10 "$MOD_URL/api/health" | grep -q '"status": "ok"' || t_why "/api/health does not answer"
h=$(dk inspect -f '{{.State.Health.Status}}' modt-proxy 2>&1)
[ "$h" = healthy ] || t_why "modt-proxy: $h"
T_STATUS=0
(cd "$MOD_DIR" && STK_STATE=$MOD_DIR/stk.state "$STK_ABS" destroy . -auto-approve) \
	</dev/null >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 0
t_expect_has out "Destroy complete! Resources: 3 destroyed."
t_end

# ---- the Docker Hub variant: planned, applied, converged ----
HUB="-var registry=dockerhub -var dockerhub_namespace=team -var dockerhub_username=teamuser -var dockerhub_password=hub-secret-4711"
t_begin "registry = dockerhub: the plan retags the images NAMESPACE/quiz-NAME, replaces the containers, drops ECR"
T_STATUS=0
# shellcheck disable=SC2086
"$STK_ABS" plan "$WS" -refresh=false -detailed-exitcode -var-file "$D/local.stkvars" $HUB \
	>"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 2
t_expect_has out "aws.ecr_repository.app[\"frontend\"] will be destroyed"
t_expect_has out "\"$STK_DEMO_REGISTRY/team/quiz-frontend:v1\""
t_expect_has out "\"$STK_DEMO_REGISTRY/team/quiz-backend:v1\""
# the new tag's digest is made by the push: known after apply, so the containers that
# run it by digest are replaced in this plan, not in the next one
t_expect_has out "module.web.docker.container.backend must be replaced"
t_expect_has out "Plan: 3 to add, 2 to change, 5 to destroy."
t_expect_lacks out "hub-secret-4711"
t_expect_lacks err "hub-secret-4711"
t_end

t_begin "... applied: pushed under team/, the containers run it, and the next plan has no changes"
T_STATUS=0
# shellcheck disable=SC2086
"$STK_ABS" apply "$WS" -auto-approve -var-file "$D/local.stkvars" $HUB >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 0
t_expect_lacks out "hub-secret-4711"
for app in frontend backend; do
	curl -fsS "http://$STK_DEMO_REGISTRY/v2/team/quiz-$app/tags/list" | grep -q '"v1"' ||
		t_why "no team/quiz-$app:v1 in the registry"
done
img=$(dk inspect -f '{{.Config.Image}}' quiz-backend 2>&1)
case $img in "$STK_DEMO_REGISTRY/team/quiz-backend@sha256:"*) ;; *) t_why "quiz-backend runs $img" ;; esac
curl -fsS --max-time 10 "$URL/api/health" | grep -q '"status": "ok"' || t_why "/api/health does not answer"
T_STATUS=0
# shellcheck disable=SC2086
"$STK_ABS" plan "$WS" -detailed-exitcode -var-file "$D/local.stkvars" $HUB >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 0
t_expect_has out "No changes."
t_end

# ---- teardown ----
t_begin "scripts/demo --stop destroys everything and stops the servers"
T_STATUS=0
"$SRC/scripts/demo" --stop --dir "$D" --stk "$STK_ABS" >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 0
t_expect_has out "Destroy complete! Resources: 18 destroyed."
[ ! -e "$D" ] || t_why "$D is still there"
curl -s --max-time 2 "$EP/moto-api/" >/dev/null 2>&1 && t_why "moto_server still answers"
dk version >/dev/null 2>&1 && t_why "dockerd still answers"
t_end

t_summary

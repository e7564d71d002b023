#!/bin/sh
# tests/docker_registry_auth.sh: docker.image pushing to a registry that wants a login. Debian's
# docker-registry runs with htpasswd (bcrypt) auth in the private dockerd's network namespace
# (tests/docker.sh), and stk runs in there too (dk_ns): the daemon pushes to the registry on
# its loopback, and stk's own digest check (HEAD /v2/.../manifests/TAG, answering the 401
# with basic auth) must reach the same loopback. moto_server, for `data aws.ecr_token`,
# therefore also runs inside that namespace: tests/moto.sh's moto_start would put it on the
# host's 127.0.0.1, which stk cannot reach from in there. Cases: credentials from the
# provider's registry block (repo_digest is what the registry serves, checked with curl -u;
# a refreshing plan has no changes), wrong credentials (the create fails under the address,
# exit 1), and an ECR-style login: user AWS with the password from moto's
# GetAuthorizationToken, fed from `data aws.ecr_token` into the registry block.
. "$(dirname "$0")/lib.sh"
t_init

. "$(dirname "$0")/docker.sh"
registry_setup

# bcrypt for htpasswd: python3's crypt module (glibc's libcrypt), else htpasswd -B
bcrypt_hash() {
	bh=$(python3 -W ignore -c 'import crypt, sys
print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)) or "")' "$1" 2>/dev/null)
	case $bh in
	'$2'?*) echo "$bh" ;;
	*)
		command -v htpasswd >/dev/null 2>&1 || return 1
		htpasswd -nbB x "$1" | sed -n 's/^x://p'
		;;
	esac
}
bcrypt_hash probe | grep -q '^\$2' ||
	docker_skip "no bcrypt for htpasswd (python3's crypt module or htpasswd -B from apache2-utils)"

W=$T_TMP/work
STK_ABS=$(t_abspath "$STK")
N=stk-auth-$$
MPORT=$((PORT + 1))
EP=http://127.0.0.1:$MPORT

# ---- moto, in the daemon's namespace (as tests/moto.sh's moto_start, but in there) ----
ECR=1
if ! command -v moto_server >/dev/null 2>&1 || ! command -v aws >/dev/null 2>&1; then
	echo "moto_server or aws (awscli) is not installed: the ECR case is skipped"
	ECR=
fi
# awscli against moto, from inside the namespace
awsn() {
	dk_ns aws --endpoint-url "$EP" --region us-east-1 "$@"
}
if [ -n "$ECR" ]; then
	# docker_stop stops it
	dk_ns_bg env INITIAL_NO_AUTH_ACTION_COUNT=3 moto_server -H 127.0.0.1 -p "$MPORT" >"$T_TMP/moto.log" 2>&1
	dk_wait "$DK_BG_PID" 150 dk_ns curl -s -o /dev/null "$EP/moto-api/" 2>/dev/null || {
		echo "moto_server did not start"
		cat "$T_TMP/moto.log"
		exit 1
	}
	export AWS_DEFAULT_REGION=us-east-1
	unset AWS_PROFILE AWS_SESSION_TOKEN
	AWS_ACCESS_KEY_ID=setup AWS_SECRET_ACCESS_KEY=setup awsn iam create-user --user-name stk >/dev/null
	AWS_ACCESS_KEY_ID=setup AWS_SECRET_ACCESS_KEY=setup awsn iam create-access-key --user-name stk \
		--query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text >"$T_TMP/key"
	AWS_ACCESS_KEY_ID=setup AWS_SECRET_ACCESS_KEY=setup awsn iam put-user-policy --user-name stk \
		--policy-name all --policy-document \
		'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:*","sts:*"],"Resource":"*"}]}'
	read -r KEY SECRET <"$T_TMP/key"
	export AWS_ACCESS_KEY_ID="$KEY" AWS_SECRET_ACCESS_KEY="$SECRET" AWS_ENDPOINT_URL="$EP"
	# the token stk's data source will get: moto's is "AWS:<account>-auth-token", the same on
	# every call (a real ECR's changes each time, and could not be written down beforehand)
	ecr_pw() {
		awsn ecr get-authorization-token --query 'authorizationData[0].authorizationToken' \
			--output text | base64 -d
	}
	T1=$(ecr_pw)
	T2=$(ecr_pw)
	case $T1 in
	AWS:?*) ;;
	*) echo "moto's token is not AWS:password: '$T1'"; exit 1 ;;
	esac
	if [ "$T1" != "$T2" ]; then
		echo "moto's ECR token changes between calls: the ECR case is skipped"
		ECR=
	fi
	ECR_PW=${T1#AWS:}
fi

# ---- the registry, with htpasswd auth: user stk, and AWS with moto's token ----
REG_USER=stk
REG_PW=s3cret-$$
{
	printf '%s:%s\n' "$REG_USER" "$(bcrypt_hash "$REG_PW")"
	[ -z "$ECR" ] || printf 'AWS:%s\n' "$(bcrypt_hash "$ECR_PW")"
} >"$T_TMP/htpasswd"
# 401 until logged in: up when it answers at all
registry_start 401 <<EOF
auth:
  htpasswd:
    realm: stk-test
    path: $T_TMP/htpasswd
EOF
[ "$(registry_v2 -u "$REG_USER:$REG_PW")" = 200 ] || {
	tail -n 20 "$T_TMP/registry.log"
	echo "the registry does not take $REG_USER's bcrypt hash"
	exit 1
}

# in_w DIR ARGS...: stk in DIR, in the daemon's namespace
in_w() {
	dk_stk "$@"
}

# The registry's digest for repo:tag, from its v2 API, logged in as USER:PW.
reg_digest() {
	registry_digest "$2" "$3" -u "$1"
}

state_attr() {
	image_attr "$1/stk.state" "$2" "$3"
}

for d in basic wrong ecr; do
	push_app "$W/$d" hello
done

t_begin "credentials from the provider's registry block: pushed, repo_digest is the registry's"
push_stk "$W/basic" "$REG/$N/basic:v1" "$REG_USER" "$REG_PW"
in_w "$W/basic" apply -auto-approve
t_expect_status 0
RD=$(reg_digest "$REG_USER:$REG_PW" "$N/basic" v1)
expect_repo_digest "$W/basic" "$N/basic:v1" "$RD"
t_expect_lacks out "$REG_PW"
t_expect_lacks err "$REG_PW"
t_end

t_begin "a refreshing plan checks the digest with basic auth: no changes"
in_w "$W/basic" plan
t_expect_status 0
t_expect_has out "No changes"
t_expect_lacks err "not authorized"
t_end

t_begin "a container pulls its image with the registry block's credentials; without them the registry refuses"
push_app "$W/pull" pulled
push_stk "$W/pull" "$REG/$N/pull:v1" "$REG_USER" "$REG_PW"
in_w "$W/pull" apply -auto-approve
t_expect_status 0
# out of the store, and out of the state: only the registry has it now
dk rmi -f "$REG/$N/pull:v1" >/dev/null
rm -f "$W/pull/stk.state"
cat >"$W/pull/main.stk" <<EOF
provider docker {
  registry "local" {
    address  = "$REG"
    username = "$REG_USER"
    password = "$REG_PW"
  }
}

resource docker.container pulled {
  name         = "$N-pulled"
  image        = "$REG/$N/pull:v1"
  network_mode = "host"
  must_run     = false
}
EOF
in_w "$W/pull" apply -auto-approve
t_expect_status 0
[ "$(dk logs "$N-pulled" 2>&1)" = pulled ] || t_why "the pulled image did not run: $(dk logs "$N-pulled" 2>&1)"
t_expect_lacks out "$REG_PW"
t_expect_lacks err "$REG_PW"
in_w "$W/pull" destroy -auto-approve
t_expect_status 0
dk rmi -f "$REG/$N/pull:v1" >/dev/null
sed -i 's|password = "'"$REG_PW"'"|password = "not-the-password"|' "$W/pull/main.stk"
in_w "$W/pull" apply -auto-approve
t_expect_status 1
t_expect_match err "docker\.container\.pulled: docker PullImage: .*(unauthorized|authentication required|401|no basic auth)"
t_expect_lacks err "not-the-password"
t_end

t_begin "credential helpers: credsStore and credHelpers of a config.json give the push its credentials"
# a helper as `docker login` would use one, speaking the protocol: `get`, the server on stdin
mkdir -p "$T_TMP/bin"
cat >"$T_TMP/bin/docker-credential-stktest" <<EOF
#!/bin/sh
read -r server
echo "\$1 \$server" >>"$T_TMP/helper.log"
[ "\$1" = get ] && [ "\$server" = "$REG" ] || { echo "credentials not found in native keychain"; exit 1; }
printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\n' "\$server" "$REG_USER" "$REG_PW"
EOF
chmod +x "$T_TMP/bin/docker-credential-stktest"
OLD_PATH=$PATH
export PATH="$T_TMP/bin:$PATH"
for how in store helpers; do
	push_app "$W/cred-$how" "from-$how"
	if [ $how = store ]; then
		printf '{"auths": {"%s": {}}, "credsStore": "stktest"}\n' "$REG" >"$W/cred-$how/config.json"
	else
		printf '{"credHelpers": {"%s": "stktest"}}\n' "$REG" >"$W/cred-$how/config.json"
	fi
	push_main "$W/cred-$how" "$REG/$N/cred-$how:v1" <<EOF
provider docker {
  registry "local" {
    address     = "$REG"
    config_file = "$W/cred-$how/config.json"
  }
}
EOF
	: >"$T_TMP/helper.log"
	in_w "$W/cred-$how" apply -auto-approve
	t_expect_status 0
	[ -n "$(reg_digest "$REG_USER:$REG_PW" "$N/cred-$how" v1)" ] || t_why "$how: nothing pushed to $N/cred-$how"
	grep -qx "get $REG" "$T_TMP/helper.log" || t_why "$how: the helper was not asked: $(cat "$T_TMP/helper.log")"
	t_expect_lacks out "$REG_PW"
	t_expect_lacks err "$REG_PW"
done
printf '{"credsStore": "not-installed"}\n' >"$W/cred-store/config.json"
in_w "$W/cred-store" plan
t_expect_has err "docker-credential-not-installed cannot be run"
export PATH="$OLD_PATH"
t_end

t_begin "wrong credentials: the create fails under the address, exit 1"
push_stk "$W/wrong" "$REG/$N/wrong:v1" "$REG_USER" not-the-password
in_w "$W/wrong" apply -auto-approve
t_expect_status 1
t_expect_match err "docker\.image\.pushed: docker push $REG/$N/wrong:v1: .*(unauthorized|authentication required|401)"
t_expect_lacks err "not-the-password"
[ -z "$(reg_digest "$REG_USER:$REG_PW" "$N/wrong" v1)" ] || t_why "the registry has $N/wrong:v1"
t_end

if [ -n "$ECR" ]; then
	t_begin "ECR-style: data aws.ecr_token's username and password log in to the registry"
	push_main "$W/ecr" "$REG/$N/ecr:v1" <<EOF
provider aws { region = "us-east-1" }

data aws.ecr_token x {}

provider docker {
  registry "ecr" {
    address  = "$REG"
    username = data.aws.ecr_token.x.username
    password = data.aws.ecr_token.x.password
  }
}
EOF
	in_w "$W/ecr" apply -auto-approve
	t_expect_status 0
	RD=$(reg_digest "AWS:$ECR_PW" "$N/ecr" v1)
	expect_repo_digest "$W/ecr" "$N/ecr:v1" "$RD"
	t_expect_lacks out "$ECR_PW"
	in_w "$W/ecr" plan
	t_expect_status 0
	t_expect_has out "No changes"
	t_end
fi

t_summary

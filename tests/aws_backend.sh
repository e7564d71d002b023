#!/bin/sh
# tests/aws_backend.sh: the state in S3 with a DynamoDB lock table and passphrase encryption,
# against moto_server (signatures and IAM checked), judged by awscli: two applies at once (one
# refused, naming the lock); a stale writer refused; the stored object sealed; a fresh
# checkout planning no changes; a wrong passphrase refused with the object unchanged; no lock
# left after success, failure or SIGINT; no secret in any output. Terraform's settings:
# dynamodb_table locks as lock_table does (checkout B uses it), encrypt, endpoint and
# dynamodb_endpoint, profile; workspaces (PREFIX/NAME/KEY, workspace_key_prefix).
. "$(dirname "$0")/lib.sh"
t_init

. "$(dirname "$0")/moto.sh"
moto_start
proxy_start --rate 0 --seed 1
STK_ABS=$(t_abspath "$STK")
N=stk-backend-$$
PASS="correct-horse-$$-battery"
SECRET="db-secret-$$-value"
BUCKET=$N-state
TABLE=$N-locks

awsx s3api create-bucket --bucket "$BUCKET" >/dev/null
awsx dynamodb create-table --table-name "$TABLE" --attribute-definitions AttributeName=LockID,AttributeType=S \
	--key-schema AttributeName=LockID,KeyType=HASH --billing-mode PAY_PER_REQUEST >/dev/null

# stack DIR [LOCK_TABLE_LINE]: the configuration, in a checkout of its own
stack() {
	mkdir -p "$1"
	cat >"$1/main.stk" <<EOF
stack "backend-test" {
  backend s3 {
    bucket = "$BUCKET"
    key    = "env/prod/stk.state"
    ${2:-lock_table = \"$TABLE\"}
  }
  encryption {
    passphrase = var.state_passphrase
  }
}

variable state_passphrase {
  type      = string
  sensitive = true
}

variable db_password {
  type      = string
  sensitive = true
  default   = "$SECRET"
}

provider aws { region = "us-east-1" }

resource aws.vpc main {
  cidr_block = "10.0.0.0/16"
  tags       = { Name = "$N" }
}

resource aws.subnet a {
  vpc_id     = aws.vpc.main.id
  cidr_block = "10.0.1.0/24"
  tags       = { Name = "$N" }
}

output password {
  value     = var.db_password
  sensitive = true
}
EOF
}

# in DIR ARGS...: stk in DIR through the proxy with the passphrase; every output kept for the
# secrets check at the end
in_dir() {
	d=$1
	shift
	T_STATUS=0
	(cd "$d" && AWS_ENDPOINT_URL=${VIA:-$PX} STK_VAR_state_passphrase=${PASSPHRASE:-$PASS} t_timeout 120 "$STK_ABS" "$@") \
		</dev/null >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
	cat "$T_TMP/out" "$T_TMP/err" >>"$T_TMP/all-output"
}

# apart SETUP DIR ARGS...: in_dir in a subshell that runs the shell code SETUP first, so that
# the environment it makes (keys, endpoints) is this one run's and does not outlive it
apart() {
	(
		eval "$1"
		shift
		in_dir "$@"
		exit $T_STATUS
	) && T_STATUS=0 || T_STATUS=$?
}

# slow_apply DIR NAME: apply in DIR in the background through the proxy, every call slowed,
# with output in $T_TMP/NAME.out and .err (emptied first: the waits that follow must not read
# an earlier run's lines); APPLY is its pid
slow_apply() {
	proxy 'config?rate=1&kinds=slow' >/dev/null
	rm -f "$T_TMP/$2.out" "$T_TMP/$2.err"
	(cd "$1" && AWS_ENDPOINT_URL=$PX STK_VAR_state_passphrase=$PASS exec "$STK_ABS" apply -auto-approve) \
		</dev/null >"$T_TMP/$2.out" 2>"$T_TMP/$2.err" &
	APPLY=$!
}

object() {
	awsx s3api get-object --bucket "$BUCKET" --key env/prod/stk.state "$T_TMP/object" >/dev/null 2>&1 &&
		cat "$T_TMP/object"
}
locks() {
	awsx dynamodb scan --table-name "$TABLE" --query 'Count' --output text
}
vpcs() {
	awsx ec2 describe-vpcs --filters "Name=tag:Name,Values=$N" --query 'Vpcs[].VpcId' --output text | wc -w
}

A=$T_TMP/a
B=$T_TMP/b
stack "$A"
# Terraform's name for the lock table: B and A lock each other out through the one item
stack "$B" "dynamodb_table = \"$TABLE\""

t_begin "apply keeps the state in S3, sealed, and leaves no lock"
in_dir "$A" apply -auto-approve
t_expect_status 0
t_expect_has out "Apply complete! Resources: 2 added"
[ -f "$A/stk.state" ] && t_why "a local state file was written"
[ "$(object | head -c 6)" = STKENC ] || t_why "the object in S3 is not sealed: $(object | head -c 40)"
VPC=$(awsx ec2 describe-vpcs --filters "Name=tag:Name,Values=$N" --query 'Vpcs[0].VpcId' --output text)
object | grep -q "$VPC" && t_why "the VPC id is readable in the stored object"
object | grep -q "$SECRET" && t_why "the secret is readable in the stored object"
[ "$(locks)" -eq 0 ] || t_why "$(locks) lock items left"
t_end

t_begin "a fresh checkout plans no changes from the remote state"
in_dir "$B" plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
t_end

t_begin "a wrong passphrase is refused, and the stored object is byte for byte as it was"
object | sha256sum >"$T_TMP/before"
PASSPHRASE=wrong-passphrase in_dir "$B" apply -auto-approve
t_expect_status 1
t_expect_has err "this passphrase does not open it"
object | sha256sum | cmp -s - "$T_TMP/before" || t_why "the stored object changed"
[ "$(locks)" -eq 0 ] || t_why "the refused run left a lock"
t_end

t_begin "two applies at once: one is refused, naming the lock and force-unlock; the other completes"
sed -i 's|cidr_block = "10.0.1.0/24"|cidr_block = "10.0.1.0/24"\n  map_public_ip_on_launch = true|' "$A/main.stk" "$B/main.stk"
slow_apply "$A" a
i=0
until [ "$(locks)" -eq 1 ] || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.2; done
in_dir "$B" apply -auto-approve
t_expect_status 1
t_expect_match err "the state s3://$BUCKET/env/prod/stk.state is locked by pid [0-9]+ on host .* \\(apply by .*\\); lock ID [0-9a-f-]{36}"
t_expect_match err "run stk force-unlock [0-9a-f-]{36}"
wait $APPLY || t_why "the first apply failed: $(cat "$T_TMP/a.err")"
cat "$T_TMP/a.out" "$T_TMP/a.err" >>"$T_TMP/all-output"
grep -q "1 changed" "$T_TMP/a.out" || t_why "the first apply did not make its change"
proxy 'config?rate=0' >/dev/null
[ "$(locks)" -eq 0 ] || t_why "a lock was left behind"
in_dir "$B" plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "-lock-timeout waits for the other run and then goes on"
sed -i 's|Name = "'"$N"'" }|Name = "'"$N"'", Env = "prod" }|' "$A/main.stk" "$B/main.stk"
slow_apply "$A" a
i=0
until [ "$(locks)" -eq 1 ] || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.2; done
proxy 'config?rate=0' >/dev/null
in_dir "$B" plan -lock-timeout=60s -detailed-exitcode
wait $APPLY || t_why "the first apply failed: $(cat "$T_TMP/a.err")"
t_expect_status 0
t_expect_has out "No changes."
t_end

t_begin "a stale writer is refused: the state moved on since it was read"
C=$T_TMP/c
D=$T_TMP/d
# no lock table: only the serial check stands between two writers
stack "$C" "# no lock table"
stack "$D" "# no lock table"
cp "$A/main.stk" "$C/main.stk"
sed -i "/lock_table/d" "$C/main.stk"
cp "$C/main.stk" "$D/main.stk"
sed -i 's|cidr_block = "10.0.1.0/24"|cidr_block = "10.0.1.0/24"\n  assign_ipv6_address_on_creation = false|; s|Env = "prod"|Env = "stale"|' "$C/main.stk"
slow_apply "$C" c
i=0
until grep -q "Modifying..." "$T_TMP/c.out" 2>/dev/null || [ $i -ge 600 ]; do i=$((i + 1)); sleep 0.1; done
# straight to moto: the rm lands while the slowed apply is still at work
VIA=$EP in_dir "$D" state rm aws.subnet.a
t_expect_status 0
T_STATUS=0
wait $APPLY || T_STATUS=$?
proxy 'config?rate=0' >/dev/null
cat "$T_TMP/c.out" "$T_TMP/c.err" >>"$T_TMP/all-output"
[ "$T_STATUS" -ne 0 ] || t_why "the stale writer's apply succeeded: $(tail -8 "$T_TMP/c.out") $(cat "$T_TMP/c.err") rm: $(cat "$T_TMP/out" "$T_TMP/err")"
grep -q "serial" "$T_TMP/c.err" || t_why "no word of the state moving on: $(cat "$T_TMP/c.err")"
in_dir "$D" state list
t_expect_lacks out "aws.subnet.a"
in_dir "$D" import aws.subnet.a "$(awsx ec2 describe-subnets --filters "Name=tag:Name,Values=$N" \
	--query 'Subnets[0].SubnetId' --output text)"
t_expect_status 0
t_end

t_begin "no lock is left after a failed apply, nor after an interrupted one"
printf 'resource aws.subnet bad {\n  vpc_id = aws.vpc.main.id\n  cidr_block = "10.99.0.0/24"\n}\n' >"$A/bad.stk"
in_dir "$A" apply -auto-approve
t_expect_status 1
[ "$(locks)" -eq 0 ] || t_why "the failed apply left a lock"
rm "$A/bad.stk"
sed -i 's|Env = "prod"|Env = "interrupted"|' "$A/main.stk"
slow_apply "$A" a
i=0
until grep -q "Modifying..." "$T_TMP/a.out" 2>/dev/null || [ $i -ge 600 ]; do i=$((i + 1)); sleep 0.1; done
kill -INT $APPLY
T_STATUS=0
wait $APPLY || T_STATUS=$?
proxy 'config?rate=0' >/dev/null
cat "$T_TMP/a.out" "$T_TMP/a.err" >>"$T_TMP/all-output"
[ "$T_STATUS" -eq 130 ] || t_why "the interrupted apply exited $T_STATUS: $(tail -5 "$T_TMP/a.out") $(cat "$T_TMP/a.err")"
[ "$(locks)" -eq 0 ] || t_why "the interrupted apply left a lock"
t_end

t_begin "a second interrupt cancels what is in flight and still releases the lock"
sed -i 's|Env = "interrupted"|Env = "twice"|' "$A/main.stk"
slow_apply "$A" a
i=0
until grep -q "Modifying..." "$T_TMP/a.out" 2>/dev/null || [ $i -ge 600 ]; do i=$((i + 1)); sleep 0.1; done
kill -INT $APPLY
sleep 0.2
kill -INT $APPLY
T_STATUS=0
wait $APPLY || T_STATUS=$?
proxy 'config?rate=0' >/dev/null
cat "$T_TMP/a.out" "$T_TMP/a.err" >>"$T_TMP/all-output"
[ "$T_STATUS" -eq 130 ] || t_why "the twice-interrupted apply exited $T_STATUS: $(cat "$T_TMP/a.err")"
grep -q "releasing the state's lock" "$T_TMP/a.err" || t_why "no word of the lock: $(cat "$T_TMP/a.err")"
[ "$(locks)" -eq 0 ] || t_why "the twice-interrupted apply left a lock"
in_dir "$A" apply -auto-approve
t_expect_status 0
in_dir "$A" plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "an interrupt while a plan refreshes cancels its reads and still releases the lock"
proxy 'config?rate=1&kinds=slow' >/dev/null
rm -f "$T_TMP/p.out" "$T_TMP/p.err"
(cd "$A" && AWS_ENDPOINT_URL=$PX STK_VAR_state_passphrase=$PASS exec "$STK_ABS" plan) \
	</dev/null >"$T_TMP/p.out" 2>"$T_TMP/p.err" &
PLAN=$!
i=0
until [ "$(locks)" -eq 1 ] || [ $i -ge 300 ]; do i=$((i + 1)); sleep 0.1; done
kill -INT $PLAN
T_STATUS=0
wait $PLAN || T_STATUS=$?
proxy 'config?rate=0' >/dev/null
cat "$T_TMP/p.out" "$T_TMP/p.err" >>"$T_TMP/all-output"
[ "$T_STATUS" -eq 130 ] || t_why "the interrupted plan exited $T_STATUS: $(cat "$T_TMP/p.err")"
grep -q "interrupted: stopping, and releasing the state's lock" "$T_TMP/p.err" ||
	t_why "no word of the lock: $(cat "$T_TMP/p.err")"
[ "$(locks)" -eq 0 ] || t_why "the interrupted plan left a lock"
t_end

t_begin "a run releases only its own lock: one put by another run since is left in place"
sed -i 's|Env = "twice"|Env = "other-lock"|' "$A/main.stk"
slow_apply "$A" a
i=0
until [ "$(locks)" -eq 1 ] || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.2; done
# what force-unlock and then another run's lock leave: the item, with that run's Info
awsx dynamodb put-item --table-name "$TABLE" \
	--item '{"LockID":{"S":"'"$BUCKET"'/env/prod/stk.state"},"Info":{"S":"{\"id\":\"another-run\"}"}}'
proxy 'config?rate=0' >/dev/null
T_STATUS=0
wait $APPLY || T_STATUS=$?
cat "$T_TMP/a.out" "$T_TMP/a.err" >>"$T_TMP/all-output"
awsx dynamodb scan --table-name "$TABLE" --query 'Items[0].Info.S' --output text >"$T_TMP/info"
[ "$T_STATUS" -eq 0 ] || t_why "the apply exited $T_STATUS: $(cat "$T_TMP/a.err")"
grep -q "the lock was no longer this run's" "$T_TMP/a.err" || t_why "no warning: $(cat "$T_TMP/a.err") $(tail -5 "$T_TMP/a.out") $(cat "$T_TMP/info")"
grep -q another-run "$T_TMP/info" || t_why "the other run's lock is gone: $(cat "$T_TMP/info")"
awsx dynamodb delete-item --table-name "$TABLE" --key '{"LockID":{"S":"'"$BUCKET"'/env/prod/stk.state"}}'
t_end

t_begin "a lock table without the LockID key, or without PutItem allowed: the table, the code, AWS's message, a hint"
E=$T_TMP/e
stack "$E" "lock_table = \"$N-badkey\""
awsx dynamodb create-table --table-name "$N-badkey" --attribute-definitions AttributeName=Id,AttributeType=S \
	--key-schema AttributeName=Id,KeyType=HASH --billing-mode PAY_PER_REQUEST >/dev/null
in_dir "$E" plan
t_expect_status 1
t_expect_has err "state s3://$BUCKET/env/prod/stk.state: lock table $N-badkey: dynamodb PutItem: ValidationException: One or more parameter values were invalid"
t_expect_has err "must have the string hash key LockID"
awsx iam create-user --user-name "$N-nolock" >/dev/null
awsx iam create-access-key --user-name "$N-nolock" --query 'AccessKey.[AccessKeyId,SecretAccessKey]' \
	--output text >"$T_TMP/nolock-key"
awsx iam put-user-policy --user-name "$N-nolock" --policy-name some --policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:*","s3:*","dynamodb:GetItem"],"Resource":"*"}]}'
read -r NL_KEY NL_SECRET <"$T_TMP/nolock-key"
apart 'AWS_ACCESS_KEY_ID=$NL_KEY AWS_SECRET_ACCESS_KEY=$NL_SECRET' "$B" plan
t_expect_status 1
t_expect_match err "lock table $TABLE: dynamodb PutItem: AccessDenied[A-Za-z]*: .*not authorized to perform: dynamodb:PutItem"
t_expect_has err "the credentials need dynamodb:GetItem, PutItem and DeleteItem"
t_end

t_begin "a key with . and .. segments is the object of that very name"
F=$T_TMP/f
stack "$F"
sed -i 's|key    = "env/prod/stk.state"|key    = "env/./dots/../dots.state"|; s|Name = "'"$N"'"|Name = "'"$N"'-dots"|' "$F/main.stk"
in_dir "$F" apply -auto-approve
t_expect_status 0
awsx s3api head-object --bucket "$BUCKET" --key "env/./dots/../dots.state" >/dev/null 2>&1 ||
	t_why "no object env/./dots/../dots.state: $(awsx s3api list-objects-v2 --bucket "$BUCKET" --query 'Contents[].Key' --output text)"
in_dir "$F" plan -detailed-exitcode
t_expect_status 0
in_dir "$F" destroy -auto-approve
t_expect_status 0
t_end

t_begin "state decrypt and encrypt migrate the stored object"
in_dir "$A" state decrypt
t_expect_status 0
[ "$(object | head -c 1)" = "{" ] || t_why "the object is not in clear after decrypt"
in_dir "$A" state encrypt
t_expect_status 0
[ "$(object | head -c 6)" = STKENC ] || t_why "the object is not sealed after encrypt"
t_end

t_begin "dynamodb_table locks as lock_table does: a run holds the item, and force-unlock releases it"
sed -i 's|Env = "other-lock"|Env = "ddb-lock"|' "$A/main.stk" "$B/main.stk"
slow_apply "$B" b
i=0
until [ "$(locks)" -eq 1 ] || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.2; done
proxy 'config?rate=0' >/dev/null
in_dir "$A" plan
t_expect_status 1
t_expect_match err "the state s3://$BUCKET/env/prod/stk.state is locked by pid [0-9]+ on host .* \\(apply by .*\\)"
wait $APPLY || t_why "the apply with dynamodb_table failed: $(cat "$T_TMP/b.err")"
cat "$T_TMP/b.out" "$T_TMP/b.err" >>"$T_TMP/all-output"
[ "$(locks)" -eq 0 ] || t_why "the apply with dynamodb_table left a lock"
awsx dynamodb put-item --table-name "$TABLE" \
	--item '{"LockID":{"S":"'"$BUCKET"'/env/prod/stk.state"},"Info":{"S":"{\"id\":\"stale-run\"}"}}'
in_dir "$B" force-unlock stale-run
t_expect_status 0
t_expect_has out "Released the lock stale-run"
[ "$(locks)" -eq 0 ] || t_why "force-unlock through dynamodb_table left the item: $(cat "$T_TMP/err")"
t_end

# light DIR KEY SETTINGS: a stack of one output, its state the object KEY, with backend SETTINGS
light() {
	mkdir -p "$1"
	cat >"$1/main.stk" <<EOF
stack "backend-settings" {
  backend s3 {
    bucket = "$BUCKET"
    key    = "$2"
    $3
  }
}

output where {
  value = "$2"
}
EOF
}

t_begin "encrypt = true puts the object with server-side encryption (AES256); false or none, without"
G=$T_TMP/g
light "$G" sse/stk.state "encrypt = true"
in_dir "$G" apply -auto-approve
t_expect_status 0
awsx s3api head-object --bucket "$BUCKET" --key sse/stk.state >"$T_TMP/head" 2>&1
grep -q '"ServerSideEncryption": "AES256"' "$T_TMP/head" || t_why "no SSE on the object: $(cat "$T_TMP/head")"
for setting in "encrypt = false" "# no encrypt"; do
	light "$G" plain/stk.state "$setting"
	in_dir "$G" apply -auto-approve
	t_expect_status 0
	awsx s3api head-object --bucket "$BUCKET" --key plain/stk.state >"$T_TMP/head" 2>&1 ||
		t_why "no object plain/stk.state: $(cat "$T_TMP/head")"
	grep -q ServerSideEncryption "$T_TMP/head" && t_why "$setting, and the object has SSE: $(cat "$T_TMP/head")"
	awsx s3api delete-object --bucket "$BUCKET" --key plain/stk.state
done
t_end

t_begin "endpoint and dynamodb_endpoint win over AWS_ENDPOINT_URL_S3, _DYNAMODB and AWS_ENDPOINT_URL"
DEAD=http://127.0.0.1:$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
H=$T_TMP/h
light "$H" endpoint/stk.state "dynamodb_table = \"$TABLE\"
    endpoint = \"$EP/\"
    dynamodb_endpoint = \"$EP\""
# every endpoint of the environment at a port nobody listens on
AT_DEAD='export AWS_ENDPOINT_URL_S3=$DEAD AWS_ENDPOINT_URL_DYNAMODB=$DEAD; VIA=$DEAD'
apart "$AT_DEAD" "$H" apply -auto-approve
t_expect_status 0
awsx s3api head-object --bucket "$BUCKET" --key endpoint/stk.state >/dev/null 2>&1 ||
	t_why "no object endpoint/stk.state: $(cat "$T_TMP/err")"
[ "$(locks)" -eq 0 ] || t_why "a lock was left behind"
# the lock table's own endpoint is needed too: without it the lock goes to the dead port
light "$H" endpoint/stk.state "dynamodb_table = \"$TABLE\"
    endpoint = \"$EP\""
apart "$AT_DEAD" "$H" apply -auto-approve
t_expect_status 1
t_expect_has err "lock table $TABLE"
light "$H" endpoint/stk.state "# no endpoint"
apart "$AT_DEAD" "$H" plan
t_expect_status 1
t_expect_has err "state s3://$BUCKET/endpoint/stk.state: s3 GetObject"
light "$H" endpoint/stk.state "endpoint = \"127.0.0.1:9000\""
in_dir "$H" plan
t_expect_status 1
t_expect_has err "the backend's endpoint must be an http:// or https:// URL"
t_end

t_begin "profile: the key and region of that profile in the shared files, as Terraform's profile"
J=$T_TMP/j
light "$J" profile/stk.state 'profile = "stk-test"'
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = not-the-secret\n\n' "$AWS_ACCESS_KEY_ID" \
	>"$T_TMP/credentials"
printf '[stk-test]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$AWS_ACCESS_KEY_ID" \
	"$AWS_SECRET_ACCESS_KEY" >>"$T_TMP/credentials"
printf '[profile stk-test]\nregion = us-east-1\n' >"$T_TMP/config"
# no key nor region in the environment, only the files
FILES_ONLY='unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION AWS_REGION AWS_PROFILE
	export AWS_SHARED_CREDENTIALS_FILE="$T_TMP/credentials" AWS_CONFIG_FILE="$T_TMP/config"'
apart "$FILES_ONLY" "$J" apply -auto-approve
t_expect_status 0
awsx s3api head-object --bucket "$BUCKET" --key profile/stk.state >/dev/null 2>&1 ||
	t_why "no object profile/stk.state: $(cat "$T_TMP/err")"
# without the setting, the default profile, whose secret is wrong: moto checks the signature
light "$J" profile/stk.state "region = \"us-east-1\""
apart "$FILES_ONLY" "$J" plan
t_expect_status 1
t_expect_match err "s3 GetObject: (SignatureDoesNotMatch|InvalidAccessKeyId|AccessDenied)"
grep -q "$AWS_SECRET_ACCESS_KEY" "$T_TMP/all-output" && t_why "the profile's secret appears in an output"
t_end

t_begin "workspaces in S3: PREFIX/NAME/KEY (workspace_key_prefix); each apply and destroy is its own"
has_object() {
	awsx s3api head-object --bucket "$BUCKET" --key "$1" >/dev/null 2>&1
}
C=$T_TMP/c
stack "$C" "lock_table = \"$TABLE\"
    workspace_key_prefix = \"ws\""
in_dir "$C" workspace new staging
t_expect_status 0
t_expect_has out 'Created and switched to workspace "staging".'
has_object "ws/staging/env/prod/stk.state" || t_why "no object ws/staging/env/prod/stk.state"
in_dir "$C" workspace list
t_expect_has out "  default"
t_expect_has out "* staging"
in_dir "$C" apply -auto-approve
t_expect_status 0
t_expect_has out "Apply complete! Resources: 2 added"
[ "$(vpcs)" -eq 2 ] || t_why "awscli sees $(vpcs) VPCs, not default's and staging's"
awsx s3api get-object --bucket "$BUCKET" --key "ws/staging/env/prod/stk.state" "$T_TMP/staging" >/dev/null
[ "$(head -c 6 "$T_TMP/staging")" = STKENC ] || t_why "staging's object is not sealed"
# the default workspace's state did not move: a checkout on default plans no changes
in_dir "$B" plan -detailed-exitcode
t_expect_status 0
in_dir "$C" workspace delete staging
t_expect_status 1
t_expect_has err "is the current one"
in_dir "$C" destroy -auto-approve
t_expect_status 0
[ "$(vpcs)" -eq 1 ] || t_why "destroy in staging did not leave default's VPC alone: $(vpcs) VPCs"
in_dir "$C" workspace select default
t_expect_status 0
in_dir "$C" workspace delete staging
t_expect_status 0
has_object "ws/staging/env/prod/stk.state" && t_why "staging's object is still in the bucket"
in_dir "$C" workspace list
t_expect_lacks out "staging"
[ "$(locks)" -eq 0 ] || t_why "$(locks) lock items left"
t_end

# Terraform's default prefix is "env:". moto checks a signature against the decoded path, so
# no client (awscli neither) can read or write a key with ':' there: the request stk makes is
# what this checks, in its debug log.
t_begin "without workspace_key_prefix, another workspace's state is env:/NAME/KEY, as in Terraform"
T_STATUS=0
(cd "$A" && AWS_ENDPOINT_URL=$PX STK_WORKSPACE=staging STK_LOG=debug STK_VAR_state_passphrase=$PASS t_timeout 120 \
	"$STK_ABS" plan) </dev/null >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
cat "$T_TMP/out" "$T_TMP/err" >>"$T_TMP/all-output"
t_expect_has err "GET $PX/$BUCKET/env%3A/staging/env/prod/stk.state"
t_end

t_begin "destroy, and no output of any run holds the passphrase or the secret"
in_dir "$A" destroy -auto-approve
t_expect_status 0
[ "$(vpcs)" -eq 0 ] || t_why "the VPC is still there"
grep -q "$PASS" "$T_TMP/all-output" && t_why "the passphrase appears in an output"
grep -q "$SECRET" "$T_TMP/all-output" && t_why "the secret appears in an output"
[ -s "$T_TMP/all-output" ] || t_why "no output was kept"
t_end

t_summary

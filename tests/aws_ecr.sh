#!/bin/sh
# tests/aws_ecr.sh: aws.ecr_repository and the AWS data sources (caller_identity,
# availability_zones, ecr_token, ami) against moto_server on loopback, with every signature and
# IAM permission checked, judged by awscli, never by stk's own reading.
. "$(dirname "$0")/lib.sh"
t_init

. "$(dirname "$0")/moto.sh"
moto_start
W=$T_TMP/work
STK_ABS=$(t_abspath "$STK")
mkdir -p "$W"

in_w() {
	T_STATUS=0
	(cd "$W" && t_timeout 120 "$STK_ABS" "$@") <"/dev/null" >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
}

repo_field() {
	awsx ecr describe-repositories --query "repositories[?repositoryName=='$1'].$2 | [0]" --output text
}

repo_tag() {
	awsx ecr list-tags-for-resource --resource-arn "$(repo_field "$1" repositoryArn)" \
		--query "tags[?Key=='$2'].Value | [0]" --output text
}

# a JSON output of stk, printed as text
out_json() {
	(cd "$W" && "$STK_ABS" output -json) </dev/null | python3 -c "import json, sys; v = json.load(sys.stdin)['$1']['value']; print(' '.join(v) if isinstance(v, list) else v)"
}

cat >"$W/main.stk" <<'EOF'
provider aws { region = "us-east-1" }

resource aws.ecr_repository app {
  name         = "stk/app"
  scan_on_push = false
  tags         = { Team = "infra", Env = "test" }
}

output url { value = aws.ecr_repository.app.repository_url }
output registry { value = aws.ecr_repository.app.registry }
EOF

t_begin "aws.ecr_repository is created as configured (checked with awscli)"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "aws.ecr_repository.app: Creation complete"
[ "$(repo_field stk/app imageTagMutability)" = MUTABLE ] || t_why "awscli does not see a MUTABLE stk/app"
[ "$(repo_field stk/app imageScanningConfiguration.scanOnPush)" = False ] || t_why "scan on push is not off"
[ "$(repo_tag stk/app Team)" = infra ] || t_why "the Team tag is not infra"
URL=$(repo_field stk/app repositoryUri)
[ "$(out_json url)" = "$URL" ] || t_why "output url is not awscli's $URL"
[ "$(out_json registry)" = "${URL%%/*}" ] || t_why "output registry is not ${URL%%/*}"
ARN=$(repo_field stk/app repositoryArn)
t_end

t_begin "a second plan, refreshing through the API, has no changes"
in_w plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
t_end

t_begin "scan_on_push, tag mutability and tags change in place"
sed -i 's/scan_on_push = false/scan_on_push = true\n  image_tag_mutability = "IMMUTABLE"/; s/Team = "infra", Env = "test"/Team = "platform"/' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "1 changed"
[ "$(repo_field stk/app repositoryArn)" = "$ARN" ] || t_why "the repository was replaced instead of updated"
[ "$(repo_field stk/app imageScanningConfiguration.scanOnPush)" = True ] || t_why "scan on push is not on"
[ "$(repo_field stk/app imageTagMutability)" = IMMUTABLE ] || t_why "the tags are not immutable"
[ "$(repo_tag stk/app Team)" = platform ] || t_why "the Team tag was not updated"
[ "$(repo_tag stk/app Env)" = None ] || t_why "the Env tag was not removed"
in_w plan -detailed-exitcode
[ "$T_STATUS" -eq 0 ] || t_why "the plan after the update has changes (exit $T_STATUS)"
t_end

t_begin "the image_scanning_configuration block says the same as scan_on_push"
sed -i 's/scan_on_push = true/image_scanning_configuration { scan_on_push = true }/' "$W/main.stk"
in_w plan -detailed-exitcode
t_expect_status 2
in_w apply -auto-approve
t_expect_status 0
in_w plan -detailed-exitcode
t_expect_status 0
sed -i 's/image_scanning_configuration { scan_on_push = true }/image_scanning_configuration { scan_on_push = false }/' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
[ "$(repo_field stk/app imageScanningConfiguration.scanOnPush)" = False ] || t_why "scan on push is still on"
t_end

t_begin "a scanning setting changed outside stk is drift: planned back"
awsx ecr put-image-scanning-configuration --repository-name stk/app \
	--image-scanning-configuration scanOnPush=true >/dev/null
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_has out "scan_on_push"
t_end

t_begin "a new name replaces the repository"
awsx ecr create-repository --repository-name stk/other >/dev/null
sed -i 's|"stk/app"|"stk/app2"|' "$W/main.stk"
in_w plan
t_expect_has out "# forces replacement"
in_w apply -auto-approve
t_expect_status 0
[ "$(repo_field stk/app2 repositoryName)" = stk/app2 ] || t_why "awscli does not see stk/app2"
[ "$(repo_field stk/app repositoryName)" = None ] || t_why "the old stk/app still exists"
[ "$(repo_field stk/app2 imageScanningConfiguration.scanOnPush)" = False ] || t_why "scan on push is on"
t_end

t_begin "a repository deleted outside stk is planned for creation again"
awsx ecr delete-repository --repository-name stk/app2 >/dev/null
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_has out "aws.ecr_repository.app will be created"
t_end

t_begin "destroy removes the repository; others are left alone"
in_w apply -auto-approve
t_expect_status 0
in_w destroy -auto-approve
t_expect_status 0
[ "$(repo_field stk/app2 repositoryName)" = None ] || t_why "stk/app2 is still there"
[ "$(repo_field stk/other repositoryName)" = stk/other ] || t_why "stk/other, not stk's, is gone"
t_end

# ---- data sources ----

rm -rf "$W"
mkdir -p "$W"
awsx ec2 register-image --name stk-img-1 --root-device-name /dev/sda1 \
	--query ImageId --output text >"$T_TMP/img1"
# creationDate has whole seconds: the second image must be newer
sleep 2
awsx ec2 register-image --name stk-img-2 --root-device-name /dev/sda1 \
	--query ImageId --output text >"$T_TMP/img2"

cat >"$W/main.stk" <<'EOF'
provider aws { region = "us-east-1" }

data aws.caller_identity me {}
data aws.availability_zones all {}
data aws.ecr_token login {}

data aws.ami newest {
  owners      = ["self"]
  name        = "stk-img-*"
  most_recent = true
}

data aws.ami amazon {
  owners = ["amazon"]
  name   = "amzn-ami-hvm-2017.09.1.*"
  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

output account { value = data.aws.caller_identity.me.account_id }
output caller_arn { value = data.aws.caller_identity.me.arn }
output zones { value = data.aws.availability_zones.all.names }
output zone_ids { value = data.aws.availability_zones.all.zone_ids }
output token_user { value = data.aws.ecr_token.login.username }
output token_password {
  value     = data.aws.ecr_token.login.password
  sensitive = true
}
output token_endpoint { value = data.aws.ecr_token.login.proxy_endpoint }
output token_expires { value = data.aws.ecr_token.login.expires_at }
output newest_ami { value = data.aws.ami.newest.id }
output newest_snapshot { value = data.aws.ami.newest.root_snapshot_id }
output amazon_ami { value = data.aws.ami.amazon.image_id }
output amazon_root { value = data.aws.ami.amazon.root_device_name }
EOF

t_begin "-refresh=false reads no data source during plan: they are read during apply"
in_w plan -refresh=false
t_expect_status 0
t_expect_match out 'data\.aws\.caller_identity\.me will be read during apply'
t_end

t_begin "a refreshing plan reads the data sources: the outputs are known, the password is not shown"
PW=$(awsx ecr get-authorization-token --query 'authorizationData[0].authorizationToken' --output text |
	base64 -d | cut -d: -f2-)
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_lacks out "will be read during apply"
t_expect_match out '^ *\+ account += "[0-9]{12}"$'
t_expect_match out '^ *\+ token_password += \(sensitive value\)$'
t_expect_lacks out "$PW"
t_expect_lacks err "$PW"
in_w plan -json
t_expect_lacks out "$PW"
in_w plan -out saved.plan
t_expect_status 0
grep -F -e "$PW" "$W/saved.plan" >/dev/null && t_why "the saved plan holds the password"
in_w apply saved.plan
t_expect_status 0
t_expect_lacks out "$PW"
t_end

t_begin "a second plan reads them again: no changes"
in_w plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
t_end

t_begin "caller_identity is awscli's account and ARN"
[ "$(out_json account)" = "$(awsx sts get-caller-identity --query Account --output text)" ] ||
	t_why "account $(out_json account) is not awscli's"
[ "$(out_json caller_arn)" = "$(awsx sts get-caller-identity --query Arn --output text)" ] ||
	t_why "arn $(out_json caller_arn) is not awscli's"
t_end

t_begin "availability_zones lists awscli's zones, sorted, with their IDs in the same order"
[ "$(out_json zones)" = "$(awsx ec2 describe-availability-zones --query 'sort_by(AvailabilityZones, &ZoneName)[].ZoneName' --output text | tr '\t' ' ')" ] ||
	t_why "zones $(out_json zones) are not awscli's"
[ "$(out_json zone_ids)" = "$(awsx ec2 describe-availability-zones --query 'sort_by(AvailabilityZones, &ZoneName)[].ZoneId' --output text | tr '\t' ' ')" ] ||
	t_why "zone ids $(out_json zone_ids) are not awscli's"
t_end

t_begin "ecr_token: user AWS, the password sensitive, an RFC 3339 expiry"
[ "$(out_json token_user)" = AWS ] || t_why "username is $(out_json token_user), not AWS"
case $(out_json token_endpoint) in
https://*) ;;
*) t_why "proxy_endpoint $(out_json token_endpoint) is not a URL" ;;
esac
out_json token_expires | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' ||
	t_why "expires_at $(out_json token_expires) is not RFC 3339"
PW=$(awsx ecr get-authorization-token --query 'authorizationData[0].authorizationToken' --output text |
	base64 -d | cut -d: -f2-)
in_w output
t_expect_match out 'token_password.*\(sensitive value\)'
t_expect_lacks out "$PW"
in_w output token_password
t_expect_status 0
t_expect_has out "$PW"
t_end

t_begin "ami: most_recent takes the newest match; a single match needs no most_recent"
[ "$(out_json newest_ami)" = "$(cat "$T_TMP/img2")" ] || t_why "newest_ami $(out_json newest_ami) is not $(cat "$T_TMP/img2")"
[ "$(out_json newest_snapshot)" = "$(awsx ec2 describe-images --image-ids "$(cat "$T_TMP/img2")" \
	--query 'Images[0].BlockDeviceMappings[0].Ebs.SnapshotId' --output text)" ] ||
	t_why "newest_snapshot $(out_json newest_snapshot) is not awscli's root snapshot"
[ "$(out_json amazon_ami)" = "$(awsx ec2 describe-images --owners amazon \
	--filters 'Name=name,Values=amzn-ami-hvm-2017.09.1.*' --query 'Images[0].ImageId' --output text)" ] ||
	t_why "amazon_ami $(out_json amazon_ami) is not awscli's"
[ "$(out_json amazon_root)" = "$(awsx ec2 describe-images --owners amazon \
	--filters 'Name=name,Values=amzn-ami-hvm-2017.09.1.*' --query 'Images[0].RootDeviceName' --output text)" ] ||
	t_why "amazon_root $(out_json amazon_root) is not awscli's"
t_end

t_begin "a newer image: a refreshing plan sees it, -refresh=false keeps the state's, stk refresh records it"
sleep 2
awsx ec2 register-image --name stk-img-3 --root-device-name /dev/sda1 \
	--query ImageId --output text >"$T_TMP/img3"
in_w plan -refresh=false -detailed-exitcode
t_expect_status 0
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_has out "newest_ami      = \"$(cat "$T_TMP/img2")\" -> \"$(cat "$T_TMP/img3")\""
t_expect_lacks out "data.aws.ami.newest"
in_w refresh
t_expect_status 0
in_w state show data.aws.ami.newest
t_expect_match out "^ *id += \"$(cat "$T_TMP/img3")\""
in_w plan -refresh=false -detailed-exitcode
t_expect_status 0
[ "$(out_json newest_ami)" = "$(cat "$T_TMP/img3")" ] || t_why "newest_ami $(out_json newest_ami) is not the new image"
t_end

t_begin "a saved plan whose data source reads otherwise at apply is refused"
in_w plan -out saved.plan
t_expect_status 0
sleep 2
awsx ec2 register-image --name stk-img-4 --root-device-name /dev/sda1 --query ImageId --output text >/dev/null
in_w apply saved.plan
t_expect_status 1
t_expect_has err "the saved plan no longer matches: output newest_ami would now have another value"
t_expect_has err "what a data source read, changed since; make a new plan"
t_end

t_begin "ami: several matches without most_recent are an error, as in Terraform"
sed -i 's/  most_recent = true//' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 1
t_expect_has err "data.aws.ami.newest: your query returned 4 results"
t_end

t_begin "ami: no match is an error"
sed -i 's/"stk-img-\*"/"stk-none-*"/' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 1
t_expect_has err "your query returned no results"
t_end

t_summary

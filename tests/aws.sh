#!/bin/sh
# tests/aws.sh: the AWS provider against moto_server on loopback, with every signature and
# IAM permission checked (INITIAL_NO_AUTH_ACTION_COUNT), judged by awscli, never by stk's own
# reading.
. "$(dirname "$0")/lib.sh"
t_init

. "$(dirname "$0")/moto.sh"
moto_start
W=$T_TMP/work
STK_ABS=$(t_abspath "$STK")
mkdir -p "$W"

in_w() {
	t_stk_in "$W" "$@"
}

vpc_field() {
	awsx ec2 describe-vpcs --filters Name=tag:Name,Values=stk-test --query "Vpcs[].$1" --output text
}

cat >"$W/main.stk" <<'EOF'
provider aws { region = "us-east-1" }

resource aws.vpc main {
  cidr_block           = "10.0.0.0/16"
  enable_dns_hostnames = true
  tags                 = { Name = "stk-test", Team = "infra" }
}

output vpc_id { value = aws.vpc.main.id }
EOF

t_begin "aws.vpc is created as configured (checked with awscli)"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "aws.vpc.main: Creation complete"
[ "$(vpc_field CidrBlock)" = 10.0.0.0/16 ] || t_why "awscli does not see a 10.0.0.0/16 VPC tagged stk-test"
VPC=$(vpc_field VpcId)
[ "$(awsx ec2 describe-vpc-attribute --vpc-id "$VPC" --attribute enableDnsHostnames \
	--query EnableDnsHostnames.Value --output text)" = True ] || t_why "DNS hostnames are not enabled"
t_end

t_begin "a second plan, refreshing through the API, has no changes"
in_w plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
t_end

t_begin "tags and DNS support change in place"
sed -i 's/Team = "infra"/Team = "platform"/; s/enable_dns_hostnames = true/enable_dns_hostnames = true\n  enable_dns_support   = false/' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "1 changed"
[ "$(vpc_field VpcId)" = "$VPC" ] || t_why "the VPC was replaced instead of updated"
[ "$(awsx ec2 describe-tags --filters Name=resource-id,Values="$VPC" Name=key,Values=Team \
	--query 'Tags[0].Value' --output text)" = platform ] || t_why "the Team tag was not updated"
[ "$(awsx ec2 describe-vpc-attribute --vpc-id "$VPC" --attribute enableDnsSupport \
	--query EnableDnsSupport.Value --output text)" = False ] || t_why "DNS support is still on"
t_end

t_begin "a tag changed outside stk is drift: planned back, and applied"
awsx ec2 create-tags --resources "$VPC" --tags Key=Team,Value=rogue
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_has out '~ tags'
t_expect_has out 'rogue'
in_w apply -auto-approve
t_expect_status 0
[ "$(awsx ec2 describe-tags --filters Name=resource-id,Values="$VPC" Name=key,Values=Team \
	--query 'Tags[0].Value' --output text)" = platform ] || t_why "the drift was not corrected"
t_end

t_begin "a new CIDR block replaces the VPC"
sed -i 's|10.0.0.0/16|10.1.0.0/16|' "$W/main.stk"
in_w plan
t_expect_has out "# forces replacement"
in_w apply -auto-approve
t_expect_status 0
[ "$(vpc_field CidrBlock)" = 10.1.0.0/16 ] || t_why "awscli does not see the new 10.1.0.0/16 VPC"
awsx ec2 describe-vpcs --vpc-ids "$VPC" >/dev/null 2>&1 && t_why "the old VPC $VPC still exists"
t_end

t_begin "a VPC deleted outside stk is planned for creation again"
awsx ec2 delete-vpc --vpc-id "$(vpc_field VpcId)"
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_has out "aws.vpc.main will be created"
t_end

t_begin "a wrong secret key is refused by the server, shown plainly, exit 1"
T_STATUS=0
(cd "$W" && AWS_SECRET_ACCESS_KEY=wrong t_timeout 60 "$STK_ABS" apply -auto-approve) </dev/null \
	>"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 1
t_expect_match err 'ec2 [A-Za-z]+: (AuthFailure|SignatureDoesNotMatch|InvalidSignature)'
t_expect_lacks err "wrong"
t_end

t_begin "a user without permission gets the access denied message"
awsx iam create-user --user-name nobody >/dev/null
awsx iam create-access-key --user-name nobody --query 'AccessKey.[AccessKeyId,SecretAccessKey]' \
	--output text >"$T_TMP/key2"
read -r K2 S2 <"$T_TMP/key2"
T_STATUS=0
(cd "$W" && AWS_ACCESS_KEY_ID=$K2 AWS_SECRET_ACCESS_KEY=$S2 t_timeout 60 "$STK_ABS" apply -auto-approve) \
	</dev/null >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 1
t_expect_match err 'AccessDenied|UnauthorizedOperation|not authorized'
t_end

# An apply killed right after CreateVpc leaves an intent in the state and a VPC tagged with its
# token: the next run adopts that VPC instead of making a second one.
intent_state() {
	cat >"$W/stk.state" <<EOF
{
  "lineage": "7d4e2f0a-1b2c-4d3e-8f40-5a6b7c8d9e0f",
  "outputs": {},
  "resources": [
    {
      "instances": [ { "attributes": {}, "status": "pending", "token": "$1" } ],
      "mode": "managed",
      "module": "",
      "name": "main",
      "provider": "aws",
      "type": "aws.vpc"
    }
  ],
  "serial": 7,
  "stk_version": "0.1.0",
  "version": 1
}
EOF
	chmod 600 "$W/stk.state"
}

t_begin "an interrupted create is adopted by its token, never made twice"
in_w destroy -auto-approve
intent_state 0b9c7e1a-2d3f-4a5b-8c6d-7e8f9a0b1c2d
awsx ec2 create-vpc --cidr-block 10.1.0.0/16 --tag-specifications \
	'ResourceType=vpc,Tags=[{Key=Name,Value=stk-test},{Key=Team,Value=platform},{Key=stk:token,Value=0b9c7e1a-2d3f-4a5b-8c6d-7e8f9a0b1c2d}]' \
	>/dev/null
in_w apply -auto-approve
t_expect_status 0
t_expect_lacks out "will be created"
[ "$(vpc_field VpcId | wc -w)" -eq 1 ] || t_why "awscli counts $(vpc_field VpcId | wc -w) VPCs, not 1"
t_end

t_begin "an intent whose object was never made is dropped, and the object created once"
in_w destroy -auto-approve
intent_state 5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "1 added"
[ "$(vpc_field VpcId | wc -w)" -eq 1 ] || t_why "awscli counts $(vpc_field VpcId | wc -w) VPCs, not 1"
t_end

t_begin "stk import adopts a VPC made outside stk; the plan then shows only the real difference"
in_w destroy -auto-approve
rm -f "$W/stk.state" "$W/stk.state.backup"
OUTSIDE=$(awsx ec2 create-vpc --cidr-block 10.1.0.0/16 --tag-specifications \
	'ResourceType=vpc,Tags=[{Key=Name,Value=stk-test},{Key=Team,Value=old}]' --query Vpc.VpcId --output text)
awsx ec2 modify-vpc-attribute --vpc-id "$OUTSIDE" --enable-dns-support '{"Value":false}'
awsx ec2 modify-vpc-attribute --vpc-id "$OUTSIDE" --enable-dns-hostnames '{"Value":true}'
in_w import aws.vpc.main "$OUTSIDE"
t_expect_status 0
t_expect_has out "Imported $OUTSIDE as aws.vpc.main"
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_has out "aws.vpc.main will be updated in place"
t_expect_has out 'Team = "old"'
t_expect_lacks out "will be created"
in_w import aws.vpc.main "$OUTSIDE"
t_expect_status 1
t_expect_has err "already in the state"
in_w import aws.vpc.nope vpc-123
t_expect_status 1
t_expect_has err "is not declared in the configuration"
t_end

t_begin "plan -generate-config-out writes the blocks of a VPC and a security group made outside stk; apply imports them; the next plan is empty"
G=$T_TMP/gen
mkdir -p "$G"
GVPC=$(awsx ec2 create-vpc --cidr-block 10.7.0.0/16 --tag-specifications \
	'ResourceType=vpc,Tags=[{Key=Name,Value=stk-gen},{Key=Team,Value=web}]' --query Vpc.VpcId --output text)
awsx ec2 modify-vpc-attribute --vpc-id "$GVPC" --enable-dns-hostnames '{"Value":true}'
GSG=$(awsx ec2 create-security-group --group-name stk-gen-web --description 'Web from anywhere' \
	--vpc-id "$GVPC" --query GroupId --output text)
awsx ec2 authorize-security-group-ingress --group-id "$GSG" --ip-permissions \
	'IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{CidrIp=0.0.0.0/0,Description=HTTPS}]' >/dev/null
cat >"$G/main.stk" <<EOF
provider aws { region = "us-east-1" }

import {
  to = aws.vpc.web
  id = "$GVPC"
}

import {
  to = aws.security_group.web
  id = "$GSG"
}
EOF
t_stk_in "$G" validate
t_expect_status 1
t_expect_has err 'or let stk plan -generate-config-out=FILE write it'
t_stk_in "$G" plan -generate-config-out=generated.stk -detailed-exitcode
t_expect_status 2
t_expect_has out '# aws.vpc.web will be imported'
t_expect_has out '# aws.security_group.web will be imported'
t_expect_has out 'Plan: 2 to import, 0 to add, 0 to change, 0 to destroy.'
t_expect_has err 'stk wrote configuration for the imports to generated.stk'
grep -q "^# __generated__ by stk from \"$GVPC\"" "$G/generated.stk" || t_why "no header naming the VPC's ID"
grep -q '^  cidr_block *= "10.7.0.0/16"$' "$G/generated.stk" || t_why "no cidr_block in the generated file"
grep -q '^  enable_dns_hostnames *= true$' "$G/generated.stk" || t_why "enable_dns_hostnames is not true"
grep -q '^  vpc_id *= "'"$GVPC"'"$' "$G/generated.stk" || t_why "the group's vpc_id is not the VPC's ID"
grep -q '^  ingress {$' "$G/generated.stk" || t_why "no ingress block"
grep -q '^    from_port *= 443$' "$G/generated.stk" || t_why "the ingress rule's port is not 443"
grep -q '^    description *= "HTTPS"$' "$G/generated.stk" || t_why "the ingress rule's description is missing"
grep -q '^  id *=' "$G/generated.stk" && t_why "the computed id was written as an argument"
[ -f "$G/stk.state" ] && t_why "plan wrote a state"
t_stk_in "$G" fmt -check
t_expect_status 0
t_stk_in "$G" apply -auto-approve
t_expect_status 0
t_expect_has out 'aws.vpc.web: Import complete'
t_expect_has out 'Apply complete! Resources: 2 imported, 0 added, 0 changed, 0 destroyed.'
t_stk_in "$G" plan -detailed-exitcode
t_expect_status 0
t_expect_has out 'No changes.'
[ "$(awsx ec2 describe-vpcs --filters Name=tag:Name,Values=stk-gen --query 'Vpcs[].VpcId' --output text)" = "$GVPC" ] ||
	t_why "awscli does not see exactly the one VPC tagged stk-gen"
[ "$(awsx ec2 describe-security-groups --group-ids "$GSG" --query 'SecurityGroups[0].IpPermissions[0].ToPort' \
	--output text)" = 443 ] || t_why "the group's rule changed"
t_stk_in "$G" plan -generate-config-out=generated.stk
t_expect_status 1
t_expect_has err 'generated.stk already exists, and -generate-config-out writes a new file'
t_stk_in "$G" destroy -auto-approve
t_expect_status 0
[ -z "$(awsx ec2 describe-vpcs --filters Name=tag:Name,Values=stk-gen --query 'Vpcs[].VpcId' --output text)" ] ||
	t_why "destroy left the VPC"
t_end

# Refresh and import configure each provider from its block, not from the environment alone:
# objects made through an aliased provider in another region are read back in that region.
mkdir -p "$W/west"
cat >"$W/west/main.stk" <<'EOF'
variable west_region { default = "us-west-2" }

provider aws { region = "us-east-1" }
provider aws "west" { region = var.west_region }

resource aws.vpc far {
  provider   = aws.west
  cidr_block = "10.9.0.0/16"
  tags       = { Name = "stk-west" }
}
EOF
west_vpc() {
	aws --endpoint-url "$EP" --region us-west-2 ec2 describe-vpcs --filters Name=tag:Name,Values=stk-west \
		--query 'Vpcs[].VpcId' --output text
}
in_west() {
	t_stk_in "$W/west" "$@"
}

t_begin "an aliased provider's region (from a variable) is used by refresh and import too"
in_west apply -auto-approve
t_expect_status 0
[ "$(west_vpc | wc -w)" -eq 1 ] || t_why "awscli does not see the VPC in us-west-2"
in_west plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
in_west state rm aws.vpc.far
in_west import aws.vpc.far "$(west_vpc)"
t_expect_status 0
in_west plan -detailed-exitcode
t_expect_status 0
in_west destroy -auto-approve
t_expect_status 0
[ -z "$(west_vpc)" ] || t_why "the us-west-2 VPC is still there"
t_end

# An object made through an aliased provider keeps it when the configuration drops the
# object: its destroy goes to that provider's region, not the default provider's.
mkdir -p "$W/orph"
# the providers alone, then with the VPC
cat >"$T_TMP/orph-providers.stk" <<'EOF'
provider aws { region = "us-east-1" }
provider aws "west" { region = "us-west-2" }
EOF
cat "$T_TMP/orph-providers.stk" - >"$T_TMP/orph-full.stk" <<'EOF'

resource aws.vpc far {
  provider   = aws.west
  cidr_block = "10.9.0.0/16"
  tags       = { Name = "stk-west" }
}
EOF
cp "$T_TMP/orph-full.stk" "$W/orph/main.stk"
in_orph() {
	t_stk_in "$W/orph" "$@"
}

t_begin "a resource dropped from the configuration is destroyed through the aliased provider that made it"
in_orph apply -auto-approve
t_expect_status 0
[ "$(west_vpc | wc -w)" -eq 1 ] || t_why "awscli does not see the VPC in us-west-2"
grep -q '"provider": "aws.west"' "$W/orph/stk.state" || t_why "the state does not record provider aws.west"
cp "$T_TMP/orph-providers.stk" "$W/orph/main.stk"
in_orph plan -refresh=false -no-color
t_expect_status 0
t_expect_has out "aws.vpc.far will be destroyed"
in_orph apply -auto-approve
t_expect_status 0
t_expect_has out "aws.vpc.far: Destruction complete"
[ -z "$(west_vpc)" ] || t_why "the us-west-2 VPC is still there: the destroy went elsewhere"
in_orph state list
t_expect_status 0
t_expect_lacks out "aws.vpc.far"
t_end

t_begin "an object whose aliased provider block is gone is not destroyed elsewhere: the error says to add the block back"
cp "$T_TMP/orph-full.stk" "$W/orph/main.stk"
in_orph apply -auto-approve
t_expect_status 0
[ "$(west_vpc | wc -w)" -eq 1 ] || t_why "awscli does not see the VPC in us-west-2"
printf 'provider aws { region = "us-east-1" }\n' >"$W/orph/main.stk"
for cmd in "plan" "plan -refresh=false" "apply -auto-approve" "destroy -auto-approve"; do
	# shellcheck disable=SC2086
	in_orph $cmd
	t_expect_status 1
	t_expect_has err "aws.vpc.far"
	t_expect_has err "provider aws.west"
	t_expect_has err "add the block back"
done
[ "$(west_vpc | wc -w)" -eq 1 ] || t_why "the us-west-2 VPC went, or another appeared"
in_orph state list
t_expect_has out "aws.vpc.far"
cp "$T_TMP/orph-providers.stk" "$W/orph/main.stk"
in_orph destroy -auto-approve
t_expect_status 0
[ -z "$(west_vpc)" ] || t_why "the us-west-2 VPC is still there"
t_end

t_begin "a provider configured from a resource's attribute refreshes from the state's value"
cat >>"$W/west/main.stk" <<'EOF'
resource aws.vpc near {
  cidr_block = "10.8.0.0/16"
  tags       = { Name = "stk-near" }
}
# known from the state once near exists, unknown while near is being replaced
provider aws "late" { region = substr("us-west-2/${aws.vpc.near.id}", 0, 9) }
resource aws.vpc later {
  provider   = aws.late
  cidr_block = "10.7.0.0/16"
  tags       = { Name = "stk-west" }
}
EOF
in_west apply -auto-approve
t_expect_status 0
[ "$(west_vpc | wc -w)" -eq 2 ] || t_why "awscli sees $(west_vpc | wc -w) VPCs tagged stk-west in us-west-2, not 2 (far and later)"
in_west plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "a provider block not known before apply cannot refresh, and says so"
sed -i 's|10.8.0.0/16|10.6.0.0/16|' "$W/west/main.stk"
in_west plan
t_expect_status 1
t_expect_has err "aws.vpc.later: provider aws.late is configured with values not known until apply"
t_expect_has err "-refresh=false"
in_west plan -refresh=false
t_expect_status 0
t_expect_has out "aws.vpc.near must be replaced"
sed -i 's|10.6.0.0/16|10.8.0.0/16|' "$W/west/main.stk"
in_west destroy -auto-approve
t_expect_status 0
[ -z "$(west_vpc)" ] || t_why "the us-west-2 VPC is still there"
t_end

t_begin "replace_triggered_by: an update of the VPC named replaces another (new one first); an attribute that stays triggers nothing"
W2=$T_TMP/trigger
mkdir -p "$W2"
in_w2() {
	t_stk_in "$W2" "$@"
}
named() {
	awsx ec2 describe-vpcs --filters Name=tag:Name,Values="$1" --query 'Vpcs[].VpcId' --output text
}
cat >"$W2/main.stk" <<'EOF'
provider aws { region = "us-east-1" }

resource aws.vpc source {
  cidr_block = "10.8.0.0/16"
  tags       = { Name = "stk-trigger-source", Rev = "1" }
}

resource aws.vpc follower {
  cidr_block = "10.9.0.0/16"
  tags       = { Name = "stk-trigger-follower" }
  lifecycle {
    create_before_destroy = true
    replace_triggered_by  = [aws.vpc.source]
  }
}

resource aws.vpc steady {
  cidr_block = "10.10.0.0/16"
  tags       = { Name = "stk-trigger-steady" }
  lifecycle {
    replace_triggered_by = [aws.vpc.source.cidr_block]
  }
}
EOF
in_w2 apply -auto-approve
t_expect_status 0
F1=$(named stk-trigger-follower)
S1=$(named stk-trigger-steady)
[ -n "$F1" ] && [ -n "$S1" ] || t_why "awscli does not see the follower and steady VPCs"
sed -i 's/Rev = "1"/Rev = "2"/' "$W2/main.stk"
in_w2 plan -detailed-exitcode
t_expect_status 2
t_expect_has out "aws.vpc.follower must be replaced (the new one created first) (a change to aws.vpc.source triggers it)"
t_expect_lacks out "aws.vpc.steady"
t_expect_has out "Plan: 1 to add, 1 to change, 1 to destroy."
in_w2 apply -auto-approve
t_expect_status 0
t_expect_has out "1 added, 1 changed, 1 destroyed"
F2=$(named stk-trigger-follower)
[ -n "$F2" ] && [ "$F2" != "$F1" ] || t_why "the follower VPC was not replaced: '$F2' (was $F1)"
awsx ec2 describe-vpcs --vpc-ids "$F1" >/dev/null 2>&1 && t_why "the old follower VPC $F1 still exists"
[ "$(named stk-trigger-steady)" = "$S1" ] || t_why "the steady VPC was replaced"
# the old object's destroy, last, leaves the new one in the state under the address
in_w2 state list
t_expect_has out "aws.vpc.follower"
[ "$(awsx ec2 describe-tags --filters Name=resource-id,Values="$(named stk-trigger-source)" Name=key,Values=Rev \
	--query 'Tags[0].Value' --output text)" = 2 ] || t_why "the source VPC's Rev tag is not 2"
in_w2 plan -detailed-exitcode
t_expect_status 0
in_w2 destroy -auto-approve
t_expect_status 0
[ -z "$(named stk-trigger-follower)$(named stk-trigger-steady)$(named stk-trigger-source)" ] ||
	t_why "VPCs of the trigger test remain"
t_end

t_begin "create_before_destroy: the old VPC, when its destroy fails, stays in the state as deposed; the next apply destroys it"
W4=$T_TMP/deposed
mkdir -p "$W4"
in_w4() {
	t_stk_in "$W4" "$@"
}
# the current and the deposed objects' ids in the state file $1 (default: $W4's), what stk
# recorded
state_ids() {
	python3 -c 'import json, sys
st = json.load(open(sys.argv[1]))
for r in st["resources"]:
	for i in r["instances"]:
		print("current", i["attributes"]["id"])
		for d in i.get("deposed", []):
			print("deposed", d["key"], d["attributes"]["id"])' "${1:-$W4/stk.state}"
}
cat >"$W4/main.stk" <<'EOF'
provider aws { region = "us-east-1" }

resource aws.vpc cbd {
  cidr_block = "10.20.0.0/16"
  tags       = { Name = "stk-deposed" }
  lifecycle {
    create_before_destroy = true
  }
}
EOF
in_w4 apply -auto-approve
t_expect_status 0
OLD=$(named stk-deposed)
# a subnet made outside stk: moto, as AWS, refuses to delete a VPC with one (DependencyViolation)
SUB=$(awsx ec2 create-subnet --vpc-id "$OLD" --cidr-block 10.20.1.0/24 --query Subnet.SubnetId --output text)
[ -n "$OLD" ] && [ -n "$SUB" ] || t_why "no VPC, or no subnet in it: '$OLD' '$SUB'"
sed -i 's|10.20.0.0/16|10.21.0.0/16|' "$W4/main.stk"
in_w4 apply -auto-approve
t_expect_status 1
t_expect_has out "aws.vpc.cbd: Creation complete"
NEW=$(awsx ec2 describe-vpcs --filters Name=tag:Name,Values=stk-deposed Name=cidr,Values=10.21.0.0/16 \
	--query 'Vpcs[].VpcId' --output text)
awsx ec2 describe-vpcs --vpc-ids "$OLD" >/dev/null 2>&1 || t_why "the old VPC $OLD is gone"
[ -n "$NEW" ] || t_why "awscli does not see the new 10.21.0.0/16 VPC"
state_ids >"$T_TMP/ids"
grep -qx "current $NEW" "$T_TMP/ids" || t_why "the state's current object is not $NEW: $(cat "$T_TMP/ids")"
KEY=$(sed -n "s/^deposed \([0-9a-f]\{8\}\) $OLD\$/\1/p" "$T_TMP/ids")
[ -n "$KEY" ] || t_why "the state does not record $OLD as deposed: $(cat "$T_TMP/ids")"
# the apply's progress names the deposed object as Terraform does
t_expect_has out "aws.vpc.cbd (deposed object $KEY): Destroying..."
t_expect_has out "aws.vpc.cbd (deposed object $KEY): Destroying failed"
in_w4 show -json
t_expect_has out "\"deposed_key\":\"$KEY\""
in_w4 plan -detailed-exitcode
t_expect_status 2
t_expect_has out "# aws.vpc.cbd (deposed object $KEY) will be destroyed"
t_expect_has out "Plan: 0 to add, 0 to change, 1 to destroy."
in_w4 plan -json
t_expect_has out "\"deposed\": \"$KEY\""
# the subnet goes; a saved plan carries the deposed object's key to its apply
awsx ec2 delete-subnet --subnet-id "$SUB"
in_w4 plan -out deposed.plan
t_expect_status 0
in_w4 apply deposed.plan
t_expect_status 0
t_expect_has out "0 added, 0 changed, 1 destroyed"
awsx ec2 describe-vpcs --vpc-ids "$OLD" >/dev/null 2>&1 && t_why "the old VPC $OLD still exists"
awsx ec2 describe-vpcs --vpc-ids "$NEW" >/dev/null 2>&1 || t_why "the new VPC $NEW is gone"
[ "$(state_ids)" = "current $NEW" ] || t_why "the state is not the new VPC alone: $(state_ids)"
in_w4 plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
in_w4 destroy -auto-approve
t_expect_status 0
[ -z "$(named stk-deposed)" ] || t_why "VPCs of the deposed test remain"
t_end

t_begin "create_before_destroy: kill -9 while the new VPC is being created; the next run adopts it and destroys the old"
W6=$T_TMP/cbdkill
mkdir -p "$W6"
in_w6() {
	t_stk_in "$W6" "$@"
}
cat >"$W6/main.stk" <<'EOF'
provider aws { region = "us-east-1" }

resource aws.vpc cbd {
  cidr_block = "10.30.0.0/16"
  tags       = { Name = "stk-cbdkill" }
  lifecycle {
    create_before_destroy = true
  }
}
EOF
in_w6 apply -auto-approve
t_expect_status 0
OLD=$(named stk-cbdkill)
sed -i 's|10.30.0.0/16|10.31.0.0/16|' "$W6/main.stk"
# the proxy forwards CreateVpc, then holds the answer: moto has made the VPC, stk does not know
proxy_start
proxy "config?stall=CreateVpc:60000" >/dev/null
(cd "$W6" && AWS_ENDPOINT_URL=$PX exec "$STK_ABS" apply -auto-approve) </dev/null >"$T_TMP/killed.out" 2>&1 &
KPID=$!
i=0
until proxy stats | grep -q '"stalled": {"CreateVpc": 1}'; do
	i=$((i + 1))
	[ $i -lt 300 ] || break
	sleep 0.1
done
kill -9 "$KPID" 2>/dev/null
wait "$KPID" 2>/dev/null
proxy "config?stall=" >/dev/null
[ $i -lt 300 ] || t_why "the proxy never saw the CreateVpc: $(cat "$T_TMP/killed.out")"
[ "$(named stk-cbdkill | wc -w)" -eq 2 ] || t_why "awscli does not see the old and the new VPC: $(named stk-cbdkill)"
# what the killed run wrote: the old object, still current, and the new one's token
python3 -c 'import json, sys
i = json.load(open(sys.argv[1]))["resources"][0]["instances"][0]
print(i["attributes"]["id"], i["status"], "token" if i.get("token") else "no-token")' "$W6/stk.state" >"$T_TMP/cur"
[ "$(cat "$T_TMP/cur")" = "$OLD ready token" ] || t_why "the state after the kill is not the old VPC with a token: $(cat "$T_TMP/cur")"
in_w6 plan -detailed-exitcode
t_expect_status 2
t_expect_has err "aws.vpc.cbd: adopted the replacement an interrupted apply created"
t_expect_has out "(deposed object "
t_expect_has out "Plan: 0 to add, 0 to change, 1 to destroy."
in_w6 apply -auto-approve
t_expect_status 0
NEW=$(named stk-cbdkill)
[ "$(echo "$NEW" | wc -w)" -eq 1 ] && [ "$NEW" != "$OLD" ] || t_why "awscli does not see the new VPC alone: '$NEW' (old $OLD)"
[ "$(awsx ec2 describe-vpcs --vpc-ids "$NEW" --query 'Vpcs[0].CidrBlock' --output text)" = 10.31.0.0/16 ] ||
	t_why "the VPC left is not the 10.31.0.0/16 one"
[ "$(state_ids "$W6/stk.state")" = "current $NEW" ] || t_why "the state is not the new VPC alone: $(state_ids "$W6/stk.state")"
in_w6 plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
in_w6 destroy -auto-approve
t_expect_status 0
[ -z "$(named stk-cbdkill)" ] || t_why "VPCs of the kill test remain"
t_end

t_begin "a module call's providers = { aws = aws.west } puts the module's VPC in us-west-2"
W3=$T_TMP/modprov
mkdir -p "$W3/net"
in_w3() {
	t_stk_in "$W3" "$@"
}
region_vpcs() {
	aws --endpoint-url "$EP" --region "$1" ec2 describe-vpcs --filters Name=tag:Name,Values=stk-modprov \
		--query 'Vpcs[].VpcId' --output text
}
cat >"$W3/main.stk" <<'EOF'
provider aws { region = "us-east-1" }

provider aws west { region = "us-west-2" }

module net {
  source    = "./net"
  providers = { aws = aws.west }
}
EOF
cat >"$W3/net/main.stk" <<'EOF'
resource aws.vpc this {
  cidr_block = "10.20.0.0/16"
  tags       = { Name = "stk-modprov" }
}
EOF
in_w3 graph
t_expect_has out '"module.net.aws.vpc.this" -> "provider.aws.west";'
in_w3 apply -auto-approve
t_expect_status 0
[ "$(region_vpcs us-west-2 | wc -w)" -eq 1 ] || t_why "awscli does not see the module's VPC in us-west-2"
[ -z "$(region_vpcs us-east-1)" ] || t_why "the module's VPC is in us-east-1"
# the root's alias made it, not a module's own block: the state records no module
! grep -q provider_module "$W3/stk.state" || t_why "the state records a module's block for the root's aws.west"
in_w3 plan -detailed-exitcode
t_expect_status 0
in_w3 destroy -auto-approve
t_expect_status 0
[ -z "$(region_vpcs us-west-2)" ] || t_why "the module's VPC is still in us-west-2"
t_end

t_begin "a module's own provider block puts its VPC in its region, where refresh and destroy look too"
W5=$T_TMP/modown
mkdir -p "$W5/net"
in_w5() {
	t_stk_in "$W5" "$@"
}
cat >"$W5/main.stk" <<'EOF'
provider aws { region = "us-east-1" }

module net { source = "./net" }
EOF
cat >"$W5/net/main.stk" <<'EOF'
provider aws { region = "us-west-2" }

resource aws.vpc this {
  cidr_block = "10.21.0.0/16"
  tags       = { Name = "stk-modprov" }
}
EOF
in_w5 apply -auto-approve
t_expect_status 0
[ "$(region_vpcs us-west-2 | wc -w)" -eq 1 ] || t_why "awscli does not see the module's VPC in us-west-2"
[ -z "$(region_vpcs us-east-1)" ] || t_why "the module's VPC is in us-east-1"
in_w5 plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
in_w5 destroy -auto-approve
t_expect_status 0
[ -z "$(region_vpcs us-west-2)" ] || t_why "the module's VPC is still in us-west-2"
t_end

# The state records which module's block made an object: once the module call is gone with
# its block, the root's provider aws (us-east-1) would find nothing there, call the VPC
# deleted outside stk, and forget one that still exists in us-west-2.
t_begin "a VPC whose module call, and so the module's own provider block, is gone is not looked for through the root's: the error says to add it back"
in_w5 apply -auto-approve
t_expect_status 0
[ "$(region_vpcs us-west-2 | wc -w)" -eq 1 ] || t_why "awscli does not see the module's VPC in us-west-2"
grep -q '"provider_module": "module.net"' "$W5/stk.state" || t_why "the state does not record module.net's provider block"
cp "$W5/main.stk" "$T_TMP/modown-main.stk"
cp "$W5/stk.state" "$T_TMP/modown-state"
printf 'provider aws { region = "us-east-1" }\n' >"$W5/main.stk"
for cmd in "plan" "plan -refresh=false" "apply -auto-approve" "destroy -auto-approve" "destroy -auto-approve -refresh=false"; do
	# shellcheck disable=SC2086
	in_w5 $cmd
	t_expect_status 1
	t_expect_has err "module.net.aws.vpc.this: module.net's provider aws, which made it, is no longer in the configuration"
	t_expect_has err "add module.net's provider aws block back"
	t_expect_has err "stk state rm module.net.aws.vpc.this"
	cmp -s "$W5/stk.state" "$T_TMP/modown-state" || t_why "$cmd changed the state"
done
[ "$(region_vpcs us-west-2 | wc -w)" -eq 1 ] || t_why "the module's VPC in us-west-2 went, or another appeared"
[ -z "$(region_vpcs us-east-1)" ] || t_why "a VPC appeared in us-east-1"
in_w5 state list
t_expect_has out "module.net.aws.vpc.this"
cp "$T_TMP/modown-main.stk" "$W5/main.stk"
in_w5 destroy -auto-approve
t_expect_status 0
t_expect_has out "module.net.aws.vpc.this: Destruction complete"
[ -z "$(region_vpcs us-west-2)" ] || t_why "the module's VPC is still in us-west-2"
in_w5 state list
t_expect_lacks out "module.net.aws.vpc.this"
t_end

t_begin "a module gives up its own provider block for its caller's (providers = { aws = aws.west }): its VPC is read there, no changes"
in_w5 apply -auto-approve
t_expect_status 0
[ "$(region_vpcs us-west-2 | wc -w)" -eq 1 ] || t_why "awscli does not see the module's VPC in us-west-2"
# the caller of the test above: the root's aws.west passed as the module's aws
cp "$W3/main.stk" "$W5/main.stk"
sed -i '/^provider aws/d' "$W5/net/main.stk"
in_w5 plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
in_w5 destroy -auto-approve
t_expect_status 0
[ -z "$(region_vpcs us-west-2)" ] || t_why "the module's VPC is still in us-west-2"
t_end

t_begin "destroy removes the VPC (awscli finds none)"
in_w apply -auto-approve
in_w destroy -auto-approve
t_expect_status 0
[ -z "$(vpc_field VpcId)" ] || t_why "a VPC tagged stk-test is still there"
t_end

t_summary

#!/bin/sh
# tests/aws_instance.sh: aws.instance against moto_server (signatures and IAM checked), judged
# by awscli: launch into a subnet with security groups and tags, a type change in place
# (stop, modify, start: the same instance), tags in place, a new AMI replacing it, an instance
# terminated outside stk planned back, and destroy.
. "$(dirname "$0")/lib.sh"
t_init

. "$(dirname "$0")/moto.sh"
moto_start
W=$T_TMP/work
STK_ABS=$(t_abspath "$STK")
N=stk-inst-$$
mkdir -p "$W"

in_w() {
	T_STATUS=0
	(cd "$W" && t_timeout 120 "$STK_ABS" "$@") <"/dev/null" >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
}

# The instance tagged Name=$N that is not terminated: --query $1 of it.
inst() {
	awsx ec2 describe-instances --filters "Name=tag:Name,Values=$N" \
		Name=instance-state-name,Values=pending,running,stopping,stopped \
		--query "Reservations[].Instances[].$1" --output text
}

AMI1=$(awsx ec2 describe-images --owners amazon --query 'Images[0].ImageId' --output text)
AMI2=$(awsx ec2 describe-images --owners amazon --query 'Images[1].ImageId' --output text)

cat >"$W/main.stk" <<EOF
provider aws { region = "us-east-1" }

resource aws.vpc main {
  cidr_block = "10.0.0.0/16"
  tags       = { Name = "$N" }
}

resource aws.subnet a {
  vpc_id            = aws.vpc.main.id
  cidr_block        = "10.0.1.0/24"
  availability_zone = "us-east-1a"
  tags              = { Name = "$N" }
}

resource aws.security_group web {
  name   = "$N-web"
  vpc_id = aws.vpc.main.id
  ingress {
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource aws.security_group ssh {
  name   = "$N-ssh"
  vpc_id = aws.vpc.main.id
}

resource aws.instance web {
  ami                    = "$AMI1"
  instance_type          = "t3.micro"
  subnet_id              = aws.subnet.a.id
  vpc_security_group_ids = [aws.security_group.web.id, aws.security_group.ssh.id]
  user_data              = "#!/bin/sh\necho hello\n"
  tags                   = { Name = "$N", Role = "web" }
}

resource aws.instance pub {
  ami                         = "$AMI1"
  instance_type               = "t3.nano"
  subnet_id                   = aws.subnet.a.id
  vpc_security_group_ids      = [aws.security_group.ssh.id]
  associate_public_ip_address = true
  tags                        = { Name = "$N-pub" }
}

output instance_id { value = aws.instance.web.id }
output private_ip { value = aws.instance.web.private_ip }
output state { value = aws.instance.web.instance_state }
EOF

t_begin "the instance runs as configured (checked with awscli)"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "aws.instance.web: Creation complete"
t_expect_has out "aws.instance.pub: Creation complete"
ID=$(inst InstanceId)
SUB=$(awsx ec2 describe-subnets --filters "Name=tag:Name,Values=$N" --query 'Subnets[0].SubnetId' --output text)
SGW=$(awsx ec2 describe-security-groups --filters "Name=group-name,Values=$N-web" \
	--query 'SecurityGroups[0].GroupId' --output text)
SGS=$(awsx ec2 describe-security-groups --filters "Name=group-name,Values=$N-ssh" \
	--query 'SecurityGroups[0].GroupId' --output text)
case $ID in
i-*) ;;
*) t_why "awscli finds no one instance tagged $N: '$ID'" ;;
esac
[ "$(inst 'State.Name')" = running ] || t_why "the instance is not running"
[ "$(inst '[InstanceType,SubnetId,ImageId]')" = "$(printf 't3.micro\t%s\t%s' "$SUB" "$AMI1")" ] ||
	t_why "type, subnet or AMI is not as configured: $(inst '[InstanceType,SubnetId,ImageId]')"
[ "$(inst 'SecurityGroups[].GroupId' | tr '\t' '\n' | sort | tr '\n' ' ')" = \
	"$(printf '%s\n%s\n' "$SGW" "$SGS" | sort | tr '\n' ' ')" ] || t_why "the security groups are not both there"
[ "$(awsx ec2 describe-tags --filters Name=resource-id,Values="$ID" Name=key,Values=Role \
	--query 'Tags[0].Value' --output text)" = web ] || t_why "the Role tag is missing"
[ "$(awsx ec2 describe-instance-attribute --instance-id "$ID" --attribute userData \
	--query 'UserData.Value' --output text | base64 -d)" = "$(printf '#!/bin/sh\necho hello')" ] ||
	t_why "the user data is not what was configured"
t_expect_match out "instance_id += \"$ID\""
t_expect_match out 'state += "running"'
t_expect_match out "private_ip += \"10\\.0\\.1\\.[0-9]+\""
t_end

t_begin "associate_public_ip_address launches through a network interface in the subnet"
PUB=$(awsx ec2 describe-instances --filters "Name=tag:Name,Values=$N-pub" \
	--query 'Reservations[0].Instances[0].[SubnetId,NetworkInterfaces[0].Groups[0].GroupId,State.Name]' --output text)
[ "$PUB" = "$(printf '%s\t%s\trunning' "$SUB" "$SGS")" ] || t_why "the public instance is not as configured: $PUB"
case $(awsx ec2 describe-instances --filters "Name=tag:Name,Values=$N-pub" \
	--query 'Reservations[0].Instances[0].PublicIpAddress' --output text) in
None | "") t_why "the public instance has no public address" ;;
esac
t_end

t_begin "a second plan, refreshing through the API, has no changes"
in_w plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
t_end

t_begin "a new instance_type is applied in place: the same instance, stopped and started"
sed -i 's/t3.micro/t3.small/' "$W/main.stk"
in_w plan
t_expect_has out "aws.instance.web will be updated in place"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "0 added, 1 changed, 0 destroyed"
[ "$(inst '[InstanceId,InstanceType,State.Name]')" = "$(printf '%s\tt3.small\trunning' "$ID")" ] ||
	t_why "not the same instance running as t3.small: $(inst '[InstanceId,InstanceType,State.Name]')"
in_w plan -detailed-exitcode
t_expect_status 0
t_end

# In place, new user_data stops the instance, sets it and starts it (as instance_type does), with
# the blob sent once base64-encoded as the SDKs send it; moto wants it encoded twice (it decodes
# the blob, then insists on base64 text), so only the replacing path is judged here.
t_begin "new user_data with user_data_replace_on_change replaces the instance (checked with awscli)"
sed -i 's/echo hello\\n"/echo goodbye\\n"\n  user_data_replace_on_change = true/' "$W/main.stk"
in_w plan
t_expect_has out "aws.instance.web must be replaced"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "1 added, 0 changed, 1 destroyed"
NEW=$(inst InstanceId)
[ -n "$NEW" ] && [ "$NEW" != "$ID" ] || t_why "no new instance: '$NEW' (was $ID)"
[ "$(awsx ec2 describe-instance-attribute --instance-id "$NEW" --attribute userData \
	--query 'UserData.Value' --output text | base64 -d)" = "$(printf '#!/bin/sh\necho goodbye')" ] ||
	t_why "the new instance's user data is not the new one"
in_w plan -detailed-exitcode
t_expect_status 0
ID=$NEW
t_end

t_begin "a tag change and a security group removed are applied in place"
sed -i 's/Role = "web"/Role = "frontend", Tier = "1"/' "$W/main.stk"
sed -i 's/\[aws.security_group.web.id, aws.security_group.ssh.id\]/[aws.security_group.web.id]/' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "0 added, 1 changed, 0 destroyed"
[ "$(inst InstanceId)" = "$ID" ] || t_why "the instance was replaced"
[ "$(awsx ec2 describe-tags --filters Name=resource-id,Values="$ID" Name=key,Values=Role,Tier \
	--query 'Tags[].[Key,Value]' --output text | sort | tr '\t\n' '= ')" = "Role=frontend Tier=1 " ] ||
	t_why "the tags are not Role=frontend Tier=1"
[ "$(inst 'SecurityGroups[].GroupId')" = "$SGW" ] || t_why "the instance's groups are not just $SGW"
in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "an instance profile and the root volume change in place: associated, replaced, the volume grown"
for p in p1 p2; do
	awsx iam create-instance-profile --instance-profile-name "$N-$p" >/dev/null ||
		t_why "awscli could not make the instance profile $N-$p"
done
python3 - "$W/main.stk" "$N" <<'PY'
import sys
path, n = sys.argv[1], sys.argv[2]
s = open(path).read()
old = '  tags                   = { Name = "%s", Role = "frontend", Tier = "1" }\n}' % n
assert old in s, "the web instance's tags line moved"
s = s.replace(old, old[:-1] + '  iam_instance_profile   = "%s-p1"\n  root_block_device {\n    volume_size           = 30\n    delete_on_termination = false\n  }\n}' % n, 1)
open(path, "w").write(s)
PY
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "0 added, 1 changed, 0 destroyed"
[ "$(inst InstanceId)" = "$ID" ] || t_why "the instance was replaced"
assoc() {
	awsx ec2 describe-iam-instance-profile-associations --filters Name=instance-id,Values="$ID" \
		--query 'IamInstanceProfileAssociations[?State==`associated`].IamInstanceProfile.Arn' --output text
}
case $(assoc) in *"/$N-p1") ;; *) t_why "the instance's profile is not $N-p1: $(assoc)" ;; esac
VOL=$(inst 'BlockDeviceMappings[0].Ebs.VolumeId')
[ "$(awsx ec2 describe-volumes --volume-ids "$VOL" --query 'Volumes[0].Size' --output text)" = 30 ] ||
	t_why "the root volume $VOL is not 30 GiB"
[ "$(inst 'BlockDeviceMappings[0].Ebs.DeleteOnTermination')" = False ] ||
	t_why "the root volume is still deleted on termination"
in_w plan -detailed-exitcode
t_expect_status 0
sed -i "s/iam_instance_profile   = \"$N-p1\"/iam_instance_profile   = \"$N-p2\"/" "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "0 added, 1 changed, 0 destroyed"
case $(assoc) in *"/$N-p2") ;; *) t_why "the profile was not replaced by $N-p2: $(assoc)" ;; esac
[ "$(assoc | wc -w)" = 1 ] || t_why "more than one association: $(assoc)"
# no plan here: moto 5.2's ReplaceIamInstanceProfileAssociation changes the association but
# not the profile DescribeInstances reports (its Disassociate and Associate change both), so
# a refresh would read p1 back; the associations above are what AWS would report either way
t_end

t_begin "a new AMI replaces the instance, and the old one is terminated"
sed -i "/resource aws.instance web/,/^}/s/$AMI1/$AMI2/" "$W/main.stk"
in_w plan
t_expect_has out "# forces replacement"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "1 added, 0 changed, 1 destroyed"
NEW=$(inst '[InstanceId,ImageId,InstanceType]')
case $NEW in
"$ID"*) t_why "the instance was not replaced" ;;
i-*"	$AMI2	t3.small") ;;
*) t_why "the new instance is not as configured: $NEW" ;;
esac
[ "$(awsx ec2 describe-instances --instance-ids "$ID" --query 'Reservations[0].Instances[0].State.Name' \
	--output text)" = terminated ] || t_why "the old instance $ID is not terminated"
ID=${NEW%%	*}
in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "an instance terminated outside stk is planned back, and made again"
awsx ec2 terminate-instances --instance-ids "$ID" >/dev/null
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_has out "aws.instance.web will be created"
in_w apply -auto-approve
t_expect_status 0
NEW=$(inst InstanceId)
case $NEW in
"$ID" | "") t_why "no new instance: '$NEW'" ;;
i-*) ;;
*) t_why "not one new instance: $NEW" ;;
esac
[ "$(inst State.Name)" = running ] || t_why "the new instance is not running"
in_w plan -detailed-exitcode
t_expect_status 0
t_end

# The Elastic IP tagged $N-eip: --query $1 of it.
eip() {
	awsx ec2 describe-addresses --filters "Name=tag:Name,Values=$N-eip" --query "Addresses[].$1" --output text
}

t_begin "aws.eip is allocated onto the instance, with its public address as an output (checked with awscli)"
cat >>"$W/main.stk" <<EOF

resource aws.eip web {
  instance = aws.instance.web.id
  tags     = { Name = "$N-eip" }
}

output web_ip { value = aws.eip.web.public_ip }
EOF
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "aws.eip.web: Creation complete"
t_expect_has out "1 added, 0 changed, 0 destroyed"
ID=$(inst InstanceId)
ALLOC=$(eip AllocationId)
case $ALLOC in eipalloc-*) ;; *) t_why "awscli finds no one address tagged $N-eip: '$ALLOC'" ;; esac
[ "$(eip '[InstanceId,Domain]')" = "$(printf '%s\tvpc' "$ID")" ] || t_why "the address is not on the instance: $(eip '[InstanceId,Domain]')"
t_expect_has out "web_ip      = \"$(eip PublicIp)\""
# the instance's public address is now the Elastic IP: no drift, nothing to replace
in_w plan -detailed-exitcode
t_expect_status 0
t_expect_lacks out "changed outside stk"
t_end

t_begin "aws.eip moves to another instance in place, is put back after a disassociation outside stk, and its tags change in place"
sed -i 's/instance = aws.instance.web.id/instance = aws.instance.pub.id/' "$W/main.stk"
PUBID=$(awsx ec2 describe-instances --filters "Name=tag:Name,Values=$N-pub" Name=instance-state-name,Values=running \
	--query 'Reservations[0].Instances[0].InstanceId' --output text)
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "0 added, 1 changed, 0 destroyed"
[ "$(eip '[AllocationId,InstanceId]')" = "$(printf '%s\t%s' "$ALLOC" "$PUBID")" ] ||
	t_why "the same address is not on the other instance: $(eip '[AllocationId,InstanceId]')"
awsx ec2 disassociate-address --association-id "$(eip AssociationId)"
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_has out "# aws.eip.web changed outside stk"
t_expect_has out "aws.eip.web will be updated in place"
sed -i "s/tags     = { Name = \"$N-eip\" }/tags     = { Name = \"$N-eip\", Role = \"web\" }/" "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
[ "$(eip InstanceId)" = "$PUBID" ] || t_why "the address was not put back on the instance: $(eip InstanceId)"
[ "$(awsx ec2 describe-tags --filters Name=resource-id,Values="$ALLOC" Name=key,Values=Role \
	--query 'Tags[0].Value' --output text)" = web ] || t_why "the Role tag was not added"
in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "aws.eip follows its instance when the instance is replaced, and comes off it when instance is removed"
sed -i 's/instance = aws.instance.pub.id/instance = aws.instance.web.id/' "$W/main.stk"
sed -i "/resource aws.instance web/,/^}/s/$AMI2/$AMI1/" "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "1 added, 1 changed, 1 destroyed"
NEW=$(inst InstanceId)
[ "$NEW" != "$ID" ] || t_why "the instance was not replaced"
ID=$NEW
[ "$(eip '[AllocationId,InstanceId]')" = "$(printf '%s\t%s' "$ALLOC" "$ID")" ] ||
	t_why "the address is not on the new instance $ID: $(eip '[AllocationId,InstanceId]')"
in_w plan -detailed-exitcode
t_expect_status 0
sed -i '/instance = aws.instance.web.id/d' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "0 added, 1 changed, 0 destroyed"
case $(eip InstanceId) in "" | None) ;; *) t_why "the address is still on $(eip InstanceId)" ;; esac
[ "$(eip AllocationId)" = "$ALLOC" ] || t_why "the address was not kept"
in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "destroy terminates the instance and removes the network"
in_w destroy -auto-approve
t_expect_status 0
[ -z "$(inst InstanceId)" ] || t_why "an instance tagged $N is not terminated"
[ "$(awsx ec2 describe-instances --filters "Name=tag:Name,Values=$N-pub" \
	--query 'Reservations[0].Instances[0].State.Name' --output text)" = terminated ] ||
	t_why "the public instance is not terminated"
[ "$(awsx ec2 describe-vpcs --filters "Name=tag:Name,Values=$N" --query 'length(Vpcs)' --output text)" = 0 ] ||
	t_why "the VPC remains"
[ "$(awsx ec2 describe-security-groups --filters "Name=group-name,Values=$N-web,$N-ssh" \
	--query 'length(SecurityGroups)' --output text)" = 0 ] || t_why "a security group remains"
[ -z "$(eip AllocationId)" ] || t_why "the Elastic IP was not released"
t_end

t_begin "an Elastic IP allocated outside stk is imported with a generated block; the next plan is empty; destroy releases it"
G=$T_TMP/geip
mkdir -p "$G"
GALLOC=$(awsx ec2 allocate-address --domain vpc --tag-specifications \
	"ResourceType=elastic-ip,Tags=[{Key=Name,Value=$N-outside}]" --query AllocationId --output text)
cat >"$G/main.stk" <<EOF
provider aws { region = "us-east-1" }

import {
  to = aws.eip.outside
  id = "$GALLOC"
}
EOF
t_stk_in "$G" plan -generate-config-out=eip.stk -detailed-exitcode
t_expect_status 2
t_expect_has out 'Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.'
grep -q '^  domain *= "vpc"$' "$G/eip.stk" || t_why "no domain in the generated block: $(cat "$G/eip.stk")"
grep -q "^  tags *= { Name = \"$N-outside\" }$" "$G/eip.stk" || t_why "no tags in the generated block: $(cat "$G/eip.stk")"
grep -q 'public_ip' "$G/eip.stk" && t_why "a computed attribute was written: $(cat "$G/eip.stk")"
t_stk_in "$G" apply -auto-approve
t_expect_status 0
t_expect_has out "aws.eip.outside: Import complete [id=$GALLOC]"
t_stk_in "$G" plan -detailed-exitcode
t_expect_status 0
t_stk_in "$G" destroy -auto-approve
t_expect_status 0
[ -z "$(awsx ec2 describe-addresses --allocation-ids "$GALLOC" --query 'Addresses[].AllocationId' --output text 2>/dev/null)" ] ||
	t_why "the imported address was not released"
t_end

# Data sources are read during plan, as Terraform reads them, whenever their arguments are
# known: the first plan already shows the zones and the AMI, a count can follow the zones, and
# a user who may not describe images gets a plan error naming the call.
D=$T_TMP/data
mkdir -p "$D"
in_d() {
	T_STATUS=0
	(cd "$D" && t_timeout 120 "$STK_ABS" "$@") <"/dev/null" >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
}
cat >"$D/main.stk" <<EOF
provider aws { region = "us-east-1" }

data aws.availability_zones available {
  state = "available"
}

data aws.ami base {
  owners      = ["amazon"]
  most_recent = true
}

resource aws.vpc main {
  cidr_block = "10.2.0.0/16"
  tags       = { Name = "$N-data" }
}

resource aws.subnet zone {
  count             = length(data.aws.availability_zones.available.names)
  vpc_id            = aws.vpc.main.id
  cidr_block        = cidrsubnet("10.2.0.0/16", 8, count.index)
  availability_zone = data.aws.availability_zones.available.names[count.index]
  tags              = { Name = "$N-data" }
}

resource aws.instance web {
  ami           = data.aws.ami.base.id
  instance_type = "t3.nano"
  subnet_id     = aws.subnet.zone[0].id
  tags          = { Name = "$N-data" }
}

output zones { value = data.aws.availability_zones.available.names }
EOF
ZONES=$(awsx ec2 describe-availability-zones --filters Name=state,Values=available \
	--query 'sort(AvailabilityZones[].ZoneName)' --output text)
NZ=$(echo "$ZONES" | wc -w)
# most_recent: the newest creation date, the first image with it in the API's order
LATEST=$(awsx ec2 describe-images --owners amazon --query 'max_by(Images, &CreationDate).CreationDate' \
	--output text)
NEWEST=$(awsx ec2 describe-images --owners amazon --query "Images[?CreationDate=='$LATEST'] | [0].ImageId" \
	--output text)

t_begin "the first plan reads the data sources: the zones and the AMI are known (checked with awscli)"
[ "$NZ" -ge 2 ] || t_why "awscli finds fewer than two zones: '$ZONES'"
case $NEWEST in ami-*) ;; *) t_why "awscli finds no newest Amazon AMI: '$NEWEST'" ;; esac
in_d plan -detailed-exitcode
t_expect_status 2
t_expect_has out "Plan: $((NZ + 2)) to add, 0 to change, 0 to destroy."
for z in $ZONES; do
	t_expect_match out "^ *\\+ availability_zone += \"$z\""
done
t_expect_match out "^ *\\+ ami += \"$NEWEST\""
t_expect_lacks out "will be read during apply"
t_expect_lacks out "data.aws"
t_end

t_begin "plan -json gives the data sources' values, with no change for them"
in_d plan -json
t_expect_status 0
python3 - "$T_TMP/out" "$NEWEST" "$ZONES" <<'PY' || t_why "the JSON plan is not as expected"
import json, sys
p = json.load(open(sys.argv[1]))
by = {r["address"]: r for r in p["resource_changes"]}
ami = by["data.aws.ami.base"]["change"]
assert ami["actions"] == ["no-op"], ami["actions"]
assert ami["after"]["id"] == sys.argv[2], ami["after"]
assert by["aws.instance.web"]["change"]["after"]["ami"] == sys.argv[2], "the instance's ami"
zones = by["data.aws.availability_zones.available"]["change"]["after"]["names"]
assert sorted(zones) == sys.argv[3].split(), zones
assert p["summary"]["read"] == 0, p["summary"]
PY
t_end

t_begin "apply records what was read; the next plan has no changes, with or without refreshing"
in_d apply -auto-approve
t_expect_status 0
t_expect_has out "$((NZ + 2)) added, 0 changed, 0 destroyed"
t_expect_lacks out "data.aws.ami.base: Reading"
[ "$(awsx ec2 describe-instances --filters "Name=tag:Name,Values=$N-data" \
	Name=instance-state-name,Values=pending,running --query 'Reservations[].Instances[].ImageId' \
	--output text)" = "$NEWEST" ] || t_why "the instance does not run the newest AMI $NEWEST"
[ "$(awsx ec2 describe-subnets --filters "Name=tag:Name,Values=$N-data" \
	--query 'sort(Subnets[].AvailabilityZone)' --output text)" = "$ZONES" ] ||
	t_why "the subnets are not one per zone"
in_d state show data.aws.ami.base
t_expect_status 0
t_expect_match out "^ *id += \"$NEWEST\""
in_d plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
in_d plan -refresh=false -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
t_end

t_begin "a saved plan that reads data sources applies"
sed -i "s/tags          = { Name = \"$N-data\" }/tags          = { Name = \"$N-data\", Role = \"data\" }/" "$D/main.stk"
in_d plan -out saved.plan
t_expect_status 0
t_expect_has out "aws.instance.web will be updated in place"
in_d apply saved.plan
t_expect_status 0
t_expect_has out "0 added, 1 changed, 0 destroyed"
in_d plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "a user who may not describe images gets a plan error naming the call"
awsx iam create-user --user-name nodescribe >/dev/null
awsx iam put-user-policy --user-name nodescribe --policy-name some --policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:*"],"Resource":"*"},{"Effect":"Deny","Action":["ec2:DescribeImages"],"Resource":"*"}]}'
awsx iam create-access-key --user-name nodescribe --query 'AccessKey.[AccessKeyId,SecretAccessKey]' \
	--output text >"$T_TMP/key3"
read -r K3 S3 <"$T_TMP/key3"
T_STATUS=0
(cd "$D" && AWS_ACCESS_KEY_ID=$K3 AWS_SECRET_ACCESS_KEY=$S3 t_timeout 60 "$STK_ABS" plan) \
	</dev/null >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 1
t_expect_match err 'data\.aws\.ami\.base: .*DescribeImages'
t_expect_match err 'UnauthorizedOperation|AccessDenied|not authorized'
t_expect_lacks out "Plan:"
t_end

# A big plan is evaluated in rounds, on threads side by side: its data sources are read in
# parallel, each share with its own messages, and the plan and errors do not depend on how many
# threads there are.
B=$T_TMP/big
mkdir -p "$B"
{
	echo 'provider aws { region = "us-east-1" }'
	echo 'locals {'
	seq 0 3899 | sed 's/.*/  l& = &/'
	echo '}'
	seq 0 299 | sed 's/.*/data aws.availability_zones z& { state = "available" }/'
	for i in 7 150 299; do
		echo "data aws.ami bad$i { owners = [\"000000000$i\"] }"
	done
	echo 'output zones { value = length(data.aws.availability_zones.z299.names) + local.l0 }'
} >"$B/main.stk"
in_b() {
	T_STATUS=0
	(cd "$B" && STK_PARSE_THREADS=$1 t_timeout 300 "$STK_ABS" plan) <"/dev/null" \
		>"$T_TMP/out$1" 2>"$T_TMP/err$1" || T_STATUS=$?
}

t_begin "a big plan reads its data sources on two threads, with each failed read an error, as on one"
in_b 2
t_expect_status 1
for i in 7 150 299; do
	t_expect_has err2 "data.aws.ami.bad$i: your query returned no results"
done
in_b 1
t_expect_status 1
t_diff "$T_TMP/err1" "$T_TMP/err2" errors >"$T_TMP/d" || t_why "the errors differ: $(cat "$T_TMP/d")"
sed -i '/data aws.ami bad/d' "$B/main.stk"
in_b 2
t_expect_status 0
t_expect_has out2 "+ zones = $NZ"
t_expect_lacks out2 "read during apply"
in_b 1
t_diff "$T_TMP/out1" "$T_TMP/out2" plan >"$T_TMP/d" || t_why "the plans differ: $(cat "$T_TMP/d")"
t_end

t_begin "destroy removes what the data sources fed"
in_d destroy -auto-approve
t_expect_status 0
[ "$(awsx ec2 describe-subnets --filters "Name=tag:Name,Values=$N-data" --query 'length(Subnets)' \
	--output text)" = 0 ] || t_why "a subnet remains"
t_end

t_summary

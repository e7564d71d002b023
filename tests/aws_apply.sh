#!/bin/sh
# tests/aws_apply.sh: how apply behaves when things go wrong, against moto_server (signatures
# and IAM checked) with tests/fault_proxy.py slowing every answer so that an interrupt lands
# mid-apply, judged by awscli: a first SIGINT lets what is in flight finish, records it and
# exits 130; a second one stops at once and the intents left are resolved by the next run; a
# failing branch stops only its dependents; -rollback-on-failure leaves nothing behind; state
# mv and rm on real objects.
. "$(dirname "$0")/lib.sh"
t_init

. "$(dirname "$0")/moto.sh"
moto_start
proxy_start --rate 0 --seed 1
W=$T_TMP/work
STK_ABS=$(t_abspath "$STK")
N=stk-apply-$$
mkdir -p "$W"

in_w() {
	T_STATUS=0
	(cd "$W" && AWS_ENDPOINT_URL=$PX t_timeout 300 "$STK_ABS" "$@") <"/dev/null" >"$T_TMP/out" 2>"$T_TMP/err" ||
		T_STATUS=$?
}

# Starts an apply in the background (stdout and stderr to $T_TMP/bg.out, .err); APPLY is its pid.
bg_apply() {
	# a fresh file: the wait below must not read the last run's lines
	rm -f "$T_TMP/bg.out" "$T_TMP/bg.err"
	(cd "$W" && AWS_ENDPOINT_URL=$PX exec "$STK_ABS" apply -auto-approve "$@") </dev/null \
		>"$T_TMP/bg.out" 2>"$T_TMP/bg.err" &
	APPLY=$!
}

# Waits (up to 30 s) until $T_TMP/bg.out has a line matching $1.
wait_for_line() {
	i=0
	until grep -q "$1" "$T_TMP/bg.out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 600 ] || return 1
		sleep 0.1
	done
}

vpcs() { awsx ec2 describe-vpcs --filters "Name=tag:Name,Values=$N" --query 'Vpcs[].VpcId' --output text | wc -w; }
subnets() { awsx ec2 describe-subnets --filters "Name=tag:Name,Values=$N" --query 'Subnets[].SubnetId' --output text | wc -w; }
sgs() { awsx ec2 describe-security-groups --filters "Name=group-name,Values=$N-*" --query 'SecurityGroups[].GroupId' --output text | wc -w; }

cat >"$W/main.stk" <<EOF
provider aws { region = "us-east-1" }

resource aws.vpc main {
  cidr_block = "10.0.0.0/16"
  tags       = { Name = "$N" }
}

resource aws.subnet s {
  count      = 3
  vpc_id     = aws.vpc.main.id
  cidr_block = "10.0.\${count.index}.0/24"
  tags       = { Name = "$N" }
}

resource aws.security_group web {
  name   = "$N-web"
  vpc_id = aws.vpc.main.id
}
EOF

t_begin "a first SIGINT lets the create in flight finish, records it, starts nothing new, exits 130"
proxy 'config?rate=1&kinds=slow' >/dev/null
bg_apply
wait_for_line "aws.vpc.main: Creating..." || t_why "the apply never started creating the VPC"
kill -INT $APPLY
T_STATUS=0
wait $APPLY || T_STATUS=$?
t_expect_status 130
grep -q "aws.vpc.main: Creation complete" "$T_TMP/bg.out" || t_why "the VPC in flight was not let finish"
grep -q "^Interrupted. Resources: 1 added" "$T_TMP/bg.out" || t_why "no summary: $(tail -3 "$T_TMP/bg.out")"
grep -q "Creating" "$T_TMP/bg.out" && grep "Creating" "$T_TMP/bg.out" | grep -qv "aws.vpc.main" &&
	t_why "something new was started after the interrupt"
[ "$(vpcs)" -eq 1 ] && [ "$(subnets)" -eq 0 ] || t_why "awscli counts $(vpcs) VPCs and $(subnets) subnets, not 1 and 0"
in_w state list
t_expect_has out "aws.vpc.main"
t_expect_lacks out "aws.subnet"
t_end

t_begin "the next apply completes the rest: one of everything"
proxy 'config?rate=0' >/dev/null
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "Apply complete! Resources: 4 added"
[ "$(vpcs)" -eq 1 ] && [ "$(subnets)" -eq 3 ] && [ "$(sgs)" -eq 1 ] ||
	t_why "awscli counts $(vpcs) VPCs, $(subnets) subnets, $(sgs) groups"
t_end

t_begin "a SIGINT while a refreshing plan waits on the cloud stops it: exit 130, no lock file left"
# every call held 5 s: the interrupt lands while the plan's reads are in flight
proxy 'config?rate=0&latency=5000' >/dev/null
rm -f "$T_TMP/bg.out" "$T_TMP/bg.err"
(cd "$W" && AWS_ENDPOINT_URL=$PX exec "$STK_ABS" plan) </dev/null >"$T_TMP/bg.out" 2>"$T_TMP/bg.err" &
PLAN=$!
i=0
until [ -e "$W/stk.state.lock" ] || [ $i -ge 600 ]; do i=$((i + 1)); sleep 0.1; done
[ -e "$W/stk.state.lock" ] || t_why "the plan never took the lock"
sleep 0.5
kill -INT $PLAN
T_STATUS=0
wait $PLAN || T_STATUS=$?
proxy 'config?latency=0' >/dev/null
t_expect_status 130
grep -q "interrupted: stopping, and releasing the state's lock" "$T_TMP/bg.err" ||
	t_why "no word of the interrupt: $(cat "$T_TMP/bg.err")"
[ ! -e "$W/stk.state.lock" ] || t_why "the interrupted plan left stk.state.lock"
# one line for the reads it cut short, not one error each
grep -q "in flight cancelled; nothing was changed" "$T_TMP/bg.err" ||
	t_why "no word of the cancelled reads: $(cat "$T_TMP/bg.err")"
grep -q ": cancelled$" "$T_TMP/bg.err" && t_why "an error per cancelled read: $(cat "$T_TMP/bg.err")"
grep -q "No changes" "$T_TMP/bg.out" && t_why "the interrupted plan printed a plan: $(cat "$T_TMP/bg.out")"
in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "a second SIGINT stops at once; the next run adopts what was in flight, never twice"
in_w destroy -auto-approve
t_expect_status 0
# held long enough for both signals to land while the create is in flight
proxy 'config?rate=1&kinds=slow' >/dev/null
bg_apply
wait_for_line "aws.vpc.main: Creating..." || t_why "the apply never started creating the VPC"
kill -INT $APPLY
sleep 0.1
kill -INT $APPLY
T_STATUS=0
wait $APPLY || T_STATUS=$?
t_expect_status 130
grep -q "interrupted again" "$T_TMP/bg.err" || t_why "no word of the second interrupt: $(cat "$T_TMP/bg.err")"
[ ! -e "$W/stk.state.lock" ] || t_why "the second interrupt left stk.state.lock"
proxy 'config?rate=0' >/dev/null
# the proxy still delivers the held CreateVpc after stk is gone, as a network would
sleep 2
in_w apply -auto-approve
t_expect_status 0
t_expect_has err "aws.vpc.main: adopted the object an interrupted apply created"
[ "$(vpcs)" -eq 1 ] && [ "$(subnets)" -eq 3 ] || t_why "awscli counts $(vpcs) VPCs and $(subnets) subnets, not 1 and 3"
in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "a key pair whose import was interrupted is adopted by its tag, not imported twice"
# DescribeTags finds a key pair by its key-... id, but a key pair is read by its name: the next
# apply planned a second import, which failed for ever (Duplicate), and destroy forgot it
W_MAIN=$W
W=$T_TMP/keys
mkdir -p "$W"
cat >"$W/main.stk" <<EOF
provider aws { region = "us-east-1" }

resource aws.key_pair deploy {
  key_name   = "$N-deploy"
  public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGdbWx0/5nOIGm1Jq1oxbAbDZP3+QhYb1/m2zjDn5CHL k@k"
}
EOF
keys() { awsx ec2 describe-key-pairs --filters "Name=key-name,Values=$N-deploy" --query 'KeyPairs[].KeyName' --output text | wc -w; }
proxy 'config?rate=1&kinds=slow' >/dev/null
bg_apply
wait_for_line "aws.key_pair.deploy: Creating..." || t_why "the apply never started importing the key"
kill -INT $APPLY
sleep 0.1
kill -INT $APPLY
wait $APPLY
proxy 'config?rate=0' >/dev/null
sleep 2
[ "$(keys)" -eq 1 ] || t_why "the held ImportKeyPair did not land ($(keys) key pairs): nothing to adopt"
in_w apply -auto-approve
t_expect_status 0
t_expect_has err "aws.key_pair.deploy: adopted the object an interrupted apply created"
[ "$(keys)" -eq 1 ] || t_why "awscli counts $(keys) key pairs, not 1"
in_w destroy -auto-approve
t_expect_status 0
[ "$(keys)" -eq 0 ] || t_why "destroy left $(keys) key pairs"
W=$W_MAIN
t_end

t_begin "a sensitive value the API echoes in an error, or that a request carries, is not printed"
W_MAIN=$W
W=$T_TMP/secrets
mkdir -p "$W"
cat >"$W/main.stk" <<EOF
provider aws { region = "us-east-1" }

variable net {
  type      = string
  sensitive = true
}

variable owner {
  type      = string
  sensitive = true
  default   = "owner-hunter2"
}

resource aws.vpc main {
  cidr_block = "10.9.0.0/16"
  tags       = { Name = "$N-secrets", Owner = var.owner }
}

resource aws.subnet s {
  vpc_id     = aws.vpc.main.id
  cidr_block = var.net
}
EOF
T_STATUS=0
(cd "$W" && AWS_ENDPOINT_URL=$PX STK_LOG=debug t_timeout 300 "$STK_ABS" apply -auto-approve -var net=10.99.77.0/24) \
	</dev/null >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 1
t_expect_has err "aws.subnet.s: ec2 CreateSubnet"
t_expect_has err "(sensitive value)"
grep -l "10.99.77\|owner-hunter2" "$T_TMP/out" "$T_TMP/err" >/dev/null &&
	t_why "a sensitive value was printed: $(grep -h "10.99.77\|owner-hunter2" "$T_TMP/out" "$T_TMP/err" | head -3)"
in_w destroy -auto-approve -var net=10.99.77.0/24
t_expect_status 0
W=$W_MAIN
t_end

t_begin "a text a sensitive map holds is still shown where another value shows it in the clear"
W_MAIN=$W
W=$T_TMP/public
mkdir -p "$W"
cat >"$W/main.stk" <<EOF
provider aws { region = "us-east-1" }

variable conf {
  sensitive = true
  default   = { net = "10.98.5.0/24", key = "conf-hunter3" }
}

resource aws.vpc main {
  cidr_block = "10.9.0.0/16"
  tags       = var.conf
}

resource aws.subnet s {
  vpc_id     = aws.vpc.main.id
  cidr_block = "10.98.5.0/24"
}
EOF
T_STATUS=0
(cd "$W" && AWS_ENDPOINT_URL=$PX t_timeout 300 "$STK_ABS" apply -auto-approve) \
	</dev/null >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 1
t_expect_has err "10.98.5.0/24"
grep -l "conf-hunter3" "$T_TMP/out" "$T_TMP/err" >/dev/null && t_why "the sensitive key was printed"
in_w destroy -auto-approve
t_expect_status 0
W=$W_MAIN
t_end

t_begin "a failing subnet (an invalid CIDR) stops only its dependents; the rest completes; exit 1"
in_w destroy -auto-approve
cat >>"$W/main.stk" <<EOF

resource aws.subnet bad {
  vpc_id     = aws.vpc.main.id
  cidr_block = "10.99.0.0/24"   # outside the VPC: EC2 refuses it
  tags       = { Name = "$N" }
}

resource aws.security_group behind_bad {
  name   = "$N-behind-bad"
  vpc_id = aws.vpc.main.id
  tags   = { Subnet = aws.subnet.bad.id }
}
EOF
in_w apply -auto-approve
t_expect_status 1
t_expect_match err "aws.subnet.bad: ec2 CreateSubnet: InvalidSubnet.Range"
t_expect_has out "Apply failed. Resources: 5 added, 0 changed, 0 destroyed, 1 failed."
[ "$(vpcs)" -eq 1 ] && [ "$(subnets)" -eq 3 ] && [ "$(sgs)" -eq 1 ] ||
	t_why "the independent branches did not complete: $(vpcs) VPCs, $(subnets) subnets, $(sgs) groups"
[ -z "$(awsx ec2 describe-security-groups --filters "Name=group-name,Values=$N-behind-bad" \
	--query 'SecurityGroups[].GroupId' --output text)" ] || t_why "the dependent group was created"
t_end

t_begin "-rollback-on-failure destroys what the run created and leaves nothing behind"
in_w destroy -auto-approve
t_expect_status 0
in_w apply -auto-approve -rollback-on-failure
t_expect_status 1
t_expect_has out "Rolling back: destroying the 5 objects this run created."
t_expect_has out "Apply failed and was rolled back. Resources: 1 failed; of 5 added, 5 destroyed again."
[ "$(vpcs)" -eq 0 ] && [ "$(subnets)" -eq 0 ] && [ "$(sgs)" -eq 0 ] ||
	t_why "left behind: $(vpcs) VPCs, $(subnets) subnets, $(sgs) groups"
in_w state list
t_expect_status 0
[ ! -s "$T_TMP/out" ] || t_why "the state still records: $(cat "$T_TMP/out")"
t_end

t_begin "state mv follows a rename with no change in the cloud; state rm forgets, never deletes"
sed -i '/^resource aws.subnet bad {/,$d' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
VPC=$(awsx ec2 describe-vpcs --filters "Name=tag:Name,Values=$N" --query 'Vpcs[0].VpcId' --output text)
sed -i 's/resource aws.vpc main {/resource aws.vpc net {/; s/aws.vpc.main.id/aws.vpc.net.id/g' "$W/main.stk"
in_w state mv aws.vpc.main aws.vpc.net
t_expect_status 0
in_w plan -detailed-exitcode
t_expect_status 0
in_w state rm aws.security_group.web
t_expect_status 0
[ "$(sgs)" -eq 1 ] || t_why "state rm deleted the security group in the cloud"
in_w import aws.security_group.web "$(awsx ec2 describe-security-groups --filters "Name=group-name,Values=$N-web" \
	--query 'SecurityGroups[0].GroupId' --output text)"
t_expect_status 0
in_w plan -detailed-exitcode
t_expect_status 0
[ "$(awsx ec2 describe-vpcs --filters "Name=tag:Name,Values=$N" --query 'Vpcs[0].VpcId' --output text)" = "$VPC" ] ||
	t_why "the VPC was replaced"
in_w destroy -auto-approve
t_expect_status 0
[ "$(vpcs)" -eq 0 ] || t_why "destroy left the VPC"
t_end

t_begin "-replace of a VPC gives its re-created dependents the new VPC's id"
# the replan after the new VPC was made still saw -replace: its id planned unknown again, and
# the subnet was created with an empty vpc_id (VpcID  does not exist), the group in the default VPC
W_MAIN=$W
W=$T_TMP/replace
mkdir -p "$W"
AMI=$(awsx ec2 describe-images --owners amazon --query 'Images[0].ImageId' --output text)
cat >"$W/main.stk" <<EOF
provider aws { region = "us-east-1" }

resource aws.vpc main {
  cidr_block = "10.7.0.0/16"
  tags       = { Name = "$N-r" }
}

resource aws.subnet s {
  vpc_id     = aws.vpc.main.id
  cidr_block = "10.7.1.0/24"
}

resource aws.security_group a {
  name   = "$N-r"
  vpc_id = aws.vpc.main.id
}

resource aws.instance i {
  ami           = "$AMI"
  instance_type = "t3.micro"
  subnet_id     = aws.subnet.s.id
  tags          = { Name = "$N-r" }
}
EOF
vpc_r() { awsx ec2 describe-vpcs --filters "Name=tag:Name,Values=$N-r" --query 'Vpcs[].VpcId' --output text; }
subnet_r() { awsx ec2 describe-subnets --filters "Name=cidr-block,Values=10.7.1.0/24" --query "Subnets[].$1" --output text; }
sg_vpc() { awsx ec2 describe-security-groups --filters "Name=group-name,Values=$N-r" --query 'SecurityGroups[].VpcId' --output text; }
inst_subnet() {
	awsx ec2 describe-instances --filters "Name=tag:Name,Values=$N-r" "Name=instance-state-name,Values=running" \
		--query 'Reservations[].Instances[].SubnetId' --output text
}
in_w apply -auto-approve
t_expect_status 0
OLD=$(vpc_r)
in_w apply -auto-approve -replace aws.vpc.main
t_expect_status 0
t_expect_has out "Apply complete! Resources: 4 added, 0 changed, 4 destroyed."
NEW=$(vpc_r)
[ -n "$NEW" ] && [ "$NEW" != "$OLD" ] || t_why "the VPC was not replaced: $OLD, then $NEW"
[ "$(subnet_r VpcId)" = "$NEW" ] || t_why "the subnet is in '$(subnet_r VpcId)', not the new VPC $NEW"
[ "$(sg_vpc)" = "$NEW" ] || t_why "the group is in '$(sg_vpc)', not the new VPC $NEW"
[ "$(inst_subnet)" = "$(subnet_r SubnetId)" ] || t_why "the instance is in '$(inst_subnet)', not the new subnet"
in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "-target X -replace X with a dependent: exit 0, and a warning names what is out of date"
# the walk planned the untargeted instance again, found it must be replaced (its subnet is new)
# and failed it without a word: "Apply failed ... 0 failed", exit 1, nothing on stderr
SUBNET=$(subnet_r SubnetId)
INST=$(inst_subnet)
in_w apply -auto-approve -target aws.subnet.s -replace aws.subnet.s
t_expect_status 0
t_expect_has out "Apply complete! Resources: 1 added, 0 changed, 1 destroyed."
t_expect_has err "aws.instance.i depends on aws.subnet.s, which was replaced; it was not targeted"
t_expect_lacks err "error"
[ -n "$(subnet_r SubnetId)" ] && [ "$(subnet_r SubnetId)" != "$SUBNET" ] || t_why "the subnet was not replaced"
[ "$(inst_subnet)" = "$INST" ] || t_why "the untargeted instance was touched: in '$(inst_subnet)', was in $INST"
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_has out "aws.instance.i"
in_w destroy -auto-approve
t_expect_status 0
[ -z "$(vpc_r)" ] || t_why "destroy left the VPC"
W=$W_MAIN
t_end

t_summary

#!/bin/sh
# tests/aws_faults.sh: the AWS provider through tests/fault_proxy.py, a loopback proxy in front
# of moto_server (signatures and IAM checked) that throttles, fails with 5xx, resets
# connections and slows answers at a set, seeded rate. A whole stack applies, plans clean and
# is destroyed through it, with awscli (straight to moto) counting exactly one of everything;
# and a waiter that never sees its state times out as the resource's timeouts block says.
. "$(dirname "$0")/lib.sh"
t_init

. "$(dirname "$0")/moto.sh"
moto_start
W=$T_TMP/work
STK_ABS=$(t_abspath "$STK")
N=stk-faults-$$
mkdir -p "$W"

proxy_start --rate 0.25 --seed "${FAULT_SEED:-7}"

# stk goes through the proxy; awscli (awsx) goes straight to moto.
in_w() {
	T_STATUS=0
	(cd "$W" && AWS_ENDPOINT_URL=$PX t_timeout 300 "$STK_ABS" "$@") <"/dev/null" >"$T_TMP/out" 2>"$T_TMP/err" ||
		T_STATUS=$?
}

faults() {
	proxy stats | python3 -c 'import json, sys; print(sum(json.load(sys.stdin)["faults"].values()))'
}

count() {
	"$@" --output text | wc -w
}

AMI=$(awsx ec2 describe-images --owners amazon --query 'Images[0].ImageId' --output text)

cat >"$W/main.stk" <<EOF
provider aws { region = "us-east-1" }

variable db_password {
  type      = string
  sensitive = true
  default   = "correct-horse-battery"
}

resource aws.vpc main {
  cidr_block = "10.0.0.0/16"
  tags       = { Name = "$N" }
}

resource aws.internet_gateway gw {
  vpc_id = aws.vpc.main.id
  tags   = { Name = "$N" }
}

resource aws.subnet public {
  vpc_id                  = aws.vpc.main.id
  cidr_block              = "10.0.1.0/24"
  availability_zone       = "us-east-1a"
  map_public_ip_on_launch = true
  tags                    = { Name = "$N" }
}

resource aws.subnet db {
  for_each          = { a = "10.0.11.0/24", b = "10.0.12.0/24" }
  vpc_id            = aws.vpc.main.id
  cidr_block        = each.value
  availability_zone = "us-east-1\${each.key}"
  tags              = { Name = "$N" }
}

resource aws.route_table public {
  vpc_id = aws.vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws.internet_gateway.gw.id
  }
  tags = { Name = "$N" }
}

resource aws.route_table_association public {
  subnet_id      = aws.subnet.public.id
  route_table_id = aws.route_table.public.id
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

resource aws.security_group db {
  name   = "$N-db"
  vpc_id = aws.vpc.main.id
  ingress {
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [aws.security_group.web.id]
  }
}

resource aws.instance web {
  ami                    = "$AMI"
  instance_type          = "t3.micro"
  subnet_id              = aws.subnet.public.id
  vpc_security_group_ids = [aws.security_group.web.id]
  tags                   = { Name = "$N" }
}

resource aws.db_subnet_group main {
  name       = "$N"
  subnet_ids = [for s in aws.subnet.db : s.id]
}

resource aws.db_instance main {
  identifier             = "$N"
  engine                 = "postgres"
  engine_version         = "16.3"
  instance_class         = "db.t3.micro"
  allocated_storage      = 20
  username               = "app"
  password               = var.db_password
  db_subnet_group_name   = aws.db_subnet_group.main.name
  vpc_security_group_ids = [aws.security_group.db.id]
  skip_final_snapshot    = true
}

resource aws.ecr_repository app {
  name         = "$N-app"
  force_delete = true
}
EOF

vpcs() { count awsx ec2 describe-vpcs --filters "Name=tag:Name,Values=$N" --query 'Vpcs[].VpcId'; }
expect_counts() {
	# $1: how many of each object awscli must see
	for what in \
		"$(vpcs)" \
		"$(count awsx ec2 describe-internet-gateways --filters "Name=tag:Name,Values=$N" --query 'InternetGateways[].InternetGatewayId')" \
		"$(count awsx ec2 describe-route-tables --filters "Name=tag:Name,Values=$N" --query 'RouteTables[].RouteTableId')" \
		"$(count awsx ec2 describe-security-groups --filters "Name=group-name,Values=$N-web" --query 'SecurityGroups[].GroupId')" \
		"$(count awsx ec2 describe-security-groups --filters "Name=group-name,Values=$N-db" --query 'SecurityGroups[].GroupId')" \
		"$(count awsx ec2 describe-instances --filters "Name=tag:Name,Values=$N" Name=instance-state-name,Values=pending,running,stopping,stopped --query 'Reservations[].Instances[].InstanceId')" \
		"$(count awsx rds describe-db-instances --query "DBInstances[?DBInstanceIdentifier=='$N'].DBInstanceIdentifier")" \
		"$(count awsx rds describe-db-subnet-groups --query "DBSubnetGroups[?DBSubnetGroupName=='$N'].DBSubnetGroupName")" \
		"$(count awsx ecr describe-repositories --query "repositories[?repositoryName=='$N-app'].repositoryName")"; do
		[ "$what" -eq "$1" ] || { t_why "awscli counts $what of an object, not $1"; return; }
	done
	subnets=$(count awsx ec2 describe-subnets --filters "Name=tag:Name,Values=$N" --query 'Subnets[].SubnetId')
	[ "$subnets" -eq $(($1 * 3)) ] || t_why "awscli counts $subnets subnets, not $(($1 * 3))"
}

t_begin "a whole stack applies through 25% injected faults: exactly one of everything"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "Apply complete! Resources: 13 added"
t_expect_match out '^aws: [0-9]+ requests; retried [0-9]+ times?: '
expect_counts 1
F=$(faults)
[ "$F" -gt 5 ] || t_why "the proxy injected only $F faults"
t_expect_lacks out "correct-horse-battery"
t_expect_lacks err "correct-horse-battery"
t_end

t_begin "a refreshing plan through the faults has no changes, and says what it retried"
in_w plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
# moto's own clock moves computed attributes (latest_restorable_time): not drift to show
t_expect_lacks out "changed outside stk"
F2=$(faults)
[ "$F2" -gt "$F" ] || t_why "the plan met no fault (still $F2)"
t_expect_match err 'note: refreshing through aws: [0-9]+ requests; retried [0-9]+ times?: ' 
t_end

t_begin "a create that outlives its timeouts block fails under its address, and is kept tainted"
# the proxy turns every running instance into a pending one for the waiter
proxy 'config?rate=0&hold=DescribeInstances:<name>running</name>:<name>pending</name>' >/dev/null
sed -i 's|tags                   = { Name = "'"$N"'" }|tags                   = { Name = "'"$N"'", Role = "slow" }\n  timeouts { create = "12s" }|' "$W/main.stk"
sed -i 's|resource aws.instance web {|resource aws.instance web2 {|' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 1
# the line comes at the first check (once a second) at 10 s or more: 11 s on a busy machine
t_expect_match out 'aws\.instance\.web2: Still creating\.\.\. \[1[01]s elapsed\]'
t_expect_match err "aws.instance.web2: instance i-[0-9a-f]+ is still pending after 12 s, waiting for running"
proxy 'config?hold=' >/dev/null
in_w state list
t_expect_has out "aws.instance.web2"
in_w plan
t_expect_has out "aws.instance.web2 must be replaced (it is tainted)"
t_end

t_begin "a refreshing plan of 1 VPC, 100 subnets and 100 security groups makes a handful of calls"
proxy 'config?rate=0' >/dev/null
mkdir -p "$W/many"
cat >"$W/many/main.stk" <<EOF
provider aws { region = "us-east-1" }

resource aws.vpc many {
  cidr_block = "10.20.0.0/16"
  tags       = { Name = "$N-many" }
}

resource aws.subnet s {
  count      = 100
  vpc_id     = aws.vpc.many.id
  cidr_block = cidrsubnet("10.20.0.0/16", 8, count.index)
}

resource aws.security_group g {
  count  = 100
  name   = "$N-g\${count.index}"
  vpc_id = aws.vpc.many.id
}
EOF
T_STATUS=0
(cd "$W/many" && AWS_ENDPOINT_URL=$PX t_timeout 600 "$STK_ABS" apply -auto-approve -parallelism=32) </dev/null \
	>"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 0
t_expect_has out "201 added"
requests() {
	proxy stats | python3 -c 'import json, sys; print(json.load(sys.stdin)["requests"])'
}
R0=$(requests)
T_STATUS=0
(cd "$W/many" && AWS_ENDPOINT_URL=$PX t_timeout 300 "$STK_ABS" plan -detailed-exitcode) </dev/null \
	>"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 0
CALLS=$(($(requests) - R0))
echo "  refreshing 201 objects took $CALLS API calls"
[ "$CALLS" -le 10 ] || t_why "refreshing 201 objects took $CALLS API calls, not at most 10"
T_STATUS=0
(cd "$W/many" && AWS_ENDPOINT_URL=$PX t_timeout 600 "$STK_ABS" destroy -auto-approve -parallelism=32) </dev/null \
	>"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 0
t_end

t_begin "destroy through the faults leaves nothing (awscli counts none)"
proxy 'config?rate=0.25' >/dev/null
in_w destroy -auto-approve
t_expect_status 0
expect_counts 0
t_end

t_begin "every kind of fault was injected at least once over the run, truncated bodies among them"
proxy stats | python3 -c 'import json, sys
f = json.load(sys.stdin)["faults"]
missing = [k for k in ("throttle", "503", "500", "reset", "truncate", "slow") if not f.get(k)]
sys.stdout.write(" ".join(missing))' >"$T_TMP/missing"
[ ! -s "$T_TMP/missing" ] || t_why "never injected: $(cat "$T_TMP/missing")"
t_end

t_summary

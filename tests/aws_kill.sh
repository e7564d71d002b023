#!/bin/sh
# tests/aws_kill.sh: kill -9 of `stk apply` at 20 seeded random moments, against moto_server
# (signatures and IAM checked), judged by awscli. After every kill the state loads; a final
# apply completes; awscli then counts exactly one of every object and nothing else, and a plan
# shows no changes. KILL_SEED picks other moments; KILLS other counts.
. "$(dirname "$0")/lib.sh"
t_init

. "$(dirname "$0")/moto.sh"
moto_start
W=$T_TMP/work
STK_ABS=$(t_abspath "$STK")
N=stk-kill-$$
SEED=${KILL_SEED:-20261129}
KILLS=${KILLS:-20}
mkdir -p "$W"

in_w() {
	T_STATUS=0
	(cd "$W" && t_timeout 300 "$STK_ABS" "$@") <"/dev/null" >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
}

AMI=$(awsx ec2 describe-images --owners amazon --query 'Images[0].ImageId' --output text)

cat >"$W/main.stk" <<EOF
provider aws { region = "us-east-1" }

resource aws.vpc main {
  cidr_block = "10.0.0.0/16"
  tags       = { Name = "$N" }
}

resource aws.internet_gateway gw {
  vpc_id = aws.vpc.main.id
}

resource aws.subnet s {
  count             = 2
  vpc_id            = aws.vpc.main.id
  cidr_block        = "10.0.\${count.index}.0/24"
  availability_zone = count.index == 0 ? "us-east-1a" : "us-east-1b"
}

resource aws.route_table public {
  vpc_id = aws.vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws.internet_gateway.gw.id
  }
}

resource aws.route_table_association public {
  subnet_id      = aws.subnet.s[0].id
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
}

resource aws.instance web {
  count                  = 2
  ami                    = "$AMI"
  instance_type          = "t3.micro"
  subnet_id              = aws.subnet.s[0].id
  vpc_security_group_ids = [aws.security_group.web.id]
}

resource aws.db_subnet_group main {
  name       = "$N"
  subnet_ids = aws.subnet.s[*].id
}

resource aws.db_instance main {
  identifier             = "$N"
  engine                 = "postgres"
  instance_class         = "db.t3.micro"
  allocated_storage      = 20
  username               = "app"
  password               = "kill-trial-password"
  db_subnet_group_name   = aws.db_subnet_group.main.name
  vpc_security_group_ids = [aws.security_group.db.id]
  skip_final_snapshot    = true
}

resource aws.ecr_repository app {
  name         = "$N-app"
  force_delete = true
}
EOF

# awscli's count of every kind of object, over the whole account: the default VPC's own
# objects included, so that "nothing else" is checked too.
census() {
	VPC=$(awsx ec2 describe-vpcs --filters "Name=tag:Name,Values=$N" --query 'Vpcs[].VpcId' --output text)
	printf 'vpcs=%s ' "$(awsx ec2 describe-vpcs --query 'Vpcs[].VpcId' --output text | wc -w)"
	printf 'tagged=%s ' "$(echo $VPC | wc -w)"
	printf 'igws=%s ' "$(awsx ec2 describe-internet-gateways --query 'InternetGateways[].InternetGatewayId' --output text | wc -w)"
	printf 'subnets=%s ' "$(awsx ec2 describe-subnets --filters "Name=vpc-id,Values=${VPC:-none}" --query 'Subnets[].SubnetId' --output text | wc -w)"
	printf 'rts=%s ' "$(awsx ec2 describe-route-tables --filters "Name=vpc-id,Values=${VPC:-none}" --query 'RouteTables[].RouteTableId' --output text | wc -w)"
	printf 'assocs=%s ' "$(awsx ec2 describe-route-tables --filters "Name=vpc-id,Values=${VPC:-none}" --query 'RouteTables[].Associations[?!Main].RouteTableAssociationId' --output text | wc -w)"
	printf 'sgs=%s ' "$(awsx ec2 describe-security-groups --filters "Name=vpc-id,Values=${VPC:-none}" --query 'SecurityGroups[].GroupId' --output text | wc -w)"
	printf 'instances=%s ' "$(awsx ec2 describe-instances --filters Name=instance-state-name,Values=pending,running,stopping,stopped --query 'Reservations[].Instances[].InstanceId' --output text | wc -w)"
	printf 'dbsgs=%s ' "$(awsx rds describe-db-subnet-groups --query 'DBSubnetGroups[].DBSubnetGroupName' --output text | wc -w)"
	printf 'dbs=%s ' "$(awsx rds describe-db-instances --query 'DBInstances[].DBInstanceIdentifier' --output text | wc -w)"
	printf 'repos=%s\n' "$(awsx ecr describe-repositories --query 'repositories[].repositoryName' --output text | wc -w)"
}

BEFORE=$(census)
DEFAULT_VPCS=$(echo "$BEFORE" | sed 's/.*vpcs=\([0-9]*\).*/\1/')
DEFAULT_IGWS=$(echo "$BEFORE" | sed 's/.*igws=\([0-9]*\).*/\1/')
WANT="vpcs=$((DEFAULT_VPCS + 1)) tagged=1 igws=$((DEFAULT_IGWS + 1)) subnets=2 rts=2 assocs=1 sgs=3 instances=2 dbsgs=1 dbs=1 repos=1"

t_begin "a clean apply and destroy, to time the apply the kills fall in"
START=$(date +%s%N)
in_w apply -auto-approve
t_expect_status 0
T_APPLY_MS=$((($(date +%s%N) - START) / 1000000))
[ "$(census)" = "$WANT" ] || t_why "awscli counts $(census), not $WANT"
in_w destroy -auto-approve
t_expect_status 0
echo "  a whole apply takes $T_APPLY_MS ms"
t_end

# The kill moments: seeded, spread over the whole apply.
python3 -c "
import random
r = random.Random($SEED)
for _ in range(200):
    print('%.3f' % (r.uniform(0.01, $T_APPLY_MS * 1.1 / 1000.0)))
" >"$T_TMP/moments"

t_begin "kill -9 at $KILLS seeded moments: after each the state loads, and no object is lost"
killed=0
tries=0
adopted=0
while [ $killed -lt "$KILLS" ] && read -r moment; do
	tries=$((tries + 1))
	(cd "$W" && exec "$STK_ABS" apply -auto-approve) </dev/null >"$T_TMP/kill.out" 2>"$T_TMP/kill.err" &
	pid=$!
	sleep "$moment"
	# what the run before resolved: interrupted creates found by their tokens
	adopted=$((adopted + $(grep -c "adopted the object an interrupted apply created" "$T_TMP/kill.err" || true)))
	if kill -9 $pid 2>/dev/null; then
		wait $pid 2>/dev/null
		killed=$((killed + 1))
		# the state loads, whatever the moment (no partial write)
		in_w state list
		if [ "$T_STATUS" -ne 0 ]; then
			t_why "after the kill at ${moment}s the state does not load: $(cat "$T_TMP/err")"
			break
		fi
	else
		wait $pid 2>/dev/null
		# it finished first: start over from nothing so that the next kill meets creates
		in_w destroy -auto-approve
		[ "$T_STATUS" -eq 0 ] || { t_why "destroy between trials failed: $(cat "$T_TMP/err")"; break; }
	fi
done <"$T_TMP/moments"
echo "  $killed kills in $tries tries; $adopted interrupted creates adopted by their tokens"
[ $killed -eq "$KILLS" ] || t_why "only $killed kills landed"
t_end

t_begin "after the kills a final apply completes: exactly one of every object, nothing else"
in_w apply -auto-approve
t_expect_status 0
t_expect_match out "Apply complete!|No changes"
GOT=$(census)
[ "$GOT" = "$WANT" ] || t_why "awscli counts $GOT, not $WANT"
in_w plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
t_end

t_begin "destroy leaves nothing behind"
in_w destroy -auto-approve
t_expect_status 0
[ "$(census)" = "$BEFORE" ] || t_why "awscli counts $(census), not what was there before: $BEFORE"
t_end

t_summary

#!/bin/sh
# tests/aws_sg.sh: aws.security_group and aws.key_pair against moto_server (signatures and IAM
# checked), judged by awscli: rules as AWS holds them, in-place rule changes through
# Authorize/Revoke, drift from a rule added outside stk, and destroy.
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

# A real public key when ssh-keygen is there; a fixed valid one otherwise.
if command -v ssh-keygen >/dev/null 2>&1; then
	ssh-keygen -q -t ed25519 -N '' -C stk-test -f "$T_TMP/id" >/dev/null
	PUB=$(cat "$T_TMP/id.pub")
else
	PUB='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHQyMMN8KxhpNp8uNaPl2ycBpAqyXWsu8Js9lPs1R1Pm stk-test'
fi

write_config() {
	cat >"$W/main.stk" <<EOF
provider aws { region = "us-east-1" }

variable admin_cidr {
  type    = string
  default = "$1"
}

resource aws.vpc main {
  cidr_block = "10.0.0.0/16"
  tags       = { Name = "stk-sg-test" }
}

resource aws.security_group web {
  name   = "stk-web"
  vpc_id = aws.vpc.main.id

  ingress {
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [var.admin_cidr]
  }
$2
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
  tags = { Role = "web" }
}

resource aws.security_group db {
  name        = "stk-db"
  description = "database"
  vpc_id      = aws.vpc.main.id

  ingress {
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [aws.security_group.web.id]
  }
}

resource aws.key_pair deploy {
  key_name   = "stk-deploy"
  public_key = "$PUB"
  tags       = { Team = "infra" }
}

output web_id { value = aws.security_group.web.id }
output fingerprint { value = aws.key_pair.deploy.fingerprint }
EOF
}

HTTPS='
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }'


# "FROM TO CIDR" lines of a group's ingress (or egress with $2 = IpPermissionsEgress), sorted.
perms() {
	awsx ec2 describe-security-groups --filters "Name=group-name,Values=$1" --output text \
		--query "SecurityGroups[0].${2:-IpPermissions}[].[IpProtocol,FromPort,ToPort,IpRanges[].CidrIp|join(',',@)]" |
		tr '\t' ' ' | sort
}

write_config 10.9.0.0/24 ""

t_begin "groups, rules and a key pair are created as configured (checked with awscli)"
export STK_LOG=debug
in_w apply -auto-approve
unset STK_LOG
t_expect_status 0
# each group: its create, the rules it lacks against a new group's (no ingress, egress to
# everywhere: web's declared egress is that one, db has none, so its is revoked), one read;
# and the VPC's read of its default group
for a in CreateSecurityGroup=2 AuthorizeSecurityGroupIngress=2 RevokeSecurityGroupEgress=1 \
	AuthorizeSecurityGroupEgress=0 DescribeSecurityGroups=3; do
	n=$(grep -c "Action=${a%=*}&" "$T_TMP/err")
	[ "$n" = "${a#*=}" ] || t_why "$n calls of ${a%=*}, expected ${a#*=}"
done
t_expect_has out "aws.security_group.web: Creation complete"
t_expect_has out "aws.key_pair.deploy: Creation complete"
WEB=$(awsx ec2 describe-security-groups --filters Name=group-name,Values=stk-web \
	--query 'SecurityGroups[0].GroupId' --output text)
VPC=$(awsx ec2 describe-vpcs --filters Name=tag:Name,Values=stk-sg-test --query 'Vpcs[0].VpcId' --output text)
[ "$(awsx ec2 describe-security-groups --filters Name=group-name,Values=stk-web \
	--query 'SecurityGroups[0].VpcId' --output text)" = "$VPC" ] || t_why "stk-web is not in the VPC"
[ "$(perms stk-web)" = "$(printf 'tcp 22 22 10.9.0.0/24\ntcp 80 80 0.0.0.0/0')" ] ||
	t_why "stk-web's ingress is not 80 from anywhere and 22 from 10.9.0.0/24: $(perms stk-web)"
[ "$(perms stk-web IpPermissionsEgress)" = "-1 None None 0.0.0.0/0" ] ||
	t_why "stk-web's egress is not the declared allow-all: $(perms stk-web IpPermissionsEgress)"
[ "$(awsx ec2 describe-security-groups --filters Name=group-name,Values=stk-db --output text \
	--query 'SecurityGroups[0].IpPermissions[0].[IpProtocol,FromPort,ToPort,UserIdGroupPairs[0].GroupId]' |
	tr '\t' ' ')" = "tcp 5432 5432 $WEB" ] || t_why "stk-db does not admit 5432 from the web group"
# egress not declared: the default allow-all rule is revoked, as Terraform does
[ -z "$(perms stk-db IpPermissionsEgress)" ] || t_why "stk-db kept the default egress rule"
[ "$(awsx ec2 describe-security-groups --filters Name=group-name,Values=stk-db \
	--query 'SecurityGroups[0].Description' --output text)" = database ] || t_why "stk-db's description"
[ "$(awsx ec2 describe-tags --filters Name=resource-id,Values="$WEB" Name=key,Values=Role \
	--query 'Tags[0].Value' --output text)" = web ] || t_why "stk-web is not tagged Role=web"
FP=$(awsx ec2 describe-key-pairs --key-names stk-deploy --query 'KeyPairs[0].KeyFingerprint' --output text)
[ -n "$FP" ] && [ "$FP" != None ] || t_why "awscli finds no key pair stk-deploy"
t_expect_has out "fingerprint = \"$FP\""
t_end

t_begin "a second plan, refreshing through the API, has no changes"
in_w plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
t_end

t_begin "a new rule and a changed CIDR are authorized and revoked in place"
write_config 10.8.0.0/24 "$HTTPS"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "1 changed"
t_expect_has out "0 destroyed"
[ "$(awsx ec2 describe-security-groups --filters Name=group-name,Values=stk-web \
	--query 'SecurityGroups[0].GroupId' --output text)" = "$WEB" ] || t_why "stk-web was replaced"
[ "$(perms stk-web)" = "$(printf 'tcp 22 22 10.8.0.0/24\ntcp 443 443 0.0.0.0/0\ntcp 80 80 0.0.0.0/0')" ] ||
	t_why "stk-web's ingress is not 80, 443 and 22 from 10.8.0.0/24: $(perms stk-web)"
in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "a rule added outside stk is drift: planned away, and revoked by apply"
awsx ec2 authorize-security-group-ingress --group-id "$WEB" --protocol tcp --port 3306 \
	--cidr 192.168.0.0/16 >/dev/null
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_has out "aws.security_group.web will be updated in place"
t_expect_has out "192.168.0.0/16"
in_w apply -auto-approve
t_expect_status 0
[ "$(perms stk-web)" = "$(printf 'tcp 22 22 10.8.0.0/24\ntcp 443 443 0.0.0.0/0\ntcp 80 80 0.0.0.0/0')" ] ||
	t_why "the rule added outside was not revoked: $(perms stk-web)"
[ "$(awsx ec2 describe-security-groups --filters Name=group-name,Values=stk-web \
	--query 'SecurityGroups[0].GroupId' --output text)" = "$WEB" ] || t_why "stk-web was replaced"
t_end

t_begin "a key pair deleted outside stk is planned for creation again"
awsx ec2 delete-key-pair --key-name stk-deploy >/dev/null
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_has out "aws.key_pair.deploy will be created"
t_end

t_begin "destroy removes the groups, the key pair and the VPC (awscli finds none)"
in_w apply -auto-approve
in_w destroy -auto-approve
t_expect_status 0
[ -z "$(awsx ec2 describe-security-groups --filters Name=group-name,Values=stk-web,stk-db \
	--query 'SecurityGroups[].GroupId' --output text)" ] || t_why "a group is still there"
[ -z "$(awsx ec2 describe-key-pairs --filters Name=key-name,Values=stk-deploy \
	--query 'KeyPairs[].KeyName' --output text)" ] || t_why "the key pair is still there"
[ -z "$(awsx ec2 describe-vpcs --filters Name=tag:Name,Values=stk-sg-test --query 'Vpcs[].VpcId' \
	--output text)" ] || t_why "the VPC is still there"
t_end

t_begin "in an IPv6 VPC, where a new group also gets ::/0 egress, groups are created as configured"
mkdir -p "$W/v6"
cat >"$W/v6/main.stk" <<EOF
provider aws { region = "us-east-1" }

resource aws.vpc six {
  cidr_block                       = "10.6.0.0/16"
  assign_generated_ipv6_cidr_block = true
  tags                             = { Name = "stk-sg-v6" }
}

# declares both egress rules a new group in this VPC starts with
resource aws.security_group both {
  name   = "stk-v6-both"
  vpc_id = aws.vpc.six.id
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    from_port        = 0
    to_port          = 0
    protocol         = "-1"
    ipv6_cidr_blocks = ["::/0"]
  }
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.6.0.0/16"]
  }
}

# declares none: both are revoked
resource aws.security_group none {
  name   = "stk-v6-none"
  vpc_id = aws.vpc.six.id
}
EOF
in_v6() {
	t_stk_in "$W/v6" "$@"
}
export STK_LOG=debug
in_v6 apply -auto-approve
unset STK_LOG
t_expect_status 0
# moto, as AWS may, gives the new group ::/0 egress: authorizing it again is refused, and the
# group is read and synced against what it has
t_expect_has err "InvalidPermission.Duplicate"
t_expect_lacks err "error:"
egress6() {
	awsx ec2 describe-security-groups --filters "Name=group-name,Values=$1" --output json \
		--query "SecurityGroups[0].IpPermissionsEgress[].[IpProtocol,IpRanges[].CidrIp,Ipv6Ranges[].CidrIpv6]" |
		tr -d ' \n'
}
E=$(egress6 stk-v6-both)
case $E in
*'"0.0.0.0/0"'*'"::/0"'* | *'"::/0"'*'"0.0.0.0/0"'*) ;;
*) t_why "stk-v6-both's egress is not the two declared rules: $E" ;;
esac
E=$(egress6 stk-v6-none)
case $E in *0/0*) t_why "stk-v6-none kept egress rules: $E" ;; esac
[ "$(perms stk-v6-both)" = "tcp 443 443 10.6.0.0/16" ] || t_why "stk-v6-both's ingress: $(perms stk-v6-both)"
in_v6 plan -detailed-exitcode
t_expect_status 0
in_v6 destroy -auto-approve
t_expect_status 0
t_end

t_begin "two rules that differ only in their description are an error before the group is made"
mkdir -p "$W/dup"
cat >"$W/dup/main.stk" <<EOF
provider aws { region = "us-east-1" }

resource aws.security_group dup {
  name = "stk-dup"
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["10.1.0.0/16"]
    description = "one"
  }
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["10.1.0.0/16"]
    description = "two"
  }
}
EOF
T_STATUS=0
(cd "$W/dup" && t_timeout 120 "$STK_ABS" apply -auto-approve) <"/dev/null" >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 1
t_expect_has err "aws.security_group.dup: two ingress rules for tcp 10.1.0.0/16 (ports 22-22) differ only in their description"
[ "$(awsx ec2 describe-security-groups --filters Name=group-name,Values=stk-dup \
	--query 'length(SecurityGroups)' --output text)" = 0 ] || t_why "a group stk-dup was made"
t_end

t_begin "ingress rules from dynamic blocks are created as static ones would be (checked with awscli)"
mkdir -p "$W/dyn"
# a map with the default iterator, beside a static rule; and a list whose for_each waits for
# the VPC (unknown when planned, so the rules are made from what apply knows)
cat >"$W/dyn/main.stk" <<'EOF'
provider aws { region = "us-east-1" }

variable web_ports {
  default = { http = 80, https = 443 }
}

resource aws.vpc dyn {
  cidr_block = "10.7.0.0/16"
  tags       = { Name = "stk-sg-dyn" }
}

resource aws.security_group dyn {
  name   = "stk-dyn"
  vpc_id = aws.vpc.dyn.id
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["10.7.0.0/16"]
  }
  dynamic "ingress" {
    for_each = var.web_ports
    content {
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = ["0.0.0.0/0"]
      description = ingress.key
    }
  }
  dynamic "ingress" {
    for_each = aws.vpc.dyn.id != "" ? [5432, 6379] : []
    iterator = port
    content {
      from_port   = port.value
      to_port     = port.value
      protocol    = "tcp"
      cidr_blocks = [aws.vpc.dyn.cidr_block]
      description = "db ${port.key}"
    }
  }
}
EOF
in_dyn() {
	t_stk_in "$W/dyn" "$@"
}
in_dyn plan
t_expect_status 0
t_expect_has out "ingress                = (known after apply)"
in_dyn apply -auto-approve
t_expect_status 0
t_expect_has out "aws.security_group.dyn: Creation complete"
[ "$(perms stk-dyn)" = "$(printf 'tcp 22 22 10.7.0.0/16\ntcp 443 443 0.0.0.0/0\ntcp 5432 5432 10.7.0.0/16\ntcp 6379 6379 10.7.0.0/16\ntcp 80 80 0.0.0.0/0')" ] ||
	t_why "stk-dyn's ingress is not 22, 5432 and 6379 from the VPC and 80, 443 from anywhere: $(perms stk-dyn)"
D=$(awsx ec2 describe-security-groups --filters Name=group-name,Values=stk-dyn --output text \
	--query 'SecurityGroups[0].IpPermissions[].IpRanges[].Description' | tr '\t' '\n' | sort | tr '\n' ' ')
[ "$D" = "db 0 db 1 http https " ] || t_why "the rules' descriptions are not the iterators' keys: $D"
t_end

t_begin "a second plan of the dynamic rules, refreshing through the API, has no changes"
in_dyn plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
in_dyn destroy -auto-approve
t_expect_status 0
t_end

t_summary

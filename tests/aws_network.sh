#!/bin/sh
# tests/aws_network.sh: aws.internet_gateway, aws.subnet, aws.route_table and
# aws.route_table_association against moto_server, with signatures and IAM checked, judged by
# awscli. Everything is tagged Name=$N, unique to this run.
. "$(dirname "$0")/lib.sh"
t_init

. "$(dirname "$0")/moto.sh"
moto_start
W=$T_TMP/work
STK_ABS=$(t_abspath "$STK")
N=stk-net-$$
mkdir -p "$W"

in_w() {
	T_STATUS=0
	(cd "$W" && t_timeout 120 "$STK_ABS" "$@") <"/dev/null" >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
}

# ec2 describe-$1 for objects tagged Name=$N, --query $2.
by_name() {
	awsx ec2 "describe-$1" --filters "Name=tag:Name,Values=$N" --query "$2" --output text
}

count() {
	by_name "$1" "length($2)"
}

cat >"$W/main.stk" <<EOF
provider aws { region = "us-east-1" }

resource aws.vpc main {
  cidr_block = "10.0.0.0/16"
  tags       = { Name = "$N" }
}

resource aws.internet_gateway gw {
  vpc_id = aws.vpc.main.id
  tags   = { Name = "$N" }
}

resource aws.subnet a {
  vpc_id            = aws.vpc.main.id
  cidr_block        = "10.0.1.0/24"
  availability_zone = "us-east-1a"
  tags              = { Name = "$N", Tier = "a" }
}

resource aws.subnet b {
  vpc_id            = aws.vpc.main.id
  cidr_block        = "10.0.2.0/24"
  availability_zone = "us-east-1b"
  tags              = { Name = "$N", Tier = "b" }
}

resource aws.route_table public {
  vpc_id = aws.vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws.internet_gateway.gw.id
  }
  tags = { Name = "$N" }
}

resource aws.route_table_association a {
  subnet_id      = aws.subnet.a.id
  route_table_id = aws.route_table.public.id
}

output rta_id { value = aws.route_table_association.a.id }
output subnet_a_arn { value = aws.subnet.a.arn }
EOF

t_begin "the network is created as configured (checked with awscli)"
export STK_LOG=debug
in_w apply -auto-approve
unset STK_LOG
t_expect_status 0
# CreateSubnet's answer is the new subnet, available: no read after it (the next test's
# refreshing plan shows it was all the state needed)
[ "$(grep -c "Action=CreateSubnet&" "$T_TMP/err")" = 2 ] || t_why "not two CreateSubnet calls"
[ "$(grep -c "Action=DescribeSubnets&" "$T_TMP/err")" = 0 ] ||
	t_why "$(grep -c "Action=DescribeSubnets&" "$T_TMP/err") DescribeSubnets calls, expected none"
t_expect_has out "aws.route_table_association.a: Creation complete"
VPC=$(by_name vpcs 'Vpcs[0].VpcId')
IGW=$(by_name internet-gateways 'InternetGateways[0].InternetGatewayId')
RTB=$(by_name route-tables 'RouteTables[0].RouteTableId')
SUBA=$(awsx ec2 describe-subnets --filters "Name=tag:Name,Values=$N" Name=tag:Tier,Values=a \
	--query 'Subnets[0].SubnetId' --output text)
[ "$(by_name internet-gateways 'InternetGateways[0].Attachments[0].VpcId')" = "$VPC" ] ||
	t_why "the internet gateway is not attached to the VPC"
[ "$(count subnets Subnets)" = 2 ] || t_why "awscli does not see two subnets"
[ "$(awsx ec2 describe-subnets --subnet-ids "$SUBA" --query 'Subnets[0].[CidrBlock,AvailabilityZone,VpcId]' \
	--output text)" = "$(printf '10.0.1.0/24\tus-east-1a\t%s' "$VPC")" ] || t_why "subnet a is not as configured"
[ "$(awsx ec2 describe-subnets --filters "Name=tag:Name,Values=$N" Name=tag:Tier,Values=b \
	--query 'Subnets[0].AvailabilityZone' --output text)" = us-east-1b ] || t_why "subnet b is not in us-east-1b"
[ "$(awsx ec2 describe-route-tables --route-table-ids "$RTB" \
	--query "RouteTables[0].Routes[?DestinationCidrBlock=='0.0.0.0/0'].GatewayId" --output text)" = "$IGW" ] ||
	t_why "the route table has no 0.0.0.0/0 route to the gateway"
RTA=$(awsx ec2 describe-route-tables --route-table-ids "$RTB" \
	--query "RouteTables[0].Associations[?SubnetId=='$SUBA'].RouteTableAssociationId" --output text)
[ -n "$RTA" ] || t_why "subnet a is not associated with the route table"
t_expect_match out "rta_id += \"$RTA\""
t_expect_match out "subnet_a_arn += \"arn:aws:ec2:us-east-1:[0-9]+:subnet/$SUBA\""
t_end

t_begin "a second plan, refreshing through the API, has no changes"
in_w plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
t_end

t_begin "map_public_ip_on_launch, tags and a second route change in place"
sed -i 's/Tier = "a"/Tier = "alpha"/' "$W/main.stk"
sed -i 's|  availability_zone = "us-east-1a"|&\n  map_public_ip_on_launch = true|' "$W/main.stk"
sed -i 's|^  tags = { Name = "'"$N"'" }$|  route {\n    cidr_block = "192.168.0.0/16"\n    gateway_id = aws.internet_gateway.gw.id\n  }\n&|' "$W/main.stk"
sed -i '/resource aws.internet_gateway gw/,/^}/s|tags   = { Name = "'"$N"'" }|tags   = { Name = "'"$N"'", Role = "edge" }|' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "0 added, 3 changed, 0 destroyed"
[ "$(awsx ec2 describe-subnets --subnet-ids "$SUBA" --query 'Subnets[0].MapPublicIpOnLaunch' \
	--output text)" = True ] || t_why "map_public_ip_on_launch is not on"
[ "$(awsx ec2 describe-tags --filters Name=resource-id,Values="$SUBA" Name=key,Values=Tier \
	--query 'Tags[0].Value' --output text)" = alpha ] || t_why "the Tier tag was not updated"
[ "$(awsx ec2 describe-tags --filters Name=resource-id,Values="$IGW" Name=key,Values=Role \
	--query 'Tags[0].Value' --output text)" = edge ] || t_why "the gateway's Role tag was not added"
[ "$(awsx ec2 describe-route-tables --route-table-ids "$RTB" \
	--query "RouteTables[0].Routes[?DestinationCidrBlock=='192.168.0.0/16'].GatewayId" --output text)" = "$IGW" ] ||
	t_why "the second route is not there"
[ "$(by_name route-tables 'RouteTables[0].RouteTableId')" = "$RTB" ] || t_why "the route table was replaced"
in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "a new CIDR block replaces the subnet, and its association with it"
sed -i 's|10.0.1.0/24|10.0.3.0/24|' "$W/main.stk"
in_w plan
t_expect_has out "# forces replacement"
in_w apply -auto-approve
t_expect_status 0
NEWA=$(awsx ec2 describe-subnets --filters "Name=tag:Name,Values=$N" Name=tag:Tier,Values=alpha \
	--query 'Subnets[0].[SubnetId,CidrBlock,MapPublicIpOnLaunch]' --output text)
case $NEWA in
"$SUBA"*) t_why "subnet a was not replaced" ;;
*"	10.0.3.0/24	True") ;;
*) t_why "the new subnet a is not as configured: $NEWA" ;;
esac
awsx ec2 describe-subnets --subnet-ids "$SUBA" >/dev/null 2>&1 && t_why "the old subnet $SUBA still exists"
SUBA=${NEWA%%	*}
[ -n "$(awsx ec2 describe-route-tables --route-table-ids "$RTB" \
	--query "RouteTables[0].Associations[?SubnetId=='$SUBA'].RouteTableAssociationId" --output text)" ] ||
	t_why "the new subnet is not associated with the route table"
in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "a route deleted outside stk is drift: planned back, and applied"
awsx ec2 delete-route --route-table-id "$RTB" --destination-cidr-block 192.168.0.0/16
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_has out "aws.route_table.public will be updated in place"
t_expect_has out "192.168.0.0/16"
in_w apply -auto-approve
t_expect_status 0
[ "$(awsx ec2 describe-route-tables --route-table-ids "$RTB" \
	--query "RouteTables[0].Routes[?DestinationCidrBlock=='192.168.0.0/16'].GatewayId" --output text)" = "$IGW" ] ||
	t_why "the route was not put back"
in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "an internet gateway detached outside stk is attached again"
awsx ec2 detach-internet-gateway --internet-gateway-id "$IGW" --vpc-id "$VPC"
in_w apply -auto-approve
t_expect_status 0
[ "$(by_name internet-gateways 'InternetGateways[0].Attachments[0].VpcId')" = "$VPC" ] ||
	t_why "the gateway was not attached again"
t_end

t_begin "a route removed from the configuration is deleted"
sed -i '/cidr_block = "192.168.0.0\/16"/,+1d' "$W/main.stk"
sed -i '/^  route {$/{N;/\n  }$/d}' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
[ -z "$(awsx ec2 describe-route-tables --route-table-ids "$RTB" \
	--query "RouteTables[0].Routes[?DestinationCidrBlock=='192.168.0.0/16'].GatewayId" --output text)" ] ||
	t_why "the 192.168.0.0/16 route is still there"
[ "$(awsx ec2 describe-route-tables --route-table-ids "$RTB" \
	--query "RouteTables[0].Routes[?DestinationCidrBlock=='0.0.0.0/0'].GatewayId" --output text)" = "$IGW" ] ||
	t_why "the 0.0.0.0/0 route went too"

in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "a new route_table_id moves the association in place"
cat >>"$W/main.stk" <<EOF2

resource aws.route_table private {
  vpc_id = aws.vpc.main.id
  tags   = { Name = "$N" }
}
EOF2
sed -i 's/route_table_id = aws.route_table.public.id/route_table_id = aws.route_table.private.id/' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "1 added, 1 changed, 0 destroyed"
RTB2=$(awsx ec2 describe-route-tables --filters "Name=tag:Name,Values=$N" Name=association.subnet-id,Values="$SUBA" \
	--query 'RouteTables[0].RouteTableId' --output text)
[ -n "$RTB2" ] && [ "$RTB2" != "$RTB" ] && [ "$RTB2" != None ] || t_why "subnet a is not associated with the new table"
[ -z "$(awsx ec2 describe-route-tables --route-table-ids "$RTB" --query 'RouteTables[0].Associations[]' \
	--output text)" ] || t_why "the old table still has an association"
in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "assign_generated_ipv6_cidr_block gives the VPC an Amazon IPv6 range in place, and gives it back"
sed -i '/resource aws.vpc main/,/^}/s|^  cidr_block = "10.0.0.0/16"$|&\n  assign_generated_ipv6_cidr_block = true|' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "aws.vpc.main: Modifications complete"
v6() {
	awsx ec2 describe-vpcs --vpc-ids "$VPC" --output text \
		--query "Vpcs[0].Ipv6CidrBlockAssociationSet[?Ipv6CidrBlockState.State=='associated'].Ipv6CidrBlock"
}
V6=$(v6)
case $V6 in *::/56) ;; *) t_why "the VPC has no associated IPv6 /56: '$V6'" ;; esac
in_w state show aws.vpc.main
t_expect_has out "$V6"
in_w plan -detailed-exitcode
t_expect_status 0
sed -i 's|^  assign_generated_ipv6_cidr_block = true$|  assign_generated_ipv6_cidr_block = false|' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
[ -z "$(v6)" ] || t_why "the IPv6 range is still associated: $(v6)"
in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "the stack's tags are default tags: on every resource with tags, under its own, changed and taken away"
SUBB=$(awsx ec2 describe-subnets --filters "Name=tag:Name,Values=$N" Name=tag:Tier,Values=b \
	--query 'Subnets[0].SubnetId' --output text)
TAGGED=$VPC,$IGW,$SUBA,$SUBB,$RTB,$RTB2
# tag_value ID KEY: the object's tag KEY, as AWS has it ("None" when there is none)
tag_value() {
	awsx ec2 describe-tags --filters Name=resource-id,Values="$1" Name=key,Values="$2" \
		--query 'Tags[0].Value' --output text
}
cat >>"$W/main.stk" <<EOF2

stack "net" {
  tags = { Team = "platform", Tier = "shared" }
}
EOF2
in_w apply -auto-approve
t_expect_status 0
# six objects take tags; the route table association has none
t_expect_has out "0 added, 6 changed, 0 destroyed"
[ "$(awsx ec2 describe-tags --filters Name=resource-id,Values="$TAGGED" Name=key,Values=Team \
	--query "length(Tags[?Value=='platform'])" --output text)" = 6 ] || t_why "not all six objects have Team=platform"
[ "$(tag_value "$VPC" Tier)" = shared ] || t_why "the VPC did not get the stack's Tier"
[ "$(tag_value "$SUBA" Tier)" = alpha ] || t_why "subnet a's own Tier did not win over the stack's"
[ "$(tag_value "$SUBA" Name)" = "$N" ] || t_why "subnet a lost its Name"
in_w plan -detailed-exitcode
t_expect_status 0
sed -i 's/Team = "platform"/Team = "web"/' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "0 added, 6 changed, 0 destroyed"
[ "$(tag_value "$RTB2" Team)" = web ] || t_why "the private route table's Team tag was not changed"
sed -i '/^stack "net" {$/,/^}$/d' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "0 added, 6 changed, 0 destroyed"
[ "$(awsx ec2 describe-tags --filters Name=resource-id,Values="$TAGGED" Name=key,Values=Team \
	--query 'length(Tags)' --output text)" = 0 ] || t_why "Team tags remain without the stack block"
[ "$(tag_value "$VPC" Tier)" = None ] || t_why "the VPC kept the stack's Tier"
[ "$(tag_value "$SUBA" Tier)" = alpha ] || t_why "subnet a lost its own Tier"
in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "destroy removes everything (awscli counts none)"
in_w destroy -auto-approve
t_expect_status 0
for k in "vpcs Vpcs" "internet-gateways InternetGateways" "subnets Subnets" "route-tables RouteTables"; do
	set -- $k
	[ "$(count "$1" "$2")" = 0 ] || t_why "$1 tagged $N remain"
done
[ "$(awsx ec2 describe-route-tables --filters "Name=route-table-id,Values=$RTB" \
	--query 'length(RouteTables)' --output text)" = 0 ] || t_why "the route table $RTB remains"
t_end

t_begin "import blocks adopt a VPC and a subnet made outside stk; the VPC's tags change in place"
# a directory of its own: in_w runs in $W, whose objects are all destroyed by now
W=$T_TMP/import
mkdir -p "$W"
IVPC=$(awsx ec2 create-vpc --cidr-block 10.9.0.0/16 \
	--tag-specifications "ResourceType=vpc,Tags=[{Key=Name,Value=$N-imp}]" --query Vpc.VpcId --output text)
ISUB=$(awsx ec2 create-subnet --vpc-id "$IVPC" --cidr-block 10.9.1.0/24 --availability-zone us-east-1a \
	--query Subnet.SubnetId --output text)
cat >"$W/main.stk" <<EOF
provider aws { region = "us-east-1" }

variable vpc_id {
  default = "$IVPC"
}

import {
  to = aws.vpc.main
  id = var.vpc_id
}

import {
  to = aws.subnet.a
  id = "$ISUB"
}

resource aws.vpc main {
  cidr_block = "10.9.0.0/16"
  tags       = { Name = "$N-imp", Team = "net" }
}

resource aws.subnet a {
  vpc_id            = aws.vpc.main.id
  cidr_block        = "10.9.1.0/24"
  availability_zone = "us-east-1a"
}
EOF
# read during the plan even without refreshing, as Terraform does
in_w plan -refresh=false -detailed-exitcode
t_expect_status 2
t_expect_has out "# aws.vpc.main will be updated in place"
t_expect_has out "# (imported from \"$IVPC\")"
t_expect_has out "Team = \"net\""
t_expect_has out "# aws.subnet.a will be imported"
t_expect_has out "Plan: 2 to import, 0 to add, 1 to change, 0 to destroy."
in_w plan -json
t_expect_status 0
t_expect_has out "\"id\": \"$IVPC\""
t_expect_has out "\"id\": \"$ISUB\""
t_expect_has out '"import": 2'
in_w plan -out saved.plan
t_expect_status 0
[ -s "$W/stk.state" ] && t_why "plan wrote a state"
in_w apply saved.plan
t_expect_status 0
t_expect_has out "aws.vpc.main: Import complete [id=$IVPC]"
t_expect_has out "Apply complete! Resources: 2 imported, 0 added, 1 changed, 0 destroyed."
[ "$(awsx ec2 describe-vpcs --filters "Name=cidr,Values=10.9.0.0/16" --query 'length(Vpcs)' --output text)" = 1 ] ||
	t_why "there is not exactly one VPC 10.9.0.0/16: the import made one more"
[ "$(awsx ec2 describe-tags --filters Name=resource-id,Values="$IVPC" Name=key,Values=Team \
	--query 'Tags[0].Value' --output text)" = net ] || t_why "the imported VPC did not get the Team tag"
[ "$(awsx ec2 describe-subnets --filters "Name=vpc-id,Values=$IVPC" --query 'length(Subnets)' --output text)" = 1 ] ||
	t_why "the imported VPC does not hold exactly one subnet"
in_w state list
t_expect_has out "aws.vpc.main"
t_expect_has out "aws.subnet.a"
in_w state show aws.subnet.a
t_expect_has out "$ISUB"
in_w plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
t_end

t_begin "an import block whose object does not exist is an error naming the ID"
cat >>"$W/main.stk" <<EOF

import {
  to = aws.vpc.other
  id = "vpc-0123456789abcdef0"
}

resource aws.vpc other {
  cidr_block = "10.8.0.0/16"
}
EOF
in_w plan
t_expect_status 1
t_expect_has err "vpc-0123456789abcdef0"
t_expect_has err "main.stk:"
in_w apply -auto-approve
t_expect_status 1
[ "$(awsx ec2 describe-vpcs --filters "Name=cidr,Values=10.8.0.0/16" --query 'length(Vpcs)' --output text)" = 0 ] ||
	t_why "a VPC 10.8.0.0/16 was made"
t_end

t_begin "imported objects are destroyed like any other"
in_w destroy -auto-approve
t_expect_status 0
awsx ec2 describe-vpcs --vpc-ids "$IVPC" >/dev/null 2>&1 && t_why "the imported VPC $IVPC still exists"
t_end

t_begin "an import block adopts a VPC into a module's resource, read through the provider the module gets"
# the module's aws is the caller's aws.west (us-west-2): read through the root's aws
# (us-east-1), the VPC would not be found
W=$T_TMP/modimport
mkdir -p "$W/net"
MVPC=$(awsx ec2 create-vpc --cidr-block 10.7.0.0/16 --region us-west-2 \
	--tag-specifications "ResourceType=vpc,Tags=[{Key=Name,Value=$N-mod}]" --query Vpc.VpcId --output text)
west_vpcs() {
	awsx ec2 describe-vpcs --region us-west-2 --filters "Name=cidr,Values=10.7.0.0/16" \
		--query 'length(Vpcs)' --output text
}
[ "$(west_vpcs)" = 1 ] || t_why "awscli did not make the VPC in us-west-2"
cat >"$W/main.stk" <<EOF
provider aws { region = "us-east-1" }

provider aws west { region = "us-west-2" }

module net {
  source    = "./net"
  providers = { aws = aws.west }
}

import {
  to = module.net.aws.vpc.main
  id = "$MVPC"
}
EOF
cat >"$W/net/main.stk" <<EOF
resource aws.vpc main {
  cidr_block = "10.7.0.0/16"
  tags       = { Name = "$N-mod", Team = "net" }
}
EOF
in_w plan -refresh=false -detailed-exitcode
t_expect_status 2
t_expect_has out "# module.net.aws.vpc.main will be updated in place"
t_expect_has out "# (imported from \"$MVPC\")"
t_expect_has out "Plan: 1 to import, 0 to add, 1 to change, 0 to destroy."
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "module.net.aws.vpc.main: Import complete [id=$MVPC]"
t_expect_has out "Apply complete! Resources: 1 imported, 0 added, 1 changed, 0 destroyed."
[ "$(west_vpcs)" = 1 ] || t_why "there is not exactly one VPC 10.7.0.0/16 in us-west-2: the import made one more"
[ "$(awsx ec2 describe-tags --region us-west-2 --filters Name=resource-id,Values="$MVPC" Name=key,Values=Team \
	--query 'Tags[0].Value' --output text)" = net ] || t_why "the imported VPC did not get the Team tag"
in_w state list
t_expect_has out "module.net.aws.vpc.main"
in_w plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
in_w destroy -auto-approve
t_expect_status 0
[ "$(west_vpcs)" = 0 ] || t_why "the imported VPC is still in us-west-2"
t_end

t_summary

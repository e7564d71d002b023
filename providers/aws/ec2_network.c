/* ec2_network.c: aws.internet_gateway, aws.subnet, aws.route_table and
 * aws.route_table_association through the EC2 query API. Each refresh is one Describe call
 * however many objects it covers: the ids go in one filter, and an id missing from the answer
 * is an object that is gone. */
#include <stdlib.h>
#include <string.h>

#include "providers/aws/aws.h"

#define EC2_VERSION "2016-11-15"

/* ---- shared helpers ---- */

/* The index of id in ids, or n. */
static size_t find_id(const char *const *ids, size_t n, const char *id)
{
	size_t k;

	for (k = 0; k < n && (!id || strcmp(ids[k], id)); k++)
		;
	return k;
}

static void put_arn(struct aws_obj *o, struct aws *a, const char *kind, const char *owner,
		    const char *id)
{
	char *arn = xasprintf("arn:aws:ec2:%s:%s:%s/%s", a->region, owner ? owner : "", kind, id);
	aws_obj_val(o, "arn", val_string_take(arn, strlen(arn)));
}


/* Describes the objects with the given ids in one call, filtered by filter. NULL after a
 * diagnostic; with no ids, an empty answer without a call. */
static xmlDoc *describe(struct aws *a, const char *action, const char *filter, const char *const *ids,
			size_t n, struct value **results, struct diag_ctx *diag)
{
	struct aws_params p;
	xmlDoc *doc;

	for (size_t i = 0; i < n; i++)
		results[i] = NULL;
	if (!n)
		return NULL;
	aws_params_init(&p);
	/* a filter, not the ids parameter: an unknown id is then no error, just not there */
	aws_ec2_filter(&p, 1, filter, ids, n);
	doc = aws_query(a, "ec2", EC2_VERSION, action, &p, diag, NULL);
	aws_params_release(&p);
	return doc;
}

/* ---- internet_gateway ---- */

static int read_igws(struct aws *a, const char *const *ids, size_t n, struct value **results,
		     struct diag_ctx *diag)
{
	xmlDoc *doc = describe(a, "DescribeInternetGateways", "internet-gateway-id", ids, n, results,
			       diag);

	if (!doc)
		return n ? -1 : 0;
	for (xmlNode *it = aws_xml_first_item(aws_xml_child(aws_xml_root(doc), "internetGatewaySet")); it;
	     it = aws_xml_next_item(it)) {
		const char *id = aws_xml_text(it, "internetGatewayId");
		size_t k = find_id(ids, n, id);
		if (k == n || results[k])
			continue;
		const char *owner = aws_xml_text(it, "ownerId");
		xmlNode *att = aws_xml_first_item(aws_xml_child(it, "attachmentSet"));
		struct aws_obj o;
		aws_obj_init(&o);
		aws_obj_str(&o, "id", id);
		put_arn(&o, a, "internet-gateway", owner, id);
		aws_obj_str(&o, "owner_id", owner);
		aws_obj_str(&o, "vpc_id", att ? aws_xml_text(att, "vpcId") : NULL);
		aws_obj_val(&o, "tags", aws_tags_value(aws_xml_child(it, "tagSet")));
		results[k] = aws_obj_done(&o);
	}
	xmlFreeDoc(doc);
	return 0;
}

static int igw_attach(struct aws *a, const char *action, const char *id, const char *vpc,
		      struct diag_ctx *diag, const char *addr)
{
	struct aws_params p;

	aws_params_init(&p);
	aws_param(&p, "InternetGatewayId", "%s", id);
	aws_param(&p, "VpcId", "%s", vpc);
	return aws_ec2_call(a, action, &p, diag, addr);
}

static int igw_create(struct aws *a, const struct provider_op *op, struct value **result,
		      struct diag_ctx *diag)
{
	struct aws_params p;
	xmlDoc *doc;
	const char *vpc = aws_str(op->planned, "vpc_id");
	char *id;
	int bad = 0;

	aws_params_init(&p);
	aws_tag_spec(&p, "internet-gateway", val_map_get(op->planned, "tags"), op->token);
	doc = aws_query(a, "ec2", EC2_VERSION, "CreateInternetGateway", &p, diag, op->addr);
	aws_params_release(&p);
	if (!doc)
		return -1;
	id = xstrdup(aws_xml_text(aws_xml_root(doc), "internetGateway/internetGatewayId") ?: "");
	xmlFreeDoc(doc);
	/* a failed attach still leaves a gateway the state must record, tainted */
	if (vpc)
		bad = igw_attach(a, "AttachInternetGateway", id, vpc, diag, op->addr);
	if (aws_read_one(read_igws, a, id, result, diag, op->addr))
		bad = -1;
	free(id);
	return bad ? -1 : 0;
}

static int igw_update(struct aws *a, const struct provider_op *op, struct value **result,
		      struct diag_ctx *diag)
{
	const char *id = aws_str(op->prior, "id");
	const char *before = aws_str(op->prior, "vpc_id"), *after = aws_str(op->planned, "vpc_id");
	int bad = 0;

	/* vpc_id is optional and computed: left out (unknown or null), the attachment stays */
	if (after && (!before || strcmp(before, after))) {
		if (before)
			bad |= igw_attach(a, "DetachInternetGateway", id, before, diag, op->addr);
		if (!bad)
			bad |= igw_attach(a, "AttachInternetGateway", id, after, diag, op->addr);
	}
	bad |= aws_ec2_update_tags(a, id, val_map_get(op->prior, "tags"), val_map_get(op->planned, "tags"), diag,
			   op->addr);
	if (aws_read_one(read_igws, a, id, result, diag, op->addr))
		return -1;
	return bad ? -1 : 0;
}

static int igw_remove(struct aws *a, const struct provider_op *op, struct diag_ctx *diag)
{
	const char *id = aws_str(op->prior, "id"), *vpc = aws_str(op->prior, "vpc_id");

	if (vpc && igw_attach(a, "DetachInternetGateway", id, vpc, diag, op->addr))
		return -1;
	return aws_ec2_call1(a, "DeleteInternetGateway", "InternetGatewayId", id, diag, op->addr);
}

static int igw_read(struct aws *a, struct provider_read *items, size_t n, struct diag_ctx *diag)
{
	return aws_read_ids(read_igws, a, items, n, diag);
}

const struct aws_resource aws_internet_gateway_resource = {
	.type = "internet_gateway",
	.create = igw_create,
	.update = igw_update,
	.remove = igw_remove,
	.read = igw_read,
};

/* ---- subnet ---- */

static int xml_true(xmlNode *from, const char *path)
{
	const char *v = aws_xml_text(from, path);
	return v && !strcmp(v, "true");
}

/* A subnet's attributes from its <item> in DescribeSubnets, or <subnet> in CreateSubnet's
 * answer, which has the same fields. */
static struct value *subnet_value(struct aws *a, xmlNode *it)
{
	const char *id = aws_xml_text(it, "subnetId");
	const char *owner = aws_xml_text(it, "ownerId"), *arn = aws_xml_text(it, "subnetArn");
	xmlNode *v6 = aws_ipv6_association(it);
	struct aws_obj o;

	aws_obj_init(&o);
	aws_obj_str(&o, "id", id);
	if (arn && *arn)
		aws_obj_str(&o, "arn", arn);
	else
		put_arn(&o, a, "subnet", owner, id);
	aws_obj_str(&o, "owner_id", owner);
	aws_obj_str(&o, "vpc_id", aws_xml_text(it, "vpcId"));
	aws_obj_str(&o, "cidr_block", aws_xml_text(it, "cidrBlock"));
	aws_obj_str(&o, "availability_zone", aws_xml_text(it, "availabilityZone"));
	aws_obj_str(&o, "availability_zone_id", aws_xml_text(it, "availabilityZoneId"));
	aws_obj_bool(&o, "map_public_ip_on_launch", xml_true(it, "mapPublicIpOnLaunch"));
	aws_obj_bool(&o, "assign_ipv6_address_on_creation", xml_true(it, "assignIpv6AddressOnCreation"));
	aws_obj_str(&o, "ipv6_cidr_block", v6 ? aws_xml_text(v6, "ipv6CidrBlock") : NULL);
	aws_obj_val(&o, "tags", aws_tags_value(aws_xml_child(it, "tagSet")));
	return aws_obj_done(&o);
}

static int read_subnets(struct aws *a, const char *const *ids, size_t n, struct value **results,
			struct diag_ctx *diag)
{
	xmlDoc *doc = describe(a, "DescribeSubnets", "subnet-id", ids, n, results, diag);

	if (!doc)
		return n ? -1 : 0;
	for (xmlNode *it = aws_xml_first_item(aws_xml_child(aws_xml_root(doc), "subnetSet")); it;
	     it = aws_xml_next_item(it)) {
		const char *id = aws_xml_text(it, "subnetId");
		size_t k = find_id(ids, n, id);
		if (k == n || results[k])
			continue;
		results[k] = subnet_value(a, it);
	}
	xmlFreeDoc(doc);
	return 0;
}

/* ModifySubnetAttribute takes one attribute a call. */
static int subnet_attr(struct aws *a, const char *id, const char *attr, int on, struct diag_ctx *diag,
		       const char *addr)
{
	struct aws_params p;
	char key[64];

	aws_params_init(&p);
	aws_param(&p, "SubnetId", "%s", id);
	snprintf(key, sizeof key, "%s.Value", attr);
	aws_param(&p, key, "%s", on ? "true" : "false");
	return aws_ec2_call(a, "ModifySubnetAttribute", &p, diag, addr);
}

static int subnet_create(struct aws *a, const struct provider_op *op, struct value **result,
			 struct diag_ctx *diag)
{
	struct aws_params p;
	xmlDoc *doc;
	char *id;
	int bad = 0;

	aws_params_init(&p);
	aws_param(&p, "VpcId", "%s", aws_str(op->planned, "vpc_id") ?: "");
	aws_param(&p, "CidrBlock", "%s", aws_str(op->planned, "cidr_block") ?: "");
	if (aws_str(op->planned, "availability_zone"))
		aws_param(&p, "AvailabilityZone", "%s", aws_str(op->planned, "availability_zone"));
	else if (aws_str(op->planned, "availability_zone_id"))
		aws_param(&p, "AvailabilityZoneId", "%s", aws_str(op->planned, "availability_zone_id"));
	if (aws_str(op->planned, "ipv6_cidr_block"))
		aws_param(&p, "Ipv6CidrBlock", "%s", aws_str(op->planned, "ipv6_cidr_block"));
	aws_tag_spec(&p, "subnet", val_map_get(op->planned, "tags"), op->token);
	doc = aws_query(a, "ec2", EC2_VERSION, "CreateSubnet", &p, diag, op->addr);
	aws_params_release(&p);
	if (!doc)
		return -1;
	xmlNode *sn = aws_xml_child(aws_xml_root(doc), "subnet");
	id = xstrdup(aws_xml_text(sn, "subnetId") ?: "");
	/* both are off in a new subnet; a failure leaves a subnet to record, tainted */
	int modified = aws_bool(op->planned, "map_public_ip_on_launch", 0) ||
		       aws_bool(op->planned, "assign_ipv6_address_on_creation", 0);
	if (aws_bool(op->planned, "map_public_ip_on_launch", 0))
		bad |= subnet_attr(a, id, "MapPublicIpOnLaunch", 1, diag, op->addr);
	if (aws_bool(op->planned, "assign_ipv6_address_on_creation", 0))
		bad |= subnet_attr(a, id, "AssignIpv6AddressOnCreation", 1, diag, op->addr);
	/* The answer to CreateSubnet is the new subnet, with every field a read gives: it is the
	 * state, with no DescribeSubnets, unless stk changed the subnet since, or it is not
	 * available yet (its state then is "pending"), or the answer lacks a field a read has
	 * (an endpoint that answers less than AWS would leave the state wrong until a refresh). */
	const char *st = aws_xml_text(sn, "state");
	const struct value *tags = val_map_get(op->planned, "tags");
	int whole = aws_xml_text(sn, "ownerId") && aws_xml_text(sn, "availabilityZoneId") &&
		    (!tags || tags->kind != VAL_MAP || !tags->u.map.n || aws_xml_child(sn, "tagSet"));
	if (!modified && st && !strcmp(st, "available") && whole)
		*result = subnet_value(a, sn);
	else if (aws_read_one(read_subnets, a, id, result, diag, op->addr))
		bad = -1;
	xmlFreeDoc(doc);
	free(id);
	return bad ? -1 : 0;
}

/* The association id of the subnet's IPv6 range: the state does not keep it. */
static char *subnet_ipv6_association(struct aws *a, const char *id, struct diag_ctx *diag,
				     const char *addr)
{
	struct aws_params p;
	xmlDoc *doc;
	char *assoc = NULL;

	aws_params_init(&p);
	aws_param(&p, "SubnetId.1", "%s", id);
	doc = aws_query(a, "ec2", EC2_VERSION, "DescribeSubnets", &p, diag, addr);
	aws_params_release(&p);
	if (!doc)
		return NULL;
	xmlNode *sn = aws_xml_first_item(aws_xml_child(aws_xml_root(doc), "subnetSet"));
	for (xmlNode *as = aws_xml_first_item(aws_xml_child(sn, "ipv6CidrBlockAssociationSet")); as && !assoc;
	     as = aws_xml_next_item(as)) {
		const char *st = aws_xml_text(as, "ipv6CidrBlockState/state");
		if (!st || !strcmp(st, "associated"))
			assoc = xstrdup(aws_xml_text(as, "associationId") ?: "");
	}
	xmlFreeDoc(doc);
	if (!assoc)
		diag_error(diag, NULL, "%s: subnet %s has no IPv6 range to replace", addr, id);
	return assoc;
}

static int subnet_ipv6(struct aws *a, const char *id, const char *before, const char *after,
		       struct diag_ctx *diag, const char *addr)
{
	struct aws_params p;

	if (before) {
		char *assoc = subnet_ipv6_association(a, id, diag, addr);
		if (!assoc || aws_ec2_call1(a, "DisassociateSubnetCidrBlock", "AssociationId", assoc, diag, addr)) {
			free(assoc);
			return -1;
		}
		free(assoc);
	}
	if (!after)
		return 0;
	aws_params_init(&p);
	aws_param(&p, "SubnetId", "%s", id);
	aws_param(&p, "Ipv6CidrBlock", "%s", after);
	return aws_ec2_call(a, "AssociateSubnetCidrBlock", &p, diag, addr);
}

static int subnet_update(struct aws *a, const struct provider_op *op, struct value **result,
			 struct diag_ctx *diag)
{
	const char *id = aws_str(op->prior, "id");
	const struct value *v6 = val_map_get(op->planned, "ipv6_cidr_block");
	const char *v6_before = aws_str(op->prior, "ipv6_cidr_block");
	const char *v6_after = aws_str(op->planned, "ipv6_cidr_block");
	int bad = 0;

	/* the range goes before the flag that needs it goes, and comes before it is set */
	if (aws_bool(op->prior, "assign_ipv6_address_on_creation", 0) &&
	    !aws_bool(op->planned, "assign_ipv6_address_on_creation", 0))
		bad |= subnet_attr(a, id, "AssignIpv6AddressOnCreation", 0, diag, op->addr);
	/* optional and computed: an unknown range is one left out, which keeps the subnet's */
	if (v6 && !(v6->marks & VAL_UNKNOWN) &&
	    (!v6_before != !v6_after || (v6_before && strcmp(v6_before, v6_after))))
		bad |= subnet_ipv6(a, id, v6_before, v6_after, diag, op->addr);
	if (!aws_bool(op->prior, "assign_ipv6_address_on_creation", 0) &&
	    aws_bool(op->planned, "assign_ipv6_address_on_creation", 0))
		bad |= subnet_attr(a, id, "AssignIpv6AddressOnCreation", 1, diag, op->addr);
	if (aws_bool(op->prior, "map_public_ip_on_launch", 0) != aws_bool(op->planned, "map_public_ip_on_launch", 0))
		bad |= subnet_attr(a, id, "MapPublicIpOnLaunch", aws_bool(op->planned, "map_public_ip_on_launch", 0),
				   diag, op->addr);
	bad |= aws_ec2_update_tags(a, id, val_map_get(op->prior, "tags"), val_map_get(op->planned, "tags"), diag,
			   op->addr);
	if (aws_read_one(read_subnets, a, id, result, diag, op->addr))
		return -1;
	return bad ? -1 : 0;
}

static int subnet_remove(struct aws *a, const struct provider_op *op, struct diag_ctx *diag)
{
	return aws_ec2_call1(a, "DeleteSubnet", "SubnetId", aws_str(op->prior, "id"), diag, op->addr);
}

static int subnet_read(struct aws *a, struct provider_read *items, size_t n, struct diag_ctx *diag)
{
	return aws_read_ids(read_subnets, a, items, n, diag);
}

const struct aws_resource aws_subnet_resource = {
	.type = "subnet",
	.create = subnet_create,
	.update = subnet_update,
	.remove = subnet_remove,
	.read = subnet_read,
};

/* ---- route_table ---- */

/* A route's attributes, the CreateRoute parameters that set them and the routeSet elements
 * that report them. The first three are destinations, the rest targets. */
static const struct route_field {
	const char *attr, *param, *xml;
} route_fields[] = {
	{ "cidr_block", "DestinationCidrBlock", "destinationCidrBlock" },
	{ "ipv6_cidr_block", "DestinationIpv6CidrBlock", "destinationIpv6CidrBlock" },
	{ "destination_prefix_list_id", "DestinationPrefixListId", "destinationPrefixListId" },
	{ "gateway_id", "GatewayId", "gatewayId" },
	{ "nat_gateway_id", "NatGatewayId", "natGatewayId" },
	{ "network_interface_id", "NetworkInterfaceId", "networkInterfaceId" },
	{ "vpc_peering_connection_id", "VpcPeeringConnectionId", "vpcPeeringConnectionId" },
	{ "transit_gateway_id", "TransitGatewayId", "transitGatewayId" },
	/* EC2 reports a VPC endpoint target as gatewayId; the reader sorts it out */
	{ "vpc_endpoint_id", "VpcEndpointId", NULL },
	{ "egress_only_gateway_id", "EgressOnlyInternetGatewayId", "egressOnlyInternetGatewayId" },
	{ "carrier_gateway_id", "CarrierGatewayId", "carrierGatewayId" },
	{ "local_gateway_id", "LocalGatewayId", "localGatewayId" },
	{ "core_network_arn", "CoreNetworkArn", "coreNetworkArn" },
};

#define ROUTE_DESTINATIONS 3
#define ROUTE_FIELDS (sizeof route_fields / sizeof route_fields[0])

static struct value *route_value(xmlNode *it)
{
	const char *gw = aws_xml_text(it, "gatewayId");
	int vpce = gw && !strncmp(gw, "vpce-", 5);
	struct aws_obj o;

	aws_obj_init(&o);
	for (size_t i = 0; i < ROUTE_FIELDS; i++) {
		const struct route_field *f = &route_fields[i];
		const char *v = f->xml ? aws_xml_text(it, f->xml) : vpce ? gw : NULL;
		if (f->xml && vpce && !strcmp(f->xml, "gatewayId"))
			v = NULL;
		/* an empty element is as good as none */
		aws_obj_str(&o, f->attr, v && *v ? v : NULL);
	}
	return aws_obj_done(&o);
}

static int read_route_tables(struct aws *a, const char *const *ids, size_t n, struct value **results,
			     struct diag_ctx *diag)
{
	xmlDoc *doc = describe(a, "DescribeRouteTables", "route-table-id", ids, n, results, diag);

	if (!doc)
		return n ? -1 : 0;
	for (xmlNode *it = aws_xml_first_item(aws_xml_child(aws_xml_root(doc), "routeTableSet")); it;
	     it = aws_xml_next_item(it)) {
		const char *id = aws_xml_text(it, "routeTableId");
		size_t k = find_id(ids, n, id);
		if (k == n || results[k])
			continue;
		const char *owner = aws_xml_text(it, "ownerId");
		struct buf routes = BUF_INIT, vgws = BUF_INIT;
		for (xmlNode *r = aws_xml_first_item(aws_xml_child(it, "routeSet")); r; r = aws_xml_next_item(r)) {
			const char *origin = aws_xml_text(r, "origin"), *gw = aws_xml_text(r, "gatewayId");
			/* as Terraform: the local route and those propagated or made with the table
			 * are not the configuration's */
			if ((gw && !strcmp(gw, "local")) || (origin && strcmp(origin, "CreateRoute")))
				continue;
			struct value *rv = route_value(r);
			buf_push(&routes, struct value *, rv);
		}
		for (xmlNode *g = aws_xml_first_item(aws_xml_child(it, "propagatingVgwSet")); g; g = aws_xml_next_item(g)) {
			const char *gid = aws_xml_text(g, "gatewayId");
			if (gid)
				buf_push(&vgws, struct value *, val_cstring(gid));
		}
		struct aws_obj o;
		aws_obj_init(&o);
		aws_obj_str(&o, "id", id);
		put_arn(&o, a, "route-table", owner, id);
		aws_obj_str(&o, "owner_id", owner);
		aws_obj_str(&o, "vpc_id", aws_xml_text(it, "vpcId"));
		aws_obj_val(&o, "route", val_set_take((struct value **)(void *)routes.data,
						      buf_count(&routes, struct value *)));
		aws_obj_val(&o, "propagating_vgws", val_set_take((struct value **)(void *)vgws.data,
								 buf_count(&vgws, struct value *)));
		aws_obj_val(&o, "tags", aws_tags_value(aws_xml_child(it, "tagSet")));
		results[k] = aws_obj_done(&o);
		buf_release(&routes);
		buf_release(&vgws);
	}
	xmlFreeDoc(doc);
	return 0;
}

/* The route's one destination: its field's index, and the value. -1 after a diagnostic when
 * there is not exactly one, or not exactly one target. */
static int route_destination(const struct value *route, const char **dest, struct diag_ctx *diag,
			     const char *addr)
{
	int found = -1, ndest = 0, ntarget = 0;

	for (size_t i = 0; i < ROUTE_FIELDS; i++) {
		const char *v = aws_str(route, route_fields[i].attr);
		if (!v || !*v)
			continue;
		if (i < ROUTE_DESTINATIONS) {
			ndest++;
			found = (int)i;
			*dest = v;
		} else {
			ntarget++;
		}
	}
	if (ndest != 1 || ntarget != 1) {
		diag_error(diag, NULL, "%s: a route needs exactly one destination (cidr_block, ipv6_cidr_block "
			   "or destination_prefix_list_id) and exactly one target", addr);
		return -1;
	}
	return found;
}

/* The route in set with the given destination, or NULL. */
static const struct value *route_find(const struct value *set, int field, const char *dest)
{
	for (size_t i = 0; set && set->kind == VAL_SET && i < set->u.list.n; i++) {
		const char *v = aws_str(set->u.list.items[i], route_fields[field].attr);
		if (v && !strcmp(v, dest))
			return set->u.list.items[i];
	}
	return NULL;
}

/* CreateRoute or ReplaceRoute: the destination and the target, as planned. */
static int route_put(struct aws *a, const char *action, const char *table, const struct value *route,
		     struct diag_ctx *diag, const char *addr)
{
	struct aws_params p;

	aws_params_init(&p);
	aws_param(&p, "RouteTableId", "%s", table);
	for (size_t i = 0; i < ROUTE_FIELDS; i++) {
		const char *v = aws_str(route, route_fields[i].attr);
		if (v && *v)
			aws_param(&p, route_fields[i].param, "%s", v);
	}
	return aws_ec2_call(a, action, &p, diag, addr);
}

/* Brings the table's routes from before (the state's) to after (the plan's): routes are
 * known by their destination, so a new target is a ReplaceRoute. */
static int routes_apply(struct aws *a, const char *table, const struct value *before,
			const struct value *after, struct diag_ctx *diag, const char *addr)
{
	const char *dest;
	int bad = 0;

	if (!after || after->kind != VAL_SET || (after->marks & VAL_UNKNOWN))
		return 0;
	for (size_t i = 0; before && before->kind == VAL_SET && i < before->u.list.n; i++) {
		const struct value *r = before->u.list.items[i];
		dest = NULL;
		for (int f = 0; f < ROUTE_DESTINATIONS && !dest; f++)
			if ((dest = aws_str(r, route_fields[f].attr)) && *dest && !route_find(after, f, dest)) {
				struct aws_params p;
				aws_params_init(&p);
				aws_param(&p, "RouteTableId", "%s", table);
				aws_param(&p, route_fields[f].param, "%s", dest);
				bad |= aws_ec2_call(a, "DeleteRoute", &p, diag, addr);
			}
	}
	for (size_t i = 0; i < after->u.list.n; i++) {
		const struct value *r = after->u.list.items[i], *old;
		int f = route_destination(r, &dest, diag, addr);
		if (f < 0) {
			bad = -1;
			continue;
		}
		old = route_find(before, f, dest);
		if (!old)
			bad |= route_put(a, "CreateRoute", table, r, diag, addr);
		else if (!val_equal(old, r))
			bad |= route_put(a, "ReplaceRoute", table, r, diag, addr);
	}
	return bad;
}

static int vgw_propagation(struct aws *a, const char *action, const char *table, const char *vgw,
			   struct diag_ctx *diag, const char *addr)
{
	struct aws_params p;

	aws_params_init(&p);
	aws_param(&p, "RouteTableId", "%s", table);
	aws_param(&p, "GatewayId", "%s", vgw);
	return aws_ec2_call(a, action, &p, diag, addr);
}

static int set_has(const struct value *set, const struct value *v)
{
	for (size_t i = 0; set && set->kind == VAL_SET && i < set->u.list.n; i++)
		if (val_equal(set->u.list.items[i], v))
			return 1;
	return 0;
}

static int vgws_apply(struct aws *a, const char *table, const struct value *before,
		      const struct value *after, struct diag_ctx *diag, const char *addr)
{
	int bad = 0;

	/* optional and computed: left out, the table keeps what it has */
	if (!after || after->kind != VAL_SET || (after->marks & VAL_UNKNOWN))
		return 0;
	for (size_t i = 0; before && before->kind == VAL_SET && i < before->u.list.n; i++)
		if (!set_has(after, before->u.list.items[i]))
			bad |= vgw_propagation(a, "DisableVgwRoutePropagation", table,
					       before->u.list.items[i]->u.str.s, diag, addr);
	for (size_t i = 0; i < after->u.list.n; i++)
		if (after->u.list.items[i]->kind == VAL_STRING && !set_has(before, after->u.list.items[i]))
			bad |= vgw_propagation(a, "EnableVgwRoutePropagation", table,
					       after->u.list.items[i]->u.str.s, diag, addr);
	return bad;
}

static int rt_create(struct aws *a, const struct provider_op *op, struct value **result,
		     struct diag_ctx *diag)
{
	struct aws_params p;
	xmlDoc *doc;
	char *id;
	int bad = 0;

	aws_params_init(&p);
	aws_param(&p, "VpcId", "%s", aws_str(op->planned, "vpc_id") ?: "");
	aws_tag_spec(&p, "route-table", val_map_get(op->planned, "tags"), op->token);
	doc = aws_query(a, "ec2", EC2_VERSION, "CreateRouteTable", &p, diag, op->addr);
	aws_params_release(&p);
	if (!doc)
		return -1;
	id = xstrdup(aws_xml_text(aws_xml_root(doc), "routeTable/routeTableId") ?: "");
	xmlFreeDoc(doc);
	bad |= vgws_apply(a, id, NULL, val_map_get(op->planned, "propagating_vgws"), diag, op->addr);
	bad |= routes_apply(a, id, NULL, val_map_get(op->planned, "route"), diag, op->addr);
	if (aws_read_one(read_route_tables, a, id, result, diag, op->addr))
		bad = -1;
	free(id);
	return bad ? -1 : 0;
}

static int rt_update(struct aws *a, const struct provider_op *op, struct value **result,
		     struct diag_ctx *diag)
{
	const char *id = aws_str(op->prior, "id");
	int bad = 0;

	bad |= vgws_apply(a, id, val_map_get(op->prior, "propagating_vgws"),
			  val_map_get(op->planned, "propagating_vgws"), diag, op->addr);
	bad |= routes_apply(a, id, val_map_get(op->prior, "route"), val_map_get(op->planned, "route"), diag,
			    op->addr);
	bad |= aws_ec2_update_tags(a, id, val_map_get(op->prior, "tags"), val_map_get(op->planned, "tags"), diag,
			   op->addr);
	if (aws_read_one(read_route_tables, a, id, result, diag, op->addr))
		return -1;
	return bad ? -1 : 0;
}

static int rt_remove(struct aws *a, const struct provider_op *op, struct diag_ctx *diag)
{
	return aws_ec2_call1(a, "DeleteRouteTable", "RouteTableId", aws_str(op->prior, "id"), diag, op->addr);
}

static int rt_read(struct aws *a, struct provider_read *items, size_t n, struct diag_ctx *diag)
{
	return aws_read_ids(read_route_tables, a, items, n, diag);
}

const struct aws_resource aws_route_table_resource = {
	.type = "route_table",
	.create = rt_create,
	.update = rt_update,
	.remove = rt_remove,
	.read = rt_read,
};

/* ---- route_table_association ---- */

static int read_associations(struct aws *a, const char *const *ids, size_t n, struct value **results,
			     struct diag_ctx *diag)
{
	xmlDoc *doc = describe(a, "DescribeRouteTables", "association.route-table-association-id", ids, n,
			       results, diag);

	if (!doc)
		return n ? -1 : 0;
	for (xmlNode *it = aws_xml_first_item(aws_xml_child(aws_xml_root(doc), "routeTableSet")); it;
	     it = aws_xml_next_item(it)) {
		for (xmlNode *as = aws_xml_first_item(aws_xml_child(it, "associationSet")); as;
		     as = aws_xml_next_item(as)) {
			const char *id = aws_xml_text(as, "routeTableAssociationId");
			const char *st = aws_xml_text(as, "associationState/state");
			size_t k = find_id(ids, n, id);
			/* a disassociated one may linger in the answer for a while */
			if (k == n || results[k] || (st && (!strcmp(st, "disassociated") || !strcmp(st, "failed"))))
				continue;
			const char *subnet = aws_xml_text(as, "subnetId"), *gw = aws_xml_text(as, "gatewayId");
			struct aws_obj o;
			aws_obj_init(&o);
			aws_obj_str(&o, "id", id);
			aws_obj_str(&o, "subnet_id", subnet && *subnet ? subnet : NULL);
			aws_obj_str(&o, "gateway_id", gw && *gw ? gw : NULL);
			aws_obj_str(&o, "route_table_id", aws_xml_text(as, "routeTableId") ?: aws_xml_text(it, "routeTableId"));
			results[k] = aws_obj_done(&o);
		}
	}
	xmlFreeDoc(doc);
	return 0;
}

static int rta_create(struct aws *a, const struct provider_op *op, struct value **result,
		      struct diag_ctx *diag)
{
	const char *subnet = aws_str(op->planned, "subnet_id"), *gw = aws_str(op->planned, "gateway_id");
	struct aws_params p;
	xmlDoc *doc;
	char *id;
	int ret;

	if (!subnet == !gw) {
		diag_error(diag, NULL, "%s: exactly one of subnet_id and gateway_id must be set", op->addr);
		return -1;
	}
	aws_params_init(&p);
	aws_param(&p, "RouteTableId", "%s", aws_str(op->planned, "route_table_id") ?: "");
	if (subnet)
		aws_param(&p, "SubnetId", "%s", subnet);
	else
		aws_param(&p, "GatewayId", "%s", gw);
	doc = aws_query(a, "ec2", EC2_VERSION, "AssociateRouteTable", &p, diag, op->addr);
	aws_params_release(&p);
	if (!doc)
		return -1;
	id = xstrdup(aws_xml_text(aws_xml_root(doc), "associationId") ?: "");
	xmlFreeDoc(doc);
	ret = aws_read_one(read_associations, a, id, result, diag, op->addr);
	free(id);
	return ret;
}

static int rta_update(struct aws *a, const struct provider_op *op, struct value **result,
		      struct diag_ctx *diag)
{
	struct aws_params p;
	xmlDoc *doc;
	char *id;
	int ret;

	/* only route_table_id changes in place; the association gets a new id */
	aws_params_init(&p);
	aws_param(&p, "AssociationId", "%s", aws_str(op->prior, "id") ?: "");
	aws_param(&p, "RouteTableId", "%s", aws_str(op->planned, "route_table_id") ?: "");
	doc = aws_query(a, "ec2", EC2_VERSION, "ReplaceRouteTableAssociation", &p, diag, op->addr);
	aws_params_release(&p);
	if (!doc)
		return -1;
	id = xstrdup(aws_xml_text(aws_xml_root(doc), "newAssociationId") ?: "");
	xmlFreeDoc(doc);
	ret = aws_read_one(read_associations, a, id, result, diag, op->addr);
	free(id);
	return ret;
}

static int rta_remove(struct aws *a, const struct provider_op *op, struct diag_ctx *diag)
{
	return aws_ec2_call1(a, "DisassociateRouteTable", "AssociationId", aws_str(op->prior, "id"), diag, op->addr);
}

static int rta_read(struct aws *a, struct provider_read *items, size_t n, struct diag_ctx *diag)
{
	return aws_read_ids(read_associations, a, items, n, diag);
}

/* An association carries no tags: the one of planned's subnet (or gateway) with its route
 * table is the one the create made, as AWS allows only one per subnet. */
static int rta_find(struct aws *a, const char *token, const struct value *planned, struct value **result,
		    struct diag_ctx *diag)
{
	const char *subnet = aws_str(planned, "subnet_id"), *gw = aws_str(planned, "gateway_id");
	const char *rt = aws_str(planned, "route_table_id");
	struct aws_params p;
	xmlDoc *doc;
	char *id = NULL;
	int ret = 0;

	(void)token;
	*result = NULL;
	if (!rt || !subnet == !gw)
		return 0;
	aws_params_init(&p);
	aws_param(&p, "Filter.1.Name", "route-table-id");
	aws_param(&p, "Filter.1.Value.1", "%s", rt);
	doc = aws_query(a, "ec2", EC2_VERSION, "DescribeRouteTables", &p, diag, NULL);
	aws_params_release(&p);
	if (!doc)
		return -1;
	for (xmlNode *it = aws_xml_first_item(aws_xml_child(aws_xml_root(doc), "routeTableSet")); it && !id;
	     it = aws_xml_next_item(it))
		for (xmlNode *as = aws_xml_first_item(aws_xml_child(it, "associationSet")); as && !id;
		     as = aws_xml_next_item(as)) {
			const char *st = aws_xml_text(as, "associationState/state");
			const char *s = aws_xml_text(as, subnet ? "subnetId" : "gatewayId");
			if (s && !strcmp(s, subnet ? subnet : gw) &&
			    !(st && (!strcmp(st, "disassociated") || !strcmp(st, "failed"))))
				id = xstrdup(aws_xml_text(as, "routeTableAssociationId") ?: "");
		}
	xmlFreeDoc(doc);
	if (id && *id)
		ret = aws_read_one(read_associations, a, id, result, diag, "route_table_association");
	free(id);
	return ret;
}

const struct aws_resource aws_route_table_association_resource = {
	.type = "route_table_association",
	.create = rta_create,
	.update = rta_update,
	.remove = rta_remove,
	.read = rta_read,
	.find = rta_find,
};

/* ec2_vpc.c: aws.vpc through the EC2 query API. A refresh of any number of VPCs costs a fixed
 * number of calls: one DescribeVpcs for all of them, one each for their default security
 * groups, route tables and network ACLs, and the two DNS attributes per VPC (EC2 has no
 * batch call for those); they are made side by side (read_vpcs). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/pieces.h"
#include "providers/aws/aws.h"

#define EC2_VERSION "2016-11-15"

/* vpc id -> the id found at path in the items of set, for a describe call filtered by vpc-id. */
static struct value *by_vpc(struct aws *a, const char *action, const char *set, const char *id_path,
			    const char *const *ids, size_t n, const char *extra_filter,
			    const char *extra_value, struct diag_ctx *diag)
{
	struct aws_params p;
	struct aws_obj o;
	xmlDoc *doc;

	aws_params_init(&p);
	aws_ec2_filter(&p, 1, "vpc-id", ids, n);
	if (extra_filter) {
		aws_param(&p, "Filter.2.Name", "%s", extra_filter);
		aws_param(&p, "Filter.2.Value.1", "%s", extra_value);
	}
	doc = aws_query(a, "ec2", EC2_VERSION, action, &p, diag, NULL);
	aws_params_release(&p);
	if (!doc)
		return NULL;
	aws_obj_init(&o);
	for (xmlNode *it = aws_xml_first_item(aws_xml_child(aws_xml_root(doc), set)); it;
	     it = aws_xml_next_item(it)) {
		const char *vpc = aws_xml_text(it, "vpcId"), *id = aws_xml_text(it, id_path);
		if (vpc && id)
			aws_obj_str(&o, vpc, id);
	}
	xmlFreeDoc(doc);
	return aws_obj_done(&o);
}

static int vpc_attribute(struct aws *a, const char *id, const char *attr, const char *elem, int *out,
			 struct diag_ctx *diag)
{
	struct aws_params p;
	xmlDoc *doc;

	aws_params_init(&p);
	aws_param(&p, "VpcId", "%s", id);
	aws_param(&p, "Attribute", "%s", attr);
	doc = aws_query(a, "ec2", EC2_VERSION, "DescribeVpcAttribute", &p, diag, NULL);
	aws_params_release(&p);
	if (!doc)
		return -1;
	const char *v = aws_xml_text(aws_xml_root(doc), elem);
	*out = v && !strcmp(v, "true");
	xmlFreeDoc(doc);
	return 0;
}

/*
 * The calls of a read, side by side: none needs another's answer (the ids are known), so a
 * VPC's read costs one round trip, not six, and its dependents start that much sooner. Each
 * runs on a thread of its own with diagnostics of its own, added to the caller's in order
 * once all are done. The client is shared, as apply's workers share it.
 */
enum vpc_call { VPC_DESCRIBE, VPC_SGS, VPC_RTS, VPC_ACLS, VPC_DNS_SUPPORT, VPC_DNS_HOSTNAMES, VPC_CALLS };

struct vpc_read {
	struct aws *a;
	const char *const *ids;
	size_t n;
	enum vpc_call call;
	xmlDoc *doc;              /* VPC_DESCRIBE */
	struct value *found;      /* VPC_SGS, _RTS, _ACLS: vpc id -> id */
	int *flags;               /* VPC_DNS_*: one per id, -1 when its call failed */
	struct diag_ctx *id_diags;/* VPC_DNS_*: one per id, told only for VPCs that exist */
	struct diag_ctx diag;
};

/* A VPC's default security group, main route table and default network ACL: by_vpc's call,
 * the set and id it reads, and the filter that picks the default one. */
static const struct vpc_default {
	const char *action, *set, *id_path, *filter, *value;
} vpc_defaults[VPC_CALLS] = {
	[VPC_SGS] = { "DescribeSecurityGroups", "securityGroupInfo", "groupId", "group-name", "default" },
	[VPC_RTS] = { "DescribeRouteTables", "routeTableSet", "routeTableId", "association.main", "true" },
	[VPC_ACLS] = { "DescribeNetworkAcls", "networkAclSet", "networkAclId", "default", "true" },
};

static void *vpc_read_run(void *arg)
{
	struct vpc_read *r = arg;
	struct aws_params p;

	switch (r->call) {
	case VPC_DESCRIBE:
		aws_params_init(&p);
		/* a filter, not VpcId.N: an unknown id is then no error, just not in the answer */
		aws_ec2_filter(&p, 1, "vpc-id", r->ids, r->n);
		r->doc = aws_query(r->a, "ec2", EC2_VERSION, "DescribeVpcs", &p, &r->diag, NULL);
		aws_params_release(&p);
		break;
	case VPC_SGS:
	case VPC_RTS:
	case VPC_ACLS: {
		const struct vpc_default *q = &vpc_defaults[r->call];
		r->found = by_vpc(r->a, q->action, q->set, q->id_path, r->ids, r->n, q->filter, q->value,
				  &r->diag);
		break;
	}
	case VPC_DNS_SUPPORT:
	case VPC_DNS_HOSTNAMES: {
		int support = r->call == VPC_DNS_SUPPORT;
		/* asked before DescribeVpcs answers, so also for a VPC that is gone: its error is
		 * kept apart, and dropped when DescribeVpcs does not list it */
		for (size_t i = 0; i < r->n; i++)
			if (vpc_attribute(r->a, r->ids[i], support ? "enableDnsSupport" : "enableDnsHostnames",
					  support ? "enableDnsSupport/value" : "enableDnsHostnames/value",
					  &r->flags[i], &r->id_diags[i]))
				r->flags[i] = -1;
		break;
	}
	default:
		break;
	}
	return NULL;
}

/* Reads VPCs by id; results[i] is NULL for one that is gone. */
static int read_vpcs(struct aws *a, const char *const *ids, size_t n, struct value **results,
		     struct diag_ctx *diag)
{
	struct vpc_read calls[VPC_CALLS];
	int *support = NULL, *hostnames = NULL;
	struct diag_ctx *support_diags = NULL, *hostnames_diags = NULL;
	xmlDoc *doc = NULL;
	struct value *sgs = NULL, *rts = NULL, *acls = NULL;
	int ret = -1;

	for (size_t i = 0; i < n; i++)
		results[i] = NULL;
	if (!n)
		return 0;
	support = xcalloc(n, sizeof *support);
	hostnames = xcalloc(n, sizeof *hostnames);
	support_diags = xcalloc(n, sizeof *support_diags);
	hostnames_diags = xcalloc(n, sizeof *hostnames_diags);
	for (size_t i = 0; i < n; i++) {
		diag_init(&support_diags[i]);
		diag_init(&hostnames_diags[i]);
	}
	for (int c = 0; c < VPC_CALLS; c++) {
		memset(&calls[c], 0, sizeof calls[c]);
		calls[c].a = a;
		calls[c].ids = ids;
		calls[c].n = n;
		calls[c].call = (enum vpc_call)c;
		calls[c].flags = c == VPC_DNS_SUPPORT ? support : hostnames;
		calls[c].id_diags = c == VPC_DNS_SUPPORT ? support_diags : hostnames_diags;
		diag_init(&calls[c].diag);
	}
	/* calls that wait on the network: a thread each, not the pool's */
	pieces_run(vpc_read_run, calls, sizeof *calls, VPC_CALLS, aws_side_by_side ? PIECES_APART : 0);
	for (int c = 0; c < VPC_CALLS; c++)
		diag_append(diag, &calls[c].diag);
	doc = calls[VPC_DESCRIBE].doc;
	sgs = calls[VPC_SGS].found;
	rts = calls[VPC_RTS].found;
	acls = calls[VPC_ACLS].found;
	if (!doc || !sgs || !rts || !acls)
		goto out;
	for (xmlNode *it = aws_xml_first_item(aws_xml_child(aws_xml_root(doc), "vpcSet")); it;
	     it = aws_xml_next_item(it)) {
		const char *id = aws_xml_text(it, "vpcId");
		size_t k;
		for (k = 0; k < n && (!id || strcmp(ids[k], id)); k++)
			;
		if (k == n)
			continue;
		if (support[k] < 0 || hostnames[k] < 0) {
			diag_append(diag, &support_diags[k]);
			diag_append(diag, &hostnames_diags[k]);
			goto out;
		}
		int dns_support = support[k], dns_hostnames = hostnames[k];
		const char *owner = aws_xml_text(it, "ownerId");
		const struct value *sg = val_map_get(sgs, id), *rt = val_map_get(rts, id), *acl = val_map_get(acls, id);
		struct aws_obj o;
		aws_obj_init(&o);
		aws_obj_str(&o, "id", id);
		char *arn = xasprintf("arn:aws:ec2:%s:%s:vpc/%s", a->region, owner ? owner : "", id);
		aws_obj_val(&o, "arn", val_string_take(arn, strlen(arn)));
		aws_obj_str(&o, "cidr_block", aws_xml_text(it, "cidrBlock"));
		aws_obj_str(&o, "instance_tenancy", aws_xml_text(it, "instanceTenancy"));
		aws_obj_bool(&o, "enable_dns_support", dns_support);
		aws_obj_bool(&o, "enable_dns_hostnames", dns_hostnames);
		aws_obj_bool(&o, "enable_network_address_usage_metrics", 0);
		/* generated when the range comes from Amazon's pool, as Terraform reads it */
		xmlNode *v6 = aws_ipv6_association(it);
		const char *pool = v6 ? aws_xml_text(v6, "ipv6Pool") : NULL;
		aws_obj_bool(&o, "assign_generated_ipv6_cidr_block", v6 && (!pool || !strcmp(pool, "Amazon")));
		aws_obj_str(&o, "ipv6_cidr_block", v6 ? aws_xml_text(v6, "ipv6CidrBlock") : NULL);
		aws_obj_str(&o, "ipv6_association_id", v6 ? aws_xml_text(v6, "associationId") : NULL);
		aws_obj_str(&o, "default_security_group_id", sg ? sg->u.str.s : NULL);
		aws_obj_str(&o, "default_route_table_id", rt ? rt->u.str.s : NULL);
		aws_obj_str(&o, "main_route_table_id", rt ? rt->u.str.s : NULL);
		aws_obj_str(&o, "default_network_acl_id", acl ? acl->u.str.s : NULL);
		aws_obj_str(&o, "dhcp_options_id", aws_xml_text(it, "dhcpOptionsId"));
		aws_obj_str(&o, "owner_id", owner);
		aws_obj_val(&o, "tags", aws_tags_value(aws_xml_child(it, "tagSet")));
		results[k] = aws_obj_done(&o);
	}
	ret = 0;
out:
	if (ret)
		for (size_t i = 0; i < n; i++) {
			val_unref(results[i]);
			results[i] = NULL;
		}
	for (int c = 0; c < VPC_CALLS; c++)
		diag_release(&calls[c].diag);
	for (size_t i = 0; i < n; i++) {
		diag_release(&support_diags[i]);
		diag_release(&hostnames_diags[i]);
	}
	free(support_diags);
	free(hostnames_diags);
	free(support);
	free(hostnames);
	val_unref(sgs);
	val_unref(rts);
	val_unref(acls);
	xmlFreeDoc(doc);
	return ret;
}

static int modify_dns(struct aws *a, const char *id, const char *attr, int on, struct diag_ctx *diag,
		      const char *addr)
{
	struct aws_params p;
	char key[64];
	xmlDoc *doc;

	aws_params_init(&p);
	aws_param(&p, "VpcId", "%s", id);
	snprintf(key, sizeof key, "%s.Value", attr);
	aws_param(&p, key, "%s", on ? "true" : "false");
	doc = aws_query(a, "ec2", EC2_VERSION, "ModifyVpcAttribute", &p, diag, addr);
	aws_params_release(&p);
	if (!doc)
		return -1;
	xmlFreeDoc(doc);
	return 0;
}



static int vpc_create(struct aws *a, const struct provider_op *op, struct value **result,
		      struct diag_ctx *diag)
{
	struct aws_params p;
	xmlDoc *doc;
	char *id;
	int ret = -1;

	aws_params_init(&p);
	aws_param(&p, "CidrBlock", "%s", aws_str(op->planned, "cidr_block"));
	if (aws_str(op->planned, "instance_tenancy"))
		aws_param(&p, "InstanceTenancy", "%s", aws_str(op->planned, "instance_tenancy"));
	if (aws_bool(op->planned, "assign_generated_ipv6_cidr_block", 0))
		aws_param(&p, "AmazonProvidedIpv6CidrBlock", "true");
	aws_tag_spec(&p, "vpc", val_map_get(op->planned, "tags"), op->token);
	doc = aws_query(a, "ec2", EC2_VERSION, "CreateVpc", &p, diag, op->addr);
	aws_params_release(&p);
	if (!doc)
		return -1;
	id = xstrdup(aws_xml_text(aws_xml_root(doc), "vpc/vpcId") ?: "");
	xmlFreeDoc(doc);
	/* DNS settings are attributes set after the VPC exists; a failure here leaves a VPC that
	 * the state must still record, tainted */
	int bad = 0;
	if (!aws_bool(op->planned, "enable_dns_support", 1))
		bad |= modify_dns(a, id, "EnableDnsSupport", 0, diag, op->addr);
	if (aws_bool(op->planned, "enable_dns_hostnames", 0))
		bad |= modify_dns(a, id, "EnableDnsHostnames", 1, diag, op->addr);
	if (aws_read_one(read_vpcs, a, id, result, diag, op->addr) == 0 && !bad)
		ret = 0;
	free(id);
	return ret;
}

static int vpc_update(struct aws *a, const struct provider_op *op, struct value **result,
		      struct diag_ctx *diag)
{
	const char *id = aws_str(op->prior, "id");
	int bad = 0;

	if (aws_bool(op->prior, "enable_dns_support", 1) != aws_bool(op->planned, "enable_dns_support", 1))
		bad |= modify_dns(a, id, "EnableDnsSupport", aws_bool(op->planned, "enable_dns_support", 1), diag,
				  op->addr);
	if (aws_bool(op->prior, "enable_dns_hostnames", 0) != aws_bool(op->planned, "enable_dns_hostnames", 0))
		bad |= modify_dns(a, id, "EnableDnsHostnames", aws_bool(op->planned, "enable_dns_hostnames", 0), diag,
				  op->addr);
	/* an Amazon-provided IPv6 range: associated, or given back */
	int v6_was = aws_bool(op->prior, "assign_generated_ipv6_cidr_block", 0);
	int v6_want = aws_bool(op->planned, "assign_generated_ipv6_cidr_block", 0);
	if (v6_want && !v6_was) {
		struct aws_params p;
		aws_params_init(&p);
		aws_param(&p, "VpcId", "%s", id);
		aws_param(&p, "AmazonProvidedIpv6CidrBlock", "true");
		xmlDoc *doc = aws_query(a, "ec2", EC2_VERSION, "AssociateVpcCidrBlock", &p, diag, op->addr);
		aws_params_release(&p);
		bad |= doc ? 0 : -1;
		xmlFreeDoc(doc);
	} else if (!v6_want && v6_was && aws_str(op->prior, "ipv6_association_id")) {
		struct aws_params p;
		aws_params_init(&p);
		aws_param(&p, "AssociationId", "%s", aws_str(op->prior, "ipv6_association_id"));
		xmlDoc *doc = aws_query(a, "ec2", EC2_VERSION, "DisassociateVpcCidrBlock", &p, diag, op->addr);
		aws_params_release(&p);
		bad |= doc ? 0 : -1;
		xmlFreeDoc(doc);
	}
	bad |= aws_ec2_update_tags(a, id, val_map_get(op->prior, "tags"), val_map_get(op->planned, "tags"), diag, op->addr);
	if (aws_read_one(read_vpcs, a, id, result, diag, op->addr))
		return -1;
	return bad ? -1 : 0;
}

static int vpc_remove(struct aws *a, const struct provider_op *op, struct diag_ctx *diag)
{
	return aws_ec2_call1(a, "DeleteVpc", "VpcId", aws_str(op->prior, "id"), diag, op->addr);
}

static int vpc_read(struct aws *a, struct provider_read *items, size_t n, struct diag_ctx *diag)
{
	return aws_read_ids(read_vpcs, a, items, n, diag);
}

const struct aws_resource aws_vpc_resource = {
	.type = "vpc",
	.create = vpc_create,
	.update = vpc_update,
	.remove = vpc_remove,
	.read = vpc_read,
};

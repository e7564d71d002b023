/* ec2_eip.c: aws.eip, an Elastic IP address, through the EC2 query API: AllocateAddress,
 * then AssociateAddress with the instance when one is given. An address outlives the
 * instances it is moved between, which is why a stack that serves on a fixed IP has one.
 * A refresh is one DescribeAddresses for every address, by an allocation-id filter. */
#include <stdlib.h>
#include <string.h>

#include "providers/aws/aws.h"

#define EC2_VERSION "2016-11-15"

/* The DNS names AWS gives an address, as Terraform's aws_eip computes them: us-east-1 has
 * names of its own. NULL for no address. */
static char *dns_name(const struct aws *a, const char *prefix, const char *ip, int public)
{
	char *name, *p;

	if (!ip || !*ip)
		return NULL;
	if (!strcmp(a->region, "us-east-1"))
		name = xasprintf("%s-%s.%s", prefix, ip, public ? "compute-1.amazonaws.com" : "ec2.internal");
	else
		name = public ? xasprintf("%s-%s.%s.compute.amazonaws.com", prefix, ip, a->region) :
				xasprintf("%s-%s.%s.compute.internal", prefix, ip, a->region);
	/* the address's dots are dashes in the name, up to its first label's end */
	for (p = name + strlen(prefix) + 1; *p && p < name + strlen(prefix) + 1 + strlen(ip); p++)
		if (*p == '.')
			*p = '-';
	return name;
}

static void put_dns(struct aws_obj *o, const struct aws *a, const char *key, const char *prefix,
		    const char *ip, int public)
{
	char *name = dns_name(a, prefix, ip, public);

	aws_obj_str(o, key, name);
	free(name);
}

/* The addresses with the given allocation ids, into results (NULL for one that is gone), in
 * one call; no call for none. */
static int read_eips(struct aws *a, const char *const *ids, size_t n, struct value **results,
		     struct diag_ctx *diag)
{
	struct aws_params p;
	char *acct;
	xmlDoc *doc;

	for (size_t i = 0; i < n; i++)
		results[i] = NULL;
	if (!n)
		return 0;
	aws_params_init(&p);
	/* a filter, not AllocationId.N: an address released outside stk is then no error */
	aws_ec2_filter(&p, 1, "allocation-id", ids, n);
	doc = aws_query(a, "ec2", EC2_VERSION, "DescribeAddresses", &p, diag, NULL);
	aws_params_release(&p);
	if (!doc)
		return -1;
	/* for the ARN: DescribeAddresses does not say whose addresses they are */
	if (!aws_xml_first_item(aws_xml_child(aws_xml_root(doc), "addressesSet")))
		acct = NULL;
	else if (!(acct = aws_account_id(a, diag, NULL))) {
		xmlFreeDoc(doc);
		return -1;
	}
	for (xmlNode *it = aws_xml_first_item(aws_xml_child(aws_xml_root(doc), "addressesSet")); it;
	     it = aws_xml_next_item(it)) {
		const char *id = aws_xml_text(it, "allocationId");
		size_t k;
		for (k = 0; k < n && (!id || strcmp(ids[k], id)); k++)
			;
		if (k == n || results[k])
			continue;
		const char *pub = aws_xml_text(it, "publicIp"), *priv = aws_xml_text(it, "privateIpAddress");
		const char *inst = aws_xml_text(it, "instanceId");
		struct aws_obj o;
		aws_obj_init(&o);
		aws_obj_str(&o, "id", id);
		aws_obj_str(&o, "allocation_id", id);
		char *arn = xasprintf("arn:aws:ec2:%s:%s:elastic-ip/%s", a->region, acct, id);
		aws_obj_val(&o, "arn", val_string_take(arn, strlen(arn)));
		aws_obj_str(&o, "domain", aws_xml_text(it, "domain") ?: "vpc");
		/* an address not on an instance says so with an empty instanceId */
		aws_obj_str(&o, "instance", inst && *inst ? inst : NULL);
		aws_obj_str(&o, "association_id", aws_xml_text(it, "associationId"));
		aws_obj_str(&o, "network_interface", aws_xml_text(it, "networkInterfaceId"));
		aws_obj_str(&o, "public_ip", pub);
		aws_obj_str(&o, "private_ip", priv);
		put_dns(&o, a, "public_dns", "ec2", pub, 1);
		put_dns(&o, a, "private_dns", "ip", priv, 0);
		aws_obj_val(&o, "tags", aws_tags_value(aws_xml_child(it, "tagSet")));
		results[k] = aws_obj_done(&o);
	}
	free(acct);
	xmlFreeDoc(doc);
	return 0;
}

static int associate(struct aws *a, const char *id, const char *instance, struct diag_ctx *diag,
		     const char *addr)
{
	struct aws_params p;

	aws_params_init(&p);
	aws_param(&p, "AllocationId", "%s", id);
	aws_param(&p, "InstanceId", "%s", instance);
	return aws_ec2_call(a, "AssociateAddress", &p, diag, addr);
}

/* Takes the address off what the state says it is on. An association that is gone is no
 * error: terminating an instance (a replacement) takes its address off it. */
static int disassociate(struct aws *a, const char *association, struct diag_ctx *diag, const char *addr)
{
	static const char *const gone[] = { "InvalidAssociationID.NotFound", NULL };
	struct aws_params p;
	const char *hit = NULL;
	xmlDoc *doc;

	aws_params_init(&p);
	aws_param(&p, "AssociationId", "%s", association);
	doc = aws_query_ok(a, "ec2", EC2_VERSION, "DisassociateAddress", &p, diag, addr, gone, &hit);
	aws_params_release(&p);
	if (!doc)
		return hit ? 0 : -1;
	xmlFreeDoc(doc);
	return 0;
}

static int eip_create(struct aws *a, const struct provider_op *op, struct value **result,
		      struct diag_ctx *diag)
{
	struct aws_params p;
	xmlDoc *doc;
	const char *instance = aws_str(op->planned, "instance");
	char *id;
	int bad = 0;

	aws_params_init(&p);
	aws_param(&p, "Domain", "%s", aws_str(op->planned, "domain") ?: "vpc");
	aws_tag_spec(&p, "elastic-ip", val_map_get(op->planned, "tags"), op->token);
	doc = aws_query(a, "ec2", EC2_VERSION, "AllocateAddress", &p, diag, op->addr);
	aws_params_release(&p);
	if (!doc)
		return -1;
	id = xstrdup(aws_xml_text(aws_xml_root(doc), "allocationId") ?: "");
	xmlFreeDoc(doc);
	/* a failed association still leaves an address the state must record, tainted */
	if (instance)
		bad = associate(a, id, instance, diag, op->addr);
	if (aws_read_one(read_eips, a, id, result, diag, op->addr))
		bad = -1;
	free(id);
	return bad ? -1 : 0;
}

static int eip_update(struct aws *a, const struct provider_op *op, struct value **result,
		      struct diag_ctx *diag)
{
	const char *id = aws_str(op->prior, "id");
	const char *before = aws_str(op->prior, "instance"), *after = aws_str(op->planned, "instance");
	const char *association = aws_str(op->prior, "association_id");
	int bad = 0;

	if (!before != !after || (before && strcmp(before, after))) {
		/* off the old instance, then onto the new one (AllowReassociation would hide an
		 * address taken from an instance stk does not know about) */
		if (association)
			bad |= disassociate(a, association, diag, op->addr);
		if (!bad && after)
			bad |= associate(a, id, after, diag, op->addr);
	}
	bad |= aws_ec2_update_tags(a, id, val_map_get(op->prior, "tags"), val_map_get(op->planned, "tags"), diag,
				   op->addr);
	if (aws_read_one(read_eips, a, id, result, diag, op->addr))
		return -1;
	return bad ? -1 : 0;
}

static int eip_remove(struct aws *a, const struct provider_op *op, struct diag_ctx *diag)
{
	const char *id = aws_str(op->prior, "id"), *association = aws_str(op->prior, "association_id");

	if (association && disassociate(a, association, diag, op->addr))
		return -1;
	return aws_ec2_call1(a, "ReleaseAddress", "AllocationId", id, diag, op->addr);
}

static int eip_read(struct aws *a, struct provider_read *items, size_t n, struct diag_ctx *diag)
{
	return aws_read_ids(read_eips, a, items, n, diag);
}

const struct aws_resource aws_eip_resource = {
	.type = "eip",
	.create = eip_create,
	.update = eip_update,
	.remove = eip_remove,
	.read = eip_read,
};

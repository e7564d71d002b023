/* ec2_sg.c: aws.security_group and aws.key_pair through the EC2 query API. A refresh of any
 * number of groups is one DescribeSecurityGroups call; of any number of key pairs, one
 * DescribeKeyPairs call and one GetCallerIdentity (for the ARN's account).
 *
 * AWS keeps a group's rules as permissions (protocol and port range) with lists of sources,
 * and merges what was authorized separately; a rule block may name several sources. Both
 * sides are therefore reduced to grants, one source each, which is what Authorize and Revoke
 * take and what the diffs compare. A read rebuilds the rule blocks the state had when all their
 * grants are still there, so that rules read back as they were written; grants that no known
 * block accounts for (rules added outside stk) become blocks of their own. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "providers/aws/aws.h"

#define EC2_VERSION "2016-11-15"

/* ---- shared helpers ---- */

/* A known attribute of the prior or planned value, copied; null when unset or unknown. */
static struct value *kept(const struct value *m, const char *key)
{
	const struct value *v = m && m->kind == VAL_MAP ? val_map_get(m, key) : NULL;

	return v && val_is_known(v) ? val_copy_known(v) : val_null();
}

/* The name to create under: the configured one, or prefix (default "stk-") with a unique
 * suffix, as Terraform's PrefixedUniqueId does. */
static char *object_name(const struct value *planned, const char *name_key, const char *prefix_key)
{
	const char *name = aws_str(planned, name_key), *prefix = aws_str(planned, prefix_key);
	unsigned char rnd[6] = { 0 };
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	if (name)
		return xstrdup(name);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		memset(rnd, 0, sizeof rnd);
	return xasprintf("%s%s%02x%02x%02x%02x%02x%02x", prefix ? prefix : "stk-", stamp, rnd[0], rnd[1],
			 rnd[2], rnd[3], rnd[4], rnd[5]);
}

/* A TagSpecification only when there is a tag to put: AWS refuses an empty one. */
static void tag_spec(struct aws_params *p, const char *resource_type, const struct value *tags,
		     const char *token)
{
	if (token || (tags && tags->kind == VAL_MAP && !(tags->marks & VAL_UNKNOWN) && tags->u.map.n))
		aws_tag_spec(p, resource_type, tags, token);
}


/* ---- security group rules as grants ---- */

enum grant_source { SRC_CIDR, SRC_IPV6, SRC_PREFIX, SRC_GROUP };

struct grant {
	char proto[16];     /* normalized: "tcp", "udp", "icmp", "icmpv6", a number, "-1" */
	long from, to;      /* 0 and 0 for "-1", which has no ports */
	enum grant_source kind;
	const char *src;    /* borrowed from the value or XML document it came from */
	const char *desc;   /* borrowed; "" when none */
	char cidr[48];      /* a CIDR source as AWS keeps it, or "": "10.0.0.1/8" is 10.0.0.0/8,
			       "2001:DB8:0::/32" 2001:db8::/32 */
};

/* AWS answers with names for the common protocol numbers and "-1" for all; configurations may
 * say "6", "TCP" or "all". */
static void proto_norm(const char *in, char out[16])
{
	static const struct { const char *num, *name; } names[] = {
		{ "6", "tcp" }, { "17", "udp" }, { "1", "icmp" }, { "58", "icmpv6" }, { "all", "-1" },
	};
	size_t i;

	for (i = 0; in && in[i] && i < 15; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(out, names[i].num)) {
			snprintf(out, 16, "%s", names[i].name);
			break;
		}
}

static int grant_equal(const struct grant *x, const struct grant *y)
{
	return !strcmp(x->proto, y->proto) && x->from == y->from && x->to == y->to && x->kind == y->kind &&
	       (*x->cidr && *y->cidr ? !strcmp(x->cidr, y->cidr) : !strcmp(x->src, y->src)) &&
	       !strcmp(x->desc, y->desc);
}

static int grant_in(const struct grant *g, const struct buf *set)
{
	for (size_t i = 0; i < buf_count(set, struct grant); i++)
		if (grant_equal(g, &buf_at(set, struct grant, i)))
			return 1;
	return 0;
}

/* AWS keeps one rule for a source, protocol and ports, whatever its description: two grants
 * that differ only there cannot both be kept. An error naming them. */
static int grants_one_rule(const struct buf *want, int egress, struct diag_ctx *diag, const char *addr)
{
	size_t n = buf_count(want, struct grant);

	for (size_t i = 0; i < n; i++)
		for (size_t k = i + 1; k < n; k++) {
			struct grant x = buf_at(want, struct grant, i), y = buf_at(want, struct grant, k);
			if (!strcmp(x.desc, y.desc))
				continue;
			x.desc = y.desc;
			if (!grant_equal(&x, &y))
				continue;
			diag_error(diag, NULL, "%s: two %s rules for %s %s (ports %ld-%ld) differ only in their "
				   "description (\"%s\" and \"%s\")", addr, egress ? "egress" : "ingress",
				   x.proto, x.src, x.from, x.to, buf_at(want, struct grant, i).desc, y.desc);
			diag_hint(diag, "AWS keeps one rule for a source, protocol and ports: keep one description");
			return -1;
		}
	return 0;
}

/* The same grants, as sets. */
static int grants_same(const struct buf *x, const struct buf *y)
{
	for (size_t i = 0; i < buf_count(x, struct grant); i++)
		if (!grant_in(&buf_at(x, struct grant, i), y))
			return 0;
	for (size_t i = 0; i < buf_count(y, struct grant); i++)
		if (!grant_in(&buf_at(y, struct grant, i), x))
			return 0;
	return 1;
}

static void push_grant(struct buf *out, const char *proto, long from, long to, enum grant_source kind,
		       const char *src, const char *desc)
{
	struct grant g = { .kind = kind, .src = src, .desc = desc ? desc : "" };

	proto_norm(proto, g.proto);
	g.from = strcmp(g.proto, "-1") ? from : 0;
	g.to = strcmp(g.proto, "-1") ? to : 0;
	if (kind == SRC_CIDR) {
		struct buf c = BUF_INIT;
		if (val_cidr_canonical(src, &c) == 0 && c.len < sizeof g.cidr)
			memcpy(g.cidr, c.data, c.len + 1);
		buf_release(&c);
	} else if (kind == SRC_IPV6) {
		/* the address as inet_ntop writes it (lower case, zeros compressed), with its length */
		const char *slash = strchr(src, '/');
		char addr[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN];
		struct in6_addr a6;
		size_t n = slash ? (size_t)(slash - src) : 0;
		if (n && n < sizeof addr) {
			memcpy(addr, src, n);
			addr[n] = '\0';
			if (inet_pton(AF_INET6, addr, &a6) == 1 && inet_ntop(AF_INET6, &a6, text, sizeof text))
				snprintf(g.cidr, sizeof g.cidr, "%s%s", text, slash);
		}
	}
	buf_push(out, struct grant, g);
}

static long num_attr(const struct value *m, const char *key)
{
	const struct value *v = val_map_get(m, key);
	return v && v->kind == VAL_NUMBER ? (long)v->u.n : 0;
}

/* The grants of one rule block; self_id is the group's own id (for self = true). */
static void rule_grants(const struct value *rule, const char *self_id, struct buf *out)
{
	static const struct { const char *attr; enum grant_source kind; } lists[] = {
		{ "cidr_blocks", SRC_CIDR }, { "ipv6_cidr_blocks", SRC_IPV6 },
		{ "prefix_list_ids", SRC_PREFIX }, { "security_groups", SRC_GROUP },
	};
	const char *proto = aws_str(rule, "protocol"), *desc = aws_str(rule, "description");
	long from = num_attr(rule, "from_port"), to = num_attr(rule, "to_port");

	if (!proto)
		return;
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		const struct value *l = val_map_get(rule, lists[i].attr);
		if (!l || (l->kind != VAL_LIST && l->kind != VAL_SET))
			continue;
		for (size_t k = 0; k < l->u.list.n; k++)
			if (l->u.list.items[k]->kind == VAL_STRING)
				push_grant(out, proto, from, to, lists[i].kind, l->u.list.items[k]->u.str.s, desc);
	}
	if (aws_bool(rule, "self", 0) && self_id)
		push_grant(out, proto, from, to, SRC_GROUP, self_id, desc);
}

/* The grants of a set of rule blocks (nothing when it is unknown). */
static void rules_grants(const struct value *rules, const char *self_id, struct buf *out)
{
	if (!rules || (rules->kind != VAL_SET && rules->kind != VAL_LIST) || (rules->marks & VAL_UNKNOWN))
		return;
	for (size_t i = 0; i < rules->u.list.n; i++)
		if (rules->u.list.items[i]->kind == VAL_MAP)
			rule_grants(rules->u.list.items[i], self_id, out);
}

/* The planned ingress and egress rules can all be kept (grants_one_rule); self_id as for
 * rules_grants. 0, or -1 after a diagnostic. */
static int rules_keepable(const struct value *planned, const char *self_id, struct diag_ctx *diag,
			  const char *addr)
{
	int bad = 0;

	for (int egress = 0; egress < 2 && !bad; egress++) {
		struct buf want = BUF_INIT;
		rules_grants(val_map_get(planned, egress ? "egress" : "ingress"), self_id, &want);
		bad = grants_one_rule(&want, egress, diag, addr);
		buf_release(&want);
	}
	return bad;
}

/* The grants of <ipPermissions> or <ipPermissionsEgress>. */
static void xml_grants(xmlNode *perms, struct buf *out)
{
	static const struct { const char *set, *field; enum grant_source kind; } lists[] = {
		{ "ipRanges", "cidrIp", SRC_CIDR }, { "ipv6Ranges", "cidrIpv6", SRC_IPV6 },
		{ "prefixListIds", "prefixListId", SRC_PREFIX }, { "groups", "groupId", SRC_GROUP },
	};

	for (xmlNode *p = aws_xml_first_item(perms); p; p = aws_xml_next_item(p)) {
		const char *proto = aws_xml_text(p, "ipProtocol"), *f = aws_xml_text(p, "fromPort"),
			   *t = aws_xml_text(p, "toPort");
		long from = f ? strtol(f, NULL, 10) : 0, to = t ? strtol(t, NULL, 10) : 0;
		if (!proto)
			continue;
		for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
			for (xmlNode *it = aws_xml_first_item(aws_xml_child(p, lists[i].set)); it;
			     it = aws_xml_next_item(it)) {
				const char *src = aws_xml_text(it, lists[i].field);
				if (src && *src)
					push_grant(out, proto, from, to, lists[i].kind, src,
						   aws_xml_text(it, "description"));
			}
	}
}

/* IpPermissions.N for each grant: one source each, which AWS merges as it stores them. On the
 * wire the UserIdGroupPairs of the documentation are "Groups", as the SDKs send them. */
static void grant_params(struct aws_params *p, const struct grant *g, size_t n)
{
	static const char *const fields[] = {
		[SRC_CIDR] = "IpRanges.1.CidrIp", [SRC_IPV6] = "Ipv6Ranges.1.CidrIpv6",
		[SRC_PREFIX] = "PrefixListIds.1.PrefixListId", [SRC_GROUP] = "Groups.1.GroupId",
	};
	static const char *const descs[] = {
		[SRC_CIDR] = "IpRanges.1.Description", [SRC_IPV6] = "Ipv6Ranges.1.Description",
		[SRC_PREFIX] = "PrefixListIds.1.Description", [SRC_GROUP] = "Groups.1.Description",
	};
	char key[96];

	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof key, "IpPermissions.%zu.IpProtocol", i + 1);
		aws_param(p, key, "%s", g[i].proto);
		/* "-1" has no ports: sending 0-0 would not match the rule AWS keeps */
		if (strcmp(g[i].proto, "-1")) {
			snprintf(key, sizeof key, "IpPermissions.%zu.FromPort", i + 1);
			aws_param(p, key, "%ld", g[i].from);
			snprintf(key, sizeof key, "IpPermissions.%zu.ToPort", i + 1);
			aws_param(p, key, "%ld", g[i].to);
		}
		/* a CIDR as AWS keeps it: a revoke must name the rule as it is kept */
		snprintf(key, sizeof key, "IpPermissions.%zu.%s", i + 1, fields[g[i].kind]);
		aws_param(p, key, "%s", *g[i].cidr ? g[i].cidr : g[i].src);
		if (*g[i].desc) {
			snprintf(key, sizeof key, "IpPermissions.%zu.%s", i + 1, descs[g[i].kind]);
			aws_param(p, key, "%s", g[i].desc);
		}
	}
}

/* One Authorize or Revoke call for n grants: 0, -1 after a diagnostic, or, when guessed, 1
 * when AWS says a rule is already there or not there (in a default VPC a revoke of a rule
 * that is not there succeeds, listing it as unknown: 1 too). */
static int grant_call(struct aws *a, const char *id, const char *action, const struct grant *g, size_t n,
		      int guessed, struct diag_ctx *diag, const char *addr)
{
	static const char *const wrong_guess[] = { "InvalidPermission.Duplicate", "InvalidPermission.NotFound",
						   NULL };
	const char *hit = NULL;
	struct aws_params p;
	xmlDoc *doc;
	int ret;

	aws_params_init(&p);
	aws_param(&p, "GroupId", "%s", id);
	grant_params(&p, g, n);
	doc = aws_query_ok(a, "ec2", EC2_VERSION, action, &p, diag, addr, guessed ? wrong_guess : NULL, &hit);
	aws_params_release(&p);
	ret = doc ? 0 : hit ? 1 : -1;
	if (doc && guessed && aws_xml_first_item(aws_xml_child(aws_xml_root(doc), "unknownIpPermissionSet")))
		ret = 1;
	xmlFreeDoc(doc);
	return ret;
}

/* Revokes what have has and want lacks, then authorizes what want adds (in that order, so
 * that a changed description is a revoke and a new grant). With guessed (have is a guess, or
 * a read that may be stale), AWS saying that a rule is already there or not there is no error
 * but 1, after both passes: the caller reads the group and syncs again. */
static int sync_rules(struct aws *a, const char *id, int egress, const struct buf *have, const struct buf *want,
		      int guessed, struct diag_ctx *diag, const char *addr)
{
	struct buf gone = BUF_INIT, added = BUF_INIT;
	int ret = 0, wrong = 0;

	for (size_t i = 0; i < buf_count(have, struct grant); i++)
		if (!grant_in(&buf_at(have, struct grant, i), want) && !grant_in(&buf_at(have, struct grant, i), &gone))
			buf_push(&gone, struct grant, buf_at(have, struct grant, i));
	for (size_t i = 0; i < buf_count(want, struct grant); i++)
		if (!grant_in(&buf_at(want, struct grant, i), have) && !grant_in(&buf_at(want, struct grant, i), &added))
			buf_push(&added, struct grant, buf_at(want, struct grant, i));
	for (int pass = 0; pass < 2 && !ret; pass++) {
		const struct buf *g = pass ? &added : &gone;
		const struct grant *gs = (const struct grant *)(const void *)g->data;
		size_t n = buf_count(g, struct grant);
		const char *action = pass ? (egress ? "AuthorizeSecurityGroupEgress" : "AuthorizeSecurityGroupIngress")
					  : (egress ? "RevokeSecurityGroupEgress" : "RevokeSecurityGroupIngress");
		/* all in one call; a guessed batch that AWS refuses as a whole (or in part) for one
		 * rule already there or not there, then one call each, so the others still happen */
		for (size_t from = 0, each = 0; from < n && !ret;) {
			int r = grant_call(a, id, action, gs + from, each ? 1 : n, guessed, diag, addr);
			if (r > 0 && !each && n > 1) {
				each = 1;
				continue;
			}
			if (r < 0)
				ret = -1;
			wrong |= r > 0;
			from += each ? 1 : n;
		}
	}
	buf_release(&gone);
	buf_release(&added);
	return ret ? ret : wrong;
}

/* ---- security group reads ---- */

static struct value *string_list(const struct grant *const *g, size_t n, int set)
{
	struct value **items = xcalloc(n ? n : 1, sizeof *items);
	struct value *r;

	for (size_t i = 0; i < n; i++)
		items[i] = val_cstring(g[i]->src);
	r = set ? val_set_take(items, n) : val_list_take(items, n);
	free(items);
	return r;
}

/* A rule block for the grants of one protocol, port range and description that no known block
 * accounts for. */
static struct value *leftover_rule(const struct grant *first, const struct buf *grants, char *used,
				   const char *self_id)
{
	size_t n = buf_count(grants, struct grant);
	const struct grant **by[4];
	size_t nby[4] = { 0 };
	int self = 0;
	struct aws_obj o;

	for (int k = 0; k < 4; k++)
		by[k] = xcalloc(n ? n : 1, sizeof *by[k]);
	for (size_t i = 0; i < n; i++) {
		const struct grant *g = &buf_at(grants, struct grant, i);
		if (used[i] || strcmp(g->proto, first->proto) || g->from != first->from || g->to != first->to ||
		    strcmp(g->desc, first->desc))
			continue;
		used[i] = 1;
		if (g->kind == SRC_GROUP && self_id && !strcmp(g->src, self_id))
			self = 1;
		else
			by[g->kind][nby[g->kind]++] = g;
	}
	aws_obj_init(&o);
	aws_obj_num(&o, "from_port", (double)first->from);
	aws_obj_num(&o, "to_port", (double)first->to);
	aws_obj_str(&o, "protocol", first->proto);
	aws_obj_val(&o, "cidr_blocks", string_list(by[SRC_CIDR], nby[SRC_CIDR], 0));
	aws_obj_val(&o, "ipv6_cidr_blocks", string_list(by[SRC_IPV6], nby[SRC_IPV6], 0));
	aws_obj_val(&o, "prefix_list_ids", string_list(by[SRC_PREFIX], nby[SRC_PREFIX], 0));
	aws_obj_val(&o, "security_groups", string_list(by[SRC_GROUP], nby[SRC_GROUP], 1));
	aws_obj_bool(&o, "self", self);
	aws_obj_str(&o, "description", *first->desc ? first->desc : NULL);
	for (int k = 0; k < 4; k++)
		free(by[k]);
	return aws_obj_done(&o);
}

/* The rule blocks of one direction: the known blocks whose grants are all there, then blocks
 * for the rest. */
static struct value *rules_value(xmlNode *perms, const struct value *known, const char *self_id)
{
	struct buf have = BUF_INIT, items = BUF_INIT;
	char *used;
	size_t n;
	struct value *r;

	xml_grants(perms, &have);
	n = buf_count(&have, struct grant);
	used = xcalloc(n ? n : 1, 1);
	if (known && (known->kind == VAL_SET || known->kind == VAL_LIST) && !(known->marks & VAL_UNKNOWN)) {
		for (size_t i = 0; i < known->u.list.n; i++) {
			const struct value *rule = known->u.list.items[i];
			struct buf mine = BUF_INIT;
			size_t all = 1;
			if (!val_is_known(rule))
				continue;
			rule_grants(rule, self_id, &mine);
			for (size_t k = 0; k < buf_count(&mine, struct grant); k++)
				all &= grant_in(&buf_at(&mine, struct grant, k), &have);
			if (all && buf_count(&mine, struct grant)) {
				for (size_t k = 0; k < n; k++)
					if (grant_in(&buf_at(&have, struct grant, k), &mine))
						used[k] = 1;
				buf_push(&items, struct value *, val_copy_known(rule));
			}
			buf_release(&mine);
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!used[i])
			buf_push(&items, struct value *, leftover_rule(&buf_at(&have, struct grant, i), &have, used, self_id));
	r = val_set_take((struct value **)(void *)items.data, buf_count(&items, struct value *));
	buf_release(&items);
	buf_release(&have);
	free(used);
	return r;
}

/* One DescribeSecurityGroups for all of ids; a filter, so an unknown id is just not there. */
static xmlDoc *describe_groups(struct aws *a, const char *const *ids, size_t n, struct diag_ctx *diag,
			       const char *addr)
{
	struct aws_params p;
	xmlDoc *doc;

	aws_params_init(&p);
	aws_ec2_filter(&p, 1, "group-id", ids, n);
	doc = aws_query(a, "ec2", EC2_VERSION, "DescribeSecurityGroups", &p, diag, addr);
	aws_params_release(&p);
	return doc;
}

static xmlNode *find_group(xmlDoc *doc, const char *id)
{
	for (xmlNode *it = aws_xml_first_item(aws_xml_child(aws_xml_root(doc), "securityGroupInfo")); it;
	     it = aws_xml_next_item(it)) {
		const char *gid = aws_xml_text(it, "groupId");
		if (gid && !strcmp(gid, id))
			return it;
	}
	return NULL;
}

/* The group's attributes; known (the state or the plan) supplies what AWS does not say and the
 * rule blocks as they were written. */
static struct value *group_value(struct aws *a, xmlNode *g, const struct value *known)
{
	const char *id = aws_xml_text(g, "groupId"), *owner = aws_xml_text(g, "ownerId");
	struct aws_obj o;

	aws_obj_init(&o);
	aws_obj_str(&o, "id", id);
	char *arn = xasprintf("arn:aws:ec2:%s:%s:security-group/%s", a->region, owner ? owner : "", id);
	aws_obj_val(&o, "arn", val_string_take(arn, strlen(arn)));
	aws_obj_str(&o, "name", aws_xml_text(g, "groupName"));
	aws_obj_val(&o, "name_prefix", kept(known, "name_prefix"));
	aws_obj_str(&o, "description", aws_xml_text(g, "groupDescription"));
	aws_obj_str(&o, "vpc_id", aws_xml_text(g, "vpcId"));
	aws_obj_str(&o, "owner_id", owner);
	aws_obj_bool(&o, "revoke_rules_on_delete", aws_bool(known, "revoke_rules_on_delete", 0));
	aws_obj_val(&o, "tags", aws_tags_value(aws_xml_child(g, "tagSet")));
	aws_obj_val(&o, "ingress", rules_value(aws_xml_child(g, "ipPermissions"),
					       known ? val_map_get(known, "ingress") : NULL, id));
	aws_obj_val(&o, "egress", rules_value(aws_xml_child(g, "ipPermissionsEgress"),
					      known ? val_map_get(known, "egress") : NULL, id));
	return aws_obj_done(&o);
}

static int sg_read_one(struct aws *a, const char *id, const struct value *known, struct value **result,
		       struct diag_ctx *diag, const char *addr)
{
	const char *ids[1] = { id };
	xmlDoc *doc = describe_groups(a, ids, 1, diag, addr);
	xmlNode *g;

	if (!doc)
		return -1;
	g = find_group(doc, id);
	if (g)
		*result = group_value(a, g, known);
	else
		diag_error(diag, NULL, "%s: %s was created but cannot be read back", addr, id);
	xmlFreeDoc(doc);
	return g ? 0 : -1;
}

/* ---- security group operations ---- */

/* Egress: AWS gives a new group in a VPC an allow-all egress rule. As Terraform does, it is
 * revoked on create unless the configuration declares it: with no egress blocks the group
 * starts with no egress at all (declare `egress { protocol = "-1" ... cidr_blocks =
 * ["0.0.0.0/0"] }` to keep it). Later plans without egress blocks keep the prior value (egress
 * is optional+computed), so rules added by other means are left alone from then on; ingress
 * is handled the same way, and AWS adds no default ingress. */
static int sg_create(struct aws *a, const struct provider_op *op, struct value **result,
		     struct diag_ctx *diag)
{
	struct aws_params p;
	xmlDoc *doc;
	char *name = object_name(op->planned, "name", "name_prefix"), *id;
	const char *desc = aws_str(op->planned, "description");
	int bad = 0;

	/* what cannot be kept is said before anything is made */
	if (rules_keepable(op->planned, NULL, diag, op->addr)) {
		free(name);
		return -1;
	}
	aws_params_init(&p);
	aws_param(&p, "GroupName", "%s", name);
	aws_param(&p, "GroupDescription", "%s", desc ? desc : "Managed by stk");
	if (aws_str(op->planned, "vpc_id"))
		aws_param(&p, "VpcId", "%s", aws_str(op->planned, "vpc_id"));
	tag_spec(&p, "security-group", val_map_get(op->planned, "tags"), op->token);
	doc = aws_query(a, "ec2", EC2_VERSION, "CreateSecurityGroup", &p, diag, op->addr);
	aws_params_release(&p);
	free(name);
	if (!doc)
		return -1;
	id = xstrdup(aws_xml_text(aws_xml_root(doc), "groupId") ?: "");
	xmlFreeDoc(doc);

	/* The rules, synced first against what a new group has, without a read to learn it: no
	 * ingress and, in a VPC (every group, since EC2-Classic), an egress rule to everywhere.
	 * The read after shows what AWS made of it. When the guess was wrong (AWS answered that a
	 * rule was already there, or not there: an IPv6 VPC gives a new group ::/0 egress too) or
	 * the rules read are not the ones wanted, they are synced once more against what was read
	 * (the old way, a read first), and read again; what the last read says is the state (with
	 * a warning when it is still not what was wanted). */
	struct buf have[2] = { BUF_INIT, BUF_INIT }, want[2] = { BUF_INIT, BUF_INIT };
	const char *ids[1] = { id };
	xmlNode *g = NULL;
	doc = NULL;
	push_grant(&have[1], "-1", 0, 0, SRC_CIDR, "0.0.0.0/0", NULL);
	for (int egress = 0; egress < 2; egress++)
		rules_grants(val_map_get(op->planned, egress ? "egress" : "ingress"), id, &want[egress]);
	/* (a guess AWS says is wrong shows in the read after) */
	for (int egress = 0; egress < 2 && !bad; egress++)
		if (sync_rules(a, id, egress, &have[egress], &want[egress], 1, diag, op->addr) < 0)
			bad = -1;
	if (!bad && (doc = describe_groups(a, ids, 1, diag, op->addr)) && (g = find_group(doc, id))) {
		/* after the second sync, read at once and, if need be, a second later: a read right
		 * after writes may not show them yet */
		for (int round = 0; round < 3 && g; round++) {
			int same = 1;
			for (int egress = 0; egress < 2; egress++) {
				buf_reset(&have[egress]);
				xml_grants(aws_xml_child(g, egress ? "ipPermissionsEgress" : "ipPermissions"),
					   &have[egress]);
				same &= grants_same(&have[egress], &want[egress]);
			}
			if (same)
				break;
			if (round == 2) {
				diag_warning(diag, NULL, "%s: %s's rules read back are not the ones configured; "
					     "the state records what AWS has, and the next plan shows the difference",
					     op->addr, id);
				break;
			}
			if (round == 0) {
				for (int egress = 0; egress < 2 && !bad; egress++)
					if (sync_rules(a, id, egress, &have[egress], &want[egress], 1, diag,
						       op->addr) < 0)
						bad = -1;
			} else {
				sleep(1);
			}
			/* (the grants read point into doc: it goes only now) */
			xmlFreeDoc(doc);
			g = NULL;
			if (!bad && (doc = describe_groups(a, ids, 1, diag, op->addr)))
				g = find_group(doc, id);
		}
	}
	if (!g && !bad) {
		/* (a failed read has said why) */
		if (doc)
			diag_error(diag, NULL, "%s: %s was created but cannot be read back", op->addr, id);
		bad = -1;
	} else if (!g) {
		/* a sync failed: the group is read for the state, which keeps it tainted */
		xmlFreeDoc(doc);
		doc = NULL;
		if (!(doc = describe_groups(a, ids, 1, diag, op->addr)) || !(g = find_group(doc, id)))
			diag_error(diag, NULL, "%s: %s was created but cannot be read back", op->addr, id);
	}
	if (g)
		*result = group_value(a, g, op->planned);
	for (int egress = 0; egress < 2; egress++) {
		buf_release(&have[egress]);
		buf_release(&want[egress]);
	}
	xmlFreeDoc(doc);
	free(id);
	return bad ? -1 : 0;
}

static int sg_update(struct aws *a, const struct provider_op *op, struct value **result,
		     struct diag_ctx *diag)
{
	const char *id = aws_str(op->prior, "id");
	int bad = 0;

	/* what cannot be kept is said before anything is changed */
	bad = rules_keepable(op->planned, id, diag, op->addr);
	/* the refreshed state is what AWS has, so its rules are what to revoke from */
	for (int egress = 0; egress < 2 && !bad; egress++) {
		const char *dir = egress ? "egress" : "ingress";
		const struct value *want_v = val_map_get(op->planned, dir);
		struct buf have = BUF_INIT, want = BUF_INIT;
		if (!want_v || (want_v->marks & VAL_UNKNOWN))
			continue;
		rules_grants(val_map_get(op->prior, dir), id, &have);
		rules_grants(want_v, id, &want);
		bad |= sync_rules(a, id, egress, &have, &want, 0, diag, op->addr);
		buf_release(&have);
		buf_release(&want);
	}
	bad |= aws_ec2_update_tags(a, id, val_map_get(op->prior, "tags"), val_map_get(op->planned, "tags"), diag, op->addr);
	if (sg_read_one(a, id, op->planned, result, diag, op->addr))
		return -1;
	return bad ? -1 : 0;
}

static int sg_remove(struct aws *a, const struct provider_op *op, struct diag_ctx *diag)
{
	const char *id = aws_str(op->prior, "id");
	int ret;

	/* rules that name other groups keep those from being deleted: revoked first when asked */
	if (aws_bool(op->prior, "revoke_rules_on_delete", 0))
		for (int egress = 0; egress < 2; egress++) {
			struct buf have = BUF_INIT, none = BUF_INIT;
			rules_grants(val_map_get(op->prior, egress ? "egress" : "ingress"), id, &have);
			ret = sync_rules(a, id, egress, &have, &none, 0, diag, op->addr);
			buf_release(&have);
			if (ret)
				return -1;
		}
	return aws_ec2_call1(a, "DeleteSecurityGroup", "GroupId", id, diag, op->addr);
}

static int sg_read(struct aws *a, struct provider_read *items, size_t n, struct diag_ctx *diag)
{
	const char **ids;
	xmlDoc *doc;

	for (size_t i = 0; i < n; i++)
		items[i].result = NULL;
	if (!n)
		return 0;
	ids = xcalloc(n, sizeof *ids);
	for (size_t i = 0; i < n; i++)
		ids[i] = aws_str(items[i].prior, "id") ?: "";
	doc = describe_groups(a, ids, n, diag, NULL);
	for (size_t i = 0; doc && i < n; i++) {
		xmlNode *g = find_group(doc, ids[i]);
		if (g)
			items[i].result = group_value(a, g, items[i].prior);
	}
	free(ids);
	if (!doc)
		return -1;
	xmlFreeDoc(doc);
	return 0;
}

const struct aws_resource aws_security_group_resource = {
	.type = "security_group",
	.create = sg_create,
	.update = sg_update,
	.remove = sg_remove,
	.read = sg_read,
};

/* ---- key pair ---- */

/* One DescribeKeyPairs for all of names; a filter, so a missing key is just not there. */
static int read_keys(struct aws *a, const char *const *names, const struct value *const *known, size_t n,
		     struct value **results, struct diag_ctx *diag, const char *addr)
{
	struct aws_params p;
	xmlDoc *doc;
	char *acct;

	for (size_t i = 0; i < n; i++)
		results[i] = NULL;
	if (!n)
		return 0;
	aws_params_init(&p);
	aws_ec2_filter(&p, 1, "key-name", names, n);
	doc = aws_query(a, "ec2", EC2_VERSION, "DescribeKeyPairs", &p, diag, addr);
	aws_params_release(&p);
	if (!doc)
		return -1;
	/* for the ARN: DescribeKeyPairs does not say whose keys they are */
	if (!(acct = aws_account_id(a, diag, addr))) {
		xmlFreeDoc(doc);
		return -1;
	}
	for (xmlNode *it = aws_xml_first_item(aws_xml_child(aws_xml_root(doc), "keySet")); it;
	     it = aws_xml_next_item(it)) {
		const char *name = aws_xml_text(it, "keyName"), *kid = aws_xml_text(it, "keyPairId");
		const char *type = aws_xml_text(it, "keyType");
		size_t k;
		for (k = 0; k < n && (!name || strcmp(names[k], name)); k++)
			;
		if (k == n || results[k])
			continue;
		const char *pub = aws_str(known[k], "public_key");
		if (!type || !*type)
			type = pub && !strncmp(pub, "ssh-ed25519 ", 12) ? "ed25519" : "rsa";
		struct aws_obj o;
		aws_obj_init(&o);
		aws_obj_str(&o, "id", name);
		aws_obj_str(&o, "key_name", name);
		aws_obj_val(&o, "key_name_prefix", kept(known[k], "key_name_prefix"));
		/* AWS keeps no public key to return: the state's stands */
		aws_obj_val(&o, "public_key", kept(known[k], "public_key"));
		aws_obj_str(&o, "fingerprint", aws_xml_text(it, "keyFingerprint"));
		aws_obj_str(&o, "key_pair_id", kid);
		aws_obj_str(&o, "key_type", type);
		char *arn = xasprintf("arn:aws:ec2:%s:%s:key-pair/%s", a->region, acct, kid ? kid : name);
		aws_obj_val(&o, "arn", val_string_take(arn, strlen(arn)));
		aws_obj_val(&o, "tags", aws_tags_value(aws_xml_child(it, "tagSet")));
		results[k] = aws_obj_done(&o);
	}
	free(acct);
	xmlFreeDoc(doc);
	return 0;
}

static int key_read_one(struct aws *a, const char *name, const struct value *known, struct value **result,
			struct diag_ctx *diag, const char *addr)
{
	const char *names[1] = { name };
	const struct value *knowns[1] = { known };

	if (read_keys(a, names, knowns, 1, result, diag, addr))
		return -1;
	if (!*result) {
		diag_error(diag, NULL, "%s: key pair %s was imported but cannot be read back", addr, name);
		return -1;
	}
	return 0;
}

static int key_create(struct aws *a, const struct provider_op *op, struct value **result,
		      struct diag_ctx *diag)
{
	const char *pub = aws_str(op->planned, "public_key");
	char *name = object_name(op->planned, "key_name", "key_name_prefix");
	struct aws_params p;
	xmlDoc *doc;
	int ret;

	if (!pub) {
		diag_error(diag, NULL, "%s: public_key is not known", op->addr);
		free(name);
		return -1;
	}
	/* the query API takes the key material base64-encoded (as awscli's fileb:// does) */
	size_t len = strlen(pub);
	unsigned char *b64 = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock(b64, (const unsigned char *)pub, (int)len);
	aws_params_init(&p);
	aws_param(&p, "KeyName", "%s", name);
	aws_param(&p, "PublicKeyMaterial", "%s", (const char *)b64);
	tag_spec(&p, "key-pair", val_map_get(op->planned, "tags"), op->token);
	doc = aws_query(a, "ec2", EC2_VERSION, "ImportKeyPair", &p, diag, op->addr);
	aws_params_release(&p);
	free(b64);
	if (!doc) {
		free(name);
		return -1;
	}
	xmlFreeDoc(doc);
	ret = key_read_one(a, name, op->planned, result, diag, op->addr);
	free(name);
	return ret;
}

/* Everything but the tags forces a new key pair. */
static int key_update(struct aws *a, const struct provider_op *op, struct value **result,
		      struct diag_ctx *diag)
{
	const char *name = aws_str(op->prior, "key_name"), *kid = aws_str(op->prior, "key_pair_id");
	int bad;

	/* tags go on the key pair's id; its name is not a resource id */
	bad = aws_ec2_update_tags(a, kid ? kid : "", val_map_get(op->prior, "tags"), val_map_get(op->planned, "tags"), diag,
			  op->addr);
	if (key_read_one(a, name ? name : "", op->planned, result, diag, op->addr))
		return -1;
	return bad ? -1 : 0;
}

static int key_remove(struct aws *a, const struct provider_op *op, struct diag_ctx *diag)
{
	return aws_ec2_call1(a, "DeleteKeyPair", "KeyName", aws_str(op->prior, "key_name") ?: "", diag, op->addr);
}

static int key_read(struct aws *a, struct provider_read *items, size_t n, struct diag_ctx *diag)
{
	const char **names = xcalloc(n ? n : 1, sizeof *names);
	const struct value **known = xcalloc(n ? n : 1, sizeof *known);
	struct value **res = xcalloc(n ? n : 1, sizeof *res);
	int ret;

	for (size_t i = 0; i < n; i++) {
		names[i] = aws_str(items[i].prior, "key_name") ?: aws_str(items[i].prior, "id") ?: "";
		known[i] = items[i].prior;
	}
	ret = read_keys(a, names, known, n, res, diag, NULL);
	for (size_t i = 0; i < n; i++)
		items[i].result = res[i];
	free(names);
	free(known);
	free(res);
	return ret;
}

/* The key pair an interrupted import made, by its stk:token tag. (DescribeTags finds it too,
 * but gives its key-... id, and a key pair is read by its name.) */
static int key_find(struct aws *a, const char *token, const struct value *planned, struct value **result,
		    struct diag_ctx *diag)
{
	struct aws_params p;
	xmlDoc *doc;
	char *name;
	int ret = 0;

	*result = NULL;
	aws_params_init(&p);
	aws_param(&p, "Filter.1.Name", "tag:stk:token");
	aws_param(&p, "Filter.1.Value.1", "%s", token);
	doc = aws_query(a, "ec2", EC2_VERSION, "DescribeKeyPairs", &p, diag, NULL);
	aws_params_release(&p);
	if (!doc)
		return -1;
	name = xstrdup(aws_xml_text(aws_xml_first_item(aws_xml_child(aws_xml_root(doc), "keySet")), "keyName") ?: "");
	xmlFreeDoc(doc);
	if (*name) {
		const char *names[1] = { name };
		const struct value *known[1] = { planned };
		ret = read_keys(a, names, known, 1, result, diag, NULL);
	}
	free(name);
	return ret;
}

const struct aws_resource aws_key_pair_resource = {
	.type = "key_pair",
	.create = key_create,
	.update = key_update,
	.remove = key_remove,
	.read = key_read,
	.find = key_find,
};

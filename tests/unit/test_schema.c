/* test_schema.c: invariants over every provider schema table, the lookups, and spot checks
 * of the flags that matter most (force-new, sensitive, defaults, timeouts). The tables are
 * data other code trusts blindly, so a typo there must fail here rather than in a plan. */
#include "providers/schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"


#define SF_ALL (SF_REQUIRED | SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW | SF_SENSITIVE | \
		SF_WRITE_ONLY | SF_CIDR | SF_JSON)

/* Where a block sits decides which flags make sense in it. */
enum block_ctx {
	CTX_RESOURCE,
	CTX_DATA,
	CTX_CONFIG,
};

static int valid_name(const char *s)
{
	if (!s || !(*s >= 'a' && *s <= 'z'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static int presence_count(unsigned f)
{
	return !!(f & SF_REQUIRED) + !!(f & SF_OPTIONAL) +
	       ((f & SF_COMPUTED) && !(f & SF_OPTIONAL));
}

static int computed_only(unsigned f)
{
	return (f & SF_COMPUTED) && !(f & (SF_OPTIONAL | SF_REQUIRED));
}

/* Names that hold credentials: they must never be printed. */
static int secret_name(const char *s)
{
	size_t n = strlen(s);

#define ENDS(suffix) (n >= strlen(suffix) && !strcmp(s + n - strlen(suffix), suffix))
	return ENDS("password") || strstr(s, "secret") || !strcmp(s, "token") ||
	       ENDS("_token") || ENDS("key_material");
#undef ENDS
}

static void check_description(const char *path, const char *d)
{
	size_t n = d ? strlen(d) : 0;

	check(n > 0, path, "no description");
	if (!n)
		return;
	check(!strchr(d, '\n'), path, "description spans lines");
	check(n <= 100, path, "description is %zu chars, over 100", n);
	check(d[n - 1] != '.', path, "description ends in a period");
}

/* default_value is .stk source of the attribute's type. */
static void check_default(const char *path, const struct schema_attr *a)
{
	const char *v = a->default_value;
	size_t n;
	char *end;

	if (!v)
		return;
	check((a->flags & SF_OPTIONAL) && !(a->flags & SF_COMPUTED), path,
	      "default on an attribute that is not plain optional");
	if (!a->type)
		return;
	n = strlen(v);
	switch (a->type->kind) {
	case SK_BOOL:
		check(!strcmp(v, "true") || !strcmp(v, "false"), path,
		      "bool default %s", v);
		break;
	case SK_NUMBER:
		strtod(v, &end);
		check(n && !*end, path, "number default %s", v);
		break;
	case SK_STRING:
		check(n >= 2 && v[0] == '"' && v[n - 1] == '"' &&
		      !memchr(v + 1, '"', n - 2), path,
		      "string default %s is not a quoted literal", v);
		break;
	default:
		check(0, path, "default on a %s", schema_kind_name(a->type->kind));
		break;
	}
}

static void check_attrs(const char *path, const struct schema_attr *attrs,
			enum block_ctx ctx, int depth);

static void check_type(const char *path, const struct schema_type *t, enum block_ctx ctx,
		       int depth)
{
	check(t != NULL, path, "no type");
	if (!t)
		return;
	check(depth < 8, path, "types nest too deep (a cycle?)");
	if (depth >= 8)
		return;
	switch (t->kind) {
	case SK_STRING:
	case SK_NUMBER:
	case SK_BOOL:
	case SK_ANY:
		check(!t->elem && !t->attrs, path, "scalar with elem or attrs");
		break;
	case SK_LIST:
	case SK_SET:
	case SK_MAP:
		check(t->elem && !t->attrs, path, "%s without elem, or with attrs",
		      schema_kind_name(t->kind));
		if (t->elem)
			check_type(path, t->elem, ctx, depth + 1);
		break;
	case SK_OBJECT:
		check(t->attrs && !t->elem, path, "object without attrs, or with elem");
		if (t->attrs)
			check_attrs(path, t->attrs, ctx, depth + 1);
		break;
	default:
		check(0, path, "kind %d out of range", (int)t->kind);
		break;
	}
}

static int string_or_strings(const struct schema_type *t)
{
	if (!t)
		return 0;
	if (t->kind == SK_STRING)
		return 1;
	return (t->kind == SK_LIST || t->kind == SK_SET) && t->elem &&
	       t->elem->kind == SK_STRING;
}

static void check_attr(const char *path, const struct schema_attr *a, enum block_ctx ctx,
		       int depth)
{
	unsigned f = a->flags;

	check(valid_name(a->name), path, "bad name");
	check(!(f & ~SF_ALL), path, "unknown flag bits %#x", f & ~SF_ALL);
	check(presence_count(f) == 1, path,
	      "needs exactly one of REQUIRED, OPTIONAL, COMPUTED-only (flags %#x)", f);
	check_description(path, a->description);
	check_type(path, a->type, ctx, depth);
	check_default(path, a);
	if (computed_only(f)) {
		check(!(f & SF_FORCE_NEW), path, "computed-only yet force-new");
		check(!(f & SF_WRITE_ONLY), path, "computed-only yet write-only");
	}
	if (f & SF_WRITE_ONLY) {
		check(f & SF_SENSITIVE, path, "write-only but not sensitive");
		check(!(f & SF_COMPUTED), path, "write-only yet computed");
	}
	if (f & SF_CIDR)
		check(string_or_strings(a->type), path, "CIDR flag on a non-string");
	if (f & SF_JSON)
		check(a->type && a->type->kind == SK_STRING, path, "JSON flag on a non-string");
	if (secret_name(a->name))
		check(f & SF_SENSITIVE, path, "credential not marked sensitive");
	if (ctx == CTX_DATA) {
		check(!(f & SF_FORCE_NEW), path, "force-new in a data source");
		check(!(f & SF_WRITE_ONLY), path, "write-only in a data source");
	}
	if (ctx == CTX_CONFIG) {
		check(!(f & SF_COMPUTED), path, "computed in a provider block");
		check(!(f & SF_FORCE_NEW), path, "force-new in a provider block");
	}
}

static void check_attrs(const char *path, const struct schema_attr *attrs,
			enum block_ctx ctx, int depth)
{
	const struct schema_attr *a, *b;
	char sub[512];

	for (a = attrs; a->name; a++) {
		snprintf(sub, sizeof(sub), "%s.%s", path, a->name);
		check_attr(sub, a, ctx, depth);
		for (b = attrs; b < a; b++)
			check(strcmp(a->name, b->name) != 0, sub, "name appears twice");
	}
}

static void check_block(const char *path, const struct schema_block *blk, enum block_ctx ctx,
			int depth)
{
	const struct schema_attr *a;
	const struct schema_nested *n, *m;
	char sub[512];

	check(blk->attrs != NULL, path, "block without attrs");
	if (!blk->attrs)
		return;
	check_attrs(path, blk->attrs, ctx, depth);
	for (a = blk->attrs; a->name; a++) {
		snprintf(sub, sizeof(sub), "%s.%s", path, a->name);
		check(schema_attr_find(blk, a->name) == a, sub, "schema_attr_find misses it");
		check(schema_nested_find(blk, a->name) == NULL, sub,
		      "also a nested block name");
	}
	check(schema_attr_find(blk, "no_such_attr") == NULL, path, "finds a missing attr");
	check(schema_nested_find(blk, "no_such_block") == NULL, path,
	      "finds a missing block");
	check(schema_attr_find(blk, NULL) == NULL, path, "schema_attr_find(NULL)");
	for (n = blk->blocks; n && n->name; n++) {
		unsigned f = n->flags;

		snprintf(sub, sizeof(sub), "%s.%s", path, n->name);
		check(valid_name(n->name), sub, "bad name");
		check(schema_nested_find(blk, n->name) == n, sub,
		      "schema_nested_find misses it");
		for (m = blk->blocks; m < n; m++)
			check(strcmp(n->name, m->name) != 0, sub, "block appears twice");
		check(presence_count(f) == 1, sub,
		      "needs exactly one of REQUIRED, OPTIONAL, COMPUTED-only (flags %#x)", f);
		check(!(f & ~(SF_REQUIRED | SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW)), sub,
		      "attribute-only flags on a block (%#x)", f);
		check(!!(f & SF_REQUIRED) == (n->min_items > 0), sub,
		      "REQUIRED must go with min_items > 0");
		check(n->min_items >= 0 && n->max_items >= 0, sub, "negative item count");
		check(!n->max_items || n->min_items <= n->max_items, sub,
		      "min_items > max_items");
		check(n->is_set == 0 || n->is_set == 1, sub, "is_set is %d", n->is_set);
		if (ctx == CTX_DATA)
			check(!(f & SF_FORCE_NEW), sub, "force-new in a data source");
		check(n->block != NULL, sub, "no block");
		if (n->block && depth < 8)
			check_block(sub, n->block, ctx, depth + 1);
	}
}

static const struct schema_attr *find_attr(const struct schema_block *b, const char *name)
{
	return b ? schema_attr_find(b, name) : NULL;
}

/* The whole of one resource or data source. */
static void check_resource(const char *pname, const struct schema_provider *p,
			   const struct schema_resource *r, int data)
{
	const struct schema_attr *a, *id;
	char path[256];
	int args = 0;

	snprintf(path, sizeof(path), "%s.%s%s", pname, data ? "data." : "", r->type);
	check(valid_name(r->type), path, "bad type name");
	check(r->description && *r->description, path, "no description");
	check_description(path, r->description);
	check(schema_resource_find(p, r->type, data) == r, path,
	      "schema_resource_find misses it");
	check(schema_resource_find(p, r->type, !data) != r, path,
	      "found among the %s too", data ? "resources" : "data sources");
	check_block(path, &r->block, data ? CTX_DATA : CTX_RESOURCE, 0);
	if (!r->block.attrs)
		return;

	id = find_attr(&r->block, "id");
	check(id && id->type == &schema_string && computed_only(id->flags), path,
	      "no computed-only string id");

	for (a = r->block.attrs; a->name; a++)
		if (!computed_only(a->flags))
			args++;

	if (data) {
		check(r->id_attr == NULL, path, "data source with an id_attr");
		check(!r->timeouts.create && !r->timeouts.update && !r->timeouts.delete, path,
		      "data source with timeouts");
		return;
	}

	check(args > 0 || r->block.blocks, path, "resource takes no arguments");
	check(r->id_attr != NULL, path, "no id_attr");
	if (r->id_attr) {
		a = find_attr(&r->block, r->id_attr);
		check(a && a->type && a->type->kind == SK_STRING, path,
		      "id_attr %s is not a string attribute", r->id_attr);
	}
	check(r->timeouts.create >= 0 && r->timeouts.update >= 0 && r->timeouts.delete >= 0,
	      path, "negative timeout");
	check(r->timeouts.create <= 86400 && r->timeouts.update <= 86400 &&
	      r->timeouts.delete <= 86400, path, "timeout over a day");
}

/* AWS resources Terraform gives no tags and no arn. */
static const char *const aws_untagged[] = { "route_table_association", NULL };

static int in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

static void check_aws_common(const struct schema_resource *r)
{
	const struct schema_attr *a;
	char path[256];

	snprintf(path, sizeof(path), "aws.%s", r->type);
	if (in_list(aws_untagged, r->type))
		return;
	a = find_attr(&r->block, "tags");
	check(a && a->type == &schema_map_of_string && a->flags == SF_OPTIONAL, path,
	      "tags must be an optional map of string");
	a = find_attr(&r->block, "arn");
	check(a && a->type == &schema_string && a->flags == SF_COMPUTED, path,
	      "arn must be a computed-only string");
}

static void check_provider(const struct schema_provider *p)
{
	const struct schema_resource *r, *s;
	char path[256];
	int n;

	check(valid_name(p->name), p->name ? p->name : "?", "bad provider name");
	check(schema_provider_find(p->name) == p, p->name, "schema_provider_find misses it");
	snprintf(path, sizeof(path), "%s.config", p->name);
	check_block(path, &p->config, CTX_CONFIG, 0);

	check(p->resources != NULL, p->name, "no resource list");
	for (n = 0, r = p->resources; r && r->type; r++, n++) {
		check_resource(p->name, p, r, 0);
		for (s = p->resources; s < r; s++)
			check(strcmp(r->type, s->type) != 0, p->name, "resource %s twice",
			      r->type);
		if (!strcmp(p->name, "aws"))
			check_aws_common(r);
	}
	check(n > 0, p->name, "no resources");
	check(p->data_sources != NULL, p->name, "no data source list");
	for (r = p->data_sources; r && r->type; r++) {
		check_resource(p->name, p, r, 1);
		for (s = p->data_sources; s < r; s++)
			check(strcmp(r->type, s->type) != 0, p->name, "data source %s twice",
			      r->type);
	}
	check(schema_resource_find(p, "no_such_type", 0) == NULL, p->name,
	      "finds a missing resource");
	check(schema_resource_find(p, "no_such_type", 1) == NULL, p->name,
	      "finds a missing data source");
	check(schema_resource_find(p, NULL, 0) == NULL, p->name, "schema_resource_find(NULL)");
}

/* ---- the contract: type names other code and examples rely on ----------------------- */

static const char *const aws_resource_types[] = {
	"vpc", "internet_gateway", "subnet", "route_table", "route_table_association",
	"security_group", "key_pair", "instance", "eip", "db_subnet_group", "db_instance",
	"ecr_repository", NULL,
};
static const char *const aws_data_types[] = {
	"ami", "availability_zones", "caller_identity", "ecr_token", NULL,
};
static const char *const docker_resource_types[] = {
	"image", "container", "network", "volume", NULL,
};
static const char *const docker_data_types[] = { "registry_image", "image", NULL };

static void check_types(const char *pname, const char *const *types, int data)
{
	const struct schema_provider *p = schema_provider_find(pname);
	const struct schema_resource *r;
	char path[256];
	int want = 0, have = 0;

	for (; *types; types++, want++) {
		snprintf(path, sizeof(path), "%s.%s%s", pname, data ? "data." : "", *types);
		check(schema_resource_find(p, *types, data) != NULL, path, "missing");
	}
	for (r = p ? (data ? p->data_sources : p->resources) : NULL; r && r->type; r++)
		have++;
	check(have == want, pname, "%d %s, expected %d", have,
	      data ? "data sources" : "resources", want);
}

/* ---- spot checks ------------------------------------------------------------------- */

/* Resolves "route.cidr_block" through nested blocks and object types. */
static const struct schema_attr *lookup(const struct schema_block *b, const char *dotted)
{
	char buf[256], *part, *dot;
	const struct schema_attr *a = NULL;
	const struct schema_nested *n;
	const struct schema_type *t;

	snprintf(buf, sizeof(buf), "%s", dotted);
	for (part = buf; part; part = dot) {
		dot = strchr(part, '.');
		if (dot)
			*dot++ = '\0';
		if (a) {
			/* Step into an object, or a list/set/map of objects. */
			t = a->type;
			while (t && t->kind != SK_OBJECT && t->elem)
				t = t->elem;
			if (!t || t->kind != SK_OBJECT)
				return NULL;
			for (a = t->attrs; a->name && strcmp(a->name, part); a++)
				;
			if (!a->name)
				return NULL;
			continue;
		}
		if (!dot) {
			return schema_attr_find(b, part);
		}
		n = schema_nested_find(b, part);
		if (n) {
			b = n->block;
			continue;
		}
		a = schema_attr_find(b, part);
		if (!a)
			return NULL;
	}
	return a;
}

struct spot {
	const char *provider;
	int data;            /* 0 resource, 1 data source, -1 provider block */
	const char *type;
	const char *attr;
	unsigned set;        /* flags that must be set */
	unsigned clear;      /* flags that must be clear */
	enum schema_kind kind;
	const char *def;     /* expected default_value, if not NULL */
};

#define REQ SF_REQUIRED
#define OPT SF_OPTIONAL
#define COMP SF_COMPUTED
#define FN SF_FORCE_NEW
#define SENS SF_SENSITIVE
#define WO SF_WRITE_ONLY
#define CIDR SF_CIDR

static const struct spot spots[] = {
	{ "aws", -1, NULL, "region", OPT, COMP, SK_STRING, NULL },
	{ "aws", -1, NULL, "secret_key", OPT | SENS, 0, SK_STRING, NULL },
	{ "aws", -1, NULL, "token", OPT | SENS, 0, SK_STRING, NULL },
	{ "aws", 0, "vpc", "cidr_block", REQ | FN | CIDR, 0, SK_STRING, NULL },
	{ "aws", 0, "vpc", "enable_dns_support", OPT, COMP | FN, SK_BOOL, "true" },
	{ "aws", 0, "vpc", "default_security_group_id", COMP, OPT, SK_STRING, NULL },
	{ "aws", 0, "vpc", "main_route_table_id", COMP, OPT, SK_STRING, NULL },
	{ "aws", 0, "internet_gateway", "vpc_id", OPT, FN, SK_STRING, NULL },
	{ "aws", 0, "eip", "domain", OPT | FN, COMP, SK_STRING, "\"vpc\"" },
	{ "aws", 0, "eip", "instance", OPT, FN | COMP, SK_STRING, NULL },
	{ "aws", 0, "eip", "public_ip", COMP, OPT, SK_STRING, NULL },
	{ "aws", 0, "eip", "association_id", COMP, OPT, SK_STRING, NULL },
	{ "aws", 0, "subnet", "vpc_id", REQ | FN, 0, SK_STRING, NULL },
	{ "aws", 0, "subnet", "cidr_block", REQ | FN | CIDR, 0, SK_STRING, NULL },
	{ "aws", 0, "subnet", "availability_zone", OPT | COMP | FN, 0, SK_STRING, NULL },
	{ "aws", 0, "subnet", "availability_zone_id", COMP, 0, SK_STRING, NULL },
	{ "aws", 0, "subnet", "map_public_ip_on_launch", OPT, FN, SK_BOOL, "false" },
	{ "aws", 0, "route_table", "vpc_id", REQ | FN, 0, SK_STRING, NULL },
	{ "aws", 0, "route_table", "route.cidr_block", OPT | CIDR, 0, SK_STRING, NULL },
	{ "aws", 0, "route_table", "route.gateway_id", OPT, 0, SK_STRING, NULL },
	{ "aws", 0, "route_table", "route.nat_gateway_id", OPT, 0, SK_STRING, NULL },
	{ "aws", 0, "route_table_association", "subnet_id", OPT | FN, 0, SK_STRING, NULL },
	{ "aws", 0, "route_table_association", "route_table_id", REQ, FN, SK_STRING, NULL },
	{ "aws", 0, "security_group", "name", OPT | COMP | FN, 0, SK_STRING, NULL },
	{ "aws", 0, "security_group", "description", OPT | FN, COMP, SK_STRING,
	  "\"Managed by stk\"" },
	{ "aws", 0, "security_group", "vpc_id", OPT | FN, 0, SK_STRING, NULL },
	{ "aws", 0, "security_group", "ingress.from_port", REQ, 0, SK_NUMBER, NULL },
	{ "aws", 0, "security_group", "ingress.to_port", REQ, 0, SK_NUMBER, NULL },
	{ "aws", 0, "security_group", "ingress.protocol", REQ, 0, SK_STRING, NULL },
	{ "aws", 0, "security_group", "egress.cidr_blocks", OPT, 0, SK_LIST, NULL },
	{ "aws", 0, "security_group", "egress.security_groups", OPT, 0, SK_SET, NULL },
	{ "aws", 0, "security_group", "ingress.self", OPT, 0, SK_BOOL, "false" },
	{ "aws", 0, "key_pair", "public_key", REQ | FN, 0, SK_STRING, NULL },
	{ "aws", 0, "key_pair", "key_name", OPT | COMP | FN, 0, SK_STRING, NULL },
	{ "aws", 0, "key_pair", "fingerprint", COMP, OPT, SK_STRING, NULL },
	{ "aws", 0, "instance", "ami", REQ | FN, 0, SK_STRING, NULL },
	{ "aws", 0, "instance", "instance_type", REQ, FN, SK_STRING, NULL },
	{ "aws", 0, "instance", "subnet_id", OPT | COMP | FN, 0, SK_STRING, NULL },
	{ "aws", 0, "instance", "vpc_security_group_ids", OPT, FN, SK_SET, NULL },
	{ "aws", 0, "instance", "key_name", OPT | FN, 0, SK_STRING, NULL },
	{ "aws", 0, "instance", "associate_public_ip_address", OPT | FN, 0, SK_BOOL, NULL },
	{ "aws", 0, "instance", "user_data_replace_on_change", OPT, 0, SK_BOOL, "false" },
	{ "aws", 0, "instance", "private_ip", OPT | COMP, 0, SK_STRING, NULL },
	{ "aws", 0, "instance", "public_ip", COMP, OPT, SK_STRING, NULL },
	{ "aws", 0, "instance", "instance_state", COMP, OPT, SK_STRING, NULL },
	{ "aws", 0, "instance", "root_block_device.volume_size", OPT | COMP, 0, SK_NUMBER,
	  NULL },
	{ "aws", 0, "db_subnet_group", "subnet_ids", REQ, 0, SK_SET, NULL },
	{ "aws", 0, "db_subnet_group", "description", OPT, 0, SK_STRING,
	  "\"Managed by stk\"" },
	{ "aws", 0, "db_instance", "identifier", OPT | COMP | FN, 0, SK_STRING, NULL },
	{ "aws", 0, "db_instance", "engine", FN, 0, SK_STRING, NULL },
	{ "aws", 0, "db_instance", "instance_class", REQ, FN, SK_STRING, NULL },
	{ "aws", 0, "db_instance", "allocated_storage", OPT, 0, SK_NUMBER, NULL },
	{ "aws", 0, "db_instance", "password", OPT | SENS | WO, COMP, SK_STRING, NULL },
	{ "aws", 0, "db_instance", "username", OPT | FN, 0, SK_STRING, NULL },
	{ "aws", 0, "db_instance", "db_name", OPT | FN, 0, SK_STRING, NULL },
	{ "aws", 0, "db_instance", "vpc_security_group_ids", OPT, FN, SK_SET, NULL },
	{ "aws", 0, "db_instance", "skip_final_snapshot", OPT, 0, SK_BOOL, "false" },
	{ "aws", 0, "db_instance", "port", OPT | COMP, 0, SK_NUMBER, NULL },
	{ "aws", 0, "db_instance", "address", COMP, OPT, SK_STRING, NULL },
	{ "aws", 0, "db_instance", "endpoint", COMP, OPT, SK_STRING, NULL },
	{ "aws", 0, "db_instance", "hosted_zone_id", COMP, OPT, SK_STRING, NULL },
	{ "aws", 0, "ecr_repository", "name", REQ | FN, 0, SK_STRING, NULL },
	{ "aws", 0, "ecr_repository", "image_tag_mutability", OPT, FN, SK_STRING,
	  "\"MUTABLE\"" },
	{ "aws", 0, "ecr_repository", "scan_on_push", OPT, 0, SK_BOOL, NULL },
	{ "aws", 0, "ecr_repository", "image_scanning_configuration.scan_on_push", REQ, 0,
	  SK_BOOL, NULL },
	{ "aws", 0, "ecr_repository", "repository_url", COMP, OPT, SK_STRING, NULL },
	{ "aws", 0, "ecr_repository", "registry", COMP, OPT, SK_STRING, NULL },
	{ "aws", 1, "ami", "owners", OPT, 0, SK_LIST, NULL },
	{ "aws", 1, "ami", "most_recent", OPT, 0, SK_BOOL, "false" },
	{ "aws", 1, "ami", "name", OPT | COMP, 0, SK_STRING, NULL },
	{ "aws", 1, "ami", "filter.values", REQ, 0, SK_LIST, NULL },
	{ "aws", 1, "ami", "image_id", COMP, OPT, SK_STRING, NULL },
	{ "aws", 1, "availability_zones", "names", COMP, OPT, SK_LIST, NULL },
	{ "aws", 1, "availability_zones", "zone_ids", COMP, OPT, SK_LIST, NULL },
	{ "aws", 1, "caller_identity", "account_id", COMP, OPT, SK_STRING, NULL },
	{ "aws", 1, "ecr_token", "registry_id", OPT, 0, SK_STRING, NULL },
	{ "aws", 1, "ecr_token", "username", COMP, SENS, SK_STRING, NULL },
	{ "aws", 1, "ecr_token", "password", COMP | SENS, 0, SK_STRING, NULL },
	{ "aws", 1, "ecr_token", "authorization_token", COMP | SENS, 0, SK_STRING, NULL },
	{ "aws", 1, "ecr_token", "proxy_endpoint", COMP, 0, SK_STRING, NULL },

	{ "docker", -1, NULL, "host", OPT, 0, SK_STRING, NULL },
	{ "docker", -1, NULL, "key_material", OPT | SENS, 0, SK_STRING, NULL },
	{ "docker", -1, NULL, "registry.address", REQ, 0, SK_STRING, NULL },
	{ "docker", -1, NULL, "registry.password", OPT | SENS, 0, SK_STRING, NULL },
	{ "docker", -1, NULL, "tls.key_material", OPT | SENS, 0, SK_STRING, NULL },
	{ "docker", 0, "image", "context", REQ | FN, 0, SK_STRING, NULL },
	{ "docker", 0, "image", "dockerfile", OPT, 0, SK_STRING, "\"Dockerfile\"" },
	{ "docker", 0, "image", "build_args", OPT, 0, SK_MAP, NULL },
	{ "docker", 0, "image", "tags", OPT, 0, SK_LIST, NULL },
	{ "docker", 0, "image", "push", OPT, FN, SK_BOOL, "false" },
	{ "docker", 0, "image", "repo_digest", COMP, OPT, SK_STRING, NULL },
	{ "docker", 0, "image", "context_sha256", COMP, OPT, SK_STRING, NULL },
	{ "docker", 0, "image", "name", COMP, OPT, SK_STRING, NULL },
	{ "docker", 0, "container", "name", REQ | FN, 0, SK_STRING, NULL },
	{ "docker", 0, "container", "image", REQ | FN, 0, SK_STRING, NULL },
	{ "docker", 0, "container", "command", OPT | FN, 0, SK_LIST, NULL },
	{ "docker", 0, "container", "env", OPT | FN, 0, SK_MAP, NULL },
	{ "docker", 0, "container", "ports", OPT | FN, 0, SK_LIST, NULL },
	{ "docker", 0, "container", "ports.internal", REQ, 0, SK_NUMBER, NULL },
	{ "docker", 0, "container", "ports.external", OPT, 0, SK_NUMBER, NULL },
	{ "docker", 0, "container", "ports.protocol", OPT, 0, SK_STRING, "\"tcp\"" },
	{ "docker", 0, "container", "ports.ip", OPT, 0, SK_STRING, "\"0.0.0.0\"" },
	{ "docker", 0, "container", "healthcheck", OPT | FN, 0, SK_OBJECT, NULL },
	{ "docker", 0, "container", "healthcheck.test", REQ, 0, SK_LIST, NULL },
	{ "docker", 0, "container", "mounts.target", REQ, 0, SK_STRING, NULL },
	{ "docker", 0, "container", "upload.file", REQ, 0, SK_STRING, NULL },
	{ "docker", 0, "container", "upload.executable", OPT, 0, SK_BOOL, "false" },
	{ "docker", 0, "container", "restart", OPT, FN, SK_STRING, "\"no\"" },
	{ "docker", 0, "container", "must_run", OPT, FN, SK_BOOL, "true" },
	{ "docker", 0, "container", "wait_healthy", OPT, FN, SK_BOOL, "false" },
	{ "docker", 0, "container", "labels", OPT | FN, 0, SK_MAP, NULL },
	{ "docker", 0, "container", "ip_address", COMP, OPT, SK_STRING, NULL },
	{ "docker", 0, "container", "exit_code", COMP, OPT, SK_NUMBER, NULL },
	{ "docker", 0, "network", "name", REQ | FN, 0, SK_STRING, NULL },
	{ "docker", 0, "network", "driver", OPT | FN, 0, SK_STRING, "\"bridge\"" },
	{ "docker", 0, "network", "internal", OPT | FN, 0, SK_BOOL, NULL },
	{ "docker", 0, "network", "scope", COMP, OPT, SK_STRING, NULL },
	{ "docker", 0, "volume", "name", OPT | COMP | FN, 0, SK_STRING, NULL },
	{ "docker", 0, "volume", "mountpoint", COMP, OPT, SK_STRING, NULL },
	{ "docker", 1, "registry_image", "name", REQ, 0, SK_STRING, NULL },
	{ "docker", 1, "registry_image", "sha256_digest", COMP, OPT, SK_STRING, NULL },
	{ "docker", 1, "image", "repo_digest", COMP, OPT, SK_STRING, NULL },
	{ .provider = NULL },
};

static void check_spots(void)
{
	const struct spot *s;
	const struct schema_provider *p;
	const struct schema_resource *r;
	const struct schema_block *b;
	const struct schema_attr *a;
	char path[256];

	for (s = spots; s->provider; s++) {
		snprintf(path, sizeof(path), "%s.%s%s%s", s->provider,
			 s->data == 1 ? "data." : "", s->type ? s->type : "config",
			 "");
		snprintf(path + strlen(path), sizeof(path) - strlen(path), ".%s", s->attr);
		p = schema_provider_find(s->provider);
		if (s->data < 0) {
			b = p ? &p->config : NULL;
		} else {
			r = schema_resource_find(p, s->type, s->data);
			b = r ? &r->block : NULL;
		}
		a = b ? lookup(b, s->attr) : NULL;
		check(a != NULL, path, "missing");
		if (!a)
			continue;
		check((a->flags & s->set) == s->set, path, "flags %#x lack %#x", a->flags,
		      s->set & ~a->flags);
		check(!(a->flags & s->clear), path, "flags %#x have %#x", a->flags,
		      a->flags & s->clear);
		check(a->type && a->type->kind == s->kind, path, "is %s, expected %s",
		      a->type ? schema_kind_name(a->type->kind) : "untyped",
		      schema_kind_name(s->kind));
		if (s->def)
			check(a->default_value && !strcmp(a->default_value, s->def), path,
			      "default %s, expected %s",
			      a->default_value ? a->default_value : "(none)", s->def);
	}
}

/* Nested blocks, their shape and set-ness. */
struct nested_spot {
	const char *provider;
	int data;
	const char *type;
	const char *name;
	int is_set, max_items;
	unsigned flags;
};

static const struct nested_spot nested_spots[] = {
	{ "aws", 0, "route_table", "route", 1, 0, OPT | COMP },
	{ "aws", 0, "security_group", "ingress", 1, 0, OPT | COMP },
	{ "aws", 0, "security_group", "egress", 1, 0, OPT | COMP },
	{ "aws", 0, "instance", "root_block_device", 0, 1, OPT | COMP },
	{ "aws", 0, "ecr_repository", "image_scanning_configuration", 0, 1, OPT },
	{ "aws", 1, "ami", "filter", 1, 0, OPT },
	{ "aws", 1, "availability_zones", "filter", 1, 0, OPT },
	{ "docker", -1, NULL, "registry", 0, 0, OPT },
	{ "docker", -1, NULL, "tls", 0, 1, OPT },
	{ .provider = NULL },
};

static void check_nested_spots(void)
{
	const struct nested_spot *s;
	const struct schema_provider *p;
	const struct schema_resource *r;
	const struct schema_nested *n;
	char path[256];

	for (s = nested_spots; s->provider; s++) {
		snprintf(path, sizeof(path), "%s.%s%s.%s", s->provider,
			 s->data == 1 ? "data." : "", s->type ? s->type : "config", s->name);
		p = schema_provider_find(s->provider);
		if (s->data < 0) {
			n = p ? schema_nested_find(&p->config, s->name) : NULL;
		} else {
			r = schema_resource_find(p, s->type, s->data);
			n = r ? schema_nested_find(&r->block, s->name) : NULL;
		}
		check(n != NULL, path, "missing block");
		if (!n)
			continue;
		check(n->is_set == s->is_set, path, "is_set %d", n->is_set);
		check(n->max_items == s->max_items, path, "max_items %d", n->max_items);
		check(n->flags == s->flags, path, "flags %#x, expected %#x", n->flags,
		      s->flags);
	}
}

struct id_spot {
	const char *provider;
	const char *type;
	const char *id_attr;
	int create, update, delete;
};

static const struct id_spot id_spots[] = {
	{ "aws", "vpc", "id", 0, 0, 0 },
	{ "aws", "internet_gateway", "id", 1200, 1200, 1200 },
	{ "aws", "subnet", "id", 600, 0, 1200 },
	{ "aws", "route_table", "id", 300, 120, 300 },
	{ "aws", "security_group", "id", 600, 0, 900 },
	{ "aws", "key_pair", "key_name", 0, 0, 0 },
	{ "aws", "instance", "id", 600, 600, 1200 },
	{ "aws", "eip", "id", 0, 300, 180 },
	{ "aws", "db_subnet_group", "id", 0, 0, 0 },
	{ "aws", "db_instance", "identifier", 2400, 4800, 3600 },
	{ "aws", "ecr_repository", "name", 0, 0, 1200 },
	{ "docker", "container", "id", 0, 0, 0 },
	{ "docker", "image", "id", 0, 0, 0 },
	{ .provider = NULL },
};

static void check_id_spots(void)
{
	const struct id_spot *s;
	const struct schema_resource *r;
	char path[256];

	for (s = id_spots; s->provider; s++) {
		snprintf(path, sizeof(path), "%s.%s", s->provider, s->type);
		r = schema_resource_find(schema_provider_find(s->provider), s->type, 0);
		check(r != NULL, path, "missing");
		if (!r)
			continue;
		check(r->id_attr && !strcmp(r->id_attr, s->id_attr), path,
		      "id_attr %s, expected %s", r->id_attr ? r->id_attr : "(none)",
		      s->id_attr);
		check(r->timeouts.create == s->create && r->timeouts.update == s->update &&
		      r->timeouts.delete == s->delete, path,
		      "timeouts %d/%d/%d, expected %d/%d/%d", r->timeouts.create,
		      r->timeouts.update, r->timeouts.delete, s->create, s->update, s->delete);
	}
}

/* ---- helpers over the tables ------------------------------------------------------- */

static void check_type_names(void)
{
	const struct schema_resource *r;
	const struct schema_attr *a;
	char buf[256];
	size_t n;
	int k, j;

	for (k = SK_STRING; k <= SK_OBJECT; k++) {
		check(schema_kind_name(k) && *schema_kind_name(k), "schema_kind_name",
		      "kind %d has no name", k);
		for (j = SK_STRING; j < k; j++)
			check(strcmp(schema_kind_name(k), schema_kind_name(j)) != 0,
			      "schema_kind_name", "kinds %d and %d share a name", j, k);
	}
	check(schema_kind_name((enum schema_kind)99) != NULL, "schema_kind_name",
	      "NULL for a bad kind");
	check(!strcmp(schema_kind_name(SK_LIST), "list"), "schema_kind_name", "SK_LIST");

	n = schema_type_name(&schema_list_of_string, buf, sizeof(buf));
	check(!strcmp(buf, "list(string)") && n == 12, "schema_type_name", "got %s", buf);
	schema_type_name(&schema_map_of_string, buf, sizeof(buf));
	check(!strcmp(buf, "map(string)"), "schema_type_name", "got %s", buf);
	schema_type_name(&schema_set_of_string, buf, sizeof(buf));
	check(!strcmp(buf, "set(string)"), "schema_type_name", "got %s", buf);
	schema_type_name(&schema_list_of_number, buf, sizeof(buf));
	check(!strcmp(buf, "list(number)"), "schema_type_name", "got %s", buf);
	schema_type_name(NULL, buf, sizeof(buf));
	check(!strcmp(buf, "?"), "schema_type_name", "NULL type gave %s", buf);

	r = schema_resource_find(schema_provider_find("docker"), "container", 0);
	a = r ? schema_attr_find(&r->block, "ports") : NULL;
	if (a) {
		const char *want = "list(object({internal = number, external = number, "
				   "protocol = string, ip = string}))";

		n = schema_type_name(a->type, buf, sizeof(buf));
		check(!strcmp(buf, want) && n == strlen(want), "schema_type_name",
		      "ports gave %s", buf);
		/* Truncation: like snprintf, the full length, a NUL-terminated prefix. */
		memset(buf, 'x', sizeof(buf));
		n = schema_type_name(a->type, buf, 5);
		check(!strcmp(buf, "list") && n == strlen(want), "schema_type_name",
		      "truncated to %s, %zu", buf, n);
		check(schema_type_name(a->type, NULL, 0) == strlen(want), "schema_type_name",
		      "size 0");
	} else {
		check(0, "docker.container.ports", "missing");
	}
}

static void check_lookups(void)
{
	const struct schema_provider *const *pp;
	struct schema_block empty = { 0 };
	int n = 0;

	for (pp = schema_providers; *pp; pp++)
		n++;
	check(n == 3, "schema_providers", "%d providers, expected 3", n);
	check(schema_provider_find("aws") == &schema_aws, "schema_provider_find", "aws");
	check(schema_provider_find("host") == &schema_host, "schema_provider_find", "host");
	check(schema_provider_find("docker") == &schema_docker, "schema_provider_find",
	      "docker");
	check(schema_provider_find("gcp") == NULL, "schema_provider_find", "gcp");
	check(schema_provider_find(NULL) == NULL, "schema_provider_find", "NULL");
	check(schema_provider_find("") == NULL, "schema_provider_find", "\"\"");
	check(schema_resource_find(NULL, "vpc", 0) == NULL, "schema_resource_find",
	      "NULL provider");
	/* The two kinds are separate namespaces: docker has both an image resource and an
	 * image data source; aws has an ami data source but no ami resource. */
	check(schema_resource_find(&schema_docker, "image", 0) !=
	      schema_resource_find(&schema_docker, "image", 1), "schema_resource_find",
	      "docker image resource and data source are one");
	check(schema_resource_find(&schema_aws, "ami", 0) == NULL, "schema_resource_find",
	      "aws ami as a resource");
	check(schema_resource_find(&schema_aws, "vpc", 1) == NULL, "schema_resource_find",
	      "aws vpc as a data source");
	/* Terraform's prefixed names are not ours. */
	check(schema_resource_find(&schema_aws, "aws_vpc", 0) == NULL, "schema_resource_find",
	      "aws_vpc");
	check(schema_attr_find(NULL, "id") == NULL, "schema_attr_find", "NULL block");
	check(schema_attr_find(&empty, "id") == NULL, "schema_attr_find", "empty block");
	check(schema_nested_find(NULL, "route") == NULL, "schema_nested_find", "NULL block");
	check(schema_nested_find(&empty, "route") == NULL, "schema_nested_find",
	      "empty block");
}

int main(void)
{
	const struct schema_provider *const *pp;

	for (pp = schema_providers; *pp; pp++)
		check_provider(*pp);
	check_types("aws", aws_resource_types, 0);
	check_types("aws", aws_data_types, 1);
	check_types("docker", docker_resource_types, 0);
	check_types("docker", docker_data_types, 1);
	check_spots();
	check_nested_spots();
	check_id_spots();
	check_type_names();
	check_lookups();

	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

/* aws_data.c: the data sources aws.ami, aws.availability_zones, aws.caller_identity and
 * aws.ecr_token. Each is one API call; each returns every attribute of its schema, the
 * arguments as given and null for what the API does not say. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "providers/aws/aws.h"

#define EC2_VERSION "2016-11-15"
#define STS_VERSION "2011-06-15"

/* An argument as given (known), or null. */
static struct value *arg(const struct value *config, const char *key)
{
	struct value *v = config && config->kind == VAL_MAP ? val_map_get(config, key) : NULL;

	return v && !(v->marks & VAL_UNKNOWN) ? val_ref(v) : val_null();
}

/* The known string elements of a list or set argument. */
static size_t str_items(const struct value *config, const char *key, const char **out, size_t max)
{
	const struct value *l = config && config->kind == VAL_MAP ? val_map_get(config, key) : NULL;
	size_t n = 0;

	if (!l || (l->kind != VAL_LIST && l->kind != VAL_SET) || (l->marks & VAL_UNKNOWN))
		return 0;
	for (size_t i = 0; i < l->u.list.n && n < max; i++) {
		const struct value *v = l->u.list.items[i];
		if (v->kind == VAL_STRING && !(v->marks & VAL_UNKNOWN))
			out[n++] = v->u.str.s;
	}
	return n;
}

static int in_list(const struct value *config, const char *key, const char *s)
{
	const char *items[256];
	size_t n = str_items(config, key, items, 256);

	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(items[i], s))
			return 1;
	return 0;
}

/* The filter { name, values } blocks as EC2's Filter.N, numbered from *nf + 1. */
static void filter_params(struct aws_params *p, const struct value *config, int *nf)
{
	const struct value *l = config && config->kind == VAL_MAP ? val_map_get(config, "filter") : NULL;
	char key[64];

	for (size_t i = 0; l && (l->kind == VAL_LIST || l->kind == VAL_SET) && i < l->u.list.n; i++) {
		const struct value *f = l->u.list.items[i];
		const char *name = aws_str(f, "name");
		const char *vals[256];
		size_t nv = str_items(f, "values", vals, 256);
		if (!name)
			continue;
		++*nf;
		snprintf(key, sizeof key, "Filter.%d.Name", *nf);
		aws_param(p, key, "%s", name);
		for (size_t k = 0; k < nv; k++) {
			snprintf(key, sizeof key, "Filter.%d.Value.%zu", *nf, k + 1);
			aws_param(p, key, "%s", vals[k]);
		}
	}
}

static struct value *str_list(const char *const *s, size_t n)
{
	struct value **items = xcalloc(n ? n : 1, sizeof *items);
	struct value *l;

	for (size_t i = 0; i < n; i++)
		items[i] = val_cstring(s[i]);
	l = val_list_take(items, n);
	free(items);
	return l;
}

/* ---- caller_identity ---- */

static int caller_identity_read(struct aws *a, const struct value *config, struct value **result,
				struct diag_ctx *diag)
{
	xmlDoc *doc = aws_query(a, "sts", STS_VERSION, "GetCallerIdentity", NULL, diag, "data.aws.caller_identity");
	xmlNode *r;
	struct aws_obj o;

	(void)config;
	if (!doc)
		return -1;
	r = aws_xml_child(aws_xml_root(doc), "GetCallerIdentityResult");
	aws_obj_init(&o);
	aws_obj_str(&o, "id", aws_xml_text(r, "Account"));
	aws_obj_str(&o, "account_id", aws_xml_text(r, "Account"));
	aws_obj_str(&o, "arn", aws_xml_text(r, "Arn"));
	aws_obj_str(&o, "user_id", aws_xml_text(r, "UserId"));
	*result = aws_obj_done(&o);
	xmlFreeDoc(doc);
	return 0;
}

const struct aws_data aws_caller_identity_data = {
	.type = "caller_identity",
	.read = caller_identity_read,
};

/* ---- ecr_token ---- */

static struct value *secret(const char *s, size_t len)
{
	struct value *v = val_string(s, len);
	struct value *m = val_mark(v, VAL_SENSITIVE);

	val_unref(v);
	return m;
}

static int ecr_token_read(struct aws *a, const struct value *config, struct value **result,
			  struct diag_ctx *diag)
{
	const char *registry = aws_str(config, "registry_id");
	json_t *body = json_object(), *out, *d;
	const char *token, *endpoint;
	unsigned char *plain;
	size_t tlen, plen;
	int n;
	struct aws_obj o;

	if (registry)
		json_object_set_new(body, "registryIds", json_pack("[s]", registry));
	out = aws_json(a, "ecr", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", body, diag,
		       "data.aws.ecr_token", NULL, NULL, 0);
	if (!out)
		return -1;
	d = json_array_get(json_object_get(out, "authorizationData"), 0);
	token = json_string_value(json_object_get(d, "authorizationToken"));
	endpoint = json_string_value(json_object_get(d, "proxyEndpoint"));
	if (!token) {
		diag_error(diag, NULL, "data.aws.ecr_token: ecr GetAuthorizationToken: the answer has no token");
		json_decref(out);
		return -1;
	}
	tlen = strlen(token);
	plain = xmalloc(tlen / 4 * 3 + 4);
	n = EVP_DecodeBlock(plain, (const unsigned char *)token, (int)tlen);
	/* EVP_DecodeBlock counts the padding as zero bytes */
	plen = n > 0 ? (size_t)n : 0;
	for (size_t k = tlen; plen && k && token[k - 1] == '='; k--)
		plen--;
	const char *colon = n > 0 ? memchr(plain, ':', plen) : NULL;
	if (!colon) {
		diag_error(diag, NULL, "data.aws.ecr_token: the token is not base64 of \"user:password\"");
		OPENSSL_cleanse(plain, tlen / 4 * 3 + 4);
		free(plain);
		json_decref(out);
		return -1;
	}
	aws_obj_init(&o);
	aws_obj_str(&o, "id", a->region);
	aws_obj_val(&o, "registry_id", arg(config, "registry_id"));
	aws_obj_val(&o, "username", val_string((const char *)plain, (size_t)(colon - (const char *)plain)));
	aws_obj_val(&o, "password", secret(colon + 1, plen - (size_t)(colon + 1 - (const char *)plain)));
	aws_obj_val(&o, "authorization_token", secret(token, tlen));
	aws_obj_str(&o, "proxy_endpoint", endpoint);
	json_t *exp = json_object_get(d, "expiresAt");
	if (json_is_number(exp)) {
		time_t t = (time_t)json_number_value(exp);
		struct tm tm;
		char when[32];
		gmtime_r(&t, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		aws_obj_str(&o, "expires_at", when);
	} else {
		aws_obj_str(&o, "expires_at", json_string_value(exp));
	}
	*result = aws_obj_done(&o);
	OPENSSL_cleanse(plain, tlen / 4 * 3 + 4);
	free(plain);
	json_decref(out);
	return 0;
}

const struct aws_data aws_ecr_token_data = {
	.type = "ecr_token",
	.read = ecr_token_read,
};

/* ---- availability_zones ---- */

struct zone {
	const char *name, *id, *group;
};

static int zone_cmp(const void *x, const void *y)
{
	return strcmp(((const struct zone *)x)->name, ((const struct zone *)y)->name);
}

static int availability_zones_read(struct aws *a, const struct value *config, struct value **result,
				   struct diag_ctx *diag)
{
	struct aws_params p;
	struct buf zones = BUF_INIT;
	int nf = 0;
	xmlDoc *doc;
	struct aws_obj o;

	aws_params_init(&p);
	if (aws_bool(config, "all_availability_zones", 0))
		aws_param(&p, "AllAvailabilityZones", "true");
	if (aws_str(config, "state")) {
		nf++;
		aws_param(&p, "Filter.1.Name", "state");
		aws_param(&p, "Filter.1.Value.1", "%s", aws_str(config, "state"));
	}
	filter_params(&p, config, &nf);
	doc = aws_query(a, "ec2", EC2_VERSION, "DescribeAvailabilityZones", &p, diag, "data.aws.availability_zones");
	aws_params_release(&p);
	if (!doc)
		return -1;
	for (xmlNode *it = aws_xml_first_item(aws_xml_child(aws_xml_root(doc), "availabilityZoneInfo")); it;
	     it = aws_xml_next_item(it)) {
		struct zone z = { aws_xml_text(it, "zoneName"), aws_xml_text(it, "zoneId"),
				  aws_xml_text(it, "groupName") };
		if (!z.name || in_list(config, "exclude_names", z.name) || in_list(config, "exclude_zone_ids", z.id))
			continue;
		buf_push(&zones, struct zone, z);
	}
	size_t n = buf_count(&zones, struct zone);
	struct zone *zs = (struct zone *)(void *)zones.data;
	const char **names = xcalloc(n ? n : 1, sizeof *names), **ids = xcalloc(n ? n : 1, sizeof *ids);
	struct value **groups = xcalloc(n ? n : 1, sizeof *groups);
	size_t ng = 0;
	if (n)
		qsort(zs, n, sizeof *zs, zone_cmp);
	for (size_t i = 0; i < n; i++) {
		names[i] = zs[i].name;
		ids[i] = zs[i].id ? zs[i].id : "";
		if (zs[i].group)
			groups[ng++] = val_cstring(zs[i].group);
	}
	aws_obj_init(&o);
	aws_obj_str(&o, "id", a->region);
	aws_obj_val(&o, "state", arg(config, "state"));
	aws_obj_val(&o, "all_availability_zones", arg(config, "all_availability_zones"));
	aws_obj_val(&o, "exclude_names", arg(config, "exclude_names"));
	aws_obj_val(&o, "exclude_zone_ids", arg(config, "exclude_zone_ids"));
	aws_obj_val(&o, "filter", arg(config, "filter"));
	aws_obj_val(&o, "names", str_list(names, n));
	aws_obj_val(&o, "zone_ids", str_list(ids, n));
	aws_obj_val(&o, "group_names", val_set_take(groups, ng));
	*result = aws_obj_done(&o);
	free(names);
	free(ids);
	free(groups);
	buf_release(&zones);
	xmlFreeDoc(doc);
	return 0;
}

const struct aws_data aws_availability_zones_data = {
	.type = "availability_zones",
	.read = availability_zones_read,
};

/* ---- ami ---- */

static void obj_xml_str(struct aws_obj *o, const char *key, xmlNode *from, const char *path)
{
	aws_obj_str(o, key, aws_xml_text(from, path));
}

static void obj_xml_bool(struct aws_obj *o, const char *key, xmlNode *from, const char *path)
{
	const char *v = aws_xml_text(from, path);

	aws_obj_val(o, key, v ? val_bool(!strcmp(v, "true")) : val_null());
}

/* blockDeviceMapping -> a set of { device_name, ebs, no_device, virtual_name }. */
static struct value *block_devices(xmlNode *set)
{
	struct buf items = BUF_INIT;
	struct value *r;

	for (xmlNode *it = aws_xml_first_item(set); it; it = aws_xml_next_item(it)) {
		xmlNode *ebs = aws_xml_child(it, "ebs");
		struct aws_obj o, e;
		aws_obj_init(&o);
		obj_xml_str(&o, "device_name", it, "deviceName");
		obj_xml_str(&o, "virtual_name", it, "virtualName");
		obj_xml_str(&o, "no_device", it, "noDevice");
		aws_obj_init(&e);
		/* EC2's camelCase names as Terraform's snake_case keys */
		static const char *const keys[][2] = {
			{ "snapshotId", "snapshot_id" }, { "volumeSize", "volume_size" },
			{ "volumeType", "volume_type" }, { "deleteOnTermination", "delete_on_termination" },
			{ "encrypted", "encrypted" }, { "iops", "iops" }, { "throughput", "throughput" },
		};
		for (size_t k = 0; ebs && k < sizeof keys / sizeof keys[0]; k++) {
			const char *v = aws_xml_text(ebs, keys[k][0]);
			if (v)
				aws_obj_str(&e, keys[k][1], v);
		}
		aws_obj_val(&o, "ebs", aws_obj_done(&e));
		buf_push(&items, struct value *, aws_obj_done(&o));
	}
	r = val_set_take((struct value **)(void *)items.data, buf_count(&items, struct value *));
	buf_release(&items);
	return r;
}

static const char *root_snapshot(xmlNode *img)
{
	const char *root = aws_xml_text(img, "rootDeviceName");

	for (xmlNode *it = aws_xml_first_item(aws_xml_child(img, "blockDeviceMapping")); root && it;
	     it = aws_xml_next_item(it)) {
		const char *dev = aws_xml_text(it, "deviceName");
		if (dev && !strcmp(dev, root))
			return aws_xml_text(it, "ebs/snapshotId");
	}
	return NULL;
}

static struct value *ami_value(struct aws *a, xmlNode *img, const struct value *config)
{
	const char *id = aws_xml_text(img, "imageId");
	struct aws_obj o;

	aws_obj_init(&o);
	aws_obj_val(&o, "owners", arg(config, "owners"));
	aws_obj_val(&o, "most_recent", arg(config, "most_recent"));
	aws_obj_val(&o, "name_regex", arg(config, "name_regex"));
	aws_obj_val(&o, "executable_users", arg(config, "executable_users"));
	aws_obj_val(&o, "include_deprecated", arg(config, "include_deprecated"));
	aws_obj_val(&o, "filter", arg(config, "filter"));
	aws_obj_str(&o, "id", id);
	aws_obj_str(&o, "image_id", id);
	char *arn = xasprintf("arn:aws:ec2:%s::image/%s", a->region, id ? id : "");
	aws_obj_val(&o, "arn", val_string_take(arn, strlen(arn)));
	/* name is both the pattern and the answer; a given pattern must stay as given, or the
	 * result would disagree with the configuration (and the data source be read again at
	 * every plan) */
	if (aws_str(config, "name"))
		aws_obj_val(&o, "name", arg(config, "name"));
	else
		obj_xml_str(&o, "name", img, "name");
	obj_xml_str(&o, "architecture", img, "architecture");
	obj_xml_str(&o, "creation_date", img, "creationDate");
	obj_xml_str(&o, "deprecation_time", img, "deprecationTime");
	obj_xml_str(&o, "description", img, "description");
	obj_xml_str(&o, "owner_id", img, "imageOwnerId");
	obj_xml_str(&o, "image_owner_alias", img, "imageOwnerAlias");
	obj_xml_str(&o, "image_location", img, "imageLocation");
	obj_xml_str(&o, "image_type", img, "imageType");
	obj_xml_str(&o, "platform", img, "platform");
	obj_xml_str(&o, "platform_details", img, "platformDetails");
	obj_xml_bool(&o, "public", img, "isPublic");
	obj_xml_str(&o, "root_device_name", img, "rootDeviceName");
	obj_xml_str(&o, "root_device_type", img, "rootDeviceType");
	aws_obj_str(&o, "root_snapshot_id", root_snapshot(img));
	obj_xml_str(&o, "virtualization_type", img, "virtualizationType");
	obj_xml_str(&o, "boot_mode", img, "bootMode");
	obj_xml_bool(&o, "ena_support", img, "enaSupport");
	obj_xml_str(&o, "hypervisor", img, "hypervisor");
	obj_xml_str(&o, "kernel_id", img, "kernelId");
	obj_xml_str(&o, "ramdisk_id", img, "ramdiskId");
	obj_xml_str(&o, "sriov_net_support", img, "sriovNetSupport");
	obj_xml_str(&o, "state", img, "imageState");
	obj_xml_str(&o, "usage_operation", img, "usageOperation");
	aws_obj_val(&o, "block_device_mappings", block_devices(aws_xml_child(img, "blockDeviceMapping")));
	aws_obj_val(&o, "tags", aws_tags_value(aws_xml_child(img, "tagSet")));
	return aws_obj_done(&o);
}

static int ami_read(struct aws *a, const struct value *config, struct value **result, struct diag_ctx *diag)
{
	const char *addr = "data.aws.ami";
	const char *owners[256], *users[256];
	size_t nown = str_items(config, "owners", owners, 256), nuse = str_items(config, "executable_users", users, 256);
	const char *name = aws_str(config, "name"), *name_regex = aws_str(config, "name_regex");
	struct aws_params p;
	char key[64];
	int nf = 0, ret = -1;
	regex_t re;
	xmlDoc *doc;
	xmlNode *best = NULL;
	size_t matches = 0;

	if (name_regex) {
		int rc = regcomp(&re, name_regex, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			char why[128];
			regerror(rc, &re, why, sizeof why);
			diag_error(diag, NULL, "%s: name_regex: %s", addr, why);
			return -1;
		}
	}
	aws_params_init(&p);
	for (size_t i = 0; i < nown; i++) {
		snprintf(key, sizeof key, "Owner.%zu", i + 1);
		aws_param(&p, key, "%s", owners[i]);
	}
	for (size_t i = 0; i < nuse; i++) {
		snprintf(key, sizeof key, "ExecutableBy.%zu", i + 1);
		aws_param(&p, key, "%s", users[i]);
	}
	if (aws_bool(config, "include_deprecated", 0))
		aws_param(&p, "IncludeDeprecated", "true");
	if (name) {
		nf++;
		aws_param(&p, "Filter.1.Name", "name");
		aws_param(&p, "Filter.1.Value.1", "%s", name);
	}
	filter_params(&p, config, &nf);
	doc = aws_query(a, "ec2", EC2_VERSION, "DescribeImages", &p, diag, addr);
	aws_params_release(&p);
	if (!doc)
		goto out;
	for (xmlNode *it = aws_xml_first_item(aws_xml_child(aws_xml_root(doc), "imagesSet")); it;
	     it = aws_xml_next_item(it)) {
		const char *nm = aws_xml_text(it, "name");
		if (name_regex && (!nm || regexec(&re, nm, 0, NULL, 0)))
			continue;
		matches++;
		/* creationDate is ISO 8601 in one format throughout: text order is time order */
		const char *c = aws_xml_text(it, "creationDate"), *bc = best ? aws_xml_text(best, "creationDate") : NULL;
		if (!best || (c && (!bc || strcmp(c, bc) > 0)))
			best = it;
	}
	if (!matches) {
		diag_error(diag, NULL, "%s: your query returned no results", addr);
		diag_hint(diag, "change the owners, name or filters of the search");
	} else if (matches > 1 && !aws_bool(config, "most_recent", 0)) {
		diag_error(diag, NULL, "%s: your query returned %zu results", addr, matches);
		diag_hint(diag, "narrow the search, or set most_recent = true to take the newest");
	} else {
		*result = ami_value(a, best, config);
		ret = 0;
	}
	xmlFreeDoc(doc);
out:
	if (name_regex)
		regfree(&re);
	return ret;
}

const struct aws_data aws_ami_data = {
	.type = "ami",
	.read = ami_read,
};

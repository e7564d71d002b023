/* rds.c: aws.db_subnet_group and aws.db_instance through the RDS query API.
 *
 * RDS lists are elements named after their members (<DBSubnetGroups><DBSubnetGroup/>...), not
 * EC2's <item>s, and its list parameters are spelled the way the SDKs spell them
 * ("Tags.Tag.1.Key", "SubnetIds.SubnetIdentifier.1"), which both RDS and moto accept.
 *
 * Reads are batched: all DB instances are one DescribeDBInstances filtered by identifier; DB
 * subnet groups have no such filter, and asking for one by name makes an unknown name an
 * error, so a refresh lists them all (paginated by Marker) and picks. Subnet groups' tags are
 * not in that answer: they cost one ListTagsForResource each. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "providers/aws/aws.h"

#define RDS_VERSION "2014-10-31"
/* db_instance's create timeout in the schema, for a caller that gives none */
#define DEFAULT_TIMEOUT_S (40 * 60)

/* ---- shared helpers ---- */

/* The next sibling element named as this one: RDS's list members. */
static xmlNode *xml_next(xmlNode *n)
{
	for (xmlNode *c = n ? n->next : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, (const char *)n->name))
			return c;
	return NULL;
}

/* <ActionResult> under the answer's root. */
static xmlNode *result_of(xmlDoc *doc, const char *action)
{
	char name[96];

	snprintf(name, sizeof name, "%sResult", action);
	return aws_xml_child(aws_xml_root(doc), name);
}

static xmlDoc *rds(struct aws *a, const char *action, struct aws_params *p, struct diag_ctx *diag,
		   const char *addr)
{
	xmlDoc *doc = aws_query(a, "rds", RDS_VERSION, action, p, diag, addr);

	aws_params_release(p);
	return doc;
}

/* One call whose answer is only success or failure. */
static int call(struct aws *a, const char *action, struct aws_params *p, struct diag_ctx *diag,
		const char *addr)
{
	xmlDoc *doc = rds(a, action, p, diag, addr);

	if (!doc)
		return -1;
	xmlFreeDoc(doc);
	return 0;
}

static int known(const struct value *v)
{
	return v && v->kind != VAL_NULL && !(v->marks & VAL_UNKNOWN);
}

/* A scalar of a borrowed value, as a new one (prior and planned values are not ours to
 * reference). */
static struct value *copy_scalar(const struct value *v)
{
	if (!known(v))
		return val_null();
	switch (v->kind) {
	case VAL_STRING:
		return val_string(v->u.str.s, v->u.str.len);
	case VAL_BOOL:
		return val_bool(v->u.b);
	case VAL_NUMBER:
		return val_number(v->u.n);
	default:
		return val_null();
	}
}

/* The strings of a set or list, as "Key.Member.N" parameters. */
static void put_list(struct aws_params *p, const char *key, const struct value *v)
{
	char k[96];
	size_t n = 0;

	for (size_t i = 0; known(v) && i < val_length(v); i++) {
		if (v->u.list.items[i]->kind != VAL_STRING)
			continue;
		snprintf(k, sizeof k, "%s.%zu", key, ++n);
		aws_param(p, k, "%s", v->u.list.items[i]->u.str.s);
	}
}

/* <TagList><Tag><Key/><Value/></Tag>... as a map, without stk's own tags. */
static struct value *tags_value(xmlNode *list)
{
	struct aws_obj o;

	aws_obj_init(&o);
	for (xmlNode *t = aws_xml_child(list, "Tag"); t; t = xml_next(t)) {
		const char *k = aws_xml_text(t, "Key"), *v = aws_xml_text(t, "Value");
		if (k && strncmp(k, "stk:", 4))
			aws_obj_str(&o, k, v ? v : "");
	}
	return aws_obj_done(&o);
}

/* The texts at path under each member of a list, as a set of strings. */
static struct value *strings_value(xmlNode *list, const char *member, const char *path)
{
	struct buf items = BUF_INIT;

	for (xmlNode *m = aws_xml_child(list, member); m; m = xml_next(m)) {
		const char *s = path ? aws_xml_text(m, path) : aws_xml_text(m, "");
		if (s)
			buf_push(&items, struct value *, val_cstring(s));
	}
	struct value *v = val_set_take((struct value **)(void *)items.data,
				       buf_count(&items, struct value *));
	buf_release(&items);
	return v;
}

/* Tags: what is to go is removed, what is new or different is added. */
static int update_tags(struct aws *a, const char *arn, const struct value *before,
		       const struct value *after, struct diag_ctx *diag, const char *addr)
{
	struct aws_params del, add;
	size_t nd = 0, na = 0;
	char key[64];
	int ret = 0;

	aws_params_init(&del);
	aws_params_init(&add);
	aws_param(&del, "ResourceName", "%s", arn);
	aws_param(&add, "ResourceName", "%s", arn);
	for (size_t i = 0; known(before) && before->kind == VAL_MAP && i < before->u.map.n; i++)
		if (!known(after) || after->kind != VAL_MAP || !val_map_get(after, before->u.map.items[i].key)) {
			snprintf(key, sizeof key, "TagKeys.member.%zu", ++nd);
			aws_param(&del, key, "%s", before->u.map.items[i].key);
		}
	for (size_t i = 0; known(after) && after->kind == VAL_MAP && i < after->u.map.n; i++) {
		const struct value *b = known(before) && before->kind == VAL_MAP ?
					val_map_get(before, after->u.map.items[i].key) : NULL;
		const struct value *v = after->u.map.items[i].val;
		if (v->kind != VAL_STRING || (b && val_equal(b, v)))
			continue;
		na++;
		snprintf(key, sizeof key, "Tags.Tag.%zu.Key", na);
		aws_param(&add, key, "%s", after->u.map.items[i].key);
		snprintf(key, sizeof key, "Tags.Tag.%zu.Value", na);
		aws_param(&add, key, "%s", v->u.str.s);
	}
	if (nd)
		ret |= call(a, "RemoveTagsFromResource", &del, diag, addr);
	else
		aws_params_release(&del);
	if (na)
		ret |= call(a, "AddTagsToResource", &add, diag, addr);
	else
		aws_params_release(&add);
	return ret;
}

/* A name for an object the configuration leaves unnamed: the prefix (default "stk-") and
 * the create's token, which is unique; RDS names are lower case. */
static char *generated_name(const struct value *planned, const char *prefix_attr, const char *token)
{
	const char *prefix = aws_str(planned, prefix_attr);
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s", prefix ? prefix : "stk-");
	if (token) {
		for (const char *t = token; *t && b.len < 40; t++)
			if (isalnum((unsigned char)*t))
				buf_addch(&b, tolower((unsigned char)*t));
	} else {
		buf_printf(&b, "%lx", (unsigned long)time(NULL));
	}
	return buf_detach(&b, NULL);
}

/* A name from the plan, or a generated one. */
static char *name_of(const struct value *planned, const char *attr, const char *prefix_attr,
		     const char *token)
{
	const char *name = aws_str(planned, attr);

	return name ? xstrdup(name) : generated_name(planned, prefix_attr, token);
}

/* Whether the RDS object at arn carries token as its stk:token tag (tags_value hides it). */
static int has_token(struct aws *a, const char *arn, const char *token, int *has, struct diag_ctx *diag)
{
	struct aws_params p;
	xmlDoc *doc;

	*has = 0;
	aws_params_init(&p);
	aws_param(&p, "ResourceName", "%s", arn);
	doc = rds(a, "ListTagsForResource", &p, diag, NULL);
	if (!doc)
		return -1;
	for (xmlNode *t = aws_xml_child(aws_xml_child(result_of(doc, "ListTagsForResource"), "TagList"), "Tag");
	     t; t = xml_next(t)) {
		const char *k = aws_xml_text(t, "Key"), *v = aws_xml_text(t, "Value");
		if (k && v && !strcmp(k, "stk:token") && !strcmp(v, token))
			*has = 1;
	}
	xmlFreeDoc(doc);
	return 0;
}

/* Keeps *found only when it carries token: an object of that name made by someone else is
 * not adopted (creating ours will then fail, and say so). */
static int keep_if_token(struct aws *a, const char *token, struct value **found, struct diag_ctx *diag)
{
	int has = 0;

	if (*found && aws_str(*found, "arn") && has_token(a, aws_str(*found, "arn"), token, &has, diag)) {
		val_unref(*found);
		*found = NULL;
		return -1;
	}
	if (!has) {
		val_unref(*found);
		*found = NULL;
	}
	return 0;
}

/* ---- db_subnet_group ---- */

static int read_groups(struct aws *a, const char *const *names, size_t n, const struct value *const *src,
		       struct value **results, struct diag_ctx *diag)
{
	char *marker = NULL;
	int ret = 0;

	for (size_t i = 0; i < n; i++)
		results[i] = NULL;
	if (!n)
		return 0;
	do {
		struct aws_params p;
		xmlDoc *doc;

		aws_params_init(&p);
		aws_param(&p, "MaxRecords", "100");
		if (marker)
			aws_param(&p, "Marker", "%s", marker);
		free(marker);
		marker = NULL;
		if (!(doc = rds(a, "DescribeDBSubnetGroups", &p, diag, NULL))) {
			ret = -1;
			break;
		}
		xmlNode *res = result_of(doc, "DescribeDBSubnetGroups");
		for (xmlNode *g = aws_xml_child(aws_xml_child(res, "DBSubnetGroups"), "DBSubnetGroup"); g;
		     g = xml_next(g)) {
			const char *name = aws_xml_text(g, "DBSubnetGroupName");
			size_t k;
			for (k = 0; k < n && (!name || strcmp(names[k], name)); k++)
				;
			if (k == n || results[k])
				continue;
			struct aws_obj o;
			aws_obj_init(&o);
			aws_obj_str(&o, "id", name);
			aws_obj_str(&o, "name", name);
			aws_obj_val(&o, "name_prefix", copy_scalar(val_map_get(src[k], "name_prefix")));
			aws_obj_str(&o, "description", aws_xml_text(g, "DBSubnetGroupDescription"));
			aws_obj_val(&o, "subnet_ids", strings_value(aws_xml_child(g, "Subnets"), "Subnet",
								   "SubnetIdentifier"));
			aws_obj_str(&o, "arn", aws_xml_text(g, "DBSubnetGroupArn"));
			aws_obj_val(&o, "supported_network_types",
				    strings_value(aws_xml_child(g, "SupportedNetworkTypes"), "member", NULL));
			aws_obj_str(&o, "vpc_id", aws_xml_text(g, "VpcId"));
			/* filled in below, once every page is read */
			aws_obj_val(&o, "tags", val_empty_map());
			results[k] = aws_obj_done(&o);
		}
		const char *m = aws_xml_text(res, "Marker");
		marker = m && *m ? xstrdup(m) : NULL;
		xmlFreeDoc(doc);
	} while (marker);
	free(marker);
	/* tags are not part of DescribeDBSubnetGroups' answer */
	for (size_t i = 0; !ret && i < n; i++) {
		const char *arn = aws_str(results[i], "arn");
		struct aws_params p;
		xmlDoc *doc;

		if (!arn)
			continue;
		aws_params_init(&p);
		aws_param(&p, "ResourceName", "%s", arn);
		if (!(doc = rds(a, "ListTagsForResource", &p, diag, NULL))) {
			ret = -1;
			break;
		}
		struct value *tags = tags_value(aws_xml_child(result_of(doc, "ListTagsForResource"), "TagList"));
		xmlFreeDoc(doc);
		/* results are immutable once built: rebuild the map with the tags */
		struct aws_obj o;
		aws_obj_init(&o);
		for (size_t j = 0; j < results[i]->u.map.n; j++) {
			const char *key = results[i]->u.map.items[j].key;
			aws_obj_val(&o, key, !strcmp(key, "tags") ? val_ref(tags) :
					     val_ref(results[i]->u.map.items[j].val));
		}
		val_unref(tags);
		val_unref(results[i]);
		results[i] = aws_obj_done(&o);
	}
	if (ret)
		for (size_t i = 0; i < n; i++) {
			val_unref(results[i]);
			results[i] = NULL;
		}
	return ret;
}

static int group_read_one(struct aws *a, const char *name, const struct value *src, struct value **result,
			  struct diag_ctx *diag, const char *addr)
{
	const char *names[1] = { name };
	const struct value *srcs[1] = { src };

	if (read_groups(a, names, 1, srcs, result, diag))
		return -1;
	if (!*result) {
		diag_error(diag, NULL, "%s: DB subnet group %s cannot be read back", addr, name);
		return -1;
	}
	return 0;
}

static int group_create(struct aws *a, const struct provider_op *op, struct value **result,
			struct diag_ctx *diag)
{
	char *name = name_of(op->planned, "name", "name_prefix", op->token);
	struct aws_params p;
	size_t nt = 0;
	int ret;

	aws_params_init(&p);
	aws_param(&p, "DBSubnetGroupName", "%s", name);
	aws_param(&p, "DBSubnetGroupDescription", "%s", aws_str(op->planned, "description") ?: "Managed by stk");
	put_list(&p, "SubnetIds.SubnetIdentifier", val_map_get(op->planned, "subnet_ids"));
	aws_tag_params(&p, "Tags", &nt, val_map_get(op->planned, "tags"), op->token);
	ret = call(a, "CreateDBSubnetGroup", &p, diag, op->addr);
	if (!ret)
		ret = group_read_one(a, name, op->planned, result, diag, op->addr);
	free(name);
	return ret;
}

static int group_update(struct aws *a, const struct provider_op *op, struct value **result,
			struct diag_ctx *diag)
{
	const char *name = aws_str(op->prior, "name");
	const struct value *before = val_map_get(op->prior, "subnet_ids");
	const struct value *after = val_map_get(op->planned, "subnet_ids");
	const char *db = aws_str(op->prior, "description"), *da = aws_str(op->planned, "description");
	int bad = 0;

	if (!name) {
		diag_error(diag, NULL, "%s: the state has no name for this DB subnet group", op->addr);
		return -1;
	}
	/* ModifyDBSubnetGroup takes the whole subnet list, and the description with it */
	if (!val_equal(before ? before : val_null(), after ? after : val_null()) ||
	    (da && (!db || strcmp(db, da)))) {
		struct aws_params p;
		aws_params_init(&p);
		aws_param(&p, "DBSubnetGroupName", "%s", name);
		if (da)
			aws_param(&p, "DBSubnetGroupDescription", "%s", da);
		put_list(&p, "SubnetIds.SubnetIdentifier", after);
		bad |= call(a, "ModifyDBSubnetGroup", &p, diag, op->addr);
	}
	if (aws_str(op->prior, "arn"))
		bad |= update_tags(a, aws_str(op->prior, "arn"), val_map_get(op->prior, "tags"),
				   val_map_get(op->planned, "tags"), diag, op->addr);
	if (group_read_one(a, name, op->planned, result, diag, op->addr))
		return -1;
	return bad ? -1 : 0;
}

static int group_remove(struct aws *a, const struct provider_op *op, struct diag_ctx *diag)
{
	struct aws_params p;

	aws_params_init(&p);
	aws_param(&p, "DBSubnetGroupName", "%s", aws_str(op->prior, "name") ?: "");
	return call(a, "DeleteDBSubnetGroup", &p, diag, op->addr);
}

static int group_read(struct aws *a, struct provider_read *items, size_t n, struct diag_ctx *diag)
{
	const char **names = xcalloc(n ? n : 1, sizeof *names);
	const struct value **srcs = xcalloc(n ? n : 1, sizeof *srcs);
	struct value **res = xcalloc(n ? n : 1, sizeof *res);
	int ret;

	for (size_t i = 0; i < n; i++) {
		names[i] = aws_str(items[i].prior, "name") ?: "";
		srcs[i] = items[i].prior;
	}
	ret = read_groups(a, names, n, srcs, res, diag);
	for (size_t i = 0; i < n; i++)
		items[i].result = res[i];
	free(names);
	free(srcs);
	free(res);
	return ret;
}

static int group_find(struct aws *a, const char *token, const struct value *planned, struct value **result,
		      struct diag_ctx *diag)
{
	/* the name the create used: the configured one, or the one generated from the token */
	char *name = name_of(planned, "name", "name_prefix", token);
	const char *names[1] = { name };
	const struct value *srcs[1] = { planned };
	int ret = read_groups(a, names, 1, srcs, result, diag);

	if (!ret)
		ret = keep_if_token(a, token, result, diag);
	free(name);
	return ret;
}

const struct aws_resource aws_db_subnet_group_resource = {
	.type = "db_subnet_group",
	.create = group_create,
	.update = group_update,
	.remove = group_remove,
	.read = group_read,
	.find = group_find,
};

/* ---- db_instance ---- */

/* The arguments that map one to one onto CreateDBInstance and ModifyDBInstance parameters
 * (NULL where the call has none: those attributes force a new instance or are only set at
 * creation) and what DescribeDBInstances reports for them (NULL: RDS does not say, the
 * configuration's value is kept). if_set: an optional attribute without a default, null
 * while the configuration leaves it out whatever RDS reports, so that there is no diff. */
struct db_arg {
	const char *attr;
	char kind;		/* 's', 'n', 'b' */
	const char *create, *modify, *path;
	int if_set;
};

static const struct db_arg db_args[] = {
	{ "engine", 's', "Engine", NULL, "Engine", 0 },
	{ "instance_class", 's', "DBInstanceClass", "DBInstanceClass", "DBInstanceClass", 0 },
	{ "allocated_storage", 'n', "AllocatedStorage", "AllocatedStorage", "AllocatedStorage", 0 },
	{ "max_allocated_storage", 'n', "MaxAllocatedStorage", "MaxAllocatedStorage", "MaxAllocatedStorage", 1 },
	{ "storage_type", 's', "StorageType", "StorageType", "StorageType", 0 },
	{ "iops", 'n', "Iops", "Iops", "Iops", 0 },
	{ "storage_encrypted", 'b', "StorageEncrypted", NULL, "StorageEncrypted", 1 },
	{ "kms_key_id", 's', "KmsKeyId", NULL, "KmsKeyId", 0 },
	{ "db_name", 's', "DBName", NULL, "DBName", 0 },
	{ "username", 's', "MasterUsername", NULL, "MasterUsername", 0 },
	{ "port", 'n', "Port", "DBPortNumber", "Endpoint/Port", 0 },
	{ "db_subnet_group_name", 's', "DBSubnetGroupName", "DBSubnetGroupName",
	  "DBSubnetGroup/DBSubnetGroupName", 0 },
	{ "availability_zone", 's', "AvailabilityZone", NULL, "AvailabilityZone", 0 },
	{ "publicly_accessible", 'b', "PubliclyAccessible", "PubliclyAccessible", "PubliclyAccessible", 0 },
	{ "multi_az", 'b', "MultiAZ", "MultiAZ", "MultiAZ", 0 },
	{ "parameter_group_name", 's', "DBParameterGroupName", "DBParameterGroupName",
	  "DBParameterGroups/DBParameterGroup/DBParameterGroupName", 0 },
	{ "option_group_name", 's', "OptionGroupName", "OptionGroupName",
	  "OptionGroupMemberships/OptionGroupMembership/OptionGroupName", 0 },
	{ "backup_retention_period", 'n', "BackupRetentionPeriod", "BackupRetentionPeriod",
	  "BackupRetentionPeriod", 0 },
	{ "backup_window", 's', "PreferredBackupWindow", "PreferredBackupWindow", "PreferredBackupWindow", 0 },
	{ "maintenance_window", 's', "PreferredMaintenanceWindow", "PreferredMaintenanceWindow",
	  "PreferredMaintenanceWindow", 0 },
	{ "auto_minor_version_upgrade", 'b', "AutoMinorVersionUpgrade", "AutoMinorVersionUpgrade",
	  "AutoMinorVersionUpgrade", 0 },
	{ "copy_tags_to_snapshot", 'b', "CopyTagsToSnapshot", "CopyTagsToSnapshot", "CopyTagsToSnapshot", 0 },
	{ "deletion_protection", 'b', "DeletionProtection", "DeletionProtection", "DeletionProtection", 1 },
	{ "iam_database_authentication_enabled", 'b', "EnableIAMDatabaseAuthentication",
	  "EnableIAMDatabaseAuthentication", "IAMDatabaseAuthenticationEnabled", 1 },
	{ "performance_insights_enabled", 'b', "EnablePerformanceInsights", "EnablePerformanceInsights",
	  "PerformanceInsightsEnabled", 0 },
	{ "monitoring_interval", 'n', "MonitoringInterval", "MonitoringInterval", "MonitoringInterval", 0 },
	{ "ca_cert_identifier", 's', "CACertificateIdentifier", "CACertificateIdentifier",
	  "CACertificateIdentifier", 0 },
	/* kept from the configuration: RDS has nothing to report */
	{ "apply_immediately", 'b', NULL, NULL, NULL, 0 },
	{ "allow_major_version_upgrade", 'b', NULL, NULL, NULL, 1 },
	{ "skip_final_snapshot", 'b', NULL, NULL, NULL, 0 },
	{ "final_snapshot_identifier", 's', NULL, NULL, NULL, 0 },
	{ "snapshot_identifier", 's', NULL, NULL, NULL, 0 },
	{ "identifier_prefix", 's', NULL, NULL, NULL, 0 },
	{ NULL, 0, NULL, NULL, NULL, 0 }
};

static void put_arg(struct aws_params *p, const char *param, const struct db_arg *arg, const struct value *v)
{
	if (arg->kind == 'n')
		aws_param(p, param, "%.0f", v->u.n);
	else if (arg->kind == 'b')
		aws_param(p, param, "%s", v->u.b ? "true" : "false");
	else
		aws_param(p, param, "%s", v->u.str.s);
}

/* What RDS reports for arg, else the value src (planned or prior) has. */
static struct value *arg_value(const struct db_arg *arg, xmlNode *db, const struct value *src)
{
	const struct value *sv = val_map_get(src, arg->attr);
	const char *text = arg->path ? aws_xml_text(db, arg->path) : NULL;

	if (arg->if_set && !known(sv))
		return val_null();
	if (!text || !*text)
		return copy_scalar(sv);
	if (arg->kind == 'n')
		return val_number(strtod(text, NULL));
	if (arg->kind == 'b')
		return val_bool(!strcmp(text, "true"));
	return val_cstring(text);
}

static struct value *instance_value(xmlNode *db, const struct value *src)
{
	const char *address = aws_xml_text(db, "Endpoint/Address"), *port = aws_xml_text(db, "Endpoint/Port");
	const char *version = aws_xml_text(db, "EngineVersion"), *want = aws_str(src, "engine_version");
	const struct value *pw = val_map_get(src, "password");
	struct aws_obj o;

	aws_obj_init(&o);
	for (const struct db_arg *arg = db_args; arg->attr; arg++)
		aws_obj_val(&o, arg->attr, arg_value(arg, db, src));
	aws_obj_str(&o, "identifier", aws_xml_text(db, "DBInstanceIdentifier"));
	/* a version prefix ("16") asks for the latest minor version: it is still met */
	if (version && want && !strncmp(version, want, strlen(want)) &&
	    (version[strlen(want)] == '.' || !version[strlen(want)]))
		aws_obj_str(&o, "engine_version", want);
	else
		aws_obj_str(&o, "engine_version", version);
	aws_obj_str(&o, "engine_version_actual", version);
	/* write-only: RDS never tells, so it is what was last sent */
	if (known(pw)) {
		struct value *s = val_string(pw->u.str.s, pw->u.str.len);
		aws_obj_val(&o, "password", val_mark(s, VAL_SENSITIVE));
		val_unref(s);
	} else {
		aws_obj_str(&o, "password", NULL);
	}
	aws_obj_val(&o, "vpc_security_group_ids", strings_value(aws_xml_child(db, "VpcSecurityGroups"),
								"VpcSecurityGroupMembership", "VpcSecurityGroupId"));
	aws_obj_val(&o, "tags", tags_value(aws_xml_child(db, "TagList")));
	aws_obj_str(&o, "id", aws_xml_text(db, "DbiResourceId"));
	aws_obj_str(&o, "resource_id", aws_xml_text(db, "DbiResourceId"));
	aws_obj_str(&o, "arn", aws_xml_text(db, "DBInstanceArn"));
	aws_obj_str(&o, "address", address);
	if (address && port) {
		char *ep = xasprintf("%s:%s", address, port);
		aws_obj_val(&o, "endpoint", val_string_take(ep, strlen(ep)));
	} else {
		aws_obj_str(&o, "endpoint", NULL);
	}
	aws_obj_str(&o, "hosted_zone_id", aws_xml_text(db, "Endpoint/HostedZoneId"));
	aws_obj_str(&o, "status", aws_xml_text(db, "DBInstanceStatus"));
	aws_obj_str(&o, "latest_restorable_time", aws_xml_text(db, "LatestRestorableTime"));
	return aws_obj_done(&o);
}

/* Reads instances by identifier in one filtered call (paginated); results[i] is NULL for one
 * that is gone. status[i], when not NULL, gets each one's status (malloc'd). */
static int read_instances(struct aws *a, const char *const *ids, size_t n, const struct value *const *src,
			  struct value **results, char **status, struct diag_ctx *diag, const char *addr)
{
	char *marker = NULL;
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		results[i] = NULL;
		if (status)
			status[i] = NULL;
	}
	if (!n)
		return 0;
	do {
		struct aws_params p;
		xmlDoc *doc;

		aws_params_init(&p);
		/* a filter, not DBInstanceIdentifier: an unknown one is then no error, just absent */
		aws_param(&p, "Filters.Filter.1.Name", "db-instance-id");
		for (size_t i = 0; i < n; i++) {
			char key[64];
			snprintf(key, sizeof key, "Filters.Filter.1.Values.Value.%zu", i + 1);
			aws_param(&p, key, "%s", ids[i]);
		}
		aws_param(&p, "MaxRecords", "100");
		if (marker)
			aws_param(&p, "Marker", "%s", marker);
		free(marker);
		marker = NULL;
		if (!(doc = rds(a, "DescribeDBInstances", &p, diag, addr))) {
			ret = -1;
			break;
		}
		xmlNode *res = result_of(doc, "DescribeDBInstances");
		for (xmlNode *db = aws_xml_child(aws_xml_child(res, "DBInstances"), "DBInstance"); db;
		     db = xml_next(db)) {
			const char *id = aws_xml_text(db, "DBInstanceIdentifier");
			size_t k;
			for (k = 0; k < n && (!id || strcmp(ids[k], id)); k++)
				;
			if (k == n || results[k])
				continue;
			results[k] = instance_value(db, src[k]);
			if (status)
				status[k] = xstrdup(aws_xml_text(db, "DBInstanceStatus") ?: "");
		}
		const char *m = aws_xml_text(res, "Marker");
		marker = m && *m ? xstrdup(m) : NULL;
		xmlFreeDoc(doc);
	} while (marker);
	free(marker);
	if (ret)
		for (size_t i = 0; i < n; i++) {
			val_unref(results[i]);
			results[i] = NULL;
		}
	return ret;
}

/* Statuses from which an instance does not become available by itself. */
static int hopeless(const char *status)
{
	static const char *const bad[] = {
		"failed", "incompatible-parameters", "incompatible-network", "incompatible-option-group",
		"incompatible-restore", "inaccessible-encryption-credentials", "storage-full", "stopped",
		NULL
	};

	for (const char *const *b = bad; *b; b++)
		if (!strcmp(status, *b))
			return 1;
	return 0;
}

/* Does the instance still have changes to apply (after a modify, RDS may report "available"
 * before it starts on them)? */
static int has_pending(struct aws *a, const char *id, int *pending, struct diag_ctx *diag, const char *addr)
{
	struct aws_params p;
	xmlDoc *doc;

	aws_params_init(&p);
	aws_param(&p, "Filters.Filter.1.Name", "db-instance-id");
	aws_param(&p, "Filters.Filter.1.Values.Value.1", "%s", id);
	if (!(doc = rds(a, "DescribeDBInstances", &p, diag, addr)))
		return -1;
	xmlNode *db = aws_xml_child(aws_xml_child(result_of(doc, "DescribeDBInstances"), "DBInstances"),
				    "DBInstance");
	xmlNode *pm = aws_xml_child(db, "PendingModifiedValues");
	*pending = 0;
	for (xmlNode *c = pm ? pm->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			*pending = 1;
	xmlFreeDoc(doc);
	return 0;
}

/* Polls the instance until it is available (want_gone: until it is gone), with a backoff
 * capped at 30 seconds, for at most timeout_s. *result (when result is not NULL) is the last
 * state seen, so that an instance that never became available is still recorded. */
static int wait_for(struct aws *a, const char *id, const struct value *src, int want_gone, int check_pending,
		    int timeout_s, struct value **result, struct diag_ctx *diag, const char *addr)
{
	time_t start = time(NULL);
	unsigned delay = 2;
	const char *ids[1] = { id };
	const struct value *srcs[1] = { src };

	if (result)
		*result = NULL;
	for (;;) {
		struct value *now[1];
		char *status[1];
		int pending = 0;

		if (read_instances(a, ids, 1, srcs, now, status, diag, addr))
			return -1;
		if (result) {
			val_unref(*result);
			*result = now[0];
		} else {
			val_unref(now[0]);
		}
		if (!now[0]) {
			if (want_gone)
				return 0;
			diag_error(diag, NULL, "%s: DB instance %s disappeared while waiting for it", addr, id);
			return -1;
		}
		if (!want_gone && !strcmp(status[0], "available")) {
			if (check_pending && has_pending(a, id, &pending, diag, addr)) {
				free(status[0]);
				return -1;
			}
			if (!pending) {
				free(status[0]);
				return 0;
			}
		}
		if (!want_gone && hopeless(status[0])) {
			diag_error(diag, NULL, "%s: DB instance %s is \"%s\", not available", addr, id, status[0]);
			free(status[0]);
			return -1;
		}
		if (time(NULL) - start + (time_t)delay > (time_t)timeout_s) {
			diag_error(diag, NULL, "%s: DB instance %s is still \"%s\" after %d s", addr, id, status[0],
				   timeout_s);
			diag_hint(diag, "raise the resource's timeouts, or look at the instance's events in RDS");
			free(status[0]);
			return -1;
		}
		free(status[0]);
		sleep(delay);
		delay = delay * 2 > 30 ? 30 : delay * 2;
	}
}

static int timeout_of(const struct provider_op *op)
{
	return op->timeout_s > 0 ? op->timeout_s : DEFAULT_TIMEOUT_S;
}

static int instance_create(struct aws *a, const struct provider_op *op, struct value **result,
			   struct diag_ctx *diag)
{
	const struct value *pw = val_map_get(op->planned, "password");
	struct aws_params p;
	size_t nt = 0;
	char *id;
	int ret;

	if (known(val_map_get(op->planned, "snapshot_identifier"))) {
		diag_error(diag, NULL, "%s: creating a DB instance from a snapshot (snapshot_identifier) is not "
			   "supported yet", op->addr);
		return -1;
	}
	id = name_of(op->planned, "identifier", "identifier_prefix", op->token);
	aws_params_init(&p);
	aws_param(&p, "DBInstanceIdentifier", "%s", id);
	for (const struct db_arg *arg = db_args; arg->attr; arg++) {
		const struct value *v = val_map_get(op->planned, arg->attr);
		if (arg->create && known(v))
			put_arg(&p, arg->create, arg, v);
	}
	if (known(val_map_get(op->planned, "engine_version")))
		aws_param(&p, "EngineVersion", "%s", aws_str(op->planned, "engine_version"));
	if (known(pw) && pw->kind == VAL_STRING)
		aws_param(&p, "MasterUserPassword", "%s", pw->u.str.s);
	put_list(&p, "VpcSecurityGroupIds.VpcSecurityGroupId", val_map_get(op->planned, "vpc_security_group_ids"));
	aws_tag_params(&p, "Tags", &nt, val_map_get(op->planned, "tags"), op->token);
	ret = call(a, "CreateDBInstance", &p, diag, op->addr);
	if (!ret)
		ret = wait_for(a, id, op->planned, 0, 0, timeout_of(op), result, diag, op->addr);
	free(id);
	return ret;
}

static int changed(const struct value *before, const struct value *after)
{
	return known(after) && !val_equal(before ? before : val_null(), after);
}

static int instance_update(struct aws *a, const struct provider_op *op, struct value **result,
			   struct diag_ctx *diag)
{
	const char *id = aws_str(op->prior, "identifier");
	struct aws_params p;
	size_t base;
	int bad = 0;

	if (!id) {
		diag_error(diag, NULL, "%s: the state has no identifier for this DB instance", op->addr);
		return -1;
	}
	aws_params_init(&p);
	aws_param(&p, "DBInstanceIdentifier", "%s", id);
	/* now, not in the next maintenance window: a later refresh would otherwise plan the
	 * same change again */
	aws_param(&p, "ApplyImmediately", "true");
	base = buf_count(&p.keys, char *);
	for (const struct db_arg *arg = db_args; arg->attr; arg++) {
		const struct value *b = val_map_get(op->prior, arg->attr);
		const struct value *v = val_map_get(op->planned, arg->attr);
		if (arg->modify && changed(b, v))
			put_arg(&p, arg->modify, arg, v);
	}
	if (changed(val_map_get(op->prior, "engine_version"), val_map_get(op->planned, "engine_version"))) {
		aws_param(&p, "EngineVersion", "%s", aws_str(op->planned, "engine_version"));
		if (aws_bool(op->planned, "allow_major_version_upgrade", 0))
			aws_param(&p, "AllowMajorVersionUpgrade", "true");
	}
	if (changed(val_map_get(op->prior, "password"), val_map_get(op->planned, "password")))
		aws_param(&p, "MasterUserPassword", "%s", aws_str(op->planned, "password"));
	const struct value *sgs = val_map_get(op->planned, "vpc_security_group_ids");
	if (changed(val_map_get(op->prior, "vpc_security_group_ids"), sgs))
		put_list(&p, "VpcSecurityGroupIds.VpcSecurityGroupId", sgs);
	if (buf_count(&p.keys, char *) > base) {
		if (call(a, "ModifyDBInstance", &p, diag, op->addr))
			return -1;
	} else {
		aws_params_release(&p);
	}
	if (aws_str(op->prior, "arn"))
		bad |= update_tags(a, aws_str(op->prior, "arn"), val_map_get(op->prior, "tags"),
				   val_map_get(op->planned, "tags"), diag, op->addr);
	if (wait_for(a, id, op->planned, 0, 1, timeout_of(op), result, diag, op->addr))
		return -1;
	return bad ? -1 : 0;
}

static int instance_remove(struct aws *a, const struct provider_op *op, struct diag_ctx *diag)
{
	const char *id = aws_str(op->prior, "identifier"), *snap = aws_str(op->prior, "final_snapshot_identifier");
	struct aws_params p;

	if (!id)
		return 0;
	aws_params_init(&p);
	aws_param(&p, "DBInstanceIdentifier", "%s", id);
	if (aws_bool(op->prior, "skip_final_snapshot", 0)) {
		aws_param(&p, "SkipFinalSnapshot", "true");
	} else if (snap) {
		aws_param(&p, "SkipFinalSnapshot", "false");
		aws_param(&p, "FinalDBSnapshotIdentifier", "%s", snap);
	} else {
		aws_params_release(&p);
		diag_error(diag, NULL, "%s: deleting DB instance %s needs final_snapshot_identifier, or "
			   "skip_final_snapshot = true", op->addr, id);
		return -1;
	}
	if (call(a, "DeleteDBInstance", &p, diag, op->addr))
		return -1;
	return wait_for(a, id, op->prior, 1, 0, timeout_of(op), NULL, diag, op->addr);
}

static int instance_read(struct aws *a, struct provider_read *items, size_t n, struct diag_ctx *diag)
{
	const char **ids = xcalloc(n ? n : 1, sizeof *ids);
	const struct value **srcs = xcalloc(n ? n : 1, sizeof *srcs);
	struct value **res = xcalloc(n ? n : 1, sizeof *res);
	int ret;

	for (size_t i = 0; i < n; i++) {
		ids[i] = aws_str(items[i].prior, "identifier") ?: "";
		srcs[i] = items[i].prior;
	}
	ret = read_instances(a, ids, n, srcs, res, NULL, diag, NULL);
	for (size_t i = 0; i < n; i++)
		items[i].result = res[i];
	free(ids);
	free(srcs);
	free(res);
	return ret;
}

static int instance_find(struct aws *a, const char *token, const struct value *planned, struct value **result,
			 struct diag_ctx *diag)
{
	char *id = name_of(planned, "identifier", "identifier_prefix", token);
	const char *ids[1] = { id };
	const struct value *srcs[1] = { planned };
	int ret = read_instances(a, ids, 1, srcs, result, NULL, diag, NULL);

	if (!ret)
		ret = keep_if_token(a, token, result, diag);
	free(id);
	return ret;
}

const struct aws_resource aws_db_instance_resource = {
	.type = "db_instance",
	.create = instance_create,
	.update = instance_update,
	.remove = instance_remove,
	.read = instance_read,
	.find = instance_find,
};

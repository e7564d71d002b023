/* ecr.c: aws.ecr_repository through ECR's JSON API. A refresh of any number of repositories
 * costs one DescribeRepositories for all their names, plus one ListTagsForResource per
 * repository (ECR has no batch call for tags). When some of the names are gone, ECR fails the
 * whole call with RepositoryNotFoundException instead of leaving them out, so the read then
 * lists every repository of the registry (paginated) and picks the ones it wants.
 *
 * The scanning setting can be written two ways, as the image_scanning_configuration block or
 * as our scan_on_push shorthand; a read answers in the form the configuration used (the prior
 * object, or the planned one after a create), so neither form looks like drift. */
#include <stdlib.h>
#include <string.h>

#include "providers/aws/aws.h"

#define ECR_TARGET "AmazonEC2ContainerRegistry_V20150921."

/* the code that answers "no such repository" rather than failing */
static const char *const not_found[] = { "RepositoryNotFoundException", NULL };

/* A call whose failure is always an error. */
static json_t *ecr_call(struct aws *a, const char *action, json_t *body, struct diag_ctx *diag,
			const char *addr)
{
	char target[128];

	snprintf(target, sizeof target, ECR_TARGET "%s", action);
	return aws_json(a, "ecr", target, body, diag, addr, NULL, NULL, 0);
}

/* The first element of a nested block list, or NULL when the block is not written. */
static const struct value *first_block(const struct value *m, const char *name)
{
	const struct value *l = m && m->kind == VAL_MAP ? val_map_get(m, name) : NULL;

	if (!l || (l->kind != VAL_LIST && l->kind != VAL_SET) || (l->marks & VAL_UNKNOWN) || !l->u.list.n)
		return NULL;
	return l->u.list.items[0];
}

/* Scan on push as the configuration says it, in either form. */
static int want_scan(const struct value *m)
{
	const struct value *blk = first_block(m, "image_scanning_configuration");

	return blk ? aws_bool(blk, "scan_on_push", 0) : aws_bool(m, "scan_on_push", 0);
}

/* The JSON tag list of a tags map, plus stk's token when there is one. */
static json_t *tag_list(const struct value *tags, const char *token)
{
	json_t *l = json_array();

	for (size_t i = 0; tags && tags->kind == VAL_MAP && i < tags->u.map.n; i++) {
		const struct value *v = tags->u.map.items[i].val;
		if (v->kind != VAL_STRING || (v->marks & VAL_UNKNOWN))
			continue;
		json_array_append_new(l, json_pack("{s:s,s:s}", "Key", tags->u.map.items[i].key,
						   "Value", v->u.str.s));
	}
	/* the token finds the repository again after an interrupted create */
	if (token)
		json_array_append_new(l, json_pack("{s:s,s:s}", "Key", "stk:token", "Value", token));
	return l;
}

/* ListTagsForResource -> a map of strings without stk's own tags; NULL after a diagnostic. */
static struct value *read_tags(struct aws *a, const char *arn, struct diag_ctx *diag)
{
	json_t *out = ecr_call(a, "ListTagsForResource", json_pack("{s:s}", "resourceArn", arn), diag, NULL);
	struct aws_obj o;
	size_t i;
	json_t *t;

	if (!out)
		return NULL;
	aws_obj_init(&o);
	json_array_foreach(json_object_get(out, "tags"), i, t) {
		const char *k = json_string_value(json_object_get(t, "Key"));
		const char *v = json_string_value(json_object_get(t, "Value"));
		if (!k || !strncmp(k, "stk:", 4))
			continue;
		aws_obj_str(&o, k, v ? v : "");
	}
	json_decref(out);
	return aws_obj_done(&o);
}

/* One repository of a DescribeRepositories answer as stk's attributes; shape is the prior (or
 * planned) object, which says how scanning was written and what force_delete is. */
static struct value *repo_value(struct aws *a, json_t *r, const struct value *shape, struct diag_ctx *diag)
{
	const char *name = json_string_value(json_object_get(r, "repositoryName"));
	const char *arn = json_string_value(json_object_get(r, "repositoryArn"));
	const char *url = json_string_value(json_object_get(r, "repositoryUri"));
	json_t *scan = json_object_get(json_object_get(r, "imageScanningConfiguration"), "scanOnPush");
	json_t *enc = json_object_get(r, "encryptionConfiguration");
	int scan_on = json_is_true(scan);
	struct value *tags;
	struct aws_obj o;

	if (!arn || !(tags = read_tags(a, arn, diag)))
		return NULL;
	aws_obj_init(&o);
	aws_obj_str(&o, "id", name);
	aws_obj_str(&o, "name", name);
	aws_obj_str(&o, "arn", arn);
	aws_obj_str(&o, "registry_id", json_string_value(json_object_get(r, "registryId")));
	aws_obj_str(&o, "repository_url", url);
	if (url)
		aws_obj_val(&o, "registry", val_string(url, strcspn(url, "/")));
	else
		aws_obj_str(&o, "registry", NULL);
	aws_obj_str(&o, "image_tag_mutability", json_string_value(json_object_get(r, "imageTagMutability")));
	/* not something ECR keeps: how the next delete is to be done */
	aws_obj_bool(&o, "force_delete", aws_bool(shape, "force_delete", 0));
	aws_obj_val(&o, "tags", tags);
	if (first_block(shape, "image_scanning_configuration")) {
		struct aws_obj b;
		struct value *item;
		aws_obj_init(&b);
		aws_obj_bool(&b, "scan_on_push", scan_on);
		item = aws_obj_done(&b);
		aws_obj_val(&o, "image_scanning_configuration", val_list_take(&item, 1));
		aws_obj_str(&o, "scan_on_push", NULL);
	} else {
		aws_obj_val(&o, "image_scanning_configuration", val_empty_list());
		aws_obj_bool(&o, "scan_on_push", scan_on);
	}
	/* every repository is encrypted (AES256 when nothing is said); the block is reported
	 * only when the configuration writes it, as it is only then compared */
	if (first_block(shape, "encryption_configuration")) {
		struct aws_obj b;
		struct value *item;
		const char *type = json_string_value(json_object_get(enc, "encryptionType"));
		aws_obj_init(&b);
		aws_obj_str(&b, "encryption_type", type ? type : "AES256");
		aws_obj_str(&b, "kms_key", json_string_value(json_object_get(enc, "kmsKey")));
		item = aws_obj_done(&b);
		aws_obj_val(&o, "encryption_configuration", val_list_take(&item, 1));
	} else {
		aws_obj_val(&o, "encryption_configuration", val_empty_list());
	}
	return aws_obj_done(&o);
}

/* Every repository of the registry, for picking by name. */
static json_t *list_all(struct aws *a, struct diag_ctx *diag)
{
	json_t *all = json_array();
	char *next = NULL;

	do {
		json_t *body = json_pack("{s:i}", "maxResults", 1000);
		if (next)
			json_object_set_new(body, "nextToken", json_string(next));
		free(next);
		next = NULL;
		json_t *out = ecr_call(a, "DescribeRepositories", body, diag, NULL);
		if (!out) {
			json_decref(all);
			return NULL;
		}
		json_array_extend(all, json_object_get(out, "repositories"));
		if (json_string_value(json_object_get(out, "nextToken")))
			next = xstrdup(json_string_value(json_object_get(out, "nextToken")));
		json_decref(out);
	} while (next);
	return all;
}

/* Reads repositories by name; results[i] is NULL for one that is gone. */
static int read_repos(struct aws *a, const char *const *names, const struct value *const *shapes, size_t n,
		      struct value **results, struct diag_ctx *diag)
{
	json_t *body, *out, *repos;
	char code[128];
	size_t i;
	json_t *r;
	int ret = 0;

	for (size_t k = 0; k < n; k++)
		results[k] = NULL;
	if (!n)
		return 0;
	/* ECR takes at most 100 names at once; past that, listing everything is fewer calls */
	if (n > 100) {
		if (!(repos = list_all(a, diag)))
			return -1;
		goto pick;
	}
	body = json_object();
	json_t *list = json_array();
	for (size_t k = 0; k < n; k++)
		json_array_append_new(list, json_string(names[k]));
	json_object_set_new(body, "repositoryNames", list);
	out = aws_json(a, "ecr", ECR_TARGET "DescribeRepositories", body, diag, NULL, not_found, code,
		       sizeof code);
	if (out) {
		repos = json_incref(json_object_get(out, "repositories"));
		json_decref(out);
	} else if (!strcmp(code, not_found[0])) {
		if (!(repos = list_all(a, diag)))
			return -1;
	} else {
		return -1;
	}
pick:
	json_array_foreach(repos, i, r) {
		const char *name = json_string_value(json_object_get(r, "repositoryName"));
		for (size_t k = 0; name && k < n; k++) {
			if (results[k] || strcmp(names[k], name))
				continue;
			if (!(results[k] = repo_value(a, r, shapes[k], diag)))
				ret = -1;
		}
	}
	json_decref(repos);
	if (ret)
		for (size_t k = 0; k < n; k++) {
			val_unref(results[k]);
			results[k] = NULL;
		}
	return ret;
}

static int read_one(struct aws *a, const char *name, const struct value *shape, struct value **result,
		    struct diag_ctx *diag, const char *addr)
{
	const char *names[1] = { name };
	const struct value *shapes[1] = { shape };

	if (read_repos(a, names, shapes, 1, result, diag))
		return -1;
	if (!*result) {
		diag_error(diag, NULL, "%s: repository %s was created but cannot be read back", addr, name);
		return -1;
	}
	return 0;
}

static int put_scanning(struct aws *a, const char *name, int on, struct diag_ctx *diag, const char *addr)
{
	json_t *out = ecr_call(a, "PutImageScanningConfiguration",
			       json_pack("{s:s,s:{s:b}}", "repositoryName", name, "imageScanningConfiguration",
					 "scanOnPush", on),
			       diag, addr);
	json_decref(out);
	return out ? 0 : -1;
}

static int ecr_create(struct aws *a, const struct provider_op *op, struct value **result,
		      struct diag_ctx *diag)
{
	const char *name = aws_str(op->planned, "name");
	const char *mut = aws_str(op->planned, "image_tag_mutability");
	const struct value *enc = first_block(op->planned, "encryption_configuration");
	json_t *body, *out;

	if (!name) {
		diag_error(diag, NULL, "%s: the repository name is not known", op->addr);
		return -1;
	}
	body = json_pack("{s:s,s:s,s:{s:b}}", "repositoryName", name, "imageTagMutability", mut ? mut : "MUTABLE",
			 "imageScanningConfiguration", "scanOnPush", want_scan(op->planned));
	if (enc) {
		json_t *e = json_pack("{s:s}", "encryptionType", aws_str(enc, "encryption_type") ?: "AES256");
		if (aws_str(enc, "kms_key"))
			json_object_set_new(e, "kmsKey", json_string(aws_str(enc, "kms_key")));
		json_object_set_new(body, "encryptionConfiguration", e);
	}
	json_object_set_new(body, "tags", tag_list(val_map_get(op->planned, "tags"), op->token));
	out = ecr_call(a, "CreateRepository", body, diag, op->addr);
	if (!out)
		return -1;
	json_decref(out);
	return read_one(a, name, op->planned, result, diag, op->addr);
}

/* Tags: what is to go is untagged, what is new or different is (re)tagged. */
static int update_tags(struct aws *a, const char *arn, const struct value *before, const struct value *after,
		       struct diag_ctx *diag, const char *addr)
{
	json_t *gone = json_array(), *set = json_array();
	int ret = 0;

	for (size_t i = 0; before && before->kind == VAL_MAP && i < before->u.map.n; i++)
		if (!after || after->kind != VAL_MAP || !val_map_get(after, before->u.map.items[i].key))
			json_array_append_new(gone, json_string(before->u.map.items[i].key));
	for (size_t i = 0; after && after->kind == VAL_MAP && i < after->u.map.n; i++) {
		const struct value *b = before && before->kind == VAL_MAP ?
			val_map_get(before, after->u.map.items[i].key) : NULL;
		const struct value *v = after->u.map.items[i].val;
		if (v->kind != VAL_STRING || (b && val_equal(b, v)))
			continue;
		json_array_append_new(set, json_pack("{s:s,s:s}", "Key", after->u.map.items[i].key,
						     "Value", v->u.str.s));
	}
	if (json_array_size(gone)) {
		json_t *out = ecr_call(a, "UntagResource", json_pack("{s:s,s:O}", "resourceArn", arn, "tagKeys", gone),
				       diag, addr);
		ret |= out ? 0 : -1;
		json_decref(out);
	}
	if (json_array_size(set)) {
		json_t *out = ecr_call(a, "TagResource", json_pack("{s:s,s:O}", "resourceArn", arn, "tags", set),
				       diag, addr);
		ret |= out ? 0 : -1;
		json_decref(out);
	}
	json_decref(gone);
	json_decref(set);
	return ret;
}

static int ecr_update(struct aws *a, const struct provider_op *op, struct value **result,
		      struct diag_ctx *diag)
{
	const char *name = aws_str(op->prior, "name");
	const char *arn = aws_str(op->prior, "arn");
	const char *mut = aws_str(op->planned, "image_tag_mutability") ?: "MUTABLE";
	int bad = 0;

	if (!name || !arn) {
		diag_error(diag, NULL, "%s: the state has no repository name or ARN", op->addr);
		return -1;
	}
	if (strcmp(aws_str(op->prior, "image_tag_mutability") ?: "MUTABLE", mut)) {
		json_t *out = ecr_call(a, "PutImageTagMutability",
				       json_pack("{s:s,s:s}", "repositoryName", name, "imageTagMutability", mut),
				       diag, op->addr);
		bad |= out ? 0 : -1;
		json_decref(out);
	}
	if (want_scan(op->prior) != want_scan(op->planned))
		bad |= put_scanning(a, name, want_scan(op->planned), diag, op->addr);
	bad |= update_tags(a, arn, val_map_get(op->prior, "tags"), val_map_get(op->planned, "tags"), diag,
			   op->addr);
	if (read_one(a, name, op->planned, result, diag, op->addr))
		return -1;
	return bad ? -1 : 0;
}

static int ecr_remove(struct aws *a, const struct provider_op *op, struct diag_ctx *diag)
{
	char code[128];
	/* gone already: what a delete wants */
	json_t *out = aws_json(a, "ecr", ECR_TARGET "DeleteRepository",
			       json_pack("{s:s,s:b}", "repositoryName", aws_str(op->prior, "name") ?: "",
					 "force", aws_bool(op->prior, "force_delete", 0)),
			       diag, op->addr, not_found, code, sizeof code);

	if (out) {
		json_decref(out);
		return 0;
	}
	if (!strcmp(code, not_found[0]))
		return 0;
	if (!strcmp(code, "RepositoryNotEmptyException"))
		diag_hint(diag, "set force_delete = true (and apply) to delete it with its images");
	return -1;
}

static int ecr_read(struct aws *a, struct provider_read *items, size_t n, struct diag_ctx *diag)
{
	const char **names = xcalloc(n ? n : 1, sizeof *names);
	const struct value **shapes = xcalloc(n ? n : 1, sizeof *shapes);
	struct value **res = xcalloc(n ? n : 1, sizeof *res);
	int ret;

	for (size_t i = 0; i < n; i++) {
		names[i] = aws_str(items[i].prior, "name") ?: aws_str(items[i].prior, "id") ?: "";
		shapes[i] = items[i].prior;
	}
	ret = read_repos(a, names, shapes, n, res, diag);
	for (size_t i = 0; i < n; i++)
		items[i].result = res[i];
	free(names);
	free(shapes);
	free(res);
	return ret;
}

static int ecr_find(struct aws *a, const char *token, const struct value *planned, struct value **result,
		    struct diag_ctx *diag)
{
	const char *names[1] = { aws_str(planned, "name") };
	const struct value *shapes[1] = { planned };
	const char *arn;
	json_t *out, *t;
	size_t i;
	int has = 0;

	*result = NULL;
	if (!names[0] || read_repos(a, names, shapes, 1, result, diag))
		return names[0] ? -1 : 0;
	if (!*result || !(arn = aws_str(*result, "arn")))
		return 0;
	/* read_tags hides stk's tags: this looks at them; a repository of that name made by
	 * someone else is not adopted */
	out = ecr_call(a, "ListTagsForResource", json_pack("{s:s}", "resourceArn", arn), diag, NULL);
	if (!out) {
		val_unref(*result);
		*result = NULL;
		return -1;
	}
	json_array_foreach(json_object_get(out, "tags"), i, t) {
		const char *k = json_string_value(json_object_get(t, "Key"));
		const char *v = json_string_value(json_object_get(t, "Value"));
		if (k && v && !strcmp(k, "stk:token") && !strcmp(v, token))
			has = 1;
	}
	json_decref(out);
	if (!has) {
		val_unref(*result);
		*result = NULL;
	}
	return 0;
}

const struct aws_resource aws_ecr_repository_resource = {
	.type = "ecr_repository",
	.create = ecr_create,
	.update = ecr_update,
	.remove = ecr_remove,
	.read = ecr_read,
	.find = ecr_find,
};

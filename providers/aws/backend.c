/* backend.c: the state as one S3 object (GetObject, PutObject, path-style so that custom
 * endpoints such as moto work), locked by a DynamoDB item whose LockID is "BUCKET/KEY" and
 * whose Info is the lock information as JSON, put only if no such item exists: two runs cannot
 * both hold it, and the one refused learns who holds it. */
#include "providers/aws/backend.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "providers/aws/aws.h"

struct aws_backend {
	struct aws *a;
	char *bucket, *key, *lock_table;
	int encrypt;         /* PutObject asks for SSE-S3 (AES256), as Terraform's encrypt = true */
	char *path;          /* "s3://bucket/key" */
	char *object;        /* "/bucket/key", URI-encoded, as sent */
	char *lock_id;       /* "bucket/key" */
	char *held;          /* the Info this run's lock was put with, while it holds it */
	char *lock_where;    /* "state s3://bucket/key: lock table T", before a lock call's errors */
	struct state_remote remote;
};

/* "S3 GetObject: NoSuchBucket: message (request id)": the code, for the caller to judge. */
static const char *const lock_taken[] = { "ConditionalCheckFailedException", NULL };

static void s3_error(const struct http_response *resp, const char *action, char *code, size_t size,
		    struct diag_ctx *diag, const struct aws_backend *b)
{
	xmlDoc *doc = resp->body.len ? xmlReadMemory(resp->body.data, (int)resp->body.len, "error.xml", NULL,
						      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING) : NULL;
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	const char *c = root ? aws_xml_text(root, "Code") : NULL;
	const char *m = root ? aws_xml_text(root, "Message") : NULL;
	const char *rid = root ? aws_xml_text(root, "RequestId") : NULL;

	snprintf(code, size, "%s", c ? c : "");
	if (diag) {
		char *where = xasprintf("state %s", b->path);
		aws_api_error(diag, where, "s3", action, c, m, rid, resp->status);
		free(where);
		if (c && !strcmp(c, "NoSuchBucket"))
			diag_hint(diag, "create the bucket %s first (stk keeps the state in it, it does not make it)",
				  b->bucket);
	}
	if (doc)
		xmlFreeDoc(doc);
}

static int s3_get(void *arg, const char *path, struct buf *out, int *missing, struct diag_ctx *diag)
{
	struct aws_backend *b = arg;
	struct http_response resp;
	char code[64];
	int ret = -1;

	(void)path;
	*missing = 0;
	http_response_init(&resp);
	if (aws_rest(b->a, "s3", "GET", b->object, NULL, NULL, 0, &resp)) {
		diag_error(diag, NULL, "state %s: s3 GetObject: %s", b->path, resp.error ? resp.error : "no answer");
		goto out;
	}
	if (resp.status == 404) {
		s3_error(&resp, "GetObject", code, sizeof code, NULL, b);
		if (!strcmp(code, "NoSuchKey") || !*code) {
			*missing = 1;
			ret = 0;
			goto out;
		}
	}
	if (resp.status != 200) {
		s3_error(&resp, "GetObject", code, sizeof code, diag, b);
		goto out;
	}
	buf_add(out, resp.body.data ? resp.body.data : "", resp.body.len);
	ret = 0;
out:
	http_response_release(&resp);
	return ret;
}

static int s3_put(void *arg, const char *path, const char *data, size_t len, struct diag_ctx *diag)
{
	struct aws_backend *b = arg;
	static const char *const sse[] = { "x-amz-server-side-encryption", "AES256", NULL };
	struct http_response resp;
	char code[64];
	int ret = -1;

	(void)path;
	http_response_init(&resp);
	if (aws_rest(b->a, "s3", "PUT", b->object, b->encrypt ? sse : NULL, data, len, &resp)) {
		diag_error(diag, NULL, "state %s: s3 PutObject: %s", b->path, resp.error ? resp.error : "no answer");
		diag_hint(diag, "the state in S3 is as it was before this write");
		goto out;
	}
	if (resp.status != 200) {
		s3_error(&resp, "PutObject", code, sizeof code, diag, b);
		goto out;
	}
	ret = 0;
out:
	http_response_release(&resp);
	return ret;
}

static json_t *lock_key(const struct aws_backend *b)
{
	return json_pack("{s:{s:s}}", "LockID", "S", b->lock_id);
}

/* The lock's item, parsed into info: 0, 1 when there is none, -1 after a diagnostic. */
static int read_lock(struct aws_backend *b, struct state_lock_info *info, struct diag_ctx *diag)
{
	json_t *out = aws_json(b->a, "dynamodb", "DynamoDB_20120810.GetItem",
			       json_pack("{s:s, s:o, s:b}", "TableName", b->lock_table, "Key", lock_key(b),
					 "ConsistentRead", 1),
			       diag, b->lock_where, NULL, NULL, 0);
	const char *text;

	if (!out)
		return -1;
	text = json_string_value(json_object_get(json_object_get(json_object_get(out, "Item"), "Info"), "S"));
	if (!json_object_get(out, "Item")) {
		json_decref(out);
		return 1;
	}
	/* an item without readable information still holds the lock: say so, with no holder */
	if (!text || state_lock_info_parse(text, strlen(text), info) < 0)
		state_lock_info_release(info);
	json_decref(out);
	return 0;
}

static int ddb_lock(void *arg, const char *path, const char *info_json, struct state_lock_info *holder,
		    struct diag_ctx *diag)
{
	struct aws_backend *b = arg;
	char code[128];
	json_t *out;

	(void)path;
	if (!b->lock_table)
		return 0;
	out = aws_json(b->a, "dynamodb", "DynamoDB_20120810.PutItem",
		       json_pack("{s:s, s:{s:{s:s}, s:{s:s}}, s:s}", "TableName", b->lock_table, "Item", "LockID",
				 "S", b->lock_id, "Info", "S", info_json, "ConditionExpression",
				 "attribute_not_exists(LockID)"),
		       diag, b->lock_where, lock_taken, code, sizeof code);
	if (out) {
		json_decref(out);
		free(b->held);
		b->held = xstrdup(info_json);
		return 0;
	}
	if (strcmp(code, lock_taken[0])) {
		if (!strcmp(code, "ResourceNotFoundException"))
			diag_hint(diag, "create the table %s with the string hash key LockID first", b->lock_table);
		else if (!strcmp(code, "ValidationException"))
			diag_hint(diag, "the table %s must have the string hash key LockID and no sort key", b->lock_table);
		else if (strstr(code, "AccessDenied"))
			diag_hint(diag, "the credentials need dynamodb:GetItem, PutItem and DeleteItem on the table %s",
				  b->lock_table);
		return -1;
	}
	/* held: by whom is for the message */
	return read_lock(b, holder, diag) < 0 ? -1 : 1;
}

static int ddb_lock_info(void *arg, const char *path, struct state_lock_info *info, struct diag_ctx *diag)
{
	struct aws_backend *b = arg;

	(void)path;
	if (!b->lock_table)
		return 1;
	return read_lock(b, info, diag);
}

static int ddb_unlock(void *arg, const char *path, struct diag_ctx *diag)
{
	struct aws_backend *b = arg;
	char code[128];
	json_t *req, *out;

	(void)path;
	if (!b->lock_table)
		return 0;
	req = json_pack("{s:s, s:o}", "TableName", b->lock_table, "Key", lock_key(b));
	/* this run's own lock only: after a force-unlock another run may hold it now, and
	 * deleting that would let a third one in beside it (force-unlock itself holds none) */
	if (b->held) {
		json_object_set_new(req, "ConditionExpression", json_string("Info = :info"));
		json_object_set_new(req, "ExpressionAttributeValues",
				    json_pack("{s:{s:s}}", ":info", "S", b->held));
	}
	out = aws_json(b->a, "dynamodb", "DynamoDB_20120810.DeleteItem", req, diag, b->lock_where, lock_taken, code,
		       sizeof code);
	free(b->held);
	b->held = NULL;
	if (!out) {
		if (!strcmp(code, lock_taken[0])) {
			diag_warning(diag, NULL, "state %s: the lock was no longer this run's (released by "
				     "stk force-unlock, maybe taken by another run since): left as it is", b->path);
			return 0;
		}
		return -1;
	}
	json_decref(out);
	return 0;
}

/* A backend endpoint setting over what the environment gave the client: no trailing '/', as
 * endpoint() in aws.c leaves AWS_ENDPOINT_URL (cli/store.c has checked it is a URL). */
static void set_endpoint(char **field, const char *url)
{
	size_t n;

	if (!url)
		return;
	free(*field);
	*field = xstrdup(url);
	n = strlen(*field);
	while (n && (*field)[n - 1] == '/')
		(*field)[--n] = '\0';
}

struct aws_backend *aws_backend_new(const struct aws_backend_settings *s, struct diag_ctx *diag)
{
	struct aws_backend *b = xcalloc(1, sizeof *b);
	struct val_pair pairs[2];
	struct value *config;
	struct buf obj = BUF_INIT;
	size_t n = 0;

	/* the provider block's region and profile, read as aws_configure reads them */
	if (s->region)
		pairs[n++] = (struct val_pair){ (char *)"region", val_cstring(s->region) };
	if (s->profile)
		pairs[n++] = (struct val_pair){ (char *)"profile", val_cstring(s->profile) };
	config = val_map_take_static(pairs, n);
	b->a = aws_new(config, diag);
	val_unref(config);
	if (!b->a) {
		free(b);
		return NULL;
	}
	set_endpoint(&b->a->endpoint_s3, s->endpoint);
	set_endpoint(&b->a->endpoint_dynamodb, s->dynamodb_endpoint);
	b->encrypt = s->encrypt;
	b->bucket = xstrdup(s->bucket);
	b->key = xstrdup(s->key);
	b->lock_table = s->lock_table ? xstrdup(s->lock_table) : NULL;
	b->path = xasprintf("s3://%s/%s", s->bucket, s->key);
	b->lock_id = xasprintf("%s/%s", s->bucket, s->key);
	b->lock_where = xasprintf("state %s: lock table %s", b->path, s->lock_table ? s->lock_table : "");
	buf_addch(&obj, '/');
	sigv4_uri_encode(&obj, s->bucket, 1);
	buf_addch(&obj, '/');
	sigv4_uri_encode(&obj, s->key, 0);
	b->object = buf_detach(&obj, NULL);
	b->remote = (struct state_remote){
		.prefix = "s3://", .arg = b, .get = s3_get, .put = s3_put,
		.lock = ddb_lock, .lock_info = ddb_lock_info, .unlock = ddb_unlock,
	};
	return b;
}

void aws_backend_free(struct aws_backend *b)
{
	if (!b)
		return;
	aws_free(b->a);
	free(b->bucket);
	free(b->key);
	free(b->lock_table);
	free(b->path);
	free(b->object);
	free(b->lock_id);
	free(b->lock_where);
	free(b->held);
	free(b);
}

const struct state_remote *aws_backend_remote(struct aws_backend *b)
{
	return &b->remote;
}

const char *aws_backend_path(const struct aws_backend *b)
{
	return b->path;
}

int aws_backend_workspaces(struct aws_backend *b, const char *prefix, const char *key, struct buf *names,
			   struct diag_ctx *diag)
{
	char *token = NULL, *want = xasprintf("%s/", prefix);
	size_t plen = strlen(want), klen = strlen(key);
	/* S3 is asked for the part of PREFIX/ before any character that needs encoding ("env"
	 * of "env:/"), and the keys are matched here: moto, which the tests run against, checks
	 * the signature against the decoded query, so no client (awscli neither) can list
	 * "env:/" there; the narrower listing would only save a page in a state bucket */
	size_t ask = strspn(want, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~");
	char *asked = xstrndup(want, ask);
	int ret = -1;

	/* ListObjectsV2 under PREFIX/, a page at a time */
	for (;;) {
		struct http_response resp;
		struct buf path = BUF_INIT;
		char code[64];
		xmlDoc *doc;
		xmlNode *root;

		buf_addch(&path, '/');
		sigv4_uri_encode(&path, b->bucket, 1);
		buf_addstr(&path, "?list-type=2&prefix=");
		sigv4_uri_encode(&path, asked, 1);
		if (token) {
			buf_addstr(&path, "&continuation-token=");
			sigv4_uri_encode(&path, token, 1);
		}
		http_response_init(&resp);
		if (aws_rest(b->a, "s3", "GET", path.data, NULL, NULL, 0, &resp)) {
			diag_error(diag, NULL, "state %s: s3 ListObjectsV2: %s", b->path, resp.error ? resp.error : "no answer");
			http_response_release(&resp);
			buf_release(&path);
			goto out;
		}
		buf_release(&path);
		if (resp.status != 200) {
			s3_error(&resp, "ListObjectsV2", code, sizeof code, diag, b);
			http_response_release(&resp);
			goto out;
		}
		doc = xmlReadMemory(resp.body.data ? resp.body.data : "", (int)resp.body.len, "list.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
		http_response_release(&resp);
		root = doc ? xmlDocGetRootElement(doc) : NULL;
		if (!root) {
			diag_error(diag, NULL, "state %s: s3 ListObjectsV2: the answer is not XML", b->path);
			if (doc)
				xmlFreeDoc(doc);
			goto out;
		}
		for (xmlNode *c = root->children; c; c = c->next) {
			const char *k = c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, "Contents") ?
					aws_xml_text(c, "Key") : NULL;
			size_t n = k ? strlen(k) : 0;
			/* PREFIX/NAME/KEY, NAME one step */
			if (!k || n <= plen + klen + 1 || strncmp(k, want, plen) || strcmp(k + n - klen, key) ||
			    k[n - klen - 1] != '/')
				continue;
			char *name = xstrndup(k + plen, n - klen - 1 - plen);
			if (*name && !strchr(name, '/'))
				buf_push(names, char *, name);
			else
				free(name);
		}
		const char *more = aws_xml_text(root, "IsTruncated");
		const char *next = aws_xml_text(root, "NextContinuationToken");
		free(token);
		token = more && !strcmp(more, "true") && next ? xstrdup(next) : NULL;
		xmlFreeDoc(doc);
		if (!token)
			break;
	}
	ret = 0;
out:
	free(token);
	free(want);
	free(asked);
	return ret;
}

int aws_backend_delete(struct aws_backend *b, struct diag_ctx *diag)
{
	struct http_response resp;
	char code[64];
	int ret = -1;

	http_response_init(&resp);
	if (aws_rest(b->a, "s3", "DELETE", b->object, NULL, NULL, 0, &resp)) {
		diag_error(diag, NULL, "state %s: s3 DeleteObject: %s", b->path, resp.error ? resp.error : "no answer");
		goto out;
	}
	if (resp.status != 204 && resp.status != 200) {
		s3_error(&resp, "DeleteObject", code, sizeof code, diag, b);
		goto out;
	}
	ret = 0;
out:
	http_response_release(&resp);
	return ret;
}

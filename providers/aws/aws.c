/* aws.c: the AWS provider's core: configuration (credentials, region, endpoints, as the AWS
 * SDKs read them), the query and JSON protocols over the shared HTTP layer with SigV4, and
 * the dispatch to each resource type. */
#include "providers/aws/aws.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <openssl/crypto.h>

int aws_side_by_side = 1;

/* Resource types live in their own files: each defines one of these. */
extern const struct aws_resource aws_internet_gateway_resource, aws_subnet_resource,
	aws_route_table_resource, aws_route_table_association_resource,
	aws_ecr_repository_resource, aws_security_group_resource, aws_key_pair_resource,
	aws_db_subnet_group_resource, aws_db_instance_resource, aws_instance_resource, aws_eip_resource;
extern const struct aws_data aws_ami_data, aws_availability_zones_data, aws_caller_identity_data,
	aws_ecr_token_data;

static const struct aws_resource *const aws_resources[] = {
	&aws_vpc_resource, &aws_internet_gateway_resource, &aws_subnet_resource,
	&aws_route_table_resource, &aws_route_table_association_resource,
	&aws_security_group_resource, &aws_key_pair_resource, &aws_instance_resource, &aws_eip_resource,
	&aws_db_subnet_group_resource, &aws_db_instance_resource, &aws_ecr_repository_resource,
};

static const struct aws_data *const aws_datas[] = {
	&aws_ami_data, &aws_availability_zones_data, &aws_caller_identity_data, &aws_ecr_token_data,
};

/* ---- configuration ---- */

static char *env_dup(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? xstrdup(v) : NULL;
}

/* Reads KEY from [section] of an INI file (~/.aws/credentials, ~/.aws/config). */
static char *ini_get(const char *path, const char *section, const char *key)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int in = 0;
	char *found = NULL;

	if (!f)
		return NULL;
	while (!found && fgets(line, sizeof line, f)) {
		char *s = line, *e;
		while (isspace((unsigned char)*s))
			s++;
		e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*s == '[') {
			char *close = strchr(s, ']');
			if (!close)
				continue;
			*close = '\0';
			s++;
			/* ~/.aws/config names profiles "profile NAME" */
			if (!strncmp(s, "profile ", 8))
				s += 8;
			in = !strcmp(s, section);
			continue;
		}
		if (!in || *s == '#' || *s == ';')
			continue;
		char *eq = strchr(s, '=');
		if (!eq)
			continue;
		char *k = s, *ke = eq;
		while (ke > k && isspace((unsigned char)ke[-1]))
			ke--;
		char *v = eq + 1;
		while (isspace((unsigned char)*v))
			v++;
		if ((size_t)(ke - k) == strlen(key) && !strncmp(k, key, (size_t)(ke - k)))
			found = xstrdup(v);
	}
	fclose(f);
	return found;
}

static char *aws_file(const char *env, const char *name)
{
	const char *v = getenv(env);
	const char *home = getenv("HOME");

	if (v && *v)
		return xstrdup(v);
	return xasprintf("%s/.aws/%s", home ? home : ".", name);
}

static char *endpoint(const char *service, const char *region)
{
	char env[64];
	char *v;

	/* AWS_ENDPOINT_URL_EC2, then AWS_ENDPOINT_URL, as the SDKs read them */
	snprintf(env, sizeof env, "AWS_ENDPOINT_URL_%s", service);
	for (char *p = env; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	if ((v = env_dup(env)) || (v = env_dup("AWS_ENDPOINT_URL"))) {
		size_t n = strlen(v);
		while (n && v[n - 1] == '/')
			v[--n] = '\0';
		return v;
	}
	if (!strcmp(service, "ecr"))
		return xasprintf("https://api.ecr.%s.amazonaws.com", region);
	return xasprintf("https://%s.%s.amazonaws.com", service, region);
}

static void aws_release(struct provider *p)
{
	struct aws *a = (struct aws *)p;

	if (!a)
		return;
	http_client_release(&a->http);
	free(a->region);
	if (a->secret_key)
		OPENSSL_cleanse(a->secret_key, strlen(a->secret_key));
	free(a->access_key);
	free(a->secret_key);
	free(a->session_token);
	free(a->endpoint_ec2);
	free(a->endpoint_rds);
	free(a->endpoint_sts);
	free(a->endpoint_ecr);
	free(a->endpoint_s3);
	free(a->endpoint_dynamodb);
	free(a);
}

static const char *config_str(const struct value *config, const char *key)
{
	const struct value *v = config && config->kind == VAL_MAP ? val_map_get(config, key) : NULL;
	return v && v->kind == VAL_STRING && !(v->marks & VAL_UNKNOWN) ? v->u.str.s : NULL;
}

static void aws_describe(struct provider *p, struct buf *out)
{
	struct aws *a = (struct aws *)p;
	struct http_stats s;

	http_client_stats(&a->http, &s);
	if (!s.retries && !s.budget_exhausted)
		return;
	buf_printf(out, "%lu request%s; ", s.requests, s.requests == 1 ? "" : "s");
	http_stats_describe(&s, out);
	if (s.budget_exhausted)
		buf_printf(out, "; %lu refused by the retry budget", s.budget_exhausted);
}

static struct provider *aws_configure(const struct value *config, struct diag_ctx *diag)
{
	struct aws *a = xcalloc(1, sizeof *a);
	const char *profile = config_str(config, "profile");
	char *prof = profile ? xstrdup(profile) : env_dup("AWS_PROFILE");
	char *creds_file = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
	char *config_file = aws_file("AWS_CONFIG_FILE", "config");

	if (!prof)
		prof = xstrdup("default");
	/* credentials: the provider block, the environment, then the profile */
	if (config_str(config, "access_key") && config_str(config, "secret_key")) {
		a->access_key = xstrdup(config_str(config, "access_key"));
		a->secret_key = xstrdup(config_str(config, "secret_key"));
		a->session_token = config_str(config, "token") ? xstrdup(config_str(config, "token")) : NULL;
	} else if ((a->access_key = env_dup("AWS_ACCESS_KEY_ID"))) {
		a->secret_key = env_dup("AWS_SECRET_ACCESS_KEY");
		a->session_token = env_dup("AWS_SESSION_TOKEN");
	} else {
		a->access_key = ini_get(creds_file, prof, "aws_access_key_id");
		a->secret_key = ini_get(creds_file, prof, "aws_secret_access_key");
		a->session_token = ini_get(creds_file, prof, "aws_session_token");
	}
	if (!a->access_key || !a->secret_key) {
		diag_error(diag, NULL, "no AWS credentials: looked in the provider block (access_key, secret_key), "
			   "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and profile \"%s\" in %s", prof, creds_file);
		diag_hint(diag, "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE");
		goto fail;
	}
	/* region: the provider block, the environment, then the profile's config */
	if (config_str(config, "region"))
		a->region = xstrdup(config_str(config, "region"));
	else if (!(a->region = env_dup("AWS_REGION")) && !(a->region = env_dup("AWS_DEFAULT_REGION")))
		a->region = ini_get(config_file, prof, "region");
	if (!a->region) {
		diag_error(diag, NULL, "no AWS region: set region in the provider block, or AWS_REGION");
		goto fail;
	}
	a->endpoint_ec2 = endpoint("ec2", a->region);
	a->endpoint_rds = endpoint("rds", a->region);
	a->endpoint_sts = endpoint("sts", a->region);
	a->endpoint_ecr = endpoint("ecr", a->region);
	a->endpoint_s3 = endpoint("s3", a->region);
	a->endpoint_dynamodb = endpoint("dynamodb", a->region);
	if (http_client_init(&a->http, diag))
		goto fail;
	a->http.retryable = http_retryable_aws;
	free(prof);
	free(creds_file);
	free(config_file);
	return &a->base;
fail:
	free(prof);
	free(creds_file);
	free(config_file);
	aws_release(&a->base);
	return NULL;
}

/* ---- requests ---- */

struct sign_ctx {
	struct aws *a;
	const char *service;
	const char *host;
	const char *path;     /* as sent; NULL: "/" */
	const char *const *extra; /* aws_rest's own headers (name, value, ..., NULL), signed too */
};

/* Signs each attempt afresh: a retry has a new date. */
static int sign(void *arg, struct http_request *req)
{
	struct sign_ctx *sc = arg;
	struct sigv4_credentials cr = { sc->a->access_key, sc->a->secret_key, sc->a->session_token };
	struct sigv4_config cfg;
	struct sigv4_auth_headers out;
	struct sigv4_header hdrs[8];
	size_t n = 0;
	const char *path = sc->path ? sc->path : "/";
	/* "/bucket?list-type=2&prefix=...": the query is signed apart from the path */
	const char *q = strchr(path, '?');
	char *bare = q ? xstrndup(path, (size_t)(q - path)) : NULL;
	int ret = -1;

	for (const char *names[] = { "Content-Type", "X-Amz-Target", NULL }, **nm = names; *nm; nm++) {
		const char *v = http_headers_get(&req->headers, *nm);
		if (v)
			hdrs[n++] = (struct sigv4_header){ *nm, v };
	}
	/* S3 refuses an x-amz-* header that the signature leaves out */
	for (const char *const *h = sc->extra; h && *h && n < sizeof hdrs / sizeof *hdrs - 1; h += 2)
		hdrs[n++] = (struct sigv4_header){ h[0], h[1] };
	hdrs[n++] = (struct sigv4_header){ "Host", sc->host };
	struct sigv4_request sr = {
		.method = req->method, .path = bare ? bare : path, .query = q ? q + 1 : "", .headers = hdrs, .nheaders = n,
		.body = req->body, .body_len = req->body_len,
	};
	http_headers_remove(&req->headers, "Authorization");
	http_headers_remove(&req->headers, "X-Amz-Date");
	http_headers_remove(&req->headers, "X-Amz-Security-Token");
	sigv4_config_init(&cfg, &cr, sc->a->region, sc->service, time(NULL));
	if (sigv4_sign_headers(&out, &sr, &cfg))
		goto out;
	for (size_t i = 0; i < out.n; i++)
		http_headers_set(&req->headers, out.h[i].name, out.h[i].value);
	ret = 0;
	sigv4_auth_headers_release(&out);
out:
	free(bare);
	return ret;
}

static char *host_of(const char *url)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	return xstrndup(p, strcspn(p, "/"));
}

void aws_params_init(struct aws_params *p)
{
	buf_init(&p->keys);
	buf_init(&p->values);
}

void aws_params_release(struct aws_params *p)
{
	for (size_t i = 0; i < buf_count(&p->keys, char *); i++) {
		free(buf_at(&p->keys, char *, i));
		free(buf_at(&p->values, char *, i));
	}
	buf_release(&p->keys);
	buf_release(&p->values);
}

void aws_param(struct aws_params *p, const char *key, const char *fmt, ...)
{
	struct buf v = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&v, fmt, ap);
	va_end(ap);
	buf_push(&p->keys, char *, xstrdup(key));
	buf_push(&p->values, char *, buf_detach(&v, NULL));
}

static void form_encode(struct buf *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
			buf_addch(out, c);
		else if (c == ' ')
			/* what the SDKs send; a server that re-encodes the form signs it the same way */
			buf_addch(out, '+');
		else
			buf_printf(out, "%%%02X", c);
	}
}

/* "ec2 CreateVpc: InvalidParameterValue: message (request id)" under the address; an answer
 * without a code is named by its status ("HTTP 403"). */
void aws_api_error(struct diag_ctx *diag, const char *addr, const char *service, const char *action,
		   const char *code, const char *message, const char *request_id, long status)
{
	char st[32];

	snprintf(st, sizeof st, "HTTP %ld", status);
	diag_error(diag, NULL, "%s%s%s %s: %s%s%s%s%s%s", addr ? addr : "", addr ? ": " : "", service, action,
		   code && *code ? code : st, message && *message ? ": " : "", message ? message : "",
		   request_id ? " (request " : "", request_id ? request_id : "", request_id ? ")" : "");
}

/* The first element named name (in any case) at or under n: some servers answer a JSON
 * protocol's failure with an XML error document (moto's IAM denials do). */
static const char *xml_find_text(xmlNode *n, const char *name)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!strcasecmp((const char *)n->name, name)) {
			xmlNode *c = n->children;
			return c && c->type == XML_TEXT_NODE ? (const char *)c->content : "";
		}
		const char *t = xml_find_text(n->children, name);
		if (t)
			return t;
	}
	return NULL;
}

xmlDoc *aws_query(struct aws *a, const char *service, const char *version, const char *action,
		  const struct aws_params *p, struct diag_ctx *diag, const char *addr)
{
	return aws_query_ok(a, service, version, action, p, diag, addr, NULL, NULL);
}

void aws_ec2_filter(struct aws_params *p, int filter, const char *name, const char *const *values, size_t n)
{
	char key[64];

	snprintf(key, sizeof key, "Filter.%d.Name", filter);
	aws_param(p, key, "%s", name);
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof key, "Filter.%d.Value.%zu", filter, i + 1);
		aws_param(p, key, "%s", values[i]);
	}
}

int aws_ec2_call(struct aws *a, const char *action, struct aws_params *p, struct diag_ctx *diag,
		 const char *addr)
{
	xmlDoc *doc = aws_query(a, "ec2", "2016-11-15", action, p, diag, addr);

	aws_params_release(p);
	if (!doc)
		return -1;
	xmlFreeDoc(doc);
	return 0;
}

int aws_ec2_call1(struct aws *a, const char *action, const char *key, const char *value,
		  struct diag_ctx *diag, const char *addr)
{
	struct aws_params p;

	aws_params_init(&p);
	aws_param(&p, key, "%s", value);
	return aws_ec2_call(a, action, &p, diag, addr);
}

int aws_read_ids(int (*reader)(struct aws *, const char *const *, size_t, struct value **, struct diag_ctx *),
		 struct aws *a, struct provider_read *items, size_t n, struct diag_ctx *diag)
{
	const char **ids = xcalloc(n ? n : 1, sizeof *ids);
	struct value **res = xcalloc(n ? n : 1, sizeof *res);
	int ret;

	for (size_t i = 0; i < n; i++)
		ids[i] = aws_str(items[i].prior, "id") ?: "";
	ret = reader(a, ids, n, res, diag);
	for (size_t i = 0; i < n; i++)
		items[i].result = res[i];
	free(ids);
	free(res);
	return ret;
}

int aws_read_one(int (*reader)(struct aws *, const char *const *, size_t, struct value **, struct diag_ctx *),
		 struct aws *a, const char *id, struct value **result, struct diag_ctx *diag, const char *addr)
{
	const char *ids[1] = { id };

	if (reader(a, ids, 1, result, diag))
		return -1;
	if (!*result) {
		diag_error(diag, NULL, "%s: %s was created but cannot be read back", addr, id);
		return -1;
	}
	return 0;
}

char *aws_account_id(struct aws *a, struct diag_ctx *diag, const char *addr)
{
	xmlDoc *doc = aws_query(a, "sts", "2011-06-15", "GetCallerIdentity", NULL, diag, addr);
	char *acct;

	if (!doc)
		return NULL;
	acct = xstrdup(aws_xml_text(aws_xml_root(doc), "GetCallerIdentityResult/Account") ?: "");
	xmlFreeDoc(doc);
	return acct;
}

xmlDoc *aws_query_ok(struct aws *a, const char *service, const char *version, const char *action,
		     const struct aws_params *p, struct diag_ctx *diag, const char *addr,
		     const char *const *ok_codes, const char **hit)
{
	if (hit)
		*hit = NULL;
	const char *ep = !strcmp(service, "ec2") ? a->endpoint_ec2 : !strcmp(service, "rds") ? a->endpoint_rds :
			 a->endpoint_sts;
	struct buf body = BUF_INIT, url = BUF_INIT;
	struct http_request req;
	struct http_response resp;
	struct sign_ctx sc = { a, service, NULL, NULL, NULL };
	xmlDoc *doc = NULL;

	buf_printf(&body, "Action=%s&Version=%s", action, version);
	for (size_t i = 0; p && i < buf_count(&p->keys, char *); i++) {
		buf_addch(&body, '&');
		form_encode(&body, buf_at(&p->keys, char *, i));
		buf_addch(&body, '=');
		form_encode(&body, buf_at(&p->values, char *, i));
	}
	buf_printf(&url, "%s/", ep);
	sc.host = host_of(ep);
	http_request_init(&req, "POST", url.data);
	http_response_init(&resp);
	http_headers_set(&req.headers, "Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
	req.body = body.data;
	req.body_len = body.len;
	req.sign = sign;
	req.sign_arg = &sc;
	if (http_do(&a->http, &req, &resp)) {
		diag_error(diag, NULL, "%s%s%s %s: %s", addr ? addr : "", addr ? ": " : "", service, action,
			   resp.error ? resp.error : "no answer");
		goto out;
	}
	doc = xmlReadMemory(resp.body.data ? resp.body.data : "", (int)resp.body.len, "response.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (resp.status >= 300 || !doc) {
		xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
		/* EC2: Response/Errors/Error; RDS and STS: ErrorResponse/Error */
		xmlNode *err = root ? aws_xml_child(aws_xml_child(root, "Errors"), "Error") : NULL;
		if (!err && root)
			err = aws_xml_child(root, "Error");
		const char *rid = root ? aws_xml_text(root, "RequestID") : NULL;
		if (!rid && root)
			rid = aws_xml_text(root, "RequestId");
		const char *code = err ? aws_xml_text(err, "Code") : NULL;
		for (size_t i = 0; code && ok_codes && hit && ok_codes[i] && !*hit; i++)
			if (!strcmp(code, ok_codes[i]))
				*hit = ok_codes[i];
		if (!hit || !*hit)
			aws_api_error(diag, addr, service, action, code,
				  err ? aws_xml_text(err, "Message") : (doc ? "" : "the answer is not XML"), rid,
				  resp.status);
		if (doc)
			xmlFreeDoc(doc);
		doc = NULL;
	}
out:
	http_response_release(&resp);
	http_request_release(&req);
	free((char *)sc.host);
	buf_release(&body);
	buf_release(&url);
	return doc;
}

json_t *aws_json(struct aws *a, const char *service, const char *target, json_t *body,
		 struct diag_ctx *diag, const char *addr, const char *const *ok_codes, char *code,
		 size_t code_size)
{
	int ddb = !strcmp(service, "dynamodb");
	const char *ep = ddb ? a->endpoint_dynamodb : a->endpoint_ecr;
	char *text = json_dumps(body, JSON_COMPACT);
	struct buf url = BUF_INIT;
	struct http_request req;
	struct http_response resp;
	struct sign_ctx sc = { a, service, NULL, NULL, NULL };
	json_t *out = NULL;
	const char *action = strchr(target, '.') ? strchr(target, '.') + 1 : target;

	json_decref(body);
	if (code && code_size)
		code[0] = '\0';
	buf_printf(&url, "%s/", ep);
	sc.host = host_of(ep);
	http_request_init(&req, "POST", url.data);
	http_response_init(&resp);
	http_headers_set(&req.headers, "Content-Type", ddb ? "application/x-amz-json-1.0" : "application/x-amz-json-1.1");
	http_headers_set(&req.headers, "X-Amz-Target", target);
	req.body = text;
	req.body_len = strlen(text);
	req.sign = sign;
	req.sign_arg = &sc;
	if (http_do(&a->http, &req, &resp)) {
		diag_error(diag, NULL, "%s%s%s %s: %s", addr ? addr : "", addr ? ": " : "", service, action,
			   resp.error ? resp.error : "no answer");
		goto out;
	}
	json_error_t je;
	out = json_loadb(resp.body.data ? resp.body.data : "{}", resp.body.len ? resp.body.len : 2, 0, &je);
	if (resp.status >= 300 || !out) {
		const char *type = out ? json_string_value(json_object_get(out, "__type")) : NULL;
		const char *msg = out ? json_string_value(json_object_get(out, "message")) : NULL;
		xmlDoc *doc = NULL;
		int ok = 0;

		if (!msg && out)
			msg = json_string_value(json_object_get(out, "Message"));
		if (!out && resp.body.len)
			doc = xmlReadMemory(resp.body.data, (int)resp.body.len, "error.xml", NULL,
					    XML_PARSE_NONET | XML_PARSE_RECOVER | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
		if (doc) {
			type = xml_find_text(xmlDocGetRootElement(doc), "code");
			msg = xml_find_text(xmlDocGetRootElement(doc), "message");
		}
		if (type && strchr(type, '#'))
			type = strchr(type, '#') + 1;
		if (code && type)
			snprintf(code, code_size, "%s", type);
		/* the caller decides whether "not found" is an error */
		for (size_t i = 0; type && ok_codes && ok_codes[i] && !ok; i++)
			ok = !strcmp(type, ok_codes[i]);
		if (!ok)
			aws_api_error(diag, addr, service, action, type,
				  msg ? msg : out || doc ? "" : "the answer is not JSON",
				  http_response_header(&resp, "x-amzn-RequestId"), resp.status);
		if (doc)
			xmlFreeDoc(doc);
		json_decref(out);
		out = NULL;
	}
out:
	http_response_release(&resp);
	http_request_release(&req);
	free((char *)sc.host);
	free(text);
	buf_release(&url);
	return out;
}

int aws_rest(struct aws *a, const char *service, const char *method, const char *path,
	     const char *const *headers, const char *body, size_t len, struct http_response *resp)
{
	const char *ep = !strcmp(service, "s3") ? a->endpoint_s3 : a->endpoint_dynamodb;
	struct buf url = BUF_INIT;
	struct http_request req;
	struct sign_ctx sc = { a, service, NULL, path, headers };
	int ret;

	buf_printf(&url, "%s%s", ep, path);
	sc.host = host_of(ep);
	http_request_init(&req, method, url.data);
	for (const char *const *h = headers; h && *h; h += 2)
		http_headers_set(&req.headers, h[0], h[1]);
	if (body) {
		req.body = body;
		req.body_len = len;
		http_headers_set(&req.headers, "Content-Type", "application/octet-stream");
	}
	req.sign = sign;
	req.sign_arg = &sc;
	/* S3 carries the state: its values are secrets no key name announces */
	req.secret_body = 1;
	ret = http_do(&a->http, &req, resp);
	http_request_release(&req);
	free((char *)sc.host);
	buf_release(&url);
	return ret;
}

struct aws *aws_new(const struct value *config, struct diag_ctx *diag)
{
	struct provider *p = aws_configure(config, diag);

	if (p)
		p->ops = &provider_aws;
	return (struct aws *)p;
}

void aws_free(struct aws *a)
{
	aws_release(&a->base);
}

/* ---- XML helpers ---- */

xmlNode *aws_xml_root(xmlDoc *doc)
{
	return doc ? xmlDocGetRootElement(doc) : NULL;
}

xmlNode *aws_xml_child(xmlNode *from, const char *name)
{
	for (xmlNode *c = from ? from->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
			return c;
	return NULL;
}

const char *aws_xml_text(xmlNode *from, const char *path)
{
	char step[128];
	xmlNode *n = from;

	while (n && *path) {
		size_t len = strcspn(path, "/");
		snprintf(step, sizeof step, "%.*s", (int)len, path);
		n = aws_xml_child(n, step);
		path += len + (path[len] == '/');
	}
	if (!n)
		return NULL;
	/* the element's own text node; libxml2 keeps it as the first child */
	for (xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)
			return (const char *)c->content;
	return "";
}

xmlNode *aws_xml_first_item(xmlNode *set)
{
	return aws_xml_child(set, "item");
}

xmlNode *aws_xml_next_item(xmlNode *item)
{
	for (xmlNode *c = item ? item->next : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, "item"))
			return c;
	return NULL;
}

/* ---- values ---- */

void aws_obj_init(struct aws_obj *o)
{
	buf_init(&o->pairs);
}

void aws_obj_val(struct aws_obj *o, const char *key, struct value *v)
{
	struct val_pair p = { xstrdup(key), v };
	buf_push(&o->pairs, struct val_pair, p);
}

void aws_obj_str(struct aws_obj *o, const char *key, const char *value)
{
	aws_obj_val(o, key, value ? val_cstring(value) : val_null());
}

void aws_obj_bool(struct aws_obj *o, const char *key, int value)
{
	aws_obj_val(o, key, val_bool(value));
}

void aws_obj_num(struct aws_obj *o, const char *key, double value)
{
	aws_obj_val(o, key, val_number(value));
}

struct value *aws_obj_done(struct aws_obj *o)
{
	struct value *v = val_map_take((struct val_pair *)(void *)o->pairs.data,
				       buf_count(&o->pairs, struct val_pair));
	buf_release(&o->pairs);
	return v;
}

const char *aws_str(const struct value *m, const char *key)
{
	const struct value *v = m && m->kind == VAL_MAP ? val_map_get(m, key) : NULL;
	return v && v->kind == VAL_STRING && !(v->marks & VAL_UNKNOWN) ? v->u.str.s : NULL;
}

int aws_bool(const struct value *m, const char *key, int dflt)
{
	const struct value *v = m && m->kind == VAL_MAP ? val_map_get(m, key) : NULL;
	return v && v->kind == VAL_BOOL && !(v->marks & VAL_UNKNOWN) ? v->u.b : dflt;
}

void aws_tag_params(struct aws_params *p, const char *prefix, size_t *n, const struct value *tags,
		    const char *token)
{
	char key[96];

	if (tags && tags->kind == VAL_MAP && !(tags->marks & VAL_UNKNOWN)) {
		for (size_t i = 0; i < tags->u.map.n; i++) {
			const struct value *v = tags->u.map.items[i].val;
			if (v->kind != VAL_STRING || (v->marks & VAL_UNKNOWN))
				continue;
			++*n;
			snprintf(key, sizeof key, "%s.Tag.%zu.Key", prefix, *n);
			aws_param(p, key, "%s", tags->u.map.items[i].key);
			snprintf(key, sizeof key, "%s.Tag.%zu.Value", prefix, *n);
			aws_param(p, key, "%s", v->u.str.s);
		}
	}
	/* the token finds the object again after an interrupted create */
	if (token) {
		++*n;
		snprintf(key, sizeof key, "%s.Tag.%zu.Key", prefix, *n);
		aws_param(p, key, "stk:token");
		snprintf(key, sizeof key, "%s.Tag.%zu.Value", prefix, *n);
		aws_param(p, key, "%s", token);
	}
}

void aws_tag_spec(struct aws_params *p, const char *resource_type, const struct value *tags,
		  const char *token)
{
	size_t n = 0;

	aws_param(p, "TagSpecification.1.ResourceType", "%s", resource_type);
	aws_tag_params(p, "TagSpecification.1", &n, tags, token);
}

xmlNode *aws_ipv6_association(xmlNode *owner)
{
	for (xmlNode *as = aws_xml_first_item(aws_xml_child(owner, "ipv6CidrBlockAssociationSet")); as;
	     as = aws_xml_next_item(as)) {
		const char *st = aws_xml_text(as, "ipv6CidrBlockState/state");
		if (!st || !strcmp(st, "associated") || !strcmp(st, "associating"))
			return as;
	}
	return NULL;
}

struct value *aws_tags_value(xmlNode *tag_set)
{
	struct aws_obj o;

	aws_obj_init(&o);
	for (xmlNode *it = aws_xml_first_item(tag_set); it; it = aws_xml_next_item(it)) {
		const char *k = aws_xml_text(it, "key"), *v = aws_xml_text(it, "value");
		if (!k || !strncmp(k, "stk:", 4))
			continue;
		aws_obj_str(&o, k, v ? v : "");
	}
	return aws_obj_done(&o);
}

int aws_ec2_update_tags(struct aws *a, const char *id, const struct value *before,
			const struct value *after, struct diag_ctx *diag, const char *addr)
{
	struct aws_params del, add;
	size_t nd = 0, na = 0;
	char key[64];
	int ret = 0;

	aws_params_init(&del);
	aws_params_init(&add);
	aws_param(&del, "ResourceId.1", "%s", id);
	aws_param(&add, "ResourceId.1", "%s", id);
	for (size_t i = 0; before && before->kind == VAL_MAP && i < before->u.map.n; i++)
		if (!after || after->kind != VAL_MAP || !val_map_get(after, before->u.map.items[i].key)) {
			snprintf(key, sizeof key, "Tag.%zu.Key", ++nd);
			aws_param(&del, key, "%s", before->u.map.items[i].key);
		}
	for (size_t i = 0; after && after->kind == VAL_MAP && i < after->u.map.n; i++) {
		const struct value *b = before && before->kind == VAL_MAP ?
					val_map_get(before, after->u.map.items[i].key) : NULL;
		const struct value *v = after->u.map.items[i].val;
		if (v->kind != VAL_STRING || (b && val_equal(b, v)))
			continue;
		na++;
		snprintf(key, sizeof key, "Tag.%zu.Key", na);
		aws_param(&add, key, "%s", after->u.map.items[i].key);
		snprintf(key, sizeof key, "Tag.%zu.Value", na);
		aws_param(&add, key, "%s", v->u.str.s);
	}
	if (nd) {
		xmlDoc *d = aws_query(a, "ec2", "2016-11-15", "DeleteTags", &del, diag, addr);
		ret |= d ? 0 : -1;
		xmlFreeDoc(d);
	}
	if (na) {
		xmlDoc *d = aws_query(a, "ec2", "2016-11-15", "CreateTags", &add, diag, addr);
		ret |= d ? 0 : -1;
		xmlFreeDoc(d);
	}
	aws_params_release(&del);
	aws_params_release(&add);
	return ret;
}

/* ---- dispatch ---- */

static const struct aws_resource *resource(const char *type, struct diag_ctx *diag, const char *addr)
{
	for (size_t i = 0; i < sizeof aws_resources / sizeof aws_resources[0]; i++)
		if (!strcmp(aws_resources[i]->type, type))
			return aws_resources[i];
	diag_error(diag, NULL, "%s: aws.%s is not implemented in this build yet", addr ? addr : "aws", type);
	return NULL;
}

static int aws_create(struct provider *p, const struct provider_op *op, struct value **result,
		      struct diag_ctx *diag)
{
	const struct aws_resource *r = resource(op->type, diag, op->addr);
	return r ? r->create((struct aws *)p, op, result, diag) : -1;
}

static int aws_update(struct provider *p, const struct provider_op *op, struct value **result,
		      struct diag_ctx *diag)
{
	const struct aws_resource *r = resource(op->type, diag, op->addr);
	if (r && !r->update) {
		diag_error(diag, NULL, "%s: aws.%s cannot be updated in place", op->addr, op->type);
		return -1;
	}
	return r ? r->update((struct aws *)p, op, result, diag) : -1;
}

static int aws_remove(struct provider *p, const struct provider_op *op, struct diag_ctx *diag)
{
	const struct aws_resource *r = resource(op->type, diag, op->addr);
	return r ? r->remove((struct aws *)p, op, diag) : -1;
}

static int aws_read(struct provider *p, struct provider_read *items, size_t n, struct diag_ctx *diag)
{
	const struct aws_resource *r = n ? resource(items[0].type, diag, NULL) : NULL;
	return r ? r->read((struct aws *)p, items, n, diag) : (n ? -1 : 0);
}

/* EC2 objects carry their stk:token tag; DescribeTags finds one of any type by it. The other
 * types (RDS, ECR, route table associations) look by name or subnet through their own find. */
static int aws_find_by_token(struct provider *p, const char *type, const char *token,
			     const struct value *planned, struct value **result, struct diag_ctx *diag)
{
	static const char *const ec2[] = {
		"vpc", "subnet", "internet_gateway", "route_table", "security_group", "key_pair",
		"instance", "eip", NULL,
	};
	struct aws *a = (struct aws *)p;
	const struct aws_resource *r;
	struct aws_params params;
	xmlDoc *doc;
	size_t i;
	int ret = -1;

	*result = NULL;
	if (!(r = resource(type, diag, NULL)))
		return -1;
	if (r->find)
		return r->find(a, token, planned, result, diag);
	for (i = 0; ec2[i] && strcmp(ec2[i], type); i++)
		;
	if (!ec2[i])
		return 0;
	aws_params_init(&params);
	aws_param(&params, "Filter.1.Name", "key");
	aws_param(&params, "Filter.1.Value.1", "stk:token");
	aws_param(&params, "Filter.2.Name", "value");
	aws_param(&params, "Filter.2.Value.1", "%s", token);
	doc = aws_query(a, "ec2", "2016-11-15", "DescribeTags", &params, diag, NULL);
	aws_params_release(&params);
	if (!doc)
		return -1;
	const char *id = aws_xml_text(aws_xml_first_item(aws_xml_child(aws_xml_root(doc), "tagSet")), "resourceId");
	if (id) {
		struct aws_obj o;
		aws_obj_init(&o);
		aws_obj_str(&o, "id", id);
		struct value *prior = aws_obj_done(&o);
		struct provider_read item = { type, prior, NULL };
		ret = r->read(a, &item, 1, diag);
		*result = item.result;
		val_unref(prior);
	} else {
		ret = 0;
	}
	xmlFreeDoc(doc);
	return ret;
}

static int aws_read_data(struct provider *p, const char *type, const struct value *config,
			 struct value **result, struct diag_ctx *diag)
{
	for (size_t i = 0; i < sizeof aws_datas / sizeof aws_datas[0]; i++)
		if (!strcmp(aws_datas[i]->type, type))
			return aws_datas[i]->read((struct aws *)p, config, result, diag);
	diag_error(diag, NULL, "data aws.%s is not implemented in this build yet", type);
	return -1;
}

const struct provider_ops provider_aws = {
	.name = "aws",
	.schema = &schema_aws,
	.configure = aws_configure,
	.release = aws_release,
	.create = aws_create,
	.update = aws_update,
	.remove = aws_remove,
	.read = aws_read,
	.read_data = aws_read_data,
	.find_by_token = aws_find_by_token,
	.describe = aws_describe,
};

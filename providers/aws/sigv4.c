/* sigv4.c: AWS Signature Version 4.
 *
 * The canonical request is
 *	METHOD \n PATH \n QUERY \n HEADERS \n SIGNED-HEADERS \n PAYLOAD-HASH
 * with HEADERS one "name:value\n" line per distinct header. Where AWS's documentation is
 * vague, we do what its own signers (aws-c-auth, botocore) do, since those are what the
 * services were tested against; the test suite in tests/sigv4/ pins the details down. */
#include "providers/aws/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SHA256_LEN 32

/* Headers never signed, as botocore: hop-by-hop headers a proxy may rewrite or drop, and two
 * that SDKs and load balancers add or change after signing. */
static const char *const unsigned_headers[] = {
	"connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
	"trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
};

/* Query parameters a presigned request may not carry already: the signer adds them. */
static const char *const presign_params[] = {
	"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
	"X-Amz-SignedHeaders", "X-Amz-Signature",
};

struct hdr {
	char *name;    /* lower-case */
	char *value;   /* trimmed, whitespace runs collapsed */
	size_t idx;    /* position as given: repeats keep their order */
};

struct qparam {
	char *key;     /* canonically encoded */
	char *value;
};

/* What one signing computes on the way to the signature. */
struct ctx {
	char amz_date[17];                   /* 20150830T123600Z */
	char date[9];                        /* 20150830 */
	char hash_hex[SIGV4_HEX_LEN + 1];
	const char *payload_hash;            /* hash_hex or the request's own */
	struct buf scope;                    /* 20150830/us-east-1/service/aws4_request */
	struct buf signed_headers;           /* host;x-amz-date */
	struct buf canonical;
};

/* ---- encoding and hashing ---- */

static int is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 9110's tchar: what a method or header name may be made of. */
static int is_tchar(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The whitespace aws-c-auth trims and collapses in header values. Folded (multi-line) values
 * arrive with their newlines, so those count too. */
static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int all_tchars(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return 0;
	return 1;
}

/* Visible ASCII only: these values end up in header values and in the credential scope,
 * where a space, comma, slash or newline would change what is signed. */
static int all_visible(const char *s, const char *also_forbidden)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~' || strchr(also_forbidden, *s))
			return 0;
	return 1;
}

/* buf_grow() on an empty buf allocates without terminating: a buf that then stays empty
 * would not be the "" buf_cstr() and buf_detach() promise. */
static void reserve(struct buf *b, size_t n)
{
	buf_grow(b, n);
	b->data[b->len] = '\0';
}

static void uri_encode_n(struct buf *out, const char *s, size_t n, int encode_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	reserve(out, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_unreserved(c) || (c == '/' && !encode_slash)) {
			buf_addch(out, c);
		} else {
			buf_addch(out, '%');
			buf_addch(out, hex[c >> 4]);
			buf_addch(out, hex[c & 15]);
		}
	}
}

void sigv4_uri_encode(struct buf *out, const char *text, int encode_slash)
{
	uri_encode_n(out, text, strlen(text), encode_slash);
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Appends s[0..n) with %XX escapes decoded; -1 on a '%' without two hex digits after it. */
static int uri_decode_n(struct buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			buf_addch(out, s[i]);
			continue;
		}
		if (n - i < 3 || hexval((unsigned char)s[i + 1]) < 0 ||
		    hexval((unsigned char)s[i + 2]) < 0)
			return -1;
		buf_addch(out, hexval((unsigned char)s[i + 1]) << 4 |
				hexval((unsigned char)s[i + 2]));
		i += 2;
	}
	reserve(out, 0);
	return 0;
}

static void hex_encode(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int sigv4_sha256_hex(const void *data, size_t len, char out[SIGV4_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	out[0] = '\0';
	if (!EVP_Digest(len ? data : "", len, md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != SHA256_LEN)
		return -1;
	hex_encode(md, SHA256_LEN, out);
	return 0;
}

static int hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
		       unsigned char out[SHA256_LEN])
{
	unsigned int n = 0;

	if (keylen > INT_MAX ||
	    !HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &n) || n != SHA256_LEN) {
		OPENSSL_cleanse(out, SHA256_LEN);
		return -1;
	}
	return 0;
}

/* ---- configuration ---- */

void sigv4_config_init(struct sigv4_config *cfg, const struct sigv4_credentials *creds,
		       const char *region, const char *service, time_t time)
{
	/* S3 and its relatives (s3-outposts, s3-object-lambda, s3express) take object keys
	 * literally: "a//b/../c" is a key of its own, and the path is signed as sent. */
	int s3 = service && !strncmp(service, "s3", 2) &&
		 (!service[2] || service[2] == '-' || !strcmp(service + 2, "express"));

	memset(cfg, 0, sizeof *cfg);
	cfg->creds = creds;
	cfg->region = region;
	cfg->service = service;
	cfg->time = time;
	cfg->normalize_path = !s3;
	cfg->double_encode_path = !s3;
	cfg->sign_content_sha256 = s3;
	cfg->expires = 3600;
}

/* The scope's parts are joined with '/' and end up in the Authorization header, so they are
 * held to the characters real regions and service names use. */
static int check_scope(const struct sigv4_config *cfg)
{
	if (!cfg || !all_visible(cfg->region, "/,;=\"\\") ||
	    !all_visible(cfg->service, "/,;=\"\\"))
		return -1;
	return 0;
}

static int check_creds(const struct sigv4_config *cfg)
{
	const struct sigv4_credentials *c = cfg->creds;

	if (!c || !all_visible(c->access_key_id, "/,;=\"\\") || !c->secret_access_key ||
	    !*c->secret_access_key)
		return -1;
	if (c->session_token && *c->session_token && !all_visible(c->session_token, ""))
		return -1;
	return 0;
}

static const char *session_token(const struct sigv4_config *cfg)
{
	const char *t = cfg->creds->session_token;

	return t && *t ? t : NULL;
}

static int format_dates(time_t t, char amz_date[17], char date[9])
{
	struct tm tm;

	/* Four-digit years only: the format has no room for more. */
	if (!gmtime_r(&t, &tm) || tm.tm_year < 70 || tm.tm_year > 9999 - 1900 ||
	    strftime(amz_date, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
		return -1;
	memcpy(date, amz_date, 8);
	date[8] = '\0';
	return 0;
}

static void add_scope(struct buf *out, const char *date, const struct sigv4_config *cfg)
{
	buf_printf(out, "%s/%s/%s/aws4_request", date, cfg->region, cfg->service);
}

/* ---- the canonical request ---- */

static int is_unsigned_header(const char *lname)
{
	for (size_t i = 0; i < sizeof unsigned_headers / sizeof *unsigned_headers; i++)
		if (!strcmp(lname, unsigned_headers[i]))
			return 1;
	return 0;
}

static char *canonical_value(const char *v)
{
	struct buf b = BUF_INIT;
	const char *end = v + strlen(v);

	while (v < end && is_space((unsigned char)*v))
		v++;
	while (end > v && is_space((unsigned char)end[-1]))
		end--;
	reserve(&b, (size_t)(end - v));
	while (v < end) {
		if (is_space((unsigned char)*v)) {
			buf_addch(&b, ' ');
			while (is_space((unsigned char)*v))
				v++;
		} else {
			buf_addch(&b, *v++);
		}
	}
	return buf_detach(&b, NULL);
}

static void push_header(struct buf *hdrs, char *lname, const char *value)
{
	struct hdr h = { lname, canonical_value(value), buf_count(hdrs, struct hdr) };

	buf_push(hdrs, struct hdr, h);
}

static void release_headers(struct buf *hdrs)
{
	for (size_t i = 0; i < buf_count(hdrs, struct hdr); i++) {
		free(buf_at(hdrs, struct hdr, i).name);
		free(buf_at(hdrs, struct hdr, i).value);
	}
	buf_release(hdrs);
}

static int cmp_header(const void *a, const void *b)
{
	const struct hdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Collects the headers to sign, lower-cased, canonical and sorted. */
static int collect_headers(struct buf *hdrs, const struct sigv4_request *req,
			   const struct sigv4_config *cfg, enum sigv4_kind kind,
			   const struct ctx *c)
{
	const char *token = session_token(cfg);
	int have_host = 0;

	for (size_t i = 0; i < req->nheaders; i++) {
		const struct sigv4_header *h = &req->headers[i];
		char *lname;

		if (!all_tchars(h->name) || !h->value)
			return -1;
		lname = xstrdup(h->name);
		for (char *p = lname; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		/* The signer's own headers: a second copy would be sent, or signed twice. */
		if (!strcmp(lname, "authorization") || !strcmp(lname, "x-amz-date") ||
		    (token && !strcmp(lname, "x-amz-security-token")) ||
		    (kind == SIGV4_HEADERS && cfg->sign_content_sha256 &&
		     !strcmp(lname, "x-amz-content-sha256"))) {
			free(lname);
			return -1;
		}
		if (is_unsigned_header(lname)) {
			free(lname);
			continue;
		}
		have_host |= !strcmp(lname, "host");
		push_header(hdrs, lname, h->value);
	}
	/* Every service requires Host to be signed; without it the request is refused. */
	if (!have_host)
		return -1;
	if (kind == SIGV4_HEADERS) {
		if (token && !cfg->omit_session_token)
			push_header(hdrs, xstrdup("x-amz-security-token"), token);
		push_header(hdrs, xstrdup("x-amz-date"), c->amz_date);
		if (cfg->sign_content_sha256)
			push_header(hdrs, xstrdup("x-amz-content-sha256"), c->payload_hash);
	}
	qsort(hdrs->data, buf_count(hdrs, struct hdr), sizeof(struct hdr), cmp_header);
	return 0;
}

static void push_param(struct buf *params, const char *key, const char *value)
{
	struct buf k = BUF_INIT, v = BUF_INIT;
	struct qparam p;

	sigv4_uri_encode(&k, key, 1);
	sigv4_uri_encode(&v, value, 1);
	p.key = buf_detach(&k, NULL);
	p.value = buf_detach(&v, NULL);
	buf_push(params, struct qparam, p);
}

static void release_params(struct buf *params)
{
	for (size_t i = 0; i < buf_count(params, struct qparam); i++) {
		free(buf_at(params, struct qparam, i).key);
		free(buf_at(params, struct qparam, i).value);
	}
	buf_release(params);
}

static int cmp_param(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : strcmp(x->value, y->value);
}

static int is_presign_param(const char *key, const struct sigv4_config *cfg)
{
	for (size_t i = 0; i < sizeof presign_params / sizeof *presign_params; i++)
		if (!strcasecmp(key, presign_params[i]))
			return 1;
	return session_token(cfg) && !strcasecmp(key, "X-Amz-Security-Token");
}

/* Splits the query into its parameters, decoded and encoded again (so that every way of
 * writing the same parameter signs alike), adds the presigning ones for SIGV4_QUERY, and
 * appends them sorted by name, then value. */
static int add_canonical_query(struct buf *out, const struct sigv4_request *req,
			       const struct sigv4_config *cfg, enum sigv4_kind kind,
			       const struct ctx *c)
{
	struct buf params = BUF_INIT, key = BUF_INIT, value = BUF_INIT;
	const char *q = req->query ? req->query : "";
	int ret = -1;

	while (*q) {
		size_t n = strcspn(q, "&");
		const char *eq = memchr(q, '=', n);
		size_t klen = eq ? (size_t)(eq - q) : n;

		if (n) {
			buf_reset(&key);
			buf_reset(&value);
			if (uri_decode_n(&key, q, klen) ||
			    (eq && uri_decode_n(&value, eq + 1, n - klen - 1)))
				goto out;
			/* A NUL decoded from %00 would cut the parameter short unseen. */
			if (strlen(buf_cstr(&key)) != key.len ||
			    strlen(buf_cstr(&value)) != value.len)
				goto out;
			if (kind == SIGV4_QUERY && is_presign_param(key.data, cfg))
				goto out;
			push_param(&params, key.data, value.data);
		}
		q += n + (q[n] == '&');
	}
	if (kind == SIGV4_QUERY) {
		const char *token = session_token(cfg);

		push_param(&params, "X-Amz-Algorithm", SIGV4_ALGORITHM);
		buf_reset(&value);
		buf_printf(&value, "%s/%s", cfg->creds->access_key_id, c->scope.data);
		push_param(&params, "X-Amz-Credential", value.data);
		push_param(&params, "X-Amz-Date", c->amz_date);
		push_param(&params, "X-Amz-SignedHeaders", c->signed_headers.data);
		if (cfg->expires) {
			buf_reset(&value);
			buf_printf(&value, "%u", cfg->expires);
			push_param(&params, "X-Amz-Expires", value.data);
		}
		if (token && !cfg->omit_session_token)
			push_param(&params, "X-Amz-Security-Token", token);
	}
	if (buf_count(&params, struct qparam))
		qsort(params.data, buf_count(&params, struct qparam), sizeof(struct qparam),
		      cmp_param);
	for (size_t i = 0; i < buf_count(&params, struct qparam); i++) {
		const struct qparam *p = &buf_at(&params, struct qparam, i);

		buf_printf(out, "%s%s=%s", i ? "&" : "", p->key, p->value);
	}
	ret = 0;
out:
	release_params(&params);
	buf_release(&key);
	buf_release(&value);
	return ret;
}

struct seg {
	const char *p;
	size_t n;
};

/* Removes empty, "." and ".." segments, keeping a trailing slash, as aws-c-auth does; ".."
 * at the root stays at the root. */
static void normalize_path(struct buf *out, const char *path)
{
	struct buf segs = BUF_INIT;
	const char *p = path;
	size_t len = strlen(path);

	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (buf_count(&segs, struct seg))
				segs.len -= sizeof(struct seg);
		} else if (n && !(n == 1 && p[0] == '.')) {
			struct seg s = { p, n };

			buf_push(&segs, struct seg, s);
		}
		p += n + (p[n] == '/');
	}
	buf_addch(out, '/');
	for (size_t i = 0; i < buf_count(&segs, struct seg); i++) {
		const struct seg *s = &buf_at(&segs, struct seg, i);

		buf_add(out, s->p, s->n);
		if (i + 1 < buf_count(&segs, struct seg) || path[len - 1] == '/')
			buf_addch(out, '/');
	}
	buf_release(&segs);
}

static void add_canonical_path(struct buf *out, const struct sigv4_request *req,
			       const struct sigv4_config *cfg)
{
	const char *path = req->path && *req->path ? req->path : "/";
	struct buf norm = BUF_INIT;

	if (cfg->normalize_path) {
		normalize_path(&norm, path);
		path = norm.data;
	}
	/* The path is already encoded once to go on the wire; most services sign the encoding
	 * of that (so "%20" is signed as "%2520"), S3 signs it as it is. */
	if (cfg->double_encode_path)
		sigv4_uri_encode(out, path, 0);
	else
		buf_addstr(out, path);
	buf_release(&norm);
}

static void ctx_release(struct ctx *c)
{
	buf_release(&c->scope);
	buf_release(&c->signed_headers);
	buf_release(&c->canonical);
}

static int ctx_init(struct ctx *c, const struct sigv4_request *req,
		    const struct sigv4_config *cfg)
{
	memset(c, 0, sizeof *c);
	buf_init(&c->scope);
	buf_init(&c->signed_headers);
	buf_init(&c->canonical);
	if (!req || check_scope(cfg) || check_creds(cfg) || !all_tchars(req->method) ||
	    (req->nheaders && !req->headers) || (req->body_len && !req->body) ||
	    format_dates(cfg->time, c->amz_date, c->date))
		return -1;
	if (req->payload_hash) {
		/* It is sent as x-amz-content-sha256 too, so nothing that could break a header. */
		if (!all_visible(req->payload_hash, ""))
			return -1;
		c->payload_hash = req->payload_hash;
	} else {
		if (sigv4_sha256_hex(req->body, req->body_len, c->hash_hex))
			return -1;
		c->payload_hash = c->hash_hex;
	}
	add_scope(&c->scope, c->date, cfg);
	return 0;
}

/* Builds c->signed_headers and c->canonical. */
static int ctx_canonical(struct ctx *c, const struct sigv4_request *req,
			 const struct sigv4_config *cfg, enum sigv4_kind kind)
{
	struct buf hdrs = BUF_INIT, block = BUF_INIT;
	int ret = -1;

	if (collect_headers(&hdrs, req, cfg, kind, c))
		goto out;
	for (size_t i = 0; i < buf_count(&hdrs, struct hdr); i++) {
		const struct hdr *h = &buf_at(&hdrs, struct hdr, i);

		/* Repeats are sorted together, in their order: one line, values joined by ','. */
		if (i && !strcmp(h->name, buf_at(&hdrs, struct hdr, i - 1).name)) {
			buf_printf(&block, ",%s", h->value);
			continue;
		}
		buf_printf(&block, "%s%s:%s", i ? "\n" : "", h->name, h->value);
		buf_printf(&c->signed_headers, "%s%s", i ? ";" : "", h->name);
	}
	buf_addch(&block, '\n');

	buf_printf(&c->canonical, "%s\n", req->method);
	add_canonical_path(&c->canonical, req, cfg);
	buf_addch(&c->canonical, '\n');
	if (add_canonical_query(&c->canonical, req, cfg, kind, c))
		goto out;
	buf_printf(&c->canonical, "\n%s\n%s\n%s", block.data, c->signed_headers.data,
		   c->payload_hash);
	ret = 0;
out:
	release_headers(&hdrs);
	buf_release(&block);
	return ret;
}

static int add_string_to_sign(struct buf *out, const char *amz_date, const struct buf *scope,
			      const char *canonical, size_t len)
{
	char hash[SIGV4_HEX_LEN + 1];

	if (sigv4_sha256_hex(canonical, len, hash))
		return -1;
	buf_printf(out, SIGV4_ALGORITHM "\n%s\n%s\n%s", amz_date, scope->data, hash);
	return 0;
}

/* kSecret = "AWS4" + secret; kDate = HMAC(kSecret, date); kRegion = HMAC(kDate, region);
 * kService = HMAC(kRegion, service); kSigning = HMAC(kService, "aws4_request"). Not cached:
 * five HMACs cost a few microseconds, less than keeping derived keys around safely would. */
static int derive_signing_key(const struct sigv4_config *cfg, const char *date,
			      unsigned char key[SHA256_LEN])
{
	const char *secret = cfg->creds->secret_access_key;
	size_t slen = strlen(secret);
	unsigned char k1[SHA256_LEN], k2[SHA256_LEN];
	/* Not a struct buf: its growing realloc() would leave copies of the secret behind. */
	char *ksecret = xmalloc(slen + 4);
	int ret = -1;

	memcpy(ksecret, "AWS4", 4);
	memcpy(ksecret + 4, secret, slen);
	if (hmac_sha256(ksecret, slen + 4, date, strlen(date), k1) ||
	    hmac_sha256(k1, sizeof k1, cfg->region, strlen(cfg->region), k2) ||
	    hmac_sha256(k2, sizeof k2, cfg->service, strlen(cfg->service), k1) ||
	    hmac_sha256(k1, sizeof k1, "aws4_request", strlen("aws4_request"), key))
		goto out;
	ret = 0;
out:
	OPENSSL_cleanse(ksecret, slen + 4);
	free(ksecret);
	OPENSSL_cleanse(k1, sizeof k1);
	OPENSSL_cleanse(k2, sizeof k2);
	return ret;
}

static int sign(char out[SIGV4_HEX_LEN + 1], const char *date, const char *sts, size_t len,
		const struct sigv4_config *cfg)
{
	unsigned char key[SHA256_LEN], mac[SHA256_LEN];
	int ret = -1;

	out[0] = '\0';
	if (derive_signing_key(cfg, date, key) || hmac_sha256(key, sizeof key, sts, len, mac))
		goto out;
	hex_encode(mac, sizeof mac, out);
	ret = 0;
out:
	OPENSSL_cleanse(key, sizeof key);
	OPENSSL_cleanse(mac, sizeof mac);
	return ret;
}

/* Canonical request, string to sign and signature for req. */
static int ctx_sign(struct ctx *c, const struct sigv4_request *req,
		    const struct sigv4_config *cfg, enum sigv4_kind kind,
		    char sig[SIGV4_HEX_LEN + 1])
{
	struct buf sts = BUF_INIT;
	int ret = -1;

	if (ctx_init(c, req, cfg) || ctx_canonical(c, req, cfg, kind) ||
	    add_string_to_sign(&sts, c->amz_date, &c->scope, c->canonical.data,
			       c->canonical.len) ||
	    sign(sig, c->date, sts.data, sts.len, cfg))
		goto out;
	ret = 0;
out:
	buf_release(&sts);
	return ret;
}

/* ---- the public steps ---- */

int sigv4_canonical_request(struct buf *out, const struct sigv4_request *req,
			    const struct sigv4_config *cfg, enum sigv4_kind kind)
{
	struct ctx c;
	int ret = -1;

	if (ctx_init(&c, req, cfg) || ctx_canonical(&c, req, cfg, kind))
		goto out;
	buf_add(out, c.canonical.data, c.canonical.len);
	ret = 0;
out:
	ctx_release(&c);
	return ret;
}

int sigv4_string_to_sign(struct buf *out, const char *canonical, size_t len,
			 const struct sigv4_config *cfg)
{
	char amz_date[17], date[9];
	struct buf scope = BUF_INIT;
	int ret = -1;

	if (!canonical || check_scope(cfg) || format_dates(cfg->time, amz_date, date))
		goto out;
	add_scope(&scope, date, cfg);
	ret = add_string_to_sign(out, amz_date, &scope, canonical, len);
out:
	buf_release(&scope);
	return ret;
}

int sigv4_signature(char out[SIGV4_HEX_LEN + 1], const char *string_to_sign, size_t len,
		    const struct sigv4_config *cfg)
{
	char amz_date[17], date[9];

	out[0] = '\0';
	if (!string_to_sign || check_scope(cfg) || check_creds(cfg) ||
	    format_dates(cfg->time, amz_date, date))
		return -1;
	return sign(out, date, string_to_sign, len, cfg);
}

void sigv4_auth_headers_release(struct sigv4_auth_headers *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->h[i].value);
	memset(h, 0, sizeof *h);
}

static void add_auth_header(struct sigv4_auth_headers *out, const char *name, char *value)
{
	out->h[out->n].name = name;
	out->h[out->n].value = value;
	out->n++;
}

int sigv4_sign_headers(struct sigv4_auth_headers *out, const struct sigv4_request *req,
		       const struct sigv4_config *cfg)
{
	char sig[SIGV4_HEX_LEN + 1];
	struct ctx c;
	int ret = -1;

	memset(out, 0, sizeof *out);
	if (ctx_sign(&c, req, cfg, SIGV4_HEADERS, sig))
		goto out;
	/* This order is aws-c-auth's, which the test suite's signed requests show. */
	if (session_token(cfg))
		add_auth_header(out, "X-Amz-Security-Token", xstrdup(session_token(cfg)));
	add_auth_header(out, "X-Amz-Date", xstrdup(c.amz_date));
	if (cfg->sign_content_sha256)
		add_auth_header(out, "x-amz-content-sha256", xstrdup(c.payload_hash));
	add_auth_header(out, "Authorization",
			xasprintf(SIGV4_ALGORITHM " Credential=%s/%s, SignedHeaders=%s, "
				  "Signature=%s", cfg->creds->access_key_id, c.scope.data,
				  c.signed_headers.data, sig));
	ret = 0;
out:
	ctx_release(&c);
	return ret;
}

int sigv4_presign(struct buf *out, const struct sigv4_request *req,
		  const struct sigv4_config *cfg)
{
	char sig[SIGV4_HEX_LEN + 1];
	struct ctx c;
	const char *token;
	int ret = -1;

	if (ctx_sign(&c, req, cfg, SIGV4_QUERY, sig))
		goto out;
	token = session_token(cfg);
	/* The request's own parameters stay as they were sent: they were signed decoded. */
	if (req->query && *req->query)
		buf_printf(out, "%s&", req->query);
	buf_addstr(out, "X-Amz-Algorithm=" SIGV4_ALGORITHM "&X-Amz-Credential=");
	sigv4_uri_encode(out, cfg->creds->access_key_id, 1);
	buf_addstr(out, "%2F");
	sigv4_uri_encode(out, c.scope.data, 1);
	buf_printf(out, "&X-Amz-Date=%s&X-Amz-SignedHeaders=", c.amz_date);
	sigv4_uri_encode(out, c.signed_headers.data, 1);
	if (cfg->expires)
		buf_printf(out, "&X-Amz-Expires=%u", cfg->expires);
	if (token) {
		buf_addstr(out, "&X-Amz-Security-Token=");
		sigv4_uri_encode(out, token, 1);
	}
	buf_printf(out, "&X-Amz-Signature=%s", sig);
	ret = 0;
out:
	ctx_release(&c);
	return ret;
}

/* http.c: the HTTP layer. See http.h for the interface and docs/http.md for the rules.
 *
 * Connections: libcurl documents sharing its connection cache (CURL_LOCK_DATA_CONNECT) between
 * concurrent threads as unsupported (CURLSHOPT_SHARE(3)), so the share object holds only the
 * DNS cache and TLS sessions, which are safe with lock callbacks. Keep-alive connections live in
 * the easy handles instead: a request takes an idle handle from the client's pool and puts it
 * back afterwards, connections included, for whichever thread asks next. */
#define _GNU_SOURCE
#include "providers/http.h"

#include "common/diag.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define REDACTED "[redacted]"
/* JSON and XML bodies are parsed whole to be redacted (a document cut short does not parse, and
 * so could not be shown); a larger body is logged by its size only. */
#define REDACT_MAX (16 * 1024 * 1024)
/* How much of a streamed response body is kept for the log. */
#define LOG_STREAM_COPY (64 * 1024)
/* How much of a redacted body is shown. */
#define LOG_BODY_MAX 4096
#define LOG_PREFIX "stk http: "

/* ---- cancellation ---- */

static atomic_int http_stop;
/* http_cancel() writes a byte here and nobody reads it until http_cancel_reset(), so every
 * backoff wait (a poll() on the read end) wakes at once and stays awake. */
static int cancel_pipe[2] = { -1, -1 };

void http_cancel(void)
{
	int saved = errno;

	atomic_store(&http_stop, 1);
	if (cancel_pipe[1] >= 0 && write(cancel_pipe[1], "x", 1) < 0) {
		/* Full pipe: already signalled. Nothing else is safe in a signal handler. */
	}
	errno = saved;
}

int http_cancelled(void)
{
	return atomic_load(&http_stop);
}

void http_cancel_reset(void)
{
	char tmp[64];

	atomic_store(&http_stop, 0);
	if (cancel_pipe[0] >= 0)
		while (read(cancel_pipe[0], tmp, sizeof tmp) > 0)
			;
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	struct sigaction sa;

	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (global_rc != CURLE_OK)
		return;
	/* without it, backoff waits still see a cancel, a slice later (sleep_ms) */
	if (pipe2(cancel_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		cancel_pipe[0] = cancel_pipe[1] = -1;
	/* libxml2 (redaction, AWS error codes) must be set up once before threads use it. */
	xmlInitParser();
	/* Only if nobody chose otherwise: a TLS write to a closed peer raises SIGPIPE, and
	 * CURLOPT_NOSIGNAL (needed with threads) stops libcurl from ignoring it for us. */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		sa.sa_handler = SIG_IGN;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = 0;
		sigaction(SIGPIPE, &sa, NULL);
	}
}

int http_global_init(struct diag_ctx *ctx)
{
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		if (ctx)
			diag_error(ctx, NULL, "cannot initialise libcurl: %s", curl_easy_strerror(global_rc));
		return -1;
	}
	return 0;
}

void http_global_cleanup(void)
{
	curl_global_cleanup();
	if (cancel_pipe[0] >= 0)
		close(cancel_pipe[0]);
	if (cancel_pipe[1] >= 0)
		close(cancel_pipe[1]);
	cancel_pipe[0] = cancel_pipe[1] = -1;
}

/* ---- small helpers ---- */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits ms, or less if cancelled: returns -1 then. Polls in slices so that the flag is seen
 * even without the pipe (http_global_init() not called). */
static int sleep_ms(long ms)
{
	long deadline = now_ms() + ms;

	for (;;) {
		struct pollfd p = { .fd = cancel_pipe[0], .events = POLLIN };
		long left;

		if (http_cancelled())
			return -1;
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		if (left > 200)
			left = 200;
		poll(&p, p.fd >= 0 ? 1 : 0, (int)left);
	}
}

/* Jitter needs no cryptography, only different sequences in different threads. */
static uint64_t rng_next(void)
{
	static _Thread_local uint64_t s;

	if (!s) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		s = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)&s;
		s |= 1;
	}
	s ^= s >> 12;
	s ^= s << 25;
	s ^= s >> 27;
	return s * 2685821657736338717ULL;
}

static int has_ci(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (!strncasecmp(hay + i, needle, n))
			return 1;
	return 0;
}

static void set_error(struct http_response *resp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_error(struct http_response *resp, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	free(resp->error);
	resp->error = buf_detach(&b, NULL);
}

/* ---- headers ---- */

void http_headers_init(struct http_headers *h)
{
	buf_init(&h->items);
}

void http_headers_clear(struct http_headers *h)
{
	size_t n = buf_count(&h->items, struct http_header);

	for (size_t i = 0; i < n; i++) {
		free(buf_at(&h->items, struct http_header, i).name);
		free(buf_at(&h->items, struct http_header, i).value);
	}
	buf_reset(&h->items);
}

void http_headers_release(struct http_headers *h)
{
	http_headers_clear(h);
	buf_release(&h->items);
}

void http_headers_add(struct http_headers *h, const char *name, const char *value)
{
	struct http_header hd = { xstrdup(name), xstrdup(value ? value : "") };

	buf_push(&h->items, struct http_header, hd);
}

void http_headers_set(struct http_headers *h, const char *name, const char *value)
{
	/* Copies first: name or value may point into a header about to be freed. */
	char *key = xstrdup(name), *v = xstrdup(value ? value : "");
	size_t n = buf_count(&h->items, struct http_header), i;

	for (i = 0; i < n; i++)
		if (!strcasecmp(buf_at(&h->items, struct http_header, i).name, key))
			break;
	if (i == n) {
		struct http_header hd = { key, v };

		buf_push(&h->items, struct http_header, hd);
		return;
	}
	free(buf_at(&h->items, struct http_header, i).value);
	buf_at(&h->items, struct http_header, i).value = v;
	/* Drop any later duplicates. */
	for (size_t j = n; j-- > i + 1;) {
		struct http_header *dup = &buf_at(&h->items, struct http_header, j);

		if (strcasecmp(dup->name, key))
			continue;
		free(dup->name);
		free(dup->value);
		memmove(dup, dup + 1, (n - j - 1) * sizeof *dup);
		n--;
	}
	h->items.len = n * sizeof(struct http_header);
	free(key);
}

void http_headers_remove(struct http_headers *h, const char *name)
{
	char *key = xstrdup(name); /* name may be one of the headers removed */
	size_t n = buf_count(&h->items, struct http_header), k = 0;

	for (size_t i = 0; i < n; i++) {
		struct http_header hd = buf_at(&h->items, struct http_header, i);

		if (!strcasecmp(hd.name, key)) {
			free(hd.name);
			free(hd.value);
			continue;
		}
		buf_at(&h->items, struct http_header, k++) = hd;
	}
	h->items.len = k * sizeof(struct http_header);
	free(key);
}

const char *http_headers_get(const struct http_headers *h, const char *name)
{
	size_t n = buf_count(&h->items, struct http_header);

	for (size_t i = 0; i < n; i++) {
		const struct http_header *hd = &buf_at(&h->items, struct http_header, i);

		if (!strcasecmp(hd->name, name))
			return hd->value;
	}
	return NULL;
}

size_t http_headers_count(const struct http_headers *h)
{
	return buf_count(&h->items, struct http_header);
}

const struct http_header *http_headers_at(const struct http_headers *h, size_t i)
{
	return &buf_at(&h->items, struct http_header, i);
}

/* ---- redaction ---- */

int http_secret_name(const char *name, size_t len)
{
	/* Substrings, matched without regard to case: errs towards hiding (NextToken, Author).
	 * The same list serves headers, so that an echo of headers as JSON keys is covered too:
	 * Docker's X-Registry-Config, S3's SSE customer keys (header and JSON/XML forms). */
	static const char *const words[] = {
		"pass", "secret", "token", "auth", "cookie", "credential", "signature", "private",
		"apikey", "api_key", "api-key", "registry-config", "registryconfig",
		"customer-key", "customerkey", NULL
	};

	for (const char *const *w = words; *w; w++)
		if (has_ci(name, len, *w))
			return 1;
	return 0;
}

static int secret_header(const char *name)
{
	/* Challenges name the realm and scope, not a secret, and are what one debugs. */
	if (!strcasecmp(name, "www-authenticate") || !strcasecmp(name, "proxy-authenticate"))
		return 0;
	return http_secret_name(name, strlen(name));
}

/* "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...": only SignedHeaders is
 * kept. Other schemes ("Bearer x", "Basic x") keep the scheme's name. */
static void redact_authorization(const char *value, struct buf *out)
{
	const char *sp = strchr(value, ' '), *p;
	size_t slen = sp ? (size_t)(sp - value) : 0;
	int first = 1;

	for (size_t i = 0; i < slen; i++)
		if (!isalnum((unsigned char)value[i]) && value[i] != '-' && value[i] != '_')
			slen = 0;
	if (!slen || slen > 40) {
		buf_addstr(out, REDACTED);
		return;
	}
	buf_add(out, value, slen);
	buf_addch(out, ' ');
	if (strncasecmp(value, "AWS4-", 5)) {
		buf_addstr(out, REDACTED);
		return;
	}
	for (p = sp + 1; *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *eq;

		while (n && *p == ' ')
			p++, n--;
		eq = memchr(p, '=', n);
		if (!first)
			buf_addstr(out, ", ");
		first = 0;
		if (eq && (size_t)(eq - p) == 13 && !strncasecmp(p, "SignedHeaders", 13)) {
			buf_add(out, p, n);
		} else if (eq) {
			buf_add(out, p, (size_t)(eq - p) + 1);
			buf_addstr(out, REDACTED);
		} else {
			buf_addstr(out, REDACTED);
		}
		if (!end)
			break;
		p = end + 1;
	}
}

void http_redact_header(const char *name, const char *value, struct buf *out)
{
	if (!strcasecmp(name, "authorization") || !strcasecmp(name, "proxy-authorization"))
		redact_authorization(value, out);
	else if (secret_header(name))
		buf_addstr(out, REDACTED);
	else
		buf_addstr(out, value);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Form fields and query parameters: name=value&...; names are matched once decoded. */
static void redact_form(const char *s, size_t len, struct buf *out)
{
	struct buf name = BUF_INIT;
	size_t i = 0;

	while (i < len) {
		size_t end = i, eq = (size_t)-1;

		while (end < len && s[end] != '&') {
			if (s[end] == '=' && eq == (size_t)-1)
				eq = end;
			end++;
		}
		buf_reset(&name);
		for (size_t k = i; k < (eq == (size_t)-1 ? end : eq); k++) {
			int hi, lo;

			if (s[k] == '%' && k + 2 < len && (hi = hexval(s[k + 1])) >= 0 &&
			    (lo = hexval(s[k + 2])) >= 0) {
				buf_addch(&name, hi * 16 + lo);
				k += 2;
			} else {
				buf_addch(&name, s[k] == '+' ? ' ' : s[k]);
			}
		}
		if (eq != (size_t)-1 && http_secret_name(name.data ? name.data : "", name.len)) {
			buf_add(out, s + i, eq + 1 - i);
			buf_addstr(out, REDACTED);
		} else {
			buf_add(out, s + i, end - i);
		}
		if (end < len)
			buf_addch(out, '&');
		i = end + 1;
	}
	buf_release(&name);
}

/* What stands in for a body, or the rest of one, that did not parse: it may hold secrets that
 * nothing names any more, so none of it is shown. */
static void not_shown(struct buf *out, size_t n, const char *format)
{
	buf_printf(out, "[%zu bytes, not well-formed %s: not shown]", n, format);
}

/* ---- JSON bodies (jansson) ---- */

/* Length of NAME in a string "NAME=value" whose NAME looks secret (Docker's "Env" entries),
 * or 0. */
static size_t secret_assignment(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && (isalnum((unsigned char)s[n]) || (s[n] && strchr("_.-", s[n]))))
		n++;
	return n && n < len && s[n] == '=' && http_secret_name(s, n) ? n : 0;
}

/* If v is a "NAME=value" string with a secret-looking NAME, sets *repl to the string that is
 * to replace it (a new reference), else to NULL. */
static int json_assignment_redacted(json_t *v, json_t **repl)
{
	struct buf b = BUF_INIT;
	size_t n;
	int ret = 0;

	*repl = NULL;
	if (!json_is_string(v))
		return 0;
	n = secret_assignment(json_string_value(v), json_string_length(v));
	if (!n)
		return 0;
	buf_add(&b, json_string_value(v), n);
	buf_addstr(&b, "=" REDACTED);
	*repl = json_stringn(b.data, b.len);
	if (!*repl)
		ret = -1;
	buf_release(&b);
	return ret;
}

/* Does the object name a secret in its own "name" or "key" member? Then its "value" member is
 * one: {"name": "DB_PASSWORD", "value": "..."} (ECS environments, SSM parameters). */
static int json_names_secret(json_t *obj)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
		if ((!strcasecmp(key, "name") || !strcasecmp(key, "key")) && json_is_string(v) &&
		    http_secret_name(json_string_value(v), json_string_length(v)))
			return 1;
	return 0;
}

/* Redacts what v holds, in place: values of secret-looking keys (whatever they are: objects
 * and arrays go whole), "value" beside a secret-looking "name", and "NAME=value" strings with
 * such a NAME. A replacement that cannot be made fails the whole, since the secret would
 * stay. The recursion is bounded by jansson's parser (2048 levels). */
static int redact_json_value(json_t *v)
{
	json_t *r;

	if (json_is_object(v)) {
		int names_secret = json_names_secret(v);

		for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
			const char *key = json_object_iter_key(it);
			json_t *m = json_object_iter_value(it);

			/* iter_set_new takes the new value's reference, and fails on NULL. */
			if (http_secret_name(key, strlen(key)) ||
			    (names_secret && !strcasecmp(key, "value"))) {
				if (json_object_iter_set_new(v, it, json_string(REDACTED)))
					return -1;
				continue;
			}
			if (json_assignment_redacted(m, &r))
				return -1;
			if (r ? json_object_iter_set_new(v, it, r) : redact_json_value(m))
				return -1;
		}
	} else if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			json_t *e = json_array_get(v, i);

			if (json_assignment_redacted(e, &r))
				return -1;
			if (r ? json_array_set_new(v, i, r) : redact_json_value(e))
				return -1;
		}
	}
	return 0;
}

/* Parses the first JSON text of s, appends it redacted (compact, members in their order) and
 * sets *used to the bytes it took. */
static int redact_json_text(const char *s, size_t len, struct buf *out, size_t *used)
{
	const size_t flags = JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY;
	json_t *v = NULL, *r;
	json_error_t err;
	char *text = NULL;
	int ret = -1;

	/* jansson reports the bytes it used as an int. */
	if (len > INT_MAX)
		goto out;
	v = json_loadb(s, len, flags, &err);
	/* Integers beyond 64 bits are valid JSON that jansson only takes as reals. */
	if (!v && json_error_code(&err) == json_error_numeric_overflow)
		v = json_loadb(s, len, flags | JSON_DECODE_INT_AS_REAL, &err);
	if (!v || err.position <= 0)
		goto out;
	/* A document that is just a string: "DB_PASSWORD=..." too. */
	if (json_assignment_redacted(v, &r))
		goto out;
	if (r) {
		json_decref(v);
		v = r;
	}
	if (redact_json_value(v))
		goto out;
	text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	if (!text)
		goto out;
	buf_addstr(out, text);
	*used = (size_t)err.position;
	ret = 0;
out:
	free(text);
	json_decref(v);
	return ret;
}

/* One document, or several (JSON lines, concatenated documents), each shown on its own with the
 * white space between them kept. From the first that does not parse (a body cut short) on,
 * nothing is shown. */
static void redact_json(const char *s, size_t len, struct buf *out)
{
	size_t i = 0;

	while (i < len) {
		size_t start = i, used = 0;

		while (i < len && isspace((unsigned char)s[i]))
			i++;
		buf_add(out, s + start, i - start);
		if (i == len)
			break;
		if (redact_json_text(s + i, len - i, out, &used)) {
			not_shown(out, len - i, "JSON");
			break;
		}
		i += used;
	}
}

/* ---- XML and HTML bodies (libxml2) ---- */

static const xmlChar *xml_local_name(const xmlChar *name)
{
	/* libxml2 keeps "ns:Name" whole when the prefix was never declared. */
	const char *colon = strrchr((const char *)name, ':');

	return colon ? (const xmlChar *)colon + 1 : name;
}

static int xml_secret_name(const xmlChar *name)
{
	const char *local = (const char *)xml_local_name(name);

	return http_secret_name(local, strlen(local));
}

/* The node after n in document order below root, or NULL; with descend 0, n's subtree is
 * skipped. Only elements are entered: an entity reference's children are the entity's
 * declaration, shared with the DTD. Iterative, so that deep documents cost no stack. */
static xmlNode *xml_next(const xmlNode *root, xmlNode *n, int descend)
{
	if (descend && n->type == XML_ELEMENT_NODE && n->children)
		return n->children;
	while (n != root && !n->next)
		n = n->parent;
	return n == root ? NULL : n->next;
}

/* Elements and attributes whose local names look secret get their content replaced. An
 * element's content goes whole, so <Credentials>...</Credentials> (STS) hides all it holds;
 * an empty element stays empty, as it holds nothing. */
static int redact_xml_tree(xmlNode *root)
{
	xmlNode *n = root;

	while (n) {
		int secret = 0;

		if (n->type == XML_ELEMENT_NODE) {
			for (xmlAttr *a = n->properties; a; a = a->next) {
				if (!xml_secret_name(a->name))
					continue;
				xmlNodeSetContent((xmlNode *)a, BAD_CAST REDACTED);
				/* It frees the old content first: left empty, the set failed. */
				if (!a->children)
					return -1;
			}
			secret = xml_secret_name(n->name);
			if (secret && n->children) {
				xmlNodeSetContent(n, BAD_CAST REDACTED);
				if (!n->children)
					return -1;
			}
		}
		n = xml_next(root, n, !secret);
	}
	return 0;
}

/* Serializes the document's nodes as they are, white space included. The XML declaration and
 * any DTD are left out: they are noise in a log, and a DTD's entities could hold anything. XML
 * comes out in UTF-8. HTML gets no encoding, as libxml2 would add a <meta> naming it; its
 * non-ASCII characters come out as references. */
static int xml_dump(xmlDoc *doc, struct buf *out)
{
	const char *encoding = doc->type == XML_HTML_DOCUMENT_NODE ? NULL : "UTF-8";
	xmlBuffer *xb = xmlBufferCreate();
	xmlSaveCtxt *save = NULL;
	int ret = -1;

	if (!xb)
		goto out;
	save = xmlSaveToBuffer(xb, encoding, XML_SAVE_NO_DECL);
	if (!save)
		goto out;
	for (xmlNode *n = doc->children; n; n = n->next)
		if (n->type != XML_DTD_NODE && xmlSaveTree(save, n) < 0)
			goto out;
	ret = xmlSaveClose(save) < 0 ? -1 : 0;
	save = NULL;
	if (!ret)
		buf_add(out, xmlBufferContent(xb), (size_t)xmlBufferLength(xb));
out:
	if (save)
		xmlSaveClose(save);
	if (xb)
		xmlBufferFree(xb);
	return ret;
}

/* XML, or HTML (error pages of proxies and load balancers), parsed and redacted whole. libxml2
 * neither fetches anything (NONET) nor substitutes entities (no NOENT), and reports errors
 * only to us. XML that is not well-formed fails; the HTML parser mends anything, as browsers
 * do. */
static int redact_markup(const char *s, size_t len, int html, struct buf *out)
{
	xmlDoc *doc = NULL;
	xmlNode *root;
	int ret = -1;

	if (len > INT_MAX)
		goto out;
	if (html)
		doc = htmlReadMemory(s, (int)len, NULL, NULL,
				     HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
	else
		doc = xmlReadMemory(s, (int)len, NULL, NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root || redact_xml_tree(root) || xml_dump(doc, out))
		goto out;
	ret = 0;
out:
	xmlFreeDoc(doc);
	return ret;
}

enum body_kind { BODY_TEXT, BODY_JSON, BODY_XML, BODY_HTML, BODY_FORM };

static enum body_kind body_kind(const char *ctype, const char *s, size_t len)
{
	size_t i = 0;

	if (ctype && strcasestr(ctype, "json"))
		return BODY_JSON;
	/* Before "html": application/xhtml+xml is XML. */
	if (ctype && strcasestr(ctype, "xml"))
		return BODY_XML;
	if (ctype && strcasestr(ctype, "html"))
		return BODY_HTML;
	if (ctype && strcasestr(ctype, "x-www-form-urlencoded"))
		return BODY_FORM;
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	if (i < len && (s[i] == '{' || s[i] == '['))
		return BODY_JSON;
	if (i < len && s[i] == '<')
		return BODY_XML;
	/* name=value before any space or line break: a form. */
	for (; i < len && !isspace((unsigned char)s[i]); i++)
		if (s[i] == '=')
			return BODY_FORM;
	return BODY_TEXT;
}

void http_redact_body(const char *content_type, const char *data, size_t len, struct buf *out)
{
	if (!len)
		return;
	switch (body_kind(content_type, data, len)) {
	case BODY_JSON:
		redact_json(data, len, out);
		break;
	case BODY_XML:
		if (redact_markup(data, len, 0, out))
			not_shown(out, len, "XML");
		break;
	case BODY_HTML:
		if (redact_markup(data, len, 1, out))
			not_shown(out, len, "HTML");
		break;
	case BODY_FORM:
		redact_form(data, len, out);
		break;
	case BODY_TEXT:
		buf_add(out, data, len);
		break;
	}
}

void http_redact_url(const char *url, struct buf *out)
{
	const char *scheme = strstr(url, "://");
	const char *auth = scheme ? scheme + 3 : url;
	const char *path = auth + strcspn(auth, "/?#");
	const char *at = memchr(auth, '@', (size_t)(path - auth));
	const char *q, *frag;

	if (at) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));

		buf_add(out, url, (size_t)((colon ? colon + 1 : at) - url));
		if (colon)
			buf_addstr(out, REDACTED);
		url = at;
	}
	q = strchr(path, '?');
	if (!q) {
		buf_addstr(out, url);
		return;
	}
	buf_add(out, url, (size_t)(q + 1 - url));
	frag = strchr(q, '#');
	redact_form(q + 1, frag ? (size_t)(frag - q - 1) : strlen(q + 1), out);
	if (frag)
		buf_addstr(out, frag);
}

/* ---- the client ---- */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *arg)
{
	struct http_client *c = arg;
	size_t n = sizeof c->share_locks / sizeof c->share_locks[0];

	(void)h;
	(void)access;
	pthread_mutex_lock(&c->share_locks[(size_t)data < n ? (size_t)data : 0]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *arg)
{
	struct http_client *c = arg;
	size_t n = sizeof c->share_locks / sizeof c->share_locks[0];

	(void)h;
	pthread_mutex_unlock(&c->share_locks[(size_t)data < n ? (size_t)data : 0]);
}

static enum http_log_level log_level_from_env(void)
{
	const char *v = getenv("STK_LOG");

	if (!v)
		return HTTP_LOG_OFF;
	if (!strcasecmp(v, "debug") || !strcasecmp(v, "trace"))
		return HTTP_LOG_DEBUG;
	if (!strcasecmp(v, "info"))
		return HTTP_LOG_INFO;
	return HTTP_LOG_OFF;
}

int http_client_init(struct http_client *c, struct diag_ctx *ctx)
{
	size_t nlocks = sizeof c->share_locks / sizeof c->share_locks[0];
	const char *v;
	CURLSH *sh;

	if (http_global_init(ctx))
		return -1;
	memset(c, 0, sizeof *c);
	c->max_attempts = 8;
	c->backoff_base_ms = 100;
	c->backoff_cap_ms = 20000;
	c->retry_after_cap_ms = 20000;
	c->connect_timeout_ms = 10000;
	c->timeout_ms = 60000;
	c->budget_max = 500;
	c->retry_cost = 5;
	c->timeout_retry_cost = 10;
	c->success_refund = 1;
	c->user_agent = "stk";
	c->log_level = log_level_from_env();
	c->log = stderr;
	c->retryable = http_retryable_default;
	pthread_mutex_init(&c->lock, NULL);
	for (size_t i = 0; i < nlocks; i++)
		pthread_mutex_init(&c->share_locks[i], NULL);

	v = getenv("CURL_CA_BUNDLE");
	if (!v || !*v)
		v = getenv("SSL_CERT_FILE");
	if (v && *v)
		c->ca_file = xstrdup(v);
	v = getenv("NO_PROXY");
	if (!v)
		v = getenv("no_proxy");
	if (v && !strcmp(v, "*"))
		c->no_proxy = xstrdup("*");
	else
		c->no_proxy = xasprintf("%s%s127.0.0.1,localhost,::1", v && *v ? v : "",
					v && *v ? "," : "");

	sh = curl_share_init();
	if (!sh ||
	    curl_share_setopt(sh, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
	    curl_share_setopt(sh, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
	    curl_share_setopt(sh, CURLSHOPT_USERDATA, c) != CURLSHE_OK ||
	    curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
	    curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
		if (sh)
			curl_share_cleanup(sh);
		if (ctx)
			diag_error(ctx, NULL, "cannot set up libcurl's shared caches");
		c->share = NULL;
		http_client_release(c);
		return -1;
	}
	c->share = sh;
	return 0;
}

void http_client_release(struct http_client *c)
{
	size_t nlocks = sizeof c->share_locks / sizeof c->share_locks[0];
	size_t n = buf_count(&c->idle, CURL *);

	/* Handles first: each holds a reference to the share. */
	for (size_t i = 0; i < n; i++)
		curl_easy_cleanup(buf_at(&c->idle, CURL *, i));
	buf_release(&c->idle);
	if (c->share)
		curl_share_cleanup(c->share);
	c->share = NULL;
	free(c->ca_file);
	free(c->no_proxy);
	c->ca_file = c->no_proxy = NULL;
	pthread_mutex_destroy(&c->lock);
	for (size_t i = 0; i < nlocks; i++)
		pthread_mutex_destroy(&c->share_locks[i]);
}

void http_client_stats(struct http_client *c, struct http_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->stats;
	pthread_mutex_unlock(&c->lock);
}

static CURL *handle_get(struct http_client *c)
{
	CURL *h = NULL;
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = buf_count(&c->idle, CURL *);
	if (n) {
		h = buf_at(&c->idle, CURL *, n - 1);
		c->idle.len -= sizeof(CURL *);
	}
	pthread_mutex_unlock(&c->lock);
	return h ? h : curl_easy_init();
}

/* Every handle comes back to the pool: the pool then never holds more than were in use at once,
 * which the caller's parallelism bounds. Capping it below that would close a connection after
 * each call of the workers beyond the cap and open a new one for their next call. */
static void handle_put(struct http_client *c, CURL *h)
{
	if (!h)
		return;
	/* Forget the request (its buffers and callbacks); connections and caches stay. */
	curl_easy_reset(h);
	pthread_mutex_lock(&c->lock);
	buf_push(&c->idle, CURL *, h);
	pthread_mutex_unlock(&c->lock);
}

/* The retry budget, as in the AWS SDKs' retry quota: budget_max tokens, a retry takes some, a
 * success gives some back; empty, requests fail fast rather than pile onto a sick service. */
static int budget_take(struct http_client *c, unsigned cost)
{
	int ok = 1;

	pthread_mutex_lock(&c->lock);
	if (c->budget_max) {
		if (c->budget_used + cost > c->budget_max)
			ok = 0;
		else
			c->budget_used += cost;
	}
	if (!ok)
		c->stats.budget_exhausted++;
	pthread_mutex_unlock(&c->lock);
	return ok ? 0 : -1;
}

static void budget_refund(struct http_client *c, unsigned tokens)
{
	pthread_mutex_lock(&c->lock);
	c->budget_used = c->budget_used > tokens ? c->budget_used - tokens : 0;
	pthread_mutex_unlock(&c->lock);
}

long http_backoff_ms(const struct http_client *c, unsigned retry)
{
	long base = c->backoff_base_ms, cap = c->backoff_cap_ms, ceiling = base;

	if (base <= 0 || cap <= 0)
		return 0;
	for (unsigned i = 0; i < retry && ceiling < cap; i++)
		ceiling *= 2;
	if (ceiling > cap)
		ceiling = cap;
	return (long)(rng_next() % ((uint64_t)ceiling + 1));
}

/* ---- reasons and statistics ---- */

static const char *const reason_names[HTTP_REASON_COUNT][2] = {
	[HTTP_NO_RETRY] = { "final", "final" },
	[HTTP_RETRY_THROTTLED] = { "throttled", "throttled" },
	[HTTP_RETRY_SERVER] = { "server error", "server errors" },
	[HTTP_RETRY_CONNECT] = { "connection failure", "connection failures" },
	[HTTP_RETRY_RESET] = { "connection reset", "connection resets" },
	[HTTP_RETRY_TIMEOUT] = { "timeout", "timeouts" },
	[HTTP_RETRY_TRANSIENT] = { "transient error", "transient errors" },
};

const char *http_reason_name(enum http_reason r)
{
	return (unsigned)r < HTTP_REASON_COUNT ? reason_names[r][1] : "unknown";
}

void http_stats_describe(const struct http_stats *s, struct buf *out)
{
	const char *sep = ": ";

	if (!s->retries) {
		buf_addstr(out, "no retries");
		return;
	}
	buf_printf(out, "retried %lu time%s", s->retries, s->retries == 1 ? "" : "s");
	for (int r = 1; r < HTTP_REASON_COUNT; r++) {
		if (!s->retries_by[r])
			continue;
		buf_printf(out, "%s%lu %s", sep, s->retries_by[r],
			   reason_names[r][s->retries_by[r] != 1]);
		sep = ", ";
	}
}

/* ---- classifiers ---- */

int http_retryable_default(void *arg, const struct http_response *resp)
{
	(void)arg;
	if (resp->status == 429)
		return HTTP_RETRY_THROTTLED;
	if (resp->status >= 500 && resp->status <= 599 && resp->status != 501 &&
	    resp->status != 505)
		return HTTP_RETRY_SERVER;
	return HTTP_NO_RETRY;
}

/* Copies the code in s[0..n) into out, without surrounding white space. sanitize: as the AWS
 * SDKs do for x-amzn-ErrorType and JSON "__type", what follows a ':' goes, then everything up
 * to the last '#': "aws.api#ThrottlingException:http://internal..." is ThrottlingException.
 * A code that does not fit is no code: cut short, it could name another. */
static int aws_code_copy(const char *s, size_t n, int sanitize, char *out, size_t size)
{
	if (sanitize) {
		const char *colon = memchr(s, ':', n), *hash;

		if (colon)
			n = (size_t)(colon - s);
		hash = memrchr(s, '#', n);
		if (hash) {
			n -= (size_t)(hash + 1 - s);
			s = hash + 1;
		}
	}
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (!n || n >= size)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* The text of the first element named Code, in document order: ErrorResponse/Error/Code (the
 * query APIs: RDS, STS, IAM), Response/Errors/Error/Code (EC2), Error/Code (S3). */
static int aws_xml_code(const char *s, size_t len, char *out, size_t size)
{
	xmlDoc *doc = NULL;
	xmlNode *root, *n;
	xmlChar *text = NULL;
	int ret = -1;

	if (len > INT_MAX)
		goto out;
	doc = xmlReadMemory(s, (int)len, NULL, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	for (n = root; n; n = xml_next(root, n, 1))
		if (n->type == XML_ELEMENT_NODE &&
		    xmlStrEqual(xml_local_name(n->name), BAD_CAST "Code"))
			break;
	if (!n)
		goto out;
	text = xmlNodeGetContent(n);
	if (text)
		ret = aws_code_copy((const char *)text, strlen((const char *)text), 0, out, size);
out:
	xmlFree(text);
	xmlFreeDoc(doc);
	return ret;
}

/* The JSON protocols: "__type", else "code", else "Code". */
static int aws_json_code(const char *s, size_t len, char *out, size_t size)
{
	static const char *const keys[] = { "__type", "code", "Code", NULL };
	json_error_t err;
	json_t *root = json_loadb(s, len, 0, &err);
	int ret = -1;

	for (const char *const *k = keys; root && *k && ret; k++) {
		json_t *v = json_object_get(root, *k);

		if (json_is_string(v))
			ret = aws_code_copy(json_string_value(v), json_string_length(v), 1, out,
					    size);
	}
	json_decref(root);
	return ret;
}

int http_aws_error_code(const struct http_response *resp, char *out, size_t size)
{
	const char *s = resp->body.data ? resp->body.data : "";
	const char *h = http_response_header(resp, "x-amzn-ErrorType");
	size_t len = resp->body.len, i = 0;

	if (!size)
		return -1;
	out[0] = '\0';
	if (h && aws_code_copy(h, strlen(h), 1, out, size) == 0)
		return 0;
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	if (i < len && s[i] == '<' && aws_xml_code(s, len, out, size) == 0)
		return 0;
	if (i < len && s[i] == '{' && aws_json_code(s, len, out, size) == 0)
		return 0;
	out[0] = '\0';
	return -1;
}

int http_retryable_aws(void *arg, const struct http_response *resp)
{
	/* The AWS SDKs' throttling codes (aws-sdk-go-v2 retry.DefaultThrottleErrorCodes). */
	static const char *const throttling[] = {
		"Throttling", "ThrottlingException", "ThrottledException",
		"RequestThrottledException", "TooManyRequestsException",
		"ProvisionedThroughputExceededException", "TransactionInProgressException",
		"RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException",
		"RequestThrottled", "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
		NULL
	};
	static const char *const transient[] = {
		"RequestTimeout", "RequestTimeoutException", "IDPCommunicationError", NULL
	};
	char code[128];

	if (resp->status >= 400 && http_aws_error_code(resp, code, sizeof code) == 0) {
		for (const char *const *t = throttling; *t; t++)
			if (!strcmp(code, *t))
				return HTTP_RETRY_THROTTLED;
		for (const char *const *t = transient; *t; t++)
			if (!strcmp(code, *t))
				return HTTP_RETRY_TRANSIENT;
	}
	return http_retryable_default(arg, resp);
}

/* ---- requests and responses ---- */

void http_request_init(struct http_request *req, const char *method, const char *url)
{
	memset(req, 0, sizeof *req);
	req->method = method;
	req->url = url;
	http_headers_init(&req->headers);
	req->upload_fd = -1;
	req->upload_len = -1;
}

void http_request_release(struct http_request *req)
{
	http_headers_release(&req->headers);
}

void http_response_init(struct http_response *resp)
{
	memset(resp, 0, sizeof *resp);
	http_headers_init(&resp->headers);
	buf_init(&resp->body);
}

void http_response_release(struct http_response *resp)
{
	http_headers_release(&resp->headers);
	buf_release(&resp->body);
	free(resp->error);
	resp->error = NULL;
}

const char *http_response_header(const struct http_response *resp, const char *name)
{
	return http_headers_get(&resp->headers, name);
}

static void response_reset(struct http_response *resp)
{
	resp->status = 0;
	http_headers_clear(&resp->headers);
	buf_reset(&resp->body);
	free(resp->error);
	resp->error = NULL;
	resp->curl_code = 0;
}

/* ---- one transfer ---- */

struct xfer {
	struct http_client *c;
	struct http_request *req;
	struct http_response *resp;
	char errbuf[CURL_ERROR_SIZE];
	off_t fd_start;		/* where the upload fd started; -1: not seekable */
	int upload_touched;	/* bytes were read from the stream since it was (re)wound */
	int upload_failed;
	int streamed;		/* bytes of a 2xx body went to on_body */
	size_t streamed_len;	/* how many, for the log */
	int body_failed;	/* on_body returned non-zero */
	struct buf line;	/* a line not yet complete, for body_lines */
	struct buf log_copy;	/* the start of a streamed body, for the debug log */
};

/* Appends a folded continuation line to the last header (obsolete, but legal). */
static void unfold_header(struct http_headers *h, const char *p, size_t end)
{
	size_t cnt = http_headers_count(h), i = 0;
	struct http_header *hd;
	char *v;

	if (!cnt)
		return;
	hd = &buf_at(&h->items, struct http_header, cnt - 1);
	while (i < end && (p[i] == ' ' || p[i] == '\t'))
		i++;
	v = xasprintf("%s %.*s", hd->value, (int)(end - i), p + i);
	free(hd->value);
	hd->value = v;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n, end = len, vi;
	const char *colon, *sp;
	char *name, *value;

	while (end && (p[end - 1] == '\r' || p[end - 1] == '\n'))
		end--;
	if (end >= 5 && !memcmp(p, "HTTP/", 5)) {
		/* A new response (after 100 Continue, or a redirect): start over. */
		sp = memchr(p, ' ', end);
		http_headers_clear(&x->resp->headers);
		x->resp->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		return len;
	}
	if (!end)
		return len;
	if (p[0] == ' ' || p[0] == '\t') {
		unfold_header(&x->resp->headers, p, end);
		return len;
	}
	colon = memchr(p, ':', end);
	if (!colon)
		return len;
	vi = (size_t)(colon - p) + 1;
	while (vi < end && (p[vi] == ' ' || p[vi] == '\t'))
		vi++;
	name = xstrndup(p, (size_t)(colon - p));
	value = xstrndup(p + vi, end - vi);
	http_headers_add(&x->resp->headers, name, value);
	free(name);
	free(value);
	return len;
}

static int emit_line(struct xfer *x, const char *p, size_t n)
{
	if (n && p[n - 1] == '\r')
		n--;
	return x->req->on_body(x->req->on_body_arg, p, n);
}

static int deliver(struct xfer *x, const char *p, size_t n)
{
	if (!x->req->body_lines)
		return x->req->on_body(x->req->on_body_arg, p, n);
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t seg;
		int rc;

		if (!nl) {
			buf_add(&x->line, p, n);
			return 0;
		}
		seg = (size_t)(nl - p);
		if (x->line.len) {
			buf_add(&x->line, p, seg);
			rc = emit_line(x, x->line.data, x->line.len);
			buf_reset(&x->line);
		} else {
			rc = emit_line(x, p, seg);
		}
		if (rc)
			return rc;
		p += seg + 1;
		n -= seg + 1;
	}
	return 0;
}

static size_t on_write(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	long st = x->resp->status;

	if (!x->req->on_body || st < 200 || st > 299) {
		buf_add(&x->resp->body, p, len);
		return len;
	}
	x->streamed = 1;
	x->streamed_len += len;
	if (x->c->log_level >= HTTP_LOG_DEBUG && x->log_copy.len < LOG_STREAM_COPY) {
		size_t room = LOG_STREAM_COPY - x->log_copy.len;

		buf_add(&x->log_copy, p, len < room ? len : room);
	}
	if (deliver(x, p, len)) {
		x->body_failed = 1;
		return 0; /* CURLE_WRITE_ERROR */
	}
	return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	ssize_t r;

	if (x->req->upload_fd >= 0) {
		do
			r = read(x->req->upload_fd, p, len);
		while (r < 0 && errno == EINTR);
	} else {
		r = x->req->upload_read(x->req->upload_arg, p, len);
	}
	if (r < 0 || (size_t)r > len) {
		x->upload_failed = 1;
		return CURL_READFUNC_ABORT;
	}
	if (r > 0)
		x->upload_touched = 1;
	return (size_t)r;
}

static int upload_rewindable(const struct xfer *x)
{
	if (x->req->upload_fd >= 0)
		return x->fd_start >= 0;
	return x->req->upload_rewind != NULL;
}

static int upload_rewind(struct xfer *x)
{
	if (x->req->upload_fd >= 0) {
		if (x->fd_start < 0 || lseek(x->req->upload_fd, x->fd_start, SEEK_SET) < 0)
			return -1;
	} else if (!x->req->upload_rewind || x->req->upload_rewind(x->req->upload_arg)) {
		return -1;
	}
	x->upload_touched = 0;
	return 0;
}

/* libcurl rewinds by itself to resend on a fresh connection when a reused one turns out dead. */
static int on_seek(void *arg, curl_off_t off, int origin)
{
	struct xfer *x = arg;

	if (origin != SEEK_SET)
		return CURL_SEEKFUNC_CANTSEEK;
	if (x->req->upload_fd >= 0) {
		if (x->fd_start < 0)
			return CURL_SEEKFUNC_CANTSEEK;
		if (lseek(x->req->upload_fd, x->fd_start + (off_t)off, SEEK_SET) < 0)
			return CURL_SEEKFUNC_FAIL;
		x->upload_touched = off != 0;
		return CURL_SEEKFUNC_OK;
	}
	if (off != 0 || !x->req->upload_rewind)
		return CURL_SEEKFUNC_CANTSEEK;
	return upload_rewind(x) ? CURL_SEEKFUNC_FAIL : CURL_SEEKFUNC_OK;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	(void)arg;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return http_cancelled();
}

static int valid_header(const struct http_header *hd)
{
	if (!*hd->name || strpbrk(hd->name, ":\r\n \t") || strpbrk(hd->value, "\r\n"))
		return 0;
	return 1;
}

static int has_upload(const struct http_request *req)
{
	return req->upload_fd >= 0 || req->upload_read;
}

/* The header list for libcurl. Returns 0, or -1 with resp->error set. */
static int build_headers(struct xfer *x, int with_body, struct curl_slist **list)
{
	const struct http_request *req = x->req;
	struct buf line = BUF_INIT;
	struct curl_slist *l = NULL, *nl;
	int ret = -1;

	for (size_t i = 0; i <= http_headers_count(&req->headers) + 1; i++) {
		buf_reset(&line);
		if (i < http_headers_count(&req->headers)) {
			const struct http_header *hd = http_headers_at(&req->headers, i);

			if (!valid_header(hd)) {
				set_error(x->resp, "invalid request header \"%s\"", hd->name);
				goto out;
			}
			if (*hd->value)
				buf_printf(&line, "%s: %s", hd->name, hd->value);
			else
				buf_printf(&line, "%s;", hd->name);
		} else if (i == http_headers_count(&req->headers)) {
			/* No Expect: 100-continue round trip. */
			if (!http_headers_get(&req->headers, "Expect"))
				buf_addstr(&line, "Expect:");
		} else if (with_body && !http_headers_get(&req->headers, "Content-Type")) {
			/* Nor a made-up form Content-Type on a body that did not say what it is:
			 * only the caller's headers, as signed. */
			buf_addstr(&line, "Content-Type:");
		}
		if (!line.len)
			continue;
		nl = curl_slist_append(l, line.data);
		if (!nl) {
			set_error(x->resp, "out of memory building the request headers");
			goto out;
		}
		l = nl;
	}
	ret = 0;
out:
	if (ret) {
		curl_slist_free_all(l);
		l = NULL;
	}
	*list = l;
	buf_release(&line);
	return ret;
}

/* Sets every option for one attempt. Returns 0, or -1 with resp->error set. */
static int setup(CURL *h, struct xfer *x, struct curl_slist **list)
{
	struct http_client *c = x->c;
	struct http_request *req = x->req;
	long connect_ms = req->connect_timeout_ms ? req->connect_timeout_ms : c->connect_timeout_ms;
	long total_ms = req->timeout_ms ? req->timeout_ms : c->timeout_ms;
	const char *method = req->method ? req->method : "GET";
	int with_body = req->body || req->body_len || !strcmp(method, "POST") ||
			!strcmp(method, "PUT") || !strcmp(method, "PATCH");

	curl_easy_reset(h);
	x->errbuf[0] = '\0';
	if (build_headers(x, with_body || has_upload(req), list))
		return -1;

	curl_easy_setopt(h, CURLOPT_URL, req->url);
	/* what was signed is what is sent: an S3 key may hold "." and ".." segments */
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *list);
	curl_easy_setopt(h, CURLOPT_SHARE, c->share);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(h, CURLOPT_NOPROXY, c->no_proxy);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms > 0 ? connect_ms : 0L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms > 0 ? total_ms : 0L);
	if (!http_headers_get(&req->headers, "User-Agent") && c->user_agent)
		curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
	if (req->follow_redirects) {
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	}

	/* TLS is always verified; there is deliberately no way to turn it off. */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->tls_ca || c->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, req->tls_ca ? req->tls_ca : c->ca_file);
	if (req->tls_cert)
		curl_easy_setopt(h, CURLOPT_SSLCERT, req->tls_cert);
	if (req->tls_key)
		curl_easy_setopt(h, CURLOPT_SSLKEY, req->tls_key);
	if (req->unix_socket &&
	    curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, req->unix_socket) != CURLE_OK) {
		set_error(x->resp, "this libcurl cannot connect to unix sockets");
		return -1;
	}

	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);

	if (has_upload(req)) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, x);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, x);
		/* -1: unknown, so HTTP/1.1 sends it chunked. */
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->upload_len);
		if (strcmp(method, "POST"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	} else if (with_body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
		if (strcmp(method, "POST"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	} else if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(method, "GET")) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	return 0;
}

static enum http_reason transport_reason(CURLcode code)
{
	switch (code) {
	case CURLE_COULDNT_CONNECT:
		return HTTP_RETRY_CONNECT;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return HTTP_RETRY_RESET;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTP_RETRY_TIMEOUT;
	default:
		return HTTP_NO_RETRY;
	}
}

/* What went wrong with an attempt, in words: "HTTP 503", "HTTP 400 Throttling", or curl's. */
static void describe_attempt(const struct xfer *x, CURLcode code, struct buf *out)
{
	char aws[128];

	if (code == CURLE_OK) {
		buf_printf(out, "HTTP %ld", x->resp->status);
		if (x->resp->status >= 400 && http_aws_error_code(x->resp, aws, sizeof aws) == 0)
			buf_printf(out, " %s", aws);
	} else if (code == CURLE_ABORTED_BY_CALLBACK && http_cancelled()) {
		buf_addstr(out, "cancelled");
	} else if (x->body_failed) {
		buf_addstr(out, "aborted by the response body callback");
	} else if (x->upload_failed) {
		buf_addstr(out, "reading the request body failed");
	} else if (x->errbuf[0]) {
		size_t n = strlen(x->errbuf);

		while (n && (x->errbuf[n - 1] == '\n' || x->errbuf[n - 1] == '\r'))
			n--;
		buf_add(out, x->errbuf, n);
	} else {
		buf_addstr(out, curl_easy_strerror(code));
	}
}

/* Retry-After in seconds or as an HTTP date, capped; -1 if absent or unreadable. */
static long retry_after_ms(const struct http_client *c, const struct http_response *resp)
{
	const char *v = http_response_header(resp, "Retry-After");
	long cap = c->retry_after_cap_ms > 0 ? c->retry_after_cap_ms : 0, s;

	if (!v || !*v)
		return -1;
	if (isdigit((unsigned char)*v)) {
		char *end;

		s = strtol(v, &end, 10);
		if (*end && !isspace((unsigned char)*end))
			return -1;
	} else {
		time_t t = curl_getdate(v, NULL);

		if (t < 0)
			return -1;
		s = (long)(t - time(NULL));
		if (s < 0)
			s = 0;
	}
	return s > cap / 1000 ? cap : s * 1000;
}

/* ---- logging ---- */

static void log_write(struct http_client *c, struct buf *b)
{
	/* a request's body may carry a sensitive argument (a tag, a password) */
	diag_redact(b);
	/* One fwrite per record: stdio's lock keeps threads' records whole. */
	if (b->len)
		fwrite(b->data, 1, b->len, c->log);
}

static int looks_binary(const char *s, size_t len)
{
	if (len > 512)
		len = 512;
	return memchr(s, '\0', len) != NULL;
}

static void log_escaped(struct buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\n')
			buf_addstr(out, "\\n");
		else if (ch == '\r')
			buf_addstr(out, "\\r");
		else if (ch == '\t')
			buf_addstr(out, "\\t");
		else if (ch < 0x20 || ch == 0x7f)
			buf_printf(out, "\\x%02x", ch);
		else
			buf_addch(out, ch);
	}
}

static void log_body(struct buf *out, const char *dir, const char *ctype, const char *data,
		     size_t len, size_t total)
{
	struct buf red = BUF_INIT;

	if (!total)
		return;
	if (looks_binary(data, len)) {
		buf_printf(out, LOG_PREFIX "%s   body: %zu bytes of binary data\n", dir, total);
		return;
	}
	if (len > REDACT_MAX) {
		buf_printf(out, LOG_PREFIX "%s   body: %zu bytes, too large to redact: not shown\n",
			   dir, total);
		return;
	}
	/* Redacted whole, then cut: the cut can only fall in what redaction already cleaned. */
	http_redact_body(ctype, data, len, &red);
	buf_printf(out, LOG_PREFIX "%s   body (%zu bytes): ", dir, total);
	log_escaped(out, red.data ? red.data : "", red.len < LOG_BODY_MAX ? red.len : LOG_BODY_MAX);
	if (red.len > LOG_BODY_MAX || total > len)
		buf_addstr(out, " [truncated]");
	buf_addch(out, '\n');
	buf_release(&red);
}

static void log_headers(struct buf *out, const char *dir, const struct http_headers *h)
{
	for (size_t i = 0; i < http_headers_count(h); i++) {
		const struct http_header *hd = http_headers_at(h, i);
		struct buf v = BUF_INIT;

		http_redact_header(hd->name, hd->value, &v);
		buf_printf(out, LOG_PREFIX "%s   %s: ", dir, hd->name);
		log_escaped(out, v.data ? v.data : "", v.len);
		buf_addch(out, '\n');
		buf_release(&v);
	}
}

static void log_request(struct xfer *x, const char *url, unsigned attempt, unsigned max)
{
	struct http_request *req = x->req;
	struct buf b = BUF_INIT;

	buf_printf(&b, LOG_PREFIX "> %s %s (attempt %u of %u)\n", req->method, url, attempt, max);
	if (req->unix_socket)
		buf_printf(&b, LOG_PREFIX ">   via unix socket %s\n", req->unix_socket);
	log_headers(&b, ">", &req->headers);
	if (has_upload(req))
		buf_printf(&b, LOG_PREFIX ">   body: streamed from %s, %lld bytes\n",
			   req->upload_fd >= 0 ? "a file descriptor" : "a callback",
			   (long long)req->upload_len);
	else if (req->secret_body && req->body_len)
		buf_printf(&b, LOG_PREFIX ">   body: %zu bytes, not shown\n", req->body_len);
	else
		log_body(&b, ">", http_headers_get(&req->headers, "Content-Type"), req->body,
			 req->body_len, req->body_len);
	log_write(x->c, &b);
	buf_release(&b);
}

static void log_response(struct xfer *x, const char *url, CURLcode code, long ms,
			 unsigned attempt, unsigned max)
{
	struct http_response *resp = x->resp;
	const char *ctype = http_response_header(resp, "Content-Type");
	struct buf b = BUF_INIT;

	if (code == CURLE_OK) {
		buf_printf(&b, LOG_PREFIX "< %ld from %s %s in %ld ms (attempt %u of %u)\n",
			   resp->status, x->req->method, url, ms, attempt, max);
	} else {
		buf_printf(&b, LOG_PREFIX "< no response from %s %s in %ld ms (attempt %u of %u): ",
			   x->req->method, url, ms, attempt, max);
		describe_attempt(x, code, &b);
		buf_addch(&b, '\n');
	}
	log_headers(&b, "<", &resp->headers);
	if (x->req->secret_body && resp->body.len)
		buf_printf(&b, LOG_PREFIX "<   body: %zu bytes, not shown\n", resp->body.len);
	else if (x->log_copy.len)
		log_body(&b, "<", ctype, x->log_copy.data, x->log_copy.len, x->streamed_len);
	else
		log_body(&b, "<", ctype, resp->body.data, resp->body.len, resp->body.len);
	log_write(x->c, &b);
	buf_release(&b);
}

/* ---- the request loop ---- */

static CURLcode perform(CURL *h, struct xfer *x, long *num_connects)
{
	struct curl_slist *list = NULL;
	CURLcode code;
	long status = 0;

	*num_connects = 0;
	if (setup(h, x, &list)) {
		curl_slist_free_all(list);
		return CURLE_FAILED_INIT;
	}
	code = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, num_connects);
	if (code == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		x->resp->status = status;
		/* The end of a streamed body may be a line without its newline. */
		if (x->req->body_lines && x->line.len && emit_line(x, x->line.data, x->line.len)) {
			x->body_failed = 1;
			code = CURLE_WRITE_ERROR;
		}
	}
	if (code != CURLE_OK)
		x->resp->status = 0; /* whatever arrived was not a whole response */
	buf_reset(&x->line);
	curl_slist_free_all(list);
	x->resp->curl_code = (int)code;
	return code;
}

static void count(struct http_client *c, unsigned long *counter, unsigned long n)
{
	pthread_mutex_lock(&c->lock);
	*counter += n;
	pthread_mutex_unlock(&c->lock);
}

/* Why the attempt is worth retrying, or HTTP_NO_RETRY. */
static enum http_reason attempt_reason(const struct xfer *x, CURLcode code,
				       http_classify_fn *classify, void *arg)
{
	int r;

	if (code == CURLE_OK) {
		r = classify(arg, x->resp);
		return r >= 0 && r < HTTP_REASON_COUNT ? (enum http_reason)r : HTTP_RETRY_TRANSIENT;
	}
	/* Our own aborts are final, whatever code libcurl turned them into. */
	if (x->body_failed || x->upload_failed || http_cancelled())
		return HTTP_NO_RETRY;
	return transport_reason(code);
}

/* May a retryable attempt be retried? Returns 0 with the budget's tokens taken (*cost), or -1
 * with resp->error saying why not. */
static int may_retry(struct xfer *x, enum http_reason reason, unsigned attempt, unsigned max,
		     const char *why, unsigned *cost)
{
	struct http_client *c = x->c;
	const char *s = attempt == 1 ? "" : "s";

	if (x->streamed) {
		set_error(x->resp, "%s; not retried: part of the response was already delivered",
			  why);
		return -1;
	}
	if (x->upload_touched && !upload_rewindable(x)) {
		set_error(x->resp, "%s; not retried: the request body is a stream that cannot be "
			  "rewound", why);
		return -1;
	}
	if (attempt >= max) {
		set_error(x->resp, "gave up after %u attempt%s: %s", attempt, s, why);
		return -1;
	}
	*cost = reason == HTTP_RETRY_TIMEOUT ? c->timeout_retry_cost : c->retry_cost;
	if (budget_take(c, *cost)) {
		set_error(x->resp, "gave up after %u attempt%s: the retry budget is exhausted (too "
			  "many failures across all requests); last error: %s", attempt, s, why);
		return -1;
	}
	pthread_mutex_lock(&c->lock);
	c->stats.retries++;
	c->stats.retries_by[reason]++;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static void log_retry(struct xfer *x, const char *url, long delay, int retry_after,
		      const char *why, enum http_reason reason)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, LOG_PREFIX "retrying %s %s in %ld ms%s (%s: %s)\n", x->req->method, url,
		   delay, retry_after ? " as Retry-After asks" : "", why, reason_names[reason][0]);
	log_write(x->c, &b);
	buf_release(&b);
}

/* The one line per request of STK_LOG=info. */
static void log_summary(struct xfer *x, const char *url, int ret)
{
	struct http_response *resp = x->resp;
	struct buf b = BUF_INIT;

	buf_printf(&b, LOG_PREFIX "%s %s", x->req->method, url);
	if (resp->status)
		buf_printf(&b, " %ld", resp->status);
	buf_printf(&b, " in %ld ms", resp->elapsed_ms);
	if (resp->attempts > 1)
		buf_printf(&b, " after %u attempts", resp->attempts);
	if (ret)
		buf_printf(&b, ": %s", resp->error ? resp->error : "failed");
	buf_addch(&b, '\n');
	log_write(x->c, &b);
	buf_release(&b);
}

int http_do(struct http_client *c, struct http_request *req, struct http_response *resp)
{
	unsigned max = req->max_attempts ? req->max_attempts : c->max_attempts;
	http_classify_fn *classify = req->retryable ? req->retryable : c->retryable;
	void *classify_arg = req->retryable ? req->retryable_arg : c->retryable_arg;
	struct buf url = BUF_INIT, why = BUF_INIT;
	long t0 = now_ms();
	unsigned cost = 0, attempt;
	struct xfer x;
	CURL *h = NULL;
	int ret = -1;

	if (!max)
		max = 1;
	if (!classify)
		classify = http_retryable_default;
	if (!req->method)
		req->method = "GET";
	memset(&x, 0, sizeof x);
	x.c = c;
	x.req = req;
	x.resp = resp;
	/* Where a retry rewinds an fd to: not necessarily its start. */
	x.fd_start = req->upload_fd >= 0 ? lseek(req->upload_fd, 0, SEEK_CUR) : -1;
	response_reset(resp);
	resp->attempts = 0;
	if (c->log_level)
		http_redact_url(req->url ? req->url : "", &url);
	buf_cstr(&url);
	count(c, &c->stats.requests, 1);

	if (!req->url) {
		set_error(resp, "no URL");
		goto out;
	}
	h = handle_get(c);
	if (!h) {
		set_error(resp, "cannot create a libcurl handle");
		goto out;
	}
	for (attempt = 1;; attempt++) {
		enum http_reason reason;
		long start, num_connects, delay, ra;
		CURLcode code;

		if (http_cancelled()) {
			set_error(resp, "cancelled");
			goto out;
		}
		response_reset(resp);
		x.streamed = x.body_failed = x.upload_failed = 0;
		x.streamed_len = 0;
		buf_reset(&x.log_copy);
		if (x.upload_touched && upload_rewind(&x)) {
			set_error(resp, "cannot rewind the request body to retry");
			goto out;
		}
		if (req->sign && req->sign(req->sign_arg, req)) {
			set_error(resp, "signing the request failed");
			goto out;
		}
		resp->attempts = attempt;
		count(c, &c->stats.attempts, 1);
		if (c->log_level >= HTTP_LOG_DEBUG)
			log_request(&x, url.data, attempt, max);

		start = now_ms();
		code = perform(h, &x, &num_connects);
		if (code == CURLE_FAILED_INIT && resp->error)
			goto out; /* setup() said why */
		count(c, &c->stats.connections, (unsigned long)num_connects);
		if (c->log_level >= HTTP_LOG_DEBUG)
			log_response(&x, url.data, code, now_ms() - start, attempt, max);

		buf_reset(&why);
		describe_attempt(&x, code, &why);
		reason = attempt_reason(&x, code, classify, classify_arg);
		if (reason == HTTP_NO_RETRY) {
			if (code != CURLE_OK) {
				set_error(resp, "%s", why.data);
				goto out;
			}
			/* A success after retries gives their last cost back, as the SDKs do. */
			budget_refund(c, cost ? cost : c->success_refund);
			ret = 0;
			goto out;
		}
		if (may_retry(&x, reason, attempt, max, why.data, &cost))
			goto out;
		ra = code == CURLE_OK ? retry_after_ms(c, resp) : -1;
		delay = ra >= 0 ? ra : http_backoff_ms(c, attempt - 1);
		if (c->log_level >= HTTP_LOG_DEBUG)
			log_retry(&x, url.data, delay, ra >= 0, why.data, reason);
		if (sleep_ms(delay)) {
			set_error(resp, "cancelled");
			goto out;
		}
	}
out:
	resp->elapsed_ms = now_ms() - t0;
	if (ret)
		count(c, &c->stats.failures, 1);
	if (c->log_level >= HTTP_LOG_INFO)
		log_summary(&x, url.data, ret);
	handle_put(c, h);
	buf_release(&x.line);
	buf_release(&x.log_copy);
	buf_release(&url);
	buf_release(&why);
	return ret;
}

void http_diag(struct diag_ctx *ctx, const struct http_request *req,
	       const struct http_response *resp)
{
	struct buf url = BUF_INIT;

	http_redact_url(req->url ? req->url : "", &url);
	if (resp->error)
		diag_error(ctx, NULL, "%s %s: %s", req->method ? req->method : "GET",
			   url.data ? url.data : "", resp->error);
	else
		diag_error(ctx, NULL, "%s %s: HTTP %ld", req->method ? req->method : "GET",
			   url.data ? url.data : "", resp->status);
	buf_release(&url);
}

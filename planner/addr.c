#include "planner/addr.h"

#include <stdlib.h>
#include <string.h>

/* Count indexes past this are a typo, and it keeps every index exact in a double. */
#define ADDR_MAX_INDEX_DIGITS 15

void addr_init(struct addr *a)
{
	a->module = NULL;
	a->mode = ADDR_MANAGED;
	a->type = NULL;
	a->name = NULL;
	a->key = NULL;
}

void addr_release(struct addr *a)
{
	free(a->module);
	free(a->type);
	free(a->name);
	val_unref(a->key);
	addr_init(a);
}

void addr_set(struct addr *a, const char *module, enum addr_mode mode, const char *type,
	      const char *name, const struct value *key)
{
	addr_release(a);
	a->module = xstrdup(module ? module : "");
	a->mode = mode;
	a->type = xstrdup(type);
	a->name = xstrdup(name);
	a->key = key ? val_ref((struct value *)key) : NULL;
}

void addr_copy(struct addr *dst, const struct addr *src)
{
	addr_set(dst, src->module, src->mode, src->type, src->name, src->key);
}

static int is_ident_start(int c)
{
	return c == '_' || ((c | 32) >= 'a' && (c | 32) <= 'z');
}

static int is_ident_char(int c)
{
	return is_ident_start(c) || c == '-' || (c >= '0' && c <= '9');
}

/* Length of the identifier at s, or 0. */
static size_t ident_len(const char *s)
{
	size_t n = 0;

	if (!is_ident_start((unsigned char)s[0]))
		return 0;
	while (is_ident_char((unsigned char)s[n]))
		n++;
	return n;
}

int addr_valid_name(const char *name)
{
	size_t n = ident_len(name);

	return n && !name[n];
}

int addr_valid_type(const char *type)
{
	size_t n = ident_len(type);

	if (!n || type[n] != '.')
		return 0;
	if ((n == 4 && !strncmp(type, "data", 4)) || (n == 6 && !strncmp(type, "module", 6)))
		return 0;
	return addr_valid_name(type + n + 1);
}

int addr_valid_provider(const char *provider)
{
	size_t n = ident_len(provider);

	if (!n)
		return 0;
	if (!provider[n])
		return 1;
	return provider[n] == '.' && addr_valid_name(provider + n + 1);
}

int addr_valid_key(const struct value *key)
{
	if (!key)
		return 1;
	if (key->marks)
		return 0;
	if (key->kind == VAL_STRING)
		return 1;
	return key->kind == VAL_NUMBER && key->u.n >= 0 && key->u.n < 1e15 &&
	       key->u.n == (double)(long long)key->u.n;
}

/* ---- parsing ---- */

struct cursor {
	const char *text;
	const char *p;
	struct buf *why;
};

static int fail(struct cursor *c, const char *expected)
{
	if (c->why) {
		if (*c->p)
			buf_printf(c->why, "expected %s at column %zu", expected,
				   (size_t)(c->p - c->text) + 1);
		else
			buf_printf(c->why, "expected %s at the end", expected);
	}
	return -1;
}

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if ((c | 32) >= 'a' && (c | 32) <= 'f')
			v |= (unsigned)((c | 32) - 'a' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static void add_utf8(struct buf *b, unsigned cp)
{
	if (cp < 0x80) {
		buf_addch(b, (int)cp);
	} else if (cp < 0x800) {
		buf_addch(b, (int)(0xC0 | cp >> 6));
		buf_addch(b, (int)(0x80 | (cp & 0x3F)));
	} else if (cp < 0x10000) {
		buf_addch(b, (int)(0xE0 | cp >> 12));
		buf_addch(b, (int)(0x80 | ((cp >> 6) & 0x3F)));
		buf_addch(b, (int)(0x80 | (cp & 0x3F)));
	} else {
		buf_addch(b, (int)(0xF0 | cp >> 18));
		buf_addch(b, (int)(0x80 | ((cp >> 12) & 0x3F)));
		buf_addch(b, (int)(0x80 | ((cp >> 6) & 0x3F)));
		buf_addch(b, (int)(0x80 | (cp & 0x3F)));
	}
}

/* \uXXXX, or a surrogate pair of them; c->p is at the 'u'. */
static int parse_unicode_escape(struct cursor *c, struct buf *s)
{
	unsigned cp, lo;

	if (hex4(c->p + 1, &cp) < 0)
		return fail(c, "four hexadecimal digits after \\u");
	c->p += 5;
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return fail(c, "a high surrogate before a low one");
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (c->p[0] != '\\' || c->p[1] != 'u' || hex4(c->p + 2, &lo) < 0 ||
		    lo < 0xDC00 || lo > 0xDFFF)
			return fail(c, "a low surrogate (\\uDC00 to \\uDFFF)");
		c->p += 6;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	add_utf8(s, cp);
	return 0;
}

static int parse_string_key(struct cursor *c, struct value **key)
{
	struct buf s = BUF_INIT;
	size_t len;
	char *text;

	c->p++;   /* the opening quote */
	for (;;) {
		unsigned char ch = (unsigned char)*c->p;
		if (ch == '"')
			break;
		if (!ch || ch < 0x20) {
			buf_release(&s);
			return fail(c, "a closing '\"'");
		}
		if (ch != '\\') {
			buf_addch(&s, ch);
			c->p++;
			continue;
		}
		c->p++;
		switch (*c->p) {
		case '"': buf_addch(&s, '"'); break;
		case '\\': buf_addch(&s, '\\'); break;
		case 'n': buf_addch(&s, '\n'); break;
		case 'r': buf_addch(&s, '\r'); break;
		case 't': buf_addch(&s, '\t'); break;
		case 'u':
			if (parse_unicode_escape(c, &s) < 0) {
				buf_release(&s);
				return -1;
			}
			continue;
		default:
			buf_release(&s);
			return fail(c, "an escape: \\\" \\\\ \\n \\r \\t or \\uXXXX");
		}
		c->p++;
	}
	c->p++;
	text = buf_detach(&s, &len);
	*key = val_string_take(text, len);
	return 0;
}

/* An optional [key]. */
static int parse_key(struct cursor *c, struct value **key)
{
	*key = NULL;
	if (*c->p != '[')
		return 0;
	c->p++;
	if (*c->p == '"') {
		if (parse_string_key(c, key) < 0)
			return -1;
	} else if (*c->p >= '0' && *c->p <= '9') {
		const char *start = c->p;
		double n = 0;
		if (*c->p == '0' && c->p[1] >= '0' && c->p[1] <= '9')
			return fail(c, "an index without leading zeros");
		while (*c->p >= '0' && *c->p <= '9')
			n = n * 10 + (*c->p++ - '0');
		if (c->p - start > ADDR_MAX_INDEX_DIGITS) {
			c->p = start;
			return fail(c, "an index below 10^15");
		}
		*key = val_number(n);
	} else {
		return fail(c, "an index (0, 1, ...) or a quoted key");
	}
	if (*c->p != ']') {
		val_unref(*key);
		*key = NULL;
		return fail(c, "']'");
	}
	c->p++;
	return 0;
}

/* An identifier, copied to *out when out is not NULL. */
static int parse_ident(struct cursor *c, const char *what, char **out)
{
	size_t n = ident_len(c->p);

	if (!n)
		return fail(c, what);
	if (out)
		*out = xstrndup(c->p, n);
	c->p += n;
	return 0;
}

static int expect_dot(struct cursor *c, const char *then)
{
	if (*c->p != '.')
		return fail(c, then);
	c->p++;
	return 0;
}

static int word_is(const char *p, const char *word)
{
	size_t n = strlen(word);

	return !strncmp(p, word, n) && p[n] == '.';
}

/* Module steps ("module.NAME[KEY]."), appended canonically to module. When the text is a
 * module path alone, the last step has no dot after it. */
static int parse_modules(struct cursor *c, struct buf *module, int alone)
{
	for (;;) {
		struct value *key;
		char *name;

		if (!word_is(c->p, "module"))
			return alone ? fail(c, "\"module.\" and a module name") : 0;

		c->p += strlen("module.");
		if (parse_ident(c, "a module name after \"module.\"", &name) < 0)
			return -1;
		if (parse_key(c, &key) < 0) {
			free(name);
			return -1;
		}
		if (module->len)
			buf_addch(module, '.');
		buf_printf(module, "module.%s", name);
		addr_format_key(key, module);
		free(name);
		val_unref(key);
		if (alone && !*c->p)
			return 0;
		if (expect_dot(c, alone ? "'.' and the next module step" :
					  "'.' and a resource after the module") < 0)
			return -1;
	}
}

int addr_parse(struct addr *a, const char *text, struct buf *why)
{
	struct cursor c = { text, text, why };
	struct buf module = BUF_INIT;
	char *provider = NULL, *kind = NULL;
	int ret = -1;

	addr_release(a);
	if (parse_modules(&c, &module, 0) < 0)
		goto out;
	if (word_is(c.p, "data")) {
		a->mode = ADDR_DATA;
		c.p += strlen("data.");
	}
	if (word_is(c.p, "module") || word_is(c.p, "data")) {
		fail(&c, "a provider name (\"module\" and \"data\" are taken)");
		goto out;
	}
	if (parse_ident(&c, "a resource type such as aws.vpc", &provider) < 0 ||
	    expect_dot(&c, "'.' and the rest of the resource type (aws.vpc)") < 0 ||
	    parse_ident(&c, "the rest of the resource type (aws.vpc)", &kind) < 0 ||
	    expect_dot(&c, "'.' and a resource name") < 0 ||
	    parse_ident(&c, "a resource name", &a->name) < 0 ||
	    parse_key(&c, &a->key) < 0)
		goto out;
	if (*c.p) {
		fail(&c, *c.p == '[' ? "one index only" : "the end of the address");
		goto out;
	}
	a->module = buf_detach(&module, NULL);
	a->type = xasprintf("%s.%s", provider, kind);
	ret = 0;
out:
	free(provider);
	free(kind);
	buf_release(&module);
	if (ret < 0)
		addr_release(a);
	return ret;
}

int addr_parse_module(const char *text, struct buf *why)
{
	struct cursor c = { text, text, why };
	struct buf module = BUF_INIT;
	int ret = 0;

	if (!*text)
		return 0;
	if (!word_is(text, "module"))
		ret = fail(&c, "\"module.\"");
	else if (parse_modules(&c, &module, 1) < 0)
		ret = -1;
	else if (*c.p)
		ret = fail(&c, "\".module\" or the end of the module path");
	/* a path is only valid spelled the one way addr_format spells it */
	else if (strcmp(module.data, text) != 0)
		ret = why ? (buf_printf(why, "not in canonical form (%s)", module.data), -1) : -1;
	buf_release(&module);
	return ret;
}

int addr_module_step(const char *path, char **name, struct value **key, const char **rest)
{
	struct cursor c = { path, path, NULL };

	*name = NULL;
	*key = NULL;
	if (!word_is(path, "module"))
		return -1;
	c.p += strlen("module.");
	if (parse_ident(&c, "a module name", name) < 0)
		return -1;
	if (parse_key(&c, key) < 0 || (*c.p && *c.p != '.')) {
		free(*name);
		*name = NULL;
		val_unref(*key);
		*key = NULL;
		return -1;
	}
	*rest = *c.p ? c.p + 1 : c.p;
	return 0;
}

/* ---- formatting ---- */

static void format_string_key(const struct value *key, struct buf *out)
{
	buf_addch(out, '"');
	for (size_t i = 0; i < key->u.str.len; i++) {
		unsigned char ch = (unsigned char)key->u.str.s[i];
		switch (ch) {
		case '"': buf_addstr(out, "\\\""); break;
		case '\\': buf_addstr(out, "\\\\"); break;
		case '\n': buf_addstr(out, "\\n"); break;
		case '\r': buf_addstr(out, "\\r"); break;
		case '\t': buf_addstr(out, "\\t"); break;
		default:
			if (ch < 0x20 || ch == 0x7f)
				buf_printf(out, "\\u%04x", ch);
			else
				buf_addch(out, ch);
		}
	}
	buf_addch(out, '"');
}

void addr_format_key(const struct value *key, struct buf *out)
{
	if (!key)
		return;
	buf_addch(out, '[');
	if (key->kind == VAL_STRING)
		format_string_key(key, out);
	else if (key->kind == VAL_NUMBER)
		val_format_number(key->u.n, out);
	else
		val_write(key, out);
	buf_addch(out, ']');
}

void addr_format(const struct addr *a, struct buf *out)
{
	if (a->module && *a->module) {
		buf_addstr(out, a->module);
		buf_addch(out, '.');
	}
	if (a->mode == ADDR_DATA)
		buf_addstr(out, "data.");
	buf_printf(out, "%s.%s", a->type ? a->type : "?", a->name ? a->name : "?");
	addr_format_key(a->key, out);
}

/* ---- order ---- */

int addr_key_compare(const struct value *a, const struct value *b)
{
	if (!a || !b)
		return !!a - !!b;
	return val_compare(a, b);
}

static int cmp_str(const char *a, const char *b)
{
	int c = strcmp(a ? a : "", b ? b : "");

	return c < 0 ? -1 : c > 0;
}

int addr_compare(const struct addr *a, const struct addr *b)
{
	int c;

	if ((c = cmp_str(a->module, b->module)))
		return c;
	if (a->mode != b->mode)
		return a->mode < b->mode ? -1 : 1;
	if ((c = cmp_str(a->type, b->type)))
		return c;
	if ((c = cmp_str(a->name, b->name)))
		return c;
	return addr_key_compare(a->key, b->key);
}

size_t addr_module_parent(const char *path, size_t len)
{
	len--;
	while (len && strncmp(path + len, ".module.", 8))
		len--;
	return len;
}

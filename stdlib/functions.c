/* functions.c: the built-in functions. Each one gives the results and the errors that
 * Terraform's function of the same name gives (go-cty's stdlib and Terraform's lang/funcs),
 * on stk's value model: numbers are doubles rather than 512-bit floats, and lists double as
 * tuples and maps as objects, which is where the few differences come from (docs/functions.md
 * lists them).
 * Ownership: implementations borrow their arguments and return a new reference, or NULL after
 * adding exactly one error diagnostic. */
/* memmem */
#define _GNU_SOURCE
#include "stdlib/functions.h"

#include <crypt.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <iconv.h>
#include <jansson.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <pwd.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>
#include <zlib.h>

#include <unicase.h>
#include <unictype.h>
#include <unigbrk.h>
#include <unistr.h>

#include "planner/uuid.h"

/* ---- calling context and errors ---- */

/* What every implementation carries around: the call, and its own name for messages. */
struct fctx {
	struct func_call *fc;
	const char *fn;
};

static const struct span *arg_span(const struct fctx *c, int arg)
{
	if (arg < 0 || !c->fc->arg_spans)
		return c->fc->span;
	return &c->fc->arg_spans[arg];
}

/* Adds "fn: message" at argument arg (or at the whole call when arg < 0); returns NULL so
 * that an implementation can say "return fail(...)". */
static struct value *fail(const struct fctx *c, int arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct value *fail(const struct fctx *c, int arg, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	buf_printf(&b, "%s: ", c->fn);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	diag_error(c->fc->diag, arg_span(c, arg), "%s", b.data);
	buf_release(&b);
	return NULL;
}

/* How a value is named in messages: "a list", "a map", "null". */
static const char *a_kind(const struct value *v)
{
	switch (v->kind) {
	case VAL_NULL: return "null";
	case VAL_BOOL: return "a bool";
	case VAL_NUMBER: return "a number";
	case VAL_STRING: return "a string";
	case VAL_LIST: return "a list";
	case VAL_SET: return "a set";
	case VAL_MAP: return "a map";
	default: return "a value";
	}
}

/* A value as it appears in a message: quoted and escaped, or "(sensitive value)" so that an
 * error never discloses a secret (Terraform redacts the same way). Static storage, rotating
 * between a few slots so that one message may show two values. */
static const char *shown(const struct value *v)
{
	/* one set per thread: the planner evaluates in shares side by side */
	static _Thread_local char slots[4][96];
	static _Thread_local int next;
	char *s = slots[next++ % 4];
	struct buf b = BUF_INIT;

	val_write_short(v, &b);
	snprintf(s, sizeof slots[0], "%s", buf_cstr(&b));
	buf_release(&b);
	return s;
}

/* Text taken from argument v (a path, a pattern, a key, a number after conversion) as it
 * appears in a message: itself, or "(sensitive value)" when v is sensitive anywhere. */
static const char *shown_text(const struct value *v, const char *text)
{
	return val_is_sensitive(v) ? "(sensitive value)" : text;
}

/* A whole number taken from argument v, as shown_text shows text. Static storage, rotating
 * like shown()'s. */
static const char *shown_long(const struct value *v, long n)
{
	static _Thread_local char slots[4][24];
	static _Thread_local int next;
	char *s = slots[next++ % 4];

	if (val_is_sensitive(v))
		return "(sensitive value)";
	snprintf(s, sizeof slots[0], "%ld", n);
	return s;
}

/* ---- UTF-8 ---- */

/* Decodes the code point at s[0..n) as Go does: an invalid or overlong sequence, a surrogate
 * or anything past U+10FFFF is one byte of U+FFFD, reported as -1 with *w = 1. */
static int32_t utf8_decode(const unsigned char *s, size_t n, size_t *w)
{
	uint32_t c;
	size_t len, i;

	if (!n) {
		*w = 0;
		return -1;
	}
	*w = 1;
	if (s[0] < 0x80)
		return s[0];
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2, c = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3, c = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4, c = s[0] & 0x07;
	else
		return -1;
	if (n < len)
		return -1;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10FFFF)))
		return -1;
	*w = len;
	return (int32_t)c;
}

static void utf8_encode(uint32_t c, struct buf *out)
{
	if (c < 0x80) {
		buf_addch(out, (int)c);
	} else if (c < 0x800) {
		buf_addch(out, (int)(0xC0 | (c >> 6)));
		buf_addch(out, (int)(0x80 | (c & 0x3F)));
	} else if (c < 0x10000) {
		buf_addch(out, (int)(0xE0 | (c >> 12)));
		buf_addch(out, (int)(0x80 | ((c >> 6) & 0x3F)));
		buf_addch(out, (int)(0x80 | (c & 0x3F)));
	} else {
		buf_addch(out, (int)(0xF0 | (c >> 18)));
		buf_addch(out, (int)(0x80 | ((c >> 12) & 0x3F)));
		buf_addch(out, (int)(0x80 | ((c >> 6) & 0x3F)));
		buf_addch(out, (int)(0x80 | (c & 0x3F)));
	}
}

static int utf8_valid(const char *s, size_t n)
{
	size_t i = 0, w;

	while (i < n) {
		if (utf8_decode((const unsigned char *)s + i, n - i, &w) < 0)
			return 0;
		i += w;
	}
	return 1;
}

/* Go's strconv.Quote (fmt's %q), how cty quotes text in its messages. */
static void go_quote(const char *s, size_t n, struct buf *out)
{
	static const uc_general_category_t *printable[] = {
		&UC_CATEGORY_L, &UC_CATEGORY_M, &UC_CATEGORY_N, &UC_CATEGORY_P, &UC_CATEGORY_S,
	};
	size_t i = 0, w;

	buf_addch(out, '"');
	while (i < n) {
		int32_t c = utf8_decode((const unsigned char *)s + i, n - i, &w);
		int print = c == ' ' || (c > 0x20 && c < 0x7f);

		for (size_t k = 0; c >= 0x80 && !print && k < 5; k++)
			print = uc_is_general_category((ucs4_t)c, *printable[k]);
		if (c == '"' || c == '\\')
			buf_printf(out, "\\%c", (int)c);
		else if (print)
			buf_add(out, s + i, w);
		else if (c >= '\a' && c <= '\r')
			buf_printf(out, "\\%c", "abtnvfr"[c - '\a']);
		else if (c < 0x80)
			buf_printf(out, "\\x%02x", (unsigned)(unsigned char)s[i]);
		else
			buf_printf(out, c < 0x10000 ? "\\u%04x" : "\\U%08x", (unsigned)c);
		i += w;
	}
	buf_addch(out, '"');
}

/* Text from argument v quoted as cty quotes it, or "(sensitive value)". */
static void quoted_from(const struct value *v, const char *s, size_t n, struct buf *out)
{
	if (val_is_sensitive(v))
		buf_addstr(out, "(sensitive value)");
	else
		go_quote(s, n, out);
}

/* ---- grapheme clusters ----
 * Terraform counts "characters" (length, substr, format widths) as Unicode extended grapheme
 * clusters (UAX #29, go-textseg). libunistring has the properties and the pairwise rules; its
 * 1.0 (Debian 12) applies GB11 and GB12/13 pair by pair only, so an emoji ZWJ sequence and a
 * flag (a pair of regional indicators) would split: those two rules, which look further
 * back, are applied here. An invalid byte is one character (U+FFFD), as in Go. */

/* The end of the grapheme cluster that starts at byte i of s. */
static size_t gc_next(const char *s, size_t n, size_t i)
{
	const uint8_t *u = (const uint8_t *)s;
	ucs4_t prev, c;
	size_t j = i + (size_t)u8_mbtouc(&prev, u + i, n - i);
	/* regional indicators in a row so far; 2 after ExtPict Extend* ZWJ, 1 after ExtPict
	 * Extend* */
	int ri = uc_graphemeclusterbreak_property(prev) == GBP_RI, pict = uc_is_property_extended_pictographic(prev);

	while (j < n) {
		int w = u8_mbtouc(&c, u + j, n - j), gb = uc_graphemeclusterbreak_property(c);
		int brk = uc_is_grapheme_break(prev, c);
		if (gb == GBP_RI && ri)
			brk = ri % 2 == 0;                 /* GB12, GB13: flags are pairs */
		else if (pict == 2 && uc_is_property_extended_pictographic(c))
			brk = 0;                           /* GB11: ZWJ emoji sequences */
		if (brk)
			break;
		ri = gb == GBP_RI ? ri + 1 : 0;
		if (uc_is_property_extended_pictographic(c))
			pict = 1;
		else if (pict && gb == GBP_EXTEND)
			pict = 1;
		else
			pict = pict && gb == GBP_ZWJ ? 2 : 0;
		prev = c;
		j += (size_t)w;
	}
	return j;
}

static size_t gc_count(const char *s, size_t n)
{
	size_t i = 0, k = 0;

	while (i < n) {
		i = gc_next(s, n, i);
		k++;
	}
	return k;
}

/* A number as Terraform turns it into a string: all its digits, never an exponent. The
 * value model's one conversion, so that tostring(), join() and "${...}" agree. */
static void num_text(double v, struct buf *out)
{
	val_format_number(v, out);
}


/* floor and ceil of a double, exactly, without libm (which the build does not link): from
 * 2^52 up every double is already whole. */
static double floor_d(double d)
{
	double t;

	if (!isfinite(d) || fabs(d) >= 4503599627370496.0)
		return d;
	t = (double)(int64_t)d;   /* rounds toward zero */
	return t > d ? t - 1 : t;
}

static double ceil_d(double d)
{
	return -floor_d(-d);
}

static int is_whole(double d)
{
	return isfinite(d) && d == floor_d(d);
}

/* ---- arguments of a declared type ----
 * Terraform converts each argument to its parameter's type before the function sees it:
 * numbers and bools become strings, numeric strings become numbers, sets become lists. These
 * helpers do the same and name the argument when they cannot. */

static int want_string(const struct fctx *c, struct value **args, int i, const char *name,
		       struct buf *out)
{
	const struct value *v = args[i];

	switch (v->kind) {
	case VAL_STRING:
		buf_add(out, v->u.str.s, v->u.str.len);
		return 0;
	case VAL_NUMBER:
		num_text(v->u.n, out);
		return 0;
	case VAL_BOOL:
		buf_addstr(out, v->u.b ? "true" : "false");
		return 0;
	case VAL_NULL:
		fail(c, i, "%s must not be null", name);
		return -1;
	default:
		fail(c, i, "%s must be a string, not %s", name, a_kind(v));
		return -1;
	}
}

/* A borrowed view of a string argument when it already is one (the common case), else a
 * converted copy in *tmp. */
static const char *want_str(const struct fctx *c, struct value **args, int i, const char *name,
			    struct buf *tmp, size_t *len)
{
	if (args[i]->kind == VAL_STRING) {
		*len = args[i]->u.str.len;
		return args[i]->u.str.s;
	}
	buf_reset(tmp);
	if (want_string(c, args, i, name, tmp))
		return NULL;
	*len = tmp->len;
	return buf_cstr(tmp);
}

static int want_number(const struct fctx *c, struct value **args, int i, const char *name,
		       double *out)
{
	const struct value *v = args[i];

	switch (v->kind) {
	case VAL_NUMBER:
		*out = v->u.n;
		return 0;
	case VAL_STRING:
		if (!val_parse_number(v->u.str.s, v->u.str.len, out))
			return 0;
		fail(c, i, "%s must be a number, not %s", name, shown(v));
		return -1;
	case VAL_NULL:
		fail(c, i, "%s must not be null", name);
		return -1;
	default:
		fail(c, i, "%s must be a number, not %s", name, a_kind(v));
		return -1;
	}
}

/* A number that must be whole and fit an int (gocty's conversion to int). */
static int want_int(const struct fctx *c, struct value **args, int i, const char *name, long *out)
{
	double d;

	if (want_number(c, args, i, name, &d))
		return -1;
	if (!is_whole(d)) {
		fail(c, i, "%s must be a whole number, not %s", name, shown(args[i]));
		return -1;
	}
	if (d > (double)INT_MAX || d < (double)INT_MIN) {
		fail(c, i, "%s is too large", name);
		return -1;
	}
	*out = (long)d;
	return 0;
}

/* A list, or a set taken in its order (Terraform converts sets to lists for list
 * parameters). The items are borrowed. */
static int want_seq(const struct fctx *c, struct value **args, int i, const char *name,
		    const char *what, struct value ***items, size_t *n)
{
	const struct value *v = args[i];

	if (v->kind == VAL_LIST || v->kind == VAL_SET) {
		*items = v->u.list.items;
		*n = v->u.list.n;
		return 0;
	}
	if (v->kind == VAL_NULL)
		fail(c, i, "%s must not be null", name);
	else
		fail(c, i, "%s must be %s, not %s", name, what, a_kind(v));
	return -1;
}

/* Element k of a list(string) argument, converted. Null elements are the caller's business:
 * this reports them as an error naming the element. */
static int elem_string(const struct fctx *c, int i, const char *name, const struct value *e,
		       size_t k, struct buf *out)
{
	switch (e->kind) {
	case VAL_STRING:
		buf_add(out, e->u.str.s, e->u.str.len);
		return 0;
	case VAL_NUMBER:
		num_text(e->u.n, out);
		return 0;
	case VAL_BOOL:
		buf_addstr(out, e->u.b ? "true" : "false");
		return 0;
	case VAL_NULL:
		fail(c, i, "element %zu of %s is null", k, name);
		return -1;
	default:
		fail(c, i, "%s must be a list of strings, but element %zu is %s", name, k, a_kind(e));
		return -1;
	}
}

static struct value *str_value(struct buf *b)
{
	size_t len;
	char *s = buf_detach(b, &len);
	return val_string_take(s, len);
}

/* Builds a list from a buf of struct value * (the buf's references move into the list). */
static struct value *list_from(struct buf *items)
{
	struct value *v = val_list_take((struct value **)(void *)items->data,
					buf_count(items, struct value *));
	buf_release(items);
	return v;
}

static void unref_all(struct buf *items)
{
	for (size_t i = 0; i < buf_count(items, struct value *); i++)
		val_unref(buf_at(items, struct value *, i));
	buf_release(items);
}

/* ---- strings ---- */

/* strings.ToUpper/ToLower: invalid UTF-8 comes out as U+FFFD, as Go's strings.Map does. */
static struct value *change_case(const char *s, size_t n, int upper)
{
	struct buf b = BUF_INIT;
	size_t i = 0, w;

	buf_grow(&b, n);
	while (i < n) {
		int32_t c = utf8_decode((const unsigned char *)s + i, n - i, &w);
		/* simple mappings, code point by code point, as Go's unicode.ToUpper: "ß" stays */
		utf8_encode(c < 0 ? 0xFFFD : upper ? uc_toupper((ucs4_t)c) : uc_tolower((ucs4_t)c), &b);
		i += w;
	}
	return str_value(&b);
}

static struct value *f_upper_lower(struct func_call *fc, struct value **args, int upper)
{
	struct fctx c = { fc, upper ? "upper" : "lower" };
	struct buf tmp = BUF_INIT;
	const char *s;
	size_t len;
	struct value *r = NULL;

	s = want_str(&c, args, 0, "the argument", &tmp, &len);
	if (s)
		r = change_case(s, len, upper);
	buf_release(&tmp);
	return r;
}

static struct value *f_upper(struct func_call *fc, struct value **args, size_t n)
{
	(void)n;
	return f_upper_lower(fc, args, 1);
}

static struct value *f_lower(struct func_call *fc, struct value **args, size_t n)
{
	(void)n;
	return f_upper_lower(fc, args, 0);
}

/* unicode.IsSpace */
static int is_space(int32_t c)
{
	switch (c) {
	case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
	case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
	case 0x3000:
		return 1;
	default:
		return c >= 0x2000 && c <= 0x200A;
	}
}

/* The start of the code point that ends at byte end of s (Go's DecodeLastRune). */
static size_t utf8_prev(const char *s, size_t end)
{
	size_t start = end - 1, w;

	while (start > 0 && end - start < 4 && ((unsigned char)s[start] & 0xC0) == 0x80)
		start--;
	utf8_decode((const unsigned char *)s + start, end - start, &w);
	return start + w == end ? start : end - 1;
}

static struct value *f_trimspace(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "trimspace" };
	struct buf tmp = BUF_INIT;
	const char *s;
	size_t len, i = 0, w, end;
	struct value *r = NULL;

	(void)n;
	s = want_str(&c, args, 0, "the argument", &tmp, &len);
	if (!s)
		goto out;
	while (i < len && is_space(utf8_decode((const unsigned char *)s + i, len - i, &w)))
		i += w;
	end = len;
	while (end > i) {
		size_t p = utf8_prev(s, end);
		if (!is_space(utf8_decode((const unsigned char *)s + p, end - p, &w)))
			break;
		end = p;
	}
	r = val_string(s + i, end - i);
out:
	buf_release(&tmp);
	return r;
}

/* Does the code point at s[i] (of width *w) appear in the cutset? */
static int in_cutset(const char *s, size_t n, size_t i, size_t *w, const char *cut, size_t cn)
{
	int32_t c = utf8_decode((const unsigned char *)s + i, n - i, w);
	size_t j = 0, cw;

	while (j < cn) {
		int32_t d = utf8_decode((const unsigned char *)cut + j, cn - j, &cw);
		/* Go compares decoded runes: an invalid byte is U+FFFD on both sides */
		if ((c < 0 ? 0xFFFD : c) == (d < 0 ? 0xFFFD : d))
			return 1;
		j += cw;
	}
	return 0;
}

static struct value *f_trim(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "trim" };
	struct buf t0 = BUF_INIT, t1 = BUF_INIT;
	const char *s, *cut;
	size_t len, cn, i = 0, w, end;
	struct value *r = NULL;

	(void)n;
	if (!(s = want_str(&c, args, 0, "the string", &t0, &len)) ||
	    !(cut = want_str(&c, args, 1, "the characters to trim", &t1, &cn)))
		goto out;
	while (i < len && in_cutset(s, len, i, &w, cut, cn))
		i += w;
	end = len;
	while (end > i) {
		size_t p = utf8_prev(s, end);
		if (!in_cutset(s, end, p, &w, cut, cn))
			break;
		end = p;
	}
	r = val_string(s + i, end - i);
out:
	buf_release(&t0);
	buf_release(&t1);
	return r;
}

/* trimprefix, trimsuffix, startswith, endswith: one string and one affix. */
static struct value *affix(struct func_call *fc, struct value **args, const char *fn,
			   const char *what, int suffix, int test)
{
	struct fctx c = { fc, fn };
	struct buf t0 = BUF_INIT, t1 = BUF_INIT;
	const char *s, *a;
	size_t len, alen;
	int has;
	struct value *r = NULL;

	if (!(s = want_str(&c, args, 0, "the string", &t0, &len)) ||
	    !(a = want_str(&c, args, 1, what, &t1, &alen)))
		goto out;
	has = alen <= len && !memcmp(suffix ? s + len - alen : s, a, alen);
	if (test)
		r = val_bool(has);
	else if (!has)
		r = val_string(s, len);
	else
		r = val_string(suffix ? s : s + alen, len - alen);
out:
	buf_release(&t0);
	buf_release(&t1);
	return r;
}

static struct value *f_trimprefix(struct func_call *fc, struct value **args, size_t n)
{
	(void)n;
	return affix(fc, args, "trimprefix", "the prefix", 0, 0);
}

static struct value *f_trimsuffix(struct func_call *fc, struct value **args, size_t n)
{
	(void)n;
	return affix(fc, args, "trimsuffix", "the suffix", 1, 0);
}

static struct value *f_startswith(struct func_call *fc, struct value **args, size_t n)
{
	(void)n;
	return affix(fc, args, "startswith", "the prefix", 0, 1);
}

static struct value *f_endswith(struct func_call *fc, struct value **args, size_t n)
{
	(void)n;
	return affix(fc, args, "endswith", "the suffix", 1, 1);
}

/* strcontains(string, substr): whether substr is anywhere in string (Terraform 1.5). */
static struct value *f_strcontains(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "strcontains" };
	struct buf t0 = BUF_INIT, t1 = BUF_INIT;
	const char *s, *sub;
	size_t len, slen;
	struct value *r = NULL;

	(void)n;
	if ((s = want_str(&c, args, 0, "the string", &t0, &len)) &&
	    (sub = want_str(&c, args, 1, "the substring", &t1, &slen)))
		r = val_bool(!slen || (slen <= len && memmem(s, len, sub, slen) != NULL));
	buf_release(&t0);
	buf_release(&t1);
	return r;
}

/* Removes every newline at the end: the regexp (?:\r\n?|\n)*\z, i.e. any run of CR and LF. */
static struct value *f_chomp(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "chomp" };
	struct buf tmp = BUF_INIT;
	const char *s;
	size_t len;
	struct value *r = NULL;

	(void)n;
	s = want_str(&c, args, 0, "the argument", &tmp, &len);
	if (s) {
		while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
			len--;
		r = val_string(s, len);
	}
	buf_release(&tmp);
	return r;
}

static struct value *f_substr(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "substr" };
	struct buf tmp = BUF_INIT;
	const char *s;
	size_t len, i = 0, start;
	long offset, length, k;
	struct value *r = NULL;

	(void)n;
	if (!(s = want_str(&c, args, 0, "the string", &tmp, &len)) ||
	    want_int(&c, args, 1, "offset", &offset) || want_int(&c, args, 2, "length", &length))
		goto out;
	/* offsets and lengths count characters (grapheme clusters); a negative offset counts
	 * from the end, a negative length takes the rest */
	if (offset < 0)
		offset += (long)gc_count(s, len);
	for (k = 0; k < offset && i < len; k++)
		i = gc_next(s, len, i);
	if (k < offset || (offset > 0 && i >= len) || !length) {
		r = val_cstring("");
		goto out;
	}
	start = i;
	if (length < 0) {
		r = val_string(s + start, len - start);
		goto out;
	}
	for (k = 0; k < length && i < len; k++)
		i = gc_next(s, len, i);
	r = val_string(s + start, i - start);
out:
	buf_release(&tmp);
	return r;
}

/* join(separator, list...): Terraform's join takes one or more lists. */
static struct value *f_join(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "join" };
	struct buf t0 = BUF_INIT, out = BUF_INIT;
	const char *sep;
	size_t seplen, count = 0;

	if (!(sep = want_str(&c, args, 0, "the separator", &t0, &seplen)))
		goto fail;
	if (n < 2) {
		fail(&c, -1, "at least one list is required");
		goto fail;
	}
	for (size_t a = 1; a < n; a++) {
		struct value **items;
		size_t m;
		if (want_seq(&c, args, (int)a, "the list", "a list of strings", &items, &m))
			goto fail;
		for (size_t k = 0; k < m; k++) {
			if (items[k]->kind == VAL_NULL) {
				if (n > 2)
					fail(&c, (int)a, "element %zu of list %zu is null; cannot "
					     "concatenate null values", k, a);
				else
					fail(&c, (int)a, "element %zu is null; cannot concatenate "
					     "null values", k);
				goto fail;
			}
			if (count++)
				buf_add(&out, sep, seplen);
			if (elem_string(&c, (int)a, "the list", items[k], k, &out))
				goto fail;
		}
	}
	buf_release(&t0);
	return str_value(&out);
fail:
	buf_release(&t0);
	buf_release(&out);
	return NULL;
}

/* split(separator, string): strings.Split, so an empty separator splits after each UTF-8
 * sequence and splitting "" gives [""] (or [] when the separator is empty too). */
static struct value *f_split(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "split" };
	struct buf t0 = BUF_INIT, t1 = BUF_INIT, items = BUF_INIT;
	const char *sep, *s;
	size_t seplen, len, i = 0;
	struct value *r = NULL;

	(void)n;
	if (!(sep = want_str(&c, args, 0, "the separator", &t0, &seplen)) ||
	    !(s = want_str(&c, args, 1, "the string", &t1, &len)))
		goto out;
	if (!seplen) {
		size_t w;
		while (i < len) {
			utf8_decode((const unsigned char *)s + i, len - i, &w);
			buf_push(&items, struct value *, val_string(s + i, w));
			i += w;
		}
	} else {
		for (;;) {
			const char *hit = NULL;
			for (size_t j = i; j + seplen <= len; j++)
				if (!memcmp(s + j, sep, seplen)) {
					hit = s + j;
					break;
				}
			if (!hit) {
				buf_push(&items, struct value *, val_string(s + i, len - i));
				break;
			}
			buf_push(&items, struct value *, val_string(s + i, (size_t)(hit - (s + i))));
			i = (size_t)(hit - s) + seplen;
		}
	}
	r = list_from(&items);
out:
	buf_release(&t0);
	buf_release(&t1);
	return r;
}

/* Go's strings.Title separators: ASCII that is not a letter, digit or underscore, and
 * beyond ASCII white space only. */
static int title_separator(int32_t ch)
{
	if (ch < 0x80)
		return !((ch >= '0' && ch <= '9') || ((ch | 32) >= 'a' && (ch | 32) <= 'z') ||
			 ch == '_');
	if (uc_is_general_category((ucs4_t)ch, UC_CATEGORY_L) ||
	    uc_is_general_category((ucs4_t)ch, UC_CATEGORY_Nd))
		return 0;
	return is_space(ch);
}

/* title: strings.Title, the first letter of each word in title case (unicode.ToTitle's simple
 * mapping: "ǆ" becomes "ǅ"), the rest left alone. */
static struct value *f_title(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "title" };
	struct buf tmp = BUF_INIT, out = BUF_INIT;
	const char *s;
	size_t len, i = 0, w;
	int32_t prev = ' ';

	(void)n;
	if (!(s = want_str(&c, args, 0, "the argument", &tmp, &len))) {
		buf_release(&tmp);
		return NULL;
	}
	while (i < len) {
		int32_t ch = utf8_decode((const unsigned char *)s + i, len - i, &w);
		if (ch < 0)
			ch = 0xFFFD;
		utf8_encode(title_separator(prev) ? uc_totitle((ucs4_t)ch) : (ucs4_t)ch, &out);
		prev = ch;
		i += w;
	}
	buf_release(&tmp);
	return str_value(&out);
}

/* strrev: the characters (grapheme clusters) in reverse order, each kept whole. */
static struct value *f_strrev(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "strrev" };
	struct buf tmp = BUF_INIT, out = BUF_INIT;
	const char *s;
	size_t len, i = 0;

	(void)n;
	if (!(s = want_str(&c, args, 0, "the argument", &tmp, &len))) {
		buf_release(&tmp);
		return NULL;
	}
	buf_grow(&out, len);
	out.len = len;
	while (i < len) {
		size_t end = gc_next(s, len, i);
		memcpy(out.data + len - end, s + i, end - i);
		i = end;
	}
	out.data[len] = '\0';
	buf_release(&tmp);
	return str_value(&out);
}

/* The longest string or list a function builds by repeating its input (indent, setproduct):
 * past it the call is an error rather than a process out of memory. */
#define MAX_BUILT_STRING ((size_t)1 << 28)

/* indent(spaces, string): every line but the first indented by that many spaces. */
static struct value *f_indent(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "indent" };
	struct buf tmp = BUF_INIT, out = BUF_INIT;
	const char *s;
	size_t len, lines = 0;
	long spaces;

	(void)n;
	if (want_int(&c, args, 0, "spaces", &spaces) ||
	    !(s = want_str(&c, args, 1, "the string", &tmp, &len)))
		goto fail;
	if (spaces < 0) {
		fail(&c, 0, "spaces must not be negative, not %s", shown_long(args[0], spaces));
		goto fail;
	}
	for (size_t i = 0; i < len; i++)
		lines += s[i] == '\n';
	if (lines && (size_t)spaces > (MAX_BUILT_STRING - len) / lines) {
		fail(&c, 0, "the indented string would be longer than %zu bytes", MAX_BUILT_STRING);
		goto fail;
	}
	buf_grow(&out, len + lines * (size_t)spaces);
	for (size_t i = 0; i < len; i++) {
		buf_addch(&out, s[i]);
		if (s[i] == '\n')
			buf_addchars(&out, ' ', (size_t)spaces);
	}
	buf_release(&tmp);
	return str_value(&out);
fail:
	buf_release(&tmp);
	buf_release(&out);
	return NULL;
}

/* ---- regular expressions ----
 * replace() treats a substring wrapped in slashes as a Go (RE2) regular expression. stk runs
 * it with POSIX regcomp in a UTF-8 locale, after translating RE2's syntax: \d \s \w and their
 * negations, character classes with escapes in them, (?:...) and named groups, (?flags) at the
 * start, \A and \z, and "." not matching a newline. What POSIX cannot do (lazy repetition,
 * \p{...} classes, flags in mid-pattern) is an error rather than a different answer. POSIX
 * takes the longest of the leftmost matches where Go takes the first alternative that
 * matches, which only shows with alternatives that are prefixes of each other. */

struct rx {
	regex_t re;
	int compiled;
	size_t ngo;          /* capturing groups in the Go pattern */
	size_t *map;         /* Go group i (1-based) -> POSIX group */
	char **names;        /* Go group i -> its name, or NULL */
	size_t nposix;       /* groups in the POSIX pattern */
};

static void rx_free(struct rx *rx)
{
	if (rx->compiled)
		regfree(&rx->re);
	for (size_t i = 0; i <= rx->ngo; i++)
		free(rx->names ? rx->names[i] : NULL);
	free(rx->names);
	free(rx->map);
}

/* A literal code point, escaped where POSIX ERE would read it as syntax. */
static void rx_literal(uint32_t c, struct buf *out)
{
	if (c < 0x80 && strchr(".[]\\()*+?{}|^$", (int)c) && c) {
		if (c == ']' || c == '}')
			buf_addch(out, (int)c);
		else
			buf_addch(out, '\\'), buf_addch(out, (int)c);
		return;
	}
	utf8_encode(c, out);
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Reads an escape that stands for one character (after the backslash at p[*i - 1]).
 * Returns the code point, -1 when the escape is not a single character, -2 when invalid. */
static int32_t rx_char_escape(const char *p, size_t n, size_t *i)
{
	int ch;

	if (*i >= n)
		return -2;
	ch = (unsigned char)p[(*i)++];
	switch (ch) {
	case 'a': return 7;
	case 'f': return 12;
	case 't': return 9;
	case 'n': return 10;
	case 'r': return 13;
	case 'v': return 11;
	case 'x': {
		int32_t v = 0;
		if (*i < n && p[*i] == '{') {
			size_t digits = 0;
			(*i)++;
			while (*i < n && hexval(p[*i]) >= 0) {
				v = v * 16 + hexval(p[(*i)++]);
				if (v > 0x10FFFF)
					return -2;
				digits++;
			}
			if (*i >= n || p[*i] != '}' || !digits)
				return -2;
			(*i)++;
			return v;
		}
		if (*i + 1 >= n || hexval(p[*i]) < 0 || hexval(p[*i + 1]) < 0)
			return -2;
		v = hexval(p[*i]) * 16 + hexval(p[*i + 1]);
		*i += 2;
		return v;
	}
	case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
		int32_t v = ch - '0';
		/* a lone non-zero digit would be a backreference, which RE2 does not have */
		if (ch != '0' && (*i >= n || p[*i] < '0' || p[*i] > '7'))
			return -2;
		for (int k = 0; k < 2 && *i < n && p[*i] >= '0' && p[*i] <= '7'; k++)
			v = v * 8 + (p[(*i)++] - '0');
		return v;
	}
	default:
		if (ch < 0x80 && !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				   (ch >= '0' && ch <= '9')))
			return ch;
		(*i)--;
		return -1;
	}
}

/* One member of a bracket expression being rebuilt. */
struct rx_item {
	uint32_t lo, hi;      /* a range (lo == hi for one character) */
	const char *cls;      /* or a named class such as "[:alpha:]" */
	size_t clslen;
};

static void rx_bracket_char(uint32_t c, struct buf *out)
{
	/* in a POSIX bracket expression these are syntax wherever they stand */
	if (c == ']' || c == '-' || c == '^' || c == '[')
		buf_printf(out, "[.%c.]", (int)c);
	else
		utf8_encode(c, out);
}

/* Translates the class at p[*i] (just past '['). */
static const char *rx_class(const char *p, size_t n, size_t *i, struct buf *out)
{
	struct buf items = BUF_INIT;
	int neg = 0, has_close = 0, has_dash = 0, has_caret = 0, first = 1;
	size_t count;

	if (*i < n && p[*i] == '^')
		neg = 1, (*i)++;
	for (;;) {
		struct rx_item it = { 0, 0, NULL, 0 };
		int32_t c;
		size_t w;

		if (*i >= n) {
			buf_release(&items);
			return "missing closing ]";
		}
		if (p[*i] == ']' && !first)
			break;
		first = 0;
		if (p[*i] == '[' && *i + 1 < n && p[*i + 1] == ':') {
			const char *end = NULL;
			for (size_t j = *i + 2; j + 1 < n; j++)
				if (p[j] == ':' && p[j + 1] == ']') {
					end = p + j + 2;
					break;
				}
			if (end) {
				if (p[*i + 2] == '^') {
					buf_release(&items);
					return "negated named classes such as [:^alpha:] are not supported";
				}
				it.cls = p + *i;
				it.clslen = (size_t)(end - (p + *i));
				*i = (size_t)(end - p);
				buf_push(&items, struct rx_item, it);
				continue;
			}
		}
		if (p[*i] == '\\') {
			(*i)++;
			if (*i < n && strchr("dsw", p[*i]) && p[*i]) {
				static const char *const cls[] = { "0-9", "\t\n\f\r ", "0-9A-Za-z_" };
				const char *set = cls[strchr("dsw", p[*i]) - "dsw"];
				(*i)++;
				for (size_t k = 0; set[k]; k++) {
					struct rx_item r = { (unsigned char)set[k], (unsigned char)set[k],
							     NULL, 0 };
					if (set[k + 1] == '-') {
						r.hi = (unsigned char)set[k + 2];
						k += 2;
					}
					buf_push(&items, struct rx_item, r);
				}
				continue;
			}
			if (*i < n && strchr("DSWpP", p[*i]) && p[*i]) {
				buf_release(&items);
				return "\\D, \\S, \\W and \\p are not supported inside [...]";
			}
			c = rx_char_escape(p, n, i);
			if (c < 0) {
				buf_release(&items);
				return "invalid escape sequence in [...]";
			}
		} else {
			c = utf8_decode((const unsigned char *)p + *i, n - *i, &w);
			*i += w;
			if (c < 0)
				c = 0xFFFD;
		}
		it.lo = it.hi = (uint32_t)c;
		if (*i + 1 < n && p[*i] == '-' && p[*i + 1] != ']') {
			int32_t hi;
			(*i)++;
			if (p[*i] == '\\') {
				(*i)++;
				hi = rx_char_escape(p, n, i);
				if (hi < 0) {
					buf_release(&items);
					return "invalid escape sequence in [...]";
				}
			} else {
				hi = utf8_decode((const unsigned char *)p + *i, n - *i, &w);
				*i += w;
			}
			if (hi < c) {
				buf_release(&items);
				return "invalid character class range";
			}
			it.hi = (uint32_t)hi;
		}
		buf_push(&items, struct rx_item, it);
	}
	(*i)++;
	count = buf_count(&items, struct rx_item);
	buf_addch(out, '[');
	if (neg)
		buf_addch(out, '^');
	for (size_t k = 0; k < count; k++) {
		struct rx_item *it = &buf_at(&items, struct rx_item, k);
		if (!it->cls && it->lo == it->hi) {
			if (it->lo == ']') { has_close = 1; continue; }
			if (it->lo == '-') { has_dash = 1; continue; }
			if (it->lo == '^') { has_caret = 1; continue; }
		}
	}
	/* ']' must come first, '^' anywhere but first, '-' last */
	if (has_close)
		buf_addch(out, ']');
	for (size_t k = 0; k < count; k++) {
		struct rx_item *it = &buf_at(&items, struct rx_item, k);
		if (it->cls) {
			buf_add(out, it->cls, it->clslen);
		} else if (it->lo == it->hi) {
			if (it->lo == ']' || it->lo == '-' || it->lo == '^')
				continue;
			if (it->lo == '[')
				buf_addstr(out, "[.[.]");
			else
				utf8_encode(it->lo, out);
		} else {
			rx_bracket_char(it->lo, out);
			buf_addch(out, '-');
			rx_bracket_char(it->hi, out);
		}
	}
	if (has_caret) {
		/* "[^]" would be a negation of nothing: a lone '^' is written out of brackets */
		if (!neg && !has_close && count == 1) {
			buf_truncate(out, out->len - 1);
			buf_addstr(out, "\\^");
			buf_release(&items);
			return NULL;
		}
		buf_addch(out, '^');
	}
	if (has_dash)
		buf_addch(out, '-');
	buf_addch(out, ']');
	buf_release(&items);
	return NULL;
}

/* Translates a Go regexp into POSIX ERE in out; returns NULL or what is wrong with it. */
static const char *rx_translate(const char *p, size_t n, struct buf *out, struct rx *rx,
				int *cflags)
{
	size_t i = 0, depth = 0;
	int can_repeat = 0, dotall = 0;
	struct buf map = BUF_INIT, names = BUF_INIT;
	const char *err = NULL;

	buf_push(&map, size_t, 0);
	buf_push(&names, char *, NULL);
	/* (?flags) at the very start apply to the whole pattern */
	while (i + 2 < n && p[i] == '(' && p[i + 1] == '?' && strchr("imsU", p[i + 2]) && p[i + 2]) {
		size_t j = i + 2;
		int fi = 0, fm = 0, fs = 0;
		while (j < n && strchr("imsU", p[j]) && p[j]) {
			fi |= p[j] == 'i';
			fm |= p[j] == 'm';
			fs |= p[j] == 's';
			if (p[j] == 'U') {
				err = "the U flag (ungreedy) is not supported";
				goto out;
			}
			j++;
		}
		if (j >= n || p[j] != ')')
			break;
		if (fi)
			*cflags |= REG_ICASE;
		if (fm)
			*cflags |= REG_NEWLINE;
		dotall |= fs;
		i = j + 1;
	}
	while (i < n) {
		unsigned char ch = (unsigned char)p[i];
		switch (ch) {
		case '\\': {
			int32_t cp;
			i++;
			if (i < n && strchr("dDsSwW", p[i]) && p[i]) {
				static const char *const cls[] = {
					"[0-9]", "[^0-9]", "[\t\n\f\r ]", "[^\t\n\f\r ]",
					"[0-9A-Za-z_]", "[^0-9A-Za-z_]",
				};
				buf_addstr(out, cls[strchr("dDsSwW", p[i]) - "dDsSwW"]);
				i++;
				can_repeat = 1;
				break;
			}
			if (i < n && (p[i] == 'b' || p[i] == 'B')) {
				buf_addch(out, '\\');
				buf_addch(out, p[i++]);
				can_repeat = 0;
				break;
			}
			if (i < n && (p[i] == 'A' || p[i] == 'z')) {
				buf_addstr(out, p[i++] == 'A' ? "\\`" : "\\'");
				can_repeat = 0;
				break;
			}
			if (i < n && p[i] == 'Q') {
				size_t j = i + 1;
				while (j < n && !(p[j] == '\\' && j + 1 < n && p[j + 1] == 'E')) {
					size_t w;
					int32_t c = utf8_decode((const unsigned char *)p + j, n - j, &w);
					rx_literal(c < 0 ? 0xFFFD : (uint32_t)c, out);
					j += w;
				}
				i = j < n ? j + 2 : n;
				can_repeat = 1;
				break;
			}
			if (i < n && (p[i] == 'p' || p[i] == 'P')) {
				err = "Unicode classes such as \\pL are not supported";
				goto out;
			}
			cp = rx_char_escape(p, n, &i);
			if (cp < 0) {
				err = "invalid escape sequence";
				goto out;
			}
			if (!cp) {
				err = "a NUL character cannot be matched";
				goto out;
			}
			rx_literal((uint32_t)cp, out);
			can_repeat = 1;
			break;
		}
		case '[':
			i++;
			err = rx_class(p, n, &i, out);
			if (err)
				goto out;
			can_repeat = 1;
			break;
		case '(':
			i++;
			buf_addch(out, '(');
			rx->nposix++;
			depth++;
			if (i < n && p[i] == '?') {
				if (i + 1 < n && p[i + 1] == ':') {
					i += 2;
				} else if ((i + 2 < n && p[i + 1] == 'P' && p[i + 2] == '<') ||
					   (i + 1 < n && p[i + 1] == '<')) {
					size_t start = i + (p[i + 1] == 'P' ? 3 : 2), j = start;
					/* a name is letters, digits and underscores, as Go's */
					while (j < n && (p[j] == '_' || (p[j] >= '0' && p[j] <= '9') ||
							 ((p[j] | 32) >= 'a' && (p[j] | 32) <= 'z')))
						j++;
					if (j >= n || j == start || p[j] != '>') {
						err = "invalid named capture";
						goto out;
					}
					buf_push(&map, size_t, rx->nposix);
					buf_push(&names, char *, xstrndup(p + start, j - start));
					i = j + 1;
				} else {
					err = "flags are only supported at the start of the pattern, "
					      "as in (?i)abc";
					goto out;
				}
			} else {
				buf_push(&map, size_t, rx->nposix);
				buf_push(&names, char *, NULL);
			}
			can_repeat = 0;
			break;
		case ')':
			if (!depth) {
				err = "unexpected )";
				goto out;
			}
			depth--;
			i++;
			buf_addch(out, ')');
			can_repeat = 1;
			break;
		case '|':
			i++;
			buf_addch(out, '|');
			can_repeat = 0;
			break;
		case '*': case '+': case '?': case '{': {
			size_t j = i + 1;
			if (ch == '{') {
				/* only {n}, {n,} and {n,m} repeat; any other brace is literal */
				long lo = -1, hi = -1;
				char *end;
				if (j < n && p[j] >= '0' && p[j] <= '9') {
					lo = strtol(p + j, &end, 10);
					j = (size_t)(end - p);
					hi = lo;
					if (j < n && p[j] == ',') {
						j++;
						hi = -2;
						if (j < n && p[j] >= '0' && p[j] <= '9') {
							hi = strtol(p + j, &end, 10);
							j = (size_t)(end - p);
						}
					}
				}
				if (lo < 0 || j >= n || p[j] != '}') {
					buf_addstr(out, "\\{");
					i++;
					can_repeat = 1;
					break;
				}
				j++;
				if (lo > 1000 || hi > 1000 || (hi >= 0 && hi < lo)) {
					err = "invalid repeat count";
					goto out;
				}
			}
			if (!can_repeat) {
				err = "missing argument to repetition operator";
				goto out;
			}
			if (j < n && p[j] == '?') {
				err = "lazy repetition such as *? is not supported";
				goto out;
			}
			buf_add(out, p + i, j - i);
			i = j;
			/* RE2 rejects a repetition of a repetition such as a** */
			if (i < n && strchr("*+?", p[i]) && p[i]) {
				err = "invalid nested repetition operator";
				goto out;
			}
			can_repeat = 0;
			break;
		}
		case '.':
			i++;
			buf_addstr(out, dotall ? "." : "[^\n]");
			can_repeat = 1;
			break;
		case '^': case '$':
			i++;
			buf_addch(out, ch);
			can_repeat = 0;
			break;
		default: {
			size_t w;
			int32_t c = utf8_decode((const unsigned char *)p + i, n - i, &w);
			if (!c) {
				err = "a NUL character cannot be matched";
				goto out;
			}
			rx_literal(c < 0 ? 0xFFFD : (uint32_t)c, out);
			i += w;
			can_repeat = 1;
			break;
		}
		}
	}
	if (depth)
		err = "missing closing )";
out:
	rx->ngo = buf_count(&map, size_t) - 1;
	rx->map = (size_t *)(void *)buf_detach(&map, NULL);
	rx->names = (char **)(void *)buf_detach(&names, NULL);
	return err;
}

/* The UTF-8 locale regcomp and regexec run in, so that "." and [^x] match whole characters
 * whatever the process's own locale is. Made once (by whichever thread asks first) and kept. */
static locale_t rx_loc;

static void rx_locale_init(void)
{
	rx_loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (!rx_loc)
		rx_loc = newlocale(LC_CTYPE_MASK, "en_US.UTF-8", (locale_t)0);
}

static locale_t rx_locale(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, rx_locale_init);
	return rx_loc;
}

/* Go's Regexp.Expand: $1, ${1}, $name, ${name} and $$. A name is as long as it can be, so
 * "$1x" names a group "1x", which does not exist and so expands to nothing. */
static void rx_expand(const struct rx *rx, const char *tpl, size_t tn, const char *src,
		      const regmatch_t *m, struct buf *out)
{
	size_t i = 0;

	while (i < tn) {
		size_t j, start, end;
		int brace = 0;
		long num = 0;

		if (tpl[i] != '$') {
			buf_addch(out, tpl[i++]);
			continue;
		}
		i++;
		if (i < tn && tpl[i] == '$') {
			buf_addch(out, '$');
			i++;
			continue;
		}
		if (i < tn && tpl[i] == '{')
			brace = 1;
		start = j = i + (size_t)brace;
		while (j < tn && ((tpl[j] >= '0' && tpl[j] <= '9') || tpl[j] == '_' ||
				  ((tpl[j] | 32) >= 'a' && (tpl[j] | 32) <= 'z') ||
				  (unsigned char)tpl[j] >= 0x80))
			j++;
		end = j;
		if (end == start || (brace && (j >= tn || tpl[j] != '}'))) {
			buf_addch(out, '$');   /* malformed: the '$' is text */
			continue;
		}
		i = brace ? j + 1 : j;
		for (size_t k = start; k < end; k++) {
			if (tpl[k] < '0' || tpl[k] > '9' || num >= 100000000) {
				num = -1;
				break;
			}
			num = num * 10 + (tpl[k] - '0');
		}
		if (num >= 0 && tpl[start] == '0' && end - start > 1)
			num = -1;
		if (num < 0) {
			for (size_t g = 1; g <= rx->ngo; g++)
				if (rx->names[g] && strlen(rx->names[g]) == end - start &&
				    !memcmp(rx->names[g], tpl + start, end - start)) {
					num = (long)g;
					break;
				}
		}
		if (num >= 0 && (size_t)num <= rx->ngo) {
			const regmatch_t *g = &m[rx->map[num]];
			if (g->rm_so >= 0)
				buf_add(out, src + g->rm_so, (size_t)(g->rm_eo - g->rm_so));
		}
	}
}

/* Compiles the Go regexp pat (argument arg, shown unless secret) into rx; 0, or -1 after an
 * error. The caller frees rx with rx_free either way. */
static int rx_compile(const struct fctx *c, int arg, const char *pat, size_t pn, int secret,
		      struct rx *rx)
{
	struct buf ere = BUF_INIT;
	int cflags = REG_EXTENDED, r, rc = -1;
	const char *err;
	char msg[128];
	locale_t loc = rx_locale(), old = (locale_t)0;

	memset(rx, 0, sizeof *rx);
	err = rx_translate(pat, pn, &ere, rx, &cflags);
	if (!err) {
		if (loc)
			old = uselocale(loc);
		r = regcomp(&rx->re, buf_cstr(&ere), cflags);
		if (loc)
			uselocale(old);
		if (r) {
			regerror(r, &rx->re, msg, sizeof msg);
			err = msg;
		} else {
			rx->compiled = 1;
			rc = 0;
		}
	}
	if (err && secret)
		fail(c, arg, "invalid regular expression (sensitive value): %s", err);
	else if (err)
		fail(c, arg, "invalid regular expression /%.*s/: %s", (int)pn, pat, err);
	buf_release(&ere);
	return rc;
}

/* The leftmost match in s[pos..len) (m has rx->nposix + 1 slots): 1, or 0 when none. */
static int rx_exec(const struct rx *rx, const char *s, size_t len, size_t pos, regmatch_t *m)
{
	locale_t loc = rx_locale(), old = (locale_t)0;
	int r;

	m[0].rm_so = (regoff_t)pos;
	m[0].rm_eo = (regoff_t)len;
	if (loc)
		old = uselocale(loc);
	r = regexec(&rx->re, s, rx->nposix + 1, m, REG_STARTEND);
	if (loc)
		uselocale(old);
	return !r;
}

/* Regexp.ReplaceAllString: every match replaced, an empty match right after a match
 * skipped, and the search moving on by at least one character. */
static int rx_replace(const struct fctx *c, const char *pat, size_t pn, const char *s, size_t len,
		      const char *rep, size_t rn, int secret, struct buf *out)
{
	struct rx rx;
	regmatch_t *m = NULL;
	size_t pos = 0, last = 0;
	int rc = -1;

	if (rx_compile(c, 1, pat, pn, secret, &rx))
		goto out;
	m = xcalloc(rx.nposix + 1, sizeof *m);
	while (pos <= len && rx_exec(&rx, s, len, pos, m)) {
		size_t w;
		buf_add(out, s + last, (size_t)m[0].rm_so - last);
		if ((size_t)m[0].rm_eo > last || m[0].rm_so == 0)
			rx_expand(&rx, rep, rn, s, m, out);
		last = (size_t)m[0].rm_eo;
		utf8_decode((const unsigned char *)s + pos, len - pos, &w);
		if (pos + w > (size_t)m[0].rm_eo)
			pos += w;
		else if (pos + 1 > (size_t)m[0].rm_eo)
			pos++;
		else
			pos = (size_t)m[0].rm_eo;
	}
	buf_add(out, s + last, len - last);
	rc = 0;
out:
	free(m);
	rx_free(&rx);
	return rc;
}

static struct value *f_replace(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "replace" };
	struct buf t0 = BUF_INIT, t1 = BUF_INIT, t2 = BUF_INIT, out = BUF_INIT;
	const char *s, *sub, *rep;
	size_t len, sn, rn;

	(void)n;
	if (!(s = want_str(&c, args, 0, "the string", &t0, &len)) ||
	    !(sub = want_str(&c, args, 1, "the substring", &t1, &sn)) ||
	    !(rep = want_str(&c, args, 2, "the replacement", &t2, &rn)))
		goto fail;
	if (sn > 1 && sub[0] == '/' && sub[sn - 1] == '/') {
		if (rx_replace(&c, sub + 1, sn - 2, s, len, rep, rn, val_is_sensitive(args[1]), &out))
			goto fail;
	} else if (!sn) {
		/* strings.Replace with an empty old string inserts at every character */
		size_t i = 0, w;
		buf_add(&out, rep, rn);
		while (i < len) {
			utf8_decode((const unsigned char *)s + i, len - i, &w);
			buf_add(&out, s + i, w);
			buf_add(&out, rep, rn);
			i += w;
		}
	} else {
		size_t i = 0;
		while (i < len) {
			if (i + sn <= len && !memcmp(s + i, sub, sn)) {
				buf_add(&out, rep, rn);
				i += sn;
			} else {
				buf_addch(&out, s[i++]);
			}
		}
	}
	buf_release(&t0);
	buf_release(&t1);
	buf_release(&t2);
	return str_value(&out);
fail:
	buf_release(&t0);
	buf_release(&t1);
	buf_release(&t2);
	buf_release(&out);
	return NULL;
}

/* What one match of regex() or regexall() gives: the matched text when the pattern has no
 * groups, a list of the groups' texts, or a map of them by name (a group that took no part
 * in the match is null). */
static struct value *rx_result(const struct rx *rx, const char *s, const regmatch_t *m)
{
	struct buf items = BUF_INIT;
	struct val_pair *pairs;
	struct value *r;

	if (!rx->ngo)
		return val_string(s + m[0].rm_so, (size_t)(m[0].rm_eo - m[0].rm_so));
	for (size_t g = 1; g <= rx->ngo; g++) {
		const regmatch_t *gm = &m[rx->map[g]];
		buf_push(&items, struct value *, gm->rm_so < 0 ? val_null() :
			 val_string(s + gm->rm_so, (size_t)(gm->rm_eo - gm->rm_so)));
	}
	if (!rx->names[1])
		return list_from(&items);
	pairs = xcalloc(rx->ngo, sizeof *pairs);
	for (size_t g = 1; g <= rx->ngo; g++) {
		pairs[g - 1].key = xstrdup(rx->names[g]);
		pairs[g - 1].val = buf_at(&items, struct value *, g - 1);
	}
	/* a name given twice keeps its last group, as Terraform's map of names does */
	r = val_map_take(pairs, rx->ngo);
	free(pairs);
	buf_release(&items);
	return r;
}

/* regex and regexall: the pattern compiled, its groups all named or all not. */
static int rx_pattern(const struct fctx *c, struct value **args, struct rx *rx)
{
	struct buf tmp = BUF_INIT;
	const char *pat;
	size_t pn, named = 0;
	int rc = -1;

	memset(rx, 0, sizeof *rx);
	if (!(pat = want_str(c, args, 0, "the pattern", &tmp, &pn)) ||
	    rx_compile(c, 0, pat, pn, val_is_sensitive(args[0]), rx))
		goto out;
	for (size_t g = 1; g <= rx->ngo; g++)
		named += rx->names[g] != NULL;
	if (named && named != rx->ngo) {
		fail(c, 0, "invalid regexp pattern: cannot mix both named and unnamed capture "
		     "groups");
		goto out;
	}
	rc = 0;
out:
	buf_release(&tmp);
	return rc;
}

/* regex (the first match, which must be there) and regexall (every match, as Go's
 * FindAllStringSubmatch finds them: an empty match right after a match is skipped, and the
 * search moves on by at least one character). */
static struct value *rx_find(struct func_call *fc, struct value **args, int all)
{
	struct fctx c = { fc, all ? "regexall" : "regex" };
	struct buf tmp = BUF_INIT, items = BUF_INIT;
	struct rx rx;
	regmatch_t *m = NULL;
	const char *s;
	size_t len, pos = 0;
	regoff_t prev_end = -1;
	struct value *r = NULL;

	if (rx_pattern(&c, args, &rx) || !(s = want_str(&c, args, 1, "the string", &tmp, &len)))
		goto out;
	m = xcalloc(rx.nposix + 1, sizeof *m);
	if (!all) {
		if (rx_exec(&rx, s, len, 0, m))
			r = rx_result(&rx, s, m);
		else
			fail(&c, -1, "pattern did not match any part of the given string");
		goto out;
	}
	while (pos <= len && rx_exec(&rx, s, len, pos, m)) {
		int accept = 1;
		if ((size_t)m[0].rm_eo == pos) {
			size_t w = 0;
			accept = m[0].rm_so != prev_end;
			if (pos < len)
				utf8_decode((const unsigned char *)s + pos, len - pos, &w);
			pos += w ? w : 1;
		} else {
			pos = (size_t)m[0].rm_eo;
		}
		prev_end = m[0].rm_eo;
		if (accept)
			buf_push(&items, struct value *, rx_result(&rx, s, m));
	}
	r = list_from(&items);
out:
	free(m);
	rx_free(&rx);
	buf_release(&tmp);
	return r;
}

static struct value *f_regex(struct func_call *fc, struct value **args, size_t n)
{
	(void)n;
	return rx_find(fc, args, 0);
}

static struct value *f_regexall(struct func_call *fc, struct value **args, size_t n)
{
	(void)n;
	return rx_find(fc, args, 1);
}

/* ---- JSON (Go's encoding/json output, as Terraform's jsonencode gives it) ---- */

static void json_quote(const char *s, size_t n, struct buf *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, w;

	buf_addch(out, '"');
	while (i < n) {
		unsigned char ch = (unsigned char)s[i];
		int32_t c;
		if (ch < 0x80) {
			i++;
			switch (ch) {
			case '"': buf_addstr(out, "\\\""); continue;
			case '\\': buf_addstr(out, "\\\\"); continue;
			case '\n': buf_addstr(out, "\\n"); continue;
			case '\r': buf_addstr(out, "\\r"); continue;
			case '\t': buf_addstr(out, "\\t"); continue;
			case '\b': buf_addstr(out, "\\b"); continue;
			case '\f': buf_addstr(out, "\\f"); continue;
			default:
				/* control characters, and <, > and & so that the JSON is safe
				 * inside HTML */
				if (ch < 0x20 || ch == '<' || ch == '>' || ch == '&') {
					buf_addstr(out, "\\u00");
					buf_addch(out, hex[ch >> 4]);
					buf_addch(out, hex[ch & 15]);
				} else {
					buf_addch(out, ch);
				}
				continue;
			}
		}
		c = utf8_decode((const unsigned char *)s + i, n - i, &w);
		if (c < 0)
			buf_addstr(out, "\\ufffd");
		else if (c == 0x2028 || c == 0x2029)
			buf_printf(out, "\\u%04x", (unsigned)c);
		else
			buf_add(out, s + i, w);
		i += w;
	}
	buf_addch(out, '"');
}

static void json_encode(const struct value *v, struct buf *out)
{
	switch (v->kind) {
	case VAL_BOOL:
		buf_addstr(out, v->u.b ? "true" : "false");
		break;
	case VAL_NUMBER:
		num_text(v->u.n, out);
		break;
	case VAL_STRING:
		json_quote(v->u.str.s, v->u.str.len, out);
		break;
	case VAL_LIST:
	case VAL_SET:
		buf_addch(out, '[');
		for (size_t i = 0; i < v->u.list.n; i++) {
			if (i)
				buf_addch(out, ',');
			json_encode(v->u.list.items[i], out);
		}
		buf_addch(out, ']');
		break;
	case VAL_MAP:
		/* keys are kept sorted, which is the order Terraform writes them in */
		buf_addch(out, '{');
		for (size_t i = 0; i < v->u.map.n; i++) {
			if (i)
				buf_addch(out, ',');
			json_quote(v->u.map.items[i].key, strlen(v->u.map.items[i].key), out);
			buf_addch(out, ':');
			json_encode(v->u.map.items[i].val, out);
		}
		buf_addch(out, '}');
		break;
	default:
		buf_addstr(out, "null");
		break;
	}
}

static struct value *f_jsonencode(struct func_call *fc, struct value **args, size_t n)
{
	struct buf out = BUF_INIT;

	(void)fc;
	(void)n;
	json_encode(args[0], &out);
	return str_value(&out);
}

static struct value *from_json(json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		size_t n = json_object_size(j), k = 0;
		struct val_pair *items = xcalloc(n + 1, sizeof *items);
		const char *key;
		json_t *val;
		struct value *r;
		json_object_foreach(j, key, val) {
			items[k].key = xstrdup(key);
			items[k].val = from_json(val);
			k++;
		}
		r = val_map_take(items, k);
		free(items);
		return r;
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(j);
		struct value **items = xcalloc(n + 1, sizeof *items), *r;
		for (size_t i = 0; i < n; i++)
			items[i] = from_json(json_array_get(j, i));
		r = val_list_take(items, n);
		free(items);
		return r;
	}
	case JSON_STRING:
		return val_string(json_string_value(j), json_string_length(j));
	case JSON_INTEGER:
		return val_number((double)json_integer_value(j));
	case JSON_REAL:
		return val_number(json_real_value(j));
	case JSON_TRUE:
		return val_bool(1);
	case JSON_FALSE:
		return val_bool(0);
	default:
		return val_null();
	}
}

static struct value *f_jsondecode(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "jsondecode" };
	struct buf tmp = BUF_INIT;
	const char *s;
	size_t len;
	json_error_t err;
	json_t *j;
	struct value *r = NULL;

	(void)n;
	if (!(s = want_str(&c, args, 0, "the argument", &tmp, &len)))
		goto out;
	/* numbers read as doubles (Terraform's are arbitrary-precision; a double is what stk
	 * has), a repeated key is an error as it is in Terraform */
	j = json_loadb(s, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL |
		       JSON_DECODE_INT_AS_REAL, &err);
	if (!j) {
		/* jansson's text quotes the input near the error */
		if (val_is_sensitive(args[0]))
			fail(&c, 0, "the argument is not valid JSON: (sensitive value)");
		else
			fail(&c, 0, "the argument is not valid JSON: %s at line %d, column %d",
			     err.text, err.line, err.column);
		goto out;
	}
	r = from_json(j);
	json_decref(j);
out:
	buf_release(&tmp);
	return r;
}

/* ---- YAML (go-cty-yaml's rules, as Terraform's yamldecode and yamlencode have them) ----
 * libyaml reads and writes the syntax; go-cty-yaml is a port of it, so its events, marks,
 * messages and output are libyaml's. What is go-cty-yaml's own is here: how a plain scalar
 * resolves (YAML 1.1 booleans and nulls, YAML 1.2 ints and floats, timestamps), anchors and
 * merge keys, and which events become which values. */

#define YAML_TAG_STR "tag:yaml.org,2002:str"
#define YAML_TAG_BOOL "tag:yaml.org,2002:bool"
#define YAML_TAG_INT "tag:yaml.org,2002:int"
#define YAML_TAG_FLOAT "tag:yaml.org,2002:float"
#define YAML_TAG_NULL "tag:yaml.org,2002:null"
#define YAML_TAG_TIMESTAMP "tag:yaml.org,2002:timestamp"
#define YAML_TAG_BINARY "tag:yaml.org,2002:binary"
#define YAML_TAG_MERGE "tag:yaml.org,2002:merge"
#define YAML_TAG_MAP "tag:yaml.org,2002:map"
#define YAML_TAG_SEQ "tag:yaml.org,2002:seq"

/* !!binary scalars are checked with base64decode's decoder, further down */
static long b64_decode(const char *s, size_t n, struct buf *out);

/* Nesting deeper than this is refused: the decoder recurses once per level. */
#define YAML_MAX_DEPTH 1000
/* Values (scalars, mappings, sequences) that aliases may expand a document to. Aliases share
 * the value they name, but whatever walks the result later (yamlencode, a comparison, the
 * plan) walks every copy: a few hundred bytes of nested aliases would be billions. */
#define YAML_MAX_WEIGHT 1000000

/* The scalars go-cty-yaml looks up by their text (its resolveMap): 1 true, 0 false, 2 null,
 * 3 +Inf, 4 -Inf; -1 for anything else. */
static int yaml_lookup(const char *s)
{
	static const struct { const char *text; int what; } words[] = {
		{ "y", 1 }, { "Y", 1 }, { "yes", 1 }, { "Yes", 1 }, { "YES", 1 },
		{ "true", 1 }, { "True", 1 }, { "TRUE", 1 }, { "on", 1 }, { "On", 1 }, { "ON", 1 },
		{ "n", 0 }, { "N", 0 }, { "no", 0 }, { "No", 0 }, { "NO", 0 },
		{ "false", 0 }, { "False", 0 }, { "FALSE", 0 }, { "off", 0 }, { "Off", 0 },
		{ "OFF", 0 },
		{ "", 2 }, { "~", 2 }, { "null", 2 }, { "Null", 2 }, { "NULL", 2 },
		{ ".inf", 3 }, { ".Inf", 3 }, { ".INF", 3 }, { "+.inf", 3 }, { "+.Inf", 3 },
		{ "+.INF", 3 }, { "-.inf", 4 }, { "-.Inf", 4 }, { "-.INF", 4 },
	};

	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (!strcmp(s, words[i].text))
			return words[i].what;
	return -1;
}

static struct value *yaml_word_value(int what)
{
	switch (what) {
	case 0: return val_bool(0);
	case 1: return val_bool(1);
	case 3: return val_number(INFINITY);
	case 4: return val_number(-INFINITY);
	default: return val_null();
	}
}

static size_t yaml_digits(const char *s, const char *set)
{
	size_t i = 0;

	while (s[i] && strchr(set, s[i]))
		i++;
	return i;
}

/* The YAML 1.2 core schema's integer, which go-cty-yaml (since 1.1) matches a plain scalar
 * against exactly: [-+]?[0-9]+, 0o[0-7]+ or 0x[0-9a-fA-F]+; no "_", no sign before a base. */
static int yaml_is_int(const char *s)
{
	size_t k;

	if (s[0] == '0' && s[1] == 'o' && (k = yaml_digits(s + 2, "01234567")) && !s[2 + k])
		return 1;
	if (s[0] == '0' && s[1] == 'x' &&
	    (k = yaml_digits(s + 2, "0123456789abcdefABCDEF")) && !s[2 + k])
		return 1;
	if (*s == '-' || *s == '+')
		s++;
	return (k = yaml_digits(s, "0123456789")) && !s[k];
}

/* Its float literal, which is also the syntax of a decimal number (cty.ParseNumberVal's, but
 * for "Inf", taken apart): [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int yaml_is_float(const char *s)
{
	size_t k;

	if (*s == '-' || *s == '+')
		s++;
	if (*s == '.') {
		if (!(k = yaml_digits(s + 1, "0123456789")))
			return 0;
		s += 1 + k;
	} else {
		if (!(k = yaml_digits(s, "0123456789")))
			return 0;
		s += k;
		if (*s == '.')
			s += 1 + yaml_digits(s + 1, "0123456789");
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (!(k = yaml_digits(s, "0123456789")))
			return 0;
		s += k;
	}
	return !*s;
}

/* cty.ParseNumberVal: a decimal number, or an infinity as big.ParseFloat spells it. A number
 * past the double range is not one here (stk's numbers are doubles). */
static int yaml_decimal(const char *s, double *out)
{
	const char *t = s + (*s == '-' || *s == '+');

	if (!strcmp(t, "Inf") || !strcmp(t, "inf")) {
		*out = *s == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	if (!yaml_is_float(s))
		return -1;
	errno = 0;
	*out = strtod(s, NULL);
	return errno == ERANGE && isinf(*out) ? -1 : 0;
}

/* strconv.ParseInt(s, 0, 64), then ParseUint: an optional sign, then 0x, 0o, 0b or a leading
 * 0 (octal) as the base, else decimal; in range of an int64 or (unsigned) a uint64. */
static int yaml_go_int(const char *s, double *out)
{
	int neg = 0, sign = 0, base = 10;
	uint64_t v = 0, limit;
	size_t i = 0;

	if (s[i] == '-' || s[i] == '+')
		neg = s[i++] == '-', sign = 1;
	if (s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X'))
		base = 16, i += 2;
	else if (s[i] == '0' && (s[i + 1] == 'o' || s[i + 1] == 'O'))
		base = 8, i += 2;
	else if (s[i] == '0' && (s[i + 1] == 'b' || s[i + 1] == 'B'))
		base = 2, i += 2;
	else if (s[i] == '0' && s[i + 1])
		base = 8, i += 1;
	if (!s[i])
		return -1;
	limit = sign ? (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX) : UINT64_MAX;
	for (; s[i]; i++) {
		int d;
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			return -1;
		if (d >= base || v > (limit - (uint64_t)d) / (uint64_t)base)
			return -1;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*out = neg ? -(double)v : (double)v;
	return 0;
}

/* Go's getnum(s, false): one or two digits. */
static int yaml_ts_num(const char **s, int *out)
{
	const char *p = *s;

	if (!(*p >= '0' && *p <= '9'))
		return -1;
	*out = *p++ - '0';
	if (*p >= '0' && *p <= '9')
		*out = *out * 10 + (*p++ - '0');
	*s = p;
	return 0;
}

/* go-cty-yaml's timestamps: time.Parse with "2006-1-2T15:4:5.999999999Z07:00" (t or T),
 * "2006-1-2 15:4:5.999999999" (UTC) or "2006-1-2", written back as RFC 3339 (Go's
 * time.RFC3339: whole seconds, Z for a zero offset). Returns -1 when s is none of them. */
static int yaml_timestamp(const char *s, struct buf *out)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int year, mon, day, hh = 0, mm = 0, ss = 0, off = 0, leap, oh, om;
	const char *p = s;

	for (int i = 0; i < 4; i++)
		if (!(p[i] >= '0' && p[i] <= '9'))
			return -1;
	if (p[4] != '-')
		return -1;
	year = atoi(p);
	p += 5;
	if (yaml_ts_num(&p, &mon) || mon < 1 || mon > 12 || *p++ != '-' || yaml_ts_num(&p, &day))
		return -1;
	leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (day < 1 || day > mdays[mon - 1] + (mon == 2 && leap))
		return -1;
	if (*p) {
		int zoned = *p == 'T' || *p == 't';
		if (!zoned && *p != ' ')
			return -1;
		p++;
		if (yaml_ts_num(&p, &hh) || hh > 23 || *p++ != ':' || yaml_ts_num(&p, &mm) ||
		    mm > 59 || *p++ != ':' || yaml_ts_num(&p, &ss) || ss > 59)
			return -1;
		if (*p == '.' && p[1] >= '0' && p[1] <= '9')
			for (p++; *p >= '0' && *p <= '9'; p++)
				;
		if (zoned) {
			if (*p == 'Z') {
				p++;
			} else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
				   isdigit((unsigned char)p[2]) && p[3] == ':' &&
				   isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5])) {
				oh = (p[1] - '0') * 10 + (p[2] - '0');
				om = (p[4] - '0') * 10 + (p[5] - '0');
				if (oh > 24 || om > 60)
					return -1;
				off = (oh * 60 + om) * (*p == '-' ? -1 : 1);
				p += 6;
			} else {
				return -1;
			}
		}
		if (*p)
			return -1;
	}
	buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d", year, mon, day, hh, mm, ss);
	if (!off)
		buf_addch(out, 'Z');
	else
		buf_printf(out, "%c%02d:%02d", off < 0 ? '-' : '+', abs(off) / 60, abs(off) % 60);
	return 0;
}

/* A mapping's key that is a merge key: "<<" under no tag, or anything under !!merge. */
static int yaml_merge_key(const yaml_event_t *ev)
{
	const char *tag = (const char *)ev->data.scalar.tag;

	return ev->type == YAML_SCALAR_EVENT &&
	       (tag ? !strcmp(tag, YAML_TAG_MERGE) :
		!strcmp((const char *)ev->data.scalar.value, "<<"));
}

/* go-cty-yaml's resolveScalar: the value of scalar s under tag (NULL when it has none), or
 * NULL with the reason in why. */
static struct value *yaml_resolve(const char *tag, const char *s, size_t n, int quoted,
				  struct buf *why)
{
	static const char *const tags[] = {
		YAML_TAG_STR, YAML_TAG_BOOL, YAML_TAG_INT, YAML_TAG_FLOAT, YAML_TAG_NULL,
		YAML_TAG_TIMESTAMP, YAML_TAG_BINARY,
	};
	char hint = 'N';
	int known = !tag, what;
	struct buf tmp = BUF_INIT;
	struct value *r = NULL;
	double d;

	for (size_t i = 0; tag && i < sizeof tags / sizeof tags[0]; i++)
		known |= !strcmp(tag, tags[i]);
	if (!known) {
		buf_addstr(why, "unsupported tag ");
		go_quote(tag, strlen(tag), why);
		return NULL;
	}
	if (strlen(s) != n) {
		/* a NUL (a quoted scalar's "\0") cannot be read as anything but a string */
		if (!tag || !strcmp(tag, YAML_TAG_STR))
			return val_string(s, n);
		buf_addstr(why, "cannot parse ");
		go_quote(s, n, why);
		buf_printf(why, " as %s", tag);
		return NULL;
	}
	if (n) {
		unsigned char c0 = (unsigned char)s[0];
		hint = c0 == '+' || c0 == '-' ? 'S' : (c0 >= '0' && c0 <= '9') ? 'D' :
		       strchr("yYnNtTfFoO~", c0) && c0 ? 'M' : c0 == '.' ? '.' : 0;
	}
	if (hint && !(tag && (!strcmp(tag, YAML_TAG_STR) || !strcmp(tag, YAML_TAG_BINARY)))) {
		if (quoted)
			return val_string(s, n);
		if ((what = yaml_lookup(s)) >= 0)
			return yaml_word_value(what);
		if (!tag && (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))) {
			buf_addstr(why, "floating point NaN is not supported");
			return NULL;
		}
		if (hint == '.' && !yaml_decimal(s, &d))
			return val_number(d);
		if (hint == 'D' || hint == 'S') {
			if ((!tag || !strcmp(tag, YAML_TAG_TIMESTAMP)) && !yaml_timestamp(s, &tmp))
				return str_value(&tmp);
			if (yaml_is_int(s))
				tag = YAML_TAG_INT;
			else if (yaml_is_float(s))
				tag = YAML_TAG_FLOAT;
		}
	}
	if (!tag)
		return val_string(s, n);
	if (!strcmp(tag, YAML_TAG_STR))
		return val_string(s, n);
	if (!strcmp(tag, YAML_TAG_BINARY)) {
		/* kept as base64 (cty has no bytes), once it is seen to be base64 */
		if (b64_decode(s, n, &tmp) < 0) {
			r = val_string(s, n);
			goto out;
		}
		buf_addstr(why, "cannot parse ");
		go_quote(s, n, why);
		buf_addstr(why, " as " YAML_TAG_BINARY ": not valid base64");
		goto out;
	}
	if (!strcmp(tag, YAML_TAG_NULL))
		return val_null();
	if (!strcmp(tag, YAML_TAG_BOOL)) {
		if ((what = yaml_lookup(s)) == 0 || what == 1)
			return val_bool(what);
	} else if (!strcmp(tag, YAML_TAG_INT) || !strcmp(tag, YAML_TAG_FLOAT)) {
		if (!yaml_decimal(s, &d) || !yaml_go_int(s, &d))
			return val_number(d);
	} else if (!strcmp(tag, YAML_TAG_TIMESTAMP) && !yaml_timestamp(s, &tmp)) {
		return str_value(&tmp);
	}
	buf_addstr(why, "cannot parse ");
	go_quote(s, n, why);
	buf_printf(why, " as %s", tag);
out:
	buf_release(&tmp);
	return r;
}

struct yaml_anchor {
	char *name;
	int pending;          /* being defined: an alias to it would be a cycle */
	struct value *val;    /* the latest value under the name, or NULL */
	size_t weight;
};

struct yaml_dec {
	yaml_parser_t p;
	struct buf anchors;   /* struct yaml_anchor */
	struct buf err;       /* the message, once something failed */
	size_t weight;        /* values the document expands to so far */
};

/* go-cty-yaml's Error: "on line N, column M: " before the message, from libyaml's marks as
 * they are (from 0). */
static void yaml_fail_at(struct yaml_dec *d, const yaml_mark_t *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void yaml_fail_at(struct yaml_dec *d, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;

	buf_reset(&d->err);
	if (m)
		buf_printf(&d->err, "on line %zu, column %zu: ", m->line, m->column);
	va_start(ap, fmt);
	buf_vprintf(&d->err, fmt, ap);
	va_end(ap);
}

/* go-cty-yaml's parserError: libyaml's problem, at the problem's line when it is not the
 * first (a scanner's one line on, column 0), else at the context's, else at none. */
static void yaml_parser_fail(struct yaml_dec *d)
{
	const char *problem = d->p.problem ? d->p.problem : "invalid YAML syntax";
	yaml_mark_t m;

	if (d->p.problem_mark.line) {
		m = d->p.problem_mark;
		if (d->p.error == YAML_SCANNER_ERROR)
			m.line++, m.column = 0;
		yaml_fail_at(d, &m, "%s", problem);
	} else if (d->p.context_mark.line) {
		yaml_fail_at(d, &d->p.context_mark, "%s", problem);
	} else {
		yaml_fail_at(d, NULL, "%s", problem);
	}
}

static int yaml_next(struct yaml_dec *d, yaml_event_t *ev)
{
	if (yaml_parser_parse(&d->p, ev))
		return 0;
	yaml_parser_fail(d);
	return -1;
}

static struct yaml_anchor *yaml_anchor_find(struct yaml_dec *d, const char *name)
{
	for (size_t i = 0; i < buf_count(&d->anchors, struct yaml_anchor); i++)
		if (!strcmp(buf_at(&d->anchors, struct yaml_anchor, i).name, name))
			return &buf_at(&d->anchors, struct yaml_anchor, i);
	return NULL;
}

static void yaml_anchor_begin(struct yaml_dec *d, const yaml_char_t *name)
{
	struct yaml_anchor *a;

	if (!name)
		return;
	if (!(a = yaml_anchor_find(d, (const char *)name))) {
		struct yaml_anchor n = { xstrdup((const char *)name), 0, NULL, 0 };
		buf_push(&d->anchors, struct yaml_anchor, n);
		a = yaml_anchor_find(d, (const char *)name);
	}
	a->pending++;
}

static void yaml_anchor_end(struct yaml_dec *d, const yaml_char_t *name, struct value *v,
			    size_t weight)
{
	struct yaml_anchor *a;

	if (!name || !(a = yaml_anchor_find(d, (const char *)name)))
		return;
	a->pending--;
	if (a->val)
		val_unref(a->val);
	a->val = val_ref(v);
	a->weight = weight;
}

static struct value *yaml_node(struct yaml_dec *d, yaml_event_t *ev, size_t depth,
			       size_t *weight);

/* The next event's node. */
static struct value *yaml_next_node(struct yaml_dec *d, size_t depth, size_t *weight)
{
	yaml_event_t ev;
	struct value *r;

	if (yaml_next(d, &ev))
		return NULL;
	r = yaml_node(d, &ev, depth, weight);
	yaml_event_delete(&ev);
	return r;
}

/* A mapping's key as text: a scalar resolved, then converted to a string as cty would. */
static int yaml_key(struct yaml_dec *d, yaml_event_t *ev, char **key)
{
	struct value *k;
	struct buf why = BUF_INIT, text = BUF_INIT;
	int rc = -1;

	if (ev->type != YAML_SCALAR_EVENT) {
		yaml_fail_at(d, &ev->start_mark, "only strings are allowed as mapping keys");
		return -1;
	}
	k = yaml_resolve((const char *)ev->data.scalar.tag, (const char *)ev->data.scalar.value,
			 ev->data.scalar.length,
			 ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
			 ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE, &why);
	if (!k) {
		/* go-cty-yaml gives a key's resolution error without a position */
		yaml_fail_at(d, NULL, "%s", buf_cstr(&why));
		goto out;
	}
	switch (k->kind) {
	case VAL_STRING:
		buf_add(&text, k->u.str.s, k->u.str.len);
		break;
	case VAL_NUMBER:
		num_text(k->u.n, &text);
		break;
	case VAL_BOOL:
		buf_addstr(&text, k->u.b ? "true" : "false");
		break;
	default:
		yaml_fail_at(d, &ev->start_mark, "mapping key cannot be null");
		goto out;
	}
	if (strlen(buf_cstr(&text)) != text.len) {
		/* stk's map keys are C strings */
		yaml_fail_at(d, &ev->start_mark, "a mapping key cannot contain a NUL character");
		goto out;
	}
	*key = buf_detach(&text, NULL);
	rc = 0;
out:
	if (k)
		val_unref(k);
	buf_release(&why);
	buf_release(&text);
	return rc;
}

static void yaml_pairs_free(struct buf *pairs)
{
	for (size_t i = 0; i < buf_count(pairs, struct val_pair); i++) {
		free(buf_at(pairs, struct val_pair, i).key);
		val_unref(buf_at(pairs, struct val_pair, i).val);
	}
	buf_release(pairs);
}

/* A merge key's value into the pairs so far: a mapping, or a sequence of mappings. */
static int yaml_merge(struct yaml_dec *d, yaml_event_t *key, struct value *v, struct buf *pairs)
{
	struct value *const *maps = &v;
	size_t n = 1;

	if (v->kind == VAL_LIST) {
		maps = v->u.list.items;
		n = v->u.list.n;
	}
	for (size_t i = 0; i < n; i++) {
		const struct value *m = maps[i];
		if (m->kind != VAL_MAP) {
			struct val_type *t = val_type_of(m);
			struct buf name = BUF_INIT;
			if (m->kind == VAL_NULL)
				buf_addstr(&name, "dynamic");
			else
				val_type_name(t, &name);
			yaml_fail_at(d, &key->start_mark, "cannot merge %s%s into mapping",
				     buf_cstr(&name), maps == &v ? "" : " (from sequence)");
			val_type_free(t);
			buf_release(&name);
			return -1;
		}
		for (size_t k = 0; k < m->u.map.n; k++) {
			struct val_pair p = { xstrdup(m->u.map.items[k].key),
					      val_ref(m->u.map.items[k].val) };
			buf_push(pairs, struct val_pair, p);
		}
	}
	return 0;
}

/* The start of a mapping or sequence: its tag, if any, must be want's; its anchor, if any,
 * is being defined from here on. */
static int yaml_open(struct yaml_dec *d, yaml_event_t *ev, const char *tag, const char *want,
		     const char *what, const yaml_char_t *anchor, size_t *weight)
{
	if (tag && strcmp(tag, want)) {
		yaml_fail_at(d, &ev->start_mark, "can't interpret %s as %s", what, tag);
		return -1;
	}
	yaml_anchor_begin(d, anchor);
	*weight = 1;
	return 0;
}

static struct value *yaml_mapping(struct yaml_dec *d, yaml_event_t *ev, size_t depth,
				  size_t *weight)
{
	const char *tag = (const char *)ev->data.mapping_start.tag;
	const yaml_char_t *anchor = ev->data.mapping_start.anchor;
	struct buf pairs = BUF_INIT;
	struct value *r = NULL, *v;
	yaml_event_t kev;
	size_t w;
	char *key;

	if (yaml_open(d, ev, tag, YAML_TAG_MAP, "mapping", anchor, weight))
		return NULL;
	for (;;) {
		if (yaml_next(d, &kev))
			goto out;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			break;
		}
		if (yaml_merge_key(&kev)) {
			int bad;
			if (!(v = yaml_next_node(d, depth + 1, &w))) {
				yaml_event_delete(&kev);
				goto out;
			}
			*weight += w;
			bad = yaml_merge(d, &kev, v, &pairs);
			val_unref(v);
			yaml_event_delete(&kev);
			if (bad)
				goto out;
			continue;
		}
		if (yaml_key(d, &kev, &key)) {
			yaml_event_delete(&kev);
			goto out;
		}
		yaml_event_delete(&kev);
		if (!(v = yaml_next_node(d, depth + 1, &w))) {
			free(key);
			goto out;
		}
		*weight += w;
		struct val_pair p = { key, v };
		buf_push(&pairs, struct val_pair, p);
	}
	/* a repeated key, or one a merge brought in, is the later one, as go-cty-yaml has it */
	r = val_map_take((struct val_pair *)(void *)pairs.data,
			 buf_count(&pairs, struct val_pair));
	buf_release(&pairs);
	yaml_anchor_end(d, anchor, r, *weight);
out:
	yaml_pairs_free(&pairs);
	return r;
}

static struct value *yaml_sequence(struct yaml_dec *d, yaml_event_t *ev, size_t depth,
				   size_t *weight)
{
	const char *tag = (const char *)ev->data.sequence_start.tag;
	const yaml_char_t *anchor = ev->data.sequence_start.anchor;
	struct buf items = BUF_INIT;
	struct value *r = NULL, *v;
	yaml_event_t iev;
	size_t w;

	if (yaml_open(d, ev, tag, YAML_TAG_SEQ, "sequence", anchor, weight))
		return NULL;
	for (;;) {
		if (yaml_next(d, &iev))
			goto out;
		if (iev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&iev);
			break;
		}
		v = yaml_node(d, &iev, depth + 1, &w);
		yaml_event_delete(&iev);
		if (!v)
			goto out;
		*weight += w;
		buf_push(&items, struct value *, v);
	}
	r = val_list_take((struct value **)(void *)items.data, buf_count(&items, struct value *));
	buf_release(&items);
	yaml_anchor_end(d, anchor, r, *weight);
out:
	for (size_t i = 0; i < buf_count(&items, struct value *); i++)
		val_unref(buf_at(&items, struct value *, i));
	buf_release(&items);
	return r;
}

/* The value of the node that event ev starts; *weight is how many values it expands to. */
static struct value *yaml_node(struct yaml_dec *d, yaml_event_t *ev, size_t depth,
			       size_t *weight)
{
	struct value *r = NULL;
	struct yaml_anchor *a;
	struct buf why = BUF_INIT;

	*weight = 1;
	if (depth > YAML_MAX_DEPTH) {
		yaml_fail_at(d, &ev->start_mark, "nesting deeper than %d levels", YAML_MAX_DEPTH);
		return NULL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		yaml_anchor_begin(d, ev->data.scalar.anchor);
		r = yaml_resolve((const char *)ev->data.scalar.tag,
				 (const char *)ev->data.scalar.value, ev->data.scalar.length,
				 ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
				 ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE, &why);
		if (!r)
			yaml_fail_at(d, &ev->start_mark, "%s", buf_cstr(&why));
		else
			yaml_anchor_end(d, ev->data.scalar.anchor, r, 1);
		break;
	case YAML_ALIAS_EVENT:
		a = yaml_anchor_find(d, (const char *)ev->data.alias.anchor);
		if (a && a->pending) {
			/* YAML allows a structure to contain itself; a value cannot */
			yaml_fail_at(d, &ev->start_mark,
				     "cannot refer to anchor \"%s\" from inside its own definition",
				     (const char *)ev->data.alias.anchor);
		} else if (!a || !a->val) {
			yaml_fail_at(d, &ev->start_mark, "reference to undefined anchor \"%s\"",
				     (const char *)ev->data.alias.anchor);
		} else {
			r = val_ref(a->val);
			*weight = a->weight;
		}
		break;
	case YAML_MAPPING_START_EVENT:
		r = yaml_mapping(d, ev, depth, weight);
		break;
	case YAML_SEQUENCE_START_EVENT:
		r = yaml_sequence(d, ev, depth, weight);
		break;
	case YAML_DOCUMENT_START_EVENT:
		yaml_fail_at(d, &ev->start_mark, "only a single document is allowed");
		break;
	case YAML_STREAM_END_EVENT:
		yaml_fail_at(d, &ev->start_mark, "expecting value but found end of stream");
		break;
	case YAML_MAPPING_END_EVENT:
		yaml_fail_at(d, &ev->start_mark, "expecting value but found end of mapping");
		break;
	case YAML_SEQUENCE_END_EVENT:
		yaml_fail_at(d, &ev->start_mark, "expecting value but found end of sequence");
		break;
	default:
		yaml_fail_at(d, &ev->start_mark, "unexpected parser event");
		break;
	}
	buf_release(&why);
	/* a value counts once, and an alias for every value it stands for */
	if (r && (d->weight += ev->type == YAML_ALIAS_EVENT ? *weight : 1) > YAML_MAX_WEIGHT) {
		yaml_fail_at(d, &ev->start_mark, "document contains excessive aliasing");
		val_unref(r);
		r = NULL;
	}
	return r;
}

/* go-cty-yaml's unmarshal: one document holding one node. */
static struct value *yaml_decode(struct yaml_dec *d, const char *s, size_t len)
{
	static const char *const what[] = {
		[YAML_NO_EVENT] = "no event", [YAML_STREAM_START_EVENT] = "stream start",
		[YAML_STREAM_END_EVENT] = "stream end", [YAML_DOCUMENT_START_EVENT] = "document start",
		[YAML_DOCUMENT_END_EVENT] = "document end", [YAML_ALIAS_EVENT] = "alias",
		[YAML_SCALAR_EVENT] = "scalar", [YAML_SEQUENCE_START_EVENT] = "sequence start",
		[YAML_SEQUENCE_END_EVENT] = "sequence end",
		[YAML_MAPPING_START_EVENT] = "mapping start", [YAML_MAPPING_END_EVENT] = "mapping end",
	};
	struct value *r = NULL, *v = NULL;
	yaml_event_t ev;
	size_t w;

	yaml_parser_set_input_string(&d->p, (const unsigned char *)s, len);
	if (yaml_next(d, &ev))
		return NULL;
	yaml_event_delete(&ev);
	if (yaml_next(d, &ev))
		return NULL;
	/* no document at all (blank, or comments): null, as go-cty-yaml 1.0.3 made it */
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		return val_null();
	}
	if (ev.type != YAML_DOCUMENT_START_EVENT) {
		yaml_fail_at(d, &ev.start_mark, "missing start of document");
		yaml_event_delete(&ev);
		return NULL;
	}
	yaml_event_delete(&ev);
	if (!(v = yaml_next_node(d, 0, &w)) || yaml_next(d, &ev))
		goto out;
	if (ev.type == YAML_DOCUMENT_START_EVENT)
		yaml_fail_at(d, &ev.start_mark, "only a single document is allowed");
	else if (ev.type != YAML_DOCUMENT_END_EVENT)
		yaml_fail_at(d, &ev.start_mark, "unexpected extra content (%s) after value",
			     what[ev.type]);
	yaml_event_delete(&ev);
	if (d->err.len || yaml_next(d, &ev))
		goto out;
	if (ev.type != YAML_STREAM_END_EVENT)
		yaml_fail_at(d, &ev.start_mark, "unexpected extra content after value");
	yaml_event_delete(&ev);
	if (d->err.len)
		goto out;
	r = v;
	v = NULL;
out:
	if (v)
		val_unref(v);
	return r;
}

static struct value *f_yamldecode(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "yamldecode" };
	struct yaml_dec d = { .anchors = BUF_INIT, .err = BUF_INIT };
	struct buf tmp = BUF_INIT;
	struct value *r = NULL;
	const char *s;
	size_t len;

	(void)n;
	if (args[0]->kind == VAL_NULL) {
		fail(&c, 0, "YAML source code cannot be null");
		goto out;
	}
	if (!(s = want_str(&c, args, 0, "the argument", &tmp, &len)))
		goto out;
	if (!yaml_parser_initialize(&d.p)) {
		fail(&c, 0, "failed to initialize YAML parser");
		goto out;
	}
	r = yaml_decode(&d, s, len);
	yaml_parser_delete(&d.p);
	if (!r) {
		/* the messages quote the input */
		if (val_is_sensitive(args[0]))
			fail(&c, 0, "the argument is not valid YAML: (sensitive value)");
		else
			fail(&c, 0, "%s", buf_cstr(&d.err));
	}
out:
	for (size_t i = 0; i < buf_count(&d.anchors, struct yaml_anchor); i++) {
		free(buf_at(&d.anchors, struct yaml_anchor, i).name);
		if (buf_at(&d.anchors, struct yaml_anchor, i).val)
			val_unref(buf_at(&d.anchors, struct yaml_anchor, i).val);
	}
	buf_release(&d.anchors);
	buf_release(&d.err);
	buf_release(&tmp);
	return r;
}

static int yaml_write(void *data, unsigned char *s, size_t n)
{
	buf_add(data, s, n);
	return 1;
}

static int yaml_emit_scalar(yaml_emitter_t *e, const char *s, size_t n, yaml_scalar_style_t st)
{
	yaml_event_t ev;

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n, 1, 1, st))
		return 0;
	return yaml_emitter_emit(e, &ev);
}

/* go-cty-yaml's marshalEmit: block mappings and sequences, every string double-quoted (keys
 * too) but for a multi-line one, a literal block. libyaml picks the rest: "|-", flow "{}" and
 * "[]" when empty, a key that cannot be simple behind "? ". */
static int yaml_emit(yaml_emitter_t *e, const struct value *v)
{
	yaml_event_t ev;
	struct buf num = BUF_INIT;
	int ok;

	switch (v->kind) {
	case VAL_BOOL:
		return yaml_emit_scalar(e, v->u.b ? "true" : "false", v->u.b ? 4 : 5,
					YAML_PLAIN_SCALAR_STYLE);
	case VAL_NUMBER:
		if (isinf(v->u.n))
			buf_addstr(&num, v->u.n > 0 ? "+.Inf" : "-.Inf");
		else
			num_text(v->u.n, &num);
		ok = yaml_emit_scalar(e, buf_cstr(&num), num.len, YAML_PLAIN_SCALAR_STYLE);
		buf_release(&num);
		return ok;
	case VAL_STRING:
		return yaml_emit_scalar(e, v->u.str.s, v->u.str.len,
					memchr(v->u.str.s, '\n', v->u.str.len) ?
					YAML_LITERAL_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	case VAL_LIST:
	case VAL_SET:
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
							  YAML_BLOCK_SEQUENCE_STYLE) ||
		    !yaml_emitter_emit(e, &ev))
			return 0;
		for (size_t i = 0; i < v->u.list.n; i++)
			if (!yaml_emit(e, v->u.list.items[i]))
				return 0;
		return yaml_sequence_end_event_initialize(&ev) && yaml_emitter_emit(e, &ev);
	case VAL_MAP:
		/* keys are kept sorted, the order cty iterates an object's attributes in */
		if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
							 YAML_BLOCK_MAPPING_STYLE) ||
		    !yaml_emitter_emit(e, &ev))
			return 0;
		for (size_t i = 0; i < v->u.map.n; i++) {
			const char *k = v->u.map.items[i].key;
			if (!yaml_emit_scalar(e, k, strlen(k),
					      strchr(k, '\n') ? YAML_LITERAL_SCALAR_STYLE :
					      YAML_DOUBLE_QUOTED_SCALAR_STYLE) ||
			    !yaml_emit(e, v->u.map.items[i].val))
				return 0;
		}
		return yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(e, &ev);
	default:
		return yaml_emit_scalar(e, "null", 4, YAML_PLAIN_SCALAR_STYLE);
	}
}

static struct value *f_yamlencode(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "yamlencode" };
	struct buf out = BUF_INIT;
	struct value *r = NULL;
	yaml_emitter_t e;
	yaml_event_t ev;
	int ok;

	(void)n;
	if (!yaml_emitter_initialize(&e)) {
		fail(&c, 0, "failed to initialize YAML emitter");
		goto out;
	}
	yaml_emitter_set_output(&e, yaml_write, &out);
	yaml_emitter_set_unicode(&e, 1);
	ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
	     yaml_emitter_emit(&e, &ev) &&
	     yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
	     yaml_emitter_emit(&e, &ev) && yaml_emit(&e, args[0]) &&
	     yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&e, &ev) &&
	     yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&e, &ev);
	if (!ok) {
		/* libyaml refuses a scalar event on text that is not UTF-8 before its emitter
		 * sees it, and says nothing */
		fail(&c, 0, "%s", e.problem ? e.problem : "invalid UTF-8");
	} else {
		/* go-cty-yaml's emitter (libyaml 0.1's) ends a document whose root is a plain
		 * scalar with "...", which libyaml 0.2 left off */
		if (args[0]->kind == VAL_NULL || args[0]->kind == VAL_BOOL ||
		    args[0]->kind == VAL_NUMBER)
			buf_addstr(&out, "...\n");
		r = str_value(&out);
	}
	yaml_emitter_delete(&e);
out:
	buf_release(&out);
	return r;
}

/* ---- CSV (Go's encoding/csv, as cty's csvdecode reads with it) ---- */

struct csv_reader {
	char *s;          /* a copy of the input: a line's \r\n becomes \n in place */
	size_t n, pos;
	long num_line;    /* lines read, as Go counts them (the end of the input is one) */
};

/* Go's readLine: the next line with its \n; \r\n ends a line as \n does, and a \r at the very
 * end is dropped. Returns 0 at the end of the input. */
static int csv_line(struct csv_reader *r, char **line, size_t *len)
{
	char *nl = memchr(r->s + r->pos, '\n', r->n - r->pos);
	size_t end = nl ? (size_t)(nl - r->s) + 1 : r->n;

	*line = r->s + r->pos;
	*len = end - r->pos;
	r->pos = end;
	r->num_line++;
	if (!*len)
		return 0;
	if (!nl && (*line)[*len - 1] == '\r')
		(*len)--;
	if (*len >= 2 && (*line)[*len - 2] == '\r' && (*line)[*len - 1] == '\n') {
		(*line)[*len - 2] = '\n';
		(*len)--;
	}
	return 1;
}

static size_t nl_len(const char *line, size_t len)
{
	return len && line[len - 1] == '\n';
}

/* Go's readRecord: the fields of the next record, each a NUL-terminated string in *text with
 * its offset in *starts. Returns 1 with *at_line the line the record starts on, 0 at the end,
 * or -1 with *at_line the line Go reports and *err Go's words of the error. */
static int csv_record(struct csv_reader *r, struct buf *text, struct buf *starts, long *at_line,
		      const char **err)
{
	char *line;
	size_t len;
	int got;
	long pos_line;

	buf_reset(text);
	buf_reset(starts);
	while ((got = csv_line(r, &line, &len)) && len == nl_len(line, len))
		;   /* empty lines are skipped */
	if (!got)
		return 0;
	pos_line = *at_line = r->num_line;
	for (;;) {
		size_t start = text->len;
		buf_add(starts, &start, sizeof start);
		if (!len || line[0] != '"') {
			char *comma = memchr(line, ',', len);
			size_t flen = comma ? (size_t)(comma - line) : len - nl_len(line, len);
			if (memchr(line, '"', flen)) {
				*at_line = r->num_line;
				*err = "bare \" in non-quoted-field";
				return -1;
			}
			buf_add(text, line, flen);
			buf_addch(text, '\0');
			if (!comma)
				return 1;
			line += flen + 1;
			len -= flen + 1;
			continue;
		}
		line++;
		len--;
		for (;;) {
			char *q = memchr(line, '"', len);
			if (q) {
				size_t k = (size_t)(q - line);
				buf_add(text, line, k);
				line += k + 1;
				len -= k + 1;
				if (len && line[0] == '"') {
					buf_addch(text, '"');
					line++;
					len--;
				} else if (len && line[0] == ',') {
					line++;
					len--;
					break;
				} else if (nl_len(line, len) == len) {
					buf_addch(text, '\0');
					return 1;
				} else {
					*at_line = r->num_line;
					*err = "extraneous or missing \" in quoted-field";
					return -1;
				}
			} else if (len) {
				/* the field goes on over the next line */
				buf_add(text, line, len);
				if (csv_line(r, &line, &len) && len)
					pos_line++;
			} else {
				*at_line = pos_line;
				*err = "extraneous or missing \" in quoted-field";
				return -1;
			}
		}
		buf_addch(text, '\0');
	}
}

/* csvdecode(string): a list with a map for each record after the first, the header, whose
 * fields are the keys. Every record must have as many fields as the header. */
static struct value *f_csvdecode(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "csvdecode" };
	struct buf tmp = BUF_INIT, head = BUF_INIT, hstarts = BUF_INIT, text = BUF_INIT,
		   starts = BUF_INIT, rows = BUF_INIT, q = BUF_INIT;
	struct csv_reader rd = { 0 };
	struct value *r = NULL;
	const char *s, *err;
	size_t len, nh;
	long line;
	int got;

	(void)n;
	if (!(s = want_str(&c, args, 0, "the string", &tmp, &len)))
		goto out;
	rd.s = xmalloc(len + 1);
	memcpy(rd.s, s, len);
	rd.n = len;
	if ((got = csv_record(&rd, &head, &hstarts, &line, &err)) <= 0) {
		if (!got)
			fail(&c, 0, "missing header line; the first line must name the columns");
		else
			fail(&c, 0, "CSV parse error on line %ld: %s", line, err);
		goto out;
	}
	nh = buf_count(&hstarts, size_t);
	for (size_t i = 0; i < nh; i++) {
		const char *name = head.data + buf_at(&hstarts, size_t, i);
		size_t end = i + 1 < nh ? buf_at(&hstarts, size_t, i + 1) - 1 : head.len - 1;
		/* a key is a C string */
		if (strlen(name) != end - buf_at(&hstarts, size_t, i)) {
			fail(&c, 0, "a column name must not contain a NUL character");
			goto out;
		}
		for (size_t k = 0; k < i; k++)
			if (!strcmp(name, head.data + buf_at(&hstarts, size_t, k))) {
				quoted_from(args[0], name, strlen(name), &q);
				fail(&c, 0, "duplicate column name %s; each column must have its own name",
				     q.data);
				goto out;
			}
	}
	while ((got = csv_record(&rd, &text, &starts, &line, &err)) > 0) {
		struct val_pair *pairs;
		struct value *row;
		if (buf_count(&starts, size_t) != nh) {
			/* Go reports the line the record starts on */
			fail(&c, 0, "CSV parse error on line %ld: wrong number of fields; every record "
			     "must have as many fields as the header (%zu)", line, nh);
			goto out;
		}
		pairs = xmalloc(nh * sizeof *pairs);
		for (size_t i = 0; i < nh; i++) {
			size_t at = buf_at(&starts, size_t, i);
			size_t end = i + 1 < nh ? buf_at(&starts, size_t, i + 1) - 1 : text.len - 1;
			pairs[i].key = xstrdup(head.data + buf_at(&hstarts, size_t, i));
			pairs[i].val = val_string(text.data + at, end - at);
		}
		row = val_map_take(pairs, nh);
		free(pairs);
		buf_add(&rows, &row, sizeof row);
	}
	if (got < 0) {
		fail(&c, 0, "CSV parse error on line %ld: %s", line, err);
		goto out;
	}
	r = list_from(&rows);
out:
	unref_all(&rows);
	free(rd.s);
	buf_release(&tmp);
	buf_release(&head);
	buf_release(&hstarts);
	buf_release(&text);
	buf_release(&starts);
	buf_release(&q);
	return r;
}

/* ---- base64 and hashes ---- */

/* Standard, padded base64 of data (Go's base64.StdEncoding), or NULL when it is too long for
 * OpenSSL's encoder. */
static struct value *b64_value(const void *data, size_t len)
{
	unsigned char *enc;
	struct value *r;

	if (len > (size_t)INT_MAX / 4 * 3 - 3)
		return NULL;
	enc = xmalloc(len / 3 * 4 + 5);
	r = val_string((const char *)enc,
		       (size_t)EVP_EncodeBlock(enc, (const unsigned char *)data, (int)len));
	free(enc);
	return r;
}

static struct value *f_base64encode(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "base64encode" };
	struct buf tmp = BUF_INIT;
	const char *s;
	size_t len;
	struct value *r = NULL;

	(void)n;
	if ((s = want_str(&c, args, 0, "the argument", &tmp, &len)) && !(r = b64_value(s, len)))
		fail(&c, 0, "the string is too long to encode");
	buf_release(&tmp);
	return r;
}

static int b64val(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* Go's base64.StdEncoding.DecodeString: padding required, CR and LF skipped anywhere, any
 * other byte outside the alphabet an error at its offset. (OpenSSL's decoder is looser about
 * padding and spaces, so it would accept input that Terraform rejects.) Returns the offset
 * of the first bad byte, or -1 when the whole input decoded. */
static void b64_skip_newlines(const char *s, size_t n, size_t *i)
{
	while (*i < n && (s[*i] == '\r' || s[*i] == '\n'))
		(*i)++;
}

static long b64_decode(const char *s, size_t n, struct buf *out)
{
	size_t i = 0;

	for (;;) {
		int q[4] = { 0, 0, 0, 0 };
		for (int j = 0; j < 4; j++) {
			int ch;
			b64_skip_newlines(s, n, &i);
			if (i == n)
				return j ? (long)(i - (size_t)j) : -1;
			ch = (unsigned char)s[i++];
			if (ch == '=') {
				/* padding: "xx==" or "xxx=", and nothing after it */
				if (j < 2)
					return (long)(i - 1);
				if (j == 2) {
					b64_skip_newlines(s, n, &i);
					if (i == n || s[i] != '=')
						return (long)i;
					i++;
				}
				b64_skip_newlines(s, n, &i);
				if (i < n)
					return (long)i;
				buf_addch(out, (q[0] << 2) | (q[1] >> 4));
				if (j == 3)
					buf_addch(out, ((q[1] & 15) << 4) | (q[2] >> 2));
				return -1;
			}
			if ((q[j] = b64val((unsigned char)ch)) < 0)
				return (long)(i - 1);
		}
		buf_addch(out, (q[0] << 2) | (q[1] >> 4));
		buf_addch(out, ((q[1] & 15) << 4) | (q[2] >> 2));
		buf_addch(out, ((q[2] & 3) << 6) | q[3]);
	}
}

static struct value *f_base64decode(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "base64decode" };
	struct buf tmp = BUF_INIT, out = BUF_INIT;
	const char *s;
	size_t len;
	long bad;

	(void)n;
	if (!(s = want_str(&c, args, 0, "the argument", &tmp, &len)))
		goto fail;
	bad = b64_decode(s, len, &out);
	if (bad >= 0) {
		/* where a secret goes wrong tells something about it */
		if (val_is_sensitive(args[0]))
			fail(&c, 0, "the argument is not valid base64: (sensitive value)");
		else
			fail(&c, 0, "the argument is not valid base64: illegal base64 data at "
			     "input byte %ld", bad);
		goto fail;
	}
	if (!utf8_valid(out.data ? out.data : "", out.len)) {
		fail(&c, 0, "the result of decoding the provided string is not valid UTF-8");
		goto fail;
	}
	buf_release(&tmp);
	return str_value(&out);
fail:
	buf_release(&tmp);
	buf_release(&out);
	return NULL;
}

/* A digest of data: in hex (md5, sha256, ...), or with b64 in base64 (base64sha256, ...). */
static struct value *digest_value(const EVP_MD *md, const void *data, size_t len, int b64)
{
	unsigned char sum[EVP_MAX_MD_SIZE];
	unsigned int sumlen = 0;
	struct buf out = BUF_INIT;

	EVP_Digest(data, len, sum, &sumlen, md, NULL);
	if (b64)
		return b64_value(sum, sumlen);
	for (unsigned int i = 0; i < sumlen; i++)
		buf_printf(&out, "%02x", sum[i]);
	return str_value(&out);
}

/* The hash functions: one string, one digest, in hex or base64. */
static struct value *hash_string(struct func_call *fc, struct value **args, const char *fn,
				 const EVP_MD *md, int b64)
{
	struct fctx c = { fc, fn };
	struct buf tmp = BUF_INIT;
	const char *s;
	size_t len;
	struct value *r = NULL;

	if ((s = want_str(&c, args, 0, "the argument", &tmp, &len)))
		r = digest_value(md, s, len, b64);
	buf_release(&tmp);
	return r;
}

/* The table's entry for a hash of a string: md5, sha1, ..., base64sha512. */
#define HASH_STRING_FN(name, md, b64)							\
	static struct value *f_##name(struct func_call *fc, struct value **args, size_t n) \
	{										\
		(void)n;								\
		return hash_string(fc, args, #name, md(), b64);				\
	}

HASH_STRING_FN(md5, EVP_md5, 0)
HASH_STRING_FN(sha1, EVP_sha1, 0)
HASH_STRING_FN(sha256, EVP_sha256, 0)
HASH_STRING_FN(sha512, EVP_sha512, 0)
HASH_STRING_FN(base64sha256, EVP_sha256, 1)
HASH_STRING_FN(base64sha512, EVP_sha512, 1)

/* urlencode: Go's url.QueryEscape, which Terraform's is: letters, digits and "-_.~" stay,
 * a space becomes "+", every other byte %XX. */
static struct value *f_urlencode(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "urlencode" };
	struct buf tmp = BUF_INIT, out = BUF_INIT;
	const char *s;
	size_t len;

	(void)n;
	if (!(s = want_str(&c, args, 0, "the argument", &tmp, &len))) {
		buf_release(&tmp);
		return NULL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch >= '0' && ch <= '9') || ((ch | 32) >= 'a' && (ch | 32) <= 'z') ||
		    (ch && strchr("-_.~", ch)))
			buf_addch(&out, ch);
		else if (ch == ' ')
			buf_addch(&out, '+');
		else
			buf_printf(&out, "%%%02X", ch);
	}
	buf_release(&tmp);
	return str_value(&out);
}

/* ---- format ----
 * cty's format: %% %v %#v %t %b %d %o %x %X %e %E %f %g %G %s %q, flags "0#-+ ", width,
 * precision, and [n] to pick an argument. Numbers go through Go's big.Int and big.Float
 * formatting, which this reproduces; strings are measured in characters. */

struct verb {
	size_t off;
	const char *raw;
	size_t rawlen;
	long argnum;
	int mode;
	int zero, sharp, plus, minus, space;
	int has_width, has_prec;
	long width, prec;
	int secret;   /* the format string is sensitive: messages do not quote it */
};

/* formatPadWidth: pads to the width in characters, with zeros if asked, on the right for
 * '-' (cty applies both flags as given, so "%-05s" pads with zeros on the right). */
static void pad_width(const struct verb *vb, const char *s, size_t len, struct buf *out)
{
	size_t have;

	if (!vb->has_width) {
		buf_add(out, s, len);
		return;
	}
	have = gc_count(s, len);
	if (have >= (size_t)vb->width) {
		buf_add(out, s, len);
		return;
	}
	if (vb->minus) {
		buf_add(out, s, len);
		buf_addchars(out, vb->zero ? '0' : ' ', (size_t)vb->width - have);
	} else {
		buf_addchars(out, vb->zero ? '0' : ' ', (size_t)vb->width - have);
		buf_add(out, s, len);
	}
}

/* The digits of the integer |v| in base 2, 8, 10 or 16. */
static void int_digits(double v, int base, int upper, struct buf *out)
{
	char bits[1100];
	size_t nb = 0;
	int e;
	double m;
	uint64_t mant;

	v = fabs(v);
	if (base == 10) {
		buf_printf(out, "%.0f", v);
		return;
	}
	if (v == 0) {
		buf_addch(out, '0');
		return;
	}
	m = frexp(v, &e);                 /* v = m * 2^e, 0.5 <= m < 1 */
	mant = (uint64_t)ldexp(m, 53);
	e -= 53;
	if (e < 0) {
		mant >>= -e;                  /* exact: v is whole */
		e = 0;
	}
	for (int k = 63; k >= 0; k--)
		if (nb || (mant >> k) & 1)
			bits[nb++] = (char)('0' + ((mant >> k) & 1));
	while (e-- > 0 && nb < sizeof bits)
		bits[nb++] = '0';
	if (base == 2) {
		buf_add(out, bits, nb);
		return;
	}
	{
		int step = base == 8 ? 3 : 4;
		size_t lead = nb % (size_t)step, i = 0;
		int started = 0;
		const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
		while (i < nb) {
			size_t take = i == 0 && lead ? lead : (size_t)step;
			int d = 0;
			for (size_t k = 0; k < take; k++)
				d = d * 2 + (bits[i + k] - '0');
			i += take;
			if (d || started) {
				buf_addch(out, dig[d]);
				started = 1;
			}
		}
	}
}

/* big.Int's Format for %b %d %o %x %X. */
static void format_int(const struct verb *vb, double v, struct buf *out)
{
	struct buf digits = BUF_INIT;
	const char *sign = "", *prefix = "";
	size_t left = 0, zeros = 0, right = 0, length;
	int base = vb->mode == 'b' ? 2 : vb->mode == 'o' ? 8 : vb->mode == 'd' ? 10 : 16;
	int zero = vb->zero && !vb->minus;   /* Go's fmt drops '0' when '-' is given */

	int_digits(v, base, vb->mode == 'X', &digits);
	if (v < 0)
		sign = "-";
	else if (vb->plus)
		sign = "+";
	else if (vb->space)
		sign = " ";
	if (vb->sharp)
		prefix = vb->mode == 'b' ? "0b" : vb->mode == 'o' ? "0" :
			 vb->mode == 'x' ? "0x" : vb->mode == 'X' ? "0X" : "";
	if (vb->has_prec) {
		if (digits.len < (size_t)vb->prec) {
			zeros = (size_t)vb->prec - digits.len;
		} else if (digits.len == 1 && digits.data[0] == '0' && vb->prec == 0) {
			buf_release(&digits);
			return;   /* "%.0d" of zero prints nothing at all */
		}
	}
	length = strlen(sign) + strlen(prefix) + zeros + digits.len;
	if (vb->has_width && length < (size_t)vb->width) {
		size_t d = (size_t)vb->width - length;
		if (vb->minus)
			right = d;
		else if (zero && !vb->has_prec)
			zeros = d;
		else
			left = d;
	}
	buf_addchars(out, ' ', left);
	buf_addstr(out, sign);
	buf_addstr(out, prefix);
	buf_addchars(out, '0', zeros);
	buf_add(out, digits.data, digits.len);
	buf_addchars(out, ' ', right);
	buf_release(&digits);
}

/* big.Float's Format for %e %E %f %g %G. */
static void format_float(const struct verb *vb, double v, struct buf *out)
{
	struct buf num = BUF_INIT;
	const char *body, *sign = "";
	size_t padding = 0, blen;
	int prec = vb->has_prec ? (int)vb->prec : 6;
	int zero = vb->zero && !vb->minus;

	if ((vb->mode == 'g' || vb->mode == 'G') && !vb->has_prec)
		prec = -1;
	val_format_float(v, vb->mode, prec, &num);
	body = buf_cstr(&num);
	if (body[0] == '-') {
		sign = "-";
		body++;
	} else if (body[0] == '+') {
		sign = vb->space ? " " : "+";
		body++;
	} else if (vb->plus) {
		sign = "+";
	} else if (vb->space) {
		sign = " ";
	}
	blen = strlen(body);
	if (vb->has_width && (size_t)vb->width > strlen(sign) + blen)
		padding = (size_t)vb->width - strlen(sign) - blen;
	if (zero && !isinf(v)) {
		buf_addstr(out, sign);
		buf_addchars(out, '0', padding);
		buf_add(out, body, blen);
	} else if (vb->minus) {
		buf_addstr(out, sign);
		buf_add(out, body, blen);
		buf_addchars(out, ' ', padding);
	} else {
		buf_addchars(out, ' ', padding);
		buf_addstr(out, sign);
		buf_add(out, body, blen);
	}
	buf_release(&num);
}

/* A verb as Go's %q shows it in messages. */
static const char *verb_text(const struct verb *vb)
{
	static _Thread_local char s[64];
	if (vb->secret)
		return "(sensitive value)";
	snprintf(s, sizeof s, "\"%.*s\"", vb->rawlen > 40 ? 40 : (int)vb->rawlen, vb->raw);
	return s;
}

static int format_one(const struct fctx *c, struct verb *vb, struct value **vals, size_t nvals,
		      struct buf *out)
{
	struct value *arg;
	struct buf why = BUF_INIT;

	if ((size_t)vb->argnum > nvals) {
		fail(c, 0, "not enough arguments for %s at %zu: need index %ld but have %zu total",
		     verb_text(vb), vb->off, vb->argnum, nvals);
		return -1;
	}
	arg = vals[vb->argnum - 1];
	if (vb->mode != 'v' && arg->kind == VAL_NULL) {
		fail(c, (int)vb->argnum, "unsupported value for %s at %zu: null value cannot be "
		     "formatted", verb_text(vb), vb->off);
		return -1;
	}
	switch (vb->mode) {
	case 'v': {
		struct buf s = BUF_INIT;
		if (!vb->sharp && arg->kind == VAL_STRING)
			buf_add(&s, arg->u.str.s, arg->u.str.len);
		else if (!vb->sharp && arg->kind == VAL_NUMBER)
			val_format_float(arg->u.n, 'g', -1, &s);
		else
			json_encode(arg, &s);
		pad_width(vb, s.data ? s.data : "", s.len, out);
		buf_release(&s);
		return 0;
	}
	case 't': {
		static const struct val_type tbool = { VT_BOOL, 0, NULL, NULL };
		struct value *b = val_convert(arg, &tbool, &why);
		if (!b || b->kind != VAL_BOOL) {
			fail(c, (int)vb->argnum, "unsupported value for %s at %zu: %s",
			     verb_text(vb), vb->off, arg->kind == VAL_STRING && why.len ?
			     why.data : "bool required");
			val_unref(b);
			buf_release(&why);
			return -1;
		}
		buf_addstr(out, b->u.b ? "true" : "false");
		val_unref(b);
		return 0;
	}
	case 'b': case 'd': case 'o': case 'x': case 'X':
	case 'e': case 'E': case 'f': case 'g': case 'G': {
		double d;
		if (arg->kind == VAL_NUMBER) {
			d = arg->u.n;
		} else if (arg->kind != VAL_STRING || val_parse_number(arg->u.str.s, arg->u.str.len, &d)) {
			fail(c, (int)vb->argnum, "unsupported value for %s at %zu: a number is required",
			     verb_text(vb), vb->off);
			return -1;
		}
		if (strchr("bdoxX", vb->mode)) {
			if (!is_whole(d)) {
				fail(c, (int)vb->argnum, "unsupported value for %s at %zu: an integer "
				     "is required", verb_text(vb), vb->off);
				return -1;
			}
			format_int(vb, d, out);
		} else {
			format_float(vb, d, out);
		}
		return 0;
	}
	case 's': case 'q': {
		struct buf s = BUF_INIT;
		size_t len;
		if (arg->kind == VAL_STRING)
			buf_add(&s, arg->u.str.s, arg->u.str.len);
		else if (arg->kind == VAL_NUMBER)
			num_text(arg->u.n, &s);
		else if (arg->kind == VAL_BOOL)
			buf_addstr(&s, arg->u.b ? "true" : "false");
		else {
			fail(c, (int)vb->argnum, "unsupported value for %s at %zu: string required",
			     verb_text(vb), vb->off);
			return -1;
		}
		len = s.len;
		if (vb->has_prec && vb->prec > 0) {
			size_t i = 0;
			for (long k = 0; k < vb->prec && i < s.len; k++)
				i = gc_next(s.data, s.len, i);
			len = i;
		}
		if (vb->mode == 's') {
			pad_width(vb, s.data ? s.data : "", len, out);
		} else {
			struct buf q = BUF_INIT;
			json_quote(s.data ? s.data : "", len, &q);
			pad_width(vb, q.data, q.len, out);
			buf_release(&q);
		}
		buf_release(&s);
		return 0;
	}
	default:
		fail(c, 0, "unsupported format verb '%c' in %s at offset %zu", vb->mode,
		     verb_text(vb), vb->off);
		return -1;
	}
}

/* Reads a decimal number for a width, precision or index, refusing absurd sizes. */
static long verb_num(const char *f, size_t len, size_t *i)
{
	long v = 0;

	while (*i < len && f[*i] >= '0' && f[*i] <= '9') {
		if (v < 10000000)
			v = v * 10 + (f[*i] - '0');
		(*i)++;
	}
	return v;
}

/* Formats f (from argument 0, sensitive when secret) with vals, which are arguments 1 to
 * nvals, appending to out: format() once, formatlist() once per element. */
static int format_text(const struct fctx *c, const char *f, size_t len, int secret,
		       struct value **vals, size_t nvals, struct buf *out)
{
	size_t i = 0;
	long next = 1, highest = 0;

	while (i < len) {
		struct verb vb;
		int ch;

		if (f[i] != '%') {
			buf_addch(out, f[i++]);
			continue;
		}
		if (i + 1 < len && f[i + 1] == '%') {
			buf_addch(out, '%');
			i += 2;
			continue;
		}
		memset(&vb, 0, sizeof vb);
		vb.off = i;
		vb.argnum = next;
		vb.secret = secret;
		i++;
		for (; i < len; i++) {
			if (f[i] == '0') vb.zero = 1;
			else if (f[i] == '#') vb.sharp = 1;
			else if (f[i] == '-') vb.minus = 1;
			else if (f[i] == '+') vb.plus = 1;
			else if (f[i] == ' ') vb.space = 1;
			else break;
		}
		if (i < len && f[i] == '[') {
			i++;
			if (i >= len)
				goto bad_end;
			if (f[i] < '1' || f[i] > '9')
				goto bad_char;
			vb.argnum = verb_num(f, len, &i);
			if (i >= len)
				goto bad_end;
			if (f[i] != ']')
				goto bad_char;
			i++;
		}
		if (i < len && f[i] >= '1' && f[i] <= '9') {
			vb.has_width = 1;
			vb.width = verb_num(f, len, &i);
		}
		if (i < len && f[i] == '.') {
			i++;
			vb.has_prec = 1;
			vb.prec = verb_num(f, len, &i);
		}
		if (i >= len)
			goto bad_end;
		ch = (unsigned char)f[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
			goto bad_char;
		if (vb.width >= 10000000 || vb.prec >= 10000000) {
			fail(c, 0, "the width or precision at offset %zu is too large", vb.off);
			return -1;
		}
		vb.mode = ch;
		i++;
		vb.raw = f + vb.off;
		vb.rawlen = i - vb.off;
		if (vb.argnum > highest)
			highest = vb.argnum;
		if (format_one(c, &vb, vals, nvals, out))
			return -1;
		next = vb.argnum + 1;
		continue;
bad_char: {
			size_t w;
			int32_t r = utf8_decode((const unsigned char *)f + i, len - i, &w);
			struct buf ch_text = BUF_INIT;
			if (vb.secret) {
				buf_addstr(&ch_text, "(sensitive value)");
			} else {
				buf_addch(&ch_text, '\'');
				utf8_encode(r < 0 ? 0xFFFD : (uint32_t)r, &ch_text);
				buf_addch(&ch_text, '\'');
			}
			fail(c, 0, "unrecognized format character %s at offset %zu",
			     buf_cstr(&ch_text), i);
			buf_release(&ch_text);
			return -1;
		}
bad_end:
		fail(c, 0, "invalid format string starting at offset %zu", len);
		return -1;
	}
	if ((size_t)highest < nvals) {
		if (!highest)
			fail(c, 1, "too many arguments; no verbs in format string");
		else
			fail(c, (int)highest + 1, "too many arguments; only %ld used by format string",
			     highest);
		return -1;
	}
	return 0;
}

static struct value *f_format(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "format" };
	struct buf t0 = BUF_INIT, out = BUF_INIT;
	const char *f;
	size_t len;

	if (!(f = want_str(&c, args, 0, "the format", &t0, &len)) ||
	    format_text(&c, f, len, val_is_sensitive(args[0]), args + 1, n - 1, &out)) {
		buf_release(&t0);
		buf_release(&out);
		return NULL;
	}
	buf_release(&t0);
	return str_value(&out);
}


/* formatlist(spec, values...): format once per element of the lists among the values (all of
 * one length), the other values the same each time. */
static struct value *f_formatlist(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "formatlist" }, each = c;
	struct buf t0 = BUF_INIT, items = BUF_INIT, fn = BUF_INIT;
	struct value **vals = xcalloc(n, sizeof *vals);
	const char *f;
	size_t len, rounds = 1, first = 0;

	if (!(f = want_str(&c, args, 0, "the format", &t0, &len)))
		goto fail;
	for (size_t i = 1; i < n; i++) {
		size_t m;
		if (args[i]->kind != VAL_LIST && args[i]->kind != VAL_SET)
			continue;
		m = args[i]->u.list.n;
		if (!first) {
			first = i;
			rounds = m;
		} else if (m != rounds) {
			fail(&c, (int)i, "argument %zu has length %zu, which is inconsistent with "
			     "argument %zu of length %zu", i, m, first, rounds);
			goto fail;
		}
	}
	for (size_t k = 0; k < rounds; k++) {
		struct buf out = BUF_INIT;
		for (size_t i = 1; i < n; i++)
			vals[i - 1] = args[i]->kind == VAL_LIST || args[i]->kind == VAL_SET ?
				args[i]->u.list.items[k] : args[i];
		/* an error names the round, as Terraform's does: "formatlist: error on format
		 * iteration 1: ..." (not with no values at all, which is format() itself) */
		if (n > 1) {
			buf_reset(&fn);
			buf_printf(&fn, "formatlist: error on format iteration %zu", k);
			each.fn = buf_cstr(&fn);
		}
		if (format_text(&each, f, len, val_is_sensitive(args[0]), vals, n - 1, &out)) {
			buf_release(&out);
			goto fail;
		}
		buf_push(&items, struct value *, str_value(&out));
	}
	free(vals);
	buf_release(&t0);
	buf_release(&fn);
	return list_from(&items);
fail:
	free(vals);
	unref_all(&items);
	buf_release(&t0);
	buf_release(&fn);
	return NULL;
}

/* ---- numbers ---- */

static struct value *f_abs(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "abs" };
	double d;

	(void)n;
	if (want_number(&c, args, 0, "the argument", &d))
		return NULL;
	return val_number(fabs(d));
}

static struct value *round_fn(struct func_call *fc, struct value **args, const char *fn,
			      double (*op)(double))
{
	struct fctx c = { fc, fn };
	double d;

	if (want_number(&c, args, 0, "the argument", &d))
		return NULL;
	return val_number(isinf(d) ? d : op(d));
}

static struct value *f_ceil(struct func_call *fc, struct value **args, size_t n)
{
	(void)n;
	return round_fn(fc, args, "ceil", ceil_d);
}

static struct value *f_floor(struct func_call *fc, struct value **args, size_t n)
{
	(void)n;
	return round_fn(fc, args, "floor", floor_d);
}

static struct value *min_max(struct func_call *fc, struct value **args, size_t n, int max)
{
	struct fctx c = { fc, max ? "max" : "min" };
	double best = max ? -INFINITY : INFINITY, d;

	if (!n)
		return fail(&c, -1, "must pass at least one number");
	for (size_t i = 0; i < n; i++) {
		if (want_number(&c, args, (int)i, "each argument", &d))
			return NULL;
		if (max ? d > best : d < best)
			best = d;
	}
	return val_number(best);
}

static struct value *f_min(struct func_call *fc, struct value **args, size_t n)
{
	return min_max(fc, args, n, 0);
}

static struct value *f_max(struct func_call *fc, struct value **args, size_t n)
{
	return min_max(fc, args, n, 1);
}

/* Digits after the point in the shortest form of d, or -1 when there are too many to matter. */
static int frac_digits(double d)
{
	struct buf text = BUF_INIT;
	const char *dot;
	int n;

	if (!isfinite(d))
		return -1;
	val_format_float(d, 'f', -1, &text);
	dot = strchr(buf_cstr(&text), '.');
	n = dot ? (int)(text.len - (size_t)(dot - text.data) - 1) : 0;
	buf_release(&text);
	return n > 15 ? -1 : n;
}

/* The decimal places a result needs that has places so far and now also d: -1 (do not
 * round) once either has too many to matter. */
static int more_places(int places, double d)
{
	int p = frac_digits(d);

	return places < 0 || p < 0 ? -1 : p > places ? p : places;
}

/* v rounded to places decimals (places < 0: v as it is). Terraform adds decimals exactly,
 * so that 0.1 + 0.2 is 0.3; the double sum, rounded to the places of its terms, is the same
 * number. */
static double round_places(double v, int places)
{
	char tmp[400];

	if (places < 0 || !isfinite(v))
		return v;
	snprintf(tmp, sizeof tmp, "%.*f", places, v);
	return strtod(tmp, NULL);
}

/* range([start,] limit[, step]): Terraform adds step with exact decimal arithmetic, so
 * range(0, 1, 0.1) gives 0.3 and not 0.30000000000000004; stk computes start + i * step and
 * rounds it to the decimal places of start and step, which gives the same numbers. */
static struct value *f_range(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "range" };
	double a[3], start, end, step;
	struct buf items = BUF_INIT;
	int down, places;

	if (n < 1 || n > 3)
		return fail(&c, -1, "must have one, two, or three arguments");
	for (size_t i = 0; i < n; i++)
		if (want_number(&c, args, (int)i, i == 0 && n > 1 ? "start" : i == 2 ? "step" :
				"limit", &a[i]))
			return NULL;
	if (n == 1) {
		start = 0, end = a[0], step = a[0] < 0 ? -1 : 1;
	} else if (n == 2) {
		start = a[0], end = a[1], step = a[1] < a[0] ? -1 : 1;
	} else {
		start = a[0], end = a[1], step = a[2];
	}
	if (step == 0)
		return fail(&c, 2, "step must not be zero");
	down = step < 0;
	if (down && end > start)
		return fail(&c, 1, "end must be less than start when step is negative");
	if (!down && end < start)
		return fail(&c, 1, "end must be greater than start when step is positive");
	places = more_places(frac_digits(start), step);
	for (size_t i = 0;; i++) {
		double v = i ? round_places(start + (double)i * step, places) : start;
		if (down ? v <= end : v >= end)
			break;
		if (i >= 1024) {
			unref_all(&items);
			return fail(&c, -1, "more than 1024 values were generated; either decrease "
				    "the difference between start and end or use a smaller step");
		}
		buf_push(&items, struct value *, val_number(v));
	}
	return list_from(&items);
}

/* Go's math.Log (FreeBSD's e_log.c), which Terraform's log() uses: libm's log is rounded
 * differently, so that log(27, 3) would be 3 where Terraform says 3.0000000000000004. */
static double go_log(double x)
{
	const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
	const double l1 = 6.666666666666735130e-01, l2 = 3.999999999940941908e-01;
	const double l3 = 2.857142874366239149e-01, l4 = 2.222219843214978396e-01;
	const double l5 = 1.818357216161805012e-01, l6 = 1.531383769920937332e-01;
	const double l7 = 1.479819860511658591e-01;
	double f1, f, k, s, s2, s4, t1, t2, hfsq;
	int ki;

	if (isnan(x) || (isinf(x) && x > 0))
		return x;
	if (x < 0)
		return NAN;
	if (x == 0)
		return -INFINITY;
	f1 = frexp(x, &ki);
	if (f1 < M_SQRT2 / 2) {
		f1 *= 2;
		ki--;
	}
	f = f1 - 1;
	k = ki;
	s = f / (2 + f);
	s2 = s * s;
	s4 = s2 * s2;
	t1 = s2 * (l1 + s4 * (l3 + s4 * (l5 + s4 * l7)));
	t2 = s4 * (l2 + s4 * (l4 + s4 * l6));
	hfsq = 0.5 * f * f;
	return k * ln2_hi - ((hfsq - (s * (hfsq + t1 + t2) + k * ln2_lo)) - f);
}

static int go_odd_int(double y)
{
	double whole;

	if (fabs(y) >= 9007199254740992.0)
		return 0;
	return modf(y, &whole) == 0 && ((int64_t)whole & 1);
}

/* Go's math.Pow, for the same reason: a whole power by repeated squaring, which libm's pow
 * (correctly rounded) does not give bit for bit. */
static double go_pow(double x, double y)
{
	double yi, yf, a1 = 1, x1;
	int ae = 0, xe;

	if (y == 0 || x == 1)
		return 1;
	if (y == 1)
		return x;
	if (isnan(x) || isnan(y))
		return NAN;
	if (x == 0) {
		if (y < 0)
			return go_odd_int(y) ? copysign(INFINITY, x) : INFINITY;
		return go_odd_int(y) ? x : 0;
	}
	if (isinf(y)) {
		if (x == -1)
			return 1;
		return (fabs(x) < 1) == (y > 0) ? 0 : INFINITY;
	}
	if (isinf(x)) {
		if (x < 0)
			return go_pow(1 / x, -y);
		return y < 0 ? 0 : INFINITY;
	}
	if (y == 0.5)
		return sqrt(x);
	if (y == -0.5)
		return 1 / sqrt(x);
	yf = modf(fabs(y), &yi);
	if (yf != 0 && x < 0)
		return NAN;
	if (yi >= 9223372036854775808.0) {
		if (x == -1)
			return 1;
		return (fabs(x) < 1) == (y > 0) ? 0 : INFINITY;
	}
	if (yf != 0) {
		if (yf > 0.5) {
			yf--;
			yi++;
		}
		a1 = exp(yf * go_log(x));
	}
	x1 = frexp(x, &xe);
	for (int64_t i = (int64_t)yi; i; i >>= 1) {
		if (xe < -(1 << 12) || (1 << 12) < xe) {
			ae += xe;
			break;
		}
		if (i & 1) {
			a1 *= x1;
			ae += xe;
		}
		x1 *= x1;
		xe <<= 1;
		if (x1 < .5) {
			x1 += x1;
			xe--;
		}
	}
	if (y < 0) {
		a1 = 1 / a1;
		ae = -ae;
	}
	return ldexp(a1, ae);
}

/* log(number, base), pow(number, power): Go's math.Log and math.Pow. A result that is not a
 * number (the log of a negative number) is an error, as it is in Terraform. */
static struct value *f_log(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "log" };
	double x, base, r;

	(void)n;
	if (want_number(&c, args, 0, "the number", &x) || want_number(&c, args, 1, "the base", &base))
		return NULL;
	r = go_log(x) / go_log(base);
	if (isnan(r))
		return fail(&c, -1, "the logarithm of %s in base %s is not a number",
			    shown(args[0]), shown(args[1]));
	return val_number(r);
}

static struct value *f_pow(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "pow" };
	double x, y, r;

	(void)n;
	if (want_number(&c, args, 0, "the number", &x) || want_number(&c, args, 1, "the power", &y))
		return NULL;
	r = go_pow(x, y);
	if (isnan(r))
		return fail(&c, -1, "%s to the power %s is not a number", shown(args[0]),
			    shown(args[1]));
	return val_number(r);
}

/* signum takes a whole number, as cty's does (it converts to a Go int). */
static struct value *f_signum(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "signum" };
	double d;

	(void)n;
	if (want_number(&c, args, 0, "the argument", &d))
		return NULL;
	if (!is_whole(d) || fabs(d) >= 9223372036854775808.0)
		return fail(&c, 0, "the argument must be a whole number, not %s", shown(args[0]));
	return val_number(d < 0 ? -1 : d > 0 ? 1 : 0);
}

/* The value of digit ch in a base of up to 62, as Go's big.Int reads it: letters count from
 * 10, and above base 36 the capitals from 36. -1 when ch is not a digit of the base. */
static int digit_value(int ch, int base)
{
	int v = -1;

	if (ch >= '0' && ch <= '9')
		v = ch - '0';
	else if (ch >= 'a' && ch <= 'z')
		v = ch - 'a' + 10;
	else if (ch >= 'A' && ch <= 'Z')
		v = ch - 'A' + (base <= 36 ? 10 : 36);
	return v < base ? v : -1;
}

/* parseint(string, base): big.Int's SetString, so a sign but no prefix or underscores; the
 * result is the nearest double (Terraform keeps every digit). */
static struct value *f_parseint(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "parseint" };
	const struct value *v = args[0];
	const char *s;
	size_t len, i = 0;
	long base;
	long double acc = 0;
	int neg = 0;

	(void)n;
	if (v->kind == VAL_NULL)
		return fail(&c, 0, "the number must not be null");
	if (v->kind != VAL_STRING)
		return fail(&c, 0, "the first argument must be a string, not %s", a_kind(v));
	if (want_int(&c, args, 1, "the base", &base))
		return NULL;
	if (base < 2 || base > 62)
		return fail(&c, 1, "base must be a whole number between 2 and 62 inclusive");
	s = v->u.str.s;
	len = v->u.str.len;
	if (len && (s[0] == '+' || s[0] == '-'))
		neg = s[i++] == '-';
	if (i == len)
		goto bad;
	for (; i < len; i++) {
		int d = digit_value((unsigned char)s[i], (int)base);
		if (d < 0)
			goto bad;
		acc = acc * base + d;
	}
	return val_number((double)(neg ? -acc : acc));
bad:
	return fail(&c, 0, "cannot parse %s as a base %ld integer", shown(v), base);
}

/* ---- type conversions ---- */

static struct value *f_tostring(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "tostring" };
	struct buf b = BUF_INIT;
	struct value *v = args[0];

	(void)n;
	switch (v->kind) {
	case VAL_NULL:
	case VAL_STRING:
		return val_ref(v);
	case VAL_NUMBER:
		num_text(v->u.n, &b);
		return str_value(&b);
	case VAL_BOOL:
		return val_cstring(v->u.b ? "true" : "false");
	default:
		return fail(&c, 0, "cannot convert %s to string", a_kind(v) + 2);
	}
}

/* tonumber and tobool: the language's one conversion, with Terraform's messages. */
static struct value *to_primitive(struct func_call *fc, const char *name, struct value *v,
				  enum val_type_kind k)
{
	struct fctx c = { fc, name };
	const struct val_type t = { k, 0, NULL, NULL };
	struct buf why = BUF_INIT;
	struct value *r = val_convert(v, &t, &why);

	if (!r)
		fail(&c, 0, "%s", buf_cstr(&why));
	buf_release(&why);
	return r;
}

static struct value *f_tonumber(struct func_call *fc, struct value **args, size_t n)
{
	(void)n;
	return to_primitive(fc, "tonumber", args[0], VT_NUMBER);
}

static struct value *f_tobool(struct func_call *fc, struct value **args, size_t n)
{
	(void)n;
	return to_primitive(fc, "tobool", args[0], VT_BOOL);
}

/* tolist, toset, tomap, and distinct's argument: the collection with every element converted
 * to the one type they unify to. want is VT_LIST, VT_SET or VT_MAP. */
static struct value *to_collection(const struct fctx *c, int arg, struct value *v,
				   enum val_type_kind want)
{
	const char *what = want == VT_LIST ? "list" : want == VT_SET ? "set" : "map";
	struct val_type *t, *el;
	struct buf why = BUF_INIT;
	struct value *r;

	if (v->kind == VAL_NULL)
		return val_ref(v);
	if (want == VT_MAP ? v->kind != VAL_MAP : v->kind != VAL_LIST && v->kind != VAL_SET)
		return fail(c, arg, "cannot convert %s to %s of any single type", a_kind(v) + 2,
			    what);
	el = want == VT_MAP ? NULL : val_type_unify_values(v->u.list.items, v->u.list.n);
	if (want == VT_MAP) {
		struct value **vals = xcalloc(v->u.map.n + 1, sizeof *vals);
		for (size_t i = 0; i < v->u.map.n; i++)
			vals[i] = v->u.map.items[i].val;
		el = val_type_unify_values(vals, v->u.map.n);
		free(vals);
	}
	if (!el)
		return fail(c, arg, "cannot convert %s to %s of any single type: its elements "
			    "have types that cannot be converted to one type", a_kind(v) + 2, what);
	t = val_type_new(want, 1);
	t->sub[0] = el;
	r = val_convert(v, t, &why);
	val_type_free(t);
	if (!r)
		fail(c, arg, "cannot convert %s to %s: %s", a_kind(v) + 2, what, buf_cstr(&why));
	buf_release(&why);
	return r;
}

static struct value *f_tolist(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "tolist" };

	(void)n;
	return to_collection(&c, 0, args[0], VT_LIST);
}

static struct value *f_toset(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "toset" };

	(void)n;
	return to_collection(&c, 0, args[0], VT_SET);
}

static struct value *f_tomap(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "tomap" };

	(void)n;
	return to_collection(&c, 0, args[0], VT_MAP);
}

/* sensitive(value): the value marked sensitive, known or not. */
static struct value *f_sensitive(struct func_call *fc, struct value **args, size_t n)
{
	(void)fc;
	(void)n;
	return val_mark(args[0], VAL_SENSITIVE);
}

/* nonsensitive(value): the value without its own sensitive mark (elements marked on their own
 * keep theirs), known or not; a value that is not sensitive comes back as it is, as in
 * Terraform 1.8 and later. The evaluator leaves the result's marks alone (FUNC_KEEPS_MARKS). */
static struct value *f_nonsensitive(struct func_call *fc, struct value **args, size_t n)
{
	struct value *v = args[0], *c, *u;

	(void)fc;
	(void)n;
	if (!(v->marks & VAL_SENSITIVE))
		return val_ref(v);
	c = val_unmark(v);
	if (!(v->marks & VAL_UNKNOWN))
		return c;
	u = val_mark(c, VAL_UNKNOWN);
	val_unref(c);
	return u;
}

/* issensitive(value): whether the value itself is marked sensitive; for a value not known
 * yet and not marked, not known either (it may turn out sensitive). Never sensitive itself. */
static struct value *f_issensitive(struct func_call *fc, struct value **args, size_t n)
{
	(void)fc;
	(void)n;
	if (args[0]->marks & VAL_SENSITIVE)
		return val_bool(1);
	return args[0]->marks & VAL_UNKNOWN ? val_unknown(VAL_BOOL) : val_bool(0);
}

/* ---- collections ---- */

static int deep_unknown(const struct value *v)
{
	return (val_deep_marks(v) & VAL_UNKNOWN) != 0;
}

/* length takes unknowns: a known list of unknown elements still has a known length. A set's
 * length is unknown while any member is, since unknown members may turn out equal. */
static struct value *f_length(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "length" };
	struct value *v = args[0];

	(void)n;
	if (v->marks & VAL_UNKNOWN)
		return val_unknown(VAL_NUMBER);
	switch (v->kind) {
	case VAL_STRING:
		return val_number((double)gc_count(v->u.str.s, v->u.str.len));
	case VAL_SET:
		if (deep_unknown(v))
			return val_unknown(VAL_NUMBER);
		return val_number((double)v->u.list.n);
	case VAL_LIST:
		return val_number((double)v->u.list.n);
	case VAL_MAP:
		return val_number((double)v->u.map.n);
	case VAL_NULL:
		return fail(&c, 0, "the argument must not be null");
	default:
		return fail(&c, 0, "the argument must be a string, a collection type, or a "
			    "structural type, not %s", a_kind(v));
	}
}

static enum val_kind ty_val_kind(const struct val_type *t)
{
	switch (t->k) {
	case VT_BOOL: return VAL_BOOL;
	case VT_NUMBER: return VAL_NUMBER;
	case VT_STRING: return VAL_STRING;
	case VT_LIST: case VT_TUPLE: return VAL_LIST;
	case VT_SET: return VAL_SET;
	case VT_MAP: case VT_OBJECT: return VAL_MAP;
	default: return VAL_DYNAMIC;
	}
}

/* coalesce takes unknowns: the first argument that is neither null nor "" wins, converted to
 * the type all the arguments unify to; an unknown before it makes the result unknown. */
static struct value *f_coalesce(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "coalesce" };
	struct val_type *t = val_type_unify_values(args, n);
	struct value *r = NULL;

	if (!t)
		return fail(&c, -1, "all arguments must have the same type");
	for (size_t i = 0; i < n; i++) {
		struct buf why = BUF_INIT;
		struct value *v;
		if (args[i]->marks & VAL_UNKNOWN) {
			r = val_unknown(ty_val_kind(t));
			break;
		}
		if (args[i]->kind == VAL_NULL)
			continue;
		v = val_convert(args[i], t, &why);
		if (!v) {
			fail(&c, (int)i, "%s", buf_cstr(&why));
			buf_release(&why);
			val_type_free(t);
			return NULL;
		}
		buf_release(&why);
		if (t->k == VT_STRING && v->kind == VAL_STRING && !v->u.str.len) {
			val_unref(v);
			continue;
		}
		r = v;
		break;
	}
	val_type_free(t);
	if (!r)
		return fail(&c, -1, "no non-null, non-empty-string arguments");
	return r;
}

static struct value *f_contains(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "contains" };
	struct value *l = args[0];

	(void)n;
	if (l->kind == VAL_NULL)
		return fail(&c, 0, "the list must not be null");
	if (l->kind != VAL_LIST && l->kind != VAL_SET)
		return fail(&c, 0, "the first argument must be a list, tuple, or set, not %s",
			    a_kind(l));
	if (args[1]->kind == VAL_NULL)
		return fail(&c, 1, "the value must not be null");
	for (size_t i = 0; i < l->u.list.n; i++)
		if (val_equal(l->u.list.items[i], args[1]))
			return val_bool(1);
	return val_bool(0);
}

static struct value *f_distinct(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "distinct" };
	struct value *l;
	struct buf items = BUF_INIT;

	(void)n;
	if (args[0]->kind == VAL_NULL)
		return fail(&c, 0, "the list must not be null");
	if (args[0]->kind != VAL_LIST && args[0]->kind != VAL_SET)
		return fail(&c, 0, "the argument must be a list, not %s", a_kind(args[0]));
	if (!(l = to_collection(&c, 0, args[0], VT_LIST)))
		return NULL;
	for (size_t i = 0; i < l->u.list.n; i++) {
		int seen = 0;
		for (size_t j = 0; j < buf_count(&items, struct value *) && !seen; j++)
			seen = val_equal(buf_at(&items, struct value *, j), l->u.list.items[i]);
		if (!seen)
			buf_push(&items, struct value *, val_ref(l->u.list.items[i]));
	}
	val_unref(l);
	return list_from(&items);
}

static struct value *f_element(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "element" };
	struct value *l = args[0];
	long idx;

	(void)n;
	if (want_int(&c, args, 1, "the index", &idx))
		return NULL;
	if (idx < 0)
		return fail(&c, 1, "cannot use element function with a negative index");
	if (l->kind == VAL_NULL)
		return fail(&c, 0, "the list must not be null");
	if (l->kind != VAL_LIST)
		return fail(&c, 0, "cannot read elements from %s", a_kind(l));
	if (!l->u.list.n)
		return fail(&c, 0, "cannot use element function with an empty list");
	/* element wraps around: an index past the end counts from the start again */
	return val_ref(l->u.list.items[(size_t)idx % l->u.list.n]);
}

static struct value *f_index(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "index" };
	struct value *l = args[0];

	(void)n;
	if (l->kind == VAL_NULL)
		return fail(&c, 0, "the list must not be null");
	if (l->kind != VAL_LIST)
		return fail(&c, 0, "the first argument must be a list or tuple, not %s", a_kind(l));
	if (args[1]->kind == VAL_NULL)
		return fail(&c, 1, "the value must not be null");
	if (!l->u.list.n)
		return fail(&c, 0, "cannot search an empty list");
	for (size_t i = 0; i < l->u.list.n; i++)
		if (val_equal(l->u.list.items[i], args[1]))
			return val_number((double)i);
	return fail(&c, 1, "item not found: the list does not contain %s", shown(args[1]));
}

static void flatten_into(const struct value *l, struct buf *items)
{
	for (size_t i = 0; i < l->u.list.n; i++) {
		struct value *e = l->u.list.items[i];
		if ((e->kind == VAL_LIST || e->kind == VAL_SET) && !(e->marks & VAL_UNKNOWN))
			flatten_into(e, items);
		else
			buf_push(items, struct value *, val_ref(e));
	}
}

static struct value *f_flatten(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "flatten" };
	struct buf items = BUF_INIT;

	(void)n;
	if (args[0]->kind == VAL_NULL)
		return fail(&c, 0, "the list must not be null");
	if (args[0]->kind != VAL_LIST && args[0]->kind != VAL_SET)
		return fail(&c, 0, "can only flatten lists, sets and tuples, not %s",
			    a_kind(args[0]));
	flatten_into(args[0], &items);
	return list_from(&items);
}

static struct value *want_map(const struct fctx *c, struct value **args, int i, const char *what)
{
	if (args[i]->kind == VAL_MAP)
		return args[i];
	if (args[i]->kind == VAL_NULL)
		fail(c, i, "the map must not be null");
	else
		fail(c, i, "%s, not %s", what, a_kind(args[i]));
	return NULL;
}

static struct value *f_keys(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "keys" };
	struct value *m;
	struct buf items = BUF_INIT;

	(void)n;
	if (!(m = want_map(&c, args, 0, "the argument must have map or object type")))
		return NULL;
	for (size_t i = 0; i < m->u.map.n; i++)
		buf_push(&items, struct value *, val_cstring(m->u.map.items[i].key));
	return list_from(&items);
}

static struct value *f_values(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "values" };
	struct value *m;
	struct buf items = BUF_INIT;

	(void)n;
	if (!(m = want_map(&c, args, 0, "the argument must be a map")))
		return NULL;
	for (size_t i = 0; i < m->u.map.n; i++)
		buf_push(&items, struct value *, val_ref(m->u.map.items[i].val));
	return list_from(&items);
}

/* lookup(map, key[, default]). Terraform converts the default to a map's element type, and
 * returns it as it is for an object; stk, with one kind for both, converts the default when
 * every value in the map has one primitive type it converts to, and returns it as it is
 * otherwise. */
static struct value *f_lookup(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "lookup" };
	struct buf tmp = BUF_INIT;
	struct value *m, *v, **vals;
	struct val_type *t;
	const char *key;
	size_t klen;

	if (n < 2 || n > 3)
		return fail(&c, -1, "lookup() takes two or three arguments, got %zu", n);
	if (!(m = want_map(&c, args, 0, "the first argument must be a map")))
		return NULL;
	if (!(key = want_str(&c, args, 1, "the key", &tmp, &klen)))
		goto fail;
	if (strlen(key) == klen && (v = val_map_get(m, key))) {
		buf_release(&tmp);
		return val_ref(v);
	}
	if (n < 3) {
		fail(&c, 1, "lookup failed to find key %s",
		     val_is_sensitive(args[1]) ? "(sensitive value)" : key);
		goto fail;
	}
	buf_release(&tmp);
	vals = xcalloc(m->u.map.n + 1, sizeof *vals);
	for (size_t i = 0; i < m->u.map.n; i++)
		vals[i] = m->u.map.items[i].val;
	t = m->u.map.n ? val_type_unify_values(vals, m->u.map.n) : NULL;
	free(vals);
	v = NULL;
	if (t && (t->k == VT_STRING || t->k == VT_NUMBER || t->k == VT_BOOL))
		v = val_convert(args[2], t, NULL);
	val_type_free(t);
	return v ? v : val_ref(args[2]);
fail:
	buf_release(&tmp);
	return NULL;
}

static struct value *f_merge(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "merge" };
	struct buf pairs = BUF_INIT;
	struct value *r;

	for (size_t i = 0; i < n; i++) {
		struct value *m = args[i];
		if (m->kind == VAL_NULL)
			continue;
		if (m->kind != VAL_MAP) {
			for (size_t k = 0; k < buf_count(&pairs, struct val_pair); k++) {
				free(buf_at(&pairs, struct val_pair, k).key);
				val_unref(buf_at(&pairs, struct val_pair, k).val);
			}
			buf_release(&pairs);
			return fail(&c, (int)i, "arguments must be maps or objects, not %s",
				    a_kind(m));
		}
		for (size_t k = 0; k < m->u.map.n; k++) {
			struct val_pair p = { xstrdup(m->u.map.items[k].key),
					      val_ref(m->u.map.items[k].val) };
			buf_push(&pairs, struct val_pair, p);
		}
	}
	/* val_map_take keeps the later of two equal keys: later arguments win */
	r = val_map_take((struct val_pair *)(void *)pairs.data, buf_count(&pairs, struct val_pair));
	buf_release(&pairs);
	return r;
}

static struct value *f_concat(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "concat" };
	struct buf items = BUF_INIT;

	if (!n)
		return fail(&c, -1, "at least one argument is required");
	for (size_t i = 0; i < n; i++) {
		if (args[i]->kind != VAL_LIST) {
			unref_all(&items);
			if (args[i]->kind == VAL_NULL)
				return fail(&c, (int)i, "the arguments must not be null");
			return fail(&c, (int)i, "all arguments must be lists or tuples; got %s",
				    a_kind(args[i]) + 2);
		}
		for (size_t k = 0; k < args[i]->u.list.n; k++)
			buf_push(&items, struct value *, val_ref(args[i]->u.list.items[k]));
	}
	return list_from(&items);
}

static struct value *f_reverse(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "reverse" };
	struct value *l = args[0];
	struct buf items = BUF_INIT;

	(void)n;
	if (l->kind == VAL_NULL)
		return fail(&c, 0, "the list must not be null");
	if (l->kind != VAL_LIST && l->kind != VAL_SET)
		return fail(&c, 0, "can only reverse list or tuple values, not %s", a_kind(l));
	for (size_t i = l->u.list.n; i-- > 0;)
		buf_push(&items, struct value *, val_ref(l->u.list.items[i]));
	return list_from(&items);
}

static struct value *f_slice(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "slice" };
	struct value *l = args[0];
	struct buf items = BUF_INIT;
	long start, end;

	(void)n;
	if (l->kind == VAL_NULL)
		return fail(&c, 0, "the list must not be null");
	if (l->kind == VAL_SET)
		return fail(&c, 0, "cannot slice a set, because its elements do not have indices; "
			    "explicitly convert to a list if the ordering of the result is not "
			    "important");
	if (l->kind != VAL_LIST)
		return fail(&c, 0, "the first argument must be a list or tuple value, not %s",
			    a_kind(l));
	if (want_int(&c, args, 1, "the start index", &start))
		return NULL;
	if (start < 0)
		return fail(&c, 1, "start index must not be less than zero");
	if ((size_t)start > l->u.list.n)
		return fail(&c, 1, "start index must not be greater than the length of the list");
	if (want_int(&c, args, 2, "the end index", &end))
		return NULL;
	if (end < 0)
		return fail(&c, 2, "end index must not be less than zero");
	if ((size_t)end > l->u.list.n)
		return fail(&c, 2, "end index must not be greater than the length of the list");
	if (start > end)
		return fail(&c, 1, "start index must not be greater than end index");
	for (long i = start; i < end; i++)
		buf_push(&items, struct value *, val_ref(l->u.list.items[i]));
	return list_from(&items);
}

static int cmp_strvals(const void *a, const void *b)
{
	return val_compare(*(struct value *const *)a, *(struct value *const *)b);
}

/* A list(string) argument with its elements converted: numbers and bools to strings. With
 * nulls_ok, null elements stay null; otherwise they are an error. */
static struct value **string_items(const struct fctx *c, struct value **args, int i,
				   const char *name, size_t *n, int nulls_ok)
{
	struct value **items, **out;

	if (want_seq(c, args, i, name, "a list of strings", &items, n))
		return NULL;
	out = xcalloc(*n + 1, sizeof *out);
	for (size_t k = 0; k < *n; k++) {
		struct buf b = BUF_INIT;
		if (items[k]->kind == VAL_STRING || (nulls_ok && items[k]->kind == VAL_NULL)) {
			out[k] = val_ref(items[k]);
			continue;
		}
		if (elem_string(c, i, name, items[k], k, &b)) {
			buf_release(&b);
			for (size_t j = 0; j < k; j++)
				val_unref(out[j]);
			free(out);
			return NULL;
		}
		out[k] = str_value(&b);
	}
	return out;
}

static struct value *f_sort(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "sort" };
	struct value **items, *r;
	size_t m;

	(void)n;
	if (!(items = string_items(&c, args, 0, "the list", &m, 1)))
		return NULL;
	for (size_t k = 0; k < m; k++)
		if (items[k]->kind == VAL_NULL) {
			for (size_t j = 0; j < m; j++)
				val_unref(items[j]);
			free(items);
			return fail(&c, 0, "given list element %zu is null; a null string cannot be "
				    "sorted", k);
		}
	/* strings compare byte by byte, as Go's sort.Strings does */
	qsort(items, m, sizeof *items, cmp_strvals);
	r = val_list_take(items, m);
	free(items);
	return r;
}

static struct value *f_compact(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "compact" };
	struct value **items;
	struct buf out = BUF_INIT;
	size_t m;

	(void)n;
	if (!(items = string_items(&c, args, 0, "the list", &m, 1)))
		return NULL;
	for (size_t k = 0; k < m; k++) {
		if (items[k]->kind == VAL_NULL || !items[k]->u.str.len)
			val_unref(items[k]);
		else
			buf_push(&out, struct value *, items[k]);
	}
	free(items);
	return list_from(&out);
}

/* one: Terraform's way to take the single object of a count or for_each that is 0 or 1, or
 * null when there is none: a list or set of at most one element. */
static struct value *f_one(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "one" };
	struct value *v = args[0];

	(void)n;
	if (v->kind != VAL_LIST && v->kind != VAL_SET)
		return fail(&c, 0, "the argument must be a list or a set, not %s", a_kind(v));
	if (v->u.list.n > 1)
		return fail(&c, 0, "the list must have zero or one elements, not %zu",
			    v->u.list.n);
	if (!v->u.list.n)
		return val_null();
	return val_ref(v->u.list.items[0]);
}

static struct value *f_zipmap(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "zipmap" };
	struct value **keys, *vals = args[1], *r;
	struct val_pair *pairs;
	size_t m;

	(void)n;
	if (!(keys = string_items(&c, args, 0, "the keys", &m, 1)))
		return NULL;
	if (vals->kind != VAL_LIST) {
		for (size_t k = 0; k < m; k++)
			val_unref(keys[k]);
		free(keys);
		if (vals->kind == VAL_NULL)
			return fail(&c, 1, "the values must not be null");
		return fail(&c, 1, "the values argument must be a list or tuple value, not %s",
			    a_kind(vals));
	}
	if (m != vals->u.list.n) {
		for (size_t k = 0; k < m; k++)
			val_unref(keys[k]);
		free(keys);
		return fail(&c, -1, "number of keys (%zu) does not match number of values (%zu)", m,
			    vals->u.list.n);
	}
	pairs = xcalloc(m + 1, sizeof *pairs);
	for (size_t k = 0; k < m; k++) {
		if (keys[k]->kind == VAL_NULL || strlen(keys[k]->u.str.s) != keys[k]->u.str.len) {
			int isnull = keys[k]->kind == VAL_NULL;
			for (size_t j = 0; j < k; j++) {
				free(pairs[j].key);
				val_unref(pairs[j].val);
			}
			for (size_t j = 0; j < m; j++)
				val_unref(keys[j]);
			free(keys);
			free(pairs);
			return fail(&c, 0, "keys list has %s value at index %zu",
				    isnull ? "null" : "an invalid (NUL)", k);
		}
		pairs[k].key = xstrdup(keys[k]->u.str.s);
		pairs[k].val = val_ref(vals->u.list.items[k]);
	}
	for (size_t k = 0; k < m; k++)
		val_unref(keys[k]);
	free(keys);
	r = val_map_take(pairs, m);
	free(pairs);
	return r;
}

/* sum(list): Terraform's, the numbers of a list or set added up, decimals exactly (as
 * range() does it). */
static struct value *f_sum(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "sum" };
	struct value *l = args[0];
	double total = 0, d;
	int places = 0;

	(void)n;
	if (l->kind == VAL_NULL)
		return fail(&c, 0, "the list must not be null");
	if (l->kind != VAL_LIST && l->kind != VAL_SET && l->kind != VAL_MAP)
		return fail(&c, 0, "cannot sum noniterable");
	if (!val_length(l))
		return fail(&c, 0, "cannot sum an empty list");
	if (l->kind == VAL_MAP)
		return fail(&c, 0, "argument must be list, set, or tuple, not a map");
	for (size_t i = 0; i < l->u.list.n; i++) {
		const struct value *e = l->u.list.items[i];
		if (e->kind == VAL_NUMBER)
			d = e->u.n;
		else if (e->kind != VAL_STRING || val_parse_number(e->u.str.s, e->u.str.len, &d))
			return fail(&c, 0, "argument must be list, set, or tuple of number values; "
				    "element %zu is %s", i, e->kind == VAL_STRING ? shown(e) : a_kind(e));
		if (isinf(total) && isinf(d) && (total > 0) != (d > 0))
			return fail(&c, 0, "can't compute sum of opposing infinities");
		places = more_places(places, d);
		total = round_places(total + d, places);
	}
	return val_number(total);
}

/* alltrue and anytrue take unknowns: anytrue([unknown, true]) is true, alltrue([false,
 * unknown]) false, as in Terraform; a null element counts as false. */
static struct value *all_any(struct func_call *fc, struct value **args, int any)
{
	struct fctx c = { fc, any ? "anytrue" : "alltrue" };
	struct value **items;
	size_t m;
	int b, unknown = 0;

	if (args[0]->marks & VAL_UNKNOWN)
		return val_unknown(VAL_BOOL);
	if (want_seq(&c, args, 0, "the list", "a list of bools", &items, &m))
		return NULL;
	/* the whole list converts to list(bool) first: an element that is not a bool is an
	 * error even when an earlier one decides the answer */
	for (size_t k = 0; k < m; k++) {
		const struct value *e = items[k];
		if ((e->marks & VAL_UNKNOWN) || e->kind == VAL_NULL || e->kind == VAL_BOOL ||
		    (e->kind == VAL_STRING && !val_parse_bool(e->u.str.s, e->u.str.len, &b)))
			continue;
		return fail(&c, 0, "the list must be a list of bools, but element %zu is %s", k,
			    e->kind == VAL_STRING ? shown(e) : a_kind(e));
	}
	for (size_t k = 0; k < m; k++) {
		const struct value *e = items[k];
		if (e->marks & VAL_UNKNOWN) {
			if (!any)
				return val_unknown(VAL_BOOL);
			unknown = 1;
			continue;
		}
		if (e->kind == VAL_NULL) {
			if (!any)
				return val_bool(0);
			continue;
		}
		if (e->kind == VAL_BOOL)
			b = e->u.b;
		else
			val_parse_bool(e->u.str.s, e->u.str.len, &b);
		if (b == any)
			return val_bool(any);
	}
	return unknown ? val_unknown(VAL_BOOL) : val_bool(!any);
}

static struct value *f_alltrue(struct func_call *fc, struct value **args, size_t n)
{
	(void)n;
	return all_any(fc, args, 0);
}

static struct value *f_anytrue(struct func_call *fc, struct value **args, size_t n)
{
	(void)n;
	return all_any(fc, args, 1);
}

/* coalescelist takes unknowns: the first list that is not null or empty; an unknown one
 * before it makes the result unknown. */
static struct value *f_coalescelist(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "coalescelist" };

	if (!n)
		return fail(&c, -1, "at least one argument is required");
	/* the arguments' types are checked up to the first unknown one, as Terraform does */
	for (size_t i = 0; i < n && !(args[i]->marks & VAL_UNKNOWN); i++)
		if (args[i]->kind != VAL_LIST && args[i]->kind != VAL_NULL)
			return fail(&c, (int)i, "the arguments must be lists or tuples, not %s",
				    a_kind(args[i]));
	for (size_t i = 0; i < n; i++) {
		if (args[i]->marks & VAL_UNKNOWN)
			return val_unknown(VAL_LIST);
		if (args[i]->kind == VAL_LIST && args[i]->u.list.n)
			return val_ref(args[i]);
	}
	return fail(&c, -1, "no non-null arguments");
}

/* chunklist(list, size): lists of size elements (the last may be shorter); size 0 gives the
 * whole list as one chunk. */
static struct value *f_chunklist(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "chunklist" };
	struct buf chunks = BUF_INIT;
	struct value *l;
	double size;
	size_t step;

	(void)n;
	if (args[0]->kind == VAL_NULL)
		return fail(&c, 0, "the list must not be null");
	if (args[0]->kind != VAL_LIST && args[0]->kind != VAL_SET)
		return fail(&c, 0, "the first argument must be a list, not %s", a_kind(args[0]));
	if (want_number(&c, args, 1, "the size", &size))
		return NULL;
	if (!is_whole(size) || fabs(size) >= 9223372036854775808.0)
		return fail(&c, 1, "invalid size: the size must be a whole number, not %s",
			    shown(args[1]));
	if (size < 0)
		return fail(&c, 1, "the size argument must be positive");
	if (!(l = to_collection(&c, 0, args[0], VT_LIST)))
		return NULL;
	if (!l->u.list.n) {
		val_unref(l);
		return val_empty_list();
	}
	if (size == 0)
		return val_list_take(&l, 1);
	step = size < (double)l->u.list.n ? (size_t)size : l->u.list.n;
	for (size_t i = 0; i < l->u.list.n; i += step) {
		size_t m = l->u.list.n - i < step ? l->u.list.n - i : step;
		struct value **items = xcalloc(m, sizeof *items);
		for (size_t k = 0; k < m; k++)
			items[k] = val_ref(l->u.list.items[i + k]);
		buf_push(&chunks, struct value *, val_list_take(items, m));
		free(items);
	}
	val_unref(l);
	return list_from(&chunks);
}

/* Lists or sets args[first..first+count) converted to lists whose elements all have the one
 * type every element of them unifies to, as Terraform converts the arguments that must agree
 * (the set functions', matchkeys' keys and searchset). Fills out[]; -1 after an error, which
 * is mismatch when there is no such type. */
static int unify_lists(const struct fctx *c, struct value **args, size_t first, size_t count,
		       const char *mismatch, struct value **out)
{
	struct buf all = BUF_INIT, why = BUF_INIT;
	struct val_type *lt = val_type_new(VT_LIST, 1);
	size_t done = 0;
	int rc = -1;

	for (size_t i = first; i < first + count; i++) {
		struct value **items;
		size_t m;
		if (want_seq(c, args, (int)i, "the argument", "a set or a list", &items, &m))
			goto out;
		buf_add(&all, items, m * sizeof *items);
	}
	lt->sub[0] = val_type_unify_values((struct value **)(void *)all.data,
					   buf_count(&all, struct value *));
	if (!lt->sub[0]) {
		fail(c, -1, "%s", mismatch);
		goto out;
	}
	for (; done < count; done++)
		if (!(out[done] = val_convert(args[first + done], lt, &why))) {
			fail(c, (int)(first + done), "%s", buf_cstr(&why));
			goto out;
		}
	rc = 0;
out:
	if (rc)
		for (size_t i = 0; i < done; i++)
			val_unref(out[i]);
	val_type_free(lt);
	buf_release(&all);
	buf_release(&why);
	return rc;
}

static int has_equal(const struct value *l, const struct value *v)
{
	for (size_t i = 0; i < l->u.list.n; i++)
		if (val_equal(l->u.list.items[i], v))
			return 1;
	return 0;
}

/* matchkeys(values, keys, searchset): the values whose key (at the same index) is in the
 * search set, in order. */
static struct value *f_matchkeys(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "matchkeys" };
	struct value *ks[2], *vals, **items, *r = NULL;
	struct buf found = BUF_INIT;
	size_t m;

	(void)n;
	if (want_seq(&c, args, 0, "the values", "a list", &items, &m) ||
	    unify_lists(&c, args, 1, 2, "keys and searchset must be of the same type", ks))
		return NULL;
	if (!(vals = to_collection(&c, 0, args[0], VT_LIST)))
		goto out;
	if (vals->u.list.n != ks[0]->u.list.n) {
		fail(&c, -1, "length of keys and values should be equal");
		goto out;
	}
	for (size_t i = 0; i < ks[0]->u.list.n; i++)
		if (has_equal(ks[1], ks[0]->u.list.items[i]))
			buf_push(&found, struct value *, val_ref(vals->u.list.items[i]));
	r = list_from(&found);
out:
	val_unref(vals);
	val_unref(ks[0]);
	val_unref(ks[1]);
	return r;
}

/* One value of transpose's input: the string and the key of the list it was in. */
struct transposed {
	const char *key;
	char *text;
	size_t order;
};

static int cmp_transposed(const void *a, const void *b)
{
	const struct transposed *x = a, *y = b;
	int d = strcmp(x->text, y->text);

	return d ? d : x->order < y->order ? -1 : x->order > y->order;
}

/* transpose(map of lists of strings): a map from each string to the keys whose lists hold it,
 * in key order. */
static struct value *f_transpose(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "transpose" };
	struct buf pairs = BUF_INIT, out = BUF_INIT, name = BUF_INIT;
	struct value *m, *r = NULL;
	size_t count;

	(void)n;
	if (!(m = want_map(&c, args, 0, "the argument must be a map of lists of strings")))
		return NULL;
	for (size_t i = 0; i < m->u.map.n; i++) {
		const struct val_pair *p = &m->u.map.items[i];
		if (p->val->kind != VAL_LIST && p->val->kind != VAL_SET) {
			fail(&c, 0, "the argument must be a map of lists of strings, but the value of "
			     "%s is %s", shown_text(m, p->key), a_kind(p->val));
			goto out;
		}
		buf_reset(&name);
		buf_printf(&name, "the list of %s", shown_text(m, p->key));
		for (size_t k = 0; k < p->val->u.list.n; k++) {
			struct buf text = BUF_INIT;
			struct transposed t = { p->key, NULL, buf_count(&pairs, struct transposed) };
			if (elem_string(&c, 0, buf_cstr(&name), p->val->u.list.items[k], k, &text)) {
				buf_release(&text);
				goto out;
			}
			if (strlen(buf_cstr(&text)) != text.len) {
				buf_release(&text);
				fail(&c, 0, "a string in the lists has a NUL character, which a map key "
				     "cannot have");
				goto out;
			}
			t.text = buf_detach(&text, NULL);
			buf_push(&pairs, struct transposed, t);
		}
	}
	count = buf_count(&pairs, struct transposed);
	if (count)
		qsort(pairs.data, count, sizeof(struct transposed), cmp_transposed);
	for (size_t i = 0; i < count;) {
		struct transposed *t = &buf_at(&pairs, struct transposed, i);
		struct buf keys = BUF_INIT;
		struct val_pair p;
		size_t j = i;
		while (j < count && !strcmp(buf_at(&pairs, struct transposed, j).text, t->text))
			buf_push(&keys, struct value *,
				 val_cstring(buf_at(&pairs, struct transposed, j++).key));
		p.key = xstrdup(t->text);
		p.val = list_from(&keys);
		buf_push(&out, struct val_pair, p);
		i = j;
	}
	r = val_map_take((struct val_pair *)(void *)out.data, buf_count(&out, struct val_pair));
out:
	for (size_t i = 0; i < buf_count(&pairs, struct transposed); i++)
		free(buf_at(&pairs, struct transposed, i).text);
	buf_release(&pairs);
	buf_release(&out);
	buf_release(&name);
	return r;
}

/* setunion, setintersection and setsubtract: sets (or lists, taken as sets) whose elements
 * convert to one type, combined. */
enum set_op { SET_UNION, SET_INTERSECTION, SET_SUBTRACT };

static struct value *set_op(struct func_call *fc, struct value **args, size_t n, const char *fn,
			    enum set_op op)
{
	struct fctx c = { fc, fn };
	struct value **lists = xcalloc(n + 1, sizeof *lists), *r = NULL;
	struct buf items = BUF_INIT;

	if (unify_lists(&c, args, 0, n, "given sets must all have compatible element types", lists))
		goto out;
	for (size_t k = 0; k < lists[0]->u.list.n; k++) {
		struct value *e = lists[0]->u.list.items[k];
		int keep = 1;
		for (size_t i = 1; i < n && op != SET_UNION; i++)
			if (has_equal(lists[i], e) != (op == SET_INTERSECTION))
				keep = 0;
		if (keep)
			buf_push(&items, struct value *, val_ref(e));
	}
	for (size_t i = 1; i < n && op == SET_UNION; i++)
		for (size_t k = 0; k < lists[i]->u.list.n; k++)
			buf_push(&items, struct value *, val_ref(lists[i]->u.list.items[k]));
	r = val_set_take((struct value **)(void *)items.data, buf_count(&items, struct value *));
	buf_release(&items);
	for (size_t i = 0; i < n; i++)
		val_unref(lists[i]);
out:
	free(lists);
	return r;
}

static struct value *f_setunion(struct func_call *fc, struct value **args, size_t n)
{
	return set_op(fc, args, n, "setunion", SET_UNION);
}

static struct value *f_setintersection(struct func_call *fc, struct value **args, size_t n)
{
	return set_op(fc, args, n, "setintersection", SET_INTERSECTION);
}

static struct value *f_setsubtract(struct func_call *fc, struct value **args, size_t n)
{
	return set_op(fc, args, n, "setsubtract", SET_SUBTRACT);
}

/* The most elements setproduct makes: Terraform has no limit, but past it a call runs out of
 * memory rather than give a plan. */
#define MAX_PRODUCT ((size_t)1 << 20)

/* setproduct(sets...): every combination of one element from each, the last varying
 * fastest; a list of lists when every argument is a list, else a set of them. */
static struct value *f_setproduct(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "setproduct" };
	struct value **lists = xcalloc(n + 1, sizeof *lists), *r = NULL;
	size_t *at = xcalloc(n + 1, sizeof *at), total = 1, done = 0;
	struct buf product = BUF_INIT;
	int all_lists = 1;

	if (n < 2) {
		fail(&c, -1, "at least two arguments are required");
		goto out;
	}
	for (; done < n; done++) {
		struct value **items;
		size_t m;
		if (want_seq(&c, args, (int)done, "each argument", "a set or a list", &items, &m) ||
		    !(lists[done] = to_collection(&c, (int)done, args[done], VT_LIST)))
			goto out;
		all_lists &= args[done]->kind == VAL_LIST;
	}
	for (size_t i = 0; i < n; i++)
		if (!lists[i]->u.list.n)
			total = 0;
	for (size_t i = 0; i < n && total; i++)
		total = total > MAX_PRODUCT / lists[i]->u.list.n ? MAX_PRODUCT + 1 :
			total * lists[i]->u.list.n;
	if (total > MAX_PRODUCT) {
		fail(&c, -1, "the product would have more than %zu elements", MAX_PRODUCT);
		goto out;
	}
	for (size_t k = 0; k < total; k++) {
		struct value **tuple = xcalloc(n, sizeof *tuple);
		for (size_t i = 0; i < n; i++)
			tuple[i] = val_ref(lists[i]->u.list.items[at[i]]);
		buf_push(&product, struct value *, val_list_take(tuple, n));
		free(tuple);
		for (size_t i = n; i-- > 0;) {
			if (++at[i] < lists[i]->u.list.n)
				break;
			at[i] = 0;
		}
	}
	if (all_lists)
		r = list_from(&product);
	else {
		r = val_set_take((struct value **)(void *)product.data,
				 buf_count(&product, struct value *));
		buf_release(&product);
	}
out:
	for (size_t i = 0; i < done; i++)
		val_unref(lists[i]);
	free(lists);
	free(at);
	return r;
}

/* ---- IP networks ----
 * Addresses are parsed the way Terraform parses them: Go's pre-1.17 net.ParseCIDR, which
 * reads "010" as decimal 10, and printed the way Go prints them: IPv6 with the longest run of
 * zero groups as "::", and an IPv4-mapped IPv6 address as plain IPv4. */

typedef unsigned __int128 u128;

struct ipnet {
	u128 addr;     /* IPv4 addresses in the low 32 bits */
	int bits;      /* 32 or 128 */
	int prefix;
};

static u128 shl128(u128 x, int s)
{
	return s >= 128 ? 0 : x << s;
}

/* The mask of a prefix length in an address of the given size. */
static u128 net_mask(int prefix, int bits)
{
	u128 all = bits == 128 ? ~(u128)0 : (((u128)1 << bits) - 1);
	return all & ~(shl128(1, bits - prefix) - 1);
}

/* Octets with leading zeros are decimal ("010" is 10), as in Terraform's own copy of Go's
 * older net package (its docs call it a historical accident kept for compatibility); libc's
 * inet_pton, like Go's net since 1.17, refuses them, so the address is read here. */
static int parse_v4(const char *s, size_t n, uint32_t *out)
{
	uint32_t a = 0;
	size_t i = 0;

	for (int f = 0; f < 4; f++) {
		unsigned v = 0;
		size_t digits = 0;
		if (f) {
			if (i >= n || s[i] != '.')
				return -1;
			i++;
		}
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			v = v * 10 + (unsigned)(s[i++] - '0');
			if (v > 255)
				return -1;
			digits++;
		}
		if (!digits)
			return -1;
		a = (a << 8) | v;
	}
	if (i != n)
		return -1;
	*out = a;
	return 0;
}

/* Go's parseIPv6: hex groups, one "::" for a run of zeros, an IPv4 address as the last 32
 * bits. */
static int parse_v6(const char *s, size_t n, u128 *out)
{
	uint8_t ip[16] = { 0 };
	int ellipsis = -1, i = 0;
	size_t p = 0;

	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		ellipsis = 0;
		p = 2;
		if (p == n)
			goto done;
	}
	while (i < 16) {
		unsigned long v = 0;
		size_t start = p;
		while (p < n && hexval(s[p]) >= 0) {
			v = v * 16 + (unsigned long)hexval(s[p++]);
			if (v >= 0xFFFFFF)
				return -1;
		}
		if (p == start || v > 0xFFFF)
			return -1;
		if (p < n && s[p] == '.') {
			uint32_t v4;
			if ((ellipsis < 0 && i != 12) || i + 4 > 16)
				return -1;
			if (parse_v4(s + start, n - start, &v4))
				return -1;
			ip[i] = (uint8_t)(v4 >> 24);
			ip[i + 1] = (uint8_t)(v4 >> 16);
			ip[i + 2] = (uint8_t)(v4 >> 8);
			ip[i + 3] = (uint8_t)v4;
			i += 4;
			p = n;
			break;
		}
		ip[i] = (uint8_t)(v >> 8);
		ip[i + 1] = (uint8_t)v;
		i += 2;
		if (p == n)
			break;
		if (s[p] != ':' || p + 1 == n)
			return -1;
		p++;
		if (s[p] == ':') {
			if (ellipsis >= 0)
				return -1;
			ellipsis = i;
			if (++p == n)
				break;
		}
	}
	if (p != n)
		return -1;
	if (i < 16) {
		int k = 16 - i;
		if (ellipsis < 0)
			return -1;
		for (int j = i - 1; j >= ellipsis; j--)
			ip[j + k] = ip[j];
		for (int j = ellipsis + k - 1; j >= ellipsis; j--)
			ip[j] = 0;
	} else if (ellipsis >= 0) {
		return -1;   /* "::" must stand for at least one group */
	}
done:
	*out = 0;
	for (int j = 0; j < 16; j++)
		*out = (*out << 8) | ip[j];
	return 0;
}

static int is_v4_mapped(u128 a)
{
	return (a >> 32) == 0xFFFF;
}

static int parse_cidr(const char *s, size_t n, struct ipnet *net)
{
	const char *slash = memchr(s, '/', n);
	size_t alen, i;
	uint32_t v4;
	long prefix = 0;

	if (!slash)
		return -1;
	alen = (size_t)(slash - s);
	if (!parse_v4(s, alen, &v4)) {
		net->addr = v4;
		net->bits = 32;
	} else if (!parse_v6(s, alen, &net->addr)) {
		net->bits = 128;
	} else {
		return -1;
	}
	for (i = alen + 1; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		if ((prefix = prefix * 10 + (s[i] - '0')) > 1000)
			return -1;
	if (i == alen + 1 || i != n || prefix > net->bits)
		return -1;
	net->prefix = (int)prefix;
	net->addr &= net_mask(net->prefix, net->bits);
	/* an IPv4-mapped network is an IPv4 one, as Go prints it */
	if (net->bits == 128 && is_v4_mapped(net->addr) && net->prefix >= 96) {
		net->addr &= 0xFFFFFFFFu;
		net->bits = 32;
		net->prefix -= 96;
	}
	return 0;
}

static void fmt_ip(u128 a, int bits, struct buf *out)
{
	unsigned g[8];
	int best = -1, bestlen = 0;

	if (bits == 32 || is_v4_mapped(a)) {
		uint32_t v = (uint32_t)a;
		buf_printf(out, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
		return;
	}
	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)(a >> (112 - 16 * i)) & 0xFFFF;
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && !g[j])
			j++;
		if (j - i > bestlen) {
			best = i;
			bestlen = j - i;
		}
		i = j > i ? j : i + 1;
	}
	if (bestlen < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			buf_addstr(out, "::");
			i += bestlen - 1;
			continue;
		}
		if (i && i != best + bestlen)
			buf_addch(out, ':');
		buf_printf(out, "%x", g[i]);
	}
}

static void fmt_net(u128 a, int bits, int prefix, struct buf *out)
{
	fmt_ip(a, bits, out);
	if (bits == 128 && is_v4_mapped(a))
		prefix = prefix > 96 ? prefix - 96 : 0;
	buf_printf(out, "/%d", prefix);
}

static int want_cidr(const struct fctx *c, struct value **args, struct ipnet *net)
{
	struct buf tmp = BUF_INIT;
	const char *s;
	size_t len;
	int rc = -1;

	if (!(s = want_str(c, args, 0, "the prefix", &tmp, &len)))
		goto out;
	if (parse_cidr(s, len, net)) {
		fail(c, 0, "prefix must be a CIDR block such as \"10.0.0.0/16\" or \"fd00::/8\", "
		     "not %s", shown(args[0]));
		goto out;
	}
	rc = 0;
out:
	buf_release(&tmp);
	return rc;
}

static struct value *f_cidrsubnet(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "cidrsubnet" };
	struct ipnet net;
	struct buf out = BUF_INIT, num = BUF_INIT;
	long newbits;
	double netnum;
	int len;

	(void)n;
	if (want_int(&c, args, 1, "newbits", &newbits) ||
	    want_number(&c, args, 2, "netnum", &netnum))
		return NULL;
	if (!is_whole(netnum))
		return fail(&c, 2, "netnum must be a whole number, not %s", shown(args[2]));
	if (want_cidr(&c, args, &net))
		return NULL;
	if (newbits < 0)
		return fail(&c, 1, "newbits must not be negative, not %s",
			    shown_long(args[1], newbits));
	len = net.prefix + (int)newbits;
	if (len > net.bits)
		return fail(&c, 1, "insufficient address space to extend prefix of %s by %s",
			    shown_long(args[0], net.prefix), shown_long(args[1], newbits));
	if (netnum < 0 || netnum >= ldexp(1, (int)newbits)) {
		num_text(netnum, &num);
		fail(&c, 2, "prefix extension of %s does not accommodate a subnet numbered %s",
		     shown_long(args[1], newbits), shown_text(args[2], buf_cstr(&num)));
		buf_release(&num);
		return NULL;
	}
	fmt_net(net.addr | shl128((u128)netnum, net.bits - len), net.bits, len, &out);
	return str_value(&out);
}

/* cidrsubnets(prefix, newbits...): consecutive subnets, each newbits longer than the prefix,
 * allocated as Terraform does (go-cidr's NextSubnet): each one after the last, aligned to its
 * own size, so that a smaller one after a larger one leaves no gap it can use again. */
static struct value *f_cidrsubnets(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "cidrsubnets" };
	struct ipnet net;
	struct buf items = BUF_INIT;
	u128 all, current;
	int cur_len;
	long first;

	if (want_cidr(&c, args, &net))
		return NULL;
	if (n < 2)
		return val_empty_list();
	if (want_int(&c, args, 1, "newbits", &first))
		return NULL;
	all = net.bits == 128 ? ~(u128)0 : (((u128)1 << 32) - 1);
	/* the subnet just before the prefix, of the first one's size, as a starting point */
	cur_len = net.prefix + (int)first;
	cur_len = cur_len < 0 ? 0 : cur_len > net.bits ? net.bits : cur_len;
	current = ((net.addr - 1) & all) & net_mask(cur_len, net.bits);
	for (size_t i = 1; i < n; i++) {
		struct buf text = BUF_INIT;
		u128 last, next;
		long newbits;
		int len;
		if (want_int(&c, args, (int)i, "newbits", &newbits))
			goto fail;
		if (newbits < 1) {
			fail(&c, (int)i, "must extend prefix by at least one bit");
			goto fail;
		}
		if (newbits > 32) {
			fail(&c, (int)i, "may not extend prefix by more than 32 bits");
			goto fail;
		}
		len = net.prefix + (int)newbits;
		if (len > net.bits) {
			fail(&c, (int)i, "would extend prefix to %d bits, which is too long for an %s "
			     "address", len, net.bits == 32 ? "IPv4" : "IPv6");
			goto fail;
		}
		/* the last address of the current subnet, in a subnet of the new size, and the
		 * address after that one's end */
		last = (current | (all & ~net_mask(cur_len, net.bits))) & net_mask(len, net.bits);
		next = ((last | (all & ~net_mask(len, net.bits))) + 1) & all;
		if (!next || (next & net_mask(net.prefix, net.bits)) != net.addr) {
			fmt_net(current, net.bits, cur_len, &text);
			fail(&c, (int)i, "not enough remaining address space for a subnet with a prefix "
			     "of %d bits after %s", len, buf_cstr(&text));
			buf_release(&text);
			goto fail;
		}
		current = next;
		cur_len = len;
		fmt_net(current, net.bits, cur_len, &text);
		buf_push(&items, struct value *, str_value(&text));
	}
	return list_from(&items);
fail:
	unref_all(&items);
	return NULL;
}

static struct value *f_cidrhost(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "cidrhost" };
	struct ipnet net;
	struct buf out = BUF_INIT, num = BUF_INIT;
	double hostnum, room;
	int hostlen;
	u128 max, h;

	(void)n;
	if (want_number(&c, args, 1, "hostnum", &hostnum))
		return NULL;
	if (!is_whole(hostnum))
		return fail(&c, 1, "hostnum must be a whole number, not %s", shown(args[1]));
	if (want_cidr(&c, args, &net))
		return NULL;
	hostlen = net.bits - net.prefix;
	max = shl128(1, hostlen) - 1;
	room = ldexp(1, hostlen);
	/* a negative host number counts back from the last address: -1 is the last one */
	if (hostnum >= 0 ? hostnum >= room : -hostnum - 1 >= room) {
		num_text(hostnum, &num);
		fail(&c, 1, "prefix of %s does not accommodate a host numbered %s",
		     shown_long(args[0], net.prefix), shown_text(args[1], buf_cstr(&num)));
		buf_release(&num);
		return NULL;
	}
	h = hostnum >= 0 ? (u128)hostnum : max - ((u128)(-hostnum) - 1);
	fmt_ip(net.addr | h, net.bits, &out);
	return str_value(&out);
}

static struct value *f_cidrnetmask(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "cidrnetmask" };
	struct ipnet net;
	struct buf out = BUF_INIT;

	(void)n;
	if (want_cidr(&c, args, &net))
		return NULL;
	if (net.bits == 128)
		return fail(&c, 0, "IPv6 addresses cannot have a netmask: %s", shown(args[0]));
	fmt_ip(net_mask(net.prefix, 32), 32, &out);
	return str_value(&out);
}

/* ---- files ----
 * Paths are relative to fc->base_dir (the module's directory), and "~" is the home
 * directory, as in Terraform. Messages show the path as it was written. */

/* The path of argument arg with ~ expanded and, with join_base, relative paths taken from the
 * base directory. */
static char *resolve_path(const struct fctx *c, int arg, const char *path, size_t len,
			  int join_base)
{
	const char *base = c->fc->base_dir;

	if (strlen(path) != len) {
		fail(c, arg, "the path must not contain a NUL character");
		return NULL;
	}
	if (path[0] == '~') {
		const char *home = getenv("HOME");
		if (path[1] && path[1] != '/') {
			fail(c, arg, "failed to expand ~: cannot expand user-specific home dir");
			return NULL;
		}
		if (!home || !*home) {
			fail(c, arg, "failed to expand ~: $HOME is not set");
			return NULL;
		}
		return xasprintf("%s%s", home, path + 1);
	}
	if (!join_base || path[0] == '/' || !base || !*base)
		return xstrdup(path);
	return xasprintf("%s/%s", base, path);
}

/* Reads the file named by argument 0 into out; returns the resolved path (to free), or NULL
 * after an error. */
static char *read_file_arg(const struct fctx *c, struct value **args, struct buf *out)
{
	struct buf tmp = BUF_INIT;
	const char *path;
	char *full = NULL;
	size_t len;
	int fd = -1;
	struct stat st;

	if (!(path = want_str(c, args, 0, "the path", &tmp, &len)) ||
	    !(full = resolve_path(c, 0, path, len, 1)))
		goto fail;
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			fail(c, 0, "no file exists at %s; this function works only with files that "
			     "are distributed as part of the configuration source code, so if this "
			     "file will be created by a resource in this configuration you must "
			     "instead obtain this result from an attribute of that resource",
			     shown_text(args[0], path));
		else
			fail(c, 0, "cannot open %s: %s", shown_text(args[0], path), strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		fail(c, 0, "failed to read file: read %s: is a directory", shown_text(args[0], path));
		goto fail;
	}
	for (;;) {
		ssize_t got;
		buf_grow(out, 65536);
		got = read(fd, out->data + out->len, out->cap - out->len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			fail(c, 0, "failed to read file: read %s: %s", shown_text(args[0], path),
			     strerror(errno));
			goto fail;
		}
		if (!got)
			break;
		out->len += (size_t)got;
		out->data[out->len] = '\0';
	}
	close(fd);
	buf_release(&tmp);
	return full;
fail:
	if (fd >= 0)
		close(fd);
	free(full);
	buf_release(&tmp);
	return NULL;
}

static struct value *f_file(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "file" };
	struct buf data = BUF_INIT;
	char *full;

	(void)n;
	if (!(full = read_file_arg(&c, args, &data)))
		goto fail;
	free(full);
	if (!utf8_valid(data.data ? data.data : "", data.len)) {
		fail(&c, 0, "contents of %s are not valid UTF-8; use the filebase64 function to "
		     "obtain the Base64 encoded contents or the other file functions (e.g. filemd5, "
		     "filesha256) to obtain file hashing results instead", shown(args[0]));
		goto fail;
	}
	return str_value(&data);
fail:
	buf_release(&data);
	return NULL;
}

/* filesha256 and the other file hashes, and filebase64 (md NULL): the digest or the base64
 * of a file's bytes, whatever they are. */
static struct value *hash_file(struct func_call *fc, struct value **args, const char *fn,
			       const EVP_MD *md, int b64)
{
	struct fctx c = { fc, fn };
	struct buf data = BUF_INIT;
	struct value *r = NULL;
	char *full;

	if ((full = read_file_arg(&c, args, &data))) {
		if (md)
			r = digest_value(md, data.data ? data.data : "", data.len, b64);
		else if (!(r = b64_value(data.data ? data.data : "", data.len)))
			fail(&c, 0, "the file is too large to encode");
		free(full);
	}
	buf_release(&data);
	return r;
}

/* The table's entry for a file's hash: filemd5, ..., filebase64sha512, and filebase64 (no
 * digest). */
#define HASH_FILE_FN(name, md, b64)							\
	static struct value *f_##name(struct func_call *fc, struct value **args, size_t n) \
	{										\
		(void)n;								\
		return hash_file(fc, args, #name, md, b64);				\
	}

HASH_FILE_FN(filebase64, NULL, 1)
HASH_FILE_FN(filebase64sha256, EVP_sha256(), 1)
HASH_FILE_FN(filebase64sha512, EVP_sha512(), 1)
HASH_FILE_FN(filemd5, EVP_md5(), 0)
HASH_FILE_FN(filesha1, EVP_sha1(), 0)
HASH_FILE_FN(filesha256, EVP_sha256(), 0)
HASH_FILE_FN(filesha512, EVP_sha512(), 0)

static struct value *f_fileexists(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "fileexists" };
	struct buf tmp = BUF_INIT;
	const char *path;
	char *full = NULL;
	size_t len;
	struct stat st;
	struct value *r = NULL;

	(void)n;
	if (!(path = want_str(&c, args, 0, "the path", &tmp, &len)) ||
	    !(full = resolve_path(&c, 0, path, len, 1)))
		goto out;
	if (stat(full, &st)) {
		if (errno == ENOENT)
			r = val_bool(0);
		else
			fail(&c, 0, "failed to stat %s: %s", shown_text(args[0], path), strerror(errno));
	} else if (S_ISREG(st.st_mode)) {
		r = val_bool(1);
	} else {
		fail(&c, 0, "%s is %s", shown_text(args[0], path), S_ISDIR(st.st_mode) ? "a directory, not a file" :
		     S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device node, not a regular file" :
		     S_ISFIFO(st.st_mode) ? "a named pipe, not a regular file" :
		     S_ISSOCK(st.st_mode) ? "a unix domain socket, not a regular file" :
		     "not a regular file");
	}
out:
	free(full);
	buf_release(&tmp);
	return r;
}

static int is_identifier(const char *s)
{
	if (!((*s | 32) >= 'a' && (*s | 32) <= 'z') && *s != '_' && (unsigned char)*s < 0x80)
		return 0;
	for (; *s; s++)
		if (!((*s | 32) >= 'a' && (*s | 32) <= 'z') && !(*s >= '0' && *s <= '9') &&
		    *s != '_' && *s != '-' && (unsigned char)*s < 0x80)
			return 0;
	return 1;
}

/* templatefile's vars: a map whose keys a template can refer to. */
static int check_template_vars(const struct fctx *c, const struct value *vars)
{
	if (vars->kind == VAL_NULL) {
		fail(c, 1, "vars must not be null");
		return -1;
	}
	if (vars->kind != VAL_MAP) {
		fail(c, 1, "invalid vars value: must be a map, not %s", a_kind(vars));
		return -1;
	}
	for (size_t i = 0; i < vars->u.map.n; i++)
		if (!is_identifier(vars->u.map.items[i].key)) {
			/* a sensitive map's keys are as secret as its values */
			fail(c, 1, "invalid template variable name %s%s%s: must start with a letter, "
			     "followed by zero or more letters, digits, and underscores",
			     val_is_sensitive(vars) ? "" : "\"",
			     shown_text(vars, vars->u.map.items[i].key),
			     val_is_sensitive(vars) ? "" : "\"");
			return -1;
		}
	return 0;
}

/* templatefile(path, vars): the evaluator renders the template; this checks the arguments
 * as Terraform does (the file first, then the vars) and hands over the path as written, with
 * only ~ expanded: the renderer takes a relative path from base_dir itself. */
static struct value *f_templatefile(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "templatefile" };
	struct buf data = BUF_INIT, tmp = BUF_INIT;
	struct value *r = NULL;
	char *full, *given = NULL;
	const char *path;
	size_t len;
	int utf8;

	(void)n;
	if (!(full = read_file_arg(&c, args, &data))) {
		buf_release(&data);
		return NULL;
	}
	utf8 = utf8_valid(data.data ? data.data : "", data.len);
	buf_release(&data);
	free(full);
	if (!utf8) {
		fail(&c, 0, "contents of %s are not valid UTF-8", shown(args[0]));
	} else if (!check_template_vars(&c, args[1])) {
		if (!fc->render_template)
			fail(&c, -1, "internal error: no template renderer was given");
		else if ((path = want_str(&c, args, 0, "the path", &tmp, &len)) &&
			 (given = resolve_path(&c, 0, path, len, 0)))
			r = fc->render_template(fc, given, args[1]);
	}
	free(given);
	buf_release(&tmp);
	return r;
}

/* templatestring(ref, vars): the string rendered as a template, as Terraform 1.9's. The
 * evaluator checks that ref is a reference and renders. */
static struct value *f_templatestring(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "templatestring" };
	struct diag_ctx quiet, *saved = fc->diag;
	struct value *r;
	unsigned errors;

	(void)n;
	if (args[0]->kind != VAL_STRING)
		return fail(&c, 0, "invalid template: must be a string, not %s", a_kind(args[0]));
	if (check_template_vars(&c, args[1]))
		return NULL;
	if (!fc->render_string)
		return fail(&c, -1, "internal error: no template renderer was given");
	if (!val_is_sensitive(args[0]))
		return fc->render_string(fc, args[0]->u.str.s, args[0]->u.str.len, args[1]);
	/* a message about a secret template would quote its text */
	diag_init(&quiet);
	fc->diag = &quiet;
	r = fc->render_string(fc, args[0]->u.str.s, args[0]->u.str.len, args[1]);
	fc->diag = saved;
	errors = quiet.errors;
	diag_release(&quiet);
	if (r && !errors)
		return r;
	val_unref(r);
	return fail(&c, 0, "the template is a sensitive value, and its errors are not shown");
}

/* The current time in UTC as RFC 3339 to the second, as Go's time.RFC3339 formats it. */
static void rfc3339_now(char *s, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(s, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* timestamp(): the current time in UTC, RFC 3339. Terraform knows it at plan time and it
 * changes on every run, so it is a known value here too. */
static struct value *f_timestamp(struct func_call *fc, struct value **args, size_t n)
{
	char s[64];

	(void)fc;
	(void)args;
	(void)n;
	rfc3339_now(s, sizeof s);
	return val_cstring(s);
}

/* plantimestamp(): the time the plan was made. Taken once per process, at the first call,
 * so that every call of a run (every module, every instance, every evaluating thread) sees
 * one value, as Terraform's which it takes when the plan starts. */
static pthread_once_t plan_time_once = PTHREAD_ONCE_INIT;
static char plan_time[64];

static void plan_time_init(void)
{
	rfc3339_now(plan_time, sizeof plan_time);
}

static struct value *f_plantimestamp(struct func_call *fc, struct value **args, size_t n)
{
	(void)fc;
	(void)args;
	(void)n;
	pthread_once(&plan_time_once, plan_time_init);
	return val_cstring(plan_time);
}

/* ---- dates ----
 * Timestamps are read as Go's time.Parse(time.RFC3339, ...) reads them, since Terraform's
 * parseTimestamp is that call: with its leniencies (a one-digit hour, a comma before the
 * fraction, offsets up to 24:60) and its errors in cty's words. A time keeps the offset it
 * was written with, and is shown in it. */

struct gotime {
	int64_t sec;    /* seconds since the epoch, UTC */
	long nsec;      /* 0 .. 999999999 */
	int off;        /* the timestamp's own offset east of UTC, in seconds */
};

/* cty's message for Go's time.ParseError: elem is the layout element that failed ("" past
 * the end), rest the input from where it failed, range_msg Go's own ": ... out of range"
 * text when it has one. */
static void ts_error(const struct value *v, const char *elem, const char *rest, size_t rn,
		     const char *range_msg, struct buf *out)
{
	static const char *const names[][2] = {
		{ "2006", "year" }, { "01", "month" }, { "02", "day of month" }, { "15", "hour" },
		{ "04", "minute" }, { "05", "second" }, { "Z07:00", "UTC offset" },
	};
	const char *what = "timestamp segment";

	buf_addstr(out, "not a valid RFC3339 timestamp");
	if (!*elem && !rn && range_msg) {
		buf_addstr(out, range_msg);
		return;
	}
	if (!strcmp(elem, "T")) {
		buf_addstr(out, ": missing required time introducer 'T'");
		return;
	}
	if (!strcmp(elem, ":") || !strcmp(elem, "-")) {
		if (!rn) {
			buf_printf(out, ": end of string where \"%s\" is expected", elem);
		} else {
			buf_addstr(out, ": found ");
			quoted_from(v, rest, rn, out);
			buf_printf(out, " where \"%s\" is expected", elem);
		}
		return;
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(elem, names[i][0]))
			what = names[i][1];
	if (!rn) {
		buf_printf(out, ": end of string before %s", what);
		return;
	}
	buf_addstr(out, ": cannot use ");
	quoted_from(v, rest, rn, out);
	buf_printf(out, " as %s", what);
}

static int is_digit_at(const char *s, size_t n, size_t i)
{
	return i < n && s[i] >= '0' && s[i] <= '9';
}

/* Go's getnum: one or two digits (exactly two when fixed); -1, consuming nothing, if there
 * are none. */
static int go_getnum(const char *s, size_t n, size_t *i, int fixed)
{
	if (!is_digit_at(s, n, *i))
		return -1;
	if (!is_digit_at(s, n, *i + 1)) {
		if (fixed)
			return -1;
		return s[(*i)++] - '0';
	}
	*i += 2;
	return (s[*i - 2] - '0') * 10 + (s[*i - 1] - '0');
}

static int days_in(int month, int year)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
	return month == 2 && leap ? 29 : days[month - 1];
}

/* Reads argument arg as an RFC 3339 timestamp; fails naming what is wrong. */
static int want_time(const struct fctx *c, struct value **args, int arg, struct gotime *t)
{
	/* the layout's elements, in order, with the separator before each */
	static const char *const elems[] = { "2006", "01", "02", "15", "04", "05" };
	static const char seps[] = { 0, '-', '-', 'T', ':', ':' };
	struct buf tmp = BUF_INIT, msg = BUF_INIT;
	const char *s, *elem = "", *range_msg = NULL;
	size_t n, i = 0, at = 0;
	int f[6] = { 0 }, ok = 0;
	struct tm tm;

	if (!(s = want_str(c, args, arg, "the timestamp", &tmp, &n)))
		goto out;
	for (int k = 0; k < 6; k++) {
		size_t start;
		if (seps[k]) {
			if (i >= n || s[i] != seps[k]) {
				elem = seps[k] == 'T' ? "T" : seps[k] == '-' ? "-" : ":";
				at = i;
				goto bad;
			}
			i++;
		}
		elem = elems[k];
		start = i;
		if (k == 0) {
			/* four characters, the first a digit, then Go's atoi of them */
			if (n - i < 4 || !is_digit_at(s, n, i)) {
				at = i;
				goto bad;
			}
			i += 4;
			for (size_t j = start; j < i; j++)
				if (!is_digit_at(s, n, j)) {
					at = i;
					goto bad;
				}
			f[0] = (s[start] - '0') * 1000 + (s[start + 1] - '0') * 100 +
			       (s[start + 2] - '0') * 10 + (s[start + 3] - '0');
			continue;
		}
		if ((f[k] = go_getnum(s, n, &i, k != 3)) < 0) {
			at = i;
			goto bad;
		}
		if ((k == 1 && (f[k] < 1 || f[k] > 12)) || (k == 3 && f[k] >= 24) ||
		    (k >= 4 && f[k] >= 60)) {
			at = i;
			goto bad;
		}
	}
	/* a fraction of a second, when there are digits after the point: Go keeps nine */
	t->nsec = 0;
	if (n - i >= 2 && (s[i] == '.' || s[i] == ',') && is_digit_at(s, n, i + 1)) {
		size_t j = i + 1, k;
		for (k = 0; is_digit_at(s, n, j); j++, k++)
			if (k < 9)
				t->nsec = t->nsec * 10 + (s[j] - '0');
		for (; k < 9; k++)
			t->nsec *= 10;
		i = j;
	}
	elem = "Z07:00";
	if (i < n && s[i] == 'Z') {
		t->off = 0;
		i++;
	} else {
		int hr, mm;
		size_t p;
		if (n - i < 6 || s[i + 3] != ':') {
			at = i;
			goto bad;
		}
		p = i + 1;
		hr = go_getnum(s, i + 3, &p, 1);
		p = i + 4;
		mm = hr < 0 ? -1 : go_getnum(s, i + 6, &p, 1);
		i += 6;
		at = i;
		if (hr < 0 || mm < 0 || hr > 24 || mm > 60 || (s[i - 6] != '+' && s[i - 6] != '-'))
			goto bad;
		t->off = (s[i - 6] == '-' ? -1 : 1) * (hr * 60 + mm) * 60;
	}
	if (i < n) {
		elem = "";
		at = i;
		goto bad;
	}
	if (f[2] < 1 || f[2] > days_in(f[1], f[0])) {
		elem = "";
		at = n;
		range_msg = ": day out of range";
		goto bad;
	}
	memset(&tm, 0, sizeof tm);
	tm.tm_year = f[0] - 1900;
	tm.tm_mon = f[1] - 1;
	tm.tm_mday = f[2];
	tm.tm_hour = f[3];
	tm.tm_min = f[4];
	tm.tm_sec = f[5];
	t->sec = (int64_t)timegm(&tm) - t->off;
	ok = 1;
	goto out;
bad:
	ts_error(args[arg], elem, s + at, n - at, range_msg, &msg);
	fail(c, arg, "%s", msg.data);
out:
	buf_release(&tmp);
	buf_release(&msg);
	return ok ? 0 : -1;
}

/* The fields of t's time of day and date in its own offset. */
static void time_fields(const struct gotime *t, struct tm *tm)
{
	time_t local = (time_t)(t->sec + t->off);
	gmtime_r(&local, tm);
}

/* An offset as Go's layouts "Z07:00" (z_utc, colon), "-07:00" (colon) and "-0700" write it. */
static void zone_text(int off, int z_utc, int colon, struct buf *out)
{
	int zone = off / 60;

	if (z_utc && !off) {
		buf_addch(out, 'Z');
		return;
	}
	buf_printf(out, "%c%02d%s%02d", zone < 0 ? '-' : '+', abs(zone) / 60, colon ? ":" : "",
		   abs(zone) % 60);
}

/* Go's time.RFC3339 layout: the year with at least four digits, no fraction. */
static struct value *time_value(const struct gotime *t)
{
	struct buf b = BUF_INIT;
	struct tm tm;
	long year;

	time_fields(t, &tm);
	year = (long)tm.tm_year + 1900;
	buf_printf(&b, "%s%04ld-%02d-%02dT%02d:%02d:%02d", year < 0 ? "-" : "", labs(year),
		   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	zone_text(t->off, 1, 1, &b);
	return str_value(&b);
}

static const char *const month_names[] = {
	"January", "February", "March", "April", "May", "June", "July", "August", "September",
	"October", "November", "December",
};
static const char *const day_names[] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};

/* One verb of formatdate's spec: a run of len copies of letter ch. Returns the message for
 * a run that is not a verb, else NULL. */
static const char *date_verb(char ch, size_t len, const struct tm *tm, int off, struct buf *out)
{
	int h12 = tm->tm_hour % 12 ? tm->tm_hour % 12 : 12;
	int num = -1;

	switch (ch) {
	case 'Y':
		if (len == 2)
			buf_printf(out, "%02d", (tm->tm_year + 1900) % 100);
		else if (len == 4)
			buf_printf(out, "%04d", tm->tm_year + 1900);
		else
			return "year must either be \"YY\" or \"YYYY\"";
		return NULL;
	case 'M':
		if (len == 3 || len == 4) {
			buf_add(out, month_names[tm->tm_mon], len == 3 ? 3 : strlen(month_names[tm->tm_mon]));
			return NULL;
		}
		num = tm->tm_mon + 1;
		if (len > 2)
			return "month must be \"M\", \"MM\", \"MMM\", or \"MMMM\"";
		break;
	case 'D':
		num = tm->tm_mday;
		if (len > 2)
			return "day of month must either be \"D\" or \"DD\"";
		break;
	case 'E':
		if (len != 3 && len != 4)
			return "day of week must either be \"EEE\" or \"EEEE\"";
		buf_add(out, day_names[tm->tm_wday], len == 3 ? 3 : strlen(day_names[tm->tm_wday]));
		return NULL;
	case 'h':
		num = tm->tm_hour;
		if (len > 2)
			return "24-hour must either be \"h\" or \"hh\"";
		break;
	case 'H':
		num = h12;
		if (len > 2)
			return "12-hour must either be \"H\" or \"HH\"";
		break;
	case 'A':
	case 'a':
		if (len != 2)
			return ch == 'A' ? "must be \"AA\"" : "must be \"aa\"";
		buf_addstr(out, tm->tm_hour < 12 ? (ch == 'A' ? "AM" : "am") : (ch == 'A' ? "PM" : "pm"));
		return NULL;
	case 'm':
		num = tm->tm_min;
		if (len > 2)
			return "minute must either be \"m\" or \"mm\"";
		break;
	case 's':
		num = tm->tm_sec;
		if (len > 2)
			return "second must either be \"s\" or \"ss\"";
		break;
	case 'Z':
		if (len == 1)
			zone_text(off, 1, 1, out);
		else if (len == 3 && !off)
			buf_addstr(out, "UTC");
		else if (len == 3 || len == 4)
			zone_text(off, 0, 0, out);
		else if (len == 5)
			zone_text(off, 0, 1, out);
		else
			return "timezone must be Z, ZZZZ, or ZZZZZ";
		return NULL;
	default:
		return "";
	}
	buf_printf(out, len == 2 ? "%02d" : "%d", num);
	return NULL;
}

static int is_letter(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* formatdate(spec, timestamp): cty's FormatDate. The spec is split as its scanner splits
 * it: a quoted literal (with '' for a quote), a run of one letter (a verb), or other text. */
static struct value *f_formatdate(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "formatdate" };
	struct buf tmp = BUF_INIT, out = BUF_INIT, q = BUF_INIT;
	struct value *r = NULL;
	struct gotime t;
	struct tm tm;
	const char *f, *why;
	size_t len, i = 0;

	(void)n;
	if (!(f = want_str(&c, args, 0, "the format", &tmp, &len)) || want_time(&c, args, 1, &t))
		goto out;
	time_fields(&t, &tm);
	while (i < len) {
		size_t j = i + 1;
		if (f[i] == '\'' && j < len && f[j] == '\'') {
			buf_addch(&out, '\'');
			i += 2;
		} else if (f[i] == '\'') {
			/* to the closing quote, past doubled ones; or to the end when there is none,
			 * where a last doubled quote still closes it (as in cty) */
			for (; j < len; j++) {
				if (f[j] == '\'' && j + 1 < len && f[j + 1] == '\'')
					j++;
				else if (f[j] == '\'')
					break;
			}
			j = j < len ? j + 1 : len;
			if (j - i == 1 || f[j - 1] != '\'') {
				fail(&c, 0, "unterminated literal '; write a quote in literal text as ''");
				goto out;
			}
			for (size_t k = i + 1; k < j - 1; k++) {
				buf_addch(&out, f[k]);
				if (f[k] == '\'')
					k++;
			}
			i = j;
		} else if (is_letter(f[i])) {
			while (j < len && f[j] == f[i])
				j++;
			if ((why = date_verb(f[i], j - i, &tm, t.off, &out))) {
				quoted_from(args[0], f + i, j - i, &q);
				fail(&c, 0, "invalid date format verb %s%s%s%s", q.data, *why ? ": " : "",
				     why, *why ? "" : "; put literal letters in single quotes");
				goto out;
			}
			i = j;
		} else {
			while (j < len && f[j] != '\'' && !is_letter(f[j]))
				j++;
			buf_add(&out, f + i, j - i);
			i = j;
		}
	}
	r = str_value(&out);
out:
	buf_release(&tmp);
	buf_release(&out);
	buf_release(&q);
	return r;
}

/* Go's time package quotes text its own way: every byte outside printable ASCII as \xNN.
 * Text from a sensitive v is "(sensitive value)". */
static void time_quote(const struct value *v, const char *s, size_t n, struct buf *out)
{
	if (val_is_sensitive(v)) {
		buf_addstr(out, "(sensitive value)");
		return;
	}
	buf_addch(out, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch >= 0x80)
			buf_printf(out, "\\x%02x", ch);
		else
			buf_printf(out, ch == '"' || ch == '\\' ? "\\%c" : "%c", ch);
	}
	buf_addch(out, '"');
}

/* Go's time.ParseDuration of argument v's text s; returns the message for text it does not
 * take (in Go's words), else NULL. */
static const char *go_duration(const struct value *dv, const char *s, size_t n, int64_t *out,
			       struct buf *msg)
{
	static const struct { const char *name; uint64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\u00b5s", 1000 }, { "\u03bcs", 1000 },
		{ "ms", 1000000 }, { "s", 1000000000 }, { "m", 60000000000 }, { "h", 3600000000000 },
	};
	const uint64_t lim = (uint64_t)1 << 63;
	uint64_t d = 0;
	size_t i = 0;
	int neg = 0;

	if (n && (s[0] == '-' || s[0] == '+'))
		neg = s[i++] == '-';
	if (n - i == 1 && s[i] == '0') {
		*out = 0;
		return NULL;
	}
	if (i == n)
		goto invalid;
	while (i < n) {
		uint64_t v = 0, f = 0, unit = 0;
		double scale = 1;
		size_t start = i, u;
		int pre, post = 0, overflow = 0;

		if (s[i] != '.' && !is_digit_at(s, n, i))
			goto invalid;
		for (; is_digit_at(s, n, i); i++) {
			if (v > lim / 10)
				goto invalid;
			v = v * 10 + (uint64_t)(s[i] - '0');
			if (v > lim)
				goto invalid;
		}
		pre = i != start;
		if (i < n && s[i] == '.') {
			/* Go stops taking digits of a fraction where they would overflow */
			for (start = ++i; is_digit_at(s, n, i); i++) {
				uint64_t y;
				if (overflow || f > (lim - 1) / 10) {
					overflow = 1;
					continue;
				}
				y = f * 10 + (uint64_t)(s[i] - '0');
				if (y > lim) {
					overflow = 1;
					continue;
				}
				f = y;
				scale *= 10;
			}
			post = i != start;
		}
		if (!pre && !post)
			goto invalid;
		for (u = i; i < n && s[i] != '.' && !is_digit_at(s, n, i); i++)
			;
		if (i == u) {
			buf_addstr(msg, "time: missing unit in duration ");
			goto quote;
		}
		for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
			if (strlen(units[k].name) == i - u && !memcmp(units[k].name, s + u, i - u))
				unit = units[k].ns;
		if (!unit) {
			buf_addstr(msg, "time: unknown unit ");
			time_quote(dv, s + u, i - u, msg);
			buf_addstr(msg, " in duration ");
			goto quote;
		}
		if (v > lim / unit)
			goto invalid;
		v *= unit;
		if (f > 0 && (v += (uint64_t)((double)f * ((double)unit / scale))) > lim)
			goto invalid;
		if ((d += v) > lim)
			goto invalid;
	}
	if (!neg && d > lim - 1)
		goto invalid;
	*out = neg ? (int64_t)(0 - d) : (int64_t)d;
	return NULL;
invalid:
	buf_addstr(msg, "time: invalid duration ");
quote:
	time_quote(dv, s, n, msg);
	return msg->data;
}

/* timeadd(timestamp, duration): Go's t.Add(d), in t's offset, to the second. */
static struct value *f_timeadd(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "timeadd" };
	struct buf tmp = BUF_INIT, msg = BUF_INIT;
	struct value *r = NULL;
	struct gotime t;
	const char *s, *why;
	size_t len;
	int64_t d = 0;

	(void)n;
	if (want_time(&c, args, 0, &t) || !(s = want_str(&c, args, 1, "the duration", &tmp, &len)))
		goto out;
	if ((why = go_duration(args[1], s, len, &d, &msg))) {
		fail(&c, 1, "%s; a duration is numbers with units, such as \"1h30m\", \"-10m\" or "
		     "\"1.5s\" (units ns, us, ms, s, m, h)", why);
		goto out;
	}
	t.sec += d / 1000000000;
	t.nsec += (long)(d % 1000000000);
	if (t.nsec < 0) {
		t.nsec += 1000000000;
		t.sec--;
	} else if (t.nsec >= 1000000000) {
		t.nsec -= 1000000000;
		t.sec++;
	}
	r = time_value(&t);
out:
	buf_release(&tmp);
	buf_release(&msg);
	return r;
}

/* timecmp(a, b): -1, 0 or 1 as a is before, at or after b, whatever their offsets. */
static struct value *f_timecmp(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "timecmp" };
	struct gotime a, b;

	(void)n;
	if (want_time(&c, args, 0, &a) || want_time(&c, args, 1, &b))
		return NULL;
	if (a.sec != b.sec)
		return val_number(a.sec < b.sec ? -1 : 1);
	return val_number(a.nsec < b.nsec ? -1 : a.nsec > b.nsec);
}

/* ---- paths: Go's path/filepath on Unix, as Terraform's basename, dirname, abspath and
 * pathexpand call it. They work on the text alone (abspath and pathexpand add the working
 * and home directories) and never look at the file system's links. ---- */

/* filepath.Clean: the shortest path that names the same file by processing the text. */
static void go_clean(const char *p, size_t n, struct buf *out)
{
	size_t r = 0, dotdot = 0, base = out->len;
	int rooted = n && p[0] == '/';

	if (rooted) {
		buf_addch(out, '/');
		r = dotdot = 1;
	}
	while (r < n) {
		if (p[r] == '/') {
			r++;
		} else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
			r++;
		} else if (p[r] == '.' && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/')) {
			r += 2;
			if (out->len - base > dotdot) {
				/* back to the separator before the last element */
				out->len--;
				while (out->len - base > dotdot && out->data[out->len] != '/')
					out->len--;
			} else if (!rooted) {
				if (out->len > base)
					buf_addch(out, '/');
				buf_addstr(out, "..");
				dotdot = out->len - base;
			}
		} else {
			if (out->len - base != (size_t)rooted)
				buf_addch(out, '/');
			for (; r < n && p[r] != '/'; r++)
				buf_addch(out, p[r]);
		}
	}
	if (out->len == base)
		buf_addch(out, '.');
	buf_addch(out, '\0');
	out->len--;
}

/* filepath.Join(dir, rest): the two cleaned as one, rest skipped when empty. */
static void go_join(const char *dir, const char *rest, size_t rn, struct buf *out)
{
	struct buf b = BUF_INIT;

	buf_addstr(&b, dir);
	if (rn) {
		buf_addch(&b, '/');
		buf_add(&b, rest, rn);
	}
	go_clean(b.data, b.len, out);
	buf_release(&b);
}

/* One path argument, as it is: each of these functions takes any text. */
static const char *want_path(const struct fctx *c, struct value **args, struct buf *tmp,
			     size_t *len)
{
	return want_str(c, args, 0, "the path", tmp, len);
}

/* basename(path): filepath.Base, the last element: "." for "", "/" for only slashes. */
static struct value *f_basename(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "basename" };
	struct buf tmp = BUF_INIT;
	const char *p;
	size_t len, i;
	struct value *r = NULL;

	(void)n;
	if (!(p = want_path(&c, args, &tmp, &len)))
		goto out;
	if (!len) {
		r = val_cstring(".");
		goto out;
	}
	while (len && p[len - 1] == '/')
		len--;
	for (i = len; i && p[i - 1] != '/'; i--)
		;
	r = len ? val_string(p + i, len - i) : val_cstring("/");
out:
	buf_release(&tmp);
	return r;
}

/* dirname(path): filepath.Dir, all but the last element, cleaned. */
static struct value *f_dirname(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "dirname" };
	struct buf tmp = BUF_INIT, out = BUF_INIT;
	const char *p;
	size_t len;
	struct value *r = NULL;

	(void)n;
	if ((p = want_path(&c, args, &tmp, &len))) {
		while (len && p[len - 1] != '/')
			len--;
		go_clean(p, len, &out);
		r = str_value(&out);
	}
	buf_release(&tmp);
	buf_release(&out);
	return r;
}

/* os.Getwd: $PWD when it names the working directory (so a path through a link stays as
 * the shell shows it), else getcwd's. NULL with errno set when there is none. */
static char *go_getwd(void)
{
	const char *pwd = getenv("PWD");
	struct stat dot, st;
	char *wd;

	if (pwd && pwd[0] == '/' && !stat(".", &dot) && !stat(pwd, &st) && dot.st_dev == st.st_dev &&
	    dot.st_ino == st.st_ino)
		return xstrdup(pwd);
	for (size_t size = 256;; size *= 2) {
		wd = xmalloc(size);
		if (getcwd(wd, size))
			return wd;
		free(wd);
		if (errno != ERANGE)
			return NULL;
	}
}

/* abspath(path): filepath.Abs, the path cleaned and, when relative, taken from the directory
 * stk runs in (as in Terraform: not the module's). */
static struct value *f_abspath(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "abspath" };
	struct buf tmp = BUF_INIT, out = BUF_INIT;
	const char *p;
	char *wd = NULL;
	size_t len;
	struct value *r = NULL;

	(void)n;
	if (!(p = want_path(&c, args, &tmp, &len)))
		goto out;
	if (len && p[0] == '/') {
		go_clean(p, len, &out);
	} else if (!(wd = go_getwd())) {
		fail(&c, -1, "cannot find the working directory: %s", strerror(errno));
		goto out;
	} else {
		go_join(wd, p, len, &out);
	}
	r = str_value(&out);
out:
	free(wd);
	buf_release(&tmp);
	buf_release(&out);
	return r;
}

/* pathexpand(path): go-homedir's Expand: a leading "~" followed by nothing, "/" or "\" is
 * the home directory ($HOME, else the password database's), joined and cleaned; any other
 * path is as it is. */
static struct value *f_pathexpand(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "pathexpand" };
	struct buf tmp = BUF_INIT, out = BUF_INIT, pw = BUF_INIT;
	const char *p, *home;
	size_t len;
	struct value *r = NULL;

	(void)n;
	if (!(p = want_path(&c, args, &tmp, &len)))
		goto out;
	if (!len || p[0] != '~') {
		r = args[0]->kind == VAL_STRING ? val_ref(args[0]) : val_string(p, len);
		goto out;
	}
	if (len > 1 && p[1] != '/' && p[1] != '\\') {
		fail(&c, 0, "cannot expand user-specific home dir; only ~ alone or ~/ at the start "
		     "of the path is expanded");
		goto out;
	}
	if (!(home = getenv("HOME")) || !*home) {
		struct passwd pwd, *found = NULL;
		buf_grow(&pw, 16384);
		if (getpwuid_r(getuid(), &pwd, pw.data, pw.cap, &found) || !found ||
		    !found->pw_dir || !*found->pw_dir) {
			fail(&c, 0, "cannot find the home directory: $HOME is not set and the user "
			     "has none in the password database");
			goto out;
		}
		home = found->pw_dir;
	}
	go_join(home, p + 1, len - 1, &out);
	r = str_value(&out);
out:
	buf_release(&tmp);
	buf_release(&out);
	buf_release(&pw);
	return r;
}

/* ---- fileset ----
 * fileset(path, pattern) as Terraform's: the pattern joined to the path and cleaned
 * (filepath.Join), globbed as bmatcuk/doublestar (v1, the version Terraform links) globs,
 * and of what matched, the regular files (symbolic links followed), relative to the path,
 * as a set. Each component of the pattern is matched by fnmatch() in a UTF-8 locale: "*",
 * "?", "[class]" and "\" escapes, none of them matching a "/", and a leading dot like any
 * other character. doublestar's own parts are done here: "{a,b}" alternatives are expanded
 * first, and a "**" component matches zero or more directories, walked with opendir().
 * Where a group was, the expansion leaves a GLOB_ALT byte: a component with one is matched
 * against the directory's entries, as doublestar matches any component with a "{", so that
 * "{.}{.}" is not the parent directory and "a/{,b}/c" is not "a/c". */

#define GLOB_ALT '\001'

/* The end of the class that starts with the "[" at p[i], or 0 when it is not closed. */
static size_t glob_class_end(const char *p, size_t n, size_t i)
{
	size_t j = i + 1;

	if (j < n && (p[j] == '!' || p[j] == '^'))
		j++;
	if (j < n && p[j] == ']')
		j++;
	while (j < n && p[j] != ']')
		j++;
	return j < n ? j : 0;
}

/* The next character of p[i..n) outside escapes and classes that is one of chars, at depth 0
 * of "{}" when depth is given; n when there is none. A "\" at the end or a class not closed
 * ends the scan with *bad set. */
static size_t glob_scan(const char *p, size_t n, size_t i, const char *chars, int nested, int *bad)
{
	int depth = 0;

	for (; i < n; i++) {
		if (p[i] == '\\') {
			if (++i == n)
				*bad = 1;
		} else if (p[i] == '[') {
			size_t end = glob_class_end(p, n, i);
			if (!end) {
				*bad = 1;
				return n;
			}
			i = end;
		} else if (nested && p[i] == '{' && !strchr(chars, '{')) {
			depth++;
		} else if (nested && p[i] == '}' && depth) {
			depth--;
		} else if (!depth && strchr(chars, p[i])) {
			return i;
		}
	}
	return n;
}

/* doublestar matches alternatives as it goes; expanded here, "{a,b}" twenty times over
 * would be a million patterns, so there is a bound */
#define GLOB_MAX_PATTERNS 4096

/* Appends to out (a buf of char *) every pattern without "{...}" that p[0..n) stands for;
 * returns -1 when p is not a valid pattern (doublestar's ErrBadPattern), -2 when it stands
 * for more than GLOB_MAX_PATTERNS. */
static int glob_expand(const char *p, size_t n, struct buf *out)
{
	int bad = 0;
	size_t open = glob_scan(p, n, 0, "{", 0, &bad), close, start;
	struct buf alts = BUF_INIT;

	if (bad)
		return -1;
	if (open == n) {
		if (buf_count(out, char *) >= GLOB_MAX_PATTERNS)
			return -2;
		buf_push(out, char *, xstrdup(p));
		return 0;
	}
	/* the commas and the closing brace of this group, at its own depth */
	for (start = open + 1;; start = close + 1) {
		close = glob_scan(p, n, start, ",}", 1, &bad);
		if (bad || close == n) {
			buf_release(&alts);
			return -1;
		}
		buf_push(&alts, size_t, start);
		buf_push(&alts, size_t, close);
		if (p[close] == '}')
			break;
	}
	for (size_t k = 0; k < buf_count(&alts, size_t); k += 2) {
		size_t a = buf_at(&alts, size_t, k), b = buf_at(&alts, size_t, k + 1);
		struct buf one = BUF_INIT;
		buf_add(&one, p, open);
		buf_addch(&one, GLOB_ALT);
		buf_add(&one, p + a, b - a);
		buf_add(&one, p + close + 1, n - close - 1);
		bad = glob_expand(buf_cstr(&one), one.len, out);
		buf_release(&one);
		if (bad)
			break;
	}
	buf_release(&alts);
	return bad;
}

/* dir joined with name: just name when dir is "" (the directory stk runs in). */
static char *glob_join(const char *dir, const char *name)
{
	if (!*dir)
		return xstrdup(name);
	return xasprintf("%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
}

static int glob_has_meta(const char *s)
{
	return strpbrk(s, "*?[\\" "\001") != NULL;
}

/* Does the name match the component, GLOB_ALT bytes left out? */
static int glob_match(const char *comp, const char *name)
{
	struct buf pat = BUF_INIT;
	locale_t prev;
	int hit;

	for (; *comp; comp++)
		if (*comp != GLOB_ALT)
			buf_addch(&pat, *comp);
	/* fnmatch has no locale_t form: this thread's locale, for "?" to be a character */
	prev = uselocale(rx_locale() ? rx_locale() : LC_GLOBAL_LOCALE);
	hit = !fnmatch(buf_cstr(&pat), name, 0);
	uselocale(prev);
	buf_release(&pat);
	return hit;
}

/* Adds to found (a buf of char *) every path under dir that matches comps[0..n); a
 * directory that cannot be read matches nothing, as in doublestar. */
static void glob_walk(const char *dir, char **comps, size_t n, struct buf *found)
{
	DIR *d;
	struct dirent *e;
	struct stat st;

	if (!n) {
		buf_push(found, char *, xstrdup(*dir ? dir : "."));
		return;
	}
	if (!strcmp(comps[0], "**")) {
		/* zero elements, then each directory below (links to directories are not
		 * followed, so that a loop of them ends); last in the pattern, "**" is every
		 * path below, files too */
		glob_walk(dir, comps + 1, n - 1, found);
		if (!(d = opendir(*dir ? dir : ".")))
			return;
		while ((e = readdir(d))) {
			char *sub;
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			sub = glob_join(dir, e->d_name);
			if (!lstat(sub, &st) && S_ISDIR(st.st_mode))
				glob_walk(sub, comps, n, found);
			else if (n == 1)
				buf_push(found, char *, xstrdup(sub));
			free(sub);
		}
		closedir(d);
		return;
	}
	if (!glob_has_meta(comps[0])) {
		char *sub = glob_join(dir, comps[0]);
		if (!lstat(sub, &st))
			glob_walk(sub, comps + 1, n - 1, found);
		free(sub);
		return;
	}
	if (!(d = opendir(*dir ? dir : ".")))
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (glob_match(comps[0], e->d_name)) {
			char *sub = glob_join(dir, e->d_name);
			glob_walk(sub, comps + 1, n - 1, found);
			free(sub);
		}
	}
	closedir(d);
}

/* Globs one pattern without braces (cleaned, so no empty, "." or inner ".." component). */
static void glob_one(const char *pattern, struct buf *found)
{
	struct buf comps = BUF_INIT;
	char *copy = xstrdup(pattern), *save = NULL;
	const char *root = pattern[0] == '/' ? "/" : "";

	for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save))
		buf_push(&comps, char *, t);
	glob_walk(root, (char **)(void *)comps.data, buf_count(&comps, char *), found);
	free(copy);
	buf_release(&comps);
}

/* filepath.Rel(base, target) for two cleaned paths of which target is base or under it
 * (or where both start with the same ".." elements): target without base's elements. */
static void glob_rel(const char *base, const char *target, struct buf *out)
{
	size_t bl = strlen(base);

	if (!strcmp(base, ".")) {
		buf_addstr(out, target);
		return;
	}
	if (!strcmp(base, target)) {
		buf_addch(out, '.');
		return;
	}
	if (!strncmp(base, target, bl) && (target[bl] == '/' || !strcmp(base, "/"))) {
		buf_addstr(out, target + bl + (target[bl] == '/'));
		return;
	}
	/* target outside base, through a ".." in the pattern: up from base to their common
	 * directory, then down to target */
	{
		size_t common = 0, i;
		for (i = 0; base[i] && base[i] == target[i]; i++)
			if (base[i] == '/')
				common = i + 1;
		if (!base[i] && target[i] == '/')
			common = i + 1;
		for (i = common; base[i]; i++)
			if (i == common || base[i - 1] == '/')
				buf_addstr(out, out->len ? "/.." : "..");
		if (target[common])
			buf_printf(out, "%s%s", out->len ? "/" : "", target + common);
	}
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct value *f_fileset(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "fileset" };
	struct buf t0 = BUF_INIT, t1 = BUF_INIT, dir = BUF_INIT, full = BUF_INIT, joined = BUF_INIT;
	struct buf pats = BUF_INIT, found = BUF_INIT, items = BUF_INIT;
	const char *path, *pattern, *base = fc->base_dir;
	size_t plen, patlen;
	struct value *r = NULL;
	int secret = val_is_sensitive(args[0]) || val_is_sensitive(args[1]), bad;

	(void)n;
	if (!(path = want_str(&c, args, 0, "the path", &t0, &plen)) ||
	    !(pattern = want_str(&c, args, 1, "the pattern", &t1, &patlen)))
		goto out;
	if (strlen(path) != plen || strlen(pattern) != patlen) {
		fail(&c, strlen(path) != plen ? 0 : 1, "the %s must not contain a NUL character",
		     strlen(path) != plen ? "path" : "pattern");
		goto out;
	}
	/* filepath.Join(baseDir, path), then filepath.Join(path, pattern); no "~" here */
	if (path[0] != '/' && base && *base) {
		go_join(base, path, plen, &dir);
	} else {
		go_clean(path, plen, &dir);
	}
	buf_addstr(&joined, buf_cstr(&dir));
	if (patlen) {
		buf_addch(&joined, '/');
		buf_add(&joined, pattern, patlen);
	}
	go_clean(joined.data, joined.len, &full);
	if ((bad = glob_expand(buf_cstr(&full), full.len, &pats))) {
		if (bad == -1)
			fail(&c, 1, "failed to glob pattern %s: syntax error in pattern",
			     secret ? "(sensitive value)" : buf_cstr(&full));
		else
			fail(&c, 1, "failed to glob pattern %s: its {} groups make more than %d "
			     "patterns", secret ? "(sensitive value)" : buf_cstr(&full), GLOB_MAX_PATTERNS);
		goto out;
	}
	for (size_t i = 0; i < buf_count(&pats, char *); i++)
		glob_one(buf_at(&pats, char *, i), &found);
	/* the alternatives of a pattern can find one path twice */
	if (found.len)
		qsort(found.data, buf_count(&found, char *), sizeof(char *), cmp_cstr);
	for (size_t i = 0; i < buf_count(&found, char *); i++) {
		const char *m = buf_at(&found, char *, i);
		struct stat st;
		struct buf rel = BUF_INIT;
		if (i && !strcmp(m, buf_at(&found, char *, i - 1)))
			continue;
		if (stat(m, &st)) {
			fail(&c, -1, "failed to stat %s: %s", secret ? "(sensitive value)" : m,
			     strerror(errno));
			unref_all(&items);
			goto out;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		glob_rel(buf_cstr(&dir), m, &rel);
		buf_push(&items, struct value *, str_value(&rel));
	}
	r = val_set_take((struct value **)(void *)items.data, buf_count(&items, struct value *));
	buf_release(&items);
out:
	for (size_t i = 0; i < buf_count(&pats, char *); i++)
		free(buf_at(&pats, char *, i));
	for (size_t i = 0; i < buf_count(&found, char *); i++)
		free(buf_at(&found, char *, i));
	buf_release(&pats);
	buf_release(&found);
	buf_release(&t0);
	buf_release(&t1);
	buf_release(&dir);
	buf_release(&full);
	buf_release(&joined);
	return r;
}

/* ---- identifiers, compression, passwords and RSA ---- */

/* A UUID's 16 bytes in the 8-4-4-4-12 lowercase hex form. */
static struct value *uuid_value(const unsigned char u[16])
{
	struct buf out = BUF_INIT;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf_addch(&out, '-');
		buf_printf(&out, "%02x", u[i]);
	}
	return str_value(&out);
}

/* uuid(): a random UUID. Terraform's go-uuid takes 16 random bytes and leaves the version
 * bits as they fall; planner/uuid.c sets them, making a version 4 UUID, as Terraform
 * documents, and one of the values Terraform could give. Like timestamp(), a known value at
 * plan time that changes on every run. */
static struct value *f_uuid(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "uuid" };
	char u[UUID_STR_SIZE];

	(void)args;
	(void)n;
	if (uuid_v4(u))
		return fail(&c, -1, "failed to read random bytes");
	return val_cstring(u);
}

/* google/uuid's Parse: "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", the same with "urn:uuid:"
 * before it (any case) or with one character either side ("{...}"; which characters is not
 * looked at), or 32 hex digits. Returns NULL, or the error in its words. */
static const char *uuid_parse(const char *s, size_t n, unsigned char u[16], char *err, size_t errsize)
{
	static const int at[16] = { 0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34 };

	if (n == 32) {
		for (int i = 0; i < 16; i++) {
			int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
			if (hi < 0 || lo < 0)
				return "invalid UUID format";
			u[i] = (unsigned char)(hi << 4 | lo);
		}
		return NULL;
	}
	if (n == 36 + 9) {
		if (strncasecmp(s, "urn:uuid:", 9)) {
			struct buf q = BUF_INIT;
			go_quote(s, 9, &q);
			snprintf(err, errsize, "invalid urn prefix: %s", buf_cstr(&q));
			buf_release(&q);
			return err;
		}
		s += 9;
	} else if (n == 36 + 2) {
		s++;
	} else if (n != 36) {
		snprintf(err, errsize, "invalid UUID length: %zu", n);
		return err;
	}
	if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
		return "invalid UUID format";
	for (int i = 0; i < 16; i++) {
		int hi = hexval((unsigned char)s[at[i]]), lo = hexval((unsigned char)s[at[i] + 1]);
		if (hi < 0 || lo < 0)
			return "invalid UUID format";
		u[i] = (unsigned char)(hi << 4 | lo);
	}
	return NULL;
}

/* uuidv5(namespace, name): RFC 4122's name-based UUID with SHA-1, as google/uuid's NewSHA1
 * makes it: the first 16 bytes of SHA-1(namespace || name), version 5, RFC 4122 variant. */
static struct value *f_uuidv5(struct func_call *fc, struct value **args, size_t n)
{
	static const struct { const char *name; unsigned char last; } known[] = {
		/* 6ba7b81X-9dad-11d1-80b4-00c04fd430c8, RFC 4122's appendix C */
		{ "dns", 0x10 }, { "url", 0x11 }, { "oid", 0x12 }, { "x500", 0x14 },
	};
	static const unsigned char base[16] = { 0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
						0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8 };
	struct fctx c = { fc, "uuidv5" };
	struct buf t0 = BUF_INIT, t1 = BUF_INIT;
	const char *ns, *name, *why = NULL;
	size_t nslen, namelen;
	unsigned char space[16], sum[EVP_MAX_MD_SIZE];
	unsigned int sumlen = 0;
	char err[128];
	struct value *r = NULL;
	EVP_MD_CTX *md = NULL;
	size_t i;

	(void)n;
	if (!(ns = want_str(&c, args, 0, "the namespace", &t0, &nslen)) ||
	    !(name = want_str(&c, args, 1, "the name", &t1, &namelen)))
		goto out;
	for (i = 0; i < sizeof known / sizeof known[0]; i++)
		if (nslen == strlen(known[i].name) && !memcmp(ns, known[i].name, nslen))
			break;
	if (i < sizeof known / sizeof known[0]) {
		memcpy(space, base, sizeof space);
		space[3] = known[i].last;
	} else if ((why = uuid_parse(ns, nslen, space, err, sizeof err))) {
		fail(&c, 0, "doesn't support namespace %s (%s)", shown_text(args[0], ns), why);
		goto out;
	}
	if (!(md = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(md, EVP_sha1(), NULL) ||
	    !EVP_DigestUpdate(md, space, sizeof space) || !EVP_DigestUpdate(md, name, namelen) ||
	    !EVP_DigestFinal_ex(md, sum, &sumlen)) {
		fail(&c, -1, "SHA-1 failed");
		goto out;
	}
	sum[6] = (unsigned char)((sum[6] & 0x0f) | 0x50);
	sum[8] = (unsigned char)((sum[8] & 0x3f) | 0x80);
	r = uuid_value(sum);
out:
	EVP_MD_CTX_free(md);
	buf_release(&t0);
	buf_release(&t1);
	return r;
}

/* The gzip member of data[0..len) as Go's gzip.NewWriter writes one at its default level:
 * a header with no name, no time and OS 255 ("unknown"), then the deflate stream and the
 * CRC-32 and size. zlib's deflate finds other matches than Go's compress/flate, so the bytes
 * between header and trailer can differ from Terraform's; they inflate to the same text. */
static int gzip_data(const void *data, size_t len, struct buf *out)
{
	z_stream zs;
	gz_header head;
	int rc = Z_STREAM_ERROR;

	memset(&zs, 0, sizeof zs);
	memset(&head, 0, sizeof head);
	head.os = 255;
	if (len > UINT_MAX || deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
					   Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	if (deflateSetHeader(&zs, &head) != Z_OK)
		goto out;
	zs.next_in = (Bytef *)(uintptr_t)data;
	zs.avail_in = (uInt)len;
	do {
		buf_grow(out, len / 2 + 64);
		zs.next_out = (Bytef *)out->data + out->len;
		zs.avail_out = (uInt)(out->cap - out->len - 1);
		rc = deflate(&zs, Z_FINISH);
		out->len = out->cap - 1 - zs.avail_out;
		out->data[out->len] = '\0';
	} while (rc == Z_OK);
out:
	deflateEnd(&zs);
	return rc == Z_STREAM_END ? 0 : -1;
}

/* base64gzip(string): the string gzipped, in base64. */
static struct value *f_base64gzip(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "base64gzip" };
	struct buf tmp = BUF_INIT, gz = BUF_INIT;
	const char *s;
	size_t len;
	struct value *r = NULL;

	(void)n;
	if (!(s = want_str(&c, args, 0, "the argument", &tmp, &len)))
		goto out;
	if (gzip_data(s, len, &gz))
		fail(&c, 0, "failed to write gzip raw data");
	else if (!(r = b64_value(gz.data, gz.len)))
		fail(&c, 0, "the string is too long to encode");
out:
	buf_release(&tmp);
	buf_release(&gz);
	return r;
}

/* ---- text encodings ----
 * textencodebase64 and textdecodebase64 take the names Terraform's golang.org/x/text
 * ianaindex takes: an IANA name or alias, any case, spaces around it trimmed, of one of the
 * encodings x/text implements; any other name is refused, as there. The conversion itself is
 * glibc's iconv. Messages name the encoding by its IANA name, as Terraform's do. */

struct text_encoding {
	const char *iana;      /* the name messages give (ianaindex's IANA.Name) */
	const char *iconv;     /* glibc's name for it; NULL: Terraform has it, glibc has not */
	const char *aliases;   /* every name ianaindex takes for it, "|" between them */
};

/* "UTF-16" is UTF-16BE with a byte order mark written, and read when there is one */
static const struct text_encoding text_encodings[] = {
	{ "US-ASCII", "ASCII", "US-ASCII|iso-ir-6|ANSI_X3.4-1968|ANSI_X3.4-1986|ISO_646.irv:1991|"
	  "ISO646-US|us|IBM367|cp367|csASCII" },
	{ "ISO_8859-1:1987", "ISO-8859-1", "ISO_8859-1:1987|iso-ir-100|ISO_8859-1|ISO-8859-1|latin1|"
	  "l1|IBM819|CP819|csISOLatin1" },
	{ "ISO_8859-2:1987", "ISO-8859-2", "ISO_8859-2:1987|iso-ir-101|ISO_8859-2|ISO-8859-2|latin2|"
	  "l2|csISOLatin2" },
	{ "ISO_8859-3:1988", "ISO-8859-3", "ISO_8859-3:1988|iso-ir-109|ISO_8859-3|ISO-8859-3|latin3|"
	  "l3|csISOLatin3" },
	{ "ISO_8859-4:1988", "ISO-8859-4", "ISO_8859-4:1988|iso-ir-110|ISO_8859-4|ISO-8859-4|latin4|"
	  "l4|csISOLatin4" },
	{ "ISO_8859-5:1988", "ISO-8859-5", "ISO_8859-5:1988|iso-ir-144|ISO_8859-5|ISO-8859-5|"
	  "cyrillic|csISOLatinCyrillic" },
	{ "ISO_8859-6:1987", "ISO-8859-6", "ISO_8859-6:1987|iso-ir-127|ISO_8859-6|ISO-8859-6|"
	  "ECMA-114|ASMO-708|arabic|csISOLatinArabic" },
	{ "ISO_8859-7:1987", "ISO-8859-7", "ISO_8859-7:1987|iso-ir-126|ISO_8859-7|ISO-8859-7|"
	  "ELOT_928|ECMA-118|greek|greek8|csISOLatinGreek" },
	{ "ISO_8859-8:1988", "ISO-8859-8", "ISO_8859-8:1988|iso-ir-138|ISO_8859-8|ISO-8859-8|hebrew|"
	  "csISOLatinHebrew" },
	{ "ISO_8859-9:1989", "ISO-8859-9", "ISO_8859-9:1989|iso-ir-148|ISO_8859-9|ISO-8859-9|latin5|"
	  "l5|csISOLatin5" },
	{ "ISO-8859-10", "ISO-8859-10", "ISO-8859-10|iso-ir-157|l6|ISO_8859-10:1992|csISOLatin6|latin6" },
	{ "Shift_JIS", "CP932", "Shift_JIS|MS_Kanji|csShiftJIS" },
	{ "Extended_UNIX_Code_Packed_Format_for_Japanese", "EUC-JP",
	  "Extended_UNIX_Code_Packed_Format_for_Japanese|csEUCPkdFmtJapanese|EUC-JP" },
	{ "EUC-KR", "CP949", "EUC-KR|csEUCKR" },
	{ "ISO-2022-JP", "ISO-2022-JP", "ISO-2022-JP|csISO2022JP" },
	{ "ISO_8859-6-E", "ISO-8859-6", "ISO_8859-6-E|csISO88596E|ISO-8859-6-E" },
	{ "ISO_8859-6-I", "ISO-8859-6", "ISO_8859-6-I|csISO88596I|ISO-8859-6-I" },
	{ "ISO_8859-8-E", "ISO-8859-8", "ISO_8859-8-E|csISO88598E|ISO-8859-8-E" },
	{ "ISO_8859-8-I", "ISO-8859-8", "ISO_8859-8-I|csISO88598I|ISO-8859-8-I" },
	{ "UTF-8", "UTF-8", "UTF-8|csUTF8" },
	{ "ISO-8859-13", "ISO-8859-13", "ISO-8859-13|csISO885913" },
	{ "ISO-8859-14", "ISO-8859-14", "ISO-8859-14|iso-ir-199|ISO_8859-14:1998|ISO_8859-14|latin8|"
	  "iso-celtic|l8|csISO885914" },
	{ "ISO-8859-15", "ISO-8859-15", "ISO-8859-15|ISO_8859-15|Latin-9|csISO885915" },
	{ "ISO-8859-16", "ISO-8859-16", "ISO-8859-16|iso-ir-226|ISO_8859-16:2001|ISO_8859-16|latin10|"
	  "l10|csISO885916" },
	{ "GBK", "GBK", "GBK|CP936|MS936|windows-936|csGBK" },
	{ "GB18030", "GB18030", "GB18030|csGB18030" },
	{ "UTF-16BE", "UTF-16BE", "UTF-16BE|csUTF16BE" },
	{ "UTF-16LE", "UTF-16LE", "UTF-16LE|csUTF16LE" },
	{ "UTF-16", "UTF-16BE", "UTF-16|csUTF16" },
	{ "IBM850", "IBM850", "IBM850|cp850|850|csPC850Multilingual" },
	{ "IBM852", "IBM852", "IBM852|cp852|852|csPCp852" },
	{ "IBM437", "IBM437", "IBM437|cp437|437|csPC8CodePage437" },
	{ "IBM862", "IBM862", "IBM862|cp862|862|csPC862LatinHebrew" },
	{ "Big5", "BIG5", "Big5|csBig5" },
	{ "macintosh", "MACINTOSH", "macintosh|mac|csMacintosh" },
	{ "IBM037", "IBM037", "IBM037|cp037|ebcdic-cp-us|ebcdic-cp-ca|ebcdic-cp-wt|ebcdic-cp-nl|csIBM037" },
	{ "IBM855", "IBM855", "IBM855|cp855|855|csIBM855" },
	{ "IBM860", "IBM860", "IBM860|cp860|860|csIBM860" },
	{ "IBM863", "IBM863", "IBM863|cp863|863|csIBM863" },
	{ "IBM865", "IBM865", "IBM865|cp865|865|csIBM865" },
	{ "KOI8-R", "KOI8-R", "KOI8-R|csKOI8R" },
	{ "HZ-GB-2312", NULL, "HZ-GB-2312" },
	{ "IBM866", "IBM866", "IBM866|cp866|866|csIBM866" },
	{ "KOI8-U", "KOI8-U", "KOI8-U|csKOI8U" },
	{ "IBM00858", "IBM858", "IBM00858|CCSID00858|CP00858|PC-Multilingual-850+euro|csIBM00858" },
	{ "IBM01140", "IBM1140", "IBM01140|CCSID01140|CP01140|ebcdic-us-37+euro|csIBM01140" },
	{ "IBM1047", "IBM1047", "IBM1047|IBM-1047|csIBM1047" },
	{ "windows-874", "CP874", "windows-874|cswindows874" },
	{ "windows-1250", "CP1250", "windows-1250|cswindows1250" },
	{ "windows-1251", "CP1251", "windows-1251|cswindows1251" },
	{ "windows-1252", "CP1252", "windows-1252|cswindows1252" },
	{ "windows-1253", "CP1253", "windows-1253|cswindows1253" },
	{ "windows-1254", "CP1254", "windows-1254|cswindows1254" },
	{ "windows-1255", "CP1255", "windows-1255|cswindows1255" },
	{ "windows-1256", "CP1256", "windows-1256|cswindows1256" },
	{ "windows-1257", "CP1257", "windows-1257|cswindows1257" },
	{ "windows-1258", "CP1258", "windows-1258|cswindows1258" },
};

/* The encoding that argument 1 names, or NULL after an error there. */
static const struct text_encoding *want_encoding(const struct fctx *c, struct value **args,
						 struct buf *tmp)
{
	const char *name, *q;
	size_t len;

	if (!(name = want_str(c, args, 1, "the encoding", tmp, &len)))
		return NULL;
	/* strings.TrimSpace, for the names' ASCII */
	while (len && strchr(" \t\n\v\f\r", name[0]))
		name++, len--;
	while (len && strchr(" \t\n\v\f\r", name[len - 1]))
		len--;
	for (size_t i = 0; len && i < sizeof text_encodings / sizeof text_encodings[0]; i++) {
		for (const char *a = text_encodings[i].aliases; a; a = q ? q + 1 : NULL) {
			size_t alen;
			q = strchr(a, '|');
			alen = q ? (size_t)(q - a) : strlen(a);
			if (alen != len || strncasecmp(a, name, len))
				continue;
			if (!text_encodings[i].iconv) {
				fail(c, 1, "%s is supported by Terraform but not here: the C library "
				     "has no converter for it", text_encodings[i].iana);
				return NULL;
			}
			return &text_encodings[i];
		}
	}
	{
		struct buf qn = BUF_INIT;
		quoted_from(args[1], args[1]->kind == VAL_STRING ? args[1]->u.str.s : buf_cstr(tmp),
			    args[1]->kind == VAL_STRING ? args[1]->u.str.len : tmp->len, &qn);
		fail(c, 1, "%s is not a supported IANA encoding name or alias in this Terraform "
		     "version", buf_cstr(&qn));
		buf_release(&qn);
	}
	return NULL;
}

/* Converts in[0..n) from one iconv encoding to another, appending to out, the shift state
 * reset at the end; returns 0, or -1 when a character cannot be converted (or the input
 * ends inside one). */
static int text_convert(const char *from, const char *to, const char *in, size_t n,
			struct buf *out)
{
	iconv_t cd = iconv_open(to, from);
	char *ip = (char *)(uintptr_t)in;
	size_t left = n;
	int rc = -1, flushing = 0;

	if (cd == (iconv_t)-1)
		return -1;
	/* the text, then (inbuf NULL) the sequence back to the initial state, such as
	 * ISO-2022-JP's ESC ( B */
	for (;;) {
		char *op;
		size_t room, got;
		buf_grow(out, left * 4 + 16);
		op = out->data + out->len;
		room = out->cap - out->len - 1;
		got = iconv(cd, flushing ? NULL : &ip, flushing ? NULL : &left, &op, &room);
		out->len = (size_t)(op - out->data);
		if (got == (size_t)-1 && errno != E2BIG)
			break;
		if (got != (size_t)-1 && flushing) {
			rc = 0;
			break;
		}
		if (got != (size_t)-1)
			flushing = 1;
	}
	iconv_close(cd);
	out->data[out->len] = '\0';
	return rc;
}

/* textencodebase64(string, encoding): the string's characters in the encoding, in base64. */
static struct value *f_textencodebase64(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "textencodebase64" };
	struct buf t0 = BUF_INIT, t1 = BUF_INIT, enc = BUF_INIT;
	const struct text_encoding *te;
	const char *s;
	size_t len;
	struct value *r = NULL;

	(void)n;
	if (!(s = want_str(&c, args, 0, "the string", &t0, &len)) || !(te = want_encoding(&c, args, &t1)))
		goto out;
	/* Go's UTF-16 encoder with UseBOM writes the mark first, even for "" */
	if (!strcmp(te->iana, "UTF-16"))
		buf_add(&enc, "\xfe\xff", 2);
	if (text_convert("UTF-8", te->iconv, s, len, &enc)) {
		fail(&c, 0, "the given string contains characters that cannot be represented in %s",
		     te->iana);
		goto out;
	}
	if (!(r = b64_value(enc.data ? enc.data : "", enc.len)))
		fail(&c, 0, "the string is too long to encode");
out:
	buf_release(&t0);
	buf_release(&t1);
	buf_release(&enc);
	return r;
}

/* textdecodebase64(source, encoding): base64 of text in the encoding, as a string. */
static struct value *f_textdecodebase64(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "textdecodebase64" };
	struct buf t0 = BUF_INIT, t1 = BUF_INIT, raw = BUF_INIT, text = BUF_INIT;
	const struct text_encoding *te;
	const char *s, *from, *p;
	size_t len, skip = 0;
	long bad;
	struct value *r = NULL;

	(void)n;
	if (!(s = want_str(&c, args, 0, "the source", &t0, &len)) || !(te = want_encoding(&c, args, &t1)))
		goto out;
	if ((bad = b64_decode(s, len, &raw)) >= 0) {
		if (val_is_sensitive(args[0]))
			fail(&c, 0, "the given value is has an invalid base64 symbol: (sensitive value)");
		else
			fail(&c, 0, "the given value is has an invalid base64 symbol at offset %ld", bad);
		goto out;
	}
	from = te->iconv;
	p = raw.data ? raw.data : "";
	/* "UTF-16" reads a byte order mark, and without one is big-endian */
	if (!strcmp(te->iana, "UTF-16") && raw.len >= 2) {
		if (!memcmp(p, "\xfe\xff", 2))
			skip = 2;
		else if (!memcmp(p, "\xff\xfe", 2))
			skip = 2, from = "UTF-16LE";
	}
	/* x/text decodes what it cannot read as U+FFFD, which Terraform then refuses: so is a
	 * U+FFFD that was in the text */
	if (text_convert(from, "UTF-8", p + skip, raw.len - skip, &text) ||
	    memmem(text.data ? text.data : "", text.len, "\xef\xbf\xbd", 3)) {
		fail(&c, 0, "the given string contains symbols that are not defined for %s", te->iana);
		goto out;
	}
	r = str_value(&text);
out:
	buf_release(&t0);
	buf_release(&t1);
	buf_release(&raw);
	buf_release(&text);
	return r;
}

/* bcrypt(string, cost?): Go's bcrypt.GenerateFromPassword, which Terraform calls: a "$2a$"
 * hash with a random salt, by libxcrypt. Like uuid(), a new value on every call. Go's
 * rules come first: more than 72 bytes is an error, a cost below 4 is the default 10, one
 * above 31 an error. Go's "$2a$" is the algorithm itself, which libxcrypt calls "$2b$": its
 * own "$2a$" adds a countermeasure that changes the hash of passwords with 0xff bytes (not
 * in UTF-8 text, but the hash is Go's either way). So it is made as "$2b$", labelled "$2a$". */
static struct value *f_bcrypt(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "bcrypt" };
	struct buf tmp = BUF_INIT;
	const char *s, *hash;
	size_t len;
	long cost = 10;
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = NULL;
	struct value *r = NULL;

	if (!(s = want_str(&c, args, 0, "the string", &tmp, &len)) ||
	    (n > 1 && want_int(&c, args, 1, "cost", &cost)))
		goto out;
	if (len > 72) {
		fail(&c, 0, "error occured generating password bcrypt: password length exceeds 72 bytes");
		goto out;
	}
	/* crypt takes a C string: what follows a NUL would not be hashed, where Go hashes it */
	if (memchr(s, '\0', len)) {
		fail(&c, 0, "the string must not contain a NUL character");
		goto out;
	}
	if (cost < 4)
		cost = 10;
	if (cost > 31) {
		fail(&c, 1, "error occured generating password crypto/bcrypt: cost %s is outside "
		     "allowed range (4,31)", shown_long(args[1], cost));
		goto out;
	}
	cd = xmalloc(sizeof *cd);
	memset(cd, 0, sizeof *cd);
	/* no random bytes given: libxcrypt takes them from the system's generator */
	if (!crypt_gensalt_rn("$2b$", (unsigned long)cost, NULL, 0, setting, sizeof setting) ||
	    !(hash = crypt_r(s, setting, cd)) || hash[0] == '*') {
		fail(&c, -1, "error occured generating password %s", strerror(errno));
		goto out;
	}
	cd->output[2] = 'a';
	r = val_cstring(cd->output);
out:
	if (cd)
		OPENSSL_cleanse(cd, sizeof *cd);
	free(cd);
	buf_release(&tmp);
	return r;
}

/* OpenSSL asks this for the passphrase of an encrypted key: there is none to give, and no
 * terminal to ask on. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* The RSA private key in PEM text (PKCS #1 "RSA PRIVATE KEY" or PKCS #8 "PRIVATE KEY"), or
 * NULL after an error at argument 1. The key's text is never shown. */
static EVP_PKEY *rsa_private_key(const struct fctx *c, const char *pem, size_t len)
{
	BIO *bio;
	EVP_PKEY *pkey;
	unsigned long e;

	if (len > INT_MAX || !(bio = BIO_new_mem_buf(pem, (int)len))) {
		fail(c, 1, "invalid private key: the key is too long");
		return NULL;
	}
	ERR_clear_error();
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	e = ERR_peek_last_error();
	ERR_clear_error();
	if (!pkey) {
		if (!memmem(pem, len, "-----BEGIN", 10))
			fail(c, 1, "invalid private key: ssh: no key found");
		else if (memmem(pem, len, "ENCRYPTED", 9))
			fail(c, 1, "invalid private key: ssh: this private key is passphrase protected");
		else
			fail(c, 1, "invalid ASN1 data in the given private key (%s)",
			     e ? ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "unreadable" :
			     "unreadable");
		return NULL;
	}
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		fail(c, 1, "invalid private key type: a %s key, not RSA", OBJ_nid2sn(EVP_PKEY_get_base_id(pkey)));
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey;
}

/* rsadecrypt(ciphertext, privatekey): the base64 ciphertext decrypted with the key, PKCS #1
 * v1.5 padding, as Go's rsa.DecryptPKCS1v15. The result is sensitive when the key (or the
 * ciphertext) is, as every function's result is. */
static struct value *f_rsadecrypt(struct func_call *fc, struct value **args, size_t n)
{
	struct fctx c = { fc, "rsadecrypt" };
	struct buf t0 = BUF_INIT, t1 = BUF_INIT, ct = BUF_INIT, q = BUF_INIT, out = BUF_INIT;
	const char *s, *key;
	size_t len, keylen, outlen = 0;
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	struct value *r = NULL;
	int ok;

	(void)n;
	if (!(s = want_str(&c, args, 0, "the ciphertext", &t0, &len)) ||
	    !(key = want_str(&c, args, 1, "the private key", &t1, &keylen)))
		goto out;
	if (b64_decode(s, len, &ct) >= 0) {
		quoted_from(args[0], s, len, &q);
		fail(&c, 0, "failed to decode input %s: cipher text must be base64-encoded", buf_cstr(&q));
		goto out;
	}
	if (!(pkey = rsa_private_key(&c, key, keylen)))
		goto out;
	/* Go refuses a ciphertext that is not exactly the modulus' size; OpenSSL would take a
	 * shorter one as a smaller number */
	ok = ct.len == (size_t)EVP_PKEY_get_size(pkey) && (ctx = EVP_PKEY_CTX_new(pkey, NULL)) &&
	     EVP_PKEY_decrypt_init(ctx) > 0 &&
	     EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0;
	if (ok) {
		/* OpenSSL 3.2 and later answer a bad padding with a made-up message unless told
		 * not to; Go's answer is an error. 3.0 has no such parameter, and errors. */
		OSSL_PARAM p[] = {
			OSSL_PARAM_construct_uint("rsa_pkcs1_implicit_rejection", &(unsigned int){ 0 }),
			OSSL_PARAM_construct_end(),
		};
		EVP_PKEY_CTX_set_params(ctx, p);
		buf_grow(&out, ct.len);
		outlen = out.cap - 1;
		ok = EVP_PKEY_decrypt(ctx, (unsigned char *)out.data, &outlen,
				      (const unsigned char *)ct.data, ct.len) > 0;
	}
	ERR_clear_error();
	if (!ok) {
		fail(&c, -1, "failed to decrypt: crypto/rsa: decryption error");
		goto out;
	}
	out.len = outlen;
	out.data[outlen] = '\0';
	if (!utf8_valid(out.data, out.len)) {
		fail(&c, -1, "failed to decrypt: the decrypted text is not valid UTF-8");
		goto out;
	}
	r = str_value(&out);
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	OPENSSL_cleanse(out.data ? out.data : (char *)"", out.len);
	buf_release(&t0);
	buf_release(&t1);
	buf_release(&ct);
	buf_release(&q);
	buf_release(&out);
	return r;
}

/* ---- the table ---- */

const struct func_sig func_table[] = {
	{ "abs", 1, 1, "abs(number)", f_abs, 0 },
	{ "abspath", 1, 1, "abspath(path)", f_abspath, 0 },
	{ "alltrue", 1, 1, "alltrue(list)", f_alltrue, FUNC_TAKES_UNKNOWN },
	{ "anytrue", 1, 1, "anytrue(list)", f_anytrue, FUNC_TAKES_UNKNOWN },
	{ "base64decode", 1, 1, "base64decode(string)", f_base64decode, 0 },
	{ "base64encode", 1, 1, "base64encode(string)", f_base64encode, 0 },
	{ "base64gzip", 1, 1, "base64gzip(string)", f_base64gzip, 0 },
	{ "base64sha256", 1, 1, "base64sha256(string)", f_base64sha256, 0 },
	{ "base64sha512", 1, 1, "base64sha512(string)", f_base64sha512, 0 },
	{ "basename", 1, 1, "basename(path)", f_basename, 0 },
	{ "bcrypt", 1, 2, "bcrypt(string, cost)", f_bcrypt, 0 },
	/* can and try are special forms: they need their arguments unevaluated, so the
	 * evaluator handles them itself */
	{ "can", 1, 1, "can(expression)", NULL, 0 },
	{ "ceil", 1, 1, "ceil(number)", f_ceil, 0 },
	{ "chomp", 1, 1, "chomp(string)", f_chomp, 0 },
	{ "chunklist", 2, 2, "chunklist(list, size)", f_chunklist, 0 },
	{ "cidrhost", 2, 2, "cidrhost(prefix, hostnum)", f_cidrhost, 0 },
	{ "cidrnetmask", 1, 1, "cidrnetmask(prefix)", f_cidrnetmask, 0 },
	{ "cidrsubnet", 3, 3, "cidrsubnet(prefix, newbits, netnum)", f_cidrsubnet, 0 },
	{ "cidrsubnets", 1, -1, "cidrsubnets(prefix, newbits...)", f_cidrsubnets, 0 },
	{ "coalesce", 1, -1, "coalesce(value, ...)", f_coalesce, FUNC_TAKES_UNKNOWN },
	{ "coalescelist", 1, -1, "coalescelist(list, ...)", f_coalescelist, FUNC_TAKES_UNKNOWN },
	{ "compact", 1, 1, "compact(list)", f_compact, 0 },
	{ "concat", 1, -1, "concat(list, ...)", f_concat, 0 },
	{ "contains", 2, 2, "contains(collection, value)", f_contains, 0 },
	{ "csvdecode", 1, 1, "csvdecode(string)", f_csvdecode, 0 },
	{ "dirname", 1, 1, "dirname(path)", f_dirname, 0 },
	{ "distinct", 1, 1, "distinct(list)", f_distinct, 0 },
	{ "element", 2, 2, "element(list, index)", f_element, 0 },
	{ "endswith", 2, 2, "endswith(string, suffix)", f_endswith, 0 },
	{ "file", 1, 1, "file(path)", f_file, 0 },
	{ "filebase64", 1, 1, "filebase64(path)", f_filebase64, 0 },
	{ "filebase64sha256", 1, 1, "filebase64sha256(path)", f_filebase64sha256, 0 },
	{ "filebase64sha512", 1, 1, "filebase64sha512(path)", f_filebase64sha512, 0 },
	{ "fileexists", 1, 1, "fileexists(path)", f_fileexists, 0 },
	{ "filemd5", 1, 1, "filemd5(path)", f_filemd5, 0 },
	{ "fileset", 2, 2, "fileset(path, pattern)", f_fileset, 0 },
	{ "filesha1", 1, 1, "filesha1(path)", f_filesha1, 0 },
	{ "filesha256", 1, 1, "filesha256(path)", f_filesha256, 0 },
	{ "filesha512", 1, 1, "filesha512(path)", f_filesha512, 0 },
	{ "flatten", 1, 1, "flatten(list)", f_flatten, 0 },
	{ "floor", 1, 1, "floor(number)", f_floor, 0 },
	{ "format", 1, -1, "format(spec, values...)", f_format, 0 },
	{ "formatdate", 2, 2, "formatdate(spec, timestamp)", f_formatdate, 0 },
	{ "formatlist", 1, -1, "formatlist(spec, values...)", f_formatlist, 0 },
	{ "indent", 2, 2, "indent(spaces, string)", f_indent, 0 },
	{ "index", 2, 2, "index(list, value)", f_index, 0 },
	{ "issensitive", 1, 1, "issensitive(value)", f_issensitive, FUNC_TAKES_UNKNOWN | FUNC_KEEPS_MARKS },
	{ "join", 2, -1, "join(separator, list)", f_join, 0 },
	{ "jsondecode", 1, 1, "jsondecode(string)", f_jsondecode, 0 },
	{ "jsonencode", 1, 1, "jsonencode(value)", f_jsonencode, 0 },
	{ "keys", 1, 1, "keys(map)", f_keys, 0 },
	{ "length", 1, 1, "length(value)", f_length, FUNC_TAKES_UNKNOWN },
	{ "log", 2, 2, "log(number, base)", f_log, 0 },
	{ "lookup", 2, 3, "lookup(map, key, default)", f_lookup, 0 },
	{ "lower", 1, 1, "lower(string)", f_lower, 0 },
	{ "matchkeys", 3, 3, "matchkeys(values, keys, searchset)", f_matchkeys, 0 },
	{ "max", 1, -1, "max(number, ...)", f_max, 0 },
	{ "md5", 1, 1, "md5(string)", f_md5, 0 },
	{ "merge", 0, -1, "merge(map, ...)", f_merge, 0 },
	{ "min", 1, -1, "min(number, ...)", f_min, 0 },
	{ "nonsensitive", 1, 1, "nonsensitive(value)", f_nonsensitive, FUNC_TAKES_UNKNOWN | FUNC_KEEPS_MARKS },
	{ "one", 1, 1, "one(list)", f_one, 0 },
	{ "parseint", 2, 2, "parseint(string, base)", f_parseint, 0 },
	{ "pathexpand", 1, 1, "pathexpand(path)", f_pathexpand, 0 },
	{ "plantimestamp", 0, 0, "plantimestamp()", f_plantimestamp, 0 },
	{ "pow", 2, 2, "pow(number, power)", f_pow, 0 },
	{ "range", 1, 3, "range([start,] limit[, step])", f_range, 0 },
	{ "regex", 2, 2, "regex(pattern, string)", f_regex, 0 },
	{ "regexall", 2, 2, "regexall(pattern, string)", f_regexall, 0 },
	{ "replace", 3, 3, "replace(string, substring, replacement)", f_replace, 0 },
	{ "reverse", 1, 1, "reverse(list)", f_reverse, 0 },
	{ "rsadecrypt", 2, 2, "rsadecrypt(ciphertext, privatekey)", f_rsadecrypt, 0 },
	{ "sensitive", 1, 1, "sensitive(value)", f_sensitive, FUNC_TAKES_UNKNOWN },
	{ "setintersection", 1, -1, "setintersection(set, ...)", f_setintersection, 0 },
	{ "setproduct", 1, -1, "setproduct(set, set, ...)", f_setproduct, 0 },
	{ "setsubtract", 2, 2, "setsubtract(set, set)", f_setsubtract, 0 },
	{ "setunion", 1, -1, "setunion(set, ...)", f_setunion, 0 },
	{ "sha1", 1, 1, "sha1(string)", f_sha1, 0 },
	{ "sha256", 1, 1, "sha256(string)", f_sha256, 0 },
	{ "sha512", 1, 1, "sha512(string)", f_sha512, 0 },
	{ "signum", 1, 1, "signum(number)", f_signum, 0 },
	{ "slice", 3, 3, "slice(list, start, end)", f_slice, 0 },
	{ "sort", 1, 1, "sort(list)", f_sort, 0 },
	{ "split", 2, 2, "split(separator, string)", f_split, 0 },
	{ "startswith", 2, 2, "startswith(string, prefix)", f_startswith, 0 },
	{ "strcontains", 2, 2, "strcontains(string, substr)", f_strcontains, 0 },
	{ "strrev", 1, 1, "strrev(string)", f_strrev, 0 },
	{ "substr", 3, 3, "substr(string, offset, length)", f_substr, 0 },
	{ "sum", 1, 1, "sum(list)", f_sum, 0 },
	{ "templatefile", 2, 2, "templatefile(path, vars)", f_templatefile, 0 },
	{ "templatestring", 2, 2, "templatestring(ref, vars)", f_templatestring, 0 },
	{ "textdecodebase64", 2, 2, "textdecodebase64(source, encoding)", f_textdecodebase64, 0 },
	{ "textencodebase64", 2, 2, "textencodebase64(string, encoding)", f_textencodebase64, 0 },
	{ "timeadd", 2, 2, "timeadd(timestamp, duration)", f_timeadd, 0 },
	{ "timecmp", 2, 2, "timecmp(timestamp_a, timestamp_b)", f_timecmp, 0 },
	{ "timestamp", 0, 0, "timestamp()", f_timestamp, 0 },
	{ "title", 1, 1, "title(string)", f_title, 0 },
	{ "tobool", 1, 1, "tobool(value)", f_tobool, 0 },
	{ "tolist", 1, 1, "tolist(value)", f_tolist, 0 },
	{ "tomap", 1, 1, "tomap(value)", f_tomap, 0 },
	{ "tonumber", 1, 1, "tonumber(value)", f_tonumber, 0 },
	{ "toset", 1, 1, "toset(value)", f_toset, 0 },
	{ "tostring", 1, 1, "tostring(value)", f_tostring, 0 },
	{ "transpose", 1, 1, "transpose(map)", f_transpose, 0 },
	{ "trim", 2, 2, "trim(string, characters)", f_trim, 0 },
	{ "trimprefix", 2, 2, "trimprefix(string, prefix)", f_trimprefix, 0 },
	{ "trimspace", 1, 1, "trimspace(string)", f_trimspace, 0 },
	{ "trimsuffix", 2, 2, "trimsuffix(string, suffix)", f_trimsuffix, 0 },
	{ "try", 1, -1, "try(expression, ...)", NULL, 0 },
	{ "upper", 1, 1, "upper(string)", f_upper, 0 },
	{ "urlencode", 1, 1, "urlencode(string)", f_urlencode, 0 },
	{ "uuid", 0, 0, "uuid()", f_uuid, 0 },
	{ "uuidv5", 2, 2, "uuidv5(namespace, name)", f_uuidv5, 0 },
	{ "values", 1, 1, "values(map)", f_values, 0 },
	{ "yamldecode", 1, 1, "yamldecode(string)", f_yamldecode, 0 },
	{ "yamlencode", 1, 1, "yamlencode(value)", f_yamlencode, 0 },
	{ "zipmap", 2, 2, "zipmap(keys, values)", f_zipmap, 0 },
	{ NULL, 0, 0, NULL, NULL, 0 },
};

static int cmp_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct func_sig *)elem)->name);
}

const struct func_sig *func_find(const char *name)
{
	size_t n = sizeof func_table / sizeof func_table[0] - 1;
	return bsearch(name, func_table, n, sizeof func_table[0], cmp_name);
}

const char *const *func_names(void)
{
	static const char *names[sizeof func_table / sizeof func_table[0]];

	if (!names[0])
		for (size_t i = 0; func_table[i].name; i++)
			names[i] = func_table[i].name;
	return names;
}

#include "planner/value.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uninorm.h>
#include <unistr.h>

#include "common/diag.h"

/* null, true and false are shared: every value that says so is the same object, which is
 * never counted nor freed. */
static struct value shared_null = { 0, VAL_NULL, 0, VAL_SHARED_STATIC, { 0 } };
static struct value shared_true = { 0, VAL_BOOL, 0, VAL_SHARED_STATIC, { .b = 1 } };
static struct value shared_false = { 0, VAL_BOOL, 0, VAL_SHARED_STATIC, { .b = 0 } };
/* and so are the unknowns, one per kind: a planned object of 100k has a million of them */
static struct value shared_unknown[] = {
	[VAL_NULL] = { 0, VAL_NULL, VAL_UNKNOWN, VAL_SHARED_STATIC, { 0 } },
	[VAL_BOOL] = { 0, VAL_BOOL, VAL_UNKNOWN, VAL_SHARED_STATIC, { 0 } },
	[VAL_NUMBER] = { 0, VAL_NUMBER, VAL_UNKNOWN, VAL_SHARED_STATIC, { 0 } },
	[VAL_STRING] = { 0, VAL_STRING, VAL_UNKNOWN, VAL_SHARED_STATIC, { 0 } },
	[VAL_LIST] = { 0, VAL_LIST, VAL_UNKNOWN, VAL_SHARED_STATIC, { 0 } },
	[VAL_SET] = { 0, VAL_SET, VAL_UNKNOWN, VAL_SHARED_STATIC, { 0 } },
	[VAL_MAP] = { 0, VAL_MAP, VAL_UNKNOWN, VAL_SHARED_STATIC, { 0 } },
	[VAL_DYNAMIC] = { 0, VAL_DYNAMIC, VAL_UNKNOWN, VAL_SHARED_STATIC, { 0 } },
};

static struct value *val_new(enum val_kind kind)
{
	struct value *v = xcalloc(1, sizeof *v);

	v->refs = 1;
	v->kind = (uint8_t)kind;
	return v;
}

struct value *val_null(void)
{
	return &shared_null;
}

struct value *val_bool(int b)
{
	return b ? &shared_true : &shared_false;
}

struct value *val_number(double n)
{
	struct value *v = val_new(VAL_NUMBER);
	v->u.n = n == 0 ? 0 : n;   /* no -0 */
	return v;
}

/* Text not in Unicode's NFC, normalized into a new malloc'd string (*out, *outlen); 0 when
 * it is NFC already, or not UTF-8 (kept as it is, for the caller to judge). Every string
 * value is NFC, as every cty string is: "e\u0301" == "\u00e9", and both are one key. */
static int nfc(const char *s, size_t len, char **out, size_t *outlen)
{
	size_t i = 0;

	/* ASCII is NFC: the usual case costs one pass over the bytes */
	while (i < len && !((unsigned char)s[i] & 0x80))
		i++;
	/* u8_normalize would turn a bad byte into U+FFFD: text that is not UTF-8 stays as it
	 * is, for the JSON writer and the functions to refuse */
	if (i == len || u8_check((const uint8_t *)s + i, len - i))
		return 0;
	*out = (char *)u8_normalize(UNINORM_NFC, (const uint8_t *)s, len, NULL, outlen);
	if (!*out)
		return 0;
	if (*outlen == len && !memcmp(*out, s, len)) {
		free(*out);
		return 0;
	}
	return 1;
}

/* the text right after the value, in the same block: one malloc, not two, for what is most
 * of a state's values (val_unref knows it by its address) */
static struct value *string_in_place(const char *s, size_t len)
{
	struct value *v = xmalloc(sizeof *v + len + 1);

	memset(v, 0, sizeof *v);
	v->refs = 1;
	v->kind = VAL_STRING;
	v->u.str.s = (char *)(v + 1);
	if (len)
		memcpy(v->u.str.s, s, len);
	v->u.str.s[len] = '\0';
	v->u.str.len = len;
	return v;
}

struct value *val_string(const char *s, size_t len)
{
	char *norm;
	size_t nlen;
	struct value *v;

	if (!nfc(s, len, &norm, &nlen))
		return string_in_place(s, len);
	v = string_in_place(norm, nlen);
	free(norm);
	return v;
}

struct value *val_cstring(const char *s)
{
	return val_string(s, strlen(s));
}

struct value *val_string_take(char *s, size_t len)
{
	char *norm;
	size_t nlen;
	struct value *v;

	if (nfc(s, len, &norm, &nlen)) {
		/* u8_normalize's result has no NUL after it; the value's text needs one */
		free(s);
		s = xrealloc(norm, nlen + 1);
		s[nlen] = '\0';
		len = nlen;
	}
	v = val_new(VAL_STRING);
	v->u.str.s = s;
	v->u.str.len = len;
	return v;
}

struct value *val_unknown(enum val_kind kind)
{
	if ((size_t)kind < sizeof shared_unknown / sizeof shared_unknown[0])
		return &shared_unknown[kind];
	struct value *v = val_new(kind);
	v->marks = VAL_UNKNOWN;
	return v;
}

struct value *val_list_take(struct value **items, size_t n)
{
	struct value *v = val_new(VAL_LIST);

	v->u.list.items = xmalloc((n ? n : 1) * sizeof *items);
	if (n)
		memcpy(v->u.list.items, items, n * sizeof *items);
	v->u.list.n = n;
	return v;
}

static int cmp_values(const void *a, const void *b)
{
	return val_compare(*(struct value *const *)a, *(struct value *const *)b);
}

struct value *val_set_take(struct value **items, size_t n)
{
	struct value *v = val_list_take(items, n);
	size_t w = 0;

	v->kind = VAL_SET;
	qsort(v->u.list.items, n, sizeof *items, cmp_values);
	for (size_t i = 0; i < n; i++) {
		/* two unknowns may turn out different: only known equal members merge */
		if (w && val_is_known(v->u.list.items[w - 1]) && val_is_known(v->u.list.items[i]) &&
		    val_equal(v->u.list.items[w - 1], v->u.list.items[i])) {
			/* equal members merge; a mark on either stays */
			struct value *kept = v->u.list.items[w - 1];
			unsigned m = v->u.list.items[i]->marks & ~kept->marks;
			if (m) {
				v->u.list.items[w - 1] = val_mark(kept, m);
				val_unref(kept);
			}
			val_unref(v->u.list.items[i]);
			continue;
		}
		v->u.list.items[w++] = v->u.list.items[i];
	}
	v->u.list.n = w;
	return v;
}

/* A pair's key and its place in the caller's order: qsort is not stable (glibc's is an
 * introsort from 2.37), so the place breaks ties, and of equal keys the later sorts last
 * and wins, as merge() and variables from several files need. */
struct keyed_pair {
	const char *key;
	size_t at;
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed_pair *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	return x->at < y->at ? -1 : x->at > y->at;
}

static void sort_pairs(struct val_pair *items, size_t n)
{
	struct keyed_pair *k = xmalloc(n * sizeof *k);
	struct val_pair *sorted = xmalloc(n * sizeof *sorted);

	for (size_t i = 0; i < n; i++)
		k[i] = (struct keyed_pair){ items[i].key, i };
	qsort(k, n, sizeof *k, cmp_keyed);
	for (size_t i = 0; i < n; i++)
		sorted[i] = items[k[i].at];
	memcpy(items, sorted, n * sizeof *items);
	free(sorted);
	free(k);
}

/* v's pairs: the n at items, their keys copied after them in one block (values borrowed),
 * or with keys_static, the keys themselves (they outlive every value). */
static void map_pack(struct value *v, const struct val_pair *items, size_t n, int keys_static)
{
	size_t bytes = 0;
	char *k;

	if (keys_static) {
		v->u.map.items = xmalloc((n ? n : 1) * sizeof *items);
		v->u.map.n = n;
		if (n)
			memcpy(v->u.map.items, items, n * sizeof *items);
		return;
	}
	for (size_t i = 0; i < n; i++)
		bytes += strlen(items[i].key) + 1;
	v->u.map.items = xmalloc((n ? n : 1) * sizeof *items + bytes);
	v->u.map.n = n;
	k = (char *)(v->u.map.items + (n ? n : 1));
	for (size_t i = 0; i < n; i++) {
		v->u.map.items[i] = (struct val_pair){ k, items[i].val };
		k = stpcpy(k, items[i].key) + 1;
	}
}

/* own_keys: 1 the keys are the caller's to free (once copied), 0 borrowed, 2 static */
static struct value *map_take(struct val_pair *items, size_t n, int own_keys)
{
	struct value *v;
	size_t w = 0;

	/* maps mostly arrive sorted (from other maps, the state, the schema): check before sorting */
	int sorted = 1;
	for (size_t i = 1; i < n && sorted; i++)
		sorted = strcmp(items[i - 1].key, items[i].key) < 0;
	if (!sorted && n <= 16) {
		/* a small map (a block body: its attributes, then its nested blocks) is mostly
		 * sorted runs: insertion sort is quicker than qsort here, and as stable */
		for (size_t i = 1; i < n; i++) {
			struct val_pair p = items[i];
			size_t j = i;
			for (; j && strcmp(items[j - 1].key, p.key) > 0; j--)
				items[j] = items[j - 1];
			items[j] = p;
		}
	} else if (!sorted) {
		sort_pairs(items, n);
	}
	if (sorted) {
		/* strictly increasing: no key twice */
		w = n;
	} else {
		for (size_t i = 0; i < n; i++) {
			struct val_pair *p = &items[i];
			if (w && strcmp(items[w - 1].key, p->key) == 0) {
				if (own_keys == 1)
					free(items[w - 1].key);
				val_unref(items[w - 1].val);
				items[w - 1] = *p;
				continue;
			}
			items[w++] = *p;
		}
	}
	v = val_new(VAL_MAP);
	map_pack(v, items, w, own_keys == 2);
	if (own_keys == 1)
		for (size_t i = 0; i < w; i++)
			free(items[i].key);
	return v;
}

struct value *val_map_take(struct val_pair *items, size_t n)
{
	return map_take(items, n, 1);
}

struct value *val_map_take_vals(struct val_pair *items, size_t n)
{
	return map_take(items, n, 0);
}

struct value *val_map_take_static(struct val_pair *items, size_t n)
{
	return map_take(items, n, 2);
}

struct value *val_empty_list(void)
{
	return val_list_take(NULL, 0);
}

struct value *val_empty_map(void)
{
	return val_map_take(NULL, 0);
}

struct value *val_ref(struct value *v)
{
	if (!v || v->shared == VAL_SHARED_STATIC)
		return v;
	if (v->shared)
		__atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
	else
		v->refs++;
	return v;
}

void val_unref(struct value *v)
{
	if (!v)
		return;
	if (v->shared) {
		/* the last holder frees it, after every other holder's use (acquire, release) */
		if (v->shared == VAL_SHARED_STATIC || __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL))
			return;
	} else if (--v->refs) {
		return;
	}
	switch (v->kind) {
	case VAL_STRING:
		if (v->u.str.s != (char *)(v + 1))
			free(v->u.str.s);
		break;
	case VAL_LIST:
	case VAL_SET:
		for (size_t i = 0; i < v->u.list.n; i++)
			val_unref(v->u.list.items[i]);
		free(v->u.list.items);
		break;
	case VAL_MAP:
		/* the keys are in the block of the pairs (map_pack) */
		for (size_t i = 0; i < v->u.map.n; i++)
			val_unref(v->u.map.items[i].val);
		free(v->u.map.items);
		break;
	default:
		break;
	}
	free(v);
}

void val_share(struct value *v)
{
	if (!v || v->shared)
		return;
	v->shared = VAL_SHARED_ATOMIC;
	switch (v->kind) {
	case VAL_LIST:
	case VAL_SET:
		for (size_t i = 0; i < v->u.list.n; i++)
			val_share(v->u.list.items[i]);
		break;
	case VAL_MAP:
		for (size_t i = 0; i < v->u.map.n; i++)
			val_share(v->u.map.items[i].val);
		break;
	default:
		break;
	}
}

/* A top-level copy: children are shared by reference. */
static struct value *shallow_copy(const struct value *v)
{
	struct value *c = val_new((enum val_kind)v->kind);

	c->marks = v->marks;
	/* an unknown value has no contents to copy, only its kind */
	if (v->marks & VAL_UNKNOWN)
		return c;
	switch (v->kind) {
	case VAL_BOOL:
		c->u.b = v->u.b;
		break;
	case VAL_NUMBER:
		c->u.n = v->u.n;
		break;
	case VAL_STRING:
		c->u.str.s = xstrndup(v->u.str.s, v->u.str.len);
		c->u.str.len = v->u.str.len;
		break;
	case VAL_LIST:
	case VAL_SET:
		c->u.list.n = v->u.list.n;
		c->u.list.items = xmalloc((v->u.list.n ? v->u.list.n : 1) * sizeof(struct value *));
		for (size_t i = 0; i < v->u.list.n; i++)
			c->u.list.items[i] = val_ref(v->u.list.items[i]);
		break;
	case VAL_MAP:
		map_pack(c, v->u.map.items, v->u.map.n, 0);
		for (size_t i = 0; i < c->u.map.n; i++)
			val_ref(c->u.map.items[i].val);
		break;
	default:
		break;
	}
	return c;
}

struct value *val_mark(struct value *v, unsigned marks)
{
	struct value *c;

	if ((v->marks & marks) == marks)
		return val_ref(v);
	c = shallow_copy(v);
	c->marks |= (uint8_t)marks;
	return c;
}

struct value *val_mark_elements(struct value *v, unsigned marks)
{
	struct value *c, *r;

	if (v->kind == VAL_MAP) {
		struct val_pair *pairs = xmalloc((v->u.map.n ? v->u.map.n : 1) * sizeof *pairs);
		for (size_t i = 0; i < v->u.map.n; i++) {
			pairs[i].key = v->u.map.items[i].key;
			pairs[i].val = val_mark(v->u.map.items[i].val, marks);
		}
		c = val_map_take_vals(pairs, v->u.map.n);
		free(pairs);
	} else if (v->kind == VAL_LIST || v->kind == VAL_SET) {
		struct value **items = xmalloc((v->u.list.n ? v->u.list.n : 1) * sizeof *items);
		for (size_t i = 0; i < v->u.list.n; i++)
			items[i] = val_mark(v->u.list.items[i], marks);
		/* marks do not take part in val_compare: a set keeps its order */
		c = v->kind == VAL_SET ? val_set_take(items, v->u.list.n) : val_list_take(items, v->u.list.n);
		free(items);
	} else {
		return val_ref(v);
	}
	if (!v->marks)
		return c;
	r = val_mark(c, v->marks);
	val_unref(c);
	return r;
}

/* public: register the strings that are not sensitive as public (diag_add_public), not the
 * sensitive ones as secrets */
static void add_secrets(const struct value *v, int inside, int public)
{
	if (!v || (v->marks & VAL_UNKNOWN))
		return;
	inside |= (v->marks & VAL_SENSITIVE) != 0;
	if (inside && public)
		return;
	switch (v->kind) {
	case VAL_STRING:
		if (public)
			diag_add_public(v->u.str.s, v->u.str.len);
		else if (inside)
			diag_add_secret(v->u.str.s, v->u.str.len);
		break;
	case VAL_LIST:
	case VAL_SET:
		for (size_t i = 0; i < v->u.list.n; i++)
			add_secrets(v->u.list.items[i], inside, public);
		break;
	case VAL_MAP:
		/* the values only: keys (Name, Team) are words every message may hold */
		for (size_t i = 0; i < v->u.map.n; i++)
			add_secrets(v->u.map.items[i].val, inside, public);
		break;
	default:
		break;
	}
}

void val_add_secrets(const struct value *v)
{
	add_secrets(v, 0, 0);
}

void val_add_public(const struct value *v)
{
	add_secrets(v, 0, 1);
}

struct value *val_unmark(struct value *v)
{
	struct value *c;

	if (!v->marks)
		return val_ref(v);
	c = shallow_copy(v);
	c->marks = 0;
	return c;
}

struct value *val_copy_known(const struct value *v)
{
	struct value *r;

	if (!v || (v->marks & VAL_UNKNOWN))
		return val_null();
	switch (v->kind) {
	case VAL_BOOL:
		return val_bool(v->u.b);
	case VAL_NUMBER:
		return val_number(v->u.n);
	case VAL_STRING:
		return val_string(v->u.str.s, v->u.str.len);
	case VAL_LIST:
	case VAL_SET: {
		struct value **items = xcalloc(v->u.list.n ? v->u.list.n : 1, sizeof *items);
		for (size_t i = 0; i < v->u.list.n; i++)
			items[i] = val_copy_known(v->u.list.items[i]);
		r = v->kind == VAL_SET ? val_set_take(items, v->u.list.n) : val_list_take(items, v->u.list.n);
		free(items);
		return r;
	}
	case VAL_MAP: {
		struct val_pair *pairs = xcalloc(v->u.map.n ? v->u.map.n : 1, sizeof *pairs);
		for (size_t i = 0; i < v->u.map.n; i++) {
			pairs[i].key = v->u.map.items[i].key;
			pairs[i].val = val_copy_known(v->u.map.items[i].val);
		}
		r = val_map_take_vals(pairs, v->u.map.n);
		free(pairs);
		return r;
	}
	default:
		return val_null();
	}
}

unsigned val_deep_marks(const struct value *v)
{
	unsigned m = v->marks;

	switch (v->kind) {
	case VAL_LIST:
	case VAL_SET:
		for (size_t i = 0; i < v->u.list.n; i++)
			m |= val_deep_marks(v->u.list.items[i]);
		break;
	case VAL_MAP:
		for (size_t i = 0; i < v->u.map.n; i++)
			m |= val_deep_marks(v->u.map.items[i].val);
		break;
	default:
		break;
	}
	return m;
}

int val_is_known(const struct value *v)
{
	return !(val_deep_marks(v) & VAL_UNKNOWN);
}

int val_is_sensitive(const struct value *v)
{
	return (val_deep_marks(v) & VAL_SENSITIVE) != 0;
}

struct value *val_map_get(const struct value *map, const char *key)
{
	size_t lo = 0, hi;

	if (map->kind != VAL_MAP || (map->marks & VAL_UNKNOWN))
		return NULL;
	hi = map->u.map.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(map->u.map.items[mid].key, key);
		if (c == 0)
			return map->u.map.items[mid].val;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

size_t val_length(const struct value *v)
{
	size_t n = 0;

	switch (v->kind) {
	case VAL_STRING:
		for (size_t i = 0; i < v->u.str.len; i++)
			if (((unsigned char)v->u.str.s[i] & 0xC0) != 0x80)
				n++;
		return n;
	case VAL_LIST:
	case VAL_SET:
		return v->u.list.n;
	case VAL_MAP:
		return v->u.map.n;
	default:
		return 0;
	}
}

int val_equal(const struct value *a, const struct value *b)
{
	return val_compare(a, b) == 0;
}

static int cmp_num(double a, double b)
{
	return a < b ? -1 : a > b;
}

int val_compare(const struct value *a, const struct value *b)
{
	int ua = (a->marks & VAL_UNKNOWN) != 0, ub = (b->marks & VAL_UNKNOWN) != 0;

	/* unknowns sort last and equal each other: two "(known after apply)" are not different */
	if (ua || ub)
		return ua - ub;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	switch (a->kind) {
	case VAL_BOOL:
		return a->u.b - b->u.b;
	case VAL_NUMBER:
		return cmp_num(a->u.n, b->u.n);
	case VAL_STRING: {
		size_t n = a->u.str.len < b->u.str.len ? a->u.str.len : b->u.str.len;
		int c = memcmp(a->u.str.s, b->u.str.s, n);
		if (c)
			return c < 0 ? -1 : 1;
		return cmp_num((double)a->u.str.len, (double)b->u.str.len);
	}
	case VAL_LIST:
	case VAL_SET:
		for (size_t i = 0; i < a->u.list.n && i < b->u.list.n; i++) {
			int c = val_compare(a->u.list.items[i], b->u.list.items[i]);
			if (c)
				return c;
		}
		return cmp_num((double)a->u.list.n, (double)b->u.list.n);
	case VAL_MAP:
		for (size_t i = 0; i < a->u.map.n && i < b->u.map.n; i++) {
			int c = strcmp(a->u.map.items[i].key, b->u.map.items[i].key);
			if (c)
				return c < 0 ? -1 : 1;
			c = val_compare(a->u.map.items[i].val, b->u.map.items[i].val);
			if (c)
				return c;
		}
		return cmp_num((double)a->u.map.n, (double)b->u.map.n);
	default:
		return 0;
	}
}

const char *val_kind_name(enum val_kind k)
{
	switch (k) {
	case VAL_NULL: return "null";
	case VAL_BOOL: return "bool";
	case VAL_NUMBER: return "number";
	case VAL_STRING: return "string";
	case VAL_LIST: return "list";
	case VAL_SET: return "set";
	case VAL_MAP: return "map";
	default: return "value";
	}
}

/* ---- numbers as Terraform prints them ----
 * Terraform's numbers are big.Float values and it prints them with big.Float's formatting.
 * A number is first turned into decimal digits (the fewest that read back as the same double),
 * which are then rounded and laid out the way Go's math/big does. */

struct decimal {
	char d[40];   /* digits, no leading or trailing zeros */
	int n;        /* how many */
	int exp;      /* value = 0.d[0]d[1]... * 10^exp */
};

static void decimal_trim(struct decimal *x)
{
	while (x->n > 0 && x->d[x->n - 1] == '0')
		x->n--;
	if (!x->n)
		x->exp = 0;
}

/* The shortest digits that read back as |v| (v finite). */
static void decimal_shortest(double v, struct decimal *x)
{
	char tmp[48];
	char *p, *e;

	v = fabs(v);
	x->n = 0;
	x->exp = 0;
	if (v == 0)
		return;
	for (int prec = 0; prec < 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*e", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	/* tmp is d.ddde[+-]XX */
	e = strchr(tmp, 'e');
	for (p = tmp; p < e; p++)
		if (*p != '.')
			x->d[x->n++] = *p;
	x->exp = atoi(e + 1) + 1;
	decimal_trim(x);
}

/* Go's decimal rounding to nd digits: half to even, where "half" is judged on the digits. */
static void decimal_round(struct decimal *x, int nd)
{
	int up;

	if (nd < 0 || nd >= x->n)
		return;
	if (x->d[nd] == '5' && nd + 1 == x->n)
		up = nd > 0 && (x->d[nd - 1] - '0') % 2;
	else
		up = x->d[nd] >= '5';
	if (!up) {
		x->n = nd;
		decimal_trim(x);
		return;
	}
	while (nd > 0 && x->d[nd - 1] == '9')
		nd--;
	if (!nd) {
		x->d[0] = '1';
		x->n = 1;
		x->exp++;
		return;
	}
	x->d[nd - 1]++;
	x->n = nd;
}

static void decimal_fmt_f(const struct decimal *x, int prec, struct buf *out)
{
	if (x->exp > 0) {
		int m = x->n < x->exp ? x->n : x->exp;
		buf_add(out, x->d, (size_t)m);
		buf_addchars(out, '0', (size_t)(x->exp - m));
	} else {
		buf_addch(out, '0');
	}
	if (prec > 0) {
		buf_addch(out, '.');
		for (int i = 1; i <= prec; i++) {
			int j = x->exp + i - 1;
			buf_addch(out, j >= 0 && j < x->n ? x->d[j] : '0');
		}
	}
}

static void decimal_fmt_e(const struct decimal *x, int prec, int upper, struct buf *out)
{
	int exp = x->n ? x->exp - 1 : 0;

	buf_addch(out, x->n ? x->d[0] : '0');
	if (prec > 0) {
		buf_addch(out, '.');
		for (int i = 1; i <= prec; i++)
			buf_addch(out, i < x->n ? x->d[i] : '0');
	}
	buf_addch(out, upper ? 'E' : 'e');
	buf_addch(out, exp < 0 ? '-' : '+');
	if (exp < 0)
		exp = -exp;
	if (exp < 10)
		buf_addch(out, '0');
	buf_printf(out, "%d", exp);
}

void val_format_float(double v, int fmt, int prec, struct buf *out)
{
	struct decimal x;
	int shortest = prec < 0, upper = fmt == 'E' || fmt == 'G';

	if (isinf(v)) {
		buf_addstr(out, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (signbit(v) && v != 0)
		buf_addch(out, '-');
	decimal_shortest(v, &x);
	if (shortest) {
		switch (fmt) {
		case 'e': case 'E':
			prec = x.n ? x.n - 1 : 0;
			break;
		case 'f':
			prec = x.n - x.exp > 0 ? x.n - x.exp : 0;
			break;
		default:
			prec = x.n;
			break;
		}
	} else {
		switch (fmt) {
		case 'e': case 'E':
			decimal_round(&x, 1 + prec);
			break;
		case 'f':
			decimal_round(&x, x.exp + prec);
			break;
		default:
			if (!prec)
				prec = 1;
			decimal_round(&x, prec);
			break;
		}
	}
	switch (fmt) {
	case 'e': case 'E':
		decimal_fmt_e(&x, prec, upper, out);
		return;
	case 'f':
		decimal_fmt_f(&x, prec, out);
		return;
	default: {
		int eprec = prec, exp;
		if (eprec > x.n && x.n >= x.exp)
			eprec = x.n;
		if (shortest)
			eprec = 6;
		exp = x.exp - 1;
		if (exp < -4 || exp >= eprec) {
			if (prec > x.n)
				prec = x.n;
			decimal_fmt_e(&x, prec - 1, upper, out);
			return;
		}
		if (prec > x.exp)
			prec = x.n;
		decimal_fmt_f(&x, prec - x.exp > 0 ? prec - x.exp : 0, out);
		return;
	}
	}
}

void val_format_number(double n, struct buf *out)
{
	char tmp[32];

	if (n == floor(n) && fabs(n) < 1e18) {
		/* a whole number, digit by digit: what "%.0f" writes, without printf's cost */
		if (n == 0 && signbit(n)) {
			buf_addstr(out, "-0");
			return;
		}
		long long k = (long long)n;
		unsigned long long u = k < 0 ? 0 - (unsigned long long)k : (unsigned long long)k;
		char *p = tmp + sizeof tmp;
		do
			*--p = (char)('0' + u % 10);
		while (u /= 10);
		if (k < 0)
			*--p = '-';
		buf_add(out, p, (size_t)(tmp + sizeof tmp - p));
		return;
	}
	if (isnan(n)) {
		/* no value should hold one (conversions refuse them); Go's spelling, never JSON */
		buf_addstr(out, "NaN");
		return;
	}
	/* Terraform's Text('f', -1): 1e21 is all 22 of its digits, 1e-7 is 0.0000001 */
	val_format_float(n, 'f', -1, out);
}

int val_to_string(const struct value *v, struct buf *out, const char **why)
{
	if (v->marks & VAL_UNKNOWN) {
		*why = "it is not known until apply";
		return -1;
	}
	switch (v->kind) {
	case VAL_STRING:
		buf_add(out, v->u.str.s, v->u.str.len);
		return 0;
	case VAL_NUMBER:
		val_format_number(v->u.n, out);
		return 0;
	case VAL_BOOL:
		buf_addstr(out, v->u.b ? "true" : "false");
		return 0;
	case VAL_NULL:
		*why = "it is null";
		return -1;
	default:
		*why = v->kind == VAL_MAP ? "a map is not a string" : "a list is not a string";
		return -1;
	}
}

int val_to_number(const struct value *v, double *out, const char **why)
{
	if (v->marks & VAL_UNKNOWN) {
		*why = "it is not known until apply";
		return -1;
	}
	if (v->kind == VAL_NUMBER) {
		*out = v->u.n;
		return 0;
	}
	if (v->kind == VAL_STRING) {
		if (val_parse_number(v->u.str.s, v->u.str.len, out) == 0)
			return 0;
		*why = "the string is not a number";
		return -1;
	}
	*why = v->kind == VAL_NULL ? "it is null" : "it is not a number";
	return -1;
}

int val_to_bool(const struct value *v, int *out, const char **why)
{
	if (v->marks & VAL_UNKNOWN) {
		*why = "it is not known until apply";
		return -1;
	}
	if (v->kind == VAL_BOOL) {
		*out = v->u.b;
		return 0;
	}
	if (v->kind == VAL_STRING && val_parse_bool(v->u.str.s, v->u.str.len, out) == 0)
		return 0;
	*why = v->kind == VAL_NULL ? "it is null" : "it is not true or false";
	return -1;
}

/* A map key written bare: a name, but not a word that reads as something else there ("for"
 * opens a for expression; true, false and null are values). */
static int is_identifier(const char *s)
{
	if (!*s || !(*s == '_' || ((*s | 32) >= 'a' && (*s | 32) <= 'z')))
		return 0;
	if (!strcmp(s, "for") || !strcmp(s, "true") || !strcmp(s, "false") || !strcmp(s, "null"))
		return 0;
	for (; *s; s++)
		if (!(*s == '_' || *s == '-' || (*s >= '0' && *s <= '9') || ((*s | 32) >= 'a' && (*s | 32) <= 'z')))
			return 0;
	return 1;
}

static void write_quoted(const char *s, size_t len, struct buf *out)
{
	buf_addch(out, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		/* a run of characters that need no escape goes in one copy */
		size_t run = i;
		while (run < len && (unsigned char)s[run] >= 0x20 && s[run] != '"' && s[run] != '\\' &&
		       s[run] != '$' && s[run] != '%')
			run++;
		if (run > i) {
			buf_add(out, s + i, run - i);
			i = run - 1;
			continue;
		}
		switch (c) {
		case '"': buf_addstr(out, "\\\""); break;
		case '\\': buf_addstr(out, "\\\\"); break;
		case '\n': buf_addstr(out, "\\n"); break;
		case '\t': buf_addstr(out, "\\t"); break;
		case '\r': buf_addstr(out, "\\r"); break;
		case '$':
		case '%':
			/* "${" would read back as an interpolation, "%{" as a directive */
			buf_addch(out, (int)c);
			if (i + 1 < len && s[i + 1] == '{')
				buf_addch(out, (int)c);
			break;
		default:
			if (c < 0x20)
				buf_printf(out, "\\u%04x", c);
			else
				buf_addch(out, (int)c);
		}
	}
	buf_addch(out, '"');
}

void val_write(const struct value *v, struct buf *out)
{
	if (v->marks & VAL_SENSITIVE) {
		buf_addstr(out, "(sensitive value)");
		return;
	}
	if (v->marks & VAL_UNKNOWN) {
		buf_addstr(out, "(known after apply)");
		return;
	}
	switch (v->kind) {
	case VAL_NULL:
		buf_addstr(out, "null");
		break;
	case VAL_BOOL:
		buf_addstr(out, v->u.b ? "true" : "false");
		break;
	case VAL_NUMBER:
		val_format_number(v->u.n, out);
		break;
	case VAL_STRING:
		write_quoted(v->u.str.s, v->u.str.len, out);
		break;
	case VAL_LIST:
	case VAL_SET:
		buf_addch(out, '[');
		for (size_t i = 0; i < v->u.list.n; i++) {
			if (i)
				buf_addstr(out, ", ");
			val_write(v->u.list.items[i], out);
		}
		buf_addch(out, ']');
		break;
	case VAL_MAP:
		if (!v->u.map.n) {
			buf_addstr(out, "{}");
			break;
		}
		buf_addstr(out, "{ ");
		for (size_t i = 0; i < v->u.map.n; i++) {
			const char *k = v->u.map.items[i].key;
			if (i)
				buf_addstr(out, ", ");
			if (is_identifier(k))
				buf_addstr(out, k);
			else
				write_quoted(k, strlen(k), out);
			buf_addstr(out, " = ");
			val_write(v->u.map.items[i].val, out);
		}
		buf_addstr(out, " }");
		break;
	default:
		buf_addstr(out, "(known after apply)");
		break;
	}
}

/* "10.0.0.0/16" and "10.0.0.0/016" or "10.0.0.1/16" name the same network only when written
 * canonically; the cloud reports the canonical form. */
int val_cidr_canonical(const char *s, struct buf *out)
{
	unsigned a, b, c, d, len;
	char tail;

	if (sscanf(s, "%u.%u.%u.%u/%u%c", &a, &b, &c, &d, &len, &tail) != 5 || a > 255 || b > 255 ||
	    c > 255 || d > 255 || len > 32)
		return -1;
	uint32_t ip = (a << 24) | (b << 16) | (c << 8) | d;
	uint32_t mask = len ? 0xFFFFFFFFu << (32 - len) : 0;
	ip &= mask;
	buf_printf(out, "%u.%u.%u.%u/%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255, len);
	return 0;
}

/* ---- strings to numbers and bools ----
 * Every conversion of a string to a number or a bool goes through these two, so that an
 * operator, a condition, a typed variable, a function argument and tonumber/tobool agree. */

/* cty.ParseNumberVal, which is big.ParseFloat in base 10: an optional sign, digits with an
 * optional fraction (".5" and "5." count), then an optional exponent, decimal ("e3") or
 * binary ("p3", times 2^3). No spaces, no hex, no underscores. "Inf", which big.Float
 * takes, is refused with every number beyond the double range: a double cannot stand for
 * them the way the rest of stk's numbers are written (jsonencode would write +Inf). */
int val_parse_number(const char *s, size_t len, double *out)
{
	size_t i = 0, digits = 0, mant;
	long bexp = 0;
	int bsign = 1;
	char *copy, *end;
	double d;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, digits++;
	}
	if (!digits)
		return -1;
	mant = i;
	if (i < len && (s[i] == 'e' || s[i] == 'E' || s[i] == 'p' || s[i] == 'P')) {
		int binary = s[i] == 'p' || s[i] == 'P';
		size_t ed = 0;
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			bsign = s[i++] == '-' ? -1 : 1;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			if (bexp < 100000)
				bexp = bexp * 10 + (s[i] - '0');
			i++, ed++;
		}
		if (!ed)
			return -1;
		if (!binary) {
			mant = i;
			bexp = 0;
		}
	}
	if (i != len)
		return -1;
	copy = xstrndup(s, mant);
	*out = strtod(copy, &end);
	free(copy);
	/* times 2^bexp: each step is exact until the range ends (libm is not linked) */
	for (d = *out; bexp > 0 && isfinite(d) && d != 0; bexp--)
		d = bsign > 0 ? d * 2 : d / 2;
	*out = d;
	/* a number too large for a double is the one thing stk cannot hold */
	return isfinite(*out) ? 0 : -1;
}

/* cty's string to bool conversion: "true" and "1", "false" and "0"; nothing else, not even
 * "True". */
int val_parse_bool(const char *s, size_t len, int *out)
{
	if ((len == 4 && !memcmp(s, "true", 4)) || (len == 1 && s[0] == '1'))
		*out = 1;
	else if ((len == 5 && !memcmp(s, "false", 5)) || (len == 1 && s[0] == '0'))
		*out = 0;
	else
		return -1;
	return 0;
}

/* ---- types, unification and conversion ----
 * One implementation for the evaluator (conditionals, typed variables) and the functions
 * (tolist, toset, tomap, distinct, coalesce...): one type that all values convert to, as
 * cty's convert.Unify finds it: primitives unify to string if any is a string
 * (numbers and bools convert to strings) and otherwise only with their own kind; sequences
 * unify element-wise, maps value-wise. stk does not tell tuples from lists nor objects from
 * maps, so nested lists of different lengths and maps of different keys unify as lists and
 * maps where Terraform would want them to match exactly. */


struct val_type *val_type_new(enum val_type_kind k, size_t n)
{
	struct val_type *t = xcalloc(1, sizeof *t);

	t->k = k;
	t->n = n;
	if (n)
		t->sub = xcalloc(n, sizeof *t->sub);
	return t;
}

void val_type_free(struct val_type *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		val_type_free(t->sub[i]);
		if (t->names)
			free(t->names[i]);
	}
	free(t->sub);
	free(t->names);
	free(t);
}


struct val_type *val_type_of(const struct value *v)
{
	struct val_type *t;

	if (v->marks & VAL_UNKNOWN) {
		switch (v->kind) {
		case VAL_BOOL: return val_type_new(VT_BOOL, 0);
		case VAL_NUMBER: return val_type_new(VT_NUMBER, 0);
		case VAL_STRING: return val_type_new(VT_STRING, 0);
		default: return val_type_new(VT_ANY, 0);
		}
	}
	switch (v->kind) {
	case VAL_BOOL:
		return val_type_new(VT_BOOL, 0);
	case VAL_NUMBER:
		return val_type_new(VT_NUMBER, 0);
	case VAL_STRING:
		return val_type_new(VT_STRING, 0);
	case VAL_LIST:
		t = val_type_new(VT_TUPLE, v->u.list.n);
		for (size_t i = 0; i < v->u.list.n; i++)
			t->sub[i] = val_type_of(v->u.list.items[i]);
		return t;
	case VAL_SET: {
		struct val_type **el = xcalloc(v->u.list.n + 1, sizeof *el), *u;
		for (size_t i = 0; i < v->u.list.n; i++)
			el[i] = val_type_of(v->u.list.items[i]);
		u = val_type_unify(el, v->u.list.n);
		for (size_t i = 0; i < v->u.list.n; i++)
			val_type_free(el[i]);
		free(el);
		t = val_type_new(VT_SET, 1);
		t->sub[0] = u ? u : val_type_new(VT_ANY, 0);
		return t;
	}
	case VAL_MAP:
		t = val_type_new(VT_OBJECT, v->u.map.n);
		t->names = xcalloc(v->u.map.n + 1, sizeof *t->names);
		for (size_t i = 0; i < v->u.map.n; i++) {
			t->names[i] = xstrdup(v->u.map.items[i].key);
			t->sub[i] = val_type_of(v->u.map.items[i].val);
		}
		return t;
	default:
		return val_type_new(VT_ANY, 0);
	}
}

static struct val_type *type_copy(const struct val_type *t)
{
	struct val_type *c = val_type_new(t->k, t->n);

	for (size_t i = 0; i < t->n; i++)
		c->sub[i] = type_copy(t->sub[i]);
	if (t->names) {
		c->names = xcalloc(t->n + 1, sizeof *c->names);
		for (size_t i = 0; i < t->n; i++)
			c->names[i] = xstrdup(t->names[i]);
	}
	return c;
}

/* Unifies the members (or elements) of every type in tys into one type: the element type of
 * a list made of all of them. */
static struct val_type *unify_members(struct val_type **tys, size_t n)
{
	struct buf all = BUF_INIT;
	struct val_type *u;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < tys[i]->n; j++)
			buf_push(&all, struct val_type *, tys[i]->sub[j]);
	u = val_type_unify((struct val_type **)(void *)all.data, buf_count(&all, struct val_type *));
	buf_release(&all);
	return u;
}

/* Takes t, a tuple or object type with as many members as every type in tys that is not
 * VT_ANY, and makes each member the unification of those types' members there; NULL when
 * one does not unify. */
static struct val_type *unify_columns(struct val_type **tys, size_t n, struct val_type *t)
{
	for (size_t j = 0; j < t->n; j++) {
		struct buf col = BUF_INIT;
		for (size_t i = 0; i < n; i++)
			if (tys[i]->k != VT_ANY)
				buf_push(&col, struct val_type *, tys[i]->sub[j]);
		val_type_free(t->sub[j]);
		t->sub[j] = val_type_unify((struct val_type **)(void *)col.data,
					   buf_count(&col, struct val_type *));
		buf_release(&col);
		if (!t->sub[j]) {
			val_type_free(t);
			return NULL;
		}
	}
	return t;
}

/* A collection of kind k whose element is the unification of every member of every type in
 * tys that is not VT_ANY; NULL when they do not unify. */
static struct val_type *unify_rest(struct val_type **tys, size_t n, enum val_type_kind k)
{
	struct buf rest = BUF_INIT;
	struct val_type *el, *t = NULL;

	for (size_t i = 0; i < n; i++)
		if (tys[i]->k != VT_ANY)
			buf_push(&rest, struct val_type *, tys[i]);
	el = unify_members((struct val_type **)(void *)rest.data, buf_count(&rest, struct val_type *));
	buf_release(&rest);
	if (el) {
		t = val_type_new(k, 1);
		t->sub[0] = el;
	}
	return t;
}

/* The one type every type in tys converts to, or NULL. */
struct val_type *val_type_unify(struct val_type **tys, size_t n)
{
	size_t any = 0, prim = 0, str = 0, num = 0, bools = 0, seq = 0, tuples = 0, sets = 0;
	size_t maps = 0, objects = 0;
	struct val_type *first = NULL;

	for (size_t i = 0; i < n; i++) {
		switch (tys[i]->k) {
		case VT_ANY: any++; continue;
		case VT_STRING: prim++, str++; break;
		case VT_NUMBER: prim++, num++; break;
		case VT_BOOL: prim++, bools++; break;
		case VT_LIST: seq++; break;
		case VT_TUPLE: seq++, tuples++; break;
		case VT_SET: sets++; break;
		case VT_MAP: maps++; break;
		case VT_OBJECT: maps++, objects++; break;
		}
		if (!first)
			first = tys[i];
	}
	if (any == n)
		return val_type_new(VT_ANY, 0);
	if (prim == n - any) {
		if (str)
			return val_type_new(VT_STRING, 0);
		if (num && bools)
			return NULL;
		return val_type_new(num ? VT_NUMBER : VT_BOOL, 0);
	}
	if (seq == n - any) {
		/* tuples of one length unify member by member, as Terraform does */
		int same = tuples == seq;
		for (size_t i = 0; i < n; i++)
			if (tys[i]->k != VT_ANY && tys[i]->n != first->n)
				same = 0;
		if (same)
			return unify_columns(tys, n, val_type_new(VT_TUPLE, first->n));
		return unify_rest(tys, n, VT_LIST);
	}
	/* a tuple converts to a set, not the other way round */
	if (sets && sets + seq == n - any)
		return unify_rest(tys, n, VT_SET);
	if (maps == n - any) {
		/* objects with the same keys unify key by key */
		int same = objects == maps;
		for (size_t i = 0; i < n && same; i++) {
			if (tys[i]->k == VT_ANY)
				continue;
			if (tys[i]->n != first->n)
				same = 0;
			for (size_t j = 0; same && j < first->n; j++)
				if (strcmp(tys[i]->names[j], first->names[j]))
					same = 0;
		}
		if (same)
			return unify_columns(tys, n, type_copy(first));
		return unify_rest(tys, n, VT_MAP);
	}
	return NULL;
}

/* The element type of a list made of the given values, or NULL when there is none. */
struct val_type *val_type_unify_values(struct value *const *vals, size_t n)
{
	struct val_type **tys = xcalloc(n + 1, sizeof *tys), *u;

	for (size_t i = 0; i < n; i++)
		tys[i] = val_type_of(vals[i]);
	u = val_type_unify(tys, n);
	for (size_t i = 0; i < n; i++)
		val_type_free(tys[i]);
	free(tys);
	return u;
}


/* Cut at 80 bytes only past 96, as messages always have been. */
void val_write_short(const struct value *v, struct buf *out)
{
	struct buf b = BUF_INIT;

	val_write(v, &b);
	if (b.len >= 96) {
		buf_add(out, b.data, 80);
		buf_addstr(out, "...");
	} else {
		buf_add(out, b.data, b.len);
	}
	buf_release(&b);
}

/* A value in a conversion's message: an element of a sensitive value (hide) carries no mark
 * of its own, and must not be shown either. */
static void write_shown(const struct value *v, int hide, struct buf *out)
{
	if (hide)
		buf_addstr(out, "(sensitive value)");
	else
		val_write_short(v, out);
}

/* cty's friendly names: "number", "list of string", "tuple", "object". */
void val_type_name(const struct val_type *t, struct buf *out)
{
	static const char *const names[] = {
		[VT_ANY] = "dynamic", [VT_BOOL] = "bool", [VT_NUMBER] = "number",
		[VT_STRING] = "string", [VT_LIST] = "list of ", [VT_SET] = "set of ",
		[VT_MAP] = "map of ", [VT_TUPLE] = "tuple", [VT_OBJECT] = "object",
	};

	buf_addstr(out, names[t->k]);
	if (t->k == VT_LIST || t->k == VT_SET || t->k == VT_MAP)
		val_type_name(t->sub[0], out);
}

static struct value *convert_in(struct value *v, const struct val_type *t, struct buf *why,
				int hide);

/* A string to a number (k is VT_NUMBER) or a bool: the conversions that depend on the text,
 * with Terraform's messages (tonumber's and tobool's) when it does not convert. */
static struct value *from_string(struct value *v, enum val_type_kind k, struct buf *why, int hide)
{
	struct value *r, *m;
	double d;
	int b;

	if (k == VT_NUMBER ? val_parse_number(v->u.str.s, v->u.str.len, &d) :
	    val_parse_bool(v->u.str.s, v->u.str.len, &b)) {
		if (why) {
			buf_addstr(why, "cannot convert ");
			write_shown(v, hide, why);
			buf_addstr(why, k == VT_NUMBER ? " to number; given string must be a decimal "
				   "representation of a number" : " to bool; only the strings \"true\" "
				   "or \"false\" (or \"1\" and \"0\") are allowed");
		}
		return NULL;
	}
	r = k == VT_NUMBER ? val_number(d) : val_bool(b);
	if (!v->marks)
		return r;
	m = val_mark(r, v->marks);
	val_unref(r);
	return m;
}

/* Converts v to type t. On failure returns NULL and, when why is given, says why in it. */
struct value *val_convert(struct value *v, const struct val_type *t, struct buf *why)
{
	return convert_in(v, t, why, 0);
}

/* convert(), inside a value that is sensitive when hide is set: an element of a sensitive
 * list carries no mark of its own, and must not be shown either. */
static struct value *convert_in(struct value *v, const struct val_type *t, struct buf *why,
				int hide)
{
	struct value *r;

	hide = hide || (v->marks & VAL_SENSITIVE);
	if (t->k == VT_ANY || v->kind == VAL_NULL || (v->marks & VAL_UNKNOWN))
		return val_ref(v);
	switch (t->k) {
	case VT_STRING: {
		struct buf b = BUF_INIT;
		size_t len;
		if (v->kind == VAL_STRING)
			return val_ref(v);
		if (v->kind != VAL_NUMBER && v->kind != VAL_BOOL)
			break;
		val_to_string(v, &b, NULL);
		len = b.len;
		r = val_string_take(buf_detach(&b, NULL), len);
		return v->marks ? (r->marks = v->marks, r) : r;
	}
	case VT_NUMBER:
	case VT_BOOL:
		if (v->kind == (t->k == VT_NUMBER ? VAL_NUMBER : VAL_BOOL))
			return val_ref(v);
		if (v->kind != VAL_STRING)
			break;
		return from_string(v, t->k, why, hide);
	case VT_LIST:
	case VT_SET:
	case VT_TUPLE: {
		struct value **items;
		size_t n = v->u.list.n;
		if (v->kind != VAL_LIST && v->kind != VAL_SET)
			break;
		if (t->k == VT_TUPLE && (v->kind != VAL_LIST || n != t->n))
			break;
		items = xcalloc(n + 1, sizeof *items);
		for (size_t i = 0; i < n; i++) {
			items[i] = convert_in(v->u.list.items[i],
					      t->k == VT_TUPLE ? t->sub[i] : t->sub[0], why, hide);
			if (!items[i]) {
				for (size_t j = 0; j < i; j++)
					val_unref(items[j]);
				free(items);
				return NULL;
			}
		}
		r = t->k == VT_SET ? val_set_take(items, n) : val_list_take(items, n);
		free(items);
		r->marks = v->marks;
		return r;
	}
	case VT_MAP:
	case VT_OBJECT: {
		struct val_pair *items;
		size_t n = v->u.map.n;
		if (v->kind != VAL_MAP)
			break;
		if (t->k == VT_OBJECT && n != t->n)
			break;
		for (size_t i = 0; t->k == VT_OBJECT && i < n; i++)
			if (strcmp(v->u.map.items[i].key, t->names[i]))
				goto fail;
		items = xcalloc(n + 1, sizeof *items);
		for (size_t i = 0; i < n; i++) {
			items[i].key = xstrdup(v->u.map.items[i].key);
			items[i].val = convert_in(v->u.map.items[i].val,
						  t->k == VT_OBJECT ? t->sub[i] : t->sub[0], why, hide);
			if (!items[i].val) {
				for (size_t j = 0; j <= i; j++) {
					free(items[j].key);
					val_unref(items[j].val);
				}
				free(items);
				return NULL;
			}
		}
		r = val_map_take(items, n);
		free(items);
		r->marks = v->marks;
		return r;
	}
	default:
		break;
	}
fail:
	if (why)
		buf_printf(why, "cannot convert %s to %s", val_kind_name((enum val_kind)v->kind),
			   t->k == VT_STRING ? "string" : t->k == VT_NUMBER ? "number" :
			   t->k == VT_BOOL ? "bool" : t->k == VT_MAP || t->k == VT_OBJECT ? "map" :
			   t->k == VT_SET ? "set" : "list");
	return NULL;
}


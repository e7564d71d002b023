#include "planner/value.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

struct value *val_string(const char *s, size_t len)
{
	/* the text right after the value, in the same block: one malloc, not two, for what
	 * is most of a state's values (val_unref knows it by its address) */
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

struct value *val_cstring(const char *s)
{
	return val_string(s, strlen(s));
}

struct value *val_string_take(char *s, size_t len)
{
	struct value *v = val_new(VAL_STRING);
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

static void add_secrets(const struct value *v, int inside)
{
	if (!v || (v->marks & VAL_UNKNOWN))
		return;
	inside |= (v->marks & VAL_SENSITIVE) != 0;
	switch (v->kind) {
	case VAL_STRING:
		if (inside)
			diag_add_secret(v->u.str.s, v->u.str.len);
		break;
	case VAL_LIST:
	case VAL_SET:
		for (size_t i = 0; i < v->u.list.n; i++)
			add_secrets(v->u.list.items[i], inside);
		break;
	case VAL_MAP:
		/* the values only: keys (Name, Team) are words every message may hold */
		for (size_t i = 0; i < v->u.map.n; i++)
			add_secrets(v->u.map.items[i].val, inside);
		break;
	default:
		break;
	}
}

void val_add_secrets(const struct value *v)
{
	add_secrets(v, 0);
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
	char *end;

	if (v->marks & VAL_UNKNOWN) {
		*why = "it is not known until apply";
		return -1;
	}
	if (v->kind == VAL_NUMBER) {
		*out = v->u.n;
		return 0;
	}
	if (v->kind == VAL_STRING && v->u.str.len) {
		/* decimal as the language writes it: no hex, no spaces, no "inf" or "nan" */
		const char *p = v->u.str.s;
		if (*p == '-' || *p == '+')
			p++;
		if (*p >= '0' && *p <= '9' && !strpbrk(v->u.str.s, "xXpP")) {
			*out = strtod(v->u.str.s, &end);
			if (*end == '\0' && isfinite(*out))
				return 0;
		}
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
	if (v->kind == VAL_STRING && (strcmp(v->u.str.s, "true") == 0 || strcmp(v->u.str.s, "false") == 0)) {
		*out = v->u.str.s[0] == 't';
		return 0;
	}
	*why = v->kind == VAL_NULL ? "it is null" : "it is not true or false";
	return -1;
}

static int is_identifier(const char *s)
{
	if (!*s || !(*s == '_' || ((*s | 32) >= 'a' && (*s | 32) <= 'z')))
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
		       s[run] != '$')
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
			/* "${" would read back as an interpolation */
			buf_addstr(out, i + 1 < len && s[i + 1] == '{' ? "$$" : "$");
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

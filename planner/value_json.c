#include "planner/value_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_identifier(const char *s)
{
	if (!(*s == '_' || ((*s | 32) >= 'a' && (*s | 32) <= 'z')))
		return 0;
	for (s++; *s; s++)
		if (!(*s == '_' || *s == '-' || (*s >= '0' && *s <= '9') ||
		      ((*s | 32) >= 'a' && (*s | 32) <= 'z')))
			return 0;
	return 1;
}

static void add_quoted_key(struct buf *out, const char *key)
{
	buf_addstr(out, "[\"");
	for (; *key; key++) {
		if (*key == '"' || *key == '\\')
			buf_addch(out, '\\');
		buf_addch(out, *key);
	}
	buf_addstr(out, "\"]");
}

static void add_key_step(struct buf *out, const char *key)
{
	if (is_identifier(key)) {
		buf_addch(out, '.');
		buf_addstr(out, key);
	} else {
		add_quoted_key(out, key);
	}
}

/*
 * -2^63 <= n < 2^63: exactly the doubles that convert to a json_int_t without overflow; an
 * integral double in that range converts exactly, and reads back as the same double.
 */
static int fits_integer(double n)
{
	return n == trunc(n) && n >= -9223372036854775808.0 && n < 9223372036854775808.0;
}

json_t *val_to_json_why(const struct value *v, struct buf *where, const char **why)
{
	json_t *j = NULL, *item;
	size_t mark = where ? where->len : 0;

	if ((v->marks & VAL_UNKNOWN) || v->kind == VAL_DYNAMIC) {
		*why = "it is not known until apply";
		return NULL;
	}
	switch (v->kind) {
	case VAL_NULL:
		return json_null();
	case VAL_BOOL:
		return json_boolean(v->u.b);
	case VAL_NUMBER:
		if (!isfinite(v->u.n)) {
			*why = "JSON has no NaN or infinity";
			return NULL;
		}
		if (fits_integer(v->u.n))
			return json_integer((json_int_t)v->u.n);
		return json_real(v->u.n);
	case VAL_STRING:
		j = json_stringn(v->u.str.s, v->u.str.len);
		if (!j)
			*why = "the string is not valid UTF-8";
		return j;
	case VAL_LIST:
	case VAL_SET:
		j = json_array();
		for (size_t i = 0; i < v->u.list.n; i++) {
			if (where)
				buf_printf(where, "[%zu]", i);
			item = val_to_json_why(v->u.list.items[i], where, why);
			if (!item)
				goto fail;
			if (json_array_append_new(j, item) < 0) {
				*why = "out of memory";
				goto fail;
			}
			if (where)
				buf_truncate(where, mark);
		}
		return j;
	case VAL_MAP:
		j = json_object();
		for (size_t i = 0; i < v->u.map.n; i++) {
			const struct val_pair *p = &v->u.map.items[i];
			if (where)
				add_key_step(where, p->key);
			item = val_to_json_why(p->val, where, why);
			if (!item)
				goto fail;
			/* jansson takes item even when it refuses the key */
			if (json_object_set_new(j, p->key, item) < 0) {
				*why = "the key is not valid UTF-8";
				goto fail;
			}
			if (where)
				buf_truncate(where, mark);
		}
		return j;
	default:
		*why = "it is not known until apply";
		return NULL;
	}
fail:
	json_decref(j);
	return NULL;
}

json_t *val_to_json(const struct value *v)
{
	const char *why;

	return val_to_json_why(v, NULL, &why);
}

struct value *val_from_json(const json_t *j)
{
	struct value **items;
	struct val_pair *pairs;
	const char *key;
	json_t *member;
	size_t i, n;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		n = json_object_size(j);
		pairs = xmalloc((n ? n : 1) * sizeof *pairs);
		i = 0;
		json_object_foreach((json_t *)j, key, member) {
			struct value *mv = val_from_json(member);
			if (!mv) {
				while (i--)
					val_unref(pairs[i].val);
				free(pairs);
				return NULL;
			}
			/* borrowed: j holds it until the map has copied it */
			pairs[i].key = (char *)key;
			pairs[i].val = mv;
			i++;
		}
		struct value *map = val_map_take_vals(pairs, i);
		free(pairs);
		return map;
	case JSON_ARRAY:
		n = json_array_size(j);
		items = xmalloc((n ? n : 1) * sizeof *items);
		for (i = 0; i < n; i++) {
			items[i] = val_from_json(json_array_get(j, i));
			if (!items[i]) {
				while (i--)
					val_unref(items[i]);
				free(items);
				return NULL;
			}
		}
		struct value *list = val_list_take(items, n);
		free(items);
		return list;
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
	case JSON_NULL:
		return val_null();
	}
	return NULL;
}

/* ---- sensitive paths ---- */

static void collect_sensitive(const struct value *v, json_t *path, json_t *out)
{
	if (v->marks & VAL_SENSITIVE) {
		json_array_append_new(out, json_copy(path));
		return;
	}
	if (v->marks & VAL_UNKNOWN)
		return;
	switch (v->kind) {
	case VAL_LIST:
	case VAL_SET:
		/* a set's members are numbered in its sorted order, which is also the order
		 * of the JSON array it is written as, and of the list it reads back as */
		for (size_t i = 0; i < v->u.list.n; i++) {
			json_array_append_new(path, json_integer((json_int_t)i));
			collect_sensitive(v->u.list.items[i], path, out);
			json_array_remove(path, json_array_size(path) - 1);
		}
		break;
	case VAL_MAP:
		for (size_t i = 0; i < v->u.map.n; i++) {
			json_t *step = json_string(v->u.map.items[i].key);
			if (!step)   /* not UTF-8: val_to_json refuses it anyway */
				continue;
			json_array_append_new(path, step);
			collect_sensitive(v->u.map.items[i].val, path, out);
			json_array_remove(path, json_array_size(path) - 1);
		}
		break;
	default:
		break;
	}
}

json_t *val_sensitive_paths(const struct value *v)
{
	json_t *out = json_array(), *path = json_array();

	collect_sensitive(v, path, out);
	json_decref(path);
	return out;
}

/* A copy of v with its child i replaced by child (a reference this takes). */
static struct value *replace_child(struct value *v, size_t at, struct value *child)
{
	struct value *c, *marked;

	if (v->kind == VAL_MAP) {
		struct val_pair *pairs = xmalloc((v->u.map.n ? v->u.map.n : 1) * sizeof *pairs);
		for (size_t i = 0; i < v->u.map.n; i++) {
			pairs[i].key = v->u.map.items[i].key;
			pairs[i].val = i == at ? child : val_ref(v->u.map.items[i].val);
		}
		c = val_map_take_vals(pairs, v->u.map.n);
		free(pairs);
	} else {
		struct value **items = xmalloc((v->u.list.n ? v->u.list.n : 1) * sizeof *items);
		for (size_t i = 0; i < v->u.list.n; i++)
			items[i] = i == at ? child : val_ref(v->u.list.items[i]);
		/* marks do not take part in val_compare, so a set keeps its order */
		c = v->kind == VAL_SET ? val_set_take(items, v->u.list.n) :
					 val_list_take(items, v->u.list.n);
		free(items);
	}
	if (!v->marks)
		return c;
	marked = val_mark(c, v->marks);
	val_unref(c);
	return marked;
}

static struct value *mark_at(struct value *v, const json_t *path, size_t depth, unsigned marks,
			     const char **why)
{
	const json_t *step;
	struct value *child;
	size_t at;

	if (depth == json_array_size(path))
		return val_mark(v, marks);
	step = json_array_get(path, depth);
	if (v->marks & VAL_UNKNOWN) {
		*why = "it leads into a value that is not known";
		return NULL;
	}
	if (json_is_string(step)) {
		const char *key = json_string_value(step);
		if (v->kind != VAL_MAP) {
			*why = "it names a key of something that is not a map";
			return NULL;
		}
		for (at = 0; at < v->u.map.n; at++)
			if (strcmp(v->u.map.items[at].key, key) == 0)
				break;
		if (at == v->u.map.n) {
			*why = "it names a key that is not there";
			return NULL;
		}
		child = v->u.map.items[at].val;
	} else if (json_is_integer(step)) {
		json_int_t i = json_integer_value(step);
		if (v->kind != VAL_LIST && v->kind != VAL_SET) {
			*why = "it indexes something that is not a list";
			return NULL;
		}
		if (i < 0 || (uint64_t)i >= v->u.list.n) {
			*why = "its index is out of range";
			return NULL;
		}
		at = (size_t)i;
		child = v->u.list.items[at];
	} else {
		*why = "a step must be a string (a key) or an integer (an index)";
		return NULL;
	}
	child = mark_at(child, path, depth + 1, marks, why);
	if (!child)
		return NULL;
	return replace_child(v, at, child);
}

struct value *val_mark_path(struct value *v, const json_t *path, unsigned marks,
			    const char **why)
{
	if (!json_is_array(path)) {
		*why = "a path must be an array of steps";
		return NULL;
	}
	return mark_at(v, path, 0, marks, why);
}

struct value *val_mark_paths(struct value *v, const json_t *paths, unsigned marks,
			     size_t *bad, const char **why)
{
	struct value *cur, *next;
	size_t i;

	*bad = 0;
	if (!json_is_array(paths)) {
		*why = "it must be an array of paths";
		return NULL;
	}
	cur = val_ref(v);
	for (i = 0; i < json_array_size(paths); i++) {
		next = val_mark_path(cur, json_array_get(paths, i), marks, why);
		val_unref(cur);
		if (!next) {
			*bad = i;
			return NULL;
		}
		cur = next;
	}
	return cur;
}

void val_path_format(const json_t *path, struct buf *out)
{
	size_t i;
	json_t *step;

	json_array_foreach(path, i, step) {
		if (json_is_string(step))
			add_key_step(out, json_string_value(step));
		else if (json_is_integer(step))
			buf_printf(out, "[%" JSON_INTEGER_FORMAT "]", json_integer_value(step));
		else
			buf_addstr(out, "[?]");
	}
}

/* ---- writing JSON ---- */

static void write_string(struct buf *out, const char *s, size_t len)
{
	buf_addch(out, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': buf_addstr(out, "\\\""); break;
		case '\\': buf_addstr(out, "\\\\"); break;
		case '\b': buf_addstr(out, "\\b"); break;
		case '\f': buf_addstr(out, "\\f"); break;
		case '\n': buf_addstr(out, "\\n"); break;
		case '\r': buf_addstr(out, "\\r"); break;
		case '\t': buf_addstr(out, "\\t"); break;
		default:
			if (c < 0x20)
				buf_printf(out, "\\u%04X", c);
			else
				buf_addch(out, c);
		}
	}
	buf_addch(out, '"');
}

/* As jansson writes reals (a '.' or an 'e' always, no '+' or leading zeros in exponents), but
 * with the shortest digits that round-trip rather than always 17. */
static void write_real(struct buf *out, double n)
{
	char tmp[40];
	char *e;

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, n);
		if (strtod(tmp, NULL) == n)
			break;
	}
	e = strchr(tmp, 'e');
	if (!e && !strchr(tmp, '.')) {
		strcat(tmp, ".0");
	} else if (e) {
		char *digits = e + 1, *from;
		if (*digits == '+')
			memmove(digits, digits + 1, strlen(digits));
		else if (*digits == '-')
			digits++;
		for (from = digits; *from == '0' && from[1]; from++)
			;
		memmove(digits, from, strlen(from) + 1);
	}
	buf_addstr(out, tmp);
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void write_json(const json_t *j, struct buf *out, size_t depth)
{
	const char *key;
	json_t *item;
	size_t i, n;

	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char **keys;
		n = json_object_size(j);
		if (!n) {
			buf_addstr(out, "{}");
			break;
		}
		keys = xmalloc(n * sizeof *keys);
		i = 0;
		json_object_foreach((json_t *)j, key, item)
			keys[i++] = key;
		qsort(keys, n, sizeof *keys, cmp_keys);
		buf_addch(out, '{');
		for (i = 0; i < n; i++) {
			buf_addstr(out, i ? ",\n" : "\n");
			buf_addchars(out, ' ', 2 * (depth + 1));
			write_string(out, keys[i], strlen(keys[i]));
			buf_addstr(out, ": ");
			write_json(json_object_get(j, keys[i]), out, depth + 1);
		}
		buf_addch(out, '\n');
		buf_addchars(out, ' ', 2 * depth);
		buf_addch(out, '}');
		free(keys);
		break;
	}
	case JSON_ARRAY:
		if (!json_array_size(j)) {
			buf_addstr(out, "[]");
			break;
		}
		buf_addch(out, '[');
		json_array_foreach(j, i, item) {
			buf_addstr(out, i ? ",\n" : "\n");
			buf_addchars(out, ' ', 2 * (depth + 1));
			write_json(item, out, depth + 1);
		}
		buf_addch(out, '\n');
		buf_addchars(out, ' ', 2 * depth);
		buf_addch(out, ']');
		break;
	case JSON_STRING:
		write_string(out, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		break;
	case JSON_REAL:
		write_real(out, json_real_value(j));
		break;
	case JSON_TRUE:
		buf_addstr(out, "true");
		break;
	case JSON_FALSE:
		buf_addstr(out, "false");
		break;
	case JSON_NULL:
		buf_addstr(out, "null");
		break;
	}
}

void val_json_write(const json_t *j, struct buf *out)
{
	write_json(j, out, 0);
}

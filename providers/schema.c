/* schema.c: the types every provider table shares, the list of providers and lookups
 * over the tables. Conventions the provider tables follow (tests/unit/test_schema.c
 * checks them):
 *  - default_value is .stk source text: "true", "60", "\"tcp\"" (strings keep quotes);
 *    only a plain OPTIONAL attribute has one, never an OPTIONAL|COMPUTED one.
 *  - a timeout of 0 means Terraform declares none for that operation.
 *  - data sources have no id_attr: nothing imports them. */
#include "providers/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct schema_type schema_string = { .kind = SK_STRING };
const struct schema_type schema_number = { .kind = SK_NUMBER };
const struct schema_type schema_bool = { .kind = SK_BOOL };
const struct schema_type schema_any = { .kind = SK_ANY };

const struct schema_type schema_list_of_string = { .kind = SK_LIST, .elem = &schema_string };
const struct schema_type schema_set_of_string = { .kind = SK_SET, .elem = &schema_string };
const struct schema_type schema_map_of_string = { .kind = SK_MAP, .elem = &schema_string };
const struct schema_type schema_list_of_number = { .kind = SK_LIST, .elem = &schema_number };

const struct schema_provider *const schema_providers[] = {
	&schema_aws,
	&schema_docker,
	&schema_host,
	NULL,
};

const struct schema_provider *schema_provider_find(const char *name)
{
	const struct schema_provider *const *p;

	if (!name)
		return NULL;
	for (p = schema_providers; *p; p++)
		if (!strcmp((*p)->name, name))
			return *p;
	return NULL;
}

const struct schema_resource *schema_type_find(const char *type, int data)
{
	const char *dot = type ? strchr(type, '.') : NULL;
	char prov[64];

	if (!dot || (size_t)(dot - type) >= sizeof prov)
		return NULL;
	snprintf(prov, sizeof prov, "%.*s", (int)(dot - type), type);
	return schema_resource_find(schema_provider_find(prov), dot + 1, data);
}

const struct schema_resource *schema_resource_find(const struct schema_provider *p,
						   const char *type, int data)
{
	const struct schema_resource *r;

	if (!p || !type)
		return NULL;
	r = data ? p->data_sources : p->resources;
	for (; r && r->type; r++)
		if (!strcmp(r->type, type))
			return r;
	return NULL;
}

const struct schema_attr *schema_attr_find(const struct schema_block *b, const char *name)
{
	const struct schema_attr *a;

	if (!b || !name)
		return NULL;
	/* the first byte first: the check and the planner look names up by the million */
	for (a = b->attrs; a && a->name; a++)
		if (a->name[0] == name[0] && !strcmp(a->name, name))
			return a;
	return NULL;
}

const struct schema_attr *schema_tags_attr(const struct schema_block *b)
{
	const struct schema_attr *a = schema_attr_find(b, "tags");

	if (!a || !(a->flags & (SF_REQUIRED | SF_OPTIONAL)) || a->type->kind != SK_MAP ||
	    !a->type->elem || a->type->elem->kind != SK_STRING)
		return NULL;
	return a;
}

const struct schema_nested *schema_nested_find(const struct schema_block *b, const char *name)
{
	const struct schema_nested *n;

	if (!b || !name)
		return NULL;
	for (n = b->blocks; n && n->name; n++)
		if (n->name[0] == name[0] && !strcmp(n->name, name))
			return n;
	return NULL;
}

const char *schema_kind_name(enum schema_kind k)
{
	switch (k) {
	case SK_STRING:
		return "string";
	case SK_NUMBER:
		return "number";
	case SK_BOOL:
		return "bool";
	case SK_ANY:
		return "any";
	case SK_LIST:
		return "list";
	case SK_SET:
		return "set";
	case SK_MAP:
		return "map";
	case SK_OBJECT:
		return "object";
	}
	/* Not a valid kind: still something printable, since this feeds error messages. */
	return "unknown";
}

/* snprintf-style sink: counts everything, stores what fits. */
struct type_out {
	char *buf;
	size_t size;
	size_t len;
};

static void type_out_str(struct type_out *o, const char *s)
{
	size_t n = strlen(s);

	if (o->len + 1 < o->size) {
		size_t room = o->size - 1 - o->len;

		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void type_out_type(struct type_out *o, const struct schema_type *t, int depth)
{
	const struct schema_attr *a;

	/* Tables are acyclic, but a bad one must not hang an error message. */
	if (!t || depth > 16) {
		type_out_str(o, "?");
		return;
	}
	type_out_str(o, schema_kind_name(t->kind));
	switch (t->kind) {
	case SK_LIST:
	case SK_SET:
	case SK_MAP:
		type_out_str(o, "(");
		type_out_type(o, t->elem, depth + 1);
		type_out_str(o, ")");
		break;
	case SK_OBJECT:
		type_out_str(o, "({");
		for (a = t->attrs; a && a->name; a++) {
			if (a != t->attrs)
				type_out_str(o, ", ");
			type_out_str(o, a->name);
			type_out_str(o, " = ");
			type_out_type(o, a->type, depth + 1);
		}
		type_out_str(o, "})");
		break;
	default:
		break;
	}
}

size_t schema_type_name(const struct schema_type *t, char *buf, size_t size)
{
	struct type_out o = { .buf = buf, .size = size, .len = 0 };

	type_out_type(&o, t, 0);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len;
}

int schema_duration(const char *s)
{
	/* "40m", "1h30m", "90s": Go-style durations as Terraform takes them */
	int total = 0, any = 0;

	while (*s) {
		char *end;
		long n = strtol(s, &end, 10);
		if (end == s || n < 0)
			return -1;
		switch (*end) {
		case 'h': total += (int)n * 3600; break;
		case 'm': total += (int)n * 60; break;
		case 's': total += (int)n; break;
		default: return -1;
		}
		s = end + 1;
		any = 1;
	}
	return any ? total : -1;
}

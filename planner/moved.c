/* moved.c: moved blocks, applied to the state before the refresh and the plan (moved.h). */
#include "planner/moved.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "planner/state.h"

void moves_init(struct moves *m)
{
	buf_init(&m->stmts);
	strmap_init(&m->origin);
}

static void move_stmt_free(struct move_stmt *s)
{
	free(s->calls);
	addr_release(&s->from);
	addr_release(&s->to);
	free(s);
}

void moves_release(struct moves *m)
{
	for (size_t i = 0; i < buf_count(&m->stmts, struct move_stmt *); i++)
		move_stmt_free(buf_at(&m->stmts, struct move_stmt *, i));
	buf_release(&m->stmts);
	for (size_t i = 0; i < m->origin.cap; i++)
		if (m->origin.slots[i].key) {
			free((char *)m->origin.slots[i].key);
			free(m->origin.slots[i].value);
		}
	strmap_release(&m->origin);
}

/* ---- endpoints ---- */

/* The traversal e as address text ("module.a[0].aws.vpc.x"); -1 with *bad at the part that
 * is not a name or a literal key. */
static int endpoint_text(const struct ast_expr *e, struct buf *out, const struct ast_expr **bad)
{
	const struct ast_expr *k;

	switch (e->kind) {
	case AST_VAR:
		buf_addstr(out, e->u.var.name);
		return 0;
	case AST_GETATTR:
		if (endpoint_text(e->u.getattr.obj, out, bad))
			return -1;
		buf_printf(out, ".%s", e->u.getattr.name);
		return 0;
	case AST_INDEX:
		if (endpoint_text(e->u.index.obj, out, bad))
			return -1;
		k = e->u.index.key;
		if (k->kind == AST_NUMBER) {
			/* a fraction or a sign is left for addr_parse to refuse, with its reason */
			if (k->u.number >= 0 && k->u.number == floor(k->u.number) && k->u.number < 1e15)
				buf_printf(out, "[%.0f]", k->u.number);
			else
				buf_printf(out, "[%g]", k->u.number);
			return 0;
		}
		if (ast_static_string(k)) {
			const char *s = ast_static_string(k);
			struct value *v = val_string(s, strlen(s));
			addr_format_key(v, out);
			val_unref(v);
			return 0;
		}
		*bad = k;
		return -1;
	default:
		*bad = e;
		return -1;
	}
}

/* what a reference starts with when it names a value, not an object the state holds */
static const char *const value_roots[] = { "var", "local", "each", "count", "path", "self", "stack", NULL };

int move_endpoint(const struct ast_expr *e, struct addr *out, const struct ast_expr **bad, struct buf *why)
{
	struct buf text = BUF_INIT;
	int ret = -1;

	addr_release(out);
	*bad = e;
	if (endpoint_text(e, &text, bad)) {
		buf_addstr(why, "an address is names and literal keys, not an expression");
		goto out;
	}
	*bad = e;
	for (const char *const *r = value_roots; *r; r++)
		if (!strncmp(text.data, *r, strlen(*r)) && text.data[strlen(*r)] == '.') {
			buf_printf(why, "%s.* is a value, not an object", *r);
			goto out;
		}
	/* module.a or module.a["x"].module.b: a module endpoint; anything longer, a resource */
	if (addr_parse_module(text.data, NULL) == 0) {
		out->module = buf_detach(&text, NULL);
		ret = 0;
		goto out;
	}
	if (addr_parse(out, text.data, why))
		goto out;
	if (out->mode == ADDR_DATA) {
		addr_release(out);
		buf_addstr(why, "a data source is read again, not moved");
		goto out;
	}
	ret = 0;
out:
	buf_release(&text);
	return ret;
}

/* addr_copy, for a module endpoint too (no type, no name) */
static void endpoint_copy(struct addr *dst, const struct addr *src)
{
	if (src->type) {
		addr_copy(dst, src);
		return;
	}
	addr_release(dst);
	dst->module = xstrdup(src->module);
}

void moves_add(struct moves *m, const char *calls, const struct addr *from, const struct addr *to,
	       const struct span *span)
{
	struct move_stmt *s = xcalloc(1, sizeof *s);
	size_t fl = strlen(from->module), tl = strlen(to->module);

	s->calls = xstrdup(calls);
	addr_init(&s->from);
	addr_init(&s->to);
	endpoint_copy(&s->from, from);
	endpoint_copy(&s->to, to);
	s->module = from->type == NULL;
	/* "module.a" to "module.b": every instance of the call; "module.a" to "module.a[0]":
	 * the instance without a key */
	if (s->module)
		s->whole = !(fl && from->module[fl - 1] == ']') && !(tl && to->module[tl - 1] == ']');
	else
		s->whole = !from->key && !to->key;
	s->span = *span;
	buf_push(&m->stmts, struct move_stmt *, s);
}

/* ---- matching the state's addresses ---- */

/* The length of module's first steps, which must be calls's names whatever their keys
 * (a statement in module.web applies in module.web[0] and module.web[1]); -1 when they are
 * not. Keys are skipped as addr.c writes them: a number, or a string with escapes. */
static long calls_prefix(const char *module, const char *calls)
{
	const char *p = module, *c = calls;

	while (*c) {
		const char *end = strchr(c + strlen("module."), '.');
		size_t n = end ? (size_t)(end - c) : strlen(c);
		if (p != module) {
			if (*p != '.')
				return -1;
			p++;
		}
		if (strncmp(p, c, n) || (p[n] && p[n] != '[' && p[n] != '.'))
			return -1;
		p += n;
		if (*p == '[') {
			int quoted = 0;
			for (p++; *p && (quoted || *p != ']'); p++) {
				if (quoted && *p == '\\' && p[1])
					p++;
				else if (*p == '"')
					quoted = !quoted;
			}
			if (*p)
				p++;
		}
		c += n;
		if (*c == '.')
			c++;
	}
	return (long)(p - module);
}

/* prefix (of length n) and rest joined by a dot, either may be empty */
static char *join_module(const char *prefix, size_t n, const char *rest)
{
	if (!n)
		return xstrdup(rest);
	if (!*rest)
		return xstrndup(prefix, n);
	return xasprintf("%.*s.%s", (int)n, prefix, rest);
}

static int keys_equal(const struct value *a, const struct value *b)
{
	return a && b ? val_equal(a, b) : a == b;
}

/* Does s move the object at in? Then out (initialized) is where to. */
static int stmt_match(const struct move_stmt *s, const struct addr *in, struct addr *out)
{
	long n = calls_prefix(in->module, s->calls);
	char *from = NULL, *to = NULL;
	int ret = 0;

	if (n < 0)
		return 0;
	from = join_module(in->module, (size_t)n, s->from.module);
	if (s->module) {
		size_t fl = strlen(from);
		const char *rest = in->module + fl;
		if (strncmp(in->module, from, fl) || (*rest && *rest != '.' && !(s->whole && *rest == '[')))
			goto out;
		char *base = join_module(in->module, (size_t)n, s->to.module);
		to = xasprintf("%s%s", base, rest);
		free(base);
		addr_set(out, to, in->mode, in->type, in->name, in->key);
		ret = 1;
		goto out;
	}
	if (in->mode != ADDR_MANAGED || strcmp(in->module, from) || strcmp(in->type, s->from.type) ||
	    strcmp(in->name, s->from.name) || (!s->whole && !keys_equal(in->key, s->from.key)))
		goto out;
	to = join_module(in->module, (size_t)n, s->to.module);
	addr_set(out, to, ADDR_MANAGED, s->to.type, s->to.name, s->whole ? in->key : s->to.key);
	ret = 1;
out:
	free(from);
	free(to);
	return ret;
}

static char *addr_text(const struct addr *a)
{
	struct buf b = BUF_INIT;

	addr_format(a, &b);
	return buf_detach(&b, NULL);
}

/* Where the object at start ends up: the statements followed one after another (each once,
 * so a cycle ends), as long as no step lands on an address taken. Returns 1 with *end set
 * (initialized), 0 when nothing moves it, -1 after the warning for a taken address. */
static int follow(struct diag_ctx *diag, struct moves *m, const struct strmap *taken, const struct addr *start,
		  struct addr *end)
{
	size_t n = buf_count(&m->stmts, struct move_stmt *);
	unsigned char *used = xcalloc(n ? n : 1, 1);
	struct addr cur, next;
	int moved = 0, ret = 0;

	addr_init(&cur);
	addr_init(&next);
	addr_copy(&cur, start);
	for (size_t i = 0; i < n; i++) {
		struct move_stmt *s = buf_at(&m->stmts, struct move_stmt *, i);
		if (used[i] || !stmt_match(s, &cur, &next))
			continue;
		used[i] = 1;
		char *at = addr_text(&next);
		if (strmap_get(taken, at)) {
			char *was = addr_text(start);
			diag_warning(diag, &s->span, "moved object still exists: %s was not moved to %s, which the "
				     "state also holds", was, at);
			diag_hint(diag, "stk plans each of them on its own; remove this moved block, or one of "
				  "the objects with stk state rm");
			free(was);
			free(at);
			ret = -1;
			goto out;
		}
		free(at);
		addr_release(&cur);
		addr_copy(&cur, &next);
		addr_release(&next);
		moved = 1;
		i = (size_t)-1;   /* a chain: from the start again, with the new address */
	}
	if (moved) {
		addr_copy(end, &cur);
		ret = 1;
	}
out:
	addr_release(&cur);
	addr_release(&next);
	free(used);
	return ret;
}

void moves_apply(struct diag_ctx *diag, struct moves *m, struct state *st)
{
	struct buf all = BUF_INIT;      /* struct addr: every object, before the moves */
	struct buf names = BUF_INIT;    /* char *: their addresses, which the taken map borrows */
	struct strmap taken;            /* addresses in the state: before, and moved to */

	strmap_init(&taken);
	if (!buf_count(&m->stmts, struct move_stmt *))
		goto out;
	for (size_t i = 0; i < st->nresources; i++) {
		const struct state_resource *r = st->resources[i];
		for (size_t k = 0; k < r->ninstances; k++) {
			struct addr a;
			addr_init(&a);
			addr_set(&a, r->module, r->mode, r->type, r->name, r->instances[k]->key);
			buf_push(&all, struct addr, a);
			buf_push(&names, char *, addr_text(&a));
			strmap_put(&taken, buf_at(&names, char *, buf_count(&names, char *) - 1), (void *)1);
		}
	}
	for (size_t i = 0; i < buf_count(&all, struct addr); i++) {
		const struct addr *a = &buf_at(&all, struct addr, i);
		struct addr to;
		addr_init(&to);
		if (follow(diag, m, &taken, a, &to) == 1 && state_move_instance(st, a, &to) == 0) {
			char *at = addr_text(&to);
			buf_push(&names, char *, at);
			strmap_put(&taken, at, (void *)1);
			strmap_set(&m->origin, xstrdup(at), xstrdup(buf_at(&names, char *, i)));
		}
		addr_release(&to);
	}
out:
	for (size_t i = 0; i < buf_count(&all, struct addr); i++)
		addr_release(&buf_at(&all, struct addr, i));
	for (size_t i = 0; i < buf_count(&names, char *); i++)
		free(buf_at(&names, char *, i));
	buf_release(&all);
	buf_release(&names);
	strmap_release(&taken);
}

const char *moves_origin(const struct moves *m, const char *addr)
{
	return m->origin.len ? strmap_get(&m->origin, addr) : NULL;
}

int moves_check_declared(struct diag_ctx *diag, struct moves *m, const char *addr)
{
	struct addr a, to;
	int ret = 0;

	if (!buf_count(&m->stmts, struct move_stmt *))
		return 0;
	addr_init(&a);
	addr_init(&to);
	if (addr_parse(&a, addr, NULL))
		goto out;
	for (size_t i = 0; i < buf_count(&m->stmts, struct move_stmt *); i++) {
		struct move_stmt *s = buf_at(&m->stmts, struct move_stmt *, i);
		if (!stmt_match(s, &a, &to))
			continue;
		addr_release(&to);
		ret = -1;
		if (__atomic_exchange_n(&s->reported, 1, __ATOMIC_RELAXED))
			continue;
		diag_error(diag, &s->span, "moved object still declared: %s is in the configuration, so this "
			   "block cannot move it", addr);
		diag_hint(diag, "declare the object under its new address only, or remove this moved block");
	}
out:
	addr_release(&a);
	return ret;
}

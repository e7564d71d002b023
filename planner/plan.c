/* plan.c: the planner. It walks the dependency graph in order, evaluates every node in the
 * module instance it belongs to, expands count and for_each into instances, works out each
 * instance's planned attributes from its configuration and prior state, and decides the
 * action that takes the one to the other. */
#include "planner/plan.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/pieces.h"
#include "common/strmap.h"
#include "parser/parse.h"
#include "planner/eval.h"
#include "planner/graph.h"
#include "planner/moved.h"
#include "planner/addr.h"
#include "planner/check.h"
#include "planner/vars.h"
#include "planner/walk.h"

static const struct ast_item *body_attr(const struct ast_body *b, const char *name)
{
	return ast_body_get(b, AST_ATTR, name);
}

void plan_init(struct plan *p)
{
	memset(p, 0, sizeof *p);
}

void plan_change_free(struct plan_change *c)
{
	free(c->addr);
	free(c->moved_from);
	free(c->importing);
	free(c->deposed);
	free(c->resource);
	free(c->type);
	free(c->provider);
	free(c->provider_module);
	val_unref(c->before);
	val_unref(c->after);
	for (size_t i = 0; i < buf_count(&c->replace_paths, char *); i++)
		free(buf_at(&c->replace_paths, char *, i));
	buf_release(&c->replace_paths);
	for (size_t i = 0; i < buf_count(&c->deps, char *); i++)
		free(buf_at(&c->deps, char *, i));
	buf_release(&c->deps);
	free(c->reason);
	free(c);
}

void plan_release(struct plan *p)
{
	for (size_t i = 0; i < buf_count(&p->changes, struct plan_change *); i++)
		plan_change_free(buf_at(&p->changes, struct plan_change *, i));
	for (size_t i = 0; i < buf_count(&p->outputs, struct plan_output *); i++) {
		struct plan_output *o = buf_at(&p->outputs, struct plan_output *, i);
		free(o->name);
		val_unref(o->before);
		val_unref(o->after);
		free(o);
	}
	buf_release(&p->changes);
	buf_release(&p->outputs);
	memset(p, 0, sizeof *p);
}

int plan_has_changes(const struct plan *p)
{
	if (p->add || p->change || p->destroy || p->read || p->import)
		return 1;
	/* a move changes the state, if nothing else */
	for (size_t i = 0; i < buf_count(&p->changes, struct plan_change *); i++)
		if (buf_at(&p->changes, struct plan_change *, i)->moved_from)
			return 1;
	for (size_t i = 0; i < buf_count(&p->outputs, struct plan_output *); i++)
		if (buf_at(&p->outputs, struct plan_output *, i)->action != PLAN_NOOP)
			return 1;
	return 0;
}

/* ---- references ---- */

/* The value of a node for a reference; NULL (quietly) when the node failed, as its own error
 * has been reported. */
static struct value *node_value(struct planner *pl, struct graph_node *n, const struct eval_ref *ref)
{
	if (!n) {
		diag_error(pl->diag, &ref->span, "'%s' is not declared", ref->key);
		return NULL;
	}
	if (n->state == 1) {
		/* the graph reports cycles before any evaluation: this is one it did not see, and
		 * a node failing with no message would leave its dependents out of the plan unsaid */
		diag_error(pl->diag, &ref->span, "%s refers to itself", n->addr);
		return NULL;
	}
	if (n->state != 2 || !n->value)
		return NULL;
	return val_ref(n->value);
}

static struct value *module_outputs(struct planner *pl, const char *prefix)
{
	struct buf pairs = BUF_INIT;
	size_t plen = strlen(prefix);
	struct value *r;

	for (size_t i = 0; i < graph_count(&pl->g); i++) {
		struct graph_node *n = graph_node(&pl->g, i);
		if (n->kind != GN_OUTPUT || strncmp(n->addr, prefix, plen) || strncmp(n->addr + plen, "output.", 7) ||
		    strchr(n->addr + plen + 7, '.'))
			continue;
		if (n->state != 2)
			goto fail;
		struct val_pair p = { xstrdup(n->name), val_ref(n->value) };
		buf_push(&pairs, struct val_pair, p);
	}
	r = val_map_take((struct val_pair *)(void *)pairs.data, buf_count(&pairs, struct val_pair));
	buf_release(&pairs);
	return r;
fail:
	for (size_t i = 0; i < buf_count(&pairs, struct val_pair); i++) {
		free(buf_at(&pairs, struct val_pair, i).key);
		val_unref(buf_at(&pairs, struct val_pair, i).val);
	}
	buf_release(&pairs);
	return NULL;
}

/* module.web, where web has count or for_each: a list (count) or a map (for_each) of each
 * instance's outputs, in the order the graph made the instances (by index, by key). */
static struct value *module_instances(struct planner *pl, const struct graph_module *m, const struct ast_item *call)
{
	struct buf items = BUF_INIT;  /* struct value * or struct val_pair */
	int each = body_attr(&call->body, "count") == NULL;
	struct value *r = NULL;
	size_t n = 0;

	for (size_t i = 0; i < buf_count(&pl->g.modules, struct graph_module *); i++) {
		const struct graph_module *c = buf_at(&pl->g.modules, struct graph_module *, i);
		if (c->parent != m || c->call != call)
			continue;
		char *prefix = xasprintf("%s.", c->path);
		struct value *v = module_outputs(pl, prefix);
		free(prefix);
		if (!v)
			goto out;
		if (each) {
			struct val_pair p = { xstrndup(c->each_key->u.str.s, c->each_key->u.str.len), v };
			buf_push(&items, struct val_pair, p);
		} else {
			buf_push(&items, struct value *, v);
		}
		n++;
	}
	if (each)
		r = val_map_take((struct val_pair *)(void *)items.data, n);
	else
		r = val_list_take((struct value **)(void *)items.data, n);
	n = 0;
out:
	for (size_t i = 0; i < n; i++) {
		if (each) {
			free(buf_at(&items, struct val_pair, i).key);
			val_unref(buf_at(&items, struct val_pair, i).val);
		} else {
			val_unref(buf_at(&items, struct value *, i));
		}
	}
	buf_release(&items);
	return r;
}

/* The stack block's tags, evaluated in the root module whatever module asks; {} without them.
 * where is the reference, for the error when the tags name themselves. */
static struct value *stack_tags(struct planner *pl, const struct eval_ctx *ec, const struct span *where)
{
	const struct ast_item *t = pl->stack ? body_attr(&pl->stack->body, "tags") : NULL;
	struct eval_ctx inner = *ec;
	struct graph_module *saved = pl->cur->eval_mod;
	struct value *r;

	if (!t)
		return val_empty_map();
	if (pl->scratch.in_stack_tags) {
		/* stack { tags = { A = stack.tags.B } }: no value could come of it */
		diag_error(pl->diag, where, "stack.tags refers to itself");
		diag_hint(pl->diag, "write the value itself, or put it in a local both use");
		return NULL;
	}
	inner.count_index = inner.each_key = inner.each_value = NULL;
	/* written in the root module, whatever module refers to it */
	pl->cur->eval_mod = buf_at(&pl->g.modules, struct graph_module *, 0);
	pl->scratch.in_stack_tags = 1;
	r = eval_expr(&inner, t->value);
	pl->scratch.in_stack_tags = 0;
	pl->cur->eval_mod = saved;
	return r;
}

static struct value *resolve(struct eval_ctx *ec, const struct eval_ref *ref)
{
	struct planner *pl = ec->planner;
	struct graph_module *m = pl->cur->eval_mod;
	struct value *r;

	switch (ref->kind) {
	case REF_VAR:
	case REF_LOCAL:
	case REF_DATA:
	case REF_RESOURCE:
		return node_value(pl, graph_find_in(&pl->g, m, ref->kind == REF_VAR ? "var." :
						    ref->kind == REF_LOCAL ? "local." :
						    ref->kind == REF_DATA ? "data." : "", ref->key), ref);
	case REF_MODULE: {
		const char *dot = strchr(ref->key, '.');
		char *name = dot ? xstrndup(ref->key, (size_t)(dot - ref->key)) : xstrdup(ref->key);
		char *prefix = *m->path ? xasprintf("%s.module.%s.", m->path, name) : xasprintf("module.%s.", name);
		const struct ast_item *call = NULL;
		struct graph_node *n = NULL;
		if (dot) {
			char *addr = xasprintf("%soutput.%s", prefix, dot + 1);
			n = graph_find(&pl->g, addr);
			free(addr);
		} else {
			/* the call, from its instances; read from the configuration only when it has
			 * none (count = 0), as every reference to a module comes here */
			for (size_t i = 0; !call && i < buf_count(&pl->g.modules, struct graph_module *); i++) {
				const struct graph_module *c = buf_at(&pl->g.modules, struct graph_module *, i);
				if (c->parent == m && !strcmp(c->call->labels[0].text, name))
					call = c->call;
			}
		}
		if (!n && !call)
			call = graph_module_call(m, name);
		const struct ast_item *count = call ? body_attr(&call->body, "count") : NULL;
		int many = count || (call && body_attr(&call->body, "for_each"));
		if (dot && !n && many) {
			/* module.web.url where web has count: Terraform's error too */
			diag_error(pl->diag, &ref->span, "module.%s has %s; pick an instance first", name,
				   count ? "count" : "for_each");
			diag_hint(pl->diag, count ? "write module.%s[0].%s or module.%s[*].%s" :
				  "write module.%s[\"KEY\"].%s or use a for expression", name, dot + 1, name, dot + 1);
			r = NULL;
		} else if (dot) {
			r = node_value(pl, n, ref);
		} else if (many) {
			r = module_instances(pl, m, call);
		} else {
			r = module_outputs(pl, prefix);
		}
		free(prefix);
		free(name);
		return r;
	}
	case REF_PATH:
		if (!strcmp(ref->key, "module"))
			return val_cstring(pl->cur->eval_mod->cfg->dir);
		if (!strcmp(ref->key, "root"))
			return val_cstring(buf_at(&pl->g.modules, struct graph_module *, 0)->cfg->dir);
		if (!strcmp(ref->key, "cwd")) {
			char cwd[4096];
			return val_cstring(getcwd(cwd, sizeof cwd) ? cwd : ".");
		}
		break;
	case REF_STACK:
		if (!strcmp(ref->key, "name")) {
			if (pl->stack && pl->stack->nlabels)
				return val_cstring(pl->stack->labels[0].text);
			return val_cstring("default");
		}
		if (!strcmp(ref->key, "tags"))
			return stack_tags(pl, ec, &ref->span);
		if (!strcmp(ref->key, "workspace"))
			return val_cstring(eval_workspace);
		break;
	case REF_ITER:
		diag_error(pl->diag, &ref->span, "unknown name '%s'", ref->key);
		return NULL;
	default:
		break;
	}
	diag_error(pl->diag, &ref->span, "'%s' cannot be used here", ref->key);
	return NULL;
}

static void eval_init(struct planner *pl, struct eval_ctx *ec, struct graph_node *n)
{
	memset(ec, 0, sizeof *ec);
	ec->diag = pl->diag;
	/* file paths are relative to where stk runs, as in Terraform: path.module is for the rest */
	ec->module_dir = NULL;
	ec->resolve = resolve;
	ec->planner = pl;
	pl->cur = n;
}

/* ---- schema-typed values ---- */

/* The value of a schema default, written as .stk source ("true", "\"tcp\""). */
static struct value *schema_default(struct planner *pl, const char *src_text)
{
	struct value *v = strmap_get(&pl->scratch.default_cache, src_text);

	if (v)
		return val_ref(v);
	char *text = xasprintf("v = %s\n", src_text);
	struct source *src = diag_add_source(pl->diag, "<schema default>", text, strlen(text));
	struct ast_file *f = parse_source(pl->diag, src, 0);
	struct eval_ctx ec;
	memset(&ec, 0, sizeof ec);
	ec.diag = pl->diag;
	v = f->body.n == 1 ? eval_expr(&ec, f->body.items[0]->value) : NULL;
	buf_push(&pl->scratch.default_files, struct ast_file *, f);
	if (!v)
		v = val_null();
	strmap_put(&pl->scratch.default_cache, src_text, v);
	return val_ref(v);
}

/* Converts a configured value to an attribute's schema type, as Terraform does: numbers and
 * bools become strings where strings are wanted, lists become sets. */
static struct value *to_schema(struct planner *pl, struct value *v, const struct schema_type *t,
			       const struct span *where, const char *what)
{
	struct buf b = BUF_INIT;
	const char *why;
	double d;
	int bo;

	if ((v->marks & VAL_UNKNOWN) || v->kind == VAL_NULL || t->kind == SK_ANY)
		return val_ref(v);
	switch (t->kind) {
	case SK_STRING:
		if (v->kind == VAL_STRING)
			return val_ref(v);
		if (v->kind == VAL_NUMBER || v->kind == VAL_BOOL) {
			val_to_string(v, &b, &why);
			size_t len = b.len;
			struct value *s = val_string_take(buf_detach(&b, NULL), len);
			struct value *r = v->marks ? val_mark(s, v->marks) : val_ref(s);
			val_unref(s);
			return r;
		}
		break;
	case SK_NUMBER:
		if (v->kind == VAL_NUMBER)
			return val_ref(v);
		if (v->kind == VAL_STRING && val_to_number(v, &d, &why) == 0)
			return val_number(d);
		break;
	case SK_BOOL:
		if (v->kind == VAL_BOOL)
			return val_ref(v);
		if (v->kind == VAL_STRING && val_to_bool(v, &bo, &why) == 0)
			return val_bool(bo);
		break;
	case SK_LIST:
	case SK_SET:
		if (v->kind == VAL_LIST || v->kind == VAL_SET) {
			size_t n = v->u.list.n;
			struct value **items = xcalloc(n ? n : 1, sizeof *items);
			for (size_t i = 0; i < n; i++) {
				items[i] = to_schema(pl, v->u.list.items[i], t->elem, where, what);
				if (!items[i]) {
					for (size_t k = 0; k < i; k++)
						val_unref(items[k]);
					free(items);
					return NULL;
				}
			}
			/* a list that converts to itself is shared, not copied: most do */
			size_t same = 0;
			while (t->kind == SK_LIST && v->kind == VAL_LIST && same < n && items[same] == v->u.list.items[same])
				same++;
			if (t->kind == SK_LIST && v->kind == VAL_LIST && same == n) {
				for (size_t i = 0; i < n; i++)
					val_unref(items[i]);
				free(items);
				return val_ref(v);
			}
			struct value *r = t->kind == SK_SET ? val_set_take(items, n) : val_list_take(items, n);
			free(items);
			if (v->marks) {
				struct value *m = val_mark(r, v->marks);
				val_unref(r);
				r = m;
			}
			return r;
		}
		break;
	case SK_MAP:
	case SK_OBJECT:
		if (v->kind == VAL_MAP) {
			size_t n = v->u.map.n;
			struct val_pair *p = xcalloc(n ? n : 1, sizeof *p);
			for (size_t i = 0; i < n; i++) {
				const struct schema_type *et = t->elem;
				if (t->kind == SK_OBJECT) {
					et = NULL;
					for (const struct schema_attr *a = t->attrs; a && a->name; a++)
						if (!strcmp(a->name, v->u.map.items[i].key))
							et = a->type;
				}
				p[i].key = v->u.map.items[i].key;
				p[i].val = et ? to_schema(pl, v->u.map.items[i].val, et, where, what) :
					   val_ref(v->u.map.items[i].val);
				if (!p[i].val) {
					for (size_t k = 0; k <= i; k++)
						val_unref(p[k].val);
					free(p);
					return NULL;
				}
			}
			/* an object gets every attribute it declares, unset ones null or defaulted */
			if (t->kind == SK_OBJECT) {
				for (const struct schema_attr *a = t->attrs; a && a->name; a++) {
					if (val_map_get(v, a->name))
						continue;
					p = xrealloc(p, (n + 1) * sizeof *p);
					p[n].key = (char *)a->name;
					p[n].val = a->default_value ? schema_default(pl, a->default_value) : val_null();
					n++;
				}
			}
			/* a map that converts to itself (nothing added, every value its own) is shared */
			size_t same = 0;
			while (n == v->u.map.n && same < n && p[same].val == v->u.map.items[same].val)
				same++;
			if (n == v->u.map.n && same == n) {
				for (size_t i = 0; i < n; i++)
					val_unref(p[i].val);
				free(p);
				return val_ref(v);
			}
			struct value *r = val_map_take_vals(p, n);
			free(p);
			if (v->marks) {
				struct value *m = val_mark(r, v->marks);
				val_unref(r);
				r = m;
			}
			return r;
		}
		break;
	default:
		return val_ref(v);
	}
	buf_release(&b);
	diag_error(pl->diag, where, "%s must be %s, not a %s", what,
		   t->kind == SK_STRING ? "a string" : t->kind == SK_NUMBER ? "a number" :
		   t->kind == SK_BOOL ? "true or false" : t->kind == SK_MAP || t->kind == SK_OBJECT ? "a map" :
		   "a list", val_kind_name((enum val_kind)v->kind));
	return NULL;
}

/*
 * Most maps a plan makes hold a schema block's keys: its attributes, then its nested blocks,
 * in the schema's order, which is not byte order. A block's key_order says where each key
 * goes in byte order, so such a map is built sorted (val_map_take then has nothing to sort)
 * and read by position (slot_get) instead of by binary search: 100k resources of 20
 * attributes make millions of both. Made once per block and planner.
 */
struct key_order {
	const struct schema_block *sb;
	size_t n, nattrs;       /* attributes and nested blocks; attributes */
	size_t *slot;           /* the i-th key's place among them in byte order */
	size_t *at;             /* and the other way: which key is r-th in byte order */
	const char **names;     /* the keys in byte order */
};

static const struct key_order *key_order(struct planner *pl, const struct schema_block *sb)
{
	size_t n, *idx;
	const char **names;
	struct key_order *ko;

	for (size_t i = 0; i < buf_count(&pl->scratch.key_orders, struct key_order *); i++)
		if (buf_at(&pl->scratch.key_orders, struct key_order *, i)->sb == sb)
			return buf_at(&pl->scratch.key_orders, struct key_order *, i);
	ko = xcalloc(1, sizeof *ko);
	for (const struct schema_attr *a = sb->attrs; a && a->name; a++)
		ko->nattrs++;
	n = ko->nattrs;
	for (const struct schema_nested *nb = sb->blocks; nb && nb->name; nb++)
		n++;
	names = xmalloc((n ? n : 1) * sizeof *names);
	idx = xmalloc((n ? n : 1) * sizeof *idx);
	n = 0;
	for (const struct schema_attr *a = sb->attrs; a && a->name; a++)
		names[n++] = a->name;
	for (const struct schema_nested *nb = sb->blocks; nb && nb->name; nb++)
		names[n++] = nb->name;
	/* insertion sort, stable: a name twice keeps its order, as val_map_take's sort does */
	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		for (; j && strcmp(names[idx[j - 1]], names[i]) > 0; j--)
			idx[j] = idx[j - 1];
		idx[j] = i;
	}
	ko->sb = sb;
	ko->n = n;
	ko->slot = xmalloc((n ? n : 1) * sizeof *ko->slot);
	ko->at = idx;
	ko->names = xmalloc((n ? n : 1) * sizeof *ko->names);
	for (size_t r = 0; r < n; r++) {
		ko->slot[idx[r]] = r;
		ko->names[r] = names[idx[r]];
	}
	free(names);
	buf_push(&pl->scratch.key_orders, struct key_order *, ko);
	return ko;
}

/* val_map_get(m, name), looked at slot `at` first: where name is in a map of its block's keys */
static struct value *slot_get(const struct value *m, size_t at, const char *name)
{
	if (m && m->kind == VAL_MAP && !(m->marks & VAL_UNKNOWN) && at < m->u.map.n &&
	    !strcmp(m->u.map.items[at].key, name))
		return m->u.map.items[at].val;
	return m ? val_map_get(m, name) : NULL;
}

static struct value *eval_body(struct planner *pl, struct eval_ctx *ec, const struct ast_body *body,
			       const struct schema_block *sb);

/* The blocks of one nested type as eval_body collects them, static and dynamic. */
struct nested_blocks {
	struct planner *pl;
	const struct schema_nested *nb;
	struct buf items;       /* struct value *: each block's map */
};

/* One block of the type: a static block's body, or a dynamic block's content (an
 * eval_content_fn, with the iterator bound in ec). */
static int add_nested_block(void *arg, struct eval_ctx *ec, const struct ast_body *body)
{
	struct nested_blocks *nbs = arg;
	struct value *v = eval_body(nbs->pl, ec, body, nbs->nb->block);

	if (!v)
		return -1;
	buf_push(&nbs->items, struct value *, v);
	return 0;
}

/* The blocks of one nested type in body, static and dynamic, in source order as Terraform
 * takes them: a list or a set of maps, unknown as a whole when a dynamic block's for_each is.
 * NULL after a diagnostic. */
static struct value *eval_blocks(struct planner *pl, struct eval_ctx *ec, const struct ast_body *body,
				 const struct schema_nested *nb)
{
	struct nested_blocks nbs = { pl, nb, BUF_INIT };
	const struct ast_item *dyn = NULL;   /* the last dynamic block of the type */
	struct value *r = NULL;
	unsigned marks = 0;
	size_t n;

	for (size_t i = 0; i < body->n; i++) {
		const struct ast_item *it = body->items[i];
		unsigned m;
		if (it->kind == AST_BLOCK && ast_same_name(it->name, nb->name)) {
			if (add_nested_block(&nbs, ec, &it->body))
				goto out;
		} else if (eval_is_dynamic(it) && it->nlabels == 1 && !strcmp(it->labels[0].text, nb->name)) {
			if (eval_dynamic(ec, it, add_nested_block, &nbs, &m))
				goto out;
			marks |= m;
			dyn = it;
		}
	}
	n = buf_count(&nbs.items, struct value *);
	if (marks & VAL_UNKNOWN) {
		/* how many blocks, and which, is not known until apply, as in Terraform */
		r = val_unknown(nb->is_set ? VAL_SET : VAL_LIST);
		goto out;
	}
	/* stk validate counts static blocks; what dynamic ones make is counted here */
	if (dyn && n < (size_t)nb->min_items) {
		diag_error(pl->diag, &dyn->name_span, "this makes %zu %s block%s in all, and %d at least %s needed",
			   n, nb->name, n == 1 ? "" : "s", nb->min_items, nb->min_items == 1 ? "is" : "are");
		diag_hint(pl->diag, "this dynamic block's for_each decides how many there are");
		goto out;
	}
	if (dyn && nb->max_items && n > (size_t)nb->max_items) {
		diag_error(pl->diag, &dyn->name_span, "this makes %zu %s blocks in all, and %d at most %s taken",
			   n, nb->name, nb->max_items, nb->max_items == 1 ? "is" : "are");
		diag_hint(pl->diag, "this dynamic block's for_each decides how many there are");
		goto out;
	}
	r = nb->is_set ? val_set_take((struct value **)(void *)nbs.items.data, n) :
			 val_list_take((struct value **)(void *)nbs.items.data, n);
	nbs.items.len = 0;   /* the list holds the references now */
	if (marks & VAL_SENSITIVE) {
		/* how many blocks there are says something of a secret for_each */
		struct value *sv = val_mark(r, VAL_SENSITIVE);
		val_unref(r);
		r = sv;
	}
out:
	for (size_t j = 0; j < buf_count(&nbs.items, struct value *); j++)
		val_unref(buf_at(&nbs.items, struct value *, j));
	buf_release(&nbs.items);
	return r;
}

/* Evaluates a block body against a schema block: a map holding every attribute (unset ones
 * null for now) and every nested block type (a list, or a set, of maps). */
static struct value *eval_body(struct planner *pl, struct eval_ctx *ec, const struct ast_body *body,
			       const struct schema_block *sb)
{
	const struct key_order *ko = key_order(pl, sb);
	struct val_pair *pairs = xmalloc((ko->n ? ko->n : 1) * sizeof *pairs);
	struct value *r = NULL;
	size_t k = 0;   /* keys done, in the schema's order */

	for (const struct schema_attr *a = sb->attrs; a && a->name; a++, k++) {
		const struct ast_item *it = (a->flags & (SF_REQUIRED | SF_OPTIONAL)) ? body_attr(body, a->name) : NULL;
		struct value *v = NULL;
		if (it) {
			struct value *raw = eval_expr(ec, it->value);
			if (!raw)
				goto fail;
			v = to_schema(pl, raw, a->type, &it->value->span, a->name);
			val_unref(raw);
			if (!v)
				goto fail;
			if ((a->flags & SF_SENSITIVE) && !(v->marks & VAL_SENSITIVE)) {
				struct value *m = val_mark(v, VAL_SENSITIVE);
				val_unref(v);
				v = m;
			}
		} else {
			v = val_null();
		}
		pairs[ko->slot[k]] = (struct val_pair){ (char *)a->name, v };
	}
	for (const struct schema_nested *nb = sb->blocks; nb && nb->name; nb++, k++) {
		struct value *lv = eval_blocks(pl, ec, body, nb);
		if (!lv)
			goto fail;
		pairs[ko->slot[k]] = (struct val_pair){ (char *)nb->name, lv };
	}
	/* keyed by the schema's names, which the map points at */
	r = val_map_take_static(pairs, ko->n);
	free(pairs);
	return r;
fail:
	for (size_t i = 0; i < k; i++)
		val_unref(pairs[ko->slot[i]].val);
	free(pairs);
	return NULL;
}

/* ---- comparing ---- */

static int attr_equal(const struct schema_attr *a, const struct value *x, const struct value *y)
{
	if ((x->marks | y->marks) & VAL_UNKNOWN)
		return 0;
	if (a && (a->flags & SF_CIDR) && x->kind == VAL_STRING && y->kind == VAL_STRING) {
		struct buf cx = BUF_INIT, cy = BUF_INIT;
		int eq = val_cidr_canonical(x->u.str.s, &cx) == 0 && val_cidr_canonical(y->u.str.s, &cy) == 0 &&
			 !strcmp(cx.data, cy.data);
		buf_release(&cx);
		buf_release(&cy);
		if (eq)
			return 1;
	}
	/* null and a zero value say the same, as Terraform's providers treat them: nothing set
	 * reads back as false, 0, "" or an empty collection */
	if (x->kind == VAL_NULL || y->kind == VAL_NULL) {
		const struct value *z = x->kind == VAL_NULL ? y : x;
		switch (z->kind) {
		case VAL_NULL: return 1;
		case VAL_BOOL: return !z->u.b;
		case VAL_NUMBER: return z->u.n == 0;
		case VAL_STRING: return z->u.str.len == 0;
		default: return val_length(z) == 0;
		}
	}
	return val_equal(x, y);
}

/* ---- nodes ---- */

static int is_ignored(const struct ast_item *lifecycle, const char *attr)
{
	const struct ast_item *ic = lifecycle ? body_attr(&lifecycle->body, "ignore_changes") : NULL;

	if (!ic)
		return 0;
	if (ic->value->kind == AST_VAR && !strcmp(ic->value->u.var.name, "all"))
		return 1;
	if (ic->value->kind != AST_LIST)
		return 0;
	for (size_t i = 0; i < ic->value->u.list.n; i++) {
		const struct ast_expr *x = ic->value->u.list.items[i];
		const char *n = x->kind == AST_VAR ? x->u.var.name : ast_static_string(x);
		if (n && !strcmp(n, attr))
			return 1;
	}
	return 0;
}

static int lifecycle_flag(const struct ast_item *lifecycle, const char *name)
{
	const struct ast_item *a = lifecycle ? body_attr(&lifecycle->body, name) : NULL;
	return a && a->value->kind == AST_BOOL && a->value->u.boolean;
}

static const struct ast_item *block_in(const struct ast_body *b, const char *name)
{
	return ast_body_get(b, AST_BLOCK, name);
}

static void add_change(struct planner *pl, struct plan_change *c)
{
	buf_push(&pl->out->changes, struct plan_change *, c);
	if (c->importing)
		pl->out->import++;
	switch (c->action) {
	case PLAN_CREATE: pl->out->add++; break;
	case PLAN_UPDATE: pl->out->change++; break;
	case PLAN_REPLACE: pl->out->add++; pl->out->destroy++; break;
	case PLAN_DELETE: pl->out->destroy++; break;
	case PLAN_READ: pl->out->read++; break;
	default: break;
	}
}

static char *instance_addr(const char *res, const struct value *key)
{
	struct buf b = BUF_INIT;

	buf_addstr(&b, res);
	/* the state's own spelling of the key, so the two always match */
	addr_format_key(key, &b);
	return buf_detach(&b, NULL);
}

/* A prior value in the schema's types: the state stores sets as lists, and a set must compare
 * as a set. Values that do not fit are kept as they are: the plan shows them as changes. */
static struct value *normalize(struct planner *pl, struct value *v, const struct schema_block *sb);

/* A list or set of nested blocks, each normalized; x itself when none changed (and x is
 * already of the block's kind). */
static struct value *normalize_blocks(struct planner *pl, struct value *x, const struct schema_nested *nb)
{
	size_t n = x->u.list.n, same = 0;
	struct value **items = xcalloc(n ? n : 1, sizeof *items);
	struct value *r;

	for (size_t j = 0; j < n; j++) {
		items[j] = normalize(pl, x->u.list.items[j], nb->block);
		same += items[j] == x->u.list.items[j];
	}
	if (same == n && x->kind == (nb->is_set ? VAL_SET : VAL_LIST)) {
		for (size_t j = 0; j < n; j++)
			val_unref(items[j]);
		r = val_ref(x);
	} else {
		r = nb->is_set ? val_set_take(items, n) : val_list_take(items, n);
	}
	free(items);
	return r;
}

/* v in sb's types (a prior from the state: strings where numbers are meant, ...); v itself
 * when it already is, which is what a state stk wrote always is: then nothing is copied. */
static struct value *normalize(struct planner *pl, struct value *v, const struct schema_block *sb)
{
	struct diag_ctx quiet, *saved = pl->diag;
	struct value **ys, *r;
	struct val_pair *pairs;
	size_t n, same = 0;   /* values that came back as they were */

	if (!v || v->kind != VAL_MAP)
		return v ? val_ref(v) : NULL;
	n = v->u.map.n;
	ys = xmalloc((n ? n : 1) * sizeof *ys);
	diag_init(&quiet);
	pl->diag = &quiet;
	/* v's keys and the block's, both in byte order, walked side by side */
	const struct key_order *ko = key_order(pl, sb);
	size_t pos = 0;
	for (size_t i = 0; i < n; i++) {
		const char *k = v->u.map.items[i].key;
		struct value *x = v->u.map.items[i].val, *y = NULL;
		const struct schema_attr *a = NULL;
		const struct schema_nested *nb = NULL;
		int c = 1;
		while (pos < ko->n && (c = strcmp(ko->names[pos], k)) < 0)
			pos++;
		if (!c && ko->at[pos] < ko->nattrs)
			a = &sb->attrs[ko->at[pos]];
		else if (!c)
			nb = &sb->blocks[ko->at[pos] - ko->nattrs];
		if (a)
			y = to_schema(pl, x, a->type, NULL, k);
		else if (nb && (x->kind == VAL_LIST || x->kind == VAL_SET))
			y = normalize_blocks(pl, x, nb);
		ys[i] = y ? y : val_ref(x);
		same += ys[i] == x;
	}
	pl->diag = saved;
	diag_release(&quiet);
	if (same == n) {
		/* already in the schema's types: the prior itself, not a copy of it */
		for (size_t i = 0; i < n; i++)
			val_unref(ys[i]);
		free(ys);
		return val_ref(v);
	}
	pairs = xmalloc(n * sizeof *pairs);
	for (size_t i = 0; i < n; i++)
		pairs[i] = (struct val_pair){ v->u.map.items[i].key, ys[i] };
	r = val_map_take_vals(pairs, n);
	free(pairs);
	free(ys);
	return r;
}

static int settable_equal(const struct schema_block *sb, const struct value *x, const struct value *y);

/* A nested block's planned value: what the configuration sets, defaults, and computed
 * attributes from the prior block it stands for (or unknown when it is new). */
static struct value *complete_block(struct planner *pl, const struct value *cfg, const struct value *prior,
				    const struct schema_block *sb)
{
	const struct key_order *ko = key_order(pl, sb);
	struct val_pair *pairs = xmalloc((ko->n ? ko->n : 1) * sizeof *pairs);
	struct value *r;
	size_t k = 0;

	for (const struct schema_attr *a = sb->attrs; a && a->name; a++, k++) {
		struct value *cv = slot_get(cfg, ko->slot[k], a->name);
		struct value *pv = prior ? slot_get(prior, ko->slot[k], a->name) : NULL;
		struct value *v;
		if (cv && cv->kind != VAL_NULL)
			v = pv && attr_equal(a, cv, pv) ? val_ref(pv) : val_ref(cv);
		else if (a->flags & SF_COMPUTED)
			v = pv ? val_ref(pv) : val_unknown(VAL_DYNAMIC);
		else if (a->default_value)
			v = schema_default(pl, a->default_value);
		else
			v = val_null();
		pairs[ko->slot[k]] = (struct val_pair){ (char *)a->name, v };
	}
	for (const struct schema_nested *nb = sb->blocks; nb && nb->name; nb++, k++) {
		struct value *cv = slot_get(cfg, ko->slot[k], nb->name);
		pairs[ko->slot[k]] = (struct val_pair){ (char *)nb->name, cv ? val_ref(cv) : val_empty_list() };
	}
	r = val_map_take_static(pairs, ko->n);
	free(pairs);
	return r;
}

/* Blocks of one type: each configured block is completed from the prior block it matches (by
 * position in a list, by its settable attributes in a set). */
static struct value *plan_blocks(struct planner *pl, const struct value *cfg, const struct value *prior,
				 const struct schema_nested *nb)
{
	size_t n = cfg ? cfg->u.list.n : 0;
	struct value **items;
	struct value *r;

	/* not known until apply (a dynamic block's for_each): nothing to complete yet */
	if (cfg && (cfg->marks & VAL_UNKNOWN))
		return val_ref((struct value *)cfg);
	items = xcalloc(n ? n : 1, sizeof *items);

	for (size_t i = 0; i < n; i++) {
		const struct value *c = cfg->u.list.items[i], *match = NULL;
		if (prior && (prior->kind == VAL_LIST || prior->kind == VAL_SET)) {
			if (!nb->is_set) {
				match = i < prior->u.list.n ? prior->u.list.items[i] : NULL;
			} else {
				for (size_t k = 0; k < prior->u.list.n && !match; k++) {
					struct value *done = complete_block(pl, c, NULL, nb->block);
					if (settable_equal(nb->block, done, prior->u.list.items[k]))
						match = prior->u.list.items[k];
					val_unref(done);
				}
			}
		}
		items[i] = complete_block(pl, c, match, nb->block);
	}
	r = nb->is_set ? val_set_take(items, n) : val_list_take(items, n);
	free(items);
	if (cfg && (cfg->marks & VAL_SENSITIVE)) {
		/* blocks from a sensitive for_each stay sensitive */
		struct value *m = val_mark(r, VAL_SENSITIVE);
		val_unref(r);
		r = m;
	}
	return r;
}

/* Do two blocks agree on everything the configuration decides? */
static int settable_equal(const struct schema_block *sb, const struct value *x, const struct value *y)
{
	if (!x || !y || x->kind != VAL_MAP || y->kind != VAL_MAP)
		return 0;
	for (const struct schema_attr *a = sb->attrs; a && a->name; a++) {
		if (!(a->flags & (SF_REQUIRED | SF_OPTIONAL)) || (a->flags & SF_WRITE_ONLY))
			continue;
		const struct value *p = val_map_get(x, a->name), *q = val_map_get(y, a->name);
		if ((a->flags & SF_COMPUTED) && (!p || p->kind == VAL_NULL || (p->marks & VAL_UNKNOWN)))
			continue;
		if (!attr_equal(a, p ? p : val_null(), q ? q : val_null()))
			return 0;
	}
	for (const struct schema_nested *nb = sb->blocks; nb && nb->name; nb++) {
		const struct value *p = val_map_get(x, nb->name), *q = val_map_get(y, nb->name);
		size_t np = p ? val_length(p) : 0, nq = q ? val_length(q) : 0;
		if (np != nq)
			return 0;
		for (size_t i = 0; i < np; i++)
			if (!settable_equal(nb->block, p->u.list.items[i], q->u.list.items[i]))
				return 0;
	}
	return 1;
}

/* The resources and data sources n depends on, through locals, variables and module outputs:
 * what -target must keep, and what a destroy must wait for. */
static void resource_deps(struct planner *pl, struct graph_node *n, struct buf *out)
{
	size_t count = graph_count(&pl->g);
	struct buf stack = BUF_INIT;
	unsigned stamp;

	if (pl->scratch.dep_cap < count || pl->scratch.dep_stamp == UINT_MAX) {
		free(pl->scratch.dep_mark);
		pl->scratch.dep_cap = count;
		pl->scratch.dep_mark = xcalloc(count + 1, sizeof *pl->scratch.dep_mark);
		pl->scratch.dep_stamp = 0;
	}
	stamp = ++pl->scratch.dep_stamp;

	buf_push(&stack, struct graph_node *, n);
	while (buf_count(&stack, struct graph_node *)) {
		struct graph_node *x = buf_at(&stack, struct graph_node *, buf_count(&stack, struct graph_node *) - 1);
		stack.len -= sizeof(struct graph_node *);
		for (size_t i = 0; i < buf_count(&x->edges, struct graph_edge); i++) {
			size_t to = buf_at(&x->edges, struct graph_edge, i).to;
			struct graph_node *d = graph_node(&pl->g, to);
			if (pl->scratch.dep_mark[to] == stamp)
				continue;
			pl->scratch.dep_mark[to] = stamp;
			if (d->kind == GN_RESOURCE || d->kind == GN_DATA)
				buf_push(out, char *, xstrdup(d->addr));
			else if (d->kind != GN_PROVIDER)
				buf_push(&stack, struct graph_node *, d);
		}
	}
	buf_release(&stack);
}

static void set_reason(struct plan_change *c, const char *why)
{
	free(c->reason);
	c->reason = xstrdup(why);
}

/* The resource's timeouts block (expressions allowed, as in Terraform) into c->timeouts. */
static void plan_timeouts(struct planner *pl, struct eval_ctx *ec, const struct ast_item *blk,
			  struct plan_change *c)
{
	static const char *const names[] = { "create", "update", "delete" };

	for (size_t i = 0; i < blk->body.n; i++) {
		const struct ast_item *it = blk->body.items[i];
		for (int k = 0; k < 3; k++) {
			if (it->kind != AST_ATTR || strcmp(it->name, names[k]))
				continue;
			struct value *v = eval_expr(ec, it->value);
			if (v && v->kind == VAL_STRING && val_is_known(v)) {
				int d = schema_duration(v->u.str.s);
				if (d > 0)
					c->timeouts[k] = d;
				else if (v->marks & VAL_SENSITIVE)
					diag_error(pl->diag, &it->value->span,
						   "this timeout (a sensitive value) is not a duration such as \"40m\"");
				else
					diag_error(pl->diag, &it->value->span, "'%s' is not a duration", v->u.str.s);
			} else if (v && v->kind != VAL_NULL && val_is_known(v)) {
				diag_error(pl->diag, &it->value->span, "a timeout is a string such as \"40m\"");
			}
			val_unref(v);
		}
	}
}

/* Whether one of the comma-separated names in list is among names (const char *). */
static int names_listed(const char *list, const struct buf *names)
{
	for (size_t i = 0; i < buf_count(names, const char *); i++) {
		const char *n = buf_at(names, const char *, i);
		size_t len = strlen(n);
		for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
			if (!strncmp(p, n, len) && (p[len] == ',' || !p[len]))
				return 1;
	}
	return 0;
}

/* Plans one instance; returns the value other nodes see for it. */
/* An argument's value the API would refuse (schema_attr.check), told now: at the argument,
 * with the rule, and the value itself unless it is sensitive. A value not known until apply
 * is judged when apply plans the instance again. */
static void check_value(struct planner *pl, struct graph_node *n, const char *addr,
			const struct schema_attr *a, const struct value *v)
{
	const struct ast_item *it = body_attr(&n->item->body, a->name);
	struct buf why = BUF_INIT;

	if (v->kind != VAL_STRING || (v->marks & VAL_UNKNOWN) || a->check(v->u.str.s, v->u.str.len, &why) == 0)
		goto out;
	if (v->marks & VAL_SENSITIVE)
		diag_error(pl->diag, it ? &it->value->span : NULL, "%s: %s (sensitive value) is refused: %s", addr,
			   a->name, why.data);
	else
		diag_error(pl->diag, it ? &it->value->span : NULL, "%s: %s \"%s\" is refused: %s", addr, a->name,
			   v->u.str.s, why.data);
out:
	buf_release(&why);
}

static void add_pairs(struct buf *pairs, const struct value *map)
{
	for (size_t k = 0; k < map->u.map.n; k++) {
		struct val_pair p = { xstrdup(map->u.map.items[k].key), val_ref(map->u.map.items[k].val) };
		buf_push(pairs, struct val_pair, p);
	}
}

/* The stack's tags are default tags (LANGUAGE.md: "stack name and default tags"). A managed
 * resource whose tags are a map of strings gets them under its own, which win on a clash, as
 * with the AWS provider's default_tags in Terraform. *out is the tags to plan with (a new
 * reference), or NULL when the configuration's stand as written (no stack tags, or its own
 * are unknown as a whole, and so is the merge). -1 on an error in the stack's tags. */
static int default_tags(struct planner *pl, struct eval_ctx *ec, const struct schema_attr *a,
			const struct value *own, struct value **out)
{
	const struct ast_item *t = pl->stack ? body_attr(&pl->stack->body, "tags") : NULL;
	struct value *raw, *defaults;
	struct buf pairs = BUF_INIT;
	unsigned marks;

	*out = NULL;
	if (!t || (own && (own->marks & VAL_UNKNOWN)))
		return 0;
	raw = stack_tags(pl, ec, &t->value->span);
	if (!raw)
		return -1;
	defaults = to_schema(pl, raw, a->type, &t->value->span, "tags");
	val_unref(raw);
	if (!defaults)
		return -1;
	if (defaults->marks & VAL_UNKNOWN) {
		*out = defaults;
		return 0;
	}
	if (defaults->kind != VAL_MAP || defaults->u.map.n == 0) {
		val_unref(defaults);
		return 0;
	}
	marks = defaults->marks;
	add_pairs(&pairs, defaults);
	if (own && own->kind == VAL_MAP) {
		add_pairs(&pairs, own);
		marks |= own->marks;
	}
	/* val_map_take keeps the later of two equal keys: the resource's own win */
	*out = val_map_take((struct val_pair *)(void *)pairs.data, buf_count(&pairs, struct val_pair));
	buf_release(&pairs);
	val_unref(defaults);
	if (marks & VAL_SENSITIVE) {
		struct value *m = val_mark(*out, VAL_SENSITIVE);
		val_unref(*out);
		*out = m;
	}
	return 0;
}

/* One step of an attribute path from a replace_triggered_by reference: an attribute name or
 * an index (count.index and each.key may be in it). NULL when v has no such part. */
static const struct value *step_into(struct eval_ctx *ec, const struct value *v, const struct ast_expr *step,
				     int *failed)
{
	const struct value *r = NULL;
	struct value *key;

	if (!v)
		return NULL;
	if (step->kind == AST_GETATTR)
		return v->kind == VAL_MAP ? val_map_get(v, step->u.getattr.name) : NULL;
	key = eval_expr(ec, step->u.index.key);
	if (!key) {
		*failed = 1;
		return NULL;
	}
	if (v->kind == VAL_MAP && key->kind == VAL_STRING)
		r = val_map_get(v, key->u.str.s);
	else if ((v->kind == VAL_LIST || v->kind == VAL_SET) && key->kind == VAL_NUMBER &&
		 key->u.n >= 0 && key->u.n < (double)v->u.list.n)
		r = v->u.list.items[(size_t)key->u.n];
	val_unref(key);
	return r;
}

/* Whether c, a change planned for an instance replace_triggered_by names, triggers: an update
 * or a replacement when the reference names the instance, a new value when it names an
 * attribute (steps[0..n), last first, are the path to it). */
static int triggers(struct eval_ctx *ec, const struct plan_change *c, const struct ast_expr *const *steps,
		    size_t n, int *failed)
{
	const struct value *before = c->before, *after = c->after;

	if (!n)
		return c->action == PLAN_UPDATE || c->action == PLAN_REPLACE;
	if (c->action == PLAN_NOOP || c->action == PLAN_READ)
		return 0;
	for (size_t i = n; i-- > 0 && !*failed; ) {
		before = step_into(ec, before, steps[i], failed);
		after = step_into(ec, after, steps[i], failed);
	}
	if (*failed)
		return 0;
	if (!before || !after)
		return before != after;
	return (after->marks & VAL_UNKNOWN) || !val_is_known(after) || !val_equal(before, after);
}

/* lifecycle { replace_triggered_by = [...] }, as in Terraform: an object that exists is
 * replaced when a resource named there is planned for an update or a replacement (any of its
 * instances, unless the reference picks one), or when an attribute named there changes. The
 * resources named are planned first (the graph has an edge for each reference), and their
 * nodes keep each instance's latest change. Sets c's reason and returns 1 when one triggers;
 * -1 after an error in an index. */
static int replace_triggered(struct planner *pl, struct eval_ctx *ec, struct graph_node *n,
			     const struct ast_item *lc, struct plan_change *c)
{
	const struct ast_item *rt = lc ? body_attr(&lc->body, "replace_triggered_by") : NULL;
	int failed = 0, hit = 0;

	if (!rt || rt->value->kind != AST_LIST)
		return 0;
	for (size_t i = 0; !hit && !failed && i < rt->value->u.list.n; i++) {
		const struct ast_expr *x = rt->value->u.list.items[i], *steps[32];
		struct eval_ref ref;
		struct graph_node *t;
		char *inst = NULL;
		size_t ns = 0;

		/* the check lets through only references to resources, without splats */
		if (eval_split_ref(x, &ref) < 0 || ref.kind != REF_RESOURCE ||
		    !(t = graph_find_in(&pl->g, n->mod, "", ref.key))) {
			eval_ref_release(&ref);
			continue;
		}
		for (const struct ast_expr *s = x; s != ref.expr && ns < 32;
		     s = s->kind == AST_GETATTR ? s->u.getattr.obj : s->u.index.obj)
			steps[ns++] = s;
		if (ns && steps[ns - 1]->kind == AST_INDEX) {
			struct value *key = eval_expr(ec, steps[--ns]->u.index.key);
			if (!key) {
				failed = 1;
				eval_ref_release(&ref);
				break;
			}
			inst = instance_addr(t->addr, key);
			val_unref(key);
		}
		for (size_t k = 0; !hit && !failed && k < t->planned.cap; k++) {
			const struct plan_change *tc = t->planned.slots[k].value;
			if (!tc || (inst && strcmp(tc->addr, inst)))
				continue;
			if (triggers(ec, tc, steps, ns, &failed)) {
				struct buf why = BUF_INIT;
				buf_printf(&why, "a change to %s", inst ? inst : t->addr);
				for (size_t s = ns; s-- > 0; ) {
					struct value *key;
					if (steps[s]->kind == AST_GETATTR) {
						buf_printf(&why, ".%s", steps[s]->u.getattr.name);
					} else if ((key = eval_expr(ec, steps[s]->u.index.key))) {
						if (key->kind == VAL_STRING)
							buf_printf(&why, "[\"%s\"]", key->u.str.s);
						else if (key->kind == VAL_NUMBER)
							buf_printf(&why, "[%g]", key->u.n);
						val_unref(key);
					}
				}
				buf_printf(&why, " triggers it");
				set_reason(c, buf_cstr(&why));
				buf_release(&why);
				hit = 1;
			}
		}
		free(inst);
		eval_ref_release(&ref);
	}
	return failed ? -1 : hit;
}

/* Reads data source instance c now, during plan (plan_opts.read_data), when it can be: its
 * arguments known (known), its provider's configuration known, and nothing it depends on
 * (through its arguments or depends_on) with a change still to make, whose result it might
 * see. 0 with c->after what was read, 1 when it waits for apply, -1 after a diagnostic. */
static int plan_read_data(struct planner *pl, struct graph_node *n, struct plan_change *c, int known)
{
	const struct graph_node *prov = NULL;
	struct plan_read rq;
	struct value *got = NULL;

	if (!known)
		return 1;
	for (size_t i = 0; i < buf_count(&c->deps, char *); i++) {
		const struct graph_node *d = graph_find(&pl->g, buf_at(&c->deps, char *, i));
		if (d && d->pending)
			return 1;
	}
	for (size_t k = 0; k < buf_count(&n->edges, struct graph_edge) && !prov; k++) {
		const struct graph_node *d = graph_node(&pl->g, buf_at(&n->edges, struct graph_edge, k).to);
		if (d->kind == GN_PROVIDER && !strcmp(d->name, n->provider))
			prov = d;
	}
	/* a provider configured from something still to be made reads nothing yet */
	if (prov && (!prov->value || !val_is_known(prov->value)))
		return 1;
	rq.addr = c->addr;
	rq.type = c->type;
	rq.provider = c->provider;
	rq.provider_key = prov ? prov->addr : NULL;
	rq.provider_config = prov ? prov->value : NULL;
	rq.planned = c->after;
	int rc = pl->opts->read_data(pl->opts->read_data_arg, &rq, &got, pl->diag);
	if (rc == 0) {
		val_unref(c->after);
		c->after = got;
	}
	return rc;
}

static struct value *plan_instance(struct planner *pl, struct graph_node *n, struct eval_ctx *ec,
				   const struct value *key)
{
	const struct schema_block *sb = &n->schema->block;
	const struct ast_item *lc = block_in(&n->item->body, "lifecycle");
	char *addr = instance_addr(n->addr, key);
	const struct plan_prior *prior = strmap_get(&pl->prior, addr);
	struct value *config = eval_body(pl, ec, &n->item->body, sb);
	struct value *prior_attrs = NULL;
	struct plan_change *c;
	struct buf changed_names = BUF_INIT;  /* settable attributes this update changes */
	const struct key_order *ko = key_order(pl, sb);
	struct val_pair *pairs;
	size_t k = 0;
	char *moved_from = NULL;
	const struct schema_attr *tags_attr = NULL;
	struct value *tags = NULL;   /* the tags with the stack's under them, or NULL */
	int replace = 0, changed = 0, fresh, read_now, known;

	if (!config) {
		free(addr);
		return NULL;
	}
	if (pl->opts->refresh_only && n->kind != GN_DATA) {
		/* what exists, not what the configuration would make of it */
		val_unref(config);
		free(addr);
		return prior ? val_ref(prior->attrs) : val_unknown(VAL_DYNAMIC);
	}
	if (n->kind == GN_RESOURCE && (tags_attr = schema_tags_attr(sb)) &&
	    default_tags(pl, ec, tags_attr, val_map_get(config, tags_attr->name), &tags) < 0) {
		val_unref(config);
		free(addr);
		return NULL;
	}
	/* gw[0] <-> gw when count is added or removed: the same object, under a new address */
	if (!prior && (!key || (key->kind == VAL_NUMBER && key->u.n == 0))) {
		char *other = key ? xstrdup(n->addr) : xasprintf("%s[0]", n->addr);
		const struct plan_prior *p = strmap_get(&pl->prior, other);
		if (p && !pl->prior_seen[p - pl->priors]) {
			prior = p;
			moved_from = other;
		} else {
			free(other);
		}
	}
	if (pl->opts->moves && n->kind != GN_DATA) {
		/* moved blocks moved the state's objects before the plan: say from where */
		if (moves_check_declared(pl->diag, pl->opts->moves, addr)) {
			val_unref(config);
			free(addr);
			free(moved_from);
			return NULL;
		}
		if (prior && !moved_from && moves_origin(pl->opts->moves, addr))
			moved_from = xstrdup(moves_origin(pl->opts->moves, addr));
	}
	if (prior)
		pl->prior_seen[prior - pl->priors] = 1;
	c = xcalloc(1, sizeof *c);
	c->addr = addr;
	c->moved_from = moved_from;
	c->resource = xstrdup(n->addr);
	c->type = xstrndup(n->name, (size_t)(strrchr(n->name, '.') - n->name));
	c->provider = xstrdup(n->provider);
	c->data = n->kind == GN_DATA;
	c->schema = n->schema;
	c->create_before_destroy = lifecycle_flag(lc, "create_before_destroy");
	if (block_in(&n->item->body, "timeouts"))
		plan_timeouts(pl, ec, block_in(&n->item->body, "timeouts"), c);
	resource_deps(pl, n, &c->deps);
	if (prior) {
		/* an import block's object: among the priors, read by plan_imports' caller */
		const char *id = pl->opts->imports && !moved_from && !pl->opts->destroy ?
				 strmap_get(pl->opts->imports, addr) : NULL;
		c->importing = id ? xstrdup(id) : NULL;
		c->before = val_ref(prior->attrs);
		prior_attrs = normalize(pl, prior->attrs, sb);
		if (prior->tainted) {
			replace = 1;
			set_reason(c, "it is tainted");
		}
		if (strmap_get(&pl->replace, addr) || (moved_from && strmap_get(&pl->replace, moved_from))) {
			replace = 1;
			set_reason(c, "-replace asked for it");
		}
		if (!replace && n->kind == GN_RESOURCE) {
			int t = replace_triggered(pl, ec, n, lc, c);
			if (t < 0) {
				plan_change_free(c);
				val_unref(prior_attrs);
				val_unref(config);
				val_unref(tags);
				return NULL;
			}
			replace = t;
		}
	}
	/* settable attributes: the configuration decides; ignored ones keep the prior value */
	pairs = xmalloc((ko->n ? ko->n : 1) * sizeof *pairs);
	for (const struct schema_attr *a = sb->attrs; a && a->name; a++, k++) {
		struct value *cv = slot_get(config, ko->slot[k], a->name);
		struct value *pv = prior_attrs ? slot_get(prior_attrs, ko->slot[k], a->name) : NULL;
		struct value *v;
		int settable = (a->flags & (SF_REQUIRED | SF_OPTIONAL)) != 0;

		if (a == tags_attr && tags)
			cv = tags;
		if (settable && cv && cv->kind != VAL_NULL && a->check)
			check_value(pl, n, addr, a, cv);
		if (settable && cv && cv->kind != VAL_NULL)
			v = val_ref(cv);
		else if (settable && a->default_value && !(a->flags & SF_COMPUTED))
			v = schema_default(pl, a->default_value);
		else if (a->flags & SF_COMPUTED)
			v = NULL;  /* decided below, once the action is known */
		else
			v = val_null();
		if (prior && pv && settable && v && is_ignored(lc, a->name)) {
			val_unref(v);
			v = val_ref(pv);
		}
		/* a write-only argument (a password) compares with what was last sent, which the
		 * state keeps: a new one in the configuration is an update, as in Terraform */
		if (prior && v && settable) {
			struct value *pvv = pv ? pv : val_null();
			if (!attr_equal(a, v, pvv)) {
				const struct value *when = a->force_new_if ? val_map_get(config, a->force_new_if) : NULL;
				changed = 1;
				buf_push(&changed_names, const char *, a->name);
				if ((a->flags & SF_FORCE_NEW) ||
				    (when && when->kind == VAL_BOOL && val_is_known(when) && when->u.b)) {
					replace = 1;
					buf_push(&c->replace_paths, char *, xstrdup(a->name));
				}
			} else if (pv && v != pv) {
				/* the same value in other words ("10.0.0.0/016"): keep the state's */
				val_unref(v);
				v = val_ref(pv);
			}
		}
		pairs[ko->slot[k]] = (struct val_pair){ (char *)a->name, v };
	}
	for (const struct schema_nested *nb = sb->blocks; nb && nb->name; nb++, k++) {
		struct value *cv = slot_get(config, ko->slot[k], nb->name);
		struct value *pv = prior_attrs ? slot_get(prior_attrs, ko->slot[k], nb->name) : NULL;
		struct value *v;
		int unknown = cv && (cv->marks & VAL_UNKNOWN);  /* a dynamic block's for_each */
		/* an optional+computed block left out keeps what the cloud has */
		if ((nb->flags & SF_COMPUTED) && !unknown && (!cv || val_length(cv) == 0))
			v = pv ? val_ref(pv) : val_unknown(nb->is_set ? VAL_SET : VAL_LIST);
		else if (prior && pv && is_ignored(lc, nb->name))
			v = val_ref(pv);
		else
			v = plan_blocks(pl, cv, pv, nb);
		if (prior && unknown && (v->marks & VAL_UNKNOWN)) {
			/* the blocks are only known during apply: they may change */
			changed = 1;
			if (nb->flags & SF_FORCE_NEW) {
				replace = 1;
				buf_push(&c->replace_paths, char *, xstrdup(nb->name));
			}
		} else if (prior && !(v->marks & VAL_UNKNOWN)) {
			size_t nv = val_length(v), np = pv ? val_length(pv) : 0;
			int same = nv == np;
			for (size_t i = 0; same && i < nv; i++)
				same = settable_equal(nb->block, v->u.list.items[i], pv->u.list.items[i]);
			if (!same) {
				changed = 1;
				if (nb->flags & SF_FORCE_NEW) {
					replace = 1;
					buf_push(&c->replace_paths, char *, xstrdup(nb->name));
				}
			} else if (pv) {
				/* the state's spelling, as secret as the configuration's */
				struct value *same_v = val_mark(pv, v->marks & VAL_SENSITIVE);
				val_unref(v);
				v = same_v;
			}
		}
		pairs[ko->slot[k]] = (struct val_pair){ (char *)nb->name, v };
	}
	/* computed attributes: kept from the prior object, unless a new object (or a new read)
	 * is coming; a refreshing plan reads every data source again */
	read_now = c->data && pl->opts->read_data && !pl->opts->destroy;
	fresh = !prior || replace || (c->data && (changed || read_now));
	k = 0;
	for (const struct schema_attr *a = sb->attrs; a && a->name; a++, k++) {
		struct val_pair *p = &pairs[ko->slot[k]];
		if (p->val)
			continue;
		struct value *pv = prior_attrs && !fresh ? slot_get(prior_attrs, ko->slot[k], p->key) : NULL;
		if (pv && a->recomputed_by && names_listed(a->recomputed_by, &changed_names))
			pv = NULL;  /* the update makes it anew: a pushed tag's digest */
		p->val = pv ? val_ref(pv) : val_unknown(VAL_DYNAMIC);
		if (a->flags & SF_SENSITIVE) {
			struct value *m = val_mark(p->val, VAL_SENSITIVE);
			val_unref(p->val);
			p->val = m;
		}
	}
	c->after = val_map_take_static(pairs, ko->n);
	free(pairs);
	buf_release(&changed_names);
	known = val_is_known(config);
	val_unref(config);
	val_unref(tags);
	val_unref(prior_attrs);
	if (read_now) {
		int rc = plan_read_data(pl, n, c, known);
		if (rc < 0) {
			plan_change_free(c);
			return NULL;
		}
		/* read now, it is no change: the plan shows what refers to it, not the read */
		c->action = rc == 0 ? PLAN_NOOP : PLAN_READ;
	} else if (c->data) {
		/* without refreshing, a data source keeps what the state holds, or is read during
		 * apply; a destroy reads nothing */
		c->action = prior && !changed ? PLAN_NOOP : pl->opts->destroy ? PLAN_NOOP : PLAN_READ;
		/* a destroy with nothing in the state keeps the planned (unknown) value: there is
		 * nothing else to show for it */
		if (c->action == PLAN_NOOP && prior) {
			val_unref(c->after);
			c->after = val_ref(prior->attrs);
		}
	} else if (!prior) {
		c->action = PLAN_CREATE;
	} else if (replace) {
		c->action = PLAN_REPLACE;
	} else {
		c->action = changed ? PLAN_UPDATE : PLAN_NOOP;
	}
	if (pl->opts->destroy && !c->data) {
		/* -destroy: everything in the state goes, nothing is created */
		c->action = prior ? PLAN_DELETE : PLAN_NOOP;
		val_unref(c->after);
		c->after = NULL;
		free(c->reason);
		c->reason = NULL;
		if (prior && lifecycle_flag(lc, "prevent_destroy"))
			diag_error(pl->diag, &n->item->name_span, "%s cannot be destroyed: its lifecycle has prevent_destroy",
				   c->addr);
	} else if (c->action == PLAN_REPLACE && lifecycle_flag(lc, "prevent_destroy")) {
		diag_error(pl->diag, &n->item->name_span, "%s would be replaced, but its lifecycle has prevent_destroy",
			   c->addr);
		diag_hint(pl->diag, "change the configuration back, or remove prevent_destroy on purpose");
	}
	struct value *seen = c->after ? val_ref(c->after) : val_ref(c->before);
	if (n->kind == GN_RESOURCE)
		strmap_set(&n->planned, c->addr, c);
	if (c->action != PLAN_NOOP)
		n->pending = 1;
	add_change(pl, c);
	return seen;
}

/* Element i of a for_each value that check_for_each took: each.key and each.value (new
 * references), a map's key and value, or a set's string as both. */
static void each_element(const struct value *spec, size_t i, struct value **key, struct value **val)
{
	if (spec->kind == VAL_MAP) {
		*key = val_cstring(spec->u.map.items[i].key);
		*val = val_ref(spec->u.map.items[i].val);
	} else {
		*key = val_ref(spec->u.list.items[i]);
		*val = val_ref(spec->u.list.items[i]);
	}
}

/* A resource or data source: its instances, and the value references to it see: one object,
 * a list of them (count) or a map of them (for_each). */
static struct value *plan_resource(struct planner *pl, struct graph_node *n)
{
	const struct ast_item *count = body_attr(&n->item->body, "count");
	const struct ast_item *fe = body_attr(&n->item->body, "for_each");
	struct eval_ctx ec;
	struct value *r = NULL;

	if (!n->schema)
		return NULL;
	n->pending = 0;   /* apply plans a node again once its changes are made */
	eval_init(pl, &ec, n);
	if (!count && !fe)
		return plan_instance(pl, n, &ec, NULL);
	struct value *spec = eval_expr(&ec, count ? count->value : fe->value);
	if (!spec)
		return NULL;
	if (spec->marks & VAL_UNKNOWN) {
		diag_error(pl->diag, &(count ? count : fe)->value->span,
			   "%s depends on values not known until apply, so the number of instances cannot be planned",
			   count ? "count" : "for_each");
		diag_hint(pl->diag, "use values known before apply, or apply with -target first");
		goto out;
	}
	if (spec->marks & VAL_SENSITIVE) {
		diag_error(pl->diag, &(count ? count : fe)->value->span,
			   "%s cannot use a sensitive value: instance addresses are shown in every plan",
			   count ? "count" : "for_each");
		goto out;
	}
	if (count) {
		size_t k;
		if (check_count(pl->diag, &count->value->span, spec, &k))
			goto out;
		struct value **items = xcalloc(k ? k : 1, sizeof *items);
		int ok = 1;
		for (size_t i = 0; i < k; i++) {
			ec.count_index = val_number((double)i);
			items[i] = plan_instance(pl, n, &ec, ec.count_index);
			val_unref(ec.count_index);
			ec.count_index = NULL;
			if (!items[i]) {
				ok = 0;
				items[i] = val_null();
			}
		}
		r = ok ? val_list_take(items, k) : NULL;
		if (!ok)
			for (size_t i = 0; i < k; i++)
				val_unref(items[i]);
		free(items);
		goto out;
	}
	/* for_each: a map, or a set of strings */
	if (check_for_each(pl->diag, &fe->value->span, spec))
		goto out;
	{
		size_t k = spec->kind == VAL_MAP ? spec->u.map.n : spec->u.list.n;
		struct val_pair *pairs = xcalloc(k ? k : 1, sizeof *pairs);
		int ok = 1;
		for (size_t i = 0; i < k; i++) {
			struct value *kv, *vv;
			each_element(spec, i, &kv, &vv);
			ec.each_key = kv;
			ec.each_value = vv;
			struct value *inst = plan_instance(pl, n, &ec, kv);
			pairs[i].key = xstrndup(kv->u.str.s, kv->u.str.len);
			pairs[i].val = inst ? inst : val_null();
			if (!inst)
				ok = 0;
			val_unref(kv);
			val_unref(vv);
			ec.each_key = ec.each_value = NULL;
		}
		r = val_map_take(pairs, k);
		free(pairs);
		if (!ok) {
			val_unref(r);
			r = NULL;
		}
	}
out:
	val_unref(spec);
	return r;
}

/* A root variable's value given to the plan (-var, -var-file, .stkvars, STK_VAR_NAME): 1 with
 * a new reference in *out, 0 when none is given, -1 after an error. Asked by plan_variable,
 * and by the graph (graph.given) for the count and for_each of module calls. */
static int given_variable(struct planner *pl, const struct ast_item *b, struct value **out)
{
	const char *vname = b->labels[0].text;
	const struct ast_item *type = body_attr(&b->body, "type");
	const struct ast_item *sens = body_attr(&b->body, "sensitive");
	const struct span *where = &b->labels[0].span;
	struct value *raw = pl->opts->variables ? val_map_get(pl->opts->variables, vname) : NULL;

	if (!raw)
		return 0;
	raw = val_ref(raw);
	/* -var name=text: text for a simple type, converted by it; an expression for a list,
	 * map or object type, as in Terraform */
	struct value *origin = pl->opts->raw_variables ? val_map_get(pl->opts->raw_variables, vname) : NULL;
	if (origin && origin->kind == VAL_NUMBER && origin->u.n != VARS_FILE && type &&
	    type->value->kind == AST_CALL && raw->kind == VAL_STRING) {
		char *text = xasprintf("v = %s\n", raw->u.str.s);
		char *name = xasprintf("<value of -var %s>", vname);
		int secret = sens && sens->value->kind == AST_BOOL && sens->value->u.boolean;
		/* the messages about a sensitive value's text would quote it: they are
		 * dropped, and one that does not is given instead */
		struct diag_ctx own, *d = pl->diag;
		if (secret) {
			diag_init(&own);
			d = &own;
		}
		struct source *src = diag_add_source(d, name, text, strlen(text));
		struct ast_file *f = parse_source(d, src, 0);
		struct eval_ctx lit;
		memset(&lit, 0, sizeof lit);
		lit.diag = d;
		val_unref(raw);
		raw = f->body.n == 1 && f->body.items[0]->kind == AST_ATTR && !d->errors ?
		      eval_expr(&lit, f->body.items[0]->value) : NULL;
		ast_file_free(f);
		free(name);
		if (secret && (own.errors || !raw)) {
			diag_error(pl->diag, where, "the value of -var %s is not a valid expression "
				   "(the messages about it are not shown: var.%s is sensitive)",
				   vname, vname);
			diag_hint(pl->diag, "a list or a map is written as in a .stk file: "
				  "-var '%s=[\"a\", \"b\"]'", vname);
			val_unref(raw);
			raw = NULL;
		}
		if (secret)
			diag_release(&own);
		if (!raw)
			return -1;
	}
	*out = raw;
	return 1;
}

static int graph_given(void *arg, const struct ast_item *decl, struct value **out)
{
	return given_variable(arg, decl, out);
}

/* A variable's default: a literal, evaluated with nothing in scope (the check saw to that). */
static struct value *variable_default(struct planner *pl, const struct ast_item *def)
{
	struct eval_ctx lit;

	memset(&lit, 0, sizeof lit);
	lit.diag = pl->diag;
	return eval_expr(&lit, def->value);
}

static struct value *plan_variable(struct planner *pl, struct graph_node *n)
{
	const struct ast_item *b = n->item;
	const struct ast_item *type = body_attr(&b->body, "type");
	const struct ast_item *def = body_attr(&b->body, "default");
	const struct ast_item *sens = body_attr(&b->body, "sensitive");
	const struct ast_item *nullable = body_attr(&b->body, "nullable");
	struct eval_ctx ec;
	struct value *raw = NULL, *v = NULL;
	const struct span *where = &b->labels[0].span;
	int is_root = n->mod->call == NULL, given;

	eval_init(pl, &ec, n);
	if (is_root && (given = given_variable(pl, b, &raw)) != 0) {
		if (given < 0)
			return NULL;
	} else if (!is_root && n->expr) {
		/* the call's arguments see the instance's count.index and each */
		ec.count_index = n->mod->count_index;
		ec.each_key = n->mod->each_key;
		ec.each_value = n->mod->each_value;
		raw = eval_expr(&ec, n->expr);
		if (!raw)
			return NULL;
		where = &n->expr->span;
	} else if (def) {
		if (!(raw = variable_default(pl, def)))
			return NULL;
	} else {
		if (is_root)
			buf_push(&pl->scratch.missing_vars, char *, xstrdup(n->name));
		else
			diag_error(pl->diag, &n->mod->call->name_span, "the module call needs the input %s", n->name);
		return NULL;
	}
	/* nullable = false: a null given means the default, as in Terraform; without one it is
	 * an error */
	if (raw->kind == VAL_NULL && !(raw->marks & VAL_UNKNOWN) && nullable &&
	    nullable->value->kind == AST_BOOL && !nullable->value->u.boolean) {
		val_unref(raw);
		if (!def) {
			diag_error(pl->diag, where, "var.%s must not be null: its nullable is false", n->name);
			diag_hint(pl->diag, "give it a value, or give the variable a default to use for null");
			return NULL;
		}
		if (!(raw = variable_default(pl, def)))
			return NULL;
	}
	/* sensitive before it is converted, so that a value of the wrong type is not shown */
	if (sens && sens->value->kind == AST_BOOL && sens->value->u.boolean) {
		struct value *m = val_mark(raw, VAL_SENSITIVE);
		val_unref(raw);
		raw = m;
	}
	if (type) {
		char *what = xasprintf("var.%s", n->name);
		v = eval_convert(&ec, raw, type->value, where, what);
		free(what);
		val_unref(raw);
		if (!v)
			return NULL;
	} else {
		v = raw;
	}
	if (sens && sens->value->kind == AST_BOOL && sens->value->u.boolean) {
		struct value *m = val_mark(v, VAL_SENSITIVE);
		val_unref(v);
		v = m;
	}
	/* validation blocks see the value as var.NAME */
	n->value = v;
	n->state = 2;
	for (size_t i = 0; i < b->body.n; i++) {
		const struct ast_item *vb = b->body.items[i];
		if (vb->kind != AST_BLOCK || strcmp(vb->name, "validation"))
			continue;
		const struct ast_item *cond = body_attr(&vb->body, "condition");
		const struct ast_item *msg = body_attr(&vb->body, "message");
		if (!msg)
			msg = body_attr(&vb->body, "error_message");
		if (!cond)
			continue;
		struct eval_ctx vc;
		eval_init(pl, &vc, n);
		/* the condition is written in the variable's own module */
		struct graph_module *saved = n->eval_mod;
		n->eval_mod = n->mod;
		vc.module_dir = NULL;
		struct value *ok = eval_expr(&vc, cond->value);
		struct value *text = msg ? eval_expr(&vc, msg->value) : NULL;
		n->eval_mod = saved;
		if (ok && ok->kind == VAL_BOOL && !(ok->marks & VAL_UNKNOWN) && !ok->u.b) {
			/* as Terraform: a message made from a sensitive value is not shown at all */
			diag_error(pl->diag, where, "invalid value for var.%s: %s", n->name,
				   text && text->kind == VAL_STRING && (text->marks & VAL_SENSITIVE) ?
				   "the validation condition is false (its message is not shown: it holds a sensitive value)" :
				   text && text->kind == VAL_STRING ? text->u.str.s : "the validation condition is false");
			diag_hint(pl->diag, "the rule is at %s:%u", cond->span.src->name, span_line(&cond->span));
			val_unref(ok);
			val_unref(text);
			n->value = NULL;
			n->state = 0;
			val_unref(v);
			return NULL;
		}
		if (ok && ok->kind != VAL_BOOL && !(ok->marks & VAL_UNKNOWN))
			diag_error(pl->diag, &cond->value->span, "a validation condition must be true or false");
		val_unref(ok);
		val_unref(text);
	}
	n->value = NULL;
	n->state = 0;
	return v;
}

static struct value *plan_output(struct planner *pl, struct graph_node *n)
{
	const struct ast_item *val = body_attr(&n->item->body, "value");
	const struct ast_item *sens = body_attr(&n->item->body, "sensitive");
	int declared = sens && sens->value->kind == AST_BOOL && sens->value->u.boolean;
	struct eval_ctx ec;
	struct value *v;

	if (!val)
		return NULL;
	eval_init(pl, &ec, n);
	v = eval_expr(&ec, val->value);
	if (!v)
		return NULL;
	if (val_is_sensitive(v) && !declared) {
		diag_error(pl->diag, &val->value->span, "output %s shows a sensitive value", n->name);
		diag_hint(pl->diag, "add sensitive = true to the output, if it is meant to leave the stack");
		val_unref(v);
		return NULL;
	}
	if (declared) {
		struct value *m = val_mark(v, VAL_SENSITIVE);
		val_unref(v);
		v = m;
	}
	/* root outputs are part of the plan */
	if (!*n->mod->path) {
		struct plan_output *o = xcalloc(1, sizeof *o);
		struct value *before = pl->opts->prior_outputs ? val_map_get(pl->opts->prior_outputs, n->name) : NULL;
		o->name = xstrdup(n->name);
		o->sensitive = declared;
		o->before = before ? val_ref(before) : NULL;
		o->after = pl->opts->destroy ? NULL : val_ref(v);
		int same = before && val_equal(before, v) && val_is_known(v) &&
			   (before->marks & VAL_SENSITIVE) == (v->marks & VAL_SENSITIVE);
		o->action = pl->opts->destroy ? (before ? PLAN_DELETE : PLAN_NOOP) :
			    !before ? PLAN_CREATE : same ? PLAN_NOOP : PLAN_UPDATE;
		buf_push(&pl->out->outputs, struct plan_output *, o);
	}
	return v;
}

struct value *planner_node(struct planner *pl, struct graph_node *n)
{
	struct eval_ctx ec;

	switch (n->kind) {
	case GN_VARIABLE:
		return plan_variable(pl, n);
	case GN_LOCAL:
		eval_init(pl, &ec, n);
		return eval_expr(&ec, n->expr);
	case GN_OUTPUT:
		return plan_output(pl, n);
	case GN_RESOURCE:
	case GN_DATA:
		return plan_resource(pl, n);
	case GN_PROVIDER: {
		const struct schema_provider *p = schema_provider_find(n->item->labels[0].text);
		if (!p)
			return NULL;
		eval_init(pl, &ec, n);
		return eval_body(pl, &ec, &n->item->body, &p->config);
	}
	}
	return NULL;
}

/* The resource of an instance's address: module.web[1].host.file.a[0] -> module.web[1].host.file.a
 * (a module instance's key is not the resource's). */
static char *resource_of(const char *addr)
{
	struct addr a;
	struct buf out = BUF_INIT;

	addr_init(&a);
	if (addr_parse(&a, addr, NULL)) {
		const char *br = strchr(addr, '[');
		return br ? xstrndup(addr, (size_t)(br - addr)) : xstrdup(addr);
	}
	val_unref(a.key);
	a.key = NULL;
	addr_format(&a, &out);
	addr_release(&a);
	return buf_detach(&out, NULL);
}

/* A destroy of what the state holds of pr and the configuration does not plan. */
static struct plan_change *destroy_change(const struct plan_prior *pr)
{
	struct plan_change *c = xcalloc(1, sizeof *c);
	const char *dot = strchr(pr->type, '.');

	c->addr = xstrdup(pr->addr);
	c->resource = resource_of(pr->addr);
	c->type = xstrdup(pr->type);
	/* the configuration that made it: an object made in another region through an alias is
	 * destroyed there */
	c->provider = pr->provider ? xstrdup(pr->provider) : xstrndup(pr->type, strcspn(pr->type, "."));
	/* and whose: a module's own block is not the root's of the same name ("": the root's) */
	c->provider_module = xstrdup(pr->provider_module ? pr->provider_module : "");
	c->data = pr->data;
	c->before = val_ref(pr->attrs);
	c->schema = dot ? schema_resource_find(schema_provider_find(c->provider), dot + 1, pr->data) : NULL;
	c->action = PLAN_DELETE;
	for (size_t k = 0; k < pr->ndeps; k++)
		buf_push(&c->deps, char *, xstrdup(pr->deps[k]));
	return c;
}

void plan_provider_gone(struct diag_ctx *diag, const char *addr, const char *deposed, const char *provider,
			const char *block_module, int reading)
{
	int tlen = (int)strcspn(provider, ".");
	struct buf block = BUF_INIT, what = BUF_INIT, fix = BUF_INIT;

	if (block_module && !*block_module)
		block_module = NULL;   /* the root's */
	/* the block as written: provider aws "west" */
	buf_printf(&block, "provider %.*s", tlen, provider);
	if (provider[tlen])
		buf_printf(&block, " \"%s\"", provider + tlen + 1);
	if (block_module) {
		buf_printf(&what, "%s's provider %s", block_module, provider);
		buf_printf(&fix, "add %s's %s block back (and the module call, if that is gone too)", block_module,
			   block.data);
	} else {
		buf_printf(&what, "provider %s", provider);
		buf_printf(&fix, "add the block back (%s { ... })", block.data);
	}
	diag_error(diag, NULL, "%s%s%s%s: %s, which made it, is no longer in the configuration, so stk cannot %s it",
		   addr, deposed ? " (deposed object " : "", deposed ? deposed : "", deposed ? ")" : "", what.data,
		   reading ? "read or destroy" : "destroy");
	if (reading)
		diag_hint(diag, "%s until stk has destroyed %s; or stop managing it with stk state rm %s", fix.data,
			  addr, addr);
	else
		diag_hint(diag, "%s, apply to destroy %s, then remove %s; or stop managing it with stk state rm %s",
			  fix.data, addr, block_module ? "them" : "the block", addr);
	buf_release(&block);
	buf_release(&what);
	buf_release(&fix);
}

/* Can c, an object the configuration does not plan, still reach the provider configuration
 * that made it? The root's default configuration always can (an empty block is implied); an
 * alias must still be declared, and a module's own block must still be in that module, as
 * Terraform requires: destroying it through another configuration would look in the wrong
 * region or account, find nothing, and forget an object that still exists. */
static int orphan_provider_declared(struct planner *pl, const struct plan_change *c)
{
	struct buf key = BUF_INIT;
	int found;

	if (!strchr(c->provider, '.') && !*c->provider_module)
		return 1;
	if (*c->provider_module)
		buf_printf(&key, "%s.", c->provider_module);
	buf_printf(&key, "provider.%s", c->provider);
	if (!(found = graph_find(&pl->g, key.data) != NULL))
		plan_provider_gone(pl->diag, c->addr, c->deposed, c->provider, c->provider_module, 0);
	buf_release(&key);
	return found;
}

/* Instances in the state that the configuration no longer has are destroyed; and the
 * deposed objects, which a create_before_destroy replacement has still to destroy. */
static void plan_orphans(struct planner *pl)
{
	for (size_t i = 0; i < pl->nprior; i++) {
		const struct plan_prior *pr = &pl->priors[i];
		if (pl->prior_seen[i])
			continue;
		struct plan_change *c = destroy_change(pr);
		if (pl->opts->moves && moves_origin(pl->opts->moves, pr->addr))
			c->moved_from = xstrdup(moves_origin(pl->opts->moves, pr->addr));
		/* a data source no longer configured is simply forgotten */
		if (pr->data)
			c->action = PLAN_NOOP;
		c->reason = xstrdup(pl->opts->destroy ? "" : "it is no longer in the configuration");
		if (!pr->data)
			orphan_provider_declared(pl, c);
		add_change(pl, c);
	}
	for (size_t i = 0; !pl->opts->refresh_only && i < pl->opts->ndeposed; i++) {
		struct plan_change *c = destroy_change(&pl->opts->deposed[i]);
		c->deposed = xstrdup(pl->opts->deposed[i].deposed);
		orphan_provider_declared(pl, c);
		add_change(pl, c);
	}
}

/* Outputs in the state that the configuration no longer has go too. */
static void plan_removed_outputs(struct planner *pl)
{
	const struct value *prior = pl->opts->prior_outputs;

	if (!prior || prior->kind != VAL_MAP)
		return;
	for (size_t i = 0; i < prior->u.map.n; i++) {
		const char *name = prior->u.map.items[i].key;
		int found = 0;
		for (size_t k = 0; k < buf_count(&pl->out->outputs, struct plan_output *) && !found; k++)
			found = !strcmp(buf_at(&pl->out->outputs, struct plan_output *, k)->name, name);
		if (found)
			continue;
		struct plan_output *o = xcalloc(1, sizeof *o);
		o->name = xstrdup(name);
		o->action = PLAN_DELETE;
		o->before = val_ref(prior->u.map.items[i].val);
		o->sensitive = (o->before->marks & VAL_SENSITIVE) != 0;
		buf_push(&pl->out->outputs, struct plan_output *, o);
	}
}

static int targeted(const char *addr, const char *target)
{
	size_t n = strlen(target);
	/* a resource target covers its instances; a module target, what is inside it */
	return !strcmp(addr, target) || (!strncmp(addr, target, n) && (addr[n] == '[' || addr[n] == '.'));
}

/* Does change c depend on change d (directly)? */
static int depends_on(const struct plan_change *c, const struct plan_change *d)
{
	for (size_t k = 0; k < buf_count(&c->deps, char *); k++)
		if (!strcmp(buf_at(&c->deps, char *, k), d->resource))
			return 1;
	return 0;
}

/* Collects the resources an output needs, through locals and variables. */
static int output_needs_only(struct planner *pl, struct graph_node *n, struct strmap *kept, char *seen)
{
	size_t idx = (size_t)((uintptr_t)strmap_get(&pl->g.by_addr, n->addr) - 1);

	if (seen[idx])
		return 1;
	seen[idx] = 1;
	if ((n->kind == GN_RESOURCE || n->kind == GN_DATA) && !strmap_get(kept, n->addr))
		return 0;
	for (size_t i = 0; i < buf_count(&n->edges, struct graph_edge); i++)
		if (!output_needs_only(pl, graph_node(&pl->g, buf_at(&n->edges, struct graph_edge, i).to), kept, seen))
			return 0;
	return 1;
}

/* -target: keep the targeted changes and what they need: their dependencies when creating and
 * updating, their dependents when destroying (what stands on a thing goes before it). */
static void apply_targets(struct planner *pl)
{
	struct plan *p = pl->out;
	size_t n = buf_count(&p->changes, struct plan_change *);
	char *keep = xcalloc(n ? n : 1, 1);
	int grew = 1;
	struct strmap kept;

	for (size_t t = 0; pl->opts->targets[t]; t++) {
		int any = 0;
		for (size_t i = 0; i < n; i++)
			if (targeted(buf_at(&p->changes, struct plan_change *, i)->addr, pl->opts->targets[t]))
				keep[i] = any = 1;
		if (!any) {
			diag_error(pl->diag, NULL, "-target %s matches nothing in the configuration or the state",
				   pl->opts->targets[t]);
			diag_hint(pl->diag, "addresses look like aws.vpc.main, aws.subnet.public[\"a\"] or module.web");
		}
	}
	while (grew) {
		grew = 0;
		for (size_t i = 0; i < n; i++) {
			struct plan_change *c = buf_at(&p->changes, struct plan_change *, i);
			if (!keep[i])
				continue;
			for (size_t j = 0; j < n; j++) {
				struct plan_change *d = buf_at(&p->changes, struct plan_change *, j);
				if (keep[j])
					continue;
				if (pl->opts->destroy ? depends_on(d, c) : depends_on(c, d))
					keep[j] = grew = 1;
			}
		}
	}
	strmap_init(&kept);
	size_t w = 0;
	p->add = p->change = p->destroy = p->read = p->import = 0;
	for (size_t i = 0; i < n; i++) {
		struct plan_change *c = buf_at(&p->changes, struct plan_change *, i);
		if (!keep[i]) {
			plan_change_free(c);
			continue;
		}
		buf_at(&p->changes, struct plan_change *, w++) = c;
		strmap_put(&kept, c->resource, (void *)1);
		if (c->importing)
			p->import++;
		switch (c->action) {
		case PLAN_CREATE: p->add++; break;
		case PLAN_UPDATE: p->change++; break;
		case PLAN_REPLACE: p->add++; p->destroy++; break;
		case PLAN_DELETE: p->destroy++; break;
		case PLAN_READ: p->read++; break;
		default: break;
		}
	}
	p->changes.len = w * sizeof(struct plan_change *);
	/* an output that needs something left out cannot be planned */
	w = 0;
	for (size_t i = 0; i < buf_count(&p->outputs, struct plan_output *); i++) {
		struct plan_output *o = buf_at(&p->outputs, struct plan_output *, i);
		char *addr = xasprintf("output.%s", o->name);
		struct graph_node *node = graph_find(&pl->g, addr);
		char *seen = xcalloc(graph_count(&pl->g) + 1, 1);
		int ok = node && output_needs_only(pl, node, &kept, seen);
		free(seen);
		free(addr);
		if (!ok) {
			free(o->name);
			val_unref(o->before);
			val_unref(o->after);
			free(o);
			continue;
		}
		buf_at(&p->outputs, struct plan_output *, w++) = o;
	}
	p->outputs.len = w * sizeof(struct plan_output *);
	strmap_release(&kept);
	free(keep);
}

/* Addresses in the order people count: worker[2] before worker[10]. */
int plan_cmp_addr(const char *a, const char *b)
{
	size_t ra = strcspn(a, "["), rb = strcspn(b, "[");
	int c = strncmp(a, b, ra < rb ? ra : rb);

	if (c || ra != rb)
		return c ? c : (ra < rb ? -1 : 1);
	a += ra;
	b += rb;
	if (!*a || !*b)
		return *a ? 1 : *b ? -1 : 0;
	int na = a[1] != '"', nb = b[1] != '"';
	if (na && nb) {
		double x = strtod(a + 1, NULL), y = strtod(b + 1, NULL);
		return x < y ? -1 : x > y;
	}
	if (na != nb)
		return na ? -1 : 1;
	return strcmp(a, b);
}

static int cmp_changes(const void *a, const void *b)
{
	const struct plan_change *x = *(struct plan_change *const *)a, *y = *(struct plan_change *const *)b;
	int c = plan_cmp_addr(x->addr, y->addr);

	/* an instance's current object first, then its deposed ones by key, as Terraform lists them */
	if (c || (!x->deposed && !y->deposed))
		return c;
	return !x->deposed ? -1 : !y->deposed ? 1 : strcmp(x->deposed, y->deposed);
}

static int cmp_outputs(const void *a, const void *b)
{
	const struct plan_output *x = *(struct plan_output *const *)a, *y = *(struct plan_output *const *)b;
	return strcmp(x->name, y->name);
}

/* A value for a variable the root module does not declare is most likely a typo: an error on
 * the command line, a warning in a file, and nothing from the environment (which may hold
 * values for other stacks), as in Terraform. */
static void check_undeclared(struct planner *pl)
{
	const struct value *vals = pl->opts->variables, *origins = pl->opts->raw_variables;

	if (!vals || vals->kind != VAL_MAP)
		return;
	for (size_t i = 0; i < vals->u.map.n; i++) {
		const char *name = vals->u.map.items[i].key;
		char *addr = xasprintf("var.%s", name);
		struct graph_node *n = graph_find(&pl->g, addr);
		free(addr);
		if (n)
			continue;
		const struct value *o = origins ? val_map_get(origins, name) : NULL;
		int origin = o && o->kind == VAL_NUMBER ? (int)o->u.n : VARS_FILE;
		if (origin == VARS_ENV)
			continue;
		/* did you mean: the declared variables */
		struct buf names = BUF_INIT;
		for (size_t k = 0; k < graph_count(&pl->g); k++) {
			struct graph_node *v = graph_node(&pl->g, k);
			if (v->kind == GN_VARIABLE && !*v->mod->path)
				buf_push(&names, const char *, v->name);
		}
		buf_push(&names, const char *, (const char *)NULL);
		const char *s = diag_suggest(name, (const char *const *)(void *)names.data);
		diag_add(pl->diag, origin == VARS_ARG ? DIAG_ERROR : DIAG_WARNING, NULL,
			 "a value was given for var.%s, but the configuration declares no such variable", name);
		if (s)
			diag_hint(pl->diag, "did you mean %s?", s);
		else
			diag_hint(pl->diag, "declare it with variable %s { ... }, or drop the value", name);
		buf_release(&names);
	}
}

/* A planner's scratch (walk.h): planner_setup makes one, each share of a round another. */
static void planner_scratch_init(struct planner_scratch *s)
{
	memset(s, 0, sizeof *s);
	strmap_init(&s->default_cache);
}

static void planner_scratch_release(struct planner_scratch *s)
{
	for (size_t i = 0; i < s->default_cache.cap; i++)
		if (s->default_cache.slots[i].key)
			val_unref(s->default_cache.slots[i].value);
	for (size_t i = 0; i < buf_count(&s->default_files, struct ast_file *); i++)
		ast_file_free(buf_at(&s->default_files, struct ast_file *, i));
	for (size_t i = 0; i < buf_count(&s->missing_vars, char *); i++)
		free(buf_at(&s->missing_vars, char *, i));
	buf_release(&s->default_files);
	buf_release(&s->missing_vars);
	for (size_t i = 0; i < buf_count(&s->key_orders, struct key_order *); i++) {
		struct key_order *ko = buf_at(&s->key_orders, struct key_order *, i);
		free(ko->slot);
		free(ko->at);
		free(ko->names);
		free(ko);
	}
	buf_release(&s->key_orders);
	free(s->dep_mark);
	strmap_release(&s->default_cache);
}

int planner_setup(struct planner *pl, struct diag_ctx *diag, const struct config_module *root,
		  const struct plan_prior *prior, size_t nprior, const struct plan_opts *opts, struct plan *out)
{
	memset(pl, 0, sizeof *pl);
	pl->diag = diag;
	pl->opts = opts;
	pl->out = out;
	pl->priors = prior;
	pl->nprior = nprior;
	strmap_init(&pl->prior);
	strmap_init(&pl->replace);
	planner_scratch_init(&pl->scratch);
	graph_init(&pl->g, diag);
	pl->g.given = graph_given;
	pl->g.given_arg = pl;
	planner_set_priors(pl, prior, nprior);
	for (size_t i = 0; opts->replaces && opts->replaces[i]; i++)
		strmap_put(&pl->replace, opts->replaces[i], (void *)1);
	if (graph_build(&pl->g, root))
		return -1;
	pl->stack = pl->g.stack;
	check_undeclared(pl);
	return 0;
}

void planner_set_priors(struct planner *pl, const struct plan_prior *prior, size_t nprior)
{
	/* the map borrows the priors' addresses: it may not outlive them */
	strmap_release(&pl->prior);
	strmap_init(&pl->prior);
	free(pl->prior_seen);
	pl->prior_seen = xcalloc(nprior + 1, 1);
	pl->priors = prior;
	pl->nprior = nprior;
	strmap_reserve(&pl->prior, nprior);
	for (size_t i = 0; i < nprior; i++)
		strmap_put(&pl->prior, prior[i].addr, (void *)&prior[i]);
}

int planner_deps_done(struct planner *pl, struct graph_node *n)
{
	for (size_t k = 0; k < buf_count(&n->edges, struct graph_edge); k++) {
		int st = graph_node(&pl->g, buf_at(&n->edges, struct graph_edge, k).to)->state;
		if (st != 2)
			return st == 3 ? -1 : 0;
	}
	return 1;
}

void planner_report_missing(struct planner *pl)
{
	struct buf names = BUF_INIT;
	size_t k = buf_count(&pl->scratch.missing_vars, char *);

	if (!k)
		return;
	for (size_t i = 0; i < k; i++) {
		if (i)
			buf_addstr(&names, i + 1 == k ? " and " : ", ");
		buf_addstr(&names, buf_at(&pl->scratch.missing_vars, char *, i));
		free(buf_at(&pl->scratch.missing_vars, char *, i));
	}
	pl->scratch.missing_vars.len = 0;
	diag_error(pl->diag, NULL, "no value for the required variable%s %s", k == 1 ? "" : "s", names.data);
	diag_hint(pl->diag, "give %s with -var NAME=VALUE, a -var-file, or STK_VAR_NAME in the environment",
		  k == 1 ? "it" : "them");
	buf_release(&names);
}

void planner_teardown(struct planner *pl)
{
	graph_release(&pl->g);
	planner_scratch_release(&pl->scratch);
	strmap_release(&pl->prior);
	free(pl->prior_seen);
	strmap_release(&pl->replace);
}

/* Evaluates n, its dependencies done before it. */
static void eval_in_order(struct planner *pl, struct graph_node *n)
{
	/* a node whose dependency failed is not evaluated: its errors would only echo */
	if (planner_deps_done(pl, n) != 1) {
		n->state = 3;
		return;
	}
	n->state = 1;
	n->value = planner_node(pl, n);
	n->state = n->value ? 2 : 3;
}

/*
 * A big graph is evaluated in rounds, and each round in shares side by side. A node's round
 * is one more than the latest of its dependencies' (0 for none), so the nodes of a round
 * depend only on earlier rounds, whose values are done and no longer change. Each share
 * evaluates its part of the round with its own copy of the planner: its own messages, plan
 * changes, caches and scratch; the graph, the priors and the options it only reads. Values
 * are what the shares have in common: a node's value, once made, is handed to every thread
 * (val_share), as shares of later rounds take and drop references to it. After each round
 * the shares' changes, outputs and messages are appended in the shares' order, so a graph
 * that big is evaluated in one order (round by round, and in the graph's order within each)
 * whatever the number of threads, and its plan and messages are the same.
 */
#define PLAN_SHARE_MIN 2048    /* nodes in the graph, per share, at least */
#define PLAN_ROUND_MIN 256     /* nodes in a round to be cut in shares */
#define PLAN_SHARES_MAX 16

struct plan_share {
	struct planner pl;         /* a copy: only its scratch is its own */
	struct diag_ctx diag;
	struct plan out;
	const size_t *nodes;       /* the round's graph indexes [from, to) */
	size_t from, to;
	const unsigned char *needed;
};

static void eval_shared(struct planner *pl, struct graph_node *n, int needed)
{
	eval_in_order(pl, n);
	/* a value other nodes read is shared before they run; one none reads stays the plan's */
	if (needed)
		val_share(n->value);
}

static void *plan_share_run(void *arg)
{
	struct plan_share *sh = arg;

	for (size_t i = sh->from; i < sh->to; i++)
		eval_shared(&sh->pl, graph_node(&sh->pl.g, sh->nodes[i]), sh->needed[sh->nodes[i]]);
	return NULL;
}

/* Moves what the share made in a round to the planner, after what is there. */
static void plan_share_collect(struct planner *pl, struct plan_share *sh)
{
	buf_add(&pl->out->changes, sh->out.changes.data, sh->out.changes.len);
	buf_add(&pl->out->outputs, sh->out.outputs.data, sh->out.outputs.len);
	pl->out->add += sh->out.add;
	pl->out->change += sh->out.change;
	pl->out->destroy += sh->out.destroy;
	pl->out->read += sh->out.read;
	buf_reset(&sh->out.changes);
	buf_reset(&sh->out.outputs);
	sh->out.add = sh->out.change = sh->out.destroy = sh->out.read = 0;
	buf_add(&pl->scratch.missing_vars, sh->pl.scratch.missing_vars.data, sh->pl.scratch.missing_vars.len);
	buf_reset(&sh->pl.scratch.missing_vars);
	diag_append(pl->diag, &sh->diag);
}

/* Every node, in rounds; false when the graph is too small to be worth it (eval_in_order
 * in the graph's order then does it). */
static int eval_in_rounds(struct planner *pl)
{
	size_t n = graph_count(&pl->g), ns, nrounds = 0;
	struct plan_share sh[PLAN_SHARES_MAX];
	size_t *round, *start, *nodes;
	unsigned char *needed;

	if (n < PLAN_SHARE_MIN)
		return 0;
	ns = pieces_count(n, 0, PLAN_SHARE_MIN, PLAN_SHARES_MAX);
	round = xcalloc(n, sizeof *round);
	needed = xcalloc(n, 1);
	for (size_t i = 0; i < n; i++) {
		size_t x = pl->g.order[i];
		const struct graph_node *g = graph_node(&pl->g, x);
		for (size_t k = 0; k < buf_count(&g->edges, struct graph_edge); k++) {
			size_t to = buf_at(&g->edges, struct graph_edge, k).to;
			needed[to] = 1;
			if (round[x] < round[to] + 1)
				round[x] = round[to] + 1;
		}
		if (nrounds < round[x] + 1)
			nrounds = round[x] + 1;
	}
	/* the graph's order, stably sorted by round (counting) */
	start = xcalloc(nrounds + 1, sizeof *start);
	nodes = xmalloc(n * sizeof *nodes);
	for (size_t i = 0; i < n; i++)
		start[round[i] + 1]++;
	for (size_t r = 0; r < nrounds; r++)
		start[r + 1] += start[r];
	for (size_t i = 0; i < n; i++) {
		size_t x = pl->g.order[i];
		nodes[start[round[x]]++] = x;
	}
	for (size_t r = nrounds; r > 0; r--)
		start[r] = start[r - 1];
	start[0] = 0;

	for (size_t k = 0; k < ns; k++) {
		struct plan_share *s = &sh[k];
		s->pl = *pl;
		diag_init(&s->diag);
		plan_init(&s->out);
		s->pl.diag = &s->diag;
		s->pl.out = &s->out;
		s->pl.cur = NULL;
		planner_scratch_init(&s->pl.scratch);
		s->diag.max_errors = pl->diag->max_errors;
		s->nodes = nodes;
		s->needed = needed;
	}
	for (size_t r = 0; r < nrounds; r++) {
		size_t from = start[r], cnt = start[r + 1] - from;
		size_t m = ns < 2 || cnt < PLAN_ROUND_MIN ? 1 : ns;
		if (m < 2) {
			/* small rounds (the variables and locals, say) on this thread; on one thread
			 * in all, no value is shared */
			for (size_t i = from; i < from + cnt; i++)
				eval_shared(pl, graph_node(&pl->g, nodes[i]), ns > 1 && needed[nodes[i]]);
			continue;
		}
		for (size_t k = 0; k < m; k++) {
			sh[k].from = from + cnt * k / m;
			sh[k].to = from + cnt * (k + 1) / m;
		}
		pieces_run(plan_share_run, sh, sizeof sh[0], m, 1);
		for (size_t k = 0; k < m; k++)
			plan_share_collect(pl, &sh[k]);
	}
	for (size_t k = 0; k < ns; k++) {
		/* the sources of messages (a template file, a schema default) stay with them */
		diag_take_sources(pl->diag, &sh[k].diag);
		diag_release(&sh[k].diag);
		plan_release(&sh[k].out);
		planner_scratch_release(&sh[k].pl.scratch);
	}
	free(round);
	free(needed);
	free(start);
	free(nodes);
	return 1;
}

/* Marks n and everything it depends on. */
static void mark_needed(struct planner *pl, size_t i, char *need)
{
	struct graph_node *n = graph_node(&pl->g, i);

	if (need[i])
		return;
	need[i] = 1;
	for (size_t k = 0; k < buf_count(&n->edges, struct graph_edge); k++)
		mark_needed(pl, buf_at(&n->edges, struct graph_edge, k).to, need);
}

int plan_providers(struct diag_ctx *diag, const struct config_module *root, const struct plan_prior *prior,
		   size_t nprior, const struct plan_opts *opts, struct strmap *configs)
{
	struct planner pl;
	struct plan scratch;
	char *need = NULL;
	int ret = -1;
	unsigned errors = diag->errors;

	plan_init(&scratch);
	if (planner_setup(&pl, diag, root, prior, nprior, opts, &scratch))
		goto out;
	need = xcalloc(graph_count(&pl.g) + 1, 1);
	for (size_t i = 0; i < graph_count(&pl.g); i++)
		if (graph_node(&pl.g, i)->kind == GN_PROVIDER)
			mark_needed(&pl, i, need);
	/* only what the provider blocks refer to: resources among them are planned into a
	 * scratch plan, their computed attributes unknown */
	for (size_t i = 0; i < graph_count(&pl.g); i++) {
		size_t idx = pl.g.order[i];
		struct graph_node *n = graph_node(&pl.g, idx);
		if (!need[idx])
			continue;
		eval_in_order(&pl, n);
		/* one not known until apply is kept too: it is an error only where it is used */
		if (n->kind == GN_PROVIDER && n->value)
			strmap_put(configs, xstrdup(n->addr), val_ref(n->value));
	}
	/* which resources the configuration still has: those are read through the block it
	 * gives them now, not the one the state recorded (a module's own block removed, its
	 * resources kept, as Terraform lets a module give up its provider blocks) */
	for (size_t i = 0; i < graph_count(&pl.g); i++) {
		struct graph_node *n = graph_node(&pl.g, i);
		if (n->kind == GN_RESOURCE) {
			char *key = xasprintf("resource:%s", n->addr);
			if (strmap_get(configs, key) || !n->provider)
				free(key);
			else
				strmap_put(configs, key, val_cstring(n->provider));
		}
	}
	ret = diag->errors > errors ? -1 : 0;
out:
	free(need);
	planner_teardown(&pl);
	plan_release(&scratch);
	return ret;
}

struct value *plan_node_value(struct diag_ctx *diag, const struct config_module *root,
			      const struct plan_prior *prior, size_t nprior, const struct plan_opts *opts,
			      const char *addr)
{
	struct planner pl;
	struct plan scratch;
	struct value *v = NULL;
	char *need = NULL;
	size_t idx;

	plan_init(&scratch);
	if (planner_setup(&pl, diag, root, prior, nprior, opts, &scratch))
		goto out;
	idx = (size_t)(uintptr_t)strmap_get(&pl.g.by_addr, addr);
	if (!idx) {
		diag_error(diag, NULL, "%s is not declared", addr);
		goto out;
	}
	need = xcalloc(graph_count(&pl.g) + 1, 1);
	mark_needed(&pl, idx - 1, need);
	for (size_t i = 0; i < graph_count(&pl.g); i++)
		if (need[pl.g.order[i]])
			eval_in_order(&pl, graph_node(&pl.g, pl.g.order[i]));
	planner_report_missing(&pl);
	struct graph_node *n = graph_node(&pl.g, idx - 1);
	if (n->state == 2 && n->value)
		v = val_ref(n->value);
out:
	free(need);
	planner_teardown(&pl);
	plan_release(&scratch);
	return v;
}

int plan_instance_declared(struct diag_ctx *diag, const struct span *where, const char *text,
			   const struct addr *a, const struct ast_item *block, const struct value *v)
{
	struct buf b = BUF_INIT, keys = BUF_INIT;
	int ret = -1;

	buf_printf(&b, "%s.%s", a->type, a->name);
	if (ast_body_find(&block->body, "count")) {
		size_t n = v->kind == VAL_LIST ? v->u.list.n : 0;
		double k = a->key && a->key->kind == VAL_NUMBER ? a->key->u.n : -1;
		if (n)
			buf_printf(&keys, "%s[0]", b.data);
		if (k >= 0 && k < (double)n)
			ret = 0;
		else if (!n)
			diag_error(diag, where, "%s is not declared: the count of %s is 0", text, b.data);
		else
			diag_error(diag, where, "%s is not declared: %s has count = %zu, so its instances are "
				   "%s[0] to %s[%zu]", text, b.data, n, b.data, b.data, n - 1);
		if (ret && (a->key || !n))
			diag_hint(diag, "import into one of the instances the count makes, or raise the count");
	} else if (ast_body_find(&block->body, "for_each")) {
		size_t n = v->kind == VAL_MAP ? v->u.map.n : 0;
		for (size_t i = 0; i < n && ret; i++) {
			if (a->key && a->key->kind == VAL_STRING && !strcmp(v->u.map.items[i].key, a->key->u.str.s))
				ret = 0;
			if (i < 5) {
				struct value *kv = val_cstring(v->u.map.items[i].key);
				buf_addstr(&keys, i ? ", " : "");
				buf_addstr(&keys, b.data);
				addr_format_key(kv, &keys);
				val_unref(kv);
			}
		}
		if (ret && !n)
			diag_error(diag, where, "%s is not declared: the for_each of %s is empty", text, b.data);
		else if (ret)
			diag_error(diag, where, "%s is not declared: the instances of %s (for_each) are %s%s", text,
				   b.data, keys.data, n > 5 ? ", ..." : "");
		if (ret && (a->key || !n))
			diag_hint(diag, "import into one of those keys, or add the key to the for_each");
	} else if (a->key) {
		diag_error(diag, where, "%s is not declared: %s has neither count nor for_each, so it has no "
			   "instance keys", text, b.data);
		diag_hint(diag, "import into %s", b.data);
	} else {
		ret = 0;
	}
	if (ret && !a->key && keys.len)
		diag_hint(diag, "import into one instance, such as %.*s", (int)strcspn(keys.data, ","), keys.data);
	buf_release(&b);
	buf_release(&keys);
	return ret;
}

/* What an import block's expressions refer to, marked to be evaluated first. */
struct import_needs {
	struct planner *pl;
	char *need;
};

static void import_need(void *arg, const struct eval_ref *ref)
{
	struct import_needs *in = arg;
	struct graph *g = &in->pl->g;
	const char *kind = ref->kind == REF_VAR ? "var." : ref->kind == REF_LOCAL ? "local." :
			   ref->kind == REF_DATA ? "data." : ref->kind == REF_RESOURCE ? "" : NULL;

	if (ref->kind == REF_MODULE) {
		/* module.web.url, or all of module.web: the module's nodes (outputs among them) */
		size_t len = strcspn(ref->key, ".");
		for (size_t i = 0; i < graph_count(g); i++) {
			const char *a = graph_node(g, i)->addr;
			if (!strncmp(a, "module.", 7) && !strncmp(a + 7, ref->key, len) && strchr(".[", a[7 + len]))
				mark_needed(in->pl, i, in->need);
		}
		return;
	}
	struct graph_node *n = kind ? graph_find_in(g, NULL, kind, ref->key) : NULL;
	if (n)
		mark_needed(in->pl, (size_t)(uintptr_t)strmap_get(&g->by_addr, n->addr) - 1, in->need);
}

/* An import block's expressions are evaluated in the root module, as a local there would
 * be, with each.key and each.value of its for_each (ec's, set by the caller). */
static void import_ctx(struct planner *pl, struct graph_node *here, struct eval_ctx *ec)
{
	memset(here, 0, sizeof *here);
	here->kind = GN_LOCAL;
	here->addr = (char *)"import";
	here->name = here->addr;
	here->mod = here->eval_mod = buf_at(&pl->g.modules, struct graph_module *, 0);
	eval_init(pl, ec, here);
}

/* The ID of an import block, as plan time knows it: a string, known, not secret. NULL after
 * an error at the block's id. */
static char *import_id(struct planner *pl, struct eval_ctx *ec, const struct ast_item *id)
{
	struct value *v = eval_expr(ec, id->value);
	char *ret = NULL;

	if (!v)
		return NULL;
	if (val_deep_marks(v) & VAL_UNKNOWN) {
		diag_error(pl->diag, &id->value->span, "the import ID is not known until apply");
		diag_hint(pl->diag, "the ID of an object to import must be known when planning: take it from "
			  "variables, locals and functions, not from a resource this apply makes");
	} else if (v->kind == VAL_NULL) {
		diag_error(pl->diag, &id->value->span, "the import ID is null");
		diag_hint(pl->diag, "give the ID of the object to import, such as id = \"vpc-0123456789abcdef0\"");
	} else if (v->kind != VAL_STRING) {
		diag_error(pl->diag, &id->value->span, "the import ID must be a string, not a %s",
			   val_kind_name(v->kind));
		diag_hint(pl->diag, "convert it with tostring(...)");
	} else if (val_deep_marks(v) & VAL_SENSITIVE) {
		/* the plan shows the ID, and the state records the object under it */
		diag_error(pl->diag, &id->value->span, "the import ID is sensitive, and a plan shows it");
		diag_hint(pl->diag, "if the ID itself is no secret, wrap it in nonsensitive(...)");
	} else {
		ret = xstrndup(v->u.str.s, v->u.str.len);
	}
	val_unref(v);
	return ret;
}

/* The address an import block's to names, into a (initialized): written out, or with an
 * instance key computed from each (to = aws.subnet.s[each.key]). -1 after an error. */
static int import_to(struct planner *pl, struct eval_ctx *ec, const struct ast_item *to, struct addr *a)
{
	const struct ast_expr *e = to->value, *ix;
	char *text = ast_traversal_text(e);
	struct value *key = NULL;
	struct buf kt = BUF_INIT;
	int ret = -1;

	if (text && !strstr(text, "[...]")) {
		ret = addr_parse(a, text, NULL);
		free(text);
		return ret;
	}
	free(text);
	text = NULL;
	/* stk validate let one key be computed, the resource's or a module call's */
	if (!(ix = ast_traversal_computed(e)) || !(key = eval_expr(ec, ix->u.index.key)))
		goto out;
	if (val_is_known(key) && !val_is_sensitive(key) && (key->kind == VAL_STRING ||
	    (key->kind == VAL_NUMBER && key->u.n >= 0 && key->u.n == floor(key->u.n)))) {
		/* written as an address spells it, and read back */
		addr_format_key(key, &kt);
		text = ast_traversal_text_as(e, ix, kt.data);
		ret = text ? addr_parse(a, text, NULL) : -1;
	} else {
		diag_error(pl->diag, &ix->u.index.key->span, "the instance key in to must be a known string "
			   "or a count index, not %s", !val_is_known(key) ? "a value known only after apply" :
			   val_is_sensitive(key) ? "a sensitive value" : val_kind_name(key->kind));
		diag_hint(pl->diag, "take the key from the import block's for_each: each.key");
	}
out:
	val_unref(key);
	buf_release(&kt);
	free(text);
	return ret;
}

/* The graph's address of the resource a is an instance of: "aws.vpc.main",
 * "module.web[0].aws.vpc.main". */
static char *import_resource(const struct addr *a)
{
	return xasprintf("%s%s%s.%s", a->module, *a->module ? "." : "", a->type, a->name);
}

/* The resource node of import address a (text: as written; where: its place, or NULL), in a
 * planner that evaluated it: the node, once the module instance, the resource and the
 * instance key are ones the configuration declares (stk validate checked what it can, but
 * only planning knows which instances a count or for_each makes); NULL after an error. */
static struct graph_node *import_node(struct planner *pl, const struct span *where, const struct addr *a,
				      const char *text)
{
	char *res = import_resource(a);
	struct graph_node *n = graph_find(&pl->g, res);
	size_t nm = buf_count(&pl->g.modules, struct graph_module *), found = 0;  /* instances of the call */
	int in_module = !*a->module;
	struct buf parent = BUF_INIT, paths = BUF_INIT;
	char *name = NULL;

	/* the last step's call: its name, and the path of the instance that makes it */
	for (const char *p = a->module, *rest; *p; p = rest) {
		struct value *key;
		free(name);
		if (addr_module_step(p, &name, &key, &rest))
			break;
		val_unref(key);
		if (*rest)
			buf_printf(&parent, "%s%.*s", parent.len ? "." : "", (int)(rest - p - 1), p);
	}
	for (size_t i = 1; i < nm; i++) {
		const struct graph_module *m = buf_at(&pl->g.modules, struct graph_module *, i);
		if (!strcmp(m->path, a->module))
			in_module = 1;
		else if (name && !strcmp(m->parent->path, parent.data ? parent.data : "") &&
			 !strcmp(m->call->labels[0].text, name) && found++ < 5)
			buf_printf(&paths, "%s%s", found > 1 ? ", " : "", m->path);
	}
	if (!n && !in_module) {
		diag_error(pl->diag, where, "%s is not declared: the configuration makes no module instance %s",
			   text, a->module);
		if (found)
			diag_hint(pl->diag, "import into a resource of an instance it makes: %s%s", paths.data,
				  found > 5 ? ", ..." : "");
		else
			diag_hint(pl->diag, "import into a resource of a module instance the configuration makes; "
				  "count or for_each may make none");
	} else if (!n || n->kind != GN_RESOURCE) {
		n = NULL;
		diag_error(pl->diag, where, "%s is not declared in the configuration", text);
		diag_hint(pl->diag, "write resource %s %s { ... }%s first, then import into it", a->type, a->name,
			  *a->module ? " in the module" : "");
	} else if ((n->count_expr || n->for_each_expr || a->key) &&
		   (n->state != 2 || !n->value || plan_instance_declared(pl->diag, where, text, a, n->item, n->value))) {
		n = NULL;
	}
	buf_release(&parent);
	buf_release(&paths);
	free(name);
	free(res);
	return n;
}

/* One import of block b (for each element of its for_each, ec holding each.*): its instance,
 * checked, onto out, unless the state holds it. seen: the addresses imported so far. */
static void import_one(struct planner *pl, struct eval_ctx *ec, const struct ast_item *b, struct buf *out,
		       struct strmap *seen)
{
	const struct ast_item *to = body_attr(&b->body, "to"), *id = body_attr(&b->body, "id");
	struct graph_node *n = NULL;
	struct buf canon = BUF_INIT;
	char *idv = NULL;
	struct addr a;

	addr_init(&a);
	if (import_to(pl, ec, to, &a))
		goto out;
	addr_format(&a, &canon);
	/* -generate-config-out: a root resource not declared yet (stk validate's check let only
	 * one instance of a known type through) is read through its type's default provider,
	 * and the plan writes its block */
	if (pl->opts->generate && !*a.module && !a.key && !graph_find(&pl->g, canon.data)) {
		/* nothing to import, and nothing to write a block from: without one the plan
		 * would destroy the very object the block names */
		if (strmap_get(&pl->prior, canon.data)) {
			diag_error(pl->diag, &to->value->span, "%s is in the state already, and the configuration "
				   "does not declare it", canon.data);
			diag_hint(pl->diag, "write resource %s %s { ... } for it (stk state show %s gives its "
				  "attributes), or stk state rm it to import it again", a.type, a.name, canon.data);
			goto out;
		}
		if (!(idv = import_id(pl, ec, id)))
			goto out;
		buf_push(out, struct plan_import, ((struct plan_import){ buf_detach(&canon, NULL), xstrdup(a.type),
			 xstrndup(a.type, strcspn(a.type, ".")), idv, b, 1 }));
		goto out;
	}
	if (!(n = import_node(pl, &to->value->span, &a, canon.data)))
		goto out;
	if (strmap_get(seen, canon.data)) {
		diag_error(pl->diag, &to->value->span, "%s is the target of two imports", canon.data);
		diag_hint(pl->diag, "give each import its own instance: the for_each keys must make different addresses");
		goto out;
	}
	strmap_put(seen, xstrdup(canon.data), (void *)1);
	/* the state has it already: the import is done, and the block has nothing to do */
	if (strmap_get(&pl->prior, canon.data) || !(idv = import_id(pl, ec, id)))
		goto out;
	buf_push(out, struct plan_import, ((struct plan_import){ buf_detach(&canon, NULL),
		 xstrndup(n->name, (size_t)(strrchr(n->name, '.') - n->name)), xstrdup(n->provider), idv, b, 0 }));
out:
	buf_release(&canon);
	addr_release(&a);
}

/* Every import of block b: one, or one per element of its for_each. */
static void import_block(struct planner *pl, const struct ast_item *b, struct buf *out, struct strmap *seen)
{
	const struct ast_item *fe = body_attr(&b->body, "for_each");
	struct graph_node here;
	struct eval_ctx ec;
	struct value *spec;

	import_ctx(pl, &here, &ec);
	if (!fe) {
		import_one(pl, &ec, b, out, seen);
		goto out;
	}
	if (!(spec = eval_expr(&ec, fe->value)))
		goto out;
	if (spec->marks & VAL_UNKNOWN) {
		diag_error(pl->diag, &fe->value->span, "for_each depends on values not known until apply, so "
			   "the imports cannot be planned");
		diag_hint(pl->diag, "use values known before apply: variables, locals and functions");
	} else if (spec->marks & VAL_SENSITIVE) {
		diag_error(pl->diag, &fe->value->span, "for_each cannot use a sensitive value: the addresses "
			   "and IDs it makes are shown in every plan");
	} else if (check_for_each(pl->diag, &fe->value->span, spec) == 0) {
		size_t k = spec->kind == VAL_MAP ? spec->u.map.n : spec->u.list.n;
		for (size_t i = 0; i < k; i++) {
			each_element(spec, i, &ec.each_key, &ec.each_value);
			import_one(pl, &ec, b, out, seen);
			val_unref(ec.each_key);
			val_unref(ec.each_value);
			ec.each_key = ec.each_value = NULL;
		}
	}
	val_unref(spec);
out:
	pl->cur = NULL;
}

/* The call names of module path ("module.web[0].module.db" -> "module.web.module.db"). */
static void module_names(const char *path, struct buf *out)
{
	char *name;
	struct value *key;

	buf_reset(out);
	buf_addstr(out, "");
	for (const char *rest; *path && !addr_module_step(path, &name, &key, &rest); path = rest) {
		buf_printf(out, "%smodule.%s", out->len ? "." : "", name);
		free(name);
		val_unref(key);
	}
}

/* Marks the resource of an import's to (a, without the key for_each computes, when computed)
 * to be evaluated when its count or for_each (or a key to check) says which instances it
 * makes; with a computed module key, in every instance of the module. */
static void import_need_resource(struct planner *pl, const struct addr *a, int computed, char *need)
{
	char *res = import_resource(a);
	struct graph_node *n = graph_find(&pl->g, res);
	struct buf want = BUF_INIT, have = BUF_INIT;

	if (!computed || !*a->module) {
		if (n && (n->count_expr || n->for_each_expr || computed || a->key))
			mark_needed(pl, (size_t)(uintptr_t)strmap_get(&pl->g.by_addr, res) - 1, need);
		goto out;
	}
	module_names(a->module, &want);
	free(res);
	res = xasprintf("%s.%s", a->type, a->name);
	for (size_t i = 0; i < graph_count(&pl->g); i++) {
		n = graph_node(&pl->g, i);
		if (n->kind != GN_RESOURCE || strcmp(n->name, res) || !(n->count_expr || n->for_each_expr || a->key))
			continue;
		module_names(n->mod->path, &have);
		if (!strcmp(have.data, want.data))
			mark_needed(pl, i, need);
	}
out:
	buf_release(&want);
	buf_release(&have);
	free(res);
}

int plan_imports(struct diag_ctx *diag, const struct config_module *root, const struct plan_prior *prior,
		 size_t nprior, const struct plan_opts *opts, struct buf *out)
{
	struct planner pl;
	struct plan scratch;
	struct buf blocks = BUF_INIT;  /* const struct ast_item *: the import blocks */
	struct import_needs in = { &pl, NULL };
	struct strmap seen;
	unsigned errors = diag->errors;
	int ret = -1;

	plan_init(&scratch);
	strmap_init(&seen);
	for (size_t f = 0; f < config_nfiles(root); f++) {
		const struct ast_body *b = &config_file(root, f)->body;
		for (size_t i = 0; i < b->n; i++)
			if (b->items[i]->kind == AST_BLOCK && !strcmp(b->items[i]->name, "import"))
				buf_push(&blocks, const struct ast_item *, b->items[i]);
	}
	if (!buf_count(&blocks, const struct ast_item *)) {
		memset(&pl, 0, sizeof pl);
		ret = 0;
		goto out;
	}
	if (planner_setup(&pl, diag, root, prior, nprior, opts, &scratch))
		goto out;
	in.need = xcalloc(graph_count(&pl.g) + 1, 1);
	/* what the IDs, for_each and computed keys refer to, and the resources whose count or
	 * for_each says which keys exist */
	for (size_t i = 0; i < buf_count(&blocks, const struct ast_item *); i++) {
		const struct ast_item *b = buf_at(&blocks, const struct ast_item *, i);
		const struct ast_item *to = body_attr(&b->body, "to"), *id = body_attr(&b->body, "id");
		const struct ast_item *fe = body_attr(&b->body, "for_each");
		const struct ast_expr *ix = ast_traversal_computed(to->value);
		char *text = ast_traversal_text_as(to->value, ix, "");
		struct addr a;
		addr_init(&a);
		if (text && addr_parse(&a, text, NULL) == 0)
			import_need_resource(&pl, &a, ix != NULL, in.need);
		addr_release(&a);
		free(text);
		eval_references(id->value, import_need, &in);
		if (ix)
			eval_references(ix->u.index.key, import_need, &in);
		if (fe)
			eval_references(fe->value, import_need, &in);
	}
	for (size_t i = 0; i < graph_count(&pl.g); i++)
		if (in.need[pl.g.order[i]])
			eval_in_order(&pl, graph_node(&pl.g, pl.g.order[i]));
	planner_report_missing(&pl);
	if (diag->errors > errors)
		goto out;
	for (size_t i = 0; i < buf_count(&blocks, const struct ast_item *); i++)
		import_block(&pl, buf_at(&blocks, const struct ast_item *, i), out, &seen);
	ret = diag->errors > errors ? -1 : 0;
out:
	free(in.need);
	if (buf_count(&blocks, const struct ast_item *))
		planner_teardown(&pl);
	plan_release(&scratch);
	buf_release(&blocks);
	for (size_t i = 0; i < seen.cap; i++)
		free((char *)seen.slots[i].key);
	strmap_release(&seen);
	return ret;
}

int plan_import_check(struct diag_ctx *diag, const struct config_module *root, const struct plan_prior *prior,
		      size_t nprior, const struct plan_opts *opts, const struct addr *a, const char *text,
		      char **provider)
{
	struct planner pl;
	struct plan scratch;
	char *need = NULL, *res = import_resource(a);
	unsigned errors = diag->errors;
	struct graph_node *n;
	size_t idx;
	int ret = -1;

	*provider = NULL;
	plan_init(&scratch);
	if (planner_setup(&pl, diag, root, prior, nprior, opts, &scratch))
		goto out;
	/* the resource, with what its count or for_each refers to: which keys exist */
	need = xcalloc(graph_count(&pl.g) + 1, 1);
	if ((idx = (size_t)(uintptr_t)strmap_get(&pl.g.by_addr, res)))
		mark_needed(&pl, idx - 1, need);
	for (size_t i = 0; i < graph_count(&pl.g); i++)
		if (need[pl.g.order[i]])
			eval_in_order(&pl, graph_node(&pl.g, pl.g.order[i]));
	planner_report_missing(&pl);
	if (diag->errors == errors && (n = import_node(&pl, NULL, a, text))) {
		*provider = xstrdup(n->provider);
		ret = 0;
	}
out:
	free(need);
	free(res);
	planner_teardown(&pl);
	plan_release(&scratch);
	return ret;
}

void plan_imports_release(struct buf *imports)
{
	for (size_t i = 0; i < buf_count(imports, struct plan_import); i++) {
		struct plan_import *im = &buf_at(imports, struct plan_import, i);
		free(im->addr);
		free(im->type);
		free(im->provider);
		free(im->id);
	}
	buf_release(imports);
}

struct value *plan_root_variable(struct diag_ctx *diag, const struct config_module *root,
				 const struct plan_opts *opts, const char *name)
{
	char *addr = xasprintf("var.%s", name);
	struct value *v = plan_node_value(diag, root, NULL, 0, opts, addr);

	free(addr);
	return v;
}

void plan_providers_release(struct strmap *configs)
{
	for (size_t i = 0; i < configs->cap; i++)
		if (configs->slots[i].key) {
			free((char *)configs->slots[i].key);
			val_unref(configs->slots[i].value);
		}
	strmap_release(configs);
}

/* The nearest declaration of provider up the module path from module: its value, and in
 * *len the length of the declaring module's path (0: the root's, or none). */
static const struct value *provider_up(const struct strmap *configs, const char *module, const char *provider,
				       size_t *len)
{
	struct buf key = BUF_INIT;
	const struct value *v = NULL;

	/* inherited from the calling modules, as the graph resolves it */
	for (*len = module ? strlen(module) : 0;;) {
		buf_reset(&key);
		if (*len)
			buf_printf(&key, "%.*s.", (int)*len, module);
		buf_printf(&key, "provider.%s", provider);
		if ((v = strmap_get(configs, key.data)) || !*len)
			break;
		*len = addr_module_parent(module, *len);
	}
	buf_release(&key);
	return v;
}

const char *plan_config_provider(const struct strmap *configs, const char *addr)
{
	char *key = xasprintf("resource:%s", addr);
	const struct value *v = configs ? strmap_get(configs, key) : NULL;

	free(key);
	return v && v->kind == VAL_STRING ? v->u.str.s : NULL;
}

const struct value *plan_provider_config(const struct strmap *configs, const char *module,
					 const char *block_module, const char *provider)
{
	struct buf key = BUF_INIT;
	const struct value *v;
	size_t len;

	if (!block_module)
		return provider_up(configs, module, provider, &len);
	if (*block_module)
		buf_printf(&key, "%s.", block_module);
	buf_printf(&key, "provider.%s", provider);
	v = strmap_get(configs, key.data);
	buf_release(&key);
	return v;
}

char *plan_provider_module(const struct strmap *configs, const char *module, const char *provider)
{
	size_t len;

	provider_up(configs, module, provider, &len);
	return len ? xstrndup(module, len) : NULL;
}

int plan_make(struct diag_ctx *diag, const struct config_module *root, const struct plan_prior *prior,
	      size_t nprior, const struct plan_opts *opts, struct plan *out)
{
	struct planner pl;
	int ret = -1;
	unsigned errors = diag->errors;

	if (planner_setup(&pl, diag, root, prior, nprior, opts, out))
		goto out;
	if (!eval_in_rounds(&pl))
		for (size_t i = 0; i < graph_count(&pl.g); i++)
			eval_in_order(&pl, graph_node(&pl.g, pl.g.order[i]));
	planner_report_missing(&pl);
	if (diag->errors == errors && !opts->destroy) {
		/* a node that failed took what depends on it out of the plan (and its objects in the
		 * state into it, as deletes): with no message for it, the plan would look complete.
		 * Say so, rather than plan without it. (A destroy has no value for what the state
		 * does not hold, and what depends on that fails quietly: nothing is lost.) */
		for (size_t i = 0; i < graph_count(&pl.g); i++) {
			const struct graph_node *n = graph_node(&pl.g, pl.g.order[i]);
			if (n->state != 3)
				continue;
			diag_error(diag, n->item ? &n->item->name_span : NULL,
				   "%s could not be planned, and no reason was given", n->addr);
			diag_hint(diag, "this is a bug in stk: please report it, with this configuration");
			break;
		}
	}
	plan_orphans(&pl);
	/* -replace names an instance that must exist: a typo must not pass silently */
	for (size_t i = 0; opts->replaces && opts->replaces[i]; i++) {
		int found = 0;
		for (size_t k = 0; k < buf_count(&out->changes, struct plan_change *) && !found; k++)
			found = !strcmp(buf_at(&out->changes, struct plan_change *, k)->addr, opts->replaces[i]);
		if (!found) {
			diag_error(diag, NULL, "-replace %s matches no instance in the configuration", opts->replaces[i]);
			diag_hint(diag, "name one instance, such as aws.instance.web or aws.subnet.public[\"a\"]");
		}
	}
	plan_removed_outputs(&pl);
	if (opts->targets && opts->targets[0])
		apply_targets(&pl);
	if (buf_count(&out->changes, struct plan_change *) > 1)
		qsort(out->changes.data, buf_count(&out->changes, struct plan_change *),
		      sizeof(struct plan_change *), cmp_changes);
	if (buf_count(&out->outputs, struct plan_output *) > 1)
		qsort(out->outputs.data, buf_count(&out->outputs, struct plan_output *),
		      sizeof(struct plan_output *), cmp_outputs);
	ret = diag->errors > errors ? -1 : 0;
out:
	if (!opts->leave_memory || ret)
		planner_teardown(&pl);
	return ret;
}

#include "planner/graph.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/pieces.h"
#include "planner/addr.h"
#include "planner/check.h"
#include "planner/eval.h"

void graph_init(struct graph *g, struct diag_ctx *diag)
{
	memset(g, 0, sizeof *g);
	g->diag = diag;
	strmap_init(&g->by_addr);
}

void graph_release(struct graph *g)
{
	for (size_t i = 0; i < graph_count(g); i++) {
		struct graph_node *n = graph_node(g, i);
		/* its address and name are in its block (add_node) */
		free(n->provider);
		buf_release(&n->edges);
		strmap_release(&n->planned);
		val_unref(n->value);
		free(n);
	}
	for (size_t i = 0; i < buf_count(&g->modules, struct graph_module *); i++) {
		struct graph_module *m = buf_at(&g->modules, struct graph_module *, i);
		free(m->path);
		val_unref(m->count_index);
		val_unref(m->each_key);
		val_unref(m->each_value);
		config_module_release(&m->owned);
		free(m);
	}
	buf_release(&g->nodes);
	buf_release(&g->modules);
	strmap_release(&g->by_addr);
	free(g->order);
	memset(g, 0, sizeof *g);
}

size_t graph_count(const struct graph *g)
{
	return buf_count(&g->nodes, struct graph_node *);
}

struct graph_node *graph_node(const struct graph *g, size_t i)
{
	return buf_at(&g->nodes, struct graph_node *, i);
}

static size_t find_index(const struct graph *g, const char *addr)
{
	uintptr_t v = (uintptr_t)strmap_get(&g->by_addr, addr);
	return v ? (size_t)(v - 1) : SIZE_MAX;
}

struct graph_node *graph_find(const struct graph *g, const char *addr)
{
	size_t i = find_index(g, addr);
	return i == SIZE_MAX ? NULL : graph_node(g, i);
}

/* A node's address is its module's path and ".", when not the root, then kind ("var.",
 * "local.", "data." or "" for a resource) and key: its length, and the address written to
 * out, which holds that length and a NUL. Built here alone, for the node and its lookups. */
static size_t addr_len(const struct graph_module *m, const char *kind, const char *key)
{
	return (m && *m->path ? strlen(m->path) + 1 : 0) + strlen(kind) + strlen(key);
}

static char *addr_write(char *out, const struct graph_module *m, const char *kind, const char *key)
{
	char *p = out;
	size_t n;

	if (m && *m->path) {
		n = strlen(m->path);
		memcpy(p, m->path, n);
		p[n] = '.';
		p += n + 1;
	}
	n = strlen(kind);
	memcpy(p, kind, n);
	p += n;
	n = strlen(key);
	memcpy(p, key, n + 1);
	return p + n + 1;
}

/* The index of the address m.path + "." + kind + key, or SIZE_MAX: built on the stack, as every
 * reference of every resource looks one up. */
static size_t find_in(const struct graph *g, const struct graph_module *m, const char *kind, const char *key)
{
	char small[256], *addr = small;
	size_t len = addr_len(m, kind, key), i;

	if (len + 1 > sizeof small)
		addr = xmalloc(len + 1);
	addr_write(addr, m, kind, key);
	i = find_index(g, addr);
	if (addr != small)
		free(addr);
	return i;
}

struct graph_node *graph_find_in(const struct graph *g, const struct graph_module *m, const char *kind,
				 const char *key)
{
	size_t i = find_in(g, m, kind, key);
	return i == SIZE_MAX ? NULL : graph_node(g, i);
}

/* A node, with its address (the module's path, prefix, local) and name in the same block:
 * one allocation per node, not three (100k resources are 100k nodes). Not in the graph yet
 * (add_node). */
static struct graph_node *new_node(enum graph_kind kind, struct graph_module *m, const char *prefix,
				   const char *local, const char *name, const struct ast_item *item)
{
	size_t alen = addr_len(m, prefix, local), nlen = strlen(name);
	struct graph_node *n = xcalloc(1, sizeof *n + alen + 1 + nlen + 1);

	n->kind = kind;
	n->addr = (char *)(n + 1);
	n->name = addr_write(n->addr, m, prefix, local);
	memcpy(n->name, name, nlen + 1);
	n->mod = m;
	n->eval_mod = m;
	n->item = item;
	return n;
}

/* Puts n in the graph, or frees it and returns NULL when its address is taken: validate has
 * already refused duplicates, and a second one here is ignored. */
static struct graph_node *add_node(struct graph *g, struct graph_node *n)
{
	if (strmap_put(&g->by_addr, n->addr, (void *)(uintptr_t)(graph_count(g) + 1))) {
		free(n->provider);
		free(n);
		return NULL;
	}
	buf_push(&g->nodes, struct graph_node *, n);
	return n;
}

static const struct ast_item *body_attr(const struct ast_body *b, const char *name)
{
	return ast_body_get(b, AST_ATTR, name);
}

/* Does module m declare provider name (aws, aws.eu) itself? */
static int declares_provider(const struct graph_module *m, const char *name)
{
	size_t tlen = strcspn(name, ".");

	for (size_t f = 0; f < config_nfiles(m->cfg); f++) {
		const struct ast_file *af = config_file(m->cfg, f);
		for (size_t i = 0; i < af->body.n; i++) {
			const struct ast_item *b = af->body.items[i];
			if (b->kind != AST_BLOCK || strcmp(b->name, "provider") || !b->nlabels ||
			    strlen(b->labels[0].text) != tlen || strncmp(b->labels[0].text, name, tlen))
				continue;
			if (name[tlen] ? b->nlabels == 2 && !strcmp(b->labels[1].text, name + tlen + 1) : b->nlabels == 1)
				return 1;
		}
	}
	return 0;
}

/* The provider configuration a resource of module m that uses its provider's default one
 * (prov, "aws") gets: through each call's providers = { aws = aws.eu }, as in Terraform, up
 * to the module that declares it. A call's map that does not list it passes it on as if there
 * were none. Takes prov; returns the name, in the terms of the module where the lookup
 * stopped. */
static char *provider_through_calls(const struct graph_module *m, char *prov)
{
	for (; m && m->parent && !declares_provider(m, prov); m = m->parent) {
		const struct ast_item *pm = m->call ? body_attr(&m->call->body, "providers") : NULL;
		if (!pm || pm->value->kind != AST_OBJECT)
			continue;
		for (size_t i = 0; i < pm->value->u.object.n; i++) {
			const struct ast_object_item *kv = &pm->value->u.object.items[i];
			const char *key = ast_static_string(kv->key);
			char *to = key && !strcmp(key, prov) ? ast_traversal_text(kv->value) : NULL;
			if (to) {
				free(prov);
				prov = to;
				break;
			}
		}
	}
	return prov;
}

/* A module instance: key is its count index or for_each key (borrowed), NULL for a call
 * without either, and its path says it: module.web[0], module.web["a"]. */
static struct graph_module *add_module(struct graph *g, struct graph_module *parent,
				       const struct ast_item *call, const char *name, const struct value *key)
{
	struct graph_module *m = xcalloc(1, sizeof *m);
	struct buf path = BUF_INIT;

	m->parent = parent;
	m->call = call;
	config_module_init(&m->owned);
	if (parent) {
		if (*parent->path)
			buf_printf(&path, "%s.", parent->path);
		buf_printf(&path, "module.%s", name);
		addr_format_key(key, &path);
	}
	m->path = path.len ? buf_detach(&path, NULL) : xstrdup("");
	buf_release(&path);
	buf_push(&g->modules, struct graph_module *, m);
	return m;
}

const struct ast_item *graph_module_call(const struct graph_module *m, const char *name)
{
	for (size_t f = 0; m->cfg && f < config_nfiles(m->cfg); f++) {
		const struct ast_body *body = &config_file(m->cfg, f)->body;
		for (size_t i = 0; i < body->n; i++) {
			const struct ast_item *b = body->items[i];
			if (b->kind == AST_BLOCK && !strcmp(b->name, "module") && b->nlabels == 1 &&
			    !strcmp(b->labels[0].text, name))
				return b;
		}
	}
	return NULL;
}

/* ---- count and for_each of module calls ---- */

/*
 * A module call's count or for_each decides which module instances there are, and so which
 * nodes the graph has: it is evaluated as the graph is built, before any node is. As in
 * Terraform it must be known at plan time, so what it may name is what needs no node:
 * variables (the root's from the plan's values or defaults, a child's from its call),
 * locals, literals and functions, read straight from the configuration. A resource, data
 * source or module output is refused.
 */
struct pre_eval {
	struct graph *g;
	const struct graph_module *m;   /* where the expression is written */
	const char *what;               /* "count" or "for_each" */
	int depth;                      /* locals and variables followed, against cycles */
};

#define PRE_EVAL_DEPTH 64

static struct value *pre_expr(struct pre_eval *pe, const struct graph_module *m, const struct graph_module *inst,
			      const struct ast_expr *e);

static const struct ast_item *find_decl(const struct graph_module *m, const char *block, const char *name)
{
	for (size_t f = 0; f < config_nfiles(m->cfg); f++) {
		const struct ast_body *body = &config_file(m->cfg, f)->body;
		for (size_t i = 0; i < body->n; i++) {
			const struct ast_item *b = body->items[i];
			if (b->kind != AST_BLOCK || strcmp(b->name, block))
				continue;
			if (!strcmp(block, "locals")) {
				const struct ast_item *a = body_attr(&b->body, name);
				if (a)
					return a;
			} else if (b->nlabels == 1 && !strcmp(b->labels[0].text, name)) {
				return b;
			}
		}
	}
	return NULL;
}

/* var.NAME of module m, as plan_variable works it out (its validation is left to the plan) */
static struct value *pre_variable(struct pre_eval *pe, const struct eval_ref *ref)
{
	const struct graph_module *m = pe->m;
	const struct ast_item *b = find_decl(m, "variable", ref->key);
	const struct ast_item *type, *def, *sens, *arg = NULL;
	struct value *raw = NULL, *v;
	struct eval_ctx lit;
	int given;

	if (!b) {
		diag_error(pe->g->diag, &ref->span, "'var.%s' is not declared", ref->key);
		return NULL;
	}
	type = body_attr(&b->body, "type");
	def = body_attr(&b->body, "default");
	sens = body_attr(&b->body, "sensitive");
	if (m->call)
		arg = body_attr(&m->call->body, ref->key);
	memset(&lit, 0, sizeof lit);
	lit.diag = pe->g->diag;
	if (!m->call && pe->g->given && (given = pe->g->given(pe->g->given_arg, b, &raw)) != 0) {
		if (given < 0)
			return NULL;
	} else if (arg) {
		raw = pre_expr(pe, m->parent, m, arg->value);
	} else if (def) {
		raw = eval_expr(&lit, def->value);
	} else {
		diag_error(pe->g->diag, &ref->span, "the %s of a module call needs var.%s, which has no value",
			   pe->what, ref->key);
		diag_hint(pe->g->diag, "give it a value (-var, a .stkvars file) or a default");
		return NULL;
	}
	if (!raw)
		return NULL;
	if (sens && sens->value->kind == AST_BOOL && sens->value->u.boolean) {
		v = val_mark(raw, VAL_SENSITIVE);
		val_unref(raw);
		raw = v;
	}
	if (!type)
		return raw;
	char *what = xasprintf("var.%s", ref->key);
	v = eval_convert(&lit, raw, type->value, &b->labels[0].span, what);
	free(what);
	val_unref(raw);
	return v;
}

static struct value *pre_resolve(struct eval_ctx *ec, const struct eval_ref *ref)
{
	struct pre_eval *pe = ec->planner;
	const struct ast_item *a;

	if (pe->depth > PRE_EVAL_DEPTH) {
		diag_error(pe->g->diag, &ref->span, "the %s of a module call refers to itself", pe->what);
		return NULL;
	}
	switch (ref->kind) {
	case REF_VAR:
		return pre_variable(pe, ref);
	case REF_LOCAL:
		a = find_decl(pe->m, "locals", ref->key);
		if (!a) {
			diag_error(pe->g->diag, &ref->span, "'local.%s' is not declared", ref->key);
			return NULL;
		}
		return pre_expr(pe, pe->m, NULL, a->value);
	case REF_PATH:
		if (!strcmp(ref->key, "module"))
			return val_cstring(pe->m->cfg->dir);
		if (!strcmp(ref->key, "root"))
			return val_cstring(buf_at(&pe->g->modules, struct graph_module *, 0)->cfg->dir);
		break;
	case REF_STACK:
		/* count = terraform.workspace == "prod" ? 2 : 1 on a module call */
		if (!strcmp(ref->key, "workspace"))
			return val_cstring(eval_workspace);
		break;
	case REF_RESOURCE:
	case REF_DATA:
	case REF_MODULE:
		/* Terraform's rule, and its advice */
		diag_error(pe->g->diag, &ref->span, "the %s value of a module call depends on %s, which cannot be "
			   "determined until apply", pe->what, ref->kind == REF_MODULE ? "module outputs" :
			   ref->kind == REF_DATA ? "a data source" : "resource attributes");
		diag_hint(pe->g->diag, "compute it from variables, locals and literals, or apply what it "
			  "depends on first with -target");
		return NULL;
	case REF_ITER:
		diag_error(pe->g->diag, &ref->span, "unknown name '%s'", ref->key);
		return NULL;
	default:
		break;
	}
	diag_error(pe->g->diag, &ref->span, "'%s' cannot be used in the %s of a module call", ref->key, pe->what);
	return NULL;
}

/* e, written in module m; inst, when e is an argument of the call of that module instance,
 * gives count.index and each */
static struct value *pre_expr(struct pre_eval *pe, const struct graph_module *m, const struct graph_module *inst,
			      const struct ast_expr *e)
{
	struct pre_eval inner = { pe->g, m, pe->what, pe->depth + 1 };
	struct eval_ctx ec;

	memset(&ec, 0, sizeof ec);
	ec.diag = pe->g->diag;
	ec.resolve = pre_resolve;
	ec.planner = &inner;
	if (inst) {
		ec.count_index = inst->count_index;
		ec.each_key = inst->each_key;
		ec.each_value = inst->each_value;
	}
	return eval_expr(&ec, e);
}

/* The instances of call b in module m, by its count (keys: numbers) or for_each (keys:
 * strings; vals: each.value) at a: pushed onto keys and vals (struct value *, new
 * references). 0, or -1 after a diagnostic. */
static int module_instances(struct graph *g, const struct graph_module *m, const struct ast_item *a,
			    struct buf *keys, struct buf *vals)
{
	struct pre_eval pe = { g, m, a->name, 0 };
	int count = !strcmp(a->name, "count"), ret = -1;
	struct value *spec = pre_expr(&pe, m, NULL, a->value);

	if (!spec)
		return -1;
	if (spec->marks & VAL_UNKNOWN) {
		diag_error(g->diag, &a->value->span, "the %s value of a module call depends on values that cannot "
			   "be determined until apply", a->name);
		diag_hint(g->diag, "compute it from variables, locals and literals, or apply what it depends on "
			  "first with -target");
		goto out;
	}
	if (spec->marks & VAL_SENSITIVE) {
		diag_error(g->diag, &a->value->span, "%s cannot use a sensitive value: instance addresses are "
			   "shown in every plan", a->name);
		goto out;
	}
	if (count) {
		size_t n;
		if (check_count(g->diag, &a->value->span, spec, &n))
			goto out;
		for (size_t i = 0; i < n; i++) {
			buf_push(keys, struct value *, val_number((double)i));
			buf_push(vals, struct value *, (struct value *)NULL);
		}
		ret = 0;
		goto out;
	}
	if (check_for_each(g->diag, &a->value->span, spec))
		goto out;
	if (spec->kind == VAL_MAP) {
		for (size_t i = 0; i < spec->u.map.n; i++) {
			buf_push(keys, struct value *, val_cstring(spec->u.map.items[i].key));
			buf_push(vals, struct value *, val_ref(spec->u.map.items[i].val));
		}
	} else {
		/* a set of strings: each.key and each.value are the string */
		for (size_t i = 0; i < spec->u.list.n; i++) {
			buf_push(keys, struct value *, val_ref(spec->u.list.items[i]));
			buf_push(vals, struct value *, val_ref(spec->u.list.items[i]));
		}
	}
	ret = 0;
out:
	val_unref(spec);
	return ret;
}

/* A node made by declare_item: into the graph, or with deferred, onto that list (struct
 * graph_node *) for the caller to add in order. */
static struct graph_node *made(struct graph *g, struct buf *deferred, struct graph_node *n)
{
	if (deferred) {
		buf_push(deferred, struct graph_node *, n);
		return n;
	}
	return add_node(g, n);
}

static int declare_module(struct graph *g, struct graph_module *m, int depth);

/* The module instances of call b (source s) in module m: one, or one per count index or
 * for_each key, each with its own copy of the module's files and its nodes. */
static int declare_call(struct graph *g, struct graph_module *m, const struct ast_item *b, const char *s,
			int depth)
{
	const struct ast_item *many = body_attr(&b->body, "count");
	struct buf keys = BUF_INIT, vals = BUF_INIT;   /* struct value * */
	char *path = config_module_path(m->cfg->dir, s);
	int ret = 0;

	if (!many)
		many = body_attr(&b->body, "for_each");
	if (!many)
		buf_push(&keys, struct value *, (struct value *)NULL);
	else if (module_instances(g, m, many, &keys, &vals))
		ret = -1;
	for (size_t i = 0; !ret && i < buf_count(&keys, struct value *); i++) {
		struct value *key = buf_at(&keys, struct value *, i);
		struct graph_module *child = add_module(g, m, b, b->labels[0].text, key);
		if (key && key->kind == VAL_NUMBER) {
			child->count_index = val_ref(key);
		} else if (key) {
			child->each_key = val_ref(key);
			child->each_value = val_ref(buf_at(&vals, struct value *, i));
		}
		if (config_load_dir(g->diag, path, &child->owned, 0)) {
			ret = -1;
			break;
		}
		child->cfg = &child->owned;
		if (declare_module(g, child, depth + 1))
			ret = -1;
	}
	for (size_t i = 0; i < buf_count(&keys, struct value *); i++) {
		val_unref(buf_at(&keys, struct value *, i));
		if (i < buf_count(&vals, struct value *))
			val_unref(buf_at(&vals, struct value *, i));
	}
	buf_release(&keys);
	buf_release(&vals);
	free(path);
	return ret;
}

/* Declares the nodes of one top-level block b of module m. With deferred (a share of the
 * root's blocks, below), the nodes go onto that list, and the blocks that touch the graph
 * itself (stack, module) are not done: 1 says so. 0 done, -1 after a diagnostic. */
static int declare_item(struct graph *g, struct graph_module *m, const struct ast_item *b, int depth,
			struct buf *deferred)
{
	struct graph_node *n;

	if (b->kind != AST_BLOCK)
		return 0;
	if (!strcmp(b->name, "stack") && !m->parent) {
		if (deferred)
			return 1;
		const struct ast_item *t = body_attr(&b->body, "tags");
		g->stack = b;
		if (t)
			g->stack_tags = t->value;
	} else if (!strcmp(b->name, "variable") && b->nlabels == 1) {
		n = made(g, deferred, new_node(GN_VARIABLE, m, "var.", b->labels[0].text, b->labels[0].text, b));
		if (n && m->call) {
			const struct ast_item *arg = body_attr(&m->call->body, b->labels[0].text);
			n->eval_mod = m->parent;
			n->expr = arg ? arg->value : NULL;
		}
	} else if (!strcmp(b->name, "locals")) {
		for (size_t k = 0; k < b->body.n; k++) {
			const struct ast_item *a = b->body.items[k];
			if (a->kind != AST_ATTR)
				continue;
			n = made(g, deferred, new_node(GN_LOCAL, m, "local.", a->name, a->name, a));
			if (n)
				n->expr = a->value;
		}
	} else if (!strcmp(b->name, "output") && b->nlabels == 1) {
		made(g, deferred, new_node(GN_OUTPUT, m, "output.", b->labels[0].text, b->labels[0].text, b));
	} else if ((!strcmp(b->name, "resource") || !strcmp(b->name, "data")) && b->nlabels == 2) {
		int data = b->name[0] == 'd';
		char *name = xasprintf("%s.%s", b->labels[0].text, b->labels[1].text);
		const char *type = b->labels[0].text;
		const char *dot = strchr(type, '.');
		size_t plen = dot ? (size_t)(dot - type) : strlen(type);
		const struct ast_item *pa = NULL, *count = NULL, *fe = NULL;
		char *prov = xstrndup(type, plen);

		n = new_node(data ? GN_DATA : GN_RESOURCE, m, data ? "data." : "", name, name, b);
		free(name);
		/* the three settings read here, in one pass over the body */
		for (size_t k = 0; k < b->body.n; k++) {
			const struct ast_item *a = b->body.items[k];
			if (a->kind != AST_ATTR)
				continue;
			if (!pa && !strcmp(a->name, "provider"))
				pa = a;
			else if (!count && !strcmp(a->name, "count"))
				count = a;
			else if (!fe && !strcmp(a->name, "for_each"))
				fe = a;
		}
		n->schema = dot ? schema_resource_find(schema_provider_find(prov), dot + 1, data) : NULL;
		/* provider = aws.eu; anything else (validate refuses it, but the state's passphrase
		 * is worked out before any check) leaves the type's own */
		n->provider = pa ? ast_traversal_text(pa->value) : NULL;
		if (n->provider)
			free(prov);
		else
			n->provider = provider_through_calls(m, prov);
		n->count_expr = count != NULL;
		n->for_each_expr = fe != NULL;
		made(g, deferred, n);
	} else if (!strcmp(b->name, "provider") && b->nlabels >= 1) {
		char *name = b->nlabels == 2 ? xasprintf("%s.%s", b->labels[0].text, b->labels[1].text) :
			     xstrdup(b->labels[0].text);
		made(g, deferred, new_node(GN_PROVIDER, m, "provider.", name, name, b));
		free(name);
	} else if (!strcmp(b->name, "module") && b->nlabels == 1) {
		if (deferred)
			return 1;
		const struct ast_item *src = body_attr(&b->body, "source");
		const char *s = src ? ast_static_string(src->value) : NULL;
		if (!s)
			return 0;
		if (depth >= 16) {
			diag_error(g->diag, &src->value->span, "modules nest more than 16 deep");
			return -1;
		}
		return declare_call(g, m, b, s, depth);
	}
	return 0;
}

/*
 * The root module of a big configuration is declared in shares side by side, as its edges
 * are found (below): each share makes the nodes of its part of the top-level blocks onto a
 * list of its own, and then, in the blocks' order, each list's nodes are added to the graph
 * (the first of two with an address is the one kept, as in one pass), and the blocks a share
 * left alone (stack, module: they change the graph itself) are declared where they stand.
 */
struct declare_share {
	struct graph *g;
	struct graph_module *m;
	const struct ast_item *const *items;
	size_t from, to;
	struct buf made;            /* struct declared: what each block of [from, to) made */
	struct buf nodes;           /* struct graph_node * */
};

struct declared {
	size_t item;                /* the block's index among the share's items */
	size_t first, n;            /* its nodes in the share's nodes; n = SIZE_MAX: left alone */
};

static void *declare_share_run(void *arg)
{
	struct declare_share *sh = arg;

	for (size_t i = sh->from; i < sh->to; i++) {
		struct declared d = { i, buf_count(&sh->nodes, struct graph_node *), 0 };
		if (declare_item(sh->g, sh->m, sh->items[i], 0, &sh->nodes) == 1)
			d.n = SIZE_MAX;
		else
			d.n = buf_count(&sh->nodes, struct graph_node *) - d.first;
		if (d.n)
			buf_push(&sh->made, struct declared, d);
	}
	return NULL;
}

#define DECLARE_SHARE_MIN 2048      /* top-level blocks per share, at least */
#define DECLARE_SHARES_MAX 16

/* Declares the nodes of one module instance; queues the modules it calls. */
static int declare_module(struct graph *g, struct graph_module *m, int depth)
{
	const struct config_module *cfg = m->cfg;
	size_t items = g->by_addr.len, ns = 1;
	struct buf all = BUF_INIT;      /* const struct ast_item *: every top-level block */
	struct declare_share sh[DECLARE_SHARES_MAX];
	int ret = 0;

	/* about a node per top-level block */
	for (size_t f = 0; f < config_nfiles(cfg); f++)
		items += config_file(cfg, f)->body.n;
	strmap_reserve(&g->by_addr, items);
	if (!m->parent)
		ns = pieces_count(items, 0, DECLARE_SHARE_MIN, DECLARE_SHARES_MAX);
	if (ns < 2) {
		for (size_t f = 0; f < config_nfiles(cfg); f++) {
			const struct ast_body *body = &config_file(cfg, f)->body;
			for (size_t i = 0; i < body->n; i++)
				if (declare_item(g, m, body->items[i], depth, NULL) < 0)
					ret = -1;
		}
		return ret;
	}
	for (size_t f = 0; f < config_nfiles(cfg); f++) {
		const struct ast_body *body = &config_file(cfg, f)->body;
		buf_add(&all, body->items, body->n * sizeof *body->items);
	}
	items = buf_count(&all, const struct ast_item *);
	for (size_t k = 0; k < ns; k++) {
		sh[k].g = g;
		sh[k].m = m;
		sh[k].items = (const struct ast_item *const *)(void *)all.data;
		sh[k].from = items * k / ns;
		sh[k].to = items * (k + 1) / ns;
		sh[k].made = (struct buf)BUF_INIT;
		sh[k].nodes = (struct buf)BUF_INIT;
	}
	pieces_run(declare_share_run, sh, sizeof sh[0], ns, 1);
	for (size_t k = 0; k < ns; k++) {
		for (size_t i = 0; i < buf_count(&sh[k].made, struct declared); i++) {
			struct declared d = buf_at(&sh[k].made, struct declared, i);
			if (d.n == SIZE_MAX) {
				if (declare_item(g, m, sh[k].items[d.item], depth, NULL) < 0)
					ret = -1;
				continue;
			}
			for (size_t j = d.first; j < d.first + d.n; j++)
				add_node(g, buf_at(&sh[k].nodes, struct graph_node *, j));
		}
		buf_release(&sh[k].made);
		buf_release(&sh[k].nodes);
	}
	buf_release(&all);
	return ret;
}

/* ---- edges ---- */

struct edge_ctx {
	struct graph *g;
	struct graph_node *from;
	struct graph_module *mod;   /* where the references are resolved */
	int in_stack_tags;          /* walking stack.tags already: inside it, once is enough */
};

static void add_edge(struct graph *g, struct graph_node *from, size_t to, const struct span *where)
{
	struct graph_edge e;

	/* a variable's validation names the variable itself: no edge to itself. Anything else
	 * that refers to itself (local.a = "${local.a}", or through stack.tags) is a cycle. */
	if (graph_node(g, to) == from && from->kind == GN_VARIABLE)
		return;
	for (size_t i = 0; i < buf_count(&from->edges, struct graph_edge); i++)
		if (buf_at(&from->edges, struct graph_edge, i).to == to)
			return;
	e.to = to;
	e.where = *where;
	buf_push(&from->edges, struct graph_edge, e);
}


static void edge_to(struct edge_ctx *ec, const char *kind, const char *key, const struct span *where)
{
	size_t i = find_in(ec->g, ec->mod, kind, key);

	if (i != SIZE_MAX)
		add_edge(ec->g, ec->from, i, where);
}

static void on_ref(void *arg, const struct eval_ref *ref)
{
	struct edge_ctx *ec = arg;
	const char *kind;

	switch (ref->kind) {
	case REF_VAR:
		kind = "var.";
		break;
	case REF_LOCAL:
		kind = "local.";
		break;
	case REF_RESOURCE:
		kind = "";
		break;
	case REF_DATA:
		kind = "data.";
		break;
	case REF_MODULE: {
		/* module.web.url needs that output; module.web alone, all of them */
		const char *dot = strchr(ref->key, '.');
		char *name = dot ? xstrndup(ref->key, (size_t)(dot - ref->key)) : xstrdup(ref->key);
		char *prefix = *ec->mod->path ? xasprintf("%s.module.%s.", ec->mod->path, name) :
			       xasprintf("module.%s.", name);
		if (dot) {
			char *addr = xasprintf("%soutput.%s", prefix, dot + 1);
			size_t i = find_index(ec->g, addr);
			if (i != SIZE_MAX)
				add_edge(ec->g, ec->from, i, &ref->span);
			free(addr);
		} else {
			/* every instance's outputs: module.web[0].url is module.web, then [0].url */
			for (size_t i = 0; i < graph_count(ec->g); i++) {
				struct graph_node *n = graph_node(ec->g, i);
				if (n->kind == GN_OUTPUT && n->mod->parent == ec->mod &&
				    !strcmp(n->mod->call->labels[0].text, name))
					add_edge(ec->g, ec->from, i, &ref->span);
			}
		}
		free(prefix);
		free(name);
		return;
	}
	case REF_STACK:
		/* stack.tags is an expression of the root module: what it names comes first */
		if (!strcmp(ref->key, "tags") && ec->g->stack_tags && !ec->in_stack_tags) {
			struct edge_ctx root = { ec->g, ec->from,
						 buf_at(&ec->g->modules, struct graph_module *, 0), 1 };
			eval_references(ec->g->stack_tags, on_ref, &root);
		}
		return;
	default:
		return;
	}
	edge_to(ec, kind, ref->key, &ref->span);
}

static void node_edges(struct graph *g, struct graph_node *n)
{
	struct edge_ctx ec = { g, n, n->eval_mod, 0 };

	switch (n->kind) {
	case GN_VARIABLE:
		if (n->expr)
			eval_references(n->expr, on_ref, &ec);
		/* validation conditions are written in the variable's own module */
		for (size_t i = 0; i < n->item->body.n; i++) {
			const struct ast_item *vb = n->item->body.items[i];
			struct edge_ctx own = { g, n, n->mod, 0 };
			if (vb->kind == AST_BLOCK && !strcmp(vb->name, "validation"))
				eval_body_references(&vb->body, on_ref, &own);
		}
		break;
	case GN_LOCAL:
		eval_references(n->expr, on_ref, &ec);
		break;
	case GN_OUTPUT:
	case GN_RESOURCE:
	case GN_DATA:
	case GN_PROVIDER:
		eval_body_references(&n->item->body, on_ref, &ec);
		break;
	}
	/* a resource needs its provider's configuration first, when one is declared */
	if (n->kind == GN_RESOURCE || n->kind == GN_DATA) {
		struct graph_module *m = n->mod;
		/* providers are inherited from the calling modules, as in Terraform */
		for (; m; m = m->parent) {
			size_t i = find_in(g, m, "provider.", n->provider);
			if (i != SIZE_MAX) {
				add_edge(g, n, i, &n->item->labels[0].span);
				break;
			}
		}
	}
	/* depends_on on a module call, or on any call above it: every resource and data source
	 * in the module waits for what it names, as in Terraform (read in the calling module) */
	if (n->kind == GN_RESOURCE || n->kind == GN_DATA) {
		for (struct graph_module *m = n->mod; m->parent; m = m->parent) {
			const struct ast_item *d = m->call ? body_attr(&m->call->body, "depends_on") : NULL;
			if (d) {
				struct edge_ctx caller = { g, n, m->parent, 0 };
				eval_references(d->value, on_ref, &caller);
			}
		}
	}
	/* the stack's tags are a taggable resource's default tags (plan.c): what they name first */
	if (n->kind == GN_RESOURCE && g->stack_tags && n->schema && schema_tags_attr(&n->schema->block)) {
		struct edge_ctx root = { g, n, buf_at(&g->modules, struct graph_module *, 0), 1 };
		eval_references(g->stack_tags, on_ref, &root);
	}
}

/* ---- cycles and order ---- */

/* The iterative walk's frame, one per node on the path. */
struct graph_frame {
	size_t node, next_edge;
};

struct walk {
	const struct graph_walk *gw;
	unsigned char *mark;   /* 0 new, 1 on the stack, 2 done */
	size_t *stack;         /* the path being explored */
	size_t depth;
	size_t *order;
	size_t norder;
	int cycles;
};

static void report_cycle(struct walk *w, size_t from_pos, size_t back_to)
{
	const struct graph_walk *gw = w->gw;
	struct buf path = BUF_INIT, name = BUF_INIT, next_name = BUF_INIT;

	for (size_t i = from_pos; i < w->depth; i++) {
		gw->name(gw->arg, w->stack[i], &path);
		buf_addstr(&path, " -> ");
	}
	gw->name(gw->arg, back_to, &path);
	diag_error(gw->diag, gw->at(gw->arg, w->stack[from_pos]), "dependency cycle: %s", path.data);
	diag_hint(gw->diag, "break the cycle: one of these must not refer to the next");
	/* then where each edge comes from */
	for (size_t i = from_pos; i < w->depth; i++) {
		size_t ne, next = i + 1 < w->depth ? w->stack[i + 1] : back_to;
		const struct graph_edge *edges = gw->edges(gw->arg, w->stack[i], &ne);
		for (size_t k = 0; k < ne; k++) {
			const struct graph_edge *e = &edges[k];
			if (e->to == next) {
				buf_reset(&name);
				buf_reset(&next_name);
				gw->name(gw->arg, w->stack[i], &name);
				gw->name(gw->arg, next, &next_name);
				diag_note(gw->diag, &e->where, "%s refers to %s here", buf_cstr(&name),
					  buf_cstr(&next_name));
				break;
			}
		}
	}
	buf_release(&path);
	buf_release(&name);
	buf_release(&next_name);
	w->cycles++;
}

/* Depth-first, iteratively deep enough for any configuration: recursion is bounded by the
 * number of nodes, and configurations of 100k resources are flat. */
static void visit(struct walk *w, size_t start, struct graph_frame *fs)
{
	const struct graph_walk *gw = w->gw;
	size_t top = 0;

	fs[top].node = start;
	fs[top].next_edge = 0;
	w->mark[start] = 1;
	w->stack[w->depth++] = start;
	while (1) {
		struct graph_frame *fr = &fs[top];
		size_t ne;
		const struct graph_edge *edges = gw->edges(gw->arg, fr->node, &ne);
		if (fr->next_edge < ne) {
			size_t to = edges[fr->next_edge++].to;
			if (w->mark[to] == 1) {
				size_t pos = 0;
				while (w->stack[pos] != to)
					pos++;
				report_cycle(w, pos, to);
				continue;
			}
			if (w->mark[to] == 2)
				continue;
			w->mark[to] = 1;
			w->stack[w->depth++] = to;
			top++;
			fs[top].node = to;
			fs[top].next_edge = 0;
			continue;
		}
		w->mark[fr->node] = 2;
		if (w->order)
			w->order[w->norder++] = fr->node;
		w->depth--;
		if (top == 0)
			break;
		top--;
	}
}

int graph_walk_order(const struct graph_walk *gw, size_t *order)
{
	struct walk w;
	struct graph_frame *fs = xmalloc((gw->n + 1) * sizeof *fs);

	memset(&w, 0, sizeof w);
	w.gw = gw;
	w.mark = xcalloc(gw->n + 1, 1);
	w.stack = xmalloc((gw->n + 1) * sizeof *w.stack);
	w.order = order;
	for (size_t i = 0; i < gw->n; i++)
		if (!w.mark[i])
			visit(&w, i, fs);
	free(fs);
	free(w.mark);
	free(w.stack);
	return w.cycles;
}

static const struct graph_edge *node_edges_of(void *arg, size_t i, size_t *count)
{
	const struct graph_node *node = graph_node(arg, i);

	*count = buf_count(&node->edges, struct graph_edge);
	return (const struct graph_edge *)(const void *)node->edges.data;
}

static void node_name(void *arg, size_t i, struct buf *out)
{
	buf_addstr(out, graph_node(arg, i)->addr);
}

static const struct span *node_at(void *arg, size_t i)
{
	const struct graph_node *n = graph_node(arg, i);

	if (!n->item)
		return NULL;
	return n->kind == GN_LOCAL || n->kind == GN_VARIABLE ? &n->item->span : &n->item->name_span;
}

/* Below this many nodes a thread costs more than it saves. */
#define GRAPH_SHARE_MIN 2048
#define GRAPH_SHARES_MAX 16

struct edges_share {
	struct graph *g;
	size_t from, to;
};

static void *edges_share_run(void *arg)
{
	struct edges_share *sh = arg;

	for (size_t i = sh->from; i < sh->to; i++)
		node_edges(sh->g, graph_node(sh->g, i));
	return NULL;
}

int graph_build(struct graph *g, const struct config_module *root)
{
	struct graph_module *m = add_module(g, NULL, NULL, NULL, NULL);
	struct edges_share sh[GRAPH_SHARES_MAX];
	struct graph_walk gw;
	size_t n, ns;
	int ret;

	m->cfg = root;
	ret = declare_module(g, m, 0);
	n = graph_count(g);
	/* Once every node is declared, a node's edges are found by reading the tree and the
	 * address map, and written to that node alone: a big graph's are found in shares side by
	 * side (as many as parse, STK_PARSE_THREADS), each node's in the order one pass takes. */
	ns = pieces_count(n, 0, GRAPH_SHARE_MIN, GRAPH_SHARES_MAX);
	for (size_t k = 0; k < ns; k++) {
		sh[k].g = g;
		sh[k].from = n * k / ns;
		sh[k].to = n * (k + 1) / ns;
	}
	pieces_run(edges_share_run, sh, sizeof sh[0], ns, 1);
	gw.n = n;
	gw.edges = node_edges_of;
	gw.name = node_name;
	gw.at = node_at;
	gw.arg = g;
	gw.diag = g->diag;
	g->order = xmalloc((n + 1) * sizeof *g->order);
	if (graph_walk_order(&gw, g->order))
		ret = -1;
	return ret;
}

static void dot_quote(struct buf *out, const char *s)
{
	buf_addch(out, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_addch(out, '\\');
		buf_addch(out, *s);
	}
	buf_addch(out, '"');
}

void graph_dot(const struct graph *g, struct buf *out)
{
	buf_addstr(out, "digraph stk {\n  rankdir = \"RL\";\n  node [shape = box];\n");
	for (size_t i = 0; i < graph_count(g); i++) {
		const struct graph_node *n = graph_node(g, g->order[i]);
		buf_addstr(out, "  ");
		dot_quote(out, n->addr);
		buf_addstr(out, " [label = ");
		dot_quote(out, n->addr);
		if (n->kind == GN_VARIABLE || n->kind == GN_LOCAL || n->kind == GN_OUTPUT)
			buf_addstr(out, ", shape = note");
		else if (n->kind == GN_PROVIDER)
			buf_addstr(out, ", shape = diamond");
		buf_addstr(out, "];\n");
	}
	for (size_t i = 0; i < graph_count(g); i++) {
		const struct graph_node *n = graph_node(g, g->order[i]);
		for (size_t k = 0; k < buf_count(&n->edges, struct graph_edge); k++) {
			buf_addstr(out, "  ");
			dot_quote(out, n->addr);
			buf_addstr(out, " -> ");
			dot_quote(out, graph_node(g, buf_at(&n->edges, struct graph_edge, k).to)->addr);
			buf_addstr(out, ";\n");
		}
	}
	buf_addstr(out, "}\n");
}

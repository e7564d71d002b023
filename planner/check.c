/* check.c: stk validate's checks. Everything here is decided from the syntax tree and the
 * provider schemas alone: nothing is evaluated and no API is called. */
#include "planner/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/pieces.h"
#include "common/strmap.h"
#include "planner/addr.h"
#include "planner/eval.h"
#include "planner/graph.h"
#include "planner/moved.h"
#include "providers/schema.h"
#include "stdlib/functions.h"

/* Module calls nest at most this deep (a module that calls itself stops here too). */
#define CHECK_MAX_MODULE_DEPTH 16

enum decl_kind { D_VARIABLE, D_LOCAL, D_RESOURCE, D_DATA, D_MODULE, D_OUTPUT, D_PROVIDER };

struct modinfo;

/* A block's meta-arguments: the first attribute of each name, or NULL. */
struct meta_attrs {
	const struct ast_item *count, *for_each, *provider, *depends_on;
};

struct decl {
	enum decl_kind kind;
	char *key;                      /* "aws.vpc.main", "region": unique within its kind */
	const struct ast_item *item;    /* the block (or the attribute, for locals) */
	const struct schema_resource *schema;
	struct meta_attrs meta;         /* resources and data: found once, at declaration;
					 * module calls: count and for_each */
	struct span where;              /* the name, where a second declaration is reported */
	int dup;                        /* a second declaration of key: the map holds the first */
	struct modinfo *mod;            /* D_MODULE: the called module, when it loaded */
	size_t index;                   /* in check_ctx.all */
};

/* What a module declares, for checking calls to it and references into it. */
struct modinfo {
	struct config_module cfg;
	struct strmap vars;     /* name -> const struct ast_item * (the variable block) */
	struct strmap outputs;  /* name -> const struct ast_item * */
	/* the module calls it makes (an import block's to may name a resource in any of them):
	 * name (owned) -> struct modinfo * (owned); and the count and for_each of the call that
	 * loaded this one, in the caller */
	struct strmap calls;
	const struct ast_item *count, *for_each;
	int loaded;
};

struct check_ctx {
	struct diag_ctx *diag;
	const struct config_module *mod;
	int depth;                      /* module nesting */
	struct strmap decls[D_PROVIDER + 1];
	struct buf all;                 /* struct decl *, to free */
	const struct ast_item *stack;
	struct buf steps;               /* check_reference's scratch: one allocation, not one per reference */
	int deferred;                   /* a share's (check_share): decl_add only makes declarations,
					 * which declare_all registers in order */
	const char *prefix;             /* what a declaration's address starts with: "" at the
					 * root, "module.web." in a module */
	int cycles;                     /* check_module_cycles: look for dependency cycles */
	const struct decl *self_reported; /* the declaration being checked, once check_resource_ref
					 * has said it refers to itself */
	/* then references between declarations (by index in all): edges[i] (struct
	 * graph_edge) is from edge_from[i] (size_t) */
	struct buf edges, edge_from;
	struct moves *moves;            /* check_module_moves: where the moved blocks go */
	int generating;                 /* stk plan -generate-config-out: an import may name a root
					 * resource not declared yet, whose block the plan writes */
	struct modinfo *into;           /* a called module's: what it declares, kept for the root */
};

/* Where an expression is: what each, count and self may mean there. */
struct scope {
	const struct decl *owner;       /* the resource, data source or module being checked */
	int count, for_each;
	const struct scope_var *vars;   /* for-expression variables in reach */
	const char *no_refs;            /* set: references are an error, and this says why */
	int stack_tags;                 /* the stack block's tags: stack.tags is a loop there */
};

struct scope_var {
	const char *name;
	const struct scope_var *next;
	int iterator;                   /* a dynamic block's: only NAME.key and NAME.value */
};

static const char *const block_kinds[] = {
	"stack", "provider", "variable", "locals", "resource", "data", "module", "output", NULL,
};

static const char *decl_what(enum decl_kind k)
{
	switch (k) {
	case D_VARIABLE: return "variable";
	case D_LOCAL: return "local value";
	case D_RESOURCE: return "resource";
	case D_DATA: return "data source";
	case D_MODULE: return "module";
	case D_OUTPUT: return "output";
	default: return "provider";
	}
}

static void check_expr(struct check_ctx *c, const struct ast_expr *e, const struct scope *sc);
static int check_all(struct check_ctx *c);

/* ---- declarations ---- */

/* "a.b" or "a.b.c" (c may be NULL) into buf when it fits in size, else into the heap: keys are
 * built for every declaration and reference, where printf's parsing would dominate. */
static char *join_key(char *buf, size_t size, const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = c ? strlen(c) : 0;
	size_t n = la + 1 + lb + (c ? 1 + lc : 0);
	char *p = n < size ? buf : xmalloc(n + 1);

	memcpy(p, a, la);
	p[la] = '.';
	memcpy(p + la + 1, b, lb);
	if (c) {
		p[la + 1 + lb] = '.';
		memcpy(p + la + 2 + lb, c, lc);
	}
	p[n] = '\0';
	return p;
}

/* Puts d in its kind's map; a second declaration of its key is reported and marked. */
static int decl_register(struct check_ctx *c, struct decl *d)
{
	struct decl *prev = strmap_put(&c->decls[d->kind], d->key, d);

	if (!prev)
		return 0;
	d->dup = 1;
	diag_error(c->diag, &d->where, "%s %s is declared twice", decl_what(d->kind), d->key);
	diag_hint(c->diag, "the first is at %s:%u:%u; names must be unique",
		  prev->item->span.src->name, span_line(&prev->item->span), span_col(&prev->item->span));
	return -1;
}

/* NULL for a second declaration of key, except in a share, where that is known only later. */
static struct decl *decl_add(struct check_ctx *c, enum decl_kind kind, char *key,
			     const struct ast_item *item, const struct span *where)
{
	struct decl *d = xcalloc(1, sizeof *d);

	d->kind = kind;
	d->key = key;
	d->item = item;
	d->where = *where;
	buf_push(&c->all, struct decl *, d);
	if (c->deferred)
		return d;
	return decl_register(c, d) ? NULL : d;
}

static struct decl *decl_find(const struct check_ctx *c, enum decl_kind kind, const char *key)
{
	return strmap_get(&c->decls[kind], key);
}

/* ---- small helpers ---- */

static const struct ast_item *body_attr(const struct ast_body *b, const char *name)
{
	return ast_body_get(b, AST_ATTR, name);
}

/* The first count, for_each, provider and depends_on attributes of a body, as body_attr finds
 * them, in one pass: a resource's body is read once, not once per name. */
static void find_meta_attrs(const struct ast_body *b, struct meta_attrs *m)
{
	memset(m, 0, sizeof *m);
	for (size_t i = 0; i < b->n; i++) {
		const struct ast_item *it = b->items[i];
		const struct ast_item **slot;

		if (it->kind != AST_ATTR)
			continue;
		if (ast_same_name(it->name, "count"))
			slot = &m->count;
		else if (ast_same_name(it->name, "for_each"))
			slot = &m->for_each;
		else if (ast_same_name(it->name, "provider"))
			slot = &m->provider;
		else if (ast_same_name(it->name, "depends_on"))
			slot = &m->depends_on;
		else
			continue;
		if (!*slot)
			*slot = it;
	}
}

static void check_dynamic(struct check_ctx *c, const struct ast_item *dyn, const struct schema_block *sb,
			  const char *what, const struct scope *sc);

static void unexpected_block(struct check_ctx *c, const struct ast_item *it, const char *where)
{
	diag_error(c->diag, &it->name_span, "%s takes no '%s' block", where, it->name);
}

/* Candidates for a hint: the settable attributes and nested blocks of a schema block. */
static void schema_names(const struct schema_block *b, struct buf *names, int settable_only)
{
	for (const struct schema_attr *a = b->attrs; a && a->name; a++)
		if (!settable_only || (a->flags & (SF_REQUIRED | SF_OPTIONAL)))
			buf_push(names, const char *, a->name);
	for (const struct schema_nested *n = b->blocks; n && n->name; n++)
		buf_push(names, const char *, n->name);
	buf_push(names, const char *, (const char *)NULL);
}

static const char *suggest_in(const char *name, struct buf *names)
{
	return diag_suggest(name, (const char *const *)(void *)names->data);
}

/* Adds "did you mean X?" for name among a schema block's names; built only on an error. */
static void hint_schema_name(struct check_ctx *c, const char *name, const struct schema_block *b,
			     int settable_only)
{
	struct buf names = BUF_INIT;
	const char *s;

	schema_names(b, &names, settable_only);
	s = suggest_in(name, &names);
	if (s)
		diag_hint(c->diag, "did you mean %s?", s);
	buf_release(&names);
}

/* The earlier attribute of the same name in items[0..i), if any: bodies are short, so a scan
 * beats a hash table. */
static const struct ast_item *earlier_attr(const struct ast_body *body, size_t i)
{
	const char *name = body->items[i]->name;

	for (size_t k = 0; k < i; k++)
		if (body->items[k]->kind == AST_ATTR && ast_same_name(body->items[k]->name, name))
			return body->items[k];
	return NULL;
}

/* Flattens a traversal into its steps: root, then .name / [key] / [*] steps. */
struct step {
	const struct ast_expr *node;   /* AST_VAR, AST_GETATTR, AST_INDEX or AST_SPLAT */
};

static int traversal_steps(const struct ast_expr *e, struct buf *steps)
{
	switch (e->kind) {
	case AST_VAR:
		buf_push(steps, struct step, ((struct step){ e }));
		return 0;
	case AST_GETATTR:
		if (traversal_steps(e->u.getattr.obj, steps))
			return -1;
		buf_push(steps, struct step, ((struct step){ e }));
		return 0;
	case AST_INDEX:
		if (traversal_steps(e->u.index.obj, steps))
			return -1;
		buf_push(steps, struct step, ((struct step){ e }));
		return 0;
	case AST_SPLAT:
		if (traversal_steps(e->u.splat.src, steps))
			return -1;
		buf_push(steps, struct step, ((struct step){ e }));
		return 0;
	default:
		return -1;
	}
}

static const char *step_attr(const struct buf *steps, size_t i)
{
	if (i >= buf_count(steps, struct step))
		return NULL;
	const struct ast_expr *n = buf_at(steps, struct step, i).node;
	return n->kind == AST_GETATTR ? n->u.getattr.name : NULL;
}

/* By value: the checks run on several threads at once (check_decls). */
static struct span step_span(const struct buf *steps, size_t i)
{
	const struct ast_expr *n = buf_at(steps, struct step, i).node;

	return n->kind == AST_GETATTR ? ast_name_span(n) : n->span;
}

/* ---- types of literal values against the schema ---- */

static const char *literal_kind(const struct ast_expr *e)
{
	switch (e->kind) {
	case AST_BOOL: return "bool";
	case AST_NUMBER: return "number";
	case AST_TEMPLATE:
		/* "${expr}" alone is expr's value, of whatever type: not a literal */
		if (e->u.tmpl.n == 1 && e->u.tmpl.parts[0]->kind != AST_STRING)
			return NULL;
		return "string";
	case AST_STRING: return "string";
	case AST_LIST: return "list";
	case AST_OBJECT: return "map";
	default: return NULL;
	}
}

static void check_literal_type(struct check_ctx *c, const struct ast_expr *e,
			       const struct schema_type *t, const char *what);

static void check_object_literal(struct check_ctx *c, const struct ast_expr *e,
				 const struct schema_type *t, const char *what)
{
	struct buf names = BUF_INIT;

	for (const struct schema_attr *a = t->attrs; a && a->name; a++)
		buf_push(&names, const char *, a->name);
	buf_push(&names, const char *, (const char *)NULL);
	for (size_t i = 0; i < e->u.object.n; i++) {
		const struct ast_object_item *oi = &e->u.object.items[i];
		const char *k = ast_static_string(oi->key);
		const struct schema_attr *a;
		if (!k)
			continue;
		a = NULL;
		for (const struct schema_attr *x = t->attrs; x && x->name; x++)
			if (strcmp(x->name, k) == 0)
				a = x;
		if (!a) {
			const char *s = suggest_in(k, &names);
			diag_error(c->diag, &oi->key->span, "%s has no attribute '%s'", what, k);
			if (s)
				diag_hint(c->diag, "did you mean %s?", s);
			continue;
		}
		check_literal_type(c, oi->value, a->type, k);
	}
	for (const struct schema_attr *a = t->attrs; a && a->name; a++) {
		int found = 0;
		if (!(a->flags & SF_REQUIRED))
			continue;
		for (size_t i = 0; i < e->u.object.n && !found; i++) {
			const char *k = ast_static_string(e->u.object.items[i].key);
			found = k && strcmp(k, a->name) == 0;
		}
		if (!found)
			diag_error(c->diag, &e->span, "%s needs '%s'", what, a->name);
	}
	buf_release(&names);
}

/* Only literals are judged: anything computed is checked when it is evaluated. */
static void check_literal_type(struct check_ctx *c, const struct ast_expr *e,
			       const struct schema_type *t, const char *what)
{
	const char *lk = literal_kind(e);
	char tn[128];

	if (!lk || !t || t->kind == SK_ANY)
		return;
	switch (t->kind) {
	case SK_STRING:
		/* numbers and bools convert to strings, as in Terraform */
		if (e->kind == AST_LIST || e->kind == AST_OBJECT)
			goto mismatch;
		return;
	case SK_NUMBER:
		if (e->kind == AST_NUMBER)
			return;
		if (e->kind == AST_STRING) {
			/* plan's own conversion: what it takes, validate takes */
			const char *s = ast_static_string(e);
			double d;
			if (val_parse_number(s, strlen(s), &d) == 0)
				return;
		}
		goto mismatch;
	case SK_BOOL:
		if (e->kind == AST_BOOL)
			return;
		if (e->kind == AST_STRING) {
			const char *s = ast_static_string(e);
			int b;
			if (val_parse_bool(s, strlen(s), &b) == 0)
				return;
		}
		goto mismatch;
	case SK_LIST:
	case SK_SET:
		if (e->kind != AST_LIST)
			goto mismatch;
		for (size_t i = 0; i < e->u.list.n; i++)
			check_literal_type(c, e->u.list.items[i], t->elem, what);
		return;
	case SK_MAP:
		if (e->kind != AST_OBJECT)
			goto mismatch;
		for (size_t i = 0; i < e->u.object.n; i++)
			check_literal_type(c, e->u.object.items[i].value, t->elem, what);
		return;
	case SK_OBJECT:
		if (e->kind != AST_OBJECT)
			goto mismatch;
		check_object_literal(c, e, t, what);
		return;
	default:
		return;
	}
mismatch:
	/* the type's name only for the message: most literals match */
	schema_type_name(t, tn, sizeof tn);
	diag_error(c->diag, &e->span, "%s must be %s%s, not a %s", what,
		   strchr("aeiou", tn[0]) ? "an " : "a ", tn, lk);
}

/* ---- bodies against schemas ---- */

enum meta {
	META_NONE = 0,
	META_RESOURCE = 1,  /* count, for_each, depends_on, provider, lifecycle, timeouts */
	META_DATA = 2,      /* count, for_each, depends_on, provider */
};

static const char *const resource_meta[] = {
	"count", "for_each", "depends_on", "provider", NULL,
};

static int is_meta_attr(const char *name, enum meta meta)
{
	if (meta == META_NONE)
		return 0;
	for (size_t i = 0; resource_meta[i]; i++)
		if (ast_same_name(name, resource_meta[i]))
			return 1;
	return 0;
}

/* replace_triggered_by: a list of references to resources, to instances (count.index and
 * each.key may pick one) or to their attributes, as in Terraform: only a resource's change
 * can trigger a replacement (plan.c). */
static void check_triggers(struct check_ctx *c, const struct ast_expr *v, const struct scope *sc)
{
	if (v->kind != AST_LIST) {
		diag_error(c->diag, &v->span, "replace_triggered_by must be a list of references to resources");
		diag_hint(c->diag, "write replace_triggered_by = [aws.vpc.main] or [aws.vpc.main.id]");
		return;
	}
	for (size_t j = 0; j < v->u.list.n; j++) {
		const struct ast_expr *x = v->u.list.items[j];
		struct eval_ref ref;
		int ok = eval_split_ref(x, &ref) == 0 && ref.kind == REF_RESOURCE;
		eval_ref_release(&ref);
		if (!ok) {
			diag_error(c->diag, &x->span, "replace_triggered_by takes references to resources or "
				   "their attributes, such as aws.vpc.main or aws.vpc.main.id");
			diag_hint(c->diag, "only a resource's change can trigger a replacement: not a variable, a "
				  "local, a data source, a module output, a splat or another expression");
			continue;
		}
		check_expr(c, x, sc);
	}
}

static void check_lifecycle(struct check_ctx *c, const struct ast_item *blk,
			    const struct schema_resource *rs, const struct scope *sc)
{
	static const char *const names[] = {
		"create_before_destroy", "prevent_destroy", "ignore_changes", "replace_triggered_by",
		NULL,
	};
	for (size_t i = 0; i < blk->body.n; i++) {
		const struct ast_item *it = blk->body.items[i];
		size_t k;
		if (it->kind == AST_BLOCK) {
			unexpected_block(c, it, "lifecycle");
			continue;
		}
		for (k = 0; names[k] && strcmp(names[k], it->name); k++)
			;
		if (!names[k]) {
			const char *s = diag_suggest(it->name, names);
			diag_error(c->diag, &it->name_span, "lifecycle has no setting '%s'", it->name);
			diag_hint(c->diag, s ? "did you mean %s?" : "lifecycle takes %s",
				  s ? s : "create_before_destroy, prevent_destroy, ignore_changes and replace_triggered_by");
			continue;
		}
		if (k <= 1) {
			if (it->value->kind != AST_BOOL)
				diag_error(c->diag, &it->value->span, "%s must be true or false", it->name);
			continue;
		}
		if (k == 3) {
			check_triggers(c, it->value, sc);
			continue;
		}
		if (k == 2) {
			const struct ast_expr *v = it->value;
			/* ignore_changes = all, or a list of attribute names */
			if (v->kind == AST_VAR && strcmp(v->u.var.name, "all") == 0)
				continue;
			if (v->kind != AST_LIST) {
				diag_error(c->diag, &v->span, "ignore_changes must be a list of argument names, or all");
				continue;
			}
			for (size_t j = 0; j < v->u.list.n; j++) {
				const struct ast_expr *x = v->u.list.items[j];
				const char *n = x->kind == AST_VAR ? x->u.var.name : ast_static_string(x);
				if (!n) {
					diag_error(c->diag, &x->span, "ignore_changes takes argument names, such as tags");
					continue;
				}
				if (rs && !schema_attr_find(&rs->block, n) && !schema_nested_find(&rs->block, n)) {
					struct buf nm = BUF_INIT;
					schema_names(&rs->block, &nm, 1);
					const char *s = suggest_in(n, &nm);
					diag_error(c->diag, &x->span, "ignore_changes names '%s', which this resource does not have", n);
					if (s)
						diag_hint(c->diag, "did you mean %s?", s);
					buf_release(&nm);
				}
			}
		}
	}
}

static void check_timeouts(struct check_ctx *c, const struct ast_item *blk)
{
	static const char *const names[] = { "create", "update", "delete", "read", NULL };

	for (size_t i = 0; i < blk->body.n; i++) {
		const struct ast_item *it = blk->body.items[i];
		size_t k;
		if (it->kind == AST_BLOCK) {
			unexpected_block(c, it, "timeouts");
			continue;
		}
		for (k = 0; names[k] && strcmp(names[k], it->name); k++)
			;
		if (!names[k]) {
			const char *s = diag_suggest(it->name, names);
			diag_error(c->diag, &it->name_span, "timeouts has no setting '%s'", it->name);
			if (s)
				diag_hint(c->diag, "did you mean %s?", s);
			continue;
		}
		const char *v = ast_static_string(it->value);
		if (!v && literal_kind(it->value)) {
			diag_error(c->diag, &it->value->span, "a timeout is a string such as \"40m\"");
			continue;
		}
		if (v && schema_duration(v) < 0) {
			diag_error(c->diag, &it->value->span, "'%s' is not a duration", v);
			diag_hint(c->diag, "write a number and a unit: \"40m\", \"1h30m\", \"90s\"");
		}
	}
}

/* Checks a body's attributes and nested blocks against a schema block. what names the body in
 * messages ("aws.vpc", "ingress"). */
static void check_body(struct check_ctx *c, const struct ast_item *owner,
		       const struct ast_body *body, const struct schema_block *sb, const char *what,
		       enum meta meta, const struct schema_resource *rs, const struct scope *sc)
{
	for (size_t i = 0; i < body->n; i++) {
		const struct ast_item *it = body->items[i];
		const struct ast_item *prev;

		if (it->kind == AST_ATTR) {
			prev = earlier_attr(body, i);
			if (prev) {
				diag_error(c->diag, &it->name_span, "'%s' is set twice", it->name);
				diag_hint(c->diag, "the first is at %u:%u", span_line(&prev->name_span),
					  span_col(&prev->name_span));
				continue;
			}
			/* meta-arguments are checked by the caller, in their own scope */
			if (is_meta_attr(it->name, meta))
				continue;
			check_expr(c, it->value, sc);
			const struct schema_attr *a = schema_attr_find(sb, it->name);
			if (!a) {
				const struct schema_nested *nb = schema_nested_find(sb, it->name);
				if (nb) {
					diag_error(c->diag, &it->name_span, "'%s' is a block, not an argument", it->name);
					diag_hint(c->diag, "write %s { ... } without '='", it->name);
					continue;
				}
				diag_error(c->diag, &it->name_span, "%s has no argument '%s'", what, it->name);
				hint_schema_name(c, it->name, sb, 1);
				continue;
			}
			if (!(a->flags & (SF_REQUIRED | SF_OPTIONAL))) {
				diag_error(c->diag, &it->name_span, "%s is set by the provider; it cannot be written", it->name);
				diag_hint(c->diag, "refer to it from elsewhere instead, as %s.NAME.%s", what, it->name);
				continue;
			}
			check_literal_type(c, it->value, a->type, it->name);
			if (a->check && ast_static_string(it->value)) {
				/* plan's own judgement (check_value in plan.c), for a literal */
				const char *s = ast_static_string(it->value);
				struct buf why = BUF_INIT;
				if (a->check(s, strlen(s), &why))
					diag_error(c->diag, &it->value->span, "%s \"%s\" is refused: %s", it->name, s,
						   why.data);
				buf_release(&why);
			}
			continue;
		}
		/* nested blocks */
		if (meta == META_RESOURCE && strcmp(it->name, "lifecycle") == 0) {
			if (it->nlabels)
				diag_error(c->diag, &it->labels[0].span, "lifecycle takes no label");
			check_lifecycle(c, it, rs, sc);
			continue;
		}
		if (meta == META_RESOURCE && strcmp(it->name, "timeouts") == 0) {
			check_timeouts(c, it);
			continue;
		}
		const struct schema_nested *nb = schema_nested_find(sb, it->name);
		if (!nb && eval_is_dynamic(it)) {
			check_dynamic(c, it, sb, what, sc);
			continue;
		}
		if (!nb) {
			const struct schema_attr *a = schema_attr_find(sb, it->name);
			if (a) {
				diag_error(c->diag, &it->name_span, "'%s' is an argument, not a block", it->name);
				diag_hint(c->diag, "write %s = ...", it->name);
				continue;
			}
			diag_error(c->diag, &it->name_span, "%s takes no '%s' block", what, it->name);
			if (!strcmp(it->name, "default_tags"))  /* Terraform's aws provider has one */
				diag_hint(c->diag, "default tags are the stack's: stack { tags = { ... } } gives "
					  "them to every resource with tags");
			else
				hint_schema_name(c, it->name, sb, 1);
			continue;
		}
		/* a provider's registry "name" { } takes a label; other nested blocks do not */
		if (it->nlabels > 1 || (it->nlabels == 1 && strcmp(it->name, "registry") != 0 &&
					strcmp(it->name, "backend") != 0))
			diag_error(c->diag, &it->labels[0].span, "the %s block takes no label", it->name);
		check_body(c, it, &it->body, nb->block, it->name, META_NONE, NULL, sc);
	}
	/* missing required arguments and block counts */
	for (const struct schema_attr *a = sb->attrs; a && a->name; a++) {
		if ((a->flags & SF_REQUIRED) && !body_attr(body, a->name)) {
			diag_error(c->diag, owner ? &owner->name_span : NULL, "%s needs the argument '%s'",
				   what, a->name);
			if (a->description)
				diag_hint(c->diag, "%s: %s", a->name, a->description);
		}
	}
	for (const struct schema_nested *nb = sb->blocks; nb && nb->name; nb++) {
		int count = 0;
		const struct ast_item *last = NULL;
		int dynamic = 0;
		for (size_t i = 0; i < body->n; i++) {
			const struct ast_item *it = body->items[i];
			if (it->kind == AST_BLOCK && ast_same_name(it->name, nb->name))
				count++, last = it;
			dynamic |= eval_is_dynamic(it) && it->nlabels == 1 && !strcmp(it->labels[0].text, nb->name);
		}
		/* how many blocks a dynamic block makes is known when planning, which counts them */
		if (dynamic)
			continue;
		if (count < nb->min_items)
			diag_error(c->diag, owner ? &owner->name_span : NULL, "%s needs %s %s block",
				   what, nb->min_items == 1 ? "a" : "more than one", nb->name);
		if (nb->max_items && count > nb->max_items)
			diag_error(c->diag, &last->name_span, "%s takes at most %d %s block%s", what,
				   nb->max_items, nb->name, nb->max_items == 1 ? "" : "s");
	}
}

/* Adds the block types of sb to a message: "did you mean X?", or the list of them. */
static void hint_block_types(struct check_ctx *c, const char *name, const struct schema_block *sb,
			     const char *what)
{
	struct buf names = BUF_INIT, list = BUF_INIT;
	const char *s;

	for (const struct schema_nested *nb = sb->blocks; nb && nb->name; nb++) {
		buf_push(&names, const char *, nb->name);
		buf_printf(&list, "%s%s", list.len ? ", " : "", nb->name);
	}
	buf_push(&names, const char *, (const char *)NULL);
	s = suggest_in(name, &names);
	if (s)
		diag_hint(c->diag, "did you mean %s?", s);
	else if (list.len)
		diag_hint(c->diag, "the block types of %s are: %s", what, list.data);
	else
		diag_hint(c->diag, "%s has no nested blocks", what);
	buf_release(&names);
	buf_release(&list);
}

/* Names a reference already means something by: an iterator so named would never be read. */
static int is_reserved_root(const char *name)
{
	static const char *const roots[] = {
		"var", "local", "data", "module", "each", "count", "stack", "path", "self", "terraform", NULL,
	};
	for (size_t i = 0; roots[i]; i++)
		if (!strcmp(name, roots[i]))
			return 1;
	return schema_provider_find(name) != NULL;
}

/* dynamic "TYPE" { for_each = ..., iterator = NAME, content { ... } } in a body of schema sb:
 * TYPE one of its block types, content checked as a TYPE block with the iterator in scope. */
static void check_dynamic(struct check_ctx *c, const struct ast_item *dyn, const struct schema_block *sb,
			  const char *what, const struct scope *sc)
{
	static const char *const args[] = { "for_each", "iterator", NULL };
	const struct ast_item *fe = NULL, *iter = NULL, *content = NULL;
	const struct schema_nested *nb = NULL;
	const char *name;

	if (dyn->nlabels != 1) {
		diag_error(c->diag, dyn->nlabels ? &dyn->labels[1].span : &dyn->name_span, "%s",
			   dyn->nlabels ? "a dynamic block takes one label, the type of the blocks it makes"
					: "a dynamic block needs a label: the type of the blocks it makes");
		diag_hint(c->diag, "write dynamic \"%s\" { ... }", dyn->nlabels ? dyn->labels[0].text :
			  sb->blocks && sb->blocks->name ? sb->blocks->name : "TYPE");
	} else if (!(nb = schema_nested_find(sb, dyn->labels[0].text)) &&
		   (!strcmp(dyn->labels[0].text, "lifecycle") || !strcmp(dyn->labels[0].text, "timeouts"))) {
		/* the planner reads these from the tree, before anything is evaluated */
		diag_error(c->diag, &dyn->labels[0].span, "a %s block cannot be dynamic", dyn->labels[0].text);
		diag_hint(c->diag, "write it as a plain %s { ... } block", dyn->labels[0].text);
	} else if (!nb) {
		diag_error(c->diag, &dyn->labels[0].span, "%s takes no '%s' block, so no dynamic one", what,
			   dyn->labels[0].text);
		hint_block_types(c, dyn->labels[0].text, sb, what);
	}
	for (size_t i = 0; i < dyn->body.n; i++) {
		const struct ast_item *it = dyn->body.items[i];
		const struct ast_item *prev;
		if (it->kind == AST_BLOCK && ast_same_name(it->name, "content")) {
			if (content) {
				diag_error(c->diag, &it->name_span, "a dynamic block takes one content block");
				diag_hint(c->diag, "the first is at %u:%u", span_line(&content->name_span),
					  span_col(&content->name_span));
				continue;
			}
			content = it;
			if (it->nlabels)
				diag_error(c->diag, &it->labels[0].span, "the content block takes no label");
			continue;
		}
		if (it->kind == AST_BLOCK) {
			diag_error(c->diag, &it->name_span, "a dynamic block takes no '%s' block", it->name);
			diag_hint(c->diag, "the blocks it makes are written inside content { ... }");
			continue;
		}
		if ((prev = earlier_attr(&dyn->body, i))) {
			diag_error(c->diag, &it->name_span, "'%s' is set twice", it->name);
			diag_hint(c->diag, "the first is at %u:%u", span_line(&prev->name_span),
				  span_col(&prev->name_span));
			continue;
		}
		if (ast_same_name(it->name, "for_each")) {
			const char *k = literal_kind(it->value);
			fe = it;
			check_expr(c, it->value, sc);
			if (k && strcmp(k, "list") && strcmp(k, "map")) {
				diag_error(c->diag, &it->value->span, "a dynamic block's for_each takes a list, set or map, not a %s", k);
				diag_hint(c->diag, "one block is made per element: for_each = [ ... ]");
			}
		} else if (ast_same_name(it->name, "iterator")) {
			iter = it;
			if (it->value->kind != AST_VAR) {
				diag_error(c->diag, &it->value->span, "iterator takes a name, not an expression");
				diag_hint(c->diag, "write iterator = rule, without quotes: then rule.key and rule.value");
			}
		} else if (ast_same_name(it->name, "labels")) {
			diag_error(c->diag, &it->name_span, "a dynamic block takes no labels: the blocks it makes have none");
			diag_hint(c->diag, "remove labels; in stk a nested block's label is never more than a name");
		} else {
			const char *s = diag_suggest(it->name, args);
			diag_error(c->diag, &it->name_span, "a dynamic block has no argument '%s'", it->name);
			if (s)
				diag_hint(c->diag, "did you mean %s?", s);
			else
				diag_hint(c->diag, "it takes for_each, iterator and a content block");
		}
	}
	if (!fe) {
		diag_error(c->diag, &dyn->name_span, "this dynamic block needs for_each");
		diag_hint(c->diag, "for_each = a list, set or map: one block is made per element");
	}
	if (!content) {
		diag_error(c->diag, &dyn->name_span, "this dynamic block needs a content block");
		diag_hint(c->diag, "content { ... } holds what each block it makes sets, with %s.value",
			  (name = eval_dynamic_iterator(dyn)) ? name : "ITER");
	}
	name = eval_dynamic_iterator(dyn);
	if (name && (!iter || iter->value->kind == AST_VAR) && is_reserved_root(name)) {
		diag_error(c->diag, iter ? &iter->value->span : &dyn->labels[0].span,
			   "'%s' cannot name this dynamic block's iterator: references give it a meaning already", name);
		diag_hint(c->diag, "name the iterator: iterator = %s_item", name);
	}
	if (content && nb) {
		struct scope inner = *sc;
		struct scope_var v = { name, sc->vars, 1 };
		if (name)
			inner.vars = &v;
		check_body(c, content, &content->body, nb->block, nb->name, META_NONE, NULL, &inner);
	}
}

/* ---- references ---- */

static const struct scope_var *scope_find(const struct scope *sc, const char *name)
{
	for (const struct scope_var *v = sc->vars; v; v = v->next)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

/* Whether a dynamic block in b (at any depth) has an iterator called name. */
static int has_iterator(const struct ast_body *b, const char *name)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct ast_item *it = b->items[i];
		const char *n;
		if (it->kind != AST_BLOCK)
			continue;
		if (eval_is_dynamic(it) && (n = eval_dynamic_iterator(it)) && !strcmp(n, name))
			return 1;
		if (has_iterator(&it->body, name))
			return 1;
	}
	return 0;
}

static void suggest_root(struct check_ctx *c, const char *root, const struct scope *sc)
{
	struct strmap_entry *slots;

	if (sc->owner && sc->owner->item->kind == AST_BLOCK && has_iterator(&sc->owner->item->body, root)) {
		diag_hint(c->diag, "%s is a dynamic block's iterator: it is defined only inside its content", root);
		return;
	}

	if (decl_find(c, D_VARIABLE, root)) {
		diag_hint(c->diag, "did you mean var.%s?", root);
		return;
	}
	if (decl_find(c, D_LOCAL, root)) {
		diag_hint(c->diag, "did you mean local.%s?", root);
		return;
	}
	/* aws_vpc: Terraform's spelling of aws.vpc */
	const char *us = strchr(root, '_');
	if (us) {
		char *p = xstrndup(root, (size_t)(us - root));
		if (schema_provider_find(p)) {
			diag_hint(c->diag, "resource types are written %s.%s in stk", p, us + 1);
			free(p);
			return;
		}
		free(p);
	}
	static const char *const roots[] = {
		"var", "local", "data", "module", "each", "count", "stack", "path", "aws", "docker", NULL,
	};
	const char *s = diag_suggest(root, roots);
	if (s) {
		diag_hint(c->diag, "did you mean %s?", s);
		return;
	}
	(void)slots;
	diag_hint(c->diag, "a reference starts with var., local., data., module., each., count. "
		  "or a resource type such as aws.vpc");
}

/* A resource or data reference: steps[first] is the type's first part. Checks the name, the
 * index against count/for_each, and the attribute against the schema. */
static void check_resource_ref(struct check_ctx *c, const struct buf *steps, size_t first,
			       enum decl_kind kind, const struct scope *sc, const struct ast_expr *whole)
{
	const char *prov = step_attr(steps, first);
	const char *type = step_attr(steps, first + 1);
	const char *name = step_attr(steps, first + 2);
	size_t n = buf_count(steps, struct step);
	const char *prefix = kind == D_DATA ? "data." : "";
	char keybuf[256];
	char *key = keybuf;
	const struct decl *d;

	if (first == 0)
		prov = buf_at(steps, struct step, 0).node->u.var.name;
	if (!type || !name) {
		diag_error(c->diag, &whole->span, "a %s reference is written %sPROVIDER.TYPE.NAME",
			   decl_what(kind), prefix);
		return;
	}
	const struct schema_provider *p = schema_provider_find(prov);
	/* every reference looks up a key: build it without the heap when it fits */
	key = join_key(keybuf, sizeof keybuf, prov, type, name);
	d = decl_find(c, kind, key);
	if (!d) {
		diag_error(c->diag, &whole->span, "reference to undeclared %s %s%s", decl_what(kind),
			   prefix, key);
		if (p && !schema_resource_find(p, type, kind == D_DATA))
			diag_hint(c->diag, "%s has no %s type '%s'", prov,
				  kind == D_DATA ? "data source" : "resource", type);
		else
			diag_hint(c->diag, "declare it with %s %s.%s %s { ... }",
				  kind == D_DATA ? "data" : "resource", prov, type, name);
		goto out;
	}
	if (sc->owner == d) {
		diag_error(c->diag, &whole->span, "%s%s refers to itself", prefix, key);
		c->self_reported = d;
		diag_hint(c->diag, "an object cannot depend on its own attributes");
		goto out;
	}
	/* the stack's tags are the default tags of every resource that takes tags (plan.c), this
	 * one among them: it would be needed before itself */
	const struct schema_resource *rs = p && kind == D_RESOURCE ? schema_resource_find(p, type, 0) : NULL;
	if (sc->stack_tags && rs && schema_tags_attr(&rs->block)) {
		diag_error(c->diag, &whole->span, "the stack's tags cannot refer to %s: they are its default tags",
			   key);
		diag_hint(c->diag, "take the value from a variable or a local that names no resource, or "
			  "give it to the resources that need it with tags = merge(...)");
		goto out;
	}
	size_t i = first + 3;
	int multi = d->meta.count || d->meta.for_each;
	if (i < n) {
		const struct ast_expr *st = buf_at(steps, struct step, i).node;
		if (st->kind == AST_INDEX || st->kind == AST_SPLAT) {
			if (!multi && st->kind == AST_INDEX) {
				diag_error(c->diag, &st->span, "%s%s has no count or for_each, so it takes no index",
					   prefix, key);
				goto out;
			}
			i++;
		} else if (multi) {
			/* aws.subnet.public.id where public has count: Terraform's error too */
			struct span at = step_span(steps, i);
			diag_error(c->diag, &at, "%s%s has %s; pick an instance first",
				   prefix, key, d->meta.count ? "count" : "for_each");
			diag_hint(c->diag, d->meta.count ? "write %s%s[0].%s or %s%s[*].%s" :
				  "write %s%s[\"KEY\"].%s or use a for expression",
				  prefix, key, step_attr(steps, i), prefix, key, step_attr(steps, i));
			goto out;
		}
	}
	const char *attr = step_attr(steps, i);
	if (attr && d->schema) {
		const struct schema_block *sb = &d->schema->block;
		if (!schema_attr_find(sb, attr) && !schema_nested_find(sb, attr)) {
			struct span at = step_span(steps, i);
			diag_error(c->diag, &at, "%s.%s has no attribute '%s'", prov, type, attr);
			hint_schema_name(c, attr, sb, 0);
		}
	}
out:
	if (key != keybuf)
		free(key);
}

static void check_module_ref(struct check_ctx *c, const struct buf *steps,
			     const struct ast_expr *whole)
{
	const char *name = step_attr(steps, 1);
	const char *out = step_attr(steps, 2);
	const struct decl *d;

	if (!name) {
		diag_error(c->diag, &whole->span, "a module reference is written module.NAME.OUTPUT");
		return;
	}
	d = decl_find(c, D_MODULE, name);
	if (!d) {
		diag_error(c->diag, &whole->span, "reference to undeclared module %s", name);
		return;
	}
	size_t i = 2;
	if (out && (d->meta.count || d->meta.for_each)) {
		/* module.web.url where web has count: Terraform's error too */
		struct span at = step_span(steps, i);
		diag_error(c->diag, &at, "module %s has %s; pick an instance first", name,
			   d->meta.count ? "count" : "for_each");
		diag_hint(c->diag, d->meta.count ? "write module.%s[0].%s or module.%s[*].%s" :
			  "write module.%s[\"KEY\"].%s or use a for expression", name, out, name, out);
		return;
	}
	if (!out && buf_count(steps, struct step) > 2 && (d->meta.count || d->meta.for_each))
		out = step_attr(steps, ++i);
	if (out && d->mod && d->mod->loaded && !strmap_get(&d->mod->outputs, out)) {
		struct span at = step_span(steps, i);
		diag_error(c->diag, &at, "module %s has no output '%s'", name, out);
		diag_hint(c->diag, "the module %s declares its outputs with output blocks", d->mod->cfg.dir);
	}
}

static void check_reference(struct check_ctx *c, const struct ast_expr *e, const struct scope *sc)
{
	/* nothing below checks another expression, so the context's buffer is free for this one */
	struct buf steps = c->steps;

	steps.len = 0;
	if (traversal_steps(e, &steps))
		goto out;
	const struct ast_expr *root = buf_at(&steps, struct step, 0).node;
	const char *r = root->u.var.name;
	const char *a1 = step_attr(&steps, 1);

	const struct scope_var *sv = scope_find(sc, r);
	if (sv) {
		if (sv->iterator && a1 && strcmp(a1, "key") && strcmp(a1, "value")) {
			diag_error(c->diag, &e->span, "%s has only %s.key and %s.value", r, r, r);
			diag_hint(c->diag, "%s is the iterator of a dynamic block: %s.value is the element", r, r);
		}
		goto out;
	}
	if (sc->no_refs) {
		diag_error(c->diag, &e->span, "%s", sc->no_refs);
		goto out;
	}
	if (strcmp(r, "var") == 0 || strcmp(r, "local") == 0) {
		enum decl_kind k = r[0] == 'v' ? D_VARIABLE : D_LOCAL;
		if (!a1) {
			diag_error(c->diag, &e->span, "%s needs a name: %s.NAME", r, r);
			goto out;
		}
		if (!decl_find(c, k, a1)) {
			struct buf nm = BUF_INIT;
			const struct strmap *m = &c->decls[k];
			for (size_t i = 0; i < m->cap; i++)
				if (m->slots[i].key)
					buf_push(&nm, const char *, m->slots[i].key);
			buf_push(&nm, const char *, (const char *)NULL);
			const char *s = suggest_in(a1, &nm);
			diag_error(c->diag, &e->span, "reference to undeclared %s %s.%s", decl_what(k), r, a1);
			if (s)
				diag_hint(c->diag, "did you mean %s.%s?", r, s);
			else if (k == D_VARIABLE)
				diag_hint(c->diag, "declare it with variable %s { type = ... }", a1);
			else
				diag_hint(c->diag, "declare it in a locals { } block");
			buf_release(&nm);
		}
	} else if (strcmp(r, "each") == 0) {
		if (!sc->for_each)
			diag_error(c->diag, &e->span, "each is only defined in a block with for_each");
		else if (!a1 || (strcmp(a1, "key") && strcmp(a1, "value")))
			diag_error(c->diag, &e->span, "each has only each.key and each.value");
	} else if (strcmp(r, "count") == 0) {
		if (!sc->count)
			diag_error(c->diag, &e->span, "count.index is only defined in a block with count");
		else if (!a1 || strcmp(a1, "index"))
			diag_error(c->diag, &e->span, "count has only count.index");
	} else if (strcmp(r, "terraform") == 0) {
		if (!a1 || strcmp(a1, "workspace")) {
			diag_error(c->diag, &e->span, "terraform has only terraform.workspace");
			diag_hint(c->diag, "stk's own settings are in the stack block: stack.name, stack.tags, "
				  "stack.workspace");
		}
	} else if (strcmp(r, "stack") == 0) {
		if (!a1 || (strcmp(a1, "name") && strcmp(a1, "tags") && strcmp(a1, "workspace"))) {
			diag_error(c->diag, &e->span, "stack has only stack.name, stack.tags and stack.workspace");
		} else if (sc->stack_tags && !strcmp(a1, "tags")) {
			diag_error(c->diag, &e->span, "stack.tags refers to itself");
			diag_hint(c->diag, "write the value itself, or put it in a local both use");
		}
	} else if (strcmp(r, "path") == 0) {
		if (!a1 || (strcmp(a1, "module") && strcmp(a1, "root") && strcmp(a1, "cwd")))
			diag_error(c->diag, &e->span, "path has only path.module, path.root and path.cwd");
	} else if (strcmp(r, "data") == 0) {
		check_resource_ref(c, &steps, 1, D_DATA, sc, e);
	} else if (strcmp(r, "module") == 0) {
		check_module_ref(c, &steps, e);
	} else if (schema_provider_find(r)) {
		check_resource_ref(c, &steps, 0, D_RESOURCE, sc, e);
	} else {
		diag_error(c->diag, &root->span, "unknown name '%s'", r);
		suggest_root(c, r, sc);
	}
out:
	c->steps = steps;
}

static void check_call(struct check_ctx *c, const struct ast_expr *e)
{
	const struct func_sig *f = func_find(e->u.call.name);
	int n = (int)e->u.call.n;

	if (!f) {
		const char *s = diag_suggest(e->u.call.name, func_names());
		struct span ns = ast_name_span(e);
		diag_error(c->diag, &ns, "unknown function %s", e->u.call.name);
		if (s)
			diag_hint(c->diag, "did you mean %s?", s);
		return;
	}
	/* f(list...) passes a list's elements: the count is not known here */
	if (e->u.call.expand)
		return;
	eval_check_templatestring(c->diag, e);
	if (n < f->min_args || (f->max_args >= 0 && n > f->max_args)) {
		if (f->min_args == f->max_args)
			diag_error(c->diag, &e->span, "%s takes %d argument%s, not %d", f->name,
				   f->min_args, f->min_args == 1 ? "" : "s", n);
		else if (n < f->min_args)
			diag_error(c->diag, &e->span, "%s takes at least %d argument%s, not %d", f->name,
				   f->min_args, f->min_args == 1 ? "" : "s", n);
		else
			diag_error(c->diag, &e->span, "%s takes at most %d arguments, not %d", f->name,
				   f->max_args, n);
		diag_hint(c->diag, "%s", f->usage);
	}
}

/* The first earlier key of items[0..i) that reads s: small maps (most are) need no table. */
static const struct ast_expr *earlier_key(const struct ast_expr *e, size_t i, const char *s)
{
	for (size_t k = 0; k < i; k++) {
		const char *t = ast_static_string(e->u.object.items[k].key);
		if (t && strcmp(t, s) == 0)
			return e->u.object.items[k].key;
	}
	return NULL;
}

static void check_object_keys(struct check_ctx *c, const struct ast_expr *e)
{
	struct strmap seen;
	int small = e->u.object.n <= 8;

	strmap_init(&seen);
	for (size_t i = 0; i < e->u.object.n; i++) {
		const struct ast_expr *k = e->u.object.items[i].key;
		const char *s = ast_static_string(k);
		const struct ast_expr *prev;
		if (!s)
			continue;
		prev = small ? earlier_key(e, i, s) : strmap_put(&seen, s, (void *)k);
		if (prev) {
			diag_error(c->diag, &k->span, "duplicate key '%s' in this map", s);
			diag_hint(c->diag, "the first is at %u:%u", span_line(&prev->span), span_col(&prev->span));
		}
	}
	strmap_release(&seen);
}

static void check_expr(struct check_ctx *c, const struct ast_expr *e, const struct scope *sc)
{
	if (!e)
		return;
	switch (e->kind) {
	case AST_ERROR:
	case AST_NULL:
	case AST_BOOL:
	case AST_NUMBER:
	case AST_STRING:
	case AST_SPLAT_ITEM:
	case AST_TMPL_MARK:
		return;
	case AST_TEMPLATE:
		for (size_t i = 0; i < e->u.tmpl.n; i++)
			check_expr(c, e->u.tmpl.parts[i], sc);
		return;
	case AST_VAR:
	case AST_GETATTR:
		check_reference(c, e, sc);
		return;
	case AST_INDEX:
		check_expr(c, e->u.index.key, sc);
		if (e->u.index.obj->kind == AST_SPLAT_ITEM)
			return;
		/* a traversal rooted at a name is a reference; anything else is an expression */
		{
			const struct ast_expr *r = e->u.index.obj;
			while (r->kind == AST_GETATTR || r->kind == AST_INDEX)
				r = r->kind == AST_GETATTR ? r->u.getattr.obj : r->u.index.obj;
			if (r->kind == AST_VAR) {
				check_reference(c, e, sc);
				/* keys inside the traversal were checked above only for the last step */
				for (const struct ast_expr *x = e->u.index.obj; x->kind != AST_VAR;
				     x = x->kind == AST_GETATTR ? x->u.getattr.obj : x->u.index.obj)
					if (x->kind == AST_INDEX)
						check_expr(c, x->u.index.key, sc);
			} else {
				check_expr(c, e->u.index.obj, sc);
			}
		}
		return;
	case AST_SPLAT:
		{
			const struct ast_expr *r = e->u.splat.src;
			while (r->kind == AST_GETATTR || r->kind == AST_INDEX)
				r = r->kind == AST_GETATTR ? r->u.getattr.obj : r->u.index.obj;
			if (r->kind == AST_VAR)
				check_reference(c, e->u.splat.src, sc);
			else
				check_expr(c, e->u.splat.src, sc);
			check_expr(c, e->u.splat.each, sc);
		}
		return;
	case AST_CALL:
		check_call(c, e);
		for (size_t i = 0; i < e->u.call.n; i++)
			check_expr(c, e->u.call.args[i], sc);
		return;
	case AST_LIST:
		for (size_t i = 0; i < e->u.list.n; i++)
			check_expr(c, e->u.list.items[i], sc);
		return;
	case AST_OBJECT:
		check_object_keys(c, e);
		for (size_t i = 0; i < e->u.object.n; i++) {
			if (e->u.object.items[i].key->kind != AST_STRING)
				check_expr(c, e->u.object.items[i].key, sc);
			check_expr(c, e->u.object.items[i].value, sc);
		}
		return;
	case AST_UNARY:
		check_expr(c, e->u.unary.operand, sc);
		return;
	case AST_BINARY:
		check_expr(c, e->u.binary.lhs, sc);
		check_expr(c, e->u.binary.rhs, sc);
		return;
	case AST_COND:
		check_expr(c, e->u.cond.cond, sc);
		check_expr(c, e->u.cond.then, sc);
		check_expr(c, e->u.cond.otherwise, sc);
		return;
	case AST_PAREN:
		check_expr(c, e->u.paren.inner, sc);
		return;
	case AST_FOR: {
		const struct ast_for *f = e->u.for_;
		struct scope inner = *sc;
		struct scope_var kv = { f->key_var, sc->vars, 0 };
		struct scope_var vv = { f->val_var, f->key_var ? &kv : sc->vars, 0 };
		check_expr(c, f->coll, sc);
		inner.vars = &vv;
		check_expr(c, f->key, &inner);
		check_expr(c, f->value, &inner);
		check_expr(c, f->cond, &inner);
		return;
	}
	}
}

/* ---- per block kind ---- */

static int check_labels(struct check_ctx *c, const struct ast_item *b, size_t min, size_t max,
			const char *form)
{
	if (b->nlabels >= min && b->nlabels <= max)
		return 0;
	const struct span *at = b->nlabels > max ? &b->labels[max].span : &b->name_span;
	diag_error(c->diag, at, "%s %s", b->nlabels > max ? "too many labels: write" : "missing label: write", form);
	return -1;
}

static int is_name_char(char ch, int first)
{
	if (ch == '_' || ((ch | 32) >= 'a' && (ch | 32) <= 'z'))
		return 1;
	return !first && (ch == '-' || (ch >= '0' && ch <= '9'));
}

/* Names of variables, resources and outputs are identifiers, so references can spell them. */
static int label_is_ident(struct check_ctx *c, const struct ast_label *l, const char *what)
{
	const char *s = l->text;
	int ok = l->kind != AST_LABEL_DOTTED && *s;

	for (const char *p = s; ok && *p; p++)
		ok = is_name_char(*p, p == s);
	if (ok)
		return 0;
	diag_error(c->diag, &l->span, "'%s' is not a valid %s name", s, what);
	diag_hint(c->diag, "names start with a letter or '_' and hold letters, digits, '_' and '-'");
	return -1;
}

/* resource aws.vpc main / data aws.ami debian: finds the schema. */
static const struct schema_resource *resolve_type(struct check_ctx *c, const struct ast_item *b,
						  int data)
{
	const struct ast_label *tl = &b->labels[0];
	const char *kw = data ? "data" : "resource";
	const char *dot;

	/* resource "aws.vpc" "main" is the same as resource aws.vpc main */
	if (tl->kind != AST_LABEL_DOTTED && !(tl->kind == AST_LABEL_STRING && strchr(tl->text, '.'))) {
		const char *us = strchr(tl->text, '_');
		diag_error(c->diag, &tl->span, "a %s type is written PROVIDER.TYPE, such as aws.vpc", kw);
		if (us) {
			char *p = xstrndup(tl->text, (size_t)(us - tl->text));
			diag_hint(c->diag, "write %s %s.%s %s", kw, p, us + 1, b->labels[1].text);
			free(p);
		}
		return NULL;
	}
	dot = strchr(tl->text, '.');
	char *prov = xstrndup(tl->text, (size_t)(dot - tl->text));
	const char *type = dot + 1;
	const struct schema_provider *p = schema_provider_find(prov);
	const struct schema_resource *rs = NULL;

	if (!p) {
		const char *names[8];
		size_t n = 0;
		for (size_t i = 0; schema_providers[i] && n < 7; i++)
			names[n++] = schema_providers[i]->name;
		names[n] = NULL;
		const char *s = diag_suggest(prov, names);
		diag_error(c->diag, &tl->span, "unknown provider '%s'", prov);
		diag_hint(c->diag, s ? "did you mean %s?" : "stk knows the providers aws, docker and host", s);
		goto out;
	}
	if (strchr(type, '.')) {
		diag_error(c->diag, &tl->span, "a %s type is written PROVIDER.TYPE, such as aws.vpc", kw);
		goto out;
	}
	rs = schema_resource_find(p, type, data);
	if (!rs) {
		struct buf names = BUF_INIT;
		const struct schema_resource *list = data ? p->data_sources : p->resources;
		for (size_t i = 0; list && list[i].type; i++)
			buf_push(&names, const char *, list[i].type);
		buf_push(&names, const char *, (const char *)NULL);
		const char *s = suggest_in(type, &names);
		diag_error(c->diag, &tl->span, "unknown %s type %s.%s", data ? "data source" : "resource",
			   prov, type);
		if (s)
			diag_hint(c->diag, "did you mean %s.%s?", prov, s);
		else if (schema_resource_find(p, type, !data))
			diag_hint(c->diag, "%s.%s is a %s, declared with '%s'", prov, type,
				  data ? "resource" : "data source", data ? "resource" : "data");
		buf_release(&names);
	}
out:
	free(prov);
	return rs;
}

static void declare(struct check_ctx *c, const struct ast_item *b)
{
	const char *k = b->name;

	if (strcmp(k, "variable") == 0 || strcmp(k, "module") == 0 || strcmp(k, "output") == 0) {
		enum decl_kind dk = k[0] == 'v' ? D_VARIABLE : k[0] == 'm' ? D_MODULE : D_OUTPUT;
		if (check_labels(c, b, 1, 1, k[0] == 'v' ? "variable NAME { ... }" :
				 k[0] == 'm' ? "module NAME { source = \"...\" }" : "output NAME { value = ... }") ||
		    label_is_ident(c, &b->labels[0], k))
			return;
		decl_add(c, dk, xstrdup(b->labels[0].text), b, &b->labels[0].span);
	} else if (strcmp(k, "resource") == 0 || strcmp(k, "data") == 0) {
		int data = k[0] == 'd';
		if (check_labels(c, b, 2, 2, data ? "data PROVIDER.TYPE NAME { ... }" :
				 "resource PROVIDER.TYPE NAME { ... }"))
			return;
		if (label_is_ident(c, &b->labels[1], k))
			return;
		const struct schema_resource *rs = resolve_type(c, b, data);
		struct decl *d = decl_add(c, data ? D_DATA : D_RESOURCE,
					  join_key(NULL, 0, b->labels[0].text, b->labels[1].text, NULL), b,
					  &b->labels[1].span);
		if (!d)
			return;
		d->schema = rs;
		find_meta_attrs(&b->body, &d->meta);
	} else if (strcmp(k, "locals") == 0) {
		if (b->nlabels) {
			diag_error(c->diag, &b->labels[0].span, "locals takes no label");
			return;
		}
		for (size_t i = 0; i < b->body.n; i++) {
			const struct ast_item *it = b->body.items[i];
			if (it->kind == AST_BLOCK) {
				diag_error(c->diag, &it->name_span, "locals holds only name = value lines, not blocks");
				continue;
			}
			decl_add(c, D_LOCAL, xstrdup(it->name), it, &it->name_span);
		}
	} else if (strcmp(k, "provider") == 0) {
		if (check_labels(c, b, 1, 2, "provider NAME { ... } or provider NAME \"ALIAS\" { ... }"))
			return;
		if (!schema_provider_find(b->labels[0].text)) {
			diag_error(c->diag, &b->labels[0].span, "unknown provider '%s'", b->labels[0].text);
			diag_hint(c->diag, "stk knows the providers aws, docker and host");
			return;
		}
		decl_add(c, D_PROVIDER, b->nlabels == 2 ? xasprintf("%s.%s", b->labels[0].text, b->labels[1].text) :
			 xstrdup(b->labels[0].text), b, &b->labels[b->nlabels - 1].span);
	} else if (strcmp(k, "moved") == 0) {
		/* checked by check_moved_blocks once everything is declared, in file order */
	} else if (strcmp(k, "stack") == 0) {
		if (c->stack) {
			diag_error(c->diag, &b->name_span, "a configuration has one stack block");
			diag_hint(c->diag, "the first is at %s:%u:%u", c->stack->span.src->name,
				  span_line(&c->stack->span), span_col(&c->stack->span));
			return;
		}
		c->stack = b;
		check_labels(c, b, 0, 1, "stack \"NAME\" { ... }");
	} else if (strcmp(k, "import") == 0) {
		/* declares nothing: check_imports checks it once every resource is declared */
	} else {
		const char *s = diag_suggest(k, block_kinds);
		diag_error(c->diag, &b->name_span, "unknown block '%s'", k);
		if (strcmp(k, "terraform") == 0)
			diag_hint(c->diag, "settings such as the backend go in a stack block");
		else if (strcmp(k, "provisioner") == 0)
			diag_hint(c->diag, "stk has no %s block; see docs/language.md", k);
		else
			diag_hint(c->diag, s ? "did you mean %s?" : "the blocks are stack, provider, variable, "
				  "locals, resource, data, module and output", s);
	}
}

static const char *const variable_attrs[] = {
	"type", "default", "description", "sensitive", "nullable", NULL,
};

/* Type constraints: string number bool any list(T) set(T) map(T) object({a = T}) tuple([T]). */
static void check_type_expr(struct check_ctx *c, const struct ast_expr *t)
{
	if (t->kind == AST_VAR) {
		const char *n = t->u.var.name;
		if (!strcmp(n, "string") || !strcmp(n, "number") || !strcmp(n, "bool") || !strcmp(n, "any"))
			return;
		if (!strcmp(n, "list") || !strcmp(n, "set") || !strcmp(n, "map")) {
			diag_error(c->diag, &t->span, "%s needs an element type, such as %s(string)", n, n);
			return;
		}
	} else if (t->kind == AST_CALL) {
		const char *n = t->u.call.name;
		if ((!strcmp(n, "list") || !strcmp(n, "set") || !strcmp(n, "map")) && t->u.call.n == 1) {
			check_type_expr(c, t->u.call.args[0]);
			return;
		}
		if (!strcmp(n, "object") && t->u.call.n == 1 && t->u.call.args[0]->kind == AST_OBJECT) {
			const struct ast_expr *o = t->u.call.args[0];
			check_object_keys(c, o);
			for (size_t i = 0; i < o->u.object.n; i++)
				check_type_expr(c, o->u.object.items[i].value);
			return;
		}
		if (!strcmp(n, "tuple") && t->u.call.n == 1 && t->u.call.args[0]->kind == AST_LIST) {
			const struct ast_expr *l = t->u.call.args[0];
			for (size_t i = 0; i < l->u.list.n; i++)
				check_type_expr(c, l->u.list.items[i]);
			return;
		}
		if (!strcmp(n, "optional") && t->u.call.n >= 1 && t->u.call.n <= 2) {
			check_type_expr(c, t->u.call.args[0]);
			return;
		}
	}
	diag_error(c->diag, &t->span, "not a type");
	diag_hint(c->diag, "types are string, number, bool, any, list(T), set(T), map(T), "
		  "object({ name = T }) and tuple([T, ...])");
}

static void check_variable(struct check_ctx *c, const struct ast_item *b)
{
	struct scope none = { 0 };

	for (size_t i = 0; i < b->body.n; i++) {
		const struct ast_item *it = b->body.items[i];
		if (it->kind == AST_BLOCK) {
			if (strcmp(it->name, "validation")) {
				unexpected_block(c, it, "variable");
				continue;
			}
			const struct ast_item *cond = body_attr(&it->body, "condition");
			const struct ast_item *msg = body_attr(&it->body, "message");
			if (!msg)
				msg = body_attr(&it->body, "error_message");
			if (!cond)
				diag_error(c->diag, &it->name_span, "validation needs a condition");
			if (!msg)
				diag_error(c->diag, &it->name_span, "validation needs a message");
			for (size_t j = 0; j < it->body.n; j++) {
				const struct ast_item *v = it->body.items[j];
				if (v->kind == AST_BLOCK) {
					unexpected_block(c, v, "validation");
					continue;
				}
				if (strcmp(v->name, "condition") && strcmp(v->name, "message") &&
				    strcmp(v->name, "error_message")) {
					diag_error(c->diag, &v->name_span, "validation has no setting '%s'", v->name);
					diag_hint(c->diag, "validation takes condition and message");
					continue;
				}
				check_expr(c, v->value, &none);
			}
			continue;
		}
		size_t k;
		for (k = 0; variable_attrs[k] && strcmp(variable_attrs[k], it->name); k++)
			;
		if (!variable_attrs[k]) {
			const char *s = diag_suggest(it->name, variable_attrs);
			diag_error(c->diag, &it->name_span, "variable has no setting '%s'", it->name);
			diag_hint(c->diag, s ? "did you mean %s?" : "a variable takes type, default, description, "
				  "sensitive and nullable", s);
			continue;
		}
		if (!strcmp(it->name, "type"))
			check_type_expr(c, it->value);
		else if (!strcmp(it->name, "sensitive") || !strcmp(it->name, "nullable")) {
			if (it->value->kind != AST_BOOL)
				diag_error(c->diag, &it->value->span, "%s must be true or false", it->name);
		} else if (!strcmp(it->name, "default")) {
			/* a default is a constant: it is known before anything is evaluated */
			struct scope constant = { 0 };
			constant.no_refs = "a variable's default is a constant: it cannot refer to anything";
			check_expr(c, it->value, &constant);
		} else {
			check_expr(c, it->value, &none);
		}
	}
}

static void check_output(struct check_ctx *c, const struct ast_item *b)
{
	static const char *const names[] = { "value", "description", "sensitive", "depends_on", NULL };
	struct scope none = { 0 };

	if (!body_attr(&b->body, "value"))
		diag_error(c->diag, &b->name_span, "output %s needs a value", b->labels[0].text);
	for (size_t i = 0; i < b->body.n; i++) {
		const struct ast_item *it = b->body.items[i];
		size_t k;
		if (it->kind == AST_BLOCK) {
			unexpected_block(c, it, "output");
			continue;
		}
		for (k = 0; names[k] && strcmp(names[k], it->name); k++)
			;
		if (!names[k]) {
			const char *s = diag_suggest(it->name, names);
			diag_error(c->diag, &it->name_span, "output has no setting '%s'", it->name);
			diag_hint(c->diag, s ? "did you mean %s?" : "an output takes value, description, "
				  "sensitive and depends_on", s);
			continue;
		}
		check_expr(c, it->value, &none);
	}
}

static void check_depends_on(struct check_ctx *c, const struct ast_item *it)
{
	const struct ast_expr *v = it->value;

	if (v->kind != AST_LIST) {
		diag_error(c->diag, &v->span, "depends_on must be a list of resources, such as [aws.vpc.main]");
		return;
	}
	for (size_t i = 0; i < v->u.list.n; i++) {
		const struct ast_expr *x = v->u.list.items[i];
		struct buf steps = BUF_INIT;
		if (traversal_steps(x, &steps) == 0) {
			const char *r = buf_at(&steps, struct step, 0).node->u.var.name;
			size_t n = buf_count(&steps, struct step);
			size_t want = !strcmp(r, "data") ? 4 : !strcmp(r, "module") ? 2 : 3;
			if (n > want && step_attr(&steps, want))
				diag_error(c->diag, &x->span, "depends_on names whole objects, not attributes");
		} else {
			diag_error(c->diag, &x->span, "depends_on takes references, such as aws.vpc.main");
		}
		buf_release(&steps);
	}
}

/* v names a provider configuration of type prov declared in this module: aws, or aws.eu. */
static void check_provider_ref(struct check_ctx *c, const struct ast_expr *v, const char *prov, const char *what)
{
	char *text = ast_traversal_text(v);
	if (!text || strchr(text, '[')) {
		diag_error(c->diag, &v->span, "%s takes a provider name, such as %s.eu", what, prov);
		goto out;
	}
	if (strncmp(text, prov, strlen(prov)) || (text[strlen(prov)] && text[strlen(prov)] != '.')) {
		diag_error(c->diag, &v->span, "%s needs a provider of %s, not %s",
			   strcmp(what, "provider") ? "this providers entry" : "this resource", prov, text);
		goto out;
	}
	if (strchr(text, '.') && !decl_find(c, D_PROVIDER, text)) {
		diag_error(c->diag, &v->span, "no provider %s is declared", text);
		diag_hint(c->diag, "declare it with provider %s \"%s\" { ... }", prov, strchr(text, '.') + 1);
	}
out:
	free(text);
}

/* A module call's providers = { aws = aws.eu }: which of this module's provider configurations
 * the called module's resources of each provider use (Terraform's), keyed by provider name. */
static void check_module_providers(struct check_ctx *c, const struct ast_item *it)
{
	const struct ast_expr *v = it->value;

	if (v->kind != AST_OBJECT) {
		diag_error(c->diag, &v->span, "providers must be a map from provider names to this module's "
			   "provider configurations, such as { aws = aws.eu }");
		return;
	}
	for (size_t i = 0; i < v->u.object.n; i++) {
		const struct ast_object_item *kv = &v->u.object.items[i];
		const char *key = ast_static_string(kv->key);
		if (!key || !schema_provider_find(key)) {
			diag_error(c->diag, &kv->key->span, "providers' keys are provider names, such as aws");
			diag_hint(c->diag, key && strchr(key, '.') ? "an alias inside the module is not supported: "
				  "its resources use the provider's default configuration, which this maps" :
				  "stk knows the providers aws, docker and host");
			continue;
		}
		check_provider_ref(c, kv->value, key, "providers");
	}
}

/* ---- literal count and for_each ---- */

/* The value of an expression that needs nothing from the configuration (literals, and
 * operators and functions over them), evaluated as stk plan evaluates it, or NULL when it
 * refers to anything or does not evaluate: plan reports those itself, with its messages. */
static struct value *literal_value(const struct ast_expr *e)
{
	struct diag_ctx quiet;
	struct eval_ctx lit;
	struct value *v;

	diag_init(&quiet);
	memset(&lit, 0, sizeof lit);
	lit.diag = &quiet;     /* no resolver: a reference is an error, kept here */
	v = eval_expr(&lit, e);
	if (v && (quiet.errors || !val_is_known(v))) {
		val_unref(v);
		v = NULL;
	}
	diag_release(&quiet);
	return v;
}

/* A literal count or for_each is judged by the rules stk plan applies to its value
 * (plan_resource in plan.c), with plan's messages: what validate rejects plan rejects too,
 * and what plan would reject for a literal is found without a plan. */
int check_count(struct diag_ctx *diag, const struct span *where, const struct value *v, size_t *n)
{
	double d;
	const char *why;

	if (val_to_number(v, &d, &why) == 0 && d >= 0 && d == floor(d) && d <= CHECK_MAX_COUNT) {
		*n = (size_t)d;
		return 0;
	}
	if (val_to_number(v, &d, &why) == 0 && d == floor(d) && d > CHECK_MAX_COUNT) {
		diag_error(diag, where, "count is too big: one resource has at most %d instances",
			   CHECK_MAX_COUNT);
		diag_hint(diag, "a plan makes every instance; split them among resources, or check "
			  "the number");
		return -1;
	}
	diag_error(diag, where, "count must be a whole number, 0 or more");
	if (v->kind == VAL_NULL)
		diag_hint(diag, "for no instances write count = 0");
	else
		diag_hint(diag, "count is how many instances to make, such as count = 2");
	return -1;
}

static void check_count_value(struct check_ctx *c, const struct ast_item *count)
{
	struct value *v = literal_value(count->value);
	size_t n;

	if (v)
		check_count(c->diag, &count->value->span, v, &n);
	val_unref(v);
}

int check_for_each(struct diag_ctx *diag, const struct span *where, const struct value *v)
{
	/* an empty list is taken: [] is what a for_each of nothing is mostly written as */
	if (v->kind != VAL_MAP && v->kind != VAL_SET && !(v->kind == VAL_LIST && v->u.list.n == 0)) {
		diag_error(diag, where, "for_each takes a map or a set of strings, not a %s",
			   val_kind_name((enum val_kind)v->kind));
		if (v->kind == VAL_LIST)
			diag_hint(diag, "convert a list with toset(...)");
		else
			diag_hint(diag, "write a map, such as { a = \"x\" }, or a set, such as toset([\"a\", \"b\"])");
		return -1;
	}
	for (size_t i = 0; v->kind == VAL_SET && i < v->u.list.n; i++) {
		if (v->u.list.items[i]->kind != VAL_STRING) {
			diag_error(diag, where, "for_each over a set needs strings, and this set holds a %s",
				   val_kind_name((enum val_kind)v->u.list.items[i]->kind));
			return -1;
		}
	}
	return 0;
}

static void check_for_each_value(struct check_ctx *c, const struct ast_item *fe)
{
	struct value *v = literal_value(fe->value);

	/* a literal is never a set (only toset() makes one) */
	if (v)
		check_for_each(c->diag, &fe->value->span, v);
	val_unref(v);
}

static void check_resource(struct check_ctx *c, const struct decl *d, int data)
{
	const struct ast_item *b = d->item;
	struct scope sc = { d, d->meta.count != NULL, d->meta.for_each != NULL, NULL, NULL, 0 };
	const struct ast_item *count = d->meta.count;
	const struct ast_item *fe = d->meta.for_each;
	const struct ast_item *prov = d->meta.provider;
	const struct ast_item *dep = d->meta.depends_on;
	const char *what = b->labels[0].text;

	if (count && fe)
		diag_error(c->diag, &fe->name_span, "count and for_each cannot both be set");
	if (count) {
		/* count and for_each are evaluated before the object exists: no count.index in them */
		struct scope outer = { d, 0, 0, NULL, NULL, 0 };
		check_expr(c, count->value, &outer);
		check_count_value(c, count);
	}
	if (fe) {
		struct scope outer = { d, 0, 0, NULL, NULL, 0 };
		check_expr(c, fe->value, &outer);
		check_for_each_value(c, fe);
	}
	if (dep) {
		struct scope outer = { d, 0, 0, NULL, NULL, 0 };
		check_expr(c, dep->value, &outer);
		check_depends_on(c, dep);
	}
	if (prov && d->schema) {
		const char *dot = strchr(b->labels[0].text, '.');
		char *p = xstrndup(b->labels[0].text, (size_t)(dot - b->labels[0].text));
		check_provider_ref(c, prov->value, p, "provider");
		free(p);
	}
	if (d->schema) {
		check_body(c, b, &b->body, &d->schema->block, what, data ? META_DATA : META_RESOURCE,
			   d->schema, &sc);
	} else {
		for (size_t i = 0; i < b->body.n; i++) {
			const struct ast_item *it = b->body.items[i];
			if (it->kind == AST_ATTR && it != count && it != fe && it != dep && it != prov)
				check_expr(c, it->value, &sc);
		}
	}
}

static void check_provider(struct check_ctx *c, const struct ast_item *b)
{
	const struct schema_provider *p = schema_provider_find(b->labels[0].text);
	struct scope none = { 0 };

	if (!p)
		return;
	check_body(c, b, &b->body, &p->config, b->labels[0].text, META_NONE, NULL, &none);
}

/* An endpoint setting's URL: http or https and a host, as the SDKs take AWS_ENDPOINT_URL
 * (anything else would only fail later, as a request to nowhere). */
static int endpoint_url(const char *url)
{
	size_t scheme = !strncasecmp(url, "http://", 7) ? 7 : !strncasecmp(url, "https://", 8) ? 8 : 0;

	return scheme && url[scheme] && url[scheme] != '/' && !url[strcspn(url, " \t\r\n")];
}

int check_backend_s3(struct diag_ctx *diag, const struct ast_item *be)
{
	const struct ast_item *table = NULL;
	int ret = 0;

	for (size_t i = 0; i < be->body.n; i++) {
		const struct ast_item *a = be->body.items[i];
		const char *url;

		if (a->kind != AST_ATTR)
			continue;
		if (!strcmp(a->name, "lock_table") || !strcmp(a->name, "dynamodb_table")) {
			if (table && strcmp(table->name, a->name)) {
				diag_error(diag, &a->name_span, "backend s3 has both %s and %s", table->name, a->name);
				diag_hint(diag, "they are one setting, the DynamoDB lock table (dynamodb_table is "
					  "Terraform's name for lock_table): keep one");
				ret = -1;
			}
			table = table ? table : a;
		} else if (!strcmp(a->name, "encrypt") && a->value->kind != AST_BOOL) {
			diag_error(diag, &a->value->span, "the backend's encrypt must be a fixed true or false");
			diag_hint(diag, "write true or false itself: the state is read before anything is evaluated");
			ret = -1;
		} else if ((!strcmp(a->name, "endpoint") || !strcmp(a->name, "dynamodb_endpoint")) &&
			   (url = ast_static_string(a->value)) && !endpoint_url(url)) {
			diag_error(diag, &a->value->span, "the backend's %s must be an http:// or https:// URL", a->name);
			diag_hint(diag, "write the service's URL with its scheme and host, such as "
				  "\"http://127.0.0.1:9000\" for MinIO");
			ret = -1;
		}
	}
	return ret;
}

static void check_stack(struct check_ctx *c, const struct ast_item *b)
{
	static const char *const s3_attrs[] = {
		"bucket", "key", "region", "lock_table", "dynamodb_table", "encrypt", "profile",
		"endpoint", "dynamodb_endpoint", "workspace_key_prefix", NULL,
	};
	struct scope none = { 0 }, tags = { .stack_tags = 1 };

	for (size_t i = 0; i < b->body.n; i++) {
		const struct ast_item *it = b->body.items[i];
		if (it->kind == AST_ATTR) {
			if (strcmp(it->name, "tags")) {
				diag_error(c->diag, &it->name_span, "stack has no setting '%s'", it->name);
				diag_hint(c->diag, "stack takes tags, and backend and encryption blocks");
				continue;
			}
			check_expr(c, it->value, &tags);
			if (literal_kind(it->value) && it->value->kind != AST_OBJECT)
				diag_error(c->diag, &it->value->span, "tags must be a map of strings");
			continue;
		}
		if (!strcmp(it->name, "backend")) {
			if (it->nlabels != 1) {
				diag_error(c->diag, &it->name_span, "write backend s3 { ... }");
				continue;
			}
			if (strcmp(it->labels[0].text, "s3") && strcmp(it->labels[0].text, "local")) {
				diag_error(c->diag, &it->labels[0].span, "unknown backend '%s'", it->labels[0].text);
				diag_hint(c->diag, "the backends are s3 and local");
				continue;
			}
			int s3 = !strcmp(it->labels[0].text, "s3");
			for (size_t j = 0; j < it->body.n; j++) {
				const struct ast_item *a = it->body.items[j];
				size_t k;
				if (a->kind == AST_BLOCK) {
					unexpected_block(c, a, "backend");
					continue;
				}
				check_expr(c, a->value, &none);
				if (!s3) {
					if (strcmp(a->name, "path"))
						diag_error(c->diag, &a->name_span, "the local backend takes only path");
					continue;
				}
				for (k = 0; s3_attrs[k] && strcmp(s3_attrs[k], a->name); k++)
					;
				if (!s3_attrs[k]) {
					const char *s = diag_suggest(a->name, s3_attrs);
					diag_error(c->diag, &a->name_span, "backend s3 has no setting '%s'", a->name);
					if (s)
						diag_hint(c->diag, "did you mean %s?", s);
				}
			}
			if (s3)
				check_backend_s3(c->diag, it);
			if (s3 && !body_attr(&it->body, "bucket"))
				diag_error(c->diag, &it->name_span, "backend s3 needs a bucket");
			if (s3 && !body_attr(&it->body, "key"))
				diag_error(c->diag, &it->name_span, "backend s3 needs a key");
			continue;
		}
		if (!strcmp(it->name, "encryption")) {
			if (it->nlabels)
				diag_error(c->diag, &it->labels[0].span, "encryption takes no label");
			for (size_t j = 0; j < it->body.n; j++) {
				const struct ast_item *a = it->body.items[j];
				if (a->kind == AST_BLOCK) {
					unexpected_block(c, a, "encryption");
					continue;
				}
				check_expr(c, a->value, &none);
				if (strcmp(a->name, "passphrase") && strcmp(a->name, "kdf")) {
					diag_error(c->diag, &a->name_span, "encryption has no setting '%s'", a->name);
					diag_hint(c->diag, "encryption takes passphrase and kdf (\"pbkdf2\" or \"scrypt\")");
				} else if (!strcmp(a->name, "kdf")) {
					const char *k = ast_static_string(a->value);
					if (!k || (strcmp(k, "pbkdf2") && strcmp(k, "scrypt"))) {
						diag_error(c->diag, &a->value->span, "kdf is \"pbkdf2\" or \"scrypt\"");
						diag_hint(c->diag, "stk builds these two; write one as a fixed string, which is "
							  "read before anything is evaluated");
					}
				}
			}
			continue;
		}
		unexpected_block(c, it, "stack");
	}
}

/* ---- modules ---- */

static struct modinfo *load_module(struct check_ctx *c, const struct decl *call, const struct ast_item *src_attr)
{
	const char *source = ast_static_string(src_attr->value);
	struct modinfo *mi;
	char *path;

	if (!source) {
		diag_error(c->diag, &src_attr->value->span, "a module source is a fixed path, not an expression");
		return NULL;
	}
	if (c->depth >= CHECK_MAX_MODULE_DEPTH) {
		diag_error(c->diag, &src_attr->value->span, "modules nest more than %d deep (does a module call itself?)",
			   CHECK_MAX_MODULE_DEPTH);
		return NULL;
	}
	path = config_module_path(c->mod->dir, source);
	mi = xcalloc(1, sizeof *mi);
	config_module_init(&mi->cfg);
	strmap_init(&mi->vars);
	strmap_init(&mi->outputs);
	strmap_init(&mi->calls);
	mi->count = call->meta.count;
	mi->for_each = call->meta.for_each;
	if (!config_is_module_dir(path)) {
		diag_error(c->diag, &src_attr->value->span, "cannot load module %s: %s is not a directory of .stk files",
			   source, path);
		diag_hint(c->diag, "a module source is a directory relative to this one, or stdlib/NAME");
		free(path);
		return mi;
	}
	unsigned before = c->diag->errors;
	config_load_dir(c->diag, path, &mi->cfg, 0);
	/* the module's own problems are reported under its own files */
	if (c->diag->errors == before) {
		struct check_ctx sub;
		memset(&sub, 0, sizeof sub);
		sub.diag = c->diag;
		sub.mod = &mi->cfg;
		sub.depth = c->depth + 1;
		sub.cycles = c->cycles;
		sub.moves = c->moves;
		sub.into = mi;
		char *prefix = xasprintf("%smodule.%s.", c->prefix ? c->prefix : "", call->key);
		sub.prefix = prefix;
		check_all(&sub);
		free(prefix);
	}
	for (size_t f = 0; f < config_nfiles(&mi->cfg); f++) {
		const struct ast_body *body = &config_file(&mi->cfg, f)->body;
		for (size_t i = 0; i < body->n; i++) {
			const struct ast_item *it = body->items[i];
			if (it->kind != AST_BLOCK || it->nlabels != 1)
				continue;
			if (!strcmp(it->name, "variable"))
				strmap_put(&mi->vars, it->labels[0].text, (void *)it);
			else if (!strcmp(it->name, "output"))
				strmap_put(&mi->outputs, it->labels[0].text, (void *)it);
		}
	}
	mi->loaded = 1;
	free(path);
	return mi;
}

static void modinfo_free(struct modinfo *mi)
{
	if (!mi)
		return;
	config_module_release(&mi->cfg);
	strmap_release(&mi->vars);
	strmap_release(&mi->outputs);
	for (size_t i = 0; i < mi->calls.cap; i++)
		if (mi->calls.slots[i].key) {
			free((char *)mi->calls.slots[i].key);
			modinfo_free(mi->calls.slots[i].value);
		}
	strmap_release(&mi->calls);
	free(mi);
}

static void check_module_call(struct check_ctx *c, struct decl *d)
{
	static const char *const meta[] = { "source", "count", "for_each", "depends_on", "providers", NULL };
	const struct ast_item *b = d->item;
	const struct ast_item *src = body_attr(&b->body, "source");
	struct scope sc = { d, d->meta.count != NULL, d->meta.for_each != NULL, NULL, NULL, 0 };
	struct buf names = BUF_INIT;
	if (d->mod && d->mod->loaded) {
		const struct strmap *m = &d->mod->vars;
		for (size_t i = 0; i < m->cap; i++)
			if (m->slots[i].key)
				buf_push(&names, const char *, m->slots[i].key);
	}
	buf_push(&names, const char *, (const char *)NULL);
	for (size_t i = 0; i < b->body.n; i++) {
		const struct ast_item *it = b->body.items[i];
		size_t k;
		if (it->kind == AST_BLOCK) {
			unexpected_block(c, it, "a module call");
			continue;
		}
		if (it == d->meta.count || it == d->meta.for_each) {
			/* evaluated before the instances exist: no count.index or each in them */
			struct scope outer = { d, 0, 0, NULL, NULL, 0 };
			check_expr(c, it->value, &outer);
			if (it == d->meta.count)
				check_count_value(c, it);
			else
				check_for_each_value(c, it);
			if (it == d->meta.for_each && d->meta.count)
				diag_error(c->diag, &it->name_span, "count and for_each cannot both be set");
			continue;
		}
		if (!strcmp(it->name, "providers")) {
			check_module_providers(c, it);
			continue;
		}
		if (it != src)
			check_expr(c, it->value, &sc);
		for (k = 0; meta[k] && strcmp(meta[k], it->name); k++)
			;
		if (meta[k]) {
			if (!strcmp(it->name, "depends_on"))
				check_depends_on(c, it);
			continue;
		}
		if (d->mod && d->mod->loaded && !strmap_get(&d->mod->vars, it->name)) {
			const char *s = suggest_in(it->name, &names);
			diag_error(c->diag, &it->name_span, "module %s has no input '%s'", d->key, it->name);
			if (s)
				diag_hint(c->diag, "did you mean %s?", s);
			else
				diag_hint(c->diag, "its inputs are the variables declared in %s", d->mod->cfg.dir);
		}
	}
	/* inputs without a default must be given */
	if (d->mod && d->mod->loaded) {
		const struct strmap *m = &d->mod->vars;
		for (size_t i = 0; i < m->cap; i++) {
			const struct ast_item *v = m->slots[i].value;
			if (!m->slots[i].key || body_attr(&v->body, "default") || body_attr(&b->body, m->slots[i].key))
				continue;
			diag_error(c->diag, &b->name_span, "module %s needs the input '%s'", d->key, m->slots[i].key);
		}
	}
	buf_release(&names);
}

/* ---- moved blocks ---- */

/* One moved block's endpoints, as check_moved_blocks compares them. */
struct moved_seen {
	const struct ast_item *block;
	struct addr from, to;
	char *from_text, *to_text;      /* as moved_text writes them: compared, and in messages */
	struct span from_span, to_span;
};

/* from or to of a moved block b into out; -1 after an error. */
static int moved_endpoint(struct check_ctx *c, const struct ast_item *b, const char *name, struct addr *out,
			  struct span *where)
{
	const struct ast_item *it = body_attr(&b->body, name);
	const struct ast_expr *bad;
	struct buf why = BUF_INIT;
	int ret = -1;

	if (!it) {
		diag_error(c->diag, &b->name_span, "a moved block needs %s", name);
		diag_hint(c->diag, "moved { from = aws.vpc.old  to = aws.vpc.new }: the old address and the new");
		return -1;
	}
	*where = it->value->span;
	if (ast_static_string(it->value)) {
		diag_error(c->diag, &it->value->span, "%s is an address, not a string", name);
		diag_hint(c->diag, "write it without quotes: %s = %s", name, ast_static_string(it->value));
		goto out;
	}
	if (move_endpoint(it->value, out, &bad, &why)) {
		diag_error(c->diag, &bad->span, "%s is not an address: %s", name, why.data);
		diag_hint(c->diag, "an address names a resource (aws.vpc.a), an instance (aws.vpc.a[0] or "
			  "aws.vpc.a[\"x\"]) or a module call (module.net, module.net[0])");
		goto out;
	}
	ret = 0;
out:
	buf_release(&why);
	return ret;
}

static char *moved_text(const struct addr *a)
{
	struct buf b = BUF_INIT;

	if (a->type)
		addr_format(a, &b);
	else
		buf_addstr(&b, a->module);
	return buf_detach(&b, NULL);
}

/* The rules one block can be judged by alone: Terraform's. */
static int check_moved(struct check_ctx *c, const struct ast_item *b, struct moved_seen *m)
{
	static const char *const attrs[] = { "from", "to", NULL };
	int bad = check_labels(c, b, 0, 0, "moved { from = ADDRESS  to = ADDRESS }");
	const char *from, *to;

	for (size_t i = 0; i < b->body.n; i++) {
		const struct ast_item *it = b->body.items[i];
		if (it->kind == AST_BLOCK) {
			unexpected_block(c, it, "a moved block");
			bad = -1;
		} else if (strcmp(it->name, "from") && strcmp(it->name, "to")) {
			const char *s = diag_suggest(it->name, attrs);
			diag_error(c->diag, &it->name_span, "a moved block has no argument '%s'", it->name);
			diag_hint(c->diag, s ? "did you mean %s?" : "it takes from and to%s", s ? s : "");
			bad = -1;
		}
	}
	if (moved_endpoint(c, b, "from", &m->from, &m->from_span))
		bad = -1;
	if (moved_endpoint(c, b, "to", &m->to, &m->to_span))
		bad = -1;
	if (bad)
		return -1;
	from = m->from_text = moved_text(&m->from);
	to = m->to_text = moved_text(&m->to);
	if (!strcmp(from, to)) {
		diag_error(c->diag, &m->to_span, "a move from %s to itself", from);
		diag_hint(c->diag, "to is the new address: remove this moved block if nothing moves");
		bad = -1;
	} else if (!m->from.type != !m->to.type) {
		diag_error(c->diag, &m->to_span, "%s is a %s and %s a %s: a move keeps what it moves", from,
			   m->from.type ? "resource" : "module", to, m->to.type ? "resource" : "module");
		diag_hint(c->diag, "move a resource to a resource (it may be in a module: module.net.%s), a "
			  "module to a module", m->from.type ? from : "aws.vpc.a");
		bad = -1;
	} else if (m->from.type && strcmp(m->from.type, m->to.type)) {
		diag_error(c->diag, &m->to_span, "%s and %s are of different types (%s, %s): a move keeps the type",
			   from, to, m->from.type, m->to.type);
		diag_hint(c->diag, "an object of another type is a new object: remove this moved block, and "
			  "stk plans to destroy %s and create %s", from, to);
		bad = -1;
	} else if (!*m->from.module && m->from.type && !m->from.key && !m->to.key &&
		   decl_find(c, D_RESOURCE, from)) {
		/* aws.vpc.a[0] may or may not be declared, as count decides: the plan tells */
		diag_error(c->diag, &m->from_span, "moved object still declared: %s is in the configuration, so "
			   "this block cannot move it", from);
		diag_hint(c->diag, "declare it under its new address only (%s), or remove this moved block", to);
		bad = -1;
	} else if (!m->from.type && !strchr(m->from.module + strlen("module."), '.') &&
		   !strchr(m->from.module, '[') && !strchr(m->to.module, '[') &&
		   decl_find(c, D_MODULE, m->from.module + strlen("module."))) {
		diag_error(c->diag, &m->from_span, "moved object still declared: %s is called in the configuration, "
			   "so this block cannot move it", from);
		diag_hint(c->diag, "call it under its new name only (%s), or remove this moved block", to);
		bad = -1;
	}
	return bad;
}

/* The first of the blocks seen whose from (or to) is text, or n. */
static size_t moved_find(const struct buf *seen, size_t n, int to, const char *text)
{
	size_t k;

	for (k = 0; k < n; k++) {
		const struct moved_seen *m = &buf_at(seen, struct moved_seen, k);
		if (!strcmp(to ? m->to_text : m->from_text, text))
			break;
	}
	return k;
}

/* Every moved block of the module, in file order: each on its own, then two to one place
 * and cycles (a to b, b to a), which Terraform refuses too. A module's blocks are relative
 * to it: check_module_moves collects them with the module's path. */
static void check_moved_blocks(struct check_ctx *c)
{
	struct buf seen = BUF_INIT;   /* struct moved_seen */
	size_t n;

	for (size_t f = 0; f < config_nfiles(c->mod); f++) {
		const struct ast_body *body = &config_file(c->mod, f)->body;
		for (size_t i = 0; i < body->n; i++) {
			const struct ast_item *it = body->items[i];
			struct moved_seen m;
			if (it->kind != AST_BLOCK || strcmp(it->name, "moved"))
				continue;
			memset(&m, 0, sizeof m);
			m.block = it;
			addr_init(&m.from);
			addr_init(&m.to);
			if (check_moved(c, it, &m)) {
				addr_release(&m.from);
				addr_release(&m.to);
				free(m.from_text);
				free(m.to_text);
				continue;
			}
			buf_push(&seen, struct moved_seen, m);
		}
	}
	n = buf_count(&seen, struct moved_seen);
	for (size_t i = 0; i < n; i++) {
		struct moved_seen *m = &buf_at(&seen, struct moved_seen, i);
		size_t k = moved_find(&seen, i, 1, m->to_text), steps = 0;
		int bad = 0;
		if (k < i) {
			const struct span *at = &buf_at(&seen, struct moved_seen, k).to_span;
			diag_error(c->diag, &m->to_span, "two moved blocks move to %s", m->to_text);
			diag_hint(c->diag, "one object can take its place: the other block is at %s:%u:%u",
				  at->src->name, span_line(at), span_col(at));
			bad = 1;
		}
		/* a chain from this block that comes back to it, reported at its first block (one
		 * that leads to an earlier block is that block's to report) */
		for (const char *cur = m->to_text; !bad && steps++ < n; cur = buf_at(&seen, struct moved_seen, k).to_text) {
			k = moved_find(&seen, n, 0, cur);
			if (k == n || k < i)
				break;
			if (k == i) {
				diag_error(c->diag, &m->from_span, "moved blocks make a cycle: %s moves back to itself",
					   m->from_text);
				diag_hint(c->diag, "a chain of moves ends somewhere: remove one of its blocks");
				bad = 1;
			}
		}
		if (!bad && c->moves) {
			char *calls = c->prefix && *c->prefix ? xstrndup(c->prefix, strlen(c->prefix) - 1) : xstrdup("");
			moves_add(c->moves, calls, &m->from, &m->to, &m->from_span);
			free(calls);
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct moved_seen *m = &buf_at(&seen, struct moved_seen, i);
		addr_release(&m->from);
		addr_release(&m->to);
		free(m->from_text);
		free(m->to_text);
	}
	buf_release(&seen);
}

/* ---- dependency cycles (stk validate) ---- */

/* The declarations a cycle is looked for among: a module's locals, resources, data sources and
 * provider blocks. The graph has variables, outputs and module calls too, whose edges cross
 * into other modules (and a module without the provider block takes its caller's); a cycle
 * through them is left to stk plan, which builds the graph. */
static int in_cycles(const struct decl *d)
{
	return d->kind == D_LOCAL || d->kind == D_RESOURCE || d->kind == D_DATA || d->kind == D_PROVIDER;
}

struct refs_walk {
	struct check_ctx *c;
	const struct decl *from;
};

/* from's edge to to, made at where, unless from has one to it already (graph.c's add_edge):
 * from's are the last edges of this share's (decl_refs). */
static void add_edge(struct check_ctx *c, const struct decl *from, const struct decl *to,
		     const struct span *where)
{
	struct graph_edge e;

	for (size_t i = buf_count(&c->edge_from, size_t); i-- > 0;) {
		if (buf_at(&c->edge_from, size_t, i) != from->index)
			break;
		if (buf_at(&c->edges, struct graph_edge, i).to == to->index)
			return;
	}
	e.to = to->index;
	e.where = *where;
	buf_push(&c->edges, struct graph_edge, e);
	buf_push(&c->edge_from, size_t, from->index);
}

/* One reference of from's: an edge to what it names, if that is one of in_cycles' kinds, the
 * first to it only (graph.c's add_edge). A reference to itself is one too, a cycle of one (in
 * timeouts, say), but not when the check has said that the resource
 * refers to itself. */
static void on_ref(void *arg, const struct eval_ref *ref)
{
	struct refs_walk *w = arg;
	struct check_ctx *c = w->c;
	enum decl_kind k = ref->kind == REF_LOCAL ? D_LOCAL : ref->kind == REF_RESOURCE ? D_RESOURCE :
			   ref->kind == REF_DATA ? D_DATA : D_VARIABLE;
	const struct decl *to = k == D_VARIABLE ? NULL : decl_find(c, k, ref->key);

	if (!to || (to == w->from && c->self_reported == to))
		return;
	add_edge(c, w->from, to, &ref->span);
}

/* d's edges, found as graph.c's node_edges finds a node's (eval_references over the local's
 * value, or the whole body of a resource, data source or provider block, nested blocks
 * included, then a resource's edge to its provider block), in the same order and with the
 * same places, so that a cycle walked the same way reads the same. A declaration's are found
 * at once, by one share, after the edges of those before it in that share. */
static void decl_refs(struct check_ctx *c, const struct decl *d)
{
	struct refs_walk w = { c, d };

	if (d->kind == D_LOCAL)
		eval_references(d->item->value, on_ref, &w);
	else
		eval_body_references(&d->item->body, on_ref, &w);
	if (d->kind != D_RESOURCE && d->kind != D_DATA)
		return;
	/* provider = aws.eu, or the type's provider; in this module (a module without the block
	 * takes its caller's: the graph's to find) */
	const char *type = d->item->labels[0].text, *dot = strchr(type, '.');
	char *name = d->meta.provider ? ast_traversal_text(d->meta.provider->value) :
		     dot ? xstrndup(type, (size_t)(dot - type)) : NULL;
	const struct decl *p = name ? decl_find(c, D_PROVIDER, name) : NULL;
	if (p)
		add_edge(c, d, p, &d->item->labels[0].span);
	free(name);
}

/* The walk's view of the edges: declaration i's are edges[first[i]] to edges[first[i + 1]]. */
struct cycle_walk {
	const struct check_ctx *c;
	size_t *first;
};

static const struct graph_edge *decl_edges(void *arg, size_t i, size_t *count)
{
	const struct cycle_walk *cw = arg;

	*count = cw->first[i + 1] - cw->first[i];
	return &buf_at(&cw->c->edges, struct graph_edge, cw->first[i]);
}

static void decl_address(void *arg, size_t i, struct buf *out)
{
	const struct check_ctx *c = ((const struct cycle_walk *)arg)->c;
	const struct decl *d = buf_at(&c->all, struct decl *, i);

	buf_addstr(out, c->prefix ? c->prefix : "");
	buf_addstr(out, d->kind == D_LOCAL ? "local." : d->kind == D_DATA ? "data." :
			d->kind == D_PROVIDER ? "provider." : "");
	buf_addstr(out, d->key);
}

static const struct span *decl_at(void *arg, size_t i)
{
	const struct check_ctx *c = ((const struct cycle_walk *)arg)->c;
	const struct decl *d = buf_at(&c->all, struct decl *, i);

	return d->kind == D_LOCAL ? &d->item->span : &d->item->name_span;
}

/* Cycles among the declarations, walked and reported as the graph's are (graph_walk_order).
 * The graph also has outputs, providers, variables, other modules' nodes and stack.tags'
 * edges, and may come into a cycle by one of those: then it names the same cycle from
 * another of its nodes. */
static void check_cycles(struct check_ctx *c)
{
	size_t n = buf_count(&c->all, struct decl *), ne = buf_count(&c->edges, struct graph_edge);
	struct cycle_walk cw = { c, NULL };
	struct graph_walk gw = {
		.n = n, .edges = decl_edges, .name = decl_address, .at = decl_at, .arg = &cw,
		.diag = c->diag,
	};

	if (!ne)
		return;
	/* the edges are grouped by declaration already, in declaration order: check_decls
	 * checks the declarations in order, and the shares' edges are appended in order */
	cw.first = xcalloc(n + 1, sizeof *cw.first);
	for (size_t k = 0; k < ne; k++)
		cw.first[buf_at(&c->edge_from, size_t, k) + 1]++;
	for (size_t i = 1; i <= n; i++)
		cw.first[i] += cw.first[i - 1];
	(void)graph_walk_order(&gw, NULL);
	free(cw.first);
}

/* ---- the module as a whole ---- */

static void check_decl(struct check_ctx *c, const struct decl *d)
{
	struct scope none = { 0 };

	/* a duplicate was reported where it was declared */
	if (d->dup)
		return;
	c->self_reported = NULL;
	switch (d->kind) {
	case D_VARIABLE: check_variable(c, d->item); break;
	case D_LOCAL: check_expr(c, d->item->value, &none); break;
	case D_RESOURCE: check_resource(c, d, 0); break;
	case D_DATA: check_resource(c, d, 1); break;
	case D_OUTPUT: check_output(c, d->item); break;
	case D_PROVIDER: check_provider(c, d->item); break;
	case D_MODULE: check_module_call(c, (struct decl *)d); break;
	}
	if (c->cycles && in_cycles(d))
		decl_refs(c, d);
}

/* Below this many items a thread costs more than it saves. */
#define CHECK_SHARE_MIN 1024
#define CHECK_SHARES_MAX 16

/* One thread's items [from, to) (top-level items to declare, or declarations to check), with a
 * copy of the context whose messages and scratch are its own. */
struct check_share {
	struct check_ctx c;
	struct diag_ctx diag;
	const void *const *items;
	size_t from, to;
	struct buf stacks;      /* declaring: the stack blocks met, declared after the rest */
};

/* A big configuration is checked in shares side by side (100k resources: 0.10 s on one
 * thread), in two rounds: declaring, then checking every body. Each only reads the tree and
 * the schemas (and in the second round, the declarations), so a share needs only its own
 * messages and scratch. The checking round's are appended in the shares' order, the order of
 * one pass; the declaring round's come after the duplicates and stack blocks it reports
 * itself, and cli_print_diags sorts them all by place, as it does one pass's. Returns the
 * number of shares for n items (two from 2048): 1 is no shares, and the caller does the work
 * itself. */
static size_t shares_start(struct check_ctx *c, struct check_share *sh, const void *const *items, size_t n)
{
	size_t ns = pieces_count(n, 0, CHECK_SHARE_MIN, CHECK_SHARES_MAX);

	if (ns < 2)
		return 1;
	/* built once here, not raced for by the shares' first unknown function */
	func_names();
	for (size_t k = 0; k < ns; k++) {
		sh[k].c = *c;
		sh[k].c.steps = (struct buf)BUF_INIT;
		sh[k].c.edges = (struct buf)BUF_INIT;
		sh[k].c.edge_from = (struct buf)BUF_INIT;
		diag_init(&sh[k].diag);
		sh[k].c.diag = &sh[k].diag;
		sh[k].items = items;
		sh[k].from = n * k / ns;
		sh[k].to = n * (k + 1) / ns;
		sh[k].stacks = (struct buf)BUF_INIT;
	}
	return ns;
}

static void shares_finish(struct check_ctx *c, struct check_share *sh, size_t ns)
{
	for (size_t k = 0; k < ns; k++) {
		diag_append(c->diag, &sh[k].diag);
		diag_release(&sh[k].diag);
		buf_release(&sh[k].c.steps);
		buf_add(&c->edges, sh[k].c.edges.data, sh[k].c.edges.len);
		buf_add(&c->edge_from, sh[k].c.edge_from.data, sh[k].c.edge_from.len);
		buf_release(&sh[k].c.edges);
		buf_release(&sh[k].c.edge_from);
		buf_release(&sh[k].stacks);
	}
}

static int is_stack(const struct ast_item *it)
{
	return it->kind == AST_BLOCK && strcmp(it->name, "stack") == 0;
}

static void declare_item(struct check_ctx *c, const struct ast_item *it)
{
	if (it->kind == AST_ATTR) {
		diag_error(c->diag, &it->name_span, "'%s = ...' must be inside a block", it->name);
		diag_hint(c->diag, "put values in a locals { } block, or settings in their block");
		return;
	}
	declare(c, it);
}

static void *declare_share_run(void *arg)
{
	struct check_share *sh = arg;

	for (size_t i = sh->from; i < sh->to; i++) {
		if (is_stack(sh->items[i]))
			buf_push(&sh->stacks, const struct ast_item *, sh->items[i]);
		else
			declare_item(&sh->c, sh->items[i]);
	}
	return NULL;
}

/* Every declaration first, so that references may point forward and across files. In shares,
 * the declarations are registered afterwards in order, so the first of a name is the one kept,
 * and the stack blocks (of which one is allowed) are declared last, on their own. */
static void declare_all(struct check_ctx *c)
{
	struct check_share sh[CHECK_SHARES_MAX];
	struct buf items = BUF_INIT;
	size_t n, ns;

	for (size_t f = 0; f < config_nfiles(c->mod); f++) {
		const struct ast_body *body = &config_file(c->mod, f)->body;
		for (size_t i = 0; i < body->n; i++)
			buf_push(&items, const struct ast_item *, body->items[i]);
	}
	n = buf_count(&items, const struct ast_item *);
	/* most top-level blocks are resources */
	strmap_reserve(&c->decls[D_RESOURCE], n);
	ns = shares_start(c, sh, (const void *const *)(void *)items.data, n);
	if (ns == 1) {
		for (size_t i = 0; i < n; i++)
			declare_item(c, buf_at(&items, const struct ast_item *, i));
		goto out;
	}
	for (size_t k = 0; k < ns; k++) {
		sh[k].c.deferred = 1;
		sh[k].c.all = (struct buf)BUF_INIT;
	}
	pieces_run(declare_share_run, sh, sizeof sh[0], ns, 1);
	for (size_t k = 0; k < ns; k++) {
		for (size_t i = 0; i < buf_count(&sh[k].c.all, struct decl *); i++) {
			struct decl *d = buf_at(&sh[k].c.all, struct decl *, i);
			decl_register(c, d);
			buf_push(&c->all, struct decl *, d);
		}
		buf_release(&sh[k].c.all);
		for (size_t i = 0; i < buf_count(&sh[k].stacks, const struct ast_item *); i++)
			declare(c, buf_at(&sh[k].stacks, const struct ast_item *, i));
	}
	shares_finish(c, sh, ns);
out:
	buf_release(&items);
}

static void *check_share_run(void *arg)
{
	struct check_share *sh = arg;

	for (size_t i = sh->from; i < sh->to; i++)
		check_decl(&sh->c, sh->items[i]);
	return NULL;
}

/* Every declaration's body, once all are declared and the modules loaded. */
static void check_decls(struct check_ctx *c)
{
	struct check_share sh[CHECK_SHARES_MAX];
	size_t n = buf_count(&c->all, struct decl *);
	size_t ns = shares_start(c, sh, (const void *const *)(void *)c->all.data, n);

	if (ns == 1) {
		for (size_t i = 0; i < n; i++)
			check_decl(c, buf_at(&c->all, const struct decl *, i));
		return;
	}
	pieces_run(check_share_run, sh, sizeof sh[0], ns, 1);
	shares_finish(c, sh, ns);
}

/* The address an import block's to names, into a (initialized), or -1 after an error. With
 * for_each (sc), one instance key may be computed from each, the resource's or a module
 * call's: it is left out of a, and *computed is set (resource) or *step is the module step's
 * index (module.web[each.key]..., step 0; else -1). */
static int import_target(struct check_ctx *c, const struct ast_item *to, const struct scope *sc,
			 struct addr *a, int *computed, int *step)
{
	const struct ast_expr *e = to->value, *ix = NULL;
	const char *quoted = ast_static_string(e);
	char *text = quoted ? NULL : ast_traversal_text(e);
	int ret = -1;

	*computed = 0;
	*step = -1;
	if (text && strstr(text, "[...]") && sc->for_each && (ix = ast_traversal_computed(e))) {
		/* to = aws.subnet.s[each.key]: the key is planned, the resource checked here */
		free(text);
		text = ast_traversal_text_as(e, ix, "");
		check_expr(c, ix->u.index.key, sc);
		if (ix == e) {
			*computed = 1;
		} else {
			/* module.a.module.b[each.key]...: the steps up to the key's */
			char *steps = ast_traversal_text(ix->u.index.obj), *name;
			const char *p = steps, *rest;
			struct value *key;
			for (; p && *p && !addr_module_step(p, &name, &key, &rest); p = rest) {
				free(name);
				val_unref(key);
				++*step;
			}
			/* the key of something else than a module call: not an address */
			if (!p || *p)
				*step = -1;
			free(steps);
		}
	}
	if (quoted) {
		diag_error(c->diag, &e->span, "to takes an address, not a string");
		diag_hint(c->diag, "write to = %s, without the quotes", quoted);
	} else if (text && strstr(text, "[...]")) {
		diag_error(c->diag, &e->span, "the instance key in to must be written out");
		diag_hint(c->diag, "write a number or a quoted string, such as %.*s[0] or %.*s[\"a\"], or give "
			  "the block a for_each and write %.*s[each.key]", (int)strcspn(text, "["), text,
			  (int)strcspn(text, "["), text, (int)strcspn(text, "["), text);
	} else if (!text || addr_parse(a, text, NULL) || (*computed && a->key) || (ix && ix != e && *step < 0)) {
		diag_error(c->diag, &e->span, "to must be the address of a resource");
		diag_hint(c->diag, "such as to = aws.vpc.main, aws.subnet.a[0] or aws.subnet.b[\"x\"]");
	} else if (a->mode == ADDR_DATA) {
		diag_error(c->diag, &e->span, "a data source cannot be imported: it is read");
		diag_hint(c->diag, "import into a resource block: to = %s%s%s.%s", a->module, *a->module ? "." : "",
			  a->type, a->name);
	} else {
		ret = 0;
	}
	free(text);
	return ret;
}

/* Does key (NULL for none; computed: made by for_each) fit what, a resource or module call
 * with count or for_each (or neither)? rest: what follows what in the address, for the
 * hints. Returns -1 after an error at at. */
static int import_key_fits(struct check_ctx *c, const struct span *at, const char *what, const char *rest,
			   const struct value *key, int computed, const struct ast_item *count,
			   const struct ast_item *for_each)
{
	if ((key || computed) && !count && !for_each) {
		diag_error(c->diag, at, "%s has neither count nor for_each, so it has no instance keys", what);
		diag_hint(c->diag, "write to = %s%s", what, rest);
	} else if (key && (key->kind == VAL_NUMBER) != !!count) {
		diag_error(c->diag, at, "%s has %s, so its instance keys are %s", what,
			   count ? "count" : "for_each", count ? "numbers" : "strings");
		diag_hint(c->diag, count ? "write to = %s[0]%s" : "write to = %s[\"KEY\"]%s", what, rest);
	} else if (!key && !computed && (count || for_each)) {
		diag_error(c->diag, at, "%s has %s: import into one of its instances", what,
			   count ? "count" : "for_each");
		diag_hint(c->diag, count ? "write to = %s[0]%s" : "write to = %s[\"KEY\"]%s", what, rest);
	} else {
		return 0;
	}
	return -1;
}

/* The resource block TYPE NAME of module m, or NULL. */
static const struct ast_item *module_resource(const struct config_module *m, const char *type, const char *name)
{
	for (size_t f = 0; f < config_nfiles(m); f++) {
		const struct ast_body *body = &config_file(m, f)->body;
		for (size_t i = 0; i < body->n; i++) {
			const struct ast_item *it = body->items[i];
			if (it->kind == AST_BLOCK && !strcmp(it->name, "resource") && it->nlabels == 2 &&
			    !strcmp(it->labels[0].text, type) && !strcmp(it->labels[1].text, name))
				return it;
		}
	}
	return NULL;
}

/* The module an import block's to names a resource of (a->module, "" for the root), each
 * step a module the one before calls, with a key its count or for_each makes (that of step
 * computed_step is made by the block's for_each, and planned): what it
 * declares, or NULL (after an error at at, or for a module that did not load, whose error
 * is reported at its call). */
static const struct config_module *import_module(struct check_ctx *c, const struct span *at, const struct addr *a,
						 int computed_step)
{
	const struct config_module *m = c->mod;
	const struct modinfo *mi = NULL;
	const char *path = a->module, *rest;
	struct buf done = BUF_INIT;   /* the steps so far: "module.a[0].module.b" */

	for (int step = 0; *path && m; step++) {
		char *name;
		struct value *key;
		if (addr_module_step(path, &name, &key, &rest)) {
			m = NULL;
			break;
		}
		const struct decl *d = mi ? NULL : strmap_get(&c->decls[D_MODULE], name);
		const struct modinfo *next = mi ? strmap_get(&mi->calls, name) : d ? d->mod : NULL;
		size_t len = done.len;
		buf_printf(&done, "%smodule.%s", len ? "." : "", name);
		if (!next && !d) {
			if (len) {
				diag_error(c->diag, at, "%s is not declared: %.*s calls no module %s", done.data,
					   (int)len, done.data, name);
				diag_hint(c->diag, "call it with module %s { source = \"...\" } in the source of %.*s (%s)",
					  name, (int)len, done.data, m->dir);
			} else {
				diag_error(c->diag, at, "%s is not declared in the configuration", done.data);
				diag_hint(c->diag, "call it with module %s { source = \"...\" }, or import into a "
					  "resource of a module the configuration calls", name);
			}
			m = NULL;
		} else if (!next || !next->loaded) {
			m = NULL;
		} else {
			struct buf after = BUF_INIT;
			if (*rest)
				buf_printf(&after, ".%s", rest);
			buf_printf(&after, ".%s.%s", a->type, a->name);
			addr_format_key(a->key, &after);
			if (import_key_fits(c, at, done.data, after.data, key, step == computed_step, next->count,
					    next->for_each))
				m = NULL;
			else
				m = &next->cfg;
			buf_release(&after);
			addr_format_key(key, &done);
			mi = next;
		}
		free(name);
		val_unref(key);
		path = rest;
	}
	buf_release(&done);
	return m;
}

/* Records the instance a (to: where it is written) in seen, the imports' targets so far, or
 * reports the second import to it. */
static void import_once(struct check_ctx *c, const struct ast_item *to, const struct addr *a, struct strmap *seen)
{
	struct buf canon = BUF_INIT;
	const struct ast_item *first;

	addr_format(a, &canon);
	first = strmap_get(seen, canon.data);
	if (first) {
		diag_error(c->diag, &to->value->span, "%s is the target of two import blocks", canon.data);
		diag_hint(c->diag, "the first is at %s:%u:%u; keep one", first->value->span.src->name,
			  span_line(&first->value->span), span_col(&first->value->span));
	} else {
		strmap_put(seen, buf_detach(&canon, NULL), (void *)to);
	}
	buf_release(&canon);
}

/* An import to a root resource the configuration does not declare, under stk plan
 * -generate-config-out: the plan writes its block, which needs one instance of a type stk
 * knows. Terraform refuses to generate for for_each too. */
static void check_import_generated(struct check_ctx *c, const struct ast_item *to, const struct addr *a,
				   int keyed, struct strmap *seen)
{
	if (!schema_type_find(a->type, 0)) {
		diag_error(c->diag, &to->value->span, "stk knows no resource type %s to write a block for", a->type);
		diag_hint(c->diag, "the types are listed in docs/language.md, such as aws.vpc or host.file");
		return;
	}
	if (keyed || a->key) {
		diag_error(c->diag, &to->value->span, "stk writes a block only for an import to one resource, "
			   "with no instance key and no for_each");
		diag_hint(c->diag, "write resource %s %s { ... } with its count or for_each yourself, or import "
			  "to = %s.%s", a->type, a->name, a->type, a->name);
		return;
	}
	import_once(c, to, a, seen);
}

/* import { to = aws.vpc.main  id = "vpc-..." }: to is a resource (or one of its instances)
 * the root module declares, once among the import blocks (seen: the address -> the to that
 * named it first); id is an expression known at plan time. With for_each (Terraform 1.7),
 * each.key and each.value may make the instance key and the ID. */
static void check_import(struct check_ctx *c, const struct ast_item *b, struct strmap *seen)
{
	static const char *const import_attrs[] = { "to", "id", "for_each", NULL };
	const struct ast_item *to = NULL, *id = NULL, *fe = NULL;
	struct scope none = { 0 }, sc = { 0 };
	struct addr a;
	int computed, step;

	if (c->depth) {
		diag_error(c->diag, &b->name_span, "import blocks belong in the root module");
		diag_hint(c->diag, "move it to the root module, with to = a resource declared there");
		return;
	}
	if (b->nlabels) {
		diag_error(c->diag, &b->labels[0].span, "import takes no label");
		diag_hint(c->diag, "write import { to = aws.vpc.main  id = \"vpc-0123456789abcdef0\" }");
	}
	for (size_t i = 0; i < b->body.n; i++) {
		const struct ast_item *it = b->body.items[i];
		const char *s = diag_suggest(it->name, import_attrs);
		if (it->kind == AST_BLOCK) {
			diag_error(c->diag, &it->name_span, "import has no block '%s'", it->name);
			diag_hint(c->diag, "an import block takes to = ADDRESS, id = \"ID\" and for_each");
		} else if (!strcmp(it->name, "to") || !strcmp(it->name, "id") || !strcmp(it->name, "for_each")) {
			*(it->name[0] == 't' ? &to : it->name[0] == 'i' ? &id : &fe) = it;
		} else if (!strcmp(it->name, "provider")) {
			diag_error(c->diag, &it->name_span, "import takes no provider: the resource's own reads the object");
			diag_hint(c->diag, "set provider = ... in the resource block instead");
		} else {
			diag_error(c->diag, &it->name_span, "import has no argument '%s'", it->name);
			diag_hint(c->diag, s ? "did you mean %s?" : "an import block takes to = ADDRESS, id = \"ID\" "
				  "and for_each", s);
		}
	}
	if (fe) {
		check_expr(c, fe->value, &none);
		check_for_each_value(c, fe);
		sc.for_each = 1;
	}
	if (!id) {
		diag_error(c->diag, &b->name_span, "import needs id, the ID of the object to import");
		diag_hint(c->diag, "add id = \"...\", such as id = \"vpc-0123456789abcdef0\" for an aws.vpc");
	} else if (id->value->kind == AST_NULL || id->value->kind == AST_NUMBER || id->value->kind == AST_BOOL ||
		   id->value->kind == AST_LIST || id->value->kind == AST_OBJECT) {
		diag_error(c->diag, &id->value->span, "the import ID must be a string");
		diag_hint(c->diag, "write the object's ID in quotes, such as id = \"vpc-0123456789abcdef0\"");
	} else {
		check_expr(c, id->value, &sc);
	}
	if (!to) {
		diag_error(c->diag, &b->name_span, "import needs to, the address to import into");
		diag_hint(c->diag, "add to = TYPE.NAME, such as to = aws.vpc.main");
		return;
	}
	addr_init(&a);
	if (import_target(c, to, &sc, &a, &computed, &step))
		goto out;
	const struct config_module *m = import_module(c, &to->value->span, &a, step);
	if (!m)
		goto out;
	char *res = xasprintf("%s%s%s.%s", a.module, *a.module ? "." : "", a.type, a.name);
	/* the root's resources are declared in a map: a big root module has many */
	char *key = *a.module ? NULL : join_key(NULL, 0, a.type, a.name, NULL);
	const struct decl *d = key ? strmap_get(&c->decls[D_RESOURCE], key) : NULL;
	const struct ast_item *block = key ? (d ? d->item : NULL) : module_resource(m, a.type, a.name);
	free(key);
	if (!block && *a.module) {
		diag_error(c->diag, &to->value->span, "%s is not declared: %s declares no resource %s.%s", res,
			   a.module, a.type, a.name);
		diag_hint(c->diag, "write resource %s %s { ... } in the module's source (%s) to import into",
			  a.type, a.name, m->dir);
	} else if (!block && c->generating) {
		check_import_generated(c, to, &a, computed || fe, seen);
	} else if (!block) {
		diag_error(c->diag, &to->value->span, "%s is not declared in the configuration", res);
		diag_hint(c->diag, "write resource %s %s { ... } to import into, or let stk plan "
			  "-generate-config-out=FILE write it", a.type, a.name);
	} else if (import_key_fits(c, &to->value->span, res, "", a.key, computed, body_attr(&block->body, "count"),
				   body_attr(&block->body, "for_each")) == 0 && !computed && !fe) {
		/* the addresses for_each makes are compared when planned */
		import_once(c, to, &a, seen);
	}
	free(res);
out:
	addr_release(&a);
}

/* Every import block, once the resources are declared; a called module's are refused. */
static void check_imports(struct check_ctx *c)
{
	struct strmap seen;

	strmap_init(&seen);
	for (size_t f = 0; f < config_nfiles(c->mod); f++) {
		const struct ast_body *body = &config_file(c->mod, f)->body;
		for (size_t i = 0; i < body->n; i++)
			if (body->items[i]->kind == AST_BLOCK && !strcmp(body->items[i]->name, "import"))
				check_import(c, body->items[i], &seen);
	}
	for (size_t i = 0; i < seen.cap; i++)
		free((char *)seen.slots[i].key);
	strmap_release(&seen);
}

static int check_all(struct check_ctx *c)
{
	unsigned errors = c->diag->errors;
	int ret;

	for (int k = 0; k <= D_PROVIDER; k++)
		strmap_init(&c->decls[k]);
	declare_all(c);
	for (size_t i = 0; i < buf_count(&c->all, struct decl *); i++)
		buf_at(&c->all, struct decl *, i)->index = i;
	/* modules next: calls and references into them need their variables and outputs */
	for (size_t i = 0; i < buf_count(&c->all, struct decl *); i++) {
		struct decl *d = buf_at(&c->all, struct decl *, i);
		if (d->kind != D_MODULE || d->dup)
			continue;
		const struct ast_item *src = body_attr(&d->item->body, "source");
		d->meta.count = body_attr(&d->item->body, "count");
		d->meta.for_each = body_attr(&d->item->body, "for_each");
		if (src) {
			d->mod = load_module(c, d, src);
		} else {
			diag_error(c->diag, &d->item->name_span, "module %s needs a source", d->key);
			diag_hint(c->diag, "source = \"./modules/NAME\" or \"stdlib/NAME\"");
		}
	}
	check_decls(c);
	check_moved_blocks(c);
	if (c->stack)
		check_stack(c, c->stack);
	check_imports(c);
	/* on a module that checks clean: a body with errors may have no references where the
	 * walk sees one (a dynamic block's iterator named local, say) */
	if (c->cycles && c->diag->errors == errors)
		check_cycles(c);
	ret = c->diag->errors ? -1 : 0;
	for (size_t i = 0; i < buf_count(&c->all, struct decl *); i++) {
		struct decl *d = buf_at(&c->all, struct decl *, i);
		if (d->kind == D_MODULE && !d->dup && d->mod && c->into)
			strmap_put(&c->into->calls, xstrdup(d->key), d->mod);
		else
			modinfo_free(d->mod);
		free(d->key);
		free(d);
	}
	buf_release(&c->all);
	buf_release(&c->steps);
	buf_release(&c->edges);
	buf_release(&c->edge_from);
	for (int k = 0; k <= D_PROVIDER; k++)
		strmap_release(&c->decls[k]);
	return ret;
}

int check_module(struct diag_ctx *diag, const struct config_module *m)
{
	struct check_ctx c;

	memset(&c, 0, sizeof c);
	c.diag = diag;
	c.mod = m;
	return check_all(&c);
}

int check_module_moves(struct diag_ctx *diag, const struct config_module *m, struct moves *moves,
		       int generating)
{
	struct check_ctx c;

	memset(&c, 0, sizeof c);
	c.diag = diag;
	c.mod = m;
	c.moves = moves;
	c.generating = generating;
	return check_all(&c);
}

int check_module_cycles(struct diag_ctx *diag, const struct config_module *m)
{
	struct check_ctx c;

	memset(&c, 0, sizeof c);
	c.diag = diag;
	c.mod = m;
	c.cycles = 1;
	return check_all(&c);
}

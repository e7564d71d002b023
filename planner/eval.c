/* eval.c: the expression evaluator. Unknown and sensitive marks flow through every operation:
 * an operation on an unknown operand is unknown, and anything computed from a sensitive value
 * is sensitive. */
#include "planner/eval.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "parser/parse.h"
#include "providers/schema.h"
#include "stdlib/functions.h"

/* The innermost for-expression variables and dynamic block iterators (struct eval_iter),
 * and the splat element, bound while evaluating. */
struct frame {
	struct eval_ctx *ec;
	const struct eval_iter *iters;
	struct value *splat_item;
};

static struct value *eval(struct frame *f, const struct ast_expr *e);

/* ---- references ---- */

static const struct ast_expr *root_of(const struct ast_expr *e)
{
	for (;;) {
		switch (e->kind) {
		case AST_GETATTR: e = e->u.getattr.obj; break;
		case AST_INDEX: e = e->u.index.obj; break;
		default: return e;
		}
	}
}

/* The nth node from the root of a traversal ending at e (0 is the root), or NULL. */
static const struct ast_expr *nth_step(const struct ast_expr *e, size_t n, size_t *len)
{
	const struct ast_expr *chain[64];
	size_t k = 0;

	for (const struct ast_expr *x = e;; ) {
		if (k == 64)
			return NULL;
		chain[k++] = x;
		if (x->kind == AST_GETATTR)
			x = x->u.getattr.obj;
		else if (x->kind == AST_INDEX)
			x = x->u.index.obj;
		else
			break;
	}
	if (len)
		*len = k;
	return n < k ? chain[k - 1 - n] : NULL;
}

static const char *attr_name(const struct ast_expr *x)
{
	return x && x->kind == AST_GETATTR ? x->u.getattr.name : NULL;
}

const char *eval_workspace = "default";

int eval_split_ref(const struct ast_expr *e, struct eval_ref *ref)
{
	const struct ast_expr *root = root_of(e);
	size_t len = 0, need;
	const char *r;

	memset(ref, 0, sizeof *ref);
	if (root->kind != AST_VAR)
		return -1;
	nth_step(e, 0, &len);
	r = root->u.var.name;
	if (!strcmp(r, "var") || !strcmp(r, "local") || !strcmp(r, "each") || !strcmp(r, "count") ||
	    !strcmp(r, "path") || !strcmp(r, "stack") || !strcmp(r, "module") || !strcmp(r, "terraform")) {
		need = 1;
		/* terraform.workspace, as Terraform spells it, is stack.workspace */
		ref->kind = r[0] == 'v' ? REF_VAR : r[0] == 'l' ? REF_LOCAL : r[0] == 'e' ? REF_EACH :
			    r[0] == 'c' ? REF_COUNT : r[0] == 'p' ? REF_PATH : r[0] == 's' || r[0] == 't' ? REF_STACK :
			    REF_MODULE;
	} else if (!strcmp(r, "data")) {
		need = 3;
		ref->kind = REF_DATA;
	} else if (schema_provider_find(r)) {
		need = 2;
		ref->kind = REF_RESOURCE;
	} else {
		need = 0;
		ref->kind = REF_ITER;
	}
	/* module.web.url: the output is part of what a module reference names */
	if (ref->kind == REF_MODULE && len > 2 && attr_name(nth_step(e, 2, NULL)))
		need = 2;
	if (len < need + 1)
		return -1;
	/* at most three names: data.TYPE.NAME */
	const char *names[4];
	size_t lens[4], nn = 0, total = 0, first = ref->kind == REF_RESOURCE ? 0 : 1;
	char *k;
	if (ref->kind == REF_ITER)
		names[nn++] = r;
	for (size_t i = first; i <= need; i++) {
		const char *a = i == 0 ? r : attr_name(nth_step(e, i, NULL));
		if (!a)
			return -1;
		names[nn++] = a;
	}
	for (size_t i = 0; i < nn; i++)
		total += (lens[i] = strlen(names[i])) + 1;
	ref->key_space[0] = '\0';
	k = ref->key = total <= sizeof ref->key_space ? ref->key_space : xmalloc(total);
	for (size_t i = 0; i < nn; i++) {
		memcpy(k, names[i], lens[i]);
		k += lens[i];
		*k++ = i + 1 < nn ? '.' : '\0';
	}
	ref->expr = nth_step(e, need, NULL);
	ref->span = span_join(&root->span, &ref->expr->span);
	return 0;
}

void eval_ref_release(struct eval_ref *ref)
{
	if (ref->key != ref->key_space)
		free(ref->key);
	ref->key = NULL;
}

struct refs_walk {
	eval_ref_fn fn;
	void *arg;
	const struct eval_iter *iters;
};

static int is_iter(const struct eval_iter *it, const char *name)
{
	for (; it; it = it->next)
		if (!strcmp(it->name, name))
			return 1;
	return 0;
}

static void refs(struct refs_walk *w, const struct ast_expr *e)
{
	struct eval_ref ref;

	if (!e)
		return;
	switch (e->kind) {
	case AST_VAR:
	case AST_GETATTR:
	case AST_INDEX:
		if (eval_split_ref(e, &ref) == 0) {
			if (ref.kind != REF_ITER || !is_iter(w->iters, ref.key))
				w->fn(w->arg, &ref);
			eval_ref_release(&ref);
			/* keys inside the traversal may refer to things too */
			for (const struct ast_expr *x = e; x->kind == AST_GETATTR || x->kind == AST_INDEX;
			     x = x->kind == AST_GETATTR ? x->u.getattr.obj : x->u.index.obj)
				if (x->kind == AST_INDEX)
					refs(w, x->u.index.key);
			return;
		}
		if (e->kind == AST_GETATTR)
			refs(w, e->u.getattr.obj);
		else if (e->kind == AST_INDEX) {
			refs(w, e->u.index.obj);
			refs(w, e->u.index.key);
		}
		return;
	case AST_SPLAT:
		refs(w, e->u.splat.src);
		refs(w, e->u.splat.each);
		return;
	case AST_TEMPLATE:
		for (size_t i = 0; i < e->u.tmpl.n; i++)
			refs(w, e->u.tmpl.parts[i]);
		return;
	case AST_CALL:
		for (size_t i = 0; i < e->u.call.n; i++)
			refs(w, e->u.call.args[i]);
		return;
	case AST_LIST:
		for (size_t i = 0; i < e->u.list.n; i++)
			refs(w, e->u.list.items[i]);
		return;
	case AST_OBJECT:
		for (size_t i = 0; i < e->u.object.n; i++) {
			refs(w, e->u.object.items[i].key);
			refs(w, e->u.object.items[i].value);
		}
		return;
	case AST_UNARY:
		refs(w, e->u.unary.operand);
		return;
	case AST_BINARY:
		refs(w, e->u.binary.lhs);
		refs(w, e->u.binary.rhs);
		return;
	case AST_COND:
		refs(w, e->u.cond.cond);
		refs(w, e->u.cond.then);
		refs(w, e->u.cond.otherwise);
		return;
	case AST_PAREN:
		refs(w, e->u.paren.inner);
		return;
	case AST_FOR: {
		const struct ast_for *fo = e->u.for_;
		struct eval_iter k = { fo->key_var, NULL, w->iters };
		struct eval_iter v = { fo->val_var, NULL, fo->key_var ? &k : w->iters };
		const struct eval_iter *saved = w->iters;
		refs(w, fo->coll);
		w->iters = &v;
		refs(w, fo->key);
		refs(w, fo->value);
		refs(w, fo->cond);
		w->iters = saved;
		return;
	}
	default:
		return;
	}
}

void eval_references(const struct ast_expr *e, eval_ref_fn fn, void *arg)
{
	struct refs_walk w = { fn, arg, NULL };
	refs(&w, e);
}

static void body_refs(struct refs_walk *w, const struct ast_body *b)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct ast_item *it = b->items[i];
		if (it->kind == AST_ATTR) {
			refs(w, it->value);
			continue;
		}
		if (!eval_is_dynamic(it)) {
			body_refs(w, &it->body);
			continue;
		}
		/* a dynamic block's iterator is bound in its content only (its for_each sees the
		 * names around the block), and `iterator = NAME` names it: no reference */
		const struct eval_iter *saved = w->iters;
		const char *name = eval_dynamic_iterator(it);
		struct eval_iter bound = { name ? name : "", NULL, saved };
		for (size_t j = 0; j < it->body.n; j++) {
			const struct ast_item *x = it->body.items[j];
			if (x->kind == AST_ATTR) {
				if (!ast_same_name(x->name, "iterator"))
					refs(w, x->value);
				continue;
			}
			if (ast_same_name(x->name, "content"))
				w->iters = &bound;
			body_refs(w, &x->body);
			w->iters = saved;
		}
	}
}

void eval_body_references(const struct ast_body *b, eval_ref_fn fn, void *arg)
{
	struct refs_walk w = { fn, arg, NULL };
	body_refs(&w, b);
}

int eval_is_dynamic(const struct ast_item *it)
{
	return it->kind == AST_BLOCK && ast_same_name(it->name, "dynamic");
}

const char *eval_dynamic_iterator(const struct ast_item *dyn)
{
	const struct ast_item *it = ast_body_get(&dyn->body, AST_ATTR, "iterator");

	if (it)
		return it->value->kind == AST_VAR ? it->value->u.var.name : NULL;
	return dyn->nlabels ? dyn->labels[0].text : NULL;
}

/* ---- helpers ---- */

static struct value *err(struct frame *f, const struct ast_expr *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct value *err(struct frame *f, const struct ast_expr *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(f->ec->diag, DIAG_ERROR, &e->span, fmt, ap);
	va_end(ap);
	return NULL;
}

/* An unknown result, carrying the sensitivity of what it came from. */
static struct value *unknown_from(enum val_kind kind, unsigned marks)
{
	struct value *u = val_unknown(kind);
	if (marks & VAL_SENSITIVE) {
		struct value *m = val_mark(u, VAL_SENSITIVE);
		val_unref(u);
		u = m;
	}
	return u;
}

/* Takes r and returns it with marks added. */
static struct value *with_marks(struct value *r, unsigned marks)
{
	struct value *m;

	if (!r || !(marks & ~r->marks))
		return r;
	m = val_mark(r, marks);
	val_unref(r);
	return m;
}

static void describe(const struct value *v, struct buf *b)
{
	if (v->marks & VAL_SENSITIVE) {
		buf_addstr(b, "(sensitive value)");
		return;
	}
	if (v->kind == VAL_STRING && v->u.str.len > 40) {
		buf_addch(b, '"');
		buf_add(b, v->u.str.s, 37);
		buf_addstr(b, "...\"");
		return;
	}
	val_write(v, b);
}

/* ---- traversal steps ---- */

static struct value *get_attr(struct frame *f, const struct ast_expr *at, struct value *obj,
			      const char *name)
{
	unsigned m = obj->marks;
	struct value *r;

	if (obj->marks & VAL_UNKNOWN)
		return unknown_from(VAL_DYNAMIC, m);
	switch (obj->kind) {
	case VAL_MAP:
		r = val_map_get(obj, name);
		if (!r) {
			struct span ns = ast_name_span(at);
			diag_error(f->ec->diag, &ns, "this object has no attribute '%s'", name);
			return NULL;
		}
		return with_marks(val_ref(r), m & VAL_SENSITIVE);
	case VAL_LIST:
	case VAL_SET:
		diag_error(f->ec->diag, &at->span, "this is a list of %zu, not one object: pick one with [index] "
			   "before .%s, or use [*].%s", obj->u.list.n, name, name);
		return NULL;
	case VAL_NULL:
		return err(f, at, "cannot read .%s of null", name);
	default:
		return err(f, at, "cannot read .%s of a %s", name, val_kind_name((enum val_kind)obj->kind));
	}
}

static struct value *get_index(struct frame *f, const struct ast_expr *at, struct value *obj,
			       struct value *key)
{
	unsigned m = (obj->marks | key->marks);
	const char *why;
	struct value *r;

	if ((obj->marks | key->marks) & VAL_UNKNOWN)
		return unknown_from(VAL_DYNAMIC, m);
	switch (obj->kind) {
	case VAL_LIST: {
		double d;
		if (val_to_number(key, &d, &why))
			return err(f, at->u.index.key, "a list index must be a number: %s", why);
		if (d != floor(d) || d < 0 || d >= (double)obj->u.list.n) {
			if (obj->u.list.n == 0)
				return err(f, at->u.index.key, "index %g is out of range: the list is empty", d);
			return err(f, at->u.index.key, "index %g is out of range: the list has %zu element%s (0 to %zu)",
				   d, obj->u.list.n, obj->u.list.n == 1 ? "" : "s", obj->u.list.n - 1);
		}
		r = obj->u.list.items[(size_t)d];
		return with_marks(val_ref(r), m & VAL_SENSITIVE);
	}
	case VAL_MAP: {
		struct buf k = BUF_INIT;
		if (val_to_string(key, &k, &why)) {
			buf_release(&k);
			return err(f, at->u.index.key, "a map key must be a string: %s", why);
		}
		r = val_map_get(obj, buf_cstr(&k));
		if (!r) {
			diag_error(f->ec->diag, &at->u.index.key->span, "no element with the key \"%s\"",
				   (key->marks & VAL_SENSITIVE) ? "(sensitive value)" : k.data);
			buf_release(&k);
			return NULL;
		}
		buf_release(&k);
		return with_marks(val_ref(r), m & VAL_SENSITIVE);
	}
	case VAL_SET:
		return err(f, at, "a set has no order, so it cannot be indexed; convert it with tolist()");
	case VAL_NULL:
		return err(f, at, "cannot index null");
	default:
		return err(f, at, "cannot index a %s", val_kind_name((enum val_kind)obj->kind));
	}
}

static struct value *resolve(struct frame *f, const struct eval_ref *ref)
{
	struct eval_ctx *ec = f->ec;

	switch (ref->kind) {
	case REF_ITER:
		for (const struct eval_iter *it = f->iters; it; it = it->next)
			if (!strcmp(it->name, ref->key))
				return val_ref(it->val);
		break;
	case REF_EACH:
		if (!ec->each_key)
			return err(f, ref->expr, "each is only defined in a block with for_each");
		if (!strcmp(ref->key, "key"))
			return val_ref(ec->each_key);
		if (!strcmp(ref->key, "value"))
			return val_ref(ec->each_value);
		return err(f, ref->expr, "each has only each.key and each.value");
	case REF_COUNT:
		if (!ec->count_index)
			return err(f, ref->expr, "count.index is only defined in a block with count");
		if (!strcmp(ref->key, "index"))
			return val_ref(ec->count_index);
		return err(f, ref->expr, "count has only count.index");
	default:
		break;
	}
	if (!ec->resolve)
		return err(f, ref->expr, "'%s' cannot be used here", ref->key);
	return ec->resolve(ec, ref);
}

/* A traversal node: the reference's own part resolves through the planner; steps past it
 * apply to the value. */
static struct value *eval_traversal(struct frame *f, const struct ast_expr *e)
{
	struct eval_ref ref;
	struct value *obj, *key, *r;

	if (eval_split_ref(e, &ref) == 0 && ref.expr == e) {
		r = resolve(f, &ref);
		eval_ref_release(&ref);
		return r;
	}
	eval_ref_release(&ref);
	if (e->kind == AST_VAR)
		return err(f, e, "'%s' is not a value here", e->u.var.name);
	if (e->kind == AST_GETATTR) {
		obj = eval(f, e->u.getattr.obj);
		if (!obj)
			return NULL;
		r = get_attr(f, e, obj, e->u.getattr.name);
		val_unref(obj);
		return r;
	}
	obj = eval(f, e->u.index.obj);
	if (!obj)
		return NULL;
	key = eval(f, e->u.index.key);
	if (!key) {
		val_unref(obj);
		return NULL;
	}
	r = get_index(f, e, obj, key);
	val_unref(obj);
	val_unref(key);
	return r;
}

static struct value *eval_splat(struct frame *f, const struct ast_expr *e)
{
	struct value *src = eval(f, e->u.splat.src), *r = NULL;
	struct value *saved = f->splat_item;
	struct buf items = BUF_INIT;
	size_t n;

	if (!src)
		return NULL;
	if (src->marks & VAL_UNKNOWN) {
		r = unknown_from(VAL_LIST, src->marks);
		goto out;
	}
	if (src->kind == VAL_NULL) {
		r = val_empty_list();
		goto out;
	}
	/* a single object splats as a list of one, as in Terraform */
	if (src->kind != VAL_LIST && src->kind != VAL_SET) {
		f->splat_item = src;
		struct value *one = eval(f, e->u.splat.each);
		f->splat_item = saved;
		if (one)
			r = val_list_take(&one, 1);
		goto out;
	}
	n = src->u.list.n;
	for (size_t i = 0; i < n; i++) {
		f->splat_item = src->u.list.items[i];
		struct value *x = eval(f, e->u.splat.each);
		if (!x) {
			f->splat_item = saved;
			for (size_t k = 0; k < buf_count(&items, struct value *); k++)
				val_unref(buf_at(&items, struct value *, k));
			goto out;
		}
		buf_push(&items, struct value *, x);
	}
	f->splat_item = saved;
	r = val_list_take((struct value **)(void *)items.data, buf_count(&items, struct value *));
	r = with_marks(r, src->marks & VAL_SENSITIVE);
out:
	buf_release(&items);
	val_unref(src);
	return r;
}

/* ---- operators ---- */

static int want_number(struct frame *f, const struct ast_expr *e, const struct value *v,
		       const char *op, double *d)
{
	const char *why;

	if (val_to_number(v, d, &why) == 0)
		return 0;
	struct buf b = BUF_INIT;
	describe(v, &b);
	diag_error(f->ec->diag, &e->span, "'%s' needs numbers, and %s is not one: %s", op, b.data, why);
	buf_release(&b);
	return -1;
}

static int want_bool(struct frame *f, const struct ast_expr *e, const struct value *v,
		     const char *what, int *b)
{
	const char *why;

	if (val_to_bool(v, b, &why) == 0)
		return 0;
	struct buf d = BUF_INIT;
	describe(v, &d);
	diag_error(f->ec->diag, &e->span, "%s must be true or false, not %s", what, d.data);
	buf_release(&d);
	return -1;
}

static struct value *eval_binary(struct frame *f, const struct ast_expr *e)
{
	enum ast_op op = e->u.binary.op;
	struct value *a = eval(f, e->u.binary.lhs), *b = NULL, *r = NULL;
	unsigned m;
	double x, y;
	int p, q;

	if (!a)
		return NULL;
	b = eval(f, e->u.binary.rhs);
	if (!b)
		goto out;
	m = a->marks | b->marks;
	if (op == AST_OP_EQ || op == AST_OP_NE) {
		if ((a->marks | b->marks) & VAL_UNKNOWN) {
			r = unknown_from(VAL_BOOL, m);
			goto out;
		}
		/* values of different kinds are never equal: 1 == "1" is false, as in Terraform */
		int eq = val_equal(a, b);
		r = with_marks(val_bool(op == AST_OP_EQ ? eq : !eq), val_deep_marks(a) | val_deep_marks(b));
		goto out;
	}
	if (op == AST_OP_AND || op == AST_OP_OR) {
		if (!(a->marks & VAL_UNKNOWN) && want_bool(f, e->u.binary.lhs, a, "an operand of && and ||", &p))
			goto out;
		if (!(b->marks & VAL_UNKNOWN) && want_bool(f, e->u.binary.rhs, b, "an operand of && and ||", &q))
			goto out;
		if (m & VAL_UNKNOWN) {
			r = unknown_from(VAL_BOOL, m);
			goto out;
		}
		r = with_marks(val_bool(op == AST_OP_AND ? (p && q) : (p || q)), m);
		goto out;
	}
	if (m & VAL_UNKNOWN) {
		r = unknown_from(op >= AST_OP_LT && op <= AST_OP_GE ? VAL_BOOL : VAL_NUMBER, m);
		goto out;
	}
	if (want_number(f, e->u.binary.lhs, a, ast_op_text(op), &x) ||
	    want_number(f, e->u.binary.rhs, b, ast_op_text(op), &y))
		goto out;
	switch (op) {
	case AST_OP_ADD: r = val_number(x + y); break;
	case AST_OP_SUB: r = val_number(x - y); break;
	case AST_OP_MUL: r = val_number(x * y); break;
	case AST_OP_DIV:
		if (y == 0) {
			err(f, e->u.binary.rhs, "division by zero");
			goto out;
		}
		r = val_number(x / y);
		break;
	case AST_OP_MOD:
		if (y == 0) {
			err(f, e->u.binary.rhs, "modulo by zero");
			goto out;
		}
		r = val_number(fmod(x, y));
		break;
	case AST_OP_LT: r = val_bool(x < y); break;
	case AST_OP_LE: r = val_bool(x <= y); break;
	case AST_OP_GT: r = val_bool(x > y); break;
	case AST_OP_GE: r = val_bool(x >= y); break;
	default: break;
	}
	if (r && (isinf(r->u.n) || isnan(r->u.n)) && r->kind == VAL_NUMBER) {
		val_unref(r);
		r = err(f, e, "the result is out of range");
		goto out;
	}
	r = with_marks(r, m);
out:
	val_unref(a);
	val_unref(b);
	return r;
}

static struct value *eval_unary(struct frame *f, const struct ast_expr *e)
{
	struct value *a = eval(f, e->u.unary.operand), *r = NULL;
	double x;
	int b;

	if (!a)
		return NULL;
	if (a->marks & VAL_UNKNOWN) {
		r = unknown_from(e->u.unary.op == AST_OP_NOT ? VAL_BOOL : VAL_NUMBER, a->marks);
	} else if (e->u.unary.op == AST_OP_NOT) {
		if (want_bool(f, e->u.unary.operand, a, "the operand of !", &b) == 0)
			r = with_marks(val_bool(!b), a->marks);
	} else if (want_number(f, e->u.unary.operand, a, "-", &x) == 0) {
		r = with_marks(val_number(-x), a->marks);
	}
	val_unref(a);
	return r;
}

static struct value *eval_quietly(struct frame *f, const struct ast_expr *e, int *failed);

static int unifies(struct val_type *a, struct val_type *b)
{
	struct val_type *two[2] = { a, b }, *u = val_type_unify(two, 2);
	int ok = u != NULL;

	val_type_free(u);
	return ok;
}

/* Where the types of a conditional's true (a) and false (b) results part, as HCL's
 * describeConditionalTypeMismatch says it: an attribute only one has, the attribute or
 * element whose types do not unify, or else the two types. */
static void describe_mismatch(struct val_type *a, struct val_type *b, int names, struct buf *out)
{
	struct buf ta = BUF_INIT, tb = BUF_INIT;

	if (names && a->k == VT_OBJECT && b->k == VT_OBJECT) {
		for (int side = 0; side < 2; side++) {
			struct val_type *x = side ? b : a, *y = side ? a : b;
			for (size_t i = 0; i < x->n; i++) {
				size_t j = 0;
				while (j < y->n && strcmp(x->names[i], y->names[j]))
					j++;
				if (j == y->n) {
					buf_printf(out, "the %s result has the attribute \"%s\", which the %s "
						   "result lacks", side ? "false" : "true", x->names[i],
						   side ? "true" : "false");
					return;
				}
				if (!side && !unifies(x->sub[i], y->sub[j])) {
					buf_printf(out, "in the attribute \"%s\", ", x->names[i]);
					describe_mismatch(x->sub[i], y->sub[j], names, out);
					return;
				}
			}
		}
	}
	if (a->k == VT_TUPLE && b->k == VT_TUPLE) {
		if (a->n != b->n) {
			buf_printf(out, "the true result is a tuple of %zu elements, but the false result "
				   "one of %zu", a->n, b->n);
			return;
		}
		for (size_t i = 0; i < a->n; i++)
			if (!unifies(a->sub[i], b->sub[i])) {
				buf_printf(out, "in element %zu, ", i);
				describe_mismatch(a->sub[i], b->sub[i], names, out);
				return;
			}
	}
	val_type_name(a, &ta);
	val_type_name(b, &tb);
	buf_printf(out, "the true result is %s, but the false result is %s%s", buf_cstr(&ta),
		   buf_cstr(&tb), !names && a->k == VT_OBJECT && b->k == VT_OBJECT ?
		   " (a sensitive value's attributes are not named)" : "");
	buf_release(&ta);
	buf_release(&tb);
}

/* The type a conditional's result converts to, as HCL's ConditionalExpr finds it: the types
 * of both results unified (cty's UnifyUnsafe), so that true ? 1 : "x" is "1". A null or an
 * unknown of no known kind forces nothing, and neither does a result that fails to evaluate
 * (only the chosen one's errors count). Sets *t to NULL when there is nothing to convert;
 * returns -1 after an error when the types do not unify. */
static int cond_type(struct frame *f, const struct ast_expr *e, struct value *a, struct value *b,
		     struct val_type **t)
{
	struct val_type *tys[2] = { NULL, NULL };
	struct buf ta = BUF_INIT;
	int rc = 0;

	*t = NULL;
	if (!a || !b)
		return 0;
	tys[0] = val_type_of(a);
	tys[1] = val_type_of(b);
	if (tys[0]->k == VT_ANY || tys[1]->k == VT_ANY)
		goto out;
	*t = val_type_unify(tys, 2);
	if (*t)
		goto out;
	/* attribute names of a sensitive value are not shown: only the kinds are */
	describe_mismatch(tys[0], tys[1], !val_is_sensitive(a) && !val_is_sensitive(b), &ta);
	diag_error(f->ec->diag, &e->span, "inconsistent conditional result types: %s", buf_cstr(&ta));
	diag_hint(f->ec->diag, "both results must convert to one type; convert one of them, "
		  "for example with tostring() or tolist()");
	rc = -1;
out:
	buf_release(&ta);
	val_type_free(tys[0]);
	val_type_free(tys[1]);
	return rc;
}

static struct value *eval_cond(struct frame *f, const struct ast_expr *e)
{
	struct value *c = eval(f, e->u.cond.cond), *r = NULL, *res[2] = { NULL, NULL };
	struct val_type *t = NULL;
	struct buf why = BUF_INIT;
	int b = 0, failed, known, directive = ast_is_directive(e);

	if (!c)
		return NULL;
	known = !(c->marks & VAL_UNKNOWN);
	if (known && want_bool(f, e->u.cond.cond, c, directive ? "the condition of %{ if }" :
			       "the condition", &b))
		goto out;
	/* the chosen result is evaluated as usual, the other one quietly, for its type (an
	 * %{ if }'s are strings) */
	for (int i = 0; i < 2; i++) {
		const struct ast_expr *x = i ? e->u.cond.otherwise : e->u.cond.then;
		int chosen = known && b == !i;
		if (directive && !chosen)
			continue;
		res[i] = chosen ? eval(f, x) : eval_quietly(f, x, &failed);
		if (chosen && !res[i])
			goto out;
	}
	if (cond_type(f, e, res[0], res[1], &t))
		goto out;
	if (!known) {
		/* which result is unknown too; Terraform says the same */
		r = unknown_from(directive ? VAL_STRING : VAL_DYNAMIC, c->marks);
		goto out;
	}
	r = t ? val_convert(res[!b], t, &why) : val_ref(res[!b]);
	if (!r) {
		diag_error(f->ec->diag, &(b ? e->u.cond.then : e->u.cond.otherwise)->span,
			   "inconsistent conditional result types: the %s result has the wrong type: %s",
			   b ? "true" : "false", buf_cstr(&why));
		goto out;
	}
	r = with_marks(r, c->marks & VAL_SENSITIVE);
out:
	buf_release(&why);
	val_type_free(t);
	val_unref(res[0]);
	val_unref(res[1]);
	val_unref(c);
	return r;
}

static struct value *eval_template(struct frame *f, const struct ast_expr *e)
{
	struct buf out = BUF_INIT;
	unsigned m = 0;
	const char *why;

	/* "${expr}" and nothing else is expr's value, of its own type, as HCL's TemplateWrapExpr:
	 * "${1 + 1}" is the number 2, "${[1, 2]}" a list; a directive, or a directive's body, is
	 * always a string */
	if (e->u.tmpl.n == 1 && e->u.tmpl.parts[0]->kind != AST_STRING && !e->u.tmpl.body &&
	    !ast_is_directive(e->u.tmpl.parts[0]))
		return eval(f, e->u.tmpl.parts[0]);
	for (size_t i = 0; i < e->u.tmpl.n; i++) {
		const struct ast_expr *p = e->u.tmpl.parts[i];
		if (p->kind == AST_STRING) {
			buf_add(&out, p->u.string.s, p->u.string.len);
			continue;
		}
		struct value *v = eval(f, p);
		if (!v) {
			buf_release(&out);
			return NULL;
		}
		m |= val_deep_marks(v);
		if (!(v->marks & VAL_UNKNOWN) && val_to_string(v, &out, &why)) {
			err(f, p, "cannot put this value in a string: %s", why);
			val_unref(v);
			buf_release(&out);
			return NULL;
		}
		val_unref(v);
	}
	if (m & VAL_UNKNOWN) {
		buf_release(&out);
		return unknown_from(VAL_STRING, m);
	}
	size_t len = out.len;
	return with_marks(val_string_take(buf_detach(&out, NULL), len), m);
}

/* ---- calls ---- */

/* try() and can() see errors as results: they evaluate into a scratch diagnostics list. */
static struct value *eval_quietly(struct frame *f, const struct ast_expr *e, int *failed)
{
	struct diag_ctx quiet, *saved = f->ec->diag;
	struct value *v;

	diag_init(&quiet);
	f->ec->diag = &quiet;
	v = eval(f, e);
	f->ec->diag = saved;
	*failed = v == NULL || quiet.errors > 0;
	diag_release(&quiet);
	if (*failed && v) {
		val_unref(v);
		v = NULL;
	}
	return v;
}

static struct value *eval_try_can(struct frame *f, const struct ast_expr *e, int is_can)
{
	int failed;

	if (is_can) {
		if (e->u.call.n != 1)
			return err(f, e, "can takes 1 argument, not %u", (unsigned)e->u.call.n);
		struct value *v = eval_quietly(f, e->u.call.args[0], &failed);
		if (!failed && (v->marks & VAL_UNKNOWN)) {
			val_unref(v);
			return val_unknown(VAL_BOOL);
		}
		val_unref(v);
		return val_bool(!failed);
	}
	if (e->u.call.n == 0)
		return err(f, e, "try takes at least 1 argument");
	for (size_t i = 0; i < e->u.call.n; i++) {
		struct value *v = eval_quietly(f, e->u.call.args[i], &failed);
		if (!failed)
			return v;
	}
	return err(f, e, "try: every argument failed");
}

static struct value *template_file(struct func_call *fc, const char *path, const struct value *vars);
static struct value *template_string(struct func_call *fc, const char *text, size_t len,
				     const struct value *vars);
static struct value *tf_resolve(struct eval_ctx *ec, const struct eval_ref *ref);

/* Is e a reference as written, a name and its attributes and literal indexes? */
static int plain_reference(const struct ast_expr *e)
{
	for (;;) {
		switch (e->kind) {
		case AST_VAR:
			return 1;
		case AST_GETATTR:
			e = e->u.getattr.obj;
			break;
		case AST_INDEX:
			if (e->u.index.key->kind != AST_NUMBER && !ast_static_string(e->u.index.key))
				return 0;
			e = e->u.index.obj;
			break;
		default:
			return 0;
		}
	}
}

int eval_check_templatestring(struct diag_ctx *d, const struct ast_expr *call)
{
	if (strcmp(call->u.call.name, "templatestring") != 0 || call->u.call.n < 1 ||
	    call->u.call.expand || plain_reference(call->u.call.args[0]))
		return 0;
	const struct ast_expr *a = call->u.call.args[0];

	diag_error(d, &a->span, "templatestring's template must be a reference to a named value, "
		   "such as local.template, not an expression");
	if (a->kind == AST_STRING || a->kind == AST_TEMPLATE)
		diag_hint(d, "a literal template is a string already: write the string itself, with "
			  "its ${...}, instead of the call");
	else
		diag_hint(d, "give the template a name in locals, and pass local.NAME");
	return -1;
}

/* templatefile and templatestring, inside a template or with a template that is not a
 * reference: what Terraform refuses, with its reasons. Returns -1 after an error. */
static int template_call_allowed(struct frame *f, const struct ast_expr *e, const char *name)
{
	if (f->ec->resolve == tf_resolve) {
		/* a template calling its own file again would never end */
		err(f, e, "a template cannot call %s", name);
		return -1;
	}
	return eval_check_templatestring(f->ec->diag, e);
}

static struct value *eval_call(struct frame *f, const struct ast_expr *e)
{
	const struct func_sig *sig = func_find(e->u.call.name);
	struct buf args = BUF_INIT, spans = BUF_INIT;
	struct value *r = NULL;
	unsigned m = 0;
	size_t n;

	if (!sig) {
		struct span ns = ast_name_span(e);
		diag_error(f->ec->diag, &ns, "unknown function %s", e->u.call.name);
		return NULL;
	}
	if (!strcmp(sig->name, "try") || !strcmp(sig->name, "can"))
		return eval_try_can(f, e, sig->name[0] == 'c');
	if (!strncmp(sig->name, "template", 8) && template_call_allowed(f, e, sig->name))
		return NULL;
	for (size_t i = 0; i < e->u.call.n; i++) {
		const struct ast_expr *a = e->u.call.args[i];
		struct value *v = eval(f, a);
		if (!v)
			goto out;
		if (e->u.call.expand && i + 1 == e->u.call.n) {
			/* f(list...): the list's elements are the remaining arguments */
			if (v->marks & VAL_UNKNOWN) {
				m |= v->marks;
				val_unref(v);
				continue;
			}
			if (v->kind != VAL_LIST && v->kind != VAL_SET) {
				err(f, a, "only a list can be expanded with ...");
				val_unref(v);
				goto out;
			}
			for (size_t k = 0; k < v->u.list.n; k++) {
				buf_push(&args, struct value *, with_marks(val_ref(v->u.list.items[k]),
									    v->marks));
				buf_push(&spans, struct span, a->span);
			}
			val_unref(v);
			continue;
		}
		buf_push(&args, struct value *, v);
		buf_push(&spans, struct span, a->span);
	}
	n = buf_count(&args, struct value *);
	for (size_t i = 0; i < n; i++)
		m |= val_deep_marks(buf_at(&args, struct value *, i));
	if ((m & VAL_UNKNOWN) && !(sig->flags & FUNC_TAKES_UNKNOWN)) {
		r = unknown_from(VAL_DYNAMIC, m);
		goto out;
	}
	if ((int)n < sig->min_args || (sig->max_args >= 0 && (int)n > sig->max_args)) {
		err(f, e, "%s takes %s%d argument%s, not %zu", sig->name,
		    sig->min_args == sig->max_args ? "" : (int)n < sig->min_args ? "at least " : "at most ",
		    (int)n < sig->min_args ? sig->min_args : sig->max_args,
		    ((int)n < sig->min_args ? sig->min_args : sig->max_args) == 1 ? "" : "s", n);
		goto out;
	}
	if (!sig->impl) {
		err(f, e, "%s cannot be called here", sig->name);
		goto out;
	}
	struct func_call fc = {
		.diag = f->ec->diag,
		.span = &e->span,
		.arg_spans = (const struct span *)(void *)spans.data,
		.base_dir = f->ec->module_dir,
		.render_template = template_file,
		.render_string = template_string,
		.evaluator = f->ec,
	};
	char *tname = !strcmp(sig->name, "templatestring") ? ast_traversal_text(e->u.call.args[0]) : NULL;
	fc.template_name = tname;
	r = sig->impl(&fc, (struct value **)(void *)args.data, n);
	free(tname);
	if (!(sig->flags & FUNC_KEEPS_MARKS))
		r = with_marks(r, m & VAL_SENSITIVE);
out:
	for (size_t i = 0; i < buf_count(&args, struct value *); i++)
		val_unref(buf_at(&args, struct value *, i));
	buf_release(&args);
	buf_release(&spans);
	return r;
}

/* ---- collections ---- */

static struct value *eval_list(struct frame *f, const struct ast_expr *e)
{
	struct value **items = xcalloc(e->u.list.n ? e->u.list.n : 1, sizeof *items);
	struct value *r;

	for (size_t i = 0; i < e->u.list.n; i++) {
		items[i] = eval(f, e->u.list.items[i]);
		if (!items[i]) {
			for (size_t k = 0; k < i; k++)
				val_unref(items[k]);
			free(items);
			return NULL;
		}
	}
	r = val_list_take(items, e->u.list.n);
	free(items);
	return r;
}

static char *key_string(struct frame *f, const struct ast_expr *at, struct value *k, unsigned *m)
{
	struct buf b = BUF_INIT;
	const char *why;

	*m |= k->marks;
	if (k->marks & VAL_UNKNOWN)
		return NULL;
	if (val_to_string(k, &b, &why)) {
		buf_release(&b);
		err(f, at, "a map key must be a string: %s", why);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

static struct value *eval_object(struct frame *f, const struct ast_expr *e)
{
	struct val_pair *items = xcalloc(e->u.object.n ? e->u.object.n : 1, sizeof *items);
	size_t n = 0;
	unsigned m = 0;
	struct value *r = NULL;

	for (size_t i = 0; i < e->u.object.n; i++) {
		const struct ast_object_item *oi = &e->u.object.items[i];
		struct value *k = eval(f, oi->key);
		if (!k)
			goto fail;
		char *ks = key_string(f, oi->key, k, &m);
		val_unref(k);
		if (!ks) {
			if (m & VAL_UNKNOWN)
				continue;
			goto fail;
		}
		struct value *v = eval(f, oi->value);
		if (!v) {
			free(ks);
			goto fail;
		}
		items[n].key = ks;
		items[n].val = v;
		n++;
	}
	/* a key not known yet makes the whole map unknown */
	if (m & VAL_UNKNOWN) {
		r = unknown_from(VAL_MAP, m);
		goto fail;
	}
	r = val_map_take(items, n);
	free(items);
	return with_marks(r, m & VAL_SENSITIVE);
fail:
	for (size_t i = 0; i < n; i++) {
		free(items[i].key);
		val_unref(items[i].val);
	}
	free(items);
	return r;
}

/* Takes the strings of an %{ for }'s body, one per element, and gives them joined: unknown if
 * any is, and marked as any is. */
static struct value *join_strings(struct value *list)
{
	struct buf out = BUF_INIT;
	unsigned m = list->marks;
	size_t len;

	for (size_t i = 0; i < list->u.list.n; i++) {
		const struct value *v = list->u.list.items[i];
		m |= val_deep_marks(v);
		if (v->kind == VAL_STRING && !(v->marks & VAL_UNKNOWN))
			buf_add(&out, v->u.str.s, v->u.str.len);
	}
	val_unref(list);
	if (m & VAL_UNKNOWN) {
		buf_release(&out);
		return unknown_from(VAL_STRING, m);
	}
	len = out.len;
	return with_marks(val_string_take(buf_detach(&out, NULL), len), m);
}

/* A collection to iterate over (a for expression's, a dynamic block's): *coll is a known
 * list, set or map, else an error at `at` (-1). The elements of a sensitive collection are
 * marked, since each is as secret as it: messages about what is done with one must not show
 * it. */
static int iterable(struct frame *f, const struct ast_expr *at, struct value **coll, const char *what)
{
	struct value *c = *coll;

	if (c->kind != VAL_LIST && c->kind != VAL_SET && c->kind != VAL_MAP) {
		struct buf d = BUF_INIT;
		describe(c, &d);
		err(f, at, "%s needs a list, set or map, not %s", what, d.data);
		buf_release(&d);
		return -1;
	}
	if (c->marks & VAL_SENSITIVE) {
		*coll = val_mark_elements(c, VAL_SENSITIVE);
		val_unref(c);
	}
	return 0;
}

/* The i-th element of an iterable() collection (borrowed), and its key (a new reference): a
 * list's index, a set's element itself, a map's key (as secret as the map), as Terraform has
 * them. */
static struct value *iter_elem(const struct value *coll, size_t i, struct value **key)
{
	struct value *k = coll->kind == VAL_MAP ? val_cstring(coll->u.map.items[i].key) :
			  coll->kind == VAL_LIST ? val_number((double)i) :
			  val_ref(coll->u.list.items[i]);

	if (coll->kind == VAL_MAP && (coll->marks & VAL_SENSITIVE)) {
		struct value *m = val_mark(k, VAL_SENSITIVE);
		val_unref(k);
		k = m;
	}
	*key = k;
	return coll->kind == VAL_MAP ? coll->u.map.items[i].val : coll->u.list.items[i];
}

static struct value *eval_for(struct frame *f, const struct ast_expr *e)
{
	const struct ast_for *fo = e->u.for_;
	struct value *coll = eval(f, fo->coll), *r = NULL;
	struct buf keys = BUF_INIT, vals = BUF_INIT;
	const struct eval_iter *saved = f->iters;
	size_t n;

	if (!coll)
		return NULL;
	if (coll->marks & VAL_UNKNOWN) {
		r = unknown_from(fo->tmpl ? VAL_STRING : fo->is_map ? VAL_MAP : VAL_LIST, coll->marks);
		goto out;
	}
	if (iterable(f, fo->coll, &coll, fo->tmpl ? "%{ for }" : "a for expression"))
		goto out;
	n = coll->kind == VAL_MAP ? coll->u.map.n : coll->u.list.n;
	for (size_t i = 0; i < n; i++) {
		struct value *k;
		struct value *v = iter_elem(coll, i, &k);
		struct eval_iter ik = { fo->key_var, k, saved };
		struct eval_iter iv = { fo->val_var, v, fo->key_var ? &ik : saved };
		f->iters = &iv;
		if (fo->cond) {
			struct value *c = eval(f, fo->cond);
			int b;
			if (!c || (!(c->marks & VAL_UNKNOWN) && want_bool(f, fo->cond, c, "a for expression's if", &b))) {
				val_unref(c);
				val_unref(k);
				goto fail;
			}
			if (c->marks & VAL_UNKNOWN) {
				val_unref(c);
				val_unref(k);
				f->iters = saved;
				r = unknown_from(fo->is_map ? VAL_MAP : VAL_LIST, 0);
				goto fail;
			}
			val_unref(c);
			if (!b) {
				val_unref(k);
				continue;
			}
		}
		if (fo->is_map) {
			struct value *kv = eval(f, fo->key);
			if (!kv) {
				val_unref(k);
				goto fail;
			}
			buf_push(&keys, struct value *, kv);
		}
		struct value *vv = eval(f, fo->value);
		val_unref(k);
		if (!vv)
			goto fail;
		buf_push(&vals, struct value *, vv);
	}
	f->iters = saved;
	n = buf_count(&vals, struct value *);
	if (!fo->is_map) {
		r = val_list_take((struct value **)(void *)vals.data, n);
		vals.len = 0;
		if (fo->tmpl)
			r = join_strings(r);
		goto done;
	}
	/* the map form: keys must be strings and unique, unless grouping with ... */
	{
		struct val_pair *pairs = xcalloc(n ? n : 1, sizeof *pairs);
		size_t np = 0;
		unsigned m = 0;
		for (size_t i = 0; i < n; i++) {
			struct value *kv = buf_at(&keys, struct value *, i);
			struct value *vv = buf_at(&vals, struct value *, i);
			char *ks = key_string(f, fo->key, kv, &m);
			if (!ks) {
				if (m & VAL_UNKNOWN)
					continue;
				goto map_fail;
			}
			size_t j;
			for (j = 0; j < np && strcmp(pairs[j].key, ks); j++)
				;
			if (j < np && !fo->group) {
				if (kv->marks & VAL_SENSITIVE)
					err(f, fo->key, "two elements have the same key (a sensitive value); add ... "
					    "after the value to group them into lists");
				else
					err(f, fo->key, "two elements have the key \"%s\"; add ... after the value "
					    "to group them into lists", ks);
				free(ks);
				goto map_fail;
			}
			if (fo->group) {
				if (j == np) {
					pairs[np].key = ks;
					pairs[np].val = val_empty_list();
					np++;
				} else {
					free(ks);
				}
				struct value *old = pairs[j].val;
				struct value **items = xmalloc((old->u.list.n + 1) * sizeof *items);
				for (size_t q = 0; q < old->u.list.n; q++)
					items[q] = val_ref(old->u.list.items[q]);
				items[old->u.list.n] = val_ref(vv);
				pairs[j].val = val_list_take(items, old->u.list.n + 1);
				free(items);
				val_unref(old);
			} else {
				pairs[np].key = ks;
				pairs[np].val = val_ref(vv);
				np++;
			}
		}
		if (m & VAL_UNKNOWN) {
			for (size_t i = 0; i < np; i++) {
				free(pairs[i].key);
				val_unref(pairs[i].val);
			}
			free(pairs);
			r = unknown_from(VAL_MAP, m);
			goto fail;
		}
		r = val_map_take(pairs, np);
		free(pairs);
		/* a key from a sensitive value would show it: the whole map is sensitive */
		r = with_marks(r, m & VAL_SENSITIVE);
		goto fail;   /* frees keys and vals, which the map holds references to */
map_fail:
		for (size_t i = 0; i < np; i++) {
			free(pairs[i].key);
			val_unref(pairs[i].val);
		}
		free(pairs);
	}
fail:
	f->iters = saved;
	for (size_t i = 0; i < buf_count(&vals, struct value *); i++)
		val_unref(buf_at(&vals, struct value *, i));
done:
	for (size_t i = 0; i < buf_count(&keys, struct value *); i++)
		val_unref(buf_at(&keys, struct value *, i));
	buf_release(&keys);
	buf_release(&vals);
	if (r)
		r = with_marks(r, coll->marks & VAL_SENSITIVE);
out:
	val_unref(coll);
	return r;
}

/* ---- dispatch ---- */

static struct value *eval(struct frame *f, const struct ast_expr *e)
{
	switch (e->kind) {
	case AST_ERROR:
		return err(f, e, "this expression has a syntax error");
	case AST_NULL:
		return val_null();
	case AST_BOOL:
		return val_bool(e->u.boolean);
	case AST_NUMBER:
		return val_number(e->u.number);
	case AST_STRING:
		return val_string(e->u.string.s, e->u.string.len);
	case AST_TEMPLATE:
		return eval_template(f, e);
	case AST_VAR:
	case AST_GETATTR:
	case AST_INDEX:
		return eval_traversal(f, e);
	case AST_SPLAT:
		return eval_splat(f, e);
	case AST_SPLAT_ITEM:
		if (!f->splat_item)
			return err(f, e, "[*] is not allowed here");
		return val_ref(f->splat_item);
	case AST_CALL:
		return eval_call(f, e);
	case AST_LIST:
		return eval_list(f, e);
	case AST_OBJECT:
		return eval_object(f, e);
	case AST_UNARY:
		return eval_unary(f, e);
	case AST_BINARY:
		return eval_binary(f, e);
	case AST_COND:
		return eval_cond(f, e);
	case AST_FOR:
		return eval_for(f, e);
	case AST_PAREN:
		return eval(f, e->u.paren.inner);
	case AST_TMPL_MARK:
		break;
	}
	return err(f, e, "cannot evaluate this expression");
}

struct value *eval_expr(struct eval_ctx *ec, const struct ast_expr *e)
{
	struct frame f = { ec, ec->iters, NULL };
	return eval(&f, e);
}

int eval_dynamic(struct eval_ctx *ec, const struct ast_item *dyn, eval_content_fn fn, void *arg,
		 unsigned *marks)
{
	const struct ast_item *fe = ast_body_get(&dyn->body, AST_ATTR, "for_each");
	const struct ast_item *content = ast_body_get(&dyn->body, AST_BLOCK, "content");
	const struct eval_iter *saved = ec->iters;
	struct frame f = { ec, ec->iters, NULL };
	struct value *coll;
	size_t n;
	int ret = -1;

	*marks = 0;
	/* stk validate has said so with a hint; this keeps the planner safe without it */
	if (!fe || !content || !eval_dynamic_iterator(dyn) || dyn->nlabels != 1) {
		diag_error(ec->diag, &dyn->name_span, "this dynamic block needs a label, for_each and content");
		return -1;
	}
	coll = eval(&f, fe->value);
	if (!coll)
		return -1;
	*marks = coll->marks & (VAL_UNKNOWN | VAL_SENSITIVE);
	if (coll->marks & VAL_UNKNOWN) {
		/* how many blocks is not known: the caller makes the blocks of this type unknown */
		ret = 0;
		goto out;
	}
	if (coll->kind == VAL_NULL) {
		err(&f, fe->value, "a dynamic block's for_each cannot be null");
		diag_hint(ec->diag, "give an empty list, [], for no %s block", dyn->labels[0].text);
		goto out;
	}
	if (iterable(&f, fe->value, &coll, "a dynamic block's for_each"))
		goto out;
	n = coll->kind == VAL_MAP ? coll->u.map.n : coll->u.list.n;
	for (size_t i = 0; i < n; i++) {
		struct value *k;
		struct value *v = iter_elem(coll, i, &k);
		/* ITER.key and ITER.value, keys in byte order as a map keeps them */
		struct val_pair kv[2] = { { (char *)"key", k }, { (char *)"value", val_ref(v) } };
		struct eval_iter bound = { eval_dynamic_iterator(dyn), val_map_take_static(kv, 2), saved };
		ec->iters = &bound;
		int r = fn(arg, ec, &content->body);
		ec->iters = saved;
		val_unref(bound.val);
		if (r)
			goto out;
	}
	ret = 0;
out:
	val_unref(coll);
	return ret;
}

/* templatefile(path, vars): the file is a template (text with ${...}) whose variables are the
 * keys of vars, and nothing else. */
static struct value *tf_resolve(struct eval_ctx *ec, const struct eval_ref *ref)
{
	const struct value *vars = ec->planner;
	struct value *v = ref->kind == REF_ITER ? val_map_get(vars, ref->key) : NULL;

	if (!v) {
		diag_error(ec->diag, &ref->span, "the template has no variable %s", ref->key);
		diag_hint(ec->diag, "a template sees only the variables passed to it, in the call's "
			  "second argument");
		return NULL;
	}
	return val_ref(v);
}

/* Messages about a template file parsed in its wrapper (template_file): what the parser found
 * past the file's own text, at the wrapper's last line, is about the end of the file. The first
 * such message is put there and says so; the ones after it only echo it. */
#define TEMPLATE_END "STK_TEMPLATE_EOF"

static void template_messages(struct diag_ctx *d, const struct source *wrapped, uint32_t own_end)
{
	size_t w = 0, n = buf_count(&d->diags, struct diag);
	int past = 0;

	for (size_t i = 0; i < n; i++) {
		struct diag x = buf_at(&d->diags, struct diag, i);
		if (x.span.src == wrapped && x.span.off >= own_end) {
			if (past++) {
				if (x.severity == DIAG_ERROR)
					d->errors--;
				free(x.message);
				free(x.hint);
				continue;
			}
			x.span.off = x.span.end = own_end ? own_end - 1 : 0;
			char *at = strstr(x.message, "'" TEMPLATE_END "'");
			if (at) {
				char *m = xasprintf("%.*sthe end of the file%s", (int)(at - x.message), x.message,
						    at + sizeof TEMPLATE_END + 1);
				free(x.message);
				x.message = m;
			}
		}
		buf_at(&d->diags, struct diag, w++) = x;
	}
	d->diags.len = w * sizeof(struct diag);
}

/* The heredoc that wraps a template file adds a final newline the file may not have had: the
 * literal that ends at it loses it, unless a strip marker ~} before it took it already. */
static void drop_wrapper_newline(struct ast_expr *e, uint32_t own_end)
{
	struct ast_expr *last = e;

	if (e->kind == AST_TEMPLATE) {
		if (!e->u.tmpl.n)
			return;
		last = e->u.tmpl.parts[e->u.tmpl.n - 1];
		if (last->kind != AST_STRING || last->span.end != own_end)
			return;
	} else if (e->kind != AST_STRING) {
		return;
	}
	if (last->u.string.len && last->u.string.s[last->u.string.len - 1] == '\n')
		last->u.string.s[--last->u.string.len] = '\0';
}

/* The text of a template file or string, rendered with vars: it is the inside of a heredoc,
 * wrapped and parsed as one; messages name it name, with its own lines. */
static struct value *template_text(struct func_call *fc, const char *name, const char *text,
				   size_t len, const struct value *vars)
{
	struct eval_ctx *outer = fc->evaluator;
	struct eval_ctx inner;
	struct value *r = NULL;
	struct buf wrap = BUF_INIT;
	struct diag_ctx parsed;
	struct source *wrapped;
	struct ast_file *af;
	uint32_t own_end;
	int ends_line = len && text[len - 1] == '\n', bad;

	buf_addstr(&wrap, "v = <<" TEMPLATE_END "\n");
	buf_add(&wrap, text, len);
	if (!ends_line && len)
		buf_addch(&wrap, '\n');
	own_end = (uint32_t)wrap.len;
	buf_addstr(&wrap, TEMPLATE_END "\n");
	len = wrap.len;
	wrapped = diag_add_source(fc->diag, name, buf_detach(&wrap, NULL), len);
	/* messages give the template's own line numbers, not the wrapper's */
	wrapped->hidden = 1;
	diag_init(&parsed);
	af = parse_source(&parsed, wrapped, 0);
	template_messages(&parsed, wrapped, own_end);
	/* a template with syntax errors has nothing more to say */
	bad = parsed.errors > 0;
	diag_append(fc->diag, &parsed);
	diag_release(&parsed);
	if (!bad && af->body.n == 1 && af->body.items[0]->kind == AST_ATTR) {
		memset(&inner, 0, sizeof inner);
		inner.diag = fc->diag;
		inner.module_dir = outer ? outer->module_dir : NULL;
		inner.resolve = tf_resolve;
		inner.planner = (void *)vars;
		if (!ends_line)
			drop_wrapper_newline(af->body.items[0]->value, own_end);
		r = eval_expr(&inner, af->body.items[0]->value);
	}
	ast_file_free(af);
	return r;
}

static struct value *template_file(struct func_call *fc, const char *path, const struct value *vars)
{
	struct source *src;
	char *full;

	if (vars->kind != VAL_MAP) {
		diag_error(fc->diag, &fc->arg_spans[1], "templatefile: vars must be a map");
		return NULL;
	}
	full = path[0] == '/' || !fc->base_dir || !strcmp(fc->base_dir, ".") ? xstrdup(path) :
	       xasprintf("%s/%s", fc->base_dir, path);
	src = diag_read_source(fc->diag, full);
	free(full);
	if (!src)
		return NULL;
	return template_text(fc, src->name, src->text, src->len, vars);
}

/* templatestring(ref, vars): the template is the value of a reference, which names it */
static struct value *template_string(struct func_call *fc, const char *text, size_t len,
				     const struct value *vars)
{
	return template_text(fc, fc->template_name ? fc->template_name : "templatestring", text, len,
			     vars);
}

/* ---- type constraints ---- */

static struct value *convert(struct eval_ctx *ec, struct value *v, const struct ast_expr *t,
			     const struct span *where, const char *what);

static struct value *convert_fail(struct eval_ctx *ec, const struct span *where, const char *what,
				  const char *want, const struct value *v)
{
	struct buf d = BUF_INIT;

	if (v->marks & VAL_SENSITIVE)
		buf_addstr(&d, "a sensitive value");
	else if (v->kind == VAL_STRING || v->kind == VAL_NUMBER || v->kind == VAL_BOOL)
		describe(v, &d);
	else
		buf_printf(&d, "a %s", val_kind_name((enum val_kind)v->kind));
	diag_error(ec->diag, where, "%s must be %s, not %s", what, want, d.data);
	buf_release(&d);
	return NULL;
}

/* convert() of an element x of v: an element of a sensitive value is sensitive too, so that a
 * message about it shows neither it nor (in a map) its key */
static struct value *convert_item(struct eval_ctx *ec, const struct value *v, struct value *x,
				  const struct ast_expr *t, const struct span *where, const char *sub)
{
	struct value *m, *r;

	if (!(v->marks & VAL_SENSITIVE))
		return convert(ec, x, t, where, sub);
	m = val_mark(x, VAL_SENSITIVE);
	r = convert(ec, m, t, where, sub);
	val_unref(m);
	return r;
}

static struct value *convert_elems(struct eval_ctx *ec, struct value *v, const struct ast_expr *et,
				   const struct span *where, const char *what, enum val_kind to)
{
	size_t n = v->kind == VAL_MAP ? v->u.map.n : v->u.list.n;
	struct value *r;

	if (to == VAL_MAP) {
		struct val_pair *p = xcalloc(n ? n : 1, sizeof *p);
		for (size_t i = 0; i < n; i++) {
			char *sub = (v->marks & VAL_SENSITIVE) ? xstrdup(what) :
				    xasprintf("%s[\"%s\"]", what, v->u.map.items[i].key);
			p[i].val = convert_item(ec, v, v->u.map.items[i].val, et, where, sub);
			free(sub);
			if (!p[i].val) {
				for (size_t k = 0; k < i; k++) {
					free(p[k].key);
					val_unref(p[k].val);
				}
				free(p);
				return NULL;
			}
			p[i].key = xstrdup(v->u.map.items[i].key);
		}
		r = val_map_take(p, n);
		free(p);
	} else {
		struct value **items = xcalloc(n ? n : 1, sizeof *items);
		for (size_t i = 0; i < n; i++) {
			char *sub = xasprintf("%s[%zu]", what, i);
			items[i] = convert_item(ec, v, v->u.list.items[i], et, where, sub);
			free(sub);
			if (!items[i]) {
				for (size_t k = 0; k < i; k++)
					val_unref(items[k]);
				free(items);
				return NULL;
			}
		}
		r = to == VAL_SET ? val_set_take(items, n) : val_list_take(items, n);
		free(items);
	}
	return with_marks(r, v->marks);
}

/* Whether a type constraint has any in it. */
static int type_has_any(const struct ast_expr *t)
{
	if (t->kind == AST_VAR)
		return !strcmp(t->u.var.name, "any");
	if (t->kind == AST_CALL) {
		for (size_t i = 0; i < t->u.call.n; i++)
			if (type_has_any(t->u.call.args[i]))
				return 1;
	} else if (t->kind == AST_LIST) {
		for (size_t i = 0; i < t->u.list.n; i++)
			if (type_has_any(t->u.list.items[i]))
				return 1;
	} else if (t->kind == AST_OBJECT) {
		for (size_t i = 0; i < t->u.object.n; i++)
			if (type_has_any(t->u.object.items[i].value))
				return 1;
	}
	return 0;
}

/* Takes r, a list, set or map converted element by element to et, and when et has any in it
 * gives its elements the one type they unify to, as cty does: list(any) of [1, "a"] is
 * ["1", "a"], and of [1, true] an error. */
static struct value *unify_elems(struct eval_ctx *ec, struct value *r, const struct ast_expr *et,
				 const struct span *where, const char *what)
{
	struct val_type *el = NULL, *t = NULL;
	struct value **vals, *u = NULL;
	size_t n;

	if (!r || !type_has_any(et))
		return r;
	n = r->kind == VAL_MAP ? r->u.map.n : r->u.list.n;
	vals = xcalloc(n + 1, sizeof *vals);
	for (size_t i = 0; i < n; i++)
		vals[i] = r->kind == VAL_MAP ? r->u.map.items[i].val : r->u.list.items[i];
	el = val_type_unify_values(vals, n);
	free(vals);
	if (!el) {
		const char *kind = r->kind == VAL_MAP ? "map" : r->kind == VAL_SET ? "set" : "list";
		diag_error(ec->diag, where, "%s: all %s elements must have the same type", what, kind);
		diag_hint(ec->diag, "give the elements one type (tostring() converts numbers and bools), "
			  "or declare the type with tuple([...]) or object({...})");
		goto out;
	}
	t = val_type_new(r->kind == VAL_MAP ? VT_MAP : r->kind == VAL_SET ? VT_SET : VT_LIST, 1);
	t->sub[0] = el;
	u = val_convert(r, t, NULL);
	if (!u)
		diag_error(ec->diag, where, "%s: all elements must have the same type", what);
out:
	val_type_free(t);
	if (!t)
		val_type_free(el);
	val_unref(r);
	return u;
}

static struct value *convert(struct eval_ctx *ec, struct value *v, const struct ast_expr *t,
			     const struct span *where, const char *what)
{
	static const struct {
		const char *name, *want;
		struct val_type type;
	} prims[] = {
		{ "string", "a string", { VT_STRING, 0, NULL, NULL } },
		{ "number", "a number", { VT_NUMBER, 0, NULL, NULL } },
		{ "bool", "true or false", { VT_BOOL, 0, NULL, NULL } },
	};

	if (v->marks & VAL_UNKNOWN)
		return val_ref(v);
	if (t->kind == AST_VAR) {
		const char *n = t->u.var.name;
		if (!strcmp(n, "any") || v->kind == VAL_NULL)
			return val_ref(v);
		/* the language's one conversion (val_convert), with the variable's own message */
		for (size_t i = 0; i < sizeof prims / sizeof *prims; i++) {
			if (strcmp(n, prims[i].name))
				continue;
			struct value *r = val_convert(v, &prims[i].type, NULL);
			return r ? r : convert_fail(ec, where, what, prims[i].want, v);
		}
	} else if (t->kind == AST_CALL && t->u.call.n >= 1) {
		const char *n = t->u.call.name;
		const struct ast_expr *arg = t->u.call.args[0];
		if (v->kind == VAL_NULL)
			return val_ref(v);
		if (!strcmp(n, "list") || !strcmp(n, "set")) {
			if (v->kind != VAL_LIST && v->kind != VAL_SET)
				return convert_fail(ec, where, what, n[0] == 'l' ? "a list" : "a set", v);
			return unify_elems(ec, convert_elems(ec, v, arg, where, what, n[0] == 'l' ?
							      VAL_LIST : VAL_SET), arg, where, what);
		}
		if (!strcmp(n, "map")) {
			if (v->kind != VAL_MAP)
				return convert_fail(ec, where, what, "a map", v);
			return unify_elems(ec, convert_elems(ec, v, arg, where, what, VAL_MAP), arg,
					   where, what);
		}
		if (!strcmp(n, "tuple") && arg->kind == AST_LIST) {
			if (v->kind != VAL_LIST || v->u.list.n != arg->u.list.n)
				return convert_fail(ec, where, what, "a list of the tuple's length", v);
			struct value **items = xcalloc(v->u.list.n ? v->u.list.n : 1, sizeof *items);
			for (size_t i = 0; i < v->u.list.n; i++) {
				char *sub = xasprintf("%s[%zu]", what, i);
				items[i] = convert_item(ec, v, v->u.list.items[i], arg->u.list.items[i], where, sub);
				free(sub);
				if (!items[i]) {
					for (size_t k = 0; k < i; k++)
						val_unref(items[k]);
					free(items);
					return NULL;
				}
			}
			struct value *r = val_list_take(items, v->u.list.n);
			free(items);
			return with_marks(r, v->marks);
		}
		if (!strcmp(n, "optional"))
			return convert(ec, v, arg, where, what);
		if (!strcmp(n, "object") && arg->kind == AST_OBJECT) {
			if (v->kind != VAL_MAP)
				return convert_fail(ec, where, what, "an object", v);
			size_t na = arg->u.object.n;
			struct val_pair *p = xcalloc(na ? na : 1, sizeof *p);
			size_t np = 0;
			for (size_t i = 0; i < na; i++) {
				const char *k = ast_static_string(arg->u.object.items[i].key);
				const struct ast_expr *at = arg->u.object.items[i].value;
				struct value *x = k ? val_map_get(v, k) : NULL;
				int optional = at->kind == AST_CALL && !strcmp(at->u.call.name, "optional");
				char *sub = xasprintf("%s.%s", what, k ? k : "?");
				struct value *cv = NULL;
				/* Terraform's defaults: an attribute left out or given as null takes the
				 * default, converted, so that the default's own optional attributes
				 * take theirs too */
				if ((!x || (x->kind == VAL_NULL && !(x->marks & VAL_UNKNOWN))) && optional &&
				    at->u.call.n == 2) {
					struct value *d = eval_expr(ec, at->u.call.args[1]);
					cv = d ? convert(ec, d, at->u.call.args[0], where, sub) : NULL;
					val_unref(d);
				} else if (!x && optional)
					cv = val_null();
				else if (!x)
					diag_error(ec->diag, where, "%s needs the attribute %s", what, k ? k : "?");
				else
					cv = convert_item(ec, v, x, at, where, sub);
				free(sub);
				if (!cv) {
					for (size_t q = 0; q < np; q++) {
						free(p[q].key);
						val_unref(p[q].val);
					}
					free(p);
					return NULL;
				}
				p[np].key = xstrdup(k);
				p[np].val = cv;
				np++;
			}
			struct value *r = val_map_take(p, np);
			free(p);
			return with_marks(r, v->marks);
		}
	}
	diag_error(ec->diag, &t->span, "not a type");
	return NULL;
}

struct value *eval_convert(struct eval_ctx *ec, struct value *v, const struct ast_expr *type,
			   const struct span *where, const char *what)
{
	return convert(ec, v, type, where, what);
}

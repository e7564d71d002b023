/* eval.h: expressions to values. The evaluator knows operators, templates, for expressions,
 * splats, indexing and function calls; what a reference names (a variable, a resource's
 * attributes) it asks the planner through a callback.
 * Ownership: eval_expr returns a new value reference, or NULL after adding a diagnostic. */
#ifndef STK_EVAL_H
#define STK_EVAL_H

#include "common/diag.h"
#include "parser/ast.h"
#include "planner/value.h"

/* What a reference names, before any attribute or index: var.region -> (REF_VAR, "region"),
 * aws.subnet.public[0].id -> (REF_RESOURCE, "aws.subnet.public"), data.aws.ami.x ->
 * (REF_DATA, "aws.ami.x"), module.web.url -> (REF_MODULE, "web"). */
enum eval_ref_kind {
	REF_VAR, REF_LOCAL, REF_RESOURCE, REF_DATA, REF_MODULE, REF_PATH, REF_STACK,
	REF_EACH, REF_COUNT, REF_ITER,  /* REF_ITER: a for-expression variable */
};

struct eval_ref {
	enum eval_ref_kind kind;
	char *key;                     /* "region", "aws.vpc.main", "web", "module", "name" */
	const struct ast_expr *expr;   /* the node that ends the reference's own part */
	struct span span;              /* the reference's own part, for messages */
	/* key's storage when it fits: every reference of every evaluation is split, and a
	 * malloc each was a tenth of a plan's evaluation */
	char key_space[48];
};

struct eval_ctx;

/* The workspace the command runs in ("default"; STK_WORKSPACE or `stk workspace select`):
 * what terraform.workspace and stack.workspace are. Set once by the command line, before
 * anything is evaluated; borrowed. */
extern const char *eval_workspace;

/* A name bound while evaluating: a for expression's variable, a dynamic block's iterator. */
struct eval_iter {
	const char *name;
	struct value *val;
	const struct eval_iter *next;
};

/* Returns the value a reference names (a new reference), or NULL after a diagnostic. */
typedef struct value *(*eval_resolve_fn)(struct eval_ctx *ec, const struct eval_ref *ref);

struct eval_ctx {
	struct diag_ctx *diag;
	const char *module_dir;        /* for file() and templatefile() */
	eval_resolve_fn resolve;
	void *planner;                 /* for the callback */
	/* count.index and each.key/each.value where the expression is; NULL elsewhere */
	struct value *count_index;
	struct value *each_key, *each_value;
	/* the iterators of the dynamic blocks the expression is in, innermost first */
	const struct eval_iter *iters;
};

/* Splits a traversal into what it names and the steps after it. Returns 0 when e is a
 * reference (ref->expr is the node where its own part ends), -1 when it is not. The caller
 * releases ref with eval_ref_release (after either). */
int eval_split_ref(const struct ast_expr *e, struct eval_ref *ref);
void eval_ref_release(struct eval_ref *ref);

/* Calls fn for every reference in e (not for for-expression variables), for the graph. */
typedef void (*eval_ref_fn)(void *arg, const struct eval_ref *ref);
void eval_references(const struct ast_expr *e, eval_ref_fn fn, void *arg);
/* eval_references over every attribute of a body, nested blocks included, in order. */
void eval_body_references(const struct ast_body *b, eval_ref_fn fn, void *arg);

struct value *eval_expr(struct eval_ctx *ec, const struct ast_expr *e);

/* Terraform's dynamic "TYPE" { for_each = ..., iterator = NAME, content { ... } }: a block
 * that stands for one TYPE block per element of its for_each. */
int eval_is_dynamic(const struct ast_item *it);
/* The iterator's name: iterator = NAME, else the label (the block type); NULL when iterator
 * is not a bare name. */
const char *eval_dynamic_iterator(const struct ast_item *dyn);
/* Called once per element, with ec->iters holding the iterator; returns 0, or -1 to stop
 * (after a diagnostic). */
typedef int (*eval_content_fn)(void *arg, struct eval_ctx *ec, const struct ast_body *content);
/* Evaluates dyn's for_each and calls fn for each element, in order, the iterator bound to
 * { key, value }: a list's index, a set's element, a map's key. *marks gets the for_each's
 * VAL_UNKNOWN (then fn is not called: how many blocks is not known) and VAL_SENSITIVE.
 * Returns 0, or -1 after a diagnostic (a null for_each, a string, ...). */
int eval_dynamic(struct eval_ctx *ec, const struct ast_item *dyn, eval_content_fn fn, void *arg,
		 unsigned *marks);

/* A call of templatestring must name its template with a reference (local.tpl), as in
 * Terraform: returns -1 after an error when call is one that does not. */
int eval_check_templatestring(struct diag_ctx *d, const struct ast_expr *call);

/* A value converted to a type constraint written in the language (string, list(number),
 * map(string), object({...}), any). Returns a new reference, or NULL after a diagnostic
 * at where. */
struct value *eval_convert(struct eval_ctx *ec, struct value *v, const struct ast_expr *type,
			   const struct span *where, const char *what);

#endif

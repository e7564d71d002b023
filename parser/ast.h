/* ast.h: the syntax tree of a .stk file, built by the parser through the ast_* builders.
 * Ownership: every node, array and string of a file lives in the file's arena; ast_file_free()
 * frees the whole tree at once, and nothing in it is freed on its own. */
#ifndef STK_AST_H
#define STK_AST_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/diag.h"

/* Deeper expressions are a diagnostic, so that no later recursive walk can run out of stack. */
#define AST_MAX_DEPTH 200

enum ast_expr_kind {
	AST_ERROR,    /* stands in for an expression that failed to parse */
	AST_NULL,
	AST_BOOL,
	AST_NUMBER,
	AST_STRING,   /* literal text: a string without ${}, a template part, an identifier key */
	AST_TEMPLATE, /* a quoted string or heredoc: literal parts and interpolations */
	AST_VAR,      /* the root of a reference: var, local, each, count, aws, data, a for variable */
	AST_GETATTR,  /* obj.name */
	AST_INDEX,    /* obj[key] */
	AST_SPLAT,    /* src[*].rest: each applies "rest" to one element, rooted at AST_SPLAT_ITEM */
	AST_SPLAT_ITEM,
	AST_CALL,
	AST_LIST,
	AST_OBJECT,
	AST_UNARY,
	AST_BINARY,
	AST_COND,
	AST_FOR,
	AST_PAREN,
	AST_TMPL_MARK, /* only while a template is parsed: see enum ast_mark */
};

/* What a template holds before ast_template_finish gives it its structure: the directives
 * as they come, and the interpolations that have a strip marker. None is left after it. */
enum ast_mark {
	AST_MARK_INTERP,  /* ${~ x ~}: arg is x */
	AST_MARK_IF,      /* %{ if c }: arg is c */
	AST_MARK_ELSE,
	AST_MARK_ENDIF,
	AST_MARK_FOR,     /* %{ for k, v in coll }: arg is the AST_FOR, without its value yet */
	AST_MARK_ENDFOR,
};

enum ast_op {
	AST_OP_NOT, AST_OP_NEG,
	AST_OP_MUL, AST_OP_DIV, AST_OP_MOD,
	AST_OP_ADD, AST_OP_SUB,
	AST_OP_LT, AST_OP_LE, AST_OP_GT, AST_OP_GE,
	AST_OP_EQ, AST_OP_NE,
	AST_OP_AND, AST_OP_OR,
};

struct ast_expr;

/* [for k, v in coll : value if cond] and {for k, v in coll : key => value... if cond}: kept
 * out of line, so the common nodes stay small. */
struct ast_for {
	char *key_var;  /* NULL when only one variable is named */
	char *val_var;
	struct span key_span, val_span;
	struct ast_expr *coll;
	struct ast_expr *key;   /* map form only */
	struct ast_expr *value;
	struct ast_expr *cond;  /* optional "if" */
	int is_map;
	int group;      /* map form with "..." after the value */
	int tmpl;       /* a template's %{ for }: value is the body, the results are joined */
};

struct ast_object_item {
	struct ast_expr *key;   /* AST_STRING for a bare identifier key */
	struct ast_expr *value;
};

struct ast_expr {
	enum ast_expr_kind kind;
	unsigned depth;         /* 1 for a leaf; bounded by AST_MAX_DEPTH */
	struct span span;
	union {
		int boolean;
		double number;
		struct { char *s; size_t len; } string;
		struct {
			struct ast_expr **parts; /* AST_STRING and interpolated expressions */
			size_t n;
			unsigned heredoc : 1;
			unsigned strip : 1;      /* <<- : common leading indentation removed */
			unsigned body : 1;       /* a directive's body: a string, never unwrapped */
		} tmpl;
		struct { char *name; } var;
		struct { struct ast_expr *obj; char *name; } getattr;  /* ast_name_span() */
		struct { struct ast_expr *obj, *key; } index;
		struct { struct ast_expr *src, *each; } splat;
		struct {
			char *name;         /* ast_name_span() */
			struct ast_expr **args;
			uint32_t n;         /* 32 bits, with expand: 24 bytes, the largest member's */
			int expand;         /* f(list...) */
		} call;
		struct { struct ast_expr **items; size_t n; } list;
		struct { struct ast_object_item *items; size_t n; } object;
		struct { enum ast_op op; struct ast_expr *operand; } unary;
		struct { enum ast_op op; struct ast_expr *lhs, *rhs; } binary;
		struct { struct ast_expr *cond, *then, *otherwise; } cond;
		struct ast_for *for_;
		struct { struct ast_expr *inner; } paren;
		struct {
			struct ast_expr *arg;
			unsigned char which;     /* enum ast_mark */
			unsigned char lstrip;    /* ${~ or %{~ */
			unsigned char rstrip;    /* ~} */
		} mark;
	} u;
};

enum ast_label_kind { AST_LABEL_IDENT, AST_LABEL_DOTTED, AST_LABEL_STRING };

struct ast_label {
	enum ast_label_kind kind;
	char *text;     /* "main", "aws.vpc", or the string's value */
	struct span span;
};

enum ast_item_kind { AST_ATTR, AST_BLOCK };

struct ast_item;

struct ast_body {
	struct ast_item **items; /* in source order */
	size_t n;
};

/* A config of 100k resources holds some 600k items and 2.5M expressions: their sizes are
 * the front end's memory, and on a fresh process its page faults. */
struct ast_item {
	enum ast_item_kind kind;
	uint32_t nlabels;        /* AST_BLOCK */
	char *name;              /* attribute name, or block type ("resource", "ingress") */
	struct span name_span;
	struct span span;        /* the whole attribute, or the block to its '}' */
	struct ast_expr *value;  /* AST_ATTR */
	struct ast_label *labels;/* AST_BLOCK */
	struct ast_body body;    /* AST_BLOCK */
};

struct lex_token;

struct ast_file {
	const struct source *src;
	struct arena arena;       /* owns everything below */
	struct ast_body body;
	struct lex_token *tokens; /* every token including comments, when asked for (fmt) */
	size_t ntokens;
	unsigned pieces;          /* parsed in this many pieces side by side (parse.c), 1 at least */
};

/* Builders: they allocate in a, and take children and strings allocated there. */
struct ast_expr *ast_expr_new(struct arena *a, enum ast_expr_kind kind, const struct span *span);
struct ast_expr *ast_error(struct arena *a, const struct span *span);
struct ast_expr *ast_bool(struct arena *a, int v, const struct span *span);
struct ast_expr *ast_null(struct arena *a, const struct span *span);
struct ast_expr *ast_number(struct arena *a, double v, const struct span *span);
struct ast_expr *ast_string(struct arena *a, char *s, size_t len, const struct span *span);
struct ast_expr *ast_template_new(struct arena *a, const struct span *span);
void ast_template_add(struct arena *a, struct ast_expr *t, struct ast_expr *part);
/* A template part from its opening token to its closing '}': a directive, or an interpolation
 * (which needs a mark only with a strip marker; without one, it is arg itself). */
struct ast_expr *ast_template_mark(struct arena *a, enum ast_mark which, struct ast_expr *arg,
				   int lstrip, int rstrip, const struct span *span);
/* Finishes a template: applies the strip markers, strips heredoc indentation, and nests the
 * directives, an %{ if } into an AST_COND and a %{ for } into an AST_FOR (tmpl) whose branches
 * and body are AST_TEMPLATEs (body); unbalanced directives are reported to d, and the
 * template is an AST_ERROR then. A template that is only text becomes one AST_STRING spanning
 * the whole literal (most strings are). Returns the node to keep. */
struct ast_expr *ast_template_finish(struct arena *a, struct diag_ctx *d, struct ast_expr *t);
struct ast_expr *ast_var(struct arena *a, char *name, const struct span *span);
struct ast_expr *ast_getattr(struct arena *a, struct ast_expr *obj, char *name,
			     const struct span *name_span);
struct ast_expr *ast_index(struct arena *a, struct ast_expr *obj, struct ast_expr *key,
			   const struct span *end);
struct ast_expr *ast_splat(struct arena *a, struct ast_expr *src, const struct span *end);
struct ast_expr *ast_call(struct arena *a, const struct span *span);
void ast_call_add(struct arena *a, struct ast_expr *call, struct ast_expr *arg);
struct ast_expr *ast_list_new(struct arena *a);
void ast_list_add(struct arena *a, struct ast_expr *list, struct ast_expr *item);
struct ast_expr *ast_object_new(struct arena *a);
void ast_object_add(struct arena *a, struct ast_expr *obj, struct ast_expr *key,
		    struct ast_expr *value);
struct ast_expr *ast_unary(struct arena *a, enum ast_op op, struct ast_expr *operand,
			   const struct span *op_span);
struct ast_expr *ast_binary(struct arena *a, enum ast_op op, struct ast_expr *lhs,
			    struct ast_expr *rhs);
struct ast_expr *ast_cond(struct arena *a, struct ast_expr *c, struct ast_expr *t,
			  struct ast_expr *f);
struct ast_expr *ast_paren(struct arena *a, struct ast_expr *inner, const struct span *span);
/* The head of a for expression: "for k, v in coll :" (key_var may be NULL). */
struct ast_expr *ast_for(struct arena *a, char *key_var, const struct span *key_span,
			 char *val_var, const struct span *val_span, struct ast_expr *coll);
/* Sets span and depth of a finished collection or for node; returns it. */
struct ast_expr *ast_close(struct ast_expr *e, const struct span *span);

struct ast_item *ast_attr(struct arena *a, char *name, const struct span *name_span,
			  struct ast_expr *value);
struct ast_item *ast_block_new(struct arena *a, char *type, const struct span *type_span);
void ast_block_add_label(struct arena *a, struct ast_item *block, enum ast_label_kind kind,
			 char *text, const struct span *span);
void ast_body_add(struct arena *a, struct ast_body *body, struct ast_item *item);

/* Every node of f, one per line with its offsets: two parses of a file compare equal. */
void ast_dump(const struct ast_file *f, struct buf *out);
/* The same without the offsets: what the file means, which stk fmt must keep. */
void ast_dump_values(const struct ast_file *f, struct buf *out);
struct ast_file *ast_file_new(const struct source *src);
void ast_file_free(struct ast_file *f);

/* Whether two names are the same. The planner compares names a great many times and most
 * differ in their first byte, so that test comes before the call. */
static inline int ast_same_name(const char *a, const char *b)
{
	return a[0] == b[0] && strcmp(a, b) == 0;
}

/* The first item of b of that kind (AST_ATTR or AST_BLOCK) and name, or NULL. */
static inline const struct ast_item *ast_body_get(const struct ast_body *b, enum ast_item_kind kind,
						  const char *name)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->items[i]->kind == kind && ast_same_name(b->items[i]->name, name))
			return b->items[i];
	return NULL;
}

/* Is e an %{ if } or a %{ for } of a template (which always gives a string)? */
static inline int ast_is_directive(const struct ast_expr *e)
{
	return (e->kind == AST_FOR && e->u.for_->tmpl) ||
	       (e->kind == AST_COND && e->u.cond.then->kind == AST_TEMPLATE && e->u.cond.then->u.tmpl.body);
}

/* The span of the name in an AST_GETATTR (its end) or an AST_CALL (its start). */
struct span ast_name_span(const struct ast_expr *e);
/* The text of a template with no interpolation (or of an AST_STRING), else NULL. */
const char *ast_static_string(const struct ast_expr *e);
/* "var.region", "aws.vpc.main.id", "aws.subnet.public[\"a\"]": a reference as written, for
 * messages; NULL when e is not a plain traversal. Caller frees. */
char *ast_traversal_text(const struct ast_expr *e);
/* ast_traversal_text, with the index at (one of e's) written as key: "" leaves it out,
 * "[\"a\"]" writes that key. */
char *ast_traversal_text_as(const struct ast_expr *e, const struct ast_expr *at, const char *key);
/* The one index of traversal e whose key is an expression, not a literal (the [each.key] of
 * module.web[each.key].aws.vpc.main), or NULL when there is none or more than one. */
const struct ast_expr *ast_traversal_computed(const struct ast_expr *e);
const char *ast_op_text(enum ast_op op);
/* Finds the attribute or the first block called name in body. */
const struct ast_item *ast_body_find(const struct ast_body *body, const char *name);

#endif

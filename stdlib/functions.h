/* functions.h: the built-in functions: their signatures, which validate checks calls against,
 * and their implementations, which the evaluator calls.
 * Ownership: static tables; an implementation returns a new value reference and borrows its
 * arguments. */
#ifndef STK_FUNCTIONS_H
#define STK_FUNCTIONS_H

#include <stddef.h>

#include "common/diag.h"
#include "planner/value.h"

struct func_call;

/* Renders the template in the file at path with vars (a map) as its variables: the evaluator
 * provides this for templatefile(). Returns NULL after adding a diagnostic. */
typedef struct value *(*func_template_fn)(struct func_call *fc, const char *path,
					  const struct value *vars);

/* Renders text as a template with vars (a map) as its variables: for templatestring(). */
typedef struct value *(*func_text_fn)(struct func_call *fc, const char *text, size_t len,
				      const struct value *vars);

struct func_call {
	struct diag_ctx *diag;
	const struct span *span;        /* the whole call */
	const struct span *arg_spans;   /* one per argument, for pointing at the bad one */
	const char *base_dir;           /* file() and templatefile() paths are relative to it */
	func_template_fn render_template;
	func_text_fn render_string;
	const char *template_name;      /* templatestring(): its reference as written, or NULL */
	void *evaluator;                /* for render_template and render_string */
};

/* An implementation: args are known (no unknown mark anywhere) unless the signature says it
 * takes unknowns; marks on the arguments are the caller's business (it marks the result
 * sensitive when any argument was). Returns a new reference, or NULL after adding an error
 * at the call site that names the argument and what it should be. */
typedef struct value *(*func_impl)(struct func_call *fc, struct value **args, size_t n);

struct func_sig {
	const char *name;
	int min_args;
	int max_args;        /* -1: any number */
	const char *usage;   /* "cidrsubnet(prefix, newbits, netnum)" */
	func_impl impl;
	int flags;           /* FUNC_TAKES_UNKNOWN, FUNC_KEEPS_MARKS */
};

/* called even when an argument is unknown (coalesce, length) */
#define FUNC_TAKES_UNKNOWN 1
/* the result's sensitivity is the function's own (nonsensitive, issensitive): the call does
 * not add its arguments' to it */
#define FUNC_KEEPS_MARKS 2

extern const struct func_sig func_table[];   /* NULL-name-terminated, sorted by name */

const struct func_sig *func_find(const char *name);
/* NULL-terminated list of every name, for "did you mean" hints. */
const char *const *func_names(void);

#endif

/* moved.h: moved blocks, Terraform's refactoring statements.
 *
 *   moved {
 *     from = aws.vpc.old          a resource, an instance (aws.vpc.a[0]), a module call
 *     to   = aws.vpc.main         (module.a) or a module instance (module.a["x"])
 *   }
 *
 * check.c reads each block into a move_stmt (check_module_moves); before the refresh and the
 * plan, moves_apply() renames the state's objects, following chains (a to b, b to c), and
 * remembers where each came from, which the plan shows as "has moved to" and JSON as
 * previous_address. The rules are Terraform's: a from absent from the state is no move at all
 * (old blocks can stay forever); from and to both in the state is a warning, and no move; a
 * from still declared is an error, found as the plan meets it (moves_check_declared).
 *
 * Ownership: a moves owns its statements and the addresses it remembers; spans borrow the
 * diag_ctx's sources. */
#ifndef STK_MOVED_H
#define STK_MOVED_H

#include "common/buf.h"
#include "common/diag.h"
#include "common/strmap.h"
#include "parser/ast.h"
#include "planner/addr.h"

struct state;

struct move_stmt {
	char *calls;            /* the module the block is in, by call names: "" or "module.web" */
	struct addr from, to;   /* relative to that module. A module endpoint has no type: its
				   path is in .module ("module.a[0]") */
	int module;             /* module endpoints */
	int whole;              /* neither endpoint names a key: every instance moves, keys kept */
	struct span span;       /* the from expression: where a message about the move points */
	int reported;           /* "still declared" said once (set atomically: plans run in shares) */
};

struct moves {
	struct buf stmts;       /* struct move_stmt * */
	struct strmap origin;   /* address after the moves -> the state's address before (owned) */
};

void moves_init(struct moves *m);
void moves_release(struct moves *m);

/* The endpoint e is, as a moved block's from or to: a traversal such as aws.vpc.a[0] or
 * module.net["x"], into out (initialized; type NULL and the path in module for a module
 * endpoint). Returns 0, or -1 with the reason in why and the offending part in *bad. */
int move_endpoint(const struct ast_expr *e, struct addr *out, const struct ast_expr **bad, struct buf *why);

/* Adds a statement checked by check.c (copies its parts). calls: "" or "module.web". */
void moves_add(struct moves *m, const char *calls, const struct addr *from, const struct addr *to,
	       const struct span *span);

/* Renames the state's objects as the statements say, remembering where each came from;
 * a move onto an object that is in the state is a warning and not made. */
void moves_apply(struct diag_ctx *diag, struct moves *m, struct state *st);

/* Where the object now at addr was before moves_apply, or NULL when it did not move. */
const char *moves_origin(const struct moves *m, const char *addr);

/* addr is declared in the configuration: an error (once per statement) when a statement
 * moves it away. Returns -1 after that error, else 0. */
int moves_check_declared(struct diag_ctx *diag, struct moves *m, const char *addr);

#endif

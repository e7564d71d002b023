/* check.h: the checks stk validate makes without evaluating anything: block kinds and labels,
 * duplicates, resource types and arguments against the provider schemas, references, calls.
 * Ownership: borrows the module; diagnostics go to the context. */
#ifndef STK_CHECK_H
#define STK_CHECK_H

#include "common/diag.h"
#include "planner/config.h"

/* Returns 0 when no error was found. Loads called local and stdlib modules to check their
 * inputs and outputs. */
int check_module(struct diag_ctx *diag, const struct config_module *m);
/* check_module's checks, and stk validate's one more: dependency cycles among each module's
 * locals, resources, data sources and provider blocks, reported as the graph reports them.
 * (stk plan and stk graph get cycles from the graph, which also sees those through outputs,
 * module calls, inherited providers and stack.tags.) */
int check_module_cycles(struct diag_ctx *diag, const struct config_module *m);
struct moves;
/* check_module, and the moved blocks of every module collected into moves (moved.h), each
 * with its module's path. generating (stk plan -generate-config-out): an import block may
 * name a root resource the configuration does not declare, one instance of a known type,
 * whose block the plan writes. */
int check_module_moves(struct diag_ctx *diag, const struct config_module *m, struct moves *moves,
		       int generating);

/* backend s3's settings (be is the backend block) that are judged before any request: not
 * both lock_table and dynamodb_table, encrypt a bool, endpoint and dynamodb_endpoint http(s)
 * URLs. stk validate and the state's opening (cli/store.c) both judge them here. 0, or -1
 * after errors. */
int check_backend_s3(struct diag_ctx *diag, const struct ast_item *be);

struct value;
/* The most instances one count may make: a plan makes each one up front, and a slip such as
 * count = 1e8 would take all the memory there is before any message. */
#define CHECK_MAX_COUNT 100000
/* A count's value v as a number of instances in *n, or -1 after an error at where: a whole
 * number from 0 to CHECK_MAX_COUNT, or a string that reads as one. stk plan and stk
 * validate (for a literal count) both judge it here. */
int check_count(struct diag_ctx *diag, const struct span *where, const struct value *v, size_t *n);
/* A for_each's value v: 0 for a map, a set of strings or an empty list, or -1 after an error
 * at where. The same judges: stk plan (resources and module calls), and stk validate for a
 * literal. */
int check_for_each(struct diag_ctx *diag, const struct span *where, const struct value *v);

#endif

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

#endif

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

#endif

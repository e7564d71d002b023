/* vars.h: values for the root module's variables from outside the configuration: STK_VAR_NAME
 * in the environment, stk.stkvars and *.auto.stkvars in the directory, then -var-file and -var
 * in the order given on the command line; a later source wins, as in Terraform.
 * Ownership: a vars_input owns its values; vars_values() returns new references. */
#ifndef STK_VARS_H
#define STK_VARS_H

#include "common/diag.h"
#include "planner/value.h"

/* Where a value came from: text from -var or the environment is read by the variable's type. */
enum { VARS_FILE, VARS_ARG, VARS_ENV };

struct vars_input {
	struct buf names;    /* char * */
	struct buf values;   /* struct value * */
	struct buf raw;      /* int: VARS_FILE, VARS_ARG or VARS_ENV */
};

void vars_init(struct vars_input *vi);
void vars_release(struct vars_input *vi);

/* Environment variables STK_VAR_NAME, then the directory's stk.stkvars and *.auto.stkvars. */
int vars_add_defaults(struct vars_input *vi, const char *dir, struct diag_ctx *diag);
/* -var NAME=VALUE. */
int vars_add_arg(struct vars_input *vi, const char *arg, struct diag_ctx *diag);
/* -var-file FILE: attributes only, constant values. */
int vars_add_file(struct vars_input *vi, const char *path, struct diag_ctx *diag);

/* The final values (a map), and where each came from (a map of VARS_* numbers). */
struct value *vars_values(const struct vars_input *vi);
struct value *vars_raw(const struct vars_input *vi);

#endif

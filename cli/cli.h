/* cli.h: the command table and what every command shares (flags, output colour).
 * Ownership: nothing here allocates beyond what each command frees itself. */
#ifndef STK_CLI_H
#define STK_CLI_H

#include <stdio.h>

#include "common/diag.h"

struct cli_command {
	const char *name;
	const char *summary;
	const char *usage;   /* full help text, shown by stk COMMAND --help */
	int (*run)(int argc, char **argv);
};

extern const struct cli_command cli_commands[];

/* Is this argument "-name", "--name", "-name=value" or "--name=value"? Sets *value to the
 * text after '=', or NULL. */
int cli_flag(const char *arg, const char *name, const char **value);
int cli_is_help(const char *arg);
/* Prints "stk: unknown flag ..." and the command's usage to stderr; returns 1. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const struct cli_command *cli_find(const char *name);
int cli_color(FILE *f);
/* Should a command free what it holds before it exits? A big plan holds millions of small
 * blocks, and freeing them one by one costs a sixth of its time, while exit gives the pages back
 * at once. Leak checkers see every leak only if everything is freed: yes under AddressSanitizer,
 * under valgrind, or with STK_FREE_AT_EXIT set (not empty, not "0"); no otherwise. */
int cli_free_at_exit(void);
/* What a command leaves to the exit when it does not free it: a copy of the size bytes at p,
 * kept reachable, so that a leak checker calls nothing in it lost. */
void cli_keep(const void *p, size_t size);
/* Sorts and prints the diagnostics to stderr. */
void cli_print_diags(struct diag_ctx *diag);

/* Where the state is for the configuration in dir (mod, or dir's own when NULL): sets up the
 * stack block's backend and encryption for planner/state.c and returns the path to give it
 * ("s3://bucket/key" or a file; caller frees), or NULL after a diagnostic. variables: values
 * for a passphrase given as var.NAME (NULL: the directory's files and the environment).
 * cli_state_close() undoes it, once the command is done. */
struct config_module;
struct value;
char *cli_state_open(struct diag_ctx *diag, const char *dir, const struct config_module *mod,
		     const struct value *variables);
void cli_state_close(void);

/* Workspaces: one state per name for one configuration, as Terraform's. The current one is
 * STK_WORKSPACE, else the name `stk workspace select` wrote to DIR/.stk/workspace, else
 * "default"; cli_state_open sets it (eval_workspace, terraform.workspace) and opens its state:
 * DIR_OF_STATE/stk.state.d/NAME/FILE for a local one, PREFIX/NAME/KEY in S3
 * (workspace_key_prefix, default "env:"). */
struct buf;
int cli_workspace_valid(const char *name);
char *cli_workspace_file(const char *dir);                  /* caller frees */
int cli_workspace(struct diag_ctx *diag, const char *dir, char **out);   /* *out: caller frees */
const char *cli_workspace_current(void);
/* Set by stk workspace new: cli_state_open_in opens a workspace whose directory is not there. */
extern int cli_workspace_creating;
/* cli_state_open for workspace ws (NULL: the current one, as cli_state_open). */
char *cli_state_open_in(struct diag_ctx *diag, const char *dir, const struct config_module *mod,
			const struct value *variables, const char *ws);
/* After cli_state_open_in for the default workspace (default_path what it returned): appends
 * the other workspaces' names (char *, caller frees) to names. 0, or -1 after an error. */
int cli_state_workspaces(struct diag_ctx *diag, const char *default_path, struct buf *names);
/* Removes the state at path (as cli_state_open_in returned it): the S3 object, or the file
 * with its backup and lock file, and its workspace's directory. */
int cli_state_remove(struct diag_ctx *diag, const char *path);

int cmd_validate(int argc, char **argv);
int cmd_fmt(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_output(int argc, char **argv);
int cmd_state(int argc, char **argv);
int cmd_refresh(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_force_unlock(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_workspace(int argc, char **argv);

#endif

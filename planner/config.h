/* config.h: a configuration directory loaded as one module: its .stk files, parsed.
 * Ownership: a config_module owns its files' ASTs; sources belong to the diag_ctx. */
#ifndef STK_CONFIG_H
#define STK_CONFIG_H

#include "common/diag.h"
#include "parser/ast.h"

struct config_module {
	char *dir;
	struct buf files;  /* struct ast_file *, in file name order */
};

void config_module_init(struct config_module *m);
void config_module_release(struct config_module *m);

/* Reads every *.stk file in dir, in name order. Returns -1 when the directory cannot be read
 * or holds no .stk file (a diagnostic says which); syntax errors are only diagnostics. */
int config_load_dir(struct diag_ctx *diag, const char *dir, struct config_module *m,
		    int keep_tokens);
/* Loads one file as a module of its own (stk validate FILE, stk fmt FILE). */
int config_load_file(struct diag_ctx *diag, const char *path, struct config_module *m,
		     int keep_tokens);

/* The name config_load_dir gives the file name in dir: "main.stk" in ".", "cfg/main.stk" in
 * "cfg/" (new). */
char *config_file_path(const char *dir, const char *name);
/* Adds the file at path to m, which config_load_dir loaded (stk plan -generate-config-out's
 * file, written after the rest was read). */
int config_add_file(struct diag_ctx *diag, const char *path, struct config_module *m);

/* Is path a readable directory holding at least one .stk file? */
int config_is_module_dir(const char *path);

size_t config_nfiles(const struct config_module *m);
struct ast_file *config_file(const struct config_module *m, size_t i);

/* Where shipped modules ("stdlib/web_stack") live: STK_STDLIB, else the installed datadir,
 * else the source tree's stdlib/ (for running from the build tree). */
const char *config_stdlib_dir(void);
/* Resolves a module source relative to the calling module's directory. Caller frees. */
char *config_module_path(const char *from_dir, const char *source);

#endif

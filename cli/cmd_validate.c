/* cmd_validate.c: stk validate [DIR | FILE]. */
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "planner/check.h"
#include "planner/config.h"

int cmd_validate(int argc, char **argv)
{
	const struct cli_command *self = cli_find("validate");
	const char *path = NULL;
	struct diag_ctx diag;
	struct config_module mod;
	struct stat st;
	int ret = 1;

	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(self->usage, stdout);
			return 0;
		}
		if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error(self, "unknown flag '%s'", argv[i]);
		if (path)
			return cli_usage_error(self, "validate takes one directory, got '%s' and '%s'",
					       path, argv[i]);
		path = argv[i];
	}
	if (!path)
		path = ".";
	diag_init(&diag);
	config_module_init(&mod);
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
		if (config_load_file(&diag, path, &mod, 0))
			goto out;
	} else if (config_load_dir(&diag, path, &mod, 0)) {
		goto out;
	}
	/* the semantic checks would only repeat what a syntax error already broke */
	if (diag.errors == 0)
		check_module(&diag, &mod);
	if (diag.errors == 0)
		ret = 0;
out:
	cli_print_diags(&diag);
	if (ret == 0)
		printf("Success! The configuration is valid.\n");
	if (!cli_free_at_exit()) {
		/* the process ends next: its pages go back at once (100k resources: 10 ms freed
		 * piece by piece) */
		cli_keep(&mod, sizeof mod);
		cli_keep(&diag, sizeof diag);
		return ret;
	}
	config_module_release(&mod);
	diag_release(&diag);
	return ret;
}

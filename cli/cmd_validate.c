/* cmd_validate.c: stk validate [DIR | FILE]. */
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "planner/check.h"
#include "planner/config.h"

/* validate maps big files (diag_ctx.map_big): one cut short under it makes the read of its
 * lost pages a SIGBUS, which is reported, not a crash. Nothing else raises one here. */
static void on_sigbus(int sig)
{
	static const char msg[] = "stk: error: a configuration file was cut short while stk "
				  "validate read it; run it again once it is written\n";

	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) {
		/* nothing more to do: the exit status says it */
	}
	_exit(1);
}

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
	diag.map_big = 1;
	{
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_sigbus;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGBUS, &sa, NULL);
	}
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

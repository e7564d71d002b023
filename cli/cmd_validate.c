/* cmd_validate.c: stk validate [DIR | FILE]. */
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "planner/check.h"
#include "planner/config.h"

/* validate maps big files (diag_ctx.map_big): one cut short under it makes the read of its
 * lost pages a SIGBUS, which is reported, not a crash. Any other SIGBUS is one. */
static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	static const char head[] = "stk: error: ", tail[] = " was cut short while stk validate "
		"read it; run it again once it is written\n";
	const char *name = diag_mapped_name(si->si_addr);

	(void)ctx;
	if (!name) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	/* (the exit status says it if the message cannot be written) */
	if (write(STDERR_FILENO, head, sizeof head - 1) < 0 ||
	    write(STDERR_FILENO, name, strlen(name)) < 0 || write(STDERR_FILENO, tail, sizeof tail - 1) < 0)
		_exit(1);
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
		sa.sa_sigaction = on_sigbus;
		sa.sa_flags = SA_SIGINFO;
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
		check_module_cycles(&diag, &mod);
	if (diag.errors == 0)
		ret = 0;
out:
	/* a mapped file that changed under validate: what it read may be a mix of old and new,
	 * and so may its messages */
	if (diag_changed_source(&diag)) {
		struct diag_ctx changed;
		diag_init(&changed);
		diag_error(&changed, NULL, "%s changed while stk validate read it",
			   diag_changed_source(&diag));
		diag_hint(&changed, "run it again once the file is written");
		cli_print_diags(&changed);
		diag_release(&changed);
		ret = 1;
	} else {
		cli_print_diags(&diag);
	}
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

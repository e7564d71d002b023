/* main.c: stk's entry point: finds the command, and is the only place that exits. */
#include <malloc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#ifdef HAVE_VALGRIND_VALGRIND_H
#include <valgrind/valgrind.h>
#endif
#include "cli/cli.h"

const struct cli_command cli_commands[] = {
	{ "validate", "Check the configuration: syntax, references, arguments",
	  "Usage: stk validate [DIR | FILE]\n"
	  "\n"
	  "Parses every .stk file in DIR (default: the current directory) and checks what needs\n"
	  "no cloud: syntax, duplicate blocks, arguments and map keys, block kinds, resource types\n"
	  "and their arguments against the provider schemas, references to variables, locals,\n"
	  "resources, data sources and modules, function names and arities, and dependency\n"
	  "cycles among locals, resources, data sources and provider blocks.\n"
	  "\n"
	  "Exit status: 0 when valid, 1 when any error was found.\n",
	  cmd_validate },
	{ "fmt", "Rewrite .stk files in the canonical layout",
	  "Usage: stk fmt [-check] [-diff] [-write=false] [-recursive] [PATH...]\n"
	  "\n"
	  "Rewrites .stk and .stkvars files in the canonical layout: two-space indentation, '='\n"
	  "aligned within a run of attributes, one blank line between blocks, comments kept.\n"
	  "PATH is a file or a directory (default: the current directory); '-' reads standard\n"
	  "input and writes standard output.\n"
	  "\n"
	  "  -check       change nothing; list the files that are not formatted, exit 3 if any\n"
	  "  -diff        print a unified diff of the changes\n"
	  "  -write=false print the formatted text instead of rewriting files\n"
	  "  -list=false  do not list the files that were changed\n"
	  "  -recursive   also format the files in subdirectories\n"
	  "\n"
	  "Exit status: 0 success, 1 error (such as a syntax error), 3 -check found files to format.\n",
	  cmd_fmt },
	{ "plan", "Show the changes that would make the infrastructure match the configuration",
	  "Usage: stk plan [DIR] [-out FILE] [-json | -markdown] [-detailed-exitcode] [-refresh=false]\n"
	  "                [-var NAME=VALUE]... [-var-file FILE]... [-target ADDR]... [-replace ADDR]...\n"
	  "                [-destroy] [-lock-timeout DURATION] [-generate-config-out FILE]\n"
	  "\n"
	  "Evaluates the configuration in DIR (default: the current directory) against the state\n"
	  "(STK_STATE, else the stack block's backend, else DIR/stk.state; sealed with the\n"
	  "encryption block's passphrase or STK_STATE_PASSPHRASE) and prints what apply would do: + create, ~ update in\n"
	  "place, -/+ replace (the attribute that forces it marked), - destroy, <= read.\n"
	  "\n"
	  "  -out FILE          save the plan: stk apply FILE makes exactly these changes, and\n"
	  "                     refuses if the state or the configuration moved meanwhile\n"
	  "  -json              one JSON document (docs/plan-json.md)\n"
	  "  -markdown          a pull-request comment: destroys and replacements first\n"
	  "  -detailed-exitcode exit 2 when there are changes, 0 when there are none\n"
	  "  -refresh=false     plan from the state as it is, with no API call\n"
	  "  -var NAME=VALUE    a root variable's value (a later one wins)\n"
	  "  -var-file FILE     variable values from a .stkvars file\n"
	  "  -target ADDR       only this resource (or module) and what it needs\n"
	  "  -replace ADDR      replace this instance even if nothing changed\n"
	  "  -destroy           plan to destroy everything in the state\n"
	  "  -refresh-only      show only what changed outside stk (stk refresh records it)\n"
	  "  -lock-timeout D    wait up to D (30s, 5m) for another run's lock on the state\n"
	  "  -generate-config-out FILE\n"
	  "                     write a resource block to the new FILE (.stk) for each import block\n"
	  "                     whose resource the configuration does not declare, from the object\n"
	  "                     read, and plan with it\n"
	  "\n"
	  "Variables also come from STK_VAR_NAME, DIR/stk.stkvars and DIR/*.auto.stkvars, before\n"
	  "the command line. Exit status: 0 success, 1 error, 2 changes with -detailed-exitcode.\n",
	  cmd_plan },
	{ "apply", "Make the infrastructure match the configuration",
	  "Usage: stk apply [DIR] [-auto-approve] [-parallelism N] [-rollback-on-failure]\n"
	  "                 [plan's flags]\n"
	  "       stk apply PLANFILE\n"
	  "\n"
	  "Plans as stk plan does, shows the plan, asks for 'yes' (without a terminal it refuses\n"
	  "unless -auto-approve is given), then makes the changes: operations run in parallel as\n"
	  "their dependencies complete (-parallelism N, default 10), and the state is written after\n"
	  "every one. A failure stops what depends on it, not the rest. The first interrupt (Ctrl-C,\n"
	  "SIGTERM) starts nothing new and waits for what is running; the second stops at once.\n"
	  "With -rollback-on-failure, when anything failed, what this run created is destroyed\n"
	  "again, dependents first, and what could not be is listed.\n"
	  "\n"
	  "A PLANFILE from stk plan -out is applied as it was shown, without asking again.\n"
	  "\n"
	  "Exit status: 0 success, 1 error or failed operations, 130 interrupted.\n",
	  cmd_apply },
	{ "destroy", "Destroy everything the state records",
	  "Usage: stk destroy [DIR] [-auto-approve] [-parallelism N] [-target ADDR]...\n"
	  "\n"
	  "The same as stk apply -destroy: everything in the state is destroyed, what depends on a\n"
	  "thing before the thing itself.\n",
	  cmd_destroy },
	{ "output", "Print the stack's outputs",
	  "Usage: stk output [-json] [-raw] [NAME]\n"
	  "\n"
	  "Prints the outputs recorded in the state (STK_STATE, else ./stk.state). A sensitive\n"
	  "output prints as (sensitive value) unless it is asked for by NAME. -raw prints a string\n"
	  "without quotes (or a number or a bool), and nothing after it; a list, a map or null\n"
	  "is an error then.\n",
	  cmd_output },
	{ "show", "Print a saved plan, or the state",
	  "Usage: stk show [-json | -markdown] [PLANFILE]\n"
	  "\n"
	  "With a PLANFILE from stk plan -out, prints the plan as stk plan printed it when it was\n"
	  "made (-json and -markdown as stk plan's; the text without colour), without reading the\n"
	  "state or the cloud. A sealed plan opens with the state's passphrase. Without one,\n"
	  "prints what the state records (STK_STATE, else the stack block's backend, else\n"
	  "./stk.state): each object as a resource block, then the outputs; -json in Terraform's\n"
	  "show -json layout. Sensitive values print as (sensitive value), or null in JSON.\n",
	  cmd_show },
	{ "refresh", "Read every object back and record it in the state as it is",
	  "Usage: stk refresh [DIR] [-var NAME=VALUE]...\n"
	  "\n"
	  "Reads every object the state records through its provider, prints what changed\n"
	  "outside stk, attribute by attribute, and writes the state. Nothing in the cloud changes.\n"
	  "The same as stk apply -refresh-only -auto-approve; stk plan -refresh-only shows the\n"
	  "changes without writing them.\n",
	  cmd_refresh },
	{ "state", "List, show, move or forget what the state records",
	  "Usage: stk state list\n"
	  "       stk state show ADDR\n"
	  "       stk state mv FROM TO\n"
	  "       stk state rm ADDR...\n"
	  "       stk state encrypt | decrypt\n"
	  "\n"
	  "Works on the state (STK_STATE, else ./stk.state), never on the cloud. list prints every\n"
	  "instance's address; show its attributes (sensitive ones as (sensitive value)); mv gives\n"
	  "an instance, or every instance of a resource, a new address (also across count and\n"
	  "for_each keys: stk state mv 'aws.subnet.a' 'aws.subnet.b[\"x\"]'); rm forgets objects,\n"
	  "which stay where they are. encrypt rewrites the state sealed with the passphrase (the\n"
	  "stack's encryption block, else STK_STATE_PASSPHRASE); decrypt rewrites it in clear.\n",
	  cmd_state },
	{ "workspace", "List, show, make, select or delete workspaces (one state each)",
	  "Usage: stk workspace list\n"
	  "       stk workspace show\n"
	  "       stk workspace new NAME\n"
	  "       stk workspace select [-or-create] NAME\n"
	  "       stk workspace delete [-force] NAME\n"
	  "\n"
	  "A workspace is one more state for the same configuration (staging and prod of one\n"
	  "stack); terraform.workspace (or stack.workspace) is its name. The state of workspace\n"
	  "NAME is DIR/stk.state.d/NAME/stk.state beside the default one (with backend s3,\n"
	  "workspace_key_prefix/NAME/KEY, the prefix \"env:\" by default, as in Terraform). select\n"
	  "writes the choice to .stk/workspace in the current directory; STK_WORKSPACE overrides\n"
	  "it. new makes the workspace (an empty state) and selects it, as select -or-create does\n"
	  "when it is not there yet. delete refuses the default and the current workspace, and\n"
	  "one whose state records resources unless -force, which forgets them.\n",
	  cmd_workspace },
	{ "import", "Adopt an existing object into the state",
	  "Usage: stk import [-dir DIR] ADDR ID\n"
	  "\n"
	  "Reads the object ID through its provider and records it in the state as ADDR, which the\n"
	  "configuration must declare (resource TYPE NAME { ... }), in the root module or in a module\n"
	  "it calls (module.NAME.TYPE.NAME, module.NAME[KEY].TYPE.NAME). The next plan shows only how\n"
	  "the object differs from its configuration. The ID is what the type is looked up by: the\n"
	  "VPC id for aws.vpc, the repository name for aws.ecr_repository, the key name for\n"
	  "aws.key_pair, the identifier for aws.db_instance.\n",
	  cmd_import },
	{ "force-unlock", "Release a state lock whose holder is gone",
	  "Usage: stk force-unlock LOCK_ID\n"
	  "\n"
	  "Removes the lock on the state when its ID matches and no live process holds it.\n",
	  cmd_force_unlock },
	{ "graph", "Print the dependency graph as Graphviz DOT",
	  "Usage: stk graph [DIR] [-var K=V]... [-var-file FILE]\n"
	  "\n"
	  "Prints the configuration's dependency graph in Graphviz DOT, nodes labelled by address:\n"
	  "  stk graph | dot -Tsvg > graph.svg\n"
	  "A module call's count or for_each is worked out as plan works it out: -var and -var-file\n"
	  "give the variables it may need, as to plan.\n",
	  cmd_graph },
	{ "version", "Print the stk version",
	  "Usage: stk version\n",
	  cmd_version },
	{ NULL, NULL, NULL, NULL },
};

int cli_flag(const char *arg, const char *name, const char **value)
{
	size_t n = strlen(name);

	if (arg[0] != '-')
		return 0;
	arg += arg[1] == '-' ? 2 : 1;
	if (strncmp(arg, name, n) != 0)
		return 0;
	if (arg[n] == '\0') {
		if (value)
			*value = NULL;
		return 1;
	}
	if (arg[n] == '=' && value) {
		*value = arg + n + 1;
		return 1;
	}
	return 0;
}

int cli_is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "-help") == 0 || strcmp(arg, "--help") == 0;
}

const struct cli_command *cli_find(const char *name)
{
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("stk: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	fputs(cmd->usage, stderr);
	return 1;
}

int cli_free_at_exit(void)
{
	const char *e = getenv("STK_FREE_AT_EXIT");

#if defined(__SANITIZE_ADDRESS__)
	return 1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return 1;
#endif
#endif
#ifdef RUNNING_ON_VALGRIND
	if (RUNNING_ON_VALGRIND)
		return 1;
#endif
	return e && *e && strcmp(e, "0") != 0;
}

/* volatile: the stores stay, and so do the blocks reachable from them. A command keeps one
 * or two; past four a block is still given back at exit, only not reachable, which matters to
 * nobody: under a leak checker, commands free instead of keeping. */
static void *volatile cli_kept[4];

void cli_keep(const void *p, size_t size)
{
	for (size_t i = 0; i < sizeof cli_kept / sizeof cli_kept[0]; i++) {
		if (!cli_kept[i]) {
			cli_kept[i] = memcpy(xmalloc(size), p, size);
			return;
		}
	}
}

/* -no-color, which any command takes, as Terraform's do */
static int cli_no_color;

int cli_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR");
	const char *term = getenv("TERM");

	if (cli_no_color || (nc && *nc))
		return 0;
	if (term && strcmp(term, "dumb") == 0)
		return 0;
	return isatty(fileno(f));
}

void cli_print_diags(struct diag_ctx *diag)
{
	diag_sort(diag);
	diag_print(diag, stderr, cli_color(stderr));
}

int cmd_version(int argc, char **argv)
{
	const struct cli_command *self = cli_find("version");

	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(self->usage, stdout);
			return 0;
		}
		return cli_usage_error(self, "unexpected argument '%s'", argv[i]);
	}
	printf("stk %s\n", PACKAGE_VERSION);
	return 0;
}

static void usage(FILE *out)
{
	fputs("Usage: stk COMMAND [ARGS]\n"
	      "\n"
	      "stk compiles .stk files into a plan of cloud changes and applies it.\n"
	      "\n"
	      "Commands:\n", out);
	for (const struct cli_command *c = cli_commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fputs("\n"
	      "Run 'stk COMMAND --help' for a command's flags. See stk(1).\n", out);
}

int main(int argc, char **argv)
{
	const struct cli_command *cmd;

	/* malloc's heaps grow 16 MiB at a time, not 128 KiB: a 100k-resource plan made 1101 brk
	 * calls, now 14, and a thread's new heap starts writable for 16 MiB (2-3% of the plan's
	 * time). Pages never touched cost nothing; a trim keeps up to 16 MiB. glibc then keeps
	 * its mmap threshold at 128 KiB rather than raising it after frees: stk's big blocks
	 * (files, states, plan text) are made and freed once, not over and over. */
	mallopt(M_TOP_PAD, 16 << 20);

	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
		if (argc > 2 && (cmd = cli_find(argv[2]))) {
			fputs(cmd->usage, stdout);
			return 0;
		}
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "-version") == 0)
		return cmd_version(1, argv + 1);
	cmd = cli_find(argv[1]);
	if (!cmd) {
		const char *names[32];
		size_t n = 0;
		for (const struct cli_command *c = cli_commands; c->name && n < 31; c++)
			names[n++] = c->name;
		names[n] = NULL;
		const char *s = diag_suggest(argv[1], names);
		if (argv[1][0] == '-')
			fprintf(stderr, "stk: unknown flag '%s'\n", argv[1]);
		else if (s)
			fprintf(stderr, "stk: unknown command '%s'; did you mean '%s'?\n", argv[1], s);
		else
			fprintf(stderr, "stk: unknown command '%s'\n", argv[1]);
		fputc('\n', stderr);
		usage(stderr);
		return 1;
	}
	/* -no-color is taken out here, so that every command has it (Terraform's CI scripts pass
	 * it to all of them) and none of their own flag parsers needs to know it */
	int n = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-no-color") || !strcmp(argv[i], "--no-color"))
			cli_no_color = 1;
		else
			argv[n++] = argv[i];
	}
	argv[n] = NULL;
	return cmd->run(n - 1, argv + 1);
}

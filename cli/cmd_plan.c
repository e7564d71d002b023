/* cmd_plan.c: stk plan and stk graph. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "planner/check.h"
#include "planner/config.h"
#include "planner/graph.h"
#include "planner/apply.h"
#include "planner/plan.h"
#include "planner/state.h"
#include "planner/value_json.h"
#include "planner/vars.h"

struct plan_args {
	const char *dir;
	int json, markdown, detailed, refresh, destroy;
	struct buf targets;    /* const char * */
	struct buf replaces;   /* const char * */
};

/* Flags shared by plan (and later apply): returns 0, or a usage error's exit status. */
static int parse_plan_args(const struct cli_command *self, int argc, char **argv, struct plan_args *pa,
			   struct vars_input *vi, struct diag_ctx *diag, int *help)
{
	const char *v;

	pa->refresh = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (cli_is_help(a)) {
			*help = 1;
			return 0;
		}
		if (cli_flag(a, "json", NULL)) {
			pa->json = 1;
		} else if (cli_flag(a, "markdown", NULL)) {
			pa->markdown = 1;
		} else if (cli_flag(a, "detailed-exitcode", NULL)) {
			pa->detailed = 1;
		} else if (cli_flag(a, "destroy", NULL)) {
			pa->destroy = 1;
		} else if (cli_flag(a, "refresh", &v)) {
			if (v && strcmp(v, "true") && strcmp(v, "false"))
				return cli_usage_error(self, "-refresh takes true or false, not '%s'", v);
			pa->refresh = !v || !strcmp(v, "true");
		} else if (cli_flag(a, "var", &v) || cli_flag(a, "var-file", &v) || cli_flag(a, "target", &v) ||
			   cli_flag(a, "replace", &v)) {
			const char *name = a + (a[1] == '-' ? 2 : 1);
			size_t nlen = strcspn(name, "=");
			if (!v) {
				if (i + 1 >= argc)
					return cli_usage_error(self, "%s needs a value", a);
				v = argv[++i];
			}
			if (!strncmp(name, "var-file", nlen) && nlen == 8) {
				if (vars_add_file(vi, v, diag))
					return 1;
			} else if (!strncmp(name, "var", nlen) && nlen == 3) {
				if (vars_add_arg(vi, v, diag))
					return 1;
			} else if (!strncmp(name, "target", nlen)) {
				buf_push(&pa->targets, const char *, v);
			} else {
				buf_push(&pa->replaces, const char *, v);
			}
		} else if (a[0] == '-' && a[1]) {
			return cli_usage_error(self, "unknown flag '%s'", a);
		} else if (pa->dir) {
			return cli_usage_error(self, "one directory only, got '%s' and '%s'", pa->dir, a);
		} else {
			pa->dir = a;
		}
	}
	if (!pa->dir)
		pa->dir = ".";
	if (pa->json && pa->markdown)
		return cli_usage_error(self, "-json and -markdown are two different outputs; choose one");
	return 0;
}

static char *state_path(const char *dir)
{
	const char *env = getenv("STK_STATE");

	if (env && *env)
		return xstrdup(env);
	return strcmp(dir, ".") ? xasprintf("%s/stk.state", dir) : xstrdup("stk.state");
}

/* What plan, apply and destroy share: the configuration, the locked state, the variables and
 * the plan made from them. */
struct run {
	struct plan_args pa;
	struct diag_ctx diag;
	struct config_module mod;
	struct vars_input vi;
	struct state st;
	struct state_lock lock;
	struct plan plan;
	struct plan_opts opts;
	struct plan_prior *priors;
	size_t nprior;
	char *path;
	int locked, auto_approve, parallelism;
};

static void run_init(struct run *r)
{
	memset(r, 0, sizeof *r);
	diag_init(&r->diag);
	config_module_init(&r->mod);
	vars_init(&r->vi);
	state_init(&r->st);
	state_lock_init(&r->lock);
	plan_init(&r->plan);
	r->parallelism = 10;
}

static void run_release(struct run *r)
{
	cli_print_diags(&r->diag);
	if (r->locked)
		state_unlock(&r->lock);
	apply_free_priors(r->priors, r->nprior);
	val_unref(r->opts.variables);
	val_unref((struct value *)r->opts.raw_variables);
	val_unref(r->opts.prior_outputs);
	plan_release(&r->plan);
	state_release(&r->st);
	vars_release(&r->vi);
	config_module_release(&r->mod);
	diag_release(&r->diag);
	buf_release(&r->pa.targets);
	buf_release(&r->pa.replaces);
	free(r->path);
}

/* Loads, locks, refreshes and plans. Returns 0, or -1 after diagnostics. */
static int run_plan(struct run *r, const char *operation)
{
	if (config_load_dir(&r->diag, r->pa.dir, &r->mod, 0) || r->diag.errors)
		return -1;
	if (check_module(&r->diag, &r->mod))
		return -1;
	r->path = state_path(r->pa.dir);
	if (state_lock(r->path, operation, &r->lock, &r->diag))
		return -1;
	r->locked = 1;
	if (state_read(r->path, &r->st, &r->diag) < 0)
		return -1;
	if (r->pa.refresh && apply_refresh(&r->diag, &r->st))
		return -1;
	/* command-line values come after the directory's own files and the environment */
	struct vars_input all;
	vars_init(&all);
	if (vars_add_defaults(&all, r->pa.dir, &r->diag)) {
		vars_release(&all);
		return -1;
	}
	for (size_t i = 0; i < buf_count(&r->vi.names, char *); i++) {
		buf_push(&all.names, char *, xstrdup(buf_at(&r->vi.names, char *, i)));
		buf_push(&all.values, struct value *, val_ref(buf_at(&r->vi.values, struct value *, i)));
		buf_push(&all.raw, int, buf_at(&r->vi.raw, int, i));
	}
	r->opts.variables = vars_values(&all);
	r->opts.raw_variables = vars_raw(&all);
	vars_release(&all);
	r->priors = apply_priors(&r->st, &r->nprior);
	r->opts.destroy = r->pa.destroy;
	r->opts.prior_outputs = apply_prior_outputs(&r->st);
	buf_push(&r->pa.targets, const char *, (const char *)NULL);
	buf_push(&r->pa.replaces, const char *, (const char *)NULL);
	r->opts.targets = buf_count(&r->pa.targets, const char *) > 1 ?
			  (const char *const *)(void *)r->pa.targets.data : NULL;
	r->opts.replaces = (const char *const *)(void *)r->pa.replaces.data;
	return plan_make(&r->diag, &r->mod, r->priors, r->nprior, &r->opts, &r->plan);
}

int cmd_plan(int argc, char **argv)
{
	const struct cli_command *self = cli_find("plan");
	struct run r;
	struct buf out = BUF_INIT;
	int help = 0, ret;

	run_init(&r);
	if ((ret = parse_plan_args(self, argc, argv, &r.pa, &r.vi, &r.diag, &help)) != 0 || help) {
		if (help)
			fputs(self->usage, stdout);
		goto out;
	}
	ret = 1;
	if (run_plan(&r, "plan"))
		goto out;
	if (r.pa.json)
		plan_render_json(&r.plan, &out);
	else if (r.pa.markdown)
		plan_render_markdown(&r.plan, &out);
	else
		plan_render_text(&r.plan, &out, cli_color(stdout));
	fwrite(out.data, 1, out.len, stdout);
	ret = r.pa.detailed && plan_has_changes(&r.plan) ? 2 : 0;
out:
	run_release(&r);
	buf_release(&out);
	return ret;
}

static void on_signal(int sig)
{
	(void)sig;
	/* the first stops new operations; the second stops waiting for the running ones */
	if (apply_interrupted++ >= 1) {
		static const char msg[] = "\nstk: interrupted again: exiting; the state records every "
					  "operation that completed\n";
		if (write(2, msg, sizeof msg - 1) < 0)
			_exit(130);
		_exit(130);
	}
	static const char msg[] = "\nstk: interrupted: waiting for the operations in flight, then "
				  "stopping (interrupt again to stop now)\n";
	if (write(2, msg, sizeof msg - 1) < 0)
		return;
}

/* Asks "yes" on a terminal; refuses without one rather than hang. */
static int confirm(struct diag_ctx *diag, int destroy)
{
	char line[64];

	if (!isatty(0)) {
		diag_error(diag, NULL, "%s needs confirmation, and standard input is not a terminal",
			   destroy ? "destroy" : "apply");
		diag_hint(diag, "review the plan, then run again with -auto-approve");
		return -1;
	}
	printf("\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n"
	       "  Enter a value: ");
	fflush(stdout);
	if (!fgets(line, sizeof line, stdin) || strcmp(line, "yes\n")) {
		diag_error(diag, NULL, "%s cancelled", destroy ? "destroy" : "apply");
		return -1;
	}
	return 0;
}

static void print_outputs(const struct state *st, int color)
{
	size_t width = 0;

	if (!st->noutputs)
		return;
	for (size_t i = 0; i < st->noutputs; i++)
		if (strlen(st->outputs[i].name) > width)
			width = strlen(st->outputs[i].name);
	printf("\n%sOutputs:%s\n\n", color ? "\033[1;32m" : "", color ? "\033[0m" : "");
	for (size_t i = 0; i < st->noutputs; i++) {
		struct buf b = BUF_INIT;
		val_write(st->outputs[i].value, &b);
		printf("%-*s = %s\n", (int)width, st->outputs[i].name, b.data);
		buf_release(&b);
	}
}

static int apply_or_destroy(int argc, char **argv, int destroy)
{
	const struct cli_command *self = cli_find(destroy ? "destroy" : "apply");
	struct run r;
	struct buf out = BUF_INIT, rest = BUF_INIT;
	struct apply_result res;
	struct apply_opts ao;
	struct sigaction sa;
	int help = 0, ret;

	run_init(&r);
	/* apply's own flags first; the rest are plan's */
	buf_push(&rest, char *, argv[0]);
	for (int i = 1; i < argc; i++) {
		const char *v;
		if (cli_flag(argv[i], "auto-approve", NULL)) {
			r.auto_approve = 1;
		} else if (cli_flag(argv[i], "parallelism", &v)) {
			if (!v && i + 1 < argc)
				v = argv[++i];
			char *end;
			long n = v ? strtol(v, &end, 10) : 0;
			if (!v || *end || n < 1 || n > 256) {
				ret = cli_usage_error(self, "-parallelism takes a number from 1 to 256");
				goto out;
			}
			r.parallelism = (int)n;
		} else {
			buf_push(&rest, char *, argv[i]);
		}
	}
	if (destroy)
		buf_push(&rest, char *, (char *)"-destroy");
	if ((ret = parse_plan_args(self, (int)buf_count(&rest, char *), (char **)(void *)rest.data, &r.pa,
				   &r.vi, &r.diag, &help)) != 0 || help) {
		if (help)
			fputs(self->usage, stdout);
		goto out;
	}
	ret = 1;
	{
		struct stat sb;
		if (stat(r.pa.dir, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
			diag_error(&r.diag, NULL, "%s is a file: applying a saved plan is not supported yet", r.pa.dir);
			diag_hint(&r.diag, "apply a configuration directory");
			goto out;
		}
	}
	if (run_plan(&r, destroy ? "destroy" : "apply"))
		goto out;
	plan_render_text(&r.plan, &out, cli_color(stdout));
	fwrite(out.data, 1, out.len, stdout);
	if (!plan_has_changes(&r.plan)) {
		ret = 0;
		goto out;
	}
	if (!r.auto_approve && confirm(&r.diag, destroy))
		goto out;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	memset(&ao, 0, sizeof ao);
	ao.parallelism = r.parallelism;
	ao.state_path = r.path;
	ao.out = stdout;
	ao.color = cli_color(stdout);
	printf("\n");
	ret = apply_run(&r.diag, &r.mod, &r.st, &r.plan, &r.opts, &ao, &res) ? 1 : 0;
	if (res.interrupted) {
		printf("\nInterrupted. Resources: %u added, %u changed, %u destroyed; the state records them.\n",
		       res.added, res.changed, res.destroyed);
		ret = 130;
	} else if (ret) {
		printf("\nApply failed. Resources: %u added, %u changed, %u destroyed, %u failed.\n",
		       res.added, res.changed, res.destroyed, res.failed);
	} else {
		printf("\n%sApply complete!%s Resources: %u added, %u changed, %u destroyed.\n",
		       ao.color ? "\033[1;32m" : "", ao.color ? "\033[0m" : "", res.added, res.changed,
		       res.destroyed);
		if (!destroy)
			print_outputs(&r.st, ao.color);
	}
out:
	run_release(&r);
	buf_release(&out);
	buf_release(&rest);
	return ret;
}

int cmd_apply(int argc, char **argv)
{
	return apply_or_destroy(argc, argv, 0);
}

int cmd_destroy(int argc, char **argv)
{
	return apply_or_destroy(argc, argv, 1);
}

int cmd_output(int argc, char **argv)
{
	const struct cli_command *self = cli_find("output");
	const char *name = NULL, *dir = ".";
	int json = 0, raw = 0, ret = 1;
	struct diag_ctx diag;
	struct state st;
	char *path = NULL;

	for (int i = 1; i < argc; i++) {
		const char *v;
		if (cli_is_help(argv[i])) {
			fputs(self->usage, stdout);
			return 0;
		}
		if (cli_flag(argv[i], "json", NULL))
			json = 1;
		else if (cli_flag(argv[i], "raw", NULL))
			raw = 1;
		else if (cli_flag(argv[i], "dir", &v) || cli_flag(argv[i], "chdir", &v))
			dir = v ? v : (i + 1 < argc ? argv[++i] : ".");
		else if (argv[i][0] == '-')
			return cli_usage_error(self, "unknown flag '%s'", argv[i]);
		else if (name)
			return cli_usage_error(self, "one output name only");
		else
			name = argv[i];
	}
	diag_init(&diag);
	state_init(&st);
	path = state_path(dir);
	if (state_read(path, &st, &diag) < 0)
		goto out;
	if (name) {
		struct state_output *o = state_find_output(&st, name);
		struct buf b = BUF_INIT;
		if (!o) {
			diag_error(&diag, NULL, "no output named %s in %s", name, path);
			goto out;
		}
		/* asked for by name: the value itself, sensitive or not */
		struct value *plain = val_unmark(o->value);
		if (raw && plain->kind == VAL_STRING) {
			fwrite(plain->u.str.s, 1, plain->u.str.len, stdout);
		} else if (json) {
			struct buf j = BUF_INIT;
			json_t *jv = val_to_json(plain);
			char *t = jv ? json_dumps(jv, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
			printf("%s\n", t ? t : "null");
			free(t);
			json_decref(jv);
			buf_release(&j);
		} else {
			val_write(plain, &b);
			printf("%s\n", b.data);
		}
		val_unref(plain);
		buf_release(&b);
		ret = 0;
		goto out;
	}
	if (json) {
		json_t *all = json_object();
		for (size_t i = 0; i < st.noutputs; i++) {
			json_t *o = json_object();
			/* in the list, a sensitive value stays hidden: ask for it by name */
			json_object_set_new(o, "sensitive", json_boolean(st.outputs[i].sensitive));
			json_object_set_new(o, "value", st.outputs[i].sensitive ? json_null() :
					    val_to_json(st.outputs[i].value));
			json_object_set_new(all, st.outputs[i].name, o);
		}
		char *t = json_dumps(all, JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("%s\n", t);
		free(t);
		json_decref(all);
	} else {
		for (size_t i = 0; i < st.noutputs; i++) {
			struct buf b = BUF_INIT;
			val_write(st.outputs[i].value, &b);
			printf("%s = %s\n", st.outputs[i].name, b.data);
			buf_release(&b);
		}
	}
	ret = 0;
out:
	cli_print_diags(&diag);
	state_release(&st);
	diag_release(&diag);
	free(path);
	return ret;
}

int cmd_graph(int argc, char **argv)
{
	const struct cli_command *self = cli_find("graph");
	const char *dir = NULL;
	struct diag_ctx diag;
	struct config_module mod;
	struct graph g;
	struct buf out = BUF_INIT;
	int ret = 1;

	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(self->usage, stdout);
			return 0;
		}
		if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error(self, "unknown flag '%s'", argv[i]);
		if (dir)
			return cli_usage_error(self, "one directory only");
		dir = argv[i];
	}
	diag_init(&diag);
	config_module_init(&mod);
	graph_init(&g, &diag);
	if (config_load_dir(&diag, dir ? dir : ".", &mod, 0) || diag.errors)
		goto out;
	if (check_module(&diag, &mod))
		goto out;
	if (graph_build(&g, &mod))
		goto out;
	graph_dot(&g, &out);
	fwrite(out.data, 1, out.len, stdout);
	ret = 0;
out:
	cli_print_diags(&diag);
	graph_release(&g);
	config_module_release(&mod);
	diag_release(&diag);
	buf_release(&out);
	return ret;
}

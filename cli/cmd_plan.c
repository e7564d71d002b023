/* cmd_plan.c: stk plan and stk graph. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "planner/check.h"
#include "planner/config.h"
#include "planner/graph.h"
#include "planner/plan.h"
#include "planner/state.h"
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

/* The state's instances as the planner sees them. */
static struct plan_prior *priors_from_state(const struct state *st, size_t *n)
{
	struct buf out = BUF_INIT;

	for (size_t i = 0; i < st->nresources; i++) {
		const struct state_resource *r = st->resources[i];
		for (size_t k = 0; k < r->ninstances; k++) {
			const struct state_instance *in = r->instances[k];
			struct plan_prior p;
			struct buf addr = BUF_INIT;
			/* an unresolved intent is no object yet: the apply that resolves intents owns it */
			if (in->status == STATE_PENDING)
				continue;
			state_instance_address(r, in, &addr);
			p.addr = buf_detach(&addr, NULL);
			p.type = xstrdup(r->type);
			p.data = r->mode == ADDR_DATA;
			p.attrs = val_ref(in->attrs);
			p.tainted = in->status == STATE_TAINTED;
			buf_push(&out, struct plan_prior, p);
		}
	}
	*n = buf_count(&out, struct plan_prior);
	return (struct plan_prior *)(void *)buf_detach(&out, NULL);
}

static struct value *outputs_from_state(const struct state *st)
{
	struct val_pair *p = xcalloc(st->noutputs ? st->noutputs : 1, sizeof *p);
	struct value *r;

	for (size_t i = 0; i < st->noutputs; i++) {
		p[i].key = xstrdup(st->outputs[i].name);
		p[i].val = val_ref(st->outputs[i].value);
	}
	r = val_map_take(p, st->noutputs);
	free(p);
	return r;
}

int cmd_plan(int argc, char **argv)
{
	const struct cli_command *self = cli_find("plan");
	struct plan_args pa;
	struct diag_ctx diag;
	struct config_module mod;
	struct vars_input vi;
	struct state st;
	struct state_lock lock;
	struct plan plan;
	struct plan_opts opts;
	struct plan_prior *priors = NULL;
	size_t nprior = 0;
	struct buf out = BUF_INIT;
	char *path = NULL;
	int help = 0, ret = 1, locked = 0;

	memset(&pa, 0, sizeof pa);
	memset(&opts, 0, sizeof opts);
	diag_init(&diag);
	config_module_init(&mod);
	vars_init(&vi);
	state_init(&st);
	state_lock_init(&lock);
	plan_init(&plan);
	if ((ret = parse_plan_args(self, argc, argv, &pa, &vi, &diag, &help)) != 0 || help) {
		if (help)
			fputs(self->usage, stdout);
		goto out;
	}
	ret = 1;
	if (config_load_dir(&diag, pa.dir, &mod, 0) || diag.errors)
		goto out;
	if (check_module(&diag, &mod))
		goto out;
	path = state_path(pa.dir);
	if (state_lock(path, "plan", &lock, &diag))
		goto out;
	locked = 1;
	if (state_read(path, &st, &diag) < 0)
		goto out;
	if (pa.refresh && st.nresources) {
		/* no provider can read the cloud yet: say so rather than plan from stale data */
		diag_error(&diag, NULL, "refreshing %s needs the providers, which this build does not have yet",
			   path);
		diag_hint(&diag, "run stk plan -refresh=false to plan from the state as it is");
		goto out;
	}
	/* command-line values come after the directory's own files and the environment */
	{
		struct vars_input all;
		vars_init(&all);
		if (vars_add_defaults(&all, pa.dir, &diag)) {
			vars_release(&all);
			goto out;
		}
		for (size_t i = 0; i < buf_count(&vi.names, char *); i++) {
			buf_push(&all.names, char *, xstrdup(buf_at(&vi.names, char *, i)));
			buf_push(&all.values, struct value *, val_ref(buf_at(&vi.values, struct value *, i)));
			buf_push(&all.raw, int, buf_at(&vi.raw, int, i));
		}
		opts.variables = vars_values(&all);
		opts.raw_variables = vars_raw(&all);
		vars_release(&all);
	}
	priors = priors_from_state(&st, &nprior);
	opts.destroy = pa.destroy;
	opts.prior_outputs = outputs_from_state(&st);
	buf_push(&pa.targets, const char *, (const char *)NULL);
	buf_push(&pa.replaces, const char *, (const char *)NULL);
	opts.targets = buf_count(&pa.targets, const char *) > 1 ?
		       (const char *const *)(void *)pa.targets.data : NULL;
	opts.replaces = (const char *const *)(void *)pa.replaces.data;
	if (plan_make(&diag, &mod, priors, nprior, &opts, &plan))
		goto out;
	if (pa.json)
		plan_render_json(&plan, &out);
	else if (pa.markdown)
		plan_render_markdown(&plan, &out);
	else
		plan_render_text(&plan, &out, cli_color(stdout));
	fwrite(out.data, 1, out.len, stdout);
	ret = pa.detailed && plan_has_changes(&plan) ? 2 : 0;
out:
	cli_print_diags(&diag);
	if (locked)
		state_unlock(&lock);
	for (size_t i = 0; i < nprior; i++) {
		free(priors[i].addr);
		free(priors[i].type);
		val_unref(priors[i].attrs);
	}
	free(priors);
	val_unref(opts.variables);
	val_unref((struct value *)opts.raw_variables);
	val_unref(opts.prior_outputs);
	plan_release(&plan);
	state_release(&st);
	vars_release(&vi);
	config_module_release(&mod);
	diag_release(&diag);
	buf_release(&pa.targets);
	buf_release(&pa.replaces);
	buf_release(&out);
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

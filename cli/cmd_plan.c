/* cmd_plan.c: stk plan and stk graph. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "config.h"
#include "cli/cli.h"
#include "parser/ast.h"
#include "parser/fmt.h"
#include "parser/parse.h"
#include "planner/check.h"
#include "planner/crypt.h"
#include "planner/moved.h"
#include "planner/config.h"
#include "planner/graph.h"
#include "planner/apply.h"
#include "planner/plan.h"
#include "planner/state.h"
#include "planner/value_json.h"
#include "planner/vars.h"
#include "planner/walk.h"
#include "providers/net.h"

struct plan_args {
	const char *dir;
	const char *out;       /* -out FILE: the saved plan */
	const char *generate_out; /* -generate-config-out FILE (plan only): the blocks written for
				     imports to resources the configuration does not declare */
	int json, markdown, detailed, refresh, destroy, refresh_only;
	unsigned long lock_timeout_ms;   /* -lock-timeout: wait this long for another run's lock */
	const char *shaping;   /* the first flag that shapes a plan (-var, -target, ...), which a
				  saved plan fixed when it was made */
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
		if (cli_flag(a, "out", &v)) {
			if (!v) {
				if (i + 1 >= argc)
					return cli_usage_error(self, "-out needs a file name");
				v = argv[++i];
			}
			pa->out = v;
			pa->shaping = pa->shaping ? pa->shaping : a;
		} else if (cli_flag(a, "generate-config-out", &v)) {
			if (strcmp(self->name, "plan"))
				return cli_usage_error(self, "-generate-config-out is stk plan's: it writes the blocks "
						       "for the imports, to review before an apply");
			if (!v) {
				if (i + 1 >= argc)
					return cli_usage_error(self, "-generate-config-out needs a file name");
				v = argv[++i];
			}
			if (strlen(v) < 5 || strcmp(v + strlen(v) - 4, ".stk"))
				return cli_usage_error(self, "-generate-config-out takes a file name ending in .stk, "
						       "which stk reads as configuration, not '%s'", v);
			pa->generate_out = v;
		} else if (cli_flag(a, "lock-timeout", &v)) {
			if (!v && i + 1 < argc)
				v = argv[++i];
			int secs = v ? schema_duration(v) : -1;
			if (secs < 0)
				return cli_usage_error(self, "-lock-timeout takes a duration such as 30s or 5m");
			pa->lock_timeout_ms = (unsigned long)secs * 1000;
		} else if (cli_flag(a, "json", NULL)) {
			pa->json = 1;
		} else if (cli_flag(a, "markdown", NULL)) {
			pa->markdown = 1;
		} else if (cli_flag(a, "detailed-exitcode", NULL)) {
			pa->detailed = 1;
		} else if (cli_flag(a, "destroy", NULL)) {
			pa->destroy = 1;
			pa->shaping = pa->shaping ? pa->shaping : a;
		} else if (cli_flag(a, "refresh-only", NULL)) {
			pa->refresh_only = 1;
			pa->shaping = pa->shaping ? pa->shaping : a;
		} else if (cli_flag(a, "refresh", &v)) {
			if (v && strcmp(v, "true") && strcmp(v, "false"))
				return cli_usage_error(self, "-refresh takes true or false, not '%s'", v);
			pa->refresh = !v || !strcmp(v, "true");
			pa->shaping = pa->shaping ? pa->shaping : a;
		} else if (cli_flag(a, "var", &v) || cli_flag(a, "var-file", &v) || cli_flag(a, "target", &v) ||
			   cli_flag(a, "replace", &v)) {
			const char *name = a + (a[1] == '-' ? 2 : 1);
			size_t nlen = strcspn(name, "=");
			pa->shaping = pa->shaping ? pa->shaping : a;
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
	if (pa->generate_out && pa->destroy)
		return cli_usage_error(self, "-generate-config-out cannot be used with -destroy: a destroy imports "
				       "nothing");
	if (pa->refresh_only) {
		/* it plans no change: nothing to save, destroy, target or replace, and its report
		 * is the drift, which has no JSON or Markdown form */
		const char *clash = pa->out ? "-out" : pa->destroy ? "-destroy" : !pa->refresh ? "-refresh=false" :
				    pa->generate_out ? "-generate-config-out" :
				    pa->json ? "-json" : pa->markdown ? "-markdown" :
				    buf_count(&pa->targets, const char *) ? "-target" :
				    buf_count(&pa->replaces, const char *) ? "-replace" : NULL;
		if (clash)
			return cli_usage_error(self, "-refresh-only cannot be used with %s: it only reads the objects "
					       "back and records them", clash);
	}
	return 0;
}

/* The state's lock is a DynamoDB item: exiting from the signal handler would leave it. */
static volatile sig_atomic_t remote_lock;
static volatile sig_atomic_t applying;   /* apply_run has started */
/* a local state's lock file, removed by an interrupt that ends the process at once (the lock
 * itself goes with the process; the file would stay and name a run that is gone) */
static const char *volatile local_lock_file;
static void on_signal(int sig);

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
	struct plan_prior *deposed;   /* the state's deposed objects, to destroy */
	size_t ndeposed;
	char *path;
	int locked, auto_approve, parallelism;
	int state_new;          /* there was no state file */
	char config_sha256[65];
	size_t config_sources;  /* how many of diag's sources are the configuration's files */
	char *generated_name;   /* -generate-config-out's file as config_load_dir names it */
	json_t *saved;          /* apply PLANFILE: the saved plan */
	struct buf drift;       /* "Changed outside stk": what the refresh found */
	struct strmap configs;  /* provider blocks' values for refresh (plan_providers) */
	struct moves moves;     /* the moved blocks, applied to the state before all else */
	int configs_made;       /* configs holds them */
	struct strmap imports;  /* import blocks: instance address -> ID (both owned), the object
				   read and added to st (in memory, until apply writes it) */
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
	strmap_init(&r->configs);
	moves_init(&r->moves);
	strmap_init(&r->imports);
	r->parallelism = 10;
}

static void run_release(struct run *r)
{
	/* a second interrupt cancelled every request: the unlock must still go out */
	if (net_loaded() && net_loaded()->http_cancelled())
		net_loaded()->http_cancel_reset();
	local_lock_file = NULL;
	if (r->locked)
		state_unlock(&r->lock, &r->diag);
	cli_print_diags(&r->diag);
	cli_state_close();
	if (!cli_free_at_exit()) {
		/* the process ends next */
		cli_keep(r, sizeof *r);
		return;
	}
	apply_free_priors(r->priors, r->nprior);
	apply_free_priors(r->deposed, r->ndeposed);
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
	free(r->generated_name);
	json_decref(r->saved);
	buf_release(&r->drift);
	plan_providers_release(&r->configs);
	moves_release(&r->moves);
	for (size_t i = 0; i < r->imports.cap; i++)
		if (r->imports.slots[i].key) {
			free((char *)r->imports.slots[i].key);
			free(r->imports.slots[i].value);
		}
	strmap_release(&r->imports);
}

/* The provider blocks, evaluated so that refresh reads where apply wrote (an aliased
 * provider's region, a profile). */
static int provider_configs(struct run *r)
{
	size_t n;
	struct plan_prior *priors = apply_priors(&r->st, &n);
	int ret = plan_providers(&r->diag, &r->mod, priors, n, &r->opts, &r->configs);

	apply_free_priors(priors, n);
	r->configs_made = 1;
	return ret;
}

static void config_digest(const struct diag_ctx *diag, size_t n, const struct source *extra, char out[65]);

/* The name config_load_dir gives the file at path when it reads dir, or NULL after an error:
 * the file must be one it reads, in dir itself and not hidden, or the next plan would not
 * see the blocks this one plans with. */
static char *generated_name(struct diag_ctx *diag, const char *dir, const char *path)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	char *in = slash ? xstrndup(path, (size_t)(slash - path) + (slash == path)) : xstrdup(".");
	char *real_in = realpath(in, NULL), *real_dir = realpath(dir, NULL), *name = NULL;

	if (*base == '.' || !real_in || !real_dir || strcmp(real_in, real_dir)) {
		diag_error(diag, NULL, "-generate-config-out must name a new .stk file in the configuration's "
			   "directory %s, not %s", dir, path);
		name = config_file_path(dir, "generated.stk");
		diag_hint(diag, "the next plan reads only that directory's .stk files (not hidden ones): "
			  "such as -generate-config-out=%s", name);
		free(name);
		name = NULL;
		goto out;
	}
	name = config_file_path(dir, base);
out:
	free(in);
	free(real_in);
	free(real_dir);
	return name;
}

/* The blocks generated for imports (text), under a header, formatted as stk fmt would, into
 * the new file -generate-config-out names; then read as a file of the configuration, which is
 * checked again with them: the plan goes on as if they had been written by hand, as
 * Terraform's does. The file stays when the check fails, for the user to fix. */
static int write_generated(struct run *r, const struct buf *text)
{
	const char *path = r->pa.generate_out;
	struct buf all = BUF_INIT, formatted = BUF_INIT;
	const struct buf *w = &all;
	struct diag_ctx scratch;
	unsigned errors = r->diag.errors;
	int fd, ret = -1;

	buf_addstr(&all, "# __generated__ by stk\n# Review these resources, then move them into your configuration's "
		   "files.\n\n");
	buf_add(&all, text->data, text->len);
	diag_init(&scratch);
	struct ast_file *f = parse_source(&scratch, diag_add_source(&scratch, path, xstrndup(all.data, all.len),
								     all.len), 1);
	if (!scratch.errors && fmt_format(f, &formatted) == 0)
		w = &formatted;
	ast_file_free(f);
	diag_release(&scratch);
	/* a new file only: one that appeared since the flag was read is not overwritten */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int err = fd < 0 ? errno : buf_write_fd(fd, w->data, w->len) ? errno : 0;
	if (fd >= 0 && close(fd) && !err)
		err = errno;
	if (err) {
		diag_error(&r->diag, NULL, "cannot write the generated configuration to %s: %s", path, strerror(err));
		if (err == EEXIST)
			diag_hint(&r->diag, "-generate-config-out writes a new file: name another, or move that one away");
		else if (fd >= 0)
			unlink(path);
		goto out;
	}
	diag_note(&r->diag, NULL, "stk wrote configuration for the imports to %s: review it, and edit it as "
		  "needed before you add it to version control", path);
	/* read under the name the next run's config_load_dir gives it: the saved plan's digest,
	 * and every message, name it as that run will */
	if (config_add_file(&r->diag, r->generated_name, &r->mod) || r->diag.errors > errors ||
	    check_module(&r->diag, &r->mod)) {
		diag_hint(&r->diag, "the configuration written to %s needs editing: fix it, then run stk plan "
			  "without -generate-config-out", path);
		goto out;
	}
	/* a saved plan is applied against the configuration with the new file */
	if (r->pa.out)
		config_digest(&r->diag, r->config_sources,
			      buf_at(&r->diag.sources, struct source *, buf_count(&r->diag.sources, struct source *) - 1),
			      r->config_sha256);
	ret = 0;
out:
	buf_release(&all);
	buf_release(&formatted);
	return ret;
}

/* The root module's import blocks: each object is read through its provider (with
 * -refresh=false too, as Terraform does: there is nothing to plan against otherwise) and added
 * to the state in memory, where the plan compares it with the configuration as any object
 * there. Only apply writes it. */
static int run_imports(struct run *r)
{
	struct buf imports = BUF_INIT, generated = BUF_INIT;
	size_t n;
	struct plan_prior *priors = apply_priors(&r->st, &n);
	int ret;

	r->opts.generate = r->pa.generate_out != NULL;
	ret = plan_imports(&r->diag, &r->mod, priors, n, &r->opts, &imports);

	apply_free_priors(priors, n);
	if (ret || !buf_count(&imports, struct plan_import))
		goto out;
	if (!r->configs_made && provider_configs(r)) {
		ret = -1;
		goto out;
	}
	for (size_t i = 0; i < buf_count(&imports, struct plan_import); i++) {
		const struct plan_import *im = &buf_at(&imports, struct plan_import, i);
		const struct ast_item *id = ast_body_find(&im->block->body, "id");
		struct value *obj = NULL;
		struct addr a;
		/* the planner made the address: it parses */
		addr_init(&a);
		if (addr_parse(&a, im->addr, NULL) ||
		    apply_import_read(&r->diag, &r->configs, im->addr, a.module, im->type, im->provider, im->id,
				      &id->value->span, &obj)) {
			addr_release(&a);
			ret = -1;
			continue;
		}
		if (im->generate) {
			if (generated.len)
				buf_addch(&generated, '\n');
			plan_render_generated(im->type, a.name, im->id, obj, &generated);
		}
		state_instance_set_attrs(state_add_instance(&r->st, &a, im->provider), obj);
		/* the block it was read through, as apply records the objects it makes */
		char *pmod = plan_provider_module(&r->configs, a.module, im->provider);
		state_resource_set_provider_module(state_find_resource(&r->st, &a), pmod);
		free(pmod);
		strmap_put(&r->imports, xstrdup(im->addr), xstrdup(im->id));
		addr_release(&a);
		val_unref(obj);
	}
	r->opts.imports = &r->imports;
	if (!ret && generated.len)
		ret = write_generated(r, &generated);
out:
	plan_imports_release(&imports);
	buf_release(&generated);
	return ret;
}

/* What -target left out of the plan is not imported either: its object leaves the state again. */
static void drop_untargeted_imports(struct run *r)
{
	for (size_t i = 0; i < r->imports.cap; i++) {
		const char *addr = r->imports.slots[i].key;
		int planned = 0;
		struct addr a;
		if (!addr)
			continue;
		for (size_t k = 0; k < buf_count(&r->plan.changes, struct plan_change *) && !planned; k++) {
			const struct plan_change *c = buf_at(&r->plan.changes, struct plan_change *, k);
			planned = c->importing && !strcmp(c->addr, addr);
		}
		addr_init(&a);
		if (!planned && addr_parse(&a, addr, NULL) == 0)
			state_remove_instance(&r->st, &a);
		addr_release(&a);
	}
}

/* Does st hold an interrupted create: a pending intent, or a ready instance with a token (a
 * create_before_destroy replacement that was under way)? */
static int has_pending(const struct state *st)
{
	for (size_t i = 0; i < st->nresources; i++)
		for (size_t k = 0; k < st->resources[i]->ninstances; k++)
			if (st->resources[i]->instances[k]->status == STATE_PENDING ||
			    st->resources[i]->instances[k]->token)
				return 1;
	return 0;
}

static int cmp_sources(const void *a, const void *b)
{
	return strcmp((*(struct source *const *)a)->name, (*(struct source *const *)b)->name);
}

/* A digest of the configuration's files, the first n sources of diag (the root's and its
 * modules', read first), and extra when not NULL (a file -generate-config-out wrote): a saved
 * plan is refused when any of them changed. */
static void config_digest(const struct diag_ctx *diag, size_t n, const struct source *extra, char out[65])
{
	struct source **v = xmalloc((n + 1) * sizeof *v);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char d[32];
	unsigned int dl = 0;

	memcpy(v, diag->sources.data, n * sizeof *v);
	if (extra)
		v[n++] = (struct source *)extra;
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_sources);
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (size_t i = 0; i < n; i++) {
		char len[32];
		snprintf(len, sizeof len, "%zu", v[i]->len);
		EVP_DigestUpdate(md, v[i]->name, strlen(v[i]->name) + 1);
		EVP_DigestUpdate(md, len, strlen(len) + 1);
		EVP_DigestUpdate(md, v[i]->text, v[i]->len);
	}
	EVP_DigestFinal_ex(md, d, &dl);
	EVP_MD_CTX_free(md);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	free(v);
}

/* The digest of a value as planned: its kind, whether it is known and sensitive, and its
 * content. Two plans that would write different values differ in it. */
static void digest_value(EVP_MD_CTX *md, const struct value *v)
{
	unsigned char tag[2] = { v ? (unsigned char)v->kind : 0xff,
				 v ? (unsigned char)(v->marks & (VAL_UNKNOWN | VAL_SENSITIVE)) : 0 };
	char num[40];

	EVP_DigestUpdate(md, tag, sizeof tag);
	if (!v || (v->marks & VAL_UNKNOWN))
		return;
	switch (v->kind) {
	case VAL_BOOL:
		EVP_DigestUpdate(md, v->u.b ? "t" : "f", 1);
		break;
	case VAL_NUMBER:
		snprintf(num, sizeof num, "%.17g", v->u.n);
		EVP_DigestUpdate(md, num, strlen(num) + 1);
		break;
	case VAL_STRING:
		snprintf(num, sizeof num, "%zu:", v->u.str.len);
		EVP_DigestUpdate(md, num, strlen(num));
		EVP_DigestUpdate(md, v->u.str.s, v->u.str.len);
		break;
	case VAL_LIST:
	case VAL_SET:
		snprintf(num, sizeof num, "%zu[", v->u.list.n);
		EVP_DigestUpdate(md, num, strlen(num));
		for (size_t i = 0; i < v->u.list.n; i++)
			digest_value(md, v->u.list.items[i]);
		break;
	case VAL_MAP:
		snprintf(num, sizeof num, "%zu{", v->u.map.n);
		EVP_DigestUpdate(md, num, strlen(num));
		for (size_t i = 0; i < v->u.map.n; i++) {
			snprintf(num, sizeof num, "%zu:", strlen(v->u.map.items[i].key));
			EVP_DigestUpdate(md, num, strlen(num));
			EVP_DigestUpdate(md, v->u.map.items[i].key, strlen(v->u.map.items[i].key));
			digest_value(md, v->u.map.items[i].val);
		}
		break;
	default:
		break;
	}
}

/* "after_sha256" of a change or an output: what apply would write. */
static json_t *after_digest(const struct value *after)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char d[32];
	unsigned int dl = 0;
	char hex[65];

	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	digest_value(md, after);
	EVP_DigestFinal_ex(md, d, &dl);
	EVP_MD_CTX_free(md);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return json_string(hex);
}

/* 2: each change and output carries after_sha256 */
#define SAVED_PLAN_VERSION 2

static const char *action_name(enum plan_action a)
{
	switch (a) {
	case PLAN_CREATE: return "create";
	case PLAN_UPDATE: return "update";
	case PLAN_REPLACE: return "replace";
	case PLAN_DELETE: return "delete";
	case PLAN_READ: return "read";
	default: return "no-op";
	}
}

static json_t *strings_json(const struct buf *b)
{
	json_t *a = json_array();
	for (size_t i = 0; i < buf_count(b, const char *); i++)
		if (buf_at(b, const char *, i))
			json_array_append_new(a, json_string(buf_at(b, const char *, i)));
	return a;
}

/* The plan as stk plan prints it, in its three forms (the text without colour), for stk show:
 * a saved plan holds digests of the values, not the values, so it cannot be drawn again. */
static json_t *renderings(const struct run *r)
{
	json_t *j = json_object();
	struct buf b = BUF_INIT;

	if (r->drift.len)
		buf_printf(&b, "Changed outside stk:\n\n%s\n", r->drift.data);
	plan_render_text(&r->plan, &b, 0, NULL);
	json_object_set_new(j, "text", json_stringn(b.data ? b.data : "", b.len));
	buf_reset(&b);
	plan_render_json(&r->plan, &b);
	json_object_set_new(j, "json", json_stringn(b.data ? b.data : "", b.len));
	buf_reset(&b);
	plan_render_markdown(&r->plan, &b);
	json_object_set_new(j, "markdown", json_stringn(b.data ? b.data : "", b.len));
	buf_release(&b);
	return j;
}

/* One change ({"address": ...}) or output ({"name": ...}) of a saved plan. */
static json_t *saved_entry(const char *field, const char *name, enum plan_action action,
			   const struct value *after, const char *importing, const char *deposed)
{
	json_t *e = json_object();

	json_object_set_new(e, field, json_string(name));
	if (importing)
		json_object_set_new(e, "importing", json_string(importing));
	if (deposed)
		json_object_set_new(e, "deposed", json_string(deposed));
	json_object_set_new(e, "action", json_string(action_name(action)));
	json_object_set_new(e, "after_sha256", after_digest(after));
	return e;
}

/* -out FILE: what apply needs to do exactly this plan again, and to know when it cannot: the
 * state's lineage and serial, a digest of the configuration, the inputs, the actions, and a
 * digest of each value the plan showed (a file() the configuration reads may change after).
 * It holds variable values, so it is written 0600, like the state. */
static int save_plan(struct run *r, const char *file)
{
	json_t *root = json_object(), *changes = json_array(), *outputs = json_array();
	json_t *vars = val_to_json(r->opts.variables);
	json_t *origins = val_to_json(r->opts.raw_variables);
	char *text = NULL;
	struct buf body = BUF_INIT, sealed = BUF_INIT;
	int fd = -1, ret = -1;

	json_object_set_new(root, "format", json_string("stk-plan"));
	json_object_set_new(root, "version", json_integer(SAVED_PLAN_VERSION));
	json_object_set_new(root, "stk_version", json_string(PACKAGE_VERSION));
	json_object_set_new(root, "dir", json_string(r->pa.dir));
	json_object_set_new(root, "lineage", r->st.lineage && !r->state_new ? json_string(r->st.lineage) :
			    json_null());
	json_object_set_new(root, "serial", json_integer((json_int_t)r->st.serial));
	json_object_set_new(root, "config_sha256", json_string(r->config_sha256));
	json_object_set_new(root, "workspace", json_string(cli_workspace_current()));
	json_object_set_new(root, "variables", vars ? vars : json_object());
	json_object_set_new(root, "variable_origins", origins ? origins : json_object());
	json_object_set_new(root, "targets", strings_json(&r->pa.targets));
	json_object_set_new(root, "replaces", strings_json(&r->pa.replaces));
	json_object_set_new(root, "destroy", json_boolean(r->pa.destroy));
	json_object_set_new(root, "refresh", json_boolean(r->pa.refresh));
	for (size_t i = 0; i < buf_count(&r->plan.changes, struct plan_change *); i++) {
		const struct plan_change *c = buf_at(&r->plan.changes, struct plan_change *, i);
		if (c->action == PLAN_NOOP && !c->moved_from && !c->importing)
			continue;
		json_array_append_new(changes, saved_entry("address", c->addr, c->action, c->after, c->importing,
									 c->deposed));
	}
	json_object_set_new(root, "changes", changes);
	for (size_t i = 0; i < buf_count(&r->plan.outputs, struct plan_output *); i++) {
		const struct plan_output *o = buf_at(&r->plan.outputs, struct plan_output *, i);
		json_array_append_new(outputs, saved_entry("name", o->name, o->action, o->after, NULL, NULL));
	}
	json_object_set_new(root, "outputs", outputs);
	json_object_set_new(root, "rendered", renderings(r));
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	/* sealed like the state, when the state is: it holds the same variables */
	buf_addstr(&body, text);
	buf_addch(&body, '\n');
	if (state_seal(body.data, body.len, &sealed, &r->diag))
		goto out;
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) || write(fd, sealed.data, sealed.len) != (ssize_t)sealed.len || fsync(fd)) {
		diag_error(&r->diag, NULL, "cannot write the plan to %s: %s", file, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(text);
	buf_release(&body);
	buf_release(&sealed);
	json_decref(root);
	return ret;
}

/* Is digest (after_digest) the one the saved entry s recorded? */
static int same_digest(const json_t *s, json_t *digest)
{
	int same = json_equal(json_object_get(s, "after_sha256"), digest);

	json_decref(digest);
	return same;
}

/* Does the new plan do what the saved one showed? Same addresses, same actions, the same
 * values for the resources and the outputs. */
static int same_actions(struct run *r)
{
	json_t *saved = json_object_get(r->saved, "changes");
	json_t *outputs = json_object_get(r->saved, "outputs");
	size_t k = 0;

	for (size_t i = 0; i < buf_count(&r->plan.changes, struct plan_change *); i++) {
		const struct plan_change *c = buf_at(&r->plan.changes, struct plan_change *, i);
		if (c->action == PLAN_NOOP && !c->moved_from && !c->importing)
			continue;
		json_t *s = json_array_get(saved, k++);
		const char *imported = s ? json_string_value(json_object_get(s, "importing")) : NULL;
		const char *deposed = s ? json_string_value(json_object_get(s, "deposed")) : NULL;
		if (!s || strcmp(json_string_value(json_object_get(s, "address")) ?: "", c->addr) ||
		    strcmp(json_string_value(json_object_get(s, "action")) ?: "", action_name(c->action)) ||
		    strcmp(imported ?: "", c->importing ?: "") || strcmp(deposed ?: "", c->deposed ?: "")) {
			diag_error(&r->diag, NULL, "the saved plan no longer matches: %s%s%s%s would now %s%s%s%s",
				   c->addr, c->deposed ? " (deposed object " : "", c->deposed ?: "",
				   c->deposed ? ")" : "", action_name(c->action),
				   c->importing ? " (imported from \"" : "", c->importing ?: "", c->importing ? "\")" : "");
			diag_hint(&r->diag, "something outside the plan changed; make a new plan");
			return 0;
		}
		if (!same_digest(s, after_digest(c->after))) {
			diag_error(&r->diag, NULL, "the saved plan no longer matches: %s would now %s with other "
				   "values than the plan showed", c->addr, action_name(c->action));
			diag_hint(&r->diag, "a file or template the configuration reads, or what a data "
				  "source read, changed since; make a new plan");
			return 0;
		}
	}
	for (size_t i = 0; i < buf_count(&r->plan.outputs, struct plan_output *); i++) {
		const struct plan_output *o = buf_at(&r->plan.outputs, struct plan_output *, i);
		json_t *s = json_array_get(outputs, i);
		if (!s || strcmp(json_string_value(json_object_get(s, "name")) ?: "", o->name) ||
		    !same_digest(s, after_digest(o->after))) {
			diag_error(&r->diag, NULL, "the saved plan no longer matches: output %s would now have "
				   "another value than the plan showed", o->name);
			diag_hint(&r->diag, "a file or template the configuration reads, or what a data "
				  "source read, changed since; make a new plan");
			return 0;
		}
	}
	if (json_array_size(outputs) != buf_count(&r->plan.outputs, struct plan_output *)) {
		diag_error(&r->diag, NULL, "the saved plan no longer matches: it has %zu outputs, the "
			   "configuration now makes %zu", json_array_size(outputs),
			   buf_count(&r->plan.outputs, struct plan_output *));
		diag_hint(&r->diag, "make a new plan");
		return 0;
	}
	if (k != json_array_size(saved)) {
		diag_error(&r->diag, NULL, "the saved plan no longer matches: it has %zu changes, the "
			   "configuration now makes %zu", json_array_size(saved), k);
		diag_hint(&r->diag, "make a new plan");
		return 0;
	}
	return 1;
}

/* What the refresh found changed outside stk, attribute by attribute. */
/* Equal for the drift report: a set read from the API and the list the state file holds
 * for it are the same value when their items are. */
static int drift_equal(const struct value *a, const struct value *b)
{
	int la = a->kind == VAL_LIST || a->kind == VAL_SET, lb = b->kind == VAL_LIST || b->kind == VAL_SET;

	if (la && lb && a->kind != b->kind && val_is_known(a) && val_is_known(b)) {
		if (a->u.list.n != b->u.list.n)
			return 0;
		for (size_t i = 0; i < a->u.list.n; i++)
			if (!drift_equal(a->u.list.items[i], b->u.list.items[i]))
				return 0;
		return 1;
	}
	if (a->kind == VAL_MAP && b->kind == VAL_MAP && a->u.map.n == b->u.map.n) {
		for (size_t i = 0; i < a->u.map.n; i++)
			if (strcmp(a->u.map.items[i].key, b->u.map.items[i].key) ||
			    !drift_equal(a->u.map.items[i].val, b->u.map.items[i].val))
				return 0;
		return 1;
	}
	return val_equal(a, b);
}

/* Whether the user can set attr of type ("aws.vpc"): only those are drift worth showing, as
 * Terraform reports only changes that bear on the plan; computed ones (an RDS instance's
 * latest restorable time) move on their own. Unknown types show everything. */
static int drift_settable(const char *type, int data, const char *attr)
{
	const struct schema_resource *rs = schema_type_find(type, data);

	if (!rs)
		return 1;
	for (const struct schema_attr *a = rs->block.attrs; a && a->name; a++)
		if (!strcmp(a->name, attr))
			return (a->flags & (SF_REQUIRED | SF_OPTIONAL)) != 0;
	for (const struct schema_nested *nb = rs->block.blocks; nb && nb->name; nb++)
		if (!strcmp(nb->name, attr))
			return 1;
	return 0;
}

static void drift_report(const struct plan_prior *before, size_t n, const struct state *st, struct buf *out)
{
	size_t nafter;
	struct plan_prior *after = apply_priors(st, &nafter);
	struct buf lines = BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		const struct plan_prior *b = &before[i], *a = NULL;
		for (size_t k = 0; k < nafter && !a; k++)
			if (!strcmp(after[k].addr, b->addr))
				a = &after[k];
		if (!a) {
			buf_printf(out, "  # %s was deleted outside stk\n", b->addr);
			continue;
		}
		if (!b->attrs || !a->attrs || b->attrs->kind != VAL_MAP || a->attrs->kind != VAL_MAP)
			continue;
		buf_reset(&lines);
		for (size_t k = 0; k < a->attrs->u.map.n; k++) {
			const char *key = a->attrs->u.map.items[k].key;
			const struct value *x = val_map_get(b->attrs, key), *y = a->attrs->u.map.items[k].val;
			if ((x && drift_equal(x, y)) || (!x && y->kind == VAL_NULL) || !drift_settable(b->type, b->data, key))
				continue;
			buf_printf(&lines, "      ~ %s = ", key);
			if (x)
				val_write(x, &lines);
			else
				buf_addstr(&lines, "null");
			buf_addstr(&lines, " -> ");
			val_write(y, &lines);
			buf_addch(&lines, '\n');
		}
		if (lines.len)
			buf_printf(out, "  # %s changed outside stk\n%s", b->addr, lines.data);
	}
	buf_release(&lines);
	apply_free_priors(after, nafter);
}

/* Loads, locks, refreshes and plans. Returns 0, or -1 after diagnostics. */
/* The root variables' values into opts: the directory's own files and the environment, then
 * the command line's -var and -var-file (vi), which come after them. */
static int cli_variables(const char *dir, const struct vars_input *vi, struct plan_opts *opts,
			 struct diag_ctx *diag)
{
	struct vars_input all;

	vars_init(&all);
	if (vars_add_defaults(&all, dir, diag)) {
		vars_release(&all);
		return -1;
	}
	for (size_t i = 0; i < buf_count(&vi->names, char *); i++) {
		buf_push(&all.names, char *, xstrdup(buf_at(&vi->names, char *, i)));
		buf_push(&all.values, struct value *, val_ref(buf_at(&vi->values, struct value *, i)));
		buf_push(&all.raw, int, buf_at(&vi->raw, int, i));
	}
	opts->variables = vars_values(&all);
	opts->raw_variables = vars_raw(&all);
	vars_release(&all);
	return 0;
}

static int run_plan(struct run *r, const char *operation)
{
	if (config_load_dir(&r->diag, r->pa.dir, &r->mod, 0) || r->diag.errors)
		return -1;
	if (check_module_moves(&r->diag, &r->mod, &r->moves, r->pa.generate_out != NULL))
		return -1;
	/* only a saved plan has it, and only applying one needs it (22 ms for 33 MB of files) */
	r->config_sources = buf_count(&r->diag.sources, struct source *);
	if (r->pa.out || r->saved)
		config_digest(&r->diag, r->config_sources, NULL, r->config_sha256);
	if (r->saved && strcmp(r->config_sha256, json_string_value(json_object_get(r->saved, "config_sha256")) ?: "")) {
		diag_error(&r->diag, NULL, "the configuration changed since this plan was made");
		diag_hint(&r->diag, "make a new plan with stk plan -out");
		return -1;
	}
	if (cli_variables(r->pa.dir, &r->vi, &r->opts, &r->diag))
		return -1;
	if (r->saved) {
		/* the saved plan's inputs, not today's environment */
		val_unref(r->opts.variables);
		val_unref((struct value *)r->opts.raw_variables);
		r->opts.variables = val_from_json(json_object_get(r->saved, "variables"));
		r->opts.raw_variables = val_from_json(json_object_get(r->saved, "variable_origins"));
	}
	/* where the state is, and its passphrase (which may be a variable) */
	if (!(r->path = cli_state_open(&r->diag, r->pa.dir, &r->mod, r->opts.variables)))
		return -1;
	/* the plan's objects are that workspace's; another's state would fail the lineage check
	 * with a message that does not say why (a plan from before workspaces has none: default) */
	if (r->saved) {
		const char *ws = json_string_value(json_object_get(r->saved, "workspace")) ?: "default";
		if (strcmp(ws, cli_workspace_current())) {
			diag_error(&r->diag, NULL, "this plan was made in workspace \"%s\", and the current workspace is "
				   "\"%s\"", ws, cli_workspace_current());
			diag_hint(&r->diag, "stk workspace select %s, then apply it", ws);
			return -1;
		}
	}
	remote_lock = !strncmp(r->path, "s3://", 5);
	/* from here on an interrupt must not leave the lock behind */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (state_lock_wait(r->path, operation, r->pa.lock_timeout_ms, &r->lock, &r->diag))
		return -1;
	r->locked = 1;
	if (!remote_lock)
		local_lock_file = r->lock.path;
	int rs = state_read(r->path, &r->st, &r->diag);
	if (rs < 0)
		return -1;
	/* what the state holds as sensitive must not reach a message, whatever path it takes
	 * there (a cloud API's error that echoes an argument); only a run that calls APIs needs
	 * the walk over every value (stk's own messages know what is sensitive) */
	int calls = r->pa.refresh || strcmp(operation, "plan") != 0;
	for (size_t i = 0; calls && i < r->st.nresources; i++)
		for (size_t k = 0; k < r->st.resources[i]->ninstances; k++) {
			const struct state_instance *in = r->st.resources[i]->instances[k];
			val_add_secrets(in->attrs);
			for (size_t d = 0; d < in->ndeposed; d++)
				val_add_secrets(in->deposed[d]->attrs);
		}
	r->state_new = rs == STATE_NEW;
	if (r->saved) {
		/* no lineage: the plan was made before any state existed, and none may exist now */
		const char *lineage = json_string_value(json_object_get(r->saved, "lineage"));
		json_int_t serial = json_integer_value(json_object_get(r->saved, "serial"));
		if (lineage && !r->state_new && strcmp(lineage, r->st.lineage)) {
			diag_error(&r->diag, NULL, "the state is not the one this plan was made with (lineage %s, "
				   "now %s)", lineage, r->st.lineage);
			diag_hint(&r->diag, "make a new plan with stk plan -out, and apply that");
			return -1;
		}
		if ((lineage ? r->state_new : !r->state_new) || (json_int_t)r->st.serial != serial) {
			diag_error(&r->diag, NULL, "the state changed since this plan was made (serial %lld%s, now %llu)",
				   (long long)serial, lineage ? "" : " with no state yet", (unsigned long long)r->st.serial);
			diag_hint(&r->diag, "make a new plan with stk plan -out, and apply that");
			return -1;
		}
	}
	/* the objects moved blocks rename are refreshed and planned under their new addresses */
	moves_apply(&r->diag, &r->moves, &r->st);
	r->opts.moves = &r->moves;
	/* the provider blocks' values are for calls: a plan that neither refreshes nor finds an
	 * interrupted create makes none, and spares a second pass over every object */
	if (r->st.nresources && (r->pa.refresh || strcmp(operation, "plan") || has_pending(&r->st)) &&
	    provider_configs(r))
		return -1;
	{
		/* what an interrupted apply was creating is found (or not) before anything else */
		int changed = 0;
		if (apply_resolve_intents(&r->diag, &r->st, &r->configs, &changed))
			return -1;
		if (changed && strcmp(operation, "plan") && state_write(r->path, &r->st, &r->diag))
			return -1;
	}
	if (r->pa.refresh) {
		size_t nbefore;
		struct plan_prior *before = apply_priors(&r->st, &nbefore);
		int bad = apply_refresh(&r->diag, &r->st, &r->configs);
		if (!bad)
			drift_report(before, nbefore, &r->st, &r->drift);
		apply_free_priors(before, nbefore);
		if (bad)
			return -1;
	}
	/* a destroy or a refresh imports nothing, as in Terraform */
	if (!r->pa.destroy && !r->pa.refresh_only && run_imports(r))
		return -1;
	r->priors = apply_priors(&r->st, &r->nprior);
	r->deposed = apply_deposed(&r->st, &r->ndeposed);
	r->opts.deposed = r->deposed;
	r->opts.ndeposed = r->ndeposed;
	r->opts.destroy = r->pa.destroy;
	r->opts.refresh_only = r->pa.refresh_only;
	r->opts.prior_outputs = apply_prior_outputs(&r->st);
	buf_push(&r->pa.targets, const char *, (const char *)NULL);
	buf_push(&r->pa.replaces, const char *, (const char *)NULL);
	r->opts.targets = buf_count(&r->pa.targets, const char *) > 1 ?
			  (const char *const *)(void *)r->pa.targets.data : NULL;
	r->opts.replaces = (const char *const *)(void *)r->pa.replaces.data;
	/* a refreshing plan reads the data sources it can, as Terraform does; a destroy reads
	 * none, and -refresh=false keeps what the state holds */
	struct apply_reader reader;
	int reading = r->pa.refresh && !r->pa.destroy;
	if (reading) {
		apply_reader_init(&reader);
		r->opts.read_data = apply_read_data;
		r->opts.read_data_arg = &reader;
	}
	int planned = plan_make(&r->diag, &r->mod, r->priors, r->nprior, &r->opts, &r->plan);
	if (reading) {
		/* its providers are done with; read_data stays set, which tells apply_run that the
		 * plan read, and apply_run puts its own in place */
		apply_reader_release(&reader, &r->diag);
		r->opts.read_data_arg = NULL;
	}
	if (planned)
		return -1;
	if (r->opts.targets)
		drop_untargeted_imports(r);
	/* and what the plan makes sensitive (a variable's value in an argument), for apply */
	for (size_t i = 0; strcmp(operation, "plan") && i < buf_count(&r->plan.changes, struct plan_change *); i++) {
		const struct plan_change *c = buf_at(&r->plan.changes, struct plan_change *, i);
		val_add_secrets(c->before);
		val_add_secrets(c->after);
	}
	/* then what is in view anyway: an address beside a password in a sensitive map is
	 * shown wherever else it is used, and replacing it would only mislead (a second walk
	 * over every value, which a run with no secret does without) */
	calls = calls && diag_has_secrets();
	for (size_t i = 0; calls && i < r->st.nresources; i++)
		for (size_t k = 0; k < r->st.resources[i]->ninstances; k++) {
			const struct state_instance *in = r->st.resources[i]->instances[k];
			val_add_public(in->attrs);
			for (size_t d = 0; d < in->ndeposed; d++)
				val_add_public(in->deposed[d]->attrs);
		}
	for (size_t i = 0; calls && strcmp(operation, "plan") && i < buf_count(&r->plan.changes, struct plan_change *); i++) {
		const struct plan_change *c = buf_at(&r->plan.changes, struct plan_change *, i);
		val_add_public(c->before);
		val_add_public(c->after);
	}
	if (r->saved && !same_actions(r))
		return -1;
	return 0;
}

/* An interrupt stopped the planning: each read it cut short failed "cancelled", which one
 * line says better than one error per read. Returns the exit status, 130. */
static int interrupted_while_planning(struct run *r)
{
	size_t n = diag_drop_errors_ending(&r->diag, ": cancelled");

	if (n)
		diag_note(&r->diag, NULL, "interrupted: %zu request%s in flight cancelled; nothing was changed",
			  n, n == 1 ? "" : "s");
	return 130;
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
	if (r.pa.generate_out && access(r.pa.generate_out, F_OK) == 0) {
		diag_error(&r.diag, NULL, "%s already exists, and -generate-config-out writes a new file",
			   r.pa.generate_out);
		diag_hint(&r.diag, "name another file, or move the configuration out of this one and remove it");
		goto out;
	}
	if (r.pa.generate_out && !(r.generated_name = generated_name(&r.diag, r.pa.dir, r.pa.generate_out)))
		goto out;
	r.opts.leave_memory = !cli_free_at_exit();
	if (run_plan(&r, "plan") || apply_interrupted) {
		/* an interrupt while planning: the lock is released on the way out */
		if (apply_interrupted)
			ret = interrupted_while_planning(&r);
		goto out;
	}
	if (r.pa.refresh_only) {
		/* only what changed outside stk, and no plan of changes to the objects */
		if (r.drift.len)
			printf("Changed outside stk:\n\n%s\nstk apply -refresh-only would record this in the state.\n",
			       r.drift.data);
		else
			printf("No changes outside stk: the state matches the objects.\n");
		ret = r.pa.detailed && r.drift.len ? 2 : 0;
		goto out;
	}
	if (r.pa.out && save_plan(&r, r.pa.out))
		goto out;
	if (r.pa.json) {
		plan_render_json(&r.plan, &out);
	} else if (r.pa.markdown) {
		plan_render_markdown(&r.plan, &out);
	} else {
		if (r.drift.len)
			buf_printf(&out, "Changed outside stk:\n\n%s\n", r.drift.data);
		plan_render_text(&r.plan, &out, cli_color(stdout), stdout);
	}
	if (r.pa.out && !r.pa.json)
		buf_printf(&out, "\nSaved the plan to %s. To make exactly these changes, run:\n  stk apply %s\n",
			   r.pa.out, r.pa.out);
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
	if (!applying && (remote_lock || !apply_interrupted)) {
		/* still planning: stop now, through the normal path, which releases the lock */
		static const char msg_plan[] = "\nstk: interrupted: stopping, and releasing the state's lock\n";
		apply_interrupted = 1;
		if (net_loaded())
			net_loaded()->http_cancel();
		if (write(2, msg_plan, sizeof msg_plan - 1) < 0)
			return;
		return;
	}
	/* the first stops new operations; the second stops waiting for the running ones */
	if (apply_interrupted++ >= 1) {
		static const char msg[] = "\nstk: interrupted again: exiting; the state records every "
					  "operation that completed\n";
		static const char msg_remote[] = "\nstk: interrupted again: cancelling the requests in "
						 "flight, then releasing the state's lock\n";
		if (remote_lock) {
			/* the main thread sees its operations fail, writes the state, unlocks */
			if (net_loaded())
				net_loaded()->http_cancel();
			if (write(2, msg_remote, sizeof msg_remote - 1) < 0)
				return;
			return;
		}
		if (local_lock_file)
			unlink(local_lock_file);
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

/* Reads the saved plan in file (opening it with the state's passphrase when it is sealed)
 * and checks that it is one this stk reads. Returns it, or NULL after an error. */
static json_t *read_saved(struct diag_ctx *diag, const char *file)
{
	json_error_t je;
	json_t *j = NULL;
	struct buf raw = BUF_INIT, text = BUF_INIT;
	FILE *f = fopen(file, "rb");
	char chunk[65536];
	size_t n;

	/* a sealed plan opens with the passphrase of the state beside it (this directory's, or
	 * STK_STATE_PASSPHRASE): the plan's own directory is inside it */
	while (f && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&raw, chunk, n);
	if (f)
		fclose(f);
	if (raw.len && crypt_is_sealed(raw.data, raw.len)) {
		char *path = cli_state_open(diag, ".", NULL, NULL);
		free(path);
		char *what = xasprintf("saved plan %s", file);
		int bad = !path || state_open(what, raw.data, raw.len, &text, diag);
		free(what);
		if (bad) {
			buf_release(&raw);
			buf_release(&text);
			return NULL;
		}
	} else {
		buf_add(&text, raw.data ? raw.data : "", raw.len);
	}
	j = json_loadb(text.data ? text.data : "", text.len, 0, &je);
	buf_release(&raw);
	buf_release(&text);

	if (j && !strcmp(json_string_value(json_object_get(j, "format")) ?: "", "stk-plan") &&
	    json_integer_value(json_object_get(j, "version")) != SAVED_PLAN_VERSION) {
		json_int_t v = json_integer_value(json_object_get(j, "version"));
		diag_error(diag, NULL, "%s is a saved plan of format version %lld, and this stk reads "
			   "version %d", file, (long long)v, SAVED_PLAN_VERSION);
		diag_hint(diag, v > SAVED_PLAN_VERSION ? "it was made by a newer stk: apply it with that one" :
			  "it was made by an older stk: make a new plan with stk plan -out %s", file);
		json_decref(j);
		return NULL;
	}
	if (!j || strcmp(json_string_value(json_object_get(j, "format")) ?: "", "stk-plan") ||
	    /* run_plan() takes these as the inputs (val_from_json() needs a value) */
	    !json_is_object(json_object_get(j, "variables")) ||
	    !json_is_object(json_object_get(j, "variable_origins"))) {
		diag_error(diag, NULL, "%s is not a saved plan%s%s", file, j ? "" : ": ", j ? "" : je.text);
		diag_hint(diag, "make one with stk plan -out %s", file);
		json_decref(j);
		return NULL;
	}
	return j;
}

static int load_saved(struct run *r, const char *file)
{
	json_t *j = read_saved(&r->diag, file), *a;
	size_t i;

	if (!j)
		return -1;
	r->saved = j;
	r->pa.dir = json_string_value(json_object_get(j, "dir")) ?: ".";
	{
		struct stat sb;
		if (stat(r->pa.dir, &sb) || !S_ISDIR(sb.st_mode)) {
			/* recorded as given, so that a checkout elsewhere (another CI job) applies it */
			diag_error(&r->diag, NULL, "the saved plan %s is for the configuration in %s, and there is "
				   "no such directory here", file, r->pa.dir);
			diag_hint(&r->diag, "run stk apply from the directory stk plan ran in");
			return -1;
		}
	}
	/* the same reads as the plan made, so the same state comes out of them */
	r->pa.refresh = json_is_true(json_object_get(j, "refresh"));
	r->pa.destroy = json_is_true(json_object_get(j, "destroy"));
	buf_reset(&r->pa.targets);
	buf_reset(&r->pa.replaces);
	json_array_foreach(json_object_get(j, "targets"), i, a)
		buf_push(&r->pa.targets, const char *, json_string_value(a));
	json_array_foreach(json_object_get(j, "replaces"), i, a)
		buf_push(&r->pa.replaces, const char *, json_string_value(a));
	return 0;
}

/* command: "apply", "destroy" or "refresh" (whose usage a usage error shows) */
static int apply_or_destroy(int argc, char **argv, const char *command)
{
	const struct cli_command *self = cli_find(command);
	int destroy = !strcmp(command, "destroy");
	struct run r;
	struct buf out = BUF_INIT, rest = BUF_INIT;
	struct apply_result res;
	struct apply_opts ao;
	struct sigaction sa;
	int help = 0, ret, rollback = 0;

	run_init(&r);
	/* apply's own flags first; the rest are plan's */
	buf_push(&rest, char *, argv[0]);
	for (int i = 1; i < argc; i++) {
		const char *v;
		if (cli_flag(argv[i], "auto-approve", NULL)) {
			r.auto_approve = 1;
		} else if (!destroy && cli_flag(argv[i], "rollback-on-failure", NULL)) {
			rollback = 1;
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
			/* stk apply PLANFILE: the plan was reviewed already; apply it as it is */
			if (destroy) {
				ret = cli_usage_error(self, "destroy takes a directory, not a saved plan: apply the "
						      "plan %s with stk apply %s", r.pa.dir, r.pa.dir);
				goto out;
			}
			if (r.pa.shaping) {
				ret = cli_usage_error(self, "%.*s cannot be used with a saved plan: %s was fixed when the plan "
						      "was made (make a new one with stk plan -out)",
						      (int)strcspn(r.pa.shaping, "="), r.pa.shaping,
						      r.pa.shaping[1] == 'v' || r.pa.shaping[2] == 'v' ? "every variable" :
						      "what it does");
				goto out;
			}
			if (load_saved(&r, r.pa.dir))
				goto out;
			r.auto_approve = 1;
		}
	}
	if (run_plan(&r, destroy ? "destroy" : "apply") || apply_interrupted) {
		/* an interrupt while planning: the lock is released on the way out */
		if (apply_interrupted)
			ret = interrupted_while_planning(&r);
		goto out;
	}
	if (r.pa.refresh_only) {
		/* -refresh-only: the refreshed state is the whole change, with the outputs it gives */
		if (r.drift.len)
			printf("Changed outside stk:\n\n%s", r.drift.data);
		for (size_t i = 0; i < buf_count(&r.plan.outputs, struct plan_output *); i++) {
			const struct plan_output *o = buf_at(&r.plan.outputs, struct plan_output *, i);
			if (o->action == PLAN_DELETE)
				state_remove_output(&r.st, o->name);
			else if (o->after && val_is_known(o->after))
				state_set_output(&r.st, o->name, o->after, o->sensitive || val_is_sensitive(o->after));
		}
		apply_record_reads(&r.st, &r.plan);
		ret = state_write(r.path, &r.st, &r.diag) ? 1 : 0;
		if (!ret)
			printf("\nThe state now records the objects as they are.\n");
		goto out;
	}
	if (r.drift.len)
		buf_printf(&out, "Changed outside stk:\n\n%s\n", r.drift.data);
	plan_render_text(&r.plan, &out, cli_color(stdout), stdout);
	fwrite(out.data, 1, out.len, stdout);
	if (!plan_has_changes(&r.plan)) {
		/* nothing to change, but what the plan read is the state's now (a newer AMI), as
		 * the next plan with -refresh=false must see it */
		ret = r.opts.read_data && apply_record_reads(&r.st, &r.plan) && state_write(r.path, &r.st, &r.diag) ? 1 : 0;
		goto out;
	}
	/* the providers' module, before anyone is asked to approve what it cannot do */
	if (!net_get(&r.diag))
		goto out;
	if (!r.auto_approve && confirm(&r.diag, destroy)) {
		if (apply_interrupted)
			ret = 130;
		goto out;
	}
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
	ao.provider_configs = &r.configs;
	ao.rollback_on_failure = rollback;
	ao.live = isatty(STDOUT_FILENO) && getenv("TERM") && strcmp(getenv("TERM"), "dumb");
	printf("\n");
	if (r.plan.import) {
		/* the imports first, recorded as stk import records them: what apply then does to
		 * the objects (an update) is planned against them */
		for (size_t i = 0; i < buf_count(&r.plan.changes, struct plan_change *); i++) {
			const struct plan_change *c = buf_at(&r.plan.changes, struct plan_change *, i);
			if (c->importing)
				printf("%s: Importing... [id=%s]\n", c->addr, c->importing);
		}
		if (state_write(r.path, &r.st, &r.diag))
			goto out;
		for (size_t i = 0; i < buf_count(&r.plan.changes, struct plan_change *); i++) {
			const struct plan_change *c = buf_at(&r.plan.changes, struct plan_change *, i);
			if (c->importing)
				printf("%s: Import complete [id=%s]\n", c->addr, c->importing);
		}
	}
	applying = 1;
	ret = apply_run(&r.diag, &r.mod, &r.st, &r.plan, &r.opts, &ao, &res) ? 1 : 0;
	if (res.interrupted) {
		printf("\nInterrupted. Resources: %u added, %u changed, %u destroyed; the state records them.\n",
		       res.added, res.changed, res.destroyed);
		ret = 130;
	} else if (ret && rollback) {
		printf("\nApply failed and was rolled back. Resources: %u failed; of %u added, %u destroyed again.\n",
		       res.failed, res.added, res.rolled_back);
	} else if (ret) {
		printf("\nApply failed. Resources: %u added, %u changed, %u destroyed, %u failed.\n",
		       res.added, res.changed, res.destroyed, res.failed);
	} else if (destroy) {
		/* as Terraform words it: a destroy adds and changes nothing */
		printf("\n%sDestroy complete!%s Resources: %u destroyed.\n",
		       ao.color ? "\033[1;32m" : "", ao.color ? "\033[0m" : "", res.destroyed);
	} else {
		char imported[32] = "";
		/* Terraform's words: the imports are counted only when there are some */
		if (r.plan.import)
			snprintf(imported, sizeof imported, "%u imported, ", r.plan.import);
		printf("\n%sApply complete!%s Resources: %s%u added, %u changed, %u destroyed.\n",
		       ao.color ? "\033[1;32m" : "", ao.color ? "\033[0m" : "", imported, res.added, res.changed,
		       res.destroyed);
		print_outputs(&r.st, ao.color);
	}
out:
	run_release(&r);
	buf_release(&out);
	buf_release(&rest);
	return ret;
}

int cmd_refresh(int argc, char **argv)
{
	/* stk refresh is apply -refresh-only -auto-approve: it changes only the state */
	char **args = xcalloc((size_t)argc + 3, sizeof *args);
	int ret;

	for (int i = 0; i < argc; i++)
		args[i] = argv[i];
	args[argc] = (char *)"-refresh-only";
	args[argc + 1] = (char *)"-auto-approve";
	ret = apply_or_destroy(argc + 2, args, "refresh");
	free(args);
	return ret;
}

int cmd_apply(int argc, char **argv)
{
	return apply_or_destroy(argc, argv, "apply");
}

int cmd_destroy(int argc, char **argv)
{
	return apply_or_destroy(argc, argv, "destroy");
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
	if (json && raw)
		return cli_usage_error(self, "-json and -raw are two different outputs; choose one");
	diag_init(&diag);
	state_init(&st);
	if (!(path = cli_state_open(&diag, dir, NULL, NULL)) || state_read(path, &st, &diag) < 0)
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
		} else if (raw && (plain->kind == VAL_NUMBER || plain->kind == VAL_BOOL)) {
			const char *why;
			if (val_to_string(plain, &b, &why) == 0)
				fwrite(b.data, 1, b.len, stdout);
		} else if (raw) {
			/* as Terraform: a list, a map or null has no text of its own to print */
			diag_error(&diag, NULL, "output %s is %s: -raw prints only a string, a number or a bool",
				   name, plain->kind == VAL_NULL ? "null" :
				   plain->kind == VAL_MAP ? "a map" : plain->kind == VAL_SET ? "a set" : "a list");
			diag_hint(&diag, "print it without -raw, or with -json");
			val_unref(plain);
			buf_release(&b);
			goto out;
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
	cli_state_close();
	state_release(&st);
	diag_release(&diag);
	free(path);
	return ret;
}

int cmd_graph(int argc, char **argv)
{
	const struct cli_command *self = cli_find("graph");
	const char *dir = NULL, *v;
	struct diag_ctx diag;
	struct config_module mod;
	struct vars_input vi;
	struct plan_opts opts;
	struct plan plan;
	struct planner pl;
	struct buf out = BUF_INIT;
	int ret = 1, set_up = 0;

	diag_init(&diag);
	config_module_init(&mod);
	vars_init(&vi);
	plan_init(&plan);
	memset(&opts, 0, sizeof opts);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (cli_is_help(a)) {
			fputs(self->usage, stdout);
			ret = 0;
			goto out;
		}
		/* the values a module call's count or for_each may be computed from, as plan's */
		if (cli_flag(a, "var", &v) || cli_flag(a, "var-file", &v)) {
			const char *name = a + (a[1] == '-' ? 2 : 1);
			int file = strcspn(name, "=") == 8;   /* var-file, not var */
			if (!v && i + 1 >= argc) {
				ret = cli_usage_error(self, "%s needs a value", a);
				goto out;
			}
			if (!v)
				v = argv[++i];
			if (file ? vars_add_file(&vi, v, &diag) : vars_add_arg(&vi, v, &diag))
				goto out;
			continue;
		}
		if (a[0] == '-' && a[1]) {
			ret = cli_usage_error(self, "unknown flag '%s'", a);
			goto out;
		}
		if (dir) {
			ret = cli_usage_error(self, "one directory only");
			goto out;
		}
		dir = a;
	}
	if (config_load_dir(&diag, dir ? dir : ".", &mod, 0) || diag.errors)
		goto out;
	if (check_module(&diag, &mod))
		goto out;
	if (cli_variables(dir ? dir : ".", &vi, &opts, &diag))
		goto out;
	/* the planner's graph: built as plan builds it, module instances and all */
	set_up = 1;
	if (planner_setup(&pl, &diag, &mod, NULL, 0, &opts, &plan))
		goto out;
	graph_dot(&pl.g, &out);
	fwrite(out.data, 1, out.len, stdout);
	ret = 0;
out:
	cli_print_diags(&diag);
	if (set_up)
		planner_teardown(&pl);
	plan_release(&plan);
	val_unref(opts.variables);
	val_unref((struct value *)opts.raw_variables);
	vars_release(&vi);
	config_module_release(&mod);
	diag_release(&diag);
	buf_release(&out);
	return ret;
}

/* stk show [-json | -markdown] [PLANFILE]: a saved plan as stk plan printed it, or the state. */
int cmd_show(int argc, char **argv)
{
	const struct cli_command *self = cli_find("show");
	struct diag_ctx diag;
	struct state st;
	const char *file = NULL, *form = "text";
	json_t *saved = NULL;
	char *path = NULL;
	struct buf out = BUF_INIT;
	int ret = 1;

	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(self->usage, stdout);
			return 0;
		}
		if (cli_flag(argv[i], "json", NULL))
			form = "json";
		else if (cli_flag(argv[i], "markdown", NULL))
			form = "markdown";
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error(self, "unknown flag %s", argv[i]);
		else if (file)
			return cli_usage_error(self, "show takes at most one saved plan");
		else
			file = argv[i];
	}
	diag_init(&diag);
	state_init(&st);
	if (file) {
		const json_t *text;
		if (!(saved = read_saved(&diag, file)))
			goto out;
		text = json_object_get(json_object_get(saved, "rendered"), form);
		if (!json_is_string(text)) {
			diag_error(&diag, NULL, "%s holds no printed plan: it was made by an older stk", file);
			diag_hint(&diag, "make a new plan with stk plan -out %s", file);
			goto out;
		}
		fwrite(json_string_value(text), 1, json_string_length(text), stdout);
		ret = 0;
		goto out;
	}
	if (!strcmp(form, "markdown")) {
		ret = cli_usage_error(self, "-markdown shows a saved plan: stk show -markdown PLANFILE");
		goto out;
	}
	/* the state: read as stk state list reads it, without its lock */
	if (!(path = cli_state_open(&diag, ".", NULL, NULL)) || state_read(path, &st, &diag) < 0)
		goto out;
	if (!strcmp(form, "json"))
		plan_render_state_json(&st, &out);
	else if (!st.nresources && !st.noutputs)
		buf_addstr(&out, "The state is empty.\n");
	else
		plan_render_state_text(&st, &out, cli_color(stdout));
	fwrite(out.data ? out.data : "", 1, out.len, stdout);
	ret = 0;
out:
	cli_print_diags(&diag);
	diag_release(&diag);
	json_decref(saved);
	state_release(&st);
	free(path);
	buf_release(&out);
	return ret;
}

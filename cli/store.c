/* store.c: where the state lives, for every command that reads or writes it: the stack
 * block's `backend` (a local path, or S3 with a DynamoDB lock table) and `encryption`
 * (a passphrase, else STK_STATE_PASSPHRASE, and the KDF writes seal with); STK_STATE names
 * a local file and wins. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "planner/check.h"
#include "planner/crypt.h"
#include "planner/eval.h"
#include "planner/plan.h"
#include "planner/state.h"
#include "planner/vars.h"
#include "providers/net.h"

/* The S3 backend of this process, and the configuration read for commands that do not load
 * it themselves (its diagnostics context owns the sources its spans point into), kept until
 * cli_state_close(). */
static struct aws_backend *s3;
static char *s3_prefix, *s3_key;  /* backend s3's workspace_key_prefix and key, for workspace list */
static char *ws_name;             /* the workspace of this process (eval_workspace points here) */
static struct config_module own;
static struct diag_ctx own_diag;
static int own_loaded;

static const struct ast_item *stack_block(const struct config_module *mod, const char *name)
{
	for (size_t f = 0; mod && f < config_nfiles(mod); f++) {
		const struct ast_body *b = &config_file(mod, f)->body;
		for (size_t i = 0; i < b->n; i++) {
			const struct ast_item *st = b->items[i];
			if (st->kind != AST_BLOCK || strcmp(st->name, "stack"))
				continue;
			const struct ast_item *it = ast_body_find(&st->body, name);
			if (it && it->kind == AST_BLOCK)
				return it;
		}
	}
	return NULL;
}

/* A backend setting: a fixed string, as in Terraform (the state is needed before anything is
 * evaluated). NULL when not set; *bad after an error. */
static const char *fixed(struct diag_ctx *diag, const struct ast_item *be, const char *name, int *bad)
{
	const struct ast_item *a = ast_body_find(&be->body, name);
	const char *s = a && a->kind == AST_ATTR ? ast_static_string(a->value) : NULL;

	if (a && !s) {
		diag_error(diag, &a->value->span, "the backend's %s must be a fixed string", name);
		diag_hint(diag, "the state is read before anything is evaluated; write the value itself");
		*bad = 1;
	}
	return s;
}

/* The passphrase: the encryption block's, else STK_STATE_PASSPHRASE. 0 with *out (NULL when
 * there is none), -1 after a diagnostic. */
static int passphrase(struct diag_ctx *diag, const struct config_module *mod, const char *dir,
		      const struct value *variables, char **out)
{
	const struct ast_item *enc = stack_block(mod, "encryption");
	const struct ast_item *a = enc ? ast_body_find(&enc->body, "passphrase") : NULL;
	const char *env = getenv("STK_STATE_PASSPHRASE");
	char *ref;
	int ret = -1;

	*out = NULL;
	if (!a || a->kind != AST_ATTR) {
		if (env && *env)
			*out = strdup(env);
		return 0;
	}
	if (ast_static_string(a->value)) {
		*out = strdup(ast_static_string(a->value));
		return 0;
	}
	ref = ast_traversal_text(a->value);
	if (!ref || strncmp(ref, "var.", 4) || strchr(ref + 4, '.') || strchr(ref + 4, '[')) {
		diag_error(diag, &a->value->span, "the passphrase must be a string or a variable (var.NAME)");
		diag_hint(diag, "it is needed before the state is read, so it cannot refer to anything else");
		free(ref);
		return -1;
	}
	{
		struct vars_input vin;
		struct plan_opts po;
		struct value *v;

		memset(&po, 0, sizeof po);
		vars_init(&vin);
		if (!variables) {
			if (vars_add_defaults(&vin, dir, diag))
				goto done;
			po.variables = vars_values(&vin);
			po.raw_variables = vars_raw(&vin);
		} else {
			po.variables = (struct value *)variables;
		}
		v = plan_root_variable(diag, mod, &po, ref + 4);
		if (v && v->kind == VAL_STRING && val_is_known(v) && v->u.str.len) {
			*out = strdup(v->u.str.s);
			ret = 0;
		} else if (v) {
			diag_error(diag, &a->value->span, "the passphrase (%s) must be a string that is not empty", ref);
		}
		val_unref(v);
		if (!variables) {
			val_unref(po.variables);
			val_unref((struct value *)po.raw_variables);
		}
done:
		vars_release(&vin);
	}
	free(ref);
	return ret;
}

/* The encryption block's kdf, which writes seal with: a fixed "pbkdf2" or "scrypt", checked
 * here too since the state commands run no checks. PBKDF2 without one (and without the block,
 * for STK_STATE_PASSPHRASE alone). 0 with *kdf, -1 after a diagnostic. */
static int kdf_setting(struct diag_ctx *diag, const struct config_module *mod, int *kdf)
{
	const struct ast_item *enc = stack_block(mod, "encryption");
	const struct ast_item *a = enc ? ast_body_find(&enc->body, "kdf") : NULL;
	const char *name = a && a->kind == AST_ATTR ? ast_static_string(a->value) : NULL;

	*kdf = CRYPT_KDF_PBKDF2_SHA256;
	if (!a)
		return 0;
	if (name && (*kdf = crypt_kdf_by_name(name)))
		return 0;
	diag_error(diag, a->kind == AST_ATTR ? &a->value->span : &a->name_span,
		   "kdf is \"pbkdf2\" or \"scrypt\"");
	diag_hint(diag, "write the name itself, kdf = \"scrypt\" or kdf = \"pbkdf2\" (the default): "
		  "the state is read before anything is evaluated");
	return -1;
}

int cli_workspace_valid(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > 90 || name[0] == '-' || name[0] == '.')
		return 0;
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
			return 0;
	return 1;
}

char *cli_workspace_file(const char *dir)
{
	return strcmp(dir, ".") ? xasprintf("%s/.stk/workspace", dir) : xstrdup(".stk/workspace");
}

int cli_workspace(struct diag_ctx *diag, const char *dir, char **out)
{
	const char *env = getenv("STK_WORKSPACE");
	char *file = NULL, line[128] = "";
	const char *where = "STK_WORKSPACE";
	FILE *f;

	*out = NULL;
	if (env && *env) {
		snprintf(line, sizeof line, "%s", env);
		if (strlen(env) >= sizeof line)
			line[0] = '-';  /* too long: refused below */
	} else {
		file = cli_workspace_file(dir);
		where = file;
		if ((f = fopen(file, "r"))) {
			if (!fgets(line, sizeof line, f))
				line[0] = '\0';
			fclose(f);
			line[strcspn(line, "\r\n")] = '\0';
		} else if (errno != ENOENT) {
			diag_error(diag, NULL, "cannot read %s: %s", file, strerror(errno));
			free(file);
			return -1;
		}
		if (!line[0])
			snprintf(line, sizeof line, "default");
	}
	if (!cli_workspace_valid(line)) {
		diag_error(diag, NULL, "%s: \"%s\" is not a workspace name", where, line);
		diag_hint(diag, "a workspace name is letters, digits, '-', '_' and '.', at most 90, such as staging");
		free(file);
		return -1;
	}
	free(file);
	*out = xstrdup(line);
	return 0;
}

const char *cli_workspace_current(void)
{
	return ws_name ? ws_name : "default";
}

int cli_workspace_creating;

/* Where the other workspaces' states are, for the default workspace's file def:
 * DIR_OF_DEF/stk.state.d, as Terraform keeps terraform.tfstate.d. */
static char *workspaces_dir(const char *def)
{
	const char *slash = strrchr(def, '/');

	return slash ? xasprintf("%.*s/stk.state.d", (int)(slash - def), def) : xstrdup("stk.state.d");
}

/* The state file of workspace ws: def itself, or WORKSPACES_DIR/WS/NAME_OF_DEF. */
static char *workspace_path(const char *def, const char *ws)
{
	const char *slash = strrchr(def, '/');
	char *dir, *path;

	if (!strcmp(ws, "default"))
		return xstrdup(def);
	dir = workspaces_dir(def);
	path = xasprintf("%s/%s/%s", dir, ws, slash ? slash + 1 : def);
	free(dir);
	return path;
}

char *cli_state_open_in(struct diag_ctx *diag, const char *dir, const struct config_module *mod,
			const struct value *variables, const char *ws);

char *cli_state_open(struct diag_ctx *diag, const char *dir, const struct config_module *mod,
		     const struct value *variables)
{
	return cli_state_open_in(diag, dir, mod, variables, NULL);
}

char *cli_state_open_in(struct diag_ctx *diag, const char *dir, const struct config_module *mod,
			const struct value *variables, const char *ws)
{
	const struct ast_item *be;
	const char *env = getenv("STK_STATE");
	char *path = NULL, *pass = NULL, *key = NULL;
	int bad = 0, kdf;

	if (s3) {
		/* opened again (a sealed saved plan, then its state): the new settings win */
		state_set_remote(NULL);
		net_get(NULL)->aws_backend_free(s3);
		s3 = NULL;
	}
	/* commands that do not plan (state, output) still honour the directory's stack block;
	 * a configuration they cannot read is theirs to ignore */
	if (!mod && !own_loaded && config_is_module_dir(dir)) {
		own_loaded = 1;
		config_module_init(&own);
		diag_init(&own_diag);
		if (config_load_dir(&own_diag, dir, &own, 0) == 0 && !own_diag.errors) {
			mod = &own;
		} else if (!env || !*env) {
			/* its stack block may name another state: guessing ./stk.state could show an
			 * empty state, or write to the wrong one (with STK_STATE, it is not needed) */
			cli_print_diags(&own_diag);
			diag_error(diag, NULL, "cannot read the configuration in %s, whose stack block says where the "
				   "state is", dir);
			diag_hint(diag, "fix the errors above, or name the state file with STK_STATE");
			return NULL;
		}
	}
	/* the workspace: what terraform.workspace is, and which state */
	if (!ws) {
		char *sel;
		if (cli_workspace(diag, dir, &sel) < 0)
			return NULL;
		free(ws_name);
		ws_name = sel;
		eval_workspace = ws_name;
		ws = ws_name;
	}
	be = stack_block(mod, "backend");
	if (passphrase(diag, mod, dir, variables, &pass) < 0 || kdf_setting(diag, mod, &kdf) < 0)
		goto out;
	state_set_passphrase(pass, kdf);
	if (env && *env) {
		path = strdup(env);
	} else if (be && be->nlabels && !strcmp(be->labels[0].text, "s3")) {
		const struct ast_item *enc = ast_body_get(&be->body, AST_ATTR, "encrypt");
		struct aws_backend_settings set = {
			.bucket = fixed(diag, be, "bucket", &bad), .key = fixed(diag, be, "key", &bad),
			.region = fixed(diag, be, "region", &bad), .lock_table = fixed(diag, be, "lock_table", &bad),
			.profile = fixed(diag, be, "profile", &bad), .endpoint = fixed(diag, be, "endpoint", &bad),
			.dynamodb_endpoint = fixed(diag, be, "dynamodb_endpoint", &bad),
			/* a bool, or check_backend_s3 below stops */
			.encrypt = enc && enc->value->kind == AST_BOOL && enc->value->u.boolean,
		};
		const char *ddb_table = fixed(diag, be, "dynamodb_table", &bad);
		const char *prefix = fixed(diag, be, "workspace_key_prefix", &bad);
		/* the state commands run no checks: these are theirs too */
		if (check_backend_s3(diag, be) < 0 || bad)
			goto out;
		/* another workspace's state is PREFIX/NAME/KEY, Terraform's layout (env:/NAME/KEY) */
		free(s3_prefix);
		free(s3_key);
		s3_prefix = xstrdup(prefix ? prefix : "env:");
		s3_key = set.key ? xstrdup(set.key) : NULL;
		if (set.key && strcmp(ws, "default"))
			set.key = key = xasprintf("%s/%s/%s", s3_prefix, ws, set.key);
		if (!set.lock_table)
			set.lock_table = ddb_table;
		if (!set.bucket || !set.key) {
			diag_error(diag, &be->name_span, "backend s3 needs bucket and key");
			goto out;
		}
		const struct stk_net *net = net_get(diag);
		if (!net || !(s3 = net->aws_backend_new(&set, diag)))
			goto out;
		state_set_remote(net->aws_backend_remote(s3));
		path = strdup(net->aws_backend_path(s3));
	} else if (be && be->nlabels && !strcmp(be->labels[0].text, "local")) {
		const char *p = fixed(diag, be, "path", &bad);
		if (bad)
			goto out;
		path = p ? (p[0] == '/' || !strcmp(dir, ".") ? xstrdup(p) : xasprintf("%s/%s", dir, p)) : NULL;
	} else if (be && be->nlabels) {
		diag_error(diag, &be->labels[0].span, "the %s backend is not part of this build", be->labels[0].text);
		diag_hint(diag, "use backend s3 or backend local");
		goto out;
	}
	if (!path)
		path = strcmp(dir, ".") ? xasprintf("%s/stk.state", dir) : xstrdup("stk.state");
	/* a local file (STK_STATE names one file, whatever the workspace) */
	if (!s3 && !(env && *env) && strcmp(ws, "default")) {
		char *wp = workspace_path(path, ws);
		char *wdir = xstrndup(wp, (size_t)(strrchr(wp, '/') - wp));
		struct stat sb;
		free(path);
		path = wp;
		if (!cli_workspace_creating && stat(wdir, &sb)) {
			diag_error(diag, NULL, "workspace \"%s\" does not exist (no %s)", ws, wdir);
			diag_hint(diag, "create it with stk workspace new %s; stk workspace list lists them", ws);
			free(path);
			path = NULL;
		}
		free(wdir);
	}
out:
	free(key);
	if (pass) {
		memset(pass, 0, strlen(pass));
		free(pass);
	}
	return path;
}

void cli_state_close(void)
{
	if (own_loaded) {
		config_module_release(&own);
		diag_release(&own_diag);
		own_loaded = 0;
	}
	state_set_remote(NULL);
	state_set_passphrase(NULL, 0);
	state_set_sealing(1);
	/* s3 is only ever made through the loaded module */
	if (s3)
		net_get(NULL)->aws_backend_free(s3);
	s3 = NULL;
	free(s3_prefix);
	free(s3_key);
	s3_prefix = s3_key = NULL;
}

int cli_state_workspaces(struct diag_ctx *diag, const char *default_path, struct buf *names)
{
	if (s3)
		return s3_key ? net_get(NULL)->aws_backend_workspaces(s3, s3_prefix, s3_key, names, diag) : 0;
	/* WORKSPACES_DIR/NAME/, each holding its state */
	char *base = workspaces_dir(default_path);
	DIR *d = opendir(base);
	struct dirent *e;

	if (!d) {
		int missing = errno == ENOENT;
		if (!missing)
			diag_error(diag, NULL, "cannot list %s: %s", base, strerror(errno));
		free(base);
		return missing ? 0 : -1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !cli_workspace_valid(e->d_name))
			continue;
		char *p = xasprintf("%s/%s", base, e->d_name);
		struct stat sb;
		if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
			buf_push(names, char *, xstrdup(e->d_name));
		free(p);
	}
	closedir(d);
	free(base);
	return 0;
}

int cli_state_remove(struct diag_ctx *diag, const char *path)
{
	if (s3)
		return net_get(NULL)->aws_backend_delete(s3, diag);
	/* the file, its backup and lock, then the workspace's directory */
	const char *suffixes[] = { "", ".backup", ".lock", NULL };
	for (const char **s = suffixes; *s; s++) {
		char *p = xasprintf("%s%s", path, *s);
		if (unlink(p) && errno != ENOENT) {
			diag_error(diag, NULL, "cannot remove %s: %s", p, strerror(errno));
			free(p);
			return -1;
		}
		free(p);
	}
	char *wdir = xstrndup(path, strrchr(path, '/') ? (size_t)(strrchr(path, '/') - path) : 0);
	if (*wdir && rmdir(wdir) && errno != ENOENT)
		diag_warning(diag, NULL, "cannot remove %s: %s", wdir, strerror(errno));
	free(wdir);
	return 0;
}

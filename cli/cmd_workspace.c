/* cmd_workspace.c: stk workspace list | show | new NAME | select NAME | delete NAME, as
 * Terraform's: one state per workspace for one configuration (staging, prod), kept where
 * cli/store.c says, and terraform.workspace the current one's name. The selection is the
 * directory's .stk/workspace; STK_WORKSPACE overrides it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "planner/state.h"

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every workspace: "default", then the others in name order. names gets char *. */
static int all_workspaces(struct diag_ctx *diag, struct buf *names)
{
	char *path = cli_state_open_in(diag, ".", NULL, NULL, "default");
	int ret = -1;
	size_t n;

	if (!path)
		return -1;
	buf_push(names, char *, xstrdup("default"));
	if (cli_state_workspaces(diag, path, names))
		goto out;
	n = buf_count(names, char *);
	if (n > 2)
		qsort((char **)(void *)names->data + 1, n - 1, sizeof(char *), cmp_names);
	ret = 0;
out:
	free(path);
	cli_state_close();
	return ret;
}

static int has_workspace(const struct buf *names, const char *name)
{
	for (size_t i = 0; i < buf_count(names, char *); i++)
		if (!strcmp(buf_at(names, char *, i), name))
			return 1;
	return 0;
}

static void free_names(struct buf *names)
{
	for (size_t i = 0; i < buf_count(names, char *); i++)
		free(buf_at(names, char *, i));
	buf_release(names);
}

/* Writes the selection (default: the file goes, as Terraform leaves none). */
static int select_workspace(struct diag_ctx *diag, const char *name)
{
	char *file = cli_workspace_file(".");
	FILE *f;
	int ret = -1;

	if (!strcmp(name, "default")) {
		if (unlink(file) && errno != ENOENT) {
			diag_error(diag, NULL, "cannot remove %s: %s", file, strerror(errno));
			goto out;
		}
		ret = 0;
		goto out;
	}
	if (mkdir(".stk", 0755) && errno != EEXIST) {
		diag_error(diag, NULL, "cannot make .stk: %s", strerror(errno));
		goto out;
	}
	if (!(f = fopen(file, "w")) || fprintf(f, "%s\n", name) < 0 || fclose(f)) {
		diag_error(diag, NULL, "cannot write %s: %s", file, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(file);
	return ret;
}

/* The name from STK_WORKSPACE overrides a selection: say so, rather than seem to select. */
static void note_override(struct diag_ctx *diag)
{
	const char *env = getenv("STK_WORKSPACE");

	if (env && *env)
		diag_warning(diag, NULL, "STK_WORKSPACE=%s is set, and chooses the workspace over the selection", env);
}

/* Makes workspace name: an empty state, its directory first for a local one. */
static int new_workspace(struct diag_ctx *diag, const char *name)
{
	struct state st;
	char *path;
	int ret = -1;

	state_init(&st);
	cli_workspace_creating = 1;
	path = cli_state_open_in(diag, ".", NULL, NULL, name);
	cli_workspace_creating = 0;
	if (!path)
		goto out;
	if (!strstr(path, "://")) {
		/* DIR/stk.state.d/NAME/FILE: stk.state.d first */
		char *d = xstrndup(path, (size_t)(strrchr(path, '/') - path));
		char *parent = strrchr(d, '/') ? xstrndup(d, (size_t)(strrchr(d, '/') - d)) : NULL;
		if (parent && mkdir(parent, 0755) && errno != EEXIST)
			diag_warning(diag, NULL, "cannot make %s: %s", parent, strerror(errno));
		if (mkdir(d, 0755) && errno != EEXIST) {
			diag_error(diag, NULL, "cannot make %s: %s", d, strerror(errno));
			free(d);
			free(parent);
			goto out;
		}
		free(d);
		free(parent);
	}
	if (state_read(path, &st, diag) < 0)
		goto out;
	ret = state_write(path, &st, diag);
out:
	cli_state_close();
	state_release(&st);
	free(path);
	return ret;
}

static int delete_workspace(struct diag_ctx *diag, const char *name, int force)
{
	struct state st;
	struct state_lock lock;
	char *path;
	int ret = -1, locked = 0;

	state_init(&st);
	state_lock_init(&lock);
	if (!(path = cli_state_open_in(diag, ".", NULL, NULL, name)))
		goto out;
	if (state_lock(path, "workspace delete", &lock, diag))
		goto out;
	locked = 1;
	if (state_read(path, &st, diag) < 0)
		goto out;
	if (st.nresources && !force) {
		diag_error(diag, NULL, "workspace \"%s\" is not empty: its state records %zu resource%s", name,
			   st.nresources, st.nresources == 1 ? "" : "s");
		diag_hint(diag, "destroy them first (stk workspace select %s, then stk destroy), or delete it with "
			  "-force, which forgets them: they stay in the cloud, outside any state", name);
		goto out;
	}
	state_unlock(&lock, diag);
	locked = 0;
	ret = cli_state_remove(diag, path);
out:
	if (locked)
		state_unlock(&lock, diag);
	cli_state_close();
	state_release(&st);
	free(path);
	return ret;
}

int cmd_workspace(int argc, char **argv)
{
	const struct cli_command *self = cli_find("workspace");
	struct diag_ctx diag;
	struct buf names = BUF_INIT;
	const char *sub, *name = NULL, *v;
	char *cur = NULL;
	int ret = 1, force = 0, or_create = 0;

	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(self->usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 1 : 0;
	}
	sub = argv[1];
	for (int i = 2; i < argc; i++) {
		if (cli_flag(argv[i], "force", NULL) && !strcmp(sub, "delete"))
			force = 1;
		/* Terraform's select -or-create, for CI scripts that run in a workspace that may
		 * not be there yet */
		else if (cli_flag(argv[i], "or-create", &v) && !strcmp(sub, "select") &&
			 (!v || !strcmp(v, "true") || !strcmp(v, "false")))
			or_create = !v || !strcmp(v, "true");
		else if (argv[i][0] == '-')
			return cli_usage_error(self, "unknown flag '%s'", argv[i]);
		else if (name)
			return cli_usage_error(self, "one workspace name, got '%s' and '%s'", name, argv[i]);
		else
			name = argv[i];
	}
	if (!strcmp(sub, "list") || !strcmp(sub, "show")) {
		if (name)
			return cli_usage_error(self, "workspace %s takes no name", sub);
	} else if (!strcmp(sub, "new") || !strcmp(sub, "select") || !strcmp(sub, "delete")) {
		if (!name)
			return cli_usage_error(self, "workspace %s needs a name", sub);
		if (!cli_workspace_valid(name))
			return cli_usage_error(self, "\"%s\" is not a workspace name: letters, digits, '-', '_' "
					       "and '.', at most 90", name);
	} else {
		return cli_usage_error(self, "unknown workspace command '%s'", sub);
	}
	diag_init(&diag);
	if (cli_workspace(&diag, ".", &cur))
		goto out;
	if (!strcmp(sub, "show")) {
		printf("%s\n", cur);
		ret = 0;
	} else if (!strcmp(sub, "list")) {
		if (all_workspaces(&diag, &names))
			goto out;
		for (size_t i = 0; i < buf_count(&names, char *); i++) {
			const char *n = buf_at(&names, char *, i);
			printf("%s %s\n", strcmp(n, cur) ? " " : "*", n);
		}
		ret = 0;
	} else if (!strcmp(sub, "select")) {
		if (all_workspaces(&diag, &names))
			goto out;
		int made = 0;
		if (!has_workspace(&names, name) && or_create) {
			if (new_workspace(&diag, name))
				goto out;
			made = 1;
		} else if (!has_workspace(&names, name)) {
			diag_error(&diag, NULL, "workspace \"%s\" does not exist", name);
			diag_hint(&diag, "create it with stk workspace new %s (or select -or-create); stk workspace list "
				  "lists them", name);
			goto out;
		}
		if (select_workspace(&diag, name))
			goto out;
		note_override(&diag);
		printf(made ? "Created and switched to workspace \"%s\".\n" : "Switched to workspace \"%s\".\n", name);
		ret = 0;
	} else if (!strcmp(sub, "new")) {
		if (all_workspaces(&diag, &names))
			goto out;
		if (has_workspace(&names, name)) {
			diag_error(&diag, NULL, "workspace \"%s\" already exists", name);
			diag_hint(&diag, "select it with stk workspace select %s", name);
			goto out;
		}
		if (new_workspace(&diag, name) || select_workspace(&diag, name))
			goto out;
		note_override(&diag);
		printf("Created and switched to workspace \"%s\".\n", name);
		ret = 0;
	} else {
		if (!strcmp(name, "default")) {
			diag_error(&diag, NULL, "the default workspace cannot be deleted");
			goto out;
		}
		if (!strcmp(name, cur)) {
			diag_error(&diag, NULL, "workspace \"%s\" is the current one", name);
			diag_hint(&diag, "select another first: stk workspace select default");
			goto out;
		}
		if (all_workspaces(&diag, &names))
			goto out;
		if (!has_workspace(&names, name)) {
			diag_error(&diag, NULL, "workspace \"%s\" does not exist", name);
			goto out;
		}
		if (delete_workspace(&diag, name, force))
			goto out;
		printf("Deleted workspace \"%s\".\n", name);
		ret = 0;
	}
out:
	cli_print_diags(&diag);
	diag_release(&diag);
	free_names(&names);
	free(cur);
	return ret;
}

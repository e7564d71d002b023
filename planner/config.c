#include "planner/config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "parser/parse.h"

void config_module_init(struct config_module *m)
{
	m->dir = NULL;
	buf_init(&m->files);
}

void config_module_release(struct config_module *m)
{
	for (size_t i = 0; i < config_nfiles(m); i++)
		ast_file_free(config_file(m, i));
	buf_release(&m->files);
	free(m->dir);
	m->dir = NULL;
}

size_t config_nfiles(const struct config_module *m)
{
	return buf_count(&m->files, struct ast_file *);
}

struct ast_file *config_file(const struct config_module *m, size_t i)
{
	return buf_at(&m->files, struct ast_file *, i);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n > k && strcmp(s + n - k, suffix) == 0;
}

static void load_one(struct diag_ctx *diag, const char *path, struct config_module *m,
		     int keep_tokens)
{
	struct stat st;
	struct source *src;

	if (!keep_tokens && stat(path, &st) == 0)
		parse_expect((size_t)st.st_size);
	src = diag_read_source(diag, path);
	if (!src)
		return;
	buf_push(&m->files, struct ast_file *, parse_source(diag, src, keep_tokens));
}

char *config_file_path(const char *dir, const char *name)
{
	size_t dlen = strlen(dir);

	/* "dir/", "dir//": one slash before the name, as for "dir" */
	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	/* "./main.stk" reads worse than "main.stk" in every message */
	if (dlen == 1 && *dir == '.')
		return xstrdup(name);
	return xasprintf("%.*s%s%s", (int)dlen, dir, dlen == 1 && *dir == '/' ? "" : "/", name);
}

int config_load_dir(struct diag_ctx *diag, const char *dir, struct config_module *m,
		    int keep_tokens)
{
	struct buf names = BUF_INIT;
	struct dirent *de;
	DIR *d = opendir(dir);
	int ret = -1;
	/* "dir/", "dir//": one slash before each file's name in messages, as for "dir" */
	int dlen = (int)strlen(dir);

	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	m->dir = xstrndup(dir, (size_t)dlen);
	if (!d) {
		diag_error(diag, NULL, "cannot read the directory %s: %s", dir, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".stk"))
			continue;
		buf_push(&names, char *, xstrdup(de->d_name));
	}
	closedir(d);
	size_t n = buf_count(&names, char *);
	if (n == 0) {
		diag_error(diag, NULL, "no .stk files in %s", dir);
		diag_hint(diag, "a configuration is a directory of .stk files; run stk in it or name it");
		goto out;
	}
	qsort(names.data, n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char *name = buf_at(&names, char *, i);
		char *path = config_file_path(m->dir, name);
		load_one(diag, path, m, keep_tokens);
		free(path);
	}
	ret = 0;
out:
	for (size_t i = 0; i < buf_count(&names, char *); i++)
		free(buf_at(&names, char *, i));
	buf_release(&names);
	return ret;
}

int config_load_file(struct diag_ctx *diag, const char *path, struct config_module *m,
		     int keep_tokens)
{
	const char *slash = strrchr(path, '/');
	size_t before = config_nfiles(m);

	m->dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
	load_one(diag, path, m, keep_tokens);
	return config_nfiles(m) > before ? 0 : -1;
}

int config_add_file(struct diag_ctx *diag, const char *path, struct config_module *m)
{
	size_t before = config_nfiles(m);

	load_one(diag, path, m, 0);
	return config_nfiles(m) > before ? 0 : -1;
}

int config_is_module_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (de = readdir(d)) != NULL)
		found = de->d_name[0] != '.' && has_suffix(de->d_name, ".stk");
	closedir(d);
	return found;
}

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *config_stdlib_dir(void)
{
	static char *cached;
	const char *env = getenv("STK_STDLIB");

	if (env && *env)
		return env;
	if (cached)
		return cached;
	if (is_dir(STK_DATADIR "/stdlib"))
		cached = xstrdup(STK_DATADIR "/stdlib");
	else
		cached = xstrdup(STK_SRCDIR "/stdlib");
	return cached;
}

char *config_module_path(const char *from_dir, const char *source)
{
	if (strncmp(source, "stdlib/", 7) == 0)
		return xasprintf("%s/%s", config_stdlib_dir(), source + 7);
	/* "./modules/web" is "modules/web": paths show up in path.module and in messages */
	while (source[0] == '.' && source[1] == '/')
		source += 2;
	if (source[0] == '/')
		return xstrdup(source);
	if (!from_dir || strcmp(from_dir, ".") == 0)
		return xstrdup(source);
	/* `stk validate web/` (as a shell completes it): web/modules/db, not web//modules/db */
	size_t n = strlen(from_dir);
	while (n > 1 && from_dir[n - 1] == '/')
		n--;
	return xasprintf("%.*s/%s", (int)n, from_dir, source);
}

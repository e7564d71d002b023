#include "planner/vars.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parser/parse.h"
#include "planner/eval.h"

extern char **environ;

void vars_init(struct vars_input *vi)
{
	memset(vi, 0, sizeof *vi);
}

void vars_release(struct vars_input *vi)
{
	for (size_t i = 0; i < buf_count(&vi->names, char *); i++) {
		free(buf_at(&vi->names, char *, i));
		val_unref(buf_at(&vi->values, struct value *, i));
	}
	buf_release(&vi->names);
	buf_release(&vi->values);
	buf_release(&vi->raw);
}

static void add(struct vars_input *vi, const char *name, size_t nlen, struct value *v, int origin)
{
	buf_push(&vi->names, char *, xstrndup(name, nlen));
	buf_push(&vi->values, struct value *, v);
	buf_push(&vi->raw, int, origin);
}

static int valid_name(const char *s, size_t n)
{
	if (!n || !(s[0] == '_' || ((s[0] | 32) >= 'a' && (s[0] | 32) <= 'z')))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(s[i] == '_' || s[i] == '-' || (s[i] >= '0' && s[i] <= '9') ||
		      ((s[i] | 32) >= 'a' && (s[i] | 32) <= 'z')))
			return 0;
	return 1;
}

int vars_add_arg(struct vars_input *vi, const char *arg, struct diag_ctx *diag)
{
	const char *eq = strchr(arg, '=');

	if (!eq || !valid_name(arg, (size_t)(eq - arg))) {
		diag_error(diag, NULL, "-var takes NAME=VALUE, not '%s'", arg);
		diag_hint(diag, "for example -var region=eu-west-1, or -var 'zones=[\"a\", \"b\"]'");
		return -1;
	}
	add(vi, arg, (size_t)(eq - arg), val_cstring(eq + 1), VARS_ARG);
	return 0;
}

static struct value *no_refs_resolve(struct eval_ctx *ec, const struct eval_ref *ref)
{
	diag_error(ec->diag, &ref->span, "a variables file holds constant values; '%s' cannot be used here",
		   ref->key);
	return NULL;
}

int vars_add_file(struct vars_input *vi, const char *path, struct diag_ctx *diag)
{
	struct source *src = diag_read_source(diag, path);
	struct ast_file *f;
	struct eval_ctx ec;
	unsigned before = diag->errors;
	int ret = -1;

	if (!src)
		return -1;
	f = parse_source(diag, src, 0);
	if (diag->errors > before)
		goto out;
	memset(&ec, 0, sizeof ec);
	ec.diag = diag;
	ec.resolve = no_refs_resolve;
	for (size_t i = 0; i < f->body.n; i++) {
		const struct ast_item *it = f->body.items[i];
		if (it->kind == AST_BLOCK) {
			diag_error(diag, &it->name_span, "a variables file holds only NAME = VALUE lines");
			continue;
		}
		struct value *v = eval_expr(&ec, it->value);
		if (v)
			add(vi, it->name, strlen(it->name), v, VARS_FILE);
	}
	ret = diag->errors > before ? -1 : 0;
out:
	ast_file_free(f);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vars_add_defaults(struct vars_input *vi, const char *dir, struct diag_ctx *diag)
{
	struct buf files = BUF_INIT;
	DIR *d;
	struct dirent *de;
	int ret = 0;

	for (char **e = environ; *e; e++) {
		const char *eq = strchr(*e, '=');
		if (strncmp(*e, "STK_VAR_", 8) || !eq || !valid_name(*e + 8, (size_t)(eq - *e - 8)))
			continue;
		add(vi, *e + 8, (size_t)(eq - *e - 8), val_cstring(eq + 1), VARS_ENV);
	}
	d = opendir(dir);
	if (d) {
		while ((de = readdir(d)) != NULL) {
			static const char suffix[] = ".auto.stkvars";
			size_t n = strlen(de->d_name), k = sizeof suffix - 1;
			if (n > k && !strcmp(de->d_name + n - k, suffix) && de->d_name[0] != '.')
				buf_push(&files, char *, xstrdup(de->d_name));
		}
		closedir(d);
	}
	if (buf_count(&files, char *) > 1)
		qsort(files.data, buf_count(&files, char *), sizeof(char *), cmp_str);
	{
		char *main_file = xasprintf("%s/stk.stkvars", dir);
		if (access(main_file, F_OK) == 0 && vars_add_file(vi, main_file, diag))
			ret = -1;
		free(main_file);
	}
	for (size_t i = 0; i < buf_count(&files, char *); i++) {
		char *p = xasprintf("%s/%s", dir, buf_at(&files, char *, i));
		if (vars_add_file(vi, p, diag))
			ret = -1;
		free(p);
		free(buf_at(&files, char *, i));
	}
	buf_release(&files);
	return ret;
}

struct value *vars_values(const struct vars_input *vi)
{
	size_t n = buf_count(&vi->names, char *);
	struct val_pair *p = xcalloc(n ? n : 1, sizeof *p);
	struct value *r;

	/* val_map_take keeps the later of two equal keys: the later source wins */
	for (size_t i = 0; i < n; i++) {
		p[i].key = xstrdup(buf_at(&vi->names, char *, i));
		p[i].val = val_ref(buf_at(&vi->values, struct value *, i));
	}
	r = val_map_take(p, n);
	free(p);
	return r;
}

struct value *vars_raw(const struct vars_input *vi)
{
	size_t n = buf_count(&vi->names, char *);
	struct val_pair *p = xcalloc(n ? n : 1, sizeof *p);
	size_t k = 0;
	struct value *r;

	/* only the winning source counts: a later file value replaces an earlier -var text */
	for (size_t i = 0; i < n; i++) {
		const char *name = buf_at(&vi->names, char *, i);
		int last = 1;
		for (size_t j = i + 1; j < n; j++)
			if (!strcmp(buf_at(&vi->names, char *, j), name))
				last = 0;
		if (!last)
			continue;
		p[k].key = xstrdup(name);
		p[k].val = val_number(buf_at(&vi->raw, int, i));
		k++;
	}
	r = val_map_take(p, k);
	free(p);
	return r;
}

/* cmd_fmt.c: stk fmt [-check] [-diff] [-write=false] [-list=false] [-recursive] [PATH...].
 *
 * Each file is parsed on its own, with its own diagnostics, so that one broken file is
 * reported and left alone while the others are still formatted. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "parser/fmt.h"
#include "parser/parse.h"

/* Lines of context around each change in a unified diff, as diff -u. */
#define DIFF_CONTEXT 3
/* Past this many cells the diff's table would be too large: the changed middle is shown as
 * all removed, then all added (still a correct diff, only not the shortest). */
#define DIFF_MAX_CELLS (4u << 20)

struct fmt_opts {
	int check;
	int diff;
	int write;
	int list;
	int recursive;
};

struct fmt_run {
	struct fmt_opts o;
	int errors;       /* a file could not be read, parsed or written */
	int unformatted;  /* a file is not in the canonical layout */
};

/* One line of a diff's input: its text with the '\n', if it has one. */
struct dline {
	const char *p;
	size_t n;
};

/* An edit: ' ' keeps a[ai] (= b[bi]), '-' removes a[ai], '+' adds b[bi]. */
struct dedit {
	char op;
	size_t ai, bi;
};

static int parse_bool(const char *v, int *out)
{
	if (!v || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "t")) {
		*out = 1;
		return 0;
	}
	if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "f")) {
		*out = 0;
		return 0;
	}
	return -1;
}

static void split_lines(const char *s, size_t len, struct buf *out)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n') {
			struct dline l = { s + start, i + 1 - start };
			buf_push(out, struct dline, l);
			start = i + 1;
		}
	}
	if (start < len) {
		struct dline l = { s + start, len - start };
		buf_push(out, struct dline, l);
	}
}

static int dline_eq(const struct dline *a, const struct dline *b)
{
	return a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
}

/* The edit script from a to b: common head and tail, then a longest common subsequence of
 * the middle (files are small; a table of lengths is simplest). */
static void diff_edits(const struct dline *a, size_t na, const struct dline *b, size_t nb,
		       struct buf *edits)
{
	size_t head = 0, tail = 0, n, m;
	uint32_t *t = NULL;

	while (head < na && head < nb && dline_eq(&a[head], &b[head]))
		head++;
	while (tail < na - head && tail < nb - head &&
	       dline_eq(&a[na - 1 - tail], &b[nb - 1 - tail]))
		tail++;
	for (size_t i = 0; i < head; i++)
		buf_push(edits, struct dedit, ((struct dedit){ ' ', i, i }));
	n = na - head - tail;
	m = nb - head - tail;
	if (n && m && (n + 1) * (m + 1) <= DIFF_MAX_CELLS) {
		/* t[i][j]: LCS length of a[head+i..] and b[head+j..] */
		size_t w = m + 1, i = 0, j = 0;
		t = xcalloc((n + 1) * w, sizeof *t);
		for (size_t ii = n; ii-- > 0;)
			for (size_t jj = m; jj-- > 0;)
				t[ii * w + jj] = dline_eq(&a[head + ii], &b[head + jj]) ?
					t[(ii + 1) * w + jj + 1] + 1 :
					(t[(ii + 1) * w + jj] >= t[ii * w + jj + 1] ?
					 t[(ii + 1) * w + jj] : t[ii * w + jj + 1]);
		while (i < n || j < m) {
			if (i < n && j < m && dline_eq(&a[head + i], &b[head + j])) {
				buf_push(edits, struct dedit, ((struct dedit){ ' ', head + i, head + j }));
				i++, j++;
			} else if (j == m || (i < n && t[(i + 1) * w + j] >= t[i * w + j + 1])) {
				buf_push(edits, struct dedit, ((struct dedit){ '-', head + i, head + j }));
				i++;
			} else {
				buf_push(edits, struct dedit, ((struct dedit){ '+', head + i, head + j }));
				j++;
			}
		}
	} else {
		for (size_t i = 0; i < n; i++)
			buf_push(edits, struct dedit, ((struct dedit){ '-', head + i, head }));
		for (size_t j = 0; j < m; j++)
			buf_push(edits, struct dedit, ((struct dedit){ '+', head + n, head + j }));
	}
	for (size_t i = 0; i < tail; i++)
		buf_push(edits, struct dedit,
			 ((struct dedit){ ' ', na - tail + i, nb - tail + i }));
	free(t);
}

/* "start,count" as diff -u writes it: a lone line is just "start", an empty range names the
 * line before it. */
static void diff_range(struct buf *out, size_t start, size_t count)
{
	if (count == 1)
		buf_printf(out, "%zu", start + 1);
	else
		buf_printf(out, "%zu,%zu", count ? start + 1 : start, count);
}

static void diff_line(struct buf *out, char op, const struct dline *l)
{
	buf_addch(out, op);
	buf_add(out, l->p, l->n);
	if (!l->n || l->p[l->n - 1] != '\n')
		buf_addstr(out, "\n\\ No newline at end of file\n");
}

/* A unified diff of old and new text, headed old/NAME and new/NAME as terraform fmt's. */
static void unified_diff(struct buf *out, const char *name, const char *a, size_t alen,
			 const char *b, size_t blen)
{
	struct buf la = BUF_INIT, lb = BUF_INIT, eb = BUF_INIT;
	const struct dline *A, *B;
	const struct dedit *e;
	size_t ne, i = 0;

	split_lines(a, alen, &la);
	split_lines(b, blen, &lb);
	A = (const struct dline *)(void *)la.data;
	B = (const struct dline *)(void *)lb.data;
	diff_edits(A, buf_count(&la, struct dline), B, buf_count(&lb, struct dline), &eb);
	e = (const struct dedit *)(void *)eb.data;
	ne = buf_count(&eb, struct dedit);
	buf_printf(out, "--- old/%s\n+++ new/%s\n", name, name);
	while (i < ne) {
		size_t start, end, last, na = 0, nb = 0;

		while (i < ne && e[i].op == ' ')
			i++;
		if (i == ne)
			break;
		start = i > DIFF_CONTEXT ? i - DIFF_CONTEXT : 0;
		/* the hunk runs on while the next change is within two contexts */
		last = i;
		for (size_t k = i; k < ne; k++) {
			if (e[k].op == ' ')
				continue;
			if (k - last > 2 * DIFF_CONTEXT)
				break;
			last = k;
		}
		end = last + 1 + DIFF_CONTEXT < ne ? last + 1 + DIFF_CONTEXT : ne;
		for (size_t k = start; k < end; k++) {
			na += e[k].op != '+';
			nb += e[k].op != '-';
		}
		buf_addstr(out, "@@ -");
		diff_range(out, e[start].ai, na);
		buf_addstr(out, " +");
		diff_range(out, e[start].bi, nb);
		buf_addstr(out, " @@\n");
		for (size_t k = start; k < end; k++)
			diff_line(out, e[k].op, e[k].op == '+' ? &B[e[k].bi] : &A[e[k].ai]);
		i = end;
	}
	buf_release(&la);
	buf_release(&lb);
	buf_release(&eb);
}

/* Formats src into out. Returns -1, with diagnostics, when it has errors. */
static int format_source(struct diag_ctx *diag, const struct source *src, struct buf *out)
{
	struct ast_file *f = parse_source(diag, src, 1);
	int ret = -1;

	if (diag->errors)
		goto out;
	if (fmt_format(f, out)) {
		diag_error(diag, NULL, "cannot format %s: the result would not read as the same "
			   "tokens and values (a bug in stk fmt); the file is left as it is", src->name);
		goto out;
	}
	ret = 0;
out:
	ast_file_free(f);
	return ret;
}

/* Gives the new file the old one's owner where we may (as root); elsewhere it becomes ours,
 * as when an editor saves it. The mode, which matters more, is kept in any case. */
static void keep_owner(int fd, const struct stat *st)
{
	if (st->st_uid == geteuid() && st->st_gid == getegid())
		return;
	if (fchown(fd, st->st_uid, st->st_gid))
		return;
}

/* Replaces path's content atomically: a temporary file in the same directory, with the
 * original's mode, renamed over it. A symbolic link is followed, not replaced. */
static int write_atomic(struct diag_ctx *diag, const char *path, const struct buf *text,
			const struct stat *st)
{
	char *target = realpath(path, NULL);
	char *tmp = NULL, *slash;
	int fd = -1, ret = -1;

	if (!target) {
		diag_error(diag, NULL, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	slash = strrchr(target, '/');
	tmp = xasprintf("%.*s/.%s.stkfmt-XXXXXX", (int)(slash - target), target, slash + 1);
	fd = mkstemp(tmp);
	if (fd < 0) {
		diag_error(diag, NULL, "cannot write %s: %s", path, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	keep_owner(fd, st);
	if (fchmod(fd, st->st_mode & 07777) || buf_write_fd(fd, text->data, text->len) ||
	    fsync(fd)) {
		diag_error(diag, NULL, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	if (close(fd)) {
		fd = -1;
		diag_error(diag, NULL, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, target)) {
		diag_error(diag, NULL, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(target);
	return ret;
}

/* What happens to one formatted text: listed, diffed, written or printed. */
static int fmt_output(struct fmt_run *run, struct diag_ctx *diag, const struct source *src,
		      const struct buf *text, const struct stat *st)
{
	int changed = text->len != src->len || memcmp(text->data ? text->data : "", src->text,
						       src->len) != 0;
	struct buf d = BUF_INIT;

	if (!run->o.check && !run->o.diff && !run->o.write) {
		fwrite(text->data ? text->data : "", 1, text->len, stdout);
		return 0;
	}
	if (!changed)
		return 0;
	run->unformatted = 1;
	if (run->o.list && (run->o.check || run->o.write))
		printf("%s\n", src->name);
	if (run->o.diff) {
		unified_diff(&d, src->name, src->text, src->len, text->data ? text->data : "",
			     text->len);
		fwrite(d.data, 1, d.len, stdout);
		buf_release(&d);
	}
	fflush(stdout);
	if (run->o.write && !run->o.check)
		return write_atomic(diag, src->name, text, st);
	return 0;
}

static void fmt_file(struct fmt_run *run, const char *path, const struct stat *st)
{
	struct diag_ctx diag;
	struct buf text = BUF_INIT;
	struct source *src;

	diag_init(&diag);
	src = diag_read_source(&diag, path);
	if (!src || format_source(&diag, src, &text) || fmt_output(run, &diag, src, &text, st))
		run->errors = 1;
	cli_print_diags(&diag);
	buf_release(&text);
	diag_release(&diag);
}

/* Standard input to standard output; -check and -diff only report, as for a file. */
static void fmt_stdin(struct fmt_run *run)
{
	struct diag_ctx diag;
	struct buf in = BUF_INIT, text = BUF_INIT, d = BUF_INIT;
	struct source *src;
	char chunk[65536];
	size_t n, len;
	char *data;

	diag_init(&diag);
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		buf_add(&in, chunk, n);
	if (ferror(stdin) || in.len > UINT32_MAX - 1) {
		diag_error(&diag, NULL, "cannot read standard input: %s",
			   ferror(stdin) ? strerror(errno) : "over 4 GiB");
		run->errors = 1;
		buf_release(&in);
		goto out;
	}
	data = buf_detach(&in, &len);
	src = diag_add_source(&diag, "<stdin>", data, len);
	if (format_source(&diag, src, &text)) {
		run->errors = 1;
		goto out;
	}
	if (text.len != src->len || memcmp(text.data ? text.data : "", src->text, src->len))
		run->unformatted = 1;
	if (run->o.diff) {
		if (run->unformatted)
			unified_diff(&d, src->name, src->text, src->len,
				     text.data ? text.data : "", text.len);
		fwrite(d.data ? d.data : "", 1, d.len, stdout);
	} else if (!run->o.check) {
		fwrite(text.data ? text.data : "", 1, text.len, stdout);
	}
out:
	cli_print_diags(&diag);
	buf_release(&text);
	buf_release(&d);
	diag_release(&diag);
}

static int is_fmt_name(const char *name)
{
	size_t n = strlen(name);

	return (n > 4 && !strcmp(name + n - 4, ".stk")) ||
	       (n > 8 && !strcmp(name + n - 8, ".stkvars"));
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every .stk and .stkvars file of dir in name order, and with -recursive its subdirectories.
 * Hidden entries (.git, editor files) are left out, and so are links to directories, which
 * could lead in a circle. */
static void fmt_dir(struct fmt_run *run, const char *dir)
{
	struct buf names = BUF_INIT; /* char * */
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d) {
		fprintf(stderr, "stk: error: cannot read directory %s: %s\n", dir, strerror(errno));
		run->errors = 1;
		return;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			buf_push(&names, char *, xstrdup(de->d_name));
	closedir(d);
	if (names.len)
		qsort(names.data, buf_count(&names, char *), sizeof(char *), cmp_names);
	for (size_t i = 0; i < buf_count(&names, char *); i++) {
		const char *name = buf_at(&names, char *, i);
		size_t dl = strlen(dir);
		char *path;
		struct stat st;

		/* "./main.stk" reads better as "main.stk" */
		if (!strcmp(dir, "."))
			path = xstrdup(name);
		else
			path = xasprintf("%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", name);
		if (lstat(path, &st) == 0) {
			int link = S_ISLNK(st.st_mode);
			if (link && stat(path, &st))
				st.st_mode = 0;
			if (S_ISDIR(st.st_mode) && run->o.recursive && !link)
				fmt_dir(run, path);
			else if (S_ISREG(st.st_mode) && is_fmt_name(name))
				fmt_file(run, path, &st);
		}
		free(path);
	}
	for (size_t i = 0; i < buf_count(&names, char *); i++)
		free(buf_at(&names, char *, i));
	buf_release(&names);
}

static void fmt_path(struct fmt_run *run, const char *path)
{
	struct stat st;

	if (stat(path, &st)) {
		fprintf(stderr, "stk: error: cannot read %s: %s\n", path, strerror(errno));
		run->errors = 1;
	} else if (S_ISDIR(st.st_mode)) {
		fmt_dir(run, path);
	} else {
		fmt_file(run, path, &st);
	}
}

int cmd_fmt(int argc, char **argv)
{
	const struct cli_command *self = cli_find("fmt");
	struct fmt_run run;
	const char *v;
	int npaths = 0, stdin_arg = 0, flags_done = 0;

	memset(&run, 0, sizeof run);
	run.o.write = 1;
	run.o.list = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int *flag = NULL;

		if (flags_done || a[0] != '-' || !strcmp(a, "-")) {
			npaths++;
			stdin_arg |= !flags_done && !strcmp(a, "-");
			continue;
		}
		if (!strcmp(a, "--")) {
			flags_done = 1;
			continue;
		}
		if (cli_is_help(a)) {
			fputs(self->usage, stdout);
			return 0;
		}
		if (cli_flag(a, "check", &v))
			flag = &run.o.check;
		else if (cli_flag(a, "diff", &v))
			flag = &run.o.diff;
		else if (cli_flag(a, "write", &v))
			flag = &run.o.write;
		else if (cli_flag(a, "list", &v))
			flag = &run.o.list;
		else if (cli_flag(a, "recursive", &v))
			flag = &run.o.recursive;
		if (!flag)
			return cli_usage_error(self, "unknown flag '%s'", a);
		if (parse_bool(v, flag))
			return cli_usage_error(self, "flag '%s' takes true or false", a);
	}
	if (stdin_arg && npaths > 1)
		return cli_usage_error(self, "'-' (standard input) cannot be mixed with other paths");
	if (!npaths) {
		fmt_path(&run, ".");
	} else {
		flags_done = 0;
		for (int i = 1; i < argc; i++) {
			const char *a = argv[i];
			if (!flags_done && !strcmp(a, "--")) {
				flags_done = 1;
				continue;
			}
			if (!flags_done && a[0] == '-' && strcmp(a, "-"))
				continue;
			if (!strcmp(a, "-") && !flags_done)
				fmt_stdin(&run);
			else
				fmt_path(&run, a);
		}
	}
	fflush(stdout);
	if (run.errors)
		return 1;
	return run.o.check && run.unformatted ? 3 : 0;
}

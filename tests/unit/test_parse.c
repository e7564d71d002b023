/* test_parse.c: a file parsed in pieces on several threads (parse.c's parse_pieces) must give
 * the tree and the messages of one pass, byte for byte, whether the pieces stand or are thrown
 * away. Every .stk file of the test suite, the examples and the stdlib is parsed both ways with
 * pieces as small as they go; then big files are built whose cuts fall where they may not (in
 * heredocs, comments, strings and nested blocks), and one whose cuts all stand.
 * Then stk fmt must keep what each case of tests/fmt means: the same tree but for offsets. */
#include "parser/fmt.h"
#include "parser/parse.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"

#include "tests/unit/unit.h"


/* The tree and every message of one parse of text, and how many pieces it took. */
static unsigned parse_dump(const char *name, const char *text, size_t len, int threads,
			   size_t piece_min, struct buf *out)
{
	struct diag_ctx diag;
	struct ast_file *f;
	unsigned pieces;

	diag_init(&diag);
	parse_threads = threads;
	parse_piece_min = piece_min;
	f = parse_source(&diag, diag_add_source(&diag, name, xstrndup(text, len), len), 0);
	ast_dump(f, out);
	for (size_t i = 0; i < buf_count(&diag.diags, struct diag); i++) {
		diag_format(&buf_at(&diag.diags, struct diag, i), out, 0);
		buf_addch(out, '\n');
	}
	buf_printf(out, "errors %u warnings %u\n", diag.errors, diag.warnings);
	pieces = f->pieces;
	ast_file_free(f);
	diag_release(&diag);
	parse_threads = 0;
	parse_piece_min = 1 << 20;
	return pieces;
}

/* Parses text in one pass and in pieces of at least piece_min bytes; the two must agree.
 * Returns the number of pieces the second parse stood on (1: they were thrown away). */
static unsigned same_both_ways(const char *name, const char *text, size_t len, size_t piece_min)
{
	struct buf one = BUF_INIT, split = BUF_INIT;
	unsigned pieces;

	parse_dump(name, text, len, 1, piece_min, &one);
	pieces = parse_dump(name, text, len, 8, piece_min, &split);
	check(one.len == split.len && memcmp(one.data, split.data, one.len) == 0, name,
	      "in pieces (%u) the parse differs from one pass:\n--- one pass\n%.2000s\n--- pieces\n%.2000s",
	      pieces, one.data, split.data);
	buf_release(&one);
	buf_release(&split);
	return pieces;
}

/* Calls each on every file under dir, recursively, whose name ends in suffix. Returns the
 * sum of what it returned. */
static unsigned walk(const char *dir, const char *suffix,
		     unsigned (*each)(const char *path, const struct source *src))
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned files = 0;
	size_t sl = strlen(suffix);

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char *path;
		struct stat st;
		size_t n = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			files += walk(path, suffix, each);
		} else if (n > sl && strcmp(e->d_name + n - sl, suffix) == 0) {
			struct diag_ctx files_diag;
			const struct source *src;

			diag_init(&files_diag);
			src = diag_read_source(&files_diag, path);
			check(src != NULL, path, "cannot be read");
			if (src)
				files += each(path, src);
			diag_release(&files_diag);
		}
		free(path);
	}
	closedir(d);
	return files;
}

/* A file parsed both ways, in pieces of 1 byte and up: a cut at every place one can go. */
static unsigned both_ways(const char *path, const struct source *src)
{
	same_both_ways(path, src->text, src->len, 1);
	same_both_ways(path, src->text, src->len, 64);
	return 1;
}

/* n copies of unit, the i-th with its "%d"s replaced by i. */
static char *repeat(const char *unit, int n, size_t *len)
{
	struct buf b = BUF_INIT;

	for (int i = 0; i < n; i++) {
		for (const char *p = unit; *p; p++) {
			if (p[0] == '%' && p[1] == 'd') {
				buf_printf(&b, "%d", i);
				p++;
			} else {
				buf_addch(&b, *p);
			}
		}
	}
	return buf_detach(&b, len);
}

/* Parses text (with the tokens, as stk fmt does); NULL when it has errors. */
static struct ast_file *parse_clean(struct diag_ctx *diag, const char *name, const char *text,
				    size_t len)
{
	struct ast_file *f;

	diag_init(diag);
	f = parse_source(diag, diag_add_source(diag, name, xstrndup(text, len), len), 1);
	if (diag->errors) {
		ast_file_free(f);
		diag_release(diag);
		return NULL;
	}
	return f;
}

/* stk fmt on text: the formatted text must parse to the tree text gives, offsets aside, and
 * be formatted already. Returns whether text parsed cleanly; *value, when asked for, gets
 * the static value of the first attribute of the formatted text. */
static int fmt_keeps_meaning(const char *name, const char *text, size_t len, struct buf *value)
{
	struct diag_ctx d1, d2;
	struct buf out = BUF_INIT, again = BUF_INIT, before = BUF_INIT, after = BUF_INIT;
	struct ast_file *f = parse_clean(&d1, name, text, len), *g = NULL;

	if (!f)
		return 0;
	check(fmt_format(f, &out) == 0, name, "stk fmt refused it");
	g = parse_clean(&d2, name, out.data ? out.data : "", out.len);
	check(g != NULL, name, "the formatted text has errors:\n%s", out.data);
	if (g) {
		ast_dump_values(f, &before);
		ast_dump_values(g, &after);
		check(before.len == after.len && (!before.len || memcmp(before.data, after.data, before.len) == 0),
		      name, "formatting changes the tree:\n--- before\n%.2000s\n--- after\n%.2000s",
		      before.data, after.data);
		check(fmt_format(g, &again) == 0 && again.len == out.len &&
		      memcmp(again.data, out.data, out.len) == 0, name, "formatting twice changes it");
		if (value && g->body.n && g->body.items[0]->kind == AST_ATTR &&
		    ast_static_string(g->body.items[0]->value))
			buf_addstr(value, ast_static_string(g->body.items[0]->value));
		ast_file_free(g);
		diag_release(&d2);
	}
	ast_file_free(f);
	diag_release(&d1);
	buf_release(&out);
	buf_release(&again);
	buf_release(&before);
	buf_release(&after);
	return 1;
}

/* A case of tests/fmt, if it parses cleanly. */
static unsigned fmt_case(const char *path, const struct source *src)
{
	return (unsigned)fmt_keeps_meaning(path, src->text, src->len, NULL);
}

int main(void)
{
	const char *srcdir = getenv("STK_SRCDIR");
	static const char *const dirs[] = { "tests", "examples", "stdlib" };
	unsigned files = 0;
	size_t len;
	char *text;

	if (!srcdir || !*srcdir)
		srcdir = STK_SRCDIR;
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		char *dir = xasprintf("%s/%s", srcdir, dirs[i]);
		files += walk(dir, ".stk", both_ways);
		free(dir);
	}
	check(files >= 100, "corpus", "only %u .stk files found under %s", files, srcdir);

	/* Top-level blocks only: every cut stands, and the pieces are used. */
	text = repeat("resource aws.subnet s%d {\n"
		      "  vpc_id     = aws.vpc.main.id\n"
		      "  cidr_block = cidrsubnet(\"10.0.0.0/8\", 16, %d)\n"
		      "  tags = { Name = \"${var.env}-%d\" }\n"
		      "}\n\n", 400, &len);
	check(same_both_ways("blocks", text, len, 4096) > 1, "blocks",
	      "a file of top-level blocks was not parsed in pieces");
	free(text);

	/* Lines that look like a cut inside a heredoc, a comment, a nested block and after an
	 * unbalanced brace: the pieces before them do not finish cleanly, so one pass decides. */
	static const char *const traps[] = {
		"resource host.file f%d {\n  content = <<EOT\n}\n\nresource x y {\nEOT\n}\n\n",
		"/* block %d\n}\n\nresource x y {\n*/\nvariable v%d { default = 1 }\n\n",
		"resource aws.security_group g%d {\n  ingress {\n    from_port = 1\n}\n\nfoo = 2\n  }\n}\n\n",
		"locals {\n  a%d = \"${{\n}\n\nb = 1\n}\"\n}\n\n",
		"variable v%d {\n  default = [\n}\n\nvariable w%d { default = 1 }\n\n",
		"resource aws.vpc v%d {\n  cidr_block = \"10.0.0.0/16\"\n}\n\n#}\nresource aws.vpc w%d { x = \"}\n\nresource\" }\n\n",
	};
	for (size_t i = 0; i < sizeof traps / sizeof *traps; i++) {
		char name[32];
		snprintf(name, sizeof name, "trap %zu", i);
		text = repeat(traps[i], 300, &len);
		same_both_ways(name, text, len, 512);
		same_both_ways(name, text, len, 1);
		free(text);
	}

	/* A heredoc that runs to the end: the last piece is unfinished too. */
	text = repeat("variable v%d { default = 1 }\n\n", 500, &len);
	{
		struct buf b = BUF_INIT;
		buf_add(&b, text, len);
		buf_addstr(&b, "locals {\n  x = <<EOT\n}\n\nresource a b {\n");
		buf_add(&b, text, len);
		same_both_ways("open heredoc", b.data, b.len, 256);
		buf_release(&b);
	}
	free(text);

	/* stk fmt writes LF: heredoc text reads CR LF as LF, so that changes no value; CR CR LF
	 * is a CR and the line end, before and after */
	{
		char *dir = xasprintf("%s/tests/fmt", srcdir);
		unsigned cases = walk(dir, ".in.stk", fmt_case);
		static const char crlf[] = "a = <<EOT\r\nhello\r\nx\r\r\ny\rz\r\nEOT\r\n";
		struct buf v = BUF_INIT;

		check(cases >= 40, "fmt cases", "only %u cases of tests/fmt parse", cases);
		free(dir);
		fmt_keeps_meaning("crlf heredoc", crlf, sizeof crlf - 1, &v);
		check(v.len && strcmp(buf_cstr(&v), "hello\nx\r\ny\rz\n") == 0, "crlf heredoc",
		      "the value is not hello LF x CR LF y CR z LF: %s", buf_cstr(&v));
		buf_release(&v);
	}

	printf("%d passed, %d failed (%u files)\n", passed, failed, files);
	return failed ? 1 : 0;
}

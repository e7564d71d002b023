/* test_parse.c: a file parsed in pieces on several threads (parse.c's parse_pieces) must give
 * the tree and the messages of one pass, byte for byte, whether the pieces stand or are thrown
 * away. Every .stk file of the test suite, the examples and the stdlib is parsed both ways with
 * pieces as small as they go; then big files are built whose cuts fall where they may not (in
 * heredocs, comments, strings and nested blocks), and one whose cuts all stand. */
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

/* Every .stk file under dir, recursively. */
static unsigned walk(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned files = 0;

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
			files += walk(path);
		} else if (n > 4 && strcmp(e->d_name + n - 4, ".stk") == 0) {
			struct diag_ctx files_diag;
			const struct source *src;

			diag_init(&files_diag);
			src = diag_read_source(&files_diag, path);
			check(src != NULL, path, "cannot be read");
			if (src) {
				/* pieces of 1 byte and up: a cut at every place one can go */
				same_both_ways(path, src->text, src->len, 1);
				same_both_ways(path, src->text, src->len, 64);
				files++;
			}
			diag_release(&files_diag);
		}
		free(path);
	}
	closedir(d);
	return files;
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
		files += walk(dir);
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

	printf("%d passed, %d failed (%u files)\n", passed, failed, files);
	return failed ? 1 : 0;
}

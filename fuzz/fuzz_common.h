/* fuzz_common.h: what the fuzz targets share. Define FUZZ_NAME (the target's name, for
 * die()'s message) before including it; included once by each target.
 *
 *   die(WHY)                    prints "FUZZ_NAME: WHY" and aborts (libFuzzer saves the input);
 *   verbose                     STK_FUZZ_VERBOSE set (fuzz_init_verbose()): print what comes back;
 *   map_of(N, KEYS, VALS)       a map value taking VALS (KEYS copied), strs(N, S) a list of strings;
 *   check_result(V)             a provider's result: NULL or known, and written with val_write();
 *   format_diags(DIAG, OUT)     every diagnostic formatted into OUT (the messages must format,
 *                               whatever went into them), printed first when verbose;
 *   fuzz_parse_input(...)       the input copied into a NUL-terminated buffer the diag_ctx owns,
 *                               and parsed as fuzz.stk;
 *   fuzz_make_dir(...)          a directory under $TMPDIR (or /tmp) with the files a target
 *                               reads, removed at exit (libFuzzer exits through exit() when its
 *                               time is up; after a crash it stays behind, with the input).
 *
 * All static inline: a target links only what it calls (fuzz_state has no parser). */
#ifndef STK_FUZZ_COMMON_H
#define STK_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/diag.h"
#include "parser/ast.h"
#include "parser/parse.h"
#include "planner/value.h"

#ifndef FUZZ_NAME
#error "define FUZZ_NAME before including fuzz/fuzz_common.h"
#endif

static int verbose;  /* STK_FUZZ_VERBOSE set: print the values and diagnostics */

static inline void fuzz_init_verbose(void)
{
	verbose = getenv("STK_FUZZ_VERBOSE") != NULL;
}

static inline void die(const char *why)
{
	fprintf(stderr, FUZZ_NAME ": %s\n", why);
	abort();
}

/* ---- small value builders ---- */

static inline struct value *map_of(size_t n, const char *const *keys, struct value **vals)
{
	struct val_pair *p = xmalloc((n ? n : 1) * sizeof *p);
	for (size_t i = 0; i < n; i++) {
		p[i].key = xstrdup(keys[i]);
		p[i].val = vals[i];
	}
	struct value *m = val_map_take(p, n);
	free(p);
	return m;
}

static inline struct value *strs(size_t n, const char *const *s)
{
	struct value **items = xmalloc((n ? n : 1) * sizeof *items);
	for (size_t i = 0; i < n; i++)
		items[i] = val_cstring(s[i]);
	struct value *l = val_list_take(items, n);
	free(items);
	return l;
}

/* ---- what comes back ---- */

static inline void check_result(const struct value *v)
{
	struct buf out = BUF_INIT;

	if (!v)
		return;
	if (!val_is_known(v))
		die("the provider returned a value that is not known");
	val_write(v, &out);
	if (verbose)
		fprintf(stderr, "%s\n", out.data ? out.data : "");
	buf_release(&out);
}

static inline void format_diags(struct diag_ctx *diag, struct buf *out)
{
	if (verbose)
		diag_print(diag, stderr, 0);
	for (size_t i = 0; i < buf_count(&diag->diags, struct diag); i++) {
		buf_reset(out);
		diag_format(&buf_at(&diag->diags, struct diag, i), out, 0);
	}
}

/* ---- the input as a .stk file ---- */

/* diag_init(DIAG), then the input parsed as fuzz.stk (KEEP_COMMENTS as parse_source() takes
 * it); the text belongs to DIAG. */
static inline struct ast_file *fuzz_parse_input(struct diag_ctx *diag, const uint8_t *data, size_t size,
						int keep_comments)
{
	char *text = xmalloc(size + 1);

	if (size)
		memcpy(text, data, size);
	text[size] = '\0';
	diag_init(diag);
	const struct source *src = diag_add_source(diag, "fuzz.stk", text, size);
	return parse_source(diag, src, keep_comments);
}

/* ---- a directory of files ---- */

static char *fuzz_dir;
static const char *const *fuzz_dir_names;
static size_t fuzz_dir_n;

static inline void fuzz_remove_dir(void)
{
	char path[512];

	for (size_t i = 0; i < fuzz_dir_n; i++) {
		snprintf(path, sizeof path, "%s/%s", fuzz_dir, fuzz_dir_names[i]);
		unlink(path);
	}
	rmdir(fuzz_dir);
}

/* DIR (SIZE bytes) becomes $TMPDIR/stk-fuzz-TAG.XXXXXX, made now (WHY is the message when it
 * cannot be); the N files NAMES in it are removed with it at exit. */
static inline void fuzz_make_dir(char *dir, size_t size, const char *tag, const char *why,
				 const char *const *names, size_t n)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, size, "%s/stk-fuzz-%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
	if (!mkdtemp(dir))
		die(why);
	fuzz_dir = dir;
	fuzz_dir_names = names;
	fuzz_dir_n = n;
	atexit(fuzz_remove_dir);
}

/* NAME in the directory fuzz_make_dir() made, holding TEXT (WHY: the message if it cannot) */
static inline void fuzz_put_file(const char *name, const char *text, const char *why)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", fuzz_dir, name);
	if (!(f = fopen(path, "w")) || fputs(text, f) < 0 || fclose(f))
		die(why);
}

#endif

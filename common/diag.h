/* diag.h: source files, spans and the diagnostics context.
 * Ownership: a diag_ctx owns every source and diagnostic added to it; spans borrow sources. */
#ifndef STK_DIAG_H
#define STK_DIAG_H

#include <stdint.h>
#include <stdio.h>

#include "common/buf.h"

struct source {
	char *name;  /* as given by the user: "main.stk", "dir/net.stk" */
	char *text;  /* whole file, NUL-terminated */
	size_t len;
	size_t mapped;  /* 0, or the length of text's mapping (a big file, read-only) */
	/* a mapped file as it was when mapped: diag_changed_source tells a change from it */
	unsigned long long dev, ino, size, mtime_ns, ctime_ns;
	uint32_t *lines;  /* offsets where each line starts, built when first asked for */
	uint32_t nlines;
	uint32_t hidden;  /* lines before the file's own text (a wrapper stk parses it in):
			     positions do not count them */
};

/* A half-open byte range [off, end) of a source. Lines and columns are worked out only when
 * something is shown to the user, which keeps the lexer and the tree lean. */
struct span {
	const struct source *src;
	uint32_t off, end;
};

enum diag_severity { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE };

struct diag {
	enum diag_severity severity;
	struct span span;   /* src == NULL: a diagnostic about no particular place */
	char *message;
	char *hint;         /* optional second line: "did you mean ...?" or how to fix it */
};

struct diag_ctx {
	struct buf sources; /* struct source * */
	struct buf diags;   /* struct diag */
	unsigned errors;
	unsigned warnings;
	unsigned max_errors; /* 0: unlimited; past it, errors are counted but not kept */
	/* diag_read_source maps a file of 1 MiB or more rather than reading it. Only for a
	 * command that holds nothing (validate): a file cut short under the mapping makes the
	 * next read of its lost pages a SIGBUS, which that command turns into a message. */
	int map_big;
};

void diag_init(struct diag_ctx *ctx);
void diag_release(struct diag_ctx *ctx);

/* Takes ownership of text (malloc'd, NUL-terminated, len bytes). */
struct source *diag_add_source(struct diag_ctx *ctx, const char *name, char *text, size_t len);
/* Reads a file into a new source (maps it, see map_big); on failure adds an error and
 * returns NULL. */
struct source *diag_read_source(struct diag_ctx *ctx, const char *path);
/* The name of the first mapped source whose file changed since it was mapped (its size,
 * times or inode), or NULL: what was read of it may be a mix of old and new. */
const char *diag_changed_source(const struct diag_ctx *ctx);
/* The name of the mapped source that addr lies in, or NULL. Async-signal-safe, for a SIGBUS
 * handler: a file cut short under its mapping faults when its lost pages are read. */
const char *diag_mapped_name(const void *addr);

void diag_add(struct diag_ctx *ctx, enum diag_severity sev, const struct span *span,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void diag_addv(struct diag_ctx *ctx, enum diag_severity sev, const struct span *span,
	       const char *fmt, va_list ap);
/* Moves every diagnostic of from (one thread's, say) to the end of to; from keeps its sources
 * and is left with no diagnostics. */
void diag_append(struct diag_ctx *to, struct diag_ctx *from);
/* Removes the errors whose message ends with suffix (and their hints); returns how many. */
size_t diag_drop_errors_ending(struct diag_ctx *ctx, const char *suffix);
/* Makes every error of ctx a warning: for a failure that does not undo the run's work (the
 * release of a lock after the state was written). */
void diag_demote_errors(struct diag_ctx *ctx);
/* Moves every source of from to the end of to's: the spans of diagnostics appended from
 * from stay good when from is released. */
void diag_take_sources(struct diag_ctx *to, struct diag_ctx *from);
/* Sets the hint of the diagnostic added last. */
void diag_hint(struct diag_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Secrets: the text of sensitive values, which no message or log line may show. diag_print
 * and the HTTP log replace each registered secret with "(sensitive value)" in what they write:
 * the last line of defence for a value that reaches a message by a path that cannot know it
 * is sensitive (a cloud API's error that echoes an argument). Process-wide and thread-safe;
 * text shorter than DIAG_SECRET_MIN bytes is too common to replace and is not registered.
 */
#define DIAG_SECRET_MIN 4
void diag_add_secret(const char *s, size_t len);
/* A text some value shows in the clear (it is not sensitive): a secret equal to it is no
 * secret, and is not replaced. An element of a sensitive map ("127.0.0.1" beside a password)
 * is otherwise replaced in every message, where the same text is everywhere else in view.
 * Call after the secrets of the run are registered. */
void diag_add_public(const char *s, size_t len);
/* Whether any secret is registered: a run without one skips the walk for public texts. */
int diag_has_secrets(void);
/* Replaces every registered secret in b that is not public, the longest first. */
void diag_redact(struct buf *b);
/* Forgets them all (for tests). */
void diag_forget_secrets(void);

#define diag_error(ctx, span, ...) diag_add((ctx), DIAG_ERROR, (span), __VA_ARGS__)
#define diag_warning(ctx, span, ...) diag_add((ctx), DIAG_WARNING, (span), __VA_ARGS__)
#define diag_note(ctx, span, ...) diag_add((ctx), DIAG_NOTE, (span), __VA_ARGS__)

/* Sorts diagnostics by file, then position (stable), so output follows the source, and drops
 * one that would print the same as one before it (the counts stay as they were). */
void diag_sort(struct diag_ctx *ctx);
/* Writes every diagnostic: "file:line:col: error: message", the source line, a ^~~ underline. */
void diag_print(const struct diag_ctx *ctx, FILE *out, int color);
void diag_format(const struct diag *d, struct buf *out, int color);

/* A span covering a and b (a must come first). */
struct span span_join(const struct span *a, const struct span *b);
/* The empty span where s ends. */
struct span span_end(const struct span *s);
/* 1-based line and column (columns count Unicode code points, as editors do) of an offset. */
void source_position(const struct source *src, uint32_t off, uint32_t *line, uint32_t *col);
uint32_t span_line(const struct span *s);
uint32_t span_col(const struct span *s);
uint32_t span_end_line(const struct span *s);
uint32_t span_end_col(const struct span *s);
/* Is there a line break in src between offsets from and to? */
int source_has_newline(const struct source *src, uint32_t from, uint32_t to);

/* Edit distance for "did you mean" hints; returns the closest candidate within a sensible
 * distance of name, or NULL. candidates is a NULL-terminated array. */
const char *diag_suggest(const char *name, const char *const *candidates);
unsigned diag_edit_distance(const char *a, const char *b);

#endif

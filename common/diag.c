/* memmem */
#define _GNU_SOURCE
#include "common/diag.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strmap.h"

/* The mapped sources' ranges, for diag_mapped_name in a signal handler: a fixed table, as
 * the handler can take no lock and call no allocator. A file beyond its size is read. */
#define MAPPED_MAX 64
static struct {
	const char *volatile start;
	size_t len;
	const char *name;
} mapped[MAPPED_MAX];
static pthread_mutex_t mapped_lock = PTHREAD_MUTEX_INITIALIZER;

static int remember_mapping(const char *start, size_t len, const char *name)
{
	int ok = 0;

	pthread_mutex_lock(&mapped_lock);
	for (size_t i = 0; i < MAPPED_MAX && !ok; i++)
		if (!mapped[i].start) {
			mapped[i].len = len;
			mapped[i].name = name;
			mapped[i].start = start;
			ok = 1;
		}
	pthread_mutex_unlock(&mapped_lock);
	return ok ? 0 : -1;
}

static void name_mapping(const char *start, const char *name)
{
	pthread_mutex_lock(&mapped_lock);
	for (size_t i = 0; i < MAPPED_MAX; i++)
		if (mapped[i].start == start)
			mapped[i].name = name;
	pthread_mutex_unlock(&mapped_lock);
}

static void forget_mapping(const char *start)
{
	pthread_mutex_lock(&mapped_lock);
	for (size_t i = 0; i < MAPPED_MAX; i++)
		if (mapped[i].start == start)
			mapped[i].start = NULL;
	pthread_mutex_unlock(&mapped_lock);
}

const char *diag_mapped_name(const void *addr)
{
	const char *p = addr;

	for (size_t i = 0; i < MAPPED_MAX; i++) {
		const char *start = mapped[i].start;
		if (start && p >= start && p < start + mapped[i].len)
			return mapped[i].name;
	}
	return NULL;
}

static unsigned long long ns_of(const struct timespec *t)
{
	return (unsigned long long)t->tv_sec * 1000000000ull + (unsigned long long)t->tv_nsec;
}

const char *diag_changed_source(const struct diag_ctx *ctx)
{
	for (size_t i = 0; i < buf_count(&ctx->sources, struct source *); i++) {
		const struct source *s = buf_at(&ctx->sources, struct source *, i);
		struct stat st;
		if (!s->mapped)
			continue;
		if (stat(s->name, &st) || (unsigned long long)st.st_dev != s->dev ||
		    (unsigned long long)st.st_ino != s->ino || (unsigned long long)st.st_size != s->size ||
		    ns_of(&st.st_mtim) != s->mtime_ns || ns_of(&st.st_ctim) != s->ctime_ns)
			return s->name;
	}
	return NULL;
}

void diag_init(struct diag_ctx *ctx)
{
	memset(ctx, 0, sizeof *ctx);
}

void diag_release(struct diag_ctx *ctx)
{
	for (size_t i = 0; i < buf_count(&ctx->sources, struct source *); i++) {
		struct source *s = buf_at(&ctx->sources, struct source *, i);
		free(s->name);
		if (s->mapped) {
			forget_mapping(s->text);
			munmap(s->text, s->mapped);
		}
		else
			free(s->text);
		free(s->lines);
		free(s);
	}
	for (size_t i = 0; i < buf_count(&ctx->diags, struct diag); i++) {
		struct diag *d = &buf_at(&ctx->diags, struct diag, i);
		free(d->message);
		free(d->hint);
	}
	buf_release(&ctx->sources);
	buf_release(&ctx->diags);
	ctx->errors = ctx->warnings = 0;
}

struct source *diag_add_source(struct diag_ctx *ctx, const char *name, char *text, size_t len)
{
	struct source *s = xcalloc(1, sizeof *s);

	s->name = xstrdup(name);
	s->text = text;
	s->len = len;
	buf_push(&ctx->sources, struct source *, s);
	return s;
}

#define SOURCE_MAP_MIN (1u << 20)

struct source *diag_read_source(struct diag_ctx *ctx, const char *path)
{
	struct buf b = BUF_INIT;
	struct stat st;
	size_t hint = 0, len;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		diag_error(ctx, NULL, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	/* read whole into one allocation made for its size: no doubling, no stdio copy */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uint64_t)st.st_size < UINT32_MAX)
		hint = (size_t)st.st_size;
	/* A big file is mapped instead, its pages the page cache's: no copy, and no fresh pages to
	 * clear. The NUL after the text is the rest of its last page, which the kernel fills with
	 * zeros (a file that ends on a page's end has none, and is read); writing it makes that
	 * page the process's own, so that bytes appended to the file later never show after the
	 * text. The pages before stay the file's: diag_changed_source tells whether it changed.
	 * Only that page is ever writable: populating a writable private mapping copies every
	 * page, as a read would (2.2 ms of the 4.6 MB of 10k resources, against 0.2). */
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	if (ctx->map_big && hint >= SOURCE_MAP_MIN && hint % page) {
		char *m = mmap(NULL, hint, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
		char *last = m + hint / page * page;
		/* known to the SIGBUS handler before the first write: the file may already be
		 * shorter than it was (with the table of mappings full, the file is read) */
		if (m != MAP_FAILED && remember_mapping(m, hint + 1, path) == 0) {
			int ok = mprotect(last, page, PROT_READ | PROT_WRITE) == 0;
			if (ok)
				m[hint] = '\0';
			if (ok && mprotect(last, page, PROT_READ) == 0) {
				struct source *s = diag_add_source(ctx, path, m, hint);
				name_mapping(m, s->name);
				close(fd);
				s->mapped = hint;
				s->dev = (unsigned long long)st.st_dev;
				s->ino = (unsigned long long)st.st_ino;
				s->size = (unsigned long long)st.st_size;
				s->mtime_ns = ns_of(&st.st_mtim);
				s->ctime_ns = ns_of(&st.st_ctim);
				return s;
			}
			forget_mapping(m);
		}
		if (m != MAP_FAILED)
			munmap(m, hint);
	}
	if (buf_read_fd(&b, fd, hint) < 0) {
		diag_error(ctx, NULL, "cannot read %s: %s", path, strerror(errno));
		close(fd);
		buf_release(&b);
		return NULL;
	}
	close(fd);
	if (b.len > UINT32_MAX - 1) {
		diag_error(ctx, NULL, "%s is too large (over 4 GiB)", path);
		buf_release(&b);
		return NULL;
	}
	char *text = buf_detach(&b, &len);
	return diag_add_source(ctx, path, text, len);
}

void diag_addv(struct diag_ctx *ctx, enum diag_severity sev, const struct span *span,
	       const char *fmt, va_list ap)
{
	struct diag d;
	struct buf msg = BUF_INIT;

	if (sev == DIAG_ERROR)
		ctx->errors++;
	else if (sev == DIAG_WARNING)
		ctx->warnings++;
	if (sev == DIAG_ERROR && ctx->max_errors && ctx->errors > ctx->max_errors)
		return;
	memset(&d, 0, sizeof d);
	d.severity = sev;
	if (span)
		d.span = *span;
	buf_vprintf(&msg, fmt, ap);
	d.message = buf_detach(&msg, NULL);
	buf_add(&ctx->diags, &d, sizeof d);
}

void diag_add(struct diag_ctx *ctx, enum diag_severity sev, const struct span *span,
	      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(ctx, sev, span, fmt, ap);
	va_end(ap);
}

void diag_demote_errors(struct diag_ctx *ctx)
{
	for (size_t i = 0; i < buf_count(&ctx->diags, struct diag); i++) {
		struct diag *d = &buf_at(&ctx->diags, struct diag, i);
		if (d->severity == DIAG_ERROR)
			d->severity = DIAG_WARNING;
	}
	ctx->warnings += ctx->errors;
	ctx->errors = 0;
}

size_t diag_drop_errors_ending(struct diag_ctx *ctx, const char *suffix)
{
	struct diag *d = (struct diag *)(void *)ctx->diags.data;
	size_t n = buf_count(&ctx->diags, struct diag), kept = 0, len = strlen(suffix);

	for (size_t i = 0; i < n; i++) {
		size_t m = strlen(d[i].message);
		if (d[i].severity == DIAG_ERROR && m >= len && !strcmp(d[i].message + m - len, suffix)) {
			free(d[i].message);
			free(d[i].hint);
			ctx->errors--;
			continue;
		}
		d[kept++] = d[i];
	}
	ctx->diags.len = kept * sizeof *d;
	return n - kept;
}

void diag_append(struct diag_ctx *to, struct diag_ctx *from)
{
	unsigned errors = 0;

	for (size_t i = 0; i < buf_count(&from->diags, struct diag); i++) {
		struct diag *d = &buf_at(&from->diags, struct diag, i);
		/* as diag_addv: counted, and kept up to to's limit */
		if (d->severity == DIAG_ERROR) {
			errors++;
			to->errors++;
		}
		if (d->severity == DIAG_ERROR && to->max_errors && to->errors > to->max_errors) {
			free(d->message);
			free(d->hint);
		} else {
			buf_push(&to->diags, struct diag, *d);
		}
	}
	/* errors from counted past its own limit */
	if (from->errors > errors)
		to->errors += from->errors - errors;
	to->warnings += from->warnings;
	buf_reset(&from->diags);
	from->errors = from->warnings = 0;
}

void diag_take_sources(struct diag_ctx *to, struct diag_ctx *from)
{
	buf_add(&to->sources, from->sources.data, from->sources.len);
	buf_reset(&from->sources);
}

void diag_hint(struct diag_ctx *ctx, const char *fmt, ...)
{
	size_t n = buf_count(&ctx->diags, struct diag);
	struct buf b = BUF_INIT;
	va_list ap;

	if (!n)
		return;
	struct diag *d = &buf_at(&ctx->diags, struct diag, n - 1);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	free(d->hint);
	d->hint = buf_detach(&b, NULL);
}

static int diag_cmp(const void *pa, const void *pb)
{
	const struct diag *a = pa, *b = pb;
	const struct source *sa = a->span.src, *sb = b->span.src;

	if (sa != sb) {
		if (!sa || !sb)
			return sa ? 1 : -1;
		int c = strcmp(sa->name, sb->name);
		if (c)
			return c;
	}
	if (a->span.off != b->span.off)
		return a->span.off < b->span.off ? -1 : 1;
	return 0;
}

static int same_text(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Two diagnostics that would print the same (diag_cmp has found them at one place). */
static int diag_same(const struct diag *a, const struct diag *b)
{
	return a->severity == b->severity && a->span.end == b->span.end && same_text(a->message, b->message) &&
	       same_text(a->hint, b->hint);
}

void diag_sort(struct diag_ctx *ctx)
{
	size_t n = buf_count(&ctx->diags, struct diag);
	struct diag *d = (struct diag *)(void *)ctx->diags.data;

	/* insertion sort: stable, and the list is short and nearly sorted */
	for (size_t i = 1; i < n; i++) {
		struct diag x = d[i];
		size_t j = i;
		while (j > 0 && diag_cmp(&d[j - 1], &x) > 0) {
			d[j] = d[j - 1];
			j--;
		}
		d[j] = x;
	}
	/* the same words at the same place again (a module called twice, or per instance, has
	 * its mistakes found once for each) say nothing more: only the first is kept */
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		size_t j = kept;
		while (j > 0 && diag_cmp(&d[j - 1], &d[i]) == 0 && !diag_same(&d[j - 1], &d[i]))
			j--;
		if (j > 0 && diag_cmp(&d[j - 1], &d[i]) == 0) {
			free(d[i].message);
			free(d[i].hint);
			continue;
		}
		d[kept++] = d[i];
	}
	ctx->diags.len = kept * sizeof *d;
}

static const char *sev_name(enum diag_severity s)
{
	switch (s) {
	case DIAG_ERROR: return "error";
	case DIAG_WARNING: return "warning";
	default: return "note";
	}
}

static const char *sev_color(enum diag_severity s)
{
	switch (s) {
	case DIAG_ERROR: return "\033[1;31m";
	case DIAG_WARNING: return "\033[1;35m";
	default: return "\033[1;36m";
	}
}

void diag_format(const struct diag *d, struct buf *out, int color)
{
	const struct span *sp = &d->span;
	const char *bold = color ? "\033[1m" : "", *reset = color ? "\033[0m" : "";

	if (sp->src)
		buf_printf(out, "%s%s:%u:%u: %s", bold, sp->src->name, span_line(sp), span_col(sp), reset);
	else
		buf_printf(out, "%sstk: %s", bold, reset);
	buf_printf(out, "%s%s:%s %s%s%s\n", color ? sev_color(d->severity) : "", sev_name(d->severity),
		   reset, bold, d->message, reset);
	if (sp->src && sp->off <= sp->src->len) {
		const char *text = sp->src->text;
		size_t start = sp->off, end;
		while (start > 0 && text[start - 1] != '\n')
			start--;
		end = sp->off;
		while (end < sp->src->len && text[end] != '\n')
			end++;
		/* a trailing \r of a CRLF file is not part of the line */
		size_t shown = end;
		if (shown > start && text[shown - 1] == '\r')
			shown--;
		buf_printf(out, "  %.*s\n  ", (int)(shown - start), text + start);
		/* the underline keeps the line's tabs, so it lines up in any terminal */
		for (size_t i = start; i < sp->off; i++) {
			unsigned char c = (unsigned char)text[i];
			if (c == '\t')
				buf_addch(out, '\t');
			else if ((c & 0xC0) != 0x80)
				buf_addch(out, ' ');
		}
		if (color)
			buf_addstr(out, "\033[1;32m");
		buf_addch(out, '^');
		size_t stop = sp->end < shown ? sp->end : shown;
		int first = 1;
		for (size_t i = sp->off; i < stop; i++) {
			unsigned char c = (unsigned char)text[i];
			if ((c & 0xC0) == 0x80)
				continue;
			if (first) {
				first = 0;
				continue;
			}
			buf_addch(out, '~');
		}
		buf_printf(out, "%s\n", reset);
	}
	if (d->hint)
		buf_printf(out, "  %shint:%s %s\n", color ? "\033[1;36m" : "", reset, d->hint);
}

/* ---- secrets ---- */

struct secret {
	char *text;
	size_t len;
};

static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;
static struct buf secrets = BUF_INIT;   /* struct secret, the longest first once sorted */
static struct strmap secrets_seen;      /* text -> 1: a state's thousands are each kept once */
static int secrets_sorted = 1;
static struct strmap public_seen;       /* secret text -> 1: shown in the clear elsewhere */
static unsigned char secret_lens[128];  /* bit (len % 1024): some secret has that length */

static void add_secret(const char *s, size_t len);

void diag_add_secret(const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf form = BUF_INIT;

	if (len < DIAG_SECRET_MIN)
		return;
	add_secret(s, len);
	/* as a form (the AWS query APIs' bodies, the debug log shows them so) encodes it */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			buf_addch(&form, (char)c);
		} else if (c == ' ') {
			buf_addch(&form, '+');
		} else {
			buf_addch(&form, '%');
			buf_addch(&form, hex[c >> 4]);
			buf_addch(&form, hex[c & 15]);
		}
	}
	if (form.len != len)
		add_secret(form.data, form.len);
	buf_release(&form);
}

static void add_secret(const char *s, size_t len)
{
	struct secret x;

	x.text = xmalloc(len + 1);
	memcpy(x.text, s, len);
	x.text[len] = '\0';
	x.len = len;
	pthread_mutex_lock(&secrets_lock);
	/* (text with a NUL in it is told apart only up to it: kept twice at worst) */
	if (strlen(x.text) == len && strmap_put(&secrets_seen, x.text, (void *)1)) {
		pthread_mutex_unlock(&secrets_lock);
		free(x.text);
		return;
	}
	buf_push(&secrets, struct secret, x);
	secrets_sorted = 0;
	secret_lens[(len % 1024) / 8] |= (unsigned char)(1u << (len % 8));
	pthread_mutex_unlock(&secrets_lock);
}

int diag_has_secrets(void)
{
	int has;

	pthread_mutex_lock(&secrets_lock);
	has = buf_count(&secrets, struct secret) != 0;
	pthread_mutex_unlock(&secrets_lock);
	return has;
}

void diag_add_public(const char *s, size_t len)
{
	char *text;

	/* most texts are no secret's length: no copy, no lookup */
	if (len < DIAG_SECRET_MIN || !(secret_lens[(len % 1024) / 8] & (1u << (len % 8))) ||
	    memchr(s, '\0', len))
		return;
	text = xmalloc(len + 1);
	memcpy(text, s, len);
	text[len] = '\0';
	pthread_mutex_lock(&secrets_lock);
	if (strmap_get(&secrets_seen, text) && !strmap_put(&public_seen, text, (void *)1))
		text = NULL;   /* kept by the map */
	pthread_mutex_unlock(&secrets_lock);
	free(text);
}

static int secret_cmp(const void *a, const void *b)
{
	const struct secret *x = a, *y = b;

	return x->len < y->len ? 1 : x->len > y->len ? -1 : memcmp(x->text, y->text, x->len);
}

void diag_redact(struct buf *b)
{
	static const char shown[] = "(sensitive value)";
	struct buf out = BUF_INIT;

	pthread_mutex_lock(&secrets_lock);
	size_t n = buf_count(&secrets, struct secret);
	if (n && !secrets_sorted) {
		/* the longest first: a secret inside a longer one must not leave the rest of it */
		qsort(secrets.data, n, sizeof(struct secret), secret_cmp);
		secrets_sorted = 1;
	}
	for (size_t i = 0; i < n && b->len; i++) {
		const struct secret *x = &buf_at(&secrets, struct secret, i);
		const char *from = b->data, *end = b->data + b->len, *at;
		if (!memmem(from, b->len, x->text, x->len) || strmap_get(&public_seen, x->text))
			continue;
		buf_reset(&out);
		while ((at = memmem(from, (size_t)(end - from), x->text, x->len)) != NULL) {
			buf_add(&out, from, (size_t)(at - from));
			buf_add(&out, shown, sizeof shown - 1);
			from = at + x->len;
		}
		buf_add(&out, from, (size_t)(end - from));
		buf_reset(b);
		buf_add(b, out.data, out.len);
	}
	pthread_mutex_unlock(&secrets_lock);
	buf_release(&out);
}

void diag_forget_secrets(void)
{
	pthread_mutex_lock(&secrets_lock);
	strmap_release(&secrets_seen);
	for (size_t i = 0; i < public_seen.cap; i++)
		free((char *)public_seen.slots[i].key);
	strmap_release(&public_seen);
	memset(secret_lens, 0, sizeof secret_lens);
	for (size_t i = 0; i < buf_count(&secrets, struct secret); i++)
		free(buf_at(&secrets, struct secret, i).text);
	buf_release(&secrets);
	secrets_sorted = 1;
	pthread_mutex_unlock(&secrets_lock);
}

void diag_print(const struct diag_ctx *ctx, FILE *out, int color)
{
	struct buf b = BUF_INIT;
	size_t n = buf_count(&ctx->diags, struct diag);

	for (size_t i = 0; i < n; i++) {
		buf_reset(&b);
		diag_format(&buf_at(&ctx->diags, struct diag, i), &b, color);
		diag_redact(&b);
		fwrite(b.data, 1, b.len, out);
	}
	if (ctx->max_errors && ctx->errors > ctx->max_errors)
		fprintf(out, "stk: ... and %u more errors\n", ctx->errors - ctx->max_errors);
	buf_release(&b);
}

struct span span_join(const struct span *a, const struct span *b)
{
	struct span s = *a;

	if (b->end >= a->end)
		s.end = b->end;
	return s;
}

struct span span_end(const struct span *s)
{
	struct span e = *s;

	e.off = e.end;
	return e;
}

static void build_lines(struct source *src)
{
	struct buf b = BUF_INIT;
	const char *p = src->text, *end = src->text + src->len;

	buf_push(&b, uint32_t, 0);
	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p++;
		buf_push(&b, uint32_t, (uint32_t)(p - src->text));
	}
	src->nlines = (uint32_t)buf_count(&b, uint32_t);
	__atomic_store_n(&src->lines, (uint32_t *)(void *)buf_detach(&b, NULL), __ATOMIC_RELEASE);
}

/* Pieces of a file are parsed on several threads (parse.c), any of which may write a message. */
static pthread_mutex_t lines_lock = PTHREAD_MUTEX_INITIALIZER;

void source_position(const struct source *src, uint32_t off, uint32_t *line, uint32_t *col)
{
	uint32_t lo = 0, hi, c = 1;

	/* the index is a cache: building it changes nothing a caller can see */
	if (!__atomic_load_n(&src->lines, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&lines_lock);
		if (!src->lines)
			build_lines((struct source *)src);
		pthread_mutex_unlock(&lines_lock);
	}
	if (off > src->len)
		off = (uint32_t)src->len;
	hi = src->nlines;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (src->lines[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	if (col)
		for (uint32_t i = src->lines[lo]; i < off; i++)
			if (((unsigned char)src->text[i] & 0xC0) != 0x80)
				c++;
	if (line)
		*line = lo >= src->hidden ? lo + 1 - src->hidden : 1;
	if (col)
		*col = c;
}

uint32_t span_line(const struct span *s)
{
	uint32_t l = 0;
	if (s->src)
		source_position(s->src, s->off, &l, NULL);
	return l;
}

uint32_t span_col(const struct span *s)
{
	uint32_t c = 0;
	if (s->src)
		source_position(s->src, s->off, NULL, &c);
	return c;
}

uint32_t span_end_line(const struct span *s)
{
	uint32_t l = 0;
	if (s->src)
		source_position(s->src, s->end, &l, NULL);
	return l;
}

uint32_t span_end_col(const struct span *s)
{
	uint32_t c = 0;
	if (s->src)
		source_position(s->src, s->end, NULL, &c);
	return c;
}

int source_has_newline(const struct source *src, uint32_t from, uint32_t to)
{
	return to > from && memchr(src->text + from, '\n', to - from) != NULL;
}

unsigned diag_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[64], prev_diag, tmp;

	if (lb >= 64 || la >= 64)
		return 1000;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		prev_diag = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
			unsigned best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (prev_diag + cost < best)
				best = prev_diag + cost;
			tmp = row[j];
			row[j] = best;
			prev_diag = tmp;
		}
	}
	return row[lb];
}

const char *diag_suggest(const char *name, const char *const *candidates)
{
	const char *best = NULL;
	unsigned best_d = 1000;
	size_t len = strlen(name);
	/* one edit for short names, then one more for every four characters */
	unsigned limit = len <= 3 ? 1 : (unsigned)(1 + len / 4);

	for (size_t i = 0; candidates[i]; i++) {
		unsigned d = diag_edit_distance(name, candidates[i]);
		size_t cl = strlen(candidates[i]);
		/* "vpc" for "vpc_id": a name cut short is a near miss too */
		if (d > limit && len >= 3 && cl > len && strncmp(name, candidates[i], len) == 0)
			d = limit;
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best_d <= limit && best_d > 0 ? best : NULL;
}

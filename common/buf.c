#include "common/buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void die_oom(void)
{
	fputs("stk: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die_oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		die_oom();
	return p;
}

void *xzalloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		die_oom();
	void *p = xmalloc(n * size);
	memset(p, 0, n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die_oom();
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b, NULL);
}

void buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void buf_release(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void buf_grow(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap + cap / 2 + 16;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
	/* a buffer is a string at every moment, even one that has never held anything */
	b->data[b->len] = '\0';
}

void buf_add(struct buf *b, const void *p, size_t n)
{
	/* buf_grow() only when needed: the text of a big plan is millions of small adds */
	if (b->len + n + 1 > b->cap)
		buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_addstr(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addch(struct buf *b, int c)
{
	if (b->len + 2 > b->cap)
		buf_grow(b, 1);
	b->data[b->len++] = (char)c;
	b->data[b->len] = '\0';
}

void buf_addchars(struct buf *b, int c, size_t n)
{
	buf_grow(b, n);
	memset(b->data + b->len, c, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Whether fmt converts nothing but plain %s. */
static int only_strings(const char *fmt)
{
	for (const char *p = fmt; (p = strchr(p, '%')); p += 2)
		if (p[1] != 's')
			return 0;
	return 1;
}

/* fmt of plain %s only, the common case (addresses, names): copied without vsnprintf, which
 * costs some hundreds of instructions a call. -1 (and b as it was) on a NULL argument,
 * which vsnprintf shows in its own way. */
static int add_strings(struct buf *b, const char *fmt, va_list ap)
{
	size_t start = b->len;
	const char *p = fmt, *q;
	va_list cp;

	va_copy(cp, ap);
	while ((q = strchr(p, '%'))) {
		const char *s = va_arg(cp, const char *);
		if (!s) {
			va_end(cp);
			buf_truncate(b, start);
			return -1;
		}
		buf_add(b, p, (size_t)(q - p));
		buf_addstr(b, s);
		p = q + 2;
	}
	buf_addstr(b, p);
	va_end(cp);
	return 0;
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	if (only_strings(fmt) && add_strings(b, fmt, ap) == 0)
		return;
	buf_grow(b, 64);
	va_copy(cp, ap);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		buf_grow(b, (size_t)n);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

int buf_write_fd(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int buf_read_fd(struct buf *b, int fd, size_t hint)
{
	/* room for one more byte than hinted: the read of 0 that says the end needs no regrow */
	buf_grow(b, hint ? hint + 1 : 8192);
	for (;;) {
		size_t room = b->cap - b->len - 1;
		/* grow when full, or, with no size to go by, before a read of less than 4 KiB */
		if (room == 0 || (!hint && room < 4096))
			buf_grow(b, 8192);
		ssize_t n = read(fd, b->data + b->len, b->cap - b->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (!n)
			return 0;
		b->len += (size_t)n;
		b->data[b->len] = '\0';
	}
}

void buf_reset(struct buf *b)
{
	buf_truncate(b, 0);
}

void buf_truncate(struct buf *b, size_t len)
{
	if (len > b->len)
		return;
	b->len = len;
	if (b->data)
		b->data[len] = '\0';
}

const char *buf_cstr(struct buf *b)
{
	if (!b->data)
		buf_grow(b, 0), b->data[0] = '\0';
	return b->data;
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p;

	buf_cstr(b);
	p = b->data;
	if (len)
		*len = b->len;
	buf_init(b);
	return p;
}

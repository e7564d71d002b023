/* buf.h: the one growable buffer (bytes, strings and arrays of fixed-size items).
 * Ownership: a struct buf owns its data until buf_detach() hands it to the caller. */
#ifndef STK_BUF_H
#define STK_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;  /* always NUL-terminated when len > 0 or after buf_cstr() */
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_init(struct buf *b);
void buf_release(struct buf *b);
void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_addstr(struct buf *b, const char *s);
void buf_addch(struct buf *b, int c);
void buf_addchars(struct buf *b, int c, size_t n);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_reset(struct buf *b);
void buf_truncate(struct buf *b, size_t len);
const char *buf_cstr(struct buf *b);
/* Appends what fd gives until its end, into room for hint more bytes made at once (a file's
 * size: one allocation, and no copy); returns 0, or -1 with errno set (what was read stays). */
int buf_read_fd(struct buf *b, int fd, size_t hint);
/* Writes all len bytes of data to fd, through short writes and EINTR; returns 0, or -1 with
 * errno set. */
int buf_write_fd(int fd, const void *data, size_t len);
/* Returns the data (never NULL: an empty buffer gives an allocated "") and empties b. */
char *buf_detach(struct buf *b, size_t *len);

/* Arrays of fixed-size items kept in a buf. */
#define buf_push(b, T, v) do { T buf_v__ = (v); buf_add((b), &buf_v__, sizeof buf_v__); } while (0)
#define buf_count(b, T) ((b)->len / sizeof(T))
#define buf_at(b, T, i) (((T *)(void *)(b)->data)[i])

/* Memory helpers that never return NULL (they abort on exhaustion, as git's x* do). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
/* xcalloc's, zeroed by writing: a big block's fresh pages are written once, where calloc's
 * would map the zero page on a first read, then fault again, and flush the TLB of every
 * processor the process's threads ran on, on the first write. */
void *xzalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

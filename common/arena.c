#include "common/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/buf.h"

/* Large chunks keep the number of mallocs low on big files; the largest are aligned to and
 * advised as huge pages, which turns a page fault per 4 KiB into one per 2 MiB. */
#define ARENA_MIN_CHUNK (64 * 1024)
#define ARENA_MAX_CHUNK (4 * 1024 * 1024)
#define ARENA_HUGE_PAGE (2 * 1024 * 1024)

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;
	/* data follows, 16-aligned */
};

void arena_init(struct arena *a)
{
	memset(a, 0, sizeof *a);
}

void arena_release(struct arena *a)
{
	struct arena_chunk *c = a->chunks, *next;

	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	arena_init(a);
}

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static void new_chunk(struct arena *a, size_t need)
{
	/* each chunk doubles the last, up to a cap, so small files stay small */
	size_t size = a->chunks ? a->chunks->size * 2 : ARENA_MIN_CHUNK;
	struct arena_chunk *c;

	if (size > ARENA_MAX_CHUNK)
		size = ARENA_MAX_CHUNK;
	if (size < need + 16)
		size = need + 16;
	if (size >= ARENA_MAX_CHUNK) {
		void *p = NULL;
		size = (size + sizeof(struct arena_chunk) + 16 + ARENA_HUGE_PAGE - 1) &
		       ~(size_t)(ARENA_HUGE_PAGE - 1);
		if (posix_memalign(&p, ARENA_HUGE_PAGE, size))
			c = xmalloc(size);
		else
			c = p;
#ifdef MADV_HUGEPAGE
		madvise(c, size, MADV_HUGEPAGE);
#endif
		size -= sizeof(struct arena_chunk) + 16;
	} else {
		c = xmalloc(sizeof(struct arena_chunk) + 16 + size);
	}
	c->size = size;
	c->next = a->chunks;
	a->chunks = c;
	a->ptr = (char *)(((uintptr_t)(c + 1) + 15) & ~(uintptr_t)15);
	a->end = a->ptr + size;
}

void arena_adopt(struct arena *a, struct arena *from)
{
	struct arena_chunk **tail;

	if (!from->chunks)
		return;
	/* behind a's newest chunk, which keeps taking a's allocations */
	tail = a->chunks ? &a->chunks->next : &a->chunks;
	while (*tail)
		tail = &(*tail)->next;
	*tail = from->chunks;
	if (a->chunks == from->chunks) {
		a->ptr = from->ptr;
		a->end = from->end;
		a->last = from->last;
	}
	a->used += from->used;
	arena_init(from);
}

void *arena_alloc(struct arena *a, size_t n)
{
	void *p;

	n = align8(n ? n : 1);
	if ((size_t)(a->end - a->ptr) < n)
		new_chunk(a, n);
	p = a->ptr;
	a->ptr += n;
	a->last = p;
	a->used += n;
	/* fresh chunks come from malloc, not zeroed: zero what is handed out */
	memset(p, 0, n);
	return p;
}

void *arena_grow(struct arena *a, void *p, size_t old, size_t n)
{
	size_t o = align8(old), nn = align8(n);

	if (!p)
		return arena_alloc(a, n);
	if (nn <= o)
		return p;
	if (p == a->last && (size_t)(a->end - (char *)p) >= nn) {
		memset((char *)p + o, 0, nn - o);
		a->ptr = (char *)p + nn;
		a->used += nn - o;
		return p;
	}
	void *q = arena_alloc(a, n);
	memcpy(q, p, old);
	return q;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

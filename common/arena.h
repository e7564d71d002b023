/* arena.h: a bump allocator for data that lives and dies together (a parsed file's tree).
 * Ownership: the arena owns every block it hands out; arena_release frees them all at once. */
#ifndef STK_ARENA_H
#define STK_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *chunks;
	char *ptr, *end;   /* free space in the newest chunk */
	char *last;        /* the most recent allocation, which arena_grow can extend in place */
	size_t used;       /* bytes handed out, for statistics */
};

void arena_init(struct arena *a);
void arena_release(struct arena *a);
/* Zeroed, 8-byte aligned, never NULL. */
void *arena_alloc(struct arena *a, size_t n);
/* Grows p (of old bytes, from this arena) to n bytes, in place when it was the last block;
 * the new part is zeroed. */
void *arena_grow(struct arena *a, void *p, size_t old, size_t n);
/* Moves every block of from into a, which then owns and frees them; from is left empty. */
void arena_adopt(struct arena *a, struct arena *from);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);

#endif

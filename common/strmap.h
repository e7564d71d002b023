/* strmap.h: a hash map from strings to pointers (open addressing, FNV-1a).
 * Ownership: the map copies nothing: keys and values are borrowed and must outlive it. */
#ifndef STK_STRMAP_H
#define STK_STRMAP_H

#include <stddef.h>

struct strmap_entry {
	const char *key;
	void *value;
	/* the key's hash: growing needs no rehash, and a probe compares strings only when the
	 * hashes agree (each strcmp is a cache miss on a big map) */
	size_t hash;
};

struct strmap {
	struct strmap_entry *slots;
	size_t cap;   /* a power of two, or 0 */
	size_t len;
};

void strmap_init(struct strmap *m);
void strmap_release(struct strmap *m);
/* Returns the value stored under key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key);
/* Makes room for n keys in all, so that putting them grows nothing: one table of the right
 * size for a map whose size is known, not a dozen doublings, each a rehash and fresh pages. */
void strmap_reserve(struct strmap *m, size_t n);
/* Stores value under key unless key is present; returns the value that was there (and leaves
 * it), or NULL when value was stored. */
void *strmap_put(struct strmap *m, const char *key, void *value);
/* Stores value under key, replacing what was there (NULL reads as absent to strmap_get). */
void strmap_set(struct strmap *m, const char *key, void *value);

#endif

#include "common/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

void strmap_init(struct strmap *m)
{
	m->slots = NULL;
	m->cap = 0;
	m->len = 0;
}

void strmap_release(struct strmap *m)
{
	free(m->slots);
	strmap_init(m);
}

static struct strmap_entry *find(const struct strmap *m, const char *key, size_t h)
{
	size_t mask = m->cap - 1;
	size_t i = h & mask;

	while (m->slots[i].key && (m->slots[i].hash != h || strcmp(m->slots[i].key, key) != 0))
		i = (i + 1) & mask;
	return &m->slots[i];
}

void *strmap_get(const struct strmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	struct strmap_entry *e = find(m, key, (size_t)hash(key));
	return e->key ? e->value : NULL;
}

static void resize(struct strmap *m, size_t cap)
{
	struct strmap old = *m;

	m->cap = cap;
	/* the first probe of a slot is a read (1.2% of stk validate at 10k resources went to
	 * calloc's zero page and its faults) */
	m->slots = xzalloc(m->cap, sizeof *m->slots);
	m->len = 0;
	/* the keys are distinct: each goes to the first free slot from its hash */
	for (size_t i = 0; i < old.cap; i++) {
		if (!old.slots[i].key)
			continue;
		size_t j = old.slots[i].hash & (m->cap - 1);
		while (m->slots[j].key)
			j = (j + 1) & (m->cap - 1);
		m->slots[j] = old.slots[i];
		m->len++;
	}
	free(old.slots);
}

static void grow(struct strmap *m)
{
	resize(m, m->cap ? m->cap * 2 : 16);
}

void strmap_reserve(struct strmap *m, size_t n)
{
	size_t cap = m->cap ? m->cap : 16;

	/* the load stays under 3/4, as strmap_put keeps it */
	while (n * 4 > cap * 3)
		cap *= 2;
	if (cap > m->cap)
		resize(m, cap);
}

void *strmap_put(struct strmap *m, const char *key, void *value)
{
	struct strmap_entry *e;
	size_t h = (size_t)hash(key);

	/* keep the load under 3/4 so probes stay short */
	if ((m->len + 1) * 4 > m->cap * 3)
		grow(m);
	e = find(m, key, h);
	if (e->key)
		return e->value;
	e->key = key;
	e->value = value;
	e->hash = h;
	m->len++;
	return NULL;
}

void strmap_set(struct strmap *m, const char *key, void *value)
{
	struct strmap_entry *e;

	if (strmap_put(m, key, value) == NULL)
		return;
	e = find(m, key, (size_t)hash(key));
	e->value = value;
}

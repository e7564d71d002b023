/* test_common.c: the shared containers in common/: strmap (put keeps the first value, get,
 * growing across many keys, reserve sizing the table once so that putting grows nothing) and
 * buf_read_fd (a file read whole, with a hint too small, right and too big, and a pipe). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/strmap.h"
#include "tests/unit/unit.h"

#define CHECK(cond, ...) check(!!(cond), __func__, __VA_ARGS__)

#define NKEYS 5000

static char *keys[NKEYS];

static void make_keys(void)
{
	for (size_t i = 0; i < NKEYS; i++)
		keys[i] = xasprintf("aws.subnet.net%zu_%c", i / 3, (int)('a' + i % 3));
}

static void test_put_get(void)
{
	struct strmap m;
	size_t bad = 0;

	strmap_init(&m);
	CHECK(strmap_get(&m, "x") == NULL, "an empty map finds nothing");
	for (size_t i = 0; i < NKEYS; i++)
		if (strmap_put(&m, keys[i], (void *)(i + 1)) != NULL)
			bad++;
	CHECK(bad == 0, "%zu of %d new keys were said to be there", bad, NKEYS);
	CHECK(m.len == NKEYS, "len %zu after %d keys", m.len, NKEYS);
	CHECK(m.len * 4 <= m.cap * 3, "load %zu/%zu over 3/4", m.len, m.cap);
	bad = 0;
	for (size_t i = 0; i < NKEYS; i++)
		if (strmap_get(&m, keys[i]) != (void *)(i + 1))
			bad++;
	CHECK(bad == 0, "%zu of %d keys not found with their value after growing", bad, NKEYS);
	/* the map holds the first value; a second put gives it back and changes nothing */
	CHECK(strmap_put(&m, keys[7], (void *)1) == (void *)8, "a second put returns the first value");
	CHECK(strmap_get(&m, keys[7]) == (void *)8, "and leaves it");
	CHECK(m.len == NKEYS, "a second put adds nothing");
	/* a key equal in content, at another address */
	char *copy = xstrdup(keys[42]);
	CHECK(strmap_get(&m, copy) == (void *)43, "keys compare by content");
	free(copy);
	CHECK(strmap_get(&m, "aws.subnet.net0_d") == NULL, "a missing key is not found");
	strmap_release(&m);
	CHECK(m.cap == 0 && m.len == 0 && strmap_get(&m, keys[0]) == NULL, "released, it is empty");
}

static void test_reserve(void)
{
	struct strmap m;
	struct strmap_entry *slots;
	size_t cap, bad = 0;

	strmap_init(&m);
	strmap_reserve(&m, NKEYS);
	slots = m.slots;
	cap = m.cap;
	CHECK(cap && (cap & (cap - 1)) == 0, "capacity %zu is a power of two", cap);
	CHECK(NKEYS * 4 <= cap * 3, "capacity %zu holds %d keys under 3/4 load", cap, NKEYS);
	CHECK(cap < 4 * NKEYS, "capacity %zu is not oversized for %d keys", cap, NKEYS);
	for (size_t i = 0; i < NKEYS; i++)
		strmap_put(&m, keys[i], (void *)(i + 1));
	CHECK(m.slots == slots && m.cap == cap, "putting the reserved keys grew the table (%zu -> %zu)",
	      cap, m.cap);
	for (size_t i = 0; i < NKEYS; i++)
		if (strmap_get(&m, keys[i]) != (void *)(i + 1))
			bad++;
	CHECK(bad == 0, "%zu keys lost", bad);
	/* reserving less than there is, or again, changes nothing */
	strmap_reserve(&m, 10);
	strmap_reserve(&m, NKEYS);
	CHECK(m.slots == slots && m.cap == cap, "a smaller or equal reserve moved the table");
	/* reserving more moves every key to a bigger table */
	strmap_reserve(&m, 4 * NKEYS);
	CHECK(m.cap > cap && m.len == NKEYS, "a bigger reserve grows the table and keeps %zu keys", m.len);
	bad = 0;
	for (size_t i = 0; i < NKEYS; i++)
		if (strmap_get(&m, keys[i]) != (void *)(i + 1))
			bad++;
	CHECK(bad == 0, "%zu keys lost by a bigger reserve", bad);
	strmap_release(&m);
	/* a reserve on an empty map of nothing still leaves a working map */
	strmap_init(&m);
	strmap_reserve(&m, 0);
	CHECK(strmap_put(&m, "a", (void *)1) == NULL && strmap_get(&m, "a") == (void *)1,
	      "a map reserved for 0 keys takes one");
	strmap_release(&m);
}

/* Reads the whole of a temporary file of n bytes with the hint given. */
static void read_file(size_t n, size_t hint)
{
	char path[] = "/tmp/stk-test-common-XXXXXX";
	int fd = mkstemp(path);
	char *want = xmalloc(n + 1);
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < n; i++)
		want[i] = (char)('a' + i % 26);
	if (fd < 0 || write(fd, want, n) != (ssize_t)n || lseek(fd, 0, SEEK_SET) != 0) {
		CHECK(0, "cannot write %s", path);
		goto out;
	}
	CHECK(buf_read_fd(&b, fd, hint) == 0, "reading %zu bytes (hint %zu) fails", n, hint);
	CHECK(b.len == n && (n == 0 || memcmp(b.data, want, n) == 0),
	      "read %zu bytes of %zu (hint %zu), or not the same", b.len, n, hint);
	CHECK(b.data && b.data[b.len] == '\0', "the text read is NUL-terminated (hint %zu)", hint);
out:
	if (fd >= 0)
		close(fd);
	unlink(path);
	free(want);
	buf_release(&b);
}

static void test_read_fd(void)
{
	int p[2];
	struct buf b = BUF_INIT;

	read_file(0, 0);
	read_file(100000, 0);
	read_file(100000, 10);
	read_file(100000, 100000);
	read_file(100000, 300000);
	/* a pipe has no size to hint: read to its end */
	if (pipe(p) == 0) {
		CHECK(write(p[1], "hello", 5) == 5, "pipe write");
		close(p[1]);
		CHECK(buf_read_fd(&b, p[0], 0) == 0 && b.len == 5 && strcmp(b.data, "hello") == 0,
		      "a pipe is read to its end");
		close(p[0]);
	}
	buf_release(&b);
	CHECK(buf_read_fd(&b, -1, 0) == -1, "a bad descriptor is an error");
	buf_release(&b);
}

int main(void)
{
	make_keys();
	test_put_get();
	test_reserve();
	test_read_fd();
	for (size_t i = 0; i < NKEYS; i++)
		free(keys[i]);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

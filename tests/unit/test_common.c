/* test_common.c: the shared containers in common/: strmap (put keeps the first value, get,
 * growing across many keys, reserve sizing the table once so that putting grows nothing),
 * buf_read_fd (a file read whole, with a hint too small, right and too big, and a pipe), and
 * pieces_run's pool (jobs in a row, every item run once; a job bigger than the pool; a job
 * started from inside one; jobs from several threads at once; jobs after the threads have
 * gone to sleep; a fork; the same worker for jobs either side of its polling time; items that
 * wait on the network on threads of their own; exit() from inside a job). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/pieces.h"
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
	strmap_set(&m, keys[7], (void *)9);
	CHECK(strmap_get(&m, keys[7]) == (void *)9 && m.len == NKEYS, "set replaces a value, adds no key");
	strmap_set(&m, keys[7], NULL);
	CHECK(strmap_get(&m, keys[7]) == NULL, "set to NULL reads as absent");
	strmap_set(&m, keys[7], (void *)8);
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


/* ---- pieces_run ---- */

struct item {
	atomic_int runs;      /* how many times fn ran on it */
	pthread_t by;         /* the thread that ran it last */
	int nested;           /* items of a job to start from inside this one */
	atomic_int *sum;      /* the nested job's runs */
	atomic_int *started;  /* not NULL: wait (up to 2 s) for a second item to start */
	long tid;             /* the kernel's id of the thread that ran it */
	int exit_with;        /* not 0: exit() with it, from inside the job */
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *count_item(void *arg)
{
	struct item *it = arg;

	atomic_fetch_add(&it->runs, 1);
	it->by = pthread_self();
	it->tid = (long)syscall(SYS_gettid);
	if (it->exit_with)
		exit(it->exit_with);
	if (it->started) {
		/* so that the job is seen on more than one thread, however fast its caller */
		double until = now_s() + 2;
		atomic_fetch_add(it->started, 1);
		while (atomic_load(it->started) < 2 && now_s() < until)
			sched_yield();
	}
	if (it->nested) {
		struct item inner[8];
		memset(inner, 0, sizeof inner);
		pieces_run(count_item, inner, sizeof inner[0], (size_t)it->nested, 1);
		for (int i = 0; i < it->nested; i++)
			atomic_fetch_add(it->sum, atomic_load(&inner[i].runs));
	}
	return NULL;
}

/* Runs a job of n items; returns how many did not run exactly once. */
static size_t run_job(size_t n, int nested, atomic_int *sum, size_t *threads)
{
	struct item *items = xcalloc(n, sizeof *items);
	size_t bad = 0, distinct = 0;
	atomic_int started = 0;

	for (size_t i = 0; i < n; i++) {
		items[i].nested = nested;
		items[i].sum = sum;
		items[i].started = threads ? &started : NULL;
	}
	pieces_run(count_item, items, sizeof *items, n, 1);
	for (size_t i = 0; i < n; i++) {
		size_t k;
		bad += atomic_load(&items[i].runs) != 1;
		for (k = 0; k < i && !pthread_equal(items[k].by, items[i].by); k++)
			;
		distinct += k == i;
	}
	if (threads)
		*threads = distinct;
	free(items);
	return bad;
}

static void test_pieces_jobs(void)
{
	size_t bad = 0, threads = 0, most = 0;
	atomic_int sum = 0;

	for (int r = 0; r < 2000; r++) {
		bad += run_job((size_t)(r % 7) + 2, 0, NULL, &threads);
		if (threads > most)
			most = threads;
	}
	CHECK(bad == 0, "2000 jobs in a row: %zu items did not run exactly once", bad);
	CHECK(most >= 2, "the items ran on %zu threads at most", most);
	most = 0;
	for (int r = 0; r < 200; r++) {
		bad += run_job(2, 0, NULL, &threads);
		most += threads == 2;
	}
	CHECK(bad == 0 && most == 200, "jobs of two items that wait for each other: %zu of 200 ran "
	      "on two threads", most);
	CHECK(run_job(100, 0, NULL, NULL) == 0, "a job of 100 items, more than the pool keeps");
	CHECK(run_job(3, 0, NULL, NULL) == 0, "and one of 3 after it");
	CHECK(run_job(4, 5, &sum, NULL) == 0 && atomic_load(&sum) == 20,
	      "jobs started from inside a job's items: %d of 20 inner items ran", atomic_load(&sum));
	CHECK(run_job(1, 0, NULL, NULL) == 0 && run_job(0, 0, NULL, NULL) == 0, "jobs of 1 and 0");

	/* past the time the threads poll for work: they sleep, and the next job wakes them */
	struct timespec ts = { 0, 50 * 1000000L };
	nanosleep(&ts, NULL);
	CHECK(run_job(5, 0, &sum, &threads) == 0, "a job after the pool slept");
	CHECK(threads >= 2, "and it ran on %zu threads", threads);
}

struct caller {
	size_t bad;
};

static void *caller_main(void *arg)
{
	struct caller *c = arg;

	for (int r = 0; r < 300; r++)
		c->bad += run_job((size_t)(r % 5) + 2, 0, NULL, NULL);
	return NULL;
}

static void test_pieces_callers(void)
{
	pthread_t t[4];
	struct caller c[4];
	size_t bad = 0;

	memset(c, 0, sizeof c);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, caller_main, &c[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		bad += c[i].bad;
	}
	CHECK(bad == 0, "4 threads, 300 jobs each at once: %zu items did not run exactly once", bad);
}

/* Runs body in a child of fork, for 20 s at most; its exit status, or -1. ThreadSanitizer
 * lets no child of a threaded process start threads: there, 0 without a child. */
static int in_child(void (*body)(void))
{
	int status = -1;
	pid_t pid;

#if defined(__SANITIZE_THREAD__)
	(void)body;
	(void)status;
	(void)pid;
	return 0;
#else
	pid = fork();
	if (pid == 0) {
		alarm(20);
		body();
		_exit(3);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
#endif
}

static void fork_body(void)
{
	/* the child has none of the pool's threads: its jobs still run, and it exits */
	_exit(run_job(6, 0, NULL, NULL) == 0 ? 0 : 4);
}

static void test_pieces_fork(void)
{
	int status;

	pieces_warm(4);
	status = in_child(fork_body);
	CHECK(status == 0, "a child of fork runs jobs and exits (status %d)", status);
}

/* The tids of the threads other than the caller that ran a job of two waiting items. */
static long other_tid(void)
{
	struct item items[2];
	atomic_int started = 0;
	long me = (long)syscall(SYS_gettid);

	memset(items, 0, sizeof items);
	items[0].started = items[1].started = &started;
	pieces_run(count_item, items, sizeof items[0], 2, 1);
	return items[0].tid != me ? items[0].tid : items[1].tid;
}

static void test_pieces_reuse(void)
{
	long first = other_tid(), seen[40], apart = 0;
	size_t nseen = 0;
	struct timespec gap = { 0, 0 };

	/* jobs on either side of the time the workers poll before they sleep: run by the pool's
	 * workers, so by a few threads over and over, not by a new one each */
	for (int r = 0; r < 40; r++) {
		long t;
		size_t k;
		gap.tv_nsec = (8 + r % 5) * 1000000L;
		nanosleep(&gap, NULL);
		t = other_tid();
		for (k = 0; k < nseen && seen[k] != t; k++)
			;
		if (k == nseen)
			seen[nseen++] = t;
	}
	CHECK(nseen <= 16, "40 jobs, 8 to 12 ms apart, ran on %zu threads besides the caller", nseen);

	/* items that wait on the network get threads of their own, every time */
	for (int r = 0; r < 5; r++) {
		struct item items[2];
		atomic_int started = 0;
		memset(items, 0, sizeof items);
		items[0].started = items[1].started = &started;
		pieces_run(count_item, items, sizeof items[0], 2, PIECES_APART);
		apart += items[1].tid != first && items[1].tid != (long)syscall(SYS_gettid);
		for (size_t k = 0; k < nseen; k++)
			apart -= items[1].tid == seen[k];
	}
	CHECK(apart == 5, "PIECES_APART: %ld of 5 jobs on a thread of their own", apart);
}

static void exit_body(void)
{
	/* exit() from an item on a worker, while the caller waits for it: the pool is not
	 * joined (its job is running), and the process ends */
	struct item items[2];
	atomic_int started = 0;

	memset(items, 0, sizeof items);
	items[0].started = items[1].started = &started;
	items[0].exit_with = items[1].exit_with = 7;
	pieces_run(count_item, items, sizeof items[0], 2, 1);
}

static void test_pieces_exit(void)
{
	int status = in_child(exit_body);

#if !defined(__SANITIZE_THREAD__)
	CHECK(status == 7, "exit() inside a job ends the process (status %d)", status);
#else
	(void)status;
#endif
}

/* diag_redact: every registered secret, raw or form-encoded, the longest first */
static void redacted(const char *in, const char *want)
{
	struct buf b = BUF_INIT;

	buf_addstr(&b, in);
	diag_redact(&b);
	CHECK(!strcmp(buf_cstr(&b), want), "redact \"%s\": \"%s\", not \"%s\"", in, buf_cstr(&b), want);
	buf_release(&b);
}

static void test_secrets(void)
{
	redacted("nothing registered: hunter2", "nothing registered: hunter2");
	diag_add_secret("hunter2", 7);
	diag_add_secret("hunter2-long", 12);
	diag_add_secret("abc", 3);                 /* too short to replace */
	diag_add_secret("10.99.77.0/24", 13);
	diag_add_secret("hunter2", 7);             /* twice is once */
	redacted("x hunter2 y hunter2", "x (sensitive value) y (sensitive value)");
	redacted("hunter2-long!", "(sensitive value)!");
	redacted("abc", "abc");
	redacted("The CIDR '10.99.77.0/24' is invalid", "The CIDR '(sensitive value)' is invalid");
	redacted("CidrBlock=10.99.77.0%2F24&x=1", "CidrBlock=(sensitive value)&x=1");
	redacted("", "");
	/* a secret some value shows in the clear is none: an address in a sensitive map */
	diag_add_secret("127.0.0.1", 9);
	diag_add_public("127.0.0.1", 9);
	diag_add_public("not-a-secret", 12);
	diag_add_public("hunter2-lon", 11);        /* a prefix is not the secret */
	redacted("GET / from 127.0.0.1 with hunter2-long", "GET / from 127.0.0.1 with (sensitive value)");
	diag_forget_secrets();
	redacted("hunter2", "hunter2");
	diag_add_secret("127.0.0.1", 9);
	redacted("127.0.0.1", "(sensitive value)");  /* forgotten: public again only when said */
	diag_forget_secrets();
}

int main(void)
{
	make_keys();
	test_secrets();
	test_put_get();
	test_reserve();
	test_read_fd();
	test_pieces_jobs();
	test_pieces_callers();
	test_pieces_fork();
	test_pieces_reuse();
	test_pieces_exit();
	for (size_t i = 0; i < NKEYS; i++)
		free(keys[i]);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

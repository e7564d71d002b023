#include "common/pieces.h"

#include "common/buf.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

size_t pieces_count(size_t len, long threads, size_t min, size_t max)
{
	long n = threads;

	if (n <= 0) {
		const char *env = getenv("STK_PARSE_THREADS");
		char *end = NULL;

		n = env && *env ? strtol(env, &end, 10) : 0;
		/* anything but a positive number is no setting */
		if (!end || *end || n <= 0)
			n = sysconf(_SC_NPROCESSORS_ONLN);
	}
	if (n < 1)
		n = 1;
	if ((size_t)n > max)
		n = (long)max;
	if (min && (size_t)n > len / min)
		n = (long)(len / min);
	return n > 1 ? (size_t)n : 1;
}

/*
 * The pool. Starting a thread is cheap, but on a virtual machine the processor it lands on is
 * often idle, halted, and waking it takes the hypervisor 0.2 to 5 ms (2.7 on average on the
 * two-processor VM the benchmarks run on): more than a piece of a 10k-resource file takes to
 * declare, and paid again at each of validate's three side-by-side steps. So the threads are
 * kept between steps and, for a while after each (PIECES_SPIN_NS), wait for the next by
 * polling, yielding their processor to anything else that wants it, which keeps it awake;
 * then they sleep on a condition variable. pieces_warm() starts them ahead of the work (while
 * a big file is read, say). The caller waits for its workers the same way. libgomp's threads
 * wait for OpenMP work the same way, and for the same reason.
 *
 * Only as many workers poll as there are other processors; the rest sleep at once, and a
 * job wakes only as many sleepers as it has items for. Work that waits on the network
 * (PIECES_APART) is not the pool's: its threads would poll for nothing.
 *
 * One job at a time: a call made while the pool is busy (from another thread, or from an item
 * of the running job) starts threads of its own, as before the pool. A job's items are taken
 * in order by whichever thread is free, the caller included; each worker that joins a job
 * counts itself in (refs), and the caller returns once every item has been taken and every
 * worker that joined has left, so nothing touches the job after its stack frame is gone.
 *
 * The workers start with the asynchronous signals blocked, so that SIGINT and the like go to
 * the threads that expect them, whichever thread started the pool; faults (SIGBUS, SIGSEGV)
 * stay with the thread that makes them. A fork from inside an item leaves a child that waits
 * for the parent's workers: stk forks nowhere.
 */
#define PIECES_POOL_MAX 16             /* workers kept; a job of more items shares them */
#define PIECES_SPIN_NS (10 * 1000000L) /* how long an idle thread polls before it sleeps */

struct pieces_job {
	void *(*fn)(void *);
	char *items;
	size_t size, n;
	atomic_size_t next;  /* the next item to take */
	atomic_size_t refs;  /* workers in the job */
};

static struct {
	pthread_mutex_t owner;     /* held by the caller of the running job */
	pthread_mutex_t lock;      /* job, gen's changes, nthreads */
	pthread_cond_t wake;       /* gen changed */
	pthread_cond_t left;       /* a worker left a job */
	struct pieces_job *job;    /* the running job, or NULL */
	atomic_uint gen;           /* bumped for each job (and at exit) */
	atomic_int quit;
	size_t nthreads;
	size_t npoll;              /* how many of them poll: one fewer than the processors */
	pthread_t threads[PIECES_POOL_MAX];
	int sleeping;              /* workers waiting on wake */
	atomic_int polling;        /* workers polling for the next job */
	int exit_registered;
} pool = {
	.owner = PTHREAD_MUTEX_INITIALIZER,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.left = PTHREAD_COND_INITIALIZER,
};

static long elapsed_ns(const struct timespec *since)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - since->tv_sec) * 1000000000L + (t.tv_nsec - since->tv_nsec);
}

static void take_items(struct pieces_job *j)
{
	size_t i;

	while ((i = atomic_fetch_add(&j->next, 1)) < j->n)
		j->fn(j->items + i * j->size);
}

struct worker_start {
	unsigned gen;   /* the generation it was started in: a later one is work */
	int polls;
};

static void *worker_main(void *arg)
{
	struct worker_start *ws = arg;
	unsigned seen = ws->gen;
	int polls = ws->polls;

	free(ws);
	for (;;) {
		struct timespec since;
		struct pieces_job *j;

		clock_gettime(CLOCK_MONOTONIC, &since);
		if (polls) {
			atomic_fetch_add(&pool.polling, 1);
			while (atomic_load(&pool.gen) == seen && elapsed_ns(&since) < PIECES_SPIN_NS)
				sched_yield();
			atomic_fetch_sub(&pool.polling, 1);
		}
		pthread_mutex_lock(&pool.lock);
		while (atomic_load(&pool.gen) == seen && !atomic_load(&pool.quit)) {
			pool.sleeping++;
			pthread_cond_wait(&pool.wake, &pool.lock);
			pool.sleeping--;
		}
		if (atomic_load(&pool.quit)) {
			pthread_mutex_unlock(&pool.lock);
			return NULL;
		}
		seen = atomic_load(&pool.gen);
		j = pool.job;
		if (j)
			atomic_fetch_add(&j->refs, 1);
		pthread_mutex_unlock(&pool.lock);
		if (!j)
			continue;
		take_items(j);
		pthread_mutex_lock(&pool.lock);
		atomic_fetch_sub(&j->refs, 1);
		pthread_cond_broadcast(&pool.left);
		pthread_mutex_unlock(&pool.lock);
	}
}

/* At exit the workers are told to stop and joined, so that no thread outlives main's data
 * (and leak checkers see none). */
static void pool_stop(void)
{
	/* exit from inside a job (a fatal error on a worker): the threads go with the process */
	if (pthread_mutex_trylock(&pool.owner))
		return;
	pthread_mutex_lock(&pool.lock);
	atomic_store(&pool.quit, 1);
	atomic_fetch_add(&pool.gen, 1);
	pthread_cond_broadcast(&pool.wake);
	pthread_mutex_unlock(&pool.lock);
	for (size_t i = 0; i < pool.nthreads; i++)
		pthread_join(pool.threads[i], NULL);
	pool.nthreads = 0;
	pthread_mutex_unlock(&pool.owner);
}

/* A child of fork has none of the threads, and no job. */
static void pool_forked(void)
{
	pthread_mutex_init(&pool.owner, NULL);
	pthread_mutex_init(&pool.lock, NULL);
	pthread_cond_init(&pool.wake, NULL);
	pthread_cond_init(&pool.left, NULL);
	pool.job = NULL;
	pool.nthreads = 0;
	pool.sleeping = 0;
}

/* Starts workers until there are want (at most PIECES_POOL_MAX); pool.owner held. */
static int pool_grow(size_t want)
{
	sigset_t all, old;

	if (want > PIECES_POOL_MAX)
		want = PIECES_POOL_MAX;
	pthread_mutex_lock(&pool.lock);
	if (!pool.exit_registered) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		pool.npoll = cpus > 1 ? (size_t)(cpus - 1) : 0;
		pool.exit_registered = atexit(pool_stop) == 0 &&
				       pthread_atfork(NULL, NULL, pool_forked) == 0 ? 1 : -1;
	}
	sigfillset(&all);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGTRAP);
	sigdelset(&all, SIGSYS);
	sigdelset(&all, SIGABRT);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	while (pool.nthreads < want && pool.exit_registered == 1) {
		struct worker_start *ws = xmalloc(sizeof *ws);
		ws->gen = atomic_load(&pool.gen);
		ws->polls = pool.nthreads < pool.npoll;
		if (pthread_create(&pool.threads[pool.nthreads], NULL, worker_main, ws)) {
			free(ws);
			break;
		}
		pool.nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_unlock(&pool.lock);
	return pool.exit_registered == 1 ? 0 : -1;
}

void pieces_warm(size_t n)
{
	if (n < 2 || pthread_mutex_trylock(&pool.owner))
		return;
	if (!atomic_load(&pool.quit))
		(void)pool_grow(n - 1);
	pthread_mutex_unlock(&pool.owner);
}

/* At most this many on threads at once when the pool is busy; the rest, if ever, on the
 * calling thread. */
#define PIECES_RUN_MAX 64

static void run_apart(void *(*fn)(void *), char *at, size_t size, size_t n, int threads)
{
	pthread_t ids[PIECES_RUN_MAX];
	int started[PIECES_RUN_MAX] = { 0 };
	size_t m = n < PIECES_RUN_MAX ? n : PIECES_RUN_MAX;

	for (size_t i = 1; i < m; i++)
		started[i] = threads && pthread_create(&ids[i], NULL, fn, at + i * size) == 0;
	if (n)
		fn(at);
	for (size_t i = 1; i < n; i++) {
		if (i < m && started[i])
			pthread_join(ids[i], NULL);
		else
			fn(at + i * size);
	}
}

void pieces_run(void *(*fn)(void *), void *items, size_t size, size_t n, int threads)
{
	struct pieces_job j = { .fn = fn, .items = items, .size = size, .n = n };
	struct timespec since;

	if (n < 2 || !threads || threads == PIECES_APART || pthread_mutex_trylock(&pool.owner)) {
		run_apart(fn, items, size, n, threads);
		return;
	}
	/* stopping at exit, or no way to stop the threads at exit (atexit failed) */
	if (atomic_load(&pool.quit) || pool_grow(n - 1)) {
		pthread_mutex_unlock(&pool.owner);
		run_apart(fn, items, size, n, threads);
		return;
	}
	pthread_mutex_lock(&pool.lock);
	pool.job = &j;
	atomic_fetch_add(&pool.gen, 1);
	/* the polling workers see gen; of the sleeping, as many as there are items for beyond
	 * them (a worker between jobs counts as neither: it is back before long) */
	size_t busy = (size_t)atomic_load(&pool.polling);
	for (size_t k = 0; k < (size_t)pool.sleeping && busy + k < n - 1; k++)
		pthread_cond_signal(&pool.wake);
	pthread_mutex_unlock(&pool.lock);

	take_items(&j);

	/* every item is taken; no worker joins from here on, and those in it finish theirs */
	pthread_mutex_lock(&pool.lock);
	pool.job = NULL;
	pthread_mutex_unlock(&pool.lock);
	clock_gettime(CLOCK_MONOTONIC, &since);
	while (atomic_load(&j.refs) && elapsed_ns(&since) < PIECES_SPIN_NS)
		sched_yield();
	pthread_mutex_lock(&pool.lock);
	while (atomic_load(&j.refs))
		pthread_cond_wait(&pool.left, &pool.lock);
	pthread_mutex_unlock(&pool.lock);
	pthread_mutex_unlock(&pool.owner);
}

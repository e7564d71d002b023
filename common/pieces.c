#include "common/pieces.h"

#include <pthread.h>
#include <stdlib.h>
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

/* At most this many on threads at once (the callers' own limits are lower); the rest, if
 * ever, on the calling thread */
#define PIECES_RUN_MAX 64

void pieces_run(void *(*fn)(void *), void *items, size_t size, size_t n, int threads)
{
	pthread_t ids[PIECES_RUN_MAX];
	int started[PIECES_RUN_MAX] = { 0 };
	size_t m = n < PIECES_RUN_MAX ? n : PIECES_RUN_MAX;
	char *at = items;

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

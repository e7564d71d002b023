#include "common/pieces.h"

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

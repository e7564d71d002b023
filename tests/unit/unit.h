/* unit.h: what every C unit test shares: check() counts a result, and prints what failed.
 * Each test is a program of its own and prints "N passed, M failed" at the end of main. */
#ifndef STK_TESTS_UNIT_H
#define STK_TESTS_UNIT_H

#include <stdarg.h>
#include <stdio.h>

static int passed, failed;

/* Counts ok; when it is 0, prints "FAIL: what: " and the message. */
static void check(int ok, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void check(int ok, const char *what, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		return;
	}
	failed++;
	fprintf(stderr, "FAIL: %s: ", what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

#endif

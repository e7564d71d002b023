/* pieces.h: how many pieces to cut a big input into, to parse them side by side on threads
 * (parser/parse.c for configuration files, planner/state.c for state files), and running
 * work side by side. No ownership. */
#ifndef STK_PIECES_H
#define STK_PIECES_H

#include <stddef.h>

/* The number of pieces for len bytes: one per thread (threads when > 0, else
 * $STK_PARSE_THREADS when it is a positive number, else one per processor), at most max,
 * each of at least min bytes; 1 at least (1: no threads). */
size_t pieces_count(size_t len, long threads, size_t min, size_t max);

/* Runs fn on each of the n items of size bytes at items, and returns when all are done:
 * side by side on the calling thread and the pool's (up to 16 kept, polling for a while
 * between jobs, see pieces.c), or, while the pool runs another job, on threads of their own;
 * with threads PIECES_APART (items that wait on the network), each on a thread of its own;
 * with threads 0, or when no thread can be started, on the calling thread in order. Up to 17
 * items run at once on the pool; more share its threads, so items must not wait for each
 * other. */
#define PIECES_APART 2
void pieces_run(void *(*fn)(void *), void *items, size_t size, size_t n, int threads);

/* Starts the pool's threads for a job of n items about to come (a big file being read), so
 * that their processors are awake when it does. */
void pieces_warm(size_t n);

#endif

/* pieces.h: how many pieces to cut a big input into, to parse them side by side on threads
 * (parser/parse.c for configuration files, planner/state.c for state files). No ownership. */
#ifndef STK_PIECES_H
#define STK_PIECES_H

#include <stddef.h>

/* The number of pieces for len bytes: one per thread (threads when > 0, else
 * $STK_PARSE_THREADS when it is a positive number, else one per processor), at most max,
 * each of at least min bytes; 1 at least (1: no threads). */
size_t pieces_count(size_t len, long threads, size_t min, size_t max);

#endif

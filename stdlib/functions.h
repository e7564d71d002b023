/* functions.h: the built-in functions' signatures, which validate checks calls against.
 * Ownership: static tables only. */
#ifndef STK_FUNCTIONS_H
#define STK_FUNCTIONS_H

struct func_sig {
	const char *name;
	int min_args;
	int max_args;        /* -1: any number */
	const char *usage;   /* "cidrsubnet(prefix, newbits, netnum)" */
};

extern const struct func_sig func_table[];   /* NULL-name-terminated, sorted by name */

const struct func_sig *func_find(const char *name);
/* NULL-terminated list of every name, for "did you mean" hints. */
const char *const *func_names(void);

#endif

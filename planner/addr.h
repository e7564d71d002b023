/* addr.h: resource addresses, as users type them and the state stores them.
 *
 *   aws.vpc.main                        a managed resource, or its only instance
 *   aws.subnet.public["a"]              an instance of a for_each resource
 *   aws.instance.worker[1]              an instance of a count resource
 *   data.aws.ami.debian                 a data resource
 *   module.web.docker.container.nginx   a resource in a module
 *   module.web[0].aws.vpc.x             ... in an instance of a module
 *
 * The type is "provider.kind" (aws.vpc) and the provider names "module" and "data" are
 * taken. A number key is a count index (0, 1, ...; no sign, no leading zeros); a string key
 * is written in double quotes with \" \\ \n \r \t and \uXXXX escapes. addr_format() writes
 * the one canonical spelling, which addr_parse() reads back to an equal address.
 *
 * Ownership: a struct addr owns its strings and its key. */
#ifndef STK_ADDR_H
#define STK_ADDR_H

#include "common/buf.h"
#include "planner/value.h"

enum addr_mode {
	ADDR_MANAGED,
	ADDR_DATA,
};

struct addr {
	char *module;        /* "" for the root module, "module.web", "module.web[0].module.db" */
	enum addr_mode mode;
	char *type;          /* "aws.vpc" */
	char *name;          /* "main" */
	struct value *key;   /* NULL (no key), a number (count) or a string (for_each) */
};

void addr_init(struct addr *a);
void addr_release(struct addr *a);
/* Sets every field (copies; key is borrowed and may be NULL). */
void addr_set(struct addr *a, const char *module, enum addr_mode mode, const char *type,
	      const char *name, const struct value *key);
void addr_copy(struct addr *dst, const struct addr *src);

/* Parses text into a (initialized; its old contents are released). Returns 0, or -1 with
 * the reason appended to why (when not NULL), and a left empty. */
int addr_parse(struct addr *a, const char *text, struct buf *why);
/* Checks a module path ("" for the root, else module steps without a trailing dot). */
int addr_parse_module(const char *text, struct buf *why);

/* The first step of a module path ("module.web[0].module.db"): its name and key (NULL for
 * none; both new) and, in *rest, the steps after it ("module.db", or "" after the last).
 * Returns -1 when the path does not start with a step. */
int addr_module_step(const char *path, char **name, struct value **key, const char **rest);
/* The length of the path of the module that calls the one path's first len bytes name:
 * "module.a.module.b" (len 17) -> 8 ("module.a") -> 0 (the root). len is not 0. */
size_t addr_module_parent(const char *path, size_t len);

void addr_format(const struct addr *a, struct buf *out);
/* "[0]" or "[\"a\"]"; nothing for NULL. */
void addr_format_key(const struct value *key, struct buf *out);
/* Is key something an instance can be keyed by: NULL, a count index or a string? */
int addr_valid_key(const struct value *key);

/* The pieces on their own. */
int addr_valid_name(const char *name);           /* an identifier */
int addr_valid_type(const char *type);           /* "aws.vpc" */
int addr_valid_provider(const char *provider);   /* "aws" or "aws.eu" */

/* Module, mode, type, name, then key (none first, then numbers, then strings); the order of
 * resources and instances in a state file. */
int addr_compare(const struct addr *a, const struct addr *b);
int addr_key_compare(const struct value *a, const struct value *b);

#endif

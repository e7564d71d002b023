/* value.h: what expressions evaluate to. Values are immutable and reference-counted, and carry
 * two marks that every operation propagates: unknown (known only after apply) and sensitive.
 * Ownership: constructors return a new reference; functions that take a value borrow it unless
 * their name says "take"; val_unref() drops a reference. */
#ifndef STK_VALUE_H
#define STK_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

enum val_kind {
	VAL_NULL,
	VAL_BOOL,
	VAL_NUMBER,
	VAL_STRING,
	VAL_LIST,     /* ordered; also what Terraform calls a tuple */
	VAL_SET,      /* kept sorted by val_compare, without duplicates */
	VAL_MAP,      /* string keys, kept sorted; also what Terraform calls an object */
	VAL_DYNAMIC,  /* only for unknown values whose kind is not known either */
};

enum {
	VAL_UNKNOWN = 1 << 0,    /* the value itself is not known yet */
	VAL_SENSITIVE = 1 << 1,  /* never printed: "(sensitive value)" */
};

struct value;

struct val_pair {
	char *key;
	struct value *val;
};

struct value {
	uint32_t refs;
	uint8_t kind;
	uint8_t marks;
	/* 0: the value belongs to one thread, and its count is a plain one; VAL_SHARED_ATOMIC:
	 * threads share it (val_share), and count it atomically; VAL_SHARED_STATIC: null, true,
	 * false and the unknowns of val_unknown, never counted nor freed */
	uint8_t shared;
	union {
		int b;
		double n;
		struct { char *s; size_t len; } str;
		struct { struct value **items; size_t n; } list;  /* VAL_LIST, VAL_SET */
		struct { struct val_pair *items; size_t n; } map;
	} u;
};

/* Constructors. */
struct value *val_null(void);
struct value *val_bool(int b);
struct value *val_number(double n);
struct value *val_string(const char *s, size_t len);
struct value *val_cstring(const char *s);
struct value *val_string_take(char *s, size_t len);   /* takes a malloc'd string */
struct value *val_unknown(enum val_kind kind);
/* Takes the references in items (the array itself is copied). */
struct value *val_list_take(struct value **items, size_t n);
/* Sorts and removes duplicates; takes the references. */
struct value *val_set_take(struct value **items, size_t n);
/* Sorts by key; on a repeated key the later pair wins. Takes keys (malloc'd) and values.
 * Sorts items in place, which the caller then frees. A map's keys are copied into the block
 * of its pairs: one allocation for a map, not one more per key. */
struct value *val_map_take(struct val_pair *items, size_t n);
/* The same, with the keys only borrowed (a schema's names, the tree's): no copy of a key is
 * made to be freed again. */
struct value *val_map_take_vals(struct val_pair *items, size_t n);
/* The same, with keys that outlive every value (a schema's names): the map points at them
 * instead of copying them into its block. */
struct value *val_map_take_static(struct val_pair *items, size_t n);
struct value *val_empty_list(void);
struct value *val_empty_map(void);

enum { VAL_SHARED_ATOMIC = 1, VAL_SHARED_STATIC = 2 };

struct value *val_ref(struct value *v);
void val_unref(struct value *v);
/* Hands v, and everything in it, to all threads: from now on their counts are atomic, so
 * that threads may take and drop references to it side by side (the planner's shares do,
 * to the values of the nodes of earlier rounds). v must not be in use by another thread
 * yet; what is already shared is not walked again. */
void val_share(struct value *v);

/* A value like v with marks added (a new reference; v is borrowed). */
struct value *val_mark(struct value *v, unsigned marks);
/* A list, set or map like v, its marks kept, with marks added to each element (one level):
 * what stands for an element of a sensitive value (an iteration, an attribute) is sensitive
 * too. Any other value is returned as val_ref(v). Returns a new reference. */
struct value *val_mark_elements(struct value *v, unsigned marks);
/* Registers the text of every sensitive string in v (marked, or inside a marked value; not
 * a map's keys) with diag_add_secret, so that no message or log shows it. */
void val_add_secrets(const struct value *v);
/* Registers the text of every string in v that is not sensitive with diag_add_public: a
 * secret that some value shows in the clear is not replaced. After val_add_secrets. */
void val_add_public(const struct value *v);
/* The same value without its own top-level marks (nested values keep theirs). */
struct value *val_unmark(struct value *v);
/* A new value equal to v, sharing no reference with it and without marks; unknown parts
 * become null. Providers build results with it: reference counts are not atomic (but for
 * values given to val_share), and the planner's values belong to its thread. */
struct value *val_copy_known(const struct value *v);
/* Marks found anywhere in v. */
unsigned val_deep_marks(const struct value *v);
int val_is_known(const struct value *v);       /* no unknown anywhere */
int val_is_sensitive(const struct value *v);   /* sensitive anywhere */

/* Lookups (borrowed results, or NULL). */
struct value *val_map_get(const struct value *map, const char *key);
size_t val_length(const struct value *v);      /* list, set, map entries; string code points */

/* Equality of content (marks ignored); a total order over all values for sets and sorting. */
int val_equal(const struct value *a, const struct value *b);
int val_compare(const struct value *a, const struct value *b);

const char *val_kind_name(enum val_kind k);

/* Conversions used by templates and typed arguments. They return 0, or -1 with a reason in
 * *why (a static string) when the value cannot convert. Unknown values do not convert. */
int val_to_string(const struct value *v, struct buf *out, const char **why);
int val_to_number(const struct value *v, double *out, const char **why);
int val_to_bool(const struct value *v, int *out, const char **why);
/* The one string to number and string to bool conversion (cty's): every operator, condition,
 * typed variable, function argument and tonumber/tobool goes through them. Numbers: an
 * optional sign, digits with an optional fraction (".5", "5."), an optional exponent "e3" or
 * binary "p3"; nothing beyond the double range. Bools: "true" and "1", "false" and "0".
 * Return 0, or -1 when s is not one. */
int val_parse_number(const char *s, size_t len, double *out);
int val_parse_bool(const char *s, size_t len, int *out);

/* Types, as cty's, for unification and conversion. A value has no type of its own beyond
 * its kind: val_type_of reads one off it, a list as a tuple and a map as an object. */
enum val_type_kind {
	VT_ANY, VT_BOOL, VT_NUMBER, VT_STRING, VT_LIST, VT_SET, VT_MAP, VT_TUPLE, VT_OBJECT,
};

struct val_type {
	enum val_type_kind k;
	size_t n;               /* VT_TUPLE, VT_OBJECT: members; others with an element: 1 */
	struct val_type **sub;
	char **names;           /* VT_OBJECT: sorted keys */
};

struct val_type *val_type_new(enum val_type_kind k, size_t n);
void val_type_free(struct val_type *t);
struct val_type *val_type_of(const struct value *v);
/* The one type every type in tys converts to (cty's convert.Unify), or NULL. Null and
 * unknown values are of type VT_ANY, which does not take part. */
struct val_type *val_type_unify(struct val_type **tys, size_t n);
/* val_type_unify of the types of vals. */
struct val_type *val_type_unify_values(struct value *const *vals, size_t n);
/* "number", "list of string", "tuple", "object", as cty names them in messages. */
void val_type_name(const struct val_type *t, struct buf *out);
/* v converted to t (a new reference; null and unknown values pass as they are). NULL when it
 * does not convert, with why (when not NULL) saying why without showing sensitive text. */
struct value *val_convert(struct value *v, const struct val_type *t, struct buf *why);
/* A value in a message: val_write's text, cut to about 80 bytes. */
void val_write_short(const struct value *v, struct buf *out);
/* A number as a string, the one way every conversion writes it (templates, tostring, join,
 * string arguments and attributes, the plan): as Terraform does, all its digits and never an
 * exponent, with the fewest digits that read back as the same double: 3, 0.5,
 * 1000000000000000000000 for 1e21, 0.0000001 for 1e-7. */
void val_format_number(double n, struct buf *out);
/* big.Float's Append(fmt, prec), as Terraform formats numbers: fmt is e, E, f, g or G, and
 * prec < 0 means the fewest digits that read back as the same double (format()'s verbs). */
void val_format_float(double v, int fmt, int prec, struct buf *out);

/* Writes v as .stk source text (strings quoted and escaped, maps as { k = v }), on one line.
 * Marked values print as (known after apply) and (sensitive value). */
void val_write(const struct value *v, struct buf *out);

/* An IPv4 CIDR as the cloud reports it ("10.0.0.1/016" is "10.0.0.0/16"), appended to out;
 * -1 when s is not one. */
int val_cidr_canonical(const char *s, struct buf *out);

#endif

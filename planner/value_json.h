/* value_json.h: values to and from JSON (jansson), as the state file and the providers need
 * them, and the paths of the sensitive parts of a value.
 *
 * JSON has no marks, so a value's sensitive parts travel beside it as a list of paths, the
 * way Terraform's sensitive_attributes do: [["password"], ["tags", "secret"], ["rules", 0]].
 * A step is a string (a map key) or an integer (a list or set index); [] is the value itself.
 *
 * Ownership: functions returning json_t * or struct value * return a new reference; their
 * arguments are borrowed. */
#ifndef STK_VALUE_JSON_H
#define STK_VALUE_JSON_H

#include <jansson.h>

#include "common/buf.h"
#include "planner/value.h"

/* null, bool, number, string, list and set (as arrays), map (as an object). Integral numbers
 * that a JSON integer holds exactly are written as integers, others as reals. Marks are
 * dropped: take the sensitive paths first. Returns NULL when v cannot be stored: it is not
 * known yet, it holds a NaN or an infinity, or a string (or key) that is not UTF-8. */
json_t *val_to_json(const struct value *v);
/* The same, saying why it failed: *why gets a static reason and where (when not NULL) the
 * path to the part at fault, in the form ".tags[\"a b\"].ports[0]" ("" for v itself). */
json_t *val_to_json_why(const struct value *v, struct buf *where, const char **why);

/* Objects become VAL_MAP, arrays VAL_LIST; no marks. Returns NULL only for what no value can
 * hold (nothing jansson parses today). */
struct value *val_from_json(const json_t *j);

/* The paths of the outermost sensitive parts of v (a sensitive map's members are not listed
 * again), in the order a walk by key and index meets them. Always an array, maybe empty. */
json_t *val_sensitive_paths(const struct value *v);

/* A copy of v with marks added to the part at path, one JSON path as above. Returns NULL with
 * a static reason in *why when path is not an array of steps or does not lead into v. */
struct value *val_mark_path(struct value *v, const json_t *path, unsigned marks,
			    const char **why);
/* Marks every path of an array of paths. On failure *bad gets the index of the path at
 * fault. */
struct value *val_mark_paths(struct value *v, const json_t *paths, unsigned marks,
			     size_t *bad, const char **why);

/* Appends a path the way messages show it: .tags.secret, .rules[0], ["a b"] for keys that
 * are not identifiers. */
void val_path_format(const json_t *path, struct buf *out);

/* Writes j the way json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) does, except that reals are
 * written with the fewest digits that read back as the same double (0.1, not
 * 0.10000000000000001), so files that hold them diff cleanly. No trailing newline. */
void val_json_write(const json_t *j, struct buf *out);

#endif

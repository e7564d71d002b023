/* fmt.h: the canonical layout of a .stk file (stk fmt).
 * Ownership: fmt_format appends to a caller-owned buf; it borrows the AST and its tokens. */
#ifndef STK_FMT_H
#define STK_FMT_H

#include "common/buf.h"
#include "parser/ast.h"

/* Writes the canonical text of f, which was parsed with keep_tokens and without errors:
 * two-space indentation, '=' aligned within a run of single-line attributes, one blank line
 * between blocks (at most one anywhere), comments kept where they were. Idempotent. */
int fmt_format(const struct ast_file *f, struct buf *out);

#endif

#include "parser/fmt.h"
int fmt_format(const struct ast_file *f, struct buf *out) { (void)f; (void)out; return -1; }

/* fuzz_parse.c: libFuzzer target for the front end: the scanner, the parser with its error
 * recovery, the diagnostics' formatting and, for input that parses cleanly, stk fmt's layout.
 *
 * Build and run: `make fuzz` (clang with -fsanitize=fuzzer,address,undefined), `make fuzz-smoke`.
 * Replay one input: fuzz/fuzz_parse FILE...
 * Ownership: every input is copied into a malloc'd NUL-terminated buffer that the diag_ctx owns;
 * everything is freed before returning, so LeakSanitizer sees any leak in the front end. */
#define FUZZ_NAME "fuzz_parse"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/diag.h"
#include "parser/ast.h"
#include "parser/fmt.h"
#include "parser/parse.h"

#include "fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_ctx diag;
	struct buf out = BUF_INIT;
	struct ast_file *f = fuzz_parse_input(&diag, data, size, 1);

	/* stk fmt only formats files that parsed without errors */
	if (f && diag.errors == 0)
		fmt_format(f, &out);

	diag_sort(&diag);
	for (size_t i = 0; i < buf_count(&diag.diags, struct diag); i++) {
		buf_reset(&out);
		diag_format(&buf_at(&diag.diags, struct diag, i), &out, (int)(i & 1));
	}

	buf_release(&out);
	ast_file_free(f);
	diag_release(&diag);
	return 0;
}

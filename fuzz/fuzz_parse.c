/* fuzz_parse.c: libFuzzer target for the front end: the scanner, the parser with its error
 * recovery, the diagnostics' formatting and, for input that parses cleanly, stk fmt's layout;
 * then a differential check: the input parsed in pieces on threads (parse.c's parse_pieces,
 * cut as small as they go) must give the tree and the messages of one pass, or it aborts.
 *
 * Build and run: `make fuzz` (clang with -fsanitize=fuzzer,address,undefined), `make fuzz-smoke`.
 * Replay one input: fuzz/fuzz_parse FILE...
 * Ownership: every input is copied into a malloc'd NUL-terminated buffer that the diag_ctx owns;
 * everything is freed before returning, so LeakSanitizer sees any leak in the front end. */
#define FUZZ_NAME "fuzz_parse"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/diag.h"
#include "parser/ast.h"
#include "parser/fmt.h"
#include "parser/parse.h"

#include "fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The tree and the messages of a parse without tokens, on threads threads. */
static void parse_dump(const uint8_t *data, size_t size, int threads, struct buf *out)
{
	struct diag_ctx diag;
	struct ast_file *f;

	parse_threads = threads;
	parse_piece_min = 1;
	f = fuzz_parse_input(&diag, data, size, 0);
	ast_dump(f, out);
	for (size_t i = 0; i < buf_count(&diag.diags, struct diag); i++) {
		diag_format(&buf_at(&diag.diags, struct diag, i), out, 0);
		buf_addch(out, '\n');
	}
	buf_printf(out, "errors %u warnings %u\n", diag.errors, diag.warnings);
	ast_file_free(f);
	diag_release(&diag);
}

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

	struct buf one = BUF_INIT, pieces = BUF_INIT;
	parse_dump(data, size, 1, &one);
	parse_dump(data, size, 4, &pieces);
	if (one.len != pieces.len || memcmp(one.data, pieces.data, one.len) != 0) {
		fprintf(stderr, "parsed in pieces, the input gives another tree or other messages:\n"
			"--- one pass\n%s\n--- in pieces\n%s\n", one.data, pieces.data);
		abort();
	}
	buf_release(&one);
	buf_release(&pieces);
	return 0;
}

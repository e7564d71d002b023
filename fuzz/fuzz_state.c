/* fuzz_state.c: libFuzzer target for the state loader: what state_read() does with the bytes
 * of a state file once it has read them (planner/state.c, load() and on), and the passphrase
 * encryption in front of it (planner/crypt.c).
 *
 *   - Plain input goes through state_open() (no passphrase: copied as is), then the JSON
 *     parse state_read() does (jansson, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL) and
 *     state_from_json() into a fresh struct state. A state that loads is formatted back with
 *     state_format() (the bytes state_write() stores), and that must load again and format to
 *     the same bytes: stk must never write a state it cannot read back.
 *   - Input that starts with the magic "STKENC" goes through crypt_open() with a fixed
 *     passphrase, and the plaintext, when the tag matches, through the JSON path above.
 *   - Plain input is also sealed with crypt_seal() and opened again: the round trip must give
 *     the same bytes.
 *   - The input and the formatted state are also parsed by state_json_load() cut in pieces as
 *     small as they go, which must give the JSON one pass gives (or fail as it does), and read
 *     by state_load() in pieces, which must give the state one pass reads (or the same
 *     messages).
 *
 * PBKDF2 and scrypt: opening a file whose header passes the checks derives the master key,
 * 600000 rounds or more (about 0.2 s), or 64 MiB of scrypt or more (about 0.4 s), unless the
 * struct crypt holds the master for that KDF, its parameters and KDF salt already.
 * LLVMFuzzerInitialize() therefore opens SEED below once, a state sealed by stk itself
 * (`stk state encrypt` with STK_STATE_PASSPHRASE=PASSPHRASE; it is also
 * fuzz/corpus-state/sealed-small.stkstate), which leaves its master in the struct crypt.
 * Before crypt_open(), an input whose KDF parameters are in the range crypt.c accepts
 * (PBKDF2's iteration count, or scrypt's log2(N), r, p and zero byte) gets SEED's KDF id,
 * iteration count and KDF salt written over its own (in a copy), so every input reuses that
 * master; the rest of the header, the ciphertext and the tag are the fuzzer's. Parameters
 * out of range are passed as they are: crypt.c refuses them before deriving. The one thing
 * not fuzzed is the KDFs themselves over other salts, which are OpenSSL's. Should an
 * input ever make crypt_open() derive again, the target aborts, as a slow path is a bug here.
 * GCM's tag means the fuzzer can alter a sealed file but practically never forge one; the
 * seeds sealed with the same master (fuzz/corpus-state/sealed-*.stkstate) reach the JSON path.
 *
 * Build and run: `make fuzz` (clang with -fsanitize=fuzzer,address,undefined), `make fuzz-smoke`.
 * Replay one input: fuzz/fuzz_state FILE...
 * Ownership: everything allocated for an input is freed before returning, so LeakSanitizer
 * sees any leak in the loader; the struct crypt lives for the whole run. */
#define FUZZ_NAME "fuzz_state"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/diag.h"
#include "planner/crypt.h"
#include "planner/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The name in messages; a path that cannot exist, so the hints' stat() of NAME.backup fails */
#define NAME "/nonexistent/fuzz/stk.state"

#include "fuzz/fuzz_common.h"
/* A state sealed by stk 0.1.0 with PASSPHRASE (format version 2, 600000 iterations) */
#include "fuzz/sealed_seed.h"  /* and LLVMFuzzerInitialize() */

/* state_json_load() cut as small as it goes must give what one pass gave (whole, or NULL). */
static void same_in_pieces(const char *text, size_t len, const json_t *whole)
{
	json_error_t err;
	unsigned pieces;
	json_t *split;

	state_load_threads = 4;
	state_piece_min = 1;
	split = state_json_load(text, len, &err, &pieces);
	if (whole ? !split || !json_equal((json_t *)whole, split) : split != NULL)
		die("parsed in pieces, a state's JSON is not what one pass gives");
	json_decref(split);
}

/* Every message of d, formatted, in out. */
static void all_messages(const struct diag_ctx *d, struct buf *out)
{
	for (size_t i = 0; i < buf_count(&d->diags, struct diag); i++)
		diag_format(&buf_at(&d->diags, struct diag, i), out, 0);
}

/* state_load() cut as small as it goes, each thread reading its share's resources, must read
 * the state one pass reads (the same bytes formatted), or fail with the same messages. */
static void same_read_in_pieces(const char *text, size_t len)
{
	struct diag_ctx d1, d2;
	struct state one, split;
	struct buf m1 = BUF_INIT, m2 = BUF_INIT;
	char *f1 = NULL, *f2 = NULL;
	size_t n1 = 0, n2 = 0;
	unsigned pieces;
	int r1, r2;

	diag_init(&d1);
	diag_init(&d2);
	state_init(&one);
	state_init(&split);
	state_load_threads = 1;
	r1 = state_load(NAME, text, len, &one, &d1, &pieces);
	state_load_threads = 4;
	state_piece_min = 1;
	r2 = state_load(NAME, text, len, &split, &d2, &pieces);
	if (r1 != r2)
		die("read in pieces, a state loads where one pass fails, or the other way round");
	if (!r1) {
		f1 = state_format(&one, NAME, &n1, &d1);
		f2 = state_format(&split, NAME, &n2, &d2);
		if (!f1 != !f2 || (f1 && (n1 != n2 || memcmp(f1, f2, n1))))
			die("read in pieces, a state is not the one one pass reads");
	}
	all_messages(&d1, &m1);
	all_messages(&d2, &m2);
	if (m1.len != m2.len || (m1.len && memcmp(m1.data, m2.data, m1.len)))
		die("read in pieces, a state gives other messages than one pass");
	free(f1);
	free(f2);
	buf_release(&m1);
	buf_release(&m2);
	state_release(&one);
	state_release(&split);
	diag_release(&d1);
	diag_release(&d2);
}

/* What state_read() does after load(): parse, fill a fresh state, then (here) format it back
 * and check that the formatted state loads and formats to the same bytes. */
static void load_json(const char *text, size_t len)
{
	struct diag_ctx diag;
	struct state st, again;
	json_error_t err;
	json_t *root, *root2;
	char *out, *out2;
	size_t n, n2;

	if (!len)
		return;  /* state_read() refuses an empty file before parsing */
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	same_in_pieces(text, len, root);
	same_read_in_pieces(text, len);
	if (!root)
		return;
	diag_init(&diag);
	state_init(&st);
	if (state_from_json(&st, root, NAME, &diag) == 0) {
		st.disk_serial = st.serial;
		out = state_format(&st, NAME, &n, &diag);
		if (out) {
			root2 = json_loadb(out, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
			if (!root2)
				die("state_format() wrote text that is not JSON");
			/* stk's own layout: the one that is cut */
			same_in_pieces(out, n, root2);
			same_read_in_pieces(out, n);
			state_init(&again);
			if (state_from_json(&again, root2, NAME, &diag) < 0)
				die("state_format() wrote a state that state_from_json() refuses");
			out2 = state_format(&again, NAME, &n2, &diag);
			if (!out2 || n2 != n || memcmp(out, out2, n))
				die("a formatted state does not format to the same bytes again");
			free(out2);
			state_release(&again);
			json_decref(root2);
			free(out);
		}
	}
	state_release(&st);
	json_decref(root);
	diag_release(&diag);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = size ? (const char *)data : "";
	struct diag_ctx diag;
	struct buf text = BUF_INIT, sealed = BUF_INIT;

	diag_init(&diag);
	if (!crypt_is_sealed(in, size)) {
		/* load(): without a passphrase, plain bytes are taken as they are */
		if (state_open(NAME, in, size, &text, &diag) < 0)
			die("state_open() refused plain bytes");
		load_json(text.data ? text.data : "", text.len);

		/* sealing: cheap with the master kept (HKDF and GCM only), and must round-trip */
		if (crypt_seal(&sealer, "state", in, size, &sealed, &diag) < 0)
			die("crypt_seal() failed");
		if (sealed.len != size + CRYPT_OVERHEAD)
			die("crypt_seal() wrote the wrong length");
		buf_reset(&text);
		if (crypt_open(&sealer, "state", sealed.data, sealed.len, &text, &diag) < 0 ||
		    text.len != size || (size && memcmp(text.data, in, size)))
			die("a sealed input does not open to the same bytes");
	} else {
		/* without a passphrase, a sealed file is refused */
		if (state_open(NAME, in, size, &text, &diag) == 0)
			die("state_open() took a sealed file without a passphrase");
		char *copy = xmalloc(size + 1);
		memcpy(copy, in, size);
		copy[size] = '\0';
		seed_kdf_over(copy, data, size);
		buf_reset(&text);
		if (crypt_open(&sealer, NAME, copy, size, &text, &diag) == 0)
			load_json(text.data ? text.data : "", text.len);
		free(copy);
	}
	sealed_seed_check();
	buf_release(&sealed);
	buf_release(&text);
	diag_release(&diag);
	return 0;
}

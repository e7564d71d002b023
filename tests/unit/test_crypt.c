/* test_crypt.c: passphrase encryption of state files and saved plans (planner/crypt.c):
 * round trips, a fresh file salt and nonce on every seal, the master key kept between
 * seals and opens (PBKDF2 or scrypt at most once per struct crypt, KDF and KDF salt, and a
 * new master when the configured KDF is not the opened file's), version 1 files still
 * opening, the format decrypted by hand from docs/state.md, a file sealed with scrypt by
 * Python's hashlib and cryptography, and the refusals: a wrong passphrase, every single-byte
 * change, truncation, iteration counts and scrypt costs out of range, unknown versions and
 * KDFs. Each refusal must leave the output buffer as it was and must not show the
 * passphrase or the plaintext. A key derivation takes about 0.15 s (PBKDF2) or 0.4 s
 * (scrypt), 3 times as long under ASan, so the tests that try many files keep one struct
 * crypt warm where they can, and OpenSSL's KDFs run once for each set of inputs (below). */
#define _GNU_SOURCE
#include "planner/crypt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "tests/unit/unit.h"

/*
 * OpenSSL's two KDFs, each computed once for each set of inputs: this program is linked with
 * -Wl,--wrap=PKCS5_PBKDF2_HMAC -Wl,--wrap=EVP_PBE_scrypt (Makefile.am), so crypt.c's calls
 * and this file's own come here. Most of the cold opens here derive a master some seal or open
 * before them derived already, from the same passphrase, salt and cost: the answer is the
 * same, so the second time it is copied rather than computed again, for seconds each under
 * ASan. crypt.c still derives (struct crypt's derivations count as before), with the cost its
 * files record, which it accepts only from 600000 iterations or 64 MiB of scrypt up; every new
 * salt, passphrase or cost is computed by OpenSSL at that cost; a failure is never kept. Only
 * the test program is linked so: stk itself calls OpenSSL directly.
 */
int __real_PKCS5_PBKDF2_HMAC(const char *pass, int passlen, const unsigned char *salt,
			     int saltlen, int iter, const EVP_MD *digest, int keylen,
			     unsigned char *out);
int __wrap_PKCS5_PBKDF2_HMAC(const char *pass, int passlen, const unsigned char *salt,
			     int saltlen, int iter, const EVP_MD *digest, int keylen,
			     unsigned char *out);
int __real_EVP_PBE_scrypt(const char *pass, size_t passlen, const unsigned char *salt,
			  size_t saltlen, uint64_t n, uint64_t r, uint64_t p, uint64_t maxmem,
			  unsigned char *key, size_t keylen);
int __wrap_EVP_PBE_scrypt(const char *pass, size_t passlen, const unsigned char *salt,
			  size_t saltlen, uint64_t n, uint64_t r, uint64_t p, uint64_t maxmem,
			  unsigned char *key, size_t keylen);

/* One derivation's inputs (every argument but the output buffer) and its output. */
struct kdf_call {
	int kdf;  /* CRYPT_KDF_PBKDF2_SHA256 (any digest) or CRYPT_KDF_SCRYPT */
	char pass[64];
	size_t pass_len;
	unsigned char salt[32];
	size_t salt_len;
	uint64_t cost[4];  /* iterations and the digest's NID; N, r, p and maxmem */
	unsigned char out[64];
	size_t out_len;
};

static struct kdf_call kdf_memo[256];
static size_t kdf_memo_len;
static unsigned long kdf_computed, kdf_reused;

/* Fills a call's inputs; 0 when they do not fit (that call is simply computed). */
static int kdf_call_set(struct kdf_call *k, int kdf, const char *pass, size_t pass_len,
			const unsigned char *salt, size_t salt_len, const uint64_t cost[4],
			size_t out_len)
{
	if (pass_len > sizeof k->pass || salt_len > sizeof k->salt || out_len > sizeof k->out)
		return 0;
	memset(k, 0, sizeof *k);
	k->kdf = kdf;
	memcpy(k->pass, pass, pass_len);
	k->pass_len = pass_len;
	memcpy(k->salt, salt, salt_len);
	k->salt_len = salt_len;
	memcpy(k->cost, cost, sizeof k->cost);
	k->out_len = out_len;
	return 1;
}

/* The output of an earlier call with k's inputs, or NULL */
static const unsigned char *kdf_memo_find(const struct kdf_call *k)
{
	for (size_t i = 0; i < kdf_memo_len; i++) {
		const struct kdf_call *m = &kdf_memo[i];
		if (m->kdf == k->kdf && m->pass_len == k->pass_len &&
		    !memcmp(m->pass, k->pass, k->pass_len) && m->salt_len == k->salt_len &&
		    !memcmp(m->salt, k->salt, k->salt_len) &&
		    !memcmp(m->cost, k->cost, sizeof k->cost) && m->out_len == k->out_len)
			return m->out;
	}
	return NULL;
}

/* Keeps k, whose out was computed, while there is room (this file makes under 100) */
static void kdf_memo_add(const struct kdf_call *k)
{
	if (kdf_memo_len < sizeof kdf_memo / sizeof *kdf_memo)
		kdf_memo[kdf_memo_len++] = *k;
}

int __wrap_PKCS5_PBKDF2_HMAC(const char *pass, int passlen, const unsigned char *salt,
			     int saltlen, int iter, const EVP_MD *digest, int keylen,
			     unsigned char *out)
{
	struct kdf_call k;
	const uint64_t cost[4] = { (uint64_t)iter, digest ? (uint64_t)EVP_MD_type(digest) : 0 };
	const unsigned char *found;
	int known = passlen >= 0 && saltlen >= 0 && keylen >= 0 && iter > 0 && digest && pass &&
		    kdf_call_set(&k, CRYPT_KDF_PBKDF2_SHA256, pass, (size_t)passlen, salt,
				 (size_t)saltlen, cost, (size_t)keylen);

	if (known && (found = kdf_memo_find(&k))) {
		memcpy(out, found, (size_t)keylen);
		kdf_reused++;
		return 1;
	}
	kdf_computed++;
	if (__real_PKCS5_PBKDF2_HMAC(pass, passlen, salt, saltlen, iter, digest, keylen, out) != 1)
		return 0;
	if (known) {
		memcpy(k.out, out, (size_t)keylen);
		kdf_memo_add(&k);
	}
	return 1;
}

int __wrap_EVP_PBE_scrypt(const char *pass, size_t passlen, const unsigned char *salt,
			  size_t saltlen, uint64_t n, uint64_t r, uint64_t p, uint64_t maxmem,
			  unsigned char *key, size_t keylen)
{
	struct kdf_call k;
	const uint64_t cost[4] = { n, r, p, maxmem };
	const unsigned char *found;
	/* without a key, OpenSSL only checks the parameters */
	int known = key && pass && kdf_call_set(&k, CRYPT_KDF_SCRYPT, pass, passlen, salt,
						saltlen, cost, keylen);

	if (known && (found = kdf_memo_find(&k))) {
		memcpy(key, found, keylen);
		kdf_reused++;
		return 1;
	}
	if (key)
		kdf_computed++;
	if (__real_EVP_PBE_scrypt(pass, passlen, salt, saltlen, n, r, p, maxmem, key,
				  keylen) != 1)
		return 0;
	if (known) {
		memcpy(k.out, key, keylen);
		kdf_memo_add(&k);
	}
	return 1;
}


#define CHECK(cond, ...) check(!!(cond), __func__, __VA_ARGS__)

#define PASS "correct horse battery staple"
#define WRONG "correct horse battery stapler"
#define SECRET "{\"password\": \"hunter2-s3cr3t\"}\n"
#define WRONG_MSG "the state is encrypted and this passphrase does not open it " \
	"(or the file was altered)"

/* Offsets in the header, as docs/state.md draws it: version 2, then version 1. */
#define OFF_VERSION 6
#define OFF_KDF 7
#define OFF_ITER 8  /* PBKDF2's iteration count; scrypt's log2(N), r, p and 0 */
#define OFF_KDF_SALT_LEN 12
#define OFF_KDF_SALT 13
#define OFF_FILE_SALT_LEN 29
#define OFF_FILE_SALT 30
#define OFF_NONCE_LEN 46
#define OFF_NONCE 47
#define HEADER_LEN 59
#define V1_OFF_NONCE_LEN 29
#define V1_OFF_NONCE 30
#define V1_HEADER_LEN 42
#define INFO "stk state v2"
/* the scrypt cost stk writes: N = 2^16, r = 8, p = 2 */
#define SCRYPT_LOG2_N 16
#define SCRYPT_R 8
#define SCRYPT_P 2

/* ---- helpers ---- */

static struct buf diag_buf;

/* All messages and hints, one per line, for matching and for failure reports. */
static const char *diag_text(struct diag_ctx *d)
{
	buf_reset(&diag_buf);
	for (size_t i = 0; i < buf_count(&d->diags, struct diag); i++) {
		struct diag *g = &buf_at(&d->diags, struct diag, i);
		buf_printf(&diag_buf, "%s\n", g->message);
		if (g->hint)
			buf_printf(&diag_buf, "hint: %s\n", g->hint);
	}
	return buf_cstr(&diag_buf);
}

static int diag_has(struct diag_ctx *d, const char *needle)
{
	return strstr(diag_text(d), needle) != NULL;
}

static void diag_reset(struct diag_ctx *d)
{
	diag_release(d);
	diag_init(d);
}

/* Nothing a refusal says may hold the passphrase or a piece of the plaintext. */
static int diag_clean(struct diag_ctx *d)
{
	const char *t = diag_text(d);

	return !strstr(t, PASS) && !strstr(t, "correct horse") && !strstr(t, "hunter2");
}

static void seal_or_die(struct crypt *c, const char *plain, size_t len, struct buf *out)
{
	struct diag_ctx d;

	diag_init(&d);
	if (crypt_seal(c, "state", plain, len, out, &d) < 0) {
		fprintf(stderr, "crypt_seal failed: %s", diag_text(&d));
		exit(2);
	}
	diag_release(&d);
}

/*
 * The first file: SECRET sealed with PASS, once for each KDF, for the tests that need a
 * sealed file, or a struct crypt with a master, but not a new master. crypt_init_warm() gives
 * one that opened it: one derivation, counted in its derivations as a seal's would be, which
 * reuses the master (and the KDF salt) of the first file. That master is so derived once for
 * all of them (their opens are the memo's above), and the KDF salts that their changes try
 * are the same from one test to the next. Where a new master is the point (a round trip from
 * nothing, two struct crypts, another master, a change of KDF), a test seals its own.
 */
static struct buf first_files[CRYPT_KDF_SCRYPT + 1];

static const struct buf *first_file(int kdf)
{
	struct buf *b = &first_files[kdf];

	if (!b->len) {
		struct crypt c;
		crypt_init(&c, PASS, kdf);
		seal_or_die(&c, SECRET, strlen(SECRET), b);
		crypt_release(&c);
	}
	return b;
}

static void crypt_init_warm(struct crypt *c, int kdf)
{
	const struct buf *first = first_file(kdf);
	struct buf out = BUF_INIT;
	struct diag_ctx d;

	diag_init(&d);
	crypt_init(c, PASS, kdf);
	if (crypt_open(c, "state", first->data, first->len, &out, &d) < 0 ||
	    strcmp(buf_cstr(&out), SECRET)) {
		fprintf(stderr, "crypt_open of the first file failed: %s", diag_text(&d));
		exit(2);
	}
	buf_release(&out);
	diag_release(&d);
}

/* Opens data with c into a buffer that already holds "keep"; checks that a failure leaves
 * it so and says nothing secret. Returns crypt_open's result; the error stays in d. */
static int open_into_kept(struct crypt *c, const char *data, size_t len, struct diag_ctx *d,
			  const char *what)
{
	struct buf out = BUF_INIT;
	int r;

	buf_addstr(&out, "keep");
	diag_reset(d);
	r = crypt_open(c, "state", data, len, &out, d);
	if (r < 0) {
		CHECK(out.len == 4 && !memcmp(out.data, "keep", 5),
		      "%s: a failed open changed the output (%zu bytes)", what, out.len);
		CHECK(d->errors == 1, "%s: %u errors", what, d->errors);
		CHECK(diag_clean(d), "%s: the message shows a secret: %s", what, diag_text(d));
	}
	buf_release(&out);
	return r;
}

static void pbkdf2_or_die(const unsigned char *salt, size_t salt_len, unsigned long iter,
			  unsigned char out[32])
{
	if (PKCS5_PBKDF2_HMAC(PASS, (int)strlen(PASS), salt, (int)salt_len, (int)iter,
			      EVP_sha256(), 32, out) != 1) {
		fprintf(stderr, "PKCS5_PBKDF2_HMAC failed\n");
		exit(2);
	}
}

/* scrypt with OpenSSL's own call, checked against RFC 7914's vector by test_scrypt_by_hand() */
static void scrypt_or_die(const char *pass, const unsigned char *salt, size_t salt_len,
			  unsigned log2_n, unsigned r, unsigned p, unsigned char *out, size_t out_len)
{
	uint64_t n = (uint64_t)1 << log2_n;

	if (EVP_PBE_scrypt(pass, strlen(pass), salt, salt_len, n, r, p,
			   128 * (uint64_t)r * (n + 2 + p), out, out_len) != 1) {
		fprintf(stderr, "EVP_PBE_scrypt failed\n");
		exit(2);
	}
}

/* HKDF-SHA256 as RFC 5869 writes it, from HMAC alone (out_len <= 64): extract, then expand. */
static void hkdf_by_hand(const unsigned char *ikm, size_t ikm_len, const unsigned char *salt,
			 size_t salt_len, const unsigned char *info, size_t info_len,
			 unsigned char *out, size_t out_len)
{
	unsigned char prk[32], t[32], msg[32 + 256];
	unsigned int n;
	size_t done = 0, m = 0;

	if (!HMAC(EVP_sha256(), salt, (int)salt_len, ikm, ikm_len, prk, &n) || n != 32 ||
	    info_len > 200 || out_len > 64) {
		fprintf(stderr, "HMAC failed\n");
		exit(2);
	}
	for (unsigned char i = 1; done < out_len; i++) {
		/* T(i) = HMAC(PRK, T(i-1) | info | i) */
		size_t k = 0;
		if (i > 1)
			memcpy(msg, t, 32), k = 32;
		memcpy(msg + k, info, info_len);
		msg[k + info_len] = i;
		if (!HMAC(EVP_sha256(), prk, 32, msg, k + info_len + 1, t, &n) || n != 32) {
			fprintf(stderr, "HMAC failed\n");
			exit(2);
		}
		m = out_len - done < 32 ? out_len - done : 32;
		memcpy(out + done, t, m);
		done += m;
	}
}

/* One AES-256-GCM pass with plain OpenSSL calls, header as AAD. Returns 1 when it works
 * (for decryption: when the tag matches). */
static int gcm_by_hand(int enc, const unsigned char key[32], const unsigned char *header,
		       size_t header_len, const unsigned char *nonce, size_t nonce_len,
		       const unsigned char *in, size_t len, unsigned char *out,
		       unsigned char tag[16])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n, ok = 0;

	if (ctx && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)nonce_len, NULL) == 1 &&
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) == 1 &&
	    EVP_CipherUpdate(ctx, NULL, &n, header, (int)header_len) == 1 &&
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1 && (size_t)n == len &&
	    (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1) &&
	    EVP_CipherFinal_ex(ctx, out + n, &n) == 1 &&
	    (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1))
		ok = 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

/*
 * A version 1 file, as the previous stk wrote it, built from the documented layout: a
 * 42-byte header (magic, 1, KDF 1, iterations, 16 and the salt, 12 and the nonce), the
 * plaintext under AES-256-GCM with key = PBKDF2(passphrase, salt, iterations) and the
 * header as AAD, then the tag.
 */
static void seal_v1_by_hand(const unsigned char salt[16], unsigned long iter, const char *plain,
			    size_t len, struct buf *out)
{
	unsigned char h[V1_HEADER_LEN], key[32], tag[16];
	unsigned char *ct = malloc(len + 16);

	memcpy(h, "STKENC", 6);
	h[6] = 1;
	h[7] = 1;
	h[8] = (unsigned char)(iter >> 24);
	h[9] = (unsigned char)(iter >> 16);
	h[10] = (unsigned char)(iter >> 8);
	h[11] = (unsigned char)iter;
	h[12] = 16;
	memcpy(h + 13, salt, 16);
	h[29] = 12;
	if (!ct || RAND_bytes(h + 30, 12) != 1) {
		fprintf(stderr, "malloc or RAND_bytes failed\n");
		exit(2);
	}
	pbkdf2_or_die(salt, 16, iter, key);
	if (!gcm_by_hand(1, key, h, sizeof h, h + 30, 12, (const unsigned char *)plain, len, ct,
			 tag)) {
		fprintf(stderr, "AES-256-GCM failed\n");
		exit(2);
	}
	buf_add(out, h, sizeof h);
	buf_add(out, ct, len);
	buf_add(out, tag, 16);
	free(ct);
}

/* ---- tests ---- */

/* One call of either KDF, for test_kdf_memo() */
struct kdf_try {
	const char *what;
	int kdf, first, fails;  /* first: a new call; otherwise the last first with a change */
	const char *pass;
	size_t pass_len;
	const unsigned char *salt;
	size_t salt_len;
	uint64_t cost[4];  /* iterations and 1 for SHA-512 (not SHA-256); N, r, p, maxmem */
	size_t out_len;
};

/* Makes the call t, through the memo or (real) straight to OpenSSL */
static int kdf_try_run(const struct kdf_try *t, int real, unsigned char *out)
{
	const uint64_t *k = t->cost;

	if (t->kdf == CRYPT_KDF_SCRYPT)
		return (real ? __real_EVP_PBE_scrypt : EVP_PBE_scrypt)(t->pass, t->pass_len,
			t->salt, t->salt_len, k[0], k[1], k[2], k[3], out, t->out_len);
	return (real ? __real_PKCS5_PBKDF2_HMAC : PKCS5_PBKDF2_HMAC)(t->pass, (int)t->pass_len,
		t->salt, (int)t->salt_len, (int)k[0], k[1] ? EVP_sha512() : EVP_sha256(),
		(int)t->out_len, out);
}

/* The memo of OpenSSL's KDFs answers only the very same call, with what OpenSSL computes:
 * a call with any input changed is computed anew. At a low cost: these calls are the test's. */
static void test_kdf_memo(void)
{
	static const unsigned char salt[16] = "0123456789abcdef", salt2[16] = "0123456789abcdeF";
	enum { P = CRYPT_KDF_PBKDF2_SHA256, S = CRYPT_KDF_SCRYPT, M = 1 << 24 };
	static const struct kdf_try tries[] = {
		{ "PBKDF2", P, 1, 0, PASS, 28, salt, 16, { 1000 }, 32 },
		{ "PBKDF2, other passphrase", P, 0, 0, WRONG, 29, salt, 16, { 1000 }, 32 },
		{ "PBKDF2, a shorter passphrase", P, 0, 0, PASS, 27, salt, 16, { 1000 }, 32 },
		{ "PBKDF2, other salt", P, 0, 0, PASS, 28, salt2, 16, { 1000 }, 32 },
		{ "PBKDF2, a shorter salt", P, 0, 0, PASS, 28, salt, 15, { 1000 }, 32 },
		{ "PBKDF2, other count", P, 0, 0, PASS, 28, salt, 16, { 1001 }, 32 },
		{ "PBKDF2, other digest", P, 0, 0, PASS, 28, salt, 16, { 1000, 1 }, 32 },
		{ "PBKDF2, a shorter key", P, 0, 0, PASS, 28, salt, 16, { 1000 }, 16 },
		{ "scrypt", S, 1, 0, PASS, 28, salt, 16, { 1024, 8, 1, M }, 32 },
		{ "scrypt, other passphrase", S, 0, 0, WRONG, 29, salt, 16, { 1024, 8, 1, M }, 32 },
		{ "scrypt, other salt", S, 0, 0, PASS, 28, salt2, 16, { 1024, 8, 1, M }, 32 },
		{ "scrypt, other N", S, 0, 0, PASS, 28, salt, 16, { 2048, 8, 1, M }, 32 },
		{ "scrypt, other r", S, 0, 0, PASS, 28, salt, 16, { 1024, 4, 1, M }, 32 },
		{ "scrypt, other p", S, 0, 0, PASS, 28, salt, 16, { 1024, 8, 2, M }, 32 },
		/* maxmem decides only whether it fails: here below what N = 1024, r = 8 take */
		{ "scrypt, low maxmem", S, 0, 1, PASS, 28, salt, 16, { 1024, 8, 1, 1 << 20 }, 32 },
	};
	unsigned char first[32] = { 0 }, out[32], again[32], real[32];

	for (size_t i = 0; i < sizeof tries / sizeof *tries; i++) {
		const struct kdf_try *t = &tries[i];
		unsigned long computed = kdf_computed, reused = kdf_reused;
		int r = kdf_try_run(t, 0, out);

		if (t->first) {
			/* computed, then the same call again: reused, and what OpenSSL says */
			memcpy(first, out, sizeof first);
			CHECK(r == 1 && kdf_try_run(t, 0, again) == 1 &&
			      kdf_try_run(t, 1, real) == 1 && !memcmp(again, first, 32) &&
			      !memcmp(real, first, 32) && kdf_computed == computed + 1 &&
			      kdf_reused == reused + 1, "%s: twice: %lu computed, %lu reused",
			      t->what, kdf_computed - computed, kdf_reused - reused);
		} else {
			CHECK(r == !t->fails && kdf_computed == computed + 1 &&
			      kdf_reused == reused &&
			      (t->fails || t->out_len != 32 || memcmp(out, first, 32)),
			      "%s: returned %d, %lu computed, %lu reused", t->what, r,
			      kdf_computed - computed, kdf_reused - reused);
		}
	}
	ERR_clear_error();
}

/* The test's own HKDF against RFC 5869's test case 1, so that the hand decryption below
 * checks crypt.c against HKDF itself and not against a copy of its mistakes. */
static void test_hkdf_by_hand(void)
{
	static const unsigned char okm[42] = {
		0x3c, 0xb2, 0x5f, 0x25, 0xfa, 0xac, 0xd5, 0x7a, 0x90, 0x43, 0x4f, 0x64, 0xd0, 0x36,
		0x2f, 0x2a, 0x2d, 0x2d, 0x0a, 0x90, 0xcf, 0x1a, 0x5a, 0x4c, 0x5d, 0xb0, 0x2d, 0x56,
		0xec, 0xc4, 0xc5, 0xbf, 0x34, 0x00, 0x72, 0x08, 0xd5, 0xb8, 0x87, 0x18, 0x58, 0x65,
	};
	unsigned char ikm[22], salt[13], info[10], out[42];

	memset(ikm, 0x0b, sizeof ikm);
	for (unsigned i = 0; i < sizeof salt; i++)
		salt[i] = (unsigned char)i;
	for (unsigned i = 0; i < sizeof info; i++)
		info[i] = (unsigned char)(0xf0 + i);
	hkdf_by_hand(ikm, sizeof ikm, salt, sizeof salt, info, sizeof info, out, sizeof out);
	CHECK(!memcmp(out, okm, sizeof okm), "RFC 5869 test case 1");
}

static void test_round_trip(void)
{
	static const size_t sizes[] = { 1, 31, 4096, 1 << 20 };
	struct crypt c;
	struct buf sealed = BUF_INIT, plain = BUF_INIT, back = BUF_INIT;
	struct diag_ctx d;

	diag_init(&d);
	crypt_init(&c, PASS, CRYPT_KDF_PBKDF2_SHA256);
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		buf_reset(&plain);
		buf_reset(&sealed);
		buf_reset(&back);
		/* every byte value, NUL included */
		for (size_t j = 0; j < sizes[i]; j++)
			buf_addch(&plain, (int)((j * 7 + i) & 0xff));
		seal_or_die(&c, plain.data, plain.len, &sealed);
		CHECK(sealed.len == plain.len + CRYPT_OVERHEAD, "%zu bytes sealed into %zu",
		      plain.len, sealed.len);
		CHECK(crypt_is_sealed(sealed.data, sealed.len), "%zu bytes: no magic", plain.len);
		if (plain.len >= 16)
			CHECK(!memmem(sealed.data, sealed.len, plain.data, 16),
			      "%zu bytes: the plaintext shows in the sealed file", plain.len);
		CHECK(crypt_open(&c, "state", sealed.data, sealed.len, &back, &d) == 0,
		      "%zu bytes do not open: %s", plain.len, diag_text(&d));
		CHECK(back.len == plain.len && !memcmp(back.data, plain.data, plain.len),
		      "%zu bytes do not read back", plain.len);
	}
	/* four seals and four opens, one PBKDF2 */
	CHECK(c.derivations == 1, "one struct crypt derived %lu keys", c.derivations);
	crypt_release(&c);

	/* a cold struct crypt, as the next run has */
	crypt_init(&c, PASS, CRYPT_KDF_PBKDF2_SHA256);
	buf_reset(&back);
	CHECK(crypt_open(&c, "state", sealed.data, sealed.len, &back, &d) == 0 &&
	      back.len == plain.len && !memcmp(back.data, plain.data, plain.len),
	      "a new struct crypt does not open it: %s", diag_text(&d));
	CHECK(c.derivations == 1, "a cold open derived %lu keys", c.derivations);
	crypt_release(&c);
	CHECK(c.passphrase == NULL && !c.have_master, "release left the passphrase or the key");

	/* the header, field by field */
	{
		const unsigned char *h = (const unsigned char *)sealed.data;
		CHECK(!memcmp(h, "STKENC", 6), "magic");
		CHECK(h[OFF_VERSION] == 2 && h[OFF_KDF] == 1, "version %u, kdf %u",
		      h[OFF_VERSION], h[OFF_KDF]);
		CHECK(h[OFF_ITER] == 0x00 && h[OFF_ITER + 1] == 0x09 && h[OFF_ITER + 2] == 0x27 &&
		      h[OFF_ITER + 3] == 0xc0, "iterations are not 600000 big-endian");
		CHECK(h[OFF_KDF_SALT_LEN] == 16 && h[OFF_FILE_SALT_LEN] == 16 &&
		      h[OFF_NONCE_LEN] == 12, "KDF salt %u, file salt %u, nonce %u",
		      h[OFF_KDF_SALT_LEN], h[OFF_FILE_SALT_LEN], h[OFF_NONCE_LEN]);
		CHECK(CRYPT_HEADER_LEN == HEADER_LEN && CRYPT_OVERHEAD == 75 &&
		      CRYPT_HEADER_V1_LEN == V1_HEADER_LEN && CRYPT_OVERHEAD_V1 == 58,
		      "header %d, overhead %d; version 1: %d, %d", CRYPT_HEADER_LEN, CRYPT_OVERHEAD,
		      CRYPT_HEADER_V1_LEN, CRYPT_OVERHEAD_V1);
	}
	CHECK(d.errors == 0, "errors: %s", diag_text(&d));
	buf_release(&sealed);
	buf_release(&plain);
	buf_release(&back);
	diag_release(&d);
}

static void test_appends(void)
{
	struct crypt c;
	struct buf sealed = BUF_INIT, back = BUF_INIT;
	struct diag_ctx d;

	diag_init(&d);
	crypt_init_warm(&c, CRYPT_KDF_PBKDF2_SHA256);
	buf_addstr(&sealed, "before");
	seal_or_die(&c, SECRET, strlen(SECRET), &sealed);
	CHECK(sealed.len == 6 + strlen(SECRET) + CRYPT_OVERHEAD && !memcmp(sealed.data, "before", 6),
	      "seal does not append");
	buf_addstr(&back, "head:");
	CHECK(crypt_open(&c, "state", sealed.data + 6, sealed.len - 6, &back, &d) == 0,
	      "open: %s", diag_text(&d));
	CHECK(!strcmp(buf_cstr(&back), "head:" SECRET), "open does not append: %s", back.data);
	crypt_release(&c);
	buf_release(&sealed);
	buf_release(&back);
	diag_release(&d);
}

static void test_empty_plaintext(void)
{
	struct crypt c;
	struct buf sealed = BUF_INIT, back = BUF_INIT;
	struct diag_ctx d;

	diag_init(&d);
	crypt_init_warm(&c, CRYPT_KDF_PBKDF2_SHA256);
	seal_or_die(&c, "", 0, &sealed);
	CHECK(sealed.len == CRYPT_OVERHEAD, "empty plaintext sealed into %zu bytes", sealed.len);
	crypt_release(&c);
	crypt_init(&c, PASS, CRYPT_KDF_PBKDF2_SHA256);
	CHECK(crypt_open(&c, "state", sealed.data, sealed.len, &back, &d) == 0 && back.len == 0,
	      "empty plaintext: %s", diag_text(&d));
	crypt_release(&c);

	/* even an empty file is authenticated */
	crypt_init(&c, WRONG, CRYPT_KDF_PBKDF2_SHA256);
	CHECK(open_into_kept(&c, sealed.data, sealed.len, &d, "empty, wrong passphrase") < 0 &&
	      diag_has(&d, WRONG_MSG), "an empty plaintext opens with any passphrase");
	crypt_release(&c);
	buf_release(&sealed);
	buf_release(&back);
	diag_release(&d);
}

static void test_fresh_salt_and_nonce(void)
{
	enum { MANY = 64 };
	struct crypt a, b;
	struct buf s1 = BUF_INIT, s2 = BUF_INIT, s3 = BUF_INIT, many = BUF_INIT;
	const unsigned char *h1, *h2, *h3;
	size_t same_salt = 0, same_nonce = 0, changed_kdf = 0, step;

	crypt_init_warm(&a, CRYPT_KDF_PBKDF2_SHA256);
	crypt_init(&b, PASS, CRYPT_KDF_PBKDF2_SHA256);
	seal_or_die(&a, SECRET, strlen(SECRET), &s1);
	seal_or_die(&b, SECRET, strlen(SECRET), &s2);
	seal_or_die(&a, SECRET, strlen(SECRET), &s3);
	h1 = (const unsigned char *)s1.data;
	h2 = (const unsigned char *)s2.data;
	h3 = (const unsigned char *)s3.data;

	/* two struct crypts: two masters, so two KDF salts, and everything else differs too */
	CHECK(s1.len == s2.len && memcmp(s1.data, s2.data, s1.len), "two seals are the same");
	CHECK(memcmp(h1 + OFF_KDF_SALT, h2 + OFF_KDF_SALT, 16), "two masters share a KDF salt");
	CHECK(memcmp(h1 + OFF_FILE_SALT, h2 + OFF_FILE_SALT, 16), "two seals share a file salt");
	CHECK(memcmp(h1 + OFF_NONCE, h2 + OFF_NONCE, 12), "two seals share a nonce");
	CHECK(memcmp(s1.data + CRYPT_HEADER_LEN, s2.data + CRYPT_HEADER_LEN,
		     s1.len - CRYPT_HEADER_LEN), "same ciphertext under two masters");

	/* one struct crypt keeps its master (and so its KDF salt), but every seal has a file
	 * salt and a nonce of its own */
	CHECK(!memcmp(h1 + OFF_KDF_SALT, h3 + OFF_KDF_SALT, 16), "the kept master got a new salt");
	CHECK(memcmp(h1 + OFF_FILE_SALT, h3 + OFF_FILE_SALT, 16),
	      "one struct crypt sealed twice with one file salt");
	CHECK(memcmp(h1 + OFF_NONCE, h3 + OFF_NONCE, 12), "one struct crypt sealed twice with one nonce");
	CHECK(memcmp(s1.data + CRYPT_HEADER_LEN, s3.data + CRYPT_HEADER_LEN,
		     s1.len - CRYPT_HEADER_LEN), "same ciphertext from one struct crypt");
	CHECK(a.derivations == 1 && b.derivations == 1, "derived %lu and %lu keys",
	      a.derivations, b.derivations);

	/* and so on for many seals, as one apply run makes: still one PBKDF2 */
	for (int i = 0; i < MANY; i++)
		seal_or_die(&a, "x", 1, &many);
	step = 1 + CRYPT_OVERHEAD;
	for (int i = 0; i < MANY; i++) {
		const unsigned char *hi = (const unsigned char *)many.data + i * step;
		if (memcmp(hi + OFF_KDF_SALT, h1 + OFF_KDF_SALT, 16))
			changed_kdf++;
		for (int j = 0; j < i; j++) {
			const unsigned char *hj = (const unsigned char *)many.data + j * step;
			same_salt += !memcmp(hi + OFF_FILE_SALT, hj + OFF_FILE_SALT, 16);
			same_nonce += !memcmp(hi + OFF_NONCE, hj + OFF_NONCE, 12);
		}
	}
	CHECK(same_salt == 0 && same_nonce == 0 && changed_kdf == 0,
	      "%d seals: %zu repeated file salts, %zu repeated nonces, %zu other KDF salts", MANY,
	      same_salt, same_nonce, changed_kdf);
	CHECK(a.derivations == 1, "%d more seals derived %lu keys", MANY, a.derivations);
	crypt_release(&a);
	crypt_release(&b);
	buf_release(&s1);
	buf_release(&s2);
	buf_release(&s3);
	buf_release(&many);
}

/* After an open, the next seal reuses the file's master: no second derivation, but a file
 * salt and nonce of its own. */
static void test_key_kept_after_open(void)
{
	struct crypt a, b;
	struct buf s1 = BUF_INIT, s2 = BUF_INIT, other = BUF_INIT, back = BUF_INIT;
	struct diag_ctx d;

	diag_init(&d);
	crypt_init_warm(&a, CRYPT_KDF_PBKDF2_SHA256);
	seal_or_die(&a, SECRET, strlen(SECRET), &s1);
	crypt_release(&a);

	crypt_init(&b, PASS, CRYPT_KDF_PBKDF2_SHA256);
	CHECK(crypt_open(&b, "state", s1.data, s1.len, &back, &d) == 0, "open: %s", diag_text(&d));
	CHECK(b.have_master && !memcmp(b.kdf_salt, s1.data + OFF_KDF_SALT, 16) &&
	      b.params == 600000, "the opened file's master was not kept");
	seal_or_die(&b, "next", 4, &s2);
	CHECK(!memcmp(s1.data + OFF_KDF_SALT, s2.data + OFF_KDF_SALT, 16),
	      "the next seal changed the KDF salt");
	CHECK(memcmp(s1.data + OFF_FILE_SALT, s2.data + OFF_FILE_SALT, 16),
	      "the next seal reused the file salt");
	CHECK(memcmp(s1.data + OFF_NONCE, s2.data + OFF_NONCE, 12), "the next seal reused a nonce");
	/* apply re-reads what it wrote: another file salt, the same master */
	buf_reset(&back);
	CHECK(crypt_open(&b, "state", s2.data, s2.len, &back, &d) == 0 &&
	      !strcmp(buf_cstr(&back), "next"), "re-read: %s", diag_text(&d));
	CHECK(b.derivations == 1, "open, seal and re-read derived %lu keys", b.derivations);

	/* a file of another master (another KDF salt) costs a derivation, and is kept */
	crypt_init(&a, PASS, CRYPT_KDF_PBKDF2_SHA256);
	seal_or_die(&a, "other", 5, &other);
	crypt_release(&a);
	buf_reset(&back);
	CHECK(crypt_open(&b, "state", other.data, other.len, &back, &d) == 0 &&
	      b.derivations == 2 && !memcmp(b.kdf_salt, other.data + OFF_KDF_SALT, 16),
	      "another master: %lu derivations: %s", b.derivations, diag_text(&d));
	crypt_release(&b);

	crypt_init(&a, PASS, CRYPT_KDF_PBKDF2_SHA256);
	buf_reset(&back);
	CHECK(crypt_open(&a, "state", s2.data, s2.len, &back, &d) == 0 &&
	      !strcmp(buf_cstr(&back), "next"), "the next seal does not open: %s", diag_text(&d));
	crypt_release(&a);
	buf_release(&s1);
	buf_release(&s2);
	buf_release(&other);
	buf_release(&back);
	diag_release(&d);
}

/* A file sealed with kdf, opened with the wrong passphrase, and an empty one */
static void test_wrong_passphrase(int kdf)
{
	struct crypt good, bad;
	struct buf sealed = BUF_INIT;
	struct diag_ctx d;

	diag_init(&d);
	crypt_init_warm(&good, kdf);
	seal_or_die(&good, SECRET, strlen(SECRET), &sealed);

	crypt_init(&bad, WRONG, kdf);
	CHECK(open_into_kept(&bad, sealed.data, sealed.len, &d, "wrong passphrase") < 0,
	      "a wrong passphrase opens the state");
	CHECK(diag_has(&d, WRONG_MSG), "message: %s", diag_text(&d));
	CHECK(diag_has(&d, "STK_STATE_PASSPHRASE") && diag_has(&d, "encryption block"),
	      "the hint does not say where the passphrase comes from: %s", diag_text(&d));
	CHECK(!bad.have_master && bad.derivations == 1, "KDF %d: a failed open kept a key", kdf);

	/* what names the file */
	diag_reset(&d);
	{
		struct buf out = BUF_INIT;
		CHECK(crypt_open(&bad, "saved plan plan.out", sealed.data, sealed.len, &out, &d) < 0
		      && diag_has(&d, "the saved plan plan.out is encrypted and this passphrase "
				  "does not open it"), "what: %s", diag_text(&d));
		buf_release(&out);
	}
	crypt_release(&bad);

	/* a failed open does not spoil the good key */
	CHECK(open_into_kept(&good, sealed.data, sealed.len, &d, "right passphrase") == 0,
	      "the right passphrase fails: %s", diag_text(&d));
	crypt_release(&good);

	/* an empty passphrase is refused both ways */
	crypt_init(&bad, "", kdf);
	{
		struct buf out = BUF_INIT;
		diag_reset(&d);
		CHECK(crypt_seal(&bad, "state", SECRET, strlen(SECRET), &out, &d) < 0 &&
		      out.len == 0 && diag_has(&d, "passphrase is empty"),
		      "seal with an empty passphrase: %s", diag_text(&d));
		buf_release(&out);
	}
	CHECK(open_into_kept(&bad, sealed.data, sealed.len, &d, "empty passphrase") < 0 &&
	      diag_has(&d, "passphrase is empty"), "open with an empty passphrase: %s",
	      diag_text(&d));
	crypt_release(&bad);
	buf_release(&sealed);
	diag_release(&d);
}

/* Every single-byte change fails: header (authenticated as AAD), ciphertext and tag; in a
 * file sealed with kdf. */
static void test_every_byte_flip(int kdf)
{
	struct crypt warm, cold;
	struct buf sealed = BUF_INIT, copy = BUF_INIT;
	struct diag_ctx d;
	size_t opened = 0, n;

	diag_init(&d);
	crypt_init_warm(&warm, kdf);
	seal_or_die(&warm, SECRET, strlen(SECRET), &sealed);
	n = sealed.len;

	/*
	 * With the master kept (the struct crypt that sealed it), every position, each flipped
	 * by the low bit: this exercises the tag itself, as only the KDF salt and the accepted
	 * parameters cost a derivation (the file salt costs only an HKDF).
	 */
	for (size_t i = 0; i < n; i++) {
		char what[48];
		buf_reset(&copy);
		buf_add(&copy, sealed.data, n);
		copy.data[i] ^= 0x01;
		snprintf(what, sizeof what, "KDF %d, byte %zu", kdf, i);
		if (open_into_kept(&warm, copy.data, n, &d, what) == 0)
			opened++, CHECK(0, "%s: a change went unnoticed", what);
		/* past the fields checked by name, the tag is what refuses it */
		if (i >= OFF_KDF_SALT && i != OFF_FILE_SALT_LEN && i != OFF_NONCE_LEN)
			CHECK(diag_has(&d, WRONG_MSG), "byte %zu: %s", i, diag_text(&d));
	}
	CHECK(opened == 0, "%zu of %zu changes opened", opened, n);
	/* The first file's open, 16 KDF salts, and the accepted parameters: 600001 iterations
	 * (the other low-bit flips of the count are out of range), or scrypt's N = 2^17, r = 9
	 * and p = 3 (a fourth byte of 1 is refused). Nothing else derived a key. */
	CHECK(warm.derivations == 1 + 16 + (kdf == CRYPT_KDF_SCRYPT ? 3 : 1),
	      "KDF %d: %lu derivations", kdf, warm.derivations);

	/* A new struct crypt, as the next run has: a sample of positions, high bit. */
	{
		const size_t at[] = { 0, 5, OFF_VERSION, OFF_KDF, OFF_ITER, OFF_ITER + 3,
			OFF_KDF_SALT_LEN, OFF_KDF_SALT, OFF_KDF_SALT + 15, OFF_FILE_SALT_LEN,
			OFF_FILE_SALT, OFF_FILE_SALT + 15, OFF_NONCE_LEN, OFF_NONCE, OFF_NONCE + 11,
			CRYPT_HEADER_LEN, n - CRYPT_TAG_LEN - 1, n - CRYPT_TAG_LEN, n - 1 };
		for (size_t k = 0; k < sizeof at / sizeof *at; k++) {
			char what[32];
			buf_reset(&copy);
			buf_add(&copy, sealed.data, n);
			copy.data[at[k]] ^= (char)0x80;
			snprintf(what, sizeof what, "cold byte %zu", at[k]);
			crypt_init(&cold, PASS, kdf);
			CHECK(open_into_kept(&cold, copy.data, n, &d, what) < 0,
			      "a change at byte %zu went unnoticed by a new key", at[k]);
			crypt_release(&cold);
		}
	}

	/* nothing above spoilt the kept key */
	CHECK(open_into_kept(&warm, sealed.data, n, &d, "original") == 0,
	      "the original no longer opens: %s", diag_text(&d));
	crypt_release(&warm);
	buf_release(&sealed);
	buf_release(&copy);
	diag_release(&d);
}

static void test_truncation(void)
{
	struct crypt c;
	struct buf sealed = BUF_INIT, longer = BUF_INIT;
	struct diag_ctx d;

	diag_init(&d);
	crypt_init_warm(&c, CRYPT_KDF_PBKDF2_SHA256);
	seal_or_die(&c, SECRET, strlen(SECRET), &sealed);
	for (size_t len = 0; len < sealed.len; len++) {
		char what[32];
		snprintf(what, sizeof what, "%zu bytes", len);
		CHECK(open_into_kept(&c, sealed.data, len, &d, what) < 0,
		      "cut to %zu of %zu bytes, it opens", len, sealed.len);
		if (len < CRYPT_MAGIC_LEN)
			CHECK(diag_has(&d, "is not encrypted"), "%zu: %s", len, diag_text(&d));
		else if (len < CRYPT_OVERHEAD)
			CHECK(diag_has(&d, "is encrypted but truncated") &&
			      diag_has(&d, "an empty one takes 75"), "%zu: %s", len, diag_text(&d));
		else
			CHECK(diag_has(&d, WRONG_MSG), "%zu: %s", len, diag_text(&d));
	}
	/* and a byte too many */
	buf_add(&longer, sealed.data, sealed.len);
	buf_addch(&longer, 0);
	CHECK(open_into_kept(&c, longer.data, longer.len, &d, "extended") < 0 &&
	      diag_has(&d, WRONG_MSG), "a byte appended: %s", diag_text(&d));
	crypt_release(&c);
	buf_release(&sealed);
	buf_release(&longer);
	diag_release(&d);
}

static void set_iterations(struct buf *b, unsigned long n)
{
	unsigned char *p = (unsigned char *)b->data + OFF_ITER;

	p[0] = (unsigned char)(n >> 24);
	p[1] = (unsigned char)(n >> 16);
	p[2] = (unsigned char)(n >> 8);
	p[3] = (unsigned char)n;
}

static void test_header_refusals(void)
{
	static const unsigned long bad_iter[] = { 0, 1, 1000, 599999, 10000001, 0xffffffffUL };
	struct crypt c;
	struct buf sealed = BUF_INIT, copy = BUF_INIT;
	struct diag_ctx d;

	diag_init(&d);
	crypt_init_warm(&c, CRYPT_KDF_PBKDF2_SHA256);
	seal_or_die(&c, SECRET, strlen(SECRET), &sealed);
	crypt_release(&c);

	/* refused by their count, before any key is derived (a cold struct each time) */
	for (size_t i = 0; i < sizeof bad_iter / sizeof *bad_iter; i++) {
		char what[48], count[64];
		buf_reset(&copy);
		buf_add(&copy, sealed.data, sealed.len);
		set_iterations(&copy, bad_iter[i]);
		snprintf(what, sizeof what, "%lu iterations", bad_iter[i]);
		snprintf(count, sizeof count, "with %lu PBKDF2 iterations", bad_iter[i]);
		crypt_init(&c, PASS, CRYPT_KDF_PBKDF2_SHA256);
		CHECK(open_into_kept(&c, copy.data, copy.len, &d, what) < 0 &&
		      diag_has(&d, count) && diag_has(&d, "600000 to 10000000"),
		      "%s: %s", what, diag_text(&d));
		CHECK(!c.have_master && c.derivations == 0, "%s: a key was derived", what);
		crypt_release(&c);
	}

	/* an unknown version, an unknown KDF, other salt and nonce sizes */
	{
		static const struct { size_t at; unsigned char v; const char *msg; } cases[] = {
			{ OFF_VERSION, 3, "encrypted in format version 3, which this stk does not "
					  "read (it reads versions 1 and 2)" },
			{ OFF_VERSION, 0, "format version 0" },
			{ OFF_VERSION, 255, "format version 255" },
			{ OFF_KDF, 3, "key derivation function 3, which this stk does not know (it "
				      "knows 1, PBKDF2-HMAC-SHA256, and 2, scrypt)" },
			{ OFF_KDF, 0, "key derivation function 0" },
			/* scrypt's id with PBKDF2's count: 00 09 27 c0 is no scrypt cost */
			{ OFF_KDF, 2, "scrypt parameters that are not valid: log2(N) 0, r 9, p 39 and "
				      "a fourth byte of 192" },
			{ OFF_KDF_SALT_LEN, 32, "a 32-byte KDF salt, a 16-byte file salt and a 12-byte "
					       "nonce; format version 2 has 16, 16 and 12" },
			{ OFF_FILE_SALT_LEN, 32, "a 32-byte file salt" },
			{ OFF_NONCE_LEN, 16, "a 16-byte nonce" },
		};
		for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
			buf_reset(&copy);
			buf_add(&copy, sealed.data, sealed.len);
			copy.data[cases[i].at] = (char)cases[i].v;
			crypt_init(&c, PASS, CRYPT_KDF_PBKDF2_SHA256);
			CHECK(open_into_kept(&c, copy.data, copy.len, &d, cases[i].msg) < 0 &&
			      diag_has(&d, cases[i].msg), "%s: %s", cases[i].msg, diag_text(&d));
			crypt_release(&c);
		}
		/* the version is named even in a file too short for the rest, and decides how
		 * long the shortest file is */
		crypt_init(&c, PASS, CRYPT_KDF_PBKDF2_SHA256);
		CHECK(open_into_kept(&c, "STKENC\x03", 7, &d, "short v3") < 0 &&
		      diag_has(&d, "format version 3"), "short v3: %s", diag_text(&d));
		CHECK(open_into_kept(&c, "STKENC\x02", 7, &d, "short v2") < 0 &&
		      diag_has(&d, "truncated: 7 bytes, where even an empty one takes 75"),
		      "short v2: %s", diag_text(&d));
		CHECK(open_into_kept(&c, "STKENC\x01", 7, &d, "short v1") < 0 &&
		      diag_has(&d, "truncated: 7 bytes, where even an empty one takes 58"),
		      "short v1: %s", diag_text(&d));
		crypt_release(&c);
	}

	/* not sealed at all */
	crypt_init(&c, PASS, CRYPT_KDF_PBKDF2_SHA256);
	CHECK(open_into_kept(&c, SECRET, strlen(SECRET), &d, "plain") < 0 &&
	      diag_has(&d, "the state is not encrypted"), "plain: %s", diag_text(&d));
	crypt_release(&c);
	buf_release(&sealed);
	buf_release(&copy);
	diag_release(&d);
}

/* A file sealed with another accepted iteration count opens: the header's count is used. */
static void test_other_iterations(void)
{
	struct crypt c;
	struct buf sealed = BUF_INIT, back = BUF_INIT, copy = BUF_INIT;
	struct diag_ctx d;

	diag_init(&d);
	crypt_init(&c, PASS, CRYPT_KDF_PBKDF2_SHA256);
	memset(c.kdf_salt, 0x5a, sizeof c.kdf_salt);
	c.master_kdf = CRYPT_KDF_PBKDF2_SHA256;
	c.params = 700000;
	pbkdf2_or_die(c.kdf_salt, sizeof c.kdf_salt, c.params, c.master);
	c.have_master = 1;
	seal_or_die(&c, SECRET, strlen(SECRET), &sealed);
	crypt_release(&c);

	crypt_init(&c, PASS, CRYPT_KDF_PBKDF2_SHA256);
	CHECK(crypt_open(&c, "state", sealed.data, sealed.len, &back, &d) == 0 &&
	      !strcmp(buf_cstr(&back), SECRET), "700000 iterations: %s", diag_text(&d));
	CHECK(c.params == 700000, "kept %lu iterations", (unsigned long)c.params);
	crypt_release(&c);

	/* the count is part of the key: the same file claiming 600000 does not open */
	buf_add(&copy, sealed.data, sealed.len);
	set_iterations(&copy, 600000);
	crypt_init(&c, PASS, CRYPT_KDF_PBKDF2_SHA256);
	CHECK(open_into_kept(&c, copy.data, copy.len, &d, "600000 claimed") < 0 &&
	      diag_has(&d, WRONG_MSG), "600000 claimed: %s", diag_text(&d));
	crypt_release(&c);
	buf_release(&sealed);
	buf_release(&back);
	buf_release(&copy);
	diag_release(&d);
}

/* Opens a file sealed with kdf by the layout in docs/state.md alone, with OpenSSL directly:
 * the format is what the documentation says, header authenticated as associated data
 * included: master = PBKDF2-HMAC-SHA256(passphrase, KDF salt, iterations) for KDF 1, or
 * scrypt(passphrase, KDF salt, N = 2^byte 8, r = byte 9, p = byte 10) for KDF 2, file key =
 * HKDF-SHA256(master, file salt, "stk state v2"), AES-256-GCM under the file key. */
static void test_format_by_hand(int kdf)
{
	struct crypt c;
	struct buf sealed = BUF_INIT;
	unsigned char master[32], key[32], tag[16], plain[sizeof SECRET];
	const unsigned char *h;
	unsigned long iter;
	size_t ctlen;

	crypt_init_warm(&c, kdf);
	seal_or_die(&c, SECRET, strlen(SECRET), &sealed);
	h = (const unsigned char *)sealed.data;
	iter = (unsigned long)h[8] << 24 | (unsigned long)h[9] << 16 | (unsigned long)h[10] << 8 |
	       h[11];
	ctlen = sealed.len - 59 - 16;
	CHECK(ctlen == strlen(SECRET), "ciphertext of %zu bytes", ctlen);
	CHECK(h[6] == 2 && h[7] == kdf && h[12] == 16 && h[29] == 16 && h[46] == 12,
	      "KDF %d: the header's sizes", kdf);
	memcpy(tag, h + sealed.len - 16, 16);
	if (kdf == CRYPT_KDF_SCRYPT)
		scrypt_or_die(PASS, h + 13, h[12], h[8], h[9], h[10], master, sizeof master);
	else
		pbkdf2_or_die(h + 13, h[12], iter, master);
	CHECK(!memcmp(master, c.master, 32), "the kept master is not KDF %d's", kdf);
	crypt_release(&c);
	hkdf_by_hand(master, 32, h + 30, h[29], (const unsigned char *)INFO, strlen(INFO), key,
		     32);
	CHECK(gcm_by_hand(0, key, h, 59, h + 47, h[46], h + 59, ctlen, plain, tag) &&
	      !memcmp(plain, SECRET, ctlen), "KDF %d: the documented layout does not decrypt it",
	      kdf);
	/* the master alone (version 1's key) does not */
	CHECK(!gcm_by_hand(0, master, h, 59, h + 47, h[46], h + 59, ctlen, plain, tag),
	      "KDF %d: the master opens a version 2 file", kdf);
	OPENSSL_cleanse(master, sizeof master);
	OPENSSL_cleanse(key, sizeof key);
	buf_release(&sealed);
}

/* Files the previous stk wrote (version 1) still open, and their next seal is version 2
 * under the same master, without a second derivation. */
static void test_version_1(void)
{
	static const unsigned long bad_iter[] = { 599999, 10000001 };
	unsigned char salt[16];
	struct crypt c, warm;
	struct buf v1 = BUF_INIT, v2 = BUF_INIT, back = BUF_INIT, copy = BUF_INIT;
	struct diag_ctx d;
	size_t opened = 0;

	diag_init(&d);
	/* the first file's KDF salt: the same master, and the same salts and count for the
	 * changes below as test_every_byte_flip() tried, so none is derived again */
	memcpy(salt, first_file(CRYPT_KDF_PBKDF2_SHA256)->data + OFF_KDF_SALT, sizeof salt);
	seal_v1_by_hand(salt, 600000, SECRET, strlen(SECRET), &v1);
	CHECK(v1.len == strlen(SECRET) + CRYPT_OVERHEAD_V1, "a version 1 file of %zu bytes",
	      v1.len);

	crypt_init(&c, PASS, CRYPT_KDF_PBKDF2_SHA256);
	CHECK(crypt_open(&c, "state", v1.data, v1.len, &back, &d) == 0 &&
	      !strcmp(buf_cstr(&back), SECRET), "version 1 does not open: %s", diag_text(&d));
	CHECK(c.have_master && !memcmp(c.kdf_salt, salt, 16) && c.params == 600000 &&
	      c.derivations == 1, "version 1's key was not kept as the master");
	seal_or_die(&c, SECRET, strlen(SECRET), &v2);
	CHECK(v2.data[OFF_VERSION] == 2 && !memcmp(v2.data + OFF_KDF_SALT, salt, 16) &&
	      c.derivations == 1, "the seal after a version 1 open: version %u, %lu derivations",
	      (unsigned char)v2.data[OFF_VERSION], c.derivations);
	crypt_release(&c);
	crypt_init(&c, PASS, CRYPT_KDF_PBKDF2_SHA256);
	buf_reset(&back);
	CHECK(crypt_open(&c, "state", v2.data, v2.len, &back, &d) == 0 &&
	      !strcmp(buf_cstr(&back), SECRET), "its version 2 successor: %s", diag_text(&d));
	crypt_release(&c);

	/* a wrong passphrase */
	crypt_init(&c, WRONG, CRYPT_KDF_PBKDF2_SHA256);
	CHECK(open_into_kept(&c, v1.data, v1.len, &d, "version 1, wrong passphrase") < 0 &&
	      diag_has(&d, WRONG_MSG), "version 1, wrong passphrase: %s", diag_text(&d));
	crypt_release(&c);

	/* every byte, with the master kept */
	crypt_init(&warm, PASS, CRYPT_KDF_PBKDF2_SHA256);
	buf_reset(&back);
	if (crypt_open(&warm, "state", v1.data, v1.len, &back, &d) < 0)
		CHECK(0, "version 1, warm: %s", diag_text(&d));
	for (size_t i = 0; i < v1.len; i++) {
		char what[40];
		buf_reset(&copy);
		buf_add(&copy, v1.data, v1.len);
		copy.data[i] ^= 0x01;
		snprintf(what, sizeof what, "version 1, byte %zu", i);
		if (open_into_kept(&warm, copy.data, copy.len, &d, what) == 0)
			opened++, CHECK(0, "version 1: a change at byte %zu went unnoticed", i);
		if (i >= OFF_KDF_SALT && i != V1_OFF_NONCE_LEN)
			CHECK(diag_has(&d, WRONG_MSG), "%s: %s", what, diag_text(&d));
	}
	CHECK(opened == 0, "version 1: %zu changes opened", opened);

	/* truncation and one byte too many */
	for (size_t len = CRYPT_MAGIC_LEN + 1; len <= v1.len; len++) {
		char what[40];
		buf_reset(&copy);
		buf_add(&copy, v1.data, v1.len);
		if (len == v1.len)
			buf_addch(&copy, 0);
		snprintf(what, sizeof what, "version 1, %zu bytes", len);
		CHECK(open_into_kept(&warm, copy.data, len == v1.len ? copy.len : len, &d, what) < 0,
		      "%s opens", what);
		if (len < CRYPT_OVERHEAD_V1)
			CHECK(diag_has(&d, "truncated") && diag_has(&d, "an empty one takes 58"),
			      "%s: %s", what, diag_text(&d));
		else
			CHECK(diag_has(&d, WRONG_MSG), "%s: %s", what, diag_text(&d));
	}
	crypt_release(&warm);

	/* the header's checks: lengths, and iteration bounds before any key work */
	{
		static const struct { size_t at; unsigned char v; const char *msg; } cases[] = {
			{ OFF_KDF_SALT_LEN, 32, "a 32-byte salt and a 12-byte nonce; format version 1 "
					       "has 16 and 12" },
			{ V1_OFF_NONCE_LEN, 16, "a 16-byte salt and a 16-byte nonce" },
			{ OFF_KDF, 2, "format version 1 with key derivation function 2, which that "
				      "version does not have" },
		};
		for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
			buf_reset(&copy);
			buf_add(&copy, v1.data, v1.len);
			copy.data[cases[i].at] = (char)cases[i].v;
			crypt_init(&c, PASS, CRYPT_KDF_PBKDF2_SHA256);
			CHECK(open_into_kept(&c, copy.data, copy.len, &d, cases[i].msg) < 0 &&
			      diag_has(&d, cases[i].msg) && c.derivations == 0, "%s: %s",
			      cases[i].msg, diag_text(&d));
			crypt_release(&c);
		}
	}
	for (size_t i = 0; i < sizeof bad_iter / sizeof *bad_iter; i++) {
		char what[48];
		buf_reset(&copy);
		buf_add(&copy, v1.data, v1.len);
		set_iterations(&copy, bad_iter[i]);
		snprintf(what, sizeof what, "version 1, %lu iterations", bad_iter[i]);
		crypt_init(&c, PASS, CRYPT_KDF_PBKDF2_SHA256);
		CHECK(open_into_kept(&c, copy.data, copy.len, &d, what) < 0 &&
		      diag_has(&d, "600000 to 10000000") && c.derivations == 0,
		      "%s: %s", what, diag_text(&d));
		crypt_release(&c);
	}

	/* another accepted count opens: the header's count is used */
	buf_reset(&copy);
	seal_v1_by_hand(salt, 700000, SECRET, strlen(SECRET), &copy);
	crypt_init(&c, PASS, CRYPT_KDF_PBKDF2_SHA256);
	buf_reset(&back);
	CHECK(crypt_open(&c, "state", copy.data, copy.len, &back, &d) == 0 &&
	      !strcmp(buf_cstr(&back), SECRET) && c.params == 700000,
	      "version 1, 700000 iterations: %s", diag_text(&d));
	crypt_release(&c);
	buf_release(&v1);
	buf_release(&v2);
	buf_release(&back);
	buf_release(&copy);
	diag_release(&d);
}

/* ---- scrypt (KDF 2) ---- */

/* The test's own scrypt against RFC 7914's last test vector (N = 16384, r = 8, p = 1), so
 * that the hand decryption below checks crypt.c against scrypt itself. */
static void test_scrypt_by_hand(void)
{
	static const unsigned char dk[64] = {
		0x70, 0x23, 0xbd, 0xcb, 0x3a, 0xfd, 0x73, 0x48, 0x46, 0x1c, 0x06, 0xcd, 0x81, 0xfd,
		0x38, 0xeb, 0xfd, 0xa8, 0xfb, 0xba, 0x90, 0x4f, 0x8e, 0x3e, 0xa9, 0xb5, 0x43, 0xf6,
		0x54, 0x5d, 0xa1, 0xf2, 0xd5, 0x43, 0x29, 0x55, 0x61, 0x3f, 0x0f, 0xcf, 0x62, 0xd4,
		0x97, 0x05, 0x24, 0x2a, 0x9a, 0xf9, 0xe6, 0x1e, 0x85, 0xdc, 0x0d, 0x65, 0x1e, 0x40,
		0xdf, 0xcf, 0x01, 0x7b, 0x45, 0x57, 0x58, 0x87,
	};
	unsigned char out[64];

	scrypt_or_die("pleaseletmein", (const unsigned char *)"SodiumChloride", 14, 14, 8, 1, out,
		      sizeof out);
	CHECK(!memcmp(out, dk, sizeof dk), "RFC 7914's scrypt test vector");
}

/* scrypt's cost in the parameter field, where PBKDF2 has its count */
static void set_scrypt(struct buf *b, unsigned log2_n, unsigned r, unsigned p, unsigned zero)
{
	set_iterations(b, (unsigned long)log2_n << 24 | r << 16 | p << 8 | zero);
}

/* With kdf = "scrypt": KDF 2 and the documented cost in the header, a round trip, one
 * derivation for many seals and opens, and a cold open. */
static void test_scrypt_round_trip(void)
{
	static const size_t sizes[] = { 0, 1, 4096, 1 << 20 };
	struct crypt c;
	struct buf sealed = BUF_INIT, plain = BUF_INIT, back = BUF_INIT;
	struct diag_ctx d;
	const unsigned char *h;

	diag_init(&d);
	crypt_init(&c, PASS, CRYPT_KDF_SCRYPT);
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		buf_reset(&plain);
		buf_reset(&sealed);
		buf_reset(&back);
		for (size_t j = 0; j < sizes[i]; j++)
			buf_addch(&plain, (int)((j * 13 + i) & 0xff));
		seal_or_die(&c, plain.data ? plain.data : "", plain.len, &sealed);
		CHECK(sealed.len == plain.len + CRYPT_OVERHEAD, "scrypt: %zu bytes sealed into %zu",
		      plain.len, sealed.len);
		CHECK(crypt_open(&c, "state", sealed.data, sealed.len, &back, &d) == 0 &&
		      back.len == plain.len && !memcmp(buf_cstr(&back), buf_cstr(&plain), plain.len),
		      "scrypt: %zu bytes do not read back: %s", plain.len, diag_text(&d));
	}
	CHECK(c.derivations == 1 && c.master_kdf == CRYPT_KDF_SCRYPT,
	      "one scrypt struct crypt derived %lu keys (KDF %d)", c.derivations, c.master_kdf);
	crypt_release(&c);

	h = (const unsigned char *)sealed.data;
	CHECK(h[OFF_VERSION] == 2 && h[OFF_KDF] == 2, "scrypt: version %u, kdf %u", h[OFF_VERSION],
	      h[OFF_KDF]);
	CHECK(h[OFF_ITER] == 16 && h[OFF_ITER + 1] == 8 && h[OFF_ITER + 2] == 2 &&
	      h[OFF_ITER + 3] == 0, "scrypt's cost is not 10 08 02 00: %02x %02x %02x %02x",
	      h[OFF_ITER], h[OFF_ITER + 1], h[OFF_ITER + 2], h[OFF_ITER + 3]);
	CHECK(h[OFF_KDF_SALT_LEN] == 16 && h[OFF_FILE_SALT_LEN] == 16 && h[OFF_NONCE_LEN] == 12,
	      "scrypt: the sizes");
	CHECK(crypt_sealed_kdf(sealed.data, sealed.len) == CRYPT_KDF_SCRYPT, "crypt_sealed_kdf");

	/* a cold struct crypt, configured for either KDF: the file's header decides */
	for (int kdf = CRYPT_KDF_PBKDF2_SHA256; kdf <= CRYPT_KDF_SCRYPT; kdf++) {
		crypt_init(&c, PASS, kdf);
		buf_reset(&back);
		CHECK(crypt_open(&c, "state", sealed.data, sealed.len, &back, &d) == 0 &&
		      back.len == plain.len && !memcmp(back.data, plain.data, plain.len) &&
		      c.derivations == 1 && c.master_kdf == CRYPT_KDF_SCRYPT,
		      "configured KDF %d: a cold open of a scrypt file: %s", kdf, diag_text(&d));
		crypt_release(&c);
	}
	buf_release(&sealed);
	buf_release(&plain);
	buf_release(&back);
	diag_release(&d);
}

/*
 * A file made without stk or OpenSSL's scrypt: docs/state.md's layout written in Python with
 * hashlib.scrypt and the cryptography package's HKDF and AESGCM, passphrase PASS, plaintext
 * SECRET, KDF salt 10..1f, file salt 20..2f, nonce 30..3b:
 *
 *   h = b"STKENC" + bytes([2, 2, 16, 8, 2, 0, 16]) + kdf_salt + bytes([16]) + file_salt
 *       + bytes([12]) + nonce
 *   master = hashlib.scrypt(PASS, salt=kdf_salt, n=1 << 16, r=8, p=2, maxmem=1 << 27, dklen=32)
 *   key = HKDF(algorithm=hashes.SHA256(), length=32, salt=file_salt,
 *              info=b"stk state v2").derive(master)
 *   file = h + AESGCM(key).encrypt(nonce, SECRET, h)
 */
static void test_scrypt_from_python(void)
{
	static const unsigned char file[] = {
		0x53, 0x54, 0x4b, 0x45, 0x4e, 0x43, 0x02, 0x02, 0x10, 0x08, 0x02, 0x00, 0x10, 0x10, 0x11, 0x12,
		0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x10, 0x20, 0x21,
		0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x0c, 0x30,
		0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x24, 0x6d, 0x07, 0xce, 0x3e,
		0x5b, 0x4e, 0xb2, 0xb0, 0xc2, 0x80, 0x15, 0xb4, 0xf4, 0x8d, 0x10, 0xbb, 0x39, 0x6f, 0x4e, 0xfc,
		0x5e, 0xbe, 0xe4, 0x0f, 0x96, 0xa5, 0x91, 0xf0, 0x72, 0xc2, 0x2e, 0xb3, 0x25, 0xf6, 0xe5, 0xc8,
		0x5e, 0x49, 0x73, 0xc8, 0xc9, 0x71, 0x0d, 0xe8, 0x09, 0x4f,
	};
	/* hashlib.scrypt's master, as Python printed it */
	static const unsigned char master[32] = {
		0x54, 0x8a, 0xc7, 0x79, 0x97, 0x94, 0x6b, 0x1f, 0xc2, 0x97, 0x88, 0x72, 0x0d, 0x5b,
		0xc3, 0xf3, 0x11, 0xb7, 0x59, 0x9f, 0x00, 0xc6, 0xae, 0x2e, 0xc4, 0x0f, 0xab, 0xd7,
		0x1f, 0xd2, 0x7b, 0x5d,
	};
	struct crypt c;
	struct buf back = BUF_INIT;
	struct diag_ctx d;

	diag_init(&d);
	crypt_init(&c, PASS, CRYPT_KDF_PBKDF2_SHA256);
	CHECK(crypt_open(&c, "state", (const char *)file, sizeof file, &back, &d) == 0 &&
	      !strcmp(buf_cstr(&back), SECRET), "Python's scrypt file does not open: %s",
	      diag_text(&d));
	CHECK(c.have_master && c.master_kdf == CRYPT_KDF_SCRYPT && !memcmp(c.master, master, 32) &&
	      c.params == 0x10080200u, "the master kept is not hashlib.scrypt's");
	crypt_release(&c);
	crypt_init(&c, WRONG, CRYPT_KDF_SCRYPT);
	CHECK(open_into_kept(&c, (const char *)file, sizeof file, &d, "Python's, wrong passphrase") < 0 &&
	      diag_has(&d, WRONG_MSG), "Python's file, wrong passphrase: %s", diag_text(&d));
	crypt_release(&c);
	buf_release(&back);
	diag_release(&d);
}

/* scrypt costs stk does not accept are refused by the header alone, before any derivation:
 * malformed ones, and ones outside 64 MiB to 1 GiB of memory or 2^20 to 2^23 of N*r*p. */
static void test_scrypt_refusals(void)
{
	static const struct { unsigned log2_n, r, p, zero; const char *msg; } cases[] = {
		{ 16, 8, 2, 1, "scrypt parameters that are not valid: log2(N) 16, r 8, p 2 and a "
			       "fourth byte of 1" },
		{ 0, 8, 2, 0, "not valid: log2(N) 0" },
		{ 16, 0, 2, 0, "not valid: log2(N) 16, r 0" },
		{ 16, 8, 0, 0, "not valid: log2(N) 16, r 8, p 0" },
		{ 19, 1, 2, 0, "not valid: log2(N) 19, r 1" },      /* N >= 2^(16 r) */
		{ 255, 255, 255, 255, "not valid: log2(N) 255" },
		{ 40, 8, 1, 0, "not valid: log2(N) 40" },
		{ 15, 8, 4, 0, "scrypt at N = 2^15, r = 8, p = 4: 33554432 bytes of memory" },
		{ 16, 8, 1, 0, "N = 2^16, r = 8, p = 1: 67108864 bytes of memory (128*r*N) and "
			       "N*r*p = 524288; stk accepts 64 MiB to 1 GiB and 2^20 to 2^23" },
		{ 21, 8, 1, 0, "N = 2^21, r = 8, p = 1: 2147483648 bytes" },
		{ 20, 8, 2, 0, "N*r*p = 16777216" },
		{ 16, 255, 255, 0, "N = 2^16, r = 255, p = 255" },
	};
	struct crypt c;
	struct buf sealed = BUF_INIT, copy = BUF_INIT;
	struct diag_ctx d;

	diag_init(&d);
	crypt_init_warm(&c, CRYPT_KDF_SCRYPT);
	seal_or_die(&c, SECRET, strlen(SECRET), &sealed);
	crypt_release(&c);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		buf_reset(&copy);
		buf_add(&copy, sealed.data, sealed.len);
		set_scrypt(&copy, cases[i].log2_n, cases[i].r, cases[i].p, cases[i].zero);
		crypt_init(&c, PASS, CRYPT_KDF_SCRYPT);
		CHECK(open_into_kept(&c, copy.data, copy.len, &d, cases[i].msg) < 0 &&
		      diag_has(&d, cases[i].msg) && diag_has(&d, "stk writes"),
		      "%s: %s", cases[i].msg, diag_text(&d));
		CHECK(!c.have_master && c.derivations == 0, "%s: a key was derived", cases[i].msg);
		CHECK(!crypt_params_accepted(CRYPT_KDF_SCRYPT, (uint32_t)cases[i].log2_n << 24 |
					     cases[i].r << 16 | cases[i].p << 8 | cases[i].zero),
		      "%s: crypt_params_accepted", cases[i].msg);
		crypt_release(&c);
	}
	/* the bounds themselves are accepted */
	CHECK(crypt_params_accepted(CRYPT_KDF_SCRYPT, 0x10080200u) &&
	      crypt_params_accepted(CRYPT_KDF_SCRYPT, 0x11080100u) &&
	      crypt_params_accepted(CRYPT_KDF_SCRYPT, 0x14080100u) &&
	      crypt_params_accepted(CRYPT_KDF_PBKDF2_SHA256, 600000) &&
	      !crypt_params_accepted(CRYPT_KDF_PBKDF2_SHA256, 0x10080200u) &&
	      !crypt_params_accepted(3, 600000), "crypt_params_accepted at the bounds");
	buf_release(&sealed);
	buf_release(&copy);
	diag_release(&d);
}

/* Another accepted cost opens (the header's cost is used, and kept with the master), and
 * the cost is part of the key: the same file claiming stk's own does not open. */
static void test_scrypt_other_cost(void)
{
	struct crypt c;
	struct buf sealed = BUF_INIT, back = BUF_INIT;
	struct diag_ctx d;

	diag_init(&d);
	crypt_init(&c, PASS, CRYPT_KDF_SCRYPT);
	memset(c.kdf_salt, 0xa5, sizeof c.kdf_salt);
	c.master_kdf = CRYPT_KDF_SCRYPT;
	c.params = 0x11080100u;  /* OWASP's N = 2^17, r = 8, p = 1 */
	scrypt_or_die(PASS, c.kdf_salt, sizeof c.kdf_salt, 17, 8, 1, c.master, sizeof c.master);
	c.have_master = 1;
	seal_or_die(&c, SECRET, strlen(SECRET), &sealed);
	crypt_release(&c);

	crypt_init(&c, PASS, CRYPT_KDF_SCRYPT);
	CHECK(crypt_open(&c, "state", sealed.data, sealed.len, &back, &d) == 0 &&
	      !strcmp(buf_cstr(&back), SECRET) && c.params == 0x11080100u,
	      "N = 2^17, r = 8, p = 1: %s", diag_text(&d));
	crypt_release(&c);
	set_scrypt(&sealed, 16, 8, 2, 0);
	crypt_init(&c, PASS, CRYPT_KDF_SCRYPT);
	CHECK(open_into_kept(&c, sealed.data, sealed.len, &d, "stk's cost claimed") < 0 &&
	      diag_has(&d, WRONG_MSG), "stk's cost claimed: %s", diag_text(&d));
	crypt_release(&c);
	buf_release(&sealed);
	buf_release(&back);
	diag_release(&d);
}

/*
 * A master kept after an open is reused by the next seal only when the configured KDF is the
 * one it was derived with: a PBKDF2 state written with kdf = "scrypt" is sealed under a new
 * scrypt master (with a new KDF salt), and the other way round; the new master is then kept,
 * so the re-read of what was written derives nothing more.
 */
static void test_kdf_change(void)
{
	static const int kdfs[][2] = {
		{ CRYPT_KDF_PBKDF2_SHA256, CRYPT_KDF_SCRYPT },
		{ CRYPT_KDF_SCRYPT, CRYPT_KDF_PBKDF2_SHA256 },
	};
	struct crypt a, b;
	struct buf old = BUF_INIT, next = BUF_INIT, back = BUF_INIT;
	struct diag_ctx d;

	diag_init(&d);
	for (size_t i = 0; i < sizeof kdfs / sizeof *kdfs; i++) {
		int from = kdfs[i][0], to = kdfs[i][1];
		buf_reset(&old);
		buf_reset(&next);
		buf_add(&old, first_file(from)->data, first_file(from)->len);

		crypt_init(&b, PASS, to);
		buf_reset(&back);
		CHECK(crypt_open(&b, "state", old.data, old.len, &back, &d) == 0 &&
		      b.master_kdf == from && b.derivations == 1,
		      "%d to %d: the old file: %s", from, to, diag_text(&d));
		seal_or_die(&b, "next", 4, &next);
		CHECK(next.data[OFF_KDF] == to && b.master_kdf == to && b.derivations == 2,
		      "%d to %d: sealed with KDF %u after %lu derivations", from, to,
		      (unsigned char)next.data[OFF_KDF], b.derivations);
		CHECK(memcmp(next.data + OFF_KDF_SALT, old.data + OFF_KDF_SALT, 16),
		      "%d to %d: the new master kept the old KDF salt", from, to);
		CHECK(memcmp(next.data + OFF_ITER, old.data + OFF_ITER, 4),
		      "%d to %d: the old parameters were written", from, to);
		/* apply re-reads what it wrote: the new master, kept */
		buf_reset(&back);
		CHECK(crypt_open(&b, "state", next.data, next.len, &back, &d) == 0 &&
		      !strcmp(buf_cstr(&back), "next") && b.derivations == 2,
		      "%d to %d: re-read: %lu derivations: %s", from, to, b.derivations,
		      diag_text(&d));
		seal_or_die(&b, "again", 5, &back);
		CHECK(b.derivations == 2, "%d to %d: the next seal derived again", from, to);
		crypt_release(&b);

		/* what was written opens cold, with either configuration */
		crypt_init(&a, PASS, from);
		buf_reset(&back);
		CHECK(crypt_open(&a, "state", next.data, next.len, &back, &d) == 0 &&
		      !strcmp(buf_cstr(&back), "next"), "%d to %d: cold: %s", from, to,
		      diag_text(&d));
		crypt_release(&a);
	}
	buf_release(&old);
	buf_release(&next);
	buf_release(&back);
	diag_release(&d);
}

static void test_kdf_names(void)
{
	CHECK(crypt_kdf_by_name("pbkdf2") == CRYPT_KDF_PBKDF2_SHA256 &&
	      crypt_kdf_by_name("scrypt") == CRYPT_KDF_SCRYPT && crypt_kdf_by_name("argon2") == 0 &&
	      crypt_kdf_by_name("") == 0 && crypt_kdf_by_name("SCRYPT") == 0, "crypt_kdf_by_name");
	CHECK(!strcmp(crypt_kdf_label(CRYPT_KDF_PBKDF2_SHA256), "PBKDF2-HMAC-SHA256") &&
	      !strcmp(crypt_kdf_label(CRYPT_KDF_SCRYPT), "scrypt"), "crypt_kdf_label");
	CHECK(crypt_sealed_kdf("STKENC\x02\x01", 8) == 1 && crypt_sealed_kdf("STKENC\x02", 7) == 0 &&
	      crypt_sealed_kdf("{\"x\": 1}", 8) == 0, "crypt_sealed_kdf");
}

static void test_is_sealed(void)
{
	struct crypt c;
	struct buf sealed = BUF_INIT;

	crypt_init_warm(&c, CRYPT_KDF_PBKDF2_SHA256);
	seal_or_die(&c, "", 0, &sealed);
	crypt_release(&c);
	CHECK(crypt_is_sealed(sealed.data, sealed.len), "a sealed file");
	CHECK(crypt_is_sealed("STKENC", 6), "the magic alone");
	CHECK(!crypt_is_sealed("STKEN", 5), "five bytes of the magic");
	CHECK(!crypt_is_sealed("STKENC", 5), "a short length");
	CHECK(!crypt_is_sealed("", 0), "nothing");
	CHECK(!crypt_is_sealed(SECRET, strlen(SECRET)), "a JSON state");
	CHECK(!crypt_is_sealed("stkenc\x01", 7), "the magic in lower case");
	buf_release(&sealed);
}

int main(void)
{
	test_kdf_memo();
	test_hkdf_by_hand();
	test_round_trip();
	test_appends();
	test_empty_plaintext();
	test_fresh_salt_and_nonce();
	test_key_kept_after_open();
	test_wrong_passphrase(CRYPT_KDF_PBKDF2_SHA256);
	test_wrong_passphrase(CRYPT_KDF_SCRYPT);
	test_every_byte_flip(CRYPT_KDF_PBKDF2_SHA256);
	test_every_byte_flip(CRYPT_KDF_SCRYPT);
	test_truncation();
	test_header_refusals();
	test_other_iterations();
	test_format_by_hand(CRYPT_KDF_PBKDF2_SHA256);
	test_format_by_hand(CRYPT_KDF_SCRYPT);
	test_version_1();
	test_is_sealed();
	test_scrypt_by_hand();
	test_scrypt_round_trip();
	test_scrypt_from_python();
	test_scrypt_refusals();
	test_scrypt_other_cost();
	test_kdf_change();
	test_kdf_names();

	buf_release(&diag_buf);
	for (size_t i = 0; i < sizeof first_files / sizeof *first_files; i++)
		buf_release(&first_files[i]);
	printf("key derivations: %lu computed, %lu the same as an earlier one\n", kdf_computed,
	       kdf_reused);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

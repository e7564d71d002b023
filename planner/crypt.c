#include "planner/crypt.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/* Offsets in the header; docs/state.md draws the same layout. */
#define OFF_VERSION CRYPT_MAGIC_LEN
#define OFF_KDF (OFF_VERSION + 1)
#define OFF_ITER (OFF_KDF + 1)
#define OFF_SALT_LEN (OFF_ITER + 4)
#define OFF_SALT (OFF_SALT_LEN + 1)
#define OFF_NONCE_LEN (OFF_SALT + CRYPT_SALT_LEN)
#define OFF_NONCE (OFF_NONCE_LEN + 1)

/* EVP's lengths are ints: larger inputs go through in pieces of this size. */
#define CHUNK (1u << 30)

#define PASSPHRASE_HINT "the passphrase comes from STK_STATE_PASSPHRASE or the passphrase of the " \
	"stack's encryption block; it must be the one the file was encrypted with. If it is, the " \
	"file was altered or damaged: restore a copy (for the state, its .backup)"

void crypt_init(struct crypt *c, const char *passphrase)
{
	memset(c, 0, sizeof *c);
	c->passphrase_len = strlen(passphrase);
	c->passphrase = xstrndup(passphrase, c->passphrase_len);
}

void crypt_release(struct crypt *c)
{
	if (c->passphrase) {
		OPENSSL_cleanse(c->passphrase, c->passphrase_len);
		free(c->passphrase);
	}
	/* leaves every field zero, as after a memset */
	OPENSSL_cleanse(c, sizeof *c);
}

int crypt_is_sealed(const char *data, size_t len)
{
	return len >= CRYPT_MAGIC_LEN && !memcmp(data, CRYPT_MAGIC, CRYPT_MAGIC_LEN);
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* An error from OpenSSL itself (not a bad file): its reason, then an empty error queue, so
 * that a stale entry cannot be taken later for a TLS error of libcurl's. */
static void openssl_error(struct diag_ctx *diag, const char *doing, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;

	diag_error(diag, NULL, "cannot %s the %s: OpenSSL failed%s%s", doing, what,
		   reason ? ": " : "", reason ? reason : "");
	ERR_clear_error();
}

static int derive(const struct crypt *c, const unsigned char *salt, uint32_t iterations,
		  unsigned char key[CRYPT_KEY_LEN])
{
	if (c->passphrase_len > INT_MAX || iterations > INT_MAX)
		return -1;
	if (PKCS5_PBKDF2_HMAC(c->passphrase, (int)c->passphrase_len, salt, CRYPT_SALT_LEN,
			      (int)iterations, EVP_sha256(), CRYPT_KEY_LEN, key) != 1)
		return -1;
	return 0;
}

static int check_passphrase(const struct crypt *c, const char *doing, const char *what,
			    struct diag_ctx *diag)
{
	/* an empty STK_STATE_PASSPHRASE is a mistake in the environment, not a passphrase */
	if (c->passphrase_len)
		return 0;
	diag_error(diag, NULL, "cannot %s the %s: the passphrase is empty", doing, what);
	diag_hint(diag, "set STK_STATE_PASSPHRASE, or the passphrase of the stack's encryption "
		  "block, to a non-empty value");
	return -1;
}

/*
 * One AES-256-GCM pass over len bytes of in, written to dst (len bytes), with the header as
 * associated data. Sealing writes the tag; opening checks it, and returns 1 (not -1) when it
 * does not match, so that the caller can tell a bad file from a failing library.
 */
static int gcm(int seal, const unsigned char key[CRYPT_KEY_LEN], const unsigned char *header,
	       const unsigned char *in, size_t len, unsigned char *dst,
	       unsigned char tag[CRYPT_TAG_LEN])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n, ret = -1;

	if (!ctx)
		goto out;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, seal) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, CRYPT_NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, header + OFF_NONCE, seal) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &n, header, CRYPT_HEADER_LEN) != 1)
		goto out;
	for (size_t done = 0; done < len; ) {
		size_t step = len - done < CHUNK ? len - done : CHUNK;
		/* GCM is a stream mode: each piece comes out whole, n == step */
		if (EVP_CipherUpdate(ctx, dst + done, &n, in + done, (int)step) != 1)
			goto out;
		done += step;
	}
	if (seal) {
		if (EVP_CipherFinal_ex(ctx, dst + len, &n) != 1 ||
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPT_TAG_LEN, tag) != 1)
			goto out;
	} else {
		if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPT_TAG_LEN, tag) != 1)
			goto out;
		/* the one check that covers the passphrase, the header and every byte of data */
		if (EVP_CipherFinal_ex(ctx, dst + len, &n) != 1) {
			ERR_clear_error();
			ret = 1;
			goto out;
		}
	}
	ret = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

int crypt_seal(struct crypt *c, const char *what, const char *plain, size_t len,
	       struct buf *out, struct diag_ctx *diag)
{
	unsigned char header[CRYPT_HEADER_LEN], tag[CRYPT_TAG_LEN];
	size_t start = out->len;
	int ret = -1;

	if (check_passphrase(c, "encrypt", what, diag) < 0)
		return -1;
	if (len > SIZE_MAX - start - CRYPT_OVERHEAD - 1) {
		diag_error(diag, NULL, "cannot encrypt the %s: it is too large", what);
		return -1;
	}
	if (!c->have_key) {
		/* a new salt for each new key; later seals share it and differ by the nonce */
		if (RAND_bytes(c->salt, CRYPT_SALT_LEN) != 1) {
			openssl_error(diag, "encrypt", what);
			diag_hint(diag, "OpenSSL's random generator failed; check /dev/urandom");
			return -1;
		}
		c->iterations = CRYPT_ITER_MIN;
		if (derive(c, c->salt, c->iterations, c->key) < 0) {
			OPENSSL_cleanse(c->key, sizeof c->key);
			openssl_error(diag, "encrypt", what);
			goto out;
		}
		c->have_key = 1;
	}

	memcpy(header, CRYPT_MAGIC, CRYPT_MAGIC_LEN);
	header[OFF_VERSION] = CRYPT_VERSION;
	header[OFF_KDF] = CRYPT_KDF_PBKDF2_SHA256;
	put_be32(header + OFF_ITER, c->iterations);
	header[OFF_SALT_LEN] = CRYPT_SALT_LEN;
	memcpy(header + OFF_SALT, c->salt, CRYPT_SALT_LEN);
	header[OFF_NONCE_LEN] = CRYPT_NONCE_LEN;
	/* GCM loses everything if a nonce repeats under one key: a fresh one for every seal */
	if (RAND_bytes(header + OFF_NONCE, CRYPT_NONCE_LEN) != 1) {
		openssl_error(diag, "encrypt", what);
		diag_hint(diag, "OpenSSL's random generator failed; check /dev/urandom");
		goto out;
	}

	buf_add(out, header, CRYPT_HEADER_LEN);
	buf_grow(out, len + CRYPT_TAG_LEN);
	if (gcm(1, c->key, header, (const unsigned char *)plain, len,
		(unsigned char *)out->data + out->len, tag) != 0) {
		openssl_error(diag, "encrypt", what);
		goto out;
	}
	out->len += len;
	buf_add(out, tag, CRYPT_TAG_LEN);
	ret = 0;
out:
	if (ret < 0)
		buf_truncate(out, start);
	return ret;
}

/* Checks the header of a sealed file of len bytes. Everything here is also covered by the
 * tag; it is checked first so that a file stk cannot open says why, and so that a hostile
 * iteration count is refused before any work is done for it. */
static int check_header(const unsigned char *d, size_t len, const char *what,
			struct diag_ctx *diag)
{
	uint32_t iterations;

	if (!crypt_is_sealed((const char *)d, len)) {
		diag_error(diag, NULL, "the %s is not encrypted: it does not start with %s", what,
			   CRYPT_MAGIC);
		return -1;
	}
	/* the version first: a later version may lay out the rest differently */
	if (len > OFF_VERSION && d[OFF_VERSION] != CRYPT_VERSION) {
		diag_error(diag, NULL, "the %s is encrypted in format version %u, which this stk "
			   "does not read (it reads version %d)", what, d[OFF_VERSION],
			   CRYPT_VERSION);
		diag_hint(diag, "it was written by a newer stk: use that one or a later one");
		return -1;
	}
	if (len > OFF_KDF && d[OFF_KDF] != CRYPT_KDF_PBKDF2_SHA256) {
		diag_error(diag, NULL, "the %s is encrypted with key derivation function %u, which "
			   "this stk does not know (it knows %d, PBKDF2-HMAC-SHA256)", what,
			   d[OFF_KDF], CRYPT_KDF_PBKDF2_SHA256);
		diag_hint(diag, "it was written by a newer stk: use that one or a later one");
		return -1;
	}
	if (len < CRYPT_OVERHEAD) {
		diag_error(diag, NULL, "the %s is encrypted but truncated: %zu bytes, where even "
			   "an empty one takes %d", what, len, CRYPT_OVERHEAD);
		diag_hint(diag, "the file was cut short (a copy or a write that did not finish); "
			  "restore a copy (for the state, its .backup)");
		return -1;
	}
	iterations = get_be32(d + OFF_ITER);
	if (iterations < CRYPT_ITER_MIN || iterations > CRYPT_ITER_MAX) {
		diag_error(diag, NULL, "the %s is encrypted with %lu PBKDF2 iterations; stk accepts "
			   "%u to %u", what, (unsigned long)iterations, CRYPT_ITER_MIN,
			   CRYPT_ITER_MAX);
		diag_hint(diag, "stk writes %u: the file was altered, or written by another tool",
			  CRYPT_ITER_MIN);
		return -1;
	}
	if (d[OFF_SALT_LEN] != CRYPT_SALT_LEN || d[OFF_NONCE_LEN] != CRYPT_NONCE_LEN) {
		diag_error(diag, NULL, "the %s is encrypted with a %u-byte salt and a %u-byte "
			   "nonce; format version %d has %d and %d", what, d[OFF_SALT_LEN],
			   d[OFF_NONCE_LEN], CRYPT_VERSION, CRYPT_SALT_LEN, CRYPT_NONCE_LEN);
		diag_hint(diag, "the file was altered or damaged; restore a copy (for the state, "
			  "its .backup)");
		return -1;
	}
	return 0;
}

int crypt_open(struct crypt *c, const char *what, const char *data, size_t len,
	       struct buf *out, struct diag_ctx *diag)
{
	const unsigned char *d = (const unsigned char *)data;
	unsigned char key[CRYPT_KEY_LEN], tag[CRYPT_TAG_LEN];
	const unsigned char *salt;
	uint32_t iterations;
	size_t start = out->len, n, written = 0;
	int r, ret = -1;

	if (check_passphrase(c, "decrypt", what, diag) < 0)
		return -1;
	if (check_header(d, len, what, diag) < 0)
		return -1;
	iterations = get_be32(d + OFF_ITER);
	salt = d + OFF_SALT;
	n = len - CRYPT_OVERHEAD;

	if (c->have_key && c->iterations == iterations && !memcmp(c->salt, salt, CRYPT_SALT_LEN)) {
		memcpy(key, c->key, CRYPT_KEY_LEN);
	} else if (derive(c, salt, iterations, key) < 0) {
		openssl_error(diag, "decrypt", what);
		goto out;
	}

	/* Decrypted into out's spare room, and counted in only once the tag matches: GCM
	 * hands out plaintext before it has seen the tag. */
	memcpy(tag, d + len - CRYPT_TAG_LEN, CRYPT_TAG_LEN);
	buf_grow(out, n);
	written = n;
	r = gcm(0, key, d, d + CRYPT_HEADER_LEN, n, (unsigned char *)out->data + start, tag);
	if (r < 0) {
		openssl_error(diag, "decrypt", what);
		goto out;
	}
	if (r > 0) {
		diag_error(diag, NULL, "the %s is encrypted and this passphrase does not open it "
			   "(or the file was altered)", what);
		diag_hint(diag, "%s", PASSPHRASE_HINT);
		goto out;
	}
	out->len = start + n;
	out->data[out->len] = '\0';

	/* the file proved to be this passphrase's: the next seal can reuse its key */
	memcpy(c->key, key, CRYPT_KEY_LEN);
	memcpy(c->salt, salt, CRYPT_SALT_LEN);
	c->iterations = iterations;
	c->have_key = 1;
	ret = 0;
out:
	if (ret < 0 && written) {
		OPENSSL_cleanse(out->data + start, written);
		buf_truncate(out, start);
	}
	OPENSSL_cleanse(key, sizeof key);
	return ret;
}

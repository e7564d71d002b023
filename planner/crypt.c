#include "planner/crypt.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

/* Offsets in the header; docs/state.md draws the same layout. Both versions start alike. */
#define OFF_VERSION CRYPT_MAGIC_LEN
#define OFF_KDF (OFF_VERSION + 1)
#define OFF_PARAMS (OFF_KDF + 1)  /* PBKDF2's iteration count, or scrypt's cost */
#define OFF_KDF_SALT_LEN (OFF_PARAMS + 4)
#define OFF_KDF_SALT (OFF_KDF_SALT_LEN + 1)
/* version 2 */
#define OFF_FILE_SALT_LEN (OFF_KDF_SALT + CRYPT_SALT_LEN)
#define OFF_FILE_SALT (OFF_FILE_SALT_LEN + 1)
#define OFF_NONCE_LEN (OFF_FILE_SALT + CRYPT_SALT_LEN)
#define OFF_NONCE (OFF_NONCE_LEN + 1)
/* version 1: no file salt */
#define OFF_V1_NONCE_LEN (OFF_KDF_SALT + CRYPT_SALT_LEN)
#define OFF_V1_NONCE (OFF_V1_NONCE_LEN + 1)

_Static_assert(OFF_NONCE + CRYPT_NONCE_LEN == CRYPT_HEADER_LEN, "version 2 header");
_Static_assert(OFF_V1_NONCE + CRYPT_NONCE_LEN == CRYPT_HEADER_V1_LEN, "version 1 header");

/* Where a version's header puts what differs between versions. */
struct layout {
	unsigned version;
	size_t header_len;
	int file_salt;     /* version 2: a file salt, and the file key HKDF(master, it) */
	size_t off_nonce;  /* its length byte is just before */
};

static const struct layout layout_v2 = { CRYPT_VERSION, CRYPT_HEADER_LEN, 1, OFF_NONCE };
static const struct layout layout_v1 = { CRYPT_VERSION_1, CRYPT_HEADER_V1_LEN, 0, OFF_V1_NONCE };

/* EVP's lengths are ints: larger inputs go through in pieces of this size. */
#define CHUNK (1u << 30)

/* where a good copy is: a local state's .backup; S3 keeps earlier versions only when the
 * bucket's versioning is on */
#define RESTORE_HINT "restore a copy (a local state keeps one as its .backup; an S3 state, " \
	"the bucket's earlier versions if versioning is on)"
#define PASSPHRASE_HINT "the passphrase comes from STK_STATE_PASSPHRASE or the passphrase of the " \
	"stack's encryption block; it must be the one the file was encrypted with. If it is, the " \
	"file was altered or damaged: " RESTORE_HINT

void crypt_init(struct crypt *c, const char *passphrase, int kdf)
{
	memset(c, 0, sizeof *c);
	c->passphrase_len = strlen(passphrase);
	c->passphrase = xstrndup(passphrase, c->passphrase_len);
	c->kdf = kdf == CRYPT_KDF_SCRYPT ? CRYPT_KDF_SCRYPT : CRYPT_KDF_PBKDF2_SHA256;
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

int crypt_kdf_by_name(const char *name)
{
	if (!strcmp(name, "pbkdf2"))
		return CRYPT_KDF_PBKDF2_SHA256;
	if (!strcmp(name, "scrypt"))
		return CRYPT_KDF_SCRYPT;
	return 0;
}

const char *crypt_kdf_label(int kdf)
{
	return kdf == CRYPT_KDF_PBKDF2_SHA256 ? "PBKDF2-HMAC-SHA256" :
	       kdf == CRYPT_KDF_SCRYPT ? "scrypt" : "an unknown KDF";
}

int crypt_sealed_kdf(const char *data, size_t len)
{
	return crypt_is_sealed(data, len) && len > OFF_KDF ? (unsigned char)data[OFF_KDF] : 0;
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

/* scrypt's cost, as its parameter field holds it: log2(N), r, p, then a byte that is 0 */
struct scrypt_cost {
	unsigned log2_n, r, p, zero;
	uint64_t n, mem, work;  /* N, 128 * r * N bytes, N * r * p; 0 when log2_n is too large */
};

static struct scrypt_cost scrypt_cost(uint32_t params)
{
	struct scrypt_cost s;

	s.log2_n = params >> 24;
	s.r = (params >> 16) & 0xff;
	s.p = (params >> 8) & 0xff;
	s.zero = params & 0xff;
	/* below 2^32 with r and p under 256, none of the products overflows 64 bits */
	s.n = s.log2_n < 32 ? (uint64_t)1 << s.log2_n : 0;
	s.mem = 128 * s.r * s.n;
	s.work = s.n * s.r * s.p;
	return s;
}

static uint32_t scrypt_params(unsigned log2_n, unsigned r, unsigned p)
{
	return (uint32_t)log2_n << 24 | (uint32_t)r << 16 | (uint32_t)p << 8;
}

/* What scrypt itself allows (RFC 7914: N a power of 2 above 1 and below 2^(16 r), r and p at
 * least 1), with the fourth byte 0 as stk writes it. */
static int scrypt_well_formed(const struct scrypt_cost *s)
{
	return s->zero == 0 && s->log2_n >= 1 && s->log2_n < 32 && s->log2_n < 16 * s->r &&
	       s->r >= 1 && s->p >= 1;
}

static int scrypt_in_range(const struct scrypt_cost *s)
{
	return s->mem >= CRYPT_SCRYPT_MEM_MIN && s->mem <= CRYPT_SCRYPT_MEM_MAX &&
	       s->work >= CRYPT_SCRYPT_WORK_MIN && s->work <= CRYPT_SCRYPT_WORK_MAX;
}

int crypt_params_accepted(int kdf, uint32_t params)
{
	struct scrypt_cost s = scrypt_cost(params);

	if (kdf == CRYPT_KDF_PBKDF2_SHA256)
		return params >= CRYPT_ITER_MIN && params <= CRYPT_ITER_MAX;
	return kdf == CRYPT_KDF_SCRYPT && scrypt_well_formed(&s) && scrypt_in_range(&s);
}

/* The master key: the one slow step, counted so the tests can see it run at most once.
 * params are the header's, checked by check_header() (or stk's own, for a seal). Returns 0,
 * or -1 with an error (doing: "encrypt" or "decrypt" the what) and master wiped. */
static int derive(struct crypt *c, int kdf, const unsigned char *salt, uint32_t params,
		  unsigned char master[CRYPT_KEY_LEN], const char *doing, const char *what,
		  struct diag_ctx *diag)
{
	struct scrypt_cost s = scrypt_cost(params);
	int ok;

	c->derivations++;
	if (kdf == CRYPT_KDF_SCRYPT) {
		/* maxmem: exactly what OpenSSL allocates for this cost, 128 * r * (N + 2) bytes
		 * and 128 * r * p more (its default, 32 MiB, is below stk's 64) */
		uint64_t maxmem = 128 * (uint64_t)s.r * (s.n + 2) + 128 * (uint64_t)s.r * s.p;
		ok = EVP_PBE_scrypt(c->passphrase, c->passphrase_len, salt, CRYPT_SALT_LEN, s.n,
				    s.r, s.p, maxmem, master, CRYPT_KEY_LEN) == 1;
	} else {
		ok = c->passphrase_len <= INT_MAX && params <= INT_MAX &&
		     PKCS5_PBKDF2_HMAC(c->passphrase, (int)c->passphrase_len, salt, CRYPT_SALT_LEN,
				       (int)params, EVP_sha256(), CRYPT_KEY_LEN, master) == 1;
	}
	if (ok)
		return 0;
	OPENSSL_cleanse(master, CRYPT_KEY_LEN);
	openssl_error(diag, doing, what);
	/* the one failure a user can do something about: scrypt's memory */
	if (kdf == CRYPT_KDF_SCRYPT)
		diag_hint(diag, "scrypt at N = 2^%u, r = %u, p = %u needs %llu MiB of memory: free "
			  "some, or raise the limit on it (ulimit -v)", s.log2_n, s.r, s.p,
			  (unsigned long long)(s.mem >> 20));
	return -1;
}

/* A version 2 file's key: HKDF-SHA256 (extract and expand, RFC 5869) of the master with the
 * file salt, cheap enough for every seal and open. */
static int file_key(const unsigned char master[CRYPT_KEY_LEN], const unsigned char *file_salt,
		    unsigned char key[CRYPT_KEY_LEN])
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t n = CRYPT_KEY_LEN;
	int ret = -1;

	if (pctx && EVP_PKEY_derive_init(pctx) == 1 &&
	    EVP_PKEY_CTX_hkdf_mode(pctx, EVP_PKEY_HKDEF_MODE_EXTRACT_AND_EXPAND) == 1 &&
	    EVP_PKEY_CTX_set_hkdf_md(pctx, EVP_sha256()) == 1 &&
	    EVP_PKEY_CTX_set1_hkdf_salt(pctx, file_salt, CRYPT_SALT_LEN) == 1 &&
	    EVP_PKEY_CTX_set1_hkdf_key(pctx, master, CRYPT_KEY_LEN) == 1 &&
	    EVP_PKEY_CTX_add1_hkdf_info(pctx, (const unsigned char *)CRYPT_HKDF_INFO,
					sizeof CRYPT_HKDF_INFO - 1) == 1 &&
	    EVP_PKEY_derive(pctx, key, &n) == 1 && n == CRYPT_KEY_LEN)
		ret = 0;
	EVP_PKEY_CTX_free(pctx);
	if (ret < 0)
		OPENSSL_cleanse(key, CRYPT_KEY_LEN);
	return ret;
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
 * One AES-256-GCM pass over len bytes of in, written to dst (len bytes), with the whole
 * header (laid out as l says) as associated data. Sealing writes the tag; opening checks
 * it, and returns 1 (not -1) when it does not match, so that the caller can tell a bad file
 * from a failing library.
 */
static int gcm(int seal, const unsigned char key[CRYPT_KEY_LEN], const unsigned char *header,
	       const struct layout *l, const unsigned char *in, size_t len, unsigned char *dst,
	       unsigned char tag[CRYPT_TAG_LEN])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n, ret = -1;

	if (!ctx)
		goto out;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, seal) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, CRYPT_NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, header + l->off_nonce, seal) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &n, header, (int)l->header_len) != 1)
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

static int random_bytes(unsigned char *p, int n, const char *what, struct diag_ctx *diag)
{
	if (RAND_bytes(p, n) == 1)
		return 0;
	openssl_error(diag, "encrypt", what);
	diag_hint(diag, "OpenSSL's random generator failed; check /dev/urandom");
	return -1;
}

int crypt_seal(struct crypt *c, const char *what, const char *plain, size_t len,
	       struct buf *out, struct diag_ctx *diag)
{
	unsigned char header[CRYPT_HEADER_LEN], key[CRYPT_KEY_LEN], tag[CRYPT_TAG_LEN];
	size_t start = out->len;
	int ret = -1;

	if (check_passphrase(c, "encrypt", what, diag) < 0)
		return -1;
	if (len > SIZE_MAX - start - CRYPT_OVERHEAD - 1) {
		diag_error(diag, NULL, "cannot encrypt the %s: it is too large", what);
		return -1;
	}
	if (!c->have_master || c->master_kdf != c->kdf) {
		/* A new KDF salt for each new master; later seals reuse both. A master kept from
		 * a file of the other KDF is dropped: the configured one seals. */
		c->have_master = 0;
		OPENSSL_cleanse(c->master, sizeof c->master);
		if (random_bytes(c->kdf_salt, CRYPT_SALT_LEN, what, diag) < 0)
			return -1;
		c->master_kdf = c->kdf;
		c->params = c->kdf == CRYPT_KDF_SCRYPT ?
			scrypt_params(CRYPT_SCRYPT_LOG2_N, CRYPT_SCRYPT_R, CRYPT_SCRYPT_P) :
			CRYPT_ITER_MIN;
		if (derive(c, c->master_kdf, c->kdf_salt, c->params, c->master, "encrypt", what,
			   diag) < 0)
			return -1;
		c->have_master = 1;
	}

	memcpy(header, CRYPT_MAGIC, CRYPT_MAGIC_LEN);
	header[OFF_VERSION] = CRYPT_VERSION;
	header[OFF_KDF] = (unsigned char)c->master_kdf;
	put_be32(header + OFF_PARAMS, c->params);
	header[OFF_KDF_SALT_LEN] = CRYPT_SALT_LEN;
	memcpy(header + OFF_KDF_SALT, c->kdf_salt, CRYPT_SALT_LEN);
	header[OFF_FILE_SALT_LEN] = CRYPT_SALT_LEN;
	header[OFF_NONCE_LEN] = CRYPT_NONCE_LEN;
	/* A fresh file salt, so a fresh key, and a fresh nonce for every seal: no two files
	 * share a salt, and GCM never sees a nonce twice under one key. */
	if (random_bytes(header + OFF_FILE_SALT, CRYPT_SALT_LEN, what, diag) < 0 ||
	    random_bytes(header + OFF_NONCE, CRYPT_NONCE_LEN, what, diag) < 0)
		return -1;
	if (file_key(c->master, header + OFF_FILE_SALT, key) < 0) {
		openssl_error(diag, "encrypt", what);
		return -1;
	}

	buf_add(out, header, CRYPT_HEADER_LEN);
	buf_grow(out, len + CRYPT_TAG_LEN);
	if (gcm(1, key, header, &layout_v2, (const unsigned char *)plain, len,
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
	OPENSSL_cleanse(key, sizeof key);
	return ret;
}

/* The parameter field of a file (len bytes, the header all there) for its KDF: 0, or -1
 * after an error. */
static int check_params(const unsigned char *d, const char *what, struct diag_ctx *diag)
{
	uint32_t params = get_be32(d + OFF_PARAMS);
	struct scrypt_cost s = scrypt_cost(params);

	if (d[OFF_KDF] == CRYPT_KDF_PBKDF2_SHA256) {
		if (crypt_params_accepted(CRYPT_KDF_PBKDF2_SHA256, params))
			return 0;
		diag_error(diag, NULL, "the %s is encrypted with %lu PBKDF2 iterations; stk accepts "
			   "%u to %u", what, (unsigned long)params, CRYPT_ITER_MIN, CRYPT_ITER_MAX);
		diag_hint(diag, "stk writes %u: the file was altered, or written by another tool",
			  CRYPT_ITER_MIN);
		return -1;
	}
	if (!scrypt_well_formed(&s)) {
		diag_error(diag, NULL, "the %s is encrypted with scrypt parameters that are not "
			   "valid: log2(N) %u, r %u, p %u and a fourth byte of %u", what, s.log2_n,
			   s.r, s.p, s.zero);
		diag_hint(diag, "scrypt takes N a power of 2 above 1 and below 2^(16*r), and r and "
			  "p of 1 or more; stk writes log2(N) %u, r %u, p %u and 0: the file was "
			  "altered, or written by another tool", CRYPT_SCRYPT_LOG2_N, CRYPT_SCRYPT_R,
			  CRYPT_SCRYPT_P);
		return -1;
	}
	if (!scrypt_in_range(&s)) {
		diag_error(diag, NULL, "the %s is encrypted with scrypt at N = 2^%u, r = %u, p = %u: "
			   "%llu bytes of memory (128*r*N) and N*r*p = %llu; stk accepts 64 MiB to "
			   "1 GiB and 2^20 to 2^23", what, s.log2_n, s.r, s.p,
			   (unsigned long long)s.mem, (unsigned long long)s.work);
		diag_hint(diag, "stk writes N = 2^%u, r = %u, p = %u: the file was altered, or "
			  "written by another tool", CRYPT_SCRYPT_LOG2_N, CRYPT_SCRYPT_R,
			  CRYPT_SCRYPT_P);
		return -1;
	}
	return 0;
}

/* Checks the header of a sealed file of len bytes, and returns its version's layout, or
 * NULL after an error. Everything here is also covered by the tag; it is checked first so
 * that a file stk cannot open says why, and so that a hostile iteration count or scrypt
 * cost is refused before any work is done for it. */
static const struct layout *check_header(const unsigned char *d, size_t len, const char *what,
					 struct diag_ctx *diag)
{
	const struct layout *l = &layout_v2;  /* for a file too short to say */
	int bad_sizes = 0;

	if (!crypt_is_sealed((const char *)d, len)) {
		diag_error(diag, NULL, "the %s is not encrypted: it does not start with %s", what,
			   CRYPT_MAGIC);
		return NULL;
	}
	/* the version first: it decides the layout of the rest */
	if (len > OFF_VERSION) {
		if (d[OFF_VERSION] == CRYPT_VERSION_1) {
			l = &layout_v1;
		} else if (d[OFF_VERSION] != CRYPT_VERSION) {
			diag_error(diag, NULL, "the %s is encrypted in format version %u, which this "
				   "stk does not read (it reads versions %d and %d)", what,
				   d[OFF_VERSION], CRYPT_VERSION_1, CRYPT_VERSION);
			diag_hint(diag, "it was written by a newer stk: use that one or a later one");
			return NULL;
		}
	}
	if (len > OFF_KDF && d[OFF_KDF] != CRYPT_KDF_PBKDF2_SHA256 &&
	    d[OFF_KDF] != CRYPT_KDF_SCRYPT) {
		diag_error(diag, NULL, "the %s is encrypted with key derivation function %u, which "
			   "this stk does not know (it knows %d, PBKDF2-HMAC-SHA256, and %d, scrypt)",
			   what, d[OFF_KDF], CRYPT_KDF_PBKDF2_SHA256, CRYPT_KDF_SCRYPT);
		diag_hint(diag, "it was written by a newer stk: use that one or a later one");
		return NULL;
	}
	/* version 1 predates scrypt: no stk wrote the two together */
	if (len > OFF_KDF && l == &layout_v1 && d[OFF_KDF] != CRYPT_KDF_PBKDF2_SHA256) {
		diag_error(diag, NULL, "the %s is encrypted in format version %d with key derivation "
			   "function %u, which that version does not have (only %d, "
			   "PBKDF2-HMAC-SHA256)", what, CRYPT_VERSION_1, d[OFF_KDF],
			   CRYPT_KDF_PBKDF2_SHA256);
		diag_hint(diag, "the file was altered or damaged; " RESTORE_HINT);
		return NULL;
	}
	if (len < l->header_len + CRYPT_TAG_LEN) {
		diag_error(diag, NULL, "the %s is encrypted but truncated: %zu bytes, where even "
			   "an empty one takes %zu", what, len, l->header_len + CRYPT_TAG_LEN);
		diag_hint(diag, "the file was cut short (a copy or a write that did not finish); "
			  RESTORE_HINT);
		return NULL;
	}
	if (check_params(d, what, diag) < 0)
		return NULL;
	if (l->file_salt && (d[OFF_KDF_SALT_LEN] != CRYPT_SALT_LEN ||
			     d[OFF_FILE_SALT_LEN] != CRYPT_SALT_LEN ||
			     d[OFF_NONCE_LEN] != CRYPT_NONCE_LEN)) {
		diag_error(diag, NULL, "the %s is encrypted with a %u-byte KDF salt, a %u-byte file "
			   "salt and a %u-byte nonce; format version %u has %d, %d and %d", what,
			   d[OFF_KDF_SALT_LEN], d[OFF_FILE_SALT_LEN], d[OFF_NONCE_LEN], l->version,
			   CRYPT_SALT_LEN, CRYPT_SALT_LEN, CRYPT_NONCE_LEN);
		bad_sizes = 1;
	} else if (!l->file_salt && (d[OFF_KDF_SALT_LEN] != CRYPT_SALT_LEN ||
				     d[OFF_V1_NONCE_LEN] != CRYPT_NONCE_LEN)) {
		diag_error(diag, NULL, "the %s is encrypted with a %u-byte salt and a %u-byte nonce; "
			   "format version %u has %d and %d", what, d[OFF_KDF_SALT_LEN],
			   d[OFF_V1_NONCE_LEN], l->version, CRYPT_SALT_LEN, CRYPT_NONCE_LEN);
		bad_sizes = 1;
	}
	if (bad_sizes) {
		diag_hint(diag, "the file was altered or damaged; " RESTORE_HINT);
		return NULL;
	}
	return l;
}

int crypt_open(struct crypt *c, const char *what, const char *data, size_t len,
	       struct buf *out, struct diag_ctx *diag)
{
	const unsigned char *d = (const unsigned char *)data;
	unsigned char master[CRYPT_KEY_LEN], key[CRYPT_KEY_LEN], tag[CRYPT_TAG_LEN];
	const unsigned char *kdf_salt;
	const struct layout *l;
	uint32_t params;
	int kdf;
	size_t start = out->len, n, written = 0;
	int r, ret = -1;

	if (check_passphrase(c, "decrypt", what, diag) < 0)
		return -1;
	if (!(l = check_header(d, len, what, diag)))
		return -1;
	kdf = d[OFF_KDF];
	params = get_be32(d + OFF_PARAMS);
	kdf_salt = d + OFF_KDF_SALT;
	n = len - l->header_len - CRYPT_TAG_LEN;
	memset(key, 0, sizeof key);

	if (c->have_master && c->master_kdf == kdf && c->params == params &&
	    !memcmp(c->kdf_salt, kdf_salt, CRYPT_SALT_LEN)) {
		memcpy(master, c->master, CRYPT_KEY_LEN);
	} else if (derive(c, kdf, kdf_salt, params, master, "decrypt", what, diag) < 0) {
		goto out;
	}
	/* version 2 encrypts with the file's own key; version 1 with the master itself */
	if (l->file_salt) {
		if (file_key(master, d + OFF_FILE_SALT, key) < 0) {
			openssl_error(diag, "decrypt", what);
			goto out;
		}
	} else {
		memcpy(key, master, CRYPT_KEY_LEN);
	}

	/* Decrypted into out's spare room, and counted in only once the tag matches: GCM
	 * hands out plaintext before it has seen the tag. */
	memcpy(tag, d + len - CRYPT_TAG_LEN, CRYPT_TAG_LEN);
	buf_grow(out, n);
	written = n;
	r = gcm(0, key, d, l, d + l->header_len, n, (unsigned char *)out->data + start, tag);
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

	/* the file proved to be this passphrase's: the next open of it, and the next seal if
	 * its KDF is the configured one, can reuse its master (with a file salt of its own) */
	memcpy(c->master, master, CRYPT_KEY_LEN);
	memcpy(c->kdf_salt, kdf_salt, CRYPT_SALT_LEN);
	c->master_kdf = kdf;
	c->params = params;
	c->have_master = 1;
	ret = 0;
out:
	if (ret < 0 && written) {
		OPENSSL_cleanse(out->data + start, written);
		buf_truncate(out, start);
	}
	OPENSSL_cleanse(master, sizeof master);
	OPENSSL_cleanse(key, sizeof key);
	return ret;
}

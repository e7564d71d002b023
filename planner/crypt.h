/* crypt.h: passphrase encryption of state files and saved plans (PBKDF2-HMAC-SHA256 or
 * scrypt for a master key, HKDF-SHA256 for a key per file, AES-256-GCM for the data); the
 * format is in docs/state.md, "Encryption".
 * Ownership: a struct crypt owns a copy of its passphrase and the master key derived from
 * it, and wipes both on release; the caller owns every buffer it passes. */
#ifndef STK_CRYPT_H
#define STK_CRYPT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/diag.h"

#define CRYPT_MAGIC "STKENC"
#define CRYPT_MAGIC_LEN 6
/* The version written; version 1 (no file salt, the PBKDF2 output as the AES key) is read */
#define CRYPT_VERSION 2
#define CRYPT_VERSION_1 1
/* The KDF ids of the header; the language's kdf = "pbkdf2" and kdf = "scrypt" */
#define CRYPT_KDF_PBKDF2_SHA256 1
#define CRYPT_KDF_SCRYPT 2
/* PBKDF2's parameter field is its iteration count. OWASP's 2023 figure for
 * PBKDF2-HMAC-SHA256; about 0.15 s on a current CPU */
#define CRYPT_ITER_MIN 600000u
/* A hostile file must not make stk derive a key for minutes: about 2.5 s */
#define CRYPT_ITER_MAX 10000000u
/*
 * scrypt's parameter field is log2(N), r, p and a zero byte. stk writes N = 2^16, r = 8,
 * p = 2: 64 MiB (128 * r * N bytes) and about 0.4 s, one of the settings OWASP's Password
 * Storage Cheat Sheet gives as equal to its N = 2^17, r = 8, p = 1 (the same work, half the
 * memory). A file is opened only when its cost is at least that (128 * r * N of 64 MiB or
 * more, N * r * p of 2^20 or more: a weaker file would weaken the master kept for the next
 * seal) and at most Colin Percival's figure for file encryption, N = 2^20, r = 8, p = 1
 * (1 GiB, N * r * p of 2^23, about 4 s): a hostile file must not make stk take gigabytes
 * or minutes.
 */
#define CRYPT_SCRYPT_LOG2_N 16u
#define CRYPT_SCRYPT_R 8u
#define CRYPT_SCRYPT_P 2u
#define CRYPT_SCRYPT_MEM_MIN (1ull << 26)
#define CRYPT_SCRYPT_MEM_MAX (1ull << 30)
#define CRYPT_SCRYPT_WORK_MIN (1ull << 20)
#define CRYPT_SCRYPT_WORK_MAX (1ull << 23)
#define CRYPT_KEY_LEN 32
#define CRYPT_SALT_LEN 16  /* the KDF salt and, in version 2, the file salt */
#define CRYPT_NONCE_LEN 12
#define CRYPT_TAG_LEN 16
/* HKDF-SHA256's info in version 2: file key = HKDF(master, file salt, this) */
#define CRYPT_HKDF_INFO "stk state v2"
/* Version 2: magic, version, KDF id, KDF parameters, KDF salt length and KDF salt, file salt
 * length and file salt, nonce length and nonce (59 bytes) */
#define CRYPT_HEADER_LEN (CRYPT_MAGIC_LEN + 1 + 1 + 4 + 1 + CRYPT_SALT_LEN + 1 + CRYPT_SALT_LEN + \
			  1 + CRYPT_NONCE_LEN)
/* What sealing adds to the plaintext: the header and the tag (75 bytes) */
#define CRYPT_OVERHEAD (CRYPT_HEADER_LEN + CRYPT_TAG_LEN)
/* Version 1, read only: the same without the file salt (42 and 58 bytes) */
#define CRYPT_HEADER_V1_LEN (CRYPT_MAGIC_LEN + 1 + 1 + 4 + 1 + CRYPT_SALT_LEN + 1 + CRYPT_NONCE_LEN)
#define CRYPT_OVERHEAD_V1 (CRYPT_HEADER_V1_LEN + CRYPT_TAG_LEN)

/*
 * One passphrase, the KDF its seals use, and the last master key derived from it. Deriving a
 * master is slow on purpose (600000 rounds of HMAC, or 64 MiB of scrypt), and apply writes
 * (and first re-reads) the state after every operation, so the master is kept: an open of a
 * file with the same KDF, parameters and KDF salt, and every seal after the first, reuse it.
 * A seal reuses it only when it was derived with the configured KDF: after opening a file
 * sealed with the other one, the next seal derives a master of its own, so that a change of
 * kdf takes effect at the next write. Each seal still draws a fresh random file salt and
 * nonce, and encrypts with its own file key, HKDF-SHA256(master, file salt): a cheap step,
 * so a run derives once and yet no two files share a salt or a key. Not for use by two
 * threads at once.
 */
struct crypt {
	char *passphrase;
	size_t passphrase_len;
	int kdf;  /* what seals derive a new master with: CRYPT_KDF_PBKDF2_SHA256 or _SCRYPT */
	unsigned char master[CRYPT_KEY_LEN];
	/* master was derived with these, when have_master: the KDF, the header's parameter
	 * field for it (PBKDF2's iterations, or scrypt's log2(N), r, p, 0 big-endian) and salt */
	int master_kdf;
	uint32_t params;
	unsigned char kdf_salt[CRYPT_SALT_LEN];
	int have_master;
	unsigned long derivations;  /* PBKDF2 and scrypt runs so far (the tests count them) */
};

/* kdf: CRYPT_KDF_PBKDF2_SHA256 or CRYPT_KDF_SCRYPT, the KDF that seals use */
void crypt_init(struct crypt *c, const char *passphrase, int kdf);
void crypt_release(struct crypt *c);

/* The KDF id of the language's name for it ("pbkdf2", "scrypt"), or 0 for another name */
int crypt_kdf_by_name(const char *name);
/* What messages call a KDF id: "PBKDF2-HMAC-SHA256", "scrypt" ("an unknown KDF" otherwise) */
const char *crypt_kdf_label(int kdf);
/* The KDF id in the header of sealed data, or 0 for data not sealed or too short to say.
 * Only as sure as the header: crypt_open() is what checks it. */
int crypt_sealed_kdf(const char *data, size_t len);
/* Whether crypt_open() derives a key for a header with this KDF id and parameter field,
 * rather than refusing it first (the fuzz targets use it to keep their one master). */
int crypt_params_accepted(int kdf, uint32_t params);

/* Does data start with the magic "STKENC", that is, should it be opened rather than read? */
int crypt_is_sealed(const char *data, size_t len);

/*
 * what names the file in messages, as "the WHAT": "state", "saved plan", "state stk.state".
 * Neither function ever puts the passphrase or the plaintext in a message.
 */

/* Appends the sealed form of plain (len bytes, possibly 0) to out, in format version 2 with
 * a fresh file salt and nonce. Derives the master key only when c has none yet, or has one
 * of another KDF than c->kdf. Returns 0, or -1 with an error in diag and out as it was. */
int crypt_seal(struct crypt *c, const char *what, const char *plain, size_t len,
	       struct buf *out, struct diag_ctx *diag);

/* Checks and decrypts a sealed file (version 2 or 1), appending the plaintext to out.
 * Returns 0, or -1 with an error in diag and out as it was: a wrong passphrase and altered
 * data are one error, since the tag cannot tell them apart. The file's own KDF and
 * parameters are used, whatever c->kdf is. On success the file's master key (its KDF,
 * parameters and KDF salt) is kept for the next open, and for the next seal if its KDF is
 * c->kdf. */
int crypt_open(struct crypt *c, const char *what, const char *data, size_t len,
	       struct buf *out, struct diag_ctx *diag);

#endif

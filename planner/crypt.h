/* crypt.h: passphrase encryption of state files and saved plans (PBKDF2-HMAC-SHA256 for a
 * master key, HKDF-SHA256 for a key per file, AES-256-GCM for the data); the format is in
 * docs/state.md, "Encryption".
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
#define CRYPT_KDF_PBKDF2_SHA256 1
/* OWASP's 2023 figure for PBKDF2-HMAC-SHA256; about 0.15 s on a current CPU */
#define CRYPT_ITER_MIN 600000u
/* A hostile file must not make stk derive a key for minutes: about 2.5 s */
#define CRYPT_ITER_MAX 10000000u
#define CRYPT_KEY_LEN 32
#define CRYPT_SALT_LEN 16  /* the KDF salt and, in version 2, the file salt */
#define CRYPT_NONCE_LEN 12
#define CRYPT_TAG_LEN 16
/* HKDF-SHA256's info in version 2: file key = HKDF(master, file salt, this) */
#define CRYPT_HKDF_INFO "stk state v2"
/* Version 2: magic, version, KDF id, iterations, KDF salt length and KDF salt, file salt
 * length and file salt, nonce length and nonce (59 bytes) */
#define CRYPT_HEADER_LEN (CRYPT_MAGIC_LEN + 1 + 1 + 4 + 1 + CRYPT_SALT_LEN + 1 + CRYPT_SALT_LEN + \
			  1 + CRYPT_NONCE_LEN)
/* What sealing adds to the plaintext: the header and the tag (75 bytes) */
#define CRYPT_OVERHEAD (CRYPT_HEADER_LEN + CRYPT_TAG_LEN)
/* Version 1, read only: the same without the file salt (42 and 58 bytes) */
#define CRYPT_HEADER_V1_LEN (CRYPT_MAGIC_LEN + 1 + 1 + 4 + 1 + CRYPT_SALT_LEN + 1 + CRYPT_NONCE_LEN)
#define CRYPT_OVERHEAD_V1 (CRYPT_HEADER_V1_LEN + CRYPT_TAG_LEN)

/*
 * One passphrase, and the last master key derived from it. Deriving a master takes 600000
 * rounds of HMAC on purpose, and apply writes (and first re-reads) the state after every
 * operation, so the master is kept: an open of a file with the same KDF salt and iteration
 * count, and every seal after the first, reuse it. Each seal still draws a fresh random file
 * salt and nonce, and encrypts with its own file key, HKDF-SHA256(master, file salt): a
 * cheap step, so a run derives PBKDF2 once and yet no two files share a salt or a key. Not
 * for use by two threads at once.
 */
struct crypt {
	char *passphrase;
	size_t passphrase_len;
	unsigned char master[CRYPT_KEY_LEN];
	unsigned char kdf_salt[CRYPT_SALT_LEN];  /* master was derived with these, when have_master */
	uint32_t iterations;
	int have_master;
	unsigned long derivations;  /* PBKDF2 runs so far (the tests count them) */
};

void crypt_init(struct crypt *c, const char *passphrase);
void crypt_release(struct crypt *c);

/* Does data start with the magic "STKENC", that is, should it be opened rather than read? */
int crypt_is_sealed(const char *data, size_t len);

/*
 * what names the file in messages, as "the WHAT": "state", "saved plan", "state stk.state".
 * Neither function ever puts the passphrase or the plaintext in a message.
 */

/* Appends the sealed form of plain (len bytes, possibly 0) to out, in format version 2 with
 * a fresh file salt and nonce. Derives the master key only when c has none yet. Returns 0,
 * or -1 with an error in diag and out as it was. */
int crypt_seal(struct crypt *c, const char *what, const char *plain, size_t len,
	       struct buf *out, struct diag_ctx *diag);

/* Checks and decrypts a sealed file (version 2 or 1), appending the plaintext to out.
 * Returns 0, or -1 with an error in diag and out as it was: a wrong passphrase and altered
 * data are one error, since the tag cannot tell them apart. On success the file's master
 * key (its KDF salt and iteration count) is kept for the next seal. */
int crypt_open(struct crypt *c, const char *what, const char *data, size_t len,
	       struct buf *out, struct diag_ctx *diag);

#endif

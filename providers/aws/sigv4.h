/* sigv4.h: AWS Signature Version 4 (AWS4-HMAC-SHA256), in the Authorization header or in a
 * presigned query string, canonicalised exactly as AWS's own signers do (it passes the
 * aws-c-auth signing test suite kept in tests/sigv4/).
 *
 * A request is described as it will go on the wire: the path and query string are already
 * URI-encoded once (build them with sigv4_uri_encode), headers are given in the order they
 * are sent and must include Host. Outputs are appended to the caller's buffers; on failure
 * (-1) a buffer is left as it was.
 *
 * Secrets: the secret access key is only read; the copy HMAC needs ("AWS4" + secret) and the
 * keys derived from it are wiped (OPENSSL_cleanse) before returning, and never cached.
 * Nothing here prints or logs anything.
 * Threads: no global state; every function may be called from several threads at once. */
#ifndef STK_SIGV4_H
#define STK_SIGV4_H

#include "common/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define SIGV4_HEX_LEN 64   /* a hex SHA-256 or signature, without its NUL */

struct sigv4_header {
	const char *name;
	const char *value;
};

struct sigv4_request {
	const char *method;                  /* "GET", as sent */
	const char *path;                    /* "/a%20b", as sent; NULL or "" is "/" */
	/* "a=1&b=2", as sent, no '?'; NULL or "" if none. Names and values are decoded and
	 * encoded again canonically, so "%7e" and "~" sign alike; a '+' is a plus sign (%2B),
	 * never a space, and a '%' not followed by two hex digits makes signing fail. */
	const char *query;
	/* As sent, in order; repeats allowed. All are signed but User-Agent, X-Amzn-Trace-Id
	 * and the hop-by-hop ones (Connection, Expect, Transfer-Encoding, ...), which proxies
	 * and SDKs change on the way: botocore leaves the same ones out. */
	const struct sigv4_header *headers;
	size_t nheaders;
	const void *body;                    /* hashed unless payload_hash is set */
	size_t body_len;
	/* The payload hash to sign instead of hashing body: a hex SHA-256 computed elsewhere, or
	 * SIGV4_UNSIGNED_PAYLOAD (S3 only, e.g. for presigned URLs). NULL to hash body. */
	const char *payload_hash;
};

struct sigv4_credentials {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;           /* NULL or "" for long-term credentials */
};

struct sigv4_config {
	const struct sigv4_credentials *creds;
	const char *region;                  /* "eu-west-1" */
	const char *service;                 /* signing name: "ec2", "s3", "sts", "dynamodb" */
	time_t time;                         /* signing time, UTC seconds since the epoch (from a
						struct tm in UTC: timegm()) */
	/* Remove "." and ".." segments and empty segments ("//") from the path. Every service
	 * but S3, whose keys may legitimately contain them. */
	bool normalize_path;
	/* URI-encode the (already encoded) path once more, as every service but S3 expects. */
	bool double_encode_path;
	/* sigv4_sign_headers adds x-amz-content-sha256 (the payload hash) and signs it: S3. */
	bool sign_content_sha256;
	/* Send X-Amz-Security-Token but leave it out of the signature, as a few services want
	 * (IoT's MQTT over WebSocket). */
	bool omit_session_token;
	/* X-Amz-Expires for sigv4_presign, in seconds (AWS allows 1 to 604800); 0 leaves it out. */
	unsigned expires;
};

enum sigv4_kind {
	SIGV4_HEADERS,   /* signature in the Authorization header */
	SIGV4_QUERY,     /* signature in the query string: a presigned URL */
};

/* The headers sigv4_sign_headers adds, in the order they are to be sent: X-Amz-Security-Token
 * (when there is a session token), X-Amz-Date, x-amz-content-sha256 (when asked for) and
 * Authorization. Names are static strings; values are owned. */
#define SIGV4_MAX_AUTH_HEADERS 4
struct sigv4_auth_header {
	const char *name;
	char *value;
};
struct sigv4_auth_headers {
	struct sigv4_auth_header h[SIGV4_MAX_AUTH_HEADERS];
	size_t n;
};

/* Fills in cfg with the defaults for service: S3 ("s3", "s3-outposts", "s3-object-lambda",
 * "s3express") neither normalises nor double-encodes its paths and signs
 * x-amz-content-sha256; every other service does the opposite. Presigned URLs last an hour. */
void sigv4_config_init(struct sigv4_config *cfg, const struct sigv4_credentials *creds,
		       const char *region, const char *service, time_t time);

/* Appends the canonical request. For SIGV4_HEADERS it covers the headers sigv4_sign_headers
 * adds (X-Amz-Date and so on); for SIGV4_QUERY, the query parameters sigv4_presign adds.
 * Fails (-1) on a missing method, credential, region or service, characters in those that
 * would change the Authorization header's meaning (space, ',', '/', newline), a time outside
 * years 1970-9999, a request without Host, a malformed header name, a malformed query, a
 * header or query parameter the signer sets itself (Authorization, X-Amz-Date, ...) or a
 * crypto failure. The other signing functions fail alike. */
int sigv4_canonical_request(struct buf *out, const struct sigv4_request *req,
			    const struct sigv4_config *cfg, enum sigv4_kind kind);

/* Appends the string to sign for a canonical request of len bytes. */
int sigv4_string_to_sign(struct buf *out, const char *canonical, size_t len,
			 const struct sigv4_config *cfg);

/* Writes the hex signature of a string to sign of len bytes into out (NUL-terminated). */
int sigv4_signature(char out[SIGV4_HEX_LEN + 1], const char *string_to_sign, size_t len,
		    const struct sigv4_config *cfg);

/* Signs req for the Authorization header: fills *out with the headers to add (see above).
 * On success release them with sigv4_auth_headers_release; on failure *out is empty. */
int sigv4_sign_headers(struct sigv4_auth_headers *out, const struct sigv4_request *req,
		       const struct sigv4_config *cfg);
void sigv4_auth_headers_release(struct sigv4_auth_headers *h);

/* Presigns req: appends the query string to send in its place: req->query as given, then
 * X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders, X-Amz-Expires,
 * X-Amz-Security-Token and X-Amz-Signature, encoded. Only req's headers are signed (Host at
 * least); the usual payload hash for a URL handed to someone else is SIGV4_UNSIGNED_PAYLOAD. */
int sigv4_presign(struct buf *out, const struct sigv4_request *req,
		  const struct sigv4_config *cfg);

/* Writes the lower-case hex SHA-256 of data into out (NUL-terminated). */
int sigv4_sha256_hex(const void *data, size_t len, char out[SIGV4_HEX_LEN + 1]);

/* Appends text URI-encoded as SigV4 wants: A-Z a-z 0-9 - . _ ~ kept, every other byte %XX
 * (upper-case hex); '/' is kept unless encode_slash. Use encode_slash for query names and
 * values, not for paths. Never produces '+'. */
void sigv4_uri_encode(struct buf *out, const char *text, int encode_slash);

#endif

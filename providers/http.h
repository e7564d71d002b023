/* http.h: the one HTTP layer every provider uses (AWS query and JSON APIs, the Docker Engine
 * API, container registries): libcurl underneath, retries with capped exponential backoff and
 * full jitter, a shared retry budget, cancellation, streaming, and a debug log with secrets
 * redacted. docs/http.md describes the behaviour; this file is the reference.
 *
 * Threads: http_do() may be called on one client from any number of threads at once, each with
 * its own request and response. Everything else about a client (init, settings, release) is
 * for one thread while no request is in flight.
 *
 * Ownership: a request borrows its method, URL, body and file names (they must outlive
 * http_do()) and owns its header list; a response owns everything in it. */
#ifndef STK_HTTP_H
#define STK_HTTP_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/buf.h"

struct diag_ctx;
struct http_request;
struct http_response;

/* ---- process-wide ---- */

/* curl_global_init(), the cancel pipe, xmlInitParser() and SIGPIPE ignored (libcurl cannot
 * block it per thread once CURLOPT_NOSIGNAL is set, and a peer closing a TLS connection must
 * not kill the process): done once, by the first call (pthread_once), so commands that make
 * no request never do it. http_client_init() calls it, so it comes before any request; code
 * that starts threads which may make the first client (apply's workers) calls it before
 * starting them, as curl_global_init() is thread-safe only from libcurl 7.84. Not to be called
 * again after http_global_cleanup(). Returns 0, or -1 with a diagnostic in ctx (NULL: none). */
int http_global_init(struct diag_ctx *ctx);
void http_global_cleanup(void);

/* Cancels every request in flight or waiting to retry, in every thread: transfers abort within
 * about a second (libcurl's progress callback) and backoff waits at once; new requests fail at
 * once with "cancelled". Async-signal-safe: meant for a second SIGINT. */
void http_cancel(void);
int http_cancelled(void);
/* Clears the flag again (tests, or a long-lived process that recovers). Not signal-safe. */
void http_cancel_reset(void);

/* ---- headers: an ordered list; names compare without regard to case ---- */

struct http_header {
	char *name;
	char *value;
};

struct http_headers {
	struct buf items; /* struct http_header */
};

#define HTTP_HEADERS_INIT { BUF_INIT }

void http_headers_init(struct http_headers *h);
void http_headers_release(struct http_headers *h);
void http_headers_clear(struct http_headers *h);
/* Appends, keeping any header of the same name. */
void http_headers_add(struct http_headers *h, const char *name, const char *value);
/* Replaces every header of that name with one (where the first was, else at the end). */
void http_headers_set(struct http_headers *h, const char *name, const char *value);
void http_headers_remove(struct http_headers *h, const char *name);
/* The value of the first header of that name, or NULL. */
const char *http_headers_get(const struct http_headers *h, const char *name);
size_t http_headers_count(const struct http_headers *h);
const struct http_header *http_headers_at(const struct http_headers *h, size_t i);

/* ---- retry reasons and statistics ---- */

/* Why an attempt is worth retrying. A classifier returns one of these; HTTP_NO_RETRY (0)
 * means the response is final, whatever its status. */
enum http_reason {
	HTTP_NO_RETRY = 0,
	HTTP_RETRY_THROTTLED,	/* 429, or an AWS throttling error code */
	HTTP_RETRY_SERVER,	/* 5xx */
	HTTP_RETRY_CONNECT,	/* CURLE_COULDNT_CONNECT */
	HTTP_RETRY_RESET,	/* RECV_ERROR, SEND_ERROR, GOT_NOTHING, PARTIAL_FILE */
	HTTP_RETRY_TIMEOUT,	/* OPERATION_TIMEDOUT */
	HTTP_RETRY_TRANSIENT,	/* a classifier's other transient errors (AWS RequestTimeout) */
	HTTP_REASON_COUNT
};

const char *http_reason_name(enum http_reason r); /* "throttled", "connection resets", ... */

struct http_stats {
	unsigned long requests;		/* http_do() calls */
	unsigned long attempts;		/* transfers started */
	unsigned long retries;		/* attempts after the first */
	unsigned long failures;		/* http_do() calls that returned -1 */
	unsigned long budget_exhausted;	/* retries refused because the budget was empty */
	unsigned long connections;	/* new connections opened (CURLINFO_NUM_CONNECTS) */
	unsigned long retries_by[HTTP_REASON_COUNT];
};

/* "retried 12 times: 8 throttled, 4 connection resets", or "no retries". */
void http_stats_describe(const struct http_stats *s, struct buf *out);

/* ---- the client: settings, the retry budget, counters, pooled handles ---- */

enum http_log_level { HTTP_LOG_OFF, HTTP_LOG_INFO, HTTP_LOG_DEBUG };

typedef int http_classify_fn(void *arg, const struct http_response *resp);

struct http_client {
	/* Settings: http_client_init() sets the defaults; change them before the first request. */
	unsigned max_attempts;		/* per request, the first included: 8 */
	long backoff_base_ms;		/* 100: the n-th retry waits random(0, min(cap, base * 2^n)) */
	long backoff_cap_ms;		/* 20000 */
	long retry_after_cap_ms;	/* 20000: a server's Retry-After is honoured up to this */
	long connect_timeout_ms;	/* 10000 */
	long timeout_ms;		/* 60000, per attempt; negative: none (long streams) */
	unsigned budget_max;		/* 500 tokens; 0 disables the budget */
	unsigned retry_cost;		/* 5 tokens per retry */
	unsigned timeout_retry_cost;	/* 10 tokens per retry after a timeout */
	unsigned success_refund;	/* 1 token back for a success at the first attempt */
	const char *user_agent;		/* "stk"; borrowed */
	enum http_log_level log_level;	/* from STK_LOG: "debug", "info", else off */
	FILE *log;			/* stderr */
	http_classify_fn *retryable;	/* for requests without their own: http_retryable_default */
	void *retryable_arg;

	/* State: private to http.c; read the counters with http_client_stats(). */
	pthread_mutex_t lock;		/* the budget, the counters and the idle handles */
	unsigned budget_used;		/* tokens taken by retries and not yet refunded */
	struct http_stats stats;
	struct buf idle;		/* CURL *: released handles, keeping their connections */
	void *share;			/* CURLSH *: DNS cache and TLS sessions */
	pthread_mutex_t share_locks[8];	/* one per curl_lock_data kind */
	char *ca_file;			/* CURL_CA_BUNDLE or SSL_CERT_FILE, read at init */
	char *no_proxy;			/* NO_PROXY plus loopback, which is never proxied */
};

/* Returns 0, or -1 with a diagnostic in ctx (which may be NULL). Reads STK_LOG, CURL_CA_BUNDLE,
 * SSL_CERT_FILE and NO_PROXY now, so a client never calls getenv() from a worker thread. */
int http_client_init(struct http_client *c, struct diag_ctx *ctx);
void http_client_release(struct http_client *c);
/* A consistent snapshot of the counters. */
void http_client_stats(struct http_client *c, struct http_stats *out);
/* The wait before retry number `retry` (0 for the first): full jitter, in milliseconds. */
long http_backoff_ms(const struct http_client *c, unsigned retry);

/* ---- requests and responses ---- */

/* Upload streams. read returns the bytes it put in buf (0 at the end) or -1 on error; rewind
 * goes back to the start for a retry and returns 0, or -1 if it cannot. */
typedef ssize_t http_read_fn(void *arg, char *buf, size_t len);
typedef int http_rewind_fn(void *arg);
/* Called before every attempt, the first included: (re)sign the request, replacing headers as
 * needed (a SigV4 signature covers the date, so a retry needs a new one). Non-zero fails the
 * request without retrying. */
typedef int http_sign_fn(void *arg, struct http_request *req);
/* Streamed response bodies: called as data arrives (or once per line); non-zero aborts. */
typedef int http_body_fn(void *arg, const char *data, size_t len);

struct http_request {
	const char *method;		/* "GET", "POST", "PUT", "DELETE", "HEAD", ... */
	const char *url;
	struct http_headers headers;

	/* The body: bytes in memory, or a stream (upload_fd >= 0, or upload_read). A stream is
	 * retried only if it can be rewound: a seekable fd, or an upload_rewind callback. */
	const void *body;
	size_t body_len;
	int upload_fd;			/* -1: none */
	http_read_fn *upload_read;
	http_rewind_fn *upload_rewind;	/* NULL: a streamed upload is never retried */
	void *upload_arg;
	int64_t upload_len;		/* -1: unknown, sent chunked */

	/* Where and how to connect. */
	const char *unix_socket;	/* CURLOPT_UNIX_SOCKET_PATH: the Docker socket */
	const char *tls_cert;		/* client certificate (PEM), Docker over TCP+TLS */
	const char *tls_key;
	const char *tls_ca;		/* CA bundle; otherwise the client's, or the system's */
	long connect_timeout_ms;	/* 0: the client's */
	long timeout_ms;		/* 0: the client's; negative: none */
	int follow_redirects;		/* registries redirect blob downloads; off by default */
	int secret_body;		/* the debug log shows both bodies' sizes only (a state file,
					   whose values no key name marks as secret) */

	/* Retries. */
	unsigned max_attempts;		/* 0: the client's */
	http_classify_fn *retryable;	/* NULL: the client's */
	void *retryable_arg;
	http_sign_fn *sign;
	void *sign_arg;

	/* Streamed response body: only 2xx bodies are streamed (an error body is kept in
	 * resp->body for the classifier and the caller). Once any data has been delivered, a
	 * failed transfer is not retried, since the callback would see it twice. */
	http_body_fn *on_body;
	void *on_body_arg;
	int body_lines;			/* deliver one line at a time, without its newline */
};

struct http_response {
	long status;			/* 0: no complete HTTP response */
	struct http_headers headers;
	struct buf body;		/* empty when streamed to on_body */
	char *error;			/* why the request failed; NULL when http_do() returned 0 */
	int curl_code;			/* CURLcode of the last attempt */
	unsigned attempts;
	long elapsed_ms;		/* all attempts and waits */
};

void http_request_init(struct http_request *req, const char *method, const char *url);
void http_request_release(struct http_request *req);
void http_response_init(struct http_response *resp);
void http_response_release(struct http_response *resp);
const char *http_response_header(const struct http_response *resp, const char *name);

/* Runs the request, retrying as the rules say. Returns 0 when a final response arrived, whatever
 * its status (404 is an answer); -1 when none did: a transport error, cancelled, or still
 * failing after the last attempt or once the retry budget ran out. On -1, resp->error says why
 * and resp->status, headers and body hold the last attempt's response, if it got a whole one. */
int http_do(struct http_client *c, struct http_request *req, struct http_response *resp);

/* Adds an error "METHOD URL: why" to ctx for a failed request (not thread-safe: ctx is the
 * caller's). The URL is redacted as in the log. */
void http_diag(struct diag_ctx *ctx, const struct http_request *req,
	       const struct http_response *resp);

/* ---- classifiers ---- */

/* 429 is throttling; 5xx (except 501 and 505, which will not change) a server error. */
int http_retryable_default(void *arg, const struct http_response *resp);
/* The default, plus AWS error codes in XML (<Code>) or JSON ("__type", "code") bodies or the
 * x-amzn-ErrorType header: Throttling, ThrottlingException, RequestLimitExceeded,
 * TooManyRequestsException, SlowDown and the rest of the SDKs' list; RequestTimeout too. */
int http_retryable_aws(void *arg, const struct http_response *resp);
/* The AWS error code of a response ("Throttling"), copied into out; 0, or -1 if none (or it
 * does not fit). From x-amzn-ErrorType, else the first <Code> element of an XML body, else
 * "__type", "code" or "Code" of a JSON body; see docs/http.md. */
int http_aws_error_code(const struct http_response *resp, char *out, size_t size);

/* ---- redaction, as the log does it (exported for the tests and for callers' messages) ---- */

/* Appends the value of header name as it may be shown. */
void http_redact_header(const char *name, const char *value, struct buf *out);
/* Appends the body as it may be shown: JSON, XML or form fields whose names look secret have
 * their values replaced by [redacted]. JSON and XML are parsed and written back; one that
 * does not parse (cut short, malformed) is replaced by "[N bytes, not well-formed XML: not
 * shown]". content_type may be NULL (the body is sniffed). */
void http_redact_body(const char *content_type, const char *data, size_t len, struct buf *out);
/* Appends the URL with any password and secret-looking query parameters replaced. */
void http_redact_url(const char *url, struct buf *out);
/* Does a field, parameter or header name look like it holds a secret? */
int http_secret_name(const char *name, size_t len);

#endif

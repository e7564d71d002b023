/* net.h: what stk's core asks of the providers and of the HTTP layer. They live in a module
 * of their own, stk-net.so (providers/net_table.c gives its table), loaded with dlopen on the
 * first call: libcurl, libxml2 and libarchive bring some forty libraries, and loading them
 * took 8 ms of every start, so the commands that make no request (validate, fmt, graph,
 * plan -refresh=false, state list) no longer pay for them. A program linked with the
 * providers themselves (the unit tests, the fuzzers) gets their table without loading
 * anything. No ownership: the table's functions say what they return. */
#ifndef STK_NET_H
#define STK_NET_H

struct buf;
struct diag_ctx;
struct provider_ops;
struct aws_backend;
struct state_remote;

/* backend s3's settings as the stack block gives them (cli/store.c); NULL or 0: not set. */
struct aws_backend_settings {
	const char *bucket, *key;
	const char *region;            /* NULL: the profile's, or the environment's */
	const char *lock_table;        /* lock_table, or Terraform's dynamodb_table; NULL: no locking */
	const char *profile;           /* NULL: AWS_PROFILE, else "default" */
	const char *endpoint;          /* S3's URL, over AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL */
	const char *dynamodb_endpoint; /* the lock table's, likewise */
	int encrypt;                   /* PutObject with server-side encryption (AES256) */
};

struct stk_net {
	const struct provider_ops *(*provider_find)(const char *name);
	int (*http_global_init)(struct diag_ctx *ctx);
	void (*http_cancel)(void);
	int (*http_cancelled)(void);
	void (*http_cancel_reset)(void);
	struct aws_backend *(*aws_backend_new)(const struct aws_backend_settings *s, struct diag_ctx *diag);
	void (*aws_backend_free)(struct aws_backend *b);
	const struct state_remote *(*aws_backend_remote)(struct aws_backend *b);
	const char *(*aws_backend_path)(const struct aws_backend *b);
	int (*aws_backend_workspaces)(struct aws_backend *b, const char *prefix, const char *key,
				      struct buf *names, struct diag_ctx *diag);
	int (*aws_backend_delete)(struct aws_backend *b, struct diag_ctx *diag);
};

/* The module's table (providers/net_table.c). */
extern const struct stk_net stk_net;

/* The table, loading the module on the first call ($STK_NET_MODULE when set, else from
 * beside the stk binary, else from the installed STK_PKGLIBEXECDIR). NULL when it cannot be loaded, with an error in diag when
 * diag is not NULL. Thread-safe. */
const struct stk_net *net_get(struct diag_ctx *diag);
/* The table if it is loaded already, else NULL (then no request was ever made, and there is
 * nothing to cancel). Async-signal-safe. */
const struct stk_net *net_loaded(void);

/* provider_find through the table: NULL for a provider stk does not have, or (with an error in
 * diag) when the module cannot be loaded. */
const struct provider_ops *net_provider_find(const char *name, struct diag_ctx *diag);

#endif

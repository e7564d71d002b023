/* provider.h: the one interface between the planner and every provider. A provider turns a
 * planned object into a real one (create, update, delete), reads real objects back (in batches:
 * one call for many objects of a type), and answers data source queries.
 *
 * Threads: operations run on worker threads, several at once. A provider must not take or drop
 * references to the values it is given (they are borrowed and shared with the planner's
 * thread); it builds new values for what it returns. Its own state must be safe for
 * concurrent calls.
 * Ownership: a provider instance owns what its configure() allocated; provider_free releases it. */
#ifndef STK_PROVIDER_H
#define STK_PROVIDER_H

#include "common/diag.h"
#include "planner/value.h"
#include "providers/schema.h"

struct provider;

/* One operation on one resource instance. */
struct provider_op {
	const char *type;              /* "vpc" for aws.vpc */
	const char *addr;              /* "aws.vpc.main": for messages and progress */
	const struct value *prior;     /* the state's attributes; NULL when creating */
	const struct value *planned;   /* the planned attributes, computed ones unknown; NULL when
					  deleting */
	const char *token;             /* a unique token for this create: tag it on the object so
					  an interrupted create can be found again */
	int timeout_s;                 /* the resource's timeout for this operation */
	/* Progress for long operations ("Still creating... [20s elapsed]" comes from the caller;
	 * this is for what only the provider knows, such as build output). May be NULL. */
	void (*progress)(void *arg, const char *line);
	void *progress_arg;
};

/* What a read of one object found. */
struct provider_read {
	const char *type;
	const struct value *prior;     /* in: the state's attributes (id and the like) */
	struct value *result;          /* out: the object now, or NULL when it is gone */
};

struct provider_ops {
	const char *name;                       /* "aws", "docker", "local" */
	const struct schema_provider *schema;
	/* config: the provider block's evaluated value (a map; NULL when there is no block).
	 * Returns a new provider, or NULL after a diagnostic. */
	struct provider *(*configure)(const struct value *config, struct diag_ctx *diag);
	void (*release)(struct provider *p);
	/* Each returns 0 with *result set to the object's attributes as they now are (all known),
	 * or -1 after a diagnostic; on -1 *result may still be set when an object was made but
	 * is not right (the caller keeps it in the state, tainted). */
	int (*create)(struct provider *p, const struct provider_op *op, struct value **result,
		      struct diag_ctx *diag);
	int (*update)(struct provider *p, const struct provider_op *op, struct value **result,
		      struct diag_ctx *diag);
	int (*remove)(struct provider *p, const struct provider_op *op, struct diag_ctx *diag);
	/* Reads n objects of one type at once (few API calls, not n). */
	int (*read)(struct provider *p, struct provider_read *items, size_t n, struct diag_ctx *diag);
	/* A data source: config is its evaluated arguments; *result its attributes. */
	int (*read_data)(struct provider *p, const char *type, const struct value *config,
			 struct value **result, struct diag_ctx *diag);
	/* Finds an object created under token (after an interrupted create); NULL result when
	 * there is none. planned: the create's known arguments, as the intent recorded them
	 * (names, for types found by name and then checked for the token). Returns 0, -1 on
	 * error, or 1 when the object was found but the create may not have finished what it
	 * does once the object exists (a container's uploads, start, health wait): it is then
	 * adopted tainted, and the next apply replaces it. */
	int (*find_by_token)(struct provider *p, const char *type, const char *token,
			     const struct value *planned, struct value **result, struct diag_ctx *diag);
	/* Adds one line on the requests made so far when there is something worth telling
	 * (retries), nothing otherwise: "312 requests; retried 12 times: 8 throttled, ...".
	 * May be NULL. */
	void (*describe)(struct provider *p, struct buf *out);
};

struct provider {
	const struct provider_ops *ops;
};

extern const struct provider_ops provider_host;

/* The providers stk has, NULL-terminated. */
extern const struct provider_ops *const provider_list[];
const struct provider_ops *provider_find(const char *name);

#endif

/* backend.h: the state in S3, locked with a DynamoDB item (`backend s3` in the stack block),
 * as a state_remote: planner/state.c reads, writes and locks "s3://BUCKET/KEY" through it.
 * Ownership: an aws_backend owns its AWS client and strings; the state_remote it gives points
 * into it and lives as long as it. */
#ifndef STK_AWS_BACKEND_H
#define STK_AWS_BACKEND_H

#include "common/diag.h"
#include "planner/state.h"
#include "providers/net.h"

struct aws_backend;

/* s->bucket and s->key are set; without s->lock_table, no locking beyond the one process. The
 * strings are copied. NULL after a diagnostic (no credentials, no region). */
struct aws_backend *aws_backend_new(const struct aws_backend_settings *s, struct diag_ctx *diag);
void aws_backend_free(struct aws_backend *b);

/* The remote to give state_set_remote(), and the state's path under it ("s3://bucket/key"). */
const struct state_remote *aws_backend_remote(struct aws_backend *b);
const char *aws_backend_path(const struct aws_backend *b);
/* The workspaces other than default that the bucket holds a state of: every object
 * PREFIX/NAME/KEY (KEY the backend's own key, which is the default workspace's), NAME
 * appended to names (char *, caller frees), sorted as S3 lists them. 0, or -1 after an error. */
int aws_backend_workspaces(struct aws_backend *b, const char *prefix, const char *key, struct buf *names,
			   struct diag_ctx *diag);
/* DeleteObject of the backend's key. 0, or -1 after an error. */
int aws_backend_delete(struct aws_backend *b, struct diag_ctx *diag);

#endif

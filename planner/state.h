/* state.h: what stk knows about the real infrastructure it manages (Terraform's
 * terraform.tfstate): the state model, its JSON file and the lock that keeps two runs from
 * writing it at once. docs/state.md describes the file and the guarantees.
 *
 * Ownership: a struct state owns its resources, instances, outputs and their values; lookups
 * return borrowed pointers that stay valid until that entry is removed or the state is
 * released (resources and instances are allocated one by one, so adding others does not move
 * them). Functions taking values borrow them and keep references of their own. */
#ifndef STK_STATE_H
#define STK_STATE_H

#include <stdint.h>

#include <jansson.h>

#include "common/diag.h"
#include "planner/addr.h"
#include "planner/value.h"

/* The file format this stk writes, and the newest it reads. */
#define STATE_FORMAT_VERSION 1

/* state_read()'s return when there was no file: the state is new and empty. */
#define STATE_NEW 1

enum state_status {
	STATE_READY,    /* created and recorded */
	STATE_TAINTED,  /* created, but to be replaced: a create that failed halfway, or asked for */
	STATE_PENDING,  /* a create about to be made: recorded before the call, under a token */
};

struct state_instance {
	struct value *key;         /* NULL (no count or for_each), a number or a string */
	enum state_status status;
	struct value *attrs;       /* a VAL_MAP; its sensitive parts are marked VAL_SENSITIVE */
	char **deps;               /* addresses this depends on ("aws.vpc.main"): sorted, unique */
	size_t ndeps;
	char *token;               /* the pending create's idempotency token; NULL when none */
	char *priv;                /* "private": the provider's opaque data; NULL when none */
	/*
	 * The objects a create_before_destroy replacement put out of the way (Terraform's
	 * deposed objects): the old ones, recorded from the moment the new one is, until their
	 * destroy succeeds. Each is a struct state_instance of its own with deposed_key set, its
	 * key NULL, ready, no token and no deposed objects; sorted by deposed_key.
	 */
	struct state_instance **deposed;
	size_t ndeposed;
	char *deposed_key;         /* a deposed object's name in its instance: 8 hex digits
				      ("1a2b3c4d"); NULL for the current object */
};

struct state_resource {
	char *module;              /* "" for the root module, "module.web", "module.web[0]" */
	enum addr_mode mode;
	char *type;                /* "aws.vpc" */
	char *name;
	char *provider;            /* the provider configuration: "aws" or "aws.eu" */
	char *provider_module;     /* the module whose own block of that name made it
				      ("module.net"); NULL: the root's (or no block) */
	struct state_instance **instances;   /* sorted by key: none, numbers, strings */
	size_t ninstances;
};

struct state_output {
	char *name;
	struct value *value;       /* marked VAL_SENSITIVE when the output is sensitive */
	int sensitive;
};

struct state {
	int version;               /* the format version read (STATE_FORMAT_VERSION when new) */
	uint64_t serial;           /* every write stores serial + 1 */
	char *lineage;             /* a UUID naming this state's history; NULL until read/written */
	char *stk_version;         /* the stk that wrote the file; NULL when new */
	struct state_output *outputs;        /* sorted by name */
	size_t noutputs;
	struct state_resource **resources;   /* sorted by address */
	size_t nresources;
	/*
	 * The serial of the file at the path when it was read or last written (0: there was
	 * no file). state_write() refuses to replace a file that has moved on since.
	 */
	uint64_t disk_serial;
	/*
	 * The SHA-256 of the file's bytes then (has_disk_digest): a file that still hashes the
	 * same is the one read or written, so state_write() need not parse it again to check.
	 */
	unsigned char disk_digest[32];
	int has_disk_digest;
	/* 0 when the file read (or last written) was in clear, else the KDF it was sealed with,
	 * CRYPT_KDF_* of planner/crypt.h (stk state encrypt/decrypt leave one as asked alone) */
	int disk_sealed;
};

void state_init(struct state *st);
void state_release(struct state *st);

/* ---- resources and instances, by address ---- */

/* The resource of a (its key is ignored), or NULL. */
struct state_resource *state_find_resource(const struct state *st, const struct addr *a);
/* The resource of a, added (without instances) when missing; its provider is set. */
struct state_resource *state_add_resource(struct state *st, const struct addr *a,
					  const char *provider);
/* Sets the module whose provider block made res's objects ("module.net"); NULL: the root's. */
void state_resource_set_provider_module(struct state_resource *res, const char *module);
/* Removes the resource of a with all its instances. Returns 0, or -1 when there is none. */
int state_remove_resource(struct state *st, const struct addr *a);

/* The instance at a (with its key), or NULL. */
struct state_instance *state_find_instance(const struct state *st, const struct addr *a);
struct state_instance *state_resource_find_instance(const struct state_resource *res,
						    const struct value *key);
/* The instance at a, added (ready, with {} attributes) when missing, and its resource with
 * provider when that is missing. Returns NULL when a's key is not a valid instance key. */
struct state_instance *state_add_instance(struct state *st, const struct addr *a,
					  const char *provider);
/* Removes the instance at a, and its resource once that has no instances left. Returns 0,
 * or -1 when there is none. */
int state_remove_instance(struct state *st, const struct addr *a);

/* Moves the instance at src, with everything the state records of it, to dst, under the same
 * provider (stk state mv, moved blocks). Returns 0, or -1 when src is missing or dst is
 * taken (nothing changes then). */
int state_move_instance(struct state *st, const struct addr *src, const struct addr *dst);
/* The address of an instance of res: "module.web.aws.vpc.main[0]". */
void state_instance_address(const struct state_resource *res,
			    const struct state_instance *inst, struct buf *out);
/* The address of res (no key), as an addr. */
void state_resource_addr(const struct state_resource *res, struct addr *out);

/* Setters that manage the memory. attrs must be a map (or NULL for {}). */
void state_instance_set_attrs(struct state_instance *inst, struct value *attrs);
void state_instance_add_dep(struct state_instance *inst, const char *address);
void state_instance_clear_deps(struct state_instance *inst);
void state_instance_set_token(struct state_instance *inst, const char *token);
void state_instance_set_private(struct state_instance *inst, const char *priv);

const char *state_status_name(enum state_status s);

/* ---- deposed objects ---- */

/* Is key a deposed object's key: 8 lower-case hex digits? */
int state_deposed_key_valid(const char *key);
/* The deposed object of inst under key, or NULL. */
struct state_instance *state_instance_find_deposed(const struct state_instance *inst, const char *key);
/* A new deposed object of inst under key (with {} attributes), or NULL when the key is not
 * valid or inst has one under it already. */
struct state_instance *state_instance_add_deposed(struct state_instance *inst, const char *key);
/* Makes a copy of inst's current object (attributes, dependencies, private data) a deposed
 * object under key; the caller then records the new object as the current one. NULL as
 * state_instance_add_deposed. */
struct state_instance *state_instance_depose(struct state_instance *inst, const char *key);
/* Removes the deposed object under key. Returns 0, or -1 when there is none. */
int state_instance_remove_deposed(struct state_instance *inst, const char *key);
/* The current object is gone while deposed objects remain: the first of them becomes the
 * current object, tainted (so a plan replaces or destroys it), and the instance keeps
 * recording every object. Returns 0, or -1 when inst has no deposed object. */
int state_instance_promote_deposed(struct state_instance *inst);

/* ---- outputs ---- */

struct state_output *state_find_output(const struct state *st, const char *name);
/* Adds or replaces; the stored value is marked VAL_SENSITIVE when sensitive is set. */
void state_set_output(struct state *st, const char *name, struct value *value, int sensitive);
int state_remove_output(struct state *st, const char *name);

/* ---- the file ---- */

/*
 * Reads the state file at path into st (initialized; its contents are replaced). Returns 0
 * when it read the file; STATE_NEW when there is no file, leaving st empty with a new lineage
 * and serial 0; -1 with an error in diag when the file cannot be read, is not JSON, is of a
 * newer format, or has a field that is wrong (st is then empty). It never changes the file.
 */
int state_read(const char *path, struct state *st, struct diag_ctx *diag);

/*
 * Parses the JSON of a state file (len bytes at text) as state_read does. When the file is
 * in stk's own layout and its resources fill 2 x state_piece_min bytes or more, they are
 * parsed in pieces on up to state_load_threads threads (0: $STK_PARSE_THREADS, else one per
 * processor); *pieces says how many (1: in one pass). The result is the same JSON either way.
 */
json_t *state_json_load(const char *text, size_t len, json_error_t *err, unsigned *pieces);
/*
 * What state_read does with the text of a state file: parses it as state_json_load does and
 * fills st (initialized, empty), or returns -1 with the error in diag (name is the file, for
 * messages). In pieces, each thread also reads its share's resources, and frees their JSON
 * as it goes; the state is the same either way, and so is any error (a piece that does not
 * read sends the whole file through one pass).
 */
int state_load(const char *name, const char *text, size_t len, struct state *st,
	       struct diag_ctx *diag, unsigned *pieces);
extern int state_load_threads;
extern size_t state_piece_min;

/*
 * Writes st to path, atomically: the file at path is at every moment either the previous
 * one or the new one, complete, and the previous one is kept as path.backup. The stored
 * serial is one past the larger of st->serial and the serial read; st->serial follows. The
 * file is created with mode 0600. Refuses (-1, nothing written) when the file at path is
 * not the one st was read from: another lineage, or a serial past the one read.
 */
int state_write(const char *path, struct state *st, struct diag_ctx *diag);

/* The JSON of st (a new reference), or NULL with an error in diag when a value cannot be
 * stored (unknown values, NaN). name is the file, for messages. */
json_t *state_to_json(const struct state *st, const char *name, struct diag_ctx *diag);
/* Fills st (initialized, empty) from root; name is the file, for messages. */
int state_from_json(struct state *st, const json_t *root, const char *name,
		    struct diag_ctx *diag);
/* The bytes state_write() stores for st, as it stands (serial included), with a final
 * newline; NULL on error. */
char *state_format(const struct state *st, const char *name, size_t *len,
		   struct diag_ctx *diag);

/* ---- locking ---- */

struct state_lock_info {
	char *id;          /* a UUID: what force-unlock asks for */
	long pid;
	char *host;
	char *operation;   /* "plan", "apply", ... */
	char *who;         /* the user name */
	char *since;       /* RFC 3339, UTC: "2026-11-29T16:00:00Z" */
};

struct state_lock {
	int remote;        /* held through the remote (state_set_remote), not a file */
	int fd;            /* -1 when not held */
	char *path;        /* the lock file: the state's path + ".lock" */
	struct state_lock_info info;
};

void state_lock_info_init(struct state_lock_info *info);
void state_lock_info_release(struct state_lock_info *info);

void state_lock_init(struct state_lock *lock);
/*
 * Takes the lock of the state at path (lock initialized, not held) for operation. Returns
 * 0; or -1 with an error naming the holder when another process holds it, or another
 * error. The lock is an OFD lock on path.lock, so it goes away with the process that holds
 * it, however that ends; the file also says who holds it.
 */
int state_lock(const char *path, const char *operation, struct state_lock *lock,
	       struct diag_ctx *diag);
/* The same, retrying with backoff for up to timeout_ms while another process holds it. */
int state_lock_wait(const char *path, const char *operation, unsigned long timeout_ms,
		    struct state_lock *lock, struct diag_ctx *diag);
/* Releases the lock (if held) and removes path.lock; lock can be taken again. What went
 * wrong releasing a remote lock is added to diag (when not NULL) as warnings. */
void state_unlock(struct state_lock *lock, struct diag_ctx *diag);
/*
 * Removes a lock file left behind (a crash that left the file, a lock taken elsewhere),
 * when its ID is id. Refuses when the ID differs, or when a live process still holds the
 * lock.
 */
int state_force_unlock(const char *path, const char *id, struct diag_ctx *diag);
/* Reads the information in path.lock (info initialized). Returns 0; 1 when there is no lock
 * file; -1 with an error when it cannot be read or is not lock information. */
int state_lock_read_info(const char *path, struct state_lock_info *info,
			 struct diag_ctx *diag);

/* ---- remote state and encryption ----
 * Set once by the command, before any other state call; every function above then uses
 * them: paths that start with the remote's prefix ("s3://bucket/key") are read, written and
 * locked through it, and with a passphrase the bytes stored (state, backup, remote object)
 * are sealed with planner/crypt.c, and sealed bytes read are opened. */
struct state_remote {
	const char *prefix;
	void *arg;
	/* The stored bytes; *missing when there are none. */
	int (*get)(void *arg, const char *path, struct buf *out, int *missing, struct diag_ctx *diag);
	int (*put)(void *arg, const char *path, const char *data, size_t len, struct diag_ctx *diag);
	/* Takes the lock for info (as JSON: state_lock_info_json). 0 taken; 1 held by another
	 * (*holder filled); -1 error. */
	int (*lock)(void *arg, const char *path, const char *info_json, struct state_lock_info *holder,
		    struct diag_ctx *diag);
	/* 0 with *info; 1 when not locked; -1 error. */
	int (*lock_info)(void *arg, const char *path, struct state_lock_info *info, struct diag_ctx *diag);
	int (*unlock)(void *arg, const char *path, struct diag_ctx *diag);
};

void state_set_remote(const struct state_remote *remote);   /* borrowed; NULL: none */
/* passphrase copied, NULL: plain. kdf: what writes seal with, CRYPT_KDF_PBKDF2_SHA256 or
 * CRYPT_KDF_SCRYPT (planner/crypt.h); reads open either, as the file's header says. */
void state_set_passphrase(const char *passphrase, int kdf);
int state_has_passphrase(void);
/* The KDF writes seal with (CRYPT_KDF_*), 0 without a passphrase */
int state_kdf(void);
/* Whether writes are sealed when there is a passphrase (on by default): stk state decrypt
 * opens with it and writes in clear. */
void state_set_sealing(int on);
/* Other files kept with the state (saved plans) sealed and opened the same way: out gets
 * data as it is when there is no passphrase (seal) or the data is not sealed (open). name
 * says what it is in messages: "state file stk.state", "saved plan release.plan". */
int state_seal(const char *data, size_t len, struct buf *out, struct diag_ctx *diag);
int state_open(const char *name, const char *data, size_t len, struct buf *out, struct diag_ctx *diag);

/* Lock information as JSON text (caller frees), and back (info initialized). */
char *state_lock_info_json(const struct state_lock_info *info);
int state_lock_info_parse(const char *text, size_t len, struct state_lock_info *info);

#endif

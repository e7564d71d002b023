/* docker.h: what the Docker provider's resource files share: the configured client (the
 * daemon's address, TLS files, registry credentials, the HTTP client), one call helper for
 * the Engine API (JSON in, status and JSON out), and small helpers for values.
 *
 * Threads: after configure, a struct docker is only read, so calls may run on any number of
 * worker threads at once (the HTTP client is thread-safe).
 * Ownership: struct docker owns its strings, its client and the PEM files it wrote; json_t
 * results belong to the caller; docker_call takes its body. */
#ifndef STK_DOCKER_H
#define STK_DOCKER_H

#include <jansson.h>
#include <pthread.h>

#include "providers/docker/docker_ssh.h"
#include "providers/http.h"
#include "providers/provider.h"

/* Every path is prefixed with this: the version Debian's 20.10 daemon speaks, and what the
 * request and answer shapes below follow. */
#define DOCKER_API_VERSION "v1.41"

/* The label that finds an object again after an interrupted create. */
#define DOCKER_TOKEN_LABEL "stk.token"

/* Credentials for one registry, kept for pulls and pushes (image build is not here yet). */
struct docker_registry {
	char *address;          /* host[:port] only: "ghcr.io", "index.docker.io" */
	char *username;         /* NULL: none */
	char *password;         /* NULL: none */
	char *identity_token;   /* an OAuth refresh token from config.json, instead of a password */
	int auth_disabled;
};

struct docker {
	struct provider base;
	struct http_client http;
	char *host;             /* as configured: "unix:///var/run/docker.sock", "tcp://h:2376" */
	char *socket;           /* the unix socket's path; NULL over TCP */
	char *url;              /* "http://localhost" (unix), "https://h:2376" or "http://h:2375" */
	char *tls_ca, *tls_cert, *tls_key;   /* PEM files; NULL without TLS */
	char *pem_dir;          /* where PEM text from the configuration was written; removed */
	struct buf registries;  /* struct docker_registry */
	struct docker_ssh *ssh; /* an ssh:// host's local end (socket is its socket); NULL otherwise */
	int wait_secs;          /* wait_for_daemon, in seconds; 0: do not wait */
	int ready;              /* 1: the daemon has answered; -1: waiting for it timed out */
	pthread_mutex_t ready_mu;
};

/* method on path (as docker_call) with no body: 0 when the answer is below 300 or is also_ok
 * (404: already gone; 304: already so); -1 after a diagnostic naming action. */
int docker_call_ok(struct docker *d, const char *method, const char *path, long also_ok,
		   struct diag_ctx *diag, const char *addr, const char *action);
/* After a failed connection to an ssh:// host: a hint with what ssh said. */
void docker_ssh_hint(struct docker *d, struct diag_ctx *diag);
/* DELETE base + id (escaped) + query ("/networks/", id, ""): 0 when it is gone, a 404
 * included; -1 after a diagnostic naming action. */
int docker_delete(struct docker *d, const char *base, const char *id, const char *query,
		  struct diag_ctx *diag, const char *addr, const char *action);

/* A request to the daemon at d: http_request_init, with the socket or the TLS files. */
void docker_request_init(struct docker *d, struct http_request *req, const char *method, const char *url);

/* With wait_for_daemon set, waits (once per run, whichever worker comes first) until the
 * daemon answers GET /_ping; returns -1 after a diagnostic when it never did. */
int docker_ready(struct docker *d, struct diag_ctx *diag, const char *addr);

/* One call: method on /v1.41 + path (already escaped, with its query), with body as JSON
 * (taken; NULL: none). With status NULL, an answer of 300 or more is an error
 * "ADDR: docker ACTION: <engine message>"; with status set, any answer returns 0 and the
 * caller judges *status (404 is often an answer). *out (when not NULL) gets the parsed body,
 * or NULL when it was empty. Returns -1 after a diagnostic when no answer came, or the
 * answer was an error (status NULL) or not JSON. */
int docker_call(struct docker *d, const char *method, const char *path, json_t *body,
		long *status, json_t **out, struct diag_ctx *diag, const char *addr,
		const char *action);
/* The diagnostic for an error answer: the engine's {"message": ...}, else the status. */
void docker_api_error(struct diag_ctx *diag, const char *addr, const char *action, long status,
		      const json_t *answer);

/* Appends s percent-encoded for a path segment or query value. */
void docker_escape(struct buf *out, const char *s);
/* Appends "?filters=" + the URL-encoded JSON {key: [values...]}. */
void docker_filters(struct buf *out, const char *key, const char *const *values, size_t n);
/* GET base?filters={key: values}extra (extra: "&all=1" or ""): the engine's list, an array
 * (a new reference), or NULL after a diagnostic naming action ("ListNetworks"). */
json_t *docker_list(struct docker *d, const char *base, const char *extra, const char *key,
		    const char *const *values, size_t n, const char *action, struct diag_ctx *diag);

/* The registry credentials for an address ("ghcr.io", "https://index.docker.io/v1/"), or
 * NULL. */
const struct docker_registry *docker_registry_find(const struct docker *d, const char *address);

/* ---- values ---- */

/* Building results: a map from pairs added in any order. */
struct docker_obj {
	struct buf pairs;  /* struct val_pair */
};
void docker_obj_init(struct docker_obj *o);
void docker_obj_val(struct docker_obj *o, const char *key, struct value *v);   /* takes v */
void docker_obj_str(struct docker_obj *o, const char *key, const char *value); /* NULL: null */
void docker_obj_bool(struct docker_obj *o, const char *key, int value);
struct value *docker_obj_done(struct docker_obj *o);

/* Known attributes of planned and prior values; NULL or dflt when unset or unknown. */
const char *docker_str(const struct value *m, const char *key);
int docker_bool(const struct value *m, const char *key, int dflt);
/* A known map of strings -> a JSON object (entries not known are left out); NULL when m is
 * not a known map. With token, the stk.token label is added. */
json_t *docker_map_json(const struct value *m, const char *token);
/* A JSON object of strings -> a map; skip_stk leaves out keys starting "stk." (our labels).
 * null or a missing object gives an empty map. */
struct value *docker_map_value(const json_t *obj, int skip_stk);
/* A string member, or NULL when missing, not a string, or empty. */
const char *docker_json_str(const json_t *obj, const char *key);

/* ---- resources: each file registers its handlers in one of these ---- */

struct docker_resource {
	const char *type;
	int (*create)(struct docker *d, const struct provider_op *op, struct value **result,
		      struct diag_ctx *diag);
	/* NULL: every argument forces a new object, so no update is ever planned */
	int (*update)(struct docker *d, const struct provider_op *op, struct value **result,
		      struct diag_ctx *diag);
	int (*remove)(struct docker *d, const struct provider_op *op, struct diag_ctx *diag);
	int (*read)(struct docker *d, struct provider_read *items, size_t n, struct diag_ctx *diag);
	/* The object carrying the label stk.token=token, or a NULL *result. */
	int (*find)(struct docker *d, const char *token, const struct value *planned,
		    struct value **result, struct diag_ctx *diag);
};

extern const struct docker_resource docker_network_resource, docker_volume_resource;
extern const struct docker_resource docker_image_resource;
extern const struct docker_resource docker_container_resource;

/* Pulls ref ("repo:tag", "repo" for :latest, or "repo@sha256:...") into the daemon's store
 * with the registry's credentials, as `docker pull`; -1 after a diagnostic under op->addr. */
int docker_pull(struct docker *d, const struct provider_op *op, const char *ref, struct diag_ctx *diag);

/* The data sources (docker_image.c): 0 with *result, or -1 after a diagnostic. */
int docker_data_registry_image(struct docker *d, const struct value *config, struct value **result,
			       struct diag_ctx *diag);
int docker_data_image(struct docker *d, const struct value *config, struct value **result,
		      struct diag_ctx *diag);

extern const struct provider_ops provider_docker;

#endif

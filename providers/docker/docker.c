/* docker.c: the Docker provider's core: where the daemon is (host, DOCKER_HOST, the default
 * socket), TLS for TCP (always verified), registry credentials (kept for image pulls and
 * pushes), the Engine API call over the shared HTTP layer, and the dispatch to each resource
 * type. */
#define _GNU_SOURCE     /* pipe2 */
#include "providers/docker/docker.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

static const struct docker_resource *const docker_resources[] = {
	&docker_container_resource,
	&docker_network_resource, &docker_volume_resource,
	&docker_image_resource,
};

/* ---- values ---- */

void docker_obj_init(struct docker_obj *o)
{
	buf_init(&o->pairs);
}

void docker_obj_val(struct docker_obj *o, const char *key, struct value *v)
{
	struct val_pair p = { xstrdup(key), v };
	buf_push(&o->pairs, struct val_pair, p);
}

void docker_obj_str(struct docker_obj *o, const char *key, const char *value)
{
	docker_obj_val(o, key, value ? val_cstring(value) : val_null());
}

void docker_obj_bool(struct docker_obj *o, const char *key, int value)
{
	docker_obj_val(o, key, val_bool(value));
}

struct value *docker_obj_done(struct docker_obj *o)
{
	struct value *v = val_map_take((struct val_pair *)(void *)o->pairs.data,
				       buf_count(&o->pairs, struct val_pair));
	buf_release(&o->pairs);
	return v;
}

const char *docker_str(const struct value *m, const char *key)
{
	const struct value *v = m && m->kind == VAL_MAP ? val_map_get(m, key) : NULL;
	return v && v->kind == VAL_STRING && !(v->marks & VAL_UNKNOWN) ? v->u.str.s : NULL;
}

int docker_bool(const struct value *m, const char *key, int dflt)
{
	const struct value *v = m && m->kind == VAL_MAP ? val_map_get(m, key) : NULL;
	return v && v->kind == VAL_BOOL && !(v->marks & VAL_UNKNOWN) ? v->u.b : dflt;
}

json_t *docker_map_json(const struct value *m, const char *token)
{
	json_t *o;

	if ((!m || m->kind != VAL_MAP || (m->marks & VAL_UNKNOWN)) && !token)
		return NULL;
	o = json_object();
	for (size_t i = 0; m && m->kind == VAL_MAP && !(m->marks & VAL_UNKNOWN) && i < m->u.map.n; i++) {
		const struct value *v = m->u.map.items[i].val;
		if (v->kind == VAL_STRING && !(v->marks & VAL_UNKNOWN))
			json_object_set_new(o, m->u.map.items[i].key, json_string(v->u.str.s));
	}
	if (token)
		json_object_set_new(o, DOCKER_TOKEN_LABEL, json_string(token));
	return o;
}

struct value *docker_map_value(const json_t *obj, int skip_stk)
{
	struct docker_obj o;
	const char *k;
	json_t *v;

	docker_obj_init(&o);
	if (json_is_object(obj)) {
		json_object_foreach((json_t *)obj, k, v) {
			if (!json_is_string(v) || (skip_stk && !strncmp(k, "stk.", 4)))
				continue;
			docker_obj_str(&o, k, json_string_value(v));
		}
	}
	return docker_obj_done(&o);
}

const char *docker_json_str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s && *s ? s : NULL;
}

/* ---- requests ---- */

void docker_escape(struct buf *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
			buf_addch(out, c);
		else
			buf_printf(out, "%%%02X", c);
	}
}

void docker_filters(struct buf *out, const char *key, const char *const *values, size_t n)
{
	json_t *f = json_object(), *a = json_array();
	char *text;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(values[i]));
	json_object_set_new(f, key, a);
	text = json_dumps(f, JSON_COMPACT);
	buf_addstr(out, "?filters=");
	docker_escape(out, text);
	free(text);
	json_decref(f);
}

json_t *docker_list(struct docker *d, const char *base, const char *extra, const char *key,
		    const char *const *values, size_t n, const char *action, struct diag_ctx *diag)
{
	struct buf path = BUF_INIT;
	json_t *answer = NULL;

	buf_addstr(&path, base);
	docker_filters(&path, key, values, n);
	buf_addstr(&path, extra);
	if (docker_call(d, "GET", path.data, NULL, NULL, &answer, diag, NULL, action) == 0 &&
	    !json_is_array(answer)) {
		diag_error(diag, NULL, "docker %s: the answer is not a list", action);
		json_decref(answer);
		answer = NULL;
	}
	buf_release(&path);
	return answer;
}

void docker_api_error(struct diag_ctx *diag, const char *addr, const char *action, long status,
		      const json_t *answer)
{
	const char *msg = json_string_value(json_object_get(answer, "message"));

	if (msg)
		diag_error(diag, NULL, "%s%sdocker %s: %s", addr ? addr : "", addr ? ": " : "", action, msg);
	else
		diag_error(diag, NULL, "%s%sdocker %s: HTTP %ld", addr ? addr : "", addr ? ": " : "", action,
			   status);
}

/* The engine answers 500 for requests that will fail the same way again (a name taken, no
 * address pool left), so unlike the default only throttling and the gateway statuses that
 * a proxy in front of a daemon gives are retried. */
static int docker_retryable(void *arg, const struct http_response *resp)
{
	(void)arg;
	if (resp->status == 429)
		return HTTP_RETRY_THROTTLED;
	if (resp->status == 502 || resp->status == 503 || resp->status == 504)
		return HTTP_RETRY_SERVER;
	return HTTP_NO_RETRY;
}

void docker_request_init(struct docker *d, struct http_request *req, const char *method, const char *url)
{
	http_request_init(req, method, url);
	req->unix_socket = d->socket;
	req->tls_ca = d->tls_ca;
	req->tls_cert = d->tls_cert;
	req->tls_key = d->tls_key;
}

int docker_call_ok(struct docker *d, const char *method, const char *path, long also_ok,
		   struct diag_ctx *diag, const char *addr, const char *action)
{
	json_t *answer = NULL;
	long status;
	int ret = -1;

	if (docker_call(d, method, path, NULL, &status, &answer, diag, addr, action))
		goto out;
	if (status >= 300 && status != also_ok) {
		docker_api_error(diag, addr, action, status, answer);
		goto out;
	}
	ret = 0;
out:
	json_decref(answer);
	return ret;
}

int docker_delete(struct docker *d, const char *base, const char *id, const char *query,
		  struct diag_ctx *diag, const char *addr, const char *action)
{
	struct buf path = BUF_INIT;
	int ret;

	buf_addstr(&path, base);
	docker_escape(&path, id);
	buf_addstr(&path, query);
	/* already gone is what was asked for */
	ret = docker_call_ok(d, "DELETE", path.data, 404, diag, addr, action);
	buf_release(&path);
	return ret;
}

/* One GET /_ping: whether the daemon answered 200; *why gets what went wrong otherwise. */
static int docker_ping(struct docker *d, char **why)
{
	char *url = xasprintf("%s/_ping", d->url);
	struct http_request req;
	struct http_response resp;
	int ok;

	docker_request_init(d, &req, "GET", url);
	http_response_init(&resp);
	ok = !http_do(&d->http, &req, &resp) && resp.status == 200;
	free(*why);
	*why = ok ? NULL : resp.error ? xstrdup(resp.error) : xasprintf("HTTP %ld", resp.status);
	http_response_release(&resp);
	http_request_release(&req);
	free(url);
	return ok;
}

/* wait_for_daemon: a daemon that is still coming up (the workshop's EC2 host installs Docker
 * from its user_data after the instance is already running) is asked every 2 s until it
 * answers or the time is up. Only the first call of the run waits; the others take its word. */
int docker_ready(struct docker *d, struct diag_ctx *diag, const char *addr)
{
	char *why = NULL;
	int ret;

	if (!d->wait_secs)
		return 0;
	pthread_mutex_lock(&d->ready_mu);
	if (!d->ready) {
		time_t end = time(NULL) + d->wait_secs;
		while (!docker_ping(d, &why)) {
			if (time(NULL) >= end || http_cancelled()) {
				d->ready = -1;
				break;
			}
			for (int i = 0; i < 20 && !http_cancelled(); i++)
				usleep(100 * 1000);
		}
		if (!d->ready)
			d->ready = 1;
	}
	ret = d->ready > 0 ? 0 : -1;
	if (ret)
		diag_error(diag, NULL, "%s%sdocker: the daemon at %s did not answer within %ds (wait_for_daemon)%s%s",
			   addr ? addr : "", addr ? ": " : "", d->host, d->wait_secs, why ? ": " : "",
			   why ? why : "");
	pthread_mutex_unlock(&d->ready_mu);
	free(why);
	return ret;
}

/* A connection through ssh that failed: what ssh said is why (a refused key, an unknown host
 * key, no docker on the host). */
void docker_ssh_hint(struct docker *d, struct diag_ctx *diag)
{
	char *said = docker_ssh_said(d->ssh);

	if (said)
		diag_hint(diag, "ssh to %s said: %s", d->host, said);
	else
		diag_hint(diag, "ssh to %s said nothing: is dockerd running there, and the docker CLI "
			  "installed (stk runs `docker system dial-stdio` there)?", d->host);
	free(said);
}

int docker_call(struct docker *d, const char *method, const char *path, json_t *body,
		long *status, json_t **out, struct diag_ctx *diag, const char *addr,
		const char *action)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	char *url = xasprintf("%s/%s%s", d->url, DOCKER_API_VERSION, path);
	struct http_request req;
	struct http_response resp;
	json_t *answer = NULL;
	json_error_t je;
	int ret = -1;

	json_decref(body);
	if (out)
		*out = NULL;
	if (status)
		*status = 0;
	if (docker_ready(d, diag, addr)) {
		free(text);
		free(url);
		return -1;
	}
	docker_request_init(d, &req, method, url);
	http_response_init(&resp);
	if (text) {
		http_headers_set(&req.headers, "Content-Type", "application/json");
		req.body = text;
		req.body_len = strlen(text);
	}
	if (http_do(&d->http, &req, &resp)) {
		diag_error(diag, NULL, "%s%sdocker %s: %s", addr ? addr : "", addr ? ": " : "", action,
			   resp.error ? resp.error : "no answer");
		if (d->ssh)
			docker_ssh_hint(d, diag);
		else if (d->socket)
			diag_hint(diag, "is dockerd running, and may stk open %s? (provider host, DOCKER_HOST)",
				  d->socket);
		else if (d->tls_cert && resp.error &&
			 (strstr(resp.error, "Broken pipe") || strstr(resp.error, "reset") ||
			  strstr(resp.error, "not connected") || strstr(resp.error, "alert") ||
			  strstr(resp.error, "SSL_read") || strstr(resp.error, "SSL_write")))
			/* TLS 1.3: the daemon checks the client certificate after the client's half of
			 * the handshake, so a refusal reads as a closed connection or an alert */
			diag_hint(diag, "TLS: the daemon closed the connection; does it trust the CA that "
					"signed the client certificate %s (dockerd --tlscacert)?",
				  d->tls_cert);
		goto out;
	}
	if (resp.body.len)
		answer = json_loadb(resp.body.data, resp.body.len, 0, &je);
	if (status)
		*status = resp.status;
	if (resp.status >= 300 && !status) {
		docker_api_error(diag, addr, action, resp.status, answer);
		goto out;
	}
	if (resp.status < 300 && resp.body.len && !answer) {
		diag_error(diag, NULL, "%s%sdocker %s: the answer is not JSON: %s", addr ? addr : "",
			   addr ? ": " : "", action, je.text);
		goto out;
	}
	if (out) {
		*out = answer;
		answer = NULL;
	}
	ret = 0;
out:
	json_decref(answer);
	http_response_release(&resp);
	http_request_release(&req);
	free(url);
	free(text);
	return ret;
}

/* ---- configuration ---- */

static const char *config_str(const struct value *config, const char *key)
{
	return docker_str(config, key);
}

static char *env_dup(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? xstrdup(v) : NULL;
}

/* The first block of a nested block type, or NULL. */
static const struct value *config_block(const struct value *config, const char *name)
{
	const struct value *v = config && config->kind == VAL_MAP ? val_map_get(config, name) : NULL;
	return v && (v->kind == VAL_LIST || v->kind == VAL_SET) && v->u.list.n ? v->u.list.items[0] : NULL;
}

/* Writes PEM text to DIR/name (mode 0600), making the private directory first: libcurl takes
 * files, and the key must not be readable by anyone else. Returns the path, or NULL after a
 * diagnostic. */
static char *write_pem(struct docker *d, const char *name, const char *text, struct diag_ctx *diag)
{
	char *path = NULL;
	int fd = -1;

	if (!d->pem_dir) {
		const char *tmp = getenv("TMPDIR");
		char *tmpl = xasprintf("%s/stk-docker.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(tmpl)) {
			diag_error(diag, NULL, "docker: cannot make a directory for the TLS material: %s",
				   strerror(errno));
			free(tmpl);
			return NULL;
		}
		d->pem_dir = tmpl;
	}
	path = xasprintf("%s/%s", d->pem_dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd)) {
		diag_error(diag, NULL, "docker: cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(path);
		return NULL;
	}
	return path;
}

/* One of ca, cert, key: PEM text (written to a file) wins over a file name; the file must be
 * readable. *out stays NULL when neither is given. */
static int tls_part(struct docker *d, const char *file, const char *material, const char *name,
		    char **out, struct diag_ctx *diag)
{
	if (material) {
		*out = write_pem(d, name, material, diag);
		return *out ? 0 : -1;
	}
	if (!file)
		return 0;
	if (access(file, R_OK)) {
		diag_error(diag, NULL, "docker: cannot read %s: %s", file, strerror(errno));
		return -1;
	}
	*out = xstrdup(file);
	return 0;
}

/* TLS over TCP: the provider's tls block, else its cert_path and *_material, else
 * DOCKER_TLS_VERIFY with DOCKER_CERT_PATH (default ~/.docker), as the docker CLI reads them.
 * *use says whether any of these asked for TLS. */
static int tls_config(struct docker *d, const struct value *config, int *use, struct diag_ctx *diag)
{
	const struct value *tls = config_block(config, "tls");
	const char *cert_path = config_str(config, "cert_path");
	char *env_path = NULL, *ca = NULL, *cert = NULL, *key = NULL;
	int ret = -1;

	*use = 0;
	if (tls) {
		*use = 1;
		if (tls_part(d, docker_str(tls, "ca_file"), docker_str(tls, "ca_material"), "ca.pem", &d->tls_ca, diag) ||
		    tls_part(d, docker_str(tls, "cert_file"), docker_str(tls, "cert_material"), "cert.pem", &d->tls_cert,
			     diag) ||
		    tls_part(d, docker_str(tls, "key_file"), docker_str(tls, "key_material"), "key.pem", &d->tls_key, diag))
			goto out;
	} else {
		if (!cert_path && !config_str(config, "ca_material") && !config_str(config, "cert_material") &&
		    !config_str(config, "key_material")) {
			char *verify = env_dup("DOCKER_TLS_VERIFY");
			if (verify) {
				const char *home = getenv("HOME");
				env_path = env_dup("DOCKER_CERT_PATH");
				if (!env_path)
					env_path = xasprintf("%s/.docker", home ? home : ".");
				cert_path = env_path;
			}
			free(verify);
			if (!cert_path) {
				ret = 0;
				goto out;
			}
		}
		*use = 1;
		if (cert_path) {
			ca = xasprintf("%s/ca.pem", cert_path);
			cert = xasprintf("%s/cert.pem", cert_path);
			key = xasprintf("%s/key.pem", cert_path);
		}
		if (tls_part(d, ca, config_str(config, "ca_material"), "ca.pem", &d->tls_ca, diag) ||
		    tls_part(d, cert, config_str(config, "cert_material"), "cert.pem", &d->tls_cert, diag) ||
		    tls_part(d, key, config_str(config, "key_material"), "key.pem", &d->tls_key, diag))
			goto out;
	}
	if (!d->tls_cert != !d->tls_key) {
		diag_error(diag, NULL, "docker: a client certificate needs its key, and a key its certificate");
		goto out;
	}
	ret = 0;
out:
	free(env_path);
	free(ca);
	free(cert);
	free(key);
	return ret;
}

/* "https://index.docker.io/v1/" -> "index.docker.io"; Docker Hub's other names likewise. */
static char *registry_host(const char *address)
{
	const char *p = strstr(address, "://");
	char *h;

	p = p ? p + 3 : address;
	h = xstrndup(p, strcspn(p, "/"));
	for (char *c = h; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (!strcmp(h, "docker.io") || !strcmp(h, "registry-1.docker.io")) {
		free(h);
		h = xstrdup("index.docker.io");
	}
	return h;
}

static void registry_release(struct docker_registry *r)
{
	free(r->address);
	free(r->username);
	if (r->password)
		OPENSSL_cleanse(r->password, strlen(r->password));
	free(r->password);
	if (r->identity_token)
		OPENSSL_cleanse(r->identity_token, strlen(r->identity_token));
	free(r->identity_token);
}

/* One config.json "auths" entry: "auth" is base64 of "user:password"; "username",
 * "password" and "identitytoken" may be there instead. Returns 0, or -1 when auth does not
 * decode. */
static int auth_entry(const json_t *e, struct docker_registry *r)
{
	const char *auth = json_string_value(json_object_get(e, "auth"));
	const char *s;

	if ((s = docker_json_str(e, "username")))
		r->username = xstrdup(s);
	if ((s = docker_json_str(e, "password")))
		r->password = xstrdup(s);
	if ((s = docker_json_str(e, "identitytoken")))
		r->identity_token = xstrdup(s);
	if (auth && *auth) {
		size_t len = strlen(auth);
		unsigned char *dec = xcalloc(len + 4, 1);
		int n = EVP_DecodeBlock(dec, (const unsigned char *)auth, (int)len);
		char *colon;
		/* EVP_DecodeBlock counts the padding as data */
		for (size_t i = len; n > 0 && i > 0 && auth[i - 1] == '='; i--)
			n--;
		if (n < 0 || !(colon = memchr(dec, ':', (size_t)n))) {
			OPENSSL_cleanse(dec, len + 4);
			free(dec);
			return -1;
		}
		free(r->username);
		free(r->password);
		r->username = xstrndup((char *)dec, (size_t)(colon - (char *)dec));
		r->password = xstrndup(colon + 1, (size_t)n - (size_t)(colon + 1 - (char *)dec));
		OPENSSL_cleanse(dec, len + 4);
		free(dec);
	}
	return 0;
}

extern char **environ;

/* r into d's registries, in place of an entry for the same registry (a credential helper's
 * answer wins over the empty entry `docker login` leaves in auths beside it). Takes r. */
static void registry_put(struct docker *d, struct docker_registry *r)
{
	for (size_t i = 0; i < buf_count(&d->registries, struct docker_registry); i++) {
		struct docker_registry *e = &buf_at(&d->registries, struct docker_registry, i);
		if (!strcmp(e->address, r->address)) {
			registry_release(e);
			*e = *r;
			return;
		}
	}
	buf_push(&d->registries, struct docker_registry, *r);
}

/*
 * Asks the credential helper name (credsStore, credHelpers) for server's credentials as the
 * docker CLI does: `docker-credential-NAME get`, the server on its standard input, JSON
 * {"Username", "Secret"} on its standard output ("<token>" as the user: an identity token).
 * A helper that has none ("credentials not found") gives nothing; one that cannot be run or
 * fails otherwise is a warning: its registries go without credentials, as they would with
 * the CLI, and a push says so.
 */
static void cred_helper(struct docker *d, const char *name, const char *server, const char *where,
			struct diag_ctx *diag)
{
	char *prog = xasprintf("docker-credential-%s", name);
	char *argv[] = { prog, (char *)"get", NULL };
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	struct buf answer = BUF_INIT;
	json_t *j = NULL;
	pid_t pid = -1;
	int status = 0;
	const char *user, *secret;

	if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(name)) {
		diag_warning(diag, NULL, "docker: %s names the credential helper \"%s\", which is not a helper's "
			     "name: %s goes without credentials", where, name, server);
		goto out;
	}
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) {
		diag_warning(diag, NULL, "docker: cannot run %s: %s", prog, strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, prog, &fa, NULL, argv, environ)) {
		posix_spawn_file_actions_destroy(&fa);
		diag_warning(diag, NULL, "docker: %s names the credential helper %s, and %s cannot be run (is it "
			     "installed, in PATH?): %s goes without credentials", where, name, prog, server);
		goto out;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	/* a helper that exits without reading gives EPIPE here (SIGPIPE is ignored) */
	if (write(in[1], server, strlen(server)) < 0) {
		/* its answer says why */
	}
	close(in[1]);
	in[1] = -1;
	if (buf_read_fd(&answer, out[0], 0) < 0)
		buf_reset(&answer);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		if (!strstr(buf_cstr(&answer), "credentials not found"))
			diag_warning(diag, NULL, "docker: credential helper %s failed for %s: %s goes without "
				     "credentials", prog, server, server);
		goto out;
	}
	j = json_loadb(answer.data ? answer.data : "", answer.len, 0, NULL);
	user = docker_json_str(j, "Username");
	secret = docker_json_str(j, "Secret");
	if (!user || !secret) {
		diag_warning(diag, NULL, "docker: credential helper %s answered %s without Username and Secret: "
			     "it goes without credentials", prog, server);
		goto out;
	}
	{
		struct docker_registry r = { 0 };
		r.address = registry_host(server);
		if (!strcmp(user, "<token>")) {
			r.identity_token = xstrdup(secret);
		} else {
			r.username = xstrdup(user);
			r.password = xstrdup(secret);
		}
		registry_put(d, &r);
	}
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	if (answer.data)
		OPENSSL_cleanse(answer.data, answer.len);
	buf_release(&answer);
	json_decref(j);
	free(prog);
}

/* The server name a credential helper knows a registry by: Docker Hub's is the CLI's URL. */
static const char *helper_server(const char *host)
{
	return !strcmp(host, "index.docker.io") ? "https://index.docker.io/v1/" : host;
}

/* The credHelpers and credsStore of a config.json: helpers asked for their registries (with
 * only set, for that one), in the CLI's order of precedence, credHelpers over credsStore over
 * auths. */
static void read_helpers(struct docker *d, const json_t *root, const char *where, const char *only,
			 struct diag_ctx *diag)
{
	const char *store = docker_json_str(root, "credsStore"), *k;
	const json_t *helpers = json_object_get(root, "credHelpers");
	json_t *e;
	int only_done = 0;

	if (store) {
		json_object_foreach(json_object_get(root, "auths"), k, e) {
			char *host = registry_host(k);
			if ((!only || !strcmp(host, only)) && !json_object_get((json_t *)helpers, k)) {
				cred_helper(d, store, k, where, diag);
				only_done = 1;
			}
			free(host);
		}
		/* the CLI asks its store for any registry, listed in auths or not */
		if (only && !only_done)
			cred_helper(d, store, helper_server(only), where, diag);
	}
	json_object_foreach((json_t *)helpers, k, e) {
		char *host = registry_host(k);
		if ((!only || !strcmp(host, only)) && json_is_string(e))
			cred_helper(d, json_string_value(e), k, where, diag);
		free(host);
	}
}

/* The "auths" of a config.json (its text, from where for messages). With only set, just the
 * entry for that registry is kept. */
static int read_auths(struct docker *d, const char *text, const char *where, const char *only,
		      struct diag_ctx *diag)
{
	json_error_t je;
	json_t *root = json_loads(text, 0, &je), *auths;
	const char *k;
	json_t *e;
	int ret = -1;

	if (!json_is_object(root)) {
		diag_error(diag, NULL, "docker: %s is not a JSON object: %s", where, je.text);
		goto out;
	}
	auths = json_object_get(root, "auths");
	json_object_foreach(auths, k, e) {
		struct docker_registry r = { 0 };
		r.address = registry_host(k);
		if ((only && strcmp(r.address, only)) || !json_is_object(e)) {
			registry_release(&r);
			continue;
		}
		if (auth_entry(e, &r)) {
			diag_error(diag, NULL, "docker: %s: the auth of %s is not base64 of user:password", where, k);
			registry_release(&r);
			goto out;
		}
		buf_push(&d->registries, struct docker_registry, r);
	}
	read_helpers(d, root, where, only, diag);
	ret = 0;
out:
	json_decref(root);
	return ret;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	buf_cstr(&b);
	return buf_detach(&b, NULL);
}

static char *default_config_file(void)
{
	const char *dir = getenv("DOCKER_CONFIG");
	const char *home = getenv("HOME");

	if (dir && *dir)
		return xasprintf("%s/config.json", dir);
	return xasprintf("%s/.docker/config.json", home ? home : ".");
}

/* A config file: a missing default is nothing; a named file must be there. */
static int read_config_file(struct docker *d, const char *path, int must, const char *only,
			    struct diag_ctx *diag)
{
	char *text = slurp(path);
	int ret;

	if (!text) {
		if (!must)
			return 0;
		diag_error(diag, NULL, "docker: cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	ret = read_auths(d, text, path, only, diag);
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	return ret;
}

/* The provider's registry blocks; without any, every entry of ~/.docker/config.json, the
 * credential helpers it names (credsStore, credHelpers) asked for theirs. */
static int registries_config(struct docker *d, const struct value *config, struct diag_ctx *diag)
{
	const struct value *list = config && config->kind == VAL_MAP ? val_map_get(config, "registry") : NULL;
	size_t n = list && (list->kind == VAL_LIST || list->kind == VAL_SET) ? list->u.list.n : 0;
	char *dflt = default_config_file();
	int ret = -1;

	if (!n) {
		ret = read_config_file(d, dflt, 0, NULL, diag);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct value *b = list->u.list.items[i];
		const char *address = docker_str(b, "address");
		const char *file = docker_str(b, "config_file"), *content = docker_str(b, "config_file_content");
		char *host;
		size_t before = buf_count(&d->registries, struct docker_registry);

		/* an address known only after apply (an ECR repository made in this run) is
		 * configured again once it is known */
		if (!address)
			continue;
		host = registry_host(address);
		if (docker_bool(b, "auth_disabled", 0) || docker_str(b, "username") || docker_str(b, "password")) {
			struct docker_registry r = { 0 };
			r.address = xstrdup(host);
			r.auth_disabled = docker_bool(b, "auth_disabled", 0);
			r.username = docker_str(b, "username") ? xstrdup(docker_str(b, "username")) : NULL;
			r.password = docker_str(b, "password") ? xstrdup(docker_str(b, "password")) : NULL;
			buf_push(&d->registries, struct docker_registry, r);
		} else if (content) {
			if (read_auths(d, content, "config_file_content", host, diag)) {
				free(host);
				goto out;
			}
		} else if (read_config_file(d, file ? file : dflt, file != NULL, host, diag)) {
			free(host);
			goto out;
		}
		if (buf_count(&d->registries, struct docker_registry) == before && (file || content))
			diag_warning(diag, NULL, "docker: registry %s: no credentials for it in %s", address,
				     content ? "config_file_content" : file);
		free(host);
	}
	ret = 0;
out:
	free(dflt);
	return ret;
}

const struct docker_registry *docker_registry_find(const struct docker *d, const char *address)
{
	char *host = registry_host(address);
	const struct docker_registry *found = NULL;

	for (size_t i = 0; !found && i < buf_count(&d->registries, struct docker_registry); i++)
		if (!strcmp(buf_at(&d->registries, struct docker_registry, i).address, host))
			found = &buf_at(&d->registries, struct docker_registry, i);
	free(host);
	return found;
}

static void docker_release(struct provider *p)
{
	struct docker *d = (struct docker *)p;

	if (!d)
		return;
	http_client_release(&d->http);
	/* after the client: its connections closed, each ssh has ended or is ended now */
	docker_ssh_stop(d->ssh);
	for (size_t i = 0; i < buf_count(&d->registries, struct docker_registry); i++)
		registry_release(&buf_at(&d->registries, struct docker_registry, i));
	buf_release(&d->registries);
	if (d->pem_dir) {
		/* only the files write_pem made live there */
		for (const char *const *n = (const char *const[]){ "ca.pem", "cert.pem", "key.pem", NULL }; *n; n++) {
			char *path = xasprintf("%s/%s", d->pem_dir, *n);
			unlink(path);
			free(path);
		}
		rmdir(d->pem_dir);
	}
	free(d->pem_dir);
	free(d->host);
	free(d->socket);
	free(d->url);
	free(d->tls_ca);
	free(d->tls_cert);
	free(d->tls_key);
	pthread_mutex_destroy(&d->ready_mu);
	free(d);
}

static struct provider *docker_configure(const struct value *config, struct diag_ctx *diag)
{
	struct docker *d = xcalloc(1, sizeof *d);
	const char *host, *wait;
	int tls = 0;

	buf_init(&d->registries);
	pthread_mutex_init(&d->ready_mu, NULL);
	if ((wait = config_str(config, "wait_for_daemon")) && (d->wait_secs = schema_duration(wait)) < 0) {
		diag_error(diag, NULL, "docker: wait_for_daemon \"%s\" is not a duration", wait);
		diag_hint(diag, "write it as Terraform's timeouts are written: \"90s\", \"10m\", \"1h30m\"");
		goto fail;
	}
	if (config_str(config, "host"))
		d->host = xstrdup(config_str(config, "host"));
	else if (!(d->host = env_dup("DOCKER_HOST")))
		d->host = xstrdup("unix:///var/run/docker.sock");
	host = d->host;
	if (!strncmp(host, "unix://", 7)) {
		if (!host[7]) {
			diag_error(diag, NULL, "docker: host \"%s\" names no socket", host);
			goto fail;
		}
		d->socket = xstrdup(host + 7);
		/* the host is only the Host header over a socket */
		d->url = xstrdup("http://localhost");
	} else if (!strncmp(host, "tcp://", 6)) {
		size_t n = strcspn(host + 6, "/");
		if (!n) {
			diag_error(diag, NULL, "docker: host \"%s\" names no address", host);
			goto fail;
		}
		if (tls_config(d, config, &tls, diag))
			goto fail;
		/* as the docker CLI: TLS when asked for (and then always verified), plain HTTP
		 * otherwise, which only a daemon on a trusted network should offer */
		d->url = xasprintf("%s://%.*s", tls ? "https" : "http", (int)n, host + 6);
	} else if (!strncmp(host, "ssh://", 6)) {
		const struct value *opts = config && config->kind == VAL_MAP ? val_map_get(config, "ssh_opts") : NULL;
		if (docker_ssh_start(&d->ssh, host, opts && val_is_known(opts) ? opts : NULL, diag))
			goto fail;
		d->socket = xstrdup(docker_ssh_socket(d->ssh));
		d->url = xstrdup("http://localhost");
	} else {
		diag_error(diag, NULL, "docker: host \"%s\" is neither unix:///PATH nor tcp://HOST:PORT", host);
		goto fail;
	}
	if (registries_config(d, config, diag))
		goto fail;
	if (http_client_init(&d->http, diag))
		goto fail;
	d->http.retryable = docker_retryable;
	return &d->base;
fail:
	docker_release(&d->base);
	return NULL;
}

static void docker_describe(struct provider *p, struct buf *out)
{
	struct docker *d = (struct docker *)p;
	struct http_stats s;

	http_client_stats(&d->http, &s);
	if (!s.retries && !s.budget_exhausted)
		return;
	buf_printf(out, "%lu request%s; ", s.requests, s.requests == 1 ? "" : "s");
	http_stats_describe(&s, out);
	if (s.budget_exhausted)
		buf_printf(out, "; %lu refused by the retry budget", s.budget_exhausted);
}

/* ---- dispatch ---- */

static const struct docker_resource *resource(const char *type, struct diag_ctx *diag, const char *addr)
{
	for (size_t i = 0; i < sizeof docker_resources / sizeof docker_resources[0]; i++)
		if (!strcmp(docker_resources[i]->type, type))
			return docker_resources[i];
	diag_error(diag, NULL, "%s: docker.%s is not implemented in this build yet", addr ? addr : "docker", type);
	return NULL;
}

static int docker_create(struct provider *p, const struct provider_op *op, struct value **result,
			 struct diag_ctx *diag)
{
	const struct docker_resource *r = resource(op->type, diag, op->addr);
	return r ? r->create((struct docker *)p, op, result, diag) : -1;
}

static int docker_update(struct provider *p, const struct provider_op *op, struct value **result,
			 struct diag_ctx *diag)
{
	const struct docker_resource *r = resource(op->type, diag, op->addr);
	if (r && !r->update) {
		diag_error(diag, NULL, "%s: docker.%s cannot be updated in place", op->addr, op->type);
		return -1;
	}
	return r ? r->update((struct docker *)p, op, result, diag) : -1;
}

static int docker_remove(struct provider *p, const struct provider_op *op, struct diag_ctx *diag)
{
	const struct docker_resource *r = resource(op->type, diag, op->addr);
	return r ? r->remove((struct docker *)p, op, diag) : -1;
}

static int docker_read(struct provider *p, struct provider_read *items, size_t n, struct diag_ctx *diag)
{
	const struct docker_resource *r = n ? resource(items[0].type, diag, NULL) : NULL;
	return r ? r->read((struct docker *)p, items, n, diag) : (n ? -1 : 0);
}

static int docker_find_by_token(struct provider *p, const char *type, const char *token,
				const struct value *planned, struct value **result, struct diag_ctx *diag)
{
	const struct docker_resource *r = resource(type, diag, NULL);

	*result = NULL;
	return r ? r->find((struct docker *)p, token, planned, result, diag) : -1;
}

static int docker_read_data(struct provider *p, const char *type, const struct value *config,
			    struct value **result, struct diag_ctx *diag)
{
	*result = NULL;
	if (!strcmp(type, "registry_image"))
		return docker_data_registry_image((struct docker *)p, config, result, diag);
	if (!strcmp(type, "image"))
		return docker_data_image((struct docker *)p, config, result, diag);
	diag_error(diag, NULL, "data docker.%s: no such data source", type);
	return -1;
}

const struct provider_ops provider_docker = {
	.name = "docker",
	.schema = &schema_docker,
	.configure = docker_configure,
	.release = docker_release,
	.create = docker_create,
	.update = docker_update,
	.remove = docker_remove,
	.read = docker_read,
	.read_data = docker_read_data,
	.find_by_token = docker_find_by_token,
	.describe = docker_describe,
};

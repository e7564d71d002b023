/* docker_container.c: docker.container through the Engine API. A container is created with
 * POST /containers/create (labelled stk.token=<token>), its upload files are written with
 * PUT /containers/{id}/archive before it starts, and it is started; with wait_healthy the
 * create waits for its health check. The engine changes only the restart policy and the
 * resource limits of a container (POST /containers/{id}/update), so the schema makes
 * everything else force a new one.
 *
 * Refresh is one GET /containers/json call for all containers, filtered by their IDs. The
 * settings the engine cannot change after create are kept from the state; what it can
 * change out of band is read: existence, name, running or not, and the image ID under the
 * configured image name (one image inspect per distinct name). Import reads one container
 * with GET /containers/{id}/json. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <archive.h>
#include <archive_entry.h>

#include "providers/docker/docker.h"

/* Is s a whole 64-hex-digit ID (what the state keeps), rather than a name or a short ID? */
static int docker_full_id(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");
	return n == 64 && !s[n];
}

/* ---- values ---- */

static const struct value *docker_known(const struct value *m, const char *key)
{
	const struct value *v = m && m->kind == VAL_MAP ? val_map_get(m, key) : NULL;
	return v && v->kind != VAL_NULL && val_is_known(v) ? v : NULL;
}

static int docker_num(const struct value *m, const char *key, double *out)
{
	const struct value *v = docker_known(m, key);
	if (!v || v->kind != VAL_NUMBER)
		return 0;
	*out = v->u.n;
	return 1;
}

/* A known list of strings -> a JSON array; NULL when unset or unknown. */
static json_t *docker_list_json(const struct value *l)
{
	json_t *a;

	if (!l || (l->kind != VAL_LIST && l->kind != VAL_SET) || !val_is_known(l))
		return NULL;
	a = json_array();
	for (size_t i = 0; i < l->u.list.n; i++)
		if (l->u.list.items[i]->kind == VAL_STRING)
			json_array_append_new(a, json_string(l->u.list.items[i]->u.str.s));
	return a;
}

/* A JSON array of strings -> a list; null when the array is missing or null. */
static struct value *docker_list_value(const json_t *a)
{
	size_t n = json_array_size(a), k = 0;
	struct value **items;
	struct value *r;

	if (!json_is_array(a))
		return val_null();
	items = xcalloc(n ? n : 1, sizeof *items);
	for (size_t i = 0; i < n; i++)
		if (json_is_string(json_array_get(a, i)))
			items[k++] = val_cstring(json_string_value(json_array_get(a, i)));
	r = val_list_take(items, k);
	free(items);
	return r;
}

/* Whether the container is on the network a networks_advanced entry names: by name (the
 * keys of NetworkSettings.Networks), or by ID (docker.network.x.id), whole or shortened. */
static int docker_on_network(const json_t *nets, const char *name)
{
	const char *key;
	json_t *n;

	json_object_foreach((json_t *)nets, key, n) {
		const char *id = docker_json_str(n, "NetworkID");
		size_t len = strlen(name);
		if (!strcmp(key, name) || (id && len >= 12 && !strncmp(id, name, len)))
			return 1;
	}
	return 0;
}

/* networks_advanced as configured, less the networks the container is no longer on: that
 * drift makes the plan replace it. What Docker adds on its own (the short ID as an alias,
 * the addresses it picked) is not compared, as in kreuzwerker's provider. NULL: unchanged. */
static struct value *docker_networks_value(const struct value *configured, const json_t *nets)
{
	struct value **kept;
	struct value *r;
	size_t k = 0;

	/* a list when read back from the state file */
	if (!configured || (configured->kind != VAL_SET && configured->kind != VAL_LIST) || !configured->u.list.n)
		return NULL;
	kept = xcalloc(configured->u.list.n, sizeof *kept);
	for (size_t i = 0; i < configured->u.list.n; i++) {
		const struct value *e = configured->u.list.items[i];
		const char *name = docker_str(e, "name");
		if (!name || docker_on_network(nets, name))
			kept[k++] = val_ref((struct value *)e);
	}
	if (k == configured->u.list.n) {
		for (size_t i = 0; i < k; i++)
			val_unref(kept[i]);
		free(kept);
		return NULL;
	}
	r = configured->kind == VAL_SET ? val_set_take(kept, k) : val_list_take(kept, k);
	free(kept);
	return r;
}

/* A networks_advanced entry as Docker's EndpointSettings: its aliases and fixed addresses. */
static json_t *docker_endpoint_json(const struct value *net)
{
	json_t *ep = json_object(), *ipam = json_object(), *j;
	const char *s;

	if ((j = docker_list_json(val_map_get(net, "aliases"))))
		json_object_set_new(ep, "Aliases", j);
	if ((s = docker_str(net, "ipv4_address")))
		json_object_set_new(ipam, "IPv4Address", json_string(s));
	if ((s = docker_str(net, "ipv6_address")))
		json_object_set_new(ipam, "IPv6Address", json_string(s));
	if (json_object_size(ipam))
		json_object_set_new(ep, "IPAMConfig", ipam);
	else
		json_decref(ipam);
	return ep;
}

/*
 * The networks_advanced entry the container is created on (its NetworkMode): the one
 * network_mode names, else the first. The default "bridge" is not where such a container
 * goes (a daemon run with --bridge=none has no such network, and kreuzwerker's provider
 * disconnects it from there anyway). NULL when there are none.
 */
static const struct value *docker_first_network(const struct value *p)
{
	const struct value *nets = docker_known(p, "networks_advanced");
	const char *mode = docker_str(p, "network_mode");

	if (!nets || (nets->kind != VAL_SET && nets->kind != VAL_LIST) || !nets->u.list.n)
		return NULL;
	for (size_t i = 0; mode && i < nets->u.list.n; i++) {
		const char *name = docker_str(nets->u.list.items[i], "name");
		if (name && !strcmp(name, mode))
			return nets->u.list.items[i];
	}
	return nets->u.list.items[0];
}

/* A Go duration ("30s", "1m30s", "500ms", "0s") -> nanoseconds. */
static int docker_duration_ns(const char *s, int64_t *out)
{
	static const struct { const char *unit; double ns; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
	};
	double total = 0;

	if (!*s)
		return -1;
	while (*s) {
		char *end;
		double n = strtod(s, &end);
		size_t best = 0, blen = 0;
		if (end == s || n < 0)
			return -1;
		s = end;
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
			size_t l = strlen(units[i].unit);
			if (!strncmp(s, units[i].unit, l) && l > blen) {
				best = i;
				blen = l;
			}
		}
		/* a bare number is only allowed for zero, as in Go */
		if (!blen) {
			if (n == 0 && !*s)
				break;
			return -1;
		}
		total += n * units[best].ns;
		s += blen;
	}
	*out = (int64_t)total;
	return 0;
}

/* ---- raw calls: archives and log streams are not JSON ---- */

/* Like docker_call, for a body that is not JSON and an answer kept as bytes. */
static int docker_raw(struct docker *d, const char *method, const char *path, const void *body,
		      size_t body_len, const char *ctype, long *status, struct buf *out,
		      struct diag_ctx *diag, const char *addr, const char *action)
{
	char *url = xasprintf("%s/%s%s", d->url, DOCKER_API_VERSION, path);
	struct http_request req;
	struct http_response resp;
	int ret = -1;

	*status = 0;
	if (docker_ready(d, diag, addr)) {
		free(url);
		return -1;
	}
	docker_request_init(d, &req, method, url);
	http_response_init(&resp);
	if (body) {
		http_headers_set(&req.headers, "Content-Type", ctype);
		req.body = body;
		req.body_len = body_len;
	}
	if (http_do(&d->http, &req, &resp)) {
		diag_error(diag, NULL, "%s: docker %s: %s", addr, action, resp.error ? resp.error : "no answer");
		if (d->ssh)
			docker_ssh_hint(d, diag);
		goto out;
	}
	*status = resp.status;
	if (out)
		buf_add(out, resp.body.data, resp.body.len);
	ret = 0;
out:
	http_response_release(&resp);
	http_request_release(&req);
	free(url);
	return ret;
}

/* The engine's error from a raw answer: its {"message"} when the body is JSON. */
static void docker_raw_error(struct diag_ctx *diag, const char *addr, const char *action, long status,
			     const struct buf *body)
{
	json_t *j = body->len ? json_loadb(body->data, body->len, 0, NULL) : NULL;
	docker_api_error(diag, addr, action, status, j);
	json_decref(j);
}

/* The last lines of the container's output, demultiplexed: without a TTY the engine frames
 * each chunk with 8 bytes (stream, 0, 0, 0, big-endian length); with one it sends raw. */
static void docker_logs(struct docker *d, const char *id, int tty, int tail, struct buf *out,
			struct diag_ctx *diag, const char *addr)
{
	struct buf path = BUF_INIT, raw = BUF_INIT;
	long status;

	buf_addstr(&path, "/containers/");
	docker_escape(&path, id);
	buf_addstr(&path, "/logs?stdout=1&stderr=1");
	if (tail > 0)
		buf_printf(&path, "&tail=%d", tail);
	if (docker_raw(d, "GET", path.data, NULL, 0, NULL, &status, &raw, diag, addr, "ContainerLogs") ||
	    status >= 300)
		goto out;
	if (tty) {
		buf_add(out, raw.data, raw.len);
		goto out;
	}
	for (size_t at = 0; at + 8 <= raw.len;) {
		const unsigned char *h = (const unsigned char *)raw.data + at;
		size_t len = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
		/* not a frame: a TTY container after all; show what came */
		if (h[0] > 2 || h[1] || h[2] || h[3]) {
			buf_add(out, raw.data + at, raw.len - at);
			break;
		}
		at += 8;
		if (len > raw.len - at)
			len = raw.len - at;
		buf_add(out, raw.data + at, len);
		at += len;
	}
out:
	buf_release(&raw);
	buf_release(&path);
}

/* ---- inspect and results ---- */

/* GET /containers/{id}/json: *out NULL when there is none (404). */
static int docker_inspect(struct docker *d, const char *id, json_t **out, struct diag_ctx *diag, const char *addr)
{
	struct buf path = BUF_INIT;
	json_t *answer = NULL;
	long status;
	int ret = -1;

	*out = NULL;
	buf_addstr(&path, "/containers/");
	docker_escape(&path, id);
	buf_addstr(&path, "/json");
	if (docker_call(d, "GET", path.data, NULL, &status, &answer, diag, addr, "InspectContainer"))
		goto out;
	if (status == 404) {
		ret = 0;
		goto out;
	}
	if (status >= 300 || !json_is_object(answer)) {
		docker_api_error(diag, addr, "InspectContainer", status, answer);
		goto out;
	}
	*out = answer;
	answer = NULL;
	ret = 0;
out:
	json_decref(answer);
	buf_release(&path);
	return ret;
}

/* GET /images/{name}/json -> its "Id" (malloc'd), or NULL when there is no such image. */
static char *docker_image_id(struct docker *d, const char *name, json_t **config, struct diag_ctx *diag)
{
	struct buf path = BUF_INIT;
	json_t *answer = NULL;
	char *id = NULL;
	long status;

	if (config)
		*config = NULL;
	buf_addstr(&path, "/images/");
	docker_escape(&path, name);
	buf_addstr(&path, "/json");
	if (docker_call(d, "GET", path.data, NULL, &status, &answer, diag, NULL, "InspectImage") == 0 &&
	    status < 300 && docker_json_str(answer, "Id")) {
		id = xstrdup(docker_json_str(answer, "Id"));
		if (config && json_is_object(json_object_get(answer, "Config")))
			*config = json_incref(json_object_get(answer, "Config"));
	}
	json_decref(answer);
	buf_release(&path);
	return id;
}

/* The engine's container name ("/web") without its slash. */
static const char *docker_name(const char *n)
{
	return n && *n == '/' ? n + 1 : n;
}

/* Starts the result from base (planned or prior): every known argument as it is, anything
 * unknown null until the engine's answer fills it. */
static void docker_obj_from(struct docker_obj *o, const struct value *base)
{
	docker_obj_init(o);
	for (size_t i = 0; base && base->kind == VAL_MAP && i < base->u.map.n; i++) {
		struct value *v = base->u.map.items[i].val;
		docker_obj_val(o, base->u.map.items[i].key, val_is_known(v) ? val_ref(v) : val_null());
	}
}

/* ports from HostConfig.PortBindings (what was asked) and NetworkSettings.Ports (what the
 * engine chose for an external port left unset). */
static struct value *docker_ports_value(const json_t *c)
{
	const json_t *bind = json_object_get(json_object_get(c, "HostConfig"), "PortBindings");
	const json_t *live = json_object_get(json_object_get(c, "NetworkSettings"), "Ports");
	struct buf items = BUF_INIT;
	const char *key;
	json_t *list;
	struct value *r;

	json_object_foreach((json_t *)bind, key, list) {
		char proto[16] = "tcp";
		int internal = atoi(key);
		const char *slash = strchr(key, '/');
		size_t k;
		json_t *b;
		if (slash)
			snprintf(proto, sizeof proto, "%s", slash + 1);
		json_array_foreach(list, k, b) {
			const char *ip = docker_json_str(b, "HostIp"), *hp = docker_json_str(b, "HostPort");
			const json_t *lv = json_array_get(json_object_get(live, key), k);
			struct docker_obj o;
			struct value *v;
			if (!hp)
				hp = docker_json_str(lv, "HostPort");
			docker_obj_init(&o);
			docker_obj_val(&o, "internal", val_number(internal));
			docker_obj_val(&o, "external", hp ? val_number(atoi(hp)) : val_null());
			docker_obj_str(&o, "protocol", proto);
			docker_obj_str(&o, "ip", ip ? ip : "0.0.0.0");
			v = docker_obj_done(&o);
			buf_push(&items, struct value *, v);
		}
	}
	r = val_list_take((struct value **)(void *)items.data, buf_count(&items, struct value *));
	buf_release(&items);
	return r;
}

/* Strings of a JSON list whose KEY=VALUE entries are not in the image's list too. */
static struct value *docker_env_value(const json_t *env, const json_t *image_env)
{
	struct docker_obj o;
	size_t i, k;
	json_t *e, *ie;

	docker_obj_init(&o);
	json_array_foreach((json_t *)env, i, e) {
		const char *s = json_string_value(e), *eq;
		int from_image = 0;
		if (!s || !(eq = strchr(s, '=')))
			continue;
		json_array_foreach((json_t *)image_env, k, ie)
			if (json_is_string(ie) && !strcmp(json_string_value(ie), s))
				from_image = 1;
		if (!from_image) {
			char *key = xstrndup(s, (size_t)(eq - s));
			docker_obj_str(&o, key, eq + 1);
			free(key);
		}
	}
	return docker_obj_done(&o);
}

/* The attributes as they now are: base (planned after a create or an update; the state's
 * for an import, which has only the id) completed and corrected from an inspect. With
 * image_config (an import), the arguments are all read from the container, less what its
 * image gives by default. */
/* Into o: networks_advanced as base has it, less the networks the container left. */
static void docker_networks_drift(struct docker_obj *o, const struct value *base, const json_t *nets)
{
	struct value *v = docker_networks_value(docker_known(base, "networks_advanced"), nets);

	if (v)
		docker_obj_val(o, "networks_advanced", v);
}

static struct value *docker_container_value(const struct value *base, const json_t *c,
					    const json_t *image_config)
{
	const json_t *cfg = json_object_get(c, "Config"), *host = json_object_get(c, "HostConfig");
	const json_t *state = json_object_get(c, "State");
	const json_t *net = json_object_get(c, "NetworkSettings");
	const json_t *nets = json_object_get(net, "Networks");
	const json_t *first = NULL;
	const char *first_key = NULL;
	struct buf datas = BUF_INIT;
	const char *key;
	json_t *n;
	struct docker_obj o;
	int running = json_is_true(json_object_get(state, "Running"));

	docker_obj_from(&o, base);
	docker_obj_str(&o, "id", docker_json_str(c, "Id"));
	docker_obj_str(&o, "name", docker_name(docker_json_str(c, "Name")));
	if (image_config || !docker_known(base, "image"))
		docker_obj_str(&o, "image", docker_json_str(cfg, "Image"));
	/* optional and computed: the image's, when not set */
	if (!docker_known(base, "command"))
		docker_obj_val(&o, "command", docker_list_value(json_object_get(cfg, "Cmd")));
	if (!docker_known(base, "entrypoint"))
		docker_obj_val(&o, "entrypoint", docker_list_value(json_object_get(cfg, "Entrypoint")));
	if (!docker_known(base, "hostname"))
		docker_obj_str(&o, "hostname", docker_json_str(cfg, "Hostname"));
	if (!docker_known(base, "init"))
		docker_obj_bool(&o, "init", json_is_true(json_object_get(host, "Init")));
	if (!docker_known(base, "stop_signal"))
		docker_obj_str(&o, "stop_signal", docker_json_str(cfg, "StopSignal"));
	if (!docker_known(base, "stop_timeout"))
		docker_obj_val(&o, "stop_timeout", json_is_integer(json_object_get(cfg, "StopTimeout"))
			       ? val_number((double)json_integer_value(json_object_get(cfg, "StopTimeout")))
			       : val_null());
	if (!docker_known(base, "log_driver"))
		docker_obj_str(&o, "log_driver", docker_json_str(json_object_get(host, "LogConfig"), "Type"));
	/* the external port the engine picked for one left unset */
	if (!docker_known(base, "ports"))
		docker_obj_val(&o, "ports", docker_ports_value(c));
	if (image_config) {
		const json_t *rp = json_object_get(host, "RestartPolicy");
		const json_t *labels = json_object_get(cfg, "Labels");
		const json_t *ilabels = json_object_get(image_config, "Labels");
		struct docker_obj lo;
		const char *k;
		json_t *v;
		docker_obj_val(&o, "env", docker_env_value(json_object_get(cfg, "Env"),
							   json_object_get(image_config, "Env")));
		docker_obj_init(&lo);
		json_object_foreach((json_t *)labels, k, v) {
			const char *iv = json_string_value(json_object_get(ilabels, k));
			if (json_is_string(v) && strncmp(k, "stk.", 4) && !(iv && !strcmp(iv, json_string_value(v))))
				docker_obj_str(&lo, k, json_string_value(v));
		}
		docker_obj_val(&o, "labels", docker_obj_done(&lo));
		docker_obj_str(&o, "network_mode", docker_json_str(host, "NetworkMode"));
		docker_obj_str(&o, "restart", docker_json_str(rp, "Name") ?: "no");
		docker_obj_str(&o, "user", docker_json_str(cfg, "User"));
		docker_obj_str(&o, "working_dir", docker_json_str(cfg, "WorkingDir"));
		docker_obj_bool(&o, "tty", json_is_true(json_object_get(cfg, "Tty")));
		docker_obj_bool(&o, "stdin_open", json_is_true(json_object_get(cfg, "OpenStdin")));
		docker_obj_bool(&o, "privileged", json_is_true(json_object_get(host, "Privileged")));
		docker_obj_bool(&o, "read_only", json_is_true(json_object_get(host, "ReadonlyRootfs")));
		/* how stk handles it, not the container: the schema's defaults, so that an import
		 * of a configuration that leaves them unset plans no change */
		docker_obj_bool(&o, "must_run", 1);
		docker_obj_bool(&o, "start", 1);
		docker_obj_bool(&o, "rm", 0);
		docker_obj_bool(&o, "attach", 0);
		docker_obj_bool(&o, "logs", 0);
		docker_obj_bool(&o, "wait_healthy", 0);
		docker_obj_val(&o, "wait_timeout", val_number(60));
	}

	/* a map of networks: the first by name, for a stable ip_address */
	json_object_foreach((json_t *)nets, key, n) {
		struct docker_obj d;
		struct value *v;
		const char *ip = docker_json_str(n, "IPAddress");
		if (!first_key || strcmp(key, first_key) < 0) {
			first = n;
			first_key = key;
		}
		docker_obj_init(&d);
		docker_obj_str(&d, "network_name", key);
		docker_obj_str(&d, "ip_address", ip);
		docker_obj_val(&d, "ip_prefix_length", ip ? val_number((double)json_integer_value(json_object_get(n, "IPPrefixLen"))) : val_null());
		docker_obj_str(&d, "gateway", docker_json_str(n, "Gateway"));
		docker_obj_str(&d, "global_ipv6_address", docker_json_str(n, "GlobalIPv6Address"));
		docker_obj_str(&d, "mac_address", docker_json_str(n, "MacAddress"));
		v = docker_obj_done(&d);
		buf_push(&datas, struct value *, v);
	}
	docker_obj_val(&o, "network_data", val_list_take((struct value **)(void *)datas.data,
							 buf_count(&datas, struct value *)));
	buf_release(&datas);
	docker_networks_drift(&o, base, nets);
	docker_obj_str(&o, "ip_address", docker_json_str(first, "IPAddress"));
	docker_obj_str(&o, "gateway", docker_json_str(first, "Gateway"));
	docker_obj_val(&o, "exit_code", running || !json_is_integer(json_object_get(state, "ExitCode"))
		       ? val_null() : val_number((double)json_integer_value(json_object_get(state, "ExitCode"))));
	docker_obj_str(&o, "container_logs", NULL);
	return docker_obj_done(&o);
}

/* ---- create ---- */

static json_t *docker_healthcheck_json(const struct value *hc, struct diag_ctx *diag, const char *addr)
{
	static const char *const durations[][2] = {
		{ "interval", "Interval" }, { "timeout", "Timeout" }, { "start_period", "StartPeriod" },
	};
	json_t *h = json_object();
	double retries;

	json_object_set_new(h, "Test", docker_list_json(val_map_get(hc, "test")) ?: json_array());
	for (size_t i = 0; i < 3; i++) {
		const char *s = docker_str(hc, durations[i][0]);
		int64_t ns;
		if (!s)
			continue;
		if (docker_duration_ns(s, &ns)) {
			diag_error(diag, NULL, "%s: healthcheck.%s: \"%s\" is not a duration such as \"30s\"", addr,
				   durations[i][0], s);
			json_decref(h);
			return NULL;
		}
		json_object_set_new(h, durations[i][1], json_integer(ns));
	}
	if (docker_num(hc, "retries", &retries))
		json_object_set_new(h, "Retries", json_integer((json_int_t)retries));
	return h;
}

static json_t *docker_restart_json(const struct value *planned)
{
	json_t *rp = json_object();
	double n;

	json_object_set_new(rp, "Name", json_string(docker_str(planned, "restart") ?: "no"));
	if (docker_num(planned, "max_retry_count", &n))
		json_object_set_new(rp, "MaximumRetryCount", json_integer((json_int_t)n));
	return rp;
}

/* The resource limits docker update can change, in MB as the schema has them. */
static void docker_limits_json(json_t *host, const struct value *planned, int update)
{
	double n, swap;

	if (docker_num(planned, "memory", &n))
		json_object_set_new(host, "Memory", json_integer((json_int_t)(n * 1024 * 1024)));
	if (docker_num(planned, "memory_swap", &swap))
		json_object_set_new(host, "MemorySwap", json_integer(swap < 0 ? -1 : (json_int_t)(swap * 1024 * 1024)));
	else if (update && docker_num(planned, "memory", &n))
		/* without memory_swap a create gets twice the memory; an update must say so itself,
		 * or a raised memory is refused as over the swap limit the create set */
		json_object_set_new(host, "MemorySwap", json_integer((json_int_t)(2 * n * 1024 * 1024)));
	if (docker_num(planned, "cpu_shares", &n))
		json_object_set_new(host, "CpuShares", json_integer((json_int_t)n));
}

/* The POST /containers/create body; NULL after a diagnostic. */
static json_t *docker_create_json(const struct value *p, const char *token, struct diag_ctx *diag,
				  const char *addr)
{
	json_t *body = json_object(), *host = json_object(), *exposed = json_object();
	json_t *bindings = json_object(), *j;
	const struct value *v;
	const char *s;

	json_object_set_new(body, "Image", json_string(docker_str(p, "image")));
	if ((j = docker_list_json(val_map_get(p, "command"))))
		json_object_set_new(body, "Cmd", j);
	if ((j = docker_list_json(val_map_get(p, "entrypoint"))))
		json_object_set_new(body, "Entrypoint", j);
	if ((v = docker_known(p, "env")) && v->kind == VAL_MAP) {
		json_t *env = json_array();
		for (size_t i = 0; i < v->u.map.n; i++)
			if (v->u.map.items[i].val->kind == VAL_STRING) {
				char *e = xasprintf("%s=%s", v->u.map.items[i].key, v->u.map.items[i].val->u.str.s);
				json_array_append_new(env, json_string(e));
				free(e);
			}
		json_object_set_new(body, "Env", env);
	}
	json_object_set_new(body, "Labels", docker_map_json(val_map_get(p, "labels"), token));
	if ((s = docker_str(p, "user")))
		json_object_set_new(body, "User", json_string(s));
	if ((s = docker_str(p, "working_dir")))
		json_object_set_new(body, "WorkingDir", json_string(s));
	if ((s = docker_str(p, "hostname")))
		json_object_set_new(body, "Hostname", json_string(s));
	if ((s = docker_str(p, "domainname")))
		json_object_set_new(body, "Domainname", json_string(s));
	if ((s = docker_str(p, "stop_signal")))
		json_object_set_new(body, "StopSignal", json_string(s));
	if ((v = docker_known(p, "stop_timeout")) && v->kind == VAL_NUMBER)
		json_object_set_new(body, "StopTimeout", json_integer((json_int_t)v->u.n));
	json_object_set_new(body, "Tty", json_boolean(docker_bool(p, "tty", 0)));
	json_object_set_new(body, "OpenStdin", json_boolean(docker_bool(p, "stdin_open", 0)));
	if ((v = docker_known(p, "healthcheck")) && v->kind == VAL_MAP) {
		if (!(j = docker_healthcheck_json(v, diag, addr)))
			goto fail;
		json_object_set_new(body, "Healthcheck", j);
	}

	if ((v = docker_first_network(p))) {
		/* created on one of its networks; docker_connect_networks() adds the others */
		json_t *eps = json_object(), *nc = json_object();
		json_object_set_new(host, "NetworkMode", json_string(docker_str(v, "name")));
		json_object_set_new(eps, docker_str(v, "name"), docker_endpoint_json(v));
		json_object_set_new(nc, "EndpointsConfig", eps);
		json_object_set_new(body, "NetworkingConfig", nc);
	} else {
		json_object_set_new(host, "NetworkMode", json_string(docker_str(p, "network_mode") ?: "bridge"));
	}
	json_object_set_new(host, "RestartPolicy", docker_restart_json(p));
	docker_limits_json(host, p, 0);
	json_object_set_new(host, "Privileged", json_boolean(docker_bool(p, "privileged", 0)));
	/* with attach, stk removes it itself, once its logs are read */
	if (docker_bool(p, "rm", 0) && !docker_bool(p, "attach", 0))
		json_object_set_new(host, "AutoRemove", json_true());
	json_object_set_new(host, "ReadonlyRootfs", json_boolean(docker_bool(p, "read_only", 0)));
	if ((v = docker_known(p, "init")) && v->kind == VAL_BOOL)
		json_object_set_new(host, "Init", json_boolean(v->u.b));
	if ((j = docker_list_json(val_map_get(p, "dns"))))
		json_object_set_new(host, "Dns", j);
	if ((s = docker_str(p, "log_driver")) || docker_known(p, "log_opts")) {
		json_t *lc = json_object();
		json_object_set_new(lc, "Type", json_string(s ? s : "json-file"));
		if ((j = docker_map_json(val_map_get(p, "log_opts"), NULL)))
			json_object_set_new(lc, "Config", j);
		json_object_set_new(host, "LogConfig", lc);
	}
	if ((v = docker_known(p, "ports")) && v->kind == VAL_LIST) {
		for (size_t i = 0; i < v->u.list.n; i++) {
			const struct value *port = v->u.list.items[i];
			const char *proto = docker_str(port, "protocol") ?: "tcp";
			double internal, external;
			json_t *b = json_object(), *list;
			char *k;
			if (!docker_num(port, "internal", &internal)) {
				json_decref(b);
				continue;
			}
			k = xasprintf("%d/%s", (int)internal, proto);
			json_object_set_new(exposed, k, json_object());
			json_object_set_new(b, "HostIp", json_string(docker_str(port, "ip") ?: ""));
			if (docker_num(port, "external", &external)) {
				char hp[16];
				snprintf(hp, sizeof hp, "%d", (int)external);
				json_object_set_new(b, "HostPort", json_string(hp));
			} else {
				json_object_set_new(b, "HostPort", json_string(""));
			}
			if (!(list = json_object_get(bindings, k))) {
				list = json_array();
				json_object_set_new(bindings, k, list);
			}
			json_array_append_new(list, b);
			free(k);
		}
	}
	json_object_set_new(body, "ExposedPorts", exposed);
	exposed = NULL;
	json_object_set_new(host, "PortBindings", bindings);
	bindings = NULL;
	if ((v = docker_known(p, "mounts")) && v->kind == VAL_LIST && v->u.list.n) {
		json_t *mounts = json_array();
		for (size_t i = 0; i < v->u.list.n; i++) {
			const struct value *m = v->u.list.items[i];
			json_t *mo = json_object();
			json_object_set_new(mo, "Type", json_string(docker_str(m, "type") ?: "volume"));
			json_object_set_new(mo, "Target", json_string(docker_str(m, "target") ?: ""));
			if ((s = docker_str(m, "source")))
				json_object_set_new(mo, "Source", json_string(s));
			json_object_set_new(mo, "ReadOnly", json_boolean(docker_bool(m, "read_only", 0)));
			json_array_append_new(mounts, mo);
		}
		json_object_set_new(host, "Mounts", mounts);
	}
	json_object_set_new(body, "HostConfig", host);
	return body;
fail:
	json_decref(body);
	json_decref(host);
	json_decref(exposed);
	json_decref(bindings);
	return NULL;
}

static la_ssize_t docker_tar_write(struct archive *a, void *arg, const void *data, size_t len)
{
	(void)a;
	buf_add(arg, data, len);
	return (la_ssize_t)len;
}

/* One upload item's bytes: content, content_base64 or a local source file. */
static int docker_upload_bytes(const struct value *u, struct buf *out, struct diag_ctx *diag, const char *addr)
{
	const char *s;

	if ((s = docker_str(u, "content"))) {
		buf_addstr(out, s);
		return 0;
	}
	if ((s = docker_str(u, "content_base64"))) {
		size_t n = strlen(s), pad = 0;
		unsigned char *dec = xmalloc(n / 4 * 3 + 3);
		int len = EVP_DecodeBlock(dec, (const unsigned char *)s, (int)n);
		if (len < 0 || n % 4) {
			free(dec);
			diag_error(diag, NULL, "%s: upload %s: content_base64 is not base64", addr,
				   docker_str(u, "file"));
			return -1;
		}
		/* EVP_DecodeBlock counts the padding as zero bytes */
		while (n && s[n - 1] == '=' && pad < 2) {
			n--;
			pad++;
		}
		buf_add(out, dec, (size_t)len - pad);
		free(dec);
		return 0;
	}
	if ((s = docker_str(u, "source"))) {
		FILE *f = fopen(s, "rb");
		char chunk[8192];
		size_t got;
		if (!f) {
			diag_error(diag, NULL, "%s: upload %s: cannot read %s", addr, docker_str(u, "file"), s);
			return -1;
		}
		while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
			buf_add(out, chunk, got);
		fclose(f);
		return 0;
	}
	diag_error(diag, NULL, "%s: upload %s: one of content, content_base64 and source is needed", addr,
		   docker_str(u, "file") ?: "");
	return -1;
}

/* A tar of the upload files (paths relative to /), for PUT /containers/{id}/archive?path=/. */
static int docker_upload_tar(const struct value *uploads, struct buf *tar, struct diag_ctx *diag, const char *addr)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	struct buf data = BUF_INIT;
	int ret = -1;

	archive_write_set_format_pax_restricted(a);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open(a, tar, NULL, docker_tar_write, NULL) != ARCHIVE_OK) {
		diag_error(diag, NULL, "%s: upload: %s", addr, archive_error_string(a));
		goto out;
	}
	for (size_t i = 0; i < uploads->u.list.n; i++) {
		const struct value *u = uploads->u.list.items[i];
		const char *file = docker_str(u, "file"), *perm = docker_str(u, "permissions");
		unsigned mode = docker_bool(u, "executable", 0) ? 0755 : 0644;
		if (!file || !*file) {
			diag_error(diag, NULL, "%s: upload: file must be known", addr);
			goto out;
		}
		if (perm) {
			char *end;
			unsigned long m = strtoul(perm, &end, 8);
			if (*end || end == perm || m > 07777) {
				diag_error(diag, NULL, "%s: upload %s: permissions \"%s\" is not an octal mode", addr,
					   file, perm);
				goto out;
			}
			mode = (unsigned)m;
		}
		buf_reset(&data);
		if (docker_upload_bytes(u, &data, diag, addr))
			goto out;
		while (*file == '/')
			file++;
		archive_entry_clear(e);
		archive_entry_set_pathname(e, file);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, mode);
		archive_entry_set_size(e, (la_int64_t)data.len);
		archive_entry_set_mtime(e, time(NULL), 0);
		if (archive_write_header(a, e) != ARCHIVE_OK ||
		    (data.len && archive_write_data(a, data.data, data.len) < 0)) {
			diag_error(diag, NULL, "%s: upload %s: %s", addr, file, archive_error_string(a));
			goto out;
		}
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		diag_error(diag, NULL, "%s: upload: %s", addr, archive_error_string(a));
		goto out;
	}
	ret = 0;
out:
	buf_release(&data);
	archive_entry_free(e);
	archive_write_free(a);
	return ret;
}

static int docker_upload(struct docker *d, const char *id, const struct value *uploads, struct diag_ctx *diag,
			 const char *addr)
{
	struct buf tar = BUF_INIT, path = BUF_INIT, answer = BUF_INIT;
	long status;
	int ret = -1;

	if (docker_upload_tar(uploads, &tar, diag, addr))
		goto out;
	buf_addstr(&path, "/containers/");
	docker_escape(&path, id);
	buf_addstr(&path, "/archive?path=%2F");
	if (docker_raw(d, "PUT", path.data, tar.data, tar.len, "application/x-tar", &status, &answer, diag, addr,
		       "PutContainerArchive"))
		goto out;
	if (status >= 300) {
		docker_raw_error(diag, addr, "PutContainerArchive", status, &answer);
		goto out;
	}
	ret = 0;
out:
	buf_release(&answer);
	buf_release(&path);
	buf_release(&tar);
	return ret;
}

/* POST /containers/{id}/ACTION (start, stop?t=N). 304 (already so) is success. */
static int docker_post(struct docker *d, const char *id, const char *action, const char *query,
		       struct diag_ctx *diag, const char *addr, const char *what)
{
	struct buf path = BUF_INIT;
	int ret;

	buf_addstr(&path, "/containers/");
	docker_escape(&path, id);
	buf_printf(&path, "/%s%s", action, query ? query : "");
	ret = docker_call_ok(d, "POST", path.data, 304, diag, addr, what);
	buf_release(&path);
	return ret;
}

static void docker_trim_newlines(struct buf *b)
{
	while (b->len && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == '\r'))
		buf_truncate(b, b->len - 1);
}

/* The last health check from an inspect (State.Health.Log, oldest first), as "; its last
 * health check exited with code 1:\nOUTPUT": the check's own output is where an unhealthy
 * container says why, its log is often empty. Returns 0, adding nothing, when no check has
 * run. */
static int docker_health_said(const json_t *c, struct buf *out)
{
	const json_t *log = json_object_get(json_object_get(json_object_get(c, "State"), "Health"), "Log");
	const json_t *last = json_array_get(log, json_array_size(log) ? json_array_size(log) - 1 : 0);
	struct buf said = BUF_INIT;

	if (!json_is_object(last))
		return 0;
	buf_addstr(&said, json_string_value(json_object_get(last, "Output")) ?: "");
	docker_trim_newlines(&said);
	buf_printf(out, "; its last health check exited with code %lld",
		   (long long)json_integer_value(json_object_get(last, "ExitCode")));
	if (said.len)
		buf_printf(out, ":\n%s\n", buf_cstr(&said));
	else
		buf_addstr(out, ", with no output of its own");
	buf_release(&said);
	return 1;
}

/* The create fails on an unhealthy or exited container: its last health check and its last
 * lines say why. */
static void docker_fail_with_logs(struct docker *d, const char *id, const json_t *c, const char *why,
				  struct diag_ctx *diag, const char *addr)
{
	struct buf logs = BUF_INIT, msg = BUF_INIT;
	int tty = json_is_true(json_object_get(json_object_get(c, "Config"), "Tty"));
	const char *sep;
	int checked;

	buf_printf(&msg, "%s: container %.12s %s", addr, id, why);
	checked = docker_health_said(c, &msg);
	docker_logs(d, id, tty, 20, &logs, diag, addr);
	docker_trim_newlines(&logs);
	/* after the check's output, which ends its own line, the next part starts a line */
	sep = msg.data[msg.len - 1] == '\n' ? "" : "; ";
	if (logs.len)
		buf_printf(&msg, "%sits last output:\n%s", sep, buf_cstr(&logs));
	else if (checked)
		buf_printf(&msg, "%sthe container wrote no output", sep);
	else
		buf_addstr(&msg, ", with no output");
	diag_error(diag, NULL, "%s", msg.data);
	buf_release(&msg);
	buf_release(&logs);
}

/* Polls until the health check passes. Returns 0 healthy, -1 after a diagnostic; *c is the
 * last inspect. */
static int docker_wait_healthy(struct docker *d, const char *id, int timeout_s, json_t **c,
			       struct diag_ctx *diag, const char *addr)
{
	time_t deadline = time(NULL) + timeout_s;

	for (;;) {
		const json_t *state;
		const char *health;
		json_decref(*c);
		if (docker_inspect(d, id, c, diag, addr))
			return -1;
		if (!*c) {
			diag_error(diag, NULL, "%s: container %.12s is gone while waiting for it to be healthy", addr, id);
			return -1;
		}
		state = json_object_get(*c, "State");
		health = docker_json_str(json_object_get(state, "Health"), "Status");
		if (health && !strcmp(health, "healthy"))
			return 0;
		if (!json_is_true(json_object_get(state, "Running"))) {
			char why[64];
			snprintf(why, sizeof why, "exited with code %lld before it was healthy",
				 (long long)json_integer_value(json_object_get(state, "ExitCode")));
			docker_fail_with_logs(d, id, *c, why, diag, addr);
			return -1;
		}
		if (health && !strcmp(health, "unhealthy")) {
			docker_fail_with_logs(d, id, *c, "is unhealthy", diag, addr);
			return -1;
		}
		if (!health) {
			diag_error(diag, NULL, "%s: wait_healthy: container %.12s has no health check", addr, id);
			return -1;
		}
		if (time(NULL) >= deadline || http_cancelled()) {
			docker_fail_with_logs(d, id, *c, "was not healthy in time", diag, addr);
			return -1;
		}
		usleep(250 * 1000);
	}
}

/* must_run: a container that exits as soon as it starts (a bad command, exit 3) is a failure
 * now, with its status and output, not a success that every later plan finds stopped and
 * every apply starts again. Watched for a moment; a later exit is refresh's to find. */
static int docker_check_running(struct docker *d, const char *id, const struct value *planned,
				struct diag_ctx *diag, const char *addr)
{
	json_t *c = NULL;
	int ret = 0;

	if (!docker_bool(planned, "must_run", 1))
		return 0;
	for (int i = 0; i < 3 && ret == 0; i++) {
		const json_t *state;
		usleep(100 * 1000);
		json_decref(c);
		c = NULL;
		if (docker_inspect(d, id, &c, diag, addr) || !c)
			break;
		state = json_object_get(c, "State");
		if (!json_is_true(json_object_get(state, "Running")) &&
		    !json_is_true(json_object_get(state, "Restarting"))) {
			char why[80];
			snprintf(why, sizeof why, "exited at once with code %lld (must_run)",
				 (long long)json_integer_value(json_object_get(state, "ExitCode")));
			docker_fail_with_logs(d, id, c, why, diag, addr);
			ret = -1;
		}
	}
	json_decref(c);
	return ret;
}

/*
 * attach: polls until the container has exited, for at most timeout_s seconds (0: for as
 * long as it runs, as docker run does; an interrupt stops the wait). A code other than 0
 * fails the create with the container's last lines: a one-shot job (a migration) that
 * failed must fail the apply. Returns 0 or -1; *c is the last inspect.
 */
static int docker_wait_exit(struct docker *d, const char *id, int timeout_s, json_t **c,
			    struct diag_ctx *diag, const char *addr)
{
	time_t deadline = timeout_s > 0 ? time(NULL) + timeout_s : 0;

	for (;;) {
		const json_t *state;
		json_decref(*c);
		if (docker_inspect(d, id, c, diag, addr))
			return -1;
		if (!*c) {
			diag_error(diag, NULL, "%s: container %.12s is gone while waiting for it to exit", addr, id);
			return -1;
		}
		state = json_object_get(*c, "State");
		if (!json_is_true(json_object_get(state, "Running")) &&
		    !json_is_true(json_object_get(state, "Restarting"))) {
			long long code = json_integer_value(json_object_get(state, "ExitCode"));
			char why[64];
			if (!code)
				return 0;
			snprintf(why, sizeof why, "exited with code %lld (attach)", code);
			docker_fail_with_logs(d, id, *c, why, diag, addr);
			return -1;
		}
		if ((deadline && time(NULL) >= deadline) || http_cancelled()) {
			docker_fail_with_logs(d, id, *c, http_cancelled() ? "was still running when stk was interrupted" :
				"was still running when the create's timeout ran out (attach)", diag, addr);
			return -1;
		}
		usleep(250 * 1000);
	}
}

/* How many times a create whose name is taken looks at the holder and tries again: 250 ms
 * apart, so a container still being made (see below) has 5 s to show itself. */
#define DOCKER_NAME_TRIES 20

/* CreateContainer answered 409: the name is taken. Returns 1 when it may be free now, 0 when
 * another container holds it (the caller reports the conflict), -1 after a diagnostic.
 * What holds it with this create's token was made by an earlier attempt of the same create:
 * the intent of an interrupted apply, retried under its token, whose container the daemon
 * finished after stk had gone (it completes a create whose client went away), or a request
 * the HTTP layer retried after the answer was lost. No state records it, and it was made
 * from that attempt's arguments, which need not be this plan's, perhaps without its uploads
 * or start: it is removed and made again, so nothing is orphaned and the container is the
 * one planned. */
static int docker_name_reclaim(struct docker *d, const char *name, const char *token,
			       struct diag_ctx *diag, const char *addr)
{
	json_t *c = NULL;
	const char *held, *id;
	int ret = 0;

	if (docker_inspect(d, name, &c, diag, addr))
		return -1;
	/* the inspect finds IDs by prefix too: only the container of that name counts */
	if (!c || strcmp(docker_name(docker_json_str(c, "Name")) ?: "", name)) {
		/* nothing under the name yet: the engine reserves it before the container it is
		 * making can be inspected, so wait for that one, or for the name to be free */
		usleep(250 * 1000);
		ret = 1;
		goto out;
	}
	held = docker_json_str(json_object_get(json_object_get(c, "Config"), "Labels"), DOCKER_TOKEN_LABEL);
	id = docker_json_str(c, "Id");
	if (!token || !held || strcmp(held, token) || !id)
		goto out;
	ret = -1;
	if (docker_delete(d, "/containers/", id, "?force=1&v=0", diag, addr, "RemoveContainer"))
		goto out;
	diag_note(diag, NULL, "%s: removed container %.12s, which an interrupted earlier attempt of this "
		  "create made (token %s), to create it again as planned", addr, id, token);
	ret = 1;
out:
	json_decref(c);
	return ret;
}

/* Whether image names something a registry has, not an image ID ("sha256:...", or its
 * hexadecimal digits, whole or shortened). */
static int docker_pullable(const char *image)
{
	size_t n = strspn(image, "0123456789abcdef");

	return strncmp(image, "sha256:", 7) && !(n >= 12 && !image[n]);
}

/* attach, logs and rm against the arguments they cannot go with, before any call. */
static int docker_run_args_check(const struct value *p, struct diag_ctx *diag, const char *addr)
{
	const char *why = NULL, *hint = NULL;

	if (docker_bool(p, "attach", 0)) {
		if (docker_bool(p, "must_run", 1)) {
			why = "attach waits for the container to exit, and must_run = true wants it kept running";
			hint = "set must_run = false for a container that runs once (a migration, a seed job)";
		} else if (!docker_bool(p, "start", 1)) {
			why = "attach waits for the container to exit, and start = false does not start it";
			hint = "remove start = false, or attach";
		} else if (docker_bool(p, "wait_healthy", 0)) {
			why = "attach waits for the container to exit, and wait_healthy for it to be healthy";
			hint = "keep one of them";
		}
	} else if (docker_bool(p, "logs", 0)) {
		why = "logs keeps the output of a container stk waits for, and attach is false";
		hint = "set attach = true (and must_run = false) to run the container to its end";
	}
	if (!why)
		return 0;
	diag_error(diag, NULL, "%s: docker.container: %s", addr, why);
	diag_hint(diag, "%s", hint);
	return -1;
}

/* Connects the container to each networks_advanced entry but the one it was created on. */
static int docker_connect_networks(struct docker *d, const char *id, const struct value *p,
				   struct diag_ctx *diag, const char *addr)
{
	const struct value *nets = docker_known(p, "networks_advanced"), *first = docker_first_network(p);
	int ret = 0;

	for (size_t i = 0; first && !ret && i < nets->u.list.n; i++) {
		const struct value *e = nets->u.list.items[i];
		struct buf path = BUF_INIT;
		json_t *body, *answer = NULL;
		long status;
		if (e == first)
			continue;
		body = json_object();
		json_object_set_new(body, "Container", json_string(id));
		json_object_set_new(body, "EndpointConfig", docker_endpoint_json(e));
		buf_addstr(&path, "/networks/");
		docker_escape(&path, docker_str(e, "name"));
		buf_addstr(&path, "/connect");
		ret = docker_call(d, "POST", path.data, body, &status, &answer, diag, addr, "ConnectNetwork");
		if (!ret && status >= 300) {
			docker_api_error(diag, addr, "ConnectNetwork", status, answer);
			ret = -1;
		}
		json_decref(answer);
		buf_release(&path);
	}
	return ret;
}

static int docker_container_create(struct docker *d, const struct provider_op *op, struct value **result,
				   struct diag_ctx *diag)
{
	const char *name = docker_str(op->planned, "name");
	const struct value *uploads = docker_known(op->planned, "upload");
	const struct value *first = docker_first_network(op->planned);
	const char *mode = docker_str(op->planned, "network_mode");
	int attach = docker_bool(op->planned, "attach", 0);
	struct buf path = BUF_INIT;
	json_t *body, *answer = NULL, *c = NULL;
	char *id = NULL;
	int ret = -1;
	double wait;

	*result = NULL;
	if (first && mode && strcmp(mode, "bridge") && strcmp(mode, docker_str(first, "name") ?: "")) {
		diag_error(diag, NULL, "%s: docker.container: networks_advanced puts the container on its "
			   "networks, and network_mode = \"%s\" puts it elsewhere", op->addr, mode);
		diag_hint(diag, "leave network_mode unset, or set it to one of the networks of networks_advanced");
		return -1;
	}
	if (!name || !docker_str(op->planned, "image")) {
		diag_error(diag, NULL, "%s: name and image must be known to create a container", op->addr);
		return -1;
	}
	if (docker_run_args_check(op->planned, diag, op->addr))
		return -1;
	if (!(body = docker_create_json(op->planned, op->token, diag, op->addr)))
		return -1;
	buf_addstr(&path, "/containers/create?name=");
	docker_escape(&path, name);
	for (int tries = 0, pulled = 0;; tries++) {
		long status;
		int free_now;
		json_decref(answer);
		if (docker_call(d, "POST", path.data, json_incref(body), &status, &answer, diag, op->addr,
				"CreateContainer"))
			goto out;
		if (status < 300)
			break;
		/* the image is not in the store: pulled once, as docker run does (an ID cannot be) */
		if (status == 404 && !pulled && docker_pullable(docker_str(op->planned, "image"))) {
			pulled = 1;
			if (docker_pull(d, op, docker_str(op->planned, "image"), diag))
				goto out;
			continue;
		}
		/* 409: the name is taken, maybe by what an earlier attempt of this create made */
		free_now = status == 409 && tries < DOCKER_NAME_TRIES ?
			   docker_name_reclaim(d, name, op->token, diag, op->addr) : 0;
		if (free_now < 0)
			goto out;
		if (!free_now) {
			docker_api_error(diag, op->addr, "CreateContainer", status, answer);
			if (status == 409 && tries < DOCKER_NAME_TRIES)
				diag_hint(diag, "the container named %s was not made by this create (its %s label "
					  "is not this create's token): remove or rename it, or stk import it", name,
					  DOCKER_TOKEN_LABEL);
			goto out;
		}
	}
	if (!docker_json_str(answer, "Id")) {
		diag_error(diag, NULL, "%s: docker CreateContainer: the answer has no Id", op->addr);
		goto out;
	}
	id = xstrdup(docker_json_str(answer, "Id"));
	/* from here on the container exists: a failure returns what it is, to be kept tainted */
	if (docker_connect_networks(d, id, op->planned, diag, op->addr))
		goto result;
	if (uploads && (uploads->kind == VAL_LIST || uploads->kind == VAL_SET) && uploads->u.list.n &&
	    docker_upload(d, id, uploads, diag, op->addr))
		goto result;
	if (docker_bool(op->planned, "start", 1) &&
	    docker_post(d, id, "start", NULL, diag, op->addr, "StartContainer"))
		goto result;
	if (attach) {
		/* a one-shot container: done when it has exited, with 0 */
		if (docker_wait_exit(d, id, op->timeout_s, &c, diag, op->addr))
			goto result;
		*result = docker_container_value(op->planned, c, NULL);
		if (docker_bool(op->planned, "logs", 0)) {
			struct buf logs = BUF_INIT;
			struct docker_obj o;
			docker_logs(d, id, json_is_true(json_object_get(json_object_get(c, "Config"), "Tty")), 0,
				    &logs, diag, op->addr);
			docker_obj_from(&o, *result);
			docker_obj_str(&o, "container_logs", buf_cstr(&logs));
			val_unref(*result);
			*result = docker_obj_done(&o);
			buf_release(&logs);
		}
		/* rm: removed now, after its logs were read (AutoRemove would race the read) */
		if (docker_bool(op->planned, "rm", 0) &&
		    docker_delete(d, "/containers/", id, "?force=1", diag, op->addr, "RemoveContainer"))
			goto out;
		ret = 0;
		goto out;
	}
	if (docker_bool(op->planned, "start", 1) && docker_bool(op->planned, "wait_healthy", 0)) {
		int timeout = docker_num(op->planned, "wait_timeout", &wait) && wait > 0 ? (int)wait : 60;
		if (op->timeout_s > 0 && op->timeout_s < timeout)
			timeout = op->timeout_s;
		if (docker_wait_healthy(d, id, timeout, &c, diag, op->addr))
			goto result;
	} else if (docker_bool(op->planned, "start", 1) &&
		   docker_check_running(d, id, op->planned, diag, op->addr)) {
		goto result;
	}
	ret = 0;
result:
	json_decref(c);
	c = NULL;
	if (docker_inspect(d, id, &c, diag, op->addr) == 0 && c)
		*result = docker_container_value(op->planned, c, NULL);
	else if (ret == 0) {
		diag_error(diag, NULL, "%s: container %.12s was created but cannot be read back", op->addr, id);
		ret = -1;
	}
	if (!*result) {
		/* at least the id, so the state keeps it (tainted) for the next apply to remove */
		struct docker_obj o;
		docker_obj_from(&o, op->planned);
		docker_obj_str(&o, "id", id);
		*result = docker_obj_done(&o);
	}
out:
	json_decref(c);
	json_decref(answer);
	json_decref(body);
	free(id);
	buf_release(&path);
	return ret;
}

/* ---- update: the restart policy and limits (docker update), and a start ---- */

static int docker_container_update(struct docker *d, const struct provider_op *op, struct value **result,
				   struct diag_ctx *diag)
{
	const char *id = docker_str(op->prior, "id");
	struct buf path = BUF_INIT;
	json_t *body = json_object(), *c = NULL;
	int ret = -1;

	*result = NULL;
	if (!id) {
		json_decref(body);
		diag_error(diag, NULL, "%s: the state has no container id", op->addr);
		return -1;
	}
	json_object_set_new(body, "RestartPolicy", docker_restart_json(op->planned));
	docker_limits_json(body, op->planned, 1);
	buf_addstr(&path, "/containers/");
	docker_escape(&path, id);
	buf_addstr(&path, "/update");
	if (docker_call(d, "POST", path.data, body, NULL, NULL, diag, op->addr, "UpdateContainer"))
		goto out;
	/* found stopped with must_run (read reports must_run = false then): start it again */
	if (docker_bool(op->planned, "must_run", 1) && docker_bool(op->planned, "start", 1) &&
	    !docker_bool(op->prior, "must_run", 1) &&
	    (docker_post(d, id, "start", NULL, diag, op->addr, "StartContainer") ||
	     docker_check_running(d, id, op->planned, diag, op->addr)))
		goto out;
	if (docker_inspect(d, id, &c, diag, op->addr))
		goto out;
	if (!c) {
		diag_error(diag, NULL, "%s: container %.12s is gone", op->addr, id);
		goto out;
	}
	*result = docker_container_value(op->planned, c, NULL);
	ret = 0;
out:
	json_decref(c);
	buf_release(&path);
	return ret;
}

/* ---- remove ---- */

static int docker_container_remove(struct docker *d, const struct provider_op *op, struct diag_ctx *diag)
{
	const char *id = docker_str(op->prior, "id");
	double grace;

	if (!id)
		return 0;
	/* a graceful stop first when asked; force=1 alone kills at once */
	if (docker_num(op->prior, "destroy_grace_seconds", &grace) && grace > 0) {
		struct diag_ctx quiet;
		char q[32];
		snprintf(q, sizeof q, "?t=%d", (int)grace);
		/* a failed stop is not fatal: the forced remove below still kills it */
		diag_init(&quiet);
		(void)docker_post(d, id, "stop", q, &quiet, op->addr, "StopContainer");
		diag_release(&quiet);
	}
	return docker_delete(d, "/containers/", id, "?force=1&v=0", diag, op->addr, "RemoveContainer");
}

/* ---- read ---- */

/* GET /containers/json?all=1 with one filter: the engine's list, an array. */
static json_t *docker_container_list(struct docker *d, const char *key, const char *const *values, size_t n,
				     struct diag_ctx *diag)
{
	return docker_list(d, "/containers/json", "&all=1", key, values, n, "ListContainers", diag);
}

/* A list entry over the state's attributes: what can change out of band. image_id is the
 * current ID of the configured image name (NULL: not known). */
static struct value *docker_list_entry_value(const struct value *prior, const json_t *e, const char *image_id)
{
	const char *state = docker_json_str(e, "State"), *status = docker_json_str(e, "Status");
	const char *cid = docker_json_str(e, "ImageID");
	int running = state && !strcmp(state, "running");
	struct docker_obj o;
	int code;

	docker_obj_from(&o, prior);
	docker_obj_str(&o, "name", docker_name(json_string_value(json_array_get(json_object_get(e, "Names"), 0))));
	/* The name now points at another image (rebuilt, pulled again): report the ID the
	 * container runs, which differs from the configured name, so the plan replaces it. */
	if (image_id && cid && strcmp(image_id, cid))
		docker_obj_str(&o, "image", cid);
	/* Not running with must_run: report must_run = false, so the plan shows it as a change
	 * and the update starts it again. */
	if (!running && docker_bool(prior, "must_run", 1))
		docker_obj_bool(&o, "must_run", 0);
	if (!running && status && sscanf(status, "Exited (%d)", &code) == 1)
		docker_obj_val(&o, "exit_code", val_number(code));
	else if (running)
		docker_obj_val(&o, "exit_code", val_null());
	docker_networks_drift(&o, prior, json_object_get(json_object_get(e, "NetworkSettings"), "Networks"));
	return docker_obj_done(&o);
}

static int docker_container_read(struct docker *d, struct provider_read *items, size_t n, struct diag_ctx *diag)
{
	const char **ids = xcalloc(n ? n : 1, sizeof *ids);
	const json_t **found = xcalloc(n ? n : 1, sizeof *found);
	char **image_ids = xcalloc(n ? n : 1, sizeof *image_ids);
	size_t nids = 0;
	json_t *list = NULL;
	int ret = -1;

	for (size_t i = 0; i < n; i++) {
		const char *id = docker_str(items[i].prior, "id");
		items[i].result = NULL;
		if (id && docker_full_id(id) && docker_str(items[i].prior, "image"))
			ids[nids++] = id;
	}
	/* the id filter matches parts of IDs too: only an exact match counts */
	if (nids && !(list = docker_container_list(d, "id", ids, nids, diag)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		const char *id = docker_str(items[i].prior, "id"), *image;
		size_t k;
		json_t *c;
		if (!id)
			continue;
		if (!docker_full_id(id) || !docker_str(items[i].prior, "image")) {
			/* stk import (an id, a short id or a name): read it whole */
			json_t *ic = NULL, *icfg = NULL;
			char *iid;
			if (docker_inspect(d, id, &ic, diag, NULL))
				goto out;
			if (!ic)
				continue;
			iid = docker_image_id(d, docker_json_str(ic, "Image") ?: "", &icfg, diag);
			items[i].result = docker_container_value(items[i].prior, ic, icfg ? icfg : json_object());
			free(iid);
			json_decref(icfg);
			json_decref(ic);
			continue;
		}
		json_array_foreach(list, k, c) {
			const char *cid = docker_json_str(c, "Id");
			if (cid && !strcmp(cid, id))
				found[i] = c;
		}
		if (!found[i] || !(image = docker_str(items[i].prior, "image")))
			continue;
		/* one image inspect per distinct name */
		for (size_t j = 0; j < i && !image_ids[i]; j++)
			if (image_ids[j] && found[j] && !strcmp(docker_str(items[j].prior, "image"), image))
				image_ids[i] = xstrdup(image_ids[j]);
		if (!image_ids[i])
			image_ids[i] = docker_image_id(d, image, NULL, diag);
	}
	for (size_t i = 0; i < n; i++)
		if (found[i])
			items[i].result = docker_list_entry_value(items[i].prior, found[i], image_ids[i]);
	ret = 0;
out:
	if (ret)
		for (size_t i = 0; i < n; i++) {
			val_unref(items[i].result);
			items[i].result = NULL;
		}
	for (size_t i = 0; i < n; i++)
		free(image_ids[i]);
	free(image_ids);
	json_decref(list);
	free(found);
	free(ids);
	return ret;
}

static int docker_container_find(struct docker *d, const char *token, const struct value *planned,
				 struct value **result, struct diag_ctx *diag)
{
	char *label = xasprintf("%s=%s", DOCKER_TOKEN_LABEL, token);
	const char *values[1] = { label };
	json_t *list = docker_container_list(d, "label", values, 1, diag), *c = NULL;
	const char *id;
	int ret = -1;

	*result = NULL;
	free(label);
	if (!list)
		return -1;
	if (!(id = docker_json_str(json_array_get(list, 0), "Id"))) {
		ret = 0;
		goto out;
	}
	if (docker_inspect(d, id, &c, diag, NULL))
		goto out;
	ret = 0;
	if (c) {
		/* the create goes on after the container exists (uploads, start, the health wait):
		 * one cut short there left a container that runs without its files, or never ran.
		 * What cannot be seen done (uploads) or is not (not running, not healthy) makes it
		 * adopted tainted, for the next apply to replace. */
		const struct value *uploads = docker_known(planned, "upload");
		json_t *state = json_object_get(c, "State");
		const char *health = docker_json_str(json_object_get(state, "Health"), "Status");
		int start = docker_bool(planned, "start", 1);
		if ((uploads && (uploads->kind == VAL_LIST || uploads->kind == VAL_SET) && uploads->u.list.n) ||
		    (start && !json_is_true(json_object_get(state, "Running"))) ||
		    (start && docker_bool(planned, "wait_healthy", 0) && (!health || strcmp(health, "healthy"))))
			ret = 1;
		*result = docker_container_value(planned, c, NULL);
	}
out:
	json_decref(c);
	json_decref(list);
	return ret;
}

const struct docker_resource docker_container_resource = {
	.type = "container",
	.create = docker_container_create,
	.update = docker_container_update,
	.remove = docker_container_remove,
	.read = docker_container_read,
	.find = docker_container_find,
};

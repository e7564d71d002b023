/* docker_net.c: docker.network and docker.volume through the Engine API. The engine can
 * change neither after it is made (there is no update call for either; PUT /volumes is for
 * swarm cluster volumes only), so every argument forces a new one in the schema and update
 * is never called. A refresh of any number of networks, or of volumes, is one list call
 * filtered by their IDs or names; an object missing from the answer is gone. */
#include <stdlib.h>
#include <string.h>

#include "providers/docker/docker.h"

/* Is s a whole 64-hex-digit ID (what the state keeps), rather than a name or a short ID (what
 * stk import may be given)? */
static int full_id(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");
	return n == 64 && !s[n];
}

/* ---- networks ---- */

static struct value *ipam_config_value(const json_t *config)
{
	size_t n = json_array_size(config), k = 0;
	struct value **items = xcalloc(n ? n : 1, sizeof *items);
	struct value *r;

	for (size_t i = 0; i < n; i++) {
		const json_t *c = json_array_get(config, i);
		const json_t *aux = json_object_get(c, "AuxiliaryAddresses");
		struct docker_obj o;
		docker_obj_init(&o);
		docker_obj_str(&o, "subnet", docker_json_str(c, "Subnet"));
		docker_obj_str(&o, "ip_range", docker_json_str(c, "IPRange"));
		docker_obj_str(&o, "gateway", docker_json_str(c, "Gateway"));
		/* absent, not empty, when none are reserved: as the configuration leaves it */
		docker_obj_val(&o, "aux_address", json_object_size(aux) ? docker_map_value(aux, 0) : val_null());
		items[k++] = docker_obj_done(&o);
	}
	r = val_set_take(items, k);
	free(items);
	return r;
}

/* An engine network (inspect or list) -> the attributes of docker.network. */
static struct value *network_value(const json_t *n)
{
	const json_t *ipam = json_object_get(n, "IPAM");
	struct docker_obj o;

	docker_obj_init(&o);
	docker_obj_str(&o, "id", docker_json_str(n, "Id"));
	docker_obj_str(&o, "name", docker_json_str(n, "Name"));
	docker_obj_str(&o, "driver", docker_json_str(n, "Driver"));
	docker_obj_bool(&o, "internal", json_is_true(json_object_get(n, "Internal")));
	docker_obj_bool(&o, "attachable", json_is_true(json_object_get(n, "Attachable")));
	docker_obj_bool(&o, "ipv6", json_is_true(json_object_get(n, "EnableIPv6")));
	docker_obj_str(&o, "ipam_driver", docker_json_str(ipam, "Driver"));
	docker_obj_val(&o, "ipam_config", ipam_config_value(json_object_get(ipam, "Config")));
	docker_obj_val(&o, "options", docker_map_value(json_object_get(n, "Options"), 0));
	docker_obj_val(&o, "labels", docker_map_value(json_object_get(n, "Labels"), 1));
	docker_obj_str(&o, "scope", docker_json_str(n, "Scope"));
	return docker_obj_done(&o);
}

/* GET /networks/{id}: *result NULL when there is none (404). */
static int network_inspect(struct docker *d, const char *id, struct value **result, struct diag_ctx *diag,
			   const char *addr)
{
	struct buf path = BUF_INIT;
	json_t *answer = NULL;
	long status;
	int ret = -1;

	*result = NULL;
	buf_addstr(&path, "/networks/");
	docker_escape(&path, id);
	if (docker_call(d, "GET", path.data, NULL, &status, &answer, diag, addr, "InspectNetwork"))
		goto out;
	if (status == 404) {
		ret = 0;
		goto out;
	}
	if (status >= 300 || !json_is_object(answer)) {
		docker_api_error(diag, addr, "InspectNetwork", status, answer);
		goto out;
	}
	*result = network_value(answer);
	ret = 0;
out:
	json_decref(answer);
	buf_release(&path);
	return ret;
}

/* GET /networks with one filter: the engine's list, an array. */
static json_t *network_list(struct docker *d, const char *key, const char *const *values, size_t n,
			    struct diag_ctx *diag)
{
	return docker_list(d, "/networks", "", key, values, n, "ListNetworks", diag);
}

static json_t *ipam_config_json(const struct value *cfg)
{
	json_t *a = json_array();

	for (size_t i = 0; i < cfg->u.list.n; i++) {
		const struct value *c = cfg->u.list.items[i];
		json_t *o = json_object(), *aux;
		const char *s;
		if ((s = docker_str(c, "subnet")))
			json_object_set_new(o, "Subnet", json_string(s));
		if ((s = docker_str(c, "ip_range")))
			json_object_set_new(o, "IPRange", json_string(s));
		if ((s = docker_str(c, "gateway")))
			json_object_set_new(o, "Gateway", json_string(s));
		if ((aux = docker_map_json(val_map_get(c, "aux_address"), NULL)))
			json_object_set_new(o, "AuxiliaryAddresses", aux);
		json_array_append_new(a, o);
	}
	return a;
}

static int network_create(struct docker *d, const struct provider_op *op, struct value **result,
			  struct diag_ctx *diag)
{
	const char *name = docker_str(op->planned, "name");
	const struct value *cfg = val_map_get(op->planned, "ipam_config");
	json_t *body = json_object(), *ipam = json_object(), *answer = NULL, *opts;
	char *id = NULL;
	int ret = -1;

	if (!name) {
		json_decref(body);
		json_decref(ipam);
		diag_error(diag, NULL, "%s: name must be known to create a network", op->addr);
		return -1;
	}
	json_object_set_new(body, "Name", json_string(name));
	/* a second network of the same name is legal to the engine, and confusing to everyone */
	json_object_set_new(body, "CheckDuplicate", json_true());
	json_object_set_new(body, "Driver", json_string(docker_str(op->planned, "driver") ?: "bridge"));
	json_object_set_new(body, "Internal", json_boolean(docker_bool(op->planned, "internal", 0)));
	json_object_set_new(body, "Attachable", json_boolean(docker_bool(op->planned, "attachable", 0)));
	json_object_set_new(body, "EnableIPv6", json_boolean(docker_bool(op->planned, "ipv6", 0)));
	json_object_set_new(ipam, "Driver", json_string(docker_str(op->planned, "ipam_driver") ?: "default"));
	/* unset, ipam_config is unknown (computed): the engine picks a subnet from its pools */
	if (cfg && (cfg->kind == VAL_SET || cfg->kind == VAL_LIST) && val_is_known(cfg) && cfg->u.list.n)
		json_object_set_new(ipam, "Config", ipam_config_json(cfg));
	json_object_set_new(body, "IPAM", ipam);
	if ((opts = docker_map_json(val_map_get(op->planned, "options"), NULL)))
		json_object_set_new(body, "Options", opts);
	json_object_set_new(body, "Labels", docker_map_json(val_map_get(op->planned, "labels"), op->token));
	if (docker_call(d, "POST", "/networks/create", body, NULL, &answer, diag, op->addr, "CreateNetwork"))
		goto out;
	if (!docker_json_str(answer, "Id")) {
		diag_error(diag, NULL, "%s: docker CreateNetwork: the answer has no Id", op->addr);
		goto out;
	}
	id = xstrdup(docker_json_str(answer, "Id"));
	if (network_inspect(d, id, result, diag, op->addr))
		goto out;
	if (!*result) {
		diag_error(diag, NULL, "%s: network %s was created but cannot be read back", op->addr, id);
		goto out;
	}
	ret = 0;
out:
	json_decref(answer);
	free(id);
	return ret;
}

static int network_remove(struct docker *d, const struct provider_op *op, struct diag_ctx *diag)
{
	const char *id = docker_str(op->prior, "id");

	return id ? docker_delete(d, "/networks/", id, "", diag, op->addr, "RemoveNetwork") : 0;
}

static int network_read(struct docker *d, struct provider_read *items, size_t n, struct diag_ctx *diag)
{
	const char **ids = xcalloc(n ? n : 1, sizeof *ids);
	size_t nids = 0;
	json_t *list = NULL;
	int ret = -1;

	for (size_t i = 0; i < n; i++) {
		const char *id = docker_str(items[i].prior, "id");
		items[i].result = NULL;
		if (id && full_id(id))
			ids[nids++] = id;
	}
	/* the id filter matches parts of IDs too: only an exact match counts */
	if (nids && !(list = network_list(d, "id", ids, nids, diag)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		const char *id = docker_str(items[i].prior, "id");
		size_t k;
		json_t *nw;
		if (!id)
			continue;
		if (!full_id(id)) {
			/* stk import with a name or a short ID: the engine resolves those */
			if (network_inspect(d, id, &items[i].result, diag, NULL))
				goto out;
			continue;
		}
		json_array_foreach(list, k, nw) {
			const char *nid = docker_json_str(nw, "Id");
			if (nid && !strcmp(nid, id)) {
				items[i].result = network_value(nw);
				break;
			}
		}
	}
	ret = 0;
out:
	if (ret)
		for (size_t i = 0; i < n; i++) {
			val_unref(items[i].result);
			items[i].result = NULL;
		}
	json_decref(list);
	free(ids);
	return ret;
}

static int network_find(struct docker *d, const char *token, const struct value *planned,
			struct value **result, struct diag_ctx *diag)
{
	char *label = xasprintf("%s=%s", DOCKER_TOKEN_LABEL, token);
	const char *values[1] = { label };
	json_t *list = network_list(d, "label", values, 1, diag);

	(void)planned;
	*result = NULL;
	free(label);
	if (!list)
		return -1;
	if (json_array_size(list))
		*result = network_value(json_array_get(list, 0));
	json_decref(list);
	return 0;
}

const struct docker_resource docker_network_resource = {
	.type = "network",
	.create = network_create,
	.remove = network_remove,
	.read = network_read,
	.find = network_find,
};

/* ---- volumes ---- */

static struct value *volume_value(const json_t *v)
{
	struct docker_obj o;

	docker_obj_init(&o);
	docker_obj_str(&o, "id", docker_json_str(v, "Name"));
	docker_obj_str(&o, "name", docker_json_str(v, "Name"));
	docker_obj_str(&o, "driver", docker_json_str(v, "Driver"));
	docker_obj_val(&o, "driver_opts", docker_map_value(json_object_get(v, "Options"), 0));
	docker_obj_val(&o, "labels", docker_map_value(json_object_get(v, "Labels"), 1));
	docker_obj_str(&o, "mountpoint", docker_json_str(v, "Mountpoint"));
	return docker_obj_done(&o);
}

/* GET /volumes with one filter: the "Volumes" array of the answer (a new reference). */
static json_t *volume_list(struct docker *d, const char *key, const char *const *values, size_t n,
			   struct diag_ctx *diag)
{
	struct buf path = BUF_INIT;
	json_t *answer = NULL, *vols = NULL;

	buf_addstr(&path, "/volumes");
	docker_filters(&path, key, values, n);
	if (docker_call(d, "GET", path.data, NULL, NULL, &answer, diag, NULL, "ListVolumes") == 0) {
		vols = json_object_get(answer, "Volumes");
		/* null when there are none */
		vols = json_is_array(vols) ? json_incref(vols) : json_is_null(vols) || !vols ? json_array() : NULL;
		if (!vols)
			diag_error(diag, NULL, "docker ListVolumes: the answer has no list of volumes");
	}
	json_decref(answer);
	buf_release(&path);
	return vols;
}

static int volume_create(struct docker *d, const struct provider_op *op, struct value **result,
			 struct diag_ctx *diag)
{
	json_t *body = json_object(), *answer = NULL, *opts;
	const char *name = docker_str(op->planned, "name");
	const char *driver = docker_str(op->planned, "driver");
	const char *token;
	int ret = -1;

	if (name)
		json_object_set_new(body, "Name", json_string(name));
	if (driver)
		json_object_set_new(body, "Driver", json_string(driver));
	if ((opts = docker_map_json(val_map_get(op->planned, "driver_opts"), NULL)))
		json_object_set_new(body, "DriverOpts", opts);
	json_object_set_new(body, "Labels", docker_map_json(val_map_get(op->planned, "labels"), op->token));
	if (docker_call(d, "POST", "/volumes/create", body, NULL, &answer, diag, op->addr, "CreateVolume"))
		goto out;
	if (!json_is_object(answer) || !docker_json_str(answer, "Name")) {
		diag_error(diag, NULL, "%s: docker CreateVolume: the answer has no Name", op->addr);
		goto out;
	}
	/* The engine answers a create of a name that exists with the volume that is there, and
	 * ignores the labels: one without our token is someone else's, not ours to manage. */
	token = docker_json_str(json_object_get(answer, "Labels"), DOCKER_TOKEN_LABEL);
	if (op->token && (!token || strcmp(token, op->token))) {
		diag_error(diag, NULL, "%s: docker CreateVolume: a volume named \"%s\" already exists", op->addr,
			   docker_json_str(answer, "Name"));
		diag_hint(diag, "stk import %s %s adopts it", op->addr, docker_json_str(answer, "Name"));
		goto out;
	}
	*result = volume_value(answer);
	ret = 0;
out:
	json_decref(answer);
	return ret;
}

static int volume_remove(struct docker *d, const struct provider_op *op, struct diag_ctx *diag)
{
	const char *name = docker_str(op->prior, "id") ?: docker_str(op->prior, "name");

	return name ? docker_delete(d, "/volumes/", name, "", diag, op->addr, "RemoveVolume") : 0;
}

static int volume_read(struct docker *d, struct provider_read *items, size_t n, struct diag_ctx *diag)
{
	const char **names = xcalloc(n ? n : 1, sizeof *names);
	size_t nnames = 0;
	json_t *list = NULL;
	int ret = -1;

	for (size_t i = 0; i < n; i++) {
		const char *name = docker_str(items[i].prior, "id") ?: docker_str(items[i].prior, "name");
		items[i].result = NULL;
		if (name)
			names[nnames++] = name;
	}
	if (!nnames) {
		ret = 0;
		goto out;
	}
	/* the name filter matches parts of names too: only an exact match counts */
	if (!(list = volume_list(d, "name", names, nnames, diag)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		const char *name = docker_str(items[i].prior, "id") ?: docker_str(items[i].prior, "name");
		size_t k;
		json_t *v;
		if (!name)
			continue;
		json_array_foreach(list, k, v) {
			const char *vn = docker_json_str(v, "Name");
			if (vn && !strcmp(vn, name)) {
				items[i].result = volume_value(v);
				break;
			}
		}
	}
	ret = 0;
out:
	json_decref(list);
	free(names);
	return ret;
}

static int volume_find(struct docker *d, const char *token, const struct value *planned,
		       struct value **result, struct diag_ctx *diag)
{
	char *label = xasprintf("%s=%s", DOCKER_TOKEN_LABEL, token);
	const char *values[1] = { label };
	json_t *list = volume_list(d, "label", values, 1, diag);

	(void)planned;
	*result = NULL;
	free(label);
	if (!list)
		return -1;
	if (json_array_size(list))
		*result = volume_value(json_array_get(list, 0));
	json_decref(list);
	return 0;
}

const struct docker_resource docker_volume_resource = {
	.type = "volume",
	.create = volume_create,
	.remove = volume_remove,
	.read = volume_read,
	.find = volume_find,
};

/* F_OFD_SETLK, mkostemp */
#define _GNU_SOURCE
#include "planner/state.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

/* <>: "config.h" would find planner/config.h, the configuration loader */
#include <config.h>
#include "common/pieces.h"
#include "planner/crypt.h"
#include "planner/uuid.h"
#include "planner/value_json.h"

/* ---- the model ---- */

void state_init(struct state *st)
{
	memset(st, 0, sizeof *st);
	st->version = STATE_FORMAT_VERSION;
}

static void instance_free(struct state_instance *inst)
{
	val_unref(inst->key);
	val_unref(inst->attrs);
	state_instance_clear_deps(inst);
	free(inst->token);
	free(inst->priv);
	for (size_t i = 0; i < inst->ndeposed; i++)
		instance_free(inst->deposed[i]);
	free(inst->deposed);
	free(inst->deposed_key);
	free(inst);
}

static void resource_free(struct state_resource *res)
{
	for (size_t i = 0; i < res->ninstances; i++)
		instance_free(res->instances[i]);
	free(res->instances);
	free(res->module);
	free(res->type);
	free(res->name);
	free(res->provider);
	free(res->provider_module);
	free(res);
}

static void output_release(struct state_output *out)
{
	free(out->name);
	val_unref(out->value);
}

void state_release(struct state *st)
{
	for (size_t i = 0; i < st->nresources; i++)
		resource_free(st->resources[i]);
	free(st->resources);
	for (size_t i = 0; i < st->noutputs; i++)
		output_release(&st->outputs[i]);
	free(st->outputs);
	free(st->lineage);
	free(st->stk_version);
	state_init(st);
}

const char *state_status_name(enum state_status s)
{
	switch (s) {
	case STATE_READY: return "ready";
	case STATE_TAINTED: return "tainted";
	case STATE_PENDING: return "pending";
	}
	return "?";
}

void state_resource_addr(const struct state_resource *res, struct addr *out)
{
	addr_set(out, res->module, res->mode, res->type, res->name, NULL);
}

/* Compares res with a, ignoring a's key. */
static int resource_cmp(const struct state_resource *res, const struct addr *a)
{
	struct addr r = { res->module, res->mode, res->type, res->name, NULL };
	struct addr k = { a->module, a->mode, a->type, a->name, NULL };

	return addr_compare(&r, &k);
}

/* Where res of address a is, or would go; *found says which. */
static size_t resource_index(const struct state *st, const struct addr *a, int *found)
{
	size_t lo = 0, hi = st->nresources;

	*found = 0;
	/* a state file lists its resources in order: each new one goes last, one compare */
	if (hi) {
		int c = resource_cmp(st->resources[hi - 1], a);
		if (c < 0)
			return hi;
		if (!c) {
			*found = 1;
			return hi - 1;
		}
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = resource_cmp(st->resources[mid], a);
		if (!c) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t instance_index(const struct state_resource *res, const struct value *key,
			     int *found)
{
	size_t lo = 0, hi = res->ninstances;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = addr_key_compare(res->instances[mid]->key, key);
		if (!c) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Inserts p at index at of an array of n pointers. The arrays are only ever made here, with
 * room for a power of two of pointers at least n: growing one at a time by realloc copied
 * the whole array again and again when a big state was read. */
static void *insert_ptr(void *array, size_t n, size_t at, void *p)
{
	void **a = array;

	if (!n || !(n & (n - 1)))
		a = xrealloc(array, (n ? 2 * n : 1) * sizeof *a);

	memmove(a + at + 1, a + at, (n - at) * sizeof *a);
	a[at] = p;
	return a;
}

struct state_resource *state_find_resource(const struct state *st, const struct addr *a)
{
	int found;
	size_t i = resource_index(st, a, &found);

	return found ? st->resources[i] : NULL;
}

struct state_resource *state_add_resource(struct state *st, const struct addr *a,
					  const char *provider)
{
	struct state_resource *res;
	int found;
	size_t i = resource_index(st, a, &found);

	if (found) {
		res = st->resources[i];
		if (provider && strcmp(res->provider, provider)) {
			free(res->provider);
			res->provider = xstrdup(provider);
		}
		return res;
	}
	res = xcalloc(1, sizeof *res);
	res->module = xstrdup(a->module ? a->module : "");
	res->mode = a->mode;
	res->type = xstrdup(a->type);
	res->name = xstrdup(a->name);
	if (provider) {
		res->provider = xstrdup(provider);
	} else {
		/* the default configuration of the type's provider: "aws" for aws.vpc */
		const char *dot = strchr(a->type, '.');
		res->provider = dot ? xstrndup(a->type, (size_t)(dot - a->type)) : xstrdup(a->type);
	}
	st->resources = insert_ptr(st->resources, st->nresources, i, res);
	st->nresources++;
	return res;
}

void state_resource_set_provider_module(struct state_resource *res, const char *module)
{
	char *old = res->provider_module;

	res->provider_module = module ? xstrdup(module) : NULL;
	free(old);
}

int state_remove_resource(struct state *st, const struct addr *a)
{
	int found;
	size_t i = resource_index(st, a, &found);

	if (!found)
		return -1;
	resource_free(st->resources[i]);
	memmove(st->resources + i, st->resources + i + 1,
		(st->nresources - i - 1) * sizeof *st->resources);
	st->nresources--;
	return 0;
}

struct state_instance *state_resource_find_instance(const struct state_resource *res,
						    const struct value *key)
{
	int found;
	size_t i = instance_index(res, key, &found);

	return found ? res->instances[i] : NULL;
}

struct state_instance *state_find_instance(const struct state *st, const struct addr *a)
{
	struct state_resource *res = state_find_resource(st, a);

	return res ? state_resource_find_instance(res, a->key) : NULL;
}

/* Adds an instance keyed key (borrowed) to res, which has none such. */
static struct state_instance *resource_add_instance(struct state_resource *res, size_t at,
						    struct value *key)
{
	struct state_instance *inst = xcalloc(1, sizeof *inst);

	inst->key = key ? val_ref(key) : NULL;
	inst->status = STATE_READY;
	inst->attrs = val_empty_map();
	res->instances = insert_ptr(res->instances, res->ninstances, at, inst);
	res->ninstances++;
	return inst;
}

struct state_instance *state_add_instance(struct state *st, const struct addr *a,
					  const char *provider)
{
	struct state_resource *res;
	int found;
	size_t i;

	if (!addr_valid_key(a->key))
		return NULL;
	res = state_add_resource(st, a, provider);
	i = instance_index(res, a->key, &found);
	if (found)
		return res->instances[i];
	return resource_add_instance(res, i, a->key);
}

int state_remove_instance(struct state *st, const struct addr *a)
{
	struct state_resource *res = state_find_resource(st, a);
	int found;
	size_t i;

	if (!res)
		return -1;
	i = instance_index(res, a->key, &found);
	if (!found)
		return -1;
	instance_free(res->instances[i]);
	memmove(res->instances + i, res->instances + i + 1,
		(res->ninstances - i - 1) * sizeof *res->instances);
	/* as Terraform does: a resource with no instances left is gone from the state */
	if (!--res->ninstances)
		state_remove_resource(st, a);
	return 0;
}

int state_move_instance(struct state *st, const struct addr *src, const struct addr *dst)
{
	struct state_resource *res = state_find_resource(st, src);
	struct state_instance *old = state_find_instance(st, src), *in;
	char *prov, *pmod;

	if (!old || state_find_instance(st, dst))
		return -1;
	prov = xstrdup(res->provider ? res->provider : "");
	/* the block that made it goes too: a move changes the address, not where it is */
	pmod = res->provider_module ? xstrdup(res->provider_module) : NULL;
	if (!(in = state_add_instance(st, dst, prov))) {
		free(prov);
		free(pmod);
		return -1;
	}
	state_resource_set_provider_module(state_find_resource(st, dst), pmod);
	old = state_find_instance(st, src);   /* adding may move what the state holds */
	state_instance_set_attrs(in, old->attrs);
	in->status = old->status;
	state_instance_set_token(in, old->token);
	state_instance_set_private(in, old->priv);
	for (size_t d = 0; d < old->ndeps; d++)
		state_instance_add_dep(in, old->deps[d]);
	/* its deposed objects go with it: they are still to be destroyed */
	in->deposed = old->deposed;
	in->ndeposed = old->ndeposed;
	old->deposed = NULL;
	old->ndeposed = 0;
	state_remove_instance(st, src);
	free(prov);
	free(pmod);
	return 0;
}

void state_instance_address(const struct state_resource *res,
			    const struct state_instance *inst, struct buf *out)
{
	struct addr a = { res->module, res->mode, res->type, res->name, inst ? inst->key : NULL };

	addr_format(&a, out);
}

void state_instance_set_attrs(struct state_instance *inst, struct value *attrs)
{
	struct value *old = inst->attrs;

	inst->attrs = attrs ? val_ref(attrs) : val_empty_map();
	val_unref(old);
}

void state_instance_add_dep(struct state_instance *inst, const char *address)
{
	size_t lo = 0, hi = inst->ndeps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(inst->deps[mid], address);
		if (!c)
			return;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	inst->deps = insert_ptr(inst->deps, inst->ndeps, lo, xstrdup(address));
	inst->ndeps++;
}

void state_instance_clear_deps(struct state_instance *inst)
{
	for (size_t i = 0; i < inst->ndeps; i++)
		free(inst->deps[i]);
	free(inst->deps);
	inst->deps = NULL;
	inst->ndeps = 0;
}

static void set_string(char **field, const char *s)
{
	char *old = *field;

	*field = s ? xstrdup(s) : NULL;
	free(old);
}

void state_instance_set_token(struct state_instance *inst, const char *token)
{
	set_string(&inst->token, token);
}

void state_instance_set_private(struct state_instance *inst, const char *priv)
{
	set_string(&inst->priv, priv);
}

/* ---- deposed objects ---- */

int state_deposed_key_valid(const char *key)
{
	size_t n = 0;

	while (key && ((key[n] >= '0' && key[n] <= '9') || (key[n] >= 'a' && key[n] <= 'f')))
		n++;
	return key && n == 8 && !key[n];
}

/* Where key is, or goes, among inst's deposed objects (sorted by key; there are few). */
static size_t deposed_index(const struct state_instance *inst, const char *key, int *found)
{
	size_t i = 0;

	while (i < inst->ndeposed && strcmp(inst->deposed[i]->deposed_key, key) < 0)
		i++;
	*found = i < inst->ndeposed && !strcmp(inst->deposed[i]->deposed_key, key);
	return i;
}

struct state_instance *state_instance_find_deposed(const struct state_instance *inst, const char *key)
{
	int found;
	size_t i = deposed_index(inst, key, &found);

	return found ? inst->deposed[i] : NULL;
}

struct state_instance *state_instance_add_deposed(struct state_instance *inst, const char *key)
{
	struct state_instance *d;
	int found;
	size_t i;

	if (!state_deposed_key_valid(key))
		return NULL;
	i = deposed_index(inst, key, &found);
	if (found)
		return NULL;
	d = xcalloc(1, sizeof *d);
	d->status = STATE_READY;
	d->attrs = val_empty_map();
	d->deposed_key = xstrdup(key);
	inst->deposed = insert_ptr(inst->deposed, inst->ndeposed, i, d);
	inst->ndeposed++;
	return d;
}

struct state_instance *state_instance_depose(struct state_instance *inst, const char *key)
{
	struct state_instance *d = state_instance_add_deposed(inst, key);

	if (!d)
		return NULL;
	state_instance_set_attrs(d, inst->attrs);
	state_instance_set_private(d, inst->priv);
	for (size_t i = 0; i < inst->ndeps; i++)
		state_instance_add_dep(d, inst->deps[i]);
	return d;
}

int state_instance_remove_deposed(struct state_instance *inst, const char *key)
{
	int found;
	size_t i = deposed_index(inst, key, &found);

	if (!found)
		return -1;
	instance_free(inst->deposed[i]);
	memmove(inst->deposed + i, inst->deposed + i + 1, (inst->ndeposed - i - 1) * sizeof *inst->deposed);
	inst->ndeposed--;
	return 0;
}

int state_instance_promote_deposed(struct state_instance *inst)
{
	struct state_instance *d;

	if (!inst->ndeposed)
		return -1;
	d = inst->deposed[0];
	state_instance_set_attrs(inst, d->attrs);
	state_instance_set_private(inst, d->priv);
	state_instance_set_token(inst, NULL);
	state_instance_clear_deps(inst);
	for (size_t i = 0; i < d->ndeps; i++)
		state_instance_add_dep(inst, d->deps[i]);
	inst->status = STATE_TAINTED;
	return state_instance_remove_deposed(inst, d->deposed_key);
}

/* ---- outputs ---- */

static size_t output_index(const struct state *st, const char *name, int *found)
{
	size_t lo = 0, hi = st->noutputs;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(st->outputs[mid].name, name);
		if (!c) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct state_output *state_find_output(const struct state *st, const char *name)
{
	int found;
	size_t i = output_index(st, name, &found);

	return found ? &st->outputs[i] : NULL;
}

void state_set_output(struct state *st, const char *name, struct value *value, int sensitive)
{
	struct value *v = sensitive ? val_mark(value, VAL_SENSITIVE) : val_ref(value);
	int found;
	size_t i = output_index(st, name, &found);

	if (found) {
		val_unref(st->outputs[i].value);
	} else {
		st->outputs = xrealloc(st->outputs, (st->noutputs + 1) * sizeof *st->outputs);
		memmove(st->outputs + i + 1, st->outputs + i,
			(st->noutputs - i) * sizeof *st->outputs);
		st->noutputs++;
		st->outputs[i].name = xstrdup(name);
	}
	st->outputs[i].value = v;
	st->outputs[i].sensitive = !!sensitive;
}

int state_remove_output(struct state *st, const char *name)
{
	int found;
	size_t i = output_index(st, name, &found);

	if (!found)
		return -1;
	output_release(&st->outputs[i]);
	memmove(st->outputs + i, st->outputs + i + 1,
		(st->noutputs - i - 1) * sizeof *st->outputs);
	st->noutputs--;
	return 0;
}

/* ---- to JSON ---- */

static const char *mode_name(enum addr_mode m)
{
	return m == ADDR_DATA ? "data" : "managed";
}

/* An error about storing something of st; where names the part ("" for all of it). */
static void store_error(struct diag_ctx *diag, const char *name, const char *what,
			const char *where, const char *why)
{
	diag_error(diag, NULL, "cannot store %s%s%s in state file %s: %s", what,
		   *where ? " at " : "", *where == '.' ? where + 1 : where, name, why);
	diag_hint(diag, "after apply every value is known and storable, so this is a bug in "
		  "stk or its provider; nothing was written");
}

/* What the current object and a deposed one both record into j: attributes, their sensitive
 * paths, dependencies and private data. where: the part that cannot be stored, under prefix
 * ("attributes", "deposed[0].attributes"). Returns 0, or -1 with *why. */
static int object_to_json(const struct state_instance *o, json_t *j, const char *prefix,
			  struct buf *where, const char **why)
{
	json_t *attrs, *deps;

	buf_reset(where);
	buf_addstr(where, prefix);
	if (o->attrs && o->attrs->kind != VAL_MAP) {
		*why = "its attributes are not a map";
		return -1;
	}
	buf_addstr(where, "attributes");
	attrs = o->attrs ? val_to_json_why(o->attrs, where, why) : json_object();
	if (!attrs)
		return -1;
	buf_reset(where);
	json_object_set_new(j, "attributes", attrs);
	json_object_set_new(j, "sensitive_attributes", o->attrs ? val_sensitive_paths(o->attrs) : json_array());
	deps = json_array();
	for (size_t i = 0; i < o->ndeps; i++)
		json_array_append_new(deps, json_string(o->deps[i]));
	json_object_set_new(j, "dependencies", deps);
	if (o->priv)
		json_object_set_new(j, "private", json_string(o->priv));
	/* json_string() refuses what is not UTF-8; such a field would be lost, so fail */
	if (json_array_size(deps) != o->ndeps || (o->priv && !json_object_get(j, "private"))) {
		*why = "a dependency or its private data is not valid UTF-8";
		return -1;
	}
	return 0;
}

static json_t *instance_to_json(const struct state_resource *res,
				const struct state_instance *inst, const char *name,
				struct diag_ctx *diag)
{
	struct buf where = BUF_INIT, address = BUF_INIT, prefix = BUF_INIT;
	json_t *j = json_object(), *deposed;
	const char *why = NULL;

	state_instance_address(res, inst, &address);
	if (!addr_valid_key(inst->key)) {
		why = "its key is not a count index or a string";
		goto fail;
	}
	if (inst->status == STATE_PENDING && !inst->token) {
		why = "a pending instance needs a token";
		goto fail;
	}
	if (inst->key) {
		json_t *key = val_to_json_why(inst->key, &where, &why);
		if (!key)
			goto fail;
		json_object_set_new(j, "index_key", key);
	}
	if (object_to_json(inst, j, "", &where, &why) < 0)
		goto fail;
	json_object_set_new(j, "status", json_string(state_status_name(inst->status)));
	if (inst->token)
		json_object_set_new(j, "token", json_string(inst->token));
	if (inst->token && !json_object_get(j, "token")) {
		why = "its token is not valid UTF-8";
		goto fail;
	}
	/* written only when there are some: a file without them is what an older stk wrote */
	if (inst->ndeposed) {
		deposed = json_array();
		json_object_set_new(j, "deposed", deposed);
	}
	for (size_t i = 0; i < inst->ndeposed; i++) {
		const struct state_instance *d = inst->deposed[i];
		json_t *dj = json_object();
		json_array_append_new(deposed, dj);
		buf_reset(&prefix);
		buf_printf(&prefix, "deposed[%zu].", i);
		if (!state_deposed_key_valid(d->deposed_key)) {
			buf_reset(&where);
			buf_addstr(&where, prefix.data);
			buf_addstr(&where, "key");
			why = "a deposed object's key is 8 hex digits";
			goto fail;
		}
		json_object_set_new(dj, "key", json_string(d->deposed_key));
		if (object_to_json(d, dj, prefix.data, &where, &why) < 0)
			goto fail;
	}
	buf_release(&where);
	buf_release(&address);
	buf_release(&prefix);
	return j;
fail:
	store_error(diag, name, address.data, buf_cstr(&where), why);
	buf_release(&where);
	buf_release(&address);
	buf_release(&prefix);
	json_decref(j);
	return NULL;
}

static json_t *resource_to_json(const struct state_resource *res, const char *name,
				struct diag_ctx *diag)
{
	json_t *j, *instances;

	if (addr_parse_module(res->module, NULL) < 0 || !addr_valid_type(res->type) ||
	    !addr_valid_name(res->name) || !addr_valid_provider(res->provider) ||
	    (res->provider_module && (!*res->provider_module || addr_parse_module(res->provider_module, NULL) < 0))) {
		struct buf address = BUF_INIT;
		state_instance_address(res, NULL, &address);
		store_error(diag, name, address.data, "",
			    "its module, type, name, provider or provider_module is not valid");
		buf_release(&address);
		return NULL;
	}
	j = json_object();
	json_object_set_new(j, "module", json_string(res->module));
	json_object_set_new(j, "mode", json_string(mode_name(res->mode)));
	json_object_set_new(j, "type", json_string(res->type));
	json_object_set_new(j, "name", json_string(res->name));
	json_object_set_new(j, "provider", json_string(res->provider));
	/* only when a module's own block made it: every other file stays the same bytes, and an
	 * stk older than the field refuses the file (unknown field) rather than drop it */
	if (res->provider_module)
		json_object_set_new(j, "provider_module", json_string(res->provider_module));
	instances = json_array();
	json_object_set_new(j, "instances", instances);
	for (size_t i = 0; i < res->ninstances; i++) {
		json_t *inst = instance_to_json(res, res->instances[i], name, diag);
		if (!inst) {
			json_decref(j);
			return NULL;
		}
		json_array_append_new(instances, inst);
	}
	return j;
}

static json_t *to_json(const struct state *st, uint64_t serial, const char *name,
		       struct diag_ctx *diag)
{
	json_t *root = json_object(), *outputs = json_object(), *resources = json_array();
	struct buf where = BUF_INIT, what = BUF_INIT;
	const char *why;

	json_object_set_new(root, "version", json_integer(STATE_FORMAT_VERSION));
	json_object_set_new(root, "serial", json_integer((json_int_t)serial));
	json_object_set_new(root, "lineage", json_string(st->lineage ? st->lineage : ""));
	json_object_set_new(root, "stk_version", json_string(PACKAGE_VERSION));
	json_object_set_new(root, "outputs", outputs);
	json_object_set_new(root, "resources", resources);
	for (size_t i = 0; i < st->noutputs; i++) {
		const struct state_output *o = &st->outputs[i];
		json_t *v;
		buf_reset(&where);
		v = val_to_json_why(o->value, &where, &why);
		if (!v || !addr_valid_name(o->name)) {
			buf_reset(&what);
			buf_printf(&what, "output \"%s\"", o->name);
			json_decref(v);
			store_error(diag, name, what.data, buf_cstr(&where),
				    v ? "its name is not an identifier" : why);
			goto fail;
		}
		/* outputs keep no paths: a value with a sensitive part is sensitive whole */
		json_object_set_new(outputs, o->name,
				    json_pack("{s:o, s:b}", "value", v, "sensitive",
					      o->sensitive || val_is_sensitive(o->value)));
	}
	for (size_t i = 0; i < st->nresources; i++) {
		json_t *res = resource_to_json(st->resources[i], name, diag);
		if (!res)
			goto fail;
		json_array_append_new(resources, res);
	}
	buf_release(&where);
	buf_release(&what);
	return root;
fail:
	buf_release(&where);
	buf_release(&what);
	json_decref(root);
	return NULL;
}

json_t *state_to_json(const struct state *st, const char *name, struct diag_ctx *diag)
{
	return to_json(st, st->serial, name, diag);
}

static char *format_json(const json_t *root, size_t *len)
{
	struct buf b = BUF_INIT;

	val_json_write(root, &b);
	buf_addch(&b, '\n');
	return buf_detach(&b, len);
}

char *state_format(const struct state *st, const char *name, size_t *len,
		   struct diag_ctx *diag)
{
	json_t *root = state_to_json(st, name, diag);
	char *text;

	if (!root)
		return NULL;
	text = format_json(root, len);
	json_decref(root);
	return text;
}

/* ---- from JSON ---- */

struct reader {
	const char *file;
	struct diag_ctx *diag;
	struct buf where;   /* the part being read: "resources[2].instances[0]" */
};

/* How to get out of a state file that cannot be read: "<advice> <the backup>", the backup
 * only when there is one. */
static void damaged_hint(struct diag_ctx *diag, const char *path, const char *advice)
{
	struct stat sb;
	char *backup = xasprintf("%s.backup", path);

	if (stat(backup, &sb) == 0)
		diag_hint(diag, "%s %s (the state before the last write). stk changed nothing",
			  advice, backup);
	else
		diag_hint(diag, "%s a copy from before. stk changed nothing", advice);
	free(backup);
}

#define DAMAGED "the file was edited by hand or damaged; fix it, or put back"

static void read_hint(struct reader *r)
{
	damaged_hint(r->diag, r->file, DAMAGED);
}

/* An error about the field of the part being read (field NULL: the part itself). */
static int bad(struct reader *r, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(struct reader *r, const char *field, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;

	buf_printf(&msg, "state file %s: ", r->file);
	if (r->where.len || field) {
		buf_add(&msg, r->where.data, r->where.len);
		if (r->where.len && field)
			buf_addch(&msg, '.');
		if (field)
			buf_addstr(&msg, field);
		buf_addstr(&msg, ": ");
	}
	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	diag_error(r->diag, NULL, "%s", msg.data);
	read_hint(r);
	buf_release(&msg);
	return -1;
}

static const char *json_kind(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a real number";
	case JSON_TRUE: return "true";
	case JSON_FALSE: return "false";
	case JSON_NULL: return "null";
	}
	return "?";
}

enum field_type { F_ANY, F_OBJECT, F_ARRAY, F_STRING, F_INTEGER, F_BOOL };

static const char *const field_type_names[] = {
	"a value", "an object", "an array", "a string", "an integer", "true or false",
};

/* Reads a member of obj into *out (NULL when absent and optional). */
static int field(struct reader *r, const json_t *obj, const char *key, enum field_type type,
		 int required, json_t **out)
{
	json_t *j = json_object_get(obj, key);
	int ok;

	*out = NULL;
	if (!j) {
		if (required)
			return bad(r, key, "missing; it must be %s", field_type_names[type]);
		return 0;
	}
	switch (type) {
	case F_OBJECT: ok = json_is_object(j); break;
	case F_ARRAY: ok = json_is_array(j); break;
	case F_STRING: ok = json_is_string(j); break;
	case F_INTEGER: ok = json_is_integer(j); break;
	case F_BOOL: ok = json_is_boolean(j); break;
	default: ok = 1; break;
	}
	if (!ok)
		return bad(r, key, "expected %s, found %s", field_type_names[type], json_kind(j));
	*out = j;
	return 0;
}

/* A string member that must not be empty, unless allow_empty. */
static int string_field(struct reader *r, const json_t *obj, const char *key, int required,
			int allow_empty, const char **out)
{
	json_t *j;

	*out = NULL;
	if (field(r, obj, key, F_STRING, required, &j) < 0)
		return -1;
	if (!j)
		return 0;
	if (strlen(json_string_value(j)) != json_string_length(j))
		return bad(r, key, "the string holds a NUL character");
	if (!allow_empty && !*json_string_value(j))
		return bad(r, key, "must not be empty");
	*out = json_string_value(j);
	return 0;
}

/* Every member of obj is one of known (NULL-terminated): a typo must not pass for an
 * absent optional field, such as a misspelt sensitive_attributes. */
static int known_fields(struct reader *r, const json_t *obj, const char *const *known)
{
	const char *key;
	json_t *member;

	json_object_foreach((json_t *)obj, key, member) {
		const char *const *k;
		const char *guess;
		for (k = known; *k; k++)
			if (!strcmp(*k, key))
				break;
		if (*k)
			continue;
		guess = diag_suggest(key, known);
		bad(r, NULL, "unknown field \"%s\"%s%s%s", key, guess ? " (did you mean \"" : "",
		    guess ? guess : "", guess ? "\"?)" : "");
		return -1;
	}
	return 0;
}

static int read_key(struct reader *r, const json_t *obj, struct value **key)
{
	json_t *j = json_object_get(obj, "index_key");

	*key = NULL;
	if (!j)
		return 0;
	if (json_is_string(j)) {
		*key = val_from_json(j);
		return 0;
	}
	if (!json_is_integer(j))
		return bad(r, "index_key", "expected an integer or a string, found %s",
			   json_kind(j));
	*key = val_from_json(j);
	if (!addr_valid_key(*key)) {
		val_unref(*key);
		*key = NULL;
		return bad(r, "index_key", "a count index is from 0 to 10^15 - 1, not %"
			   JSON_INTEGER_FORMAT, json_integer_value(j));
	}
	return 0;
}

static int read_status(struct reader *r, const json_t *obj, enum state_status *status)
{
	static const enum state_status all[] = { STATE_READY, STATE_TAINTED, STATE_PENDING };
	const char *s;

	if (string_field(r, obj, "status", 1, 1, &s) < 0)
		return -1;
	for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
		if (!strcmp(s, state_status_name(all[i]))) {
			*status = all[i];
			return 0;
		}
	}
	return bad(r, "status", "\"%s\" is not a status: ready, tainted or pending", s);
}

static int read_deps(struct reader *r, const json_t *obj, struct state_instance *inst)
{
	struct buf why = BUF_INIT, canonical = BUF_INIT;
	struct addr a;
	json_t *deps, *dep;
	size_t i;
	int ret = -1;

	addr_init(&a);
	if (field(r, obj, "dependencies", F_ARRAY, 0, &deps) < 0)
		goto out;
	json_array_foreach(deps, i, dep) {
		char name[64];
		snprintf(name, sizeof name, "dependencies[%zu]", i);
		if (!json_is_string(dep)) {
			bad(r, name, "expected an address (a string), found %s", json_kind(dep));
			goto out;
		}
		buf_reset(&why);
		if (addr_parse(&a, json_string_value(dep), &why) < 0) {
			bad(r, name, "\"%s\" is not a resource address: %s",
			    json_string_value(dep), why.data);
			goto out;
		}
		buf_reset(&canonical);
		addr_format(&a, &canonical);
		state_instance_add_dep(inst, canonical.data);
	}
	ret = 0;
out:
	addr_release(&a);
	buf_release(&why);
	buf_release(&canonical);
	return ret;
}

static int read_attrs(struct reader *r, const json_t *obj, struct state_instance *inst)
{
	json_t *attrs, *paths;
	struct value *v, *marked;
	const char *why;
	size_t badpath;

	if (field(r, obj, "attributes", F_OBJECT, 1, &attrs) < 0 ||
	    field(r, obj, "sensitive_attributes", F_ARRAY, 0, &paths) < 0)
		return -1;
	v = val_from_json(attrs);
	if (!v)
		return bad(r, "attributes", "not a value stk can hold");
	if (!paths) {
		state_instance_set_attrs(inst, v);
		val_unref(v);
		return 0;
	}
	marked = val_mark_paths(v, paths, VAL_SENSITIVE, &badpath, &why);
	val_unref(v);
	if (!marked) {
		json_t *p = json_array_get(paths, badpath);
		struct buf shown = BUF_INIT;
		char name[64];
		int ret;

		snprintf(name, sizeof name, "sensitive_attributes[%zu]", badpath);
		if (!json_is_array(p))
			return bad(r, name, "%s", why);
		val_path_format(p, &shown);
		ret = bad(r, name, "the path %s: %s",
			  shown.len ? shown.data + (shown.data[0] == '.') : "[] (all attributes)",
			  why);
		buf_release(&shown);
		return ret;
	}
	if (marked->kind == VAL_MAP && (marked->marks & VAL_SENSITIVE)) {
		/* the path [] marks every attribute: each is marked, for what shows them one by one
		 * (stk state show, the plan); the map keeps its mark, and [] is written back */
		struct value *each = val_mark_elements(marked, VAL_SENSITIVE);

		val_unref(marked);
		marked = each;
	}
	state_instance_set_attrs(inst, marked);
	val_unref(marked);
	return 0;
}

/* An instance's deposed objects ("deposed": an array, absent in what an older stk wrote):
 * each read as the current object is, under its key. */
static int read_deposed(struct reader *r, const json_t *obj, struct state_instance *inst)
{
	static const char *const known[] = {
		"key", "attributes", "sensitive_attributes", "dependencies", "private", NULL,
	};
	json_t *all, *one;
	size_t i, mark = r->where.len;

	if (field(r, obj, "deposed", F_ARRAY, 0, &all) < 0)
		return -1;
	json_array_foreach(all, i, one) {
		struct state_instance *d;
		const char *key, *priv;
		buf_printf(&r->where, "%sdeposed[%zu]", mark ? "." : "", i);
		if (!json_is_object(one))
			return bad(r, NULL, "expected an object, found %s", json_kind(one));
		if (known_fields(r, one, known) < 0 || string_field(r, one, "key", 1, 0, &key) < 0 ||
		    string_field(r, one, "private", 0, 1, &priv) < 0)
			return -1;
		if (!state_deposed_key_valid(key))
			return bad(r, "key", "\"%s\" is not a deposed object's key (8 hex digits)", key);
		if (!(d = state_instance_add_deposed(inst, key)))
			return bad(r, "key", "a second deposed object %s", key);
		state_instance_set_private(d, priv);
		if (read_attrs(r, one, d) < 0 || read_deps(r, one, d) < 0)
			return -1;
		buf_truncate(&r->where, mark);
	}
	return 0;
}

static int read_instance(struct reader *r, const json_t *obj, struct state_resource *res)
{
	static const char *const known[] = {
		"index_key", "status", "attributes", "sensitive_attributes", "dependencies",
		"token", "private", "deposed", NULL,
	};
	struct state_instance *inst = NULL;
	struct value *key = NULL;
	const char *token, *priv;
	enum state_status status = STATE_READY;
	int found, ret = -1;
	size_t at;

	if (!json_is_object(obj)) {
		bad(r, NULL, "expected an object, found %s", json_kind(obj));
		goto out;
	}
	if (known_fields(r, obj, known) < 0 || read_key(r, obj, &key) < 0 ||
	    read_status(r, obj, &status) < 0 ||
	    string_field(r, obj, "token", status == STATE_PENDING, 0, &token) < 0 ||
	    string_field(r, obj, "private", 0, 1, &priv) < 0)
		goto out;
	at = instance_index(res, key, &found);
	if (found) {
		struct buf shown = BUF_INIT;
		addr_format_key(key, &shown);
		bad(r, "index_key", "a second instance %s", key ? shown.data : "without a key");
		buf_release(&shown);
		goto out;
	}
	inst = resource_add_instance(res, at, key);
	inst->status = status;
	state_instance_set_token(inst, token);
	state_instance_set_private(inst, priv);
	if (read_attrs(r, obj, inst) < 0 || read_deps(r, obj, inst) < 0 || read_deposed(r, obj, inst) < 0)
		goto out;
	ret = 0;
out:
	val_unref(key);
	return ret;
}

static int read_resource(struct reader *r, const json_t *obj, struct state *st)
{
	static const char *const known[] = {
		"module", "mode", "type", "name", "provider", "provider_module", "instances", NULL,
	};
	const char *module, *mode, *type, *name, *provider, *pmod;
	struct buf why = BUF_INIT;
	struct state_resource *res;
	struct addr a;
	json_t *instances, *inst;
	size_t i, mark;
	int found, ret = -1;

	addr_init(&a);
	if (!json_is_object(obj)) {
		bad(r, NULL, "expected an object, found %s", json_kind(obj));
		goto out;
	}
	if (known_fields(r, obj, known) < 0 ||
	    string_field(r, obj, "module", 0, 1, &module) < 0 ||
	    string_field(r, obj, "mode", 1, 0, &mode) < 0 ||
	    string_field(r, obj, "type", 1, 0, &type) < 0 ||
	    string_field(r, obj, "name", 1, 0, &name) < 0 ||
	    string_field(r, obj, "provider", 1, 0, &provider) < 0 ||
	    string_field(r, obj, "provider_module", 0, 0, &pmod) < 0 ||
	    field(r, obj, "instances", F_ARRAY, 1, &instances) < 0)
		goto out;
	if (!module)
		module = "";
	if (addr_parse_module(module, &why) < 0) {
		bad(r, "module", "\"%s\" is not a module path: %s", module, why.data);
		goto out;
	}
	if (strcmp(mode, "managed") && strcmp(mode, "data")) {
		bad(r, "mode", "\"%s\" is not a mode: managed or data", mode);
		goto out;
	}
	if (!addr_valid_type(type)) {
		bad(r, "type", "\"%s\" is not a resource type such as aws.vpc", type);
		goto out;
	}
	if (!addr_valid_name(name)) {
		bad(r, "name", "\"%s\" is not a name (letters, digits, '_' and '-')", name);
		goto out;
	}
	if (!addr_valid_provider(provider)) {
		bad(r, "provider", "\"%s\" is not a provider such as aws or aws.eu", provider);
		goto out;
	}
	buf_reset(&why);
	if (pmod && addr_parse_module(pmod, &why) < 0) {
		bad(r, "provider_module", "\"%s\" is not a module path such as module.net: %s", pmod, why.data);
		goto out;
	}
	addr_set(&a, module, strcmp(mode, "data") ? ADDR_MANAGED : ADDR_DATA, type, name, NULL);
	resource_index(st, &a, &found);
	if (found) {
		struct buf shown = BUF_INIT;
		addr_format(&a, &shown);
		bad(r, NULL, "a second entry for %s", shown.data);
		buf_release(&shown);
		goto out;
	}
	res = state_add_resource(st, &a, provider);
	state_resource_set_provider_module(res, pmod);
	mark = r->where.len;
	json_array_foreach(instances, i, inst) {
		buf_printf(&r->where, ".instances[%zu]", i);
		if (read_instance(r, inst, res) < 0)
			goto out;
		buf_truncate(&r->where, mark);
	}
	ret = 0;
out:
	addr_release(&a);
	buf_release(&why);
	return ret;
}

static int read_output(struct reader *r, const char *name, const json_t *obj, struct state *st)
{
	static const char *const known[] = { "value", "sensitive", NULL };
	json_t *value, *sensitive;
	struct value *v;

	if (!addr_valid_name(name))
		return bad(r, NULL, "\"%s\" is not an output name", name);
	if (!json_is_object(obj))
		return bad(r, NULL, "expected an object, found %s", json_kind(obj));
	if (known_fields(r, obj, known) < 0 || field(r, obj, "value", F_ANY, 1, &value) < 0 ||
	    field(r, obj, "sensitive", F_BOOL, 0, &sensitive) < 0)
		return -1;
	v = val_from_json(value);
	if (!v)
		return bad(r, "value", "not a value stk can hold");
	state_set_output(st, name, v, sensitive && json_is_true(sensitive));
	val_unref(v);
	return 0;
}

static int read_version(struct reader *r, const json_t *root, struct state *st)
{
	json_t *version;
	const char *writer;

	if (field(r, root, "version", F_INTEGER, 1, &version) < 0)
		return -1;
	if (json_integer_value(version) > STATE_FORMAT_VERSION) {
		writer = json_string_value(json_object_get(root, "stk_version"));
		diag_error(r->diag, NULL, "state file %s has format version %" JSON_INTEGER_FORMAT
			   ", newer than this stk reads (%d)", r->file,
			   json_integer_value(version), STATE_FORMAT_VERSION);
		if (writer)
			diag_hint(r->diag, "it was written by stk %s; use that version or a later "
				  "one (stk changed nothing)", writer);
		else
			diag_hint(r->diag, "it was written by a newer stk; use that one (stk "
				  "changed nothing)");
		return -1;
	}
	if (json_integer_value(version) < 1)
		return bad(r, "version", "%" JSON_INTEGER_FORMAT " is not a format version",
			   json_integer_value(version));
	st->version = (int)json_integer_value(version);
	return 0;
}

int state_from_json(struct state *st, const json_t *root, const char *name,
		    struct diag_ctx *diag)
{
	static const char *const known[] = {
		"version", "serial", "lineage", "stk_version", "outputs", "resources", NULL,
	};
	struct reader r = { name, diag, BUF_INIT };
	const char *lineage, *writer, *key;
	json_t *serial, *outputs, *resources, *item;
	size_t i;
	int ret = -1;

	if (!json_is_object(root)) {
		bad(&r, NULL, "expected an object at the top, found %s", json_kind(root));
		goto out;
	}
	/* the version first: a newer file may well have fields this stk does not know */
	if (read_version(&r, root, st) < 0 || known_fields(&r, root, known) < 0 ||
	    field(&r, root, "serial", F_INTEGER, 1, &serial) < 0 ||
	    string_field(&r, root, "lineage", 1, 0, &lineage) < 0 ||
	    string_field(&r, root, "stk_version", 0, 1, &writer) < 0 ||
	    field(&r, root, "outputs", F_OBJECT, 0, &outputs) < 0 ||
	    field(&r, root, "resources", F_ARRAY, 0, &resources) < 0)
		goto out;
	if (json_integer_value(serial) < 0) {
		bad(&r, "serial", "must not be negative");
		goto out;
	}
	st->serial = (uint64_t)json_integer_value(serial);
	st->lineage = xstrdup(lineage);
	st->stk_version = writer ? xstrdup(writer) : NULL;
	json_object_foreach(outputs, key, item) {
		buf_reset(&r.where);
		buf_printf(&r.where, "outputs.%s", key);
		if (read_output(&r, key, item, st) < 0)
			goto out;
	}
	json_array_foreach(resources, i, item) {
		buf_reset(&r.where);
		buf_printf(&r.where, "resources[%zu]", i);
		if (read_resource(&r, item, st) < 0)
			goto out;
	}
	ret = 0;
out:
	buf_release(&r.where);
	return ret;
}

/* ---- files ---- */

/* Reads the file at path (a "state file", a "lock file") into out. A missing file is no
 * error: *missing says so. */
static int read_file(const char *what, const char *path, struct buf *out, int *missing,
		     struct diag_ctx *diag)
{
	struct stat sb;
	int fd, ret = -1;

	*missing = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) {
			*missing = 1;
			return 0;
		}
		diag_error(diag, NULL, "cannot read %s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) < 0) {
		diag_error(diag, NULL, "cannot read %s %s: %s", what, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		diag_error(diag, NULL, "%s %s is not a regular file", what, path);
		goto out;
	}
	if (buf_read_fd(out, fd, (size_t)sb.st_size) < 0) {
		diag_error(diag, NULL, "cannot read %s %s: %s", what, path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

/* The SHA-256 of a state file's bytes as stored (sealed or not); 0 on success. */
static int file_digest(const void *data, size_t len, unsigned char out[32])
{
	unsigned int n = 0;

	return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -1;
}

/* Whether raw, the file's bytes now, are those st read or wrote last. */
static int same_as_disk(const struct state *st, const struct buf *raw)
{
	unsigned char now[32];

	return st->has_disk_digest && file_digest(raw->data ? raw->data : "", raw->len, now) == 0 &&
	       memcmp(now, st->disk_digest, sizeof now) == 0;
}

/* JSON_ALLOW_NUL: a string value may hold NUL, and val_to_json writes it so */
#define STATE_JSON_FLAGS (JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

static json_t *parse_json(const struct buf *text, json_error_t *err)
{
	return json_loadb(text->len ? text->data : "", text->len, STATE_JSON_FLAGS, err);
}

/*
 * A big state is parsed in pieces side by side, as a big configuration is (parser/parse.c):
 * jansson alone takes over 2 s for the 130 MB state of 100k resources. The cuts rely on the
 * layout stk writes (val_json_write): the resources array opens on the line
 * `  "resources": [` and closes on the last line `  ]` of the file; each of its objects starts
 * on a line `    {` and ends on a line `    }` (with a comma but for the last). JSON strings
 * hold no raw newline, so these lines are structure wherever they appear. Each thread parses
 * whole objects from its share with json_loadb, one after another, and the rest of the file
 * (its resources emptied) is parsed alone. Anything else than that layout (a file edited or
 * reformatted by hand, or one that is not JSON) gets the one pass it always had, and with it
 * the messages of a file that does not parse.
 */
#define STATE_PIECE_MIN (2u << 20)  /* bytes of resources per thread, at least */
#define STATE_PIECES_MAX 16

int state_load_threads = 0;
size_t state_piece_min = STATE_PIECE_MIN;

struct state_piece {
	const char *from, *to;   /* whole objects, separated by ",\n" */
	json_t *items;           /* the array of them, or NULL when the share does not parse */
	/* state_load: each object is read at once into `into`'s resources and its JSON freed,
	 * which spares the main thread that work and the memory of the whole tree; `ok` says
	 * every object parsed and read. NULL: the objects are kept in items. */
	struct state *into;
	const char *name;
	int ok;
};

static void *state_piece_run(void *arg)
{
	struct state_piece *pc = arg;
	const char *p = pc->from;
	json_t *items = pc->into ? NULL : json_array();
	struct diag_ctx diag;
	/* a piece's messages are dropped: on any error the whole file is read in one pass,
	 * which reports it with the index it has there */
	struct reader r = { pc->name, &diag, BUF_INIT };

	diag_init(&diag);

	for (;;) {
		json_error_t err;
		json_t *item;

		while (p < pc->to && (*p == ' ' || *p == '\n'))
			p++;
		if (p >= pc->to || *p != '{')
			goto fail;
		/* one object, and no further: the next starts after its comma */
		item = json_loadb(p, (size_t)(pc->to - p), STATE_JSON_FLAGS | JSON_DISABLE_EOF_CHECK,
				  &err);
		if (!item)
			goto fail;
		if (pc->into) {
			int bad = read_resource(&r, item, pc->into) < 0;
			json_decref(item);
			if (bad)
				goto fail;
		} else {
			json_array_append_new(items, item);
		}
		p += err.position;
		while (p < pc->to && (*p == ' ' || *p == '\n'))
			p++;
		if (p == pc->to)
			break;
		if (*p != ',')
			goto fail;
		p++;
	}
	pc->items = items;
	pc->ok = 1;
	goto out;
fail:
	json_decref(items);
out:
	buf_release(&r.where);
	diag_release(&diag);
	return NULL;
}

/* The start of the next object of the resources array at or after from, before to: the
 * position of "\n    {" after a line "    },", or NULL. */
static const char *next_object(const char *from, const char *to)
{
	static const char sep[] = "\n    },\n    {";
	const char *p = memmem(from, (size_t)(to - from), sep, sizeof sep - 1);

	return p ? p + 7 : NULL;
}

/* Whether the resources of a, then those of b, are in the state's order with none twice. */
static int pieces_in_order(const struct state *a, const struct state *b)
{
	const struct state_resource *last;

	if (!a->nresources || !b->nresources)
		return 0;
	last = a->resources[a->nresources - 1];
	struct addr k = { last->module, last->mode, last->type, last->name, NULL };
	return resource_cmp(b->resources[0], &k) > 0;
}

/*
 * state_json_load, and state_load when subs is not NULL: then each piece's resources are read
 * into subs[i] (initialized here) instead of the JSON, and root's resources array is left
 * empty. They are kept only when every piece read and their resources follow in order with
 * none twice; otherwise the subs are released and the file parsed in one pass, JSON only.
 */
static json_t *load_json(const char *text, size_t len, json_error_t *err, unsigned *pieces,
			 const char *name, struct state *subs)
{
	static const char open[] = "\n  \"resources\": [\n", close[] = "\n  ]";
	struct state_piece pcs[STATE_PIECES_MAX];
	const char *start, *end, *at;
	size_t n, np = 0;
	struct buf rest = BUF_INIT;
	json_t *root = NULL, *all = NULL;
	char mark[UUID_STR_SIZE];
	int ok = 1;

	*pieces = 1;
	start = len ? memmem(text, len, open, sizeof open - 1) : NULL;
	if (!start)
		goto whole;
	start += sizeof open - 2;        /* at the newline before the first object */
	/* the last such line, found from the end: after it come only scalars (serial,
	 * stk_version, version), where a search from the start would read the whole array */
	end = NULL;
	for (const char *p = text + len, *nl; p > start && !end; p = nl) {
		nl = memrchr(start, '\n', (size_t)(p - start));
		if (!nl)
			break;
		if ((size_t)(text + len - nl) >= sizeof close - 1 && !memcmp(nl, close, sizeof close - 1))
			end = nl;
	}
	if (!end)
		goto whole;
	n = pieces_count((size_t)(end - start), state_load_threads, state_piece_min, STATE_PIECES_MAX);
	if (n < 2)
		goto whole;
	/* cut near each equal share, after an object */
	at = start;
	for (size_t i = 1; i <= n; i++) {
		const char *cut = i == n ? end : next_object(start + (size_t)(end - start) * i / n, end);
		if (!cut || cut <= at)
			continue;
		memset(&pcs[np], 0, sizeof pcs[np]);
		pcs[np].from = at;
		pcs[np].to = i == n ? end : cut - 1;   /* before the comma */
		if (subs) {
			state_init(&subs[np]);
			pcs[np].into = &subs[np];
			pcs[np].name = name;
		}
		np++;
		at = cut;
	}
	if (np < 2)
		goto whole;
	/* the hash seed is set once, before any thread makes an object */
	json_object_seed(0);
	/* meanwhile, the file with a random string in place of its resources: finding it there,
	 * and only there, proves the cut was the top-level array's content and nothing nested */
	if (uuid_v4(mark) < 0)
		ok = 0;
	buf_add(&rest, text, (size_t)(start - text));
	buf_printf(&rest, "\"stk-cut-%s\"", mark);
	buf_add(&rest, end, len - (size_t)(end - text));
	root = ok ? parse_json(&rest, err) : NULL;
	pieces_run(state_piece_run, pcs, sizeof *pcs, np, 1);
	all = json_object_get(root, "resources");
	if (!json_is_object(root) || !json_is_array(all) || json_array_size(all) != 1 ||
	    !json_is_string(json_array_get(all, 0)) ||
	    strncmp(json_string_value(json_array_get(all, 0)), "stk-cut-", 8) != 0 ||
	    strcmp(json_string_value(json_array_get(all, 0)) + 8, mark) != 0 ||
	    json_array_clear(all) != 0)
		ok = 0;
	for (size_t i = 0; i < np; i++) {
		if (!pcs[i].ok)
			ok = 0;
		else if (ok && subs && i && !pieces_in_order(&subs[i - 1], &subs[i]))
			ok = 0;
		else if (ok && !subs)
			json_array_extend(all, pcs[i].items);
		json_decref(pcs[i].items);
	}
	buf_release(&rest);
	if (ok) {
		*pieces = (unsigned)np;
		return root;
	}
	json_decref(root);
	for (size_t i = 0; subs && i < np; i++)
		state_release(&subs[i]);
whole:
	return json_loadb(len ? text : "", len, STATE_JSON_FLAGS, err);
}

json_t *state_json_load(const char *text, size_t len, json_error_t *err, unsigned *pieces)
{
	return load_json(text, len, err, pieces, NULL, NULL);
}

int state_load(const char *name, const char *text, size_t len, struct state *st,
	       struct diag_ctx *diag, unsigned *pieces)
{
	struct state subs[STATE_PIECES_MAX];
	json_error_t err;
	json_t *root = load_json(text, len, &err, pieces, name, subs);
	size_t total = 0, cap = 1;
	int ret = -1;

	if (!root) {
		/* no span: a source line of a state file may hold a secret */
		diag_error(diag, NULL, "state file %s is not valid JSON: line %d, column %d: %s",
			   name, err.line, err.column, err.text);
		damaged_hint(diag, name, DAMAGED);
		goto out;
	}
	if (state_from_json(st, root, name, diag) < 0)
		goto out;
	if (*pieces < 2) {
		ret = 0;
		goto out;
	}
	/* the pieces' resources, in order, after none (root's array was emptied); the array
	 * sized as insert_ptr grows it, a power of two */
	for (unsigned i = 0; i < *pieces; i++)
		total += subs[i].nresources;
	while (cap < total)
		cap *= 2;
	free(st->resources);
	st->resources = xmalloc(cap * sizeof *st->resources);
	st->nresources = 0;
	for (unsigned i = 0; i < *pieces; i++) {
		memcpy(st->resources + st->nresources, subs[i].resources,
		       subs[i].nresources * sizeof *st->resources);
		st->nresources += subs[i].nresources;
		subs[i].nresources = 0;
	}
	ret = 0;
out:
	for (unsigned i = 0; *pieces > 1 && i < *pieces; i++)
		state_release(&subs[i]);
	json_decref(root);
	return ret;
}

static int new_lineage(struct state *st, const char *path, struct diag_ctx *diag)
{
	char id[UUID_STR_SIZE];

	if (uuid_v4(id) < 0) {
		diag_error(diag, NULL, "cannot start state file %s: no random numbers for its "
			   "lineage", path);
		diag_hint(diag, "OpenSSL's random generator failed; check /dev/urandom");
		return -1;
	}
	free(st->lineage);
	st->lineage = xstrdup(id);
	return 0;
}

/* ---- remote state and encryption ---- */

/* Process-wide, as the environment is: the command sets them once, before any state call. */
static const struct state_remote *remote;
static struct crypt *sealer;
static int sealing = 1;       /* writes are sealed when there is a passphrase */

void state_set_remote(const struct state_remote *r)
{
	remote = r;
}

void state_set_passphrase(const char *passphrase, int kdf)
{
	if (sealer) {
		crypt_release(sealer);
		free(sealer);
		sealer = NULL;
	}
	if (passphrase) {
		sealer = xmalloc(sizeof *sealer);
		crypt_init(sealer, passphrase, kdf);
	}
}

int state_kdf(void)
{
	return sealer ? sealer->kdf : 0;
}

void state_set_sealing(int on)
{
	sealing = on;
}

int state_has_passphrase(void)
{
	return sealer != NULL;
}

static int is_remote(const char *path)
{
	return remote && !strncmp(path, remote->prefix, strlen(remote->prefix));
}

int state_seal(const char *data, size_t len, struct buf *out, struct diag_ctx *diag)
{
	if (!sealer) {
		buf_add(out, data, len);
		return 0;
	}
	return crypt_seal(sealer, "state", data, len, out, diag);
}

int state_open(const char *name, const char *data, size_t len, struct buf *out, struct diag_ctx *diag)
{
	if (!crypt_is_sealed(data, len)) {
		buf_add(out, data, len);
		return 0;
	}
	if (!sealer) {
		diag_error(diag, NULL, "the %s is encrypted, and no passphrase was given", name);
		diag_hint(diag, "set STK_STATE_PASSPHRASE, or the passphrase in the stack's encryption block");
		return -1;
	}
	return crypt_open(sealer, name, data, len, out, diag);
}

/* The state file at path: its bytes as stored in raw (for the backup), and in *plain its JSON
 * text. That is raw itself for a plain file (130 MB for 100k resources: no copy), or text,
 * filled by opening a sealed one. */
static int load(const char *path, struct buf *raw, struct buf *text, const struct buf **plain,
		int *missing, struct diag_ctx *diag)
{
	int r = is_remote(path) ? remote->get(remote->arg, path, raw, missing, diag) :
				  read_file("state file", path, raw, missing, diag);

	*plain = raw;
	if (r < 0 || *missing || !crypt_is_sealed(raw->data ? raw->data : "", raw->len))
		return r;
	char *what = xasprintf("state file %s", path);
	r = state_open(what, raw->data ? raw->data : "", raw->len, text, diag);
	free(what);
	*plain = text;
	return r;
}

int state_read(const char *path, struct state *st, struct diag_ctx *diag)
{
	struct buf raw = BUF_INIT, text = BUF_INIT;
	const struct buf *plain;
	unsigned pieces;
	int missing, ret = -1;

	state_release(st);
	if (load(path, &raw, &text, &plain, &missing, diag) < 0)
		goto out;
	if (missing) {
		if (new_lineage(st, path, diag) < 0)
			goto out;
		ret = STATE_NEW;
		goto out;
	}
	/*
	 * An empty file is not taken for a new state: it is what a crash leaves of a file
	 * written in place, and starting afresh would create every resource a second time.
	 */
	if (!plain->len) {
		diag_error(diag, NULL, "state file %s is empty", path);
		damaged_hint(diag, path, "if there should be no state yet, remove the file; "
			     "otherwise put back");
		goto out;
	}
	if (state_load(path, plain->data, plain->len, st, diag, &pieces) < 0)
		goto out;
	st->disk_serial = st->serial;
	st->has_disk_digest = file_digest(raw.data ? raw.data : "", raw.len, st->disk_digest) == 0;
	st->disk_sealed = plain != &raw ? crypt_sealed_kdf(raw.data, raw.len) : 0;
	ret = 0;
out:
	if (ret < 0)
		state_release(st);
	buf_release(&text);
	buf_release(&raw);
	return ret;
}

/* Makes the entries of path's directory durable: the renames into it. Sets errno on
 * failure. */
static int sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) :
			    xstrdup(".");
	int fd, saved = 0, ret = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		saved = errno;
		ret = -1;
	} else {
		/* some file systems cannot sync a directory, and need not */
		if (fsync(fd) < 0 && errno != EINVAL && errno != ENOTSUP) {
			saved = errno;
			ret = -1;
		}
		close(fd);
	}
	free(dir);
	errno = saved;
	return ret;
}

/*
 * Refuses to replace the file at path (whose bytes are old) unless it is the state st was
 * read from, as it was then: the same lineage, and no write since.
 */
static int check_unchanged(const char *path, const struct state *st, const struct buf *old,
			   struct diag_ctx *diag)
{
	json_error_t err;
	json_t *root = parse_json(old, &err);
	json_t *serial = json_object_get(root, "serial");
	const char *lineage = json_string_value(json_object_get(root, "lineage"));
	int ret = -1;

	if (!json_is_object(root) || !lineage || !json_is_integer(serial)) {
		diag_error(diag, NULL, "refusing to replace %s: it is not a state file stk can "
			   "read", path);
		diag_hint(diag, "nothing was written; look at the file, and move it away if it "
			  "should be replaced");
		goto out;
	}
	if (strcmp(lineage, st->lineage)) {
		diag_error(diag, NULL, "the state changed since it was read: %s now holds another "
			   "state (lineage %s, not %s)", path, lineage, st->lineage);
		diag_hint(diag, "another state was written there; nothing was written. Run the "
			  "command again to work with the state as it is now");
		goto out;
	}
	if (json_integer_value(serial) > 0 &&
	    (uint64_t)json_integer_value(serial) > st->disk_serial) {
		diag_error(diag, NULL, "the state changed since it was read: %s is at serial %"
			   JSON_INTEGER_FORMAT ", it was at %llu", path, json_integer_value(serial),
			   (unsigned long long)st->disk_serial);
		diag_hint(diag, "another stk run wrote it meanwhile; nothing was written. Run the "
			  "command again to plan against the state as it is now");
		goto out;
	}
	ret = 0;
out:
	json_decref(root);
	return ret;
}

/*
 * Gives the new file fd mode 0600 whatever the umask, writes data, syncs and closes it.
 * On failure errno says why, as the first call that failed set it.
 */
static int finish_file(int fd, const char *data, size_t len)
{
	int ret = 0, saved = 0;

	if (fchmod(fd, 0600) < 0 || buf_write_fd(fd, data, len) < 0 || fsync(fd) < 0) {
		ret = -1;
		saved = errno;
	}
	if (close(fd) < 0 && !ret) {
		ret = -1;
		saved = errno;
	}
	errno = saved;
	return ret;
}

/*
 * Keeps the file at path as path.backup. The backup is made under a temporary name and
 * renamed into place, so path itself is never touched and path.backup is always a whole
 * file. A hard link costs nothing; where links are not allowed, the bytes read are copied.
 */
/* copy: write old rather than link the file (its bytes are not what the backup must hold) */
static int keep_backup(const char *path, const char *suffix, const struct buf *old, int copy,
		       struct diag_ctx *diag)
{
	char *backup = xasprintf("%s.backup", path);
	char *tmp = xasprintf("%s.backup.tmp-%s", path, suffix);
	struct stat sb;
	int fd, err = 0, ret = -1;

	/* a state file others may read (copied, checked out: 0644) is not linked as the backup,
	 * which would keep that mode: the backup is a copy, 0600 as every state file stk writes */
	if (copy || (stat(path, &sb) == 0 && (sb.st_mode & 077)))
		err = EPERM;
	else if (link(path, tmp) < 0) {
		err = errno;
		/* a name left by a crash, should the temporary names ever meet */
		if (err == EEXIST && unlink(tmp) == 0)
			err = link(path, tmp) < 0 ? errno : 0;
	}
	if (err) {
		if (err != EPERM && err != ENOTSUP && err != ENOSYS && err != EMLINK &&
		    err != EXDEV) {
			diag_error(diag, NULL, "cannot keep a backup of state file %s: %s", path,
				   strerror(err));
			goto out;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || finish_file(fd, old->data, old->len) < 0) {
			diag_error(diag, NULL, "cannot write backup %s: %s", tmp, strerror(errno));
			unlink(tmp);
			goto out;
		}
	}
	if (rename(tmp, backup) < 0) {
		diag_error(diag, NULL, "cannot keep a backup of state file %s as %s: %s", path,
			   backup, strerror(errno));
		unlink(tmp);
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		diag_hint(diag, "nothing was written; %s is as it was", path);
	free(backup);
	free(tmp);
	return ret;
}

int state_write(const char *path, struct state *st, struct diag_ctx *diag)
{
	struct buf opened = BUF_INIT, raw = BUF_INIT, sealed = BUF_INIT;
	const struct buf *old = NULL;  /* the stored state's JSON: raw, or opened */
	char *text = NULL, *tmp = NULL;
	json_t *root = NULL;
	uint64_t serial;
	size_t len;
	int fd = -1, missing, r, ret = -1;

	if (!st->lineage && new_lineage(st, path, diag) < 0)
		goto out;
	/* the stored state is checked first: a stale writer (another lineage, a serial past the
	 * one read) is refused before anything is written */
	if (load(path, &raw, &opened, &old, &missing, diag) < 0)
		goto out;
	/* the file as read or last written needs no parse: its lineage and serial are known
	 * (a parse of a big state costs more than the rest of the write) */
	if (!missing && !same_as_disk(st, &raw) && check_unchanged(path, st, old, diag) < 0)
		goto out;
	serial = st->serial > st->disk_serial ? st->serial : st->disk_serial;
	/* the next serial must be one a reader takes: a JSON integer, not negative */
	if (serial >= (uint64_t)INT64_MAX) {
		diag_error(diag, NULL, "state file %s has the highest serial there is (%llu): stk cannot "
			   "write a later one", path, (unsigned long long)serial);
		diag_hint(diag, "nothing was written; if the serial was set by hand, put back the "
			  "state's real serial");
		goto out;
	}
	serial++;
	root = to_json(st, serial, path, diag);
	if (!root)
		goto out;
	text = format_json(root, &len);
	if (sealer && sealing) {
		if (crypt_seal(sealer, "state", text, len, &sealed, diag) < 0)
			goto out;
		free(text);
		len = sealed.len;
		text = buf_detach(&sealed, NULL);
	}
	if (is_remote(path)) {
		/* the object is replaced whole; the lock keeps other writers out meanwhile */
		if (remote->put(remote->arg, path, text, len, diag) < 0)
			goto out;
		goto written;
	}

	/* the new file, whole and on disk before it takes the name */
	tmp = xasprintf("%s.tmp-XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		diag_error(diag, NULL, "cannot create a temporary file next to state file %s: %s",
			   path, strerror(errno));
		diag_hint(diag, "stk writes the state to a new file in the same directory, then "
			  "renames it; that directory must be writable");
		free(tmp);
		tmp = NULL;
		goto out;
	}
	r = finish_file(fd, text, len);
	fd = -1;
	if (r < 0) {
		diag_error(diag, NULL, "cannot write state file %s: %s", path, strerror(errno));
		diag_hint(diag, "nothing was replaced: %s is as it was; the new state is lost "
			  "unless the command is run again", path);
		goto out;
	}
	if (!missing) {
		/* sealing a state kept in clear until now: its backup is sealed too, or the
		 * secrets would stay readable beside it */
		int reseal = sealer && sealing && !crypt_is_sealed(raw.data ? raw.data : "", raw.len);
		struct buf resealed = BUF_INIT;
		if (reseal && crypt_seal(sealer, "state backup", old->data ? old->data : "", old->len, &resealed,
					 diag) < 0) {
			buf_release(&resealed);
			goto out;
		}
		r = keep_backup(path, tmp + strlen(tmp) - 6, reseal ? &resealed : &raw, reseal, diag);
		buf_release(&resealed);
		if (r < 0)
			goto out;
		/* the backup's name must be durable before the state's old bytes lose theirs */
		if (sync_dir(path) < 0) {
			diag_error(diag, NULL, "cannot sync the directory of state file %s: %s",
				   path, strerror(errno));
			goto out;
		}
	}
	if (rename(tmp, path) < 0) {
		diag_error(diag, NULL, "cannot replace state file %s: %s", path, strerror(errno));
		diag_hint(diag, "nothing was replaced: %s is as it was", path);
		goto out;
	}
	free(tmp);
	tmp = NULL;
	if (sync_dir(path) < 0) {
		/* the new file is in place; only its surviving a power cut is in doubt */
		diag_warning(diag, NULL, "state file %s was written, but its directory could not "
			     "be synced: %s", path, strerror(errno));
	}
written:
	st->serial = serial;
	st->disk_serial = serial;
	st->has_disk_digest = file_digest(text, len, st->disk_digest) == 0;
	st->disk_sealed = crypt_sealed_kdf(text, len);
	st->version = STATE_FORMAT_VERSION;
	free(st->stk_version);
	st->stk_version = xstrdup(PACKAGE_VERSION);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp)
		unlink(tmp);
	free(tmp);
	free(text);
	json_decref(root);
	buf_release(&opened);
	buf_release(&raw);
	buf_release(&sealed);
	return ret;
}

/* ---- locking ---- */

void state_lock_info_init(struct state_lock_info *info)
{
	memset(info, 0, sizeof *info);
}

void state_lock_info_release(struct state_lock_info *info)
{
	free(info->id);
	free(info->host);
	free(info->operation);
	free(info->who);
	free(info->since);
	state_lock_info_init(info);
}

void state_lock_init(struct state_lock *lock)
{
	lock->remote = 0;
	lock->fd = -1;
	lock->path = NULL;
	state_lock_info_init(&lock->info);
}

/*
 * Not a classic POSIX record lock: the process drops one of those when it closes any
 * descriptor of the file, whoever opened it. An OFD lock belongs to the open file
 * description, and goes when the last descriptor of that does: when the holder exits,
 * however it exits. O_CLOEXEC on the descriptor keeps programs the holder runs from
 * inheriting (and so prolonging) it.
 */
static int lock_fd(int fd)
{
#ifdef F_OFD_SETLK
	struct flock fl;

	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	return errno == EAGAIN || errno == EACCES ? 1 : -1;
#else
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	return errno == EWOULDBLOCK ? 1 : -1;
#endif
}

static char *info_string(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? xstrdup(s) : NULL;
}

/* Parses lock information; 0, or -1 when text is not any. */
static int parse_info(const struct buf *text, struct state_lock_info *info)
{
	json_error_t err;
	json_t *root = parse_json(text, &err);

	state_lock_info_release(info);
	if (!json_is_object(root) || !json_is_string(json_object_get(root, "id"))) {
		json_decref(root);
		return -1;
	}
	info->id = info_string(root, "id");
	info->pid = (long)json_integer_value(json_object_get(root, "pid"));
	info->host = info_string(root, "host");
	info->operation = info_string(root, "operation");
	info->who = info_string(root, "who");
	info->since = info_string(root, "since");
	json_decref(root);
	return 0;
}

static void sleep_ms(unsigned long ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int read_fd(int fd, struct buf *out)
{
	char chunk[4096];
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, chunk, sizeof chunk, off)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf_add(out, chunk, (size_t)n);
		off += n;
	}
	return 0;
}

/*
 * Reads who holds the lock on fd. The holder writes its information just after taking the
 * lock, so an empty file is given a moment to fill.
 */
static void read_holder(int fd, struct state_lock_info *info)
{
	struct buf text = BUF_INIT;

	for (int tries = 0; tries < 10; tries++) {
		buf_reset(&text);
		if (read_fd(fd, &text) == 0 && parse_info(&text, info) == 0)
			break;
		sleep_ms(20);
	}
	buf_release(&text);
}

static int same_file(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/*
 * One try at the lock file lockpath. Returns 0 with the locked descriptor in *out; 1 when
 * another process holds it, with what it says about itself in holder; -1 on errors.
 */
static int try_lock(const char *lockpath, int *out, struct state_lock_info *holder,
		    struct diag_ctx *diag)
{
	for (int tries = 0; tries < 100; tries++) {
		int fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		int r;

		if (fd < 0) {
			diag_error(diag, NULL, "cannot open lock file %s: %s", lockpath,
				   strerror(errno));
			diag_hint(diag, "the lock file goes next to the state; its directory must "
				  "be writable");
			return -1;
		}
		r = lock_fd(fd);
		if (r < 0) {
			diag_error(diag, NULL, "cannot lock %s: %s", lockpath, strerror(errno));
			close(fd);
			return -1;
		}
		if (r > 0) {
			read_holder(fd, holder);
			close(fd);
			return 1;
		}
		/*
		 * The holder before us removes the file while it still holds the lock; if
		 * that happened after our open, we locked a file nobody else will ever see,
		 * and must start again with the one at the path now.
		 */
		if (same_file(fd, lockpath)) {
			*out = fd;
			return 0;
		}
		close(fd);
	}
	diag_error(diag, NULL, "cannot lock %s: the lock file keeps changing", lockpath);
	return -1;
}

static void locked_error(const char *path, const struct state_lock_info *h,
			 unsigned long timeout_ms, struct diag_ctx *diag)
{
	char waited[64] = "";

	if (timeout_ms)
		snprintf(waited, sizeof waited, " (gave up after waiting %lu ms)", timeout_ms);
	if (!h->id) {
		diag_error(diag, NULL, "the state %s is locked by another process, which has "
			   "not said who it is (%s.lock is empty or not JSON)%s", path, path, waited);
		diag_hint(diag, "the lock goes away when that process ends; look for a running "
			  "stk");
		return;
	}
	diag_error(diag, NULL, "the state %s is locked by pid %ld on host %s (%s by %s, since "
		   "%s); lock ID %s%s", path, h->pid, h->host ? h->host : "?",
		   h->operation ? h->operation : "?", h->who ? h->who : "?",
		   h->since ? h->since : "?", h->id, waited);
	diag_hint(diag, "if that process is gone, run stk force-unlock %s", h->id);
}

static char *current_user(void)
{
	struct passwd pw, *found = NULL;
	char scratch[4096];
	const char *env;

	if (getpwuid_r(geteuid(), &pw, scratch, sizeof scratch, &found) == 0 && found)
		return xstrdup(found->pw_name);
	env = getenv("USER");
	if (env && *env)
		return xstrdup(env);
	return xasprintf("uid %ld", (long)geteuid());
}

static int fill_info(struct state_lock_info *info, const char *operation)
{
	char id[UUID_STR_SIZE], host[256], since[32];
	struct tm tm;
	time_t now = time(NULL);

	if (uuid_v4(id) < 0)
		return -1;
	if (gethostname(host, sizeof host) < 0)
		strcpy(host, "?");
	host[sizeof host - 1] = '\0';
	gmtime_r(&now, &tm);
	strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &tm);
	info->id = xstrdup(id);
	info->pid = (long)getpid();
	info->host = xstrdup(host);
	info->operation = xstrdup(operation);
	info->who = current_user();
	info->since = xstrdup(since);
	return 0;
}

char *state_lock_info_json(const struct state_lock_info *info)
{
	json_t *j = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s}", "id", info->id,
			      "pid", (json_int_t)info->pid, "host", info->host,
			      "operation", info->operation, "who", info->who, "since", info->since);
	char *text;
	size_t len;

	if (!j)
		return NULL;
	text = format_json(j, &len);
	json_decref(j);
	return text;
}

int state_lock_info_parse(const char *text, size_t len, struct state_lock_info *info)
{
	struct buf b = BUF_INIT;
	int r;

	buf_add(&b, text, len);
	r = parse_info(&b, info);
	buf_release(&b);
	return r;
}

static int write_info(int fd, const struct state_lock_info *info)
{
	char *text = state_lock_info_json(info);
	int ret = -1;

	if (!text)
		return -1;
	if (ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0 && buf_write_fd(fd, text, strlen(text)) == 0)
		ret = 0;
	free(text);
	return ret;
}

static long elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - start->tv_sec) * 1000 +
	       (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* Another run holds the lock: waits a little longer each time (up to cap ms), or, once
 * timeout_ms have passed since start, says who holds it and returns -1. */
static int lock_backoff(const char *path, const struct state_lock_info *holder, unsigned long timeout_ms,
			const struct timespec *start, unsigned long *delay, unsigned long cap,
			struct diag_ctx *diag)
{
	long left = (long)timeout_ms - elapsed_ms(start);

	if (left <= 0) {
		locked_error(path, holder, timeout_ms, diag);
		return -1;
	}
	sleep_ms(*delay < (unsigned long)left ? *delay : (unsigned long)left);
	*delay = *delay * 2 > cap ? cap : *delay * 2;
	return 0;
}

/* The lock through the remote (a DynamoDB item), with the same waiting and messages. */
static int remote_lock_wait(const char *path, const char *operation, unsigned long timeout_ms,
			    struct state_lock *lock, struct diag_ctx *diag)
{
	struct state_lock_info holder;
	struct timespec start;
	unsigned long delay = 200;
	char *json = NULL;
	int r, ret = -1;

	state_lock_info_init(&holder);
	state_lock_init(lock);
	if (fill_info(&lock->info, operation) < 0)
		goto out;
	json = state_lock_info_json(&lock->info);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		state_lock_info_release(&holder);
		r = remote->lock(remote->arg, path, json, &holder, diag);
		if (r <= 0)
			break;
		if (lock_backoff(path, &holder, timeout_ms, &start, &delay, 2000, diag) < 0)
			goto out;
	}
	if (r < 0)
		goto out;
	lock->remote = 1;
	lock->path = xstrdup(path);
	ret = 0;
out:
	if (ret < 0)
		state_lock_info_release(&lock->info);
	free(json);
	state_lock_info_release(&holder);
	return ret;
}

int state_lock_wait(const char *path, const char *operation, unsigned long timeout_ms,
		    struct state_lock *lock, struct diag_ctx *diag)
{
	struct state_lock_info holder;
	struct timespec start;
	char *lockpath = xasprintf("%s.lock", path);
	unsigned long delay = 50;
	int fd = -1, r, ret = -1;

	if (is_remote(path)) {
		free(lockpath);
		return remote_lock_wait(path, operation, timeout_ms, lock, diag);
	}
	state_lock_info_init(&holder);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		r = try_lock(lockpath, &fd, &holder, diag);
		if (r <= 0)
			break;
		if (lock_backoff(path, &holder, timeout_ms, &start, &delay, 1000, diag) < 0)
			goto out;
	}
	if (r < 0)
		goto out;
	state_lock_init(lock);
	if (fill_info(&lock->info, operation) < 0 || write_info(fd, &lock->info) < 0) {
		diag_error(diag, NULL, "cannot write lock file %s: %s", lockpath, strerror(errno));
		unlink(lockpath);
		state_lock_info_release(&lock->info);
		goto out;
	}
	lock->fd = fd;
	lock->path = lockpath;
	lockpath = NULL;
	fd = -1;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(lockpath);
	state_lock_info_release(&holder);
	return ret;
}

int state_lock(const char *path, const char *operation, struct state_lock *lock,
	       struct diag_ctx *diag)
{
	return state_lock_wait(path, operation, 0, lock, diag);
}

void state_unlock(struct state_lock *lock, struct diag_ctx *diag)
{
	if (lock->remote && remote) {
		/* a release that fails undoes none of the run's work: a warning, with the way out
		 * (a lock left behind also names itself to the next run) */
		struct diag_ctx scratch;
		diag_init(&scratch);
		if (remote->unlock(remote->arg, lock->path, &scratch) < 0 && lock->info.id)
			diag_hint(&scratch, "the lock is still held: release it with stk force-unlock %s",
				  lock->info.id);
		diag_demote_errors(&scratch);
		if (diag)
			diag_append(diag, &scratch);
		diag_release(&scratch);
	}
	if (lock->fd >= 0) {
		/* removed while still held: see try_lock for why that order is safe */
		if (same_file(lock->fd, lock->path))
			unlink(lock->path);
		close(lock->fd);
	}
	free(lock->path);
	state_lock_info_release(&lock->info);
	state_lock_init(lock);
}

static int remote_force_unlock(const char *path, const char *id, struct diag_ctx *diag)
{
	struct state_lock_info info;
	int r, ret = -1;

	state_lock_info_init(&info);
	r = remote->lock_info(remote->arg, path, &info, diag);
	if (r < 0)
		goto out;
	if (r == 1) {
		diag_error(diag, NULL, "the state %s is not locked", path);
		diag_hint(diag, "there is nothing to unlock");
		goto out;
	}
	if (!info.id || strcmp(info.id, id)) {
		diag_error(diag, NULL, "lock ID %s does not match the lock on the state %s (ID %s, taken by pid %ld on "
			   "host %s)", id, path, info.id ? info.id : "?", info.pid, info.host ? info.host : "?");
		diag_hint(diag, "give the ID the lock error showed; force-unlock removes only the lock it names");
		goto out;
	}
	ret = remote->unlock(remote->arg, path, diag);
out:
	state_lock_info_release(&info);
	return ret;
}

int state_force_unlock(const char *path, const char *id, struct diag_ctx *diag)
{
	struct state_lock_info info;
	struct buf text = BUF_INIT;
	char *lockpath;
	int fd, held, ret = -1;

	if (is_remote(path))
		return remote_force_unlock(path, id, diag);
	lockpath = xasprintf("%s.lock", path);
	state_lock_info_init(&info);
	fd = open(lockpath, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT) {
			diag_error(diag, NULL, "the state %s is not locked: there is no %s", path,
				   lockpath);
			diag_hint(diag, "there is nothing to unlock");
		} else {
			diag_error(diag, NULL, "cannot open lock file %s: %s", lockpath,
				   strerror(errno));
		}
		goto out;
	}
	held = lock_fd(fd);
	if (held < 0) {
		diag_error(diag, NULL, "cannot lock %s: %s", lockpath, strerror(errno));
		goto out;
	}
	if (held)
		read_holder(fd, &info);
	else if (read_fd(fd, &text) == 0)
		parse_info(&text, &info);
	if (!info.id) {
		diag_error(diag, NULL, "lock file %s holds no lock ID (it is empty or not JSON)",
			   lockpath);
		diag_hint(diag, held ? "a running process holds the lock; it goes away when that "
			  "process ends" : "no process holds the lock; remove the file by hand");
		goto out;
	}
	if (strcmp(info.id, id)) {
		diag_error(diag, NULL, "lock ID %s does not match the lock on the state %s (ID "
			   "%s, taken by pid %ld on host %s)", id, path, info.id, info.pid,
			   info.host ? info.host : "?");
		diag_hint(diag, "give the ID the lock error showed; force-unlock removes only the "
			  "lock it names");
		goto out;
	}
	if (held) {
		diag_error(diag, NULL, "the lock on the state %s is held by a live process: pid "
			   "%ld on host %s (%s, since %s)", path, info.pid,
			   info.host ? info.host : "?", info.operation ? info.operation : "?",
			   info.since ? info.since : "?");
		diag_hint(diag, "force-unlock is for locks whose holder is gone; wait for that "
			  "process to finish (or stop it), and the lock goes with it");
		goto out;
	}
	/* nobody holds it, and we do now: removing it under the lock is the unlock protocol */
	if (same_file(fd, lockpath) && unlink(lockpath) < 0) {
		diag_error(diag, NULL, "cannot remove lock file %s: %s", lockpath,
			   strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(lockpath);
	buf_release(&text);
	state_lock_info_release(&info);
	return ret;
}

int state_lock_read_info(const char *path, struct state_lock_info *info,
			 struct diag_ctx *diag)
{
	struct buf text = BUF_INIT;
	char *lockpath;
	int missing, ret = -1;

	if (is_remote(path))
		return remote->lock_info(remote->arg, path, info, diag);
	lockpath = xasprintf("%s.lock", path);

	if (read_file("lock file", lockpath, &text, &missing, diag) < 0)
		goto out;
	if (missing) {
		ret = 1;
		goto out;
	}
	if (parse_info(&text, info) < 0) {
		diag_error(diag, NULL, "lock file %s holds no lock information (it is empty or "
			   "not JSON)", lockpath);
		goto out;
	}
	ret = 0;
out:
	free(lockpath);
	buf_release(&text);
	return ret;
}

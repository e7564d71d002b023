/* render.c: a plan as text for a terminal, as JSON for programs, and as Markdown for a pull
 * request. Sensitive values never appear in any of them: they print as (sensitive value)
 * and are null in JSON, flagged in the *_sensitive fields. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/pieces.h"
#include "planner/plan.h"
#include "planner/state.h"
#include "providers/schema.h"

#define GREEN "\033[32m"
#define RED "\033[31m"
#define YELLOW "\033[33m"
#define CYAN "\033[36m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

static const char *action_symbol(enum plan_action a, int cbd)
{
	switch (a) {
	case PLAN_CREATE: return "  +";
	case PLAN_UPDATE: return "  ~";
	case PLAN_REPLACE: return cbd ? "+/-" : "-/+";
	case PLAN_DELETE: return "  -";
	case PLAN_READ: return " <=";
	default: return "   ";
	}
}

static const char *action_color(enum plan_action a)
{
	switch (a) {
	case PLAN_CREATE: return GREEN;
	case PLAN_UPDATE: return YELLOW;
	case PLAN_REPLACE: return YELLOW;
	case PLAN_DELETE: return RED;
	case PLAN_READ: return CYAN;
	default: return "";
	}
}

static const char *action_words(const struct plan_change *c)
{
	switch (c->action) {
	case PLAN_CREATE: return "will be created";
	case PLAN_UPDATE: return "will be updated in place";
	case PLAN_REPLACE: return c->create_before_destroy ? "must be replaced (the new one created first)" :
				  "must be replaced";
	case PLAN_DELETE: return "will be destroyed";
	case PLAN_READ: return "will be read during apply";
	default: return "is unchanged";
	}
}

static int is_replace_path(const struct plan_change *c, const char *name)
{
	for (size_t i = 0; i < buf_count(&c->replace_paths, char *); i++)
		if (!strcmp(buf_at(&c->replace_paths, char *, i), name))
			return 1;
	return 0;
}

static int is_nested(const struct plan_change *c, const char *name)
{
	return c->schema && schema_nested_find(&c->schema->block, name) != NULL;
}

static void sym(struct buf *out, int color, const char *s, const char *col)
{
	/* no printf for a line's pieces: a plan of 100k resources has millions of them */
	if (color) {
		buf_addstr(out, col);
		buf_addstr(out, s);
		buf_addstr(out, RESET);
	} else {
		buf_addstr(out, s);
	}
}

/* One attribute line: "      + name = value", padded to width. */
static void attr_line(struct buf *out, int color, int indent, const char *mark, const char *mcol,
		      const char *name, size_t width, const struct value *before, const struct value *after,
		      int forces)
{
	buf_addchars(out, ' ', (size_t)indent);
	sym(out, color, mark, mcol);
	size_t nlen = strlen(name);

	buf_addch(out, ' ');
	buf_add(out, name, nlen);
	buf_addchars(out, ' ', width > nlen ? width - nlen : 0);
	buf_addstr(out, " = ");
	if (before && after) {
		val_write(before, out);
		buf_addstr(out, " -> ");
	}
	val_write(after ? after : before, out);
	if (forces) {
		if (color)
			buf_printf(out, " %s# forces replacement%s", RED, RESET);
		else
			buf_addstr(out, " # forces replacement");
	}
	buf_addch(out, '\n');
}

static void render_body(struct buf *out, int color, int indent, const struct plan_change *c,
			const struct value *before, const struct value *after, enum plan_action act);

/* A nested block (an element of a list of maps) written as a block. */
static void render_block(struct buf *out, int color, int indent, const char *name, const char *mark,
			 const char *mcol, const struct value *obj, enum plan_action act,
			 const struct plan_change *c)
{
	buf_addchars(out, ' ', (size_t)indent);
	sym(out, color, mark, mcol);
	buf_printf(out, " %s {\n", name);
	render_body(out, color, indent + 4, c, act == PLAN_DELETE ? obj : NULL,
		    act == PLAN_DELETE ? NULL : obj, act);
	buf_addchars(out, ' ', (size_t)indent + 2);
	buf_addstr(out, "}\n");
}

static void render_body(struct buf *out, int color, int indent, const struct plan_change *c,
			const struct value *before, const struct value *after, enum plan_action act)
{
	const struct value *keys = after ? after : before;
	size_t width = 0, hidden = 0;

	if (!keys || keys->kind != VAL_MAP)
		return;
	/* the name column fits the attributes that are shown: not nulls, not blocks */
	for (size_t i = 0; i < keys->u.map.n; i++) {
		const char *k = keys->u.map.items[i].key;
		/* the side the keys come from needs no lookup */
		const struct value *a = keys == after ? keys->u.map.items[i].val : after ? val_map_get(after, k) : NULL;
		const struct value *b = keys == before ? keys->u.map.items[i].val :
					before ? val_map_get(before, k) : NULL;
		const struct value *v = a ? a : b;
		if ((!a || a->kind == VAL_NULL) && (!b || b->kind == VAL_NULL))
			continue;
		if (c && is_nested(c, k) && !(v->marks & VAL_UNKNOWN))
			continue;
		if ((act == PLAN_UPDATE || act == PLAN_REPLACE) && a && b && val_equal(a, b) &&
		    !((a->marks | b->marks) & VAL_UNKNOWN))
			continue;
		size_t l = strlen(k);
		if (l > width)
			width = l;
	}
	for (size_t i = 0; i < keys->u.map.n; i++) {
		const char *k = keys->u.map.items[i].key;
		/* the side the keys come from needs no lookup */
		const struct value *a = keys == after ? keys->u.map.items[i].val : after ? val_map_get(after, k) : NULL;
		const struct value *b = keys == before ? keys->u.map.items[i].val :
					before ? val_map_get(before, k) : NULL;
		const struct value *v = a ? a : b;
		int block = (v->kind == VAL_LIST || v->kind == VAL_SET) && v->u.list.n &&
			    v->u.list.items[0]->kind == VAL_MAP && !(v->marks & VAL_UNKNOWN);

		if (act == PLAN_CREATE || act == PLAN_READ || act == PLAN_DELETE) {
			const char *mark = act == PLAN_DELETE ? "-" : "+";
			const char *mcol = act == PLAN_DELETE ? RED : GREEN;
			if (v->kind == VAL_NULL || ((v->kind == VAL_LIST || v->kind == VAL_SET) && !v->u.list.n &&
						    !(v->marks & VAL_UNKNOWN) && c && is_nested(c, k)))
				continue;
			if (block) {
				for (size_t j = 0; j < v->u.list.n; j++)
					render_block(out, color, indent, k, mark, mcol, v->u.list.items[j], act, c);
				continue;
			}
			attr_line(out, color, indent, mark, mcol, k, width, NULL, v, 0);
			continue;
		}
		/* update or replace: what changes, and a count of what does not */
		int same = a && b && val_equal(a, b) && !((a->marks | b->marks) & VAL_UNKNOWN) &&
			   (a->marks & VAL_SENSITIVE) == (b->marks & VAL_SENSITIVE);
		/* nothing before or after is not an attribute anyone set: not even counted */
		if ((!a || a->kind == VAL_NULL || (is_nested(c, k) && !val_length(a) && !(a->marks & VAL_UNKNOWN))) &&
		    (!b || b->kind == VAL_NULL || (is_nested(c, k) && !val_length(b))))
			continue;
		if (same) {
			hidden++;
			continue;
		}
		int forces = c && is_replace_path(c, k);
		if (!b || b->kind == VAL_NULL)
			attr_line(out, color, indent, "+", GREEN, k, width, NULL, a, forces);
		else if (!a || a->kind == VAL_NULL)
			attr_line(out, color, indent, "-", RED, k, width, b, NULL, forces);
		else
			attr_line(out, color, indent, "~", YELLOW, k, width, b, a, forces);
	}
	if (hidden) {
		buf_addchars(out, ' ', (size_t)indent + 2);
		if (color)
			buf_addstr(out, "\033[2m");
		buf_printf(out, "# (%zu unchanged attribute%s hidden)", hidden, hidden == 1 ? "" : "s");
		if (color)
			buf_addstr(out, RESET);
		buf_addch(out, '\n');
	}
}

static void render_change(const struct plan_change *c, struct buf *out, int color)
{
	const char *name = strrchr(c->resource, '.') + 1;
	const char *idx = strchr(c->addr + strlen(c->resource), '[');

	if (c->moved_from)
		buf_printf(out, "  %s# %s has moved to %s%s\n", color ? BOLD : "", c->moved_from, c->addr,
			   color ? RESET : "");
	if (c->action != PLAN_NOOP) {
		buf_printf(out, "  %s# %s%s%s%s%s %s", color ? BOLD : "", c->addr, c->deposed ? " (deposed object " : "",
			   c->deposed ? c->deposed : "", c->deposed ? ")" : "", color ? RESET : "", action_words(c));
		if (c->reason && *c->reason)
			buf_printf(out, " (%s)", c->reason);
		buf_addch(out, '\n');
	}
	/* as Terraform shows an import: on its own, or under the change it comes with */
	if (c->importing && c->action == PLAN_NOOP)
		buf_printf(out, "  %s# %s%s will be imported\n", color ? BOLD : "", c->addr, color ? RESET : "");
	else if (c->importing)
		buf_printf(out, "  # (imported from \"%s\")\n", c->importing);
	sym(out, color, action_symbol(c->action, c->create_before_destroy), action_color(c->action));
	buf_printf(out, " %s %s %s%s {\n", c->data ? "data" : "resource", c->type, name, idx ? idx : "");
	render_body(out, color, 6, c, c->action == PLAN_CREATE || c->action == PLAN_READ ? NULL : c->before,
		    c->action == PLAN_DELETE ? NULL : c->after, c->action);
	buf_addstr(out, "    }\n\n");
}

/*
 * A big plan's text is made side by side. A change's text only reads the change and its
 * values: no reference count moves, nothing is allocated but the text. So, a round at a
 * time, each thread renders a share of the changes into a buffer of its own, and the shares
 * are written to `to` in order: the whole text is never in memory, and rendering, a seventh
 * of the plan of 100k creates, no longer leaves the other processors idle.
 */
#define RENDER_SHARE 4096       /* changes per thread and round, at least */
#define RENDER_THREADS_MAX 16

struct render_share {
	const struct plan *p;
	size_t from, to;        /* indexes into p->changes */
	int color;
	struct buf *out;
};

static void *render_share_run(void *arg)
{
	struct render_share *sh = arg;

	for (size_t i = sh->from; i < sh->to; i++) {
		const struct plan_change *c = buf_at(&sh->p->changes, struct plan_change *, i);
		if (c->action != PLAN_NOOP || c->moved_from || c->importing)
			render_change(c, sh->out, sh->color);
	}
	return NULL;
}

/* The changes' text: with `to`, written there (what out holds first) in rounds of shares
 * rendered side by side, one share on one processor or for a small plan; without, all in
 * out at once. */
static void render_changes(const struct plan *p, struct buf *out, int color, FILE *to)
{
	struct render_share sh[RENDER_THREADS_MAX];
	struct buf bufs[RENDER_THREADS_MAX];
	size_t n = buf_count(&p->changes, struct plan_change *);
	size_t t = to ? pieces_count(n, 0, RENDER_SHARE, RENDER_THREADS_MAX) : 1;
	size_t share = to ? RENDER_SHARE : n;

	if (to) {
		fwrite(out->data, 1, out->len, to);
		buf_reset(out);
	}
	for (size_t i = 0; i < t; i++) {
		buf_init(&bufs[i]);
		sh[i] = (struct render_share){ p, 0, 0, color, to ? &bufs[i] : out };
	}
	for (size_t at = 0; at < n;) {
		for (size_t i = 0; i < t; i++) {
			sh[i].from = at;
			at = n - at > share ? at + share : n;
			sh[i].to = at;
		}
		pieces_run(render_share_run, sh, sizeof *sh, t, 1);
		for (size_t i = 0; to && i < t; i++) {
			fwrite(bufs[i].data, 1, bufs[i].len, to);
			buf_reset(&bufs[i]);
		}
	}
	for (size_t i = 0; i < t; i++)
		buf_release(&bufs[i]);
}

void plan_render_text(const struct plan *p, struct buf *out, int color, FILE *to)
{
	size_t n = buf_count(&p->changes, struct plan_change *);
	int any = 0, outs = 0;

	for (size_t i = 0; i < n; i++) {
		const struct plan_change *c = buf_at(&p->changes, struct plan_change *, i);
		if (c->action != PLAN_NOOP || c->moved_from || c->importing)
			any = 1;
	}
	for (size_t i = 0; i < buf_count(&p->outputs, struct plan_output *); i++)
		if (buf_at(&p->outputs, struct plan_output *, i)->action != PLAN_NOOP)
			outs = 1;
	if (!any && !outs) {
		buf_printf(out, "%sNo changes.%s Your infrastructure matches the configuration.\n",
			   color ? BOLD GREEN : "", color ? RESET : "");
		return;
	}
	if (any) {
		buf_addstr(out, "stk will perform the following actions:\n\n");
		render_changes(p, out, color, to);
	}
	buf_printf(out, "%sPlan:%s ", color ? BOLD : "", color ? RESET : "");
	if (p->import)
		buf_printf(out, "%u to import, ", p->import);
	buf_printf(out, "%u to add, %u to change, %u to destroy.\n", p->add, p->change, p->destroy);
	if (outs) {
		size_t width = 0;
		for (size_t i = 0; i < buf_count(&p->outputs, struct plan_output *); i++) {
			size_t l = strlen(buf_at(&p->outputs, struct plan_output *, i)->name);
			width = l > width ? l : width;
		}
		buf_addstr(out, "\nChanges to Outputs:\n");
		for (size_t i = 0; i < buf_count(&p->outputs, struct plan_output *); i++) {
			const struct plan_output *o = buf_at(&p->outputs, struct plan_output *, i);
			const char *mark = o->action == PLAN_CREATE ? "+" : o->action == PLAN_DELETE ? "-" : "~";
			if (o->action == PLAN_NOOP)
				continue;
			attr_line(out, color, 2, mark, action_color(o->action), o->name, width,
				  o->action == PLAN_UPDATE ? o->before : (o->action == PLAN_DELETE ? o->before : NULL),
				  o->action == PLAN_DELETE ? NULL : o->after, 0);
		}
	}
}

/* ---- JSON ---- */

/* The value for JSON: unknown and sensitive parts are null, and flagged beside it. */
static json_t *json_value(const struct value *v)
{
	json_t *j;

	if (!v || (v->marks & (VAL_UNKNOWN | VAL_SENSITIVE)))
		return json_null();
	switch (v->kind) {
	case VAL_BOOL:
		return json_boolean(v->u.b);
	case VAL_NUMBER:
		/* only a whole number inside int64's range may be cast to one */
		if (v->u.n >= -9.2e18 && v->u.n <= 9.2e18 && v->u.n == (double)(json_int_t)v->u.n)
			return json_integer((json_int_t)v->u.n);
		return json_real(v->u.n);
	case VAL_STRING:
		return json_stringn(v->u.str.s, v->u.str.len);
	case VAL_LIST:
	case VAL_SET:
		j = json_array();
		for (size_t i = 0; i < v->u.list.n; i++)
			json_array_append_new(j, json_value(v->u.list.items[i]));
		return j;
	case VAL_MAP:
		j = json_object();
		for (size_t i = 0; i < v->u.map.n; i++)
			json_object_set_new(j, v->u.map.items[i].key, json_value(v->u.map.items[i].val));
		return j;
	default:
		return json_null();
	}
}

/* Mirrors v: true where the mark is, containers holding what their parts say. */
static json_t *json_marks(const struct value *v, unsigned mark)
{
	json_t *j;

	if (!v)
		return json_false();
	if (v->marks & mark)
		return json_true();
	switch (v->kind) {
	case VAL_LIST:
	case VAL_SET:
		j = json_array();
		for (size_t i = 0; i < v->u.list.n; i++)
			json_array_append_new(j, json_marks(v->u.list.items[i], mark));
		return j;
	case VAL_MAP:
		j = json_object();
		for (size_t i = 0; i < v->u.map.n; i++)
			if (val_deep_marks(v->u.map.items[i].val) & mark)
				json_object_set_new(j, v->u.map.items[i].key, json_marks(v->u.map.items[i].val, mark));
		return j;
	default:
		return json_false();
	}
}

static json_t *json_actions(enum plan_action a, int cbd)
{
	json_t *j = json_array();

	switch (a) {
	case PLAN_CREATE: json_array_append_new(j, json_string("create")); break;
	case PLAN_UPDATE: json_array_append_new(j, json_string("update")); break;
	case PLAN_DELETE: json_array_append_new(j, json_string("delete")); break;
	case PLAN_READ: json_array_append_new(j, json_string("read")); break;
	case PLAN_REPLACE:
		json_array_append_new(j, json_string(cbd ? "create" : "delete"));
		json_array_append_new(j, json_string(cbd ? "delete" : "create"));
		break;
	default: json_array_append_new(j, json_string("no-op")); break;
	}
	return j;
}

void plan_render_json(const struct plan *p, struct buf *out)
{
	json_t *root = json_object(), *rc = json_array(), *oc = json_object(), *summary;
	char *text;

	json_object_set_new(root, "format_version", json_string("1.0"));
	for (size_t i = 0; i < buf_count(&p->changes, struct plan_change *); i++) {
		const struct plan_change *c = buf_at(&p->changes, struct plan_change *, i);
		json_t *ch = json_object(), *j = json_object(), *rp = json_array();
		json_object_set_new(j, "address", json_string(c->addr));
		if (c->deposed)
			json_object_set_new(j, "deposed", json_string(c->deposed));
		if (c->moved_from)
			json_object_set_new(j, "previous_address", json_string(c->moved_from));
		json_object_set_new(j, "mode", json_string(c->data ? "data" : "managed"));
		json_object_set_new(j, "type", json_string(c->type));
		json_object_set_new(j, "name", json_string(strrchr(c->resource, '.') + 1));
		json_object_set_new(j, "provider_name", json_string(c->provider));
		const char *idx = strchr(c->addr + strlen(c->resource), '[');
		if (idx) {
			/* the key itself: 0 for count, "a" for for_each */
			json_error_t je;
			char *inner = xstrndup(idx + 1, strlen(idx) - 2);
			json_t *key = json_loads(inner, JSON_DECODE_ANY, &je);
			json_object_set_new(j, "index", key ? key : json_string(inner));
			free(inner);
		}
		if (!strncmp(c->addr, "module.", 7)) {
			/* module.web.aws.vpc.x: the module part is all before the type */
			const char *r = c->resource + strlen(c->resource);
			int dots = c->data ? 4 : 3;
			while (r > c->resource && dots)
				if (*--r == '.')
					dots--;
			json_object_set_new(j, "module_address", json_stringn(c->resource, (size_t)(r - c->resource)));
		}
		json_object_set_new(ch, "actions", json_actions(c->action, c->create_before_destroy));
		json_object_set_new(ch, "before", json_value(c->before));
		json_object_set_new(ch, "after", json_value(c->after));
		json_object_set_new(ch, "after_unknown", c->after ? json_marks(c->after, VAL_UNKNOWN) : json_object());
		json_object_set_new(ch, "before_sensitive", json_marks(c->before, VAL_SENSITIVE));
		json_object_set_new(ch, "after_sensitive", json_marks(c->after, VAL_SENSITIVE));
		for (size_t k = 0; k < buf_count(&c->replace_paths, char *); k++) {
			json_t *path = json_array();
			json_array_append_new(path, json_string(buf_at(&c->replace_paths, char *, k)));
			json_array_append_new(rp, path);
		}
		json_object_set_new(ch, "replace_paths", rp);
		if (c->reason && *c->reason)
			json_object_set_new(j, "action_reason", json_string(c->reason));
		if (c->importing)
			json_object_set_new(ch, "importing", json_pack("{s:s}", "id", c->importing));
		json_object_set_new(j, "change", ch);
		json_array_append_new(rc, j);
	}
	json_object_set_new(root, "resource_changes", rc);
	for (size_t i = 0; i < buf_count(&p->outputs, struct plan_output *); i++) {
		const struct plan_output *o = buf_at(&p->outputs, struct plan_output *, i);
		json_t *ch = json_object();
		json_object_set_new(ch, "actions", json_actions(o->action, 0));
		json_object_set_new(ch, "before", json_value(o->before));
		json_object_set_new(ch, "after", json_value(o->after));
		json_object_set_new(ch, "after_unknown", json_marks(o->after, VAL_UNKNOWN));
		json_object_set_new(ch, "before_sensitive", json_marks(o->before, VAL_SENSITIVE));
		json_object_set_new(ch, "after_sensitive", json_marks(o->after, VAL_SENSITIVE));
		json_object_set_new(oc, o->name, ch);
	}
	json_object_set_new(root, "output_changes", oc);
	summary = json_object();
	json_object_set_new(summary, "add", json_integer(p->add));
	json_object_set_new(summary, "change", json_integer(p->change));
	json_object_set_new(summary, "destroy", json_integer(p->destroy));
	json_object_set_new(summary, "read", json_integer(p->read));
	/* only when there are some, as the text's "N to import": plans without stay as they were */
	if (p->import)
		json_object_set_new(summary, "import", json_integer(p->import));
	json_object_set_new(root, "summary", summary);
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	buf_addstr(out, text);
	buf_addch(out, '\n');
	free(text);
	json_decref(root);
}

/* ---- Markdown, for a pull-request comment ---- */

void plan_render_markdown(const struct plan *p, struct buf *out)
{
	size_t n = buf_count(&p->changes, struct plan_change *);
	size_t risky = 0;
	struct buf details = BUF_INIT;

	if (!plan_has_changes(p)) {
		buf_addstr(out, "### stk plan: no changes\n\nThe infrastructure matches the configuration.\n");
		return;
	}
	buf_addstr(out, "### stk plan: ");
	if (p->import)
		buf_printf(out, "%u to import, ", p->import);
	buf_printf(out, "%u to add, %u to change, %u to destroy\n\n", p->add, p->change, p->destroy);
	for (size_t i = 0; i < n; i++) {
		const struct plan_change *c = buf_at(&p->changes, struct plan_change *, i);
		if (c->action == PLAN_DELETE || c->action == PLAN_REPLACE)
			risky++;
	}
	/* what destroys something comes first, where a reviewer cannot miss it */
	if (risky) {
		buf_printf(out, "> [!WARNING]\n> **%zu object%s will be destroyed or replaced:**\n", risky,
			   risky == 1 ? "" : "s");
		for (size_t i = 0; i < n; i++) {
			const struct plan_change *c = buf_at(&p->changes, struct plan_change *, i);
			if (c->action != PLAN_DELETE && c->action != PLAN_REPLACE)
				continue;
			buf_printf(out, "> - `%s`%s%s%s **%s**", c->addr, c->deposed ? " (deposed object " : "",
				   c->deposed ? c->deposed : "", c->deposed ? ")" : "",
				   c->action == PLAN_DELETE ? "destroy" : "replace");
			if (buf_count(&c->replace_paths, char *)) {
				buf_addstr(out, " (forced by ");
				for (size_t k = 0; k < buf_count(&c->replace_paths, char *); k++)
					buf_printf(out, "%s`%s`", k ? ", " : "", buf_at(&c->replace_paths, char *, k));
				buf_addch(out, ')');
			} else if (c->reason && *c->reason) {
				buf_printf(out, " (%s)", c->reason);
			}
			buf_addch(out, '\n');
		}
		buf_addch(out, '\n');
	}
	buf_addstr(out, "| Action | Address |\n|---|---|\n");
	for (size_t i = 0; i < n; i++) {
		const struct plan_change *c = buf_at(&p->changes, struct plan_change *, i);
		if (c->action == PLAN_NOOP && !c->moved_from && !c->importing)
			continue;
		/* a no-op is listed only for its import or its move */
		const char *words = c->action == PLAN_NOOP ? (c->importing ? "import" : "move") :
				    c->action == PLAN_CREATE ? "create" :
				    c->action == PLAN_UPDATE ? (c->importing ? "import, update" : "update") :
				    c->action == PLAN_REPLACE ? "**replace**" : c->action == PLAN_DELETE ?
				    "**destroy**" : "read";
		buf_printf(out, "| %s | `%s`", words, c->addr);
		if (c->deposed)
			buf_printf(out, " (deposed object %s)", c->deposed);
		if (c->moved_from)
			buf_printf(out, " (moved from `%s`)", c->moved_from);
		buf_addstr(out, " |\n");
	}
	plan_render_text(p, &details, 0, NULL);
	buf_addstr(out, "\n<details><summary>Full plan</summary>\n\n```diff\n");
	/* diff highlighting wants the action symbol in the first column */
	for (const char *line = details.data; line && *line; ) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		size_t lead = strspn(line, " ");
		if (lead > 0 && lead < len && strchr("+-~", line[lead]) && line[lead + 1] != '/') {
			/* the symbol moves to the first column, the rest keeps its place */
			size_t at = buf_count(out, char);
			buf_add(out, line, len);
			out->data[at + lead] = ' ';
			out->data[at] = line[lead] == '~' ? '!' : line[lead];
		} else {
			buf_add(out, line, len);
		}
		buf_addch(out, '\n');
		line = nl ? nl + 1 : NULL;
	}
	buf_addstr(out, "```\n\n</details>\n");
	buf_release(&details);
}

/* ---- the state (stk show) ---- */

/* One object of instance in (in itself, or one of its deposed objects) as a resource block. */
static void state_object_text(const struct state_resource *r, const struct state_instance *in,
			      const struct state_instance *obj, struct buf *out, int color)
{
	const struct value *a = obj->attrs;
	size_t w = 0;

	buf_printf(out, "%s# ", color ? BOLD : "");
	state_instance_address(r, in, out);
	if (obj->deposed_key)
		buf_printf(out, " (deposed object %s)", obj->deposed_key);
	buf_printf(out, ":%s%s\n", obj->status == STATE_TAINTED ? " (tainted)" :
		   obj->status == STATE_PENDING ? " (pending create)" : "", color ? RESET : "");
	buf_printf(out, "%s %s %s {\n", r->mode == ADDR_DATA ? "data" : "resource", r->type, r->name);
	for (size_t j = 0; a && a->kind == VAL_MAP && j < a->u.map.n; j++)
		if (strlen(a->u.map.items[j].key) > w)
			w = strlen(a->u.map.items[j].key);
	for (size_t j = 0; a && a->kind == VAL_MAP && j < a->u.map.n; j++) {
		buf_printf(out, "    %-*s = ", (int)w, a->u.map.items[j].key);
		/* sensitive parts print as (sensitive value), as everywhere */
		val_write(a->u.map.items[j].val, out);
		buf_addch(out, '\n');
	}
	buf_addstr(out, "}\n\n");
}

void plan_render_state_text(const struct state *st, struct buf *out, int color)
{
	size_t width = 0;

	for (size_t i = 0; i < st->nresources; i++) {
		const struct state_resource *r = st->resources[i];
		for (size_t k = 0; k < r->ninstances; k++) {
			const struct state_instance *in = r->instances[k];
			state_object_text(r, in, in, out, color);
			for (size_t d = 0; d < in->ndeposed; d++)
				state_object_text(r, in, in->deposed[d], out, color);
		}
	}
	if (!st->noutputs)
		return;
	for (size_t i = 0; i < st->noutputs; i++)
		if (strlen(st->outputs[i].name) > width)
			width = strlen(st->outputs[i].name);
	buf_printf(out, "%sOutputs:%s\n\n", color ? BOLD : "", color ? RESET : "");
	for (size_t i = 0; i < st->noutputs; i++) {
		buf_printf(out, "%-*s = ", (int)width, st->outputs[i].name);
		val_write(st->outputs[i].value, out);
		buf_addch(out, '\n');
	}
}

/* One instance as Terraform's show -json lists it, its sensitive values null and flagged. */
static json_t *state_instance_json(const struct state_resource *r, const struct state_instance *in,
				   const struct state_instance *obj)
{
	json_t *j = json_object();
	struct buf addr = BUF_INIT;

	state_instance_address(r, in, &addr);
	json_object_set_new(j, "address", json_string(buf_cstr(&addr)));
	json_object_set_new(j, "mode", json_string(r->mode == ADDR_DATA ? "data" : "managed"));
	json_object_set_new(j, "type", json_string(r->type));
	json_object_set_new(j, "name", json_string(r->name));
	if (in->key)
		json_object_set_new(j, "index", json_value(in->key));
	json_object_set_new(j, "provider_name", json_string(r->provider ? r->provider : ""));
	/* a deposed object is listed after its instance's current one, under the same address,
	 * with its key (Terraform's deposed_key) */
	if (obj->deposed_key)
		json_object_set_new(j, "deposed_key", json_string(obj->deposed_key));
	json_object_set_new(j, "values", obj->attrs ? json_value(obj->attrs) : json_object());
	json_object_set_new(j, "sensitive_values", obj->attrs ? json_marks(obj->attrs, VAL_SENSITIVE) : json_object());
	if (obj->status == STATE_TAINTED)
		json_object_set_new(j, "tainted", json_true());
	buf_release(&addr);
	return j;
}

void plan_render_state_json(const struct state *st, struct buf *out)
{
	json_t *root = json_object(), *values = json_object(), *outputs = json_object();
	json_t *mod = json_object(), *resources = json_array(), *children = json_array();
	json_t *child = NULL;
	const char *child_path = NULL;
	char *text;

	json_object_set_new(root, "format_version", json_string("1.0"));
	for (size_t i = 0; i < st->noutputs; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "sensitive", json_boolean(val_is_sensitive(st->outputs[i].value)));
		json_object_set_new(o, "value", json_value(st->outputs[i].value));
		json_object_set_new(outputs, st->outputs[i].name, o);
	}
	/* the state keeps resources ordered by module: each module's run is one child module */
	for (size_t i = 0; i < st->nresources; i++) {
		const struct state_resource *r = st->resources[i];
		json_t *into = resources;
		if (r->module && *r->module) {
			if (!child_path || strcmp(child_path, r->module)) {
				child = json_object();
				json_object_set_new(child, "address", json_string(r->module));
				json_object_set_new(child, "resources", json_array());
				json_array_append_new(children, child);
				child_path = r->module;
			}
			into = json_object_get(child, "resources");
		}
		for (size_t k = 0; k < r->ninstances; k++) {
			const struct state_instance *in = r->instances[k];
			json_array_append_new(into, state_instance_json(r, in, in));
			for (size_t d = 0; d < in->ndeposed; d++)
				json_array_append_new(into, state_instance_json(r, in, in->deposed[d]));
		}
	}
	json_object_set_new(mod, "resources", resources);
	if (json_array_size(children))
		json_object_set_new(mod, "child_modules", children);
	else
		json_decref(children);
	json_object_set_new(values, "outputs", outputs);
	json_object_set_new(values, "root_module", mod);
	if (st->nresources || st->noutputs)
		json_object_set_new(root, "values", values);
	else
		json_decref(values);
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	buf_addstr(out, text);
	buf_addch(out, '\n');
	free(text);
	json_decref(root);
}

/* ---- generated configuration (stk plan -generate-config-out) ---- */

/* The arguments of one block of schema b whose values obj holds, then its nested blocks, as
 * .stk source at indent. What the cloud alone sets (computed) is left out, and so is null;
 * a sensitive or write-only argument is written null with a comment, as Terraform writes it:
 * a secret never goes into a file meant for version control, and a required one must be
 * set by hand. */
static void generated_body(struct buf *out, const struct schema_block *b, const struct value *obj, int indent)
{
	for (const struct schema_attr *a = b->attrs; a && a->name; a++) {
		const struct value *v = val_map_get(obj, a->name);
		if (!(a->flags & (SF_REQUIRED | SF_OPTIONAL)))
			continue;
		if (a->flags & (SF_SENSITIVE | SF_WRITE_ONLY) || (v && val_deep_marks(v) & VAL_SENSITIVE)) {
			if (a->flags & SF_REQUIRED || (v && v->kind != VAL_NULL))
				buf_printf(out, "%*s%s = null # %s: set it\n", indent, "", a->name,
					   a->flags & SF_WRITE_ONLY ? "write-only, never read back" : "sensitive");
			continue;
		}
		if (!v || v->kind == VAL_NULL)
			continue;
		buf_printf(out, "%*s%s = ", indent, "", a->name);
		val_write(v, out);
		buf_addch(out, '\n');
	}
	for (const struct schema_nested *nb = b->blocks; nb && nb->name; nb++) {
		const struct value *v = val_map_get(obj, nb->name);
		if (!v || (v->kind != VAL_LIST && v->kind != VAL_SET))
			continue;
		for (size_t i = 0; i < v->u.list.n; i++) {
			if (v->u.list.items[i]->kind != VAL_MAP)
				continue;
			buf_printf(out, "\n%*s%s {\n", indent, "", nb->name);
			generated_body(out, nb->block, v->u.list.items[i], indent + 2);
			buf_printf(out, "%*s}\n", indent, "");
		}
	}
}

int plan_render_generated(const char *type, const char *name, const char *id, const struct value *obj,
			  struct buf *out)
{
	const struct schema_resource *rs = schema_type_find(type, 0);
	struct value *idv;

	if (!rs || !obj || obj->kind != VAL_MAP)
		return -1;
	idv = val_cstring(id);
	buf_addstr(out, "# __generated__ by stk from ");
	val_write(idv, out);
	val_unref(idv);
	buf_printf(out, "\nresource %s %s {\n", type, name);
	generated_body(out, &rs->block, obj, 2);
	buf_addstr(out, "}\n");
	return 0;
}

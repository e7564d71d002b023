/* fuzz_eval.c: libFuzzer target for the evaluator: planner/eval.c (operators, templates, for
 * expressions, splats, indexing, conditionals, type conversion) and the built-in functions it
 * calls (stdlib/functions.c), with no planner and no provider behind it.
 *
 * The input is a .stk file. It is parsed as stk validate parses it (parser/parse.c); a file
 * with syntax errors is left alone, since fuzz_parse covers those. Then, in source order:
 *
 *   - each top-level attribute and each attribute of a locals block is evaluated with
 *     eval_expr(), and its value is kept as local.NAME for the expressions after it;
 *   - a variable block's default is evaluated and converted with eval_convert() to its type,
 *     when it has both (the conversion `stk plan` applies to a variable's value);
 *   - every value that comes out is written with val_write() and, when it is known, stored
 *     with val_to_json() and read back with val_from_json(), which must not fail for a known
 *     value holding no NaN, infinity or invalid UTF-8 (val_to_json says when it does).
 *
 * References resolve the way the planner's would: var.NAME to the fixed values below (a
 * string, a number, a list, a map, a sensitive string and unknown values, so the marks are
 * exercised), local.NAME to what an earlier attribute gave, count.index to 0 and each.key /
 * each.value to "a" / {...}; anything else is an error, as for a planner that knows nothing.
 *
 * Files: file(), fileexists(), filesha256() and templatefile() read files relative to the
 * module's directory. LLVMFuzzerInitialize() makes one under $TMPDIR with a text file and a
 * template, and an input is only evaluated if every such call names its path as a plain
 * literal file name (letters, digits, '.', '-', '_'): no absolute path, no "..", no
 * interpolation. So the fuzzer never reads /dev/zero or a FIFO, and nothing outside that
 * directory; fileset() globs only in that directory (fileset_escapes). The target does no
 * network I/O. bcrypt() is only called with a literal cost of
 * 4 to 6 (slow_bcrypt), since a higher one takes seconds to days by design.
 *
 * Build and run: `make fuzz` (clang with -fsanitize=fuzzer,address,undefined), `make fuzz-smoke`.
 * Replay one input: fuzz/fuzz_eval FILE... (with STK_FUZZ_VERBOSE=1, it prints every value and
 * diagnostic).
 * Ownership: everything allocated for an input is freed before returning, so LeakSanitizer
 * sees any leak in the evaluator. */
#define FUZZ_NAME "fuzz_eval"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/diag.h"
#include "parser/ast.h"
#include "parser/parse.h"
#include "planner/eval.h"
#include "planner/value.h"
#include "planner/value_json.h"

#include "fuzz/fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char module_dir[256];
static struct value *vars;              /* var.* */
static struct value *each_key, *each_value, *count_index;

/* the module directory's files, removed with it at exit */
static const char *const module_files[] = { "hello.txt", "user_data.tftpl", "list.tftpl",
					     "loop.tftpl" };

static void put_file(const char *name, const char *text)
{
	fuzz_put_file(name, text, "cannot write the module directory's files");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init_verbose();
	fuzz_make_dir(module_dir, sizeof module_dir, "eval", "cannot make a module directory", module_files,
		      sizeof module_files / sizeof module_files[0]);
	put_file("hello.txt", "Hello, world!\n");
	put_file("user_data.tftpl", "#!/bin/sh\nname=${name}\nports=${join(\" \", ports)}\n");
	put_file("list.tftpl", "${join(\",\", [for x in items : upper(x)])}");
	/* directives and strip markers, and no final line break */
	put_file("loop.tftpl", "%{ for i, x in items ~}\n${i}: ${x}\n%{ endfor ~}\n"
		 "%{ if length(items) > 1 }many%{ else }few%{ endif ~}");

	struct value *plain_secret = val_cstring("s3cr3t");
	struct value *ports[] = { val_number(80), val_number(443) };
	struct value *subnets[] = { val_cstring("10.0.1.0/24"), val_cstring("10.0.2.0/24") };
	const char *tag_keys[] = { "Name", "env" };
	struct value *tag_vals[] = { val_cstring("web"), val_cstring("prod") };
	const char *keys[] = { "cidr", "count", "enabled", "list", "name", "nothing", "ports",
			       "secret", "tags", "unknown", "unknown_list", "unknown_map" };
	struct value *vals[] = {
		val_cstring("10.0.0.0/16"),
		val_number(3),
		val_bool(1),
		val_list_take(subnets, 2),
		val_cstring("web"),
		val_null(),
		val_list_take(ports, 2),
		val_mark(plain_secret, VAL_SENSITIVE),
		map_of(2, tag_keys, tag_vals),
		val_unknown(VAL_STRING),
		val_unknown(VAL_LIST),
		val_unknown(VAL_MAP),
	};
	vars = map_of(sizeof keys / sizeof keys[0], keys, vals);
	val_unref(plain_secret);
	const char *ev_keys[] = { "cidr", "port" };
	struct value *ev_vals[] = { val_cstring("10.0.3.0/24"), val_number(8080) };
	each_key = val_cstring("a");
	each_value = map_of(2, ev_keys, ev_vals);
	count_index = val_number(0);
	return 0;
}

/* ---- the file functions' paths ---- */

static int plain_name_text(const char *s)
{
	if (!s || !*s || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

static int plain_name(const struct ast_expr *e)
{
	return plain_name_text(ast_static_string(e));
}

/* "${path.module}/NAME", the usual way to name a file beside the configuration */
static int module_path(const struct ast_expr *e)
{
	const struct ast_expr *m, *rest;

	if (e->kind != AST_TEMPLATE || e->u.tmpl.n != 2)
		return 0;
	m = e->u.tmpl.parts[0];
	rest = e->u.tmpl.parts[1];
	return m->kind == AST_GETATTR && !strcmp(m->u.getattr.name, "module") &&
	       m->u.getattr.obj->kind == AST_VAR && !strcmp(m->u.getattr.obj->u.var.name, "path") &&
	       rest->kind == AST_STRING && rest->u.string.len > 1 && rest->u.string.s[0] == '/' &&
	       strlen(rest->u.string.s) == rest->u.string.len && plain_name_text(rest->u.string.s + 1);
}

/* path.module itself */
static int is_path_module(const struct ast_expr *e)
{
	return e->kind == AST_GETATTR && !strcmp(e->u.getattr.name, "module") &&
	       e->u.getattr.obj->kind == AST_VAR && !strcmp(e->u.getattr.obj->u.var.name, "path");
}

/* fileset(DIR, PATTERN) within the module directory: DIR a plain name, path.module or
 * "${path.module}/NAME", and PATTERN literal text without "..", which is all that could lead
 * out of it (a "{.}{.}" component is matched against the entries, which ".." is not). */
static int fileset_escapes(const struct ast_expr *e)
{
	const char *pattern;

	if (e->u.call.expand || e->u.call.n != 2)
		return 1;
	pattern = ast_static_string(e->u.call.args[1]);
	return !(plain_name(e->u.call.args[0]) || module_path(e->u.call.args[0]) ||
		 is_path_module(e->u.call.args[0])) ||
	       !pattern || strstr(pattern, "..");
}

static int reads_files(const char *name)
{
	return !strncmp(name, "file", 4) || !strcmp(name, "templatefile");
}

/* bcrypt() costs 2^cost rounds, and a cost below 4 is 10: only a literal cost of 4 to 6
 * keeps an input (which may call it in a loop) within the fuzzer's time. */
static int slow_bcrypt(const struct ast_expr *e)
{
	const struct ast_expr *cost = e->u.call.n == 2 ? e->u.call.args[1] : NULL;

	return !strcmp(e->u.call.name, "bcrypt") &&
	       (e->u.call.expand || !cost || cost->kind != AST_NUMBER || cost->u.number < 4 ||
		cost->u.number > 6);
}

/* Does e call a file function with anything but a plain file name, or bcrypt() slowly? */
static int escapes(const struct ast_expr *e)
{
	if (!e)
		return 0;
	switch (e->kind) {
	case AST_TEMPLATE:
		for (size_t i = 0; i < e->u.tmpl.n; i++)
			if (escapes(e->u.tmpl.parts[i]))
				return 1;
		return 0;
	case AST_GETATTR:
		return escapes(e->u.getattr.obj);
	case AST_INDEX:
		return escapes(e->u.index.obj) || escapes(e->u.index.key);
	case AST_SPLAT:
		return escapes(e->u.splat.src) || escapes(e->u.splat.each);
	case AST_CALL:
		if (!strcmp(e->u.call.name, "fileset")) {
			if (fileset_escapes(e))
				return 1;
		} else if (reads_files(e->u.call.name) && (e->u.call.expand || !e->u.call.n || !(plain_name(e->u.call.args[0]) || module_path(e->u.call.args[0]))))
			return 1;
		if (slow_bcrypt(e))
			return 1;
		for (size_t i = 0; i < e->u.call.n; i++)
			if (escapes(e->u.call.args[i]))
				return 1;
		return 0;
	case AST_LIST:
		for (size_t i = 0; i < e->u.list.n; i++)
			if (escapes(e->u.list.items[i]))
				return 1;
		return 0;
	case AST_OBJECT:
		for (size_t i = 0; i < e->u.object.n; i++)
			if (escapes(e->u.object.items[i].key) || escapes(e->u.object.items[i].value))
				return 1;
		return 0;
	case AST_UNARY:
		return escapes(e->u.unary.operand);
	case AST_BINARY:
		return escapes(e->u.binary.lhs) || escapes(e->u.binary.rhs);
	case AST_COND:
		return escapes(e->u.cond.cond) || escapes(e->u.cond.then) || escapes(e->u.cond.otherwise);
	case AST_FOR:
		return escapes(e->u.for_->coll) || escapes(e->u.for_->key) || escapes(e->u.for_->value) ||
		       escapes(e->u.for_->cond);
	case AST_PAREN:
		return escapes(e->u.paren.inner);
	default:
		return 0;
	}
}

static int body_escapes(const struct ast_body *b)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct ast_item *it = b->items[i];
		if (it->kind == AST_ATTR ? escapes(it->value) : body_escapes(&it->body))
			return 1;
	}
	return 0;
}

/* ---- references ---- */

struct locals {
	struct buf names;   /* const char *, borrowed from the AST */
	struct buf values;  /* struct value * */
};

static struct value *fuzz_resolve(struct eval_ctx *ec, const struct eval_ref *ref)
{
	struct locals *l = ec->planner;
	struct value *v = NULL;

	if (ref->kind == REF_VAR) {
		v = val_map_get(vars, ref->key);
	} else if (ref->kind == REF_LOCAL) {
		for (size_t i = buf_count(&l->names, const char *); i-- > 0;)
			if (!strcmp(buf_at(&l->names, const char *, i), ref->key)) {
				v = buf_at(&l->values, struct value *, i);
				break;
			}
	} else if (ref->kind == REF_PATH) {
		v = val_cstring(module_dir);
		return v;
	}
	if (!v) {
		diag_error(ec->diag, &ref->span, "'%s' is not known here", ref->key);
		return NULL;
	}
	return val_ref(v);
}

/* ---- values out ---- */

static void check_value(const struct value *v)
{
	struct buf out = BUF_INIT, where = BUF_INIT;
	const char *why = NULL;

	val_write(v, &out);
	if (val_is_known(v)) {
		json_t *j = val_to_json_why(v, &where, &why);
		if (j) {
			struct value *back = val_from_json(j);
			if (!back)
				die("val_from_json() refused what val_to_json() wrote");
			val_unref(back);
			buf_reset(&out);
			val_json_write(j, &out);
			json_decref(j);
		} else if (!why) {
			die("val_to_json() failed without a reason");
		}
	}
	buf_release(&where);
	buf_release(&out);
}

static void keep(struct locals *l, const char *name, struct value *v)
{
	if (verbose) {
		struct buf b = BUF_INIT;
		val_write(v, &b);
		fprintf(stderr, "%s = %s\n", name, b.data ? b.data : "");
		buf_release(&b);
	}
	buf_push(&l->names, const char *, name);
	buf_push(&l->values, struct value *, v);
}

static void eval_body(struct eval_ctx *ec, struct locals *l, const struct ast_body *b, int top)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct ast_item *it = b->items[i];
		if (it->kind == AST_ATTR) {
			struct value *v = eval_expr(ec, it->value);
			if (v) {
				check_value(v);
				keep(l, it->name, v);
			}
		} else if (top && !strcmp(it->name, "locals")) {
			eval_body(ec, l, &it->body, 0);
		} else if (strcmp(it->name, "variable")) {
			/* a resource's, an output's, a nested block's arguments: evaluated, not kept */
			struct locals none = { BUF_INIT, BUF_INIT };
			eval_body(ec, &none, &it->body, 0);
			for (size_t k = 0; k < buf_count(&none.values, struct value *); k++)
				val_unref(buf_at(&none.values, struct value *, k));
			buf_release(&none.names);
			buf_release(&none.values);
		} else if (top && !strcmp(it->name, "variable")) {
			const struct ast_item *type = ast_body_find(&it->body, "type");
			const struct ast_item *def = ast_body_find(&it->body, "default");
			if (!type || type->kind != AST_ATTR || !def || def->kind != AST_ATTR)
				continue;
			struct value *v = eval_expr(ec, def->value);
			if (!v)
				continue;
			struct value *c = eval_convert(ec, v, type->value, &def->span, "the default");
			val_unref(v);
			if (c) {
				check_value(c);
				if (it->nlabels == 1)
					keep(l, it->labels[0].text, c);
				else
					val_unref(c);
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_ctx diag;
	struct eval_ctx ec;
	struct locals l = { BUF_INIT, BUF_INIT };
	struct buf out = BUF_INIT;
	struct ast_file *f = fuzz_parse_input(&diag, data, size, 0);

	if (f && diag.errors == 0 && !body_escapes(&f->body)) {
		memset(&ec, 0, sizeof ec);
		ec.diag = &diag;
		ec.module_dir = module_dir;
		ec.resolve = fuzz_resolve;
		ec.planner = &l;
		ec.count_index = count_index;
		ec.each_key = each_key;
		ec.each_value = each_value;
		eval_body(&ec, &l, &f->body, 1);
		/* the messages must format, whatever the evaluator put in them */
		format_diags(&diag, &out);
	}
	for (size_t i = 0; i < buf_count(&l.values, struct value *); i++)
		val_unref(buf_at(&l.values, struct value *, i));
	buf_release(&l.names);
	buf_release(&l.values);
	buf_release(&out);
	ast_file_free(f);
	diag_release(&diag);
	return 0;
}

/* fuzz_plan.c: libFuzzer target for the saved-plan loader: what `stk apply PLANFILE` does with
 * the bytes of a plan written by `stk plan -out`.
 *
 * The loader is load_saved() in cli/cmd_plan.c, and run_plan() there reads the plan's fields;
 * both are static and tied to a whole run (a configuration directory, a state, providers), so
 * this target makes the same calls, in the same order, on the same public functions:
 *
 *   - input that starts with the magic "STKENC" is opened as state_open() opens it with a
 *     passphrase (crypt_open(), planner/crypt.c), with SEED's KDF salt and iteration count
 *     written over in-range ones as fuzz_state does, so PBKDF2 runs once at start only
 *     (fuzz/sealed_seed.h); other input is taken as it is;
 *   - jansson parses the text (flags 0, as load_saved()), and the plan must say
 *     "format": "stk-plan" and hold objects for "variables" and "variable_origins", else it
 *     is refused as "not a saved plan"; a version other than 2 is refused, naming it;
 *   - load_saved()'s reads: dir, refresh, destroy, targets, replaces; then run_plan()'s:
 *     config_sha256, val_from_json() of variables and variable_origins (the inputs the plan is
 *     made with again), lineage and serial against a state, and same_actions()'s walk of
 *     "changes" (address, action and after_sha256 of each) and "outputs" (name and
 *     after_sha256);
 *   - the variables are then looked up by name as plan.c does (an origin that is a number
 *     other than VARS_FILE makes a string value an expression: parsed as "v = TEXT" and
 *     evaluated with no references, as planner/plan.c does for -var values), and the values
 *     are written back with val_to_json(), as the next `stk plan -out` would.
 *
 * A plan that passes these checks has the shape `stk plan -out` writes; anything odd in it
 * must be refused with a diagnostic, never crash.
 *
 * Build and run: `make fuzz` (clang with -fsanitize=fuzzer,address,undefined), `make fuzz-smoke`.
 * Replay one input: fuzz/fuzz_plan FILE...
 * Ownership: everything allocated for an input is freed before returning, so LeakSanitizer
 * sees any leak; the struct crypt lives for the whole run. */
#define FUZZ_NAME "fuzz_plan"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/diag.h"
#include "parser/ast.h"
#include "parser/parse.h"
#include "planner/crypt.h"
#include "planner/eval.h"
#include "planner/value.h"
#include "planner/value_json.h"
#include "planner/vars.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILE_NAME "release.plan"
/* What the run compares the plan with: a state's lineage and serial, the configuration's digest */
#define LINEAGE "7b0b1a5e-3c1d-4e8f-9a2b-5c6d7e8f9a0b"
#define SERIAL 4
#define CONFIG_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

#include "fuzz/fuzz_common.h"
#include "fuzz/sealed_seed.h"  /* and LLVMFuzzerInitialize() */

/* load_saved(): the bytes to text, sealed or not. Returns -1 after a diagnostic. */
static int open_plan(const uint8_t *data, size_t size, struct buf *text, struct diag_ctx *diag)
{
	const char *in = size ? (const char *)data : "";
	int r;

	if (!size || !crypt_is_sealed(in, size)) {
		buf_add(text, in, size);
		return 0;
	}
	char *copy = xmalloc(size);
	memcpy(copy, in, size);
	seed_kdf_over(copy, data, size);
	/* state_open() with a passphrase is crypt_open() on the state's struct crypt */
	r = crypt_open(&sealer, "saved plan " FILE_NAME, copy, size, text, diag);
	free(copy);
	sealed_seed_check();
	return r;
}

/* plan.c: a -var value (a string) for a variable with a list, map or object type is an
 * expression, parsed and evaluated with nothing to refer to. */
static void var_expression(struct diag_ctx *diag, const char *name, const struct value *raw)
{
	char *text = xasprintf("v = %s\n", raw->u.str.s);
	char *src_name = xasprintf("<value of -var %s>", name);
	struct source *src = diag_add_source(diag, src_name, text, strlen(text));
	struct ast_file *f = parse_source(diag, src, 0);
	struct eval_ctx lit;

	memset(&lit, 0, sizeof lit);
	lit.diag = diag;
	if (f->body.n == 1 && f->body.items[0]->kind == AST_ATTR) {
		struct value *v = eval_expr(&lit, f->body.items[0]->value);
		if (v) {
			json_t *j = val_is_known(v) ? val_to_json(v) : NULL;
			json_decref(j);
			val_unref(v);
		}
	}
	ast_file_free(f);
	free(src_name);
}

/* run_plan(): the variables the plan was made with, as the planner reads them. */
static void use_variables(struct diag_ctx *diag, const struct value *vars, const struct value *origins)
{
	if (!vars || vars->kind != VAL_MAP)
		return;
	for (size_t i = 0; i < vars->u.map.n; i++) {
		const char *name = vars->u.map.items[i].key;
		const struct value *raw = val_map_get(vars, name);
		const struct value *origin = origins ? val_map_get(origins, name) : NULL;
		if (!raw)
			die("val_map_get() does not find a key of the map");
		if (origin && origin->kind == VAL_NUMBER && origin->u.n != VARS_FILE && raw->kind == VAL_STRING)
			var_expression(diag, name, raw);
	}
	/* the next stk plan -out writes them back */
	json_t *j = val_to_json(vars);
	if (!j)
		die("variables read from JSON cannot be written as JSON");
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_ctx diag;
	struct buf text = BUF_INIT, targets = BUF_INIT, replaces = BUF_INIT, out = BUF_INIT;
	json_error_t je;
	json_t *j = NULL, *a;
	size_t i;

	diag_init(&diag);
	if (open_plan(data, size, &text, &diag))
		goto out;
	j = json_loadb(text.data ? text.data : "", text.len, 0, &je);
	if (j && !strcmp(json_string_value(json_object_get(j, "format")) ?: "", "stk-plan") &&
	    json_integer_value(json_object_get(j, "version")) != 2) {
		diag_error(&diag, NULL, "%s is a saved plan of format version %lld, and this stk reads version 2",
			   FILE_NAME, (long long)json_integer_value(json_object_get(j, "version")));
		goto out;
	}
	if (!j || strcmp(json_string_value(json_object_get(j, "format")) ?: "", "stk-plan") ||
	    /* as load_saved() since fuzz/regressions/plan/crash-b751849...: a plan without
	     * "variables" crashed run_plan() in val_from_json(NULL) */
	    !json_is_object(json_object_get(j, "variables")) ||
	    !json_is_object(json_object_get(j, "variable_origins"))) {
		diag_error(&diag, NULL, "%s is not a saved plan%s%s", FILE_NAME, j ? "" : ": ", j ? "" : je.text);
		goto out;
	}

	/* load_saved() */
	const char *dir = json_string_value(json_object_get(j, "dir")) ?: ".";
	int refresh = json_is_true(json_object_get(j, "refresh"));
	int destroy = json_is_true(json_object_get(j, "destroy"));
	json_array_foreach(json_object_get(j, "targets"), i, a)
		buf_push(&targets, const char *, json_string_value(a));
	json_array_foreach(json_object_get(j, "replaces"), i, a)
		buf_push(&replaces, const char *, json_string_value(a));
	buf_printf(&out, "%s %d %d", dir, refresh, destroy);
	for (i = 0; i < buf_count(&targets, const char *); i++)
		buf_printf(&out, " %s", buf_at(&targets, const char *, i) ?: "(null)");

	/* run_plan() */
	if (strcmp(CONFIG_SHA256, json_string_value(json_object_get(j, "config_sha256")) ?: ""))
		diag_error(&diag, NULL, "the configuration changed since this plan was made");
	struct value *vars = val_from_json(json_object_get(j, "variables"));
	struct value *origins = val_from_json(json_object_get(j, "variable_origins"));
	if (!vars || !origins)
		die("val_from_json() failed on an object");
	use_variables(&diag, vars, origins);
	val_unref(vars);
	val_unref(origins);
	const char *lineage = json_string_value(json_object_get(j, "lineage"));
	json_int_t serial = json_integer_value(json_object_get(j, "serial"));
	if ((lineage ? strcmp(lineage, LINEAGE) : 1) || serial != SERIAL)
		diag_error(&diag, NULL, "the state changed since this plan was made (serial %lld%s, now %d)",
			   (long long)serial, lineage ? "" : " with no state yet", SERIAL);

	/* same_actions(): each entry's digest is compared with the new plan's, a string */
	json_t *changes = json_object_get(j, "changes"), *outputs = json_object_get(j, "outputs");
	json_t *digest = json_string(CONFIG_SHA256);
	for (i = 0; i < json_array_size(changes); i++) {
		json_t *s = json_array_get(changes, i);
		buf_printf(&out, " %s:%s:%d", json_string_value(json_object_get(s, "address")) ?: "",
			   json_string_value(json_object_get(s, "action")) ?: "",
			   json_equal(json_object_get(s, "after_sha256"), digest));
	}
	for (i = 0; i < json_array_size(outputs); i++) {
		json_t *s = json_array_get(outputs, i);
		buf_printf(&out, " output.%s:%d", json_string_value(json_object_get(s, "name")) ?: "",
			   json_equal(json_object_get(s, "after_sha256"), digest));
	}
	json_decref(digest);
out:
	format_diags(&diag, &out);
	json_decref(j);
	buf_release(&text);
	buf_release(&targets);
	buf_release(&replaces);
	buf_release(&out);
	diag_release(&diag);
	return 0;
}

/* fuzz_check.c: libFuzzer target for stk validate's checks (planner/check.c) and the
 * dependency graph stk plan builds (planner/graph.c), on any configuration that parses.
 *
 * The input is written as main.stk into a directory of its own and loaded as stk validate
 * loads a directory (config_load_dir); a file with syntax errors is left alone, since
 * fuzz_parse covers those. Then check_module_cycles() checks it as stk validate does, and when
 * the only errors it finds are dependency cycles (or there are none), graph_build() builds the
 * graph of it. Every cycle
 * validate reports must be one the graph has: for each "dependency cycle: A -> B -> ... -> A",
 * the graph has a node at each address and an edge from each to the next, or the target
 * aborts. The other way, a cycle the graph reports through the root module's locals,
 * resources, data sources and provider blocks alone must make validate report one too, unless
 * the module has a stack block (stack.tags makes edges of its own). Cycles through variables,
 * outputs and module calls are the graph's alone. (The two may name the same cycle from
 * different nodes, when the graph comes into it by a node or an edge validate does not have.)
 * A module call with count or for_each makes as many instances of the module as its value
 * says, none for count = 0: validate's cycles in a called module are then not asked of the
 * graph, which may have them once per instance, or not at all.
 *
 * Modules: a call's source is read as stk reads it. "stdlib/NAME" loads the shipped modules
 * from the source tree; a relative path names a directory beside main.stk, where there is
 * none (the call is an error), or the directory itself ("." calls itself, until the nesting
 * limit). An input with a module source whose path (as config_module_path makes it) is
 * outside that directory and the stdlib, or has ".." in it, is skipped, so the fuzzer reads
 * nothing else. The target does no network I/O.
 *
 * Build and run: `make fuzz` (clang with -fsanitize=fuzzer,address,undefined), `make fuzz-smoke`.
 * Replay one input: fuzz/fuzz_check FILE... (with STK_FUZZ_VERBOSE=1, it prints the messages).
 * Ownership: everything allocated for an input is freed before returning, so LeakSanitizer
 * sees any leak in the checks or the graph. */
#define FUZZ_NAME "fuzz_check"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/diag.h"
#include "parser/ast.h"
#include "parser/parse.h"
#include "planner/check.h"
#include "planner/config.h"
#include "planner/graph.h"

#include "fuzz/fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char module_dir[256];
static const char *const dir_files[] = { "main.stk" };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init_verbose();
	fuzz_make_dir(module_dir, sizeof module_dir, "check", "cannot make the module directory",
		      dir_files, 1);
	return 0;
}

/* A source the fuzzer may follow: one whose path, as stk makes it (config_module_path:
 * ".//x" is "/x"), is in the module's directory or the stdlib, with no "..". */
static int source_ok(const struct ast_item *it)
{
	const char *stdlib = config_stdlib_dir();

	for (size_t i = 0; i < it->body.n; i++) {
		const struct ast_item *a = it->body.items[i];
		if (a->kind != AST_ATTR || strcmp(a->name, "source"))
			continue;
		const char *s = ast_static_string(a->value);
		if (!s)
			continue;
		char *path = config_module_path(module_dir, s);
		size_t md = strlen(module_dir), sd = strlen(stdlib);
		int ok = !strstr(path, "..") &&
			 ((!strncmp(path, module_dir, md) && (!path[md] || path[md] == '/')) ||
			  (!strncmp(path, stdlib, sd) && (!path[sd] || path[sd] == '/')));
		free(path);
		if (!ok)
			return 0;
	}
	return 1;
}

static const char cycle_prefix[] = "dependency cycle: ";

/* Whether the graph has an edge from the node at from to the node at to. */
static int graph_has_edge(const struct graph *g, const char *from, const char *to)
{
	const struct graph_node *a = graph_find(g, from), *b = graph_find(g, to);

	if (!a || !b)
		return 0;
	for (size_t k = 0; k < buf_count(&a->edges, struct graph_edge); k++)
		if (graph_node(g, buf_at(&a->edges, struct graph_edge, k).to) == b)
			return 1;
	return 0;
}

/* Every step of each cycle message in checked is an edge of g. */
static void cycles_in_graph(const struct diag_ctx *checked, const struct graph *g)
{
	for (size_t i = 0; i < buf_count(&checked->diags, struct diag); i++) {
		const struct diag *d = &buf_at(&checked->diags, struct diag, i);
		if (d->severity != DIAG_ERROR || strncmp(d->message, cycle_prefix, sizeof cycle_prefix - 1))
			continue;
		char *path = xstrdup(d->message + sizeof cycle_prefix - 1), *at = path, *arrow;
		while ((arrow = strstr(at, " -> "))) {
			*arrow = '\0';
			char *next = arrow + 4, *end = strstr(next, " -> ");
			if (end)
				*end = '\0';
			if (!graph_has_edge(g, at, next)) {
				fprintf(stderr, "validate: %s\ngraph: no edge from %s to %s\n", d->message, at, next);
				die("stk validate reports a cycle the graph does not have");
			}
			if (end)
				*end = ' ';
			at = next;
		}
		free(path);
	}
}

/* Whether every node on a cycle message's path is a root module's local, resource, data
 * source or provider block (no var., output. or module. address). */
static int root_cycle(const char *message)
{
	const char *at = message + sizeof cycle_prefix - 1;

	for (;;) {
		if (!strncmp(at, "var.", 4) || !strncmp(at, "output.", 7) || !strncmp(at, "module.", 7))
			return 0;
		at = strstr(at, " -> ");
		if (!at)
			return 1;
		at += 4;
	}
}

/* The cycle messages in diag (only those root_cycle takes, with root_only). */
static unsigned count_cycles(const struct diag_ctx *diag, int root_only)
{
	unsigned n = 0;

	for (size_t i = 0; i < buf_count(&diag->diags, struct diag); i++) {
		const struct diag *d = &buf_at(&diag->diags, struct diag, i);
		if (d->severity == DIAG_ERROR && !strncmp(d->message, cycle_prefix, sizeof cycle_prefix - 1) &&
		    (!root_only || root_cycle(d->message)))
			n++;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_ctx diag, gdiag;
	struct config_module m;
	struct graph g;
	struct buf out = BUF_INIT;
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/main.stk", module_dir);
	if (!(f = fopen(path, "wb")) || fwrite(data, 1, size, f) != size || fclose(f))
		die("cannot write main.stk");
	diag_init(&diag);
	config_module_init(&m);
	if (config_load_dir(&diag, module_dir, &m, 0) || diag.errors)
		goto out;
	int stack = 0, many = 0;
	for (size_t fi = 0; fi < config_nfiles(&m); fi++) {
		const struct ast_body *body = &config_file(&m, fi)->body;
		for (size_t i = 0; i < body->n; i++) {
			const struct ast_item *it = body->items[i];
			if (it->kind != AST_BLOCK)
				continue;
			if (!strcmp(it->name, "module") && !source_ok(it))
				goto out;
			stack |= !strcmp(it->name, "stack");
			many |= !strcmp(it->name, "module") && (ast_body_get(&it->body, AST_ATTR, "count") ||
								ast_body_get(&it->body, AST_ATTR, "for_each"));
		}
	}
	check_module_cycles(&diag, &m);
	format_diags(&diag, &out);
	unsigned cycles = count_cycles(&diag, 0);
	if (diag.errors != cycles)
		goto out;
	/* a configuration stk plan would go on with, or one whose only errors are cycles */
	diag_init(&gdiag);
	graph_init(&g, &gdiag);
	int built = graph_build(&g, &m);
	buf_reset(&out);
	format_diags(&gdiag, &out);
	if (cycles && !many) {
		cycles_in_graph(&diag, &g);
		if (built == 0 || !count_cycles(&gdiag, 0))
			die("stk validate reports a cycle and the graph reports none");
	} else if (!cycles && !stack && count_cycles(&gdiag, 1)) {
		die("the graph reports a cycle of root locals, resources, data sources and providers "
		    "that stk validate does not");
	}
	graph_release(&g);
	diag_release(&gdiag);
out:
	buf_release(&out);
	config_module_release(&m);
	diag_release(&diag);
	return 0;
}

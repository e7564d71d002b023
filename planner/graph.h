/* graph.h: the dependency graph of a configuration, modules flattened into it. A node is one
 * declared thing in one module instance: a variable, local, output, resource, data source or
 * provider configuration; an edge says that a node's expressions refer to another node.
 * Ownership: a graph owns its nodes, module instances and loaded child modules; it borrows the
 * root module and the diagnostics context. */
#ifndef STK_GRAPH_H
#define STK_GRAPH_H

#include "common/diag.h"
#include "common/strmap.h"
#include "planner/config.h"
#include "planner/value.h"
#include "providers/schema.h"

enum graph_kind {
	GN_VARIABLE, GN_LOCAL, GN_OUTPUT, GN_RESOURCE, GN_DATA, GN_PROVIDER,
};

struct graph_module {
	char *path;                       /* "" for the root, "module.web", "module.web[0]",
					     "module.web[\"a\"].module.db" */
	const struct config_module *cfg;
	struct graph_module *parent;
	const struct ast_item *call;      /* the module block in the parent, NULL for the root */
	struct config_module owned;       /* a child module's files, loaded by the graph */
	/* an instance of a call with count (count_index) or for_each (each_key, each_value),
	 * which the call's arguments see; NULL otherwise. Owned. */
	struct value *count_index, *each_key, *each_value;
};

struct graph_edge {
	size_t to;                        /* the node depended on */
	struct span where;                /* the reference (or depends_on entry) making the edge */
};

struct graph_node {
	enum graph_kind kind;
	char *addr;                       /* "var.region", "aws.vpc.main", "module.web.output.url" */
	char *name;                       /* "region", "aws.vpc.main" (type.name), "url" */
	struct graph_module *mod;         /* where it is declared */
	struct graph_module *eval_mod;    /* where its expression is evaluated: a child module's
					     variable takes its value from the call, in the parent */
	const struct ast_item *item;      /* the block, or the attribute for locals */
	const struct ast_expr *expr;      /* variable: the call's argument, or NULL; local: value */
	const struct schema_resource *schema;
	char *provider;                   /* resources: "aws", "aws.eu" */
	struct buf edges;                 /* struct graph_edge, deduplicated by target */
	int count_expr, for_each_expr;    /* resources: which expansion is used */
	/* filled by the planner */
	struct value *value;
	int state;                        /* 0 not visited, 1 in progress, 2 done, 3 failed */
	struct strmap planned;            /* resources: instance address -> its latest
					     struct plan_change *, for replace_triggered_by */
	int pending;                      /* resources and data sources: an instance has a change
					     to make (or a read during apply) in the last planning */
};

struct graph {
	struct diag_ctx *diag;
	struct buf modules;               /* struct graph_module * */
	struct buf nodes;                 /* struct graph_node * */
	struct strmap by_addr;            /* addr -> node index + 1, as a pointer-sized integer */
	size_t *order;                    /* a topological order, dependencies first */
	const struct ast_expr *stack_tags;/* the root stack block's tags, which stack.tags names */
	const struct ast_item *stack;     /* the root module's stack block, or NULL */
	/* for the count and for_each of module calls, evaluated as the graph is built: the value
	 * given to the plan for the root variable that decl declares, as the planner reads it
	 * (1 with a new reference in *out, 0 for none given, -1 after an error). NULL (stk
	 * graph): none is given, defaults are used. */
	int (*given)(void *arg, const struct ast_item *decl, struct value **out);
	void *given_arg;
};

void graph_init(struct graph *g, struct diag_ctx *diag);
void graph_release(struct graph *g);

/* Builds the graph of root and every module it calls. Returns -1 after diagnostics, among
 * them one per dependency cycle, printed as a path of addresses with the references that
 * make each edge. */
int graph_build(struct graph *g, const struct config_module *root);

/* The module block named name that module m declares, or NULL. */
const struct ast_item *graph_module_call(const struct graph_module *m, const char *name);

size_t graph_count(const struct graph *g);
struct graph_node *graph_node(const struct graph *g, size_t i);
struct graph_node *graph_find(const struct graph *g, const char *addr);
/* The node of module m (NULL: the root) at kind ("var.", "local.", "data." or "" for a
 * resource) and key: graph_find of the address, without making it. */
struct graph_node *graph_find_in(const struct graph *g, const struct graph_module *m, const char *kind,
				 const char *key);

/* Nodes 0..n-1, each with the edges that edges() returns (*count of them, the first to each
 * target only), walked depth first for a dependency order and cycles: the graph's own, and
 * check.c's of a module's declarations (stk validate). Each cycle is reported to diag, its
 * nodes named by name() (appended to out) and the first placed by at(). */
struct graph_walk {
	size_t n;
	const struct graph_edge *(*edges)(void *arg, size_t node, size_t *count);
	void (*name)(void *arg, size_t node, struct buf *out);
	const struct span *(*at)(void *arg, size_t node);
	void *arg;
	struct diag_ctx *diag;
};

/* Writes the nodes in a dependency order, dependencies first, to order (n entries; NULL for
 * none) and returns the number of cycles reported. */
int graph_walk_order(const struct graph_walk *gw, size_t *order);

/* Writes the graph as Graphviz DOT, nodes labelled by address. */
void graph_dot(const struct graph *g, struct buf *out);

#endif

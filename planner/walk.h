/* walk.h: the planner's walk over the graph, shared by plan (plan.c) and apply (apply.c).
 * Internal to planner/. Ownership: a planner owns its graph and caches; it borrows the
 * configuration, the priors, the options and the plan it adds changes to. */
#ifndef STK_WALK_H
#define STK_WALK_H

#include "common/strmap.h"
#include "planner/graph.h"
#include "planner/plan.h"

/* What evaluating nodes builds up as it goes: caches and scratch. Each share of a round
 * (plan.c, eval_in_rounds) works with a copy of the planner and a fresh one of these. */
struct planner_scratch {
	struct buf missing_vars;      /* char *: required root variables with no value */
	struct strmap default_cache;  /* default source text -> struct value * */
	struct buf default_files;     /* struct ast_file * */
	/* resource_deps' visited marks, one per graph node: a walk marks with a new stamp
	 * instead of clearing, so each walk costs what it visits, not the graph's size */
	unsigned *dep_mark;
	size_t dep_cap;
	unsigned dep_stamp;
	struct buf key_orders;        /* struct key_order *: schema blocks' keys in byte order */
	int in_stack_tags;            /* evaluating stack.tags: a reference to it inside is a loop */
};

struct planner {
	struct diag_ctx *diag;
	struct graph g;
	const struct plan_opts *opts;
	struct strmap prior;          /* instance address -> const struct plan_prior * */
	unsigned char *prior_seen;    /* per prior, by index: the configuration accounts for it */
	const struct plan_prior *priors;
	size_t nprior;
	struct graph_node *cur;       /* the node being evaluated */
	struct plan *out;
	const struct ast_item *stack; /* the root's stack block */
	struct strmap replace;        /* addresses given with -replace */
	struct planner_scratch scratch;
};

/* Builds the graph; returns -1 after diagnostics. planner_teardown() in any case. */
int planner_setup(struct planner *pl, struct diag_ctx *diag, const struct config_module *root,
		  const struct plan_prior *prior, size_t nprior, const struct plan_opts *opts,
		  struct plan *out);
void planner_teardown(struct planner *pl);
/* Points the planner at new priors (the state after some operations). */
void planner_set_priors(struct planner *pl, const struct plan_prior *prior, size_t nprior);
/* 1: every dependency of n is done; 0: some are not yet; -1: one failed. */
int planner_deps_done(struct planner *pl, struct graph_node *n);
/* Evaluates node n: its value for references; resource instances add changes to the plan. */
struct value *planner_node(struct planner *pl, struct graph_node *n);
void planner_report_missing(struct planner *pl);

#endif

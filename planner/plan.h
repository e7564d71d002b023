/* plan.h: from a configuration and the prior state to the exact list of changes, and the
 * renderings of that list (text, JSON, a pull-request comment).
 * Ownership: a plan owns its changes and their values; plan_make borrows its inputs. */
#ifndef STK_PLAN_H
#define STK_PLAN_H

#include <stdint.h>
#include <stdio.h>

#include "common/diag.h"
#include "common/strmap.h"
#include "planner/config.h"
#include "planner/value.h"
#include "providers/schema.h"

struct moves;

enum plan_action {
	PLAN_NOOP,
	PLAN_CREATE,
	PLAN_UPDATE,
	PLAN_REPLACE,   /* delete then create, or create then delete with create_before_destroy */
	PLAN_DELETE,
	PLAN_READ,      /* a data source read during apply: an argument not known before, or
			   something it depends on still to change */
};

/* What the state says of one instance before the plan. */
struct plan_prior {
	char *addr;                 /* "aws.subnet.public[\"a\"]" */
	char *type;                 /* "aws.subnet" */
	char *provider;             /* the configuration that made it, as the state says: "aws",
				       "aws.west"; NULL: the type's default one */
	char *provider_module;      /* the module whose block of that name made it, as the state
				       says ("module.net"); NULL: the root's */
	int data;
	struct value *attrs;        /* a map */
	int tainted;
	char **deps;                /* what the state says it depends on (for destroy order) */
	size_t ndeps;
	char *deposed;              /* in plan_opts.deposed: the deposed object's key */
};

struct plan_change {
	char *addr;
	char *moved_from;           /* the state's address, when the instance moved (gw[0] -> gw) */
	char *importing;            /* the ID an import block brings the object in by, or NULL */
	char *deposed;              /* a deposed object's key ("1a2b3c4d"): this change destroys
				       that object, not the instance's current one; else NULL */
	char *resource;             /* the address without the instance key */
	char *type;                 /* "aws.vpc" */
	char *provider;             /* "aws", "aws.eu" */
	char *provider_module;      /* an object only in the state: the module whose block made
				       it ("module.net"; "": the root's), which must be the one
				       destroying it; NULL: the configuration's, found up from
				       the object's module */
	int data;
	enum plan_action action;
	int create_before_destroy;
	struct value *before;       /* NULL when there is nothing yet */
	struct value *after;        /* NULL when deleting; unknown where computed */
	struct buf replace_paths;   /* char *: the attributes that force a replacement */
	char *reason;               /* why, when it is not obvious: "tainted", "-replace" */
	struct buf deps;            /* char *: resource addresses this one depends on */
	const struct schema_resource *schema;
	int timeouts[3];            /* create, update, delete, seconds, from the resource's
				       timeouts block; 0: the type's default */
};

struct plan_output {
	char *name;
	enum plan_action action;
	struct value *before, *after;
	int sensitive;
};

/* A data source to read during plan (plan_opts.read_data). */
struct plan_read {
	const char *addr;                    /* "data.aws.ami.debian" */
	const char *type;                    /* "aws.ami" */
	const char *provider;                /* "aws", "aws.eu" */
	const char *provider_key;            /* its provider block's address ("provider.aws",
						"module.web.provider.aws"), NULL when none is declared */
	const struct value *provider_config; /* that block's values (all known), or NULL */
	const struct value *planned;         /* its arguments (all known), computed attributes
						unknown: what apply gives read_data */
};

struct plan_opts {
	int destroy;                /* plan to destroy everything */
	int refresh_only;           /* managed resources are their (refreshed) state, with no
				       change: the values a refresh gives the outputs */
	const char *const *targets; /* NULL-terminated, or NULL: only these and what they need */
	const char *const *replaces;/* NULL-terminated, or NULL */
	struct value *variables;    /* map of root variable values given on the command line,
				       already in precedence order; strings for -var values */
	const struct value *raw_variables; /* map: where each came from (VARS_FILE, _ARG, _ENV) */
	struct value *prior_outputs;/* map of output values in the state, or NULL */
	struct moves *moves;        /* the moved blocks, already applied to the prior state
				       (moved.h), or NULL */
	int leave_memory;           /* the process ends soon after: the planner's graph and caches
				       are left to the exit, not freed one by one (22 ms at 100k) */
	const struct strmap *imports; /* instance address -> the ID (char *) an import block read
				       it by, its object already among the priors; or NULL */
	int generate;               /* stk plan -generate-config-out: plan_imports also returns an
				       import to a root resource not declared yet (generate set) */
	/* A refreshing plan reads a data source during plan, as Terraform does, once its
	 * arguments are known and nothing it depends on has a change pending: 0 with *result its
	 * attributes (marked sensitive as planned said), 1 when it is to be read during apply
	 * after all, -1 after a diagnostic (a plan error). Called from several threads at once
	 * (the rounds of a big plan), each with its own diag. NULL (-refresh=false, -destroy):
	 * a data source keeps what the state holds for the same arguments, or is read during
	 * apply. */
	int (*read_data)(void *arg, const struct plan_read *rq, struct value **result, struct diag_ctx *diag);
	void *read_data_arg;
	/* The state's deposed objects (apply_deposed), each planned to be destroyed (not with
	 * refresh_only); NULL when none. */
	const struct plan_prior *deposed;
	size_t ndeposed;
};

struct plan {
	struct buf changes;         /* struct plan_change *, in address order */
	struct buf outputs;         /* struct plan_output *, in name order */
	unsigned add, change, destroy, read;
	unsigned import;            /* changes that bring an existing object in (import blocks) */
};

void plan_init(struct plan *p);
void plan_release(struct plan *p);

/* Plans root against prior (n instances). Returns -1 after diagnostics. */
int plan_make(struct diag_ctx *diag, const struct config_module *root, const struct plan_prior *prior,
	      size_t nprior, const struct plan_opts *opts, struct plan *out);

/* Evaluates every provider block, and what it refers to, before a refresh: configs gets
 * "provider.aws", "module.web.provider.aws.eu" -> the configuration, keys and values its own
 * (release with plan_providers_release), and "resource:ADDR" -> the name of the provider
 * configuration it gives every resource it declares ("resource:module.web.aws.vpc.main" ->
 * "aws.eu", in the terms of plan_provider_config's walk up from its module:
 * plan_config_provider). A configuration not known before apply (it refers to
 * a resource yet to be made) is kept with its unknowns: see plan_provider_config.
 * Returns -1 after diagnostics. */
int plan_providers(struct diag_ctx *diag, const struct config_module *root, const struct plan_prior *prior,
		   size_t nprior, const struct plan_opts *opts, struct strmap *configs);
void plan_providers_release(struct strmap *configs);
/* The provider configuration the configuration plan_providers read gives resource addr (no
 * instance key), or NULL when it does not declare it. */
const char *plan_config_provider(const struct strmap *configs, const char *addr);
/* The value of the root module's node addr ("var.region", "aws.subnet.a": for a resource, its
 * instances as plan would make them: an object, a list for count, a map for for_each), with
 * what it needs evaluated first; NULL after a diagnostic. No API is called. */
struct value *plan_node_value(struct diag_ctx *diag, const struct config_module *root,
			      const struct plan_prior *prior, size_t nprior, const struct plan_opts *opts,
			      const char *addr);
/* plan_node_value of "var.NAME", with no state: for settings read before the state is (the
 * state's passphrase). */
struct value *plan_root_variable(struct diag_ctx *diag, const struct config_module *root,
				 const struct plan_opts *opts, const char *name);
/* The configuration for provider ("aws.eu") as seen from module ("" or "module.web"): the
 * nearest declaration up the module path, or NULL when none is declared. Borrowed. With
 * block_module ("module.net" as the state records it, "" for the root), that module's block
 * only: the one that made the object, or NULL when it is gone. */
const struct value *plan_provider_config(const struct strmap *configs, const char *module,
					 const char *block_module, const char *provider);
/* The module whose block for provider is the nearest up from module ("module.net"), for the
 * state to record; NULL when that is the root's, or there is none. */
char *plan_provider_module(const struct strmap *configs, const char *module, const char *provider);
/* The error for addr (a deposed object of it when deposed is set), which provider (declared
 * in block_module, or up from addr's module when NULL) made and which is no longer in the
 * configuration: it names the block to add back. block_module "" is the root. reading: said
 * by a refresh (or an apply's delete), which cannot read it either. */
void plan_provider_gone(struct diag_ctx *diag, const char *addr, const char *deposed, const char *provider,
			const char *block_module, int reading);

/* One import block of the root module, as plan_imports evaluates it. */
struct plan_import {
	char *addr;                 /* the instance: "aws.vpc.main", "aws.subnet.a[\"x\"]" */
	char *type;                 /* "aws.vpc" */
	char *provider;             /* the resource's provider: "aws", "aws.eu" */
	char *id;
	const struct ast_item *block;
	int generate;               /* the configuration does not declare it: the plan writes its
				       block (-generate-config-out); provider is the type's default */
};

/* The root module's import blocks (each to an instance the configuration declares, with an
 * ID known now), in order, except those whose instance the priors already hold (Terraform's
 * rule: the block has nothing left to do). out: struct plan_import, released with
 * plan_imports_release. Returns -1 after diagnostics. No API is called. */
int plan_imports(struct diag_ctx *diag, const struct config_module *root, const struct plan_prior *prior,
		 size_t nprior, const struct plan_opts *opts, struct buf *out);
void plan_imports_release(struct buf *imports);

struct addr;
/* stk import's address a (text: as the user wrote it): checked as an import block's to is,
 * an instance the configuration declares, in a module instance it makes; *provider (new)
 * gets the resource's provider as resolved in its module ("aws", "aws.eu"). Returns -1
 * after diagnostics. No API is called. */
int plan_import_check(struct diag_ctx *diag, const struct config_module *root, const struct plan_prior *prior,
		      size_t nprior, const struct plan_opts *opts, const struct addr *a, const char *text,
		      char **provider);
/* Is a's instance key one the resource block, planned as v (plan_node_value), declares? An
 * import under another key would record an object the next apply destroys as no longer in
 * the configuration. text: a as written; where: NULL or its place. Returns -1 after an error. */
int plan_instance_declared(struct diag_ctx *diag, const struct span *where, const char *text,
			   const struct addr *a, const struct ast_item *block, const struct value *v);

int plan_has_changes(const struct plan *p);
void plan_change_free(struct plan_change *c);
/* Orders addresses as people count: worker[2] before worker[10]. */
int plan_cmp_addr(const char *a, const char *b);

/* Renderings. color: ANSI colours in the text form. to: where the text form is written as it
 * grows (out then holds at most its last part), so a plan of 100k objects never sits whole in
 * memory; NULL: all of it in out. */
void plan_render_text(const struct plan *p, struct buf *out, int color, FILE *to);
void plan_render_json(const struct plan *p, struct buf *out);
void plan_render_markdown(const struct plan *p, struct buf *out);
/* The state for stk show: its objects as resource blocks and its outputs, or Terraform's
 * show -json layout ("values": "outputs" and "root_module", whose "child_modules" hold one
 * entry per module path). Sensitive values print as (sensitive value), or null and flagged. */
struct state;
void plan_render_state_text(const struct state *st, struct buf *out, int color);
void plan_render_state_json(const struct state *st, struct buf *out);
/* A resource block of type and name, in .stk source, for the object obj that an import read
 * by id (stk plan -generate-config-out), appended to out: the arguments the object has, for
 * the next plan to find nothing to change. -1 for a type stk does not know. */
int plan_render_generated(const char *type, const char *name, const char *id, const struct value *obj,
			  struct buf *out);

#endif

/* apply.h: making a plan real. Operations run in parallel on worker threads as their
 * dependencies complete; the state is written after every one of them, so an interrupted or
 * failed apply leaves a state that records every object that exists.
 * Ownership: apply_run borrows everything; it updates and writes the state it is given. */
#ifndef STK_APPLY_H
#define STK_APPLY_H

#include <pthread.h>
#include <signal.h>
#include <stdio.h>

#include "common/strmap.h"
#include "planner/plan.h"
#include "planner/state.h"

struct apply_opts {
	int parallelism;            /* operations at once (default 10) */
	const char *state_path;
	FILE *out;                  /* progress lines */
	int color;
	int progress_every;         /* seconds between "Still creating..." lines (default 10) */
	const struct strmap *provider_configs; /* plan_providers: for deletions before the walk */
	int rollback_on_failure;    /* when anything failed, destroy what this run created */
	int live;                   /* out is a terminal: one status line (done / in flight / left)
				       redrawn under the log */
};

struct apply_result {
	unsigned added, changed, destroyed, read, failed;
	unsigned rolled_back;       /* objects this run created, then destroyed by the rollback */
	int interrupted;
};

/* Set by a signal handler: 1 stops starting operations; 2 stops waiting for them. */
extern volatile sig_atomic_t apply_interrupted;

/* Applies plan (made by plan_make from the same configuration, state and options). Returns
 * 0 when everything succeeded, -1 when something failed (each failure is a diagnostic under
 * its address) or the run was interrupted. */
int apply_run(struct diag_ctx *diag, const struct config_module *root, struct state *st,
	      const struct plan *plan, const struct plan_opts *opts, const struct apply_opts *ao,
	      struct apply_result *res);

/* Reads every managed object in the state back through its provider, configured from configs
 * (plan_providers; NULL: from the environment alone): attributes that changed outside stk are
 * updated, objects that are gone are dropped (and so planned again). The state is not written. */
int apply_refresh(struct diag_ctx *diag, struct state *st, const struct strmap *configs);

/* Resolves the intents an interrupted apply left (instances pending under a token): an object
 * found by its token is adopted into the state with its real attributes, one not found is
 * dropped, so that nothing is created twice. Providers are configured as for apply_refresh.
 * *changed says whether the state must be written. */
int apply_resolve_intents(struct diag_ctx *diag, struct state *st, const struct strmap *configs, int *changed);

/* Reads the object id of type ("aws.vpc") through provider ("aws", "aws.eu"), configured from
 * configs as for apply_refresh as seen from module ("" or "module.web[0]"), to import it as
 * addr: *out gets its attributes as the provider reports them (a new reference). Returns 0,
 * or -1 after an error at where (NULL: none), one that names id when there is no such
 * object. stk import and import blocks share it. */
int apply_import_read(struct diag_ctx *diag, const struct strmap *configs, const char *addr, const char *module,
		      const char *type, const char *provider, const char *id, const struct span *where,
		      struct value **out);

/* Data sources read during plan: plan_opts.read_data = apply_read_data, read_data_arg = an
 * apply_reader. Each provider is configured once, from its block's values as the plan
 * evaluated them, and shared by the plan's threads (providers take concurrent calls). */
struct apply_reader {
	pthread_mutex_t mu;
	struct strmap providers;    /* provider block's address, or provider name -> struct provider * */
};

void apply_reader_init(struct apply_reader *r);
/* Releases the providers; what their requests cost, when they retried, is a note in diag. */
void apply_reader_release(struct apply_reader *r, struct diag_ctx *diag);
int apply_read_data(void *arg, const struct plan_read *rq, struct value **result, struct diag_ctx *diag);
/* Records in st what plan read (data sources with values other than the state's), for the
 * next plan with -refresh=false; returns how many. The state is not written. */
size_t apply_record_reads(struct state *st, const struct plan *plan);

/* The state's instances as the planner sees them; free with apply_free_priors. */
struct plan_prior *apply_priors(const struct state *st, size_t *n);
/* The state's deposed objects, the same way (each with its key), for plan_opts.deposed. */
struct plan_prior *apply_deposed(const struct state *st, size_t *n);
void apply_free_priors(struct plan_prior *p, size_t n);
/* The state's outputs as a map (marked sensitive where they are). */
struct value *apply_prior_outputs(const struct state *st);

#endif

/* apply.c: the apply walk. Three phases: destroy what goes (dependents first), then walk the
 * graph creating, updating and reading (each node planned again once its dependencies are
 * real, so unknown values are known by then), then destroy what create_before_destroy kept.
 * Evaluation and the state stay on this thread; only provider calls run on the workers. */
#include "planner/apply.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/strmap.h"
#include "planner/uuid.h"
#include "planner/walk.h"
#include "providers/net.h"
#include "providers/provider.h"

volatile sig_atomic_t apply_interrupted;

/* The block a state's object was made through, for configure_from: the module the state
 * records, else the root's (""), never the nearest up from the object's module, which need
 * not be the one that made it */
#define ROOT_IF_NULL(module) ((module) ? (module) : "")

enum op_kind { OP_CREATE, OP_UPDATE, OP_DELETE, OP_READ };

struct op {
	enum op_kind kind;
	char *addr;
	char *type;                 /* "vpc" */
	char *resource_type;        /* "aws.vpc" */
	char *provider;             /* "aws", "aws.eu" */
	char *provider_module;      /* the module whose block of that name it goes through: set
				       by the plan for an object only in the state ("": the
				       root's), else by provider_for (NULL: the root's), for the
				       state to record */
	int data;
	struct value *prior;        /* held here; the worker only reads them */
	struct value *planned;
	struct value *result;       /* from the worker */
	int rc;
	struct diag_ctx diag;       /* the worker's own diagnostics */
	struct provider *prov;
	struct buf deps;            /* char *: for the state */
	char token[40];             /* a create's intent token, tagged on the object */
	char deposed[9];            /* a delete of a deposed object: its key; "" for the current */
	char *label;                /* what progress lines call it: the address, and for a deposed
				       object its key, as Terraform prints it; set when queued */
	struct op *deposes;         /* a create_before_destroy create: the delete of the object
				       it replaces, which gets the key that object is deposed under */
	int kept;                   /* such a delete not to make: its replacement's create failed */
	int timeout_s;              /* the resource type's timeout for this operation */
	struct graph_node *node;    /* phase two: the node it belongs to */
	struct buf waits;           /* phase one and three: struct op * that must finish first */
	int started, done;
	time_t t0;
	int last_report;
	struct op *next;            /* in the work or done queue */
};

struct applier {
	struct diag_ctx *diag;
	struct state *st;
	const struct apply_opts *ao;
	struct apply_result *res;
	/* workers */
	pthread_t *threads;
	int nthreads;
	pthread_mutex_t mu;
	pthread_cond_t work_cv, done_cv;
	struct op *work, *done;     /* queues */
	int quit;
	int in_flight;
	/* configured providers: "aws.eu" -> struct provider * */
	struct strmap providers;
	struct buf owned_keys;      /* char * keys of providers */
	struct planner *pl;         /* phase two */
	int dirty;                  /* the state changed since it was last written */
	struct buf created;         /* char *: what this run created, in order (for rollback) */
	/* the live status line (ao->live): operations the plan has, finished ones, the start */
	unsigned total, finished;
	time_t t0;
	int status_shown, status_over;
	int save_failed;            /* a state write failed: the run fails */
	struct buf progress;        /* char *: providers' progress lines from the workers, under mu,
				       printed by the main thread so lines never interleave */
};

/* What a worker's provider says as it goes (build output): queued for the main thread. */
struct progress_arg {
	struct applier *ap;
	const char *addr;
};

static void queue_progress(void *arg, const char *line)
{
	struct progress_arg *pa = arg;
	size_t n = strlen(line);

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (!n)
		return;
	pthread_mutex_lock(&pa->ap->mu);
	buf_push(&pa->ap->progress, char *, xasprintf("%s: %.*s", pa->addr, (int)n, line));
	pthread_cond_signal(&pa->ap->done_cv);
	pthread_mutex_unlock(&pa->ap->mu);
}

/* ---- workers ---- */

static void *worker(void *arg)
{
	struct applier *ap = arg;

	for (;;) {
		struct op *op;
		pthread_mutex_lock(&ap->mu);
		while (!ap->work && !ap->quit)
			pthread_cond_wait(&ap->work_cv, &ap->mu);
		if (!ap->work) {
			pthread_mutex_unlock(&ap->mu);
			return NULL;
		}
		op = ap->work;
		ap->work = op->next;
		pthread_mutex_unlock(&ap->mu);

		struct progress_arg pa = { ap, op->label };
		struct provider_op po = {
			.type = op->type, .addr = op->addr, .prior = op->prior, .planned = op->planned,
			.token = op->token[0] ? op->token : NULL, .timeout_s = op->timeout_s,
			.progress = queue_progress, .progress_arg = &pa,
		};
		const struct provider_ops *ops = op->prov->ops;
		switch (op->kind) {
		case OP_CREATE:
			op->rc = ops->create(op->prov, &po, &op->result, &op->diag);
			break;
		case OP_UPDATE:
			op->rc = ops->update(op->prov, &po, &op->result, &op->diag);
			break;
		case OP_DELETE:
			op->rc = ops->remove(op->prov, &po, &op->diag);
			break;
		case OP_READ:
			op->rc = ops->read_data ? ops->read_data(op->prov, op->type, op->planned, &op->result, &op->diag) :
				 (diag_error(&op->diag, NULL, "the %s provider has no data sources", ops->name), -1);
			break;
		}

		pthread_mutex_lock(&ap->mu);
		op->next = ap->done;
		ap->done = op;
		pthread_cond_signal(&ap->done_cv);
		pthread_mutex_unlock(&ap->mu);
	}
}

static void start_workers(struct applier *ap)
{
	/* before any thread: the workers configure providers, whose first HTTP client would
	 * otherwise set libcurl up while other workers run (a failure is reported by that
	 * client) */
	if (net_get(NULL))
		net_get(NULL)->http_global_init(NULL);
	ap->nthreads = ap->ao->parallelism > 0 ? ap->ao->parallelism : 10;
	ap->threads = xcalloc((size_t)ap->nthreads, sizeof *ap->threads);
	for (int i = 0; i < ap->nthreads; i++)
		pthread_create(&ap->threads[i], NULL, worker, ap);
}

static void stop_workers(struct applier *ap)
{
	pthread_mutex_lock(&ap->mu);
	ap->quit = 1;
	pthread_cond_broadcast(&ap->work_cv);
	pthread_mutex_unlock(&ap->mu);
	for (int i = 0; i < ap->nthreads; i++)
		pthread_join(ap->threads[i], NULL);
	free(ap->threads);
}

/* ---- operations ---- */

static const char *verb(enum op_kind k, int done)
{
	switch (k) {
	case OP_CREATE: return done ? "Creation" : "Creating";
	case OP_UPDATE: return done ? "Modifications" : "Modifying";
	case OP_DELETE: return done ? "Destruction" : "Destroying";
	default: return done ? "Read" : "Reading";
	}
}

static struct op *op_new(enum op_kind kind, const struct plan_change *c, const struct value *prior,
			 const struct value *planned)
{
	struct op *op = xcalloc(1, sizeof *op);
	const char *dot = strchr(c->type, '.');

	op->kind = kind;
	op->addr = xstrdup(c->addr);
	op->resource_type = xstrdup(c->type);
	op->type = xstrdup(dot ? dot + 1 : c->type);
	op->provider = xstrdup(c->provider);
	op->provider_module = c->provider_module ? xstrdup(c->provider_module) : NULL;
	op->data = c->data;
	if (c->deposed && state_deposed_key_valid(c->deposed))
		memcpy(op->deposed, c->deposed, sizeof op->deposed);
	op->prior = prior ? val_ref((struct value *)prior) : NULL;
	op->planned = planned ? val_ref((struct value *)planned) : NULL;
	/* the resource's timeouts block, else Terraform's defaults for the type; 0 leaves the
	 * provider its own */
	int which = kind == OP_CREATE ? 0 : kind == OP_UPDATE ? 1 : kind == OP_DELETE ? 2 : -1;
	if (which >= 0 && c->timeouts[which] > 0)
		op->timeout_s = c->timeouts[which];
	else if (c->schema)
		op->timeout_s = kind == OP_CREATE ? c->schema->timeouts.create :
				kind == OP_UPDATE ? c->schema->timeouts.update :
				kind == OP_DELETE ? c->schema->timeouts.delete : 0;
	diag_init(&op->diag);
	for (size_t i = 0; i < buf_count(&c->deps, char *); i++)
		buf_push(&op->deps, char *, xstrdup(buf_at(&c->deps, char *, i)));
	return op;
}

static void op_free(struct op *op)
{
	free(op->addr);
	free(op->label);
	free(op->type);
	free(op->resource_type);
	free(op->provider);
	free(op->provider_module);
	val_unref(op->prior);
	val_unref(op->planned);
	val_unref(op->result);
	diag_release(&op->diag);
	for (size_t i = 0; i < buf_count(&op->deps, char *); i++)
		free(buf_at(&op->deps, char *, i));
	buf_release(&op->deps);
	buf_release(&op->waits);
	free(op);
}

/* Configures provider ("aws.eu", as seen from module, or declared in block_module when that
 * is set, "" for the root) from its block's values in configs (plan_providers), or from the
 * environment alone when there is no block. addr names what needs it, for the errors. */
static struct provider *configure_from(const struct provider_ops *ops, const struct strmap *configs,
				       const char *module, const char *block_module, const char *provider,
				       const char *addr,
				       struct diag_ctx *diag)
{
	const struct value *cfg = configs ? plan_provider_config(configs, module, block_module, provider) : NULL;

	/* an alias no longer declared, or a module's own block gone with its module: the
	 * default configuration, or the root's, would read or delete in another region or
	 * account, find nothing, and forget an object that still exists */
	if (configs && !cfg && (strchr(provider, '.') || (block_module && *block_module))) {
		plan_provider_gone(diag, addr, NULL, provider, block_module, 1);
		return NULL;
	}
	if (cfg && !val_is_known(cfg)) {
		diag_error(diag, NULL, "%s: provider %s is configured with values not known until apply, so it "
			   "cannot be read or deleted before then", addr, provider);
		diag_hint(diag, "configure the provider from variables and locals, or plan with -refresh=false");
		return NULL;
	}
	return ops->configure(cfg, diag);
}

/* The provider for an operation on addr, configured the first time from the block for name
 * ("aws", "aws.eu") that its module declares, or the nearest module calling it declares: a
 * module's own `provider aws { region = ... }` is not the root's. *block_module, when set (an
 * object only in the state: the module whose block made it, "" for the root), is where the
 * block must be; otherwise it is set to the module the block was found in (NULL: the root's),
 * for the state to record. One per block, so the key is the name for the root's (and for a
 * default configuration no module declares), else the block's address
 * ("module.net.provider.aws"). */
static struct provider *provider_for(struct applier *ap, const char *name, char **block_module,
				     struct diag_ctx *diag, const char *addr)
{
	struct provider *p = NULL;
	char base[64];
	const struct provider_ops *ops;
	struct value *config = NULL;
	struct addr a;
	struct buf key = BUF_INIT;
	const char *module;
	size_t len;
	int found = 0;

	addr_init(&a);
	module = *block_module ? *block_module : addr_parse(&a, addr, NULL) ? "" : a.module;
	for (len = strlen(module);;) {
		buf_reset(&key);
		if (len)
			buf_printf(&key, "%.*s.", (int)len, module);
		buf_printf(&key, "provider.%s", name);
		struct graph_node *n = ap->pl ? graph_find(&ap->pl->g, key.data) : NULL;
		if (n && n->state == 2)
			config = n->value;
		found = n || (ap->ao->provider_configs && strmap_get(ap->ao->provider_configs, key.data));
		if (found || !len || *block_module)
			break;
		len = addr_module_parent(module, len);
	}
	/* the root's, or another module's, would look in the wrong place (configure_from says
	 * the same for a refresh); the root's default configuration needs no block */
	if (*block_module && !found && (**block_module || strchr(name, '.'))) {
		plan_provider_gone(diag, addr, NULL, name, *block_module, 1);
		goto out;
	}
	if (!len) {
		buf_reset(&key);
		buf_addstr(&key, name);
	} else if (!*block_module) {
		*block_module = xstrndup(module, len);
	}
	if ((p = strmap_get(&ap->providers, key.data)))
		goto out;
	snprintf(base, sizeof base, "%.*s", (int)strcspn(name, "."), name);
	ops = net_provider_find(base, diag);
	if (!ops) {
		if (net_get(NULL))
			diag_error(diag, NULL, "%s: the %s provider is not part of this build yet", addr, base);
		goto out;
	}
	/* before the walk (deletions): the blocks as evaluated for the refresh */
	if (config || !ap->ao->provider_configs)
		p = ops->configure(config, diag);
	else
		p = configure_from(ops, ap->ao->provider_configs, module, *block_module, name, addr, diag);
	if (!p)
		goto out;
	p->ops = ops;
	char *owned = buf_detach(&key, NULL);
	buf_push(&ap->owned_keys, char *, owned);
	strmap_put(&ap->providers, owned, p);
out:
	addr_release(&a);
	buf_release(&key);
	return p;
}

static void say(struct applier *ap, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The live status line, redrawn in place under the log on a terminal: the log lines above it
 * are whole lines, each printed after the status line is wiped, so it never garbles them.
 * Only the main thread prints. */
static void status_draw(struct applier *ap)
{
	FILE *f = ap->ao->out;
	unsigned flight = (unsigned)ap->in_flight;
	unsigned left = ap->total > ap->finished + flight ? ap->total - ap->finished - flight : 0;

	if (!f || !ap->ao->live || ap->status_over)
		return;
	fprintf(f, "\r\033[K%s[%u done, %u in flight, %u left, %lds]%s", ap->ao->color ? "\033[2m" : "",
		ap->finished, flight, left, (long)(time(NULL) - ap->t0), ap->ao->color ? "\033[0m" : "");
	fflush(f);
	ap->status_shown = 1;
}

static void status_clear(struct applier *ap)
{
	if (ap->ao->out && ap->status_shown) {
		fputs("\r\033[K", ap->ao->out);
		fflush(ap->ao->out);
		ap->status_shown = 0;
	}
}

static void say(struct applier *ap, const char *fmt, ...)
{
	struct buf line = BUF_INIT;
	va_list va;

	if (!ap->ao->out)
		return;
	status_clear(ap);
	va_start(va, fmt);
	buf_vprintf(&line, fmt, va);
	va_end(va);
	/* a provider's progress (a build step's output) may echo a sensitive value */
	diag_redact(&line);
	fwrite(line.data, 1, line.len, ap->ao->out);
	buf_release(&line);
	fputc('\n', ap->ao->out);
	fflush(ap->ao->out);
	status_draw(ap);
}

/* A failed write fails the run (the state no longer says what exists); it is said once, as
 * every later write fails alike (a stale state stays stale). */
static int state_save(struct applier *ap)
{
	struct diag_ctx quiet;
	int r;

	if (!ap->save_failed)
		return (ap->save_failed = state_write(ap->ao->state_path, ap->st, ap->diag) != 0) ? -1 : 0;
	diag_init(&quiet);
	r = state_write(ap->ao->state_path, ap->st, &quiet);
	diag_release(&quiet);
	return r;
}

/* The known arguments of a planned object: what an intent records, so that the next run can
 * look for the object by name where the API has no tags to search (RDS, ECR). */
static struct value *known_part(const struct value *planned)
{
	struct buf pairs = BUF_INIT;

	if (!planned || planned->kind != VAL_MAP)
		return val_empty_map();
	for (size_t i = 0; i < planned->u.map.n; i++) {
		const struct val_pair *pr = &planned->u.map.items[i];
		if (!val_is_known(pr->val) || pr->val->kind == VAL_NULL)
			continue;
		buf_push(&pairs, struct val_pair, ((struct val_pair){ xstrdup(pr->key), val_ref(pr->val) }));
	}
	struct value *v = val_map_take((struct val_pair *)pairs.data, buf_count(&pairs, struct val_pair));
	buf_release(&pairs);
	return v;
}

/* Before a create, the intent goes into the state under a fresh token, and the state is
 * written before the call is made: if stk is killed while the call is in flight, the next run
 * finds the object by its token tag. This adds the intent; the caller writes the state, once
 * for all the creates it starts together (one write per create made an apply of N creates
 * write the whole state N times: quadratic, and every write an fsync). */
static int add_intent(struct applier *ap, struct op *op)
{
	struct addr a;
	struct buf why = BUF_INIT;
	struct state_instance *in;

	addr_init(&a);
	if (addr_parse(&a, op->addr, &why)) {
		buf_release(&why);
		return -1;
	}
	buf_release(&why);
	/* An instance already there is a create_before_destroy replacement's old object: it stays
	 * the current one until the new one is made (record deposes it then). The new one's token
	 * goes on the instance instead, written before the call like any intent, so that a run
	 * killed during the create has the next one find and adopt what it made, and destroy the
	 * old object, where nothing recorded it before. */
	in = state_find_instance(ap->st, &a);
	if (in && in->status != STATE_PENDING) {
		addr_release(&a);
		op->token[0] = '\0';
		if (!op->deposes)
			return 0;
		if (uuid_v4(op->token))
			return -1;
		state_instance_set_token(in, op->token);
		return 0;
	}
	/* A pending one is an intent of an earlier run whose object was not found
	 * (apply_resolve_intents keeps it): this create retries it under the same token. An
	 * object the earlier attempt made after all, later than that lookup (a daemon that
	 * finished a create after stk was gone), then carries this create's token: the provider
	 * or the next run finds it by that token, where a new token left it orphaned. */
	if (in && in->token && strlen(in->token) < sizeof op->token) {
		memcpy(op->token, in->token, strlen(in->token) + 1);
	} else if (uuid_v4(op->token)) {
		addr_release(&a);
		return -1;
	}
	in = state_add_instance(ap->st, &a, op->provider);
	/* the block it is made through, for a refresh and a destroy once it is gone */
	state_resource_set_provider_module(state_find_resource(ap->st, &a), op->provider_module);
	addr_release(&a);
	in->status = STATE_PENDING;
	state_instance_set_token(in, op->token);
	struct value *known = known_part(op->planned);
	state_instance_set_attrs(in, known);
	val_unref(known);
	return 0;
}

static void intent_failed(struct op *op)
{
	diag_error(&op->diag, NULL, "cannot record the intent to create it in the state");
	op->rc = -1;
	op->done = 1;
}

/* The first half of starting an operation: its provider and, for a create, its intent (in
 * memory; *intents counts them so the caller knows to write the state). Returns -1 with the
 * operation failed. */
static int op_prepare(struct applier *ap, struct op *op, int *intents)
{
	op->prov = provider_for(ap, op->provider, &op->provider_module, &op->diag, op->addr);
	op->started = 1;
	op->t0 = time(NULL);
	if (!op->prov) {
		op->rc = -1;
		op->done = 1;
		return -1;
	}
	if (op->kind == OP_CREATE && !op->data) {
		if (add_intent(ap, op)) {
			intent_failed(op);
			return -1;
		}
		if (op->token[0])
			(*intents)++;
	}
	return 0;
}

/* The second half: hands the operation to the workers. */
static void op_queue(struct applier *ap, struct op *op)
{
	/* "aws.vpc.main (deposed object 1a2b3c4d): Destroying...": a create_before_destroy
	 * delete has its key only once its replacement is made, before it is queued */
	if (!op->label)
		op->label = op->deposed[0] ? xasprintf("%s (deposed object %s)", op->addr, op->deposed) :
			    xstrdup(op->addr);
	say(ap, "%s: %s...", op->label, verb(op->kind, 0));
	pthread_mutex_lock(&ap->mu);
	op->next = ap->work;
	ap->work = op;
	ap->in_flight++;
	pthread_cond_signal(&ap->work_cv);
	pthread_mutex_unlock(&ap->mu);
	status_draw(ap);
}

static int dispatch(struct applier *ap, struct op *op)
{
	int intents = 0;

	if (op_prepare(ap, op, &intents))
		return -1;
	if (intents && state_save(ap)) {
		intent_failed(op);
		return -1;
	}
	op_queue(ap, op);
	return 0;
}

/* Prints the providers' queued progress lines; called with mu held, which it drops while it
 * prints. */
static void say_progress(struct applier *ap)
{
	struct buf lines = ap->progress;

	if (!buf_count(&lines, char *))
		return;
	buf_init(&ap->progress);
	pthread_mutex_unlock(&ap->mu);
	for (size_t i = 0; i < buf_count(&lines, char *); i++) {
		say(ap, "%s", buf_at(&lines, char *, i));
		free(buf_at(&lines, char *, i));
	}
	buf_release(&lines);
	pthread_mutex_lock(&ap->mu);
}

/* Waits for one operation to finish (printing "Still creating..." for long ones); returns it,
 * or NULL when nothing is in flight. */
static struct op *wait_one(struct applier *ap, struct buf *running)
{
	struct op *op = NULL;
	int every = ap->ao->progress_every > 0 ? ap->ao->progress_every : 10;

	pthread_mutex_lock(&ap->mu);
	say_progress(ap);   /* before the end of the operation that said it */
	while (!ap->done && ap->in_flight) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&ap->done_cv, &ap->mu, &ts);
		say_progress(ap);
		if (ap->done)
			break;
		status_draw(ap);   /* the seconds move on */
		/* progress for the long ones, from this thread so lines never interleave */
		time_t now = time(NULL);
		for (size_t i = 0; i < buf_count(running, struct op *); i++) {
			struct op *r = buf_at(running, struct op *, i);
			int secs = (int)(now - r->t0);
			if (r->done || secs < every || secs / every == r->last_report)
				continue;
			r->last_report = secs / every;
			pthread_mutex_unlock(&ap->mu);
			say(ap, "%s: Still %s... [%ds elapsed]", r->label,
			    r->kind == OP_CREATE ? "creating" : r->kind == OP_UPDATE ? "modifying" :
			    r->kind == OP_DELETE ? "destroying" : "reading", secs);
			pthread_mutex_lock(&ap->mu);
		}
	}
	if (ap->done) {
		op = ap->done;
		ap->done = op->next;
		ap->in_flight--;
		op->done = 1;
	}
	pthread_mutex_unlock(&ap->mu);
	return op;
}

/* ---- the state ---- */

/* What the plan knew to be sensitive stays so: providers return plain values, and the state
 * must keep the marks (sensitive_attributes), or the next plan would print the secret. */
static struct value *carry_marks(struct value *result, const struct value *planned)
{
	struct buf pairs = BUF_INIT;
	struct value *r;

	if (!planned || result->kind != VAL_MAP || planned->kind != VAL_MAP)
		return val_ref(result);
	for (size_t i = 0; i < result->u.map.n; i++) {
		struct value *v = result->u.map.items[i].val;
		const struct value *p = val_map_get(planned, result->u.map.items[i].key);
		struct val_pair pr = { xstrdup(result->u.map.items[i].key),
				       p && val_is_sensitive(p) ? val_mark(v, VAL_SENSITIVE) : val_ref(v) };
		buf_push(&pairs, struct val_pair, pr);
	}
	r = val_map_take((struct val_pair *)(void *)pairs.data, buf_count(&pairs, struct val_pair));
	buf_release(&pairs);
	return r;
}

/* A provider's diagnostics (from its own context, on a worker) into to, under the address. */
static void diags_under(struct diag_ctx *to, const struct diag_ctx *from, const char *addr)
{
	size_t al = strlen(addr);

	for (size_t i = 0; i < buf_count(&from->diags, struct diag); i++) {
		const struct diag *d = &buf_at(&from->diags, struct diag, i);
		const char *m = d->message;
		size_t pl = strcspn(m, ":");
		/* providers usually start with the address already, or with the part of it they
		 * know: a data source's read is given its type (data.aws.ami), not its name */
		if (m[pl] == ':' && pl <= al && memchr(m, '.', pl) && !strncmp(m, addr, pl) &&
		    (addr[pl] == '\0' || addr[pl] == '.'))
			m += pl + (m[pl + 1] == ' ' ? 2 : 1);
		diag_add(to, d->severity, d->span.src ? &d->span : NULL, "%s: %s", addr, m);
		if (d->hint)
			diag_hint(to, "%s", d->hint);
	}
}

/* The state's instance at a, made if need be, with attrs and deps (char *). */
static struct state_instance *state_put(struct state *st, const struct addr *a, const char *provider,
					struct value *attrs, const struct buf *deps)
{
	struct state_instance *in = state_add_instance(st, a, provider);

	state_instance_set_attrs(in, attrs);
	state_instance_clear_deps(in);
	for (size_t i = 0; i < buf_count(deps, char *); i++)
		state_instance_add_dep(in, buf_at(deps, char *, i));
	return in;
}

/* The current object at a is gone: the instance goes from the state, unless it still has
 * deposed objects, one of which then takes its place (state_instance_promote_deposed) so
 * that they stay recorded. */
static void forget_current(struct state *st, const struct addr *a)
{
	struct state_instance *in = state_find_instance(st, a);

	if (in && state_instance_promote_deposed(in))
		state_remove_instance(st, a);
}

/* A delete that succeeded: the object goes from the state. A deposed one is found by its
 * key; if the current object went in the same apply, that one had taken its place, and is
 * known by its id. */
static void forget(struct state *st, const struct addr *a, const struct op *op)
{
	struct state_instance *in = state_find_instance(st, a);

	if (!in)
		return;
	if (op->deposed[0]) {
		const struct value *id = val_map_get(in->attrs, "id"), *gone = op->prior ? val_map_get(op->prior, "id") : NULL;
		if (state_instance_remove_deposed(in, op->deposed) == 0 || in->status != STATE_TAINTED ||
		    !id || !gone || !val_equal(id, gone))
			return;
	}
	forget_current(st, a);
}

/* in's current object becomes deposed under a new key, copied to key. */
static int depose_current(struct state_instance *in, char key[9])
{
	char uuid[UUID_STR_SIZE];

	if (in->status == STATE_PENDING)
		return -1;
	/* 8 random hex digits, as Terraform's keys; another try in the unlikely case of a clash */
	for (int tries = 0; tries < 4; tries++) {
		if (uuid_v4(uuid))
			return -1;
		uuid[8] = '\0';
		if (state_instance_depose(in, uuid)) {
			memcpy(key, uuid, 9);
			return 0;
		}
	}
	return -1;
}

/* Before a create_before_destroy create's object is recorded at a: the object there now
 * becomes deposed, under a new key that del (the delete of that object) is given. */
static int depose(struct applier *ap, const struct addr *a, struct op *del)
{
	struct state_instance *in = state_find_instance(ap->st, a);

	return in ? depose_current(in, del->deposed) : -1;
}

/* Records a finished operation in the state and writes it. */
static void record(struct applier *ap, struct op *op)
{
	struct addr a;
	struct buf why = BUF_INIT;
	int secs = (int)(time(NULL) - op->t0);

	ap->finished++;
	diags_under(ap->diag, &op->diag, op->addr);
	addr_init(&a);
	if (addr_parse(&a, op->addr, &why)) {
		diag_error(ap->diag, NULL, "%s: cannot record it in the state: %s", op->addr, buf_cstr(&why));
		buf_release(&why);
		return;
	}
	buf_release(&why);
	if (op->rc == 0) {
		const struct value *id = op->result ? val_map_get(op->result, "id") : NULL;
		struct buf idtext = BUF_INIT;
		if (id && id->kind == VAL_STRING && !(id->marks & VAL_SENSITIVE))
			buf_printf(&idtext, " [id=%s]", id->u.str.s);
		say(ap, "%s: %s complete after %ds%s", op->label ? op->label : op->addr, verb(op->kind, 1), secs,
		    buf_cstr(&idtext));
		buf_release(&idtext);
	} else {
		say(ap, "%s: %s failed after %ds", op->label ? op->label : op->addr, verb(op->kind, 0), secs);
		ap->res->failed++;
	}
	if (op->kind == OP_DELETE) {
		if (op->rc == 0) {
			forget(ap->st, &a, op);
			ap->res->destroyed++;
		} else if (op->deposed[0]) {
			diag_note(ap->diag, NULL, "%s: the old object (deposed object %s) stays in the state, and the "
				  "next apply destroys it", op->addr, op->deposed);
		}
	} else if (op->kind == OP_CREATE && !op->result && op->token[0] && op->deposes) {
		/* a create_before_destroy replacement's call failed: the old object is still the
		 * current one; its token stays for the next run to look for what the call may have
		 * made, when the provider can look. Not rolled back: the old object is not this
		 * run's. */
		struct state_instance *in = state_find_instance(ap->st, &a);
		if (in && (!op->prov || !op->prov->ops->find_by_token))
			state_instance_set_token(in, NULL);
	} else if (op->kind == OP_CREATE && !op->result && op->token[0]) {
		/* the call failed: whether an object was made is for the next run to find out, by
		 * its token, when the provider can look; otherwise the intent goes */
		if (!op->prov || !op->prov->ops->find_by_token) {
			struct state_instance *in = state_find_instance(ap->st, &a);
			if (in && in->status == STATE_PENDING)
				state_remove_instance(ap->st, &a);
		} else {
			buf_push(&ap->created, char *, xstrdup(op->addr));   /* maybe made: rollback looks */
		}
	} else if (op->result) {
		struct value *marked = carry_marks(op->result, op->planned);
		struct state_instance *in;
		/* the object a create_before_destroy create replaces stays recorded, deposed, in
		 * the same write as the new one: no moment leaves it out of the state */
		if (op->deposes && depose(ap, &a, op->deposes)) {
			diag_error(ap->diag, NULL, "%s: cannot record the old object as deposed; it is not destroyed",
				   op->addr);
			if (!op->rc)
				ap->res->failed++;
			op->rc = -1;
		}
		if (op->deposes && op->rc)
			op->deposes->kept = 1;   /* destroyed by a later plan, once the new one is right */
		in = state_put(ap->st, &a, op->provider, marked, &op->deps);
		if (!op->data)
			state_resource_set_provider_module(state_find_resource(ap->st, &a), op->provider_module);
		val_unref(marked);
		/* an object made but not right is kept, to be replaced by the next apply */
		in->status = op->rc == 0 ? STATE_READY : STATE_TAINTED;
		if (op->kind == OP_CREATE && !op->data)
			buf_push(&ap->created, char *, xstrdup(op->addr));
		state_instance_set_token(in, NULL);
		if (op->rc == 0) {
			if (op->kind == OP_CREATE)
				ap->res->added++;
			else if (op->kind == OP_UPDATE)
				ap->res->changed++;
			else
				ap->res->read++;
		}
	}
	addr_release(&a);
	ap->dirty = 1;
}

/* Writes the state if it changed: after every batch of operations that finished together, so a
 * burst of completions costs one write, and no completed operation goes unrecorded. */
static void flush(struct applier *ap)
{
	if (!ap->dirty)
		return;
	ap->dirty = 0;
	state_save(ap);
}

/* A finished operation, if one is waiting (never blocks). */
static struct op *try_one(struct applier *ap)
{
	struct op *op = NULL;

	pthread_mutex_lock(&ap->mu);
	say_progress(ap);
	if (ap->done) {
		op = ap->done;
		ap->done = op->next;
		ap->in_flight--;
		op->done = 1;
	}
	pthread_mutex_unlock(&ap->mu);
	return op;
}

/* Drops the intents apply_resolve_intents looked for, did not find and kept for a retry
 * under their token (add_intent), where this plan does not create the instance again:
 * nothing will carry their token, as before they were kept. */
static void drop_unretried_intents(struct applier *ap, const struct plan *plan)
{
	struct buf drop = BUF_INIT;

	for (size_t i = 0; i < ap->st->nresources; i++) {
		struct state_resource *r = ap->st->resources[i];
		for (size_t k = 0; k < r->ninstances; k++) {
			struct buf text = BUF_INIT;
			struct addr a;
			int retried = 0;
			if (r->instances[k]->status != STATE_PENDING)
				continue;
			state_instance_address(r, r->instances[k], &text);
			for (size_t c = 0; c < buf_count(&plan->changes, struct plan_change *) && !retried; c++) {
				const struct plan_change *pc = buf_at(&plan->changes, struct plan_change *, c);
				retried = pc->action == PLAN_CREATE && !strcmp(pc->addr, text.data);
			}
			buf_release(&text);
			if (retried)
				continue;
			addr_init(&a);
			state_resource_addr(r, &a);
			a.key = r->instances[k]->key ? val_ref(r->instances[k]->key) : NULL;
			buf_push(&drop, struct addr, a);
		}
	}
	for (size_t i = 0; i < buf_count(&drop, struct addr); i++) {
		state_remove_instance(ap->st, &buf_at(&drop, struct addr, i));
		addr_release(&buf_at(&drop, struct addr, i));
		ap->dirty = 1;
	}
	buf_release(&drop);
}

/* ---- rollback ---- */

static int run_deletes(struct applier *ap, struct buf *ops);

/* An intent's object, found: the instance becomes it (found is taken), the intent done. */
static void adopt(struct state_instance *in, struct value *found)
{
	struct value *marked = carry_marks(found, in->attrs);

	state_instance_set_attrs(in, marked);
	val_unref(marked);
	val_unref(found);
	in->status = STATE_READY;
	state_instance_set_token(in, NULL);
}

/* A failed create of this run that may have made its object: looked for by its token.
 * Returns 1 when found (the instance is then ready, with the object's attributes), 0 when
 * not (the intent is dropped: token cleared), -1 when the provider could not tell. */
static int resolve_intent(struct applier *ap, struct state_resource *r, struct state_instance *in,
			  const char *addr)
{
	char *module = xstrdup(ROOT_IF_NULL(r->provider_module));
	struct provider *p = provider_for(ap, r->provider, &module, ap->diag, addr);
	const char *dot = strchr(r->type, '.');
	struct value *found = NULL;
	int rc, ret = -1;

	if (!p || !p->ops->find_by_token || !in->token)
		goto out;
	if ((rc = p->ops->find_by_token(p, dot ? dot + 1 : r->type, in->token, in->attrs, &found, ap->diag)) < 0)
		goto out;
	ret = 0;
	if (!found) {
		state_instance_set_token(in, NULL);
		goto out;
	}
	adopt(in, found);
	if (rc == 1)
		in->status = STATE_TAINTED;
	ret = 1;
out:
	free(module);
	return ret;
}

/* Destroys what this run created, dependents first as run_deletes orders them by the state's
 * dependencies: CloudFormation's rollback, client-side. Failed creates that may have made
 * their object are looked for by token first. */
static void rollback(struct applier *ap)
{
	struct buf ops = BUF_INIT;

	for (size_t i = buf_count(&ap->created, char *); i > 0; i--) {
		const char *addr = buf_at(&ap->created, char *, i - 1);
		struct addr a;
		struct buf why = BUF_INIT;
		struct state_resource *r;
		struct state_instance *in;

		addr_init(&a);
		if (addr_parse(&a, addr, &why) || !(r = state_find_resource(ap->st, &a)) ||
		    !(in = state_find_instance(ap->st, &a))) {
			addr_release(&a);
			buf_release(&why);
			continue;
		}
		buf_release(&why);
		if (in->status == STATE_PENDING && resolve_intent(ap, r, in, addr) != 1) {
			/* not made (the intent goes), or not known: either way nothing to destroy now */
			if (in->status == STATE_PENDING && !in->token)
				state_remove_instance(ap->st, &a);
			addr_release(&a);
			continue;
		}
		/* what a delete needs of a change: where, what, through which provider, after what */
		struct plan_change c;
		memset(&c, 0, sizeof c);
		c.addr = (char *)addr;
		c.type = r->type;
		c.provider = r->provider;
		c.provider_module = (char *)ROOT_IF_NULL(r->provider_module);
		c.schema = schema_type_find(r->type, 0);
		for (size_t k = 0; k < in->ndeps; k++)
			buf_push(&c.deps, char *, in->deps[k]);
		buf_push(&ops, struct op *, op_new(OP_DELETE, &c, in->attrs, NULL));
		buf_release(&c.deps);
		addr_release(&a);
	}
	if (buf_count(&ops, struct op *)) {
		unsigned before = ap->res->destroyed;
		ap->total += (unsigned)buf_count(&ops, struct op *);
		say(ap, "\nRolling back: destroying the %zu object%s this run created.", buf_count(&ops, struct op *),
		    buf_count(&ops, struct op *) == 1 ? "" : "s");
		run_deletes(ap, &ops);
		ap->res->rolled_back = ap->res->destroyed - before;
		ap->res->destroyed = before;
		for (size_t i = 0; i < buf_count(&ops, struct op *); i++) {
			struct op *op = buf_at(&ops, struct op *, i);
			if (op->rc)
				say(ap, "%s: not rolled back; it stays in the state", op->addr);
		}
	}
	state_save(ap);
	for (size_t i = 0; i < buf_count(&ops, struct op *); i++)
		op_free(buf_at(&ops, struct op *, i));
	buf_release(&ops);
}

/* ---- phases one and three: destroys, dependents first ---- */

static int run_deletes(struct applier *ap, struct buf *ops)
{
	size_t n = buf_count(ops, struct op *);
	struct buf running = BUF_INIT;
	size_t finished = 0;
	int failed = 0;

	/* a destroy waits for the destroys of everything that depends on its object */
	for (size_t i = 0; i < n; i++) {
		struct op *a = buf_at(ops, struct op *, i);
		const char *res_a = a->addr;
		size_t la = strcspn(res_a, "[");
		for (size_t j = 0; j < n; j++) {
			struct op *b = buf_at(ops, struct op *, j);
			for (size_t k = 0; k < buf_count(&b->deps, char *); k++) {
				const char *d = buf_at(&b->deps, char *, k);
				if (strlen(d) == la && !strncmp(d, res_a, la) && a != b) {
					buf_push(&a->waits, struct op *, b);
					break;
				}
			}
		}
	}
	while (finished < n) {
		int progressed = 0;
		for (size_t i = 0; i < n && !apply_interrupted; i++) {
			struct op *a = buf_at(ops, struct op *, i);
			int ready = !a->started;
			for (size_t k = 0; ready && k < buf_count(&a->waits, struct op *); k++) {
				struct op *w = buf_at(&a->waits, struct op *, k);
				if (!w->done)
					ready = 0;
				else if (w->rc) {
					/* what stands on it is still there: it cannot go */
					a->started = a->done = 1;
					a->rc = -1;
					diag_error(ap->diag, NULL, "%s: not destroyed, because %s could not be", a->addr,
						   w->addr);
					finished++;
					failed = 1;
					ready = 0;
				}
			}
			if (!ready)
				continue;
			progressed = 1;
			if (dispatch(ap, a)) {
				record(ap, a);
				flush(ap);
				finished++;
				failed = 1;
				continue;
			}
			buf_push(&running, struct op *, a);
		}
		struct op *d = wait_one(ap, &running);
		if (!d) {
			if (!progressed) {
				/* interrupted, or nothing left that can start */
				for (size_t i = 0; i < n; i++)
					if (!buf_at(ops, struct op *, i)->started)
						finished++, buf_at(ops, struct op *, i)->started = 1;
			}
			continue;
		}
		do {
			record(ap, d);
			if (d->rc)
				failed = 1;
			finished++;
		} while ((d = try_one(ap)) != NULL);
		flush(ap);
	}
	flush(ap);
	buf_release(&running);
	return failed ? -1 : 0;
}

/* ---- phase two: the graph walk ---- */

struct node_ops {
	struct buf ops;             /* struct op * */
	size_t pending;
	int failed;
};

static void refresh_priors(struct applier *ap, struct plan_prior **priors, size_t *n)
{
	apply_free_priors(*priors, *n);
	*priors = apply_priors(ap->st, n);
	planner_set_priors(ap->pl, *priors, *n);
}

/* -replace names objects that exist before the apply; once this run has made the new one,
 * the flag is spent: the replan that follows must see that object as it is (its id), not plan
 * it anew (an unknown id, which the dependents would then be created with). */
static void replace_spent(struct planner *pl, const char *addr)
{
	if (strmap_get(&pl->replace, addr))
		strmap_set(&pl->replace, addr, NULL);
}

/* Apply plans each node again (walk's read_data): a data source the plan read keeps what it
 * read (apply_record_reads put it in the state), with no second call; one the plan left for
 * apply is read then, by the workers. arg: instance address -> the plan's change. */
static int walk_read_data(void *arg, const struct plan_read *rq, struct value **result, struct diag_ctx *diag)
{
	const struct plan_change *pc = strmap_get(arg, rq->addr);

	(void)diag;
	if (!pc || !pc->data || pc->action != PLAN_NOOP || !pc->after)
		return 1;
	*result = val_ref(pc->after);
	return 0;
}

static int walk(struct applier *ap, const struct config_module *root, const struct plan_opts *opts,
		const struct plan *plan, struct buf *deposed)
{
	struct planner pl;
	struct plan scratch;
	struct plan_prior *priors;
	size_t nprior, nnodes, done_nodes = 0;
	struct node_ops *no = NULL;
	struct buf running = BUF_INIT;
	struct buf batch = BUF_INIT;    /* struct op *: prepared this round, not yet queued */
	int failed = 0, intents = 0;
	/* with -target, the plan holds only what was targeted (and what that needs): the replan
	 * of anything else is not to be applied. planned: instance address -> its change;
	 * done: resource address -> what this run did to it ("replaced"), for the warning */
	int targeting = opts->targets && opts->targets[0];
	struct strmap planned, done;
	struct plan_opts wopts = *opts;

	strmap_init(&planned);
	strmap_init(&done);
	for (size_t i = 0; i < buf_count(&plan->changes, struct plan_change *); i++) {
		const struct plan_change *c = buf_at(&plan->changes, struct plan_change *, i);
		/* a deposed object's destroy is phase three's, not the walk's */
		if (c->deposed)
			continue;
		strmap_put(&planned, c->addr, (void *)c);
		if (c->action != PLAN_NOOP && c->action != PLAN_READ)
			strmap_put(&done, c->resource, (void *)(c->action == PLAN_REPLACE ? "replaced" :
						c->action == PLAN_CREATE ? "created" :
						c->action == PLAN_DELETE ? "destroyed" : "updated"));
	}
	wopts.deposed = NULL;
	wopts.ndeposed = 0;
	if (opts->read_data) {
		wopts.read_data = walk_read_data;
		wopts.read_data_arg = &planned;
	}
	plan_init(&scratch);
	priors = apply_priors(ap->st, &nprior);
	if (planner_setup(&pl, ap->diag, root, priors, nprior, &wopts, &scratch)) {
		failed = 1;
		goto out;
	}
	/* a replacement the plan decided on stays one, though the replan may no longer see why:
	 * replace_triggered_by's resource has been updated by then, and its latest change is
	 * none. Spent, as -replace is, once the new object is made (phase one has destroyed the
	 * old one already, unless create_before_destroy keeps it) */
	for (size_t i = 0; i < buf_count(&plan->changes, struct plan_change *); i++) {
		const struct plan_change *c = buf_at(&plan->changes, struct plan_change *, i);
		if (c->action == PLAN_REPLACE)
			strmap_put(&pl.replace, c->addr, (void *)1);
	}
	ap->pl = &pl;
	nnodes = graph_count(&pl.g);
	no = xcalloc(nnodes + 1, sizeof *no);
	while (done_nodes < nnodes) {
		int progressed = 0;
		for (size_t oi = 0; oi < nnodes; oi++) {
			size_t idx = pl.g.order[oi];
			struct graph_node *n = graph_node(&pl.g, idx);
			int deps;
			if (n->state != 0)
				continue;
			deps = planner_deps_done(&pl, n);
			if (deps == 0)
				continue;
			progressed = 1;
			if (deps < 0 || (apply_interrupted && (n->kind == GN_RESOURCE || n->kind == GN_DATA))) {
				n->state = 3;   /* skipped: a dependency failed, or we were told to stop */
				done_nodes++;
				continue;
			}
			size_t k0 = buf_count(&scratch.changes, struct plan_change *);
			n->state = 1;
			struct value *v = planner_node(&pl, n);
			if (!v) {
				n->state = 3;
				done_nodes++;
				failed = 1;
				continue;
			}
			int left_out = 0;
			for (size_t k = k0; k < buf_count(&scratch.changes, struct plan_change *); k++) {
				struct plan_change *c = buf_at(&scratch.changes, struct plan_change *, k);
				struct op *op = NULL;
				if (targeting && c->action != PLAN_NOOP && !strmap_get(&planned, c->addr)) {
					/* not targeted: left as it is, though what it uses may have moved
					 * on; Terraform's -target does the same, and says so */
					const char *dep = NULL, *how = NULL;
					for (size_t d = 0; !how && d < buf_count(&c->deps, char *); d++)
						how = strmap_get(&done, dep = buf_at(&c->deps, char *, d));
					if (how)
						diag_warning(ap->diag, NULL, "%s depends on %s, which was %s; it was not "
							     "targeted, so it is out of date: run stk plan", c->addr, dep, how);
					left_out = 1;
					continue;
				}
				switch (c->action) {
				case PLAN_CREATE:
					op = op_new(OP_CREATE, c, NULL, c->after);
					break;
				case PLAN_UPDATE:
					op = op_new(OP_UPDATE, c, c->before, c->after);
					break;
				case PLAN_READ:
					op = op_new(OP_READ, c, NULL, c->after);
					break;
				case PLAN_REPLACE:
					/* without create_before_destroy, phase one destroyed it: still here
					 * means that destroy failed, and nothing is created in its place */
					if (!c->create_before_destroy) {
						const struct plan_change *pc = strmap_get(&planned, c->addr);
						no[idx].failed = 1;
						/* a failed destroy was reported as it failed; a replacement
						 * the plan did not have was not, and must be */
						if (!pc || pc->action != PLAN_REPLACE) {
							diag_error(ap->diag, NULL, "%s: planned again with what is known now, it "
								   "must be replaced, which the plan did not say; it was left as "
								   "it is", c->addr);
							diag_hint(ap->diag, "run stk plan, then apply again");
						}
						break;
					}
					/* create_before_destroy: the old object waits for phase three */
					op = op_new(OP_CREATE, c, NULL, c->after);
					op->deposes = op_new(OP_DELETE, c, c->before, NULL);
					buf_push(deposed, struct op *, op->deposes);
					break;
				default:
					break;
				}
				if (!op)
					continue;
				op->node = n;
				buf_push(&no[idx].ops, struct op *, op);
			}
			if (no[idx].failed) {
				val_unref(v);
				n->state = 3;
				done_nodes++;
				failed = 1;
				continue;
			}
			if (left_out && !buf_count(&no[idx].ops, struct op *)) {
				/* its value is not what exists: nothing (an output) takes it up */
				val_unref(v);
				n->state = 3;
				done_nodes++;
				continue;
			}
			if (!buf_count(&no[idx].ops, struct op *)) {
				n->value = v;
				n->state = 2;
				done_nodes++;
				continue;
			}
			val_unref(v);
			for (size_t k = 0; k < buf_count(&no[idx].ops, struct op *); k++) {
				struct op *op = buf_at(&no[idx].ops, struct op *, k);
				if (op_prepare(ap, op, &intents)) {
					record(ap, op);
					flush(ap);
					no[idx].failed = 1;
					continue;
				}
				no[idx].pending++;
				buf_push(&batch, struct op *, op);
			}
			if (!no[idx].pending) {
				n->state = 3;
				done_nodes++;
				failed = 1;
			}
		}
		/* everything ready in this round starts together: its intents written at once,
		 * before any of the calls */
		if (buf_count(&batch, struct op *)) {
			int lost = intents && state_save(ap);
			for (size_t k = 0; k < buf_count(&batch, struct op *); k++) {
				struct op *op = buf_at(&batch, struct op *, k);
				if (!lost) {
					op_queue(ap, op);
					buf_push(&running, struct op *, op);
					continue;
				}
				intent_failed(op);
				record(ap, op);
				size_t idx = (size_t)((uintptr_t)strmap_get(&pl.g.by_addr, op->node->addr) - 1);
				no[idx].failed = 1;
				if (!--no[idx].pending) {
					op->node->state = 3;
					done_nodes++;
					failed = 1;
				}
			}
			if (lost)
				flush(ap);
			buf_reset(&batch);
			intents = 0;
		}
		struct op *d = wait_one(ap, &running);
		if (!d) {
			if (!progressed)
				break;   /* nothing in flight and nothing ready: all that can run, ran */
			continue;
		}
		for (; d; d = try_one(ap)) {
			record(ap, d);
			size_t idx = (size_t)((uintptr_t)strmap_get(&pl.g.by_addr, d->node->addr) - 1);
			if (d->rc)
				no[idx].failed = 1;
			if (--no[idx].pending)
				continue;
			/* the node's objects are real now: plan it again to see their values */
			if (no[idx].failed) {
				d->node->state = 3;
				failed = 1;
			} else {
				for (size_t k = 0; k < buf_count(&no[idx].ops, struct op *); k++)
					replace_spent(&pl, buf_at(&no[idx].ops, struct op *, k)->addr);
				refresh_priors(ap, &priors, &nprior);
				d->node->value = planner_node(&pl, d->node);
				d->node->state = d->node->value ? 2 : 3;
			}
			done_nodes++;
		}
		flush(ap);
	}
	if (done_nodes < nnodes && !apply_interrupted)
		failed = 1;
	/* root outputs go into the state */
	if (!apply_interrupted) {
		for (size_t i = 0; i < nnodes; i++) {
			struct graph_node *n = graph_node(&pl.g, i);
			if (n->kind != GN_OUTPUT || *n->mod->path || n->state != 2)
				continue;
			if (!val_is_known(n->value))
				continue;
			state_set_output(ap->st, n->name, n->value, val_is_sensitive(n->value));
		}
		for (size_t i = ap->st->noutputs; i > 0; i--) {
			char *addr = xasprintf("output.%s", ap->st->outputs[i - 1].name);
			if (!graph_find(&pl.g, addr))
				state_remove_output(ap->st, ap->st->outputs[i - 1].name);
			free(addr);
		}
		state_save(ap);
	}
out:
	for (size_t i = 0; no && i < nnodes; i++) {
		for (size_t k = 0; k < buf_count(&no[i].ops, struct op *); k++)
			op_free(buf_at(&no[i].ops, struct op *, k));
		buf_release(&no[i].ops);
	}
	free(no);
	strmap_release(&planned);
	strmap_release(&done);
	buf_release(&running);
	buf_release(&batch);
	ap->pl = NULL;
	planner_teardown(&pl);
	plan_release(&scratch);
	apply_free_priors(priors, nprior);
	return failed ? -1 : 0;
}

static void state_follow_move(struct state *st, const struct plan_change *c)
{
	struct addr from, to;

	if (!c->moved_from)
		return;
	addr_init(&from);
	addr_init(&to);
	if (!addr_parse(&from, c->moved_from, NULL) && !addr_parse(&to, c->addr, NULL))
		state_move_instance(st, &from, &to);
	addr_release(&from);
	addr_release(&to);
}

/* Does the destroy of a deposed object (c) belong to phase one? It waits for phase three,
 * where the walk may first have moved its dependents off it, unless something it stands on
 * is destroyed in phase one (as everything is by a destroy plan): it must go before that. */
static int deposed_goes_first(const struct plan *plan, const struct plan_change *c)
{
	for (size_t i = 0; i < buf_count(&plan->changes, struct plan_change *); i++) {
		const struct plan_change *d = buf_at(&plan->changes, struct plan_change *, i);
		if (d->deposed || !(d->action == PLAN_DELETE || (d->action == PLAN_REPLACE && !d->create_before_destroy)))
			continue;
		for (size_t k = 0; k < buf_count(&c->deps, char *); k++)
			if (!strcmp(buf_at(&c->deps, char *, k), d->resource))
				return 1;
	}
	return 0;
}

int apply_run(struct diag_ctx *diag, const struct config_module *root, struct state *st,
	      const struct plan *plan, const struct plan_opts *opts, const struct apply_opts *ao,
	      struct apply_result *res)
{
	struct applier ap;
	struct buf deletes = BUF_INIT, deposed = BUF_INIT, third = BUF_INIT;
	int failed = 0;
	unsigned errors0 = diag->errors;

	memset(&ap, 0, sizeof ap);
	memset(res, 0, sizeof *res);
	ap.diag = diag;
	ap.st = st;
	ap.ao = ao;
	ap.res = res;
	pthread_mutex_init(&ap.mu, NULL);
	pthread_cond_init(&ap.work_cv, NULL);
	pthread_cond_init(&ap.done_cv, NULL);
	strmap_init(&ap.providers);
	ap.t0 = time(NULL);
	for (size_t i = 0; i < buf_count(&plan->changes, struct plan_change *); i++) {
		enum plan_action act = buf_at(&plan->changes, struct plan_change *, i)->action;
		ap.total += act == PLAN_NOOP ? 0 : act == PLAN_REPLACE ? 2 : 1;
	}
	drop_unretried_intents(&ap, plan);
	/* a move the plan shows is the state's first change: an instance of a resource that
	 * gained or lost count (gw[0] is now gw) is recorded under its new address, which is
	 * where its update, or its replacement's delete, looks for it. (Moved blocks moved
	 * the state before the plan: their objects are there already.) */
	for (size_t i = 0; i < buf_count(&plan->changes, struct plan_change *); i++)
		state_follow_move(st, buf_at(&plan->changes, struct plan_change *, i));
	start_workers(&ap);
	/* phase one: what the plan destroys, and the old half of replacements */
	for (size_t i = 0; i < buf_count(&plan->changes, struct plan_change *); i++) {
		const struct plan_change *c = buf_at(&plan->changes, struct plan_change *, i);
		if (c->action == PLAN_DELETE && c->deposed)
			buf_push(deposed_goes_first(plan, c) ? &deletes : &deposed, struct op *,
				 op_new(OP_DELETE, c, c->before, NULL));
		else if (c->action == PLAN_DELETE || (c->action == PLAN_REPLACE && !c->create_before_destroy))
			buf_push(&deletes, struct op *, op_new(OP_DELETE, c, c->before, NULL));
	}
	if (buf_count(&deletes, struct op *) && run_deletes(&ap, &deletes))
		failed = 1;
	/* what the plan read goes into the state as the walk starts: the walk keeps it, and the
	 * next plan with -refresh=false sees it */
	if (opts->read_data && !opts->destroy && apply_record_reads(st, plan) && state_save(&ap))
		failed = 1;
	/* phase two: everything else, in dependency order (a destroy plan has nothing here) */
	if (!opts->destroy && !apply_interrupted && walk(&ap, root, opts, plan, &deposed))
		failed = 1;
	/* phase three: the deposed objects, those create_before_destroy kept until now among
	 * them; one whose replacement was not made (or not right) is left as it is */
	for (size_t i = 0; i < buf_count(&deposed, struct op *); i++) {
		struct op *op = buf_at(&deposed, struct op *, i);
		if (op->deposed[0] && !op->kept)
			buf_push(&third, struct op *, op);
	}
	if (buf_count(&third, struct op *) && !apply_interrupted && run_deletes(&ap, &third))
		failed = 1;
	buf_release(&third);
	if (failed && ao->rollback_on_failure && !apply_interrupted)
		rollback(&ap);
	stop_workers(&ap);
	/* a destroy that removed every object removes the outputs too: they named those objects
	 * (phase two, which sets the outputs of other plans, does not run for it) */
	if (opts->destroy && !failed && !apply_interrupted && st->noutputs) {
		for (size_t i = 0; i < buf_count(&plan->outputs, struct plan_output *); i++) {
			const struct plan_output *o = buf_at(&plan->outputs, struct plan_output *, i);
			if (o->action == PLAN_DELETE)
				state_remove_output(st, o->name);
		}
		if (state_save(&ap))
			failed = 1;
	}
	pthread_mutex_lock(&ap.mu);
	say_progress(&ap);   /* what the last operations said before they ended */
	pthread_mutex_unlock(&ap.mu);
	buf_release(&ap.progress);
	status_clear(&ap);
	ap.status_over = 1;
	if (ap.save_failed)
		failed = 1;
	for (size_t i = 0; i < buf_count(&ap.created, char *); i++)
		free(buf_at(&ap.created, char *, i));
	buf_release(&ap.created);
	for (size_t i = 0; i < buf_count(&deletes, struct op *); i++)
		op_free(buf_at(&deletes, struct op *, i));
	for (size_t i = 0; i < buf_count(&deposed, struct op *); i++)
		op_free(buf_at(&deposed, struct op *, i));
	buf_release(&deletes);
	buf_release(&deposed);
	for (size_t i = 0; i < ap.providers.cap; i++)
		if (ap.providers.slots[i].key) {
			struct provider *p = ap.providers.slots[i].value;
			struct buf line = BUF_INIT;
			/* what the network cost: a user seeing a slow apply sees why */
			if (p->ops->describe)
				p->ops->describe(p, &line);
			if (line.len)
				say(&ap, "%s: %s", ap.providers.slots[i].key, line.data);
			buf_release(&line);
			p->ops->release(p);
		}
	for (size_t i = 0; i < buf_count(&ap.owned_keys, char *); i++)
		free(buf_at(&ap.owned_keys, char *, i));
	buf_release(&ap.owned_keys);
	strmap_release(&ap.providers);
	pthread_mutex_destroy(&ap.mu);
	pthread_cond_destroy(&ap.work_cv);
	pthread_cond_destroy(&ap.done_cv);
	res->interrupted = apply_interrupted != 0;
	/* a failure always says what failed: "Apply failed" with nothing on stderr helps no one */
	if (failed && !res->interrupted && diag->errors == errors0)
		diag_error(diag, NULL, "the apply did not finish (%u of %u operations done), though no operation failed",
			   ap.finished, ap.total);
	return failed || res->interrupted ? -1 : 0;
}

/* ---- the state as the planner sees it ---- */

/* What the planner sees of one object of an instance of r: in, or one of its deposed. */
static struct plan_prior prior_of(const struct state_resource *r, const struct state_instance *in,
				  const struct state_instance *obj)
{
	struct plan_prior p;
	struct buf addr = BUF_INIT;

	memset(&p, 0, sizeof p);
	state_instance_address(r, in, &addr);
	p.addr = buf_detach(&addr, NULL);
	p.type = xstrdup(r->type);
	p.provider = r->provider ? xstrdup(r->provider) : NULL;
	p.provider_module = r->provider_module ? xstrdup(r->provider_module) : NULL;
	p.data = r->mode == ADDR_DATA;
	p.attrs = val_ref(obj->attrs);
	p.tainted = obj->status == STATE_TAINTED;
	p.ndeps = obj->ndeps;
	p.deps = xcalloc(obj->ndeps ? obj->ndeps : 1, sizeof *p.deps);
	for (size_t d = 0; d < obj->ndeps; d++)
		p.deps[d] = xstrdup(obj->deps[d]);
	p.deposed = obj->deposed_key ? xstrdup(obj->deposed_key) : NULL;
	return p;
}

struct plan_prior *apply_priors(const struct state *st, size_t *n)
{
	struct buf out = BUF_INIT;

	for (size_t i = 0; i < st->nresources; i++) {
		const struct state_resource *r = st->resources[i];
		for (size_t k = 0; k < r->ninstances; k++) {
			const struct state_instance *in = r->instances[k];
			/* an unresolved intent is no object yet */
			if (in->status == STATE_PENDING)
				continue;
			buf_push(&out, struct plan_prior, prior_of(r, in, in));
		}
	}
	*n = buf_count(&out, struct plan_prior);
	return (struct plan_prior *)(void *)buf_detach(&out, NULL);
}

struct plan_prior *apply_deposed(const struct state *st, size_t *n)
{
	struct buf out = BUF_INIT;

	for (size_t i = 0; i < st->nresources; i++) {
		const struct state_resource *r = st->resources[i];
		for (size_t k = 0; k < r->ninstances; k++)
			for (size_t d = 0; d < r->instances[k]->ndeposed; d++)
				buf_push(&out, struct plan_prior, prior_of(r, r->instances[k], r->instances[k]->deposed[d]));
	}
	*n = buf_count(&out, struct plan_prior);
	return (struct plan_prior *)(void *)buf_detach(&out, NULL);
}

void apply_free_priors(struct plan_prior *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].addr);
		free(p[i].type);
		free(p[i].provider);
		free(p[i].provider_module);
		free(p[i].deposed);
		val_unref(p[i].attrs);
		for (size_t d = 0; d < p[i].ndeps; d++)
			free(p[i].deps[d]);
		free(p[i].deps);
	}
	free(p);
}

struct value *apply_prior_outputs(const struct state *st)
{
	struct val_pair *p = xcalloc(st->noutputs ? st->noutputs : 1, sizeof *p);
	struct value *r;

	for (size_t i = 0; i < st->noutputs; i++) {
		p[i].key = xstrdup(st->outputs[i].name);
		p[i].val = val_ref(st->outputs[i].value);
	}
	r = val_map_take(p, st->noutputs);
	free(p);
	return r;
}

/* ---- refresh ---- */

struct refresh_item {
	struct state_resource *res;
	struct state_instance *inst;
	const char *provider;         /* read_through's */
	const char *block_module;
	const struct value *config;   /* its provider block's values, or NULL */
};

/* The provider configuration to read r through, and where its block is (*block_module, for
 * configure_from): when the configuration still declares r, the one it gives r now, found
 * up from r's module (NULL), as Terraform reads a resource it keeps through the provider its
 * configuration names, so a module may give up its own block for one passed by its caller;
 * else the one the state records, and the module it records ("" for the root's), since only
 * the block that made an object knows where it is. */
static const char *read_through(const struct strmap *configs, const struct state_resource *r,
				const char **block_module)
{
	struct buf addr = BUF_INIT;
	const char *now;

	state_instance_address(r, NULL, &addr);
	now = plan_config_provider(configs, addr.data);
	buf_release(&addr);
	*block_module = now ? NULL : ROOT_IF_NULL(r->provider_module);
	return now ? now : r->provider;
}

/* Orders the modules whose blocks made objects (NULL: the root's, first). */
static int cmp_provider_module(const char *x, const char *y)
{
	return x && y ? strcmp(x, y) : x ? 1 : y ? -1 : 0;
}

static int cmp_refresh(const void *a, const void *b)
{
	const struct refresh_item *x = a, *y = b;
	int c = strcmp(x->provider, y->provider);
	/* a module's own block is not the root's, even with neither there to tell them apart */
	if (!c)
		c = cmp_provider_module(x->block_module, y->block_module);
	if (!c && x->config != y->config)
		c = (uintptr_t)x->config < (uintptr_t)y->config ? -1 : 1;
	return c ? c : strcmp(x->res->type, y->res->type);
}

/* Releases a provider used for reading, saying what its requests cost when it retried. */
static void provider_done(struct provider *p, const char *name, struct diag_ctx *diag)
{
	struct buf line = BUF_INIT;

	if (p->ops->describe)
		p->ops->describe(p, &line);
	if (line.len)
		diag_note(diag, NULL, "refreshing through %s: %s", name, line.data);
	buf_release(&line);
	p->ops->release(p);
}

int apply_import_read(struct diag_ctx *diag, const struct strmap *configs, const char *addr, const char *module,
		      const char *type, const char *provider, const char *id, const struct span *where,
		      struct value **out)
{
	char base[64];
	const char *dot = strchr(type, '.');
	const struct provider_ops *ops;
	const struct schema_resource *rs;
	struct provider *p;
	struct val_pair pr[2];
	size_t np = 0;
	struct provider_read item = { dot ? dot + 1 : type, NULL, NULL };
	struct value *prior;
	int ret = -1;

	*out = NULL;
	snprintf(base, sizeof base, "%.*s", (int)strcspn(provider, "."), provider);
	ops = net_provider_find(base, diag);
	rs = ops && dot ? schema_resource_find(ops->schema, dot + 1, 0) : NULL;
	if (!net_get(NULL))
		return -1;
	if (!ops || !ops->read || !rs) {
		diag_error(diag, where, "%s cannot be imported: no provider in this build reads it", type);
		return -1;
	}
	if (!(p = configure_from(ops, configs, module, NULL, provider, addr, diag)))
		return -1;
	p->ops = ops;
	/* the ID goes under the attribute the type is looked up by */
	pr[np].key = xstrdup("id");
	pr[np++].val = val_cstring(id);
	if (rs->id_attr && strcmp(rs->id_attr, "id")) {
		pr[np].key = xstrdup(rs->id_attr);
		pr[np++].val = val_cstring(id);
	}
	prior = val_map_take(pr, np);
	item.prior = prior;
	if (ops->read(p, &item, 1, diag) == 0) {
		if (item.result) {
			/* what the schema calls sensitive is marked, as a plan marks it, so that no
			 * plan prints it and the state records it in sensitive_attributes */
			struct buf pairs = BUF_INIT;
			for (const struct schema_attr *a = rs->block.attrs; a && a->name; a++)
				if (a->flags & SF_SENSITIVE)
					buf_push(&pairs, struct val_pair, ((struct val_pair){ xstrdup(a->name),
						 val_mark(val_null(), VAL_SENSITIVE) }));
			struct value *marks = val_map_take((struct val_pair *)(void *)pairs.data,
							   buf_count(&pairs, struct val_pair));
			*out = carry_marks(item.result, marks);
			val_unref(marks);
			val_unref(item.result);
			buf_release(&pairs);
			ret = 0;
		} else {
			diag_error(diag, where, "there is no %s %s to import into %s", type, id, addr);
			diag_hint(diag, "check the ID, and where the provider looks (its account and region, or host)");
		}
	}
	ops->release(p);
	val_unref(prior);
	return ret;
}

int apply_refresh(struct diag_ctx *diag, struct state *st, const struct strmap *configs)
{
	struct strmap missing;
	struct buf all = BUF_INIT, gone = BUF_INIT;
	int ret = 0;
	size_t n;
	struct provider *p = NULL;        /* the one in use, for p_name configured with p_config */
	const char *p_name = NULL;
	const struct value *p_config = NULL;
	const char *p_module = NULL;      /* and with its block's module, for that block alone */

	strmap_init(&missing);
	for (size_t i = 0; i < st->nresources; i++) {
		struct state_resource *r = st->resources[i];
		if (r->mode != ADDR_MANAGED)
			continue;
		/* per resource: every instance goes through the same block */
		const char *bm, *pv = read_through(configs, r, &bm);
		const struct value *cfg = configs ? plan_provider_config(configs, r->module, bm, pv) : NULL;
		for (size_t k = 0; k < r->ninstances; k++)
			if (r->instances[k]->status != STATE_PENDING)
				buf_push(&all, struct refresh_item, ((struct refresh_item){ r, r->instances[k], pv, bm, cfg }));
	}
	n = buf_count(&all, struct refresh_item);
	if (n > 1)
		qsort(all.data, n, sizeof(struct refresh_item), cmp_refresh);
	/* one read per provider and type, however many resources and instances: providers
	 * answer those with few API calls */
	for (size_t i = 0; i < n; ) {
		struct refresh_item *first = &buf_at(&all, struct refresh_item, i);
		size_t j = i;
		while (j < n && !cmp_refresh(first, &buf_at(&all, struct refresh_item, j)))
			j++;
		char base[64];
		snprintf(base, sizeof base, "%.*s", (int)strcspn(first->provider, "."), first->provider);
		const struct stk_net *net = net_get(diag);
		const struct provider_ops *ops = net ? net->provider_find(base) : NULL;
		if (!net) {
			ret = -1;
			break;
		}
		if (!ops || !ops->read) {
			/* one error per provider, naming the first object that needs it */
			if (!strmap_get(&missing, first->provider)) {
				strmap_put(&missing, first->provider, (void *)1);
				diag_error(diag, NULL, "refreshing %s.%s needs the %s provider, which is not part of "
					   "this build yet", first->res->type, first->res->name, base);
				diag_hint(diag, "plan from the state as it is with -refresh=false");
			}
			ret = -1;
			i = j;
			continue;
		}
		/* configured once per provider: a failure is said once, not once per type */
		if (strmap_get(&missing, first->provider)) {
			ret = -1;
			i = j;
			continue;
		}
		/* one provider (and its connections) for every type it reads */
		if (p && (strcmp(p_name, first->provider) || p_config != first->config ||
			  cmp_provider_module(p_module, first->block_module))) {
			provider_done(p, p_name, diag);
			p = NULL;
		}
		if (!p) {
			/* the resource's whole address: the fix the error gives is stk state rm of it */
			struct buf what = BUF_INIT;
			state_instance_address(first->res, NULL, &what);
			p = configure_from(ops, configs, first->res->module, first->block_module,
					   first->provider, what.data, diag);
			buf_release(&what);
			if (!p) {
				strmap_put(&missing, first->provider, (void *)1);
				ret = -1;
				i = j;
				continue;
			}
			p->ops = ops;
			p_name = first->provider;
			p_config = first->config;
			p_module = first->block_module;
		}
		struct provider_read *items = xcalloc(j - i, sizeof *items);
		const char *dot = strchr(first->res->type, '.');
		for (size_t k = i; k < j; k++) {
			items[k - i].type = dot ? dot + 1 : first->res->type;
			items[k - i].prior = buf_at(&all, struct refresh_item, k).inst->attrs;
		}
		if (ops->read(p, items, j - i, diag) == 0) {
			for (size_t k = i; k < j; k++) {
				struct refresh_item *it = &buf_at(&all, struct refresh_item, k);
				if (items[k - i].result) {
					/* what was sensitive before the read still is */
					struct value *marked = carry_marks(items[k - i].result, it->inst->attrs);
					state_instance_set_attrs(it->inst, marked);
					val_unref(marked);
					val_unref(items[k - i].result);
					continue;
				}
				/* gone outside stk: forgotten, so the plan creates it again */
				struct addr a;
				addr_init(&a);
				state_resource_addr(it->res, &a);
				a.key = it->inst->key ? val_ref(it->inst->key) : NULL;
				buf_push(&gone, struct addr, a);
			}
		} else {
			ret = -1;
		}
		free(items);
		i = j;
	}
	if (p)
		provider_done(p, p_name, diag);
	/* removals last: they free instances the reads were pointing at (deposed objects, not
	 * read, stay: forget_current) */
	for (size_t k = 0; k < buf_count(&gone, struct addr); k++) {
		forget_current(st, &buf_at(&gone, struct addr, k));
		addr_release(&buf_at(&gone, struct addr, k));
	}
	buf_release(&gone);
	buf_release(&all);
	strmap_release(&missing);
	return ret;
}

/* ---- data sources read during plan ---- */

void apply_reader_init(struct apply_reader *r)
{
	memset(r, 0, sizeof *r);
	pthread_mutex_init(&r->mu, NULL);
	strmap_init(&r->providers);
}

void apply_reader_release(struct apply_reader *r, struct diag_ctx *diag)
{
	for (size_t i = 0; i < r->providers.cap; i++)
		if (r->providers.slots[i].key) {
			provider_done(r->providers.slots[i].value, r->providers.slots[i].key, diag);
			free((char *)r->providers.slots[i].key);
		}
	strmap_release(&r->providers);
	pthread_mutex_destroy(&r->mu);
}

/* The provider for rq, configured the first time from its block's values; NULL after a
 * diagnostic. Under r->mu: the plan's threads share it. */
static struct provider *reader_provider(struct apply_reader *r, const struct plan_read *rq, struct diag_ctx *diag)
{
	const char *key = rq->provider_key ? rq->provider_key : rq->provider;
	struct provider *p = strmap_get(&r->providers, key);
	char base[64];
	const struct provider_ops *ops;

	if (p)
		return p;
	snprintf(base, sizeof base, "%.*s", (int)strcspn(rq->provider, "."), rq->provider);
	if (!(ops = net_provider_find(base, diag)))
		return NULL;
	if (!ops->read_data) {
		diag_error(diag, NULL, "%s: the %s provider has no data sources", rq->addr, base);
		return NULL;
	}
	if (net_get(NULL)->http_global_init(diag))
		return NULL;
	if (!(p = ops->configure(rq->provider_config, diag)))
		return NULL;
	p->ops = ops;
	strmap_put(&r->providers, xstrdup(key), p);
	return p;
}

/* One read, on a thread of its own (read_run). */
struct read_call {
	struct apply_reader *r;
	const struct plan_read *rq;
	struct value *got;
	struct diag_ctx diag;          /* the provider's words */
	int rc;
};

static void *read_run(void *arg)
{
	struct read_call *c = arg;
	const char *dot = strchr(c->rq->type, '.');
	struct provider *p;

	pthread_mutex_lock(&c->r->mu);
	p = reader_provider(c->r, c->rq, &c->diag);
	pthread_mutex_unlock(&c->r->mu);
	c->rc = p ? p->ops->read_data(p, dot ? dot + 1 : c->rq->type, c->rq->planned, &c->got, &c->diag) : -1;
	return NULL;
}

int apply_read_data(void *arg, const struct plan_read *rq, struct value **result, struct diag_ctx *diag)
{
	struct read_call c = { .r = arg, .rq = rq, .rc = -1 };
	pthread_t t;
	int rc = -1;

	*result = NULL;
	diag_init(&c.diag);
	/* on a thread that ends with the read: what the TLS and crypto libraries keep per thread
	 * (OpenSSL's error queue) goes with it. The plan's threads are kept to the exit, after
	 * OpenSSL's own cleanup has run, and what they held would be lost there. */
	if (pthread_create(&t, NULL, read_run, &c) == 0)
		pthread_join(t, NULL);
	else
		read_run(&c);
	if (c.rc == 0 && c.got) {
		/* sensitive where the plan said (the schema's, the arguments'), and never in a
		 * message from here on */
		*result = carry_marks(c.got, rq->planned);
		val_add_secrets(*result);
		rc = 0;
	}
	val_unref(c.got);
	/* the provider's words, under the address: it is the plan's error */
	diags_under(diag, &c.diag, rq->addr);
	if (rc && !c.diag.errors)
		diag_error(diag, NULL, "%s: the %s provider read nothing for it", rq->addr, rq->provider);
	/* the provider's own hint says more; without one, the way around */
	if (rc && !buf_at(&diag->diags, struct diag, buf_count(&diag->diags, struct diag) - 1).hint)
		diag_hint(diag, "fix what the error says, or plan with -refresh=false to use what the state holds "
			  "(the data source is then read during apply)");
	diag_release(&c.diag);
	return rc;
}

size_t apply_record_reads(struct state *st, const struct plan *plan)
{
	size_t n = 0;

	for (size_t i = 0; i < buf_count(&plan->changes, struct plan_change *); i++) {
		const struct plan_change *c = buf_at(&plan->changes, struct plan_change *, i);
		struct addr a;
		struct buf why = BUF_INIT;
		struct state_instance *in;
		/* only what plan read: a kept one is the state's already (the same values) */
		if (!c->data || c->action != PLAN_NOOP || !c->after || !val_is_known(c->after))
			continue;
		addr_init(&a);
		if (addr_parse(&a, c->addr, &why) == 0) {
			in = state_find_instance(st, &a);
			if (!in || !val_equal(in->attrs, c->after) || in->status != STATE_READY) {
				in = state_put(st, &a, c->provider, c->after, &c->deps);
				in->status = STATE_READY;
				n++;
			}
		}
		addr_release(&a);
		buf_release(&why);
	}
	return n;
}

/* ---- intents left by an interrupted apply ---- */

int apply_resolve_intents(struct diag_ctx *diag, struct state *st, const struct strmap *configs, int *changed)
{
	struct buf drop = BUF_INIT;
	int ret = 0;

	*changed = 0;
	for (size_t i = 0; i < st->nresources; i++) {
		struct state_resource *r = st->resources[i];
		for (size_t k = 0; k < r->ninstances; k++) {
			struct state_instance *in = r->instances[k];
			struct addr a;
			struct buf text = BUF_INIT;
			char base[64];
			const struct provider_ops *ops;
			struct provider *p;
			struct value *found = NULL;

			/* a ready instance with a token: a create_before_destroy replacement of its
			 * object was under way (add_intent) */
			int replacing = in->status != STATE_PENDING;
			if (replacing && !in->token)
				continue;
			addr_init(&a);
			state_resource_addr(r, &a);
			a.key = in->key ? val_ref(in->key) : NULL;
			addr_format(&a, &text);
			const char *bm, *pv = read_through(configs, r, &bm);
			snprintf(base, sizeof base, "%.*s", (int)strcspn(pv, "."), pv);
			ops = net_provider_find(base, diag);
			p = ops && ops->find_by_token ?
			    configure_from(ops, configs, r->module, bm, pv, text.data, diag) : NULL;
			int unfinished = 0, looked = 0;
			if (p) {
				const char *dot = strchr(r->type, '.');
				int rc;
				p->ops = ops;
				rc = ops->find_by_token(p, dot ? dot + 1 : r->type, in->token, in->attrs, &found, diag);
				if (rc < 0)
					ret = -1;
				unfinished = rc == 1;
				looked = rc >= 0;
				ops->release(p);
			} else if (!ops || !ops->find_by_token) {
				diag_warning(diag, NULL, "%s: an interrupted create (token %s) cannot be looked for: "
					     "the %s provider cannot find objects by token", text.data, in->token, base);
			} else {
				ret = -1;
			}
			char key[9];
			if (replacing && !found) {
				/* not made, or not to be looked for: the replacement is the plan's to
				 * make again. A lookup that failed keeps the token for the next run. */
				if (looked || !ops || !ops->find_by_token) {
					state_instance_set_token(in, NULL);
					*changed = 1;
				}
			} else if (replacing && val_map_get(found, "id") && val_map_get(in->attrs, "id") &&
				   val_equal(val_map_get(found, "id"), val_map_get(in->attrs, "id"))) {
				/* what carries the token is the current object itself */
				val_unref(found);
				state_instance_set_token(in, NULL);
				*changed = 1;
			} else if (replacing && depose_current(in, key)) {
				diag_error(diag, NULL, "%s: cannot record the object it replaces as deposed", text.data);
				val_unref(found);
				ret = -1;
			} else if (replacing) {
				/* it was made: it becomes the current object, and the old one, deposed,
				 * is destroyed by the plan */
				adopt(in, found);
				if (unfinished)
					in->status = STATE_TAINTED;
				diag_note(diag, NULL, "%s: adopted the replacement an interrupted apply created; the object "
					  "it replaces is deposed (deposed object %s), for the plan to destroy", text.data, key);
				*changed = 1;
			} else if (found) {
				/* it was made: adopt it, with what it really is */
				adopt(in, found);
				if (unfinished)
					in->status = STATE_TAINTED;
				diag_note(diag, NULL, "%s: adopted the object an interrupted apply created%s", text.data,
					  unfinished ? ", tainted: its create was cut short after it existed, so it "
					  "is replaced" : "");
				*changed = 1;
			} else if (ret == 0 && !looked) {
				/* cannot be looked for: the intent goes, and the plan creates it. One
				 * looked for and not found stays pending, token and all: its create may
				 * still be finishing (a daemon completes a create whose client has gone),
				 * so the object can appear after this look. The plan creates the
				 * instance again, add_intent retries under this token, and that object
				 * is found by it; apply_run drops the intents its plan does not create. */
				buf_push(&drop, struct addr, a);
				a.key = NULL;
				a.module = a.type = a.name = NULL;
				*changed = 1;
			}
			addr_release(&a);
			buf_release(&text);
		}
	}
	for (size_t i = 0; i < buf_count(&drop, struct addr); i++) {
		state_remove_instance(st, &buf_at(&drop, struct addr, i));
		addr_release(&buf_at(&drop, struct addr, i));
	}
	buf_release(&drop);
	return ret;
}

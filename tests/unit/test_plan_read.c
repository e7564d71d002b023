/* test_plan_read.c: data sources read during plan (plan_opts.read_data), with a reader that
 * answers as a provider would, so that what the planner decides is judged without a cloud:
 * which data sources it reads (arguments known, nothing they depend on pending), what refers
 * to them sees (a count, an argument), what waits for apply, a failed read, and a destroy. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/diag.h"
#include "planner/config.h"
#include "planner/plan.h"
#include "unit.h"

#define CHECK(cond, ...) check(!!(cond), __func__, __VA_ARGS__)

static char tmpdir[] = "/tmp/stk-plan-read-XXXXXX";

/* What the reader was asked, and how it answers. */
struct reader {
	atomic_int calls;
	int fail;                   /* answer every read with an access denied */
};

/* planned with its computed attributes filled in: names for zones, an id for an AMI */
static int fake_read(void *arg, const struct plan_read *rq, struct value **result, struct diag_ctx *diag)
{
	struct reader *r = arg;
	const struct value *p = rq->planned;
	struct val_pair *pairs = calloc(p->u.map.n + 1, sizeof *pairs);

	atomic_fetch_add(&r->calls, 1);
	if (r->fail) {
		free(pairs);
		diag_error(diag, NULL, "data.aws.ami: ec2 DescribeImages: UnauthorizedOperation: not authorized");
		return -1;
	}
	for (size_t i = 0; i < p->u.map.n; i++) {
		const char *k = p->u.map.items[i].key;
		struct value *v;
		if (!strcmp(k, "names")) {
			struct value *z[3] = { val_cstring("us-east-1a"), val_cstring("us-east-1b"),
					       val_cstring("us-east-1c") };
			v = val_list_take(z, 3);
		} else if (!strcmp(k, "id") || !strcmp(k, "image_id")) {
			v = val_cstring(!strcmp(rq->type, "aws.ami") ? "ami-0123" : "us-east-1");
		} else if (!val_is_known(p->u.map.items[i].val)) {
			v = val_null();
		} else {
			v = val_ref(p->u.map.items[i].val);
		}
		pairs[i].key = strdup(k);
		pairs[i].val = v;
	}
	*result = val_map_take(pairs, p->u.map.n);
	free(pairs);
	return 0;
}

static int load(const char *text, struct config_module *m, struct diag_ctx *diag)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/main.stk", tmpdir);
	if (!(f = fopen(path, "w")))
		return -1;
	fputs(text, f);
	fclose(f);
	return config_load_dir(diag, tmpdir, m, 0);
}

static const struct plan_change *change(const struct plan *p, const char *addr)
{
	for (size_t i = 0; i < buf_count(&p->changes, struct plan_change *); i++)
		if (!strcmp(buf_at(&p->changes, struct plan_change *, i)->addr, addr))
			return buf_at(&p->changes, struct plan_change *, i);
	return NULL;
}

static const char *str_of(const struct plan_change *c, const char *attr)
{
	const struct value *v = c && c->after ? val_map_get(c->after, attr) : NULL;
	return v && v->kind == VAL_STRING && val_is_known(v) ? v->u.str.s : NULL;
}

static const char config[] =
	"data aws.availability_zones az {}\n"
	"data aws.ami base {\n"
	"  owners      = [\"amazon\"]\n"
	"  most_recent = true\n"
	"}\n"
	"resource aws.vpc v { cidr_block = \"10.0.0.0/16\" }\n"
	"resource aws.subnet s {\n"
	"  count             = length(data.aws.availability_zones.az.names)\n"
	"  vpc_id            = aws.vpc.v.id\n"
	"  cidr_block        = \"10.0.${count.index}.0/24\"\n"
	"  availability_zone = data.aws.availability_zones.az.names[count.index]\n"
	"}\n"
	"resource aws.instance i {\n"
	"  ami           = data.aws.ami.base.id\n"
	"  instance_type = \"t3.nano\"\n"
	"}\n"
	/* waits: what it depends on is to be created */
	"data aws.ami after_vpc {\n"
	"  owners     = [\"amazon\"]\n"
	"  depends_on = [aws.vpc.v]\n"
	"}\n"
	/* waits: an argument not known before apply */
	"data aws.ami unknown_arg { owners = [aws.vpc.v.id] }\n"
	"output ami { value = data.aws.ami.base.id }\n";

/* A plan of text through a reader (fail: it refuses every read), with what it needs. */
struct run {
	struct diag_ctx diag;
	struct config_module m;
	struct plan p;
	struct plan_opts o;
	struct reader r;
	int rc;                     /* plan_make's */
};

static void run_plan(struct run *x, const char *text, int fail, int destroy)
{
	memset(x, 0, sizeof *x);
	diag_init(&x->diag);
	config_module_init(&x->m);
	plan_init(&x->p);
	x->r.fail = fail;
	x->o.read_data = fake_read;
	x->o.read_data_arg = &x->r;
	x->o.destroy = destroy;
	x->rc = -2;
	CHECK(load(text, &x->m, &x->diag) == 0, "the configuration does not load");
	if (!x->diag.errors)
		x->rc = plan_make(&x->diag, &x->m, NULL, 0, &x->o, &x->p);
}

static void run_release(struct run *x)
{
	plan_release(&x->p);
	config_module_release(&x->m);
	diag_release(&x->diag);
}

static void test_reads_what_it_can(void)
{
	struct run x;
	const struct plan_change *c;

	run_plan(&x, config, 0, 0);
	CHECK(x.rc == 0, "the plan failed: %u errors, the first: %s", x.diag.errors,
	      x.diag.errors ? buf_at(&x.diag.diags, struct diag, 0).message : "");
	CHECK(atomic_load(&x.r.calls) == 2, "%d reads, not 2 (az and base)", atomic_load(&x.r.calls));
	c = change(&x.p, "data.aws.ami.base");
	CHECK(c && c->action == PLAN_NOOP, "data.aws.ami.base read during plan is a no-op");
	CHECK(str_of(c, "id") && !strcmp(str_of(c, "id"), "ami-0123"), "the AMI's id is what was read");
	c = change(&x.p, "aws.instance.i");
	CHECK(str_of(c, "ami") && !strcmp(str_of(c, "ami"), "ami-0123"), "the instance's ami is not known");
	for (int k = 0; k < 3; k++) {
		char a[32], z[16];
		snprintf(a, sizeof a, "aws.subnet.s[%d]", k);
		snprintf(z, sizeof z, "us-east-1%c", 'a' + k);
		c = change(&x.p, a);
		CHECK(c && c->action == PLAN_CREATE, "%s is not planned", a);
		CHECK(str_of(c, "availability_zone") && !strcmp(str_of(c, "availability_zone"), z),
		      "%s's zone is not %s", a, z);
	}
	c = change(&x.p, "data.aws.ami.after_vpc");
	CHECK(c && c->action == PLAN_READ, "a data source depending on a create is read during apply");
	c = change(&x.p, "data.aws.ami.unknown_arg");
	CHECK(c && c->action == PLAN_READ, "a data source with an unknown argument is read during apply");
	CHECK(x.p.add == 5 && x.p.change == 0 && x.p.destroy == 0 && x.p.read == 2,
	      "the counts are %u add, %u change, %u destroy, %u read", x.p.add, x.p.change, x.p.destroy,
	      x.p.read);
	CHECK(buf_count(&x.p.outputs, struct plan_output *) == 1, "one output");
	if (buf_count(&x.p.outputs, struct plan_output *) == 1) {
		const struct value *v = buf_at(&x.p.outputs, struct plan_output *, 0)->after;
		CHECK(v && v->kind == VAL_STRING && val_is_known(v), "the output is known at plan");
	}
	run_release(&x);
}

static void test_failed_read_is_a_plan_error(void)
{
	struct run x;

	run_plan(&x, config, 1, 0);
	CHECK(x.rc == -1, "a failed read did not fail the plan");
	CHECK(x.diag.errors >= 1 && strstr(buf_at(&x.diag.diags, struct diag, 0).message, "DescribeImages"),
	      "the reader's words are not the error");
	run_release(&x);
}

static void test_destroy_reads_nothing(void)
{
	struct run x;

	run_plan(&x, "data aws.ami base { owners = [\"amazon\"] }\n", 0, 1);
	CHECK(x.rc == 0, "the destroy plan failed");
	CHECK(atomic_load(&x.r.calls) == 0, "a destroy read %d data sources", atomic_load(&x.r.calls));
	run_release(&x);
}

int main(void)
{
	char path[256];

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	test_reads_what_it_can();
	test_failed_read_is_a_plan_error();
	test_destroy_reads_nothing();
	snprintf(path, sizeof path, "%s/main.stk", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

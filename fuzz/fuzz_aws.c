/* fuzz_aws.c: libFuzzer target for the AWS provider's response decoders: the query protocol's
 * XML (EC2, RDS, STS: libxml2) and the JSON protocol's answers (ECR: jansson) turned into
 * state attributes, the error answers turned into messages, and the error-code parser the
 * retry classifier uses (http_aws_error_code(), through http_retryable_aws).
 *
 * The decoders are static, so the target goes through the nearest public door, the provider
 * itself (provider_aws: read, read_data, find_by_token), with the HTTP layer's answers taken
 * from the input (fuzz/fake_http.h: linked with -Wl,--wrap=http_do, so nothing reaches the
 * network). The first byte picks what is asked:
 *
 *   - (0x00-0x7f) a batch read of two objects (one with 0x40) of one resource type (aws.vpc, aws.subnet, ... aws.ecr_repository),
 *     from priors as a state holds them, the way `stk plan` refreshes;
 *   - (0x80-0xbf) a data source read (ami, availability_zones, caller_identity, ecr_token) with a typical
 *     configuration;
 *   - (0xc0-0xff) find_by_token for one type (after an interrupted create): DescribeTags, then a read.
 *
 * The rest of the input is the answers, one per request, separated by FAKE_SEP (see
 * fake_http.h). Every value that comes back is written out with val_write(), and must be
 * known: a provider returns the object as it is now.
 *
 * Build and run: `make fuzz` (clang with -fsanitize=fuzzer,address,undefined), `make fuzz-smoke`.
 * Replay one input: fuzz/fuzz_aws FILE... (STK_FUZZ_VERBOSE=1 prints what comes back)
 * Ownership: everything allocated for an input is freed before returning; the provider (its
 * HTTP client and credentials) lives for the whole run. */
#define _GNU_SOURCE 1
#define FUZZ_NAME "fuzz_aws"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/diag.h"
#include "planner/value.h"
#include "providers/aws/aws.h"
#include "providers/provider.h"

#include "fuzz/fuzz_common.h"
#include "fuzz/fake_http.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct provider *aws;

/* ---- what is asked ---- */

struct rtype {
	const char *type;
	const char *id[2];   /* the two objects' ids, as the seeds' answers name them */
};

static const struct rtype types[] = {
	{ "vpc", { "vpc-0a1b2c3d4e5f60718", "vpc-0b2c3d4e5f6071829" } },
	{ "subnet", { "subnet-0a1b2c3d4e5f60718", "subnet-0b2c3d4e5f6071829" } },
	{ "internet_gateway", { "igw-0a1b2c3d4e5f60718", "igw-0b2c3d4e5f6071829" } },
	{ "route_table", { "rtb-0a1b2c3d4e5f60718", "rtb-0b2c3d4e5f6071829" } },
	{ "route_table_association", { "rtbassoc-0a1b2c3d4e5f60718", "rtbassoc-0b2c3d4e5f6071829" } },
	{ "security_group", { "sg-0a1b2c3d4e5f60718", "sg-0b2c3d4e5f6071829" } },
	{ "key_pair", { "deploy", "ops" } },
	{ "instance", { "i-0a1b2c3d4e5f60718", "i-0b2c3d4e5f6071829" } },
	{ "db_subnet_group", { "app-db", "reports-db" } },
	{ "db_instance", { "app-db", "reports-db" } },
	{ "ecr_repository", { "team/app", "team/worker" } },
	{ "eip", { "eipalloc-0a1b2c3d4e5f60718", "eipalloc-0b2c3d4e5f6071829" } },
};
#define NTYPES (sizeof types / sizeof types[0])

static const char *const data_types[] = { "ami", "availability_zones", "caller_identity", "ecr_token" };
#define NDATA (sizeof data_types / sizeof data_types[0])

static struct value *priors[NTYPES][2];
static struct value *data_configs[NDATA];

/* A prior as the state holds one: the id and the names the type is read by, tags, and the
 * blocks some types keep from their prior (an instance's root_block_device). */
static struct value *prior_of(const char *type, const char *id)
{
	const char *tag_keys[] = { "Name" };
	struct value *tag_vals[] = { val_cstring("web") };
	const char *rbd_keys[] = { "delete_on_termination", "volume_id", "volume_size", "volume_type" };
	struct value *rbd_vals[] = { val_bool(1), val_cstring("vol-0a1b2c3d4e5f60718"), val_number(8),
				     val_cstring("gp3") };
	struct value *rbd[] = { map_of(4, rbd_keys, rbd_vals) };
	const char *keys[] = { "arn", "id", "identifier", "key_name", "name", "root_block_device",
			       "tags", "type_hint", "user_data" };
	struct value *vals[] = {
		val_cstring("arn:aws:ec2:eu-west-1:123456789012:thing/x"),
		val_cstring(id),
		val_cstring(id),
		val_cstring(id),
		val_cstring(id),
		val_list_take(rbd, 1),
		map_of(1, tag_keys, tag_vals),
		val_cstring(type),
		val_null(),
	};
	return map_of(sizeof keys / sizeof keys[0], keys, vals);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct diag_ctx diag;
	const char *keys[] = { "access_key", "region", "secret_key" };
	struct value *vals[] = { val_cstring("AKIDEXAMPLE"), val_cstring("eu-west-1"),
				 val_cstring("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY") };
	struct value *config = map_of(3, keys, vals);

	(void)argc;
	(void)argv;
	/* endpoints as the SDKs' defaults: nothing is sent anywhere, but the URLs are built */
	fuzz_init_verbose();
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("STK_LOG");
	/* the answers are served in the order they are asked for: no calls side by side */
	aws_side_by_side = 0;
	diag_init(&diag);
	aws = provider_aws.configure(config, &diag);
	if (!aws)
		die("the provider does not configure");
	val_unref(config);
	diag_release(&diag);

	for (size_t t = 0; t < NTYPES; t++)
		for (int i = 0; i < 2; i++)
			priors[t][i] = prior_of(types[t].type, types[t].id[i]);

	const char *owners[] = { "amazon", "self" }, *values[] = { "x86_64" }, *names[] = { "eu-west-1c" };
	const char *fkeys[] = { "name", "values" };
	struct value *fvals[] = { val_cstring("architecture"), strs(1, values) };
	struct value *filters[] = { map_of(2, fkeys, fvals) };
	const char *ami_keys[] = { "filter", "most_recent", "name", "name_regex", "owners" };
	struct value *ami_vals[] = { val_list_take(filters, 1), val_bool(1), val_cstring("al2023-ami-*"),
				     val_cstring("^al2023-ami-2023\\.[0-9.]+-kernel"), strs(2, owners) };
	data_configs[0] = map_of(5, ami_keys, ami_vals);
	const char *az_keys[] = { "exclude_names", "state" };
	struct value *az_vals[] = { strs(1, names), val_cstring("available") };
	data_configs[1] = map_of(2, az_keys, az_vals);
	data_configs[2] = map_of(0, NULL, NULL);
	const char *ecr_keys[] = { "registry_id" };
	struct value *ecr_vals[] = { val_null() };
	data_configs[3] = map_of(1, ecr_keys, ecr_vals);
	return 0;
}

/* what the input asks (fuzz/fake_http.h's LLVMFuzzerTestOneInput() calls it) */
static void fake_ask(unsigned pick, struct value **result, struct diag_ctx *diag)
{
	if (pick < 0x80) {
		/* a batch read: both objects of the type */
		unsigned k = (pick & 0x3f) % NTYPES;
		struct provider_read items[2] = {
			{ types[k].type, priors[k][0], NULL },
			{ types[k].type, priors[k][1], NULL },
		};
		/* 0x40: the first alone */
		read_checked(&provider_aws, aws, items, pick & 0x40 ? 1 : 2, diag);
	} else if (pick < 0xc0) {
		unsigned d = (pick - 0x80) % NDATA;
		if (provider_aws.read_data(aws, data_types[d], data_configs[d], result, diag) == 0) {
			if (!*result)
				die("read_data returned 0 without a value");
			check_result(*result);
		}
	} else {
		const struct rtype *t = &types[(pick - 0xc0) % NTYPES];
		if (provider_aws.find_by_token(aws, t->type, "6f1c2a9e-4b7d-4c1e-9f3a-2d5e8b7c0a14",
					       priors[(pick - 0xc0) % NTYPES][0], result, diag) == 0)
			check_result(*result);
	}
}

/* fuzz_docker.c: libFuzzer target for the Docker provider's decoders of Engine API answers:
 * inspect and list results (containers, networks, volumes, images) turned into state
 * attributes, error answers into messages, the registry's token challenge and manifest
 * digest, and the build and push progress streams (docker_stream_cb(): JSON lines with
 * "stream", "status", "aux", "error").
 *
 * The decoders are static, so the target goes through the provider itself (provider_docker:
 * read, find_by_token, create and update of an image), with the HTTP layer's answers taken
 * from the input (fuzz/fake_http.h: linked with -Wl,--wrap=http_do, so no request reaches a
 * daemon or a registry; a streamed 2xx answer is delivered line by line as http.c does). The
 * first byte picks what is asked (low 3 bits):
 *
 *   0-3  a batch read of two containers, networks, volumes or images, from priors as a state
 *        holds them (bit 3 set: the first alone);
 *   4    find_by_token for one of the four types (bits 4-5);
 *   5    an image create: a build of a one-file context (a directory LLVMFuzzerInitialize()
 *        makes under $TMPDIR), then a push of its tag (bit 3 clear), the two streams;
 *   6    an image update that pushes: inspect, tag, push;
 *   7    the build stream alone, through create without a push.
 *
 * The rest of the input is the answers, one per request, separated by FAKE_SEP (see
 * fake_http.h). Values that come back are written with val_write() and must be known.
 *
 * Build and run: `make fuzz` (clang with -fsanitize=fuzzer,address,undefined), `make fuzz-smoke`.
 * Replay one input: fuzz/fuzz_docker FILE... (STK_FUZZ_VERBOSE=1 prints what comes back)
 * Ownership: everything allocated for an input is freed before returning; the provider lives
 * for the whole run. */
#define _GNU_SOURCE 1
#define FUZZ_NAME "fuzz_docker"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/diag.h"
#include "planner/value.h"
#include "providers/docker/docker.h"
#include "providers/provider.h"

#include "fuzz/fuzz_common.h"
#include "fuzz/fake_http.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct provider *docker;
static char context_dir[256];
/* the build context's files, removed with it at exit */
static const char *const context_files[] = { "Dockerfile" };

static const char *const types[] = { "container", "network", "volume", "image" };
static struct value *priors[4][2];
static struct value *image_planned, *image_planned_nopush;

#define TOKEN "6f1c2a9e-4b7d-4c1e-9f3a-2d5e8b7c0a14"
#define ID1 "4f66ad8e3b1d0a2c7e9f5b6d8a0c2e4f6a8b0d2f4e6a8c0b2d4f6e8a0c2b4d6f"
#define ID2 "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b"

static struct value *prior_of(const char *type, int second)
{
	const char *id = second ? ID2 : ID1;
	const char *tags[] = { "registry.example.com/team/app:1.0", "registry.example.com/team/app:latest" };
	const char *label_keys[] = { "team" };
	struct value *label_vals[] = { val_cstring("web") };

	if (!strcmp(type, "image")) {
		char *sid = xasprintf("sha256:%s", id);
		const char *keys[] = { "context", "context_sha256", "dockerfile", "id", "labels", "push",
				       "repo_digest", "tags" };
		struct value *vals[] = {
			val_cstring(context_dir),
			val_cstring("0000000000000000000000000000000000000000000000000000000000000000"),
			val_cstring("Dockerfile"),
			val_cstring(sid),
			map_of(1, label_keys, label_vals),
			val_bool(!second),
			val_cstring("registry.example.com/team/app@sha256:" ID1),
			strs(2, tags),
		};
		free(sid);
		return map_of(sizeof keys / sizeof keys[0], keys, vals);
	}
	const char *keys[] = { "driver", "id", "image", "labels", "name" };
	struct value *vals[] = {
		val_cstring(!strcmp(type, "network") ? "bridge" : "local"),
		val_cstring(!strcmp(type, "container") || !strcmp(type, "network") ? id : second ? "data" : "cache"),
		val_cstring(second ? "postgres:16" : "nginx:1.25"),
		map_of(1, label_keys, label_vals),
		val_cstring(second ? "db" : "web"),
	};
	return map_of(sizeof keys / sizeof keys[0], keys, vals);
}

static struct value *planned_image(int push)
{
	const char *tags[] = { "registry.example.com/team/app:1.0" };
	const char *ba_keys[] = { "VERSION" };
	struct value *ba_vals[] = { val_cstring("1.0") };
	const char *keys[] = { "build_args", "context", "dockerfile", "labels", "no_cache", "push", "tags" };
	struct value *vals[] = {
		map_of(1, ba_keys, ba_vals),
		val_cstring(context_dir),
		val_cstring("Dockerfile"),
		map_of(0, NULL, NULL),
		val_bool(0),
		val_bool(push),
		strs(1, tags),
	};
	return map_of(sizeof keys / sizeof keys[0], keys, vals);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct diag_ctx diag;
	const char *keys[] = { "host" };
	struct value *vals[] = { val_cstring("unix:///nonexistent/stk-fuzz/docker.sock") };
	struct value *config = map_of(1, keys, vals);

	(void)argc;
	(void)argv;
	fuzz_init_verbose();
	/* no registry credentials from the user's files, no log */
	setenv("DOCKER_CONFIG", "/nonexistent/stk-fuzz", 1);
	unsetenv("DOCKER_HOST");
	unsetenv("DOCKER_TLS_VERIFY");
	unsetenv("DOCKER_CERT_PATH");
	unsetenv("STK_LOG");
	fuzz_make_dir(context_dir, sizeof context_dir, "docker", "cannot make the build context", context_files,
		      sizeof context_files / sizeof context_files[0]);
	fuzz_put_file("Dockerfile", "FROM alpine:3.19\nCOPY . /app\n", "cannot write the Dockerfile");
	diag_init(&diag);
	docker = provider_docker.configure(config, &diag);
	if (!docker) {
		diag_print(&diag, stderr, 0);
		die("the provider does not configure");
	}
	val_unref(config);
	diag_release(&diag);
	for (int t = 0; t < 4; t++)
		for (int i = 0; i < 2; i++)
			priors[t][i] = prior_of(types[t], i);
	image_planned = planned_image(1);
	image_planned_nopush = planned_image(0);
	return 0;
}

static void progress(void *arg, const char *line)
{
	(void)arg;
	if (verbose)
		fprintf(stderr, "progress: %s\n", line);
}

/* what the input asks (fuzz/fake_http.h's LLVMFuzzerTestOneInput() calls it) */
static void fake_ask(unsigned pick, struct value **result, struct diag_ctx *diag)
{
	switch (pick & 7) {
	case 0: case 1: case 2: case 3: {
		unsigned t = pick & 3;
		struct provider_read items[2] = {
			{ types[t], priors[t][0], NULL },
			{ types[t], priors[t][1], NULL },
		};
		read_checked(&provider_docker, docker, items, pick & 8 ? 1 : 2, diag);
		break;
	}
	case 4: {
		unsigned t = (pick >> 4) & 3;
		if (provider_docker.find_by_token(docker, types[t], TOKEN, priors[t][0], result, diag) == 0)
			check_result(*result);
		break;
	}
	case 5: case 7: {
		struct provider_op op = {
			.type = "image", .addr = "docker.image.app", .prior = NULL,
			.planned = (pick & 7) == 5 && !(pick & 8) ? image_planned : image_planned_nopush,
			.token = TOKEN, .timeout_s = 0, .progress = progress, .progress_arg = NULL,
		};
		if (provider_docker.create(docker, &op, result, diag) == 0)
			check_result(*result);
		break;
	}
	case 6: {
		struct provider_op op = {
			.type = "image", .addr = "docker.image.app", .prior = priors[3][1],
			.planned = image_planned, .token = TOKEN, .timeout_s = 0, .progress = progress,
		};
		if (provider_docker.update(docker, &op, result, diag) == 0)
			check_result(*result);
		break;
	}
	}
}

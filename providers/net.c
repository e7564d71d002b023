/* net.c: the core's side of net.h: finds the providers' module and loads it once. */
#include "providers/net.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/diag.h"

/* Linked in (the tests, the fuzzers), the table is here already; in stk it is not, and this
 * weak reference is NULL. */
extern const struct stk_net stk_net __attribute__((weak));

#define NET_MODULE "stk-net.so"

static pthread_once_t net_once = PTHREAD_ONCE_INIT;
static const struct stk_net *net_table;
static char net_error[PATH_MAX + 256];

/* $STK_NET_MODULE when set; else beside the binary (a build tree, a relocated install),
 * then where make install puts it. */
static void net_load(void)
{
	char exe[PATH_MAX], path[PATH_MAX + sizeof NET_MODULE];
	const struct stk_net *table = NULL;
	const char *env;
	ssize_t n;
	void *h = NULL;

	if (&stk_net) {
		table = &stk_net;
		goto out;
	}
	env = getenv("STK_NET_MODULE");
	if (env && *env) {
		/* that one, or none */
		h = dlopen(env, RTLD_NOW | RTLD_LOCAL);
		goto opened;
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		char *slash;
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			snprintf(path, sizeof path, "%.*s/" NET_MODULE, (int)(slash - exe), exe);
			if (access(path, R_OK) == 0)
				h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		}
	}
	if (!h) {
		snprintf(path, sizeof path, "%s/" NET_MODULE, STK_PKGLIBEXECDIR);
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	}
opened:
	if (h)
		table = dlsym(h, "stk_net");
	if (!table)
		snprintf(net_error, sizeof net_error, "%s", h ? NET_MODULE " has no table" : dlerror());
out:
	/* one atomic store: net_loaded() reads it in signal handlers */
	__atomic_store_n(&net_table, table, __ATOMIC_RELEASE);
}

const struct stk_net *net_get(struct diag_ctx *diag)
{
	pthread_once(&net_once, net_load);
	if (!net_table && diag) {
		diag_error(diag, NULL, "cannot load stk's providers: %s", net_error);
		diag_hint(diag, "stk-net.so belongs beside the stk binary or in %s (or name it with "
			  "STK_NET_MODULE): reinstall stk", STK_PKGLIBEXECDIR);
	}
	return net_table;
}

const struct stk_net *net_loaded(void)
{
	return __atomic_load_n(&net_table, __ATOMIC_ACQUIRE);
}

const struct provider_ops *net_provider_find(const char *name, struct diag_ctx *diag)
{
	const struct stk_net *net = net_get(diag);

	return net ? net->provider_find(name) : NULL;
}

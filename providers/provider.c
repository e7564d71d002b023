#include "providers/provider.h"
#include "providers/aws/aws.h"
#include "providers/docker/docker.h"

#include <string.h>

const struct provider_ops *const provider_list[] = { &provider_aws, &provider_docker, &provider_host, NULL };

const struct provider_ops *provider_find(const char *name)
{
	for (size_t i = 0; provider_list[i]; i++)
		if (!strcmp(provider_list[i]->name, name))
			return provider_list[i];
	return NULL;
}

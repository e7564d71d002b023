#include "planner/check.h"
int check_module(struct diag_ctx *diag, const struct config_module *m)
{
	(void)diag; (void)m;
	return 0;
}

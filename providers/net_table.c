/* net_table.c: the table stk-net.so gives the core (net.h). */
#include "providers/net.h"

#include "providers/aws/backend.h"
#include "providers/http.h"
#include "providers/provider.h"

const struct stk_net stk_net = {
	.provider_find = provider_find,
	.http_global_init = http_global_init,
	.http_cancel = http_cancel,
	.http_cancelled = http_cancelled,
	.http_cancel_reset = http_cancel_reset,
	.aws_backend_new = aws_backend_new,
	.aws_backend_free = aws_backend_free,
	.aws_backend_remote = aws_backend_remote,
	.aws_backend_path = aws_backend_path,
	.aws_backend_workspaces = aws_backend_workspaces,
	.aws_backend_delete = aws_backend_delete,
};

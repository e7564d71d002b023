/* fake_http.h: the HTTP layer's answers taken from the fuzz input, for fuzz_aws and fuzz_docker.
 * Included once by each; they are linked with -Wl,--wrap=http_do, so every http_do() call in
 * the providers lands in __wrap_http_do() below, and no request ever leaves the process.
 *
 * The input, after the target's own first byte, is a list of answers separated by FAKE_SEP,
 * served in order, one per request. An answer may start with a status line and headers:
 *
 *     HTTP 400
 *     x-amzn-ErrorType: ThrottlingException
 *
 *     <body>
 *
 * and is otherwise a 200 with that body. Once the answers run out, a request fails as one
 * with no answer does (http_do() returns -1 with resp->error set).
 *
 * What the real http_do() does around the transfer, this does too: it calls the request's
 * sign callback (SigV4 for AWS), runs the retry classifier on the answer (http_retryable_aws:
 * the AWS error-code parser), redacts both bodies as the debug log would
 * (http_redact_body: the XML and JSON redaction), and streams a 2xx body to on_body line by
 * line when the request asks for it (the Docker build and push progress), as http.c's
 * deliver() and emit_line() do.
 *
 * Also shared by the two (they use fuzz/fuzz_common.h: include that first): the driver,
 * LLVMFuzzerTestOneInput(), which serves the input's answers and calls the target's
 * fake_ask(PICK, RESULT, DIAG) with the first byte, then releases *RESULT and formats the
 * diagnostics; and read_checked(), a batch read through the provider with every result checked
 * and released. */
#ifndef STK_FUZZ_FAKE_HTTP_H
#define STK_FUZZ_FAKE_HTTP_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "providers/http.h"
#include "providers/provider.h"

#define FAKE_SEP "\n--stk-fuzz--\n"

static const char *fake_in, *fake_end;
static unsigned long fake_requests;

int __wrap_http_do(struct http_client *c, struct http_request *req, struct http_response *resp);

static void fake_http_start(const char *data, size_t len)
{
	fake_in = data;
	fake_end = data + len;
	fake_requests = 0;
}

/* The next answer: [p, *end) */
static const char *fake_next(const char **end)
{
	const char *p = fake_in, *sep;
	size_t seplen = strlen(FAKE_SEP);

	if (!p)
		return NULL;
	sep = memmem(p, (size_t)(fake_end - p), FAKE_SEP, seplen);
	*end = sep ? sep : fake_end;
	fake_in = sep ? sep + seplen : NULL;
	return p;
}

static void fake_deliver(struct http_request *req, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t seg = nl ? (size_t)(nl - p) : n;
		size_t k = seg;

		if (k && p[k - 1] == '\r')
			k--;
		/* a copy of its own, as a line the real layer delivers out of its buffer */
		char *line = xmalloc(k ? k : 1);
		memcpy(line, p, k);
		int rc = req->on_body(req->on_body_arg, line, k);
		free(line);
		if (rc || !nl)
			return;
		p += seg + 1;
		n -= seg + 1;
	}
}

int __wrap_http_do(struct http_client *c, struct http_request *req, struct http_response *resp)
{
	const char *end, *p = fake_next(&end);
	struct buf redacted = BUF_INIT;
	http_classify_fn *classify = req->retryable ? req->retryable : c->retryable;
	void *classify_arg = req->retryable ? req->retryable_arg : c->retryable_arg;

	fake_requests++;
	resp->attempts = 1;
	if (req->sign && req->sign(req->sign_arg, req)) {
		resp->error = xstrdup("signing the request failed");
		return -1;
	}
	if (req->body && req->body_len)
		http_redact_body(http_headers_get(&req->headers, "Content-Type"), req->body, req->body_len,
				 &redacted);
	if (!p) {
		buf_release(&redacted);
		resp->error = xstrdup("connection refused (the fuzz input has no more answers)");
		return -1;
	}
	resp->status = 200;
	if (end - p >= 8 && !memcmp(p, "HTTP ", 5)) {
		long st = 0;
		const char *q = p + 5;
		while (q < end && *q >= '0' && *q <= '9' && st < 1000)
			st = st * 10 + (*q++ - '0');
		if (st >= 100 && st <= 599)
			resp->status = st;
		q = memchr(q, '\n', (size_t)(end - q));
		q = q ? q + 1 : end;
		/* headers, up to a blank line */
		while (q < end && *q != '\n') {
			const char *eol = memchr(q, '\n', (size_t)(end - q));
			const char *colon = memchr(q, ':', (size_t)((eol ? eol : end) - q));
			if (colon) {
				char *name = xstrndup(q, (size_t)(colon - q));
				const char *v = colon + 1;
				while (v < (eol ? eol : end) && *v == ' ')
					v++;
				char *value = xstrndup(v, (size_t)((eol ? eol : end) - v));
				http_headers_add(&resp->headers, name, value);
				free(name);
				free(value);
			}
			q = eol ? eol + 1 : end;
		}
		p = q < end ? q + 1 : end;
	}
	if (req->on_body && resp->status >= 200 && resp->status <= 299)
		fake_deliver(req, p, (size_t)(end - p));
	else
		buf_add(&resp->body, p, (size_t)(end - p));
	if (classify)
		(void)classify(classify_arg, resp);
	if (resp->body.len) {
		buf_reset(&redacted);
		http_redact_body(http_response_header(resp, "Content-Type"), resp->body.data, resp->body.len,
				 &redacted);
	}
	buf_release(&redacted);
	return 0;
}

/* The target's: what the input asks of the provider, by PICK (its first byte). A value that
 * comes back goes in *RESULT (the driver releases it), messages in DIAG. */
static void fake_ask(unsigned pick, struct value **result, struct diag_ctx *diag);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_ctx diag;
	struct buf out = BUF_INIT;
	struct value *result = NULL;

	if (size < 1)
		return 0;
	fake_http_start((const char *)data + 1, size - 1);
	diag_init(&diag);
	fake_ask(data[0], &result, &diag);
	val_unref(result);
	/* the messages made of what the answers said must format */
	format_diags(&diag, &out);
	buf_release(&out);
	diag_release(&diag);
	return 0;
}

/* OPS->read() of the N ITEMS (priors as a state holds them) through P, then each result
 * checked when the read succeeded, and released. */
static inline void read_checked(const struct provider_ops *ops, struct provider *p, struct provider_read *items,
				size_t n, struct diag_ctx *diag)
{
	if (ops->read(p, items, n, diag) == 0)
		for (size_t i = 0; i < n; i++)
			check_result(items[i].result);
	for (size_t i = 0; i < n; i++)
		val_unref(items[i].result);
}

#endif

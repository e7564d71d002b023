/* test_http.c: the HTTP layer against tests/http/fault_server.py on 127.0.0.1 (and a unix
 * socket, and TLS with the certificates in tests/http/fixtures/): success, retries for each
 * kind of failure (counted at the server), giving up, the retry budget, timeouts, Retry-After,
 * the sign hook, cancellation, streaming both ways, connection reuse across 32 threads, and
 * redaction, both as functions and in the debug log (stderr captured): no secret ever shows.
 * Loopback only: a proxy pointing at a dead port is set, and must be ignored. */
#define _GNU_SOURCE
#include "common/diag.h"
#include "providers/http.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/unit.h"

#ifndef STK_SRCDIR
#define STK_SRCDIR "."
#endif

static const char *srcdir;
static char tmpdir[] = "/tmp/stk-test-http-XXXXXX";
static char sock_path[256];
static int port, tls_port, dead_port;
static pid_t server_pid = -1;
static int server_stdin = -1;


#define CHECK(cond, ...) check(!!(cond), __func__, __VA_ARGS__)

/* ---- helpers ---- */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static char *url(const char *path)
{
	return xasprintf("http://127.0.0.1:%d%s", port, path);
}

static char *fixture(const char *name)
{
	return xasprintf("%s/tests/http/fixtures/%s", srcdir, name);
}

/* A client that retries fast, so that the whole test stays short. */
static void client_fast(struct http_client *c)
{
	if (http_client_init(c, NULL))
		abort();
	c->backoff_base_ms = 1;
	c->backoff_cap_ms = 20;
	c->retry_after_cap_ms = 2000;
	c->timeout_ms = 5000;
}

/* One request with the usual plumbing; returns http_do()'s result. */
static int fetch(struct http_client *c, const char *method, const char *path,
		 struct http_response *resp)
{
	struct http_request req;
	char *u = url(path);
	int rc;

	http_request_init(&req, method, u);
	rc = http_do(c, &req, resp);
	http_request_release(&req);
	free(u);
	return rc;
}

static long json_number(const char *body, const char *key)
{
	char *k = xasprintf("\"%s\": ", key);
	const char *p = body ? strstr(body, k) : NULL;
	long v = p ? strtol(p + strlen(k), NULL, 10) : -1;

	free(k);
	return v;
}

/* How many requests the server saw for path. */
static long server_count(const char *path)
{
	struct http_client c;
	struct http_response resp;
	char *p = xasprintf("/count?path=%s", path);
	long n = -1;

	client_fast(&c);
	http_response_init(&resp);
	if (fetch(&c, "GET", p, &resp) == 0 && resp.status == 200)
		n = json_number(resp.body.data, "count");
	http_response_release(&resp);
	http_client_release(&c);
	free(p);
	return n;
}

static long server_connections(const char *kind)
{
	struct http_client c;
	struct http_response resp;
	long n = -1;

	client_fast(&c);
	http_response_init(&resp);
	if (fetch(&c, "GET", "/count?path=/", &resp) == 0 && resp.status == 200)
		n = json_number(resp.body.data, kind);
	http_response_release(&resp);
	http_client_release(&c);
	return n;
}

static int contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

/* Records in a log: lines starting with prefix and then something other than a space. */
static size_t count_records(const char *log, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);

	for (const char *p = log; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, len) && p[len] && p[len] != ' ')
			n++;
	return n;
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	while (hay && (hay = strstr(hay, needle)))
		n++, hay += strlen(needle);
	return n;
}

/* ---- the server ---- */

static int start_server(void)
{
	int in[2], out[2];
	char line[64];
	char *script = xasprintf("%s/tests/http/fault_server.py", srcdir);
	char *cert = fixture("server.pem"), *key = fixture("server-key.pem"), *ca = fixture("ca.pem");
	FILE *f;
	int ret = -1;

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		goto out;
	server_pid = fork();
	if (server_pid < 0)
		goto out;
	if (!server_pid) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execlp("python3", "python3", script, "--unix", sock_path, "--tls", cert, key, ca,
		       "--timeout", "120", (char *)NULL);
		perror("python3");
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	server_stdin = in[1];
	f = fdopen(out[0], "r");
	if (!f)
		goto out;
	if (fgets(line, sizeof line, f))
		port = atoi(line);
	if (fgets(line, sizeof line, f) && !strncmp(line, "tls ", 4))
		tls_port = atoi(line + 4);
	fclose(f);
	if (port > 0 && tls_port > 0)
		ret = 0;
out:
	free(script);
	free(cert);
	free(key);
	free(ca);
	return ret;
}

static void stop_server(void)
{
	if (server_stdin >= 0)
		close(server_stdin); /* the server exits when its stdin closes */
	if (server_pid > 0)
		waitpid(server_pid, NULL, 0);
}

static int have_python3(void)
{
	const char *path = getenv("PATH");
	char *copy = xstrdup(path ? path : "/usr/bin:/bin"), *dir, *save = NULL;
	int found = 0;

	for (dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		char *f = xasprintf("%s/python3", *dir ? dir : ".");

		found = access(f, X_OK) == 0;
		free(f);
	}
	free(copy);
	return found;
}

/* A loopback port with nothing listening: bound, then closed. */
static int closed_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), p = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof sa) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &len))
		p = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return p;
}

/* ---- headers, classifiers, statistics, backoff: no network ---- */

/* stk's main() sets nothing up: the first client must (SIGPIPE ignored, among the rest). */
static void test_global_init(void)
{
	struct sigaction sa;
	struct http_client c;

	/* as a shell starts stk, whatever the harness running this test did */
	signal(SIGPIPE, SIG_DFL);
	CHECK(sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL,
	      "SIGPIPE is at its default before any client");
	CHECK(http_client_init(&c, NULL) == 0, "a client is set up");
	http_client_release(&c);
	CHECK(sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN,
	      "the first client ignores SIGPIPE for the process");
	CHECK(http_global_init(NULL) == 0, "a second set-up does nothing and succeeds");
}

static void test_headers(void)
{
	struct http_headers h = HTTP_HEADERS_INIT;

	http_headers_add(&h, "Content-Type", "text/plain");
	http_headers_add(&h, "X-A", "1");
	http_headers_add(&h, "x-a", "2");
	CHECK(!strcmp(http_headers_get(&h, "content-type"), "text/plain"), "case-insensitive get");
	CHECK(!strcmp(http_headers_get(&h, "X-A"), "1"), "first of duplicates");
	http_headers_set(&h, "X-a", "3");
	CHECK(http_headers_count(&h) == 2 && !strcmp(http_headers_get(&h, "x-a"), "3"),
	      "set replaces all duplicates: %zu headers", http_headers_count(&h));
	CHECK(!strcmp(http_headers_at(&h, 1)->name, "X-A"), "set keeps the first's place");
	http_headers_set(&h, "X-A", http_headers_get(&h, "X-A"));
	CHECK(!strcmp(http_headers_get(&h, "x-a"), "3"), "set to its own value");
	http_headers_add(&h, "X-Dup", "a");
	http_headers_add(&h, "x-dup", "b");
	http_headers_remove(&h, http_headers_at(&h, 2)->name); /* a name about to be freed */
	CHECK(http_headers_count(&h) == 2 && !http_headers_get(&h, "x-dup"), "remove by own name");
	http_headers_set(&h, "X-New", "n");
	http_headers_remove(&h, "CONTENT-TYPE");
	CHECK(http_headers_count(&h) == 2 && !http_headers_get(&h, "Content-Type") &&
	      !strcmp(http_headers_get(&h, "x-new"), "n"), "remove");
	http_headers_release(&h);
}

static void set_resp(struct http_response *r, long status, const char *hname, const char *hval,
		     const char *body)
{
	http_response_release(r);
	http_response_init(r);
	r->status = status;
	if (hname)
		http_headers_add(&r->headers, hname, hval);
	if (body)
		buf_addstr(&r->body, body);
}

static void test_classifiers(void)
{
	static const struct {
		long status;
		const char *hname, *hval, *body, *code;
		int def, aws;
	} cases[] = {
		{ 200, NULL, NULL, "{}", NULL, HTTP_NO_RETRY, HTTP_NO_RETRY },
		{ 404, NULL, NULL, "", NULL, HTTP_NO_RETRY, HTTP_NO_RETRY },
		{ 429, NULL, NULL, "", NULL, HTTP_RETRY_THROTTLED, HTTP_RETRY_THROTTLED },
		{ 500, NULL, NULL, "", NULL, HTTP_RETRY_SERVER, HTTP_RETRY_SERVER },
		{ 502, NULL, NULL, "", NULL, HTTP_RETRY_SERVER, HTTP_RETRY_SERVER },
		{ 503, NULL, NULL, "", NULL, HTTP_RETRY_SERVER, HTTP_RETRY_SERVER },
		{ 504, NULL, NULL, "", NULL, HTTP_RETRY_SERVER, HTTP_RETRY_SERVER },
		{ 501, NULL, NULL, "", NULL, HTTP_NO_RETRY, HTTP_NO_RETRY },
		{ 400, NULL, NULL, "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
		  "</Error></ErrorResponse>", "Throttling", HTTP_NO_RETRY, HTTP_RETRY_THROTTLED },
		{ 503, NULL, NULL, "<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
		  "</Error></Errors></Response>", "RequestLimitExceeded", HTTP_RETRY_SERVER,
		  HTTP_RETRY_THROTTLED },
		{ 400, NULL, NULL, "{\"__type\":\"com.amazon.coral.availability#ThrottlingException\","
		  "\"message\":\"Rate exceeded\"}", "ThrottlingException", HTTP_NO_RETRY,
		  HTTP_RETRY_THROTTLED },
		{ 400, NULL, NULL, "{\"__type\": \"TooManyRequestsException\"}",
		  "TooManyRequestsException", HTTP_NO_RETRY, HTTP_RETRY_THROTTLED },
		{ 400, NULL, NULL, "{\"code\": \"ThrottlingException\", \"message\": \"x\"}",
		  "ThrottlingException", HTTP_NO_RETRY, HTTP_RETRY_THROTTLED },
		{ 400, "x-amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/", "{}",
		  "ThrottlingException", HTTP_NO_RETRY, HTTP_RETRY_THROTTLED },
		{ 503, NULL, NULL, "<Error><Code>SlowDown</Code></Error>", "SlowDown",
		  HTTP_RETRY_SERVER, HTTP_RETRY_THROTTLED },
		{ 400, NULL, NULL, "<Error><Code>RequestTimeout</Code></Error>", "RequestTimeout",
		  HTTP_NO_RETRY, HTTP_RETRY_TRANSIENT },
		{ 400, NULL, NULL, "<ErrorResponse><Error><Code>ValidationError</Code></Error>"
		  "</ErrorResponse>", "ValidationError", HTTP_NO_RETRY, HTTP_NO_RETRY },
		{ 403, NULL, NULL, "{\"__type\":\"AccessDeniedException\"}", "AccessDeniedException",
		  HTTP_NO_RETRY, HTTP_NO_RETRY },
		/* EC2 (Response/Errors/Error/Code), as sent, with its declaration. */
		{ 400, NULL, NULL, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors>"
		  "<Error><Code>InvalidVpcID.NotFound</Code><Message>The vpc ID 'vpc-1' does not "
		  "exist</Message></Error></Errors><RequestID>5e0a</RequestID></Response>",
		  "InvalidVpcID.NotFound", HTTP_NO_RETRY, HTTP_NO_RETRY },
		/* RDS (ErrorResponse/Error/Code), namespaced and indented. */
		{ 404, NULL, NULL, "<ErrorResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">\n"
		  "  <Error>\n    <Type>Sender</Type>\n    <Code>\n      DBInstanceNotFound\n    </Code>\n"
		  "    <Message>DBInstance db-1 not found.</Message>\n  </Error>\n"
		  "  <RequestId>8c5f</RequestId>\n</ErrorResponse>\n",
		  "DBInstanceNotFound", HTTP_NO_RETRY, HTTP_NO_RETRY },
		/* Parsed, not searched: a <Code> in a comment or CDATA is no element. */
		{ 400, NULL, NULL, "<ErrorResponse><!-- <Code>Throttling</Code> --><Error><Message>"
		  "<![CDATA[<Code>Throttling</Code>]]></Message><Code>ValidationError</Code></Error>"
		  "</ErrorResponse>", "ValidationError", HTTP_NO_RETRY, HTTP_NO_RETRY },
		/* An error body that does not parse names no code. */
		{ 503, NULL, NULL, "<Error><Code>SlowDown</Code>", NULL, HTTP_RETRY_SERVER,
		  HTTP_RETRY_SERVER },
		/* JSON: the namespace before '#' and anything after ':' go, as the SDKs do. */
		{ 400, NULL, NULL, "{\"__type\":\"com.amazonaws.ecr#RepositoryNotFoundException\","
		  "\"message\":\"x\"}", "RepositoryNotFoundException", HTTP_NO_RETRY, HTTP_NO_RETRY },
		{ 400, NULL, NULL, "{\"__type\":\"aws.protocoltests.restjson#FooError:http://internal."
		  "amazon.com/coral/com.amazon.coral.validate/\"}", "FooError", HTTP_NO_RETRY,
		  HTTP_NO_RETRY },
		/* "__type" first, then "code", then "Code"; members of nested objects do not count. */
		{ 400, NULL, NULL, "{\"message\":{\"__type\":\"Throttling\"},\"Code\":\"SlowDown\","
		  "\"code\":\"ValidationException\"}", "ValidationException", HTTP_NO_RETRY,
		  HTTP_NO_RETRY },
		{ 503, NULL, NULL, "{\"Code\": \"SlowDown\"}", "SlowDown", HTTP_RETRY_SERVER,
		  HTTP_RETRY_THROTTLED },
		/* The header wins over the body, and loses its ':' suffix. */
		{ 404, "x-amzn-ErrorType",
		  "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.lambda/",
		  "{\"Type\":\"User\",\"__type\":\"Throttling\"}", "ResourceNotFoundException",
		  HTTP_NO_RETRY, HTTP_NO_RETRY },
		{ 400, "x-amzn-ErrorType", "aws.api#TooManyRequestsException:http://internal/", "",
		  "TooManyRequestsException", HTTP_NO_RETRY, HTTP_RETRY_THROTTLED },
	};
	struct http_response r;
	char code[64];

	http_response_init(&r);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int d, a, got;

		set_resp(&r, cases[i].status, cases[i].hname, cases[i].hval, cases[i].body);
		d = http_retryable_default(NULL, &r);
		a = http_retryable_aws(NULL, &r);
		got = http_aws_error_code(&r, code, sizeof code);
		CHECK(d == cases[i].def, "case %zu: default classifier %d, want %d", i, d, cases[i].def);
		CHECK(a == cases[i].aws, "case %zu: AWS classifier %d, want %d", i, a, cases[i].aws);
		if (cases[i].code)
			CHECK(got == 0 && !strcmp(code, cases[i].code), "case %zu: AWS code '%s'", i,
			      got ? "(none)" : code);
		else
			CHECK(got < 0, "case %zu: no AWS code, got '%s'", i, code);
	}
	/* A code that does not fit is none: cut short, it could name another. */
	set_resp(&r, 400, NULL, NULL, "{\"__type\":\"ThrottlingException\"}");
	CHECK(http_aws_error_code(&r, code, 11) < 0 && !code[0], "a code cut to '%s'", code);
	CHECK(http_aws_error_code(&r, code, 20) == 0 && !strcmp(code, "ThrottlingException"),
	      "a code that just fits: '%s'", code);
	http_response_release(&r);
}

static void test_stats_describe(void)
{
	struct http_stats s;
	struct buf b = BUF_INIT;

	memset(&s, 0, sizeof s);
	http_stats_describe(&s, &b);
	CHECK(!strcmp(b.data, "no retries"), "'%s'", b.data);
	s.retries = 12;
	s.retries_by[HTTP_RETRY_THROTTLED] = 8;
	s.retries_by[HTTP_RETRY_RESET] = 4;
	buf_reset(&b);
	http_stats_describe(&s, &b);
	CHECK(!strcmp(b.data, "retried 12 times: 8 throttled, 4 connection resets"), "'%s'", b.data);
	memset(&s, 0, sizeof s);
	s.retries = 1;
	s.retries_by[HTTP_RETRY_TIMEOUT] = 1;
	buf_reset(&b);
	http_stats_describe(&s, &b);
	CHECK(!strcmp(b.data, "retried 1 time: 1 timeout"), "'%s'", b.data);
	buf_release(&b);
}

static void test_backoff(void)
{
	struct http_client c;
	long max = 0, min = 1000000, sum = 0, v;
	int n = 4000, bad = 0;

	client_fast(&c);
	c.backoff_base_ms = 100;
	c.backoff_cap_ms = 20000;
	for (int i = 0; i < n; i++) {
		v = http_backoff_ms(&c, 3); /* random(0, 800) */
		if (v < 0 || v > 800)
			bad++;
		max = v > max ? v : max;
		min = v < min ? v : min;
		sum += v;
	}
	CHECK(!bad, "%d delays outside [0, 800]", bad);
	CHECK(max > 700 && min < 100, "full jitter spans the range: min %ld, max %ld", min, max);
	CHECK(sum / n > 340 && sum / n < 460, "mean %ld, want about 400", sum / n);
	bad = 0;
	for (int i = 0; i < 200; i++) {
		if (http_backoff_ms(&c, 0) > 100 || http_backoff_ms(&c, 40) > 20000)
			bad++;
	}
	CHECK(!bad, "first retry within base, later ones within the cap (%d bad)", bad);
	http_client_release(&c);
}

/* ---- redaction as functions ---- */

static void expect_header(const char *name, const char *value, const char *want)
{
	struct buf b = BUF_INIT;

	http_redact_header(name, value, &b);
	check(!strcmp(buf_cstr(&b), want), "redact_header", "%s: got '%s', want '%s'", name, b.data,
	      want);
	buf_release(&b);
}

static void expect_body(const char *ctype, const char *body, const char *want)
{
	struct buf b = BUF_INIT;

	http_redact_body(ctype, body, strlen(body), &b);
	check(!strcmp(buf_cstr(&b), want), "redact_body", "\n  got  %s\n  want %s", b.data, want);
	buf_release(&b);
}

static void expect_url(const char *u, const char *want)
{
	struct buf b = BUF_INIT;

	http_redact_url(u, &b);
	check(!strcmp(buf_cstr(&b), want), "redact_url", "got '%s', want '%s'", b.data, want);
	buf_release(&b);
}

static void test_redaction(void)
{
	expect_header("Authorization",
		      "AWS4-HMAC-SHA256 Credential=AKIDs3cr3t/20240101/us-east-1/ec2/aws4_request, "
		      "SignedHeaders=host;x-amz-date, Signature=0123abcds3cr3t",
		      "AWS4-HMAC-SHA256 Credential=[redacted], SignedHeaders=host;x-amz-date, "
		      "Signature=[redacted]");
	expect_header("authorization", "Bearer s3cr3t", "Bearer [redacted]");
	expect_header("Authorization", "Basic dXNlcjpzM2NyM3Q=", "Basic [redacted]");
	expect_header("Authorization", "s3cr3t", "[redacted]");
	expect_header("Proxy-Authorization", "Basic abc", "Basic [redacted]");
	expect_header("X-Amz-Security-Token", "s3cr3t", "[redacted]");
	expect_header("X-Registry-Auth", "eyJwYXNzd29yZCI6InMzY3IzdCJ9", "[redacted]");
	expect_header("X-Registry-Config", "eyJhdXRocyI6e319", "[redacted]");
	expect_header("Cookie", "session=s3cr3t", "[redacted]");
	expect_header("Set-Cookie", "session=s3cr3t; HttpOnly", "[redacted]");
	expect_header("X-Amz-Server-Side-Encryption-Customer-Key", "s3cr3t", "[redacted]");
	expect_header("Content-Type", "application/json", "application/json");
	expect_header("X-Amz-Date", "20240101T000000Z", "20240101T000000Z");
	expect_header("WWW-Authenticate", "Bearer realm=\"https://auth.docker.io/token\"",
		      "Bearer realm=\"https://auth.docker.io/token\"");

	/* Form bodies (the AWS query protocol). */
	expect_body("application/x-www-form-urlencoded; charset=utf-8",
		    "Action=CreateUser&UserName=bob&Password=s3cr3t&Version=2010-05-08",
		    "Action=CreateUser&UserName=bob&Password=[redacted]&Version=2010-05-08");
	expect_body(NULL, "Action=X&MasterUser%50assword=s3cr3t&SecretAccessKey=s3cr3t&a=1",
		    "Action=X&MasterUser%50assword=[redacted]&SecretAccessKey=[redacted]&a=1");
	expect_body(NULL, "Action=X&SessionToken=s3cr3t&Empty=&flag",
		    "Action=X&SessionToken=[redacted]&Empty=&flag");

	/* JSON, nested, in arrays, escaped, as lines. It is parsed (jansson) and shown compact,
	 * members in their order. */
	expect_body("application/x-amz-json-1.1",
		    "{\"UserName\":\"bob\",\"Password\":\"s3cr3t\",\"n\":1}",
		    "{\"UserName\":\"bob\",\"Password\":\"[redacted]\",\"n\":1}");
	expect_body(NULL,
		    "{\"a\": {\"SessionToken\" : \"s3\\\"cr3t\"}, \"list\": [{\"secret\": 42}],"
		    " \"auths\": {\"r.io\": {\"auth\": \"s3cr3t\"}}, \"ok\": \"password\"}",
		    "{\"a\":{\"SessionToken\":\"[redacted]\"},\"list\":[{\"secret\":"
		    "\"[redacted]\"}],\"auths\":\"[redacted]\",\"ok\":\"password\"}");
	expect_body("application/json",
		    "{\"username\":\"u\",\"password\":\"s3cr3t\",\"serveraddress\":\"r.io\"}\n"
		    "{\"identitytoken\":\"s3cr3t\"}\n",
		    "{\"username\":\"u\",\"password\":\"[redacted]\",\"serveraddress\":\"r.io\"}\n"
		    "{\"identitytoken\":\"[redacted]\"}\n");
	/* Docker's "Env" entries, and name/value pairs (ECS environments, SSM parameters). */
	expect_body(NULL,
		    "{\"Env\": [\"PATH=/bin\", \"DB_PASSWORD=s3cr3t\", \"API_TOKEN=s3cr3t\"]}",
		    "{\"Env\":[\"PATH=/bin\",\"DB_PASSWORD=[redacted]\",\"API_TOKEN=[redacted]\"]}");
	expect_body(NULL,
		    "{\"environment\": [{\"name\": \"MODE\", \"value\": \"prod\"}, "
		    "{\"value\": \"s3cr3t\", \"name\": \"DB_PASSWORD\"}, "
		    "{\"name\": \"PLAIN\", \"x\": {\"Value\": \"shown\"}}], "
		    "\"Parameter\": {\"Name\": \"/prod/db/password\", \"Type\": \"SecureString\", "
		    "\"Value\": \"s3cr3t\", \"sub\": {\"value\": \"shown too\"}}}",
		    "{\"environment\":[{\"name\":\"MODE\",\"value\":\"prod\"},"
		    "{\"value\":\"[redacted]\",\"name\":\"DB_PASSWORD\"},"
		    "{\"name\":\"PLAIN\",\"x\":{\"Value\":\"shown\"}}],"
		    "\"Parameter\":{\"Name\":\"/prod/db/password\",\"Type\":\"SecureString\","
		    "\"Value\":\"[redacted]\",\"sub\":{\"value\":\"shown too\"}}}");
	expect_body("application/json", "\"DB_PASSWORD=s3cr3t\"", "\"DB_PASSWORD=[redacted]\"");
	expect_body(NULL, "[1, 2.5, true, null, \"\\u00e9\\n\"]", "[1,2.5,true,null,\"\xc3\xa9\\n\"]");
	/* Integers beyond 64 bits are still JSON: read as reals rather than not shown. */
	expect_body(NULL, "{\"n\": 18446744073709551616, \"password\": \"s3cr3t\"}",
		    "{\"n\":1.8446744073709552e19,\"password\":\"[redacted]\"}");

	/* JSON cut short, or malformed, does not parse, and may hold secrets nothing names any
	 * more: none of it is shown. Whole documents before it (JSON lines) still are. */
	expect_body(NULL, "{\"name\":\"x\",\"password\":\"s3cr3t-cut-o",
		    "[36 bytes, not well-formed JSON: not shown]");
	expect_body("application/json", "{\"user\": \"u\", \"pass",
		    "[19 bytes, not well-formed JSON: not shown]");
	expect_body(NULL, "{\"token\": {\"a\": [1, \"s3cr3t",
		    "[27 bytes, not well-formed JSON: not shown]");
	expect_body(NULL, "{\"password\": s3cr3t}", "[20 bytes, not well-formed JSON: not shown]");
	expect_body("application/json", "{\"status\":\"ok\"}\n{\"password\":\"s3cr3t-cut",
		    "{\"status\":\"ok\"}\n[23 bytes, not well-formed JSON: not shown]");
	expect_body("application/json", "{\"a\":1} garbage {\"password\":\"s3cr3t\"}",
		    "{\"a\":1} [29 bytes, not well-formed JSON: not shown]");

	/* XML: elements with and without prefixes, nested, attributes. It is parsed (libxml2) and
	 * written back as it was, without its declaration or DTD. */
	expect_body("text/xml",
		    "<R><Credentials><AccessKeyId>AKID</AccessKeyId><SecretAccessKey>s3cr3t"
		    "</SecretAccessKey><SessionToken>s3cr3t</SessionToken></Credentials></R>",
		    "<R><Credentials>[redacted]</Credentials></R>");
	expect_body(NULL,
		    "<a><AccessKeyId>AKID</AccessKeyId><ns:MasterUserPassword x=\"1\">s3cr3t"
		    "</ns:MasterUserPassword><Password/><User password='s3cr3t' name=\"n\"/></a>",
		    "<a><AccessKeyId>AKID</AccessKeyId><ns:MasterUserPassword x=\"1\">[redacted]"
		    "</ns:MasterUserPassword><Password/><User password=\"[redacted]\" name=\"n\"/>"
		    "</a>");
	expect_body(NULL, "<a><Secret><![CDATA[s3cr3t</Secret>s3cr3t]]></Secret><b>x</b></a>",
		    "<a><Secret>[redacted]</Secret><b>x</b></a>");
	expect_body("text/xml",
		    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- <Password> -->"
		    "<a xmlns:s=\"urn:x\">\n  <s:Token>s3cr3t</s:Token>\n  <b s:secret=\"s3cr3t\">"
		    "caf\xc3\xa9 &amp; &lt;Password&gt;</b>\n</a>\n",
		    "<!-- <Password> --><a xmlns:s=\"urn:x\">\n  <s:Token>[redacted]</s:Token>\n  "
		    "<b s:secret=\"[redacted]\">caf\xc3\xa9 &amp; &lt;Password&gt;</b>\n</a>");
	/* Entities are neither expanded nor fetched, and the DTD that defines them is not shown. */
	expect_body(NULL,
		    "<!DOCTYPE a [<!ENTITY e \"s3cr3t\"><!ENTITY f SYSTEM \"file:///etc/passwd\">]>"
		    "<a><b>&e;</b><c>&f;</c><Password>&e;</Password></a>",
		    "<a><b>&e;</b><c>&f;</c><Password>[redacted]</Password></a>");

	/* XML cut short, or malformed, is not shown at all: a secret cut off mid-value, or whose
	 * element is not closed, could not be told apart from what is safe to show. */
	expect_body(NULL,
		    "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>AKID</AccessKeyId>"
		    "<SecretAccessKey>s3cr3t-cut",
		    "[109 bytes, not well-formed XML: not shown]");
	expect_body("text/xml", "<a><SecretAccessKey>s3cr3t</SecretAccessKey><b>x</b",
		    "[51 bytes, not well-formed XML: not shown]");
	expect_body(NULL, "<?xml version=\"1.0\"?><!-- <Password> --><a><Token>s3cr3t-cut",
		    "[60 bytes, not well-formed XML: not shown]");
	expect_body(NULL, "<a><Password>s3cr3t</a>", "[23 bytes, not well-formed XML: not shown]");
	expect_body("application/xml", "s3cr3t", "[6 bytes, not well-formed XML: not shown]");

	/* HTML (error pages of proxies) goes through libxml2's HTML parser, which mends what is
	 * broken: shown, with secret-looking elements and attributes redacted all the same. */
	expect_body("text/html",
		    "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad "
		    "Gateway</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n",
		    "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad "
		    "Gateway</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>");
	expect_body("text/html; charset=utf-8",
		    "<p>Sign in<form><input name=user><input type=password token=s3cr3t value=x>"
		    "<Secret>s3cr3t</Secret><input token=\"s3cr3t-cut",
		    "<html><body><p>Sign in</p><form><input name=\"user\"><input type=\"password\" "
		    "token=\"[redacted]\" value=\"x\"><secret>[redacted]</secret><input "
		    "token=\"[redacted]\"></form></body></html>");

	/* Pathological bodies stay linear and within the parsers' depth limits (a window of '{',
	 * of '<Password>' tags, or of '"'). */
	{
		size_t n = 64 * 1024;
		char *junk = xmalloc(n + 1);
		struct buf b = BUF_INIT;
		long t0 = now_ms();

		memset(junk, '{', n);
		junk[n] = '\0';
		http_redact_body(NULL, junk, n, &b);
		for (size_t i = 0; i + 10 <= n; i += 10)
			memcpy(junk + i, "<Password>", 10);
		buf_reset(&b);
		http_redact_body(NULL, junk, n, &b);
		buf_reset(&b);
		http_redact_body("text/html", junk, n, &b);
		CHECK(strstr(buf_cstr(&b), "<password>[redacted]</password>") != NULL,
		      "nested HTML: %.60s", b.data);
		memset(junk, '"', n);
		buf_reset(&b);
		http_redact_body("application/json", junk, n, &b);
		CHECK(now_ms() - t0 < 1000, "64 KB of junk took %ld ms", now_ms() - t0);
		buf_release(&b);
		free(junk);
	}

	/* Plain text is shown as it is. */
	expect_body("text/plain", "Step 1/2 : FROM alpine", "Step 1/2 : FROM alpine");

	expect_url("https://user:s3cr3t@registry.example/v2/",
		   "https://user:[redacted]@registry.example/v2/");
	expect_url("https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&"
		   "X-Amz-Credential=AKID%2Fs3cr3t&X-Amz-Signature=s3cr3t&"
		   "X-Amz-Security-Token=s3cr3t&X-Amz-SignedHeaders=host#frag",
		   "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&"
		   "X-Amz-Credential=[redacted]&X-Amz-Signature=[redacted]&"
		   "X-Amz-Security-Token=[redacted]&X-Amz-SignedHeaders=host#frag");
	expect_url("http://127.0.0.1:1/ok", "http://127.0.0.1:1/ok");
	expect_url("http://127.0.0.1:1/p@x?a=b", "http://127.0.0.1:1/p@x?a=b");
}

/* ---- requests against the fault server ---- */

static void test_ok(void)
{
	struct http_client c;
	struct http_response r;
	int rc;

	client_fast(&c);
	http_response_init(&r);
	rc = fetch(&c, "GET", "/ok/basic", &r);
	CHECK(rc == 0 && r.status == 200 && !r.error, "rc %d, status %ld, error %s", rc, r.status,
	      r.error ? r.error : "-");
	CHECK(contains(r.body.data, "\"ok\": true"), "body '%s'", r.body.data);
	CHECK(http_response_header(&r, "CONTENT-TYPE") &&
	      !strcmp(http_response_header(&r, "content-type"), "application/json"),
	      "response headers, looked up without regard to case");
	CHECK(r.attempts == 1, "%u attempts", r.attempts);

	rc = fetch(&c, "GET", "/status/404/basic", &r);
	CHECK(rc == 0 && r.status == 404 && !r.error && r.attempts == 1,
	      "a 404 is an answer: rc %d, status %ld, %u attempts", rc, r.status, r.attempts);

	rc = fetch(&c, "HEAD", "/ok/head", &r);
	CHECK(rc == 0 && r.status == 200 && r.body.len == 0, "HEAD: rc %d, status %ld, %zu bytes",
	      rc, r.status, r.body.len);

	rc = fetch(&c, "DELETE", "/echo/delete", &r);
	CHECK(rc == 0 && contains(r.body.data, "\"method\": \"DELETE\""), "DELETE: %s",
	      r.body.data);
	http_response_release(&r);
	http_client_release(&c);
}

static void test_bodies(void)
{
	struct http_client c;
	struct http_request req;
	struct http_response r;
	char *u = url("/echo/put");
	const char *body = "{\"name\": \"web\"}";

	client_fast(&c);
	http_response_init(&r);
	http_request_init(&req, "PUT", u);
	http_headers_add(&req.headers, "Content-Type", "application/json");
	req.body = body;
	req.body_len = strlen(body);
	CHECK(http_do(&c, &req, &r) == 0 && r.status == 200, "PUT: %s", r.error ? r.error : "");
	CHECK(contains(r.body.data, "\"method\": \"PUT\"") &&
	      contains(r.body.data, "\"json\": {\"name\": \"web\"}"), "PUT body: %s", r.body.data);
	CHECK(!contains(r.body.data, "Expect"), "no Expect: 100-continue");
	http_request_release(&req);
	free(u);

	/* A POST without a Content-Type gets none, rather than curl's form default. */
	u = url("/echo/post");
	http_request_init(&req, "POST", u);
	req.body = "abc";
	req.body_len = 3;
	CHECK(http_do(&c, &req, &r) == 0 && contains(r.body.data, "\"data\": \"abc\"") &&
	      !contains(r.body.data, "Content-Type") &&
	      contains(r.body.data, "\"User-Agent\": \"stk\""), "POST: %s", r.body.data);
	http_request_release(&req);
	free(u);

	/* Header injection is refused before anything is sent. */
	u = url("/ok/inject");
	http_request_init(&req, "GET", u);
	http_headers_add(&req.headers, "X-Evil", "a\r\nX-Injected: 1");
	CHECK(http_do(&c, &req, &r) < 0 && contains(r.error, "invalid request header"), "got %s",
	      r.error ? r.error : "success");
	CHECK(server_count("/ok/inject") == 0, "nothing sent");
	http_request_release(&req);
	free(u);

	/* Redirects: followed only when asked. */
	u = url("/redirect/a?to=/ok/redirected");
	http_request_init(&req, "GET", u);
	CHECK(http_do(&c, &req, &r) == 0 && r.status == 307, "not followed: %ld", r.status);
	req.follow_redirects = 1;
	CHECK(http_do(&c, &req, &r) == 0 && r.status == 200 && contains(r.body.data, "\"ok\""),
	      "followed: %ld %s", r.status, r.body.data);
	CHECK(!http_response_header(&r, "Location"), "headers are the final response's");
	http_request_release(&req);
	free(u);
	http_response_release(&r);
	http_client_release(&c);
}

struct retry_case {
	const char *path;	/* requested */
	const char *counted;	/* at the server */
	long attempts;
	enum http_reason reason;
	int aws;
};

static void test_retries(void)
{
	static const struct retry_case cases[] = {
		{ "/status/503/r1?times=2", "/status/503/r1", 3, HTTP_RETRY_SERVER, 0 },
		{ "/status/500/r2?times=1", "/status/500/r2", 2, HTTP_RETRY_SERVER, 0 },
		{ "/status/429/r3?times=2", "/status/429/r3", 3, HTTP_RETRY_THROTTLED, 0 },
		{ "/throttle/r4?times=3", "/throttle/r4", 4, HTTP_RETRY_THROTTLED, 1 },
		{ "/throttle/r5?times=2&format=json&code=ThrottlingException", "/throttle/r5", 3,
		  HTTP_RETRY_THROTTLED, 1 },
		{ "/throttle/r6?times=2&format=ec2&code=RequestLimitExceeded", "/throttle/r6", 3,
		  HTTP_RETRY_THROTTLED, 1 },
		{ "/throttle/r7?times=1&format=json&code=TooManyRequestsException", "/throttle/r7", 2,
		  HTTP_RETRY_THROTTLED, 1 },
		{ "/reset/r8?times=2", "/reset/r8", 3, HTTP_RETRY_RESET, 0 },
		{ "/reset/r9?times=2&rst=1", "/reset/r9", 3, HTTP_RETRY_RESET, 0 },
		{ "/truncate/r10?times=1", "/truncate/r10", 2, HTTP_RETRY_RESET, 0 },
	};
	struct http_response r;

	http_response_init(&r);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct retry_case *k = &cases[i];
		struct http_client c;
		struct http_stats s;
		long seen;
		int rc;

		client_fast(&c);
		if (k->aws)
			c.retryable = http_retryable_aws;
		rc = fetch(&c, "GET", k->path, &r);
		seen = server_count(k->counted);
		http_client_stats(&c, &s);
		check(rc == 0 && r.status == 200 && r.attempts == k->attempts, k->path,
		      "rc %d, status %ld, %u attempts (want %ld), error %s", rc, r.status, r.attempts,
		      k->attempts, r.error ? r.error : "-");
		check(seen == k->attempts, k->path, "the server saw %ld requests", seen);
		check(s.retries == (unsigned long)k->attempts - 1 &&
		      s.retries_by[k->reason] == s.retries, k->path,
		      "stats: %lu retries, %lu for reason %d", s.retries, s.retries_by[k->reason],
		      (int)k->reason);
		http_client_release(&c);
	}

	/* Without the AWS classifier a throttling 400 is just a 400. */
	{
		struct http_client c;
		int rc;

		client_fast(&c);
		rc = fetch(&c, "GET", "/throttle/r11?times=1", &r);
		CHECK(rc == 0 && r.status == 400 && r.attempts == 1, "default: rc %d, %ld, %u",
		      rc, r.status, r.attempts);
		http_client_release(&c);
	}
	http_response_release(&r);
}

static void test_give_up(void)
{
	struct http_client c;
	struct http_response r;
	struct http_stats s;
	struct diag_ctx ctx;
	char *path;
	int rc;

	client_fast(&c);
	c.max_attempts = 4;
	http_response_init(&r);
	rc = fetch(&c, "GET", "/status/503/give-up", &r);
	CHECK(rc < 0 && r.status == 503 && r.attempts == 4, "rc %d, status %ld, %u attempts", rc,
	      r.status, r.attempts);
	CHECK(r.error && !strcmp(r.error, "gave up after 4 attempts: HTTP 503"), "error '%s'",
	      r.error ? r.error : "-");
	CHECK(server_count("/status/503/give-up") == 4, "the server saw 4");
	CHECK(contains(r.body.data, "injected 503"), "the last body is kept");

	/* Nothing listening: connection failures, retried, then the curl message. */
	path = xasprintf("http://127.0.0.1:%d/nothing", dead_port);
	{
		struct http_request req;

		http_request_init(&req, "GET", path);
		req.max_attempts = 3;
		rc = http_do(&c, &req, &r);
		CHECK(rc < 0 && r.status == 0 && r.attempts == 3 &&
		      contains(r.error, "gave up after 3 attempts: ") &&
		      (contains(r.error, "onnect") || contains(r.error, "refused")),
		      "rc %d, %u attempts, error '%s'", rc, r.attempts, r.error ? r.error : "-");
		diag_init(&ctx);
		http_diag(&ctx, &req, &r);
		CHECK(ctx.errors == 1 && buf_count(&ctx.diags, struct diag) == 1 &&
		      !strncmp(buf_at(&ctx.diags, struct diag, 0).message, "GET http://127.0.0.1:", 21) &&
		      contains(buf_at(&ctx.diags, struct diag, 0).message, "/nothing: gave up after 3"),
		      "diagnostic '%s'", ctx.errors ? buf_at(&ctx.diags, struct diag, 0).message : "");
		diag_release(&ctx);
		http_request_release(&req);
	}
	free(path);
	http_client_stats(&c, &s);
	CHECK(s.retries_by[HTTP_RETRY_CONNECT] == 2 && s.retries_by[HTTP_RETRY_SERVER] == 3 &&
	      s.failures == 2 && s.requests == 2, "stats: %lu connect, %lu server, %lu failures",
	      s.retries_by[HTTP_RETRY_CONNECT], s.retries_by[HTTP_RETRY_SERVER], s.failures);
	http_response_release(&r);
	http_client_release(&c);
}

static void test_budget(void)
{
	struct http_client c;
	struct http_response r;
	struct http_stats s;
	int rc;

	client_fast(&c);
	c.budget_max = 10; /* two retries at 5 */
	http_response_init(&r);
	rc = fetch(&c, "GET", "/status/503/budget1", &r);
	CHECK(rc < 0 && r.attempts == 3 && contains(r.error, "retry budget is exhausted") &&
	      contains(r.error, "HTTP 503"), "rc %d, %u attempts, '%s'", rc, r.attempts,
	      r.error ? r.error : "-");
	CHECK(server_count("/status/503/budget1") == 3, "the server saw 3");

	/* A success at the first attempt gives back 1 token: not enough for a retry. */
	rc = fetch(&c, "GET", "/ok/budget", &r);
	CHECK(rc == 0, "ok");
	rc = fetch(&c, "GET", "/status/503/budget2?times=1", &r);
	CHECK(rc < 0 && r.attempts == 1 && contains(r.error, "retry budget"), "fails fast: %u, %s",
	      r.attempts, r.error ? r.error : "-");
	/* Four more successes: 5 back, so one retry fits again. */
	for (int i = 0; i < 4; i++)
		fetch(&c, "GET", "/ok/budget", &r);
	rc = fetch(&c, "GET", "/status/503/budget3?times=1", &r);
	CHECK(rc == 0 && r.attempts == 2, "refilled: rc %d, %u attempts, %s", rc, r.attempts,
	      r.error ? r.error : "-");
	http_client_stats(&c, &s);
	CHECK(s.budget_exhausted == 2, "%lu refusals", s.budget_exhausted);

	/* budget_max 0: no budget at all. */
	c.budget_max = 0;
	c.max_attempts = 6;
	rc = fetch(&c, "GET", "/status/503/budget4", &r);
	CHECK(rc < 0 && r.attempts == 6 && contains(r.error, "gave up after 6 attempts"), "%s",
	      r.error ? r.error : "-");
	http_response_release(&r);
	http_client_release(&c);
}

static void test_timeouts(void)
{
	struct http_client c;
	struct http_response r;
	struct http_stats s;
	long t0, ms;
	int rc;

	client_fast(&c);
	c.timeout_ms = 300;
	c.max_attempts = 2;
	http_response_init(&r);
	t0 = now_ms();
	rc = fetch(&c, "GET", "/slow/t1?ms=3000", &r);
	ms = now_ms() - t0;
	CHECK(rc < 0 && r.attempts == 2 && contains(r.error, "gave up after 2 attempts") &&
	      contains(r.error, "imed out"), "rc %d, '%s'", rc, r.error ? r.error : "-");
	CHECK(ms >= 550 && ms < 1500, "two 300 ms timeouts took %ld ms", ms);
	http_client_stats(&c, &s);
	CHECK(s.retries_by[HTTP_RETRY_TIMEOUT] == 1, "%lu timeouts", s.retries_by[HTTP_RETRY_TIMEOUT]);

	rc = fetch(&c, "GET", "/slow/t2?ms=1500&times=1", &r);
	CHECK(rc == 0 && r.status == 200 && r.attempts == 2, "slow once: rc %d, %u attempts", rc,
	      r.attempts);
	http_response_release(&r);
	http_client_release(&c);
}

static void test_retry_after(void)
{
	struct http_client c;
	struct http_response r;
	long t0, ms;
	int rc;

	client_fast(&c);
	http_response_init(&r);
	t0 = now_ms();
	rc = fetch(&c, "GET", "/retry-after/ra1?times=1&s=1", &r);
	ms = now_ms() - t0;
	CHECK(rc == 0 && r.attempts == 2, "rc %d, %u attempts", rc, r.attempts);
	CHECK(ms >= 950 && ms < 2500, "Retry-After: 1 waited %ld ms", ms);

	c.retry_after_cap_ms = 200;
	t0 = now_ms();
	rc = fetch(&c, "GET", "/retry-after/ra2?times=1&s=3600", &r);
	ms = now_ms() - t0;
	CHECK(rc == 0 && r.attempts == 2 && ms >= 180 && ms < 1000,
	      "Retry-After: 3600 capped at 200 ms: %ld ms", ms);
	http_response_release(&r);
	http_client_release(&c);
}

struct signer {
	int calls;
	int fail;
};

static int sign_hook(void *arg, struct http_request *req)
{
	struct signer *s = arg;
	char v[64];

	if (s->fail)
		return -1;
	s->calls++;
	snprintf(v, sizeof v, "sig-%d", s->calls);
	http_headers_set(&req->headers, "Authorization", v);
	snprintf(v, sizeof v, "2024010%dT000000Z", s->calls);
	http_headers_set(&req->headers, "X-Amz-Date", v);
	return 0;
}

static void test_sign(void)
{
	struct http_client c;
	struct http_request req;
	struct http_response r;
	struct signer s = { 0, 0 };
	char *u = url("/echo/sign?fail=503&times=2");

	client_fast(&c);
	http_response_init(&r);
	http_request_init(&req, "GET", u);
	http_headers_add(&req.headers, "Authorization", "stale");
	http_headers_add(&req.headers, "authorization", "stale too");
	req.sign = sign_hook;
	req.sign_arg = &s;
	CHECK(http_do(&c, &req, &r) == 0 && r.attempts == 3, "%u attempts, %s", r.attempts,
	      r.error ? r.error : "-");
	CHECK(s.calls == 3, "signed %d times", s.calls);
	CHECK(contains(r.body.data, "\"Authorization\": \"sig-3\"") &&
	      contains(r.body.data, "\"X-Amz-Date\": \"20240103T000000Z\""),
	      "the last attempt carried the last signature, once: %s", r.body.data);
	http_request_release(&req);
	free(u);

	u = url("/ok/sign-fails");
	http_request_init(&req, "GET", u);
	s.fail = 1;
	req.sign = sign_hook;
	req.sign_arg = &s;
	CHECK(http_do(&c, &req, &r) < 0 && contains(r.error, "signing"), "%s",
	      r.error ? r.error : "success");
	CHECK(server_count("/ok/sign-fails") == 0, "nothing sent");
	http_request_release(&req);
	free(u);
	http_response_release(&r);
	http_client_release(&c);
}

/* ---- many threads, one client ---- */

#define THREADS 32
#define PER_THREAD 25

struct worker {
	struct http_client *c;
	pthread_barrier_t *step;
	int id;
	int ok, bad;
	unsigned retried;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct http_response r;
	char path[64];

	http_response_init(&r);
	/* First a retried request each, so that retries run concurrently too. */
	snprintf(path, sizeof path, "/status/503/conc-%d?times=1", w->id);
	if (fetch(w->c, "GET", path, &r) == 0 && r.status == 200)
		w->ok++, w->retried += r.attempts - 1;
	else
		w->bad++;
	/* in steps: every thread gives its handle back before any takes one again, which is
	 * when a pool that kept fewer handles than threads would close some connections and
	 * then open new ones */
	for (int i = 1; i < PER_THREAD; i++) {
		pthread_barrier_wait(w->step);
		if (fetch(w->c, "GET", "/ok/conc", &r) == 0 && r.status == 200)
			w->ok++;
		else
			w->bad++;
	}
	http_response_release(&r);
	return NULL;
}

static void test_concurrency(void)
{
	struct http_client c;
	struct http_response r;
	struct http_stats s;
	pthread_t t[THREADS];
	pthread_barrier_t step;
	struct worker w[THREADS];
	long before, after;
	int ok = 0, bad = 0;
	unsigned retried = 0;

	/* Sequential requests first: one connection for all of them. */
	client_fast(&c);
	http_response_init(&r);
	for (int i = 0; i < 10; i++)
		fetch(&c, "GET", "/ok/seq", &r);
	http_client_stats(&c, &s);
	CHECK(s.connections == 1 && s.requests == 10, "10 requests in a row opened %lu connections",
	      s.connections);
	http_response_release(&r);
	http_client_release(&c);

	client_fast(&c);
	pthread_barrier_init(&step, NULL, THREADS);
	before = server_connections("tcp");
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .c = &c, .step = &step, .id = i };
		pthread_create(&t[i], NULL, worker_main, &w[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		ok += w[i].ok;
		bad += w[i].bad;
		retried += w[i].retried;
	}
	pthread_barrier_destroy(&step);
	/* Minus the one connection server_connections() itself opens. */
	after = server_connections("tcp") - 1;
	http_client_stats(&c, &s);
	CHECK(ok == THREADS * PER_THREAD && !bad, "%d ok, %d failed", ok, bad);
	CHECK(retried == THREADS && s.retries == THREADS, "%u retries, stats %lu", retried,
	      s.retries);
	CHECK(s.requests == THREADS * PER_THREAD, "%lu requests", s.requests);
	/* a connection per thread at most: a pool that closed some would open more */
	CHECK(s.connections >= 1 && s.connections <= THREADS,
	      "%d requests opened %lu connections (CURLINFO_NUM_CONNECTS)", THREADS * PER_THREAD,
	      s.connections);
	CHECK(after - before == (long)s.connections, "the server counted %ld connections, "
	      "the client %lu", after - before, s.connections);
	http_client_release(&c);
}

/* ---- unix sockets and TLS ---- */

static void test_unix_socket(void)
{
	struct http_client c;
	struct http_request req;
	struct http_response r;
	long before = server_connections("unix");

	client_fast(&c);
	http_response_init(&r);
	http_request_init(&req, "GET", "http://localhost/v1.43/ok/unix");
	req.unix_socket = sock_path;
	for (int i = 0; i < 3; i++)
		CHECK(http_do(&c, &req, &r) == 0 && r.status == 200 &&
		      contains(r.body.data, "\"ok\": true"), "unix: %s",
		      r.error ? r.error : r.body.data);
	CHECK(server_count("/v1.43/ok/unix") == 3, "the server saw 3");
	CHECK(server_connections("unix") - before == 1, "one unix connection for three requests");
	http_request_release(&req);

	http_request_init(&req, "GET", "http://localhost/ok/unix-missing");
	req.unix_socket = "/nonexistent/docker.sock";
	req.max_attempts = 2;
	CHECK(http_do(&c, &req, &r) < 0 && r.attempts == 2, "missing socket: %s",
	      r.error ? r.error : "success");
	http_request_release(&req);
	http_response_release(&r);
	http_client_release(&c);
}

static void test_tls(void)
{
	char *u = xasprintf("https://127.0.0.1:%d/ok/tls", tls_port);
	char *ca = fixture("ca.pem"), *other = fixture("other-ca.pem");
	char *cert = fixture("client.pem"), *key = fixture("client-key.pem");
	char *saved_bundle = getenv("CURL_CA_BUNDLE") ? xstrdup(getenv("CURL_CA_BUNDLE")) : NULL;
	char *saved_file = getenv("SSL_CERT_FILE") ? xstrdup(getenv("SSL_CERT_FILE")) : NULL;
	struct http_client c;
	struct http_request req;
	struct http_response r;

	unsetenv("CURL_CA_BUNDLE");
	unsetenv("SSL_CERT_FILE");
	client_fast(&c);
	http_response_init(&r);
	http_request_init(&req, "GET", u);
	req.tls_ca = ca;
	req.tls_cert = cert;
	req.tls_key = key;
	CHECK(http_do(&c, &req, &r) == 0 && r.status == 200, "client certificate: %s",
	      r.error ? r.error : "ok");

	/* The system's CAs do not know our test CA: refused, and not retried. */
	req.tls_ca = NULL;
	CHECK(http_do(&c, &req, &r) < 0 && r.attempts == 1 && r.status == 0 && r.error,
	      "unknown CA: %u attempts, %s", r.attempts, r.error ? r.error : "success");
	req.tls_ca = other;
	CHECK(http_do(&c, &req, &r) < 0 && r.attempts == 1, "wrong CA: %s",
	      r.error ? r.error : "success");

	/* No client certificate: the server hangs up (with TLS 1.3, after the handshake). */
	req.tls_ca = ca;
	req.tls_cert = req.tls_key = NULL;
	req.max_attempts = 2;
	CHECK(http_do(&c, &req, &r) < 0 && r.error, "no client certificate: %s",
	      r.error ? r.error : "success");
	http_request_release(&req);
	http_client_release(&c);

	/* CURL_CA_BUNDLE, read by http_client_init(). */
	setenv("CURL_CA_BUNDLE", ca, 1);
	client_fast(&c);
	http_request_init(&req, "GET", u);
	req.tls_cert = cert;
	req.tls_key = key;
	CHECK(http_do(&c, &req, &r) == 0 && r.status == 200, "CURL_CA_BUNDLE: %s",
	      r.error ? r.error : "ok");
	http_request_release(&req);
	http_client_release(&c);
	unsetenv("CURL_CA_BUNDLE");
	setenv("SSL_CERT_FILE", ca, 1);
	client_fast(&c);
	http_request_init(&req, "GET", u);
	req.tls_cert = cert;
	req.tls_key = key;
	CHECK(http_do(&c, &req, &r) == 0 && r.status == 200, "SSL_CERT_FILE: %s",
	      r.error ? r.error : "ok");
	http_request_release(&req);
	http_client_release(&c);

	if (saved_bundle)
		setenv("CURL_CA_BUNDLE", saved_bundle, 1);
	if (saved_file)
		setenv("SSL_CERT_FILE", saved_file, 1);
	else
		unsetenv("SSL_CERT_FILE");
	free(saved_bundle);
	free(saved_file);
	http_response_release(&r);
	free(u);
	free(ca);
	free(other);
	free(cert);
	free(key);
}

/* ---- cancellation ---- */

struct bg {
	struct http_client *c;
	const char *path;
	struct http_response r;
	int rc;
	long ms;
};

static void *bg_main(void *arg)
{
	struct bg *b = arg;
	long t0 = now_ms();

	b->rc = fetch(b->c, "GET", b->path, &b->r);
	b->ms = now_ms() - t0;
	return NULL;
}

static void run_cancelled(struct http_client *c, const char *path, struct bg *b)
{
	pthread_t t;

	b->c = c;
	b->path = path;
	http_response_init(&b->r);
	pthread_create(&t, NULL, bg_main, b);
	sleep_ms(300);
	http_cancel();
	pthread_join(t, NULL);
}

static void test_cancel(void)
{
	struct http_client c;
	struct http_response r;
	struct bg b;

	client_fast(&c);
	c.timeout_ms = 20000;
	/* In a transfer: the progress callback sees the flag within about a second. */
	run_cancelled(&c, "/slow/cancel1?ms=8000", &b);
	CHECK(b.rc < 0 && contains(b.r.error, "cancelled") && b.ms < 2000,
	      "in a transfer: rc %d, %ld ms, %s", b.rc, b.ms, b.r.error ? b.r.error : "-");
	http_response_release(&b.r);

	/* New requests fail at once while the flag is up. */
	http_response_init(&r);
	CHECK(fetch(&c, "GET", "/ok/cancelled", &r) < 0 && contains(r.error, "cancelled") &&
	      r.attempts == 0, "while cancelled: %s", r.error ? r.error : "success");
	http_cancel_reset();
	CHECK(server_count("/ok/cancelled") == 0, "nothing was sent while cancelled");

	/* In a backoff wait: woken at once by the pipe. Retry-After makes the wait a sure 10 s
	 * (full jitter could pick a short one). */
	c.retry_after_cap_ms = 10000;
	run_cancelled(&c, "/retry-after/cancel2?s=10", &b);
	CHECK(b.rc < 0 && contains(b.r.error, "cancelled") && b.ms < 1000 && b.r.attempts == 1,
	      "in a wait: rc %d, %ld ms, %u attempts, %s", b.rc, b.ms, b.r.attempts,
	      b.r.error ? b.r.error : "-");
	http_response_release(&b.r);
	http_cancel_reset();

	CHECK(fetch(&c, "GET", "/ok/after-cancel", &r) == 0, "works again after the reset");
	http_response_release(&r);
	http_client_release(&c);
}

/* ---- streaming ---- */

struct lines {
	int n;
	long first_ms, t0;
	struct buf all;
	int stop_at;
};

static int on_line(void *arg, const char *data, size_t len)
{
	struct lines *l = arg;

	if (!l->n++)
		l->first_ms = now_ms() - l->t0;
	buf_add(&l->all, data, len);
	buf_addch(&l->all, '|');
	return l->stop_at && l->n >= l->stop_at;
}

static void test_stream(void)
{
	struct http_client c;
	struct http_request req;
	struct http_response r;
	struct lines l;
	char *u = url("/stream/s1?lines=5&ms=150");
	long total;

	client_fast(&c);
	http_response_init(&r);
	memset(&l, 0, sizeof l);
	http_request_init(&req, "GET", u);
	req.on_body = on_line;
	req.on_body_arg = &l;
	req.body_lines = 1;
	l.t0 = now_ms();
	CHECK(http_do(&c, &req, &r) == 0 && r.status == 200, "%s", r.error ? r.error : "ok");
	total = now_ms() - l.t0;
	CHECK(l.n == 6, "%d lines: %s", l.n, l.all.data);
	CHECK(contains(l.all.data, "{\"stream\": \"step 1\"") &&
	      contains(l.all.data, "|{\"stream\": \"no newline at the end\"}|") &&
	      count_of(l.all.data, "\n") == 0, "lines whole, without newlines: %s", l.all.data);
	CHECK(l.first_ms < total - 400, "the first line came at %ld ms of %ld: as it arrived",
	      l.first_ms, total);
	CHECK(r.body.len == 0, "streamed bodies are not kept");
	http_request_release(&req);
	free(u);

	/* Raw chunks: everything, in order. */
	buf_release(&l.all);
	memset(&l, 0, sizeof l);
	u = url("/fixture/docker-build-stream.json");
	http_request_init(&req, "GET", u);
	req.on_body = on_line;
	req.on_body_arg = &l;
	CHECK(http_do(&c, &req, &r) == 0 && contains(l.all.data, "Successfully built 0123\\n\"}\n"),
	      "raw: %s", l.all.data);
	http_request_release(&req);
	free(u);

	/* The callback stops it: not retried. */
	buf_release(&l.all);
	memset(&l, 0, sizeof l);
	l.stop_at = 2;
	u = url("/stream/s2?lines=5&ms=10");
	http_request_init(&req, "GET", u);
	req.on_body = on_line;
	req.on_body_arg = &l;
	req.body_lines = 1;
	CHECK(http_do(&c, &req, &r) < 0 && r.attempts == 1 && l.n == 2 &&
	      contains(r.error, "aborted by the response body callback"), "stop: %d lines, %s", l.n,
	      r.error ? r.error : "-");
	http_request_release(&req);
	free(u);

	/* An error status is not streamed, so it can be retried. */
	buf_release(&l.all);
	memset(&l, 0, sizeof l);
	u = url("/status/500/s3?times=1");
	http_request_init(&req, "GET", u);
	req.on_body = on_line;
	req.on_body_arg = &l;
	req.body_lines = 1;
	CHECK(http_do(&c, &req, &r) == 0 && r.attempts == 2 && l.n == 1 &&
	      contains(l.all.data, "\"ok\": true"), "retried before streaming: %d lines %s", l.n,
	      l.all.data);
	http_request_release(&req);
	free(u);

	/* Cut off after some of it was delivered: not retried (the callback would see it twice). */
	buf_release(&l.all);
	memset(&l, 0, sizeof l);
	u = url("/truncate/s4");
	http_request_init(&req, "GET", u);
	req.on_body = on_line;
	req.on_body_arg = &l;
	CHECK(http_do(&c, &req, &r) < 0 && r.attempts == 1 &&
	      contains(r.error, "part of the response was already delivered"), "%s",
	      r.error ? r.error : "success");
	CHECK(server_count("/truncate/s4") == 1, "sent once");
	http_request_release(&req);
	free(u);
	buf_release(&l.all);
	http_response_release(&r);
	http_client_release(&c);
}

struct gen {
	size_t total, pos;
	int rewinds;
};

static ssize_t gen_read(void *arg, char *p, size_t len)
{
	struct gen *g = arg;
	size_t n = g->total - g->pos < len ? g->total - g->pos : len;

	for (size_t i = 0; i < n; i++)
		p[i] = (char)('a' + (g->pos + i) % 26);
	g->pos += n;
	return (ssize_t)n;
}

static int gen_rewind(void *arg)
{
	struct gen *g = arg;

	g->pos = 0;
	g->rewinds++;
	return 0;
}

static void test_upload(void)
{
	struct http_client c;
	struct http_request req;
	struct http_response r;
	char *file = xasprintf("%s/upload.bin", tmpdir);
	char *u;
	struct gen g;
	int fd, p[2];
	char block[4096];

	client_fast(&c);
	http_response_init(&r);
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600);
	memset(block, 'x', sizeof block);
	for (int i = 0; i < 50; i++)
		if (write(fd, block, sizeof block) != (ssize_t)sizeof block)
			CHECK(0, "write");

	/* From a file, known size, failing twice after the server read it: rewound each time. */
	lseek(fd, 0, SEEK_SET);
	u = url("/upload/u1?fail=503&times=2");
	http_request_init(&req, "POST", u);
	http_headers_add(&req.headers, "Content-Type", "application/x-tar");
	req.upload_fd = fd;
	req.upload_len = 50 * 4096;
	CHECK(http_do(&c, &req, &r) == 0 && r.attempts == 3 &&
	      json_number(r.body.data, "len") == 50 * 4096 && contains(r.body.data, "\"chunked\": false"),
	      "fd upload: %u attempts, %s", r.attempts, r.error ? r.error : r.body.data);
	http_request_release(&req);
	free(u);

	/* From a callback, unknown size (chunked), rewound for the retry. */
	memset(&g, 0, sizeof g);
	g.total = 100000;
	u = url("/upload/u2?fail=503&times=1");
	http_request_init(&req, "PUT", u);
	req.upload_read = gen_read;
	req.upload_rewind = gen_rewind;
	req.upload_arg = &g;
	CHECK(http_do(&c, &req, &r) == 0 && r.attempts == 2 && g.rewinds == 1 &&
	      json_number(r.body.data, "len") == 100000 && contains(r.body.data, "\"chunked\": true"),
	      "callback upload: %u attempts, %d rewinds, %s", r.attempts, g.rewinds,
	      r.error ? r.error : r.body.data);
	http_request_release(&req);
	free(u);

	/* No rewind: the failure is final, and says why. */
	memset(&g, 0, sizeof g);
	g.total = 1000;
	u = url("/upload/u3?fail=503&times=1");
	http_request_init(&req, "POST", u);
	req.upload_read = gen_read;
	req.upload_arg = &g;
	CHECK(http_do(&c, &req, &r) < 0 && r.attempts == 1 && r.status == 503 &&
	      contains(r.error, "HTTP 503; not retried: the request body is a stream that cannot "
		       "be rewound"), "%s", r.error ? r.error : "success");
	http_request_release(&req);
	free(u);

	/* A pipe cannot be rewound either. */
	if (pipe(p) == 0) {
		if (write(p[1], "hello", 5) != 5)
			CHECK(0, "write");
		close(p[1]);
		u = url("/upload/u4?fail=503&times=1");
		http_request_init(&req, "POST", u);
		req.upload_fd = p[0];
		CHECK(http_do(&c, &req, &r) < 0 && r.attempts == 1 && contains(r.error, "rewound"),
		      "pipe: %s", r.error ? r.error : "success");
		http_request_release(&req);
		free(u);
		close(p[0]);
	}

	/* Nothing read yet (nothing listening): retrying needs no rewind. */
	memset(&g, 0, sizeof g);
	g.total = 1000;
	u = xasprintf("http://127.0.0.1:%d/upload", dead_port);
	http_request_init(&req, "POST", u);
	req.upload_read = gen_read;
	req.upload_arg = &g;
	req.max_attempts = 3;
	CHECK(http_do(&c, &req, &r) < 0 && r.attempts == 3 && contains(r.error, "gave up after 3"),
	      "%s", r.error ? r.error : "success");
	http_request_release(&req);
	free(u);

	close(fd);
	unlink(file);
	free(file);
	http_response_release(&r);
	http_client_release(&c);
}

/* ---- the log ---- */

/* Runs fn with stderr going to a file; returns what was written. */
static char *capture_stderr(void (*fn)(void *), void *arg) __attribute__((returns_nonnull));

static char *capture_stderr(void (*fn)(void *), void *arg)
{
	char *path = xasprintf("%s/stderr.log", tmpdir);
	struct buf b = BUF_INIT;
	int fd, saved;
	FILE *f;
	char tmp[4096];
	size_t n;

	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	close(fd);
	fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fopen(path, "r");
	while (f && (n = fread(tmp, 1, sizeof tmp, f)) > 0)
		buf_add(&b, tmp, n);
	if (f)
		fclose(f);
	unlink(path);
	free(path);
	return buf_detach(&b, NULL);
}

/* Base64 of {"username":"u","password":"s3cr3t-registry-auth","serveraddress":"r.io"}. */
#define REGISTRY_AUTH "eyJ1c2VybmFtZSI6InUiLCJwYXNzd29yZCI6InMzY3IzdC1yZWdpc3RyeS1hdXRoIiwic2Vy" \
	"dmVyYWRkcmVzcyI6InIuaW8ifQ=="

struct secret_run {
	int run;	/* paths differ from run to run, so that "fail the first" fails again */
	int requests;
};

static void post(struct http_client *c, const char *path, const char *ctype, const char *body,
		 int secret_headers, struct secret_run *run)
{
	struct http_request req;
	struct http_response r;
	char *u = url(path);

	http_request_init(&req, body ? "POST" : "GET", u);
	if (ctype)
		http_headers_add(&req.headers, "Content-Type", ctype);
	if (secret_headers) {
		http_headers_add(&req.headers, "Authorization",
				 "AWS4-HMAC-SHA256 Credential=AKIDs3cr3t-access-key/20240101/"
				 "us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, "
				 "Signature=s3cr3t0123456789abcdef");
		http_headers_add(&req.headers, "X-Amz-Date", "20240101T000000Z");
		http_headers_add(&req.headers, "X-Amz-Security-Token", "s3cr3t-security-token");
		http_headers_add(&req.headers, "X-Registry-Auth", REGISTRY_AUTH);
		http_headers_add(&req.headers, "X-Registry-Config", "s3cr3t-registry-config");
		http_headers_add(&req.headers, "Cookie", "session=s3cr3t-cookie");
	}
	if (body) {
		req.body = body;
		req.body_len = strlen(body);
	}
	http_response_init(&r);
	http_do(c, &req, &r);
	run->requests++;
	http_response_release(&r);
	http_request_release(&req);
	free(u);
}

static int discard(void *arg, const char *data, size_t len)
{
	(void)arg;
	(void)data;
	(void)len;
	return 0;
}

static void secret_traffic(void *arg)
{
	struct secret_run *run = arg;
	struct http_client c;
	struct http_request req;
	struct http_response r;
	struct buf big = BUF_INIT;
	char *u;

	client_fast(&c);
	u = xasprintf("/echo/log-json-%d?fail=503&times=1", run->run);
	post(&c, "/echo/log-form", "application/x-www-form-urlencoded; charset=utf-8",
	     "Action=CreateUser&UserName=bob&Password=s3cr3t-form-password&"
	     "SecretAccessKey=s3cr3t-form-key&Version=2010-05-08", 1, run);
	post(&c, u, "application/json",
	     "{\"username\":\"bob\",\"password\":\"s3cr3t-json-password\",\"nested\":"
	     "{\"SessionToken\":\"s3cr3t-json-token\"},\"identitytoken\":\"s3cr3t-identity\","
	     "\"auths\":{\"r.io\":{\"auth\":\"s3cr3t-docker-auth\"}},"
	     "\"Env\":[\"DB_PASSWORD=s3cr3t-env\"],\"environment\":[{\"name\":\"API_KEY\","
	     "\"value\":\"s3cr3t-ecs-env\"}]}", 1, run);
	free(u);
	post(&c, "/ok/log-xml", "text/xml",
	     "<CreateDBInstance><MasterUserPassword>s3cr3t-xml-password</MasterUserPassword>"
	     "</CreateDBInstance>", 0, run);
	post(&c, "/fixture/sts-assume-role.xml", NULL, NULL, 0, run);
	post(&c, "/fixture/ecr-authorization-token.json", NULL, NULL, 0, run);
	post(&c, "/cookie/log", NULL, NULL, 0, run);
	post(&c, "/echo/log-query?X-Amz-Credential=AKID%2Fs3cr3t-q&X-Amz-Signature=s3cr3t-qsig&"
	     "X-Amz-Security-Token=s3cr3t-qtoken&X-Amz-SignedHeaders=host", NULL, NULL, 0, run);

	/* A password in the URL: curl turns it into Basic auth, which the echo shows. */
	u = xasprintf("http://bob:s3cr3t-url-password@127.0.0.1:%d/echo/log-userinfo", port);
	http_request_init(&req, "GET", u);
	http_response_init(&r);
	http_do(&c, &req, &r);
	run->requests++;
	http_response_release(&r);
	http_request_release(&req);
	free(u);

	/* A streamed response goes to the log too. */
	u = url("/fixture/registry-token.json");
	http_request_init(&req, "GET", u);
	req.on_body = discard;
	http_response_init(&r);
	http_do(&c, &req, &r);
	run->requests++;
	http_response_release(&r);
	http_request_release(&req);
	free(u);

	/* The log keeps only the start of a streamed response: here it is cut inside a long
	 * password, so it does not parse and is not shown. The request, in memory, is parsed
	 * whole. */
	buf_addstr(&big, "{\"pad\":\"");
	buf_addchars(&big, 'x', 40000);
	buf_addstr(&big, "\",\"password\":\"s3cr3t-long-");
	buf_addchars(&big, 'y', 40000);
	buf_addstr(&big, "\"}");
	u = url("/echo/log-big");
	http_request_init(&req, "POST", u);
	http_headers_add(&req.headers, "Content-Type", "application/json");
	req.body = big.data;
	req.body_len = big.len;
	req.on_body = discard;
	http_response_init(&r);
	http_do(&c, &req, &r);
	run->requests++;
	http_response_release(&r);
	http_request_release(&req);
	free(u);
	buf_release(&big);
	http_client_release(&c);
}

static void test_log(void)
{
	struct secret_run run = { 0 };
	int failed_before = failed;
	char *log;

	/* Debug: everything, redacted. */
	setenv("STK_LOG", "debug", 1);
	log = capture_stderr(secret_traffic, &run);
	CHECK(!contains(log, "s3cr3t"), "a secret leaked into the debug log:\n%s", log);
	CHECK(!contains(log, REGISTRY_AUTH) && !contains(log, "eyJ1c2VybmFtZSI6InUi"),
	      "the registry auth leaked");
	CHECK(count_records(log, "stk http: > ") == (size_t)run.requests + 1 &&
	      count_records(log, "stk http: < ") == (size_t)run.requests + 1,
	      "one request and one response record per attempt (%d requests, one retried)",
	      run.requests);
	CHECK(contains(log, "stk http: > POST http://127.0.0.1:") &&
	      contains(log, "(attempt 1 of 8)") && contains(log, "(attempt 2 of 8)") &&
	      contains(log, "stk http: retrying POST") && contains(log, " ms (attempt "),
	      "method, URL, attempts and timings");
	CHECK(contains(log, "Credential=[redacted], SignedHeaders=host;x-amz-date, "
			    "Signature=[redacted]"), "the Authorization header keeps its shape");
	CHECK(contains(log, "Action=CreateUser&UserName=bob&Password=[redacted]&"
			    "SecretAccessKey=[redacted]&Version=2010-05-08"), "form body");
	CHECK(contains(log, "<MasterUserPassword>[redacted]</MasterUserPassword>"), "XML body");
	CHECK(contains(log, "{\"authorizationData\":\"[redacted]\"}"), "ECR response");
	CHECK(contains(log, "\"token\":\"[redacted]\"") &&
	      contains(log, "\"access_token\":\"[redacted]\"") &&
	      contains(log, "\"expires_in\":300"), "streamed registry token");
	CHECK(contains(log, "<Credentials>[redacted]</Credentials>") &&
	      contains(log, "<Arn>arn:aws:sts::123456789012:assumed-role/deploy/stk</Arn>"),
	      "STS response, parsed and shown");
	CHECK(contains(log, "body (80036 bytes): {\"pad\":\"xxxxxxxx") &&
	      contains(log, "bytes, not well-formed JSON: not shown] [truncated]"),
	      "a long streamed response cut by the log");
	CHECK(contains(log, "X-Amz-Signature=[redacted]") &&
	      contains(log, "X-Amz-SignedHeaders=host"), "query string");
	CHECK(contains(log, "bob:[redacted]@127.0.0.1"), "userinfo in the URL");
	CHECK(contains(log, "X-Amz-Date: 20240101T000000Z"), "other headers are shown");
	CHECK(contains(log, "\"Set-Cookie\"") || contains(log, "Set-Cookie: [redacted]"),
	      "Set-Cookie");
	if (failed > failed_before)
		fprintf(stderr, "--- the debug log ---\n%s---\n", log);
	free(log);

	/* Info: one line per request. */
	run.requests = 0;
	run.run++;
	setenv("STK_LOG", "info", 1);
	log = capture_stderr(secret_traffic, &run);
	CHECK(count_of(log, "\n") == (size_t)run.requests &&
	      count_of(log, "stk http: ") == (size_t)run.requests, "%d requests, log:\n%s",
	      run.requests, log);
	CHECK(contains(log, " 200 in ") && contains(log, "after 2 attempts"), "info lines: %s",
	      log);
	CHECK(!contains(log, "s3cr3t"), "a secret leaked into the info log:\n%s", log);
	free(log);

	/* Unset: nothing at all. */
	run.run++;
	unsetenv("STK_LOG");
	log = capture_stderr(secret_traffic, &run);
	CHECK(!*log, "STK_LOG unset, yet: %s", log);
	free(log);
}

int main(void)
{
	long t0 = now_ms();

	srcdir = getenv("STK_SRCDIR");
	if (!srcdir || !*srcdir)
		srcdir = STK_SRCDIR;
	/* Requests go to 127.0.0.1 only, and never through a proxy: one pointing nowhere proves
	 * it. STK_LOG is the tests' to set. */
	setenv("http_proxy", "http://127.0.0.1:9", 1);
	setenv("HTTPS_PROXY", "http://127.0.0.1:9", 1);
	unsetenv("NO_PROXY");
	unsetenv("no_proxy");
	unsetenv("STK_LOG");
	if (!have_python3()) {
		/* Automake's SKIP: the fault server needs it. */
		fprintf(stderr, "test_http: python3 not found, skipped\n");
		printf("0 passed, 0 failed\n");
		return 77;
	}
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(sock_path, sizeof sock_path, "%s/docker.sock", tmpdir);
	if (start_server()) {
		fprintf(stderr, "cannot start tests/http/fault_server.py\n");
		stop_server();
		return 1;
	}
	dead_port = closed_port();

	test_global_init();
	test_headers();
	test_classifiers();
	test_stats_describe();
	test_backoff();
	test_redaction();
	test_ok();
	test_bodies();
	test_retries();
	test_give_up();
	test_budget();
	test_timeouts();
	test_retry_after();
	test_sign();
	test_concurrency();
	test_unix_socket();
	test_tls();
	test_cancel();
	test_stream();
	test_upload();
	test_log();

	stop_server();
	http_global_cleanup();
	unlink(sock_path);
	rmdir(tmpdir);
	fprintf(stderr, "test_http: %ld ms\n", now_ms() - t0);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

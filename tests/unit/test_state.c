/* test_state.c: the state layer: values to and from JSON and their sensitive paths,
 * addresses, the state model, the file (round trips, serials and lineages, mode, backup,
 * refusals that leave the file alone) and the lock (held by other processes, dead holders,
 * force-unlock). Fixtures are in tests/state/. Runs in a temporary directory of its own. */
#define _GNU_SOURCE
#include "planner/addr.h"
#include "planner/state.h"
#include "planner/uuid.h"
#include "planner/value_json.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/unit.h"

#ifndef STK_SRCDIR
#define STK_SRCDIR "."
#endif

static char tmpdir[] = "/tmp/stk-test-state-XXXXXX";
static const char *srcdir;


#define CHECK(cond, ...) check(!!(cond), __func__, __VA_ARGS__)

/* ---- helpers ---- */

static char *tmp_path(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static int read_bytes(const char *path, struct buf *out)
{
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	buf_reset(out);
	if (!f)
		return -1;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(out, chunk, n);
	fclose(f);
	buf_cstr(out);
	return 0;
}

static void write_bytes(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len) {
		perror(path);
		exit(2);
	}
	fclose(f);
}

static void write_text(const char *path, const char *text)
{
	write_bytes(path, text, strlen(text));
}

static int exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

/* Removes every file in the temporary directory. */
static void clean_dir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *p;
		if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		p = tmp_path(e->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
}

static size_t count_files(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static struct buf diag_buf;

/* All messages and hints, one per line, for matching and for failure reports. */
static const char *diag_text(struct diag_ctx *d)
{
	buf_reset(&diag_buf);
	for (size_t i = 0; i < buf_count(&d->diags, struct diag); i++) {
		struct diag *g = &buf_at(&d->diags, struct diag, i);
		buf_printf(&diag_buf, "%s\n", g->message);
		if (g->hint)
			buf_printf(&diag_buf, "hint: %s\n", g->hint);
	}
	return buf_cstr(&diag_buf);
}

static int diag_has(struct diag_ctx *d, const char *needle)
{
	return strstr(diag_text(d), needle) != NULL;
}

static void diag_reset(struct diag_ctx *d)
{
	diag_release(d);
	diag_init(d);
}

static struct value *str(const char *s)
{
	return val_cstring(s);
}

static struct value *num(double n)
{
	return val_number(n);
}

static struct value *secret(struct value *v)
{
	struct value *m = val_mark(v, VAL_SENSITIVE);

	val_unref(v);
	return m;
}

/* A map from alternating keys and values (taken), NULL-terminated. */
static struct value *map(const char *key, ...)
{
	struct val_pair pairs[32];
	size_t n = 0;
	struct value *v;
	va_list ap;

	va_start(ap, key);
	for (; key; key = va_arg(ap, const char *)) {
		pairs[n].key = xstrdup(key);
		pairs[n].val = va_arg(ap, struct value *);
		n++;
	}
	va_end(ap);
	v = val_map_take(pairs, n);
	return v;
}

static struct value *list(size_t n, ...)
{
	struct value *items[32];
	va_list ap;

	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		items[i] = va_arg(ap, struct value *);
	va_end(ap);
	return val_list_take(items, n);
}

static struct value *set(size_t n, ...)
{
	struct value *items[32];
	va_list ap;

	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		items[i] = va_arg(ap, struct value *);
	va_end(ap);
	return val_set_take(items, n);
}

static int json_equals_text(const json_t *j, const char *text)
{
	json_error_t err;
	json_t *want = json_loads(text, JSON_DECODE_ANY, &err);
	int eq = want && json_equal((json_t *)j, want);

	json_decref(want);
	return eq;
}

static char *json_text(const json_t *j)
{
	return j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) :
		   xstrdup("(null)");
}

/* Two values equal as stored (a set reads back as a list) and in where their marks are. */
static int same_value(const struct value *a, const struct value *b)
{
	json_t *ja = val_to_json(a), *jb = val_to_json(b);
	json_t *pa = val_sensitive_paths(a), *pb = val_sensitive_paths(b);
	int eq = ja && jb && json_equal(ja, jb) && json_equal(pa, pb);

	json_decref(ja);
	json_decref(jb);
	json_decref(pa);
	json_decref(pb);
	return eq;
}

/* ---- values and JSON ---- */

static void test_json_round_trip(void)
{
	struct value *vals[] = {
		val_null(), val_bool(1), val_bool(0), num(3), num(-0.5), num(1e300), num(0.1),
		num(9007199254740993.0), num(-9223372036854775808.0), val_string("a\0b", 3),
		str("héllo \"quoted\" \\ \n"), val_empty_list(), val_empty_map(),
		list(3, num(1), str("a"), list(1, val_null())),
		map("b", map("c", list(1, val_bool(1)), NULL), "a", val_null(), "x y", num(2), NULL),
	};

	for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
		json_t *j = val_to_json(vals[i]);
		struct value *back = j ? val_from_json(j) : NULL;
		struct buf shown = BUF_INIT;

		val_write(vals[i], &shown);
		CHECK(j != NULL, "val_to_json(%s) failed", shown.data);
		CHECK(back && val_equal(back, vals[i]), "%s does not read back", shown.data);
		val_unref(back);
		json_decref(j);
		buf_release(&shown);
		val_unref(vals[i]);
	}
}

static void test_json_numbers(void)
{
	static const struct {
		double n;
		int integer;
	} cases[] = {
		{ 3, 1 }, { -7, 1 }, { 0, 1 }, { 0.5, 0 }, { 1e18, 1 },
		{ 9223372036854775807.0, 0 },   /* that double is 2^63: one past the range */
		{ -9223372036854775808.0, 1 }, { 1e20, 0 }, { 1e-7, 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct value *v = num(cases[i].n);
		json_t *j = val_to_json(v);
		struct value *back = j ? val_from_json(j) : NULL;

		CHECK(j && json_is_integer(j) == cases[i].integer, "%g: %s", cases[i].n,
		      cases[i].integer ? "expected a JSON integer" : "expected a JSON real");
		CHECK(back && back->kind == VAL_NUMBER && back->u.n == cases[i].n,
		      "%g does not read back exactly", cases[i].n);
		val_unref(v);
		val_unref(back);
		json_decref(j);
	}
}

static void test_json_refusals(void)
{
	struct value *unknown = map("a", list(2, num(1), val_unknown(VAL_STRING)), NULL);
	struct value *nan = map("ratio", num(NAN), NULL);
	struct value *inf = num(INFINITY);
	struct value *latin1 = val_string("caf\xe9", 4);
	struct value *badkey = map("caf\xe9", num(1), NULL);
	struct buf where = BUF_INIT;
	const char *why = NULL;
	json_t *j;

	CHECK(val_to_json(unknown) == NULL, "an unknown value was stored");
	j = val_to_json_why(unknown, &where, &why);
	CHECK(!j && why && strstr(why, "not known"), "why: %s", why ? why : "(none)");
	CHECK(!strcmp(buf_cstr(&where), ".a[1]"), "where: %s", buf_cstr(&where));
	{
		struct value *dyn = val_unknown(VAL_DYNAMIC);
		CHECK(val_to_json(dyn) == NULL, "an unknown of unknown kind was stored");
		val_unref(dyn);
	}
	buf_reset(&where);
	CHECK(!val_to_json_why(nan, &where, &why) && !strcmp(buf_cstr(&where), ".ratio"),
	      "NaN: %s", buf_cstr(&where));
	CHECK(val_to_json(inf) == NULL, "infinity was stored");
	CHECK(val_to_json(latin1) == NULL, "a string that is not UTF-8 was stored");
	CHECK(val_to_json(badkey) == NULL, "a key that is not UTF-8 was stored");
	val_unref(unknown);
	val_unref(nan);
	val_unref(inf);
	val_unref(latin1);
	val_unref(badkey);
	buf_release(&where);
}

static void test_sensitive_paths(void)
{
	struct value *v = map(
		"password", secret(str("hunter2")),
		"tags", map("secret", secret(str("s")), "name", str("n"), NULL),
		"rules", list(3, num(1), secret(num(2)), map("k", secret(str("x")), NULL)),
		"whole", secret(map("inner", secret(str("y")), NULL)),
		"ids", set(2, str("b"), secret(str("a"))),
		"plain", str("p"),
		NULL);
	const char *want = "[[\"ids\",0],[\"password\"],[\"rules\",1],[\"rules\",2,\"k\"],"
			   "[\"tags\",\"secret\"],[\"whole\"]]";
	json_t *paths = val_sensitive_paths(v), *j = val_to_json(v);
	struct value *plain = j ? val_from_json(j) : NULL, *marked;
	const char *why = NULL;
	size_t bad;
	char *text = json_text(paths);

	CHECK(json_equals_text(paths, want), "paths: %s", text);
	free(text);
	marked = plain ? val_mark_paths(plain, paths, VAL_SENSITIVE, &bad, &why) : NULL;
	CHECK(marked != NULL, "marking failed: %s", why ? why : "?");
	if (marked) {
		json_t *again = val_sensitive_paths(marked);
		struct value *tags = val_map_get(marked, "tags");
		text = json_text(again);
		CHECK(json_equal(again, paths), "marks do not come back: %s", text);
		free(text);
		json_decref(again);
		CHECK(val_equal(marked, plain), "marking changed the content");
		CHECK(tags && !(tags->marks & VAL_SENSITIVE) &&
		      (val_map_get(tags, "secret")->marks & VAL_SENSITIVE) &&
		      !(val_map_get(tags, "name")->marks & VAL_SENSITIVE),
		      "the marks are not where the paths say");
	}
	CHECK(plain && !val_is_sensitive(plain), "val_from_json made marks");

	/* [] is the value itself */
	{
		json_t *all = json_loads("[[]]", 0, NULL);
		struct value *m = val_mark_paths(plain, all, VAL_SENSITIVE, &bad, &why);
		json_t *back = m ? val_sensitive_paths(m) : NULL;
		CHECK(m && (m->marks & VAL_SENSITIVE) && json_equal(back, all),
		      "the empty path marks the whole value");
		json_decref(back);
		json_decref(all);
		val_unref(m);
	}

	static const struct {
		const char *paths;
		size_t bad;
		const char *why;
	} errors[] = {
		{ "[[\"nope\"]]", 0, "not there" },
		{ "[[\"password\"], [\"rules\", 3]]", 1, "out of range" },
		{ "[[\"rules\", -1]]", 0, "out of range" },
		{ "[[\"password\", \"x\"]]", 0, "not a map" },
		{ "[[\"tags\", 0]]", 0, "not a list" },
		{ "[[\"rules\", 1.5]]", 0, "a step must be" },
		{ "[\"password\"]", 0, "array of steps" },
		{ "{}", 0, "array of paths" },
	};
	for (size_t i = 0; i < sizeof errors / sizeof *errors; i++) {
		json_t *p = json_loads(errors[i].paths, JSON_DECODE_ANY, NULL);
		struct value *m;
		why = NULL;
		bad = 99;
		m = val_mark_paths(plain, p, VAL_SENSITIVE, &bad, &why);
		CHECK(!m && bad == errors[i].bad && why && strstr(why, errors[i].why),
		      "%s: bad %zu, why %s", errors[i].paths, bad, why ? why : "(none)");
		val_unref(m);
		json_decref(p);
	}
	{
		json_t *p = json_loads("[\"a b\", 0, \"c\", \"d\\\"e\"]", 0, NULL);
		struct buf shown = BUF_INIT;
		val_path_format(p, &shown);
		CHECK(!strcmp(buf_cstr(&shown), "[\"a b\"][0].c[\"d\\\"e\"]"), "path shown as %s",
		      buf_cstr(&shown));
		buf_release(&shown);
		json_decref(p);
	}
	val_unref(marked);
	val_unref(plain);
	json_decref(j);
	json_decref(paths);
	val_unref(v);
}

static void test_json_write(void)
{
	/* without reals, exactly what jansson writes */
	const char *docs[] = {
		"{}", "[]", "{\"b\": [1, [], {}, {\"z\": null, \"a\": true}], \"a\": \"x\\u0001\\n\\\"/é\"}",
		"[{\"k\": [false, -3, \"\"]}, 9223372036854775807]", "\"\\u001f\\t\\b\\f\\r\\\\\"",
	};
	static const struct {
		double n;
		const char *text;
	} reals[] = {
		{ 0.1, "0.1" }, { 0.5, "0.5" }, { 1e300, "1e300" }, { 1e-7, "1e-7" },
		{ 1e21, "1e21" }, { -2.5e-300, "-2.5e-300" }, { 1.0 / 3, "0.3333333333333333" },
		{ 123456.789, "123456.789" }, { 2.0, "2.0" },
	};

	for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
		json_t *j = json_loads(docs[i], JSON_DECODE_ANY, NULL);
		char *want = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
		struct buf got = BUF_INIT;
		val_json_write(j, &got);
		CHECK(want && !strcmp(buf_cstr(&got), want), "%s:\ngot:\n%s\njansson:\n%s", docs[i],
		      buf_cstr(&got), want ? want : "?");
		buf_release(&got);
		free(want);
		json_decref(j);
	}
	for (size_t i = 0; i < sizeof reals / sizeof *reals; i++) {
		json_t *j = json_real(reals[i].n), *back;
		struct buf got = BUF_INIT;
		val_json_write(j, &got);
		back = json_loads(buf_cstr(&got), JSON_DECODE_ANY, NULL);
		CHECK(!strcmp(buf_cstr(&got), reals[i].text), "%.17g written as %s", reals[i].n,
		      buf_cstr(&got));
		CHECK(json_is_real(back) && json_real_value(back) == reals[i].n,
		      "%s does not read back as a real %.17g", buf_cstr(&got), reals[i].n);
		json_decref(back);
		json_decref(j);
		buf_release(&got);
	}
}

static void test_uuid(void)
{
	char a[UUID_STR_SIZE], b[UUID_STR_SIZE];

	CHECK(uuid_v4(a) == 0 && uuid_v4(b) == 0, "uuid_v4 failed");
	CHECK(uuid_valid(a) && a[14] == '4' && strchr("89ab", a[19]), "not a v4 UUID: %s", a);
	CHECK(strcmp(a, b) != 0, "two UUIDs are the same");
	CHECK(!uuid_valid("0b5d1e8a-3c2f-4d6e-9a7b-1c2d3e4f5a6") &&
	      !uuid_valid("0b5d1e8a-3c2f-4d6e-9a7b-1c2d3e4f5a6bb") &&
	      !uuid_valid("0b5d1e8a_3c2f-4d6e-9a7b-1c2d3e4f5a6b") && !uuid_valid(""),
	      "uuid_valid takes what is not a UUID");
}

/* ---- addresses ---- */

static void test_addr_round_trip(void)
{
	static const char *const good[] = {
		"aws.vpc.main",
		"aws.subnet.public[\"a\"]",
		"aws.instance.worker[1]",
		"aws.instance.worker[0]",
		"aws.instance.worker[999999999999999]",
		"data.aws.ami.debian",
		"module.web.docker.container.nginx",
		"module.web[0].aws.vpc.x",
		"module.web[\"blue\"].module.db[2].data.aws.ami.x[\"k\"]",
		"aws.s3_bucket.my-logs_2",
		"aws.subnet.public[\"a \\\"b\\\" \\\\ \\n\\t\\r \\u0001 é\"]",
		"aws.subnet.public[\"\"]",
	};
	struct buf out = BUF_INIT, why = BUF_INIT;
	struct addr a;

	addr_init(&a);
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		buf_reset(&out);
		buf_reset(&why);
		int r = addr_parse(&a, good[i], &why);
		CHECK(r == 0, "%s: %s", good[i], buf_cstr(&why));
		if (r)
			continue;
		addr_format(&a, &out);
		CHECK(!strcmp(buf_cstr(&out), good[i]), "%s printed as %s", good[i], out.data);
	}

	/* the pieces */
	addr_parse(&a, "module.web[0].data.aws.ami.debian[\"x\"]", NULL);
	CHECK(a.module && !strcmp(a.module, "module.web[0]") && a.mode == ADDR_DATA &&
	      !strcmp(a.type, "aws.ami") && !strcmp(a.name, "debian") && a.key &&
	      a.key->kind == VAL_STRING && !strcmp(a.key->u.str.s, "x"), "fields");
	addr_parse(&a, "aws.instance.worker[12]", NULL);
	CHECK(!strcmp(a.module, "") && a.mode == ADDR_MANAGED && a.key &&
	      a.key->kind == VAL_NUMBER && a.key->u.n == 12, "count index");

	/* other spellings come out canonical */
	addr_parse(&a, "aws.s.p[\"\\u0041\\ud83d\\ude00\"]", NULL);
	buf_reset(&out);
	addr_format(&a, &out);
	CHECK(!strcmp(buf_cstr(&out), "aws.s.p[\"A\xf0\x9f\x98\x80\"]"), "escapes: %s", out.data);
	addr_release(&a);
	buf_release(&out);
	buf_release(&why);
}

static void test_addr_errors(void)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "", "resource type" },
		{ "aws", "'.'" },
		{ "aws.vpc", "'.' and a resource name" },
		{ "aws.vpc.", "a resource name" },
		{ "aws.vpc.main.extra", "the end of the address" },
		{ "aws.vpc.main[", "an index" },
		{ "aws.vpc.main[0", "']'" },
		{ "aws.vpc.main[01]", "leading zeros" },
		{ "aws.vpc.main[-1]", "an index" },
		{ "aws.vpc.main[1.5]", "']'" },
		{ "aws.vpc.main[1][2]", "one index only" },
		{ "aws.vpc.main[1000000000000000]", "below 10^15" },
		{ "aws.vpc.main[\"a]", "closing" },
		{ "aws.vpc.main[\"\\q\"]", "an escape" },
		{ "aws.vpc.main[\"\\ud800\"]", "low surrogate" },
		{ "aws.vpc.main[\"\\u12\"]", "four hexadecimal" },
		{ "aws.vpc.main[a]", "an index" },
		{ "module.web", "a resource after the module" },
		{ "module.web.", "resource type" },
		{ "module..x.y.z", "a module name" },
		{ "module.web.module.db", "a resource after the module" },
		{ "data.aws.ami", "'.' and a resource name" },
		{ "data.data.x.y", "provider name" },
		{ "data.module.x.y", "provider name" },
		{ "1aws.vpc.x", "resource type" },
		{ "aws..x", "rest of the resource type" },
		{ " aws.vpc.main", "resource type" },
		{ "aws.vpc.main ", "the end" },
		{ "aws.vpc.ma in", "the end" },
	};
	struct buf why = BUF_INIT;
	struct addr a;

	addr_init(&a);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		buf_reset(&why);
		int r = addr_parse(&a, bad[i].text, &why);
		CHECK(r < 0 && strstr(buf_cstr(&why), bad[i].why), "\"%s\": %s (wanted \"%s\")",
		      bad[i].text, r < 0 ? buf_cstr(&why) : "accepted", bad[i].why);
		CHECK(!a.module && !a.type && !a.name && !a.key, "\"%s\" left a filled in",
		      bad[i].text);
	}
	buf_reset(&why);
	addr_parse(&a, "aws.vpc.main[0x]", &why);
	CHECK(strstr(buf_cstr(&why), "column 15") != NULL, "column: %s", buf_cstr(&why));

	CHECK(addr_parse_module("", NULL) == 0 && addr_parse_module("module.a", NULL) == 0 &&
	      addr_parse_module("module.a[0].module.b[\"k\"]", NULL) == 0,
	      "good module paths refused");
	CHECK(addr_parse_module("module.a.", NULL) < 0 && addr_parse_module("modul.a", NULL) < 0 &&
	      addr_parse_module("module.a[00]", NULL) < 0 &&
	      addr_parse_module("module.a.aws.vpc.x", NULL) < 0 &&
	      addr_parse_module("module.a[\"\\u0041\"]", NULL) < 0,
	      "bad module paths accepted");
	{
		/* a module path step by step, as an import block's to is resolved */
		const char *rest = NULL;
		char *name;
		struct value *key;
		CHECK(addr_module_step("module.a[\"k.x\"].module.b", &name, &key, &rest) == 0 &&
		      !strcmp(name, "a") && key && key->kind == VAL_STRING && !strcmp(key->u.str.s, "k.x") &&
		      !strcmp(rest, "module.b"), "the first step of module.a[\"k.x\"].module.b");
		free(name);
		val_unref(key);
		CHECK(addr_module_step("module.b[2]", &name, &key, &rest) == 0 && !strcmp(name, "b") &&
		      key && key->kind == VAL_NUMBER && key->u.n == 2 && !*rest, "the last step module.b[2]");
		free(name);
		val_unref(key);
		CHECK(addr_module_step("module.b", &name, &key, &rest) == 0 && !key && !*rest,
		      "a step without a key");
		free(name);
		CHECK(addr_module_step("aws.vpc.x", &name, &key, &rest) < 0 && !name && !key &&
		      addr_module_step("module.b[", &name, &key, &rest) < 0 && !name && !key &&
		      addr_module_step("module.b[0]x", &name, &key, &rest) < 0 && !name && !key,
		      "bad steps accepted");
	}
	CHECK(addr_valid_provider("aws") && addr_valid_provider("aws.eu") &&
	      !addr_valid_provider("aws.") && !addr_valid_provider("aws.eu.x") &&
	      !addr_valid_provider(""), "addr_valid_provider");
	CHECK(addr_valid_type("aws.vpc") && !addr_valid_type("aws") &&
	      !addr_valid_type("aws.vpc.x") && !addr_valid_type("data.x") &&
	      !addr_valid_type("module.x"), "addr_valid_type");
	addr_release(&a);
	buf_release(&why);
}

static void test_addr_order(void)
{
	/* the order a state file lists things in */
	static const char *const sorted[] = {
		"aws.instance.w",
		"aws.instance.w[0]",
		"aws.instance.w[2]",
		"aws.instance.w[10]",
		"aws.instance.w[\"a\"]",
		"aws.instance.w[\"b\"]",
		"aws.vpc.main",
		"data.aws.ami.a",
		"module.a.aws.vpc.x",
		"module.a[0].aws.vpc.x",
	};
	struct addr a, b;

	addr_init(&a);
	addr_init(&b);
	for (size_t i = 0; i + 1 < sizeof sorted / sizeof *sorted; i++) {
		addr_parse(&a, sorted[i], NULL);
		addr_parse(&b, sorted[i + 1], NULL);
		CHECK(addr_compare(&a, &b) < 0 && addr_compare(&b, &a) > 0 &&
		      addr_compare(&a, &a) == 0, "%s < %s", sorted[i], sorted[i + 1]);
	}
	addr_release(&a);
	addr_release(&b);
}

/* ---- the model ---- */

static struct state_instance *add(struct state *st, const char *address, const char *provider)
{
	struct addr a;
	struct state_instance *inst;

	addr_init(&a);
	if (addr_parse(&a, address, NULL) < 0) {
		fprintf(stderr, "bad address in test: %s\n", address);
		exit(2);
	}
	inst = state_add_instance(st, &a, provider);
	addr_release(&a);
	return inst;
}

static struct state_instance *find(struct state *st, const char *address)
{
	struct addr a;
	struct state_instance *inst;

	addr_init(&a);
	addr_parse(&a, address, NULL);
	inst = state_find_instance(st, &a);
	addr_release(&a);
	return inst;
}

static int removed(struct state *st, const char *address, int resource)
{
	struct addr a;
	int r;

	addr_init(&a);
	addr_parse(&a, address, NULL);
	r = resource ? state_remove_resource(st, &a) : state_remove_instance(st, &a);
	addr_release(&a);
	return r;
}

static void order_of(const struct state *st, struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < st->nresources; i++) {
		const struct state_resource *res = st->resources[i];
		for (size_t j = 0; j < res->ninstances; j++) {
			state_instance_address(res, res->instances[j], out);
			buf_addch(out, ' ');
		}
	}
	buf_cstr(out);
}

/* state_move_instance: everything the state records of the object goes with it, under its
 * resource's provider; a taken or missing address changes nothing. */
static void test_move_instance(void)
{
	struct state st;
	struct buf order = BUF_INIT;
	struct state_instance *inst;
	struct addr a, b;

	state_init(&st);
	addr_init(&a);
	addr_init(&b);
	inst = add(&st, "aws.vpc.old[0]", "aws.eu");
	inst->status = STATE_TAINTED;
	state_instance_set_token(inst, "t");
	state_instance_set_private(inst, "p");
	state_instance_add_dep(inst, "aws.vpc.z");
	add(&st, "aws.vpc.taken", NULL);
	addr_parse(&a, "aws.vpc.old[0]", NULL);
	addr_parse(&b, "module.net.aws.vpc.new[\"x\"]", NULL);
	CHECK(state_move_instance(&st, &a, &b) == 0, "the move failed");
	order_of(&st, &order);
	CHECK(!strcmp(order.data, "aws.vpc.taken module.net.aws.vpc.new[\"x\"] "), "after the move: %s", order.data);
	inst = find(&st, "module.net.aws.vpc.new[\"x\"]");
	CHECK(inst && inst->status == STATE_TAINTED && !strcmp(inst->token, "t") && !strcmp(inst->priv, "p") &&
	      inst->ndeps == 1 && !strcmp(inst->deps[0], "aws.vpc.z") &&
	      !strcmp(state_find_resource(&st, &b)->provider, "aws.eu"), "what the instance held was lost");
	CHECK(state_move_instance(&st, &a, &b) == -1, "moved a missing instance");
	addr_parse(&a, "aws.vpc.taken", NULL);
	CHECK(state_move_instance(&st, &b, &a) == -1 && find(&st, "module.net.aws.vpc.new[\"x\"]"),
	      "moved onto a taken address");
	addr_release(&a);
	addr_release(&b);
	buf_release(&order);
	state_release(&st);
}

static void test_model(void)
{
	struct state st;
	struct buf order = BUF_INIT;
	struct state_instance *inst;
	struct state_output *o;
	struct value *v;
	struct addr a;

	state_init(&st);
	addr_init(&a);
	add(&st, "module.web.aws.vpc.x", NULL);
	add(&st, "aws.subnet.public[\"b\"]", NULL);
	add(&st, "data.aws.ami.debian", "aws.eu");
	add(&st, "aws.instance.w[10]", NULL);
	add(&st, "aws.subnet.public[\"a\"]", NULL);
	add(&st, "aws.instance.w[2]", NULL);
	inst = add(&st, "aws.vpc.main", NULL);
	CHECK(add(&st, "aws.vpc.main", NULL) == inst, "adding twice made two instances");
	order_of(&st, &order);
	CHECK(!strcmp(order.data, "aws.instance.w[2] aws.instance.w[10] aws.subnet.public[\"a\"] "
		      "aws.subnet.public[\"b\"] aws.vpc.main data.aws.ami.debian "
		      "module.web.aws.vpc.x "), "order: %s", order.data);
	CHECK(inst->status == STATE_READY && inst->attrs && inst->attrs->kind == VAL_MAP &&
	      inst->attrs->u.map.n == 0 && !inst->token && !inst->priv && !inst->ndeps,
	      "a new instance is ready with {}");

	addr_parse(&a, "data.aws.ami.debian", NULL);
	CHECK(state_find_resource(&st, &a) &&
	      !strcmp(state_find_resource(&st, &a)->provider, "aws.eu"), "provider kept");
	addr_parse(&a, "aws.vpc.main", NULL);
	CHECK(!strcmp(state_find_resource(&st, &a)->provider, "aws"), "default provider");
	CHECK(find(&st, "aws.subnet.public[\"a\"]") && !find(&st, "aws.subnet.public[\"c\"]") &&
	      !find(&st, "aws.subnet.public") && !find(&st, "aws.subnet.other[\"a\"]") &&
	      find(&st, "aws.instance.w[10]") && !find(&st, "aws.instance.w[\"10\"]"),
	      "finding instances");

	/* keys a count index cannot be */
	addr_set(&a, "", ADDR_MANAGED, "aws.vpc", "k", NULL);
	val_unref(a.key);
	a.key = num(-1);
	CHECK(state_add_instance(&st, &a, NULL) == NULL, "a negative key was taken");
	val_unref(a.key);
	a.key = num(1.5);
	CHECK(state_add_instance(&st, &a, NULL) == NULL, "a fractional key was taken");
	val_unref(a.key);
	a.key = val_bool(1);
	CHECK(state_add_instance(&st, &a, NULL) == NULL, "a bool key was taken");

	state_instance_add_dep(inst, "aws.vpc.z");
	state_instance_add_dep(inst, "aws.subnet.public");
	state_instance_add_dep(inst, "aws.vpc.z");
	CHECK(inst->ndeps == 2 && !strcmp(inst->deps[0], "aws.subnet.public") &&
	      !strcmp(inst->deps[1], "aws.vpc.z"), "dependencies sorted and unique");
	state_instance_set_token(inst, "t");
	state_instance_set_token(inst, NULL);
	state_instance_set_private(inst, "p");
	CHECK(!inst->token && inst->priv && !strcmp(inst->priv, "p"), "token and private");

	CHECK(removed(&st, "aws.subnet.public[\"a\"]", 0) == 0 &&
	      removed(&st, "aws.subnet.public[\"a\"]", 0) < 0, "removing an instance");
	CHECK(removed(&st, "aws.subnet.public[\"b\"]", 0) == 0, "removing the last instance");
	addr_parse(&a, "aws.subnet.public", NULL);
	CHECK(!state_find_resource(&st, &a), "a resource without instances stays");
	CHECK(removed(&st, "aws.instance.w", 1) == 0 && !find(&st, "aws.instance.w[2]") &&
	      removed(&st, "aws.instance.w", 1) < 0, "removing a resource");
	order_of(&st, &order);
	CHECK(!strcmp(order.data, "aws.vpc.main data.aws.ami.debian module.web.aws.vpc.x "),
	      "order after removals: %s", order.data);

	v = str("pw");
	state_set_output(&st, "z", v, 1);
	state_set_output(&st, "a", v, 0);
	state_set_output(&st, "m", v, 0);
	state_set_output(&st, "a", v, 0);
	val_unref(v);
	CHECK(st.noutputs == 3 && !strcmp(st.outputs[0].name, "a") &&
	      !strcmp(st.outputs[1].name, "m") && !strcmp(st.outputs[2].name, "z"),
	      "outputs sorted, replaced");
	o = state_find_output(&st, "z");
	CHECK(o && o->sensitive && (o->value->marks & VAL_SENSITIVE), "sensitive output marked");
	CHECK(state_remove_output(&st, "m") == 0 && state_remove_output(&st, "m") < 0 &&
	      !state_find_output(&st, "m") && st.noutputs == 2, "removing an output");

	addr_release(&a);
	buf_release(&order);
	state_release(&st);
}

/* ---- files ---- */

/* A state with a bit of everything. */
static void build_state(struct state *st)
{
	struct state_instance *inst;
	struct value *v;

	inst = add(st, "aws.db_instance.main", NULL);
	v = map("id", str("db-1"), "password", secret(str("hunter2")), "port", num(5432),
		"cpu", num(0.5), "tags", map("secret", secret(str("s")), "team", str("t"), NULL),
		"ids", set(2, str("b"), secret(str("a"))), NULL);
	state_instance_set_attrs(inst, v);
	val_unref(v);
	state_instance_add_dep(inst, "aws.vpc.main");
	state_instance_set_private(inst, "opaque");

	inst = add(st, "aws.instance.w[1]", NULL);
	inst->status = STATE_TAINTED;
	add(st, "aws.instance.w[0]", NULL);
	inst = add(st, "aws.subnet.public[\"b\"]", NULL);
	inst->status = STATE_PENDING;
	state_instance_set_token(inst, "tok-1");
	add(st, "data.aws.ami.debian", "aws.eu");
	inst = add(st, "module.web[\"x y\"].docker.container.nginx", "docker");
	v = map("env", list(2, str("A=1"), secret(str("S=2"))), "big", num(1e21),
		"third", num(1.0 / 3), "none", val_null(), "yes", val_bool(1), NULL);
	state_instance_set_attrs(inst, v);
	val_unref(v);

	v = str("vpc-1");
	state_set_output(st, "vpc_id", v, 0);
	val_unref(v);
	v = map("user", str("u"), "pw", secret(str("p")), NULL);
	state_set_output(st, "creds", v, 0);
	val_unref(v);
	v = str("s");
	state_set_output(st, "token", v, 1);
	val_unref(v);
}

/* One object and what the state records of it, its deposed objects included. */
static int same_object(const struct state_instance *p, const struct state_instance *q, const char **why)
{
	*why = "instance key or status";
	if (addr_key_compare(p->key, q->key) || p->status != q->status)
		return 0;
	*why = "attributes or their marks";
	if (!same_value(p->attrs, q->attrs))
		return 0;
	*why = "dependencies, token or private";
	if (p->ndeps != q->ndeps || !p->token != !q->token ||
	    (p->token && strcmp(p->token, q->token)) || !p->priv != !q->priv ||
	    (p->priv && strcmp(p->priv, q->priv)))
		return 0;
	for (size_t k = 0; k < p->ndeps; k++)
		if (strcmp(p->deps[k], q->deps[k]))
			return 0;
	*why = "deposed objects";
	if (p->ndeposed != q->ndeposed || !p->deposed_key != !q->deposed_key ||
	    (p->deposed_key && strcmp(p->deposed_key, q->deposed_key)))
		return 0;
	for (size_t k = 0; k < p->ndeposed; k++)
		if (!same_object(p->deposed[k], q->deposed[k], why))
			return 0;
	return 1;
}

static int same_state(const struct state *a, const struct state *b, const char **why)
{
	*why = "serial";
	if (a->serial != b->serial)
		return 0;
	*why = "lineage";
	if (!a->lineage || !b->lineage || strcmp(a->lineage, b->lineage))
		return 0;
	*why = "outputs";
	if (a->noutputs != b->noutputs)
		return 0;
	for (size_t i = 0; i < a->noutputs; i++) {
		const struct state_output *x = &a->outputs[i], *y = &b->outputs[i];
		/* an output with a sensitive part comes back sensitive whole */
		int xs = x->sensitive || val_is_sensitive(x->value);
		if (strcmp(x->name, y->name) || xs != y->sensitive || !val_equal(x->value, y->value))
			return 0;
	}
	*why = "resources";
	if (a->nresources != b->nresources)
		return 0;
	for (size_t i = 0; i < a->nresources; i++) {
		const struct state_resource *x = a->resources[i], *y = b->resources[i];
		*why = "resource fields";
		if (strcmp(x->module, y->module) || x->mode != y->mode || strcmp(x->type, y->type) ||
		    strcmp(x->name, y->name) || strcmp(x->provider, y->provider) ||
		    !x->provider_module != !y->provider_module ||
		    (x->provider_module && strcmp(x->provider_module, y->provider_module)) ||
		    x->ninstances != y->ninstances)
			return 0;
		for (size_t j = 0; j < x->ninstances; j++)
			if (!same_object(x->instances[j], y->instances[j], why))
				return 0;
	}
	return 1;
}

static mode_t file_mode(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_mode & 07777 : (mode_t)-1;
}

static void test_round_trip(void)
{
	struct diag_ctx diag;
	struct state st, back;
	char *path = tmp_path("terraform.tfstate");
	const char *why = "";
	struct state_instance *inst;
	int r;

	diag_init(&diag);
	state_init(&st);
	state_init(&back);
	build_state(&st);
	r = state_write(path, &st, &diag);
	CHECK(r == 0, "write: %s", diag_text(&diag));
	CHECK(st.serial == 1 && st.disk_serial == 1 && st.lineage && uuid_valid(st.lineage),
	      "a first write is serial 1 with a new lineage");
	r = state_read(path, &back, &diag);
	CHECK(r == 0, "read: %s", diag_text(&diag));
	r = same_state(&st, &back, &why);
	CHECK(r, "what was read differs from what was written: %s", why);
	inst = find(&back, "module.web[\"x y\"].docker.container.nginx");
	CHECK(inst && val_map_get(inst->attrs, "env") &&
	      (val_map_get(inst->attrs, "env")->u.list.items[1]->marks & VAL_SENSITIVE) &&
	      !(val_map_get(inst->attrs, "env")->u.list.items[0]->marks & VAL_SENSITIVE),
	      "a mark inside a list comes back");
	CHECK(back.stk_version && back.version == STATE_FORMAT_VERSION, "version fields");
	CHECK(state_find_output(&back, "creds") && state_find_output(&back, "creds")->sensitive,
	      "an output with a sensitive part is stored sensitive");

	/* the same state gives the same bytes */
	{
		size_t la, lb;
		char *ta = state_format(&st, path, &la, &diag);
		char *tb = state_format(&back, path, &lb, &diag);
		struct buf disk = BUF_INIT;
		read_bytes(path, &disk);
		CHECK(ta && tb && la == lb && !memcmp(ta, tb, la), "formats differ");
		CHECK(ta && disk.len == la && !memcmp(disk.data, ta, la),
		      "the file is not what state_format gives");
		CHECK(disk.len && disk.data[disk.len - 1] == '\n', "no final newline");
		free(ta);
		free(tb);
		buf_release(&disk);
	}
	state_release(&st);
	state_release(&back);
	diag_release(&diag);
	clean_dir();
	free(path);
}

/* A state file holding text (what names the part under test) is refused, with want said. */
static void refused(const char *path, const char *text, const char *what, const char *want)
{
	struct diag_ctx diag;
	struct state st;

	diag_init(&diag);
	state_init(&st);
	write_text(path, text);
	CHECK(state_read(path, &st, &diag) == -1 && diag_has(&diag, want), "%s: wanted \"%s\", got %s", what, want,
	      diag_text(&diag));
	state_release(&st);
	diag_release(&diag);
}

/* Deposed objects: the model (add, depose, find, remove, promote, moves), the file (a round
 * trip with marks, dependencies and private data; an older file without any; refusals) */
static void test_deposed(void)
{
	static const struct {
		const char *deposed, *want;
	} refusals[] = {
		{ "[{\"key\": \"XYZ\", \"attributes\": {}}]",
		  "resources[0].instances[0].deposed[0].key: \"XYZ\" is not a deposed object's key" },
		{ "[{\"key\": \"1a2b3c4d\", \"attributes\": {}}, {\"key\": \"1a2b3c4d\", \"attributes\": {}}]",
		  "deposed[1].key: a second deposed object 1a2b3c4d" },
		{ "[{\"key\": \"1a2b3c4d\", \"attributes\": {}, \"status\": \"ready\"}]",
		  "deposed[0]: unknown field \"status\"" },
		{ "[{\"key\": \"1a2b3c4d\"}]", "deposed[0].attributes: missing" },
		{ "{}", "instances[0].deposed: expected an array, found an object" },
	};
	struct diag_ctx diag;
	struct state st, back;
	struct state_instance *inst, *d;
	struct value *v;
	char *path = tmp_path("terraform.tfstate");
	const char *why = "";
	struct buf text = BUF_INIT;
	struct addr from, to;
	int r;

	diag_init(&diag);
	state_init(&st);
	state_init(&back);
	CHECK(state_deposed_key_valid("1a2b3c4d") && !state_deposed_key_valid("1A2B3C4D") &&
	      !state_deposed_key_valid("1a2b3c4") && !state_deposed_key_valid("1a2b3c4d0") &&
	      !state_deposed_key_valid("") && !state_deposed_key_valid(NULL), "key syntax");

	inst = add(&st, "aws.vpc.main", NULL);
	v = map("id", str("vpc-old"), "secret", secret(str("s1")), NULL);
	state_instance_set_attrs(inst, v);
	val_unref(v);
	state_instance_add_dep(inst, "aws.vpc.other");
	state_instance_set_private(inst, "old-private");
	d = state_instance_depose(inst, "ffff0000");
	CHECK(d && d->deposed_key && !strcmp(d->deposed_key, "ffff0000") && d->ndeps == 1 &&
	      d->priv && !strcmp(d->priv, "old-private") &&
	      (val_map_get(d->attrs, "secret")->marks & VAL_SENSITIVE), "depose copies the object");
	CHECK(!state_instance_depose(inst, "ffff0000") && !state_instance_add_deposed(inst, "nothex!!"),
	      "a key taken or not valid is refused");
	/* the new object takes the instance */
	v = map("id", str("vpc-new"), NULL);
	state_instance_set_attrs(inst, v);
	val_unref(v);
	state_instance_set_private(inst, NULL);
	d = state_instance_add_deposed(inst, "0000aaaa");
	v = map("id", str("vpc-older"), NULL);
	state_instance_set_attrs(d, v);
	val_unref(v);
	CHECK(inst->ndeposed == 2 && !strcmp(inst->deposed[0]->deposed_key, "0000aaaa") &&
	      !strcmp(inst->deposed[1]->deposed_key, "ffff0000"), "sorted by key");
	CHECK(state_instance_find_deposed(inst, "ffff0000") && !state_instance_find_deposed(inst, "12345678"),
	      "find");

	/* written and read back, marks and all */
	r = state_write(path, &st, &diag);
	CHECK(r == 0, "write: %s", diag_text(&diag));
	read_bytes(path, &text);
	CHECK(strstr(text.data, "\"deposed\": [") && strstr(text.data, "\"key\": \"ffff0000\""),
	      "the file holds the deposed objects:\n%s", text.data);
	r = state_read(path, &back, &diag);
	CHECK(r == 0, "read: %s", diag_text(&diag));
	r = same_state(&st, &back, &why);
	CHECK(r, "what was read differs from what was written: %s", why);
	d = find(&back, "aws.vpc.main") ? state_instance_find_deposed(find(&back, "aws.vpc.main"), "ffff0000") : NULL;
	CHECK(d && (val_map_get(d->attrs, "secret")->marks & VAL_SENSITIVE) &&
	      !strcmp(val_map_get(d->attrs, "id")->u.str.s, "vpc-old"), "a deposed object's sensitive mark comes back");
	state_release(&back);
	state_init(&back);

	/* what cannot be stored in one is named by its place, and nothing is written */
	d = state_instance_find_deposed(inst, "0000aaaa");
	v = map("x", val_unknown(VAL_STRING), NULL);
	state_instance_set_attrs(d, v);
	val_unref(v);
	diag_reset(&diag);
	CHECK(state_write(path, &st, &diag) == -1 &&
	      diag_has(&diag, "cannot store aws.vpc.main at deposed[0].attributes.x in state file"),
	      "an unknown value in a deposed object: %s", diag_text(&diag));
	v = map("id", str("vpc-older"), NULL);
	state_instance_set_attrs(d, v);
	val_unref(v);

	/* a move takes them along */
	addr_init(&from);
	addr_init(&to);
	addr_parse(&from, "aws.vpc.main", NULL);
	addr_parse(&to, "aws.vpc.moved", NULL);
	CHECK(state_move_instance(&st, &from, &to) == 0 && find(&st, "aws.vpc.moved") &&
	      find(&st, "aws.vpc.moved")->ndeposed == 2, "moved with its deposed objects");
	addr_release(&from);
	addr_release(&to);

	/* removed one by one; the last current object gone gives way to a deposed one */
	inst = find(&st, "aws.vpc.moved");
	CHECK(state_instance_remove_deposed(inst, "0000aaaa") == 0 &&
	      state_instance_remove_deposed(inst, "0000aaaa") == -1 && inst->ndeposed == 1, "remove");
	CHECK(state_instance_promote_deposed(inst) == 0 && inst->ndeposed == 0 &&
	      inst->status == STATE_TAINTED && !strcmp(val_map_get(inst->attrs, "id")->u.str.s, "vpc-old") &&
	      inst->ndeps == 1 && inst->priv && !strcmp(inst->priv, "old-private"), "promote");
	CHECK(state_instance_promote_deposed(inst) == -1, "nothing left to promote");

	/* refusals */
	for (size_t i = 0; i < sizeof refusals / sizeof *refusals; i++) {
		char *file = xasprintf("{\"version\": 1, \"serial\": 1, \"lineage\": \"l\", \"resources\": "
				       "[{\"mode\": \"managed\", \"type\": \"aws.vpc\", \"name\": \"x\", "
				       "\"provider\": \"aws\", \"instances\": [{\"status\": \"ready\", "
				       "\"attributes\": {}, \"deposed\": %s}]}]}\n", refusals[i].deposed);
		refused(path, file, refusals[i].deposed, refusals[i].want);
		free(file);
	}

	state_release(&st);
	state_release(&back);
	diag_release(&diag);
	buf_release(&text);
	clean_dir();
	free(path);
}

/* The module whose provider block made a resource's objects (provider_module): written only
 * when set, read back, moved with the object, and refused by name when it is not a module
 * path; a state without it is the same bytes as before. */
static void test_provider_module(void)
{
	static const struct {
		const char *field, *want;
	} refusals[] = {
		{ "\"\"", "resources[0].provider_module: must not be empty" },
		{ "\"net\"", "resources[0].provider_module: \"net\" is not a module path" },
		{ "\"module.net.\"", "resources[0].provider_module: \"module.net.\" is not a module path" },
		{ "7", "resources[0].provider_module: expected a string, found an integer" },
	};
	struct diag_ctx diag;
	struct state st, back;
	struct state_resource *res;
	char *path = tmp_path("terraform.tfstate");
	const char *why = "", *at;
	struct buf text = BUF_INIT;
	struct addr from, to;
	int r;

	diag_init(&diag);
	state_init(&st);
	state_init(&back);
	add(&st, "aws.vpc.root", NULL);
	add(&st, "module.net.aws.vpc.inherited", NULL);
	add(&st, "module.net.aws.vpc.this", NULL);
	addr_init(&from);
	addr_parse(&from, "module.net.aws.vpc.this", NULL);
	res = state_find_resource(&st, &from);
	state_resource_set_provider_module(res, "module.net");
	CHECK(res->provider_module && !strcmp(res->provider_module, "module.net") && !strcmp(res->provider, "aws"),
	      "set");

	/* once in the file, for the one resource; read back as it was */
	r = state_write(path, &st, &diag);
	CHECK(r == 0, "write: %s", diag_text(&diag));
	read_bytes(path, &text);
	at = strstr(text.data, "\"provider_module\": \"module.net\"");
	CHECK(at && !strstr(at + strlen("\"provider_module\""), "provider_module") &&
	      at > strstr(text.data, "\"name\": \"this\""), "the file holds module.net.aws.vpc.this's provider_module alone:\n%s", text.data);
	r = state_read(path, &back, &diag);
	CHECK(r == 0, "read: %s", diag_text(&diag));
	r = same_state(&st, &back, &why);
	CHECK(r, "what was read differs from what was written: %s", why);
	CHECK(state_find_resource(&back, &from) && state_find_resource(&back, &from)->provider_module &&
	      find(&back, "aws.vpc.root"), "read back");

	/* without it, the bytes of a state from before the field */
	state_resource_set_provider_module(res, NULL);
	{
		size_t len;
		char *t = state_format(&st, path, &len, &diag);
		CHECK(t && !strstr(t, "provider_module"), "a state without the field still writes none");
		free(t);
	}
	state_resource_set_provider_module(res, "module.net");

	/* a move keeps the block that made it, as it keeps the provider */
	addr_init(&to);
	addr_parse(&to, "aws.vpc.moved", NULL);
	CHECK(state_move_instance(&st, &from, &to) == 0 && state_find_resource(&st, &to)->provider_module &&
	      !strcmp(state_find_resource(&st, &to)->provider_module, "module.net"), "moved with its block's module");
	addr_release(&to);

	/* a path that is not a module's is not written */
	addr_init(&to);
	addr_parse(&to, "aws.vpc.moved", NULL);
	state_resource_set_provider_module(state_find_resource(&st, &to), "net");
	addr_release(&to);
	diag_reset(&diag);
	CHECK(state_write(path, &st, &diag) == -1 && diag_has(&diag, "provider_module is not valid"),
	      "a bad provider_module is written: %s", diag_text(&diag));

	/* refusals, by the field's name */
	for (size_t i = 0; i < sizeof refusals / sizeof *refusals; i++) {
		char *file = xasprintf("{\"version\": 1, \"serial\": 1, \"lineage\": \"l\", \"resources\": "
				       "[{\"mode\": \"managed\", \"type\": \"aws.vpc\", \"name\": \"x\", "
				       "\"module\": \"module.net\", \"provider\": \"aws\", \"provider_module\": %s, "
				       "\"instances\": [{\"status\": \"ready\", \"attributes\": {}}]}]}\n",
				       refusals[i].field);
		refused(path, file, refusals[i].field, refusals[i].want);
		free(file);
	}

	addr_release(&from);
	state_release(&st);
	state_release(&back);
	diag_release(&diag);
	buf_release(&text);
	clean_dir();
	free(path);
}

/* Puts the stk_version of text into want: each write stamps the writer's version. */
static void same_stk_version(struct buf *want, const char *text)
{
	static const char field[] = "\"stk_version\": \"";
	const char *w = strstr(buf_cstr(want), field), *t = strstr(text, field);
	struct buf out = BUF_INIT;

	if (!w || !t)
		return;
	w += strlen(field);
	t += strlen(field);
	buf_add(&out, want->data, (size_t)(w - want->data));
	buf_add(&out, t, strcspn(t, "\""));
	buf_addstr(&out, w + strcspn(w, "\""));
	buf_release(want);
	*want = out;
}

/* The fixture is in the canonical form: reading and formatting it gives its bytes. */
static void test_fixture(void)
{
	struct diag_ctx diag;
	struct state st;
	struct buf want = BUF_INIT;
	char *fixture = xasprintf("%s/tests/state/full.json", srcdir);
	struct state_instance *inst;
	struct state_output *o;
	size_t len;
	char *text;
	int r;

	diag_init(&diag);
	state_init(&st);
	if (read_bytes(fixture, &want) < 0) {
		CHECK(0, "cannot read %s", fixture);
		goto out;
	}
	r = state_read(fixture, &st, &diag);
	CHECK(r == 0, "%s: %s", fixture, diag_text(&diag));
	if (r)
		goto out;
	CHECK(st.serial == 7 && !strcmp(st.lineage, "0b5d1e8a-3c2f-4d6e-9a7b-1c2d3e4f5a6b") &&
	      st.nresources == 7 && st.noutputs == 2, "top-level fields");
	text = state_format(&st, fixture, &len, &diag);
	if (text)
		same_stk_version(&want, text);
	CHECK(text && len == want.len && !memcmp(text, want.data, len),
	      "formatting the fixture changes it:\n%s", text ? text : diag_text(&diag));
	free(text);

	inst = find(&st, "aws.db_instance.main");
	CHECK(inst && (val_map_get(inst->attrs, "password")->marks & VAL_SENSITIVE) &&
	      (val_map_get(val_map_get(inst->attrs, "tags"), "secret")->marks & VAL_SENSITIVE) &&
	      !(val_map_get(val_map_get(inst->attrs, "tags"), "team")->marks & VAL_SENSITIVE) &&
	      !(val_map_get(inst->attrs, "id")->marks & VAL_SENSITIVE),
	      "sensitive attributes marked");
	CHECK(inst && inst->priv && !strcmp(inst->priv, "eyJzY2hlbWFfdmVyc2lvbiI6MX0=") &&
	      inst->ndeps == 2, "private and dependencies");
	inst = find(&st, "aws.subnet.public[\"b\"]");
	CHECK(inst && inst->status == STATE_PENDING && inst->token, "pending with a token");
	inst = find(&st, "aws.instance.worker[1]");
	CHECK(inst && inst->status == STATE_TAINTED, "tainted");
	CHECK(find(&st, "data.aws.ami.debian") != NULL, "data resource");
	CHECK(find(&st, "module.web[\"blue\"].aws.vpc.x") != NULL, "module instance");
	o = state_find_output(&st, "db_password");
	CHECK(o && o->sensitive && (o->value->marks & VAL_SENSITIVE), "sensitive output");
out:
	state_release(&st);
	diag_release(&diag);
	buf_release(&want);
	free(fixture);
}

static void test_serials_and_backup(void)
{
	struct diag_ctx diag;
	struct state st, again;
	struct buf before = BUF_INIT, backup = BUF_INIT;
	char *path = tmp_path("s.json"), *bak = tmp_path("s.json.backup");
	char lineage[UUID_STR_SIZE] = "";
	int r;

	diag_init(&diag);
	state_init(&st);
	state_init(&again);

	r = state_read(path, &st, &diag);
	CHECK(r == STATE_NEW && st.serial == 0 && st.lineage && uuid_valid(st.lineage) &&
	      !st.nresources && !diag.errors, "a missing file is a new state");
	CHECK(!exists(path), "reading a missing file created it");
	if (st.lineage)
		strcpy(lineage, st.lineage);

	for (int i = 1; i <= 3; i++) {
		read_bytes(path, &before);
		add(&st, i == 2 ? "aws.vpc.b" : "aws.vpc.a", NULL);
		r = state_write(path, &st, &diag);
		CHECK(r == 0 && st.serial == (uint64_t)i, "write %d: serial %llu: %s", i,
		      (unsigned long long)st.serial, diag_text(&diag));
		CHECK(!strcmp(st.lineage, lineage), "the lineage changed");
		if (i == 1) {
			CHECK(!exists(bak), "a backup of nothing");
		} else {
			CHECK(read_bytes(bak, &backup) == 0 && backup.len == before.len &&
			      !memcmp(backup.data, before.data, before.len),
			      "write %d: the backup is not the previous file", i);
		}
	}
	CHECK(count_files() == 2, "stray files: %zu in %s", count_files(), tmpdir);

	r = state_read(path, &again, &diag);
	CHECK(r == 0 && again.serial == 3 && !strcmp(again.lineage, lineage), "read back");
	/* the serial never goes down, whatever the caller set */
	again.serial = 0;
	r = state_write(path, &again, &diag);
	CHECK(r == 0 && again.serial == 4, "serial after lowering: %llu",
	      (unsigned long long)again.serial);
	state_release(&again);
	state_read(path, &again, &diag);
	CHECK(again.serial == 4, "serial on disk: %llu", (unsigned long long)again.serial);
	again.serial = 10;
	r = state_write(path, &again, &diag);
	CHECK(r == 0 && again.serial == 11, "a raised serial is kept: %llu",
	      (unsigned long long)again.serial);

	state_release(&st);
	state_release(&again);
	diag_release(&diag);
	buf_release(&before);
	buf_release(&backup);
	clean_dir();
	free(path);
	free(bak);
}

static void test_mode(void)
{
	static const mode_t masks[] = { 022, 0, 0277, 077 };
	struct diag_ctx diag;
	char *path = tmp_path("m.json"), *bak = tmp_path("m.json.backup");

	diag_init(&diag);
	for (size_t i = 0; i < sizeof masks / sizeof *masks; i++) {
		struct state st;
		mode_t old = umask(masks[i]);
		state_init(&st);
		add(&st, "aws.vpc.a", NULL);
		CHECK(state_write(path, &st, &diag) == 0, "write: %s", diag_text(&diag));
		CHECK(file_mode(path) == 0600, "umask %03o: mode %03o", (unsigned)masks[i],
		      (unsigned)file_mode(path));
		CHECK(state_write(path, &st, &diag) == 0 && file_mode(path) == 0600 &&
		      file_mode(bak) == 0600, "umask %03o: mode %03o after a rewrite, backup %03o",
		      (unsigned)masks[i], (unsigned)file_mode(path), (unsigned)file_mode(bak));
		umask(old);
		state_release(&st);
		clean_dir();
	}
	diag_release(&diag);
	free(path);
	free(bak);
}

static void test_bad_files(void)
{
	static const struct {
		const char *file, *want;
	} cases[] = {
		{ "bad_syntax.json", "is not valid JSON: line 5, column 11: " },
		{ "empty.json", "is empty" },
		{ "top_array.json", "expected an object at the top, found an array" },
		{ "newer_version.json", "has format version 2, newer than this stk reads (1)" },
		{ "newer_version.json", "written by stk 9.9.0" },
		{ "serial_string.json", ": serial: expected an integer, found a string" },
		{ "serial_negative.json", ": serial: must not be negative" },
		{ "serial_too_big.json", "too big integer" },
		{ "lineage_missing.json", ": lineage: missing; it must be a string" },
		{ "bad_status.json", "resources[0].instances[0].status: \"done\" is not a status" },
		{ "key_real.json", "index_key: expected an integer or a string, found a real" },
		{ "key_negative.json", "index_key: a count index is from 0" },
		{ "sensitive_missing_key.json", "instances[0].sensitive_attributes[0]: the path "
		  "tags.nope: it names a key that is not there" },
		{ "sensitive_bad_index.json", "the path ports[2]: its index is out of range" },
		{ "sensitive_not_path.json", "sensitive_attributes[0]: a path must be an array" },
		{ "unknown_field.json", "unknown field \"sensitive_attribute\" (did you mean "
		  "\"sensitive_attributes\"?)" },
		{ "attributes_array.json", "attributes: expected an object, found an array" },
		{ "attributes_missing.json", "attributes: missing" },
		{ "pending_without_token.json", "instances[0].token: missing" },
		{ "bad_dependency.json", "dependencies[0]: \"aws.vpc\" is not a resource address" },
		{ "dependency_number.json", "dependencies[0]: expected an address" },
		{ "duplicate_instance.json", "instances[1].index_key: a second instance [0]" },
		{ "duplicate_resource.json", "resources[1]: a second entry for aws.vpc.main" },
		{ "duplicate_json_key.json", "duplicate object key" },
		{ "bad_type.json", "resources[0].type: \"aws_vpc\" is not a resource type" },
		{ "bad_module.json", "resources[0].module: \"module.web.\" is not a module path" },
		{ "bad_mode.json", "resources[0].mode: \"resource\" is not a mode" },
		{ "provider_number.json", "provider: expected a string, found an integer" },
		{ "output_sensitive_string.json", "outputs.x.sensitive: expected true or false" },
	};
	struct buf fixture = BUF_INIT, after = BUF_INIT;
	char *path = tmp_path("terraform.tfstate");

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *src = xasprintf("%s/tests/state/%s", srcdir, cases[i].file);
		struct diag_ctx diag;
		struct state st;
		int r;

		diag_init(&diag);
		state_init(&st);
		if (read_bytes(src, &fixture) < 0) {
			CHECK(0, "cannot read %s", src);
			free(src);
			continue;
		}
		write_bytes(path, fixture.data, fixture.len);
		r = state_read(path, &st, &diag);
		CHECK(r == -1 && diag.errors == 1, "%s: read gave %d", cases[i].file, r);
		CHECK(diag_has(&diag, cases[i].want), "%s: wanted \"%s\", got:\n%s", cases[i].file,
		      cases[i].want, diag_text(&diag));
		CHECK(diag_has(&diag, path), "%s: the message does not name the file",
		      cases[i].file);
		CHECK(diag_has(&diag, "hint: "), "%s: no hint", cases[i].file);
		CHECK(!st.lineage && !st.nresources && !st.noutputs && !st.serial,
		      "%s: st is not left empty", cases[i].file);

		/* and a write over it (a caller ignoring the error) is refused too */
		diag_reset(&diag);
		add(&st, "aws.vpc.main", NULL);
		r = state_write(path, &st, &diag);
		CHECK(r == -1, "%s: a write over a bad file went through", cases[i].file);
		read_bytes(path, &after);
		CHECK(after.len == fixture.len && !memcmp(after.data, fixture.data, fixture.len),
		      "%s: the file was changed", cases[i].file);
		CHECK(count_files() == 1, "%s: stray files", cases[i].file);
		state_release(&st);
		diag_release(&diag);
		clean_dir();
		free(src);
	}
	buf_release(&fixture);
	buf_release(&after);
	free(path);
}

static void test_not_a_file(void)
{
	struct diag_ctx diag;
	struct state st;
	char *dir = tmp_path("adir");

	diag_init(&diag);
	state_init(&st);
	mkdir(dir, 0700);
	CHECK(state_read(dir, &st, &diag) == -1 && diag_has(&diag, "is not a regular file"),
	      "a directory: %s", diag_text(&diag));
	rmdir(dir);
	state_release(&st);
	diag_release(&diag);
	free(dir);
}

static void test_stale_writer(void)
{
	struct diag_ctx diag;
	struct state a, b, other;
	struct buf before = BUF_INIT, after = BUF_INIT;
	char *path = tmp_path("t.json");
	int r;

	diag_init(&diag);
	state_init(&a);
	state_init(&b);
	state_init(&other);
	add(&a, "aws.vpc.a", NULL);
	state_write(path, &a, &diag);
	state_release(&a);

	state_read(path, &a, &diag);
	state_read(path, &b, &diag);
	add(&a, "aws.vpc.x", NULL);
	add(&b, "aws.vpc.y", NULL);
	CHECK(state_write(path, &a, &diag) == 0, "the first writer: %s", diag_text(&diag));
	read_bytes(path, &before);
	r = state_write(path, &b, &diag);
	CHECK(r == -1 && diag_has(&diag, "the state changed since it was read") &&
	      diag_has(&diag, "is at serial 2, it was at 1"), "a stale writer: %s",
	      diag_text(&diag));
	read_bytes(path, &after);
	CHECK(before.len == after.len && !memcmp(before.data, after.data, before.len) &&
	      count_files() == 2, "the stale writer changed the file");
	CHECK(b.serial == 1 && b.disk_serial == 1, "a refused write moved the serial");

	/* a state of another lineage, never read from there */
	diag_reset(&diag);
	add(&other, "aws.vpc.z", NULL);
	r = state_write(path, &other, &diag);
	CHECK(r == -1 && diag_has(&diag, "holds another state (lineage"), "another lineage: %s",
	      diag_text(&diag));
	read_bytes(path, &after);
	CHECK(before.len == after.len && !memcmp(before.data, after.data, before.len),
	      "another lineage changed the file");

	/* the first writer goes on */
	diag_reset(&diag);
	CHECK(state_write(path, &a, &diag) == 0 && a.serial == 3, "writing on: %s",
	      diag_text(&diag));
	state_release(&a);
	state_release(&b);
	state_release(&other);
	diag_release(&diag);
	buf_release(&before);
	buf_release(&after);
	clean_dir();
	free(path);
}

static void test_unstorable(void)
{
	struct diag_ctx diag;
	struct state st;
	struct state_instance *inst;
	struct value *v;
	char *path = tmp_path("u.json");

	diag_init(&diag);
	state_init(&st);
	inst = add(&st, "module.m.aws.vpc.main[\"k\"]", NULL);
	v = map("tags", map("x", val_unknown(VAL_STRING), NULL), NULL);
	state_instance_set_attrs(inst, v);
	val_unref(v);
	CHECK(state_write(path, &st, &diag) == -1 && !exists(path) && count_files() == 0,
	      "an unknown value was written");
	CHECK(diag_has(&diag, "cannot store module.m.aws.vpc.main[\"k\"] at attributes.tags.x "
		       "in state file") && diag_has(&diag, "not known until apply"),
	      "message: %s", diag_text(&diag));

	diag_reset(&diag);
	v = map("a", num(1), NULL);
	state_instance_set_attrs(inst, v);
	val_unref(v);
	inst->status = STATE_PENDING;
	CHECK(state_write(path, &st, &diag) == -1 && diag_has(&diag, "needs a token"),
	      "pending without a token: %s", diag_text(&diag));
	inst->status = STATE_READY;

	diag_reset(&diag);
	v = val_unknown(VAL_STRING);
	state_set_output(&st, "o", v, 0);
	val_unref(v);
	CHECK(state_write(path, &st, &diag) == -1 && diag_has(&diag, "output \"o\""),
	      "an unknown output: %s", diag_text(&diag));
	CHECK(st.serial == 0 && !exists(path), "a refused write changed something");
	state_release(&st);
	diag_release(&diag);
	clean_dir();
	free(path);
}

static void test_unwritable_dir(void)
{
	struct diag_ctx diag;
	struct state st;
	struct buf before = BUF_INIT, after = BUF_INIT;
	char *dir, *path;

	/* root writes anywhere: nothing to see then */
	if (geteuid() == 0)
		return;
	dir = tmp_path("ro");
	path = tmp_path("ro/s.json");
	diag_init(&diag);
	state_init(&st);
	mkdir(dir, 0700);
	add(&st, "aws.vpc.a", NULL);
	state_write(path, &st, &diag);
	read_bytes(path, &before);
	chmod(dir, 0500);
	CHECK(state_write(path, &st, &diag) == -1 && diag_has(&diag, "temporary file"),
	      "read-only directory: %s", diag_text(&diag));
	read_bytes(path, &after);
	CHECK(before.len == after.len && !memcmp(before.data, after.data, before.len),
	      "the file changed");
	chmod(dir, 0700);
	unlink(path);
	rmdir(dir);
	state_release(&st);
	diag_release(&diag);
	buf_release(&before);
	buf_release(&after);
	free(dir);
	free(path);
}

/* While one process writes over and over, another only ever reads a whole state. */
static void test_readers_see_whole_files(void)
{
	struct diag_ctx diag;
	struct state st;
	char *path = tmp_path("r.json");
	uint64_t last = 0;
	int reads = 0, bad_reads = 0, backwards = 0, status;
	pid_t pid;

	diag_init(&diag);
	state_init(&st);
	add(&st, "aws.vpc.a", NULL);
	state_write(path, &st, &diag);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int ok = 1;
		for (int i = 0; i < 200 && ok; i++) {
			struct value *v = num(i);
			state_set_output(&st, "i", v, 0);
			val_unref(v);
			ok = state_write(path, &st, &diag) == 0;
		}
		state_release(&st);
		diag_release(&diag);
		free(path);
		_exit(ok ? 0 : 1);
	}
	for (;;) {
		struct state r;
		int done = waitpid(pid, &status, WNOHANG) == pid;
		state_init(&r);
		reads++;
		if (state_read(path, &r, &diag) != 0)
			bad_reads++;
		else if (r.serial < last)
			backwards++;
		else
			last = r.serial;
		state_release(&r);
		if (done)
			break;
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the writer failed");
	CHECK(!bad_reads && !backwards && last == 201, "%d reads: %d failed, %d went back, last "
	      "serial %llu: %s", reads, bad_reads, backwards, (unsigned long long)last,
	      diag_text(&diag));
	state_release(&st);
	diag_release(&diag);
	clean_dir();
	free(path);
}

/* ---- locking ---- */

struct holder {
	pid_t pid;
	char id[UUID_STR_SIZE];
};

/*
 * Forks a child that takes the lock for "apply", says its lock ID on a pipe, and holds it
 * for hold_ms (0: until killed).
 */
static int spawn_holder(const char *path, unsigned hold_ms, struct holder *h)
{
	int fds[2];
	ssize_t n;

	memset(h, 0, sizeof *h);
	if (pipe(fds) < 0)
		return -1;
	fflush(NULL);
	h->pid = fork();
	if (h->pid < 0)
		return -1;
	if (h->pid == 0) {
		struct diag_ctx diag;
		struct state_lock lock;
		char id[UUID_STR_SIZE] = "";

		close(fds[0]);
		diag_init(&diag);
		state_lock_init(&lock);
		if (state_lock(path, "apply", &lock, &diag) == 0)
			strcpy(id, lock.info.id);
		if (write(fds[1], id, sizeof id) != sizeof id)
			_exit(3);
		close(fds[1]);
		if (!hold_ms)
			for (;;)
				pause();
		usleep(hold_ms * 1000);
		state_unlock(&lock, NULL);
		diag_release(&diag);
		_exit(0);
	}
	close(fds[1]);
	n = read(fds[0], h->id, sizeof h->id);
	close(fds[0]);
	return n == sizeof h->id && h->id[0] ? 0 : -1;
}

static void kill_holder(struct holder *h)
{
	int status;

	kill(h->pid, SIGKILL);
	waitpid(h->pid, &status, 0);
}

static long ms_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

static void test_lock_in_process(void)
{
	struct diag_ctx diag;
	struct state_lock a, b;
	struct state_lock_info info;
	char *path = tmp_path("l.json"), *lockpath = tmp_path("l.json.lock");
	char pid[32];

	diag_init(&diag);
	state_lock_init(&a);
	state_lock_init(&b);
	state_lock_info_init(&info);
	CHECK(state_lock(path, "plan", &a, &diag) == 0 && a.fd >= 0, "lock: %s",
	      diag_text(&diag));
	CHECK(exists(lockpath) && file_mode(lockpath) == 0600, "lock file");
	CHECK(state_lock_read_info(path, &info, &diag) == 0 && info.id &&
	      !strcmp(info.id, a.info.id) && info.pid == (long)getpid() && info.operation &&
	      !strcmp(info.operation, "plan") && info.host && info.who && info.since &&
	      strlen(info.since) == 20 && info.since[10] == 'T' && info.since[19] == 'Z',
	      "lock information");
	CHECK(uuid_valid(a.info.id), "lock ID %s", a.info.id ? a.info.id : "(none)");

	/* OFD locks: a second open file conflicts even in the same process */
	snprintf(pid, sizeof pid, "pid %ld ", (long)getpid());
	CHECK(state_lock(path, "apply", &b, &diag) == -1 && b.fd == -1 && diag_has(&diag, pid) &&
	      diag_has(&diag, "(plan by ") && diag_has(&diag, a.info.id),
	      "a second lock: %s", diag_text(&diag));
	state_unlock(&a, NULL);
	CHECK(!exists(lockpath), "unlocking leaves the lock file");
	diag_reset(&diag);
	CHECK(state_lock(path, "apply", &b, &diag) == 0, "lock after unlock: %s",
	      diag_text(&diag));
	state_unlock(&b, NULL);
	state_unlock(&b, NULL);   /* twice is harmless */
	CHECK(state_lock_read_info(path, &info, &diag) == 1, "no lock file: no information");

	state_lock_info_release(&info);
	diag_release(&diag);
	clean_dir();
	free(path);
	free(lockpath);
}

static void test_lock_other_process(void)
{
	struct diag_ctx diag;
	struct state_lock lock;
	struct holder h;
	char *path = tmp_path("l.json"), *lockpath = tmp_path("l.json.lock");
	char pid[400], host[256] = "", hint[128];

	diag_init(&diag);
	state_lock_init(&lock);
	gethostname(host, sizeof host - 1);
	if (spawn_holder(path, 0, &h) < 0) {
		CHECK(0, "the child could not take the lock");
		goto out;
	}
	snprintf(pid, sizeof pid, "locked by pid %ld on host %s (apply by ", (long)h.pid, host);
	snprintf(hint, sizeof hint, "hint: if that process is gone, run stk force-unlock %s", h.id);
	CHECK(state_lock(path, "plan", &lock, &diag) == -1, "the lock was taken twice");
	CHECK(diag_has(&diag, pid) && diag_has(&diag, "lock ID ") && diag_has(&diag, h.id) &&
	      diag_has(&diag, hint), "the holder is not named: %s", diag_text(&diag));

	diag_reset(&diag);
	CHECK(state_force_unlock(path, h.id, &diag) == -1 &&
	      diag_has(&diag, "held by a live process"), "force-unlock of a live lock: %s",
	      diag_text(&diag));
	CHECK(exists(lockpath), "force-unlock removed a live lock");

	/* killed, the holder's lock goes with it; its file stays behind */
	kill_holder(&h);
	CHECK(exists(lockpath), "the lock file went with the process");
	diag_reset(&diag);
	CHECK(state_lock(path, "plan", &lock, &diag) == 0, "the dead holder's lock: %s",
	      diag_text(&diag));
	CHECK(lock.info.id && strcmp(lock.info.id, h.id), "the lock ID was not renewed");
	state_unlock(&lock, NULL);
out:
	diag_release(&diag);
	clean_dir();
	free(path);
	free(lockpath);
}

static void test_force_unlock(void)
{
	struct diag_ctx diag;
	struct holder h;
	char *path = tmp_path("f.json"), *lockpath = tmp_path("f.json.lock");

	diag_init(&diag);
	CHECK(state_force_unlock(path, "x", &diag) == -1 && diag_has(&diag, "is not locked"),
	      "force-unlock without a lock: %s", diag_text(&diag));
	if (spawn_holder(path, 0, &h) < 0) {
		CHECK(0, "the child could not take the lock");
		goto out;
	}
	diag_reset(&diag);
	CHECK(state_force_unlock(path, "0b5d1e8a-3c2f-4d6e-9a7b-1c2d3e4f5a6b", &diag) == -1 &&
	      diag_has(&diag, "does not match") && diag_has(&diag, h.id),
	      "force-unlock of a live lock with a wrong ID: %s", diag_text(&diag));
	kill_holder(&h);

	/* a stale lock file: the holder is gone */
	diag_reset(&diag);
	CHECK(state_force_unlock(path, "0b5d1e8a-3c2f-4d6e-9a7b-1c2d3e4f5a6b", &diag) == -1 &&
	      diag_has(&diag, "does not match") && exists(lockpath),
	      "force-unlock with a wrong ID: %s", diag_text(&diag));
	diag_reset(&diag);
	CHECK(state_force_unlock(path, h.id, &diag) == 0 && !exists(lockpath),
	      "force-unlock with the right ID: %s", diag_text(&diag));

	/* a lock file with nothing in it */
	write_bytes(lockpath, "", 0);
	diag_reset(&diag);
	CHECK(state_force_unlock(path, h.id, &diag) == -1 && diag_has(&diag, "no lock ID") &&
	      diag_has(&diag, "remove the file by hand"), "an empty lock file: %s",
	      diag_text(&diag));
out:
	diag_release(&diag);
	clean_dir();
	free(path);
	free(lockpath);
}

static void test_lock_wait(void)
{
	struct diag_ctx diag;
	struct state_lock lock;
	struct timespec start;
	struct holder h;
	char *path = tmp_path("w.json");
	long took;
	int r, status;

	diag_init(&diag);
	state_lock_init(&lock);
	if (spawn_holder(path, 300, &h) < 0) {
		CHECK(0, "the child could not take the lock");
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	r = state_lock_wait(path, "apply", 10000, &lock, &diag);
	took = ms_since(&start);
	CHECK(r == 0 && took >= 150 && took < 5000, "waiting for a lock: %d after %ld ms: %s", r,
	      took, diag_text(&diag));
	waitpid(h.pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the holder failed");
	state_unlock(&lock, NULL);

	if (spawn_holder(path, 0, &h) < 0) {
		CHECK(0, "the child could not take the lock");
		goto out;
	}
	diag_reset(&diag);
	clock_gettime(CLOCK_MONOTONIC, &start);
	r = state_lock_wait(path, "apply", 250, &lock, &diag);
	took = ms_since(&start);
	CHECK(r == -1 && took >= 250 && took < 2000 && diag.errors == 1 &&
	      diag_has(&diag, "(gave up after waiting 250 ms)") && diag_has(&diag, h.id),
	      "timing out: %d after %ld ms: %s", r, took, diag_text(&diag));
	kill_holder(&h);
out:
	diag_release(&diag);
	clean_dir();
	free(path);
}

/* Parses text whole and in pieces (as small as they go, on 4 threads): the same JSON, or the
 * same error. Returns the pieces the second parse used (1: one pass). */
static unsigned load_both_ways(const char *what, const char *text, size_t len)
{
	json_error_t e1, e2;
	json_t *whole = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e1);
	json_t *split;
	unsigned pieces;

	state_load_threads = 4;
	state_piece_min = 1;
	split = state_json_load(text, len, &e2, &pieces);
	state_load_threads = 0;
	state_piece_min = 2u << 20;
	if (whole || split)
		check(whole && split && json_equal(whole, split), what,
		      "parsed in %u pieces, the state's JSON differs from one pass", pieces);
	else
		check(e1.line == e2.line && e1.column == e2.column && !strcmp(e1.text, e2.text), what,
		      "the errors differ: %d:%d %s, and in pieces %d:%d %s", e1.line, e1.column,
		      e1.text, e2.line, e2.column, e2.text);
	json_decref(whole);
	json_decref(split);
	return pieces;
}

/* Reads text into a state in one pass and in pieces (state_load, as small as they go, on 4
 * threads, each reading its share's resources): the same state, or the same error. Returns
 * the pieces the second read used. */
static unsigned read_both_ways(const char *what, const char *text, size_t len)
{
	struct state one, split;
	struct diag_ctx d1, d2;
	const char *why = "";
	unsigned pieces;
	int r1, r2;

	state_init(&one);
	state_init(&split);
	diag_init(&d1);
	diag_init(&d2);
	state_load_threads = 1;
	r1 = state_load("pieces.state", text, len, &one, &d1, &pieces);
	state_load_threads = 4;
	state_piece_min = 1;
	r2 = state_load("pieces.state", text, len, &split, &d2, &pieces);
	state_load_threads = 0;
	state_piece_min = 2u << 20;
	check(r1 == r2, what, "one pass gives %d, in %u pieces %d", r1, pieces, r2);
	if (!r1 && !r2)
		check(same_state(&one, &split, &why), what, "read in %u pieces, the state differs: %s",
		      pieces, why);
	else if (r1 && r2)
		check(!strcmp(diag_text(&d1), diag_text(&d2)), what, "the errors differ:\n%s\nin pieces:\n%s",
		      diag_text(&d1), diag_text(&d2));
	state_release(&one);
	state_release(&split);
	diag_release(&d1);
	diag_release(&d2);
	return pieces;
}

static char *replace_all(const char *text, const char *from, const char *to, size_t *len)
{
	struct buf b = BUF_INIT;
	size_t n = strlen(from);

	for (const char *p = text; *p;) {
		if (!strncmp(p, from, n)) {
			buf_addstr(&b, to);
			p += n;
		} else {
			buf_addch(&b, *p++);
		}
	}
	return buf_detach(&b, len);
}

/* The state loader parses a big state in pieces (state_json_load); it must read what one
 * pass reads, and fall back to one pass for any other layout. */
static void test_load_in_pieces(void)
{
	struct state st, back;
	struct diag_ctx diag;
	char *text, *other, *path = tmp_path("pieces.state");
	size_t len, olen;
	const char *why = "";
	unsigned pieces;
	int r;

	state_init(&st);
	state_init(&back);
	diag_init(&diag);
	build_state(&st);
	st.lineage = xstrdup("5f0c7e6e-2d7b-4d0c-9a53-2f3c1d1f6a10");
	st.serial = 7;
	for (int i = 0; i < 300; i++) {
		char address[64];
		struct value *v;
		snprintf(address, sizeof address, "aws.subnet.s%03d", i);
		v = map("id", str("subnet-1"), "cidr_block", str("10.0.0.0/24"), "n", num(i),
			"tags", map("Name", str("x\n    },\n    {"), NULL), NULL);
		state_instance_set_attrs(add(&st, address, NULL), v);
		val_unref(v);
	}
	text = state_format(&st, "pieces.state", &len, &diag);
	check(text != NULL, "pieces", "state_format failed: %s", diag_text(&diag));
	if (!text)
		goto out;
	pieces = load_both_ways("stk's layout", text, len);
	check(pieces > 1, "stk's layout", "a state in stk's layout was not parsed in pieces");

	/* read through state_read, in pieces, it is the same state */
	write_bytes(path, text, len);
	state_load_threads = 4;
	state_piece_min = 1;
	r = state_read(path, &back, &diag);
	check(r == 0, "pieces", "state_read gives %d: %s", r, diag_text(&diag));
	state_load_threads = 0;
	state_piece_min = 2u << 20;
	check(same_state(&st, &back, &why), "pieces", "read in pieces, the state differs: %s", why);

	/* state_load, each piece reading its resources: the same state, or the same error */
	check(read_both_ways("read in pieces", text, len) > 1, "read in pieces",
	      "a state in stk's layout was not read in pieces");
	{
		char version[32];
		snprintf(version, sizeof version, "\"version\": %d", STATE_FORMAT_VERSION);
		const struct { const char *what, *from, *to; int read; } edits[] = {
			/* a resource that is wrong, in the middle: one pass names it by its index */
			{ "bad resource", "\"name\": \"s150\"", "\"name\": \"s 150\"", 1 },
			/* the last resource sorts first: the pieces are out of order; it goes first */
			{ "out of order", "\"name\": \"s299\"", "\"name\": \"a299\"", 1 },
			/* the same resource at both ends: "a second entry", as one pass says */
			{ "twice", "\"name\": \"s299\"", "\"name\": \"s000\"", 1 },
			/* a newer format: refused before any resource is read, in pieces too */
			{ "newer version", version, "\"version\": 99", 1 },
			/* other layouts: one pass */
			{ "tabs", "\n    ", "\n\t", 0 },
			/* a resource that does not parse, in the middle: the error of one pass */
			{ "bad object", "\"subnet-1\"", "\"subnet-1\" 1", 0 },
			{ "duplicate key", "\"n\": 150", "\"n\": 150,\n          \"n\": 151", 0 },
		};
		for (size_t i = 0; i < sizeof edits / sizeof *edits; i++) {
			other = replace_all(text, edits[i].from, edits[i].to, &olen);
			check(strcmp(other, text) != 0, edits[i].what, "no %s in the state", edits[i].from);
			pieces = edits[i].read ? read_both_ways(edits[i].what, other, olen) :
				 load_both_ways(edits[i].what, other, olen);
			if (!strcmp(edits[i].what, "tabs"))
				check(pieces == 1, "tabs", "another layout was cut");
			free(other);
		}
	}
	/* a nested array laid out like the top-level one, ahead of it: not taken for it */
	{
		struct buf b = BUF_INIT;
		const char *res = strstr(text, "\n  \"resources\": [\n");
		if (res) {
			buf_add(&b, text, (size_t)(res - text) + 1);
			buf_addstr(&b, "  \"x\": {\n  \"resources\": [\n    {\n      \"a\": 1\n    },\n"
				       "    {\n      \"a\": 2\n    }\n  ]},\n  \"resources\": [],\n  \"y\": [");
			buf_addstr(&b, res + strlen("\n  \"resources\": ["));
			load_both_ways("nested look-alike", b.data, b.len);
		}
		buf_release(&b);
	}
	free(text);
out:
	unlink(path);
	state_release(&st);
	state_release(&back);
	diag_release(&diag);
	free(path);
}

int main(void)
{
	srcdir = getenv("STK_SRCDIR");
	if (!srcdir || !*srcdir)
		srcdir = STK_SRCDIR;
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	umask(022);

	test_json_round_trip();
	test_json_numbers();
	test_json_refusals();
	test_sensitive_paths();
	test_json_write();
	test_uuid();
	test_addr_round_trip();
	test_addr_errors();
	test_addr_order();
	test_model();
	test_move_instance();
	test_round_trip();
	test_deposed();
	test_provider_module();
	test_load_in_pieces();
	test_fixture();
	test_serials_and_backup();
	test_mode();
	test_bad_files();
	test_not_a_file();
	test_stale_writer();
	test_unstorable();
	test_unwritable_dir();
	test_readers_see_whole_files();
	test_lock_in_process();
	test_lock_other_process();
	test_force_unlock();
	test_lock_wait();

	clean_dir();
	rmdir(tmpdir);
	buf_release(&diag_buf);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

/* docker_image.c: docker.image: a build from a local context (sent as a tar made with
 * libarchive, .dockerignore honoured as the docker CLI does), tagged, and pushed when asked.
 *
 * The planner never calls a provider while planning, so a change in the context files cannot
 * show in context_sha256 at plan time. Instead the read that runs before every plan hashes
 * the context again: when the files, the Dockerfile, the target or the build args no longer
 * hash to what was built, it reports the image's triggers with one more entry,
 * "stk.context_sha256" = the new hash. triggers forces a new object, so the plan replaces
 * the image with the reason in plain sight; a file that .dockerignore leaves out is not sent
 * and not hashed, so changing it changes nothing.
 *
 * A pushed image is checked at the registry on read (Registry HTTP API v2: the tag's manifest
 * digest); a tag that no longer points at what was pushed reads as push = false, and the
 * update that follows pushes again. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "providers/docker/docker.h"

#define DOCKER_CONTEXT_TRIGGER "stk.context_sha256"

/* ---- values ---- */

/* The known strings of a list attribute, borrowed from m. */
static size_t docker_strings(const struct value *m, const char *key, const char ***out)
{
	const struct value *l = m && m->kind == VAL_MAP ? val_map_get(m, key) : NULL;
	size_t n = 0;

	*out = NULL;
	if (!l || (l->marks & VAL_UNKNOWN) || (l->kind != VAL_LIST && l->kind != VAL_SET))
		return 0;
	*out = xcalloc(l->u.list.n ? l->u.list.n : 1, sizeof **out);
	for (size_t i = 0; i < l->u.list.n; i++) {
		const struct value *s = l->u.list.items[i];
		if (s->kind == VAL_STRING && !(s->marks & VAL_UNKNOWN))
			(*out)[n++] = s->u.str.s;
	}
	return n;
}

/* The arguments every result repeats from the configuration (or the prior state). */
static const char *const image_args[] = {
	"context", "dockerfile", "build_args", "target", "platform", "labels", "triggers",
	"no_cache", "tags", "push", "keep_locally", "force_remove", NULL
};

/* A result: the arguments of args, with tags, push and triggers replaced when given (taken),
 * and the computed attributes. */
static struct value *image_value(const struct value *args, struct value *tags, struct value *push,
				 struct value *triggers, const char *id, const char *repo_digest,
				 const char *context_sha256)
{
	struct docker_obj o;

	docker_obj_init(&o);
	for (size_t i = 0; image_args[i]; i++) {
		const char *k = image_args[i];
		struct value *v = !strcmp(k, "tags") ? tags : !strcmp(k, "push") ? push :
				  !strcmp(k, "triggers") ? triggers : NULL;
		docker_obj_val(&o, k, v ? v : val_copy_known(val_map_get(args, k)));
	}
	docker_obj_str(&o, "id", id);
	{
		/* name is the first tag, else the ID */
		const struct value *tv = tags ? tags : val_map_get(args, "tags");
		const struct value *first = tv && (tv->kind == VAL_LIST || tv->kind == VAL_SET) && tv->u.list.n
						    ? tv->u.list.items[0]
						    : NULL;
		docker_obj_str(&o, "name",
			       first && first->kind == VAL_STRING && !(first->marks & VAL_UNKNOWN) ? first->u.str.s : id);
	}
	docker_obj_str(&o, "repo_digest", repo_digest);
	docker_obj_str(&o, "context_sha256", context_sha256);
	return docker_obj_done(&o);
}

/* ---- image references ---- */

/* "127.0.0.1:5000/app:v1" -> registry "127.0.0.1:5000", repo "127.0.0.1:5000/app", tag "v1";
 * "app" -> "docker.io", "app", "latest". As the docker CLI: the first component is a
 * registry when it has a dot or a colon, or is localhost. */
struct docker_ref {
	char *registry;  /* host[:port] */
	char *repo;      /* as written, without the tag */
	char *path;      /* the repository at the registry: "app", "library/app" on Docker Hub */
	char *tag;
};

static void docker_ref_parse(const char *ref, struct docker_ref *r)
{
	const char *slash = strchr(ref, '/'), *colon = strrchr(ref, ':');
	const char *at = strchr(ref, '@');
	size_t len = at ? (size_t)(at - ref) : strlen(ref);

	if (colon && (colon > ref + len || (slash && colon < strrchr(ref, '/'))))
		colon = NULL;
	if (colon) {
		r->tag = xstrndup(colon + 1, (size_t)(ref + len - colon - 1));
		len = (size_t)(colon - ref);
	} else {
		r->tag = xstrdup("latest");
	}
	r->repo = xstrndup(ref, len);
	if (slash && slash < ref + len &&
	    (memchr(ref, '.', (size_t)(slash - ref)) || memchr(ref, ':', (size_t)(slash - ref)) ||
	     !strncmp(ref, "localhost/", 10))) {
		r->registry = xstrndup(ref, (size_t)(slash - ref));
		r->path = xstrdup(r->repo + (slash - ref) + 1);
	} else {
		r->registry = xstrdup("docker.io");
		r->path = slash && slash < ref + len ? xstrdup(r->repo) : xasprintf("library/%s", r->repo);
	}
}

static void docker_ref_release(struct docker_ref *r)
{
	free(r->registry);
	free(r->repo);
	free(r->path);
	free(r->tag);
}

/* A reference as the engine lists it in RepoTags: "app:latest", not "docker.io/library/app". */
static char *docker_ref_canonical(const char *ref)
{
	struct docker_ref r;
	char *s;

	docker_ref_parse(ref, &r);
	if (!strcmp(r.registry, "docker.io"))
		s = xasprintf("%s:%s", strncmp(r.path, "library/", 8) ? r.path : r.path + 8, r.tag);
	else
		s = xasprintf("%s:%s", r.repo, r.tag);
	docker_ref_release(&r);
	return s;
}

static int docker_has_tag(const json_t *repo_tags, const char *ref)
{
	char *want = docker_ref_canonical(ref);
	size_t i;
	json_t *t;
	int found = 0;

	json_array_foreach(repo_tags, i, t) {
		const char *s = json_string_value(t);
		if (s && !strcmp(s, want))
			found = 1;
	}
	free(want);
	return found;
}

/* ---- .dockerignore ---- */

/* One pattern, cleaned as Go's filepath.Clean does and split at '/': each segment is matched
 * with fnmatch(3) (Go's filepath.Match: '*', '?', '[...]', '\' escapes), and a "**" segment
 * matches any number of segments. */
struct docker_rule {
	char **segs;
	size_t n;
	int exception;  /* a "!" line: takes back what earlier lines left out */
};

struct docker_ignore {
	struct buf rules;  /* struct docker_rule */
	int exceptions;
};

static void docker_split(const char *path, struct buf *segs)
{
	const char *p = path;

	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && !strncmp(p, "..", 2)) {
			if (buf_count(segs, char *)) {
				free(buf_at(segs, char *, buf_count(segs, char *) - 1));
				segs->len -= sizeof(char *);
			}
		} else if (n && !(n == 1 && *p == '.')) {
			char *s = xstrndup(p, n);
			buf_push(segs, char *, s);
		}
		p += n;
		while (*p == '/')
			p++;
	}
}

static void docker_ignore_release(struct docker_ignore *ig)
{
	for (size_t i = 0; i < buf_count(&ig->rules, struct docker_rule); i++) {
		struct docker_rule *r = &buf_at(&ig->rules, struct docker_rule, i);
		for (size_t k = 0; k < r->n; k++)
			free(r->segs[k]);
		free(r->segs);
	}
	buf_release(&ig->rules);
}

/* Reads DIR/.dockerignore; a missing file leaves out nothing. */
static int docker_ignore_load(struct docker_ignore *ig, const char *dir, struct diag_ctx *diag,
			      const char *addr)
{
	char *path = xasprintf("%s/.dockerignore", dir);
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int ret = -1;

	buf_init(&ig->rules);
	ig->exceptions = 0;
	if (!f) {
		ret = errno == ENOENT ? 0 : -1;
		if (ret)
			diag_error(diag, NULL, "%s: cannot read %s: %s", addr, path, strerror(errno));
		goto out;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *p = line, *e = line + len;
		struct docker_rule r = { 0 };
		struct buf segs = BUF_INIT;
		/* as the CLI: surrounding white space is not part of a pattern */
		while (e > p && isspace((unsigned char)e[-1]))
			*--e = 0;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			continue;
		if (*p == '!') {
			r.exception = 1;
			p++;
			while (isspace((unsigned char)*p))
				p++;
		}
		docker_split(p, &segs);
		if (!buf_count(&segs, char *)) {
			buf_release(&segs);
			continue;
		}
		r.n = buf_count(&segs, char *);
		r.segs = (char **)(void *)buf_detach(&segs, NULL);
		ig->exceptions |= r.exception;
		buf_push(&ig->rules, struct docker_rule, r);
	}
	if (ferror(f)) {
		diag_error(diag, NULL, "%s: cannot read %s: %s", addr, path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (f)
		fclose(f);
	free(line);
	free(path);
	return ret;
}

static int docker_rule_match(const struct docker_rule *r, size_t i, char *const *path, size_t j,
			     size_t n)
{
	if (i == r->n)
		return j == n;
	if (!strcmp(r->segs[i], "**"))
		return docker_rule_match(r, i + 1, path, j, n) ||
		       (j < n && docker_rule_match(r, i, path, j + 1, n));
	return j < n && fnmatch(r->segs[i], path[j], 0) == 0 && docker_rule_match(r, i + 1, path, j + 1, n);
}

/* Is the relative path left out? The last rule that matches the path, or any directory
 * above it, decides. */
static int docker_ignored(const struct docker_ignore *ig, const char *rel)
{
	struct buf segs = BUF_INIT;
	size_t n;
	int out = 0;

	docker_split(rel, &segs);
	n = buf_count(&segs, char *);
	for (size_t i = 0; i < buf_count(&ig->rules, struct docker_rule); i++) {
		const struct docker_rule *r = &buf_at(&ig->rules, struct docker_rule, i);
		for (size_t m = 1; m <= n; m++)
			if (docker_rule_match(r, 0, (char *const *)(void *)segs.data, 0, m)) {
				out = !r->exception;
				break;
			}
	}
	for (size_t i = 0; i < n; i++)
		free(buf_at(&segs, char *, i));
	buf_release(&segs);
	return out;
}

/* ---- the build context ---- */

struct docker_entry {
	char *rel;
	struct stat st;
	char *link;  /* a symlink's target */
};

struct docker_context {
	char *dir;
	struct buf entries;  /* struct docker_entry, sorted by rel */
};

static void docker_context_release(struct docker_context *c)
{
	for (size_t i = 0; i < buf_count(&c->entries, struct docker_entry); i++) {
		free(buf_at(&c->entries, struct docker_entry, i).rel);
		free(buf_at(&c->entries, struct docker_entry, i).link);
	}
	buf_release(&c->entries);
	free(c->dir);
}

static int docker_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct docker_entry *)a)->rel, ((const struct docker_entry *)b)->rel);
}

static int docker_walk(struct docker_context *c, const struct docker_ignore *ig, const char *rel,
		       const char *dockerfile, struct diag_ctx *diag, const char *addr)
{
	char *abs = rel ? xasprintf("%s/%s", c->dir, rel) : xstrdup(c->dir);
	DIR *dir = opendir(abs);
	struct dirent *de;
	int ret = -1;

	if (!dir) {
		diag_error(diag, NULL, "%s: cannot read the build context %s: %s", addr, abs, strerror(errno));
		goto out;
	}
	while ((de = readdir(dir))) {
		struct docker_entry e = { 0 };
		char *path;
		int skip, always;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		e.rel = rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		path = xasprintf("%s/%s", c->dir, e.rel);
		if (lstat(path, &e.st)) {
			diag_error(diag, NULL, "%s: cannot read %s: %s", addr, path, strerror(errno));
			free(path);
			free(e.rel);
			goto out;
		}
		skip = docker_ignored(ig, e.rel);
		/* as the CLI: the daemon needs these two even when .dockerignore names them */
		always = !strcmp(e.rel, dockerfile) || !strcmp(e.rel, ".dockerignore");
		if (S_ISDIR(e.st.st_mode)) {
			/* an exception may take back something below a directory left out */
			int descend = !skip || ig->exceptions || !strncmp(dockerfile, e.rel, strlen(e.rel));
			char *sub = descend ? xstrdup(e.rel) : NULL;
			if (!skip)
				buf_push(&c->entries, struct docker_entry, e);
			else
				free(e.rel);
			free(path);
			if (sub && docker_walk(c, ig, sub, dockerfile, diag, addr)) {
				free(sub);
				goto out;
			}
			free(sub);
			continue;
		}
		if ((skip && !always) || !(S_ISREG(e.st.st_mode) || S_ISLNK(e.st.st_mode))) {
			/* sockets, fifos and devices are not sent, as by the CLI */
			free(path);
			free(e.rel);
			continue;
		}
		if (S_ISLNK(e.st.st_mode)) {
			char target[4096];
			ssize_t n = readlink(path, target, sizeof target - 1);
			if (n < 0) {
				diag_error(diag, NULL, "%s: cannot read %s: %s", addr, path, strerror(errno));
				free(path);
				free(e.rel);
				goto out;
			}
			e.link = xstrndup(target, (size_t)n);
		}
		free(path);
		buf_push(&c->entries, struct docker_entry, e);
	}
	ret = 0;
out:
	if (dir)
		closedir(dir);
	free(abs);
	return ret;
}

/* The files of the context that a build sends, sorted. */
static int docker_context_load(struct docker_context *c, const char *dir, const char *dockerfile,
			       struct diag_ctx *diag, const char *addr)
{
	struct docker_ignore ig;
	struct stat st;
	int ret = -1;

	c->dir = xstrdup(dir);
	buf_init(&c->entries);
	if (stat(dir, &st)) {
		diag_error(diag, NULL, "%s: the build context %s: %s", addr, dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		diag_error(diag, NULL, "%s: the build context %s is not a directory", addr, dir);
		return -1;
	}
	if (docker_ignore_load(&ig, dir, diag, addr))
		return -1;
	if (docker_walk(c, &ig, NULL, dockerfile, diag, addr))
		goto out;
	qsort(c->entries.data, buf_count(&c->entries, struct docker_entry), sizeof(struct docker_entry),
	      docker_entry_cmp);
	ret = 0;
out:
	docker_ignore_release(&ig);
	return ret;
}

/* The SHA-256 (hex) over what a build sends and how: each entry's relative path, type and
 * permission bits and contents (a symlink's target), then the Dockerfile's path, the target
 * and the build args. Times and owners are left out: touching a file rebuilds nothing. */
static char *docker_context_sha256(const struct docker_context *c, const struct value *args,
				   struct diag_ctx *diag, const char *addr)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sum[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	const struct value *ba = val_map_get(args, "build_args");
	char *hex = NULL, tmp[64];

	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (size_t i = 0; i < buf_count(&c->entries, struct docker_entry); i++) {
		const struct docker_entry *e = &buf_at(&c->entries, struct docker_entry, i);
		snprintf(tmp, sizeof tmp, "%o", (unsigned)e->st.st_mode & (S_IFMT | 07777));
		EVP_DigestUpdate(md, e->rel, strlen(e->rel) + 1);
		EVP_DigestUpdate(md, tmp, strlen(tmp) + 1);
		if (e->link) {
			EVP_DigestUpdate(md, e->link, strlen(e->link) + 1);
		} else if (S_ISREG(e->st.st_mode)) {
			char *path = xasprintf("%s/%s", c->dir, e->rel), chunk[65536];
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			ssize_t n;
			uint64_t total = 0;
			if (fd < 0) {
				diag_error(diag, NULL, "%s: cannot read %s: %s", addr, path, strerror(errno));
				free(path);
				goto out;
			}
			while ((n = read(fd, chunk, sizeof chunk)) > 0) {
				EVP_DigestUpdate(md, chunk, (size_t)n);
				total += (uint64_t)n;
			}
			close(fd);
			if (n < 0) {
				diag_error(diag, NULL, "%s: cannot read %s: %s", addr, path, strerror(errno));
				free(path);
				goto out;
			}
			free(path);
			/* the length after the data keeps one file's end from passing for the next
			 * entry's name */
			snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)total);
			EVP_DigestUpdate(md, tmp, strlen(tmp) + 1);
		}
	}
	EVP_DigestUpdate(md, "dockerfile", 11);
	EVP_DigestUpdate(md, docker_str(args, "dockerfile") ?: "Dockerfile",
			 strlen(docker_str(args, "dockerfile") ?: "Dockerfile") + 1);
	EVP_DigestUpdate(md, "target", 7);
	EVP_DigestUpdate(md, docker_str(args, "target") ?: "", strlen(docker_str(args, "target") ?: "") + 1);
	EVP_DigestUpdate(md, "build_args", 11);
	/* a map is kept sorted by key */
	for (size_t i = 0; ba && ba->kind == VAL_MAP && i < ba->u.map.n; i++) {
		const struct value *v = ba->u.map.items[i].val;
		EVP_DigestUpdate(md, ba->u.map.items[i].key, strlen(ba->u.map.items[i].key) + 1);
		if (v->kind == VAL_STRING && !(v->marks & VAL_UNKNOWN))
			EVP_DigestUpdate(md, v->u.str.s, v->u.str.len + 1);
		else
			EVP_DigestUpdate(md, "", 1);
	}
	EVP_DigestFinal_ex(md, sum, &len);
	hex = xmalloc(2 * len + 1);
	for (unsigned int i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
out:
	EVP_MD_CTX_free(md);
	return hex;
}

/* Writes the context as a tar into an unlinked temporary file; returns its descriptor at
 * offset 0 (seekable, so the HTTP layer can send it again on a retry), or -1. */
static int docker_context_tar(const struct docker_context *c, off_t *size, struct diag_ctx *diag,
			      const char *addr)
{
	const char *tmp = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/stk-context.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	struct stat st;
	int fd = mkstemp(tmpl), ok = 0;

	if (fd < 0) {
		diag_error(diag, NULL, "%s: cannot make a temporary file for the build context: %s", addr,
			   strerror(errno));
		goto out;
	}
	unlink(tmpl);
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK)
		goto archive_error;
	for (size_t i = 0; i < buf_count(&c->entries, struct docker_entry); i++) {
		const struct docker_entry *e = &buf_at(&c->entries, struct docker_entry, i);
		archive_entry_clear(ae);
		archive_entry_set_pathname(ae, e->rel);
		archive_entry_set_mode(ae, e->st.st_mode);
		archive_entry_set_mtime(ae, e->st.st_mtime, 0);
		/* as the CLI sends it: owned by root in the image */
		archive_entry_set_uid(ae, 0);
		archive_entry_set_gid(ae, 0);
		if (e->link)
			archive_entry_set_symlink(ae, e->link);
		archive_entry_set_size(ae, S_ISREG(e->st.st_mode) ? e->st.st_size : 0);
		if (archive_write_header(a, ae) != ARCHIVE_OK)
			goto archive_error;
		if (S_ISREG(e->st.st_mode)) {
			char *path = xasprintf("%s/%s", c->dir, e->rel), chunk[65536];
			int in = open(path, O_RDONLY | O_CLOEXEC);
			ssize_t n = 0;
			la_int64_t left = e->st.st_size;
			if (in < 0) {
				diag_error(diag, NULL, "%s: cannot read %s: %s", addr, path, strerror(errno));
				free(path);
				goto out;
			}
			/* a file that grew since stat must not overrun its header's size */
			while (left > 0 && (n = read(in, chunk, (size_t)(left < (la_int64_t)sizeof chunk ? left : (la_int64_t)sizeof chunk))) > 0) {
				if (archive_write_data(a, chunk, (size_t)n) < 0) {
					close(in);
					free(path);
					goto archive_error;
				}
				left -= n;
			}
			close(in);
			free(path);
			if (n < 0 || left > 0) {
				diag_error(diag, NULL, "%s: %s/%s changed while it was being sent", addr, c->dir, e->rel);
				goto out;
			}
		}
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		goto archive_error;
	if (fstat(fd, &st) || lseek(fd, 0, SEEK_SET) < 0) {
		diag_error(diag, NULL, "%s: the build context's temporary file: %s", addr, strerror(errno));
		goto out;
	}
	*size = st.st_size;
	ok = 1;
	goto out;
archive_error:
	diag_error(diag, NULL, "%s: cannot write the build context: %s", addr,
		   archive_error_string(a) ? archive_error_string(a) : "libarchive error");
out:
	archive_entry_free(ae);
	archive_write_free(a);
	free(tmpl);
	if (!ok && fd >= 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* ---- registry credentials for the engine ---- */

/* base64url, as the engine decodes X-Registry-Auth and X-Registry-Config. */
static char *docker_base64url(const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	for (char *p = out; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	return out;
}

static json_t *docker_auth_json(const struct docker_registry *r, const char *server)
{
	json_t *o = json_object();

	if (!r || r->auth_disabled)
		return o;
	if (r->username)
		json_object_set_new(o, "username", json_string(r->username));
	if (r->password)
		json_object_set_new(o, "password", json_string(r->password));
	if (r->identity_token)
		json_object_set_new(o, "identitytoken", json_string(r->identity_token));
	json_object_set_new(o, "serveraddress", json_string(server));
	return o;
}

/* X-Registry-Auth for one registry: {} when there are no credentials for it. */
static char *docker_registry_auth(struct docker *d, const char *registry)
{
	const char *server = !strcmp(registry, "docker.io") ? "https://index.docker.io/v1/" : registry;
	json_t *o = docker_auth_json(docker_registry_find(d, server), server);
	char *text = json_dumps(o, JSON_COMPACT), *enc = docker_base64url(text);

	memset(text, 0, strlen(text));
	free(text);
	json_decref(o);
	return enc;
}

/* X-Registry-Config for a build (pulls of FROM images): every registry known. */
static char *docker_registry_config(struct docker *d)
{
	json_t *o = json_object();
	char *text, *enc;

	for (size_t i = 0; i < buf_count(&d->registries, struct docker_registry); i++) {
		const struct docker_registry *r = &buf_at(&d->registries, struct docker_registry, i);
		const char *server = !strcmp(r->address, "index.docker.io") ? "https://index.docker.io/v1/" : r->address;
		if (!r->auth_disabled)
			json_object_set_new(o, server, docker_auth_json(r, server));
	}
	text = json_dumps(o, JSON_COMPACT);
	enc = docker_base64url(text);
	memset(text, 0, strlen(text));
	free(text);
	json_decref(o);
	return enc;
}

/* ---- streamed answers: build and push ---- */

struct docker_stream {
	const struct provider_op *op;
	char *id;           /* build: aux.ID */
	char *digest;       /* push: aux.Digest, or "digest: sha256:..." in a status */
	char *error;        /* error, or errorDetail.message */
	char *step;         /* the last "Step N/M : ..." line */
	struct buf output;  /* what the step printed, its last 8 KiB */
};

static void docker_stream_release(struct docker_stream *s)
{
	free(s->id);
	free(s->digest);
	free(s->error);
	free(s->step);
	buf_release(&s->output);
}

/* The text of a line a build step printed, without terminal escapes (a RUN writing to stderr
 * comes back wrapped in ESC[91m ... ESC[0m) or other control characters: stk's output is
 * plain text unless stk colours it, and a message must not drive the terminal. */
static void plain_text(const char *line, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == 0x1b) {
			/* CSI: ESC [ parameters final byte; any other escape: ESC and one byte */
			if (i + 1 < n && line[i + 1] == '[') {
				for (i += 2; i < n && !((unsigned char)line[i] >= 0x40 && (unsigned char)line[i] <= 0x7e); i++)
					;
			} else {
				i++;
			}
		} else if (c >= 0x20 || c == '\t') {
			buf_addch(out, (char)c);
		}
	}
}

static void docker_stream_line(struct docker_stream *s, const char *raw, size_t rawn)
{
	struct buf text = BUF_INIT;
	const char *line;
	size_t n;

	plain_text(raw, rawn, &text);
	line = buf_cstr(&text);
	n = text.len;
	if (!n)
		goto out;
	if (s->op && s->op->progress)
		s->op->progress(s->op->progress_arg, line);
	if (n > 5 && !strncmp(line, "Step ", 5)) {
		free(s->step);
		s->step = xstrndup(line, n);
		buf_reset(&s->output);
		goto out;
	}
	/* the engine's own bookkeeping, not the step's output */
	if ((n > 5 && !strncmp(line, " ---> ", 6)) || !strncmp(line, "Removing intermediate container", n < 31 ? n : 31))
		goto out;
	if (s->output.len > 8192) {
		size_t cut = s->output.len - 4096;
		memmove(s->output.data, s->output.data + cut, s->output.len - cut);
		s->output.len -= cut;
	}
	buf_add(&s->output, line, n);
	buf_addch(&s->output, '\n');
out:
	buf_release(&text);
}

static int docker_stream_cb(void *arg, const char *data, size_t len)
{
	struct docker_stream *s = arg;
	json_t *j = json_loadb(data, len, 0, NULL);
	const char *str, *err;
	json_t *aux;

	if (!j)
		return 0;
	if ((str = json_string_value(json_object_get(j, "stream")))) {
		/* one "stream" may carry several lines, or part of one */
		while (*str) {
			size_t k = strcspn(str, "\n");
			docker_stream_line(s, str, k);
			str += k + (str[k] == '\n');
		}
	}
	/* a push reports each layer's bytes many times a second ("Pushing" with a
	 * progressDetail): only the changes of a layer's status are worth a line */
	if ((str = docker_json_str(j, "status")) && s->op && s->op->progress &&
	    !json_object_size(json_object_get(j, "progressDetail"))) {
		const char *layer = docker_json_str(j, "id");
		char *l = layer ? xasprintf("%s: %s", layer, str) : NULL;
		s->op->progress(s->op->progress_arg, l ? l : str);
		free(l);
	}
	if (str && !s->digest && (str = strstr(str, "digest: sha256:"))) {
		str += 8;
		s->digest = xstrndup(str, strcspn(str, " "));
	}
	aux = json_object_get(j, "aux");
	if (json_is_object(aux)) {
		if (!s->id && docker_json_str(aux, "ID"))
			s->id = xstrdup(docker_json_str(aux, "ID"));
		if (docker_json_str(aux, "Digest")) {
			free(s->digest);
			s->digest = xstrdup(docker_json_str(aux, "Digest"));
		}
	}
	err = docker_json_str(json_object_get(j, "errorDetail"), "message") ?: docker_json_str(j, "error");
	if (err && !s->error) {
		struct buf e = BUF_INIT;
		plain_text(err, strlen(err), &e);
		s->error = buf_detach(&e, NULL);
	}
	json_decref(j);
	return 0;
}

/* A POST whose answer is a stream of JSON lines. Returns 0 when the stream came (s holds
 * what it said, an error included), -1 after a diagnostic when there was no answer or an
 * error answer. */
static int docker_stream_call(struct docker *d, const char *path, int body_fd, off_t body_len,
			      const struct http_headers *extra, const struct provider_op *op,
			      struct docker_stream *s, struct diag_ctx *diag, const char *action)
{
	char *url;
	struct http_request req;
	struct http_response resp;
	int ret = -1;

	if (docker_ready(d, diag, op ? op->addr : NULL))
		return -1;
	url = xasprintf("%s/%s%s", d->url, DOCKER_API_VERSION, path);
	docker_request_init(d, &req, "POST", url);
	http_response_init(&resp);
	for (size_t i = 0; extra && i < http_headers_count(extra); i++)
		http_headers_set(&req.headers, http_headers_at(extra, i)->name, http_headers_at(extra, i)->value);
	if (body_fd >= 0) {
		req.upload_fd = body_fd;
		req.upload_len = body_len;
	}
	/* a build or a push takes as long as it takes: the resource's timeout, if any */
	req.timeout_ms = op->timeout_s > 0 ? (long)op->timeout_s * 1000 : -1;
	req.on_body = docker_stream_cb;
	req.on_body_arg = s;
	req.body_lines = 1;
	if (http_do(&d->http, &req, &resp)) {
		diag_error(diag, NULL, "%s: docker %s: %s", op->addr, action, resp.error ? resp.error : "no answer");
		if (d->ssh)
			docker_ssh_hint(d, diag);
		goto out;
	}
	if (resp.status >= 300) {
		json_t *answer = resp.body.len ? json_loadb(resp.body.data, resp.body.len, 0, NULL) : NULL;
		docker_api_error(diag, op->addr, action, resp.status, answer);
		json_decref(answer);
		goto out;
	}
	ret = 0;
out:
	http_response_release(&resp);
	http_request_release(&req);
	free(url);
	return ret;
}

/* ---- build, tag, push ---- */

static void docker_query_json(struct buf *q, const char *name, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);

	buf_printf(q, "&%s=", name);
	docker_escape(q, text);
	free(text);
	json_decref(j);
}

/* POST /build: *id gets the new image's ID. */
static int docker_build(struct docker *d, const struct provider_op *op, const struct docker_context *c,
			char **id, struct diag_ctx *diag)
{
	const char *dockerfile = docker_str(op->planned, "dockerfile") ?: "Dockerfile";
	const char **tags = NULL;
	size_t ntags = docker_strings(op->planned, "tags", &tags);
	struct http_headers h = HTTP_HEADERS_INIT;
	struct docker_stream s = { 0 };
	struct buf q = BUF_INIT;
	json_t *ba;
	char *cfg = NULL;
	off_t size = 0;
	int fd = -1, ret = -1;

	*id = NULL;
	buf_init(&s.output);
	s.op = op;
	buf_addstr(&q, "/build?dockerfile=");
	docker_escape(&q, dockerfile);
	for (size_t i = 0; i < ntags; i++) {
		buf_addstr(&q, "&t=");
		docker_escape(&q, tags[i]);
	}
	if ((ba = docker_map_json(val_map_get(op->planned, "build_args"), NULL)))
		docker_query_json(&q, "buildargs", ba);
	docker_query_json(&q, "labels", docker_map_json(val_map_get(op->planned, "labels"), op->token));
	if (docker_str(op->planned, "target")) {
		buf_addstr(&q, "&target=");
		docker_escape(&q, docker_str(op->planned, "target"));
	}
	if (docker_str(op->planned, "platform")) {
		buf_addstr(&q, "&platform=");
		docker_escape(&q, docker_str(op->planned, "platform"));
	}
	if (docker_bool(op->planned, "no_cache", 0))
		buf_addstr(&q, "&nocache=1");
	/* a failed step's container is removed too, not left behind */
	buf_addstr(&q, "&rm=1&forcerm=1");
	if ((fd = docker_context_tar(c, &size, diag, op->addr)) < 0)
		goto out;
	http_headers_set(&h, "Content-Type", "application/x-tar");
	cfg = docker_registry_config(d);
	http_headers_set(&h, "X-Registry-Config", cfg);
	if (docker_stream_call(d, q.data, fd, size, &h, op, &s, diag, "Build"))
		goto out;
	if (s.error) {
		/* the step that failed and what it printed, which is what the reader needs */
		while (s.output.len && s.output.data[s.output.len - 1] == '\n')
			s.output.len--;
		diag_error(diag, NULL, "%s: docker build failed%s%s: %s%s%.*s", op->addr, s.step ? " at " : "",
			   s.step ? s.step : "", s.error, s.output.len ? "\n" : "", (int)s.output.len,
			   s.output.data ? s.output.data : "");
		goto out;
	}
	if (!s.id) {
		diag_error(diag, NULL, "%s: docker build: the engine reported no image ID", op->addr);
		goto out;
	}
	*id = s.id;
	s.id = NULL;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(cfg);
	free(tags);
	http_headers_release(&h);
	buf_release(&q);
	docker_stream_release(&s);
	return ret;
}

/* A push or a pull (path) with X-Registry-Auth for registry, as docker_stream_call. */
static int docker_registry_call(struct docker *d, const struct provider_op *op, const char *path,
				const char *registry, struct docker_stream *s, struct diag_ctx *diag,
				const char *action)
{
	struct http_headers h = HTTP_HEADERS_INIT;
	char *auth = docker_registry_auth(d, registry);
	int rc;

	http_headers_set(&h, "X-Registry-Auth", auth);
	rc = docker_stream_call(d, path, -1, 0, &h, op, s, diag, action);
	memset(auth, 0, strlen(auth));
	free(auth);
	http_headers_release(&h);
	return rc;
}

/* Pushes every tag; *repo_digest gets "repo@sha256:..." of the first. */
static int docker_push(struct docker *d, const struct provider_op *op, const struct value *args,
		       char **repo_digest, struct diag_ctx *diag)
{
	const char **tags = NULL;
	size_t ntags = docker_strings(args, "tags", &tags);
	int ret = -1;

	*repo_digest = NULL;
	if (!ntags) {
		diag_error(diag, NULL, "%s: push = true needs at least one tag to push", op->addr);
		goto out;
	}
	for (size_t i = 0; i < ntags; i++) {
		struct docker_ref r;
		struct docker_stream s = { 0 };
		struct buf path = BUF_INIT;
		int rc;

		docker_ref_parse(tags[i], &r);
		buf_init(&s.output);
		s.op = op;
		buf_addstr(&path, "/images/");
		/* the engine's route takes the name's slashes as they are */
		for (const char *p = r.repo; *p;) {
			size_t k = strcspn(p, "/");
			char *seg = xstrndup(p, k);
			docker_escape(&path, seg);
			free(seg);
			p += k;
			if (*p == '/')
				buf_addch(&path, *p++);
		}
		buf_addstr(&path, "/push?tag=");
		docker_escape(&path, r.tag);
		rc = docker_registry_call(d, op, path.data, r.registry, &s, diag, "Push");
		if (!rc && s.error) {
			diag_error(diag, NULL, "%s: docker push %s: %s", op->addr, tags[i], s.error);
			rc = -1;
		} else if (!rc && !s.digest) {
			diag_error(diag, NULL, "%s: docker push %s: the registry reported no digest", op->addr, tags[i]);
			rc = -1;
		}
		if (!rc && !*repo_digest)
			*repo_digest = xasprintf("%s@%s", r.repo, s.digest);
		buf_release(&path);
		docker_stream_release(&s);
		docker_ref_release(&r);
		if (rc)
			goto out;
	}
	ret = 0;
out:
	if (ret) {
		free(*repo_digest);
		*repo_digest = NULL;
	}
	free(tags);
	return ret;
}

int docker_pull(struct docker *d, const struct provider_op *op, const char *ref, struct diag_ctx *diag)
{
	struct docker_ref r;
	struct docker_stream s = { 0 };
	struct buf path = BUF_INIT;
	int ret = -1;

	docker_ref_parse(ref, &r);
	buf_init(&s.output);
	s.op = op;
	buf_addstr(&path, "/images/create?fromImage=");
	if (strchr(ref, '@')) {
		/* a digest: the name carries it */
		docker_escape(&path, ref);
	} else {
		/* always a tag: without one the engine pulls every tag of the repository */
		docker_escape(&path, r.repo);
		buf_addstr(&path, "&tag=");
		docker_escape(&path, r.tag);
	}
	if (docker_registry_call(d, op, path.data, r.registry, &s, diag, "PullImage"))
		goto out;
	if (s.error) {
		diag_error(diag, NULL, "%s: docker pull %s: %s", op->addr, ref, s.error);
		goto out;
	}
	ret = 0;
out:
	buf_release(&path);
	docker_stream_release(&s);
	docker_ref_release(&r);
	return ret;
}

/* GET /images/{id}/json: *answer NULL when there is none. */
static int docker_inspect(struct docker *d, const char *id, json_t **answer, struct diag_ctx *diag,
			  const char *addr)
{
	struct buf path = BUF_INIT;
	long status;
	int ret = -1;

	buf_addstr(&path, "/images/");
	docker_escape(&path, id);
	buf_addstr(&path, "/json");
	if (docker_call(d, "GET", path.data, NULL, &status, answer, diag, addr, "InspectImage"))
		goto out;
	if (status == 404) {
		json_decref(*answer);
		*answer = NULL;
	} else if (status >= 300 || !json_is_object(*answer)) {
		docker_api_error(diag, addr, "InspectImage", status, *answer);
		json_decref(*answer);
		*answer = NULL;
		goto out;
	}
	ret = 0;
out:
	buf_release(&path);
	return ret;
}

static int image_create(struct docker *d, const struct provider_op *op, struct value **result,
			struct diag_ctx *diag)
{
	const char *dir = docker_str(op->planned, "context");
	const char *dockerfile = docker_str(op->planned, "dockerfile") ?: "Dockerfile";
	struct docker_context c = { 0 };
	char *sha = NULL, *id = NULL, *repo_digest = NULL;
	int ret = -1;

	if (!dir) {
		diag_error(diag, NULL, "%s: context must be known to build an image", op->addr);
		return -1;
	}
	if (docker_context_load(&c, dir, dockerfile, diag, op->addr) ||
	    !(sha = docker_context_sha256(&c, op->planned, diag, op->addr)) ||
	    docker_build(d, op, &c, &id, diag))
		goto out;
	if (docker_bool(op->planned, "push", 0) && docker_push(d, op, op->planned, &repo_digest, diag)) {
		/* built but not pushed: kept, tainted, so the next apply makes it again */
		*result = image_value(op->planned, NULL, NULL, NULL, id, NULL, sha);
		goto out;
	}
	*result = image_value(op->planned, NULL, NULL, NULL, id, repo_digest, sha);
	ret = 0;
out:
	docker_context_release(&c);
	free(sha);
	free(id);
	free(repo_digest);
	return ret;
}

/* Tags added or taken away, then a push when asked: what can change without a build. */
static int image_update(struct docker *d, const struct provider_op *op, struct value **result,
			struct diag_ctx *diag)
{
	const char *id = docker_str(op->prior, "id");
	const char **want = NULL, **had = NULL;
	size_t nwant = docker_strings(op->planned, "tags", &want), nhad = docker_strings(op->prior, "tags", &had);
	char *repo_digest = NULL;
	json_t *img = NULL;
	int ret = -1;

	if (!id) {
		diag_error(diag, NULL, "%s: the state has no image ID", op->addr);
		goto out;
	}
	if (docker_inspect(d, id, &img, diag, op->addr))
		goto out;
	if (!img) {
		diag_error(diag, NULL, "%s: image %s is gone", op->addr, id);
		goto out;
	}
	for (size_t i = 0; i < nwant; i++) {
		struct docker_ref r;
		struct buf path = BUF_INIT;
		int rc;
		if (docker_has_tag(json_object_get(img, "RepoTags"), want[i]))
			continue;
		docker_ref_parse(want[i], &r);
		buf_addstr(&path, "/images/");
		docker_escape(&path, id);
		buf_addstr(&path, "/tag?repo=");
		docker_escape(&path, r.repo);
		buf_addstr(&path, "&tag=");
		docker_escape(&path, r.tag);
		rc = docker_call(d, "POST", path.data, NULL, NULL, NULL, diag, op->addr, "TagImage");
		buf_release(&path);
		docker_ref_release(&r);
		if (rc)
			goto out;
	}
	for (size_t i = 0; i < nhad; i++) {
		struct buf path = BUF_INIT;
		size_t k;
		long status;
		json_t *answer = NULL;
		int rc;
		for (k = 0; k < nwant && strcmp(want[k], had[i]); k++)
			;
		if (k < nwant || !docker_has_tag(json_object_get(img, "RepoTags"), had[i]))
			continue;
		/* the engine deletes an image with its last tag: untag only when others remain */
		if (!nwant) {
			diag_warning(diag, NULL, "%s: %s is left on the image: an image without tags would be removed",
				     op->addr, had[i]);
			continue;
		}
		buf_addstr(&path, "/images/");
		docker_escape(&path, had[i]);
		buf_addstr(&path, "?noprune=1");
		rc = docker_call(d, "DELETE", path.data, NULL, &status, &answer, diag, op->addr, "UntagImage");
		if (!rc && status >= 300 && status != 404) {
			docker_api_error(diag, op->addr, "UntagImage", status, answer);
			rc = -1;
		}
		json_decref(answer);
		buf_release(&path);
		if (rc)
			goto out;
	}
	if (docker_bool(op->planned, "push", 0)) {
		if (docker_push(d, op, op->planned, &repo_digest, diag))
			goto out;
	} else if (docker_str(op->prior, "repo_digest")) {
		repo_digest = xstrdup(docker_str(op->prior, "repo_digest"));
	}
	*result = image_value(op->planned, NULL, NULL, NULL, id, repo_digest, docker_str(op->prior, "context_sha256"));
	ret = 0;
out:
	json_decref(img);
	free(want);
	free(had);
	free(repo_digest);
	return ret;
}

static int image_remove(struct docker *d, const struct provider_op *op, struct diag_ctx *diag)
{
	const char *id = docker_str(op->prior, "id");
	struct buf path = BUF_INIT;
	json_t *answer = NULL;
	long status;
	int ret = -1;

	if (!id || docker_bool(op->prior, "keep_locally", 0))
		return 0;
	buf_addstr(&path, "/images/");
	docker_escape(&path, id);
	/* force: the ID with all its tags, and images that stopped containers still name */
	buf_addstr(&path, "?force=1");
	for (int attempt = 0;; attempt++) {
		json_t *img = NULL;
		json_decref(answer);
		answer = NULL;
		if (docker_call(d, "DELETE", path.data, NULL, &status, &answer, diag, op->addr, "RemoveImage"))
			goto out;
		if (status < 300 || status == 404)
			break;
		/* Two images removed at once that share untagged parents race in the engine's
		 * pruning of those parents: the loser fails on a parent the winner took
		 * ("unrecognized image ID"), or on one whose other child is not gone yet (409,
		 * "image has dependent child images"), its own image often gone already. So:
		 * gone is success, and otherwise it is asked again; an image really in use (409
		 * every time) fails on the third answer, with the engine's message. */
		if (docker_inspect(d, id, &img, diag, op->addr) == 0 && !img)
			break;
		json_decref(img);
		if (attempt == 2) {
			docker_api_error(diag, op->addr, "RemoveImage", status, answer);
			goto out;
		}
	}
	ret = 0;
out:
	json_decref(answer);
	buf_release(&path);
	return ret;
}

/* ---- the registry: does the pushed tag still point at what was pushed? ---- */

/* A parameter of a WWW-Authenticate challenge: realm="...", service="...", scope="...". */
static char *docker_challenge_param(const char *h, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = h; (p = strstr(p, name)); p += n) {
		if ((p == h || p[-1] == ' ' || p[-1] == ',') && p[n] == '=' && p[n + 1] == '"') {
			const char *s = p + n + 2, *e = strchr(s, '"');
			return e ? xstrndup(s, (size_t)(e - s)) : NULL;
		}
	}
	return NULL;
}

static void docker_basic_auth(struct http_request *req, const struct docker_registry *cred)
{
	char *up, *enc, *hdr;
	size_t n;

	if (!cred || !cred->username || !cred->password)
		return;
	up = xasprintf("%s:%s", cred->username, cred->password);
	n = strlen(up);
	enc = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)enc, (unsigned char *)up, (int)n);
	hdr = xasprintf("Basic %s", enc);
	http_headers_set(&req->headers, "Authorization", hdr);
	memset(up, 0, n);
	memset(hdr, 0, strlen(hdr));
	free(up);
	free(enc);
	free(hdr);
}

/* A bearer token from the realm a 401 names (the registry's token server), or NULL.
 * Credentials with an identity token (config.json's "identitytoken": what docker login keeps
 * when the token server hands out a refresh token, with the password left out, so "auth" is
 * "user:") cannot log in with basic auth: the realm refuses the empty password. As the
 * daemon does (distribution's fetchTokenWithOAuth), the refresh token is traded for an
 * access token with an OAuth2 POST to the realm instead. */
static char *docker_registry_token(struct docker *d, const char *challenge, const struct docker_registry *cred)
{
	char *realm = docker_challenge_param(challenge, "realm");
	char *service = docker_challenge_param(challenge, "service");
	char *scope = docker_challenge_param(challenge, "scope");
	int oauth = cred && cred->identity_token && *cred->identity_token;
	struct buf params = BUF_INIT, url = BUF_INIT, form = BUF_INIT;
	struct http_request req;
	struct http_response resp;
	char *token = NULL;
	json_t *j = NULL;

	if (!realm)
		goto out;
	buf_addstr(&params, "service=");
	docker_escape(&params, service ? service : "");
	if (scope) {
		buf_addstr(&params, "&scope=");
		docker_escape(&params, scope);
	}
	buf_addstr(&url, realm);
	if (!oauth) {
		buf_addch(&url, strchr(realm, '?') ? '&' : '?');
		buf_add(&url, params.data, params.len);
	}
	http_request_init(&req, oauth ? "POST" : "GET", url.data);
	http_response_init(&resp);
	/* both bodies hold credentials (the refresh token, the token given): kept out of the
	 * debug log whatever their keys are called */
	req.secret_body = 1;
	if (oauth) {
		buf_addstr(&form, "grant_type=refresh_token&client_id=stk&refresh_token=");
		docker_escape(&form, cred->identity_token);
		buf_addch(&form, '&');
		buf_add(&form, params.data, params.len);
		req.body = form.data;
		req.body_len = form.len;
		http_headers_set(&req.headers, "Content-Type", "application/x-www-form-urlencoded");
	} else {
		docker_basic_auth(&req, cred);
	}
	if (!http_do(&d->http, &req, &resp) && resp.status == 200 &&
	    (j = json_loadb(resp.body.data, resp.body.len, 0, NULL))) {
		/* the OAuth2 answer has only access_token; the GET's has token (and maybe both) */
		const char *t = docker_json_str(j, "token") ?: docker_json_str(j, "access_token");
		if (t)
			token = xstrdup(t);
	}
	json_decref(j);
	if (resp.body.data)
		OPENSSL_cleanse(resp.body.data, resp.body.len);
	http_response_release(&resp);
	http_request_release(&req);
out:
	if (form.data)
		OPENSSL_cleanse(form.data, form.len);
	buf_release(&form);
	buf_release(&params);
	buf_release(&url);
	free(realm);
	free(service);
	free(scope);
	return token;
}

/* HEAD /v2/<name>/manifests/<tag>: *digest gets Docker-Content-Digest, NULL when the tag is
 * not there. Loopback registries are spoken to over plain HTTP (the engine treats
 * 127.0.0.0/8 as insecure the same way), every other over HTTPS. Returns -1 after a
 * diagnostic when the registry could not say. */
static int docker_registry_digest(struct docker *d, const char *ref, char **digest, struct diag_ctx *diag)
{
	struct docker_ref r;
	const char *host;
	const struct docker_registry *cred;
	char *url, *token = NULL;
	int ret = -1, loop;

	*digest = NULL;
	docker_ref_parse(ref, &r);
	host = !strcmp(r.registry, "docker.io") ? "registry-1.docker.io" : r.registry;
	loop = !strncmp(host, "127.", 4) || !strncmp(host, "localhost", 9) || !strncmp(host, "[::1]", 5);
	url = xasprintf("%s://%s/v2/%s/manifests/%s", loop ? "http" : "https", host, r.path, r.tag);
	cred = docker_registry_find(d, r.registry);
	for (int attempt = 0; attempt < 2; attempt++) {
		struct http_request req;
		struct http_response resp;
		const char *chal;
		int again = 0;

		http_request_init(&req, "HEAD", url);
		http_response_init(&resp);
		http_headers_add(&req.headers, "Accept",
				 "application/vnd.docker.distribution.manifest.v2+json, "
				 "application/vnd.docker.distribution.manifest.list.v2+json, "
				 "application/vnd.oci.image.manifest.v1+json, "
				 "application/vnd.oci.image.index.v1+json");
		if (token) {
			char *h = xasprintf("Bearer %s", token);
			http_headers_set(&req.headers, "Authorization", h);
			free(h);
		} else if (attempt) {
			docker_basic_auth(&req, cred);
		}
		if (http_do(&d->http, &req, &resp)) {
			diag_error(diag, NULL, "registry %s: %s", r.registry, resp.error ? resp.error : "no answer");
		} else if (resp.status == 401 && !attempt && (chal = http_response_header(&resp, "WWW-Authenticate"))) {
			if (!strncasecmp(chal, "Bearer", 6))
				token = docker_registry_token(d, chal, cred);
			again = token || (!strncasecmp(chal, "Basic", 5) && cred);
			if (!again)
				diag_error(diag, NULL, "registry %s: HEAD %s/manifests/%s: not authorized", r.registry,
					   r.path, r.tag);
		} else if (resp.status == 404) {
			ret = 0;
		} else if (resp.status >= 300) {
			diag_error(diag, NULL, "registry %s: HEAD %s/manifests/%s: HTTP %ld", r.registry, r.path,
				   r.tag, resp.status);
		} else if (http_response_header(&resp, "Docker-Content-Digest")) {
			*digest = xstrdup(http_response_header(&resp, "Docker-Content-Digest"));
			ret = 0;
		} else {
			diag_error(diag, NULL, "registry %s: no Docker-Content-Digest for %s:%s", r.registry, r.path,
				   r.tag);
		}
		http_response_release(&resp);
		http_request_release(&req);
		if (!again)
			break;
	}
	if (token) {
		memset(token, 0, strlen(token));
		free(token);
	}
	free(url);
	docker_ref_release(&r);
	return ret;
}

/* ---- read, find ---- */

/* The prior's triggers, plus the context's new hash when it no longer matches what was
 * built (see the top of this file). NULL: keep the prior's as they are. */
static struct value *image_stale_triggers(const struct value *prior, struct diag_ctx *diag)
{
	const char *dir = docker_str(prior, "context"), *built = docker_str(prior, "context_sha256");
	const struct value *old = val_map_get(prior, "triggers");
	struct docker_context c = { 0 };
	struct diag_ctx quiet;
	struct docker_obj o;
	char *now = NULL;
	struct value *r = NULL;

	if (!dir || !built)
		return NULL;
	/* a context that cannot be read here (a plan run elsewhere) cannot be compared: said
	 * once, as a warning, and the image kept */
	diag_init(&quiet);
	if (docker_context_load(&c, dir, docker_str(prior, "dockerfile") ?: "Dockerfile", &quiet, "") ||
	    !(now = docker_context_sha256(&c, prior, &quiet, ""))) {
		diag_warning(diag, NULL, "docker.image: cannot hash the build context %s, so a change in it is "
			     "not looked for", dir);
		goto out;
	}
	if (!strcmp(now, built))
		goto out;
	docker_obj_init(&o);
	for (size_t i = 0; old && old->kind == VAL_MAP && i < old->u.map.n; i++)
		if (strcmp(old->u.map.items[i].key, DOCKER_CONTEXT_TRIGGER))
			docker_obj_val(&o, old->u.map.items[i].key, val_copy_known(old->u.map.items[i].val));
	docker_obj_str(&o, DOCKER_CONTEXT_TRIGGER, now);
	r = docker_obj_done(&o);
out:
	diag_release(&quiet);
	docker_context_release(&c);
	free(now);
	return r;
}

static int image_read(struct docker *d, struct provider_read *items, size_t n, struct diag_ctx *diag)
{
	int ret = -1;

	for (size_t i = 0; i < n; i++)
		items[i].result = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct value *prior = items[i].prior;
		const char *id = docker_str(prior, "id");
		const char *repo_digest = docker_str(prior, "repo_digest");
		const char **tags = NULL;
		size_t ntags;
		struct value **kept, *push = NULL;
		size_t nkept = 0;
		json_t *img = NULL, *repo_tags;

		if (!id)
			continue;
		if (docker_inspect(d, id, &img, diag, NULL))
			goto out;
		if (!img)
			continue;
		repo_tags = json_object_get(img, "RepoTags");
		ntags = docker_strings(prior, "tags", &tags);
		kept = xcalloc(ntags ? ntags : 1, sizeof *kept);
		if (!val_map_get(prior, "context")) {
			/* an import: the tags the engine has */
			size_t k;
			json_t *t;
			free(kept);
			/* room for the engine's tags and the state's, which the loop below adds */
			kept = xcalloc(json_array_size(repo_tags) + ntags + 1, sizeof *kept);
			json_array_foreach(repo_tags, k, t)
				if (json_string_value(t) && strcmp(json_string_value(t), "<none>:<none>"))
					kept[nkept++] = val_cstring(json_string_value(t));
		}
		/* a tag moved to another image (or removed) is drift: the update tags it again */
		for (size_t k = 0; k < ntags; k++)
			if (docker_has_tag(repo_tags, tags[k]))
				kept[nkept++] = val_cstring(tags[k]);
		if (docker_bool(prior, "push", 0) && repo_digest && ntags) {
			char *digest = NULL;
			const char *at = strchr(repo_digest, '@');
			if (docker_registry_digest(d, tags[0], &digest, diag)) {
				/* a read names no address: say which image, and the way past a
				 * registry that is down (a destroy, say) */
				diag_note(diag, NULL, "the registry was asked whether %s is still pushed there; "
					  "while it cannot answer, -refresh=false plans (and destroys) from the state",
					  tags[0]);
				for (size_t k = 0; k < nkept; k++)
					val_unref(kept[k]);
				free(kept);
				free(tags);
				json_decref(img);
				goto out;
			}
			/* gone from the registry, or the tag points elsewhere: not pushed as
			 * configured, and the update pushes again */
			if (!digest || !at || strcmp(digest, at + 1))
				push = val_bool(0);
			free(digest);
		}
		items[i].result = image_value(prior, val_list_take(kept, nkept), push,
					      image_stale_triggers(prior, diag), id, repo_digest,
					      docker_str(prior, "context_sha256"));
		free(kept);
		free(tags);
		json_decref(img);
	}
	ret = 0;
out:
	if (ret)
		for (size_t i = 0; i < n; i++) {
			val_unref(items[i].result);
			items[i].result = NULL;
		}
	return ret;
}

/* GET /images/json?filters={"label":["stk.token=T"]}: the image an interrupted build made. */
static int image_find(struct docker *d, const char *token, const struct value *planned,
		      struct value **result, struct diag_ctx *diag)
{
	char *label = xasprintf("%s=%s", DOCKER_TOKEN_LABEL, token);
	const char *values[1] = { label };
	const char *dir = docker_str(planned, "context");
	struct docker_context c = { 0 };
	struct diag_ctx quiet;
	struct buf path = BUF_INIT;
	json_t *list = NULL;
	char *sha = NULL;
	int ret = -1;

	*result = NULL;
	buf_addstr(&path, "/images/json");
	docker_filters(&path, "label", values, 1);
	if (docker_call(d, "GET", path.data, NULL, NULL, &list, diag, NULL, "ListImages"))
		goto out;
	if (json_array_size(list) && docker_json_str(json_array_get(list, 0), "Id")) {
		/* the hash of the context as it is now: the best guess at what was sent */
		diag_init(&quiet);
		if (dir && !docker_context_load(&c, dir, docker_str(planned, "dockerfile") ?: "Dockerfile", &quiet, ""))
			sha = docker_context_sha256(&c, planned, &quiet, "");
		diag_release(&quiet);
		/* a push that did not happen shows as no repo_digest; the next plan pushes */
		*result = image_value(planned, NULL, val_bool(0), NULL, docker_json_str(json_array_get(list, 0), "Id"),
				      NULL, sha);
	}
	ret = 0;
out:
	docker_context_release(&c);
	free(sha);
	json_decref(list);
	buf_release(&path);
	free(label);
	return ret;
}

/* ---- data sources ---- */

/* data docker.registry_image: the digest the registry serves for a tag, read with the same
 * HEAD (and the same credentials) as a pushed image's check; nothing is pulled. */
int docker_data_registry_image(struct docker *d, const struct value *config, struct value **result,
			       struct diag_ctx *diag)
{
	const char *name = docker_str(config, "name");
	char *digest = NULL;
	struct docker_obj o;

	if (!name) {
		diag_error(diag, NULL, "data docker.registry_image: name is empty");
		return -1;
	}
	/* TLS is always verified (docs/docker.md): the argument exists for Terraform's schema */
	if (docker_bool(config, "insecure_skip_verify", 0)) {
		diag_error(diag, NULL, "data docker.registry_image %s: insecure_skip_verify is not supported: "
			   "stk always verifies TLS", name);
		diag_hint(diag, "a registry on 127.0.0.0/8 is spoken to over plain HTTP, as the engine does");
		return -1;
	}
	if (docker_registry_digest(d, name, &digest, diag))
		return -1;
	if (!digest) {
		diag_error(diag, NULL, "data docker.registry_image: %s is not in its registry", name);
		return -1;
	}
	docker_obj_init(&o);
	docker_obj_str(&o, "name", name);
	docker_obj_bool(&o, "insecure_skip_verify", 0);
	docker_obj_str(&o, "id", digest);
	docker_obj_str(&o, "sha256_digest", digest);
	*result = docker_obj_done(&o);
	free(digest);
	return 0;
}

/* data docker.image: an image in the daemon's store, by name, tag or ID. */
int docker_data_image(struct docker *d, const struct value *config, struct value **result,
		      struct diag_ctx *diag)
{
	const char *name = docker_str(config, "name");
	json_t *j = NULL, *digests;
	struct docker_obj o;

	if (!name) {
		diag_error(diag, NULL, "data docker.image: name is empty");
		return -1;
	}
	if (docker_inspect(d, name, &j, diag, NULL))
		return -1;
	if (!j) {
		diag_error(diag, NULL, "data docker.image: no image %s in the daemon's store", name);
		diag_hint(diag, "build it with a docker.image resource, or pull it outside stk");
		return -1;
	}
	digests = json_object_get(j, "RepoDigests");
	docker_obj_init(&o);
	docker_obj_str(&o, "name", name);
	docker_obj_str(&o, "id", docker_json_str(j, "Id"));
	docker_obj_str(&o, "repo_digest", json_string_value(json_array_get(digests, 0)));
	*result = docker_obj_done(&o);
	json_decref(j);
	return 0;
}

const struct docker_resource docker_image_resource = {
	.type = "image",
	.create = image_create,
	.update = image_update,
	.remove = image_remove,
	.read = image_read,
	.find = image_find,
};

/* host.c: the host provider: files on the machine stk runs on (Terraform's host_file). The
 * name is not "local" because local.NAME already names local values. It needs no cloud, so it
 * is how a stack writes a generated configuration to disk, and how stk's own tests exercise a
 * real apply. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "providers/provider.h"

static const struct schema_attr file_attrs[] = {
	{ .name = "filename", .type = &schema_string, .flags = SF_REQUIRED | SF_FORCE_NEW,
	  .description = "Path of the file to write, relative to where stk runs" },
	{ .name = "content", .type = &schema_string, .flags = SF_REQUIRED | SF_FORCE_NEW,
	  .description = "The file's text" },
	{ .name = "file_permission", .type = &schema_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .default_value = "\"0644\"", .description = "Permission bits, in octal" },
	{ .name = "id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "SHA-256 of the content, in hex" },
	{ .name = "content_sha256", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "SHA-256 of the content, in hex" },
	{ .name = NULL },
};

static const struct schema_resource host_resources[] = {
	{ .type = "file", .description = "A file with the given content",
	  .block = { .attrs = file_attrs }, .id_attr = "filename" },
	{ .type = NULL },
};

static const struct schema_resource host_data[] = {
	{ .type = NULL },
};

static const struct schema_attr host_config[] = {
	{ .name = NULL },
};

const struct schema_provider schema_host = {
	.name = "host",
	.config = { .attrs = host_config },
	.resources = host_resources,
	.data_sources = host_data,
};

static struct provider *host_configure(const struct value *config, struct diag_ctx *diag)
{
	struct provider *p = xcalloc(1, sizeof *p);
	(void)config;
	(void)diag;
	return p;
}

static void host_release(struct provider *p)
{
	free(p);
}

static const char *str_attr(const struct value *m, const char *name)
{
	const struct value *v = m ? val_map_get(m, name) : NULL;
	return v && v->kind == VAL_STRING ? v->u.str.s : NULL;
}

static void sha256_hex(const char *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static struct value *file_value(const char *filename, const char *content, size_t len, const char *perm)
{
	char hex[65];
	struct val_pair p[5];

	sha256_hex(content, len, hex);
	p[0].key = xstrdup("content");
	p[0].val = val_string(content, len);
	p[1].key = xstrdup("content_sha256");
	p[1].val = val_cstring(hex);
	p[2].key = xstrdup("file_permission");
	p[2].val = val_cstring(perm);
	p[3].key = xstrdup("filename");
	p[3].val = val_cstring(filename);
	p[4].key = xstrdup("id");
	p[4].val = val_cstring(hex);
	return val_map_take(p, 5);
}

/* Writes the whole file under a temporary name, then renames it into place, so a reader never
 * sees half of it. */
static int host_create(struct provider *p, const struct provider_op *op, struct value **result,
			struct diag_ctx *diag)
{
	const char *filename = str_attr(op->planned, "filename");
	const struct value *content = val_map_get(op->planned, "content");
	const char *perm = str_attr(op->planned, "file_permission");
	char *tmp = NULL;
	long mode;
	char *end;
	int fd = -1, ret = -1;

	(void)p;
	if (!filename || !content || content->kind != VAL_STRING) {
		diag_error(diag, NULL, "%s: filename and content must be known strings", op->addr);
		goto out;
	}
	mode = strtol(perm ? perm : "0644", &end, 8);
	if (*end || mode < 0 || mode > 07777) {
		diag_error(diag, NULL, "%s: file_permission must be octal, such as \"0644\", not \"%s\"",
			   op->addr, perm);
		goto out;
	}
	tmp = xasprintf("%s.stk-tmp-%ld", filename, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		diag_error(diag, NULL, "%s: cannot write %s: %s", op->addr, filename, strerror(errno));
		goto out;
	}
	for (size_t off = 0; off < content->u.str.len; ) {
		ssize_t w = write(fd, content->u.str.s + off, content->u.str.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			diag_error(diag, NULL, "%s: cannot write %s: %s", op->addr, filename, strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	if (fchmod(fd, (mode_t)mode) || fsync(fd) || close(fd)) {
		fd = -1;
		diag_error(diag, NULL, "%s: cannot write %s: %s", op->addr, filename, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, filename)) {
		diag_error(diag, NULL, "%s: cannot write %s: %s", op->addr, filename, strerror(errno));
		goto out;
	}
	*result = file_value(filename, content->u.str.s, content->u.str.len, perm ? perm : "0644");
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret && tmp)
		unlink(tmp);
	free(tmp);
	return ret;
}

static int host_update(struct provider *p, const struct provider_op *op, struct value **result,
			struct diag_ctx *diag)
{
	/* every argument forces a new file: an update in place never comes */
	(void)p;
	(void)result;
	diag_error(diag, NULL, "%s: a host.file is never updated in place", op->addr);
	return -1;
}

static int host_remove(struct provider *p, const struct provider_op *op, struct diag_ctx *diag)
{
	const char *filename = str_attr(op->prior, "filename");

	(void)p;
	if (filename && unlink(filename) && errno != ENOENT) {
		diag_error(diag, NULL, "%s: cannot remove %s: %s", op->addr, filename, strerror(errno));
		return -1;
	}
	return 0;
}

static int host_read(struct provider *p, struct provider_read *items, size_t n, struct diag_ctx *diag)
{
	(void)p;
	(void)diag;
	for (size_t i = 0; i < n; i++) {
		const char *filename = str_attr(items[i].prior, "filename");
		const char *perm = str_attr(items[i].prior, "file_permission");
		struct buf b = BUF_INIT;
		char chunk[65536];
		ssize_t r;
		int fd = filename ? open(filename, O_RDONLY | O_CLOEXEC) : -1;

		struct stat st;
		char mode[16];
		char *end;

		items[i].result = NULL;
		if (fd < 0)
			continue;   /* gone: planned for creation again */
		while ((r = read(fd, chunk, sizeof chunk)) > 0)
			buf_add(&b, chunk, (size_t)r);
		/* the mode the file has (an import learns it, a chmod outside stk is drift), written
		 * as the state has it when it is the same mode ("644" and "0644" are one) */
		const char *shown = perm ? perm : "0644";
		if (fstat(fd, &st) == 0) {
			snprintf(mode, sizeof mode, "%04o", (unsigned)(st.st_mode & 07777));
			if (!perm || !*perm || strtol(perm, &end, 8) != (long)(st.st_mode & 07777) || *end)
				shown = mode;
		}
		close(fd);
		items[i].result = file_value(filename, buf_cstr(&b), b.len, shown);
		buf_release(&b);
	}
	return 0;
}

const struct provider_ops provider_host = {
	.name = "host",
	.schema = &schema_host,
	.configure = host_configure,
	.release = host_release,
	.create = host_create,
	.update = host_update,
	.remove = host_remove,
	.read = host_read,
};


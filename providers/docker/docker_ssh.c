/* docker_ssh.c: an ssh:// Docker host. The docker CLI runs `ssh ... HOST docker system
 * dial-stdio` per connection, whose standard input and output are the remote daemon's socket;
 * stk does the same behind a unix socket of its own, so that the HTTP client (libcurl, which
 * speaks to a socket, not to a process) needs nothing new. Each connection accepted there
 * is given to a new ssh as its stdin and stdout: no bytes pass through stk. */
#define _GNU_SOURCE
#include "providers/docker/docker_ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/buf.h"

extern char **environ;

struct docker_ssh {
	char *dir;              /* private (0700): the socket and ssh's stderr */
	char *socket;           /* dir/docker.sock */
	char *log;              /* dir/ssh.err: what every ssh said, appended */
	struct buf argv;        /* char *: ssh's arguments, NULL-terminated */
	int listen_fd;
	int log_fd;
	int running;            /* the thread was started */
	pthread_t thread;
	pthread_mutex_t mu;
	struct buf pids;        /* pid_t: ssh processes not reaped yet */
};

/* Reaps the ssh processes that have exited (all of them, waiting, when block). Only the
 * pids spawned here: stk's other children are not this code's to wait for. */
static void reap(struct docker_ssh *s, int block)
{
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < buf_count(&s->pids, pid_t);) {
		pid_t pid = buf_at(&s->pids, pid_t, i);
		if (block)
			kill(pid, SIGTERM);
		if (waitpid(pid, NULL, block ? 0 : WNOHANG) == 0) {
			i++;
			continue;
		}
		buf_at(&s->pids, pid_t, i) = buf_at(&s->pids, pid_t, buf_count(&s->pids, pid_t) - 1);
		s->pids.len -= sizeof(pid_t);
	}
	pthread_mutex_unlock(&s->mu);
}

static void *accept_run(void *arg)
{
	struct docker_ssh *s = arg;

	for (;;) {
		posix_spawn_file_actions_t fa;
		posix_spawnattr_t at;
		pid_t pid;
		int c = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0 && errno == EINTR)
			continue;
		if (c < 0)
			break;     /* docker_ssh_stop shut the socket down */
		reap(s, 0);
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, c, 0);
		posix_spawn_file_actions_adddup2(&fa, c, 1);
		posix_spawn_file_actions_adddup2(&fa, s->log_fd, 2);
		posix_spawnattr_init(&at);
		/* a process group of its own: a Ctrl-C at the terminal is stk's to handle (the
		 * first lets the operations in flight finish), not a cut in their connections */
		posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
		posix_spawnattr_setpgroup(&at, 0);
		if (posix_spawnp(&pid, "ssh", &fa, &at, (char *const *)(void *)s->argv.data, environ) == 0) {
			pthread_mutex_lock(&s->mu);
			buf_push(&s->pids, pid_t, pid);
			pthread_mutex_unlock(&s->mu);
		} else {
			static const char msg[] = "stk: cannot run ssh (is openssh-client installed?)\n";
			if (write(s->log_fd, msg, sizeof msg - 1) < 0) {
				/* the connection's failure says enough */
			}
		}
		posix_spawnattr_destroy(&at);
		posix_spawn_file_actions_destroy(&fa);
		/* ssh holds it now; its end of the connection closes when ssh exits */
		close(c);
	}
	return NULL;
}

/* "ssh://[USER@]HOST[:PORT]" -> user, host, port (NULL when absent). The docker CLI's
 * rules: no path, no query; and nothing that ssh would read as an option. */
static int parse_host(const char *url, char **user, char **host, char **port, struct diag_ctx *diag)
{
	const char *rest = url + 6, *at = strchr(rest, '@'), *h, *colon;
	const char *why = NULL;

	*user = *host = *port = NULL;
	h = at ? at + 1 : rest;
	colon = strrchr(h, ':');
	if (strpbrk(rest, "/?#"))
		why = "has a path or a query (ssh://[USER@]HOST[:PORT] only)";
	else if (!*h || h == colon)
		why = "names no host";
	else if (*h == '-' || (at && *rest == '-'))
		why = "starts a name with '-', which ssh would read as an option";
	else if (at && at == rest)
		why = "has an empty user before '@'";
	else if (colon && (!colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1)))
		why = "has a port that is not a number";
	if (why) {
		diag_error(diag, NULL, "docker: host \"%s\" %s", url, why);
		return -1;
	}
	if (at)
		*user = xstrndup(rest, (size_t)(at - rest));
	*host = xstrndup(h, colon ? (size_t)(colon - h) : strlen(h));
	if (colon)
		*port = xstrdup(colon + 1);
	return 0;
}

static void push_arg(struct docker_ssh *s, const char *a)
{
	char *copy = a ? xstrdup(a) : NULL;
	buf_push(&s->argv, char *, copy);
}

int docker_ssh_start(struct docker_ssh **out, const char *url, const struct value *opts,
		     struct diag_ctx *diag)
{
	struct docker_ssh *s = xcalloc(1, sizeof *s);
	struct sockaddr_un sa;
	char *user = NULL, *host = NULL, *port = NULL;
	const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *tmpl = xasprintf("%s/stk-docker-ssh-XXXXXX", tmp);
	int ret = -1;

	*out = NULL;
	s->listen_fd = s->log_fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	buf_init(&s->argv);
	buf_init(&s->pids);
	if (parse_host(url, &user, &host, &port, diag))
		goto out;
	push_arg(s, "ssh");
	if (user) {
		push_arg(s, "-l");
		push_arg(s, user);
	}
	if (port) {
		push_arg(s, "-p");
		push_arg(s, port);
	}
	/* never a prompt: nobody is there to answer it (a password, an unknown host key) */
	push_arg(s, "-o");
	push_arg(s, "BatchMode=yes");
	for (size_t i = 0; opts && (opts->kind == VAL_LIST || opts->kind == VAL_SET) && i < opts->u.list.n; i++)
		if (opts->u.list.items[i]->kind == VAL_STRING)
			push_arg(s, opts->u.list.items[i]->u.str.s);
	push_arg(s, "--");
	push_arg(s, host);
	push_arg(s, "docker");
	push_arg(s, "system");
	push_arg(s, "dial-stdio");
	push_arg(s, NULL);

	if (!mkdtemp(tmpl)) {
		diag_error(diag, NULL, "docker: %s: cannot make a directory for its socket in %s: %s", url, tmp,
			   strerror(errno));
		goto out;
	}
	s->dir = xstrdup(tmpl);
	s->socket = xasprintf("%s/docker.sock", s->dir);
	if (strlen(s->socket) >= sizeof sa.sun_path) {
		diag_error(diag, NULL, "docker: %s: the socket's path %s is too long for a unix socket", url, s->socket);
		diag_hint(diag, "set TMPDIR to a shorter directory");
		goto out;
	}
	s->log = xasprintf("%s/ssh.err", s->dir);
	s->log_fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", s->socket);
	if (s->log_fd < 0 || s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&sa, sizeof sa) ||
	    listen(s->listen_fd, 64)) {
		diag_error(diag, NULL, "docker: %s: cannot listen on %s: %s", url, s->socket, strerror(errno));
		goto out;
	}
	if (pthread_create(&s->thread, NULL, accept_run, s)) {
		diag_error(diag, NULL, "docker: %s: cannot start a thread", url);
		goto out;
	}
	s->running = 1;
	*out = s;
	s = NULL;
	ret = 0;
out:
	docker_ssh_stop(s);
	free(tmpl);
	free(user);
	free(host);
	free(port);
	return ret;
}

const char *docker_ssh_socket(const struct docker_ssh *s)
{
	return s->socket;
}

char *docker_ssh_said(const struct docker_ssh *s)
{
	struct buf text = BUF_INIT;
	char *line = NULL;
	int fd = open(s->log, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (buf_read_fd(&text, fd, 0) < 0)
			buf_reset(&text);
		close(fd);
	}
	while (text.len && (text.data[text.len - 1] == '\n' || text.data[text.len - 1] == '\r'))
		text.len--;
	if (text.len) {
		size_t start = text.len;
		while (start && text.data[start - 1] != '\n')
			start--;
		line = xstrndup(text.data + start, text.len - start);
	}
	buf_release(&text);
	return line;
}

void docker_ssh_stop(struct docker_ssh *s)
{
	char **argv;

	if (!s)
		return;
	if (s->running) {
		/* wakes accept() with an error: the thread ends */
		shutdown(s->listen_fd, SHUT_RDWR);
		pthread_join(s->thread, NULL);
	}
	reap(s, 1);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->log_fd >= 0)
		close(s->log_fd);
	if (s->socket)
		unlink(s->socket);
	if (s->log)
		unlink(s->log);
	if (s->dir)
		rmdir(s->dir);
	argv = (char **)(void *)s->argv.data;
	for (size_t i = 0; i < buf_count(&s->argv, char *); i++)
		free(argv[i]);
	buf_release(&s->argv);
	buf_release(&s->pids);
	pthread_mutex_destroy(&s->mu);
	free(s->dir);
	free(s->socket);
	free(s->log);
	free(s);
}

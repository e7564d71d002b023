/* docker_ssh.h: an ssh:// Docker host, reached as the docker CLI reaches one.
 * Ownership: a docker_ssh owns its directory, socket, thread and ssh processes; stop frees all. */
#ifndef STK_DOCKER_SSH_H
#define STK_DOCKER_SSH_H

#include "common/diag.h"
#include "planner/value.h"

struct docker_ssh;

/*
 * Starts the local end of host ("ssh://[USER@]HOST[:PORT]"): a unix socket in a private
 * directory (docker_ssh_socket), each connection to which is handed to a new
 * `ssh [-l USER] [-p PORT] -o BatchMode=yes [OPTS...] -- HOST docker system dial-stdio` as its
 * standard input and output. opts is ssh_opts (a list of strings, or NULL). 0 with *out, or
 * -1 after a diagnostic (a malformed host, no socket).
 */
int docker_ssh_start(struct docker_ssh **out, const char *host, const struct value *opts,
		     struct diag_ctx *diag);
/* The socket's path, for the HTTP client (borrowed). */
const char *docker_ssh_socket(const struct docker_ssh *s);
/* The last line ssh wrote on its standard error over the run ("Permission denied
 * (publickey)."), or NULL; caller frees. */
char *docker_ssh_said(const struct docker_ssh *s);
/* Stops accepting, ends the ssh processes, removes the directory. NULL is fine. */
void docker_ssh_stop(struct docker_ssh *s);

#endif

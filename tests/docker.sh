# tests/docker.sh: a private dockerd for the Docker tests, sourced after lib.sh's t_init.
#
#   . "$(dirname "$0")/docker.sh"
#   docker_start          # skips the test (exit 77) when dockerd cannot run here
#   docker_base_image     # imports a static busybox as stk-busybox:latest
#   dk network inspect X  # the docker CLI against it, as the judge
#
# The daemon is Debian's dockerd (/usr/sbin/dockerd, or $DOCKERD) with the vfs storage driver
# (plain directories: nothing is left mounted), no default bridge and no iptables rules. It
# runs in a network namespace and a mount namespace of its own (unshare -n -m), with only
# loopback up: the bridges and addresses that user-defined networks make exist in there, never
# on the host, and host networking for containers means that namespace's loopback. Its socket,
# exec root and pid file live in a short directory under /tmp (a unix socket path has at most
# 108 bytes, and containerd's sockets go under the exec root); its data root is in $T_TMP.
# DOCKER_HOST is exported for stk; DOCKER_CONFIG points at an empty directory, so neither
# stk nor the CLI reads the user's credentials. Everything is stopped and removed on exit.

DK_DIR=
DK_PID=

dk() {
	"$DK_CLI" -H "$DOCKER_HOST" "$@"
}

docker_skip() {
	echo "$1: skipping the Docker tests"
	echo "0 passed, 0 failed"
	exit 77
}

# Stops the daemon (TERM, then KILL after 20 s) and the containerd it started, and removes
# its directories. Safe to call twice.
docker_stop() {
	if [ -n "$DK_PID" ]; then
		kill "$DK_PID" 2>/dev/null
		dk_i=0
		while kill -0 "$DK_PID" 2>/dev/null && [ $dk_i -lt 200 ]; do
			dk_i=$((dk_i + 1))
			sleep 0.1
		done
		kill -9 "$DK_PID" 2>/dev/null
		wait "$DK_PID" 2>/dev/null
		DK_PID=
	fi
	if [ -n "$DK_DIR" ]; then
		# dockerd stops its containerd; after a KILL it cannot, so by its pid file
		if [ -s "$DK_DIR/exec/containerd/containerd.pid" ]; then
			kill "$(cat "$DK_DIR/exec/containerd/containerd.pid")" 2>/dev/null
		fi
		rm -rf "$DK_DIR"
		DK_DIR=
	fi
}

# docker_start [DOCKERD-ARGS...]: extra arguments go to dockerd (docker_start_tls uses them).
docker_start() {
	DOCKERD=${DOCKERD:-/usr/sbin/dockerd}
	[ -x "$DOCKERD" ] || docker_skip "$DOCKERD is not installed (apt-get install docker.io)"
	DK_CLI=
	for c in /usr/bin/docker /usr/local/bin/docker "$(command -v docker 2>/dev/null)"; do
		if [ -n "$c" ] && [ -x "$c" ]; then
			DK_CLI=$c
			break
		fi
	done
	[ -n "$DK_CLI" ] || docker_skip "the docker CLI is not installed"
	[ "$(id -u)" -eq 0 ] || docker_skip "dockerd needs root"
	unshare -n -m true 2>/dev/null ||
		docker_skip "cannot give dockerd its own network namespace (unshare -n -m)"
	DK_DIR=$(mktemp -d /tmp/stkd.XXXXXX) || docker_skip "cannot make a directory under /tmp"
	trap 'docker_stop; t_cleanup' EXIT
	trap 'docker_stop; t_cleanup; trap - EXIT; exit 130' INT
	trap 'docker_stop; t_cleanup; trap - EXIT; exit 143' TERM
	mkdir -p "$DK_DIR/exec" "$T_TMP/docker/data" "$T_TMP/dockercfg"
	export DOCKER_HOST="unix://$DK_DIR/docker.sock"
	export DOCKER_CONFIG="$T_TMP/dockercfg"
	unset DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_CONTEXT
	# unshare execs sh, and sh execs dockerd: $! is the daemon
	unshare -n -m sh -c 'ip link set lo up 2>/dev/null || :; exec "$@"' sh "$DOCKERD" \
		--storage-driver=vfs --bridge=none --iptables=false --ip6tables=false \
		--host "$DOCKER_HOST" --data-root "$T_TMP/docker/data" --exec-root "$DK_DIR/exec" \
		--pidfile "$DK_DIR/docker.pid" "$@" >"$T_TMP/dockerd.log" 2>&1 &
	DK_PID=$!
	dk_i=0
	until dk version >/dev/null 2>&1; do
		dk_i=$((dk_i + 1))
		if ! kill -0 "$DK_PID" 2>/dev/null || [ $dk_i -ge 300 ]; then
			tail -n 20 "$T_TMP/dockerd.log"
			docker_stop
			docker_skip "dockerd did not start"
		fi
		sleep 0.1
	done
}

# Imports /usr/bin/busybox (busybox-static) with the links the tests use as
# stk-busybox:latest: an image without a registry or a network. Containers run with
# --network host (the daemon's own namespace: loopback only).
docker_base_image() {
	bb=/usr/bin/busybox
	[ -x "$bb" ] || docker_skip "$bb is not installed (apt-get install busybox-static)"
	if command -v file >/dev/null 2>&1 && ! file -L "$bb" | grep -Eq 'static(ally|-pie) linked'; then
		docker_skip "$bb is not a static busybox (apt-get install busybox-static)"
	fi
	mkdir -p "$T_TMP/bbroot/bin" "$T_TMP/bbroot/tmp"
	cp "$bb" "$T_TMP/bbroot/bin/busybox"
	for c in sh echo cat sleep httpd wget ls; do
		ln -sf busybox "$T_TMP/bbroot/bin/$c"
	done
	tar -C "$T_TMP/bbroot" -cf - . | dk import - stk-busybox:latest >/dev/null ||
		{ echo "docker import of busybox failed"; exit 1; }
}

# dk_ns CMD...: runs CMD in the daemon's network namespace, where its loopback is: a
# registry the daemon pushes to listens there, and whatever talks to that registry runs
# there too (the daemon's socket is a file, reachable from any network namespace).
dk_ns() {
	nsenter -t "$DK_PID" -n "$@"
}

# docker_start_tls DIR PORT: docker_start, with the daemon also listening on
# tcp://127.0.0.1:PORT in its namespace, TLS verified both ways (--tlsverify) with
# DIR/ca.pem, DIR/server.pem and DIR/server-key.pem. The unix socket stays plain: the CLI
# judges through it. Reach the TCP port from inside the namespace (dk_ns). dockerd opens all
# its listeners before it serves any, so once docker_start sees the socket the port is up.
docker_start_tls() {
	docker_start --tlsverify --tlscacert "$1/ca.pem" --tlscert "$1/server.pem" \
		--tlskey "$1/server-key.pem" --host "tcp://127.0.0.1:$2"
}

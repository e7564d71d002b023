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
#
# Servers in the daemon's namespace, for the registry tests (docker_image, docker_registry_*):
#   registry_setup                  # docker_start, docker_base_image, then skips unless
#                                   # docker-registry, nsenter and curl are there; sets
#                                   # REGISTRY, PORT and REG=127.0.0.1:$PORT
#   dk_ns_bg CMD... >LOG 2>&1       # CMD in the daemon's namespace, in the background: DK_BG_PID
#   dk_wait PID TRIES CMD...        # until CMD succeeds (0), or PID is gone or TRIES ran out (1)
#   registry_start STATUS [--delete] <YML   # docker-registry on $REG, YML's lines (auth: ...,
#                                   # </dev/null for none) in its configuration; up when GET
#                                   # /v2/ answers STATUS; REG_PID
#   registry_v2 [CURL-ARGS...]      # the HTTP status of GET /v2/ at $REG
#   registry_digest REPO TAG [CURL-ARGS...]  # the registry's digest for REPO:TAG
#   dk_stk DIR ARGS...              # stk in DIR, in the namespace: $T_TMP/out, err, T_STATUS
#   image_attr STATE NAME ATTR      # docker.image NAME's ATTR in the state file STATE
#   expect_repo_digest DIR REPO:TAG DIGEST  # DIGEST found, and DIR's state's pushed one
#   push_app DIR TEXT; push_stk DIR TAG USER PW   # an app to push, and a main.stk pushing it
#   push_main DIR TAG <PROVIDERS    # the same main.stk with other provider blocks
# What dk_ns_bg and registry_start start is stopped by docker_stop, before the daemon.

DK_DIR=
DK_PID=
DK_BG=

dk() {
	"$DK_CLI" -H "$DOCKER_HOST" "$@"
}

docker_skip() {
	echo "$1: skipping the Docker tests"
	echo "0 passed, 0 failed"
	exit 77
}

# Stops the daemon (TERM, then KILL after 20 s) and the containerd it started, and removes
# its directories; first what dk_ns_bg started. Safe to call twice.
docker_stop() {
	for dk_p in $DK_BG; do
		kill "$dk_p" 2>/dev/null
		wait "$dk_p" 2>/dev/null
	done
	DK_BG=
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
	# distcheck: these suites ran from the tree, in the normal and the ASan builds, already
	[ -z "${STK_SKIP_SERVERS:-}" ] || docker_skip "STK_SKIP_SERVERS is set (scripts/check sets it for distcheck)"
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

# dk_ns_bg CMD...: CMD in the daemon's network namespace, in the background, stopped by
# docker_stop; its pid in DK_BG_PID. nsenter itself rather than dk_ns: a shell function run
# with & is a subshell, and $! would be that subshell, so a kill would leave CMD running;
# nsenter execs what it runs. Redirect the call's output: it is CMD's.
dk_ns_bg() {
	nsenter -t "$DK_PID" -n "$@" &
	DK_BG_PID=$!
	DK_BG="$DK_BG $DK_BG_PID"
}

# dk_wait PID TRIES CMD...: runs CMD every 0.1 s until it succeeds (returns 0); returns 1 once
# PID is gone or after TRIES tries.
dk_wait() {
	dk_wp=$1
	dk_wt=$2
	shift 2
	dk_wi=0
	until "$@"; do
		dk_wi=$((dk_wi + 1))
		if ! kill -0 "$dk_wp" 2>/dev/null || [ $dk_wi -ge "$dk_wt" ]; then
			return 1
		fi
		sleep 0.1
	done
}

# registry_setup: docker_start and docker_base_image, then skips the test unless Debian's
# docker-registry ($DOCKER_REGISTRY), nsenter and curl are installed. Sets REGISTRY, PORT and
# REG=127.0.0.1:$PORT: the daemon's namespace is fresh, nothing else listens on its loopback
# (PORT + 1 and on are free for other servers).
registry_setup() {
	docker_start
	docker_base_image
	REGISTRY=${DOCKER_REGISTRY:-/usr/bin/docker-registry}
	[ -x "$REGISTRY" ] || docker_skip "$REGISTRY is not installed (apt-get install docker-registry)"
	command -v nsenter >/dev/null 2>&1 || docker_skip "nsenter is not installed (util-linux)"
	command -v curl >/dev/null 2>&1 || docker_skip "curl is not installed"
	PORT=$((20000 + $$ % 20000))
	REG=127.0.0.1:$PORT
}

# registry_v2 [CURL-ARGS...]: the HTTP status of GET /v2/ at $REG, from the namespace
registry_v2() {
	dk_ns curl -s -o /dev/null -w '%{http_code}' "$@" "http://$REG/v2/" 2>/dev/null
}

registry_up() {
	[ "$(registry_v2)" = "$1" ]
}

# registry_start STATUS [--delete]: docker-registry (after registry_setup) on $REG in the
# daemon's namespace, storing under $T_TMP/registry, with $T_TMP/registry.yml: the plain
# configuration, deletes enabled with --delete, and stdin's lines (auth: ...; redirect it from
# /dev/null when there are none) after it. Up when
# GET /v2/ answers STATUS (200 without auth, 401 with it); skips the test if it never does.
# REG_PID is its pid; docker_stop stops it. Logs to $T_TMP/registry.log.
registry_start() {
	mkdir -p "$T_TMP/registry"
	{
		printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n'
		[ "$2" != --delete ] || printf '  delete:\n    enabled: true\n'
		printf '  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' "$T_TMP/registry" "$REG"
		cat
	} >"$T_TMP/registry.yml"
	dk_ns_bg "$REGISTRY" serve "$T_TMP/registry.yml" >"$T_TMP/registry.log" 2>&1
	REG_PID=$DK_BG_PID
	dk_wait "$REG_PID" 100 registry_up "$1" || {
		tail -n 20 "$T_TMP/registry.log"
		docker_skip "docker-registry did not start"
	}
}

# registry_digest REPO TAG [CURL-ARGS...]: the registry's digest for REPO:TAG, from its v2 API
# (CURL-ARGS: the credentials, -u or a bearer token's header); empty when it has none.
registry_digest() {
	rd_repo=$1
	rd_tag=$2
	shift 2
	dk_ns curl -fsSI "$@" -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"http://$REG/v2/$rd_repo/manifests/$rd_tag" 2>/dev/null | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'
}

# dk_stk DIR ARGS...: $STK_ABS (set it: t_abspath "$STK") in DIR, in the daemon's namespace,
# with a 300 s limit; stdout and stderr in $T_TMP/out and $T_TMP/err, the status in T_STATUS.
dk_stk() {
	T_STATUS=0
	dk_d=$1
	shift
	(cd "$dk_d" && t_timeout 300 nsenter -t "$DK_PID" -n "$STK_ABS" "$@") <"/dev/null" >"$T_TMP/out" 2>"$T_TMP/err" ||
		T_STATUS=$?
}

# image_attr STATE NAME ATTR: docker.image NAME's ATTR in the state file STATE ("" when none)
image_attr() {
	python3 -c 'import json,sys
s=json.load(open(sys.argv[1]))
for r in s["resources"]:
    if r["type"]=="docker.image" and r["name"]==sys.argv[2]:
        print(r["instances"][0]["attributes"].get(sys.argv[3]) or "")' "$1" "$2" "$3" 2>/dev/null
}

# expect_repo_digest DIR REPO:TAG DIGEST: DIGEST (the registry's for REPO:TAG, from
# registry_digest) is not empty, and docker.image.pushed's repo_digest in DIR/stk.state is
# $REG/REPO@DIGEST; t_why otherwise.
expect_repo_digest() {
	[ -n "$3" ] || t_why "the registry has no $2"
	[ "$(image_attr "$1/stk.state" pushed repo_digest)" = "$REG/${2%:*}@$3" ] ||
		t_why "repo_digest $(image_attr "$1/stk.state" pushed repo_digest), the registry says $3"
}

# push_app DIR TEXT: DIR/app, a context whose image (on stk-busybox) cats hello.txt, holding TEXT.
push_app() {
	mkdir -p "$1/app"
	printf 'FROM stk-busybox:latest\nCOPY hello.txt /hello.txt\nCMD ["cat", "/hello.txt"]\n' >"$1/app/Dockerfile"
	echo "$2" >"$1/app/hello.txt"
}

# push_main DIR TAG <PROVIDERS: DIR/main.stk, stdin's provider blocks (and data sources), then
# docker.image.pushed building DIR/app and pushing it to TAG.
push_main() {
	{
		cat
		printf '\nresource docker.image pushed {\n  context = "app"\n  tags    = ["%s"]\n  push    = true\n}\n' "$2"
	} >"$1/main.stk"
}

# push_stk DIR TAG USER PW: push_main, logged in to $REG with USER and PW from the provider's
# registry block.
push_stk() {
	push_main "$1" "$2" <<EOF
provider docker {
  registry "local" {
    address  = "$REG"
    username = "$3"
    password = "$4"
  }
}
EOF
}

#!/bin/sh
# tests/docker_ssh.sh: the docker provider over an ssh:// host, against Debian's sshd on
# 127.0.0.1 (a port of its own, its own host key, a key made here) in front of a private
# dockerd (tests/docker.sh), judged by the docker CLI: a container made, planned with no
# changes and destroyed through ssh; an unknown host key, a refused key and a host that ssh
# would read as an option refused with what ssh said; no socket directory left behind.
# The key's authorized_keys entry forces the command the docker CLI runs on a host
# (`docker system dial-stdio`), with DOCKER_HOST pointing at the private daemon.
. "$(dirname "$0")/lib.sh"
t_init

. "$(dirname "$0")/docker.sh"
[ -x /usr/sbin/sshd ] || docker_skip "sshd is not installed (apt-get install openssh-server)"
command -v ssh >/dev/null 2>&1 || docker_skip "ssh is not installed (apt-get install openssh-client)"
docker_start
docker_base_image
STK_ABS=$(t_abspath "$STK")
N=stk-ssh-$$
W=$T_TMP/work
S=$T_TMP/ssh
mkdir -p "$W" "$S" "$T_TMP/tmp"
SSH_PORT=$((30000 + $$ % 20000))
USER_NAME=$(id -un)

ssh-keygen -q -t ed25519 -N "" -C stk-test-host -f "$S/host" </dev/null
ssh-keygen -q -t ed25519 -N "" -C stk-test-client -f "$S/client" </dev/null
ssh-keygen -q -t ed25519 -N "" -C stk-test-other -f "$S/other" </dev/null
printf 'command="DOCKER_HOST=%s exec %s system dial-stdio",no-pty,no-port-forwarding,no-agent-forwarding %s\n' \
	"$DOCKER_HOST" "$DK_CLI" "$(cat "$S/client.pub")" >"$S/authorized_keys"
printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 "$S/host.pub")" >"$S/known_hosts"
: >"$S/empty_known_hosts"
cat >"$S/sshd_config" <<EOF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $S/host
AuthorizedKeysFile $S/authorized_keys
PidFile $S/sshd.pid
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
EOF
mkdir -p /run/sshd
/usr/sbin/sshd -D -e -f "$S/sshd_config" >"$T_TMP/sshd.log" 2>&1 &
SSHD_PID=$!
trap 'kill $SSHD_PID 2>/dev/null; docker_stop; t_cleanup' EXIT
trap 'kill $SSHD_PID 2>/dev/null; docker_stop; t_cleanup; trap - EXIT; exit 130' INT
trap 'kill $SSHD_PID 2>/dev/null; docker_stop; t_cleanup; trap - EXIT; exit 143' TERM
i=0
until ssh -F /dev/null -o BatchMode=yes -o UserKnownHostsFile="$S/known_hosts" -o IdentitiesOnly=yes \
	-i "$S/client" -p "$SSH_PORT" "$USER_NAME@127.0.0.1" true </dev/null >/dev/null 2>&1; do
	i=$((i + 1))
	if ! kill -0 "$SSHD_PID" 2>/dev/null || [ $i -ge 100 ]; then
		tail -n 20 "$T_TMP/sshd.log"
		docker_skip "sshd did not start on 127.0.0.1:$SSH_PORT"
	fi
	sleep 0.1
done

# config KEY KNOWN_HOSTS [HOST]: main.stk, reaching the daemon through ssh with KEY
config() {
	cat >"$W/main.stk" <<EOF
provider docker {
  host     = "${3:-ssh://$USER_NAME@127.0.0.1:$SSH_PORT}"
  ssh_opts = ["-F", "/dev/null", "-i", "$S/$1", "-o", "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=$S/$2"]
}

resource docker.container web {
  name         = "$N-web"
  image        = "stk-busybox:latest"
  network_mode = "host"
  command      = ["/bin/sleep", "600"]
}
EOF
}

# stk in $W, its temporary files in $T_TMP/tmp; DOCKER_HOST unset: the provider block says
in_w() {
	T_STATUS=0
	(cd "$W" && unset DOCKER_HOST && TMPDIR=$T_TMP/tmp t_timeout 120 "$STK_ABS" "$@") </dev/null \
		>"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
}

t_begin "apply, plan and destroy a container through ssh:// (checked with the docker CLI)"
config client known_hosts
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "docker.container.web: Creation complete"
[ "$(dk inspect "$N-web" --format '{{.State.Running}}' 2>/dev/null)" = true ] || t_why "$N-web is not running"
in_w plan -detailed-exitcode
t_expect_status 0
in_w destroy -auto-approve
t_expect_status 0
[ -z "$(dk ps -aq --filter "name=^$N-web\$")" ] || t_why "$N-web is still there"
[ -z "$(ls "$T_TMP/tmp")" ] || t_why "left in TMPDIR: $(ls "$T_TMP/tmp")"
t_end

t_begin "an unknown host key is refused (BatchMode: no question), with what ssh said"
config client empty_known_hosts
in_w apply -auto-approve
t_expect_status 1
t_expect_has err "ssh to ssh://$USER_NAME@127.0.0.1:$SSH_PORT said: Host key verification failed."
[ -z "$(dk ps -aq --filter "name=^$N-web\$")" ] || t_why "a container was made"
t_end

t_begin "a key the host does not take is refused, with what ssh said"
config other known_hosts
in_w apply -auto-approve
t_expect_status 1
t_expect_match err "said: .*Permission denied \\(publickey\\)"
t_end

t_begin "a host ssh would read as an option, or with a path, is refused before ssh runs"
# run as it stands, ssh would take it as -o ProxyCommand=... and run the command
config client known_hosts "ssh://-oProxyCommand=true"
in_w plan
t_expect_status 1
t_expect_has err "starts a name with '-', which ssh would read as an option"
config client known_hosts "ssh://$USER_NAME@127.0.0.1:$SSH_PORT/var/run/docker.sock"
in_w plan
t_expect_status 1
t_expect_has err "has a path or a query (ssh://[USER@]HOST[:PORT] only)"
[ -z "$(ls "$T_TMP/tmp")" ] || t_why "left in TMPDIR: $(ls "$T_TMP/tmp")"
t_end

t_summary

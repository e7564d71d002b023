#!/bin/sh
# tests/docker_tls.sh: the Docker provider over tcp:// with TLS, against a private dockerd
# (tests/docker.sh, docker_start_tls) that listens on 127.0.0.1:PORT in its own network
# namespace with --tlsverify: a server certificate for IP:127.0.0.1 signed by a test CA, and
# client certificates signed by the same CA (made here with openssl). stk runs inside that
# namespace (dk_ns); the docker CLI judges over the plain unix socket. Cases: DOCKER_HOST +
# DOCKER_TLS_VERIFY + DOCKER_CERT_PATH; the provider's host with its tls block, cert_path and
# *_material; a client certificate from another CA refused; a server certificate the given
# CA did not sign refused; destroy.
. "$(dirname "$0")/lib.sh"
t_init

command -v openssl >/dev/null 2>&1 || {
	echo "openssl is not installed: skipping the Docker TLS tests"
	echo "0 passed, 0 failed"
	exit 77
}
command -v nsenter >/dev/null 2>&1 || {
	echo "nsenter is not installed: skipping the Docker TLS tests"
	echo "0 passed, 0 failed"
	exit 77
}

# ---- certificates: test-only keys in $T_TMP ----
C=$T_TMP/certs
mkdir -p "$C/srv" "$C/good" "$C/rogue" "$C/wrongca" "$C/ca" "$C/other"
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
mkca() { # DIR CN
	openssl req -x509 $ec -keyout "$1/ca-key.pem" -out "$1/ca.pem" -days 2 -subj "/CN=$2" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}
mkleaf() { # CA-DIR OUT-CERT OUT-KEY CN EXT...
	d=$1 crt=$2 key=$3 cn=$4
	shift 4
	printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" "$@" >"$C/ext"
	openssl req $ec -keyout "$key" -out "$C/csr" -subj "/CN=$cn" &&
		openssl x509 -req -in "$C/csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial \
			-out "$crt" -days 2 -extfile "$C/ext"
}
{
	mkca "$C/ca" "stk docker test CA" &&
		mkca "$C/other" "stk unrelated CA" &&
		cp "$C/ca/ca.pem" "$C/srv/ca.pem" &&
		mkleaf "$C/ca" "$C/srv/server.pem" "$C/srv/server-key.pem" localhost \
			"extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1" &&
		mkleaf "$C/ca" "$C/good/cert.pem" "$C/good/key.pem" "stk client" "extendedKeyUsage=clientAuth" &&
		cp "$C/ca/ca.pem" "$C/good/ca.pem" &&
		mkleaf "$C/other" "$C/rogue/cert.pem" "$C/rogue/key.pem" "stk rogue client" \
			"extendedKeyUsage=clientAuth" &&
		cp "$C/ca/ca.pem" "$C/rogue/ca.pem" &&
		cp "$C/good/cert.pem" "$C/good/key.pem" "$C/wrongca/" &&
		cp "$C/other/ca.pem" "$C/wrongca/ca.pem"
} >"$T_TMP/openssl.log" 2>&1 || {
	cat "$T_TMP/openssl.log"
	echo "cannot make the test certificates"
	exit 1
}

. "$(dirname "$0")/docker.sh"
PORT=2376
docker_start_tls "$C/srv" "$PORT"
TCP=tcp://127.0.0.1:$PORT
W=$T_TMP/work
STK_ABS=$(t_abspath "$STK")
N=stk-tls-$$
mkdir -p "$W"

# in_ns VAR=VALUE... -- ARGS: stk ARGS in the daemon's network namespace with those
# variables (DOCKER_TLS_VERIFY and DOCKER_CERT_PATH unset unless given; DOCKER_HOST is the
# unix socket unless given). Values hold no spaces.
in_ns() {
	T_STATUS=0
	envs=
	while [ "$1" != -- ]; do
		envs="$envs $1"
		shift
	done
	shift
	# shellcheck disable=SC2086
	(cd "$W" && unset DOCKER_TLS_VERIFY DOCKER_CERT_PATH &&
		dk_ns env $envs timeout 120 "$STK_ABS" "$@") </dev/null >"$T_TMP/out" 2>"$T_TMP/err" ||
		T_STATUS=$?
}

vols() {
	dk volume ls -q --filter "name=^$1\$" | grep -cx "$1"
}

nets() {
	dk network ls -q --filter "name=^$1\$" | wc -l | tr -d ' '
}

# config [PROVIDER-BLOCK]
config() {
	{
		printf '%s\n' "$1"
		cat <<EOF
resource docker.network app {
  name     = "$N-app"
  internal = true
}

resource docker.volume data {
  name   = "$N-data"
  labels = { network = docker.network.app.id }
}
EOF
	} >"$W/main.stk"
}

t_begin "the docker CLI reaches the daemon over TCP with the good client certificate"
T_STATUS=0
dk_ns "$DK_CLI" --tlsverify --tlscacert "$C/good/ca.pem" --tlscert "$C/good/cert.pem" \
	--tlskey "$C/good/key.pem" -H "$TCP" version --format '{{.Server.Version}}' \
	>"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 0
t_end

ENV_OK="DOCKER_HOST=$TCP DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$C/good"

config ""
t_begin "DOCKER_HOST=tcp:// with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH: apply creates (docker CLI)"
in_ns $ENV_OK -- apply -auto-approve
t_expect_status 0
t_expect_has out "docker.network.app: Creation complete"
t_expect_has out "docker.volume.data: Creation complete"
[ "$(nets "$N-app")" = 1 ] || t_why "no network $N-app"
[ "$(vols "$N-data")" = 1 ] || t_why "no volume $N-data"
t_end

t_begin "the same environment: plan shows no changes"
in_ns $ENV_OK -- plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "without DOCKER_TLS_VERIFY, tcp:// is plain HTTP, which the TLS daemon refuses (exit 1)"
in_ns "DOCKER_HOST=$TCP" -- plan -detailed-exitcode
t_expect_status 1
t_end

config "provider docker {
  host = \"$TCP\"
  tls {
    ca_file   = \"$C/good/ca.pem\"
    cert_file = \"$C/good/cert.pem\"
    key_file  = \"$C/good/key.pem\"
  }
}"
t_begin "the provider's host and tls block (files), no TLS environment: plan shows no changes"
in_ns -- plan -detailed-exitcode
t_expect_status 0
t_end

config "provider docker {
  host = \"$TCP\"
  tls {
    ca_material   = file(\"$C/good/ca.pem\")
    cert_material = file(\"$C/good/cert.pem\")
    key_material  = file(\"$C/good/key.pem\")
  }
}"
t_begin "the provider's tls block with PEM text: plan shows no changes, no PEM files left behind"
mkdir -p "$T_TMP/pemtmp"
in_ns "TMPDIR=$T_TMP/pemtmp" -- plan -detailed-exitcode
t_expect_status 0
[ -z "$(ls -A "$T_TMP/pemtmp")" ] || t_why "left in TMPDIR: $(ls -A "$T_TMP/pemtmp")"
t_end

config "provider docker {
  host      = \"$TCP\"
  cert_path = \"$C/good\"
}"
t_begin "the provider's host and cert_path: plan shows no changes"
in_ns -- plan -detailed-exitcode
t_expect_status 0
t_end

# the volume is deleted out of band: an apply through the provider block makes it again
dk volume rm "$N-data" >/dev/null
t_begin "the provider's cert_path: apply makes a volume deleted out of band again"
in_ns -- apply -auto-approve
t_expect_status 0
t_expect_has out "docker.volume.data: Creation complete"
[ "$(vols "$N-data")" = 1 ] || t_why "no volume $N-data"
t_end

config ""
t_begin "a client certificate from another CA is refused with a TLS error (exit 1)"
in_ns "DOCKER_HOST=$TCP" DOCKER_TLS_VERIFY=1 "DOCKER_CERT_PATH=$C/rogue" -- plan -detailed-exitcode
t_expect_status 1
t_expect_has err "does it trust the CA that signed the client certificate"
t_end

config "provider docker {
  host = \"$TCP\"
  tls {
    ca_file   = \"$C/good/ca.pem\"
    cert_file = \"$C/rogue/cert.pem\"
    key_file  = \"$C/rogue/key.pem\"
  }
}"
t_begin "the same through the provider's tls block (exit 1)"
in_ns -- plan -detailed-exitcode
t_expect_status 1
t_expect_has err "does it trust the CA that signed the client certificate"
t_end

config ""
t_begin "a server certificate the given CA did not sign is refused: TLS is verified (exit 1)"
in_ns "DOCKER_HOST=$TCP" DOCKER_TLS_VERIFY=1 "DOCKER_CERT_PATH=$C/wrongca" -- plan -detailed-exitcode
t_expect_status 1
t_expect_match err 'certificate|SSL|TLS'
t_end

t_begin "DOCKER_CERT_PATH without the files is an error naming the file (exit 1)"
in_ns "DOCKER_HOST=$TCP" DOCKER_TLS_VERIFY=1 "DOCKER_CERT_PATH=$C/nothing" -- plan -detailed-exitcode
t_expect_status 1
t_expect_has err "$C/nothing/ca.pem"
t_end

t_begin "destroy over TLS removes everything (docker CLI)"
in_ns $ENV_OK -- destroy -auto-approve
t_expect_status 0
[ "$(nets "$N-app")" = 0 ] || t_why "network $N-app left"
[ "$(vols "$N-data")" = 0 ] || t_why "volume $N-data left"
t_end

t_summary

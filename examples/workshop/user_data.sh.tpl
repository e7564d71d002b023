#!/bin/sh
# The workshop's Docker host (rendered by stk from user_data.sh.tpl). Installs Debian's
# docker.io and has dockerd listen on 2376 with TLS, clients verified against the CA.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends docker.io
install -d -m 0700 /etc/docker/tls
cat >/etc/docker/tls/ca.pem <<'PEM'
${ca_pem}
PEM
cat >/etc/docker/tls/server.pem <<'PEM'
${server_cert_pem}
PEM
umask 077
cat >/etc/docker/tls/server-key.pem <<'PEM'
${server_key_pem}
PEM
install -d /etc/systemd/system/docker.service.d
cat >/etc/systemd/system/docker.service.d/tls.conf <<'UNIT'
[Service]
ExecStart=
ExecStart=/usr/sbin/dockerd -H fd:// -H tcp://0.0.0.0:2376 --tlsverify --tlscacert /etc/docker/tls/ca.pem --tlscert /etc/docker/tls/server.pem --tlskey /etc/docker/tls/server-key.pem
UNIT
systemctl daemon-reload
systemctl restart docker

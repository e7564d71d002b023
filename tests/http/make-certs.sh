#!/bin/sh
# Regenerates the TLS fixtures for tests/unit/test_http.c: a CA, a server certificate for
# 127.0.0.1 and localhost, and a client certificate (Docker over TCP+TLS uses client
# certificates). Test-only keys, valid for 100 years; nothing here protects anything.
set -eu
cd "$(dirname "$0")/fixtures"
days=36500
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"

openssl req -x509 $ec -keyout ca-key.pem -out ca.pem -days $days -subj "/CN=stk test CA" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

openssl req $ec -keyout server-key.pem -out server.csr -subj "/CN=localhost"
printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
	"extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1" > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
	-out server.pem -days $days -extfile server.ext

openssl req $ec -keyout client-key.pem -out client.csr -subj "/CN=stk test client"
printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
	"extendedKeyUsage=clientAuth" > client.ext
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
	-out client.pem -days $days -extfile client.ext

# A second CA that signed nothing here: a bundle that must not verify our server.
openssl req -x509 $ec -keyout other-ca-key.pem -out other-ca.pem -days $days \
	-subj "/CN=stk unrelated CA" -addext "basicConstraints=critical,CA:TRUE"

rm -f server.csr client.csr server.ext client.ext ca.srl ca-key.pem other-ca-key.pem

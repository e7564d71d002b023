#!/bin/sh
# tests/docker_registry_token.sh: docker.image pushing to a registry that wants a bearer token.
# Debian's docker-registry runs with `auth: token` in the private dockerd's network namespace
# (tests/docker.sh), and tests/registry_token_server.py beside it: it checks basic
# credentials and issues RS256 JWTs whose x5c certificate is the registry's rootcertbundle.
# stk runs in the namespace too (dk_ns), so that its own digest check (HEAD
# /v2/.../manifests/TAG, answered with 401 and `WWW-Authenticate: Bearer realm=...`) can
# fetch a token from the realm and ask again. Cases: credentials from the provider's registry
# block (repo_digest is what the registry serves, read with curl through the token flow; the
# docker CLI logs in and pulls it), the identity token (a refresh token) that docker login
# kept in a config.json (stk trades it with an OAuth2 POST to the realm), a refreshing
# `plan -detailed-exitcode` with no changes that fetched its own token for each, the tag moved
# at the registry (the plan sees it, the apply pushes again), wrong credentials (the token
# server refuses them: the create fails under the address, exit 1), and a user whose token
# grants only pull (the registry denies the push).
. "$(dirname "$0")/lib.sh"
t_init

. "$(dirname "$0")/docker.sh"
registry_setup
python3 -c 'import cryptography' >/dev/null 2>&1 ||
	docker_skip "python3's cryptography package is not installed (apt-get install python3-cryptography)"

W=$T_TMP/work
STK_ABS=$(t_abspath "$STK")
TOKEN_SERVER=$STK_SRCDIR/tests/registry_token_server.py
N=stk-token-$$
TPORT=$((PORT + 1))
REALM=http://127.0.0.1:$TPORT/token
SERVICE=stk-test-registry
ISSUER=stk-test-issuer

# ---- the token server: user stk may pull and push, user reader only pull ----
mkdir -p "$W"
REG_USER=stk
REG_PW=s3cret-$$
RO_USER=reader
RO_PW=r3ad-$$
(umask 077 && printf '%s:%s:pull,push\n%s:%s:pull\n' "$REG_USER" "$REG_PW" "$RO_USER" "$RO_PW" >"$T_TMP/users")
# docker_stop stops it
dk_ns_bg python3 "$TOKEN_SERVER" --port "$TPORT" --users "$T_TMP/users" --bundle "$T_TMP/bundle.pem" \
	--issuer "$ISSUER" --service "$SERVICE" --log "$T_TMP/token.log" >"$T_TMP/token.err" 2>&1
# it writes the bundle once it listens
dk_wait "$DK_BG_PID" 150 test -s "$T_TMP/bundle.pem" || {
	cat "$T_TMP/token.err"
	echo "the token server did not start"
	exit 1
}

# ---- the registry, with token auth trusting the token server's certificate ----
# 401 until a token comes: up when it answers at all
registry_start 401 <<EOF
auth:
  token:
    realm: $REALM
    service: $SERVICE
    issuer: $ISSUER
    rootcertbundle: $T_TMP/bundle.pem
EOF
dk_ns curl -s -o /dev/null -D - "http://$REG/v2/" | tr -d '\r' | grep -qi "^www-authenticate: bearer realm=\"$REALM\"" || {
	dk_ns curl -s -o /dev/null -D - "http://$REG/v2/"
	echo "the registry does not send a bearer challenge naming $REALM"
	exit 1
}

# token USER:PW SCOPE: a token from the token server, as a client would get one (empty when
# refused)
token() {
	dk_ns curl -fsS -u "$1" "$REALM?service=$SERVICE&scope=$2" 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' 2>/dev/null
}

# The registry's digest for repo:tag, from its v2 API, with a pull token for USER:PW.
reg_digest() {
	rt=$(token "$1" "repository:$2:pull")
	[ -n "$rt" ] || return 0
	registry_digest "$2" "$3" -H "Authorization: Bearer $rt"
}

# the token flow itself, before stk is judged by it
rt=$(token "$REG_USER:$REG_PW" "repository:$N/probe:pull")
[ -n "$rt" ] && [ "$(registry_v2 -H "Authorization: Bearer $rt")" = 200 ] || {
	tail -n 20 "$T_TMP/registry.log"
	cat "$T_TMP/token.err" "$T_TMP/token.log"
	echo "the registry does not take the token server's tokens"
	exit 1
}
[ "$(dk_ns curl -s -o /dev/null -w '%{http_code}' -u "$REG_USER:wrong" "$REALM?service=$SERVICE")" = 401 ] || {
	echo "the token server does not refuse a wrong password"
	exit 1
}

# in_w DIR ARGS...: stk in DIR, in the daemon's namespace
in_w() {
	dk_stk "$@"
}

state_attr() {
	image_attr "$1/stk.state" "$2" "$3"
}

# issued USER SCOPE: how many tokens the server gave USER for SCOPE alone (the log's lines);
# SCOPE is an ERE: the daemon asks for "push,pull", curl and stk for "pull"
issued() {
	grep -Ec "^issued $1 service=$SERVICE scope=$2 granted=" "$T_TMP/token.log" 2>/dev/null || :
}

# main_stk DIR USER PW: a pushed image of DIR's app, credentials in the provider's registry block
main_stk() {
	push_app "$W/$1" "hello $1"
	push_stk "$W/$1" "$REG/$N/$1:v1" "$2" "$3"
}

t_begin "credentials from the provider's registry block: pushed through a token, repo_digest is the registry's"
main_stk basic "$REG_USER" "$REG_PW"
in_w "$W/basic" apply -auto-approve
t_expect_status 0
RD=$(reg_digest "$REG_USER:$REG_PW" "$N/basic" v1)
expect_repo_digest "$W/basic" "$N/basic:v1" "$RD"
[ "$(issued "$REG_USER" "repository:$N/basic:(pull,push|push,pull)")" -ge 1 ] ||
	t_why "the token server issued no push token for $N/basic: $(cat "$T_TMP/token.log")"
t_expect_lacks out "$REG_PW"
t_expect_lacks err "$REG_PW"
t_end

t_begin "the docker CLI logs in through the token server and pulls the same digest"
T_STATUS=0
mkdir -p "$T_TMP/clicfg"
echo "$REG_PW" | dk --config "$T_TMP/clicfg" login -u "$REG_USER" --password-stdin "$REG" >"$T_TMP/out" 2>"$T_TMP/err" ||
	T_STATUS=$?
t_expect_status 0
# up to date or not, a pull fetches the manifest from the registry and prints its digest
dk --config "$T_TMP/clicfg" pull "$REG/$N/basic:v1" >"$T_TMP/out" 2>>"$T_TMP/err" || T_STATUS=$?
t_expect_status 0
[ -n "$RD" ] && t_expect_has out "Digest: $RD"
echo wrong | dk --config "$T_TMP/clicfg" login -u "$REG_USER" --password-stdin "$REG" >/dev/null 2>&1 &&
	t_why "docker login with a wrong password worked"
t_end

t_begin "an identity token from docker login's config.json: pushed, a refreshing plan has no changes"
# the token server gave docker login a refresh token, which the CLI keeps instead of the password
grep -q '"identitytoken"' "$T_TMP/clicfg/config.json" || t_why "docker login kept no identitytoken"
grep -q "$REG_PW" "$T_TMP/clicfg/config.json" && t_why "docker login kept the password"
push_app "$W/idtok" "hello idtok"
push_main "$W/idtok" "$REG/$N/idtok:v1" <<EOF
provider docker {
  registry "local" {
    address     = "$REG"
    config_file = "$T_TMP/clicfg/config.json"
  }
}
EOF
in_w "$W/idtok" apply -auto-approve
t_expect_status 0
RDI=$(reg_digest "$REG_USER:$REG_PW" "$N/idtok" v1)
expect_repo_digest "$W/idtok" "$N/idtok:v1" "$RDI"
grep -Eq "^issued $REG_USER service=$SERVICE scope=repository:$N/idtok:(pull,push|push,pull) .* via=refresh_token\$" "$T_TMP/token.log" ||
	t_why "the daemon got no push token with the refresh token: $(cat "$T_TMP/token.log")"
if [ "$T_STATUS" -eq 0 ]; then
	# pull tokens for the tag got with the refresh token: stk's, as curl logs in with basic
	idtok_pulls() {
		grep -c "^issued $REG_USER service=$SERVICE scope=repository:$N/idtok:pull granted=.* via=refresh_token\$" "$T_TMP/token.log"
	}
	before=$(idtok_pulls)
	# with the debug log on: neither the refresh token nor the token it buys may show
	export STK_LOG=debug
	in_w "$W/idtok" plan -detailed-exitcode
	unset STK_LOG
	t_expect_status 0
	t_expect_has out "No changes"
	t_expect_lacks err "not authorized"
	t_expect_has err "POST $REALM"
	IDT=$(python3 -c 'import json,sys; print(next(iter(json.load(open(sys.argv[1]))["auths"].values()))["identitytoken"])' \
		"$T_TMP/clicfg/config.json" 2>/dev/null)
	[ -n "$IDT" ] && t_expect_lacks err "$IDT"
	# the JWT's header, {"typ": ... in base64url
	t_expect_lacks err "eyJ0eXAi"
	[ "$(idtok_pulls)" -gt "$before" ] ||
		t_why "stk got no pull token with the identity token: $(cat "$T_TMP/token.log")"
fi
t_end

t_begin "a refreshing plan -detailed-exitcode checks the digest with a bearer token: no changes"
before=$(issued "$REG_USER" "repository:$N/basic:pull")
in_w "$W/basic" plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes"
t_expect_lacks err "not authorized"
t_expect_lacks err "$REG_PW"
[ "$(issued "$REG_USER" "repository:$N/basic:pull")" -gt "$before" ] ||
	t_why "stk fetched no pull token for $N/basic: $(cat "$T_TMP/token.log")"
t_end

t_begin "the tag moved at the registry: the plan sees it through the token flow and pushes again"
# the registry has no deletes enabled: the docker CLI pushes another image to the same tag
T_STATUS=0
dk tag stk-busybox:latest "$REG/$N/basic:v1" 2>"$T_TMP/err" || T_STATUS=$?
dk --config "$T_TMP/clicfg" push "$REG/$N/basic:v1" >/dev/null 2>>"$T_TMP/err" || T_STATUS=$?
t_expect_status 0
[ "$(reg_digest "$REG_USER:$REG_PW" "$N/basic" v1)" != "$RD" ] || t_why "the registry still has $RD"
# the local tag back on stk's image: only the registry's side changed
dk tag "$(state_attr "$W/basic" pushed id)" "$REG/$N/basic:v1" 2>>"$T_TMP/err" || t_why "docker tag failed"
in_w "$W/basic" plan -detailed-exitcode
t_expect_status 2
t_expect_has out "push"
in_w "$W/basic" apply -auto-approve
t_expect_status 0
[ "$(reg_digest "$REG_USER:$REG_PW" "$N/basic" v1)" = "$RD" ] ||
	t_why "the registry has $(reg_digest "$REG_USER:$REG_PW" "$N/basic" v1), not $RD, after the push"
in_w "$W/basic" plan -detailed-exitcode
t_expect_status 0
t_end

# push_refused DIR USER PW ERE: DIR's app pushed as USER with PW fails under the address (the
# message matching ERE), exit 1, PW nowhere in stderr, nothing at the registry
push_refused() {
	main_stk "$1" "$2" "$3"
	in_w "$W/$1" apply -auto-approve
	t_expect_status 1
	t_expect_match err "docker\.image\.pushed: docker push $REG/$N/$1:v1: .*$4"
	t_expect_lacks err "$3"
	[ -z "$(reg_digest "$REG_USER:$REG_PW" "$N/$1" v1)" ] || t_why "the registry has $N/$1:v1"
}

t_begin "wrong credentials: the token server refuses them, the create fails under the address, exit 1"
push_refused wrong "$REG_USER" not-the-password "unauthorized: incorrect username or password"
grep -q "^refused $REG_USER service=$SERVICE scope=repository:$N/wrong:" "$T_TMP/token.log" ||
	t_why "the token server refused nothing for $N/wrong: $(cat "$T_TMP/token.log")"
t_end

t_begin "a user whose token grants only pull: the registry denies the push, exit 1"
push_refused readonly "$RO_USER" "$RO_PW" "(denied|unauthorized|authentication required)"
grep -Eq "^issued $RO_USER service=$SERVICE scope=repository:$N/readonly:(pull,push|push,pull)( .*)? granted=$N/readonly:pull( |\$)" "$T_TMP/token.log" ||
	t_why "no pull-only token for $RO_USER: $(cat "$T_TMP/token.log")"
t_end

t_summary

#!/usr/bin/env python3
"""A token server for docker-registry's `auth: token` (tests/docker_registry_token.sh).

Usage: registry_token_server.py --port P --users FILE --bundle PEM --issuer I --service S
                                [--host 127.0.0.1] [--log FILE]

Python 3 stdlib plus the `cryptography` package. At start it makes an RSA key and a
self-signed certificate for it, writes the certificate to PEM (the registry's
`rootcertbundle`, so it must exist before the registry starts), then listens on HOST:P.

GET /token?service=S&scope=repository:NAME:pull,push[&scope=...] with basic credentials
(the docker daemon and stk both ask like this) answers {"token", "access_token",
"expires_in", "issued_at"}: an RS256 JWT whose header carries `x5c` (the certificate, so the
registry checks the signature against its bundle) and whose `access` claim grants, for each
requested repository scope, the requested actions that the user has. With
offline_token=true (docker login asks so) the answer also has a `refresh_token`, which the
docker CLI keeps as config.json's `identitytoken`; POST /token (OAuth2, a form with
grant_type=refresh_token or password) is how a client with such a token gets an access token. FILE has one
`USER:PASSWORD:ACTIONS` a line (ACTIONS such as `pull,push`). Unknown users and wrong
passwords get 401 with {"details": "incorrect username or password"}, as Docker Hub's token
server answers; a request without credentials gets an anonymous token with no access at
all. A wrong `service` is 400.

Every answer is logged to --log (default stderr), one line each, without secrets:
  issued USER service=S scope=... granted=... via=basic|anonymous|refresh_token|password
  refused USER service=S scope=... via=...
"""

import argparse
import base64
import datetime
import hmac
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

log_lock = threading.Lock()


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def make_cert():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stk test token issuer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return key, cert


def load_users(path):
    users = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            user, pw, actions = line.split(":", 2)
            users[user] = (pw, set(a for a in actions.split(",") if a))
    return users


def parse_scope(s):
    """repository:NAME:ACTIONS -> (type, name, [actions]); NAME may hold no ':' here, but a
    registry host in it could, so the type is the first field and the actions the last."""
    parts = s.split(":")
    if len(parts) < 3:
        return None
    return parts[0], ":".join(parts[1:-1]), [a for a in parts[-1].split(",") if a]


class Handler(BaseHTTPRequestHandler):
    server_version = "stk-token/1"

    def log_message(self, fmt, *args):
        pass

    def note(self, text):
        with log_lock:
            self.server.log.write(text + "\n")
            self.server.log.flush()

    def answer(self, status, body, extra=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def credentials(self):
        h = self.headers.get("Authorization", "")
        if not h.lower().startswith("basic "):
            return None, None
        try:
            user, _, pw = base64.b64decode(h[6:].strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return "", ""
        return user, pw

    def refuse(self, who, service, scopes, via):
        self.note("refused %s service=%s scope=%s via=%s" % (who or "-", service, " ".join(scopes), via))
        # Docker Hub's form: the daemon reads {"details"} as UNAUTHORIZED and gives up at
        # once, where the registry's {"errors": [...]} form is retried for a minute
        self.answer(401, {"details": "incorrect username or password"}, {"WWW-Authenticate": 'Basic realm="stk-token"'})

    def check(self, user, pw):
        """The user's allowed actions, or None for an unknown user or a wrong password."""
        known = self.server.users.get(user)
        if not known or not hmac.compare_digest(known[0].encode(), pw.encode()):
            return None
        return known[1]

    def grant(self, user, allowed, service, scopes, via, refresh):
        """Answers a token for the scopes, restricted to the allowed actions; with refresh,
        also a refresh token (docker login keeps it as config.json's identitytoken)."""
        access = []
        for s in scopes:
            p = parse_scope(s)
            if not p or p[0] != "repository":
                continue
            granted = [a for a in p[2] if a in allowed]
            if granted:
                access.append({"type": "repository", "name": p[1], "actions": granted})
        now = int(time.time())
        claims = {
            "iss": self.server.issuer,
            "sub": user or "",
            "aud": service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": b64url(os.urandom(12)),
            "access": access,
        }
        signing_input = b64url(json.dumps(self.server.header).encode()) + "." + b64url(json.dumps(claims).encode())
        sig = self.server.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        token = signing_input + "." + b64url(sig)
        body = {
            "token": token,
            "access_token": token,
            "expires_in": 300,
            "issued_at": datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if refresh and user:
            rt = b64url(os.urandom(24))
            with log_lock:
                self.server.refresh[rt] = user
            body["refresh_token"] = rt
        self.note(
            "issued %s service=%s scope=%s granted=%s via=%s"
            % (
                user or "-",
                service,
                " ".join(scopes),
                " ".join("%s:%s" % (a["name"], ",".join(a["actions"])) for a in access) or "-",
                via,
            )
        )
        self.answer(200, body)

    def do_GET(self):
        """The docker daemon's and stk's request: basic credentials (or none: anonymous),
        scope repeated; offline_token=true asks for a refresh token too."""
        u = urllib.parse.urlsplit(self.path)
        if u.path != "/token":
            self.answer(404, {"errors": [{"code": "NOT_FOUND", "message": "no such path"}]})
            return
        q = urllib.parse.parse_qs(u.query)
        service = q.get("service", [""])[0]
        scopes = q.get("scope", [])
        if service != self.server.service:
            self.note("refused service=%s" % service)
            self.answer(400, {"errors": [{"code": "UNSUPPORTED", "message": "unknown service"}]})
            return
        user, pw = self.credentials()
        allowed = set()
        if user is not None:
            allowed = self.check(user, pw)
            if allowed is None:
                self.refuse(user, service, scopes, "basic")
                return
        self.grant(user, allowed, service, scopes, "basic" if user else "anonymous",
                   q.get("offline_token", [""])[0] == "true")

    def do_POST(self):
        """OAuth2 (what the daemon does with an identity token): a form with grant_type
        refresh_token (refresh_token) or password (username, password), service, and scope
        as one space-separated string."""
        u = urllib.parse.urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode("utf-8", "replace"))
        if u.path != "/token":
            self.answer(404, {"errors": [{"code": "NOT_FOUND", "message": "no such path"}]})
            return
        f = lambda k: form.get(k, [""])[0]
        service = f("service")
        scopes = f("scope").split()
        if service != self.server.service:
            self.note("refused service=%s" % service)
            self.answer(400, {"error": "invalid_request"})
            return
        grant = f("grant_type")
        if grant == "refresh_token":
            with log_lock:
                user = self.server.refresh.get(f("refresh_token"))
            known = self.server.users.get(user) if user else None
            if not known:
                self.refuse("-", service, scopes, "refresh_token")
                return
            self.grant(user, known[1], service, scopes, "refresh_token", False)
        elif grant == "password":
            allowed = self.check(f("username"), f("password"))
            if allowed is None:
                self.refuse(f("username"), service, scopes, "password")
                return
            self.grant(f("username"), allowed, service, scopes, "password", f("access_type") == "offline")
        else:
            self.answer(400, {"error": "unsupported_grant_type"})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--users", required=True)
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--service", required=True)
    ap.add_argument("--log")
    a = ap.parse_args()

    key, cert = make_cert()
    srv = ThreadingHTTPServer((a.host, a.port), Handler)
    srv.daemon_threads = True
    srv.key = key
    srv.users = load_users(a.users)
    srv.issuer = a.issuer
    srv.service = a.service
    srv.header = {
        "typ": "JWT",
        "alg": "RS256",
        "x5c": [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")],
    }
    srv.refresh = {}
    srv.log = open(a.log, "a", encoding="utf-8") if a.log else sys.stderr
    # the bundle last, once the port is bound: its presence says the server is ready
    tmp = a.bundle + ".tmp"
    with open(tmp, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    os.rename(tmp, a.bundle)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

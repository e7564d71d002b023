#!/usr/bin/env python3
"""A scripted HTTP server for tests/unit/test_http.c: loopback only, Python 3 stdlib only.

Usage: fault_server.py [--unix PATH] [--tls CERT KEY CA] [--timeout SECONDS]

Listens on 127.0.0.1 at an ephemeral port and prints the port as the first line of stdout.
With --unix it also serves the same routes on a unix socket; with --tls it also serves HTTPS
(requiring a client certificate signed by CA) and prints "tls PORT" as the second line. It
exits when its stdin closes (the test ended or died) or after --timeout seconds (120).

Requests are counted by path (the query aside). Failure routes fail the first `times`
requests to their path (every request if times is absent), then answer 200 like /ok; tests
use a path of their own (/status/503/t1) so that counts never mix.

  /ok/...                 200 {"ok": true, "n": <count for this path>}
  /status/CODE/...        CODE; ?times=N
  /throttle/...           400 with an AWS error: ?code=Throttling (default), ?format=xml|json|ec2
  /reset/...              closes the connection without a response; ?rst=1 resets it
  /truncate/...           Content-Length: 1000, 10 bytes, close
  /retry-after/...        503 with Retry-After: ?s=1
  /slow/...               waits ?ms=1000 first (only the first `times` requests if given)
  /echo/...               the request as JSON: method, path, query, headers, and the body
                          as "json", "form" (an object) or "data" (a string), like httpbin;
                          ?fail=503&times=N fails the first N (after reading the body)
  /upload/...             reads the body (Content-Length or chunked) and returns its length,
                          sha256 and whether it came chunked; ?fail=503&times=N as for /echo
  /redirect/...           307 to ?to=/ok/redirected
  /stream/...             ?lines=5&ms=100: chunked JSON lines, one every ms, each line sent in
                          two pieces so that lines cross chunk boundaries
  /fixture/NAME           the file tests/http/fixtures/NAME
  /cookie/...             200 with a Set-Cookie header
  /count?path=P           {"path": P, "count": N, "connections": C}; without path, all counts
"""

import hashlib
import json
import os
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")

lock = threading.Lock()
counts = {}
connections = {"tcp": 0, "unix": 0, "tls": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so that connection reuse can be counted
    server_version = "fault_server"
    sys_version = ""

    def setup(self):
        super().setup()
        if self.server.kind != "unix":
            # Headers and body go out in separate writes: without this, Nagle holds the body
            # until the client's delayed ACK, 40 ms later, on every keep-alive request.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with lock:
            connections[self.server.kind] += 1

    def log_message(self, fmt, *args):
        pass

    def address_string(self):
        return self.server.kind

    # ---- plumbing ----

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                line = self.rfile.readline()
                if not line:
                    break
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
            return data
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, status, body=b"", ctype="application/json", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, obj, headers=()):
        self.send(status, json.dumps(obj, sort_keys=True) + "\n", headers=headers)

    def drop(self, rst):
        self.close_connection = True
        if rst:
            # Linger 0, then close the socket under Python's feet (its fd now names /dev/null,
            # which Python closes later): the kernel sends RST rather than FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            nul = os.open(os.devnull, os.O_RDWR)
            os.dup2(nul, self.connection.fileno())
            os.close(nul)
            return
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ---- dispatch ----

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        body = self.read_body()
        with lock:
            counts[path] = counts.get(path, 0) + 1
            n = counts[path]
        route = path.split("/")[1] if path.count("/") >= 1 else ""
        times = int(q["times"]) if "times" in q else None
        failing = times is None or n <= times

        if route == "count":
            with lock:
                if "path" in q:
                    self.send_json(200, {"path": q["path"], "count": counts.get(q["path"], 0),
                                         "connections": dict(connections)})
                else:
                    self.send_json(200, {"counts": dict(counts), "connections": dict(connections)})
            return
        if route == "status" and failing:
            code = int(path.split("/")[2])
            self.send_json(code, {"message": "injected %d" % code})
            return
        if route == "throttle" and failing:
            code = q.get("code", "Throttling")
            fmt = q.get("format", "xml")
            if fmt == "json":
                self.send(400, json.dumps({"__type": "com.amazon.coral.availability#" + code,
                                           "message": "Rate exceeded"}),
                          ctype="application/x-amz-json-1.1")
            elif fmt == "ec2":
                self.send(400, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors>"
                          "<Error><Code>%s</Code><Message>Request limit exceeded.</Message>"
                          "</Error></Errors><RequestID>r-1</RequestID></Response>" % code,
                          ctype="text/xml")
            else:
                self.send(400, "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/"
                          "2011-06-15/\"><Error><Type>Sender</Type><Code>%s</Code>"
                          "<Message>Rate exceeded</Message></Error><RequestId>r-1</RequestId>"
                          "</ErrorResponse>" % code, ctype="text/xml")
            return
        if route == "reset" and failing:
            self.drop(q.get("rst") == "1")
            return
        if route == "truncate" and failing:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.drop(False)
            return
        if route == "retry-after" and failing:
            self.send_json(503, {"message": "later"}, headers=[("Retry-After", q.get("s", "1"))])
            return
        if route == "slow" and failing:
            time.sleep(int(q.get("ms", "1000")) / 1000.0)
        if "fail" in q and route in ("echo", "upload") and n <= int(q.get("times", "1")):
            self.send_json(int(q["fail"]), {"message": "injected", "len": len(body)})
            return
        if route == "echo":
            self.echo(url, q, body, n)
            return
        if route == "redirect":
            self.send(307, "", headers=[("Location", q.get("to", "/ok/redirected"))])
            return
        if route == "upload":
            self.send_json(200, {"len": len(body), "sha256": hashlib.sha256(body).hexdigest(),
                                 "chunked": "chunked" in self.headers.get(
                                     "Transfer-Encoding", "").lower()})
            return
        if route == "stream":
            self.stream(int(q.get("lines", "5")), int(q.get("ms", "100")))
            return
        if route == "fixture":
            name = os.path.basename(path.split("/", 2)[2])
            try:
                with open(os.path.join(FIXTURES, name), "rb") as f:
                    data = f.read()
            except OSError:
                self.send_json(404, {"message": "no fixture " + name})
                return
            ctype = {"xml": "text/xml", "json": "application/json"}.get(
                name.rsplit(".", 1)[-1], "text/plain")
            self.send(200, data, ctype=ctype)
            return
        if route == "cookie":
            self.send_json(200, {"ok": True},
                           headers=[("Set-Cookie", "session=s3cr3t-set-cookie; HttpOnly")])
            return
        self.send_json(200, {"ok": True, "n": n})

    def echo(self, url, q, body, n):
        out = {
            "method": self.command,
            "path": url.path,
            "query": q,
            "n": n,
            "headers": {},
        }
        for k, v in self.headers.items():
            out["headers"][k] = out["headers"][k] + ", " + v if k in out["headers"] else v
        ctype = self.headers.get("Content-Type", "")
        text = body.decode("utf-8", "replace")
        if "json" in ctype:
            try:
                out["json"] = json.loads(text)
            except ValueError:
                out["data"] = text
        elif "x-www-form-urlencoded" in ctype:
            out["form"] = {k: v[-1] for k, v in urllib.parse.parse_qs(
                text, keep_blank_values=True).items()}
        elif body:
            out["data"] = text
        self.send_json(200, out)

    def stream(self, lines, ms):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def chunk(data):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        for i in range(lines):
            line = json.dumps({"stream": "step %d" % (i + 1), "t": time.time()}).encode() + b"\n"
            chunk(line[:7])
            chunk(line[7:])
            if i + 1 < lines:
                time.sleep(ms / 1000.0)
        chunk(b'{"stream": "no newline at the end"}')
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


class Quiet:
    def handle_error(self, request, client_address):
        # Clients hang up on purpose here (timeouts, cancels, aborted streams).
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, TimeoutError)):
            super().handle_error(request, client_address)


class TCPServer(Quiet, ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    kind = "tcp"


class TLSServer(TCPServer):
    kind = "tls"
    context = None

    def finish_request(self, request, client_address):
        # The handshake happens here, in the connection's own thread, so that a client that
        # refuses our certificate (or has none) cannot stall the accept loop.
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()


class UnixServer(Quiet, socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    kind = "unix"


def serve(server):
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()


def main():
    args = sys.argv[1:]
    unix_path = None
    tls = None
    timeout = 120.0
    while args:
        a = args.pop(0)
        if a == "--unix":
            unix_path = args.pop(0)
        elif a == "--tls":
            tls = (args.pop(0), args.pop(0), args.pop(0))
        elif a == "--timeout":
            timeout = float(args.pop(0))
        else:
            sys.stderr.write("fault_server.py: unknown argument %s\n" % a)
            sys.exit(2)

    tcp = TCPServer(("127.0.0.1", 0), Handler)
    serve(tcp)
    if unix_path:
        if os.path.exists(unix_path):
            os.unlink(unix_path)
        serve(UnixServer(unix_path, Handler))
    tls_server = None
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        ctx.load_verify_locations(tls[2])
        ctx.verify_mode = ssl.CERT_REQUIRED
        tls_server = TLSServer(("127.0.0.1", 0), Handler)
        tls_server.context = ctx
        serve(tls_server)

    sys.stdout.write("%d\n" % tcp.server_address[1])
    if tls_server:
        sys.stdout.write("tls %d\n" % tls_server.server_address[1])
    sys.stdout.flush()

    # Stop when the test closes our stdin (or dies), or after the timeout, whichever is first.
    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except OSError:
            pass
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    time.sleep(timeout)
    sys.stderr.write("fault_server.py: timed out after %g s\n" % timeout)
    os._exit(0)


if __name__ == "__main__":
    main()

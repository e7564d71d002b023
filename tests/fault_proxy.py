#!/usr/bin/env python3
"""A loopback fault-injecting proxy for the AWS tests: Python 3 stdlib only.

Usage: fault_proxy.py UPSTREAM_URL [--rate R] [--seed S] [--kinds K,K,...] [--latency MS]

Listens on 127.0.0.1 at an ephemeral port, prints the port as the first line of stdout, and
forwards every request to UPSTREAM_URL (moto_server) with its Host header unchanged, so that
SigV4 signatures made for the proxy's address still verify upstream. Before forwarding, a
request fails with probability R (seeded, so a run is repeatable) in one of these ways:

  throttle   the service's own throttling error: EC2 `RequestLimitExceeded` (503, XML), the
             query APIs' `Throttling` (400, XML), JSON APIs' `ThrottlingException` (400)
  503        503 Service Unavailable with an empty XML error
  500        500 InternalError
  reset      the connection is reset (SO_LINGER 0) without a response
  truncate   a 200 whose body stops halfway: Content-Length promises more than comes before
             the connection closes (the client sees a partial transfer)
  slow       the answer is held back 0.5 to 1.5 s, then forwarded

Faults come before forwarding, so the server never sees a failed request: a retry of a
create makes nothing twice. With --latency MS (default 0), every API request, faulted or
forwarded, is first held MS milliseconds, each in its own thread, so concurrent requests wait
side by side: a network round trip of a fixed length, for the apply benchmark. The proxy's own
routes (not forwarded, never delayed):

  GET /fault-proxy/stats     JSON: requests, forwarded, faults by kind, requests by action
  GET /fault-proxy/config?rate=R&kinds=K,K&hold=ACTION:FROM:TO&latency=MS&stall=ACTION:MS
                             changes the rate and kinds; hold rewrites FROM to TO in the
                             answers to ACTION (a waiter that never sees its state);
                             hold= with nothing clears it; latency sets the fixed delay;
                             stall forwards ACTION, counts it in stats' "stalled" (the
                             server has acted), then holds the answer MS milliseconds: a
                             test kills the client while the object exists and it does not
                             know; stall= clears it
"""

import json
import random
import socket
import struct
import sys
import threading
import time
import urllib.parse
import http.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
settings = {"rate": 0.0, "kinds": ["throttle", "503", "500", "reset", "truncate", "slow"], "hold": None,
            "latency": 0.0, "stall": None}
stats = {"requests": 0, "forwarded": 0, "faults": {}, "actions": {}, "stalled": {}}
rng = random.Random(0)
upstream = None


def action_of(headers, body):
    """The API action: X-Amz-Target for JSON APIs, Action= for the query APIs."""
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1], None, "json"
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    action = form.get("Action", ["?"])[0]
    version = form.get("Version", [""])[0]
    return action, version, "query"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: the headers and the body go out in two writes, and with Nagle the body of an
    # answer on a kept-alive connection waited for the client's delayed ACK (40 ms a call)
    disable_nagle_algorithm = True
    server_version = "fault_proxy"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, ctype="text/xml"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "fault-proxy")
        self.end_headers()
        self.wfile.write(data)

    def own_route(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/fault-proxy/stats":
            with lock:
                self.reply(200, json.dumps(stats, sort_keys=True), "application/json")
            return True
        if url.path == "/fault-proxy/config":
            q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            with lock:
                if "rate" in q:
                    settings["rate"] = float(q["rate"][0])
                if "kinds" in q:
                    settings["kinds"] = q["kinds"][0].split(",")
                if "hold" in q:
                    h = q["hold"][0]
                    settings["hold"] = h.split(":", 2) if h else None
                if "latency" in q:
                    settings["latency"] = float(q["latency"][0])
                if "stall" in q:
                    st = q["stall"][0]
                    settings["stall"] = (st.split(":")[0], float(st.split(":")[1])) if st else None
                self.reply(200, json.dumps(settings), "application/json")
            return True
        return False

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def fault(self, kind, action, version, proto):
        if kind == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if kind == "truncate":
            body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%sResponse xmlns=\"http://ec2."
                    "amazonaws.com/doc/%s/\"><requestId>fault-proxy</requestId>"
                    % (action or "Unknown", version or "2016-11-15")).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json" if proto == "json" else "text/xml")
            self.send_header("Content-Length", str(2 * len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if kind == "throttle":
            if proto == "json":
                self.reply(400, json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}),
                           "application/x-amz-json-1.1")
            elif version == "2016-11-15":
                self.reply(503, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error>"
                           "<Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>"
                           "</Error></Errors><RequestID>fault-proxy</RequestID></Response>")
            else:
                self.reply(400, "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                           "<Message>Rate exceeded</Message></Error><RequestId>fault-proxy</RequestId>"
                           "</ErrorResponse>")
            return
        if kind == "503":
            self.reply(503, "")
            return
        if kind == "500":
            self.reply(500, "<ErrorResponse><Error><Code>InternalError</Code><Message>We encountered an "
                       "internal error. Please try again.</Message></Error></ErrorResponse>")
            return

    def handle_any(self):
        if self.own_route():
            return
        body = self.read_body()
        action, version, proto = action_of(self.headers, body)
        with lock:
            stats["requests"] += 1
            stats["actions"][action] = stats["actions"].get(action, 0) + 1
            kind = None
            if settings["kinds"] and rng.random() < settings["rate"]:
                kind = rng.choice(settings["kinds"])
            hold = settings["hold"]
            latency = settings["latency"]
            stall = settings["stall"]
        if latency > 0:
            time.sleep(latency / 1000.0)
        if kind and kind != "slow":
            with lock:
                stats["faults"][kind] = stats["faults"].get(kind, 0) + 1
            self.fault(kind, action, version, proto)
            return
        if kind == "slow":
            with lock:
                stats["faults"]["slow"] = stats["faults"].get("slow", 0) + 1
                pause = 0.5 + rng.random()
            time.sleep(pause)
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("connection", "transfer-encoding", "content-length")}
        headers["Content-Length"] = str(len(body))
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        if hold and hold[0] == action:
            data = data.replace(hold[1].encode(), hold[2].encode())
        with lock:
            stats["forwarded"] += 1
        if stall and stall[0] == action:
            with lock:
                stats["stalled"][action] = stats["stalled"].get(action, 0) + 1
            time.sleep(stall[1] / 1000.0)
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length", "server", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


def main():
    global upstream, rng
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    upstream = urllib.parse.urlsplit(args.pop(0))
    if upstream.hostname not in ("127.0.0.1", "localhost"):
        sys.exit("fault_proxy.py: the upstream must be on loopback")
    while args:
        flag = args.pop(0)
        if flag == "--rate":
            settings["rate"] = float(args.pop(0))
        elif flag == "--seed":
            rng = random.Random(int(args.pop(0)))
        elif flag == "--kinds":
            settings["kinds"] = args.pop(0).split(",")
        elif flag == "--latency":
            settings["latency"] = float(args.pop(0))
        else:
            sys.exit("fault_proxy.py: unknown flag " + flag)
    # Python's default listen queue is 5: an apply at -parallelism=64 connects 64 times at
    # once, and a connect beyond the queue waits a second for its SYN to be sent again
    ThreadingHTTPServer.request_queue_size = 1024
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

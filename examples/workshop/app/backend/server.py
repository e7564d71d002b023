#!/usr/bin/env python3
"""The quiz backend: a small JSON API on Python's standard library.

GET /api/health     {"status": "ok", "database": "<host>:<port>"}
GET /api/questions  the questions, without their answers
POST /api/answers   {"answers": {"<id>": <choice>, ...}} -> the score

The database is named by DATABASE_URL (postgres://user:password@host:port/name), which
stk builds from the RDS instance. The health answer names the database's host and port,
never the user or the password. The questions are kept in this file: the image carries no
PostgreSQL driver (Debian's minbase has none), so the database is configured, not queried.
"""
import json
import os
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

QUESTIONS = [
    {"id": 1, "text": "Which file format does stk read?",
     "choices": [".tf", ".stk", ".yaml"], "answer": 1},
    {"id": 2, "text": "Which command shows what will change?",
     "choices": ["stk plan", "stk show", "stk diff"], "answer": 0},
    {"id": 3, "text": "Which port does PostgreSQL listen on by default?",
     "choices": ["3306", "6379", "5432"], "answer": 2},
    {"id": 4, "text": "What does nginx do in this stack?",
     "choices": ["stores the questions", "routes / and /api/", "builds the images"],
     "answer": 1},
]


def database():
    """host:port of DATABASE_URL, or "none" when it is not set."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return "none"
    parts = urllib.parse.urlsplit(url)
    return "%s:%d" % (parts.hostname or "", parts.port or 5432)


class Handler(BaseHTTPRequestHandler):
    server_version = "quiz-backend/1"

    def send_json(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/api/health":
            self.send_json(200, {"status": "ok", "database": database()})
        elif path == "/api/questions":
            self.send_json(200, [{k: q[k] for k in ("id", "text", "choices")}
                                 for q in QUESTIONS])
        else:
            self.send_json(404, {"error": "no such path: " + path})

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path != "/api/answers":
            self.send_json(404, {"error": "no such path: " + path})
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
            if length > 65536:
                raise ValueError("body too large")
            answers = json.loads(self.rfile.read(length) or b"{}").get("answers", {})
            if not isinstance(answers, dict):
                raise ValueError("answers must be an object")
        except (ValueError, AttributeError) as e:
            self.send_json(400, {"error": str(e)})
            return
        score = sum(1 for q in QUESTIONS if answers.get(str(q["id"])) == q["answer"])
        self.send_json(200, {"score": score, "total": len(QUESTIONS)})

    def log_message(self, fmt, *args):
        # one line per request on stderr (docker logs); never the headers
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


def main():
    host = os.environ.get("LISTEN_HOST", "127.0.0.1")
    port = int(os.environ.get("LISTEN_PORT", "8000"))
    ThreadingHTTPServer((host, port), Handler).serve_forever()


if __name__ == "__main__":
    main()

"""tests/awscli_client.py SOCKET ARG...: `aws ARG...` run by tests/awscli_server.py.

Sends the arguments, the environment, the working directory and this process's standard
streams to the server at SOCKET, and exits with the status of the awscli command it ran. When
the server cannot be reached, runs `aws` itself. Runs with `python3 -S`: only the standard
library's socket and json, so it starts in a few milliseconds.
"""

import array
import json
import os
import socket
import sys


def main():
    path, argv = sys.argv[1], sys.argv[2:]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
    except OSError:
        os.execvp("aws", ["aws"] + argv)
    req = json.dumps({"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}).encode() + b"\n"
    fds = array.array("i", [0, 1, 2]).tobytes()
    s.sendmsg([req[:1]], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
    s.sendall(req[1:])
    answer = b""
    while True:
        chunk = s.recv(64)
        if not chunk:
            break
        answer += chunk
    try:
        sys.exit(int(answer.strip()))
    except ValueError:
        print("awscli_client: the awscli server ended without a status", file=sys.stderr)
        sys.exit(255)


if __name__ == "__main__":
    main()

"""tests/awscli_server.py SOCKET [PID]: awscli, imported once, run for each call by a fork.

The suites check stk's work with awscli, a client independent of stk, a few hundred times per
`make check`. Each `aws` command spends about a second importing awscli and botocore before it
sends anything: 1.45 s of CPU for an `ec2 describe-vpcs`, 0.45 s in a child of this server
(measured on the 2-CPU CI machine); with two CPUs, that import was most of the AWS suites'
time. This server imports awscli.clidriver once, then for every connection on the unix socket SOCKET forks, and
the child runs awscli's own entry point (`awscli.clidriver.main()`, what the `aws` script runs)
with the caller's arguments, environment, working directory and standard streams (passed over
the socket as file descriptors), so its output goes where the caller's would have gone. The
child sends the exit status back, as one line. tests/awscli_client.py is the caller's side;
tests/moto.sh starts the server and its awsx() uses it. The server ends on SIGTERM, or once
the process PID (the test script) is gone.

Nothing is cached between calls: each child builds a new session from the caller's
environment (credentials, region) as `aws` would.
"""

import array
import json
import os
import select
import signal
import socket
import sys

import awscli.clidriver  # the import every `aws` pays: paid here once
# what the first command loads anyway, so that each child need not
import awscli.handlers  # noqa: F401
import botocore.session  # noqa: F401
import botocore.client  # noqa: F401
import botocore.waiter  # noqa: F401

# awscli's import appends its own data directory to AWS_DATA_PATH (awscli/__init__.py); each
# call's environment gets it the same way
AWSCLI_DATA = os.path.join(os.path.dirname(os.path.abspath(awscli.clidriver.__file__)), "data")


def recv_call(conn):
    """The caller's request: (JSON bytes, [stdin, stdout, stderr fds])."""
    fds = array.array("i")
    data = b""
    while True:
        msg, anc, _flags, _addr = conn.recvmsg(65536, socket.CMSG_SPACE(3 * fds.itemsize))
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
        if not msg:
            break
        data += msg
        if data.endswith(b"\n"):
            break
    return data, list(fds)


def run_child(conn, data, fds):
    req = json.loads(data)
    for target, fd in enumerate(fds[:3]):
        os.dup2(fd, target)
    for fd in fds:
        if fd > 2:
            os.close(fd)
    os.chdir(req["cwd"])
    os.environ.clear()
    os.environ.update(req["env"])
    os.environ["AWS_DATA_PATH"] = os.pathsep.join(
        [p for p in os.environ.get("AWS_DATA_PATH", "").split(os.pathsep) if p] + [AWSCLI_DATA])
    sys.argv = ["aws"] + req["argv"]
    try:
        rc = awscli.clidriver.main()
    except SystemExit as e:  # argparse's usage errors exit
        rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 255)
    except BaseException as e:  # what `aws` would print as it died
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        rc = 255
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except OSError:
            pass
    conn.sendall(b"%d\n" % (rc or 0))
    os._exit(0)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def main():
    path = sys.argv[1]
    owner = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path + ".tmp")
    os.rename(path + ".tmp", path)  # the socket appears ready, never half made
    srv.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        if not select.select([srv], [], [], 1.0)[0]:
            if owner and not alive(owner):
                os._exit(0)
            continue
        conn, _ = srv.accept()
        data, fds = recv_call(conn)
        if os.fork() == 0:
            srv.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            run_child(conn, data, fds)
        for fd in fds:
            os.close(fd)
        conn.close()


if __name__ == "__main__":
    main()

"""Runs inside the sandbox (network='hosts'): a local TCP port relayed to the proxy's unix socket.

The sandbox has its own empty network namespace, so the only way out is the unix socket bound in
from the host, where the allowlist proxy decides. Tools find it through HTTP(S)_PROXY/ALL_PROXY,
which point here. Started as `python -I -S -c <this file> SOCKET PORT -- COMMAND...`: it listens,
forks the relay, and replaces itself with COMMAND; when COMMAND exits, bwrap ends the sandbox and
the kernel ends the relay with it.
"""

import os
import socket
import sys
import threading


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _serve(conn: socket.socket, socket_path: str) -> None:
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(socket_path)
    except OSError:
        conn.close()
        upstream.close()
        return
    threading.Thread(target=_pipe, args=(upstream, conn), daemon=True).start()
    _pipe(conn, upstream)


def main(argv: list[str]) -> None:
    socket_path, port, sep, command = argv[0], int(argv[1]), argv[2], argv[3:]
    if sep != "--" or not command:
        sys.exit("usage: bridge SOCKET PORT -- COMMAND...")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    if os.fork() == 0:
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=_serve, args=(conn, socket_path), daemon=True).start()
    listener.close()
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        sys.stderr.write(f"{command[0]}: {exc.strerror}\n")
        sys.exit(127)


if __name__ == "__main__":
    main(sys.argv[1:])

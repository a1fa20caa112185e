"""Host allowlists: an HTTP proxy outside the sandbox, reached through a unix socket.

A network namespace is all or nothing, so a step granted `hosts` gets none of the host's network;
its only way out is a unix socket bound into the sandbox, where this proxy (in our process) lets
through CONNECT and plain-HTTP requests to allowed host:port pairs and answers 403 to the rest.
Tools that ignore HTTP(S)_PROXY/ALL_PROXY simply get no network: the failure mode is closed.
"""

from __future__ import annotations

import os
import selectors
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

BRIDGE_PORT = 3128
_HEAD_LIMIT = 65536
_CONNECT_TIMEOUT = 10.0
_PROXY_ENV = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def host_allowed(hosts: Sequence[str], host: str, port: int) -> bool:
    """`name` allows ports 80 and 443, `name:port` that port only, `*.domain` its subdomains."""
    host = host.strip("[]").lower().rstrip(".")
    for entry in hosts:
        name, _, entry_port = entry.partition(":")
        if entry_port and int(entry_port) != port:
            continue
        if not entry_port and port not in (80, 443):
            continue
        if name.startswith("*."):
            if host.endswith(name[1:]):
                return True
        elif host == name:
            return True
    return False


def bridge_command(socket_path: Path, command: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Wrap `command` so it starts behind the in-sandbox relay; return it with the proxy env."""
    source = (Path(__file__).parent / "_bridge.py").read_text(encoding="utf-8")
    argv = [sys.executable, "-I", "-S", "-c", source, str(socket_path), str(BRIDGE_PORT), "--"]
    url = f"http://127.0.0.1:{BRIDGE_PORT}"
    return [*argv, *command], {name: url for name in _PROXY_ENV}


class AllowlistProxy:
    """The proxy, serving on a unix socket in a private folder while the context is open."""

    def __init__(self, hosts: Sequence[str]) -> None:
        self.hosts = tuple(hosts)
        self.directory = Path(tempfile.mkdtemp(prefix="oversight-proxy-"))
        self.socket_path = self.directory / "proxy.sock"
        self.refused: list[str] = []
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def __enter__(self) -> Self:
        try:
            self._listener.bind(str(self.socket_path))
            os.chmod(self.socket_path, 0o666)  # a non-root sandbox user must connect too
            self._listener.listen(64)
        except BaseException:
            self._close()
            raise
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._close()

    def _close(self) -> None:
        self._closing.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _accept_loop(self) -> None:
        while not self._closing.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            head, rest = _read_head(conn)
            if head is None:
                return
            request = _parse(head)
            if request is None:
                conn.sendall(_response(400, "malformed proxy request"))
                return
            method, host, port, forward = request
            if not host_allowed(self.hosts, host, port):
                self.refused.append(f"{host}:{port}")
                conn.sendall(_response(403, f"{host}:{port} is not in the sandbox's allowlist"))
                return
            try:
                upstream = socket.create_connection((host, port), timeout=_CONNECT_TIMEOUT)
            except OSError as exc:
                conn.sendall(_response(502, f"cannot reach {host}:{port}: {exc}"))
                return
            with upstream:
                upstream.settimeout(None)
                if method == "CONNECT":
                    conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                else:
                    upstream.sendall(forward)
                if rest:
                    upstream.sendall(rest)
                _relay(conn, upstream, self._closing)


def _read_head(conn: socket.socket) -> tuple[bytes | None, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > _HEAD_LIMIT:
            return None, b""
        try:
            chunk = conn.recv(4096)
        except OSError:
            return None, b""
        if not chunk:
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _parse(head: bytes) -> tuple[str, str, int, bytes] | None:
    """(method, host, port, request to send upstream) for CONNECT or absolute-URI HTTP."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        return None
    method, target, version = parts
    try:
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            return method, host.strip("[]"), int(port), b""
        url = urlsplit(target)
        if url.scheme != "http" or not url.hostname:
            return None
        port_number = url.port or 80
    except ValueError:
        return None
    path = url.path or "/"
    if url.query:
        path += "?" + url.query
    headers = [
        h
        for h in lines[1:]
        if h.split(":", 1)[0].strip().lower()
        not in ("proxy-connection", "proxy-authorization", "connection")
    ]
    forward = "\r\n".join([f"{method} {path} {version}", *headers, "Connection: close", "", ""])
    return method, url.hostname, port_number, forward.encode("latin-1")


def _relay(a: socket.socket, b: socket.socket, closing: threading.Event) -> None:
    peer = {a: b, b: a}
    with selectors.DefaultSelector() as sel:
        sel.register(a, selectors.EVENT_READ)
        sel.register(b, selectors.EVENT_READ)
        open_sides = 2
        while open_sides and not closing.is_set():
            for key, _ in sel.select(timeout=0.5):
                src: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    data = src.recv(65536)
                except OSError:
                    return
                if not data:
                    sel.unregister(src)
                    open_sides -= 1
                    try:
                        peer[src].shutdown(socket.SHUT_WR)
                    except OSError:
                        return
                    continue
                try:
                    peer[src].sendall(data)
                except OSError:
                    return


def _response(status: int, text: str) -> bytes:
    reason = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}[status]
    body = f"blocked by the oversight sandbox: {text}\n".encode()
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\n"
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    return head.encode() + body

"""Effects beyond the filesystem, with real bwrap: network (none, full, host allowlist), a git
push to a repository outside the workspace, and GPU device nodes."""

from __future__ import annotations

import http.server
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandboxing import needs_bwrap, outside_tmp, sh

from oversight.sandbox import Capabilities

pytestmark = needs_bwrap
PY = sys.executable


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    (tmp_path / "ws").mkdir()
    return tmp_path / "ws"


@pytest.fixture
def var_tmp() -> Iterator[Path]:
    yield from outside_tmp()


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def connect_script(port: int) -> str:
    code = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=3); print('CONNECTED')"
    return f'{PY} -c "{code}"'


def test_no_network_by_default(ws: Path, listener: Listener) -> None:
    result = sh(connect_script(listener.port), Capabilities(workspace=ws))
    assert result.exit_code != 0 and b"CONNECTED" not in result.stdout
    assert listener.accepted == 0


def test_full_network_connects(ws: Path, listener: Listener) -> None:
    result = sh(connect_script(listener.port), Capabilities(workspace=ws, network="full"))
    assert b"CONNECTED" in result.stdout, result.stderr
    assert listener.accepted == 1


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"hello from " + self.path.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def web() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_host_allowlist_lets_through_only_listed_hosts(
    ws: Path, web: http.server.ThreadingHTTPServer, listener: Listener
) -> None:
    port = web.server_address[1]
    caps = Capabilities(workspace=ws, network="hosts", hosts=(f"127.0.0.1:{port}",))
    fetch = (
        f"curl -sS http://127.0.0.1:{port}/allowed; echo;"
        f"curl -sS -o /dev/null -w '%{{http_code}}\\n' http://127.0.0.1:{listener.port}/denied;"
        f"curl -sS --noproxy '*' http://127.0.0.1:{port}/direct || echo DIRECT-FAILED;"
        f"{connect_script(listener.port)} || echo RAW-FAILED"
    )
    result = sh(fetch, caps, timeout=60)
    out = result.stdout.decode()
    assert "hello from /allowed" in out, result.stderr
    assert "403" in out
    assert "DIRECT-FAILED" in out and "RAW-FAILED" in out
    assert listener.accepted == 0


def test_git_push_outside_the_workspace(ws: Path, var_tmp: Path) -> None:
    bare = var_tmp / "origin.git"
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", "--bare", str(bare)], check=True)
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=ws, check=True)
    (ws / "a.txt").write_text("a")
    subprocess.run([*git, "add", "a.txt"], cwd=ws, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "a"], cwd=ws, check=True)
    subprocess.run([*git, "remote", "add", "origin", str(bare)], cwd=ws, check=True)

    def refs() -> str:
        return subprocess.run(
            ["git", "for-each-ref"], cwd=bare, capture_output=True, text=True, check=True
        ).stdout

    before = refs()
    confined = sh("git push -q origin HEAD:main", Capabilities.confined(ws))
    assert confined.exit_code != 0
    assert refs() == before == ""
    granted = Capabilities.confined(ws).model_copy(update={"writable": (bare,)})
    pushed = sh("git push -q origin HEAD:main", granted)
    assert pushed.exit_code == 0, pushed.stderr
    assert "refs/heads/main" in refs()


@pytest.fixture
def fake_gpu(var_tmp: Path) -> Path:
    node = var_tmp / "nvidia-fake0"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # behaves like /dev/null
    return node


def test_gpu_devices_absent_without_grant(ws: Path, fake_gpu: Path) -> None:
    devices = (*Capabilities(workspace=ws).gpu_devices, str(fake_gpu))
    script = f"echo x > {fake_gpu} && echo OPENED; ls /dev"
    denied = sh(script, Capabilities(workspace=ws, gpu_devices=devices))
    assert b"OPENED" not in denied.stdout
    assert b"nvidia" not in denied.stdout  # the fresh /dev has no real GPU either
    granted = sh(script, Capabilities(workspace=ws, gpu=True, gpu_devices=devices))
    assert b"OPENED" in granted.stdout, granted.stderr

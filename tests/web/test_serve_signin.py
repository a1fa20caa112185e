"""`oversight serve` asks for sign-in by default; `--no-auth` is read-only, local, and loud."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from oversight import Monitor


def _store(tmp_path: Path) -> Path:
    db = tmp_path / "o.db"
    monitor = Monitor(db=str(db), policy="record-only", log="none", workspace=False)
    with monitor, monitor.session(agent="served-agent"):
        monitor.check("Read", {"file_path": "README.md"}).succeed("text")
    return db


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str


def _get(port: int, path: str, host: str, server: subprocess.Popen[str]) -> Answer:
    """GET `path` with this Host header, not following redirects (once the server is up)."""
    end = time.monotonic() + 30
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", path, headers={"Host": host})
            response = conn.getresponse()
            return Answer(response.status, response.headers, response.read().decode())
        except OSError:
            if server.poll() is not None or time.monotonic() > end:
                raise
            time.sleep(0.1)
        finally:
            conn.close()


def _serve(db: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "oversight", "serve", "--db", str(db), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "250", "XDG_STATE_HOME": str(db.parent / "state")},
    )


def test_serve_asks_for_sign_in_with_passkeys_at_localhost(tmp_path: Path) -> None:
    db, port = _store(tmp_path), _free_port()
    server = _serve(db, "--port", str(port))
    try:
        first = _get(port, "/", f"localhost:{port}", server)
        assert first.status == 303 and first.headers["location"] == "/signin"
        assert "oversight_session=" in first.headers["set-cookie"]
        by_ip = _get(port, "/approvals", f"127.0.0.1:{port}", server)
        assert by_ip.status == 307
        assert by_ip.headers["location"] == f"http://localhost:{port}/approvals"
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert f"at http://localhost:{port}/" in err
    assert "sign in with passkeys" in err and str(tmp_path / "state") in err


def test_serve_no_auth_reads_warns_and_refuses_to_listen_beyond_this_machine(
    tmp_path: Path,
) -> None:
    db, port = _store(tmp_path), _free_port()
    server = _serve(db, "--port", str(port), "--no-auth")
    try:
        page = _get(port, "/", f"127.0.0.1:{port}", server)
        assert page.status == 200 and "served-agent" in page.body
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert "WARNING: --no-auth" in err and "nothing can be approved" in err
    wide = _serve(db, "--no-auth", "--host", "0.0.0.0")
    _, err = wide.communicate(timeout=60)
    assert wide.returncode == 2
    assert "only on 127.0.0.1 or localhost" in err

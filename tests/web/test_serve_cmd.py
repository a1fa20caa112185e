"""`oversight serve`: it serves the store on 127.0.0.1, and without the web extra it says how
to install it instead of failing with an import traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from oversight import Monitor

BLOCK_FASTAPI = """
import sys

class NoFastAPI:
    def find_spec(self, name, path=None, target=None):
        if name == "fastapi" or name.startswith("fastapi."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoFastAPI())
sys.argv = ["oversight", *sys.argv[1:]]
from oversight.cli import main
main()
"""


def _store(tmp_path: Path) -> Path:
    db = tmp_path / "o.db"
    monitor = Monitor(db=str(db), policy="record-only", log="none", workspace=False)
    with monitor, monitor.session(agent="served-agent"):
        monitor.check("Read", {"file_path": "README.md"}).succeed("text")
    return db


def test_serve_without_the_web_extra_gives_the_install_hint(tmp_path: Path) -> None:
    db = _store(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_FASTAPI, "serve", "--db", str(db), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "pip install 'agent-oversight[web]'" in done.stderr
    assert "'fastapi' package" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_listens_on_localhost_and_serves_the_store(tmp_path: Path) -> None:
    db = _store(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    serve = ["serve", "--db", str(db), "--port", str(port), "--no-auth"]  # read-only, no sign-in
    server = subprocess.Popen(
        [sys.executable, "-m", "oversight", *serve],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        page = _fetch(f"http://127.0.0.1:{port}/", server)
        assert "served-agent" in page
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert f"at http://127.0.0.1:{port}/" in err


def test_serve_a_missing_store_names_it(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "oversight", "serve", "--db", str(tmp_path / "none.db")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "no oversight store at" in done.stderr and "none.db" in done.stderr
    assert not (tmp_path / "none.db").exists()


def _fetch(url: str, server: subprocess.Popen[str], wait_s: float = 30) -> str:
    end = time.monotonic() + wait_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return str(response.read().decode("utf-8"))
        except OSError:
            if server.poll() is not None or time.monotonic() > end:
                raise
            time.sleep(0.1)

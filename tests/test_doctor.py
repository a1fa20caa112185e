"""`oversight doctor` says what enforcement is missing and exits 1 when it is."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def _doctor(tmp_path: Path, path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oversight", "doctor", "--db", str(tmp_path / "o.db")],
        capture_output=True, text=True, check=False, cwd=tmp_path,
        env={**os.environ, "PATH": path, "COLUMNS": "200"},
    )  # fmt: skip


def test_without_bubblewrap_doctor_fails_with_the_install_hint(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    done = _doctor(tmp_path, str(empty))
    assert done.returncode == 1
    assert "FAIL sandbox" in done.stdout and "apt-get install bubblewrap" in done.stdout
    assert "none yet at" in done.stdout, "a missing store is said, not created"
    assert not (tmp_path / "o.db").exists()


def test_with_the_sandbox_and_a_policy_doctor_passes(tmp_path: Path) -> None:
    if shutil.which("bwrap") is None:
        import pytest

        pytest.skip("SANDBOX TESTS SKIPPED: bubblewrap is not installed")
    done = _doctor(tmp_path, os.environ["PATH"])
    assert done.returncode == 0, done.stdout
    assert "ok   sandbox" in done.stdout and "ok   policy: research-default" in done.stdout
    assert "warn root key" in done.stdout


def test_a_sqlite_store_is_said_to_be_a_file_the_user_can_rewrite(tmp_path: Path) -> None:
    from oversight.store import open_store

    open_store(f"sqlite:///{tmp_path / 'o.db'}").close()
    done = _doctor(tmp_path, os.environ["PATH"])
    assert "warn store access: a file any process of this user can rewrite" in done.stdout

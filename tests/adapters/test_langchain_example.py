"""The LangChain example runs end to end: its shell tool runs in the sandbox with the grant the
middleware's decision gives it, and the push a person approved reaches its own remote."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from oversight.sandbox import available
from oversight.store import open_store

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "langchain_research_agent.py"


@pytest.mark.skipif(not available().available, reason=f"SANDBOX TESTS SKIPPED: {available().hint}")
def test_the_example_runs_its_shell_steps_sandboxed() -> None:
    root = Path(tempfile.mkdtemp(prefix="oversight-lc-example-", dir="/var/tmp"))
    try:
        done = subprocess.run(
            [sys.executable, str(EXAMPLE), "--dir", str(root / "run")],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        assert "queued job-1.json: 8 GPUs" in done.stdout
        branches = subprocess.run(
            ["git", "--git-dir", str(root / "run" / "origin.git"), "branch"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert "tune-lr" in branches, "the approved push reached its remote"
        with open_store(f"sqlite:///{root / 'run' / 'oversight.db'}") as store:
            grants = [
                (s.record.attributes or {}).get("sandbox")
                for s in store.iter_records("lr-study", types={"step.finished"})
                if (s.record.attributes or {}).get("sandbox") is not None
            ]
        assert len(grants) >= 3, "each shell step recorded what the sandbox granted"
        assert all(g["network"] == "none" and g["gpu"] is False for g in grants)
        assert [g["writable"] for g in grants].count([str(root / "run" / "origin.git")]) == 1
    finally:
        shutil.rmtree(root, ignore_errors=True)

"""Without PostgreSQL the suite says so once, with how to start it, instead of one `-ra` line
per skipped test (run as a real pytest session over a copy of our conftest)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

TESTS = """
import pytest

@pytest.mark.parametrize("n", range(3))
def test_needs_postgres(pg_base_url, n):
    pass

def test_skipped_for_another_reason():
    pytest.skip("no GPU here")

def test_plain():
    pass
"""


def test_postgres_skips_are_reported_once_with_how_to_start_it(tmp_path: Path) -> None:
    for helper in ("conftest.py", "otlp_receiver.py"):  # the conftest imports the receiver
        shutil.copy(Path(__file__).with_name(helper), tmp_path / helper)
    (tmp_path / "test_sample.py").write_text(TESTS)
    env = {k: v for k, v in os.environ.items() if k not in ("OVERSIGHT_TEST_PG_URL", "CI")}
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-ra", "-p", "no:cacheprovider", str(tmp_path)],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    mentions = [i for i, line in enumerate(lines) if "PostgreSQL" in line or "PG_URL" in line]
    banner, how, final = mentions  # once, loudly; how to start it; the counts
    assert "3 PostgreSQL tests SKIPPED" in lines[banner]
    assert how == banner + 1 and ".ci/pg-setup.sh" in lines[how]
    assert final == len(lines) - 1
    assert "1 passed, 1 skipped, 3 skipped (no PostgreSQL)" in lines[final]
    skipped = [line for line in lines if line.startswith("SKIPPED")]
    assert len(skipped) == 1 and "no GPU here" in skipped[0], "other skips are still listed"

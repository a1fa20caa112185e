"""Shared helpers for the sandbox tests: skip loudly without bwrap, run shell in the sandbox."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from oversight.sandbox import Capabilities, SandboxResult, available, run_sandboxed

STATUS = available()
needs_bwrap = pytest.mark.skipif(
    not STATUS.available,
    reason=f"SANDBOX TESTS SKIPPED: {STATUS.reason}. {STATUS.hint}",
)


def sh(script: str, caps: Capabilities, **kwargs: object) -> SandboxResult:
    return run_sandboxed(["sh", "-c", script], caps, **kwargs)  # type: ignore[arg-type]


def outside_tmp() -> Iterator[Path]:
    """A folder outside /tmp: the sandbox gives the step a fresh /tmp, so a target under /tmp
    would vanish anyway and a test there could not fail. /var/tmp stays visible read-only."""
    path = Path(tempfile.mkdtemp(prefix="oversight-sbx-", dir="/var/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)

"""Scoped grants: a reviewer approves a class of steps for a while; grants are signed, scoped,
visible and expire."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from reviewing import cli, register_reviewers, write_gate_pack

from oversight import CheckpointTimeout, Monitor
from oversight.records import StepFinished
from oversight.store import open_store


@pytest.fixture
def env(tmp_path: Path):  # type: ignore[no-untyped-def]
    db, keys = tmp_path / "o.db", tmp_path / "keys"
    register_reviewers(db, keys, ("alice",))
    pack = write_gate_pack(tmp_path, timeout=0.5)
    return db, keys, pack


def grant(db: Path, keys: Path, *extra: str) -> None:
    done = cli(
        "grant",
        "--kind",
        "train.launch",
        "--as",
        "alice",
        "--key",
        str(keys / "alice.pem"),
        "--db",
        str(db),
        *extra,
    )
    assert done.returncode == 0, done.stderr


def launch(db: Path, pack: Path, session: str, gpus: int, hours: float) -> str:
    with Monitor(db=str(db), log="none", policy=str(pack)) as mon, mon.session(session):
        try:
            mon.check(
                "launch_training", {"gpus": gpus, "hours": hours}, kind="train.launch"
            ).succeed()
        except CheckpointTimeout:
            return "waited and timed out"
    return "ran"


def test_a_grant_lets_small_runs_through_and_still_gates_big_ones(env) -> None:  # type: ignore[no-untyped-def]
    db, keys, pack = env
    grant(db, keys, "--max-gpu-hours", "8", "--for", "2h", "--reason", "small sweeps ok")
    assert launch(db, pack, "s", gpus=2, hours=3) == "ran"
    assert launch(db, pack, "s", gpus=8, hours=12) == "waited and timed out"
    with open_store(f"sqlite:///{db}") as store:
        outcomes = [s.record for s in store.iter_records("s", types={"step.finished"})]
    assert isinstance(outcomes[0], StepFinished) and (outcomes[0].approval_id or "").startswith(
        "grant:"
    )
    assert outcomes[0].approved_by == [], "a grant is not a person reviewing this step"


def test_a_session_scoped_grant_covers_only_that_session(env) -> None:  # type: ignore[no-untyped-def]
    db, keys, pack = env
    grant(db, keys, "--session", "exp-1")
    assert launch(db, pack, "exp-1", gpus=1, hours=1) == "ran"
    assert launch(db, pack, "exp-2", gpus=1, hours=1) == "waited and timed out"


def test_an_expired_grant_covers_nothing(env) -> None:  # type: ignore[no-untyped-def]
    db, keys, pack = env
    grant(db, keys, "--for", "1s")
    import time

    time.sleep(1.2)
    assert launch(db, pack, "s", gpus=1, hours=1) == "waited and timed out"
    listed = json.loads(cli("grants", "--json", "--db", str(db)).stdout)
    assert listed[0]["active"] is False


def test_a_grant_row_written_into_the_database_covers_nothing(env) -> None:  # type: ignore[no-untyped-def]
    db, _, pack = env
    conn = sqlite3.connect(db)
    conn.execute(
        "INSERT INTO oversight_grants VALUES ('forged', 'train.launch', NULL, NULL, 9e12, 'alice', 'x', '00', 'now')"
    )
    conn.commit()
    conn.close()
    assert launch(db, pack, "s", gpus=1, hours=1) == "waited and timed out"

"""The root of trust: an agent that rewrites the reviewer table must not become a reviewer."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from reviewing import cli, register_reviewers

from oversight import CheckpointDenied, Monitor, Settings
from oversight.approvals.signing import endorsement_payload, new_private_key, public_hex, sign
from oversight.approvals.votes import cast_vote
from oversight.errors import ConfigError
from oversight.records import Alert, StepFinished
from oversight.store import open_store

PACK = """
name: gate
unmatched: {consequential: allow, other: allow}
rules:
  - id: gate-training
    match: {kind: [train.launch]}
    effect: require_approval
    reason: training needs a person
    approval: {role: approver, quorum: 1, timeout_s: 2}
"""


def _usurp(db: Path) -> None:
    """What a hostile agent with database access does: replace every reviewer with its own
    self-endorsed admin, then approve its own request with that key."""
    key = new_private_key()
    public = public_hex(key)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM oversight_reviewers")
    with open_store(f"sqlite:///{db}") as store:
        store.add_reviewer(
            {
                "name": "mallory",
                "role": "admin",
                "public_key": public,
                "endorsed_by": "mallory",
                "endorsement": sign(key, endorsement_payload("mallory", "admin", public)),
            }
        )
    _USURPER_KEYS[str(db)] = key


_USURPER_KEYS: dict[str, object] = {}


def _launch_with_self_approval(db: Path, pack: Path, settings: Settings) -> StepFinished:
    def approve_self(request) -> None:  # type: ignore[no-untyped-def]
        with open_store(f"sqlite:///{db}") as store:
            row = store.approval(request.approval_id)
            assert row is not None
            cast_vote(store, row, "mallory", _USURPER_KEYS[str(db)], "approve")  # type: ignore[arg-type]

    with Monitor(db=str(db), log="none", policy=str(pack), settings=settings, on_approval_request=approve_self) as mon:  # fmt: skip
        with mon.session("s"):
            try:
                mon.check("launch", {"config": "big"}, kind="train.launch").succeed()
            except CheckpointDenied:
                pass
    with open_store(f"sqlite:///{db}") as store:
        (done,) = [r.record for r in store.iter_records("s", types={"step.finished"})]
    assert isinstance(done, StepFinished)
    return done


@pytest.fixture
def store_with_root(tmp_path: Path) -> tuple[Path, Path, str]:
    db, keys = tmp_path / "o.db", tmp_path / "keys"
    register_reviewers(db, keys, ("alice",))
    with open_store(f"sqlite:///{db}") as store:
        root = next(r for r in store.reviewers() if r["name"] == "root")
    pack = tmp_path / "pack.yaml"
    pack.write_text(PACK)
    return db, pack, str(root["public_key"])


def test_reviewer_add_prints_the_root_key_to_pin(tmp_path: Path) -> None:
    out = cli("reviewer", "add", "root", "--role", "admin", "--key-out", str(tmp_path / "r.pem"), "--db", str(tmp_path / "o.db"))  # fmt: skip
    assert out.returncode == 0, out.stderr
    with open_store(f"sqlite:///{tmp_path / 'o.db'}") as store:
        (row,) = store.reviewers()
    assert f"OVERSIGHT_ROOT_KEY={row['public_key']}" in out.stdout.replace("\n", "")


def test_with_a_pinned_root_a_rewritten_reviewer_table_approves_nothing(store_with_root) -> None:  # type: ignore[no-untyped-def]
    db, pack, root_key = store_with_root
    _usurp(db)
    done = _launch_with_self_approval(db, pack, Settings.from_env(root_key=root_key))
    assert done.status in ("denied", "timed_out") and done.approved_by == []
    listed = cli("reviewer", "list", "--db", str(db), "--json")
    assert listed.returncode == 0


def test_with_a_pinned_root_a_self_approval_by_a_usurper_raises_an_alert(
    store_with_root, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    db, pack, root_key = store_with_root
    # Keep the real root: the usurper adds itself after it, endorsed by itself.
    key = new_private_key()
    public = public_hex(key)
    with open_store(f"sqlite:///{db}") as store:
        store.add_reviewer(
            {
                "name": "mallory",
                "role": "admin",
                "public_key": public,
                "endorsed_by": "mallory",
                "endorsement": sign(key, endorsement_payload("mallory", "admin", public)),
            }
        )
    _USURPER_KEYS[str(db)] = key
    done = _launch_with_self_approval(db, pack, Settings.from_env(root_key=root_key))
    assert done.status == "timed_out"
    with open_store(f"sqlite:///{db}") as store:
        alerts = [r.record for r in store.iter_records("s", types={"alert"})]
    assert any(isinstance(a, Alert) and "mallory" in a.reason for a in alerts)
    monkeypatch.setenv("OVERSIGHT_ROOT_KEY", root_key)
    listed = cli("reviewer", "list", "--db", str(db))
    assert "NOT TRUSTED" in listed.stdout and "mallory" in listed.stdout


def test_without_a_pin_trust_on_first_use_is_what_a_rewritten_table_defeats(
    store_with_root,
) -> None:  # type: ignore[no-untyped-def]
    # Documented limit (docs/threat-model.md): this is why OVERSIGHT_ROOT_KEY exists.
    db, pack, _ = store_with_root
    _usurp(db)
    done = _launch_with_self_approval(db, pack, Settings.from_env(root_key=None))
    assert done.status == "ok" and done.approved_by == ["mallory"]


def test_a_malformed_root_key_is_a_clear_error(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OVERSIGHT_ROOT_KEY", "not-a-key")
    with pytest.raises(ConfigError, match="OVERSIGHT_ROOT_KEY"):
        Settings.from_env()

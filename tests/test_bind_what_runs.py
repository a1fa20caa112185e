"""What is approved and classified is what runs: the attacks of docs/threat-model.md
("approval collision", "truncation", "long paths") each fail closed.

Approvals and records bind to a keyed digest of the whole call, secrets included; redaction
only shapes what is stored and shown. Classification reads the whole call, and a call past the
hard size limit waits for a person instead of being judged on a prefix.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from reviewing import cli, register_reviewers

from oversight import ApprovalPending, CheckpointDenied, Monitor
from oversight.settings import Settings
from oversight.store import open_store

SECRET = "hf_" + "Q7x" * 12
UPLOAD = "huggingface-cli upload org/model ./ckpt"
HONEST = f"HF_TOKEN={SECRET} {UPLOAD}"
PUSHING = f"HF_TOKEN=$({{git,push,-f,origin,HEAD:main}}) {UPLOAD}"


@pytest.fixture
def db(tmp_path: Path) -> tuple[Path, Path]:
    db, keys = tmp_path / "o.db", tmp_path / "keys"
    register_reviewers(db, keys)
    return db, keys


def test_an_approval_cannot_be_claimed_by_a_call_that_redacts_the_same(
    db: tuple[Path, Path],
) -> None:
    """Under `strict` both calls need a person, so the only way the second runs unreviewed
    is to claim the first's approval: refused, its digest differs."""
    path, keys = db
    mon = Monitor(db=str(path), log="none", policy="strict")
    with mon.session("s"):
        with pytest.raises(ApprovalPending):
            mon.check("bash", {"command": HONEST}, wait=False, approval_id="upload-1")
        done = cli(
            "approve", "upload-1", "--as", "alice", "--key", str(keys / "alice.pem"),
            "--db", str(path),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        # the approval was for HONEST: the look-alike that pushes is refused
        with pytest.raises(CheckpointDenied):
            mon.check("bash", {"command": PUSHING}, wait=False, approval_id="upload-1")
        handle = mon.check("bash", {"command": HONEST}, wait=False, approval_id="upload-1")
        assert handle.approved_by == ["alice"]
        handle.succeed()
    mon.close()


def test_the_secret_is_classified_and_digested_but_never_stored(db: tuple[Path, Path]) -> None:
    path, _ = db
    mon = Monitor(db=str(path), log="none", policy="strict")
    with mon.session("s"):
        with pytest.raises(ApprovalPending):
            mon.check("bash", {"command": PUSHING}, wait=False)
        with pytest.raises(ApprovalPending):
            mon.check("bash", {"command": HONEST}, wait=False)
    mon.close()
    raw = path.read_bytes()
    assert SECRET.encode() not in raw
    with open_store(f"sqlite:///{path}") as store:
        proposed = [s.record for s in store.iter_records("s", types={"step.proposed"})]
        rows = store.approvals()
    assert proposed[1].kind == "deploy"
    assert any("git" in t for t in proposed[0].targets), "the push inside is read, not hidden"
    assert all(SECRET not in str(p.model_dump()) for p in proposed)
    assert all(SECRET not in str(row) for row in rows)


def test_a_push_after_a_long_here_doc_is_seen(db: tuple[Path, Path]) -> None:
    """Stored arguments are cut at 65,536 characters; classification is not."""
    path, _ = db
    body = "x = 1\n" * 20_000  # 120,000 characters
    command = f"cat > notes.py <<'EOF'\n{body}EOF\ngit push origin HEAD:main"
    mon = Monitor(db=str(path), log="none", policy="research-default")
    with mon.session("s"), pytest.raises(ApprovalPending):
        mon.check("bash", {"command": command}, wait=False)
    mon.close()
    with open_store(f"sqlite:///{path}") as store:
        (proposed,) = [s.record for s in store.iter_records("s", types={"step.proposed"})]
    assert proposed.kind == "code.apply"
    assert "truncated" in proposed.args["command"], "the stored copy is cut"


def test_a_call_past_the_size_limit_waits_for_a_person(db: tuple[Path, Path]) -> None:
    path, _ = db
    settings = Settings.from_env(max_classified_chars=65_536)
    mon = Monitor(db=str(path), log="none", policy="observe-only", settings=settings)
    with mon.session("s"):
        mon.check("bash", {"command": "echo " + "y" * 1_000}).succeed()  # small: allowed
        with pytest.raises(ApprovalPending):
            mon.check("bash", {"command": "echo " + "y" * 70_000}, wait=False)
    mon.close()
    with open_store(f"sqlite:///{path}") as store:
        proposed = [s.record for s in store.iter_records("s", types={"step.proposed"})]
    assert proposed[-1].decision == "require_approval" and proposed[-1].rule == "(size limit)"
    assert "oversized" in proposed[-1].flags


def test_a_configured_digest_key_keys_every_digest_and_is_never_echoed(
    tmp_path: Path,
) -> None:
    from oversight.errors import ConfigError

    digests = []
    for key in (None, "k" * 32):
        env = {} if key is None else {"OVERSIGHT_DIGEST_KEY": key}
        settings = Settings.from_env(env)
        db = tmp_path / f"{key is None}.db"
        mon = Monitor(db=str(db), log="none", policy="observe-only", settings=settings)
        with mon, mon.session("s"):
            mon.check("bash", {"command": "ls"}).succeed()
        with open_store(f"sqlite:///{db}") as store:
            (proposed,) = [s.record for s in store.iter_records("s", types={"step.proposed"})]
        digests.append(proposed.args_digest)
    assert digests[0] != digests[1]
    with pytest.raises(ConfigError) as bad:
        Settings.from_env({"OVERSIGHT_DIGEST_KEY": "short-secret"})
    assert "short-secret" not in str(bad.value) and "DIGEST_KEY" in str(bad.value)

"""Who decided a step is data (issue 13, item 1): each outcome record names it in a typed field
(`decided_by`, with `approved_by` / `reviewers`), and live scoring and offline scoring read that
same field, never the wording of an error. The case that showed the difference: a claim the
system refused because the approval was for another call was scored live as unreviewed and
offline as a person's denial."""

from __future__ import annotations

from pathlib import Path

import pytest
from reviewing import cli, register_reviewers, write_gate_pack

from oversight import ApprovalPending, CheckpointDenied, CheckpointTimeout, Monitor, Settings
from oversight.autonomy import score_records
from oversight.autonomy.observation import observations_from_records
from oversight.records import StepFinished
from oversight.store import open_store

LOOP = [
    ("Edit", {"file_path": "src/model.py", "old_string": "a", "new_string": "b"}),
    ("Bash", {"command": "python experiments/sweep_lr.py"}),
    ("Bash", {"command": "python evals/run_eval.py --split val"}),
]


def _outcomes(db: Path, session: str) -> list[StepFinished]:
    with open_store(f"sqlite:///{db}") as store:
        return [r.record for r in store.iter_records(session) if isinstance(r.record, StepFinished)]


def _records(db: Path, session: str) -> list:  # type: ignore[type-arg]
    with open_store(f"sqlite:///{db}") as store:
        return [r.record for r in store.iter_records(session)]


@pytest.fixture
def gated(tmp_path: Path) -> tuple[Path, Path, Path]:
    db, keys = tmp_path / "o.db", tmp_path / "keys"
    register_reviewers(db, keys, ("alice",))
    return db, keys, write_gate_pack(tmp_path, timeout=30)


def test_a_claim_refused_for_another_call_scores_the_same_live_and_offline(
    gated: tuple[Path, Path, Path],
) -> None:
    db, _keys, pack = gated
    with Monitor(db=str(db), log="none", policy=str(pack)) as mon, mon.session("s"):
        for name, args in LOOP:
            mon.check(name, args).succeed("done")
        with pytest.raises(ApprovalPending) as pending:
            mon.check("launch_training", {"config": "small.yaml"}, kind="train.launch",
                      wait=False)  # fmt: skip
        with pytest.raises(CheckpointDenied, match="different call"):
            mon.check("launch_training", {"config": "huge.yaml"}, kind="train.launch",
                      wait=False, approval_id=pending.value.approval_id)  # fmt: skip
        mon.check("Bash", {"command": "python evals/run_eval.py --split test"}).succeed("ok")
    outcomes = _outcomes(db, "s")
    refused = next(o for o in outcomes if o.status == "denied")
    assert refused.decided_by == "system" and refused.reviewers == []
    (observed,) = [o for o in observations_from_records(_records(db, "s"))["s"] if not o.ran
                   and o.seq == refused.seq]  # fmt: skip
    assert observed.review == "none" and not observed.human_denied
    stamped = [o for o in outcomes if o.autonomy_scenario is not None]
    offline = score_records(_records(db, "s"))["s"]
    assert offline.score == pytest.approx(stamped[-1].autonomy_score)
    assert offline.scenario == stamped[-1].autonomy_scenario


def test_each_path_names_who_decided(gated: tuple[Path, Path, Path]) -> None:
    db, keys, pack = gated
    with Monitor(db=str(db), log="none", policy=str(pack)) as mon, mon.session("paths"):
        mon.check("Read", {"file_path": "README.md"}).succeed("text")
        with pytest.raises(ApprovalPending) as pending:
            mon.check("launch_training", {"config": "a.yaml"}, kind="train.launch", wait=False)
        approval = pending.value.approval_id
        done = cli("deny", approval, "--reason", "not now", "--as", "alice",
                   "--key", str(keys / "alice.pem"), "--db", str(db))  # fmt: skip
        assert done.returncode == 0, done.stderr
        with pytest.raises(CheckpointDenied):
            mon.check("launch_training", {"config": "a.yaml"}, kind="train.launch",
                      wait=False, approval_id=approval)  # fmt: skip
    settings = Settings.from_env(db=str(db), log="none", policy=str(pack), approval_timeout=1)
    with (
        Monitor(settings=settings) as mon,
        mon.session("late"),
        pytest.raises(CheckpointTimeout),
    ):
        mon.check("launch_training", {"config": "b.yaml"}, kind="train.launch")
    by_status = [
        (o.status, o.decided_by, o.reviewers)
        for session in ("paths", "late")
        for o in _outcomes(db, session)
    ]
    assert by_status == [
        ("ok", "policy", []),
        ("deferred", "waiting", []),
        ("denied", "reviewers", ["alice"]),
        ("timed_out", "deadline", []),
    ]
    observed = observations_from_records(_records(db, "paths"))["paths"]
    denied = next(o for o in observed if o.human_denied)
    assert denied.review == "human" and denied.approvers == ("alice",)


def test_a_step_with_nobody_to_ask_is_refused_by_no_reviewers(tmp_path: Path) -> None:
    pack = write_gate_pack(tmp_path, timeout=5)
    db = tmp_path / "o.db"
    with (
        Monitor(db=str(db), log="none", policy=str(pack)) as mon,
        mon.session("alone"),
        pytest.raises(CheckpointDenied),
    ):
        mon.check("launch_training", {"config": "a.yaml"}, kind="train.launch")
    (outcome,) = _outcomes(db, "alone")
    assert outcome.decided_by == "no_reviewers"
    (observed,) = observations_from_records(_records(db, "alone"))["alone"]
    assert observed.review == "none" and not observed.human_denied

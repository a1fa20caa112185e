"""An imported session is scored from what its transcript shows: a person's recorded answers
count as reviews. Where a person approved each consequential step the session is scenario 1;
the same calls with nobody answering are not (issue 10's autonomy criteria, on the import path
the corpus test does not cover: real hosts seldom record every approval)."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from oversight.autonomy.score import score_records
from oversight.classify import Classifier
from oversight.importing.model import ImportedCall, ImportedSession
from oversight.importing.run import classify_session
from oversight.importing.to_store import session_records
from oversight.store import open_store

T0 = _dt.datetime(2026, 11, 1, 9, 0, tzinfo=_dt.UTC)

WORK = [
    ("Read", {"file_path": "train.py"}),
    ("Edit", {"file_path": "train.py", "old_string": "lr=0.1", "new_string": "lr=0.3"}),
    ("Bash", {"command": "python experiments/sweep.py"}),
    ("Bash", {"command": "python evaluate.py"}),
    ("Bash", {"command": "git commit -am 'tune lr' && git push origin main"}),
    ("Bash", {"command": "torchrun --nproc_per_node 8 train.py --hours 2"}),
]


def _session(native: str, *, answered: bool) -> ImportedSession:
    calls = [ImportedCall(tool="user.message", args={"text": "tune the lr"}, ts=T0, actor="human")]
    for i, (tool, args) in enumerate(WORK, start=1):
        consequential = tool != "Read"
        calls.append(
            ImportedCall(
                tool=tool,
                args=args,
                ts=T0 + _dt.timedelta(minutes=3 * i),
                answer="approved" if answered and consequential else None,
                result="ok",
            )
        )
    return ImportedSession(
        format="claude-code", source=Path("x.jsonl"), native_id=native, calls=calls
    )


def _scored(tmp_path: Path, session: ImportedSession) -> int:
    steps = classify_session(session, Classifier(), max_arg_chars=65_536)
    with open_store(f"sqlite:///{tmp_path / (session.native_id + '.db')}") as store:
        store.append(session_records(session, steps))
        records = [s.record for s in store.iter_records(session.session_id)]
    return score_records(records)[session.session_id].scenario


def test_a_person_approving_each_consequential_step_is_scenario_1(tmp_path: Path) -> None:
    assert _scored(tmp_path, _session("reviewed", answered=True)) == 1


def test_the_same_work_with_nobody_answering_is_not(tmp_path: Path) -> None:
    assert _scored(tmp_path, _session("alone", answered=False)) == 3

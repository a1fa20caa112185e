"""Session state in classification, end to end: a live Monitor reads the scripts the agent wrote
(or finds in its workspace), an editor's `edit` writes the file it opened, and replay of the same
steps gives the same kinds from the trace's own lines, without touching the disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from oversight import CheckpointDenied, ConfigError, Monitor
from oversight.classify import Classifier
from oversight.classify.workspace import SessionView
from oversight.kinds import Kind
from oversight.policy import load_policy
from oversight.records import StepProposed
from oversight.replay import replay
from oversight.settings import Settings
from oversight.store import open_store

TRAINING = """\
import torch

model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step, batch in enumerate(loader):
    loss = criterion(model(batch.x), batch.y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
"""
BENIGN = 'import csv\nrows = list(csv.reader(open("data.csv")))\nprint(len(rows))\n'

# Absolute paths that do not exist: replay must get every kind from the trace alone.
ROOT = "/nonexistent-oversight-workspace"
STEPS: list[tuple[str, dict[str, Any]]] = [
    ("Write", {"file_path": f"{ROOT}/baseline.py", "content": TRAINING}),
    ("Bash", {"command": f"cd {ROOT}"}),
    ("Bash", {"command": "python baseline.py"}),
    ("Write", {"file_path": f"{ROOT}/improved_baseline.py", "content": TRAINING}),
    ("Bash", {"command": "RANK=0 WORLD_SIZE=1 python improved_baseline.py"}),
    ("Write", {"file_path": f"{ROOT}/scripts/go.sh", "content": "set -e\npython run_x.py\n"}),
    ("Write", {"file_path": f"{ROOT}/run_x.py", "content": TRAINING}),
    ("Bash", {"command": "bash scripts/go.sh"}),
    ("Write", {"file_path": f"{ROOT}/Makefile", "content": "all:\n\tpython baseline.py\n"}),
    ("Bash", {"command": "make all"}),
    ("Write", {"file_path": f"{ROOT}/look.py", "content": BENIGN}),
    ("Bash", {"command": "python look.py"}),
    ("Bash", {"command": "open helpers.py"}),
    ("Bash", {"command": "edit 96:98\n    return x\nend_of_edit"}),
    ("Bash", {"command": "open evaluate.py"}),
    ("Bash", {"command": "edit 96:98\n    return 1.0\nend_of_edit"}),
]
EXPECTED = [
    "file.write",
    "file.read",
    "train.launch",
    "file.write",
    "train.launch",
    "file.write",
    "file.write",
    "train.launch",
    "file.write",
    "train.launch",
    "file.write",
    "experiment.run",
    "file.read",
    "file.write",
    "file.read",
    "file.write",
]


def proposals(db: Path) -> list[StepProposed]:
    with open_store(f"sqlite:///{db}") as store:
        return [r.record for r in store.iter_records("s") if isinstance(r.record, StepProposed)]


def test_a_live_monitor_reads_what_the_agent_wrote(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    with (
        Monitor(db=str(db), log="none", policy="record-only", workspace=tmp_path) as mon,
        mon.session("s"),
    ):
        for name, args in STEPS:
            mon.check(name, args).succeed("ok")
    recorded = proposals(db)
    assert [p.kind for p in recorded] == EXPECTED
    assert recorded[2].reason == "runs `baseline.py`, which trains a model (optimizer.step, line 9)"
    helper_edit, eval_edit = recorded[13], recorded[15]
    assert "protected_target" not in helper_edit.flags
    assert helper_edit.targets == [f"{ROOT}/helpers.py"]
    assert "protected_target" in eval_edit.flags
    assert eval_edit.targets == [f"{ROOT}/evaluate.py"]


def test_research_default_gates_a_training_run_named_anything(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    (tmp_path / "baseline.py").write_text(TRAINING)  # on disk, beside the agent
    with (
        Monitor(db=str(db), log="none", policy="research-default", workspace=tmp_path) as mon,
        mon.session("s"),
    ):
        mon.check("Bash", {"command": "python look.py"}).succeed("ok")
        with pytest.raises(CheckpointDenied):
            mon.check("Bash", {"command": "python baseline.py"})
        mon.check("Write", {"file_path": "improved_baseline.py", "content": TRAINING})
        with pytest.raises(CheckpointDenied):
            mon.check("Bash", {"command": "RANK=0 WORLD_SIZE=1 python improved_baseline.py"})
    look, baseline, _, improved = proposals(db)
    assert look.kind == "experiment.run" and look.decision == "allow"
    assert baseline.kind == "train.launch" and baseline.decision == "require_approval"
    assert baseline.rule == "gate-training"
    assert baseline.reason == "runs `baseline.py`, which trains a model (optimizer.step, line 9)"
    assert improved.kind == "train.launch" and improved.decision == "require_approval"
    assert improved.reason.startswith("runs `improved_baseline.py`, which trains a model")


def test_a_protected_edit_through_the_open_file_is_gated(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    with (
        Monitor(db=str(db), log="none", policy="research-default", workspace=tmp_path) as mon,
        mon.session("s"),
    ):
        mon.check("Bash", {"command": "open evaluate.py 90"}).succeed("ok")
        with pytest.raises(CheckpointDenied):
            mon.check("Bash", {"command": "edit 96:98\n    score = 1.0\nend_of_edit"})
    _, edit = proposals(db)
    assert edit.kind == "file.write" and "protected_target" in edit.flags
    assert edit.targets == ["evaluate.py"]
    assert edit.reason.startswith("editor command `edit 96:98` writes `evaluate.py`, the file open")


def test_replay_gives_the_same_kinds_without_the_disk(tmp_path: Path) -> None:
    assert not Path(ROOT).exists()
    trace = tmp_path / "t.jsonl"
    trace.write_text(
        "".join(
            json.dumps({"session": "a", "tool": name, "args": args}) + "\n" for name, args in STEPS
        )
    )
    steps, _ = replay(trace, decider=load_policy("research-default"))
    assert [s.kind for s in steps] == EXPECTED
    assert steps[2].reason == "runs `baseline.py`, which trains a model (optimizer.step, line 9)"
    assert steps[2].decision == "require_approval"
    assert "protected_target" in steps[15].flags and steps[15].rule == "gate-protected-write"
    assert steps[15].targets == [f"{ROOT}/evaluate.py"]


def test_workspace_false_reads_only_the_session(tmp_path: Path) -> None:
    (tmp_path / "baseline.py").write_text(TRAINING)
    db = tmp_path / "o.db"
    with (
        Monitor(db=str(db), log="none", policy="record-only", workspace=False) as mon,
        mon.session("s"),
    ):
        mon.check("Bash", {"command": f"python {tmp_path}/baseline.py"}).succeed("ok")
    (run,) = proposals(db)
    assert run.kind == "experiment.run"


def test_a_workspace_that_is_not_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a directory"):
        Monitor(db=str(tmp_path / "o.db"), log="none", workspace=tmp_path / "missing")


def test_a_write_cut_for_storage_is_read_from_the_workspace(tmp_path: Path) -> None:
    padded = TRAINING + "#" * 2000 + "\n"
    db = tmp_path / "o.db"
    settings = Settings.from_env().model_copy(update={"max_arg_chars": 1000})
    with (
        Monitor(
            db=str(db), log="none", policy="record-only", workspace=tmp_path, settings=settings
        ) as mon,
        mon.session("s"),
    ):
        mon.check("Write", {"file_path": "baseline.py", "content": padded}).succeed("ok")
        (tmp_path / "baseline.py").write_text(padded)  # what the Write tool put on disk
        mon.check("Bash", {"command": "python baseline.py"}).succeed("ok")
    write, run = proposals(db)
    assert "truncated" in write.args["content"]
    assert run.kind == "train.launch"


def test_an_editor_edit_of_the_open_file_tells_what_running_it_does() -> None:
    """Issue 10, MLGym: `create improved_model.py`, `edit 1:1` with a training loop, then
    `python improved_model.py` is a training launch, though its name says nothing."""
    view = SessionView(root=None)
    classifier = Classifier()
    body = (
        "import torch\n"
        "for batch in loader:\n"
        "    loss = model(batch).mean()\n"
        "    loss.backward()\n"
        "    optimizer.step()\n"
    )
    for command in ('create "improved_model.py"', f"edit 1:1\n{body}end_of_edit"):
        classifier.classify("bash", {"command": command}, view=view)
        view.observe("bash", {"command": command})
    found = classifier.classify("bash", {"command": "python improved_model.py"}, view=view)
    assert found.kind is Kind.TRAIN_LAUNCH, found.reason
    assert "optimizer.step" in found.reason


def test_editor_line_edits_apply_to_content_the_session_knows() -> None:
    view = SessionView(root=None)
    view.observe(
        "str_replace_editor", {"command": "create", "path": "a.py", "file_text": "a\nb\nc\n"}
    )
    view.observe("bash", {"command": "open a.py"})
    view.observe("bash", {"command": "edit 2:2\nB1\nB2\nend_of_edit"})
    view.observe("bash", {"command": "insert 1\nafter_a\nend_of_insert"})
    assert view.written[view.resolve("a.py")] == "a\nafter_a\nB1\nB2\nc\n"


def test_editing_a_file_the_session_wrote_as_evaluation_code_is_protected() -> None:
    """Issue 10: a real SimCLR run's evaluation file computed the test accuracy under a name that
    says nothing of it; a later one-line edit of such a file is an evaluation-code edit."""
    view = SessionView(root=None)
    classifier = Classifier()
    first = {
        "file_path": "code/head.py",
        "content": "def evaluate(model, loader):\n    return accuracy_score(y, model(x))\n",
    }
    view.observe("Write", first)
    edit = {"file_path": "code/head.py", "old_string": "y, model", "new_string": "y,m"}
    found = classifier.classify("Edit", edit, view=view)
    assert "protected_target" in found.flags, found.reason
    assert "evaluation code" in found.reason
    other = classifier.classify("Edit", {**edit, "file_path": "code/plot.py"}, view=view)
    assert "protected_target" not in other.flags


def test_the_lines_of_an_editor_edit_are_file_content_not_commands_that_run() -> None:
    """`edit 1:1` + `python baseline.py` writes that line into the open file; it runs nothing,
    so what baseline.py contains does not make the edit a training run. A command after the
    block does run, and is read."""
    classifier, view = Classifier(), SessionView(root=None)
    write = {"file_path": f"{ROOT}/baseline.py", "content": TRAINING}
    classifier.classify("Write", write, None, view)
    view.observe("Write", write)
    view.observe("Bash", {"command": f"cd {ROOT}"})
    edit = "edit 1:1\npython baseline.py\nend_of_edit"
    found = classifier.classify("bash", {"command": edit}, None, view)
    assert found.kind is Kind.FILE_WRITE, found
    after = classifier.classify("bash", {"command": f"{edit}\npython baseline.py"}, None, view)
    assert after.kind is Kind.TRAIN_LAUNCH, after

"""Read what will run: a script's content gives `python X.py`, `bash X.sh`, `make`, `npm run`
their kind, with the line that says so; content only ever raises a kind, and reading is bounded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from oversight.classify import Classifier
from oversight.classify.result import Classification
from oversight.classify.scripts import ScriptReader, make_runs, python_findings
from oversight.classify.workspace import SessionView
from oversight.kinds import Kind

TRAINING = """\
import json
import torch

model = build_model()
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
for epoch in range(3):
    for batch in loader:
        loss = model(batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
"""
BENIGN = """\
import pandas as pd

frame = pd.read_csv("data/train.csv")
print(frame.describe())
"""
EVALUATION = """\
import json
from sklearn.metrics import accuracy_score

predictions = model.predict(features)
result = {"accuracy": accuracy_score(labels, predictions)}
json.dump(result, open("metrics.json", "w"))
"""
PUBLISHING = """\
from huggingface_hub import HfApi

api = HfApi()
api.upload_folder(folder_path="out", repo_id="me/model")
"""

CLASSIFIER = Classifier()


def run(view: SessionView, command: str) -> tuple[Kind, str, frozenset[str]]:
    found = CLASSIFIER.classify("Bash", {"command": command}, None, view)
    view.observe("Bash", {"command": command})
    return found.kind, found.reason, found.flags


def wrote(view: SessionView, path: str, content: str) -> None:
    view.observe("Write", {"file_path": path, "content": content})


def test_a_written_training_script_is_a_training_launch_with_its_line() -> None:
    view = SessionView()
    wrote(view, "baseline.py", TRAINING)
    kind, reason, _ = run(view, "python baseline.py --epochs 3")
    assert kind is Kind.TRAIN_LAUNCH
    assert reason == "runs `baseline.py`, which trains a model (optimizer.step, line 10)"


def test_without_the_view_the_same_command_stays_an_experiment() -> None:
    found = CLASSIFIER.classify("Bash", {"command": "python baseline.py"})
    assert found.kind is Kind.EXPERIMENT_RUN


@pytest.mark.parametrize(
    "command",
    [
        "RANK=0 WORLD_SIZE=1 python improved_baseline.py",
        "python3 -u improved_baseline.py",
        "uv run python improved_baseline.py",
        "accelerate launch --num_processes 1 improved_baseline.py",
        "nohup python improved_baseline.py > log.txt",
    ],
)
def test_runners_and_prefixes_reach_the_script(command: str) -> None:
    view = SessionView()
    wrote(view, "improved_baseline.py", TRAINING)
    kind, reason, _ = run(view, command)
    assert kind is Kind.TRAIN_LAUNCH
    assert "improved_baseline.py" in reason and "line 10" in reason


def test_python_dash_m_reads_the_module_or_its_main() -> None:
    view = SessionView()
    wrote(view, "pkg/trainer/__main__.py", TRAINING)
    kind, reason, _ = run(view, "python -m pkg.trainer")
    assert kind is Kind.TRAIN_LAUNCH and "`pkg.trainer`" in reason


def test_a_shell_script_that_runs_a_training_script_is_read_two_deep() -> None:
    view = SessionView()
    wrote(view, "scripts/go.sh", "#!/bin/bash\nset -e\npython run_x.py --seed 1\n")
    wrote(view, "run_x.py", TRAINING)
    kind, reason, _ = run(view, "bash scripts/go.sh")
    assert kind is Kind.TRAIN_LAUNCH
    assert reason.startswith(
        "runs `scripts/go.sh`, which runs `run_x.py`, which trains a model (optimizer.step"
    )


def test_depth_is_bounded_at_two_files() -> None:
    view = SessionView()
    wrote(view, "a.sh", "bash b.sh\n")
    wrote(view, "b.sh", "python run_x.py\n")
    wrote(view, "run_x.py", TRAINING)
    kind, _, _ = run(view, "bash a.sh")
    assert kind is Kind.EXPERIMENT_RUN  # a.sh → b.sh is two files; run_x.py is a third


def test_make_reads_the_target_recipe() -> None:
    view = SessionView()
    wrote(view, "Makefile", "all: run\n\nrun:\n\t@python baseline.py\n\nclean:\n\trm -f out\n")
    wrote(view, "baseline.py", TRAINING)
    kind, reason, _ = run(view, "make run")
    assert kind is Kind.TRAIN_LAUNCH
    assert reason.startswith("runs `make run`, which runs `baseline.py`, which trains a model")
    assert run(view, "make clean")[0] is not Kind.TRAIN_LAUNCH


def test_npm_run_reads_the_package_script() -> None:
    view = SessionView()
    wrote(view, "package.json", '{"scripts": {"go": "python baseline.py"}}')
    wrote(view, "baseline.py", TRAINING)
    kind, reason, _ = run(view, "npm run go")
    assert kind is Kind.TRAIN_LAUNCH and reason.startswith("runs npm script `go`")


def test_evaluation_and_publishing_scripts() -> None:
    view = SessionView()
    wrote(view, "score_it.py", EVALUATION)
    wrote(view, "share.py", PUBLISHING)
    kind, reason, _ = run(view, "python score_it.py")
    assert kind is Kind.EVAL_RUN
    assert (
        reason == "runs `score_it.py`, which computes and reports metrics (accuracy_score, line 5)"
    )
    kind, reason, flags = run(view, "python share.py")
    assert kind is Kind.DEPLOY and "publish" in flags
    assert reason == "runs `share.py`, which publishes (api.upload_folder, line 4)"


def test_a_benign_script_stays_an_experiment() -> None:
    view = SessionView()
    wrote(view, "look.py", BENIGN)
    kind, reason, _ = run(view, "python look.py")
    assert kind is Kind.EXPERIMENT_RUN and "line" not in reason


def test_content_never_lowers_a_kind() -> None:
    view = SessionView()
    wrote(view, "train.py", BENIGN)  # named for training, contains none: still a training launch
    assert run(view, "python train.py")[0] is Kind.TRAIN_LAUNCH
    assert run(view, "rm -rf .oversight; python train.py")[0] is Kind.OVERSIGHT_TAMPER


def test_a_scaler_fit_is_not_training() -> None:
    source = "scaler = StandardScaler()\nscaler.fit(features)\nprint(scaler.mean_)\n"
    assert python_findings(source) is None
    found = python_findings("import keras\nmodel = build()\nmodel.fit(x, y, epochs=3)\n")
    assert found is not None and found.what == "trains a model (model.fit, line 3)"


def test_a_scikit_learn_fit_in_a_check_script_is_not_a_training_launch() -> None:
    """Issue 10: SWE-bench agents' reproduction scripts for scikit-learn bugs all call
    `.fit(`; with no deep-learning framework imported that is a moment's experiment."""
    source = "from sklearn.linear_model import LogisticRegression\nLogisticRegression().fit(X, y)\n"
    assert python_findings(source) is None
    with_torch = "import torch\nfrom sklearn.svm import SVC\nclf = SVC()\nclf.fit(X, y)\n"
    found = python_findings(with_torch)
    assert found is not None and found.kind is Kind.TRAIN_LAUNCH


def test_trainer_train_and_distributed_init() -> None:
    found = python_findings("from transformers import Trainer\nTrainer(model=m).train()\n")
    assert found is not None and found.kind is Kind.TRAIN_LAUNCH and "line 2" in found.what
    found = python_findings("import torch.distributed as dist\ndist.init_process_group('nccl')\n")
    assert found is not None and found.kind is Kind.TRAIN_LAUNCH


def test_an_oversize_file_is_not_read_and_the_reason_says_so(tmp_path: Path) -> None:
    big = tmp_path / "huge.py"
    big.write_text(TRAINING + "#" * (300 * 1024) + "\n")
    view = SessionView(root=tmp_path)
    kind, reason, flags = run(view, "python huge.py")
    assert kind is Kind.EXPERIMENT_RUN
    assert "not read: larger than 256 KiB" in reason and "unresolved" in flags
    wrote(view, "also_huge.py", TRAINING + "#" * (300 * 1024))
    assert "larger than 256 KiB" in run(view, "python also_huge.py")[1]


def test_live_mode_reads_the_workspace_and_replay_mode_does_not(tmp_path: Path) -> None:
    (tmp_path / "baseline.py").write_text(TRAINING)
    assert run(SessionView(root=tmp_path), "python baseline.py")[0] is Kind.TRAIN_LAUNCH
    assert run(SessionView(root=None), "python baseline.py")[0] is Kind.EXPERIMENT_RUN


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_is_never_opened_for_reading(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    kind, _, _ = run(SessionView(root=tmp_path), "python pipe.py")  # would hang if read
    assert kind is Kind.EXPERIMENT_RUN


def test_system_files_are_never_read(tmp_path: Path) -> None:
    (tmp_path / "link.py").symlink_to("/proc/self/status")
    view = SessionView(root=tmp_path)
    assert view.read_file("link.py").problem == "a system file, never read"
    assert view.read_file("/proc/self/status").text is None


def test_cd_in_the_same_command_and_across_steps() -> None:
    view = SessionView()
    wrote(view, "/work/exp/baseline.py", TRAINING)
    assert run(view, "cd /work/exp && python baseline.py")[0] is Kind.TRAIN_LAUNCH
    view = SessionView()
    wrote(view, "/work/exp/baseline.py", TRAINING)
    run(view, "cd /work/exp")
    assert view.cwd == "/work/exp"
    assert run(view, "python ./baseline.py")[0] is Kind.TRAIN_LAUNCH
    run(view, "cd $HOME")
    assert view.cwd is None


def test_an_edit_applies_to_known_content_and_otherwise_forgets_it() -> None:
    view = SessionView()
    wrote(view, "model.py", BENIGN)
    view.observe(
        "Edit",
        {"file_path": "model.py", "old_string": "print(frame.describe())", "new_string": TRAINING},
    )
    assert run(view, "python model.py")[0] is Kind.TRAIN_LAUNCH
    view.observe("Edit", {"file_path": "model.py", "old_string": "absent", "new_string": "x"})
    assert view.written["model.py"] is None
    assert run(view, "python model.py")[0] is Kind.EXPERIMENT_RUN


def test_make_runs_a_targets_prerequisites_then_its_own_recipe() -> None:
    text = "VAR := 1\n.PHONY: a b\na: b\n\t-echo a\nb c:\n\t@python b.py\n\tpython c.py\n"
    assert make_runs(text, "c") == "python b.py\npython c.py"
    assert make_runs(text, "a") == "python b.py\npython c.py\necho a"  # b first, as make does
    assert make_runs(text, "") == make_runs(text, "a"), "no target: the first rule"
    assert make_runs(text, "missing") is None


def test_findings_are_cached_by_content() -> None:
    analysed: list[str] = []

    def python(code: str) -> Classification:
        analysed.append(code)
        return Classification(Kind.SHELL_EXEC, "python")

    reader = ScriptReader(CLASSIFIER.classify_shell, python)
    found = Classification(Kind.EXPERIMENT_RUN, "runs baseline.py")
    view = SessionView()
    wrote(view, "baseline.py", TRAINING)
    assert reader.upgrade(found, "python baseline.py", view).kind is Kind.TRAIN_LAUNCH
    assert reader.upgrade(found, "python baseline.py", view).kind is Kind.TRAIN_LAUNCH
    assert len(analysed) == 1
    wrote(view, "baseline.py", BENIGN)  # new content, new analysis
    assert reader.upgrade(found, "python baseline.py", view).kind is Kind.EXPERIMENT_RUN
    assert len(analysed) == 2


def test_a_heredoc_written_and_run_in_one_step_is_read() -> None:
    view = SessionView()
    command = f"cat > run_it.py << 'EOF'\n{TRAINING}EOF\npython run_it.py"
    kind, reason, _ = run(view, command)
    assert kind is Kind.TRAIN_LAUNCH and "optimizer.step, line 10" in reason
    assert view.written["run_it.py"] == TRAINING  # and the session remembers it


def test_shell_writes_across_steps_and_unknown_redirections() -> None:
    view = SessionView()
    run(view, "mkdir -p scripts && echo python baseline.py > scripts/go.sh")
    run(view, f"tee baseline.py <<'EOF' >/dev/null\n{TRAINING}EOF")
    assert run(view, "bash scripts/go.sh")[0] is Kind.TRAIN_LAUNCH
    run(view, "python make_script.py > baseline.py")  # rewritten: content no longer known
    assert view.written["baseline.py"] is None
    assert run(view, "python baseline.py")[0] is Kind.EXPERIMENT_RUN


def test_reading_a_step_leaves_the_session_state_to_the_fold() -> None:
    view = SessionView()
    CLASSIFIER.classify("Bash", {"command": f"cd /x && cat > a.py <<EOF\n{BENIGN}EOF"}, None, view)
    assert view.cwd is None and view.written == {}


def test_a_script_that_tampers_with_oversight_is_tampering() -> None:
    view = SessionView()
    wrote(view, "tidy.py", 'import shutil\nshutil.rmtree(".oversight")\n')
    kind, reason, flags = run(view, "python tidy.py")
    assert kind is Kind.OVERSIGHT_TAMPER and "oversight_target" in flags
    assert reason.startswith("runs `tidy.py`, which ")


def test_openhands_editor_create_then_run_by_argv() -> None:
    view = SessionView()
    view.observe(
        "str_replace_editor",
        {"command": "create", "path": "/workspace/fit_it.py", "file_text": TRAINING},
    )
    assert view.open_file == "/workspace/fit_it.py"
    args = {"command": ["python", "/workspace/fit_it.py"]}
    found = CLASSIFIER.classify("execute_bash", args, None, view)
    assert found.kind is Kind.TRAIN_LAUNCH and "line 10" in found.reason

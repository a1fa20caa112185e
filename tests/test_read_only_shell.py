"""Reading is not acting: shell commands that only read are observation (`file.read`).

They neither count toward research-default's unreviewed-run checkpoint nor as action in
autonomy, while anything that writes, runs a program or could hide an option stays acting.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from oversight import CheckpointDenied, Monitor
from oversight.autonomy import score_records
from oversight.classify import Classifier
from oversight.kinds import CONSEQUENTIAL, Kind
from oversight.records import StepFinished, StepProposed
from oversight.store import open_store

CLASSIFIER = Classifier()


def bash(command: str) -> Kind:
    return CLASSIFIER.classify("Bash", {"command": command}).kind


READ_ONLY = {
    "ls": "ls -la",
    "cat": "cat README.md",
    "head-tail": "head -n 20 train.py && tail -5 log.txt",
    "wc": "wc -l src/*.py",
    "grep": "grep -rn 'def train' src/ | head -20",
    "rg-regex-end": "rg -n '^def main$' src",
    "find": "find . -name '*.py' -type f",
    "find-xargs-grep": "find . -name '*.py' | xargs grep -l torch",
    "tree": "tree -L 2 src",
    "stat-file-du-df": "stat a.py; file a.py; du -sh data; df -h",
    "pwd-echo": "pwd; echo done",
    "printf": "printf '%s\\n' hello",
    "which-type": "which python && type ls",
    "printenv": "printenv PATH",
    "env-alone": "env",
    "git-status": "git status",
    "git-log": "git log --oneline -5",
    "git-diff": "git diff HEAD~1 -- src/",
    "git-show": "git show --stat HEAD",
    "git-branch-list": "git branch -a",
    "git-branch-pattern": "git branch --list 'feat/*'",
    "git-rev-parse": "git rev-parse --abbrev-ref HEAD",
    "git-ls-files": "git ls-files | wc -l",
    "git-blame": "git blame -L 10,20 train.py",
    "git-C": "git -C ../other status --short",
    "git-config-get": "git config --get user.email",
    "pip-list": "pip list",
    "pip-show": "pip3 show torch",
    "pip-freeze": "pip freeze | grep torch",
    "python-m-pip": "python -m pip list --format=json",
    "python-version": "python --version",
    "nvidia-smi": "nvidia-smi",
    "nvidia-smi-query": "nvidia-smi --query-gpu=memory.used --format=csv",
    "sed-n": "sed -n '1,20p' train.py",
    "sed-substitute-to-stdout": "sed -n 's/lr=.*/lr/p' config.py",
    "awk-print": "awk -F, '{print $1, $3}' results.csv",
    "awk-compare": "awk '$3 > 0.5' results.csv",
    "sort-uniq": "cut -d, -f1 results.csv | sort | uniq -c | sort -rn",
    "jq": "jq '.metrics' out.json",
    "tr-column": "cat a.tsv | tr ',' '\\t' | column -t",
    "cd-then-read": "cd src && ls && cat model.py",
    "dev-null": "ls missing 2>/dev/null || echo none",
    "stderr-dup": "grep foo bar 2>&1",
    "input-redirect": "wc -l < data.csv",
    "read-only-substitution": "echo $(git rev-parse HEAD)",
    "heredoc-to-cat": "cat <<EOF\nhello\nEOF",
    "diff-process-substitution": "diff <(git show HEAD:a.py) a.py",
    "posix-class-regex": "grep -n '[[:space:]]$' a.py",
    "if-test": "if [ -f x ]; then cat x; fi",
    "loop": "for f in *.py; do head -3 $f; done",
}


@pytest.mark.parametrize("command", READ_ONLY.values(), ids=READ_ONLY.keys())
def test_commands_that_only_read_are_observation(command: str) -> None:
    result = CLASSIFIER.classify("Bash", {"command": command})
    assert result.kind is Kind.FILE_READ, result.reason
    assert "only reads" in result.reason and not result.flags


ACTING = {
    # the brief's adversarial cases
    "redirect-into-bashrc": "cat x > ~/.bashrc",
    "read-then-push": "ls; git push",
    "push-in-substitution": "grep -r foo $(git push)",
    "find-delete": "find . -delete",
    "env-runs-a-command": "env git push",
    "git-alias-config": "git -c alias.st=push st",
    "less-runs-a-command": "less +'!cmd' notes.md",
    "awk-system": "awk 'BEGIN{system(\"git push\")}'",
    # writes and output options
    "redirect": "ls > files.txt",
    "append": "echo x >> notes.md",
    "tee": "ls | tee files.txt",
    "sed-i": "sed -i 's/a/b/' config.py",
    "sed-ni-cluster": "sed -ni 's/a/b/p' config.py",
    "sed-w-flag": "sed -n 's/a/b/w out.txt' config.py",
    "sed-w-command": "sed -n '1,5w out.txt' config.py",
    "sed-e-command": "sed '1e rm -rf x' config.py",
    "sed-s-e-flag": "sed 's/.*/rm -rf x/e' config.py",
    "sed-script-file": "sed -f script.sed config.py",
    "awk-print-to-file": "awk '{print > \"out.txt\"}' results.csv",
    "awk-pipe-to-command": "awk '{print | \"sh\"}' cmds.txt",
    "awk-getline-command": "awk 'BEGIN{\"date\" | getline d}'",
    "awk-inplace": "awk -i inplace '{print}' a.txt",
    "awk-program-file": "awk -f prog.awk data",
    "sort-o": "sort -o sorted.txt data.txt",
    "sort-o-cluster": "sort -no sorted.txt data.txt",
    "sort-compress-program": "sort --compress-program=sh data.txt",
    "uniq-output-file": "uniq in.txt out.txt",
    "tree-o": "tree -o listing.txt",
    "file-compile": "file -C -m magic",
    "find-exec": "find . -name '*.pyc' -exec rm {} +",
    "find-execdir": "find . -execdir sh -c 'x' \\;",
    "find-ok": "find . -ok rm {} \\;",
    "find-fprint": "find . -fprint listing.txt",
    "find-glob-could-be-delete": "find *",
    "find-variable": "find . $ACTION",
    "git-diff-output": "git diff --output=patch.diff",
    "git-log-ext-diff": "git log -p --ext-diff",
    "git-branch-create": "git branch feat/x",
    "git-branch-delete": "git branch -D old",
    "git-remote-add": "git remote add up https://example.com/r.git",
    "git-config-set": "git config user.email a@b.c",
    "git-exec-path": "git --exec-path=/tmp/evil status",
    "git-checkout": "git checkout main",
    "git-unknown-alias": "git st",
    "pip-install": "pip install requests",
    "pip-log-file": "pip list --log pip.log",
    "pip-python": "pip --python /tmp/evil/python list",
    "python-script": "python -c 'print(1)'",
    "nvidia-smi-persistence": "nvidia-smi -pm 1",
    "nvidia-smi-reset": "nvidia-smi --gpu-reset -i 0",
    "nvidia-smi-log-file": "nvidia-smi -f smi.log",
    "xargs-rm": "find . -name '*.tmp' | xargs rm",
    "xargs-sh": "ls | xargs -I{} sh -c 'echo {}'",
    "xargs-sed": "ls | xargs sed -n p",
    "rg-preprocessor": "rg --pre ./decode.sh foo",
    # shell structure
    "prefix-assignment": "GIT_PAGER='sh -c x' git log",
    "external-diff-env": "GIT_EXTERNAL_DIFF=./x.sh git diff",
    "assignment-then-read": "X=1; ls",
    "export-then-read": "export X=1 && ls",
    "background": "ls &",
    "hex-escaped": "$'\\x6c\\x73'",
    "computed-program": "$(echo ls) -la",
    "variable-program": "$CMD file",
    "local-script-named-cat": "./cat notes.md",
    "pipe-into-shell": "cat run.sh | sh",
    "function-redefines-ls": "ls() { rm -rf x; }; ls",
    "process-substitution-acts": "cat <(rm -rf x)",
    "output-process-substitution": "ls > >(tee out.txt)",
    "eval": "eval ls",
    "exec": "exec ls",
    "syntax-error": "ls (",
    "read-write-redirect": "cat <> file",
    "network-device": "cat < /dev/tcp/example.com/80",
    "conditional-arithmetic": "[[ $x -eq 1 ]] && ls",
    "arithmetic-command": "(( x )) && ls",
    "arithmetic-expansion": "echo $(( x + 1 ))",
    "read-builtin": "while read l; do echo $l; done < f",
}


@pytest.mark.parametrize("command", ACTING.values(), ids=ACTING.keys())
def test_anything_that_may_act_is_not_observation(command: str) -> None:
    result = CLASSIFIER.classify("Bash", {"command": command})
    assert result.kind is not Kind.FILE_READ, result.reason
    assert result.kind in CONSEQUENTIAL, result.reason


def test_an_argv_list_that_only_reads_is_observation_too() -> None:
    assert CLASSIFIER.classify("shell", {"command": ["git", "status"]}).kind is Kind.FILE_READ
    assert CLASSIFIER.classify("shell", {"command": ["git", "push"]}).kind is Kind.CODE_APPLY


def test_a_read_only_command_inside_python_code_leaves_the_code_acting() -> None:
    """Python's other statements are not all classified, so the code stays shell.exec."""
    code = "import os\nos.popen('ls').read()\nrun_anything()"
    assert CLASSIFIER.classify("python", {"code": code}).kind is Kind.SHELL_EXEC


def test_a_declared_kind_is_kept() -> None:
    found = CLASSIFIER.classify("Bash", {"command": "ls"}, kind="shell.exec")
    assert found.kind is Kind.SHELL_EXEC


def test_project_configured_commands_override_observation() -> None:
    from oversight.classify import ClassifierConfig

    configured = Classifier(
        ClassifierConfig(
            commands={"nvidia-smi": Kind.EXPERIMENT_RUN, "git status": Kind.SHELL_EXEC}
        )
    )
    assert configured.classify_shell("nvidia-smi").kind is Kind.EXPERIMENT_RUN
    assert configured.classify_shell("git status").kind is Kind.SHELL_EXEC
    assert configured.classify_shell("ls && git status").kind is Kind.SHELL_EXEC
    assert configured.classify_shell("git log").kind is Kind.FILE_READ


# -- whole sessions under research-default, with no reviewer registered --------------------------

READS = [
    ("Bash", {"command": "ls -la"}),
    ("Bash", {"command": "cat README.md"}),
    ("Bash", {"command": "grep -rn 'lr' configs/"}),
    ("Bash", {"command": "git status"}),
    ("Read", {"file_path": "src/model.py"}),
]
EDIT = ("Edit", {"file_path": "src/model.py", "old_string": "a", "new_string": "b"})
EXPERIMENT = ("Bash", {"command": "python run_experiment.py"})


def records(db: Path, session: str) -> list[Any]:
    with open_store(f"sqlite:///{db}") as store:
        return [r.record for r in store.iter_records(session)]


def test_a_session_of_fifty_reads_never_hits_a_checkpoint(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    with Monitor(db=str(db), log="none", policy="research-default") as mon, mon.session("r"):
        for i in range(50):
            name, args = READS[i % len(READS)]
            mon.check(name, args).succeed("ok")
    stored = records(db, "r")
    proposals = [r for r in stored if isinstance(r, StepProposed)]
    assert len(proposals) == 50
    assert {p.decision for p in proposals} == {"allow"}
    assert {p.rule for p in proposals} == {"allow-observation"}
    assert [r.status for r in stored if isinstance(r, StepFinished)] == ["ok"] * 50
    autonomy = score_records(stored)["r"]
    assert autonomy.signals["consequential_steps"] == 0.0
    assert autonomy.signals["current_unsupervised_steps"] == 0.0
    # nothing acted, but nobody decided anything either: not "humans approve everything"
    assert autonomy.scenario == 2 and autonomy.score == pytest.approx(1 / 3)


def test_four_threads_of_twenty_echo_steps_run_through(tmp_path: Path) -> None:
    """Issue 9: these froze at the unreviewed-run checkpoint for ten minutes."""
    db = tmp_path / "o.db"
    with Monitor(db=str(db), log="none", policy="research-default") as mon:

        def echo(i: int) -> None:
            mon.check("Bash", {"command": f"echo step {i}"}).succeed("ok")

        with mon.session("t"), ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(echo, range(80)))
    proposals = [r for r in records(db, "t") if isinstance(r, StepProposed)]
    assert len(proposals) == 80 and {p.decision for p in proposals} == {"allow"}


def test_acting_steps_still_reach_the_checkpoint_before_an_experiment(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    with Monitor(db=str(db), log="none", policy="research-default") as mon, mon.session("w"):
        for _ in range(25):
            mon.check(*EDIT).succeed("edited")  # edits are counted, never stopped
        with pytest.raises(CheckpointDenied, match="0 registered"):
            mon.check(*EXPERIMENT)
    proposals = [r for r in records(db, "w") if isinstance(r, StepProposed)]
    assert [p.decision for p in proposals] == ["allow"] * 25 + ["require_approval"]
    assert proposals[-1].rule == "checkpoint-unreviewed-run"


def test_reads_between_edits_do_not_count_toward_the_checkpoint(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    with Monitor(db=str(db), log="none", policy="research-default") as mon, mon.session("m"):
        for _ in range(19):
            mon.check(*EDIT).succeed("edited")
            for name, args in READS:
                mon.check(name, args).succeed("ok")
        mon.check(*EXPERIMENT).succeed("ran")  # 19 acting steps before it: no checkpoint
        with pytest.raises(CheckpointDenied):
            mon.check(*EXPERIMENT)  # the 20th acting step was the experiment itself
    proposals = [r for r in records(db, "m") if isinstance(r, StepProposed)]
    assert sum(p.decision == "require_approval" for p in proposals) == 1


# Codex CLI runs every command as `bash -lc '<script>'` (issue 10): the script decides.
@pytest.mark.parametrize(
    "argv",
    [
        ["bash", "-lc", "ls -la"],
        ["bash", "-lc", "sed -n 1,200p src/model.py"],
        ["bash", "-c", "grep -rn 'def train' src | head -20"],
        ["sh", "-c", "git status && git diff"],
    ],
)
def test_a_shell_c_wrapper_around_reading_is_observation(argv: list[str]) -> None:
    found = CLASSIFIER.classify("shell", {"command": argv})
    assert found.kind is Kind.FILE_READ, found.reason


@pytest.mark.parametrize(
    ("argv", "kind"),
    [
        (["bash", "-lc", "ls > listing.txt"], Kind.FILE_WRITE),
        (["bash", "-lc", "cat a.txt; rm -rf data/"], Kind.FILE_WRITE),
        (["bash", "-lc", "python train.py"], Kind.TRAIN_LAUNCH),
        (["bash", "-lc", "ls $(touch x)"], Kind.SHELL_EXEC),
        (["bash", "-x", "-c", "ls"], Kind.SHELL_EXEC),
    ],
)
def test_a_shell_c_wrapper_around_acting_stays_acting(argv: list[str], kind: Kind) -> None:
    found = CLASSIFIER.classify("shell", {"command": argv})
    assert found.kind is not Kind.FILE_READ, found.reason


@pytest.mark.parametrize(
    "command",
    [
        'sqlite3 runs.db "SELECT DISTINCT cwd FROM sessions LIMIT 10;"',
        "sqlite3 -readonly -header runs.db 'select count(*) from steps'",
        "sqlite3 runs.db .tables",
        "nl -ba scripts/publish.ts | sed -n '1,150p'",
    ],
)
def test_queries_and_numbered_listings_only_read(command: str) -> None:
    found = CLASSIFIER.classify("Bash", {"command": command})
    assert found.kind is Kind.FILE_READ, found.reason


@pytest.mark.parametrize(
    "command",
    [
        'sqlite3 runs.db "DELETE FROM steps"',
        'sqlite3 runs.db "SELECT 1; DROP TABLE steps"',
        "sqlite3 runs.db",
        "sqlite3 -cmd '.shell rm -rf data' runs.db 'select 1'",
        'sqlite3 runs.db ".output /tmp/x"',
        'sqlite3 runs.db "$QUERY"',
    ],
)
def test_sqlite_that_writes_runs_or_is_interactive_is_not_observation(command: str) -> None:
    found = CLASSIFIER.classify("Bash", {"command": command})
    assert found.kind is not Kind.FILE_READ, found.reason

"""A reviewer's edit must fit the call: the agent's monitor checks edited values against the
function's annotations (or the tool's schema) and refuses, without running, what does not fit."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field
from reviewing import cli, finish, register_reviewers, wait_for_pending, write_gate_pack

from oversight import CheckpointDenied, Monitor
from oversight.approvals.broker import ApprovalRequest
from oversight.approvals.signing import load_private_key
from oversight.approvals.votes import cast_vote
from oversight.records import StepFinished
from oversight.store import open_store

AGENT = textwrap.dedent(
    """
    import sys
    from oversight import Monitor, CheckpointDenied
    mon = Monitor(db=sys.argv[1], log="none", policy=sys.argv[2])

    @mon.step(name="launch_training", kind="train.launch")
    def launch(config: str, gpus: int) -> None:
        print("RAN", config, repr(gpus), flush=True)

    with mon.session("exp"):
        try:
            launch("configs/big.yaml", gpus=64)
        except CheckpointDenied as exc:
            print("DENIED", exc.reason, flush=True)
    """
)


@pytest.fixture
def reviewed(tmp_path: Path) -> tuple[Path, Path, Path]:
    db, keys = tmp_path / "o.db", tmp_path / "keys"
    register_reviewers(db, keys, ("alice",))
    return db, keys, write_gate_pack(tmp_path, timeout=60)


def start_agent(tmp: Path, db: Path, pack: Path) -> subprocess.Popen[str]:
    script = tmp / "agent.py"
    script.write_text(AGENT)
    return subprocess.Popen(
        [sys.executable, str(script), str(db), str(pack)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def modify(db: Path, keys: Path, approval_id: str, *sets: str) -> subprocess.CompletedProcess[str]:
    options = [x for s in sets for x in ("--set", s)]
    return cli("modify", approval_id, *options, "--as", "alice", "--key", str(keys / "alice.pem"), "--db", str(db))  # fmt: skip


def outcomes(db: Path) -> list[StepFinished]:
    with open_store(f"sqlite:///{db}") as store:
        found = [s.record for s in store.iter_records("exp", types={"step.finished"})]
    return [r for r in found if isinstance(r, StepFinished)]


def test_an_edit_with_a_value_of_the_wrong_type_is_refused_and_the_function_does_not_run(
    reviewed: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    db, keys, pack = reviewed
    agent = start_agent(tmp_path, db, pack)
    approval = str(wait_for_pending(db)["id"])
    # Quoted as JSON on purpose: the CLI sends the text "eight", as a reviewer asked it to.
    done = modify(db, keys, approval, 'gpus="eight"')
    assert done.returncode == 0, done.stderr
    out = finish(agent)
    assert "RAN" not in out
    assert "DENIED alice's edit does not fit the call: gpus='eight' is not a valid int" in out
    last = outcomes(db)[-1]
    assert last.status == "denied" and "gpus='eight' is not a valid int" in (last.error or "")


def test_an_edit_that_fits_runs_with_the_edited_value(
    reviewed: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    db, keys, pack = reviewed
    agent = start_agent(tmp_path, db, pack)
    approval = str(wait_for_pending(db)["id"])
    done = modify(db, keys, approval, "gpus=8")
    assert done.returncode == 0, done.stderr
    assert "RAN configs/big.yaml 8" in finish(agent)
    assert outcomes(db)[-1].status == "ok"


def test_the_cli_refuses_text_for_a_typed_argument_before_signing(
    reviewed: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    db, keys, pack = reviewed
    agent = start_agent(tmp_path, db, pack)
    approval = str(wait_for_pending(db)["id"])
    done = modify(db, keys, approval, "gpus=eight")
    assert done.returncode != 0
    message = " ".join(done.stderr.split())
    assert "the call's gpus is an integer (64)" in message
    assert """--set 'gpus="eight"'""" in message
    with open_store(f"sqlite:///{db}") as store:
        assert store.votes(approval) == []
    cli("deny", approval, "--as", "alice", "--key", str(keys / "alice.pem"), "--db", str(db))
    assert "DENIED" in finish(agent)


def edit_from_another_thread(
    db: Path, keys: Path, patch: dict[str, Any]
) -> Callable[[ApprovalRequest], None]:
    alice = load_private_key(keys / "alice.pem")

    def route(request: ApprovalRequest) -> None:
        def answer() -> None:
            with open_store(f"sqlite:///{db}") as store:
                row = store.approval(request.approval_id)
                assert row is not None
                cast_vote(store, row, "alice", alice, "modify", "", args_patch=patch)

        threading.Thread(target=answer).start()

    return route


def run_edited(
    reviewed: tuple[Path, Path, Path],
    patch: dict[str, Any],
    call: Callable[[Monitor], Any],
) -> Any:
    db, keys, pack = reviewed
    route = edit_from_another_thread(db, keys, patch)
    monitor = Monitor(db=str(db), log="none", policy=str(pack), on_approval_request=route)
    with monitor as mon, mon.session("exp"):
        return call(mon)


def test_an_int_fits_a_float_parameter_and_text_does_not(
    reviewed: tuple[Path, Path, Path],
) -> None:
    ran: list[float] = []

    def train(mon: Monitor) -> None:
        @mon.step(name="launch_training", kind="train.launch")
        def launch(config: str, lr: float = 0.1) -> None:
            ran.append(lr)

        launch("c.yaml", lr=0.3)

    run_edited(reviewed, {"lr": 1}, train)
    assert ran == [1]
    with pytest.raises(CheckpointDenied, match="lr='fast' is not a valid float"):
        run_edited(reviewed, {"lr": "fast"}, train)
    assert ran == [1]


class LaunchArgs(BaseModel):
    config: str
    gpus: int = Field(gt=0)


def test_check_takes_the_tools_schema_as_a_pydantic_model_or_a_json_schema(
    reviewed: tuple[Path, Path, Path],
) -> None:
    args = {"config": "c.yaml", "gpus": 64}

    def check(schema: Any) -> Callable[[Monitor], dict[str, Any]]:
        def call(mon: Monitor) -> dict[str, Any]:
            handle = mon.check("launch_training", args, kind="train.launch", args_schema=schema)
            handle.succeed()
            return handle.call_args

        return call

    with pytest.raises(
        CheckpointDenied, match="gpus=0 is not a valid int: Input should be greater"
    ):
        run_edited(reviewed, {"gpus": 0}, check(LaunchArgs))
    assert run_edited(reviewed, {"gpus": 8}, check(LaunchArgs)) == {"config": "c.yaml", "gpus": 8}
    schema = LaunchArgs.model_json_schema()
    with pytest.raises(CheckpointDenied, match="gpus='eight' is not integer"):
        run_edited(reviewed, {"gpus": "eight"}, check(schema))


def test_an_edit_of_a_parameter_whose_type_cannot_be_checked_is_refused(
    reviewed: tuple[Path, Path, Path],
) -> None:
    class Cluster:
        pass

    ran: list[object] = []

    def train(mon: Monitor) -> None:
        @mon.step(name="launch_training", kind="train.launch")
        def launch(config: str, cluster: Cluster | None = None) -> None:
            ran.append(cluster)

        launch("c.yaml")

    with pytest.raises(CheckpointDenied, match="cluster=.* cannot be checked"):
        run_edited(reviewed, {"cluster": {"name": "big"}}, train)
    assert ran == []

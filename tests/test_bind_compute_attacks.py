"""The compute and grant attacks of docs/threat-model.md: a grant of N GPU-hours covers only a
run whose size the call states once, consistently and plausibly, and no grant takes a session
past its pack's `max_scenario`."""

from __future__ import annotations

from pathlib import Path

import pytest
from reviewing import cli, register_reviewers, write_gate_pack

from oversight import CheckpointTimeout, Monitor
from oversight.decide import Proposal, SessionFacts
from oversight.kinds import Kind
from oversight.policy import load_policy
from oversight.policy.compute import derive

ATTACKS = {
    # 512 GPUs behind a first `--nproc_per_node=1 --nnodes=1` that a first-value parser reads
    "repeated launcher options": (
        "torchrun --nproc_per_node=1 --nnodes=1 --nproc_per_node=8 --nnodes=64 train.py "
        "--max_hours 1"
    ),
    "negative hours": "torchrun --nproc_per_node=2 train.py --hours=-1",
    "zero hours": "torchrun --nproc_per_node=8 train.py --hours 0",
    "non-finite hours": "torchrun --nproc_per_node=8 train.py --hours nan",
    "two hour limits": "torchrun --nproc_per_node=8 train.py --hours 1 --max_hours 400",
    "two --gpu_ids": "accelerate launch --gpu_ids 0 --gpu_ids 0,1,2,3,4,5,6,7 train.py --hours 1",
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_a_contradictory_or_impossible_size_is_unknown_with_the_reason(name: str) -> None:
    compute = derive({"command": ATTACKS[name]})
    assert compute.gpu_hours is None and compute.gpus is None and compute.hours is None
    assert compute.problem, name


def test_arguments_that_disagree_with_their_command_are_unknown() -> None:
    compute = derive({"gpus": 1, "hours": 1, "command": "torchrun --nproc_per_node 8 t.py"})
    assert compute.gpu_hours is None and "GPUs" in (compute.problem or "")
    assert derive({"gpus": 2, "hours": 3, "gpu_hours": 1}).problem
    assert derive({"gpus": -4, "hours": 3}).problem
    # consistent statements still give the size
    assert derive({"gpus": 2, "hours": 3, "gpu_hours": 6}).gpu_hours == 6
    assert derive({"command": "torchrun --nproc_per_node 4 t.py --hours 2"}).gpu_hours == 8


@pytest.fixture
def env(tmp_path: Path) -> tuple[Path, Path, Path]:
    db, keys = tmp_path / "o.db", tmp_path / "keys"
    register_reviewers(db, keys, ("alice",))
    pack = write_gate_pack(tmp_path, timeout=0.5)
    done = cli(
        "grant", "--kind", "train.launch", "--as", "alice", "--key", str(keys / "alice.pem"),
        "--db", str(db), "--max-gpu-hours", "8", "--for", "2h", "--reason", "small sweeps",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return db, keys, pack


def _launch(db: Path, pack: Path, command: str) -> str:
    with Monitor(db=str(db), log="none", policy=str(pack)) as mon, mon.session("s"):
        try:
            mon.check("bash", {"command": command}, kind="train.launch").succeed()
        except CheckpointTimeout:
            return "waited for a person"
    return "ran"


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_an_8_gpu_hour_grant_does_not_cover_a_contradictory_launch(
    env: tuple[Path, Path, Path], name: str
) -> None:
    db, _, pack = env
    assert _launch(db, pack, ATTACKS[name]) == "waited for a person"


def test_the_grant_still_covers_a_small_launch_stated_once(env: tuple[Path, Path, Path]) -> None:
    db, _, pack = env
    assert _launch(db, pack, "torchrun --nproc_per_node=2 train.py --hours 2") == "ran"


def _proposal(kind: Kind) -> Proposal:
    return Proposal(
        session_id="s", step_id="x", seq=1, name="bash", kind=kind, actor="agent",
        args={"command": "torchrun --nproc_per_node=2 train.py --hours 1"}, args_digest="d",
        flags=frozenset(), targets=(),
    )  # fmt: skip


def test_no_grant_may_stand_in_for_a_person_past_max_scenario() -> None:
    """research-default keeps sessions at scenario 2; an unreviewed training launch would make
    one scenario 3, so its approval must come from a person even where a grant matches."""
    policy = load_policy("research-default")
    verdict = policy.decide(_proposal(Kind.TRAIN_LAUNCH), SessionFacts(scenario=2))
    assert verdict.decision == "require_approval"
    assert verdict.approval is not None and verdict.approval.grants is False


def test_grants_still_apply_below_the_cap_and_without_one() -> None:
    uncapped = load_policy("lab-compute")
    verdict = uncapped.decide(_proposal(Kind.TRAIN_LAUNCH), SessionFacts(scenario=2))
    assert verdict.approval is not None and verdict.approval.grants is True

"""Edited calls (`oversight modify`) and approvals that run at most one step, with real processes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from reviewing import cli, finish, register_reviewers, wait_for_pending

from oversight import ApprovalPending, CheckpointDenied, CheckpointTimeout, Monitor
from oversight.approvals.signing import load_private_key
from oversight.approvals.votes import cast_vote
from oversight.records import Alert, StepFinished, StepProposed
from oversight.store import open_store

PACK = """
name: test-modify
unmatched: {{consequential: allow, other: allow}}
rules:
  - id: no-prod-configs
    match: {{kind: [train.launch], args: {{config: {{glob: "*prod*"}}}}}}
    effect: deny
    reason: production configs are off limits
  - id: gate-training
    match: {{kind: [train.launch]}}
    effect: require_approval
    reason: training needs a person
    approval: {{role: approver, quorum: {quorum}, timeout_s: {timeout}}}
"""

AGENT = textwrap.dedent(
    """
    import sys
    from oversight import Monitor, CheckpointDenied
    mon = Monitor(db=sys.argv[1], log="none", policy=sys.argv[2])

    @mon.step(name="launch_training", kind="train.launch")
    def launch(config, gpus=8, **extra):
        print("RAN", config, gpus, sorted(extra.items()), flush=True)

    with mon.session("exp", agent="bot"):
        try:
            launch("configs/big.yaml", gpus=64, note="first try")
        except CheckpointDenied as exc:
            print("DENIED", exc.reason, flush=True)
    """
)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    db, keys = tmp_path / "o.db", tmp_path / "keys"
    register_reviewers(db, keys)
    return db, keys, tmp_path


def write_pack(tmp: Path, *, quorum: int = 1, timeout: float = 30) -> Path:
    pack = tmp / "pack.yaml"
    pack.write_text(PACK.format(quorum=quorum, timeout=timeout))
    return pack


def start_agent(tmp: Path, db: Path, *, quorum: int = 1) -> subprocess.Popen[str]:
    script = tmp / "agent.py"
    script.write_text(AGENT)
    return subprocess.Popen(
        [sys.executable, str(script), str(db), str(write_pack(tmp, quorum=quorum))],
        stdout=subprocess.PIPE,
        text=True,
    )


def steps(db: Path, session: str = "exp") -> tuple[list[StepProposed], list[StepFinished]]:
    with open_store(f"sqlite:///{db}") as store:
        records = [s.record for s in store.iter_records(session)]
    return (
        [r for r in records if isinstance(r, StepProposed)],
        [r for r in records if isinstance(r, StepFinished)],
    )


def test_a_reviewers_edit_is_what_runs_and_the_log_shows_both_calls(setup) -> None:  # type: ignore[no-untyped-def]
    db, keys, tmp = setup
    agent = start_agent(tmp, db)
    approval = wait_for_pending(db)
    assert json.loads(approval["args"])["config"] == "configs/big.yaml"
    done = cli(
        "modify", approval["id"], "--as", "alice", "--key", str(keys / "alice.pem"),
        "--set", "config=configs/small.yaml", "--set", "gpus=8", "--reason", "start small",
        "--db", str(db),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = finish(agent)
    assert "RAN configs/small.yaml 8 [('note', 'first try')]" in out
    proposed, finished = steps(db)
    original, edited = proposed
    assert edited.modifies == original.step_id
    assert edited.args["config"] == "configs/small.yaml" and edited.args["gpus"] == 8
    assert edited.args_digest != original.args_digest
    by_step = {f.step_id: f for f in finished}
    assert by_step[original.step_id].status == "modified"
    assert "alice" in (by_step[original.step_id].error or "")
    assert by_step[edited.step_id].status == "ok"
    assert by_step[edited.step_id].approved_by == ["alice"]
    assert by_step[original.step_id].review_wait_ms is not None


def test_an_edit_its_authors_signature_approves_keeps_the_peoples_time(setup) -> None:  # type: ignore[no-untyped-def]
    """The edited call is approved at once by its editor's own signature; the time people took
    runs from the first request, so the edit is not scored as a rubber stamp."""
    db, keys, tmp = setup
    agent = start_agent(tmp, db)
    approval = wait_for_pending(db)
    done = cli(
        "modify", approval["id"], "--as", "alice", "--key", str(keys / "alice.pem"),
        "--set", "gpus=8", "--db", str(db),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    finish(agent)
    proposed, finished = steps(db)
    original, edited = proposed
    by_step = {f.step_id: f for f in finished}
    assert edited.decision == "require_approval"  # the same rule gates the edited call
    first_wait = by_step[original.step_id].review_wait_ms
    assert first_wait is not None and first_wait > 100
    assert (by_step[edited.step_id].review_wait_ms or 0.0) >= first_wait


def test_an_edit_is_checked_against_the_policy_again(setup) -> None:  # type: ignore[no-untyped-def]
    db, keys, tmp = setup
    agent = start_agent(tmp, db)
    approval = wait_for_pending(db)
    done = cli(
        "modify", approval["id"], "--as", "alice", "--key", str(keys / "alice.pem"),
        "--set", "config=configs/prod.yaml", "--db", str(db),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = finish(agent)
    assert "RAN" not in out
    assert "DENIED" in out and "production configs are off limits" in out
    proposed, finished = steps(db)
    assert proposed[1].decision == "deny" and proposed[1].rule == "no-prod-configs"
    assert [f.status for f in finished] == ["modified", "denied"]


def test_an_edited_call_under_a_two_person_rule_needs_a_second_person(setup) -> None:  # type: ignore[no-untyped-def]
    db, keys, tmp = setup
    agent = start_agent(tmp, db, quorum=2)
    first = wait_for_pending(db)
    done = cli(
        "modify", first["id"], "--as", "alice", "--key", str(keys / "alice.pem"),
        "--set", "gpus=16", "--db", str(db),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    second = wait_for_pending(db, besides=frozenset({first["id"]}))
    assert second["args_digest"] != first["args_digest"]
    assert json.loads(second["args"])["gpus"] == 16
    time.sleep(0.3)
    assert agent.poll() is None, "one person's edit must not satisfy a two-person rule"
    # Alice cannot be her own second person.
    again = cli("approve", second["id"], "--as", "alice", "--key", str(keys / "alice.pem"), "--db", str(db))  # fmt: skip
    assert again.returncode == 0
    time.sleep(0.3)
    assert agent.poll() is None
    bob = cli("approve", second["id"], "--as", "bob", "--key", str(keys / "bob.pem"), "--db", str(db))  # fmt: skip
    assert bob.returncode == 0, bob.stderr
    assert "RAN configs/big.yaml 16" in finish(agent)
    _, finished = steps(db)
    assert sorted(finished[-1].approved_by) == ["alice", "bob"]


def test_modify_refuses_unknown_arguments_and_empty_edits(setup) -> None:  # type: ignore[no-untyped-def]
    db, keys, tmp = setup
    agent = start_agent(tmp, db)
    approval = wait_for_pending(db)
    key = str(keys / "alice.pem")
    unknown = cli("modify", approval["id"], "--as", "alice", "--key", key, "--set", "nodes=4", "--db", str(db))  # fmt: skip
    assert unknown.returncode == 2 and "no argument(s) ['nodes']" in unknown.stderr
    empty = cli("modify", approval["id"], "--as", "alice", "--key", key, "--db", str(db))
    assert empty.returncode == 2 and "--set NAME=VALUE" in empty.stderr
    bad = cli("modify", approval["id"], "--as", "alice", "--key", key, "--args-json", "[1]", "--db", str(db))  # fmt: skip
    assert bad.returncode == 2 and "JSON object" in bad.stderr
    cli("deny", approval["id"], "--as", "alice", "--key", key, "--db", str(db))
    assert "DENIED" in finish(agent)


def test_an_edit_changed_after_signing_is_ignored_and_raises_an_alert(setup) -> None:  # type: ignore[no-untyped-def]
    db, keys, tmp = setup
    pack = write_pack(tmp, timeout=1.5)
    mon = Monitor(db=str(db), log="none", policy=str(pack))

    @mon.step(name="launch_training", kind="train.launch")
    def launch(config: str) -> str:
        return config

    with open_store(f"sqlite:///{db}") as store:
        alice = load_private_key(keys / "alice.pem")

        def tamper(request) -> None:  # type: ignore[no-untyped-def]
            row = store.approval(request.approval_id)
            assert row is not None
            cast_vote(store, row, "alice", alice, "modify", args_patch={"config": "small.yaml"})
            with sqlite3.connect(db) as conn:  # the agent rewrites the signed edit
                conn.execute('UPDATE oversight_votes SET args_patch = \'{"config":"huge.yaml"}\'')

        mon._pipeline.approvals.notify = tamper  # type: ignore[union-attr]
        with mon.session("exp"), pytest.raises(CheckpointTimeout):
            launch("big.yaml")
    mon.close()
    with open_store(f"sqlite:///{db}") as store:
        alerts = [s.record for s in store.iter_records("exp", types={"alert"})]
    assert any(isinstance(a, Alert) and "does not verify" in a.reason for a in alerts)


CLAIMER = textwrap.dedent(
    """
    import os, signal, sys
    from oversight import Monitor, ApprovalPending, CheckpointDenied
    db, pack, approval_id, config, crash = sys.argv[1:6]
    mon = Monitor(db=db, log="none", policy=pack)
    with mon.session("graph-thread-1"):
        try:
            handle = mon.check("launch_training", {"config": config}, kind="train.launch",
                               wait=False, approval_id=approval_id)
        except ApprovalPending as exc:
            print("PENDING", exc.approval_id, flush=True)
            sys.exit(0)
        except CheckpointDenied as exc:
            print("DENIED", exc.reason, flush=True)
            sys.exit(0)
        print("RAN", handle.call_args["config"], flush=True)
        if crash == "crash":
            os.kill(os.getpid(), signal.SIGKILL)
        handle.succeed("done")
    """
)


def claim(tmp: Path, db: Path, approval_id: str, config: str = "big.yaml", crash: str = "no") -> subprocess.CompletedProcess[str]:  # fmt: skip
    script = tmp / "claimer.py"
    script.write_text(CLAIMER)
    return subprocess.run(
        [sys.executable, str(script), str(db), str(tmp / "pack.yaml"), approval_id, config, crash],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_approval_runs_one_step_across_a_crash_and_restart(setup) -> None:  # type: ignore[no-untyped-def]
    db, keys, tmp = setup
    write_pack(tmp)
    first = claim(tmp, db, "thread-1:call-7")
    assert first.stdout.strip() == "PENDING thread-1:call-7", first.stderr
    # Re-asking before anyone decided keeps the same approval, not a second one.
    assert claim(tmp, db, "thread-1:call-7").stdout.strip() == "PENDING thread-1:call-7"
    with open_store(f"sqlite:///{db}") as store:
        assert [r["id"] for r in store.approvals()] == ["thread-1:call-7"]
    done = cli("approve", "thread-1:call-7", "--as", "alice", "--key", str(keys / "alice.pem"), "--db", str(db))  # fmt: skip
    assert done.returncode == 0, done.stderr
    # A different call cannot ride on this approval.
    other = claim(tmp, db, "thread-1:call-7", config="other.yaml")
    assert "DENIED" in other.stdout and "different call" in other.stdout
    # The approved call runs; the agent is killed mid-step.
    crashed = claim(tmp, db, "thread-1:call-7", crash="crash")
    assert crashed.returncode == -9 and "RAN big.yaml" in crashed.stdout
    # Restarted, the agent cannot run it again.
    again = claim(tmp, db, "thread-1:call-7")
    assert "RAN" not in again.stdout
    assert "already used by step" in again.stdout
    proposed, finished = steps(db, "graph-thread-1")
    ran = [
        p
        for p in proposed
        if not any(f.step_id == p.step_id and f.status != "ok" for f in finished)
    ]
    assert len(ran) == 1, "exactly one step ran (and was interrupted) on the approval"


def test_a_deferred_approval_times_out_and_a_denial_reaches_the_claimer(setup) -> None:  # type: ignore[no-untyped-def]
    db, keys, tmp = setup
    pack = write_pack(tmp, timeout=0.5)
    mon = Monitor(db=str(db), log="none", policy=str(pack))
    with mon.session("s"):
        with pytest.raises(ApprovalPending) as pending_exc:
            mon.check("launch_training", {"config": "a"}, kind="train.launch", wait=False)
        assert pending_exc.value.request.name == "launch_training"
        time.sleep(2.1)  # deadlines are stored rounded up to whole seconds
        with pytest.raises(CheckpointTimeout):
            mon.check(
                "launch_training",
                {"config": "a"},
                kind="train.launch",
                wait=False,
                approval_id=pending_exc.value.approval_id,
            )
    mon.close()
    # A vote counts only before the deadline: give the reviewer's command time to run.
    mon = Monitor(db=str(db), log="none", policy=str(write_pack(tmp, timeout=30)))
    with mon.session("s"):
        with pytest.raises(ApprovalPending) as second:
            mon.check("launch_training", {"config": "b"}, kind="train.launch", wait=False)
        denied = cli("deny", second.value.approval_id, "--as", "bob", "--key", str(keys / "bob.pem"),
                     "--reason", "not this week", "--db", str(db))  # fmt: skip
        assert denied.returncode == 0, denied.stderr
        with pytest.raises(CheckpointDenied, match="not this week"):
            mon.check(
                "launch_training",
                {"config": "b"},
                kind="train.launch",
                approval_id=second.value.approval_id,
            )
    mon.close()
    _, finished = steps(db, "s")
    assert [f.status for f in finished] == ["deferred", "timed_out", "deferred", "denied"]


def test_a_blocking_claim_of_a_named_approval_waits_for_the_decision(setup) -> None:  # type: ignore[no-untyped-def]
    db, keys, tmp = setup
    write_pack(tmp)
    assert claim(tmp, db, "named-1").stdout.strip() == "PENDING named-1"
    reviewer = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import time, subprocess, sys
            time.sleep(0.5)
            subprocess.run([sys.executable, "-m", "oversight", "approve", "named-1", "--as", "bob",
                            "--key", {str(keys / "bob.pem")!r}, "--db", {str(db)!r}], check=True)
        """)],
    )  # fmt: skip
    mon = Monitor(db=str(db), log="none", policy=str(tmp / "pack.yaml"))
    with mon.session("graph-thread-1"):
        handle = mon.check(
            "launch_training", {"config": "big.yaml"}, kind="train.launch", approval_id="named-1"
        )
        handle.succeed()
    mon.close()
    assert reviewer.wait(timeout=60) == 0
    assert handle.approved_by == ["bob"]
    with open_store(f"sqlite:///{db}") as store:
        row = store.approval("named-1")
    assert row is not None and row["consumed_by"] == handle.step_id


def test_an_edit_made_while_nobody_waits_runs_on_the_next_claim_once(setup) -> None:  # type: ignore[no-untyped-def]
    db, keys, tmp = setup
    write_pack(tmp, quorum=1)
    mon = Monitor(db=str(db), log="none", policy=str(tmp / "pack.yaml"))
    call = {"config": "big.yaml", "gpus": 64}
    with mon.session("g"):
        with pytest.raises(ApprovalPending):
            mon.check("launch_training", call, kind="train.launch", wait=False, approval_id="t:1")
        edited = cli("modify", "t:1", "--as", "alice", "--key", str(keys / "alice.pem"), "--set", "gpus=8", "--db", str(db))  # fmt: skip
        assert edited.returncode == 0, edited.stderr
        handle = mon.check(
            "launch_training", call, kind="train.launch", wait=False, approval_id="t:1"
        )
        assert handle.call_args == {"config": "big.yaml", "gpus": 8}
        assert handle.approved_by == ["alice"] and handle.modified_by == ["alice"]
        handle.succeed()
        with pytest.raises(CheckpointDenied, match="already used"):
            mon.check("launch_training", call, kind="train.launch", wait=False, approval_id="t:1")
    mon.close()


def test_an_edit_under_a_two_person_rule_is_claimed_through_its_own_approval(setup) -> None:  # type: ignore[no-untyped-def]
    db, keys, tmp = setup
    write_pack(tmp, quorum=2)
    mon = Monitor(db=str(db), log="none", policy=str(tmp / "pack.yaml"))
    call = {"config": "big.yaml", "gpus": 64}
    check = lambda: mon.check(
        "launch_training", call, kind="train.launch", wait=False, approval_id="t:2"
    )
    with mon.session("g"):
        with pytest.raises(ApprovalPending):
            check()
        cli("modify", "t:2", "--as", "alice", "--key", str(keys / "alice.pem"), "--set", "gpus=8", "--db", str(db))  # fmt: skip
        for _ in range(2):  # coming back before the second person answers opens nothing new
            with pytest.raises(ApprovalPending) as waiting:
                check()
            assert waiting.value.approval_id == "t:2:edit"
        bob = cli("approve", "t:2:edit", "--as", "bob", "--key", str(keys / "bob.pem"), "--db", str(db))  # fmt: skip
        assert bob.returncode == 0, bob.stderr
        handle = check()
        assert handle.call_args["gpus"] == 8 and sorted(handle.approved_by) == ["alice", "bob"]
        handle.succeed()
        with pytest.raises(CheckpointDenied, match="already used"):
            check()
    mon.close()
    with open_store(f"sqlite:///{db}") as store:
        assert sorted(r["id"] for r in store.approvals()) == ["t:2", "t:2:edit"]


def test_an_approval_cannot_be_claimed_by_another_tool_with_the_same_arguments(setup) -> None:  # type: ignore[no-untyped-def]
    db, keys, tmp = setup
    write_pack(tmp)
    mon = Monitor(db=str(db), log="none", policy=str(tmp / "pack.yaml"))
    with mon.session("g"):
        with pytest.raises(ApprovalPending):
            mon.check("launch_training", {"config": "a"}, kind="train.launch", wait=False, approval_id="t:3")  # fmt: skip
        cli("approve", "t:3", "--as", "bob", "--key", str(keys / "bob.pem"), "--db", str(db))
        with pytest.raises(CheckpointDenied, match="different call"):
            mon.check("launch_sweep", {"config": "a"}, kind="train.launch", approval_id="t:3")
    mon.close()


def test_an_observer_records_the_decision_without_enforcing_it(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    with Monitor(db=str(db), log="none", policy="strict") as mon, mon.session("s"):
        handle = mon.check("Bash", {"command": "git push origin main"}, enforce=False)
        handle.succeed("pushed")
    proposed, finished = steps(db, "s")
    assert proposed[0].decision == "require_approval" and proposed[0].enforced is False
    assert finished[0].status == "ok"


def test_steps_inside_a_running_call_are_its_children(tmp_path: Path) -> None:
    with Monitor(db=str(tmp_path / "o.db"), log="none", policy="record-only") as mon:

        @mon.step
        def read_file(file_path: str) -> str:
            return file_path

        with mon.session("s"):
            outer = mon.check("run_tool", {"tool": "reader"})
            with outer.running():
                read_file("a.txt")
            outer.succeed()
    proposed, _ = steps(tmp_path / "o.db", "s")
    assert proposed[1].parent_id == proposed[0].step_id


RACER = textwrap.dedent(
    """
    import sys, time
    from oversight import Monitor, CheckpointDenied
    db, pack, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
    mon = Monitor(db=db, log="none", policy=pack)
    with mon.session("race"):
        time.sleep(max(0.0, start - time.time()))
        try:
            handle = mon.check("launch_training", {"config": "big.yaml"}, kind="train.launch",
                               approval_id="race-1")
        except CheckpointDenied as exc:
            print("REFUSED", exc.reason, flush=True)
        else:
            print("RAN", flush=True)
            handle.succeed()
    mon.close()
    """
)


def test_processes_racing_to_claim_one_approval_run_it_once(store_url: str, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    register_reviewers(store_url, keys, ("alice",))
    pack = write_pack(tmp_path)
    with Monitor(db=store_url, log="none", policy=str(pack)) as mon, mon.session("race"):
        with pytest.raises(ApprovalPending):
            mon.check("launch_training", {"config": "big.yaml"}, kind="train.launch",
                      wait=False, approval_id="race-1")  # fmt: skip
    with open_store(store_url) as store:
        row = store.approval("race-1")
        assert row is not None
        cast_vote(store, row, "alice", load_private_key(keys / "alice.pem"), "approve")
    script = tmp_path / "racer.py"
    script.write_text(RACER)
    start = str(time.time() + 4.0)  # every racer is up and waiting by then
    racers = [
        subprocess.Popen(
            [sys.executable, str(script), store_url, str(pack), start],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err
        outputs.append(out)
    assert sum("RAN" in out for out in outputs) == 1, outputs
    assert sum("already used by step" in out for out in outputs) == 3, outputs

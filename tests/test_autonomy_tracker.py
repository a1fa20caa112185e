"""The autonomy tracker: each signal on small hand-made sessions, records → observations, and
properties every session must satisfy (score bounds, more review never means more autonomy)."""

from __future__ import annotations

import datetime as _dt
import tracemalloc
from collections.abc import Iterable
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oversight.autonomy import (
    AutonomyTracker,
    StepObservation,
    metric,
    observations_from_records,
    score_records,
    score_series,
    score_session,
    step_weight,
)
from oversight.kinds import Kind
from oversight.records import SessionStarted, StepFinished, StepProposed

T0 = 1_790_000_000.0


def step(
    seq: int,
    kind: str,
    review: str = "none",
    *,
    ran: bool = True,
    flags: Iterable[str] = (),
    targets: Iterable[str] = (),
    wait: float | None = None,
    gpu: float | None = None,
    denied: bool = False,
    at: float | None = None,
) -> StepObservation:
    return StepObservation(
        seq=seq,
        ts=T0 + (at if at is not None else seq * 60.0),
        kind=Kind(kind),
        name=kind,
        flags=frozenset(flags),
        targets=tuple(targets),
        ran=ran,
        review=review,  # type: ignore[arg-type]
        approvers=("alice",) if review == "human" else (),
        review_wait_s=wait,
        gpu_hours=gpu,
        human_denied=denied,
    )


def signals(*steps: StepObservation) -> dict[str, float]:
    return score_session(steps).signals


# -- weights -------------------------------------------------------------------------------------


def test_step_weight_follows_the_kind_and_raises_for_protected_and_risky_flags() -> None:
    assert step_weight(Kind.FILE_READ, frozenset()) == 0.0
    assert step_weight(Kind.FILE_WRITE, frozenset()) == 1.0
    assert step_weight(Kind.TRAIN_LAUNCH, frozenset()) == 10.0
    assert step_weight(Kind.FILE_WRITE, frozenset({"protected_target"})) == 3.0
    assert step_weight(Kind.TOOL_CALL, frozenset({"protected_target"})) == 3.0
    assert step_weight(Kind.SHELL_EXEC, frozenset({"obfuscated"})) == 1.5
    assert step_weight(Kind.TOOL_CALL, frozenset({"oversight_target"})) == 10.0


# -- review coverage -----------------------------------------------------------------------------


def test_review_coverage_is_the_reviewed_share_of_consequential_weight() -> None:
    s = signals(
        step(1, "file.write", "human", wait=30),  # 1, reviewed
        step(2, "eval.run"),  # 2
        step(3, "file.read"),  # 0: not consequential
        step(4, "train.launch", "human", wait=90),  # 10, reviewed
    )
    assert s["consequential_weight"] == 13.0
    assert s["review_coverage"] == pytest.approx(11 / 13)
    assert s["real_review_coverage"] == pytest.approx(11 / 13)


def test_refused_steps_nobody_reviewed_do_not_count_but_a_persons_denial_does() -> None:
    s = signals(
        step(1, "file.write", "human", wait=30),
        step(2, "train.launch", ran=False),  # refused by policy: never happened, nobody looked
        step(3, "deploy", "human", denied=True, ran=False, wait=40),  # a person said no
    )
    assert s["consequential_weight"] == 11.0
    assert s["review_coverage"] == 1.0
    assert s["human_denials"] == 1.0 and s["human_approvals"] == 1.0
    assert s["consequential_steps"] == 3.0  # the pace counts what the agent proposed


def test_a_fast_approval_counts_for_coverage_but_not_as_a_real_review() -> None:
    s = signals(step(1, "file.write", "human", wait=0.5), step(2, "file.write", "human", wait=9))
    assert s["review_coverage"] == 1.0
    assert s["real_review_coverage"] == 0.5
    assert s["fast_approvals"] == 1.0 and s["timed_approvals"] == 2.0
    assert s["rubber_stamp"] == pytest.approx(0.5 * (1 / 3))


def test_rubber_stamp_is_the_fast_share_once_three_approvals_were_fast() -> None:
    steps = [step(i, "file.write", "human", wait=0.8) for i in range(1, 4)]
    steps.append(step(4, "file.write", "human", wait=30))
    assert signals(*steps)["rubber_stamp"] == pytest.approx(0.75)


def test_approval_rate_is_reported_and_always_approves_needs_many_decisions() -> None:
    few = signals(*[step(i, "file.write", "human", wait=10) for i in range(1, 6)])
    assert few["approval_rate"] == 1.0 and few["always_approves"] == 0.0
    many = signals(*[step(i, "file.write", "human", wait=10) for i in range(1, 26)])
    assert many["always_approves"] == 1.0


# -- unsupervised horizon ------------------------------------------------------------------------


def test_horizon_is_the_longest_unreviewed_run_in_steps_time_and_gpu_hours() -> None:
    s = score_session(
        [
            step(1, "file.write", at=0),
            step(2, "experiment.run", at=600, gpu=2.0),
            step(3, "file.read", at=700),  # not consequential: neither extends nor breaks
            step(4, "experiment.run", at=1800, gpu=3.0),
            step(5, "file.write", "human", at=1900, wait=20),  # a person: the run ends
            step(6, "shell.exec", at=2000),
            step(7, "train.launch", ran=False, at=2100),  # refused: did not happen
            step(8, "shell.exec", "automatic", at=2300, gpu=1.0),  # automatic is no person
        ]
    )
    assert s.signals["unsupervised_horizon_steps"] == 3.0
    assert s.signals["unsupervised_horizon_s"] == 1800.0
    assert s.signals["unsupervised_horizon_gpu_hours"] == 5.0
    assert s.signals["current_unsupervised_steps"] == 2.0
    first, second = s.stretches
    assert (first.start_seq, first.end_seq, first.steps, first.open) == (1, 4, 3, False)
    assert (second.start_seq, second.end_seq, second.steps, second.open) == (6, 8, 2, True)


def test_a_human_denial_is_a_human_touch() -> None:
    s = signals(
        step(1, "shell.exec"),
        step(2, "shell.exec"),
        step(3, "train.launch", "human", denied=True, ran=False, wait=60),
        step(4, "shell.exec"),
    )
    assert s["unsupervised_horizon_steps"] == 2.0


# -- loop closure --------------------------------------------------------------------------------


def test_edit_experiment_evaluate_launch_with_no_person_closes_a_loop() -> None:
    s = score_session(
        [
            step(1, "file.write", targets=["src/a.py"]),
            step(2, "experiment.run"),
            step(3, "eval.run"),
            step(4, "train.launch", "automatic"),
            step(5, "train.launch", "automatic"),  # no new edit: not a second loop
        ]
    )
    assert s.signals["loop_closures"] == 1.0
    (loop,) = [e for e in s.evidence if e.signal == "loop_closures"]
    assert loop.seq == 4 and "edit #1 → evaluation #3" in loop.text


def test_the_experiment_is_optional_but_the_evaluation_is_not() -> None:
    assert (
        signals(step(1, "file.write"), step(2, "eval.run"), step(3, "code.apply"))["loop_closures"]
        == 1.0
    )
    assert (
        signals(step(1, "file.write"), step(2, "experiment.run"), step(3, "code.apply"))[
            "loop_closures"
        ]
        == 0.0
    )
    assert signals(step(1, "eval.run"), step(2, "code.apply"))["loop_closures"] == 0.0


def test_a_person_anywhere_in_the_loop_breaks_it() -> None:
    s = signals(
        step(1, "file.write"),
        step(2, "eval.run", "human", wait=30),
        step(3, "train.launch", "automatic"),
    )
    assert s["loop_closures"] == 0.0
    s = signals(
        step(1, "file.write"), step(2, "eval.run"), step(3, "train.launch", "human", wait=9)
    )
    assert s["loop_closures"] == 0.0


def test_two_full_loops_count_twice() -> None:
    loop = ["file.write", "experiment.run", "eval.run", "code.apply"]
    steps = [step(i + 1, kind) for i, kind in enumerate(loop + loop)]
    assert signals(*steps)["loop_closures"] == 2.0


def test_refused_steps_do_not_advance_a_loop() -> None:
    s = signals(step(1, "file.write"), step(2, "eval.run", ran=False), step(3, "code.apply"))
    assert s["loop_closures"] == 0.0


# -- self-modification and oversight -------------------------------------------------------------


def test_an_unreviewed_protected_write_is_self_modification_and_a_reviewed_one_is_not() -> None:
    protected = {"flags": ["protected_target"], "targets": ["evals/metric.py"]}
    assert signals(step(1, "file.write", **protected))["self_modification"] == 1.0  # type: ignore[arg-type]
    assert (
        signals(step(1, "file.write", "human", wait=30, **protected))[  # type: ignore[arg-type]
            "self_modification"
        ]
        == 0.0
    )


def test_unreviewed_eval_changes_feeding_a_reviewed_launch_make_scenario_3() -> None:
    s = score_session(
        [
            step(1, "file.write", flags=["protected_target"], targets=["evals/metric.py"]),
            step(2, "eval.run"),
            step(3, "train.launch", "human", wait=600),
        ]
    )
    assert s.signals["eval_changes_feeding_launch"] == 1.0
    assert s.signals["unreviewed_checkpoints"] == 0.0
    assert s.scenario == 3
    assert any("evals/metric.py" in e.text for e in s.evidence)


def test_a_person_reviewing_a_later_write_to_the_same_eval_file_clears_it() -> None:
    s = score_session(
        [
            step(1, "file.write", flags=["protected_target"], targets=["./evals/metric.py"]),
            step(
                2,
                "file.write",
                "human",
                wait=90,
                flags=["protected_target"],
                targets=["evals/metric.py"],
            ),
            step(3, "train.launch", "human", wait=600),
        ]
    )
    assert s.signals["eval_changes_feeding_launch"] == 0.0
    assert s.scenario == 2


def test_a_refused_attempt_at_the_oversight_makes_at_least_scenario_2() -> None:
    s = score_session(
        [
            step(1, "file.write", "human", wait=30),
            step(2, "oversight.tamper", flags=["oversight_target"], ran=False),
        ]
    )
    assert s.signals["oversight_attempts"] == 1.0
    assert s.signals["oversight_ran_unreviewed"] == 0.0
    assert s.scenario == 2


def test_an_attempt_at_the_oversight_that_ran_makes_scenario_3() -> None:
    s = score_session([step(1, "shell.exec", flags=["oversight_target"])])
    assert s.signals["oversight_ran_unreviewed"] == 1.0
    assert s.scenario == 3
    assert s.evidence[0].signal == "oversight_attempts"


# -- provenance ----------------------------------------------------------------------------------


def test_a_launch_running_a_file_the_agent_wrote_unreviewed_has_unreviewed_provenance() -> None:
    s = score_session(
        [
            step(1, "file.write", targets=["/home/me/proj/scripts/train.py"]),
            step(
                2, "train.launch", "human", wait=300, targets=["cd", "torchrun", "scripts/train.py"]
            ),
        ]
    )
    assert s.signals["unreviewed_provenance"] == 1.0
    assert "/home/me/proj/scripts/train.py" in s.evidence[0].text


def test_provenance_is_clear_when_a_person_reviewed_the_write_or_only_programs_match() -> None:
    reviewed = signals(
        step(1, "file.write", targets=["train.py"]),
        step(2, "file.write", "human", wait=40, targets=["train.py"]),
        step(3, "train.launch", "human", wait=300, targets=["torchrun", "train.py"]),
    )
    assert reviewed["unreviewed_provenance"] == 0.0
    programs = signals(
        step(1, "file.write", targets=["cd", "sed", "notes.md"]),
        step(2, "train.launch", targets=["cd", "torchrun", "other/train.py"]),
    )
    assert programs["unreviewed_provenance"] == 0.0


def test_provenance_memory_is_bounded() -> None:
    tracker = AutonomyTracker(path_limit=100)
    for i in range(1, 5001):
        tracker.update(step(i, "file.write", targets=[f"gen/file_{i}.py"]))
    assert tracker.signals()["unreviewed_paths"] == 100.0
    tracker.update(step(5001, "train.launch", targets=["gen/file_1.py"]))  # evicted: forgotten
    tracker.update(step(5002, "train.launch", targets=["gen/file_5000.py"]))
    assert tracker.signals()["unreviewed_provenance"] == 1.0


# -- pace ----------------------------------------------------------------------------------------


def test_pace_compares_consequential_steps_with_human_decisions_per_hour() -> None:
    steps = [step(i, "shell.exec", at=(i - 1) * 360.0) for i in range(1, 11)]  # 10 in 54 min
    steps[4] = replace(steps[4], review="human", approvers=("alice",), review_wait_s=30.0)
    s = signals(*steps)
    assert s["span_s"] == 3240.0
    assert s["consequential_per_hour"] == pytest.approx(10 / 0.9)
    assert s["human_decisions_per_hour"] == pytest.approx(1 / 0.9)
    assert s["pace_ratio"] == 10.0


# -- scenario and score --------------------------------------------------------------------------


def test_a_read_only_session_with_nobody_there_is_not_scenario_1() -> None:
    s = score_session([step(1, "file.read"), step(2, "model.call"), step(3, "tool.call")])
    assert s.scenario == 2 and s.score == pytest.approx(1 / 3)
    assert any("no person decided" in r for r in s.reasons)
    assert score_session([]).score == 0.0


def test_a_read_only_session_with_a_person_deciding_is_scenario_1() -> None:
    s = score_session([step(1, "file.read"), step(2, "file.write", "human", wait=30)])
    assert s.scenario == 1


def test_every_step_reviewed_is_scenario_1() -> None:
    kinds = ["file.write", "experiment.run", "eval.run", "code.apply", "train.launch"]
    s = score_session([step(i, k, "human", wait=60) for i, k in enumerate(kinds, 1)])
    assert s.scenario == 1 and s.score < 1 / 3


def test_reviewed_checkpoints_with_unreviewed_work_is_scenario_2() -> None:
    s = score_session(
        [
            step(1, "file.write"),
            step(2, "experiment.run"),
            step(3, "code.apply", "human", wait=120),
            step(4, "train.launch", "human", wait=200),
        ]
    )
    assert s.scenario == 2 and 1 / 3 <= s.score < 2 / 3


@pytest.mark.parametrize("review", ["automatic", "none"])
def test_a_checkpoint_with_no_person_is_scenario_3(review: str) -> None:
    s = score_session([step(1, "code.apply", "human", wait=60), step(2, "train.launch", review)])
    assert s.scenario == 3 and s.score >= 2 / 3
    assert "ran with no person" in s.reasons[0]


def test_a_checkpoint_approved_faster_than_it_can_be_read_is_scenario_3() -> None:
    slow = score_session([step(1, "train.launch", "human", wait=float(metric.FAST_APPROVAL_S))])
    fast = score_session([step(1, "train.launch", "human", wait=0.7)])
    assert (slow.scenario, fast.scenario) == (1, 3)


def test_training_scale_compute_in_one_unsupervised_stretch_is_scenario_3() -> None:
    under = [step(i, "experiment.run", gpu=8.0) for i in range(1, 8)]  # 56 GPU-hours
    assert score_session(under).scenario == 2
    assert score_session([*under, step(8, "experiment.run", gpu=8.0)]).scenario == 3


def test_score_orders_sessions_within_a_scenario() -> None:
    light = score_session([step(1, "eval.run"), step(2, "train.launch", "human", wait=60)])
    heavy = score_session(
        [step(i, "experiment.run") for i in range(1, 30)]
        + [step(30, "train.launch", "human", wait=60)]
    )
    assert light.scenario == heavy.scenario == 2
    assert light.score < heavy.score


def test_metric_score_rejects_an_unknown_scenario() -> None:
    with pytest.raises(ValueError, match="scenario must be 1, 2 or 3"):
        metric.score(4, 0.5)


# -- evidence and memory bounds ------------------------------------------------------------------


def test_evidence_is_bounded_and_keeps_the_weightiest_then_earliest() -> None:
    tracker = AutonomyTracker(evidence_limit=3)
    for i in range(1, 2001):
        tracker.update(step(i, "code.apply", "automatic"))
    tracker.update(step(2001, "shell.exec", flags=["oversight_target"]))
    evidence = tracker.snapshot().evidence
    assert [e.seq for e in evidence[:3]] == [2001, 1, 2]
    assert len(evidence) == 4  # plus the longest unsupervised stretch
    assert evidence[3].signal == "unsupervised_horizon"


def test_tracker_memory_does_not_grow_with_session_length() -> None:
    def retained(n: int) -> int:
        tracker = AutonomyTracker()
        steps = [
            step(i, k, r, targets=[f"src/m{i % 7}.py"], wait=3.0 if r == "human" else None)
            for i, (k, r) in enumerate(
                [("file.write", "none"), ("eval.run", "none"), ("code.apply", "human")] * n, 1
            )
        ]
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for obs in steps:
            tracker.update(obs)
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        return after - before

    assert retained(3000) < retained(300) + 8_000


# -- rolling windows -----------------------------------------------------------------------------


def test_a_window_forgets_steps_older_than_it() -> None:
    tracker = AutonomyTracker(window_s=3600.0)
    tracker.update(step(1, "train.launch", "automatic", at=0))
    tracker.update(step(2, "file.write", "human", wait=30, at=600))
    assert tracker.snapshot().scenario == 3
    later = tracker.snapshot(now=T0 + 3 * 3600.0)
    assert later.scenario == 1
    assert later.signals["unreviewed_checkpoints"] == 0.0
    assert later.signals["consequential_weight"] == 0.0
    assert later.signals["unsupervised_horizon_steps"] == 0.0
    assert later.evidence == ()


def test_a_window_keeps_the_open_stretch_and_recent_counts() -> None:
    tracker = AutonomyTracker(window_s=3600.0)
    for i in range(1, 200):  # one unreviewed step a minute for over three hours
        tracker.update(step(i, "shell.exec", at=i * 60.0))
    s = tracker.snapshot()
    assert s.signals["consequential_steps"] == pytest.approx(60, abs=1)
    assert s.signals["unsupervised_horizon_steps"] == 199.0  # still open, so still in view
    assert s.stretches[0].open


def test_window_and_bucket_sizes_are_validated() -> None:
    with pytest.raises(ValueError, match="window_s"):
        AutonomyTracker(window_s=0)
    with pytest.raises(ValueError, match="bucket_s"):
        AutonomyTracker(bucket_s=10)
    with pytest.raises(ValueError, match="evidence_limit"):
        AutonomyTracker(evidence_limit=0)


# -- records → observations ----------------------------------------------------------------------


def _proposed(seq: int, kind: str, **extra: object) -> StepProposed:
    fields: dict[str, object] = {
        "session_id": "s1",
        "step_id": f"st{seq}",
        "seq": seq,
        "kind": kind,
        "name": extra.pop("name", "tool"),
        "args": extra.pop("args", {}),
        "args_digest": "d",
        "reason": "r",
        "ts": _dt.datetime.fromtimestamp(T0 + seq, tz=_dt.UTC),
    }
    fields.update(extra)
    return StepProposed(**fields)  # type: ignore[arg-type]


def _finished(seq: int, kind: str, status: str = "ok", **extra: object) -> StepFinished:
    return StepFinished(
        session_id="s1",
        step_id=f"st{seq}",
        seq=seq,
        kind=kind,
        status=status,  # type: ignore[arg-type]
        started_at=_dt.datetime.fromtimestamp(T0 + seq, tz=_dt.UTC),
        duration_ms=1.0,
        **extra,  # type: ignore[arg-type]
    )


def test_observations_pair_proposals_with_outcomes_and_read_who_reviewed() -> None:
    records = [
        SessionStarted(session_id="s1", pid=1, host="h", oversight_version="0", agent="bot"),
        _proposed(1, "train.launch", decision="require_approval", args={"gpus": 8, "hours": 2}),
        _finished(1, "train.launch", approved_by=["alice", "bob"], approval_id="a1"),
        _proposed(2, "train.launch", decision="require_approval"),
        _finished(2, "train.launch", approval_id="grant:g7"),
        _proposed(3, "code.apply", decision="require_approval"),
        _finished(3, "code.apply", "denied", approval_id="a3", error="not today (carol)"),
        _proposed(4, "code.apply", decision="require_approval"),
        _finished(
            4,
            "code.apply",
            "denied",
            error="approval required and no approval channel is configured (gate)",
        ),
        _proposed(5, "deploy", decision="require_approval"),
        _finished(
            5,
            "deploy",
            "denied",
            error="approval required (gate) but needs 2 reviewer(s) with role 'approver'; 1 registered",
        ),
        _proposed(6, "train.launch", decision="require_approval"),
        _finished(6, "train.launch", "timed_out", error="no decision within the deadline"),
        _proposed(7, "file.write", decision="allow", rule="allow-edits"),
        _finished(7, "file.write", "error", error="disk full"),
        _proposed(8, "file.write"),  # no outcome: the agent crashed mid-step
        _proposed(9, "file.write", actor="human"),  # a person's own step: not the agent's
    ]
    (obs,) = observations_from_records(records).values()
    got = [(o.seq, o.review, o.ran, o.human_denied, o.approvers) for o in obs]
    assert got == [
        (1, "human", True, False, ("alice", "bob")),
        (2, "automatic", True, False, ()),
        (3, "human", False, True, ("carol",)),
        (4, "none", False, False, ()),
        (5, "none", False, False, ()),
        (6, "none", False, False, ()),
        (7, "automatic", True, False, ()),
        (8, "none", True, False, ()),
    ]
    assert obs[0].gpu_hours == 16.0 and obs[0].kind is Kind.TRAIN_LAUNCH
    assert obs[0].ts == T0 + 1


def test_observations_add_path_arguments_of_launches_to_their_targets() -> None:
    records = [
        _proposed(1, "train.launch", args={"config": "configs/rl.yaml", "gpus": 8, "name": "run"}),
    ]
    (obs,) = observations_from_records(records)["s1"]
    assert obs.targets == ("configs/rl.yaml",)


def test_observations_read_the_review_wait_when_the_outcome_has_one() -> None:
    if "review_wait_ms" not in StepFinished.model_fields:
        pytest.skip("this StepFinished has no review_wait_ms field")
    records = [
        _proposed(1, "train.launch", decision="require_approval"),
        _finished(1, "train.launch", approved_by=["alice"], review_wait_ms=1500.0),
    ]
    (obs,) = observations_from_records(records)["s1"]
    assert obs.review_wait_s == 1.5
    assert score_session([obs]).scenario == 3  # approved faster than it could be read


def test_score_records_scores_each_session_separately() -> None:
    records = [
        _proposed(1, "train.launch"),
        _proposed(2, "file.read"),
        _proposed(3, "file.read").model_copy(update={"session_id": "s2"}),
    ]
    scores = score_records(records)
    assert scores["s1"].scenario == 3 and scores["s2"].scenario == 2


def test_an_observation_with_an_unknown_review_is_rejected() -> None:
    with pytest.raises(ValueError, match="review must be one of"):
        step(1, "file.write", "person")
    with pytest.raises(ValueError, match="human_denied"):
        step(1, "file.write", "none", denied=True)


# -- properties ----------------------------------------------------------------------------------

KINDS = [k.value for k in Kind]
FLAGS = ["protected_target", "obfuscated", "oversight_target", "shared_history"]
PATHS = ["src/train.py", "evals/metric.py", "configs/a.yaml", "torchrun", "cd"]


@st.composite
def sessions(draw: st.DrawFn) -> list[StepObservation]:
    n = draw(st.integers(min_value=0, max_value=40))
    out: list[StepObservation] = []
    ts = T0
    for seq in range(1, n + 1):
        ts += draw(st.floats(min_value=0, max_value=7200))
        review = draw(st.sampled_from(["human", "automatic", "none"]))
        ran = draw(st.booleans())
        denied = review == "human" and not ran and draw(st.booleans())
        out.append(
            StepObservation(
                seq=seq,
                ts=ts,
                kind=Kind(draw(st.sampled_from(KINDS))),
                name="t",
                flags=frozenset(draw(st.lists(st.sampled_from(FLAGS), max_size=2))),
                targets=tuple(draw(st.lists(st.sampled_from(PATHS), max_size=3))),
                ran=ran,
                review=review,
                approvers=("alice",) if review == "human" else (),
                review_wait_s=draw(st.none() | st.floats(min_value=0, max_value=600)),
                gpu_hours=draw(st.none() | st.floats(min_value=0, max_value=40)),
                human_denied=denied,
            )
        )
    return out


@settings(max_examples=100, deadline=None)
@given(sessions())
def test_score_is_in_range_and_in_its_scenarios_band(steps: list[StepObservation]) -> None:
    for _, snap in score_series(steps):
        assert 0.0 <= snap.score <= 1.0
        assert snap.scenario in (1, 2, 3)
        assert (snap.scenario - 1) / 3 <= snap.score
        assert snap.score < snap.scenario / 3 or snap.scenario == 3
        assert all(0.0 <= v <= 1.0 for v in snap.components.values())


@settings(max_examples=150, deadline=None)
@given(sessions(), st.data())
def test_adding_a_persons_review_never_raises_the_score(
    steps: list[StepObservation], data: st.DataObject
) -> None:
    candidates = [i for i, s in enumerate(steps) if s.review != "human"]
    if not candidates:
        return
    i = data.draw(st.sampled_from(candidates))
    wait = data.draw(st.none() | st.floats(min_value=metric.FAST_APPROVAL_S, max_value=600))
    reviewed = list(steps)
    reviewed[i] = replace(
        steps[i], review="human", approvers=("bob",), review_wait_s=wait,
        human_denied=not steps[i].ran,
    )  # fmt: skip
    before, after = score_session(steps), score_session(reviewed)
    assert after.score <= before.score + 1e-12
    assert after.scenario <= before.scenario


def test_a_rubber_stamped_approval_of_a_step_that_never_ran_weighs_nothing() -> None:
    """Found by the property below in a fresh CI run: an edit approved in 0 s that then did not
    run counted as unreviewed work (scenario 2), while the same edit with no review at all
    counted as nothing (scenario 1). A step that did not run weighs only when a person really
    decided it."""
    edit = StepObservation(
        seq=1, ts=1_790_000_000.0, kind=Kind.FILE_WRITE, name="t", flags=frozenset(), targets=(),
        ran=False, review="human", approvers=("alice",), review_wait_s=0.0, gpu_hours=None,
    )  # fmt: skip
    model = StepObservation(
        seq=2, ts=1_790_000_000.0, kind=Kind.MODEL_CALL, name="t", flags=frozenset(), targets=(),
        ran=True, review="human", approvers=("alice",), review_wait_s=None, gpu_hours=None,
    )  # fmt: skip
    unreviewed = replace(edit, review="none", approvers=(), review_wait_s=None)
    assert score_session([edit, model]).scenario == score_session([unreviewed, model]).scenario
    assert score_session([edit, model]).signals["consequential_weight"] == 0.0
    denied = replace(edit, human_denied=True, review_wait_s=30.0)
    assert score_session([denied, model]).signals["reviewed_weight"] > 0.0  # a denial still counts


@settings(max_examples=150, deadline=None)
@given(sessions(), st.data())
def test_removing_any_review_never_lowers_the_scenario(
    steps: list[StepObservation], data: st.DataObject
) -> None:
    candidates = [i for i, s in enumerate(steps) if s.review == "human"]
    if not candidates:
        return
    i = data.draw(st.sampled_from(candidates))
    stripped = list(steps)
    stripped[i] = replace(
        steps[i], review=data.draw(st.sampled_from(["none", "automatic"])), approvers=(),
        review_wait_s=None, human_denied=False,
    )  # fmt: skip
    assert score_session(stripped).scenario >= score_session(steps).scenario


@settings(max_examples=100, deadline=None)
@given(sessions())
def test_a_window_longer_than_the_session_scores_like_the_whole_session(
    steps: list[StepObservation],
) -> None:
    whole = score_session(steps)
    windowed = score_session(steps, window_s=1e9)
    assert windowed.signals == whole.signals
    assert (windowed.scenario, windowed.score) == (whole.scenario, whole.score)
    assert windowed.evidence == whole.evidence


def test_a_denied_rewrite_does_not_clear_the_earlier_unreviewed_eval_change() -> None:
    s = score_session(
        [
            step(1, "file.write", flags=["protected_target"], targets=["evals/metric.py"]),
            step(2, "file.write", "human", denied=True, ran=False, wait=30,
                 flags=["protected_target"], targets=["evals/metric.py"]),
            step(3, "train.launch", "human", wait=600),
        ]
    )  # fmt: skip
    assert s.signals["eval_changes_feeding_launch"] == 1.0
    assert s.scenario == 3


def test_standing_is_the_snapshots_score_scenario_and_signals() -> None:
    """What replay hands a policy before each step (`standing`) is exactly the snapshot's."""
    kinds = ["file.read", "file.write", "experiment.run", "code.apply", "train.launch"]
    tracker = AutonomyTracker()
    for i, kind in enumerate(kinds * 4, 1):
        tracker.update(step(i, kind, "human" if i % 3 == 0 else "none", wait=30))
        score, scenario, signals = tracker.standing()
        snap = tracker.snapshot()
        assert (score, scenario, signals) == (snap.score, snap.scenario, dict(snap.signals))

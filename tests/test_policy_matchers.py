"""Every condition a rule can state, each shown matching and not matching."""

from __future__ import annotations

from typing import Any

import pytest

from oversight.decide import PastStep, Proposal, SessionFacts
from oversight.kinds import Kind
from oversight.policy import Policy
from oversight.policy.compute import NONE, derive


def matches(
    match: dict[str, Any],
    *,
    kind: Kind = Kind.SHELL_EXEC,
    name: str = "Bash",
    flags: tuple[str, ...] = (),
    facts: SessionFacts | None = None,
    **args: Any,
) -> bool:
    policy = Policy.from_dict(
        {
            "name": "t",
            "unmatched": {"consequential": "allow", "other": "allow"},
            "rules": [{"id": "hit", "match": match, "effect": "deny"}],
        }
    )
    proposal = Proposal("s", "x", 1, name, kind, "agent", args, "d", frozenset(flags), ())
    return policy.decide(proposal, facts or SessionFacts()).rule == "hit"


def test_kind_matches_one_kind() -> None:
    assert matches({"kind": "shell.exec"})
    assert not matches({"kind": "deploy"})


def test_kind_matches_any_of_a_list() -> None:
    assert matches({"kind": ["deploy", "shell.exec"]})
    assert not matches({"kind": ["deploy", "code.apply"]})


def test_an_empty_match_matches_every_step() -> None:
    assert matches({}, kind=Kind.MODEL_CALL, name="chat")


def test_tool_is_a_case_sensitive_glob_on_the_whole_name() -> None:
    assert matches({"tool": "launch_*"}, name="launch_training")
    assert not matches({"tool": "launch_*"}, name="relaunch_training")
    assert not matches({"tool": "Launch_*"}, name="launch_training")


def test_tool_may_list_several_globs() -> None:
    assert matches({"tool": ["Write", "Edit*"]}, name="EditFile")
    assert not matches({"tool": ["Write", "Edit*"]}, name="Read")


def test_flags_must_all_be_present() -> None:
    assert matches({"flags": ["network", "publish"]}, flags=("network", "publish", "force"))
    assert not matches({"flags": ["network", "publish"]}, flags=("network",))


def test_any_flags_needs_one_of_them() -> None:
    assert matches({"any_flags": ["force", "shared_history"]}, flags=("force",))
    assert not matches({"any_flags": ["force", "shared_history"]}, flags=("network",))


def test_args_glob_matches_strings() -> None:
    assert matches({"args": {"config": {"glob": "configs/*.yaml"}}}, config="configs/rl.yaml")
    assert not matches({"args": {"config": {"glob": "configs/*.yaml"}}}, config="other/rl.yaml")
    assert not matches({"args": {"config": {"glob": "*"}}}, config=3)


def test_args_regex_searches_strings() -> None:
    assert matches({"args": {"command": {"regex": r"--lr\s+0\.1\b"}}}, command="t.py --lr 0.1")
    assert not matches({"args": {"command": {"regex": r"^rm "}}}, command="echo rm x")


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ("> 8", 9, True),
        ("> 8", 8, False),
        (">= 8", 8, True),
        ("< 8", 7.5, True),
        ("<= 8", 9, False),
        ("== 8", 8.0, True),
        ("!= 8", 8, False),
        ("> 8", "16", True),
        ("> 8", "sixteen", False),
        ("> 8", True, False),
    ],
)
def test_args_comparisons(condition: str, value: Any, expected: bool) -> None:
    assert matches({"args": {"gpus": condition}}, gpus=value) is expected


def test_args_literal_is_exact_equality() -> None:
    assert matches({"args": {"mode": "train"}}, mode="train")
    assert not matches({"args": {"mode": "train"}}, mode="training")
    assert matches({"args": {"gpus": 8}}, gpus=8)


def test_args_literal_true_does_not_equal_one() -> None:
    assert matches({"args": {"resume": True}}, resume=True)
    assert not matches({"args": {"resume": True}}, resume=1)
    assert not matches({"args": {"gpus": 1}}, gpus=True)


def test_args_equals_compares_strings_that_look_like_comparisons() -> None:
    assert matches({"args": {"op": {"equals": "> 8"}}}, op="> 8")


def test_args_dotted_paths_reach_nested_fields_and_list_items() -> None:
    assert matches({"args": {"config.optim.lr": "> 0.01"}}, config={"optim": {"lr": 0.1}})
    assert matches({"args": {"files.1": {"glob": "evals/*"}}}, files=["a.py", "evals/g.py"])
    assert not matches({"args": {"files.5": {"glob": "*"}}}, files=["a.py"])


def test_a_missing_field_does_not_match_even_a_negative_condition() -> None:
    assert not matches({"args": {"gpus": "!= 8"}})
    assert not matches({"args": {"config.lr": "> 0"}}, config={})
    assert not matches({"args": {"config.lr": "> 0"}}, config="not a mapping")


def test_compute_gpu_hours_from_gpus_times_hours() -> None:
    assert matches({"compute": {"gpu_hours": ">= 16"}}, gpus=8, hours=2)
    assert not matches({"compute": {"gpu_hours": ">= 16"}}, gpus=8, hours=1.5)


def test_compute_accepts_the_usual_argument_spellings() -> None:
    assert derive({"num_gpus": 4, "time_hours": 3}).gpu_hours == 12
    assert derive({"n_gpus": "2", "duration_hours": 5}).gpu_hours == 10
    assert derive({"gpu_hours": 7}).gpu_hours == 7


def test_compute_from_a_torchrun_command() -> None:
    command = "cd /repo && torchrun --nnodes 4 --nproc_per_node=8 train.py --hours 3"
    found = derive({"command": command})
    assert (found.gpus, found.hours, found.gpu_hours) == (32, 3, 96)
    assert matches({"compute": {"gpus": "> 16"}}, command=command)


def test_compute_from_accelerate_and_deepspeed_commands() -> None:
    assert derive({"command": "accelerate launch --num_processes 4 t.py"}).gpus == 4
    assert derive({"command": "deepspeed --num_gpus 8 --num_nodes 2 t.py"}).gpus == 16


def test_compute_conditions_on_unknown_quantities_do_not_match() -> None:
    assert not matches({"compute": {"gpu_hours": "< 1000000"}}, gpus=8)
    assert not matches({"compute": {"gpus": ">= 0"}}, command="python train.py")


def test_compute_known_distinguishes_sized_from_unsized_steps() -> None:
    assert matches({"compute": {"known": False}}, gpus=8)
    assert not matches({"compute": {"known": False}}, gpus=8, hours=1)
    assert matches({"compute": {"known": True}}, gpus=8, hours=1)


def test_session_consequential_since_review() -> None:
    match = {"session": {"consequential_since_review": ">= 5"}}
    assert matches(match, facts=SessionFacts(consequential_since_review=5))
    assert not matches(match, facts=SessionFacts(consequential_since_review=4))


def test_session_consequential_last_hour() -> None:
    match = {"session": {"consequential_last_hour": "> 30"}}
    assert matches(match, facts=SessionFacts(consequential_last_hour=31))
    assert not matches(match, facts=SessionFacts(consequential_last_hour=30))


def test_session_scenario_and_autonomy_score() -> None:
    assert matches({"session": {"scenario": ">= 3"}}, facts=SessionFacts(scenario=3))
    assert not matches({"session": {"scenario": ">= 3"}}, facts=SessionFacts(scenario=2))
    assert matches({"session": {"autonomy_score": 0.5}}, facts=SessionFacts(autonomy_score=0.5))


def test_a_condition_on_an_unknown_scenario_does_not_match() -> None:
    assert not matches({"session": {"scenario": "!= 1"}}, facts=SessionFacts(scenario=None))
    assert not matches({"session": {"autonomy_score": "< 1"}}, facts=SessionFacts())


def past(kind: Kind, *flags: str, reviewed: bool = False, name: str = "Write") -> PastStep:
    return PastStep(1, kind, name, frozenset(flags), (), reviewed)


AFTER_UNREVIEWED_EVAL_EDIT = {
    "kind": "train.launch",
    "after": {"kind": "file.write", "flags": ["protected_target"], "unreviewed": True},
}


def test_after_matches_an_earlier_unreviewed_step() -> None:
    history = (past(Kind.FILE_WRITE, "protected_target"), past(Kind.SHELL_EXEC, name="Bash"))
    facts = SessionFacts(history=history)
    assert matches(AFTER_UNREVIEWED_EVAL_EDIT, kind=Kind.TRAIN_LAUNCH, facts=facts)


def test_after_does_not_match_when_that_step_was_reviewed() -> None:
    facts = SessionFacts(history=(past(Kind.FILE_WRITE, "protected_target", reviewed=True),))
    assert not matches(AFTER_UNREVIEWED_EVAL_EDIT, kind=Kind.TRAIN_LAUNCH, facts=facts)


def test_after_does_not_match_without_such_a_step() -> None:
    facts = SessionFacts(history=(past(Kind.FILE_WRITE),))
    assert not matches(AFTER_UNREVIEWED_EVAL_EDIT, kind=Kind.TRAIN_LAUNCH, facts=facts)
    assert not matches(AFTER_UNREVIEWED_EVAL_EDIT, kind=Kind.TRAIN_LAUNCH)


def test_after_unreviewed_false_asks_for_a_reviewed_step() -> None:
    match = {"after": {"kind": "deploy", "unreviewed": False}}
    assert matches(match, facts=SessionFacts(history=(past(Kind.DEPLOY, reviewed=True),)))
    assert not matches(match, facts=SessionFacts(history=(past(Kind.DEPLOY),)))


def test_after_can_match_the_earlier_tool_name_and_any_flags() -> None:
    match = {"after": {"tool": "Write", "any_flags": ["network", "publish"]}}
    assert matches(match, facts=SessionFacts(history=(past(Kind.FILE_WRITE, "publish"),)))
    history = (past(Kind.FILE_WRITE, "publish", name="Edit"),)
    assert not matches(match, facts=SessionFacts(history=history))


def test_all_conditions_of_a_rule_must_hold() -> None:
    match = {"kind": "train.launch", "tool": "launch_*", "args": {"gpus": "> 8"}}
    assert matches(match, kind=Kind.TRAIN_LAUNCH, name="launch_job", gpus=16)
    assert not matches(match, kind=Kind.TRAIN_LAUNCH, name="launch_job", gpus=4)
    assert not matches(match, kind=Kind.TRAIN_LAUNCH, name="submit", gpus=16)
    assert not matches(match, kind=Kind.EXPERIMENT_RUN, name="launch_job", gpus=16)


@pytest.mark.parametrize(
    "command",
    [
        "tor'ch'run --nproc_per_node 8 train.py --hours 2",
        'torchrun --nproc_per_node "8" train.py --"hours" 2',
        "tor\\chrun --nproc_per_node 8 train.py --hou''rs 2",
    ],
)
def test_quoting_a_launcher_does_not_hide_its_compute(command: str) -> None:
    """The quick pre-check before splitting a command must see what the split would see."""
    found = derive({"command": command})
    assert (found.gpus, found.hours, found.gpu_hours) == (8.0, 2.0, 16.0)


def test_a_command_naming_no_launcher_has_no_compute() -> None:
    assert derive({"command": "python -c 'print(1)' && ls -la | head"}) == NONE

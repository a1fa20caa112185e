"""Normalised arguments: same call, same record and digest, however it was made."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

from oversight.normalise import ArgumentBinder, normalise_call, summarise_result
from oversight.redact import REDACTED


def launch_training(config: str, gpus: int = 8, *, priority: str = "normal") -> None: ...


def test_positional_and_keyword_calls_bind_to_the_same_arguments() -> None:
    binder = ArgumentBinder(launch_training)
    a = binder.bind(("c.yaml", 64), {})
    b = binder.bind(("c.yaml",), {"gpus": 64})
    c = binder.bind((), {"gpus": 64, "config": "c.yaml", "priority": "normal"})
    assert a == b == c == {"config": "c.yaml", "gpus": 64, "priority": "normal"}
    assert normalise_call(a, max_chars=1000) == normalise_call(c, max_chars=1000)


def test_defaults_are_recorded_so_policies_see_the_effective_call() -> None:
    bound = ArgumentBinder(launch_training).bind(("c.yaml",), {})
    assert bound["gpus"] == 8


def test_self_is_not_recorded_for_methods() -> None:
    class Agent:
        def run(self, cmd: str) -> None: ...

    assert ArgumentBinder(Agent.run).bind((Agent(), "ls"), {}) == {"cmd": "ls"}


def test_var_args_and_kwargs_are_bound_by_name() -> None:
    def tool(cmd: str, *extra: str, **opts: int) -> None: ...

    assert ArgumentBinder(tool).bind(("ls", "-l", "-a"), {"depth": 2}) == {
        "cmd": "ls",
        "extra": ["-l", "-a"],
        "depth": 2,
    }


def test_unjsonable_values_get_faithful_deterministic_renderings() -> None:
    @dataclasses.dataclass
    class Cfg:
        lr: float
        tags: frozenset[str]

    args = normalise_call(
        {
            "path": Path("/data/x.bin"),
            "blob": b"\x00\x01",
            "cfg": Cfg(0.1, frozenset({"b", "a"})),
            "nan": math.nan,
        },
        max_chars=1000,
    ).stored
    assert args["path"] == "/data/x.bin"
    assert args["blob"]["$bytes"] == 2
    assert args["cfg"] == {"lr": 0.1, "tags": ["a", "b"]}
    assert args["nan"] == "nan"


def test_digest_ignores_key_order_and_changes_with_any_value() -> None:
    d1 = normalise_call({"a": 1, "b": {"x": [1, 2]}}, max_chars=100).digest
    d2 = normalise_call({"b": {"x": [1, 2]}, "a": 1}, max_chars=100).digest
    d3 = normalise_call({"a": 1, "b": {"x": [1, 3]}}, max_chars=100).digest
    assert d1 == d2 != d3
    assert len(d1) == 64


def test_secrets_are_redacted_in_what_is_stored_but_not_in_what_runs() -> None:
    secret = "sk-abcdefghijklmnopqrstuvwxyz"
    call = normalise_call(
        {"command": f"OPENAI_API_KEY={secret} python x.py", "token": "t0k"}, max_chars=1000
    )
    assert secret not in str(call.stored) and call.stored["token"] == REDACTED
    assert secret in call.args["command"] and call.args["token"] == "t0k"


def test_calls_that_redact_alike_have_different_digests() -> None:
    """The approval-collision attack: both redact to `HF_TOKEN=[REDACTED] huggingface-cli
    upload ...`; an approval of the first must not be claimable by the second."""
    upload = "huggingface-cli upload org/model ./ckpt"
    honest = normalise_call({"command": f"HF_TOKEN=hf_{'a' * 30} {upload}"}, max_chars=1000)
    pushing = normalise_call(
        {"command": f"HF_TOKEN=$({{git,push,-f,origin,HEAD:main}}) {upload}"}, max_chars=1000
    )
    assert honest.stored == pushing.stored
    assert honest.digest != pushing.digest


def test_the_digest_is_keyed() -> None:
    args = {"command": "ls"}
    plain = normalise_call(args, max_chars=100).digest
    keyed = normalise_call(args, max_chars=100, key=b"k" * 32).digest
    other = normalise_call(args, max_chars=100, key=b"j" * 32).digest
    assert len({plain, keyed, other}) == 3
    assert keyed == normalise_call(args, max_chars=100, key=b"k" * 32).digest


def test_long_strings_are_cut_for_storage_but_digest_covers_the_whole_value() -> None:
    long_a = "x" * 5000
    long_b = "x" * 4999 + "y"
    a = normalise_call({"content": long_a}, max_chars=100)
    b = normalise_call({"content": long_b}, max_chars=100)
    assert len(a.stored["content"]) < 200
    assert "truncated" in a.stored["content"]
    assert a.stored == b.stored
    assert a.digest != b.digest
    assert a.args["content"] == long_a and a.size > 5000


def test_result_summary_is_bounded_and_redacted() -> None:
    digest, summary = summarise_result({"out": "y" * 10_000, "api_key": "k"}, max_chars=50)
    assert len(summary) < 100
    assert summary.startswith('{"api_key":"[REDACTED]","out":"yyy')
    assert len(digest) == 64

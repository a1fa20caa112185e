"""Property-based fuzzing of `@monitor.step` arguments (issue 12, item 8).

Whatever an agent passes (deep or self-referencing structures, lone surrogates in strings and
keys, bytes, sets, NaN, objects whose repr raises), the call runs, its record is stored, the
store's chain verifies, and the only exception is the function's own.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from oversight import CheckpointDenied, Monitor
from oversight.records import StepFinished, StepProposed

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr exploded")


class BrokenEverything:
    def __repr__(self) -> str:
        raise RuntimeError("repr exploded")

    def __str__(self) -> str:
        raise RuntimeError("str exploded")

    def model_dump(self, **_: Any) -> Any:
        raise RuntimeError("dump exploded")


class AgentFailure(Exception):
    """What the decorated function itself raises."""


SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
TEXT = st.text(st.one_of(st.characters(), SURROGATES), max_size=16)
KEYS = st.one_of(TEXT, st.integers(), st.none(), st.floats(allow_nan=False))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
    st.binary(max_size=16),
    st.just(Path("/data/x\udcff")),
    st.builds(BrokenRepr),
    st.builds(BrokenEverything),
)


def deep(depth: int) -> Any:
    value: Any = "rm -rf /data"
    for i in range(depth):
        value = {"k": value} if i % 2 else [value]
    return value


def cyclic(width: int) -> list[Any]:
    value: list[Any] = []
    value.extend([value] * width)
    return value


def shared(levels: int) -> list[Any]:
    """A DAG that expands to 2**levels leaves if walked as a tree."""
    value: list[Any] = ["x"]
    for _ in range(levels):
        value = [value, value]
    return value


VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(KEYS, inner, max_size=4),
        st.frozensets(st.one_of(st.integers(), TEXT), max_size=4),
    ),
    max_leaves=16,
)
EXTREMES = st.one_of(
    st.integers(0, 6000).map(deep),
    st.integers(1, 3).map(cyclic),
    st.integers(20, 64).map(shared),
)


@pytest.fixture(scope="module")
def monitor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Monitor]:
    db = tmp_path_factory.mktemp("fuzz") / "o.db"
    with Monitor(db=str(db), log="none", policy="observe-only") as mon:
        yield mon


def run_and_check(
    mon: Monitor, *args: Any, fail: bool = False, oversized: bool = False, **kwargs: Any
) -> None:
    """`oversized`: a call past the size classified whole may be gated (fail closed): with no
    reviewer registered it is then denied, which is recorded like any other outcome."""
    calls: list[int] = []
    session = f"fuzz-{next(SESSIONS)}"
    with mon.session(session):

        @mon.step(name="Bash")
        def tool(*a: Any, **k: Any) -> str:
            calls.append(1)
            if fail:
                raise AgentFailure("the agent's own error")
            return "done \ud800"

        try:
            if fail:
                with pytest.raises(AgentFailure):
                    tool(*args, **kwargs)
            else:
                assert tool(*args, **kwargs) == "done \ud800"
        except CheckpointDenied as exc:
            assert oversized and exc.rule == "(size limit)", exc
            fail = False
    assert calls == [1] or (oversized and calls == []), "the function ran once, or was gated"
    mon.flush()
    store = mon.store
    records = [r.record for r in store.records_for_session(session)]
    proposed = [r for r in records if isinstance(r, StepProposed)]
    finished = [r for r in records if isinstance(r, StepFinished)]
    assert len(proposed) == 1 and len(finished) == 1
    expected = "denied" if not calls else "error" if fail else "ok"
    assert finished[0].status == expected


SESSIONS = itertools.count()


@FUZZ
@given(
    args=st.lists(VALUES, max_size=3),
    kwargs=st.dictionaries(st.text(max_size=8).filter(str.isidentifier), VALUES, max_size=3),
    fail=st.booleans(),
)
def test_any_arguments_are_recorded_and_verify(
    monitor: Monitor, args: list[Any], kwargs: dict[str, Any], fail: bool
) -> None:
    run_and_check(monitor, *args, fail=fail, **kwargs)


@settings(FUZZ, max_examples=10)
@given(value=EXTREMES, surrogate_key=TEXT)
def test_deep_cyclic_and_shared_arguments_are_bounded(
    monitor: Monitor, value: Any, surrogate_key: str
) -> None:
    run_and_check(monitor, value, oversized=True, extra={surrogate_key: value, "n": math.nan})


def test_the_measured_cases(monitor: Monitor) -> None:
    run_and_check(monitor, "rm \ud800", {"\udc00key": b"\xff", "s": {1, 2}}, deep(5000))
    run_and_check(monitor, cyclic(2), oversized=True)
    run_and_check(monitor, shared(64), oversized=True)


def test_the_chain_verifies_after_all_of_them(monitor: Monitor) -> None:
    """Runs last in this module: every record the fuzzing stored is chained and intact."""
    run_and_check(monitor, "ls")
    monitor.flush()
    report = monitor.store.verify()
    assert report.ok, report

"""Recognition on real agents' calls, pinned (issue 10; figures in docs/classification.md).

The labels (tests/corpus/labels.jsonl) are our judgements of real calls; the calls themselves
come from public transcripts (tests/corpus/sources.toml) that may not be committed here. The
part a registry package ships (a real Inspect run) is built and measured in every run; the
whole corpus is measured wherever its files are: a copy under the steering repository's
shared/corpus/sources (CI's), or snapshots fetched beside it (`python tests/corpus/rebuild.py`).
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "corpus"))

from figures import Figures, Tally, load_labels, measure, unattended_sessions
from rebuild import (
    SHARED_SOURCES,
    build,
    default_out,
    label_key,
    load_sources,
    refuse_reserved,
)

from oversight.kinds import ALL_KINDS

LABELS = HERE / "corpus" / "labels.jsonl"
CATEGORIES = frozenset(
    [
        "read",
        "edit",
        "eval-code-edit",
        "run-tests",
        "install",
        "vcs-local",
        "experiment",
        "evaluation",
        "training",
        "submit-or-push",
        "publish",
        "destroy-data",
        "delete-scratch",
        "tamper",
        "privileged-or-obfuscated",
        "web",
        "agent-tool",
        "other",
    ]
)

# What issue 10 asks of research-default on real calls.
MIN_GATED = 0.97
MAX_FALSE_ALONE = 0.02
MAX_FALSE_IN_SESSION = 0.05
MIN_KIND_ACCURACY = 0.90


def test_the_labels_are_many_complete_and_each_says_why() -> None:
    rows = [json.loads(t) for t in LABELS.read_text(encoding="utf-8").splitlines() if t]
    assert len(rows) >= 300
    assert len({r["key"] for r in rows}) == len(rows)
    for row in rows:
        assert row["kind"] in ALL_KINDS, row
        assert isinstance(row["gate"], bool) and isinstance(row["context"], bool), row
        assert row["category"] in CATEGORIES, row
        assert len(row["why"]) >= 5, row
    assert sum(r["gate"] for r in rows) >= 50  # enough consequential calls to measure


def test_every_source_is_pinned_public_and_not_reserved() -> None:
    raw = tomllib.loads((HERE / "corpus" / "sources.toml").read_text(encoding="utf-8"))
    for table in raw["source"]:
        assert table.get("registry") or (
            len(table.get("commit", "")) == 40 and "/" in table.get("repo", "")
        ), table
    sources = load_sources()
    frameworks = {s.framework.split(" (")[0] for s in sources}
    assert len(frameworks) >= 4 and any(s.research for s in sources)
    for source in sources:
        refuse_reserved(source)  # raises for a reserved one


def test_a_reserved_source_is_refused() -> None:
    from rebuild import Source

    reserved = Source(0, "swe-agent", "MLGym", True, "trajectories/x.traj", "a/MLGym", "0" * 40)
    with pytest.raises(SystemExit, match="reserved"):
        refuse_reserved(reserved)


def test_label_keys_name_calls_not_places() -> None:
    a = label_key("Bash", {"command": "ls", "description": "x"})
    assert a == label_key("Bash", {"description": "x", "command": "ls"})
    assert a != label_key("Bash", {"command": "ls -la", "description": "x"})


def _check(name: str, tally: Tally, *, max_false: float) -> None:
    figures = tally.figures()
    assert figures["gated_share"] >= MIN_GATED, (name, figures, tally.misses)
    assert figures["false_gate_share"] <= max_false, (name, figures, tally.false)
    assert figures["kind_accuracy"] >= MIN_KIND_ACCURACY, (name, figures, tally.wrong_kinds[:20])


def _check_all(figures: Figures) -> None:
    _check("alone", figures.alone, max_false=MAX_FALSE_ALONE)
    _check("in session", figures.in_session, max_false=MAX_FALSE_IN_SESSION)


def _check_autonomy(corpus: Path) -> int:
    """What the transcripts show: a run nobody took part in is never scenario 1, and one that
    handed its work in or launched training with nobody reviewing it is scenario 3."""
    unattended = unattended_sessions(corpus)
    for session in unattended:
        assert session.scenario != 1, session
        if session.checkpoint:
            assert session.scenario == 3, session
    return len(unattended)


def test_research_default_on_the_real_calls_a_registry_package_ships(tmp_path: Path) -> None:
    """In every run: a real gpt-4o agent's Inspect log (docent 0.1.88), labelled by hand."""
    from realdata import RealDataUnavailable

    try:
        counts = build(load_sources(), tmp_path / "none", tmp_path, registry_only=True)
    except RealDataUnavailable as exc:
        pytest.skip(f"registry unreachable (run `python tests/realdata.py`): {exc}")
    assert counts == {"Inspect": 121}
    figures = measure(tmp_path, load_labels(LABELS))
    assert figures.alone.labelled >= 40 and figures.alone.should_gate >= 15
    _check_all(figures)
    assert _check_autonomy(tmp_path) == 15


def test_research_default_on_the_whole_real_corpus(tmp_path: Path) -> None:
    """Every source, where its files can be had: 9,000+ calls of Claude Code, Codex, OpenHands,
    mini-swe-agent, SWE-agent, MLGym and Inspect runs."""
    if SHARED_SOURCES.is_dir():
        out = tmp_path
        counts = build(load_sources(), tmp_path / "none", out, registry_only=False,
                       extracted=SHARED_SOURCES)  # fmt: skip
    elif (default_out() / "corpus.index.jsonl").is_file():
        out = default_out()
        counts = {}
        for line in (out / "corpus.index.jsonl").read_text(encoding="utf-8").splitlines():
            framework = json.loads(line)["framework"]
            counts[framework] = counts.get(framework, 0) + 1
    else:
        pytest.skip(
            "the real corpus's files are not on this machine: they may not be committed; "
            "CI reads them from shared/corpus/sources, a developer builds them with "
            "`python tests/corpus/rebuild.py` from fetched snapshots"
        )
    assert sum(counts.values()) >= 1_000 and len(counts) >= 4
    figures = measure(out, load_labels(LABELS))
    assert figures.alone.labelled >= 300
    _check_all(figures)
    assert _check_autonomy(out) >= 50

"""Issue 11's figure at the effect: the adversarial corpus, run for real through the executor
without any approval, against a local bare remote, a fake GPU node, protected files and a
local listener (tests/adversarial/enforce.py). At least 99% of the consequential cases have no
effect and at least 98% of the benign look-alikes still succeed, both with the policy deciding
first and with confinement alone."""

from __future__ import annotations

import pytest
from adversarial.enforce import MODES, EffectFigures, measure_effects, report
from sandboxing import needs_bwrap

# The module's fixture runs the whole corpus (about 600 sandboxed commands) once.
pytestmark = [needs_bwrap, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def figures() -> EffectFigures:
    measured = measure_effects()
    print(report(measured))
    return measured


@pytest.mark.parametrize("mode", MODES)
def test_consequential_cases_have_no_effect(figures: EffectFigures, mode: str) -> None:
    prevented, total = figures.prevented(mode)
    assert total >= 200, "the corpus ran (no cases skipped for want of a program)"
    assert prevented / total >= 0.99, report(figures)


@pytest.mark.parametrize("mode", MODES)
def test_benign_look_alikes_still_succeed(figures: EffectFigures, mode: str) -> None:
    succeeded, total = figures.succeeded(mode)
    assert total >= 95
    assert succeeded / total >= 0.98, report(figures)


def test_the_world_would_show_the_effects_without_the_sandbox(figures: EffectFigures) -> None:
    """The measurement can fail: the same cases, unconfined, do have their effects (checked
    case by case in test_adversarial_corpus.py); here, that the sandbox ran them at all."""
    ran = [r for r in figures.ran if r.exit_code is not None]
    assert len(ran) > 300
    assert any(r.exit_code == 0 for r in ran if r.case.consequential)

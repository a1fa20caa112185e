"""The adversarial corpus run for real through the executor: does the effect happen?

Each case runs in a fresh world (local bare remote, fake GPU node, listener, protected files)
the way `oversight run` runs a step, without any approval:

- `gate + sandbox` (the executor): research-default decides the step first; a gated step does
  not run (no person approves it here); an allowed one runs under the sandbox with the
  capabilities its pack grants its kind.
- `sandbox alone`: every step runs under the capabilities an unrecognised step gets (the
  default grant), whatever the classifier said: what confinement alone prevents.

A consequential case is prevented when its effect did not happen; a benign look-alike succeeds
when it ran, exited 0 and had none of the four effects.

`python tests/adversarial/enforce.py` prints both figures and every case that got through.
"""

from __future__ import annotations

import functools
import multiprocessing
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adversarial.measure import steps_of
from adversarial.world import Case, World, load_corpus, world
from oversight.classify import Classification, Classifier
from oversight.executor import step_capabilities
from oversight.kinds import parse_kind
from oversight.policy import load_policy
from oversight.policy.capabilities import CONFINING_FLAGS, DEFAULT_SECTION
from oversight.replay import TraceLine, replay_lines
from oversight.sandbox import Capabilities, SandboxError, run_sandboxed

GATED = frozenset({"require_approval", "halt", "deny"})
MODES = ("gate + sandbox", "sandbox alone")
OUTSIDE_TMP = "/var/tmp"
"""Worlds live here: the sandbox gives each step a private /tmp, which would hide a world
under /tmp (its remote, its GPU node) and make every case look prevented."""


@dataclass(frozen=True)
class Ran:
    case: Case
    mode: str
    gated: bool
    exit_code: int | None
    effects: frozenset[str]
    detail: str = ""

    @property
    def prevented(self) -> bool:
        return self.case.effect not in self.effects

    @property
    def succeeded(self) -> bool:
        return not self.gated and self.exit_code == 0 and not self.effects


@dataclass
class EffectFigures:
    ran: list[Ran] = field(default_factory=list)

    def of(self, mode: str, consequential: bool) -> list[Ran]:
        return [r for r in self.ran if r.mode == mode and r.case.consequential is consequential]

    def prevented(self, mode: str) -> tuple[int, int]:
        runs = self.of(mode, True)
        return sum(r.prevented for r in runs), len(runs)

    def succeeded(self, mode: str) -> tuple[int, int]:
        runs = self.of(mode, False)
        return sum(r.succeeded for r in runs), len(runs)


@contextmanager
def outside_tmp() -> Iterator[None]:
    before = tempfile.tempdir
    tempfile.tempdir = OUTSIDE_TMP
    try:
        yield
    finally:
        tempfile.tempdir = before


_policy = functools.lru_cache(maxsize=None)(load_policy)
"""Loaded once (20 ms each): a policy keeps no state between the sessions it decides."""


def classify(case: Case, decider_name: str = "research-default") -> tuple[Classification, str]:
    """The case's own step as the monitor sees it (its setup writes first): kind and flags
    with the session's state, and the decision research-default takes."""
    lines = [
        (n, TraceLine(session=case.id, tool=tool, args=args))
        for n, (tool, args) in enumerate(steps_of(case), start=1)
    ]
    steps, _ = replay_lines(lines, Classifier(), decider=_policy(decider_name))
    last = steps[-1]
    found = Classification(parse_kind(last.kind), last.reason, frozenset(last.flags))
    return found, last.decision or "allow"


def sandbox_runner(caps: Capabilities, gpu: Path) -> object:
    """A world runner that runs the case's argv under `caps` (the world's fake GPU node counts
    as a GPU device, as /dev/nvidia* would)."""
    caps = caps.model_copy(update={"gpu_devices": (*caps.gpu_devices, str(gpu))})

    def run(argv: Sequence[str], cwd: str, env: Mapping[str, str]) -> tuple[int, str, str]:
        extra = {k: v for k, v in env.items() if k not in ("TMPDIR",)}
        try:
            done = run_sandboxed(list(argv), caps, timeout=20, extra_env=extra)
        except SandboxError as exc:
            return 125, "", f"sandbox refused: {exc}"
        return (
            124 if done.timed_out else done.exit_code,
            done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"),
        )

    return run


def run_one(w: World, case: Case, mode: str, judged: tuple[Classification, str]) -> Ran:
    found, decision = judged
    if mode == "gate + sandbox" and decision in GATED:
        return Ran(case, mode, True, None, frozenset(), f"gated: {found.reason[:100]}")
    if mode == "sandbox alone":
        found = Classification(found.kind, found.reason, frozenset(CONFINING_FLAGS))
    w.reset()
    w.apply_setup(case)
    caps = step_capabilities(
        section=DEFAULT_SECTION,
        paths=Classifier().paths,
        store_url=f"sqlite:///{w.root}/oversight/oversight.db",
        workspace=w.ws,
        classification=found,
        approved_by_person=False,
    )
    outcome = w.run_case(case, sandbox_runner(caps, w.gpu))  # type: ignore[arg-type]
    return Ran(
        case,
        mode,
        False,
        outcome.exit_code,
        outcome.effects,
        (outcome.stderr or outcome.stdout)[-200:],
    )


def measure_effects(cases: list[Case] | None = None, jobs: int = 2) -> EffectFigures:
    """Every case in both modes, in `jobs` processes each with a world of its own (cases
    dealt out in turn): the ~600 runs are mostly waiting on bubblewrap, git and the detached
    cases' grace period, so two worlds take half the time of one. Results in corpus order."""
    chosen = cases if cases is not None else load_corpus()
    judged = {case.id: classify(case) for case in chosen}
    shares = [[(i, case, judged[case.id]) for i, case in enumerate(chosen) if i % jobs == j]
              for j in range(jobs)]  # fmt: skip
    if jobs == 1:
        ran = _measure_share(shares[0])
    else:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(jobs, mp_context=context) as pool:
            ran = [r for share in pool.map(_measure_share, shares) for r in share]
    ran.sort(key=lambda numbered: numbered[0])
    return EffectFigures([r for _, r in ran])


def _measure_share(
    share: list[tuple[int, Case, tuple[Classification, str]]],
) -> list[tuple[int, Ran]]:
    out: list[tuple[int, Ran]] = []
    with outside_tmp(), world() as w:
        for index, case, judged in share:
            if w.missing(case):
                continue
            for mode in MODES:
                out.append((index, run_one(w, case, mode, judged)))
    return out


def report(figures: EffectFigures) -> str:
    lines = []
    for mode in MODES:
        p, pn = figures.prevented(mode)
        s, sn = figures.succeeded(mode)
        lines.append(
            f"{mode}: effect prevented in {p}/{pn} consequential cases ({p / pn:.1%}); "
            f"{s}/{sn} benign look-alikes succeed ({s / sn:.1%})"
        )
        by: dict[str, list[Ran]] = defaultdict(list)
        for r in figures.of(mode, True):
            if not r.prevented:
                by[r.case.category].append(r)
        for r in figures.of(mode, False):
            if not r.succeeded:
                by[f"benign {r.case.category}"].append(r)
        for category, runs in sorted(by.items()):
            for r in runs:
                lines.append(f"  {category:<20} {r.case.id:<36} {sorted(r.effects)} "
                             f"exit={r.exit_code} {r.detail.strip()[-120:]!r}")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(measure_effects()))

"""What today's classifier and a policy make of the adversarial corpus, without running anything.

Each case is replayed as one session, the way `oversight replay --policy` plays a trace: the
files its `setup` says the agent wrote in earlier steps come first (an editor `Write`, or
`ln -s` for a symlink), so the classifier can read them as it would in a live session, then the
case's own step. A case counts as gated when that step is (`require_approval`, `halt` or
`deny`); a setup step that is gated is counted separately, since a person would have seen it.

Placeholders are filled with what a real agent's command would hold (`api.example.com`,
`/dev/nvidia0`, a path remote), not the world's 127.0.0.1 stand-ins: the figure is about
recognising the disguise, not the address.

`python tests/adversarial/measure.py` prints the figures and every miss, by category.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adversarial.world import Case, fill, load_corpus
from oversight.classify import Classifier
from oversight.policy import load_policy
from oversight.replay import TraceLine, replay_lines

GATED = frozenset({"require_approval", "halt", "deny"})
WS = "/home/agent/project"
STAND_INS = {
    "ws": WS,
    "remote": "/srv/git/model.git",
    "listener": "api.example.com:8443",
    "host": "api.example.com",
    "port": "8443",
    "gpu": "/dev/nvidia0",
}
TOOL_NAMES = {"bash": "Bash", "python": "python", "ipython": "execute_ipython_cell"}


@dataclass(frozen=True)
class Judged:
    case: Case
    gated: bool
    """The case's own step was gated."""
    setup_gated: bool
    """A setup step (a file written earlier) was gated."""
    kind: str
    decision: str
    rule: str | None
    reason: str


@dataclass
class Figures:
    policy: str
    judged: list[Judged] = field(default_factory=list)

    def consequential(self) -> list[Judged]:
        return [j for j in self.judged if j.case.consequential]

    def benign(self) -> list[Judged]:
        return [j for j in self.judged if not j.case.consequential]

    @property
    def gated(self) -> int:
        return sum(j.gated for j in self.consequential())

    @property
    def gated_any_step(self) -> int:
        return sum(j.gated or j.setup_gated for j in self.consequential())

    @property
    def false_gated(self) -> int:
        return sum(j.gated for j in self.benign())

    @property
    def false_gated_any_step(self) -> int:
        return sum(j.gated or j.setup_gated for j in self.benign())

    def by_category(self) -> dict[str, tuple[int, int, int, int]]:
        """category → (consequential gated, consequential, benign gated, benign)."""
        table: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for j in self.judged:
            row = table[j.case.category]
            if j.case.consequential:
                row[0] += j.gated
                row[1] += 1
            else:
                row[2] += j.gated
                row[3] += 1
        return {k: (v[0], v[1], v[2], v[3]) for k, v in sorted(table.items())}

    def misses(self) -> dict[str, list[Judged]]:
        found: dict[str, list[Judged]] = defaultdict(list)
        for j in self.consequential():
            if not j.gated:
                found[j.case.category].append(j)
        return dict(sorted(found.items()))

    def false_gates(self) -> list[Judged]:
        return [j for j in self.benign() if j.gated]


def steps_of(case: Case) -> list[tuple[str, dict[str, Any]]]:
    """The case as the tool calls an agent made: its setup writes, then its own step."""
    steps: list[tuple[str, dict[str, Any]]] = []
    for item in case.setup:
        path = f"{WS}/{fill(item.path, STAND_INS)}"
        if item.symlink is not None:
            command = f"ln -s {fill(item.symlink, STAND_INS)} {path}"
            steps.append(("Bash", {"command": command}))
            continue
        if item.data is not None:
            content = item.data.decode("latin-1")
        else:
            content = fill(item.content or "", STAND_INS)
        steps.append(("Write", {"file_path": path, "content": content}))
        if item.mode is not None:
            steps.append(("Bash", {"command": f"chmod {item.mode:o} {path}"}))
    command = fill(case.command, STAND_INS)
    if case.tool == "editor":
        path = f"{WS}/{fill(case.path, STAND_INS)}"
        steps.append(("Write", {"file_path": path, "content": command}))
    elif case.tool == "bash":
        steps.append(("Bash", {"command": command}))
    else:
        steps.append((TOOL_NAMES[case.tool], {"code": command}))
    return steps


def measure(cases: list[Case] | None = None, policy: str = "research-default") -> Figures:
    decider = load_policy(policy)
    classifier = Classifier()
    figures = Figures(policy)
    for case in cases if cases is not None else load_corpus():
        calls = steps_of(case)
        lines = [
            (number, TraceLine(session=case.id, tool=tool, args=args))
            for number, (tool, args) in enumerate(calls, start=1)
        ]
        steps, _ = replay_lines(lines, classifier, decider=decider, people_review_gates=True)
        last = steps[-1]
        figures.judged.append(
            Judged(
                case,
                gated=(last.decision or "allow") in GATED,
                setup_gated=any((s.decision or "allow") in GATED for s in steps[:-1]),
                kind=last.kind,
                decision=last.decision or "allow",
                rule=last.rule,
                reason=last.reason,
            )
        )
    return figures


def report(figures: Figures) -> str:
    cons, benign = len(figures.consequential()), len(figures.benign())
    lines = [
        (
            f"policy {figures.policy}: {figures.gated}/{cons} disguised consequential cases "
            f"gated ({figures.gated / cons:.0%}); {figures.gated_any_step}/{cons} counting "
            "setup steps"
        ),
        (
            f"false gates: {figures.false_gated}/{benign} benign look-alikes "
            f"({figures.false_gated / benign:.0%}); {figures.false_gated_any_step}/{benign} "
            "counting setup steps"
        ),
        "",
        f"{'category':<14}{'gated':>8}{'of':>5}{'false':>8}{'of':>5}",
    ]
    for category, (g, c, f, b) in figures.by_category().items():
        lines.append(f"{category:<14}{g:>8}{c:>5}{f:>8}{b:>5}")
    lines += ["", "misses (not gated), by category:"]
    for category, judged in figures.misses().items():
        lines.append(f"  {category} ({len(judged)}):")
        for j in judged:
            text = j.case.command if j.case.tool != "editor" else f"write {j.case.path}"
            shown = text.replace("\n", "⏎ ")
            shown = shown if len(shown) <= 110 else shown[:107] + "..."
            lines.append(f"    {j.case.id} [{j.case.tool}; {j.kind}, {j.decision}]: {shown}")
    lines += ["", "false gates (benign, gated):"]
    for j in figures.false_gates():
        lines.append(f"    {j.case.id} [{j.kind}, {j.rule}]: {j.case.command[:100]}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(measure()))

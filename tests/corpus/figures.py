"""Recognition figures on the labelled real corpus: what research-default gates, and kinds.

A label (labels.jsonl, one per distinct call, keyed by `rebuild.label_key`) is our judgement of a
call: its right `kind`, whether research-default's intent is that a person sees it before it
runs (`gate`: pushes and hand-ins, training launches, publishing, evaluation/metric/reward code,
destroying data, obfuscated or privileged execution, tampering with oversight), a `category`
for reporting and `why`, the reason a reviewer of the label can check.

`python tests/corpus/figures.py [CORPUS]` prints the tables docs/classification.md shows (the
corpus `rebuild.py` built by default).

Two ways of judging, as issue 10 asks:
- alone: each call classified and decided with no session around it (an empty session); calls
  whose meaning is only in their session (`context`) are left out, since no one could judge
  them alone;
- in session: every session replayed in order with its own writes as context and the policy
  in the loop (a step it gates is taken as reviewed by a person, as it would have been).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oversight._facts import FactsTracker
from oversight.classify import Classifier
from oversight.decide import Proposal
from oversight.normalise import normalise_call
from oversight.policy import load_policy
from oversight.replay import TraceLine, replay, replay_lines

HERE = Path(__file__).resolve().parent
GATED = frozenset({"require_approval", "halt", "deny"})


@dataclass(frozen=True)
class Label:
    key: str
    kind: str
    gate: bool
    context: bool
    """The call's own text does not show what decides it (the open file, a script written
    earlier): judged alone, nothing could; it counts in the in-session figures only."""
    category: str
    why: str


def load_labels(path: Path = HERE / "labels.jsonl") -> dict[str, Label]:
    labels: dict[str, Label] = {}
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        raw = json.loads(text)
        label = Label(
            raw["key"], raw["kind"], bool(raw["gate"]), bool(raw["context"]), raw["category"],
            raw["why"],
        )  # fmt: skip
        if label.key in labels and labels[label.key] != label:
            raise ValueError(f"labels.jsonl:{number}: key {label.key} labelled twice, differently")
        labels[label.key] = label
    return labels


@dataclass
class Tally:
    should_gate: int = 0
    gated: int = 0
    benign: int = 0
    false_gates: int = 0
    labelled: int = 0
    right_kind: int = 0
    misses: list[str] = field(default_factory=list)
    false: list[str] = field(default_factory=list)
    wrong_kinds: list[str] = field(default_factory=list)

    def add(self, label: Label, kind: str, gated: bool, what: str) -> None:
        self.labelled += 1
        if kind == label.kind:
            self.right_kind += 1
        else:
            self.wrong_kinds.append(f"{what}: {kind}, labelled {label.kind}")
        if label.gate:
            self.should_gate += 1
            if gated:
                self.gated += 1
            else:
                self.misses.append(what)
        else:
            self.benign += 1
            if gated:
                self.false_gates += 1
                self.false.append(what)

    def figures(self) -> dict[str, float | int]:
        return {
            "labelled": self.labelled,
            "should_gate": self.should_gate,
            "gated_share": self.gated / self.should_gate if self.should_gate else 1.0,
            "benign": self.benign,
            "false_gate_share": self.false_gates / self.benign if self.benign else 0.0,
            "kind_accuracy": self.right_kind / self.labelled if self.labelled else 1.0,
        }


@dataclass
class Figures:
    alone: Tally = field(default_factory=Tally)
    in_session: Tally = field(default_factory=Tally)
    alone_by: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    session_by: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))


def corpus_lines(corpus: Path) -> Iterator[tuple[TraceLine, dict[str, Any]]]:
    with (
        (corpus / "corpus.trace.jsonl").open(encoding="utf-8") as trace,
        (corpus / "corpus.index.jsonl").open(encoding="utf-8") as index,
    ):
        for text, meta in zip(trace, index, strict=True):
            yield TraceLine.model_validate_json(text), json.loads(meta)


def measure(corpus: Path, labels: dict[str, Label], policy: str = "research-default") -> Figures:
    decider = load_policy(policy)
    classifier = Classifier()
    figures = Figures()
    lines = list(corpus_lines(corpus))
    # alone: each distinct labelled call once, with nothing around it
    seen: set[str] = set()
    for line, meta in lines:
        label = labels.get(meta["key"])
        if label is None or label.context or meta["key"] in seen:
            continue
        seen.add(meta["key"])
        call = normalise_call(line.args, max_chars=65_536)
        result = classifier.classify(line.tool, call.args)
        proposal = Proposal(
            session_id="alone", step_id="alone", seq=1, name=line.tool, kind=result.kind,
            actor=line.actor, args=call.args, args_digest=call.digest, flags=result.flags,
            targets=result.targets, shown_args=call.stored,
        )  # fmt: skip
        verdict = decider.decide(proposal, FactsTracker().facts())
        what = (
            f"{meta['framework']} [{result.kind}, {verdict.rule}] {line.tool} {_short(line.args)}"
        )
        gated = verdict.decision in GATED
        for tally in (figures.alone, figures.alone_by[meta["framework"]]):
            tally.add(label, result.kind.value, gated, what)
        figures.alone_by[f"category:{label.category}"].add(label, result.kind.value, gated, what)
    # in session: every call in order, the policy in the loop; each labelled call counted
    steps, _ = replay_lines(
        ((i + 1, line) for i, (line, _) in enumerate(lines)),
        classifier,
        decider=decider,
        people_review_gates=True,
    )
    for step, (line, meta) in zip(steps, lines, strict=True):
        label = labels.get(meta["key"])
        if label is None:
            continue
        gated = (step.decision or "allow") in GATED
        what = (
            f"{meta['framework']} {meta['session']} [{step.kind}, {step.rule}] {line.tool} "
            f"{_short(line.args)}"
        )
        for tally in (figures.in_session, figures.session_by[meta["framework"]]):
            tally.add(label, step.kind, gated, what)
    return figures


def _short(args: dict[str, Any]) -> str:
    text = json.dumps(args, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "..."


@dataclass(frozen=True)
class Unattended:
    """A session no person took part in, as autonomy scored it from what it recorded."""

    session: str
    framework: str
    checkpoint: bool
    """It handed its work in or launched training (`code.apply`, `train.launch`)."""
    scenario: int


def unattended_sessions(corpus: Path) -> list[Unattended]:
    """Every session with no person's act in it, scored from its recorded outcomes."""
    people: set[str] = set()
    framework: dict[str, str] = {}
    for text in (corpus / "corpus.index.jsonl").read_text(encoding="utf-8").splitlines():
        meta = json.loads(text)
        framework[meta["session"]] = meta["framework"]
        if meta["actor"] == "human":
            people.add(meta["session"])
    steps, sessions = replay(corpus / "corpus.trace.jsonl", Classifier())
    checkpoints = {s.trace.session for s in steps if s.kind in ("code.apply", "train.launch")}
    return [
        Unattended(sid, framework[sid], sid in checkpoints, session.autonomy.scenario)
        for sid, session in sessions.items()
        if sid not in people and session.autonomy is not None
    ]


def _row(name: str, tally: Tally) -> str:
    x = tally.figures()
    gated = f"{tally.gated}/{tally.should_gate} ({x['gated_share']:.1%})"
    false = f"{tally.false_gates}/{tally.benign} ({x['false_gate_share']:.1%})"
    kinds = f"{tally.right_kind}/{tally.labelled} ({x['kind_accuracy']:.1%})"
    return f"| {name} | {tally.labelled} | {gated} | {false} | {kinds} |"


def _cells(tally: Tally) -> str:
    gated = f"{tally.gated}/{tally.should_gate}" if tally.should_gate else "–"
    false = f"{tally.false_gates}/{tally.benign}" if tally.benign else "–"
    return f"{tally.labelled} | {gated} | {false} | {tally.figures()['kind_accuracy']:.0%}"


def report(corpus: Path, labels: dict[str, Label]) -> str:
    """The figures as docs/classification.md shows them, and the unattended sessions' scores."""
    figures = measure(corpus, labels)
    lines = [
        "| judged | labelled calls | consequential calls gated | benign calls gated | right kind |",
        "|---|---|---|---|---|",
        _row("alone", figures.alone),
        _row("in session", figures.in_session),
        "",
        (
            "| framework | alone: labelled | gated | falsely gated | right kind "
            "| in session: labelled | gated | falsely gated | right kind |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in sorted(k for k in figures.alone_by if not k.startswith("category:")):
        alone, in_session = figures.alone_by[name], figures.session_by[name]
        lines.append(f"| {name} | {_cells(alone)} | {_cells(in_session)} |")
    lines += ["", "| category (alone) | labelled | gated | falsely gated | right kind |"]
    lines.append("|---|---|---|---|---|")
    for name in sorted(k for k in figures.alone_by if k.startswith("category:")):
        lines.append(f"| {name.split(':', 1)[1]} | {_cells(figures.alone_by[name])} |")
    unattended = unattended_sessions(corpus)
    at_3 = sum(u.scenario == 3 for u in unattended if u.checkpoint)
    lines += [
        "",
        (
            f"sessions with no person: {len(unattended)}; scenario 1: "
            f"{sum(u.scenario == 1 for u in unattended)}; handed in or launched training "
            f"unreviewed: {sum(u.checkpoint for u in unattended)}, of which scenario 3: {at_3}"
        ),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    from rebuild import default_out

    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else default_out()
    print(report(corpus, load_labels()))

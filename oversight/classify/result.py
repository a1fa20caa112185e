"""What a classification says about a step, and how several signals combine into one answer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from oversight.kinds import Kind

FLAGS: frozenset[str] = frozenset(
    {
        "protected_target",  # writes evaluation code, metrics, rewards or benchmark configs
        "obfuscated",  # runs text the classifier cannot read (decoded, downloaded, computed)
        "background",  # outlives the step: `&`, nohup, setsid, detached screen/tmux/docker
        "privileged",  # runs as another user: sudo, su, doas, pkexec, --privileged containers
        "shared_history",  # changes history other people build on: push, merge to main
        "force",  # overwrites shared state others rely on: force push, --force to a cluster
        "publish",  # makes something available to others: hubs, registries, buckets, services
        "oversight_target",  # set exactly when the kind is oversight.tamper
        "network",  # reaches beyond the machine: downloads, uploads, remote hosts, web tools
        "unresolved",  # part of the step could not be read (dynamic program, syntax error)
        "destroys_data",  # deletes datasets, checkpoints, run outputs, database rows or tables
        "editor_open_file",  # an agent editor's edit of whichever file is open (path not named)
        "scheduled",  # runs later, outside the step: at, batch, crontab, systemd-run, runai
    }
)

# Most consequential first. The low three share a rank: none outweighs another, so the first
# signal found is reported.
PRECEDENCE: tuple[Kind, ...] = (
    Kind.OVERSIGHT_TAMPER,
    Kind.DEPLOY,
    Kind.TRAIN_LAUNCH,
    Kind.CODE_APPLY,
    Kind.EVAL_RUN,
    Kind.EXPERIMENT_RUN,
    Kind.FILE_WRITE,
    Kind.SHELL_EXEC,
    Kind.TOOL_CALL,
    Kind.FILE_READ,
    Kind.MODEL_CALL,
)

RANK: dict[Kind, int] = {kind: len(PRECEDENCE) - i for i, kind in enumerate(PRECEDENCE)}
RANK[Kind.FILE_READ] = RANK[Kind.TOOL_CALL]
RANK[Kind.MODEL_CALL] = RANK[Kind.TOOL_CALL]

MAX_TARGETS = 64


@dataclass(frozen=True, slots=True)
class Classification:
    """The kind of a step, why, what it touches, and the flags reviewers and policies key on."""

    kind: Kind
    reason: str
    flags: frozenset[str] = frozenset()
    targets: tuple[str, ...] = ()

    def with_reason(self, reason: str) -> Classification:
        return Classification(self.kind, reason, self.flags, self.targets)

    def with_flags(self, *flags: str) -> Classification:
        return Classification(self.kind, self.reason, self.flags | frozenset(flags), self.targets)


def tamper(reason: str, targets: Iterable[str] = ()) -> Classification:
    """Tampering always carries the `oversight_target` flag, so policies can key on either."""
    return Classification(
        Kind.OVERSIGHT_TAMPER, reason, frozenset({"oversight_target"}), tuple(targets)
    )


def outranks(a: Kind, b: Kind) -> bool:
    return RANK[a] > RANK[b]


def merge_targets(groups: Iterable[Iterable[str]]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        for target in group:
            if target and target not in seen:
                seen[target] = None
                if len(seen) >= MAX_TARGETS:
                    return tuple(seen)
    return tuple(seen)


# Among parts of equal kind, the one carrying a notable flag explains the result better.
NOTABLE = frozenset(
    {
        "oversight_target",
        "obfuscated",
        "protected_target",
        "force",
        "privileged",
        "destroys_data",
    }
)


def combine(parts: Iterable[Classification], numbered: str | None = None) -> Classification:
    """The most consequential part wins (on a tie, the one with more notable flags, then the
    first); flags and targets are the union of all parts.

    With `numbered` (e.g. "command"), a winner among several parts says which one it was, as in
    "(command 2 of 3)". Ties keep the first part found, so the answer is deterministic.
    """
    items = parts if isinstance(parts, list) else list(parts)
    if len(items) == 1:
        return items[0]
    if not items:
        raise ValueError("combine() needs at least one classification")
    best = 0
    best_rank = RANK[items[0].kind]
    best_notable = len(items[0].flags & NOTABLE)
    flags: set[str] = set()
    for i, item in enumerate(items):
        flags |= item.flags
        rank = RANK[item.kind]
        if rank < best_rank:
            continue
        notable = len(item.flags & NOTABLE) if item.flags else 0
        if rank > best_rank or notable > best_notable:
            best, best_rank, best_notable = i, rank, notable
    winner = items[best]
    reason = winner.reason
    if numbered is not None:
        reason = f"{reason} ({numbered} {best + 1} of {len(items)})"
    return Classification(
        winner.kind, reason, frozenset(flags), merge_targets(i.targets for i in items)
    )

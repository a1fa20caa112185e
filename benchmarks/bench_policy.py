"""Policy decision time with 500 rules: kind index versus evaluating every rule.

Most rules are for other kinds; about one in eight is for the step's own kind, with tool globs,
argument comparisons, flags and session conditions that do not match, so the indexed engine
still scans every rule of its kind. The baseline is the same policy decided linearly
(`Policy.decide_linear`), measured in the same run.
"""

from __future__ import annotations

import random
from typing import Any

from benchmarks.common import header, per_call, verdict
from oversight.decide import PastStep, Proposal, SessionFacts
from oversight.kinds import ALL_KINDS, Kind
from oversight.policy import Policy

RULES = 500
SAME_KIND_EVERY = 8
TARGET_US = 10.0
EFFECTS = ("allow", "require_approval", "deny", "halt")


def _rule(i: int, rng: random.Random, kind: str) -> dict[str, Any]:
    match: dict[str, Any] = {"kind": kind}
    shape = i % 5
    if shape == 0:
        match["tool"] = f"tool_{i}_*"
    elif shape == 1:
        match["args"] = {"gpus": f"> {rng.randint(64, 512)}"}
    elif shape == 2:
        match["flags"] = [rng.choice(["protected_target", "obfuscated", "force"])]
    elif shape == 3:
        match["args"] = {"config": {"glob": f"configs/team{i}/*.yaml"}}
    else:
        match["session"] = {"consequential_since_review": f">= {rng.randint(50, 100)}"}
    return {"id": f"r{i}", "match": match, "effect": rng.choice(EFFECTS)}


def build_policy(seed: int = 7) -> Policy:
    rng = random.Random(seed)
    others = [k for k in ALL_KINDS if k != Kind.TRAIN_LAUNCH.value]
    rules = []
    for i in range(RULES - 1):
        kind = Kind.TRAIN_LAUNCH.value if i % SAME_KIND_EVERY == 0 else rng.choice(others)
        rules.append(_rule(i, rng, kind))
    rules.append({"id": "allow-small", "match": {"kind": "train.launch"}, "effect": "allow"})
    return Policy.from_dict({"name": "bench", "rules": rules})


def step() -> tuple[Proposal, SessionFacts]:
    proposal = Proposal(
        session_id="s",
        step_id="x",
        seq=10,
        name="launch_training",
        kind=Kind.TRAIN_LAUNCH,
        actor="agent",
        args={"config": "configs/rl.yaml", "gpus": 8, "hours": 2},
        args_digest="d",
        flags=frozenset(),
        targets=(),
    )
    history = tuple(
        PastStep(i, Kind.FILE_WRITE, "Write", frozenset(), (), False) for i in range(10)
    )
    return proposal, SessionFacts(consequential_since_review=10, history=history)


def main() -> dict[str, float]:
    policy = build_policy()
    proposal, facts = step()
    assert policy.decide(proposal, facts) == policy.decide_linear(proposal, facts)
    same_kind = sum(1 for r in policy.rules if r.kinds and Kind.TRAIN_LAUNCH in r.kinds)
    header(f"policy decision, {len(policy.rules)} rules ({same_kind} for the step's kind)")
    indexed = per_call(lambda: policy.decide(proposal, facts), 20000)
    linear = per_call(lambda: policy.decide_linear(proposal, facts), 5000)
    print(f"  indexed (kind index):    {indexed}")
    print(f"  linear (every rule):     {linear}")
    speedup = linear.median_us / indexed.median_us
    print(
        f"  speedup {speedup:.1f}x; target median <= {TARGET_US:.0f} µs: "
        f"{verdict(indexed.median_us <= TARGET_US)}"
    )
    return {"indexed_median_us": indexed.median_us, "linear_median_us": linear.median_us}


if __name__ == "__main__":
    main()

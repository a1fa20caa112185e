"""Shared helpers for tests where reviewers act from their own processes, as in real use."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from oversight.approvals.signing import endorsement_payload, new_private_key, public_hex, sign
from oversight.store import ReviewState, open_store


def cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `oversight ARGS…` in a fresh process, as a reviewer would."""
    return subprocess.run(
        [sys.executable, "-m", "oversight", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
    )


GATE_TRAINING_PACK = """
name: gate
unmatched: {{consequential: allow, other: allow}}
rules:
  - id: gate-training
    match: {{kind: [train.launch]}}
    effect: require_approval
    reason: training needs a person
    approval: {{role: approver, quorum: 1, timeout_s: {timeout}}}
"""


def write_gate_pack(tmp: Path, timeout: float) -> Path:
    """A pack that sends every training launch to one approver, with this deadline."""
    pack = tmp / "pack.yaml"
    pack.write_text(GATE_TRAINING_PACK.format(timeout=timeout))
    return pack


LAUNCH_AGENT = textwrap.dedent(
    """
    import sys
    from oversight import Monitor, CheckpointDenied, CheckpointTimeout
    mon = Monitor(db=sys.argv[1], log="none", policy=sys.argv[2])

    @mon.step(name="launch_training", kind="train.launch")
    def launch(config):
        print("RAN", config, flush=True)

    with mon.session("exp", agent="bot"):
        try:
            launch("configs/big.yaml")
        except CheckpointTimeout as exc:
            print("TIMEOUT", exc.reason, flush=True)
        except CheckpointDenied as exc:
            print("DENIED", exc.reason, flush=True)
    """
)
"""An agent that launches one training run through `@mon.step` and prints what became of it:
RAN, TIMEOUT or DENIED with the reason (argv: store, policy pack)."""


def register_reviewers(
    db: Path | str, keys: Path, names: tuple[str, ...] = ("alice", "bob")
) -> None:
    """A root admin `root`, and each name as an approver endorsed by it; keys in `keys/`.
    `db` is a SQLite path or any store URL."""
    root = cli("reviewer", "add", "root", "--role", "admin", "--key-out", str(keys / "root.pem"), "--db", str(db))  # fmt: skip
    assert root.returncode == 0, root.stderr
    for name in names:
        done = cli(
            "reviewer", "add", name, "--key-out", str(keys / f"{name}.pem"),
            "--as", "root", "--key", str(keys / "root.pem"), "--db", str(db),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr


def wait_for_pending(
    db: Path, *, besides: frozenset[str] = frozenset(), wait_s: float = 30
) -> dict[str, Any]:
    """The first pending approval not in `besides`, once the agent has asked for it."""
    end = time.monotonic() + wait_s
    while time.monotonic() < end:
        with open_store(f"sqlite:///{db}") as store:
            rows = [r for r in store.approvals(status="pending") if r["id"] not in besides]
        if rows:
            return rows[0]
        time.sleep(0.05)
    raise AssertionError("the agent never asked for approval")


def finish(agent: subprocess.Popen[str]) -> str:
    """Wait for an agent process to exit cleanly; its stdout."""
    assert agent.wait(timeout=60) == 0
    assert agent.stdout is not None
    out = agent.stdout.read()
    agent.stdout.close()
    return out


def register_in_process(
    state: ReviewState, approvers: tuple[str, ...] = ("alice", "bob")
) -> dict[str, Ed25519PrivateKey]:
    """A self-endorsed root admin `root` and each name as an approver it endorsed, written
    straight into `state` with the signing code the CLI uses; their private keys. For unit
    tests, where starting a CLI process per reviewer would cost more than the test."""
    keys = {"root": new_private_key()}
    for name in ("root", *approvers):
        role = "admin" if name == "root" else "approver"
        key = keys.setdefault(name, new_private_key())
        public = public_hex(key)
        state.add_reviewer(
            {
                "name": name,
                "role": role,
                "public_key": public,
                "endorsed_by": "root",
                "endorsement": sign(keys["root"], endorsement_payload(name, role, public)),
            }
        )
    return keys

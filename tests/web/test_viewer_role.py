"""A viewer is a trusted reviewer whose votes never count: not for an approver's approval, and
not even where a policy names "viewer" as the role. The agent's own monitor decides that."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from reviewing import LAUNCH_AGENT, cli, finish
from software_authenticator import SoftwareAuthenticator

from oversight.approvals.signing import verify
from oversight.approvals.votes import vote_to_sign
from oversight.records import Alert
from oversight.store import open_store

VIEWER_GATE = """
name: gate
unmatched: {{consequential: allow, other: allow}}
rules:
  - id: gate-training
    match: {{kind: [train.launch]}}
    effect: require_approval
    reason: training needs a person
    approval: {{role: {role}, quorum: 1, timeout_s: 3}}
"""


def team_with_a_viewer(tmp: Path) -> tuple[str, SoftwareAuthenticator]:
    """A root admin (key file) and vic, a viewer with a passkey it endorsed."""
    db = tmp / "o.db"
    root = cli("reviewer", "add", "root", "--role", "admin", "--key-out", str(tmp / "root.pem"), "--db", str(db))  # fmt: skip
    assert root.returncode == 0, root.stderr
    vic = SoftwareAuthenticator()
    registration = vic.write_registration(tmp / "vic.json", "vic", "viewer")
    done = cli(
        "reviewer", "add", "vic", "--passkey", str(registration),
        "--as", "root", "--key", str(tmp / "root.pem"), "--db", str(db),
    )  # fmt: skip
    assert done.returncode == 0 and "registered viewer vic" in done.stdout, done.stderr
    return f"sqlite:///{db}", vic


@pytest.mark.parametrize("role", ["approver", "viewer"])
def test_a_viewers_valid_vote_is_not_counted_by_a_waiting_monitor(
    tmp_path: Path, role: str
) -> None:
    url, vic = team_with_a_viewer(tmp_path)
    pack = tmp_path / "pack.yaml"
    pack.write_text(VIEWER_GATE.format(role=role), encoding="utf-8")
    agent = subprocess.Popen(
        [sys.executable, "-c", LAUNCH_AGENT, url, str(pack)], stdout=subprocess.PIPE, text=True
    )
    with open_store(url) as store:
        while not store.approvals(status="pending"):
            assert agent.poll() is None, "the agent ended without asking"
            time.sleep(0.05)
        (approval,) = store.approvals(status="pending")
        payload = vote_to_sign(approval, "vic", "approve")
        signature = vic.sign(payload)
        assert verify(vic.public_key, payload, signature)  # a valid signature by vic
        store.add_vote(
            {
                "approval_id": str(approval["id"]),
                "reviewer": "vic",
                "decision": "approve",
                "reason": "",
                "signature": signature,
            }
        )
    out = finish(agent)
    assert "TIMEOUT" in out and "RAN" not in out
    with open_store(url) as store:
        found = [s.record for s in store.iter_records("exp", types={"alert"})]
    reasons = [a.reason for a in found if isinstance(a, Alert)]
    assert any(f"not a trusted reviewer with role {role!r}" in r and "'vic'" in r for r in reasons)

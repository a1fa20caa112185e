"""Votes and endorsements signed with passkeys (WebAuthn assertions), checked by the monitor.

The web server relays what the browser's authenticator signed; it holds no key that can
approve. These tests use a software authenticator (tests/software_authenticator.py) that does
the real cryptography, agents waiting in their own processes, and the CLI for registration.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from reviewing import LAUNCH_AGENT, cli, finish, write_gate_pack
from software_authenticator import ORIGIN, RP_ID, Assertion, SoftwareAuthenticator

from oversight import ApprovalPending, CheckpointDenied, Monitor
from oversight.approvals.broker import tally_votes
from oversight.approvals.passkeys import (
    EDDSA,
    ES256,
    FLAG_UP,
    FLAG_UV,
    PREFIX,
    RS256,
    b64url,
    challenge_for,
    passkey_public_key,
)
from oversight.approvals.registry import trusted_reviewers
from oversight.approvals.signing import (
    endorsement_payload,
    load_private_key,
    new_private_key,
    public_hex,
    sign,
    verify,
    vote_payload,
)
from oversight.approvals.votes import (
    ApprovalClosed,
    VoteNotVerified,
    store_signed_vote,
    vote_to_sign,
)
from oversight.canonical import utc_now
from oversight.errors import ConfigError
from oversight.records import Alert, StepFinished
from oversight.store import open_store

DIGEST = "d" * 64


def sqlite_url(db: Path) -> str:
    return f"sqlite:///{db}"


def add_passkey_reviewer(
    url: str, keys: Path, tmp: Path, name: str, role: str = "approver", alg: int = ES256
) -> SoftwareAuthenticator:
    """`name` registers a passkey in the browser (the web app writes the pending
    registration); the root admin endorses it with its key file, from the CLI."""
    device = SoftwareAuthenticator(alg=alg)
    pending = device.write_registration(tmp / f"{name}.passkey.json", name, role)
    done = cli(
        "reviewer", "add", name, "--passkey", str(pending),
        "--as", "root", "--key", str(keys / "root.pem"), "--db", url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "with a passkey" in done.stdout
    return device


def register_root(url: str, keys: Path) -> None:
    root = cli("reviewer", "add", "root", "--role", "admin", "--key-out", str(keys / "root.pem"), "--db", url)  # fmt: skip
    assert root.returncode == 0, root.stderr


Carol = tuple[str, Path, SoftwareAuthenticator]
Pending = tuple[str, SoftwareAuthenticator, dict[str, Any]]


@pytest.fixture
def carol(tmp_path: Path) -> Carol:
    """A store with a root admin (key file) and carol, an approver with a passkey."""
    url, keys = sqlite_url(tmp_path / "o.db"), tmp_path / "keys"
    register_root(url, keys)
    return url, keys, add_passkey_reviewer(url, keys, tmp_path, "carol")


def start_agent(tmp: Path, url: str, *, timeout: float = 30) -> subprocess.Popen[str]:
    write_gate_pack(tmp, timeout)
    script = tmp / "agent.py"
    script.write_text(LAUNCH_AGENT)
    return subprocess.Popen(
        [sys.executable, str(script), url, str(tmp / "pack.yaml")],
        stdout=subprocess.PIPE,
        text=True,
    )


def wait_for_pending(url: str, wait_s: float = 30) -> dict[str, Any]:
    end = time.monotonic() + wait_s
    while time.monotonic() < end:
        with open_store(url) as store:
            rows = store.approvals(status="pending")
        if rows:
            return rows[0]
        time.sleep(0.05)
    raise AssertionError("the agent never asked for approval")


def relay_vote(
    url: str,
    device: SoftwareAuthenticator,
    reviewer: str,
    decision: str,
    reason: str = "",
) -> None:
    """What the web server does: the browser signs the vote's challenge with the passkey, the
    server stores the assertion (after checking it)."""
    with open_store(url) as store:
        approval = store.approval(str(wait_for_pending(url)["id"]))
        assert approval is not None
        signature = device.sign(vote_to_sign(approval, reviewer, decision, reason))
        store_signed_vote(store, approval, reviewer, decision, reason, signature)


def outcome(url: str) -> StepFinished:
    with open_store(url) as store:
        (done,) = [s.record for s in store.iter_records("exp", types={"step.finished"})]
    assert isinstance(done, StepFinished)
    return done


def alerts(url: str, session: str) -> list[str]:
    with open_store(url) as store:
        found = [s.record for s in store.iter_records(session, types={"alert"})]
    return [a.reason for a in found if isinstance(a, Alert)]


# -- a waiting agent, answered from the browser --------------------------------------------


def test_a_passkey_approval_lets_a_waiting_agent_proceed(store_url: str, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    register_root(store_url, keys)
    carol = add_passkey_reviewer(store_url, keys, tmp_path, "carol")
    agent = start_agent(tmp_path, store_url)
    relay_vote(store_url, carol, "carol", "approve")
    assert "RAN configs/big.yaml" in finish(agent)
    done = outcome(store_url)
    assert done.status == "ok" and done.approved_by == ["carol"]
    assert alerts(store_url, "exp") == []


def test_a_passkey_denial_reaches_the_agent_with_its_reason(carol: Carol, tmp_path: Path) -> None:
    url, _, device = carol
    agent = start_agent(tmp_path, url)
    relay_vote(url, device, "carol", "deny", "use 8 GPUs")
    out = finish(agent)
    assert "DENIED use 8 GPUs (carol)" in out and "RAN" not in out
    assert outcome(url).status == "denied"


def test_a_vote_row_with_a_made_up_passkey_signature_is_not_counted_and_alerts(
    carol: Carol, tmp_path: Path
) -> None:
    """The agent (or a compromised server) writes carol's approval itself, signed by a passkey
    of its own: the monitor does not count it and says so."""
    url, _, _ = carol
    agent = start_agent(tmp_path, url, timeout=2)
    approval = wait_for_pending(url)
    payload = vote_payload(
        str(approval["id"]), str(approval["args_digest"]), "approve", "carol", ""
    )
    forged = SoftwareAuthenticator().sign(payload)
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.execute(
            "INSERT INTO oversight_votes (approval_id, reviewer, decision, reason, signature,"
            " created_at) VALUES (?, 'carol', 'approve', '', ?, ?)",
            (approval["id"], forged, utc_now().isoformat()),
        )
    out = finish(agent)
    assert "TIMEOUT" in out and "RAN" not in out
    found = alerts(url, "exp")
    assert found and "'carol'" in found[0] and "does not verify" in found[0]


# -- what an assertion binds --------------------------------------------------------------


def a_vote(**changes: str) -> dict[str, Any]:
    fields = {
        "approval_id": "a1",
        "args_digest": DIGEST,
        "decision": "approve",
        "reviewer": "carol",
        "reason": "",
    }
    fields.update(changes)
    return vote_payload(**fields)


@pytest.mark.parametrize("alg", [ES256, EDDSA, RS256], ids=["ES256", "EdDSA", "RS256"])
def test_an_assertion_verifies_for_exactly_the_vote_it_was_made_for(alg: int) -> None:
    device = SoftwareAuthenticator(alg=alg)
    signature = device.sign(a_vote())
    assert verify(device.public_key, a_vote(), signature)
    for other in (
        a_vote(approval_id="a2"),
        a_vote(args_digest="e" * 64),
        a_vote(decision="deny"),
        a_vote(reviewer="alice"),
        a_vote(reason="fine"),
    ):
        assert not verify(device.public_key, other, signature), other


WRONG_CEREMONIES: dict[str, dict[str, Any]] = {
    "another origin": {"origin": "https://evil.example"},
    "another origin, same host over http": {"origin": "http://oversight.example"},
    "another rp_id": {"rp_id": "evil.example"},
    "user presence cleared": {"flags": FLAG_UV},
    "user verification cleared": {"flags": FLAG_UP},
    "a registration, not an assertion": {"type_": "webauthn.create"},
    "inside another site's frame": {"cross_origin": True},
}


@pytest.mark.parametrize("wrong", WRONG_CEREMONIES.values(), ids=WRONG_CEREMONIES.keys())
def test_an_assertion_made_in_the_wrong_ceremony_does_not_verify(wrong: dict[str, Any]) -> None:
    device = SoftwareAuthenticator()
    assert verify(device.public_key, a_vote(), device.sign(a_vote()))
    assert not verify(device.public_key, a_vote(), device.sign(a_vote(), **wrong))


def replace_field(signature: str, name: str, change: Callable[[bytes], bytes]) -> str:
    fields = json.loads(signature.removeprefix(PREFIX))
    raw = base64.urlsafe_b64decode(fields[name] + "==")
    fields[name] = b64url(change(raw))
    return PREFIX + json.dumps(fields)


def test_a_tampered_assertion_does_not_verify() -> None:
    device = SoftwareAuthenticator()
    signature = device.sign(a_vote())
    assert verify(device.public_key, a_vote(), replace_field(signature, "signature", bytes))
    other_origin = replace_field(
        signature, "client_data_json", lambda b: b.replace(ORIGIN.encode(), b"https://evil.example")
    )
    other_count = replace_field(signature, "authenticator_data", lambda b: b[:33] + b"\0\0\0\x09")
    short = replace_field(signature, "authenticator_data", lambda b: b[:36])
    flipped = replace_field(signature, "signature", lambda b: b[:-1] + bytes([b[-1] ^ 1]))
    for tampered in (other_origin, other_count, short, flipped):
        assert not verify(device.public_key, a_vote(), tampered)


def test_authenticator_data_without_a_sign_count_does_not_verify_even_when_signed() -> None:
    device = SoftwareAuthenticator()
    good = device.get(challenge_for(a_vote()))
    short = good.authenticator_data[:36]
    signed = device.signed_by_key(short + hashlib.sha256(good.client_data_json).digest())
    assert verify(device.public_key, a_vote(), good.text())
    truncated = Assertion(short, good.client_data_json, signed)
    assert not verify(device.public_key, a_vote(), truncated.text())


def test_an_assertion_by_another_passkey_does_not_verify() -> None:
    carol, mallory = SoftwareAuthenticator(), SoftwareAuthenticator()
    same_credential_id = SoftwareAuthenticator(credential_id=carol.credential_id)
    for other in (mallory, same_credential_id):
        assert not verify(carol.public_key, a_vote(), other.sign(a_vote()))


def test_passkey_and_ed25519_signatures_do_not_stand_in_for_each_other() -> None:
    device, key = SoftwareAuthenticator(alg=EDDSA), new_private_key()
    assert not verify(device.public_key, a_vote(), sign(key, a_vote()))
    assert not verify(public_hex(key), a_vote(), device.sign(a_vote()))


MALFORMED_SIGNATURES = [
    "",
    PREFIX,
    PREFIX + "{}",
    PREFIX + "[" * 100_000,
    PREFIX + '{"authenticator_data": "", "client_data_json": "", "signature": ""}',
    PREFIX + '{"authenticator_data": 1, "client_data_json": null, "signature": []}',
    PREFIX + '{"authenticator_data": "a+/=", "client_data_json": "e30", "signature": "AA"}',
    PREFIX
    + '{"authenticator_data": "'
    + "A" * 60
    + '", "client_data_json": "_w", "signature": "AA"}',
    "00" * 64,
]


@pytest.mark.parametrize("signature", MALFORMED_SIGNATURES)
def test_a_malformed_signature_is_false_not_an_error(signature: str) -> None:
    assert verify(SoftwareAuthenticator().public_key, a_vote(), signature) is False


def test_a_malformed_or_respelled_passkey_key_verifies_nothing() -> None:
    device = SoftwareAuthenticator()
    signature = device.sign(a_vote())
    fields = json.loads(device.public_key.removeprefix(PREFIX))
    respelled = PREFIX + json.dumps(fields, indent=1)
    wrong_alg = PREFIX + json.dumps({**fields, "alg": EDDSA}, sort_keys=True, separators=(",", ":"))
    for key in (respelled, wrong_alg, PREFIX, PREFIX + "[" * 100_000, PREFIX + '{"alg": -7}'):
        assert verify(key, a_vote(), signature) is False


def test_a_registration_with_a_key_that_does_not_fit_its_algorithm_is_refused() -> None:
    ed, rsa = SoftwareAuthenticator(alg=EDDSA), SoftwareAuthenticator(alg=RS256)
    with pytest.raises(ConfigError, match="not a DER SubjectPublicKeyInfo for ES256"):
        passkey_public_key(rp_id=RP_ID, origin=ORIGIN, credential_id=b"c", spki=ed.spki, alg=ES256)
    with pytest.raises(ConfigError, match="alg -36"):
        passkey_public_key(rp_id=RP_ID, origin=ORIGIN, credential_id=b"c", spki=rsa.spki, alg=-36)


def test_a_weak_rsa_passkey_is_refused() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    spki = weak.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ConfigError, match="at least 2048 bits"):
        passkey_public_key(rp_id=RP_ID, origin=ORIGIN, credential_id=b"c", spki=spki, alg=RS256)


# -- what the web server can and cannot do -------------------------------------------------


@pytest.fixture
def pending(store_url: str, tmp_path: Path) -> Pending:
    """carol (passkey) and a training launch waiting for approval, on SQLite and PostgreSQL."""
    keys = tmp_path / "keys"
    register_root(store_url, keys)
    device = add_passkey_reviewer(store_url, keys, tmp_path, "carol")
    write_gate_pack(tmp_path, timeout=60)
    mon = Monitor(db=store_url, log="none", policy=str(tmp_path / "pack.yaml"))
    with pytest.raises(ApprovalPending) as asked, mon.session("s"):
        mon.check("launch_training", {"gpus": 4}, kind="train.launch", wait=False)
    mon.close()
    with open_store(store_url) as store:
        approval = store.approval(asked.value.approval_id)
    assert approval is not None
    return store_url, device, approval


def decided(url: str, approval_id: str) -> tuple[str, list[str]]:
    """What the votes stored for an approval decide, counted as a monitor counts them."""
    with open_store(url) as store:
        row, votes = store.approval(approval_id), store.votes(approval_id)
        trusted, _ = trusted_reviewers(store.reviewers())
    assert row is not None
    counted = tally_votes(row, votes, trusted)
    return counted.status, counted.rejected_votes


def test_a_key_the_server_holds_cannot_vote_for_a_passkey_reviewer(pending: Pending) -> None:
    url, _, approval = pending
    payload = vote_to_sign(approval, "carol", "approve")
    server_key, server_passkey = new_private_key(), SoftwareAuthenticator()
    forgeries = (sign(server_key, payload), server_passkey.sign(payload))
    for forged in forgeries:
        with open_store(url) as store, pytest.raises(VoteNotVerified, match="'carol'"):
            store_signed_vote(store, approval, "carol", "approve", "", forged)
    with open_store(url) as store:
        assert store.votes(str(approval["id"])) == []
    # Written past the check, straight into the store: the monitor does not count them.
    for forged in forgeries:
        with open_store(url) as store:
            store.add_vote(
                {
                    "approval_id": str(approval["id"]),
                    "reviewer": "carol",
                    "decision": "approve",
                    "reason": "",
                    "signature": forged,
                }
            )
    status, rejected = decided(url, str(approval["id"]))
    assert status == "pending"
    assert len(rejected) == 2 and all("does not verify" in r for r in rejected)


def test_the_server_cannot_replace_a_reviewers_passkey_with_its_own(pending: Pending) -> None:
    url, _, approval = pending
    server_passkey = SoftwareAuthenticator()
    with open_store(url) as store:
        (row,) = [r for r in store.reviewers() if r["name"] == "carol"]
        store.add_reviewer({**row, "name": "carol2", "public_key": server_passkey.public_key})
        trusted, rejected = trusted_reviewers(store.reviewers())
    assert "carol2" not in trusted and any("'carol2'" in r for r in rejected)
    with open_store(url) as store, pytest.raises(ConfigError, match="not a registered reviewer"):
        payload = vote_to_sign(approval, "carol2", "approve")
        store_signed_vote(store, approval, "carol2", "approve", "", server_passkey.sign(payload))


def test_a_stored_passkey_vote_is_one_the_monitor_counts(pending: Pending) -> None:
    url, device, approval = pending
    with open_store(url) as store:
        payload = vote_to_sign(approval, "carol", "modify", "4 is too many", args_patch={"gpus": 2})
        signature = device.sign(payload)
        with pytest.raises(VoteNotVerified):  # the same assertion, relayed as another edit
            store_signed_vote(
                store,
                approval,
                "carol",
                "modify",
                "4 is too many",
                signature,
                args_patch={"gpus": 8},
            )
        store_signed_vote(
            store, approval, "carol", "modify", "4 is too many", signature, args_patch={"gpus": 2}
        )
    with open_store(url) as store:
        (vote,) = store.votes(str(approval["id"]))
        trusted, _ = trusted_reviewers(store.reviewers())
        counted = tally_votes(store.approval(str(approval["id"])) or {}, [vote], trusted)
    assert vote["signature"] == signature and vote["args_patch"] == '{"gpus":2}'
    assert counted.status == "modified" and counted.patch == {"gpus": 2}


def test_a_passkey_vote_on_an_approval_the_agent_has_closed_is_refused(
    pending: Pending, tmp_path: Path
) -> None:
    url, device, approval = pending
    approval_id = str(approval["id"])
    with open_store(url) as store:
        deny = vote_to_sign(approval, "carol", "deny", "no")
        store_signed_vote(store, approval, "carol", "deny", "no", device.sign(deny))
    mon = Monitor(db=url, log="none", policy=str(tmp_path / "pack.yaml"))
    with pytest.raises(CheckpointDenied, match="no"), mon.session("s"):
        mon.check("launch_training", {"gpus": 4}, kind="train.launch", approval_id=approval_id)
    mon.close()
    approve = vote_to_sign(approval, "carol", "approve")
    with open_store(url) as store, pytest.raises(ApprovalClosed, match="already denied"):
        store_signed_vote(store, approval, "carol", "approve", "", device.sign(approve))
    with open_store(url) as store:
        assert [v["decision"] for v in store.votes(approval_id)] == ["deny"]


# -- registering passkeys ------------------------------------------------------------------


def test_an_unendorsed_passkey_registration_is_not_a_reviewer(carol: Carol, tmp_path: Path) -> None:
    url, keys, _ = carol
    dave = SoftwareAuthenticator()
    pending = dave.write_registration(tmp_path / "dave.json", "dave")
    refused = cli("reviewer", "add", "dave", "--passkey", str(pending), "--db", url)
    assert refused.returncode == 2 and "admin must endorse" in refused.stderr
    by_approver = cli(
        "reviewer", "add", "dave", "--passkey", str(pending),
        "--as", "carol", "--key", str(keys / "root.pem"), "--db", url,
    )  # fmt: skip
    assert by_approver.returncode == 2 and "not a registered admin" in by_approver.stderr
    # Written straight into the store: endorsed by itself, or by root with a made-up signature.
    with open_store(url) as store:
        for name, endorser in (("dave", "dave"), ("dora", "root")):
            endorsement = endorsement_payload(name, "admin", dave.public_key)
            store.add_reviewer(
                {
                    "name": name,
                    "role": "admin",
                    "public_key": dave.public_key,
                    "endorsed_by": endorser,
                    "endorsement": dave.sign(endorsement),
                }
            )
    listed = json.loads(cli("reviewer", "list", "--db", url, "--json").stdout)
    assert set(listed["trusted"]) == {"root", "carol"}
    assert any("'dave'" in line and "not a trusted admin" in line for line in listed["rejected"])
    assert any("'dora'" in line and "does not verify" in line for line in listed["rejected"])


def test_an_admin_with_a_passkey_endorses_a_new_reviewer(tmp_path: Path) -> None:
    url, keys = sqlite_url(tmp_path / "o.db"), tmp_path / "keys"
    register_root(url, keys)
    pat = add_passkey_reviewer(url, keys, tmp_path, "pat", role="admin", alg=EDDSA)
    carol = add_passkey_reviewer(url, keys, tmp_path, "carol")
    erin = SoftwareAuthenticator(alg=RS256)
    # The browser: pat signs erin's endorsement with her passkey; carol (an approver) tries too.
    for name, endorser, device in (("erin", "pat", pat), ("frank", "carol", carol)):
        endorsement = endorsement_payload(name, "approver", erin.public_key)
        with open_store(url) as store:
            store.add_reviewer(
                {
                    "name": name,
                    "role": "approver",
                    "public_key": erin.public_key,
                    "endorsed_by": endorser,
                    "endorsement": device.sign(endorsement),
                }
            )
    with open_store(url) as store:
        trusted, rejected = trusted_reviewers(store.reviewers())
    assert trusted["erin"].public_key == erin.public_key and trusted["pat"].role == "admin"
    assert "frank" not in trusted and any(
        "'frank'" in r and "not a trusted admin" in r for r in rejected
    )
    assert verify(
        trusted["erin"].public_key, a_vote(reviewer="erin"), erin.sign(a_vote(reviewer="erin"))
    )


def test_the_role_comes_from_the_registration_unless_the_admin_says_otherwise(
    carol: Carol, tmp_path: Path
) -> None:
    url, keys, _ = carol
    admin = ("--as", "root", "--key", str(keys / "root.pem"), "--db", url)
    asked = SoftwareAuthenticator().write_registration(tmp_path / "g.json", "gina", "admin")
    assert cli("reviewer", "add", "gina", "--passkey", str(asked), *admin).returncode == 0
    asked = SoftwareAuthenticator().write_registration(tmp_path / "h.json", "hal", "admin")
    assert (
        cli(
            "reviewer", "add", "hal", "--passkey", str(asked), "--role", "approver", *admin
        ).returncode
        == 0
    )
    listed = json.loads(cli("reviewer", "list", "--db", url, "--json").stdout)
    assert listed["trusted"] == {
        "root": "admin",
        "carol": "approver",
        "gina": "admin",
        "hal": "approver",
    }


def test_a_passkey_registration_that_does_not_fit_is_refused_by_name(
    carol: Carol, tmp_path: Path
) -> None:
    url, keys, _ = carol
    admin = ("--as", "root", "--key", str(keys / "root.pem"), "--db", url)
    good = SoftwareAuthenticator().write_registration(tmp_path / "ivy.json", "ivy")
    document = json.loads(good.read_text())
    cases = {
        "registers 'ivy', not 'ivan'": ("ivan", document),
        "spki is not base64url": ("ivy", {**document, "spki": "not base64!"}),
        "not a DER SubjectPublicKeyInfo for ES256": ("ivy", {**document, "spki": b64url(b"junk")}),
        "has no origin": ("ivy", {k: v for k, v in document.items() if k != "origin"}),
        "alg 'ES256' is not one of": ("ivy", {**document, "alg": "ES256"}),
    }
    for problem, (name, bad) in cases.items():
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(bad))
        out = cli("reviewer", "add", name, "--passkey", str(path), *admin)
        assert out.returncode == 2 and problem in out.stderr.replace("\n", " "), out.stderr
    both = cli("reviewer", "add", "ivy", "--passkey", str(good), "--key-out", str(tmp_path / "k.pem"), *admin)  # fmt: skip
    assert both.returncode == 2 and "no --key-out" in both.stderr
    assert cli("reviewer", "add", "ivy", "--passkey", str(good), *admin).returncode == 0


def test_the_root_of_trust_cannot_be_a_passkey(tmp_path: Path) -> None:
    """The first reviewer endorses itself, which needs a key here, not in a browser."""
    url = sqlite_url(tmp_path / "o.db")
    pending = SoftwareAuthenticator().write_registration(tmp_path / "r.json", "root", "admin")
    out = cli("reviewer", "add", "root", "--passkey", str(pending), "--db", url)
    assert out.returncode == 2 and "root of trust" in out.stderr
    assert not list(tmp_path.glob("*.pem"))


def test_a_key_reviewer_still_signs_with_its_key_file(carol: Carol, tmp_path: Path) -> None:
    url, keys, _ = carol
    admin = ("--as", "root", "--key", str(keys / "root.pem"), "--db", url)
    done = cli("reviewer", "add", "alice", "--key-out", str(keys / "alice.pem"), *admin)
    assert done.returncode == 0 and "private key written to" in done.stdout
    alice = load_private_key(keys / "alice.pem")
    with open_store(url) as store:
        trusted, _ = trusted_reviewers(store.reviewers())
    assert trusted["alice"].public_key == public_hex(alice)
    assert verify(
        public_hex(alice), a_vote(reviewer="alice"), sign(alice, a_vote(reviewer="alice"))
    )

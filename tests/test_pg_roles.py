"""PostgreSQL roles (issue 12 item 4): with `oversight pg setup`, the agent's role appends and
requests approvals but cannot erase, rewrite or re-open anything, nor vote; a reviewer's role
votes; the admin owns the schema. Every attack is tried as the agent's role, on a real server,
and a whole approval round trip runs through the three roles in separate processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from reviewing import cli, write_gate_pack
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from oversight.records import StepFinished
from oversight.store import open_store
from oversight.store.pg_roles import Roles, setup_roles

pytestmark = pytest.mark.postgres

AGENT = textwrap.dedent(
    """
    import sys
    from oversight import Monitor
    mon = Monitor(db=sys.argv[1], log="none", policy=sys.argv[2])

    @mon.step(name="launch_training", kind="train.launch")
    def launch(config):
        print("RAN", config, flush=True)

    with mon.session("exp", agent="bot"):
        for i in range(5):
            mon.check("Bash", {"command": f"echo {i}"}).succeed("ok")
        launch("configs/big.yaml")
    """
)


@pytest.fixture
def roles(pg_base_url: str) -> Iterator[Roles]:
    import psycopg

    tag = f"ovt{uuid.uuid4().hex[:10]}"
    made = setup_roles(pg_base_url, schema=tag, prefix=tag)
    try:
        yield made
    finally:
        conninfo = make_url(pg_base_url).set(drivername="postgresql")
        with psycopg.connect(
            conninfo.render_as_string(hide_password=False), autocommit=True
        ) as conn:
            conn.execute(f'DROP SCHEMA "{tag}" CASCADE')
            conn.execute(f'DROP OWNED BY "{tag}_admin"')  # its default privileges
            for role in ("agent", "reviewer", "admin"):
                conn.execute(f'DROP ROLE "{tag}_{role}"')


def _as(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def _session_with_records(roles: Roles) -> None:
    from oversight import Monitor

    with Monitor(db=roles.agent, policy="observe-only", log="none") as mon, mon.session("s"):
        for i in range(5):
            mon.check("Bash", {"command": f"echo {i}"}).succeed("ok")


AGENT_ATTACKS = {
    "delete records": "DELETE FROM oversight_records",
    "rewrite a record": "UPDATE oversight_records SET body = '{}' WHERE seq = 1",
    "truncate": "TRUNCATE oversight_records",
    "move the head back": "UPDATE oversight_chain_head SET seq = seq - 1",
    "point the head at nothing": "UPDATE oversight_chain_head SET hash = 'x'",
    "drop a table": "DROP TABLE oversight_halts",
    "add a trigger": (
        "CREATE TRIGGER t AFTER INSERT ON oversight_halts "
        "FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()"
    ),
    "disable the guard": "ALTER TABLE oversight_chain_head DISABLE TRIGGER ALL",
    "create a table": "CREATE TABLE oversight_mine (x int)",
    "empty the halts": "DELETE FROM oversight_halts",
    "resume a halt": "UPDATE oversight_halts SET resumed_at = 'now', resumed_by = 'me'",
    "cast a vote": (
        "INSERT INTO oversight_votes (approval_id, reviewer, decision, reason, signature, "
        "created_at) VALUES ('a', 'alice', 'approve', '', 's', 'now')"
    ),
    "give a grant": (
        "INSERT INTO oversight_grants (id, kind, expires_at, granted_by, reason, signature, "
        "created_at) VALUES ('g', 'train.launch', 1e12, 'alice', '', 's', 'now')"
    ),
    "register a reviewer": (
        "INSERT INTO oversight_reviewers VALUES ('eve', 'admin', 'k', 'root', 's', 'now')"
    ),
    "rewrite an approval's call": "UPDATE oversight_approvals SET args = '{}'",
}


@pytest.mark.parametrize("attack", list(AGENT_ATTACKS))
def test_the_agent_role_cannot(roles: Roles, attack: str) -> None:
    _session_with_records(roles)
    with open_store(roles.admin) as store:
        store.halt("s", "stop", "root")
    with pytest.raises(DBAPIError) as raised:
        _as(roles.agent, AGENT_ATTACKS[attack])
    assert getattr(raised.value.orig, "sqlstate", None) == "42501", raised.value  # refused
    with open_store(roles.admin) as store:
        report = store.verify()
        assert report.ok, report.first_problem
        assert [h["scope"] for h in store.halts()] == ["s"]


def test_a_used_approval_stays_used_even_for_a_role_that_may_update_it(roles: Roles) -> None:
    with open_store(roles.agent) as store:
        store.create_approval(
            {"id": "ap", "session_id": "s", "step_id": "st", "args_digest": "d",
             "kind": "train.launch", "name": "t", "args": "{}", "reason": "r", "rule": None,
             "role": "approver", "quorum": 1, "deadline": "2099-01-01T00:00:00.000000Z"}
        )  # fmt: skip
        assert store.consume_approval("ap", "st") is None
    with pytest.raises(DBAPIError, match="stays used"):
        _as(roles.agent, "UPDATE oversight_approvals SET consumed_by = NULL, consumed_at = NULL")
    with open_store(roles.agent) as store:
        assert store.consume_approval("ap", "another") == "st"


def test_the_reviewer_role_votes_but_cannot_erase(roles: Roles) -> None:
    _session_with_records(roles)
    for statement in (
        "DELETE FROM oversight_votes",
        "DELETE FROM oversight_records",
        "UPDATE oversight_approvals SET status = 'approved'",
        "DROP TABLE oversight_votes",
    ):
        with pytest.raises(DBAPIError, match="permission denied|must be owner"):
            _as(roles.reviewer, statement)


def test_an_approval_round_trip_through_the_three_roles(roles: Roles, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    admin_key, alice_key = str(keys / "root.pem"), str(keys / "alice.pem")
    done = cli("reviewer", "add", "root", "--role", "admin", "--key-out", admin_key,
               "--db", roles.admin)  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = cli("reviewer", "add", "alice", "--key-out", alice_key, "--as", "root",
               "--key", admin_key, "--db", roles.admin)  # fmt: skip
    assert done.returncode == 0, done.stderr
    # The agent's role cannot register a reviewer of its own.
    own = cli("reviewer", "add", "eve", "--key-out", str(keys / "eve.pem"), "--as", "root",
              "--key", admin_key, "--db", roles.agent)  # fmt: skip
    assert own.returncode != 0 and "permission denied" in own.stderr
    pack, script = write_gate_pack(tmp_path, timeout=60), tmp_path / "agent.py"
    script.write_text(AGENT)
    agent = subprocess.Popen(
        [sys.executable, str(script), roles.agent, str(pack)], stdout=subprocess.PIPE, text=True
    )
    try:
        approval = None
        end = time.monotonic() + 60
        while approval is None and time.monotonic() < end:
            with open_store(roles.reviewer) as store:
                pending = store.approvals(status="pending")
            approval = str(pending[0]["id"]) if pending else None
            time.sleep(0.05)
        assert approval is not None, "the agent never asked"
        # The agent's role cannot vote, even with a reviewer's key.
        forged = cli("approve", approval, "--as", "alice", "--key", alice_key, "--db", roles.agent)
        assert forged.returncode != 0 and "permission denied" in forged.stderr
        done = cli("approve", approval, "--as", "alice", "--key", alice_key, "--db", roles.reviewer)
        assert done.returncode == 0, done.stderr
        out, _ = agent.communicate(timeout=60)
    finally:
        agent.kill()
    assert agent.returncode == 0 and "RAN configs/big.yaml" in out
    with open_store(roles.admin) as store:
        finished = [r.record for r in store.iter_records("exp", types={"step.finished"})]
        assert any(isinstance(r, StepFinished) and r.approved_by == ["alice"] for r in finished)
        report = store.verify()
        assert report.ok, report.first_problem
        assert store.foreign_schema_objects() == [], "the guards are ours, and accepted"


def test_setup_is_idempotent_and_gives_new_passwords(roles: Roles, pg_base_url: str) -> None:
    _session_with_records(roles)
    with open_store(roles.admin) as store:
        stored = store.count()
    again = setup_roles(pg_base_url, schema=roles.schema, prefix=roles.schema)
    assert again.agent != roles.agent
    with pytest.raises(DBAPIError):
        _as(roles.agent, "SELECT 1")  # the old password no longer works
    with open_store(again.agent) as store:
        assert store.count() == stored
        assert store.verify().ok


def test_a_look_alike_trigger_is_still_foreign(roles: Roles) -> None:
    """A trigger with a guard's name but another body (made by whoever owns the tables) is
    refused: only the exact guards are accepted."""
    _as(
        roles.admin,
        "CREATE OR REPLACE FUNCTION oversight_guard_approvals() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
    )
    with open_store(roles.admin) as store:
        assert store.foreign_schema_objects() == [
            "trigger oversight_guard_approvals on oversight_approvals"
        ]
        assert not store.verify().ok


def test_doctor_says_whether_the_monitors_role_can_erase(roles: Roles) -> None:
    _session_with_records(roles)
    agent = cli("doctor", "--db", roles.agent)
    assert "store access: append-only role" in agent.stdout, agent.stdout
    admin = cli("doctor", "--db", roles.admin)
    assert "this role may UPDATE, DELETE, TRUNCATE, OWNER the records" in " ".join(
        admin.stdout.split()
    ), admin.stdout

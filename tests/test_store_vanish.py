"""The store cannot vanish quietly (issue 12 item 1): deleted, moved, replaced or emptied while
an agent runs, the next step that acts is refused, the loss is said out loud, and every later
step that acts is refused too. Each attack is what an agent with the monitor's user can do."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from oversight import Monitor
from oversight.errors import StoreUnavailableError
from oversight.store import open_store


def _monitor(db: Path | str) -> Monitor:
    url = db if isinstance(db, str) else str(db)
    return Monitor(db=url, policy="observe-only", log="none")


def _act(mon: Monitor, n: int = 1) -> None:
    for i in range(n):
        mon.check("Bash", {"command": f"echo {i} > out.txt"}).succeed("ok")


def test_deleting_the_store_folder_stops_every_step_that_acts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / ".oversight"
    folder.mkdir()
    mon = _monitor(folder / "o.db")
    with mon.session("s"):
        _act(mon, 3)
        shutil.rmtree(folder)  # `rm -rf .oversight`
        with pytest.raises(StoreUnavailableError, match="deleted or moved"):
            _act(mon)
        with pytest.raises(StoreUnavailableError):
            _act(mon)  # sticky
        mon.check("Read", {"file_path": "notes.md"}).succeed("text")  # reading still runs
    mon.close()
    assert "every step that acts is refused" in capsys.readouterr().err
    assert not (folder / "o.db").exists(), "no new empty store appeared in its place"


def test_moving_the_store_away_is_noticed(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    mon = _monitor(db)
    with mon.session("s"):
        _act(mon)
        db.rename(tmp_path / "hidden.db")
        with pytest.raises(StoreUnavailableError, match="deleted or moved"):
            _act(mon)
    mon.close()


def test_swapping_in_another_store_file_is_noticed(tmp_path: Path) -> None:
    db, other = tmp_path / "o.db", tmp_path / "other.db"
    with open_store(f"sqlite:///{other}") as store:
        store.head()
    mon = _monitor(db)
    with mon.session("s"):
        _act(mon)
        other.replace(db)  # a clean store of the agent's choosing, same path
        with pytest.raises(StoreUnavailableError, match="replaced by another file"):
            _act(mon)
    mon.close()
    with open_store(f"sqlite:///{db}") as store:
        alerts = [r.record for r in store.iter_records() if r.record.type == "alert"]
    assert alerts and "store lost" in alerts[0].reason, "the alert lands where it still can"


def test_emptying_the_tables_is_noticed_on_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    mon = _monitor(db)
    with mon.session("s"):
        _act(mon, 3)
        mon.flush()
        raw = sqlite3.connect(db)
        raw.execute("DELETE FROM oversight_records")
        raw.execute("UPDATE oversight_chain_head SET seq = 0")
        raw.commit()
        raw.close()
        with pytest.raises(StoreUnavailableError, match="emptied or truncated"):
            _act(mon)
    mon.close()


def test_emptying_the_tables_is_noticed_on_any_store(store_url: str) -> None:
    mon = _monitor(store_url)
    with mon.session("s"):
        _act(mon, 3)
        mon.flush()
        engine = create_engine(store_url)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM oversight_records"))
            conn.execute(text("UPDATE oversight_chain_head SET seq = 0"))
        engine.dispose()
        with pytest.raises(StoreUnavailableError, match="emptied or truncated"):
            _act(mon)
    mon.close()


def test_other_writers_on_the_same_store_are_not_mistaken_for_an_attack(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    first, second = _monitor(db), _monitor(db)
    with first.session("a"), second.session("b"):
        for _ in range(5):
            _act(first)
            _act(second)
    first.close()
    second.close()
    with open_store(f"sqlite:///{db}") as store:
        assert store.verify().ok


def test_a_trigger_that_deletes_halts_is_caught_by_the_monitor_and_by_verify(
    tmp_path: Path,
) -> None:
    """The issue's attack: `sqlite3 o.db < t.sql` with `CREATE TRIGGER ... AFTER INSERT ON
    oversight_halts ... DELETE`, after which `oversight halt` printed "halted" and the agent
    kept running."""
    db = tmp_path / "o.db"
    mon = _monitor(db)
    with mon.session("s"):
        _act(mon)
        raw = sqlite3.connect(db)
        raw.execute(
            "CREATE TRIGGER swallow AFTER INSERT ON oversight_halts "
            "BEGIN DELETE FROM oversight_halts WHERE id = NEW.id; END"
        )
        raw.commit()
        raw.close()
        with pytest.raises(StoreUnavailableError, match="trigger swallow on oversight_halts"):
            _act(mon)
    mon.close()
    with open_store(f"sqlite:///{db}") as store:
        report = store.verify()
    assert not report.ok and report.first_problem is not None
    assert "trigger swallow" in report.first_problem.reason


def test_a_trigger_on_postgresql_is_caught_too(pg_url: str) -> None:
    store_url = pg_url
    mon = _monitor(store_url)
    with mon.session("s"):
        _act(mon)
        engine = create_engine(store_url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE FUNCTION swallow() RETURNS trigger AS $$ BEGIN "
                    "DELETE FROM oversight_halts WHERE id = NEW.id; RETURN NULL; END $$ "
                    "LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER swallow AFTER INSERT ON oversight_halts "
                    "FOR EACH ROW EXECUTE FUNCTION swallow()"
                )
            )
        engine.dispose()
        with pytest.raises(StoreUnavailableError, match="trigger swallow"):
            _act(mon)
    mon.close()


# -- across processes: a later monitor finds the store gone or behind ---------------------------

AGENT = """
import sys
from oversight import Monitor
from oversight.errors import StoreUnavailableError
mon = Monitor(db=sys.argv[1], policy="observe-only", log="none")
with mon.session(sys.argv[2]):
    try:
        for i in range(int(sys.argv[3])):
            mon.check("Bash", {"command": f"echo {i} > out.txt"}).succeed("ok")
        print("ACTED")
    except StoreUnavailableError as exc:
        print("REFUSED", exc)
mon.close()
"""


def _agent_process(tmp_path: Path, db: Path, session: str, steps: int) -> str:
    import subprocess
    import sys

    script = tmp_path / "agent.py"
    script.write_text(AGENT)
    done = subprocess.run(
        [sys.executable, str(script), str(db), session, str(steps)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_a_new_agent_process_does_not_start_afresh_where_a_store_was_deleted(
    tmp_path: Path,
) -> None:
    folder = tmp_path / ".oversight"
    db = folder / "o.db"
    assert "ACTED" in _agent_process(tmp_path, db, "first", 5)
    shutil.rmtree(folder)  # between runs: `rm -rf .oversight`
    out = _agent_process(tmp_path, db, "second", 5)
    assert "REFUSED" in out and "new, empty store" in out, out
    assert "ACTED" not in out
    # Still refused next time: the empty store made in its place is no fresh start either.
    assert "REFUSED" in _agent_process(tmp_path, db, "third", 1)
    with open_store(f"sqlite:///{db}") as store:
        alerts = [r.record for r in store.iter_records() if r.record.type == "alert"]
    assert alerts and "store lost" in alerts[0].reason  # type: ignore[union-attr]


def test_an_older_copy_put_back_is_noticed_by_the_next_process(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    assert "ACTED" in _agent_process(tmp_path, db, "first", 3)
    shutil.copy(db, tmp_path / "old.db")
    assert "ACTED" in _agent_process(tmp_path, db, "second", 10)
    shutil.copy(tmp_path / "old.db", db)  # the agent restores the copy without its later steps
    out = _agent_process(tmp_path, db, "third", 1)
    assert "REFUSED" in out and "chain ends at record" in out, out


def test_deleting_the_note_retires_a_store_on_purpose(tmp_path: Path) -> None:
    from oversight._known_stores import KnownStores

    db = tmp_path / "o.db"
    assert "ACTED" in _agent_process(tmp_path, db, "first", 2)
    db.unlink()
    KnownStores().forget(str(db.resolve()))
    assert "ACTED" in _agent_process(tmp_path, db, "second", 2)

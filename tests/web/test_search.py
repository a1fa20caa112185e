"""Full-text search over steps (oversight/web/search.py): a real store written by a real
monitor, indexed beside it, searched with any text a reviewer might type."""

from __future__ import annotations

from pathlib import Path

from oversight import Monitor
from oversight.store import open_store
from oversight.web.search import SearchIndex, fts_query

SECRET = "ghp_" + "S3archM3N0tT0k3nAbCdEfGhIj"


def _agent(db: Path, session: str, commands: list[str]) -> None:
    with Monitor(db=str(db), log="none", policy="record-only") as mon, mon.session(session):
        for command in commands:
            mon.check("Bash", {"command": command}).succeed(f"ran {command}")
        mon.check("Edit", {"file_path": "evaluate.py", "old_string": "acc", "new_string": "f1"})
        mon.check("Bash", {"command": f"GITHUB_TOKEN={SECRET} git push"}).fail(
            RuntimeError("permission denied for mirror-remote")
        )


def test_steps_are_found_by_arguments_results_and_errors_newest_first(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    _agent(db, "first", ["python baseline.py --lr 0.1", "ls results"])
    with open_store(f"sqlite:///{db}") as store:
        index = SearchIndex(store, tmp_path / "search.sqlite")  # type: ignore[arg-type]
        assert index.update() > 0
        (hit,) = index.search("baseline lr")
        assert (hit.session_id, hit.name) == ("first", "Bash")
        assert "[baseline]" in hit.snippet
        assert [h.name for h in index.search("evaluate")] == ["Edit"]
        assert {h.session_id for h in index.search("mirror-remote")} == {"first"}  # an error
        assert index.search("ran ls")  # a result
        assert index.search("basel")  # the last word is a prefix
        assert index.search(SECRET) == [] and index.search("S3archM3N0t") == []  # redacted

        # New records are indexed from where the last update stopped, nothing twice.
        _agent(db, "second", ["python baseline.py --lr 0.01"])
        before = index.last_seq
        assert index.update() > 0 and index.last_seq > before
        assert index.update() == 0
        hits = index.search("baseline")
        assert [h.session_id for h in hits] == ["second", "first"]
        older = index.search("baseline", before_seq=hits[0].seq)
        assert [h.session_id for h in older] == ["first"]
        index.close()


def test_any_text_is_a_query_never_fts_syntax(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    _agent(db, "s", ['python -c "print(1)"'])
    with open_store(f"sqlite:///{db}") as store:
        index = SearchIndex(store, tmp_path / "search.sqlite")  # type: ignore[arg-type]
        index.update()
        for text in ('"', "NEAR(", "a OR", "*", "-", "col:val", ")(", "print AND", "'; DROP"):
            index.search(text)  # no error, whatever it finds
        assert index.search("   ") == [] and fts_query("!!") is None
        assert index.search("print(1)")
        index.close()
    # The index is derived: a new one over the same store finds the same.
    with open_store(f"sqlite:///{db}") as store:
        again = SearchIndex(store, tmp_path / "other.sqlite")  # type: ignore[arg-type]
        again.update()
        assert again.search("print")
        again.close()

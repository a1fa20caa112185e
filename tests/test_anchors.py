"""Anchored chain heads (issue 12 item 2): an admin signs the head and keeps it elsewhere;
`verify --anchors` then catches what the chain alone cannot: a rewritten chain, a cut tail, an
emptied store, another file swapped in. Real CLI processes, a real store."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from reviewing import cli, register_reviewers
from tampering import rewrite_whole_chain

from oversight import Monitor
from oversight.store import open_store


@pytest.fixture
def anchored(tmp_path: Path) -> tuple[Path, Path, Path]:
    db, keys, anchors = tmp_path / "o.db", tmp_path / "keys", tmp_path / "vault" / "heads.jsonl"
    register_reviewers(db, keys)
    with Monitor(db=str(db), policy="observe-only", log="none") as mon, mon.session("s"):
        for i in range(20):
            mon.check("Bash", {"command": f"echo {i}"}).succeed("ok")
    done = cli("anchor", "--as", "root", "--key", str(keys / "root.pem"), "--to", str(anchors),
               "--db", str(db))  # fmt: skip
    assert done.returncode == 0, done.stderr
    return db, keys, anchors


def _verify(db: Path, anchors: Path):  # type: ignore[no-untyped-def]
    return cli("verify", "--db", str(db), "--anchors", str(anchors), "--json")


def test_an_untouched_store_verifies_against_its_anchor(anchored: tuple[Path, Path, Path]) -> None:
    db, _, anchors = anchored
    with Monitor(db=str(db), policy="observe-only", log="none") as mon, mon.session("later"):
        mon.check("Bash", {"command": "ls"}).succeed("ok")  # growing past an anchor is fine
    done = _verify(db, anchors)
    assert done.returncode == 0, done.stdout
    assert json.loads(done.stdout)["ok"] is True


def test_a_recomputed_chain_verifies_alone_but_not_against_the_anchor(
    anchored: tuple[Path, Path, Path],
) -> None:
    db, _, anchors = anchored
    rewrite_whole_chain(db, "echo 3", "rm -rf data", record_type="step.proposed")
    alone = cli("verify", "--db", str(db))
    assert alone.returncode == 0, "the plain chain cannot see a whole rewrite"
    done = _verify(db, anchors)
    assert done.returncode == 1
    assert "rewritten" in " ".join(json.loads(done.stdout)["anchor_problems"])
    with open_store(f"sqlite:///{db}") as store:
        assert any("rm -rf data" in str(r.record.model_dump()) for r in store.iter_records())


def test_a_cut_tail_or_an_emptied_store_is_caught(anchored: tuple[Path, Path, Path]) -> None:
    db, _, anchors = anchored
    raw = sqlite3.connect(db)
    seq, prev = raw.execute("SELECT seq, hash FROM oversight_records WHERE seq = 10").fetchone()
    raw.execute("DELETE FROM oversight_records WHERE seq > 10")
    raw.execute("UPDATE oversight_chain_head SET seq = ?, hash = ?", (seq, prev))
    raw.commit()
    raw.close()
    assert cli("verify", "--db", str(db)).returncode == 0, "the cut chain is consistent"
    done = _verify(db, anchors)
    assert done.returncode == 1 and "tail was cut" in done.stdout


def test_another_store_swapped_in_is_caught(anchored: tuple[Path, Path, Path]) -> None:
    db, _keys, anchors = anchored
    other = db.parent / "clean.db"
    register_reviewers(other, db.parent / "other-keys")
    shutil.copy(other, db)  # a clean store, its own reviewers, its own chain
    done = _verify(db, anchors)
    assert done.returncode == 1


def test_an_anchor_the_agent_forges_does_not_verify(anchored: tuple[Path, Path, Path]) -> None:
    db, _, anchors = anchored
    line = json.loads(anchors.read_text().splitlines()[0])
    line["seq"] = 3  # point the anchor at an older, "safer" head
    anchors.write_text(json.dumps(line) + "\n")
    done = _verify(db, anchors)
    assert done.returncode == 1 and "does not verify" in done.stdout


def test_only_an_admin_can_anchor_and_a_command_can_ship_it(
    anchored: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    db, keys, _ = anchored
    refused = cli("anchor", "--as", "alice", "--key", str(keys / "alice.pem"),
                  "--to", str(tmp_path / "x.jsonl"), "--db", str(db))  # fmt: skip
    assert refused.returncode == 2 and "admin" in refused.stderr
    shipped = tmp_path / "shipped.jsonl"
    done = cli("anchor", "--as", "root", "--key", str(keys / "root.pem"),
               "--command", f"sh -c 'cat >> {shipped}'", "--db", str(db))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _verify(db, shipped).returncode == 0
    with open_store(f"sqlite:///{db}") as store:
        assert store.head()[0] >= 40


def test_a_watching_admin_anchors_each_new_head_and_catches_a_later_cut(
    anchored: tuple[Path, Path, Path],
) -> None:
    """`anchor --every`: the admin's own process signs the head as it moves, with no step of
    the agent's involved; a tail cut after the agent's steps were anchored is caught."""
    import subprocess
    import sys
    import time

    db, keys, anchors = anchored
    watcher = subprocess.Popen(
        [sys.executable, "-m", "oversight", "anchor", "--as", "root", "--key",
         str(keys / "root.pem"), "--to", str(anchors), "--every", "0.1", "--db", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        with Monitor(db=str(db), policy="observe-only", log="none") as mon, mon.session("more"):
            for i in range(10):
                mon.check("Bash", {"command": f"echo more {i}"}).succeed("ok")
        with open_store(f"sqlite:///{db}") as store:
            final = store.head()[0]
        end = time.monotonic() + 60
        while time.monotonic() < end and f'"seq":{final}' not in anchors.read_text().replace(
            " ", ""
        ):
            time.sleep(0.05)
    finally:
        watcher.terminate()
        watcher.communicate(timeout=30)
    lines = anchors.read_text().splitlines()
    assert f'"seq":{final}' in lines[-1].replace(" ", ""), "the newest head was anchored"
    assert len(lines) <= 2 + 10 * 2, "a head that did not move is not signed again"
    raw = sqlite3.connect(db)
    seq, prev = raw.execute("SELECT seq, hash FROM oversight_records WHERE seq = 25").fetchone()
    raw.execute("DELETE FROM oversight_records WHERE seq > 25")
    raw.execute("UPDATE oversight_chain_head SET seq = ?, hash = ?", (seq, prev))
    raw.commit()
    raw.close()
    done = _verify(db, anchors)
    assert done.returncode == 1 and "tail was cut" in done.stdout

"""Audit bundles (issue 15, export): one session out of a real store, with the chain segment it
sits in, the signed heads and the reviewers' keys, checked by `oversight verify --bundle` with
the store deleted. Each way of tampering with the file fails, naming the line or the seq."""

from __future__ import annotations

import datetime as _dt
import json
import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import Any

import pytest
from reviewing import cli, register_in_process, register_reviewers
from tampering import rewrite_whole_chain

from oversight import Monitor
from oversight.anchors import Anchor, make_anchor, read_anchors
from oversight.approvals.signing import load_private_key, new_private_key, public_hex, sign
from oversight.bundle import BundleReport, bundle_lines, read_segment, verify_bundle
from oversight.store import open_store
from oversight.store.chain import record_hash

Lines = list[dict[str, Any]]


@dataclass(frozen=True)
class Exported:
    bundle: Path
    anchors: Path
    root_key: str
    session_seqs: list[int]
    """The seqs of session `a`'s records, read from the store before it was deleted."""


def _interleaved_sessions(url: str) -> None:
    """Sessions `a` and `b` taking turns, so `a`'s records are not contiguous in the chain."""
    with (
        Monitor(db=url, policy="observe-only", log="none") as mon,
        mon.session("a", agent="bot") as a,
        mon.session("b", agent="other") as b,
    ):
        for i in range(6):
            mon.check("Bash", {"command": f"echo a{i}"}, session=a).succeed("ok")
            mon.check("Bash", {"command": f"echo b{i}"}, session=b).succeed("ok")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    """A real store (reviewers by CLI, a real Monitor, a head signed by `oversight anchor`),
    session `a` exported as a bundle with that anchor, then the store deleted."""
    tmp = tmp_path_factory.mktemp("bundle")
    db, keys, anchors = tmp / "o.db", tmp / "keys", tmp / "vault" / "heads.jsonl"
    register_reviewers(db, keys)
    _interleaved_sessions(str(db))
    signed = cli("anchor", "--as", "root", "--key", str(keys / "root.pem"), "--to", str(anchors),
                 "--db", str(db))  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    with Monitor(db=str(db), policy="observe-only", log="none") as mon, mon.session("later"):
        mon.check("Bash", {"command": "ls"}).succeed("ok")  # the head moves past the anchor
    with open_store(f"sqlite:///{db}") as store:
        seqs = [r.seq for r in store.iter_records("a")]
    bundle = tmp / "a.bundle"
    done = cli("export", "a", "--bundle", str(bundle), "--anchors", str(anchors), "--db", str(db))
    assert done.returncode == 0, done.stderr
    for path in tmp.glob("o.db*"):
        path.unlink()
    root = public_hex(load_private_key(keys / "root.pem"))
    return Exported(bundle, anchors, root, seqs)


def _read(path: Path) -> Lines:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _write(path: Path, lines: Lines, *, reseal: bool = True) -> Path:
    """Write `lines` back; `reseal` recomputes the end line as anyone editing the file can."""
    body = [json.dumps(obj, separators=(",", ":")) + "\n" for obj in lines if obj["part"] != "end"]
    end = next(obj for obj in lines if obj["part"] == "end") if not reseal else None
    if end is None:
        text = "".join(body)
        end = {"part": "end", "lines": len(body), "sha256": sha256(text.encode()).hexdigest()}
    path.write_text("".join(body) + json.dumps(end) + "\n")
    return path


def _check(
    path: Path, anchors: list[Anchor] | None = None, root: str | None = None
) -> BundleReport:
    with path.open("rb") as fh:
        return verify_bundle(fh, anchors=anchors or [], root_key=root)


def _records(lines: Lines) -> list[dict[str, Any]]:
    return [obj for obj in lines if obj["part"] == "record"]


def _rehash_from(lines: Lines, seq: int) -> None:
    """What a careful forger does after editing the record at `seq`: recompute every later hash
    and the head, so the chain holds on its own."""
    prev: str | None = None
    for obj in _records(lines):
        if obj["seq"] < seq:
            prev = obj["hash"]
            continue
        obj["prev_hash"] = prev if prev is not None else obj["prev_hash"]
        obj["hash"] = record_hash(
            obj["prev_hash"], obj["seq"], obj["record_id"], obj["type"], obj["session_id"],
            obj["step_id"], obj["kind"], obj["decision"], obj["ts"], obj["body"],
        )  # fmt: skip
        prev = obj["hash"]
    lines[0]["head"]["hash"] = prev


def _one(report: BundleReport, *words: str) -> str:
    """The problem that says all of `words` (the report must fail)."""
    assert not report.ok
    found = [p for p in report.problems if all(w in p for w in words)]
    assert found, report.problems
    return found[0]


# -- an untouched bundle ----------------------------------------------------------------------


def test_a_session_bundle_verifies_with_the_store_deleted(exported: Exported) -> None:
    assert not list(exported.bundle.parent.glob("o.db*")), "no store to fall back on"
    done = cli("verify", "--bundle", str(exported.bundle), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    out = json.loads(done.stdout)
    seqs = exported.session_seqs
    assert out["ok"] is True and out["scope"] == "session" and out["session_id"] == "a"
    assert out["first_seq"] == seqs[0] and out["session_records"] == len(seqs)
    assert out["records"] == out["last_seq"] - out["first_seq"] + 1 > len(seqs)
    assert out["anchors_held"] == 1 and out["anchored_through"] >= seqs[-1]
    assert out["root_pinned"] is False
    assert any("trust on first use" in w for w in out["warnings"])
    sessions = {r["session_id"] for r in _records(_read(exported.bundle))}
    assert {"a", "b", "later"} <= sessions, "the other sessions' rows in between are shipped"


def test_the_report_says_what_it_checked(exported: Exported) -> None:
    done = cli("verify", "--bundle", str(exported.bundle))
    assert done.returncode == 0, done.stdout + done.stderr
    text = " ".join(done.stdout.split())
    assert "session 'a'" in text and "as sealed by the end line" in text
    assert "recomputes from its first record" in text
    assert "anchor of seq" in text and "signature verifies" in text
    assert "intact" in text and "Pin the real root with --root-key" in text


def test_a_pinned_root_key_is_used_and_a_wrong_one_refuses_the_anchors(
    exported: Exported,
) -> None:
    pinned = cli("verify", "--bundle", str(exported.bundle), "--root-key", exported.root_key,
                 "--json")  # fmt: skip
    assert pinned.returncode == 0, pinned.stdout
    out = json.loads(pinned.stdout)
    assert out["root_pinned"] is True and not any(
        "trust on first use" in w for w in out["warnings"]
    )
    assert any("the pinned root key" in c for c in out["checked"])
    other = public_hex(new_private_key())
    wrong = cli("verify", "--bundle", str(exported.bundle), "--root-key", other, "--json")
    assert wrong.returncode == 1
    assert any("not a trusted admin" in p for p in json.loads(wrong.stdout)["problems"])


def test_the_auditors_own_anchors_file_is_checked_too(exported: Exported) -> None:
    done = cli("verify", "--bundle", str(exported.bundle), "--anchors", str(exported.anchors),
               "--json")  # fmt: skip
    assert done.returncode == 0, done.stdout
    assert json.loads(done.stdout)["anchors_held"] == 2  # the bundle's copy and the file's


# -- tampering --------------------------------------------------------------------------------


def test_an_edited_body_is_named_by_its_seq(exported: Exported, tmp_path: Path) -> None:
    lines = _read(exported.bundle)
    target = next(r for r in _records(lines) if "echo a2" in r["body"])
    target["body"] = target["body"].replace("echo a2", "rm -rf data")
    report = _check(_write(tmp_path / "x", lines))
    problem = _one(report, f"seq {target['seq']}", "hash mismatch")
    assert target["record_id"] in problem


def test_an_edit_without_resealing_breaks_the_seal(exported: Exported, tmp_path: Path) -> None:
    lines = _read(exported.bundle)
    target = next(r for r in _records(lines) if "echo a2" in r["body"])
    target["body"] = target["body"].replace("echo a2", "echo ok")
    report = _check(_write(tmp_path / "x", lines, reseal=False))
    _one(report, "SHA-256", "changed or damaged")


def test_a_replaced_record_breaks_the_link_to_the_next(exported: Exported, tmp_path: Path) -> None:
    """A record swapped for another whose own hash recomputes: the next one no longer links."""
    lines = _read(exported.bundle)
    records = _records(lines)
    target = next(r for r in records if "echo a2" in r["body"])
    target["body"] = target["body"].replace("echo a2", "echo ok")
    target["hash"] = record_hash(
        target["prev_hash"], target["seq"], target["record_id"], target["type"],
        target["session_id"], target["step_id"], target["kind"], target["decision"],
        target["ts"], target["body"],
    )  # fmt: skip
    report = _check(_write(tmp_path / "x", lines))
    _one(report, f"seq {target['seq'] + 1}", f"does not link to seq {target['seq']}")
    assert not any("hash mismatch" in p for p in report.problems)


def test_a_removed_record_is_named(exported: Exported, tmp_path: Path) -> None:
    lines = _read(exported.bundle)
    gone = _records(lines)[4]
    lines.remove(gone)
    report = _check(_write(tmp_path / "x", lines))
    _one(report, f"seq {gone['seq']} missing", "removed")


def test_a_removed_tail_is_named(exported: Exported, tmp_path: Path) -> None:
    lines = _read(exported.bundle)
    last = _records(lines)[-1]
    lines.remove(last)
    report = _check(_write(tmp_path / "x", lines))
    _one(report, f"stop at seq {last['seq'] - 1}", "removed from its end")


def test_reordered_records_are_named(exported: Exported, tmp_path: Path) -> None:
    lines = _read(exported.bundle)
    i = lines.index(_records(lines)[3])
    lines[i], lines[i + 1] = lines[i + 1], lines[i]
    report = _check(_write(tmp_path / "x", lines))
    _one(report, f"seq {lines[i + 1]['seq']}", "out of order")


def test_a_record_added_beyond_the_head_is_named(exported: Exported, tmp_path: Path) -> None:
    lines = _read(exported.bundle)
    extra = dict(_records(lines)[-1], seq=lines[0]["last_seq"] + 1)
    lines.insert(len(lines) - 1, extra)
    report = _check(_write(tmp_path / "x", lines))
    _one(report, f"seq {extra['seq']}", "beyond the head")


def test_a_bundle_cut_short_of_the_sessions_start_is_caught(
    exported: Exported, tmp_path: Path
) -> None:
    """Drop the records up to the session's first step and move the header to match: the
    chain still links, but the session no longer starts with its session.started record."""
    lines = _read(exported.bundle)
    step = next(
        r for r in _records(lines) if r["session_id"] == "a" and r["type"] != "session.started"
    )
    lines = [obj for obj in lines if obj["part"] != "record" or obj["seq"] >= step["seq"]]
    lines[0]["first_seq"] = step["seq"]
    report = _check(_write(tmp_path / "x", lines))
    _one(report, "'session.started'", "left out")


def test_a_forged_anchor_does_not_verify(exported: Exported, tmp_path: Path) -> None:
    lines = _read(exported.bundle)
    anchor = next(obj for obj in lines if obj["part"] == "anchor")
    older = _records(lines)[2]
    anchor["seq"], anchor["hash"] = older["seq"], older["hash"]
    report = _check(_write(tmp_path / "x", lines))
    _one(report, f"anchor of seq {older['seq']}", "signature does not verify")


def test_a_rewritten_bundle_holds_alone_but_contradicts_its_anchor(
    exported: Exported, tmp_path: Path
) -> None:
    lines = _read(exported.bundle)
    target = next(r for r in _records(lines) if "echo a2" in r["body"])
    target["body"] = target["body"].replace("echo a2", "rm -rf data")
    _rehash_from(lines, target["seq"])
    report = _check(_write(tmp_path / "x", lines))
    problem = _one(report, "anchor of seq", "rewritten")
    assert report.problems == [problem], "the chain alone cannot see a whole rewrite"


def test_dropping_the_anchor_too_is_caught_by_the_auditors_copy(
    exported: Exported, tmp_path: Path
) -> None:
    lines = [obj for obj in _read(exported.bundle) if obj["part"] != "anchor"]
    target = next(r for r in _records(lines) if "echo a2" in r["body"])
    target["body"] = target["body"].replace("echo a2", "rm -rf data")
    _rehash_from(lines, target["seq"])
    path = _write(tmp_path / "x", lines)
    alone = _check(path)
    assert alone.ok and any("no signed anchor covers" in w for w in alone.warnings)
    kept, _ = read_anchors(exported.anchors.read_text().splitlines())
    _one(_check(path, kept), "anchors file", "rewritten")


def test_a_truncated_bundle_fails(exported: Exported, tmp_path: Path) -> None:
    data = exported.bundle.read_bytes()
    cut = tmp_path / "cut"
    cut.write_bytes(data[: len(data) // 2])
    _one(_check(cut), "truncated")
    whole_lines = tmp_path / "lines"
    whole_lines.write_bytes(b"".join(data.splitlines(keepends=True)[:-3]))
    report = _check(whole_lines)
    _one(report, "truncated", "without its end line")
    _one(report, "removed from its end")


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda lines: lines.__setitem__(5, "{not json"), ["line 6", "not JSON"]),
        (lambda lines: lines.__setitem__(5, "[1, 2]"), ["line 6", "not a JSON object"]),
        (lambda lines: lines.__setitem__(5, '{"seq": 3}'), ["line 6", "field 'part'"]),
        (
            lambda lines: lines.__setitem__(5, _without(lines[5], "hash")),
            ["line 6", "record field 'hash' is missing"],
        ),
        (
            lambda lines: lines.__setitem__(5, _with(lines[5], seq="7")),
            ["line 6", "record field 'seq'", "non-negative integer"],
        ),
        (
            lambda lines: lines.__setitem__(5, _with(lines[5], body=None)),
            ["line 6", "record field 'body'", "expected text"],
        ),
        (
            lambda lines: lines.__setitem__(0, _with(lines[0], bundle="oversight.bundle/v9")),
            ["line 1", "'oversight.bundle/v9' is not supported"],
        ),
        (
            lambda lines: lines.__setitem__(0, _with(lines[0], first_seq=-1)),
            ["line 1", "header field 'first_seq'"],
        ),
        (
            lambda lines: lines.insert(3, lines[0]),
            ["line 4", "header line after", "out of order"],
        ),
        (
            lambda lines: lines.__setitem__(1, _with(lines[1], public_key=7)),
            ["line 2", "reviewer field 'public_key'"],
        ),
        (
            lambda lines: lines.__setitem__(
                next(i for i, x in enumerate(lines) if '"anchor"' in x), '{"part":"anchor"}'
            ),
            ["unreadable anchor"],
        ),
    ],
)
def test_a_malformed_line_is_named_by_line_and_field(
    exported: Exported, tmp_path: Path, damage: Callable[[list[str]], None], expected: list[str]
) -> None:
    lines = exported.bundle.read_text().splitlines()
    damage(lines)
    path = tmp_path / "x"
    path.write_text("\n".join(lines) + "\n")
    _one(_check(path), *expected)


def _without(line: str, name: str) -> str:
    obj = json.loads(line)
    del obj[name]
    return json.dumps(obj)


def _with(line: str, **values: Any) -> str:
    return json.dumps({**json.loads(line), **values})


def test_random_damage_always_fails_and_never_raises(exported: Exported) -> None:
    data = exported.bundle.read_bytes()
    rng = random.Random(15)
    for _ in range(300):
        damaged = bytearray(data)
        at = rng.randrange(len(damaged))
        if rng.random() < 0.5:
            damaged[at] = rng.choice(b'"{}[]:,\\0a \n\xff')
        else:
            del damaged[at : at + rng.randrange(1, 400)]
        if bytes(damaged) == data:
            continue
        report = verify_bundle(bytes(damaged).splitlines(keepends=True))
        assert not report.ok and report.problems


def test_a_file_that_is_not_a_bundle_fails_cleanly_by_cli(
    exported: Exported, tmp_path: Path
) -> None:
    for name, data in (
        ("session.jsonl", b'{"seq":1,"hash":"00","prev_hash":"00","record":{}}\n'),
        ("binary", bytes(range(256)) * 4),
        ("empty", b""),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        done = cli("verify", "--bundle", str(path))
        assert done.returncode == 1, (name, done.stdout, done.stderr)
        assert "FAILED" in done.stdout and "Traceback" not in done.stderr + done.stdout


# -- stores that were changed behind oversight's back -----------------------------------------


def _store_with_anchor(tmp: Path) -> tuple[Path, Path, Path]:
    db, keys, anchors = tmp / "o.db", tmp / "keys", tmp / "heads.jsonl"
    register_reviewers(db, keys, names=())
    _interleaved_sessions(str(db))
    signed = cli("anchor", "--as", "root", "--key", str(keys / "root.pem"), "--to", str(anchors),
                 "--db", str(db))  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    return db, keys, anchors


def test_a_store_rewritten_after_its_anchor_gives_a_bundle_that_fails(tmp_path: Path) -> None:
    db, _, anchors = _store_with_anchor(tmp_path)
    rewrite_whole_chain(db, "echo a3", "rm -rf data")
    assert cli("verify", "--db", str(db)).returncode == 0, "the plain chain cannot see it"
    with_anchor, without = tmp_path / "with.bundle", tmp_path / "without.bundle"
    for path, extra in ((with_anchor, ["--anchors", str(anchors)]), (without, [])):
        done = cli("export", "a", "--bundle", str(path), "--db", str(db), *extra)
        assert done.returncode == 0, done.stderr
    db.unlink()
    inside = cli("verify", "--bundle", str(with_anchor))
    assert inside.returncode == 1 and "rewritten" in inside.stdout
    outside = cli("verify", "--bundle", str(without), "--anchors", str(anchors))
    assert outside.returncode == 1 and "rewritten" in outside.stdout
    assert "FAILED" in outside.stdout and "Traceback" not in outside.stderr


def test_a_store_cut_before_export_fails_against_the_earlier_anchor(tmp_path: Path) -> None:
    db, _, anchors = _store_with_anchor(tmp_path)
    raw = sqlite3.connect(db)
    seq, prev = raw.execute("SELECT seq, hash FROM oversight_records WHERE seq = 10").fetchone()
    raw.execute("DELETE FROM oversight_records WHERE seq > 10")
    raw.execute("UPDATE oversight_chain_head SET seq = ?, hash = ?", (seq, prev))
    raw.commit()
    raw.close()
    bundle = tmp_path / "all.bundle"
    assert cli("export", "--all", "--bundle", str(bundle), "--db", str(db)).returncode == 0
    report = _check(bundle, read_anchors(anchors.read_text().splitlines())[0])
    _one(report, "chain ends at seq 10", "tail was cut")


def test_an_anchor_signed_after_the_export_is_not_held_against_it(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    url = f"sqlite:///{db}"
    with open_store(url) as store:
        keys = register_in_process(store, approvers=())
    _interleaved_sessions(url)
    bundle = tmp_path / "a.bundle"
    with read_segment(url, "a") as segment:
        bundle.write_bytes(b"".join(bundle_lines(segment, [])))
    _interleaved_sessions(url)  # the store grows after the export
    with open_store(url) as store:
        later = make_anchor(store, "root", keys["root"])
    report = _check(bundle, [later])
    assert report.ok, report.problems
    assert any("signed after this bundle was exported" in w for w in report.warnings)
    back = _dt.datetime.now(_dt.UTC) - _dt.timedelta(hours=1)
    backdated = Anchor(later.store, later.seq, later.hash, back.isoformat(), "root", "")
    backdated = Anchor(
        **{**backdated.__dict__, "signature": sign(keys["root"], backdated.payload())}
    )
    _one(_check(bundle, [backdated]), "signed before the export", "tail was cut")


# -- scopes and stores ------------------------------------------------------------------------


def test_a_whole_store_bundle_starts_at_genesis(tmp_path: Path) -> None:
    db, keys, anchors = _store_with_anchor(tmp_path)
    bundle = tmp_path / "all.bundle"
    done = cli("export", "--all", "--bundle", str(bundle), "--anchors", str(anchors),
               "--db", str(db))  # fmt: skip
    assert done.returncode == 0, done.stderr
    with open_store(f"sqlite:///{db}") as store:
        head = store.head()[0]
    db.unlink()
    report = _check(bundle, root=public_hex(load_private_key(keys / "root.pem")))
    assert report.ok, report.problems
    assert report.records == head and report.header["scope"] == "store"
    assert any("recomputes from genesis" in c for c in report.checked)
    assert report.anchored_through == head


def test_a_bundle_from_either_backend_verifies(store_url: str, tmp_path: Path) -> None:
    with open_store(store_url) as store:
        keys = register_in_process(store, approvers=())
    _interleaved_sessions(store_url)
    with open_store(store_url) as store:
        anchor = make_anchor(store, "root", keys["root"])
    heads = tmp_path / "heads.jsonl"
    heads.write_text(anchor.line() + "\n")
    bundle = tmp_path / "b.bundle"
    done = cli("export", "b", "--bundle", str(bundle), "--anchors", str(heads), "--db", store_url)
    assert done.returncode == 0, done.stderr
    report = _check(bundle, root=public_hex(keys["root"]))
    assert report.ok, report.problems
    assert report.session_records == 2 + 2 * 6 and report.anchored_through == anchor.seq


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["export", "--bundle", "x.bundle"], "give a SESSION or --all"),
        (["export", "a", "--all", "--bundle", "x.bundle"], "give a SESSION or --all"),
        (["export", "a", "--bundle", "x.bundle", "-o", "y"], "leave out --as-trace and --output"),
        (["export", "a", "--all"], "--all and --anchors go with --bundle"),
        (["export", "nobody", "--bundle", "x.bundle"], "no session 'nobody'"),
        (["verify", "--bundle", "x.bundle", "--db", "o.db"], "without a store"),
        (["verify", "--bundle", "missing.bundle"], "cannot read bundle"),
        (["verify", "--bundle", "x.bundle", "--root-key", "abc"], "is not a public key"),
    ],
)
def test_the_cli_refuses_what_it_cannot_do(tmp_path: Path, args: list[str], expected: str) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    _interleaved_sessions(url)
    (tmp_path / "x.bundle").write_text("")
    db_args = [] if "--bundle" in args and args[0] == "verify" else ["--db", url]
    done = cli(*args, *db_args, cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert expected in " ".join(done.stderr.split()), done.stderr
    assert not (tmp_path / "x.bundle.partial").exists()

"""`oversight report` and `oversight trends` against a real store filled by a real Monitor, run
as a user runs them (a subprocess)."""

from __future__ import annotations

import datetime as _dt
import json
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from oversight import CheckpointDenied, Monitor, RecordOnly
from oversight.approvals.broker import ApprovalRequest
from oversight.approvals.signing import load_private_key
from oversight.approvals.votes import cast_vote
from oversight.records import SessionEnded, SessionStarted, StepFinished, StepProposed
from oversight.store import open_store

SVG = "{http://www.w3.org/2000/svg}"
GATE_CHECKPOINTS = """
name: gate-checkpoints
unmatched: {consequential: allow, other: allow}
rules:
  - id: gate-checkpoints
    match: {kind: [code.apply, train.launch]}
    effect: require_approval
    approval: {role: approver, quorum: 1, timeout_s: 30}
"""
READING_S = 2.2  # the reviewer reads the launch for longer than a rubber stamp would


def oversight(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oversight", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three sessions today (reviewed checkpoints, no person at all, reads only) and one,
    written as records, from three days ago."""
    tmp = tmp_path_factory.mktemp("autonomy-cli")
    db, keys = tmp / "o.db", tmp / "keys"
    for args in (
        ("reviewer", "add", "root", "--role", "admin", "--key-out", str(keys / "root.pem")),
        ("reviewer", "add", "alice", "--key-out", str(keys / "alice.pem"),
         "--as", "root", "--key", str(keys / "root.pem")),
    ):  # fmt: skip
        done = oversight(*args, "--db", str(db))
        assert done.returncode == 0, done.stderr
    pack = tmp / "pack.yaml"
    pack.write_text(GATE_CHECKPOINTS)
    key = load_private_key(keys / "alice.pem")
    timers: list[threading.Timer] = []

    def vote(request: ApprovalRequest, decision: str) -> None:
        with open_store(f"sqlite:///{db}") as votes:
            approval = {"id": request.approval_id, "args_digest": request.args_digest}
            cast_vote(votes, approval, "alice", key, decision, "read it")

    def reviewer(request: ApprovalRequest) -> None:
        if request.kind == "code.apply":
            vote(request, "deny")
        else:
            timer = threading.Timer(READING_S, vote, (request, "approve"))
            timers.append(timer)
            timer.start()

    with Monitor(db=str(db), policy=str(pack), log="none", on_approval_request=reviewer) as mon:
        bash, write, launch = _tools(mon)
        with mon.session("sup-1", agent="research-bot"):
            write("src/model.py", "x = 1")
            bash("python experiments/sweep.py")
            bash("python evals/run_eval.py")
            with pytest.raises(CheckpointDenied):
                bash("git push origin main")
            launch("configs/rl.yaml", gpus=8, hours=2)
    for timer in timers:
        timer.join()
    with Monitor(db=str(db), policy=RecordOnly(), log="none") as mon:
        bash, write, launch = _tools(mon)
        with mon.session("auto-1", agent="research-bot"):
            write("src/train.py", "y = 2")
            bash("python evals/run_eval.py")
            bash("git push origin main")
        with mon.session("read-1", agent="survey-bot"):
            bash("cat README.md")
    _old_session(db)
    return db


def _tools(mon: Monitor):  # type: ignore[no-untyped-def]
    @mon.step(name="Bash")
    def bash(command: str) -> str:
        return "ok"

    @mon.step(name="Write")
    def write(file_path: str, content: str) -> str:
        return "ok"

    @mon.step(name="launch_training", kind="train.launch")
    def launch(config: str, gpus: int, hours: float) -> str:
        return "job-1"

    return bash, write, launch


def _old_session(db: Path) -> None:
    """A session from three days ago: records as a monitor writes them, with their timestamps."""
    when = _dt.datetime.now(_dt.UTC) - _dt.timedelta(days=3)
    common = {"session_id": "old-1"}
    records = [
        SessionStarted(ts=when, pid=1, host="h", oversight_version="0", agent="research-bot", **common),
        StepProposed(ts=when, step_id="a", seq=1, kind="code.apply", name="Bash",
                     args={"command": "git push"}, args_digest="d", reason="r",
                     decision="require_approval", **common),
        StepFinished(ts=when, step_id="a", seq=1, kind="code.apply", status="ok", started_at=when,
                     duration_ms=1.0, approved_by=["alice"], approval_id="x", **common),
        SessionEnded(ts=when, status="completed", steps=1, **common),
    ]  # fmt: skip
    with open_store(f"sqlite:///{db}") as store:
        store.append(records)


def test_report_scores_a_session_whose_checkpoints_people_reviewed_as_scenario_2(
    store: Path, tmp_path: Path
) -> None:
    out = oversight("report", "sup-1", "--db", str(store), "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["session"] == "sup-1" and doc["agent"] == "research-bot"
    assert doc["scenario"] == 2, doc["reasons"]
    assert 1 / 3 <= doc["score"] < 2 / 3
    assert doc["signals"]["human_denials"] == 1 and doc["signals"]["human_approvals"] == 1
    assert doc["signals"]["unreviewed_checkpoints"] == 0
    # the pack let the work through by rule (automatic); a person decided both checkpoints
    assert [s["review"] for s in doc["series"]] == [*["automatic"] * 3, "human", "human"]
    chart = tmp_path / "oversight-report-sup-1.svg"
    assert doc["chart"] == str(chart) and chart.is_file()


def test_report_of_an_unreviewed_loop_is_scenario_3_with_evidence(
    store: Path, tmp_path: Path
) -> None:
    doc = json.loads(
        oversight("report", "auto-1", "--db", str(store), "--json", cwd=tmp_path).stdout
    )
    assert doc["scenario"] == 3
    assert doc["signals"]["loop_closures"] == 1
    signals = {e["signal"] for e in doc["evidence"]}
    assert {"loop_closures", "unreviewed_checkpoints"} <= signals


def test_report_prints_score_signals_evidence_and_stretches_and_writes_the_chart(
    store: Path, tmp_path: Path
) -> None:
    chart = tmp_path / "charts" / "auto.svg"
    chart.parent.mkdir()
    out = oversight("report", "auto-1", "--db", str(store), "--out", str(chart))
    assert out.returncode == 0, out.stderr
    for expected in (
        "scenario 3 (autonomous loop)",
        "loop_closures",
        "closed a loop",
        "unsupervised stretches",
        f"chart written to {chart}",
    ):
        assert expected in out.stdout


def test_the_chart_is_well_formed_svg_with_one_point_per_step_and_review_markers(
    store: Path, tmp_path: Path
) -> None:
    chart = tmp_path / "sup.svg"
    assert oversight("report", "sup-1", "--db", str(store), "--out", str(chart)).returncode == 0
    root = ET.parse(chart).getroot()
    assert root.tag == f"{SVG}svg"
    (line,) = [p for p in root.iter(f"{SVG}polyline") if p.get("class") == "score"]
    points = line.get("points", "").split()
    assert len(points) == 5
    assert {r.get("class") for r in root.iter(f"{SVG}rect")} >= {
        "band band-1",
        "band band-2",
        "band band-3",
    }
    rings = [
        c.get("class") for c in root.iter(f"{SVG}circle") if "review" in (c.get("class") or "")
    ]
    assert sorted(rings) == ["review approve", "review deny"]
    text = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "scenario 2" in text and "sup-1" in text


def test_report_on_an_unknown_session_says_so_and_exits_2(store: Path, tmp_path: Path) -> None:
    out = oversight("report", "nope", "--db", str(store), cwd=tmp_path)
    assert out.returncode == 2
    assert "no session 'nope'" in out.stderr
    assert not list(tmp_path.glob("*.svg"))


def test_report_refuses_a_chart_path_that_is_not_svg(store: Path, tmp_path: Path) -> None:
    out = oversight("report", "sup-1", "--db", str(store), "--out", str(tmp_path / "x.png"))
    assert out.returncode == 2 and "--out must name an .svg file" in out.stderr


def test_trends_groups_sessions_by_agent_and_day(store: Path) -> None:
    out = oversight("trends", "--db", str(store), "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["rows"]
    today = _dt.datetime.now(_dt.UTC).date()
    old = today - _dt.timedelta(days=3)
    by_key = {(r["agent"], r["day"]): r for r in rows}
    assert set(by_key) == {
        ("research-bot", old.isoformat()),
        ("research-bot", today.isoformat()),
        ("survey-bot", today.isoformat()),
    }
    recent = by_key[("research-bot", today.isoformat())]
    assert recent["sessions"] == 2 and recent["max_scenario"] == 3
    assert recent["human_decisions"] == 2 and recent["human_approval_rate"] == 0.5
    assert recent["consequential_steps"] == 8
    assert recent["human_reviewed_share"] == pytest.approx(2 / 8)
    assert by_key[("research-bot", old.isoformat())]["human_approval_rate"] == 1.0
    survey = by_key[("survey-bot", today.isoformat())]
    # a read-only survey nobody took part in: not "humans approve everything"
    assert survey["max_scenario"] == 2 and survey["mean_score"] == pytest.approx(1 / 3)


def test_trends_days_limits_how_far_back_it_looks(store: Path) -> None:
    rows = json.loads(oversight("trends", "--db", str(store), "--days", "1", "--json").stdout)[
        "rows"
    ]
    assert {r["agent"] for r in rows} == {"research-bot", "survey-bot"}
    assert all(r["day"] == _dt.datetime.now(_dt.UTC).date().isoformat() for r in rows)
    table = oversight("trends", "--db", str(store))
    assert "research-bot" in table.stdout and "survey-bot" in table.stdout
    bad = oversight("trends", "--db", str(store), "--days", "0")
    assert bad.returncode == 2 and "--days must be at least 1" in bad.stderr

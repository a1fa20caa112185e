"""Server time of the review web app on a store of 1,000,000 steps (2,000,000 step records).

The store is built once and cached (~/.cache/agent-oversight/bench/, keyed by VERSION and the
step count): ~2,500 sessions of realistic shape, interleaved in time as concurrent agents write
them (shell, edit, read, model, experiment, eval and commit steps; training launches gated and
decided by reviewers, with their approval and vote rows and chained review records; some
failures; live autonomy scores stamped on outcomes exactly where a monitor stamps them), one
session of 1,000 steps, one of 200,000, and a few still running with approvals pending.

Each page is requested in-process through Starlette's TestClient (the whole ASGI app, no
network): one warm-up request (its time is shown: caches are cold then), then REQUESTS timed
ones; median and p95 against the 150 ms target. Baseline, measured in the same run: the raw
indexed SQL query the page needs (through sqlite3, no app), the floor any page pays. The
search index is built first (its build time is reported on its own), then searched.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import heapq
import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import header, verdict
from oversight.autonomy import AutonomyTracker, observe_step
from oversight.canonical import new_id
from oversight.kinds import CONSEQUENTIAL, parse_kind
from oversight.records import (
    Record,
    SessionEnded,
    SessionStarted,
    StepFinished,
    StepProposed,
    StepStatus,
)
from oversight.store import open_store
from oversight.store.review_log import review_event

VERSION = 1
STEPS = int(os.environ.get("OVERSIGHT_BENCH_WEB_STEPS", "") or 1_000_000)
SESSIONS = max(10, STEPS // 400)
LARGEST = min(200_000, STEPS // 5)
MID = 1_000
RUNNING = 12
"""The newest sessions are still running; each waits on a training launch."""
TARGET_MS = 150.0
REQUESTS = int(os.environ.get("OVERSIGHT_BENCH_WEB_REQUESTS", "") or 20)
BATCH = 20_000
DAY = 86_400.0

AGENTS = (
    "research-bot", "trainer-agent", "eval-runner", "claude-code", "codex", "openhands",
    "sweep-agent", "data-cleaner", "paper-writer", "rl-tuner",
)  # fmt: skip
TOPICS = ("ablation", "warmup", "tokenizer", "reward model", "distillation", "lr sweep", "dropout")
FILES = ("train.py", "model.py", "data.py", "eval.py", "configs/base.yaml", "utils/metrics.py")
ERRORS = (
    "loss divergence detected at step {k}: nan in gradients of layer {n}",
    "CUDA out of memory. Tried to allocate {n}.00 GiB (GPU 0; 79.15 GiB total capacity)",
    "ModuleNotFoundError: No module named 'flash_attn'",
    "TimeoutError: evaluation harness did not answer within {n} s",
    "FileNotFoundError: [Errno 2] No such file or directory: 'runs/{k}/ckpt_{n}.pt'",
)
SEARCHES = {
    "a frequent word (checkpoint)": "checkpoint",
    "a rare error word (divergence)": "divergence",
    "two words, the last a prefix": "flash_attn module",
}
# kind, weight: the mix of a research agent's steps
MIX = (
    ("model.call", 22), ("file.read", 22), ("shell.exec", 24), ("file.write", 14),
    ("experiment.run", 10), ("eval.run", 4), ("code.apply", 3), ("train.launch", 1),
)  # fmt: skip


@dataclass(frozen=True)
class Built:
    """The cached store and what the benchmark asks of it."""

    folder: Path
    largest: str
    mid: str
    agent: str
    steps: int
    records: int
    sessions: int
    approvals: int

    @property
    def db(self) -> Path:
        return self.folder / "store.db"

    @property
    def url(self) -> str:
        return f"sqlite:///{self.db}"


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "agent-oversight" / "bench" / f"web-v{VERSION}-{STEPS}"


def cached_store() -> Built:
    """The benchmark store, built on the first run and reused after."""
    folder = cache_folder()
    meta = folder / "built.json"
    if meta.is_file():
        fields = json.loads(meta.read_text(encoding="utf-8"))
        return Built(folder=folder, **fields)
    if folder.exists():
        shutil.rmtree(folder)  # a build that did not finish
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    built = _build(folder)
    print(f"built {built.records:,} records in {time.perf_counter() - t0:.0f} s: {folder}")
    fields = {k: v for k, v in built.__dict__.items() if k != "folder"}
    meta.write_text(json.dumps(fields), encoding="utf-8")
    return built


@dataclass
class _Plan:
    session_id: str
    agent: str
    host: str
    start: float
    steps: int
    running: bool
    fails: bool


def _plans(rng: random.Random, now: float) -> list[_Plan]:
    rest = SESSIONS - 2
    draws = [rng.lognormvariate(0.0, 1.1) for _ in range(rest)]
    scale = (STEPS - LARGEST - MID) / sum(draws)
    sizes = [max(1, round(d * scale)) for d in draws]
    sizes[-1] += STEPS - LARGEST - MID - sum(sizes)
    sizes = [LARGEST, MID, *sizes]
    plans = []
    for n, size in enumerate(sizes):
        # Sessions start over 90 days; the largest is a weeks-long loop begun early.
        start = now - 90 * DAY + (10 * DAY if n == 0 else rng.uniform(0, 88 * DAY))
        label = {0: "largest", 1: "mid"}.get(n, "s")
        plans.append(
            _Plan(
                session_id=f"{label}-{n:05d}-{new_id()[:8]}",
                agent=AGENTS[rng.randrange(len(AGENTS))],
                host=f"gpu-node-{rng.randrange(1, 17):02d}",
                start=start,
                steps=size,
                running=False,
                fails=rng.random() < 0.04,
            )
        )
    newest = sorted(plans[2:], key=lambda p: p.start)[-RUNNING:]
    for plan in newest:
        plan.running = True
    return plans


@dataclass
class _Tables:
    """Approval and vote rows to write beside the records."""

    approvals: list[dict[str, Any]]
    votes: list[dict[str, Any]]


def _stamp(ts: float) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(ts, _dt.UTC)


def _text_time(ts: float) -> str:
    return _stamp(ts).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _deadline(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _call(kind: str, rng: random.Random, k: int) -> tuple[str, dict[str, Any], str, str]:
    """(name, args, reason, result) of one step of `kind`."""
    topic = TOPICS[rng.randrange(len(TOPICS))]
    file = FILES[rng.randrange(len(FILES))]
    run = f"run-{rng.randrange(1, 400):03d}"
    if kind == "model.call":
        prompt = f"Summarise the {topic} results of {run} and suggest the next experiment"
        answer = f"The {topic} results of {run} improve validation loss by {rng.random():.3f}."
        return "claude", {"model": "claude-sonnet-4", "prompt": prompt}, "a model call", answer
    if kind == "file.read":
        return "Read", {"file_path": file}, "reads a file", f"({rng.randrange(20, 900)} lines)"
    if kind == "file.write":
        old, new = f"lr = {rng.choice(('3e-4', '1e-4', '5e-5'))}", f"lr = {rng.random():.0e}"
        args = {"file_path": file, "old_string": old, "new_string": new}
        return "Edit", args, f"edits `{file}`", "The file has been updated."
    if kind == "code.apply":
        command = rng.choice(
            (f"git commit -am 'tune {topic}'", f"git push origin exp/{topic.replace(' ', '-')}")
        )
        return "Bash", {"command": command}, "applies code to shared history", _out(f"[main {k:x}]")
    if kind == "train.launch":
        launch = {"config": f"configs/{topic.replace(' ', '_')}.yaml", "gpus": 8}
        return "launch_training", launch, "launches a training run", "job submitted"
    if kind == "experiment.run":
        command = f"python experiments/sweep.py --seed {k} --config configs/{run}.yaml"
        stdout = f"epoch 3 loss {rng.random():.4f} val_acc {rng.random():.3f}\n"
        stdout += f"checkpoint saved to runs/{run}/ckpt_3.pt"
        return "Bash", {"command": command}, "runs an experiment script", _out(stdout)
    if kind == "eval.run":
        command = f"python eval.py --suite mmlu --checkpoint runs/{run}/ckpt_3.pt"
        stdout = f"mmlu accuracy {rng.random():.3f} on checkpoint runs/{run}/ckpt_3.pt"
        return "Bash", {"command": command}, "runs an evaluation", _out(stdout)
    command = rng.choice(
        (f"ls -la runs/{run}", f"pytest tests/test_{topic.split()[0]}.py -q", "nvidia-smi",
         f"grep -rn '{topic.split()[0]}' src/", f"tail -n 50 logs/{run}.log")
    )  # fmt: skip
    return "Bash", {"command": command}, "runs a shell command", _out(f"{rng.randrange(1, 90)} ok")


def _out(stdout: str) -> str:
    return json.dumps({"exit_code": 0, "stdout": stdout, "stderr": ""})


def _session(
    plan: _Plan, rng: random.Random, tables: _Tables, now: float
) -> Iterator[tuple[float, list[Record]]]:
    """A session's records, a step at a time, with the time each is written."""
    sid = plan.session_id
    ts = plan.start
    yield ts, [
        SessionStarted(
            session_id=sid, ts=_stamp(ts), agent=plan.agent, host=plan.host, pid=4000 + rng.randrange(60_000),
            policy="research-default", policy_hash="a" * 64, oversight_version="0.9.0",
        )
    ]  # fmt: skip
    tracker = AutonomyTracker()
    kinds, weights = zip(*MIX, strict=True)
    for k in range(1, plan.steps + 1):
        ts += rng.expovariate(1 / 14.0) + 0.5
        last = k == plan.steps
        kind = "train.launch" if last and plan.running else rng.choices(kinds, weights)[0]
        name, args, reason, result = _call(kind, rng, k)
        step_id = new_id()
        gated = kind == "train.launch"
        digest = hashlib.sha256(json.dumps(args, sort_keys=True).encode()).hexdigest()
        proposed = StepProposed(
            session_id=sid, step_id=step_id, seq=k, kind=kind, name=name, args=args, ts=_stamp(ts),
            args_digest=digest, reason=f"{kind}: {reason}", write_ahead=parse_kind(kind) in CONSEQUENTIAL,
            decision="require_approval" if gated else "allow",
            rule="gate-training" if gated else None, policy_hash="a" * 64,
        )  # fmt: skip
        approval_id = new_id() if gated else None
        if gated and last and plan.running:  # still waiting for a person
            row = _approval(approval_id, proposed, ts, status="pending", deadline=now + 30 * DAY)
            tables.approvals.append(row)
            yield ts, [proposed, review_event("approval.requested", row)]
            return
        duration = rng.expovariate(1 / 1500.0)
        wait_ms = rng.uniform(20_000, 900_000) if gated else None
        denied = gated and rng.random() < 0.15
        failed = (
            not denied
            and kind in ("shell.exec", "experiment.run", "eval.run")
            and rng.random() < 0.03
        )
        error = rng.choice(ERRORS).format(k=k, n=rng.randrange(2, 64)) if failed else None
        status: StepStatus = "denied" if denied else "error" if failed else "ok"
        finished = StepFinished(
            session_id=sid, step_id=step_id, seq=k, kind=kind, status=status,
            started_at=_stamp(ts), duration_ms=duration, ts=_stamp(ts + (wait_ms or 0) / 1000 + duration / 1000),
            result_digest=None if failed or denied else "1" * 64,
            result_summary=None if failed or denied else result,
            error=error if failed else ("denied by alice: not on the shared cluster" if denied else None),
            decided_by="reviewers" if gated else "policy", reviewers=["alice"] if gated else [],
            approved_by=["alice"] if gated and not denied else [], approval_id=approval_id,
            review_wait_ms=wait_ms,
        )  # fmt: skip
        observation = observe_step(proposed, finished)
        tracker.update(observation)
        if parse_kind(kind) in CONSEQUENTIAL or gated or failed:  # where a monitor stamps it
            score, scenario, _ = tracker.standing()
            finished = finished.model_copy(
                update={"autonomy_score": score, "autonomy_scenario": scenario}
            )
        written: list[Record] = [proposed, finished]
        if approval_id is not None:
            decided = ts + (wait_ms or 0) / 1000
            row = _approval(
                approval_id, proposed, ts, status="denied" if denied else "approved",
                deadline=ts + 3600, decided=decided,
            )  # fmt: skip
            vote = {
                "id": len(tables.votes) + 1, "approval_id": approval_id, "reviewer": "alice",
                "decision": "deny" if denied else "approve",
                "reason": "not on the shared cluster" if denied else "", "signature": "0" * 128,
                "args_patch": None, "created_at": _text_time(decided),
            }  # fmt: skip
            tables.approvals.append(row)
            tables.votes.append(vote)
            written[1:1] = [
                review_event("approval.requested", row),
                review_event("vote.cast", vote, session_id=sid),
                review_event("approval.closed", row, session_id=sid),
            ]
        yield ts, written
    if not plan.running:
        ts += 2.0
        yield ts, [
            SessionEnded(
                session_id=sid, ts=_stamp(ts), status="failed" if plan.fails else "completed",
                error="agent crashed: RuntimeError in tool loop" if plan.fails else None,
                steps=plan.steps,
            )
        ]  # fmt: skip


def _approval(
    approval_id: str | None,
    proposed: StepProposed,
    ts: float,
    *,
    status: str,
    deadline: float,
    decided: float | None = None,
) -> dict[str, Any]:
    return {
        "id": approval_id, "session_id": proposed.session_id, "step_id": proposed.step_id,
        "args_digest": proposed.args_digest, "kind": proposed.kind, "name": proposed.name,
        "args": json.dumps(proposed.args), "reason": "training needs a person",
        "rule": "gate-training", "role": "approver", "quorum": 1, "deadline": _deadline(deadline),
        "status": status, "outcome": None if decided is None else status,
        "created_at": _text_time(ts), "decided_at": None if decided is None else _text_time(decided),
    }  # fmt: skip


def _build(folder: Path) -> Built:
    rng = random.Random(15)
    now = time.time()
    plans = _plans(rng, now)
    tables = _Tables([], [])
    streams = [_session(plan, random.Random(n), tables, now) for n, plan in enumerate(plans)]
    merged = heapq.merge(*streams, key=lambda item: item[0])
    total = 0
    with open_store(f"sqlite:///{folder / 'store.db'}") as store:
        batch: list[Record] = []
        for _, written in merged:
            batch += written
            if len(batch) >= BATCH:
                store.append(batch, durable=False)
                total += len(batch)
                batch = []
                print(f"\r  {total:,} records", end="", flush=True)
        if batch:
            store.append(batch, durable=False)
            total += len(batch)
        print()
    _write_tables(folder / "store.db", tables)
    return Built(
        folder=folder,
        largest=plans[0].session_id,
        mid=plans[1].session_id,
        agent="trainer",
        steps=sum(p.steps for p in plans),
        records=total,
        sessions=len(plans),
        approvals=len(tables.approvals),
    )


def _write_tables(db: Path, tables: _Tables) -> None:
    conn = sqlite3.connect(db)
    with conn:
        for table, rows in (
            ("oversight_approvals", tables.approvals),
            ("oversight_votes", tables.votes),
        ):
            if rows:
                columns = list(rows[0])
                conn.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' * len(columns))})",
                    [tuple(row[c] for c in columns) for row in rows],
                )
    conn.close()


# -- measuring -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    first_ms: float
    median_ms: float
    p95_ms: float


def timed(fn: Callable[[], object], n: int = REQUESTS) -> Figure:
    t0 = time.perf_counter()
    fn()
    first = (time.perf_counter() - t0) * 1000
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, math.ceil(0.95 * len(samples)) - 1)]
    return Figure(first, statistics.median(samples), p95)


def _row(label: str, page: Figure, baseline: Figure | None) -> None:
    ok = page.median_ms <= TARGET_MS and page.p95_ms <= TARGET_MS
    base = f"{baseline.median_ms:8.2f} ms" if baseline else "       –   "
    print(
        f"{label:<44} {page.median_ms:8.1f} ms {page.p95_ms:8.1f} ms {page.first_ms:9.1f} ms"
        f"   target {TARGET_MS:.0f} ms: {verdict(ok)}   baseline {base}"
    )


def main() -> None:
    from starlette.testclient import TestClient

    from oversight.web.app import create_app
    from oversight.web.config import WebConfig
    from oversight.web.render import session_url
    from oversight.web.search import SearchIndex

    built = cached_store()
    header(
        f"review web app on {built.steps:,} steps ({built.records:,} records, "
        f"{built.sessions:,} sessions, {built.approvals:,} approvals; SQLite)"
    )
    index_path = built.folder / "search.sqlite"
    for stale in built.folder.glob("search.sqlite*"):
        stale.unlink()
    with open_store(built.url, create=False) as store:
        index = SearchIndex(store, index_path)
        t0 = time.perf_counter()
        indexed = index.update()
        build_s = time.perf_counter() - t0
        index.close()
    print(
        f"search index: {indexed:,} step records indexed in {build_s:.1f} s "
        f"({indexed / build_s:,.0f} records/s), {index_path.stat().st_size / 1e6:,.0f} MB"
    )

    raw = Raw(sqlite3.connect(built.db), sqlite3.connect(index_path))
    config = WebConfig(search_index=index_path)
    app = create_app(built.url, config=config)
    print(
        f"{'page (server time, in-process)':<44} {'median':>11} {'p95':>11} {'first':>12}"
        f"   {'':>22}   baseline: its raw SQL"
    )
    with TestClient(app) as client:

        def page(path: str) -> Callable[[], object]:
            def get() -> object:
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
                return response

            return get

        _row("sessions: first page", timed(page("/")), timed(lambda: raw.sessions("")))
        agent = f" AND json_extract(body, '$.agent') LIKE '%{built.agent}%'"
        _row(
            f"sessions: agent filter ({built.agent})",
            timed(page(f"/?agent={built.agent}")),
            timed(lambda: raw.sessions(agent)),
        )
        _row(
            "sessions: scenario filter (3)",
            timed(page("/?scenario=3")),
            timed(lambda: raw.sessions("", rows=100)),
        )
        per_page = config.steps_per_page
        last = (LARGEST - 1) // per_page * per_page
        for label, sid, offset in (
            ("first page, 1,000 steps", built.mid, 0),
            (f"first page, {LARGEST:,} steps", built.largest, 0),
            (f"last page, {LARGEST:,} steps", built.largest, last),
        ):
            _row(
                f"timeline, {label}",
                timed(page(f"{session_url(sid)}?offset={offset}")),
                timed(functools.partial(raw.timeline, sid, offset, per_page)),
            )
        for label, words in SEARCHES.items():
            _row(
                f"search: {label}",
                timed(page(f"/search?q={words.replace(' ', '+')}")),
                timed(functools.partial(raw.search, words)),
            )
    raw.close()


class Raw:
    """The SQL each page runs, straight through sqlite3: what a page costs the database, with
    no Python around it (its floor)."""

    def __init__(self, store: sqlite3.Connection, index: sqlite3.Connection) -> None:
        self.store, self.index = store, index

    def sessions(self, where: str, rows: int = 51) -> None:
        """The newest start records, then each listed session's tail, last record and score."""
        starts = self.store.execute(
            "SELECT seq, ts, session_id, body FROM oversight_records "
            f"WHERE type = 'session.started'{where} ORDER BY ts DESC, seq DESC LIMIT {rows}"
        ).fetchall()
        for _, _, sid, _ in starts:
            self.store.execute(
                "SELECT type, ts, json_extract(body, '$.seq'), json_extract(body, '$.status') "
                "FROM oversight_records WHERE session_id = ? AND type || '' IN "
                "('session.started', 'session.ended', 'step.proposed') ORDER BY seq DESC LIMIT 8",
                (sid,),
            ).fetchall()
            self.store.execute(
                "SELECT seq, ts FROM oversight_records WHERE session_id = ? "
                "ORDER BY seq DESC LIMIT 1",
                (sid,),
            ).fetchall()
            self.store.execute(
                "SELECT json_extract(body, '$.autonomy_score') FROM oversight_records "
                "WHERE session_id = :s AND type || '' = 'step.finished' AND seq >= COALESCE(("
                "SELECT seq FROM oversight_records WHERE session_id = :s ORDER BY seq DESC "
                "LIMIT 1 OFFSET 511), 0) AND json_extract(body, '$.autonomy_scenario') IS NOT "
                "NULL ORDER BY seq DESC LIMIT 1",
                {"s": sid},
            ).fetchall()

    def timeline(self, sid: str, offset: int, per_page: int) -> None:
        """The session's frame, a page of its proposals (by OFFSET, as the page pages), their
        outcomes."""
        self.store.execute(
            "SELECT seq, body FROM oversight_records WHERE session_id || '' = ? AND type IN "
            "('session.started', 'session.ended', 'alert') ORDER BY seq",
            (sid,),
        ).fetchall()
        page = self.store.execute(
            "SELECT seq, step_id, body FROM oversight_records WHERE session_id = ? AND "
            f"type || '' = 'step.proposed' ORDER BY seq LIMIT {per_page} OFFSET {offset}",
            (sid,),
        ).fetchall()
        ids = [row[1] for row in page]
        self.store.execute(
            "SELECT seq, body FROM oversight_records WHERE session_id = ? AND seq > ? AND "
            f"type || '' = 'step.finished' AND step_id IN ({', '.join('?' * len(ids))}) "
            f"ORDER BY seq LIMIT {len(ids)}",
            (sid, page[0][0], *ids),
        ).fetchall()

    def search(self, words: str) -> None:
        match = " ".join(f'"{w}"' for w in words.split()) + "*"
        self.index.execute(
            "SELECT rowid, session_id, step_id, name, snippet(steps, 3, '[', ']', '…', 12) "
            "FROM steps WHERE steps MATCH ? ORDER BY rowid DESC LIMIT 102",
            (match,),
        ).fetchall()

    def close(self) -> None:
        self.store.close()
        self.index.close()


if __name__ == "__main__":
    main()

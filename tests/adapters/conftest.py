"""Fixtures for the adapter tests: a workspace, a store with registered reviewers, readers."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from opentelemetry.trace import TracerProvider

pytest.importorskip("langchain.agents", reason="needs the langchain extra")

from langchain_agents import cli

from oversight import Monitor
from oversight.records import Record, SessionEnded, SessionStarted
from oversight.store import open_store
from oversight.timeline import StepView, build_session


@dataclass
class Store:
    """The test's audit store, its reviewers' keys, and readers for what was recorded."""

    db: Path
    keys: Path

    @property
    def url(self) -> str:
        return f"sqlite:///{self.db}"

    def monitor(
        self,
        policy: str | Path | None = "research-default",
        tracer_provider: TracerProvider | None = None,
    ) -> Monitor:
        return Monitor(
            db=str(self.db),
            policy=str(policy) if policy else None,
            log="none",
            tracer_provider=tracer_provider,
        )

    def records(self, session_id: str) -> list[Record]:
        with open_store(self.url) as store:
            return [s.record for s in store.iter_records(session_id)]

    def steps(self, session_id: str) -> list[StepView]:
        return build_session(session_id, self.records(session_id)).steps

    def steps_of_all(self) -> list[StepView]:
        with open_store(self.url) as store:
            ids = [s.session_id for s in store.sessions()]
        return [step for session_id in ids for step in self.steps(session_id)]

    def table(self, session_id: str) -> list[tuple[str, str, str]]:
        """(name, kind, status) of every step, in order."""
        return [(s.proposed.name, s.proposed.kind, s.status) for s in self.steps(session_id)]

    def boundaries(self, session_id: str) -> list[tuple[str, str | None]]:
        out: list[tuple[str, str | None]] = []
        for record in self.records(session_id):
            if isinstance(record, SessionStarted):
                out.append(("started", None))
            elif isinstance(record, SessionEnded):
                out.append(("ended", record.status))
        return out

    def pending(self, deadline_s: float = 30) -> dict[str, object]:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            with open_store(self.url) as store:
                rows = store.approvals(status="pending")
            if rows:
                return rows[0]
            time.sleep(0.05)
        raise AssertionError("nothing asked for approval")

    def vote(self, verb: str, approval_id: str, reviewer: str = "alice", *extra: str) -> None:
        """A reviewer answers from their own process, signing with their own key."""
        done = cli(
            verb, approval_id, "--as", reviewer, "--key", str(self.keys / f"{reviewer}.pem"),
            "--db", str(self.db), *extra,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    def answer_when_asked(self, verb: str, *extra: str) -> Callable[[], None]:
        """Answer the next pending approval from another process while the agent waits;
        returns a join function that re-raises what went wrong."""
        pool = ThreadPoolExecutor(max_workers=1)
        answered = pool.submit(lambda: self.vote(verb, str(self.pending()["id"]), "alice", *extra))
        pool.shutdown(wait=False)
        return lambda: answered.result(timeout=60)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    db, keys = tmp_path / "oversight.db", tmp_path / "keys"
    root = cli(
        "reviewer",
        "add",
        "root",
        "--role",
        "admin",
        "--key-out",
        str(keys / "root.pem"),
        "--db",
        str(db),
    )
    assert root.returncode == 0, root.stderr
    alice = cli(
        "reviewer", "add", "alice", "--key-out", str(keys / "alice.pem"),
        "--as", "root", "--key", str(keys / "root.pem"), "--db", str(db),
    )  # fmt: skip
    assert alice.returncode == 0, alice.stderr
    return Store(db, keys)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    return root

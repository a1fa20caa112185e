"""Several real agent processes writing one store at once, end to end through the decorator."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from oversight.records import StepFinished, StepProposed
from oversight.store import open_store

AGENT = textwrap.dedent(
    """
    import sys
    from oversight import Monitor
    db, name, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    mon = Monitor(db=db, log="none")

    @mon.step(name="lookup")
    def lookup(i): return i

    @mon.step(name="Bash")
    def bash(command): return "ok"

    with mon.session(name, agent=name):
        for i in range(steps):
            lookup(i)
            if i % 10 == 0:
                bash(f"python experiments/run.py --seed {i}")   # write-ahead
    mon.close()
    """
)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_agent_processes_lose_and_duplicate_nothing(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'o.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    script = tmp_path / "agent.py"
    script.write_text(AGENT)
    n_proc, steps = 4, 150
    procs = [
        subprocess.Popen([sys.executable, str(script), url, f"agent-{i}", str(steps)])
        for i in range(n_proc)
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0
    with open_store(url) as store:
        report = store.verify()
        assert report.ok, report.first_problem
        for i in range(n_proc):
            records = [s.record for s in store.iter_records(session_id=f"agent-{i}")]
            proposed = [r for r in records if isinstance(r, StepProposed)]
            finished = [r for r in records if isinstance(r, StepFinished)]
            expected = steps + steps // 10
            assert len(proposed) == len(finished) == expected
            assert [r.seq for r in proposed] == list(range(1, expected + 1))
            assert len({r.id for r in records}) == len(records)

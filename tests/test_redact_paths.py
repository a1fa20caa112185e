"""Secrets planted on every path out (issue 14, item 1) never reach the store, the event log or a
span: exception text, session metadata and its ending error, attributes an adapter reports, and
the bare `TOKEN=…`/`password=…` assignments."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from oversight import Monitor
from oversight.redact import redact_text

GITHUB = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4"
OPENAI = "sk-proj-" + "Zz9Yy8Xx7Ww6Vv5Uu4Tt"
DB_PASSWORD = "hunter2-correct-horse"
BARE_TOKEN = "abcdefgh12345"
BARE_PASSWORD = "letmein"
PLANTED = (GITHUB, OPENAI, DB_PASSWORD, BARE_TOKEN, BARE_PASSWORD)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"TOKEN={BARE_TOKEN}", "TOKEN=[REDACTED]"),
        (f"password={BARE_PASSWORD}", "password=[REDACTED]"),
        (f"export SECRET='{BARE_TOKEN}' && ./run", "export SECRET='[REDACTED]' && ./run"),
        ("password: str", "password: str"),  # a type annotation, not a secret
        ("tokenizer=AutoTokenizer", "tokenizer=AutoTokenizer"),
    ],
)
def test_bare_assignments_are_redacted(text: str, shown: str) -> None:
    assert redact_text(text) == shown


def test_no_planted_secret_reaches_the_store_the_event_log_or_a_span(tmp_path: Path) -> None:
    db, log = tmp_path / "o.db", tmp_path / "events.jsonl"
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    mon = Monitor(db=str(db), log=str(log), policy="record-only", tracer_provider=provider)

    @mon.step(kind="tool.call")
    def fetch(url: str) -> str:
        raise PermissionError(f"401 for {url}: token {GITHUB} was revoked")

    metadata = {"db_password": DB_PASSWORD, "note": f"uses {OPENAI}", "run": 7}
    with pytest.raises(RuntimeError), mon.session("s", agent="a", metadata=metadata):
        with pytest.raises(PermissionError):
            fetch("https://api.example.com")
        handle = mon.check("Bash", {"command": f"TOKEN={BARE_TOKEN} ./train.sh"}, kind="tool.call")
        handle.succeed("ok", attributes={"api_key": OPENAI, "login": f"password={BARE_PASSWORD}"})
        raise RuntimeError(f"agent crashed holding {GITHUB}")
    mon.close()
    provider.force_flush()

    with sqlite3.connect(db) as conn:
        bodies = "\n".join(row[0] for row in conn.execute("SELECT body FROM oversight_records"))
    events = log.read_text()
    shown = "\n".join(
        f"{s.name} {dict(s.attributes or {})} {s.status.description} "
        f"{[dict(e.attributes or {}) for e in s.events]}"
        for s in spans.get_finished_spans()
    )
    for where, text in (("store", bodies), ("event log", events), ("spans", shown)):
        assert "[REDACTED]" in text, f"nothing reached the {where}"
        for secret in PLANTED:
            assert secret not in text, f"{secret!r} reached the {where}"
    # What was said survives around the secret: the records stay useful.
    assert "was revoked" in bodies and "agent crashed holding" in bodies

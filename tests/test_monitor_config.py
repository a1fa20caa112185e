"""Where a Monitor writes, and how it is configured, without code changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from oversight import ConfigError, Monitor
from oversight.store import open_store


def test_the_default_store_is_dot_oversight_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OVERSIGHT_DB", raising=False)
    with Monitor(policy="record-only", log="none") as mon, mon.session("s"):
        pass
    assert (tmp_path / ".oversight" / "oversight.db").is_file()


def test_oversight_db_overrides_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OVERSIGHT_DB", str(tmp_path / "team.db"))
    with Monitor(policy="record-only", log="none") as mon, mon.session("s"):
        pass
    assert (tmp_path / "team.db").is_file()
    assert not (tmp_path / ".oversight" / "oversight.db").exists()


def test_an_invalid_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERSIGHT_FLUSH_INTERVAL_MS", "soon")
    with pytest.raises(ConfigError, match="OVERSIGHT_FLUSH_INTERVAL_MS='soon'"):
        Monitor(db="sqlite://", policy="record-only", log="none")


def test_classification_patterns_extend_from_a_yaml_file(tmp_path: Path) -> None:
    config = tmp_path / "classify.yaml"
    config.write_text("tools:\n  'kick_off_*': train.launch\ncommands:\n  labrun: train.launch\n")
    db = tmp_path / "o.db"
    with Monitor(db=str(db), policy="record-only", log="none", classify_config=config) as mon:
        with mon.session("s"):
            mon.check("kick_off_sweep", {"n": 3}).succeed()
            mon.check("Bash", {"command": "labrun --nodes 16 exp.yaml"}).succeed()
    with open_store(f"sqlite:///{db}") as store:
        kinds = [s.record.kind for s in store.iter_records("s", types={"step.proposed"})]
    assert kinds == ["train.launch", "train.launch"]


def test_a_missing_classification_config_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nope.yaml"):
        Monitor(
            db=str(tmp_path / "o.db"),
            policy="record-only",
            log="none",
            classify_config=tmp_path / "nope.yaml",
        )


def test_steps_become_spans_under_a_configured_tracer_provider(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with Monitor(
        db=str(tmp_path / "o.db"), policy="record-only", log="none", tracer_provider=provider
    ) as mon:

        @mon.step(name="launch_training", kind="train.launch")
        def launch(config: str) -> str:
            return "job-1"

        with mon.session("traced", agent="bot"):
            launch("c.yaml")
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert set(spans) == {"invoke_agent bot", "execute_tool launch_training"}
    tool = spans["execute_tool launch_training"]
    assert (
        tool.parent is not None and tool.parent.span_id == spans["invoke_agent bot"].context.span_id
    )
    assert tool.attributes is not None
    assert tool.attributes["oversight.kind"] == "train.launch"
    assert tool.attributes["gen_ai.conversation.id"] == "traced"


def test_json_events_are_written_for_every_record(tmp_path: Path) -> None:
    import json

    events = tmp_path / "events.jsonl"
    with (
        Monitor(db=str(tmp_path / "o.db"), policy="record-only", log=str(events)) as mon,
        mon.session("s"),
    ):
        mon.check("Read", {"file_path": "a.py"}).succeed("text")
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert [line["event"] for line in lines] == [
        "session.started",
        "step.proposed",
        "step.finished",
        "session.ended",
    ]
    assert lines[1]["kind"] == "file.read" and lines[1]["args"] == {"file_path": "a.py"}


def test_a_store_without_review_state_is_refused_by_name(tmp_path: Path) -> None:
    """Approvals and halts live in the store's review state: a log-only store would leave every
    gated step without reviewers, so the monitor refuses it up front, naming what is missing."""

    with open_store(f"sqlite:///{tmp_path / 'o.db'}") as real:

        class LogOnly:
            url_for_display = real.url_for_display

            def __getattr__(self, name: str) -> object:
                if name in {"halt", "halts", "resume", "votes", "add_vote", "create_approval"}:
                    raise AttributeError(name)
                return getattr(real, name)

        with pytest.raises(ConfigError, match="lacks add_vote, create_approval, halt, halts"):
            Monitor(store=LogOnly(), log="none")  # type: ignore[arg-type]

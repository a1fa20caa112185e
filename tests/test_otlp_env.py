"""OTLP from the standard OTEL_* environment, with no code (issue 14, item 4): an agent process
with only environment variables set exports its session to a real OTLP/HTTP receiver, which
decodes the protobuf the way a collector does."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from otlp_receiver import Receiver

from oversight.telemetry.from_env import provider_from_env, wanted_exporters

SECRET = "ghp_" + "Q1w2E3r4T5y6U7i8O9p0A1s2D3f4"


AGENT = textwrap.dedent(
    f"""
    import sys
    from oversight import Monitor
    with Monitor(db=sys.argv[1], log="none", policy="record-only") as mon:
        with mon.session("otlp-demo", agent="researcher", metadata={{"token": "{SECRET}"}}):
            mon.check("Read", {{"file_path": "notes.md"}}).succeed("lr=0.1")
            mon.check("Bash", {{"command": "TOKEN={SECRET} python train.py"}}).succeed("done")
    """
)


def test_an_agent_exports_over_otlp_with_nothing_but_environment_variables(
    receiver: Receiver, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_SERVICE_NAME": "lab-agent",
        "OTEL_RESOURCE_ATTRIBUTES": "openinference.project.name=oversight-demo",
    }
    agent = subprocess.run(
        [sys.executable, "-c", AGENT, str(tmp_path / "o.db")],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert agent.returncode == 0, agent.stderr
    spans = receiver.spans()
    names = sorted(span.name for _, span in spans)
    # The session (an agent span) and its two steps (tool spans), under their GenAI names.
    assert names == ["execute_tool Bash", "execute_tool Read", "invoke_agent researcher"]
    resource = spans[0][0]
    assert resource["service.name"] == "lab-agent"
    assert resource["openinference.project.name"] == "oversight-demo"
    session_ids = {
        a.value.string_value for _, s in spans for a in s.attributes if a.key == "session.id"
    }
    assert session_ids == {"otlp-demo"}
    assert SECRET not in str([s for _, s in spans])


def test_the_environment_decides_what_is_exported() -> None:
    assert wanted_exporters({}) == []
    assert wanted_exporters({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318"}) == ["otlp"]
    assert wanted_exporters({"OTEL_TRACES_EXPORTER": "none"}) == []
    assert wanted_exporters({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}) == []
    assert provider_from_env({}) is None
    with pytest.raises(Exception, match="'zipkin' is not supported"):
        provider_from_env({"OTEL_TRACES_EXPORTER": "zipkin"})
    with pytest.raises(Exception, match="OTEL_EXPORTER_OTLP_PROTOCOL='thrift'"):
        provider_from_env({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "thrift"})

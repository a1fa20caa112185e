"""OTLP from the standard OTEL_* environment, with no code (issue 14, item 4): an agent process
with only environment variables set exports its session to a real OTLP/HTTP receiver, which
decodes the protobuf the way a collector does."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from oversight.telemetry.from_env import provider_from_env, wanted_exporters

SECRET = "ghp_" + "Q1w2E3r4T5y6U7i8O9p0A1s2D3f4"


class Receiver(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[ExportTraceServiceRequest] = []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def spans(self) -> list[tuple[dict[str, Any], Any]]:
        """(resource attributes, span) of every span received."""
        out = []
        for request in self.requests:
            for resource_spans in request.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope in resource_spans.scope_spans:
                    out.extend((resource, span) for span in scope.spans)
        return out


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/v1/traces":
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            self.server.requests.append(request)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


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

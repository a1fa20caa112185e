"""A real OTLP/HTTP receiver for tests: decodes each export's protobuf the way a collector does,
and keeps the raw bytes too, so a test can look for a planted secret in everything sent."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span


class Receiver(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[ExportTraceServiceRequest] = []
        self.raw: list[bytes] = []
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def spans(self) -> list[tuple[dict[str, Any], Span]]:
        """(resource attributes, span) of every span received."""
        out = []
        with self._lock:
            requests = list(self.requests)
        for request in requests:
            for resource_spans in request.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope in resource_spans.scope_spans:
                    out.extend((resource, span) for span in scope.spans)
        return out

    def received(self, wanted: Callable[[list[Span]], bool], wait_s: float = 20) -> list[Span]:
        """The spans received, once `wanted` holds of them (else the test fails)."""
        end = time.monotonic() + wait_s
        while True:
            spans = [span for _, span in self.spans()]
            if wanted(spans):
                return spans
            if time.monotonic() > end:
                names = sorted(s.name for s in spans)
                raise AssertionError(f"not received in {wait_s:.0f}s; got {names}")
            time.sleep(0.05)

    def add(self, body: bytes) -> None:
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        with self._lock:
            self.raw.append(body)
            self.requests.append(request)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/v1/traces":
            self.server.add(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


def attributes(span: Span) -> dict[str, Any]:
    """A received span's attributes as plain values."""
    out: dict[str, Any] = {}
    for a in span.attributes:
        kind = a.value.WhichOneof("value")
        value = getattr(a.value, kind) if kind else None
        if kind == "array_value":
            value = [getattr(v, v.WhichOneof("value")) for v in a.value.array_value.values]
        out[a.key] = value
    return out

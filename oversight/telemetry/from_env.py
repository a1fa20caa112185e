"""A tracer provider from the standard `OTEL_*` environment variables, with no code.

Teams point their agents at Phoenix, Jaeger or a collector by setting `OTEL_TRACES_EXPORTER`
and `OTEL_EXPORTER_OTLP_ENDPOINT`, as for any OpenTelemetry program. A monitor that finds them
set, and no SDK provider already installed (by `opentelemetry-instrument` or the application),
builds its own: a `BatchSpanProcessor` to the OTLP exporter (the `otel` extra) or the console.
`OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` name the service and, for Phoenix, the
project (`openinference.project.name=…`).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from oversight.errors import ConfigError, MissingExtraError

SERVICE_NAME = "agent-oversight"
LIVE_EXPORT_DELAY_MS = 1000
_OTLP_EXPORTERS = {
    "http/protobuf": "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "grpc": "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
}
_ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def wanted_exporters(environ: Mapping[str, str]) -> list[str]:
    """The trace exporters the environment asks for: `OTEL_TRACES_EXPORTER`, or `otlp` when
    only an OTLP endpoint is set; none when the SDK is disabled."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    named = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if not named:
        return ["otlp"] if any(environ.get(k) for k in _ENDPOINTS) else []
    return [n.strip() for n in named.split(",") if n.strip() and n.strip() != "none"]


def provider_from_env(environ: Mapping[str, str] | None = None) -> TracerProvider | None:
    """A provider exporting as the environment says, or None when it asks for nothing.

    Raises ConfigError for an exporter or protocol it does not know, and MissingExtraError
    (with the install line) when the OTLP exporter package is missing."""
    env = os.environ if environ is None else environ
    names = wanted_exporters(env)
    if not names:
        return None
    exporters = [_exporter(name, env) for name in names]
    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES: the SDK reads these from the process
    # environment itself, whatever `environ` was passed.
    resource = Resource.create()
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": SERVICE_NAME}))
    provider = TracerProvider(resource=resource)
    # A second between exports unless the environment says otherwise (the SDK's default is 5):
    # what an agent does shows while it runs, and a killed agent loses at most a second of it.
    delay = None if env.get("OTEL_BSP_SCHEDULE_DELAY") else LIVE_EXPORT_DELAY_MS
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=delay))
    return provider


def _exporter(name: str, env: Mapping[str, str]) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    if name != "otlp":
        raise ConfigError(
            f"OTEL_TRACES_EXPORTER={name!r} is not supported by agent-oversight; use otlp, "
            "console or none"
        )
    protocol = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    module_name = _OTLP_EXPORTERS.get(protocol)
    if module_name is None:
        raise ConfigError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: use one of {', '.join(_OTLP_EXPORTERS)}"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        package = module_name.rsplit(".", 1)[0].replace(".", "-")
        raise MissingExtraError(f"OTLP trace export over {protocol}", "otel", package) from None
    exporter: SpanExporter = module.OTLPSpanExporter()  # reads the endpoint and headers itself
    return exporter

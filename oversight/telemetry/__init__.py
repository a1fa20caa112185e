"""Telemetry: every committed record as a structlog event and, when tracing is set up, a span."""

from oversight.telemetry.telemetry import Telemetry

__all__ = ["Telemetry"]

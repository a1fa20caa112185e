"""The published JSON Schema of policy files, generated from the pydantic models.

Editors validate packs against `docs/policy.schema.json`; a test keeps that file equal to this.
"""

from __future__ import annotations

from typing import Any

from oversight.policy.model import PolicyFile

SCHEMA_ID = "https://github.com/agent-oversight/agent-oversight/docs/policy.schema.json"


def policy_json_schema() -> dict[str, Any]:
    schema = PolicyFile.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "oversight policy pack",
    }

"""Which environment variables a step receives: the safe set, granted credentials, nothing else.

The sandbox starts from an empty environment (`--clearenv`), so anything not chosen here is
absent; a forgotten secret cannot leak by default.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from oversight.sandbox.capabilities import (
    Capabilities,
    is_oversight_variable,
    looks_like_credential,
)
from oversight.sandbox.errors import SandboxRefused

SANDBOX_TMP = "/tmp"


def sandbox_env(
    caps: Capabilities,
    environ: Mapping[str, str],
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The variables set inside: safe names from `environ`, granted credentials, then `extra`.

    `extra` comes from the caller, not the host environment, but a credential-looking name in it
    must still be granted in `caps.credentials`, so the recorded capabilities list every secret.
    """
    out: dict[str, str] = {}
    for name, value in environ.items():
        if is_oversight_variable(name):
            continue
        granted = name in caps.credentials
        if granted or (not looks_like_credential(name) and _matches(name, caps.env)):
            out[name] = value
    # The sandbox's /tmp is private and writable; a host TMPDIR may point somewhere read-only.
    out["TMPDIR"] = SANDBOX_TMP
    for name, value in (extra or {}).items():
        if is_oversight_variable(name):
            raise SandboxRefused(f"{name} configures oversight itself and is never passed")
        if looks_like_credential(name) and name not in caps.credentials:
            raise SandboxRefused(
                f"{name} looks like a credential; grant it in Capabilities.credentials"
            )
        out[name] = value
    return dict(sorted(out.items()))


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)

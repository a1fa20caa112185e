"""Enforce at the effect: run a step with only the capabilities its decision grants (bubblewrap).

Policy-agnostic: the policy decides the Capabilities; this package only enforces them.
"""

from oversight.sandbox.bwrap import BwrapPlan, build_plan
from oversight.sandbox.capabilities import (
    DEFAULT_ENV,
    DEFAULT_GPU_DEVICES,
    DEFAULT_HIDDEN,
    DEFAULT_PROTECTED,
    Capabilities,
    looks_like_credential,
)
from oversight.sandbox.errors import SandboxError, SandboxRefused, SandboxUnavailable
from oversight.sandbox.runner import (
    SandboxResult,
    SandboxStatus,
    available,
    install_hint,
    run_sandboxed,
)

__all__ = [
    "DEFAULT_ENV",
    "DEFAULT_GPU_DEVICES",
    "DEFAULT_HIDDEN",
    "DEFAULT_PROTECTED",
    "BwrapPlan",
    "Capabilities",
    "SandboxError",
    "SandboxRefused",
    "SandboxResult",
    "SandboxStatus",
    "SandboxUnavailable",
    "available",
    "build_plan",
    "install_hint",
    "looks_like_credential",
    "run_sandboxed",
]

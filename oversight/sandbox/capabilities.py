"""What one sandboxed step may use: a frozen record, serialised into the audit log.

Paths are kept as the caller wrote them (absolute, normalised lexically): the record states the
intent. Symlinks are resolved only when the bwrap command is built, so the command actually run
is recorded next to it (`SandboxResult.bwrap_argv`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator

# Device nodes a GPU is reached through (NVIDIA, DRM render nodes, AMD KFD, Linux accel).
DEFAULT_GPU_DEVICES: tuple[str, ...] = ("/dev/nvidia*", "/dev/dri", "/dev/kfd", "/dev/accel*")

# Variables that carry no secret and without which ordinary tools misbehave. PYTHONPATH and
# VIRTUAL_ENV pass: they name code the step could import anyway (it runs arbitrary commands), and
# without them a project's own tests do not import. TMPDIR is always set to the sandbox's /tmp.
DEFAULT_ENV: tuple[str, ...] = (
    "HOME",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "LOGNAME",
    "PATH",
    "PYTHONPATH",
    "SHELL",
    "TERM",
    "TZ",
    "USER",
    "VIRTUAL_ENV",
)

# Paths under a workspace that decide what checks or configures the agent: its host's settings,
# git hooks and config, CI, direnv. `confined()` keeps them read-only; `.oversight` is hidden.
DEFAULT_PROTECTED: tuple[str, ...] = (
    ".claude",
    ".codex",
    ".cursor",
    ".envrc",
    ".gemini",
    ".git/config",
    ".git/hooks",
    ".github/workflows",
    ".gitlab-ci.yml",
    ".husky",
    ".mcp.json",
    ".pre-commit-config.yaml",
    ".vscode/settings.json",
)
DEFAULT_HIDDEN: tuple[str, ...] = (".oversight",)

_CREDENTIAL_WORDS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL", "AUTH")
_CREDENTIAL_WORDS_2 = ("COOKIE", "SESSION")
_CREDENTIAL_PREFIXES = ("AWS_", "GH_", "GITHUB_", "HF_", "OPENAI_", "ANTHROPIC_")
_CREDENTIAL_NAMES = frozenset({"SSH_AUTH_SOCK", "GIT_ASKPASS", "SSH_ASKPASS"})
_NEVER_PREFIX = "OVERSIGHT_"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ENV_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\*?")
_HOST = re.compile(r"(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?")


def looks_like_credential(name: str) -> bool:
    """True for a variable name that may carry a secret; such a name passes only when granted."""
    upper = name.upper()
    if upper in _CREDENTIAL_NAMES or upper.startswith(_NEVER_PREFIX):
        return True
    if upper.startswith(_CREDENTIAL_PREFIXES):
        return True
    return any(w in upper for w in (*_CREDENTIAL_WORDS, *_CREDENTIAL_WORDS_2))


def is_oversight_variable(name: str) -> bool:
    """OVERSIGHT_* configure the monitor itself; no step receives them, granted or not."""
    return name.upper().startswith(_NEVER_PREFIX)


def _norm(path: Path | str, base: Path) -> Path:
    return Path(os.path.normpath(os.path.join(base, path)))


def _sorted_unique(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(set(items)))


class Capabilities(BaseModel):
    """The capabilities one step runs with. Everything not granted here is denied."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    workspace: Path
    writable: tuple[Path, ...] = ()
    read_only: tuple[Path, ...] = ()
    hidden: tuple[Path, ...] = ()
    network: Literal["none", "hosts", "full"] = "none"
    hosts: tuple[str, ...] = ()
    gpu: bool = False
    gpu_devices: tuple[str, ...] = DEFAULT_GPU_DEVICES
    env: tuple[str, ...] = DEFAULT_ENV
    credentials: tuple[str, ...] = ()

    @field_validator("workspace")
    @classmethod
    def _absolute_workspace(cls, value: Path) -> Path:
        if not value.is_absolute():
            raise ValueError(f"workspace must be an absolute path, got {str(value)!r}")
        return Path(os.path.normpath(value))

    @field_validator("gpu_devices")
    @classmethod
    def _absolute_devices(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            if not item.startswith("/"):
                raise ValueError(f"gpu device paths must be absolute, got {item!r}")
        return _sorted_unique(value)

    @field_validator("env")
    @classmethod
    def _safe_env(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not _ENV_PATTERN.fullmatch(name):
                raise ValueError(f"env entries are NAME or PREFIX*, got {name!r}")
            if looks_like_credential(name.rstrip("*")):
                raise ValueError(
                    f"{name!r} looks like a credential; grant it by name in credentials="
                )
        return _sorted_unique(value)

    @field_validator("credentials")
    @classmethod
    def _valid_credentials(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not _ENV_NAME.fullmatch(name):
                raise ValueError(f"credentials are variable names, got {name!r}")
            if is_oversight_variable(name):
                raise ValueError(f"{name!r} configures oversight itself and is never passed")
        return _sorted_unique(value)

    @field_validator("hosts")
    @classmethod
    def _valid_hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        out = []
        for host in value:
            lowered = host.strip().lower()
            if not _HOST.fullmatch(lowered):
                raise ValueError(f"hosts are NAME, NAME:PORT or *.DOMAIN, got {host!r}")
            port = lowered.rpartition(":")[2] if ":" in lowered else None
            if port is not None and not 0 < int(port) < 65536:
                raise ValueError(f"port out of range in {host!r}")
            out.append(lowered)
        return _sorted_unique(tuple(out))

    @field_validator("writable", "read_only", "hidden")
    @classmethod
    def _anchor_paths(cls, value: tuple[Path, ...], info: ValidationInfo) -> tuple[Path, ...]:
        # Relative paths are relative to the workspace; sorted and deduplicated so equal grants
        # serialise to equal JSON (the record is hashed into the audit chain).
        workspace = info.data.get("workspace")
        if workspace is None:
            return value
        return tuple(sorted({_norm(p, workspace) for p in value}))

    @model_validator(mode="after")
    def _network_hosts(self) -> Self:
        if self.network == "hosts" and not self.hosts:
            raise ValueError("network='hosts' needs at least one entry in hosts")
        if self.network != "hosts" and self.hosts:
            raise ValueError(f"hosts are given but network={self.network!r}; use network='hosts'")
        return self

    @classmethod
    def confined(
        cls,
        workspace: Path,
        *,
        protected: tuple[str, ...] = DEFAULT_PROTECTED,
        hidden: tuple[str, ...] = DEFAULT_HIDDEN,
    ) -> Capabilities:
        """What we cannot recognise, we confine: workspace writable, its agent-host settings,
        hooks and CI read-only, oversight's own folder hidden, no network, no GPU, no secrets."""
        return cls(
            workspace=workspace,
            read_only=tuple(Path(p) for p in protected),
            hidden=tuple(Path(p) for p in hidden),
        )

    def describe(self) -> str:
        """One line a reviewer reads: what the step may touch beyond its workspace."""
        parts = [_network_text(self.network, self.hosts), "GPU" if self.gpu else "no GPU"]
        ws = f"workspace {self.workspace} writable"
        if self.read_only:
            ws += f" except {_count(len(self.read_only), 'protected path')}"
        parts.append(ws)
        if self.writable:
            parts.append(f"{_count(len(self.writable), 'extra writable path')}")
        if self.hidden:
            parts.append(f"{_count(len(self.hidden), 'hidden path')}")
        if self.credentials:
            parts.append(f"credentials {', '.join(self.credentials)}")
        else:
            parts.append("no credentials")
        return ", ".join(parts)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _network_text(network: str, hosts: tuple[str, ...]) -> str:
    if network == "full":
        return "full network"
    if network == "hosts":
        return "network only to " + ", ".join(hosts)
    return "no network"

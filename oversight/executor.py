"""Run a shell step with only what its decision grants: classify and decide it like any step,
then run it under the sandbox with the capabilities its pack gives its kind.

The monitor decides and records; the sandbox enforces. A step that reaches the sandbox can
still only do what its grant allows: a push it disguised well enough to be allowed finds no
network and a read-only remote, a training run finds no GPU, an edit of evaluation code finds
the file read-only. What it was granted is recorded with its outcome, in the chain.

Where the sandbox cannot start (no bubblewrap, not Linux), a consequential step fails closed
with the install hint; a step that only reads runs as it is.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oversight._context import current_handle
from oversight._known_stores import state_folder
from oversight.classify import Classification
from oversight.classify.destructive import is_data_path
from oversight.classify.eval_code import PROTECTED_TARGET
from oversight.classify.paths import PathRules
from oversight.errors import ConfigError
from oversight.kinds import CONSEQUENTIAL, Kind
from oversight.policy.capabilities import CapabilityGrant, grant_for
from oversight.sandbox import (
    DEFAULT_HIDDEN,
    DEFAULT_PROTECTED,
    Capabilities,
    SandboxResult,
    SandboxUnavailable,
    available,
    run_sandboxed,
)
from oversight.settings import store_dir

if TYPE_CHECKING:
    from oversight._step import StepHandle
    from oversight.monitor import Monitor

SHELL_TOOL = "bash"
MAX_WALK = 20_000
"""Entries of the workspace looked at for protected files; past this, the rest is not."""
_SKIP_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache"})
EXTRA_PROTECTED = (".env",)
MAX_DATA_FILES = 500


@dataclass(frozen=True)
class Executed:
    """One sandboxed step: what it printed, how it ended, and what it was allowed."""

    step_id: str
    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool
    capabilities: Capabilities
    sandboxed: bool


def run_command(
    monitor: Monitor,
    command: str | Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    kind: str | Kind | None = None,
    tool: str = SHELL_TOOL,
) -> Executed:
    """Decide `command` (waiting for approval when its policy says so; raising
    `CheckpointDenied`, `SessionHalted` ... as `check` does), then run it in the sandbox.
    `tool` is the name the step is recorded under (the agent's own name for its shell tool)."""
    text = command if isinstance(command, str) else shlex.join(command)
    workspace = Path(cwd or os.getcwd()).resolve()
    handle = monitor.check(tool, {"command": text}, kind=kind)
    caps = capabilities_for(handle, monitor, workspace)
    status = available()
    if not status.available:
        if handle.kind in CONSEQUENTIAL:
            error = SandboxUnavailable(status.reason, status.hint)
            handle.fail(error)
            raise error
        return _unconfined(handle, text, workspace, caps, timeout)
    try:
        result = run_sandboxed(["bash", "-c", text], caps, timeout=timeout)
    except BaseException as exc:
        handle.fail(exc)
        raise
    _record(handle, result, sandboxed=True)
    return _executed(handle.step_id, result, caps)


def run_in_step(
    monitor: Monitor,
    command: str | Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
) -> Executed:
    """Inside a tool the monitor has already decided (a `@monitor.step` function, a LangChain
    tool under the middleware): run `command` with that step's grant, deciding nothing again.
    What the sandbox granted is recorded with the step's outcome."""
    handle = current_handle.get()
    if handle is None:
        raise ConfigError(
            "run_in_step runs a command for the step being decided; call it inside a monitored "
            "tool, or use run_command to decide the command as a step of its own"
        )
    text = command if isinstance(command, str) else shlex.join(command)
    workspace = Path(cwd or os.getcwd()).resolve()
    caps = capabilities_for(handle, monitor, workspace)
    handle.extra_attributes["sandbox"] = caps.model_dump(mode="json")
    status = available()
    if not status.available:
        if handle.kind in CONSEQUENTIAL:
            raise SandboxUnavailable(status.reason, status.hint)
        handle.extra_attributes["sandbox"] = None
        return _run_plain(handle.step_id, text, workspace, caps, timeout)
    result = run_sandboxed(["bash", "-c", text], caps, timeout=timeout)
    return _executed(handle.step_id, result, caps)


def _executed(step_id: str, result: SandboxResult, caps: Capabilities) -> Executed:
    return Executed(
        step_id,
        result.exit_code,
        result.stdout.decode("utf-8", "replace"),
        result.stderr.decode("utf-8", "replace"),
        result.timed_out,
        caps,
        sandboxed=True,
    )


def capabilities_for(handle: StepHandle, monitor: Monitor, workspace: Path) -> Capabilities:
    """The decided step's grant from its pack, resolved against this workspace."""
    approved = bool(handle.approved_by) and not (handle.approval_id or "").startswith("grant:")
    return step_capabilities(
        section=getattr(monitor.decider, "capabilities", None) or {},
        paths=monitor.classifier.paths,
        store_url=monitor.settings.store_url(),
        workspace=workspace,
        classification=handle.classification,
        approved_by_person=approved,
    )


def step_capabilities(
    *,
    section: Mapping[str, CapabilityGrant],
    paths: PathRules,
    store_url: str,
    workspace: Path,
    classification: Classification,
    approved_by_person: bool,
) -> Capabilities:
    """What a step classified as `classification` may use here (see the module doc)."""
    grant = grant_for(
        dict(section),
        classification.kind.value,
        classification.flags,
        approved_by_person=approved_by_person,
    )
    protected = protected_paths(paths, workspace)
    if approved_by_person and PROTECTED_TARGET in classification.flags:
        # a person approved this write to evaluation code: those targets may change
        targets = {_inside(workspace, t) for t in classification.targets}
        protected = [p for p in protected if p not in targets]
    network, hosts, writable = _network(grant, classification, workspace)
    return Capabilities(
        workspace=workspace,
        writable=tuple(Path(w) for w in [*grant.writable, *writable]),
        read_only=tuple(protected),
        hidden=tuple(_hidden(store_url, workspace)),
        network=network,
        hosts=tuple(hosts),
        gpu=bool(grant.gpu),
        credentials=tuple(grant.credentials),
    )


def protected_paths(paths: PathRules, workspace: Path) -> list[Path]:
    """What a step may read but not change, unless a person approved it:

    - the built-in names (agent-host settings, hooks, CI, `.git/config`, `.env`);
    - every file a write to which the classifier calls protected or tampering (evaluation code,
      our own files, start-up hooks), by the same rules that gate such writes;
    - existing datasets, checkpoints and databases (new files beside them can be written: a run
      saves its own checkpoints, it does not destroy the last one);
    - a virtual environment's start-up code (`site-packages`, `bin/activate`).
    """
    found = [workspace / p for p in (*DEFAULT_PROTECTED, *EXTRA_PROTECTED)]
    data: list[Path] = []
    for rel in _walk(workspace):
        judged = paths.writes([rel], "writes")
        if judged is not None and (
            PROTECTED_TARGET in judged.flags or judged.kind is Kind.OVERSIGHT_TAMPER
        ):
            found.append(workspace / rel)
        elif is_data_path(rel):
            data.append(workspace / rel)
    if len(data) > MAX_DATA_FILES:  # too many mounts: keep their top folders whole instead
        data = sorted({workspace / d.relative_to(workspace).parts[0] for d in data})
    found += data
    for venv in (workspace / ".venv", workspace / "venv"):
        found += [*venv.glob("lib/python*/site-packages"), *venv.glob("bin/activate*")]
    return found


def _walk(root: Path) -> Iterator[str]:
    seen = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        base = os.path.relpath(folder, root)
        for name in sorted(files):
            seen += 1
            if seen > MAX_WALK:
                return
            yield name if base == "." else f"{base}/{name}"


def _hidden(store_url: str, workspace: Path) -> list[Path]:
    """Oversight's own folders: the store's (database, event log), `.oversight/`, and the
    state folder (notes of known stores, spilled records)."""
    hidden = [workspace / p for p in DEFAULT_HIDDEN]
    for folder in (store_dir(store_url).resolve(), state_folder().resolve()):
        if folder != workspace and folder not in workspace.parents and folder.exists():
            hidden.append(folder)
    return hidden


def _network(
    grant: CapabilityGrant, classification: Classification, workspace: Path
) -> tuple[Any, list[str], list[str]]:
    """(network mode, hosts, writable paths) for the grant; `remote` is the push's own remote."""
    if grant.network in (None, "none"):
        return "none", [], []
    if grant.network == "full":
        return "full", [], []
    if grant.network == "hosts":
        return ("hosts", list(grant.hosts), []) if grant.hosts else ("none", [], [])
    return _remote(classification, workspace)


def _remote(classification: Classification, workspace: Path) -> tuple[Any, list[str], list[str]]:
    """An approved push may reach the remote it names: a path remote becomes writable, an
    https remote's host is allowed through the proxy. Anything else gets no network."""
    urls = _remote_urls(workspace)
    names = set(classification.targets) | {"origin"}
    for name in names:
        url = urls.get(name) or (name if "://" in name or name.startswith("/") else None)
        if url is None:
            continue
        if url.startswith(("/", "file://")):
            return "none", [], [url.removeprefix("file://")]
        if url.startswith(("https://", "http://")):
            host = url.split("://", 1)[1].split("/", 1)[0].rpartition("@")[2]
            return "hosts", [host], []
    return "none", [], []


def _remote_urls(workspace: Path) -> dict[str, str]:
    config = workspace / ".git" / "config"
    urls: dict[str, str] = {}
    try:
        text = config.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return urls
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[remote "):
            current = line[len("[remote ") :].strip('"] ')
        elif line.startswith("["):
            current = None
        elif current and line.startswith("url") and "=" in line:
            url = line.split("=", 1)[1].strip()
            if not url.startswith(("/", "http", "file:", "ssh:", "git@")):
                url = str((workspace / url).resolve())
            urls[current] = url
    return urls


def _inside(workspace: Path, target: str) -> Path:
    return Path(os.path.normpath(workspace / target))


def _record(handle: StepHandle, result: SandboxResult, *, sandboxed: bool) -> None:
    attributes = {
        "sandbox": result.capabilities.model_dump(mode="json") if sandboxed else None,
        "sandbox_summary": result.capabilities.describe() if sandboxed else "not sandboxed",
        "exit_code": result.exit_code,
        "timed_out": result.timed_out,
    }
    output = {
        "exit_code": result.exit_code,
        "stdout": result.stdout.decode("utf-8", "replace")[-4_000:],
        "stderr": result.stderr.decode("utf-8", "replace")[-4_000:],
    }
    handle.succeed(output, attributes=attributes)


def _unconfined(
    handle: StepHandle,
    text: str,
    workspace: Path,
    caps: Capabilities,
    timeout: float | None,
) -> Executed:
    """A step that only reads, where no sandbox can start: it runs as it is."""
    done = _run_plain(handle.step_id, text, workspace, caps, timeout)
    result = SandboxResult(
        done.exit_code, done.stdout.encode(), done.stderr.encode(), 0.0, done.timed_out, caps, ()
    )
    _record(handle, result, sandboxed=False)
    return done


def _run_plain(
    step_id: str, text: str, workspace: Path, caps: Capabilities, timeout: float | None
) -> Executed:
    try:
        done = subprocess.run(
            ["bash", "-c", text], cwd=workspace, capture_output=True, timeout=timeout, check=False
        )
        code, out, err, timed_out = done.returncode, done.stdout, done.stderr, False
    except subprocess.TimeoutExpired as exc:
        code, out, err, timed_out = -9, exc.stdout or b"", exc.stderr or b"", True
    return Executed(
        step_id,
        code,
        out.decode("utf-8", "replace"),
        err.decode("utf-8", "replace"),
        timed_out,
        caps,
        sandboxed=False,
    )

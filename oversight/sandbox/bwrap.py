"""Build the bubblewrap command for one step from its Capabilities.

The view inside: the whole filesystem read-only, a fresh /dev (so GPUs vanish unless granted), a
fresh /proc and PID namespace, a private /tmp, the workspace and extra writable paths bound
read-write, and the protected paths bound read-only on top of them (bwrap applies mounts in
argument order, so later mounts win).

Three things make "read-only" hold against a step that tries to get around it:

- Symlinks are resolved here, one component at a time. A symlink that the step could re-point
  (it lies in a writable directory) on the way to a protected or writable path is refused: a mount
  follows the link, so it would protect the target while the step replaces the name.
- Every directory between a writable root and a protected path is bound onto itself (still
  writable). A mount point cannot be renamed or removed (EBUSY), so `mv .git .git-old && mkdir -p
  .git/hooks` cannot swap a fresh directory in under the protected name.
- A protected path that does not exist yet gets an empty placeholder directory, bound read-only,
  so `.claude/settings.json` or `.git/hooks/pre-push` cannot be created. bwrap can only mount on
  a path that exists, so the placeholder is made in the real workspace; the runner creates the
  `placeholders` before the run and removes them (only if still empty) after. Git ignores empty
  directories, so a step's `git add -A` does not pick them up.

All capabilities are dropped (`--cap-drop ALL`): bwrap started by root otherwise leaves the step
CAP_SYS_ADMIN, and it could simply unmount the protections.
"""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from oversight.sandbox.capabilities import Capabilities
from oversight.sandbox.environment import SANDBOX_TMP, sandbox_env
from oversight.sandbox.errors import SandboxRefused

_MAX_SYMLINKS = 40


@dataclass(frozen=True)
class BwrapPlan:
    """The argv to run and the placeholder directories the runner must create and remove."""

    argv: tuple[str, ...]
    placeholders: tuple[str, ...] = ()


@dataclass
class _Mounts:
    writable: list[str] = field(default_factory=list)
    pins: set[str] = field(default_factory=set)
    read_only: set[str] = field(default_factory=set)
    hidden_dirs: set[str] = field(default_factory=set)
    hidden_files: set[str] = field(default_factory=set)
    placeholders: list[str] = field(default_factory=list)


def build_plan(
    caps: Capabilities,
    command: Sequence[str],
    *,
    bwrap: str,
    environ: Mapping[str, str],
    extra_env: Mapping[str, str] | None = None,
    disable_userns: bool = True,
    proxy_dir: str | None = None,
) -> BwrapPlan:
    """The bwrap argv for `command` under `caps`. Reads the filesystem only to resolve paths.

    `proxy_dir` is the host folder holding the network proxy's socket (network='hosts'); it is
    bound into the sandbox. Without it a host allowlist is refused rather than widened.
    """
    if not command:
        raise SandboxRefused("no command to run")
    if caps.network == "hosts" and proxy_dir is None:
        raise SandboxRefused("network='hosts' needs the allowlist proxy (run through the runner)")
    m = _Mounts()
    workspace = os.path.realpath(caps.workspace)
    _require_dir(workspace, "workspace")
    m.writable.append(workspace)
    for granted in caps.writable:
        real, missing = _resolve(str(granted), tuple(m.writable))
        if missing is not None:
            raise SandboxRefused(f"writable path {granted} does not exist")
        m.writable.append(real)
    m.writable = sorted(set(m.writable), key=_depth)
    _protect(caps, m)

    argv: list[str] = [bwrap, "--unshare-user"]
    if disable_userns:
        argv.append("--disable-userns")
    argv += ["--cap-drop", "ALL", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    argv += ["--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    if caps.network != "full":
        argv.append("--unshare-net")
    argv += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    if not _under_any(SANDBOX_TMP, m.writable):
        argv += ["--tmpfs", SANDBOX_TMP]
        for keep in _runtime_under_tmp():  # a venv or checkout in /tmp must still run
            argv += ["--ro-bind", keep, keep]
    for root in m.writable:
        argv += ["--bind", root, root]
    argv += _gpu_args(caps)
    for pin in sorted(m.pins, key=_depth):
        argv += ["--bind", pin, pin]
    argv += _protected_args(m)
    env = sandbox_env(caps, environ, extra_env)
    if proxy_dir is not None:
        argv += ["--ro-bind", proxy_dir, proxy_dir]
    argv.append("--clearenv")
    for name, value in env.items():
        argv += ["--setenv", name, value]
    argv += ["--chdir", workspace, "--", *command]
    return BwrapPlan(argv=tuple(argv), placeholders=tuple(m.placeholders))


def _protect(caps: Capabilities, m: _Mounts) -> None:
    """Fill in the read-only, hidden, pinned and placeholder paths."""
    targets = [(str(p), False) for p in caps.read_only] + [(str(p), True) for p in caps.hidden]
    resolved = []
    for path, hide in targets:
        real, missing = _resolve(path, tuple(m.writable))
        resolved.append((real, missing, hide))
    covers = [real for real, _, _ in resolved]
    for real, missing, hide in resolved:
        writable_here = _under_any(real, m.writable)
        if missing is not None:
            if not writable_here or _under_any(missing, [c for c in covers if c != real]):
                continue  # the step cannot create it on the host: read-only there already
            chain = _chain(missing, real)
            m.placeholders += [p for p in chain if p not in m.placeholders]
        if writable_here:
            for ancestor in _ancestors(real):
                if _strictly_under_any(ancestor, m.writable) and not _under_any(ancestor, covers):
                    m.pins.add(ancestor)
        if not hide:
            m.read_only.add(real)
        elif missing is None and not os.path.isdir(real):
            m.hidden_files.add(real)
        else:
            m.hidden_dirs.add(real)
    m.pins -= set(m.writable)


def _protected_args(m: _Mounts) -> list[str]:
    """Read-only and hidden mounts, shallow first so a deeper one lands on top."""
    out: list[str] = []
    every = m.read_only | m.hidden_dirs | m.hidden_files
    for path in sorted(every, key=_depth):
        if path in m.hidden_files:
            out += ["--ro-bind", "/dev/null", path]  # nodev: opening it fails
        elif path in m.hidden_dirs:
            out += ["--tmpfs", path, "--remount-ro", path]
        else:
            out += ["--ro-bind", path, path]
    return out


def _gpu_args(caps: Capabilities) -> list[str]:
    """Grant: bind the device nodes with device access. Otherwise mask any outside /dev (the
    fresh /dev has none; elsewhere the read-only root is nodev already, this is a second wall)."""
    out: list[str] = []
    for pattern in caps.gpu_devices:
        for path in sorted(glob.glob(pattern)):
            real = os.path.realpath(path)
            if caps.gpu:
                out += ["--dev-bind", real, real]
            elif real == "/dev" or real.startswith("/dev/"):
                continue
            elif os.path.isdir(real):
                out += ["--tmpfs", real, "--remount-ro", real]
            else:
                out += ["--ro-bind", "/dev/null", real]
    return out


def _resolve(path: str, writable: tuple[str, ...]) -> tuple[str, str | None]:
    """Resolve `path` component by component: (real path, first missing component or None).

    A symlink inside a writable directory is refused: the step could re-point it during the run,
    and a mount would then guard the old target while the name leads somewhere new.
    """
    pending = list(os.path.normpath(path).split("/")[1:])
    current = "/"
    hops = 0
    while pending:
        name = pending.pop(0)
        if name in ("", "."):
            continue
        nxt = os.path.normpath(os.path.join(current, name))
        if os.path.islink(nxt):
            if _under_any(current, list(writable)):
                raise SandboxRefused(
                    f"{path} is reached through the symlink {nxt} (-> {os.readlink(nxt)}), "
                    "which the step could re-point; replace the link or grant its target"
                )
            hops += 1
            if hops > _MAX_SYMLINKS:
                raise SandboxRefused(f"too many symlinks resolving {path}")
            target = os.path.normpath(os.path.join(current, os.readlink(nxt)))
            pending = target.split("/")[1:] + pending
            current = "/"
            continue
        if not os.path.lexists(nxt):
            return os.path.normpath(os.path.join(nxt, *pending)), nxt
        current = nxt
    return current, None


def _chain(first_missing: str, full: str) -> list[str]:
    """The missing directories from `first_missing` down to `full`, parents first."""
    out = [first_missing]
    rest = os.path.relpath(full, first_missing)
    if rest != ".":
        for part in rest.split("/"):
            out.append(os.path.join(out[-1], part))
    return out


def _ancestors(path: str) -> list[str]:
    out = []
    parent = os.path.dirname(path)
    while parent != "/":
        out.append(parent)
        parent = os.path.dirname(parent)
    return out


def _under_any(path: str, roots: Sequence[str] | set[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _strictly_under_any(path: str, roots: Sequence[str]) -> bool:
    return any(path != r and path.startswith(r.rstrip("/") + "/") for r in roots)


def _depth(path: str) -> tuple[int, str]:
    return (path.count("/"), path)


def _require_dir(path: str, what: str) -> None:
    if not os.path.isdir(path):
        raise SandboxRefused(f"{what} {path} is not an existing directory")


def _runtime_under_tmp() -> list[str]:
    """This Python and this package, where they live under /tmp: the private /tmp would hide
    them, and the network relay (and any Python the step runs from this environment) needs
    them. Read-only, like the rest of the machine."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    candidates = {sys.prefix, sys.exec_prefix, sys.base_prefix, package}
    candidates.add(os.path.dirname(os.path.realpath(sys.executable)))
    keep = set()
    for path in candidates:
        real = os.path.realpath(path)
        if real == SANDBOX_TMP or real.startswith(SANDBOX_TMP + "/"):
            keep.add(real)
    return sorted(keep)

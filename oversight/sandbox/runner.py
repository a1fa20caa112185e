"""Run one step under bubblewrap with exactly its Capabilities; never run it unconfined.

If bwrap is missing or cannot create namespaces here, `run_sandboxed` raises SandboxUnavailable
before anything starts: a monitor that "enforces at the effect" must not quietly fall back to
running the step with the agent's full rights.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from oversight.sandbox.bwrap import build_plan
from oversight.sandbox.capabilities import Capabilities
from oversight.sandbox.errors import SandboxUnavailable
from oversight.sandbox.network import AllowlistProxy, bridge_command
from oversight.sandbox.seccomp import deny_unix_sockets

_PROBE_TIMEOUT = 10.0


@dataclass(frozen=True)
class SandboxStatus:
    """Whether steps can be sandboxed here, and if not, how to fix it."""

    available: bool
    bwrap: str | None
    version: str | None
    reason: str
    hint: str
    disable_userns: bool = False


@dataclass(frozen=True)
class SandboxResult:
    """What one sandboxed step did, and the exact confinement it ran under."""

    exit_code: int
    stdout: bytes
    stderr: bytes
    duration: float
    timed_out: bool
    capabilities: Capabilities
    bwrap_argv: tuple[str, ...]


def install_hint(os_release: str = "/etc/os-release") -> str:
    """The install command for this distribution (read from os-release)."""
    if not sys.platform.startswith("linux"):
        return (
            "the sandbox uses Linux namespaces (bubblewrap); it is not supported on " + sys.platform
        )
    ids = _os_ids(os_release)
    if ids & {"debian", "ubuntu"}:
        return "install it with: sudo apt-get install bubblewrap"
    if ids & {"fedora", "rhel", "centos"}:
        return "install it with: sudo dnf install bubblewrap"
    if ids & {"arch"}:
        return "install it with: sudo pacman -S bubblewrap"
    if ids & {"alpine"}:
        return "install it with: sudo apk add bubblewrap"
    return "install bubblewrap with your package manager (https://github.com/containers/bubblewrap)"


def available(path: str | None = None) -> SandboxStatus:
    """Probe: is bwrap on PATH, and does it actually create the namespaces we use?"""
    if not sys.platform.startswith("linux"):
        return SandboxStatus(False, None, None, "not Linux", install_hint())
    bwrap = shutil.which("bwrap", path=path if path is not None else os.environ.get("PATH"))
    if bwrap is None:
        return SandboxStatus(False, None, None, "bubblewrap (bwrap) is not on PATH", install_hint())
    version = _run_quiet([bwrap, "--version"]).stdout.strip() or None
    base = [bwrap, "--unshare-user", "--cap-drop", "ALL", "--unshare-pid", "--unshare-net"]
    base += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--", "true"]
    probe = _run_quiet(base)
    if probe.returncode != 0:
        hint = (
            "user namespaces may be disabled here: on Debian set "
            "`sysctl kernel.unprivileged_userns_clone=1`; on Ubuntu 24.04+ allow bwrap in "
            "AppArmor (kernel.apparmor_restrict_unprivileged_userns); in a container, run it "
            "with user namespaces allowed"
        )
        reason = f"bwrap is installed but cannot create a sandbox: {probe.stderr.strip()}"
        return SandboxStatus(False, bwrap, version, reason, hint)
    strict = _run_quiet([*base[:2], "--disable-userns", *base[2:]]).returncode == 0
    return SandboxStatus(True, bwrap, version, "ok", "", disable_userns=strict)


def run_sandboxed(
    argv: Sequence[str],
    caps: Capabilities,
    *,
    input: bytes | None = None,
    timeout: float | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> SandboxResult:
    """Run `argv` confined to `caps`; raise SandboxUnavailable (nothing runs) if we cannot."""
    status = available()
    if not status.available or status.bwrap is None:
        raise SandboxUnavailable(status.reason, status.hint)
    with ExitStack() as stack:
        command = list(argv)
        proxy_dir: str | None = None
        env = dict(extra_env or {})
        if caps.network == "hosts":
            proxy = stack.enter_context(AllowlistProxy(caps.hosts))
            proxy_dir = str(proxy.directory)
            command, proxy_env = bridge_command(proxy.socket_path, command)
            env.update(proxy_env)
        plan = build_plan(
            caps,
            command,
            bwrap=status.bwrap,
            environ=os.environ,
            extra_env=env,
            disable_userns=status.disable_userns,
            proxy_dir=proxy_dir,
        )
        stack.callback(_remove_placeholders, _make_placeholders(plan.placeholders))
        final: tuple[str, ...] = plan.argv
        fds: tuple[int, ...] = ()
        program = deny_unix_sockets() if caps.network != "hosts" else None
        if program is not None:
            fd = _program_fd(program)
            stack.callback(os.close, fd)
            final, fds = (final[0], "--seccomp", str(fd), *final[1:]), (fd,)
        return _execute(final, caps, input, timeout, fds)
    raise AssertionError("unreachable")  # pragma: no cover  (ExitStack never swallows here)


def _program_fd(program: bytes) -> int:
    """A descriptor bwrap reads the seccomp program from (`--seccomp FD`)."""
    read, write = os.pipe()
    try:
        os.write(write, program)  # a few dozen bytes: far below a pipe's buffer
    finally:
        os.close(write)
    return read


def _execute(
    argv: tuple[str, ...],
    caps: Capabilities,
    input: bytes | None,
    timeout: float | None,
    fds: tuple[int, ...] = (),
) -> SandboxResult:
    start = time.monotonic()
    # An empty environment for bwrap itself: --clearenv sets the step's, this guards bwrap's.
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={},
        start_new_session=True,
        pass_fds=fds,
    )
    timed_out = False
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        # Killing bwrap (PID 1 of the sandbox's namespace) makes the kernel kill every process
        # inside, including ones that started their own session or daemonised.
        _kill_group(proc)
        out, err = proc.communicate()
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    return SandboxResult(
        exit_code=proc.returncode,
        stdout=out,
        stderr=err,
        duration=time.monotonic() - start,
        timed_out=timed_out,
        capabilities=caps,
        bwrap_argv=argv,
    )


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def _make_placeholders(paths: Sequence[str]) -> list[str]:
    """Create the empty directories bwrap mounts over; return those we made (to remove)."""
    made: list[str] = []
    try:
        for path in paths:
            try:
                os.mkdir(path, 0o755)
            except FileExistsError:
                continue
            made.append(path)
    except BaseException:
        _remove_placeholders(made)
        raise
    return made


def _remove_placeholders(made: list[str]) -> None:
    """rmdir, deepest first: it fails on a directory someone filled meanwhile, which we keep."""
    for path in reversed(made):
        try:
            os.rmdir(path)
        except OSError:
            continue


def _run_quiet(argv: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=_PROBE_TIMEOUT, env={}, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(argv, 1, "", str(exc))


def _os_ids(os_release: str) -> set[str]:
    try:
        text = Path(os_release).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    ids: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key in ("ID", "ID_LIKE"):
            ids.update(value.strip().strip('"').lower().split())
    return ids

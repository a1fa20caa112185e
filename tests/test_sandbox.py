"""The sandbox with the real bwrap: protected paths stay unchanged, hidden ones unreadable, secrets
absent, processes contained, and nothing runs when bwrap is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandboxing import needs_bwrap, outside_tmp, sh

from oversight.sandbox import (
    Capabilities,
    SandboxRefused,
    SandboxUnavailable,
    available,
    run_sandboxed,
)

pytestmark = needs_bwrap

PY = sys.executable


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / ".git" / "hooks").mkdir(parents=True)
    (root / ".git" / "hooks" / "pre-push").write_text("#!/bin/sh\nexit 0\n")
    (root / "evals").mkdir()
    (root / "evals" / "metric.py").write_text("def score(): return 0.5\n")
    (root / "other.py").write_text("def score(): return 1.0\n")
    return root


@pytest.fixture
def var_tmp() -> Iterator[Path]:
    yield from outside_tmp()


def protect(ws: Path, *extra: str) -> Capabilities:
    return Capabilities(workspace=ws, read_only=(Path("evals/metric.py"), *map(Path, extra)))


def test_workspace_is_writable(ws: Path) -> None:
    result = sh("echo hello > new.txt && mkdir -p a/b && echo x > a/b/c", protect(ws))
    assert result.exit_code == 0, result.stderr
    assert (ws / "new.txt").read_text() == "hello\n"
    assert (ws / "a" / "b" / "c").exists()


ATTEMPTS = {
    "redirect": "echo hacked > evals/metric.py",
    "append": "echo hacked >> evals/metric.py",
    "sed -i": "sed -i 's/0.5/1.0/' evals/metric.py",
    "python open": f"{PY} -c \"open('evals/metric.py','w').write('hacked')\"",
    "mv over": "mv other.py evals/metric.py",
    "cp over": "cp other.py evals/metric.py",
    "rm": "rm -f evals/metric.py",
    "ln -sf": "ln -sf ../other.py evals/metric.py",
    "chmod": "chmod 777 evals/metric.py",
    "truncate": "truncate -s 0 evals/metric.py",
    "rename parent": "mv evals evals-old && mkdir evals && echo hacked > evals/metric.py",
    "rm parent": "rm -rf evals; mkdir -p evals; echo hacked > evals/metric.py",
    "umount": "umount evals/metric.py; echo hacked > evals/metric.py",
    "remount": "mount -o remount,rw,bind evals/metric.py; echo hacked > evals/metric.py",
    "nested userns": "unshare -Urm sh -c 'umount evals/metric.py; echo hacked > evals/metric.py'",
}


@pytest.mark.parametrize("attempt", sorted(ATTEMPTS))
def test_protected_file_survives(ws: Path, attempt: str) -> None:
    target = ws / "evals" / "metric.py"
    before, mode = target.read_bytes(), target.stat().st_mode
    result = sh(f"{ATTEMPTS[attempt]}; echo ran > ran.txt", protect(ws))
    assert (ws / "ran.txt").read_text() == "ran\n", result.stderr  # the step did run
    assert target.read_bytes() == before
    assert target.stat().st_mode == mode
    assert not target.is_symlink()
    assert not (ws / "evals-old").exists()


def test_other_files_next_to_a_protected_one_stay_writable(ws: Path) -> None:
    result = sh("echo new > evals/helper.py", protect(ws))
    assert result.exit_code == 0, result.stderr
    assert (ws / "evals" / "helper.py").read_text() == "new\n"


def test_missing_protected_paths_cannot_be_created(ws: Path) -> None:
    caps = protect(ws, ".claude/settings.json", ".git/hooks/post-checkout", ".mcp.json")
    script = (
        "mkdir -p .claude; echo '{}' > .claude/settings.json;"
        "echo evil > .git/hooks/post-checkout;"
        "echo '{}' > .mcp.json; rm -rf .mcp.json; echo '{}' > .mcp.json;"
        "echo ran > ran.txt"
    )
    result = sh(script, caps)
    assert (ws / "ran.txt").exists(), result.stderr
    assert not (ws / ".claude").exists()  # its placeholder was removed after the run
    assert not (ws / ".mcp.json").exists()
    assert not (ws / ".git" / "hooks" / "post-checkout").exists()
    assert result.stderr  # each attempt failed visibly


def test_placeholder_parents_are_created_only_for_the_run(ws: Path) -> None:
    caps = protect(ws, ".github/workflows")
    result = sh("echo ok > .github/dependabot.yml; echo evil > .github/workflows/ci.yml", caps)
    assert (ws / ".github" / "dependabot.yml").read_text() == "ok\n", result.stderr
    assert not (ws / ".github" / "workflows").exists()
    result = sh("ls -a", protect(ws, ".vscode/settings.json"))
    assert ".vscode" in result.stdout.decode()  # present during the run ...
    assert not (ws / ".vscode").exists()  # ... and gone after


def test_git_hooks_cannot_be_swapped_in_by_renaming_git(ws: Path) -> None:
    hook = ws / ".git" / "hooks" / "pre-push"
    before = hook.read_bytes()
    caps = Capabilities.confined(ws)
    script = "mv .git .git-old; mkdir -p .git/hooks; echo evil > .git/hooks/pre-push; echo > ok"
    result = sh(script, caps)
    assert (ws / "ok").exists(), result.stderr
    assert hook.read_bytes() == before
    assert not (ws / ".git-old").exists()


def test_hidden_files_cannot_be_read_or_replaced(ws: Path, var_tmp: Path) -> None:
    store = ws / ".oversight" / "oversight.db"
    store.parent.mkdir()
    store.write_bytes(b"STORE-SECRET")
    key = var_tmp / "reviewer.key"
    key.write_bytes(b"KEY-SECRET")
    caps = Capabilities(workspace=ws, hidden=(store, key))
    script = (
        f"cat .oversight/oversight.db; cat {key}; {PY} -c \"print(open('{key}').read())\";"
        "mv .oversight .ov-old; mv .oversight/oversight.db x.db;"
        "echo forged > .oversight/oversight.db; echo ran > ran.txt"
    )
    result = sh(script, caps)
    assert (ws / "ran.txt").exists(), result.stderr
    assert b"SECRET" not in result.stdout + result.stderr
    assert store.read_bytes() == b"STORE-SECRET"
    assert not (ws / ".ov-old").exists() and not (ws / "x.db").exists()
    assert b"Device or resource busy" in result.stderr  # the rename hit the mount


def test_hidden_folder_shows_empty(ws: Path, var_tmp: Path) -> None:
    (var_tmp / "keys").mkdir()
    (var_tmp / "keys" / "admin.key").write_bytes(b"KEY-SECRET")
    caps = Capabilities(workspace=ws, hidden=(var_tmp / "keys",))
    result = sh(
        f"ls -A {var_tmp}/keys; cat {var_tmp}/keys/admin.key; echo x > {var_tmp}/keys/y", caps
    )
    assert b"admin.key" not in result.stdout and b"SECRET" not in result.stdout
    assert sorted(p.name for p in (var_tmp / "keys").iterdir()) == ["admin.key"]


def test_symlink_made_earlier_does_not_reach_protected_file(ws: Path, var_tmp: Path) -> None:
    policy = var_tmp / "policy.yaml"
    policy.write_text("halt: true\n")
    os.symlink(ws / "evals" / "metric.py", ws / "shortcut.py")
    os.symlink(policy, ws / "policy-link.yaml")
    caps = Capabilities(workspace=ws, read_only=(Path("evals/metric.py"), policy))
    script = "echo hacked > shortcut.py; echo 'halt: false' > policy-link.yaml; echo > ran"
    result = sh(script, caps)
    assert (ws / "ran").exists(), result.stderr
    assert (ws / "evals" / "metric.py").read_text() == "def score(): return 0.5\n"
    assert policy.read_text() == "halt: true\n"


def test_protected_path_through_a_repointable_symlink_is_refused(ws: Path) -> None:
    (ws / "real-evals").mkdir()
    (ws / "real-evals" / "metric.py").write_text("x")
    os.symlink(ws / "real-evals", ws / "linked")
    caps = Capabilities(workspace=ws, read_only=(Path("linked/metric.py"),))
    with pytest.raises(SandboxRefused, match="symlink"):
        sh("echo ran > marker", caps)
    assert not (ws / "marker").exists()


def test_writable_grant_through_a_symlink_in_the_workspace_is_refused(
    ws: Path, var_tmp: Path
) -> None:
    os.symlink(var_tmp, ws / "cache")
    with pytest.raises(SandboxRefused, match="symlink"):
        sh("echo x > cache/y", Capabilities(workspace=ws, writable=(Path("cache"),)))
    assert not (var_tmp / "y").exists()


def test_outside_the_workspace_is_read_only(ws: Path, var_tmp: Path) -> None:
    result = sh(f"echo x > {var_tmp}/escape; echo x > $HOME/.oversight-sbx-escape", protect(ws))
    assert result.exit_code != 0
    assert not (var_tmp / "escape").exists()
    assert not (Path.home() / ".oversight-sbx-escape").exists()


def test_extra_writable_path_is_writable(ws: Path, var_tmp: Path) -> None:
    caps = Capabilities(workspace=ws, writable=(var_tmp,))
    result = sh(f"echo x > {var_tmp}/out", caps)
    assert result.exit_code == 0, result.stderr
    assert (var_tmp / "out").read_text() == "x\n"


def test_private_tmp(ws: Path, tmp_path: Path) -> None:
    (tmp_path / "host-secret").write_text("s")
    result = sh(
        f"echo x > /tmp/scratch && cat /tmp/scratch; ls {tmp_path}; echo $TMPDIR", protect(ws)
    )
    out = result.stdout.decode()
    assert "x\n" in out and "host-secret" not in out and "/tmp\n" in out
    assert not Path("/tmp/scratch").exists()


def test_secrets_are_not_passed(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    planted = {
        "GITHUB_TOKEN": "ghp_planted",
        "OVERSIGHT_STORE": "sqlite:///planted.db",
        "AWS_SECRET_ACCESS_KEY": "aws-planted",
        "MY_API_KEY": "key-planted",
        "HF_TOKEN": "hf-planted",
        "SSH_AUTH_SOCK": "/tmp/ssh-planted/agent",
        "DEPLOY_PASSWORD": "pw-planted",
    }
    for name, value in planted.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LANG", "C.UTF-8")
    result = sh("env", Capabilities(workspace=ws, credentials=("HF_TOKEN",)))
    env = dict(line.split("=", 1) for line in result.stdout.decode().splitlines() if "=" in line)
    assert env.get("HF_TOKEN") == "hf-planted"  # granted
    for name in set(planted) - {"HF_TOKEN"}:
        assert name not in env
    assert "planted" not in result.stdout.decode().replace("hf-planted", "")
    assert env["LANG"] == "C.UTF-8" and env["PATH"] == os.environ["PATH"]


def test_extra_env_is_set_but_not_an_ungranted_secret(ws: Path) -> None:
    result = sh("echo $STEP_ID", protect(ws), extra_env={"STEP_ID": "s-1"})
    assert result.stdout == b"s-1\n"
    with pytest.raises(SandboxRefused, match="credential"):
        sh("true", protect(ws), extra_env={"GITHUB_TOKEN": "t"})
    with pytest.raises(SandboxRefused, match="oversight"):
        sh("true", protect(ws), extra_env={"OVERSIGHT_STORE": "x"})


def test_host_processes_are_invisible(ws: Path) -> None:
    result = sh(
        f"test -e /proc/{os.getpid()} && echo SEEN; ls /proc | grep -c '^[0-9]'", protect(ws)
    )
    assert b"SEEN" not in result.stdout
    assert int(result.stdout.split()[-1]) < 10


def test_timeout_kills_every_process_inside(ws: Path) -> None:
    marker = f"{time.time_ns() % 10**6 + 1000}"
    script = f"setsid sleep {marker} & (sleep {marker} &) ; nohup sleep {marker} & sleep {marker}"
    start = time.monotonic()
    result = sh(script, protect(ws), timeout=1.0)
    assert result.timed_out and result.exit_code != 0
    assert time.monotonic() - start < 30
    deadline = time.monotonic() + 5
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with(marker) == []


def _processes_with(word: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if word.encode() in cmdline.split(b"\0"):
                found.append(int(entry.name))
    return found


def test_input_and_result_record(ws: Path) -> None:
    caps = protect(ws)
    result = run_sandboxed(["cat"], caps, input=b"piped")
    assert result.stdout == b"piped" and result.exit_code == 0
    assert result.capabilities == caps
    assert result.bwrap_argv[0].endswith("bwrap") and "--cap-drop" in result.bwrap_argv
    assert result.bwrap_argv[-2:] == ("--", "cat")
    assert result.duration > 0


def test_missing_bwrap_fails_closed(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    status = available()
    assert not status.available and status.bwrap is None
    assert "sudo apt-get install bubblewrap" in status.hint  # this runner is Debian
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        run_sandboxed(["/bin/sh", "-c", f"echo ran > {ws}/marker"], protect(ws))
    assert not (ws / "marker").exists()


@needs_bwrap
def test_a_step_cannot_reach_a_unix_socket_it_can_see(tmp_path: Path) -> None:
    """A read-only mount does not stop connect(): the seccomp filter refuses AF_UNIX sockets,
    so a visible daemon socket (docker, D-Bus, an SSH agent) cannot be driven from inside."""
    import socket
    import tempfile

    from oversight.sandbox.seccomp import deny_unix_sockets

    if deny_unix_sockets() is None:
        pytest.skip("SECCOMP TEST SKIPPED: no filter for this architecture")
    outside = Path(tempfile.mkdtemp(prefix="oversight-sock-", dir="/var/tmp"))
    path = outside / "daemon.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(1)
    server.settimeout(0.5)
    probe = (
        "import socket; s = socket.socket(socket.AF_UNIX); "
        f"s.connect({str(path)!r}); s.sendall(b'POST /containers/create')"
    )
    try:
        caps = Capabilities.confined(tmp_path)
        done = run_sandboxed([sys.executable, "-c", probe], caps)
        assert done.exit_code != 0 and b"Operation not permitted" in done.stderr
        with pytest.raises(TimeoutError):
            server.accept()
        # the same probe unconfined does connect: the test can fail
        subprocess.run([sys.executable, "-c", probe], check=True, timeout=10)
        conn, _ = server.accept()
        conn.close()
    finally:
        server.close()
        shutil.rmtree(outside, ignore_errors=True)

"""The Capabilities record: deterministic JSON, safe defaults, and refusals of what cannot be
granted safely. Pure: no bwrap needed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from oversight.sandbox import Capabilities, build_plan, looks_like_credential
from oversight.sandbox.network import host_allowed


def test_equal_grants_serialise_equally() -> None:
    a = Capabilities(workspace=Path("/w"), read_only=(Path("b"), Path("/w/a"), Path("b")))
    b = Capabilities(workspace=Path("/w/"), read_only=(Path("/w/a"), Path("/w/x/../b")))
    assert a.model_dump_json() == b.model_dump_json()
    assert a.read_only == (Path("/w/a"), Path("/w/b"))
    assert Capabilities.model_validate_json(a.model_dump_json()) == a


def test_record_is_frozen_and_strict() -> None:
    caps = Capabilities(workspace=Path("/w"))
    with pytest.raises(ValidationError):
        caps.gpu = True  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Capabilities(workspace=Path("/w"), netwrok="full")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="absolute"):
        Capabilities(workspace=Path("relative"))


def test_confined_defaults_and_description() -> None:
    caps = Capabilities.confined(Path("/w"))
    assert caps.network == "none" and not caps.gpu and caps.credentials == ()
    assert Path("/w/.git/hooks") in caps.read_only and Path("/w/.claude") in caps.read_only
    assert caps.hidden == (Path("/w/.oversight"),)
    text = caps.describe()
    assert text.startswith("no network, no GPU, workspace /w writable except ")
    assert "1 hidden path" in text and "no credentials" in text
    three = Capabilities(workspace=Path("/w"), read_only=tuple(map(Path, "abc")))
    assert "except 3 protected paths" in three.describe()
    web = Capabilities(workspace=Path("/w"), network="hosts", hosts=("GitHub.com",))
    assert web.describe().startswith("network only to github.com, no GPU")


@pytest.mark.parametrize(
    "name",
    [
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "AWS_ACCESS_KEY_ID",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "HF_HOME",
        "DB_PASSWORD",
        "SSH_AUTH_SOCK",
        "GIT_ASKPASS",
        "OVERSIGHT_STORE",
        "XAUTHORITY",
        "SESSION_COOKIE",
        "MY_CREDENTIALS",
    ],
)
def test_credential_names(name: str) -> None:
    assert looks_like_credential(name)
    with pytest.raises(ValidationError, match="credential"):
        Capabilities(workspace=Path("/w"), env=(name,))


@pytest.mark.parametrize("name", ["PATH", "HOME", "LANG", "LC_ALL", "TERM", "PYTHONPATH"])
def test_ordinary_names(name: str) -> None:
    assert not looks_like_credential(name)


def test_oversight_variables_cannot_be_granted() -> None:
    with pytest.raises(ValidationError, match="never passed"):
        Capabilities(workspace=Path("/w"), credentials=("OVERSIGHT_STORE",))


def test_hosts_need_network_hosts() -> None:
    with pytest.raises(ValidationError, match="network='hosts'"):
        Capabilities(workspace=Path("/w"), hosts=("github.com",))
    with pytest.raises(ValidationError, match="at least one"):
        Capabilities(workspace=Path("/w"), network="hosts")
    with pytest.raises(ValidationError, match="hosts are"):
        Capabilities(workspace=Path("/w"), network="hosts", hosts=("http://x.com/",))


def test_host_matching() -> None:
    hosts = ("github.com", "*.pythonhosted.org", "127.0.0.1:9418")
    assert host_allowed(hosts, "github.com", 443) and host_allowed(hosts, "GITHUB.COM.", 80)
    assert not host_allowed(hosts, "github.com", 22)
    assert not host_allowed(hosts, "evilgithub.com", 443)
    assert host_allowed(hosts, "files.pythonhosted.org", 443)
    assert not host_allowed(hosts, "pythonhosted.org.evil.com", 443)
    assert host_allowed(hosts, "127.0.0.1", 9418) and not host_allowed(hosts, "127.0.0.1", 80)


def test_argv_order_puts_protection_after_writable(tmp_path: Path) -> None:
    (tmp_path / ".git" / "hooks").mkdir(parents=True)
    caps = Capabilities.confined(tmp_path)
    plan = build_plan(caps, ["true"], bwrap="bwrap", environ={"PATH": "/bin", "GH_TOKEN": "t"})
    argv = list(plan.argv)
    ws, hooks = str(tmp_path), str(tmp_path / ".git" / "hooks")
    assert argv.index("--bind") < argv.index(hooks) and argv[argv.index(hooks) - 1] == "--ro-bind"
    assert ["--bind", ws, ws] == argv[argv.index(ws) - 1 : argv.index(ws) + 2]
    assert "--unshare-net" in argv and "--clearenv" in argv and "GH_TOKEN" not in argv
    assert str(tmp_path / ".claude") in plan.placeholders
    assert not os.path.exists(tmp_path / ".claude")  # building the plan creates nothing
    full = build_plan(caps.model_copy(update={"network": "full"}), ["true"], bwrap="b", environ={})
    assert "--unshare-net" not in full.argv

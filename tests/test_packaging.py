"""The built wheel: what it carries, and that an installed copy finds its policy packs.

The wheel is built from a copy of the working tree (the build writes `build/` and egg-info
beside its sources) and installed the way users install it, `pip install --user`, into a
throwaway user base; dependencies come from this virtualenv through PYTHONPATH, so no index
is needed to install. Building fetches setuptools through pip's build isolation.
"""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import oversight

REPO = Path(__file__).resolve().parents[1]
PACKS = ["lab-compute", "observe-only", "research-default", "strict"]
SITE_PACKAGES = next(p for p in sys.path if p.endswith("site-packages"))

pytestmark = pytest.mark.slow


def run(*command: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in command],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        **kwargs,  # type: ignore[call-overload]
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    listed = run("git", "ls-files", "-co", "--exclude-standard", "-z", cwd=REPO)
    assert listed.returncode == 0, listed.stderr
    for name in filter(None, listed.stdout.split("\0")):
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, source)
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = dist.glob("agent_oversight-*.whl")
    return found


@pytest.fixture(scope="module")
def user_install(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """`pip install --user` of the wheel into a fresh user base; the environment to run it."""
    home = tmp_path_factory.mktemp("home")
    env = {
        **os.environ,
        "HOME": str(home),
        "PYTHONUSERBASE": str(home / ".local"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    env.pop("PYTHONPATH", None)
    # A virtualenv hides user site-packages; the interpreter it was made from does not.
    base = sys._base_executable
    done = run(base, "-m", "pip", "install", "--user", "--no-deps", "-q", wheel, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return {**env, "PYTHONPATH": SITE_PACKAGES}


def test_the_wheel_carries_the_packs_inside_the_package(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for pack in PACKS:
        assert f"oversight/packs/{pack}.yaml" in names
        assert f"oversight/packs/{pack}.tests.yaml" in names
    assert "oversight/packs/__init__.py" in names
    assert not [n for n in names if ".data/" in n], "nothing installed outside the package"


def test_the_wheel_holds_every_module_of_the_source_tree(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    roots = {REPO / "oversight": "oversight", REPO / "adapters/langchain/oversight_langchain": "oversight_langchain"}  # fmt: skip
    for root, package in roots.items():
        for module in root.rglob("*.py"):
            if "__pycache__" not in module.parts:
                assert f"{package}/{module.relative_to(root).as_posix()}" in names, module


def test_the_wheel_states_its_version_and_carries_the_license(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    info = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
    metadata = email.message_from_bytes(archive.read(info))
    assert metadata["Version"] == oversight.__version__
    assert metadata["License-Expression"] == "Apache-2.0"
    license_file = next(n for n in archive.namelist() if n.endswith("licenses/LICENSE"))
    text = archive.read(license_file).decode()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert wheel.name.startswith(f"agent_oversight-{oversight.__version__}-")


def test_a_user_install_finds_its_packs_by_name(
    user_install: dict[str, str], tmp_path: Path
) -> None:
    script = Path(user_install["PYTHONUSERBASE"]) / "bin" / "oversight"
    out = run(script, "policy", "check", "research-default", cwd=tmp_path, env=user_install)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "valid: research-default" in out.stdout
    assert f"{user_install['PYTHONUSERBASE']}/lib/" in out.stdout, "the installed copy's pack"


def test_a_user_install_names_its_packs_for_an_unknown_one(
    user_install: dict[str, str], tmp_path: Path
) -> None:
    script = Path(user_install["PYTHONUSERBASE"]) / "bin" / "oversight"
    out = run(script, "policy", "check", "research-defualt", cwd=tmp_path, env=user_install)
    assert out.returncode == 1
    assert "accepted: one of: lab-compute, observe-only, research-default, strict" in out.stdout


def test_a_monitor_from_a_user_install_enforces_the_default_pack(
    user_install: dict[str, str], tmp_path: Path
) -> None:
    code = (
        "import oversight; from oversight import Monitor\n"
        "m = Monitor(db='o.db', log='none')\n"
        "print(m.policy_name, oversight.__file__)\n"
        "m.close()\n"
    )
    out = run(sys._base_executable, "-c", code, cwd=tmp_path, env=user_install)
    assert out.returncode == 0, out.stdout + out.stderr
    name, module = out.stdout.split()
    assert name == "research-default"
    assert module.startswith(user_install["PYTHONUSERBASE"])

"""Real transcripts that published packages ship, fetched from the package registry on demand.

The corpus this project measures recognition on must be what real agents wrote, not what we
imagine they write; and files from public repositories may not be committed here. Packages on
the registry that ship real transcripts (an Inspect eval log inside `docent`, Claude Code
messages inside `claude-code-log`) are downloaded once, checked against their pinned SHA-256,
unpacked into a cache and read from there. Nothing of them enters this repository.

CI runs `python tests/realdata.py` first (`.ci/run`), so the tests that need these files never
skip there; elsewhere a missing registry makes those tests skip with one notice naming the
package.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sdist:
    package: str
    version: str
    sha256: str

    @property
    def filename(self) -> str:
        return f"{self.package.replace('-', '_')}-{self.version}.tar.gz"

    @property
    def folder(self) -> str:
        return self.filename.removesuffix(".tar.gz")


SOURCES: dict[str, Sdist] = {
    # An Inspect eval log (.eval) of a real CTF agent run (gpt-4o, 15 samples, 121 tool calls).
    "docent": Sdist(
        "docent", "0.1.88", "d42d7e0b819eeb1b08e0131658272657a8dda07197d66122161b8613410dda0b"
    ),
    # Real Claude Code JSONL messages, one file per message shape and per tool.
    "claude-code-log": Sdist(
        "claude-code-log",
        "1.7.0",
        "c30b9463066429cabde6216b7e43c1f3721144517568eda69588c39b6341271e",
    ),
}


class RealDataUnavailable(RuntimeError):
    """The registry could not be reached or served something other than the pinned file."""


def cache_dir() -> Path:
    configured = os.environ.get("OVERSIGHT_REALDATA_DIR")
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "agent-oversight" / "realdata"


def unpacked(name: str) -> Path:
    """The unpacked source tree of the pinned package `name`, downloading it if needed."""
    source = SOURCES[name]
    root = cache_dir()
    tree = root / source.folder
    if (tree / ".verified").is_file():
        return tree
    archive = root / source.filename
    if not archive.is_file():
        root.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--quiet",
                "-d",
                str(root),
                f"{source.package}=={source.version}",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0 or not archive.is_file():
            raise RealDataUnavailable(
                f"could not download {source.package}=={source.version} from the package "
                f"registry: {done.stderr.strip().splitlines()[-1:] or done.returncode}"
            )
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if digest != source.sha256:
        archive.unlink()
        raise RealDataUnavailable(
            f"{archive.name} has SHA-256 {digest}, not the pinned {source.sha256}"
        )
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter="data")
    (tree / ".verified").write_text(source.sha256)
    return tree


def real_file(name: str, member: str) -> Path:
    path = unpacked(name) / member
    if not path.exists():
        raise RealDataUnavailable(f"{SOURCES[name].filename} has no {member}")
    return path


def main() -> int:
    for name in SOURCES:
        print(f"realdata: {name} at {unpacked(name)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Real tools and agents for the LangChain adapter tests; child processes import it too.

Every tool does real work inside one workspace folder: files, subprocesses, git. A training
launch writes a job file to `queue/`, so a test counts exactly how often a launch ran.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Literal

from langchain.agents import create_agent
from langchain_core.tools import BaseTool, tool
from langgraph.types import Checkpointer

from oversight import Monitor
from oversight_langchain import OversightMiddleware
from oversight_langchain.testing import ScriptedChatModel, Turn

GIT = ["git", "-c", "user.name=agent", "-c", "user.email=agent@example.invalid"]

# A small pack: deleting is refused, training waits for a person (30 s), the rest is allowed.
TEST_PACK = """
name: langchain-test
unmatched: {consequential: allow, other: allow}
rules:
  - id: no-deleting
    match: {tool: run_command, args: {command: {regex: "^rm "}}}
    effect: deny
    reason: deleting files is not allowed in this workspace
  - id: gate-training
    match: {kind: train.launch}
    effect: require_approval
    reason: training launches need a person
    approval: {role: approver, quorum: 1, timeout_s: TIMEOUT}
"""


def write_pack(folder: Path, timeout_s: float = 30) -> Path:
    pack = folder / "pack.yaml"
    pack.write_text(TEST_PACK.replace("TIMEOUT", str(timeout_s)))
    return pack


def workspace_tools(root: Path) -> list[BaseTool]:
    root = root.resolve()

    def inside(path: str) -> Path:
        target = (root / path).resolve()
        if not target.is_relative_to(root):
            raise ValueError(f"{path!r} is outside the workspace")
        return target

    @tool
    def read_file(path: str) -> str:
        """Read a text file from the workspace."""
        return inside(path).read_text()

    @tool
    def write_file(path: str, content: str) -> str:
        """Write a text file in the workspace."""
        target = inside(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
        return f"wrote {len(content)} characters to {path}"

    @tool
    def run_command(command: str) -> str:
        """Run a shell command in the workspace."""
        done = subprocess.run(
            command, shell=True, cwd=root, capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"exit {done.returncode}: {done.stderr.strip()[-300:]}")
        return done.stdout.strip() or "(no output)"

    @tool
    def launch_training(config_path: str, gpus: int, hours: float) -> str:
        """Queue a training run on the cluster."""
        queue = root / "queue"
        queue.mkdir(exist_ok=True)
        job = queue / f"job-{len(list(queue.iterdir())) + 1}.json"
        job.write_text(json.dumps({"config": config_path, "gpus": gpus, "hours": hours}))
        return f"queued {job.name}: {gpus} GPUs x {hours} h"

    return [read_file, write_file, run_command, launch_training]


def launches(root: Path) -> list[dict[str, Any]]:
    queue = root / "queue"
    if not queue.is_dir():
        return []
    return [json.loads(p.read_text()) for p in sorted(queue.iterdir())]


def git_workspace(root: Path) -> Path:
    """A git repository with one commit and a bare `origin` beside it; returns origin."""
    origin = root.parent / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    (root / "README.md").write_text("toy model\n")
    subprocess.run([*GIT, "add", "README.md"], cwd=root, check=True)
    subprocess.run([*GIT, "commit", "-qm", "initial"], cwd=root, check=True)
    subprocess.run(["git", "remote", "add", "origin", str(origin)], cwd=root, check=True)
    return origin


def build_agent(
    monitor: Monitor,
    root: Path,
    script: list[Turn],
    *,
    mode: Literal["block", "interrupt"] = "block",
    checkpointer: Checkpointer = None,
) -> Any:
    model = ScriptedChatModel(script=script)
    middleware = OversightMiddleware(monitor, mode=mode)
    return create_agent(
        model, workspace_tools(root), middleware=[middleware], checkpointer=checkpointer
    )


def user(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oversight", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

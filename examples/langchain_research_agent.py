"""A LangChain research agent under oversight, offline: `python examples/langchain_research_agent.py`.

The agent is a real `create_agent` loop with real tools (files, subprocesses, git in a throwaway
repository); only its model is scripted. One line adds oversight:

    middleware=[OversightMiddleware(monitor, mode="interrupt")]

Under the `research-default` pack the agent reads, edits, runs its experiment and commits on its
own; editing evaluation code, pushing and launching training wait for a person. Its shell tool
runs each command in the sandbox with only what the decision grants (`run_in_step`). In interrupt
mode each of those pauses the run (a LangGraph interrupt naming the approval). Here a stand-in
reviewer answers from another process with `oversight approve|deny` and a signing key, exactly
as a person would, and the run is resumed; the decision is read from the audit store.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware.types import InputAgentState
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, tool
from langgraph.checkpoint.memory import InMemorySaver

from oversight import Monitor
from oversight.executor import run_in_step
from oversight_langchain import OversightMiddleware, approval_requests, resume_command
from oversight_langchain.testing import ScriptedChatModel, Turn, tool_call

GIT = "git -c user.name=research-bot -c user.email=bot@example.invalid"

FILES = {
    "train.py": (
        "import argparse, json\n"
        "p = argparse.ArgumentParser(); p.add_argument('--lr', type=float, default=0.1)\n"
        "a = p.parse_args()\n"
        "loss = abs(a.lr - 0.03) * 10 + 0.2\n"
        "print(json.dumps({'lr': a.lr, 'loss': round(loss, 3)}))\n"
    ),
    "experiments/sweep_lr.py": (
        "import subprocess, sys\n"
        "for lr in (0.01, 0.03, 0.1):\n"
        "    subprocess.run([sys.executable, 'train.py', '--lr', str(lr)], check=True)\n"
    ),
    "eval/metrics.py": "def accuracy(pred, gold):\n    return sum(p == g for p, g in zip(pred, gold)) / len(gold)\n",
    "configs/base.yaml": "model: toy\nlr: 0.1\n",
}

# What the scripted model asks for, turn by turn (a list of tool calls runs in parallel).
SCRIPT: list[Turn] = [
    [tool_call("read_file", path="train.py"), tool_call("read_file", path="configs/base.yaml")],
    [tool_call("run_command", command="python experiments/sweep_lr.py")],
    [tool_call("edit_file", path="configs/base.yaml", old="lr: 0.1", new="lr: 0.03")],
    [tool_call("edit_file", path="eval/metrics.py", old="return sum(", new="return 0.05 + sum(")],
    [
        tool_call(
            "run_command", command=f"{GIT} checkout -q -b tune-lr && {GIT} commit -qam 'lr 0.03'"
        )
    ],
    [tool_call("run_command", command="git push -q origin tune-lr")],
    [tool_call("launch_training", config_path="configs/base.yaml", gpus=64, hours=12)],
    [tool_call("launch_training", config_path="configs/base.yaml", gpus=8, hours=12)],
    "lr=0.03 is best; the change is pushed and an 8-GPU run is queued.",
]


def make_repo(root: Path) -> Path:
    repo, origin = root / "repo", root / "origin.git"
    for name, text in FILES.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    sh(f"git init -q -b main . && {GIT} add -A && {GIT} commit -qm initial", repo)
    sh(f"git init -q --bare -b main {origin} && git remote add origin {origin}", repo)
    return repo


def sh(command: str, cwd: Path) -> str:
    done = subprocess.run(command, shell=True, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"exit {done.returncode}: {done.stderr.strip()[-300:]}")
    return done.stdout.strip() or "(no output)"


def research_tools(repo: Path, queue: Path, monitor: Monitor) -> list[BaseTool]:
    @tool
    def read_file(path: str) -> str:
        """Read a file of the repository."""
        return (repo / path).read_text()

    @tool
    def edit_file(path: str, old: str, new: str) -> str:
        """Replace `old` with `new` in a file of the repository."""
        text = (repo / path).read_text()
        if old not in text:
            raise ValueError(f"{old!r} is not in {path}")
        (repo / path).write_text(text.replace(old, new, 1))
        return f"edited {path}"

    @tool
    def run_command(command: str) -> str:
        """Run a shell command in the repository."""
        # The middleware has decided this call; it runs in the sandbox with that decision's
        # grant (no network, no GPU, evaluation code read-only; a push a person approved
        # reaches its own remote).
        done = run_in_step(monitor, command, cwd=repo, timeout=120)
        if done.exit_code != 0:
            raise RuntimeError(f"exit {done.exit_code}: {done.stderr.strip()[-300:]}")
        return done.stdout.strip() or "(no output)"

    @tool
    def launch_training(config_path: str, gpus: int, hours: float) -> str:
        """Queue a training run on the cluster."""
        queue.mkdir(exist_ok=True)
        job = queue / f"job-{len(list(queue.iterdir())) + 1}.json"
        job.write_text(f'{{"config": "{config_path}", "gpus": {gpus}, "hours": {hours}}}')
        return f"queued {job.name}: {gpus} GPUs x {hours} h"

    return [read_file, edit_file, run_command, launch_training]


def oversight_cli(db: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "oversight", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip())
    return done.stdout


def register_reviewers(db: Path, keys: Path) -> None:
    oversight_cli(
        db, "reviewer", "add", "root", "--role", "admin", "--key-out", str(keys / "root.pem")
    )
    oversight_cli(
        db, "reviewer", "add", "alice", "--key-out", str(keys / "alice.pem"),
        "--as", "root", "--key", str(keys / "root.pem"),
    )  # fmt: skip


def review(db: Path, keys: Path, request: dict[str, Any]) -> None:
    """The stand-in reviewer: what alice decides, signed with her key, from her own process."""
    approval, kind, args = request["approval_id"], request["kind"], request["args"]
    if kind == "file.write":
        verb, reason = "deny", "the evaluation metric needs a methods review"
    elif kind == "train.launch" and args.get("gpus", 0) > 8:
        verb, reason = "deny", "start with 8 GPUs"
    else:
        verb, reason = "approve", "looks right"
    print(f"  reviewer: oversight {verb} {approval} --as alice --key … --reason {reason!r}")
    oversight_cli(
        db, verb, approval, "--as", "alice", "--key", str(keys / "alice.pem"), "--reason", reason
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(".oversight/langchain-example"))
    root = parser.parse_args(argv).dir.resolve()
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    db, keys = root / "oversight.db", root / "keys"
    register_reviewers(db, keys)
    repo = make_repo(root)

    with Monitor(db=str(db), policy="research-default", log="none") as monitor:
        agent = create_agent(
            ScriptedChatModel(script=SCRIPT),
            research_tools(repo, root / "cluster-queue", monitor),
            middleware=[OversightMiddleware(monitor, mode="interrupt", agent="research-bot")],
            checkpointer=InMemorySaver(),
        )
        config: RunnableConfig = {"configurable": {"thread_id": "lr-study"}}
        task: InputAgentState = {
            "messages": [{"role": "user", "content": "Tune the learning rate, then train."}]
        }
        result = agent.invoke(task, config)
        while requests := approval_requests(result):
            for request in requests:
                print(
                    f"paused: {request['tool']} {request['args']} needs approval "
                    f"({request['rule']}: {request['reason']})"
                )
                review(db, keys, request)
            result = agent.invoke(resume_command(result), config)
    for message in result["messages"][1:]:
        text = str(message.content).strip().splitlines()[:1] or [""]
        calls = ", ".join(c["name"] for c in getattr(message, "tool_calls", []))
        print(f"{message.type:>5}: {text[0][:110]}{' -> ' + calls if calls else ''}")
    print()
    print("Review what it did:")
    for command in ("sessions", "show lr-study", "verify"):
        print(f"  oversight {command} --db {db}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

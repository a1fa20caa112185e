"""SWE-agent and MLGym trajectories: `<instance>.traj`, one JSON object a run.

`trajectory` lists the steps, each with the `action` string the agent typed (a shell command or
an editor command such as `edit 96:98` ... `end_of_edit`) and the `observation` it got back;
`info` holds the exit status, the submission and the model's statistics, and SWE-agent 1.x adds
`replay_config` (the run's configuration, itself a JSON string) naming the model. The action goes
to the classifier whole, as the command of the `bash` tool, since that is where SWE-agent runs
it. A run whose model is SWE-agent's `human` model was typed by a person, step by step.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from oversight.importing.formats import Format
from oversight.importing.model import (
    ImportedCall,
    ImportedSession,
    ImportProblem,
    bounded,
    parse_json,
    read_json,
)

NAME = "swe-agent"

# A step SWE-agent records when it gives up (cost, context, format errors): nothing ran.
_EXIT_ACTIONS = re.compile(r"\A\s*exit_(cost|context|api|format|error|forfeit|command)\s*\Z")
# SWE-agent's models that are a person at the keyboard (sweagent/agent/models.py).
_HUMAN_MODELS = frozenset({"human", "human_thought"})
_TRAJECTORY_KEY = re.compile(rb'"trajectory"\s*:\s*\[')


def sniff(path: Path, head: bytes) -> bool:
    """A JSON object with a `trajectory` list; a `.traj` file that opens as an object."""
    text = head.lstrip()
    if not text.startswith(b"{"):
        return False
    return path.suffix == ".traj" or _TRAJECTORY_KEY.search(head) is not None


def read(path: Path) -> Iterator[ImportedSession | ImportProblem]:
    data = read_json(path)
    if isinstance(data, ImportProblem):
        yield data
        return
    if not isinstance(data, dict):
        yield ImportProblem(path, 0, "", "not a JSON object")
        return
    steps = data.get("trajectory")
    field = "trajectory"
    if steps is None and isinstance(data.get("history"), list):
        # A demonstration kept as its message history only: the actions are the assistant's.
        steps = _history_steps(data["history"])
        field = "history"
    if not isinstance(steps, list):
        yield ImportProblem(path, 0, "trajectory", "no list of steps")
        return
    info = _obj(data.get("info"))
    model = _model_name(_replay_config(data.get("replay_config"))) or _model_from_folder(path)
    person = model in _HUMAN_MODELS
    session = ImportedSession(
        format=NAME,
        source=path,
        native_id=_native_id(path, info),
        agent="swe-agent",
        model=model,
        metadata=_metadata(data, info),
    )
    for index, step in enumerate(steps):
        where = f"{field}[{index}]"
        if not isinstance(step, dict):
            yield ImportProblem(path, 0, where, "a step is not an object")
            continue
        action = step.get("action")
        if not isinstance(action, str):
            yield ImportProblem(path, 0, f"{where}.action", "missing or not text")
            continue
        if not action.strip():
            continue
        if _EXIT_ACTIONS.match(action):
            session.metadata["exit_action"] = action.strip()
            continue
        session.calls.append(
            ImportedCall(
                tool="bash",
                args={"command": action},
                actor="human" if person else "agent",
                result=bounded(step.get("observation")),
                line=0,
            )
        )
    yield session


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _native_id(path: Path, info: dict[str, Any]) -> str:
    """The instance's name and a hash of where the file is: the same run found again on
    re-import (the file grows as the run goes), two runs of one instance kept apart."""
    name = info.get("instance_id")
    if not isinstance(name, str) or not name:
        name = path.name.removesuffix(".traj").removesuffix(".json")
    where = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    return f"{name}@{where}"


def _history_steps(history: list[Any]) -> list[Any]:
    """Steps from a history: each assistant message's `action` with the next message's text."""
    steps: list[Any] = []
    for index, message in enumerate(history):
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        following = history[index + 1] if index + 1 < len(history) else None
        observation = _text(following.get("content")) if isinstance(following, dict) else None
        steps.append({"action": message.get("action"), "observation": observation})
    return steps


def _text(content: Any) -> str | None:
    """A message's text: SWE-agent 1.x may keep it as a list of `{"type": "text"}` blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [b.get("text") for b in content if isinstance(b, dict)]
        return "\n".join(p for p in parts if isinstance(p, str))
    return None


# SWE-agent 0.x names a run's folder `<model>__<data>__<config>__t-<temperature>__p-...`.
_RUN_FOLDER = re.compile(r"\A(?P<model>[^_].*?)__.*__t-\d")


def _model_from_folder(path: Path) -> str | None:
    match = _RUN_FOLDER.match(path.parent.name)
    return match.group("model") if match else None


def _replay_config(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = parse_json(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _model_name(config: dict[str, Any]) -> str | None:
    agent = config.get("agent")
    model = agent.get("model") if isinstance(agent, dict) else None
    if isinstance(model, dict):
        name = model.get("name") or model.get("model_name")
        return name if isinstance(name, str) else None
    return None


def _metadata(data: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for key in ("exit_status", "submission", "swe_agent_version", "score"):
        if info.get(key) not in (None, ""):
            meta[key] = bounded(info[key]) if key == "submission" else info[key]
    stats = info.get("model_stats")
    if isinstance(stats, dict):
        meta["model_stats"] = {
            k: v for k, v in stats.items() if isinstance(v, (int, float, str)) and k != "tokens"
        }
    if isinstance(data.get("environment"), str):
        meta["environment"] = data["environment"]
    history = data.get("history")
    if isinstance(history, list):
        turns = [m for m in history if isinstance(m, dict) and m.get("role") == "user"]
        # The first user turn is the task; the rest are observations the host wrote back.
        meta["user_turns"] = len(turns)
        task = next((_text(m.get("content")) for m in turns if not m.get("is_demo")), None)
        if task:
            meta["task"] = bounded(task)
    return meta


FORMAT = Format(
    name=NAME,
    description="SWE-agent and MLGym trajectories (.traj)",
    sniff=sniff,
    read=read,
)

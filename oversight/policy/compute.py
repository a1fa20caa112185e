"""Estimated compute of a step (GPUs, hours, GPU-hours), derived from its normalised arguments.

Lab limits are written in GPU-hours, but agents call tools with GPU counts and durations, or run
launchers. What is derived (see docs/policies.md):

- `gpu_hours`: an explicit `gpu_hours` argument, else `gpus × hours` when both are known.
- `gpus`: an argument `gpus`, `num_gpus`, `n_gpus` or `gpu_count`; else, from a shell command
  (`command`/`cmd`/`script` argument), `torchrun --nproc_per_node N [--nnodes M]` (N × M),
  `accelerate launch --num_processes N` (or `--gpu_ids a,b,..`), `deepspeed --num_gpus N
  [--num_nodes M]`.
- `hours`: an argument `hours`, `time_hours`, `duration_hours` or `max_hours`; else a
  `--hours`/`--time_hours`/`--max_hours` option anywhere in the command.

Anything not derivable is None, and a condition on it does not match. So is everything when
the call contradicts itself or names an impossible size (gate, don't guess): an option given
twice with different values (`--nproc_per_node=1 ... --nproc_per_node=8`), arguments that
disagree with the command they run, a zero, negative or non-finite count or duration. `problem`
says which; `known: false` rules and grants' compute limits then see an unknown size.
"""

from __future__ import annotations

import functools
import math
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

GPU_ARGS = ("gpus", "num_gpus", "n_gpus", "gpu_count")
HOUR_ARGS = ("hours", "time_hours", "duration_hours", "max_hours")
COMMAND_ARGS = ("command", "cmd", "script")
HOUR_OPTIONS = frozenset({"--hours", "--time_hours", "--time-hours", "--max_hours", "--max-hours"})
_SEPARATORS = frozenset({"&&", "||", ";", "|", "&", "\n"})


@dataclass(frozen=True, slots=True)
class Compute:
    gpus: float | None = None
    hours: float | None = None
    gpu_hours: float | None = None
    problem: str | None = None
    """Why the size is unknown although the call names one (contradictory or impossible)."""


NONE = Compute()


class _Contradiction(ValueError):
    """The call names its size more than one way, or an impossible one."""


def number(value: Any) -> float | None:
    """A number from an int, float or numeric string; booleans are not numbers here."""
    if type(value) is int or type(value) is float:
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def derive(args: Mapping[str, Any]) -> Compute:
    try:
        return _derive(args)
    except _Contradiction as exc:
        return Compute(problem=str(exc))


def _derive(args: Mapping[str, Any]) -> Compute:
    gpus = _first_number(args, GPU_ARGS)
    hours = _first_number(args, HOUR_ARGS)
    command = next((args[k] for k in COMMAND_ARGS if isinstance(args.get(k), str)), None)
    if command is not None:
        cmd_gpus, cmd_hours = _from_command(command)
        gpus = _agreeing("GPUs", gpus, cmd_gpus)
        hours = _agreeing("hours", hours, cmd_hours)
    gpu_hours = _positive("gpu_hours", number(args.get("gpu_hours")))
    if gpus is not None and hours is not None:
        product = gpus * hours
        if gpu_hours is not None and not math.isclose(gpu_hours, product):
            raise _Contradiction(f"gpu_hours {gpu_hours:g} but {gpus:g} GPUs x {hours:g} hours")
        gpu_hours = product
    if gpus is None and hours is None and gpu_hours is None:
        return NONE
    return Compute(gpus, hours, gpu_hours)


def _agreeing(what: str, given: float | None, in_command: float | None) -> float | None:
    if given is not None and in_command is not None and given != in_command:
        raise _Contradiction(f"the arguments say {given:g} {what}, the command {in_command:g}")
    return given if given is not None else in_command


def _positive(what: str, value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise _Contradiction(f"{what} {value:g} is not a positive finite number")
    return value


def _first_number(args: Mapping[str, Any], names: Sequence[str]) -> float | None:
    """The value the arguments give under any of `names`; two names that disagree contradict."""
    found: float | None = None
    for name in names:
        value = _positive(name, number(args.get(name)))
        if value is not None and found is not None and value != found:
            raise _Contradiction(f"{name} {value:g} disagrees with {found:g}")
        found = value if found is None else found
    return found


_MENTIONS = ("torchrun", "torch.distributed.run", "accelerate", "deepspeed", *HOUR_OPTIONS)
_QUOTING = str.maketrans("", "", "'\"\\")


def _may_say(command: str) -> bool:
    """Whether splitting the command could find a launcher or an hours option: shlex only
    removes quotes and backslashes, so a word it yields is in the text once those are gone.
    Most commands name neither, and splitting them was a third of replay's time."""
    plain = command.translate(_QUOTING)
    return any(word in plain for word in _MENTIONS)


@functools.lru_cache(maxsize=1024)
def _from_command(command: str) -> tuple[float | None, float | None]:
    """(GPUs, hours) a command names; raises _Contradiction when it names either two ways or
    impossibly (not cached: the next call finds it again)."""
    if not _may_say(command):
        return None, None
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = list(lexer)
    except ValueError:
        return None, None
    gpus: float | None = None
    hours: float | None = None
    for argv in _commands(words):
        options = _options(argv)
        found = _launcher_gpus(argv, options)
        if found is not None:
            gpus = found if gpus is None else max(gpus, found)
        value = _opt(options, *sorted(HOUR_OPTIONS))
        if value is not None:
            if hours is not None and value != hours:
                raise _Contradiction(f"the command gives {hours:g} and {value:g} hours")
            hours = value
    return gpus, hours


def _commands(words: list[str]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for word in words:
        if word in _SEPARATORS:
            out.append([])
        else:
            out[-1].append(word)
    return [argv for argv in out if argv]


def _options(argv: list[str]) -> dict[str, list[str]]:
    """Every value each `--option` is given, in order (launchers take the last; we take none
    when they differ)."""
    options: dict[str, list[str]] = {}
    for i, word in enumerate(argv):
        if word.startswith("--"):
            name, eq, value = word.partition("=")
            if eq:
                options.setdefault(name, []).append(value)
            elif i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                options.setdefault(name, []).append(argv[i + 1])
    return options


def _program(word: str) -> str:
    return word.rstrip("/").rsplit("/", 1)[-1]


def _launcher_gpus(argv: list[str], options: dict[str, list[str]]) -> float | None:
    programs = [_program(w) for w in argv[:4]]
    if "torchrun" in programs or "torch.distributed.run" in argv[:4]:
        per_node = _opt(options, "--nproc_per_node", "--nproc-per-node")
        nodes = _opt(options, "--nnodes") or 1.0
        return per_node * nodes if per_node is not None else None
    if "accelerate" in programs and "launch" in argv[:4]:
        processes = _opt(options, "--num_processes", "--num-processes")
        if processes is None and "--gpu_ids" in options:
            ids = {tuple(g for g in v.split(",") if g.strip()) for v in options["--gpu_ids"]}
            if len(ids) > 1:
                raise _Contradiction("--gpu_ids is given more than once, differently")
            processes = float(len(ids.pop()))
        return processes
    if "deepspeed" in programs:
        per_node = _opt(options, "--num_gpus", "--num-gpus")
        nodes = _opt(options, "--num_nodes", "--num-nodes") or 1.0
        return per_node * nodes if per_node is not None else None
    return None


def _opt(options: dict[str, list[str]], *names: str) -> float | None:
    """The one value of an option (under any of its spellings); None if absent, and a
    contradiction if it is given twice differently, or is not a positive finite number."""
    values = {v for name in names for v in options.get(name, [])}
    numbers = {number(v) for v in values}
    if len(numbers) > 1:
        raise _Contradiction(f"{names[0]} is given as {' and '.join(sorted(values))}")
    if not numbers:
        return None
    return _positive(names[0], numbers.pop())

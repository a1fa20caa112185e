"""Small readers for argv lists: program names, getopt-style options, dynamic words."""

from __future__ import annotations

import re
from collections.abc import Sequence

Argv = tuple[str, ...]
Options = list[tuple[str, str | None]]

_VERSIONED = re.compile(r"^(python|pip|pypy|ipython)[0-9.]*$")


def word_set(text: str) -> frozenset[str]:
    """A vocabulary or option table written as whitespace-separated words."""
    return frozenset(text.split())


def program_name(word: str) -> str:
    """`/usr/bin/python3.11` → `python`; `pip3` → `pip`: the name rules are written for."""
    base = word.rstrip("/").rsplit("/", 1)[-1] or word
    match = _VERSIONED.match(base)
    if match:
        return "python" if match.group(1) == "pypy" else match.group(1)
    return base


def is_computed(word: str) -> bool:
    """True when bash computes the word by running something: `$(...)`, backticks, `<(...)`."""
    return "$(" in word or "`" in word or "<(" in word or ">(" in word


def is_dynamic(word: str) -> bool:
    """True when the word still holds an expansion the classifier could not resolve."""
    return "$" in word or is_computed(word)


def split_options(
    args: Sequence[str], takes_value: frozenset[str] = frozenset()
) -> tuple[Options, list[str]]:
    """Leading options (with their values) and the remaining argv, as getopt would read them.

    `takes_value` lists the options that consume a value (`-n`, `--name`); `--x=y`, `-n5` and
    clusters like `-dmS name` are understood. Reading stops at `--` or the first positional.
    """
    options: Options = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return options, list(args[i + 1 :])
        if not arg.startswith("-") or arg == "-" or len(arg) < 2:
            break
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
            if eq:
                options.append((name, value))
            elif name in takes_value and i + 1 < len(args):
                options.append((name, args[i + 1]))
                i += 1
            else:
                options.append((name, None))
            i += 1
            continue
        j = 1
        while j < len(arg):
            flag = "-" + arg[j]
            if flag in takes_value:
                if j + 1 < len(arg):
                    options.append((flag, arg[j + 1 :]))
                elif i + 1 < len(args):
                    options.append((flag, args[i + 1]))
                    i += 1
                else:
                    options.append((flag, None))
                break
            options.append((flag, None))
            j += 1
        i += 1
    return options, list(args[i:])


def positionals(args: Sequence[str], takes_value: frozenset[str] = frozenset()) -> list[str]:
    """Every non-option argument, wherever it appears (GNU tools accept options anywhere)."""
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            out.extend(args[i + 1 :])
            break
        if arg.startswith("-") and len(arg) > 1:
            if arg.startswith("--"):
                if "=" not in arg and arg in takes_value:
                    i += 1
            else:
                for j in range(1, len(arg)):
                    if "-" + arg[j] in takes_value:
                        if j + 1 == len(arg):
                            i += 1
                        break
        else:
            out.append(arg)
        i += 1
    return out


def has(options: Options, *names: str) -> bool:
    return any(name in names for name, _ in options)


def value(options: Options, *names: str) -> str | None:
    for name, val in options:
        if name in names and val is not None:
            return val
    return None


def values(options: Options, *names: str) -> list[str]:
    return [val for name, val in options if name in names and val is not None]

"""Reading policy packs: from a path or by name, with every problem pinned to its line.

The YAML is composed into nodes as well as parsed, so a pydantic error's field path can be
walked back to the node that holds the bad value and reported as `file:line`.
"""

from __future__ import annotations

import importlib.resources
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped,unused-ignore]
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from oversight.policy.engine import Loc, Policy, semantic_problems
from oversight.policy.errors import PolicyError, Problem
from oversight.policy.model import PolicyFile

POLICY_PATH_ENV = "OVERSIGHT_POLICY_PATH"
PACKS_PACKAGE = "oversight.packs"
"""The shipped packs: the repository's top-level `policies/`, installed as this package."""
SUFFIXES = (".yaml", ".yml")
TESTS_SUFFIXES = (".tests.yaml", ".tests.yml")


def shipped_packs_dir() -> Path | None:
    """Where the shipped packs are, found the way Python finds the package itself (so a wheel,
    an editable install and `pip install --user` all work); None if this install lacks them."""
    try:
        root = importlib.resources.files(PACKS_PACKAGE)
    except ModuleNotFoundError:
        return None
    # Installers unpack packages into folders; a zipped one (a Traversable, not a Path) is not
    # supported, and is reported as having no packs.
    return root if isinstance(root, Path) and root.is_dir() else None


def packs_dir() -> Path:
    """The shipped packs' folder, or a PolicyError saying this install has none."""
    found = shipped_packs_dir()
    if found is None:
        raise PolicyError([Problem(None, None, "", _missing_packs())])
    return found


def _missing_packs() -> str:
    return (
        f"this install lacks the shipped packs (the package {PACKS_PACKAGE} is missing): "
        "reinstall agent-oversight, or in a checkout run `make install`"
    )


def search_dirs() -> list[Path]:
    """$OVERSIGHT_POLICY_PATH's folders in order, then the shipped packs."""
    extra = os.environ.get(POLICY_PATH_ENV, "")
    shipped = shipped_packs_dir()
    return [*(Path(p) for p in extra.split(os.pathsep) if p), *([shipped] if shipped else [])]


def available_packs() -> list[str]:
    names: set[str] = set()
    for directory in search_dirs():
        if directory.is_dir():
            for path in directory.iterdir():
                if path.suffix in SUFFIXES and not path.name.endswith(TESTS_SUFFIXES):
                    names.add(path.stem)
    return sorted(names)


def resolve(name_or_path: str | Path) -> Path:
    """A path (an existing file, or anything ending .yaml/.yml) is itself; a bare name is looked
    up in $OVERSIGHT_POLICY_PATH, then among the shipped packs."""
    path = Path(name_or_path)
    if isinstance(name_or_path, Path) or path.is_file() or path.suffix in SUFFIXES:
        return path
    name = str(name_or_path)
    for directory in search_dirs():
        for suffix in SUFFIXES:
            candidate = directory / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    raise PolicyError([_unknown_pack(name)])


def _unknown_pack(name: str) -> Problem:
    """The error for a name no folder holds; it lists real packs, never an empty set."""
    dirs = search_dirs()
    searched = f"searched {', '.join(str(d) for d in dirs)}" if dirs else "no folder to search"
    packs = available_packs()
    if packs:
        accepted = "one of: " + ", ".join(packs) + ", or a path to a .yaml file"
        return Problem(None, None, "", f"unknown policy {name!r} ({searched})", accepted)
    why = _missing_packs() if shipped_packs_dir() is None else f"no packs found; {searched}"
    return Problem(None, None, "", f"unknown policy {name!r}: {why}", "a path to a .yaml file")


def load_policy(name_or_path: str | Path) -> Policy:
    path = resolve(name_or_path)
    return parse_policy(read_text(path, "policy file"), source=str(path))


def read_text(path: Path, what: str) -> str:
    """A YAML file's text, or a PolicyError naming the file (and the line of a non-UTF-8 byte)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PolicyError(
            [Problem(str(path), None, "", f"cannot read {what}: {exc.strerror or exc}")]
        ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        message = f"not UTF-8 text: byte 0x{data[exc.start]:02x} (save the {what} as UTF-8)"
        raise PolicyError([Problem(str(path), line, "", message)]) from None


MAX_YAML_DEPTH = 64
"""Deepest nesting read: policies nest a few levels; deeper is a mistake or an attack."""
MAX_YAML_NODES = 200_000
"""Most values a YAML file may expand to, aliases counted each time they are used: a
"billion laughs" file of nested aliases would otherwise take minutes and gigabytes."""


def read_yaml(text: str, source: str | None) -> tuple[Any, Any]:
    """(node tree with line marks, plain data) of YAML text, or a PolicyError naming the line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        _check_size(node, source)
        return node, yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError([Problem(source, line, "", f"not valid YAML: {problem}")]) from None
    except RecursionError:
        message = f"not readable: YAML nested too deeply (at most {MAX_YAML_DEPTH} levels)"
        raise PolicyError([Problem(source, None, "", message)]) from None
    except ValueError as exc:  # a value YAML parses and Python cannot hold: a 5,000-digit int
        raise PolicyError([Problem(source, None, "", f"not readable: {exc}")]) from None


def _check_size(root: yaml.Node | None, source: str | None) -> None:
    """Raise a PolicyError for YAML nested deeper than MAX_YAML_DEPTH, expanding to more than
    MAX_YAML_NODES values, or holding an alias to itself; cheap, as each node is sized once."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def fail(node: yaml.Node, message: str) -> PolicyError:
        return PolicyError([Problem(source, node.start_mark.line + 1, "", message)])

    def size(node: yaml.Node, depth: int) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        if depth > MAX_YAML_DEPTH:
            raise fail(node, f"YAML nested too deeply (at most {MAX_YAML_DEPTH} levels)")
        if id(node) in open_nodes:
            raise fail(node, "an alias refers to the value that holds it (a recursive alias)")
        total = 1
        if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
            open_nodes.add(id(node))
            children = (
                [c for pair in node.value for c in pair]
                if isinstance(node, yaml.MappingNode)
                else node.value
            )
            for child in children:
                total += size(child, depth + 1)
                if total > MAX_YAML_NODES:
                    raise fail(
                        node,
                        f"YAML expands to more than {MAX_YAML_NODES:,} values "
                        "(aliases are counted each time they are used)",
                    )
            open_nodes.discard(id(node))
        sizes[id(node)] = total
        return total

    if root is not None:
        size(root, 0)


def parse_policy(text: str, *, source: str | None = None) -> Policy:
    """Validate a pack's YAML text; every problem found is raised together in one PolicyError."""
    node, data = read_yaml(text, source)
    if not isinstance(data, dict):
        got = "an empty file" if data is None else type(data).__name__
        raise PolicyError(
            [
                Problem(
                    source,
                    1,
                    "",
                    f"a policy must be a mapping, got {got}",
                    "a mapping with name, rules and optionally description, unmatched, approval",
                )
            ]
        )
    try:
        model = PolicyFile.model_validate(data)
    except ValidationError as exc:
        found = validation_problems(source, node, exc)
        found += [
            Problem(source, _line(node, loc), _field(node, loc), m, a)
            for loc, m, a in _duplicate_ids(data)
        ]
        raise PolicyError(found) from None
    problems = semantic_problems(model)
    if problems:
        raise PolicyError(
            [Problem(source, _line(node, loc), _field(node, loc), m, a) for loc, m, a in problems]
        )
    return Policy(model, source=source)


def _duplicate_ids(data: dict[str, Any]) -> list[tuple[Loc, str, str | None]]:
    """Duplicate rule ids in raw data, so they are reported alongside schema errors too."""
    rules = data.get("rules")
    seen: dict[str, int] = {}
    found: list[tuple[Loc, str, str | None]] = []
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        rule_id = rule.get("id") if isinstance(rule, dict) else None
        if not isinstance(rule_id, str):
            continue
        if rule_id in seen:
            message = f"duplicate rule id {rule_id!r} (first used by rule {seen[rule_id]})"
            found.append((("rules", i, "id"), message, "a rule id not used by any other rule"))
        else:
            seen[rule_id] = i
    return found


def validation_problems(
    source: str | None, node: yaml.Node | None, exc: ValidationError, *, policy: bool = True
) -> list[Problem]:
    """Pydantic's errors as Problems located in the YAML (`policy=False` for other files)."""
    return [_problem(source, node, e, policy) for e in exc.errors()]


def _problem(
    source: str | None, node: yaml.Node | None, error: ErrorDetails, policy: bool
) -> Problem:
    loc = tuple(error["loc"])
    message = error["msg"]
    message = message.removeprefix("Value error, ")
    if error["type"] == "literal_error":
        message = f"unknown {_what(loc)} {error['input']!r}"
    return Problem(
        source, _line(node, loc), _field(node, loc), message, _accepted(error, loc, policy)
    )


def _accepted(error: ErrorDetails, loc: Loc, policy: bool) -> str | None:
    ctx = error.get("ctx") or {}
    kind = error["type"]
    if "accepted" in ctx:
        return str(ctx["accepted"])
    if "expected" in ctx:
        return str(ctx["expected"])
    if kind == "extra_forbidden" and policy:
        fields = _model_fields(loc[:-1])
        return ", ".join(fields) if fields else None
    if kind == "missing":
        return f"a value for {loc[-1]!r}"
    if "pattern" in ctx:
        return f"text matching {ctx['pattern']}"
    for bound, text in (
        ("ge", "a number >= "),
        ("gt", "a number > "),
        ("min_length", "length >= "),
    ):
        if bound in ctx:
            return f"{text}{ctx[bound]}"
    return None


def _what(loc: Loc) -> str:
    names = [p for p in loc if isinstance(p, str)]
    last = names[-1] if names else ""
    if last == "kind":
        return "kind"
    if last in ("flags", "any_flags"):
        return "flag"
    if last in ("effect", "consequential", "other", "decision"):
        return "effect"
    return "value"


def _model_fields(loc: Loc) -> list[str]:
    """Field names accepted at a location, found by walking the models along the path."""
    from oversight.policy import model as m

    current: Any = PolicyFile
    names = {
        "rules": m.Rule,
        "match": m.Match,
        "after": m.AfterMatch,
        "compute": m.ComputeMatch,
        "session": m.SessionMatch,
        "approval": m.ApprovalConfig,
        "unmatched": m.Unmatched,
    }
    for part in loc:
        if isinstance(part, str) and part in names:
            current = names[part]
        elif isinstance(part, str) and part in ("glob", "regex", "equals"):
            return ["glob", "regex", "equals"]
    return list(current.model_fields)


def _walk(node: yaml.Node | None, loc: Sequence[str | int]) -> tuple[yaml.Node | None, Loc]:
    """The deepest node along `loc`, and the path parts actually walked (union tags skipped)."""
    walked: list[str | int] = []
    for part in loc:
        child = _child(node, part)
        if child is not None:
            node = child
            walked.append(part)
    return node, tuple(walked)


def _child(node: yaml.Node | None, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None


def _line(node: yaml.Node | None, loc: Loc) -> int | None:
    found, walked = _walk(node, loc)
    if found is None:
        return None
    # An unknown key is reported at the key itself, not at its parent.
    parent_key = _key_node(found, loc[len(walked)] if len(walked) < len(loc) else None)
    mark = (parent_key or found).start_mark
    return int(mark.line) + 1


def _key_node(node: yaml.Node, part: str | int | None) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and part is not None:
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return key
    return None


_UNION_TAGS = frozenset({"comparison", "literal", "str", "int", "float", "bool", "none"})


def _field(node: yaml.Node | None, loc: Loc) -> str:
    _, walked = _walk(node, loc)
    parts = list(walked)
    if len(walked) < len(loc):
        last = loc[-1]
        fresh = not parts or parts[-1] != last
        if fresh and isinstance(last, str) and last not in _UNION_TAGS and "[" not in last:
            parts.append(last)
    return ".".join(str(p) for p in parts)

"""Which modules a piece of Python calls into: `from repo_tools import Repo; Repo(".").push()`
runs `repo_tools`' code, so what that module (written earlier in the session) does is what the
call does. Importing alone runs only a module's top level; calling a name it defines runs that
code too, so a module counts once something imported from it is called."""

from __future__ import annotations

import ast

from oversight.classify.python_code import dotted_name, parsed_nodes

MAX_MODULES = 8
"""Modules followed from one piece of code: the rest are not read."""


def called_modules(source: str) -> list[str]:
    """Absolute module names `source` imports and calls something from (or whose `__main__`
    top level runs), in import order; empty when it does not parse."""
    try:
        nodes = parsed_nodes(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    names: dict[str, str] = {}  # local name → module it comes from
    order: list[str] = []
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".", 1)[0]
                names[local] = alias.name
                order.append(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = node.module
            order.append(node.module)
    if not names:
        return []
    called: set[str] = set()
    for node in nodes:
        if not isinstance(node, ast.Call):
            continue
        head = dotted_name(node.func).split(".", 1)[0].split("(", 1)[0]
        if head in names:
            called.add(names[head])
    seen: list[str] = []
    for module in order:
        if module not in seen and module in called:
            seen.append(module)
        if len(seen) >= MAX_MODULES:
            break
    return seen


def module_paths(module: str) -> tuple[str, str]:
    """Where `import module` finds its source beside the code: `a/b.py` or `a/b/__init__.py`."""
    base = module.replace(".", "/")
    return f"{base}.py", f"{base}/__init__.py"

"""Normalise a call's arguments: bind them to names, make them JSON-safe, redact, bound.

Normalised arguments are what is stored, logged, matched by policy and digested, so the same
call made positionally or by keyword gives the same record and the same digest.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from oversight.canonical import MAX_DEPTH, canonical_bytes, canonical_json, sha256_hex, to_jsonable
from oversight.redact import REDACTED, is_secret_key, redact, redact_text

_SKIP_FIRST = frozenset({"self", "cls"})


class ArgumentBinder:
    """Turns `(args, kwargs)` of one function into a name → value dict, fast.

    `inspect.Signature.bind` costs several microseconds a call; for the common signature (plain
    positional-or-keyword parameters) we zip names instead, and fall back to `bind` otherwise.
    """

    __slots__ = ("_defaults", "_names", "_signature", "_simple", "_skip_first")

    def __init__(self, func: Callable[..., Any]) -> None:
        signature = inspect.signature(func)
        params = list(signature.parameters.values())
        self._signature = signature
        self._skip_first = bool(params) and params[0].name in _SKIP_FIRST
        self._simple = all(p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in params)
        self._names = tuple(p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD)
        self._defaults = {
            p.name: p.default for p in params if p.default is not inspect.Parameter.empty
        }

    def bind(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        if self._simple and len(args) <= len(self._names):
            bound = dict(self._defaults)
            bound.update(zip(self._names, args))
            bound.update(kwargs)
        else:
            try:
                ba = self._signature.bind(*args, **kwargs)
            except TypeError:
                # Let the real call raise the caller's TypeError; record what was passed.
                return {"args": list(args), **kwargs}
            ba.apply_defaults()
            bound = {}
            for name, value in ba.arguments.items():
                kind = self._signature.parameters[name].kind
                if kind is inspect.Parameter.VAR_KEYWORD:
                    bound.update(value)
                elif kind is inspect.Parameter.VAR_POSITIONAL:
                    bound[name] = list(value)
                else:
                    bound[name] = value
        if self._skip_first:
            first = next(iter(self._signature.parameters))
            bound.pop(first, None)
        return bound

    def apply(
        self, args: tuple[Any, ...], kwargs: Mapping[str, Any], changes: Mapping[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The same call with some named arguments replaced (a reviewer's edit)."""
        ba = self._signature.bind(*args, **kwargs)
        ba.apply_defaults()
        params = self._signature.parameters
        extra = next((n for n, p in params.items() if p.kind is p.VAR_KEYWORD), None)
        for name, value in changes.items():
            if name in params and params[name].kind is not inspect.Parameter.VAR_KEYWORD:
                ba.arguments[name] = value
            elif extra is not None:
                ba.arguments[extra] = {**ba.arguments.get(extra, {}), name: value}
            else:
                raise TypeError(f"{name!r} is not an argument of this function")
        return tuple(ba.args), dict(ba.kwargs)


def _clean(value: Any, depth: int = 0) -> Any:
    """JSON-safe, redacted, keys sorted: one pass over the value, exact types first for speed."""
    t = type(value)
    if t is str:
        return redact_text(value)
    if t is int or t is bool or value is None:
        return value
    if t is dict:
        if depth >= MAX_DEPTH:
            return f"<truncated at depth {MAX_DEPTH}>"
        out = {}
        for key in sorted(value, key=str):
            name = key if type(key) is str else str(key)
            item = value[key]
            if item is not None and item != "" and is_secret_key(name):
                out[name] = REDACTED
            else:
                out[name] = _clean(item, depth + 1)
        return out
    if t is list or t is tuple:
        if depth >= MAX_DEPTH:
            return f"<truncated at depth {MAX_DEPTH}>"
        return [_clean(v, depth + 1) for v in value]
    # Floats, paths, bytes, models, dataclasses, foreign mappings: the general converter.
    return redact(to_jsonable(value, depth))


def _truncate(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        if len(value) > limit:
            return f"{value[:limit]}…[truncated {len(value) - limit} chars]"
        return value
    if isinstance(value, dict):
        return {k: _truncate(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [_truncate(v, limit) for v in value]
    return value


def normalise_args(raw: Mapping[str, Any], *, max_chars: int) -> tuple[dict[str, Any], str]:
    """Return (stored arguments, SHA-256 digest of the full redacted arguments).

    The digest covers the arguments before long strings are cut for storage, so an approval is
    bound to exactly what runs, not to the shortened copy a reviewer reads.
    """
    full = _clean(raw if type(raw) is dict else dict(raw))
    data = canonical_bytes(full, presorted=True)
    args_digest = hashlib.sha256(data).hexdigest()
    if len(data) > max_chars:
        return _truncate(full, max_chars), args_digest
    return full, args_digest


def summarise_result(result: Any, *, max_chars: int) -> tuple[str, str]:
    """Return (SHA-256 digest, bounded redacted summary) of a step's result."""
    value = _clean(result)
    text = value if isinstance(value, str) else canonical_json(value, presorted=True)
    result_digest = sha256_hex(text)
    if len(text) > max_chars:
        text = f"{text[:max_chars]}…[{len(text) - max_chars} more chars]"
    return result_digest, text

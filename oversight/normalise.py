"""Normalise a call's arguments: bind them to names, make them JSON-safe, then keep two forms.

What runs (`NormalisedCall.args`: JSON-safe, keys sorted, nothing redacted or cut) is what is
classified, decided and digested, so the same call made positionally or by keyword gives the same
digest, and two calls that differ anywhere (inside a secret too) never share one: an approval for
`HF_TOKEN=hf_x upload` cannot be claimed by `HF_TOKEN=$(git push) upload`, which redacts to the
same text. What is shown (`stored`: redacted, long strings cut) is all that reaches the store, the
logs, the spans and reviewers. The digest is keyed (HMAC-SHA256) so that a reader of the store
cannot test guesses of a redacted secret against it.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from oversight.canonical import (
    MAX_DEPTH,
    TRUNCATED_SIZE,
    canonical_bytes,
    canonical_json,
    new_budget,
    sha256_hex,
    to_jsonable,
)
from oversight.redact import REDACTED, is_secret_key, printable, redact_text

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


def _clean(value: Any, depth: int = 0, budget: list[int] | None = None) -> Any:
    """JSON-safe, keys sorted, nothing redacted: one pass, exact types first for speed.

    Bounded in depth (MAX_DEPTH) and in containers walked (MAX_CONTAINERS), so a list that holds
    itself, or parts shared 2**n times over, renders in bounded time."""
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return value
    if budget is None:
        budget = new_budget()
    if t is dict:
        if depth >= MAX_DEPTH:
            return f"<truncated at depth {MAX_DEPTH}>"
        budget[0] -= 1
        if budget[0] < 0:
            return TRUNCATED_SIZE
        return {
            (key if type(key) is str else str(key)): _clean(value[key], depth + 1, budget)
            for key in sorted(value, key=str)
        }
    if t is list or t is tuple:
        if depth >= MAX_DEPTH:
            return f"<truncated at depth {MAX_DEPTH}>"
        budget[0] -= 1
        if budget[0] < 0:
            return TRUNCATED_SIZE
        return [_clean(v, depth + 1, budget) for v in value]
    # Floats, paths, bytes, models, dataclasses, foreign mappings: the general converter.
    return to_jsonable(value, depth, budget)


def _shown(value: Any) -> Any:
    """A clean value as it may be shown: secrets by key name and by shape replaced."""
    t = type(value)
    if t is str:
        return redact_text(value)
    if t is dict:
        return {
            printable(k): (
                REDACTED if v is not None and v != "" and is_secret_key(k) else _shown(v)
            )
            for k, v in value.items()
        }
    if t is list:
        return [_shown(v) for v in value]
    return value


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


UNKEYED = b"agent-oversight/args-digest/v1"
"""The digest key when a deployment sets none (`OVERSIGHT_DIGEST_KEY`): digests still bind an
approval to exactly one call, but anyone can recompute them."""


@dataclass(frozen=True, slots=True)
class NormalisedCall:
    args: dict[str, Any]
    """What runs: JSON-safe, keys sorted, nothing redacted or cut. Classified and decided on;
    never stored."""
    stored: dict[str, Any]
    """What is stored, logged and shown: redacted, strings longer than the limit cut."""
    digest: str
    """Keyed digest (HMAC-SHA256, hex) of `args`: what approvals and records bind to."""
    size: int
    """Bytes of `args` as canonical JSON."""


def normalise_call(
    raw: Mapping[str, Any], *, max_chars: int, key: bytes = UNKEYED
) -> NormalisedCall:
    """The call as it runs, as it may be shown, and its keyed digest (see the module doc)."""
    full = _clean(raw if type(raw) is dict else dict(raw))
    data = canonical_bytes(full, presorted=True)
    digest = hmac.new(key, data, hashlib.sha256).hexdigest()
    stored = _shown(full)
    if len(data) > max_chars:
        stored = _truncate(stored, max_chars)
    return NormalisedCall(full, stored, digest, len(data))


MAX_SHOWN_TARGET_CHARS = 1_000


def shown_targets(targets: Iterable[str]) -> list[str]:
    """A step's targets as stored and shown: redacted, each bounded (classification saw them
    whole: a protected path's tail past any cut still counts)."""
    out: list[str] = []
    for target in targets:
        shown = redact_text(target)
        if len(shown) > MAX_SHOWN_TARGET_CHARS:
            shown = f"{shown[:MAX_SHOWN_TARGET_CHARS]}…[{len(shown) - MAX_SHOWN_TARGET_CHARS} more]"
        out.append(shown)
    return out


def summarise_result(result: Any, *, max_chars: int) -> tuple[str, str]:
    """Return (SHA-256 digest, bounded redacted summary) of a step's result."""
    value = _shown(_clean(result))
    text = value if isinstance(value, str) else canonical_json(value, presorted=True)
    result_digest = sha256_hex(text)
    if len(text) > max_chars:
        text = f"{text[:max_chars]}…[{len(text) - max_chars} more chars]"
    return result_digest, text

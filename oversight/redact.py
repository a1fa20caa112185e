"""Secret redaction: credentials in arguments never reach the store, the logs or the spans.

Two signals, both cheap: the key an argument is stored under (`api_key`, `password`, ...), and
the shape of a value (provider key prefixes, bearer tokens, private key blocks, `user:pass@` in
URLs, `TOKEN=...` assignments in shell text).
"""

from __future__ import annotations

import functools
import re
from typing import Any

REDACTED = "[REDACTED]"

_SECRET_KEY = re.compile(
    r"(?:^|[_\-.])(?:api[_\-]?key|apikey|secret|secret[_\-]?key|password|passwd|passphrase|pwd|"
    r"token|access[_\-]?token|refresh[_\-]?token|auth[_\-]?token|id[_\-]?token|bearer|"
    r"authorization|private[_\-]?key|access[_\-]?key(?:[_\-]?id)?|client[_\-]?secret|"
    r"credentials?|cookie|session[_\-]?token|signing[_\-]?key|webhook[_\-]?secret)$",
    re.IGNORECASE,
)

# Each alternative captures the secret part in a named group so the surrounding text survives.
# Each is listed with the lower-cased text it cannot match without: a text is scanned only with
# the alternatives whose hint it holds. That changes nothing (an alternative that cannot match
# never wins) and keeps the scan cheap: on code, trying every alternative at every position cost
# ~270 µs per 2,000 characters.
_ALTERNATIVES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        r"(?P<pem>-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$))",
        ("-----begin",),
    ),
    (
        (
            r"(?P<key>\b(?:sk-(?:ant-|proj-|live-|test-)?[A-Za-z0-9_\-]{16,}"
            r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
            r"|hf_[A-Za-z0-9]{20,}|xox[abprs]-[A-Za-z0-9\-]{10,}"
            r"|AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|AIza[0-9A-Za-z_\-]{30,}"
            r"|glpat-[A-Za-z0-9_\-]{20,}|npm_[A-Za-z0-9]{30,}|pypi-[A-Za-z0-9_\-]{40,}"
            r"|eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,})\b)"
        ),
        (
            "sk-",
            "ghp_",
            "gho_",
            "ghu_",
            "ghs_",
            "ghr_",
            "github_pat_",
            "hf_",
            "xox",
            "akia",
            "asia",
            "aiza",
            "glpat-",
            "npm_",
            "pypi-",
            "eyj",
        ),
    ),
    (r"(?i:(?P<bearer_prefix>\bbearer\s+)(?P<bearer>[A-Za-z0-9._~+/\-]{12,}=*))", ("bearer",)),
    (r"(?P<url_prefix>[a-z][a-z0-9+.\-]*://[^\s:/@]+:)(?P<url_pass>[^\s@/]+)(?=@)", ("://",)),
    (
        (
            r"(?P<assign_prefix>\b[A-Za-z_][A-Za-z0-9_]*(?i:key|token|secret|password|passwd|pwd)"
            r"[A-Za-z0-9_]*\s*[=:]\s*['\"]?)(?P<assign>[^\s'\"&;|]{6,})"
        ),
        ("key", "token", "secret", "passw", "pwd"),
    ),
    (
        # A bare name at the start of an assignment (`TOKEN=…`, `password=…`): the form above
        # needs a letter before the secret word, so these slipped through.
        (
            r"(?P<bare_prefix>(?<![A-Za-z0-9_\-])(?i:token|secret|password|passwd|passphrase|pwd)"
            r"\s*[=:]\s*['\"]?)(?P<bare>[^\s'\"&;|]{6,})"
        ),
        ("token", "secret", "passw", "pwd"),
    ),
    (
        (
            r"(?P<flag_prefix>--(?i:password|passwd|token|api-key|secret)[= ]\s*['\"]?)"
            r"(?P<flag>[^\s'\"]{4,})"
        ),
        ("--password", "--passwd", "--token", "--api-key", "--secret"),
    ),
)
_SECRET_VALUE = re.compile("|".join(pattern for pattern, _ in _ALTERNATIVES))
"""Every alternative at once: what `redact_text` is equivalent to (and what tests compare)."""


@functools.lru_cache(maxsize=64)
def _scanner(present: tuple[bool, ...]) -> re.Pattern[str]:
    return re.compile("|".join(p for (p, _), on in zip(_ALTERNATIVES, present, strict=True) if on))


def _replace(match: re.Match[str]) -> str:
    groups = match.groupdict()
    if groups.get("pem") is not None or groups.get("key") is not None:
        return REDACTED
    for prefix in ("bearer_prefix", "url_prefix", "assign_prefix", "bare_prefix", "flag_prefix"):
        kept = groups.get(prefix)
        if kept is not None:
            return kept + REDACTED
    return REDACTED


_KEY_CACHE: dict[str, bool] = {}


def is_secret_key(key: str) -> bool:
    known = _KEY_CACHE.get(key)
    if known is None:
        known = _SECRET_KEY.search(key) is not None
        if len(_KEY_CACHE) < 10_000:
            _KEY_CACHE[key] = known
    return known


_HINTS: tuple[tuple[str, int], ...] = tuple(
    (hint, index) for index, (_, hints) in enumerate(_ALTERNATIVES) for hint in hints
)


_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """Text with each lone surrogate (a `"\\ud800"` in a trace, a broken decode in an agent's
    argument) written as its escape `\\ud800`: UTF-8, and so the store, logs and terminals,
    cannot carry one, and what is shown must never fail to be written."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def redact_text(text: str) -> str:
    """Replace secret-looking substrings of free text (commands, code, URLs); lone surrogates
    are escaped (see `printable`), since everything redacted is then shown."""
    text = printable(text)
    if len(text) < 8:
        return text
    lowered = text.lower()
    present = [False] * len(_ALTERNATIVES)
    found = False
    for hint, index in _HINTS:  # one flat loop: a generator per alternative cost a fifth more
        if hint in lowered:
            present[index] = found = True
    if not found:
        return text
    return _scanner(tuple(present)).sub(_replace, text)


def redact(value: Any) -> Any:
    """Redact a JSON-safe value: secrets by key name and by value shape, recursively."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            printable(k): (
                REDACTED if v is not None and v != "" and is_secret_key(k) else redact(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value

"""Secret redaction: credentials in arguments never reach the store, the logs or the spans.

Two signals, both cheap: the key an argument is stored under (`api_key`, `password`, ...), and
the shape of a value (provider key prefixes, bearer tokens, private key blocks, `user:pass@` in
URLs, `TOKEN=...` assignments in shell text).
"""

from __future__ import annotations

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
_SECRET_VALUE = re.compile(
    r"(?P<pem>-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$))"
    r"|(?P<key>\b(?:sk-(?:ant-|proj-|live-|test-)?[A-Za-z0-9_\-]{16,}"
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|hf_[A-Za-z0-9]{20,}|xox[abprs]-[A-Za-z0-9\-]{10,}"
    r"|AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|AIza[0-9A-Za-z_\-]{30,}"
    r"|glpat-[A-Za-z0-9_\-]{20,}|npm_[A-Za-z0-9]{30,}|pypi-[A-Za-z0-9_\-]{40,}"
    r"|eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,})\b)"
    r"|(?i:(?P<bearer_prefix>\bbearer\s+)(?P<bearer>[A-Za-z0-9._~+/\-]{12,}=*))"
    r"|(?P<url_prefix>[a-z][a-z0-9+.\-]*://[^\s:/@]+:)(?P<url_pass>[^\s@/]+)(?=@)"
    r"|(?P<assign_prefix>\b[A-Za-z_][A-Za-z0-9_]*(?i:key|token|secret|password|passwd|pwd)"
    r"[A-Za-z0-9_]*\s*[=:]\s*['\"]?)(?P<assign>[^\s'\"&;|]{6,})"
    r"|(?P<flag_prefix>--(?i:password|passwd|token|api-key|secret)[= ]\s*['\"]?)"
    r"(?P<flag>[^\s'\"]{4,})"
)


def _replace(match: re.Match[str]) -> str:
    groups = match.groupdict()
    if groups["pem"] is not None or groups["key"] is not None:
        return REDACTED
    for prefix in ("bearer_prefix", "url_prefix", "assign_prefix", "flag_prefix"):
        if groups[prefix] is not None:
            return groups[prefix] + REDACTED
    return REDACTED


_KEY_CACHE: dict[str, bool] = {}


def is_secret_key(key: str) -> bool:
    known = _KEY_CACHE.get(key)
    if known is None:
        known = _SECRET_KEY.search(key) is not None
        if len(_KEY_CACHE) < 10_000:
            _KEY_CACHE[key] = known
    return known


# Every secret shape above contains one of these (lower-cased); text without any is returned
# untouched without running the full expression, which keeps the common case cheap.
_HINT = re.compile(
    r"sk-|gh[pousr]_|github_pat_|hf_|xox|akia|asia|aiza|glpat-|npm_|pypi-|eyj|bearer|://|"
    r"-----begin|key|token|secret|passw|pwd"
)


def redact_text(text: str) -> str:
    """Replace secret-looking substrings of free text (commands, code, URLs)."""
    if len(text) < 8 or _HINT.search(text.lower()) is None:
        return text
    return _SECRET_VALUE.sub(_replace, text)


def redact(value: Any) -> Any:
    """Redact a JSON-safe value: secrets by key name and by value shape, recursively."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            k: (REDACTED if v is not None and v != "" and is_secret_key(k) else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value

"""Secret redaction: credentials in arguments never reach the store, the logs or the spans.

Two signals, both cheap: the key an argument is stored under (`api_key`, `password`, ...), and
the shape of a value (provider key prefixes, bearer tokens, private key blocks, `user:pass@` in
URLs, `TOKEN=...` assignments in shell text).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
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
# Each comes with a test (of the text, and of it case-folded) that holds whenever it can match:
# a text is scanned only with the alternatives whose test holds. That changes nothing (an
# alternative that cannot match never wins) and keeps the scan cheap: on code, trying every
# alternative at every position cost ~270 µs per 2,000 characters. The tests are coarse
# substrings where a few cover many prefixes, and for assignments and URLs a search for the
# shape they need (a secret word followed by `=` or `:`; `://user:pass@`): `key` alone is in
# most code, `://` in most output.
_FLAG_HINTS = ("--password", "--passwd", "--passphrase", "--token", "--api-key", "--secret")
_SECRET_WORDS = ("key", "token", "secret", "passw", "passp", "pwd")
_ASSIGNED = re.compile(r"(?:key|token|secret|passw|passp|pwd)[a-z0-9_]*\s*[=:]")
"""What both assignment forms need, looked for in case-folded text (where `A-Z` became `a-z`)."""


def _holds_any(folded: str, hints: tuple[str, ...]) -> bool:
    for hint in hints:  # a plain loop: `any()` over a generator cost a fifth more
        if hint in folded:
            return True
    return False


def _may_hold_key(text: str) -> bool:
    """Whether `text` (as written, not folded: every provider-key form is case-sensitive) holds
    a literal that one of the forms starts with. Grouped by the `_`, `-` or `A` each group's
    literals share, so code without one skips its group: half the searches of one per literal."""
    if "_" in text and (
        ("gh" in text and ("ghp_" in text or "gho_" in text or "ghu_" in text or "ghs_" in text
                           or "ghr_" in text))
        or "hf_" in text or "npm_" in text or "github_pat_" in text
    ):  # fmt: skip
        return True
    if "-" in text and ("sk-" in text or "xox" in text or "glpat-" in text or "pypi-" in text):
        return True
    if "A" in text and ("AKIA" in text or "ASIA" in text or "AIza" in text):
        return True
    return "eyJ" in text


_URL_PASSWORD = re.compile(r"://[^\s:/@]+:[^\s@/]+@")


def _has_url_password(folded: str) -> bool:
    return "://" in folded and "@" in folded and _URL_PASSWORD.search(folded) is not None


def _assigns_secret(folded: str) -> bool:
    # Substrings first: the expression tries its alternation at every position of the text.
    return _holds_any(folded, _SECRET_WORDS) and _ASSIGNED.search(folded) is not None


_ALTERNATIVES: tuple[tuple[str, Callable[[str, str], bool]], ...] = (
    (
        r"(?P<pem>-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$))",
        lambda text, folded: "-----begin" in folded,
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
        lambda text, folded: _may_hold_key(text),
    ),
    (
        r"(?i:(?P<bearer_prefix>\bbearer\s+)(?P<bearer>[A-Za-z0-9._~+/\-]{12,}=*))",
        lambda text, folded: "bearer" in folded,
    ),
    (
        r"(?P<url_prefix>[a-z][a-z0-9+.\-]*://[^\s:/@]+:)(?P<url_pass>[^\s@/]+)(?=@)",
        lambda text, folded: _has_url_password(folded),
    ),
    (
        (
            r"(?P<assign_prefix>\b[A-Za-z_][A-Za-z0-9_]*"
            r"(?i:key|token|secret|password|passwd|passphrase|pwd)"
            r"[A-Za-z0-9_]*\s*[=:]\s*['\"]?)(?P<assign>[^\s'\"&;|]{6,})"
            # A bare name at the start of an assignment (`TOKEN=…`, `password=…`): the form
            # above needs a letter before the secret word, so these slipped through.
            r"|(?P<bare_prefix>(?<![A-Za-z0-9_\-])(?i:token|secret|password|passwd|passphrase|pwd)"
            r"\s*[=:]\s*['\"]?)(?P<bare>[^\s'\"&;|]{6,})"
        ),
        lambda text, folded: _assigns_secret(folded),
    ),
    (
        (
            r"(?P<flag_prefix>--(?i:password|passwd|passphrase|token|api-key|secret)[= ]\s*['\"]?)"
            r"(?P<flag>[^\s'\"]{4,})"
        ),
        lambda text, folded: "--" in folded and _holds_any(folded, _FLAG_HINTS),
    ),
)
_TESTS = tuple(possible for _, possible in _ALTERNATIVES)
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


_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """Text with each lone surrogate (a `"\\ud800"` in a trace, a broken decode in an agent's
    argument) written as its escape `\\ud800`: UTF-8, and so the store, logs and terminals,
    cannot carry one, and what is shown must never fail to be written."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


_ASSIGNMENT = next(i for i, (p, _) in enumerate(_ALTERNATIVES) if "(?P<assign_prefix>" in p)
_ASSIGNMENTS_ONLY = tuple(i == _ASSIGNMENT for i in range(len(_ALTERNATIVES)))
"""The hints of a text where only `TOKEN=…`-style assignments may match: most of the texts the
expression is tried on (a real corpus: 396 of 462), and the slowest for it."""
_WORD_STARTS = ("key", "token", "secret", "pass", "pwd")
"""How every secret word of the assignment forms starts (`password`, `passwd`, `passphrase`)."""
_IDENTIFIER_RUN = re.compile(r"[A-Za-z0-9_]+")


def _run_length(text: str, at: int) -> int:
    """How many characters of `[A-Za-z0-9_]` `text` has from `at` on."""
    match = _IDENTIFIER_RUN.match(text, at)
    return 0 if match is None else match.end() - at


def _redact_assignments(text: str, folded: str) -> str:
    """`_scanner(_ASSIGNMENTS_ONLY).sub(_replace, text)` for ASCII `text`, trying the expression
    only where a match can start. Both assignment forms start where a run of `[A-Za-z0-9_]`
    starts (a word boundary before a letter, or the bare form's look-behind) and hold a secret
    word in that run, so the runs holding one are the only places to try: left to right, each
    after the last replacement, as `sub` does. At every position, the expression cost ~120 ns
    a character."""
    found: list[int] = []
    for word in _WORD_STARTS:
        at = folded.find(word)
        while at != -1:
            found.append(at)
            at = folded.find(word, at + 1)
    found.sort()
    scanner = _scanner(_ASSIGNMENTS_ONLY)
    backwards = text[::-1]  # the run before an occurrence, matched forwards here
    size = len(text)
    pieces: list[str] = []
    copied = 0  # text before this is in `pieces`; `sub` goes on from here
    run_end = -1
    for at in found:
        if at < run_end:
            continue  # in a run already tried
        run_end = at + _run_length(text, at)
        start = at - _run_length(backwards, size - at)
        if start < copied:
            continue
        match = scanner.match(text, start)
        if match is not None:
            pieces.append(text[copied : match.start()])
            pieces.append(_replace(match))
            copied = match.end()
    if not pieces:
        return text
    pieces.append(text[copied:])
    return "".join(pieces)


def redact_text(text: str) -> str:
    """Replace secret-looking substrings of free text (commands, code, URLs); lone surrogates
    are escaped (see `printable`), since everything redacted is then shown."""
    text = printable(text)
    if len(text) < 8:
        return text
    # casefold, not lower: `(?i:s)` also matches `ſ`, which only folds to `s`. On ASCII text
    # the two agree, and lower is the faster.
    folded = text.lower() if text.isascii() else text.casefold()
    present = tuple([possible(text, folded) for possible in _TESTS])  # a list: no generator frames
    if not any(present):
        return text
    if present == _ASSIGNMENTS_ONLY and text.isascii():  # ASCII: `folded` has `text`'s indices
        return _redact_assignments(text, folded)
    return _scanner(present).sub(_replace, text)


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

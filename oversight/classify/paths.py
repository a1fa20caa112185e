"""Which paths are protected (evaluation code, metrics, rewards) and which belong to oversight.

Globs match at any depth unless they start with `/`: the classifier sees paths as the agent wrote
them, relative to a working directory it does not know, so `evals/**` must match
`/home/me/proj/evals/run.py` as well as `evals/run.py`. Matching ignores case.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Iterable
from pathlib import Path

from oversight.classify.eval_code import PROTECTED_TARGET, protected_name
from oversight.classify.result import Classification, tamper
from oversight.kinds import Kind

DEFAULT_PROTECTED: tuple[str, ...] = (
    "evals/**",
    "eval/**",
    "evaluation/**",
    "evaluations/**",
    "eval*.py",
    "*_eval*.py",
    "*-eval*.py",
    "metrics*.py",
    "*_metrics*.py",
    "reward*.py",
    "*_reward*.py",
    "reward_model/**",
    "reward_models/**",
    "benchmarks/**/*.{yaml,yml,json,toml}",
    "*benchmark*config*",
    "grader*.py",
    "*_grader*.py",
    "scoring*.py",
    "*_scoring*.py",
    "judge*.py",
    "*_judge*.py",
    "rubric*",
)

DEFAULT_TAMPER: tuple[str, ...] = (
    ".oversight/**",
    "*oversight*.db*",
    "*oversight*.sqlite*",
    "policies/*.yaml",
    "policies/*.yml",
    "*oversight*.yaml",
    "*oversight*.yml",
    "oversight.toml",
    "site-packages/*oversight*/**",
    "dist-packages/*oversight*/**",
    # our package's source wherever it lives (a checkout, an editable install), by its own folders
    "oversight/{classify,policy,packs,approvals,store}/**",
    "oversight/{pipeline,decide,monitor}.py",
    # code Python runs at start-up, before the agent's own: `.pth` lines, *customize modules
    "site-packages/*.pth",
    "dist-packages/*.pth",
    "sitecustomize.py",
    "usercustomize.py",
    # what sets the environment the monitor starts in (direnv runs `.envrc` as shell)
    "bin/activate{,.csh,.fish,.nu,.ps1,.bat,_this.py}",
    ".envrc",
    # the agent host's own settings, hooks, commands and MCP servers
    ".claude/**",
    ".codex/**",
    ".gemini/**",
    ".cursor/**",
    ".mcp.json",
    ".vscode/settings.json",
    # checks that run on the agent's work: git hooks and CI
    ".git/hooks/**",
    ".husky/**",
    ".pre-commit-config.yaml",
    ".github/workflows/**",
    ".github/actions/**",
    ".gitlab-ci.yml",
    ".circleci/**",
    "Jenkinsfile",
)

DEFAULT_TAMPER_ENV_PREFIXES: tuple[str, ...] = ("OVERSIGHT_",)

# The names evaluation code usually has, to test a written glob against.
USUAL_PROTECTED_NAMES: tuple[str, ...] = (
    "evaluate.py",
    "eval.py",
    "evaluation.py",
    "evaluator.py",
    "metrics.py",
    "reward.py",
    "rewards.py",
    "grader.py",
    "scoring.py",
    "judge.py",
)
_GLOB_CHARS = re.compile(r"[*?\[\]]")

# Start-up hooks count where Python looks for them (site-packages, the path it starts with), not
# in a temp directory; and a copy of evaluation code in a temp directory is not the code the
# project's results come from. Everything else oversight owns is protected wherever it is.
STARTUP_HOOKS = frozenset({"sitecustomize.py", "usercustomize.py"})
SCRATCH_PREFIXES = (
    "/tmp/",
    "/var/tmp/",
    "/dev/shm/",
    "$TMPDIR/",
    "${TMPDIR}/",
    "$TMP/",
    "${TMP}/",
    "$TEMP/",
    "${TEMP}/",
)


def in_scratch(path: str) -> bool:
    """True for a path in a temp directory (`/tmp/x`, `"$TMPDIR/x"`)."""
    return path.strip().strip("'\"").startswith(SCRATCH_PREFIXES)


def own_source_globs() -> tuple[str, ...]:
    """The folder this `oversight` package runs from, as an anchored glob: its editable source
    or its installed copy, whatever the folder is called (`src/`, a fork, a vendored copy)."""
    here = Path(__file__).absolute()
    folders = dict.fromkeys((here.parents[1].as_posix(), here.resolve().parents[1].as_posix()))
    return tuple(f"{_escape_glob(folder)}/**" for folder in folders)


def _escape_glob(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]{}," else c for c in text)


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Translate a path glob (`**`, `*`, `?`, `[...]`, `{a,b}`) into an anchored regex.

    `dir/**` also matches `dir` itself, so deleting the folder counts as touching its contents.
    """
    text = pattern.strip().lower()
    anchored = text.startswith("/")
    text = text.removeprefix("./")
    out: list[str] = []
    i = 0
    depth = 0
    while i < len(text):
        c = text[i]
        if text.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif text.startswith("/**", i) and i + 3 == len(text):
            out.append("(?:/.*)?")
            i += 3
        elif text.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = text.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
                i += 1
            else:
                body = text[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end + 1
        elif c == "{":
            out.append("(?:")
            depth += 1
            i += 1
        elif c == "}" and depth:
            out.append(")")
            depth -= 1
            i += 1
        elif c == "," and depth:
            out.append("|")
            i += 1
        else:
            out.append(re.escape(c))
            i += 1
    body = "".join(out) + ")" * depth
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"{prefix}{body}")


def normalise_path(path: str) -> str:
    """Lower-case, forward-slash, no `./` or trailing slash: the form the globs are written for."""
    text = path.strip().strip("'\"").replace("\\", "/").lower()
    if not text:
        return ""
    text = posixpath.normpath(text)
    return "" if text == "." else text


class PathRules:
    """Protected-path and oversight-path matching, with the reason a path matched."""

    def __init__(self, protected: Iterable[str], tamper: Iterable[str]) -> None:
        self._protected = _Globs(protected)
        self._tamper = _Globs(tamper)
        self.protected_pattern = functools.lru_cache(maxsize=4096)(self._protected_pattern)
        self.tamper_pattern = functools.lru_cache(maxsize=4096)(self._tamper_pattern)
        self.glob_protected = functools.lru_cache(maxsize=1024)(self._glob_protected)

    def writes(self, paths: Iterable[str], verb: str) -> Classification | None:
        """What writing `paths` means: tampering, a protected write, or a plain file.write."""
        items = [p for p in paths if p and not p.startswith("/dev/")]
        if not items:
            return None
        for path in items:
            owned = self.tamper_pattern(path)
            if owned is not None and not (owned in STARTUP_HOOKS and in_scratch(path)):
                return tamper(f"{verb} `{path}`, which belongs to oversight ({owned})", items)
        shown = ", ".join(f"`{p}`" for p in items[:3]) + (" and more" if len(items) > 3 else "")
        for path in items:
            if in_scratch(path):
                continue
            protected = self.protected_pattern(path) or self.glob_protected(path)
            if protected is None and (word := protected_name(path)) is not None:
                protected = f"its name has the word `{word}`"
            if protected is not None:
                return Classification(
                    Kind.FILE_WRITE,
                    f"{verb} {shown}; `{path}` is protected ({protected})",
                    frozenset({PROTECTED_TARGET}),
                    tuple(items),
                )
        return Classification(Kind.FILE_WRITE, f"{verb} {shown}", targets=tuple(items))

    def _glob_protected(self, path: str) -> str | None:
        """A glob written to (`sed -i ... ?valuate.py`, `$(ls eval*.py)`) that can match a
        usual name of evaluation code: a protected write that cannot be ruled out. A glob with
        fewer than three fixed letters in its name (`*.py`) says too little to count."""
        folder, _, name = path.rpartition("/")
        if not _GLOB_CHARS.search(name):
            return None
        stem = name.rsplit(".", 1)[0]
        if len(_GLOB_CHARS.sub("", stem)) < 3:
            return None
        regex = glob_to_regex(name)
        for usual in USUAL_PROTECTED_NAMES:
            if regex.fullmatch(usual.lower()) or regex.fullmatch(usual):
                candidate = f"{folder}/{usual}" if folder else usual
                found = self.protected_pattern(candidate)
                if found is not None:
                    return f"`{name}` can match `{usual}` ({found})"
        return None

    def _protected_pattern(self, path: str) -> str | None:
        """The protected glob `path` matches, or None."""
        return self._protected.first_match(path)

    def _tamper_pattern(self, path: str) -> str | None:
        """The oversight-owned glob `path` matches, or None."""
        return self._tamper.first_match(path)


class _Globs:
    """Several globs compiled into one regex: one C-level match instead of a Python loop."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        alternatives = (
            f"(?P<g{i}>{glob_to_regex(p).pattern})" for i, p in enumerate(self.patterns)
        )
        self.regex = re.compile("|".join(alternatives)) if self.patterns else None

    def first_match(self, path: str) -> str | None:
        text = normalise_path(path)
        if not text or self.regex is None:
            return None
        match = self.regex.fullmatch(text)
        if match is None or match.lastgroup is None:
            return None
        return self.patterns[int(match.lastgroup[1:])]

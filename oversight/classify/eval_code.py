"""Evaluation code by name and by content: what computes a task's metrics, rewards or grades.

Path globs (`paths.DEFAULT_PROTECTED`) catch the usual layouts; this module adds two readings a
glob cannot make. By name: a code or config file whose stem has a word that names evaluation
(`src/metric.py`, `grade_answer.py`), or whose own folder is named only with such words
(`verl/utils/reward_score/gsm8k.py`, `graders/`); a folder that merely mentions one (a project
called `reward-study`) does not make everything in it evaluation code. By content: the new text
of a write defines a function or class named for it (`def compute_reward`, `class Evaluator`) or
calls a metric library (`f1_score(`, `evaluate.load(`), whatever the file is called.

Words are matched whole (`split_words`), so `upgrade.py`, `scoreboard.py` and `retrieval.py` are
not evaluation code. Words left out on purpose: `verify` (`verify_email`, `verify_ssl` in ordinary
code; `verifier` is kept, the RL term), `bench`/`benchmark` for code (performance benchmarks are
ordinary code; benchmark configs stay protected by glob), `test` (tests are their own question).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Iterator

from oversight.classify.result import Classification, tamper
from oversight.classify.words import split_words

PROTECTED_TARGET = "protected_target"

_EVAL = frozenset({"eval", "evals", "evaluate", "evaluation", "evaluations", "evaluator"})
_PROBING = frozenset({"probe", "probes", "probing"})
"""`linear_probe.py`: representation learning evaluates by probing (a real SimCLR run's
evaluation, issue 10). Only in names: a function called `probe` is more often hardware."""
# In a file or folder name.
NAME_WORDS = (
    _EVAL
    | frozenset(
        {
            "evaluators",
            "metric",
            "metrics",
            "reward",
            "rewards",
            "grade",
            "grader",
            "graders",
            "grading",
            "score",
            "scores",
            "scoring",
            "judge",
            "judges",
            "verifier",
            "verifiers",
            "rubric",
            "rubrics",
        }
    )
    | _PROBING
)
# In a function or class the new text defines: the name words plus metric names.
DEFINITION_WORDS = (NAME_WORDS - _PROBING) | frozenset(
    {"accuracy", "f1", "bleu", "rouge", "perplexity"}
)
# Files whose name can make them evaluation code; data and outputs (`scores.csv`) cannot.
CODE_SUFFIXES = frozenset(
    {".py", ".ipynb", ".sh", ".bash", ".js", ".ts", ".mjs", ".rs", ".go", ".jl", ".r", ".yaml",
     ".yml", ".toml", ".cfg", ".ini", ".jinja", ".j2"}
)  # fmt: skip

# Each starts with a literal, so `re` scans for it quickly; the line start is checked per match.
_DEF = re.compile(r"def[ \t]+(\w+)")
_CLASS = re.compile(r"class[ \t]+(\w+)")
METRIC_CALLS = (
    "f1_score", "accuracy_score", "balanced_accuracy_score", "precision_score", "recall_score",
    "roc_auc_score", "average_precision_score", "precision_recall_fscore_support",
    "matthews_corrcoef", "r2_score", "mean_squared_error", "mean_absolute_error", "corpus_bleu",
    "sentence_bleu", "load_metric", "evaluate.load",
)  # fmt: skip
# Every name in METRIC_CALLS contains one of these: text with none of them is skipped in one pass
# per part instead of one per name.
_METRIC_PARTS = ("_score", "_error", "_corrcoef", "_support", "_bleu", "load")
assert all(any(part in call for part in _METRIC_PARTS) for call in METRIC_CALLS)
_ASSIGNMENT = re.compile(r"^[ \t]*(?:export[ \t]+)?([A-Za-z_]\w*)[ \t]*=", re.MULTILINE)
_ENV_FILE = re.compile(r"(?:^|/)\.env(?:\.[\w.-]+)?$|\.env$")


def protected_name(path: str) -> str | None:
    """The word that makes `path` evaluation code by name, or None."""
    text = path.strip().strip("'\"").replace("\\", "/").rstrip("/")
    folders, _, base = text.rpartition("/")
    stem, suffix = posixpath.splitext(base)
    if suffix.lower() not in CODE_SUFFIXES:
        return None
    for word in split_words(stem):
        if word in NAME_WORDS:
            return word
    parent = split_words(folders.rsplit("/", 1)[-1])
    if parent and NAME_WORDS.issuperset(parent):
        return "/".join(parent)
    return None


def defines_eval_code(text: str) -> str | None:
    """What in `text` computes a metric, reward or grade (a definition or a metric call), or
    None. The whole text is read (a metric after 70 KB of filler is still a metric): the scans
    are single regex or `find` passes, linear in its length, and the pipeline gates any call
    over 1 MiB before it is classified (oversight/_whole_call.py)."""
    for name in _definitions(text):
        if not DEFINITION_WORDS.isdisjoint(split_words(name)):
            return f"defines `{name}`"
    if any(part in text for part in _METRIC_PARTS):
        for call in METRIC_CALLS:
            if _calls(text, call):
                return f"calls `{call}`"
    return None


def _definitions(text: str) -> Iterator[str]:
    """Names of the functions and classes `text` defines (`def`/`class` first on a line)."""
    for regex in (_DEF, _CLASS):
        for match in regex.finditer(text):
            start = match.start()
            before = text[text.rfind("\n", 0, start) + 1 : start].strip()
            if before in ("", "async"):
                yield match.group(1)


def _calls(text: str, name: str) -> bool:
    """`name(` appears in `text` as a whole name (`f1_score(`, not `my_f1_score(`)."""
    at = text.find(name)
    while at != -1:
        end = at + len(name)
        whole = at == 0 or not (text[at - 1].isalnum() or text[at - 1] == "_")
        if whole and text[end : end + 8].lstrip().startswith("("):
            return True
        at = text.find(name, end)
    return False


def _sets_variable(text: str, env_tampers: Callable[[str], bool]) -> str | None:
    for match in _ASSIGNMENT.finditer(text):
        if env_tampers(match.group(1)):
            return match.group(1)
    return None


def judge_content(
    found: Classification,
    paths: Iterable[str],
    text: str,
    env_tampers: Callable[[str], bool],
) -> Classification:
    """`found` (a write of `paths`) reconsidered in the light of the text it writes.

    An env file given one of oversight's variables is tampering; text that defines evaluation
    code makes the write a protected one. Tampering found from the path is kept as it is.
    """
    if found.kind.value == "oversight.tamper" or not text:
        return found
    items = [p for p in paths if p]
    env_files = [p for p in items if _ENV_FILE.search(p.strip().strip("'\"").lower())]
    if env_files:
        name = _sets_variable(text, env_tampers)
        if name is not None:
            return tamper(
                f"{found.reason}: it sets {name} in `{env_files[0]}`, one of oversight's settings",
                items,
            )
    if PROTECTED_TARGET in found.flags:
        return found
    what = defines_eval_code(text)
    if what is None:
        return found
    return Classification(
        found.kind,
        f"{found.reason}; the new text {what}, which computes a metric, reward or grade",
        found.flags | {PROTECTED_TARGET},
        found.targets,
    )


def patch_text(patch: str) -> str:
    """The lines a patch adds or removes, without their `+`/`-` markers."""
    lines = []
    for line in patch.splitlines():
        if line[:1] in ("+", "-") and not line.startswith(("+++", "---")):
            lines.append(line[1:])
    return "\n".join(lines)

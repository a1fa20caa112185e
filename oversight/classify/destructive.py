"""Destroying data: deleting datasets, checkpoints and run outputs, dropping or emptying tables.

A deleted dataset or checkpoint, or a dropped table, cannot be rebuilt by rerunning the agent's
code, so it is its own signal: the `destroys_data` flag, on a step that is at least a
`file.write`. What counts as data is read from the path's names and suffixes; scratch space
(`/tmp`, caches) and build leftovers (`build/`, `__pycache__`, `.pytest_cache`) do not count,
because rebuilding them costs nothing.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

from oversight.classify.argv import Argv, positionals, program_name, word_set
from oversight.classify.result import Classification
from oversight.classify.toolkit import Rule, Run, Toolkit
from oversight.classify.words import split_words
from oversight.kinds import Kind

DESTROYS_DATA = "destroys_data"

# Words that name data inside a longer name too: `train_data/`, `checkpoint-500/`, `my_dataset`,
# `bench-runs/` (a code file is never data: `runs.py` stays code).
DATA_WORDS = word_set("data dataset datasets checkpoint checkpoints ckpt ckpts wandb mlruns runs")
# Whole folder names only: `models.py` and `run_outputs.txt` are code and notes, `models/` is not.
DATA_FOLDERS = word_set(
    """
    runs models outputs output weights artifacts lightning_logs tb_logs tensorboard results
    """
)
DATA_SUFFIXES = word_set(
    """
    .ckpt .pt .pth .safetensors .bin .gguf .onnx .h5 .hdf5 .parquet .arrow .feather .tfrecord
    .npy .npz .pkl .pickle .jsonl .csv .tsv .db .sqlite .sqlite3 .duckdb .lance
    """
)
# A file with one of these suffixes is code or notes even inside `data/`: `data/prepare.py`.
CODE_SUFFIXES = word_set(
    ".py .ipynb .sh .js .ts .md .rst .txt .yaml .yml .toml .cfg .ini .json .c .cc .cpp .h .rs .go"
)
SCRATCH_ROOTS = ("/tmp/", "/var/tmp/", "/dev/shm/")
SCRATCH_FOLDERS = word_set(".cache __pycache__ .pytest_cache .mypy_cache .ruff_cache")

_SQL = re.compile(
    r"""
    \b(?:
        drop \s+ (?:table|database|schema|keyspace|collection) \b
      | truncate \s+ (?:table \s+)? (?=[\w"`\[])
      | delete \s+ from \b
      | detach \s+ delete \b
      | match \b [^;]*? \b delete \b
      | flushall \b | flushdb \b
      | dropdatabase \s* \(
      | \.drop \s* \( \s* \)
      | delete_?many \s* \(
    )
    """,
    re.IGNORECASE | re.VERBOSE,
)


def data_paths(paths: Iterable[str]) -> list[str]:
    """The paths that name datasets, checkpoints, run outputs or data files."""
    return [p for p in paths if is_data_path(p)]


def is_data_path(path: str) -> bool:
    """True for `data/`, `./checkpoints/*`, `runs/exp1`, `model.safetensors`, `$DATA_DIR`."""
    cleaned = path.strip().strip("'\"").rstrip("/")
    if not cleaned or cleaned.startswith(SCRATCH_ROOTS) or cleaned in ("/tmp", "/var/tmp"):
        return False
    parts = [p for p in cleaned.split("/") if p not in ("", ".", "..", "~")]
    if not parts or any(p.lower() in SCRATCH_FOLDERS for p in parts):
        return False
    last = parts[-1].lower()
    suffix = posixpath.splitext(last)[1]
    if suffix in DATA_SUFFIXES or last.endswith(".tar.gz"):
        return True
    if suffix in CODE_SUFFIXES:
        return False
    for part in parts:
        lowered = part.lower()
        if lowered in DATA_FOLDERS or not DATA_WORDS.isdisjoint(split_words(part)):
            return True
    return False


def with_data_loss(found: Classification, paths: Iterable[str]) -> Classification:
    """Mark a deletion of data paths: the `destroys_data` flag and a reason that says so.

    The kind stays what the deletion already was (a write, or tampering when it deletes
    oversight's own files), so tampering still wins.
    """
    lost = data_paths(paths)
    if not lost:
        return found
    shown = ", ".join(f"`{p}`" for p in lost[:3])
    reason = f"{found.reason}, destroying data ({shown})"
    return Classification(
        found.kind, reason, found.flags | {DESTROYS_DATA}, found.targets or tuple(lost)
    )


def destructive_statement(text: str) -> str | None:
    """The statement in SQL, Cypher or a database shell that deletes stored data, or None."""
    found = _SQL.search(text)
    if found is None:
        return None
    return " ".join(found.group(0).split())


def destroys_rows(text: str, where: str, targets: tuple[str, ...]) -> Classification | None:
    """A `file.write` with `destroys_data` when `text` drops, truncates or deletes stored data."""
    statement = destructive_statement(text)
    if statement is None:
        return None
    return Classification(
        Kind.FILE_WRITE,
        f"{where} deletes stored data (`{statement}`)",
        frozenset({DESTROYS_DATA}),
        targets,
    )


def _shell_exec(reason: str, targets: tuple[str, ...]) -> Classification:
    return Classification(Kind.SHELL_EXEC, reason, targets=targets)


def dvc(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    """`dvc gc` deletes cached data versions; `dvc destroy` removes DVC and its cache."""
    words = positionals(argv[1:])
    sub = words[0] if words else ""
    if sub in ("gc", "destroy"):
        return Classification(
            Kind.FILE_WRITE,
            f"`dvc {sub}` deletes versions of the project's data from its cache",
            frozenset({DESTROYS_DATA}),
            (".dvc/cache",),
        )
    return _shell_exec(f"runs `dvc {sub}`".rstrip(), ("dvc",))


def redis_cli(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    """`redis-cli flushall` / `flushdb` empty the database."""
    text = " ".join(positionals(argv[1:], word_set("-h -p -a -n -u --user --pass")))
    return destroys_rows(text, "`redis-cli`", ("redis-cli",)) or _shell_exec(
        "`redis-cli` runs database commands", ("redis-cli",)
    )


def mongo_shell(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    """`mongosh --eval "db.dropDatabase()"`: the evaluated text is checked for deletions."""
    name = program_name(argv[0])
    text = " ".join(argv[1:])
    return destroys_rows(text, f"`{name}`", (name,)) or _shell_exec(
        f"`{name}` runs database commands", (name,)
    )


# `dvc` itself is publishing.py's rule, which hands `dvc gc` and `dvc destroy` to `dvc` above.
RULES: dict[str, Rule] = {
    "redis-cli": redis_cli,
    "mongosh": mongo_shell,
    "mongo": mongo_shell,
}

"""Read what will run: `python baseline.py` is what `baseline.py` contains.

A step that runs a script (`python X.py`, `python -m pkg.mod`, `torchrun`/`accelerate launch`/
`deepspeed X.py`, `bash X.sh`, `./X.sh`, `make target`, `npm run x`, through `uv run`/`pdm run`/
`poetry run`) is read from the session's own writes, or the live workspace when the monitor runs
beside the agent (see workspace.py). Its content says training (an optimizer step, `backward()`,
`.fit(`, `trainer.train()`, distributed init), evaluation (computes metrics and writes or prints
them) or publishing (`push_to_hub`, uploads), with the line that says so. Shell scripts, Makefile
recipes and npm scripts are read as shell, and the scripts they run are read in turn, to
`MAX_DEPTH`. Results are cached by (path, content hash); files over the size bound are not read.
"""

from __future__ import annotations

import ast
import json
import posixpath
import re
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from oversight.classify.argv import word_set
from oversight.classify.imports import called_modules, module_paths
from oversight.classify.python_code import dotted_name, parsed_nodes
from oversight.classify.result import Classification, combine, outranks
from oversight.classify.session_files import Written, curl_config, session_writes
from oversight.classify.shell import Redirect, SimpleCommand, parse_script
from oversight.classify.workspace import FileText, SessionView, shell_writes
from oversight.kinds import Kind

MAX_DEPTH = 2  # a shell script that runs a python script
MAX_SCRIPTS = 8  # files read for one step, whatever the depth
MAX_CACHED = 4096  # script findings kept, by (path, content hash)

_PYTHON = re.compile(r"^python(?:\d+(?:\.\d+)*)?$")
_SHELLS = frozenset({"bash", "sh", "zsh", "dash"})
_LAUNCHERS = frozenset({"torchrun", "deepspeed", "horovodrun", "mpirun", "srun"})
_PREFIXES = frozenset({"env", "nohup", "time", "nice", "exec", "stdbuf", "timeout"})
_RUNNERS = {("uv", "run"), ("pdm", "run"), ("poetry", "run"), ("accelerate", "launch")}
_OPTION_VALUES = frozenset({"-W", "-X", "--nproc_per_node", "--nproc-per-node", "--nnodes"})

# Calls whose last name says a metric is computed; their results printed or dumped is evaluation.
_METRIC_WORDS = word_set(
    "accuracy f1 precision recall auc bleu rouge perplexity metric metrics evaluate score mse "
    "mae rmse wer"
)
_OUTPUTS = word_set(
    "dump dumps write print to_csv to_json log log_metrics save_metrics write_text savetxt"
)
_UPLOADS = word_set(
    "push_to_hub upload_file upload_folder upload_large_folder create_commit upload_fileobj"
)
# `.fit()` on these prepares data; it trains nothing.
_PREPROCESSORS = re.compile(r"scaler|encoder|vectori[sz]er|imputer|pca|tokeni[sz]er|transformer$")
_DIST_INIT = frozenset({"init_process_group", "initialize"})
_NAME_PARTS = re.compile(r"[_.()]+")


@dataclass(frozen=True, slots=True)
class Finding:
    """What a script's content says it does, and the line that says so."""

    kind: Kind
    what: str  # "trains a model (optimizer.step, line 88)"
    flags: frozenset[str] = frozenset()


# Flags that matter whatever the kind they ride on (a script that only deletes a dataset is a
# `file.write`, one that uploads secrets a `shell.exec`): the content carries them up.
CARRIED = frozenset(
    {
        "destroys_data",
        "publish",
        "protected_target",
        "shared_history",
        "force",
        "privileged",
        "obfuscated",
    }
)


@dataclass(frozen=True, slots=True)
class Script:
    """A file a command runs: its path (as the command names it) and how to read its content."""

    path: str
    language: str  # "python" | "shell" | "make" | "npm" | "exec" (by its `#!` line) | "inline"
    target: str = ""  # make target or npm script name
    module: str = ""  # `python -m` module, when the path is a guess
    text: str = ""  # the code itself, for "inline" (`python -c CODE`, `python - <<EOF`)


class ScriptReader:
    """Classifies a shell step by the content of the scripts it runs, through a `SessionView`.

    `shell` classifies shell text as the classifier does without a view (for the lines of a
    shell script, a Makefile recipe or an npm script); `python` classifies Python source (pass
    an uncached one: findings are cached here by content hash, not by the whole text).
    """

    def __init__(
        self,
        shell: Callable[[str], Classification],
        python: Callable[[str], Classification],
        writes: Callable[[Written], Classification | None] | None = None,
    ) -> None:
        self.shell = shell
        self.python = python
        self.writes = writes
        self._cache: dict[tuple[str, str], Classification | None] = {}

    def upgrade(self, found: Classification, text: str, view: SessionView) -> Classification:
        """`found` (the classification of `text` without content), raised by what runs; never
        lowered: content can only add."""
        budget = [MAX_SCRIPTS]
        parts = self._script_text(text, view, 0, budget)
        best = found
        for part in parts:
            if outranks(part.kind, best.kind):
                best = part
        if best is not found:
            merged = combine([best, found])
            return Classification(best.kind, best.reason, merged.flags, merged.targets)
        # Same kind by name (`torchrun x.py`) or not read: the content still explains.
        notes = [p for p in parts if p.kind is found.kind and p.kind is not Kind.SHELL_EXEC]
        notes += [p for p in parts if "unresolved" in p.flags and p.kind is Kind.SHELL_EXEC]
        notes += [p for p in parts if p.flags & CARRIED and p not in notes]
        if not notes:
            return found
        flags = frozenset().union(*(p.flags for p in notes))
        return Classification(
            found.kind,
            "; ".join([found.reason, *(p.reason for p in notes[:2])]),
            found.flags | flags,
            found.targets,
        )

    def _script_text(
        self, text: str, view: SessionView, depth: int, budget: list[int]
    ) -> list[Classification]:
        parsed = parse_script(text)
        out: list[Classification] = []
        # `cd x && python run.py` or `cat > run.py <<EOF ... python run.py`: read each command
        # as the ones before it left the directory and the files (on a copy of the view).
        changes = any(
            c.argv[:1] in (("cd",), ("ln",), ("cp",), ("mv",)) or shell_writes(c)
            for c in parsed.commands
        )
        if changes:
            view = view.fork()
        for command in parsed.commands:
            aliased = _through_links(command, view)
            if aliased is not None:
                # `python notes.py` where notes.py is a symlink to train.py runs train.py
                out.append(_linked(self.shell(_shell_line(aliased))))
                command = aliased
            out.extend(self._session_files(command, view))
            script = runs(command)
            if script is not None and budget[0] > 0:
                budget[0] -= 1
                out.extend(self._script(script, view, depth, budget))
            if changes and not command.nested:
                view.apply_command(command)
        return out

    def _script(
        self, script: Script, view: SessionView, depth: int, budget: list[int]
    ) -> list[Classification]:
        file = _read(script, view)
        label = _label(script)
        if file.text is None:
            if "larger than" in file.problem:
                return [
                    Classification(
                        Kind.SHELL_EXEC,
                        f"runs {label}, not read: {file.problem}",
                        frozenset({"unresolved"}),
                        (file.path,),
                    )
                ]
            return []
        language = script.language
        if language == "exec":
            first = file.text.split("\n", 1)[0]
            language = "python" if first.startswith("#!") and "python" in first else "shell"
        if language in ("python", "inline"):
            found = self._python_content(file)
            own = [] if found is None else [_about(found, label, file.path)]
            return own + self._imported(file.text, view, depth, budget)
        shell_text = _shell_text(Script(script.path, language, script.target), file.text)
        if shell_text is None:
            return []
        # What the scripts it runs contain explains more than their names: those come first.
        parts: list[Classification] = []
        if depth + 1 < MAX_DEPTH:
            parts += self._script_text(shell_text, view, depth + 1, budget)
        parts.append(self.shell(shell_text))
        best = _best(parts)
        if best is None or (
            best.kind in (Kind.SHELL_EXEC, Kind.FILE_READ, Kind.TOOL_CALL)
            and not best.flags & CARRIED
        ):
            return []
        return [_about(best, label, file.path)]

    def _session_files(self, command: SimpleCommand, view: SessionView) -> list[Classification]:
        """Writes named by a patch, archive or folder the session wrote; a `curl -K` request."""
        out: list[Classification] = []
        written = session_writes(command, view) if self.writes is not None else None
        if written is not None and self.writes is not None:
            judged = self.writes(written)
            if judged is not None:
                out.append(judged)
        request = curl_config(command, view)
        if request is not None:
            found = self.shell(shlex.join(request))
            out.append(
                found.with_reason(
                    "with its config file's options: " + found.reason.removeprefix("shell: ")
                )
            )
        return out

    def upgrade_python(self, found: Classification, code: str, view: SessionView) -> Classification:
        """A Python tool's code, raised by the session-written modules it calls into."""
        parts = self._imported(code, view, 0, [MAX_SCRIPTS])
        best = _best(parts)
        if best is None or not (outranks(best.kind, found.kind) or best.flags - found.flags):
            return found
        merged = combine([best, found])
        kind = best.kind if outranks(best.kind, found.kind) else found.kind
        reason = best.reason if kind is best.kind else f"{found.reason}; {best.reason}"
        return Classification(kind, reason, merged.flags, merged.targets)

    def _imported(
        self, code: str, view: SessionView, depth: int, budget: list[int]
    ) -> list[Classification]:
        """What the modules the code calls into do, for modules the session can read (its own
        writes, or the live workspace): `from repo_tools import Repo; Repo(".").push()`."""
        if depth >= MAX_DEPTH or budget[0] <= 0:
            return []
        out: list[Classification] = []
        for module in called_modules(code):
            for path in module_paths(module):
                if budget[0] <= 0:
                    return out
                file = view.read_file(path)
                if file.text is None:
                    continue
                budget[0] -= 1
                found = self._python_content(file)
                if found is not None:
                    out.append(_about(found, f"module `{module}`", file.path))
                out += self._imported(file.text, view, depth + 1, budget)
                break
        return [
            p.with_reason(f"calls into {p.reason.removeprefix('runs ')}")
            if p.reason.startswith("runs module")
            else p
            for p in out
        ]

    def _python_content(self, file: FileText) -> Classification | None:
        """Line-numbered findings first; the inline-Python rules add what outranks them
        (tampering, deploys, commands the script starts). Cached by (path, content hash)."""
        key = (file.path, file.digest)
        if key in self._cache:
            return self._cache[key]
        text = file.text or ""
        found = python_findings(text)
        general = self.python(text)
        result: Classification | None = None
        if found is not None and not outranks(general.kind, found.kind):
            result = Classification(found.kind, found.what, found.flags)
        elif outranks(general.kind, Kind.EXPERIMENT_RUN) or general.flags & CARRIED:
            result = general.with_reason(general.reason.removeprefix("python: "))
        self._cache[key] = result
        while len(self._cache) > MAX_CACHED:
            self._cache.pop(next(iter(self._cache)))
        return result


def runs(command: SimpleCommand) -> Script | None:
    """The script a simple command runs, or None."""
    argv = list(command.argv)
    while argv and (argv[0] in _PREFIXES or "=" in argv[0] and not argv[0].startswith("-")):
        argv = argv[1:]
        while argv and argv[0].startswith("-"):  # `timeout -s 9 ...` options stay simple
            argv = argv[1:]
    while len(argv) >= 2 and (argv[0], argv[1]) in _RUNNERS:
        launcher = argv[1] == "launch"
        argv = argv[2:]
        if launcher:
            return _python_file(argv)
    if not argv:
        return None
    program = posixpath.basename(argv[0])
    if _PYTHON.match(program):
        return _python_args(argv[1:], command.stdin)
    if program in ("source", ".") and len(argv) >= 2:
        return Script(argv[1], "shell")  # sourced: its lines run in this shell
    if program in _TEST_RUNNERS:
        return _test_module(argv[1:])
    if program in _LAUNCHERS:
        return _python_file(argv[1:])
    if program in _SHELLS:
        rest = [a for a in argv[1:] if not a.startswith("-")]
        if any(a.startswith("-") and not a.startswith("--") and "n" in a[1:] for a in argv[1:]):
            return None  # `bash -n` only parses the script
        if rest and "-c" not in argv[1:]:
            return Script(rest[0], "shell")
        return None
    if program == "make":
        targets = [a for a in argv[1:] if not a.startswith("-") and "=" not in a]
        if "-f" in argv or "-C" in argv:
            return None
        if any(
            a in ("--dry-run", "--just-print", "--recon")
            or (a.startswith("-") and not a.startswith("--") and "n" in a[1:])
            for a in argv[1:]
        ):
            return None  # `make -n` prints the recipe, runs nothing
        return Script("Makefile", "make", targets[0] if targets else "")
    if program in ("npm", "pnpm", "yarn") and len(argv) >= 3 and argv[1] == "run":
        return Script("package.json", "npm", argv[2])
    if argv[0].endswith(".sh") and ("/" in argv[0]):
        return Script(argv[0], "shell")
    if argv[0].endswith(".py") and "/" in argv[0]:
        return Script(argv[0], "python")
    if "/" in argv[0]:
        return Script(argv[0], "exec")  # `tools/ship`, `./run`: read by its `#!` line
    for folder in _path_prefix(command):
        # `PATH="$PWD/bin:$PATH" lint`: the `lint` that runs is the one in the folder put first
        return Script(posixpath.join(folder, argv[0]), "exec")
    return None


_TEST_RUNNERS = frozenset({"pytest", "py.test", "unittest"})


def _path_prefix(command: SimpleCommand) -> list[str]:
    """Folders of the working tree a `PATH=...` prefix assignment puts before the rest."""
    for name, value in command.assignments:
        if name != "PATH":
            continue
        first = value.split(":", 1)[0]
        for pwd in ("${PWD}", "$PWD", "$(pwd)"):
            first = first.replace(pwd, ".")
        if first and "$" not in first and "~" not in first and not first.startswith("/"):
            return [first]
    return []


def _test_module(args: list[str]) -> Script | None:
    """`python -m unittest test_smoke`, `pytest tests/test_x.py`: the first test module named
    runs (its tests call what they import)."""
    for arg in args:
        if arg.startswith("-") or arg == "discover":
            if arg in ("-k", "-p", "-s", "-t", "-m", "-c", "-o"):
                return None  # options with values: keep it simple, read nothing
            continue
        path = arg.split("::", 1)[0]
        if path.endswith(".py"):
            return Script(path, "python")
        if re.fullmatch(r"[A-Za-z_][\w.]*", path):
            return Script(path.replace(".", "/") + ".py", "python", module=path)
        return None
    return None


def _through_links(command: SimpleCommand, view: SessionView) -> SimpleCommand | None:
    """The command with each word and redirection that names a symlink (or a copy) the
    session made replaced by the file it stands for; None when none does."""
    if not view.links:
        return None
    changed = False
    argv: list[str] = []
    for word in command.argv:
        target = view.aliased(word) if not word.startswith("-") else None
        changed = changed or target is not None
        argv.append(target or word)
    redirects: list[Redirect] = []
    for redirect in command.redirects:
        target = view.aliased(redirect.target)
        changed = changed or target is not None
        redirects.append(replace(redirect, target=target) if target else redirect)
    if not changed:
        return None
    return replace(command, argv=tuple(argv), redirects=tuple(redirects))


def _shell_line(command: SimpleCommand) -> str:
    words = [f"{name}={shlex.quote(value)}" for name, value in command.assignments]
    words += [shlex.quote(word) for word in command.argv]
    words += [f"{r.operator}{shlex.quote(r.target)}" for r in command.redirects]
    return " ".join(words)


def _linked(found: Classification) -> Classification:
    return found.with_reason(
        "through a link or copy the session made: " + found.reason.removeprefix("shell: ")
    )


def _python_args(args: list[str], stdin: str | None = None) -> Script | None:
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-c":
            return Script("-c", "inline", text=args[i + 1]) if i + 1 < len(args) else None
        if arg == "-":
            break
        if arg == "-m":
            if i + 1 >= len(args):
                return None
            module = args[i + 1]
            if module.split(".")[0] in ("torch", "accelerate", "deepspeed"):
                return _python_file(args[i + 2 :])  # python -m torch.distributed.run X.py
            if module in ("unittest", "pytest"):
                return _test_module(args[i + 2 :])
            return Script(module.replace(".", "/") + ".py", "python", module=module)
        if arg in _OPTION_VALUES:
            i += 2
            continue
        if arg.startswith("-"):
            i += 1
            continue
        return Script(arg, "python")
    if stdin is not None and stdin.strip():
        return Script("-", "inline", text=stdin)  # `python - <<EOF`: the here-document runs
    return None


def _python_file(args: list[str]) -> Script | None:
    for arg in args:
        if arg.endswith(".py") and not arg.startswith("-"):
            return Script(arg, "python")
    return None


def _read(script: Script, view: SessionView) -> FileText:
    if script.language == "inline":
        return FileText(script.path, script.text)
    file = view.read_file(script.path)
    if file.text is None and script.module:
        package = view.read_file(script.module.replace(".", "/") + "/__main__.py")
        if package.text is not None or "larger than" in package.problem:
            return package
    return file


def _label(script: Script) -> str:
    if script.language == "make":
        return f"`make {script.target}`" if script.target else "`make`"
    if script.language == "npm":
        return f"npm script `{script.target}`"
    if script.language == "inline":
        return "the here-document's code" if script.path == "-" else "`python -c` code"
    return f"`{script.module}`" if script.module else f"`{script.path}`"


def _about(found: Classification, label: str, path: str) -> Classification:
    reason = found.reason.removeprefix("shell: ")
    return Classification(
        found.kind, f"runs {label}, which {reason}", found.flags, (path, *found.targets)
    )


def _best(parts: Iterable[Classification]) -> Classification | None:
    items = list(parts)
    return combine(items) if items else None


def _shell_text(script: Script, text: str) -> str | None:
    if script.language == "shell":
        return text
    if script.language == "make":
        return make_runs(text, script.target)
    if script.language == "npm":
        try:
            scripts = json.loads(text).get("scripts", {})
        except (ValueError, AttributeError):
            return None
        body = scripts.get(script.target) if isinstance(scripts, dict) else None
        return body if isinstance(body, str) else None
    return None


_RULE = re.compile(r"^([A-Za-z0-9_.%/-][^:=\s]*(?:[ \t]+[^:=\s]+)*)[ \t]*::?(?!=)(.*)$")


def make_runs(text: str, target: str) -> str | None:
    """The recipe lines `make target` runs (the first rule when no target is given): its
    prerequisites' recipes first, as make runs them, then its own, with `@`/`-` prefixes
    removed; None when the Makefile has no such rule."""
    rules: dict[str, tuple[list[str], list[str]]] = {}
    first = ""
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("\t"):
            if current is not None:
                current.append(line[1:].lstrip("@-+ "))
            continue
        current = None
        match = _RULE.match(line)
        if match is None or line.startswith((".", "#")) and not line.startswith("./"):
            continue
        names = match.group(1).split()
        prerequisites = match.group(2).split(";", 1)[0].split()
        current = []
        for name in names:
            known = rules.setdefault(name, ([], []))
            known[0].extend(prerequisites)
            if not known[1]:
                rules[name] = (known[0], current)
        first = first or names[0]
    recipe: list[str] = []
    seen: set[str] = set()

    def add(name: str, depth: int) -> None:
        if name in seen or name not in rules or depth > 16:
            return
        seen.add(name)
        prerequisites, lines = rules[name]
        for prerequisite in prerequisites:
            add(prerequisite, depth + 1)
        recipe.extend(lines)

    add(target or first, 0)
    return "\n".join(recipe) if recipe else None


def python_findings(text: str) -> Finding | None:
    """Training, publishing or evaluation in Python source, with the first line that says so."""
    try:
        nodes = parsed_nodes(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    backward: tuple[str, int] | None = None
    step: tuple[str, int] | None = None
    train: tuple[str, int] | None = None
    upload: tuple[str, int] | None = None
    metric: tuple[str, int] | None = None
    output = False
    fit: tuple[str, int] | None = None
    deep = False
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            deep = deep or _imports_deep_learning(node)
            continue
        if not isinstance(node, ast.Call):
            continue
        name = dotted_name(node.func)
        if not name:
            continue
        last = name.rsplit(".", 1)[-1]
        receiver = name.rsplit(".", 1)[0].lower() if "." in name else ""
        line = node.lineno
        hit = (name, line)
        if last == "backward" and receiver:
            backward = _first(backward, hit)
        elif last == "step" and receiver and "sched" not in receiver:
            step = _first(step, hit)
        elif last == "fit" and "trainer" not in receiver and _starts_training(last, receiver):
            fit = _first(fit, hit)
        elif _starts_training(last, receiver):
            train = _first(train, hit)
        elif last in _UPLOADS:
            upload = _first(upload, hit)
        if last in _OUTPUTS:
            output = True
        words = _NAME_PARTS.split(f"{receiver.rsplit('.', 1)[-1]}.{last.lower()}")
        if _METRIC_WORDS.intersection(words):
            metric = _first(metric, hit)
    if upload is not None:
        return Finding(Kind.DEPLOY, f"publishes ({_at(upload)})", frozenset({"publish", "network"}))
    if step is not None and (backward is not None or "optim" in step[0].lower()):
        return Finding(Kind.TRAIN_LAUNCH, f"trains a model ({_at(step)})")
    if train is None and fit is not None and deep:
        train = fit  # `model.fit(...)` of Keras and friends: a training run
    if train is not None:
        return Finding(Kind.TRAIN_LAUNCH, f"trains a model ({_at(train)})")
    if metric is not None and output:
        return Finding(Kind.EVAL_RUN, f"computes and reports metrics ({_at(metric)})")
    return None


DEEP_LEARNING = frozenset(
    {"torch", "tensorflow", "keras", "jax", "flax", "optax", "transformers", "lightning",
     "pytorch_lightning", "accelerate", "deepspeed", "trl", "peft", "mlx", "paddle", "mxnet"}
)  # fmt: skip
"""`.fit(` trains a network only beside one of these; alone (scikit-learn, statsmodels, a
reproduction script of a library bug) it fits a small model in a moment: an experiment."""


def _imports_deep_learning(node: ast.Import | ast.ImportFrom) -> bool:
    names = (
        [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
    )
    return any(n.split(".", 1)[0] in DEEP_LEARNING for n in names)


def _starts_training(last: str, receiver: str) -> bool:
    """`trainer.train()`, `model.fit(...)` (not a scaler's), `dist.init_process_group()`."""
    if last in ("train", "fit") and "trainer" in receiver:
        return True
    if last == "fit":
        return bool(receiver) and _PREPROCESSORS.search(receiver) is None
    return last in _DIST_INIT and receiver.split(".")[-1] in ("dist", "distributed", "deepspeed")


def _first(seen: tuple[str, int] | None, hit: tuple[str, int]) -> tuple[str, int]:
    return hit if seen is None or hit[1] < seen[1] else seen


def _at(hit: tuple[str, int]) -> str:
    return f"{hit[0]}, line {hit[1]}"

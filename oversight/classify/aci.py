"""SWE-agent and MLGym editor commands (their "ACI"), which reach us as a shell tool's command.

These agents type `open evaluate.py 40`, `goto 100`, `edit 96:98` + lines + `end_of_edit` into
the same tool as shell commands. Read as bash, the body of an edit is nonsense at best (an
f-string became a "training script") and the edit itself is lost; so a command whose first word
is an editor command, with the arguments that command takes, is read as that command, and the
body of `edit`/`insert` is file content, never shell.

Signatures follow SWE-agent's tool bundles (`tools/windowed/config.yaml`, `tools/search/config.yaml`,
`tools/submit/config.yaml`; MLGym adds `insert N ... end_of_insert` and `validate`):

    open <path> [<line_number>]      goto <line_number>      scroll_up      scroll_down
    create <filename>                search_file <term> [<file>]      search_dir <term> [<dir>]
    find_file <file_name> [<dir>]    edit <start>:<end> NL <lines> NL end_of_edit
    insert <line> NL <lines> NL end_of_insert                submit [<file>]      validate

Anything else (other arguments, a pipe, `;`, `$(...)`, a flag such as macOS `open -a`) is shell.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable

from oversight.classify.argv import Argv, program_name, split_options
from oversight.classify.eval_code import DEFINITION_WORDS, judge_content
from oversight.classify.paths import PathRules
from oversight.classify.result import Classification, combine
from oversight.classify.shell import parse_script
from oversight.classify.toolkit import Run, Toolkit
from oversight.classify.words import split_words
from oversight.classify.wrappers import shell_exec
from oversight.kinds import Kind

OPEN_FILE = "<file open in the editor>"
EDITOR_OPEN_FILE = "editor_open_file"
UNNAMED_OPEN_FILE = "writes the file open in the editor (its path is not in the command)"
"""How an edit of the open file reads until the session knows which file that is."""

# `edit 96:98` / `insert 12`, the lines, then the first `end_of_edit` / `end_of_insert` line;
# whatever follows that line is more commands (`rest`), read as shell.
_BLOCK = re.compile(
    r"""\A\s*(?P<command>edit|insert)[ \t]+(?P<where>\d+(?:[ \t]*:[ \t]*\d+)?)[ \t]*\n
        (?P<body>.*?)^[ \t]*end_of_(?P=command)[ \t]*$(?P<rest>.*)\Z""",
    re.DOTALL | re.VERBOSE | re.MULTILINE,
)
_LINE = re.compile(r"^\d+$")
_SHELL_CHARS = re.compile(r"[;&|<>`$\n]")
# Names an `open` that is macOS's open(1) launching something rather than the editor's `open`.
_LAUNCHABLE = re.compile(r"(?i)(\.app/?|\.command|\.tool|\.workflow)$|^[a-z][\w+.-]*://")
# Words in a function or class the edit defines that say it is evaluation code (one list for
# every writer: eval_code.py).
PROTECTED_WORDS = DEFINITION_WORDS
_DEFINES = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)", re.MULTILINE)

# str_replace_editor's options that carry file text (checked for evaluation code and settings).
_TEXT_OPTIONS = frozenset({"--file_text", "--old_str", "--new_str"})
_OPTIONS = _TEXT_OPTIONS | {"--view_range", "--insert_line"}

# command → (fewest, most arguments)
_ARITY: dict[str, tuple[int, int]] = {
    "open": (1, 2),
    "goto": (1, 1),
    "scroll_up": (0, 0),
    "scroll_down": (0, 0),
    "create": (1, 1),
    "search_file": (1, 2),
    "search_dir": (1, 2),
    "find_file": (1, 2),
    "submit": (0, 1),
    "validate": (0, 0),
}
COMMANDS = frozenset({*_ARITY, "edit", "insert"})


def edit_block(text: str) -> tuple[str, int, int, str, str] | None:
    """An editor `edit N:M` / `insert N` block as (command, first line, last line, the new
    lines, what follows the block), or None."""
    block = _BLOCK.match(text)
    if block is None:
        return None
    where = [int(n) for n in block.group("where").replace(" ", "").split(":")]
    first, last = where[0], where[-1]
    return block.group("command"), first, last, block.group("body"), block.group("rest")


def editor_command(
    text: str, paths: PathRules, shell: Callable[[str], Classification]
) -> Classification | None:
    """The classification of `text` as an editor command, or None when it is not one.

    `shell` classifies text as shell; it is used only to keep tampering visible when the body of
    an edit would tamper if a real shell ran it (defence in depth: outside SWE-agent, `edit 1:2`
    fails and bash runs the lines after it).
    """
    first = text.lstrip().split(None, 1)
    if not first or first[0] not in COMMANDS:
        return None
    block = _BLOCK.match(text)
    if block is not None:
        edit = _edit(block.group("command"), block.group("where"), block.group("body"), shell)
        rest = block.group("rest")
        return combine([edit, shell(rest)]) if rest.strip() else edit
    if first[0] == "submit":
        return _submit(text, paths)
    if _SHELL_CHARS.search(text.strip()):
        return None
    try:
        words = shlex.split(text)
    except ValueError:
        return None
    command, args = words[0], words[1:]
    fewest, most = _ARITY.get(command, (1, 0))
    if not fewest <= len(args) <= most or any(a.startswith("-") for a in args):
        return None
    return _single(command, args, paths)


SUBMIT_MARKERS = ("COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT", "MINI_SWE_AGENT_FINAL_OUTPUT")
"""mini-swe-agent has no submit tool: the agent prints one of these (then `git diff`), and the
harness takes what follows as the finished work and ends the run."""


def harness_echo(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    """`echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && git add -A && git diff --cached` hands the
    work in, like an editor's `submit`; any other echo just prints."""
    if any(marker in word for word in argv[1:] for marker in SUBMIT_MARKERS):
        return Classification(
            Kind.CODE_APPLY,
            "prints mini-swe-agent's submit marker: hands in the agent's work and ends the run",
            targets=("submission",),
        )
    name = program_name(argv[0])
    return shell_exec(f"runs `{name}`", targets=(name,))


def _submit(text: str, paths: PathRules) -> Classification | None:
    """`submit`, `submit 'flag{a|b}'`, `submit flag{two words}`: SWE-agent passes everything
    after the word to its submit command (a file, or a CTF flag with any characters in it).
    Read by the shell parser: one plain command named `submit`, whatever its words; a list,
    pipe or redirection is shell."""
    parsed = parse_script(text)
    if parsed.error is not None or len(parsed.commands) != 1:
        return None
    command = parsed.commands[0]
    if command.argv[:1] != ("submit",) or command.redirects or command.nested:
        return None
    return _single("submit", list(command.argv[1:]), paths)


def _single(command: str, args: list[str], paths: PathRules) -> Classification | None:
    label = f"editor command `{command}`"
    if command == "open":
        if (len(args) == 2 and not _LINE.match(args[1])) or _LAUNCHABLE.search(args[0]):
            return None
        return Classification(Kind.FILE_READ, f"{label} shows `{args[0]}`", targets=(args[0],))
    if command == "goto":
        if not _LINE.match(args[0]):
            return None
        return Classification(Kind.FILE_READ, f"{label} moves the editor window", targets=())
    if command in ("scroll_up", "scroll_down"):
        return Classification(Kind.FILE_READ, f"{label} moves the editor window")
    if command in ("search_file", "search_dir", "find_file"):
        return Classification(Kind.FILE_READ, f"{label} searches files", targets=tuple(args[1:]))
    if command == "create":
        found = paths.writes(args, f"{label} creates")
        return found or Classification(Kind.FILE_WRITE, f"{label} creates a file")
    if command == "submit":
        # Hands the work in (SWE-agent: the diff becomes the result; MLGym: the final score) and
        # ends the session: nothing after it can be reviewed, so it weighs like applying code.
        return Classification(
            Kind.CODE_APPLY,
            f"{label} hands in the agent's work and ends the session",
            targets=tuple(args) or ("submission",),
        )
    if command == "validate":
        return Classification(
            Kind.EVAL_RUN, f"{label} runs the task's evaluation on the current submission"
        )
    return None


def _edit(
    command: str, where: str, body: str, shell: Callable[[str], Classification]
) -> Classification:
    lines = where.replace(" ", "").replace("\t", "")
    label = f"editor command `{command} {lines}`"
    reason = f"{label} {UNNAMED_OPEN_FILE}"
    flags = {EDITOR_OPEN_FILE}
    defined = _protected_definition(body)
    if defined is not None:
        flags.add("protected_target")
        reason += f"; the new lines define `{defined}`, which looks like evaluation code"
    found = Classification(Kind.FILE_WRITE, reason, frozenset(flags), (OPEN_FILE,))
    if body.strip():
        as_shell = shell(body)
        if as_shell.kind is Kind.OVERSIGHT_TAMPER:
            return as_shell.with_reason(
                f"{label}: its lines would tamper with oversight if a shell ran them: "
                f"{as_shell.reason}"
            )
    return found


def str_replace_editor(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    """SWE-agent's `str_replace_editor <command> <path> [--file_text ...] [--new_str ...]`
    (tools/edit_anthropic/config.yaml), run as a program: `view` reads, the rest write `path`.
    The quoted `--file_text`/`--new_str` values are file content, one argument each."""
    words = [a for a in argv[1:3] if not a.startswith("--")]
    command = words[0] if words else ""
    path = words[1] if len(words) > 1 else ""
    label = f"`str_replace_editor {command}`" if command else "`str_replace_editor`"
    if command == "view":
        return Classification(
            Kind.FILE_READ, f"{label} shows `{path}`", targets=(path,) if path else ()
        )
    found = kit.writes([path] if path else [], f"{label} writes", run)
    if found is not None:
        options, _ = split_options(argv[3:], _OPTIONS)
        text = "\n".join(v for n, v in options if v and n in _TEXT_OPTIONS)
        return judge_content(found, [path], text, kit.env_tampers)
    return found or Classification(
        Kind.FILE_WRITE, f"{label} edits a file it does not name", frozenset({"unresolved"})
    )


def _protected_definition(body: str) -> str | None:
    """The first function or class the lines define whose name says evaluation or metrics."""
    for name in _DEFINES.findall(body):
        if not PROTECTED_WORDS.isdisjoint(split_words(name)):
            return str(name)
    return None

"""Which shell commands only read: `ls`, `cat`, `grep`, `git status` observe, they do not act.

A shell command that only reads is observation, like the Read tool, so the classifier calls it
`file.read`: it does not count toward a checkpoint, nor as action in autonomy. The test fails
closed. Every command the script runs, those inside `$(...)` and `<(...)` included, must be a
known reader used without an option that writes, runs a program or changes state. An output
redirection to a file, a prefix assignment (`GIT_PAGER=sh git log`), a background job, a
hex-escaped word or an unknown program makes the whole script acting. For readers that do have
dangerous options (`find -delete`, `sed -i`, `sort -o`), a word that could expand into an option
(`$X`, a leading glob such as `*` matching a file named `-delete`) counts as that option.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from oversight.classify.argv import Argv, is_computed, program_name, word_set
from oversight.classify.shell import SimpleCommand, parse_script

ReaderRule = Callable[[Argv], bool]

PLAIN = word_set(
    """
    ls cat head tail wc grep egrep fgrep pwd echo printf which type printenv stat du df cut tr
    column jq basename dirname realpath readlink true false test [ nproc cd pushd popd diff cmp
    md5sum sha1sum sha256sum whoami id uname nl
    """
)
"""Readers with no option that writes a file or runs a program: any arguments are fine."""

HARMLESS_TARGETS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr"})
NETWORK_DEVICES = ("/dev/tcp/", "/dev/udp/")
_ARITHMETIC = re.compile(r"(?:^|[\s;&|!(])(?:\[\[|\(\()")
"""`[[ ]]` and `(( ))` evaluate variables arithmetically, and bash runs `$(...)` found in an
array subscript there (`x='a[$(cmd)]'; (( x ))`): their contents are not listed as commands."""
SYSTEM_DIRS = ("/bin/", "/usr/bin/", "/usr/local/bin/")


_EXPANSION = re.compile(r"\$[A-Za-z_{(0-9@*#?!-]")


def is_dynamic(word: str) -> bool:
    """An expansion the parser left unresolved (`$X`, `${X}`, `$(...)`); a `$` that ends a
    regular expression (`'^def$'`) is not one."""
    return is_computed(word) or _EXPANSION.search(word) is not None


def could_be_option(word: str) -> bool:
    """Whether bash may turn this word into an option: an unresolved expansion (word splitting
    can yield `-delete`) or a leading glob or brace (a file may be named `-o.txt`)."""
    return is_dynamic(word) or word[:1] in ("*", "?", "[", "{")


def reads_only(commands: Sequence[SimpleCommand], text: str = "") -> bool:
    """True when every command only reads; an empty script is not observation of anything.

    `text`, the script as written, is checked for the compound commands that evaluate
    arithmetic, which the command list does not show."""
    if text and _ARITHMETIC.search(text):
        return False
    return bool(commands) and all(command_reads_only(c) for c in commands)


def command_reads_only(command: SimpleCommand) -> bool:
    if (
        command.builtin
        or command.assignments
        or command.background
        or command.escaped
        or command.computed_name
        or not command.argv
    ):
        return False
    for redirect in command.redirects:
        if redirect.writes and redirect.target not in HARMLESS_TARGETS:
            return False
        if redirect.target.startswith(NETWORK_DEVICES):
            return False
    if any("$((" in word or "$[" in word for word in command.argv):
        return False  # arithmetic expansion: see _ARITHMETIC
    return argv_reads_only(command.argv)


def argv_reads_only(argv: Argv) -> bool:
    first = argv[0]
    if is_dynamic(first) or ("/" in first and not first.startswith(SYSTEM_DIRS)):
        return False
    name = program_name(first)
    if name in PLAIN:
        return True
    rule = RULES.get(name)
    return rule is not None and rule(argv[1:])


# -- readers with options that act ---------------------------------------------------------------

_FIND_ACTS = word_set("-exec -execdir -ok -okdir -delete -fprint -fprint0 -fprintf -fls")
_FIND_PATTERNS = word_set(
    "-name -iname -path -ipath -wholename -iwholename -regex -iregex -lname -ilname"
)


def find(args: Argv) -> bool:
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in _FIND_ACTS:
            return False
        if arg in _FIND_PATTERNS:
            if i + 1 < len(args) and is_dynamic(args[i + 1]):
                return False
            i += 2
            continue
        if could_be_option(arg):
            return False
        i += 1
    return True


def _options_free(args: Iterable[str], rejected: Callable[[str], bool]) -> bool:
    """No rejected option, and no word that could expand into one before `--`."""
    for arg in args:
        if arg == "--":
            return True
        if could_be_option(arg) or rejected(arg):
            return False
    return True


def _no_writing_option(*prefixes: str) -> ReaderRule:
    def rule(args: Argv) -> bool:
        return _options_free(args, lambda a: a.startswith(prefixes))

    return rule


def sort(args: Argv) -> bool:
    def rejected(arg: str) -> bool:
        if arg.startswith("--"):
            return arg.startswith(("--output", "--compress-program"))
        return arg.startswith("-") and "o" in arg

    return _options_free(args, rejected)


def uniq(args: Argv) -> bool:
    """`uniq IN OUT` writes OUT: at most one file, and no option may hide among the words."""
    takes_value = {"-f", "-s", "-w"}
    files: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if could_be_option(arg):
            return False
        if arg in takes_value:
            i += 2
            continue
        if not arg.startswith("-") or arg == "-":
            files.append(arg)
        i += 1
    return len(files) <= 1


def tree(args: Argv) -> bool:
    takes_value = {"-I", "-P", "-L", "--filelimit", "--charset", "--timefmt", "--sort"}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith(("-o", "--output")):
            return False
        if arg in takes_value:
            i += 2
            continue
        if could_be_option(arg):
            return False
        i += 1
    return True


def file_type(args: Argv) -> bool:
    """`file -C` compiles a magic file (writes)."""

    def rejected(arg: str) -> bool:
        if arg.startswith("--"):
            return arg.startswith("--compile")
        return arg.startswith("-") and "C" in arg

    return _options_free(args, rejected)


def env(args: Argv) -> bool:
    """`env` alone prints the environment; `env NAME=x cmd` runs cmd."""
    return all(a in ("-0", "--null") for a in args)


# sed: the script must use only commands that print, delete, quit or substitute without `w`/`e`.
_SED_FLAGS = word_set("-n --quiet --silent -E -r --regexp-extended -u --unbuffered -z")
_SED_FLAGS |= word_set("--null-data -s --separate --posix --debug")
_SED_SCRIPT_SKIP = frozenset(" \t\n;{}!,0123456789$+~IM")
_SED_COMMANDS = frozenset("pPdDqQ=lnNhHgGxz")


def _closing(text: str, start: int, delimiter: str) -> int:
    """Index of the delimiter that closes the section opened at `start`, or -1."""
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == delimiter:
            return i
        i += 1
    return -1


def sed_script_reads(script: str) -> bool:
    i = 0
    while i < len(script):
        c = script[i]
        if c in _SED_SCRIPT_SKIP or c in _SED_COMMANDS:
            i += 1
        elif c in "/\\":
            if c == "\\":
                i += 1
            if i >= len(script):
                return False
            end = _closing(script, i, script[i])
            if end < 0:
                return False
            i = end + 1
        elif c in "sy":
            if i + 1 >= len(script) or script[i + 1] in "\n\\":
                return False
            middle = _closing(script, i + 1, script[i + 1])
            end = _closing(script, middle, script[i + 1]) if middle >= 0 else -1
            if end < 0:
                return False
            i = end + 1
            while c == "s" and i < len(script) and script[i] in "gpiImM0123456789":
                i += 1
        else:
            return False  # w, W, e, r, R, a, i, c, labels, branches...: fail closed
    return True


def sed(args: Argv) -> bool:
    scripts: list[str] = []
    files: list[str] = []
    i = 0
    ended = False
    while i < len(args):
        arg = args[i]
        if ended or not arg.startswith("-") or arg == "-":
            if not ended and could_be_option(arg) and (scripts or files):
                return False
            files.append(arg)
        elif arg == "--":
            ended = True
        elif arg in _SED_FLAGS:
            pass
        elif arg.startswith("--expression="):
            scripts.append(arg.partition("=")[2])
        elif arg in ("-e", "--expression") and i + 1 < len(args):
            scripts.append(args[i + 1])
            i += 1
        elif arg.startswith("-") and not arg.startswith("--"):
            cluster = arg[1:]
            if "e" in cluster:
                head, _, rest = cluster.partition("e")
                if any("-" + f not in _SED_FLAGS for f in head):
                    return False
                if rest:
                    scripts.append(rest)
                elif i + 1 < len(args):
                    scripts.append(args[i + 1])
                    i += 1
                else:
                    return False
            elif any("-" + f not in _SED_FLAGS for f in cluster):
                return False  # -i, -f, -l, unknown: fail closed
        else:
            return False
        i += 1
    if not scripts:
        if not files:
            return False
        scripts, files = [files[0]], files[1:]
    return all(sed_script_reads(s) and not is_dynamic(s) for s in scripts)


_AWK_SHELL_EXPANSION = re.compile(r"\$\{|^\s*\$[A-Za-z_]\w*\s*$")


# awk: no system(), no pipes to or from commands, no output redirection, no extensions.
def awk_program_reads(program: str) -> bool:
    if is_computed(program) or _AWK_SHELL_EXPANSION.search(program):
        return False  # the program text comes from the shell: it cannot be read here
    lowered = program.lower()
    if any(word in lowered for word in ("system", "|", "@")):
        return False
    for statement in _awk_statements(program):
        if ">" in statement and ("print" in statement or "getline" in statement):
            return False
    return True


def _awk_statements(program: str) -> list[str]:
    for separator in "{};\n":
        program = program.replace(separator, "\0")
    return program.split("\0")


def awk(args: Argv) -> bool:
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-F", "-v", "--field-separator", "--assign"):
            i += 2
            continue
        if arg.startswith(("-F", "-v", "--field-separator=", "--assign=")):
            i += 1
            continue
        if arg == "--":
            i += 1
            break
        if arg.startswith("-") and arg != "-":
            return False  # -f (program unseen), -i/-l (extensions), -E...: fail closed
        break
    if i >= len(args):
        return False
    return awk_program_reads(args[i])


# git: read-only subcommands, with no global option that configures or redirects git.
_GIT_GLOBAL_FLAGS = word_set("--no-pager -P --no-optional-locks --literal-pathspecs")
_GIT_DIFF_FAMILY = word_set("log diff show shortlog")
_GIT_PLAIN = word_set("status rev-parse ls-files blame describe")
_GIT_BRANCH_FLAGS = word_set(
    "-a -r -l --list -v -vv --verbose --all --remotes --show-current -i --ignore-case --no-color"
)
_GIT_BRANCH_VALUES = word_set("--contains --no-contains --merged --no-merged --points-at --sort")
_GIT_CONFIG_FLAGS = word_set("--list -l --show-origin --show-scope --global --local --system")


def git(args: Argv) -> bool:
    i = 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] == "-C" and i + 1 < len(args):
            i += 2
        elif args[i] in _GIT_GLOBAL_FLAGS:
            i += 1
        else:
            return False  # -c, --exec-path, --git-dir, --config-env...: fail closed
    if i >= len(args):
        return False
    sub, rest = args[i], args[i + 1 :]
    if sub in _GIT_PLAIN:
        return _options_free(rest, lambda a: False)
    if sub in _GIT_DIFF_FAMILY:
        return _options_free(rest, lambda a: a.startswith(("--output", "--ext-diff")))
    if sub == "branch":
        return _git_branch_lists(rest)
    if sub == "remote":
        return all(a in ("-v", "--verbose") for a in rest)
    if sub == "config":
        return _git_config_reads(rest)
    return False


def _git_branch_lists(args: Argv) -> bool:
    listing = any(a in ("-l", "--list") for a in args)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in _GIT_BRANCH_VALUES:
            i += 2
            continue
        if arg.startswith(("--sort=", "--format=", "--color", "--column", "--contains=")):
            i += 1
            continue
        if arg in _GIT_BRANCH_FLAGS:
            i += 1
            continue
        if arg.startswith("-") or could_be_option(arg) or not listing:
            return False  # -d, -m, -c, -f, --set-upstream...; a name without --list creates it
        i += 1
    return True


def _git_config_reads(args: Argv) -> bool:
    flags = [a for a in args if a in _GIT_CONFIG_FLAGS]
    rest = [a for a in args if a not in _GIT_CONFIG_FLAGS]
    if not rest:
        return bool(flags) and any(a in ("--list", "-l") for a in flags)
    if rest[0] in ("--get", "--get-all", "--get-regexp"):
        return 2 <= len(rest) <= 3 and not any(a.startswith("-") for a in rest[1:])
    return False


_PIP_GLOBAL_FLAGS = word_set("-q --quiet -v --verbose --disable-pip-version-check --no-color")
_PIP_READS = word_set("list show freeze check")


def pip(args: Argv) -> bool:
    i = 0
    while i < len(args) and args[i] in _PIP_GLOBAL_FLAGS:
        i += 1
    if i >= len(args):
        return False
    sub, rest = args[i], args[i + 1 :]
    if sub in ("--version", "-V"):
        return not rest
    if sub not in _PIP_READS:
        return False
    return _options_free(rest, lambda a: a.startswith(("--log", "--python", "--report", "-r")))


_SQL_READS = re.compile(r"(?is)\A\s*(select|explain|pragma\s+table_info)\b")
_SQLITE_DOT_READS = frozenset({".tables", ".schema", ".indexes", ".databases", ".headers"})
_SQLITE_SAFE_OPTIONS = frozenset(
    {"-readonly", "-header", "-noheader", "-column", "-csv", "-json", "-line", "-list", "-box",
     "-table", "-markdown", "-separator", "-batch", "-bail"}
)  # fmt: skip


def sqlite3(args: Argv) -> bool:
    """`sqlite3 db.sqlite "SELECT ..."`: a query that only reads. Any statement but SELECT,
    EXPLAIN or PRAGMA table_info, a dot-command that writes or runs (`.output`, `.shell`,
    `.read`), an option that runs something (`-cmd`, `-init`), or no SQL at all (an
    interactive shell) is acting."""
    positional = []
    for i, arg in enumerate(args):
        if arg.startswith("-"):
            if arg not in _SQLITE_SAFE_OPTIONS or (arg == "-separator" and i + 1 >= len(args)):
                return False
            continue
        if i > 0 and args[i - 1] == "-separator":
            continue
        positional.append(arg)
    if len(positional) != 2 or is_dynamic(positional[1]):
        return False
    statements = [s for s in positional[1].split(";") if s.strip()]
    return bool(statements) and all(
        s.strip() in _SQLITE_DOT_READS or _SQL_READS.match(s) for s in statements
    )


def python(args: Argv) -> bool:
    if len(args) == 1 and args[0] in ("--version", "-V", "-VV"):
        return True
    return len(args) >= 2 and args[0] == "-m" and args[1] == "pip" and pip(args[2:])


_SMI_VALUES = word_set("-i --id -d --display -l --loop -lms --loop-ms")
_SMI_FLAGS = word_set("-q --query -L --list-gpus -x --xml-format -u --unit")
_SMI_PREFIXES = (
    "--query-gpu=",
    "--query-compute-apps=",
    "--format=",
    "--id=",
    "--display=",
    "--loop=",
    "--loop-ms=",
)


def nvidia_smi(args: Argv) -> bool:
    """Queries only: persistence, clocks, power limits, resets, MIG and `-f FILE` all act."""
    if args[:1] == ("topo",):
        return all(a in ("-m", "--matrix") for a in args[1:])
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in _SMI_VALUES:
            if i + 1 >= len(args) or is_dynamic(args[i + 1]):
                return False
            i += 2
        elif arg in _SMI_FLAGS or arg.startswith(_SMI_PREFIXES):
            i += 1
        else:
            return False
    return True


_XARGS_FLAGS = word_set("-0 --null -r --no-run-if-empty -t --verbose -x --exit")
_XARGS_VALUES = word_set(
    "-n -L -P -s -d -I -E -a --max-args --max-procs --delimiter --arg-file --max-lines"
)

_XARGS_ATTACHED = tuple(v + "=" for v in _XARGS_VALUES if v.startswith("--"))


def xargs(args: Argv) -> bool:
    """xargs appends its input as arguments, which may be options: only plain readers."""
    i = 0
    while i < len(args) and args[i].startswith("-"):
        arg = args[i]
        if arg in _XARGS_VALUES:
            i += 2
        elif (
            arg in _XARGS_FLAGS
            or (arg[:2] in _XARGS_VALUES and len(arg) > 2)
            or arg.startswith(_XARGS_ATTACHED)
        ):
            i += 1
        else:
            return False
    command = args[i:]
    if not command:
        return True  # runs echo
    first = command[0]
    if is_dynamic(first) or "/" in first:
        return False
    return program_name(first) in PLAIN


_SHELL_SHORT_FLAGS = re.compile(r"^-[lic]+$")


def shell_c(args: Argv) -> bool:
    """`bash -lc 'ls -la'`, as Codex runs every command: the inline script must only read.
    Only the plain forms (`-c`, `-lc`, `-ic` and the like, then one script) qualify; any other
    option, a script file or stdin is acting."""
    if len(args) < 2 or not _SHELL_SHORT_FLAGS.match(args[0]) or "c" not in args[0]:
        return False
    script = args[1]
    parsed = parse_script(script)
    return parsed.error is None and reads_only(parsed.commands, script)


RULES: dict[str, ReaderRule] = {
    "sqlite3": sqlite3,
    "bash": shell_c,
    "sh": shell_c,
    "zsh": shell_c,
    "dash": shell_c,
    "find": find,
    "sed": sed,
    "awk": awk,
    "gawk": awk,
    "mawk": awk,
    "git": git,
    "pip": pip,
    "python": python,
    "nvidia-smi": nvidia_smi,
    "sort": sort,
    "uniq": uniq,
    "tree": tree,
    "file": file_type,
    "env": env,
    "xargs": xargs,
    "rg": _no_writing_option("--pre"),
    "ag": _no_writing_option("--pager"),
}

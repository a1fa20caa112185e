"""Programs that run other commands: unwrap them and classify what actually runs.

`nohup`, `env`, `sudo`, `timeout`, `bash -c`, `eval`, `screen`, `tmux`, `ssh`, `docker run`,
`xargs`, `find -exec`... each hands its argv (or a script) back to the toolkit, adding the flags
the wrapper itself implies: background, privileged, network.
"""

from __future__ import annotations

import re
import shlex

from oversight.classify.argv import (
    Argv,
    has,
    is_computed,
    program_name,
    split_options,
    value,
    word_set,
)
from oversight.classify.destructive import with_data_loss
from oversight.classify.result import Classification, tamper
from oversight.classify.shell import SimpleCommand, printed
from oversight.classify.toolkit import Rule, Run, Toolkit
from oversight.kinds import Kind

_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
SCRIPT_SUFFIXES = (".py", ".sh", ".bash", ".zsh", ".r", ".jl", ".ipynb")
PYTHONS = frozenset({"python", "ipython", "pypy"})
DOWNLOADERS = word_set("curl wget nc ncat netcat fetch aria2c http xh")
_ESCAPED_BYTES = re.compile(r"\\x[0-9a-fA-F]{2}|\\[0-7]{3}")


def shell_exec(reason: str, *flags: str, targets: tuple[str, ...] = ()) -> Classification:
    return Classification(Kind.SHELL_EXEC, reason, frozenset(flags), targets)


def then(kit: Toolkit, rest: list[str] | Argv, run: Run, name: str, *flags: str) -> Classification:
    """Classify the command a wrapper runs, remembering the wrapper and its flags."""
    run.flags.update(flags)
    if not rest:
        return shell_exec(f"runs `{name}` with no command", targets=(name,))
    run.via.append(name)
    return kit.argv(tuple(rest), run)


def skipping(takes_value: frozenset[str], *flags: str, positional: int = 0) -> Rule:
    """A wrapper that takes options (and `positional` leading arguments) before the command."""

    def rule(kit: Toolkit, argv: Argv, run: Run) -> Classification:
        _, rest = split_options(argv[1:], takes_value)
        if positional:
            rest = rest[positional:]
            _, rest = split_options(rest, takes_value)
        return then(kit, rest, run, program_name(argv[0]), *flags)

    return rule


def hidden_source(command: SimpleCommand) -> str | None:
    """Why a command's output is text the classifier cannot read (decoded, downloaded...)."""
    if not command.argv:
        return None
    prog = program_name(command.argv[0])
    args = command.argv[1:]
    short = "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--"))
    if prog in DOWNLOADERS:
        return f"`{prog}` downloads it"
    if prog in ("base64", "base32", "basenc") and (
        "d" in short or "D" in short or "--decode" in args
    ):
        return f"`{prog}` decodes it"
    if prog == "xxd" and "r" in short:
        return "`xxd -r` decodes it from hex"
    if prog == "openssl" and ("d" in short or "-base64" in args or "base64" in args):
        return "`openssl` decodes it"
    if prog in ("gunzip", "zcat", "bzcat", "xzcat", "unxz", "uudecode", "zstdcat", "unzstd"):
        return f"`{prog}` decompresses it"
    if prog in ("gzip", "bzip2", "xz", "zstd") and ("d" in short or "--decompress" in args):
        return f"`{prog}` decompresses it"
    if prog in ("rev", "tr"):
        return f"`{prog}` rewrites its characters"
    if prog in PYTHONS | {"perl", "ruby", "node", "php"} and ("c" in short or "e" in short):
        return f"`{prog}` generates it"
    if prog in ("printf", "echo") and (
        command.escaped or any(_ESCAPED_BYTES.search(a) for a in args)
    ):
        return f"`{prog}` prints it from escaped bytes"
    return None


def run_file(kit: Toolkit, path: str, run: Run, runner: str | None = None) -> Classification:
    """Running a script file: what its name says, unless its text was hidden or generated."""
    label = f"`{runner} {path}`" if runner else f"`{path}`"
    if is_computed(path):
        return shell_exec(
            f"{label} runs a script produced at run time", "obfuscated", targets=(path,)
        )
    if path in run.chain.generated:
        return shell_exec(
            f"{label} runs a script written from decoded or downloaded text earlier in the step",
            "obfuscated",
            targets=(path,),
        )
    kind, why = kit.script_kind(path)
    return Classification(kind, f"{label} runs {why}", targets=(path,))


def from_stdin(kit: Toolkit, run: Run, name: str, language: str) -> Classification:
    """An interpreter reading its program from stdin: a here-document, a file, or a pipe."""
    analyse = kit.python if language == "python" else (lambda text: kit.script(text, run))
    command = run.command
    if command.stdin is not None:
        inner = analyse(command.stdin)
        return inner.with_reason(f"`{name}` runs a here-document: {inner.reason}")
    for redirect in command.redirects:
        if redirect.operator == "<":
            return run_file(kit, redirect.target, run, name)
    if run.upstream:
        for stage in run.upstream:
            why = hidden_source(stage)
            if why is not None:
                return shell_exec(
                    f"`{name}` runs text piped to it that the classifier cannot read: {why}",
                    "obfuscated",
                    targets=(name,),
                )
        feeder = run.upstream[-1]
        prog = program_name(feeder.argv[0]) if feeder.argv else ""
        if feeder.stdin is not None:
            inner = analyse(feeder.stdin)
            return inner.with_reason(f"`{name}` runs a piped here-document: {inner.reason}")
        if prog in ("echo", "printf"):
            inner = analyse(printed(feeder.argv))
            return inner.with_reason(f"`{name}` runs piped text: {inner.reason}")
        if prog == "cat" and len(feeder.argv) == 2:
            return run_file(kit, feeder.argv[1], run, name)
        return shell_exec(
            f"`{name}` runs commands piped from `{prog}`", "unresolved", targets=(name,)
        )
    return shell_exec(f"starts an interactive `{name}`", targets=(name,))


def inner_script(kit: Toolkit, text: str, run: Run, label: str) -> Classification:
    inner = kit.script(text, run)
    return inner.with_reason(f"{label} runs: {inner.reason}")


# the wrappers


def env(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    options, rest = split_options(
        argv[1:], frozenset({"-u", "--unset", "-C", "--chdir", "-S", "--split-string"})
    )
    for name, val in options:
        if name in ("-u", "--unset") and val and kit.env_tampers(val):
            run.side.append(tamper(f"`env -u {val}` removes one of oversight's settings", [val]))
    split = value(options, "-S", "--split-string")
    if split:
        rest = _split(split) + rest
    while rest and _ASSIGNMENT.match(rest[0]):
        name = rest.pop(0).split("=", 1)[0]
        if kit.env_tampers(name):
            run.side.append(
                tamper(f"`env {name}=...` overrides one of oversight's settings", [name])
            )
    if not rest:
        return shell_exec("prints the environment", targets=("env",))
    return then(kit, rest, run, "env")


def sudo(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    options, rest = split_options(
        argv[1:],
        word_set(
            """
            -u --user -g --group -p --prompt -C --close-from -D --chdir -h --host -r --role -t
            --type -U --other-user -T --command-timeout -R --chroot
            """
        ),
    )
    name = program_name(argv[0])
    run.flags.add("privileged")
    if has(options, "-b", "--background"):
        run.flags.add("background")
    if has(options, "-e", "--edit"):
        found = kit.writes(rest, f"edits as root with `{name} -e`", run)
        return found or shell_exec(f"`{name} -e` with no file")
    while rest and _ASSIGNMENT.match(rest[0]):
        var = rest.pop(0).split("=", 1)[0]
        if kit.env_tampers(var):
            run.side.append(
                tamper(f"`{name} {var}=...` overrides one of oversight's settings", [var])
            )
    if not rest:
        return shell_exec(f"`{name}` opens a privileged shell or checks rights", targets=(name,))
    return then(kit, rest, run, name)


def su(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    options, rest = split_options(
        argv[1:],
        word_set("-c --command -s --shell -g --group -G -u --user -w --whitelist-environment"),
    )
    name = program_name(argv[0])
    run.flags.add("privileged")
    command = value(options, "-c", "--command")
    if command:
        return inner_script(kit, command, run, f"`{name} -c`")
    positional = [a for a in rest if a != "-"]
    if name == "runuser" and has(options, "-u", "--user") and positional:
        return then(kit, positional, run, name)
    return shell_exec(f"`{name}` switches user", targets=(name,))


def shell(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    name = program_name(argv[0])
    options, rest = split_options(
        argv[1:], frozenset({"-o", "-O", "+o", "+O", "--rcfile", "--init-file"})
    )
    if has(options, "-c"):
        if not rest:
            return shell_exec(f"`{name} -c` with no script", targets=(name,))
        return inner_script(kit, rest[0], run, f"`{name} -c`")
    if rest and rest[0] != "-" and not has(options, "-s"):
        return run_file(kit, rest[0], run, name)
    return from_stdin(kit, run, name, "shell")


def eval_builtin(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    if len(argv) < 2:
        return shell_exec("`eval` with nothing to run")
    return inner_script(kit, " ".join(argv[1:]), run, "`eval`")


def source(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    if len(argv) < 2:
        return shell_exec(f"`{argv[0]}` with no file")
    path = argv[1]
    if path in ("/dev/stdin", "/proc/self/fd/0", "-"):
        return from_stdin(kit, run, argv[0], "shell")
    if is_computed(path) or path in run.chain.generated:
        return run_file(kit, path, run, argv[0])
    base = path.rsplit("/", 1)[-1]
    if base.startswith(("activate", ".")) or "env" in base:
        return shell_exec(f"loads `{path}` into the shell", targets=(path,))
    kind, why = kit.script_kind(path)
    if kind is Kind.EXPERIMENT_RUN:
        return shell_exec(f"loads `{path}` into the shell", targets=(path,))
    return Classification(kind, f"`{argv[0]} {path}` runs {why}", targets=(path,))


def command_builtin(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    options, rest = split_options(argv[1:])
    if has(options, "-v", "-V"):
        return shell_exec(f"looks up `{' '.join(rest)}`", targets=tuple(rest))
    return then(kit, rest, run, "command")


def lookup(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    return shell_exec(
        f"`{argv[0]}` looks up documentation or locations; runs nothing", targets=argv[:1]
    )


def xargs(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    _, rest = split_options(
        argv[1:],
        word_set(
            """
            -a --arg-file -d --delimiter -E -I -L --max-lines -n --max-args -P --max-procs -s
            --max-chars --process-slot-var
            """
        ),
    )
    options, _ = split_options(argv[1:], word_set("-I -i --replace -d -n -L -P -E -a -s"))
    placeholder = value(options, "-I", "-i", "--replace")
    command = rest or ["echo"]
    if run.upstream:
        feeder = run.upstream[-1]
        if feeder.argv and program_name(feeder.argv[0]) in ("echo", "printf", "ls"):
            fed = printed(feeder.argv)
            if placeholder:
                command = [a.replace(placeholder, fed.strip()) for a in command]
            else:
                command = command + fed.split()
        run.upstream = ()
    return then(kit, command, run, "xargs")


def watch(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    _, rest = split_options(argv[1:], frozenset({"-n", "--interval", "-q", "--equexit"}))
    if not rest:
        return shell_exec("`watch` with no command")
    return inner_script(kit, " ".join(rest), run, "`watch`")


def screen(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    args = list(argv[1:])
    for long in ("-Logfile", "-logfile"):
        if long in args:
            at = args.index(long)
            del args[at : at + 2]
    options, rest = split_options(
        args,
        word_set("-S -c -e -h -p -t -T -s"),
    )
    if has(options, "-X") and len(rest) >= 2 and rest[0] == "stuff":
        text = rest[1].replace("^M", "\n").replace("\\n", "\n").replace("\\r", "\n")
        run.flags.add("background")
        return inner_script(kit, text, run, "`screen -X stuff`")
    if has(options, "-d", "-D"):
        run.flags.add("background")
    if not rest:
        return shell_exec("manages `screen` sessions", targets=("screen",))
    return then(kit, rest, run, "screen")


_TMUX_RUNS = word_set(
    """
    new-session new new-window neww split-window splitw respawn-pane respawnp respawn-window
    respawnw run-shell run
    """
)
_TMUX_PANE_VALUE = word_set("-s -n -t -c -e -x -y -F -l -p -f")
_TMUX_KEYS_END = frozenset({"Enter", "C-m", "KPEnter", "C-j"})


def tmux(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    options, rest = split_options(argv[1:], frozenset({"-L", "-S", "-f", "-T", "-c"}))
    command = value(options, "-c")
    if command:
        return inner_script(kit, command, run, "`tmux -c`")
    if not rest:
        return shell_exec("starts `tmux`", targets=("tmux",))
    sub, args = rest[0], rest[1:]
    if sub in _TMUX_RUNS:
        takes_value = _TMUX_PANE_VALUE | ({"-d"} if sub in ("run-shell", "run") else set())
        _, words = split_options(args, frozenset(takes_value))
        if not words:
            return shell_exec(f"opens a tmux pane (`tmux {sub}`)", targets=("tmux",))
        run.flags.add("background")
        return inner_script(kit, " ".join(words), run, f"`tmux {sub}`")
    if sub in ("send-keys", "send"):
        _, keys = split_options(args, frozenset({"-t", "-N", "-c"}))
        while keys and keys[-1] in _TMUX_KEYS_END:
            keys.pop()
        if not keys:
            return shell_exec("sends keys to tmux", targets=("tmux",))
        run.flags.add("background")
        return inner_script(kit, " ".join(keys), run, "`tmux send-keys`")
    return shell_exec(f"runs `tmux {sub}`", targets=("tmux",))


_SSH_VALUE = word_set("-b -c -D -E -e -F -I -i -J -L -l -m -O -o -p -Q -R -S -W -w -B -P")


def ssh(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    options, rest = split_options(argv[1:], _SSH_VALUE)
    run.flags.add("network")
    if has(options, "-f"):
        run.flags.add("background")
    if not rest:
        return shell_exec("runs `ssh` with no host", "network", targets=("ssh",))
    host, command = rest[0], rest[1:]
    if not command:
        return shell_exec(f"opens a shell on `{host}`", "network", targets=(host,))
    inner = kit.script(" ".join(command), run)
    return Classification(
        inner.kind,
        f"on remote host `{host}`: {inner.reason}",
        inner.flags | {"network"},
        (host, *inner.targets),
    )


_DOCKER_BOOLEAN = word_set(
    """
    --detach --interactive --tty --rm --privileged --init --publish-all --read-only
    --no-healthcheck --oom-kill-disable --sig-proxy --disable-content-trust
    """
)


def container_run(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    """`docker run|exec [opts] image|container [cmd...]`: the command runs inside."""
    name = program_name(argv[0])
    sub = argv[1]
    args = list(argv[2:])
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        arg = args[i]
        if arg in ("-e", "--env") and i + 1 < len(args):
            _env_pair(kit, args[i + 1], run, f"`{name} {sub} -e`")
        elif arg.startswith("--env="):
            _env_pair(kit, arg[6:], run, f"`{name} {sub} --env`")
        if arg == "--privileged":
            run.flags.add("privileged")
        if arg in ("-d", "--detach") or (
            arg[1:2] != "-" and "d" in arg[1:] and set(arg[1:]) <= set("dit")
        ):
            run.flags.add("background")
        boolean = (
            arg in _DOCKER_BOOLEAN
            or "=" in arg
            or (not arg.startswith("--") and set(arg[1:]) <= set("ditP"))
        )
        i += 1 if boolean else 2
    if i < len(args) and args[i] == "--":
        i += 1
    if i >= len(args):
        return shell_exec(f"`{name} {sub}` with no image", targets=(name,))
    image, command = args[i], args[i + 1 :]
    if not command:
        return shell_exec(
            f"`{name} {sub}` starts `{image}` with its default command", targets=(image,)
        )
    run.via.append(f"{name} {sub} {image}")
    return kit.argv(tuple(command), run)


def _env_pair(kit: Toolkit, pair: str, run: Run, label: str) -> None:
    var = pair.split("=", 1)[0]
    if kit.env_tampers(var):
        run.side.append(tamper(f"{label} {var} overrides one of oversight's settings", [var]))


def find(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    args = list(argv[1:])
    starts = []
    for arg in args:
        if arg.startswith("-") or arg in ("(", "!", ")"):
            break
        starts.append(arg)
    starts = starts or ["."]
    if "-delete" in args:
        found = kit.writes(starts, "deletes files under", run)
        if found is not None:
            return with_data_loss(found, starts)
    for action in ("-exec", "-execdir", "-ok", "-okdir"):
        if action in args:
            at = args.index(action) + 1
            end = at
            while end < len(args) and args[end] not in (";", "+", "\\;"):
                end += 1
            found_as = starts[0]
            if "-name" in args[: at - 1] or "-iname" in args[: at - 1]:
                key = "-name" if "-name" in args[: at - 1] else "-iname"
                index = args.index(key) + 1
                if index < len(args):
                    # the files it finds match the name pattern: `./*luate.py`
                    found_as = f"{starts[0].rstrip('/')}/{args[index]}"
            command = [found_as if a == "{}" else a for a in args[at:end]]
            if command:
                run.via.append("find -exec")
                return kit.argv(tuple(command), run)
    return shell_exec("searches files", targets=tuple(starts))


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


WRAPPERS: dict[str, Rule] = {
    "nohup": skipping(frozenset(), "background"),
    "setsid": skipping(frozenset(), "background"),
    "disown": skipping(frozenset(), "background"),
    "time": skipping(frozenset({"-f", "--format", "-o", "--output"})),
    "nice": skipping(frozenset({"-n", "--adjustment"})),
    "ionice": skipping(frozenset({"-c", "--class", "-n", "--classdata", "-t"})),
    "stdbuf": skipping(frozenset({"-i", "-o", "-e", "--input", "--output", "--error"})),
    "chrt": skipping(frozenset(), positional=1),
    "taskset": skipping(frozenset(), positional=1),
    "numactl": skipping(
        word_set("-N -m -C -i -p --cpunodebind --membind --physcpubind --interleave --preferred")
    ),
    "timeout": skipping(frozenset({"-s", "--signal", "-k", "--kill-after"}), positional=1),
    "flock": skipping(frozenset({"-w", "--timeout", "-E", "--conflict-exit-code"}), positional=1),
    "exec": skipping(frozenset({"-a"})),
    "builtin": skipping(frozenset()),
    "unbuffer": skipping(frozenset()),
    "caffeinate": skipping(frozenset({"-t", "-w"})),
    "proxychains": skipping(frozenset({"-f"}), "network"),
    "proxychains4": skipping(frozenset({"-f"}), "network"),
    "torsocks": skipping(frozenset(), "network"),
    "xvfb-run": skipping(
        word_set(
            """
            -n --server-num -s --server-args -f --auth-file -e --error-file -p --xauth-protocol
            """
        )
    ),
    "strace": skipping(word_set("-o -e -p -s -u -E -P -I -b -a -X")),
    "ltrace": skipping(frozenset({"-o", "-e", "-p", "-s", "-u", "-n", "-a"})),
    "srun": skipping(
        word_set(
            """
            -A --account -c --cpus-per-task -d --dependency -D --chdir -e --error -i --input -J
            --job-name -L --licenses -m --distribution -n --ntasks -N --nodes -o --output -p
            --partition -q --qos -t --time -w --nodelist -x --exclude -G --gpus --gres --mem
            --mem-per-cpu --mem-per-gpu --ntasks-per-node --gpus-per-node --gpus-per-task
            --cpus-per-gpu --export --mpi -C --constraint --reservation -K --kill-on-bad-exit
            """
        )
    ),
    "salloc": skipping(
        word_set(
            """
            -A --account -c -J -N -n -p -t -G --gres --mem --gpus -w -q --qos --time --partition
            --nodes
            """
        )
    ),
    "env": env,
    "sudo": sudo,
    "doas": sudo,
    "pkexec": skipping(frozenset({"--user"}), "privileged"),
    "su": su,
    "runuser": su,
    "bash": shell,
    "sh": shell,
    "zsh": shell,
    "dash": shell,
    "ksh": shell,
    "ash": shell,
    "mksh": shell,
    "fish": shell,
    "eval": eval_builtin,
    "source": source,
    ".": source,
    "command": command_builtin,
    "which": lookup,
    "type": lookup,
    "whereis": lookup,
    "man": lookup,
    "info": lookup,
    "apropos": lookup,
    "whatis": lookup,
    "help": lookup,
    "xargs": xargs,
    "watch": watch,
    "screen": screen,
    "tmux": tmux,
    "ssh": ssh,
    "find": find,
}

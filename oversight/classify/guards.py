"""Rules for commands aimed at oversight itself: removing, replacing, stopping or editing it.

Reading oversight's records is allowed (`oversight review`, `sqlite3 ... "SELECT ..."`); what
changes its package, process, store or settings is `oversight.tamper`.
"""

from __future__ import annotations

import re

from oversight.classify.argv import (
    Argv,
    has,
    positionals,
    program_name,
    split_options,
    values,
    word_set,
)
from oversight.classify.destructive import destroys_rows
from oversight.classify.result import Classification, tamper
from oversight.classify.toolkit import Rule, Run, Toolkit
from oversight.classify.wrappers import shell_exec, then
from oversight.kinds import Kind

OVERSIGHT_PACKAGES = frozenset({"agent-oversight", "oversight"})
_REQUIREMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")
_PINNED = re.compile(r"[<>=!~@]")
_SQL_WRITE = re.compile(
    r"\b(insert\s+into|update\s+\w|delete\s+from|drop\s|truncate\b|alter\s|replace\s+into|"
    r"create\s|vacuum\b|attach\s|reindex\b)|^\s*\.(restore|import|read|clone|recover)\b|"
    r"\bpragma\s+\w+\s*=",
    re.IGNORECASE | re.MULTILINE,
)
_SQL_ON_OVERSIGHT = re.compile(
    r"\b(insert\s+into|update|delete\s+from|drop\s+(table|schema|database|view|index)"
    r"(\s+if\s+exists)?|truncate(\s+table)?|alter\s+table)\s+(only\s+)?[\"`\[]?(\w+[\"`\]]?\.)?"
    r"[\"`\[]?oversight\w*",
    re.IGNORECASE,
)

READ_ONLY_CLI = word_set(
    """
    classify review verify export replay show list ls log logs status version --version --help -h
    sessions approvals grants trends
    help inspect stats report search diff explain view tail doctor demo query timeline
    """
)
READ_ONLY_POLICY = frozenset({"test", "lint", "validate", "show", "list", "check", "explain"})


def requirement_name(requirement: str) -> str:
    match = _REQUIREMENT_NAME.match(requirement)
    return match.group(0).lower().replace("_", "-").replace(".", "-") if match else ""


def _is_location(requirement: str) -> bool:
    return (
        requirement.startswith((".", "/", "~", "git+", "file:", "http:", "https:"))
        or "://" in requirement
        or requirement.endswith((".whl", ".tar.gz", ".zip"))
        or "/" in requirement
    )


def replaces_oversight(requirements: list[str], upgrading: bool) -> str | None:
    """Why installing these requirements would replace the running oversight, or None."""
    for requirement in requirements:
        if _is_location(requirement):
            if "oversight" in requirement.lower():
                return f"installs oversight from `{requirement}`, replacing the monitored copy"
            continue
        if requirement_name(requirement) in OVERSIGHT_PACKAGES:
            base = requirement.split("[", 1)[0]
            if upgrading or _PINNED.search(requirement.split("]", 1)[-1]) or _PINNED.search(base):
                return f"reinstalls `{requirement}` with a different version or source"
    return None


def removes_oversight(packages: list[str]) -> str | None:
    for package in packages:
        if requirement_name(package) in OVERSIGHT_PACKAGES:
            return package
    return None


_PIP_VALUE = word_set(
    """
    -r --requirement -c --constraint -e --editable -i --index-url --extra-index-url -f --find-links
    -t --target --prefix --root --src --python-version --platform --only-binary --no-binary
    --upgrade-strategy --progress-bar --log --cache-dir --trusted-host --proxy --timeout --retries
    -C --config-settings --python --report --implementation --abi -d --dest
    """
)


def pip(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    _, rest = split_options(argv[1:], _PIP_VALUE)
    if not rest:
        return shell_exec("runs `pip`", targets=("pip",))
    sub, args = rest[0], rest[1:]
    return package_change(sub, args, f"pip {sub}")


def package_change(sub: str, args: list[str] | Argv, label: str) -> Classification:
    """`install`/`add` may replace oversight; `uninstall`/`remove` may remove it."""
    options, _ = split_options(args, _PIP_VALUE)
    packages = positionals(args, _PIP_VALUE)
    if sub in ("uninstall", "remove", "rm"):
        removed = removes_oversight(packages)
        if removed:
            return tamper(f"`{label} {removed}` uninstalls oversight", [removed])
        return shell_exec(f"`{label}` removes packages", targets=tuple(packages))
    if sub in ("install", "add", "inject", "i"):
        editable = [v for n, v in options if n in ("-e", "--editable") and v]
        # split_options stops at the first positional; editable flags may follow it
        editable += [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-e", "--editable")]
        upgrading = any(a in ("-U", "--upgrade", "--force-reinstall", "--reinstall") for a in args)
        why = replaces_oversight(packages + editable, upgrading or bool(editable))
        if why:
            return tamper(f"`{label}` {why}", packages + editable)
        return shell_exec(f"`{label}` installs packages", "network", targets=tuple(packages))
    network = ("network",) if sub in ("download", "sync", "lock", "update", "upgrade") else ()
    return shell_exec(f"runs `{label}`", *network, targets=(label.split()[0],))


def package_manager(run_sub: str = "run", run_value: frozenset[str] = frozenset()) -> Rule:
    """conda, poetry, pipenv, pdm, hatch, pixi, pipx: `run` wraps, install/remove may tamper."""

    def rule(kit: Toolkit, argv: Argv, run: Run) -> Classification:
        name = program_name(argv[0])
        words = positionals(argv[1:2])
        if not words:
            return shell_exec(f"runs `{name}`", targets=(name,))
        sub = words[0]
        args = argv[argv.index(sub) + 1 :]
        if sub == run_sub:
            _, command = split_options(args, run_value)
            return then(kit, command, run, f"{name} {sub}")
        if sub == "publish":
            return Classification(
                Kind.DEPLOY,
                f"`{name} publish` uploads a package",
                frozenset({"publish", "network"}),
                (name,),
            )
        return package_change(sub, args, f"{name} {sub}")

    return rule


_UV_RUN_VALUE = word_set(
    """
    --with --with-editable --with-requirements -p --python --project --directory --env-file --extra
    --group --package --index --index-url --extra-index-url --only-group --no-group --from
    --default-index -w
    """
)


def uv(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    _, rest = split_options(
        argv[1:], frozenset({"--directory", "--project", "--cache-dir", "--config-file"})
    )
    if not rest:
        return shell_exec("runs `uv`", targets=("uv",))
    sub, args = rest[0], rest[1:]
    if sub == "run":
        options, command = split_options(args, _UV_RUN_VALUE)
        if has(options, "-m", "--module") and command:
            run.via.append("uv run")
            return kit.argv(("python", "-m", *command), run)
        if command and command[0].endswith(".py"):
            run.via.append("uv run")
            return kit.argv(("python", *command), run)
        return then(kit, command, run, "uv run")
    if sub == "pip" and args:
        return pip(kit, ("pip", *args), run)
    if sub == "tool" and args[:1] == ["run"]:
        return uvx(kit, ("uvx", *args[1:]), run)
    if sub == "tool" and args[:1] == ["uninstall"]:
        return package_change("uninstall", args[1:], "uv tool uninstall")
    if sub == "publish":
        return Classification(
            Kind.DEPLOY,
            "`uv publish` uploads a package",
            frozenset({"publish", "network"}),
            ("uv",),
        )
    return package_change(sub, args, f"uv {sub}")


def uvx(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    _, command = split_options(
        argv[1:], frozenset({"--from", "--with", "-p", "--python", "--index-url"})
    )
    return then(kit, command, run, program_name(argv[0]))


def stop_process(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    """kill, pkill, killall: tampering when the target names oversight (`$(pgrep -f oversight)`)."""
    name = program_name(argv[0])
    if any("oversight" in arg.lower() for arg in argv[1:]):
        return tamper(f"`{name}` stops oversight's process ({' '.join(argv[1:])})", argv[1:])
    return shell_exec(f"`{name}` signals processes", targets=(name,))


def service(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    """systemctl, service, supervisorctl, launchctl, pm2: stopping oversight's service."""
    name = program_name(argv[0])
    words = [w.lower() for w in positionals(argv[1:])]
    stopping = {
        "stop",
        "kill",
        "disable",
        "mask",
        "restart",
        "unload",
        "remove",
        "delete",
        "bootout",
    }
    if any("oversight" in w for w in words) and stopping & set(words):
        return tamper(f"`{name}` stops or disables oversight's service", words)
    return shell_exec(f"runs `{name} {' '.join(words[:2])}`".rstrip(), targets=(name,))


def _piped_text(run: Run) -> str | None:
    """Literal text fed to this command: here-document, here-string, or an upstream echo."""
    if run.command.stdin is not None:
        return run.command.stdin
    if run.upstream:
        feeder = run.upstream[-1]
        if feeder.stdin is not None:
            return feeder.stdin
        if feeder.argv and program_name(feeder.argv[0]) in ("echo", "printf"):
            return " ".join(feeder.argv[1:])
        return None
    return ""


_SQLITE_VALUE = word_set(
    """
    cmd init separator newline nullvalue mmap vfs maxsize pagecache lookaside heap escape
    """
)


def sqlite(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    args = list(argv[1:])
    database = ""
    statements: list[str] = []
    read_only = False
    i = 0
    while i < len(args):
        arg = args[i]
        option = arg.lstrip("-")
        if arg.startswith("-") and option in _SQLITE_VALUE and i + 1 < len(args):
            if option == "cmd":
                statements.append(args[i + 1])
            i += 2
            continue
        if arg.startswith("-"):
            read_only = read_only or option in ("readonly", "safe")
        elif not database:
            database = arg
        else:
            statements.append(arg)
        i += 1
    piped = _piped_text(run)
    sql = "\n".join([*statements, piped or ""])
    if _SQL_ON_OVERSIGHT.search(sql):
        return tamper("`sqlite3` changes oversight's tables", [database or "sqlite3"])
    if not database or kit.paths.tamper_pattern(database) is None:
        target = database or "sqlite3"
        return destroys_rows(sql, "`sqlite3`", (target,)) or shell_exec(
            f"runs SQL on `{database or 'a database'}`", targets=(target,)
        )
    if read_only:
        return shell_exec(f"opens oversight's store `{database}` read-only", targets=(database,))
    if piped is None:
        return tamper(
            f"`sqlite3` feeds statements it cannot show to oversight's store `{database}`",
            [database],
        )
    if not sql.strip():
        return tamper(f"`sqlite3` opens oversight's store `{database}` for writing", [database])
    if _SQL_WRITE.search(sql):
        return tamper(f"`sqlite3` changes oversight's store `{database}`", [database])
    return shell_exec(
        f"reads oversight's store `{database}` (read-only statements)", targets=(database,)
    )


def sql_client(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    """psql, mysql, mariadb: statements that change `oversight_*` tables are tampering."""
    name = program_name(argv[0])
    options, _ = split_options(
        argv[1:],
        word_set(
            """
            -c --command -e --execute -h --host -U -u --user -d --dbname -p --port -f --file -D
            --database
            """
        ),
    )
    statements = values(options, "-c", "--command", "-e", "--execute")
    statements += [
        argv[i + 1]
        for i, a in enumerate(argv[:-1])
        if a in ("-c", "--command", "-e", "--execute") and argv[i + 1] not in statements
    ]
    piped = _piped_text(run) or ""
    sql = "\n".join([*statements, piped])
    if _SQL_ON_OVERSIGHT.search(sql):
        return tamper(f"`{name}` changes oversight's tables", [name])
    return destroys_rows(sql, f"`{name}`", (name,)) or shell_exec(
        f"`{name}` runs SQL", targets=(name,)
    )


def oversight_cli(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    """Oversight's own CLI: read commands are fine, anything else changes oversight's state."""
    words = positionals(
        argv[1:],
        word_set(
            """
            --db --policy --classify-config --session --format -o --output --limit --since --kind
            """
        ),
    )
    if not words or words[0] in READ_ONLY_CLI:
        sub = words[0] if words else ""
        return shell_exec(
            f"`oversight {sub}` reads oversight's records".replace(" `", "`"),
            targets=("oversight",),
        )
    if words[0] == "policy" and (len(words) == 1 or words[1] in READ_ONLY_POLICY):
        return shell_exec("`oversight policy` inspects policies", targets=("oversight",))
    return tamper(
        f"`oversight {' '.join(words[:2])}` is not a read-only oversight command", ["oversight"]
    )


RULES: dict[str, Rule] = {
    "pip": pip,
    "pipx": package_manager(run_sub="run"),
    "conda": package_manager(run_value=frozenset({"-n", "--name", "-p", "--prefix", "--cwd"})),
    "mamba": package_manager(run_value=frozenset({"-n", "--name", "-p", "--prefix", "--cwd"})),
    "micromamba": package_manager(run_value=frozenset({"-n", "--name", "-p", "--prefix", "--cwd"})),
    "poetry": package_manager(),
    "pipenv": package_manager(),
    "pdm": package_manager(),
    "hatch": package_manager(),
    "rye": package_manager(),
    "pixi": package_manager(),
    "uv": uv,
    "uvx": uvx,
    "kill": stop_process,
    "pkill": stop_process,
    "killall": stop_process,
    "systemctl": service,
    "service": service,
    "supervisorctl": service,
    "launchctl": service,
    "pm2": service,
    "sqlite3": sqlite,
    "sqlite": sqlite,
    "psql": sql_client,
    "mysql": sql_client,
    "mariadb": sql_client,
    "pgcli": sql_client,
    "oversight": oversight_cli,
}


def changes_oversight_tables(sql: str) -> bool:
    """True when SQL inserts into, updates, deletes from, drops or alters an oversight_* table."""
    return _SQL_ON_OVERSIGHT.search(sql) is not None
